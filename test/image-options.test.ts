/**
 * Image preprocessing options are checked by name: a misspelt or guessed key ('sise', 'width',
 * torchvision's 'normalize') used to be ignored, so the image was silently preprocessed with the
 * preset's values instead of the caller's.
 */
import { describe, expect, it } from 'vitest';
import { ParameterError, resolveImageOptions } from '../lib/index.js';

describe('image options', () => {
  it('reject an unknown key, naming it and listing the known ones', () => {
    expect(() => resolveImageOptions({ sise: 32 } as never)).toThrow(ParameterError);
    expect(() => resolveImageOptions({ preset: 'imagenet', width: 320 } as never)).toThrow(
      "image option 'width' is unknown (the options are preset, size, fit, resizeShorter, channels, scale, mean, std, kernel)",
    );
  });

  it('still take every documented option, and a resolved object handed back in', () => {
    const resolved = resolveImageOptions({
      preset: 'imagenet',
      size: [32, 48],
      fit: 'stretch',
      resizeShorter: 40,
      channels: 'bgr',
      scale: 1,
      mean: [1, 2, 3],
      std: 2,
      kernel: 'nearest',
    });
    expect(resolved).toMatchObject({ height: 32, width: 48, fit: 'stretch', resizeShorter: 40, channels: 'bgr', channelCount: 3, scale: 1, kernel: 'nearest' });
    expect(resolved.mean).toEqual([1, 2, 3]);
    expect(resolved.std).toEqual([2, 2, 2]);
    expect(resolveImageOptions(resolved)).toBe(resolved);
  });
});
