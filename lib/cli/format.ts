/** Plain-text tables for the terminal. */

/** Left-aligned columns separated by two spaces; the header is underlined. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** 0.98765 -> '98.8%'; below 0.1% -> '<0.1%' (the exact value is in --json). */
export function percent(probability: number): string {
  const p = probability * 100;
  return p >= 0.05 ? `${p.toFixed(1)}%` : '<0.1%';
}
