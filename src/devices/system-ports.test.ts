import { describe, expect, it } from 'vitest';
import { IoBus } from '../io/io-bus';
import { RecordingIrqLine } from '../io/irq';
import type { Clock } from '../machine/state';
import { Pit8254, pitTicksToNs } from './pit8254';
import { SystemPorts } from './system-ports';

class TestClock implements Clock {
  now = 0;
  nowNs(): number {
    return this.now;
  }
}

function setup() {
  const io = new IoBus();
  const clock = new TestClock();
  const pit = new Pit8254(io, clock, new RecordingIrqLine());
  let resets = 0;
  const sys = new SystemPorts(io, pit, () => resets++);
  const unmapped: number[] = [];
  io.onUnmapped = (port) => unmapped.push(port);
  return { io, clock, pit, sys, resets: () => resets, unmapped };
}

describe('SystemPorts', () => {
  it('port 0x61: gate bit drives PIT channel 2, bit 5 shows OUT2, bit 4 toggles', () => {
    const { io, clock } = setup();
    io.write8(0x43, 0xb0); // channel 2, mode 0
    io.write8(0x42, 100);
    io.write8(0x42, 0);
    clock.now = pitTicksToNs(500);
    expect(io.read8(0x61) & 0x20).toBe(0); // gate low: not counting
    io.write8(0x61, 0x03);
    expect(io.read8(0x61) & 0x03).toBe(0x03);
    clock.now = pitTicksToNs(599);
    expect(io.read8(0x61) & 0x20).toBe(0);
    clock.now = pitTicksToNs(600);
    expect(io.read8(0x61) & 0x20).toBe(0x20);
    const a = io.read8(0x61) & 0x10;
    const b = io.read8(0x61) & 0x10;
    expect(a ^ b).toBe(0x10);
    io.write8(0x61, 0xff);
    expect(io.read8(0x61) & 0xcf).toBe(0x0f); // only bits 0-3 are writable
  });

  it('port 0x80 is silently ignored', () => {
    const { io, unmapped } = setup();
    io.write8(0x80, 0x12);
    io.read8(0x80);
    expect(unmapped).toEqual([]);
  });

  it('port 0x92: A20 bit remembered, bit 0 rising edge resets', () => {
    const { io, sys, resets } = setup();
    expect(io.read8(0x92)).toBe(0x02);
    io.write8(0x92, 0x00);
    expect(sys.a20).toBe(false);
    expect(io.read8(0x92)).toBe(0x00);
    io.write8(0x92, 0x02);
    expect(resets()).toBe(0);
    io.write8(0x92, 0x03);
    expect(resets()).toBe(1);
    io.write8(0x92, 0x03);
    expect(resets()).toBe(1);
    sys.reset();
    expect(io.read8(0x92)).toBe(0x02);
  });

  it('saves and restores', () => {
    const a = setup();
    a.io.write8(0x61, 0x01);
    a.io.write8(0x92, 0x00);
    const saved = JSON.parse(JSON.stringify(a.sys.saveState()));
    const b = setup();
    b.sys.loadState(saved);
    expect(b.io.read8(0x61) & 0x0f).toBe(0x01);
    expect(b.io.read8(0x92)).toBe(0x00);
    expect(() => b.sys.loadState({ ...saved, version: 2 })).toThrow();
  });
});
