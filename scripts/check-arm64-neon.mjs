#!/usr/bin/env node
// Checks that the cross-compiled arm64 addon really holds the NEON kernels (functions named
// '...neon' with vector FMAs, fmla on .4s lanes), so a build that silently fell back to scalar
// code cannot ship as "the arm64 prebuild". NEON is baseline on AArch64, so unlike x64 there is
// no SIGILL rule to check. --shipped asserts the stripped prebuild has the same .text.
//
// Usage: node scripts/check-arm64-neon.mjs <unstripped.node> [--shipped <stripped.node>]
// ELF (linux-arm64, cross binutils) or Mach-O (darwin-arm64, llvm-objdump).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseDisassembly, textSection } from './check-x64-isa.mjs';

const TOOLS = 'aarch64-linux-gnu-';

function main(argv) {
  const shippedAt = argv.indexOf('--shipped');
  const shipped = shippedAt >= 0 ? argv[shippedAt + 1] : undefined;
  const file = argv.find((a, i) => !a.startsWith('--') && (shippedAt < 0 || i !== shippedAt + 1));
  if (!file || (shippedAt >= 0 && !shipped)) {
    console.error('usage: node scripts/check-arm64-neon.mjs <unstripped.node> [--shipped <stripped.node>]');
    return 2;
  }
  // darwin-arm64 is Mach-O, which GNU binutils do not read: LLVM's objdump (same line shapes).
  const machO = readFileSync(file).readUInt32LE(0) === 0xfeedfacf;
  if (machO && shipped) {
    console.error('check-arm64-neon: --shipped compares ELF .text sections; a Mach-O prebuild ships as checked');
    return 2;
  }
  const [objdump, flags] = machO ? ['llvm-objdump', ['-d', '-C', '--no-show-raw-insn']] : [`${TOOLS}objdump`, ['-d', '-C', '-w', '--no-show-raw-insn']];
  const text = execFileSync(objdump, [...flags, file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const functions = parseDisassembly(text);
  const neonKernels = functions
    .filter((fn) => fn.name.toLowerCase().includes('neon'))
    // GNU syntax `fmla v0.4s, ...`; LLVM prints Mach-O in Apple syntax, `fmla.4s v0, ...`.
    .filter((fn) => fn.instructions.some((i) => (i.mnemonic === 'fmla' && /v\d+\.4s/.test(i.operands)) || i.mnemonic === 'fmla.4s'))
    .map((fn) => fn.name);
  if (neonKernels.length === 0) {
    console.error(`check-arm64-neon: no 'neon' function with fmla on .4s vectors in ${file}: the NEON kernels are missing`);
    return 1;
  }
  if (shipped && Buffer.compare(textSection(file, TOOLS), textSection(shipped, TOOLS)) !== 0) {
    console.error(`check-arm64-neon: ${shipped} does not hold the same .text as ${file}`);
    return 1;
  }
  console.log(`check-arm64-neon: ok: ${neonKernels.length} NEON kernel function(s) with vector FMAs` + (shipped ? `; ${shipped} has the same .text` : ''));
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
