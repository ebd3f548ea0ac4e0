/**
 * native/sources.cmake is the one list of native sources; binding.gyp (node-gyp / prebuildify)
 * mirrors it by hand. A file added to one and not the other builds in one tool and fails to
 * link (or silently loses a kernel) in the other, so the two lists must hold the same files per
 * group, and every listed file must exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readKernelTestSources } from '../scripts/prebuild-sources.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The source groups of sources.cmake: { CONVNODE_CORE_SOURCES: [...], ... }. */
function cmakeGroups(): Map<string, string[]> {
  const text = readFileSync(join(root, 'native/sources.cmake'), 'utf8');
  const groups = new Map<string, string[]>();
  for (const match of text.matchAll(/set\((CONVNODE_\w+_SOURCES)([^)]*)\)/g)) {
    groups.set(match[1], match[2].split(/\s+/).filter((f) => f.endsWith('.cc')));
  }
  return groups;
}

/** Every .cc path binding.gyp names, with the gyp target or condition block it sits in. */
function gypSources(): { all: string[]; byTarget: Map<string, string[]> } {
  const text = readFileSync(join(root, 'binding.gyp'), 'utf8');
  const byTarget = new Map<string, string[]>();
  let target = '';
  const all: string[] = [];
  for (const line of text.split('\n')) {
    const name = /'target_name':\s*'([^']+)'/.exec(line);
    if (name) target = name[1];
    for (const m of line.matchAll(/'(native\/[^']+\.cc)'/g)) {
      all.push(m[1]);
      byTarget.set(target, [...(byTarget.get(target) ?? []), m[1]]);
    }
  }
  return { all, byTarget };
}

describe('native source lists', () => {
  const groups = cmakeGroups();
  const gyp = gypSources();

  it('sources.cmake has the groups the build expects, each file present on disk', () => {
    for (const group of ['CONVNODE_CORE_SOURCES', 'CONVNODE_AVX2_SOURCES', 'CONVNODE_AVX512_SOURCES', 'CONVNODE_NEON_SOURCES', 'CONVNODE_NAPI_SOURCES']) {
      expect(groups.get(group)?.length ?? 0, group).toBeGreaterThan(0);
    }
    for (const file of [...groups.values()].flat()) expect(existsSync(join(root, file)), file).toBe(true);
  });

  it('binding.gyp lists exactly the files of sources.cmake, each once', () => {
    const cmakeFiles = [...groups.values()].flat().sort();
    expect([...gyp.all].sort()).toEqual(cmakeFiles);
    expect(new Set(gyp.all).size).toBe(gyp.all.length);
  });

  it('ISA files sit in the gyp target that carries their flags', () => {
    expect([...(gyp.byTarget.get('convnode_avx2') ?? [])].sort()).toEqual([...groups.get('CONVNODE_AVX2_SOURCES')!].sort());
    expect([...(gyp.byTarget.get('convnode_avx512') ?? [])].sort()).toEqual([...groups.get('CONVNODE_AVX512_SOURCES')!].sort());
    const addon = gyp.byTarget.get('convnode') ?? [];
    for (const group of ['CONVNODE_CORE_SOURCES', 'CONVNODE_NEON_SOURCES', 'CONVNODE_NAPI_SOURCES']) {
      for (const file of groups.get(group)!) expect(addon, `${file} (${group})`).toContain(file);
    }
  });

  // The kernel test is main plus one file of checks per family (native/tests/sources.cmake, read
  // by CMake and the zig prebuilds): a family file left out of the list would never run.
  it('native/tests/sources.cmake lists every kernel test file, each present', () => {
    const listed: string[] = readKernelTestSources(root);
    const onDisk = readdirSync(join(root, 'native/tests'))
      .filter((f) => f.endsWith('.cc') && f !== 'kernels_bench.cc')
      .map((f) => `native/tests/${f}`);
    expect([...listed].sort()).toEqual(onDisk.sort());
    expect(listed[0]).toBe('native/tests/kernels_test.cc');
  });
});
