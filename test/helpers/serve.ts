/** Starting a convnode server on a free loopback port for a test, and reading its answers. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type ConvnodeServer, type CreateServerOptions } from '../../lib/serve/index.js';

export const samplesDir = fileURLToPath(new URL('../../samples', import.meta.url));
export const sampleFiles = readdirSync(samplesDir).filter((f) => f.endsWith('.png')).sort();
export const sampleBodies = sampleFiles.map((f) => readFileSync(join(samplesDir, f)));

export interface Running {
  readonly server: ConvnodeServer;
  readonly url: string;
  close(): Promise<void>;
}

export async function startServer(options: CreateServerOptions = {}): Promise<Running> {
  const server = await createServer(options);
  const url = await server.listen(0, '127.0.0.1');
  await server.loaded;
  return {
    server,
    url,
    async close() {
      server.app.server.closeAllConnections();
      await server.app.close();
    },
  };
}

export async function answer(response: Response): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, headers: response.headers };
}

/** An error answer must be exactly { error, code }: no stack, no path, nothing else. */
export function expectCleanError(body: Record<string, unknown>): void {
  if (Object.keys(body).sort().join(',') !== 'code,error') throw new Error(`error body has keys ${Object.keys(body).join(', ')}`);
  const message = String(body.error);
  if (/\/(work|home|usr|tmp|etc)\/|\.(js|ts|cc|node):\d|\n\s+at |node_modules/.test(message)) throw new Error(`error leaks internals: ${message}`);
}

/**
 * Waits for a state the test needs (a request queued, a connection gone), polling between
 * turns of the event loop. limitMs only bounds how long a broken server can hang the test:
 * no test asserts on how long anything took.
 */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const giveUpAt = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
