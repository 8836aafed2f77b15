/**
 * The emulators under test, behind one small interface: start (output goes to a callback),
 * type into the serial console, read instruction counters where the emulator has them, stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PcMachine } from '../src/machine/pc';
import { threadCpuMs } from './host-time';

export type EmulatorName = 'pc-machine' | 'v86' | 'qemu' | 'native';
export const EMULATORS: EmulatorName[] = ['pc-machine', 'v86', 'qemu', 'native'];

export const EMULATOR_TITLES: Record<EmulatorName, string> = {
  'pc-machine': 'pc-machine',
  v86: 'v86 (wasm JIT)',
  qemu: 'QEMU TCG',
  native: 'native x86-64',
};

export const MEMORY_MIB = 128;
export const CMDLINE = 'console=ttyS0';

export interface Counters {
  /** Guest instructions executed so far. */
  instructions?: number;
  /** Host ms the emulator spent executing guest code (pc-machine: inside `cpu.run`). */
  busyMs?: number;
  /** CPU time of the thread running the emulator, in ms (emulators running in this process). */
  cpuMs?: number;
}

function cpuMs(): Pick<Counters, 'cpuMs'> {
  const ms = threadCpuMs();
  return ms === null ? {} : { cpuMs: ms };
}

export interface Driver {
  /** The key that ends a command line. */
  readonly eol: string;
  /** Whether there is a boot to wait for (not for the native shell). */
  readonly boots: boolean;
  /** Untimed preparation (reading files, loading modules). */
  prepare(): Promise<void>;
  /**
   * Start the emulator; `output` receives console text, `died` is called if it stops by itself.
   * Timed as part of the boot.
   */
  start(output: (text: string) => void, died: (reason: Error) => void): void | Promise<void>;
  send(text: string): void;
  counters(): Counters;
  stop(): Promise<void>;
}

export interface DriverOptions {
  repoRoot: string;
  /** Directory with busybox applet links and the natively compiled guest programs. */
  nativeBin?: string;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

function arrayBufferOf(path: string): ArrayBuffer {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** pc-machine, run by its own slice loop (`start()`) in realtime clock mode, as the CLI does. */
class PcMachineDriver implements Driver {
  readonly eol = '\r';
  readonly boots = true;
  private kernel: Uint8Array | null = null;
  private initrd: Uint8Array | null = null;
  private machine: PcMachine | null = null;
  private busyMs = 0;

  constructor(private readonly opts: DriverOptions) {}

  async prepare(): Promise<void> {
    this.kernel = readBytes(join(this.opts.repoRoot, 'images/bzImage'));
    this.initrd = readBytes(join(this.opts.repoRoot, 'images/initramfs.cpio.gz'));
  }

  async start(output: (text: string) => void, died: (reason: Error) => void): Promise<void> {
    // create() inflates the gzip initramfs on the host (timed: it is part of the boot).
    const machine = await PcMachine.create({
      memoryMiB: MEMORY_MIB,
      kernel: this.kernel!,
      initrd: [this.initrd!],
      cmdline: CMDLINE,
      framebuffer: null,
      timeMode: 'realtime',
    });
    this.machine = machine;
    // Busy time: host time spent inside the CPU's run loop (one clock read per slice chunk, as
    // the machine's own speed measurement already does).
    const cpu = machine.cpu;
    const run = cpu.run.bind(cpu);
    cpu.run = (budget: number): number => {
      const t = performance.now();
      const n = run(budget);
      this.busyMs += performance.now() - t;
      return n;
    };
    machine.onSerial = (bytes) => output(latin1(bytes));
    machine.onHalt = (reason) => died(new Error(`pc-machine halted: ${JSON.stringify(reason)}`));
    machine.start();
  }

  send(text: string): void {
    this.machine?.sendSerial(text);
  }

  counters(): Counters {
    return { instructions: this.machine?.cpu.icount ?? 0, busyMs: this.busyMs, ...cpuMs() };
  }

  async stop(): Promise<void> {
    this.machine?.stop();
  }
}

type V86Module = typeof import('v86');
type V86Instance = InstanceType<V86Module['V86']>;

/** v86 from npm: its Node build with the wasm JIT, booting the bzImage through SeaBIOS. */
class V86Driver implements Driver {
  readonly eol = '\r';
  readonly boots = true;
  private mod: V86Module | null = null;
  private files: Record<string, ArrayBuffer> = {};
  private emulator: V86Instance | null = null;
  /** get_instruction_counter() is 32 bits wide: sample it often and accumulate the deltas. */
  private lastCounter = 0;
  private total = 0;
  private sampler: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly opts: DriverOptions) {}

  async prepare(): Promise<void> {
    const lib = join(this.opts.repoRoot, 'node_modules/v86/build/libv86.mjs');
    this.mod = (await import(pathToFileURL(lib).href)) as V86Module;
    this.files = {
      bios: arrayBufferOf('/usr/share/seabios/bios.bin'),
      vgaBios: arrayBufferOf('/usr/share/seabios/vgabios-stdvga.bin'),
      bzimage: arrayBufferOf(join(this.opts.repoRoot, 'images/bzImage')),
      initrd: arrayBufferOf(join(this.opts.repoRoot, 'images/initramfs.cpio.gz')),
    };
  }

  start(output: (text: string) => void): void {
    const emulator = new this.mod!.V86({
      wasm_path: join(this.opts.repoRoot, 'node_modules/v86/build/v86.wasm'),
      memory_size: MEMORY_MIB << 20,
      bios: { buffer: this.files.bios },
      vga_bios: { buffer: this.files.vgaBios },
      bzimage: { buffer: this.files.bzimage },
      initrd: { buffer: this.files.initrd },
      cmdline: CMDLINE,
      autostart: true,
      disable_keyboard: true,
      disable_mouse: true,
      disable_speaker: true,
    });
    this.emulator = emulator;
    emulator.add_listener('serial0-output-byte', (byte: number) => output(String.fromCharCode(byte)));
    this.sampler = setInterval(() => this.sample(), 100);
  }

  private sample(): number {
    const now = this.emulator ? this.emulator.get_instruction_counter() : 0;
    this.total += (now - this.lastCounter + 0x1_0000_0000) % 0x1_0000_0000;
    this.lastCounter = now;
    return this.total;
  }

  send(text: string): void {
    this.emulator?.serial0_send(text);
  }

  counters(): Counters {
    return { instructions: this.sample(), ...cpuMs() };
  }

  async stop(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    const e = this.emulator;
    this.emulator = null;
    if (e) await e.destroy();
  }
}

/** A host process whose stdin/stdout is the console (QEMU's serial on stdio, or a native shell). */
abstract class ProcessDriver implements Driver {
  abstract readonly eol: string;
  abstract readonly boots: boolean;
  protected proc: ChildProcess | null = null;
  private stderrTail = '';

  protected abstract command(): { file: string; args: string[]; env?: NodeJS.ProcessEnv };

  async prepare(): Promise<void> {}

  start(output: (text: string) => void, died: (reason: Error) => void): void {
    const { file, args, env } = this.command();
    const proc = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    this.proc = proc;
    proc.stdout!.on('data', (d: Buffer) => output(d.toString('latin1')));
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('latin1')).slice(-2000);
      if (this.stderrIsConsole) output(d.toString('latin1'));
    });
    proc.stdin!.on('error', () => undefined);
    proc.on('error', (e) => died(e));
    proc.on('exit', (code, signal) => {
      if (this.proc === proc) died(new Error(`${file} exited (${signal ?? code}): ${this.stderrTail.trim().slice(-300)}`));
    });
  }

  /** The native shell prints its prompt on stderr. */
  protected stderrIsConsole = false;

  send(text: string): void {
    this.proc?.stdin?.write(text);
  }

  counters(): Counters {
    return {};
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  }

  /** Synchronous last-resort cleanup (the benchmark process is being terminated). */
  killNow(): void {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

/** QEMU's TCG (a native-code dynamic translator) as the reference emulator. */
class QemuDriver extends ProcessDriver {
  readonly eol = '\r';
  readonly boots = true;

  constructor(private readonly opts: DriverOptions) {
    super();
  }

  protected command() {
    const images = join(this.opts.repoRoot, 'images');
    return {
      file: 'qemu-system-i386',
      args: [
        '-cpu', 'pentium2', '-m', String(MEMORY_MIB), '-nographic', '-no-reboot',
        '-kernel', join(images, 'bzImage'), '-initrd', join(images, 'initramfs.cpio.gz'),
        '-append', CMDLINE,
      ],
    };
  }
}

/**
 * The host's own amd64 busybox (same version as the guest's) as an interactive shell on pipes,
 * with its applets and the guest programs (compiled for the host) first on PATH.
 */
class NativeDriver extends ProcessDriver {
  readonly eol = '\n';
  readonly boots = false;
  protected override stderrIsConsole = true;

  constructor(private readonly opts: DriverOptions) {
    super();
  }

  protected command() {
    const bin = this.opts.nativeBin!;
    return {
      file: join(bin, 'busybox'),
      args: ['sh', '-i'],
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin, PS1: 'root@pc-machine:~# ', LANG: 'C' },
    };
  }
}

export function makeDriver(name: EmulatorName, opts: DriverOptions): Driver {
  switch (name) {
    case 'pc-machine': return new PcMachineDriver(opts);
    case 'v86': return new V86Driver(opts);
    case 'qemu': return new QemuDriver(opts);
    case 'native': return new NativeDriver(opts);
  }
}

export function killDriverNow(d: Driver): void {
  if (d instanceof ProcessDriver) d.killNow();
}
