#!/usr/bin/env node
// convnode's inference server from code: the built-in LeNet-5 plus an ONNX model of your own,
// each with dynamic batching. `npx convnode serve` does the same from the command line.
//   npm run build && PORT=8080 node examples/http-server/server.mjs [m.onnx labels.txt]
import { createServer, installSignalDrain } from '../../dist/serve/index.js'; // 'convnode/serve' in your project

const [model, labels] = process.argv.slice(2);
const models = [{ name: 'lenet5', maxBatch: 32, maxWaitMs: 2 }, ...(model ? [{ name: 'mine', model, labels, preset: 'imagenet' }] : [])];
const server = await createServer({ models, logger: { level: 'info' } });
installSignalDrain(server); // SIGTERM / SIGINT: drain, then exit
await server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1');
await server.loaded;
