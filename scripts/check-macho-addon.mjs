#!/usr/bin/env node
// Checks a macOS prebuild without a Mac: nothing here can run it, so everything that can be read
// off the file is checked.
//   - Mach-O 64-bit, the right CPU (x86_64 / arm64), a bundle or dylib Node can dlopen;
//   - LC_BUILD_VERSION: platform macOS, minos no newer than the promised floor (else dyld
//     refuses it on older macOS);
//   - exports _napi_register_module_v1 (what Node looks up);
//   - every N-API function it calls is bound by flat-namespace (dynamic) lookup in the dyld bind
//     tables, resolved in the node process at load; nothing else is (a typo'd libc symbol would
//     be); it links only system dylibs (no Homebrew or build-machine paths);
//   - arm64: an ad-hoc code signature (LC_CODE_SIGNATURE): Apple Silicon will not map unsigned code.
// The load commands are parsed here; symbols and bind tables come from `llvm-nm -m` and
// `llvm-objdump --macho` (Debian package llvm).
//
// Usage: node scripts/check-macho-addon.mjs --arch x64|arm64 [--min-macos 11.0] <file.node>
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const MH_MAGIC_64 = 0xfeedfacf;
const CPU_TYPES = { x64: 0x01000007, arm64: 0x0100000c };
const FILE_TYPES = { 6: 'dylib', 8: 'bundle' };
const LC_LOAD_DYLIB = 0xc;
const LC_CODE_SIGNATURE = 0x1d;
const LC_VERSION_MIN_MACOSX = 0x24;
const LC_BUILD_VERSION = 0x32;
const PLATFORM_MACOS = 1;
const INIT_SYMBOL = '_napi_register_module_v1';

const versionString = (v) => `${v >>> 16}.${(v >> 8) & 0xff}.${v & 0xff}`;
const versionNumber = (s) => {
  const [major = 0, minor = 0, patch = 0] = s.split('.').map(Number);
  return (major << 16) | (minor << 8) | patch;
};

/** The header and load commands of a 64-bit little-endian Mach-O file. */
export function readMachO(bytes) {
  if (bytes.length < 32 || bytes.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a 64-bit little-endian Mach-O file');
  const info = { cpuType: bytes.readUInt32LE(4), fileType: bytes.readUInt32LE(12), buildVersion: null, minVersion: null, codeSignature: false, dylibs: [] };
  const ncmds = bytes.readUInt32LE(16);
  let at = 32;
  for (let i = 0; i < ncmds; i++) {
    const cmd = bytes.readUInt32LE(at) & 0x7fffffff;
    const size = bytes.readUInt32LE(at + 4);
    if (cmd === LC_BUILD_VERSION) info.buildVersion = { platform: bytes.readUInt32LE(at + 8), minos: bytes.readUInt32LE(at + 12), sdk: bytes.readUInt32LE(at + 16) };
    if (cmd === LC_VERSION_MIN_MACOSX) info.minVersion = bytes.readUInt32LE(at + 8);
    if (cmd === LC_CODE_SIGNATURE) info.codeSignature = true;
    if (cmd === LC_LOAD_DYLIB) {
      const nameAt = at + bytes.readUInt32LE(at + 8);
      info.dylibs.push(bytes.toString('latin1', nameAt, bytes.indexOf(0, nameAt)));
    }
    if (size < 8) throw new Error(`load command ${i} has size ${size}`);
    at += size;
  }
  return info;
}

/**
 * { symbol: dylib } from `llvm-objdump --macho --bind --lazy-bind`: where dyld will look each
 * imported symbol up. 'flat-namespace' is the dynamic lookup -undefined dynamic_lookup asks for:
 * any loaded image, here the node executable, may define it.
 */
export function parseBindTables(text) {
  const where = {};
  for (const line of text.split('\n')) {
    const m = /^\S+\s+\S+\s+0x[0-9A-Fa-f]+\s+(?:\S+\s+-?\d+\s+)?(\S+)\s+(\S+)\s*$/.exec(line.trim());
    if (m && !/^(segment|address)$/.test(m[1])) where[m[2]] = m[1];
  }
  return where;
}

/** [{ name, undefined, how }] from `llvm-nm -m` lines such as "(undefined) external _napi_x (from libSystem)". */
export function parseNmM(text) {
  const symbols = [];
  for (const line of text.split('\n')) {
    const m = /^(?:[0-9a-f]+\s+)?\s*\(([^)]*)\)\s+(?:\[[^\]]*\]\s+)?(?:non-)?external\s+(\S+)(?:\s+\((.+)\))?/.exec(line.trim());
    if (m) symbols.push({ section: m[1], name: m[2], undefined: m[1] === 'undefined', how: m[3] ?? '' });
  }
  return symbols;
}

function main(argv) {
  const valueOf = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const arch = valueOf('--arch');
  const minMacos = valueOf('--min-macos') ?? '11.0';
  const valueAt = new Set(['--arch', '--min-macos'].map((n) => argv.indexOf(n) + 1).filter((i) => i > 0));
  const file = argv.find((a, i) => !a.startsWith('--') && !valueAt.has(i));
  if (!file || !(arch in CPU_TYPES)) {
    console.error('usage: node scripts/check-macho-addon.mjs --arch x64|arm64 [--min-macos 11.0] <file.node>');
    return 2;
  }
  const problems = [];
  let info;
  try {
    info = readMachO(readFileSync(file));
  } catch (err) {
    console.error(`check-macho-addon: ${file}: ${err.message}`);
    return 1;
  }
  if (info.cpuType !== CPU_TYPES[arch]) problems.push(`CPU type 0x${info.cpuType.toString(16)}, expected ${arch} (0x${CPU_TYPES[arch].toString(16)})`);
  if (!FILE_TYPES[info.fileType]) problems.push(`file type ${info.fileType} is not a bundle or dylib`);
  const minos = info.buildVersion?.minos ?? info.minVersion;
  if (info.buildVersion && info.buildVersion.platform !== PLATFORM_MACOS) problems.push(`LC_BUILD_VERSION platform ${info.buildVersion.platform} is not macOS (1)`);
  if (minos === null || minos === undefined) problems.push('no LC_BUILD_VERSION / LC_VERSION_MIN_MACOSX: the minimum macOS is unknown');
  else if (minos > versionNumber(minMacos)) problems.push(`minos ${versionString(minos)} is newer than the floor ${minMacos}`);
  if (arch === 'arm64' && !info.codeSignature) problems.push('no LC_CODE_SIGNATURE: Apple Silicon refuses unsigned code');
  const foreign = info.dylibs.filter((d) => !/^\/usr\/lib\/(libSystem|libc\+\+|libc\+\+abi)\b/.test(d) && !d.startsWith('/System/Library/'));
  if (foreign.length) problems.push(`links dylibs a Mac does not have: ${foreign.join(', ')}`);

  const symbols = parseNmM(execFileSync('llvm-nm', ['-m', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
  const init = symbols.find((s) => s.name === INIT_SYMBOL && !s.undefined);
  if (!init || !/__TEXT,__text/.test(init.section)) problems.push(`does not export ${INIT_SYMBOL} from __TEXT,__text`);
  const napi = symbols.filter((s) => s.undefined && /^_napi_|^_node_api_/.test(s.name));
  if (napi.length === 0) problems.push('calls no N-API function: not an addon');
  const binds = parseBindTables(execFileSync('llvm-objdump', ['--macho', '--bind', '--lazy-bind', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
  const notDynamic = napi.filter((s) => binds[s.name] !== 'flat-namespace');
  if (notDynamic.length) problems.push(`N-API symbols not bound by dynamic (flat-namespace) lookup: ${notDynamic.slice(0, 5).map((s) => `${s.name} (${binds[s.name] ?? 'not in the bind tables'})`).join(', ')}`);
  const otherFlat = Object.entries(binds).filter(([name, dylib]) => dylib === 'flat-namespace' && !/^_napi_|^_node_api_/.test(name));
  if (otherFlat.length) problems.push(`non-N-API symbols left to dynamic lookup (undefined at link time): ${otherFlat.slice(0, 5).map(([n]) => n).join(', ')}`);

  if (problems.length) {
    console.error(`check-macho-addon: ${file} (${arch}):\n  ${problems.join('\n  ')}`);
    return 1;
  }
  console.log(
    `check-macho-addon: ok: ${file}: Mach-O ${FILE_TYPES[info.fileType]} ${arch}, minos ${versionString(minos)}` +
      `${info.buildVersion ? ` (LC_BUILD_VERSION, sdk ${versionString(info.buildVersion.sdk)})` : ''}, exports ${INIT_SYMBOL}, ` +
      `${napi.length} N-API symbols bound by flat-namespace lookup; links ${info.dylibs.join(', ') || 'no dylib'}${info.codeSignature ? '; code signature present' : ''}`,
  );
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
