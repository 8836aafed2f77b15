import {
  FLAG_AF, FLAG_CF, FLAG_FIXED1, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, FLAGS_ARITH,
} from './registers';

/**
 * Lazy arithmetic flags.
 *
 * Most instructions that write flags are followed by one that overwrites them, so computing
 * CF/PF/AF/ZF/SF/OF eagerly wastes work. An arithmetic instruction instead records its operands,
 * result and width; a flag is computed only when something reads it (Jcc, SETcc, ADC, PUSHF...).
 *
 * `lazyMask` says which arithmetic flags are currently described by the recorded operation; the
 * others live in `flagsReg` (which also holds all non-arithmetic bits: IF, DF, IOPL, ...).
 *
 * Addition and subtraction share one description each, including ADC/SBB/INC/DEC/NEG/CMP:
 * for r = a + b (+ carry-in) the carry out of every bit position is
 *   (a & b) | ((a | b) & ~r)
 * and for r = a - b (- borrow-in) the borrow out of every bit is
 *   (~a & b) | ((~a | b) & r),
 * whatever the carry/borrow-in was. CF is that vector's top bit, AF its bit 3 (= bit 4 of a^b^r),
 * OF the XOR of the carries into and out of the top bit.
 */
export const LAZY_ADD = 0;
export const LAZY_SUB = 1;

/** PARITY[b] = FLAG_PF when byte b has an even number of set bits. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let bits = 0;
  for (let b = i; b; b >>= 1) bits += b & 1;
  PARITY[i] = bits & 1 ? 0 : FLAG_PF;
}

export class LazyFlags {
  /** EFLAGS with the arithmetic bits in `lazyMask` stale. */
  flagsReg = FLAG_FIXED1;
  lazyMask = 0;
  lazyKind = LAZY_ADD;
  lazyOp1 = 0;
  lazyOp2 = 0;
  /** Result, already truncated to the operation's width. */
  lazyRes = 0;
  /** Width of the recorded operation in bits minus one: 7, 15 or 31 (the sign bit). */
  lazySign = 31;

  // --- Recording operations ---

  /** r = a + b (+carry), width given by sign bit index; a, b, r already truncated to the width. */
  setFlagsAdd(a: number, b: number, r: number, sign: number): void {
    this.lazyKind = LAZY_ADD;
    this.lazyOp1 = a;
    this.lazyOp2 = b;
    this.lazyRes = r;
    this.lazySign = sign;
    this.lazyMask = FLAGS_ARITH;
  }

  setFlagsSub(a: number, b: number, r: number, sign: number): void {
    this.lazyKind = LAZY_SUB;
    this.lazyOp1 = a;
    this.lazyOp2 = b;
    this.lazyRes = r;
    this.lazySign = sign;
    this.lazyMask = FLAGS_ARITH;
  }

  /** AND/OR/XOR/TEST: CF=OF=0, AF cleared (undefined in the SDM), SF/ZF/PF from the result. */
  setFlagsLogic(r: number, sign: number): void {
    this.flagsReg &= ~(FLAG_CF | FLAG_OF | FLAG_AF);
    this.lazyRes = r;
    this.lazySign = sign;
    this.lazyMask = FLAG_PF | FLAG_ZF | FLAG_SF;
  }

  /** INC/DEC keep CF: materialise it, then describe the rest lazily. */
  setFlagsIncDec(a: number, r: number, sign: number, isDec: boolean): void {
    const cf = this.getCF();
    this.flagsReg = (this.flagsReg & ~FLAG_CF) | cf;
    this.lazyKind = isDec ? LAZY_SUB : LAZY_ADD;
    this.lazyOp1 = a;
    this.lazyOp2 = 1;
    this.lazyRes = r;
    this.lazySign = sign;
    this.lazyMask = FLAGS_ARITH & ~FLAG_CF;
  }

  /** Result-based SF/ZF/PF lazily; CF, OF (and AF) given explicitly (shifts, multiplies, BCD). */
  setFlagsResultWith(r: number, sign: number, cf: number, of: number, af = 0): void {
    this.flagsReg = (this.flagsReg & ~(FLAG_CF | FLAG_OF | FLAG_AF)) | (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0) | (af ? FLAG_AF : 0);
    this.lazyRes = r;
    this.lazySign = sign;
    this.lazyMask = FLAG_PF | FLAG_ZF | FLAG_SF;
  }

  // --- Reading single flags (0 or 1) ---

  getCF(): number {
    if (!(this.lazyMask & FLAG_CF)) return this.flagsReg & FLAG_CF;
    const a = this.lazyOp1, b = this.lazyOp2, r = this.lazyRes;
    const c = this.lazyKind === LAZY_ADD ? (a & b) | ((a | b) & ~r) : (~a & b) | ((~a | b) & r);
    return (c >>> this.lazySign) & 1;
  }

  getZF(): number {
    if (!(this.lazyMask & FLAG_ZF)) return (this.flagsReg >> 6) & 1;
    return this.lazyRes === 0 ? 1 : 0;
  }

  getSF(): number {
    if (!(this.lazyMask & FLAG_SF)) return (this.flagsReg >> 7) & 1;
    return (this.lazyRes >>> this.lazySign) & 1;
  }

  getOF(): number {
    if (!(this.lazyMask & FLAG_OF)) return (this.flagsReg >> 11) & 1;
    const a = this.lazyOp1, b = this.lazyOp2, r = this.lazyRes;
    const o = this.lazyKind === LAZY_ADD ? (a ^ r) & (b ^ r) : (a ^ b) & (a ^ r);
    return (o >>> this.lazySign) & 1;
  }

  getPF(): number {
    if (!(this.lazyMask & FLAG_PF)) return (this.flagsReg >> 2) & 1;
    return PARITY[this.lazyRes & 0xff] >> 2;
  }

  getAF(): number {
    if (!(this.lazyMask & FLAG_AF)) return (this.flagsReg >> 4) & 1;
    return ((this.lazyOp1 ^ this.lazyOp2 ^ this.lazyRes) >> 4) & 1;
  }

  /** Jcc/SETcc/CMOVcc condition `cc` (0..15, the low nibble of the opcode; SDM Vol. 1, B.1). */
  testCondition(cc: number): boolean {
    let t: number;
    switch (cc >> 1) {
      case 0: t = this.getOF(); break;
      case 1: t = this.getCF(); break;
      case 2: t = this.getZF(); break;
      case 3: t = this.getCF() | this.getZF(); break;
      case 4: t = this.getSF(); break;
      case 5: t = this.getPF(); break;
      case 6: t = this.getSF() ^ this.getOF(); break;
      default: t = this.getZF() | (this.getSF() ^ this.getOF()); break;
    }
    return (t !== 0) !== ((cc & 1) !== 0);
  }

  /** The arithmetic flags computed into one word (other bits 0). */
  getArithFlags(): number {
    return (
      this.getCF() | (this.getPF() << 2) | (this.getAF() << 4) | (this.getZF() << 6) | (this.getSF() << 7) | (this.getOF() << 11)
    );
  }

  /** Full EFLAGS. */
  getEflags(): number {
    if (this.lazyMask === 0) return this.flagsReg;
    return (this.flagsReg & ~FLAGS_ARITH) | this.getArithFlags();
  }

  /** Make every flag concrete in `flagsReg`. */
  materializeFlags(): void {
    if (this.lazyMask !== 0) {
      this.flagsReg = (this.flagsReg & ~FLAGS_ARITH) | this.getArithFlags();
      this.lazyMask = 0;
    }
  }

  /** Overwrite the arithmetic flags selected by `mask` with those of `value`. */
  setArithFlags(value: number, mask: number): void {
    this.materializeFlags();
    this.flagsReg = (this.flagsReg & ~mask) | (value & mask);
  }

  /** CF only (BT/BTS/..., CLC/STC/CMC): the other arithmetic flags stay as they are, lazy or not. */
  setCF(on: boolean | number): void {
    this.flagsReg = on ? this.flagsReg | FLAG_CF : this.flagsReg & ~FLAG_CF;
    this.lazyMask &= ~FLAG_CF;
  }

  /** CF and OF (0 or 1) only, as rotates write them; the other arithmetic flags stay as they are. */
  setCarryOverflow(cf: number, of: number): void {
    this.flagsReg = (this.flagsReg & ~(FLAG_CF | FLAG_OF)) | cf | (of << 11);
    this.lazyMask &= ~(FLAG_CF | FLAG_OF);
  }
}
