import { describe, expect, it } from 'vitest';
import { IoBus } from '../io/io-bus';
import { Pic8259Pair } from './pic8259';

/** What Linux's probe_8259A + init_8259A(auto_eoi = 0) write, vectors 0x30/0x38. */
function linuxInit(io: IoBus, autoEoi = false): void {
  // probe_8259A
  io.write8(0xa1, 0xff);
  io.write8(0x21, 0xfb);
  expect(io.read8(0x21)).toBe(0xfb);
  // init_8259A
  io.write8(0x21, 0xff);
  io.write8(0x20, 0x11); // ICW1: edge, cascade, ICW4 follows
  io.write8(0x21, 0x30); // ICW2
  io.write8(0x21, 0x04); // ICW3: slave on IR2
  io.write8(0x21, autoEoi ? 0x03 : 0x01); // ICW4: 8086 mode (+ AEOI)
  io.write8(0xa0, 0x11);
  io.write8(0xa1, 0x38);
  io.write8(0xa1, 0x02); // slave ID 2
  io.write8(0xa1, 0x01);
  // restore masks: everything unmasked except what the test masks itself
  io.write8(0x21, 0x00);
  io.write8(0xa1, 0x00);
}

function setup(autoEoi = false) {
  const io = new IoBus();
  const pic = new Pic8259Pair(io);
  const intr: boolean[] = [];
  pic.onIntrChange = (a) => intr.push(a);
  linuxInit(io, autoEoi);
  return { io, pic, intr };
}

/** Linux's i8259A_irq_real-style ISR read through OCW3. */
function readIsr(io: IoBus, cmd: number): number {
  io.write8(cmd, 0x0b);
  const v = io.read8(cmd);
  io.write8(cmd, 0x0a);
  return v;
}

/** Linux's mask_and_ack_8259A for `irq` (masks it, then specific EOIs). Returns whether it was real. */
function maskAndAck(io: IoBus, irq: number): boolean {
  const real = irq & 8 ? (readIsr(io, 0xa0) & (1 << (irq & 7))) !== 0 : (readIsr(io, 0x20) & (1 << irq)) !== 0;
  if (irq & 8) {
    io.read8(0xa1);
    io.write8(0xa1, io.read8(0xa1) | (1 << (irq & 7)));
    io.write8(0xa0, 0x60 + (irq & 7));
    io.write8(0x20, 0x60 + 2);
  } else {
    io.read8(0x21);
    io.write8(0x21, io.read8(0x21) | (1 << irq));
    io.write8(0x20, 0x60 + irq);
  }
  return real;
}

describe('Pic8259Pair', () => {
  it('survives probe_8259A and init_8259A, then delivers IRQ0 at vector 0x30', () => {
    const { io, pic, intr } = setup();
    expect(pic.hasInterrupt()).toBe(false);
    expect(io.read8(0x21)).toBe(0);
    expect(io.read8(0xa1)).toBe(0);
    pic.irqLine(0).raise();
    expect(pic.hasInterrupt()).toBe(true);
    expect(intr).toEqual([true]);
    expect(io.read8(0x20)).toBe(0x01); // IRR (OCW3 0x0A is the default read)
    expect(pic.acknowledge()).toBe(0x30);
    expect(intr).toEqual([true, false]);
    expect(readIsr(io, 0x20)).toBe(0x01);
    expect(io.read8(0x20)).toBe(0x00); // edge request left IRR at INTA
    expect(maskAndAck(io, 0)).toBe(true);
    expect(readIsr(io, 0x20)).toBe(0);
    expect(io.read8(0x21)).toBe(0x01);
  });

  it('resolves priority: lower IRQ number first, higher priority preempts in-service', () => {
    const { io, pic } = setup();
    pic.irqLine(3).raise();
    pic.irqLine(1).raise();
    expect(pic.acknowledge()).toBe(0x31);
    // IRQ3 is lower priority than the in-service IRQ1: held back.
    expect(pic.hasInterrupt()).toBe(false);
    pic.irqLine(0).raise();
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x30);
    expect(readIsr(io, 0x20)).toBe(0x03);
    io.write8(0x20, 0x20); // non-specific EOI ends the highest in service: IRQ0
    expect(readIsr(io, 0x20)).toBe(0x02);
    expect(pic.hasInterrupt()).toBe(false);
    io.write8(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x33);
  });

  it('puts the slave at IRQ2 priority: above IRQ3, below IRQ1', () => {
    const { pic } = setup();
    pic.irqLine(3).raise();
    pic.irqLine(14).raise();
    pic.irqLine(1).raise();
    expect(pic.acknowledge()).toBe(0x31);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('cascades: slave IRQ12 sets both ISR bits and needs both EOIs', () => {
    const { io, pic } = setup();
    pic.irqLine(12).raise();
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x3c);
    expect(readIsr(io, 0x20)).toBe(0x04);
    expect(readIsr(io, 0xa0)).toBe(0x10);
    // Even a higher-priority slave input waits: the master has IR2 in service (no special fully nested mode).
    pic.irqLine(8).raise();
    expect(pic.hasInterrupt()).toBe(false);
    expect(maskAndAck(io, 12)).toBe(true);
    expect(readIsr(io, 0x20)).toBe(0);
    expect(readIsr(io, 0xa0)).toBe(0);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x38);
  });

  it('answers an INTA with nothing pending with IR7 and no ISR bit (spurious IRQ7/IRQ15)', () => {
    const { io, pic } = setup();
    expect(pic.acknowledge()).toBe(0x37);
    expect(readIsr(io, 0x20)).toBe(0);
    // A level-triggered slave request that goes away before INTA: the slave answers IR7.
    io.write8(0x4d1, 0x04); // IRQ10 level-triggered
    pic.irqLine(10).raise();
    expect(pic.hasInterrupt()).toBe(true);
    pic.irqLine(10).lower();
    // The master latched the cascade edge; the slave has nothing now.
    expect(pic.acknowledge()).toBe(0x3f);
    expect(readIsr(io, 0xa0)).toBe(0);
    expect(maskAndAck(io, 15)).toBe(false); // Linux sees a spurious IRQ15
  });

  it('masks through OCW1 and delivers once unmasked', () => {
    const { io, pic } = setup();
    io.write8(0x21, 0x10);
    pic.irqLine(4).raise();
    expect(pic.hasInterrupt()).toBe(false);
    expect(io.read8(0x20) & 0x10).toBe(0x10); // still requested in IRR
    io.write8(0x21, 0x00);
    expect(pic.acknowledge()).toBe(0x34);
  });

  it('edge mode latches rising edges only; level mode (ELCR) follows the line', () => {
    const { io, pic } = setup();
    const line = pic.irqLine(5);
    line.raise();
    expect(pic.acknowledge()).toBe(0x35);
    io.write8(0x20, 0x65);
    expect(pic.hasInterrupt()).toBe(false); // still high, but no new edge
    line.lower();
    line.raise();
    expect(pic.acknowledge()).toBe(0x35);
    io.write8(0x20, 0x65);
    line.lower();

    io.write8(0x4d0, 0xff); // IRQ0-2 cannot be level-triggered
    expect(io.read8(0x4d0)).toBe(0xf8);
    io.write8(0x4d1, 0xff);
    expect(io.read8(0x4d1)).toBe(0xde);
    line.raise();
    expect(pic.acknowledge()).toBe(0x35);
    io.write8(0x20, 0x65);
    expect(pic.hasInterrupt()).toBe(true); // level still high: requested again
    expect(pic.acknowledge()).toBe(0x35);
    line.lower();
    io.write8(0x20, 0x65);
    expect(pic.hasInterrupt()).toBe(false);
    expect(io.read8(0x20) & 0x20).toBe(0);
  });

  it('keeps a pulse that ended before INTA in edge mode', () => {
    const { pic } = setup();
    pic.irqLine(0).raise();
    pic.irqLine(0).lower();
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x30);
  });

  it('auto-EOI leaves nothing in service', () => {
    const { io, pic } = setup(true);
    pic.irqLine(1).raise();
    expect(pic.acknowledge()).toBe(0x31);
    expect(readIsr(io, 0x20)).toBe(0);
    pic.irqLine(3).raise();
    expect(pic.hasInterrupt()).toBe(true);
  });

  it('supports the poll command', () => {
    const { io, pic } = setup();
    io.write8(0x20, 0x0c);
    expect(io.read8(0x20)).toBe(0); // nothing pending
    pic.irqLine(6).raise();
    io.write8(0x20, 0x0c);
    expect(io.read8(0x20)).toBe(0x86);
    expect(readIsr(io, 0x20)).toBe(0x40);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('rotates priority on rotate-on-EOI and set-priority commands', () => {
    const { io, pic } = setup();
    pic.irqLine(3).raise();
    expect(pic.acknowledge()).toBe(0x33);
    io.write8(0x20, 0xa0); // rotate on non-specific EOI: IRQ3 becomes lowest
    pic.irqLine(3).lower();
    pic.irqLine(3).raise();
    pic.irqLine(5).raise();
    pic.irqLine(1).raise();
    expect(pic.acknowledge()).toBe(0x35); // priority order is now 4,5,6,7,0,1,2,3
    io.write8(0x20, 0xc7); // set priority: IR7 lowest, IR0 highest again
    io.write8(0x20, 0x65);
    expect(pic.acknowledge()).toBe(0x31);
  });

  it('special mask mode lets lower priorities in while a masked level is in service', () => {
    const { io, pic } = setup();
    pic.irqLine(1).raise();
    expect(pic.acknowledge()).toBe(0x31);
    pic.irqLine(4).raise();
    expect(pic.hasInterrupt()).toBe(false);
    io.write8(0x21, 0x02); // mask IR1
    io.write8(0x20, 0x68); // OCW3: set special mask mode
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x34);
    io.write8(0x20, 0x48); // reset special mask mode
  });

  it('wires IRQ2 to IRQ9 as on the AT bus', () => {
    const { pic } = setup();
    pic.irqLine(2).raise();
    expect(pic.acknowledge()).toBe(0x39);
    expect(() => pic.irqLine(16)).toThrow(RangeError);
  });

  it('ICW1 clears masks, in-service bits and edge requests', () => {
    const { io, pic } = setup();
    io.write8(0x21, 0xf0);
    pic.irqLine(1).raise();
    pic.acknowledge();
    pic.irqLine(3).raise();
    io.write8(0x20, 0x11);
    expect(io.read8(0x20)).toBe(0); // IRR cleared
    io.write8(0x21, 0x40);
    io.write8(0x21, 0x04);
    io.write8(0x21, 0x01);
    expect(io.read8(0x21)).toBe(0);
    expect(readIsr(io, 0x20)).toBe(0);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('saves and restores its state', () => {
    const a = setup();
    a.io.write8(0x21, 0x80);
    a.io.write8(0x4d1, 0x08);
    a.pic.irqLine(11).raise();
    a.pic.irqLine(4).raise();
    expect(a.pic.acknowledge()).toBe(0x3b);
    const saved = JSON.parse(JSON.stringify(a.pic.saveState()));
    const b = setup();
    b.pic.loadState(saved);
    expect(b.intr[b.intr.length - 1]).toBe(false);
    expect(b.io.read8(0x21)).toBe(0x80);
    expect(b.io.read8(0x4d1)).toBe(0x08);
    expect(readIsr(b.io, 0xa0)).toBe(0x08);
    b.io.write8(0xa0, 0x63);
    b.io.write8(0x20, 0x62);
    // IRQ11 is level-triggered and still high, and outranks IRQ4.
    expect(b.pic.acknowledge()).toBe(0x3b);
    expect(() => b.pic.loadState({ ...saved, version: 99 })).toThrow();
  });
});
