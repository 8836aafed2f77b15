/**
 * The block compiler against the interpreter on whole programs: branchy code whose blocks hold
 * several regions of a page (Jcc targets compiled into the same function), loops, calls, an
 * inlined get_pc_thunk, CLI/STI.
 * Compiled and interpreted runs must end in the same registers, flags, memory and instruction
 * count. (Single instructions are checked against real hardware by reference/differential.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { IoBus } from '../io/io-bus';
import { PhysMemory } from '../memory/phys-memory';
import { Cpu } from './cpu';
import { EBX, ECX, EDI, ESI, ESP } from './registers';

const CODE = 0x1000;
const DATA = 0x8000;
const STACK = 0x7000;

/** A tiny assembler: bytes, with rel8/rel32 fields patched once labels are known. */
class Asm {
  bytes: number[] = [];
  labels = new Map<string, number>();
  fixups: { at: number; label: string; size: 1 | 4 }[] = [];
  emit(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  label(name: string): this {
    this.labels.set(name, this.bytes.length);
    return this;
  }
  /** An instruction ending in a relative displacement to `label`. */
  rel(opcode: number[], label: string, size: 1 | 4): this {
    this.emit(...opcode);
    this.fixups.push({ at: this.bytes.length, label, size });
    return this.emit(...new Array<number>(size).fill(0));
  }
  build(): Uint8Array {
    for (const f of this.fixups) {
      const d = this.labels.get(f.label)! - (f.at + f.size);
      for (let i = 0; i < f.size; i++) this.bytes[f.at + i] = (d >> (8 * i)) & 0xff;
    }
    return new Uint8Array(this.bytes);
  }
}

/** Four kinds of iteration chosen by ECX & 3, each a different path through one page. */
function program(): Uint8Array {
  const a = new Asm();
  a.label('loop')
    .emit(0x89, 0xc8) // mov eax, ecx
    .emit(0x83, 0xe0, 0x03) // and eax, 3
    .rel([0x74], 'case0', 1) // jz case0
    .emit(0x83, 0xf8, 0x02) // cmp eax, 2
    .rel([0x74], 'case2', 1) // je case2
    .rel([0x0f, 0x82], 'case1', 4) // jb case1
    .emit(0xc1, 0xce, 0x07) // ror esi, 7
    .emit(0x0f, 0xc1, 0xf3) // xadd ebx, esi
    .rel([0xeb], 'join', 1) // jmp join
    .label('case1')
    .rel([0xe8], 'thunk', 4) // call thunk: edx = this address (position-independent code)
    .emit(0x01, 0xd6) // add esi, edx
    .emit(0x01, 0xce) // add esi, ecx
    .rel([0xeb], 'join', 1) // jmp join
    .label('case0')
    .emit(0xfa) // cli
    .emit(0x81, 0xf6, 0xaa, 0x55, 0x00, 0x00) // xor esi, 0x55aa
    .emit(0xfb) // sti
    .rel([0xeb], 'join', 1) // jmp join
    .label('case2')
    .rel([0xe8], 'sub', 4) // call sub
    .label('join')
    .emit(0x89, 0x37) // mov [edi], esi
    .emit(0x83, 0xc7, 0x04) // add edi, 4
    .emit(0x81, 0xe7, 0xfc, 0x8f, 0x00, 0x00) // and edi, 0x8ffc
    .emit(0x49) // dec ecx
    .rel([0x0f, 0x85], 'loop', 4) // jnz loop
    .emit(0xf4) // hlt
    .label('thunk')
    .emit(0x8b, 0x14, 0x24) // mov edx, [esp]
    .emit(0xc3) // ret
    .label('sub')
    .emit(0x8d, 0x74, 0x36, 0x01) // lea esi, [esi + esi + 1]
    .emit(0x0f, 0xce) // bswap esi
    .emit(0xc3); // ret
  return a.build();
}

/** A CPU in flat 32-bit protected mode over 1 MiB of RAM, about to run `code` at CODE, ESP = STACK. */
function flatCpu(jitThreshold: number, code: Uint8Array): { cpu: Cpu; mem: PhysMemory } {
  const mem = new PhysMemory({ ramBytes: 1 << 20 });
  const cpu = new Cpu(mem, new IoBus());
  cpu.enterFlatProtectedMode(0x800);
  cpu.jitThreshold = jitThreshold;
  mem.writeBytes(CODE, code);
  cpu.eip = CODE;
  cpu.reg32[ESP] = STACK;
  return { cpu, mem };
}

/** Runs until HLT (at most 10 M instructions). */
function runToHalt(cpu: Cpu): void {
  for (let i = 0; i < 100 && !cpu.halted; i++) cpu.run(100_000);
}

function run(jitThreshold: number): { cpu: Cpu; mem: PhysMemory } {
  const { cpu, mem } = flatCpu(jitThreshold, program());
  cpu.reg32[ECX] = 5000;
  cpu.reg32[ESI] = 0x12345678;
  cpu.reg32[EDI] = DATA;
  runToHalt(cpu);
  return { cpu, mem };
}

describe('compiled blocks on a whole program', () => {
  it('end in the same state as the interpreter, instruction count included', () => {
    const ref = run(Infinity);
    const jit = run(2);
    expect(ref.cpu.halted).toBe(true);
    expect(jit.cpu.halted).toBe(true);
    expect(jit.cpu.blocks.compiled).toBeGreaterThan(0);
    expect(ref.cpu.blocks.compiled).toBe(0);
    expect(Array.from(jit.cpu.reg32)).toEqual(Array.from(ref.cpu.reg32));
    expect(jit.cpu.getEflags()).toBe(ref.cpu.getEflags());
    expect(jit.cpu.eip).toBe(ref.cpu.eip);
    expect(jit.cpu.icount).toBe(ref.cpu.icount);
    expect(Buffer.from(jit.mem.readBytes(DATA, 0x1000)).equals(Buffer.from(ref.mem.readBytes(DATA, 0x1000)))).toBe(true);
    // the program really ran: 5000 iterations of 9 to 13 instructions
    expect(ref.cpu.icount).toBeGreaterThan(45_000);
  });
});

/**
 * REP MOVSD from a compiled block, with a destination running into a not-present page: registers
 * live in the block's locals, the string instruction runs in a helper that updates the CPU's own
 * registers element by element, and the fault must leave the progress made (ECX/ESI/EDI after
 * the elements copied) and the flags of the instructions before it, as the interpreter does.
 */
function runToFault(
  jitThreshold: number, code: Uint8Array, init: Record<number, number>,
): { regs: number[]; eflags: number; eip: number; compiled: number } {
  const { cpu, mem } = flatCpu(jitThreshold, code);
  const PD = 0x2000, PT = 0x3000, HOLE = 0x9000;
  mem.write32(PD, PT | 3);
  for (let i = 0; i < 256; i++) mem.write32(PT + i * 4, i === HOLE >>> 12 ? 0 : (i << 12) | 3);
  cpu.cr3 = PD;
  cpu.cr0 |= 1 << 31;
  cpu.flushTlb();
  for (const [reg, v] of Object.entries(init)) cpu.reg32[Number(reg)] = v;
  class Faulted extends Error {}
  let state: { regs: number[]; eflags: number; eip: number } | null = null;
  cpu.onException = (vector) => {
    expect(vector).toBe(14);
    state = { regs: Array.from(cpu.reg32), eflags: cpu.getEflags(), eip: cpu.eip };
    throw new Faulted();
  };
  expect(() => cpu.run(100_000)).toThrow(Faulted);
  return { ...state!, compiled: cpu.blocks.compiled };
}

describe('a fault inside a helper called from a compiled block', () => {
  it('keeps the progress of REP MOVSD and the flags, as the interpreter does', () => {
    const code = new Asm()
      .label('loop')
      .emit(0xbf, ...[0xe0, 0x8f, 0x00, 0x00]) // mov edi, 0x8fe0 (8 dwords below the hole)
      .emit(0xbe, ...[0x00, 0x60, 0x00, 0x00]) // mov esi, 0x6000
      .emit(0x89, 0xd9) // mov ecx, ebx
      .emit(0xf3, 0xa5) // rep movsd
      .emit(0x43) // inc ebx
      .emit(0x01, 0xd8) // add eax, ebx
      .rel([0xeb], 'loop', 1) // jmp loop
      .build();
    const init = { [EBX]: 1 }; // one dword more on every iteration
    const ref = runToFault(Infinity, code, init);
    const jit = runToFault(2, code, init);
    expect(jit.compiled).toBeGreaterThan(0);
    // the ninth iteration faults on its ninth dword, at the hole
    expect(ref.regs[ECX]).toBe(1);
    expect(ref.regs[EDI]).toBe(0x9000);
    expect(ref.regs[ESI]).toBe(0x6020);
    expect(jit.regs).toEqual(ref.regs);
    expect(jit.eflags).toBe(ref.eflags);
    expect(jit.eip).toBe(ref.eip);
  });

  it('keeps the other registers when a PUSH in a block faults (the helper owns only ESP)', () => {
    // push ecx walks ESP down into the hole; EAX and ECX change before every push
    const code = new Asm()
      .label('loop')
      .emit(0x40) // inc eax
      .emit(0x89, 0xc1) // mov ecx, eax
      .emit(0x51) // push ecx
      .rel([0xeb], 'loop', 1) // jmp loop
      .build();
    const init = { [ESP]: 0xa010 };
    const ref = runToFault(Infinity, code, init);
    const jit = runToFault(2, code, init);
    expect(jit.compiled).toBeGreaterThan(0);
    expect(ref.regs[ESP]).toBe(0xa000); // four pushes fit; the fifth faults and ESP stays
    expect(ref.regs[0]).toBe(5);
    expect(jit.regs).toEqual(ref.regs);
    expect(jit.eflags).toBe(ref.eflags);
    expect(jit.eip).toBe(ref.eip);
  });
});

/**
 * An x87 loop whose common instructions take the FPU's fast paths from compiled blocks (register
 * and memory arithmetic, FLD1/FLDZ, FXCH, FLD/FST ST(i), FCOMIP, FLDCW, FILD, FIST(P), FRNDINT,
 * FSTP m64); the values drift
 * every iteration so rounding, PE and C1 vary, and FNSTSW records the status word each time.
 */
function x87Program(): Uint8Array {
  return new Asm()
    .label('loop')
    .emit(0xdd, 0x03) // fld qword [ebx]                      x
    .emit(0xdc, 0x4b, 0x08) // fmul qword [ebx+8]
    .emit(0xd8, 0x43, 0x10) // fadd dword [ebx+16]            v
    .emit(0xdf, 0xe0) // fnstsw ax
    .emit(0x89, 0x47, 0x1c) // mov [edi+28], eax
    .emit(0xd9, 0xe8) // fld1
    .emit(0xd8, 0xc1) // fadd st, st(1)                       1+v, v
    .emit(0xd9, 0xee) // fldz
    .emit(0xd8, 0xe1) // fsub st, st(1)                       -(1+v), 1+v, v
    .emit(0xd9, 0xca) // fxch st(2)                           v, 1+v, -(1+v)
    .emit(0xde, 0xc9) // fmulp st(1), st                      (1+v)v, -(1+v)
    .emit(0xdc, 0xf9) // fdiv st(1), st                       (1+v)v, -1/v
    .emit(0xdf, 0xe0) // fnstsw ax
    .emit(0x89, 0x47, 0x18) // mov [edi+24], eax
    .emit(0xd9, 0xc1) // fld st(1)
    .emit(0xdd, 0xd2) // fst st(2)
    .emit(0xdf, 0xf1) // fcomip st, st(1)                     (1+v)v, -1/v
    .emit(0x0f, 0x92, 0xc0) // setb al
    .emit(0x0f, 0x94, 0xc4) // sete ah
    .emit(0x89, 0x07) // mov [edi], eax
    .emit(0xdb, 0xe8) // fucomi st, st(0) (ModRM E8 as in FLD1)
    .emit(0x0f, 0x94, 0xc0) // sete al
    .emit(0x88, 0x47, 0x03) // mov [edi+3], al
    .emit(0xd9, 0xc9) // fxch st(1)                           -1/v, (1+v)v
    .emit(0xd9, 0x6b, 0x18) // fldcw [ebx+24] (round toward zero)
    .emit(0xdb, 0x57, 0x04) // fist dword [edi+4]
    .emit(0xd9, 0x6b, 0x1a) // fldcw [ebx+26] (round to nearest)
    .emit(0xdb, 0x5f, 0x08) // fistp dword [edi+8]
    .emit(0xdf, 0xe0) // fnstsw ax
    .emit(0x89, 0x47, 0x0c) // mov [edi+12], eax
    .emit(0xdd, 0x5f, 0x10) // fstp qword [edi+16]            (empty)
    .emit(0xdb, 0x47, 0x08) // fild dword [edi+8]
    .emit(0xd8, 0x43, 0x10) // fadd dword [ebx+16]
    .emit(0xd9, 0xfc) // frndint
    .emit(0xdf, 0xe0) // fnstsw ax
    .emit(0x89, 0x47, 0x28) // mov [edi+40], eax
    .emit(0xdd, 0x5f, 0x20) // fstp qword [edi+32]            (empty)
    .emit(0x81, 0x03, 0x39, 0x30, 0x00, 0x00) // add dword [ebx], 12345: x drifts
    .emit(0x81, 0x43, 0x08, 0x45, 0x23, 0x01, 0x00) // add dword [ebx+8], 0x12345
    .emit(0x83, 0xc7, 0x40) // add edi, 64
    .emit(0x81, 0xe7, 0xc0, 0x8f, 0x00, 0x00) // and edi, 0x8fc0
    .emit(0x49) // dec ecx
    .rel([0x0f, 0x85], 'loop', 4) // jnz loop
    .emit(0xf4) // hlt
    .build();
}

function runX87(jitThreshold: number): { cpu: Cpu; mem: PhysMemory; fast: number } {
  const { cpu, mem } = flatCpu(jitThreshold, x87Program());
  const consts = new DataView(new ArrayBuffer(28));
  consts.setFloat64(0, 1.1, true);
  consts.setFloat64(8, 0.7071, true);
  consts.setFloat32(16, 0.3, true);
  consts.setUint16(24, 0x0f7f, true);
  consts.setUint16(26, 0x037f, true);
  const CONSTS = 0x6000;
  mem.writeBytes(CONSTS, new Uint8Array(consts.buffer));
  let fast = 0;
  const fpu = cpu.fpu as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of ['fastArith', 'fastArithMem', 'fastFist32', 'fastComi', 'fastFldConst', 'fastFrndint', 'fastFstF64', 'fastFild32']) {
    const f = fpu[name];
    fpu[name] = (...a: unknown[]) => {
      fast++;
      return f.apply(cpu.fpu, a);
    };
  }
  cpu.reg32[ECX] = 3000;
  cpu.reg32[EBX] = CONSTS;
  cpu.reg32[EDI] = DATA;
  runToHalt(cpu);
  return { cpu, mem, fast };
}

describe('x87 instructions in compiled blocks', () => {
  it('take the fast paths and end in the same state as the interpreter', () => {
    const ref = runX87(Infinity);
    const jit = runX87(2);
    expect(ref.cpu.halted).toBe(true);
    expect(jit.cpu.halted).toBe(true);
    expect(ref.fast).toBe(0);
    expect(jit.fast).toBeGreaterThan(3000 * 8);
    expect(Array.from(jit.cpu.reg32)).toEqual(Array.from(ref.cpu.reg32));
    expect(jit.cpu.getEflags()).toBe(ref.cpu.getEflags());
    expect(jit.cpu.icount).toBe(ref.cpu.icount);
    expect(jit.cpu.fpu.saveState()).toEqual(ref.cpu.fpu.saveState());
    expect(Buffer.from(jit.mem.readBytes(0x6000, 0x4000)).equals(Buffer.from(ref.mem.readBytes(0x6000, 0x4000)))).toBe(true);
    // the status words recorded differ between iterations (PE, C1 and the condition codes vary)
    // C1 (the direction of rounding) after FADD and FDIV varies with the drifting operands
    for (const at of [28, 24]) {
      const words = new Set<number>();
      for (let a = DATA; a < DATA + 0x1000; a += 64) words.add(ref.mem.read32(a + at) & 0xffff);
      expect(words.size).toBeGreaterThan(1);
    }
    expect(ref.mem.read32(DATA + 12) & 0x220).toBe(0x220); // FISTP rounded up in magnitude: C1, PE
    expect(ref.mem.read32(DATA + 40) & 0x220).toBe(0x220); // FRNDINT rounded -0.7 to -1: C1, PE
    expect(new DataView(ref.mem.readBytes(DATA + 32, 8).buffer).getFloat64(0, true)).toBe(-1);
    expect(ref.mem.read32(DATA + 4)).toBe(0); // FIST rounded -1/v toward zero
    expect(ref.mem.read32(DATA + 8)).toBe(-1); // FISTP to nearest
  });
});

/**
 * MOV DS and POP ES inside a block: the accesses after them use the new segment bases (blocks keep
 * the bases in locals), and POP ES pops four bytes even when the instruction the interpreter ran
 * last had an operand-size prefix (the 16-bit MOV DX here, on the iterations before compiling).
 */
function segmentProgram(): Uint8Array {
  const d32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
  return new Asm()
    .label('loop')
    .emit(0x8b, 0x05, ...d32(DATA)) // mov eax, [DATA]            (DS base 0)
    .emit(0x66, 0xba, 0x20, 0x00) // mov dx, 0x20
    .emit(0x8e, 0xda) // mov ds, dx                               (DS base 0x100)
    .emit(0x03, 0x05, ...d32(DATA)) // add eax, [DATA]            = [DATA + 0x100]
    .emit(0x89, 0x05, ...d32(DATA + 4)) // mov [DATA + 4], eax    = [DATA + 0x104]
    .emit(0x66, 0xba, 0x18, 0x00) // mov dx, 0x18
    .emit(0x8e, 0xda) // mov ds, dx
    .emit(0x6a, 0x20) // push 0x20
    .emit(0x07) // pop es
    .emit(0x26, 0x01, 0x05, ...d32(DATA + 8)) // add es:[DATA + 8], eax
    .emit(0x6a, 0x18) // push 0x18
    .emit(0x07) // pop es
    .emit(0x01, 0x05, ...d32(DATA)) // add [DATA], eax
    .emit(0x49) // dec ecx
    .rel([0x0f, 0x85], 'loop', 4) // jnz loop
    .emit(0xf4) // hlt
    .build();
}

describe('segment loads inside a compiled block', () => {
  const runSegments = (jitThreshold: number) => {
    const { cpu, mem } = flatCpu(jitThreshold, segmentProgram());
    mem.write32(0x820, 0x0100ffff); // 0x20: data, base 0x100, limit 4 GiB, 32-bit, DPL 0
    mem.write32(0x824, 0x00cf9300);
    cpu.gdtLimit = 39;
    for (let i = 0; i < 0x120; i += 4) mem.write32(DATA + i, i * 0x01010101);
    cpu.reg32[ECX] = 1000;
    runToHalt(cpu);
    return { cpu, mem };
  };
  it('use the new base for the accesses that follow, as the interpreter does', () => {
    const ref = runSegments(Infinity);
    const jit = runSegments(2);
    expect(ref.cpu.halted).toBe(true);
    expect(jit.cpu.blocks.compiled).toBeGreaterThan(0);
    expect(Array.from(jit.cpu.reg32)).toEqual(Array.from(ref.cpu.reg32));
    expect(jit.cpu.getEflags()).toBe(ref.cpu.getEflags());
    expect(Buffer.from(jit.mem.readBytes(DATA, 0x200)).equals(Buffer.from(ref.mem.readBytes(DATA, 0x200)))).toBe(true);
    // the writes through DS base 0x100 landed there
    expect(ref.mem.read32(DATA + 0x104)).not.toBe(0x04040404);
  });
});

/**
 * Rotates, shifts and INC whose flags the next instructions overwrite (their flags are not
 * computed) next to ones whose CF is read (by ADC, SBB, SETC): compiled and interpreted runs agree.
 */
function deadFlagsProgram(): Uint8Array {
  return new Asm()
    .label('loop')
    .emit(0xc1, 0xc8, 0x07) // ror eax, 7          flags dead: MOV, then XOR writes them all
    .emit(0x89, 0xc2) // mov edx, eax
    .emit(0x31, 0xda) // xor edx, ebx
    .emit(0xc1, 0xc3, 0x03) // rol ebx, 3          CF live: ADC reads it
    .emit(0x11, 0xd8) // adc eax, ebx
    .emit(0x46) // inc esi                          dead: CMP
    .emit(0x81, 0xfe, 0xe8, 0x03, 0x00, 0x00) // cmp esi, 1000
    .emit(0x0f, 0x92, 0xc4) // setb ah
    .emit(0xd1, 0xea) // shr edx, 1                 CF live: ADC
    .emit(0x83, 0xd7, 0x00) // adc edi, 0
    .emit(0x45) // inc ebp                          CF live (kept from the ADD before): SBB after LEA
    .emit(0x8d, 0x6c, 0x6d, 0x01) // lea ebp, [ebp + ebp*2 + 1]
    .emit(0x19, 0xc5) // sbb ebp, eax
    .emit(0xc1, 0xe2, 0x05) // shl edx, 5           dead: BSWAP, then AND
    .emit(0x0f, 0xca) // bswap edx
    .emit(0x21, 0xd0) // and eax, edx
    .emit(0x01, 0xc3) // add ebx, eax
    .emit(0xc1, 0xc8, 0x09) // ror eax, 9           CF, OF dead: ROL writes them
    .emit(0xc1, 0xc2, 0x02) // rol edx, 2           CF live: ADC
    .emit(0x11, 0xd6) // adc esi, edx
    .emit(0xc1, 0xe2, 0x05) // shl edx, 5           ZF live: ROL writes only CF and OF, SETZ reads ZF
    .emit(0xd1, 0xc0) // rol eax, 1
    .emit(0x0f, 0x94, 0xc3) // setz bl
    .emit(0x49) // dec ecx
    .rel([0x0f, 0x85], 'loop', 4) // jnz loop
    .emit(0xf4) // hlt
    .build();
}

describe('flags that the next instructions overwrite', () => {
  const runDeadFlags = (jitThreshold: number) => {
    const { cpu } = flatCpu(jitThreshold, deadFlagsProgram());
    cpu.reg32.set([0x12345678, 5000, 0, 0x9abcdef0, STACK, 0x1111, 0x2222, 0x3333]);
    runToHalt(cpu);
    return cpu;
  };
  it('are skipped without changing any result', () => {
    const ref = runDeadFlags(Infinity);
    const jit = runDeadFlags(2);
    expect(ref.halted).toBe(true);
    expect(jit.blocks.compiled).toBeGreaterThan(0);
    expect(Array.from(jit.reg32)).toEqual(Array.from(ref.reg32));
    expect(jit.getEflags()).toBe(ref.getEflags());
    expect(jit.icount).toBe(ref.icount);
  });
});
