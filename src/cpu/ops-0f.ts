/**
 * The two-byte opcode map, 0F xx (SDM Vol. 2, Table A-3): system instructions, MOV CRn/DRn,
 * CPUID, RDTSC, MSRs, Jcc rel16/32, SETcc, CMOVcc, bit operations, SHLD/SHRD, IMUL, CMPXCHG,
 * XADD, MOVZX/MOVSX, BSWAP, CMPXCHG8B.
 */
import type { Cpu } from './cpu';
import { REG8 } from './cpu';
import { EXC_UD } from './exceptions';
import {
  descriptorBase, descriptorLimit, desc, loadFarPointer, popSegment, readDescriptor, sysenter, sysexit,
} from './protected-mode';
import {
  CR0_ET, CR0_PE, CR0_PG, CR0_TS, CR0_WP, CR4_PGE, CR4_PSE, CR4_TSD, EAX, EBX, ECX, EDX, FLAG_VM, FLAG_ZF, FS, GS, SS,
} from './registers';

/** CPUID leaf 1 EDX feature bits we implement (SDM Vol. 2, CPUID, Table 3-11). */
export const CPUID_FPU = 1 << 0;
export const CPUID_PSE = 1 << 3;
export const CPUID_TSC = 1 << 4;
export const CPUID_MSR = 1 << 5;
export const CPUID_CX8 = 1 << 8;
export const CPUID_SEP = 1 << 11;
export const CPUID_PGE = 1 << 13;
export const CPUID_CMOV = 1 << 15;
export const CPUID_FEATURES = CPUID_FPU | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_CX8 | CPUID_SEP | CPUID_PGE | CPUID_CMOV;
/** Family 6, model 8, stepping 3: an i686-class (Pentium III-era) part. */
export const CPUID_SIGNATURE = (6 << 8) | (8 << 4) | 3;

const MSR_IA32_TSC = 0x10;
const MSR_IA32_PLATFORM_ID = 0x17;
const MSR_IA32_BIOS_SIGN_ID = 0x8b;
const MSR_IA32_MISC_ENABLE = 0x1a0;
const MSR_IA32_SYSENTER_CS = 0x174;
const MSR_IA32_SYSENTER_ESP = 0x175;
const MSR_IA32_SYSENTER_EIP = 0x176;

function requireCpl0(cpu: Cpu): void {
  if (cpu.cpl !== 0) cpu.raiseGP(0);
}

function requireProtected(cpu: Cpu): void {
  if (!(cpu.cr0 & CR0_PE) || cpu.flagsReg & FLAG_VM) cpu.raise(EXC_UD);
}

export function executeTwoByte(cpu: Cpu, op: number): void {
  const r32 = cpu.reg32;
  switch (op) {
    case 0x00: group6(cpu, cpu.fetch8()); return;
    case 0x01: group7(cpu, cpu.fetch8()); return;
    case 0x02: case 0x03: larLsl(cpu, op === 0x03); return;
    case 0x06: requireCpl0(cpu); cpu.cr0 &= ~CR0_TS; return; // CLTS
    case 0x08: case 0x09: requireCpl0(cpu); return; // INVD, WBINVD
    case 0x0b: cpu.raise(EXC_UD); return; // UD2
    case 0x0d: case 0x18: case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e: case 0x1f: {
      // PREFETCH / hint NOPs with a ModRM operand: decode and ignore.
      const modrm = cpu.fetch8();
      if (modrm < 0xc0) cpu.decodeEa(modrm);
      return;
    }
    case 0x20: case 0x22: { // MOV r32, CRn / MOV CRn, r32
      requireCpl0(cpu);
      const modrm = cpu.fetch8();
      const cr = (modrm >> 3) & 7;
      const rm = modrm & 7;
      if (op === 0x20) {
        let v: number;
        switch (cr) {
          case 0: v = cpu.cr0; break;
          case 2: v = cpu.cr2; break;
          case 3: v = cpu.cr3; break;
          case 4: v = cpu.cr4; break;
          default: cpu.raise(EXC_UD);
        }
        r32[rm] = v;
      } else writeControlRegister(cpu, cr, r32[rm]);
      return;
    }
    case 0x21: case 0x23: { // MOV r32, DRn / MOV DRn, r32
      requireCpl0(cpu);
      const modrm = cpu.fetch8();
      let dr = (modrm >> 3) & 7;
      if (dr === 4 || dr === 5) dr += 2;
      if (op === 0x21) r32[modrm & 7] = cpu.dr[dr];
      else cpu.dr[dr] = r32[modrm & 7];
      return;
    }
    case 0x30: { // WRMSR
      requireCpl0(cpu);
      const msr = r32[ECX] >>> 0;
      switch (msr) {
        case MSR_IA32_BIOS_SIGN_ID: return;
        case MSR_IA32_MISC_ENABLE: cpu.msrMiscEnable = r32[EAX]; return;
        case MSR_IA32_SYSENTER_CS: cpu.sysenterCs = r32[EAX] & 0xffff; return;
        case MSR_IA32_SYSENTER_ESP: cpu.sysenterEsp = r32[EAX]; return;
        case MSR_IA32_SYSENTER_EIP: cpu.sysenterEip = r32[EAX]; return;
        default: cpu.raiseGP(0);
      }
      return;
    }
    case 0x31: { // RDTSC
      if (cpu.cr4 & CR4_TSD && cpu.cpl !== 0) cpu.raiseGP(0);
      const t = cpu.host.readTsc();
      r32[EAX] = t % 4294967296;
      r32[EDX] = Math.floor(t / 4294967296);
      return;
    }
    case 0x34: sysenter(cpu); return;
    case 0x35: sysexit(cpu); return;
    case 0x32: { // RDMSR
      requireCpl0(cpu);
      const msr = r32[ECX] >>> 0;
      switch (msr) {
        case MSR_IA32_TSC: {
          const t = cpu.host.readTsc();
          r32[EAX] = t % 4294967296;
          r32[EDX] = Math.floor(t / 4294967296);
          return;
        }
        case MSR_IA32_PLATFORM_ID:
        case MSR_IA32_BIOS_SIGN_ID:
          r32[EAX] = 0;
          r32[EDX] = 0;
          return;
        case MSR_IA32_MISC_ENABLE:
          r32[EAX] = cpu.msrMiscEnable;
          r32[EDX] = 0;
          return;
        case MSR_IA32_SYSENTER_CS:
        case MSR_IA32_SYSENTER_ESP:
        case MSR_IA32_SYSENTER_EIP:
          r32[EAX] = msr === MSR_IA32_SYSENTER_CS ? cpu.sysenterCs : msr === MSR_IA32_SYSENTER_ESP ? cpu.sysenterEsp : cpu.sysenterEip;
          r32[EDX] = 0;
          return;
        default:
          cpu.raiseGP(0);
      }
      return;
    }
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: { // CMOVcc
      const modrm = cpu.fetch8();
      const reg = (modrm >> 3) & 7;
      if (cpu.o32) {
        const v = cpu.readE32(modrm);
        if (cpu.testCondition(op & 15)) r32[reg] = v;
      } else {
        const v = cpu.readE16(modrm);
        if (cpu.testCondition(op & 15)) cpu.reg16[reg << 1] = v;
      }
      return;
    }
    case 0x80: case 0x81: case 0x82: case 0x83: case 0x84: case 0x85: case 0x86: case 0x87:
    case 0x88: case 0x89: case 0x8a: case 0x8b: case 0x8c: case 0x8d: case 0x8e: case 0x8f: {
      const d = cpu.o32 ? cpu.fetch32() : (cpu.fetch16() << 16) >> 16;
      if (cpu.testCondition(op & 15)) cpu.jumpRel(d);
      return;
    }
    case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97:
    case 0x98: case 0x99: case 0x9a: case 0x9b: case 0x9c: case 0x9d: case 0x9e: case 0x9f: {
      const modrm = cpu.fetch8();
      cpu.storeE8(modrm, cpu.testCondition(op & 15) ? 1 : 0);
      return;
    }
    case 0xa0: cpu.pushV(cpu.segSel[FS]); return;
    case 0xa1: popSegment(cpu, FS); return;
    case 0xa2: cpuid(cpu); return;
    case 0xa3: case 0xab: case 0xb3: case 0xbb: bitOpReg(cpu, op); return;
    case 0xa4: case 0xa5: case 0xac: case 0xad: { // SHLD/SHRD
      const modrm = cpu.fetch8();
      const left = op < 0xa8;
      const src = cpu.o32 ? r32[(modrm >> 3) & 7] : cpu.reg16[((modrm >> 3) & 7) << 1];
      const dst = cpu.o32 ? cpu.rmwE32(modrm) : cpu.rmwE16(modrm);
      const count = ((op & 1) === 0 ? cpu.fetch8() : cpu.reg8[4]) & 31;
      if (count === 0) return;
      const res = cpu.shiftDouble(left, dst, src, count, cpu.o32 ? 32 : 16);
      if (cpu.o32) cpu.writeE32(modrm, res);
      else cpu.writeE16(modrm, res);
      return;
    }
    case 0xa8: cpu.pushV(cpu.segSel[GS]); return;
    case 0xa9: popSegment(cpu, GS); return;
    case 0xaf: { // IMUL Gv, Ev
      const modrm = cpu.fetch8();
      const reg = (modrm >> 3) & 7;
      if (cpu.o32) {
        const lo = cpu.mul32(r32[reg], cpu.readE32(modrm), true);
        r32[reg] = lo;
        const c = cpu.mulHigh !== lo >> 31 ? 1 : 0;
        cpu.setFlagsResultWith(lo, 31, c, c);
      } else {
        const p = ((cpu.reg16[reg << 1] << 16) >> 16) * ((cpu.readE16(modrm) << 16) >> 16);
        const lo = p & 0xffff;
        cpu.reg16[reg << 1] = lo;
        const c = p !== (lo << 16) >> 16 ? 1 : 0;
        cpu.setFlagsResultWith(lo, 15, c, c);
      }
      return;
    }
    case 0xb0: { // CMPXCHG Eb, Gb
      const modrm = cpu.fetch8();
      const dst = cpu.rmwE8(modrm);
      cpu.alu(7, cpu.reg8[0], dst, 7);
      if (cpu.reg8[0] === dst) cpu.writeE8(modrm, cpu.reg8[REG8[(modrm >> 3) & 7]]);
      else {
        cpu.writeE8(modrm, dst); // the destination is always written (SDM: CMPXCHG)
        cpu.reg8[0] = dst;
      }
      return;
    }
    case 0xb1: { // CMPXCHG Ev, Gv
      const modrm = cpu.fetch8();
      const reg = (modrm >> 3) & 7;
      if (cpu.o32) {
        const dst = cpu.rmwE32(modrm);
        cpu.alu(7, r32[EAX], dst, 31);
        if (r32[EAX] === dst) cpu.writeE32(modrm, r32[reg]);
        else {
          cpu.writeE32(modrm, dst);
          r32[EAX] = dst;
        }
      } else {
        const dst = cpu.rmwE16(modrm);
        cpu.alu(7, cpu.reg16[0], dst, 15);
        if (cpu.reg16[0] === dst) cpu.writeE16(modrm, cpu.reg16[reg << 1]);
        else {
          cpu.writeE16(modrm, dst);
          cpu.reg16[0] = dst;
        }
      }
      return;
    }
    case 0xb2: case 0xb4: case 0xb5: { // LSS/LFS/LGS
      const modrm = cpu.fetch8();
      if (modrm >= 0xc0) cpu.undefinedOpcode();
      loadFarPointer(cpu, modrm, op === 0xb2 ? SS : op === 0xb4 ? FS : GS);
      return;
    }
    case 0xb6: case 0xb7: case 0xbe: case 0xbf: { // MOVZX/MOVSX
      const modrm = cpu.fetch8();
      const reg = (modrm >> 3) & 7;
      let v: number;
      if (op & 1) {
        v = cpu.readE16(modrm);
        if (op === 0xbf) v = (v << 16) >> 16;
      } else {
        v = cpu.readE8(modrm);
        if (op === 0xbe) v = (v << 24) >> 24;
      }
      if (cpu.o32) r32[reg] = v;
      else cpu.reg16[reg << 1] = v;
      return;
    }
    case 0xba: { // group 8: BT/BTS/BTR/BTC Ev, Ib
      const modrm = cpu.fetch8();
      const sub = (modrm >> 3) & 7;
      if (sub < 4) cpu.undefinedOpcode();
      const bits = cpu.o32 ? 32 : 16;
      if (modrm >= 0xc0) {
        const bit = cpu.fetch8() & (bits - 1);
        const v = cpu.o32 ? r32[modrm & 7] : cpu.reg16[(modrm & 7) << 1];
        const res = bitOp(cpu, sub - 4, v, bit);
        if (sub !== 4) {
          if (cpu.o32) r32[modrm & 7] = res;
          else cpu.reg16[(modrm & 7) << 1] = res;
        }
      } else {
        const lin = cpu.decodeEa(modrm);
        const bit = cpu.fetch8() & (bits - 1);
        if (sub === 4) bitOp(cpu, 0, cpu.o32 ? cpu.read32(lin) : cpu.read16(lin), bit);
        else {
          cpu.checkWrite(lin, bits >> 3);
          const res = bitOp(cpu, sub - 4, cpu.o32 ? cpu.read32(lin) : cpu.read16(lin), bit);
          if (cpu.o32) cpu.write32(lin, res);
          else cpu.write16(lin, res);
        }
      }
      return;
    }
    case 0xbc: case 0xbd: { // BSF/BSR
      const modrm = cpu.fetch8();
      const reg = (modrm >> 3) & 7;
      const v = cpu.o32 ? cpu.readE32(modrm) : cpu.readE16(modrm);
      if (v === 0) {
        cpu.setFlagsResultWith(0, 31, 0, 0); // ZF=1; destination unchanged
        return;
      }
      const idx = op === 0xbc ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v);
      if (cpu.o32) r32[reg] = idx;
      else cpu.reg16[reg << 1] = idx;
      cpu.setFlagsResultWith(1, 31, 0, 0); // ZF=0
      return;
    }
    case 0xc0: { // XADD Eb, Gb
      const modrm = cpu.fetch8();
      const gi = REG8[(modrm >> 3) & 7];
      const dst = cpu.rmwE8(modrm);
      const src = cpu.reg8[gi];
      const sum = cpu.alu(0, dst, src, 7);
      cpu.reg8[gi] = dst;
      cpu.writeE8(modrm, sum);
      return;
    }
    case 0xc1: { // XADD Ev, Gv
      const modrm = cpu.fetch8();
      const reg = (modrm >> 3) & 7;
      if (cpu.o32) {
        const dst = cpu.rmwE32(modrm);
        const sum = cpu.alu(0, dst, r32[reg], 31);
        r32[reg] = dst;
        cpu.writeE32(modrm, sum);
      } else {
        const dst = cpu.rmwE16(modrm);
        const sum = cpu.alu(0, dst, cpu.reg16[reg << 1], 15);
        cpu.reg16[reg << 1] = dst;
        cpu.writeE16(modrm, sum);
      }
      return;
    }
    case 0xc7: { // group 9: CMPXCHG8B m64
      const modrm = cpu.fetch8();
      if ((modrm >> 3 & 7) !== 1 || modrm >= 0xc0) cpu.undefinedOpcode();
      const lin = cpu.decodeEa(modrm);
      cpu.checkWrite(lin, 8);
      const lo = cpu.read32(lin), hi = cpu.read32((lin + 4) | 0);
      if (lo === r32[EAX] && hi === r32[EDX]) {
        cpu.write32(lin, r32[EBX]);
        cpu.write32((lin + 4) | 0, r32[ECX]);
        cpu.setArithFlags(FLAG_ZF, FLAG_ZF);
      } else {
        cpu.write32(lin, lo);
        cpu.write32((lin + 4) | 0, hi);
        r32[EAX] = lo;
        r32[EDX] = hi;
        cpu.setArithFlags(0, FLAG_ZF);
      }
      return;
    }
    case 0xc8: case 0xc9: case 0xca: case 0xcb: case 0xcc: case 0xcd: case 0xce: case 0xcf: { // BSWAP
      const v = r32[op & 7];
      r32[op & 7] = ((v >>> 24) | ((v >> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24)) | 0;
      return;
    }
    default:
      cpu.undefinedOpcode();
  }
}

/** BT/BTS/BTR/BTC on a value: sub 0 test, 1 set, 2 reset, 3 complement. Sets CF. */
function bitOp(cpu: Cpu, sub: number, v: number, bit: number): number {
  const m = 1 << bit;
  cpu.setCF((v & m) !== 0);
  switch (sub) {
    case 1: return v | m;
    case 2: return v & ~m;
    case 3: return v ^ m;
    default: return v;
  }
}

/** BT/BTS/BTR/BTC Ev, Gv: with a memory operand the bit offset is a signed bit string index. */
function bitOpReg(cpu: Cpu, op: number): void {
  const modrm = cpu.fetch8();
  const sub = op === 0xa3 ? 0 : op === 0xab ? 1 : op === 0xb3 ? 2 : 3;
  const reg = (modrm >> 3) & 7;
  const o32 = cpu.o32;
  if (modrm >= 0xc0) {
    const rm = modrm & 7;
    if (o32) {
      const res = bitOp(cpu, sub, cpu.reg32[rm], cpu.reg32[reg] & 31);
      if (sub) cpu.reg32[rm] = res;
    } else {
      const res = bitOp(cpu, sub, cpu.reg16[rm << 1], cpu.reg16[reg << 1] & 15);
      if (sub) cpu.reg16[rm << 1] = res;
    }
    return;
  }
  let lin = cpu.decodeEa(modrm);
  if (o32) {
    const off = cpu.reg32[reg];
    lin = (lin + ((off >> 5) << 2)) | 0;
    if (sub) cpu.checkWrite(lin, 4);
    const res = bitOp(cpu, sub, cpu.read32(lin), off & 31);
    if (sub) cpu.write32(lin, res);
  } else {
    const off = (cpu.reg16[reg << 1] << 16) >> 16;
    lin = (lin + ((off >> 4) << 1)) | 0;
    if (sub) cpu.checkWrite(lin, 2);
    const res = bitOp(cpu, sub, cpu.read16(lin), off & 15);
    if (sub) cpu.write16(lin, res);
  }
}

function writeControlRegister(cpu: Cpu, cr: number, v: number): void {
  switch (cr) {
    case 0: {
      const old = cpu.cr0;
      if (v & CR0_PG && !(v & CR0_PE)) cpu.raiseGP(0);
      cpu.cr0 = v | CR0_ET;
      if ((old ^ cpu.cr0) & (CR0_PG | CR0_WP | CR0_PE)) cpu.flushTlbAll();
      if ((old ^ cpu.cr0) & CR0_PE) cpu.stopRequested = true;
      return;
    }
    case 2: cpu.cr2 = v; return;
    case 3: cpu.cr3 = v; cpu.flushTlb(); return;
    case 4:
      if (v & ~(CR4_PSE | CR4_TSD | CR4_PGE | (1 << 3) /* DE */ | (1 << 8) /* PCE */)) cpu.raiseGP(0);
      cpu.cr4 = v;
      cpu.flushTlbAll(); // toggling PGE is how a kernel flushes global pages too (SDM Vol. 3A, 4.10.4.1)
      return;
    default:
      cpu.raise(EXC_UD);
  }
}

/** CPUID (SDM Vol. 2, CPUID): GenuineIntel, family 6, only the features we implement. */
function cpuid(cpu: Cpu): void {
  const r32 = cpu.reg32;
  const leaf = r32[EAX] >>> 0;
  let a = 0, b = 0, c = 0, d = 0;
  if (leaf === 0) {
    a = 1;
    b = 0x756e6547; // "Genu"
    d = 0x49656e69; // "ineI"
    c = 0x6c65746e; // "ntel"
  } else if (leaf === 1) {
    a = CPUID_SIGNATURE;
    b = 0;
    c = 0;
    d = CPUID_FEATURES;
  } else if (leaf === 0x80000000) {
    a = 0x80000000;
  }
  r32[EAX] = a;
  r32[EBX] = b;
  r32[ECX] = c;
  r32[EDX] = d;
}

/** Group 6: SLDT/STR/LLDT/LTR/VERR/VERW (0F 00). */
function group6(cpu: Cpu, modrm: number): void {
  requireProtected(cpu);
  const sub = (modrm >> 3) & 7;
  switch (sub) {
    case 0: storeSelector(cpu, modrm, cpu.ldtSel); return;
    case 1: storeSelector(cpu, modrm, cpu.trSel); return;
    case 2: { // LLDT
      requireCpl0(cpu);
      const sel = cpu.readE16(modrm);
      if ((sel & 0xfffc) === 0) {
        cpu.ldtSel = sel;
        cpu.ldtBase = 0;
        cpu.ldtLimit = 0;
        return;
      }
      if (sel & 4) cpu.raiseGP(sel & 0xfffc);
      readDescriptor(cpu, sel);
      if (((desc.hi >> 8) & 0x1f) !== 0x02) cpu.raiseGP(sel & 0xfffc);
      if (!(desc.hi & 0x8000)) cpu.raiseWithCode(11, sel & 0xfffc);
      cpu.ldtSel = sel;
      cpu.ldtBase = descriptorBase(desc.lo, desc.hi);
      cpu.ldtLimit = descriptorLimit(desc.lo, desc.hi);
      return;
    }
    case 3: { // LTR
      requireCpl0(cpu);
      const sel = cpu.readE16(modrm);
      if ((sel & 0xfffc) === 0 || sel & 4) cpu.raiseGP(sel & 0xfffc);
      readDescriptor(cpu, sel);
      const type = (desc.hi >> 8) & 0x1f;
      if (type !== 0x09 && type !== 0x01) cpu.raiseGP(sel & 0xfffc);
      if (!(desc.hi & 0x8000)) cpu.raiseWithCode(11, sel & 0xfffc);
      cpu.trSel = sel;
      cpu.trBase = descriptorBase(desc.lo, desc.hi);
      cpu.trLimit = descriptorLimit(desc.lo, desc.hi);
      cpu.trType = type | 2;
      cpu.sysWrite32((cpu.gdtBase + (sel & 0xfff8) + 4) | 0, desc.hi | 0x200); // mark busy
      return;
    }
    case 4: case 5: { // VERR/VERW
      const sel = cpu.readE16(modrm);
      cpu.setArithFlags(verify(cpu, sel, sub === 5) ? FLAG_ZF : 0, FLAG_ZF);
      return;
    }
    default:
      cpu.undefinedOpcode();
  }
}

function storeSelector(cpu: Cpu, modrm: number, sel: number): void {
  if (modrm >= 0xc0 && cpu.o32) cpu.reg32[modrm & 7] = sel;
  else cpu.storeE16(modrm, sel);
}

/** Whether `sel` is readable (or writable) at the current privilege, without faulting. */
function verify(cpu: Cpu, sel: number, write: boolean): boolean {
  if ((sel & 0xfffc) === 0) return false;
  const limit = sel & 4 ? cpu.ldtLimit : cpu.gdtLimit;
  if ((sel & 0xfff8) + 7 > (limit >>> 0)) return false;
  readDescriptor(cpu, sel);
  const hi = desc.hi;
  if (!(hi & 0x1000)) return false;
  const code = (hi & 0x800) !== 0;
  const dpl = (hi >> 13) & 3;
  if (!(code && hi & 0x400) && (dpl < cpu.cpl || dpl < (sel & 3))) return false;
  return write ? !code && (hi & 0x200) !== 0 : !code || (hi & 0x200) !== 0;
}

/** LAR/LSL (0F 02/03): load access rights / segment limit, ZF=1 on success. */
function larLsl(cpu: Cpu, lsl: boolean): void {
  requireProtected(cpu);
  const modrm = cpu.fetch8();
  const reg = (modrm >> 3) & 7;
  const sel = cpu.readE16(modrm);
  let ok = false;
  if ((sel & 0xfffc) !== 0) {
    const limit = sel & 4 ? cpu.ldtLimit : cpu.gdtLimit;
    if ((sel & 0xfff8) + 7 <= (limit >>> 0)) {
      readDescriptor(cpu, sel);
      const hi = desc.hi;
      const type = (hi >> 8) & 0x1f;
      const dpl = (hi >> 13) & 3;
      const conformingCode = (hi & 0x1c00) === 0x1c00;
      const validSystem = lsl ? [1, 2, 3, 9, 11].includes(type) : [1, 2, 3, 4, 5, 9, 11, 12].includes(type);
      ok = (type & 0x10 ? true : validSystem) && (conformingCode || (dpl >= cpu.cpl && dpl >= (sel & 3)));
      if (ok) {
        const v = lsl ? descriptorLimit(desc.lo, hi) : hi & 0x00f0ff00;
        if (cpu.o32) cpu.reg32[reg] = v;
        else cpu.reg16[reg << 1] = v;
      }
    }
  }
  cpu.setArithFlags(ok ? FLAG_ZF : 0, FLAG_ZF);
}

/** Group 7: SGDT/SIDT/LGDT/LIDT/SMSW/LMSW/INVLPG (0F 01). */
function group7(cpu: Cpu, modrm: number): void {
  const sub = (modrm >> 3) & 7;
  switch (sub) {
    case 0: case 1: { // SGDT/SIDT
      if (modrm >= 0xc0) cpu.undefinedOpcode();
      const lin = cpu.decodeEa(modrm);
      cpu.checkWrite(lin, 6);
      cpu.write16(lin, sub === 0 ? cpu.gdtLimit : cpu.idtLimit);
      const base = sub === 0 ? cpu.gdtBase : cpu.idtBase;
      cpu.write32((lin + 2) | 0, cpu.o32 ? base : base & 0x00ffffff);
      return;
    }
    case 2: case 3: { // LGDT/LIDT
      if (modrm >= 0xc0) cpu.undefinedOpcode();
      requireCpl0(cpu);
      const lin = cpu.decodeEa(modrm);
      const limit = cpu.read16(lin);
      let base = cpu.read32((lin + 2) | 0);
      if (!cpu.o32) base &= 0x00ffffff;
      if (sub === 2) {
        cpu.gdtLimit = limit;
        cpu.gdtBase = base;
      } else {
        cpu.idtLimit = limit;
        cpu.idtBase = base;
      }
      return;
    }
    case 4: // SMSW
      if (modrm >= 0xc0 && cpu.o32) cpu.reg32[modrm & 7] = cpu.cr0;
      else cpu.storeE16(modrm, cpu.cr0 & 0xffff);
      return;
    case 6: { // LMSW: can set PE but not clear it
      requireCpl0(cpu);
      const v = cpu.readE16(modrm);
      const old = cpu.cr0;
      cpu.cr0 = (old & ~0xe) | (v & 0xf) | (old & CR0_PE);
      return;
    }
    case 7: { // INVLPG
      if (modrm >= 0xc0) cpu.undefinedOpcode();
      requireCpl0(cpu);
      cpu.invalidatePage(cpu.decodeEa(modrm));
      return;
    }
    default:
      cpu.undefinedOpcode();
  }
}

