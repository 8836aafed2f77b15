import { describe, expect, it } from 'vitest';
import { PhysMemory } from '../memory/phys-memory';
import { BOOT_PARAMS, SCREEN_INFO, readE820Map, buildE820Map } from './boot-params';
import { BootImageError, SETUP_HEADER, parseBzImage } from './bzimage';
import {
  BOOT_CS,
  BOOT_DS,
  BOOT_GDT_ADDRESS,
  BOOT_PARAMS_ADDRESS,
  CMDLINE_ADDRESS,
  SETUP_DATA_ADDRESS,
  SETUP_RNG_SEED,
  concatenateInitrds,
  loadLinux,
} from './linux-loader';
import { readImage } from './test-images';

const MiB = 1024 * 1024;
const kernel = readImage('bzImage');
const initramfs = readImage('initramfs.cpio.gz');
const header = parseBzImage(kernel).header;

/** A second archive whose length is not a multiple of 4. */
const extra = new Uint8Array(1001).map((_, i) => (i * 7 + 3) & 0xff);

/** Index of the first differing byte, -1 when equal (fast on megabytes, unlike a deep equality). */
function firstDifference(actual: Uint8Array, expected: Uint8Array): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) return i;
  return -1;
}

function readU32(mem: PhysMemory, addr: number): number {
  return mem.read32(addr) >>> 0;
}

describe('loadLinux', () => {
  const mem = new PhysMemory({ ramBytes: 64 * MiB });
  const cmdline = 'console=ttyS0 loglevel=7 tsc_early_khz=1000000';
  const entry = loadLinux(mem, { kernel, initrds: [initramfs, extra], cmdline, framebuffer: null });

  it('puts the protected-mode kernel at 1 MiB', () => {
    const setupSize = ((kernel[0x1f1] || 4) + 1) * 512;
    const pm = kernel.subarray(setupSize);
    expect(entry.layout.kernel).toEqual({ address: 0x100000, size: pm.length });
    expect(firstDifference(mem.readBytes(0x100000, pm.length), pm)).toBe(-1);
  });

  it('concatenates the initrds, each padded to 4 bytes, page-aligned at the top of RAM', () => {
    const initrd = entry.layout.initrd!;
    const paddedFirst = Math.ceil(initramfs.length / 4) * 4;
    expect(initrd.size).toBe(paddedFirst + 1004);
    expect(initrd.address % 4096).toBe(0);
    expect(initrd.address + initrd.size).toBeLessThanOrEqual(64 * MiB);
    expect(64 * MiB - (initrd.address + initrd.size)).toBeLessThan(4096); // as high as possible
    expect(initrd.address).toBeGreaterThanOrEqual(header.prefAddress + header.initSize);
    expect(firstDifference(mem.readBytes(initrd.address, initramfs.length), initramfs)).toBe(-1);
    expect(Array.from(mem.readBytes(initrd.address + initramfs.length, paddedFirst - initramfs.length)).every((b) => b === 0)).toBe(true);
    expect(firstDifference(mem.readBytes(initrd.address + paddedFirst, extra.length), extra)).toBe(-1);
    // the gzip magic of the first archive where ramdisk_image points
    expect(mem.read8(initrd.address)).toBe(0x1f);
    expect(mem.read8(initrd.address + 1)).toBe(0x8b);
  });

  it('writes the NUL-terminated command line and points cmd_line_ptr at it', () => {
    const bytes = mem.readBytes(CMDLINE_ADDRESS, cmdline.length + 1);
    expect(new TextDecoder().decode(bytes.subarray(0, cmdline.length))).toBe(cmdline);
    expect(bytes[cmdline.length]).toBe(0);
    expect(readU32(mem, BOOT_PARAMS_ADDRESS + SETUP_HEADER.CMD_LINE_PTR)).toBe(CMDLINE_ADDRESS);
  });

  it('writes the zero page with the ramdisk and the e820 map', () => {
    const page = mem.readBytes(BOOT_PARAMS_ADDRESS, 4096);
    expect(readE820Map(page)).toEqual(buildE820Map(64 * MiB));
    expect(readU32(mem, BOOT_PARAMS_ADDRESS + SETUP_HEADER.RAMDISK_IMAGE)).toBe(entry.layout.initrd!.address);
    expect(readU32(mem, BOOT_PARAMS_ADDRESS + SETUP_HEADER.RAMDISK_SIZE)).toBe(entry.layout.initrd!.size);
    expect(mem.read8(BOOT_PARAMS_ADDRESS + SETUP_HEADER.TYPE_OF_LOADER)).toBe(0xff);
    expect(readU32(mem, BOOT_PARAMS_ADDRESS + SETUP_HEADER.HEADER)).toBe(0x53726448);
  });

  it('describes the 32-bit entry: flat GDT, CS 0x10, DS 0x18, ESI = boot_params, IF = 0', () => {
    expect(entry.entry).toBe(0x100000);
    expect(entry.bootParams).toBe(BOOT_PARAMS_ADDRESS);
    expect(entry.codeSelector).toBe(0x10);
    expect(entry.dataSelector).toBe(0x18);
    expect(entry.gdt).toEqual({ base: BOOT_GDT_ADDRESS, limit: 31 });
    expect(readU32(mem, BOOT_GDT_ADDRESS)).toBe(0);
    expect(readU32(mem, BOOT_GDT_ADDRESS + 12)).toBe(0);
    expect(readU32(mem, BOOT_GDT_ADDRESS + BOOT_CS)).toBe(0x0000ffff);
    expect(readU32(mem, BOOT_GDT_ADDRESS + BOOT_CS + 4)).toBe(0x00cf9a00);
    expect(readU32(mem, BOOT_GDT_ADDRESS + BOOT_DS)).toBe(0x0000ffff);
    expect(readU32(mem, BOOT_GDT_ADDRESS + BOOT_DS + 4)).toBe(0x00cf9200);
    const r = entry.registers;
    expect([r.esi, r.ebp, r.edi, r.ebx, r.eip]).toEqual([BOOT_PARAMS_ADDRESS, 0, 0, 0, 0x100000]);
    expect(r.eflags & 0x200).toBe(0);
    expect(entry.cr0 & 1).toBe(1);
    expect(entry.cr0 & 0x80000000).toBe(0);
  });

  it('leaves the low-memory structures apart from one another', () => {
    const regions = [
      [BOOT_GDT_ADDRESS, 32],
      [BOOT_PARAMS_ADDRESS, 4096],
      [CMDLINE_ADDRESS, header.cmdlineSize + 1],
    ].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < regions.length; i++) expect(regions[i][0]).toBeGreaterThanOrEqual(regions[i - 1][0] + regions[i - 1][1]);
    expect(CMDLINE_ADDRESS + header.cmdlineSize + 1).toBeLessThanOrEqual(0x9fc00);
  });
});

describe('loadLinux with a framebuffer', () => {
  it('describes it in screen_info', () => {
    const mem = new PhysMemory({ ramBytes: 32 * MiB });
    loadLinux(mem, {
      kernel,
      initrds: [initramfs],
      cmdline: 'console=tty0',
      framebuffer: { base: 0xfd000000, width: 800, height: 600, stride: 3200 },
    });
    const si = BOOT_PARAMS_ADDRESS + BOOT_PARAMS.SCREEN_INFO;
    expect(mem.read8(si + SCREEN_INFO.ORIG_VIDEO_IS_VGA)).toBe(0x23);
    expect(readU32(mem, si + SCREEN_INFO.LFB_BASE)).toBe(0xfd000000);
    expect(mem.read16(si + SCREEN_INFO.LFB_WIDTH)).toBe(800);
    expect(mem.read16(si + SCREEN_INFO.LFB_LINELENGTH)).toBe(3200);
  });
});

describe('loadLinux placement limits and errors', () => {
  it('keeps the initrd below initrd_addr_max', () => {
    const limited = kernel.slice();
    new DataView(limited.buffer).setUint32(SETUP_HEADER.INITRD_ADDR_MAX, 32 * MiB - 1, true);
    const mem = new PhysMemory({ ramBytes: 64 * MiB });
    const { layout } = loadLinux(mem, { kernel: limited, initrds: [initramfs], cmdline: '', framebuffer: null });
    expect(layout.initrd!.address + layout.initrd!.size).toBeLessThanOrEqual(32 * MiB);
    expect(32 * MiB - (layout.initrd!.address + layout.initrd!.size)).toBeLessThan(4096);
  });

  it('boots without an initrd', () => {
    const mem = new PhysMemory({ ramBytes: 16 * MiB });
    const entry = loadLinux(mem, { kernel, initrds: [], cmdline: 'console=ttyS0', framebuffer: null });
    expect(entry.layout.initrd).toBeNull();
    expect(readU32(mem, BOOT_PARAMS_ADDRESS + SETUP_HEADER.RAMDISK_IMAGE)).toBe(0);
    expect(readU32(mem, BOOT_PARAMS_ADDRESS + SETUP_HEADER.RAMDISK_SIZE)).toBe(0);
  });

  it('accepts a command line of exactly cmdline_size bytes and rejects a longer one', () => {
    const mem = new PhysMemory({ ramBytes: 32 * MiB });
    const longest = 'x'.repeat(header.cmdlineSize);
    loadLinux(mem, { kernel, initrds: [], cmdline: longest, framebuffer: null });
    expect(mem.read8(CMDLINE_ADDRESS + header.cmdlineSize)).toBe(0);
    expect(() => loadLinux(mem, { kernel, initrds: [], cmdline: longest + 'x', framebuffer: null })).toThrow(
      new BootImageError(
        `kernel command line too long: ${header.cmdlineSize + 1} bytes, this kernel accepts at most ${header.cmdlineSize}`,
      ),
    );
  });

  it('rejects RAM too small for the kernel + initrd', () => {
    const mem = new PhysMemory({ ramBytes: 16 * MiB });
    const big = new Uint8Array(12 * MiB);
    expect(() => loadLinux(mem, { kernel, initrds: [big], cmdline: '', framebuffer: null })).toThrow(
      /^RAM too small for kernel \+ initrd: they need [\d.]+ MiB, the machine has 16 MiB$/,
    );
  });

  it('rejects RAM too small for the kernel alone', () => {
    const mem = new PhysMemory({ ramBytes: 2 * MiB });
    expect(() => loadLinux(mem, { kernel, initrds: [], cmdline: '', framebuffer: null })).toThrow(
      /^RAM too small: the kernel needs [\d.]+ MiB of memory, the machine has 2 MiB$/,
    );
  });

  it('rejects a file that is not a bzImage before touching memory', () => {
    const mem = new PhysMemory({ ramBytes: 16 * MiB });
    expect(() => loadLinux(mem, { kernel: initramfs, initrds: [], cmdline: '', framebuffer: null })).toThrow(BootImageError);
    expect(mem.read32(0x100000)).toBe(0);
  });
});

describe('loadLinux with an RNG seed', () => {
  it('links one SETUP_RNG_SEED setup_data entry from boot_params (boot.rst, "setup_data")', () => {
    const mem = new PhysMemory({ ramBytes: 64 * MiB });
    const seed = new Uint8Array(32).map((_, i) => 0xa0 + i);
    const entry = loadLinux(mem, { kernel, initrds: [], cmdline: 'x', framebuffer: null, rngSeed: seed });
    const at = readU32(mem, BOOT_PARAMS_ADDRESS + SETUP_HEADER.SETUP_DATA);
    expect(at).toBe(SETUP_DATA_ADDRESS);
    expect(readU32(mem, BOOT_PARAMS_ADDRESS + SETUP_HEADER.SETUP_DATA + 4)).toBe(0); // high half of the u64
    expect([readU32(mem, at), readU32(mem, at + 4)]).toEqual([0, 0]); // next: end of the list
    expect(readU32(mem, at + 8)).toBe(SETUP_RNG_SEED);
    expect(readU32(mem, at + 12)).toBe(32);
    expect(Array.from(mem.readBytes(at + 16, 32))).toEqual(Array.from(seed));
    expect(entry.layout.setupData).toEqual({ address: SETUP_DATA_ADDRESS, size: 48 });
    // clear of the command line (at most cmdline_size bytes + NUL) and of the EBDA
    expect(CMDLINE_ADDRESS + header.cmdlineSize + 1).toBeLessThanOrEqual(SETUP_DATA_ADDRESS);
    expect(SETUP_DATA_ADDRESS + 48).toBeLessThan(0x9fc00);
  });

  it('leaves setup_data empty without a seed and rejects an oversized one', () => {
    const mem = new PhysMemory({ ramBytes: 64 * MiB });
    const entry = loadLinux(mem, { kernel, initrds: [], cmdline: 'x', framebuffer: null });
    expect(readU32(mem, BOOT_PARAMS_ADDRESS + SETUP_HEADER.SETUP_DATA)).toBe(0);
    expect(entry.layout.setupData).toBeNull();
    expect(() => loadLinux(mem, { kernel, initrds: [], cmdline: 'x', framebuffer: null, rngSeed: new Uint8Array(65) }))
      .toThrow(/RNG seed too long: 65 bytes/);
  });
});

describe('concatenateInitrds', () => {
  it('pads every archive to a multiple of 4 bytes', () => {
    const a = new Uint8Array([1, 2, 3, 4, 5]);
    const b = new Uint8Array([6, 7]);
    const c = new Uint8Array([8, 9, 10, 11]);
    expect(Array.from(concatenateInitrds([a, b, c]))).toEqual([1, 2, 3, 4, 5, 0, 0, 0, 6, 7, 0, 0, 8, 9, 10, 11]);
  });
});
