import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, DownloadError } from './download';

let server: Server;
let base: string;
const payload = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/image') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.length });
      // in pieces, so progress is reported more than once
      res.write(payload.subarray(0, 65536));
      setTimeout(() => res.end(payload.subarray(65536)), 20);
    } else if (req.url === '/page') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>fallback</title>');
    } else {
      res.writeHead(404, 'Not Found');
      res.end('nope');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('download', () => {
  it('returns the bytes and reports progress up to the total', async () => {
    const seen: [number, number][] = [];
    const bytes = await download(`${base}/image`, 'kernel', (p) => seen.push([p.loaded, p.total]));
    expect(bytes).toEqual(payload);
    expect(seen[0]).toEqual([0, payload.length]);
    expect(seen.at(-1)).toEqual([payload.length, payload.length]);
    expect(seen.length).toBeGreaterThan(2);
  });

  it('names what and where for an HTTP error', async () => {
    const err = await download(`${base}/missing`, 'kernel').catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toBe(`Could not load the kernel from ${base}/missing: HTTP 404 Not Found`);
  });

  it('refuses an HTML page served in place of an image', async () => {
    await expect(download(`${base}/page`, 'initrd')).rejects.toThrow(
      `Could not load the initrd from ${base}/page: the server sent an HTML page (is the URL right?)`,
    );
  });

  it('reports a refused connection as a network failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(download(`http://127.0.0.1:${port}/x`, 'kernel')).rejects.toThrow(
      `Could not load the kernel from http://127.0.0.1:${port}/x: the network request failed`,
    );
  });
});
