/** A saved device or CPU state: named fields plus a version, never positional. */
export interface SavedState {
  version: number;
  [field: string]: unknown;
}

/** Everything with state implements this pair; `loadState` re-runs side effects (IRQ levels, timers). */
export interface Stateful {
  saveState(): SavedState;
  loadState(state: SavedState): void;
}

/** Emulated time, in nanoseconds since machine power-on. */
export interface Clock {
  nowNs(): number;
}

/**
 * A device with timer events. The machine calls `advance(now)` before running the CPU;
 * the device processes everything due up to `now` and returns how many nanoseconds
 * until its next event (Infinity when none is scheduled).
 */
export interface Timed {
  advance(nowNs: number): number;
}
