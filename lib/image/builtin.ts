/**
 * The built-in model: LeNet-5 trained on Fashion-MNIST by scripts/train/train_lenet5_fashion.py,
 * shipped in models/ with its labels and a metadata file that states its preprocessing.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ParameterError } from '../errors.js';
import type { ImageOptions } from './options.js';

// lib/image/*.ts and dist/image/*.js are both two levels below the package root.
const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));

export const BUILTIN_MODEL_PATH = `${MODELS}lenet5-fashion.onnx`;
export const BUILTIN_LABELS_PATH = `${MODELS}lenet5-fashion.labels.txt`;
export const BUILTIN_METADATA_PATH = `${MODELS}lenet5-fashion.json`;

export interface BuiltinMetadata {
  readonly input: { readonly name: string; readonly shape: readonly (number | string)[]; readonly mean: number[]; readonly std: number[] };
  readonly testAccuracyTorch: number;
  readonly parameters: number;
}

export function readBuiltinMetadata(): BuiltinMetadata {
  return JSON.parse(readFileSync(BUILTIN_METADATA_PATH, 'utf8')) as BuiltinMetadata;
}

/** The preprocessing the built-in model was trained with, read from its metadata. */
export function builtinImageOptions(): ImageOptions {
  const { input } = readBuiltinMetadata();
  const [, , height, width] = input.shape as number[];
  return { size: [height, width], channels: 'grayscale', fit: 'crop', mean: input.mean, std: input.std };
}

/** A label file: one label per line; blank lines at the end are ignored, blank lines inside are not allowed. */
export function readLabels(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ParameterError(`labels file '${path}' cannot be read: ${(error as Error).message}`);
  }
  const labels = text.replace(/\r/g, '').replace(/\n+$/, '').split('\n');
  const blank = labels.findIndex((l) => l.trim() === '');
  if (blank !== -1) throw new ParameterError(`labels file '${path}': line ${blank + 1} is empty; give one label per line`);
  return labels.map((l) => l.trim());
}
