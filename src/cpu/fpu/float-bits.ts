/**
 * Bit-level helpers for the x87 emulation: exact conversions between IEEE doubles and the 80-bit
 * extended format, powers of two, exact scaling, neighbours of a double, and rounding helpers.
 * Everything works on module-level scratch typed arrays: nothing allocates.
 *
 * An 80-bit value is handled as three 32-bit words: mantissa low, mantissa high (bit 31 is the
 * explicit integer bit J) and sign/exponent (bit 15 sign, bits 14..0 biased exponent, bias 16383).
 */

const F = new Float64Array(1);
const U = new Uint32Array(F.buffer);

/** Output of doubleToExt: [mantLo, mantHi, signExp]. */
export const EXT = new Uint32Array(3);
/** Output of extToDoubleBits: [lo, hi] of a double. */
export const DBL = new Uint32Array(2);
const DBLF = new Float64Array(DBL.buffer);

const TWO32 = 4294967296;

/** 2^n for -1022 <= n <= 1023 (exact, built from bits). */
export function pow2(n: number): number {
  U[0] = 0;
  U[1] = (n + 1023) << 20;
  return F[0];
}

/** Unbiased exponent floor(log2|v|) of a finite nonzero double (denormals included). */
export function exponentOf(v: number): number {
  F[0] = v;
  const e = (U[1] >>> 20) & 0x7ff;
  if (e !== 0) return e - 1023;
  F[0] = v * 18446744073709551616; // 2^64: makes a denormal normal, exactly
  return ((U[1] >>> 20) & 0x7ff) - 1023 - 64;
}

/** v * 2^n, exact whenever the result is a normal double (chunks of at most 2^±1000). */
export function scaleExact(v: number, n: number): number {
  while (n > 1000) {
    v *= 1.0715086071862673e301; // 2^1000
    n -= 1000;
  }
  while (n < -1000) {
    v *= 9.332636185032189e-302; // 2^-1000
    n += 1000;
  }
  return v * pow2(n);
}

/**
 * Correctly rounded (to nearest even) x * 2^n, with the rounding happening at most once even when the
 * result is denormal. Returns ±Infinity on overflow and ±0 on total underflow.
 */
export function ldexpRN(x: number, n: number): number {
  if (x === 0 || x !== x || x === Infinity || x === -Infinity) return x;
  const e = exponentOf(x);
  const target = e + n;
  if (target > 1023) return x > 0 ? Infinity : -Infinity;
  const m = scaleExact(x, -e); // [1, 2)
  if (target >= -1022) return m * pow2(target);
  if (target < -1075) return x > 0 ? 0 : -0;
  return m * 2.2250738585072014e-308 * pow2(target + 1022); // 2^-1022 then one rounding step
}

/** The next double toward +Infinity. */
export function nextUp(x: number): number {
  if (x !== x || x === Infinity) return x;
  if (x === 0) return 5e-324;
  F[0] = x;
  if (x > 0) inc();
  else dec();
  return F[0];
}

/** The next double toward -Infinity. */
export function nextDown(x: number): number {
  if (x !== x || x === -Infinity) return x;
  if (x === 0) return -5e-324;
  F[0] = x;
  if (x > 0) dec();
  else inc();
  return F[0];
}

function inc(): void {
  U[0] = (U[0] + 1) >>> 0;
  if (U[0] === 0) U[1] = (U[1] + 1) >>> 0;
}

function dec(): void {
  if (U[0] === 0) U[1] = (U[1] - 1) >>> 0;
  U[0] = (U[0] - 1) >>> 0;
}

const SPLIT = 134217729; // 2^27 + 1

/**
 * The rounding error a*b - p of p = fl(a*b) (Dekker/Veltkamp), exact when |a|, |b| < 2^995 and
 * the product is not near the denormal range.
 */
export function productError(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/** Sign (-1, 0, 1) of v. */
export function sgn(v: number): number {
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

/** Writes the exact 80-bit encoding of the double with bits (hi, lo) to EXT. */
export function doubleToExt(hi: number, lo: number): void {
  const sign = (hi >>> 16) & 0x8000;
  const e = (hi >>> 20) & 0x7ff;
  const fhi = hi & 0xfffff;
  if (e === 0x7ff) {
    EXT[0] = (lo << 11) >>> 0;
    EXT[1] = (0x80000000 | (fhi << 11) | (lo >>> 21)) >>> 0;
    EXT[2] = sign | 0x7fff;
  } else if (e !== 0) {
    EXT[0] = (lo << 11) >>> 0;
    EXT[1] = (0x80000000 | (fhi << 11) | (lo >>> 21)) >>> 0;
    EXT[2] = sign | (e + 15360);
  } else if ((fhi | lo) === 0) {
    EXT[0] = 0;
    EXT[1] = 0;
    EXT[2] = sign;
  } else {
    // Denormal double: value = frac * 2^-1074. M = frac << 12 (64 bits), normalized by s.
    let mh = ((fhi << 12) | (lo >>> 20)) >>> 0;
    let ml = (lo << 12) >>> 0;
    let s: number;
    if (mh !== 0) {
      s = Math.clz32(mh);
      if (s) {
        mh = ((mh << s) | (ml >>> (32 - s))) >>> 0;
        ml = (ml << s) >>> 0;
      }
    } else {
      const z = Math.clz32(ml);
      mh = (ml << z) >>> 0;
      ml = 0;
      s = 32 + z;
    }
    EXT[0] = ml;
    EXT[1] = mh;
    EXT[2] = sign | (16383 - 1023 - s);
  }
}

/** The x87 class of an 80-bit value for the tag word: 0 valid, 1 zero, 2 special. */
export function extTag(lo: number, hi: number, sexp: number): number {
  const e = sexp & 0x7fff;
  if (e === 0x7fff) return 2;
  if (e === 0) return (hi | lo) === 0 ? 1 : 2;
  return hi & 0x80000000 ? 0 : 2;
}

/** True when the 80-bit encoding is one the 387 and later reject (pseudo-NaN/infinity, unnormal). */
export function extUnsupported(hi: number, sexp: number): boolean {
  return (sexp & 0x7fff) !== 0 && (hi & 0x80000000) === 0;
}

/**
 * Converts an 80-bit value to the nearest double (ties to even), written as bits to DBL. NaNs keep
 * their sign, quiet bit and top payload bits; unsupported encodings become the default NaN;
 * values beyond the double range become ±Infinity / ±0.
 */
export function extToDoubleBits(lo: number, hi: number, sexp: number): void {
  const e = sexp & 0x7fff;
  const sign = (sexp & 0x8000) << 16;
  if (e === 0x7fff || (e !== 0 && (hi & 0x80000000) === 0)) {
    if ((hi & 0x80000000) === 0) {
      DBL[0] = 0;
      DBL[1] = 0xfff80000; // unsupported: the default NaN
    } else if ((hi & 0x7fffffff) === 0 && lo === 0) {
      DBL[0] = 0;
      DBL[1] = (sign | 0x7ff00000) >>> 0;
    } else {
      let dlo = ((hi << 21) | (lo >>> 11)) >>> 0;
      const dhi = (sign | 0x7ff00000 | ((hi & 0x7fffffff) >>> 11)) >>> 0;
      if ((dhi & 0xfffff) === 0 && dlo === 0) dlo = 1; // payload only in the dropped bits: stay a NaN
      DBL[0] = dlo;
      DBL[1] = dhi;
    }
    return;
  }
  if (e === 0) {
    // Zero, or a denormal/pseudo-denormal far below the double range: rounds to ±0.
    DBL[0] = 0;
    DBL[1] = sign >>> 0;
    return;
  }
  const E = e - 16383;
  let v: number;
  if (E > 1023) v = Infinity;
  else if (E >= -1022) v = (hi * TWO32 + lo) * 1.0842021724855044e-19 * pow2(E); // * 2^-63 * 2^E
  else {
    // Denormal (or zero) result: q = M / 2^sh rounded to nearest even, with the lsb at 2^-1074.
    const sh = -1011 - E; // >= 12
    let q: number;
    let half: boolean;
    let sticky: boolean;
    if (sh >= 64) {
      q = 0;
      half = sh === 64; // the integer bit J is the rounding bit
      sticky = sh > 64 || (hi & 0x7fffffff) !== 0 || lo !== 0;
    } else if (sh >= 32) {
      const s = sh - 32;
      q = hi >>> s;
      half = s === 0 ? (lo & 0x80000000) !== 0 : ((hi >>> (s - 1)) & 1) !== 0;
      sticky = s === 0 ? (lo & 0x7fffffff) !== 0 : (hi & ((1 << (s - 1)) - 1)) !== 0 || lo !== 0;
    } else {
      q = hi * 2 ** (32 - sh) + (lo >>> sh);
      half = ((lo >>> (sh - 1)) & 1) !== 0;
      sticky = (lo & ((1 << (sh - 1)) - 1)) !== 0;
    }
    if (half && (sticky || q % 2 === 1)) q += 1; // q = 2^52 becomes the smallest normal
    DBL[0] = q % TWO32;
    DBL[1] = (sign | Math.floor(q / TWO32)) >>> 0;
    return;
  }
  DBLF[0] = sign ? -v : v;
}

/** Compare magnitudes of two 80-bit values (normalized or not, as unsigned (exp, hi, lo)): -1, 0, 1. */
export function compareExtMagnitude(l1: number, h1: number, s1: number, l2: number, h2: number, s2: number): number {
  const e1 = s1 & 0x7fff;
  const e2 = s2 & 0x7fff;
  if (e1 !== e2) return e1 < e2 ? -1 : 1;
  if (h1 !== h2) return h1 >>> 0 < h2 >>> 0 ? -1 : 1;
  if (l1 !== l2) return l1 >>> 0 < l2 >>> 0 ? -1 : 1;
  return 0;
}

