/** Checked conversions of flag values; each failure is a UsageError naming the flag and the rule. */
import { UsageError } from './command.js';

export function positiveInt(flag: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > max) {
    throw new UsageError(`--${flag} must be a whole number from 1 to ${max}, got '${text}'`);
  }
  return n;
}

/** '0.5' or '0.485,0.456,0.406' -> numbers. */
export function numberList(flag: string, value: unknown): number[] | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const parts = text.split(',').map((p) => p.trim());
  const numbers = parts.map(Number);
  if (parts.some((p) => p === '') || numbers.some((n) => !Number.isFinite(n))) {
    throw new UsageError(`--${flag} must be a number or a comma-separated list of numbers (one per channel), got '${text}'`);
  }
  return numbers;
}

/** '224' -> [224, 224]; '32x48' -> [32, 48] (height x width). */
export function imageSize(flag: string, value: unknown): [number, number] | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const match = /^(\d+)(?:x(\d+))?$/.exec(text);
  const h = match ? Number(match[1]) : 0;
  const w = match ? Number(match[2] ?? match[1]) : 0;
  if (!match || h < 1 || w < 1 || h > 16384 || w > 16384) {
    throw new UsageError(`--${flag} must be a size like 224 or HEIGHTxWIDTH like 224x320 (1 to 16384), got '${text}'`);
  }
  return [h, w];
}

/** '1x3x32x32' -> [1, 3, 32, 32] (N x C x H x W). */
export function nchwShape(flag: string, value: unknown): number[] | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^\d+x\d+x\d+x\d+$/.test(text) || text.split('x').some((d) => Number(d) < 1)) {
    throw new UsageError(`--${flag} must be an NCHW shape of four positive whole numbers like 1x3x32x32, got '${text}'`);
  }
  return text.split('x').map(Number);
}
