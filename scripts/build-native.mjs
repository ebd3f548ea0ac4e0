#!/usr/bin/env node
// Builds the native addon into build/Release/convnode.node (where node-gyp-build looks after
// prebuilds/). Uses CMake with this Node's own headers (no download); falls back to node-gyp
// (binding.gyp, same sources) when CMake or the headers are missing.
//
//   node scripts/build-native.mjs             build; exit 1 on failure
//   node scripts/build-native.mjs --optional  the npm "install" hook: skip when a prebuilt binary
//                                             loads, and on failure explain but exit 0, so
//                                             `npm install` still succeeds and the JS backend works
//   --debug                                   CMake Debug build
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const optional = process.argv.includes('--optional');
const debug = process.argv.includes('--debug');
const jobs = String(Math.max(1, Math.min(2, os.availableParallelism())));

function log(message) {
  console.log(`convnode: ${message}`);
}

function run(command, args) {
  log(`${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) return `${command} could not start (${result.error.message})`;
  return result.status === 0 ? null : `${command} exited with status ${result.status}`;
}

function prebuiltBinary() {
  try {
    const found = require('node-gyp-build').path(root);
    if (!found.includes(`${path.sep}prebuilds${path.sep}`)) return null;
    require(found); // present is not enough: on an older glibc, say, it will not load
    return found;
  } catch {
    return null;
  }
}

function nodeHeaders() {
  const dir = path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node');
  return existsSync(path.join(dir, 'node_api.h')) ? dir : null;
}

function hasCmake() {
  const probe = spawnSync('cmake', ['--version'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

function buildWithCmake(headers) {
  const addonApi = path.dirname(require.resolve('node-addon-api/package.json'));
  return (
    run('cmake', [
      '-S', root,
      '-B', path.join(root, 'build'),
      `-DCMAKE_BUILD_TYPE=${debug ? 'Debug' : 'Release'}`,
      `-DNODE_INCLUDE_DIR=${headers}`,
      `-DNODE_ADDON_API_DIR=${addonApi}`,
    ]) ?? run('cmake', ['--build', path.join(root, 'build'), '--target', 'convnode', '-j', jobs])
  );
}

function buildWithNodeGyp() {
  // npm hands lifecycle scripts its own node-gyp; node-gyp is only a devDependency here.
  let nodeGyp = process.env.npm_config_node_gyp;
  if (!nodeGyp) {
    try {
      nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
    } catch {
      return 'node-gyp was not found (run this through npm, or install node-gyp)';
    }
  }
  const args = [nodeGyp, 'rebuild', '-j', jobs];
  const headers = nodeHeaders();
  if (headers) args.push(`--nodedir=${path.dirname(path.dirname(headers))}`);
  return run(process.execPath, args);
}

function main() {
  if (optional) {
    const prebuilt = prebuiltBinary();
    if (prebuilt) {
      log(`using the prebuilt binary ${path.relative(root, prebuilt)}`);
      return 0;
    }
  }
  const headers = nodeHeaders();
  let failure;
  if (headers && hasCmake()) {
    failure = buildWithCmake(headers);
  } else {
    log(headers ? 'cmake not found, building with node-gyp' : 'Node headers not found next to node, building with node-gyp');
    failure = buildWithNodeGyp();
  }
  if (!failure) {
    log('native addon built: build/Release/convnode.node');
    return 0;
  }
  const advice =
    'the native addon did not build (' + failure + '). convnode still works on its pure-JS backend; ' +
    'to get the native kernels install a C++17 compiler and CMake (or python3 + make for node-gyp) ' +
    'and run `npm run build:native`.';
  if (optional) {
    console.warn(`convnode: warning: ${advice}`);
    return 0;
  }
  console.error(`convnode: ${advice}`);
  return 1;
}

process.exitCode = main();
