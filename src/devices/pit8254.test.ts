import { describe, expect, it } from 'vitest';
import { IoBus } from '../io/io-bus';
import type { IrqLine } from '../io/irq';
import type { Clock } from '../machine/state';
import { PIT_HZ, Pit8254, nsToPitTicks, pitTicksToNs } from './pit8254';
import { SystemPorts } from './system-ports';

class TestClock implements Clock {
  now = 0;
  nowNs(): number {
    return this.now;
  }
}

/** An IRQ line that records the emulated time of every rising edge. */
class EdgeLine implements IrqLine {
  level = false;
  edges: number[] = [];
  constructor(private readonly clock: TestClock) {}
  raise(): void {
    if (!this.level) this.edges.push(this.clock.now);
    this.level = true;
  }
  lower(): void {
    this.level = false;
  }
}

function setup() {
  const io = new IoBus();
  const clock = new TestClock();
  const irq = new EdgeLine(clock);
  const pit = new Pit8254(io, clock, irq);
  let resets = 0;
  const sys = new SystemPorts(io, pit, () => resets++);
  irq.edges.length = 0;
  return { io, clock, irq, pit, sys, resets: () => resets };
}

/** Let emulated time pass the way the machine does: jump from one PIT deadline to the next. */
function runUntil(pit: Pit8254, clock: TestClock, until: number): void {
  for (;;) {
    const dt = pit.advance(clock.now);
    if (clock.now + dt > until) break;
    clock.now += dt;
  }
  clock.now = until;
  pit.advance(until);
}

function program(io: IoBus, control: number, count: number): void {
  const port = 0x40 + (control >>> 6);
  io.write8(0x43, control);
  io.write8(port, count & 0xff);
  io.write8(port, count >>> 8);
}

function readCount(io: IoBus, channel: number): number {
  const lo = io.read8(0x40 + channel);
  return lo | (io.read8(0x40 + channel) << 8);
}

function latchCount(io: IoBus, channel: number): number {
  io.write8(0x43, channel << 6);
  return readCount(io, channel);
}

const atTick = (t: number) => pitTicksToNs(t);

describe('tick conversion', () => {
  it('round-trips and is exact at second boundaries', () => {
    expect(nsToPitTicks(1e9)).toBe(PIT_HZ);
    expect(nsToPitTicks(3600e9)).toBe(3600 * PIT_HZ);
    for (const t of [0, 1, 2, 1193, 11932, 65536, PIT_HZ - 1, PIT_HZ * 86400 + 12345]) {
      const ns = pitTicksToNs(t);
      expect(nsToPitTicks(ns)).toBe(t);
      if (ns > 0) expect(nsToPitTicks(ns - 1)).toBe(t - 1);
    }
  });
});

describe('Pit8254 channel 0 and IRQ0', () => {
  it('mode 2 (Linux periodic tick) raises IRQ0 once per period, on time', () => {
    const { io, clock, irq, pit } = setup();
    const latch = Math.floor((PIT_HZ + 50) / 100); // Linux's LATCH for HZ=100
    program(io, 0x34, latch);
    runUntil(pit, clock, 10e9);
    expect(irq.edges.length).toBe(Math.floor(nsToPitTicks(10e9) / latch));
    for (let k = 0; k < irq.edges.length; k++) expect(irq.edges[k]).toBe(atTick((k + 1) * latch));
    // Between edges the line is high (OUT is low for a single clock at the end of each period).
    expect(irq.level).toBe(true);
  });

  it('mode 2 counts N..1 and reloads', () => {
    const { io, clock } = setup();
    program(io, 0x34, 1000);
    clock.now = atTick(0);
    expect(latchCount(io, 0)).toBe(1000);
    clock.now = atTick(999);
    expect(latchCount(io, 0)).toBe(1);
    clock.now = atTick(1000);
    expect(latchCount(io, 0)).toBe(1000);
    clock.now = atTick(1250);
    expect(latchCount(io, 0)).toBe(750);
  });

  it('mode 3 square wave: high for the first half, low for the second, IRQ0 on each rising edge', () => {
    const { io, clock, irq, pit } = setup();
    program(io, 0x36, 1000);
    clock.now = atTick(499);
    expect(pit.out(0)).toBe(true);
    clock.now = atTick(500);
    expect(pit.out(0)).toBe(false);
    clock.now = atTick(999);
    expect(pit.out(0)).toBe(false);
    clock.now = atTick(1000);
    expect(pit.out(0)).toBe(true);
    clock.now = 0;
    runUntil(pit, clock, 1e9);
    expect(irq.edges.length).toBe(Math.floor(PIT_HZ / 1000));
    // Odd counts: high (N+1)/2 clocks, low (N-1)/2.
    program(io, 0x36, 5);
    const t0 = nsToPitTicks(clock.now);
    const outs: boolean[] = [];
    for (let t = 0; t < 10; t++) {
      clock.now = atTick(t0 + t);
      outs.push(pit.out(0));
    }
    expect(outs).toEqual([true, true, true, false, false, true, true, true, false, false]);
  });

  it('mode 3 decrements by two', () => {
    const { io, clock } = setup();
    program(io, 0x36, 1000);
    clock.now = atTick(100);
    expect(latchCount(io, 0)).toBe(800);
    clock.now = atTick(600);
    expect(latchCount(io, 0)).toBe(800);
  });

  it('mode 0 one-shot: OUT low until terminal count, one IRQ0, then nothing', () => {
    const { io, clock, irq, pit } = setup();
    program(io, 0x30, 1193);
    expect(irq.level).toBe(false);
    expect(pit.advance(0)).toBe(atTick(1193));
    runUntil(pit, clock, 1e9);
    expect(irq.edges).toEqual([atTick(1193)]);
    expect(pit.advance(clock.now)).toBe(Infinity);
    expect(irq.level).toBe(true);
    // The counter keeps counting down through zero (wraps).
    clock.now = atTick(1193 + 10);
    expect(latchCount(io, 0)).toBe(0x10000 - 10);
    // Reprogramming mode 0 drives OUT low again; writing the LSB alone stops the count.
    io.write8(0x43, 0x30);
    expect(irq.level).toBe(false);
    io.write8(0x40, 0x10);
    expect(pit.advance(clock.now)).toBe(Infinity);
    io.write8(0x40, 0x00);
    expect(pit.advance(clock.now)).toBe(atTick(nsToPitTicks(clock.now) + 16) - clock.now);
  });

  it('mode 4 strobes OUT low for one clock at terminal count', () => {
    const { io, clock, irq, pit } = setup();
    program(io, 0x38, 10);
    expect(irq.level).toBe(true);
    clock.now = atTick(9);
    expect(pit.out(0)).toBe(true);
    clock.now = atTick(10);
    expect(pit.out(0)).toBe(false);
    clock.now = atTick(11);
    expect(pit.out(0)).toBe(true);
    clock.now = 0;
    irq.edges.length = 0;
    runUntil(pit, clock, 1e6);
    expect(irq.edges).toEqual([atTick(11)]);
  });

  it('a count of 0 means 65536', () => {
    const { io, pit } = setup();
    program(io, 0x34, 0);
    expect(pit.advance(0)).toBe(atTick(65536));
    expect(readCount(io, 0)).toBe(0); // 65536 reads back as 0
  });

  it('mode 2: a new count takes effect at the next reload, without disturbing the current period', () => {
    const { io, clock, irq, pit } = setup();
    program(io, 0x34, 1000);
    runUntil(pit, clock, atTick(300));
    io.write8(0x40, 500 & 0xff);
    io.write8(0x40, 500 >> 8);
    expect(latchCount(io, 0)).toBe(700);
    runUntil(pit, clock, atTick(1100));
    expect(latchCount(io, 0)).toBe(400);
    runUntil(pit, clock, atTick(2600));
    expect(irq.edges).toEqual([atTick(1000), atTick(1500), atTick(2000), atTick(2500)]);
  });

  it('supports LSB-only and MSB-only access and BCD counting', () => {
    const { io, clock, pit } = setup();
    io.write8(0x43, 0x14); // LSB only, mode 2
    io.write8(0x40, 100);
    expect(pit.advance(0)).toBe(atTick(100));
    clock.now = atTick(10);
    expect(io.read8(0x40)).toBe(90);
    expect(io.read8(0x40)).toBe(90);
    io.write8(0x43, 0x24); // MSB only
    io.write8(0x40, 2);
    expect(pit.advance(clock.now)).toBe(atTick(10 + 512) - clock.now);
    clock.now = atTick(10 + 256);
    expect(io.read8(0x40)).toBe(1);
    io.write8(0x43, 0x35); // LSB/MSB, mode 2, BCD
    io.write8(0x40, 0x00);
    io.write8(0x40, 0x10); // 1000 decimal
    const t = nsToPitTicks(clock.now);
    clock.now = atTick(t + 1);
    expect(latchCount(io, 0)).toBe(0x0999);
    expect(pit.advance(clock.now)).toBe(atTick(t + 1000) - clock.now);
  });

  it('counter latch freezes the value until both bytes are read', () => {
    const { io, clock } = setup();
    program(io, 0x34, 1000);
    clock.now = atTick(100);
    io.write8(0x43, 0x00);
    clock.now = atTick(300);
    io.write8(0x43, 0x00); // ignored: a count is already latched
    expect(io.read8(0x40)).toBe(900 & 0xff);
    clock.now = atTick(400);
    expect(io.read8(0x40)).toBe(900 >> 8);
    expect(readCount(io, 0)).toBe(600); // live again
  });

  it('read-back returns status then count; status shows OUT, null count, access and mode', () => {
    const { io, clock } = setup();
    io.write8(0x43, 0x34);
    io.write8(0x43, 0xe2); // read-back status of channel 0 (count not latched)
    expect(io.read8(0x40)).toBe(0x80 | 0x40 | 0x30 | 0x04); // OUT high, null count, LSB/MSB, mode 2
    io.write8(0x40, 0xe8);
    io.write8(0x40, 0x03); // 1000
    clock.now = atTick(250);
    io.write8(0x43, 0xc2); // count and status of channel 0
    clock.now = atTick(260);
    expect(io.read8(0x40)).toBe(0x80 | 0x30 | 0x04);
    expect(readCount(io, 0)).toBe(750);
    // Read-back of channels 0 and 2 at once.
    program(io, 0xb0, 0x1234);
    clock.now = atTick(270);
    io.write8(0x43, 0xca); // status and count of channels 0 and 2
    expect(io.read8(0x40)).toBe(0x80 | 0x30 | 0x04);
    expect(readCount(io, 0)).toBe(1000 - 270);
    expect(io.read8(0x42)).toBe(0x30); // channel 2: mode 0, OUT low, gate low
    expect(readCount(io, 2)).toBe(0x1234);
  });
});

describe('Pit8254 channel 2 through port 0x61', () => {
  it("behaves for Linux's pit_calibrate_tsc: mode 0, gate high, poll OUT2 on bit 5", () => {
    const { io, clock } = setup();
    const latch = Math.floor(PIT_HZ / (1000 / 50));
    clock.now = 123_456;
    io.write8(0x61, (io.read8(0x61) & ~0x02) | 0x01);
    io.write8(0x43, 0xb0);
    io.write8(0x42, latch & 0xff);
    io.write8(0x42, latch >> 8);
    const start = clock.now;
    let reads = 0;
    while ((io.read8(0x61) & 0x20) === 0) {
      reads++;
      clock.now += 1000;
    }
    const elapsed = clock.now - start;
    expect(reads).toBeGreaterThan(1000);
    expect(Math.abs(elapsed - 50e6)).toBeLessThan(2000);
    expect(nsToPitTicks(clock.now) - nsToPitTicks(start)).toBeGreaterThanOrEqual(latch);
  });

  it("behaves for Linux's quick_pit_calibrate: the MSB drops by one every 256 clocks", () => {
    const { io, clock } = setup();
    io.write8(0x61, (io.read8(0x61) & ~0x02) | 0x01);
    io.write8(0x43, 0xb0);
    io.write8(0x42, 0xff);
    io.write8(0x42, 0xff);
    const t0 = nsToPitTicks(clock.now);
    for (let i = 0; i < 200; i++) {
      for (const offset of [1, 128, 255]) {
        clock.now = atTick(t0 + 256 * i + offset);
        io.read8(0x42); // LSB
        expect(io.read8(0x42)).toBe(0xff - i);
      }
    }
  });

  it('gate low pauses mode 0; OUT2 goes high at terminal count', () => {
    const { io, clock, pit } = setup();
    io.write8(0x61, 0x01);
    program(io, 0xb0, 1000);
    clock.now = atTick(400);
    io.write8(0x61, 0x00); // gate low
    expect(latchCount(io, 2)).toBe(600);
    clock.now = atTick(5000);
    expect(latchCount(io, 2)).toBe(600);
    expect(io.read8(0x61) & 0x20).toBe(0);
    io.write8(0x61, 0x01);
    clock.now = atTick(5599);
    expect(pit.out2()).toBe(false);
    clock.now = atTick(5600);
    expect(pit.out2()).toBe(true);
    expect(io.read8(0x61) & 0x20).toBe(0x20);
  });

  it('mode 1: the gate rising edge triggers (and retriggers) the one-shot', () => {
    const { io, clock, pit } = setup();
    program(io, 0xb2, 100);
    expect(pit.out2()).toBe(true);
    clock.now = atTick(50);
    pit.setGate2(true);
    expect(pit.out2()).toBe(false);
    clock.now = atTick(120);
    expect(latchCount(io, 2)).toBe(30);
    pit.setGate2(false); // low gate does not stop mode 1
    clock.now = atTick(140);
    expect(latchCount(io, 2)).toBe(10);
    pit.setGate2(true); // retrigger
    clock.now = atTick(239);
    expect(pit.out2()).toBe(false);
    clock.now = atTick(240);
    expect(pit.out2()).toBe(true);
  });

  it('mode 5: strobe one count after the gate trigger', () => {
    const { io, clock, pit } = setup();
    program(io, 0xba, 20);
    clock.now = atTick(5);
    expect(pit.out2()).toBe(true);
    pit.setGate2(true);
    clock.now = atTick(25);
    expect(pit.out2()).toBe(false);
    clock.now = atTick(26);
    expect(pit.out2()).toBe(true);
  });

  it('mode 2/3: gate low forces OUT high and stops; the rising edge reloads', () => {
    const { io, clock, pit } = setup();
    io.write8(0x61, 0x01);
    program(io, 0xb6, 100); // mode 3
    clock.now = atTick(60);
    expect(pit.out2()).toBe(false);
    io.write8(0x61, 0x00);
    expect(pit.out2()).toBe(true);
    clock.now = atTick(1000);
    io.write8(0x61, 0x01);
    expect(latchCount(io, 2)).toBe(100);
    clock.now = atTick(1050);
    expect(pit.out2()).toBe(false);
  });
});

describe('Pit8254 state', () => {
  it('saves and restores counters mid-count', () => {
    const a = setup();
    program(a.io, 0x34, 5000);
    program(a.io, 0xb0, 3000);
    a.io.write8(0x61, 0x01);
    a.clock.now = atTick(1234);
    a.io.write8(0x43, 0x00); // latched count survives too
    const saved = JSON.parse(JSON.stringify(a.pit.saveState()));
    const b = setup();
    b.clock.now = a.clock.now;
    b.pit.loadState(saved);
    b.sys.loadState(a.sys.saveState());
    expect(readCount(b.io, 0)).toBe(5000 - 1234);
    expect(b.pit.advance(b.clock.now)).toBe(a.pit.advance(a.clock.now));
    b.clock.now = a.clock.now = atTick(2000);
    expect(latchCount(b.io, 2)).toBe(latchCount(a.io, 2));
    expect(() => b.pit.loadState({ ...saved, version: 2 })).toThrow();
  });
});
