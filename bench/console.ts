/**
 * A timed serial console, driven the same way for every emulator: wait for the shell prompt, send
 * one command line wrapped in begin/end markers (printed with octal escapes, so the echoed command
 * line never contains them, as `ConsoleSession.exec` does), and timestamp the moment the end
 * marker arrives. The timestamp is taken synchronously as the output comes in, so the figure does
 * not depend on when the host's event loop gets round to a promise.
 */
import { CursorQueryAnswerer, SHELL_PROMPT } from '../src/machine/console-session';

/** Escape sequences are ignored when matching. */
const ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** A kernel message on the console ("[  249.404437] random: crng init done"), not command output. */
const KERNEL_MESSAGE = /^\[\s*\d+\.\d+\] [^\n]*(\n|$)/gm;

/** Keep this much console text. */
const KEEP = 1 << 20;

export class ConsoleTimeout extends Error {}
export class ConsoleClosed extends Error {}

interface Waiter {
  /** Returns a value when satisfied. */
  test: () => unknown;
  resolve: (v: { at: number; value: unknown }) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface TimedResult {
  /** Host ms (performance.now) when the command line was handed to the emulator. */
  sentAt: number;
  /** Host ms when the end marker arrived. */
  doneAt: number;
  output: string;
  status: number;
}

export class TimedConsole {
  private text = '';
  private base = 0;
  private waiters: Waiter[] = [];
  private closed: Error | null = null;
  private nonce = 0;
  /** Every byte seen, for diagnostics (the last 64 KiB). */
  get tail(): string {
    return this.text.slice(-65536);
  }

  /**
   * @param send hands text to the emulator's serial input
   * @param eol the key that ends a command line: '\r' on a serial terminal, '\n' on a pipe
   */
  constructor(
    private readonly send: (text: string) => void,
    private readonly eol: string = '\r',
  ) {
    this.queries = new CursorQueryAnswerer(send);
  }

  /** Answers the guest line editor's cursor-position queries, as the terminal of a user would. */
  private readonly queries: CursorQueryAnswerer;

  get position(): number {
    return this.base + this.text.length;
  }

  feed(chunk: string): void {
    if (!chunk) return;
    this.text += this.queries.take(chunk);
    if (this.text.length > KEEP) {
      const cut = this.text.length - KEEP / 2;
      this.text = this.text.slice(cut);
      this.base += cut;
    }
    if (this.waiters.length === 0) return;
    const now = performance.now();
    const left: Waiter[] = [];
    for (const w of this.waiters) {
      const v = w.test();
      if (v === undefined || v === null || v === false) left.push(w);
      else {
        clearTimeout(w.timer);
        w.resolve({ at: now, value: v });
      }
    }
    this.waiters = left;
  }

  /** The emulator is gone: every wait fails. */
  close(reason: Error): void {
    this.closed = reason;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(reason);
    }
    this.waiters = [];
  }

  private wait(test: () => unknown, timeoutMs: number, what: string): Promise<{ at: number; value: unknown }> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(this.closed);
        return;
      }
      const v = test();
      if (v !== undefined && v !== null && v !== false) {
        resolve({ at: performance.now(), value: v });
        return;
      }
      const w: Waiter = {
        test,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new ConsoleTimeout(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}`));
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  /** True when the last line of the output, starting at or after `from`, is the shell prompt. */
  private promptAfter(from: number): boolean {
    const lineStart = this.text.lastIndexOf('\n') + 1;
    if (this.base + lineStart < from && this.base + this.text.length <= from) return false;
    const line = this.text.slice(Math.max(lineStart, from - this.base)).replace(ESCAPE, '');
    return SHELL_PROMPT.test(line);
  }

  /** Resolves with the host time at which the prompt appeared (after position `from`). */
  async waitForPrompt(timeoutMs: number, from = 0): Promise<number> {
    const r = await this.wait(() => this.promptAfter(from), timeoutMs, 'the shell prompt');
    return r.at;
  }

  /**
   * Run `command` and time it: from handing the command line to the emulator to the arrival of
   * the end marker. Waits for the prompt first (untimed) and afterwards (untimed).
   */
  async exec(command: string, timeoutMs: number): Promise<TimedResult> {
    // Normally the prompt is the last thing on the console; a late kernel message after it must
    // not stall the run, so this wait is bounded and its failure ignored.
    await this.waitForPrompt(10_000, 0).catch(() => undefined);
    const id = `${process.pid.toString(36)}${Date.now().toString(36)}${(this.nonce++).toString(36)}`;
    const begin = `PCM-B-${id}`;
    const end = `PCM-E-${id} `;
    const octal = (s: string) => '\\' + s.charCodeAt(0).toString(8).padStart(3, '0') + s.slice(1);
    const from = this.position;
    const line = `printf '${octal(begin)}\\n'; ${command} ; printf '\\n${octal(end)}%d\\n' $?${this.eol}`;
    const sentAt = performance.now();
    this.send(line);
    const endRe = new RegExp(`${end}(\\d+)\\r?\\n`);
    const r = await this.wait(
      () => {
        const start = Math.max(0, from - this.base);
        const at = this.text.indexOf(end, start);
        if (at < 0) return null;
        const m = endRe.exec(this.text.slice(at, at + end.length + 16));
        return m ? { at, status: Number(m[1]) } : null;
      },
      timeoutMs,
      `the end of '${command}'`,
    );
    const { at, status } = r.value as { at: number; status: number };
    const b = this.text.indexOf(begin, Math.max(0, from - this.base));
    let output = b >= 0 && b < at ? this.text.slice(b + begin.length, at) : '';
    output = output.replace(ESCAPE, '').replace(/\r\n/g, '\n').replace(KERNEL_MESSAGE, '').replace(/^\n/, '').replace(/\n$/, '');
    const markerEnd = this.base + at + end.length;
    await this.waitForPrompt(30_000, markerEnd).catch(() => undefined);
    return { sentAt, doneAt: r.at, output, status };
  }

  /** Interrupt a command that timed out (Ctrl-C) and wait for a fresh prompt. */
  async interrupt(timeoutMs = 30_000): Promise<boolean> {
    const from = this.position;
    this.send('\x03');
    try {
      await this.waitForPrompt(timeoutMs, from);
      return true;
    } catch {
      return false;
    }
  }
}
