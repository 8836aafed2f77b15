import { describe, expect, it } from 'vitest';
import { IoBus } from '../io/io-bus';
import { RecordingIrqLine } from '../io/irq';
import type { Clock } from '../machine/state';
import { CmosRtc } from './cmos-rtc';

class TestClock implements Clock {
  now = 0;
  nowNs(): number {
    return this.now;
  }
}

const MiB = 1024 * 1024;

function setup(wall = Date.UTC(2024, 1, 29, 23, 59, 58, 500), memoryBytes = 128 * MiB) {
  const io = new IoBus();
  const clock = new TestClock();
  const irq = new RecordingIrqLine();
  const rtc = new CmosRtc(io, clock, irq, { wallClockMs: () => wall, memoryBytes });
  const read = (reg: number) => {
    io.write8(0x70, reg);
    return io.read8(0x71);
  };
  const write = (reg: number, v: number) => {
    io.write8(0x70, reg);
    io.write8(0x71, v);
  };
  return { io, clock, irq, rtc, read, write };
}

/** Linux's mc146818_get_time: wait out UIP, read everything, re-check. Returns [s, m, h, d, mon, y]. */
function linuxGetTime(read: (r: number) => number, clock: TestClock): number[] {
  for (let tries = 0; tries < 100000; tries++) {
    expect(read(0x0d) & 0x40).toBe(0);
    const seconds = read(0);
    if (read(0x0a) & 0x80) {
      clock.now += 100_000; // udelay(100)
      continue;
    }
    if (seconds !== read(0)) continue;
    const t = [seconds, read(2), read(4), read(7), read(8), read(9)];
    const uip = read(0x0a) & 0x80;
    if (uip || seconds !== read(0)) continue;
    return t;
  }
  throw new Error('no stable time');
}

describe('CmosRtc', () => {
  it('reads the wall clock in BCD, 24-hour mode by default', () => {
    const { read } = setup();
    expect(read(0x0b)).toBe(0x02);
    expect([read(0), read(2), read(4), read(6), read(7), read(8), read(9), read(0x32)]).toEqual([
      0x58, 0x59, 0x23, 0x05, 0x29, 0x02, 0x24, 0x20,
    ]); // Thursday 2024-02-29 23:59:58
    expect(read(0x0d)).toBe(0x80);
  });

  it('follows emulated time across midnight of a leap day', () => {
    const { read, clock, rtc } = setup();
    clock.now = 1.5e9;
    const regs = [0, 2, 4, 6, 7, 8, 9].map(read);
    expect(regs).toEqual([0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24]); // Friday 2024-03-01 00:00:00
    expect(rtc.timeSeconds()).toBe(Date.UTC(2024, 2, 1) / 1000);
  });

  it('binary and 12-hour formats', () => {
    const { read, write } = setup(Date.UTC(2031, 11, 31, 13, 5, 9));
    write(0x0b, 0x04); // binary, 12-hour
    expect([0, 2, 4, 7, 8, 9, 0x32].map(read)).toEqual([9, 5, 0x80 | 1, 31, 12, 31, 20]);
    write(0x0b, 0x00); // BCD, 12-hour
    expect(read(4)).toBe(0x81);
    const am = setup(Date.UTC(2031, 0, 1, 0, 30, 0));
    am.write(0x0b, 0x00);
    expect(am.read(4)).toBe(0x12); // 12 AM
  });

  it('sets UIP for the last 244 µs before each update', () => {
    const { read, clock } = setup(Date.UTC(2024, 0, 1, 0, 0, 0, 0));
    clock.now = 0.5e9;
    expect(read(0x0a)).toBe(0x26);
    clock.now = 1e9 - 245_000;
    expect(read(0x0a) & 0x80).toBe(0);
    clock.now = 1e9 - 243_000;
    expect(read(0x0a) & 0x80).toBe(0x80);
    expect(read(0)).toBe(0x00);
    clock.now = 1e9;
    expect(read(0x0a) & 0x80).toBe(0);
    expect(read(0)).toBe(0x01);
  });

  it("satisfies Linux's mc146818_get_time even when it starts inside the UIP window", () => {
    const { read, clock } = setup(Date.UTC(2024, 5, 15, 12, 34, 56, 999));
    clock.now = 900_000; // wall clock stands at ...56.9999: UIP set
    expect(read(0x0a) & 0x80).toBe(0x80);
    expect(linuxGetTime(read, clock)).toEqual([0x57, 0x34, 0x12, 0x15, 0x06, 0x24]);
  });

  it('periodic interrupt at the rate in register A; register C read clears IRQF and lowers IRQ8', () => {
    const { read, write, clock, irq, rtc } = setup();
    write(0x0a, 0x26); // 1024 Hz
    write(0x0b, 0x02 | 0x40); // PIE
    let count = 0;
    while (clock.now < 1e9) {
      const dt = rtc.advance(clock.now);
      clock.now += dt;
      rtc.advance(clock.now);
      if (clock.now > 1e9) break;
      expect(irq.level).toBe(true);
      const c = read(0x0c);
      expect(c & 0xc0).toBe(0xc0);
      expect(irq.level).toBe(false);
      expect(read(0x0c)).toBe(0);
      count++;
    }
    expect(count).toBe(1024);
    write(0x0a, 0x2f); // 2 Hz
    const t0 = clock.now;
    expect(rtc.advance(t0)).toBeLessThanOrEqual(0.5e9);
    write(0x0b, 0x02);
    expect(rtc.advance(clock.now)).toBe(Infinity);
  });

  it('flags PF without PIE but raises no IRQ', () => {
    const { read, clock, irq, rtc } = setup();
    clock.now = 10e6;
    rtc.advance(clock.now);
    expect(irq.level).toBe(false);
    expect(read(0x0c)).toBe(0x40); // PF at the default 1024 Hz
    clock.now = 0.6e9; // past the update at :59.0
    rtc.advance(clock.now);
    expect(read(0x0c)).toBe(0x40 | 0x10);
    expect(irq.level).toBe(false);
  });

  it('update-ended interrupt once a second; alarm with "don\'t care" fields', () => {
    const { read, write, clock, irq, rtc } = setup(Date.UTC(2024, 0, 1, 10, 20, 29, 0));
    write(0x0a, 0x20); // no periodic rate
    read(0x0c);
    write(0x0b, 0x02 | 0x10); // UIE
    expect(rtc.advance(0)).toBe(1e9);
    clock.now = 1e9;
    rtc.advance(clock.now);
    expect(irq.raises).toBe(1);
    expect(read(0x0c)).toBe(0x80 | 0x10);
    write(0x0b, 0x02 | 0x20); // AIE only
    write(0x01, 0x35); // alarm at xx:xx:35
    write(0x03, 0xc0);
    write(0x05, 0xff);
    for (let s = 2; s <= 5; s++) {
      clock.now = s * 1e9;
      expect(rtc.advance(clock.now)).toBe(1e9);
      expect(irq.level).toBe(false);
    }
    clock.now = 6e9; // 10:20:35
    rtc.advance(clock.now);
    expect(irq.level).toBe(true);
    expect(read(0x0c) & 0xa0).toBe(0xa0);
  });

  it('guest time setting with SET: the clock runs on from the written time', () => {
    const { read, write, clock, rtc } = setup(Date.UTC(2024, 0, 1, 0, 0, 0, 100));
    write(0x0b, 0x80 | 0x02 | 0x10); // SET (clears UIE)
    expect(read(0x0b)).toBe(0x82);
    write(0x0a, 0x70 | 0x06); // divider reset, as mc146818_set_time does
    write(0x09, 0x99);
    write(0x32, 0x19);
    write(0x08, 0x12);
    write(0x07, 0x31);
    write(0x04, 0x23);
    write(0x02, 0x59);
    write(0x00, 0x50);
    clock.now = 5e9; // frozen while SET
    expect(read(0)).toBe(0x50);
    write(0x0b, 0x02);
    write(0x0a, 0x26); // divider restarts: first update 500 ms later
    clock.now = 5.4e9;
    expect(read(0)).toBe(0x50);
    clock.now = 5.5e9;
    expect(read(0)).toBe(0x51);
    clock.now = 14.5e9;
    expect([0, 2, 4, 7, 8, 9, 0x32].map(read)).toEqual([0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x20]);
    expect(rtc.timeSeconds()).toBe(Date.UTC(2000, 0, 1) / 1000);
  });

  it('writing a time register while running moves the clock', () => {
    const { read, write, clock } = setup(Date.UTC(2024, 0, 1, 8, 0, 0, 250));
    write(0x04, 0x17);
    expect(read(4)).toBe(0x17);
    clock.now = 0.75e9;
    expect(read(0)).toBe(0x01);
    expect(read(4)).toBe(0x17);
  });

  it('reports memory sizes and keeps NVRAM', () => {
    const big = setup(undefined, 128 * MiB);
    expect(big.read(0x15) | (big.read(0x16) << 8)).toBe(640);
    expect(big.read(0x17) | (big.read(0x18) << 8)).toBe(0xffff);
    expect(big.read(0x30) | (big.read(0x31) << 8)).toBe(0xffff);
    expect(big.read(0x34) | (big.read(0x35) << 8)).toBe((128 - 16) * 16);
    const small = setup(undefined, 32 * MiB);
    expect(small.read(0x17) | (small.read(0x18) << 8)).toBe(31 * 1024);
    expect(small.read(0x34) | (small.read(0x35) << 8)).toBe(16 * 16);
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += small.read(i);
    expect((small.read(0x2e) << 8) | small.read(0x2f)).toBe(sum);
    small.write(0x40, 0xab);
    small.write(0x7f, 0xcd);
    expect(small.read(0x40)).toBe(0xab);
    expect(small.read(0x7f)).toBe(0xcd);
    small.write(0x0d, 0);
    expect(small.read(0x0d)).toBe(0x80);
    small.io.write8(0x70, 0x80 | 0x40); // NMI mask bit does not change the index
    expect(small.io.read8(0x71)).toBe(0xab);
    expect(small.rtc.nmiDisabled).toBe(true);
  });

  it('saves and restores', () => {
    const a = setup();
    a.write(0x0b, 0x02 | 0x40);
    a.write(0x50, 0x77);
    a.clock.now = 3e6;
    a.rtc.advance(a.clock.now);
    expect(a.irq.level).toBe(true);
    const saved = JSON.parse(JSON.stringify(a.rtc.saveState()));
    const b = setup(0);
    b.clock.now = a.clock.now;
    b.rtc.loadState(saved);
    expect(b.irq.level).toBe(true);
    expect(b.read(0x50)).toBe(0x77);
    expect(b.read(0x0c) & 0x40).toBe(0x40);
    b.clock.now = a.clock.now = 7.25e9;
    expect(b.read(0)).toBe(a.read(0));
    expect(b.read(7)).toBe(0x01);
    expect(() => b.rtc.loadState({ ...saved, version: 9 })).toThrow();
  });
});
