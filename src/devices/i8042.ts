/**
 * The Intel 8042 keyboard controller with an AT/PS-2 keyboard behind it. The auxiliary (mouse)
 * port exists (so Linux's AUX probe, which relies on the AUX loopback command, completes at
 * once) but has no device on it: bytes sent to it time out.
 *
 * Ports: 0x60 data, 0x64 status (read) / command (write); IRQ1 for keyboard data, IRQ12 for AUX.
 *
 * References: IBM PS/2 Hardware Interface Technical Reference, "Keyboard/Auxiliary Device
 * Controller" (status register, command byte, controller commands, scan code translation) and
 * "Keyboard" (keyboard commands, scan code set 2).
 */
import type { IoBus } from '../io/io-bus';
import type { IrqLine } from '../io/irq';
import type { SavedState, Stateful } from '../machine/state';

export const I8042_DATA_PORT = 0x60;
export const I8042_STATUS_PORT = 0x64;

// Status register.
export const I8042_STR_OBF = 0x01;
export const I8042_STR_IBF = 0x02;
export const I8042_STR_SYSFLAG = 0x04;
export const I8042_STR_CMDDAT = 0x08; // last write went to the command port
export const I8042_STR_KEYLOCK = 0x10; // 1 = keyboard not inhibited
export const I8042_STR_AUXDATA = 0x20;
export const I8042_STR_TIMEOUT = 0x40;
export const I8042_STR_PARITY = 0x80;

// Controller command byte ("CTR").
export const I8042_CTR_KBDINT = 0x01;
export const I8042_CTR_AUXINT = 0x02;
export const I8042_CTR_SYSFLAG = 0x04;
export const I8042_CTR_IGNKEYLOCK = 0x08;
export const I8042_CTR_KBDDIS = 0x10;
export const I8042_CTR_AUXDIS = 0x20;
export const I8042_CTR_XLATE = 0x40;

// Controller commands (port 0x64).
export const I8042_CMD_CTL_RCTR = 0x20;
export const I8042_CMD_CTL_WCTR = 0x60;
export const I8042_CMD_AUX_DISABLE = 0xa7;
export const I8042_CMD_AUX_ENABLE = 0xa8;
export const I8042_CMD_AUX_TEST = 0xa9;
export const I8042_CMD_CTL_TEST = 0xaa;
export const I8042_CMD_KBD_TEST = 0xab;
export const I8042_CMD_KBD_DISABLE = 0xad;
export const I8042_CMD_KBD_ENABLE = 0xae;
export const I8042_CMD_READ_INPUT = 0xc0;
export const I8042_CMD_READ_OUTPUT = 0xd0;
export const I8042_CMD_WRITE_OUTPUT = 0xd1;
export const I8042_CMD_KBD_LOOP = 0xd2;
export const I8042_CMD_AUX_LOOP = 0xd3;
export const I8042_CMD_AUX_SEND = 0xd4;
export const I8042_CMD_PULSE_FIRST = 0xf0;

export const I8042_RET_CTL_TEST = 0x55;
/** Output port bit 0: 0 resets the CPU. */
export const I8042_OUT_SYS_RESET = 0x01;
export const I8042_OUT_A20 = 0x02;

// Keyboard commands and replies.
export const ATKBD_CMD_SETLEDS = 0xed;
export const ATKBD_CMD_ECHO = 0xee;
export const ATKBD_CMD_SSCANSET = 0xf0;
export const ATKBD_CMD_GETID = 0xf2;
export const ATKBD_CMD_SETREP = 0xf3;
export const ATKBD_CMD_ENABLE = 0xf4;
export const ATKBD_CMD_RESET_DIS = 0xf5;
export const ATKBD_CMD_RESET_DEF = 0xf6;
export const ATKBD_CMD_RESEND = 0xfe;
export const ATKBD_CMD_RESET_BAT = 0xff;
export const ATKBD_RET_ACK = 0xfa;
export const ATKBD_RET_NAK = 0xfe;
export const ATKBD_RET_BAT = 0xaa;
export const ATKBD_RET_ECHO = 0xee;
export const ATKBD_RET_ERR = 0x00;
export const ATKBD_ID_1 = 0xab;
export const ATKBD_ID_2 = 0x83;
export const ATKBD_SET2_RELEASE = 0xf0;
export const ATKBD_EXTENDED = 0xe0;

const TYPEMATIC_DEFAULT = 0x2b; // 10.9 characters/s, 500 ms delay
const QUEUE_SIZE = 64; // power of two
const STATE_VERSION = 1;

const enum Source {
  Keyboard = 0,
  Aux = 1,
}

/**
 * Scan codes of the common keys by `KeyboardEvent.code`: [set 2 make code, set 1 make code];
 * an extended key carries 0x100 (an 0xE0 prefix in both sets).
 */
const KEYS: Record<string, readonly [number, number]> = {
  Escape: [0x76, 0x01],
  Digit1: [0x16, 0x02],
  Digit2: [0x1e, 0x03],
  Digit3: [0x26, 0x04],
  Digit4: [0x25, 0x05],
  Digit5: [0x2e, 0x06],
  Digit6: [0x36, 0x07],
  Digit7: [0x3d, 0x08],
  Digit8: [0x3e, 0x09],
  Digit9: [0x46, 0x0a],
  Digit0: [0x45, 0x0b],
  Minus: [0x4e, 0x0c],
  Equal: [0x55, 0x0d],
  Backspace: [0x66, 0x0e],
  Tab: [0x0d, 0x0f],
  KeyQ: [0x15, 0x10],
  KeyW: [0x1d, 0x11],
  KeyE: [0x24, 0x12],
  KeyR: [0x2d, 0x13],
  KeyT: [0x2c, 0x14],
  KeyY: [0x35, 0x15],
  KeyU: [0x3c, 0x16],
  KeyI: [0x43, 0x17],
  KeyO: [0x44, 0x18],
  KeyP: [0x4d, 0x19],
  BracketLeft: [0x54, 0x1a],
  BracketRight: [0x5b, 0x1b],
  Enter: [0x5a, 0x1c],
  ControlLeft: [0x14, 0x1d],
  KeyA: [0x1c, 0x1e],
  KeyS: [0x1b, 0x1f],
  KeyD: [0x23, 0x20],
  KeyF: [0x2b, 0x21],
  KeyG: [0x34, 0x22],
  KeyH: [0x33, 0x23],
  KeyJ: [0x3b, 0x24],
  KeyK: [0x42, 0x25],
  KeyL: [0x4b, 0x26],
  Semicolon: [0x4c, 0x27],
  Quote: [0x52, 0x28],
  Backquote: [0x0e, 0x29],
  ShiftLeft: [0x12, 0x2a],
  Backslash: [0x5d, 0x2b],
  KeyZ: [0x1a, 0x2c],
  KeyX: [0x22, 0x2d],
  KeyC: [0x21, 0x2e],
  KeyV: [0x2a, 0x2f],
  KeyB: [0x32, 0x30],
  KeyN: [0x31, 0x31],
  KeyM: [0x3a, 0x32],
  Comma: [0x41, 0x33],
  Period: [0x49, 0x34],
  Slash: [0x4a, 0x35],
  ShiftRight: [0x59, 0x36],
  AltLeft: [0x11, 0x38],
  Space: [0x29, 0x39],
  CapsLock: [0x58, 0x3a],
  F1: [0x05, 0x3b],
  F2: [0x06, 0x3c],
  F3: [0x04, 0x3d],
  F4: [0x0c, 0x3e],
  F5: [0x03, 0x3f],
  F6: [0x0b, 0x40],
  F7: [0x83, 0x41],
  F8: [0x0a, 0x42],
  F9: [0x01, 0x43],
  F10: [0x09, 0x44],
  F11: [0x78, 0x57],
  F12: [0x07, 0x58],
  ControlRight: [0x114, 0x11d],
  AltRight: [0x111, 0x138],
  ArrowUp: [0x175, 0x148],
  ArrowDown: [0x172, 0x150],
  ArrowLeft: [0x16b, 0x14b],
  ArrowRight: [0x174, 0x14d],
  Home: [0x16c, 0x147],
  End: [0x169, 0x14f],
  PageUp: [0x17d, 0x149],
  PageDown: [0x17a, 0x151],
  Insert: [0x170, 0x152],
  Delete: [0x171, 0x153],
};

/**
 * The controller's set 2 -> set 1 translation (CTR bit 6) for the bytes this keyboard sends:
 * derived from the key table, plus the scan code set numbers and the ID byte 0x83 (which is also
 * F7's code). Bytes >= 0x80 other than 0x83 pass through (0xF0 is consumed as the release prefix).
 */
const XLATE = new Uint8Array(256);
for (let i = 0; i < 256; i++) XLATE[i] = i;
XLATE[0x00] = 0xff;
XLATE[0x02] = 0x41; // "scan code set 2" reply
for (const code in KEYS) {
  const [set2, set1] = KEYS[code];
  XLATE[set2 & 0xff] = set1 & 0xff;
}

/** A small byte FIFO tagged with the source of each byte. */
class ByteQueue {
  readonly bytes = new Uint8Array(QUEUE_SIZE);
  head = 0;
  count = 0;
  push(b: number): boolean {
    if (this.count === QUEUE_SIZE) return false;
    this.bytes[(this.head + this.count) & (QUEUE_SIZE - 1)] = b;
    this.count++;
    return true;
  }
  shift(): number {
    const b = this.bytes[this.head];
    this.head = (this.head + 1) & (QUEUE_SIZE - 1);
    this.count--;
    return b;
  }
  clear(): void {
    this.head = 0;
    this.count = 0;
  }
  toArray(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.bytes[(this.head + i) & (QUEUE_SIZE - 1)]);
    return out;
  }
  load(a: number[]): void {
    this.clear();
    for (const b of a) this.push(b);
  }
}

export class I8042 implements Stateful {
  private ctr = 0;
  private outputPort = I8042_OUT_SYS_RESET | I8042_OUT_A20;
  private lastWriteWasCommand = false;
  /** Controller command waiting for its data byte on port 0x60 (0 = none). */
  private pendingCommand = 0;
  /** The output buffer: one byte (or -1), its source, and whether it reports a timeout. */
  private obuf = -1;
  private obufSource = Source.Keyboard;
  private obufTimeout = false;
  private lastRead = 0;
  /** Controller replies (source tagged per byte in `ctrlSources`). */
  private readonly ctrlQueue = new ByteQueue();
  private readonly ctrlSources = new ByteQueue();
  /** Bytes sent by the keyboard, waiting for the keyboard interface. */
  private readonly kbdQueue = new ByteQueue();
  /** Translation: an 0xF0 release prefix was consumed. */
  private xlateRelease = false;
  private irq1Level = false;
  private irq12Level = false;

  // The keyboard.
  private kbdScanning = true;
  private kbdScanSet = 2;
  private kbdLeds = 0;
  private kbdTypematic = TYPEMATIC_DEFAULT;
  /** Keyboard command waiting for its parameter byte (0 = none). */
  private kbdPendingCommand = 0;
  private kbdLastSent = 0;

  constructor(
    io: IoBus,
    private readonly irq1: IrqLine,
    private readonly irq12: IrqLine,
    private readonly onResetRequest: () => void,
  ) {
    io.register(I8042_DATA_PORT, 1, {
      read8: () => this.readData(),
      write8: (_port, value) => this.writeData(value),
    });
    io.register(I8042_STATUS_PORT, 1, {
      read8: () => this.readStatus(),
      write8: (_port, value) => this.writeCommand(value),
    });
    this.reset();
  }

  /** The state a BIOS leaves: keyboard interrupt on, translation on, AUX off, keyboard reset. */
  reset(): void {
    this.ctr = I8042_CTR_KBDINT | I8042_CTR_SYSFLAG | I8042_CTR_XLATE | I8042_CTR_AUXDIS;
    this.outputPort = I8042_OUT_SYS_RESET | I8042_OUT_A20;
    this.lastWriteWasCommand = false;
    this.pendingCommand = 0;
    this.obuf = -1;
    this.obufSource = Source.Keyboard;
    this.obufTimeout = false;
    this.lastRead = 0;
    this.ctrlQueue.clear();
    this.ctrlSources.clear();
    this.kbdQueue.clear();
    this.xlateRelease = false;
    this.resetKeyboard();
    this.kbdScanning = true;
    this.updateIrq();
  }

  /** A host key press, by `KeyboardEvent.code`. Returns false for keys not in the table. */
  keyDown(code: string): boolean {
    return this.key(code, false);
  }

  /** A host key release, by `KeyboardEvent.code`. Returns false for keys not in the table. */
  keyUp(code: string): boolean {
    return this.key(code, true);
  }

  private key(code: string, release: boolean): boolean {
    const entry = KEYS[code];
    if (!entry) return false;
    if (!this.kbdScanning) return true;
    if (this.kbdScanSet === 1) {
      const c = entry[1];
      if (c & 0x100) this.kbdSend(ATKBD_EXTENDED);
      this.kbdSend((c & 0x7f) | (release ? 0x80 : 0));
    } else {
      const c = entry[0];
      if (c & 0x100) this.kbdSend(ATKBD_EXTENDED);
      if (release) this.kbdSend(ATKBD_SET2_RELEASE);
      this.kbdSend(c & 0xff);
    }
    this.refill();
    this.updateIrq();
    return true;
  }

  private readStatus(): number {
    let s = I8042_STR_KEYLOCK;
    if (this.obuf >= 0) {
      s |= I8042_STR_OBF;
      if (this.obufSource === Source.Aux) s |= I8042_STR_AUXDATA;
      if (this.obufTimeout) s |= I8042_STR_TIMEOUT;
    }
    if (this.ctr & I8042_CTR_SYSFLAG) s |= I8042_STR_SYSFLAG;
    if (this.lastWriteWasCommand) s |= I8042_STR_CMDDAT;
    return s;
  }

  private readData(): number {
    if (this.obuf >= 0) {
      this.lastRead = this.obuf;
      this.obuf = -1;
      this.obufTimeout = false;
      // The read drops the IRQ; the next byte then raises it again (a new edge for the PIC).
      this.updateIrq();
      this.refill();
      this.updateIrq();
    }
    return this.lastRead;
  }

  /** IRQ1/IRQ12 follow a full output buffer from the keyboard/AUX side, when enabled in the CTR. */
  private updateIrq(force = false): void {
    const full = this.obuf >= 0;
    const l1 = full && this.obufSource === Source.Keyboard && (this.ctr & I8042_CTR_KBDINT) !== 0;
    const l12 = full && this.obufSource === Source.Aux && (this.ctr & I8042_CTR_AUXINT) !== 0;
    if (force || l1 !== this.irq1Level) {
      this.irq1Level = l1;
      if (l1) this.irq1.raise();
      else this.irq1.lower();
    }
    if (force || l12 !== this.irq12Level) {
      this.irq12Level = l12;
      if (l12) this.irq12.raise();
      else this.irq12.lower();
    }
  }

  /** Load the output buffer when empty: controller replies first, then the keyboard if its interface is enabled. */
  private refill(): void {
    if (this.obuf >= 0) return;
    if (this.ctrlQueue.count > 0) {
      this.obuf = this.ctrlQueue.shift();
      const src = this.ctrlSources.shift();
      this.obufSource = (src & 1) as Source;
      this.obufTimeout = (src & 2) !== 0;
      return;
    }
    if (this.ctr & I8042_CTR_KBDDIS) return;
    while (this.kbdQueue.count > 0) {
      let b = this.kbdQueue.shift();
      if (this.ctr & I8042_CTR_XLATE) {
        if (b === ATKBD_SET2_RELEASE) {
          this.xlateRelease = true;
          continue;
        }
        b = XLATE[b];
        if (this.xlateRelease) {
          b |= 0x80;
          this.xlateRelease = false;
        }
      }
      this.obuf = b;
      this.obufSource = Source.Keyboard;
      this.obufTimeout = false;
      return;
    }
  }

  /** A controller reply into the output buffer queue. */
  private reply(b: number, source: Source = Source.Keyboard, timeout = false): void {
    this.ctrlQueue.push(b);
    this.ctrlSources.push(source | (timeout ? 2 : 0));
    this.refill();
  }

  private writeCommand(cmd: number): void {
    this.lastWriteWasCommand = true;
    this.pendingCommand = 0;
    switch (cmd) {
      case I8042_CMD_CTL_RCTR:
        this.reply(this.ctr);
        break;
      case I8042_CMD_CTL_WCTR:
      case I8042_CMD_WRITE_OUTPUT:
      case I8042_CMD_KBD_LOOP:
      case I8042_CMD_AUX_LOOP:
      case I8042_CMD_AUX_SEND:
        this.pendingCommand = cmd;
        break;
      case I8042_CMD_AUX_DISABLE:
        this.ctr |= I8042_CTR_AUXDIS;
        break;
      case I8042_CMD_AUX_ENABLE:
        this.ctr &= ~I8042_CTR_AUXDIS;
        break;
      case I8042_CMD_AUX_TEST:
      case I8042_CMD_KBD_TEST:
        this.reply(0x00); // interface OK
        break;
      case I8042_CMD_CTL_TEST:
        this.ctr |= I8042_CTR_SYSFLAG;
        this.reply(I8042_RET_CTL_TEST);
        break;
      case I8042_CMD_KBD_DISABLE:
        this.ctr |= I8042_CTR_KBDDIS;
        break;
      case I8042_CMD_KBD_ENABLE:
        this.ctr &= ~I8042_CTR_KBDDIS;
        this.refill();
        break;
      case I8042_CMD_READ_INPUT:
        this.reply(0x80); // keyboard not inhibited
        break;
      case I8042_CMD_READ_OUTPUT:
        this.reply(
          (this.outputPort & (I8042_OUT_SYS_RESET | I8042_OUT_A20)) |
            (this.obuf >= 0 && this.obufSource === Source.Keyboard ? 0x10 : 0) |
            (this.obuf >= 0 && this.obufSource === Source.Aux ? 0x20 : 0),
        );
        break;
      default:
        // 0xF0-0xFF pulse output port bits 0-3 low for 6 µs; bit 0 is the CPU reset line.
        if (cmd >= I8042_CMD_PULSE_FIRST && !(cmd & I8042_OUT_SYS_RESET)) this.onResetRequest();
        break;
    }
    this.updateIrq();
  }

  private writeData(value: number): void {
    this.lastWriteWasCommand = false;
    const cmd = this.pendingCommand;
    this.pendingCommand = 0;
    switch (cmd) {
      case I8042_CMD_CTL_WCTR:
        this.ctr = value;
        this.refill();
        break;
      case I8042_CMD_WRITE_OUTPUT:
        this.outputPort = value;
        if (!(value & I8042_OUT_SYS_RESET)) this.onResetRequest();
        break;
      case I8042_CMD_KBD_LOOP:
        this.reply(value, Source.Keyboard);
        break;
      case I8042_CMD_AUX_LOOP:
        this.reply(value, Source.Aux);
        break;
      case I8042_CMD_AUX_SEND:
        // Nothing is plugged into the AUX port: the transmission times out.
        this.reply(ATKBD_RET_NAK, Source.Aux, true);
        break;
      default:
        // Data for the keyboard; writing to it re-enables its interface.
        this.ctr &= ~I8042_CTR_KBDDIS;
        this.keyboardCommand(value);
        this.refill();
        break;
    }
    this.updateIrq();
  }

  // --- The keyboard ---

  private kbdSend(b: number): void {
    this.kbdLastSent = b;
    if (!this.kbdQueue.push(b)) {
      // Keyboard buffer overrun: the last byte becomes the overrun code.
      this.kbdQueue.bytes[(this.kbdQueue.head + QUEUE_SIZE - 1) & (QUEUE_SIZE - 1)] = ATKBD_RET_ERR;
    }
  }

  private resetKeyboard(): void {
    this.kbdScanSet = 2;
    this.kbdLeds = 0;
    this.kbdTypematic = TYPEMATIC_DEFAULT;
    this.kbdPendingCommand = 0;
  }

  private keyboardCommand(b: number): void {
    const pending = this.kbdPendingCommand;
    this.kbdPendingCommand = 0;
    // A parameter byte; a command byte instead abandons the pending command.
    if (pending && b < ATKBD_CMD_SETLEDS) {
      switch (pending) {
        case ATKBD_CMD_SETLEDS:
          this.kbdLeds = b & 7;
          this.kbdSend(ATKBD_RET_ACK);
          break;
        case ATKBD_CMD_SETREP:
          this.kbdTypematic = b & 0x7f;
          this.kbdSend(ATKBD_RET_ACK);
          break;
        case ATKBD_CMD_SSCANSET:
          if (b === 0) {
            this.kbdSend(ATKBD_RET_ACK);
            this.kbdSend(this.kbdScanSet);
          } else if (b === 1 || b === 2) {
            this.kbdScanSet = b;
            this.kbdSend(ATKBD_RET_ACK);
          } else {
            this.kbdSend(ATKBD_RET_NAK); // set 3 is not supported
          }
          break;
      }
      return;
    }
    switch (b) {
      case ATKBD_CMD_RESET_BAT:
        this.kbdQueue.clear();
        this.resetKeyboard();
        this.kbdScanning = true;
        this.kbdSend(ATKBD_RET_ACK);
        this.kbdSend(ATKBD_RET_BAT);
        break;
      case ATKBD_CMD_RESEND:
        this.kbdSend(this.kbdLastSent);
        break;
      case ATKBD_CMD_RESET_DEF:
        this.resetKeyboard();
        this.kbdSend(ATKBD_RET_ACK);
        break;
      case ATKBD_CMD_RESET_DIS:
        this.resetKeyboard();
        this.kbdScanning = false;
        this.kbdSend(ATKBD_RET_ACK);
        break;
      case ATKBD_CMD_ENABLE:
        this.kbdQueue.clear();
        this.kbdScanning = true;
        this.kbdSend(ATKBD_RET_ACK);
        break;
      case ATKBD_CMD_SETREP:
      case ATKBD_CMD_SSCANSET:
      case ATKBD_CMD_SETLEDS:
        this.kbdPendingCommand = b;
        this.kbdSend(ATKBD_RET_ACK);
        break;
      case ATKBD_CMD_GETID:
        this.kbdSend(ATKBD_RET_ACK);
        this.kbdSend(ATKBD_ID_1);
        this.kbdSend(ATKBD_ID_2);
        break;
      case ATKBD_CMD_ECHO:
        this.kbdSend(ATKBD_RET_ECHO);
        break;
      default:
        if (b >= 0xf7 && b <= 0xfd) this.kbdSend(ATKBD_RET_ACK); // scan code set 3 key attributes
        else this.kbdSend(ATKBD_RET_NAK);
        break;
    }
  }

  saveState(): SavedState {
    return {
      version: STATE_VERSION,
      ctr: this.ctr,
      outputPort: this.outputPort,
      lastWriteWasCommand: this.lastWriteWasCommand,
      pendingCommand: this.pendingCommand,
      obuf: this.obuf,
      obufSource: this.obufSource,
      obufTimeout: this.obufTimeout,
      lastRead: this.lastRead,
      ctrlQueue: this.ctrlQueue.toArray(),
      ctrlSources: this.ctrlSources.toArray(),
      kbdQueue: this.kbdQueue.toArray(),
      xlateRelease: this.xlateRelease,
      kbdScanning: this.kbdScanning,
      kbdScanSet: this.kbdScanSet,
      kbdLeds: this.kbdLeds,
      kbdTypematic: this.kbdTypematic,
      kbdPendingCommand: this.kbdPendingCommand,
      kbdLastSent: this.kbdLastSent,
    };
  }

  loadState(state: SavedState): void {
    if (state.version !== STATE_VERSION) throw new Error(`I8042: unsupported state version ${state.version}`);
    this.ctr = state.ctr as number;
    this.outputPort = state.outputPort as number;
    this.lastWriteWasCommand = state.lastWriteWasCommand as boolean;
    this.pendingCommand = state.pendingCommand as number;
    this.obuf = state.obuf as number;
    this.obufSource = state.obufSource as Source;
    this.obufTimeout = state.obufTimeout as boolean;
    this.lastRead = state.lastRead as number;
    this.ctrlQueue.load(state.ctrlQueue as number[]);
    this.ctrlSources.load(state.ctrlSources as number[]);
    this.kbdQueue.load(state.kbdQueue as number[]);
    this.xlateRelease = state.xlateRelease as boolean;
    this.kbdScanning = state.kbdScanning as boolean;
    this.kbdScanSet = state.kbdScanSet as number;
    this.kbdLeds = state.kbdLeds as number;
    this.kbdTypematic = state.kbdTypematic as number;
    this.kbdPendingCommand = state.kbdPendingCommand as number;
    this.kbdLastSent = state.kbdLastSent as number;
    // Re-drive both IRQ lines from the loaded output buffer.
    this.updateIrq(true);
  }
}
