import { describe, expect, it } from 'vitest';
import { IoBus } from '../io/io-bus';
import type { Clock } from '../machine/state';
import { CmosRtc } from './cmos-rtc';
import { I8042 } from './i8042';
import { Pic8259Pair } from './pic8259';
import { PIT_HZ, Pit8254 } from './pit8254';
import { SystemPorts } from './system-ports';
import { COM1_BASE, Uart16550 } from './uart16550';

class TestClock implements Clock {
  now = 0;
  nowNs(): number {
    return this.now;
  }
}

/** The devices wired as in a PC, with a minimal "CPU" that takes interrupts like Linux does. */
function pc() {
  const io = new IoBus();
  const clock = new TestClock();
  const pic = new Pic8259Pair(io);
  let intr = false;
  pic.onIntrChange = (a) => (intr = a);
  const pit = new Pit8254(io, clock, pic.irqLine(0));
  const sys = new SystemPorts(io, pit, () => {});
  const rtc = new CmosRtc(io, clock, pic.irqLine(8), { wallClockMs: () => 0, memoryBytes: 64 << 20 });
  const com1 = new Uart16550(io, COM1_BASE, pic.irqLine(4), clock);
  const kbc = new I8042(io, pic.irqLine(1), pic.irqLine(12), () => {});
  // init_8259A
  const init = [
    [0x21, 0xff], [0xa1, 0xff],
    [0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01],
    [0xa0, 0x11], [0xa1, 0x38], [0xa1, 0x02], [0xa1, 0x01],
    [0x21, 0x00], [0xa1, 0x00],
  ];
  for (const [port, v] of init) io.write8(port, v);
  const counts = new Map<number, number>();
  const handlers = new Map<number, () => void>();
  /** Take every pending interrupt: INTA, mask-and-ack EOIs, run the handler. */
  const serviceInterrupts = () => {
    while (intr) {
      const vector = pic.acknowledge();
      const irq = vector - 0x30;
      if (irq >= 8) {
        io.write8(0xa0, 0x60 + (irq & 7));
        io.write8(0x20, 0x62);
      } else io.write8(0x20, 0x60 + irq);
      counts.set(irq, (counts.get(irq) ?? 0) + 1);
      handlers.get(irq)?.();
    }
  };
  /** Run until `until`, jumping from one device deadline to the next (an idle guest). */
  const run = (until: number) => {
    for (;;) {
      serviceInterrupts();
      const dt = Math.min(pit.advance(clock.now), rtc.advance(clock.now), com1.advance(clock.now));
      if (clock.now + dt > until) break;
      clock.now += dt;
    }
    clock.now = until;
    pit.advance(until);
    rtc.advance(until);
    com1.advance(until);
    serviceInterrupts();
  };
  return { io, clock, pic, pit, sys, rtc, com1, kbc, counts, handlers, run };
}

describe('PC devices together', () => {
  it('delivers the 100 Hz tick, RTC periodic IRQ8 through the cascade, serial and keyboard input', () => {
    const m = pc();
    const { io } = m;
    // PIT: Linux's periodic clock event.
    io.write8(0x43, 0x34);
    const latch = Math.floor((PIT_HZ + 50) / 100);
    io.write8(0x40, latch & 0xff);
    io.write8(0x40, latch >> 8);
    // RTC: 64 Hz periodic; the handler reads register C.
    io.write8(0x70, 0x0a);
    io.write8(0x71, 0x2a);
    io.write8(0x70, 0x0b);
    io.write8(0x71, 0x42);
    m.handlers.set(8, () => {
      io.write8(0x70, 0x0c);
      io.read8(0x71);
    });
    // COM1: FIFO trigger 8, RX interrupts, OUT2; the handler drains like serial8250_rx_chars.
    io.write8(COM1_BASE + 2, 0x87);
    io.write8(COM1_BASE + 4, 0x0b);
    io.write8(COM1_BASE + 1, 0x01);
    const received: number[] = [];
    m.handlers.set(4, () => {
      while ((io.read8(COM1_BASE + 2) & 1) === 0) {
        while (io.read8(COM1_BASE + 5) & 1) received.push(io.read8(COM1_BASE));
      }
    });
    const keys: number[] = [];
    m.handlers.set(1, () => keys.push(io.read8(0x60)));

    m.run(0.5e9);
    m.com1.receive('hello, world\n');
    m.kbc.keyDown('KeyH');
    m.kbc.keyUp('KeyH');
    m.run(1e9);
    expect(m.counts.get(0)).toBe(Math.floor(PIT_HZ / latch));
    expect(m.counts.get(8)).toBe(64);
    expect(String.fromCharCode(...received)).toBe('hello, world\n');
    expect(keys).toEqual([0x23, 0xa3]);
    expect(m.counts.get(7)).toBeUndefined(); // no spurious interrupts
    expect(m.counts.get(15)).toBeUndefined();
  });
});
