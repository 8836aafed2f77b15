/**
 * Miscellaneous AT system ports:
 * - 0x61 "NMI status and control" (port B): PIT channel-2 gate, speaker data, refresh toggle, OUT2.
 * - 0x80 the POST code port, which Linux also writes to as an I/O delay: ignored silently.
 * - 0x92 "system control port A": fast A20 gate and fast reset.
 *
 * Reference: IBM PC AT Technical Reference, "System Board I/O Address Map"; Intel 82371 (PIIX)
 * datasheet, "NMI Status and Control Register" and "Port 92h".
 */
import type { IoBus } from '../io/io-bus';
import type { SavedState, Stateful } from '../machine/state';
import type { Pit8254 } from './pit8254';

export const PORT_NMI_SC = 0x61;
export const PORT_POST = 0x80;
export const PORT_SYSTEM_CONTROL_A = 0x92;

// Port 0x61 bits.
export const NMI_SC_TIM2_GATE = 0x01;
export const NMI_SC_SPKR_DATA = 0x02;
export const NMI_SC_PCHK_DISABLE = 0x04;
export const NMI_SC_IOCHK_DISABLE = 0x08;
/** Toggles with every DRAM refresh request (every 15 µs); here: with every read. */
export const NMI_SC_REFRESH_TOGGLE = 0x10;
export const NMI_SC_TIM2_OUT = 0x20;
/** The writable bits of port 0x61. */
const NMI_SC_WRITABLE = 0x0f;

// Port 0x92 bits.
export const SCA_FAST_RESET = 0x01;
export const SCA_A20_ENABLE = 0x02;

const STATE_VERSION = 1;

export class SystemPorts implements Stateful {
  private portB = 0;
  private refreshToggle = false;
  private controlA = SCA_A20_ENABLE;

  constructor(
    io: IoBus,
    private readonly pit: Pit8254,
    private readonly onResetRequest: () => void,
  ) {
    io.register(PORT_NMI_SC, 1, {
      read8: () => this.readPortB(),
      write8: (_port, value) => this.writePortB(value),
    });
    io.register(PORT_POST, 1, {
      read8: () => 0xff,
      write8: () => {},
    });
    io.register(PORT_SYSTEM_CONTROL_A, 1, {
      read8: () => this.controlA,
      write8: (_port, value) => this.writeControlA(value),
    });
    this.reset();
  }

  /** The A20 bit of port 0x92 as last written (the machine keeps A20 enabled regardless). */
  get a20(): boolean {
    return (this.controlA & SCA_A20_ENABLE) !== 0;
  }

  reset(): void {
    this.portB = 0;
    this.refreshToggle = false;
    this.controlA = SCA_A20_ENABLE;
    this.pit.setGate2(false);
  }

  private readPortB(): number {
    this.refreshToggle = !this.refreshToggle;
    return (
      this.portB |
      (this.refreshToggle ? NMI_SC_REFRESH_TOGGLE : 0) |
      (this.pit.out2() ? NMI_SC_TIM2_OUT : 0)
    );
  }

  private writePortB(value: number): void {
    this.portB = value & NMI_SC_WRITABLE;
    this.pit.setGate2((value & NMI_SC_TIM2_GATE) !== 0);
  }

  private writeControlA(value: number): void {
    const old = this.controlA;
    // Bit 0 reads back as written; the reset happens on its 0 -> 1 transition.
    this.controlA = value & (SCA_FAST_RESET | SCA_A20_ENABLE);
    if (value & SCA_FAST_RESET && !(old & SCA_FAST_RESET)) this.onResetRequest();
  }

  saveState(): SavedState {
    return {
      version: STATE_VERSION,
      portB: this.portB,
      refreshToggle: this.refreshToggle,
      controlA: this.controlA,
    };
  }

  loadState(state: SavedState): void {
    if (state.version !== STATE_VERSION) throw new Error(`SystemPorts: unsupported state version ${state.version}`);
    this.portB = state.portB as number;
    this.refreshToggle = state.refreshToggle as boolean;
    this.controlA = state.controlA as number;
    this.pit.setGate2((this.portB & NMI_SC_TIM2_GATE) !== 0);
  }
}
