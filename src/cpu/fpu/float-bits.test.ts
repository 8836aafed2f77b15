/**
 * Exactness of the conversion helpers, checked against exact integer (BigInt) arithmetic over many
 * generated values. (reference.test.ts checks the same conversions against the hardware.)
 */
import { describe, expect, it } from 'vitest';
import { DBL, EXT, doubleToExt, extToDoubleBits } from './float-bits';
import { REDUCED, reduceHalfPi } from './trig-reduce';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

let seed = 0x9e3779b9;
function rand32(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}

/** Exact value of an 80-bit finite value as (mantissa, exponent of its lsb). */
function extValue(lo: number, hi: number, se: number): { sign: number; m: bigint; e: number } {
  const exp = se & 0x7fff;
  return { sign: se & 0x8000 ? -1 : 1, m: (BigInt(hi) << 32n) | BigInt(lo), e: (exp === 0 ? 1 : exp) - 16383 - 63 };
}

/** Round-to-nearest-even double of m * 2^e (m >= 0), as bits [hi, lo]. */
function nearestDouble(m: bigint, e: number): [number, number] {
  if (m === 0n) return [0, 0];
  let bits = m.toString(2).length;
  // target lsb exponent: normal numbers keep 53 bits, denormals have lsb 2^-1074
  let lsb = Math.max(e + bits - 53, -1074);
  let q: bigint;
  if (lsb > e) {
    const shift = BigInt(lsb - e);
    q = m >> shift;
    const rem = m - (q << shift);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  } else q = m << BigInt(e - lsb);
  bits = q.toString(2).length;
  if (bits > 53) {
    q >>= 1n;
    lsb += 1;
  }
  if (q === 0n) return [0, 0];
  const qb = q.toString(2).length;
  if (lsb + qb - 1 > 1023) return [0x7ff00000, 0];
  let biased: number;
  let frac: bigint;
  if (qb < 53) {
    biased = 0;
    frac = q;
  } else {
    biased = lsb + 52 + 1023;
    frac = q - (1n << 52n);
  }
  return [((biased << 20) | Number(frac >> 32n)) >>> 0, Number(frac & 0xffffffffn)];
}

describe('80-bit conversions', () => {
  it('round-trip every kind of double exactly', () => {
    const wrong: string[] = [];
    for (let i = 0; i < 20000; i++) {
      let hi = rand32();
      const lo = rand32();
      if (i % 4 === 0) hi = (hi & 0x800fffff) >>> 0; // denormals and zeros
      if (i % 8 === 1) hi = (hi | 0x7ff00000) >>> 0; // infinities and NaNs
      doubleToExt(hi, lo);
      extToDoubleBits(EXT[0], EXT[1], EXT[2]);
      if (DBL[1] !== hi || DBL[0] !== lo) wrong.push(`${hi.toString(16)} ${lo.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('round 80-bit values to the nearest double (ties to even), including denormal results', () => {
    const wrong: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const hi = (rand32() | 0x80000000) >>> 0;
      let lo = rand32();
      if (i % 3 === 0) lo = ((lo & ~0x7ff) | 0x400) >>> 0; // exact ties
      const exp = (i >> 1) % 2 ? 16383 - 1100 + (rand32() % 90) : 16383 - 1100 + (rand32() % 2250);
      const se = exp | (i & 1 ? 0x8000 : 0);
      extToDoubleBits(lo, hi, se);
      const { sign, m, e } = extValue(lo, hi, se);
      const [eh, el] = nearestDouble(m, e);
      if (DBL[1] !== (eh | (sign < 0 ? 0x80000000 : 0)) >>> 0 || DBL[0] !== el)
        wrong.push(`${se.toString(16)} ${hi.toString(16)} ${lo.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('x87 argument reduction', () => {
  const CM = 0x3243f6a8885a308d3n; // pi/2 = CM * 2^-65 with the x87's 66-bit pi

  it('computes x - k * pi66/2 to double-double accuracy', () => {
    for (let i = 0; i < 3000; i++) {
      u32[0] = rand32();
      u32[1] = ((1023 + (rand32() % 63)) << 20) | (rand32() & 0xfffff);
      const x = f64[0];
      if (x <= 0.8) continue;
      const q = reduceHalfPi(x);
      // exact: x = mx * 2^ex; N = x * 2^65 - k * CM for the k the routine chose (|r| <= pi/4)
      const ex = Math.floor(Math.log2(x)) - 52;
      const mx = BigInt(x / 2 ** ex);
      const scaled = ex + 65 >= 0 ? mx << BigInt(ex + 65) : 0n;
      const k = (scaled + CM / 2n) / CM;
      const n = scaled - k * CM;
      if (Math.abs(REDUCED[0]) > 0.78539) continue; // either neighbour of k is acceptable there
      expect(Number(k % 4n)).toBe(q);
      // |(hi + lo) - r| <= 2^-100 |r|, computed exactly at a scale of 2^300
      const scale = (v: number): bigint => BigInt(v * 2 ** 300);
      const err = scale(REDUCED[0]) + scale(REDUCED[1]) - (n << 235n);
      const bound = ((n < 0n ? -n : n) << 235n) >> 100n;
      expect(err <= bound && -err <= bound, `x=${x}`).toBe(true);
    }
  });
});
