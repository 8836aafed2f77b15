import { describe, expect, it } from 'vitest';
import { buildExec, cleanExecOutput, makeToken } from './exec';
import { OutputLog } from './output-log';
import { stripTerminalControls } from './terminal-text';

describe('buildExec', () => {
  it('types the command between two markers whose typed echo never matches', () => {
    const m = buildExec('uname -r', 'tok1');
    expect(m.line).toBe('echo "__PCM_tok1""_B__"; uname -r; echo "__PCM_tok1""_E$?__"\r');
    expect(m.begin.test(m.line)).toBe(false);
    expect(m.end.test(m.line)).toBe(false);
    expect(m.begin.test('__PCM_tok1_B__\r\n')).toBe(true);
    expect(m.end.exec('__PCM_tok1_E127__')?.[1]).toBe('127');
  });

  it('does not add a ; after a trailing & or ;', () => {
    expect(buildExec('sleep 1 &', 't').line).toContain('; sleep 1 & echo');
    expect(buildExec('true;', 't').line).toContain('; true; echo');
    expect(buildExec('a && b', 't').line).toContain('; a && b; echo');
  });

  it('rejects multi-line and empty commands', () => {
    expect(() => buildExec('a\nb')).toThrow(TypeError);
    expect(() => buildExec('  ')).toThrow(TypeError);
  });

  it('makes distinct tokens', () => {
    const seen = new Set(Array.from({ length: 200 }, () => makeToken()));
    expect(seen.size).toBe(200);
  });

  it('extracts output and status from a realistic serial transcript', async () => {
    const log = new OutputLog();
    const m = buildExec('uname -r', 'abc');
    const since = log.end;
    const begin = log.waitFor(m.begin, { since });
    const end = log.waitFor(m.end, { since });
    // what ash prints: the echo of the typed line (wrapped), then the output, then a new prompt
    const typedEcho = m.line.slice(0, 40) + '\r\n' + m.line.slice(40, -1) + '\r\n';
    const raw = typedEcho + '__PCM_abc_B__\r\n6.1.0-pc\r\n__PCM_abc_E0__\r\nroot@pc-machine:~# \x1b[6n';
    for (let i = 0; i < raw.length; i += 7) log.append(stripTerminalControls(raw.slice(i, i + 7)));
    const b = await begin;
    const e = await end;
    expect(cleanExecOutput(log.slice(b.end, e.end - e.match.length))).toBe('6.1.0-pc\n');
    expect(Number(e.groups[1])).toBe(0);
  });
});
