// Runs inside the Windows node.exe under wine (scripts/check-win32-addon.mjs starts it with
// PREBUILDS_ONLY=1, so node-gyp-build takes prebuilds/win32-x64/convnode.node and never the
// Linux build/). For each ISA given: the native backend's conv / depthwise / pool / linear
// outputs against the pure-JS backend in the same process, and the built-in classifier's scores
// on the preprocessed samples against the Linux JS-backend scores in the fixture, with the
// labels the sample file names give. Prints one JSON line (to a file: wine's pipes upset Node).
//
// Usage (under wine): node.exe check-win32-probe.mjs <fixture.json> <isa,isa>
import { readFileSync } from 'node:fs';

const [fixturePath, isaList] = process.argv.slice(2);
const fixture = JSON.parse(readFileSync(fixturePath, 'utf8'));
const convnode = await import(new URL('../dist/index.js', import.meta.url).href);
const { Conv2d, DepthwiseConv2d, MaxPool2d, Linear, Tensor, setBackend, getBackend, setIsa, getIsa, availableIsas, ImageClassifier } = convnode;

const report = { platform: `${process.platform}-${process.arch}`, node: process.version, backend: getBackend(), available: availableIsas(), isas: {} };

function seeded(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const worstDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / Math.max(1, Math.abs(b[i]))), 0);

/** Each layer (its own random initial weights) run on the native backend, then on the JS one: the largest relative difference. */
async function layerParity() {
  const cases = {
    'conv 3x3 pad 1 (8->16, 20x20)': () => new Conv2d({ inChannels: 8, outChannels: 16, kernelSize: 3, padding: 1 }),
    'conv 3x3 stride 2 (8->16)': () => new Conv2d({ inChannels: 8, outChannels: 16, kernelSize: 3, stride: 2, padding: 1 }),
    'conv 3x3 Winograd-sized (32->32)': () => new Conv2d({ inChannels: 32, outChannels: 32, kernelSize: 3, padding: 1 }),
    'conv 1x1 (8->24)': () => new Conv2d({ inChannels: 8, outChannels: 24, kernelSize: 1 }),
    'depthwise 3x3 (8)': () => new DepthwiseConv2d({ channels: 8, kernelSize: 3, padding: 1 }),
    'maxpool 3x3 stride 2': () => new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 }),
  };
  const out = {};
  for (const [name, make] of Object.entries(cases)) {
    const channels = name.includes('32->32') ? 32 : 8;
    const x = new Tensor([2, channels, 20, 20], seeded(2 * channels * 20 * 20, 7));
    const layer = make();
    setBackend('native');
    const native = (await layer.forward(x)).data.slice();
    setBackend('js');
    const js = (await layer.forward(x)).data;
    out[name] = worstDiff(native, js);
  }
  const linear = new Linear({ inFeatures: 64, outFeatures: 10 });
  const v = new Tensor([4, 64], seeded(4 * 64, 11));
  setBackend('native');
  const native = (await linear.forward(v)).data.slice();
  setBackend('js');
  out['linear 64->10'] = worstDiff(native, (await linear.forward(v)).data);
  setBackend('native');
  return out;
}

async function classify() {
  const classifier = await ImageClassifier.load();
  const batch = new Tensor(fixture.shape, Float32Array.from(fixture.data));
  const predictions = await classifier.predict(batch, 1);
  const labels = predictions.map((p) => p[0].label);
  const probabilities = predictions.map((p) => p[0].probability);
  const worst = probabilities.reduce((m, p, i) => Math.max(m, Math.abs(p - fixture.jsTopProbability[i])), 0);
  return { labels, worstProbabilityDiff: worst };
}

for (const isa of isaList.split(',')) {
  setBackend('native');
  setIsa(isa);
  report.isas[isa] = { ran: getIsa(), parity: await layerParity(), classify: await classify() };
}
console.log(JSON.stringify(report));
