#!/usr/bin/env node
// Checks that an x86-64 addon runs on any x86-64 CPU: every instruction beyond baseline x86-64
// (SSE2) must sit in a function whose symbol names its ISA ('avx2'), because the runtime
// dispatcher only calls those after CPUID says AVX2+FMA are there. Anything else (an inline
// helper compiled with -mavx2 and merged by the linker, a -march=native leaking into a shared
// file) would die with SIGILL on an older CPU.
//
// It also asserts the AVX2 kernels are really in the binary (ymm FMAs inside 'avx2' symbols),
// so the check cannot pass on a build that lost them.
//
// Usage: node scripts/check-x64-isa.mjs <unstripped.node> [--shipped <stripped.node>]
// ELF (linux-x64), PE (win32-x64) and Mach-O (darwin-x64, disassembled with llvm-objdump).
// --allow SSE3,SSSE3,...: extensions the platform's floor has on every CPU (macOS 11's Macs).
// --pdb file.pdb: the function names of a PE that has no symbol table (Zig's lld writes them to
// a PDB only; default: the .pdb beside the file), read with llvm-pdbutil.
// The symbols come from the unstripped build; --shipped asserts the stripped prebuild holds the
// same machine code (identical .text), so what was checked is what ships.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// ISA a function may use beyond baseline, by naming convention on its symbol: 'avx2' symbols
// may use AVX, AVX2 and FMA; 'avx512' symbols may also use AVX-512 (zmm, mask registers, EVEX).
const ISA_TAG = 'avx2';
const AVX512_TAG = 'avx512';

/** True when the instruction needs AVX-512 (EVEX): zmm or k registers, xmm/ymm16-31, {k}/{1toN}. */
export function isAvx512(mnemonic, operands) {
  return /%zmm\d|%k[0-7]\b|%[xy]mm(1[6-9]|2\d|3[01])\b|\{(%k[1-7]|1to\d+|z|[a-z-]*sae)\}/.test(operands) || /^k(mov|and|or|xor|not|test|shift|unpck|add)/.test(mnemonic);
}

// Instruction prefixes objdump prints before the mnemonic.
const PREFIXES = new Set(['rep', 'repz', 'repe', 'repnz', 'repne', 'lock', 'notrack', 'bnd', 'data16', 'addr32', 'cs', 'ds', 'es', 'fs', 'gs', 'ss']);

// VMX/SVM instructions also start with 'v' but are not VEX-encoded; a user-space addon never
// has them, and they must not be mistaken for AVX (vmaxps, vmovaps... are AVX and stay flagged).
const NON_VEX_V = new Set(['verr', 'verw', 'vmcall', 'vmclear', 'vmfunc', 'vmlaunch', 'vmptrld', 'vmptrst', 'vmread', 'vmresume', 'vmwrite', 'vmxoff', 'vmxon', 'vmload', 'vmsave', 'vmrun', 'vmmcall']);

// Extensions after SSE2, by mnemonic (AT&T, so an operand-size suffix may follow).
// tzcnt is left out on purpose: GCC emits `rep bsf` for __builtin_ctz, which objdump shows as
// tzcnt, and older CPUs run it as bsf with the same result for the non-zero inputs GCC allows.
const EXTENSIONS = [
  ['SSE3', /^(addsubp[sd]|hadd[p][sd]|hsubp[sd]|lddqu|movddup|movs[hl]dup|fisttp[slq]?|monitor|mwait)$/],
  ['SSSE3', /^(pshufb|phadd(w|d|sw)|phsub(w|d|sw)|pmaddubsw|pmulhrsw|psign[bwd]|pabs[bwd]|palignr)$/],
  ['SSE4.1', /^(blendv?p[sd]|pblendvb|pblendw|dpp[sd]|extractps|insertps|mpsadbw|packusdw|pcmpeqq|pextr[bdq]|pinsr[bdq]|pmax(sb|sd|ud|uw)|pmin(sb|sd|ud|uw)|pmov[sz]x\w+|pmuldq|pmulld|ptest|round[ps][sd]|phminposuw|movntdqa)$/],
  ['SSE4.2', /^(pcmpgtq|pcmp[ei]str[im]|crc32[bwlq]?)$/],
  ['POPCNT', /^popcnt[wlq]?$/],
  ['LZCNT', /^lzcnt[wlq]?$/],
  ['BMI', /^(andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx)[lq]?$/],
  ['MOVBE', /^movbe[wlq]?$/],
  ['ADX', /^ad[co]x[lq]?$/],
];

/** The extension an instruction needs beyond baseline x86-64, or null if baseline. */
export function extensionOf(mnemonic, operands) {
  if (/%[yz]mm\d/.test(operands)) return 'AVX (ymm/zmm register)';
  if (/%k[0-7]\b/.test(operands)) return 'AVX-512 (mask register)';
  if (mnemonic.startsWith('v') && !NON_VEX_V.has(mnemonic)) return 'AVX (VEX-encoded)';
  for (const [name, pattern] of EXTENSIONS) if (pattern.test(mnemonic)) return name;
  return null;
}

/** Splits `objdump -d` output into functions: [{ name, instructions: [{ address, mnemonic, operands }] }]. */
export function parseDisassembly(text) {
  const functions = [];
  let current = null;
  for (const line of text.split('\n')) {
    const header = /^[0-9a-f]+ <(.+)>:$/.exec(line);
    if (header) {
      current = { name: header[1], instructions: [] };
      functions.push(current);
      continue;
    }
    const insn = /^\s+([0-9a-f]+):\s+(.*)$/.exec(line);
    if (!insn || current === null) continue;
    // objdump's trailing comment gives the address a RIP-relative operand points at (`# 1234
    // <name>`, or `# 0x1234` in a PE): kept, since taking a function's address is a way to call it.
    const comment = /\s+#\s*(?:0x)?([0-9a-f]+)\b/.exec(insn[2]);
    const tokens = insn[2].replace(/\s+#.*$/, '').trim().split(/\s+/);
    while (tokens.length > 1 && PREFIXES.has(tokens[0])) tokens.shift();
    const [mnemonic = '', ...rest] = tokens;
    if (mnemonic === '' || mnemonic === '(bad)') continue;
    const instruction = { address: insn[1], mnemonic, operands: rest.join(' ') };
    if (comment) instruction.refAddress = comment[1];
    current.instructions.push(instruction);
  }
  return functions;
}

/**
 * Applies the rule to parsed functions; returns { violations, taggedKernels, avx512Kernels }.
 * `allowed` names extensions the platform's floor guarantees everywhere (macOS 11 only runs on
 * Ivy Bridge or newer Macs: SSE3 .. SSE4.2 and POPCNT are baseline there, AVX is not).
 */
export function checkFunctions(functions, allowed = new Set()) {
  const violations = [];
  const taggedKernels = [];
  // 'avx512' kernels with zmm FMAs, the FMA probe left out: it proves the flags, not the kernels.
  const avx512Kernels = [];
  const isTagged = (fn) => fn.name.toLowerCase().includes(ISA_TAG) || fn.name.toLowerCase().includes(AVX512_TAG);
  const reachedOnlyFromTagged = onlyCalledFromTagged(functions, isTagged);
  // A helper that only avx512 code calls may use AVX-512; one that avx2 code calls may not.
  const reachedOnlyFromAvx512 = onlyCalledFromTagged(functions, (fn) => fn.name.toLowerCase().includes(AVX512_TAG));
  for (const fn of functions) {
    const name = fn.name.toLowerCase();
    if (reachedOnlyFromAvx512.has(fn)) continue;
    if (reachedOnlyFromTagged.has(fn)) {
      for (const i of fn.instructions) {
        if (isAvx512(i.mnemonic, i.operands)) {
          violations.push({ fn: fn.name, address: i.address, text: `${i.mnemonic} ${i.operands}`.trim(), extension: 'AVX-512 in a helper that avx2 code calls' });
        }
      }
      continue;
    }
    if (name.includes(AVX512_TAG)) {
      const zmmFma = fn.instructions.some((i) => /^vfn?m(add|sub)\d{3}[ps]s$/.test(i.mnemonic) && i.operands.includes('%zmm'));
      if (zmmFma && !name.includes('probe')) avx512Kernels.push(fn.name);
      continue;
    }
    const tagged = name.includes(ISA_TAG);
    if (tagged) {
      for (const i of fn.instructions) {
        if (isAvx512(i.mnemonic, i.operands)) {
          violations.push({ fn: fn.name, address: i.address, text: `${i.mnemonic} ${i.operands}`.trim(), extension: 'AVX-512 in an avx2 symbol' });
        }
      }
      const ymmFma = fn.instructions.some((i) => /^vfn?m(add|sub)\d{3}[ps]s$/.test(i.mnemonic) && i.operands.includes('%ymm'));
      if (ymmFma) taggedKernels.push(fn.name);
      continue;
    }
    for (const i of fn.instructions) {
      const extension = extensionOf(i.mnemonic, i.operands);
      if (extension && !allowed.has(extension)) violations.push({ fn: fn.name, address: i.address, text: `${i.mnemonic} ${i.operands}`.trim(), extension });
    }
  }
  return { violations, taggedKernels, avx512Kernels };
}

/**
 * Untagged functions that only ISA-tagged code calls: a `static inline` helper (epilogue.h's
 * activate) that the compiler left out of line inside an AVX2 file is a local copy whose every
 * call sits in that file's avx2 kernels, so it runs only after the dispatcher chose them. Known
 * from direct calls in the disassembly (`call 0x... <name>`), to a fixpoint; a function with no
 * direct caller (exported), or whose address some instruction takes (`lea ... # <name>`), never
 * qualifies. A pointer to it stored in data (a vtable) is not visible here: such helpers are
 * `static inline` functions, which have none.
 */
function onlyCalledFromTagged(functions, isTagged) {
  // Functions are known by their first address, not their name: static helpers of several files
  // share one name (each file's own `activate`), and a PDB gives names without signatures.
  const byStart = new Map();
  for (const fn of functions) if (fn.instructions.length > 0) byStart.set(BigInt(`0x${fn.instructions[0].address}`), fn);
  const callers = new Map();
  for (const fn of functions) {
    for (const i of fn.instructions) {
      const branch = /^(call|jmp|j[a-z]+)/.test(i.mnemonic) ? /^(?:0x)?([0-9a-f]+)(?:\s+<.*>)?$/.exec(i.operands)?.[1] : undefined;
      const address = branch ?? i.refAddress;
      if (address === undefined) continue;
      const target = byStart.get(BigInt(`0x${address}`));
      if (!target || target === fn) continue;
      if (!branch) {
        callers.set(target, null); // its address is taken: it may be called from anywhere
        continue;
      }
      const list = callers.get(target);
      if (list !== null) callers.set(target, [...(list ?? []), fn]);
    }
  }
  const safe = new Set(functions.filter(isTagged));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [fn, list] of callers) {
      if (safe.has(fn) || !list || list.length === 0) continue;
      if (list.every((caller) => safe.has(caller))) {
        safe.add(fn);
        grew = true;
      }
    }
  }
  return new Set([...safe].filter((fn) => !isTagged(fn)));
}

function run(tool, args) {
  return execFileSync(tool, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

/** The bytes of a file's .text section (objcopy needs a seekable output, so via a temp file). */
/**
 * The raw .text bytes of an ELF file, to check that a stripped copy ships the very code that was
 * checked. `toolPrefix` picks binutils for another target ('aarch64-linux-gnu-' for the arm64 check).
 */
export function textSection(file, toolPrefix = '') {
  const dir = mkdtempSync(join(tmpdir(), 'check-text-section-'));
  try {
    const out = join(dir, 'text.bin');
    execFileSync(`${toolPrefix}objcopy`, ['-O', 'binary', '--only-section=.text', file, out]);
    const bytes = readFileSync(out);
    if (bytes.length === 0) throw new Error(`${file} has an empty .text section`);
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The procedures of a PDB (`llvm-pdbutil dump -symbols`): [{ name, section, offset, size }],
 * section 1-based, offset and size decimal. Zig's lld links a Windows DLL with no COFF symbol
 * table, so the PDB beside it is where its function names are.
 */
export function parsePdbProcedures(text) {
  const procs = [];
  const pattern = /S_[GL]PROC32 \[size = \d+\] `(.*)`\s*\n\s*parent = \d+, end = \d+, addr = (\d+):(\d+), code size = (\d+)/g;
  for (const m of text.matchAll(pattern)) procs.push({ name: m[1], section: Number(m[2]), offset: Number(m[3]), size: Number(m[4]) });
  return procs;
}

/**
 * Re-splits a symbol-less disassembly (one `<.text>` blob) into the PDB's procedures.
 * `sectionVmas[k]` is the address of PE section k + 1. Instructions that no procedure covers
 * (linked-in code without debug info) become functions named '(no PDB symbol) <address>', and are
 * held to the untagged rule.
 */
export function splitByPdb(functions, procs, sectionVmas) {
  const ranges = procs
    .map((p) => ({ name: p.name, start: sectionVmas[p.section - 1] + BigInt(p.offset), size: BigInt(p.size) }))
    .filter((r) => r.size > 0n)
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out = [];
  let current = null;
  let at = 0;
  for (const i of functions.flatMap((f) => f.instructions)) {
    const address = BigInt(`0x${i.address}`);
    while (at < ranges.length && ranges[at].start + ranges[at].size <= address) at++;
    const range = at < ranges.length && ranges[at].start <= address ? ranges[at] : null;
    const sameRun = current && (range ? current.range === range : current.range === null);
    if (!sameRun) {
      current = { name: range ? range.name : `(no PDB symbol) ${i.address}`, range, instructions: [] };
      out.push(current);
    }
    current.instructions.push(i);
  }
  return out.map(({ name, instructions }) => ({ name, instructions }));
}

/** The address of each section of a PE file, in header order (PDB section k is index k - 1). */
function peSectionVmas(file) {
  const vmas = [];
  for (const m of run('objdump', ['-h', file]).matchAll(/^\s*\d+\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)\s/gm)) vmas.push(BigInt(`0x${m[1]}`));
  return vmas;
}

/** 'elf' | 'pe' | 'macho' for an x86-64 binary of that format, else null (read from the file's magic). */
export function x64FormatOf(file) {
  const bytes = readFileSync(file);
  if (bytes.length < 64) return null;
  if (bytes.readUInt32BE(0) === 0x7f454c46) return bytes.readUInt16LE(18) === 62 ? 'elf' : null; // EM_X86_64
  if (bytes.readUInt32LE(0) === 0xfeedfacf) return bytes.readUInt32LE(4) === 0x01000007 ? 'macho' : null; // CPU_TYPE_X86_64
  if (bytes.toString('latin1', 0, 2) === 'MZ') {
    const pe = bytes.readUInt32LE(0x3c);
    if (pe + 6 > bytes.length || bytes.toString('latin1', pe, pe + 4) !== 'PE\0\0') return null;
    return bytes.readUInt16LE(pe + 4) === 0x8664 ? 'pe' : null; // IMAGE_FILE_MACHINE_AMD64
  }
  return null;
}

function main(argv) {
  const shippedAt = argv.indexOf('--shipped');
  const shipped = shippedAt >= 0 ? argv[shippedAt + 1] : undefined;
  const pdbAt = argv.indexOf('--pdb');
  const pdbPath = pdbAt >= 0 ? argv[pdbAt + 1] : undefined;
  const allowAt = argv.indexOf('--allow');
  const allowed = new Set(allowAt >= 0 ? (argv[allowAt + 1] ?? '').split(',').filter(Boolean) : []);
  const known = new Set(EXTENSIONS.map(([name]) => name));
  const valueAt = new Set([shippedAt, pdbAt, allowAt].filter((k) => k >= 0).map((k) => k + 1));
  const file = argv.find((a, i) => !a.startsWith('--') && !valueAt.has(i));
  if (!file || (shippedAt >= 0 && !shipped) || (pdbAt >= 0 && !pdbPath) || [...allowed].some((e) => !known.has(e))) {
    console.error(`usage: node scripts/check-x64-isa.mjs <unstripped.node> [--shipped <stripped.node>] [--pdb <file.pdb>] [--allow ${[...known].join(',')}]`);
    return 2;
  }
  const format = x64FormatOf(file);
  if (!format) {
    console.error(`check-x64-isa: ${file} is not an x86-64 ELF, PE or Mach-O file`);
    return 1;
  }
  if (shipped && format === 'macho') {
    console.error('check-x64-isa: --shipped compares ELF / PE .text sections; a Mach-O prebuild ships as checked');
    return 2;
  }
  // GNU objdump reads ELF and PE; Mach-O needs LLVM's (same AT&T syntax, same line shapes).
  const objdump = format === 'macho' ? 'llvm-objdump' : 'objdump';
  let functions = parseDisassembly(run(objdump, ['-d', '-C', ...(format === 'macho' ? [] : ['-w']), '--no-show-raw-insn', file]));
  if (format === 'pe' && functions.length < 2) {
    const pdb = pdbPath ?? file.replace(/\.[^./]+$/, '.pdb');
    if (!existsSync(pdb)) {
      console.error(`check-x64-isa: ${file} has no symbol table and there is no PDB at ${pdb}: pass --pdb <file.pdb> from the same link`);
      return 1;
    }
    const procs = parsePdbProcedures(run('llvm-pdbutil', ['dump', '-symbols', pdb]));
    functions = splitByPdb(functions, procs, peSectionVmas(file));
  }
  if (functions.length < 2) {
    console.error(`check-x64-isa: ${file} has no function symbols; pass the unstripped build (build/Release/*.node before strip)`);
    return 1;
  }
  const { violations, taggedKernels, avx512Kernels } = checkFunctions(functions, allowed);
  let failed = false;
  if (violations.length > 0) {
    failed = true;
    const byFn = new Map();
    for (const v of violations) byFn.set(v.fn, [...(byFn.get(v.fn) ?? []), v]);
    console.error(`check-x64-isa: ${violations.length} instruction(s) beyond baseline x86-64 outside '${ISA_TAG}' symbols, in ${byFn.size} function(s):`);
    for (const [fn, list] of byFn) {
      console.error(`  ${fn}: ${list.length} (${[...new Set(list.map((v) => v.extension))].join(', ')}), first at 0x${list[0].address}: ${list[0].text}`);
    }
    console.error("  Fix: give the function an 'avx2' name, or keep -mavx2/-mfma (and inline helpers built with them) out of shared sources.");
  }
  if (taggedKernels.length === 0) {
    failed = true;
    console.error(`check-x64-isa: no '${ISA_TAG}' function with ymm FMA instructions found: the AVX2 kernels are missing from ${file}`);
  }
  if (avx512Kernels.length === 0) {
    failed = true;
    console.error(`check-x64-isa: no '${AVX512_TAG}' function with zmm FMA instructions (the FMA probe aside) found: the AVX-512 kernels are missing from ${file}`);
  }
  if (shipped) {
    if (Buffer.compare(textSection(file), textSection(shipped)) !== 0) {
      failed = true;
      console.error(`check-x64-isa: ${shipped} does not hold the same .text as ${file}; the checked binary is not the shipped one`);
    }
  }
  if (failed) return 1;
  const instructionCount = functions.reduce((n, f) => n + f.instructions.length, 0);
  console.log(
    `check-x64-isa: ok: ${functions.length} functions, ${instructionCount} instructions; beyond-baseline code only in ${taggedKernels.length} '${ISA_TAG}' kernel function(s) with ymm FMAs and ${avx512Kernels.length} '${AVX512_TAG}' one(s) with zmm FMAs` +
      (allowed.size ? ` (${[...allowed].join(', ')} allowed anywhere)` : '') +
      (shipped ? `; ${shipped} has the same .text` : ''),
  );
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
