// What machine a zoo figure was measured on, and which instruction set each runtime used there.
// Every timing the zoo bench prints is labelled with these lines (the rule: name the CPU
// beside every figure).
import { readFileSync } from 'node:fs';
import os from 'node:os';

function cpuinfoFirstCpu() {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const end = text.indexOf('\n\n'); // CPUs are separated by a blank line
    return end < 0 ? text : text.slice(0, end);
  } catch {
    return '';
  }
}

function field(block, name) {
  const match = block.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'));
  return match ? match[1].trim() : undefined;
}

/** The CPU flags Linux reports (it lists AVX-512 flags only when the kernel enables the ZMM state). */
export function cpuFlags() {
  return new Set((field(cpuinfoFirstCpu(), 'flags') ?? field(cpuinfoFirstCpu(), 'Features') ?? '').split(/\s+/).filter(Boolean));
}

/** e.g. "AMD EPYC (family 25 model 17), 2 logical CPUs". */
export function describeCpu() {
  const block = cpuinfoFirstCpu();
  const name = field(block, 'model name') ?? os.cpus()[0]?.model ?? 'unknown CPU';
  const family = field(block, 'cpu family');
  const model = field(block, 'model');
  const id = family !== undefined ? ` (family ${family} model ${model})` : '';
  return `${name}${id}, ${os.availableParallelism()} logical CPUs, ${os.arch()}`;
}

/**
 * The float kernels onnxruntime's MLAS picks on this CPU. MLAS decides at start-up from CPUID and
 * XGETBV, in this order (onnxruntime/core/mlas/lib/platform.cpp): AVX512F when the CPU has it
 * and the OS saves the ZMM state (then NCHWc blocks of 16 channels), else FMA3 (AVX2) when the
 * CPU has FMA and AVX2, else AVX, else SSE2. Linux's /proc/cpuinfo shows avx512f only when
 * the OS enables that state, so its flags give the same answer. The binary does not report its
 * choice, hence "by the CPU flags".
 */
export function describeOrtIsa() {
  const flags = cpuFlags();
  if (os.arch() === 'arm64') return 'NEON (arm64 MLAS)';
  if (os.arch() !== 'x64') return `unknown (${os.arch()})`;
  if (flags.has('avx512f')) {
    const core = ['avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.has(f));
    return `AVX512F float kernels, NCHWc block 16${core ? ' (CPU has AVX-512 BW/DQ/VL too)' : ''}: MLAS's choice by the CPU flags`;
  }
  if (flags.has('avx2') && flags.has('fma')) return 'FMA3/AVX2 float kernels, NCHWc block 8: MLAS\'s choice by the CPU flags';
  if (flags.has('avx')) return 'AVX float kernels: MLAS\'s choice by the CPU flags';
  return 'SSE2 float kernels: MLAS\'s choice by the CPU flags';
}

/** The AVX-512 subsets this CPU reports, e.g. "f bw dq vl vnni bf16" (empty when it has none). */
export function avx512Subsets() {
  return [...cpuFlags()]
    .filter((f) => f.startsWith('avx512'))
    .map((f) => f.replace(/^avx512_?/, ''))
    .join(' ');
}
