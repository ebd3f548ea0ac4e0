// The native source lists, read from native/sources.cmake (the one list CMake builds from), so
// the zig prebuilds compile exactly what a source build compiles, new kernel files and new ISA
// groups included. Each `set(CONVNODE_<GROUP>_SOURCES ...)` becomes one group:
//   CORE  plain C++ for any CPU of the architecture      NAPI  the N-API glue (addon only)
//   any other name is an ISA tier (AVX2, AVX512, NEON ...), compiled with that tier's flags
//   (prebuild-targets.mjs) and only for targets that list it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** { GROUP: [relative paths] } from the text of sources.cmake. */
export function parseSourceGroups(cmakeText) {
  const groups = {};
  const withoutComments = cmakeText.replace(/#[^\n]*/g, '');
  for (const m of withoutComments.matchAll(/set\(\s*CONVNODE_([A-Z0-9_]+)_SOURCES\s+([^)]*)\)/g)) {
    const files = m[2].split(/\s+/).filter(Boolean);
    if (m[1] in groups) throw new Error(`native/sources.cmake sets CONVNODE_${m[1]}_SOURCES twice`);
    groups[m[1]] = files;
  }
  if (!groups.CORE || !groups.NAPI) throw new Error('native/sources.cmake must set CONVNODE_CORE_SOURCES and CONVNODE_NAPI_SOURCES');
  return groups;
}

export function readSourceGroups(root) {
  const groups = parseSourceGroups(readFileSync(join(root, 'native', 'sources.cmake'), 'utf8'));
  for (const [group, files] of Object.entries(groups)) {
    for (const file of files) {
      if (!existsSync(join(root, file))) throw new Error(`native/sources.cmake lists ${file} in CONVNODE_${group}_SOURCES, but it does not exist`);
    }
  }
  return groups;
}

/**
 * The kernel test's sources (native/tests/sources.cmake: main, shared helpers, one file of checks
 * per kernel family), each checked to exist.
 */
export function readKernelTestSources(root) {
  const text = readFileSync(join(root, 'native', 'tests', 'sources.cmake'), 'utf8').replace(/#[^\n]*/g, '');
  const m = /set\(\s*CONVNODE_KERNELS_TEST_SOURCES\s+([^)]*)\)/.exec(text);
  if (!m) throw new Error('native/tests/sources.cmake must set CONVNODE_KERNELS_TEST_SOURCES');
  const files = m[1].split(/\s+/).filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(root, file))) throw new Error(`native/tests/sources.cmake lists ${file}, but it does not exist`);
  }
  return files;
}
