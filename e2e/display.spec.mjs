/**
 * <pc-display> on its own (e2e/pages/display.html): a known picture goes in as R,G,B,X rows and
 * must come out of the WebGL canvas in the right colours, opaque, crisply scaled, with only the
 * dirty rows re-uploaded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertColor, assertNoProblems, launchBrowser, openPage, outputPath, pngPixelsAt } from './helpers.mjs';

const RED = [255, 0, 0];
const GREEN = [0, 255, 0];
const BLUE = [0, 0, 255];
const WHITE = [255, 255, 255];
const BACKGROUND = [0x10, 0x20, 0x30];

let browser;
let session;
let page;

before(async () => {
  browser = await launchBrowser();
  session = await openPage(browser, '/e2e/pages/display.html');
  page = session.page;
  await page.waitForFunction(() => customElements.get('pc-display') && document.getElementById('display').shadowRoot);
  // 320x200: three vertical bands red | green | blue, a white 1-pixel checkerboard in the top-left
  // 8x8 corner; the fourth byte of every pixel is 0 (padding, must not become transparency)
  await page.evaluate(() => {
    const d = document.getElementById('display');
    const w = 320;
    const h = 200;
    const rows = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 4;
        const band = Math.floor((x * 3) / w);
        rows[i + band] = 255;
        if (x < 8 && y < 8 && (x + y) % 2 === 0) rows.set([255, 255, 255], i);
        rows[i + 3] = 0;
      }
    }
    d.setMode(w, h);
    d.putRows(0, rows);
    return d.whenRendered();
  });
  await page.waitForFunction(() => document.getElementById('display').contentRect !== null);
});

after(async () => {
  await session?.close();
  await browser?.close();
});

/** Screenshot of the display element and its content rectangle (CSS px, relative to the element). */
async function shoot(name) {
  const display = page.locator('#display');
  const png = await display.screenshot({ path: outputPath(name), animations: 'disabled' });
  const rect = await page.evaluate(() => document.getElementById('display').contentRect);
  return { png, rect };
}

/** Canvas point of framebuffer pixel centre (fx, fy). */
function at(rect, fx, fy) {
  return [rect.x + (fx + 0.5) * rect.scale, rect.y + (fy + 0.5) * rect.scale];
}

describe('pc-display', () => {
  test('draws R,G,B,X bytes as opaque red, green and blue, in order, at a crisp 2x scale', async () => {
    const { png, rect } = await shoot('display-bands.png');
    assert.deepEqual(rect, { x: 0, y: 0, width: 640, height: 400, scale: 2 });
    const [r, g, b] = await pngPixelsAt(page, png, [at(rect, 50, 100), at(rect, 160, 100), at(rect, 270, 100)]);
    assertColor(assert, r, RED, 'left band');
    assertColor(assert, g, GREEN, 'middle band');
    assertColor(assert, b, BLUE, 'right band');
    // nearest filtering: each framebuffer pixel is an exact 2x2 block, no blending at the edges
    const checker = await pngPixelsAt(page, png, [
      [0, 0], [1, 1], [2, 0], [3, 1], [2, 2], [3, 3],
    ]);
    assertColor(assert, checker[0], WHITE, 'checker (0,0)', 0);
    assertColor(assert, checker[1], WHITE, 'checker (0,0) lower right', 0);
    assertColor(assert, checker[2], RED, 'checker (1,0)', 0);
    assertColor(assert, checker[3], RED, 'checker (1,0) lower right', 0);
    assertColor(assert, checker[4], WHITE, 'checker (1,1)', 0);
    assertColor(assert, checker[5], WHITE, 'checker (1,1) lower right', 0);
  });

  test('keeps the aspect ratio, centres the picture, and scales down smoothly when it does not fit', async () => {
    await page.evaluate(() => {
      const d = document.getElementById('display');
      d.style.width = '400px';
      d.style.height = '300px';
    });
    await page.waitForFunction(() => document.getElementById('display').contentRect?.width === 320);
    let { png, rect } = await shoot('display-centred.png');
    assert.deepEqual(rect, { x: 40, y: 50, width: 320, height: 200, scale: 1 });
    let px = await pngPixelsAt(page, png, [[10, 150], [200, 20], at(rect, 50, 100), at(rect, 270, 100)]);
    assertColor(assert, px[0], BACKGROUND, 'left margin (background colour)');
    assertColor(assert, px[1], BACKGROUND, 'top margin (background colour)');
    assertColor(assert, px[2], RED, 'left band at 1x');
    assertColor(assert, px[3], BLUE, 'right band at 1x');

    await page.evaluate(() => {
      const d = document.getElementById('display');
      d.style.width = '160px';
      d.style.height = '160px';
    });
    await page.waitForFunction(() => document.getElementById('display').contentRect?.width === 160);
    ({ png, rect } = await shoot('display-small.png'));
    assert.equal(rect.width, 160);
    assert.equal(rect.height, 100);
    assert.equal(rect.scale, 0.5);
    px = await pngPixelsAt(page, png, [at(rect, 50, 100), at(rect, 160, 100), at(rect, 270, 100)]);
    assertColor(assert, px[0], RED, 'left band at 0.5x');
    assertColor(assert, px[1], GREEN, 'middle band at 0.5x');
    assertColor(assert, px[2], BLUE, 'right band at 0.5x');

    await page.evaluate(() => {
      const d = document.getElementById('display');
      d.style.width = '640px';
      d.style.height = '400px';
    });
    await page.waitForFunction(() => document.getElementById('display').contentRect?.scale === 2);
  });

  test('re-uploads only the dirty rows, once per frame however many bands arrive', async () => {
    const uploads = await page.evaluate(async () => {
      const d = document.getElementById('display');
      await d.whenRendered();
      window.__uploads.length = 0;
      const row = new Uint8Array(320 * 4);
      for (let x = 0; x < 320; x++) row.set([255, 255, 255, 0], x * 4);
      // ten bands in one task: rows 50..59 white
      for (let y = 50; y < 60; y++) d.putRows(y, row);
      await d.whenRendered();
      return window.__uploads.slice();
    });
    assert.deepEqual(uploads, [[0, 50, 320, 10]], 'one texSubImage2D of exactly rows 50..59');
    const { png, rect } = await shoot('display-dirty.png');
    const px = await pngPixelsAt(page, png, [at(rect, 100, 49), at(rect, 100, 50), at(rect, 300, 59), at(rect, 300, 60)]);
    assertColor(assert, px[0], RED, 'row 49 unchanged');
    assertColor(assert, px[1], WHITE, 'row 50 updated');
    assertColor(assert, px[2], WHITE, 'row 59 updated');
    assertColor(assert, px[3], BLUE, 'row 60 unchanged');
  });

  test('screenshot() is a PNG of the exact framebuffer, opaque', async () => {
    const result = await page.evaluate(async () => {
      const blob = await document.getElementById('display').screenshot();
      const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      const c = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = c.getContext('2d');
      ctx.drawImage(bitmap, 0, 0);
      const px = (x, y) => Array.from(ctx.getImageData(x, y, 1, 1).data);
      return { type: blob.type, width: bitmap.width, height: bitmap.height, red: px(10, 100), white: px(0, 0), green: px(160, 0), row55: px(200, 55) };
    });
    assert.equal(result.type, 'image/png');
    assert.equal(result.width, 320);
    assert.equal(result.height, 200);
    assert.deepEqual(result.red, [255, 0, 0, 255]);
    assert.deepEqual(result.white, [255, 255, 255, 255]);
    assert.deepEqual(result.green, [0, 255, 0, 255]);
    assert.deepEqual(result.row55, [255, 255, 255, 255]);
  });

  test('polls a framebuffer object given as source and uploads its dirty rows', async () => {
    const uploads = await page.evaluate(async () => {
      const d = document.getElementById('display');
      const width = 64;
      const height = 40;
      const stride = width * 4 + 16; // padded rows
      const pixels = new Uint8Array(stride * height);
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels.set([0, 0, 255, 0], y * stride + x * 4);
      let dirty = null;
      window.__fb = { width, height, stride, pixels, takeDirtyRows() { const r = dirty; dirty = null; return r; } };
      window.__markDirty = (first, last) => { dirty = { first, last }; };
      d.source = window.__fb;
      await d.whenRendered();
      await d.whenRendered();
      window.__uploads.length = 0;
      for (let y = 10; y < 20; y++) for (let x = 0; x < width; x++) pixels.set([0, 255, 0, 0], y * stride + x * 4);
      window.__markDirty(10, 19);
      await d.whenRendered();
      await d.whenRendered();
      return window.__uploads.slice();
    });
    assert.deepEqual(uploads, [[0, 10, 64, 10]]);
    const { png, rect } = await shoot('display-source.png');
    assert.equal(rect.scale, 10);
    const px = await pngPixelsAt(page, png, [at(rect, 5, 5), at(rect, 5, 15), at(rect, 60, 35)]);
    assertColor(assert, px[0], BLUE, 'untouched row');
    assertColor(assert, px[1], GREEN, 'dirty rows');
    assertColor(assert, px[2], BLUE, 'last row');
    await page.evaluate(() => {
      document.getElementById('display').source = null;
    });
  });

  test('double-click and the button toggle fullscreen', async () => {
    await page.locator('#display').dblclick();
    await page.waitForFunction(() => document.fullscreenElement?.id === 'display');
    await page.waitForFunction(() => document.getElementById('display').contentRect?.width > 640);
    await page.locator('#display').hover();
    await page.locator('#display [part="fullscreen-button"]').click();
    await page.waitForFunction(() => document.fullscreenElement === null);
  });

  test('no uncaught errors', () => {
    assertNoProblems(assert, session.problems);
  });
});
