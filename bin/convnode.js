#!/usr/bin/env node
// The `convnode` command; the work is in lib/cli (compiled to dist/cli).
import { runCli } from '../dist/cli/main.js';

// `convnode classify dir | head` closes the pipe early: stop quietly, as Unix tools do.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2));
