import { describe, expect, it } from 'vitest';
import {
  BOOT_PARAMS,
  BOOT_PARAMS_SIZE,
  E820_TYPE_RAM,
  E820_TYPE_RESERVED,
  SCREEN_INFO,
  VIDEO_TYPE_VLFB,
  buildBootParams,
  buildE820Map,
  readE820Map,
} from './boot-params';
import { CAN_USE_HEAP, LOADED_HIGH, SETUP_HEADER, parseBzImage } from './bzimage';
import { readImage } from './test-images';

const kernel = readImage('bzImage');
const image = parseBzImage(kernel);
const MiB = 1024 * 1024;

function view(page: Uint8Array): DataView {
  return new DataView(page.buffer, page.byteOffset, page.byteLength);
}

describe('the e820 map', () => {
  it('describes low memory, the reserved EBDA and BIOS areas and RAM above 1 MiB', () => {
    expect(buildE820Map(64 * MiB)).toEqual([
      { addr: 0, size: 0x9fc00, type: E820_TYPE_RAM },
      { addr: 0x9fc00, size: 0x400, type: E820_TYPE_RESERVED },
      { addr: 0xf0000, size: 0x10000, type: E820_TYPE_RESERVED },
      { addr: 0x100000, size: 63 * MiB, type: E820_TYPE_RAM },
    ]);
  });

  it('is written at 0x2D0 as 20-byte entries with the count at 0x1E8', () => {
    const page = buildBootParams(image, { ramBytes: 128 * MiB, cmdLinePtr: 0x20000, ramdisk: null, framebuffer: null });
    expect(page.length).toBe(BOOT_PARAMS_SIZE);
    expect(page[0x1e8]).toBe(4);
    const v = view(page);
    // the fourth entry, byte by byte: addr (u64), size (u64), type (u32)
    const at = 0x2d0 + 3 * 20;
    expect(v.getUint32(at, true)).toBe(0x100000);
    expect(v.getUint32(at + 4, true)).toBe(0);
    expect(v.getUint32(at + 8, true)).toBe(127 * MiB);
    expect(v.getUint32(at + 12, true)).toBe(0);
    expect(v.getUint32(at + 16, true)).toBe(E820_TYPE_RAM);
    expect(readE820Map(page)).toEqual(buildE820Map(128 * MiB));
    expect(v.getUint32(BOOT_PARAMS.ALT_MEM_K, true)).toBe(127 * 1024);
  });
});

describe('the zero page', () => {
  const ramdisk = { address: 0x3f00000, size: 0x123456 };
  const page = buildBootParams(image, { ramBytes: 64 * MiB, cmdLinePtr: 0x20000, ramdisk, framebuffer: null });
  const v = view(page);

  it('holds a copy of the setup header from 0x1F1 to 0x202 + byte[0x201], loader fields filled in', () => {
    const loaderFields = new Set<number>();
    const mark = (offset: number, size: number) => {
      for (let i = 0; i < size; i++) loaderFields.add(offset + i);
    };
    mark(SETUP_HEADER.TYPE_OF_LOADER, 1);
    mark(SETUP_HEADER.LOADFLAGS, 1);
    mark(SETUP_HEADER.RAMDISK_IMAGE, 8);
    mark(SETUP_HEADER.HEAP_END_PTR, 2);
    mark(SETUP_HEADER.CMD_LINE_PTR, 4);
    for (let offset = 0x1f1; offset < image.headerEnd; offset++) {
      if (!loaderFields.has(offset)) expect(page[offset], `byte 0x${offset.toString(16)}`).toBe(kernel[offset]);
    }
    // nothing after the header is copied (the sentinel at 0x1EF stays 0 too)
    for (let offset = image.headerEnd; offset < BOOT_PARAMS.E820_TABLE; offset++) expect(page[offset]).toBe(0);
    expect(page[BOOT_PARAMS.SENTINEL]).toBe(0);
  });

  it('sets type_of_loader, loadflags, cmd_line_ptr and the ramdisk', () => {
    expect(page[SETUP_HEADER.TYPE_OF_LOADER]).toBe(0xff);
    expect(page[SETUP_HEADER.LOADFLAGS] & LOADED_HIGH).toBe(LOADED_HIGH);
    expect(page[SETUP_HEADER.LOADFLAGS] & CAN_USE_HEAP).toBe(0);
    expect(v.getUint32(SETUP_HEADER.CMD_LINE_PTR, true)).toBe(0x20000);
    expect(v.getUint32(SETUP_HEADER.RAMDISK_IMAGE, true)).toBe(0x3f00000);
    expect(v.getUint32(SETUP_HEADER.RAMDISK_SIZE, true)).toBe(0x123456);
    expect(v.getUint32(BOOT_PARAMS.EXT_CMD_LINE_PTR, true)).toBe(0);
    expect(v.getUint32(BOOT_PARAMS.EXT_RAMDISK_IMAGE, true)).toBe(0);
  });

  it('describes no display when there is no framebuffer', () => {
    expect(page[SCREEN_INFO.ORIG_VIDEO_IS_VGA]).toBe(0);
    expect(page[SCREEN_INFO.ORIG_VIDEO_COLS]).toBe(80);
    expect(page[SCREEN_INFO.ORIG_VIDEO_LINES]).toBe(25);
    expect(v.getUint32(SCREEN_INFO.LFB_BASE, true)).toBe(0);
    expect(v.getUint16(SCREEN_INFO.LFB_WIDTH, true)).toBe(0);
  });
});

describe('screen_info for the linear framebuffer', () => {
  function withFramebuffer(width: number, height: number, stride: number) {
    const page = buildBootParams(image, {
      ramBytes: 64 * MiB,
      cmdLinePtr: 0x20000,
      ramdisk: null,
      framebuffer: { base: 0xe0000000, width, height, stride },
    });
    return { page, v: view(page) };
  }

  it('is a VIDEO_TYPE_VLFB with an R,G,B,X byte layout', () => {
    const { page, v } = withFramebuffer(1024, 768, 4096);
    expect(page[0x0f]).toBe(VIDEO_TYPE_VLFB);
    expect(page[0x0f]).toBe(0x23);
    expect(v.getUint16(0x12, true)).toBe(1024);
    expect(v.getUint16(0x14, true)).toBe(768);
    expect(v.getUint16(0x16, true)).toBe(32);
    expect(v.getUint32(0x18, true)).toBe(0xe0000000);
    expect(v.getUint32(0x1c, true)).toBe(48); // 3 MiB in 64 KiB units
    expect(v.getUint16(0x24, true)).toBe(4096);
    expect(Array.from(page.subarray(0x26, 0x2e))).toEqual([8, 0, 8, 8, 8, 16, 8, 24]);
    expect(v.getUint32(0x36, true) & 2).toBe(0); // VIDEO_CAPABILITY_64BIT_BASE
    expect(page[0x07]).toBe(80);
    expect(page[0x0e]).toBe(25);
    expect(v.getUint16(0x10, true)).toBe(16);
  });

  it('rounds lfb_size up to whole 64 KiB units', () => {
    expect(withFramebuffer(800, 600, 3200).v.getUint32(0x1c, true)).toBe(30); // 1,920,000 bytes
    expect(withFramebuffer(640, 480, 2560).v.getUint32(0x1c, true)).toBe(19); // 1,228,800 bytes
  });

  it('rejects impossible geometry', () => {
    expect(() => withFramebuffer(1024, 768, 1024)).toThrow(RangeError);
    expect(() => withFramebuffer(0, 768, 4096)).toThrow(RangeError);
  });
});
