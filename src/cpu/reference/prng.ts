/**
 * Seeded pseudo-random numbers of the differential harness.
 *
 * - `Rng` drives the case generator (reproducible case lists for a given seed).
 * - `fillArea` produces the initial contents of the data area of one case from its seed. The
 *   native recorder (driver.c, fill_area) implements the very same xorshift32 sequence, so the
 *   reference file stores a 32-bit seed per case instead of 4 KiB of initial bytes.
 */

/** Fill `area` (length a multiple of 4) with the xorshift32 sequence of `seed`, little-endian words. */
export function fillArea(area: Uint8Array, seed: number): void {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < area.length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    area[i] = x & 0xff;
    area[i + 1] = (x >>> 8) & 0xff;
    area[i + 2] = (x >>> 16) & 0xff;
    area[i + 3] = x >>> 24;
  }
}

/** sfc32: small, fast, good enough for test-case generation. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  bool(p = 0.5): boolean {
    return this.u32() / 0x100000000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Uniform double in [0, 1). */
  float(): number {
    return (this.u32() * 0x200000 + (this.u32() >>> 11)) / 2 ** 53;
  }
}
