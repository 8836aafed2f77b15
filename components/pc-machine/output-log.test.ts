import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutputLog } from './output-log';

afterEach(() => {
  vi.useRealTimers();
});

describe('OutputLog', () => {
  it('resolves a string waiter with the output up to the match, across chunks', async () => {
    const log = new OutputLog();
    log.append('old hello ');
    const p = log.waitFor('hello-42');
    log.append('echo x\r\nhel');
    log.append('lo-42\r\nmore');
    const m = await p;
    expect(m.match).toBe('hello-42');
    expect(m.output).toBe('echo x\r\nhello-42');
    expect(log.slice(m.end)).toBe('\r\nmore');
  });

  it('only counts output after the call unless since is given', async () => {
    const log = new OutputLog();
    log.append('ready> ');
    const since0 = log.waitFor('ready>', { since: 0 });
    await expect(since0).resolves.toMatchObject({ match: 'ready>' });
    let resolved = false;
    void log.waitFor('ready>').then(() => (resolved = true));
    await Promise.resolve();
    expect(resolved).toBe(false);
    log.append('ready> ');
    await Promise.resolve();
    expect(resolved).toBe(true);
  });

  it('matches regular expressions and ignores their g and y flags', async () => {
    const log = new OutputLog();
    const p = log.waitFor(/status=(\d+)/g);
    log.append('x status=1');
    log.append('7 y');
    const m = await p;
    // the first chunk already matched "status=1"
    expect(m.groups).toEqual(['status=1', '1']);
    const q = log.waitFor(/(\d+) y$/y, { since: 0 });
    await expect(q).resolves.toMatchObject({ groups: ['17 y', '17'] });
  });

  it('rejects on timeout and on failAll', async () => {
    vi.useFakeTimers();
    const log = new OutputLog();
    const t = log.waitFor('never', { timeout: 100 });
    vi.advanceTimersByTime(101);
    await expect(t).rejects.toThrow(/Timed out after 100 ms waiting for "never"/);
    const h = log.waitFor(/never/);
    expect(log.pending).toBe(1);
    log.failAll(new Error('halted'));
    await expect(h).rejects.toThrow('halted');
    expect(log.pending).toBe(0);
  });

  it('bounds memory and keeps absolute positions', () => {
    const log = new OutputLog(100);
    for (let i = 0; i < 50; i++) log.append('0123456789');
    expect(log.end).toBe(500);
    expect(log.slice(0).length).toBeLessThanOrEqual(100);
    expect(log.slice(490)).toBe('0123456789');
  });

  it('finds a string that straddles many small chunks without rescanning everything', async () => {
    const log = new OutputLog();
    const p = log.waitFor('abcdef');
    for (const ch of 'xxabcdeabcdefyy') log.append(ch);
    await expect(p).resolves.toMatchObject({ output: 'xxabcdeabcdef' });
  });
});
