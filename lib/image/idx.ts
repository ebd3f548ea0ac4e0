/**
 * The idx format of MNIST and Fashion-MNIST: a big-endian header (two zero bytes, a dtype code,
 * the rank, then one uint32 per dimension) followed by the data. Gzipped files are unzipped here.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ParameterError } from '../errors.js';

export interface IdxArray {
  readonly shape: readonly number[];
  /** Row-major unsigned bytes (the only dtype these data sets use). */
  readonly data: Uint8Array;
}

const UBYTE = 0x08;

export function parseIdx(bytes: Uint8Array, name = 'idx data'): IdxArray {
  if (bytes.length < 4) throw new ParameterError(`${name}: ${bytes.length} bytes is too short for an idx header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const zero = view.getUint16(0);
  const dtype = view.getUint8(2);
  const rank = view.getUint8(3);
  if (zero !== 0 || dtype !== UBYTE || rank === 0) {
    throw new ParameterError(`${name}: not an unsigned-byte idx file (header ${Buffer.from(bytes.subarray(0, 4)).toString('hex')})`);
  }
  const start = 4 + 4 * rank;
  if (bytes.length < start) throw new ParameterError(`${name}: header promises ${rank} dimensions but the file ends first`);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const size = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - start !== size) {
    throw new ParameterError(`${name}: shape [${shape.join(', ')}] needs ${size} bytes of data, the file has ${bytes.length - start}`);
  }
  return { shape, data: bytes.subarray(start) };
}

export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return parseIdx(bytes, path);
}
