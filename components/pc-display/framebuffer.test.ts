import { describe, expect, it } from 'vitest';
import { copyRowsOpaque, DirtyBand, fitLayout } from './framebuffer';

describe('DirtyBand', () => {
  it('merges bands and clears on take', () => {
    const b = new DirtyBand();
    expect(b.take()).toBeNull();
    b.add(10, 12);
    b.add(3, 4);
    b.add(11, 20);
    b.add(5, 4); // empty, ignored
    expect(b.take()).toEqual({ first: 3, last: 20 });
    expect(b.empty).toBe(true);
  });
});

describe('copyRowsOpaque', () => {
  it('copies R,G,B and forces the fourth byte opaque, at the right rows', () => {
    const dst = new Uint8Array(2 * 3 * 4);
    const src = new Uint8Array([255, 0, 0, 0, 0, 255, 0, 7, 0, 0, 255, 0, 1, 2, 3, 4]);
    copyRowsOpaque(dst, 2, 1, src, 2);
    expect([...dst]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 1, 2, 3, 255]);
  });

  it('honours a source stride and unaligned sources', () => {
    const src = new Uint8Array(1 + 12 * 2);
    src.set([9, 8, 7, 0], 1);
    src.set([6, 5, 4, 0], 13);
    const dst = new Uint8Array(4 * 2);
    copyRowsOpaque(dst, 1, 0, src, 2, 12, 1);
    expect([...dst]).toEqual([9, 8, 7, 255, 6, 5, 4, 255]);
  });
});

describe('fitLayout', () => {
  it('uses the largest whole scale when the picture fits', () => {
    expect(fitLayout(640, 480, 1300, 1000)).toEqual({ scale: 2, x: 10, y: 20, width: 1280, height: 960, smooth: false });
    expect(fitLayout(1024, 768, 1024, 768)).toEqual({ scale: 1, x: 0, y: 0, width: 1024, height: 768, smooth: false });
  });

  it('scales down aspect-correct with smoothing when 1:1 does not fit', () => {
    const l = fitLayout(1024, 768, 512, 600);
    expect(l).toMatchObject({ scale: 0.5, width: 512, height: 384, x: 0, y: 108, smooth: true });
  });

  it('handles an empty box', () => {
    expect(fitLayout(1024, 768, 0, 0).width).toBe(0);
  });
});
