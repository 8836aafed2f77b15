import { describe, expect, it } from 'vitest';
import { PhysMemory } from '../memory/phys-memory';
import { LinearFramebuffer } from './linear-framebuffer';

function setup(width = 640, height = 480) {
  const mem = new PhysMemory({ ramBytes: 1 << 20, extraBytes: LinearFramebuffer.bytesFor(width, height) });
  const fb = new LinearFramebuffer(mem, { width, height });
  return { mem, fb };
}

describe('LinearFramebuffer', () => {
  it('sizes and maps VRAM at 0xFD000000, R,G,B,X per pixel', () => {
    expect(LinearFramebuffer.bytesFor(640, 480)).toBe(640 * 480 * 4);
    expect(LinearFramebuffer.bytesFor(100, 3)).toBe(4096);
    const { mem, fb } = setup();
    expect(fb.base).toBe(0xfd000000);
    expect(fb.stride).toBe(2560);
    expect(fb.size).toBe(640 * 480 * 4);
    expect(fb.pixels.length).toBe(fb.size);
    // Pixel (3, 2) = red 0x11, green 0x22, blue 0x33 as a little-endian dword 0x00332211.
    mem.write32(fb.base + 2 * fb.stride + 3 * 4, 0x00332211);
    const i = 2 * fb.stride + 12;
    expect([...fb.pixels.subarray(i, i + 4)]).toEqual([0x11, 0x22, 0x33, 0x00]);
    fb.pixels[0] = 0x7f;
    expect(mem.read8(fb.base)).toBe(0x7f);
  });

  it('refuses a framebuffer that does not fit below 4 GiB', () => {
    const mem = new PhysMemory({ ramBytes: 4096, extraBytes: LinearFramebuffer.bytesFor(4096, 4096) });
    expect(() => new LinearFramebuffer(mem, { width: 4096, height: 4096 })).toThrow(RangeError);
    expect(() => new LinearFramebuffer(mem, { base: 0x80000000, width: 4096, height: 4096 })).not.toThrow();
  });

  it('reports the band of rows touched since the last call', () => {
    const { mem, fb } = setup();
    expect(fb.takeDirtyRows()).toEqual({ first: 0, last: 479 }); // everything, initially
    expect(fb.takeDirtyRows()).toBeNull();
    mem.write8(fb.base + 100 * fb.stride + 5, 1); // row 100, page 62 (rows 99.2 .. 100.8)
    expect(fb.takeDirtyRows()).toEqual({ first: 99, last: 100 });
    expect(fb.takeDirtyRows()).toBeNull();
    mem.write32(fb.base + 10 * fb.stride, 1);
    mem.write32(fb.base + 479 * fb.stride + 2556, 1);
    expect(fb.takeDirtyRows()).toEqual({ first: 9, last: 479 }); // page 6 starts in row 9
    // A write mapping handed to the CPU also counts as dirty.
    mem.noteWriteMapping((fb.base >>> 12) + 1);
    expect(fb.takeDirtyRows()).toEqual({ first: 1, last: 3 });
  });

  it('ignores writes to the page padding after the last row', () => {
    const { mem, fb } = setup(100, 3); // 1200 bytes in one page
    fb.takeDirtyRows();
    mem.write8(fb.base + 2000, 1);
    expect(fb.takeDirtyRows()).toEqual({ first: 0, last: 2 });
    const big = setup(1000, 2); // 8000 bytes: page 1 holds row 1 and padding
    big.fb.takeDirtyRows();
    big.mem.write8(big.fb.base + 4096 + 4000, 1);
    expect(big.fb.takeDirtyRows()).toEqual({ first: 1, last: 1 });
  });

  it('saves and restores pixels; reset clears them', () => {
    const a = setup(64, 64);
    a.fb.pixels.fill(0x5a, 0, 1000);
    const saved = a.fb.saveState();
    const b = setup(64, 64);
    b.fb.takeDirtyRows();
    b.fb.loadState(saved);
    expect(b.fb.pixels[999]).toBe(0x5a);
    expect(b.fb.pixels[1000]).toBe(0);
    expect(b.fb.takeDirtyRows()).toEqual({ first: 0, last: 63 });
    b.fb.reset();
    expect(b.fb.pixels[0]).toBe(0);
    expect(() => setup(32, 32).fb.loadState(saved)).toThrow();
  });
});
