/**
 * Segmentation and privilege (SDM Vol. 3A, chapters 3, 5 and 6): loading segment registers from
 * descriptors, far transfers, interrupt/exception delivery through the IDT with the ring 3 → 0
 * stack switch from the TSS, and IRET. Task gates, call gates and hardware task switching are
 * not used by Linux and raise #GP.
 */
import type { Cpu } from './cpu';
import { EXC_GP, EXC_NP, EXC_SS, EXC_TS } from './exceptions';
import {
  CR0_PE, CS, DS, ECX, EDX, ES, ESP, FLAG_IF, FLAG_NT, FLAG_RF, FLAG_TF, FLAG_VM, FS, GS, SS,
} from './registers';

/** The descriptor most recently read by `readDescriptor` (no allocation per load). */
export const desc = { lo: 0, hi: 0 };

const DESC_PRESENT = 0x8000;
const DESC_ACCESSED = 0x100;
/** hi-dword bits 8..12: type (4 bits) and S. */
const typeOf = (hi: number) => (hi >> 8) & 0x1f;
const dplOf = (hi: number) => (hi >> 13) & 3;
const isCode = (hi: number) => (hi & 0x1800) === 0x1800;
const isConforming = (hi: number) => (hi & 0x400) !== 0;
const isData = (hi: number) => (hi & 0x1800) === 0x1000;

export function descriptorBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) | 0;
}

export function descriptorLimit(lo: number, hi: number): number {
  const limit = (lo & 0xffff) | (hi & 0xf0000);
  return hi & 0x800000 ? (limit << 12) | 0xfff : limit;
}

/** Read the GDT/LDT descriptor of `sel` into `desc`; #GP(sel) (or `vector`) if outside the table. */
export function readDescriptor(cpu: Cpu, sel: number, vector = EXC_GP): void {
  const index = sel & 0xfff8;
  let base: number, limit: number;
  if (sel & 4) {
    base = cpu.ldtBase;
    limit = cpu.ldtLimit;
    if ((cpu.ldtSel & 0xfffc) === 0) cpu.raiseWithCode(vector, sel & 0xfffc);
  } else {
    base = cpu.gdtBase;
    limit = cpu.gdtLimit;
  }
  if (index + 7 > (limit >>> 0)) cpu.raiseWithCode(vector, sel & 0xfffc);
  desc.lo = cpu.sysRead32((base + index) | 0);
  desc.hi = cpu.sysRead32((base + index + 4) | 0);
}

function setAccessed(cpu: Cpu, sel: number): void {
  if (!(desc.hi & DESC_ACCESSED)) {
    desc.hi |= DESC_ACCESSED;
    const base = sel & 4 ? cpu.ldtBase : cpu.gdtBase;
    cpu.sysWrite32((base + (sel & 0xfff8) + 4) | 0, desc.hi);
  }
}

/** Fill a segment register's descriptor cache. */
export function setSegmentCache(cpu: Cpu, seg: number, sel: number, lo: number, hi: number): void {
  cpu.segSel[seg] = sel;
  cpu.segBase[seg] = descriptorBase(lo, hi);
  cpu.segLimit[seg] = descriptorLimit(lo, hi);
  cpu.segAccess[seg] = (hi >> 8) & 0xffff;
  if (seg === CS) {
    cpu.csBase = cpu.segBase[CS];
    cpu.cs32 = (hi & 0x400000) !== 0;
    cpu.fetchVpn = -1;
  } else if (seg === SS) {
    cpu.ss32 = (hi & 0x400000) !== 0;
  }
}

/**
 * Flat 4 GiB 32-bit descriptors (high dwords) that SYSENTER/SYSEXIT load without reading a
 * table: code execute/read accessed and data read/write accessed, DPL 0 or 3.
 */
const FLAT_LOW = 0x0000ffff;
const FLAT_CODE_DPL0 = 0x00cf9b00;
const FLAT_DATA_DPL0 = 0x00cf9300;
const FLAT_CODE_DPL3 = 0x00cffb00;
const FLAT_DATA_DPL3 = 0x00cff300;

/** SYSENTER (SDM Vol. 2B): fast call to CPL 0 at IA32_SYSENTER_EIP on IA32_SYSENTER_ESP. */
export function sysenter(cpu: Cpu): void {
  if (!(cpu.cr0 & CR0_PE) || (cpu.sysenterCs & 0xfffc) === 0) cpu.raiseGP(0);
  cpu.materializeFlags();
  cpu.flagsReg &= ~(FLAG_VM | FLAG_IF | FLAG_RF);
  const cs = cpu.sysenterCs & 0xfffc;
  cpu.setCpl(0);
  setSegmentCache(cpu, CS, cs, FLAT_LOW, FLAT_CODE_DPL0);
  setSegmentCache(cpu, SS, cs + 8, FLAT_LOW, FLAT_DATA_DPL0);
  cpu.reg32[ESP] = cpu.sysenterEsp;
  cpu.eip = cpu.sysenterEip;
  cpu.branched = true;
}

/** SYSEXIT (SDM Vol. 2B): fast return to CPL 3 at EDX with ESP = ECX. */
export function sysexit(cpu: Cpu): void {
  if (!(cpu.cr0 & CR0_PE) || (cpu.sysenterCs & 0xfffc) === 0 || cpu.cpl !== 0) cpu.raiseGP(0);
  const cs = cpu.sysenterCs & 0xfffc;
  cpu.setCpl(3);
  setSegmentCache(cpu, CS, (cs + 16) | 3, FLAT_LOW, FLAT_CODE_DPL3);
  setSegmentCache(cpu, SS, (cs + 24) | 3, FLAT_LOW, FLAT_DATA_DPL3);
  cpu.reg32[ESP] = cpu.reg32[ECX];
  cpu.eip = cpu.reg32[EDX];
  cpu.branched = true;
}

/** Real-mode (and virtual-8086) segment load: base = selector × 16. */
function setRealSegment(cpu: Cpu, seg: number, sel: number): void {
  cpu.segSel[seg] = sel & 0xffff;
  cpu.segBase[seg] = (sel & 0xffff) << 4;
  if (seg === CS) {
    cpu.csBase = cpu.segBase[CS];
    cpu.fetchVpn = -1;
  }
}

/** MOV Sreg / POP Sreg / LDS...: load a data or stack segment register (SDM Vol. 3A, 5.5-5.7). */
export function loadSegment(cpu: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!(cpu.cr0 & CR0_PE) || cpu.flagsReg & FLAG_VM) {
    setRealSegment(cpu, seg, sel);
    return;
  }
  if ((sel & 0xfffc) === 0) {
    if (seg === SS) cpu.raiseGP(0);
    cpu.segSel[seg] = sel;
    cpu.segBase[seg] = 0;
    cpu.segLimit[seg] = 0;
    cpu.segAccess[seg] = 0;
    return;
  }
  readDescriptor(cpu, sel);
  const hi = desc.hi;
  const rpl = sel & 3;
  const dpl = dplOf(hi);
  if (seg === SS) {
    if (rpl !== cpu.cpl || dpl !== cpu.cpl || (typeOf(hi) & 0x1a) !== 0x12) cpu.raiseGP(sel & 0xfffc);
    if (!(hi & DESC_PRESENT)) cpu.raiseWithCode(EXC_SS, sel & 0xfffc);
  } else {
    const readableCode = isCode(hi) && (hi & 0x200) !== 0;
    if (!isData(hi) && !readableCode) cpu.raiseGP(sel & 0xfffc);
    if ((isData(hi) || !isConforming(hi)) && (dpl < cpu.cpl || dpl < rpl)) cpu.raiseGP(sel & 0xfffc);
    if (!(hi & DESC_PRESENT)) cpu.raiseWithCode(EXC_NP, sel & 0xfffc);
  }
  setAccessed(cpu, sel);
  setSegmentCache(cpu, seg, sel, desc.lo, desc.hi);
}

/** POP ES/SS/DS/FS/GS. */
export function popSegment(cpu: Cpu, seg: number): void {
  const v = cpu.o32 ? cpu.peek32() : cpu.peek16();
  loadSegment(cpu, seg, v & 0xffff);
  cpu.adjustEsp(cpu.o32 ? 4 : 2);
}

/** LES/LDS/LSS/LFS/LGS: load a far pointer m16:16/32. */
export function loadFarPointer(cpu: Cpu, modrm: number, seg: number): void {
  const lin = cpu.decodeEa(modrm);
  const off = cpu.o32 ? cpu.read32(lin) : cpu.read16(lin);
  const sel = cpu.read16((lin + (cpu.o32 ? 4 : 2)) | 0);
  loadSegment(cpu, seg, sel);
  const reg = (modrm >> 3) & 7;
  if (cpu.o32) cpu.reg32[reg] = off;
  else cpu.reg16[reg << 1] = off;
}

/** ARPL Ew, Gw. */
export function arpl(cpu: Cpu): void {
  if (!(cpu.cr0 & CR0_PE) || cpu.flagsReg & FLAG_VM) cpu.undefinedOpcode();
  const modrm = cpu.fetch8();
  const dst = cpu.rmwE16(modrm);
  const src = cpu.reg16[((modrm >> 3) & 7) << 1];
  if ((dst & 3) < (src & 3)) {
    cpu.writeE16(modrm, (dst & ~3) | (src & 3));
    cpu.setArithFlags(0x40, 0x40);
  } else cpu.setArithFlags(0, 0x40);
}

/** Check a code-segment descriptor for a far JMP/CALL to `sel` (no gates). */
function checkCodeTarget(cpu: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0) cpu.raiseGP(0);
  readDescriptor(cpu, sel);
  const hi = desc.hi;
  if (!isCode(hi)) cpu.raiseGP(sel & 0xfffc); // call gates, task gates, TSS: not supported
  const dpl = dplOf(hi);
  if (isConforming(hi)) {
    if (dpl > cpu.cpl) cpu.raiseGP(sel & 0xfffc);
  } else if ((sel & 3) > cpu.cpl || dpl !== cpu.cpl) cpu.raiseGP(sel & 0xfffc);
  if (!(hi & DESC_PRESENT)) cpu.raiseWithCode(EXC_NP, sel & 0xfffc);
}

export function farJump(cpu: Cpu, sel: number, off: number): void {
  cpu.branched = true;
  if (!(cpu.cr0 & CR0_PE) || cpu.flagsReg & FLAG_VM) {
    setRealSegment(cpu, CS, sel);
    cpu.eip = cpu.o32 ? off : off & 0xffff;
    return;
  }
  checkCodeTarget(cpu, sel);
  setAccessed(cpu, sel);
  setSegmentCache(cpu, CS, (sel & 0xfffc) | cpu.cpl, desc.lo, desc.hi);
  cpu.eip = cpu.o32 ? off : off & 0xffff;
}

export function farCall(cpu: Cpu, sel: number, off: number): void {
  cpu.branched = true;
  const oldCs = cpu.segSel[CS];
  const oldEip = cpu.eip;
  if (!(cpu.cr0 & CR0_PE) || cpu.flagsReg & FLAG_VM) {
    pushPair(cpu, oldCs, oldEip);
    setRealSegment(cpu, CS, sel);
    cpu.eip = cpu.o32 ? off : off & 0xffff;
    return;
  }
  checkCodeTarget(cpu, sel);
  const lo = desc.lo, hi = desc.hi;
  pushPair(cpu, oldCs, oldEip);
  setSegmentCache(cpu, CS, (sel & 0xfffc) | cpu.cpl, lo, hi);
  cpu.eip = cpu.o32 ? off : off & 0xffff;
}

/** Push CS then EIP, both or neither (the stack is checked before writing). */
function pushPair(cpu: Cpu, cs: number, eip: number): void {
  const w = cpu.o32 ? 4 : 2;
  const sp = cpu.ss32 ? (cpu.reg32[ESP] - 2 * w) | 0 : (cpu.reg16[ESP << 1] - 2 * w) & 0xffff;
  cpu.checkWrite((cpu.segBase[SS] + sp) | 0, 2 * w);
  cpu.pushV(cs);
  cpu.pushV(eip);
}

/** After a return to an outer privilege level, data segment registers the new CPL may not use become null. */
function nullifyInaccessibleSegments(cpu: Cpu): void {
  for (const seg of [ES, DS, FS, GS]) {
    const access = cpu.segAccess[seg];
    const dpl = (access >> 5) & 3;
    const codeConforming = (access & 0x1c) === 0x1c;
    if ((cpu.segSel[seg] & 0xfffc) !== 0 && !codeConforming && dpl < cpu.cpl) {
      cpu.segSel[seg] = 0;
      cpu.segBase[seg] = 0;
      cpu.segLimit[seg] = 0;
      cpu.segAccess[seg] = 0;
    }
  }
}

/** Check the SS selector and descriptor for a stack at privilege `rpl`; leaves it in `desc`. */
function checkStackSegment(cpu: Cpu, ss: number, rpl: number, vector: number): void {
  if ((ss & 0xfffc) === 0) cpu.raiseWithCode(vector, 0);
  if ((ss & 3) !== rpl) cpu.raiseWithCode(vector, ss & 0xfffc);
  readDescriptor(cpu, ss, vector);
  const hi = desc.hi;
  if ((typeOf(hi) & 0x1a) !== 0x12 || dplOf(hi) !== rpl) cpu.raiseWithCode(vector, ss & 0xfffc);
  if (!(hi & DESC_PRESENT)) cpu.raiseWithCode(EXC_SS, ss & 0xfffc);
}

/** RETF [imm16] (SDM Vol. 2, RET). */
export function farReturn(cpu: Cpu, bytes: number): void {
  cpu.branched = true;
  const o32 = cpu.o32;
  const w = o32 ? 4 : 2;
  const eip = o32 ? cpu.peek32(0) : cpu.peek16(0);
  const cs = (o32 ? cpu.peek32(w) : cpu.peek16(w)) & 0xffff;
  if (!(cpu.cr0 & CR0_PE) || cpu.flagsReg & FLAG_VM) {
    setRealSegment(cpu, CS, cs);
    cpu.eip = eip;
    cpu.adjustEsp(2 * w + bytes);
    return;
  }
  returnToCode(cpu, cs, eip, 2, bytes, null);
}

/** IRET/IRETD (SDM Vol. 2, IRET; protected-mode return to same or outer privilege). */
export function iret(cpu: Cpu): void {
  cpu.branched = true;
  const o32 = cpu.o32;
  const w = o32 ? 4 : 2;
  const eip = o32 ? cpu.peek32(0) : cpu.peek16(0);
  const cs = (o32 ? cpu.peek32(w) : cpu.peek16(w)) & 0xffff;
  const flags = o32 ? cpu.peek32(2 * w) : cpu.peek16(2 * w);
  if (!(cpu.cr0 & CR0_PE)) {
    setRealSegment(cpu, CS, cs);
    cpu.eip = eip;
    cpu.adjustEsp(3 * w);
    cpu.setEflagsChecked(flags, o32);
    return;
  }
  if (cpu.flagsReg & FLAG_NT) cpu.raiseGP(0); // task return: not supported
  if (o32 && flags & FLAG_VM && cpu.cpl === 0) cpu.raiseGP(0); // return to virtual-8086: not supported
  returnToCode(cpu, cs, eip, 3, 0, flags);
}

/**
 * The protected-mode end of RETF and IRET: check the code segment `cs`, then return to it at the
 * same privilege level or, when its RPL is larger, to the outer level whose SS:ESP follow the
 * `words`-entry frame (plus `bytes` released by RETF imm16). `flags` (IRET) is applied under the
 * current privilege's rules; null for none.
 */
function returnToCode(cpu: Cpu, cs: number, eip: number, words: number, bytes: number, flags: number | null): void {
  const o32 = cpu.o32;
  const w = o32 ? 4 : 2;
  const rpl = cs & 3;
  if ((cs & 0xfffc) === 0) cpu.raiseGP(0);
  if (rpl < cpu.cpl) cpu.raiseGP(cs & 0xfffc);
  readDescriptor(cpu, cs);
  const lo = desc.lo, hi = desc.hi;
  if (!isCode(hi)) cpu.raiseGP(cs & 0xfffc);
  if (isConforming(hi) ? dplOf(hi) > rpl : dplOf(hi) !== rpl) cpu.raiseGP(cs & 0xfffc);
  if (!(hi & DESC_PRESENT)) cpu.raiseWithCode(EXC_NP, cs & 0xfffc);
  if (rpl > cpu.cpl) {
    const at = words * w + bytes;
    const esp = o32 ? cpu.peek32(at) : cpu.peek16(at);
    const ss = (o32 ? cpu.peek32(at + w) : cpu.peek16(at + w)) & 0xffff;
    checkStackSegment(cpu, ss, rpl, EXC_GP);
    const slo = desc.lo, shi = desc.hi;
    if (flags !== null) cpu.setEflagsChecked(flags, o32);
    setSegmentCache(cpu, CS, cs, lo, hi);
    cpu.eip = eip;
    cpu.setCpl(rpl);
    setSegmentCache(cpu, SS, ss, slo, shi);
    if (cpu.ss32) cpu.reg32[ESP] = (esp + bytes) | 0;
    else cpu.reg16[ESP << 1] = esp + bytes;
    nullifyInaccessibleSegments(cpu);
  } else {
    if (flags !== null) cpu.setEflagsChecked(flags, o32);
    setSegmentCache(cpu, CS, cs, lo, hi);
    cpu.eip = eip;
    cpu.adjustEsp(words * w + bytes);
  }
}

/**
 * Deliver interrupt/exception `vector` through the IDT (SDM Vol. 3A, 6.12). `software` is INT n
 * (checks the gate DPL); `errorCode` < 0 means none. The return address is `cpu.eip` (the caller
 * set it to the faulting or the next instruction).
 */
export function deliverInterrupt(cpu: Cpu, vector: number, software: boolean, errorCode: number): void {
  cpu.halted = false;
  if (!(cpu.cr0 & CR0_PE)) {
    realModeInterrupt(cpu, vector);
    return;
  }
  const ext = software ? 0 : 1;
  const idtCode = vector * 8 + 2 + ext;
  if (vector * 8 + 7 > (cpu.idtLimit >>> 0)) cpu.raiseGP(idtCode);
  const glo = cpu.sysRead32((cpu.idtBase + vector * 8) | 0);
  const ghi = cpu.sysRead32((cpu.idtBase + vector * 8 + 4) | 0);
  const type = typeOf(ghi);
  const is32 = type === 0x0e || type === 0x0f;
  if (!is32 && type !== 0x06 && type !== 0x07) cpu.raiseGP(idtCode); // task gates unsupported
  if (software && dplOf(ghi) < cpu.cpl) cpu.raiseGP(vector * 8 + 2);
  if (!(ghi & DESC_PRESENT)) cpu.raiseWithCode(EXC_NP, idtCode);
  const sel = glo >>> 16;
  const offset = is32 ? (ghi & 0xffff0000) | (glo & 0xffff) : glo & 0xffff;
  if ((sel & 0xfffc) === 0) cpu.raiseGP(ext);
  readDescriptor(cpu, sel);
  const clo = desc.lo, chi = desc.hi;
  const dpl = dplOf(chi);
  if (!isCode(chi) || dpl > cpu.cpl) cpu.raiseGP((sel & 0xfffc) + ext);
  if (!(chi & DESC_PRESENT)) cpu.raiseWithCode(EXC_NP, (sel & 0xfffc) + ext);

  const eflags = cpu.getEflags();
  const oldCs = cpu.segSel[CS];
  const oldEip = cpu.eip;
  const w = is32 ? 4 : 2;
  const words = errorCode >= 0 ? 1 : 0;

  if (!isConforming(chi) && dpl < cpu.cpl) {
    // Inter-privilege: the new stack comes from the TSS (SDM 7.2.1, Figure 7-2).
    const tss32 = (cpu.trType & 8) !== 0;
    let newEsp: number, newSs: number;
    if (tss32) {
      if (4 + dpl * 8 + 5 > (cpu.trLimit >>> 0)) cpu.raiseWithCode(EXC_TS, cpu.trSel & 0xfffc);
      newEsp = cpu.sysRead32((cpu.trBase + 4 + dpl * 8) | 0);
      newSs = cpu.sysRead16((cpu.trBase + 8 + dpl * 8) | 0);
    } else {
      newEsp = cpu.sysRead16((cpu.trBase + 2 + dpl * 4) | 0);
      newSs = cpu.sysRead16((cpu.trBase + 4 + dpl * 4) | 0);
    }
    checkStackSegment(cpu, newSs, dpl, EXC_TS);
    const slo = desc.lo, shi = desc.hi;
    const ssBase = descriptorBase(slo, shi);
    const ss32 = (shi & 0x400000) !== 0;
    const oldSs = cpu.segSel[SS];
    const oldEsp = cpu.reg32[ESP];
    let sp = newEsp;
    const put = (v: number) => {
      sp = ss32 ? (sp - w) | 0 : (sp - w) & 0xffff;
      const lin = (ssBase + sp) | 0;
      if (w === 4) cpu.sysWrite32(lin, v);
      else cpu.sysWrite16(lin, v);
    };
    put(oldSs);
    put(oldEsp);
    put(eflags);
    put(oldCs);
    put(oldEip);
    if (words) put(errorCode);
    setSegmentCache(cpu, CS, (sel & 0xfffc) | dpl, clo, chi);
    cpu.setCpl(dpl);
    setSegmentCache(cpu, SS, (newSs & 0xfffc) | dpl, slo, shi);
    if (ss32) cpu.reg32[ESP] = sp;
    else cpu.reg16[ESP << 1] = sp;
  } else {
    if (!isConforming(chi) && dpl !== cpu.cpl) cpu.raiseGP((sel & 0xfffc) + ext);
    const n = (3 + words) * w;
    const sp0 = cpu.ss32 ? cpu.reg32[ESP] : cpu.reg16[ESP << 1];
    const low = cpu.ss32 ? (sp0 - n) | 0 : (sp0 - n) & 0xffff;
    cpu.checkWrite((cpu.segBase[SS] + low) | 0, n);
    if (w === 4) {
      cpu.push32(eflags);
      cpu.push32(oldCs);
      cpu.push32(oldEip);
      if (words) cpu.push32(errorCode);
    } else {
      cpu.push16(eflags);
      cpu.push16(oldCs);
      cpu.push16(oldEip);
      if (words) cpu.push16(errorCode);
    }
    setSegmentCache(cpu, CS, (sel & 0xfffc) | cpu.cpl, clo, chi);
  }
  cpu.eip = offset;
  cpu.branched = true;
  cpu.materializeFlags();
  cpu.flagsReg &= ~(FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM);
  if ((type & 1) === 0) cpu.flagsReg &= ~FLAG_IF;
}

function realModeInterrupt(cpu: Cpu, vector: number): void {
  const ip = cpu.sysRead16(vector * 4);
  const cs = cpu.sysRead16(vector * 4 + 2);
  cpu.push16(cpu.getEflags());
  cpu.push16(cpu.segSel[CS]);
  cpu.push16(cpu.eip);
  setRealSegment(cpu, CS, cs);
  cpu.eip = ip;
  cpu.materializeFlags();
  cpu.flagsReg &= ~(FLAG_TF | FLAG_IF);
}
