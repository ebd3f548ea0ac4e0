/**
 * Lays captioned tiles out on a grid, paints them into one canvas and encodes a PNG with sharp.
 * Captions are SVG <text> composited over the canvas (librsvg renders them with the system's
 * fonts). The layout is returned with the PNG, so callers and tests know where each tile landed.
 */
import { loadSharp } from '../image/sharp.js';
import { ParameterError } from '../errors.js';
import { blit, createImage, frameRect, type RgbImage } from './raster.js';

export interface Tile {
  readonly image: RgbImage;
  /** Lines drawn above the image. */
  readonly caption: readonly string[];
}

/** Where a tile's image was drawn on the canvas. */
export interface Placement {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface ComposeOptions {
  /** Tiles per row (default: all in one row). */
  columns?: number;
  /** Lines drawn across the top of the picture. */
  title?: readonly string[];
}

export interface Composition {
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
  /** One per tile, in order: its image's rectangle (inside a one-pixel frame). */
  readonly placements: readonly Placement[];
}

const MARGIN = 12;
const SPACING = 16;
const FONT_SIZE = 13;
const LINE_HEIGHT = 17;
/** DejaVu Sans Mono advances 0.602 em per character; a little extra keeps long captions inside. */
const CHAR_WIDTH = Math.ceil(FONT_SIZE * 0.62);
const CAPTION_GAP = 4;
/** Refuse pictures sharp would take seconds and hundreds of MB to encode. */
const MAX_PIXELS = 40_000_000;

/** Throws before any painting when a picture would be too large to encode in reasonable time. */
export function checkPictureSize(width: number, height: number): void {
  if (width * height > MAX_PIXELS) {
    throw new ParameterError(
      `the picture would be ${width}x${height} pixels (more than ${MAX_PIXELS / 1e6} M): use a smaller zoom, fewer channels or a smaller image`,
    );
  }
}

interface TextLine {
  readonly x: number;
  readonly baseline: number;
  readonly text: string;
  readonly bold: boolean;
}

export async function composeTiles(tiles: readonly Tile[], options: ComposeOptions = {}): Promise<Composition> {
  if (tiles.length === 0) throw new ParameterError('composeTiles: at least one tile is needed');
  const columns = Math.min(options.columns ?? tiles.length, tiles.length);
  if (!Number.isInteger(columns) || columns < 1) {
    throw new ParameterError(`composeTiles: columns must be a positive integer, got ${String(options.columns)}`);
  }
  const title = options.title ?? [];
  const rows = Math.ceil(tiles.length / columns);

  const textWidth = (lines: readonly string[]) => Math.max(0, ...lines.map((l) => l.length * CHAR_WIDTH));
  const columnWidths = Array.from({ length: columns }, (_, c) => {
    let width = 0;
    for (let i = c; i < tiles.length; i += columns) width = Math.max(width, tiles[i].image.width, textWidth(tiles[i].caption));
    return width;
  });
  const rowLayout = Array.from({ length: rows }, (_, r) => {
    const row = tiles.slice(r * columns, (r + 1) * columns);
    const captionLines = Math.max(0, ...row.map((t) => t.caption.length));
    const imageHeight = Math.max(...row.map((t) => t.image.height));
    return { captionHeight: captionLines * LINE_HEIGHT + CAPTION_GAP, imageHeight };
  });

  const titleHeight = title.length ? title.length * LINE_HEIGHT + SPACING / 2 : 0;
  const gridWidth = columnWidths.reduce((a, b) => a + b, 0) + SPACING * (columns - 1);
  const width = 2 * MARGIN + Math.max(gridWidth, textWidth(title));
  const height = 2 * MARGIN + titleHeight + rowLayout.reduce((s, r) => s + r.captionHeight + r.imageHeight, 0) + SPACING * (rows - 1);
  checkPictureSize(width, height);

  const canvas = createImage(width, height);
  const texts: TextLine[] = title.map((text, i) => ({ x: MARGIN, baseline: MARGIN + (i + 1) * LINE_HEIGHT - 4, text, bold: true }));
  const placements: Placement[] = [];
  let top = MARGIN + titleHeight;
  rowLayout.forEach((row, r) => {
    let left = MARGIN;
    for (let c = 0; c < columns; c++) {
      const tile = tiles[r * columns + c];
      if (!tile) break;
      tile.caption.forEach((text, i) => texts.push({ x: left, baseline: top + (i + 1) * LINE_HEIGHT - 4, text, bold: false }));
      const y = top + row.captionHeight;
      blit(canvas, tile.image, left, y);
      frameRect(canvas, left, y, tile.image.width, tile.image.height);
      placements.push({ x: left, y, width: tile.image.width, height: tile.image.height });
      left += columnWidths[c] + SPACING;
    }
    top += row.captionHeight + row.imageHeight + SPACING;
  });

  const sharp = await loadSharp();
  const png = await sharp(canvas.data, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(captionsSvg(width, height, texts)), left: 0, top: 0 }])
    .png()
    .toBuffer();
  return { png, width, height, placements };
}

function captionsSvg(width: number, height: number, lines: readonly TextLine[]): string {
  const body = lines
    .map(
      (l) =>
        `<text x="${l.x}" y="${l.baseline}"${l.bold ? ' font-weight="bold"' : ''}>${escapeXml(l.text)}</text>`,
    )
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<g font-family="DejaVu Sans Mono, monospace" font-size="${FONT_SIZE}" fill="#1a1a1a">${body}</g></svg>`
  );
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch] as string);
}
