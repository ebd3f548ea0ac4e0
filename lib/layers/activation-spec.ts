import { ParameterError } from '../errors.js';
import type { Activation, ActivationKind } from '../backends/backend.js';
import { NO_ACTIVATION } from '../backends/backend.js';

const KINDS: readonly ActivationKind[] = ['none', 'relu', 'relu6', 'leakyRelu', 'hardSwish', 'sigmoid'];

/** Reads an activation option given as a kind ('relu') or an object ({ kind: 'leakyRelu', alpha: 0.1 }). */
export function toActivation(value: ActivationKind | Activation | undefined, owner: string): Activation {
  if (value === undefined) return NO_ACTIVATION;
  const activation: Activation = typeof value === 'string' ? { kind: value } : value;
  if (activation === null || typeof activation !== 'object' || !KINDS.includes(activation.kind)) {
    throw new ParameterError(`${owner}: activation must be one of ${KINDS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  if (activation.alpha !== undefined && !Number.isFinite(activation.alpha)) {
    throw new ParameterError(`${owner}: activation alpha must be a finite number, got ${String(activation.alpha)}`);
  }
  return activation;
}

/** A key that tells prepared kernels with different fused activations apart. */
export function activationKey(activation: Activation): string {
  return activation.kind === 'leakyRelu' ? `leakyRelu:${activation.alpha ?? 0.01}` : activation.kind;
}
