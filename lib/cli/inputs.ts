/**
 * Expands the image arguments of `convnode classify`: files stay as they are, directories give
 * their image files (recursively, sorted), and quoted globs (`'photos/*.jpg'`, `'data/**\/*.png'`)
 * are matched here because no shell expanded them. A path that does not exist is kept, so the
 * classifier reports it by name alongside the other results.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { UsageError } from './command.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif', '.svg'];

const GLOB_CHARS = /[*?[]/;

function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

function kind(path: string): 'file' | 'dir' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

function imagesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...imagesUnder(path));
    else if (isImageFile(entry.name)) found.push(path);
  }
  return found;
}

/** One path segment's glob ('*.png', 'img-??.jpg', '[ab]*') as a regular expression. */
function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i];
    if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '[') {
      const close = segment.indexOf(']', i + 1);
      if (close === -1) source += '\\[';
      else {
        source += `[${segment.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else source += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function globFrom(dir: string, segments: readonly string[]): string[] {
  if (segments.length === 0) return kind(dir) === 'file' ? [dir] : [];
  const [head, ...tail] = segments;
  if (head === '**') {
    // '**' matches zero or more directories.
    const deeper = listDir(dir)
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .flatMap((e) => globFrom(join(dir, e.name), segments));
    return [...globFrom(dir, tail), ...deeper];
  }
  if (!GLOB_CHARS.test(head)) return globFrom(join(dir, head), tail);
  const pattern = segmentRegExp(head);
  return listDir(dir)
    .filter((e) => pattern.test(e.name) && (head.startsWith('.') || !e.name.startsWith('.')))
    .flatMap((e) => globFrom(join(dir, e.name), tail));
}

function listDir(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
}

export function expandImageArgs(args: readonly string[]): string[] {
  const files: string[] = [];
  for (const arg of args) {
    const found = kind(arg);
    if (found === 'file') files.push(arg);
    else if (found === 'dir') {
      const images = imagesUnder(arg);
      if (images.length === 0) throw new UsageError(`directory '${arg}' holds no images (${IMAGE_EXTENSIONS.join(' ')})`);
      files.push(...images);
    } else if (GLOB_CHARS.test(arg)) {
      const absolute = arg.startsWith('/');
      const segments = arg.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
      const matches = [...new Set(globFrom(absolute ? sep : '.', segments))].map((p) => (absolute ? p : p.replace(/^\.\//, '')));
      if (matches.length === 0) throw new UsageError(`no files match '${arg}'`);
      files.push(...matches);
    } else files.push(arg);
  }
  return files;
}
