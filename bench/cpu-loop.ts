/**
 * CPU micro-benchmark: the CPU alone (Cpu + PhysMemory + IoBus, no devices, no machine loop)
 * running a straight-line integer loop, in millions of guest instructions per host second —
 * once with the block compiler (the default), once interpreted only (`jitThreshold = Infinity`),
 * the baseline for interpreter optimisation.
 *
 * The loop (9 instructions per iteration; every 2^20 iterations two more reload ECX):
 *
 *   top: mov eax, [esi]            ; load (the value stored by the previous iteration)
 *        add eax, ebx
 *        xor edx, eax
 *        sub ebx, 3
 *        shl eax, 2
 *        lea edi, [eax + edx*2 + 8]
 *        mov [esi], edi            ; store
 *        dec ecx
 *        jnz top
 *        mov ecx, 0x100000
 *        jmp top
 *
 * Paged variant: a prologue writes CR3 and sets CR0.PG with the guest's own `mov crN` (page
 * tables map the first 4 MiB at 0 and at 0xC0000000, like a Linux kernel), then jumps to the
 * loop through its 0xC0000000 alias, so every fetch, load and store goes through the TLB.
 *
 * Before timing, the first million instructions are checked against a model of the loop in
 * JavaScript, so an interpreter change that breaks these instructions is reported rather than
 * timed.
 */
import { Cpu } from '../src/cpu/cpu';
import { IoBus } from '../src/io/io-bus';
import { PhysMemory } from '../src/memory/phys-memory';
import { threadCpuMs } from './host-time';

const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESI = 6, EDI = 7;

const PROLOGUE_ADDR = 0x1000;
const LOOP_ADDR = 0x1100;
const DATA_ADDR = 0x2000;
const PAGE_DIR = 0x10000;
const PAGE_TABLE = 0x11000;
const KERNEL_BASE = 0xc0000000;
const RELOAD = 0x100000;
const INITIAL_EBX = 0x12345678;
const INITIAL_DATA = 0x0badf00d;

// Offsets of the loop's instructions, in order (the model steps through them).
const LOOP_CODE = [
  [0x8b, 0x06], // mov eax, [esi]
  [0x01, 0xd8], // add eax, ebx
  [0x31, 0xc2], // xor edx, eax
  [0x83, 0xeb, 0x03], // sub ebx, 3
  [0xc1, 0xe0, 0x02], // shl eax, 2
  [0x8d, 0x7c, 0x50, 0x08], // lea edi, [eax + edx*2 + 8]
  [0x89, 0x3e], // mov [esi], edi
  [0x49], // dec ecx
  [0x75, 0x00], // jnz top (displacement filled in below)
  [0xb9, RELOAD & 0xff, (RELOAD >>> 8) & 0xff, (RELOAD >>> 16) & 0xff, RELOAD >>> 24], // mov ecx, RELOAD
  [0xeb, 0x00], // jmp top (displacement filled in below)
];
const LOOP_OFFSETS: number[] = [];
{
  let off = 0;
  for (const ins of LOOP_CODE) {
    LOOP_OFFSETS.push(off);
    off += ins.length;
  }
  LOOP_CODE[8][1] = (0 - (LOOP_OFFSETS[8] + 2)) & 0xff;
  LOOP_CODE[10][1] = (0 - (LOOP_OFFSETS[10] + 2)) & 0xff;
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** mov eax, PAGE_DIR; mov cr3, eax; mov eax, cr0; or eax, PG; mov cr0, eax; mov eax, loop; jmp eax */
const PROLOGUE = [
  0xb8, ...le32(PAGE_DIR),
  0x0f, 0x22, 0xd8,
  0x0f, 0x20, 0xc0,
  0x0d, ...le32(0x80000000),
  0x0f, 0x22, 0xc0,
  0xb8, ...le32(KERNEL_BASE + LOOP_ADDR),
  0xff, 0xe0,
];

interface ModelState {
  eax: number; ebx: number; ecx: number; edx: number; edi: number; data: number; index: number;
}

/** Execute `n` instructions of the loop in JavaScript. */
function model(n: number): ModelState {
  let eax = 0, ebx = INITIAL_EBX, ecx = RELOAD, edx = 0, edi = 0, data = INITIAL_DATA, i = 0;
  for (let k = 0; k < n; k++) {
    switch (i) {
      case 0: eax = data; i = 1; break;
      case 1: eax = (eax + ebx) | 0; i = 2; break;
      case 2: edx ^= eax; i = 3; break;
      case 3: ebx = (ebx - 3) | 0; i = 4; break;
      case 4: eax <<= 2; i = 5; break;
      case 5: edi = (eax + (edx << 1) + 8) | 0; i = 6; break;
      case 6: data = edi; i = 7; break;
      case 7: ecx = (ecx - 1) | 0; i = 8; break;
      case 8: i = ecx !== 0 ? 0 : 9; break;
      case 9: ecx = RELOAD; i = 10; break;
      case 10: i = 0; break;
    }
  }
  return { eax, ebx, ecx, edx, edi, data, index: i };
}

export interface CpuLoopOptions {
  /** Run with the block compiler off. */
  interpretOnly?: boolean;
  paging: boolean;
  /** Instructions per timed chunk. */
  chunk: number;
  chunks: number;
  /** Untimed instructions run first (JIT warm-up), after the model check. */
  warmup: number;
}

export interface CpuLoopResult {
  paging: boolean;
  /** Median of the chunks' MIPS per second of the thread's CPU time (wall time where unavailable). */
  mips: number;
  /** Median of the chunks' MIPS per wall-clock second. */
  wallMips: number;
  /** Per chunk, MIPS per CPU second (or per wall second where CPU time is unavailable). */
  chunkMips: number[];
  chunkWallMips: number[];
  /** Whether `mips` is based on thread CPU time. */
  cpuTime: boolean;
  instructions: number;
  timedMs: number;
}

export function cpuLoopOptions(quick: boolean, paging: boolean, interpretOnly = false): CpuLoopOptions {
  return quick
    ? { paging, interpretOnly, chunk: 5_000_000, chunks: 5, warmup: 5_000_000 }
    : { paging, interpretOnly, chunk: 20_000_000, chunks: 10, warmup: 20_000_000 };
}

export function runCpuLoop(opts: CpuLoopOptions): CpuLoopResult {
  const mem = new PhysMemory({ ramBytes: 16 << 20 });
  const io = new IoBus();
  const cpu = new Cpu(mem, io);
  if (opts.interpretOnly) cpu.jitThreshold = Infinity;
  cpu.enterFlatProtectedMode();

  const code = LOOP_CODE.flat();
  for (let i = 0; i < code.length; i++) mem.write8(LOOP_ADDR + i, code[i]);
  mem.write32(DATA_ADDR, INITIAL_DATA);
  const base = opts.paging ? KERNEL_BASE : 0;
  if (opts.paging) {
    for (let i = 0; i < PROLOGUE.length; i++) mem.write8(PROLOGUE_ADDR + i, PROLOGUE[i]);
    for (let p = 0; p < 1024; p++) mem.write32(PAGE_TABLE + p * 4, (p << 12) | 3);
    mem.write32(PAGE_DIR, PAGE_TABLE | 3);
    mem.write32(PAGE_DIR + (KERNEL_BASE >>> 22) * 4, PAGE_TABLE | 3);
  }
  cpu.reg32[EAX] = 0;
  cpu.reg32[EBX] = INITIAL_EBX;
  cpu.reg32[ECX] = RELOAD;
  cpu.reg32[EDX] = 0;
  cpu.reg32[ESI] = (base + DATA_ADDR) | 0;
  cpu.reg32[EDI] = 0;
  cpu.reg32[4] = 0x8000; // esp (unused)
  cpu.eip = opts.paging ? PROLOGUE_ADDR : LOOP_ADDR;

  // Run the prologue (paged variant): until EIP reaches the loop's high alias.
  if (opts.paging) {
    for (let i = 0; i < 16 && cpu.eip >>> 0 !== (base + LOOP_ADDR) >>> 0; i++) cpu.run(1);
    if (cpu.eip >>> 0 !== (base + LOOP_ADDR) >>> 0) throw new Error(`paging prologue did not reach the loop (EIP ${hex(cpu.eip)})`);
  }

  // Check the first million instructions against the model.
  const CHECK = 1_000_000;
  let done = 0;
  while (done < CHECK) done += runChecked(cpu, CHECK - done);
  // `run` may finish the block it is in past the budget: compare after the instructions it ran.
  const want = model(done);
  const got = {
    eax: cpu.reg32[EAX], ebx: cpu.reg32[EBX], ecx: cpu.reg32[ECX], edx: cpu.reg32[EDX], edi: cpu.reg32[EDI],
    data: mem.read32(DATA_ADDR) | 0, eip: cpu.eip >>> 0,
  };
  const wantEip = (base + LOOP_ADDR + LOOP_OFFSETS[want.index]) >>> 0;
  const mismatch = (['eax', 'ebx', 'ecx', 'edx', 'edi', 'data'] as const).filter((k) => got[k] !== want[k]);
  if (got.eip !== wantEip) mismatch.push('eip' as never);
  if (mismatch.length) {
    throw new Error(`CPU loop gave wrong results after ${done} instructions: ${mismatch.map((k) => `${k}=${hex(got[k as keyof typeof got])}`).join(' ')}`);
  }

  // Warm-up, untimed.
  done = 0;
  while (done < opts.warmup) done += runChecked(cpu, opts.warmup - done);

  const chunkMips: number[] = [];
  const chunkWallMips: number[] = [];
  let timedMs = 0;
  let instructions = 0;
  const cpuTime = threadCpuMs() !== null;
  for (let c = 0; c < opts.chunks; c++) {
    const c0 = threadCpuMs();
    const t0 = performance.now();
    let n = 0;
    while (n < opts.chunk) n += runChecked(cpu, opts.chunk - n);
    const ms = performance.now() - t0;
    const cpuMs = cpuTime ? threadCpuMs()! - c0! : ms;
    timedMs += ms;
    instructions += n;
    chunkWallMips.push(n / ms / 1000);
    chunkMips.push(n / cpuMs / 1000);
  }
  return {
    paging: opts.paging, mips: median(chunkMips), wallMips: median(chunkWallMips), chunkMips, chunkWallMips, cpuTime,
    instructions, timedMs,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function runChecked(cpu: Cpu, budget: number): number {
  const n = cpu.run(budget);
  if (n <= 0 || cpu.halted) throw new Error(`CPU stopped in the loop at EIP ${hex(cpu.eip)}`);
  return n;
}

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}
