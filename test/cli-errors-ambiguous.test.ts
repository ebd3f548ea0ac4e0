import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

it("a flag value that starts with '-' gets a hint to write --flag=value, and exit code 2", () => {
  let status = 0;
  let stderr = '';
  try {
    execFileSync(process.execPath, [join(root, 'bin/convnode.js'), 'visualize', join(root, 'samples/0000-ankle-boot.png'), '--padding', '-1'], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (error) {
    status = (error as { status: number }).status;
    stderr = (error as { stderr: string }).stderr;
  }
  expect(status).toBe(2);
  expect(stderr).toContain("option '--padding' needs a value; write a value that starts with '-' as --padding=-1");
});
