#!/usr/bin/env node
// An image classification endpoint on node:http with dynamic batching.
//
//   npm run build && node examples/http-server/server.mjs --port 8080
//   curl --data-binary @samples/0000-ankle-boot.png http://127.0.0.1:8080/classify?top=3
//
// POST /classify takes the image as the raw request body (any format sharp reads) and answers
// { top: [{ label, index, probability }...], batchSize } where batchSize is how many requests
// shared the forward pass. GET /health answers { ok, model }. Options: --model, --labels,
// --max-batch (32), --max-wait-ms (2), --top (5), --host (127.0.0.1), --port (8080; 0 = any free).
import http from 'node:http';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ImageClassifier } from '../../dist/image/classifier.js';
import { DynamicBatcher } from './batcher.mjs';

const MAX_BODY_BYTES = 10 * 1024 * 1024;

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads the whole body, refusing more than MAX_BODY_BYTES. Resolves undefined when it was too large. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * @param {{ classifier: ImageClassifier, maxBatch?: number, maxWaitMs?: number, top?: number }} options
 * @returns {{ server: http.Server, batcher: DynamicBatcher }}
 */
export function createClassifierServer({ classifier, maxBatch = 32, maxWaitMs = 2, top = 5 }) {
  if (!Number.isInteger(top) || top < 1) throw new RangeError(`top must be a positive integer, got ${top}`);
  const maxTop = top;
  // Every batch asks for maxTop labels; each request then keeps as many as it asked for.
  const batcher = new DynamicBatcher((uploads) => classifier.classify(uploads, maxTop), { maxBatch, maxWaitMs });
  let uploads = 0;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname === '/health' && req.method === 'GET') return sendJson(res, 200, { ok: true, model: classifier.modelName });
      if (url.pathname !== '/classify') return sendJson(res, 404, { error: `no route ${url.pathname}; POST an image to /classify` });
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST the image bytes as the request body' });
      const k = url.searchParams.has('top') ? Number(url.searchParams.get('top')) : maxTop;
      if (!Number.isInteger(k) || k < 1 || k > maxTop) return sendJson(res, 400, { error: `top must be a whole number from 1 to ${maxTop}` });
      const body = await readBody(req);
      if (body === undefined) return sendJson(res, 413, { error: `the image is larger than ${MAX_BODY_BYTES} bytes` });
      if (body.length === 0) return sendJson(res, 400, { error: 'the request body is empty; send the image bytes' });
      const name = req.headers['x-filename'] ?? `upload ${++uploads}`;
      const { result, batchSize } = await batcher.submit({ name: String(name), data: body });
      if (!result.ok) return sendJson(res, 400, { error: result.error });
      return sendJson(res, 200, { top: result.top.slice(0, k), batchSize });
    } catch (error) {
      return sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
    }
  });
  return { server, batcher };
}

async function main() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      labels: { type: 'string' },
      'max-batch': { type: 'string', default: '32' },
      'max-wait-ms': { type: 'string', default: '2' },
      top: { type: 'string', default: '5' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8080' },
    },
  });
  const classifier = await ImageClassifier.load({ model: values.model, labels: values.labels });
  const { server } = createClassifierServer({
    classifier,
    maxBatch: Number(values['max-batch']),
    maxWaitMs: Number(values['max-wait-ms']),
    top: Number(values.top),
  });
  server.listen(Number(values.port), values.host, () => {
    const { address, port } = server.address();
    // Scripts (bench.mjs) read the port from this line.
    console.log(`listening on http://${address}:${port}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error) => {
    console.error(`http-server: ${error.message}`);
    process.exit(1);
  });
}
