// The prebuild checks must be able to fail: each is run on small shared objects compiled here
// with a known defect (AVX code outside an 'avx2' symbol, kernels missing, wrong machine, a
// shipped file that is not the checked one) as well as on a clean one.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingIn } from './helpers/ci.js';
// @ts-expect-error: plain .mjs script without type declarations
import { extensionOf, parseDisassembly } from '../scripts/check-x64-isa.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hasTool = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

function check(script: string, args: string[]): { status: number; out: string } {
  const r = spawnSync(process.execPath, [join(root, 'scripts', script), ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, out: r.stdout + r.stderr };
}

describe('extensionOf: what counts as beyond baseline x86-64', () => {
  it('flags VEX, ymm/zmm, SSE4 and BMI instructions and passes SSE2 and tzcnt (rep bsf)', () => {
    expect(extensionOf('vfmadd231ps', '%ymm1,%ymm2,%ymm3')).toMatch(/AVX/);
    expect(extensionOf('vmovss', '0x10(%rip),%xmm0')).toMatch(/AVX/);
    expect(extensionOf('vmaxps', '%xmm1,%xmm2,%xmm3')).toMatch(/AVX/);
    expect(extensionOf('pmulld', '%xmm1,%xmm0')).toBe('SSE4.1');
    expect(extensionOf('roundss', '$0x9,%xmm1,%xmm0')).toBe('SSE4.1');
    expect(extensionOf('popcnt', '%rdi,%rax')).toBe('POPCNT');
    expect(extensionOf('shlx', '%rax,%rdi,%rax')).toBe('BMI');
    expect(extensionOf('mulps', '%xmm1,%xmm0')).toBeNull();
    expect(extensionOf('cvttss2si', '%xmm0,%eax')).toBeNull();
    expect(extensionOf('tzcnt', '%edi,%eax')).toBeNull();
    expect(extensionOf('verw', '%ax')).toBeNull();
  });

  it('parses objdump output into functions and strips prefixes', () => {
    const fns = parseDisassembly(
      ['0000000000001000 <f_avx2>:', '    1000:\tvfmadd231ps %ymm1,%ymm2,%ymm0', '0000000000001010 <g>:', '    1010:\trep stos %rax,%es:(%rdi)', '    1013:\tret'].join('\n'),
    );
    expect(fns.map((f: { name: string }) => f.name)).toEqual(['f_avx2', 'g']);
    expect(fns[1].instructions.map((i: { mnemonic: string }) => i.mnemonic)).toEqual(['stos', 'ret']);
  });
});

describe.skipIf(missingIn('g++ and objdump', hasTool('g++') && hasTool('objdump')))('check-x64-isa.mjs on compiled fixtures', () => {
  let dir = '';
  const so = (name: string) => join(dir, name);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'convnode-isa-'));
    writeFileSync(so('base.cc'), 'extern "C" int napi_register_module_v1() { return 0; }\nfloat dot(const float* a, const float* b, int n) { float s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }\n');
    writeFileSync(
      so('kernel.cc'),
      '#include <immintrin.h>\nvoid axpy_avx2(float* y, const float* x, float a, int n) { __m256 va = _mm256_set1_ps(a); for (int i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i))); }\n',
    );
    writeFileSync(
      so('kernel512.cc'),
      '#include <immintrin.h>\nvoid axpy_avx512(float* y, const float* x, float a, int n) { __m512 va = _mm512_set1_ps(a); for (int i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i))); }\n',
    );
    // The same zmm code under an avx2 name: the dispatcher would call it on AVX2-only CPUs.
    writeFileSync(
      so('misnamed.cc'),
      '#include <immintrin.h>\nvoid scale_avx2(float* y, float a, int n) { __m512 va = _mm512_set1_ps(a); for (int i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(y + i), va)); }\n',
    );
    // A shared helper built with -mavx2: what -march=native or a leaked flag would do.
    writeFileSync(so('leak.cc'), 'void scale_all(float* y, int n) { for (int i = 0; i < n; i++) y[i] *= 3.0f; }\n');
    const gxx = (args: string[]) => execFileSync('g++', ['-O3', '-fPIC', ...args], { cwd: dir });
    gxx(['-c', 'base.cc']);
    gxx(['-mavx2', '-mfma', '-c', 'kernel.cc']);
    gxx(['-mavx2', '-c', 'leak.cc']);
    gxx(['-mavx2', '-mfma', '-mavx512f', '-c', 'kernel512.cc']);
    gxx(['-mavx2', '-mfma', '-mavx512f', '-c', 'misnamed.cc']);
    gxx(['-shared', '-o', 'clean.so', 'base.o', 'kernel.o', 'kernel512.o']);
    gxx(['-shared', '-o', 'leaky.so', 'base.o', 'kernel.o', 'kernel512.o', 'leak.o']);
    gxx(['-shared', '-o', 'nokernel.so', 'base.o']);
    gxx(['-shared', '-o', 'no512.so', 'base.o', 'kernel.o']);
    gxx(['-shared', '-o', 'misnamed.so', 'base.o', 'kernel.o', 'kernel512.o', 'misnamed.o']);
    execFileSync('strip', ['--strip-all', '-o', 'clean-stripped.so', 'clean.so'], { cwd: dir });
    // Eleven compiler runs: ~3 s on an idle machine, over 10 s (vitest's default) on a busy one.
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes a binary whose AVX2 code is all in avx2 symbols, and its stripped copy', () => {
    const r = check('check-x64-isa.mjs', [so('clean.so'), '--shipped', so('clean-stripped.so')]);
    expect(r.out).toMatch(/ok: .* 1 'avx2' kernel function\(s\) with ymm FMAs and 1 'avx512' one\(s\) with zmm FMAs/);
    expect(r.status).toBe(0);
  });

  it('fails when AVX code sits in a function not named avx2, naming that function', () => {
    const r = check('check-x64-isa.mjs', [so('leaky.so')]);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/scale_all\(float\*, int\): \d+ \(AVX/);
  });

  it('fails when no AVX2 kernel is in the binary', () => {
    const r = check('check-x64-isa.mjs', [so('nokernel.so')]);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/AVX2 kernels are missing/);
  });

  it('fails when no AVX-512 kernel is in the binary', () => {
    const r = check('check-x64-isa.mjs', [so('no512.so')]);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/AVX-512 kernels are missing/);
  });

  it('fails when zmm code sits in an avx2 symbol, naming it', () => {
    const r = check('check-x64-isa.mjs', [so('misnamed.so')]);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/scale_avx2\(float\*, float, int\): \d+ \(AVX-512 in an avx2 symbol\)/);
  });

  it('fails when the shipped file is not the checked one', () => {
    const r = check('check-x64-isa.mjs', [so('clean.so'), '--shipped', so('leaky.so')]);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/does not hold the same \.text/);
  });

  it('check-elf-addon accepts the x64 shared object and rejects it as arm64', () => {
    expect(check('check-elf-addon.mjs', ['--arch', 'x64', so('clean.so')]).status).toBe(0);
    const asArm = check('check-elf-addon.mjs', ['--arch', 'arm64', so('clean.so')]);
    expect(asArm.status).toBe(1);
    expect(asArm.out).toMatch(/Machine is Advanced Micro Devices X86-64, expected AArch64/);
  });

  it('check-elf-addon rejects a shared object without the N-API init symbol', () => {
    writeFileSync(so('noinit.cc'), 'int answer() { return 42; }\n');
    execFileSync('g++', ['-O2', '-fPIC', '-shared', '-o', 'noinit.so', 'noinit.cc'], { cwd: dir });
    const r = check('check-elf-addon.mjs', ['--arch', 'x64', so('noinit.so')]);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/does not export napi_register_module_v1/);
  });
});
