/**
 * Shared pieces of the case generator: the case description, the register/memory builder and
 * operand value pools.
 */
import { Rng } from './prng';

/** Data area: mapped at this fixed address by the recorder and written there by the replay. */
export const AREA = 0x00200000;
export const AREA_SIZE = 0x1000;
/** Memory operands live in [AREA+MEM_LO, AREA+MEM_HI); the test stack in [STACK_LO, STACK_HI). */
export const MEM_LO = 0x100;
export const MEM_HI = 0xc00;
export const STACK_LO = 0xd00;
export const STACK_HI = 0xf00;

export type Size = 8 | 16 | 32;

/** One case as the generator describes it (the recorder adds the results). */
export interface CaseSpec {
  group: string;
  /** Human-readable instruction text shown in mismatch reports. */
  text: string;
  /** GNU as lines (.intel_syntax noprefix, .code32) executed natively. */
  asm: string[];
  /**
   * Lines assembled but not executed: their bytes are what the replay runs instead of `asm`'s.
   * Only for encodings that mean something else in 64-bit mode (see README, "Alias cases").
   */
  alias?: string[];
  regs: number[];
  flags: number;
  seed: number;
  /** Initial data-area bytes written over the seeded fill: [offset, bytes]. */
  patches: [number, number[]][];
  /** EFLAGS bits the SDM leaves undefined for this case (see flag-masks.ts). */
  undefFlags: number;
  /** Per-register compare masks (EAX..EDI); omitted = compare all 32 bits. */
  regMask?: number[];
  /** Data-area bytes compared under a mask: [offset, mask]. */
  memMask?: [number, number][];
  /** Data-area offsets of m64 results compared within 1 ulp (x87 transcendentals). */
  ulp?: number[];
}

export const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
export const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'] as const;
export const R8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'] as const;
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

export function regName(size: Size, r: number): string {
  return size === 32 ? R32[r] : size === 16 ? R16[r] : R8[r];
}

/** The 32-bit register holding sized register `r`. */
export function fullReg(size: Size, r: number): number {
  return size === 8 ? r & 3 : r;
}

export function ptr(size: Size | 64 | 80): string {
  switch (size) {
    case 8: return 'byte ptr';
    case 16: return 'word ptr';
    case 32: return 'dword ptr';
    case 64: return 'qword ptr';
    case 80: return 'tbyte ptr';
  }
}

export function mask(size: Size): number {
  return size === 32 ? 0xffffffff : (1 << size) - 1;
}

export function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}

/** Signed displacement text: "+0x10" / "-0x10" / "". */
function dispText(d: number): string {
  if (d === 0) return '';
  return d < 0 ? `-0x${(-d).toString(16)}` : `+0x${d.toString(16)}`;
}

export function bytesLine(bytes: number[]): string {
  return '.byte ' + bytes.map((b) => '0x' + (b & 0xff).toString(16)).join(', ');
}

export function le(value: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.floor(value / 2 ** (8 * i)) & 0xff);
  return out;
}

const EDGES: Record<Size, number[]> = {
  8: [0, 1, 2, 0x0f, 0x10, 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff],
  16: [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7ffe, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff],
  32: [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff],
};

/** The brief's edge operands per size. */
export const EDGE_VALUES: Readonly<Record<Size, readonly number[]>> = {
  8: [0, 1, 0x7f, 0x80, 0xff],
  16: [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff],
  32: [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff],
};

export interface MemOperand {
  /** e.g. "dword ptr [ebx+esi*4+0x10]" */
  text: string;
  /** Offset of the operand in the data area. */
  off: number;
}

export interface MemOptions {
  /** Exact data-area offset of the operand. */
  off?: number;
  /** Operand width in bytes used to keep it inside the memory window (default size/8). */
  width?: number;
  /** Width of the operand keyword (default = size). */
  ptrSize?: Size | 64 | 80;
  /** Forms allowed (default all). */
  forms?: MemForm[];
}

export type MemForm = 'base' | 'disp8' | 'disp32' | 'sib' | 'sibdisp' | 'nobase' | 'esp' | 'ebp';

const ALL_FORMS: MemForm[] = ['base', 'disp8', 'disp32', 'sib', 'sibdisp', 'nobase', 'esp', 'ebp'];

/** Builds one case: initial registers, flags, data-area patches. */
export class Builder {
  readonly regs: number[] = [];
  flags: number;
  readonly seed: number;
  readonly patches: [number, number[]][] = [];
  /** 32-bit registers whose values the case has fixed (ESP is always fixed). */
  readonly fixed = new Set<number>();

  constructor(readonly rng: Rng) {
    for (let i = 0; i < 8; i++) this.regs.push(randomValue(rng, 32));
    this.regs[ESP] = AREA + STACK_LO + rng.int((STACK_HI - STACK_LO) / 4) * 4;
    this.fixed.add(ESP);
    this.flags = randomStatusFlags(rng);
    this.seed = rng.u32() || 1;
  }

  /** Set a sized register; the rest of its 32-bit register keeps its random bits. */
  setReg(size: Size, r: number, v: number): void {
    const full = fullReg(size, r);
    const old = this.regs[full];
    if (size === 32) this.regs[full] = v >>> 0;
    else if (size === 16) this.regs[full] = ((old & 0xffff0000) | (v & 0xffff)) >>> 0;
    else if (r < 4) this.regs[full] = ((old & 0xffffff00) | (v & 0xff)) >>> 0;
    else this.regs[full] = ((old & 0xffff00ff) | ((v & 0xff) << 8)) >>> 0;
    this.fixed.add(full);
  }

  getReg(size: Size, r: number): number {
    const v = this.regs[fullReg(size, r)];
    if (size === 32) return v >>> 0;
    if (size === 16) return v & 0xffff;
    return r < 4 ? v & 0xff : (v >>> 8) & 0xff;
  }

  /** A register (sized) whose 32-bit register is not fixed yet, excluding `exclude` (32-bit indices). */
  freeReg(size: Size, exclude: number[] = []): number {
    const cands: number[] = [];
    for (let r = 0; r < 8; r++) {
      const full = fullReg(size, r);
      if (full === ESP || this.fixed.has(full) || exclude.includes(full)) continue;
      cands.push(r);
    }
    if (cands.length === 0) throw new Error('no free register');
    return this.rng.pick(cands);
  }

  patch(off: number, bytes: number[]): void {
    this.patches.push([off, bytes]);
  }

  patchValue(off: number, value: number, nbytes: number): void {
    this.patch(off, le(value >>> 0, nbytes));
  }

  /** A random operand offset in the memory window. */
  randomOff(width: number): number {
    return MEM_LO + this.rng.int(MEM_HI - MEM_LO - width);
  }

  /**
   * A memory operand of `size` at a (random or given) data-area offset, through a random
   * addressing form; the address registers it uses become fixed.
   */
  mem(size: Size | 64 | 80, opts: MemOptions = {}): MemOperand {
    const rng = this.rng;
    const width = opts.width ?? size / 8;
    const off = opts.off ?? this.randomOff(width);
    const addr = AREA + off;
    const p = ptr(opts.ptrSize ?? size);
    const forms = (opts.forms ?? ALL_FORMS).filter((f) => this.canUse(f));
    const form = forms.length ? rng.pick(forms) : 'nobase';
    const take = (): number => {
      const r = this.freeReg(32);
      this.fixed.add(r);
      return r;
    };
    switch (form) {
      case 'base': {
        const b = !this.fixed.has(EBP) && rng.bool(0.2) ? this.takeSpecific(EBP) : take();
        this.regs[b] = addr;
        return { text: `${p} [${R32[b]}]`, off };
      }
      case 'disp8': {
        const b = take();
        const d = rng.range(-128, 127);
        this.regs[b] = addr - d;
        return { text: `${p} [${R32[b]}${dispText(d)}]`, off };
      }
      case 'disp32': {
        const b = take();
        const d = rng.bool() ? rng.range(0x80, 0x1fffff) : -rng.range(0x81, 0x100000);
        this.regs[b] = addr - d;
        return { text: `${p} [${R32[b]}${dispText(d)}]`, off };
      }
      case 'ebp': {
        const b = this.takeSpecific(EBP);
        const d = rng.bool() ? rng.range(-128, 127) : rng.range(-0x10000, 0x10000);
        this.regs[b] = addr - d;
        return { text: `${p} [ebp${dispText(d)}]`, off };
      }
      case 'sib':
      case 'sibdisp': {
        const b = take();
        const i = take();
        const scale = rng.pick([1, 2, 4, 8]);
        const iv = rng.int(0x80);
        const d = form === 'sib' ? 0 : rng.bool() ? rng.range(-128, 127) : rng.range(-0x8000, 0x8000);
        this.regs[i] = iv;
        this.regs[b] = addr - iv * scale - d;
        return { text: `${p} [${R32[b]}+${R32[i]}*${scale}${dispText(d)}]`, off };
      }
      case 'nobase': {
        const i = take();
        const scale = rng.pick([1, 2, 4, 8]);
        const iv = rng.int(0x100);
        const d = addr - iv * scale;
        this.regs[i] = iv;
        return { text: `${p} [${R32[i]}*${scale}${dispText(d)}]`, off };
      }
      case 'esp': {
        const d = addr - this.regs[ESP];
        if (rng.bool(0.3) && this.canUse('sib')) {
          const i = take();
          const scale = rng.pick([1, 2, 4, 8]);
          const iv = rng.int(0x10);
          this.regs[i] = iv >>> 0;
          return { text: `${p} [esp+${R32[i]}*${scale}${dispText(d - iv * scale)}]`, off };
        }
        return { text: `${p} [esp${dispText(d)}]`, off };
      }
    }
  }

  private takeSpecific(r: number): number {
    this.fixed.add(r);
    return r;
  }

  private canUse(form: MemForm): boolean {
    let free = 0;
    for (let r = 0; r < 8; r++) if (!this.fixed.has(r)) free++;
    switch (form) {
      case 'sib':
      case 'sibdisp':
        return free >= 2;
      case 'ebp':
        return !this.fixed.has(EBP);
      case 'esp':
        return true;
      default:
        return free >= 1;
    }
  }

  done(group: string, asm: string[], opts: Partial<CaseSpec> = {}): CaseSpec {
    return {
      group,
      text: opts.text ?? asm.filter((l) => !/^\d+:$/.test(l)).join('; '),
      asm,
      regs: this.regs.map((v) => v >>> 0),
      flags: this.flags >>> 0,
      seed: this.seed,
      patches: this.patches,
      undefFlags: 0,
      ...opts,
    };
  }
}

/** Random status flags (CF PF AF ZF SF OF) plus the always-one bit 1. */
export function randomStatusFlags(rng: Rng): number {
  const r = rng.int(10);
  if (r === 0) return 0x2;
  if (r === 1) return 0x8d7;
  return (rng.u32() & 0x8d5) | 0x2;
}

/** A random operand of `size`: edge values, small numbers, and uniform ones. */
export function randomValue(rng: Rng, size: Size): number {
  const r = rng.int(100);
  if (r < 30) return rng.pick(EDGES[size]);
  if (r < 40) return rng.int(32);
  if (r < 45) return (mask(size) - rng.int(32)) >>> 0;
  if (r < 52) return (1 << rng.int(size)) >>> 0;
  return (rng.u32() & mask(size)) >>> 0;
}

/** Random bits above a `size` value, as a 32-bit register would hold it. */
export function withJunk(rng: Rng, size: Size, v: number): number {
  return size === 32 ? v >>> 0 : ((rng.u32() & ~mask(size)) | (v & mask(size))) >>> 0;
}

export function signExtend(v: number, size: Size): number {
  const s = 32 - size;
  return ((v << s) >> s);
}
