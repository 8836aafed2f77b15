import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IMAGES_DIR } from './test-images';

interface Manifest {
  files: { name: string; size: number; sha256: string }[];
  kernelRelease: string;
  kernelConfigSha256: string;
  busyboxVersion: string;
  buildDate: string;
}

const manifest = JSON.parse(readFileSync(IMAGES_DIR + 'manifest.json', 'utf8')) as Manifest;
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('images/manifest.json', () => {
  it('lists the kernel and the initramfs', () => {
    expect(manifest.files.map((f) => f.name).sort()).toEqual(['bzImage', 'initramfs.cpio.gz']);
  });

  for (const file of manifest.files) {
    it(`${file.name}: exists with the listed size and sha256`, () => {
      const path = IMAGES_DIR + file.name;
      expect(existsSync(path)).toBe(true);
      expect(statSync(path).size).toBe(file.size);
      expect(sha256(path)).toBe(file.sha256);
    });
  }

  it('was built from the current kernel.config', () => {
    expect(sha256(IMAGES_DIR + 'kernel.config')).toBe(manifest.kernelConfigSha256);
  });

  it('records the kernel and busybox versions and the build date', () => {
    expect(manifest.kernelRelease).toMatch(/^6\.1\.\d+/);
    expect(manifest.busyboxVersion).toMatch(/^BusyBox v1\.\d+/);
    expect(Number.isNaN(Date.parse(manifest.buildDate))).toBe(false);
  });
});
