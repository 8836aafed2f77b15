import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readImage } from '../boot/test-images';
import { cpioFile } from '../machine/test-guest';

const BIN = fileURLToPath(new URL('./pc-machine.mjs', import.meta.url));
const IMAGES = fileURLToPath(new URL('../../images/', import.meta.url));

function run(args: string[], timeoutMs = 60_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A newc cpio archive holding regular files (mode 0644) and their directories. */
function cpio(files: Record<string, string>): Uint8Array {
  const parts: Buffer[] = [];
  let ino = 1000;
  const entry = (name: string, mode: number, data: Buffer) => {
    const hex = (n: number) => n.toString(16).padStart(8, '0');
    const nameBytes = Buffer.from(name + '\0');
    const header =
      '070701' + hex(ino++) + hex(mode) + hex(0) + hex(0) + hex(1) + hex(0) + hex(data.length) +
      hex(0) + hex(0) + hex(0) + hex(0) + hex(nameBytes.length) + hex(0);
    const head = Buffer.concat([Buffer.from(header), nameBytes]);
    parts.push(head, Buffer.alloc((4 - (head.length % 4)) % 4), data, Buffer.alloc((4 - (data.length % 4)) % 4));
  };
  for (const [name, text] of Object.entries(files)) entry(name, 0o100644, Buffer.from(text));
  entry('TRAILER!!!', 0, Buffer.alloc(0));
  return new Uint8Array(Buffer.concat(parts));
}

describe('pc-machine command line', () => {
  it('rejects a kernel that is not a bzImage with a one-line error and exit status 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcm-'));
    const fake = join(dir, 'kernel');
    writeFileSync(fake, 'not a kernel at all\n'.repeat(64));
    const r = run(['exec', '--kernel', fake, '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pc-machine: not a bzImage/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reports a missing file, a bad flag and a bad memory size clearly', () => {
    const missing = run(['--kernel', '/nonexistent/bzImage']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('pc-machine: cannot read kernel /nonexistent/bzImage: no such file\n');
    const flag = run(['--frobnicate']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^pc-machine: Unknown option '--frobnicate'/);
    const mem = run(['exec', '--memory', 'lots', '--', 'true']);
    expect(mem.code).toBe(2);
    expect(mem.stderr).toMatch(/--memory must be a whole number/);
  });

  it('runs one command in the guest: only its output, its exit status, extra files from a second initrd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcm-'));
    const extra = join(dir, 'extra.cpio');
    writeFileSync(extra, cpio({ 'hello.txt': 'hello from a second initrd\n' }));
    const r = run(
      [
        'exec', '--initrd', join(IMAGES, 'initramfs.cpio.gz'), '--initrd', extra, '--',
        "sha256sum /bin/busybox; cat /hello.txt; sh -c 'exit 3'",
      ],
      300_000,
    );
    const busybox = cpioFile(readImage('initramfs.cpio.gz'), 'bin/busybox')!;
    const hash = createHash('sha256').update(busybox).digest('hex');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${hash}  /bin/busybox\nhello from a second initrd\n`);
    expect(r.code).toBe(3);
  }, 320_000);
});
