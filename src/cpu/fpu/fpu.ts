/**
 * The x87 floating-point unit of an i686 (Pentium Pro class, no MMX/SSE): instructions D8..DF.
 *
 * Representation. The eight physical registers hold IEEE doubles (Float64Array, with a Uint32Array
 * view for exact bit work on signs and NaNs). Next to each register an optional "shadow" keeps the
 * exact 80-bit value when a double cannot hold it: results beyond the double range (which the
 * hardware's 15-bit exponent holds), FLD m80/FRSTOR of values with more than 53 significant bits
 * or odd encodings (pseudo-denormals, unnormals, NaN payload bits), FILD m64/FBLD of integers above
 * 2^53, and the FLDPI-style constants. The double is then the nearest double (±Infinity, a
 * denormal or ±0 out of range). Register moves, FCHS/FABS, FXAM, the tag word and all stores
 * (FST/FSTP m32/m64/m80, FIST(P), FBSTP, FNSAVE) use the shadow, so such values round-trip bit for
 * bit and overflow or underflow when stored exactly as on the hardware; FADD/FSUB/FMUL/FDIV,
 * FSQRT, FSCALE, FRNDINT, FXTRACT and the comparisons work on them with the 80-bit exponent range.
 *
 * Where results differ from hardware:
 * - Arithmetic rounds to 53-bit significands. With precision control at 53 bits the results of
 *   FADD/FSUB/FMUL/FDIV/FSQRT, FPREM/FPREM1, FSCALE, FRNDINT, FXTRACT and all loads and stores are
 *   bit-exact with hardware, including rounding control, the exception flags and C1 (rounded
 *   up). Operands with 64 significant bits (FLD m80, FILD m64, FBLD, the constants) take part in
 *   arithmetic rounded to 53 bits (so PE may be missed), FST m32 rounds them twice (to 53, then 24
 *   bits), and a pseudo-denormal or 80-bit denormal takes part as zero. FPREM/FPREM1 and the
 *   transcendental instructions use the double of an operand beyond the double range.
 * - Precision control 64 bits (the Linux default) computes like 53 bits: results differ from the
 *   hardware's 64-bit ones in the low bits, and so, rarely, does a double stored from them (the
 *   hardware rounds twice). Precision control 24 bits rounds the 53-bit result to 24 bits
 *   (rounding control honoured; exact except for double-rounding ties).
 * - Overflow/underflow of a register result beyond even the 80-bit range (FSCALE, FYL2X) with the
 *   exception unmasked: hardware delivers a bias-adjusted exponent; here the masked result.
 * - FSIN/FCOS/FSINCOS/FPTAN reduce their argument like the hardware, modulo pi/2 of the unit's
 *   66-bit pi (trig-reduce.ts), so they reproduce its known inaccuracy near multiples of pi and for
 *   large arguments. They, FPATAN, F2XM1, FYL2X and FYL2XP1 then use the host's double functions:
 *   results are within 1 ulp of a double of the hardware's 64-bit results. C1 after them is 0
 *   (hardware reports whether its 64-bit result was rounded up).
 * - FNSTENV/FLDENV/FNSAVE/FRSTOR use the protected-mode layouts only (no real-mode/V86 layout).
 */
import type { SavedState } from '../../machine/state';
import type { FpuHost } from './fpu-host';
import { REDUCED, reduceHalfPi } from './trig-reduce';
import {
  DBL,
  EXT,
  compareExtMagnitude,
  doubleToExt,
  exponentOf,
  extTag,
  extToDoubleBits,
  extUnsupported,
  ldexpRN,
  nextDown,
  nextUp,
  productError,
  scaleExact,
  sgn,
} from './float-bits';

// Status word bits.
const IE = 0x01;
const DE = 0x02;
const ZE = 0x04;
const OE = 0x08;
const UE = 0x10;
const PE = 0x20;
const SF = 0x40;
const ES = 0x80;
const C0 = 0x100;
const C1 = 0x200;
const C2 = 0x400;
const C3 = 0x4000;
const BUSY = 0x8000;
const CC = C0 | C1 | C2 | C3;

const EMPTY = 3;
const INDEF_HI = 0xfff80000;
const TWO32 = 4294967296;
const TWO52 = 4503599627370496;
const TWO63 = 9223372036854775808;
const MAX_FLOAT = 3.4028234663852886e38;
const MIN_NORMAL = 2.2250738585072014e-308;
const MIN_NORMAL_FLOAT = 1.1754943508222875e-38;
const LN2_LO = 2.3190468138462996e-17; // ln 2 - Math.LN2

// Opcode properties, indexed by (escape << 8) | modrm.
const OP_UD = 1; // invalid encoding: #UD
const OP_NOWAIT = 2; // does not check for pending exceptions
const OP_CONTROL = 4; // does not update FIP/FCS/FOP/FDP/FDS
const OPINFO = buildOpInfo();

function buildOpInfo(): Uint8Array {
  const t = new Uint8Array(2048);
  for (let esc = 0; esc < 8; esc++) {
    for (let m = 0; m < 256; m++) {
      const mod = m >> 6;
      const reg = (m >> 3) & 7;
      let f = 0;
      if (mod !== 3) {
        if (esc === 1 && reg === 1) f = OP_UD;
        if (esc === 1 && reg >= 4) f = OP_CONTROL | (reg >= 6 ? OP_NOWAIT : 0);
        if (esc === 3 && (reg === 1 || reg === 4 || reg === 6)) f = OP_UD;
        if (esc === 5 && (reg === 1 || reg === 5)) f = OP_UD;
        if (esc === 5 && (reg === 4 || reg === 6 || reg === 7)) f = OP_CONTROL | (reg >= 6 ? OP_NOWAIT : 0);
        if (esc === 7 && reg === 1) f = OP_UD;
      } else {
        if (esc === 1 && reg === 2 && m !== 0xd0) f = OP_UD;
        if (esc === 1 && (m === 0xe2 || m === 0xe3 || m === 0xe6 || m === 0xe7 || m === 0xef)) f = OP_UD;
        if (esc === 2 && (reg === 4 || reg === 6 || reg === 7 || (reg === 5 && m !== 0xe9))) f = OP_UD;
        if (esc === 3 && (reg === 7 || (reg === 4 && m > 0xe4))) f = OP_UD;
        if (esc === 3 && m >= 0xe0 && m <= 0xe4) f = OP_CONTROL | OP_NOWAIT;
        if (esc === 5 && reg >= 6) f = OP_UD;
        if (esc === 6 && reg === 3 && m !== 0xd9) f = OP_UD;
        if (esc === 7 && (reg === 7 || (reg === 4 && m !== 0xe0))) f = OP_UD;
        if (esc === 7 && m === 0xe0) f = OP_CONTROL | OP_NOWAIT;
      }
      t[(esc << 8) | m] = f;
    }
  }
  return t;
}

// FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2: 64-bit significand (hi, lo) and exponent for each rounding
// control (nearest, down, up, zero), from the exact constants.
const CONSTANTS = [
  [0xd49a784b, 0xcd1b8afe, 0xd49a784b, 0xcd1b8afe, 0xd49a784b, 0xcd1b8aff, 0xd49a784b, 0xcd1b8afe, 0x4000],
  [0xb8aa3b29, 0x5c17f0bc, 0xb8aa3b29, 0x5c17f0bb, 0xb8aa3b29, 0x5c17f0bc, 0xb8aa3b29, 0x5c17f0bb, 0x3fff],
  [0xc90fdaa2, 0x2168c235, 0xc90fdaa2, 0x2168c234, 0xc90fdaa2, 0x2168c235, 0xc90fdaa2, 0x2168c234, 0x4000],
  [0x9a209a84, 0xfbcff799, 0x9a209a84, 0xfbcff798, 0x9a209a84, 0xfbcff799, 0x9a209a84, 0xfbcff798, 0x3ffd],
  [0xb17217f7, 0xd1cf79ac, 0xb17217f7, 0xd1cf79ab, 0xb17217f7, 0xd1cf79ac, 0xb17217f7, 0xd1cf79ab, 0x3ffe],
];

// Condition codes for a comparison result: 0 greater, 1 less, 2 equal, 3 unordered.
const CC_OF_RELATION = [0, C0, C3, C3 | C2 | C0];

export class Fpu {
  /**
   * Instruction and operand pointers of the instruction about to execute: the CPU sets them before
   * each execute() (FDP/FDS only matter for memory forms). Non-control instructions record them for
   * FNSTENV/FNSAVE; control instructions (FNINIT, FNCLEX, FLDCW, FNSTCW, FNSTSW, FNSTENV, FLDENV,
   * FNSAVE, FRSTOR) and register forms (for FDP/FDS) leave the recorded values alone.
   */
  // The address fields start as -0 so that V8 stores them as doubles from the start: a linear
  // address beyond the small-integer range would otherwise change the field's representation the
  // first time one is stored, which deoptimizes every optimized function using an Fpu.
  fip = -0;
  fcs = 0;
  fdp = -0;
  fds = 0;
  /**
   * Opcode of the instruction about to execute (11 bits: low 3 bits of the escape byte, then ModRM).
   * The FPU derives it from execute()'s arguments itself, so the CPU need not set it.
   */
  fop = 0;

  private readonly host: FpuHost;
  private readonly regs = new Float64Array(8);
  private readonly rb = new Uint32Array(this.regs.buffer); // [lo, hi] of each register
  private readonly tags = new Uint8Array(8); // 0 in use, 3 empty
  private readonly hasExt = new Uint8Array(8);
  private readonly ext = new Uint32Array(24); // [mantLo, mantHi, signExp] per register
  private top = 0;
  private swb = 0; // status word without TOP
  private cwb = 0x037f;
  // The pointers as recorded by the last non-control instruction (what FNSTENV/FNSAVE store).
  private cIp = -0;
  private cCs = 0;
  private cDp = -0;
  private cDs = 0;
  private cOp = 0;

  // Operands of the current instruction: [A, B], with bits [Alo, Ahi, Blo, Bhi].
  private readonly od = new Float64Array(2);
  // Scratch doubles passed between methods (x, y, result) so calls need not box them.
  private readonly fx = new Float64Array(4);
  private readonly fxb = new Uint32Array(this.fx.buffer);
  private readonly ob = new Uint32Array(this.od.buffer);
  private memDE = false;
  // Physical registers of operands A and B (-1: memory or constant), to find their 80-bit shadows.
  private pa = -1;
  private pb = -1;
  // Exponents of operands split for wide arithmetic (significands in fx[0], fx[1]).
  private readonly we = new Int32Array(2);
  private readonly cmpExt = new Uint32Array(6);
  private unsupportedB = false; // operand B is an unsupported register encoding (compares)
  // Scratch for conversions.
  private readonly f32 = new Float32Array(1);
  private readonly f32b = new Uint32Array(this.f32.buffer);
  private readonly buf = new Uint32Array(32); // FLDENV/FRSTOR/FBLD reads
  private iHi = 0;
  private iLo = 0;
  private iNeg = false;
  private iInexact = false;
  private iUp = false;
  private nanHi = 0;
  private nanLo = 0;
  private es = 0;

  constructor(host: FpuHost) {
    this.host = host;
    this.reset();
  }

  // ---------------------------------------------------------------------------------------------
  // Public API

  /** Power-on state: FNINIT state, and all registers +0. */
  reset(): void {
    this.regs.fill(0);
    this.hasExt.fill(0);
    this.ext.fill(0);
    this.fninit();
  }

  get cw(): number {
    return this.cwb;
  }

  /** Status word including TOP. */
  get sw(): number {
    return (this.swb & ~0x3800) | (this.top << 11);
  }

  /** Full tag word (00 valid, 01 zero, 10 special, 11 empty per physical register). */
  get tw(): number {
    let tw = 0;
    for (let p = 0; p < 8; p++) tw |= this.fullTag(p) << (2 * p);
    return tw;
  }

  /** ST(i) as a double (also when empty: the stale contents). */
  st(i: number): number {
    return this.regs[(this.top + i) & 7];
  }

  /** Whether ST(i) is empty. */
  isEmpty(i: number): boolean {
    return this.tags[(this.top + i) & 7] === EMPTY;
  }

  /** FWAIT: report a pending unmasked exception. */
  wait(): void {
    if (this.swb & ES) this.host.reportFpuError();
  }

  execute(escape: number, modrm: number, linear: number, o32: boolean): void {
    const info = OPINFO[(escape << 8) | modrm];
    if (info & OP_UD) this.host.raiseException(6);
    if (this.swb & ES && !(info & OP_NOWAIT)) this.host.reportFpuError();
    const reg = (modrm >> 3) & 7;
    if (modrm >= 0xc0) {
      if (!(info & OP_CONTROL)) this.commit(escape, modrm, false);
      this.register(escape, reg, modrm, modrm & 7);
    } else {
      this.memory(escape, reg, modrm, linear, o32);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Fast paths for compiled blocks
  //
  // The block compiler calls these for the common x87 instructions instead of execute(). Each
  // handles the usual case — every exception masked, operands in use and held exactly by doubles,
  // results normal, and for arithmetic rounding to nearest with precision control double or
  // extended — exactly as the general path would, and returns false (or -1) without changing
  // anything otherwise; the block then runs the instruction through execute(). `ip`/`cs` are the
  // instruction's address (FIP/FCS), `opcode` its 11-bit FOP.

  /** Whether the control and status words let the fast paths skip the exception rules. */
  private fastWords(): boolean {
    const cw = this.cwb;
    return (cw & 0xc3f) === 0x3f && (cw & 0x300) !== 0 && (this.swb & ES) === 0;
  }

  private fastCommit(ip: number, cs: number, opcode: number): void {
    this.fip = this.cIp = ip;
    this.fcs = this.cCs = cs;
    this.fop = this.cOp = opcode;
  }

  /**
   * x op y (0 add, 1 mul, 4 sub, 6 div) as arith() computes it, the result in fx[2]: returns the
   * side of the exact result (-1, 0, 1; see finish()), or 2 when the general path must decide (a
   * NaN, an infinity, a zero divisor, a result outside the normal range).
   */
  private fastOp(op: number, x: number, y: number): number {
    let r: number;
    let es = 0;
    if (op === 0 || op === 4) {
      const yy = op === 0 ? y : -y;
      r = x + yy;
      if (r - r !== 0) return 2;
      const bb = r - x;
      const err = x - (r - bb) + (yy - bb);
      es = err > 0 ? 1 : err < 0 ? -1 : 0;
      if (r > -MIN_NORMAL && r < MIN_NORMAL && (r !== 0 || es !== 0)) return 2;
      this.fx[2] = r;
      return es;
    }
    const fx = this.fx;
    if (op === 1) {
      r = x * y;
      if (r - r !== 0) return 2;
      fx[2] = r;
      if (r === 0 && (x === 0 || y === 0)) return 0;
      if (r >= -MIN_NORMAL && r <= MIN_NORMAL) return 2;
      fx[0] = x;
      fx[1] = y;
      return this.mulError();
    }
    if (y === 0) return 2;
    r = x / y;
    if (r - r !== 0) return 2;
    fx[2] = r;
    if (x === 0 || y - y !== 0) return 0;
    if (r >= -MIN_NORMAL && r <= MIN_NORMAL) return 2;
    fx[0] = x;
    fx[1] = y;
    return this.divError();
  }

  /** Stores fx[2] (on side `es` of the exact result) into register d with PE and C1, as finish(). */
  private fastStore(d: number, es: number): void {
    const r = this.fx[2];
    let sw = this.swb & ~C1;
    if (es !== 0) {
      sw |= PE;
      if ((r > 0 && es < 0) || (r < 0 && es > 0)) sw |= C1;
    }
    this.swb = sw;
    this.regs[d] = r;
    this.tags[d] = 0;
    this.hasExt[d] = 0;
  }

  /**
   * D8/DC/DE register forms of FADD, FMUL, FSUB(R), FDIV(R) (`escape` 0, 4 or 6; `reg` the ModRM
   * reg field; DE pops).
   */
  fastArith(escape: number, reg: number, i: number, ip: number, cs: number, opcode: number): boolean {
    if (!this.fastWords()) return false;
    const top = this.top;
    const sti = (top + i) & 7;
    let op = reg;
    let a = top;
    let b = sti;
    if (escape !== 0) {
      op = reg >= 4 ? reg ^ 1 : reg;
      a = sti;
      b = top;
    }
    const t = this.tags;
    const h = this.hasExt;
    if ((t[a] | t[b] | h[a] | h[b]) !== 0) return false;
    const es = op === 5 || op === 7 ? this.fastOp(op - 1, this.regs[b], this.regs[a]) : this.fastOp(op, this.regs[a], this.regs[b]);
    if (es === 2) return false;
    this.fastCommit(ip, cs, opcode);
    this.fastStore(a, es);
    if (escape === 6) {
      t[top] = EMPTY;
      this.top = (top + 1) & 7;
    }
    return true;
  }

  /**
   * D8/DC memory forms of FADD, FMUL, FSUB(R), FDIV(R) (`reg` 0, 1, 4–7; not FCOM): ST(0) =
   * ST(0) op the operand read from `linear`, the double `hi:lo` or (`single`) the float `lo`.
   */
  fastArithMem(single: boolean, reg: number, lo: number, hi: number, linear: number, ds: number, ip: number, cs: number, opcode: number): boolean {
    if (!this.fastWords()) return false;
    const top = this.top;
    if ((this.tags[top] | this.hasExt[top]) !== 0) return false;
    let y: number;
    if (single) {
      const e = lo & 0x7f800000;
      if (e === 0x7f800000 || (e === 0 && (lo & 0x7fffff) !== 0)) return false;
      this.f32b[0] = lo;
      y = this.f32[0];
    } else {
      const e = hi & 0x7ff00000;
      if (e === 0x7ff00000 || (e === 0 && ((hi & 0xfffff) | lo) !== 0)) return false;
      this.fxb[6] = lo;
      this.fxb[7] = hi;
      y = this.fx[3];
    }
    const x = this.regs[top];
    const es = reg === 5 || reg === 7 ? this.fastOp(reg - 1, y, x) : this.fastOp(reg, x, y);
    if (es === 2) return false;
    this.fastCommit(ip, cs, opcode);
    this.fdp = this.cDp = linear;
    this.fds = this.cDs = ds;
    this.fastStore(top, es);
    return true;
  }

  /** FLD1 (i = 0) and FLDZ (i = 6). */
  fastFldConst(i: number, ip: number, cs: number, opcode: number): boolean {
    const p = (this.top - 1) & 7;
    if (this.swb & ES || this.tags[p] !== EMPTY) return false;
    this.fastCommit(ip, cs, opcode);
    this.swb &= ~C1;
    this.top = p;
    this.setValue(p, i === 0 ? 1 : 0);
    return true;
  }

  /** FILD m32int of the value `v`. */
  fastFild32(v: number, linear: number, ds: number, ip: number, cs: number, opcode: number): boolean {
    const p = (this.top - 1) & 7;
    if (this.swb & ES || this.tags[p] !== EMPTY) return false;
    this.fastCommit(ip, cs, opcode);
    this.fdp = this.cDp = linear;
    this.fds = this.cDs = ds;
    this.swb &= ~C1;
    this.top = p;
    this.setValue(p, v | 0);
    return true;
  }

  /** FST/FSTP m64fp to `linear` (within one page). */
  fastFstF64(pop: boolean, linear: number, ds: number, ip: number, cs: number, opcode: number): boolean {
    const p = this.top;
    if ((this.cwb & 0x3f) !== 0x3f || this.swb & ES || (this.tags[p] | this.hasExt[p]) !== 0 || (linear & 0xfff) > 0xff8) return false;
    const hi = this.rb[2 * p + 1];
    const lo = this.rb[2 * p];
    if (isNaNBits(hi, lo)) return false;
    // the first write faults or makes the page known writable: nothing has changed before it
    this.host.write32(linear, lo);
    this.host.write32(linear + 4, hi);
    this.fastCommit(ip, cs, opcode);
    this.fdp = this.cDp = linear;
    this.fds = this.cDs = ds;
    this.swb &= ~C1;
    if (pop) this.pop();
    return true;
  }

  /** FRNDINT per the rounding control. */
  fastFrndint(ip: number, cs: number, opcode: number): boolean {
    const p = this.top;
    if ((this.cwb & 0x3f) !== 0x3f || this.swb & ES || (this.tags[p] | this.hasExt[p]) !== 0) return false;
    const x = this.regs[p];
    if (x !== x) return false;
    this.fastCommit(ip, cs, opcode);
    let sw = this.swb & ~C1;
    if (x - x === 0 && x !== 0 && x < TWO52 && x > -TWO52) {
      const r = roundToInteger(x, this.rc());
      if (r !== x) {
        sw |= PE;
        if (Math.abs(r) > Math.abs(x)) sw |= C1;
        this.regs[p] = r;
      }
    }
    this.swb = sw;
    return true;
  }

  /** FLDCW with the word `v` read from memory. */
  fastFldcw(v: number): boolean {
    if (this.swb & ES) return false;
    this.cwb = (v & 0x1f3f) | 0x40;
    this.updateES();
    return true;
  }

  /** FIST/FISTP m32int to `linear` (a finite value in range; any rounding control). */
  fastFist32(pop: boolean, linear: number, ds: number, ip: number, cs: number, opcode: number): boolean {
    const p = this.top;
    if ((this.cwb & 0x3f) !== 0x3f || this.swb & ES || (this.tags[p] | this.hasExt[p]) !== 0) return false;
    const v = this.regs[p];
    const r = roundToInteger(v, this.rc());
    if (!(r >= -2147483648 && r < 2147483648)) return false; // also NaN and infinities
    this.host.write32(linear, r | 0);
    this.fastCommit(ip, cs, opcode);
    this.fdp = this.cDp = linear;
    this.fds = this.cDs = ds;
    let sw = this.swb & ~C1;
    if (r !== v) {
      sw |= PE;
      if (Math.abs(r) > Math.abs(v)) sw |= C1;
    }
    this.swb = sw;
    if (pop) this.pop();
    return true;
  }

  /** FLD ST(i). */
  fastFldReg(i: number, ip: number, cs: number, opcode: number): boolean {
    const sti = (this.top + i) & 7;
    const p = (this.top - 1) & 7;
    if (this.swb & ES || this.tags[p] !== EMPTY || this.tags[sti] === EMPTY) return false;
    this.fastCommit(ip, cs, opcode);
    this.swb &= ~C1;
    this.top = p;
    this.copyReg(p, sti);
    return true;
  }

  /** FST/FSTP ST(i). */
  fastFstReg(i: number, pop: boolean, ip: number, cs: number, opcode: number): boolean {
    if (this.swb & ES || this.tags[this.top] === EMPTY) return false;
    this.fastCommit(ip, cs, opcode);
    this.fstReg((this.top + i) & 7, pop);
    return true;
  }

  /** FXCH ST(i). */
  fastFxch(i: number, ip: number, cs: number, opcode: number): boolean {
    const pi = (this.top + i) & 7;
    if (this.swb & ES || this.tags[this.top] === EMPTY || this.tags[pi] === EMPTY) return false;
    this.fastCommit(ip, cs, opcode);
    this.fxch(pi);
    return true;
  }

  /** FLD m64fp of the value `hi:lo` read from `linear` (through data segment selector `ds`). */
  fastFldF64(lo: number, hi: number, linear: number, ds: number, ip: number, cs: number, opcode: number): boolean {
    const p = (this.top - 1) & 7;
    const e = hi & 0x7ff00000;
    if (this.swb & ES || this.tags[p] !== EMPTY || e === 0x7ff00000 || (e === 0 && ((hi & 0xfffff) | lo) !== 0)) return false;
    this.fastCommit(ip, cs, opcode);
    this.fdp = this.cDp = linear;
    this.fds = this.cDs = ds;
    this.swb &= ~C1;
    this.top = p;
    this.setBits(p, hi, lo); // rb is a Uint32Array: int32 halves store as they are
    return true;
  }

  /** FLD m32fp of the value `v`. */
  fastFldF32(v: number, linear: number, ds: number, ip: number, cs: number, opcode: number): boolean {
    const p = (this.top - 1) & 7;
    const e = v & 0x7f800000;
    if (this.swb & ES || this.tags[p] !== EMPTY || e === 0x7f800000 || (e === 0 && (v & 0x7fffff) !== 0)) return false;
    this.fastCommit(ip, cs, opcode);
    this.fdp = this.cDp = linear;
    this.fds = this.cDs = ds;
    this.swb &= ~C1;
    this.top = p;
    this.f32b[0] = v;
    this.setValue(p, this.f32[0]);
    return true;
  }

  /**
   * FCOMI/FUCOMI ST(i) (and the popping forms): returns the relation (0 greater, 1 less, 2 equal)
   * for the CPU to turn into ZF/PF/CF, or -1 (nothing changed) for the general path.
   */
  fastComi(i: number, pop: boolean, ip: number, cs: number, opcode: number): number {
    const top = this.top;
    const pi = (top + i) & 7;
    const t = this.tags;
    const h = this.hasExt;
    if (this.swb & ES || (t[top] | t[pi] | h[top] | h[pi]) !== 0) return -1;
    const a = this.regs[top];
    const b = this.regs[pi];
    if (a !== a || b !== b) return -1;
    this.fastCommit(ip, cs, opcode);
    this.swb &= ~C1;
    if (pop) this.pop();
    return a > b ? 0 : a < b ? 1 : 2;
  }

  saveState(): SavedState {
    return {
      version: 1,
      cw: this.cwb,
      sw: this.sw,
      tags: Array.from(this.tags),
      regs: Array.from(this.rb),
      hasExt: Array.from(this.hasExt),
      ext: Array.from(this.ext),
      fip: this.cIp,
      fcs: this.cCs,
      fdp: this.cDp,
      fds: this.cDs,
      fop: this.cOp,
    };
  }

  loadState(s: SavedState): void {
    if (s.version !== 1) throw new Error(`FPU state version ${String(s.version)} not supported`);
    const num = (k: string): number => {
      const v = s[k];
      if (typeof v !== 'number') throw new Error(`FPU state: ${k} missing`);
      return v;
    };
    const arr = (k: string, n: number): number[] => {
      const v = s[k];
      if (!Array.isArray(v) || v.length !== n) throw new Error(`FPU state: ${k} malformed`);
      return v as number[];
    };
    this.cwb = num('cw');
    const sw = num('sw');
    this.top = (sw >> 11) & 7;
    this.swb = sw & ~0x3800;
    this.tags.set(arr('tags', 8));
    this.rb.set(arr('regs', 16));
    this.hasExt.set(arr('hasExt', 8));
    this.ext.set(arr('ext', 24));
    this.fip = this.cIp = num('fip');
    this.fcs = this.cCs = num('fcs');
    this.fdp = this.cDp = num('fdp');
    this.fds = this.cDs = num('fds');
    this.fop = this.cOp = num('fop');
  }

  /** FIP/FCS/FDP/FDS/FOP as the last non-control x87 instruction recorded them (FNSTENV's view). */
  get lastPointers(): { fip: number; fcs: number; fdp: number; fds: number; fop: number } {
    return { fip: this.cIp, fcs: this.cCs, fdp: this.cDp, fds: this.cDs, fop: this.cOp };
  }

  private commit(escape: number, modrm: number, mem: boolean): void {
    this.cIp = this.fip;
    this.cCs = this.fcs;
    if (mem) {
      this.cDp = this.fdp;
      this.cDs = this.fds;
    }
    this.fop = this.cOp = (escape << 8) | modrm;
  }

  // ---------------------------------------------------------------------------------------------
  // Register-operand forms

  private register(escape: number, reg: number, modrm: number, i: number): void {
    const top = this.top;
    const sti = (top + i) & 7;
    switch (escape) {
      case 0: // D8: ST(0) = ST(0) op ST(i); FCOM/FCOMP ST(i)
        if (reg === 2 || reg === 3) this.compareRegs(top, sti, false, reg === 3 ? 1 : 0);
        else this.arithRegs(reg, top, top, sti, false);
        return;
      case 1:
        this.registerD9(reg, modrm, i, sti);
        return;
      case 2: // DA: FCMOVB/E/BE/U, FUCOMPP
        if (reg < 4) this.fcmov(sti, FCMOV_CC[reg]);
        else this.compareRegs(top, (top + 1) & 7, true, 2);
        return;
      case 3: // DB: FCMOVNB/NE/NBE/NU, FNCLEX, FNINIT, FUCOMI, FCOMI
        if (reg < 4) this.fcmov(sti, FCMOV_CC[reg] + 1);
        else if (reg === 4) {
          if (modrm === 0xe2) this.swb &= ~(0xff | BUSY);
          else if (modrm === 0xe3) this.fninit();
          // E0 FENI, E1 FDISI, E4 FSETPM: no-ops since the 387.
        } else this.comi(sti, reg === 5, false);
        return;
      case 4: // DC: ST(i) = ST(i) op ST(0); FCOM2/FCOMP3 aliases
        if (reg === 2 || reg === 3) this.compareRegs(top, sti, false, reg === 3 ? 1 : 0);
        else this.arithRegs(reg >= 4 ? reg ^ 1 : reg, sti, sti, top, false);
        return;
      case 5: // DD: FFREE, FXCH4, FST, FSTP, FUCOM, FUCOMP
        switch (reg) {
          case 0:
            this.tags[sti] = EMPTY;
            return;
          case 1:
            this.fxch(sti);
            return;
          case 2:
          case 3:
            this.fstReg(sti, reg === 3);
            return;
          default:
            this.compareRegs(top, sti, true, reg === 5 ? 1 : 0);
            return;
        }
      case 6: // DE: op-and-pop forms, FCOMP5 alias, FCOMPP
        if (reg === 2) this.compareRegs(top, sti, false, 1);
        else if (reg === 3) this.compareRegs(top, (top + 1) & 7, false, 2);
        else this.arithRegs(reg >= 4 ? reg ^ 1 : reg, sti, sti, top, true);
        return;
      default: // DF: FFREEP, FXCH7, FSTP8/9, FNSTSW AX, FUCOMIP, FCOMIP
        switch (reg) {
          case 0:
            this.tags[sti] = EMPTY;
            this.pop();
            return;
          case 1:
            this.fxch(sti);
            return;
          case 2:
          case 3:
            this.fstReg(sti, true);
            return;
          case 4:
            this.host.setAX(this.sw);
            return;
          default:
            this.comi(sti, reg === 5, true);
            return;
        }
    }
  }

  private registerD9(reg: number, modrm: number, i: number, sti: number): void {
    switch (reg) {
      case 0: // FLD ST(i)
        this.fldReg(sti);
        return;
      case 1:
        this.fxch(sti);
        return;
      case 2: // FNOP
        return;
      case 3: // FSTP1 alias
        this.fstReg(sti, true);
        return;
      case 4:
        if (modrm === 0xe0 || modrm === 0xe1) this.fchsFabs(modrm === 0xe0);
        else if (modrm === 0xe4) this.ftst();
        else this.fxam();
        return;
      case 5:
        this.fldConst(i);
        return;
      case 6:
        switch (i) {
          case 0:
            this.f2xm1();
            return;
          case 1:
            this.fyl2x(false);
            return;
          case 2:
            this.ftrig(2);
            return;
          case 3:
            this.fpatan();
            return;
          case 4:
            this.fxtract();
            return;
          case 5:
            this.fprem(true);
            return;
          case 6:
            this.top = (this.top - 1) & 7;
            this.swb &= ~C1;
            return;
          default:
            this.top = (this.top + 1) & 7;
            this.swb &= ~C1;
            return;
        }
      default:
        switch (i) {
          case 0:
            this.fprem(false);
            return;
          case 1:
            this.fyl2x(true);
            return;
          case 2:
            this.fsqrt();
            return;
          case 3:
            this.ftrig(3);
            return;
          case 4:
            this.frndint();
            return;
          case 5:
            this.fscale();
            return;
          case 6:
            this.ftrig(0);
            return;
          default:
            this.ftrig(1);
            return;
        }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Memory-operand forms

  private memory(escape: number, reg: number, modrm: number, linear: number, o32: boolean): void {
    const h = this.host;
    switch (escape) {
      case 0: // D8: m32fp arithmetic
        this.loadF32(linear);
        this.commit(escape, modrm, true);
        this.arithMem(reg);
        return;
      case 2: // DA: m32int arithmetic
        this.od[1] = h.read32(linear) | 0;
        this.memDE = false;
        this.commit(escape, modrm, true);
        this.arithMem(reg);
        return;
      case 4: // DC: m64fp arithmetic
        this.loadF64(linear);
        this.commit(escape, modrm, true);
        this.arithMem(reg);
        return;
      case 6: // DE: m16int arithmetic
        this.od[1] = (h.read16(linear) << 16) >> 16;
        this.memDE = false;
        this.commit(escape, modrm, true);
        this.arithMem(reg);
        return;
      case 1:
        switch (reg) {
          case 0: // FLD m32fp
            this.loadF32(linear);
            this.commit(escape, modrm, true);
            this.fldMem();
            return;
          case 2:
          case 3: // FST(P) m32fp
            h.checkWrite(linear, 4);
            this.commit(escape, modrm, true);
            this.fstF32(linear, reg === 3);
            return;
          case 4:
            this.fldenv(linear, o32);
            return;
          case 5: // FLDCW
            this.cwb = (h.read16(linear) & 0x1f3f) | 0x40;
            this.updateES();
            return;
          case 6:
            h.checkWrite(linear, o32 ? 28 : 14);
            this.storeEnv(linear, o32);
            this.cwb |= 0x3f;
            this.updateES();
            return;
          default: // FNSTCW
            h.write16(linear, this.cwb);
            return;
        }
      case 3:
        switch (reg) {
          case 0: // FILD m32int
            this.od[1] = h.read32(linear) | 0;
            this.commit(escape, modrm, true);
            this.fildValue();
            return;
          case 2:
          case 3: // FIST(P) m32int
            h.checkWrite(linear, 4);
            this.commit(escape, modrm, true);
            this.fist(linear, 4, reg === 3);
            return;
          case 5: {
            // FLD m80
            const lo = h.read32(linear) >>> 0;
            const hi = h.read32(linear + 4) >>> 0;
            const se = h.read16(linear + 8) & 0xffff;
            this.commit(escape, modrm, true);
            this.fldExt(lo, hi, se);
            return;
          }
          default: // FSTP m80
            h.checkWrite(linear, 10);
            this.commit(escape, modrm, true);
            this.fstExt(linear);
            return;
        }
      case 5:
        switch (reg) {
          case 0: // FLD m64fp
            this.loadF64(linear);
            this.commit(escape, modrm, true);
            this.fldMem();
            return;
          case 2:
          case 3: // FST(P) m64fp
            h.checkWrite(linear, 8);
            this.commit(escape, modrm, true);
            this.fstF64(linear, reg === 3);
            return;
          case 4:
            this.frstor(linear, o32);
            return;
          case 6:
            h.checkWrite(linear, o32 ? 108 : 94);
            this.fnsave(linear, o32);
            return;
          default: // FNSTSW m16
            h.write16(linear, this.sw);
            return;
        }
      default: // DF
        switch (reg) {
          case 0: // FILD m16int
            this.od[1] = (h.read16(linear) << 16) >> 16;
            this.commit(escape, modrm, true);
            this.fildValue();
            return;
          case 2:
          case 3: // FIST(P) m16int
            h.checkWrite(linear, 2);
            this.commit(escape, modrm, true);
            this.fist(linear, 2, reg === 3);
            return;
          case 4: {
            // FBLD
            const b = this.buf;
            for (let k = 0; k < 10; k++) b[k] = h.read8(linear + k) & 0xff;
            this.commit(escape, modrm, true);
            this.fbld();
            return;
          }
          case 5: {
            // FILD m64int
            const lo = h.read32(linear) >>> 0;
            const hi = h.read32(linear + 4) >>> 0;
            this.commit(escape, modrm, true);
            this.fildInt64(lo, hi);
            return;
          }
          case 6:
            h.checkWrite(linear, 10);
            this.commit(escape, modrm, true);
            this.fbstp(linear);
            return;
          default:
            h.checkWrite(linear, 8);
            this.commit(escape, modrm, true);
            this.fist(linear, 8, true);
            return;
        }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Stack and register helpers

  private pop(): void {
    this.tags[this.top] = EMPTY;
    this.top = (this.top + 1) & 7;
  }

  private setValue(p: number, v: number): void {
    this.regs[p] = v;
    this.tags[p] = 0;
    this.hasExt[p] = 0;
  }

  private setBits(p: number, hi: number, lo: number): void {
    this.rb[2 * p] = lo;
    this.rb[2 * p + 1] = hi;
    this.tags[p] = 0;
    this.hasExt[p] = 0;
  }

  private setIndefinite(p: number): void {
    this.setBits(p, INDEF_HI, 0);
  }

  private copyReg(d: number, s: number): void {
    this.rb[2 * d] = this.rb[2 * s];
    this.rb[2 * d + 1] = this.rb[2 * s + 1];
    this.tags[d] = this.tags[s];
    this.hasExt[d] = this.hasExt[s];
    this.ext[3 * d] = this.ext[3 * s];
    this.ext[3 * d + 1] = this.ext[3 * s + 1];
    this.ext[3 * d + 2] = this.ext[3 * s + 2];
  }

  /** Whether register p holds an encoding the 387+ rejects (unnormal, pseudo-NaN/infinity). */
  private unsupported(p: number): boolean {
    return this.hasExt[p] === 1 && extUnsupported(this.ext[3 * p + 1], this.ext[3 * p + 2]);
  }

  /** Sets an exception flag; returns true when it is unmasked (the instruction must then stop). */
  private raise(flags: number): boolean {
    this.swb |= flags;
    if (flags & ~this.cwb & 0x3f) {
      this.swb |= ES | BUSY;
      return true;
    }
    return false;
  }

  private updateES(): void {
    if (this.swb & ~this.cwb & 0x3f) this.swb |= ES | BUSY;
    else this.swb &= ~(ES | BUSY);
  }

  /** Stack underflow: IE+SF, C1=0; masked: the default NaN into register d. Returns false if unmasked. */
  private underflow(d: number): boolean {
    this.swb &= ~C1;
    if (this.raise(IE | SF)) return false;
    if (d >= 0) this.setIndefinite(d);
    return true;
  }

  /**
   * Checks the register a push would use. On overflow: IE+SF, C1=1, and (masked) the default NaN is
   * pushed. Returns true when the push overflowed (the caller must not push its value).
   */
  private pushOverflow(): boolean {
    const p = (this.top - 1) & 7;
    if (this.tags[p] === EMPTY) {
      this.swb &= ~C1;
      return false;
    }
    this.swb |= C1;
    if (!this.raise(IE | SF)) {
      this.top = p;
      this.setIndefinite(p);
    }
    return true;
  }

  private fninit(): void {
    this.cwb = 0x037f;
    this.swb = 0;
    this.top = 0;
    this.tags.fill(EMPTY);
    this.fip = this.cIp = 0;
    this.fcs = this.cCs = 0;
    this.fdp = this.cDp = 0;
    this.fds = this.cDs = 0;
    this.fop = this.cOp = 0;
  }

  private fullTag(p: number): number {
    if (this.tags[p] === EMPTY) return 3;
    if (this.hasExt[p]) return extTag(this.ext[3 * p], this.ext[3 * p + 1], this.ext[3 * p + 2]);
    const hi = this.rb[2 * p + 1];
    const e = hi & 0x7ff00000;
    if (e === 0x7ff00000) return 2;
    if (e === 0 && ((hi & 0xfffff) | this.rb[2 * p]) === 0) return 1;
    return 0;
  }

  /** The 80-bit encoding of physical register p into EXT. */
  private regToExt(p: number): void {
    if (this.hasExt[p]) {
      EXT[0] = this.ext[3 * p];
      EXT[1] = this.ext[3 * p + 1];
      EXT[2] = this.ext[3 * p + 2];
    } else doubleToExt(this.rb[2 * p + 1], this.rb[2 * p]);
  }

  /** Loads an 80-bit value into physical register p (keeping the exact encoding when needed). */
  private setExt(p: number, lo: number, hi: number, se: number): void {
    extToDoubleBits(lo, hi, se);
    this.setBits(p, DBL[1], DBL[0]);
    doubleToExt(DBL[1], DBL[0]);
    if (EXT[0] !== lo || EXT[1] !== hi || EXT[2] !== se) {
      this.hasExt[p] = 1;
      this.ext[3 * p] = lo;
      this.ext[3 * p + 1] = hi;
      this.ext[3 * p + 2] = se;
    }
  }

  /** Loads a 64-bit integer magnitude (hi, lo) with sign into physical register p. */
  private setInt64(p: number, neg: boolean, hi: number, lo: number): void {
    if (hi < 0x200000 || (hi === 0x200000 && lo === 0)) {
      const m = hi * TWO32 + lo;
      this.setValue(p, neg ? -m : m);
      return;
    }
    const s = Math.clz32(hi);
    const mh = s ? ((hi << s) | (lo >>> (32 - s))) >>> 0 : hi;
    const ml = (lo << s) >>> 0;
    this.setExt(p, ml, mh, (neg ? 0x8000 : 0) | (16383 + 63 - s));
  }

  // ---------------------------------------------------------------------------------------------
  // Memory operand conversion (operand B)

  private loadF32(linear: number): void {
    const v = this.host.read32(linear) >>> 0;
    const e = v & 0x7f800000;
    if (e === 0x7f800000 && v & 0x7fffff) {
      this.ob[3] = ((v & 0x80000000) | 0x7ff00000 | ((v & 0x7fffff) >>> 3)) >>> 0;
      this.ob[2] = (v << 29) >>> 0;
      this.memDE = false;
      return;
    }
    this.f32b[0] = v;
    this.od[1] = this.f32[0];
    this.memDE = e === 0 && (v & 0x7fffff) !== 0;
  }

  private loadF64(linear: number): void {
    const lo = this.host.read32(linear) >>> 0;
    const hi = this.host.read32(linear + 4) >>> 0;
    this.ob[2] = lo;
    this.ob[3] = hi;
    this.memDE = (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) | lo) !== 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Arithmetic

  private arithMem(reg: number): void {
    const d = this.top;
    this.pa = d;
    this.pb = -1;
    if (reg === 2 || reg === 3) {
      this.compareWith(d, false, reg === 3 ? 1 : 0);
      return;
    }
    if (this.tags[d] === EMPTY) {
      this.underflow(d);
      return;
    }
    if (this.unsupported(d)) {
      this.swb &= ~C1;
      this.invalid(d);
      return;
    }
    this.ob[0] = this.rb[2 * d];
    this.ob[1] = this.rb[2 * d + 1];
    this.arith(reg, d);
  }

  /** dest = a op b with a, b physical registers (op as in D8: 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr). */
  private arithRegs(op: number, dest: number, a: number, b: number, pop: boolean): void {
    const t = this.tags;
    if (t[a] === EMPTY || t[b] === EMPTY) {
      if (this.underflow(dest) && pop) this.pop();
      return;
    }
    if (this.unsupported(a) || this.unsupported(b)) {
      this.swb &= ~C1;
      if (this.invalid(dest) && pop) this.pop();
      return;
    }
    const rb = this.rb;
    const ob = this.ob;
    ob[0] = rb[2 * a];
    ob[1] = rb[2 * a + 1];
    ob[2] = rb[2 * b];
    ob[3] = rb[2 * b + 1];
    this.memDE = false;
    this.pa = a;
    this.pb = b;
    if (this.arith(op, dest) && pop) this.pop();
  }

  /** od[0] op od[1] into physical register d. Returns false when stopped by an unmasked exception. */
  private arith(op: number, d: number): boolean {
    const pa = this.pa;
    const pb = this.pb;
    if ((pa >= 0 && this.hasExt[pa]) || (pb >= 0 && this.hasExt[pb])) {
      // an operand the double cannot hold (beyond its range, or 64 significant bits): 80-bit range
      const sa = this.splitOperand(0, pa);
      const sb = this.splitOperand(1, pb);
      if (sa && sb) {
        if (this.memDE && this.raise(DE)) return false;
        this.swb &= ~C1;
        if (op === 5 || op === 7) {
          this.swapSplit();
          op--;
        }
        return this.wideArith(op, d);
      }
      if (sa !== sb && op !== 1 && op < 6 && this.od[sa ? 1 : 0] === 0) {
        // x ± 0 = x, 0 - x = -x: the 80-bit operand itself
        const src = sa ? pa : pb;
        if (src !== d) this.copyReg(d, src);
        if ((op === 4 && sb) || (op === 5 && sa)) {
          this.rb[2 * d + 1] ^= 0x80000000;
          this.ext[3 * d + 2] ^= 0x8000;
        }
        this.swb &= ~C1;
        return true;
      }
      // The other operand is a zero (for * and /), an infinity or a NaN: then only the sign and
      // finiteness of this one matter, which its significand alone carries.
      if (sa) this.od[0] = this.fx[0];
      if (sb) this.od[1] = this.fx[1];
    }
    let x = this.od[0];
    let y = this.od[1];
    if (op === 5 || op === 7) {
      const t = x;
      x = y;
      y = t;
      op--;
    }
    let r: number;
    if (op === 0) r = x + y;
    else if (op === 1) r = x * y;
    else if (op === 4) r = x - y;
    else r = x / y;
    this.swb &= ~C1;
    if (r !== r) return this.nanResult(d);
    if (op === 6 && y === 0 && x - x === 0) {
      // finite nonzero x / ±0 (0/0 was NaN): zero-divide, which takes precedence over a denormal operand
      if (this.raise(ZE)) return false;
      this.setValue(d, r);
      return true;
    }
    if (this.memDE && this.raise(DE)) return false;
    let es = 0;
    if (r - r === 0) {
      // Finite result: find the direction of the rounding error (exact - r).
      if (op === 0 || op === 4) {
        const yy = op === 0 ? y : -y;
        const bb = r - x;
        const err = x - (r - bb) + (yy - bb);
        es = err > 0 ? 1 : err < 0 ? -1 : 0;
        if (r === 0 && this.rc() === 1 && (x !== 0 || yy !== 0 || 1 / x < 0 || 1 / yy < 0)) r = -0;
      } else if (op === 1) {
        if (r !== 0 || (x !== 0 && y !== 0)) {
          if (r >= -MIN_NORMAL && r <= MIN_NORMAL) return this.wideFromDoubles(op, d, x, y);
          this.fx[0] = x;
          this.fx[1] = y;
          this.fx[2] = r;
          es = this.mulError();
        }
      } else if (x !== 0 && y - y === 0) {
        if (r >= -MIN_NORMAL && r <= MIN_NORMAL) return this.wideFromDoubles(op, d, x, y);
        this.fx[0] = x;
        this.fx[1] = y;
        this.fx[2] = r;
        es = this.divError();
      }
    } else if (x - x === 0 && y - y === 0) return this.wideFromDoubles(op, d, x, y);
    this.fx[2] = r;
    return this.finish(d, es);
  }

  /**
   * Splits operand `slot` (0: A, 1: B) into a signed significand in [1, 2) (fx[slot]) and an
   * exponent (we[slot]), from register p's 80-bit shadow if it has one (significand rounded to 53
   * bits), else from od[slot]. Returns false for zeros, infinities and NaNs (exact as doubles).
   */
  private splitOperand(slot: number, p: number): boolean {
    if (p >= 0 && this.hasExt[p]) {
      const lo = this.ext[3 * p];
      const hi = this.ext[3 * p + 1];
      const se = this.ext[3 * p + 2];
      const ef = se & 0x7fff;
      if (ef === 0x7fff || (hi | lo) === 0) return false;
      const md = hi * TWO32 + lo;
      const k = exponentOf(md);
      const m = scaleExact(md, -k);
      this.fx[slot] = se & 0x8000 ? -m : m;
      this.we[slot] = k + (ef === 0 ? 1 : ef) - 16383 - 63;
      return true;
    }
    const v = this.od[slot];
    if (v === 0 || v - v !== 0) return false;
    const k = exponentOf(v);
    this.fx[slot] = scaleExact(v, -k);
    this.we[slot] = k;
    return true;
  }

  private swapSplit(): void {
    const fx = this.fx;
    const we = this.we;
    const t = fx[0];
    fx[0] = fx[1];
    fx[1] = t;
    const e = we[0];
    we[0] = we[1];
    we[1] = e;
  }

  /** A result of finite nonzero doubles x, y that leaves the double range: computed wide. */
  private wideFromDoubles(op: number, d: number, x: number, y: number): boolean {
    this.od[0] = x;
    this.od[1] = y;
    this.splitOperand(0, -1);
    this.splitOperand(1, -1);
    return this.wideArith(op, d);
  }

  /**
   * A op B (0 add, 1 mul, 4 sub, 6 div) on split operands, with the 80-bit exponent range: the
   * hardware's registers hold results beyond the double range, so no overflow/underflow happens
   * here. The result is rounded to 53 bits (per PC and RC, setting PE and C1) and kept exactly in
   * the shadow, with the nearest double (±Infinity, a denormal or ±0) for further arithmetic;
   * storing it to memory then overflows or underflows as on the hardware.
   */
  private wideArith(op: number, d: number): boolean {
    const fx = this.fx;
    let ma = fx[0];
    let mb = fx[1];
    let ea = this.we[0];
    let eb = this.we[1];
    let rs: number;
    let es: number;
    let e: number;
    if (op === 1) {
      rs = ma * mb;
      es = sgn(productError(ma, mb, rs));
      e = ea + eb;
    } else if (op === 6) {
      rs = ma / mb;
      const ph = rs * mb;
      const rem = ma - ph - productError(rs, mb, ph);
      es = mb > 0 ? sgn(rem) : -sgn(rem);
      e = ea - eb;
    } else {
      if (op === 4) mb = -mb;
      if (ea < eb) {
        const t = ma;
        ma = mb;
        mb = t;
        const u = ea;
        ea = eb;
        eb = u;
      }
      e = ea;
      if (ea - eb > 110) {
        rs = ma; // the smaller operand only decides the rounding direction
        es = mb > 0 ? 1 : -1;
      } else {
        const ms = scaleExact(mb, eb - ea);
        rs = ma + ms;
        const bb = rs - ma;
        es = sgn(ma - (rs - bb) + (ms - bb));
        if (rs === 0) {
          this.setValue(d, this.rc() === 1 ? -0 : 0);
          return true;
        }
      }
    }
    return this.wideResult(d, rs, es, e);
  }

  /** Rounds rs * 2^e (exact value on side es of it; rs a normal double) per PC/RC into register d. */
  private wideResult(d: number, rs: number, es: number, e: number): boolean {
    const rc = this.rc();
    if ((this.cwb & 0x300) === 0) {
      rs = this.roundToSingle(rs, es, rc);
      es = this.es;
    } else if (es !== 0 && rc !== 0 && (rc === 1 ? es < 0 : rc === 2 ? es > 0 : (rs > 0 && es < 0) || (rs < 0 && es > 0))) {
      rs = es < 0 ? nextDown(rs) : nextUp(rs);
      es = -es;
    }
    if (es !== 0) {
      if ((rs > 0 && es < 0) || (rs < 0 && es > 0)) this.swb |= C1;
      this.raise(PE);
    }
    this.fx[2] = rs;
    doubleToExt(this.fxb[5], this.fxb[4]);
    const ef = (EXT[2] & 0x7fff) + e;
    if (ef >= 0x7fff || ef <= 0) {
      // beyond even the 80-bit range (approximated: no 80-bit denormals)
      this.raise(ef > 0 ? OE | PE : UE | PE);
      this.setValue(d, ef > 0 ? (rs < 0 ? -Infinity : Infinity) : rs < 0 ? -0 : 0);
      return true;
    }
    this.setExt(d, EXT[0], EXT[1], (EXT[2] & 0x8000) | ef);
    return true;
  }

  private rc(): number {
    return (this.cwb >> 10) & 3;
  }

  /** Sign of (x*y - r) for r = fl(x*y), finite x, y. */
  private mulError(): number {
    const fx = this.fx;
    const x = fx[0];
    const y = fx[1];
    const ex = (this.fxb[1] >>> 20) & 0x7ff;
    const ey = (this.fxb[3] >>> 20) & 0x7ff;
    if (ex > 543 && ex < 1503 && ey > 543 && ey < 1503) {
      // |x|, |y| within 2^±480: Dekker's exact product error, written out (no calls, no boxing)
      let t = 134217729 * x;
      const xh = t - (t - x);
      const xl = x - xh;
      t = 134217729 * y;
      const yh = t - (t - y);
      const yl = y - yh;
      const e = xh * yh - fx[2] + xh * yl + xl * yh + xl * yl;
      return e > 0 ? 1 : e < 0 ? -1 : 0;
    }
    const a = exponentOf(x);
    const b = exponentOf(y);
    const xs = scaleExact(x, -a);
    const ys = scaleExact(y, -b);
    const p = xs * ys;
    const e = productError(xs, ys, p);
    const rs = scaleExact(fx[2], -(a + b));
    return sgn(p - rs + e);
  }

  /** Sign of (x/y - r) for r = fl(x/y), finite nonzero x, y (in fx). */
  private divError(): number {
    const fx = this.fx;
    const x = fx[0];
    const y = fx[1];
    const r = fx[2];
    const ex = (this.fxb[1] >>> 20) & 0x7ff;
    const ey = (this.fxb[3] >>> 20) & 0x7ff;
    let rem: number;
    if (ex > 543 && ex < 1503 && ey > 543 && ey < 1503) {
      const ph = r * y;
      let t = 134217729 * r;
      const rh = t - (t - r);
      const rl = r - rh;
      t = 134217729 * y;
      const yh = t - (t - y);
      const yl = y - yh;
      rem = x - ph - (rh * yh - ph + rh * yl + rl * yh + rl * yl);
    } else {
      const a = exponentOf(x);
      const b = exponentOf(y);
      const xs = scaleExact(x, -a);
      const ys = scaleExact(y, -b);
      const rs = scaleExact(r, b - a);
      const ph = rs * ys;
      rem = xs - ph - productError(rs, ys, ph);
    }
    if (y < 0) rem = -rem;
    return rem > 0 ? 1 : rem < 0 ? -1 : 0;
  }

  /**
   * Writes a finite result r (nearest rounding of the exact result, which lies on side `es` of r)
   * into register d after applying precision and rounding control; sets PE, C1 and UE.
   */
  private finish(d: number, es: number): boolean {
    let r = this.fx[2];
    if (r - r !== 0) {
      this.setValue(d, r); // exact infinity
      return true;
    }
    const rc = this.rc();
    if ((this.cwb & 0x300) === 0 && r !== 0) {
      r = this.roundToSingle(r, es, rc);
      es = this.es;
    } else if (es !== 0 && rc !== 0) {
      if (rc === 1 ? es < 0 : rc === 2 ? es > 0 : (r > 0 && es < 0) || (r < 0 && es > 0)) {
        r = es < 0 ? nextDown(r) : nextUp(r);
        es = -es;
      }
    }
    if (r - r !== 0) {
      // rounded up past the largest double: the register holds ±2^1024 (exact in the shadow)
      this.swb |= C1;
      this.raise(PE);
      this.setExt(d, 0, 0x80000000, (r < 0 ? 0x8000 : 0) | (16383 + 1024));
      return true;
    }
    const tiny = r > -MIN_NORMAL && r < MIN_NORMAL && (r !== 0 || es !== 0);
    let flags = 0;
    if (es !== 0) {
      flags = tiny ? PE | UE : PE;
      if ((r > 0 && es < 0) || (r < 0 && es > 0)) this.swb |= C1;
    } else if (tiny && !(this.cwb & UE)) flags = UE; // unmasked underflow is signalled even when exact
    if (flags) this.raise(flags);
    this.regs[d] = r;
    this.tags[d] = 0;
    this.hasExt[d] = 0;
    return true;
  }

  /** Rounds r to a 24-bit significand (precision control single), with the exact value on side es. */
  private roundToSingle(r: number, es: number, rc: number): number {
    const e = exponentOf(r);
    if (e - 23 < -1074) {
      this.es = es;
      return r;
    }
    const ulp = scaleExact(1, e - 23);
    const q = r / ulp;
    const fl = Math.floor(q);
    const frac = q - fl;
    if (frac === 0) {
      this.es = es;
      if (es === 0 || rc === 0) return r;
      const down = rc === 1 ? es < 0 : rc === 2 ? false : r > 0 && es < 0;
      const up = rc === 2 ? es > 0 : rc === 3 ? r < 0 && es > 0 : false;
      if (!down && !up) return r;
      this.es = -es;
      const pow = fl === 8388608 || fl === -8388608;
      if (down) return r - (pow && r > 0 ? ulp / 2 : ulp);
      return r + (pow && r < 0 ? ulp / 2 : ulp);
    }
    let hi: boolean;
    if (rc === 0) hi = frac > 0.5 || (frac === 0.5 && (es > 0 || (es === 0 && fl % 2 !== 0)));
    else if (rc === 1) hi = false;
    else if (rc === 2) hi = true;
    else hi = r < 0;
    this.es = hi ? -1 : 1;
    return (hi ? fl + 1 : fl) * ulp;
  }

  /** Overflow of a finite computation: OE+PE, result per rounding control. */
  private overflow(d: number): boolean {
    const r = this.fx[2];
    const rc = this.rc();
    let v = r;
    if (rc === 3 || (rc === 1 && r > 0) || (rc === 2 && r < 0)) v = r > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
    if (v === r) this.swb |= C1;
    this.raise(OE | PE);
    this.setValue(d, v);
    return true;
  }

  /** Result when r is NaN: propagate a NaN operand or signal invalid (default NaN). */
  private nanResult(d: number): boolean {
    const ob = this.ob;
    const aNaN = isNaNBits(ob[1], ob[0]);
    const bNaN = isNaNBits(ob[3], ob[2]);
    if (aNaN || bNaN) {
      if (this.pickNaN(aNaN, bNaN) && this.raise(IE)) return false;
      this.setBits(d, this.nanHi, this.nanLo);
      return true;
    }
    if (this.raise(IE)) return false;
    this.setIndefinite(d);
    return true;
  }

  /**
   * The NaN result from operands A/B (od bits) of which at least one is a NaN: the quiet one if one
   * is signaling and the other quiet, else the larger significand (positive on a tie); quieted.
   * Returns true if a signaling NaN was involved (invalid operation).
   */
  private pickNaN(aNaN: boolean, bNaN: boolean): boolean {
    const ob = this.ob;
    const aSig = aNaN && (ob[1] & 0x80000) === 0;
    const bSig = bNaN && (ob[3] & 0x80000) === 0;
    let useA: boolean;
    if (aNaN && bNaN) {
      if (aSig !== bSig) useA = bSig;
      else {
        const ah = ob[1] & 0xfffff;
        const bh = ob[3] & 0xfffff;
        if (ah !== bh) useA = ah > bh;
        else if (ob[0] !== ob[2]) useA = ob[0] > ob[2];
        else useA = (ob[1] & 0x80000000) === 0;
      }
    } else useA = aNaN;
    this.nanHi = ((useA ? ob[1] : ob[3]) | 0x80000) >>> 0;
    this.nanLo = useA ? ob[0] : ob[2];
    return aSig || bSig;
  }

  // ---------------------------------------------------------------------------------------------
  // Comparisons

  /** Compares od[0] with od[1]: 0 greater, 1 less, 2 equal, 3 unordered; -1 when stopped. */
  private relation(quiet: boolean): number {
    const a = this.od[0];
    const b = this.od[1];
    if (a !== a || b !== b) {
      const ob = this.ob;
      const sig = !quiet || (isNaNBits(ob[1], ob[0]) && !(ob[1] & 0x80000)) || (isNaNBits(ob[3], ob[2]) && !(ob[3] & 0x80000));
      if (sig && this.raise(IE)) return -1;
      return 3;
    }
    if (this.memDE && this.raise(DE)) return -1;
    const pa = this.pa;
    const pb = this.pb;
    if ((pa >= 0 && this.hasExt[pa]) || (pb >= 0 && this.hasExt[pb])) return this.relationExt();
    return a > b ? 0 : a < b ? 1 : 2;
  }

  /** Compares A and B (not NaN) by their exact 80-bit values. */
  private relationExt(): number {
    const x = this.cmpExt;
    for (let slot = 0; slot < 2; slot++) {
      const p = slot === 0 ? this.pa : this.pb;
      if (p >= 0 && this.hasExt[p]) {
        x[3 * slot] = this.ext[3 * p];
        x[3 * slot + 1] = this.ext[3 * p + 1];
        x[3 * slot + 2] = this.ext[3 * p + 2];
      } else {
        doubleToExt(this.ob[2 * slot + 1], this.ob[2 * slot]);
        x[3 * slot] = EXT[0];
        x[3 * slot + 1] = EXT[1];
        x[3 * slot + 2] = EXT[2];
      }
    }
    const za = (x[2] & 0x7fff) === 0 && (x[0] | x[1]) === 0;
    const zb = (x[5] & 0x7fff) === 0 && (x[3] | x[4]) === 0;
    const sa = za ? 0 : x[2] & 0x8000 ? -1 : 1;
    const sb = zb ? 0 : x[5] & 0x8000 ? -1 : 1;
    if (sa !== sb) return sa > sb ? 0 : 1;
    if (sa === 0) return 2;
    const c = sa * compareExtMagnitude(x[0], x[1], x[2], x[3], x[4], x[5]);
    return c > 0 ? 0 : c < 0 ? 1 : 2;
  }

  /** FCOM family with ST(0) against operand B already in od[1]. */
  private compareWith(p0: number, quiet: boolean, pops: number): void {
    this.swb &= ~CC;
    let rel: number;
    if (this.tags[p0] === EMPTY) {
      if (this.raise(IE | SF)) return;
      rel = 3;
    } else if (this.unsupported(p0) || this.unsupportedB) {
      if (this.raise(IE)) return;
      rel = 3;
    } else {
      this.ob[0] = this.rb[2 * p0];
      this.ob[1] = this.rb[2 * p0 + 1];
      rel = this.relation(quiet);
      if (rel < 0) return;
    }
    this.swb |= CC_OF_RELATION[rel];
    if (pops) this.pop();
    if (pops > 1) this.pop();
  }

  private compareRegs(p0: number, pi: number, quiet: boolean, pops: number): void {
    if (this.tags[pi] === EMPTY) {
      this.swb &= ~CC;
      if (this.raise(IE | SF)) return;
      this.swb |= C3 | C2 | C0;
      if (pops) this.pop();
      if (pops > 1) this.pop();
      return;
    }
    this.ob[2] = this.rb[2 * pi];
    this.ob[3] = this.rb[2 * pi + 1];
    this.memDE = false;
    this.pa = p0;
    this.pb = pi;
    this.unsupportedB = this.unsupported(pi);
    this.compareWith(p0, quiet, pops);
    this.unsupportedB = false;
  }

  /** FCOMI/FUCOMI(P). */
  private comi(pi: number, quiet: boolean, pop: boolean): void {
    const p0 = this.top;
    this.swb &= ~C1;
    let rel: number;
    if (this.tags[p0] === EMPTY || this.tags[pi] === EMPTY) {
      if (this.raise(IE | SF)) return;
      rel = 3;
    } else if (this.unsupported(p0) || this.unsupported(pi)) {
      if (this.raise(IE)) return;
      rel = 3;
    } else {
      const rb = this.rb;
      const ob = this.ob;
      ob[0] = rb[2 * p0];
      ob[1] = rb[2 * p0 + 1];
      ob[2] = rb[2 * pi];
      ob[3] = rb[2 * pi + 1];
      this.memDE = false;
      this.pa = p0;
      this.pb = pi;
      rel = this.relation(quiet);
      if (rel < 0) return;
    }
    this.host.setCompareFlags(rel >= 2, rel === 3, rel === 1 || rel === 3);
    if (pop) this.pop();
  }

  private ftst(): void {
    this.od[1] = 0;
    this.memDE = false;
    this.pa = this.top;
    this.pb = -1;
    this.compareWith(this.top, false, 0);
  }

  private fxam(): void {
    const p = this.top;
    let cc: number;
    let neg: boolean;
    if (this.hasExt[p]) {
      const lo = this.ext[3 * p];
      const hi = this.ext[3 * p + 1];
      const se = this.ext[3 * p + 2];
      const e = se & 0x7fff;
      neg = (se & 0x8000) !== 0;
      if (this.tags[p] === EMPTY) cc = C3 | C0;
      else if (e !== 0 && !(hi & 0x80000000)) cc = 0;
      else if (e === 0x7fff) cc = (hi & 0x7fffffff) === 0 && lo === 0 ? C2 | C0 : C0;
      else if (e === 0) cc = (hi | lo) === 0 ? C3 : C3 | C2;
      else cc = C2;
    } else {
      const hi = this.rb[2 * p + 1];
      const lo = this.rb[2 * p];
      neg = (hi & 0x80000000) !== 0;
      const e = hi & 0x7ff00000;
      if (this.tags[p] === EMPTY) cc = C3 | C0;
      else if (e === 0x7ff00000) cc = ((hi & 0xfffff) | lo) === 0 ? C2 | C0 : C0;
      else if (e === 0 && ((hi & 0xfffff) | lo) === 0) cc = C3;
      else cc = C2;
    }
    this.swb = (this.swb & ~CC) | cc | (neg ? C1 : 0);
  }

  private fcmov(pi: number, cc: number): void {
    const p0 = this.top;
    this.swb &= ~C1;
    if (this.tags[p0] === EMPTY || this.tags[pi] === EMPTY) {
      this.underflow(p0);
      return;
    }
    if (this.host.testCondition(cc)) this.copyReg(p0, pi);
  }

  // ---------------------------------------------------------------------------------------------
  // Loads and stores

  /** FLD m32fp/m64fp: operand in od[1]. */
  private fldMem(): void {
    if (this.pushOverflow()) return;
    const ob = this.ob;
    let hi = ob[3];
    if (isNaNBits(hi, ob[2]) && !(hi & 0x80000)) {
      if (this.raise(IE)) return;
      hi = (hi | 0x80000) >>> 0;
    } else if (this.memDE) this.raise(DE); // the load completes even when DE is unmasked
    const p = (this.top - 1) & 7;
    this.top = p;
    this.setBits(p, hi, ob[2]);
  }

  private fldReg(sti: number): void {
    const empty = this.tags[sti] === EMPTY;
    if (this.pushOverflow()) return;
    const p = (this.top - 1) & 7;
    if (empty) {
      if (this.raise(IE | SF)) return;
      this.top = p;
      this.setIndefinite(p);
      return;
    }
    this.top = p;
    this.copyReg(p, sti);
  }

  private fldExt(lo: number, hi: number, se: number): void {
    if (this.pushOverflow()) return;
    const p = (this.top - 1) & 7;
    this.top = p;
    this.setExt(p, lo, hi, se);
  }

  private fldConst(i: number): void {
    if (this.pushOverflow()) return;
    const p = (this.top - 1) & 7;
    this.top = p;
    if (i === 0) this.setValue(p, 1);
    else if (i === 6) this.setValue(p, 0);
    else {
      const c = CONSTANTS[i - 1];
      const rc = this.rc();
      this.setExt(p, c[2 * rc + 1], c[2 * rc], c[8]);
    }
  }

  /** FILD m16/m32: the value in od[1]. */
  private fildValue(): void {
    if (this.pushOverflow()) return;
    const p = (this.top - 1) & 7;
    this.top = p;
    this.regs[p] = this.od[1];
    this.tags[p] = 0;
    this.hasExt[p] = 0;
  }

  private fildInt64(lo: number, hi: number): void {
    if (this.pushOverflow()) return;
    const neg = (hi & 0x80000000) !== 0;
    if (neg) {
      lo = (~lo + 1) >>> 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    }
    const p = (this.top - 1) & 7;
    this.top = p;
    this.setInt64(p, neg, hi, lo);
  }

  private fbld(): void {
    if (this.pushOverflow()) return;
    const b = this.buf;
    let hi = 0;
    let lo = 0;
    for (let k = 8; k >= 0; k--) {
      for (let s = 4; s >= 0; s -= 4) {
        const digit = (b[k] >> s) & 15;
        const t = lo * 10 + digit;
        const carry = Math.floor(t / TWO32);
        lo = t - carry * TWO32;
        hi = (hi * 10 + carry) % TWO32;
      }
    }
    const p = (this.top - 1) & 7;
    this.top = p;
    this.setInt64(p, (b[9] & 0x80) !== 0, hi, lo);
  }

  private fstReg(d: number, pop: boolean): void {
    const p0 = this.top;
    if (this.tags[p0] === EMPTY) {
      if (!this.underflow(d)) return;
    } else {
      this.swb &= ~C1;
      this.copyReg(d, p0);
    }
    if (pop) this.pop();
  }

  private fxch(pi: number): void {
    const p0 = this.top;
    this.swb &= ~C1;
    if (this.tags[p0] === EMPTY || this.tags[pi] === EMPTY) {
      if (this.raise(IE | SF)) return;
      if (this.tags[p0] === EMPTY) this.setIndefinite(p0);
      if (this.tags[pi] === EMPTY) this.setIndefinite(pi);
    }
    const rb = this.rb;
    const ex = this.ext;
    let t = rb[2 * p0];
    rb[2 * p0] = rb[2 * pi];
    rb[2 * pi] = t;
    t = rb[2 * p0 + 1];
    rb[2 * p0 + 1] = rb[2 * pi + 1];
    rb[2 * pi + 1] = t;
    t = this.hasExt[p0];
    this.hasExt[p0] = this.hasExt[pi];
    this.hasExt[pi] = t;
    for (let k = 0; k < 3; k++) {
      t = ex[3 * p0 + k];
      ex[3 * p0 + k] = ex[3 * pi + k];
      ex[3 * pi + k] = t;
    }
  }

  private fchsFabs(chs: boolean): void {
    const p = this.top;
    if (this.tags[p] === EMPTY) {
      this.underflow(p);
      return;
    }
    this.swb &= ~C1;
    if (chs) {
      this.rb[2 * p + 1] ^= 0x80000000;
      this.ext[3 * p + 2] ^= 0x8000;
    } else {
      this.rb[2 * p + 1] &= 0x7fffffff;
      this.ext[3 * p + 2] &= 0x7fff;
    }
  }

  /** FST(P) m32fp. */
  private fstF32(linear: number, pop: boolean): void {
    const p = this.top;
    let bits: number;
    this.swb &= ~C1;
    if (this.tags[p] === EMPTY) {
      if (this.raise(IE | SF)) return;
      bits = 0xffc00000;
    } else if (this.hasExt[p] && extUnsupported(this.ext[3 * p + 1], this.ext[3 * p + 2])) {
      if (this.raise(IE)) return;
      bits = 0xffc00000;
    } else if (isNaNBits(this.rb[2 * p + 1], this.rb[2 * p])) {
      let sign: number;
      let frac: number;
      let signaling: boolean;
      if (this.hasExt[p]) {
        const xhi = this.ext[3 * p + 1];
        sign = (this.ext[3 * p + 2] & 0x8000) << 16;
        frac = (xhi & 0x7fffffff) >>> 8;
        signaling = !(xhi & 0x40000000);
      } else {
        const hi = this.rb[2 * p + 1];
        sign = hi & 0x80000000;
        frac = ((hi & 0xfffff) << 3) | (this.rb[2 * p] >>> 29);
        signaling = !(hi & 0x80000);
      }
      if (signaling && this.raise(IE)) return;
      bits = (sign | 0x7fc00000 | frac) >>> 0;
    } else {
      let v = this.regs[p];
      if (this.hasExt[p]) {
        // beyond the double range: any stand-in beyond the float range rounds the same way
        const e = (this.ext[3 * p + 2] & 0x7fff) - 16383;
        if (e > 1023) v = v < 0 ? -Number.MAX_VALUE : Number.MAX_VALUE;
        else if (e < -1022) v = this.ext[3 * p + 2] & 0x8000 ? -1.1125369292536007e-308 : 1.1125369292536007e-308;
      }
      const av = Math.abs(v);
      let f = Math.fround(v);
      if (f !== v) {
        const rc = this.rc();
        if (rc === 1 ? f > v : rc === 2 ? f < v : rc === 3 ? Math.abs(f) > av : false) {
          // step one float toward the exact value
          this.f32[0] = f;
          if (f === 0) this.f32b[0] = v > 0 ? 1 : 0x80000001;
          else if (f > v === f > 0) this.f32b[0]--;
          else this.f32b[0]++;
          f = this.f32[0];
        }
        let flag = 0;
        if (av > MAX_FLOAT) {
          const away = rc === 0 || (rc === 2 && v > 0) || (rc === 1 && v < 0);
          if (rc === 0 ? f - f !== 0 : away || av >= 3.402823669209385e38) flag = OE;
        } else if (av < MIN_NORMAL_FLOAT && Math.abs(this.roundToSingle(v, 0, rc)) < MIN_NORMAL_FLOAT) flag = UE;
        if (flag & ~this.cwb) {
          this.raise(flag); // unmasked overflow/underflow: nothing is stored
          return;
        }
        if (Math.abs(f) > av) this.swb |= C1;
        this.raise(flag | PE);
      } else if (v !== 0 && av < MIN_NORMAL_FLOAT && !(this.cwb & UE)) {
        this.raise(UE);
        return;
      }
      this.f32[0] = f;
      bits = this.f32b[0];
    }
    this.host.write32(linear, bits);
    if (pop) this.pop();
  }

  /** FST(P) m64fp. */
  private fstF64(linear: number, pop: boolean): void {
    const p = this.top;
    let hi: number;
    let lo: number;
    this.swb &= ~C1;
    if (this.tags[p] === EMPTY) {
      if (this.raise(IE | SF)) return;
      hi = INDEF_HI;
      lo = 0;
    } else if (this.hasExt[p]) {
      const xlo = this.ext[3 * p];
      const xhi = this.ext[3 * p + 1];
      const xse = this.ext[3 * p + 2];
      if (extUnsupported(xhi, xse)) {
        if (this.raise(IE)) return;
        hi = INDEF_HI;
        lo = 0;
      } else if ((xse & 0x7fff) === 0x7fff) {
        hi = (((xse & 0x8000) << 16) | 0x7ff00000 | ((xhi & 0x7fffffff) >>> 11)) >>> 0;
        lo = ((xhi << 21) | (xlo >>> 11)) >>> 0;
        if ((xhi & 0x7fffffff) !== 0 || xlo !== 0) {
          if (!(xhi & 0x40000000) && this.raise(IE)) return;
          hi = (hi | 0x80000) >>> 0;
        }
      } else {
        if (!this.roundExtToDouble(p, xlo, xhi, xse)) return;
        hi = this.ob[1];
        lo = this.ob[0];
      }
    } else {
      hi = this.rb[2 * p + 1];
      lo = this.rb[2 * p];
      if (isNaNBits(hi, lo)) {
        if (!(hi & 0x80000)) {
          if (this.raise(IE)) return;
          hi = (hi | 0x80000) >>> 0;
        }
      } else if ((hi & 0x7ff00000) === 0 && ((hi & 0xfffff) | lo) !== 0 && !(this.cwb & UE)) {
        this.raise(UE); // an exact denormal result still signals an unmasked underflow
        return;
      }
    }
    this.host.write32(linear, lo);
    this.host.write32(linear + 4, hi);
    if (pop) this.pop();
  }

  /**
   * Rounds the finite 80-bit value of register p to a double per RC, setting PE/UE/OE and C1. The
   * result goes to od[0]. Returns false when an unmasked overflow/underflow means nothing is stored.
   */
  private roundExtToDouble(p: number, xlo: number, xhi: number, xse: number): boolean {
    const rc = this.rc();
    const neg = (xse & 0x8000) !== 0;
    const E = (xse & 0x7fff) - 16383;
    const away = (rc === 2 && !neg) || (rc === 1 && neg);
    let v = this.regs[p];
    let flag = 0;
    let es = 0;
    if (v - v !== 0) {
      // beyond the double range for rounding to nearest
      es = neg ? 1 : -1;
      if (rc === 0 || away || E > 1023) flag = OE;
      if (rc !== 0 && !away) {
        v = neg ? -Number.MAX_VALUE : Number.MAX_VALUE;
        es = -es;
      }
    } else {
      doubleToExt(this.rb[2 * p + 1], this.rb[2 * p]);
      es = (neg ? -1 : 1) * compareExtMagnitude(xlo, xhi, xse, EXT[0], EXT[1], EXT[2]);
      if (es !== 0 && rc !== 0 && (rc === 1 ? es < 0 : rc === 2 ? es > 0 : (v > 0 && es < 0) || (v < 0 && es > 0))) {
        v = es < 0 ? nextDown(v) : nextUp(v);
        es = -es;
        if (v - v !== 0) flag = OE;
      }
      // Tiny: below 2^-1022 after rounding to 53 bits with an unbounded exponent.
      const carries =
        xhi === 0xffffffff &&
        xlo >>> 11 === 0x1fffff &&
        (rc === 0 ? (xlo & 0x400) !== 0 : away ? (xlo & 0x7ff) !== 0 : false);
      const tiny = E < -1023 || (E === -1023 && !carries) || (xse & 0x7fff) === 0;
      if (tiny && (es !== 0 || !(this.cwb & UE))) flag = UE;
    }
    if (flag & ~this.cwb) {
      this.raise(flag);
      return false;
    }
    if (es !== 0) {
      if ((v > 0 && es < 0) || (v < 0 && es > 0) || v - v !== 0) this.swb |= C1;
      flag |= PE;
    }
    if (flag) this.raise(flag);
    this.od[0] = v;
    return true;
  }

  /** FSTP m80. */
  private fstExt(linear: number): void {
    const p = this.top;
    this.swb &= ~C1;
    if (this.tags[p] === EMPTY) {
      if (this.raise(IE | SF)) return;
      EXT[0] = 0;
      EXT[1] = 0xc0000000;
      EXT[2] = 0xffff;
    } else this.regToExt(p);
    this.host.write32(linear, EXT[0]);
    this.host.write32(linear + 4, EXT[1]);
    this.host.write16(linear + 8, EXT[2]);
    this.pop();
  }

  /**
   * Rounds physical register p to an integer per RC into iNeg/iHi/iLo (magnitude), iInexact, iUp.
   * Returns false for NaN, infinity, unsupported encodings and magnitudes of 2^64 or more.
   */
  private toInteger(p: number): boolean {
    const rc = this.rc();
    if (this.hasExt[p]) return this.extToInteger(this.ext[3 * p], this.ext[3 * p + 1], this.ext[3 * p + 2], rc);
    const v = this.regs[p];
    if (v - v !== 0) return false;
    const r = roundToInteger(v, rc);
    const m = Math.abs(r);
    if (m >= 18446744073709551616) return false;
    this.iNeg = r < 0 || (r === 0 && 1 / r < 0);
    this.iHi = Math.floor(m / TWO32);
    this.iLo = m - this.iHi * TWO32;
    this.iInexact = r !== v;
    this.iUp = m > Math.abs(v);
    return true;
  }

  private extToInteger(lo: number, hi: number, se: number, rc: number): boolean {
    const ex = se & 0x7fff;
    const neg = (se & 0x8000) !== 0;
    if (ex === 0x7fff || (ex !== 0 && !(hi & 0x80000000))) return false;
    const e = ex === 0 ? -16382 : ex - 16383;
    if (e >= 64) return false;
    let il = 0;
    let ih = 0;
    let half = false;
    let sticky = false;
    if (e >= 63) {
      il = lo;
      ih = hi;
    } else if (e >= 0) {
      const shift = 63 - e; // 1..63
      if (shift >= 32) {
        const s = shift - 32;
        il = s ? hi >>> s : hi;
        ih = 0;
      } else {
        il = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
        ih = hi >>> shift;
      }
      const k = shift - 1;
      if (k >= 32) {
        half = ((hi >>> (k - 32)) & 1) !== 0;
        sticky = (hi & ((1 << (k - 32)) - 1)) !== 0 || lo !== 0;
      } else {
        half = ((lo >>> k) & 1) !== 0;
        sticky = (lo & ((1 << k) - 1)) !== 0;
      }
    } else if (e === -1) {
      half = true;
      sticky = (hi & 0x7fffffff) !== 0 || lo !== 0;
    } else sticky = (hi | lo) !== 0;
    const inexact = half || sticky;
    let inc = false;
    if (inexact) {
      if (rc === 0) inc = half && (sticky || (il & 1) !== 0);
      else if (rc === 1) inc = neg;
      else if (rc === 2) inc = !neg;
    }
    if (inc) {
      il = (il + 1) >>> 0;
      if (il === 0) {
        ih = (ih + 1) >>> 0;
        if (ih === 0) return false;
      }
    }
    this.iNeg = neg;
    this.iHi = ih >>> 0;
    this.iLo = il >>> 0;
    this.iInexact = inexact;
    this.iUp = inc;
    return true;
  }

  /** FIST(P) m16/m32/m64. */
  private fist(linear: number, size: number, pop: boolean): void {
    const p = this.top;
    this.swb &= ~C1;
    let lo: number;
    let hi: number;
    if (this.tags[p] === EMPTY) {
      if (this.raise(IE | SF)) return;
      lo = size === 2 ? 0x8000 : size === 4 ? 0x80000000 : 0;
      hi = 0x80000000;
    } else {
      let ok = this.toInteger(p);
      if (ok) {
        const ih = this.iHi;
        const il = this.iLo;
        const neg = this.iNeg;
        if (size === 8) ok = ih < 0x80000000 || (neg && ih === 0x80000000 && il === 0);
        else if (size === 4) ok = ih === 0 && (il < 0x80000000 || (neg && il === 0x80000000));
        else ok = ih === 0 && (il < 0x8000 || (neg && il === 0x8000));
      }
      if (!ok) {
        if (this.raise(IE)) return;
        lo = size === 2 ? 0x8000 : size === 4 ? 0x80000000 : 0;
        hi = 0x80000000;
      } else {
        if (this.iInexact) {
          if (this.iUp) this.swb |= C1;
          this.raise(PE);
        }
        lo = this.iLo;
        hi = this.iHi;
        if (this.iNeg) {
          lo = (~lo + 1) >>> 0;
          hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
        }
      }
    }
    if (size === 2) this.host.write16(linear, lo & 0xffff);
    else if (size === 4) this.host.write32(linear, lo);
    else {
      this.host.write32(linear, lo);
      this.host.write32(linear + 4, hi);
    }
    if (pop) this.pop();
  }

  private fbstp(linear: number): void {
    const p = this.top;
    const h = this.host;
    this.swb &= ~C1;
    let ok = false;
    if (this.tags[p] === EMPTY) {
      if (this.raise(IE | SF)) return;
    } else {
      ok = this.toInteger(p) && (this.iHi < 0x0de0b6b3 || (this.iHi === 0x0de0b6b3 && this.iLo < 0xa7640000));
      if (!ok && this.raise(IE)) return;
    }
    if (!ok) {
      // packed BCD indefinite
      for (let k = 0; k < 7; k++) h.write8(linear + k, 0);
      h.write8(linear + 7, 0xc0);
      h.write8(linear + 8, 0xff);
      h.write8(linear + 9, 0xff);
      this.pop();
      return;
    }
    if (this.iInexact) {
      if (this.iUp) this.swb |= C1;
      this.raise(PE);
    }
    let hi = this.iHi;
    let lo = this.iLo;
    for (let k = 0; k < 9; k++) {
      let byte = 0;
      for (let s = 0; s < 8; s += 4) {
        const qh = Math.floor(hi / 10);
        const t = (hi - qh * 10) * TWO32 + lo;
        const ql = Math.floor(t / 10);
        byte |= (t - ql * 10) << s;
        hi = qh;
        lo = ql;
      }
      h.write8(linear + k, byte);
    }
    h.write8(linear + 9, this.iNeg ? 0x80 : 0);
    this.pop();
  }

  // ---------------------------------------------------------------------------------------------
  // Single-operand arithmetic and transcendental functions

  /** Common entry for ST(0) functions: handles empty, NaN and unsupported operands. Returns
   * ST(0)'s physical index, or -1 when the instruction is complete. */
  private unaryOperand(): number {
    const p = this.top;
    this.swb &= ~C1;
    if (this.tags[p] === EMPTY) {
      this.underflow(p);
      return -1;
    }
    if (this.hasExt[p] && extUnsupported(this.ext[3 * p + 1], this.ext[3 * p + 2])) {
      this.invalid(p);
      return -1;
    }
    const hi = this.rb[2 * p + 1];
    if (isNaNBits(hi, this.rb[2 * p])) {
      if (!(hi & 0x80000) && this.raise(IE)) return -1;
      this.setBits(p, (hi | 0x80000) >>> 0, this.rb[2 * p]);
      return -1;
    }
    return p;
  }

  /** Invalid operation: IE; masked, the default NaN into p. Returns false when unmasked. */
  private invalid(p: number): boolean {
    if (this.raise(IE)) return false;
    this.setIndefinite(p);
    return true;
  }

  /** Writes an inexact transcendental result (PE; C1 unknown and left 0). */
  private inexactResult(p: number, r: number): void {
    if (r - r !== 0) {
      this.fx[2] = r;
      this.overflow(p);
      return;
    }
    this.raise(r !== 0 && r > -MIN_NORMAL && r < MIN_NORMAL ? PE | UE : PE);
    this.setValue(p, r);
  }

  private fsqrt(): void {
    const p = this.unaryOperand();
    if (p < 0) return;
    const x = this.regs[p];
    if (this.hasExt[p] && this.splitOperand(0, p)) {
      // beyond the double range or 64 significant bits: square root with the 80-bit range
      const m = this.fx[0];
      if (m < 0) {
        this.invalid(p);
        return;
      }
      const e = this.we[0];
      const ms = e & 1 ? m * 2 : m;
      const rs = Math.sqrt(ms);
      const ph = rs * rs;
      this.wideResult(p, rs, sgn(ms - ph - productError(rs, rs, ph)), (e - (e & 1)) / 2);
      return;
    }
    if (x < 0) {
      this.invalid(p);
      return;
    }
    const r = Math.sqrt(x);
    let es = 0;
    if (x !== 0 && r !== Infinity) {
      const e = exponentOf(x);
      let rem: number;
      if (e > -900 && e < 900) {
        const ph = r * r;
        rem = x - ph - productError(r, r, ph);
      } else {
        const k = e >> 1;
        const xs = scaleExact(x, -2 * k);
        const rs = scaleExact(r, -k);
        const ph = rs * rs;
        rem = xs - ph - productError(rs, rs, ph);
      }
      es = sgn(rem);
    }
    this.fx[2] = r;
    this.finish(p, es);
  }

  private frndint(): void {
    const p = this.unaryOperand();
    if (p < 0) return;
    const x = this.regs[p];
    if (x - x !== 0 || x === 0 || (!this.hasExt[p] && (x >= TWO52 || x <= -TWO52))) return; // already integral
    if (!this.toInteger(p)) return; // |x| >= 2^64: already an integer
    if (this.iInexact) {
      if (this.iUp) this.swb |= C1;
      this.raise(PE);
    }
    this.setInt64(p, this.iNeg, this.iHi, this.iLo);
  }

  private fxtract(): void {
    const p = this.top;
    this.swb &= ~C1;
    if (this.tags[p] === EMPTY) {
      if (this.raise(IE | SF)) return;
      this.setIndefinite(p);
      this.top = (p - 1) & 7;
      this.setIndefinite(this.top);
      return;
    }
    const q = (p - 1) & 7;
    if (this.pushOverflow()) {
      if (this.top === q) this.setIndefinite(p); // masked: both results are the default NaN
      return;
    }
    const hi = this.rb[2 * p + 1];
    const lo = this.rb[2 * p];
    const x = this.regs[p];
    if (this.hasExt[p] && extUnsupported(this.ext[3 * p + 1], this.ext[3 * p + 2])) {
      if (this.raise(IE)) return;
      this.setIndefinite(p);
      this.top = q;
      this.setIndefinite(q);
      return;
    }
    if (isNaNBits(hi, lo)) {
      if (!(hi & 0x80000) && this.raise(IE)) return;
      this.setBits(p, (hi | 0x80000) >>> 0, lo);
      this.top = q;
      this.copyReg(q, p);
      return;
    }
    if (x === 0) {
      if (this.raise(ZE)) return;
      this.top = q;
      this.copyReg(q, p);
      this.setValue(p, -Infinity);
      return;
    }
    this.top = q;
    if (x - x !== 0) {
      this.copyReg(q, p);
      this.setValue(p, Infinity);
      return;
    }
    if (this.hasExt[p] && (this.ext[3 * p + 2] & 0x7fff) !== 0) {
      const se = this.ext[3 * p + 2];
      this.setExt(q, this.ext[3 * p], this.ext[3 * p + 1], (se & 0x8000) | 16383);
      this.setValue(p, (se & 0x7fff) - 16383);
      return;
    }
    const e = exponentOf(x);
    this.setValue(q, scaleExact(x, -e));
    this.setValue(p, e);
  }

  private fscale(): void {
    const p0 = this.top;
    const p1 = (p0 + 1) & 7;
    this.swb &= ~C1;
    if (this.tags[p0] === EMPTY || this.tags[p1] === EMPTY) {
      this.underflow(p0);
      return;
    }
    if (this.unsupported(p0) || this.unsupported(p1)) {
      this.invalid(p0);
      return;
    }
    const ob = this.ob;
    const rb = this.rb;
    ob[0] = rb[2 * p0];
    ob[1] = rb[2 * p0 + 1];
    ob[2] = rb[2 * p1];
    ob[3] = rb[2 * p1 + 1];
    const x = this.od[0];
    const y = this.od[1];
    if (x !== x || y !== y) {
      this.nanResult(p0);
      return;
    }
    if (y - y !== 0) {
      // scale by ±infinity
      if ((y > 0 && x === 0) || (y < 0 && x - x !== 0)) this.invalid(p0);
      else if (y > 0) this.setValue(p0, x * Infinity);
      else this.setValue(p0, x > 0 || (x === 0 && 1 / x > 0) ? 0 : -0);
      return;
    }
    let n = Math.trunc(y);
    if (n > 40000) n = 40000;
    else if (n < -40000) n = -40000;
    if (this.hasExt[p0] && this.splitOperand(0, p0)) {
      // an 80-bit operand (beyond the double range or with 64 significant bits): scale it exactly
      const se = this.ext[3 * p0 + 2];
      const ef = (se & 0x7fff) + n;
      if ((se & 0x7fff) !== 0 && ef > 0 && ef < 0x7fff) {
        this.setExt(p0, this.ext[3 * p0], this.ext[3 * p0 + 1], (se & 0x8000) | ef);
        return;
      }
    }
    if (x === 0 || x - x !== 0) return;
    const target = exponentOf(x) + n;
    if ((target > 1023 || target < -1022) && target <= 16383 && target >= -16382) {
      // beyond the double range but exact in the 80-bit format: keep it in the shadow
      this.fx[2] = x;
      doubleToExt(this.fxb[5], this.fxb[4]);
      this.setExt(p0, EXT[0], EXT[1], (EXT[2] & 0x8000) | ((EXT[2] & 0x7fff) + n));
      return;
    }
    const r = ldexpRN(x, n);
    if (r - r !== 0) {
      this.fx[2] = r;
      this.overflow(p0);
      return;
    }
    // Only a result in the denormal range can be inexact.
    const es = r > -MIN_NORMAL && r < MIN_NORMAL ? sgn(x - scaleExact(r, -n)) : 0;
    this.fx[2] = r;
    this.finishNoPrecision(p0, es);
  }

  /** Like finish() but without precision control (FSCALE, FPREM results). */
  private finishNoPrecision(d: number, es: number): void {
    const pc = this.cwb & 0x300;
    this.cwb |= 0x300;
    this.finish(d, es);
    this.cwb = (this.cwb & ~0x300) | pc;
  }

  private fprem(ieee: boolean): void {
    const p0 = this.top;
    const p1 = (p0 + 1) & 7;
    this.swb &= ~C1;
    if (this.tags[p0] === EMPTY || this.tags[p1] === EMPTY) {
      this.swb &= ~CC;
      this.underflow(p0);
      return;
    }
    if (this.unsupported(p0) || this.unsupported(p1)) {
      this.swb &= ~CC;
      this.invalid(p0);
      return;
    }
    const ob = this.ob;
    const rb = this.rb;
    ob[0] = rb[2 * p0];
    ob[1] = rb[2 * p0 + 1];
    ob[2] = rb[2 * p1];
    ob[3] = rb[2 * p1 + 1];
    const x = this.od[0];
    const y = this.od[1];
    this.swb &= ~CC;
    if (x !== x || y !== y) {
      this.nanResult(p0);
      return;
    }
    if (x - x !== 0 || y === 0) {
      this.invalid(p0);
      return;
    }
    if (x === 0 || y - y !== 0) return;
    const ex = exponentOf(x);
    const ey = exponentOf(y);
    const d = ex - ey;
    let ax = Math.abs(x);
    const ay = Math.abs(y);
    let q = 0;
    if (d >= 64) {
      const n = 32 + (d % 32);
      let t = scaleExact(ay, d);
      for (let k = d; k >= d - n; k--) {
        if (ax >= t) ax -= t;
        t *= 0.5;
      }
      this.swb |= C2;
      this.setValue(p0, x < 0 ? -ax : ax);
      return;
    }
    if (d >= 0) {
      let t = scaleExact(ay, d);
      for (let k = d; k >= 0; k--) {
        q = (q << 1) & 7;
        if (ax >= t) {
          ax -= t;
          q |= 1;
        }
        t *= 0.5;
      }
    }
    let neg = x < 0;
    if (ieee && (ax > ay - ax || (ax === ay - ax && q & 1))) {
      ax = ay - ax;
      q = (q + 1) & 7;
      neg = !neg;
    }
    this.swb |= (q & 4 ? C0 : 0) | (q & 2 ? C3 : 0) | (q & 1 ? C1 : 0);
    this.setValue(p0, neg ? -ax : ax);
  }

  /** FSIN (0), FCOS (1), FPTAN (2), FSINCOS (3). */
  private ftrig(kind: number): void {
    const p = this.top;
    const q = (p - 1) & 7;
    const pushes = kind >= 2;
    this.swb &= ~(C1 | C2);
    if (this.tags[p] === EMPTY) {
      if (this.raise(IE | SF)) return;
      this.setIndefinite(p);
      if (pushes) {
        this.top = q;
        this.setIndefinite(q);
      }
      return;
    }
    if (pushes && this.pushOverflow()) {
      if (this.top === q) this.setIndefinite(p); // masked: both results are the default NaN
      return;
    }
    const hi = this.rb[2 * p + 1];
    const lo = this.rb[2 * p];
    const x = this.regs[p];
    if (x - x !== 0 || (this.hasExt[p] && extUnsupported(this.ext[3 * p + 1], this.ext[3 * p + 2]))) {
      if (isNaNBits(hi, lo) && !this.hasExt[p]) {
        if (!(hi & 0x80000) && this.raise(IE)) return;
        this.setBits(p, (hi | 0x80000) >>> 0, lo);
      } else if (!this.invalid(p)) return;
      if (pushes) {
        this.top = q;
        this.copyReg(q, p);
      }
      return;
    }
    if (x >= TWO63 || x <= -TWO63) {
      this.swb |= C2;
      return;
    }
    if (x === 0) {
      // exact: sin(±0) = ±0, cos(±0) = 1, tan(±0) = ±0
      this.setValue(p, kind === 1 ? 1 : x);
      if (pushes) {
        this.top = q;
        this.setValue(q, 1);
      }
      return;
    }
    // sin, cos (or tan) of |x|, reduced like the hardware does beyond pi/4
    const ax = x < 0 ? -x : x;
    let a: number;
    let b = 0;
    if (ax <= 0.7853981633974483) {
      if (kind === 2) a = Math.tan(ax);
      else {
        a = Math.sin(ax);
        b = Math.cos(ax);
      }
    } else {
      const quadrant = reduceHalfPi(ax);
      const rh = REDUCED[0];
      const rl = REDUCED[1];
      if (kind === 2) {
        const t = Math.tan(rh);
        const tr = t + rl * (1 + t * t);
        a = quadrant & 1 ? -1 / tr : tr;
      } else {
        const sr = Math.sin(rh);
        const cr = Math.cos(rh);
        const sn = sr + rl * cr;
        const cs = cr - rl * sr;
        a = quadrant === 0 ? sn : quadrant === 1 ? cs : quadrant === 2 ? -sn : -cs;
        b = quadrant === 0 ? cs : quadrant === 1 ? -sn : quadrant === 2 ? -cs : sn;
      }
    }
    if (x < 0) a = -a; // sin and tan are odd, cos is even
    switch (kind) {
      case 0:
        this.inexactResult(p, a);
        return;
      case 1:
        this.inexactResult(p, b);
        return;
      case 2:
        this.inexactResult(p, a);
        this.top = q;
        this.setValue(q, 1);
        return;
      default:
        this.inexactResult(p, a);
        this.top = q;
        this.inexactResult(q, b);
    }
  }

  /**
   * Loads ST(0) into od[0] and ST(1) into od[1] for FPATAN/FYL2X/FYL2XP1 (result to ST(1), then pop).
   * Handles empty, NaN and unsupported operands; returns false when the instruction is complete.
   */
  private binaryOperands(): boolean {
    const p0 = this.top;
    const p1 = (p0 + 1) & 7;
    this.swb &= ~C1;
    if (this.tags[p0] === EMPTY || this.tags[p1] === EMPTY) {
      if (this.underflow(p1)) this.pop();
      return false;
    }
    if (
      (this.hasExt[p0] && extUnsupported(this.ext[3 * p0 + 1], this.ext[3 * p0 + 2])) ||
      (this.hasExt[p1] && extUnsupported(this.ext[3 * p1 + 1], this.ext[3 * p1 + 2]))
    ) {
      if (this.invalid(p1)) this.pop();
      return false;
    }
    const ob = this.ob;
    const rb = this.rb;
    ob[0] = rb[2 * p0];
    ob[1] = rb[2 * p0 + 1];
    ob[2] = rb[2 * p1];
    ob[3] = rb[2 * p1 + 1];
    if (this.od[0] !== this.od[0] || this.od[1] !== this.od[1]) {
      if (this.nanResult(p1)) this.pop();
      return false;
    }
    return true;
  }

  private fpatan(): void {
    if (!this.binaryOperands()) return;
    const p1 = (this.top + 1) & 7;
    const r = Math.atan2(this.od[1], this.od[0]);
    if (r === 0) this.setValue(p1, r);
    else this.inexactResult(p1, r);
    this.pop();
  }

  /** FYL2X: ST(1) * log2(ST(0)); FYL2XP1: ST(1) * log2(ST(0) + 1). */
  private fyl2x(plusOne: boolean): void {
    if (!this.binaryOperands()) return;
    const p1 = (this.top + 1) & 7;
    const x = this.od[0];
    const y = this.od[1];
    const yFinite = y - y === 0;
    let r: number;
    let exact: boolean;
    if (plusOne) {
      if (x < -1 || (x === 0 && !yFinite) || (x === -1 && y === 0) || (x === Infinity && y === 0)) {
        if (this.invalid(p1)) this.pop();
        return;
      }
      if (x === -1) {
        if (yFinite && this.raise(ZE)) return;
        r = y > 0 ? -Infinity : Infinity;
        exact = true;
      } else {
        r = y * (Math.log1p(x) * Math.LOG2E);
        exact = x === 0 || y === 0 || !yFinite || x === Infinity;
      }
    } else {
      if (x < 0 || (x === 0 && y === 0) || (x === Infinity && y === 0) || (x === 1 && !yFinite)) {
        if (this.invalid(p1)) this.pop();
        return;
      }
      if (x === 0) {
        if (yFinite && this.raise(ZE)) return;
        r = y > 0 ? -Infinity : Infinity;
        exact = true;
      } else {
        const xhi = this.ob[1];
        const pow = (xhi & 0xfffff) === 0 && this.ob[0] === 0 && (xhi & 0x7ff00000) !== 0 && x !== Infinity;
        r = y * (pow ? ((xhi >>> 20) & 0x7ff) - 1023 : Math.log2(x));
        // The hardware reports every finite nonzero result as rounded, even y * log2(2^k).
        exact = x === Infinity || !yFinite || x === 1;
      }
    }
    if (exact) {
      this.fx[2] = r;
      if (r - r !== 0 && x - x === 0 && yFinite && x !== 0 && x !== -1) this.overflow(p1);
      else this.setValue(p1, r);
    } else this.inexactResult(p1, r);
    this.pop();
  }

  private f2xm1(): void {
    const p = this.unaryOperand();
    if (p < 0) return;
    const x = this.regs[p];
    if (x === 0 || x - x !== 0) {
      this.setValue(p, x === -Infinity ? -1 : x);
      return;
    }
    if (x === 1 || x === -1) {
      this.raise(PE); // the hardware reports these exact results as rounded
      this.setValue(p, x === 1 ? 1 : -0.5);
      return;
    }
    const th = x * Math.LN2;
    const tl = productError(x, Math.LN2, th) + x * LN2_LO;
    const m = Math.expm1(th);
    this.inexactResult(p, m + (1 + m) * tl);
  }

  // ---------------------------------------------------------------------------------------------
  // Environment

  private storeEnv(linear: number, o32: boolean): void {
    const h = this.host;
    const tw = this.tw;
    if (o32) {
      h.write32(linear, 0xffff0000 | this.cwb);
      h.write32(linear + 4, 0xffff0000 | this.sw);
      h.write32(linear + 8, 0xffff0000 | tw);
      h.write32(linear + 12, this.cIp);
      h.write32(linear + 16, ((this.cOp & 0x7ff) << 16) | (this.cCs & 0xffff));
      h.write32(linear + 20, this.cDp);
      h.write32(linear + 24, 0xffff0000 | (this.cDs & 0xffff));
    } else {
      h.write16(linear, this.cwb);
      h.write16(linear + 2, this.sw);
      h.write16(linear + 4, tw);
      h.write16(linear + 6, this.cIp & 0xffff);
      h.write16(linear + 8, this.cCs & 0xffff);
      h.write16(linear + 10, this.cDp & 0xffff);
      h.write16(linear + 12, this.cDs & 0xffff);
    }
  }

  /** Reads the environment into buf[0..6]: cw, sw, tw, ip, cs, dp, ds (fop in buf[7]). */
  private readEnv(linear: number, o32: boolean): number {
    const h = this.host;
    const b = this.buf;
    if (o32) {
      b[0] = h.read16(linear) & 0xffff;
      b[1] = h.read16(linear + 4) & 0xffff;
      b[2] = h.read16(linear + 8) & 0xffff;
      b[3] = h.read32(linear + 12);
      const w = h.read32(linear + 16) >>> 0;
      b[4] = w & 0xffff;
      b[7] = (w >>> 16) & 0x7ff;
      b[5] = h.read32(linear + 20);
      b[6] = h.read16(linear + 24) & 0xffff;
      return 28;
    }
    b[0] = h.read16(linear) & 0xffff;
    b[1] = h.read16(linear + 2) & 0xffff;
    b[2] = h.read16(linear + 4) & 0xffff;
    b[3] = h.read16(linear + 6) & 0xffff;
    b[4] = h.read16(linear + 8) & 0xffff;
    b[5] = h.read16(linear + 10) & 0xffff;
    b[6] = h.read16(linear + 12) & 0xffff;
    b[7] = 0;
    return 14;
  }

  private applyEnv(): void {
    const b = this.buf;
    this.cwb = (b[0] & 0x1f3f) | 0x40;
    this.top = (b[1] >> 11) & 7;
    this.swb = b[1] & 0xc7ff;
    for (let p = 0; p < 8; p++) this.tags[p] = ((b[2] >> (2 * p)) & 3) === 3 ? EMPTY : 0;
    this.fip = this.cIp = b[3] >>> 0;
    this.fcs = this.cCs = b[4];
    this.fdp = this.cDp = b[5] >>> 0;
    this.fds = this.cDs = b[6];
    this.fop = this.cOp = b[7];
    this.updateES();
  }

  private fldenv(linear: number, o32: boolean): void {
    this.readEnv(linear, o32);
    this.applyEnv();
  }

  private frstor(linear: number, o32: boolean): void {
    const h = this.host;
    const n = this.readEnv(linear, o32);
    const b = this.buf;
    for (let i = 0; i < 8; i++) {
      const a = linear + n + 10 * i;
      b[8 + 3 * i] = h.read32(a) >>> 0;
      b[9 + 3 * i] = h.read32(a + 4) >>> 0;
      b[10 + 3 * i] = h.read16(a + 8) & 0xffff;
    }
    const tags = this.tags;
    this.applyEnv();
    for (let i = 0; i < 8; i++) {
      const p = (this.top + i) & 7;
      const t = tags[p];
      this.setExt(p, b[8 + 3 * i], b[9 + 3 * i], b[10 + 3 * i]);
      tags[p] = t;
    }
  }

  private fnsave(linear: number, o32: boolean): void {
    const h = this.host;
    this.storeEnv(linear, o32);
    let a = linear + (o32 ? 28 : 14);
    for (let i = 0; i < 8; i++) {
      this.regToExt((this.top + i) & 7);
      h.write32(a, EXT[0]);
      h.write32(a + 4, EXT[1]);
      h.write16(a + 8, EXT[2]);
      a += 10;
    }
    this.fninit();
  }
}

/** FCMOVcc condition numbers (Jcc encoding) for DA /0../3: B, E, BE, U; DB adds 1 (NB, NE, NBE, NU). */
const FCMOV_CC = [2, 4, 6, 10];

/**
 * `v` (finite) rounded to an integer per rounding control `rc` (0 nearest even, 1 down, 2 up,
 * 3 toward zero), as a double with the sign of `v` kept for a zero result.
 */
function roundToInteger(v: number, rc: number): number {
  if (rc === 0) {
    const a = Math.abs(v);
    const r = a >= TWO52 ? a : a + TWO52 - TWO52;
    return v < 0 || 1 / v < 0 ? -r : r;
  }
  return rc === 1 ? Math.floor(v) : rc === 2 ? Math.ceil(v) : Math.trunc(v);
}

function isNaNBits(hi: number, lo: number): boolean {
  return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0;
}
