#!/usr/bin/env node
// Several zoo runs (`node bench/zoo.mjs --json run1.json`, ...) as one table: per model and
// (threads, batch), the median over the runs of each ratio, with every run's ratio beside it,
// then the geometric mean of the medians. On a shared machine one run can lose a core to other
// work for a while; the median over runs taken at different times is the figure to quote.
//
//   node bench/zoo-summary.mjs run1.json run2.json run3.json
// The tables are Markdown.
import { readFileSync } from 'node:fs';
import { median, parseFlags } from './harness.mjs';

const files = parseFlags(import.meta.url, {}, { positional: true })._;
if (!files.length) {
  console.error('usage: node bench/zoo-summary.mjs run1.json [run2.json ...]');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const geometricMean = (xs) => Math.exp(xs.reduce((sum, x) => sum + Math.log(x), 0) / xs.length);

console.log(runs[0].labels.slice(0, 3).join('\n'));
for (const run of runs) console.log(`run: ${run.labels[3].split(';')[0]}`);

const cells = new Map();
for (const run of runs) {
  for (const row of run.rows) {
    const key = `${row.threads}/${row.batch}`;
    if (!cells.has(key)) cells.set(key, new Map());
    const models = cells.get(key);
    if (!models.has(row.model)) models.set(row.model, []);
    models.get(row.model).push(row);
  }
}

for (const [key, models] of cells) {
  const [threads, batch] = key.split('/');
  console.log(`\n${threads} thread(s), batch ${batch}: median over ${runs.length} run(s)`);
  const lines = [];
  const medians = [];
  const cpuMedians = [];
  for (const [model, rows] of models) {
    const ok = rows.filter((r) => !r.error);
    if (!ok.length) {
      lines.push([model, 'FAILED', '', '', '', rows[0].error.slice(0, 80)]);
      continue;
    }
    const ratio = median(ok.map((r) => r.ratio));
    const cpu = median(ok.map((r) => r.cpuRatio ?? NaN)); // NaN: a run from before CPU time was recorded
    medians.push(ratio);
    cpuMedians.push(cpu);
    const top1 = `${ok.reduce((s, r) => s + r.top1Agree, 0)}/${ok.reduce((s, r) => s + r.batch, 0)}`;
    const diff = Math.max(...ok.map((r) => r.scaledDiff)).toExponential(1);
    lines.push([model, `**${ratio.toFixed(2)}x** (${ok.map((r) => r.ratio.toFixed(2)).join(', ')})`, `${cpu.toFixed(2)}x`, top1, diff, '']);
  }
  const header = ['model', 'convnode / onnxruntime (runs)', 'CPU-time ratio', 'top-1 agree', 'max|diff|/max|out|', 'error'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => `| ${cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log([fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n'));
  if (medians.length) {
    console.log(`geometric mean of the medians: ${geometricMean(medians).toFixed(2)}x (CPU time ${geometricMean(cpuMedians).toFixed(2)}x) over ${medians.length} models`);
  }
}
