/**
 * Integer instruction cases: ALU, shifts/rotates, multiply/divide, bit operations, moves and
 * conversions, LEA, SETcc/CMOVcc, branches and loops, 16-bit stack operations, flag
 * instructions, string instructions, and the alias cases.
 */
import * as F from './flag-masks';
import {
  AREA, Builder, bytesLine, CaseSpec, EAX, ECX, EDGE_VALUES, EDI, EDX, ESI, ESP, EBP, EBX, hex, le, mask,
  MEM_HI, MEM_LO, ptr, R16, R32, randomStatusFlags, randomValue, regName, signExtend, Size,
} from './gen-common';
import { Rng } from './prng';

type Emit = (c: CaseSpec) => void;
const SIZES: Size[] = [8, 16, 32];

const ALU_OPS = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'] as const;
type AluOp = (typeof ALU_OPS)[number] | 'test';
const ARITH = new Set<string>(['add', 'adc', 'sub', 'sbb', 'cmp']);
const CONDS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** Any register of `size` except (E)SP / SP. For 8-bit every register is allowed. */
function anyReg(rng: Rng, size: Size, exclude: number[] = []): number {
  for (;;) {
    const r = rng.int(8);
    if (size !== 8 && r === ESP) continue;
    if (exclude.includes(size === 8 ? r & 3 : r)) continue;
    return r;
  }
}

function immText(v: number, size: Size): string {
  return hex(v & mask(size));
}

/** A value that fits a sign-extended imm8, as a `size` value. */
function simm8(rng: Rng, size: Size): number {
  const v = rng.bool(0.3) ? rng.pick([0, 1, -1, 0x7f, -0x80, 2, -2]) : rng.range(-128, 127);
  return v & mask(size);
}

function sizePrefix(size: Size): number[] {
  return size === 16 ? [0x66] : [];
}

// ---------------------------------------------------------------------------------------------
// ALU
// ---------------------------------------------------------------------------------------------

type AluForm = 'rr' | 'ri' | 'ri8' | 'acc' | 'rm' | 'mr' | 'mi' | 'mi8' | 'raw81' | 'abs';

function aluCase(rng: Rng, op: AluOp, size: Size, form: AluForm, a?: number, b?: number, cf?: number): CaseSpec {
  const B = new Builder(rng);
  if (cf !== undefined) B.flags = (B.flags & ~F.CF) | (cf ? F.CF : 0);
  const av = a ?? randomValue(rng, size);
  let bv = b ?? randomValue(rng, size);
  const undefFlags = F.undefinedFlagsOf(op);
  const ext = op === 'test' ? 0 : ALU_OPS.indexOf(op);
  const G = 'alu';
  switch (form) {
    case 'rr': {
      const d = anyReg(rng, size);
      const s = rng.bool(0.08) ? d : anyReg(rng, size);
      B.setReg(size, d, av);
      if (s !== d) B.setReg(size, s, bv);
      const pre = op === 'test' ? '' : rng.pick(['{load} ', '{store} ']);
      return B.done(G, [`${pre}${op} ${regName(size, d)}, ${regName(size, s)}`], { undefFlags });
    }
    case 'ri':
    case 'ri8':
    case 'acc': {
      const d = form === 'acc' ? 0 : anyReg(rng, size);
      if (form === 'ri8' && size !== 8 && op !== 'test') bv = simm8(rng, size);
      B.setReg(size, d, av);
      return B.done(G, [`${op} ${regName(size, d)}, ${immText(bv, size)}`], { undefFlags });
    }
    case 'raw81': {
      // The long immediate forms 80/81 (F6/F7 for TEST), which GNU as replaces by shorter ones.
      const d = anyReg(rng, size);
      B.setReg(size, d, av);
      const opc = op === 'test' ? (size === 8 ? 0xf6 : 0xf7) : size === 8 ? 0x80 : 0x81;
      const bytes = [...sizePrefix(size), opc, 0xc0 | (ext << 3) | d, ...le(bv & mask(size), size / 8)];
      return B.done(G, [bytesLine(bytes)], {
        undefFlags,
        text: `${op} ${regName(size, d)}, ${immText(bv, size)}  (${opc.toString(16)} /${ext})`,
      });
    }
    case 'rm':
    case 'mr': {
      const r = anyReg(rng, size);
      B.setReg(size, r, form === 'rm' ? av : bv);
      const m = B.mem(size);
      B.patchValue(m.off, form === 'rm' ? bv : av, size / 8);
      const line = op === 'test' || form === 'mr' ? `${op} ${m.text}, ${regName(size, r)}` : `${op} ${regName(size, r)}, ${m.text}`;
      return B.done(G, [line], { undefFlags });
    }
    case 'mi':
    case 'mi8': {
      if (form === 'mi8' && size !== 8 && op !== 'test') bv = simm8(rng, size);
      const m = B.mem(size);
      B.patchValue(m.off, av, size / 8);
      const lock = op !== 'cmp' && op !== 'test' && rng.bool(0.1) ? 'lock ' : '';
      return B.done(G, [`${lock}${op} ${m.text}, ${immText(bv, size)}`], { undefFlags });
    }
    case 'abs': {
      // [disp32] through SIB (mod=00 r/m=100, base=101, no index): valid in both modes.
      const r = anyReg(rng, size);
      const toReg = op !== 'test' && rng.bool();
      B.setReg(size, r, toReg ? av : bv);
      const off = B.randomOff(size / 8);
      B.patchValue(off, toReg ? bv : av, size / 8);
      const base = op === 'test' ? 0x84 : (ext << 3) | (toReg ? 2 : 0);
      const opc = base | (size === 8 ? 0 : 1);
      const addr = AREA + off;
      const bytes = [...sizePrefix(size), opc, (r << 3) | 4, 0x25, ...le(addr, 4)];
      const m = `${ptr(size)} [${hex(addr)}]`;
      const text = toReg ? `${op} ${regName(size, r)}, ${m}` : `${op} ${m}, ${regName(size, r)}`;
      return B.done(G, [bytesLine(bytes)], { undefFlags, text: `${text}  (SIB no base/index)` });
    }
  }
}

export function genAlu(rng: Rng, emit: Emit): void {
  for (const op of [...ALU_OPS, 'test'] as AluOp[]) {
    for (const size of SIZES) {
      const edges = EDGE_VALUES[size];
      const formsEdge: AluForm[] = ['rr', 'rm', 'mr', 'ri', 'mi'];
      for (const a of edges) {
        for (const b of edges) {
          if (ARITH.has(op)) {
            for (const cf of [0, 1]) emit(aluCase(rng, op, size, rng.pick(formsEdge), a, b, cf));
          } else {
            emit(aluCase(rng, op, size, rng.pick(formsEdge), a, b));
          }
        }
      }
      const forms: AluForm[] = ['rr', 'ri', 'acc', 'rm', 'mr', 'mi', 'raw81', 'abs'];
      if (size !== 8 && op !== 'test') forms.push('ri8', 'mi8');
      for (const form of forms) for (let k = 0; k < 18; k++) emit(aluCase(rng, op, size, form));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// INC DEC NEG NOT
// ---------------------------------------------------------------------------------------------

function unaryCase(rng: Rng, op: 'inc' | 'dec' | 'neg' | 'not', size: Size, toMem: boolean, v: number, reg?: number): CaseSpec {
  const B = new Builder(rng);
  if (toMem) {
    const m = B.mem(size);
    B.patchValue(m.off, v, size / 8);
    const lock = op !== 'neg' && op !== 'not' && rng.bool(0.1) ? 'lock ' : '';
    return B.done('unary', [`${lock}${op} ${m.text}`]);
  }
  const r = reg ?? anyReg(rng, size);
  if (r !== ESP) B.setReg(size, r, v);
  if ((op === 'inc' || op === 'dec') && size !== 8) {
    // FF /0, FF /1: the one-byte 40+r/48+r forms are REX prefixes in 64-bit mode (see alias group).
    const bytes = [...sizePrefix(size), 0xff, 0xc0 | ((op === 'dec' ? 1 : 0) << 3) | r];
    return B.done('unary', [bytesLine(bytes)], { text: `${op} ${regName(size, r)}  (ff /${op === 'dec' ? 1 : 0})` });
  }
  return B.done('unary', [`${op} ${regName(size, r)}`]);
}

export function genUnary(rng: Rng, emit: Emit): void {
  for (const op of ['inc', 'dec', 'neg', 'not'] as const) {
    for (const size of SIZES) {
      for (const toMem of [false, true]) {
        for (const v of EDGE_VALUES[size]) emit(unaryCase(rng, op, size, toMem, v));
        for (let k = 0; k < 14; k++) emit(unaryCase(rng, op, size, toMem, randomValue(rng, size)));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Shifts and rotates
// ---------------------------------------------------------------------------------------------

const SHIFT_OPS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'] as const;
type ShiftOp = 'rol' | 'ror' | 'rcl' | 'rcr' | 'shl' | 'shr' | 'sar';
type ShiftForm = 'one' | 'imm' | 'cl' | 'raw1';

function shiftUndef(op: ShiftOp, size: Size, count: number): number {
  return op === 'shl' || op === 'shr' || op === 'sar' ? F.shiftUndefined(op, size, count) : F.rotateUndefined(count);
}

function shiftCase(rng: Rng, op: ShiftOp, size: Size, form: ShiftForm, count: number, toMem: boolean): CaseSpec {
  const B = new Builder(rng);
  if (form === 'one' || form === 'raw1') count = 1;
  if (form === 'cl') B.setReg(8, 1, count);
  const v = randomValue(rng, size);
  let dst: string;
  let r = -1;
  if (toMem) {
    const m = B.mem(size);
    B.patchValue(m.off, v, size / 8);
    dst = m.text;
  } else {
    r = anyReg(rng, size, form === 'cl' ? [ECX] : []);
    if (form === 'cl' && size === 8 && r === 1) r = 0;
    B.setReg(size, r, v);
    dst = regName(size, r);
  }
  const undefFlags = shiftUndef(op, size, count);
  if (form === 'raw1' && !toMem) {
    const ext = SHIFT_OPS.indexOf(op);
    const bytes = [...sizePrefix(size), size === 8 ? 0xc0 : 0xc1, 0xc0 | (ext << 3) | r, 1];
    return B.done('shift', [bytesLine(bytes)], { undefFlags, text: `${op} ${dst}, 1  (${size === 8 ? 'c0' : 'c1'} /${ext} ib)` });
  }
  const src = form === 'cl' ? 'cl' : form === 'one' ? '1' : hex(count & 0xff);
  return B.done('shift', [`${op} ${dst}, ${src}`], { undefFlags });
}

const SHIFT_COUNTS_EXTRA = [34, 35, 40, 48, 63, 64, 65, 0x7f, 0x80, 0xe1, 0xff];

export function genShift(rng: Rng, emit: Emit): void {
  for (const op of ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar'] as ShiftOp[]) {
    for (const size of SIZES) {
      const counts = [...Array(34).keys(), ...SHIFT_COUNTS_EXTRA];
      for (const c of counts) {
        emit(shiftCase(rng, op, size, 'cl', c, false));
        emit(shiftCase(rng, op, size, 'imm', c, false));
      }
      for (let k = 0; k < 6; k++) emit(shiftCase(rng, op, size, 'one', 1, false));
      for (let k = 0; k < 3; k++) emit(shiftCase(rng, op, size, 'raw1', 1, false));
      for (let k = 0; k < 30; k++) {
        const form = rng.pick<ShiftForm>(['one', 'imm', 'cl']);
        emit(shiftCase(rng, op, size, form, rng.bool(0.8) ? rng.int(34) : rng.int(256), true));
      }
    }
  }
}

function shiftdCase(rng: Rng, op: 'shld' | 'shrd', size: 16 | 32, useCl: boolean, count: number, toMem: boolean): CaseSpec {
  const B = new Builder(rng);
  if (useCl) B.setReg(8, 1, count);
  const s = anyReg(rng, size, useCl ? [ECX] : []);
  B.setReg(size, s, randomValue(rng, size));
  const v = randomValue(rng, size);
  const resultUndef = F.doubleShiftResultUndefined(size, count);
  const opts: Partial<CaseSpec> = { undefFlags: F.doubleShiftUndefined(size, count) };
  let dst: string;
  if (toMem) {
    const m = B.mem(size);
    B.patchValue(m.off, v, size / 8);
    dst = m.text;
    if (resultUndef) opts.memMask = [[m.off, 0], [m.off + 1, 0]];
  } else {
    const d = anyReg(rng, size, useCl ? [ECX, s] : [s]);
    B.setReg(size, d, v);
    dst = regName(size, d);
    if (resultUndef) {
      opts.regMask = [...Array(8)].map(() => 0xffffffff);
      opts.regMask[d] = 0xffff0000;
    }
  }
  return B.done('shiftd', [`${op} ${dst}, ${regName(size, s)}, ${useCl ? 'cl' : hex(count & 0xff)}`], opts);
}

export function genShiftd(rng: Rng, emit: Emit): void {
  for (const op of ['shld', 'shrd'] as const) {
    for (const size of [16, 32] as const) {
      const counts = [...Array(34).keys(), 40, 63, 64, 0x80, 0xff];
      for (const c of counts) {
        for (let k = 0; k < 2; k++) {
          emit(shiftdCase(rng, op, size, true, c, false));
          emit(shiftdCase(rng, op, size, false, c, false));
        }
      }
      for (let k = 0; k < 24; k++) emit(shiftdCase(rng, op, size, rng.bool(), rng.bool(0.85) ? rng.int(34) : rng.int(256), true));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// MUL IMUL DIV IDIV
// ---------------------------------------------------------------------------------------------

function mulCase(rng: Rng, op: 'mul' | 'imul', size: Size, toMem: boolean): CaseSpec {
  const B = new Builder(rng);
  B.setReg(size, 0, randomValue(rng, size));
  const v = randomValue(rng, size);
  const undefFlags = F.undefinedFlagsOf(op);
  if (toMem) {
    const m = B.mem(size);
    B.patchValue(m.off, v, size / 8);
    return B.done('muldiv', [`${op} ${m.text}`], { undefFlags });
  }
  const r = rng.bool(0.1) ? 0 : anyReg(rng, size, [EAX]);
  if (r !== 0) B.setReg(size, r, v);
  return B.done('muldiv', [`${op} ${regName(size, r)}`], { undefFlags });
}

function imul2Case(rng: Rng, size: 16 | 32, toMem: boolean): CaseSpec {
  const B = new Builder(rng);
  const d = anyReg(rng, size);
  B.setReg(size, d, randomValue(rng, size));
  const v = randomValue(rng, size);
  const undefFlags = F.undefinedFlagsOf('imul');
  if (toMem) {
    const m = B.mem(size);
    B.patchValue(m.off, v, size / 8);
    return B.done('muldiv', [`imul ${regName(size, d)}, ${m.text}`], { undefFlags });
  }
  const s = rng.bool(0.1) ? d : anyReg(rng, size, [d]);
  if (s !== d) B.setReg(size, s, v);
  return B.done('muldiv', [`imul ${regName(size, d)}, ${regName(size, s)}`], { undefFlags });
}

function imul3Case(rng: Rng, size: 16 | 32, imm8: boolean, toMem: boolean): CaseSpec {
  const B = new Builder(rng);
  const d = anyReg(rng, size);
  const imm = imm8 ? simm8(rng, size) : randomValue(rng, size);
  const v = randomValue(rng, size);
  const undefFlags = F.undefinedFlagsOf('imul');
  let src: string;
  if (toMem) {
    B.setReg(size, d, randomValue(rng, size));
    const m = B.mem(size);
    B.patchValue(m.off, v, size / 8);
    src = m.text;
  } else {
    const s = anyReg(rng, size);
    B.setReg(size, s, v);
    src = regName(size, s);
  }
  return B.done('muldiv', [`imul ${regName(size, d)}, ${src}, ${immText(imm, size)}`], { undefFlags });
}

/** Dividend/divisor pairs whose quotient fits (no #DE). */
function divOperands(rng: Rng, size: Size, signed: boolean): { dividend: bigint; divisor: number } {
  const n = BigInt(size);
  for (;;) {
    if (!signed) {
      const d = randomValue(rng, size) || 1 + rng.int(mask(size));
      const q = BigInt(randomValue(rng, size));
      const r = BigInt(rng.int(d));
      return { dividend: q * BigInt(d) + r, divisor: d };
    }
    const d = signExtend(randomValue(rng, size), size) || 1;
    const q = BigInt(signExtend(randomValue(rng, size), size));
    const bd = BigInt(d);
    const prod = q * bd;
    const absd = d < 0 ? -d : d;
    let r = BigInt(rng.int(absd));
    const neg = prod < 0n || (prod === 0n && rng.bool());
    if (neg) r = -r;
    const dividend = prod + r;
    const lim = 1n << (2n * n - 1n);
    if (dividend < -lim || dividend >= lim) continue;
    if (dividend / bd !== q) continue;
    return { dividend, divisor: d };
  }
}

function divCase(rng: Rng, op: 'div' | 'idiv', size: Size, toMem: boolean): CaseSpec {
  const B = new Builder(rng);
  const { dividend, divisor } = divOperands(rng, size, op === 'idiv');
  const n = BigInt(size);
  const dv = BigInt.asUintN(2 * size, dividend);
  const lo = Number(dv & ((1n << n) - 1n));
  const hi = Number(dv >> n);
  if (size === 8) B.setReg(16, 0, (hi << 8) | lo);
  else {
    B.setReg(size, EAX, lo);
    B.setReg(size, EDX, hi);
  }
  const undefFlags = F.undefinedFlagsOf(op);
  if (toMem) {
    const m = B.mem(size);
    B.patchValue(m.off, divisor & mask(size), size / 8);
    return B.done('muldiv', [`${op} ${m.text}`], { undefFlags });
  }
  const r = anyReg(rng, size, size === 8 ? [EAX] : [EAX, EDX]);
  B.setReg(size, r, divisor & mask(size));
  return B.done('muldiv', [`${op} ${regName(size, r)}`], { undefFlags });
}

export function genMulDiv(rng: Rng, emit: Emit): void {
  for (const size of SIZES) {
    for (const op of ['mul', 'imul'] as const) {
      for (let k = 0; k < 40; k++) emit(mulCase(rng, op, size, false));
      for (let k = 0; k < 20; k++) emit(mulCase(rng, op, size, true));
    }
    for (const op of ['div', 'idiv'] as const) {
      for (let k = 0; k < 60; k++) emit(divCase(rng, op, size, false));
      for (let k = 0; k < 30; k++) emit(divCase(rng, op, size, true));
    }
  }
  for (const size of [16, 32] as const) {
    for (let k = 0; k < 40; k++) emit(imul2Case(rng, size, false));
    for (let k = 0; k < 20; k++) emit(imul2Case(rng, size, true));
    for (const imm8 of [true, false]) {
      for (let k = 0; k < 20; k++) emit(imul3Case(rng, size, imm8, false));
      for (let k = 0; k < 10; k++) emit(imul3Case(rng, size, imm8, true));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Bit operations
// ---------------------------------------------------------------------------------------------

function btCase(rng: Rng, op: 'bt' | 'bts' | 'btr' | 'btc', size: 16 | 32, form: 'rr' | 'ri' | 'mr' | 'mi'): CaseSpec {
  const B = new Builder(rng);
  const undefFlags = F.undefinedFlagsOf(op);
  const imm = rng.bool(0.3) ? rng.pick([0, 1, size - 1, size, size + 1, 31, 32, 63, 0x80, 0xff]) : rng.int(256);
  switch (form) {
    case 'rr': {
      const d = anyReg(rng, size);
      const s = anyReg(rng, size, [d]);
      B.setReg(size, d, randomValue(rng, size));
      B.setReg(size, s, rng.bool() ? rng.int(64) : randomValue(rng, size));
      return B.done('bitops', [`${op} ${regName(size, d)}, ${regName(size, s)}`], { undefFlags });
    }
    case 'ri': {
      const d = anyReg(rng, size);
      B.setReg(size, d, randomValue(rng, size));
      return B.done('bitops', [`${op} ${regName(size, d)}, ${hex(imm)}`], { undefFlags });
    }
    case 'mr': {
      // A register bit offset addresses memory outside the operand: [m + (offset >> 3)].
      const s = anyReg(rng, size);
      const bitOff = rng.bool(0.2) ? rng.range(-2 * size, 2 * size) : rng.range(-1500, 1500);
      B.setReg(size, s, bitOff & mask(size));
      const m = B.mem(size, { off: 0x600 + rng.int(16) });
      const lock = op !== 'bt' && rng.bool(0.2) ? 'lock ' : '';
      return B.done('bitops', [`${lock}${op} ${m.text}, ${regName(size, s)}`], { undefFlags });
    }
    case 'mi': {
      const m = B.mem(size);
      const lock = op !== 'bt' && rng.bool(0.2) ? 'lock ' : '';
      return B.done('bitops', [`${lock}${op} ${m.text}, ${hex(imm)}`], { undefFlags });
    }
  }
}

function bitScanCase(rng: Rng, op: 'bsf' | 'bsr', size: 16 | 32, toMem: boolean): CaseSpec {
  const B = new Builder(rng);
  const d = anyReg(rng, size);
  const k = rng.int(4);
  const v = k === 0 ? 0 : k === 1 ? (1 << rng.int(size)) >>> 0 : k === 2 ? randomValue(rng, size) : (rng.u32() & mask(size)) >>> 0;
  const opts: Partial<CaseSpec> = { undefFlags: F.undefinedFlagsOf(op) };
  if (v === 0) {
    // "If the content of the source operand is 0, the content of the destination operand is
    // undefined." (SDM BSF, BSR)
    opts.regMask = [...Array(8)].map(() => 0xffffffff);
    opts.regMask[d] = size === 32 ? 0 : 0xffff0000;
  }
  let src: string;
  if (toMem) {
    B.setReg(size, d, randomValue(rng, size));
    const m = B.mem(size);
    B.patchValue(m.off, v, size / 8);
    src = m.text;
  } else {
    const s = anyReg(rng, size, [d]);
    B.setReg(size, d, randomValue(rng, size));
    B.setReg(size, s, v);
    src = regName(size, s);
  }
  return B.done('bitscan', [`${op} ${regName(size, d)}, ${src}`], opts);
}

export function genBitOps(rng: Rng, emit: Emit): void {
  for (const op of ['bt', 'bts', 'btr', 'btc'] as const) {
    for (const size of [16, 32] as const) {
      for (const form of ['rr', 'ri', 'mr', 'mi'] as const) for (let k = 0; k < 36; k++) emit(btCase(rng, op, size, form));
    }
  }
  for (const op of ['bsf', 'bsr'] as const) {
    for (const size of [16, 32] as const) {
      for (let k = 0; k < 40; k++) emit(bitScanCase(rng, op, size, false));
      for (let k = 0; k < 20; k++) emit(bitScanCase(rng, op, size, true));
    }
  }
  for (let r = 0; r < 8; r++) {
    for (let k = 0; k < 8; k++) {
      const B = new Builder(rng);
      if (r !== ESP) B.setReg(32, r, randomValue(rng, 32));
      emit(B.done('bitscan', [`bswap ${R32[r]}`]));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// XADD CMPXCHG CMPXCHG8B XCHG
// ---------------------------------------------------------------------------------------------

function xaddCase(rng: Rng, size: Size, toMem: boolean): CaseSpec {
  const B = new Builder(rng);
  const s = anyReg(rng, size);
  B.setReg(size, s, randomValue(rng, size));
  if (toMem) {
    const m = B.mem(size);
    B.patchValue(m.off, randomValue(rng, size), size / 8);
    return B.done('xchg', [`${rng.bool(0.3) ? 'lock ' : ''}xadd ${m.text}, ${regName(size, s)}`]);
  }
  const d = rng.bool(0.05) ? s : anyReg(rng, size, [size === 8 ? s & 3 : s]);
  if (d !== s) B.setReg(size, d, randomValue(rng, size));
  return B.done('xchg', [`xadd ${regName(size, d)}, ${regName(size, s)}`]);
}

function cmpxchgCase(rng: Rng, size: Size, toMem: boolean): CaseSpec {
  const B = new Builder(rng);
  const acc = randomValue(rng, size);
  const equal = rng.bool();
  const dv = equal ? acc : randomValue(rng, size);
  B.setReg(size, 0, acc);
  const s = anyReg(rng, size, [EAX]);
  B.setReg(size, s, randomValue(rng, size));
  if (toMem) {
    const m = B.mem(size);
    B.patchValue(m.off, dv, size / 8);
    return B.done('xchg', [`${rng.bool(0.3) ? 'lock ' : ''}cmpxchg ${m.text}, ${regName(size, s)}`]);
  }
  let d = anyReg(rng, size, [s]);
  if (d === 0) d = size === 8 ? 4 : s === 2 ? 3 : 2;
  if (size === 8 && d === 4 && (s & 3) === 0) d = 6;
  B.setReg(size, d, dv);
  return B.done('xchg', [`cmpxchg ${regName(size, d)}, ${regName(size, s)}`]);
}

function cmpxchg8bCase(rng: Rng): CaseSpec {
  const B = new Builder(rng);
  for (const r of [EAX, EDX, EBX, ECX]) B.setReg(32, r, randomValue(rng, 32));
  const m = B.mem(64);
  if (rng.bool()) {
    B.patchValue(m.off, B.regs[EAX], 4);
    B.patchValue(m.off + 4, B.regs[EDX], 4);
  } else if (rng.bool()) {
    B.patchValue(m.off, B.regs[EAX], 4);
  }
  return B.done('xchg', [`${rng.bool(0.3) ? 'lock ' : ''}cmpxchg8b ${m.text}`]);
}

function xchgCase(rng: Rng, size: Size, toMem: boolean): CaseSpec {
  const B = new Builder(rng);
  const s = rng.bool(0.3) ? 0 : anyReg(rng, size);
  B.setReg(size, s, randomValue(rng, size));
  if (toMem) {
    const m = B.mem(size);
    B.patchValue(m.off, randomValue(rng, size), size / 8);
    return B.done('xchg', [rng.bool() ? `xchg ${m.text}, ${regName(size, s)}` : `xchg ${regName(size, s)}, ${m.text}`]);
  }
  const d = anyReg(rng, size, [size === 8 ? s & 3 : s]);
  B.setReg(size, d, randomValue(rng, size));
  return B.done('xchg', [`xchg ${regName(size, d)}, ${regName(size, s)}`]);
}

export function genXchg(rng: Rng, emit: Emit): void {
  for (const size of SIZES) {
    for (let k = 0; k < 25; k++) emit(xaddCase(rng, size, false));
    for (let k = 0; k < 20; k++) emit(xaddCase(rng, size, true));
    for (let k = 0; k < 30; k++) emit(cmpxchgCase(rng, size, false));
    for (let k = 0; k < 30; k++) emit(cmpxchgCase(rng, size, true));
    for (let k = 0; k < 20; k++) emit(xchgCase(rng, size, false));
    for (let k = 0; k < 15; k++) emit(xchgCase(rng, size, true));
  }
  for (let k = 0; k < 60; k++) emit(cmpxchg8bCase(rng));
}

// ---------------------------------------------------------------------------------------------
// MOV, MOVZX/MOVSX, CBW/CWDE/CWD/CDQ, LEA
// ---------------------------------------------------------------------------------------------

export function genMoves(rng: Rng, emit: Emit): void {
  for (const size of SIZES) {
    for (let k = 0; k < 40; k++) {
      const B = new Builder(rng);
      const r = anyReg(rng, size);
      const v = randomValue(rng, size);
      const form = k % 5;
      if (form === 0) {
        const s = anyReg(rng, size, [size === 8 ? r & 3 : r]);
        B.setReg(size, s, v);
        emit(B.done('mov', [`${rng.pick(['{load} ', '{store} '])}mov ${regName(size, r)}, ${regName(size, s)}`]));
      } else if (form === 1) {
        emit(B.done('mov', [`mov ${regName(size, r)}, ${immText(v, size)}`]));
      } else if (form === 2) {
        const m = B.mem(size);
        B.patchValue(m.off, v, size / 8);
        emit(B.done('mov', [`mov ${regName(size, r)}, ${m.text}`]));
      } else if (form === 3) {
        B.setReg(size, r, v);
        const m = B.mem(size);
        emit(B.done('mov', [`mov ${m.text}, ${regName(size, r)}`]));
      } else {
        const m = B.mem(size);
        emit(B.done('mov', [`mov ${m.text}, ${immText(v, size)}`]));
      }
    }
  }
  const ext: [string, Size, Size][] = [];
  for (const op of ['movzx', 'movsx']) ext.push([op, 16, 8], [op, 32, 8], [op, 32, 16]);
  for (const [op, dsz, ssz] of ext) {
    for (let k = 0; k < 36; k++) {
      const B = new Builder(rng);
      const d = anyReg(rng, dsz);
      const v = randomValue(rng, ssz);
      if (k < 24) {
        const s = anyReg(rng, ssz);
        B.setReg(ssz, s, v);
        emit(B.done('movx', [`${op} ${regName(dsz, d)}, ${regName(ssz, s)}`]));
      } else {
        B.setReg(dsz, d, randomValue(rng, dsz));
        const m = B.mem(ssz);
        B.patchValue(m.off, v, ssz / 8);
        emit(B.done('movx', [`${op} ${regName(dsz, d)}, ${m.text}`]));
      }
    }
  }
  for (const [op, size] of [['cbw', 8], ['cwde', 16], ['cwd', 16], ['cdq', 32]] as [string, Size][]) {
    for (let k = 0; k < 30; k++) {
      const B = new Builder(rng);
      B.setReg(size, EAX, randomValue(rng, size));
      emit(B.done('movx', [op]));
    }
  }
}

function leaCase(rng: Rng): CaseSpec {
  const B = new Builder(rng);
  for (let r = 0; r < 8; r++) if (r !== ESP) B.regs[r] = rng.bool(0.7) ? rng.u32() : randomValue(rng, 32);
  const size: Size = rng.bool(0.25) ? 16 : 32;
  const d = anyReg(rng, size);
  const base = rng.bool(0.15) ? -1 : rng.int(8);
  const index = rng.bool(0.3) ? -1 : rng.pick([0, 1, 2, 3, 5, 6, 7]);
  const scale = rng.pick([1, 2, 4, 8]);
  const dk = rng.int(3);
  let disp = dk === 0 ? 0 : dk === 1 ? rng.range(-128, 127) : rng.u32() | 0;
  if (base === -1 && index === -1) {
    // No base, no index: SIB form of [disp32] (the ModRM r/m=101 form is RIP-relative in 64-bit mode).
    const dv = rng.u32();
    const bytes = [...sizePrefix(size), 0x8d, (d << 3) | 4, 0x25, ...le(dv, 4)];
    return B.done('lea', [bytesLine(bytes)], { text: `lea ${regName(size, d)}, [${hex(dv)}]  (SIB no base/index)` });
  }
  const parts: string[] = [];
  if (base >= 0) parts.push(R32[base]);
  if (index >= 0) parts.push(`${R32[index]}*${scale}`);
  if (base < 0 && disp === 0) disp = rng.u32() | 0;
  let t = parts.join('+');
  if (disp !== 0) t += disp < 0 ? `-${hex(-disp)}` : `+${hex(disp)}`;
  return B.done('lea', [`lea ${regName(size, d)}, [${t}]`]);
}

export function genLea(rng: Rng, emit: Emit): void {
  for (let k = 0; k < 600; k++) emit(leaCase(rng));
}

// ---------------------------------------------------------------------------------------------
// SETcc CMOVcc Jcc LOOP
// ---------------------------------------------------------------------------------------------

function anyFlags(rng: Rng): number {
  return (rng.u32() & 0x8d5) | 0x2;
}

export function genCond(rng: Rng, emit: Emit): void {
  for (const cc of CONDS) {
    for (let k = 0; k < 24; k++) {
      const B = new Builder(rng);
      B.flags = anyFlags(rng);
      if (k < 16) emit(B.done('setcc', [`set${cc} ${regName(8, anyReg(rng, 8))}`]));
      else emit(B.done('setcc', [`set${cc} ${B.mem(8).text}`]));
    }
    for (const size of [16, 32] as const) {
      for (let k = 0; k < 18; k++) {
        const B = new Builder(rng);
        B.flags = anyFlags(rng);
        const d = anyReg(rng, size);
        B.setReg(size, d, randomValue(rng, size));
        if (k < 12) {
          const s = anyReg(rng, size, [d]);
          B.setReg(size, s, randomValue(rng, size));
          emit(B.done('cmov', [`cmov${cc} ${regName(size, d)}, ${regName(size, s)}`]));
        } else {
          const m = B.mem(size);
          emit(B.done('cmov', [`cmov${cc} ${regName(size, d)}, ${m.text}`]));
        }
      }
    }
    for (let v = 0; v < 4; v++) {
      for (let k = 0; k < 8; k++) {
        const B = new Builder(rng);
        B.flags = anyFlags(rng);
        const near = v & 1 ? '{disp32} ' : '';
        const asm = v < 2
          ? [`${near}j${cc} 1f`, 'mov edi, 0x11111111', 'jmp 2f', '1:', 'mov edi, 0x22222222', '2:']
          : ['jmp 2f', '1:', 'mov edi, 0x22222222', 'jmp 3f', '2:', `${near}j${cc} 1b`, 'mov edi, 0x11111111', '3:'];
        emit(B.done('jcc', asm, { text: `j${cc} ${v < 2 ? 'forward' : 'backward'}${near ? ' (rel32)' : ' (rel8)'}` }));
      }
    }
  }
  // LOOP / LOOPE / LOOPNE / JECXZ, forward (any ECX) and as real loops.
  for (const op of ['loop', 'loope', 'loopne', 'jecxz']) {
    for (let k = 0; k < 40; k++) {
      const B = new Builder(rng);
      B.flags = anyFlags(rng);
      B.setReg(32, ECX, k < 24 ? k % 4 === 3 ? 0xffffffff : k % 4 : rng.bool() ? rng.u32() : rng.int(0x10000) << 16);
      emit(B.done('loop', [`${op} 1f`, 'mov edi, 0x11111111', 'jmp 2f', '1:', 'mov edi, 0x22222222', '2:'], { text: `${op} forward` }));
    }
  }
  for (let k = 0; k < 40; k++) {
    const B = new Builder(rng);
    B.setReg(32, ECX, 1 + rng.int(40));
    emit(B.done('loop', ['1:', 'lea esi, [esi+3]', 'loop 1b'], { text: 'loop backward (lea esi,[esi+3])' }));
  }
  for (const op of ['loope', 'loopne']) {
    for (let k = 0; k < 40; k++) {
      const B = new Builder(rng);
      const n = 1 + rng.int(40);
      B.setReg(32, ECX, n);
      B.setReg(32, ESI, 0);
      const off = 0x400 + rng.int(0x100);
      B.setReg(32, EBX, AREA + off);
      const al = rng.int(256);
      B.setReg(8, 0, al);
      const bytes: number[] = [];
      const stop = rng.int(n + 4);
      for (let i = 0; i < n + 2; i++) {
        const match = op === 'loope' ? i < stop : i >= stop;
        bytes.push(match ? al : (al + 1 + rng.int(255)) & 0xff);
      }
      B.patch(off + 1, bytes);
      emit(B.done('loop', ['1:', 'add esi, 1', 'cmp byte ptr [ebx+esi], al', `${op} 1b`], { text: `${op} backward over a byte scan` }));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 16-bit stack operations, flag instructions
// ---------------------------------------------------------------------------------------------

export function genStack(rng: Rng, emit: Emit): void {
  const G = 'stack16';
  for (let r = 0; r < 8; r++) {
    for (let k = 0; k < 6; k++) {
      const B = new Builder(rng);
      if (r !== ESP) B.setReg(16, r, randomValue(rng, 16));
      emit(B.done(G, [`push ${R16[r]}`]));
      const P = new Builder(rng);
      emit(P.done(G, [`pop ${R16[r]}`]));
    }
  }
  for (let k = 0; k < 20; k++) {
    const B = new Builder(rng);
    emit(B.done(G, [`pushw ${hex(k < 10 ? simm8(rng, 16) : randomValue(rng, 16))}`]));
  }
  for (let k = 0; k < 20; k++) {
    const B = new Builder(rng);
    emit(B.done(G, [`push ${B.mem(16).text}`]));
    const P = new Builder(rng);
    emit(P.done(G, [`pop ${P.mem(16).text}`]));
  }
  // POP with an ESP-relative destination: the address uses ESP after the pop.
  for (let k = 0; k < 10; k++) {
    const B = new Builder(rng);
    emit(B.done(G, [`pop word ptr [esp+${hex(rng.int(16))}]`]));
  }
  for (let k = 0; k < 30; k++) {
    const B = new Builder(rng);
    B.flags = anyFlags(rng) | (rng.bool(0.3) ? F.DF : 0);
    // The pushed IF bit is 1 natively (user mode) but 0 in the replay: masked.
    const ifByte = B.regs[ESP] - 2 - AREA + 1;
    emit(B.done(G, ['pushfw'], { memMask: [[ifByte, ~(F.IF >> 8) & 0xff]] }));
  }
  for (let k = 0; k < 40; k++) {
    const B = new Builder(rng);
    // Any bits but TF (would trap) and IF (stays 1 natively; must stay 0 in the replay, where
    // POPF at CPL 0 would load it). IOPL is loaded only in the replay and is not compared.
    const v = rng.u32() & 0xffff & ~(F.TF | F.IF);
    B.patchValue(B.regs[ESP] - AREA, v, 2);
    emit(B.done(G, ['popfw'], { text: `popfw  (popping ${hex(v)})` }));
  }
  for (let k = 0; k < 20; k++) {
    const B = new Builder(rng);
    B.setReg(32, EBP, B.regs[ESP] + 2 * rng.int(40));
    emit(B.done(G, ['leavew']));
  }
  for (let k = 0; k < 20; k++) {
    const B = new Builder(rng);
    const v = rng.u32() & 0xffff & ~(F.TF | F.IF);
    // AX and the stack slot below ESP hold the pushed IF and IOPL, which differ between user
    // mode and CPL 0.
    const hiByte = B.regs[ESP] - 2 - AREA + 1;
    emit(B.done(G, [`pushw ${hex(v)}`, 'popfw', 'pushfw', 'pop ax'], {
      text: `pushw ${hex(v)}; popfw; pushfw; pop ax`,
      regMask: [0xffffcdff, ...Array(7).fill(0xffffffff)],
      memMask: [[hiByte, 0xcd]],
    }));
  }
  for (const op of ['lahf', 'sahf', 'clc', 'stc', 'cmc', 'cld', 'std']) {
    for (let k = 0; k < 20; k++) {
      const B = new Builder(rng);
      B.flags = randomStatusFlags(rng) | (rng.bool() ? F.DF : 0);
      emit(B.done('flags', [op]));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// String instructions
// ---------------------------------------------------------------------------------------------

type StrOp = 'movs' | 'stos' | 'lods' | 'cmps' | 'scas';
const SUFFIX: Record<number, string> = { 8: 'b', 16: 'w', 32: 'd' };

function stringCase(rng: Rng, op: StrOp, size: Size, prefix: string, df: boolean, overlap = false): CaseSpec {
  const B = new Builder(rng);
  B.flags = randomStatusFlags(rng) | (df ? F.DF : 0);
  const n = size / 8;
  const cnt = prefix ? (rng.bool(0.1) ? rng.pick([0, 1]) : rng.int(41)) : 1;
  if (prefix) B.setReg(32, ECX, cnt);
  const iters = Math.max(cnt, 1);
  const span = iters * n;
  const start = (): number => (df ? MEM_LO + span - n + rng.int(MEM_HI - MEM_LO - span) : MEM_LO + rng.int(MEM_HI - MEM_LO - span));
  const usesSi = op === 'movs' || op === 'lods' || op === 'cmps';
  const usesDi = op !== 'lods';
  let si = start();
  let di = start();
  if (op === 'movs' && overlap) {
    const delta = rng.range(-8, 8);
    di = Math.min(Math.max(si + delta, df ? MEM_LO + span : MEM_LO), df ? MEM_HI - n : MEM_HI - span);
  }
  if (op === 'cmps') {
    // Separate buffers so the patches below do not overlap.
    while (Math.abs(si - di) < span + n) di = start();
  }
  if (usesSi) B.setReg(32, ESI, AREA + si);
  if (usesDi) B.setReg(32, EDI, AREA + di);
  const acc = randomValue(rng, size);
  if (op === 'stos' || op === 'scas') B.setReg(size, EAX, acc);
  const elem = (base: number, i: number): number => (df ? base - i * n : base + i * n);
  const m = mask(size);
  const other = (v: number): number => (v + 1 + rng.int(m)) & m;
  if (op === 'cmps') {
    const k = rng.int(iters + 2);
    for (let i = 0; i < iters; i++) {
      const a = randomValue(rng, size);
      const same = prefix === 'repne' ? i === k : prefix === 'repe' ? i !== k : rng.bool();
      B.patchValue(elem(si, i), a, n);
      B.patchValue(elem(di, i), same ? a : other(a), n);
    }
  } else if (op === 'scas') {
    const k = rng.int(iters + 2);
    for (let i = 0; i < iters; i++) {
      const same = prefix === 'repne' ? i === k : prefix === 'repe' ? i !== k : rng.bool();
      B.patchValue(elem(di, i), same ? acc : other(acc), n);
    }
  }
  const ins = `${prefix ? prefix + ' ' : ''}${op}${SUFFIX[size]}`;
  return B.done('string', [ins], { text: `${ins}  (DF=${df ? 1 : 0}${prefix ? `, ECX=${cnt}` : ''}${overlap ? ', overlapping' : ''})` });
}

export function genString(rng: Rng, emit: Emit): void {
  const ops: [StrOp, string[]][] = [
    ['movs', ['', 'rep']],
    ['stos', ['', 'rep']],
    ['lods', ['', 'rep']],
    ['cmps', ['', 'repe', 'repne']],
    ['scas', ['', 'repe', 'repne']],
  ];
  for (const [op, prefixes] of ops) {
    for (const size of SIZES) {
      for (const prefix of prefixes) {
        for (const df of [false, true]) {
          for (let k = 0; k < (prefix ? 24 : 8); k++) emit(stringCase(rng, op, size, prefix, df));
          if (op === 'movs') for (let k = 0; k < 10; k++) emit(stringCase(rng, op, size, prefix, df, true));
        }
      }
    }
  }
  // REPNE (F2) before MOVS/STOS behaves as REP.
  for (let k = 0; k < 12; k++) {
    const c = stringCase(rng, k & 1 ? 'movs' : 'stos', rng.pick(SIZES), 'rep', rng.bool());
    c.asm = ['.byte 0xf2', c.asm[0].replace(/^rep /, '')];
    c.text = 'repne(f2) ' + c.text.replace(/^rep /, '');
    emit(c);
  }
}

// ---------------------------------------------------------------------------------------------
// Segment override prefixes (flat segments: no effect on the address)
// ---------------------------------------------------------------------------------------------

export function genPrefixes(rng: Rng, emit: Emit): void {
  for (let k = 0; k < 240; k++) {
    const B = new Builder(rng);
    const size = rng.pick(SIZES);
    const op = rng.pick(ALU_OPS);
    const r = anyReg(rng, size);
    B.setReg(size, r, randomValue(rng, size));
    const m = B.mem(size);
    B.patchValue(m.off, randomValue(rng, size), size / 8);
    const toReg = rng.bool();
    // CS is a code segment: readable, not writable.
    const seg = toReg ? rng.pick(['cs', 'ds', 'es', 'ss']) : rng.pick(['ds', 'es', 'ss']);
    const line = toReg ? `${op} ${regName(size, r)}, ${m.text}` : `${op} ${m.text}, ${regName(size, r)}`;
    // An explicit prefix byte: GNU as drops an override that names the default segment.
    const pfx = { es: 0x26, cs: 0x2e, ss: 0x36, ds: 0x3e }[seg]!;
    emit(B.done('prefix', [`.byte ${hex(pfx)}`, line], { undefFlags: F.undefinedFlagsOf(op), text: `${seg}: ${line}` }));
  }
}

// ---------------------------------------------------------------------------------------------
// Alias cases
// ---------------------------------------------------------------------------------------------

/**
 * Encodings that cannot run in 64-bit mode, replayed with the result of the equivalent
 * encoding the host ran: INC/DEC r16/r32 (40+r / 48+r are REX prefixes there; the host runs
 * FF /0, FF /1) and [disp32] through ModRM r/m=101 (RIP-relative there; the host runs the SIB
 * form of [disp32]).
 */
export function genAlias(rng: Rng, emit: Emit): void {
  for (const op of ['inc', 'dec'] as const) {
    for (const size of [16, 32] as const) {
      for (let r = 0; r < 8; r++) {
        for (let k = 0; k < 5; k++) {
          const c = unaryCase(rng, op, size, false, k < 2 ? rng.pick(EDGE_VALUES[size]) : randomValue(rng, size), r);
          const reg = regName(size, r);
          c.group = 'alias';
          c.alias = [`${op} ${reg}`];
          c.text = `${op} ${reg}  (${(size === 16 ? '66 ' : '') + (0x40 + (op === 'dec' ? 8 : 0) + r).toString(16)}; host ran ff /${op === 'dec' ? 1 : 0})`;
          emit(c);
        }
      }
    }
  }
  for (const op of ALU_OPS) {
    for (const size of SIZES) {
      for (let k = 0; k < 6; k++) {
        const c = aluCase(rng, op, size, 'abs');
        const t = c.text.replace(/ {2}\(SIB no base\/index\)$/, '');
        c.group = 'alias';
        c.alias = [t];
        c.text = `${t}  (modrm r/m=101; host ran the SIB form)`;
        emit(c);
      }
    }
  }
  for (let k = 0; k < 24; k++) {
    let c = leaCase(rng);
    while (!c.text.includes('SIB')) c = leaCase(rng);
    const t = c.text.replace(/ {2}\(SIB no base\/index\)$/, '');
    c.group = 'alias';
    c.alias = [t];
    c.text = `${t}  (modrm r/m=101; host ran the SIB form)`;
    emit(c);
  }
}

export { EBX, EBP, EDI, R32 };
