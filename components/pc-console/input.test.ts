import { describe, expect, it } from 'vitest';
import { binaryStringToBytes, consoleDataToBytes } from './input';

describe('console input bytes', () => {
  it('sends text as UTF-8 and control sequences unchanged', () => {
    expect([...consoleDataToBytes('ls\r')]).toEqual([0x6c, 0x73, 0x0d]);
    expect([...consoleDataToBytes('\x7f\x1b[A')]).toEqual([0x7f, 0x1b, 0x5b, 0x41]);
    expect([...consoleDataToBytes('é✓')]).toEqual([0xc3, 0xa9, 0xe2, 0x9c, 0x93]);
  });

  it('sends binary strings one byte per character', () => {
    expect([...binaryStringToBytes('\x1b[M\xff\x80')]).toEqual([0x1b, 0x5b, 0x4d, 0xff, 0x80]);
  });
});
