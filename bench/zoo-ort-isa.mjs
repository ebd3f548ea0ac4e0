#!/usr/bin/env node
// Which vector width onnxruntime's kernels actually execute on this CPU, measured rather than
// inferred: runs one zoo model in onnxruntime alone under `perf record`, then disassembles the
// sampled instructions inside libonnxruntime (the binary is stripped, so there are no symbol
// names to go by) and sums the samples by the widest register each instruction names: zmm
// (AVX-512), ymm (AVX/AVX2), xmm (SSE or scalar float), other. bench/zoo-env.mjs reports
// MLAS's choice from the CPU flags; this checks it.
//
//   node bench/zoo-ort-isa.mjs [--model resnet50] [--seconds 4]
// Needs perf (Debian's linux-perf) and objdump, and the model in bench/.models/zoo/.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './harness.mjs';
import { describeCpu, describeOrtIsa } from './zoo-env.mjs';

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv[2] === '--child') {
  // The profiled process: onnxruntime alone, one thread, running the model until time is up.
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(process.argv[3], { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const shape = [1, ...session.inputMetadata[0].shape.slice(1)];
  const input = new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), shape);
  const end = Date.now() + Number(process.argv[4]) * 1000;
  while (Date.now() < end) await session.run({ [session.inputNames[0]]: input });
  process.exit(0);
}

const flags = parseFlags(import.meta.url, { '--model': 'resnet50', '--seconds': 4 });
const modelName = flags['--model'];
const seconds = flags['--seconds'];

const modelPath = join(here, '.models', 'zoo', `${modelName}.onnx`);
if (!existsSync(modelPath)) {
  console.error(`no ${modelPath}: run \`node bench/zoo.mjs --models ${modelName}\` first`);
  process.exit(2);
}
const ortPackage = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
const library = join(ortPackage, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime.so.1');
const work = mkdtempSync(join(tmpdir(), 'zoo-ort-isa-'));
try {
  const data = join(work, 'perf.data');
  const record = spawnSync('perf', ['record', '-q', '-F', '2999', '-o', data, process.execPath, fileURLToPath(import.meta.url), '--child', modelPath, String(seconds)], { encoding: 'utf8' });
  if (record.status !== 0) throw new Error(`perf record failed (is linux-perf installed and perf_event_paranoid low enough?): ${record.stderr}`);
  const report = execFileSync('perf', ['report', '-i', data, '--dsos', 'libonnxruntime.so.1', '--sort', 'sym', '--stdio'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const samples = [...report.matchAll(/^\s+([\d.]+)%\s+\[\.\]\s+0x([0-9a-f]+)/gm)].map((m) => ({ percent: Number(m[1]), address: parseInt(m[2], 16) }));
  const byWidth = { zmm: 0, ymm: 0, xmm: 0, other: 0 };
  for (const { percent, address } of samples.slice(0, 400)) {
    const text = execFileSync('objdump', ['-d', '--no-show-raw-insn', `--start-address=${address}`, `--stop-address=${address + 16}`, library], { encoding: 'utf8' });
    const instruction = text.split('\n').find((line) => /^\s+[0-9a-f]+:/.test(line)) ?? '';
    const width = ['zmm', 'ymm', 'xmm'].find((w) => instruction.includes(w)) ?? 'other';
    byWidth[width] += percent;
  }
  console.log(`CPU: ${describeCpu()}`);
  console.log(`onnxruntime by the CPU flags: ${describeOrtIsa()}`);
  console.log(`${modelName}, 1 thread, ${seconds} s under perf: % of all samples that fall on instructions in libonnxruntime, by register width`);
  console.log(Object.entries(byWidth).map(([w, p]) => `${w} ${p.toFixed(1)}%`).join(', '));
} finally {
  rmSync(work, { recursive: true, force: true });
}
