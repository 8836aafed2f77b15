/**
 * The Linux "zero page" (struct boot_params, Documentation/x86/zero-page.rst) that pc-machine hands
 * to the kernel in ESI: the setup header copied from the bzImage, the e820 memory map and the
 * screen_info that describes the linear framebuffer.
 */
import { CAN_USE_HEAP, LOADED_HIGH, SETUP_HEADER, type BzImage } from './bzimage';

export const BOOT_PARAMS_SIZE = 4096;

/** Offsets of struct boot_params fields (arch/x86/include/uapi/asm/bootparam.h, zero-page.rst). */
export const BOOT_PARAMS = {
  SCREEN_INFO: 0x000,
  EXT_RAMDISK_IMAGE: 0x0c0,
  EXT_RAMDISK_SIZE: 0x0c4,
  EXT_CMD_LINE_PTR: 0x0c8,
  ALT_MEM_K: 0x1e0,
  E820_ENTRIES: 0x1e8,
  SENTINEL: 0x1ef,
  SETUP_HEADER: 0x1f1,
  E820_TABLE: 0x2d0,
} as const;

/** Offsets inside struct screen_info (include/uapi/linux/screen_info.h). */
export const SCREEN_INFO = {
  ORIG_X: 0x00,
  ORIG_Y: 0x01,
  EXT_MEM_K: 0x02,
  ORIG_VIDEO_PAGE: 0x04,
  ORIG_VIDEO_MODE: 0x06,
  ORIG_VIDEO_COLS: 0x07,
  ORIG_VIDEO_EGA_BX: 0x0a,
  ORIG_VIDEO_LINES: 0x0e,
  ORIG_VIDEO_IS_VGA: 0x0f,
  ORIG_VIDEO_POINTS: 0x10,
  LFB_WIDTH: 0x12,
  LFB_HEIGHT: 0x14,
  LFB_DEPTH: 0x16,
  LFB_BASE: 0x18,
  LFB_SIZE: 0x1c,
  LFB_LINELENGTH: 0x24,
  RED_SIZE: 0x26,
  RED_POS: 0x27,
  GREEN_SIZE: 0x28,
  GREEN_POS: 0x29,
  BLUE_SIZE: 0x2a,
  BLUE_POS: 0x2b,
  RSVD_SIZE: 0x2c,
  RSVD_POS: 0x2d,
  PAGES: 0x32,
  CAPABILITIES: 0x36,
  EXT_LFB_BASE: 0x3a,
} as const;

/** orig_video_isVGA: a VESA linear framebuffer (include/uapi/linux/screen_info.h). */
export const VIDEO_TYPE_VLFB = 0x23;
/** screen_info.capabilities bit: ext_lfb_base holds the upper 32 bits of the base. */
export const VIDEO_CAPABILITY_64BIT_BASE = 1 << 1;
/** lfb_size of a VIDEO_TYPE_VLFB framebuffer counts 64 KiB units (drivers/firmware/sysfb_simplefb.c). */
export const VLFB_SIZE_UNIT = 65536;
/** The framebuffer pixel format: 32 bits per pixel, bytes R, G, B, X in memory. */
export const FRAMEBUFFER_DEPTH = 32;
export const FRAMEBUFFER_CHANNELS = {
  red: { size: 8, pos: 0 },
  green: { size: 8, pos: 8 },
  blue: { size: 8, pos: 16 },
  reserved: { size: 8, pos: 24 },
} as const;

/** e820 entry types (zero-page.rst, ACPI "Address Range Types"). */
export const E820_TYPE_RAM = 1;
export const E820_TYPE_RESERVED = 2;
export const E820_ENTRY_SIZE = 20;
/** Entries that fit in the zero page (E820_MAX_ENTRIES_ZEROPAGE). */
export const E820_MAX_ENTRIES_ZEROPAGE = 128;

/** Conventional memory below the extended BIOS data area. */
export const EBDA_START = 0x9fc00;
export const LOW_MEMORY_END = 0xa0000;
/** The system BIOS ROM area. */
export const BIOS_ROM_START = 0xf0000;
export const HIGH_MEMORY_START = 0x100000;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

/** The linear framebuffer as the machine maps it (32 bpp, R,G,B,X bytes). */
export interface FramebufferInfo {
  /** Guest-physical base address. */
  base: number;
  width: number;
  height: number;
  /** Bytes per scan line. */
  stride: number;
}

export interface BootParamsOptions {
  /** RAM size in bytes; RAM starts at address 0. */
  ramBytes: number;
  /** Guest-physical address of the NUL-terminated kernel command line. */
  cmdLinePtr: number;
  /** The initrd's guest-physical address and size, or null for none. */
  ramdisk: { address: number; size: number } | null;
  framebuffer: FramebufferInfo | null;
}

/**
 * The memory map of a PC with `ramBytes` of RAM: low memory up to the EBDA, the EBDA and the BIOS
 * ROM reserved, RAM from 1 MiB to the end. The 0xA0000-0xF0000 hole (VGA window, option ROMs) is
 * left out, so the kernel treats it as not RAM.
 */
export function buildE820Map(ramBytes: number): E820Entry[] {
  if (ramBytes <= HIGH_MEMORY_START) throw new RangeError('RAM must be larger than 1 MiB');
  return [
    { addr: 0, size: EBDA_START, type: E820_TYPE_RAM },
    { addr: EBDA_START, size: LOW_MEMORY_END - EBDA_START, type: E820_TYPE_RESERVED },
    { addr: BIOS_ROM_START, size: HIGH_MEMORY_START - BIOS_ROM_START, type: E820_TYPE_RESERVED },
    { addr: HIGH_MEMORY_START, size: ramBytes - HIGH_MEMORY_START, type: E820_TYPE_RAM },
  ];
}

function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % 2 ** 32, true);
  view.setUint32(offset + 4, Math.floor(value / 2 ** 32), true);
}

function writeScreenInfo(view: DataView, ramBytes: number, framebuffer: FramebufferInfo | null): void {
  const S = SCREEN_INFO;
  const base = BOOT_PARAMS.SCREEN_INFO;
  // Extended memory above 1 MiB in KiB (16 bits: saturates, alt_mem_k and e820 carry the real size).
  view.setUint16(base + S.EXT_MEM_K, Math.min(0xffff, Math.floor((ramBytes - HIGH_MEMORY_START) / 1024)), true);
  // An 80x25 console with a 16-line font: the geometry the console code falls back to.
  view.setUint8(base + S.ORIG_VIDEO_COLS, 80);
  view.setUint8(base + S.ORIG_VIDEO_LINES, 25);
  view.setUint16(base + S.ORIG_VIDEO_POINTS, 16, true);
  if (!framebuffer) {
    // orig_video_isVGA = 0: no display. The kernel registers no framebuffer and the virtual
    // terminals stay on the dummy console; messages go to the serial console.
    return;
  }
  const { base: lfbBase, width, height, stride } = framebuffer;
  if (!Number.isInteger(lfbBase) || lfbBase <= 0 || lfbBase > 0xffffffff) {
    throw new RangeError(`framebuffer base ${lfbBase} must be a nonzero 32-bit address`);
  }
  if (width <= 0 || height <= 0 || width > 0xffff || height > 0xffff) {
    throw new RangeError(`framebuffer size ${width}x${height} is out of range`);
  }
  if (stride < width * 4 || stride > 0xffff) throw new RangeError(`framebuffer stride ${stride} is out of range`);
  view.setUint8(base + S.ORIG_VIDEO_IS_VGA, VIDEO_TYPE_VLFB);
  view.setUint16(base + S.LFB_WIDTH, width, true);
  view.setUint16(base + S.LFB_HEIGHT, height, true);
  view.setUint16(base + S.LFB_DEPTH, FRAMEBUFFER_DEPTH, true);
  view.setUint32(base + S.LFB_BASE, lfbBase, true);
  view.setUint32(base + S.LFB_SIZE, Math.ceil((stride * height) / VLFB_SIZE_UNIT), true);
  view.setUint16(base + S.LFB_LINELENGTH, stride, true);
  const c = FRAMEBUFFER_CHANNELS;
  view.setUint8(base + S.RED_SIZE, c.red.size);
  view.setUint8(base + S.RED_POS, c.red.pos);
  view.setUint8(base + S.GREEN_SIZE, c.green.size);
  view.setUint8(base + S.GREEN_POS, c.green.pos);
  view.setUint8(base + S.BLUE_SIZE, c.blue.size);
  view.setUint8(base + S.BLUE_POS, c.blue.pos);
  view.setUint8(base + S.RSVD_SIZE, c.reserved.size);
  view.setUint8(base + S.RSVD_POS, c.reserved.pos);
  view.setUint16(base + S.PAGES, 1, true);
  // A 32-bit base: VIDEO_CAPABILITY_64BIT_BASE stays clear and ext_lfb_base 0.
  view.setUint32(base + S.CAPABILITIES, 0, true);
}

/**
 * Build the 4 KiB zero page for `image` (boot.rst, "32-bit Boot Protocol": a zeroed boot_params
 * with the setup header copied in at 0x1F1, then the loader's fields filled in).
 */
export function buildBootParams(image: BzImage, options: BootParamsOptions): Uint8Array {
  const { ramBytes, cmdLinePtr, ramdisk, framebuffer } = options;
  const page = new Uint8Array(BOOT_PARAMS_SIZE);
  const view = new DataView(page.buffer);
  const H = SETUP_HEADER;

  // The setup header, from 0x1F1 up to 0x202 + the byte at 0x201.
  page.set(image.bytes.subarray(H.SETUP_SECTS, image.headerEnd), BOOT_PARAMS.SETUP_HEADER);

  // 0xFF: a boot loader without an assigned ID (boot.rst, "type_of_loader").
  view.setUint8(H.TYPE_OF_LOADER, 0xff);
  // The kernel is already at 0x100000; no real-mode setup code runs, so there is no setup heap.
  let loadflags = view.getUint8(H.LOADFLAGS);
  loadflags = (loadflags | LOADED_HIGH) & ~CAN_USE_HEAP;
  view.setUint8(H.LOADFLAGS, loadflags);
  view.setUint16(H.HEAP_END_PTR, 0, true);
  view.setUint32(H.CMD_LINE_PTR, cmdLinePtr, true);
  view.setUint32(H.RAMDISK_IMAGE, ramdisk ? ramdisk.address : 0, true);
  view.setUint32(H.RAMDISK_SIZE, ramdisk ? ramdisk.size : 0, true);
  // Everything sits below 4 GiB: the ext_* upper halves stay 0.
  view.setUint32(BOOT_PARAMS.EXT_RAMDISK_IMAGE, 0, true);
  view.setUint32(BOOT_PARAMS.EXT_RAMDISK_SIZE, 0, true);
  view.setUint32(BOOT_PARAMS.EXT_CMD_LINE_PTR, 0, true);

  // alt_mem_k: memory above 1 MiB in KiB (the pre-e820 "int 15h, ax=e801" size).
  view.setUint32(BOOT_PARAMS.ALT_MEM_K, Math.floor((ramBytes - HIGH_MEMORY_START) / 1024), true);

  const e820 = buildE820Map(ramBytes);
  view.setUint8(BOOT_PARAMS.E820_ENTRIES, e820.length);
  e820.forEach((entry, i) => {
    const at = BOOT_PARAMS.E820_TABLE + i * E820_ENTRY_SIZE;
    writeU64(view, at, entry.addr);
    writeU64(view, at + 8, entry.size);
    view.setUint32(at + 16, entry.type, true);
  });

  writeScreenInfo(view, ramBytes, framebuffer);
  return page;
}

/** Read back the e820 table of a zero page. */
export function readE820Map(page: Uint8Array): E820Entry[] {
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const count = view.getUint8(BOOT_PARAMS.E820_ENTRIES);
  const entries: E820Entry[] = [];
  for (let i = 0; i < count; i++) {
    const at = BOOT_PARAMS.E820_TABLE + i * E820_ENTRY_SIZE;
    entries.push({
      addr: view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32,
      size: view.getUint32(at + 8, true) + view.getUint32(at + 12, true) * 2 ** 32,
      type: view.getUint32(at + 16, true),
    });
  }
  return entries;
}
