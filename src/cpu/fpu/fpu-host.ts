/**
 * What the x87 FPU needs from the CPU it is attached to. Memory accesses take *linear*
 * addresses (segment base already added) and go through paging; they may throw a CPU fault
 * (#PF, #GP), which must propagate out of the FPU untouched. To stay restartable, an FPU
 * instruction performs all its memory reads and, for stores, `checkWrite` of the whole
 * destination, before it changes any FPU state.
 */
export interface FpuHost {
  read8(linear: number): number;
  read16(linear: number): number;
  read32(linear: number): number;
  write8(linear: number, value: number): void;
  write16(linear: number, value: number): void;
  write32(linear: number, value: number): void;
  /** Throws the fault a write to any byte of [linear, linear+length) would raise; else returns. */
  checkWrite(linear: number, length: number): void;
  /** FNSTSW AX. */
  setAX(value: number): void;
  /** FCOMI/FUCOMI(P), FCOMIP: set ZF, PF, CF from the comparison; clear OF, SF, AF. */
  setCompareFlags(zf: boolean, pf: boolean, cf: boolean): void;
  /** x86 condition code test for FCMOVcc (cc numbers as in Jcc: 2=B, 4=E, 6=BE, 10=P). */
  testCondition(cc: number): boolean;
  /** Raise a CPU exception (vector, e.g. 6 = #UD). Never returns: throws. */
  raiseException(vector: number): never;
  /**
   * An unmasked x87 exception is pending and a waiting FPU instruction (or FWAIT) was reached.
   * With CR0.NE=1 this raises #MF (throws); with NE=0 it asserts FERR# (IRQ13) and returns.
   */
  reportFpuError(): void;
}
