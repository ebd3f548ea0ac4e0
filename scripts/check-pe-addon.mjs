#!/usr/bin/env node
// Checks the Windows prebuild's PE headers before wine runs it:
//   - PE32+ x86-64 DLL exporting napi_register_module_v1;
//   - its N-API functions imported from NODE.EXE (node-api-headers' def file, via the import
//     library prebuild-zig.mjs makes), so the running node.exe resolves them;
//   - every other import is a DLL every Windows 10 has (KERNEL32, the UCRT api sets ...): no
//     libc++ / libwinpthread / libgcc DLL from the build machine.
// Uses GNU objdump (binutils reads pe-x86-64).
//
// Usage: node scripts/check-pe-addon.mjs <file.node>
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const INIT_SYMBOL = 'napi_register_module_v1';
const SYSTEM_DLL = /^(kernel32|ntdll|advapi32|user32|ws2_32|bcrypt|shell32|ole32|dbghelp|msvcrt|ucrtbase|api-ms-win-[a-z0-9-]+)\.dll$/i;

/** { dlls: { NAME: [functions] }, exports: [names] } from `objdump -p` of a PE file. */
export function parsePeImports(text) {
  const dlls = {};
  let current = null;
  let inExports = false;
  const exports = [];
  for (const line of text.split('\n')) {
    const dll = /^\s*DLL Name: (\S+)/.exec(line);
    if (dll) {
      current = dlls[dll[1]] = [];
      inExports = false;
      continue;
    }
    if (/^\[Ordinal\/Name Pointer\] Table/.test(line.trim())) {
      inExports = true;
      current = null;
      continue;
    }
    if (inExports) {
      const e = /^\s*\[\s*\d+\]\s+(\S+)/.exec(line);
      if (e) exports.push(e[1]);
      else if (line.trim() === '') inExports = false;
      continue;
    }
    // Import lines: "\t<hint/ordinal>  <hint>  <name>" (columns differ between binutils versions).
    const imp = /^\s+[0-9a-f]+\s+(?:[0-9a-f]+\s+)?([A-Za-z_?@$][\w?@$.]*)\s*$/.exec(line);
    if (current && imp) current.push(imp[1]);
    if (line.trim() === '') current = null;
  }
  return { dlls, exports };
}

function main(argv) {
  const file = argv.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: node scripts/check-pe-addon.mjs <file.node>');
    return 2;
  }
  const problems = [];
  const headers = execFileSync('objdump', ['-f', file], { encoding: 'utf8' });
  if (!/file format pei-x86-64/.test(headers)) problems.push(`not a PE32+ x86-64 image (${/file format (\S+)/.exec(headers)?.[1] ?? 'unknown'})`);
  const privateHeaders = execFileSync('objdump', ['-p', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  // IMAGE_FILE_DLL (0x2000) in the COFF characteristics; objdump prints the word "DLL" under them.
  const characteristics = Number(/^Characteristics\s+(0x[0-9a-f]+)/m.exec(privateHeaders)?.[1] ?? 0);
  if (!(characteristics & 0x2000)) problems.push('not a DLL (IMAGE_FILE_DLL is not set)');
  const { dlls, exports } = parsePeImports(privateHeaders);
  if (!exports.includes(INIT_SYMBOL)) problems.push(`does not export ${INIT_SYMBOL}`);
  const nodeDll = Object.keys(dlls).find((d) => d.toLowerCase() === 'node.exe');
  const napi = nodeDll ? dlls[nodeDll].filter((f) => /^(napi|node_api)_/.test(f)) : [];
  if (napi.length === 0) problems.push('imports no N-API function from NODE.EXE');
  const foreign = Object.keys(dlls).filter((d) => d !== nodeDll && !SYSTEM_DLL.test(d));
  if (foreign.length) problems.push(`imports DLLs a Windows machine does not have: ${foreign.join(', ')}`);
  if (problems.length) {
    console.error(`check-pe-addon: ${file}:\n  ${problems.join('\n  ')}`);
    return 1;
  }
  console.log(`check-pe-addon: ok: ${file}: PE32+ x86-64 DLL exporting ${INIT_SYMBOL}; ${napi.length} N-API imports from ${nodeDll}; other DLLs: ${Object.keys(dlls).filter((d) => d !== nodeDll).join(', ')}`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
