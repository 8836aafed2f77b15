/**
 * Shared pieces of the e2e specs: Debian's Chromium through playwright-core, pages that record
 * every uncaught error and console error, and pixel reading done by the browser itself.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BASE_URL = process.env.E2E_BASE_URL ?? 'http://127.0.0.1:5173';
export const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'output');
/** Booting Linux in the emulator: generous, the machine is shared. */
export const BOOT_TIMEOUT_MS = Number(process.env.E2E_BOOT_TIMEOUT_MS ?? 600_000);

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
}

/**
 * Opens `path` on the test server. Every `pageerror`, console error and crash is recorded in
 * `problems`; `allow(re)` accepts console errors matching `re` (an expected failed download).
 * Every pc-* event that reaches the document is recorded in `window.__pcEvents`.
 */
export async function openPage(browser, path, { viewport = { width: 1280, height: 1000 } } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  // the machine is shared with builds: be patient with the dev server's first transforms
  page.setDefaultNavigationTimeout(180_000);
  page.setDefaultTimeout(60_000);
  const problems = [];
  const allowed = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.stack || err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (allowed.some((re) => re.test(text))) return;
    problems.push(`console.error: ${text}`);
  });
  page.on('crash', () => problems.push('the page crashed'));
  page.on('worker', (worker) => {
    worker.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`worker console.error: ${msg.text()}`);
    });
  });
  await page.addInitScript(() => {
    window.__pcEvents = [];
    const names = ['pc-progress', 'pc-ready', 'pc-serial', 'pc-halt', 'pc-error', 'pc-start', 'pc-stop', 'pc-reset', 'pc-stats'];
    for (const name of names) {
      document.addEventListener(name, (e) => {
        const target = e.composedPath()[0];
        const detail = name === 'pc-serial' ? { length: e.detail.text.length } : e.detail;
        window.__pcEvents.push({ name, id: target?.id ?? '', detail: JSON.parse(JSON.stringify(detail ?? null)) });
      });
    }
  });
  await page.goto(new URL(path, BASE_URL).href);
  return {
    page,
    problems,
    allow: (re) => allowed.push(re),
    close: () => context.close(),
  };
}

/** Fails with the recorded problems, if any. */
export function assertNoProblems(assert, problems) {
  assert.deepEqual(problems, [], `uncaught errors in the page:\n${problems.join('\n')}`);
}

export function outputPath(name) {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return join(OUTPUT_DIR, name);
}

/** Installs `window.__decodePng(base64 | Blob) → { width, height, data: number[] }` in the page. */
export async function installPngDecoder(page) {
  await page.evaluate(() => {
    window.__decodePng = async (input) => {
      const blob =
        typeof input === 'string'
          ? new Blob([Uint8Array.from(atob(input), (c) => c.charCodeAt(0))], { type: 'image/png' })
          : input;
      const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      ctx.drawImage(bitmap, 0, 0);
      return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    };
  });
}

/**
 * Reads the pixels of a PNG (a Node Buffer, e.g. from `locator.screenshot()`) at the given
 * points: returns `[[r, g, b, a], ...]`.
 */
export async function pngPixelsAt(page, png, points) {
  await installPngDecoder(page);
  return page.evaluate(
    async ({ b64, points }) => {
      const img = await window.__decodePng(b64);
      return points.map(([x, y]) => {
        const i = (Math.round(y) * img.width + Math.round(x)) * 4;
        return [img.data[i], img.data[i + 1], img.data[i + 2], img.data[i + 3]];
      });
    },
    { b64: png.toString('base64'), points },
  );
}

/** Close enough for colours that went through a GPU and a screenshot. */
export function assertColor(assert, actual, expected, what, tolerance = 8) {
  const ok = expected.every((v, i) => Math.abs(actual[i] - v) <= tolerance);
  assert.ok(ok, `${what}: expected rgb(${expected.join(', ')}), got rgb(${actual.slice(0, 3).join(', ')})`);
}
