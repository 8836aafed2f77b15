/**
 * String instructions: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS with REP/REPE/REPNE, both DF
 * directions and 16/32-bit address sizes (SDM Vol. 2, "REP/REPE/REPZ/REPNE/REPNZ").
 *
 * Registers are updated after every element, so a fault in the middle leaves ECX/ESI/EDI
 * describing exactly the elements still to do and the instruction restarts where it stopped.
 * A long REP is split into chunks (EIP is rewound so the instruction continues in the next
 * chunk) so interrupts are not held off.
 *
 * Fast paths: REP STOS and REP MOVS with DF=0 and 32-bit addressing work a page at a time with
 * TypedArray.fill / copyWithin on the backing memory, found through the TLB.
 */
import type { Cpu } from './cpu';
import { DS, EAX, ECX, EDI, EDX, ES, ESI, FLAG_DF } from './registers';

/** Elements processed by one execution of a REP instruction before EIP is rewound. */
const REP_CHUNK = 1 << 16;

function getIndex(cpu: Cpu, reg: number): number {
  return cpu.a32 ? cpu.reg32[reg] : cpu.reg16[reg << 1];
}

function setIndex(cpu: Cpu, reg: number, v: number): void {
  if (cpu.a32) cpu.reg32[reg] = v;
  else cpu.reg16[reg << 1] = v;
}

function readSized(cpu: Cpu, lin: number, size: number): number {
  return size === 1 ? cpu.read8(lin) : size === 2 ? cpu.read16(lin) : cpu.read32(lin);
}

function writeSized(cpu: Cpu, lin: number, size: number, v: number): void {
  if (size === 1) cpu.write8(lin, v);
  else if (size === 2) cpu.write16(lin, v);
  else cpu.write32(lin, v);
}

function accumulator(cpu: Cpu, size: number): number {
  return size === 1 ? cpu.reg8[0] : size === 2 ? cpu.reg16[0] : cpu.reg32[EAX];
}

export function stringOp(cpu: Cpu, op: number): void {
  const size = op & 1 ? (cpu.o32 ? 4 : 2) : 1;
  const step = cpu.flagsReg & FLAG_DF ? -size : size;
  const srcBase = cpu.segBase[cpu.segOvr >= 0 ? cpu.segOvr : DS];
  const dstBase = cpu.segBase[ES];
  const kind = op & 0xfe;
  const sign = size * 8 - 1;
  const addrMask = cpu.a32 ? -1 : 0xffff;

  if (cpu.rep === 0) {
    stringOnce(cpu, kind, size, step, srcBase, dstBase, sign, addrMask);
    return;
  }
  let count = getIndex(cpu, ECX);
  if (count === 0) return;
  if (cpu.a32 && step > 0) {
    if (kind === 0xaa) {
      fastStos(cpu, size);
      count = cpu.reg32[ECX];
    } else if (kind === 0xa4) {
      fastMovs(cpu, size, srcBase, dstBase);
      count = cpu.reg32[ECX];
    }
    if (count === 0) return;
  }
  const conditional = kind === 0xa6 || kind === 0xae;
  let budget = REP_CHUNK;
  while (count !== 0) {
    stringOnce(cpu, kind, size, step, srcBase, dstBase, sign, addrMask);
    count = cpu.a32 ? (count - 1) | 0 : (count - 1) & 0xffff;
    setIndex(cpu, ECX, count);
    if (conditional) {
      const zf = cpu.getZF();
      if (cpu.rep === 1 ? zf === 0 : zf === 1) return;
    }
    if (--budget === 0 && count !== 0) {
      cpu.eip = cpu.instrStart; // continue in the next chunk
      return;
    }
  }
}

function stringOnce(
  cpu: Cpu, kind: number, size: number, step: number, srcBase: number, dstBase: number, sign: number, mask: number,
): void {
  switch (kind) {
    case 0xa4: { // MOVS
      const si = getIndex(cpu, ESI), di = getIndex(cpu, EDI);
      const v = readSized(cpu, (srcBase + si) | 0, size);
      writeSized(cpu, (dstBase + di) | 0, size, v);
      setIndex(cpu, ESI, (si + step) & mask);
      setIndex(cpu, EDI, (di + step) & mask);
      return;
    }
    case 0xa6: { // CMPS
      const si = getIndex(cpu, ESI), di = getIndex(cpu, EDI);
      const a = readSized(cpu, (srcBase + si) | 0, size);
      const b = readSized(cpu, (dstBase + di) | 0, size);
      cpu.alu(7, a, b, sign);
      setIndex(cpu, ESI, (si + step) & mask);
      setIndex(cpu, EDI, (di + step) & mask);
      return;
    }
    case 0xaa: { // STOS
      const di = getIndex(cpu, EDI);
      writeSized(cpu, (dstBase + di) | 0, size, accumulator(cpu, size));
      setIndex(cpu, EDI, (di + step) & mask);
      return;
    }
    case 0xac: { // LODS
      const si = getIndex(cpu, ESI);
      const v = readSized(cpu, (srcBase + si) | 0, size);
      if (size === 1) cpu.reg8[0] = v;
      else if (size === 2) cpu.reg16[0] = v;
      else cpu.reg32[EAX] = v;
      setIndex(cpu, ESI, (si + step) & mask);
      return;
    }
    default: { // SCAS
      const di = getIndex(cpu, EDI);
      const b = readSized(cpu, (dstBase + di) | 0, size);
      cpu.alu(7, accumulator(cpu, size), b, sign);
      setIndex(cpu, EDI, (di + step) & mask);
    }
  }
}

/** REP STOS, DF=0, 32-bit addressing: whole in-page runs at once. */
function fastStos(cpu: Cpu, size: number): void {
  const r32 = cpu.reg32;
  const dstBase = cpu.segBase[ES];
  const value = accumulator(cpu, size);
  let rounds = 256;
  while (r32[ECX] !== 0 && rounds-- > 0) {
    const count = r32[ECX] >>> 0;
    const lin = (dstBase + r32[EDI]) | 0;
    const e = cpu.tlbW[lin >>> 12];
    const off = lin & 0xfff;
    const n = Math.min(count, Math.floor((0x1000 - off) / size));
    if (!e || n === 0 || (off & (size - 1)) !== 0) return; // let the generic loop fault/fill/cross
    const a = (e ^ 1) + off;
    if (size === 1) cpu.u8.fill(value, a, a + n);
    else if (size === 2) cpu.u16.fill(value, a >> 1, (a >> 1) + n);
    else cpu.i32.fill(value, a >> 2, (a >> 2) + n);
    r32[EDI] = (r32[EDI] + n * size) | 0;
    r32[ECX] = (count - n) | 0;
  }
}

/** REP MOVS, DF=0, 32-bit addressing: whole in-page runs at once (when not overlapping). */
function fastMovs(cpu: Cpu, size: number, srcBase: number, dstBase: number): void {
  const r32 = cpu.reg32;
  let rounds = 256;
  while (r32[ECX] !== 0 && rounds-- > 0) {
    const count = r32[ECX] >>> 0;
    const src = (srcBase + r32[ESI]) | 0;
    const dst = (dstBase + r32[EDI]) | 0;
    const es = cpu.tlbR[src >>> 12];
    const ed = cpu.tlbW[dst >>> 12];
    if (!es || !ed) return;
    const so = src & 0xfff, dO = dst & 0xfff;
    const n = Math.min(count, Math.floor((0x1000 - so) / size), Math.floor((0x1000 - dO) / size));
    if (n === 0) return;
    const sa = (es ^ 1) + so, da = (ed ^ 1) + dO;
    const bytes = n * size;
    if (da > sa && da < sa + bytes) return; // forward overlap replicates: keep element order
    cpu.u8.copyWithin(da, sa, sa + bytes);
    r32[ESI] = (r32[ESI] + bytes) | 0;
    r32[EDI] = (r32[EDI] + bytes) | 0;
    r32[ECX] = (count - n) | 0;
  }
}

/** INS/OUTS (6C-6F) with optional REP. */
export function ioString(cpu: Cpu, op: number): void {
  const size = op & 1 ? (cpu.o32 ? 4 : 2) : 1;
  const step = cpu.flagsReg & FLAG_DF ? -size : size;
  const mask = cpu.a32 ? -1 : 0xffff;
  const port = cpu.reg16[EDX << 1];
  const isIn = op < 0x6e;
  const once = () => {
    if (isIn) {
      const di = getIndex(cpu, EDI);
      const lin = (cpu.segBase[ES] + di) | 0;
      cpu.checkWrite(lin, size);
      const v = size === 1 ? cpu.io.read8(port) : size === 2 ? cpu.io.read16(port) : cpu.io.read32(port);
      writeSized(cpu, lin, size, v);
      setIndex(cpu, EDI, (di + step) & mask);
    } else {
      const si = getIndex(cpu, ESI);
      const v = readSized(cpu, (cpu.segBase[cpu.segOvr >= 0 ? cpu.segOvr : DS] + si) | 0, size);
      if (size === 1) cpu.io.write8(port, v);
      else if (size === 2) cpu.io.write16(port, v);
      else cpu.io.write32(port, v);
      setIndex(cpu, ESI, (si + step) & mask);
    }
  };
  if (cpu.rep === 0) {
    once();
    return;
  }
  let count = getIndex(cpu, ECX);
  let budget = REP_CHUNK;
  while (count !== 0) {
    once();
    count = cpu.a32 ? (count - 1) | 0 : (count - 1) & 0xffff;
    setIndex(cpu, ECX, count);
    if (--budget === 0 && count !== 0) {
      cpu.eip = cpu.instrStart;
      return;
    }
  }
}
