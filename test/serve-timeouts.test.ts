// Slow and stalled clients: a client that sends its headers and then trickles or stalls its body,
// and one that never finishes its headers, are cut off by the header and request timeouts,
// without holding a batch slot, while other clients are served normally.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, sampleBodies, startServer, type Running } from './helpers/serve.js';

let running: Running;
let port: number;

beforeAll(async () => {
  running = await startServer({ headersTimeoutMs: 500, requestTimeoutMs: 1000, keepAliveTimeoutMs: 500, models: [{ name: 'lenet5' }] });
  port = Number(new URL(running.url).port);
});

afterAll(() => running.close());

/**
 * Opens a socket and writes `first` (trickling: then one byte every 100 ms); `written` resolves
 * once `first` is on the wire, `closed` once the socket closed, with what the server replied.
 * The client never ends or destroys the socket: only the server can close it, so a server
 * that never cuts a client off leaves `closed` pending and the test fails on vitest's timeout.
 */
function stalled(first: string, trickle = false): { written: Promise<void>; closed: Promise<{ reply: string }> } {
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => (wrote = resolve));
  const closed = new Promise<{ reply: string }>((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(first, () => wrote()));
    let reply = '';
    let open = true;
    const drip = () => {
      if (!open) return;
      socket.write('x', () => setTimeout(drip, 100));
    };
    if (trickle) void written.then(drip);
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      open = false;
      resolve({ reply });
    });
  });
  return { written, closed };
}

describe('slow clients', () => {
  it('cuts off 50 stalled bodies, 10 trickled ones and a client with partial headers, and keeps serving others', async () => {
    const headers = (n: number) =>
      `POST /v1/models/lenet5/classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100000\r\nX-Client: ${n}\r\n\r\npartial`;
    const clients = [
      ...Array.from({ length: 50 }, (_, i) => stalled(headers(i))),
      ...Array.from({ length: 10 }, (_, i) => stalled(headers(100 + i), true)),
      stalled('POST /v1/models/lenet5/classify HTTP/1.1\r\nHost: x\r\nContent-Ty'),
    ];
    // Once every stalled client has sent what it will send, a normal client is answered, and no
    // batch slot is held for the stalled ones.
    await Promise.all(clients.map((c) => c.written));
    const normal = await answer(await fetch(`${running.url}/v1/models/lenet5/classify`, { method: 'POST', body: sampleBodies[0], headers: { 'content-type': 'image/png' } }));
    expect(normal.status).toBe(200);
    expect(running.server.models.get('lenet5')!.batcher.queueDepth).toBe(0);

    // The server's request timeout closes every one of them (a client here never closes its
    // socket; the old example kept them for 30 s and more), with a 408 where node could still answer.
    const closed = await Promise.all(clients.map((c) => c.closed));
    expect(closed.filter((c) => c.reply.startsWith('HTTP/1.1 408')).length).toBeGreaterThan(0);
    expect(running.server.inFlight).toBe(0);
  });

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', async () => {
    // Answered, then left idle on a keep-alive connection: the server must close it.
    const idle = await stalled('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n').closed;
    expect(idle.reply).toMatch(/^HTTP\/1.1 200/);
    expect(idle.reply).toMatch(/keep-alive/i);
  });
});
