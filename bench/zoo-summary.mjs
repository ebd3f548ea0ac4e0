#!/usr/bin/env node
// Several zoo runs as one table: per model and (threads, batch), the median over the runs of the
// ratio convnode / onnxruntime, its min-max spread, every run's ratio, the median CPU-time ratio
// and its spread; then the geometric mean of the medians, and the spread of each run's own
// geometric mean. On this VM one cell moves by +-0.2x between runs, so a goal per model ("every
// model <= 1.2x") is judged on the median over runs, never on one run.
//
//   node bench/zoo-summary.mjs run1.json [run2.json ...] [--goal 1.2]
// A run is a `node bench/zoo.mjs --json out.json` file; a file written with `--repeat N` holds N
// runs (its rows carry `repeat`), and counts as N. `bench/zoo.mjs --repeat N` prints the same
// table itself at the end. --goal R lists, per cell, the models whose median ratio is above R.
// The tables are Markdown.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median, parseFlags } from './harness.mjs';

const geometricMean = (xs) => Math.exp(xs.reduce((sum, x) => sum + Math.log(x), 0) / xs.length);
const spread = (xs) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;

/** The rows of a zoo.mjs JSON file as runs: one per `repeat` value (rows without one: one run). */
export function runsOfFile(json) {
  const byRepeat = new Map();
  for (const row of json.rows) {
    const key = row.repeat ?? 0;
    if (!byRepeat.has(key)) byRepeat.set(key, []);
    byRepeat.get(key).push(row);
  }
  return [...byRepeat.values()];
}

/**
 * The summary of `runs` (arrays of zoo rows, each { model, threads, batch, ratio, cpuRatio, ... }
 * or { ..., error }), as Markdown tables, one per (threads, batch) cell, in the order the cells
 * first appear. `goal`: a ratio; models whose median is above it are listed under each table.
 */
export function formatRunsSummary(runs, { goal } = {}) {
  const cells = new Map(); // 'threads/batch' -> model -> rows, one per run that has it
  runs.forEach((rows, run) => {
    for (const row of rows) {
      const key = `${row.threads}/${row.batch}`;
      if (!cells.has(key)) cells.set(key, new Map());
      const models = cells.get(key);
      if (!models.has(row.model)) models.set(row.model, []);
      models.get(row.model).push({ ...row, run });
    }
  });
  const out = [];
  for (const [key, models] of cells) {
    const [threads, batch] = key.split('/');
    out.push(`\n${threads} thread(s), batch ${batch}: median over ${runs.length} run(s), min-max across them`);
    const lines = [];
    const medians = [];
    const cpuMedians = [];
    const over = [];
    for (const [model, rows] of models) {
      const ok = rows.filter((r) => !r.error);
      if (!ok.length) {
        lines.push([model, 'FAILED', '', '', '', '', '', rows[0].error.slice(0, 80)]);
        continue;
      }
      const ratios = ok.map((r) => r.ratio);
      const cpus = ok.map((r) => r.cpuRatio ?? NaN); // NaN: a run from before CPU time was recorded
      const ratio = median(ratios);
      const cpu = median(cpus);
      medians.push(ratio);
      cpuMedians.push(cpu);
      if (goal !== undefined && ratio > goal) over.push(`${model} ${ratio.toFixed(2)}x (${spread(ratios)})`);
      const top1 = `${ok.reduce((s, r) => s + r.top1Agree, 0)}/${ok.reduce((s, r) => s + r.batch, 0)}`;
      const diff = Math.max(...ok.map((r) => r.scaledDiff)).toExponential(1);
      const failed = rows.length - ok.length;
      lines.push([
        model, `**${ratio.toFixed(2)}x**`, spread(ratios), ratios.map((r) => r.toFixed(2)).join(', '),
        `${cpu.toFixed(2)}x (${spread(cpus)})`, top1, diff, failed ? `failed in ${failed} run(s): ${rows.find((r) => r.error).error.slice(0, 60)}` : '',
      ]);
    }
    const header = ['model', 'median ratio', 'min-max', 'each run', 'CPU-time ratio (min-max)', 'top-1 agree', 'max|diff|/max|out|', 'error'];
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
    const fmt = (cells) => `| ${cells.map((c, i) => (i === 0 || i === 3 || i === 7 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
    out.push([fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n'));
    if (medians.length) {
      // Each run's own geometric mean, over the models that ran in every run (so the runs compare).
      const everywhere = [...models].filter(([, rows]) => rows.length === runs.length && rows.every((r) => !r.error)).map(([m]) => m);
      const perRun = runs.map((_, run) => geometricMean(everywhere.map((m) => models.get(m).find((r) => r.run === run).ratio)));
      const runsNote = runs.length > 1 && everywhere.length ? `; each run's own: ${spread(perRun)} over the ${everywhere.length} that ran every time` : '';
      out.push(`geometric mean of the medians: ${geometricMean(medians).toFixed(2)}x (CPU time ${geometricMean(cpuMedians).toFixed(2)}x) over ${medians.length} models${runsNote}`);
    }
    if (goal !== undefined) out.push(over.length ? `median above ${goal}x: ${over.join('; ')}` : `every median at or below ${goal}x`);
  }
  return out.join('\n');
}

function main() {
  const flags = parseFlags(import.meta.url, { '--goal': Number }, { positional: true });
  const files = flags._;
  if (!files.length) {
    console.error('usage: node bench/zoo-summary.mjs run1.json [run2.json ...] [--goal 1.2]');
    process.exit(2);
  }
  const jsons = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  console.log(jsons[0].labels.slice(0, 3).join('\n'));
  for (const json of jsons) console.log(`run: ${json.labels[3].split(';')[0]}${json.options?.repeat > 1 ? ` (${json.options.repeat} repeats)` : ''}`);
  console.log(formatRunsSummary(jsons.flatMap(runsOfFile), { goal: flags['--goal'] }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
