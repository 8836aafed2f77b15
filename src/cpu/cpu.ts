import type { IoBus } from '../io/io-bus';
import type { InterruptController } from '../io/irq';
import type { PhysMemory } from '../memory/phys-memory';
import type { SavedState } from '../machine/state';
import {
  CPU_FAULT, EXC_BP, EXC_BR, EXC_DE, EXC_DF, EXC_MF, EXC_NM, EXC_OF, EXC_PF, EXC_UD, TripleFault, isContributory,
} from './exceptions';
import { Fpu } from './fpu/fpu';
import type { FpuHost } from './fpu/fpu-host';
import { Mmu } from './mmu';
import * as pm from './protected-mode';
import {
  CR0_EM, CR0_ET, CR0_MP, CR0_NE, CR0_PE, CR0_TS, CS, DS, EAX, EBP, EBX, ECX, EDI, EDX, ES, ESI, ESP, FLAG_AC, FLAG_AF,
  FLAG_CF, FLAG_DF, FLAG_FIXED1, FLAG_ID, FLAG_IF, FLAG_IOPL, FLAG_NT, FLAG_OF, FLAG_PF, FLAG_RF, FLAG_SF, FLAG_TF,
  FLAG_VM, FLAG_ZF, FLAGS_ARITH, FS, GS, SS,
} from './registers';
import { BlockCache, tableSlot } from './jit';
import { executeTwoByte } from './ops-0f';
import * as str from './string-ops';

/** ModRM.reg/rm → index into the byte view of the register file (AL CL DL BL AH CH DH BH). */
export const REG8 = new Uint8Array([0, 4, 8, 12, 1, 5, 9, 13]);

/** What the CPU needs from the machine around it. */
export interface CpuHost {
  /** Time-stamp counter value (RDTSC). */
  readTsc(): number;
  /** FERR# (x87 error with CR0.NE=0) raises IRQ13. */
  fpuError?(): void;
}

/** `delivering` value while an external interrupt (not an exception) is being delivered. */
const DELIVERING_EXTERNAL = 256;

/** Why `run()` returned before executing its budget. */
export const STOP_NONE = 0;
export const STOP_HALT = 1;

/**
 * The i686 interpreter: registers, decode and execution of the one-byte opcode map. The
 * two-byte map lives in `ops-0f.ts`, string instructions in `string-ops.ts`, segmentation,
 * interrupt delivery and privilege changes in `protected-mode.ts`, paging and the TLB in
 * `mmu.ts`, lazy flags in `flags.ts`, the x87 in `fpu/`.
 */
export class Cpu extends Mmu implements FpuHost {
  readonly io: IoBus;
  private readonly regBuffer = new ArrayBuffer(32);
  /** EAX ECX EDX EBX ESP EBP ESI EDI. */
  readonly reg32 = new Int32Array(this.regBuffer);
  /** 16-bit view: register r is reg16[r << 1]. */
  readonly reg16 = new Uint16Array(this.regBuffer);
  /** 8-bit view: AL..BH through REG8. */
  readonly reg8 = new Uint8Array(this.regBuffer);
  eip = 0;

  // Segment registers: selector and descriptor cache (SDM Vol. 3A, 3.4.3).
  readonly segSel = new Int32Array(6);
  readonly segBase = new Int32Array(6);
  /** Effective limit (byte granular), as unsigned in an Int32Array. */
  readonly segLimit = new Int32Array(6);
  /** Descriptor bits 8..23 of the high dword: access byte | limit 19:16 << 8 | AVL/L/DB/G << 12. */
  readonly segAccess = new Int32Array(6);
  /** CS base (copied for instruction fetch). */
  csBase = 0;
  /** CS.D: 32-bit default operand and address size. */
  cs32 = true;
  /** SS.B: 32-bit stack pointer. */
  ss32 = true;

  gdtBase = 0;
  gdtLimit = 0xffff;
  idtBase = 0;
  idtLimit = 0x3ff;
  ldtSel = 0;
  ldtBase = 0;
  ldtLimit = 0;
  trSel = 0;
  trBase = 0;
  trLimit = 0;
  trType = 0;
  readonly dr = new Int32Array(8);
  /** Model-specific registers we keep (SYSENTER is not reported). */
  msrMiscEnable = 0;
  /** IA32_SYSENTER_CS/ESP/EIP (MSRs 0x174-0x176): where SYSENTER goes (SDM Vol. 3A, 5.8.7). */
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;

  readonly fpu: Fpu;
  irqController: InterruptController | null = null;
  host: CpuHost = { readTsc: () => this.icount };

  /** INTR input (the PIC's output), set by the machine. */
  intrPending = false;
  /** No external interrupt before the instruction executed at this icount (STI / MOV SS shadow). */
  irqShadowAt = -1;
  halted = false;
  /** Set when HLT ran with IF=0: nothing but a reset can wake the CPU (power-off in practice). */
  haltedForever = false;
  /** Instructions executed since power-on. */
  icount = 0;
  /** Set by instructions that must end the current `run()` slice early (HLT, I/O side effects...). */
  stopRequested = false;

  // Per-instruction decode state.
  instrStart = 0;
  o32 = true;
  a32 = true;
  /** Segment override prefix, or -1. */
  segOvr = -1;
  /** 0 none, 1 REP/REPE (F3), 2 REPNE (F2). */
  rep = 0;
  /** Linear address of the current memory operand. */
  ea = 0;
  /** Fault being delivered (for double-fault rules), or -1. */
  private delivering = -1;
  onTripleFault: ((eip: number) => void) | null = null;
  /** Compiled blocks of hot code (see jit.ts). */
  readonly blocks: BlockCache;
  /** Interpreter executions of an instruction before its block is compiled; Infinity disables the compiler. */
  jitThreshold = 4000;
  /** Set by control transfers: the next instruction starts a block (only those are counted as hot). */
  branched = false;
  /** Debug hook: every exception raised by an instruction (vector, error code or -1, EIP). */
  onException: ((vector: number, code: number, eip: number) => void) | null = null;
  /** Encodings we do not implement, reported once each. */
  onUnimplemented: ((eip: number, bytes: number[]) => void) | null = null;

  constructor(mem: PhysMemory, io: IoBus) {
    super(mem);
    this.io = io;
    this.fpu = new Fpu(this);
    this.blocks = new BlockCache(this);
    mem.onCodeWrite = (page) => this.blocks.invalidatePage(page);
    this.reset();
  }

  /** Processor reset state (SDM Vol. 3A, 9.1.1), except that we start in a flat real mode. */
  reset(): void {
    this.reg32.fill(0);
    this.reg32[EDX] = 0x0000_0683;
    this.flagsReg = FLAG_FIXED1;
    this.lazyMask = 0;
    this.cr0 = CR0_ET | (1 << 30) | (1 << 29);
    this.cr2 = 0;
    this.cr3 = 0;
    this.cr4 = 0;
    this.setCpl(0);
    for (let s = 0; s < 6; s++) {
      this.segSel[s] = 0;
      this.segBase[s] = 0;
      this.segLimit[s] = 0xffff;
      this.segAccess[s] = 0x93;
    }
    this.segSel[CS] = 0xf000;
    this.segBase[CS] = 0xffff0000 | 0;
    this.segAccess[CS] = 0x9b;
    this.csBase = this.segBase[CS];
    this.cs32 = false;
    this.ss32 = false;
    this.eip = 0xfff0;
    this.gdtBase = 0;
    this.gdtLimit = 0xffff;
    this.idtBase = 0;
    this.idtLimit = 0x3ff;
    this.ldtSel = this.ldtBase = this.ldtLimit = 0;
    this.trSel = this.trBase = this.trLimit = this.trType = 0;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0 | 0;
    this.dr[7] = 0x400;
    this.halted = false;
    this.haltedForever = false;
    this.irqShadowAt = -1;
    this.delivering = -1;
    this.fpu.reset();
    this.blocks?.clear();
    this.flushTlbAll();
  }

  /**
   * Protected mode at CPL 0 with flat 4 GiB 32-bit segments (code selector 0x10, data 0x18, as
   * the Linux boot protocol expects), paging off, interrupts off. Writes a 4-entry GDT at `gdtAddr`.
   */
  enterFlatProtectedMode(gdtAddr = 0x800): void {
    const m = this.mem;
    m.write32(gdtAddr, 0);
    m.write32(gdtAddr + 4, 0);
    m.write32(gdtAddr + 8, 0);
    m.write32(gdtAddr + 12, 0);
    m.write32(gdtAddr + 16, 0x0000ffff); // 0x10: code, base 0, limit 4 GiB, 32-bit, DPL 0
    m.write32(gdtAddr + 20, 0x00cf9b00);
    m.write32(gdtAddr + 24, 0x0000ffff); // 0x18: data, base 0, limit 4 GiB, 32-bit, DPL 0
    m.write32(gdtAddr + 28, 0x00cf9300);
    this.gdtBase = gdtAddr;
    this.gdtLimit = 31;
    this.idtBase = 0;
    this.idtLimit = 0;
    this.cr0 = CR0_PE | CR0_ET;
    this.setCpl(0);
    for (let s = 0; s < 6; s++) {
      const sel = s === CS ? 0x10 : 0x18;
      this.segSel[s] = sel;
      this.segBase[s] = 0;
      this.segLimit[s] = -1;
      this.segAccess[s] = s === CS ? 0xc09b : 0xc093;
    }
    this.csBase = 0;
    this.cs32 = true;
    this.ss32 = true;
    this.flagsReg = FLAG_FIXED1;
    this.lazyMask = 0;
    this.halted = false;
    this.haltedForever = false;
    this.flushTlbAll();
  }

  // --- FpuHost ---

  setAX(v: number): void {
    this.reg16[0] = v;
  }

  setCompareFlags(zf: boolean, pf: boolean, cf: boolean): void {
    this.materializeFlags();
    this.flagsReg =
      (this.flagsReg & ~FLAGS_ARITH) | (zf ? FLAG_ZF : 0) | (pf ? FLAG_PF : 0) | (cf ? FLAG_CF : 0);
  }

  raiseException(vector: number): never {
    return this.raise(vector);
  }

  reportFpuError(): void {
    if (this.cr0 & CR0_NE) this.raise(EXC_MF);
    this.host.fpuError?.();
  }

  // --- EFLAGS ---

  setEflags(v: number): void {
    this.flagsReg = (v & ~(FLAG_VM | (1 << 3) | (1 << 5) | (1 << 15))) | FLAG_FIXED1;
    this.lazyMask = 0;
  }

  /** POPF/IRET rules for which bits may change at the current privilege (SDM Vol. 2, POPF). */
  setEflagsChecked(v: number, o32: boolean): void {
    let mask = FLAGS_ARITH | FLAG_TF | FLAG_DF | FLAG_NT;
    if (o32) mask |= FLAG_AC | FLAG_ID;
    else mask &= 0xffff;
    const iopl = (this.flagsReg >> 12) & 3;
    if (!(this.cr0 & CR0_PE) || this.cpl === 0) mask |= FLAG_IOPL | FLAG_IF;
    else if (this.cpl <= iopl) mask |= FLAG_IF;
    this.materializeFlags();
    this.flagsReg = (this.flagsReg & ~mask) | (v & mask) | FLAG_FIXED1;
  }

  // --- Instruction fetch ---

  fetch8(): number {
    const lin = (this.csBase + this.eip) | 0;
    if (lin >>> 12 !== this.fetchVpn) this.fetchPage(lin);
    this.eip = (this.eip + 1) | 0;
    return this.u8[this.fetchBacking + (lin & 0xfff)];
  }

  fetch8s(): number {
    return (this.fetch8() << 24) >> 24;
  }

  fetch16(): number {
    const lin = (this.csBase + this.eip) | 0;
    if (lin >>> 12 === this.fetchVpn && (lin & 0xfff) <= 0xffe) {
      const a = this.fetchBacking + (lin & 0xfff);
      this.eip = (this.eip + 2) | 0;
      return this.u8[a] | (this.u8[a + 1] << 8);
    }
    const lo = this.fetch8();
    return lo | (this.fetch8() << 8);
  }

  fetch32(): number {
    const lin = (this.csBase + this.eip) | 0;
    if (lin >>> 12 === this.fetchVpn && (lin & 0xfff) <= 0xffc) {
      const a = this.fetchBacking + (lin & 0xfff);
      this.eip = (this.eip + 4) | 0;
      const u = this.u8;
      return u[a] | (u[a + 1] << 8) | (u[a + 2] << 16) | (u[a + 3] << 24);
    }
    const lo = this.fetch16();
    return lo | (this.fetch16() << 16);
  }

  /** Fetch an immediate of the current operand size (Iz). */
  fetchImm(): number {
    return this.o32 ? this.fetch32() : this.fetch16();
  }

  // --- Effective addresses (SDM Vol. 2, 2.1.5) ---

  /** Decode the memory operand of `modrm` (mod != 3) into `this.ea` (a linear address). */
  decodeEa(modrm: number): number {
    let addr: number;
    let seg = DS;
    const mod = modrm >> 6;
    const rm = modrm & 7;
    if (this.a32) {
      if (rm === 4) {
        const sib = this.fetch8();
        const base = sib & 7;
        const index = (sib >> 3) & 7;
        addr = index === 4 ? 0 : this.reg32[index] << (sib >> 6);
        if (base === 5 && mod === 0) addr += this.fetch32();
        else {
          addr += this.reg32[base];
          if (base === 4 || base === 5) seg = SS;
        }
      } else if (rm === 5 && mod === 0) {
        addr = this.fetch32();
      } else {
        addr = this.reg32[rm];
        if (rm === 5) seg = SS;
      }
      if (mod === 1) addr += this.fetch8s();
      else if (mod === 2) addr += this.fetch32();
    } else {
      const r = this.reg16;
      switch (rm) {
        case 0: addr = r[EBX << 1] + r[ESI << 1]; break;
        case 1: addr = r[EBX << 1] + r[EDI << 1]; break;
        case 2: addr = r[EBP << 1] + r[ESI << 1]; seg = SS; break;
        case 3: addr = r[EBP << 1] + r[EDI << 1]; seg = SS; break;
        case 4: addr = r[ESI << 1]; break;
        case 5: addr = r[EDI << 1]; break;
        case 6:
          if (mod === 0) addr = this.fetch16();
          else {
            addr = r[EBP << 1];
            seg = SS;
          }
          break;
        default: addr = r[EBX << 1]; break;
      }
      if (mod === 1) addr += this.fetch8s();
      else if (mod === 2) addr += this.fetch16();
      addr &= 0xffff;
    }
    if (this.segOvr >= 0) seg = this.segOvr;
    return (this.ea = (this.segBase[seg] + addr) | 0);
  }

  /** The offset part of the memory operand (LEA). */
  decodeOffset(modrm: number): number {
    const saved = this.segOvr;
    this.segOvr = ES; // any segment: subtract its base afterwards
    const lin = this.decodeEa(modrm);
    this.segOvr = saved;
    const off = (lin - this.segBase[ES]) | 0;
    return this.a32 ? off : off & 0xffff;
  }

  /** Linear address of `offset` in the data segment (default DS, honouring overrides). */
  dataLinear(offset: number): number {
    return (this.segBase[this.segOvr >= 0 ? this.segOvr : DS] + offset) | 0;
  }

  // --- Operand access: E (ModRM rm) and G (ModRM reg) ---

  readE8(modrm: number): number {
    if (modrm >= 0xc0) return this.reg8[REG8[modrm & 7]];
    return this.read8(this.decodeEa(modrm));
  }
  readE16(modrm: number): number {
    if (modrm >= 0xc0) return this.reg16[(modrm & 7) << 1];
    return this.read16(this.decodeEa(modrm));
  }
  readE32(modrm: number): number {
    if (modrm >= 0xc0) return this.reg32[modrm & 7];
    return this.read32(this.decodeEa(modrm));
  }
  /** Write the rm operand of an instruction whose EA was already decoded. */
  writeE8(modrm: number, v: number): void {
    if (modrm >= 0xc0) this.reg8[REG8[modrm & 7]] = v;
    else this.write8(this.ea, v);
  }
  writeE16(modrm: number, v: number): void {
    if (modrm >= 0xc0) this.reg16[(modrm & 7) << 1] = v;
    else this.write16(this.ea, v);
  }
  writeE32(modrm: number, v: number): void {
    if (modrm >= 0xc0) this.reg32[modrm & 7] = v;
    else this.write32(this.ea, v);
  }
  /** Read the rm operand for read-modify-write: faults for the write happen before any change. */
  rmwE8(modrm: number): number {
    if (modrm >= 0xc0) return this.reg8[REG8[modrm & 7]];
    const lin = this.decodeEa(modrm);
    if (!this.tlbW[lin >>> 12]) this.checkWrite(lin, 1);
    return this.read8(lin);
  }
  rmwE16(modrm: number): number {
    if (modrm >= 0xc0) return this.reg16[(modrm & 7) << 1];
    const lin = this.decodeEa(modrm);
    if (!this.tlbW[lin >>> 12] || (lin & 0xfff) > 0xffe) this.checkWrite(lin, 2);
    return this.read16(lin);
  }
  rmwE32(modrm: number): number {
    if (modrm >= 0xc0) return this.reg32[modrm & 7];
    const lin = this.decodeEa(modrm);
    if (!this.tlbW[lin >>> 12] || (lin & 0xfff) > 0xffc) this.checkWrite(lin, 4);
    return this.read32(lin);
  }
  /** A string instruction reached from a compiled block (32-bit operand and address size). */
  stringFromBlock(op: number, seg: number, rep: number): void {
    this.o32 = true;
    this.a32 = true;
    this.segOvr = seg;
    this.rep = rep;
    str.stringOp(this, op);
  }

  /** Read a memory operand at `lin` for read-modify-write (write faults first). */
  rmw8(lin: number): number {
    if (!this.tlbW[lin >>> 12]) this.checkWrite(lin, 1);
    return this.read8(lin);
  }
  rmw16(lin: number): number {
    if (!this.tlbW[lin >>> 12] || (lin & 0xfff) > 0xffe) this.checkWrite(lin, 2);
    return this.read16(lin);
  }
  rmw32(lin: number): number {
    if (!this.tlbW[lin >>> 12] || (lin & 0xfff) > 0xffc) this.checkWrite(lin, 4);
    return this.read32(lin);
  }
  /** Write-only rm operand: decode the EA (for MOV Ev, ...) and store. */
  storeE8(modrm: number, v: number): void {
    if (modrm >= 0xc0) this.reg8[REG8[modrm & 7]] = v;
    else this.write8(this.decodeEa(modrm), v);
  }
  storeE16(modrm: number, v: number): void {
    if (modrm >= 0xc0) this.reg16[(modrm & 7) << 1] = v;
    else this.write16(this.decodeEa(modrm), v);
  }
  storeE32(modrm: number, v: number): void {
    if (modrm >= 0xc0) this.reg32[modrm & 7] = v;
    else this.write32(this.decodeEa(modrm), v);
  }

  // --- Stack ---

  push32(v: number): void {
    if (this.ss32) {
      const sp = (this.reg32[ESP] - 4) | 0;
      this.write32((this.segBase[SS] + sp) | 0, v);
      this.reg32[ESP] = sp;
    } else {
      const sp = (this.reg16[ESP << 1] - 4) & 0xffff;
      this.write32((this.segBase[SS] + sp) | 0, v);
      this.reg16[ESP << 1] = sp;
    }
  }
  /**
   * An x87 instruction (escape `op` D8..DF, its ModRM byte, the linear address of a memory
   * operand and the segment it came through), after the #NM check; records the last instruction
   * and operand pointers (SDM Vol. 1, 8.1.8). The block compiler calls this too.
   */
  x87(op: number, modrm: number, lin: number, dataSeg: number, o32: boolean): void {
    const fpu = this.fpu;
    fpu.fip = this.instrStart;
    fpu.fcs = this.segSel[CS];
    fpu.fop = ((op & 7) << 8) | modrm;
    if (modrm < 0xc0) {
      fpu.fdp = lin;
      fpu.fds = this.segSel[dataSeg];
    }
    fpu.execute(op - 0xd8, modrm, lin, o32);
  }

  /** MOV Sreg / POP Sreg for compiled blocks (DS, ES, FS, GS: neither CS nor SS). */
  loadDataSegment(seg: number, sel: number): void {
    pm.loadSegment(this, seg, sel);
  }
  popDataSegment(seg: number): void {
    // blocks compile the 32-bit form only; `o32` still holds the last interpreted instruction's size
    this.o32 = true;
    pm.popSegment(this, seg);
  }

  /** LEAVE: ESP = EBP, then pop EBP (the read comes first, so a fault changes nothing). */
  leave(o32: boolean): void {
    const r32 = this.reg32;
    const bp = this.ss32 ? r32[EBP] : this.reg16[EBP << 1];
    const lin = (this.segBase[SS] + bp) | 0;
    const v = o32 ? this.read32(lin) : this.read16(lin);
    if (this.ss32) r32[ESP] = (bp + (o32 ? 4 : 2)) | 0;
    else this.reg16[ESP << 1] = bp + (o32 ? 4 : 2);
    if (o32) r32[EBP] = v;
    else this.reg16[EBP << 1] = v;
  }
  push16(v: number): void {
    if (this.ss32) {
      const sp = (this.reg32[ESP] - 2) | 0;
      this.write16((this.segBase[SS] + sp) | 0, v);
      this.reg32[ESP] = sp;
    } else {
      const sp = (this.reg16[ESP << 1] - 2) & 0xffff;
      this.write16((this.segBase[SS] + sp) | 0, v);
      this.reg16[ESP << 1] = sp;
    }
  }
  pushV(v: number): void {
    if (this.o32) this.push32(v);
    else this.push16(v);
  }
  /** Read the stack top without popping (offset `delta` bytes above ESP). */
  peek32(delta = 0): number {
    const sp = this.ss32 ? (this.reg32[ESP] + delta) | 0 : (this.reg16[ESP << 1] + delta) & 0xffff;
    return this.read32((this.segBase[SS] + sp) | 0);
  }
  peek16(delta = 0): number {
    const sp = this.ss32 ? (this.reg32[ESP] + delta) | 0 : (this.reg16[ESP << 1] + delta) & 0xffff;
    return this.read16((this.segBase[SS] + sp) | 0);
  }
  adjustEsp(delta: number): void {
    if (this.ss32) this.reg32[ESP] = (this.reg32[ESP] + delta) | 0;
    else this.reg16[ESP << 1] = (this.reg16[ESP << 1] + delta) & 0xffff;
  }
  pop32(): number {
    const v = this.peek32();
    this.adjustEsp(4);
    return v;
  }
  pop16(): number {
    const v = this.peek16();
    this.adjustEsp(2);
    return v;
  }
  popV(): number {
    return this.o32 ? this.pop32() : this.pop16();
  }

  // --- ALU (SDM Vol. 2: ADD, OR, ADC, SBB, AND, SUB, XOR, CMP) ---

  /** op = ModRM.reg of group 1 (0 add, 1 or, 2 adc, 3 sbb, 4 and, 5 sub, 6 xor, 7 cmp). */
  alu(op: number, a: number, b: number, sign: number): number {
    const mask = sign === 31 ? -1 : (2 << sign) - 1;
    let r: number;
    switch (op) {
      case 0:
        r = (a + b) & mask;
        this.setFlagsAdd(a, b, r, sign);
        return r;
      case 1:
        r = a | b;
        this.setFlagsLogic(r, sign);
        return r;
      case 2:
        r = (a + b + this.getCF()) & mask;
        this.setFlagsAdd(a, b, r, sign);
        return r;
      case 3:
        r = (a - b - this.getCF()) & mask;
        this.setFlagsSub(a, b, r, sign);
        return r;
      case 4:
        r = a & b;
        this.setFlagsLogic(r, sign);
        return r;
      case 6:
        r = a ^ b;
        this.setFlagsLogic(r, sign);
        return r;
      default:
        r = (a - b) & mask;
        this.setFlagsSub(a, b, r, sign);
        return r;
    }
  }

  // --- Shifts and rotates (group 2; SDM Vol. 2: RCL/RCR/ROL/ROR, SAL/SAR/SHL/SHR) ---

  /** Returns the result; `count` already masked to 5 bits and non-zero. `bits` = 8, 16 or 32. */
  shift(op: number, a: number, count: number, bits: number): number {
    const sign = bits - 1;
    const mask = bits === 32 ? -1 : (1 << bits) - 1;
    let r: number;
    let cf: number;
    switch (op) {
      case 0: { // ROL
        const c = count & (bits - 1);
        r = c ? ((a << c) | ((a & mask) >>> (bits - c))) & mask : a;
        cf = r & 1;
        this.setCarryOverflow(cf, ((r >>> sign) & 1) ^ cf);
        return r;
      }
      case 1: { // ROR
        const c = count & (bits - 1);
        r = c ? (((a & mask) >>> c) | (a << (bits - c))) & mask : a;
        cf = (r >>> sign) & 1;
        this.setCarryOverflow(cf, cf ^ ((r >>> (sign - 1)) & 1));
        return r;
      }
      case 2: { // RCL
        const c = bits === 32 ? count : count % (bits + 1);
        cf = this.getCF();
        r = a & mask;
        for (let i = 0; i < c; i++) {
          const out = (r >>> sign) & 1;
          r = ((r << 1) | cf) & mask;
          cf = out;
        }
        this.setCarryOverflow(cf, ((r >>> sign) & 1) ^ cf);
        return r;
      }
      case 3: { // RCR
        const c = bits === 32 ? count : count % (bits + 1);
        cf = this.getCF();
        r = a & mask;
        const of = ((r >>> sign) & 1) ^ cf;
        for (let i = 0; i < c; i++) {
          const out = r & 1;
          r = ((r >>> 1) | (cf << sign)) & mask;
          cf = out;
        }
        this.setCarryOverflow(cf, of);
        return r;
      }
      case 4:
      case 6: { // SHL/SAL
        r = count < 32 ? (a << count) & mask : 0;
        cf = count <= bits ? ((a & mask) >>> (bits - count)) & 1 : 0;
        this.setFlagsResultWith(r, sign, cf, ((r >>> sign) & 1) ^ cf);
        return r;
      }
      case 5: { // SHR
        const u = a & mask;
        r = u >>> count;
        cf = (u >>> (count - 1)) & 1;
        this.setFlagsResultWith(r, sign, cf, (u >>> sign) & 1);
        return r;
      }
      default: { // SAR
        const s = (a << (32 - bits)) >> (32 - bits);
        r = (s >> count) & mask;
        cf = (s >> (count - 1)) & 1;
        this.setFlagsResultWith(r, sign, cf, 0);
        return r;
      }
    }
  }

  /** SHLD/SHRD (SDM Vol. 2): count already masked to 5 bits and non-zero. */
  shiftDouble(left: boolean, dst: number, src: number, count: number, bits: number): number {
    const sign = bits - 1;
    let r: number;
    let cf: number;
    if (bits === 32) {
      if (left) {
        r = (dst << count) | (src >>> (32 - count));
        cf = (dst >>> (32 - count)) & 1;
      } else {
        r = (dst >>> count) | (src << (32 - count));
        cf = (dst >>> (count - 1)) & 1;
      }
    } else {
      // 16-bit: operate on the 32-bit concatenation (counts above 16 give undefined results).
      if (left) {
        const wide = ((dst & 0xffff) << 16) | (src & 0xffff);
        const full = count <= 16 ? wide : (wide << 16) | (dst & 0xffff);
        r = (count <= 16 ? full << count : full << (count - 16)) >>> 16 & 0xffff;
        cf = count <= 16 ? (wide >>> (32 - count)) & 1 : (((src & 0xffff) << 16 | (dst & 0xffff)) >>> (48 - count)) & 1;
      } else {
        const wide = ((src & 0xffff) << 16) | (dst & 0xffff);
        if (count <= 16) {
          r = (wide >>> count) & 0xffff;
          cf = (wide >>> (count - 1)) & 1;
        } else {
          const hi = ((dst & 0xffff) << 16) | (src & 0xffff);
          r = (hi >>> (count - 16)) & 0xffff;
          cf = (hi >>> (count - 17)) & 1;
        }
      }
    }
    const of = ((r ^ dst) >>> sign) & 1;
    this.setFlagsResultWith(bits === 32 ? r | 0 : r, sign, cf, of);
    return r;
  }

  // --- Multiply/divide ---

  /** Unsigned 32x32 → 64; low in the return value, high in `mulHigh`. */
  mulHigh = 0;
  mul32(a: number, b: number, signed: boolean): number {
    const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
    const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0;
    const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    let hi = a1 * b1 + Math.floor(p01 / 65536) + Math.floor(p10 / 65536) + Math.floor(mid / 65536);
    if (signed) {
      if (a < 0) hi -= b >>> 0;
      if (b < 0) hi -= a >>> 0;
    }
    this.mulHigh = hi | 0;
    return Math.imul(a, b);
  }

  /** DIV/IDIV r/m32: EDX:EAX / divisor (SDM Vol. 2, DIV). */
  div32(divisor: number, signed: boolean): void {
    const lo = this.reg32[EAX] >>> 0;
    const hiS = this.reg32[EDX];
    if (divisor === 0) this.raise(EXC_DE);
    if (!signed) {
      const d = divisor >>> 0;
      const hi = hiS >>> 0;
      if (hi >= d) this.raise(EXC_DE);
      let q: number, r: number;
      if (hi < 0x200000) {
        const n = hi * 4294967296 + lo;
        q = Math.floor(n / d);
        r = n - q * d;
      } else {
        const n = (BigInt(hi) << 32n) | BigInt(lo);
        const bd = BigInt(d);
        q = Number(n / bd);
        r = Number(n % bd);
      }
      this.reg32[EAX] = q;
      this.reg32[EDX] = r;
    } else {
      const n = (BigInt(hiS) << 32n) | BigInt(lo);
      const bd = BigInt(divisor);
      const q = n / bd;
      if (q > 0x7fffffffn || q < -0x80000000n) this.raise(EXC_DE);
      this.reg32[EAX] = Number(q);
      this.reg32[EDX] = Number(n % bd);
    }
  }

  // --- Control transfer helpers ---

  jumpRel(offset: number): void {
    this.branched = true;
    this.eip = this.o32 ? (this.eip + offset) | 0 : (this.eip + offset) & 0xffff;
  }

  /** Read the I/O permission: CPL > IOPL in protected mode → #GP (no I/O bitmap support). */
  checkIo(): void {
    if (this.cr0 & CR0_PE && this.cpl > ((this.flagsReg >> 12) & 3)) this.raiseGP(0);
  }

  /** Raise #UD for an encoding that is not implemented (or invalid), reporting it once. */
  undefinedOpcode(): never {
    if (this.onUnimplemented) {
      const bytes: number[] = [];
      try {
        for (let i = 0; i < 8; i++) bytes.push(this.read8((this.csBase + this.instrStart + i) | 0));
      } catch {
        /* bytes not readable */
      }
      this.onUnimplemented(this.instrStart, bytes);
    }
    return this.raise(EXC_UD);
  }

  // --- The run loop ---

  /**
   * Execute up to `budget` instructions; returns how many ran. Returns early when the CPU halts
   * or an instruction asks to stop the slice. Exceptions are delivered to the guest; a triple
   * fault calls `onTripleFault` (or throws TripleFault) and halts.
   */
  run(budget: number): number {
    const start = this.icount;
    const end = start + budget;
    this.stopRequested = false;
    this.branched = true;
    while (this.icount < end && !this.halted && !this.stopRequested) {
      try {
        this.runInner(end);
      } catch (e) {
        if (e !== CPU_FAULT) throw e;
        this.icount++;
        this.handleFault();
      }
    }
    return this.icount - start;
  }

  private runInner(end: number): void {
    const cache = this.blocks;
    const r32 = this.reg32, r8 = this.reg8, r16 = this.reg16, sb = this.segBase;
    const threshold = this.jitThreshold;
    const jit = threshold !== Infinity;
    while (this.icount < end) {
      if (this.intrPending && this.flagsReg & FLAG_IF && this.icount !== this.irqShadowAt) {
        this.acceptExternalInterrupt();
      }
      this.instrStart = this.eip;
      // Blocks are looked up only where one can start: at branch targets, right after a block
      // (where the interpreter takes over for an instruction blocks do not cover) and right
      // after such an instruction (where the next block starts).
      let resume = false;
      if (jit && this.branched && this.cs32) {
        this.branched = false;
        const lin = (this.csBase + this.eip) | 0;
        if (lin >>> 12 !== this.fetchVpn) this.fetchPage(lin);
        const phys = this.fetchBacking + (lin & 0xfff);
        const slot = tableSlot(phys);
        if (cache.tag[slot] === phys + 1 && cache.eip[slot] === this.eip) {
          const fn = cache.fn[slot];
          if (BlockCache.isCompilable(fn)) {
            fn(this, r32, r8, r16, sb, cache.entry[slot]);
            this.branched = true;
            continue;
          }
          resume = true;
        } else {
          const fn = cache.recall(phys, this.eip);
          if (fn) {
            if (BlockCache.isCompilable(fn)) {
              fn(this, r32, r8, r16, sb, cache.entry[slot]);
              this.branched = true;
              continue;
            }
            resume = true;
          } else if (++cache.heat[slot] >= threshold && phys < this.mem.ramBytes) {
            cache.heat[slot] = 0;
            const fn = cache.compile(phys);
            if (fn) {
              fn(this, r32, r8, r16, sb, 0);
              this.branched = true;
              continue;
            }
          }
        }
      }
      this.execute();
      this.icount++;
      if (resume) this.branched = true;
      if (this.halted || this.stopRequested) return;
    }
  }

  /** Execute one instruction (delivering any exception it raises). */
  step(): void {
    this.run(1);
  }

  private acceptExternalInterrupt(): void {
    const pic = this.irqController;
    if (!pic || !pic.hasInterrupt()) {
      this.intrPending = pic ? pic.hasInterrupt() : false;
      return;
    }
    const vector = pic.acknowledge();
    this.intrPending = pic.hasInterrupt();
    this.halted = false;
    this.instrStart = this.eip;
    try {
      this.delivering = DELIVERING_EXTERNAL;
      pm.deliverInterrupt(this, vector, false, -1);
      this.delivering = -1;
    } catch (e) {
      if (e !== CPU_FAULT) throw e;
      this.handleFault();
    }
  }

  /** Wake from HLT if an interrupt can be taken now. Returns true if the CPU is runnable. */
  wakeIfInterrupt(): boolean {
    if (this.halted && !this.haltedForever && this.intrPending && this.flagsReg & FLAG_IF) this.halted = false;
    return !this.halted;
  }

  /** Deliver the exception recorded by raise*(), applying the double/triple fault rules (SDM 6.15). */
  private handleFault(): void {
    let vector = this.excVector;
    let code = this.excHasErrorCode ? this.excErrorCode : -1;
    this.eip = this.instrStart;
    this.onException?.(vector, code, this.instrStart);
    for (;;) {
      const prev = this.delivering;
      if (prev >= 0 && prev !== DELIVERING_EXTERNAL) {
        if (prev === EXC_DF) {
          this.tripleFault();
          return;
        }
        if ((isContributory(prev) && isContributory(vector)) || (prev === EXC_PF && (vector === EXC_PF || isContributory(vector)))) {
          vector = EXC_DF;
          code = 0;
        }
      }
      this.delivering = vector;
      try {
        pm.deliverInterrupt(this, vector, false, code);
        this.delivering = -1;
        return;
      } catch (e) {
        if (e !== CPU_FAULT) throw e;
        vector = this.excVector;
        code = this.excHasErrorCode ? this.excErrorCode : -1;
        if (this.delivering === EXC_DF && vector !== EXC_DF) {
          this.tripleFault();
          return;
        }
      }
    }
  }

  private tripleFault(): void {
    this.delivering = -1;
    this.halted = true;
    this.haltedForever = true;
    if (this.onTripleFault) this.onTripleFault(this.instrStart);
    else throw new TripleFault(this.instrStart);
  }

  /** Software interrupt/trap: INT n, INT3, INTO (EIP already points after the instruction). */
  softwareInterrupt(vector: number): void {
    this.delivering = -1;
    pm.deliverInterrupt(this, vector, true, -1);
  }

  /** Decode prefixes and execute one instruction. */
  execute(): void {
    this.o32 = this.cs32;
    this.a32 = this.cs32;
    this.segOvr = -1;
    this.rep = 0;
    for (;;) {
      const op = this.fetch8();
      switch (op) {
        case 0x26: this.segOvr = ES; continue;
        case 0x2e: this.segOvr = CS; continue;
        case 0x36: this.segOvr = SS; continue;
        case 0x3e: this.segOvr = DS; continue;
        case 0x64: this.segOvr = FS; continue;
        case 0x65: this.segOvr = GS; continue;
        case 0x66: this.o32 = !this.cs32; continue;
        case 0x67: this.a32 = !this.cs32; continue;
        case 0xf0: continue; // LOCK: a single CPU needs nothing more
        case 0xf2: this.rep = 2; continue;
        case 0xf3: this.rep = 1; continue;
        default:
          this.executeOp(op);
          return;
      }
    }
  }

  /** The one-byte opcode map (SDM Vol. 2, Table A-2). */
  private executeOp(op: number): void {
    const r32 = this.reg32;
    switch (op) {
      // ALU Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz for ADD OR ADC SBB AND SUB XOR CMP
      case 0x00: case 0x08: case 0x10: case 0x18: case 0x20: case 0x28: case 0x30: case 0x38: {
        const modrm = this.fetch8();
        const g = this.reg8[REG8[(modrm >> 3) & 7]];
        const alu = op >> 3;
        if (alu === 7) this.alu(7, this.readE8(modrm), g, 7);
        else this.writeE8(modrm, this.alu(alu, this.rmwE8(modrm), g, 7));
        return;
      }
      case 0x01: case 0x09: case 0x11: case 0x19: case 0x21: case 0x29: case 0x31: case 0x39: {
        const modrm = this.fetch8();
        const reg = (modrm >> 3) & 7;
        const alu = op >> 3;
        if (this.o32) {
          if (modrm >= 0xc0) {
            const rm = modrm & 7;
            const res = this.alu(alu, r32[rm], r32[reg], 31);
            if (alu !== 7) r32[rm] = res;
          } else if (alu === 7) this.alu(7, this.read32(this.decodeEa(modrm)), r32[reg], 31);
          else {
            const a = this.rmwE32(modrm);
            this.write32(this.ea, this.alu(alu, a, r32[reg], 31));
          }
        } else {
          const g = this.reg16[reg << 1];
          if (alu === 7) this.alu(7, this.readE16(modrm), g, 15);
          else this.writeE16(modrm, this.alu(alu, this.rmwE16(modrm), g, 15));
        }
        return;
      }
      case 0x02: case 0x0a: case 0x12: case 0x1a: case 0x22: case 0x2a: case 0x32: case 0x3a: {
        const modrm = this.fetch8();
        const gi = REG8[(modrm >> 3) & 7];
        const res = this.alu(op >> 3, this.reg8[gi], this.readE8(modrm), 7);
        if (op >> 3 !== 7) this.reg8[gi] = res;
        return;
      }
      case 0x03: case 0x0b: case 0x13: case 0x1b: case 0x23: case 0x2b: case 0x33: case 0x3b: {
        const modrm = this.fetch8();
        const reg = (modrm >> 3) & 7;
        if (this.o32) {
          const res = this.alu(op >> 3, r32[reg], this.readE32(modrm), 31);
          if (op >> 3 !== 7) r32[reg] = res;
        } else {
          const res = this.alu(op >> 3, this.reg16[reg << 1], this.readE16(modrm), 15);
          if (op >> 3 !== 7) this.reg16[reg << 1] = res;
        }
        return;
      }
      case 0x04: case 0x0c: case 0x14: case 0x1c: case 0x24: case 0x2c: case 0x34: case 0x3c: {
        const res = this.alu(op >> 3, this.reg8[0], this.fetch8(), 7);
        if (op >> 3 !== 7) this.reg8[0] = res;
        return;
      }
      case 0x05: case 0x0d: case 0x15: case 0x1d: case 0x25: case 0x2d: case 0x35: case 0x3d: {
        if (this.o32) {
          const res = this.alu(op >> 3, r32[EAX], this.fetch32(), 31);
          if (op >> 3 !== 7) r32[EAX] = res;
        } else {
          const res = this.alu(op >> 3, this.reg16[0], this.fetch16(), 15);
          if (op >> 3 !== 7) this.reg16[0] = res;
        }
        return;
      }
      case 0x06: this.pushV(this.segSel[ES]); return;
      case 0x07: pm.popSegment(this, ES); return;
      case 0x0e: this.pushV(this.segSel[CS]); return;
      case 0x0f: executeTwoByte(this, this.fetch8()); return;
      case 0x16: this.pushV(this.segSel[SS]); return;
      case 0x17: pm.popSegment(this, SS); this.irqShadowAt = this.icount + 1; return;
      case 0x1e: this.pushV(this.segSel[DS]); return;
      case 0x1f: pm.popSegment(this, DS); return;
      case 0x27: this.daa(); return;
      case 0x2f: this.das(); return;
      case 0x37: this.aaa(); return;
      case 0x3f: this.aas(); return;
      case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47: {
        const r = op & 7;
        if (this.o32) {
          const a = r32[r];
          const res = (a + 1) | 0;
          r32[r] = res;
          this.setFlagsIncDec(a, res, 31, false);
        } else {
          const a = this.reg16[r << 1];
          const res = (a + 1) & 0xffff;
          this.reg16[r << 1] = res;
          this.setFlagsIncDec(a, res, 15, false);
        }
        return;
      }
      case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
        const r = op & 7;
        if (this.o32) {
          const a = r32[r];
          const res = (a - 1) | 0;
          r32[r] = res;
          this.setFlagsIncDec(a, res, 31, true);
        } else {
          const a = this.reg16[r << 1];
          const res = (a - 1) & 0xffff;
          this.reg16[r << 1] = res;
          this.setFlagsIncDec(a, res, 15, true);
        }
        return;
      }
      case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
        if (this.o32) this.push32(r32[op & 7]);
        else this.push16(this.reg16[(op & 7) << 1]);
        return;
      case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
        if (this.o32) {
          const v = this.pop32();
          r32[op & 7] = v;
        } else {
          const v = this.pop16();
          this.reg16[(op & 7) << 1] = v;
        }
        return;
      case 0x60: { // PUSHA/PUSHAD
        const sp = r32[ESP];
        const size = this.o32 ? 4 : 2;
        const top = this.ss32 ? (sp - 8 * size) | 0 : (sp - 8 * size) & 0xffff;
        this.checkWrite((this.segBase[SS] + top) | 0, 8 * size);
        for (let r = 0; r < 8; r++) {
          const v = r === ESP ? sp : r32[r];
          if (this.o32) this.push32(v);
          else this.push16(v);
        }
        return;
      }
      case 0x61: { // POPA/POPAD
        const size = this.o32 ? 4 : 2;
        const vals = this.popaScratch;
        for (let i = 0; i < 8; i++) vals[7 - i] = this.o32 ? this.peek32(i * size) : this.peek16(i * size);
        this.adjustEsp(8 * size);
        for (let r = 0; r < 8; r++) {
          if (r === ESP) continue;
          if (this.o32) r32[r] = vals[r];
          else this.reg16[r << 1] = vals[r];
        }
        return;
      }
      case 0x62: { // BOUND Gv, Ma
        const modrm = this.fetch8();
        if (modrm >= 0xc0) this.undefinedOpcode();
        const lin = this.decodeEa(modrm);
        const reg = (modrm >> 3) & 7;
        if (this.o32) {
          const lo = this.read32(lin), hi = this.read32((lin + 4) | 0), v = r32[reg];
          if (v < lo || v > hi) this.raise(EXC_BR);
        } else {
          const lo = (this.read16(lin) << 16) >> 16, hi = (this.read16((lin + 2) | 0) << 16) >> 16;
          const v = (this.reg16[reg << 1] << 16) >> 16;
          if (v < lo || v > hi) this.raise(EXC_BR);
        }
        return;
      }
      case 0x63: pm.arpl(this); return;
      case 0x68: this.pushV(this.fetchImm()); return;
      case 0x69: case 0x6b: { // IMUL Gv, Ev, Iz/Ib
        const modrm = this.fetch8();
        const reg = (modrm >> 3) & 7;
        if (this.o32) {
          const a = this.readE32(modrm);
          const b = op === 0x6b ? this.fetch8s() : this.fetch32();
          const lo = this.mul32(a, b, true);
          r32[reg] = lo;
          const ovf = this.mulHigh !== lo >> 31;
          this.setFlagsResultWith(lo, 31, ovf ? 1 : 0, ovf ? 1 : 0);
        } else {
          const a = (this.readE16(modrm) << 16) >> 16;
          const b = op === 0x6b ? this.fetch8s() : (this.fetch16() << 16) >> 16;
          const p = a * b;
          const lo = p & 0xffff;
          this.reg16[reg << 1] = lo;
          const ovf = p !== (lo << 16) >> 16;
          this.setFlagsResultWith(lo, 15, ovf ? 1 : 0, ovf ? 1 : 0);
        }
        return;
      }
      case 0x6a: this.pushV(this.fetch8s()); return;
      case 0x6c: case 0x6d: case 0x6e: case 0x6f:
        this.checkIo();
        str.ioString(this, op);
        return;
      case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
      case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f: {
        const d = this.fetch8s();
        if (this.testCondition(op & 15)) this.jumpRel(d);
        return;
      }
      case 0x80: case 0x82: { // group 1 Eb, Ib
        const modrm = this.fetch8();
        const alu = (modrm >> 3) & 7;
        if (alu === 7) {
          const a = this.readE8(modrm);
          this.alu(7, a, this.fetch8(), 7);
        } else {
          const a = this.rmwE8(modrm);
          this.writeE8(modrm, this.alu(alu, a, this.fetch8(), 7));
        }
        return;
      }
      case 0x81: case 0x83: { // group 1 Ev, Iz / Ev, Ib (sign-extended)
        const modrm = this.fetch8();
        const alu = (modrm >> 3) & 7;
        if (this.o32) {
          if (modrm >= 0xc0) {
            const rm = modrm & 7;
            const b = op === 0x83 ? this.fetch8s() : this.fetch32();
            const res = this.alu(alu, r32[rm], b, 31);
            if (alu !== 7) r32[rm] = res;
          } else if (alu === 7) {
            const a = this.read32(this.decodeEa(modrm));
            this.alu(7, a, op === 0x83 ? this.fetch8s() : this.fetch32(), 31);
          } else {
            const a = this.rmwE32(modrm);
            this.write32(this.ea, this.alu(alu, a, op === 0x83 ? this.fetch8s() : this.fetch32(), 31));
          }
        } else if (alu === 7) {
          const a = this.readE16(modrm);
          this.alu(7, a, (op === 0x83 ? this.fetch8s() : this.fetch16()) & 0xffff, 15);
        } else {
          const a = this.rmwE16(modrm);
          this.writeE16(modrm, this.alu(alu, a, (op === 0x83 ? this.fetch8s() : this.fetch16()) & 0xffff, 15));
        }
        return;
      }
      case 0x84: {
        const modrm = this.fetch8();
        this.setFlagsLogic(this.readE8(modrm) & this.reg8[REG8[(modrm >> 3) & 7]], 7);
        return;
      }
      case 0x85: {
        const modrm = this.fetch8();
        if (this.o32) this.setFlagsLogic(this.readE32(modrm) & r32[(modrm >> 3) & 7], 31);
        else this.setFlagsLogic(this.readE16(modrm) & this.reg16[((modrm >> 3) & 7) << 1], 15);
        return;
      }
      case 0x86: {
        const modrm = this.fetch8();
        const gi = REG8[(modrm >> 3) & 7];
        const a = this.rmwE8(modrm);
        this.writeE8(modrm, this.reg8[gi]);
        this.reg8[gi] = a;
        return;
      }
      case 0x87: {
        const modrm = this.fetch8();
        const reg = (modrm >> 3) & 7;
        if (this.o32) {
          const a = this.rmwE32(modrm);
          this.writeE32(modrm, r32[reg]);
          r32[reg] = a;
        } else {
          const a = this.rmwE16(modrm);
          this.writeE16(modrm, this.reg16[reg << 1]);
          this.reg16[reg << 1] = a;
        }
        return;
      }
      case 0x88: {
        const modrm = this.fetch8();
        this.storeE8(modrm, this.reg8[REG8[(modrm >> 3) & 7]]);
        return;
      }
      case 0x89: {
        const modrm = this.fetch8();
        if (this.o32) this.storeE32(modrm, r32[(modrm >> 3) & 7]);
        else this.storeE16(modrm, this.reg16[((modrm >> 3) & 7) << 1]);
        return;
      }
      case 0x8a: {
        const modrm = this.fetch8();
        this.reg8[REG8[(modrm >> 3) & 7]] = this.readE8(modrm);
        return;
      }
      case 0x8b: {
        const modrm = this.fetch8();
        if (this.o32) r32[(modrm >> 3) & 7] = this.readE32(modrm);
        else this.reg16[((modrm >> 3) & 7) << 1] = this.readE16(modrm);
        return;
      }
      case 0x8c: { // MOV Ev, Sreg
        const modrm = this.fetch8();
        const sreg = (modrm >> 3) & 7;
        if (sreg > 5) this.undefinedOpcode();
        const v = this.segSel[sreg];
        if (modrm >= 0xc0 && this.o32) r32[modrm & 7] = v;
        else this.storeE16(modrm, v);
        return;
      }
      case 0x8d: { // LEA
        const modrm = this.fetch8();
        if (modrm >= 0xc0) this.undefinedOpcode();
        const off = this.decodeOffset(modrm);
        if (this.o32) r32[(modrm >> 3) & 7] = off;
        else this.reg16[((modrm >> 3) & 7) << 1] = off;
        return;
      }
      case 0x8e: { // MOV Sreg, Ew
        const modrm = this.fetch8();
        const sreg = (modrm >> 3) & 7;
        if (sreg === CS || sreg > 5) this.undefinedOpcode();
        pm.loadSegment(this, sreg, this.readE16(modrm));
        if (sreg === SS) this.irqShadowAt = this.icount + 1;
        return;
      }
      case 0x8f: { // POP Ev (the EA is computed with ESP already incremented)
        const modrm = this.fetch8();
        if (this.o32) {
          const v = this.peek32();
          if (modrm >= 0xc0) {
            this.adjustEsp(4);
            r32[modrm & 7] = v;
          } else {
            const oldEsp = r32[ESP];
            this.adjustEsp(4);
            try {
              this.write32(this.decodeEa(modrm), v);
            } catch (e) {
              r32[ESP] = oldEsp;
              throw e;
            }
          }
        } else {
          const v = this.peek16();
          if (modrm >= 0xc0) {
            this.adjustEsp(2);
            this.reg16[(modrm & 7) << 1] = v;
          } else {
            const oldEsp = r32[ESP];
            this.adjustEsp(2);
            try {
              this.write16(this.decodeEa(modrm), v);
            } catch (e) {
              r32[ESP] = oldEsp;
              throw e;
            }
          }
        }
        return;
      }
      case 0x90: // NOP, and PAUSE (F3 90): a spin-wait hint
        return;
      case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: {
        const r = op & 7;
        if (this.o32) {
          const t = r32[r];
          r32[r] = r32[EAX];
          r32[EAX] = t;
        } else {
          const t = this.reg16[r << 1];
          this.reg16[r << 1] = this.reg16[0];
          this.reg16[0] = t;
        }
        return;
      }
      case 0x98:
        if (this.o32) r32[EAX] = (r32[EAX] << 16) >> 16;
        else this.reg16[0] = (this.reg8[0] << 24) >> 24;
        return;
      case 0x99:
        if (this.o32) r32[EDX] = r32[EAX] >> 31;
        else this.reg16[EDX << 1] = (this.reg16[0] << 16) >> 31;
        return;
      case 0x9a: { // CALL ptr16:16/32
        const off = this.fetchImm();
        const sel = this.fetch16();
        pm.farCall(this, sel, off);
        return;
      }
      case 0x9b: // FWAIT
        if ((this.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) this.raise(EXC_NM);
        this.fpu.wait();
        return;
      case 0x9c: { // PUSHF
        if (this.flagsReg & FLAG_VM && ((this.flagsReg >> 12) & 3) < 3) this.raiseGP(0);
        const f = this.getEflags() & ~(FLAG_VM | FLAG_RF);
        this.pushV(f);
        return;
      }
      case 0x9d: { // POPF
        const v = this.o32 ? this.peek32() : this.peek16();
        this.adjustEsp(this.o32 ? 4 : 2);
        const ifWasClear = !(this.flagsReg & FLAG_IF);
        this.setEflagsChecked(v, this.o32);
        if (ifWasClear && this.flagsReg & FLAG_IF) this.irqShadowAt = this.icount + 1;
        return;
      }
      case 0x9e: // SAHF
        this.setArithFlags(this.reg8[1], FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF);
        return;
      case 0x9f: // LAHF
        this.reg8[1] = (this.getEflags() & 0xd5) | FLAG_FIXED1;
        return;
      case 0xa0: case 0xa1: case 0xa2: case 0xa3: { // MOV AL/eAX <-> moffs
        const off = this.a32 ? this.fetch32() : this.fetch16();
        const lin = this.dataLinear(off);
        if (op === 0xa0) this.reg8[0] = this.read8(lin);
        else if (op === 0xa1) {
          if (this.o32) r32[EAX] = this.read32(lin);
          else this.reg16[0] = this.read16(lin);
        } else if (op === 0xa2) this.write8(lin, this.reg8[0]);
        else if (this.o32) this.write32(lin, r32[EAX]);
        else this.write16(lin, this.reg16[0]);
        return;
      }
      case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab:
      case 0xac: case 0xad: case 0xae: case 0xaf:
        str.stringOp(this, op);
        return;
      case 0xa8: this.setFlagsLogic(this.reg8[0] & this.fetch8(), 7); return;
      case 0xa9:
        if (this.o32) this.setFlagsLogic(r32[EAX] & this.fetch32(), 31);
        else this.setFlagsLogic(this.reg16[0] & this.fetch16(), 15);
        return;
      case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
        this.reg8[REG8[op & 7]] = this.fetch8();
        return;
      case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
        if (this.o32) r32[op & 7] = this.fetch32();
        else this.reg16[(op & 7) << 1] = this.fetch16();
        return;
      case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: { // group 2
        const modrm = this.fetch8();
        const sop = (modrm >> 3) & 7;
        const bits = op & 1 ? (this.o32 ? 32 : 16) : 8;
        const a = bits === 8 ? this.rmwE8(modrm) : bits === 16 ? this.rmwE16(modrm) : this.rmwE32(modrm);
        const count = (op <= 0xc1 ? this.fetch8() : op <= 0xd1 ? 1 : this.reg8[4] /* CL */) & 31;
        if (count === 0) return;
        const res = this.shift(sop, a, count, bits);
        if (bits === 8) this.writeE8(modrm, res);
        else if (bits === 16) this.writeE16(modrm, res);
        else this.writeE32(modrm, res);
        return;
      }
      case 0xc2: { // RET imm16
        const n = this.fetch16();
        const ip = this.o32 ? this.peek32() : this.peek16();
        this.adjustEsp((this.o32 ? 4 : 2) + n);
        this.eip = ip;
        this.branched = true;
        return;
      }
      case 0xc3: {
        const ip = this.o32 ? this.peek32() : this.peek16();
        this.adjustEsp(this.o32 ? 4 : 2);
        this.eip = ip;
        this.branched = true;
        return;
      }
      case 0xc4: case 0xc5: { // LES/LDS
        const modrm = this.fetch8();
        if (modrm >= 0xc0) this.undefinedOpcode();
        pm.loadFarPointer(this, modrm, op === 0xc4 ? ES : DS);
        return;
      }
      case 0xc6: {
        const modrm = this.fetch8();
        if (modrm >= 0xc0) this.reg8[REG8[modrm & 7]] = this.fetch8();
        else this.write8(this.decodeEa(modrm), this.fetch8());
        return;
      }
      case 0xc7: {
        const modrm = this.fetch8();
        if (this.o32) {
          if (modrm >= 0xc0) r32[modrm & 7] = this.fetch32();
          else this.write32(this.decodeEa(modrm), this.fetch32());
        } else if (modrm >= 0xc0) this.reg16[(modrm & 7) << 1] = this.fetch16();
        else this.write16(this.decodeEa(modrm), this.fetch16());
        return;
      }
      case 0xc8: this.enter(this.fetch16(), this.fetch8() & 31); return;
      case 0xc9: this.leave(this.o32); return;
      case 0xca: pm.farReturn(this, this.fetch16()); return;
      case 0xcb: pm.farReturn(this, 0); return;
      case 0xcc: this.softwareInterrupt(EXC_BP); return;
      case 0xcd: this.softwareInterrupt(this.fetch8()); return;
      case 0xce:
        if (this.getOF()) this.softwareInterrupt(EXC_OF);
        return;
      case 0xcf: pm.iret(this); return;
      case 0xd4: { // AAM
        const base = this.fetch8();
        if (base === 0) this.raise(EXC_DE);
        const al = this.reg8[0];
        this.reg8[1] = (al / base) | 0;
        this.reg8[0] = al % base;
        this.setFlagsResultWith(this.reg8[0], 7, 0, 0);
        return;
      }
      case 0xd5: { // AAD
        const base = this.fetch8();
        const al = (this.reg8[0] + this.reg8[1] * base) & 0xff;
        this.reg16[0] = al;
        this.setFlagsResultWith(al, 7, 0, 0);
        return;
      }
      case 0xd6: this.reg8[0] = this.getCF() ? 0xff : 0; return; // SALC
      case 0xd7: { // XLAT
        const off = this.a32 ? (r32[EBX] + this.reg8[0]) | 0 : (this.reg16[EBX << 1] + this.reg8[0]) & 0xffff;
        this.reg8[0] = this.read8(this.dataLinear(off));
        return;
      }
      case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf: {
        if (this.cr0 & (CR0_EM | CR0_TS)) this.raise(EXC_NM);
        const modrm = this.fetch8();
        const lin = modrm < 0xc0 ? this.decodeEa(modrm) : 0;
        this.x87(op, modrm, lin, this.segOvr >= 0 ? this.segOvr : DS, this.o32);
        return;
      }
      case 0xe0: case 0xe1: case 0xe2: { // LOOPNE/LOOPE/LOOP
        const d = this.fetch8s();
        let count: number;
        if (this.a32) count = r32[ECX] = (r32[ECX] - 1) | 0;
        else count = this.reg16[ECX << 1] = (this.reg16[ECX << 1] - 1) & 0xffff;
        if (count !== 0 && (op === 0xe2 || (op === 0xe1 ? this.getZF() : !this.getZF()))) this.jumpRel(d);
        return;
      }
      case 0xe3: { // JCXZ/JECXZ
        const d = this.fetch8s();
        if ((this.a32 ? r32[ECX] : this.reg16[ECX << 1]) === 0) this.jumpRel(d);
        return;
      }
      case 0xe4: { this.checkIo(); const port = this.fetch8(); this.reg8[0] = this.io.read8(port); return; }
      case 0xe5: {
        this.checkIo();
        const port = this.fetch8();
        if (this.o32) r32[EAX] = this.io.read32(port);
        else this.reg16[0] = this.io.read16(port);
        return;
      }
      case 0xe6: { this.checkIo(); const port = this.fetch8(); this.io.write8(port, this.reg8[0]); return; }
      case 0xe7: {
        this.checkIo();
        const port = this.fetch8();
        if (this.o32) this.io.write32(port, r32[EAX]);
        else this.io.write16(port, this.reg16[0]);
        return;
      }
      case 0xe8: { // CALL rel
        const d = this.fetchImm();
        this.pushV(this.eip);
        this.jumpRel(d);
        return;
      }
      case 0xe9: this.jumpRel(this.fetchImm()); return;
      case 0xea: { // JMP ptr16:16/32
        const off = this.fetchImm();
        const sel = this.fetch16();
        pm.farJump(this, sel, off);
        return;
      }
      case 0xeb: this.jumpRel(this.fetch8s()); return;
      case 0xec: this.checkIo(); this.reg8[0] = this.io.read8(this.reg16[EDX << 1]); return;
      case 0xed:
        this.checkIo();
        if (this.o32) r32[EAX] = this.io.read32(this.reg16[EDX << 1]);
        else this.reg16[0] = this.io.read16(this.reg16[EDX << 1]);
        return;
      case 0xee: this.checkIo(); this.io.write8(this.reg16[EDX << 1], this.reg8[0]); return;
      case 0xef:
        this.checkIo();
        if (this.o32) this.io.write32(this.reg16[EDX << 1], r32[EAX]);
        else this.io.write16(this.reg16[EDX << 1], this.reg16[0]);
        return;
      case 0xf1: this.softwareInterrupt(1); return; // INT1/ICEBP
      case 0xf4: // HLT
        if (this.cpl !== 0) this.raiseGP(0);
        this.halted = true;
        if (!(this.flagsReg & FLAG_IF)) this.haltedForever = true;
        return;
      case 0xf5: this.setCF(!this.getCF()); return;
      case 0xf6: this.group3(8, this.fetch8()); return;
      case 0xf7: this.group3(this.o32 ? 32 : 16, this.fetch8()); return;
      case 0xf8: this.setCF(0); return;
      case 0xf9: this.setCF(1); return;
      case 0xfa: // CLI
        if (this.cr0 & CR0_PE && this.cpl > ((this.flagsReg >> 12) & 3)) this.raiseGP(0);
        this.flagsReg &= ~FLAG_IF;
        return;
      case 0xfb: // STI (interrupts recognised after the next instruction)
        if (this.cr0 & CR0_PE && this.cpl > ((this.flagsReg >> 12) & 3)) this.raiseGP(0);
        if (!(this.flagsReg & FLAG_IF)) this.irqShadowAt = this.icount + 1;
        this.flagsReg |= FLAG_IF;
        return;
      case 0xfc: this.flagsReg &= ~FLAG_DF; return;
      case 0xfd: this.flagsReg |= FLAG_DF; return;
      case 0xfe: { // group 4: INC/DEC Eb
        const modrm = this.fetch8();
        const sub = (modrm >> 3) & 7;
        if (sub > 1) this.undefinedOpcode();
        const a = this.rmwE8(modrm);
        const res = (sub === 0 ? a + 1 : a - 1) & 0xff;
        this.writeE8(modrm, res);
        this.setFlagsIncDec(a, res, 7, sub === 1);
        return;
      }
      case 0xff: this.group5(this.fetch8()); return;
      default:
        this.undefinedOpcode();
    }
  }

  private readonly popaScratch = new Int32Array(8);

  /** Group 3: TEST/NOT/NEG/MUL/IMUL/DIV/IDIV (F6/F7). */
  private group3(bits: number, modrm: number): void {
    const sub = (modrm >> 3) & 7;
    const r32 = this.reg32;
    if (bits === 8) {
      switch (sub) {
        case 0: case 1: this.setFlagsLogic(this.readE8(modrm) & this.fetch8(), 7); return;
        case 2: this.writeE8(modrm, ~this.rmwE8(modrm) & 0xff); return;
        case 3: {
          const a = this.rmwE8(modrm);
          const r = -a & 0xff;
          this.writeE8(modrm, r);
          this.setFlagsSub(0, a, r, 7);
          return;
        }
        case 4: {
          const p = this.reg8[0] * this.readE8(modrm);
          this.reg16[0] = p;
          const c = p > 0xff ? 1 : 0;
          this.setFlagsResultWith(p & 0xff, 7, c, c);
          return;
        }
        case 5: {
          const p = ((this.reg8[0] << 24) >> 24) * ((this.readE8(modrm) << 24) >> 24);
          this.reg16[0] = p;
          const c = p !== (p << 24) >> 24 ? 1 : 0;
          this.setFlagsResultWith(p & 0xff, 7, c, c);
          return;
        }
        case 6: {
          const d = this.readE8(modrm);
          const n = this.reg16[0];
          if (d === 0) this.raise(EXC_DE);
          const q = (n / d) >>> 0;
          if (q > 0xff) this.raise(EXC_DE);
          this.reg8[0] = q;
          this.reg8[1] = n % d;
          return;
        }
        default: {
          const d = (this.readE8(modrm) << 24) >> 24;
          const n = (this.reg16[0] << 16) >> 16;
          if (d === 0) this.raise(EXC_DE);
          const q = (n / d) | 0;
          if (q > 127 || q < -128) this.raise(EXC_DE);
          this.reg8[0] = q;
          this.reg8[1] = n % d;
          return;
        }
      }
    }
    if (bits === 16) {
      switch (sub) {
        case 0: case 1: this.setFlagsLogic(this.readE16(modrm) & this.fetch16(), 15); return;
        case 2: this.writeE16(modrm, ~this.rmwE16(modrm) & 0xffff); return;
        case 3: {
          const a = this.rmwE16(modrm);
          const r = -a & 0xffff;
          this.writeE16(modrm, r);
          this.setFlagsSub(0, a, r, 15);
          return;
        }
        case 4: {
          const p = this.reg16[0] * this.readE16(modrm);
          this.reg16[0] = p;
          this.reg16[EDX << 1] = p >>> 16;
          const c = p > 0xffff ? 1 : 0;
          this.setFlagsResultWith(p & 0xffff, 15, c, c);
          return;
        }
        case 5: {
          const p = ((this.reg16[0] << 16) >> 16) * ((this.readE16(modrm) << 16) >> 16);
          this.reg16[0] = p;
          this.reg16[EDX << 1] = p >> 16;
          const c = p !== (p << 16) >> 16 ? 1 : 0;
          this.setFlagsResultWith(p & 0xffff, 15, c, c);
          return;
        }
        case 6: {
          const d = this.readE16(modrm);
          const n = ((this.reg16[EDX << 1] << 16) | this.reg16[0]) >>> 0;
          if (d === 0) this.raise(EXC_DE);
          const q = Math.floor(n / d);
          if (q > 0xffff) this.raise(EXC_DE);
          this.reg16[0] = q;
          this.reg16[EDX << 1] = n % d;
          return;
        }
        default: {
          const d = (this.readE16(modrm) << 16) >> 16;
          const n = (this.reg16[EDX << 1] << 16) | this.reg16[0];
          if (d === 0) this.raise(EXC_DE);
          const q = Math.trunc(n / d);
          if (q > 32767 || q < -32768) this.raise(EXC_DE);
          this.reg16[0] = q;
          this.reg16[EDX << 1] = n % d;
          return;
        }
      }
    }
    switch (sub) {
      case 0: case 1: this.setFlagsLogic(this.readE32(modrm) & this.fetch32(), 31); return;
      case 2: this.writeE32(modrm, ~this.rmwE32(modrm)); return;
      case 3: {
        const a = this.rmwE32(modrm);
        const r = -a | 0;
        this.writeE32(modrm, r);
        this.setFlagsSub(0, a, r, 31);
        return;
      }
      case 4: case 5: {
        const lo = this.mul32(r32[EAX], this.readE32(modrm), sub === 5);
        r32[EAX] = lo;
        r32[EDX] = this.mulHigh;
        const c = (sub === 4 ? this.mulHigh !== 0 : this.mulHigh !== lo >> 31) ? 1 : 0;
        this.setFlagsResultWith(lo, 31, c, c);
        return;
      }
      default:
        this.div32(this.readE32(modrm), sub === 7);
    }
  }

  /** Group 5: INC/DEC/CALL/CALLF/JMP/JMPF/PUSH Ev (FF). */
  private group5(modrm: number): void {
    const sub = (modrm >> 3) & 7;
    switch (sub) {
      case 0: case 1: {
        if (this.o32) {
          const a = this.rmwE32(modrm);
          const res = (sub === 0 ? a + 1 : a - 1) | 0;
          this.writeE32(modrm, res);
          this.setFlagsIncDec(a, res, 31, sub === 1);
        } else {
          const a = this.rmwE16(modrm);
          const res = (sub === 0 ? a + 1 : a - 1) & 0xffff;
          this.writeE16(modrm, res);
          this.setFlagsIncDec(a, res, 15, sub === 1);
        }
        return;
      }
      case 2: { // CALL near indirect
        const target = this.o32 ? this.readE32(modrm) : this.readE16(modrm);
        this.pushV(this.eip);
        this.eip = target;
        this.branched = true;
        return;
      }
      case 3: case 5: { // CALL/JMP far indirect m16:16/32
        if (modrm >= 0xc0) this.undefinedOpcode();
        const lin = this.decodeEa(modrm);
        const off = this.o32 ? this.read32(lin) : this.read16(lin);
        const sel = this.read16((lin + (this.o32 ? 4 : 2)) | 0);
        if (sub === 3) pm.farCall(this, sel, off);
        else pm.farJump(this, sel, off);
        return;
      }
      case 4:
        this.eip = this.o32 ? this.readE32(modrm) : this.readE16(modrm);
        this.branched = true;
        return;
      case 6:
        if (this.o32) this.push32(this.readE32(modrm));
        else this.push16(this.readE16(modrm));
        return;
      default:
        this.undefinedOpcode();
    }
  }

  /** ENTER imm16, imm8 (SDM Vol. 2, ENTER). */
  private enter(size: number, level: number): void {
    const r32 = this.reg32;
    const o32 = this.o32;
    const w = o32 ? 4 : 2;
    // Check the whole frame is writable first (restartable).
    const spNow = this.ss32 ? r32[ESP] : this.reg16[ESP << 1];
    const frameBytes = w * (level + 1) + size;
    const low = this.ss32 ? (spNow - frameBytes) | 0 : (spNow - frameBytes) & 0xffff;
    this.checkWrite((this.segBase[SS] + low) | 0, w * (level + 1));
    const bp = this.ss32 ? r32[EBP] : this.reg16[EBP << 1];
    this.pushV(o32 ? r32[EBP] : this.reg16[EBP << 1]);
    const frameTemp = this.ss32 ? r32[ESP] : this.reg16[ESP << 1];
    if (level > 0) {
      let p = bp;
      for (let i = 1; i < level; i++) {
        p = this.ss32 ? (p - w) | 0 : (p - w) & 0xffff;
        const lin = (this.segBase[SS] + p) | 0;
        this.pushV(o32 ? this.read32(lin) : this.read16(lin));
      }
      this.pushV(frameTemp);
    }
    if (o32) r32[EBP] = frameTemp;
    else this.reg16[EBP << 1] = frameTemp;
    this.adjustEsp(-size);
  }

  // --- BCD adjust (SDM Vol. 2: DAA, DAS, AAA, AAS) ---

  private daa(): void {
    const oldAl = this.reg8[0];
    const oldCf = this.getCF();
    let al = oldAl;
    let cf = 0;
    let af = 0;
    if ((al & 0x0f) > 9 || this.getAF()) {
      al = (al + 6) & 0xff;
      cf = oldCf | (oldAl + 6 > 0xff ? 1 : 0);
      af = 1;
    }
    if (oldAl > 0x99 || oldCf) {
      al = (al + 0x60) & 0xff;
      cf = 1;
    }
    this.reg8[0] = al;
    this.setFlagsResultWith(al, 7, cf, 0, af);
  }

  private das(): void {
    const oldAl = this.reg8[0];
    const oldCf = this.getCF();
    let al = oldAl;
    let cf = 0;
    let af = 0;
    if ((al & 0x0f) > 9 || this.getAF()) {
      al = (al - 6) & 0xff;
      cf = oldCf | (oldAl < 6 ? 1 : 0);
      af = 1;
    }
    if (oldAl > 0x99 || oldCf) {
      al = (al - 0x60) & 0xff;
      cf = 1;
    }
    this.reg8[0] = al;
    this.setFlagsResultWith(al, 7, cf, 0, af);
  }

  private aaa(): void {
    if ((this.reg8[0] & 0x0f) > 9 || this.getAF()) {
      this.reg16[0] = (this.reg16[0] + 0x106) & 0xffff;
      this.reg8[0] &= 0x0f;
      this.setFlagsResultWith(this.reg8[0], 7, 1, 0, 1);
    } else {
      this.reg8[0] &= 0x0f;
      this.setFlagsResultWith(this.reg8[0], 7, 0, 0, 0);
    }
  }

  private aas(): void {
    if ((this.reg8[0] & 0x0f) > 9 || this.getAF()) {
      this.reg16[0] = (this.reg16[0] - 6) & 0xffff;
      this.reg8[1] = (this.reg8[1] - 1) & 0xff;
      this.reg8[0] &= 0x0f;
      this.setFlagsResultWith(this.reg8[0], 7, 1, 0, 1);
    } else {
      this.reg8[0] &= 0x0f;
      this.setFlagsResultWith(this.reg8[0], 7, 0, 0, 0);
    }
  }

  // --- State ---

  saveState(): SavedState {
    return {
      version: 1,
      reg32: Array.from(this.reg32),
      eip: this.eip,
      eflags: this.getEflags(),
      segSel: Array.from(this.segSel),
      segBase: Array.from(this.segBase),
      segLimit: Array.from(this.segLimit),
      segAccess: Array.from(this.segAccess),
      cpl: this.cpl,
      cr0: this.cr0,
      cr2: this.cr2,
      cr3: this.cr3,
      cr4: this.cr4,
      dr: Array.from(this.dr),
      gdt: [this.gdtBase, this.gdtLimit],
      idt: [this.idtBase, this.idtLimit],
      ldt: [this.ldtSel, this.ldtBase, this.ldtLimit],
      tr: [this.trSel, this.trBase, this.trLimit, this.trType],
      halted: this.halted,
      haltedForever: this.haltedForever,
      icount: this.icount,
      sysenter: [this.sysenterCs, this.sysenterEsp, this.sysenterEip],
      miscEnable: this.msrMiscEnable,
      fpu: this.fpu.saveState(),
    };
  }

  loadState(s: SavedState): void {
    const nums = (k: string) => s[k] as number[];
    this.reg32.set(nums('reg32'));
    this.eip = s.eip as number;
    this.setEflags(s.eflags as number);
    this.segSel.set(nums('segSel'));
    this.segBase.set(nums('segBase'));
    this.segLimit.set(nums('segLimit'));
    this.segAccess.set(nums('segAccess'));
    this.csBase = this.segBase[CS];
    this.cs32 = (this.segAccess[CS] & 0x4000) !== 0;
    this.ss32 = (this.segAccess[SS] & 0x4000) !== 0;
    this.cr0 = s.cr0 as number;
    this.cr2 = s.cr2 as number;
    this.cr3 = s.cr3 as number;
    this.cr4 = s.cr4 as number;
    this.dr.set(nums('dr'));
    [this.gdtBase, this.gdtLimit] = nums('gdt');
    [this.idtBase, this.idtLimit] = nums('idt');
    [this.ldtSel, this.ldtBase, this.ldtLimit] = nums('ldt');
    [this.trSel, this.trBase, this.trLimit, this.trType] = nums('tr');
    this.halted = s.halted as boolean;
    this.haltedForever = s.haltedForever as boolean;
    this.icount = s.icount as number;
    [this.sysenterCs, this.sysenterEsp, this.sysenterEip] = (s.sysenter as number[] | undefined) ?? [0, 0, 0];
    this.msrMiscEnable = (s.miscEnable as number | undefined) ?? 0;
    this.fpu.loadState(s.fpu as SavedState);
    this.setCpl(s.cpl as number);
    this.flushTlbAll();
  }
}

