/**
 * sharp, loaded on first use. Importing convnode then does not load libvips: startup stays fast
 * for users who never decode an image, and the layers and ONNX runtime keep working on CPUs or
 * systems where sharp's own binary cannot load.
 */
import type SharpModule from 'sharp';

type Sharp = typeof SharpModule;
let loading: Promise<Sharp> | undefined;

export function loadSharp(): Promise<Sharp> {
  loading ??= import('sharp').then((m) => m.default);
  return loading;
}
