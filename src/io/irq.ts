/**
 * An interrupt request line. A device holds lines, never the interrupt controller itself:
 * the machine wires each line to a PIC input.
 */
export interface IrqLine {
  /** Drive the line high (level-triggered devices keep it there until `lower()`). */
  raise(): void;
  /** Drive the line low. */
  lower(): void;
}

/** Where the CPU gets external interrupts from (the 8259 PIC pair in a PC). */
export interface InterruptController {
  /** True when an unmasked request is waiting for the CPU's INTA cycle. */
  hasInterrupt(): boolean;
  /** The CPU's interrupt-acknowledge cycle: returns the vector to dispatch. */
  acknowledge(): number;
}

/** A line that records its level; handy in tests and for devices not wired anywhere. */
export class RecordingIrqLine implements IrqLine {
  level = false;
  raises = 0;
  raise(): void {
    if (!this.level) this.raises++;
    this.level = true;
  }
  lower(): void {
    this.level = false;
  }
}
