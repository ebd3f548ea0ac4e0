// The pieces of `npm run prebuilds` that decide what is built and what passes, on inputs made
// here (no Zig, binutils or wine needed): the source groups read from native/sources.cmake,
// the ISA tiers each target compiles, the glibc / libstdc++ / musl floor rule, the Mach-O load
// commands and dyld bind tables, the PE import table, and the binary-format sniffing.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs scripts without type declarations
import { parseSourceGroups, readSourceGroups } from '../scripts/prebuild-sources.mjs';
// @ts-expect-error: plain .mjs script
import { ISA_TIERS, TARGETS, isaGroupsFor, shippedPath } from '../scripts/prebuild-targets.mjs';
// @ts-expect-error: plain .mjs script
import { floorProblems, newestVersions } from '../scripts/check-elf-addon.mjs';
// @ts-expect-error: plain .mjs script
import { parseBindTables, readMachO } from '../scripts/check-macho-addon.mjs';
// @ts-expect-error: plain .mjs script
import { parsePeImports } from '../scripts/check-pe-addon.mjs';
// @ts-expect-error: plain .mjs script
import { checkFunctions, parseDisassembly, parsePdbProcedures, splitByPdb } from '../scripts/check-x64-isa.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('source groups from native/sources.cmake', () => {
  it('reads every group of the real file, and each listed file exists', () => {
    const groups = readSourceGroups(root);
    expect(Object.keys(groups)).toEqual(expect.arrayContaining(['CORE', 'NAPI', 'AVX2', 'NEON']));
    const cmake = readFileSync(join(root, 'native', 'sources.cmake'), 'utf8');
    const listed = cmake.match(/native\/\S+\.cc/g) ?? [];
    expect(Object.values(groups).flat().sort()).toEqual([...listed].sort());
  });

  it('a new ISA tier flows into the x64 targets with its own flags; arm64 targets skip it', () => {
    const groups = parseSourceGroups(
      'set(CONVNODE_CORE_SOURCES\n  a.cc # comment\n)\nset(CONVNODE_AVX2_SOURCES b.cc)\nset(CONVNODE_AVX512_SOURCES\n  c.cc\n  d.cc\n)\nset(CONVNODE_NEON_SOURCES e.cc)\nset(CONVNODE_NAPI_SOURCES f.cc)',
    );
    expect(groups.AVX512).toEqual(['c.cc', 'd.cc']);
    expect(isaGroupsFor('linux-x64-glibc', groups)).toEqual(['AVX2', 'AVX512']);
    expect(isaGroupsFor('win32-x64', groups)).toEqual(['AVX2', 'AVX512']);
    expect(isaGroupsFor('darwin-arm64', groups)).toEqual(['NEON']);
    expect(ISA_TIERS.AVX512.flags).toEqual(expect.arrayContaining(['-mavx512f', '-mavx512bw', '-mavx512dq', '-mavx512vl', '-mfma', '-mavx2']));
  });

  it('an ISA tier the prebuild scripts do not know is an error naming it, not a silent skip', () => {
    const groups = parseSourceGroups('set(CONVNODE_CORE_SOURCES a.cc)\nset(CONVNODE_SVE_SOURCES s.cc)\nset(CONVNODE_NAPI_SOURCES f.cc)');
    expect(() => isaGroupsFor('linux-arm64-glibc', groups)).toThrow(/CONVNODE_SVE_SOURCES.*ISA_TIERS/);
  });

  it('seven targets, each with its own file under prebuilds/', () => {
    const files = Object.keys(TARGETS).map(shippedPath);
    expect(new Set(files).size).toBe(7);
    expect(files).toContain('prebuilds/linux-x64/convnode.musl.node');
    expect(files).toContain('prebuilds/win32-x64/convnode.node');
  });
});

describe('the glibc / libstdc++ / musl floor rule', () => {
  const readelf = (names: string[]) => names.map((n) => `  0x0010:   Name: ${n}  Flags: none  Version: 2`).join('\n');

  it('takes the newest version of each library', () => {
    expect(newestVersions(readelf(['GLIBC_2.2.5', 'GLIBC_2.17', 'GLIBC_2.3.4', 'GLIBCXX_3.4.30']))).toEqual({ GLIBC: '2.17', GLIBCXX: '3.4.30' });
  });

  it('passes a glibc 2.17 build without libstdc++, and fails what today\'s GCC build needs', () => {
    const floor = { glibcFloor: '2.17', noLibstdcxx: true, musl: false };
    expect(floorProblems({ GLIBC: '2.17' }, ['libc.so.6', 'libm.so.6'], floor)).toEqual([]);
    const problems = floorProblems({ GLIBC: '2.34', GLIBCXX: '3.4.30', CXXABI: '1.3.13' }, ['libstdc++.so.6', 'libgcc_s.so.1', 'libc.so.6'], floor);
    expect(problems.join('\n')).toMatch(/GLIBC_2\.34, above the floor 2\.17/);
    expect(problems.join('\n')).toMatch(/GLIBCXX_3\.4\.30/);
    expect(problems.join('\n')).toMatch(/libstdc\+\+\.so\.6 at run time/);
    expect(problems.join('\n')).toMatch(/libgcc_s\.so\.1 at run time/);
  });

  it('a musl build needs musl\'s libc and no glibc', () => {
    const musl = { musl: true };
    expect(floorProblems({}, ['libc.so'], musl)).toEqual([]);
    expect(floorProblems({ GLIBC: '2.17' }, ['libc.so.6'], musl).length).toBeGreaterThanOrEqual(2);
  });
});

/** A 64-bit Mach-O header with the given load commands ([cmd, payload words]). */
function machO(cpuType: number, fileType: number, commands: Array<[number, number[]]>): Buffer {
  const bodies = commands.map(([cmd, words]) => {
    const b = Buffer.alloc(8 + 4 * words.length);
    b.writeUInt32LE(cmd, 0);
    b.writeUInt32LE(b.length, 4);
    words.forEach((w, i) => b.writeUInt32LE(w, 8 + 4 * i));
    return b;
  });
  const header = Buffer.alloc(32);
  header.writeUInt32LE(0xfeedfacf, 0);
  header.writeUInt32LE(cpuType, 4);
  header.writeUInt32LE(fileType, 12);
  header.writeUInt32LE(commands.length, 16);
  return Buffer.concat([header, ...bodies]);
}

describe('Mach-O reading', () => {
  it('reads the CPU, file type, LC_BUILD_VERSION minos and the code signature', () => {
    const bytes = machO(0x0100000c, 6, [
      [0x32, [1, (11 << 16) | 0, (15 << 16) | (1 << 8), 0]],
      [0x1d, [0, 0]],
    ]);
    const info = readMachO(bytes);
    expect(info.cpuType).toBe(0x0100000c);
    expect(info.fileType).toBe(6);
    expect(info.buildVersion).toEqual({ platform: 1, minos: 11 << 16, sdk: (15 << 16) | (1 << 8) });
    expect(info.codeSignature).toBe(true);
    expect(() => readMachO(Buffer.from('\x7fELF' + '\0'.repeat(60), 'latin1'))).toThrow(/not a 64-bit little-endian Mach-O/);
  });

  it('takes where dyld binds each symbol from llvm-objdump --bind / --lazy-bind', () => {
    const text = [
      'Bind table:',
      'segment  section            address    type       addend dylib            symbol',
      '__DATA_CONST __got              0x00054030 pointer         0 libSystem        dyld_stub_binder',
      'Lazy bind table:',
      'segment  section            address     dylib            symbol',
      '__DATA   __la_symbol_ptr    0x00055000 flat-namespace   _napi_add_finalizer',
    ].join('\n');
    expect(parseBindTables(text)).toEqual({ dyld_stub_binder: 'libSystem', _napi_add_finalizer: 'flat-namespace' });
  });
});

describe('PE import and export tables', () => {
  it('groups imports by DLL and lists exports', () => {
    const text = [
      'The Import Tables (interpreted .idata section contents)',
      '\tDLL Name: NODE.EXE',
      '\tvma:  Hint/Ord Member-Name Bound-To',
      '\t2a1f8\t   12  napi_create_object',
      '\t2a210\t   40  napi_define_class',
      '',
      '\tDLL Name: KERNEL32.dll',
      '\t2a300\t  100  GetSystemInfo',
      '',
      '[Ordinal/Name Pointer] Table',
      '\t[   0] napi_register_module_v1',
      '',
    ].join('\n');
    const { dlls, exports } = parsePeImports(text);
    expect(dlls['NODE.EXE']).toEqual(['napi_create_object', 'napi_define_class']);
    expect(dlls['KERNEL32.dll']).toEqual(['GetSystemInfo']);
    expect(exports).toEqual(['napi_register_module_v1']);
  });
});

describe('the x64 ISA rule with a platform floor', () => {
  const fns = parseDisassembly(['0000000000001000 <scalar_helper>:', '    1000:\tmovddup %xmm0,%xmm0', '    1004:\tvmovaps %ymm0,%ymm1'].join('\n'));
  it('SSE3 passes where the floor allows it; AVX never does', () => {
    expect(checkFunctions(fns).violations.map((v: { extension: string }) => v.extension)).toEqual(['SSE3', 'AVX (ymm/zmm register)']);
    expect(checkFunctions(fns, new Set(['SSE3', 'SSSE3'])).violations.map((v: { extension: string }) => v.extension)).toEqual(['AVX (ymm/zmm register)']);
  });
});

describe('an untagged helper only AVX2 code calls', () => {
  const disasm = (extraCaller: boolean) =>
    parseDisassembly(
      [
        '0000000000001000 <kernel_avx2>:',
        '    1000:\tvfmadd231ps %ymm1,%ymm2,%ymm0',
        '    1005:\tcallq 0x2000 <activate(float)>',
        '0000000000002000 <activate(float)>:',
        '    2000:\tvmaxss %xmm1,%xmm0,%xmm0',
        '    2004:\tretq',
        '0000000000003000 <scalar_path>:',
        ...(extraCaller ? ['    3000:\tcallq 0x2000 <activate(float)>'] : []),
        '    3005:\tretq',
        '0000000000004000 <orphan>:',
        '    4000:\tvmovaps %xmm0,%xmm1',
      ].join('\n'),
    );
  it('passes when every call to it is in an avx2 function; never for a function nothing calls', () => {
    const { violations } = checkFunctions(disasm(false));
    expect(violations.map((v: { fn: string }) => v.fn)).toEqual(['orphan']);
  });
  it('fails once portable code calls it too', () => {
    const { violations } = checkFunctions(disasm(true));
    expect(violations.map((v: { fn: string }) => v.fn)).toEqual(['activate(float)', 'orphan']);
  });
});


describe('helpers reached only from tagged code, by address', () => {
  const lines = (extra: string[]) =>
    parseDisassembly(
      [
        '0000000000001000 <kernel_avx2>:',
        '    1000:\tvfmadd231ps %ymm1,%ymm2,%ymm0',
        '    1005:\tcall   2000 <activate>',
        '    100a:\tcall   5000 <activate>',
        '0000000000002000 <activate>:',
        '    2000:\tvmaxss %xmm1,%xmm0,%xmm0',
        '    2004:\tret',
        '0000000000003000 <kernel_avx512>:',
        '    3000:\tvfmadd231ps %zmm1,%zmm2,%zmm0',
        '    3006:\tcall   4000 <store_tile<16,16>>',
        '0000000000004000 <store_tile<16,16>>:',
        '    4000:\tvmovups %zmm0,(%rdi){%k1}',
        '    4006:\tret',
        // A second file's static `activate`: same name, other address, zmm inside.
        '0000000000005000 <activate>:',
        '    5000:\tvmovups %zmm0,(%rdi)',
        '    5006:\tret',
        '0000000000006000 <portable>:',
        ...extra,
        '    6010:\tret',
      ].join('\n'),
    );
  const failing = (extra: string[]) => checkFunctions(lines(extra)).violations.map((v: { fn: string; extension: string }) => `${v.fn}: ${v.extension}`);

  it('an avx512-only helper may use AVX-512; one that avx2 code calls may not, even under a shared name', () => {
    expect(failing([])).toEqual(['activate: AVX-512 in a helper that avx2 code calls']);
  });

  it('a helper whose address portable code takes (lea ... # <addr>) is held to the untagged rule', () => {
    const v = failing(['    6000:\tlea    -0x1007(%rip),%rax        # 5000 <activate>']);
    expect(v).toContain('activate: AVX (ymm/zmm register)');
  });
});

describe('win32: function names from the PDB of the same link', () => {
  const pdb = [
    '     208 | S_GPROC32 [size = 72] `convnode::f32_gemm_6x16__avx2`',
    '           parent = 0, end = 2144, addr = 0001:0000, code size = 16',
    '     280 | S_LPROC32 [size = 60] `convnode::activate`',
    '           parent = 0, end = 400, addr = 0001:0032, code size = 8',
    '     300 | S_GPROC32 [size = 60] `convnode::scalar_path`',
    '           parent = 0, end = 500, addr = 0001:0048, code size = 16',
  ].join('\n');
  const blob = (scalarBody: string) =>
    parseDisassembly(
      [
        '0000000180001000 <.text>:',
        '   180001000:\tvfmadd231ps %ymm1,%ymm2,%ymm0',
        '   180001005:\tcall   0x180001020',
        '   180001010:\tint3',
        '   180001020:\tvmaxss %xmm1,%xmm0,%xmm0',
        `   180001030:\t${scalarBody}`,
        '   180001034:\tret',
        '   180001040:\tvmovaps %xmm0,%xmm1',
      ].join('\n'),
    );

  it('reads procedures with decimal section offsets and sizes', () => {
    expect(parsePdbProcedures(pdb)).toEqual([
      { name: 'convnode::f32_gemm_6x16__avx2', section: 1, offset: 0, size: 16 },
      { name: 'convnode::activate', section: 1, offset: 32, size: 8 },
      { name: 'convnode::scalar_path', section: 1, offset: 48, size: 16 },
    ]);
  });

  it('splits the symbol-less .text into them; code no procedure covers is checked as untagged', () => {
    const fns = splitByPdb(blob('addps %xmm1,%xmm0'), parsePdbProcedures(pdb), [0x180001000n]);
    expect(fns.map((f: { name: string }) => f.name)).toEqual([
      'convnode::f32_gemm_6x16__avx2',
      '(no PDB symbol) 180001010',
      'convnode::activate',
      'convnode::scalar_path',
      '(no PDB symbol) 180001040',
    ]);
    const { violations, taggedKernels } = checkFunctions(fns);
    expect(taggedKernels).toEqual(['convnode::f32_gemm_6x16__avx2']);
    expect(violations.map((v: { fn: string }) => v.fn)).toEqual(['(no PDB symbol) 180001040']);
  });

  it('a stray AVX instruction in a portable procedure fails', () => {
    const fns = splitByPdb(blob('vaddps %xmm1,%xmm0,%xmm0'), parsePdbProcedures(pdb), [0x180001000n]);
    expect(checkFunctions(fns).violations.map((v: { fn: string }) => v.fn)).toContain('convnode::scalar_path');
  });
});

describe('prebuild.mjs --wasm-after (CI starts the prebuilds while build-wasm still writes its objects)', () => {
  it('refuses the flag without a file name before any build starts, naming the flag', async () => {
    const { spawnSync } = await import('node:child_process');
    for (const args of [['--wasm-after'], ['--wasm-after', '--skip-run']]) {
      const r = spawnSync(process.execPath, [join(root, 'scripts', 'prebuild.mjs'), ...args], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('--wasm-after needs a file name');
      expect(r.stdout).not.toContain('zig c++'); // refused before the first target compiles
    }
  });
});
