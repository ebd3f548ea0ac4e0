/** A one-line progress bar on stderr, drawn only when stderr is a terminal (never in pipes, logs or CI). */
import type { CliIO } from './command.js';

export interface Progress {
  advance(done: number): void;
  finish(): void;
}

const SILENT: Progress = { advance() {}, finish() {} };

export function progressBar(io: CliIO, total: number, what: string): Progress {
  if (!io.stderr.isTTY || total <= 0) return SILENT;
  const began = Date.now();
  let shown = 0;
  const draw = (done: number) => {
    const width = Math.max(10, Math.min(40, (io.stderr.columns ?? 80) - 40));
    const filled = Math.round((done / total) * width);
    const seconds = ((Date.now() - began) / 1000).toFixed(1);
    io.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${what} ${seconds}s`);
  };
  return {
    advance(done) {
      shown = done;
      draw(done);
    },
    finish() {
      if (shown > 0) io.stderr.write('\r\x1b[K');
    },
  };
}
