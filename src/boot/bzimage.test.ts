import { closeSync, openSync, readSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BootImageError, LOADED_HIGH, SETUP_HEADER, formatProtocolVersion, parseBzImage } from './bzimage';
import { readImage } from './test-images';

const kernel = readImage('bzImage');

/** A copy of the committed bzImage with `patch` applied. */
function patched(patch: (view: DataView) => void): Uint8Array {
  const copy = kernel.slice();
  patch(new DataView(copy.buffer));
  return copy;
}

function expectBootError(bytes: Uint8Array, message: string): void {
  let error: unknown;
  try {
    parseBzImage(bytes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(BootImageError);
  expect((error as Error).message).toBe(message);
}

describe('parseBzImage on the committed images/bzImage', () => {
  const image = parseBzImage(kernel);
  const { header } = image;

  it('reads a 32-bit boot protocol ≥ 2.10 header', () => {
    expect(header.version).toBeGreaterThanOrEqual(0x020a);
    expect(header.bootFlag).toBe(0xaa55);
    expect(header.loadflags & LOADED_HIGH).toBe(LOADED_HIGH);
    expect(header.code32Start).toBe(0x100000);
    expect(header.initSize).toBeGreaterThan(kernel.length);
    expect(header.cmdlineSize).toBeGreaterThanOrEqual(255);
    expect(header.initrdAddrMax).toBe(0x7fffffff);
    expect(header.hardwareSubarch).toBe(0);
  });

  it('matches the kernel configuration: not relocatable, runs at 1 MiB, i386 only', () => {
    // kernel.config: CONFIG_RELOCATABLE off, CONFIG_PHYSICAL_START=0x100000, CONFIG_PHYSICAL_ALIGN=0x100000
    expect(header.relocatableKernel).toBe(false);
    expect(header.prefAddress).toBe(0x100000);
    expect(header.kernelAlignment).toBe(0x100000);
    expect(header.xloadflags & 1).toBe(0); // XLF_KERNEL_64: no 64-bit entry point
  });

  it('locates the protected-mode kernel after (setup_sects + 1) sectors', () => {
    const sects = kernel[0x1f1] || 4;
    expect(image.setupSize).toBe((sects + 1) * 512);
    expect(image.protectedModeKernel.length).toBe(kernel.length - image.setupSize);
    expect(image.protectedModeKernel.length).toBeGreaterThanOrEqual(header.syssize * 16 - 15);
    expect(image.headerEnd).toBe(0x202 + kernel[0x201]);
    expect(image.headerEnd).toBeGreaterThan(SETUP_HEADER.INIT_SIZE);
  });

  it('finds the kernel version string', () => {
    expect(image.kernelVersion).toMatch(/^6\.1\.\d+/);
    expect(image.kernelVersion).toContain('pc-machine@pc-machine');
  });
});

describe('parseBzImage rejects what it cannot boot', () => {
  it('random bytes', () => {
    let seed = 12345;
    const random = new Uint8Array(64 * 1024).map(() => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    });
    expectBootError(random, 'not a bzImage: missing HdrS signature');
  });

  it('an ELF executable', () => {
    // the first 256 KiB of the running Node executable, an ELF file on Linux
    const elf = new Uint8Array(256 * 1024);
    const fd = openSync(process.execPath, 'r');
    readSync(fd, elf, 0, elf.length, 0);
    closeSync(fd);
    expect(Array.from(elf.subarray(0, 4))).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    expectBootError(elf, 'not a bzImage: missing HdrS signature');
  });

  it('a file too short to hold a header', () => {
    expectBootError(kernel.subarray(0, 0x100), 'not a bzImage: file too short');
    expectBootError(new Uint8Array(0), 'not a bzImage: file too short');
  });

  it('a truncated bzImage', () => {
    expectBootError(kernel.subarray(0, kernel.length >> 1), 'not a bzImage: file too short');
    expectBootError(kernel.subarray(0, 4096), 'not a bzImage: file too short');
  });

  it('boot protocol 2.04', () => {
    const old = patched((v) => v.setUint16(SETUP_HEADER.VERSION, 0x0204, true));
    expectBootError(old, 'boot protocol 2.04 is too old (need ≥ 2.10)');
  });

  it('a zImage (not loaded high)', () => {
    const zImage = patched((v) => v.setUint8(SETUP_HEADER.LOADFLAGS, v.getUint8(SETUP_HEADER.LOADFLAGS) & ~LOADED_HIGH));
    expectBootError(zImage, 'kernel is not loaded high');
  });

  it('a missing boot-sector signature', () => {
    const noFlag = patched((v) => v.setUint16(SETUP_HEADER.BOOT_FLAG, 0, true));
    expectBootError(noFlag, 'not a bzImage: missing 0xAA55 boot flag');
  });

  it('formats protocol versions as major.minor', () => {
    expect(formatProtocolVersion(0x020f)).toBe('2.15');
    expect(formatProtocolVersion(0x0204)).toBe('2.04');
  });
});
