// Replicas of `convnode serve` behind HAProxy on 127.0.0.1, for the scale-out test and the load
// benchmark. HAProxy health-checks each replica on /v2/health/ready and retries a request on
// another replica when a connection fails or a replica answers nothing (SIGKILL mid-request) or
// 503 (its queue is full, or it is draining).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../bin/convnode.js', import.meta.url));

// Every process started here dies with this one, even when a run fails half way.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `convnode serve` on `port`; resolves once its models are warm. */
export function startReplica(port, args = []) {
  const child = track(spawn(process.execPath, [cli, 'serve', '--port', String(port), '--log-level', 'info', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let log = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.stdout.on('data', (chunk) => (log += chunk));
  child.stderr.on('data', (chunk) => (log += chunk));
  let gone;
  void exited.then(({ code, signal }) => (gone = `replica on ${port} exited (${code ?? signal}) before it was ready:\n${log.slice(-2000)}`));
  // Ready means what HAProxy checks: /v2/health/ready answers 200 (every model loaded and warm).
  const ready = (async () => {
    for (;;) {
      if (gone) throw new Error(gone);
      if (await fetch(`http://127.0.0.1:${port}/v2/health/ready`).then((r) => r.ok, () => false)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { child, port, ready, exited, log: () => log };
}

/** HAProxy in front of the given replica ports; resolves once it listens. */
export async function startHaproxy(replicaPorts, { retries = true } = {}) {
  const port = await freePort();
  const statsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'convnode-haproxy-'));
  const config = `
global
  maxconn 1024

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  # A failed attempt is retried up to 3 times, each on another replica (redispatch); the bodies
  # are small images, buffered so they can be sent again.
${retries ? `  retries 3
  option redispatch 1
  option http-buffer-request
  retry-on conn-failure empty-response response-timeout 503` : '  retries 0'}

frontend convnode
  bind 127.0.0.1:${port}
  default_backend replicas

backend replicas
  balance roundrobin
  option httpchk GET /v2/health/ready
  http-check expect status 200
  # Down after 3 failed checks 300 ms apart, each given 2 s: a replica busy with a large batch on
  # a loaded host still answers in time, and a dead one is skipped within a second (requests
  # that hit it before that are retried elsewhere).
  timeout check 2s
  default-server inter 300ms fall 3 rise 2
${replicaPorts.map((p, i) => `  server r${i} 127.0.0.1:${p} check`).join('\n')}

frontend stats
  bind 127.0.0.1:${statsPort}
  stats enable
  stats uri /stats
`;
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const child = track(spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let log = '';
  child.stdout.on('data', (c) => (log += c));
  child.stderr.on('data', (c) => (log += c));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${statsPort}/stats;csv`).then((r) => r.ok, () => false);
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: `http://127.0.0.1:${port}`, exited, log: () => log, stats: () => haproxyStats(statsPort) };
}

/** Per-server rows of HAProxy's CSV stats: status, requests sent (stot), retries (wretr), redispatches (wredis). */
async function haproxyStats(statsPort) {
  const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text();
  const [header, ...rows] = csv.trim().split('\n');
  const names = header.replace(/^# /, '').split(',');
  return rows
    .map((row) => Object.fromEntries(row.split(',').map((v, i) => [names[i], v])))
    .filter((r) => r.pxname === 'replicas')
    .map((r) => ({ server: r.svname, status: r.status, requests: Number(r.stot), retries: Number(r.wretr || 0), redispatches: Number(r.wredis || 0) }));
}
