/**
 * The native 3x3 stride-1 depthwise convs with 'same' padding (on AVX-512, rows up to 256 wide read
 * each input row three times shifted and feed three output rows from it:
 * native/kernels/f32-dwconv/dwconv-shifted-avx512.inc; the other ISAs' forms) on every ISA this CPU
 * has, against the pure-JS path on the same inputs: MobileNetV2's maps (7x7, 14x14 and 28x28 runs
 * of whole planes, 56x56 and 112x112 in row bands: chunks of 4 + 3 vectors), widths at the form's
 * edges (8: a ymm row; 9, 16, 17: a zmm row, and one plus one lane; 256 and 257:
 * the widest taken and one past it), odd heights, 2-row maps, batch 2, residual, activations with
 * and without a vector form, and 1, 2 and 8 threads (planes cut into row bands). Every output
 * starts as NaN, so a row or column the kernel skips fails.
 */
import type { Activation } from '../lib/backends/backend.js';
import { describeDepthwiseAgainstJs, type DepthwiseCase } from './depthwise-support.js';

const base = { batch: 1, kernel: 3, stride: 1, padding: 1, residual: false, activation: { kind: 'relu6' } as Activation };
const CASES: DepthwiseCase[] = [
  { ...base, name: 'MobileNetV2 384@14 (24 of its planes), residual, batch 2', batch: 2, channels: 24, size: [14, 14], residual: true },
  { ...base, name: 'MobileNetV2 192@28 (20 planes)', channels: 20, size: [28, 28] },
  { ...base, name: 'MobileNetV2 144@56 (4 planes: row bands), SiLU (a pass after)', channels: 4, size: [56, 56], activation: { kind: 'silu' } },
  { ...base, name: 'MobileNetV2 32@112 (3 planes: 4 + 3 vectors a row), residual', channels: 3, size: [112, 112], residual: true },
  { ...base, name: '8 wide (ymm rows), hardSwish', channels: 17, size: [9, 8], activation: { kind: 'hardSwish' } },
  { ...base, name: '9 wide, odd height', channels: 13, size: [11, 9], activation: { kind: 'none' } },
  { ...base, name: '16 wide, 2 rows, residual', channels: 5, size: [2, 16], residual: true },
  { ...base, name: '17 wide (a vector and a lane), sigmoid, batch 2', batch: 2, channels: 3, size: [7, 17], activation: { kind: 'sigmoid' } },
  { ...base, name: '256 wide (16 vectors), relu', channels: 2, size: [5, 256], activation: { kind: 'relu' } },
  { ...base, name: '257 wide (the row kernel), residual', channels: 2, size: [4, 257], residual: true },
  { ...base, name: '130 wide, 1 row', channels: 3, size: [1, 130] },
  { ...base, name: 'MobileNetV2 960@7 (40 planes), residual, batch 2', batch: 2, channels: 40, size: [7, 7], residual: true },
  { ...base, name: '3 wide, 1 row, SiLU', channels: 5, size: [1, 3], activation: { kind: 'silu' } },
];

describeDepthwiseAgainstJs('native 3x3 stride-1 depthwise (shifted rows on AVX-512) vs the pure-JS path', CASES);
