import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cpioFile } from '../machine/test-guest';
import { inflateInitrd, inflateInitrds, isGzip } from './initrd';
import { readImage } from './test-images';

describe('inflateInitrd', () => {
  it('inflates the shipped gzip initramfs to the cpio archive that holds busybox', async () => {
    const gz = readImage('initramfs.cpio.gz');
    expect(isGzip(gz)).toBe(true);
    const cpio = await inflateInitrd(gz);
    expect(isGzip(cpio)).toBe(false);
    expect(new TextDecoder().decode(cpio.subarray(0, 6))).toBe('070701');
    expect(cpio.length).toBeGreaterThan(gz.length);
    // the same file comes out of the inflated archive as out of the compressed one
    const fromPlain = cpioFile(cpio, 'bin/busybox')!;
    const fromGzip = cpioFile(gz, 'bin/busybox')!;
    expect(fromPlain.length).toBeGreaterThan(1_000_000);
    expect(Buffer.from(fromPlain).equals(Buffer.from(fromGzip))).toBe(true);
  });

  it('returns archives that are not gzip unchanged', async () => {
    const plain = new TextEncoder().encode('070701' + '0'.repeat(200));
    expect(await inflateInitrd(plain)).toBe(plain);
  });

  it('hands gzip data it cannot inflate to the kernel unchanged', async () => {
    const gz = gzipSync(Buffer.from('hello initramfs'.repeat(20)));
    const corrupt = new Uint8Array(gz);
    corrupt[corrupt.length - 6] ^= 0xff; // CRC mismatch
    expect(await inflateInitrd(corrupt)).toBe(corrupt);
    const truncated = new Uint8Array(gz.subarray(0, gz.length - 10));
    expect(await inflateInitrd(truncated)).toBe(truncated);
  });

  it('keeps the order of several archives', async () => {
    const a = new Uint8Array(gzipSync(Buffer.from('first archive, padded'.repeat(4))));
    const b = new TextEncoder().encode('second');
    const [x, y] = await inflateInitrds([a, b]);
    expect(new TextDecoder().decode(x)).toBe('first archive, padded'.repeat(4));
    expect(y).toBe(b);
  });
});
