#!/usr/bin/env node
/**
 * The e2e runner (`npm run test:e2e`, and the last step of `npm test`): serves the project with
 * Vite on a free port, runs e2e/*.spec.mjs with Node's test runner one file at a time (each spec
 * drives Debian's Chromium through playwright-core), and exits non-zero when any test fails.
 *
 *   node e2e/run.mjs [name-filter ...]   only spec files whose name contains a filter
 *
 * Screenshots go to e2e/output/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const filters = process.argv.slice(2);

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium) && !process.env.CHROMIUM_PATH) {
  console.log('e2e: installing Debian\'s chromium');
  spawnSync('bash', [join(here, 'install-chromium.sh')], { stdio: 'inherit' });
}
if (!existsSync(chromium)) {
  console.error(`e2e: Chromium not found at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}

const specs = readdirSync(here)
  .filter((f) => f.endsWith('.spec.mjs'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
  .map((f) => join(here, f));
if (specs.length === 0) {
  console.error(`e2e: no spec files match ${filters.join(', ')}`);
  process.exit(1);
}

const port = await freePort();
const server = await createServer({
  root,
  configFile: join(root, 'vite.config.ts'),
  logLevel: 'warn',
  clearScreen: false,
  // a test run must not reload its pages when files change under it
  server: { host: '127.0.0.1', port, strictPort: true, hmr: false, watch: null },
});
await server.listen();
const baseUrl = `http://127.0.0.1:${port}/`;
console.log(`e2e: Vite on ${baseUrl}, ${specs.length} spec file(s): ${specs.map((s) => relative(root, s)).join(', ')}`);

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  await server.close().catch(() => {});
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));

const child = spawn(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=1', ...specs],
  { cwd: root, stdio: 'inherit', env: { ...process.env, E2E_BASE_URL: baseUrl } },
);
child.on('exit', (code, signal) => void shutdown(code ?? (signal ? 1 : 0)));
