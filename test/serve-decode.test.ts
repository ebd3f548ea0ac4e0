// Image decoding in the server: the gate that makes large images decode one at a time (so they
// cannot occupy every decoder thread while small images wait), and the header-only pixel check.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { resolveImageOptions } from '../lib/image/options.js';
import { DecodeGate, decodeImage } from '../lib/serve/decode.js';
import { ServeError } from '../lib/serve/errors.js';

describe('DecodeGate', () => {
  it('lets one in at a time, in arrival order', async () => {
    const gate = new DecodeGate();
    const order: string[] = [];
    await gate.enter();
    const second = gate.enter().then(() => order.push('second'));
    const third = gate.enter().then(() => order.push('third'));
    // However many turns the event loop makes, no waiter enters while the gate is held.
    for (let turn = 0; turn < 50; turn++) await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    gate.leave();
    await second;
    expect(order).toEqual(['second']);
    gate.leave();
    await third;
    expect(order).toEqual(['second', 'third']);
    gate.leave();
    await gate.enter(); // free again: enters at once
  });

  it('a waiter whose deadline passes leaves the line', async () => {
    const gate = new DecodeGate();
    await gate.enter();
    const controller = new AbortController();
    const gone = gate.enter(controller.signal);
    const next = gate.enter();
    controller.abort(new Error('deadline'));
    await expect(gone).rejects.toThrow('deadline');
    gate.leave();
    await next; // the aborted waiter did not take the turn
  });
});

describe('decodeImage', () => {
  const image = resolveImageOptions({ preset: 'grayscale28' });
  it('refuses an image over the pixel limit from its header, and decodes a large one under it', async () => {
    const big = await sharp({ create: { width: 2500, height: 2000, channels: 3, background: '#808080' } }).png().toBuffer();
    await expect(decodeImage(big, 'big.png', image, { maxPixels: 4_999_999, failOn: 'error' })).rejects.toMatchObject({ statusCode: 413, code: 'IMAGE_TOO_LARGE' });
    const row = await decodeImage(big, 'big.png', image, { maxPixels: 5_000_000, failOn: 'error' });
    expect(row.data).toHaveLength(28 * 28);
    expect(row.data[0]).toBeCloseTo(128 / 255, 5);
    expect(row.warnings).toEqual([]);
  });

  it('an empty or unreadable body is a 400 naming the image', async () => {
    const limits = { maxPixels: 1e6, failOn: 'error' as const };
    await expect(decodeImage(new Uint8Array(0), 'a.png', image, limits)).rejects.toEqual(new ServeError(400, 'INVALID_IMAGE', "image 'a.png' is empty (0 bytes)"));
    await expect(decodeImage(Buffer.from('hello'), 'b.png', image, limits)).rejects.toMatchObject({ statusCode: 400, code: 'INVALID_IMAGE', message: /'b.png' is not in a format/ });
  });
});
