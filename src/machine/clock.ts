import type { Clock } from './state';

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

  /** Start a new slice at the current instruction count; in realtime mode catch up with the wall clock. */
  sync(): void {
    let now = this.nowNs();
    if (this.mode === 'realtime') {
      const host = this.hostNs();
      if (host > now) now = host;
    }
    this.baseNs = now;
    this.baseInstr = this.instructionCount();
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
