/**
 * What a page author sees when something is wrong: a kernel URL that does not load, a file that
 * is not a bzImage, bad attributes. Each must fire `pc-error`, reject `start()`, and show the
 * message inside the element.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { assertNoProblems, launchBrowser, openPage, outputPath } from './helpers.mjs';

let browser;
let session;
let page;

before(async () => {
  browser = await launchBrowser();
  session = await openPage(browser, '/e2e/pages/blank.html');
  page = session.page;
  await page.waitForFunction(() => customElements.get('pc-machine'));
});

after(async () => {
  await session?.close();
  await browser?.close();
});

beforeEach(async () => {
  await page.evaluate(() => {
    document.body.replaceChildren();
    window.__pcEvents.length = 0;
  });
});

/**
 * Puts `<pc-machine>` with `attributes` in the page, calls start(), and returns what happened:
 * the rejection, the pc-error events, the state and the text of the visible error box.
 */
async function startWith(attributes) {
  return page.evaluate(async (attributes) => {
    const m = document.createElement('pc-machine');
    m.id = 'm';
    for (const [k, v] of Object.entries(attributes)) m.setAttribute(k, v);
    const errors = [];
    m.addEventListener('pc-error', (e) => errors.push({ ...e.detail, bubbles: e.bubbles, composed: e.composed }));
    document.body.append(m);
    await m.updateComplete;
    let rejection = null;
    try {
      await m.start();
    } catch (err) {
      rejection = err.message;
    }
    await m.updateComplete;
    const box = m.shadowRoot.querySelector('[part="error"]');
    return {
      rejection,
      errors,
      state: m.state,
      boxText: box?.textContent.replace(/\s+/g, ' ').trim() ?? null,
    };
  }, attributes);
}

/** A local port nothing listens on (connections are refused at once). */
function closedPort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function assertVisibleError(text) {
  const box = page.locator('#m [part="error"]');
  await box.waitFor({ state: 'visible' });
  assert.ok((await box.textContent()).includes(text), `the error box shows "${text}"`);
  const size = await box.boundingBox();
  assert.ok(size && size.width > 100 && size.height > 20, 'the error box has a visible size');
}

describe('pc-machine errors', () => {
  test('a kernel URL that is not found fires pc-error and shows the message', async () => {
    session.allow(/Failed to load resource: the server responded with a status of 404/);
    const r = await startWith({ kernel: '/images/no-such-kernel' });
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0].kind, 'download');
    assert.equal(r.errors[0].bubbles, true);
    assert.equal(r.errors[0].composed, true);
    assert.match(r.errors[0].message, /Could not load the kernel from http:\/\/127\.0\.0\.1:\d+\/images\/no-such-kernel: HTTP 404/);
    assert.equal(r.rejection, r.errors[0].message);
    assert.equal(r.state, 'error');
    assert.ok(r.boxText.includes(r.errors[0].message), r.boxText);
    await assertVisibleError('HTTP 404');
    await page.locator('#m').screenshot({ path: outputPath('error-404.png') });
    // the document saw the same event (bubbles + composed)
    const seen = await page.evaluate(() => window.__pcEvents.filter((e) => e.name === 'pc-error').length);
    assert.equal(seen, 1);
  });

  test('a kernel server that cannot be reached fires pc-error', async () => {
    session.allow(/ERR_CONNECTION_REFUSED/);
    const port = await closedPort();
    const r = await startWith({ kernel: `http://127.0.0.1:${port}/bzImage` });
    assert.equal(r.errors[0]?.kind, 'download');
    assert.equal(r.errors[0].message, `Could not load the kernel from http://127.0.0.1:${port}/bzImage: the network request failed`);
    await assertVisibleError('network request failed');
  });

  test('a file that is not a bzImage fires pc-error before any machine starts', async () => {
    const r = await startWith({ kernel: '/e2e/fixtures/not-a-bzimage.bin' });
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0].kind, 'image');
    assert.match(r.errors[0].message, /is not a bootable bzImage: not a bzImage: missing HdrS signature/);
    assert.equal(r.state, 'error');
    assert.equal(page.workers().length, 0, 'no machine worker was started');
    await assertVisibleError('not a bzImage');
    await page.locator('#m').screenshot({ path: outputPath('error-not-bzimage.png') });
  });

  test('an initrd that is not found fires pc-error naming the initrd', async () => {
    session.allow(/Failed to load resource: the server responded with a status of 404/);
    const r = await startWith({ initrd: '/images/initramfs.cpio.gz /images/missing.cpio' });
    assert.equal(r.errors[0]?.kind, 'download');
    assert.match(r.errors[0].message, /Could not load the initrd from .*\/images\/missing\.cpio: HTTP 404/);
    await assertVisibleError('missing.cpio');
  });

  test('bad attributes fire pc-error with what is wrong', async () => {
    let r = await startWith({ memory: 'lots' });
    assert.equal(r.errors[0]?.kind, 'attribute');
    assert.match(r.errors[0].message, /memory must be a whole number of MiB from 16 to 2048 \(got "lots"\)/);
    await assertVisibleError('memory must be');

    await page.evaluate(() => document.body.replaceChildren());
    r = await startWith({ width: '10' });
    assert.equal(r.errors[0]?.kind, 'attribute');
    assert.match(r.errors[0].message, /width must be a whole number of pixels from 64 to 4096 \(got "10"\)/);

    await page.evaluate(() => document.body.replaceChildren());
    const layout = await page.evaluate(async () => {
      const m = document.createElement('pc-machine');
      m.id = 'm';
      m.setAttribute('layout', 'sideways');
      const errors = [];
      m.addEventListener('pc-error', (e) => errors.push(e.detail));
      document.body.append(m);
      await m.updateComplete;
      await m.updateComplete;
      return { errors, layout: m.layout };
    });
    assert.deepEqual(layout.errors, [{ kind: 'attribute', message: 'layout must be split, console or screen (got "sideways")' }]);
    assert.equal(layout.layout, 'split');
    await assertVisibleError('layout must be');
  });

  test('powerOff() cancels a start in progress and ends the worker; removing the element does too', async () => {
    const cancelled = await page.evaluate(async () => {
      const m = document.createElement('pc-machine');
      document.body.append(m);
      await m.updateComplete;
      const starting = m.start().then(
        () => 'started',
        (err) => err.message,
      );
      await m.powerOff();
      return { result: await starting, state: m.state };
    });
    assert.deepEqual(cancelled, { result: 'pc-machine: the start was cancelled', state: 'idle' });

    // a machine that runs (booting): powerOff rejects pending waits and terminates its worker
    const workerClosed = new Promise((resolve) => page.once('worker', (w) => w.once('close', resolve)));
    const running = await page.evaluate(async () => {
      document.body.replaceChildren();
      const m = document.createElement('pc-machine');
      m.id = 'm';
      document.body.append(m);
      await m.start();
      const waiting = m.waitFor('never printed', { timeout: 0 }).then(
        () => 'resolved',
        (err) => err.message,
      );
      const ready = m.whenReady().then(
        () => 'ready',
        (err) => err.message,
      );
      await m.powerOff();
      return { state: m.state, waiting: await waiting, ready: await ready };
    });
    assert.deepEqual(running, {
      state: 'idle',
      waiting: 'the machine was powered off',
      ready: 'pc-machine: the machine was powered off',
    });
    await workerClosed;

    // removed from the page: the machine is powered off
    const secondClosed = new Promise((resolve) => page.once('worker', (w) => w.once('close', resolve)));
    const removed = await page.evaluate(async () => {
      const m = document.getElementById('m');
      await m.start();
      m.remove();
      await new Promise((r) => setTimeout(r, 50));
      return m.state;
    });
    assert.equal(removed, 'idle');
    await secondClosed;
    assert.equal(page.workers().length, 0);
  });

  test('no uncaught errors', () => {
    assertNoProblems(assert, session.problems);
  });
});
