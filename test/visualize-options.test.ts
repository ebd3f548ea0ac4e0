/**
 * The visualiser's option objects are checked by name like the layers': a misspelt 'zooom' or a
 * 'filters' for 'filter' used to be ignored, drawing with the defaults without a word.
 */
import { describe, expect, it } from 'vitest';
import { ParameterError, Tensor, convReluPool, renderFeatureMaps, renderStages } from '../lib/index.js';

const image = Tensor.from([[Array.from({ length: 8 }, (_, y) => Array.from({ length: 8 }, (_, x) => (x + y) % 3))]]);

describe('visualiser options', () => {
  it('renderFeatureMaps rejects an unknown option, naming it and listing the known ones', async () => {
    await expect(renderFeatureMaps(image, { zooom: 3 } as never)).rejects.toThrow(ParameterError);
    await expect(renderFeatureMaps(image, { zooom: 3 } as never)).rejects.toThrow(
      "renderFeatureMaps: unknown option 'zooom' (renderFeatureMaps takes colormap, normalize, zoom, columns, batchIndex, title)",
    );
  });

  it("convReluPool rejects 'filters' (the option is 'filter') and renderStages an unknown option", async () => {
    await expect(convReluPool(image, { filters: 'blur' } as never)).rejects.toThrow(/^convReluPool: unknown option 'filters'/);
    const stages = await convReluPool(image, { filter: 'blur', pool: 2 });
    // The documented options still work: a 3x3 blur of 8x8 is 6x6, pooled by 2 is 3x3.
    expect(stages.conv.shape).toEqual([1, 1, 6, 6]);
    expect(stages.pool.shape).toEqual([1, 1, 3, 3]);
    await expect(renderStages(stages, { scale: 2 } as never)).rejects.toThrow(/^renderStages: unknown option 'scale' \(renderStages takes zoom, batchIndex\)$/);
  });

  it('an empty batch is a ShapeError about the tensor, not a complaint about the batchIndex nobody gave', async () => {
    await expect(renderFeatureMaps(Tensor.zeros([0, 2, 3, 3]))).rejects.toThrow(/^renderFeatureMaps: tensor 0x2x3x3 has no pixels to draw$/);
    await expect(renderFeatureMaps(image, { batchIndex: 1 })).rejects.toThrow(/batchIndex must be an integer in \[0, 0\] for a batch of 1, got 1/);
  });
});
