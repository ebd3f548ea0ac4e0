/**
 * The native stride-2 depthwise convs on wide rows (3x3 with left pad 0 or 1 and 5x5 with left pad
 * 2: rows split in-lane on AVX-512, native/kernels/f32-dwconv/dwconv-s2-split-avx512.inc; 3x3 with
 * left pad 2 and 5x5 with left pad 1: split by permutes, dwconv-s2-permute-avx512.inc; the other
 * ISAs' row kernels) on every ISA this CPU has,
 * against the pure-JS path on the same inputs: MobileNetV2 / MnasNet / EfficientNet planes (3x3/2
 * @112 and @56, 5x5/2 @56, pads 1 and 2; a few planes each, the kernels work plane by plane at
 * this size), every left pad the permute form takes (3x3 0..2, 5x5 1..2) and one it does not (5x5
 * pad 0), rows whose last 32 columns run past the input (odd widths, 33, 57, 130), a span of 4
 * vectors and a masked tail (130 wide), batch 2, residual, activations with and without a vector
 * form, and 1, 2 and 8 threads (planes cut into row bands). Every output starts as NaN, so a column
 * or row the kernel skips fails.
 */
import type { Activation } from '../lib/backends/backend.js';
import { describeDepthwiseAgainstJs, type DepthwiseCase } from './depthwise-support.js';

const base = { batch: 1, stride: 2, residual: false, activation: { kind: 'relu6' } as Activation };
const CASES: DepthwiseCase[] = [
  { ...base, name: 'MobileNetV2 3x3/2 @56 (16 of its 144 planes), pad 1', channels: 16, size: [56, 56], kernel: 3, padding: 1 },
  { ...base, name: 'MnasNet 5x5/2 @56 (8 of 72 planes), pad 2', channels: 8, size: [56, 56], kernel: 5, padding: 2, activation: { kind: 'relu' } },
  { ...base, name: 'EfficientNet 5x5/2 @56, SiLU (no vector form: a pass after)', channels: 6, size: [56, 56], kernel: 5, padding: 2, activation: { kind: 'silu' } },
  { ...base, name: '3x3/2 left pad 0 (TF "same" on an even map), residual', channels: 5, size: [20, 40], kernel: 3, padding: [0, 0, 1, 1], residual: true },
  { ...base, name: '3x3/2 left pad 2, odd width 57', channels: 3, size: [11, 57], kernel: 3, padding: [1, 2, 1, 0], activation: { kind: 'hardSwish' } },
  { ...base, name: '5x5/2 left pad 1, width 33, batch 2', batch: 2, channels: 4, size: [13, 33], kernel: 5, padding: [2, 1, 2, 3], residual: true, activation: { kind: 'none' } },
  { ...base, name: '5x5/2 left pad 0 (the row kernel), width 50', channels: 3, size: [9, 50], kernel: 5, padding: 0, activation: { kind: 'sigmoid' } },
  { ...base, name: '3x3/2 from 112 wide (MobileNetV2 96@112: 4 vectors, the last masked), residual', channels: 4, size: [10, 112], kernel: 3, padding: 1, residual: true },
  { ...base, name: '3x3/2 130 wide, TF "same" (left pad 0): a span of 4 vectors + a masked tail, batch 2', batch: 2, channels: 3, size: [9, 130], kernel: 3, padding: [0, 0, 1, 1], activation: { kind: 'relu' } },
  { ...base, name: '3x3/2 129 wide, pad 1, SiLU (a pass after), odd height', channels: 5, size: [23, 129], kernel: 3, padding: 1, activation: { kind: 'silu' } },
  { ...base, name: '5x5/2 112 wide, pad 2 (2-vector spans + a masked tail), hardSwish, residual', channels: 3, size: [11, 112], kernel: 5, padding: 2, residual: true, activation: { kind: 'hardSwish' } },
  // Inputs up to 32 wide with pad 1 (AVX-512: a vector per output row from three permutes of each
  // input row, dwconv-s2-rows-avx512.inc; ymm rows up to 8 outputs)
  { ...base, name: 'MobileNetV2 3x3/2 192@28 -> 14 (20 planes), residual, batch 2', batch: 2, channels: 20, size: [28, 28], kernel: 3, padding: 1, residual: true },
  { ...base, name: 'MobileNetV2 3x3/2 576@14 -> 7 (24 planes)', channels: 24, size: [14, 14], kernel: 3, padding: 1 },
  { ...base, name: '3x3/2 32 wide, odd height 27, SiLU', channels: 5, size: [27, 32], kernel: 3, padding: 1, activation: { kind: 'silu' } },
  { ...base, name: '3x3/2 33 wide (past the form: channels in lanes / row kernel)', channels: 3, size: [9, 33], kernel: 3, padding: 1 },
  { ...base, name: '3x3/2 pad 1 left, 0 right, 16 wide -> 8, sigmoid', channels: 4, size: [16, 16], kernel: 3, padding: [1, 1, 0, 0], activation: { kind: 'sigmoid' } },
  { ...base, name: '3x3/2 17 wide -> 9 (zmm rows), 2 rows, residual', channels: 3, size: [3, 17], kernel: 3, padding: 1, residual: true, activation: { kind: 'none' } },
  { ...base, name: '3x3/2 1 wide, 5 high', channels: 2, size: [5, 1], kernel: 3, padding: 1 },
];

describeDepthwiseAgainstJs('native stride-2 depthwise on wide rows vs the pure-JS path', CASES);
