#!/usr/bin/env node
// The `pc-machine` command. The core is TypeScript: bundle it once with esbuild (milliseconds, cached by
// content hash in the OS temp directory) so it runs as plain optimised JavaScript, then start the runner.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const srcRoot = join(here, '..');

function hashSources(dir, hash) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) hashSources(p, hash);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) hash.update(name).update(readFileSync(p));
  }
  return hash;
}

async function load() {
  const key = hashSources(srcRoot, createHash('sha256')).digest('hex').slice(0, 16);
  const out = join(tmpdir(), `pc-machine-cli-${key}.mjs`);
  if (!existsSync(out)) {
    await build({
      entryPoints: [join(here, 'main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: out,
      logLevel: 'error',
      define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(here, 'main.ts')).href) },
    });
  }
  return import(pathToFileURL(out).href);
}

const { main } = await load();
process.exitCode = await main(process.argv.slice(2));
