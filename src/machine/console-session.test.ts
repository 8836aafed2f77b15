import { describe, expect, it } from 'vitest';
import { ConsoleSession, CursorQueryAnswerer } from './console-session';

describe('CursorQueryAnswerer', () => {
  it('answers a query after a prompt with the column after it, and removes the query', () => {
    const replies: string[] = [];
    const q = new CursorQueryAnswerer((t) => replies.push(t));
    expect(q.take('PCM-E 0\r\nroot@pc-machine:~# \x1b[6n')).toBe('PCM-E 0\r\nroot@pc-machine:~# ');
    // 19 characters of prompt: the cursor is in column 20
    expect(replies).toEqual(['\x1b[1;20R']);
  });

  it('finds a query split across chunks, and does not count colour sequences as columns', () => {
    const replies: string[] = [];
    const q = new CursorQueryAnswerer((t) => replies.push(t));
    let out = q.take('\x1b[1;32mok\x1b[0m $ \x1b');
    out += q.take('[');
    expect(replies).toEqual([]);
    out += q.take('6nafter');
    expect(out).toBe('\x1b[1;32mok\x1b[0m $ after');
    expect(replies).toEqual(['\x1b[1;6R']);
  });

  it('answers every query and leaves other escape sequences alone', () => {
    const replies: string[] = [];
    const q = new CursorQueryAnswerer((t) => replies.push(t));
    expect(q.take('ab\x1b[6n\x1b[Kc\x1b[6n\r\n')).toBe('ab\x1b[Kc\r\n');
    expect(replies).toEqual(['\x1b[1;3R', '\x1b[1;4R']);
  });
});

describe('ConsoleSession', () => {
  it('answers the prompt\'s cursor query before the command it sends', async () => {
    const sent: string[] = [];
    const session = new ConsoleSession((t) => sent.push(t));
    session.feed('root@pc-machine:~# \x1b[6n');
    const run = session.exec('true', { timeout: 1000 });
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(sent[0]).toBe('\x1b[1;20R');
    expect(sent[1]).toMatch(/; true ; printf/);
    // the guest prints the markers and a new prompt
    const line = sent[1];
    const begin = /printf '\\(\d{3})([^\\]*)\\n'/.exec(line)!;
    const end = /printf '\\n\\(\d{3})([^ ]*) %d\\n'/.exec(line)!;
    const text = (m: RegExpExecArray) => String.fromCharCode(parseInt(m[1], 8)) + m[2];
    session.feed(`${text(begin)}\r\n\r\n${text(end)} 0\r\nroot@pc-machine:~# \x1b[6n`);
    await expect(run).resolves.toEqual({ output: '', status: 0 });
    expect(sent[2]).toBe('\x1b[1;20R');
  });

  it('sees the prompt when kernel messages come after it, and not when other output does', async () => {
    const session = new ConsoleSession(() => {});
    session.feed('root@pc-machine:~# ls\r\nbin  etc\r\n');
    let seen = false;
    const wait = session.waitForPrompt({ timeout: 1000 }).then(() => (seen = true));
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toBe(false);
    session.feed('root@pc-machine:~# [    1.145828] clocksource: tsc: mask: 0xffffffffffffffff\r\n');
    session.feed('[    1.145981] clocksource: Switched to clocksource tsc\r\n');
    await wait;
    expect(seen).toBe(true);
  });
});
