import { describe, expect, it } from 'vitest';
import { MachineClock } from './clock';

describe('MachineClock', () => {
  it('deterministic mode: time is a function of the instruction count plus idle skips', () => {
    let instructions = 0;
    let hostMs = 0;
    const clock = new MachineClock('deterministic', () => instructions, () => hostMs, 10);
    instructions = 1000;
    hostMs = 5000; // the host clock has no influence
    expect(clock.nowNs()).toBe(10_000);
    clock.sync();
    expect(clock.nowNs()).toBe(10_000);
    clock.skipTo(1_000_000); // idle until the next timer event
    instructions += 50;
    expect(clock.nowNs()).toBe(1_000_500);
    clock.skipTo(5); // never backwards
    expect(clock.nowNs()).toBe(1_000_500);
  });

  it('realtime mode: follows the measured speed and catches up with a lagging wall clock', () => {
    let instructions = 0;
    let hostMs = 0;
    const clock = new MachineClock('realtime', () => instructions, () => hostMs, 10);
    for (let i = 0; i < 50; i++) clock.noteSpeed(1_000_000, 20e6); // 20 ns per instruction on the host
    clock.sync();
    expect(clock.nsPerInstruction).toBeGreaterThan(15);
    expect(clock.nsPerInstruction).toBeLessThan(45);
    // The host stalled for a second: emulated time jumps forward instead of drifting.
    hostMs = 1000;
    clock.sync();
    expect(clock.nowNs()).toBeGreaterThanOrEqual(1e9);
    const before = clock.nowNs();
    instructions += 1000;
    expect(clock.nowNs()).toBeGreaterThan(before); // monotonic, fine-grained between syncs
  });
});
