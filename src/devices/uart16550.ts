/**
 * A National Semiconductor PC16550D UART (the "16550A" Linux detects) as found at COM1/COM2.
 *
 * Transmission is instant: a byte written to THR goes to the host (`onTransmit`) at once, so THR
 * and the transmitter are always empty again afterwards (LSR.THRE and LSR.TEMT stay set) and the
 * THRE interrupt is re-armed. Host input waits in an unbounded queue and moves into the 16-byte
 * receive FIFO whenever there is room, so nothing the host sends is lost to overruns.
 *
 * Reference: PC16550D datasheet (National Semiconductor, June 1995): Table II "Summary of
 * Registers", Table IV "Interrupt Control Functions", section 8.6 "FIFO Interrupt Mode Operation"
 * (trigger level, character timeout), section 8.7 "Modem Control Register" (loopback).
 */
import type { IoBus } from '../io/io-bus';
import type { IrqLine } from '../io/irq';
import type { Clock, SavedState, Stateful, Timed } from '../machine/state';

export const COM1_BASE = 0x3f8;
export const COM2_BASE = 0x2f8;

// Register offsets.
export const UART_RBR = 0; // read, DLAB=0
export const UART_THR = 0; // write, DLAB=0
export const UART_DLL = 0; // DLAB=1
export const UART_IER = 1; // DLAB=0
export const UART_DLM = 1; // DLAB=1
export const UART_IIR = 2; // read
export const UART_FCR = 2; // write
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

// IER.
export const UART_IER_ERBFI = 0x01; // received data available
export const UART_IER_ETBEI = 0x02; // transmitter holding register empty
export const UART_IER_ELSI = 0x04; // receiver line status
export const UART_IER_EDSSI = 0x08; // modem status
const UART_IER_MASK = 0x0f;

// IIR.
export const UART_IIR_NO_INT = 0x01;
export const UART_IIR_MSI = 0x00;
export const UART_IIR_THRI = 0x02;
export const UART_IIR_RDI = 0x04;
export const UART_IIR_RLSI = 0x06;
export const UART_IIR_CTI = 0x0c; // character timeout
export const UART_IIR_FIFO_ENABLED = 0xc0;

// FCR.
export const UART_FCR_ENABLE_FIFO = 0x01;
export const UART_FCR_CLEAR_RCVR = 0x02;
export const UART_FCR_CLEAR_XMIT = 0x04;
export const UART_FCR_TRIGGER_SHIFT = 6;
const FIFO_TRIGGER_LEVELS = [1, 4, 8, 14];

// LCR.
export const UART_LCR_WLEN_MASK = 0x03;
export const UART_LCR_STOP = 0x04;
export const UART_LCR_PARITY = 0x08;
export const UART_LCR_DLAB = 0x80;

// MCR.
export const UART_MCR_DTR = 0x01;
export const UART_MCR_RTS = 0x02;
export const UART_MCR_OUT1 = 0x04;
export const UART_MCR_OUT2 = 0x08;
export const UART_MCR_LOOP = 0x10;
const UART_MCR_MASK = 0x1f;

// LSR.
export const UART_LSR_DR = 0x01;
export const UART_LSR_OE = 0x02;
export const UART_LSR_PE = 0x04;
export const UART_LSR_FE = 0x08;
export const UART_LSR_BI = 0x10;
export const UART_LSR_THRE = 0x20;
export const UART_LSR_TEMT = 0x40;
export const UART_LSR_FIFOE = 0x80;

// MSR.
export const UART_MSR_DCTS = 0x01;
export const UART_MSR_DDSR = 0x02;
export const UART_MSR_TERI = 0x04;
export const UART_MSR_DDCD = 0x08;
export const UART_MSR_CTS = 0x10;
export const UART_MSR_DSR = 0x20;
export const UART_MSR_RI = 0x40;
export const UART_MSR_DCD = 0x80;
const UART_MSR_DELTAS = 0x0f;
/** Modem inputs when not in loopback: a host that is always there (carrier, DSR, CTS). */
const MSR_EXTERNAL_INPUTS = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;

export const UART_FIFO_SIZE = 16;
/** The standard 1.8432 MHz crystal: baud = UART_CLOCK_HZ / (16 * divisor). */
export const UART_CLOCK_HZ = 1843200;

const STATE_VERSION = 1;

export class Uart16550 implements Timed, Stateful {
  /** Receives every byte the guest transmits (not in loopback). */
  onTransmit: ((byte: number) => void) | null = null;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private msr = MSR_EXTERNAL_INPUTS;
  private scr = 0;
  private divisor = 12;
  /** LSR error bits (OE, PE, FE, BI), cleared when LSR is read. */
  private lsrErrors = 0;
  private fifoEnabled = false;
  private triggerLevel = 1;
  /** THRE interrupt armed: set when THR empties or ETBEI is enabled; cleared by IIR read / THR write. */
  private thrIpending = false;
  /** Character timeout indication (FIFO mode, data below the trigger level, no activity). */
  private timeoutIpending = false;
  /** Emulated time of the last byte into or out of the receive FIFO. */
  private lastRxActivityNs = 0;
  private irqLevel = false;

  // Receive FIFO: a 16-entry ring (a single holding register when FIFOs are off).
  private readonly rxFifo = new Uint8Array(UART_FIFO_SIZE);
  private rxHead = 0;
  private rxCount = 0;
  private lastRxByte = 0;

  // Host-side input queue: a ring buffer that doubles when full.
  private hostQueue = new Uint8Array(1024);
  private hostHead = 0;
  private hostCount = 0;

  constructor(
    io: IoBus,
    readonly base: number,
    private readonly irq: IrqLine,
    private readonly clock: Clock,
  ) {
    io.register(base, 8, {
      read8: (port) => this.read(port - base),
      write8: (port, value) => this.write(port - base, value),
    });
    this.reset();
  }

  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.msr = MSR_EXTERNAL_INPUTS;
    this.scr = 0;
    this.divisor = 12;
    this.lsrErrors = 0;
    this.fifoEnabled = false;
    this.triggerLevel = 1;
    this.thrIpending = false;
    this.timeoutIpending = false;
    this.lastRxActivityNs = this.clock.nowNs();
    this.rxHead = 0;
    this.rxCount = 0;
    this.lastRxByte = 0;
    this.fillRxFifo();
    this.updateIrq();
  }

  /** Queue host input for the guest. Nothing is dropped: bytes wait until the FIFO has room. */
  receive(data: Uint8Array | string): void {
    if (typeof data === 'string') {
      for (let i = 0; i < data.length; i++) {
        const cp = data.codePointAt(i)!;
        if (cp > 0xffff) i++;
        this.queueCodePoint(cp);
      }
    } else {
      for (let i = 0; i < data.length; i++) this.queueHostByte(data[i]);
    }
    this.fillRxFifo();
    this.updateIrq();
  }

  /** Host bytes not yet in the receive FIFO. */
  get pendingInput(): number {
    return this.hostCount;
  }

  advance(nowNs: number): number {
    this.fillRxFifo();
    let next = Infinity;
    if (this.fifoEnabled && this.rxCount > 0 && !this.timeoutIpending) {
      // Character timeout: no character in or out of the FIFO for four character times.
      const due = this.lastRxActivityNs + 4 * this.characterTimeNs();
      if (nowNs >= due) this.timeoutIpending = true;
      else next = due - nowNs;
    }
    this.updateIrq();
    return next;
  }

  /** Duration of one character (start + data + parity + stop bits) at the programmed baud rate. */
  characterTimeNs(): number {
    const lcr = this.lcr;
    const bits = 1 + 5 + (lcr & UART_LCR_WLEN_MASK) + (lcr & UART_LCR_PARITY ? 1 : 0) + (lcr & UART_LCR_STOP ? 2 : 1);
    const divisor = this.divisor === 0 ? 0x10000 : this.divisor;
    return Math.ceil((bits * 16 * divisor * 1e9) / UART_CLOCK_HZ);
  }

  /**
   * The interrupt identification, by priority (datasheet Table IV): line status, then received
   * data / character timeout, then THR empty, then modem status.
   */
  private interruptId(): number {
    const ier = this.ier;
    if (ier & UART_IER_ELSI && this.lsrErrors) return UART_IIR_RLSI;
    if (ier & UART_IER_ERBFI) {
      if (this.timeoutIpending) return UART_IIR_CTI;
      if (this.rxCount > 0 && (!this.fifoEnabled || this.rxCount >= this.triggerLevel)) return UART_IIR_RDI;
    }
    if (ier & UART_IER_ETBEI && this.thrIpending) return UART_IIR_THRI;
    if (ier & UART_IER_EDSSI && this.msr & UART_MSR_DELTAS) return UART_IIR_MSI;
    return UART_IIR_NO_INT;
  }

  /**
   * Recompute the IRQ output. On a PC the UART's INTR pin reaches the bus through a buffer enabled
   * by OUT2; in loopback OUT2 is disconnected from its pin (forced inactive), so no IRQ.
   */
  private updateIrq(): void {
    const level = this.irqWanted();
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    if (level) this.irq.raise();
    else this.irq.lower();
  }

  private irqWanted(): boolean {
    return this.interruptId() !== UART_IIR_NO_INT && (this.mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) === UART_MCR_OUT2;
  }

  private read(offset: number): number {
    let value: number;
    switch (offset) {
      case UART_RBR:
        if (this.lcr & UART_LCR_DLAB) return this.divisor & 0xff;
        value = this.popRx();
        break;
      case UART_IER:
        if (this.lcr & UART_LCR_DLAB) return this.divisor >>> 8;
        return this.ier;
      case UART_IIR: {
        const id = this.interruptId();
        value = id | (this.fifoEnabled ? UART_IIR_FIFO_ENABLED : 0);
        // Reading IIR while it reports THRE acknowledges that interrupt.
        if (id === UART_IIR_THRI) this.thrIpending = false;
        break;
      }
      case UART_LCR:
        return this.lcr;
      case UART_MCR:
        return this.mcr;
      case UART_LSR:
        value = this.lsr();
        this.lsrErrors = 0;
        break;
      case UART_MSR:
        value = this.msr;
        this.msr &= ~UART_MSR_DELTAS;
        break;
      default:
        return this.scr;
    }
    this.updateIrq();
    return value;
  }

  private lsr(): number {
    let v = UART_LSR_THRE | UART_LSR_TEMT | this.lsrErrors;
    if (this.rxCount > 0) v |= UART_LSR_DR;
    return v;
  }

  private write(offset: number, value: number): void {
    switch (offset) {
      case UART_THR:
        if (this.lcr & UART_LCR_DLAB) {
          this.divisor = (this.divisor & 0xff00) | value;
          return;
        }
        this.transmit(value);
        break;
      case UART_IER:
        if (this.lcr & UART_LCR_DLAB) {
          this.divisor = (this.divisor & 0xff) | (value << 8);
          return;
        }
        {
          const old = this.ier;
          this.ier = value & UART_IER_MASK;
          // Enabling ETBEI while THR is empty raises the THRE interrupt (Linux's startup test for
          // UART_BUG_THRE relies on this being re-asserted every time).
          if (this.ier & UART_IER_ETBEI && !(old & UART_IER_ETBEI)) this.thrIpending = true;
          else if (!(this.ier & UART_IER_ETBEI)) this.thrIpending = false;
        }
        break;
      case UART_FCR:
        this.writeFcr(value);
        break;
      case UART_LCR:
        this.lcr = value;
        return;
      case UART_MCR:
        this.mcr = value & UART_MCR_MASK;
        this.updateModemInputs();
        break;
      case UART_LSR:
      case UART_MSR:
        return; // read-only (factory test registers)
      default:
        this.scr = value;
        return;
    }
    this.updateIrq();
  }

  private transmit(byte: number): void {
    // THR is written: its THRE interrupt is acknowledged, then the instant transmitter empties it again.
    this.thrIpending = false;
    if (this.mcr & UART_MCR_LOOP) this.pushRx(byte);
    else this.onTransmit?.(byte);
    if (this.ier & UART_IER_ETBEI) this.thrIpending = true;
  }

  private writeFcr(value: number): void {
    const enable = (value & UART_FCR_ENABLE_FIFO) !== 0;
    if (enable !== this.fifoEnabled) {
      // Changing the FIFO enable bit clears both FIFOs (datasheet FCR bit 0).
      this.fifoEnabled = enable;
      this.clearRx();
    } else if (enable && value & UART_FCR_CLEAR_RCVR) {
      this.clearRx();
    }
    // The transmit FIFO is always empty (instant transmission): UART_FCR_CLEAR_XMIT has nothing to do.
    this.triggerLevel = enable ? FIFO_TRIGGER_LEVELS[value >>> UART_FCR_TRIGGER_SHIFT] : 1;
    this.fillRxFifo();
  }

  private clearRx(): void {
    this.rxHead = 0;
    this.rxCount = 0;
    this.timeoutIpending = false;
    this.lastRxActivityNs = this.clock.nowNs();
  }

  /** Modem status inputs: the host's fixed lines, or in loopback the MCR outputs (datasheet 8.7). */
  private updateModemInputs(): void {
    let inputs = MSR_EXTERNAL_INPUTS;
    if (this.mcr & UART_MCR_LOOP) {
      inputs =
        (this.mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
        (this.mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
        (this.mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
        (this.mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
    }
    const old = this.msr;
    const changed = (old ^ inputs) & 0xf0;
    let deltas = old & UART_MSR_DELTAS;
    if (changed & UART_MSR_CTS) deltas |= UART_MSR_DCTS;
    if (changed & UART_MSR_DSR) deltas |= UART_MSR_DDSR;
    if (changed & UART_MSR_DCD) deltas |= UART_MSR_DDCD;
    if (changed & UART_MSR_RI && !(inputs & UART_MSR_RI)) deltas |= UART_MSR_TERI; // trailing edge
    this.msr = inputs | deltas;
  }

  private capacity(): number {
    return this.fifoEnabled ? UART_FIFO_SIZE : 1;
  }

  /** A byte arrives from the line (loopback): into the FIFO, or an overrun when it is full. */
  private pushRx(byte: number): void {
    if (this.rxCount >= this.capacity()) {
      this.lsrErrors |= UART_LSR_OE;
      return;
    }
    this.rxFifo[(this.rxHead + this.rxCount) & (UART_FIFO_SIZE - 1)] = byte;
    this.rxCount++;
    this.timeoutIpending = false;
    this.lastRxActivityNs = this.clock.nowNs();
  }

  private popRx(): number {
    if (this.rxCount === 0) return this.lastRxByte; // RBR keeps the last byte read
    const byte = this.rxFifo[this.rxHead];
    this.rxHead = (this.rxHead + 1) & (UART_FIFO_SIZE - 1);
    this.rxCount--;
    this.lastRxByte = byte;
    this.timeoutIpending = false;
    this.lastRxActivityNs = this.clock.nowNs();
    this.fillRxFifo();
    return byte;
  }

  /** Move queued host bytes into the receive FIFO while it has room. */
  private fillRxFifo(): void {
    const cap = this.capacity();
    while (this.hostCount > 0 && this.rxCount < cap) {
      const byte = this.hostQueue[this.hostHead];
      this.hostHead = (this.hostHead + 1) & (this.hostQueue.length - 1);
      this.hostCount--;
      this.pushRx(byte);
    }
  }

  private queueHostByte(byte: number): void {
    if (this.hostCount === this.hostQueue.length) {
      const bigger = new Uint8Array(this.hostQueue.length * 2);
      bigger.set(this.hostQueue.subarray(this.hostHead));
      bigger.set(this.hostQueue.subarray(0, this.hostHead), this.hostQueue.length - this.hostHead);
      this.hostQueue = bigger;
      this.hostHead = 0;
    }
    this.hostQueue[(this.hostHead + this.hostCount) & (this.hostQueue.length - 1)] = byte;
    this.hostCount++;
  }

  /** UTF-8 encoding of one code point into the host queue. */
  private queueCodePoint(cp: number): void {
    if (cp < 0x80) this.queueHostByte(cp);
    else if (cp < 0x800) {
      this.queueHostByte(0xc0 | (cp >> 6));
      this.queueHostByte(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      this.queueHostByte(0xe0 | (cp >> 12));
      this.queueHostByte(0x80 | ((cp >> 6) & 0x3f));
      this.queueHostByte(0x80 | (cp & 0x3f));
    } else {
      this.queueHostByte(0xf0 | (cp >> 18));
      this.queueHostByte(0x80 | ((cp >> 12) & 0x3f));
      this.queueHostByte(0x80 | ((cp >> 6) & 0x3f));
      this.queueHostByte(0x80 | (cp & 0x3f));
    }
  }

  saveState(): SavedState {
    const rx: number[] = [];
    for (let i = 0; i < this.rxCount; i++) rx.push(this.rxFifo[(this.rxHead + i) & (UART_FIFO_SIZE - 1)]);
    const host = new Uint8Array(this.hostCount);
    const mask = this.hostQueue.length - 1;
    for (let i = 0; i < this.hostCount; i++) host[i] = this.hostQueue[(this.hostHead + i) & mask];
    return {
      version: STATE_VERSION,
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      msr: this.msr,
      scr: this.scr,
      divisor: this.divisor,
      lsrErrors: this.lsrErrors,
      fifoEnabled: this.fifoEnabled,
      triggerLevel: this.triggerLevel,
      thrIpending: this.thrIpending,
      timeoutIpending: this.timeoutIpending,
      lastRxActivityNs: this.lastRxActivityNs,
      lastRxByte: this.lastRxByte,
      rxFifo: rx,
      hostQueue: host,
    };
  }

  loadState(state: SavedState): void {
    if (state.version !== STATE_VERSION) throw new Error(`Uart16550: unsupported state version ${state.version}`);
    this.ier = state.ier as number;
    this.lcr = state.lcr as number;
    this.mcr = state.mcr as number;
    this.msr = state.msr as number;
    this.scr = state.scr as number;
    this.divisor = state.divisor as number;
    this.lsrErrors = state.lsrErrors as number;
    this.fifoEnabled = state.fifoEnabled as boolean;
    this.triggerLevel = state.triggerLevel as number;
    this.thrIpending = state.thrIpending as boolean;
    this.timeoutIpending = state.timeoutIpending as boolean;
    this.lastRxActivityNs = state.lastRxActivityNs as number;
    this.lastRxByte = state.lastRxByte as number;
    const rx = state.rxFifo as number[];
    this.rxHead = 0;
    this.rxCount = rx.length;
    for (let i = 0; i < rx.length; i++) this.rxFifo[i] = rx[i];
    const host = state.hostQueue as Uint8Array;
    let size = 1024;
    while (size < host.length) size *= 2;
    this.hostQueue = new Uint8Array(size);
    this.hostQueue.set(host);
    this.hostHead = 0;
    this.hostCount = host.length;
    // Re-drive the IRQ line from the loaded registers.
    this.irqLevel = this.irqWanted();
    if (this.irqLevel) this.irq.raise();
    else this.irq.lower();
  }
}
