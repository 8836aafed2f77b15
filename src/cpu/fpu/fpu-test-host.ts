/**
 * A small in-memory FpuHost for the FPU's own tests, and a runner that feeds x87 machine code
 * (as produced by nasm for the reference cases) to Fpu.execute the way the CPU would.
 */
import type { Fpu } from './fpu';
import type { FpuHost } from './fpu-host';

/** Thrown by TestHost.raiseException. */
export class CpuFault extends Error {
  constructor(readonly vector: number) {
    super(`CPU exception ${vector}`);
  }
}

/** Thrown by TestHost.reportFpuError when `mfOnError` is set (like #MF with CR0.NE=1). */
export class MathFault extends Error {
  constructor() {
    super('#MF');
  }
}

/** Thrown by a memory access outside the mapped window (like #PF). */
export class PageFault extends Error {
  constructor(readonly linear: number) {
    super(`#PF at ${linear.toString(16)}`);
  }
}

export class TestHost implements FpuHost {
  readonly mem: Uint8Array;
  ax = 0;
  eflags = 0x202;
  errorsReported = 0;
  /** With CR0.NE=1 semantics: reportFpuError throws MathFault. Otherwise it only counts (FERR#). */
  mfOnError = true;
  writes = 0;

  constructor(readonly base: number, size: number) {
    this.mem = new Uint8Array(size);
  }

  private at(linear: number, n: number): number {
    const i = linear - this.base;
    if (i < 0 || i + n > this.mem.length) throw new PageFault(linear);
    return i;
  }

  read8(linear: number): number {
    return this.mem[this.at(linear, 1)];
  }
  read16(linear: number): number {
    const i = this.at(linear, 2);
    return this.mem[i] | (this.mem[i + 1] << 8);
  }
  read32(linear: number): number {
    const i = this.at(linear, 4);
    return this.mem[i] | (this.mem[i + 1] << 8) | (this.mem[i + 2] << 16) | (this.mem[i + 3] << 24);
  }
  write8(linear: number, value: number): void {
    this.mem[this.at(linear, 1)] = value;
    this.writes++;
  }
  write16(linear: number, value: number): void {
    const i = this.at(linear, 2);
    this.mem[i] = value;
    this.mem[i + 1] = value >> 8;
    this.writes++;
  }
  write32(linear: number, value: number): void {
    const i = this.at(linear, 4);
    this.mem[i] = value;
    this.mem[i + 1] = value >> 8;
    this.mem[i + 2] = value >> 16;
    this.mem[i + 3] = value >>> 24;
    this.writes++;
  }
  checkWrite(linear: number, length: number): void {
    this.at(linear, length);
  }
  setAX(value: number): void {
    this.ax = value & 0xffff;
  }
  setCompareFlags(zf: boolean, pf: boolean, cf: boolean): void {
    this.eflags = (this.eflags & ~0x8d5) | (zf ? 0x40 : 0) | (pf ? 0x04 : 0) | (cf ? 0x01 : 0);
  }
  testCondition(cc: number): boolean {
    const f = this.eflags;
    const cf = (f & 1) !== 0;
    const zf = (f & 0x40) !== 0;
    const pf = (f & 4) !== 0;
    let r: boolean;
    switch (cc >> 1) {
      case 1:
        r = cf;
        break;
      case 2:
        r = zf;
        break;
      case 3:
        r = cf || zf;
        break;
      case 5:
        r = pf;
        break;
      default:
        throw new Error(`unexpected FCMOV condition ${cc}`);
    }
    return cc & 1 ? !r : r;
  }
  raiseException(vector: number): never {
    throw new CpuFault(vector);
  }
  reportFpuError(): void {
    this.errorsReported++;
    if (this.mfOnError) throw new MathFault();
  }
}

/**
 * Runs x87 code (prefix 0x66, FWAIT 0x9B, D8..DF with register or absolute [disp32] operands, RET)
 * starting at `addr`, setting FIP/FCS/FDP/FDS like a 64-bit Linux process would see them natively
 * (CS 0x33, DS 0). Returns the offset of the instruction that raised #MF, or -1.
 */
export function runCode(fpu: Fpu, code: Uint8Array, addr: number): number {
  let i = 0;
  for (;;) {
    const start = i;
    let o32 = true;
    let b = code[i++];
    if (b === 0x66) {
      o32 = false;
      b = code[i++];
    }
    if (b === 0xc3) return -1;
    try {
      if (b === 0x9b) {
        fpu.wait();
        continue;
      }
      if (b < 0xd8 || b > 0xdf) throw new Error(`unexpected opcode ${b.toString(16)} at ${start}`);
      const modrm = code[i++];
      let linear = 0;
      if (modrm < 0xc0) {
        const mod = modrm >> 6;
        const rm = modrm & 7;
        if (mod === 0 && rm === 4 && code[i] === 0x25) i++;
        else if (!(mod === 0 && rm === 5)) throw new Error(`unsupported addressing ${modrm.toString(16)}`);
        linear = (code[i] | (code[i + 1] << 8) | (code[i + 2] << 16) | (code[i + 3] << 24)) >>> 0;
        i += 4;
        fpu.fdp = linear;
        fpu.fds = 0;
      }
      fpu.fip = addr + start;
      fpu.fcs = 0x33;
      fpu.execute(b - 0xd8, modrm, linear, o32);
    } catch (e) {
      if (e instanceof MathFault) return start;
      throw e;
    }
  }
}

export function hexBytes(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
