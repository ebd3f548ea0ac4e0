#!/usr/bin/env node
// Load-time fusion A/B: each model loaded twice in one process, fused (the default) and with
// `fuse: false` (every node on its own, Concats copied), timed interleaved round by round, the
// median of each reported with their ratio, plus onnxruntime-node beside them for scale, and the
// per-op-type profile of both (where the time moved). Needs `npm run build` first (reads dist/).
//
//   node bench/fusion.mjs [--dir DIR] [--models a,b] [--threads 1] [--batches 1] [--runs 9] [--baseline DIST]
//
// --baseline DIST adds a fourth contender: another build's dist/ (e.g. main's, before a fusion
// change), loaded with its defaults in the same process. Its addon resolves to the same file
// when its build/ is a link to this one, so both share one native module and thread pool.
//
// DIR holds <model>.onnx (torchvision exports at opset 13, random weights); the default is
// bench/.models/zoo, which `npm run bench -- zoo` fills on first use.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { loadConvnode, ortSession, parseFlags, positiveIntegers, randomInput, timeInTurn } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const MODELS = ['densenet121', 'efficientnet_b0', 'googlenet', 'inception_v3', 'mobilenet_v3_large'];
const INPUT_SIZE = { inception_v3: 299 };

function parseArgs() {
  const flags = parseFlags(import.meta.url, { '--dir': join(here, '.models', 'zoo'), '--models': MODELS.join(','), '--threads': '1', '--batches': '1', '--runs': 9, '--baseline': String });
  return {
    dir: flags['--dir'],
    models: flags['--models'].split(','),
    threads: positiveIntegers('--threads', flags['--threads']),
    batches: positiveIntegers('--batches', flags['--batches']),
    runs: flags['--runs'],
    baseline: flags['--baseline'],
  };
}

/** Milliseconds per op type in a profile (medians over `runs` runs, per step, summed by type). */
async function profileByType(model, feeds, runs) {
  const { steps } = await model.profile(feeds, { runs });
  const byType = new Map();
  for (const s of steps) byType.set(s.type, (byType.get(s.type) ?? 0) + s.ms);
  return { byType, steps: steps.length };
}

async function main() {
  const options = parseArgs();
  const { loadOnnx, Tensor, getBackend, native } = await loadConvnode();
  const backend = getBackend();
  const base = options.baseline && (await loadConvnode(options.baseline));
  console.log(`CPU: ${os.cpus()[0].model}; convnode backend ${backend}${backend === 'native' ? ` (ISA ${native.getIsa()})` : ''}; onnxruntime-node ${ort.env.versions.node}`);
  console.log('ratio = fused ms / unfused ms (below 1: fusion helps); medians of interleaved rounds in one process\n');
  const rows = [];
  for (const name of options.models) {
    const path = join(options.dir, `${name}.onnx`);
    if (!existsSync(path)) {
      console.log(`${name}: skipped (${path} is missing)`);
      continue;
    }
    const fused = await loadOnnx(path);
    const plain = await loadOnnx(path, { fuse: false });
    const baseline = base && (await base.loadOnnx(path));
    const size = INPUT_SIZE[name] ?? 224;
    for (const threads of options.threads) {
      if (backend === 'native') native.setNumThreads(threads);
      const session = await ortSession(path, threads);
      for (const batch of options.batches) {
        const shape = [batch, 3, size, size];
        const data = randomInput(batch * 3 * size * size, 7 + batch);
        const feeds = { [fused.inputNames[0]]: new Tensor(shape, data) };
        const ortFeeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
        const contenders = [['fused', () => fused.run(feeds)], ['unfused', () => plain.run(feeds)], ['onnxruntime', () => session.run(ortFeeds)]];
        if (baseline) {
          const baseFeeds = { [baseline.inputNames[0]]: new base.Tensor(shape, data) };
          contenders.push(['baseline', () => baseline.run(baseFeeds)]);
        }
        const { wall } = await timeInTurn(contenders.map(([, run]) => run), options.runs);
        const [f, u, o, b] = wall;
        rows.push({ name, threads, batch, f, u, o, b });
        const vsBase = b === undefined ? '' : `; baseline ${b.toFixed(1)} ms, fused/baseline ${(f / b).toFixed(2)}x`;
        console.log(`${name} threads ${threads} batch ${batch}: fused ${f.toFixed(1)} ms, unfused ${u.toFixed(1)} ms, fused/unfused ${(f / u).toFixed(2)}x${vsBase}; onnxruntime ${o.toFixed(1)} ms (fused/ort ${(f / o).toFixed(2)}x, unfused/ort ${(u / o).toFixed(2)}x)`);
        const [pf, pu] = [await profileByType(fused, feeds, 3), await profileByType(plain, feeds, 3)];
        const types = [...new Set([...pu.byType.keys(), ...pf.byType.keys()])];
        const top = types.map((t) => [t, pu.byType.get(t) ?? 0, pf.byType.get(t) ?? 0]).sort((a, b) => Math.max(b[1], b[2]) - Math.max(a[1], a[2])).slice(0, 8);
        console.log(`  profile (${pu.steps} -> ${pf.steps} steps), ms by op type unfused -> fused: ${top.map(([t, a, b]) => `${t} ${a.toFixed(1)} -> ${b.toFixed(1)}`).join('; ')}`);
      }
      await session.release();
    }
  }
  if (rows.length) {
    const withBase = rows.some((r) => r.b !== undefined);
    console.log(`\n| model | threads | batch | fused ms | unfused ms | fused / unfused |${withBase ? ' baseline ms | fused / baseline |' : ''} onnxruntime ms | fused / ort | unfused / ort |`);
    console.log(`|---|---|---|---|---|---|${withBase ? '---|---|' : ''}---|---|---|`);
    for (const r of rows) {
      const baseCells = withBase ? ` ${r.b.toFixed(1)} | ${(r.f / r.b).toFixed(2)}x |` : '';
      console.log(`| ${r.name} | ${r.threads} | ${r.batch} | ${r.f.toFixed(1)} | ${r.u.toFixed(1)} | ${(r.f / r.u).toFixed(2)}x |${baseCells} ${r.o.toFixed(1)} | ${(r.f / r.o).toFixed(2)}x | ${(r.u / r.o).toFixed(2)}x |`);
    }
  }
}

await main();
