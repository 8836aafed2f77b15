/**
 * The library build (`vite build --mode lib`) copied into a plain page with no bundler:
 * `<script type="module" src="pc-machine/pc-machine.js">` and two `<pc-machine>` elements. Both
 * boot the bundled guest from the images shipped next to the script, each in its own worker,
 * and run independently.
 */
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { assertNoProblems, BOOT_TIMEOUT_MS, launchBrowser, openPage, outputPath } from './helpers.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.json': 'application/json', '.map': 'application/json' };

let dir;
let server;
let baseUrl;
let browser;
let session;
let page;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pc-machine-lib-'));
  await build({
    root,
    configFile: join(root, 'vite.config.ts'),
    mode: 'lib',
    logLevel: 'warn',
    build: { outDir: join(dir, 'pc-machine'), emptyOutDir: true, sourcemap: false },
  });
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <link rel="icon" href="data:," />
    <title>two machines from the library build</title>
    <script type="module" src="pc-machine/pc-machine.js"></script>
    <style>body { margin: 0; display: grid; grid-template-columns: 1fr 1fr; gap: 8px; } pc-machine { height: 600px; }</style>
  </head>
  <body>
    <pc-machine id="a" autostart layout="console" memory="48" width="640" height="480"></pc-machine>
    <pc-machine id="b" autostart layout="screen" memory="64"></pc-machine>
  </body>
</html>
`,
  );
  // a plain static server: no Vite, no special headers
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(dir + sep)) return void res.writeHead(403).end();
    let size;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      return void res.writeHead(404).end('not found');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size });
    createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${server.address().port}/`;
  browser = await launchBrowser();
  session = await openPage(browser, baseUrl, { viewport: { width: 1400, height: 700 } });
  page = session.page;
});

after(async () => {
  await session?.close();
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function exec(id, command) {
  return page.evaluate(({ id, command }) => document.getElementById(id).exec(command, { timeout: 180000 }), { id, command });
}

describe('the library build on a plain page', () => {
  test('two machines boot, each in its own worker', { timeout: 2 * BOOT_TIMEOUT_MS }, async () => {
    const boots = await page.evaluate(
      (timeout) =>
        Promise.all(
          ['a', 'b'].map(
            (id) =>
              new Promise((resolve, reject) => {
                const m = document.getElementById(id);
                const timer = setTimeout(() => reject(new Error(`${id}: no prompt after ${timeout} ms (${m.state})`)), timeout);
                const done = () => (clearTimeout(timer), resolve({ id, state: m.state, ready: m.ready }));
                if (m.ready) return done();
                m.addEventListener('pc-ready', done, { once: true });
                m.addEventListener('pc-error', (e) => (clearTimeout(timer), reject(new Error(`${id}: ${e.detail.message}`))), { once: true });
                m.addEventListener('pc-halt', (e) => (clearTimeout(timer), reject(new Error(`${id}: halted ${JSON.stringify(e.detail.reason)}`))), { once: true });
              }),
          ),
        ),
      2 * BOOT_TIMEOUT_MS - 10_000,
    );
    assert.deepEqual(boots, [
      { id: 'a', state: 'running', ready: true },
      { id: 'b', state: 'running', ready: true },
    ]);
    assert.equal(page.workers().length, 2, 'one worker per machine');
    const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname));
    assert.ok(fetched.some((p) => /^\/pc-machine\/assets\/bzImage-[\w-]+$/.test(p)), `the kernel came from the library's assets: ${fetched.join(' ')}`);
    assert.ok(fetched.some((p) => /^\/pc-machine\/assets\/initramfs\.cpio-[\w-]+\.gz$/.test(p)), 'the initramfs came from the library assets');
    await page.screenshot({ path: outputPath('library-two-machines.png') });
  });

  test('the machines are independent', { timeout: 600_000 }, async () => {
    assert.deepEqual(await exec('a', 'echo only-in-a > /tmp/mark && cat /tmp/mark'), { output: 'only-in-a\n', status: 0 });
    const b = await exec('b', 'cat /tmp/mark');
    assert.equal(b.status, 1);
    assert.match(b.output, /No such file or directory/);
    const fb = await page.evaluate(() => ['a', 'b'].map((id) => document.getElementById(id).shadowRoot.querySelector('pc-display').width));
    assert.deepEqual(fb, [640, 1024], 'each machine has its own framebuffer mode');

    // pausing one leaves the other running
    await page.evaluate(() => document.getElementById('a').stop());
    assert.equal(await page.evaluate(() => document.getElementById('a').state), 'stopped');
    assert.deepEqual(await exec('b', 'echo b-still-runs'), { output: 'b-still-runs\n', status: 0 });
    await page.evaluate(() => document.getElementById('a').start());
    assert.deepEqual(await exec('a', 'cat /tmp/mark'), { output: 'only-in-a\n', status: 0 });
  });

  test('a guest poweroff halts one machine and start() boots it again; reset() reboots the other', { timeout: 2 * BOOT_TIMEOUT_MS }, async () => {
    const result = await page.evaluate(async (timeout) => {
      const a = document.getElementById('a');
      const b = document.getElementById('b');
      const events = [];
      for (const m of [a, b]) {
        for (const name of ['pc-reset', 'pc-halt', 'pc-ready', 'pc-start']) {
          m.addEventListener(name, (e) => events.push(`${m.id}:${name}${e.detail?.cause ? `:${e.detail.cause}` : ''}${e.detail?.reason ? `:${e.detail.reason.kind}` : ''}`));
        }
      }
      const waitA = a.waitFor('never printed', { timeout }).then(
        () => 'resolved',
        (err) => err.message,
      );
      const halted = new Promise((resolve) => a.addEventListener('pc-halt', (e) => resolve(e.detail.reason), { once: true }));
      await a.send('poweroff -f\r');
      const reason = await halted;
      const stateAfterHalt = a.state;
      const waitAfterHalt = await waitA;
      // b: a hardware reset boots the kernel again (then b is paused, to leave the CPU to a)
      const since = b.outputPosition;
      await b.reset();
      const bReset = { state: b.state, ready: b.ready };
      await b.waitFor('Linux version 6.1', { since, timeout });
      await b.stop();
      const aReady = new Promise((resolve) => a.addEventListener('pc-ready', resolve, { once: true }));
      await a.start();
      await aReady;
      return { reason, stateAfterHalt, waitAfterHalt, bReset, events, states: [a.state, b.state] };
    }, BOOT_TIMEOUT_MS);
    assert.deepEqual(result.reason, { kind: 'poweroff' });
    assert.equal(result.stateAfterHalt, 'halted');
    assert.equal(result.waitAfterHalt, 'pc-machine: powered off', 'waitFor rejects when the machine halts');
    assert.deepEqual(result.bReset, { state: 'running', ready: false });
    assert.deepEqual(result.states, ['running', 'stopped']);
    for (const e of ['a:pc-halt:poweroff', 'b:pc-reset:host', 'a:pc-reset:host', 'a:pc-start', 'a:pc-ready']) {
      assert.ok(result.events.includes(e), `${e} in ${result.events.join(' ')}`);
    }
    assert.deepEqual(await exec('a', 'cat /tmp/mark'), { output: 'cat: can\'t open \'/tmp/mark\': No such file or directory\n', status: 1 });
  });

  test('no uncaught errors', () => {
    assertNoProblems(assert, session.problems);
  });
});
