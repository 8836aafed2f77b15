import type { Clock } from './state';

/** In realtime mode, emulated time further behind the wall clock than this jumps forward. */
const MAX_LAG_NS = 100e6;

/**
 * Emulated time. Between synchronisation points time advances with the instruction count at
 * `nsPerInstruction`, so every device sees a fine-grained, monotonic clock that agrees with the
 * CPU's TSC. The run loop calls `sync()` between slices:
 * - 'realtime': emulated time is pulled forward to the host's wall clock when it lags (the guest
 *   keeps the right time of day) and `nsPerInstruction` follows the measured speed;
 * - 'deterministic': time is a pure function of the instruction count plus the idle skips, so a
 *   run is reproducible.
 */
export class MachineClock implements Clock {
  /** Emulated ns at the start of the current slice. */
  private baseNs = 0;
  /** CPU instruction count at the start of the current slice. */
  private baseInstr = 0;
  nsPerInstruction: number;
  private hostStartMs = 0;

  constructor(
    readonly mode: 'realtime' | 'deterministic',
    private readonly instructionCount: () => number,
    private readonly hostNowMs: () => number,
    nsPerInstruction = 10,
  ) {
    this.nsPerInstruction = nsPerInstruction;
    this.hostStartMs = hostNowMs();
  }

  nowNs(): number {
    return this.baseNs + (this.instructionCount() - this.baseInstr) * this.nsPerInstruction;
  }

  /** Host wall-clock time since power-on, in ns. */
  hostNs(): number {
    return (this.hostNowMs() - this.hostStartMs) * 1e6;
  }

  /**
   * Start a new slice at the current instruction count. In realtime mode the rate of emulated
   * time per instruction follows the measured emulation speed, nudged so emulated time converges
   * on the wall clock; only a large lag (the host stalled) is closed with a jump. Smooth time
   * matters: the guest calibrates its TSC against the PIT in tight polling loops.
   */
  sync(): void {
    let now = this.nowNs();
    if (this.mode === 'realtime') {
      const host = this.hostNs();
      const lag = host - now;
      if (lag > MAX_LAG_NS) now = host;
      // Run emulated time a little faster while it lags the wall clock, slower while it leads.
      const correction = Math.min(2, Math.max(0.5, 1 + lag / 20e6));
      this.nsPerInstruction = Math.min(1000, Math.max(0.2, this.measuredNsPerInstruction * correction));
    }
    this.baseNs = now;
    this.baseInstr = this.instructionCount();
  }

  /** Host time per instruction while the CPU was busy, smoothed (realtime mode). */
  private measuredNsPerInstruction = 10;

  /** The machine reports how long `instructions` took on the host (busy time only). */
  noteSpeed(instructions: number, hostNs: number): void {
    if (instructions < 1000 || hostNs <= 0) return;
    const m = hostNs / instructions;
    this.measuredNsPerInstruction = 0.9 * this.measuredNsPerInstruction + 0.1 * m;
  }

  /** Skip forward (idle CPU) to `ns`. */
  skipTo(ns: number): void {
    const now = this.nowNs();
    this.baseNs = ns > now ? ns : now;
    this.baseInstr = this.instructionCount();
  }

  reset(): void {
    this.baseNs = 0;
    this.baseInstr = this.instructionCount();
    this.hostStartMs = this.hostNowMs();
  }
}
