// Ranking a model's output, the idx reader and label files: hand-worked values.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../lib/tensor.js';
import { readLabels } from '../lib/image/builtin.js';
import { parseIdx, readIdxFile } from '../lib/image/idx.js';
import { isDistribution, softmax, topPredictions } from '../lib/image/predictions.js';

describe('softmax and topPredictions', () => {
  it('softmax of [0, ln 3] is [1/4, 3/4] and survives huge logits', () => {
    expect([...softmax(new Float32Array([0, Math.log(3)]))].map((p) => +p.toFixed(6))).toEqual([0.25, 0.75]);
    const big = softmax(new Float32Array([1000, 1000, 1000 - Math.log(2)]));
    expect(big[0]).toBeCloseTo(0.4, 4); // 1000 - ln 2 is rounded to float32 (step 6e-5)
    expect(big[2]).toBeCloseTo(0.2, 4);
  });

  it('ranks classes best first, per row, with labels', () => {
    const logits = new Tensor([2, 3], [0, Math.log(3), Math.log(6), 5, 1, 1]);
    const [first, second] = topPredictions(logits, ['a', 'b', 'c'], 2);
    expect(first.map((p) => p.label)).toEqual(['c', 'b']);
    expect(first[0].probability).toBeCloseTo(0.6, 6);
    expect(first[1].probability).toBeCloseTo(0.3, 6);
    expect(second[0]).toMatchObject({ label: 'a', index: 0 });
    // A tie keeps the lower class index first.
    expect(second[1]).toMatchObject({ label: 'b', index: 1 });
  });

  it('does not softmax an output that already is a distribution', () => {
    expect(isDistribution(new Float32Array([0.1, 0.2, 0.7]))).toBe(true);
    expect(isDistribution(new Float32Array([0.1, 0.2, 0.6]))).toBe(false);
    expect(isDistribution(new Float32Array([-0.1, 0.4, 0.7]))).toBe(false);
    const [row] = topPredictions(new Tensor([1, 3, 1, 1], [0.1, 0.2, 0.7]), ['x', 'y', 'z'], 3);
    expect(row.map((p) => +p.probability.toFixed(6))).toEqual([0.7, 0.2, 0.1]);
  });

  it('names the mismatch when labels and classes disagree or the output is not [N, K]', () => {
    expect(() => topPredictions(new Tensor([1, 3], [1, 2, 3]), ['a', 'b'], 1)).toThrow(/scores 3 classes but 2 labels/);
    expect(() => topPredictions(new Tensor([1, 2, 2, 1], [1, 2, 3, 4]), ['a', 'b', 'c', 'd'], 1)).toThrow(/must be \[N, classes\]/);
  });
});

describe('idx files', () => {
  const header = (dims: number[]) => {
    const b = Buffer.alloc(4 + 4 * dims.length);
    b.writeUInt8(0x08, 2);
    b.writeUInt8(dims.length, 3);
    dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
    return b;
  };

  it('reads the header and data, gzipped or not', () => {
    const bytes = Buffer.concat([header([2, 2, 3]), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])]);
    const plain = parseIdx(bytes);
    expect(plain.shape).toEqual([2, 2, 3]);
    expect([...plain.data]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const file = join(mkdtempSync(join(tmpdir(), 'convnode-idx-')), 'x.gz');
    writeFileSync(file, gzipSync(bytes));
    expect([...readIdxFile(file).data]).toEqual([...plain.data]);
  });

  it('rejects a wrong dtype and a truncated file by name', () => {
    const float = header([1]);
    float.writeUInt8(0x0d, 2);
    expect(() => parseIdx(Buffer.concat([float, Buffer.alloc(4)]), 'f.idx')).toThrow(/f\.idx: not an unsigned-byte idx file/);
    expect(() => parseIdx(Buffer.concat([header([3, 2]), Buffer.from([1, 2, 3])]), 't.idx')).toThrow(/t\.idx: shape \[3, 2\] needs 6 bytes of data, the file has 3/);
  });
});

describe('label files', () => {
  it('reads one label per line, tolerating CRLF and a trailing newline, and rejects blank lines inside', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convnode-labels-'));
    writeFileSync(join(dir, 'ok.txt'), 'cat\r\ndog \r\nhot dog\n\n');
    expect(readLabels(join(dir, 'ok.txt'))).toEqual(['cat', 'dog', 'hot dog']);
    writeFileSync(join(dir, 'gap.txt'), 'cat\n\ndog\n');
    expect(() => readLabels(join(dir, 'gap.txt'))).toThrow(/gap\.txt': line 2 is empty/);
    expect(() => readLabels(join(dir, 'none.txt'))).toThrow(/labels file '.*none\.txt' cannot be read/);
  });

  it('the built-in labels are the ten Fashion-MNIST classes in order', () => {
    expect(readLabels(new URL('../models/lenet5-fashion.labels.txt', import.meta.url).pathname)).toEqual([
      'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
    ]);
  });
});
