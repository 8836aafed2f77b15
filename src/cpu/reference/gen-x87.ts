/**
 * x87 cases, run through the whole CPU (decoder, memory operands, FNSTSW AX / SAHF / FCOMI
 * into EFLAGS, FCMOVcc from EFLAGS).
 *
 * Every block starts with FLDCW: precision control = double (PC=10b), all exceptions masked,
 * and the rounding control of the case. With PC=double the hardware rounds arithmetic results
 * to 53-bit significands like IEEE doubles. Results are stored to memory and compared bit for
 * bit, except the results of the transcendental instructions (listed in `ulp`), which may
 * differ by 1 unit in the last place of the stored double.
 */
import * as F from './flag-masks';
import { AREA, Builder, CaseSpec, EBX, hex, le } from './gen-common';
import { Rng } from './prng';

type Emit = (c: CaseSpec) => void;

/** Offset of the x87 data block in the data area; EBX points at it. */
const XB = 0x400;
const A = 0x10;
const B2 = 0x20;
const R0 = 0x40;
const R1 = 0x50;
const CW_DOUBLE = 0x027f;
const RC_NAMES = ['nearest', 'down', 'up', 'chop'];

function f64(x: number): number[] {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x, true);
  return [...new Uint8Array(dv.buffer)];
}

function f32(x: number): number[] {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, x, true);
  return [...new Uint8Array(dv.buffer)];
}

function bits64(hi: number, lo: number): number[] {
  return [...le(lo >>> 0, 4), ...le(hi >>> 0, 4)];
}

/** An 80-bit extended value: sign, biased exponent, 64-bit significand (hi:lo words). */
function f80(sign: number, exp: number, hi: number, lo: number): number[] {
  return [...le(lo >>> 0, 4), ...le(hi >>> 0, 4), exp & 0xff, ((exp >> 8) & 0x7f) | (sign << 7)];
}

/** A double operand: specials, simple values, and random ones within `expRange` binades. */
function randDouble(rng: Rng, expRange = 40): number[] {
  const r = rng.int(100);
  if (r < 8) return f64(rng.pick([0, -0, 1, -1, 0.5, 2, 3, 10, 0.1, -0.1, 1e10, Math.PI, -2.5]));
  if (r < 12) {
    return rng.pick([
      f64(Infinity), f64(-Infinity), bits64(0x7ff80000, 0), bits64(0xfff80000, 0),
      bits64(0x7ff80000 | rng.int(0x80000), rng.u32()),
    ]);
  }
  if (r < 14) return f64(rng.pick([5e-324, -5e-324, 2.2250738585072014e-308, -1.7976931348623157e308, 1.7976931348623157e308]));
  if (r < 30) return f64(rng.range(-100, 100) + rng.pick([0, 0.5, 0.25, 0.75, 0.125]));
  return f64(randFinite(rng, expRange));
}

function randFinite(rng: Rng, expRange: number): number {
  const m = 1 + rng.float();
  const e = rng.range(-expRange, expRange);
  return (rng.bool() ? -1 : 1) * m * 2 ** e;
}

function asDouble(bytes: number[]): number {
  return new DataView(new Uint8Array(bytes).buffer).getFloat64(0, true);
}

class X87Case {
  readonly b: Builder;
  readonly asm: string[] = [];
  constructor(rng: Rng, rc = 0) {
    this.b = new Builder(rng);
    this.b.setReg(32, EBX, AREA + XB);
    this.b.patchValue(XB, CW_DOUBLE | (rc << 10), 2);
    this.asm.push('fldcw word ptr [ebx]');
  }
  at(off: number, bytes: number[]): this {
    this.b.patch(XB + off, bytes);
    return this;
  }
  op(...lines: string[]): this {
    this.asm.push(...lines);
    return this;
  }
  done(group: string, opts: Partial<CaseSpec> = {}): CaseSpec {
    return this.b.done(group, this.asm, { text: this.asm.slice(1).join('; '), ...opts });
  }
}

const ARITH = ['add', 'sub', 'subr', 'mul', 'div', 'divr'];

function arithCase(rng: Rng, group: string, rc: number): CaseSpec {
  const c = new X87Case(rng, rc);
  const op = rng.pick(ARITH);
  const form = rng.int(7);
  c.at(A, randDouble(rng));
  switch (form) {
    case 0:
    case 1:
      c.at(B2, randDouble(rng)).op('fld qword ptr [ebx+0x10]', `f${op} qword ptr [ebx+0x20]`, 'fstp qword ptr [ebx+0x40]');
      break;
    case 2:
      c.at(B2, f32(asDouble(randDouble(rng, 20)))).op('fld qword ptr [ebx+0x10]', `f${op} dword ptr [ebx+0x20]`, 'fstp qword ptr [ebx+0x40]');
      break;
    case 3: {
      const w = rng.bool();
      const v = w ? rng.range(-40000, 40000) : rng.bool() ? rng.u32() | 0 : rng.range(-1000, 1000);
      c.at(B2, le(v >>> 0, w ? 2 : 4)).op('fld qword ptr [ebx+0x10]', `fi${op} ${w ? 'word' : 'dword'} ptr [ebx+0x20]`, 'fstp qword ptr [ebx+0x40]');
      break;
    }
    case 4:
      c.at(B2, randDouble(rng)).op('fld qword ptr [ebx+0x20]', 'fld qword ptr [ebx+0x10]', `f${op} st, st(1)`, 'fstp qword ptr [ebx+0x40]', 'fstp qword ptr [ebx+0x50]');
      break;
    case 5:
      c.at(B2, randDouble(rng)).op('fld qword ptr [ebx+0x20]', 'fld qword ptr [ebx+0x10]', `f${op} st(1), st`, 'fstp qword ptr [ebx+0x40]', 'fstp qword ptr [ebx+0x50]');
      break;
    case 6:
      c.at(B2, randDouble(rng)).op('fld qword ptr [ebx+0x20]', 'fld qword ptr [ebx+0x10]', `f${op}p st(1), st`, 'fstp qword ptr [ebx+0x40]');
      break;
  }
  if (rng.bool(0.15)) c.op('fld qword ptr [ebx+0x40]', 'fstp dword ptr [ebx+0x48]');
  c.op('fnstsw ax');
  return c.done(group);
}

function intCase(rng: Rng): CaseSpec {
  const rc = rng.int(4);
  const c = new X87Case(rng, rc);
  const k = rng.int(10);
  const frac = (): number => {
    const r = rng.int(10);
    if (r < 3) return rng.range(-70000, 70000) + rng.pick([0.5, -0.5, 0.25, 0.75, 0.5000001, 0.4999999]);
    if (r < 4) return rng.pick([32767.5, -32768.5, 32767.4, -32768.6, 2147483647.5, -2147483648.5, 2147483648, -2147483649, 2 ** 63, -(2 ** 63), 2 ** 62 + 1024, 1e300, -0.5, 0.5, -0, 1.5, 2.5]);
    if (r < 5) return asDouble(randDouble(rng));
    if (r < 7) return (rng.bool() ? -1 : 1) * rng.float() * 2 ** rng.int(64);
    return rng.range(-100, 100) + rng.float();
  };
  if (k < 5) {
    const w = rng.pick(['word', 'dword', 'qword']);
    const pop = w === 'qword' || rng.bool() ? 'p' : '';
    c.at(A, f64(frac())).op('fld qword ptr [ebx+0x10]', `fist${pop} ${w} ptr [ebx+0x40]`);
    if (!pop) c.op('fstp qword ptr [ebx+0x50]');
  } else if (k < 7) {
    c.at(A, f64(frac())).op('fld qword ptr [ebx+0x10]', 'frndint', 'fstp qword ptr [ebx+0x40]');
  } else {
    const w = rng.pick(['word', 'dword', 'qword']);
    const n = w === 'word' ? 2 : w === 'dword' ? 4 : 8;
    const bytes: number[] = [];
    for (let i = 0; i < n; i++) bytes.push(rng.int(256));
    if (rng.bool(0.3)) for (let i = 0; i < n - 1; i++) bytes[i] = 0;
    c.at(A, bytes).op(`fild ${w} ptr [ebx+0x10]`, rng.bool() ? 'fstp qword ptr [ebx+0x40]' : `fistp ${w} ptr [ebx+0x40]`);
  }
  c.op('fnstsw ax');
  return c.done('x87-int', { text: `${c.asm.slice(1).join('; ')}  (RC=${RC_NAMES[rc]})` });
}

/** Two comparison operands: often equal, NaN or signed zeros. */
function cmpPair(rng: Rng): [number[], number[]] {
  const a = randDouble(rng, 10);
  const r = rng.int(10);
  if (r < 3) return [a, a];
  if (r < 4) return [f64(0), f64(-0)];
  if (r < 5) return [a, bits64(0x7ff80000, 0)];
  return [a, randDouble(rng, 10)];
}

function cmpCase(rng: Rng): CaseSpec {
  const c = new X87Case(rng);
  const [a, b] = cmpPair(rng);
  c.at(A, a).at(B2, b);
  const k = rng.int(12);
  const two = ['fcom st(1)', 'fcomp st(1)', 'fcompp', 'fucom st(1)', 'fucomp st(1)', 'fucompp'];
  if (k < 6) c.op('fld qword ptr [ebx+0x20]', 'fld qword ptr [ebx+0x10]', two[k]);
  else if (k === 6) c.op('fld qword ptr [ebx+0x10]', rng.bool() ? 'fcom qword ptr [ebx+0x20]' : 'fcomp qword ptr [ebx+0x20]');
  else if (k === 7) c.at(B2, f32(asDouble(b))).op('fld qword ptr [ebx+0x10]', rng.bool() ? 'fcom dword ptr [ebx+0x20]' : 'fcomp dword ptr [ebx+0x20]');
  else if (k === 8) {
    const v = rng.bool() ? Math.trunc(asDouble(a)) || rng.range(-5, 5) : rng.range(-1000, 1000);
    const w = rng.bool();
    c.at(B2, le((Number.isFinite(v) ? v : 7) >>> 0, w ? 2 : 4)).op('fld qword ptr [ebx+0x10]', `${rng.bool() ? 'ficom' : 'ficomp'} ${w ? 'word' : 'dword'} ptr [ebx+0x20]`);
  } else if (k === 9) c.op('fld qword ptr [ebx+0x10]', 'ftst');
  else if (k === 10) c.op('fld qword ptr [ebx+0x10]', 'fxam');
  else c.op(rng.bool() ? 'fxam' : 'fld qword ptr [ebx+0x10]', 'fld qword ptr [ebx+0x20]', 'ffree st(1)', 'fincstp', 'fxam');
  c.op('fnstsw ax', 'sahf');
  return c.done('x87-cmp');
}

function fcomiCase(rng: Rng): CaseSpec {
  const c = new X87Case(rng);
  const [a, b] = cmpPair(rng);
  c.at(A, a).at(B2, b);
  c.op('fld qword ptr [ebx+0x20]', 'fld qword ptr [ebx+0x10]', `${rng.pick(['fcomi', 'fcomip', 'fucomi', 'fucomip'])} st, st(1)`, 'fnstsw ax');
  return c.done('x87-fcomi');
}

function fcmovCase(rng: Rng): CaseSpec {
  const c = new X87Case(rng);
  c.b.flags = (rng.u32() & 0x8d5) | 0x2;
  c.at(A, randDouble(rng)).at(B2, randDouble(rng));
  const cc = rng.pick(['b', 'e', 'be', 'u', 'nb', 'ne', 'nbe', 'nu']);
  c.op('fld qword ptr [ebx+0x20]', 'fld qword ptr [ebx+0x10]', `fcmov${cc} st, st(1)`, 'fstp qword ptr [ebx+0x40]', 'fstp qword ptr [ebx+0x50]');
  return c.done('x87-fcmov');
}

/** Status-word bits not compared after a transcendental: C1 (round-up) and PE (inexact). */
const TRANS_AX_MASK = ~0x0220 >>> 0;

function transCase(rng: Rng, op: string): CaseSpec {
  const c = new X87Case(rng);
  const u = (lo: number, hi: number): number => lo + (hi - lo) * rng.float();
  const ulp: number[] = [];
  let x: number;
  switch (op) {
    case 'fsin':
    case 'fcos':
    case 'fsincos':
    case 'fptan': {
      const r = rng.int(20);
      x = r < 14 ? u(-8, 8) : r < 18 ? u(-100, 100) : r < 19 ? u(-1e-5, 1e-5) : rng.pick([0, -0, 1, -1]);
      c.at(A, f64(x)).op('fld qword ptr [ebx+0x10]', op, 'fstp qword ptr [ebx+0x40]');
      if (op === 'fsincos' || op === 'fptan') c.op('fstp qword ptr [ebx+0x50]');
      if (op !== 'fptan') ulp.push(XB + R0);
      if (op === 'fsincos' || op === 'fptan') ulp.push(XB + R1);
      break;
    }
    case 'f2xm1':
      x = rng.bool(0.1) ? rng.pick([0, -0, 1, -1, 0.5, -0.5, 1e-10]) : u(-1, 1);
      c.at(A, f64(x)).op('fld qword ptr [ebx+0x10]', 'f2xm1', 'fstp qword ptr [ebx+0x40]');
      ulp.push(XB + R0);
      break;
    case 'fyl2x':
    case 'fyl2xp1':
    case 'fpatan': {
      let xx: number;
      if (op === 'fyl2x') xx = rng.bool(0.15) ? 2 ** rng.range(-30, 30) : Math.abs(randFinite(rng, 60));
      else if (op === 'fyl2xp1') xx = rng.bool(0.1) ? rng.pick([0, -0, 1e-9]) : u(-0.29, 0.29);
      else xx = rng.bool(0.1) ? rng.pick([0, -0, 1, -1]) : randFinite(rng, 10);
      const y = rng.bool(0.1) ? rng.pick([1, -1, 0]) : randFinite(rng, 8);
      c.at(A, f64(xx)).at(B2, f64(y)).op('fld qword ptr [ebx+0x20]', 'fld qword ptr [ebx+0x10]', op, 'fstp qword ptr [ebx+0x40]');
      ulp.push(XB + R0);
      break;
    }
    case 'fsqrt':
      x = rng.bool(0.1) ? rng.pick([0, -0, -1, Infinity, 4, 2, 1e-310]) : Math.abs(randFinite(rng, 100));
      c.at(A, f64(x)).op('fld qword ptr [ebx+0x10]', 'fsqrt', 'fstp qword ptr [ebx+0x40]');
      break;
    case 'fscale': {
      const s = rng.bool(0.7) ? rng.range(-60, 60) : u(-60, 60);
      c.at(A, randDouble(rng, 30)).at(B2, f64(s)).op('fld qword ptr [ebx+0x20]', 'fld qword ptr [ebx+0x10]', 'fscale', 'fstp qword ptr [ebx+0x40]', 'fstp qword ptr [ebx+0x50]');
      break;
    }
    case 'fprem':
    case 'fprem1': {
      const b = randFinite(rng, 8);
      const a = rng.bool(0.1) ? randFinite(rng, 90) * 2 ** 20 : randFinite(rng, 8) * 2 ** rng.int(50);
      c.at(A, f64(a)).at(B2, f64(rng.bool(0.05) ? 0 : b)).op('fld qword ptr [ebx+0x20]', 'fld qword ptr [ebx+0x10]', op, 'fstp qword ptr [ebx+0x40]', 'fstp qword ptr [ebx+0x50]');
      break;
    }
    case 'fxtract':
      c.at(A, rng.bool(0.1) ? f64(rng.pick([0, -0, Infinity])) : randDouble(rng, 300)).op('fld qword ptr [ebx+0x10]', 'fxtract', 'fstp qword ptr [ebx+0x40]', 'fstp qword ptr [ebx+0x50]');
      break;
  }
  c.op('fnstsw ax');
  const opts: Partial<CaseSpec> = {};
  if (ulp.length) {
    opts.ulp = ulp;
    opts.regMask = [TRANS_AX_MASK, ...Array(7).fill(0xffffffff)];
  }
  return c.done('x87-trans', opts);
}

function loadCase(rng: Rng): CaseSpec {
  const rc = rng.int(4);
  const c = new X87Case(rng, rc);
  const k = rng.int(10);
  const ext = (): number[] => {
    const r = rng.int(10);
    if (r === 0) return f80(rng.int(2), 0x7fff, 0x80000000, 0);
    if (r === 1) return f80(rng.int(2), 0x7fff, 0xc0000000 | rng.u32(), rng.u32());
    if (r === 2) return f80(rng.int(2), 0, 0, 0);
    return f80(rng.int(2), 16383 + rng.range(-200, 200), 0x80000000 | rng.u32(), rng.u32());
  };
  switch (k) {
    case 0:
      c.at(A, f32(asDouble(randDouble(rng, 30)))).op('fld dword ptr [ebx+0x10]', 'fstp qword ptr [ebx+0x40]');
      break;
    case 1:
      c.at(A, randDouble(rng, 140)).op('fld qword ptr [ebx+0x10]', 'fstp dword ptr [ebx+0x40]');
      break;
    case 2:
      c.at(A, ext()).op('fld tbyte ptr [ebx+0x10]', 'fstp qword ptr [ebx+0x40]');
      break;
    case 3:
      c.at(A, randDouble(rng)).op('fld qword ptr [ebx+0x10]', 'fstp tbyte ptr [ebx+0x40]');
      break;
    case 4:
      c.at(A, ext()).op('fld tbyte ptr [ebx+0x10]', 'fstp tbyte ptr [ebx+0x40]');
      break;
    case 5: {
      const k2 = rng.pick(['fld1', 'fldz', 'fldpi', 'fldl2e', 'fldl2t', 'fldlg2', 'fldln2']);
      c.op(k2, 'fst qword ptr [ebx+0x40]', 'fstp tbyte ptr [ebx+0x50]');
      break;
    }
    case 6:
      c.at(A, randDouble(rng)).at(B2, randDouble(rng)).op('fld qword ptr [ebx+0x10]', 'fld qword ptr [ebx+0x20]', 'fxch st(1)', 'fstp qword ptr [ebx+0x40]', 'fstp qword ptr [ebx+0x50]');
      break;
    case 7:
      c.at(A, randDouble(rng)).op('fld qword ptr [ebx+0x10]', rng.pick(['fchs', 'fabs']), 'fld st(0)', 'fmul st, st(1)', 'fstp qword ptr [ebx+0x40]', 'fstp qword ptr [ebx+0x50]');
      break;
    case 8:
      c.at(A, randDouble(rng)).at(B2, randDouble(rng)).op('fld qword ptr [ebx+0x10]', 'fld qword ptr [ebx+0x20]', 'fst st(2)', 'fstp st(1)', 'fstp qword ptr [ebx+0x40]', 'fld1', 'fnstcw word ptr [ebx+0x50]', 'fnstsw word ptr [ebx+0x52]');
      break;
    case 9:
      c.at(A, randDouble(rng)).op('fld qword ptr [ebx+0x10]', 'fld1', 'fdecstp', 'fincstp', 'faddp st(1), st', 'fst qword ptr [ebx+0x40]', 'fistp dword ptr [ebx+0x50]');
      break;
  }
  c.op('fnstsw ax');
  return c.done('x87-load', { text: `${c.asm.slice(1).join('; ')}  (RC=${RC_NAMES[rc]})` });
}

export function genX87(rng: Rng, emit: Emit): void {
  for (let k = 0; k < 900; k++) emit(arithCase(rng, 'x87-arith', 0));
  for (let k = 0; k < 240; k++) {
    const rc = 1 + rng.int(3);
    const c = arithCase(rng, 'x87-round', rc);
    c.text += `  (RC=${RC_NAMES[rc]})`;
    emit(c);
  }
  for (let k = 0; k < 500; k++) emit(intCase(rng));
  for (let k = 0; k < 320; k++) emit(cmpCase(rng));
  for (let k = 0; k < 140; k++) emit(fcomiCase(rng));
  for (let k = 0; k < 140; k++) emit(fcmovCase(rng));
  const trans: [string, number][] = [
    ['fsin', 50], ['fcos', 50], ['fsincos', 40], ['fptan', 40], ['fpatan', 40], ['fyl2x', 40], ['fyl2xp1', 40],
    ['f2xm1', 40], ['fsqrt', 60], ['fscale', 40], ['fprem', 50], ['fprem1', 50], ['fxtract', 30],
  ];
  for (const [op, n] of trans) for (let k = 0; k < n; k++) emit(transCase(rng, op));
  for (let k = 0; k < 450; k++) emit(loadCase(rng));
}

export const X87_ULP_INSTRUCTIONS = ['fsin', 'fcos', 'fsincos', 'fptan', 'fpatan', 'fyl2x', 'fyl2xp1', 'f2xm1'];
export { F, hex };
