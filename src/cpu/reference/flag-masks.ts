/**
 * Which EFLAGS bits a reference case compares.
 *
 * The one place that lists the flags the Intel SDM (Vol. 2, "Instruction Set Reference",
 * section "Flags Affected" of each instruction page) calls *undefined*: their values after the
 * instruction differ between processor families (this reference was recorded on one host),
 * so the replay masks them. Everything the SDM defines (set, cleared, "unaffected") is compared.
 */

export const CF = 1 << 0;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const IOPL = 3 << 12;
export const NT = 1 << 14;
export const RF = 1 << 16;
export const VM = 1 << 17;
export const AC = 1 << 18;
export const VIF = 1 << 19;
export const VIP = 1 << 20;
export const ID = 1 << 21;

export const STATUS_FLAGS = CF | PF | AF | ZF | SF | OF;

/**
 * Bits that depend on the environment rather than on the instruction: the host runs the cases
 * in user mode (IF is 1 and IOPL 0 there and POPF cannot change them, RF/VM/VIF/VIP are 0),
 * the replay runs them at CPL 0 with IF=0. They are never compared.
 */
export const ENVIRONMENT_FLAGS = IF | IOPL | RF | VM | VIF | VIP;

/** Every EFLAGS bit that is compared when nothing is undefined (bits 22-31 are reserved 0). */
export const COMPARED_FLAGS = 0x003fffff & ~ENVIRONMENT_FLAGS;

/**
 * Flags left undefined by instructions whose undefined set does not depend on operands.
 * Key: mnemonic as the generator names it.
 */
export const UNDEFINED_FLAGS: Readonly<Record<string, number>> = {
  // AND, OR, XOR, TEST: "The OF and CF flags are cleared; the SF, ZF, and PF flags are set
  // according to the result. The state of the AF flag is undefined." (SDM AND / OR / XOR / TEST)
  and: AF,
  or: AF,
  xor: AF,
  test: AF,
  // MUL: "The OF and CF flags are set to 0 if the upper half of the result is 0; otherwise,
  // they are set to 1. The SF, ZF, AF, and PF flags are undefined." (SDM MUL)
  mul: SF | ZF | AF | PF,
  // IMUL: "... The SF, ZF, AF, and PF flags are undefined." (SDM IMUL)
  imul: SF | ZF | AF | PF,
  // DIV / IDIV: "The CF, OF, SF, ZF, AF, and PF flags are undefined." (SDM DIV, IDIV)
  div: STATUS_FLAGS,
  idiv: STATUS_FLAGS,
  // BT / BTS / BTR / BTC: "The CF flag contains the value of the selected bit before it is
  // changed. The ZF flag is unaffected. The OF, SF, AF, and PF flags are undefined." (SDM BT...)
  bt: OF | SF | AF | PF,
  bts: OF | SF | AF | PF,
  btr: OF | SF | AF | PF,
  btc: OF | SF | AF | PF,
  // BSF / BSR: "The ZF flag is set to 1 if the source operand is 0; otherwise, the ZF flag is
  // cleared. The CF, OF, SF, AF, and PF flags are undefined." (SDM BSF, BSR)
  bsf: CF | OF | SF | AF | PF,
  bsr: CF | OF | SF | AF | PF,
  // DAA / DAS: "The OF flag is undefined." (SDM DAA, DAS)
  daa: OF,
  das: OF,
  // AAA / AAS: "The OF, SF, ZF, and PF flags are undefined." (SDM AAA, AAS)
  aaa: OF | SF | ZF | PF,
  aas: OF | SF | ZF | PF,
  // AAM / AAD: "The SF, ZF, and PF flags are set according to the resulting binary value in
  // the AL register. The OF, AF, and CF flags are undefined." (SDM AAM, AAD)
  aam: OF | AF | CF,
  aad: OF | AF | CF,
};

/**
 * SAL/SAR/SHL/SHR (SDM "SAL/SAR/SHL/SHR—Shift"): "If the count is 0, the flags are not
 * affected. ... The OF flag is affected only on 1-bit shifts. For left shifts [and right
 * shifts], the OF flag is undefined for other counts (when the count is greater than 1). ...
 * The CF flag contains the value of the last bit shifted out of the destination operand; it is
 * undefined for SHL and SHR instructions where the count is greater than or equal to the size
 * (in bits) of the destination operand. ... The AF flag is undefined for a non-zero count."
 * The count is masked to 5 bits first.
 */
export function shiftUndefined(op: 'shl' | 'sal' | 'shr' | 'sar', size: 8 | 16 | 32, count: number): number {
  const c = count & 0x1f;
  if (c === 0) return 0;
  let u = AF;
  if (c !== 1) u |= OF;
  if ((op === 'shl' || op === 'sal' || op === 'shr') && c >= size) u |= CF;
  return u;
}

/**
 * RCL/RCR/ROL/ROR (SDM "RCL/RCR/ROL/ROR—Rotate", Flags Affected): "If the masked count is 0,
 * the flags are not affected. If the masked count is 1, then the OF flag is affected,
 * otherwise (masked count is greater than 1) the OF flag is undefined. The CF flag is affected
 * when the masked count is non-zero. The SF, ZF, AF, and PF flags are always unaffected."
 * (masked count = count AND 1FH)
 */
export function rotateUndefined(count: number): number {
  const c = count & 0x1f;
  return c > 1 ? OF : 0;
}

/**
 * SHLD / SHRD (SDM "SHLD—Double Precision Shift Left", "SHRD—..."): "If the count is 1 or
 * greater, the CF flag is filled with the last bit shifted out of the destination operand and
 * the SF, ZF, and PF flags are set according to the value of the result. For a 1-bit shift,
 * the OF flag is set if a sign change occurred; otherwise, it is cleared. For shifts greater
 * than 1 bit, the OF flag is undefined. If a shift occurs, the AF flag is undefined. If the
 * count operand is 0, the flags are not affected. If the count is greater than the operand
 * size, the flags are undefined." — and so is the destination ("If the count is greater than
 * the operand size, the result is undefined"), which the generator masks separately.
 */
export function doubleShiftUndefined(size: 16 | 32, count: number): number {
  const c = count & 0x1f;
  if (c === 0) return 0;
  if (c > size) return STATUS_FLAGS;
  return c === 1 ? AF : AF | OF;
}

/** True when SHLD/SHRD leaves its destination undefined (see doubleShiftUndefined). */
export function doubleShiftResultUndefined(size: 16 | 32, count: number): boolean {
  return (count & 0x1f) > size;
}

/** The compare mask of a case whose instruction(s) leave `undefinedFlags` undefined. */
export function comparedFlags(undefinedFlags: number): number {
  return COMPARED_FLAGS & ~undefinedFlags;
}

/** Undefined flags of an instruction with a fixed set (0 when it has none). */
export function undefinedFlagsOf(mnemonic: string): number {
  return UNDEFINED_FLAGS[mnemonic] ?? 0;
}
