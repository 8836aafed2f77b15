/**
 * <pc-console> on its own (e2e/pages/console.html): real key presses must come out as the bytes
 * a VT100/xterm terminal sends to a UART, output must render as terminal text (never HTML), and
 * the terminal must answer the cursor-position query busybox sends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertNoProblems, launchBrowser, openPage, outputPath } from './helpers.mjs';

const ESC = 0x1b;
const bytes = (s) => [...Buffer.from(s, 'utf8')];

let browser;
let session;
let page;

before(async () => {
  browser = await launchBrowser();
  session = await openPage(browser, '/e2e/pages/console.html');
  page = session.page;
  await page.waitForFunction(() => document.getElementById('console')?.shadowRoot?.querySelector('.xterm'));
  await page.locator('#console').click();
});

after(async () => {
  await session?.close();
  await browser?.close();
});

/** Presses `key` and returns the bytes the console emitted for it. */
async function press(key) {
  await page.evaluate(() => (window.__input.length = 0));
  await page.keyboard.press(key);
  await page.waitForFunction(() => window.__input.length > 0);
  return page.evaluate(() => window.__input.flat());
}

describe('pc-console', () => {
  test('printable keys are sent as typed, UTF-8 included', async () => {
    await page.evaluate(() => (window.__input.length = 0));
    await page.keyboard.type('ls -l /bin|wc');
    await page.waitForFunction(() => window.__input.flat().length >= 13);
    assert.deepEqual(await page.evaluate(() => window.__input.flat()), bytes('ls -l /bin|wc'));
    await page.evaluate(() => (window.__input.length = 0));
    await page.keyboard.insertText('é→✓');
    await page.waitForFunction(() => window.__input.length > 0);
    assert.deepEqual(await page.evaluate(() => window.__input.flat()), bytes('é→✓'));
  });

  test('editing and control keys map to what a serial terminal sends', async () => {
    const expected = {
      Enter: [13],
      Backspace: [0x7f],
      Tab: [9],
      Escape: [ESC],
      'Control+c': [3],
      'Control+d': [4],
      'Control+z': [0x1a],
      'Control+l': [0x0c],
      'Control+a': [1],
    };
    for (const [key, want] of Object.entries(expected)) {
      assert.deepEqual(await press(key), want, key);
    }
  });

  test('cursor and function keys are VT100/xterm escape sequences', async () => {
    const expected = {
      ArrowUp: '\x1b[A',
      ArrowDown: '\x1b[B',
      ArrowRight: '\x1b[C',
      ArrowLeft: '\x1b[D',
      Home: '\x1b[H',
      End: '\x1b[F',
      PageUp: '\x1b[5~',
      PageDown: '\x1b[6~',
      Insert: '\x1b[2~',
      Delete: '\x1b[3~',
      F1: '\x1bOP',
      F2: '\x1bOQ',
      F5: '\x1b[15~',
      F12: '\x1b[24~',
    };
    for (const [key, want] of Object.entries(expected)) {
      assert.deepEqual(await press(key), bytes(want), key);
    }
    // an application that switches the cursor keys to application mode (DECCKM) gets ESC O A
    await page.evaluate(() => document.getElementById('console').write('\x1b[?1h'));
    assert.deepEqual(await press('ArrowUp'), bytes('\x1bOA'), 'ArrowUp in application cursor mode');
    await page.evaluate(() => document.getElementById('console').write('\x1b[?1l'));
  });

  test('answers the cursor-position query ESC[6n with a report on its input', async () => {
    const reply = await page.evaluate(async () => {
      const c = document.getElementById('console');
      c.reset();
      window.__input.length = 0;
      await c.write('abc\x1b[6n');
      const start = performance.now();
      while (window.__input.length === 0 && performance.now() - start < 2000) await new Promise((r) => setTimeout(r, 10));
      return String.fromCharCode(...window.__input.flat());
    });
    assert.equal(reply, '\x1b[1;4R');
  });

  test('a paste arrives as input with line breaks as carriage returns', async () => {
    const pasted = await page.evaluate(async () => {
      window.__input.length = 0;
      const textarea = document.getElementById('console').shadowRoot.querySelector('textarea');
      const data = new DataTransfer();
      data.setData('text/plain', 'echo one\necho two');
      textarea.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
      await new Promise((r) => setTimeout(r, 50));
      return String.fromCharCode(...window.__input.flat());
    });
    assert.equal(pasted, 'echo one\recho two');
  });

  test('output is terminal text with colours, never HTML', async () => {
    const result = await page.evaluate(async () => {
      const c = document.getElementById('console');
      c.reset();
      await c.write('plain \x1b[31mred\x1b[0m <img src=x onerror="window.__pwned=1"><b>bold?</b>\r\n');
      await c.write(new TextEncoder().encode('bytes: gr'));
      await c.write(new Uint8Array([0xc3]));
      await c.write(new Uint8Array([0xb6, 0xc3, 0x9f, 0x65, 0x0d, 0x0a])); // "öße" split inside a UTF-8 sequence
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const root = c.shadowRoot;
      const redSpans = [...root.querySelectorAll('.xterm-rows span')].filter((s) => s.textContent === 'red');
      return {
        lines: c.lines(),
        images: root.querySelectorAll('img').length + document.querySelectorAll('img').length,
        bolds: root.querySelectorAll('b').length,
        pwned: window.__pwned ?? 0,
        redColour: redSpans.length ? getComputedStyle(redSpans[0]).color : null,
      };
    });
    assert.equal(result.lines[0], 'plain red <img src=x onerror="window.__pwned=1"><b>bold?</b>');
    assert.equal(result.lines[1], 'bytes: größe');
    assert.equal(result.images, 0);
    assert.equal(result.bolds, 0);
    assert.equal(result.pwned, 0);
    assert.ok(result.redColour, 'the red word is styled');
    const [r, g, b] = result.redColour.match(/\d+/g).map(Number);
    assert.ok(r > 150 && g < 100 && b < 100, `ANSI red renders red, got ${result.redColour}`);
    await page.locator('#console').screenshot({ path: outputPath('console-text.png') });
  });

  test('fits its box and keeps scrollback', async () => {
    const sizes = await page.evaluate(async () => {
      const c = document.getElementById('console');
      const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const before = { cols: c.cols, rows: c.rows };
      c.style.width = '400px';
      c.style.height = '200px';
      await frame();
      await frame();
      const smaller = { cols: c.cols, rows: c.rows };
      c.reset();
      for (let i = 0; i < 300; i++) await c.write(`line ${i}\r\n`);
      const lines = c.lines();
      c.style.width = '800px';
      c.style.height = '320px';
      await frame();
      return { before, smaller, count: lines.length, first: lines[0], last: lines[lines.length - 1] };
    });
    assert.ok(sizes.before.cols >= 80 && sizes.before.rows >= 15, `800x320 px gives ${JSON.stringify(sizes.before)}`);
    assert.ok(sizes.smaller.cols < sizes.before.cols && sizes.smaller.rows < sizes.before.rows, JSON.stringify(sizes));
    assert.equal(sizes.count, 300);
    assert.equal(sizes.first, 'line 0');
    assert.equal(sizes.last, 'line 299');
  });

  test('readonly ignores keys', async () => {
    const input = await page.evaluate(() => {
      document.getElementById('console').readonly = true;
      window.__input.length = 0;
      return document.getElementById('console').updateComplete;
    }).then(async () => {
      await page.keyboard.type('xyz');
      await page.keyboard.press('Enter');
      await page.waitForTimeout(100);
      return page.evaluate(() => window.__input.flat());
    });
    assert.deepEqual(input, []);
    await page.evaluate(() => (document.getElementById('console').readonly = false));
  });

  test('no uncaught errors', () => {
    assertNoProblems(assert, session.problems);
  });
});
