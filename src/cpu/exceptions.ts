/** x86 exception vectors (Intel SDM Vol. 3A, 6.3.1, Table 6-1). */
export const EXC_DE = 0; // divide error
export const EXC_DB = 1; // debug
export const EXC_NMI = 2;
export const EXC_BP = 3; // int3
export const EXC_OF = 4; // into
export const EXC_BR = 5; // bound
export const EXC_UD = 6; // invalid opcode
export const EXC_NM = 7; // device not available (x87 with CR0.TS/EM)
export const EXC_DF = 8; // double fault
export const EXC_TS = 10; // invalid TSS
export const EXC_NP = 11; // segment not present
export const EXC_SS = 12; // stack-segment fault
export const EXC_GP = 13; // general protection
export const EXC_PF = 14; // page fault
export const EXC_MF = 16; // x87 floating-point error
export const EXC_AC = 17; // alignment check

/** Contributory exceptions for the double-fault rules (SDM 6.15, Table 6-5). */
export function isContributory(vector: number): boolean {
  return vector === EXC_DE || (vector >= EXC_TS && vector <= EXC_GP);
}

/**
 * Thrown (a single preallocated object, never allocated per fault) to unwind the current
 * instruction when it faults. The vector and error code live on the CPU.
 */
export class CpuFault {
  readonly isCpuFault = true;
}
export const CPU_FAULT = new CpuFault();

/** The guest hit a triple fault: the machine must reset. */
export class TripleFault extends Error {
  constructor(readonly eip: number) {
    super(`triple fault at EIP 0x${(eip >>> 0).toString(16)}`);
  }
}
