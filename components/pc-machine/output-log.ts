/**
 * The plain-text transcript of a machine's serial output, with waiters that resolve when a string
 * or regular expression shows up. Positions are absolute character offsets since the log was
 * created, so they stay valid when old text is dropped to bound memory.
 */

export interface OutputMatch {
  /** The transcript from the start position through the end of the match. */
  output: string;
  /** The matched text. */
  match: string;
  /** The regular expression's groups (for a string pattern: just the match). */
  groups: string[];
  /** Absolute position just past the match. */
  end: number;
}

interface Waiter {
  pattern: string | RegExp;
  since: number;
  /** Absolute position from which a string pattern can still first appear. */
  scanFrom: number;
  resolve: (m: OutputMatch) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | null;
}

export class OutputLog {
  private text = '';
  /** Absolute position of text[0]. */
  private base = 0;
  private waiters = new Set<Waiter>();

  constructor(private readonly maxChars = 1 << 20) {}

  /** Absolute position just past the last character received. */
  get end(): number {
    return this.base + this.text.length;
  }

  /** The retained transcript from absolute position `since` (clamped to what is retained). */
  slice(since = this.base, to = this.end): string {
    return this.text.slice(Math.max(0, since - this.base), Math.max(0, to - this.base));
  }

  append(plain: string): void {
    if (!plain) return;
    this.text += plain;
    if (this.text.length > this.maxChars) {
      const drop = this.text.length - Math.floor(this.maxChars * 0.75);
      this.text = this.text.slice(drop);
      this.base += drop;
    }
    for (const w of [...this.waiters]) this.check(w);
  }

  /**
   * Resolves when `pattern` appears in the transcript at or after absolute position `since`
   * (default: the current end, so only new output counts). Rejects after `timeout` ms
   * (no timeout when 0 or Infinity) or when {@link failAll} is called.
   */
  waitFor(pattern: string | RegExp, options: { since?: number; timeout?: number } = {}): Promise<OutputMatch> {
    if (typeof pattern === 'string' && pattern.length === 0) return Promise.reject(new TypeError('waitFor: empty pattern'));
    const since = options.since ?? this.end;
    const re = typeof pattern === 'string' ? pattern : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    return new Promise<OutputMatch>((resolve, reject) => {
      const waiter: Waiter = { pattern: re, since, scanFrom: since, resolve, reject, timer: null };
      this.waiters.add(waiter);
      const timeout = options.timeout ?? 0;
      if (timeout > 0 && Number.isFinite(timeout)) {
        waiter.timer = setTimeout(() => {
          this.remove(waiter);
          const what = typeof pattern === 'string' ? JSON.stringify(pattern) : String(pattern);
          reject(new Error(`Timed out after ${timeout} ms waiting for ${what}`));
        }, timeout);
      }
      this.check(waiter);
    });
  }

  /** Rejects every pending waiter with `error` (the machine halted, was reset or removed). */
  failAll(error: Error): void {
    for (const w of [...this.waiters]) {
      this.remove(w);
      w.reject(error);
    }
  }

  get pending(): number {
    return this.waiters.size;
  }

  private remove(w: Waiter): void {
    if (w.timer !== null) clearTimeout(w.timer);
    this.waiters.delete(w);
  }

  private check(w: Waiter): void {
    const from = Math.max(w.since, this.base);
    if (typeof w.pattern === 'string') {
      const scan = Math.max(from, w.scanFrom);
      const idx = this.text.indexOf(w.pattern, scan - this.base);
      if (idx < 0) {
        w.scanFrom = Math.max(from, this.end - w.pattern.length + 1);
        return;
      }
      const endAbs = this.base + idx + w.pattern.length;
      this.remove(w);
      w.resolve({ output: this.slice(from, endAbs), match: w.pattern, groups: [w.pattern], end: endAbs });
      return;
    }
    const hay = this.text.slice(from - this.base);
    const m = w.pattern.exec(hay);
    if (!m) return;
    const endAbs = from + m.index + m[0].length;
    this.remove(w);
    w.resolve({ output: hay.slice(0, m.index + m[0].length), match: m[0], groups: [...m].map((g) => g ?? ''), end: endAbs });
  }
}
