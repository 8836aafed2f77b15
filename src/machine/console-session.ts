/**
 * Scripting a guest's serial console: wait for text, run a shell command and collect its
 * output and exit status. DOM-free and Node-free, shared by the Node runner, the tests and the
 * `<pc-machine>` element.
 */

/** The prompt `/etc/profile` sets in the guest: `root@pc-machine:~# `. */
export const SHELL_PROMPT = /[\w-]+@[\w-]+:[^\r\n]*[#$] $/;

/**
 * The prompt as the last thing on the console, or followed only by kernel messages: the kernel
 * logs to the same serial port, and a late message (`[    1.145981] clocksource: Switched to
 * clocksource tsc`) can come right after the first prompt.
 */
const PROMPT_AT_END = /[\w-]+@[\w-]+:[^\r\n]*[#$] (?:\[\s*\d+\.\d+\] [^\n]*\n)*$/;

const CURSOR_QUERY = '\x1b[6n';

/**
 * Answers the cursor-position queries (`ESC[6n`, DSR 6) in a stream of console output the way a
 * terminal does, with `ESC[row;colR`. Busybox's line editor asks after every prompt; when no
 * answer has come by the time Enter is read, it sleeps 20 ms before running the command (to
 * keep a late answer from being echoed), which an unanswered console pays on every command.
 * Only the column matters to it; the row is reported as 1.
 */
export class CursorQueryAnswerer {
  /** A trailing part of a query split across chunks. */
  private carry = '';
  private column = 0;
  private escape = false;

  constructor(private readonly reply: (text: string) => void) {}

  /** `chunk` without the queries, answering each one. */
  take(chunk: string): string {
    let text = this.carry + chunk;
    this.carry = '';
    for (let k = Math.min(CURSOR_QUERY.length - 1, text.length); k > 0; k--) {
      if (CURSOR_QUERY.startsWith(text.slice(-k))) {
        this.carry = text.slice(-k);
        text = text.slice(0, -k);
        break;
      }
    }
    let out = '';
    for (;;) {
      const at = text.indexOf(CURSOR_QUERY);
      const part = at < 0 ? text : text.slice(0, at);
      this.track(part);
      out += part;
      if (at < 0) return out;
      this.reply(`\x1b[1;${this.column + 1}R`);
      text = text.slice(at + CURSOR_QUERY.length);
    }
  }

  /** Follows the cursor's column: printable characters advance it, CR/LF reset it. */
  private track(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (this.escape) {
        // ESC [ parameters... final byte (0x40..0x7e); other escapes end at their next character
        if (c >= 0x40 && c <= 0x7e && !(c === 0x5b && s.charCodeAt(i - 1) === 0x1b)) this.escape = false;
      } else if (c === 0x1b) this.escape = true;
      else if (c === 0x0a || c === 0x0d) this.column = 0;
      else if (c === 0x08) this.column = Math.max(0, this.column - 1);
      else if (c >= 0x20) this.column++;
    }
  }
}

export interface ExecResult {
  output: string;
  status: number;
}

interface Waiter {
  pattern: RegExp;
  from: number;
  resolve: (match: RegExpExecArray) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | null;
}

export class ConsoleTimeoutError extends Error {}

/** Keep this much console text for matching. */
const MAX_TEXT = 1 << 20;

export class ConsoleSession {
  /** Console output so far (cursor-position queries answered and removed), trimmed to the last MiB. */
  text = '';
  /** Offset of `text[0]` in the whole output stream. */
  private base = 0;
  private readonly decoder = new TextDecoder();
  private readonly queries: CursorQueryAnswerer;
  private waiters: Waiter[] = [];
  private failure: Error | null = null;
  private nonce = 0;
  /** Serialises exec() calls. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly send: (text: string) => void) {
    this.queries = new CursorQueryAnswerer(send);
  }

  /** Absolute position of the end of the output so far. */
  get position(): number {
    return this.base + this.text.length;
  }

  /** Feed guest output. */
  feed(data: Uint8Array | string): void {
    const chunk = typeof data === 'string' ? data : this.decoder.decode(data, { stream: true });
    this.text += this.queries.take(chunk);
    if (this.text.length > MAX_TEXT) {
      const cut = this.text.length - MAX_TEXT / 2;
      this.text = this.text.slice(cut);
      this.base += cut;
    }
    this.check();
  }

  /** The machine stopped: every pending wait fails with `reason`. */
  fail(reason: Error): void {
    this.failure = reason;
    for (const w of this.waiters) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(reason);
    }
    this.waiters = [];
  }

  /** The machine was reset: forget the old output, clear a previous failure. */
  restart(): void {
    this.failure = null;
    this.base += this.text.length;
    this.text = '';
  }

  /**
   * Resolve with the first match of `pattern` in the output after absolute position `from`
   * (default: output not yet seen by a previous wait, i.e. now).
   */
  waitFor(pattern: string | RegExp, options: { timeout?: number; from?: number } = {}): Promise<RegExpExecArray> {
    const re = typeof pattern === 'string' ? new RegExp(escapeRegExp(pattern)) : pattern;
    const from = options.from ?? this.position;
    return new Promise<RegExpExecArray>((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      const w: Waiter = { pattern: re, from, resolve, reject, timer: null };
      const timeout = options.timeout ?? 30_000;
      if (Number.isFinite(timeout)) {
        w.timer = setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new ConsoleTimeoutError(`timed out after ${timeout} ms waiting for ${re}`));
        }, timeout);
      }
      this.waiters.push(w);
      this.check();
    });
  }

  /** Wait until the shell prompt is the last thing on the console (kernel messages aside). */
  waitForPrompt(options: { timeout?: number; from?: number } = {}): Promise<RegExpExecArray> {
    return this.waitFor(PROMPT_AT_END, { from: 0, ...options });
  }

  /**
   * Run `command` in the guest shell; resolves with its output (only its output, `\r\n` → `\n`)
   * and exit status. Markers are printed with octal escapes so the echoed command line never
   * matches them.
   */
  exec(command: string, options: { timeout?: number } = {}): Promise<ExecResult> {
    const run = async (): Promise<ExecResult> => {
      await this.waitForPrompt({ timeout: options.timeout ?? 120_000 });
      const id = `${Date.now().toString(36)}${(this.nonce++).toString(36)}`;
      const begin = `PCM-B-${id}`;
      const end = `PCM-E-${id}`;
      const octal = (s: string) => '\\' + s.charCodeAt(0).toString(8).padStart(3, '0') + s.slice(1);
      const from = this.position;
      this.send(`printf '${octal(begin)}\\n'; ${command} ; printf '\\n${octal(end)} %d\\n' $?\r`);
      const m = await this.waitFor(new RegExp(`${begin}\\r?\\n([\\s\\S]*?)\\r?\\n${end} (\\d+)\\r?\\n`), {
        from,
        timeout: options.timeout ?? 120_000,
      });
      await this.waitFor(PROMPT_AT_END, { from: this.position - 200, timeout: 10_000 }).catch(() => undefined);
      return { output: m[1].replace(/\r\n/g, '\n'), status: Number(m[2]) };
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private check(): void {
    if (this.waiters.length === 0) return;
    const remaining: Waiter[] = [];
    for (const w of this.waiters) {
      const start = Math.max(0, w.from - this.base);
      const re = new RegExp(w.pattern.source, w.pattern.flags.replace('g', '') + 'g');
      re.lastIndex = start;
      const m = re.exec(this.text);
      if (m) {
        if (w.timer) clearTimeout(w.timer);
        w.resolve(m);
      } else remaining.push(w);
    }
    this.waiters = remaining;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
