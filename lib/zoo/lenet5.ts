/**
 * LeNet-5 as the lecture builds it on a 3 x 32 x 32 input: two conv(5x5) -> ReLU -> maxpool(2)
 * stages with 6 and 16 filters, then a 400-120-84-10 classifier. 62,006 parameters.
 */
import { ReLU } from '../layers/activations.js';
import { Conv2d } from '../layers/conv.js';
import { Flatten, Linear } from '../layers/linear.js';
import { MaxPool2d } from '../layers/pool.js';
import { checkOptionNames } from '../options.js';
import { Sequential } from '../layers/sequential.js';

export interface LeNet5Options {
  /** Input channels (default 3 as in the lecture; 1 for grayscale). */
  inChannels?: number;
  /** Classes (default 10). */
  numClasses?: number;
}

export function lenet5(options: LeNet5Options = {}): Sequential {
  checkOptionNames(options, ['inChannels', 'numClasses'], 'lenet5');
  const inChannels = options.inChannels ?? 3;
  const numClasses = options.numClasses ?? 10;
  return new Sequential([
    new Conv2d({ inChannels, outChannels: 6, kernelSize: 5 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: 6, outChannels: 16, kernelSize: 5 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Flatten(),
    new Linear({ inFeatures: 16 * 5 * 5, outFeatures: 120 }),
    new ReLU(),
    new Linear({ inFeatures: 120, outFeatures: 84 }),
    new ReLU(),
    new Linear({ inFeatures: 84, outFeatures: numClasses }),
  ]);
}
