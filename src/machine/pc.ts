/**
 * The PC: one place that wires RAM, the I/O bus, the devices and the CPU from a config, boots a
 * Linux kernel through the boot protocol, and runs the CPU in slices between device deadlines.
 * No DOM, no Node-only APIs: the same class runs in Node, in a Web Worker or on a page.
 */
import { loadLinux } from '../boot/linux-loader';
import { parseBzImage } from '../boot/bzimage';
import { inflateInitrds } from '../boot/initrd';
import { inflateKernel, type KernelElf } from '../boot/kernel-elf';
import { Cpu } from '../cpu/cpu';
import { CPU_FAULT } from '../cpu/exceptions';
import { CmosRtc } from '../devices/cmos-rtc';
import { I8042 } from '../devices/i8042';
import { LinearFramebuffer } from '../devices/linear-framebuffer';
import { Pic8259Pair } from '../devices/pic8259';
import { Pit8254 } from '../devices/pit8254';
import { SystemPorts } from '../devices/system-ports';
import { Uart16550 } from '../devices/uart16550';
import { IoBus } from '../io/io-bus';
import type { IrqLine } from '../io/irq';
import { PhysMemory } from '../memory/phys-memory';
import { MachineClock } from './clock';
import type { Timed } from './state';
import type { HaltReason, MachineConfig, MachineStats } from './types';

export const COM1_BASE = 0x3f8;
export const COM2_BASE = 0x2f8;
export const IRQ_PIT = 0;
export const IRQ_KEYBOARD = 1;
export const IRQ_COM2 = 3;
export const IRQ_COM1 = 4;
export const IRQ_RTC = 8;
export const IRQ_MOUSE = 12;
export const IRQ_FPU = 13;
export const FRAMEBUFFER_BASE = 0xfd000000;
/** VRAM from FRAMEBUFFER_BASE up to 4 GiB. */
export const MAX_FRAMEBUFFER_BYTES = 0x1_0000_0000 - FRAMEBUFFER_BASE;
/** Emulated TSC rate: one tick per emulated nanosecond (1 GHz). */
export const TSC_HZ = 1_000_000_000;
/** Longest stretch the CPU runs without checking device deadlines (emulated ns). */
const MAX_SLICE_NS = 1_000_000;
/** Host time one `runSlice` call may use before yielding (ms). */
const SLICE_HOST_MS = 12;
/** Bytes of fresh entropy handed to the kernel at each boot (256 bits: enough to seed its CRNG). */
const RNG_SEED_BYTES = 32;

export type ResetCause = 'guest-reboot' | 'triple-fault' | 'host';

/**
 * Let the host's event loop run (messages, I/O, rendering) and continue as soon as it has:
 * `setImmediate` in Node, a MessageChannel round trip in browsers and workers.
 */
const yieldToHost: (fn: () => void) => void = (() => {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return (fn: () => void) => void g.setImmediate!(fn);
  if (typeof MessageChannel === 'function') {
    const channel = new MessageChannel();
    const queue: (() => void)[] = [];
    channel.port1.onmessage = () => queue.shift()?.();
    return (fn: () => void) => {
      queue.push(fn);
      channel.port2.postMessage(0);
    };
  }
  return (fn: () => void) => void setTimeout(fn, 0);
})();

/** Text the kernel prints when it panics; the machine stops with reason 'panic'. */
const PANIC_MARKER = 'Kernel panic - not syncing';

export class MachineConfigError extends Error {}

export function validateConfig(config: MachineConfig): void {
  const m = config.memoryMiB;
  if (!Number.isInteger(m) || m < 16 || m > 2048) {
    throw new MachineConfigError(`memory must be a whole number of MiB between 16 and 2048 (got ${m})`);
  }
  const fb = config.framebuffer;
  if (fb) {
    for (const [name, v, max] of [['width', fb.width, 4096], ['height', fb.height, 4096]] as const) {
      if (!Number.isInteger(v) || v < 64 || v > max) {
        throw new MachineConfigError(`framebuffer ${name} must be a whole number between 64 and ${max} (got ${v})`);
      }
    }
    if (fb.width * fb.height * 4 > MAX_FRAMEBUFFER_BYTES) {
      throw new MachineConfigError(`framebuffer ${fb.width}x${fb.height} is too large (at most 48 MiB, e.g. 4096x3072)`);
    }
  }
}

export class PcMachine {
  readonly config: MachineConfig;
  /** The kernel image inflated on the host, or null: the bzImage boots through its decompressor. */
  private readonly kernelElf: KernelElf | null;
  readonly mem: PhysMemory;
  readonly io: IoBus;
  readonly cpu: Cpu;
  readonly clock: MachineClock;
  readonly pic: Pic8259Pair;
  readonly pit: Pit8254;
  readonly rtc: CmosRtc;
  readonly com1: Uart16550;
  readonly com2: Uart16550;
  readonly i8042: I8042;
  readonly systemPorts: SystemPorts;
  readonly framebuffer: LinearFramebuffer | null;
  private readonly timed: Timed[];

  onSerial: ((bytes: Uint8Array) => void) | null = null;
  onHalt: ((reason: HaltReason) => void) | null = null;
  onReset: ((cause: ResetCause) => void) | null = null;
  onLog: ((message: string) => void) | null = null;

  private serialOut = new Uint8Array(4096);
  private serialLen = 0;
  private consoleTail = '';
  private resetRequested: ResetCause | null = null;
  private haltReason: HaltReason | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private runningFlag = false;
  private startHostMs = 0;
  private readonly hostNowMs: () => number;

  /**
   * Create a machine, first inflating gzip-compressed initrds on the host (see
   * src/boot/initrd.ts): the guest then copies its initramfs instead of decompressing it, which
   * is most of an emulated boot. `new PcMachine(config)` leaves the initrds as they are.
   */
  static async create(config: MachineConfig): Promise<PcMachine> {
    validateConfig(config);
    // inflateKernel rejects a file that is not a bzImage with the constructor's BootImageError
    const [initrd, kernelElf] = await Promise.all([inflateInitrds(config.initrd), inflateKernel(config.kernel)]);
    return new PcMachine({ ...config, initrd }, { kernelElf });
  }

  /**
   * `prepared.kernelElf`: the kernel image inflated from the bzImage's payload (`inflateKernel`),
   * loaded in place of the bzImage so that its decompressor does not run on the emulated CPU;
   * `create()` passes it.
   */
  constructor(config: MachineConfig, prepared: { kernelElf?: KernelElf | null } = {}) {
    validateConfig(config);
    parseBzImage(config.kernel); // a clear BootImageError before anything is allocated
    this.config = config;
    this.kernelElf = prepared.kernelElf ?? null;
    this.hostNowMs = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
    const fbBytes = config.framebuffer
      ? LinearFramebuffer.bytesFor(config.framebuffer.width, config.framebuffer.height)
      : 0;

    // The parts list.
    this.mem = new PhysMemory({ ramBytes: config.memoryMiB << 20, extraBytes: fbBytes });
    this.io = new IoBus();
    this.cpu = new Cpu(this.mem, this.io);
    this.clock = new MachineClock(config.timeMode ?? 'realtime', () => this.cpu.icount, this.hostNowMs);
    this.pic = new Pic8259Pair(this.io);
    const irq = (n: number): IrqLine => this.pic.irqLine(n);
    this.pit = new Pit8254(this.io, this.clock, irq(IRQ_PIT));
    this.rtc = new CmosRtc(this.io, this.clock, irq(IRQ_RTC), {
      wallClockMs: () => Date.now(),
      memoryBytes: config.memoryMiB << 20,
    });
    this.com1 = new Uart16550(this.io, COM1_BASE, irq(IRQ_COM1), this.clock);
    this.com2 = new Uart16550(this.io, COM2_BASE, irq(IRQ_COM2), this.clock);
    this.i8042 = new I8042(this.io, irq(IRQ_KEYBOARD), irq(IRQ_MOUSE), () => this.requestReset('guest-reboot'));
    this.systemPorts = new SystemPorts(this.io, this.pit, () => this.requestReset('guest-reboot'));
    this.framebuffer = config.framebuffer
      ? new LinearFramebuffer(this.mem, { base: FRAMEBUFFER_BASE, ...config.framebuffer })
      : null;
    this.timed = [this.pit, this.rtc, this.com1, this.com2];

    // Wiring.
    this.cpu.irqController = this.pic;
    this.pic.onIntrChange = (asserted) => {
      this.cpu.intrPending = asserted;
    };
    this.cpu.host = {
      readTsc: () => Math.floor(this.clock.nowNs() * (TSC_HZ / 1e9)),
      fpuError: () => {
        const line = this.pic.irqLine(IRQ_FPU);
        line.raise();
        line.lower();
      },
    };
    this.cpu.onTripleFault = () => this.requestReset('triple-fault');
    const reported = new Set<number>();
    this.cpu.onUnimplemented = (eip, bytes) => {
      if (reported.size < 64 && !reported.has(eip)) {
        reported.add(eip);
        this.log(`#UD at ${hex(eip)}: ${bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
      }
    };
    this.com1.onTransmit = (byte) => this.serialByte(byte);

    this.boot();
  }

  /** Load the kernel and put the CPU at its 32-bit entry point. */
  private boot(): void {
    const fb = this.framebuffer;
    const entry = loadLinux(this.mem, {
      kernel: this.config.kernel,
      initrds: this.config.initrd,
      cmdline: machineCmdline(this.config.cmdline),
      rngSeed: this.bootRngSeed(),
      kernelElf: this.kernelElf,
      framebuffer: fb
        ? { base: fb.base, width: fb.width, height: fb.height, stride: fb.stride }
        : null,
    });
    const cpu = this.cpu;
    cpu.reset();
    cpu.enterFlatProtectedMode(entry.gdt.base);
    const r = entry.registers;
    cpu.reg32.set([r.eax, r.ecx, r.edx, r.ebx, r.esp, r.ebp, r.esi, r.edi]);
    cpu.eip = r.eip;
    cpu.setEflags(r.eflags);
  }

  /** The RNG seed for this boot: the configured one, a fixed one (deterministic) or fresh entropy. */
  private bootRngSeed(): Uint8Array {
    if (this.config.rngSeed) return this.config.rngSeed;
    const seed = new Uint8Array(RNG_SEED_BYTES);
    if (this.config.timeMode === 'deterministic') seed.forEach((_, i) => (seed[i] = i));
    else globalThis.crypto.getRandomValues(seed);
    return seed;
  }

  // --- Host side ---

  get running(): boolean {
    return this.runningFlag;
  }

  get halted(): HaltReason | null {
    return this.haltReason;
  }

  /**
   * Type into the serial console (COM1). An idle machine waiting for its next timer event wakes
   * at once, so the guest sees the input now rather than at the end of that sleep (up to 50 ms).
   */
  sendSerial(data: string | Uint8Array): void {
    this.com1.receive(data);
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      this.schedule(0);
    }
  }

  /** Start the run loop: slices of a few ms, yielding to the host between them. */
  start(): void {
    if (this.runningFlag || this.haltReason) return;
    this.runningFlag = true;
    if (!this.startHostMs) this.startHostMs = this.hostNowMs();
    this.schedule(0);
  }

  stop(): void {
    this.runningFlag = false;
    this.loopGeneration++;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Reset the whole machine and boot the kernel again. */
  reset(cause: ResetCause = 'host'): void {
    this.pic.reset();
    this.pit.reset();
    this.rtc.reset();
    this.com1.reset();
    this.com2.reset();
    this.i8042.reset();
    this.systemPorts.reset();
    this.mem.u8.fill(0, 0, this.mem.ramBytes);
    this.haltReason = null;
    this.consoleTail = '';
    this.boot();
    this.clock.sync();
    this.onReset?.(cause);
  }

  stats(): MachineStats {
    const uptimeMs = this.startHostMs ? this.hostNowMs() - this.startHostMs : 0;
    return {
      instructions: this.cpu.icount,
      mips: uptimeMs > 0 ? this.cpu.icount / uptimeMs / 1000 : 0,
      uptimeMs,
    };
  }

  private loopGeneration = 0;

  private schedule(delayMs: number): void {
    if (!this.runningFlag) return;
    const generation = ++this.loopGeneration;
    const slice = () => {
      this.timer = null;
      if (!this.runningFlag || generation !== this.loopGeneration) return;
      const sleepMs = this.runSlice(SLICE_HOST_MS);
      this.schedule(sleepMs);
    };
    // A busy guest continues at once (a zero-delay timer is clamped to 1-4 ms by hosts).
    if (delayMs > 0) this.timer = setTimeout(slice, delayMs);
    else yieldToHost(slice);
  }

  /**
   * Run the machine for up to `hostMs` of host time. Returns how long the host may sleep before
   * the next slice (0 when the guest is busy; >0 when the CPU is idle until a future event).
   * Never throws: a failure inside the core stops the machine with an 'error' halt.
   */
  runSlice(hostMs: number): number {
    if (this.haltReason) return -1;
    const deadline = this.hostNowMs() + hostMs;
    try {
      for (;;) {
        this.clock.sync();
        const now = this.clock.nowNs();
        let next = MAX_SLICE_NS;
        for (let i = 0; i < this.timed.length; i++) {
          const d = this.timed[i].advance(now);
          if (d < next) next = d;
        }
        if (next < 1) next = 1;
        const cpu = this.cpu;
        if (cpu.halted) {
          cpu.wakeIfInterrupt();
          if (cpu.haltedForever) {
            this.flushSerial();
            this.halt({ kind: 'poweroff' });
            return -1;
          }
          if (cpu.halted) {
            // Idle: skip to the next event (deterministic) or sleep until it is due (realtime).
            if (this.clock.mode === 'deterministic') {
              this.clock.skipTo(now + next);
              continue;
            }
            this.flushSerial();
            const wait = Math.max(0, (now + next - this.clock.hostNs()) / 1e6);
            // Sleep whole milliseconds (host timers are ms-granular and may fire early); closer
            // deadlines are reached by skipping ahead.
            if (wait >= 1) return Math.min(Math.ceil(wait), 50);
            this.clock.skipTo(now + next);
            continue;
          }
        }
        const budget = Math.max(1, Math.ceil(next / this.clock.nsPerInstruction));
        const t0 = this.hostNowMs();
        const ran = cpu.run(budget);
        this.clock.noteSpeed(ran, (this.hostNowMs() - t0) * 1e6);
        if (this.resetRequested) {
          const cause = this.resetRequested;
          this.resetRequested = null;
          this.flushSerial();
          this.reset(cause);
        }
        if (this.haltReason) return -1;
        if (this.hostNowMs() >= deadline) break;
      }
    } catch (e) {
      this.flushSerial();
      this.halt(this.internalError(e));
      return -1;
    }
    this.flushSerial();
    return 0;
  }

  /** Run until `predicate` (checked between slices) or `timeoutMs` of host time. For tests and the CLI. */
  async runUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    const end = this.hostNowMs() + timeoutMs;
    while (!predicate()) {
      if (this.haltReason || this.hostNowMs() > end) return predicate();
      const sleep = this.runSlice(SLICE_HOST_MS);
      await new Promise((r) => setTimeout(r, sleep > 0 ? sleep : 0));
    }
    return true;
  }

  private requestReset(cause: ResetCause): void {
    this.resetRequested = cause;
    this.cpu.stopRequested = true;
  }

  private halt(reason: HaltReason): void {
    if (this.haltReason) return;
    this.haltReason = reason;
    this.stop();
    this.onHalt?.(reason);
  }

  private internalError(e: unknown): HaltReason {
    const cpu = this.cpu;
    const eip = cpu.instrStart;
    let bytes = '';
    try {
      for (let i = 0; i < 16; i++) bytes += cpu.mem.read8((cpu.csBase + eip + i) >>> 0).toString(16).padStart(2, '0') + ' ';
    } catch {
      bytes = '(unreadable)';
    }
    const message = e === CPU_FAULT
      ? `unhandled CPU fault ${cpu.excVector}`
      : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { kind: 'error', message, eip, bytes: bytes.trim() };
  }

  private serialByte(byte: number): void {
    if (this.serialLen === this.serialOut.length) this.flushSerial();
    this.serialOut[this.serialLen++] = byte;
  }

  private flushSerial(): void {
    if (this.serialLen === 0) return;
    const chunk = this.serialOut.slice(0, this.serialLen);
    this.serialLen = 0;
    this.watchConsole(chunk);
    this.onSerial?.(chunk);
  }

  /** Look for a kernel panic in the console text. */
  private watchConsole(chunk: Uint8Array): void {
    let text = this.consoleTail;
    for (let i = 0; i < chunk.length; i++) text += String.fromCharCode(chunk[i]);
    const at = text.indexOf(PANIC_MARKER);
    if (at >= 0) {
      const line = text.slice(at).split(/\r?\n/)[0];
      this.halt({ kind: 'panic', message: line.trim() });
      return;
    }
    this.consoleTail = text.slice(-PANIC_MARKER.length - 256);
  }

  private log(message: string): void {
    this.onLog?.(message);
  }
}

/**
 * The machine knows its TSC rate exactly, so it tells the kernel (as firmware would through
 * CPUID leaf 0x15 on newer parts) instead of letting it calibrate against the PIT, which is
 * fragile when emulated time is resynchronised with the host between slices. `tsc=reliable`
 * keeps the clocksource watchdog from comparing it with the jiffies-based PIT clock.
 */
export function machineCmdline(cmdline: string): string {
  let extra = '';
  if (!/\btsc_early_khz=/.test(cmdline)) extra += ` tsc_early_khz=${TSC_HZ / 1000}`;
  if (!/\btsc=/.test(cmdline)) extra += ' tsc=reliable';
  return (cmdline + extra).trim();
}

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}
