/** Framebuffer helpers for `<pc-display>`: opaque row copies, dirty bands and scaling. */

/** A band of rows `first..last` (inclusive) that changed since the last upload. */
export class DirtyBand {
  first = Infinity;
  last = -1;

  add(first: number, last: number): void {
    if (last < first) return;
    if (first < this.first) this.first = first;
    if (last > this.last) this.last = last;
  }

  get empty(): boolean {
    return this.last < this.first;
  }

  /** Returns the band and clears it, or null when nothing changed. */
  take(): { first: number; last: number } | null {
    if (this.empty) return null;
    const band = { first: this.first, last: this.last };
    this.first = Infinity;
    this.last = -1;
    return band;
  }
}

/**
 * Copies `rows` rows of R,G,B,X pixels from `src` (a row every `srcStride` bytes, starting at
 * `srcOffset`) into rows `first..` of `dst` (packed, `width * 4` bytes a row), forcing the fourth
 * byte to 255: the guest's X byte is padding, not alpha.
 */
export function copyRowsOpaque(
  dst: Uint8Array,
  width: number,
  first: number,
  src: Uint8Array,
  rows: number,
  srcStride = width * 4,
  srcOffset = 0,
): void {
  const rowBytes = width * 4;
  const aligned = dst.byteOffset % 4 === 0 && (src.byteOffset + srcOffset) % 4 === 0 && srcStride % 4 === 0;
  if (aligned) {
    const d32 = new Uint32Array(dst.buffer, dst.byteOffset, dst.length >>> 2);
    const s32 = new Uint32Array(src.buffer, src.byteOffset, src.length >>> 2);
    // little-endian: the fourth byte of a pixel is the top byte of the word
    for (let r = 0; r < rows; r++) {
      let s = (srcOffset + r * srcStride) >>> 2;
      let d = ((first + r) * rowBytes) >>> 2;
      const end = d + width;
      while (d < end) d32[d++] = s32[s++] | 0xff000000;
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const s0 = srcOffset + r * srcStride;
    const d0 = (first + r) * rowBytes;
    for (let i = 0; i < rowBytes; i += 4) {
      dst[d0 + i] = src[s0 + i];
      dst[d0 + i + 1] = src[s0 + i + 1];
      dst[d0 + i + 2] = src[s0 + i + 2];
      dst[d0 + i + 3] = 255;
    }
  }
}

export interface FitLayout {
  /** Scale factor from framebuffer pixels to canvas pixels. */
  scale: number;
  /** Top-left of the picture in canvas pixels (whole pixels). */
  x: number;
  y: number;
  width: number;
  height: number;
  /** True when the picture is scaled down by a fraction and needs linear filtering. */
  smooth: boolean;
}

/**
 * Places a `fbWidth x fbHeight` picture in a `boxWidth x boxHeight` canvas (device pixels): the
 * largest whole scale that fits (crisp, nearest filtering), or, when even 1:1 does not fit, the
 * aspect-correct fraction that does (linear filtering). Centred.
 */
export function fitLayout(fbWidth: number, fbHeight: number, boxWidth: number, boxHeight: number): FitLayout {
  if (fbWidth <= 0 || fbHeight <= 0 || boxWidth <= 0 || boxHeight <= 0) {
    return { scale: 1, x: 0, y: 0, width: 0, height: 0, smooth: false };
  }
  const fit = Math.min(boxWidth / fbWidth, boxHeight / fbHeight);
  const smooth = fit < 1;
  const scale = smooth ? fit : Math.floor(fit);
  const width = smooth ? Math.round(fbWidth * scale) : fbWidth * scale;
  const height = smooth ? Math.round(fbHeight * scale) : fbHeight * scale;
  return {
    scale,
    x: Math.floor((boxWidth - width) / 2),
    y: Math.floor((boxHeight - height) / 2),
    width,
    height,
    smooth,
  };
}
