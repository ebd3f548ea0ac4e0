// Expanding `convnode classify` arguments: files, directories and quoted globs.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/cli/command.js';
import { expandImageArgs } from '../lib/cli/inputs.js';

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'convnode-inputs-'));
  for (const file of ['a.png', 'b.JPG', 'notes.txt', 'sub/c.webp', 'sub/deeper/d.png', 'sub/e.gif', 'img-10.png', 'img-2.png']) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), '');
  }
  mkdirSync(join(root, 'empty'));
  return root;
}

describe('expandImageArgs', () => {
  const root = tree();
  it('gives the image files of a directory, recursively and sorted, skipping other files', () => {
    expect(expandImageArgs([root]).map((p) => p.slice(root.length + 1))).toEqual([
      'a.png', 'b.JPG', 'img-10.png', 'img-2.png', 'sub/c.webp', 'sub/deeper/d.png', 'sub/e.gif',
    ]);
  });

  it('matches *, ? and ** globs', () => {
    const rel = (ps: string[]) => ps.map((p) => p.slice(root.length + 1));
    expect(rel(expandImageArgs([`${root}/*.png`]))).toEqual(['a.png', 'img-10.png', 'img-2.png']);
    expect(rel(expandImageArgs([`${root}/img-?.png`]))).toEqual(['img-2.png']);
    expect(rel(expandImageArgs([`${root}/**/*.png`]))).toEqual(['a.png', 'img-10.png', 'img-2.png', 'sub/deeper/d.png']);
    expect(rel(expandImageArgs([`${root}/sub/[cd]*`]))).toEqual(['sub/c.webp']);
  });

  it('keeps files and missing paths as given (the classifier reports missing ones by name)', () => {
    expect(expandImageArgs([join(root, 'notes.txt'), '/no/such.png'])).toEqual([join(root, 'notes.txt'), '/no/such.png']);
  });

  it('is a usage error when a glob matches nothing or a directory holds no images', () => {
    expect(() => expandImageArgs([`${root}/*.bmp`])).toThrow(UsageError);
    expect(() => expandImageArgs([`${root}/*.bmp`])).toThrow(/no files match/);
    expect(() => expandImageArgs([join(root, 'empty')])).toThrow(/holds no images/);
  });
});
