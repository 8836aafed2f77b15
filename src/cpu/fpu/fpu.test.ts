/**
 * The FPU's contract with the CPU (fpu-host.ts): #UD for invalid encodings, restartability after a
 * fault in a memory operand, pending-exception reporting, instruction/operand pointers, state
 * save/restore. Hardware results are checked by reference.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Fpu } from './fpu';
import { CpuFault, MathFault, PageFault, TestHost } from './fpu-test-host';

const BASE = 0x1000;
const SIZE = 0x1000;
const END = BASE + SIZE;

function setup(): { fpu: Fpu; host: TestHost } {
  const host = new TestHost(BASE, SIZE);
  return { fpu: new Fpu(host), host };
}

/** Executes one instruction given as bytes [opcode, modrm]. */
function run(fpu: Fpu, opcode: number, modrm: number, linear = 0, o32 = true): void {
  fpu.execute(opcode - 0xd8, modrm, linear, o32);
}

function putF64(host: TestHost, at: number, v: number): void {
  new DataView(host.mem.buffer).setFloat64(at - BASE, v, true);
}

function getF64(host: TestHost, at: number): number {
  return new DataView(host.mem.buffer).getFloat64(at - BASE, true);
}

function snapshot(fpu: Fpu): string {
  return JSON.stringify(fpu.saveState());
}

/** A state with several registers (one with a 64-bit integer only an 80-bit register can hold). */
function busy(fpu: Fpu, host: TestHost): void {
  putF64(host, BASE, 1.5);
  run(fpu, 0xdd, 0x05, BASE); // FLD m64
  new DataView(host.mem.buffer).setBigInt64(8, 0x7ffffffffffffff1n, true);
  run(fpu, 0xdf, 0x2d, BASE + 8); // FILD m64
  run(fpu, 0xd9, 0xeb); // FLDPI
  run(fpu, 0xd8, 0xc1); // FADD ST(0), ST(1)
}

describe('Fpu', () => {
  it('starts in the FNINIT state', () => {
    const { fpu } = setup();
    expect(fpu.cw).toBe(0x037f);
    expect(fpu.sw).toBe(0);
    expect(fpu.tw).toBe(0xffff);
    expect([fpu.fip, fpu.fcs, fpu.fdp, fpu.fds, fpu.fop]).toEqual([0, 0, 0, 0, 0]);
  });

  it('raises #UD for invalid encodings without touching its state', () => {
    const invalid: Array<[number, number]> = [
      [0xd9, 0x0d], // D9 /1 mem
      [0xd9, 0xd1],
      [0xd9, 0xe2],
      [0xd9, 0xe7],
      [0xd9, 0xef],
      [0xda, 0xe8],
      [0xda, 0xf0],
      [0xdb, 0x0d], // FISTTP m32 (SSE3)
      [0xdb, 0x25],
      [0xdb, 0x35],
      [0xdb, 0xe5],
      [0xdb, 0xf8],
      [0xdd, 0x0d], // FISTTP m64
      [0xdd, 0x2d],
      [0xdd, 0xf0],
      [0xdd, 0xf8],
      [0xde, 0xd8],
      [0xdf, 0x0d], // FISTTP m16
      [0xdf, 0xe1],
      [0xdf, 0xf8],
    ];
    for (const [op, modrm] of invalid) {
      const { fpu, host } = setup();
      busy(fpu, host);
      const before = snapshot(fpu);
      let vector = -1;
      try {
        run(fpu, op, modrm, BASE);
      } catch (e) {
        if (e instanceof CpuFault) vector = e.vector;
        else throw e;
      }
      expect(vector, `${op.toString(16)} ${modrm.toString(16)}`).toBe(6);
      expect(snapshot(fpu)).toBe(before);
    }
  });

  it('leaves its state untouched when a memory operand faults', () => {
    const faulting: Array<[string, number, number, number]> = [
      ['FLD m64', 0xdd, 0x05, END - 4],
      ['FLD m80', 0xdb, 0x2d, END - 8],
      ['FILD m64', 0xdf, 0x2d, END - 4],
      ['FBLD', 0xdf, 0x25, END - 9],
      ['FADD m64', 0xdc, 0x05, END - 4],
      ['FST m64', 0xdd, 0x15, END - 4],
      ['FSTP m64', 0xdd, 0x1d, END - 4],
      ['FSTP m32', 0xd9, 0x1d, END - 2],
      ['FSTP m80', 0xdb, 0x3d, END - 8],
      ['FISTP m16', 0xdf, 0x1d, END - 1],
      ['FISTP m64', 0xdf, 0x3d, END - 4],
      ['FBSTP', 0xdf, 0x35, END - 9],
      ['FNSTENV', 0xd9, 0x35, END - 20],
      ['FLDENV', 0xd9, 0x25, END - 20],
      ['FNSAVE', 0xdd, 0x35, END - 100],
      ['FRSTOR', 0xdd, 0x25, END - 100],
      ['FLDCW', 0xd9, 0x2d, END - 1],
    ];
    for (const [name, op, modrm, linear] of faulting) {
      const { fpu, host } = setup();
      busy(fpu, host);
      fpu.fip = 0x1234;
      fpu.fdp = 0x5678;
      const before = snapshot(fpu);
      const writes = host.writes;
      expect(() => run(fpu, op, modrm, linear), name).toThrow(PageFault);
      expect(snapshot(fpu), name).toBe(before);
      expect(host.writes, name).toBe(writes);
    }
  });

  describe('pending unmasked exceptions', () => {
    function withPendingZeroDivide(): { fpu: Fpu; host: TestHost } {
      const { fpu, host } = setup();
      host.mem[0] = 0x7b; // control word 0x037B: zero-divide unmasked
      host.mem[1] = 0x03;
      run(fpu, 0xd9, 0x2d, BASE); // FLDCW
      run(fpu, 0xd9, 0xe8); // FLD1
      run(fpu, 0xd9, 0xee); // FLDZ
      run(fpu, 0xde, 0xf9); // FDIVP: 1/0
      expect(fpu.sw & 0x8084).toBe(0x8084); // B, ES, ZE
      expect([fpu.st(0), fpu.st(1)]).toEqual([0, 1]); // destination untouched, no pop
      return { fpu, host };
    }

    it('are reported before the next waiting instruction executes (CR0.NE=1)', () => {
      const { fpu, host } = withPendingZeroDivide();
      const before = snapshot(fpu);
      expect(() => run(fpu, 0xd9, 0xe8)).toThrow(MathFault); // FLD1
      expect(() => fpu.wait()).toThrow(MathFault);
      expect(snapshot(fpu)).toBe(before);
      expect(host.errorsReported).toBe(2);
    });

    it('let the instruction proceed when reporting returns (FERR#, CR0.NE=0)', () => {
      const { fpu, host } = withPendingZeroDivide();
      host.mfOnError = false;
      run(fpu, 0xd9, 0xe8); // FLD1
      expect(host.errorsReported).toBe(1);
      expect([fpu.st(0), fpu.st(1), fpu.st(2)]).toEqual([1, 0, 1]);
    });

    it('are not reported by the no-wait control instructions', () => {
      const { fpu, host } = withPendingZeroDivide();
      run(fpu, 0xd9, 0x3d, BASE + 16); // FNSTCW
      run(fpu, 0xdd, 0x3d, BASE + 18); // FNSTSW m16
      run(fpu, 0xdf, 0xe0); // FNSTSW AX
      run(fpu, 0xd9, 0x35, BASE + 32); // FNSTENV (masks all exceptions: nothing pending afterwards)
      expect(host.errorsReported).toBe(0);
      expect(host.ax & 0x80).toBe(0x80);
      expect(fpu.sw & 0x8080).toBe(0);
      expect(fpu.cw & 0x3f).toBe(0x3f);
    });

    it('are dropped by FNCLEX and FNINIT', () => {
      for (const modrm of [0xe2, 0xe3]) {
        const { fpu, host } = withPendingZeroDivide();
        run(fpu, 0xdb, modrm);
        fpu.wait();
        run(fpu, 0xd9, 0xe8);
        expect(host.errorsReported).toBe(0);
      }
    });

    it('give way to #UD of an invalid encoding', () => {
      const { fpu } = withPendingZeroDivide();
      expect(() => run(fpu, 0xd9, 0xd1)).toThrow(CpuFault);
    });
  });

  it('records instruction and operand pointers for non-control instructions only', () => {
    const { fpu, host } = setup();
    putF64(host, BASE + 8, 2);
    fpu.fip = 0x100;
    fpu.fcs = 0x10;
    fpu.fdp = BASE + 8;
    fpu.fds = 0x18;
    run(fpu, 0xdd, 0x05, BASE + 8); // FLD m64
    expect(fpu.lastPointers).toEqual({ fip: 0x100, fcs: 0x10, fdp: BASE + 8, fds: 0x18, fop: 0x505 });
    fpu.fip = 0x108;
    fpu.fdp = 0x999;
    run(fpu, 0xd9, 0xfa); // FSQRT: register form, FDP kept
    expect(fpu.lastPointers).toEqual({ fip: 0x108, fcs: 0x10, fdp: BASE + 8, fds: 0x18, fop: 0x1fa });
    fpu.fip = 0x10a;
    fpu.fdp = BASE + 16;
    fpu.fop = 0x13d; // what a CPU may set: ignored
    run(fpu, 0xd9, 0x3d, BASE + 16); // FNSTCW: control instruction
    fpu.fip = 0x10e;
    fpu.fdp = BASE + 32;
    fpu.fop = 0x135;
    run(fpu, 0xd9, 0x35, BASE + 32); // FNSTENV
    expect(fpu.lastPointers).toEqual({ fip: 0x108, fcs: 0x10, fdp: BASE + 8, fds: 0x18, fop: 0x1fa });
    const env = new DataView(host.mem.buffer, 32, 28);
    expect(env.getUint32(12, true)).toBe(0x108);
    expect(env.getUint32(16, true)).toBe((0x1fa << 16) | 0x10);
    expect(env.getUint32(20, true)).toBe(BASE + 8);
    expect(env.getUint16(24, true)).toBe(0x18);
  });

  it('saves and restores its complete state', () => {
    const { fpu, host } = setup();
    busy(fpu, host);
    run(fpu, 0xd9, 0xea); // FLDL2E
    run(fpu, 0xdd, 0xc3); // FFREE ST(3)
    fpu.fip = 0x4444;
    run(fpu, 0xd9, 0xfa); // FSQRT
    const saved = JSON.parse(JSON.stringify(fpu.saveState())) as ReturnType<Fpu['saveState']>;
    const other = setup();
    other.fpu.loadState(saved);
    expect(snapshot(other.fpu)).toBe(snapshot(fpu));
    run(fpu, 0xdd, 0x35, BASE + 0x100); // FNSAVE on both: identical images
    run(other.fpu, 0xdd, 0x35, BASE + 0x100);
    expect(Array.from(other.host.mem.slice(0x100, 0x100 + 108))).toEqual(Array.from(host.mem.slice(0x100, 0x100 + 108)));
    expect(() => other.fpu.loadState({ version: 99 })).toThrow();
  });

  it('keeps 64-bit integers exact through FNSAVE/FRSTOR and FISTP', () => {
    const { fpu, host } = setup();
    busy(fpu, host); // ST(1) = 0x7ffffffffffffff1 (beyond a double's 53 bits)
    run(fpu, 0xdd, 0x35, BASE + 0x100); // FNSAVE
    const other = setup();
    other.host.mem.set(host.mem);
    run(other.fpu, 0xdd, 0x25, BASE + 0x100); // FRSTOR
    run(other.fpu, 0xdd, 0xd8); // FSTP ST(0)
    run(other.fpu, 0xdf, 0x3d, BASE + 0x200); // FISTP m64
    expect(new DataView(other.host.mem.buffer).getBigInt64(0x200, true)).toBe(0x7ffffffffffffff1n);
  });

  it('exposes the stack through st(i), isEmpty(i) and tw', () => {
    const { fpu, host } = setup();
    putF64(host, BASE, -0.25);
    run(fpu, 0xdd, 0x05, BASE);
    run(fpu, 0xd9, 0xee); // FLDZ
    expect(fpu.st(0)).toBe(0);
    expect(fpu.st(1)).toBe(-0.25);
    expect(fpu.isEmpty(1)).toBe(false);
    expect(fpu.isEmpty(2)).toBe(true);
    expect(fpu.tw).toBe(0x1fff); // physical 6: zero, physical 7: valid, the rest empty
    expect(fpu.sw >> 11).toBe(6);
    run(fpu, 0xdd, 0x1d, BASE + 8); // FSTP m64
    run(fpu, 0xdd, 0x1d, BASE + 16);
    expect(getF64(host, BASE + 16)).toBe(-0.25);
  });
});
