/**
 * The Intel 8254 programmable interval timer: three 16-bit down counters clocked at 1.193182 MHz.
 * Channel 0 drives IRQ0, channel 1 (DRAM refresh on old PCs) is unconnected, channel 2's gate and
 * output are reached through port 0x61 (see system-ports.ts).
 *
 * Counters are not ticked: each channel remembers when it started counting (in PIT clock ticks
 * derived from the emulated clock) and computes its count and OUT level from the time of the
 * access. Gate-low pauses are folded into an "elapsed ticks" value.
 *
 * Reference: Intel 82C54 datasheet (order 231244): "Control Word Format", "Read Operations"
 * (counter latch, read-back), "Mode Definitions" (modes 0-5), "Gate" table (Figure 19).
 */
import type { IoBus } from '../io/io-bus';
import type { IrqLine } from '../io/irq';
import type { Clock, SavedState, Stateful, Timed } from '../machine/state';

/** The PIT input clock, Hz. */
export const PIT_HZ = 1193182;
export const PIT_PORT_COUNTER0 = 0x40;
export const PIT_PORT_CONTROL = 0x43;

// Control word (port 0x43) fields.
export const PIT_SELECT_SHIFT = 6;
export const PIT_SELECT_READ_BACK = 3;
export const PIT_RW_SHIFT = 4;
export const PIT_RW_LATCH = 0; // counter latch command
export const PIT_RW_LSB = 1;
export const PIT_RW_MSB = 2;
export const PIT_RW_LSB_MSB = 3;
export const PIT_MODE_SHIFT = 1;
export const PIT_BCD = 0x01;
// Read-back command bits (active low COUNT/STATUS).
export const PIT_READ_BACK_NO_COUNT = 0x20;
export const PIT_READ_BACK_NO_STATUS = 0x10;
// Status byte.
export const PIT_STATUS_OUT = 0x80;
export const PIT_STATUS_NULL_COUNT = 0x40;

export const PIT_MODE_INTERRUPT_ON_TERMINAL_COUNT = 0;
export const PIT_MODE_HW_RETRIGGERABLE_ONE_SHOT = 1;
export const PIT_MODE_RATE_GENERATOR = 2;
export const PIT_MODE_SQUARE_WAVE = 3;
export const PIT_MODE_SW_TRIGGERED_STROBE = 4;
export const PIT_MODE_HW_TRIGGERED_STROBE = 5;

const NS_PER_S = 1e9;
const STATE_VERSION = 1;

/** PIT clock ticks elapsed at emulated time `ns` (exact integer arithmetic for any realistic time). */
export function nsToPitTicks(ns: number): number {
  ns = Math.floor(ns);
  const s = Math.floor(ns / NS_PER_S);
  const rem = ns - s * NS_PER_S;
  return s * PIT_HZ + Math.floor((rem * PIT_HZ) / NS_PER_S);
}

/** The earliest emulated time (ns) at which `ticks` PIT clock ticks have elapsed. */
export function pitTicksToNs(ticks: number): number {
  const s = Math.floor(ticks / PIT_HZ);
  const rem = ticks - s * PIT_HZ;
  let ns = s * NS_PER_S + Math.ceil((rem * NS_PER_S) / PIT_HZ);
  while (nsToPitTicks(ns) < ticks) ns++;
  while (ns > 0 && nsToPitTicks(ns - 1) >= ticks) ns--;
  return ns;
}

function fromBcd(v: number): number {
  return ((v >> 12) & 15) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);
}

function toBcd(v: number): number {
  return (
    (Math.floor(v / 1000) % 10 << 12) | (Math.floor(v / 100) % 10 << 8) | (Math.floor(v / 10) % 10 << 4) | v % 10
  );
}

class PitChannel {
  mode = PIT_MODE_SQUARE_WAVE;
  rw = PIT_RW_LSB_MSB;
  bcd = false;
  gate = false;
  /** Count register as last written (raw 16 bits). */
  cr = 0;
  /** A count was written since the last control word (modes 1/5 can be triggered). */
  crWritten = false;
  /** The initial count the counting element is working with: 1..65536 (10000 in BCD). */
  count = 0x10000;
  /** The counting element holds a count (counting or paused); false after a control word. */
  armed = false;
  /** Counting right now (armed and, in modes 0/2/3/4, gate high). */
  running = false;
  /** Elapsed ticks since the count was loaded, as of `resumeTick`. */
  base = 0;
  resumeTick = 0;
  /** Modes 2/3: a count written while counting, loaded at elapsed tick `switchAt` (next reload). */
  pending = -1;
  switchAt = 0;
  /** What the counting element reads while not armed. */
  frozen = 0;
  nullCount = true;
  /** Elapsed ticks at the last IRQ update (rising-edge detection). */
  lastE = 0;
  // Read/write state.
  readHi = false;
  writeHi = false;
  writeLo = 0;
  latchValue = 0;
  latchBytes = 0;
  statusLatched = false;
  statusValue = 0;

  modulus(): number {
    return this.bcd ? 10000 : 0x10000;
  }

  /** The initial count that `cr` stands for (0 means the maximum). */
  crCount(): number {
    const v = this.bcd ? fromBcd(this.cr) : this.cr;
    return v === 0 ? this.modulus() : v;
  }

  elapsed(tick: number): number {
    return this.running ? this.base + (tick - this.resumeTick) : this.base;
  }

  /** Freeze or resume counting at `tick`. */
  setRunning(tick: number, running: boolean): void {
    this.base = this.elapsed(tick);
    this.resumeTick = tick;
    this.running = running;
  }

  /** Load the counting element with `count` at `tick` and start counting (if the gate allows). */
  start(tick: number, count: number): void {
    this.count = count;
    this.armed = true;
    this.pending = -1;
    this.nullCount = false;
    this.base = 0;
    this.lastE = 0;
    this.resumeTick = tick;
    this.running =
      this.gate || this.mode === PIT_MODE_HW_RETRIGGERABLE_ONE_SHOT || this.mode === PIT_MODE_HW_TRIGGERED_STROBE;
  }

  /** Modes 2/3: perform a pending reload with the new count once its time has come. */
  settle(tick: number): void {
    if (this.pending >= 0 && this.elapsed(tick) >= this.switchAt) {
      this.base -= this.switchAt;
      this.lastE -= this.switchAt;
      this.count = this.pending;
      this.pending = -1;
      this.nullCount = false;
    }
  }

  /** Counting element value at `tick` (binary, or BCD digits in BCD mode). */
  value(tick: number): number {
    this.settle(tick);
    if (!this.armed) return this.frozen;
    const e = this.elapsed(tick);
    const n = this.count;
    const m = this.modulus();
    let v: number;
    switch (this.mode) {
      case PIT_MODE_RATE_GENERATOR:
        v = n - (e % n);
        break;
      case PIT_MODE_SQUARE_WAVE: {
        // Decrements by two; each half cycle restarts from the even part of the count.
        const high = Math.ceil(n / 2);
        const p = e % n;
        v = (n & ~1) - 2 * (p < high ? p : p - high);
        break;
      }
      default:
        v = n - e;
        break;
    }
    v = ((v % m) + m) % m;
    return this.bcd ? toBcd(v) : v;
  }

  /** The OUT pin at `tick`. */
  out(tick: number): boolean {
    this.settle(tick);
    if (!this.armed) return this.mode !== PIT_MODE_INTERRUPT_ON_TERMINAL_COUNT;
    const e = this.elapsed(tick);
    const n = this.count;
    switch (this.mode) {
      case PIT_MODE_INTERRUPT_ON_TERMINAL_COUNT:
      case PIT_MODE_HW_RETRIGGERABLE_ONE_SHOT:
        return e >= n;
      case PIT_MODE_RATE_GENERATOR:
        // Low for the one clock during which the count is 1.
        return !this.gate || e % n !== n - 1;
      case PIT_MODE_SQUARE_WAVE:
        return !this.gate || e % n < Math.ceil(n / 2);
      default:
        // Modes 4/5: low for one clock when the count reaches zero.
        return e !== n;
    }
  }

  /** Elapsed tick of the first OUT rising edge after elapsed tick `e` (Infinity if none). */
  nextRisingEdge(e: number): number {
    const n = this.count;
    switch (this.mode) {
      case PIT_MODE_INTERRUPT_ON_TERMINAL_COUNT:
      case PIT_MODE_HW_RETRIGGERABLE_ONE_SHOT:
        return e < n ? n : Infinity;
      case PIT_MODE_RATE_GENERATOR:
      case PIT_MODE_SQUARE_WAVE:
        // (A pending count is loaded exactly at the next such boundary: `switchAt`.)
        return (Math.floor(e / n) + 1) * n;
      default:
        return e < n + 1 ? n + 1 : Infinity;
    }
  }

  status(tick: number): number {
    return (
      (this.out(tick) ? PIT_STATUS_OUT : 0) |
      (this.nullCount ? PIT_STATUS_NULL_COUNT : 0) |
      (this.rw << PIT_RW_SHIFT) |
      (this.mode << PIT_MODE_SHIFT) |
      (this.bcd ? PIT_BCD : 0)
    );
  }

  save(): Record<string, number | boolean> {
    return {
      mode: this.mode,
      rw: this.rw,
      bcd: this.bcd,
      gate: this.gate,
      cr: this.cr,
      crWritten: this.crWritten,
      count: this.count,
      armed: this.armed,
      running: this.running,
      base: this.base,
      resumeTick: this.resumeTick,
      pending: this.pending,
      switchAt: this.switchAt,
      frozen: this.frozen,
      nullCount: this.nullCount,
      lastE: this.lastE,
      readHi: this.readHi,
      writeHi: this.writeHi,
      writeLo: this.writeLo,
      latchValue: this.latchValue,
      latchBytes: this.latchBytes,
      statusLatched: this.statusLatched,
      statusValue: this.statusValue,
    };
  }

  load(s: Record<string, unknown>): void {
    this.mode = s.mode as number;
    this.rw = s.rw as number;
    this.bcd = s.bcd as boolean;
    this.gate = s.gate as boolean;
    this.cr = s.cr as number;
    this.crWritten = s.crWritten as boolean;
    this.count = s.count as number;
    this.armed = s.armed as boolean;
    this.running = s.running as boolean;
    this.base = s.base as number;
    this.resumeTick = s.resumeTick as number;
    this.pending = s.pending as number;
    this.switchAt = s.switchAt as number;
    this.frozen = s.frozen as number;
    this.nullCount = s.nullCount as boolean;
    this.lastE = s.lastE as number;
    this.readHi = s.readHi as boolean;
    this.writeHi = s.writeHi as boolean;
    this.writeLo = s.writeLo as number;
    this.latchValue = s.latchValue as number;
    this.latchBytes = s.latchBytes as number;
    this.statusLatched = s.statusLatched as boolean;
    this.statusValue = s.statusValue as number;
  }
}

export class Pit8254 implements Timed, Stateful {
  private readonly channels = [new PitChannel(), new PitChannel(), new PitChannel()];
  /** Level IRQ0 is currently driven to. */
  private irqLevel = false;

  constructor(
    io: IoBus,
    private readonly clock: Clock,
    private readonly irq0: IrqLine,
  ) {
    io.register(PIT_PORT_COUNTER0, 4, {
      read8: (port) => (port === PIT_PORT_CONTROL ? 0xff : this.readCounter(this.channels[port - PIT_PORT_COUNTER0])),
      write8: (port, value) => {
        if (port === PIT_PORT_CONTROL) this.writeControl(value);
        else this.writeCounter(port - PIT_PORT_COUNTER0, value);
      },
    });
    this.reset();
  }

  /** The state a PC BIOS leaves: every channel in mode 3 with count 65536; gates 0/1 high, gate 2 low. */
  reset(): void {
    const tick = this.tick();
    for (let i = 0; i < 3; i++) {
      const ch = this.channels[i];
      ch.mode = PIT_MODE_SQUARE_WAVE;
      ch.rw = PIT_RW_LSB_MSB;
      ch.bcd = false;
      ch.gate = i !== 2;
      ch.cr = 0;
      ch.crWritten = true;
      ch.readHi = ch.writeHi = false;
      ch.writeLo = 0;
      ch.latchBytes = 0;
      ch.statusLatched = false;
      ch.frozen = 0;
      ch.start(tick, 0x10000);
      ch.lastE = 0;
    }
    this.irqLevel = false;
    this.irq0.lower();
    this.updateIrq(tick);
  }

  /** Channel 2's gate (port 0x61 bit 0). */
  setGate2(level: boolean): void {
    this.setGate(2, level);
  }

  /** Channel 2's OUT pin (port 0x61 bit 5). */
  out2(): boolean {
    return this.channels[2].out(this.tick());
  }

  /** OUT of channel `n` now (for tests and the debugger). */
  out(n: number): boolean {
    return this.channels[n].out(this.tick());
  }

  /** Drive the gate input of channel `n` (datasheet Figure 19: gate operations by mode). */
  setGate(n: number, level: boolean): void {
    const ch = this.channels[n];
    if (ch.gate === level) return;
    const tick = this.tick();
    this.updateIrq(tick);
    ch.settle(tick);
    ch.setRunning(tick, ch.running);
    ch.gate = level;
    switch (ch.mode) {
      case PIT_MODE_HW_RETRIGGERABLE_ONE_SHOT:
      case PIT_MODE_HW_TRIGGERED_STROBE:
        // Rising edge triggers (or retriggers) the count; the level does not matter.
        if (level && ch.crWritten) ch.start(tick, ch.crCount());
        break;
      case PIT_MODE_RATE_GENERATOR:
      case PIT_MODE_SQUARE_WAVE:
        // Low stops counting (OUT goes high); the rising edge reloads the initial count.
        if (level && (ch.armed || ch.crWritten)) ch.start(tick, ch.crCount());
        else ch.setRunning(tick, false);
        break;
      default:
        // Modes 0/4: the gate enables counting.
        ch.setRunning(tick, level && ch.armed);
        break;
    }
    this.updateIrq(tick);
  }

  advance(nowNs: number): number {
    const tick = nsToPitTicks(nowNs);
    this.updateIrq(tick);
    const ch = this.channels[0];
    if (!ch.armed || !ch.running) return Infinity;
    const e = ch.elapsed(tick);
    const edge = ch.nextRisingEdge(e);
    if (edge === Infinity) return Infinity;
    return pitTicksToNs(tick + (edge - e)) - nowNs;
  }

  private tick(): number {
    return nsToPitTicks(this.clock.nowNs());
  }

  /**
   * Bring IRQ0 up to date with channel 0's OUT at `tick`. The PIC latches rising edges, so every
   * OUT rising edge since the last update (usually one per advance) becomes a low-high pulse.
   */
  private updateIrq(tick: number): void {
    const ch = this.channels[0];
    ch.settle(tick);
    const e = ch.elapsed(tick);
    const edge = ch.armed && ch.nextRisingEdge(ch.lastE) <= e;
    ch.lastE = e;
    const out = ch.out(tick);
    if (edge) {
      this.irq0.lower();
      this.irq0.raise();
      this.irqLevel = true;
    }
    if (out !== this.irqLevel) {
      this.irqLevel = out;
      if (out) this.irq0.raise();
      else this.irq0.lower();
    }
  }

  private writeControl(value: number): void {
    const select = value >>> PIT_SELECT_SHIFT;
    const tick = this.tick();
    if (select === PIT_SELECT_READ_BACK) {
      for (let i = 0; i < 3; i++) {
        if (!(value & (2 << i))) continue;
        const ch = this.channels[i];
        if (!(value & PIT_READ_BACK_NO_COUNT)) this.latchCount(ch, tick);
        if (!(value & PIT_READ_BACK_NO_STATUS) && !ch.statusLatched) {
          ch.statusValue = ch.status(tick);
          ch.statusLatched = true;
        }
      }
      return;
    }
    const ch = this.channels[select];
    const rw = (value >>> PIT_RW_SHIFT) & 3;
    if (rw === PIT_RW_LATCH) {
      this.latchCount(ch, tick);
      return;
    }
    if (select === 0) this.updateIrq(tick);
    ch.frozen = ch.value(tick);
    let mode = (value >>> PIT_MODE_SHIFT) & 7;
    if (mode > 5) mode -= 4; // 110/111 are modes 2/3
    ch.mode = mode;
    ch.rw = rw;
    ch.bcd = (value & PIT_BCD) !== 0;
    // A control word resets the counter's logic: no count until one is written.
    ch.armed = false;
    ch.running = false;
    ch.base = 0;
    ch.pending = -1;
    ch.crWritten = false;
    ch.nullCount = true;
    ch.readHi = false;
    ch.writeHi = false;
    ch.latchBytes = 0;
    ch.statusLatched = false;
    if (select === 0) this.updateIrq(tick);
  }

  private latchCount(ch: PitChannel, tick: number): void {
    if (ch.latchBytes > 0) return; // a latched count stays until read
    ch.latchValue = ch.value(tick);
    ch.latchBytes = ch.rw === PIT_RW_LSB_MSB ? 2 : 1;
  }

  private readCounter(ch: PitChannel): number {
    if (ch.statusLatched) {
      ch.statusLatched = false;
      return ch.statusValue;
    }
    let v: number;
    let hi: boolean;
    if (ch.latchBytes > 0) {
      v = ch.latchValue;
      hi = ch.rw === PIT_RW_MSB || (ch.rw === PIT_RW_LSB_MSB && ch.latchBytes === 1);
      ch.latchBytes--;
    } else {
      v = ch.value(this.tick());
      hi = ch.rw === PIT_RW_MSB;
      if (ch.rw === PIT_RW_LSB_MSB) {
        hi = ch.readHi;
        ch.readHi = !ch.readHi;
      }
    }
    return hi ? (v >>> 8) & 0xff : v & 0xff;
  }

  private writeCounter(n: number, value: number): void {
    const ch = this.channels[n];
    const tick = this.tick();
    switch (ch.rw) {
      case PIT_RW_LSB:
        ch.cr = value;
        break;
      case PIT_RW_MSB:
        ch.cr = value << 8;
        break;
      default:
        if (!ch.writeHi) {
          ch.writeLo = value;
          ch.writeHi = true;
          if (ch.mode === PIT_MODE_INTERRUPT_ON_TERMINAL_COUNT) {
            // Mode 0: writing the first byte stops the count and drives OUT low.
            if (n === 0) this.updateIrq(tick);
            ch.frozen = ch.value(tick);
            ch.armed = false;
            ch.running = false;
            if (n === 0) this.updateIrq(tick);
          }
          return;
        }
        ch.writeHi = false;
        ch.cr = ch.writeLo | (value << 8);
        break;
    }
    this.loadCount(n, tick);
  }

  /** A complete count was written to channel `n`'s count register. */
  private loadCount(n: number, tick: number): void {
    const ch = this.channels[n];
    if (n === 0) this.updateIrq(tick);
    ch.crWritten = true;
    ch.nullCount = true;
    switch (ch.mode) {
      case PIT_MODE_HW_RETRIGGERABLE_ONE_SHOT:
      case PIT_MODE_HW_TRIGGERED_STROBE:
        break; // used at the next gate trigger
      case PIT_MODE_RATE_GENERATOR:
      case PIT_MODE_SQUARE_WAVE:
        if (ch.armed) {
          // A new count does not disturb the current cycle: it is loaded at the next reload.
          ch.settle(tick);
          const e = ch.elapsed(tick);
          ch.pending = ch.crCount();
          ch.switchAt = (Math.floor(e / ch.count) + 1) * ch.count;
        } else {
          ch.start(tick, ch.crCount());
        }
        break;
      default:
        // Modes 0/4: counting restarts with the new count.
        ch.start(tick, ch.crCount());
        break;
    }
    if (n === 0) this.updateIrq(tick);
  }

  saveState(): SavedState {
    return {
      version: STATE_VERSION,
      channels: this.channels.map((ch) => ch.save()),
      irqLevel: this.irqLevel,
    };
  }

  loadState(state: SavedState): void {
    if (state.version !== STATE_VERSION) throw new Error(`Pit8254: unsupported state version ${state.version}`);
    const channels = state.channels as Record<string, unknown>[];
    for (let i = 0; i < 3; i++) this.channels[i].load(channels[i]);
    this.irqLevel = state.irqLevel as boolean;
    if (this.irqLevel) this.irq0.raise();
    else this.irq0.lower();
  }
}
