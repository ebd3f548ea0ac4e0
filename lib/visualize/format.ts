/** Short number and range text for captions. */

/** Integers as they are; anything else to 3 significant digits without trailing zeros. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return String(value);
  const text = value.toPrecision(3);
  return text.includes('e') ? text : text.replace(/\.?0+$/, '');
}

export function formatRange(min: number, max: number): string {
  return `${formatValue(min)}..${formatValue(max)}`;
}
