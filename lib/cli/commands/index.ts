/** Every `convnode` command. Adding one is one import and one entry here. */
import type { Command } from '../command.js';
import { bench } from './bench.js';
import { classify } from './classify.js';
import { serve } from './serve.js';
import { summary } from './summary.js';
import { visualize } from './visualize.js';

export const COMMANDS: readonly Command[] = [classify, summary, bench, visualize, serve];
