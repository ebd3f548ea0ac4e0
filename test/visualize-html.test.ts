// The --html report opened in a real browser: Debian's chromium driven by playwright-core.
// Skipped, saying so, where /usr/bin/chromium is not installed (apt-get install chromium).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/cli/main.js';
import { missingIn } from './helpers/ci.js';
import { buildHtmlReport } from '../lib/visualize/index.js';

// CONVNODE_TEST_CHROMIUM points elsewhere (or at nothing, to see the skip).
const CHROMIUM = process.env.CONVNODE_TEST_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`visualize-html: SKIPPED, ${CHROMIUM} is not installed (apt-get install -y chromium to run it)`);

const sample = fileURLToPath(new URL('../samples/0019-t-shirt-top.png', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'convnode-report-'));

async function convnode(...args: string[]): Promise<number> {
  const quiet = () => new Writable({ write: (_c, _e, done) => done() });
  return runCli(args, { stdout: quiet(), stderr: quiet() });
}

interface PageReport {
  images: { src: string; complete: boolean; naturalWidth: number; naturalHeight: number }[];
  tableRows: string[][];
  externalRequests: string[];
}

describe.skipIf(missingIn(CHROMIUM, hasChromium))(`HTML report in headless Chromium (${hasChromium ? CHROMIUM : `skipped: ${CHROMIUM} not installed`})`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    // A browser's start, not our code: it took over vitest's default 10 s hook limit in a CI
    // rehearsal while the kernel tests and prebuilds compiled beside it (load 5.5 on 2 cores).
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(file: string): Promise<PageReport> {
    const page = await browser.newPage();
    const externalRequests: string[] = [];
    // Self-contained means the file itself is the only thing fetched.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url !== pathToFileURL(file).href && !url.startsWith('data:')) externalRequests.push(url);
      return url.startsWith('file:') || url.startsWith('data:') ? route.continue() : route.abort();
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const report = await page.evaluate(() => ({
      images: [...document.images].map((img) => ({
        src: img.src.slice(0, 22),
        complete: img.complete,
        naturalWidth: img.naturalWidth,
        naturalHeight: img.naturalHeight,
      })),
      tableRows: [...document.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    }));
    await page.close();
    return { ...report, externalRequests };
  }

  it('filter mode: the stages image loads at its PNG size and the planner table lists conv, relu, pool', async () => {
    const png = join(dir, 'stages.png');
    const html = join(dir, 'stages.html');
    expect(await convnode('visualize', sample, '--filter', 'laplacian', '--padding', '1', '--out', png, '--html', html)).toBe(0);
    const page = await open(html);
    expect(page.externalRequests).toEqual([]);
    expect(page.images.length).toBe(1);
    const meta = await sharp(readFileSync(png)).metadata();
    for (const img of page.images) {
      expect(img.src).toBe('data:image/png;base64,');
      expect(img.complete).toBe(true);
      expect(img.naturalWidth).toBe(meta.width);
      expect(img.naturalHeight).toBe(meta.height);
    }
    expect(page.tableRows.map((r) => r.slice(0, 3))).toEqual([
      ['conv', 'Conv2d', '1x1x28x28'],
      ['relu', 'ReLU', '1x1x28x28'],
      ['pool', 'MaxPool2d', '1x1x14x14'],
    ]);
    // A 3x3 filter: 9 parameters, 28*28*9 multiply-adds, receptive field 3 then 4 after the pool.
    expect(page.tableRows[0].slice(3, 6)).toEqual(['9', '7,056', '3x3']);
    expect(page.tableRows[2][5]).toBe('4x4');
  });

  it('model mode: the input and layer images load and every node of LeNet-5 has a row', async () => {
    const html = join(dir, 'model.html');
    expect(await convnode('visualize', sample, '--model', 'builtin', '--layer', '/Relu_1', '--out', join(dir, 'model.png'), '--html', html)).toBe(0);
    const page = await open(html);
    expect(page.externalRequests).toEqual([]);
    expect(page.images.length).toBe(2);
    for (const img of page.images) {
      expect(img.complete).toBe(true);
      expect(img.naturalWidth).toBeGreaterThan(0);
    }
    expect(page.tableRows.map((r) => r[0])).toEqual([
      '/conv1/Conv', '/Relu', '/MaxPool', '/conv2/Conv', '/Relu_1', '/MaxPool_1', '/flatten/Flatten', '/fc1/Gemm', '/Relu_2', '/fc2/Gemm', '/Relu_3', '/fc3/Gemm',
    ]);
  });

  it('a broken image would be caught: a truncated PNG has naturalWidth 0', async () => {
    // Guards the check itself: the same page test must fail for an image that does not decode.
    const good = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer();
    const file = join(dir, 'broken.html');
    const figures = [
      { heading: 'whole', png: good, caption: 'whole' },
      { heading: 'cut', png: good.subarray(0, 40), caption: 'truncated' },
    ];
    writeFileSync(file, buildHtmlReport({ title: 'broken', figures }));
    const page = await open(file);
    expect(page.images.map((img) => img.naturalWidth)).toEqual([8, 0]);
  });
});
