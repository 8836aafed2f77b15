import { describe, expect, it } from 'vitest';
import { IoBus } from '../io/io-bus';
import { RecordingIrqLine } from '../io/irq';
import { I8042 } from './i8042';

function setup() {
  const io = new IoBus();
  const irq1 = new RecordingIrqLine();
  const irq12 = new RecordingIrqLine();
  let resets = 0;
  const kbc = new I8042(io, irq1, irq12, () => resets++);
  return { io, irq1, irq12, kbc, resets: () => resets };
}

/**
 * Linux's __i8042_command: command, parameter bytes, then `replies` reads, each after waiting
 * for OBF (a bounded wait: the controller must answer at once).
 */
function command(io: IoBus, cmd: number, params: number[] = [], replies = 0): number[] {
  expect(io.read8(0x64) & 0x02).toBe(0); // IBF clear
  io.write8(0x64, cmd);
  for (const p of params) {
    expect(io.read8(0x64) & 0x02).toBe(0);
    io.write8(0x60, p);
  }
  const out: number[] = [];
  for (let i = 0; i < replies; i++) {
    const status = io.read8(0x64);
    expect(status & 0x01).toBe(0x01);
    if (cmd === 0xd3) expect(status & 0x20).toBe(0x20);
    out.push(io.read8(0x60));
  }
  return out;
}

/** Send a byte to the keyboard and collect everything it answers. */
function kbd(io: IoBus, byte: number): number[] {
  io.write8(0x60, byte);
  return drain(io);
}

function drain(io: IoBus): number[] {
  const out: number[] = [];
  while (io.read8(0x64) & 0x01) out.push(io.read8(0x60));
  return out;
}

describe('I8042 controller', () => {
  it("passes Linux's i8042_controller_check, selftest and controller init", () => {
    const { io } = setup();
    expect(drain(io)).toEqual([]); // i8042_flush
    expect(command(io, 0xaa, [], 1)).toEqual([0x55]);
    expect(io.read8(0x64) & 0x04).toBe(0x04); // system flag
    let ctr = command(io, 0x20, [], 1)[0];
    expect(ctr).toBe(0x65); // KBDINT | SYS | AUXDIS | XLATE
    expect(command(io, 0x20, [], 1)[0]).toBe(ctr);
    ctr = (ctr | 0x10) & ~0x01;
    command(io, 0x60, [ctr]);
    expect(command(io, 0x20, [], 1)[0]).toBe(ctr);
    expect(command(io, 0xab, [], 1)).toEqual([0x00]);
  });

  it("passes Linux's i8042_check_aux: AUX loop, AUXDIS toggling, IRQ12 delivery", () => {
    const { io, irq1, irq12 } = setup();
    expect(command(io, 0xd3, [0x5a], 1)).toEqual([0x5a]);
    command(io, 0xa7);
    expect(command(io, 0x20, [], 1)[0] & 0x20).toBe(0x20);
    command(io, 0xa8);
    expect(command(io, 0x20, [], 1)[0] & 0x20).toBe(0);
    // i8042_enable_aux_port, then the AUX IRQ test.
    const ctr = command(io, 0x20, [], 1)[0];
    command(io, 0x60, [(ctr & ~0x20) | 0x02]);
    const before = irq1.raises;
    command(io, 0xd3, [0xa5], 0);
    expect(irq12.level).toBe(true);
    expect(irq1.raises).toBe(before);
    expect(io.read8(0x64) & 0x21).toBe(0x21);
    expect(io.read8(0x60)).toBe(0xa5);
    expect(irq12.level).toBe(false);
  });

  it('times out bytes sent to the empty AUX port', () => {
    const { io } = setup();
    io.write8(0x64, 0xd4);
    io.write8(0x60, 0xf2);
    expect(io.read8(0x64) & 0x61).toBe(0x61); // OBF | AUXDATA | TIMEOUT
    expect(io.read8(0x60)).toBe(0xfe);
    expect(io.read8(0x64) & 0x41).toBe(0);
  });

  it('resets the machine on 0xFE and on an output-port write with bit 0 clear', () => {
    const { io, resets } = setup();
    io.write8(0x64, 0xff); // pulse nothing
    expect(resets()).toBe(0);
    io.write8(0x64, 0xfe);
    expect(resets()).toBe(1);
    io.write8(0x64, 0xd1);
    io.write8(0x60, 0x03);
    expect(resets()).toBe(1);
    expect(command(io, 0xd0, [], 1)[0] & 0x03).toBe(0x03);
    io.write8(0x64, 0xd1);
    io.write8(0x60, 0x02);
    expect(resets()).toBe(2);
  });

  it('reports command/data in the status register', () => {
    const { io } = setup();
    io.write8(0x64, 0xa8);
    expect(io.read8(0x64) & 0x08).toBe(0x08);
    io.write8(0x60, 0xf4);
    expect(io.read8(0x64) & 0x08).toBe(0);
  });
});

describe('I8042 keyboard', () => {
  it('resets with ACK then BAT, raising IRQ1 for each byte', () => {
    const { io, irq1 } = setup();
    io.write8(0x60, 0xff);
    expect(irq1.level).toBe(true);
    expect(io.read8(0x60)).toBe(0xfa);
    expect(irq1.raises).toBe(2); // lowered by the read, raised again for the next byte
    expect(io.read8(0x60)).toBe(0xaa);
    expect(irq1.level).toBe(false);
    expect(io.read8(0x60)).toBe(0xaa); // empty: the last byte again
  });

  it("answers atkbd's probe: GETID (translated and not), LEDs, typematic, enable", () => {
    const { io } = setup();
    expect(kbd(io, 0xf2)).toEqual([0xfa, 0xab, 0x41]); // translation turns 0x83 into 0x41
    expect(kbd(io, 0xf0)).toEqual([0xfa]);
    expect(kbd(io, 0x00)).toEqual([0xfa, 0x41]); // set 2, as a translating controller reports it
    command(io, 0x60, [0x05]); // no translation (Linux's i8042.direct)
    expect(kbd(io, 0xf2)).toEqual([0xfa, 0xab, 0x83]);
    expect(kbd(io, 0xed)).toEqual([0xfa]);
    expect(kbd(io, 0x07)).toEqual([0xfa]);
    expect(kbd(io, 0xf3)).toEqual([0xfa]);
    expect(kbd(io, 0x00)).toEqual([0xfa]);
    expect(kbd(io, 0xf4)).toEqual([0xfa]);
    expect(kbd(io, 0xee)).toEqual([0xee]);
    expect(kbd(io, 0x42)).toEqual([0xfe]);
    expect(kbd(io, 0xf0)).toEqual([0xfa]);
    expect(kbd(io, 0x00)).toEqual([0xfa, 0x02]);
    expect(kbd(io, 0xf0)).toEqual([0xfa]);
    expect(kbd(io, 0x03)).toEqual([0xfe]);
    // A command where a parameter was expected abandons the first command.
    expect(kbd(io, 0xed)).toEqual([0xfa]);
    expect(kbd(io, 0xee)).toEqual([0xee]);
  });

  it('sends set 2 scan codes, translated to set 1 by default', () => {
    const { io, kbc } = setup();
    expect(kbc.keyDown('KeyA')).toBe(true);
    expect(kbc.keyUp('KeyA')).toBe(true);
    kbc.keyDown('ArrowUp');
    kbc.keyUp('ArrowUp');
    kbc.keyDown('Enter');
    kbc.keyDown('F7');
    expect(drain(io)).toEqual([0x1e, 0x9e, 0xe0, 0x48, 0xe0, 0xc8, 0x1c, 0x41]);
    expect(kbc.keyDown('NoSuchKey')).toBe(false);
    command(io, 0x60, [0x01]); // translation off
    kbc.keyDown('KeyA');
    kbc.keyUp('KeyA');
    kbc.keyDown('ArrowLeft');
    kbc.keyUp('ArrowLeft');
    kbc.keyDown('ShiftLeft');
    expect(drain(io)).toEqual([0x1c, 0xf0, 0x1c, 0xe0, 0x6b, 0xe0, 0xf0, 0x6b, 0x12]);
    // Scan code set 1 selected on the keyboard itself.
    kbd(io, 0xf0);
    kbd(io, 0x01);
    kbc.keyDown('Space');
    kbc.keyUp('Space');
    kbc.keyUp('ControlRight');
    expect(drain(io)).toEqual([0x39, 0xb9, 0xe0, 0x9d]);
  });

  it('raises IRQ1 per key byte only when the command byte enables it', () => {
    const { io, irq1, kbc } = setup();
    kbc.keyDown('KeyQ');
    expect(irq1.level).toBe(true);
    io.read8(0x60);
    command(io, 0x60, [0x44]); // KBDINT off
    kbc.keyDown('KeyW');
    expect(irq1.level).toBe(false);
    expect(io.read8(0x64) & 1).toBe(1);
    expect(io.read8(0x60)).toBe(0x11);
  });

  it('holds keyboard bytes while the keyboard interface is disabled', () => {
    const { io, kbc } = setup();
    command(io, 0xad);
    kbc.keyDown('KeyZ');
    expect(io.read8(0x64) & 1).toBe(0);
    // Controller replies still come through.
    expect(command(io, 0x20, [], 1)[0] & 0x10).toBe(0x10);
    command(io, 0xae);
    expect(drain(io)).toEqual([0x2c]);
  });

  it('drops keys while scanning is disabled (0xF5) until enabled (0xF4)', () => {
    const { io, kbc } = setup();
    expect(kbd(io, 0xf5)).toEqual([0xfa]);
    kbc.keyDown('KeyX');
    expect(drain(io)).toEqual([]);
    expect(kbd(io, 0xf4)).toEqual([0xfa]);
    kbc.keyDown('KeyX');
    expect(drain(io)).toEqual([0x2d]);
  });

  it('saves and restores', () => {
    const a = setup();
    command(a.io, 0x60, [0x47]);
    a.kbc.keyDown('KeyB');
    a.kbc.keyDown('KeyN');
    const saved = JSON.parse(JSON.stringify(a.kbc.saveState()));
    const b = setup();
    b.kbc.loadState(saved);
    expect(b.irq1.level).toBe(true);
    expect(drain(b.io)).toEqual([0x30, 0x31]);
    expect(command(b.io, 0x20, [], 1)).toEqual([0x47]);
    expect(() => b.kbc.loadState({ ...saved, version: 3 })).toThrow();
  });
});
