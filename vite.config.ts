import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const imagesDir = resolve(root, 'images');

/**
 * Serves the guest images as plain bytes. In dev, Vite would treat the extensionless `bzImage` as
 * a module and transform it; and its static server marks every `.gz` file as
 * `Content-Encoding: gzip`, so the browser would unpack the initramfs (Linux takes either, but the
 * bytes should be the file's). Applies to /images/ in dev and to `.gz` assets in `vite preview`.
 */
function guestImages(): Plugin {
  const serveImage = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!path.startsWith('/images/') || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    const file = resolve(root, '.' + path);
    if (!file.startsWith(imagesDir + sep)) return next();
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) return next();
      size = st.size;
    } catch {
      res.statusCode = 404;
      res.end('Not found');
      return;
    }
    res.setHeader('Content-Type', file.endsWith('.gz') ? 'application/gzip' : 'application/octet-stream');
    res.setHeader('Content-Length', String(size));
    res.setHeader('Cache-Control', 'no-cache');
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  };
  const plainGzip = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    if (/\.gz(?:$|\?)/.test(req.url ?? '')) {
      const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
      (res as { writeHead: unknown }).writeHead = (...args: unknown[]) => {
        res.removeHeader('Content-Encoding');
        const headers = args.find((a) => a && typeof a === 'object') as Record<string, unknown> | undefined;
        if (headers) {
          delete headers['Content-Encoding'];
          headers['Content-Type'] = 'application/gzip';
        }
        return writeHead(...args);
      };
    }
    next();
  };
  return {
    name: 'pc-machine:guest-images',
    configureServer(server) {
      server.middlewares.use(serveImage);
    },
    configurePreviewServer(server) {
      server.middlewares.use(plainGzip);
    },
  };
}

/**
 * `vite` (npm start): the demo page (index.html) and, for the e2e tests, the pages under e2e/.
 * `vite build`: the demo site in dist/site.
 * `vite build --mode lib`: the element as one ES module, dist/lib/pc-machine.js, with the worker
 * and the guest images beside it as files (copy the folder into any page).
 */
/** `assets/[name]-[hash][extname]`, without the trailing dot an extensionless `bzImage` would get. */
function assetFileNames(info: { names?: string[]; name?: string }): string {
  const name = info.names?.[0] ?? info.name ?? '';
  return /\.[^./\\]+$/.test(name) ? 'assets/[name]-[hash][extname]' : 'assets/[name]-[hash]';
}

export default defineConfig(({ mode }) => {
  const lib = mode === 'lib';
  return {
    root,
    base: './',
    // no SPA fallback: a wrong image URL is a 404, not index.html
    appType: 'mpa',
    publicDir: false,
    plugins: [guestImages()],
    server: {
      host: '127.0.0.1',
      port: 5173,
      strictPort: false,
      // images/build holds a whole kernel tree: watching it would cost more than serving
      watch: { ignored: ['**/images/build/**', '**/dist/**', '**/e2e/output/**', '**/.git/**'] },
    },
    optimizeDeps: {
      // pre-bundled at startup, so the first page load never triggers a reload
      include: ['lit', 'lit/decorators.js', 'pixi.js', '@xterm/xterm', '@xterm/addon-fit'],
      entries: ['index.html', 'e2e/pages/*.html'],
    },
    worker: {
      format: 'es',
    },
    build: lib
      ? {
          outDir: 'dist/lib',
          emptyOutDir: true,
          target: 'es2022',
          sourcemap: true,
          assetsDir: 'assets',
          lib: {
            entry: resolve(root, 'components/index.ts'),
            formats: ['es'],
            fileName: () => 'pc-machine.js',
          },
          // the images are megabytes: always files, never data: URLs
          assetsInlineLimit: 0,
          rolldownOptions: {
            output: { assetFileNames },
          },
        }
      : {
          outDir: 'dist/site',
          emptyOutDir: true,
          target: 'es2022',
          sourcemap: true,
          assetsInlineLimit: 4096,
          chunkSizeWarningLimit: 2048,
          rolldownOptions: {
            input: { index: resolve(root, 'index.html') },
            output: { assetFileNames },
          },
        },
  };
});
