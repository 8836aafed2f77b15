import { describe, expect, it } from 'vitest';
import { IoBus } from '../io/io-bus';
import { RecordingIrqLine } from '../io/irq';
import type { Clock } from '../machine/state';
import { COM1_BASE, Uart16550 } from './uart16550';

class TestClock implements Clock {
  now = 0;
  nowNs(): number {
    return this.now;
  }
}

const B = COM1_BASE;
const [RBR, THR, IER, IIR, FCR] = [B, B, B + 1, B + 2, B + 2];
const [LCR, MCR, LSR, MSR, SCR] = [B + 3, B + 4, B + 5, B + 6, B + 7];

function setup() {
  const io = new IoBus();
  const clock = new TestClock();
  const irq = new RecordingIrqLine();
  const uart = new Uart16550(io, COM1_BASE, irq, clock);
  const sent: number[] = [];
  uart.onTransmit = (b) => sent.push(b);
  return { io, clock, irq, uart, sent };
}

/** Linux's 8250 autoconfig(), reduced to the reads and writes that decide the port type. */
function linuxAutoconfig(io: IoBus): string {
  const scratch = io.read8(IER);
  io.write8(IER, 0);
  io.write8(0x80, 0xff);
  const scratch2 = io.read8(IER) & 0x0f;
  io.write8(IER, 0x0f);
  io.write8(0x80, 0);
  const scratch3 = io.read8(IER) & 0x0f;
  io.write8(IER, scratch);
  if (scratch2 !== 0 || scratch3 !== 0x0f) return 'none (IER test)';
  const saveMcr = io.read8(MCR);
  const saveLcr = io.read8(LCR);
  io.write8(MCR, 0x10 | 0x0a); // loopback + RTS + OUT2
  const status1 = io.read8(MSR) & 0xf0;
  io.write8(MCR, saveMcr);
  if (status1 !== 0x90) return 'none (loop test)';
  io.write8(LCR, 0xbf);
  io.write8(B + 2, 0); // EFR
  io.write8(LCR, 0);
  io.write8(FCR, 0x01);
  const kind = io.read8(IIR) >> 6;
  if (kind !== 3) return `type ${kind}`;
  // autoconfig_16550a: no EFR under DLAB, no 64-byte FIFO, no UUE bit.
  io.write8(LCR, 0x80);
  if (io.read8(B + 2) === 0) return 'EFR';
  io.write8(LCR, 0);
  io.write8(FCR, 0x01 | 0x20);
  const s1 = io.read8(IIR) >> 5;
  io.write8(FCR, 0x01);
  io.write8(LCR, 0x80);
  io.write8(FCR, 0x01 | 0x20);
  const s2 = io.read8(IIR) >> 5;
  io.write8(FCR, 0x01);
  io.write8(LCR, 0);
  if (s1 === 6 && s2 === 7) return '16750';
  const iersave = io.read8(IER);
  io.write8(IER, iersave | 0x40);
  if (io.read8(IER) & 0x40) return 'XScale';
  io.write8(IER, iersave);
  io.write8(LCR, saveLcr);
  // scratch register
  io.write8(SCR, 0xa5);
  if (io.read8(SCR) !== 0xa5) return 'no scratch';
  return '16550A';
}

describe('Uart16550', () => {
  it("is detected as a 16550A by Linux's autoconfig", () => {
    const { io } = setup();
    expect(linuxAutoconfig(io)).toBe('16550A');
  });

  it('loopback: transmitted bytes come back, MSR mirrors MCR outputs, nothing reaches the host', () => {
    const { io, sent } = setup();
    io.write8(MCR, 0x10);
    expect(io.read8(MSR) & 0xf0).toBe(0);
    io.write8(MCR, 0x10 | 0x01 | 0x04); // DTR -> DSR, OUT1 -> RI
    expect(io.read8(MSR) & 0xf0).toBe(0x20 | 0x40);
    io.write8(MCR, 0x10 | 0x01);
    expect(io.read8(MSR)).toBe(0x20 | 0x04); // RI trailing edge: TERI
    io.write8(THR, 0x41);
    expect(io.read8(LSR) & 0x01).toBe(1);
    expect(io.read8(RBR)).toBe(0x41);
    expect(io.read8(LSR) & 0x01).toBe(0);
    expect(sent).toEqual([]);
    io.write8(MCR, 0);
    io.write8(THR, 0x42);
    expect(sent).toEqual([0x42]);
  });

  it('programs the divisor through DLAB', () => {
    const { io, uart } = setup();
    io.write8(LCR, 0x83);
    io.write8(B, 0x01);
    io.write8(B + 1, 0x00);
    expect(io.read8(B)).toBe(1);
    expect(io.read8(B + 1)).toBe(0);
    io.write8(LCR, 0x03); // 8N1
    expect(io.read8(LCR)).toBe(0x03);
    // 10 bits at 115200 baud.
    expect(uart.characterTimeNs()).toBe(Math.ceil(10e9 / 115200));
  });

  it('THRE interrupt: raised by enabling ETBEI, cleared by reading IIR or writing THR, gated by OUT2', () => {
    const { io, irq, sent } = setup();
    io.write8(IER, 0x02);
    expect(io.read8(IIR)).toBe(0x02); // pending, but ...
    expect(irq.level).toBe(false); // ... OUT2 is off: no IRQ
    io.write8(IER, 0);
    io.write8(MCR, 0x08); // OUT2
    io.write8(IER, 0x02);
    expect(irq.level).toBe(true);
    expect(io.read8(LSR) & 0x60).toBe(0x60);
    expect(io.read8(IIR)).toBe(0x02);
    expect(irq.level).toBe(false);
    expect(io.read8(IIR)).toBe(0x01);
    // Linux's UART_BUG_THRE test: toggling ETBEI re-asserts THRE.
    io.write8(IER, 0);
    io.write8(IER, 0x02);
    expect(io.read8(IIR)).toBe(0x02);
    // Writing THR: the byte goes out at once and THR is empty again.
    const raises = irq.raises;
    io.write8(THR, 0x55);
    expect(sent).toEqual([0x55]);
    expect(irq.level).toBe(true);
    expect(irq.raises).toBe(raises + 1);
    io.write8(IER, 0);
    expect(irq.level).toBe(false);
  });

  it('orders IIR: line status > received data > THR empty > modem status', () => {
    const { io, uart } = setup();
    io.write8(MCR, 0x10); // loopback (to create an overrun and modem deltas)
    io.write8(THR, 1);
    io.write8(THR, 2); // FIFOs off: the holding register overruns
    io.write8(MCR, 0x10 | 0x02); // RTS -> CTS: DCTS
    io.write8(IER, 0x0f);
    expect(io.read8(IIR)).toBe(0x06);
    expect(io.read8(LSR) & 0x03).toBe(0x03); // OE + DR; reading clears OE
    expect(io.read8(IIR)).toBe(0x04);
    expect(io.read8(RBR)).toBe(1);
    expect(io.read8(IIR)).toBe(0x02); // THRE, cleared by this read
    expect(io.read8(IIR)).toBe(0x00); // modem status
    expect(io.read8(MSR) & 0x01).toBe(0x01);
    expect(io.read8(IIR)).toBe(0x01);
    expect(uart.pendingInput).toBe(0);
  });

  it('FIFO: data-available at the trigger level, character timeout below it', () => {
    const { io, clock, irq, uart } = setup();
    io.write8(LCR, 0x83);
    io.write8(B, 1);
    io.write8(B + 1, 0);
    io.write8(LCR, 0x03);
    io.write8(FCR, 0x81); // FIFO on, trigger 8
    io.write8(MCR, 0x08);
    io.write8(IER, 0x01);
    uart.receive('abcdefg');
    expect(io.read8(IIR)).toBe(0xc1);
    uart.receive('h');
    expect(irq.level).toBe(true);
    expect(io.read8(IIR)).toBe(0xc4);
    for (const c of 'abcdefgh') expect(io.read8(RBR)).toBe(c.charCodeAt(0));
    expect(irq.level).toBe(false);
    expect(io.read8(LSR) & 1).toBe(0);

    clock.now = 1_000_000;
    uart.receive('xyz');
    expect(irq.level).toBe(false);
    const timeout = 4 * uart.characterTimeNs();
    expect(uart.advance(clock.now)).toBe(timeout);
    clock.now += timeout - 1;
    uart.advance(clock.now);
    expect(irq.level).toBe(false);
    clock.now += 1;
    expect(uart.advance(clock.now)).toBe(Infinity);
    expect(irq.level).toBe(true);
    expect(io.read8(IIR)).toBe(0xcc);
    expect(io.read8(RBR)).toBe(0x78); // a read clears the timeout and restarts it
    expect(irq.level).toBe(false);
    expect(uart.advance(clock.now)).toBe(timeout);
    // FIFO reset empties the receive FIFO.
    io.write8(FCR, 0x83);
    expect(io.read8(LSR) & 1).toBe(0);
    expect(uart.advance(clock.now)).toBe(Infinity);
  });

  it('trigger levels 1, 4, 8, 14', () => {
    for (const [fcr, level] of [[0x01, 1], [0x41, 4], [0x81, 8], [0xc1, 14]]) {
      const { io, uart } = setup();
      io.write8(FCR, fcr);
      io.write8(IER, 0x01);
      uart.receive(new Uint8Array(level - 1));
      expect(io.read8(IIR) & 0x0f).toBe(0x01);
      uart.receive(new Uint8Array(1));
      expect(io.read8(IIR) & 0x0f).toBe(0x04);
    }
  });

  it('never drops host input: 10 KB arrive intact through the FIFO and through the holding register', () => {
    for (const fcr of [0xc7, 0x00]) {
      const { io, uart } = setup();
      io.write8(FCR, fcr);
      const data = new Uint8Array(10 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
      uart.receive(data.subarray(0, 4000));
      uart.receive(data.subarray(4000));
      expect(uart.pendingInput).toBe(data.length - (fcr ? 16 : 1));
      const got: number[] = [];
      while (io.read8(LSR) & 1) got.push(io.read8(RBR));
      expect(io.read8(LSR) & 0x02).toBe(0); // no overrun
      expect(new Uint8Array(got)).toEqual(data);
    }
  });

  it('encodes string input as UTF-8', () => {
    const { io, uart } = setup();
    io.write8(FCR, 0x07);
    uart.receive('é€😀');
    const got: number[] = [];
    while (io.read8(LSR) & 1) got.push(io.read8(RBR));
    expect(got).toEqual([0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
  });

  it('saves and restores registers, FIFO and the host queue', () => {
    const a = setup();
    a.io.write8(FCR, 0x81);
    a.io.write8(MCR, 0x0b);
    a.io.write8(IER, 0x01);
    a.io.write8(SCR, 0x5a);
    a.uart.receive('0123456789abcdefghijklmnop');
    expect(a.irq.level).toBe(true);
    const saved = a.uart.saveState();
    const b = setup();
    b.uart.loadState(saved);
    expect(b.irq.level).toBe(true);
    expect(b.io.read8(SCR)).toBe(0x5a);
    expect(b.io.read8(IIR)).toBe(0xc4);
    let s = '';
    while (b.io.read8(LSR) & 1) s += String.fromCharCode(b.io.read8(RBR));
    expect(s).toBe('0123456789abcdefghijklmnop');
    expect(() => b.uart.loadState({ ...saved, version: 0 })).toThrow();
  });

  it('reset clears registers but keeps queued host input', () => {
    const { io, uart } = setup();
    io.write8(LCR, 0x03);
    io.write8(IER, 0x0f);
    uart.receive('hi');
    uart.reset();
    expect(io.read8(IER)).toBe(0);
    expect(io.read8(LCR)).toBe(0);
    expect(io.read8(IIR)).toBe(0x01);
    expect(io.read8(RBR)).toBe(0x69); // 'h' was in the holding register and is dropped; 'i' follows
  });
});
