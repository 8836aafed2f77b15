/**
 * Initramfs archives on the host side. Linux unpacks a gzip-compressed initramfs itself, but on
 * an emulated CPU inflating it is most of the boot: the 2.4 MB busybox initramfs takes about
 * 120 million guest instructions to inflate. The host inflates it natively instead and the guest
 * gets the plain cpio archive, which it only copies. The guest sees the same files either way.
 */

/** gzip member header: ID1 ID2 (RFC 1952, 2.3.1). */
const GZIP_ID1 = 0x1f;
const GZIP_ID2 = 0x8b;

export function isGzip(data: Uint8Array): boolean {
  return data.length >= 18 && data[0] === GZIP_ID1 && data[1] === GZIP_ID2;
}

/**
 * Inflate a gzip-compressed archive with the platform's DecompressionStream (browsers, workers
 * and Node alike). Anything else, or gzip data the host cannot inflate (for example several
 * members or trailing bytes), is returned unchanged for the kernel to unpack as before.
 */
export async function inflateInitrd(archive: Uint8Array): Promise<Uint8Array> {
  if (!isGzip(archive) || typeof DecompressionStream === 'undefined') return archive;
  try {
    const input = new Blob([archive as Uint8Array<ArrayBuffer>]).stream();
    const inflated = await new Response(input.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
    return new Uint8Array(inflated);
  } catch {
    return archive;
  }
}

/** `inflateInitrd` for each archive, in order. */
export function inflateInitrds(archives: readonly Uint8Array[]): Promise<Uint8Array[]> {
  return Promise.all(archives.map(inflateInitrd));
}
