import { describe, expect, it } from 'vitest';
import { TerminalTextFilter, stripTerminalControls } from './terminal-text';

describe('TerminalTextFilter', () => {
  it('drops the cursor-position query busybox sends after a prompt', () => {
    expect(stripTerminalControls('root@pc-machine:~# \x1b[6n')).toBe('root@pc-machine:~# ');
  });

  it('drops colour, cursor and OSC sequences and keeps text, CR, LF, tab and backspace', () => {
    const raw = '\x1b[1;32mgreen\x1b[0m\tx\b\r\n\x1b]0;title\x07after\x1b]2;t\x1b\\end\x1b(Bz\x1b7\x1b8!';
    expect(stripTerminalControls(raw)).toBe('green\tx\b\r\nafterendz!');
  });

  it('drops other C0 controls', () => {
    expect(stripTerminalControls('a\x07b\x00c\x0fd')).toBe('abcd');
  });

  it('keeps state across chunks split inside a sequence', () => {
    const f = new TerminalTextFilter();
    const parts = ['ab\x1b', '[', '6', 'ncd\x1b]0;ti', 'tle\x1b', '\\ef\x1b', '(', 'Bgh'];
    expect(parts.map((p) => f.push(p)).join('')).toBe('abcdefgh');
  });

  it('passes UTF-8 text through', () => {
    expect(stripTerminalControls('größe → ✓')).toBe('größe → ✓');
  });
});
