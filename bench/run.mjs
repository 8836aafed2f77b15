#!/usr/bin/env node
// `npm run bench`. The core runs much faster as one bundle than module by module, so the
// benchmark (with the pc-machine core) is bundled with esbuild into a temporary directory first,
// the way src/cli/pc-machine.mjs does, then run from there.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..');
const outdir = mkdtempSync(join(tmpdir(), 'pc-machine-bench-'));
process.on('exit', () => rmSync(outdir, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

await build({
  entryPoints: { main: join(here, 'main.ts'), child: join(here, 'child.ts') },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir,
  outExtension: { '.js': '.mjs' },
  external: ['v86'],
  logLevel: 'error',
});

const { main } = await import(pathToFileURL(join(outdir, 'main.mjs')).href);
process.exitCode = await main(process.argv.slice(2), { repoRoot, childPath: join(outdir, 'child.mjs') });
