#!/usr/bin/env node
// The `convnode` command; the work is in lib/cli (compiled to dist/cli).
import { runCli } from '../dist/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
