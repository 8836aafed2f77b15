import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HaltReason, MachineConfig, MachineStats } from '../../src/machine/types';
import { MachineHost, packRows, type MachineFramebuffer, type MachineLike, type ResetCause } from './machine-host';
import type { FromWorker } from './protocol';

/** A scripted stand-in for the core: lets the host's own logic be tested without booting Linux. */
class ScriptedMachine implements MachineLike {
  onSerial: ((bytes: Uint8Array) => void) | null = null;
  onHalt: ((reason: HaltReason) => void) | null = null;
  onReset: ((cause: ResetCause) => void) | null = null;
  calls: string[] = [];
  typed: number[] = [];
  framebuffer: (MachineFramebuffer & { dirty: { first: number; last: number } | null }) | null;
  constructor(readonly config: MachineConfig) {
    const { width, height } = config.framebuffer ?? { width: 0, height: 0 };
    const stride = width * 4 + 8;
    this.framebuffer = config.framebuffer
      ? {
          width,
          height,
          stride,
          pixels: new Uint8Array(stride * height),
          dirty: null,
          takeDirtyRows() {
            const d = this.dirty;
            this.dirty = null;
            return d;
          },
        }
      : null;
  }
  start() {
    this.calls.push('start');
  }
  stop() {
    this.calls.push('stop');
  }
  reset() {
    this.calls.push('reset');
    this.onReset?.('host');
  }
  sendSerial(data: string | Uint8Array) {
    this.typed.push(...(typeof data === 'string' ? new TextEncoder().encode(data) : data));
  }
  stats(): MachineStats {
    return { instructions: 1, mips: 2, uptimeMs: 3 };
  }
}

function setup(factory?: (c: MachineConfig) => MachineLike) {
  const sent: FromWorker[] = [];
  let machine: ScriptedMachine | null = null;
  const host = new MachineHost(
    factory ??
      ((c) => {
        machine = new ScriptedMachine(c);
        return machine;
      }),
    (m) => sent.push(m),
    { framePollMs: 1e6, statsIntervalMs: 1e6, classifyBootError: (e) => (e instanceof Error && e.name === 'BootImageError' ? 'image' : 'machine') },
  );
  const boot = (start = true) =>
    host.handle({
      type: 'boot',
      start,
      config: { memoryMiB: 32, kernel: new ArrayBuffer(4), initrd: [], cmdline: 'x', framebuffer: { width: 4, height: 3 } },
    });
  return { host, sent, boot, machine: () => machine! };
}

afterEach(() => vi.useRealTimers());

describe('packRows', () => {
  it('drops the stride padding', () => {
    const fb = { width: 2, height: 3, stride: 12, pixels: new Uint8Array(36).map((_, i) => i), takeDirtyRows: () => null };
    expect([...packRows(fb, 1, 2)]).toEqual([12, 13, 14, 15, 16, 17, 18, 19, 24, 25, 26, 27, 28, 29, 30, 31]);
    const tight = { ...fb, stride: 8, pixels: new Uint8Array(24).map((_, i) => i) };
    expect([...packRows(tight, 2, 2)]).toEqual([16, 17, 18, 19, 20, 21, 22, 23]);
  });
});

describe('MachineHost', () => {
  it('boots, starts and batches serial output of one slice into one message', async () => {
    const { host, sent, boot, machine } = setup();
    boot();
    expect(sent.slice(0, 2)).toEqual([{ type: 'booted' }, { type: 'state', state: 'running' }]);
    expect(machine().calls).toEqual(['start']);
    machine().onSerial!(new Uint8Array([104, 105]));
    machine().onSerial!(new Uint8Array([33]));
    await Promise.resolve();
    const serial = sent.filter((m) => m.type === 'serial');
    expect(serial).toHaveLength(1);
    expect(new TextDecoder().decode((serial[0] as { data: ArrayBuffer }).data)).toBe('hi!');
    host.handle({ type: 'serial-in', data: new TextEncoder().encode('ls\r').buffer as ArrayBuffer });
    expect(machine().typed).toEqual([108, 115, 13]);
  });

  it("answers the guest's cursor-position query itself and does not pass it to the page", async () => {
    const { sent, boot, machine } = setup();
    boot();
    machine().onSerial!(new TextEncoder().encode('root@pc-machine:~# \x1b['));
    machine().onSerial!(new TextEncoder().encode('6n'));
    await Promise.resolve();
    const serial = sent.filter((m) => m.type === 'serial') as Extract<FromWorker, { type: 'serial' }>[];
    expect(serial.map((m) => new TextDecoder().decode(m.data)).join('')).toBe('root@pc-machine:~# ');
    // answered at once, before anything the page types next
    expect(new TextDecoder().decode(new Uint8Array(machine().typed))).toBe('\x1b[1;20R');
    // other bytes pass unchanged, including non-ASCII ones
    machine().onSerial!(new Uint8Array([0xc3, 0xa9, 0x1b, 0x5b, 0x4b]));
    await Promise.resolve();
    const last = sent.filter((m) => m.type === 'serial').pop() as Extract<FromWorker, { type: 'serial' }>;
    expect([...new Uint8Array(last.data)]).toEqual([0xc3, 0xa9, 0x1b, 0x5b, 0x4b]);
  });

  it('reports a bad boot image as a fatal image error', () => {
    const { sent, boot } = setup(() => {
      const e = new Error('not a bzImage: no HdrS signature');
      e.name = 'BootImageError';
      throw e;
    });
    boot();
    expect(sent).toEqual([{ type: 'error', kind: 'image', message: 'not a bzImage: no HdrS signature', fatal: true }]);
  });

  it('sends one framebuffer band at a time, the first one whole', () => {
    const { host, sent, boot, machine } = setup();
    boot();
    const fb = machine().framebuffer!;
    fb.pixels.fill(7);
    fb.dirty = { first: 1, last: 1 };
    host.handle({ type: 'fb-ack' }); // polls
    const modes = sent.filter((m) => m.type === 'fb-mode');
    expect(modes).toEqual([{ type: 'fb-mode', width: 4, height: 3 }]);
    let bands = sent.filter((m) => m.type === 'fb') as Extract<FromWorker, { type: 'fb' }>[];
    expect(bands.map((b) => [b.first, b.rows, b.data.byteLength])).toEqual([[0, 3, 48]]);
    fb.dirty = { first: 2, last: 2 };
    (host as unknown as { pumpFramebuffer(): void }).pumpFramebuffer();
    expect(sent.filter((m) => m.type === 'fb')).toHaveLength(1); // not acked yet
    host.handle({ type: 'fb-ack' });
    bands = sent.filter((m) => m.type === 'fb') as Extract<FromWorker, { type: 'fb' }>[];
    expect(bands.map((b) => [b.first, b.rows])).toEqual([[0, 3], [2, 1]]);
  });

  it('turns an exception in the machine into a halt and an error, never a throw', () => {
    const { host, sent, boot, machine } = setup();
    boot();
    machine().sendSerial = () => {
      throw new TypeError('boom');
    };
    expect(() => host.handle({ type: 'serial-in', data: new ArrayBuffer(1) })).not.toThrow();
    expect(sent.slice(-2)).toEqual([
      { type: 'halt', reason: { kind: 'error', message: 'TypeError: boom', eip: 0, bytes: '' } },
      { type: 'error', kind: 'machine', message: 'TypeError: boom', fatal: false },
    ]);
  });

  it('restarts a halted machine with a reset, and does not report its own resets twice', () => {
    const { host, sent, boot, machine } = setup();
    boot();
    machine().onHalt!({ kind: 'poweroff' });
    expect(sent.at(-1)).toEqual({ type: 'halt', reason: { kind: 'poweroff' } });
    host.handle({ type: 'start' });
    expect(machine().calls).toEqual(['start', 'reset', 'start']);
    expect(sent.filter((m) => m.type === 'reset')).toEqual([{ type: 'reset', cause: 'host' }]);
    machine().onReset!('guest-reboot');
    expect(sent.filter((m) => m.type === 'reset')).toEqual([
      { type: 'reset', cause: 'host' },
      { type: 'reset', cause: 'guest-reboot' },
    ]);
  });

  it('refuses commands before boot without throwing', () => {
    const { host, sent } = setup();
    host.handle({ type: 'start' });
    expect(sent).toEqual([{ type: 'error', kind: 'worker', message: 'the machine is not booted', fatal: false }]);
  });
});
