/**
 * Argument reduction for FSIN/FCOS/FSINCOS/FPTAN the way the x87 does it: modulo pi/2 taken from
 * the unit's 66-bit approximation of pi (0x3.243F6A8885A308D3), computed exactly. This reproduces
 * the hardware's well-known behaviour near multiples of pi and for large arguments (for example
 * FSIN of the double nearest pi gives 1.2246063538223773e-16, not 1.2246467991473532e-16).
 *
 * The exact value x - k * pi66/2 is formed in base-2^24 limbs held in doubles (every partial
 * product fits in 48 bits), then returned as a double-double. No allocation.
 */
import { exponentOf, scaleExact } from './float-bits';

const LIMB = 16777216; // 2^24
/** pi66/2 = CM * 2^-65, CM in base-2^24 limbs, least significant first (66 bits). */
const CM0 = 0xa308d3;
const CM1 = 0x6a8885;
const CM2 = 0x3243f;
const HALF_PI = 1.5707963267948966;
const limbs = new Float64Array(8);

/** Reduced argument as a double-double [hi, lo] (|hi + lo| <= about pi/4). */
export const REDUCED = new Float64Array(2);

/**
 * Reduces ax (pi/4 < ax < 2^63, positive) modulo pi66/2: ax = k * pi66/2 + r. Writes r to
 * REDUCED and returns k mod 4.
 */
export function reduceHalfPi(ax: number): number {
  const kd = Math.round(ax / HALF_PI);
  const ex = exponentOf(ax) - 52;
  const mx = scaleExact(ax, -ex); // integer below 2^53
  const shift = ex + 65; // ax * 2^65 = mx * 2^shift, shift >= 12 for ax > pi/4
  let kk = 0;
  for (let pass = 0; pass < 2; pass++) {
    limbs.fill(0);
    addShifted(mx, shift);
    subtractTimesCm(kd, kk);
    toDoubleDouble();
    const r = REDUCED[0];
    if (r <= 0.7854 && r >= -0.7854) break;
    kk += Math.round(r / HALF_PI); // kd was off by more than one: correct and recompute exactly
  }
  return ((kd % 4) + (kk % 4) + 8) % 4;
}

/** limbs += m * 2^s (m a nonnegative integer below 2^53). */
function addShifted(m: number, s: number): void {
  const q = Math.floor(s / 24);
  const t = 2 ** (s - 24 * q);
  const c2 = Math.floor(m / 281474976710656); // 2^48
  const rest = m - c2 * 281474976710656;
  const c1 = Math.floor(rest / LIMB);
  const c0 = rest - c1 * LIMB;
  limbs[q] += c0 * t;
  limbs[q + 1] += c1 * t;
  limbs[q + 2] += c2 * t;
}

/** limbs -= (kd + kk) * CM, kd an integer-valued double below 2^63, kk a small integer. */
function subtractTimesCm(kd: number, kk: number): void {
  const k2 = Math.floor(kd / 281474976710656);
  const rest = kd - k2 * 281474976710656;
  const k1 = Math.floor(rest / LIMB);
  const k0 = rest - k1 * LIMB;
  limbs[0] -= k0 * CM0 + kk * CM0;
  limbs[1] -= k0 * CM1 + k1 * CM0 + kk * CM1;
  limbs[2] -= k0 * CM2 + k1 * CM1 + k2 * CM0 + kk * CM2;
  limbs[3] -= k1 * CM2 + k2 * CM1;
  limbs[4] -= k2 * CM2;
}

/** Carries limbs into digits [0, 2^24); returns the final carry (negative: the value is negative). */
function normalize(): number {
  let carry = 0;
  for (let i = 0; i < 8; i++) {
    const v = limbs[i] + carry;
    carry = Math.floor(v / LIMB);
    limbs[i] = v - carry * LIMB;
  }
  return carry;
}

/** REDUCED = limbs * 2^-65 as a double-double. */
function toDoubleDouble(): void {
  let sign = 1;
  if (normalize() < 0) {
    for (let i = 0; i < 8; i++) limbs[i] = -limbs[i];
    normalize();
    sign = -1;
  }
  let hi = 0;
  let lo = 0;
  for (let i = 7; i >= 0; i--) {
    const term = limbs[i] * 2 ** (24 * i - 65);
    const s = hi + term;
    const bb = s - hi;
    lo += hi - (s - bb) + (term - bb);
    hi = s;
  }
  const s = hi + lo;
  lo -= s - hi;
  REDUCED[0] = sign * s;
  REDUCED[1] = sign * lo;
}
