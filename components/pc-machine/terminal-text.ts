/**
 * Turns the guest's serial output into plain text for matching (`waitFor`, `exec`, the ready
 * prompt): terminal escape sequences are dropped (busybox's cursor-position queries never get
 * here: the worker answers and removes them). Sequences split across chunks are handled: the
 * filter keeps its state between calls.
 */

const ESC = 0x1b;
const BEL = 0x07;

type State =
  | 'text'
  | 'esc' // after ESC
  | 'csi' // ESC [ ... until a final byte 0x40..0x7e
  | 'string' // OSC / DCS / APC / PM / SOS: until BEL or ESC \
  | 'string-esc' // ESC seen inside a string
  | 'charset'; // ESC ( X and friends: one more character

export class TerminalTextFilter {
  private state: State = 'text';

  /** Returns `chunk` without escape sequences and without control characters other than \t \n \r \b. */
  push(chunk: string): string {
    let out = '';
    let runStart = -1;
    const flush = (end: number) => {
      if (runStart >= 0) {
        out += chunk.slice(runStart, end);
        runStart = -1;
      }
    };
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      switch (this.state) {
        case 'text':
          if (c === ESC) {
            flush(i);
            this.state = 'esc';
          } else if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x08) {
            flush(i); // other C0 controls (BEL, SI/SO, NUL...) are not text
          } else if (c === 0x9b) {
            flush(i); // 8-bit CSI
            this.state = 'csi';
          } else if (runStart < 0) {
            runStart = i;
          }
          break;
        case 'esc':
          if (c === 0x5b /* [ */) this.state = 'csi';
          else if (c === 0x5d /* ] */ || c === 0x50 /* P */ || c === 0x5f /* _ */ || c === 0x5e /* ^ */ || c === 0x58 /* X */)
            this.state = 'string';
          else if (c === 0x28 || c === 0x29 || c === 0x2a || c === 0x2b || c === 0x23 || c === 0x25 || c === 0x20)
            this.state = 'charset';
          else if (c === ESC) this.state = 'esc';
          else this.state = 'text'; // two-character sequence (ESC 7, ESC M, ESC c ...)
          break;
        case 'csi':
          if (c >= 0x40 && c <= 0x7e) this.state = 'text';
          else if (c === ESC) this.state = 'esc';
          break;
        case 'string':
          if (c === BEL) this.state = 'text';
          else if (c === ESC) this.state = 'string-esc';
          break;
        case 'string-esc':
          this.state = c === 0x5c /* \ */ ? 'text' : 'string';
          break;
        case 'charset':
          this.state = 'text';
          break;
      }
    }
    flush(chunk.length);
    return out;
  }

  reset(): void {
    this.state = 'text';
  }
}

/** Plain text of a complete string (a fresh filter). */
export function stripTerminalControls(text: string): string {
  return new TerminalTextFilter().push(text);
}
