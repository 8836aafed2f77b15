/**
 * The demo page boots the bundled Linux guest once; every test then uses that machine: typing
 * into the serial console with real key presses, exec(), the framebuffer (boot logo, pcm-fbdemo,
 * a colour pattern written to /dev/fb0 from the guest), and no uncaught errors on the way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  assertColor,
  assertNoProblems,
  BOOT_TIMEOUT_MS,
  installPngDecoder,
  launchBrowser,
  openPage,
  outputPath,
  pngPixelsAt,
} from './helpers.mjs';

const EXEC_TIMEOUT_MS = 180_000;

let browser;
let session;
let page;
let bootMs = 0;

before(async () => {
  browser = await launchBrowser();
  session = await openPage(browser, '/', { viewport: { width: 1400, height: 1200 } });
  page = session.page;
  await page.waitForFunction(() => customElements.get('pc-machine') && document.querySelector('pc-machine'));
  await installPngDecoder(page);
});

after(async () => {
  if (page) await page.screenshot({ path: outputPath('boot-page-final.png') }).catch(() => {});
  await session?.close();
  await browser?.close();
});

/** machine.exec() in the page. */
function exec(command, timeout = EXEC_TIMEOUT_MS) {
  return page.evaluate(({ command, timeout }) => document.querySelector('pc-machine').exec(command, { timeout }), { command, timeout });
}

/** The machine's screenshot() decoded in the page; `probe(img)` runs there and returns JSON. */
async function analyseScreenshot(probe, name) {
  const { result, png } = await page.evaluate(async (probeSource) => {
    const blob = await document.querySelector('pc-machine').screenshot();
    const img = await window.__decodePng(blob);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    // eslint-disable-next-line no-new-func
    return { result: new Function('img', `return (${probeSource})(img)`)(img), png: btoa(binary) };
  }, probe.toString());
  if (name) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(outputPath(name), Buffer.from(png, 'base64'));
  }
  return result;
}

describe('the demo page', () => {
  test('boots to the shell prompt', { timeout: BOOT_TIMEOUT_MS + 30_000 }, async () => {
    const ready = await page.evaluate(
      (timeout) =>
        new Promise((resolve, reject) => {
          const m = document.querySelector('pc-machine');
          if (m.ready) return resolve({ bootMs: -1 });
          const timer = setTimeout(() => reject(new Error(`no prompt after ${timeout} ms; state ${m.state}; output tail:\n${m.output().slice(-2000)}`)), timeout);
          m.addEventListener('pc-ready', (e) => (clearTimeout(timer), resolve(e.detail)), { once: true });
          m.addEventListener('pc-halt', (e) => (clearTimeout(timer), reject(new Error(`halted: ${JSON.stringify(e.detail.reason)}\n${m.output().slice(-2000)}`))), { once: true });
          m.addEventListener('pc-error', (e) => (clearTimeout(timer), reject(new Error(`pc-error: ${e.detail.message}`))), { once: true });
        }),
      BOOT_TIMEOUT_MS,
    );
    bootMs = ready.bootMs;
    console.log(`# booted to the prompt in ${(bootMs / 1000).toFixed(1)} s`);
    await page.screenshot({ path: outputPath('boot-ready.png') });
    const events = await page.evaluate(() => window.__pcEvents);
    const progress = events.filter((e) => e.name === 'pc-progress').map((e) => e.detail);
    for (const phase of ['kernel', 'initrd', 'boot']) {
      assert.ok(progress.some((p) => p.phase === phase), `pc-progress reported the ${phase} phase`);
    }
    assert.ok(progress.some((p) => p.phase === 'kernel' && p.fraction === 1), 'the kernel download completed');
    assert.deepEqual(progress.at(-1), { phase: 'boot', fraction: 1, label: 'shell ready' });
    assert.ok(events.some((e) => e.name === 'pc-start'), 'pc-start fired');
    assert.ok(events.some((e) => e.name === 'pc-serial'), 'pc-serial fired');
    assert.equal(events.filter((e) => e.name === 'pc-ready').length, 1);
    const state = await page.evaluate(() => {
      const m = document.querySelector('pc-machine');
      return { state: m.state, ready: m.ready };
    });
    assert.deepEqual(state, { state: 'running', ready: true });
    assert.equal(page.workers().length, 1, 'one machine worker');
  });

  test('typing with real key presses runs a command in the guest', async () => {
    await page.locator('pc-machine pc-console').click();
    await page.keyboard.type('echo hello-$((6*7))');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => {
        const lines = document.querySelector('pc-machine').shadowRoot.querySelector('pc-console').lines();
        return lines.some((l) => l.trim() === 'hello-42');
      },
      null,
      { timeout: EXEC_TIMEOUT_MS },
    );
    const lines = await page.evaluate(() => document.querySelector('pc-machine').shadowRoot.querySelector('pc-console').lines());
    const echoed = lines.findIndex((l) => l.includes('echo hello-$((6*7))'));
    assert.ok(echoed >= 0, 'the typed line is echoed');
    assert.equal(lines[echoed + 1].trim(), 'hello-42');
    await page.locator('pc-machine pc-console').screenshot({ path: outputPath('boot-typed.png') });
  });

  test('exec() resolves with the output and the exit status', async () => {
    const uname = await exec('uname -r');
    assert.equal(uname.status, 0);
    assert.match(uname.output, /^6\.1[.\d-]*\S*\n$/, JSON.stringify(uname.output));

    assert.deepEqual(await exec('printf "a b\\n  c"'), { output: 'a b\n  c', status: 0 });
    assert.deepEqual(await exec('false'), { output: '', status: 1 });
    assert.deepEqual(await exec('sh -c "echo to-stderr >&2; exit 3"'), { output: 'to-stderr\n', status: 3 });
    assert.deepEqual(await exec('cd /proc && pwd'), { output: '/proc\n', status: 0 });
    assert.deepEqual(await exec('pwd; cd'), { output: '/proc\n', status: 0 });

    const cpuinfo = await exec('cat /proc/cpuinfo');
    assert.equal(cpuinfo.status, 0);
    assert.match(cpuinfo.output, /^processor\s*: 0$/m);
    assert.ok(!cpuinfo.output.includes('\x1b'), 'no escape sequences in exec output');
    assert.ok(!cpuinfo.output.includes('\r'), 'no carriage returns in exec output');
  });

  test('the framebuffer shows the penguin logo and console text after boot', async () => {
    const probe = (img) => {
      const at = (x, y) => {
        const i = (y * img.width + x) * 4;
        return [img.data[i], img.data[i + 1], img.data[i + 2], img.data[i + 3]];
      };
      let yellow = 0;
      let white = 0;
      let dark = 0;
      for (let y = 0; y < 80; y++) {
        for (let x = 0; x < 80; x++) {
          const [r, g, b] = at(x, y);
          if (r > 180 && g > 120 && g < 230 && b < 90) yellow++;
          if (r > 200 && g > 200 && b > 200) white++;
          if (r < 40 && g < 40 && b < 40) dark++;
        }
      }
      let lit = 0;
      const colours = new Set();
      for (let y = 100; y < img.height; y += 2) {
        for (let x = 0; x < img.width; x += 2) {
          const [r, g, b] = at(x, y);
          if (r + g + b > 150) lit++;
          colours.add((r << 16) | (g << 8) | b);
        }
      }
      let opaque = true;
      for (let i = 3; i < img.data.length; i += 4 * 97) if (img.data[i] !== 255) opaque = false;
      return { width: img.width, height: img.height, yellow, white, dark, lit, colours: colours.size, opaque };
    };
    const r = await analyseScreenshot(probe, 'framebuffer-boot.png');
    assert.equal(r.width, 1024);
    assert.equal(r.height, 768);
    assert.ok(r.opaque, 'every pixel is opaque');
    // the 80x80 clut224 logo: ~640 yellow (beak, feet), ~900 white (belly), ~4100 black pixels
    assert.ok(r.yellow > 300, `logo yellow pixels: ${r.yellow}`);
    assert.ok(r.white > 400, `logo white pixels: ${r.white}`);
    assert.ok(r.dark > 2000, `logo black pixels: ${r.dark}`);
    // kernel messages under the logo
    assert.ok(r.lit > 2000, `console text pixels: ${r.lit}`);
    assert.ok(r.colours >= 2, 'more than one colour below the logo');
  });

  test('pcm-fbdemo animates the framebuffer', { timeout: 600_000 }, async () => {
    const fingerprint = (img) => {
      // a coarse hash of the picture below the logo area
      let h = 0;
      for (let y = 120; y < img.height; y += 7) {
        for (let x = 3; x < img.width; x += 13) {
          const i = (y * img.width + x) * 4;
          h = (Math.imul(h, 31) + img.data[i] * 65536 + img.data[i + 1] * 256 + img.data[i + 2]) | 0;
        }
      }
      return h;
    };
    const before = await analyseScreenshot(fingerprint);
    await page.evaluate(() => document.querySelector('pc-machine').send('pcm-fbdemo 100000\r'));
    const seen = new Set([before]);
    const deadline = Date.now() + 300_000;
    while (seen.size < 3 && Date.now() < deadline) {
      await page.waitForTimeout(500);
      seen.add(await analyseScreenshot(fingerprint, seen.size === 2 ? 'framebuffer-fbdemo.png' : undefined));
    }
    // stop the demo and get the prompt back
    const promptBack = page.evaluate(() => document.querySelector('pc-machine').waitFor(/\n[^\n]*[#$] /, { timeout: 120000 }));
    await page.evaluate(() => document.querySelector('pc-machine').send('\x03'));
    await promptBack;
    assert.ok(seen.size >= 3, `the picture changed at least twice while pcm-fbdemo ran (${seen.size - 1} changes)`);
  });

  test('colours written to /dev/fb0 by the guest appear on the canvas in order', { timeout: 600_000 }, async () => {
    // 32x32 blocks of red, green and blue pixels at the top-left, as R,G,B,X bytes
    const command =
      'echo 0 > /sys/class/graphics/fbcon/cursor_blink 2>/dev/null; ' +
      '( for c in "\\377\\000\\000\\000" "\\000\\377\\000\\000" "\\000\\000\\377\\000"; do i=0; while [ $i -lt 32 ]; do printf "$c"; i=$((i+1)); done; done ) > /tmp/rgb && ' +
      's=$(cat /sys/class/graphics/fb0/stride) && y=0; while [ $y -lt 32 ]; do dd if=/tmp/rgb of=/dev/fb0 bs=$s seek=$y conv=notrunc 2>/dev/null; y=$((y+1)); done; ' +
      'wc -c < /tmp/rgb';
    const r = await exec(command);
    assert.deepEqual(r, { output: '384\n', status: 0 });

    // the machine's screenshot(): exact framebuffer pixels
    const fb = await analyseScreenshot((img) => {
      const at = (x, y) => Array.from(img.data.slice((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
      return { red: at(0, 0), red2: at(31, 31), green: at(32, 0), green2: at(63, 31), blue: at(64, 0), blue2: at(95, 31), below: at(16, 33) };
    }, 'framebuffer-rgb.png');
    assert.deepEqual(fb.red, [255, 0, 0, 255]);
    assert.deepEqual(fb.red2, [255, 0, 0, 255]);
    assert.deepEqual(fb.green, [0, 255, 0, 255]);
    assert.deepEqual(fb.green2, [0, 255, 0, 255]);
    assert.deepEqual(fb.blue, [0, 0, 255, 255]);
    assert.deepEqual(fb.blue2, [0, 0, 255, 255]);

    // what the page shows: the WebGL canvas, as Chromium composited it
    const display = page.locator('pc-machine pc-display');
    await page.evaluate(() => document.querySelector('pc-machine').shadowRoot.querySelector('pc-display').whenRendered());
    const rect = await page.evaluate(() => document.querySelector('pc-machine').shadowRoot.querySelector('pc-display').contentRect);
    assert.ok(rect && rect.width > 0, 'the display has drawn the framebuffer');
    const png = await display.screenshot({ path: outputPath('canvas-rgb.png') });
    const centre = (fx, fy) => [rect.x + (fx + 0.5) * (rect.width / 1024), rect.y + (fy + 0.5) * (rect.height / 768)];
    const [red, green, blue] = await pngPixelsAt(page, png, [centre(16, 16), centre(48, 16), centre(80, 16)]);
    assertColor(assert, red, [255, 0, 0], 'first block on the canvas');
    assertColor(assert, green, [0, 255, 0], 'second block on the canvas');
    assertColor(assert, blue, [0, 0, 255], 'third block on the canvas');
  });

  test('no uncaught errors', () => {
    assertNoProblems(assert, session.problems);
  });
});
