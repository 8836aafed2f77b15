/**
 * The worker side of `<pc-machine>`: owns one machine, turns page messages into machine calls and
 * machine callbacks into messages. Everything the machine does runs inside try/catch here or in the
 * worker's global error handlers, so a guest can never throw into the page.
 */

import { CursorQueryAnswerer } from '../../src/machine/console-session';
import type { HaltReason, MachineConfig, MachineStats } from '../../src/machine/types';
import type { ErrorKind, FromWorker, ToWorker } from './protocol';

/** What the host needs from the machine core (`PcMachine` in src/machine/pc.ts). */
export interface MachineFramebuffer {
  width: number;
  height: number;
  stride: number;
  pixels: Uint8Array;
  takeDirtyRows(): { first: number; last: number } | null;
}

export interface MachineLike {
  onSerial: ((bytes: Uint8Array) => void) | null | undefined;
  onHalt: ((reason: HaltReason) => void) | null | undefined;
  onReset: ((cause: ResetCause) => void) | null | undefined;
  start(): void;
  stop(): void;
  reset(): void;
  sendSerial(data: string | Uint8Array): void;
  stats(): MachineStats;
  readonly framebuffer: MachineFramebuffer | null;
}

export type ResetCause = 'host' | 'guest-reboot' | 'triple-fault';

export type MachineFactory = (config: MachineConfig) => MachineLike;
export type Post = (message: FromWorker, transfer?: Transferable[]) => void;

/** Copies rows `first..last` of a framebuffer into a packed buffer of `width * 4` bytes a row. */
export function packRows(fb: MachineFramebuffer, first: number, last: number): Uint8Array {
  const rowBytes = fb.width * 4;
  const rows = last - first + 1;
  const out = new Uint8Array(rowBytes * rows);
  if (fb.stride === rowBytes) {
    out.set(fb.pixels.subarray(first * rowBytes, (last + 1) * rowBytes));
  } else {
    for (let r = 0; r < rows; r++) {
      const src = (first + r) * fb.stride;
      out.set(fb.pixels.subarray(src, src + rowBytes), r * rowBytes);
    }
  }
  return out;
}

export interface HostOptions {
  /** Interval of the framebuffer poll in ms (a band is sent only after the page acked the last). */
  framePollMs?: number;
  statsIntervalMs?: number;
  /**
   * Classifies an error thrown while creating the machine: `image` for a kernel or initrd that cannot
   * boot, `attribute` for a bad configuration (their messages are for people), else `machine`.
   */
  classifyBootError?: (err: unknown) => ErrorKind;
}

export class MachineHost {
  private machine: MachineLike | null = null;
  private running = false;
  private halted = false;
  private serialChunks: Uint8Array[] = [];
  /**
   * Answers the guest's cursor-position queries here, next to the machine, so the answer is typed
   * before anything the page types after the prompt (an answer from the page's terminal could
   * arrive after a command line and be read by the command); the queries are not passed on.
   */
  private queries = this.newQueries();
  private serialFlushQueued = false;
  private fbInFlight = false;
  private fbMode: { width: number; height: number } | null = null;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private inHostReset = false;
  private readonly opts: Required<HostOptions>;

  constructor(
    private readonly factory: MachineFactory,
    private readonly post: Post,
    options: HostOptions = {},
  ) {
    this.opts = {
      framePollMs: options.framePollMs ?? 15,
      statsIntervalMs: options.statsIntervalMs ?? 1000,
      classifyBootError: options.classifyBootError ?? (() => 'machine'),
    };
  }

  handle(msg: ToWorker): void {
    if (msg.type === 'boot' ? this.machine !== null : this.machine === null && msg.type !== 'fb-ack') {
      this.error('worker', msg.type === 'boot' ? 'the machine is already booted' : 'the machine is not booted', false);
      return;
    }
    try {
      switch (msg.type) {
        case 'boot':
          this.boot(msg.config, msg.start);
          break;
        case 'start':
          this.start();
          break;
        case 'stop':
          this.stop();
          break;
        case 'reset':
          this.reset();
          break;
        case 'serial-in':
          this.machine?.sendSerial(new Uint8Array(msg.data));
          break;
        case 'fb-ack':
          this.fbInFlight = false;
          this.pumpFramebuffer();
          break;
        default:
          this.error('worker', `unknown message ${JSON.stringify((msg as { type?: unknown }).type)}`, false);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** Reports an error thrown anywhere in the worker: the machine is stopped, the page is told. */
  fail(err: unknown): void {
    const message = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
    const hadMachine = this.machine !== null;
    if (this.machine && this.running) {
      try {
        this.machine.stop();
      } catch {
        /* already broken */
      }
      this.running = false;
      this.halted = true;
      this.stopTimers();
      this.post({ type: 'halt', reason: { kind: 'error', message, eip: 0, bytes: '' } });
    }
    this.error('machine', message, !hadMachine);
  }

  private boot(cfg: Extract<ToWorker, { type: 'boot' }>['config'], start: boolean): void {
    const config: MachineConfig = {
      memoryMiB: cfg.memoryMiB,
      kernel: new Uint8Array(cfg.kernel),
      initrd: cfg.initrd.map((b) => new Uint8Array(b)),
      cmdline: cfg.cmdline,
      framebuffer: cfg.framebuffer,
      timeMode: 'realtime',
    };
    let m: MachineLike;
    try {
      m = this.factory(config);
    } catch (err) {
      this.error(this.opts.classifyBootError(err), err instanceof Error ? err.message : String(err), true);
      return;
    }
    this.machine = m;
    m.onSerial = (bytes) => this.queueSerial(this.answerQueries(bytes));
    m.onHalt = (reason) => this.onHalt(reason);
    m.onReset = (cause) => {
      this.queries = this.newQueries();
      if (this.inHostReset) return;
      this.fbMode = null; // a new boot may set a new mode: resend everything
      this.post({ type: 'reset', cause: cause === 'host' ? 'guest-reboot' : cause });
    };
    this.post({ type: 'booted' });
    // Runs for the worker's lifetime (the page terminates the worker with the element).
    setInterval(() => this.guard(() => this.pumpFramebuffer()), this.opts.framePollMs);
    if (start) this.start();
  }

  private start(): void {
    const m = this.requireMachine();
    if (this.halted) {
      this.hostReset(m);
      this.halted = false;
    }
    if (!this.running) {
      m.start();
      this.running = true;
      this.statsTimer ??= setInterval(() => this.guard(() => this.postStats()), this.opts.statsIntervalMs);
    }
    this.post({ type: 'state', state: 'running' });
  }

  private stop(): void {
    const m = this.requireMachine();
    if (this.running) {
      m.stop();
      this.running = false;
      this.postStats();
    }
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.flushSerial();
    this.post({ type: 'state', state: 'stopped' });
  }

  private reset(): void {
    const m = this.requireMachine();
    this.hostReset(m);
    if (this.halted) {
      this.halted = false;
      m.start();
      this.running = true;
      this.post({ type: 'state', state: 'running' });
    }
  }

  private hostReset(m: MachineLike): void {
    this.flushSerial();
    this.inHostReset = true;
    try {
      m.reset();
    } finally {
      this.inHostReset = false;
    }
    this.fbMode = null;
    this.post({ type: 'reset', cause: 'host' });
  }

  private onHalt(reason: HaltReason): void {
    this.running = false;
    this.halted = true;
    this.flushSerial();
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.guard(() => this.pumpFramebuffer());
    this.post({ type: 'halt', reason });
  }

  private newQueries(): CursorQueryAnswerer {
    return new CursorQueryAnswerer((reply) => this.machine?.sendSerial(reply));
  }

  /** The output without cursor-position queries, each answered (bytes kept as they are otherwise). */
  private answerQueries(bytes: Uint8Array): Uint8Array {
    let text = '';
    for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    const kept = this.queries.take(text);
    if (kept === text) return bytes;
    const out = new Uint8Array(kept.length);
    for (let i = 0; i < kept.length; i++) out[i] = kept.charCodeAt(i);
    return out;
  }

  private queueSerial(bytes: Uint8Array): void {
    this.serialChunks.push(bytes.slice());
    if (!this.serialFlushQueued) {
      this.serialFlushQueued = true;
      queueMicrotask(() => this.flushSerial());
    }
  }

  private flushSerial(): void {
    this.serialFlushQueued = false;
    if (this.serialChunks.length === 0) return;
    const total = this.serialChunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of this.serialChunks) {
      out.set(c, at);
      at += c.length;
    }
    this.serialChunks = [];
    this.post({ type: 'serial', data: out.buffer }, [out.buffer]);
  }

  private pumpFramebuffer(): void {
    const fb = this.machine?.framebuffer;
    if (!fb || this.fbInFlight) return;
    let first: number;
    let last: number;
    if (!this.fbMode || this.fbMode.width !== fb.width || this.fbMode.height !== fb.height) {
      this.fbMode = { width: fb.width, height: fb.height };
      this.post({ type: 'fb-mode', width: fb.width, height: fb.height });
      fb.takeDirtyRows(); // superseded by the whole frame
      first = 0;
      last = fb.height - 1;
    } else {
      const dirty = fb.takeDirtyRows();
      if (!dirty) return;
      first = Math.max(0, dirty.first);
      last = Math.min(fb.height - 1, dirty.last);
      if (last < first) return;
    }
    const data = packRows(fb, first, last);
    this.fbInFlight = true;
    this.post(
      { type: 'fb', width: fb.width, height: fb.height, first, rows: last - first + 1, data: data.buffer as ArrayBuffer },
      [data.buffer],
    );
  }

  private postStats(): void {
    if (this.machine) this.post({ type: 'stats', stats: this.machine.stats() });
  }

  private requireMachine(): MachineLike {
    if (!this.machine) throw new Error('the machine is not booted');
    return this.machine;
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
  }

  private stopTimers(): void {
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    this.statsTimer = null;
  }

  private error(kind: ErrorKind, message: string, fatal: boolean): void {
    this.post({ type: 'error', kind, message, fatal });
  }
}
