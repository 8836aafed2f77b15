/**
 * Builder for native x87 reference cases. A case is a short nasm program (64-bit mode, absolute
 * [disp32] operands, so the bytes mean the same in 32-bit protected mode) plus an initial data
 * area at DATA_BASE. Every case starts with FNINIT and FLDCW from the first word of its data area.
 */

export const DATA_BASE = 0x10000000;
export const CODE_BASE = 0x20000000;

/** Control words: all exceptions masked, precision control 53 bits (PC=10), given rounding control. */
export const RC_NEAREST = 0;
export const RC_DOWN = 1;
export const RC_UP = 2;
export const RC_ZERO = 3;
export const cwFor = (rc: number, pc = 2, masks = 0x3f): number => 0x40 | masks | (pc << 8) | (rc << 10);

export interface CaseSpec {
  name: string;
  group: string;
  asm: string[];
  data: number[];
  eflags: number;
  /** Allowed difference in units in the last place (of a double) for tolerant slots and registers. */
  tol: number;
  /** Status-word bits excluded from comparison (only used together with tol, for transcendentals). */
  swIgnore: number;
  /** Offsets (in the data area) of m64 results compared with tolerance `tol`. */
  tolSlots: number[];
  /** Offsets of stored status words (swIgnore applies to them). */
  swSlots: number[];
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const f32 = new Float32Array(1);
const u32s = new Uint32Array(f32.buffer);

/** 64-bit pattern of a double, as 16 hex digits. */
export function doubleHex(v: number): string {
  f64[0] = v;
  return u32[1].toString(16).padStart(8, '0') + u32[0].toString(16).padStart(8, '0');
}

export function hexDouble(hex: string): number {
  u32[1] = parseInt(hex.slice(0, 8), 16);
  u32[0] = parseInt(hex.slice(8, 16), 16);
  return f64[0];
}

export class CaseBuilder {
  readonly asm: string[] = [];
  private readonly data: number[] = [];
  eflags = 0x202;
  tol = 0;
  swIgnore = 0;
  readonly tolSlots: number[] = [];
  readonly swSlots: number[] = [];

  constructor(readonly name: string, readonly group: string, cw = cwFor(RC_NEAREST)) {
    this.data.push(cw & 0xff, cw >> 8, 0, 0, 0, 0, 0, 0);
    this.asm.push('fninit', `fldcw word [${hex(DATA_BASE)}]`);
  }

  /** Append instructions. */
  a(...lines: string[]): this {
    this.asm.push(...lines);
    return this;
  }

  private alloc(bytes: number[], align = 8): string {
    while (this.data.length % align) this.data.push(0);
    const at = DATA_BASE + this.data.length;
    this.data.push(...bytes);
    return `[${hex(at)}]`;
  }

  /** A double in memory (or a raw 64-bit pattern given as 16 hex digits). */
  m64(v: number | string): string {
    const h = typeof v === 'string' ? v.padStart(16, '0') : doubleHex(v);
    return this.alloc(hexBytesLE(h));
  }

  /** A float in memory (or a raw 32-bit pattern given as 8 hex digits). */
  m32(v: number | string): string {
    let bits: number;
    if (typeof v === 'string') bits = parseInt(v, 16);
    else {
      f32[0] = v;
      bits = u32s[0];
    }
    return this.alloc(le(bits, 4), 4);
  }

  /** An 80-bit value: 20 hex digits, sign+exponent first (as written in manuals: 3FFF8000000000000000 = 1.0). */
  m80(h: string): string {
    return this.alloc(hexBytesLE(h.padStart(20, '0')));
  }

  i16(v: number): string {
    return this.alloc(le(v & 0xffff, 2), 2);
  }

  i32(v: number): string {
    return this.alloc(le(v >>> 0, 4), 4);
  }

  i64(v: bigint): string {
    return this.alloc(hexBytesLE(BigInt.asUintN(64, v).toString(16).padStart(16, '0')));
  }

  /** Packed BCD from a decimal digit string (up to 18 digits), with sign. Extra bytes allowed via raw. */
  bcd(digits: string, negative = false): string {
    const bytes = new Array<number>(10).fill(0);
    const d = digits.padStart(18, '0');
    for (let i = 0; i < 9; i++) {
      const lo = d.charCodeAt(17 - 2 * i) - 48;
      const hi = d.charCodeAt(16 - 2 * i) - 48;
      bytes[i] = (hi << 4) | lo;
    }
    bytes[9] = negative ? 0x80 : 0;
    return this.alloc(bytes);
  }

  /** Raw bytes. */
  raw(bytes: number[], align = 8): string {
    return this.alloc(bytes, align);
  }

  /** An output area pre-filled with 0xCC (so partial and missing writes show). */
  out(n: number, align = 8): string {
    return this.alloc(new Array<number>(n).fill(0xcc), align);
  }

  /** A status word output (FNSTSW m16). */
  swOut(): string {
    const r = this.out(2, 2);
    this.swSlots.push(parseInt(r.slice(1, -1), 16) - DATA_BASE);
    return r;
  }

  /** An m64 output compared with tolerance. */
  outTol(): string {
    const r = this.out(8);
    this.tolSlots.push(parseInt(r.slice(1, -1), 16) - DATA_BASE);
    return r;
  }

  /** Transcendental case: results within `ulps`, and C1 (rounding direction) not compared. */
  tolerant(ulps: number, swIgnore = 0x0200): this {
    this.tol = ulps;
    this.swIgnore = swIgnore;
    return this;
  }

  build(): CaseSpec {
    return {
      name: this.name,
      group: this.group,
      asm: [...this.asm, 'ret'],
      data: [...this.data],
      eflags: this.eflags,
      tol: this.tol,
      swIgnore: this.swIgnore,
      tolSlots: [...this.tolSlots],
      swSlots: [...this.swSlots],
    };
  }
}

export function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}

function le(v: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((v >>> (8 * i)) & 0xff);
  return out;
}

/** Big-endian hex string (most significant first) to little-endian bytes. */
function hexBytesLE(h: string): number[] {
  const out: number[] = [];
  for (let i = h.length; i > 0; i -= 2) out.push(parseInt(h.slice(Math.max(0, i - 2), i), 16));
  return out;
}

/** Deterministic PRNG (xorshift32) for generated operands. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return this.next() % n;
  }
  /** A double with random 52-bit mantissa, exponent in [lo, hi], random sign. */
  double(lo: number, hi: number): number {
    const e = lo + this.int(hi - lo + 1);
    u32[0] = this.next();
    u32[1] = ((e + 1023) << 20) | (this.next() & 0xfffff) | (this.int(2) ? 0x80000000 : 0);
    return f64[0];
  }
}

/** `[addr]` plus a byte offset. */
export function off(addr: string, k: number): string {
  return `[${hex(parseInt(addr.slice(1, -1), 16) + k)}]`;
}

/**
 * The exact 80-bit encoding (20 hex digits, sign/exponent first) of a double given as a number or
 * as its 64-bit pattern (16 hex digits). Independent of the emulator's own conversion code.
 */
export function extHexOfDouble(v: number | string): string {
  const bits = BigInt('0x' + (typeof v === 'string' ? v : doubleHex(v)));
  const sign = bits >> 63n;
  const e = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  let exp: bigint;
  let mant: bigint;
  if (e === 0x7ff) {
    exp = 0x7fffn;
    mant = (1n << 63n) | (frac << 11n);
  } else if (e === 0) {
    if (frac === 0n) {
      exp = 0n;
      mant = 0n;
    } else {
      let m = frac;
      let x = -1074;
      while (m < 1n << 63n) {
        m <<= 1n;
        x--;
      }
      x += 63;
      exp = BigInt(x + 16383);
      mant = m;
    }
  } else {
    exp = BigInt(e - 1023 + 16383);
    mant = (1n << 63n) | (frac << 11n);
  }
  return ((sign << 15n) | exp).toString(16).padStart(4, '0') + mant.toString(16).padStart(16, '0');
}
