/**
 * Checks on an option object (a layer's, loadOnnx's, the classifier's) that no single option's
 * own check covers: that every key is one the callee reads (a misspelt `strides` or PyTorch's
 * `kernel_size` would otherwise be ignored and the default used without a word), and that flags
 * are real booleans (the string 'false' is truthy).
 */
import { ParameterError } from './errors.js';

/** Throws when `options` holds a key outside `known`; the message lists what `type` takes. */
export function checkOptionNames(options: unknown, known: readonly string[], type: string, owner: string = type): void {
  if (options === null || typeof options !== 'object') return; // each caller reports a missing object itself
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ParameterError(`${owner}: unknown option '${key}' (${type} takes ${known.join(', ')})`);
    }
  }
}

/** Reads an optional boolean option, refusing anything but true, false or undefined. */
export function optionalBoolean(value: unknown, fallback: boolean, name: string, owner: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new ParameterError(`${owner}: ${name} must be true or false, got ${JSON.stringify(value)}`);
  }
  return value;
}
