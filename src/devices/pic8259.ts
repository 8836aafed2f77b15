/**
 * The PC's two cascaded Intel 8259A programmable interrupt controllers.
 *
 * Master at 0x20/0x21 (IRQ0-7), slave at 0xA0/0xA1 (IRQ8-15) whose INT output drives the
 * master's IR2. The PIIX-style edge/level control registers (ELCR) live at 0x4D0/0x4D1.
 *
 * References: Intel 8259A datasheet (order 231468): "Interrupt Sequence", "Initialization Command
 * Words", "Operation Command Words", "Fully Nested Mode", "Special Mask Mode", "Poll Command".
 */
import type { IoBus } from '../io/io-bus';
import type { InterruptController, IrqLine } from '../io/irq';
import type { SavedState, Stateful } from '../machine/state';

export const PIC_MASTER_CMD = 0x20;
export const PIC_MASTER_DATA = 0x21;
export const PIC_SLAVE_CMD = 0xa0;
export const PIC_SLAVE_DATA = 0xa1;
export const PIC_ELCR1 = 0x4d0;
export const PIC_ELCR2 = 0x4d1;
/** The master input the slave's INT output is wired to. */
export const PIC_CASCADE_IR = 2;

// ICW1 (written to the command port with bit 4 set).
export const PIC_ICW1_INIT = 0x10;
export const PIC_ICW1_IC4 = 0x01; // ICW4 will follow
export const PIC_ICW1_SNGL = 0x02; // single chip: no ICW3
export const PIC_ICW1_LTIM = 0x08; // level-triggered mode (ignored on a PC: the ELCR decides)
// ICW4.
export const PIC_ICW4_AEOI = 0x02;
export const PIC_ICW4_SFNM = 0x10;
// OCW3 (command port, bits 4:3 = 01).
export const PIC_OCW3_SELECT = 0x08;
export const PIC_OCW3_RR = 0x02; // act on RIS
export const PIC_OCW3_RIS = 0x01; // 1 = read ISR, 0 = read IRR
export const PIC_OCW3_POLL = 0x04;
export const PIC_OCW3_ESMM = 0x40; // act on SMM
export const PIC_OCW3_SMM = 0x20; // special mask mode
// OCW2 commands (bits 7:5).
export const PIC_OCW2_ROTATE_AEOI_CLEAR = 0;
export const PIC_OCW2_NONSPECIFIC_EOI = 1;
export const PIC_OCW2_NOP = 2;
export const PIC_OCW2_SPECIFIC_EOI = 3;
export const PIC_OCW2_ROTATE_AEOI_SET = 4;
export const PIC_OCW2_ROTATE_NONSPECIFIC_EOI = 5;
export const PIC_OCW2_SET_PRIORITY = 6;
export const PIC_OCW2_ROTATE_SPECIFIC_EOI = 7;

/** Which ELCR bits exist: IRQ0, 1, 2, 8 and 13 are always edge-triggered on a PC. */
const ELCR_MASK = [0xf8, 0xde];

const enum InitStep {
  Ready = 0,
  Icw2 = 1,
  Icw3 = 2,
  Icw4 = 3,
}

const STATE_VERSION = 1;

/** One 8259A chip. */
class Pic8259 {
  irr = 0;
  isr = 0;
  imr = 0;
  /** Input line levels as last seen (edge detection). */
  lines = 0;
  /** Level-triggered inputs (from the ELCR). */
  elcr = 0;
  vectorBase = 0;
  /** The IR with the highest priority (0 unless rotated: the last served IR + 1). */
  priorityAdd = 0;
  initStep: InitStep = InitStep.Ready;
  icw4Expected = false;
  single = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;
  specialMask = false;
  readIsr = false;
  poll = false;

  constructor(readonly isMaster: boolean) {}

  reset(): void {
    this.irr = 0;
    this.lines = 0;
    this.elcr = 0;
    this.initReset();
  }

  /** What ICW1 clears (the ELCR and level-triggered requests survive it). */
  initReset(): void {
    this.irr &= this.elcr;
    this.lines &= this.elcr;
    this.isr = 0;
    this.imr = 0;
    this.vectorBase = 0;
    this.priorityAdd = 0;
    this.initStep = InitStep.Ready;
    this.icw4Expected = false;
    this.single = false;
    this.autoEoi = false;
    this.rotateOnAutoEoi = false;
    this.specialFullyNested = false;
    this.specialMask = false;
    this.readIsr = false;
    this.poll = false;
  }

  /** Drive input `ir` to `level`. Edge inputs latch a request on the rising edge. */
  setInput(ir: number, level: boolean): void {
    const bit = 1 << ir;
    if (level) {
      if (this.elcr & bit || !(this.lines & bit)) this.irr |= bit;
      this.lines |= bit;
    } else {
      this.lines &= ~bit;
      if (this.elcr & bit) this.irr &= ~bit;
    }
  }

  /** Rank (0 = highest) of the highest-priority bit set in `mask`, 8 when none. */
  priorityOf(mask: number): number {
    if (mask === 0) return 8;
    let rank = 0;
    while (!(mask & (1 << ((rank + this.priorityAdd) & 7)))) rank++;
    return rank;
  }

  /**
   * The IR that would be delivered now, or -1. Fully nested mode: a request must outrank every
   * in-service level (datasheet "Fully Nested Mode"); special mask mode ignores masked ISR bits;
   * special fully nested mode lets the master accept a second request from the slave.
   */
  pendingIr(): number {
    const requested = this.irr & ~this.imr;
    const rank = this.priorityOf(requested);
    if (rank === 8) return -1;
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr;
    if (this.specialFullyNested && this.isMaster) inService &= ~(1 << PIC_CASCADE_IR);
    return rank < this.priorityOf(inService) ? (rank + this.priorityAdd) & 7 : -1;
  }

  /** The INTA cycle on this chip for `ir`: move it from IRR to ISR (or not, in AEOI mode). */
  acknowledgeIr(ir: number): void {
    const bit = 1 << ir;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (ir + 1) & 7;
    } else {
      this.isr |= bit;
    }
    // A level-triggered request stays in IRR as long as the line is high.
    if (!(this.elcr & bit)) this.irr &= ~bit;
  }

  writeCommand(value: number): void {
    if (value & PIC_ICW1_INIT) {
      this.initReset();
      this.initStep = InitStep.Icw2;
      this.icw4Expected = (value & PIC_ICW1_IC4) !== 0;
      this.single = (value & PIC_ICW1_SNGL) !== 0;
      return;
    }
    if (value & PIC_OCW3_SELECT) {
      if (value & PIC_OCW3_POLL) this.poll = true;
      if (value & PIC_OCW3_RR) this.readIsr = (value & PIC_OCW3_RIS) !== 0;
      if (value & PIC_OCW3_ESMM) this.specialMask = (value & PIC_OCW3_SMM) !== 0;
      return;
    }
    const ir = value & 7;
    switch (value >>> 5) {
      case PIC_OCW2_ROTATE_AEOI_CLEAR:
        this.rotateOnAutoEoi = false;
        break;
      case PIC_OCW2_ROTATE_AEOI_SET:
        this.rotateOnAutoEoi = true;
        break;
      case PIC_OCW2_NONSPECIFIC_EOI:
      case PIC_OCW2_ROTATE_NONSPECIFIC_EOI: {
        const rank = this.priorityOf(this.isr);
        if (rank !== 8) {
          const served = (rank + this.priorityAdd) & 7;
          this.isr &= ~(1 << served);
          if (value >>> 5 === PIC_OCW2_ROTATE_NONSPECIFIC_EOI) this.priorityAdd = (served + 1) & 7;
        }
        break;
      }
      case PIC_OCW2_SPECIFIC_EOI:
        this.isr &= ~(1 << ir);
        break;
      case PIC_OCW2_SET_PRIORITY:
        this.priorityAdd = (ir + 1) & 7;
        break;
      case PIC_OCW2_ROTATE_SPECIFIC_EOI:
        this.isr &= ~(1 << ir);
        this.priorityAdd = (ir + 1) & 7;
        break;
      default: // PIC_OCW2_NOP
        break;
    }
  }

  writeData(value: number): void {
    switch (this.initStep) {
      case InitStep.Ready:
        this.imr = value; // OCW1
        break;
      case InitStep.Icw2:
        this.vectorBase = value & 0xf8;
        this.initStep = this.single ? (this.icw4Expected ? InitStep.Icw4 : InitStep.Ready) : InitStep.Icw3;
        break;
      case InitStep.Icw3:
        // Cascade wiring is fixed on a PC: master IR2 <- slave, slave ID 2.
        this.initStep = this.icw4Expected ? InitStep.Icw4 : InitStep.Ready;
        break;
      case InitStep.Icw4:
        this.autoEoi = (value & PIC_ICW4_AEOI) !== 0;
        this.specialFullyNested = (value & PIC_ICW4_SFNM) !== 0;
        this.initStep = InitStep.Ready;
        break;
    }
  }

  save(): Record<string, number | boolean> {
    return {
      irr: this.irr,
      isr: this.isr,
      imr: this.imr,
      lines: this.lines,
      elcr: this.elcr,
      vectorBase: this.vectorBase,
      priorityAdd: this.priorityAdd,
      initStep: this.initStep,
      icw4Expected: this.icw4Expected,
      single: this.single,
      autoEoi: this.autoEoi,
      rotateOnAutoEoi: this.rotateOnAutoEoi,
      specialFullyNested: this.specialFullyNested,
      specialMask: this.specialMask,
      readIsr: this.readIsr,
      poll: this.poll,
    };
  }

  load(s: Record<string, unknown>): void {
    this.irr = s.irr as number;
    this.isr = s.isr as number;
    this.imr = s.imr as number;
    this.lines = s.lines as number;
    this.elcr = s.elcr as number;
    this.vectorBase = s.vectorBase as number;
    this.priorityAdd = s.priorityAdd as number;
    this.initStep = s.initStep as InitStep;
    this.icw4Expected = s.icw4Expected as boolean;
    this.single = s.single as boolean;
    this.autoEoi = s.autoEoi as boolean;
    this.rotateOnAutoEoi = s.rotateOnAutoEoi as boolean;
    this.specialFullyNested = s.specialFullyNested as boolean;
    this.specialMask = s.specialMask as boolean;
    this.readIsr = s.readIsr as boolean;
    this.poll = s.poll as boolean;
  }
}

/** The IrqLine handed to a device for ISA IRQ `irq`. */
class PicInput implements IrqLine {
  constructor(
    private readonly pair: Pic8259Pair,
    private readonly irq: number,
  ) {}
  raise(): void {
    this.pair.setIrq(this.irq, true);
  }
  lower(): void {
    this.pair.setIrq(this.irq, false);
  }
}

export class Pic8259Pair implements InterruptController, Stateful {
  private readonly master = new Pic8259(true);
  private readonly slave = new Pic8259(false);
  private readonly inputs: PicInput[] = [];
  /** The master's INT output, as last computed. */
  private intr = false;

  /**
   * Called whenever the INTR output level may have changed; the CPU keeps the level in a field
   * instead of polling the PIC on every instruction.
   */
  onIntrChange: ((asserted: boolean) => void) | null = null;

  constructor(io: IoBus) {
    for (let i = 0; i < 16; i++) this.inputs.push(new PicInput(this, i));
    io.register(PIC_MASTER_CMD, 2, {
      read8: (port) => this.readPort(this.master, port),
      write8: (port, value) => this.writePort(this.master, port, value),
    });
    io.register(PIC_SLAVE_CMD, 2, {
      read8: (port) => this.readPort(this.slave, port),
      write8: (port, value) => this.writePort(this.slave, port, value),
    });
    io.register(PIC_ELCR1, 2, {
      read8: (port) => (port === PIC_ELCR1 ? this.master : this.slave).elcr,
      write8: (port, value) => {
        const which = port === PIC_ELCR1 ? 0 : 1;
        (which === 0 ? this.master : this.slave).elcr = value & ELCR_MASK[which];
        this.updateIrq();
      },
    });
    this.reset();
  }

  /**
   * The line for ISA IRQ `n` (0..15). IRQ2 is the cascade input: as on the AT bus, a device on
   * IRQ2 is wired to IRQ9.
   */
  irqLine(n: number): IrqLine {
    if (!(n >= 0 && n < 16) || (n | 0) !== n) throw new RangeError(`no IRQ ${n}`);
    return this.inputs[n === PIC_CASCADE_IR ? 9 : n];
  }

  /** Drive ISA IRQ `irq` (8..15 are the slave's inputs). */
  setIrq(irq: number, level: boolean): void {
    if (irq >= 8) this.slave.setInput(irq - 8, level);
    else this.master.setInput(irq, level);
    this.updateIrq();
  }

  hasInterrupt(): boolean {
    return this.intr;
  }

  /**
   * The INTA cycle: the vector of the highest-priority request, moved to in-service. With nothing
   * left to deliver (the request went away), the 8259A answers with IR7 and sets no ISR bit: the
   * spurious interrupt (datasheet "Interrupt Sequence"); likewise the slave answers IR7 when the
   * master picked the cascade input but the slave has nothing.
   */
  acknowledge(): number {
    let vector: number;
    const ir = this.master.pendingIr();
    if (ir < 0) {
      vector = this.master.vectorBase + 7;
    } else {
      this.master.acknowledgeIr(ir);
      if (ir === PIC_CASCADE_IR) {
        const slaveIr = this.slave.pendingIr();
        if (slaveIr < 0) {
          vector = this.slave.vectorBase + 7;
        } else {
          this.slave.acknowledgeIr(slaveIr);
          vector = this.slave.vectorBase + slaveIr;
        }
      } else {
        vector = this.master.vectorBase + ir;
      }
    }
    this.updateIrq();
    return vector;
  }

  /** Recompute the slave's INT (the master's IR2 input) and then the master's INT (the CPU's INTR). */
  private updateIrq(): void {
    this.master.setInput(PIC_CASCADE_IR, this.slave.pendingIr() >= 0);
    const intr = this.master.pendingIr() >= 0;
    if (intr !== this.intr) {
      this.intr = intr;
      this.onIntrChange?.(intr);
    }
  }

  private readPort(chip: Pic8259, port: number): number {
    if (chip.poll) {
      // Poll command: the next read is an INTA on this chip; bit 7 = request present, bits 2:0 = IR.
      chip.poll = false;
      const ir = chip.pendingIr();
      if (ir < 0) return 0;
      chip.acknowledgeIr(ir);
      this.updateIrq();
      return 0x80 | ir;
    }
    if (port & 1) return chip.imr;
    return chip.readIsr ? chip.isr : chip.irr;
  }

  private writePort(chip: Pic8259, port: number, value: number): void {
    if (port & 1) chip.writeData(value);
    else chip.writeCommand(value);
    this.updateIrq();
  }

  reset(): void {
    this.master.reset();
    this.slave.reset();
    this.intr = false;
    this.updateIrq();
    this.onIntrChange?.(this.intr);
  }

  saveState(): SavedState {
    return { version: STATE_VERSION, master: this.master.save(), slave: this.slave.save() };
  }

  loadState(state: SavedState): void {
    if (state.version !== STATE_VERSION) throw new Error(`Pic8259Pair: unsupported state version ${state.version}`);
    this.master.load(state.master as Record<string, unknown>);
    this.slave.load(state.slave as Record<string, unknown>);
    this.intr = this.master.pendingIr() >= 0;
    this.onIntrChange?.(this.intr);
  }
}
