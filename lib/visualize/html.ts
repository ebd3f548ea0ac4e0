/**
 * A one-file HTML report: the pictures inlined as data: URIs (so it can be mailed or attached to
 * a bug report and still show everything) and the planner table of the layers that made them.
 */
import { formatBytes, formatCount, type ModelSummary } from '../layers/summary.js';
import { formatShape } from '../tensor.js';

export interface ReportFigure {
  readonly heading: string;
  /** PNG bytes. */
  readonly png: Uint8Array;
  /** Alternative text and a line under the picture. */
  readonly caption: string;
}

export interface ReportOptions {
  readonly title: string;
  /** Short lines under the title: the image, the filter or model, the options used. */
  readonly details?: readonly string[];
  readonly figures: readonly ReportFigure[];
  /** The planner table (summarize(...)); omitted when there is none. */
  readonly summary?: ModelSummary;
}

export function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[ch] as string);
}

export function pngDataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1a1a1a; max-width: 80rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
ul.details { color: #444; padding-left: 1.2rem; }
figure { margin: 0; } figure img { max-width: 100%; image-rendering: pixelated; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 0.9rem; margin-top: 0.3rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.75rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.warning { color: #8a4b00; }
`;

function planTable(summary: ModelSummary): string {
  const head = ['Layer', 'Type', 'Output shape', 'Params', 'Mult-adds', 'Receptive field', 'Jump', 'Activations'];
  const pair = (p: readonly [number, number] | null) => (p ? `${p[0]}x${p[1]}` : '-');
  const rows = summary.layers.map((r) => {
    const cells: [string, boolean][] = [
      [r.name, false],
      [r.type, false],
      [formatShape(r.outputShape), false],
      [formatCount(r.params), true],
      [formatCount(r.multiplyAdds), true],
      [pair(r.receptiveField), true],
      [pair(r.jump), true],
      [formatBytes(r.activationBytes), true],
    ];
    return `<tr>${cells.map(([text, numeric]) => `<td${numeric ? ' class="num"' : ''}>${escapeHtml(text)}</td>`).join('')}</tr>`;
  });
  const t = summary.totals;
  const warnings = summary.warnings.map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join('\n');
  return [
    `<p>Input ${escapeHtml(formatShape(summary.inputShape))}: ${escapeHtml(formatCount(t.params))} parameters, ` +
      `${escapeHtml(formatCount(t.multiplyAdds))} multiply-adds, peak activations ${escapeHtml(formatBytes(t.peakActivationBytes))}.</p>`,
    `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>`,
    `<tbody>\n${rows.join('\n')}\n</tbody></table>`,
    warnings,
  ].join('\n');
}

export function buildHtmlReport(options: ReportOptions): string {
  const figures = options.figures.map(
    (f) =>
      `<h2>${escapeHtml(f.heading)}</h2>\n<figure><img src="${pngDataUri(f.png)}" alt="${escapeHtml(f.caption)}">` +
      `<figcaption>${escapeHtml(f.caption)}</figcaption></figure>`,
  );
  const details = options.details?.length ? `<ul class="details">${options.details.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>` : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(options.title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(options.title)}</h1>`,
    details,
    ...figures,
    options.summary ? `<h2>Planner table</h2>\n${planTable(options.summary)}` : '',
    '</body></html>',
    '',
  ].join('\n');
}
