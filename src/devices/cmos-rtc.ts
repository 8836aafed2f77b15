/**
 * The Motorola MC146818 real-time clock and its 128 bytes of battery-backed CMOS RAM, as in every
 * PC: index port 0x70 (bit 7 masks NMI), data port 0x71, IRQ8.
 *
 * The time of day is not ticked: it is the host's wall clock at power-on plus the emulated time
 * since, kept as (seconds, phase within the second) so the once-a-second update cycle, the UIP
 * window and the periodic interrupt all follow the emulated clock. Guest writes to the time
 * registers move that base. Interrupt flags are brought up to date lazily (register C reads,
 * `advance`).
 *
 * Reference: MC146818A datasheet (Motorola): "Address Map", "Register A" (UIP, DV, RS and
 * Table 5 periodic rates), "Register B", "Register C", "Register D", "Update Cycle" (UIP is set
 * 244 µs before the update), "Interrupts". CMOS layout: IBM PC AT Technical Reference.
 */
import type { IoBus } from '../io/io-bus';
import type { IrqLine } from '../io/irq';
import type { Clock, SavedState, Stateful, Timed } from '../machine/state';

export const RTC_PORT_INDEX = 0x70;
export const RTC_PORT_DATA = 0x71;
export const RTC_NMI_DISABLE = 0x80;

// Register indices.
export const RTC_SECONDS = 0x00;
export const RTC_SECONDS_ALARM = 0x01;
export const RTC_MINUTES = 0x02;
export const RTC_MINUTES_ALARM = 0x03;
export const RTC_HOURS = 0x04;
export const RTC_HOURS_ALARM = 0x05;
export const RTC_DAY_OF_WEEK = 0x06;
export const RTC_DAY_OF_MONTH = 0x07;
export const RTC_MONTH = 0x08;
export const RTC_YEAR = 0x09;
export const RTC_REG_A = 0x0a;
export const RTC_REG_B = 0x0b;
export const RTC_REG_C = 0x0c;
export const RTC_REG_D = 0x0d;
export const CMOS_EQUIPMENT = 0x14;
export const CMOS_BASE_MEM_LO = 0x15;
export const CMOS_BASE_MEM_HI = 0x16;
export const CMOS_EXT_MEM_LO = 0x17;
export const CMOS_EXT_MEM_HI = 0x18;
export const CMOS_CHECKSUM_HI = 0x2e;
export const CMOS_CHECKSUM_LO = 0x2f;
export const CMOS_EXT_MEM2_LO = 0x30;
export const CMOS_EXT_MEM2_HI = 0x31;
export const RTC_CENTURY = 0x32;
export const CMOS_HIGH_MEM_LO = 0x34;
export const CMOS_HIGH_MEM_HI = 0x35;

// Register A.
export const RTC_UIP = 0x80;
export const RTC_DIV_CTL = 0x70;
export const RTC_REF_CLCK_32KHZ = 0x20;
export const RTC_DIV_RESET1 = 0x60;
export const RTC_DIV_RESET2 = 0x70;
export const RTC_RATE_SELECT = 0x0f;
// Register B.
export const RTC_SET = 0x80;
export const RTC_PIE = 0x40;
export const RTC_AIE = 0x20;
export const RTC_UIE = 0x10;
export const RTC_SQWE = 0x08;
export const RTC_DM_BINARY = 0x04;
export const RTC_24H = 0x02;
export const RTC_DST_EN = 0x01;
// Register C.
export const RTC_IRQF = 0x80;
export const RTC_PF = 0x40;
export const RTC_AF = 0x20;
export const RTC_UF = 0x10;
// Register D.
export const RTC_VRT = 0x80;

/** An alarm register value with both top bits set matches any value ("don't care"). */
const RTC_ALARM_DONT_CARE = 0xc0;
/** UIP is set this long before each update cycle. */
export const RTC_UIP_WINDOW_NS = 244_000;
const NS_PER_S = 1e9;
const RTC_TIMEBASE_HZ = 32768;
const STATE_VERSION = 1;

const TIME_REGISTERS = [
  RTC_SECONDS,
  RTC_MINUTES,
  RTC_HOURS,
  RTC_DAY_OF_WEEK,
  RTC_DAY_OF_MONTH,
  RTC_MONTH,
  RTC_YEAR,
  RTC_CENTURY,
];

export interface CmosRtcOptions {
  /** Host wall clock, ms since the Unix epoch (read at power-on). */
  wallClockMs: () => number;
  /** Guest RAM size, for the memory-size bytes. */
  memoryBytes: number;
}

/** Days since 1970-01-01 -> [year, month 1..12, day 1..31] (proleptic Gregorian). */
function civilFromDays(days: number, out: Int32Array): void {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  out[0] = yoe + era * 400 + (month <= 2 ? 1 : 0);
  out[1] = month;
  out[2] = doy - Math.floor((153 * mp + 2) / 5) + 1;
}

/** [year, month 1..12, day 1..31] -> days since 1970-01-01. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function ticks32k(ns: number): number {
  const s = Math.floor(ns / NS_PER_S);
  const rem = ns - s * NS_PER_S;
  return s * RTC_TIMEBASE_HZ + Math.floor((rem * RTC_TIMEBASE_HZ) / NS_PER_S);
}

/** Earliest ns at which `ticks` 32.768 kHz ticks have elapsed. */
function ticks32kToNs(ticks: number): number {
  const s = Math.floor(ticks / RTC_TIMEBASE_HZ);
  const rem = ticks - s * RTC_TIMEBASE_HZ;
  return s * NS_PER_S + Math.ceil((rem * NS_PER_S) / RTC_TIMEBASE_HZ);
}

export class CmosRtc implements Timed, Stateful {
  private readonly nvram = new Uint8Array(128);
  private index = 0;
  private nmiMasked = false;
  /** RTC time at emulated time t: baseSec + floor((basePhaseNs + t) / 1e9) seconds. */
  private baseSec = 0;
  private basePhaseNs = 0;
  /** Time registers hold a snapshot in nvram (SET bit, or divider held in reset). */
  private frozen = false;
  /** The divider was held in reset during the current frozen period. */
  private dividerWasReset = false;
  private regC = 0;
  /** Emulated time up to which interrupt flags have been brought up to date. */
  private lastNs = 0;
  private irqLevel = false;
  private readonly date = new Int32Array(3);

  constructor(
    io: IoBus,
    private readonly clock: Clock,
    private readonly irq8: IrqLine,
    private readonly options: CmosRtcOptions,
  ) {
    io.register(RTC_PORT_INDEX, 2, {
      read8: (port) => (port === RTC_PORT_INDEX ? 0xff : this.readData()),
      write8: (port, value) => {
        if (port === RTC_PORT_INDEX) {
          this.index = value & 0x7f;
          this.nmiMasked = (value & RTC_NMI_DISABLE) !== 0;
        } else this.writeData(value);
      },
    });
    this.powerOn();
  }

  /** NMI is masked (port 0x70 bit 7 as last written). */
  get nmiDisabled(): boolean {
    return this.nmiMasked;
  }

  /** Battery-backed contents and the wall-clock time, as at power-on. */
  private powerOn(): void {
    const now = this.clock.nowNs();
    const wall = Math.floor(this.options.wallClockMs());
    const sec = Math.floor(wall / 1000);
    // Choose the phase so that the wall clock's sub-second part is where the clock stands now.
    this.basePhaseNs = ((((wall - sec * 1000) * 1e6 - now) % NS_PER_S) + NS_PER_S) % NS_PER_S;
    this.baseSec = sec - Math.floor((this.basePhaseNs + now) / NS_PER_S);
    const nv = this.nvram;
    nv.fill(0);
    nv[RTC_REG_A] = RTC_REF_CLCK_32KHZ | 0x06; // 32.768 kHz time base, 1024 Hz periodic rate
    nv[RTC_REG_B] = RTC_24H;
    nv[RTC_REG_D] = RTC_VRT;
    nv[CMOS_EQUIPMENT] = 0x02; // math coprocessor present, no floppies, VGA/EGA
    const kib = Math.floor(this.options.memoryBytes / 1024);
    nv[CMOS_BASE_MEM_LO] = 640 & 0xff;
    nv[CMOS_BASE_MEM_HI] = 640 >> 8;
    const ext = Math.min(Math.max(kib - 1024, 0), 0xffff);
    nv[CMOS_EXT_MEM_LO] = nv[CMOS_EXT_MEM2_LO] = ext & 0xff;
    nv[CMOS_EXT_MEM_HI] = nv[CMOS_EXT_MEM2_HI] = ext >> 8;
    const high = Math.min(Math.max(Math.floor((this.options.memoryBytes - 16 * 1024 * 1024) / 65536), 0), 0xffff);
    nv[CMOS_HIGH_MEM_LO] = high & 0xff;
    nv[CMOS_HIGH_MEM_HI] = high >> 8;
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += nv[i];
    nv[CMOS_CHECKSUM_HI] = (sum >> 8) & 0xff;
    nv[CMOS_CHECKSUM_LO] = sum & 0xff;
    this.frozen = false;
    this.dividerWasReset = false;
    this.regC = 0;
    this.index = 0;
    this.nmiMasked = false;
    this.lastNs = now;
    this.irqLevel = false;
    this.irq8.lower();
  }

  /** The RESET pin: clears the interrupt enables and flags; the clock and CMOS RAM keep going. */
  reset(): void {
    const now = this.clock.nowNs();
    this.catchUp(now);
    this.nvram[RTC_REG_B] &= ~(RTC_PIE | RTC_AIE | RTC_UIE | RTC_SQWE);
    this.regC = 0;
    this.index = 0;
    this.nmiMasked = false;
    this.updateIrq();
  }

  advance(nowNs: number): number {
    this.catchUp(nowNs);
    const b = this.nvram[RTC_REG_B];
    let next = Infinity;
    const period = this.periodTicks();
    if (b & RTC_PIE && period > 0) {
      const t = ticks32k(this.basePhaseNs + nowNs);
      next = ticks32kToNs((Math.floor(t / period) + 1) * period) - this.basePhaseNs - nowNs;
    }
    if (b & (RTC_UIE | RTC_AIE) && !this.frozen) {
      next = Math.min(next, NS_PER_S - this.phaseAt(nowNs));
    }
    return next > 0 ? next : 1;
  }

  /** Current RTC time as seconds since the Unix epoch (for tests and the host UI). */
  timeSeconds(): number {
    return this.frozen ? this.registersToSeconds() : this.secondsAt(this.clock.nowNs());
  }

  private secondsAt(ns: number): number {
    return this.baseSec + Math.floor((this.basePhaseNs + ns) / NS_PER_S);
  }

  private phaseAt(ns: number): number {
    return (this.basePhaseNs + ns) % NS_PER_S;
  }

  private dividerRunning(): boolean {
    const dv = this.nvram[RTC_REG_A] & RTC_DIV_CTL;
    return dv !== RTC_DIV_RESET1 && dv !== RTC_DIV_RESET2;
  }

  /** Periodic interrupt period in 32.768 kHz ticks (datasheet Table 5), 0 when off. */
  private periodTicks(): number {
    const rs = this.nvram[RTC_REG_A] & RTC_RATE_SELECT;
    if (rs === 0 || !this.dividerRunning()) return 0;
    return 1 << ((rs < 3 ? rs + 7 : rs) - 1);
  }

  /** Set the flags for every periodic tick and update cycle between `lastNs` and `now`. */
  private catchUp(now: number): void {
    const last = this.lastNs;
    if (now <= last) return;
    this.lastNs = now;
    const period = this.periodTicks();
    if (period > 0) {
      const from = Math.floor(ticks32k(this.basePhaseNs + last) / period);
      if (Math.floor(ticks32k(this.basePhaseNs + now) / period) > from) this.regC |= RTC_PF;
    }
    if (!this.frozen) {
      const s0 = this.secondsAt(last);
      const s1 = this.secondsAt(now);
      if (s1 > s0) {
        this.regC |= RTC_UF;
        // Alarm: compared at every update cycle. A whole day covers every possible alarm setting.
        if (s1 - s0 >= 86400) this.regC |= RTC_AF;
        else for (let s = s0 + 1; s <= s1 && !(this.regC & RTC_AF); s++) if (this.alarmMatches(s)) this.regC |= RTC_AF;
      }
    }
    this.updateIrq();
  }

  private alarmMatches(sec: number): boolean {
    const sod = ((sec % 86400) + 86400) % 86400;
    const nv = this.nvram;
    const s = nv[RTC_SECONDS_ALARM];
    const m = nv[RTC_MINUTES_ALARM];
    const h = nv[RTC_HOURS_ALARM];
    return (
      (s >= RTC_ALARM_DONT_CARE || s === this.encode(sod % 60)) &&
      (m >= RTC_ALARM_DONT_CARE || m === this.encode(Math.floor(sod / 60) % 60)) &&
      (h >= RTC_ALARM_DONT_CARE || h === this.encodeHour(Math.floor(sod / 3600)))
    );
  }

  /** IRQ8 follows IRQF: any flag whose interrupt is enabled in register B. */
  private updateIrq(): void {
    if (this.regC & this.nvram[RTC_REG_B] & (RTC_PF | RTC_AF | RTC_UF)) this.regC |= RTC_IRQF;
    else this.regC &= ~RTC_IRQF;
    const level = (this.regC & RTC_IRQF) !== 0;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    if (level) this.irq8.raise();
    else this.irq8.lower();
  }

  private encode(v: number): number {
    return this.nvram[RTC_REG_B] & RTC_DM_BINARY ? v : ((Math.floor(v / 10) % 10) << 4) | v % 10;
  }

  private decode(v: number): number {
    return this.nvram[RTC_REG_B] & RTC_DM_BINARY ? v : (v >> 4) * 10 + (v & 15);
  }

  /** Hours 0..23 in the register format: 12-hour mode counts 12, 1..11 with bit 7 for PM. */
  private encodeHour(h: number): number {
    if (this.nvram[RTC_REG_B] & RTC_24H) return this.encode(h);
    const h12 = h % 12 === 0 ? 12 : h % 12;
    return this.encode(h12) | (h >= 12 ? 0x80 : 0);
  }

  private decodeHour(v: number): number {
    if (this.nvram[RTC_REG_B] & RTC_24H) return this.decode(v);
    const h12 = this.decode(v & 0x7f) % 12;
    return v & 0x80 ? h12 + 12 : h12;
  }

  /** Time register `reg` for RTC time `sec`, in the current format. */
  private timeRegister(reg: number, sec: number): number {
    const days = Math.floor(sec / 86400);
    const sod = sec - days * 86400;
    switch (reg) {
      case RTC_SECONDS:
        return this.encode(sod % 60);
      case RTC_MINUTES:
        return this.encode(Math.floor(sod / 60) % 60);
      case RTC_HOURS:
        return this.encodeHour(Math.floor(sod / 3600));
      case RTC_DAY_OF_WEEK:
        return this.encode((((days + 4) % 7) + 7) % 7 + 1); // 1 = Sunday; 1970-01-01 was a Thursday
    }
    civilFromDays(days, this.date);
    switch (reg) {
      case RTC_DAY_OF_MONTH:
        return this.encode(this.date[2]);
      case RTC_MONTH:
        return this.encode(this.date[1]);
      case RTC_YEAR:
        return this.encode(this.date[0] % 100);
      default: // RTC_CENTURY
        return this.encode(Math.floor(this.date[0] / 100));
    }
  }

  /** The time held in the (frozen) time registers, as seconds since the epoch. */
  private registersToSeconds(): number {
    const nv = this.nvram;
    const year = this.decode(nv[RTC_CENTURY]) * 100 + this.decode(nv[RTC_YEAR]);
    const days = daysFromCivil(year, this.decode(nv[RTC_MONTH]), this.decode(nv[RTC_DAY_OF_MONTH]));
    const hours = this.decodeHour(nv[RTC_HOURS]);
    return days * 86400 + hours * 3600 + this.decode(nv[RTC_MINUTES]) * 60 + this.decode(nv[RTC_SECONDS]);
  }

  private snapshotTime(now: number): void {
    const sec = this.secondsAt(now);
    for (let i = 0; i < TIME_REGISTERS.length; i++) {
      this.nvram[TIME_REGISTERS[i]] = this.timeRegister(TIME_REGISTERS[i], sec);
    }
  }

  /**
   * Freeze the time registers while SET is set or the divider is held in reset; on release the
   * clock runs on from what the guest wrote. After a divider reset the first update comes 500 ms
   * later (datasheet "Divider Control"); otherwise the phase within the second is kept.
   */
  private refreshFrozen(now: number): void {
    const divider = this.dividerRunning();
    const freeze = (this.nvram[RTC_REG_B] & RTC_SET) !== 0 || !divider;
    if (freeze && !this.frozen) {
      this.snapshotTime(now);
      this.frozen = true;
      this.dividerWasReset = false;
    }
    if (!divider) this.dividerWasReset = true;
    if (!freeze && this.frozen) {
      const sec = this.registersToSeconds();
      if (this.dividerWasReset) this.basePhaseNs = (((5e8 - now) % NS_PER_S) + NS_PER_S) % NS_PER_S;
      this.baseSec = sec - Math.floor((this.basePhaseNs + now) / NS_PER_S);
      this.frozen = false;
    }
    this.lastNs = now;
  }

  private readData(): number {
    const reg = this.index;
    const now = this.clock.nowNs();
    switch (reg) {
      case RTC_SECONDS:
      case RTC_MINUTES:
      case RTC_HOURS:
      case RTC_DAY_OF_WEEK:
      case RTC_DAY_OF_MONTH:
      case RTC_MONTH:
      case RTC_YEAR:
      case RTC_CENTURY:
        return this.frozen ? this.nvram[reg] : this.timeRegister(reg, this.secondsAt(now));
      case RTC_REG_A: {
        const uip = !this.frozen && this.phaseAt(now) >= NS_PER_S - RTC_UIP_WINDOW_NS;
        return (this.nvram[RTC_REG_A] & ~RTC_UIP) | (uip ? RTC_UIP : 0);
      }
      case RTC_REG_C: {
        this.catchUp(now);
        const v = this.regC;
        this.regC = 0;
        this.updateIrq();
        return v;
      }
      case RTC_REG_D:
        return RTC_VRT;
      default:
        return this.nvram[reg];
    }
  }

  private writeData(value: number): void {
    const reg = this.index;
    const now = this.clock.nowNs();
    switch (reg) {
      case RTC_SECONDS:
      case RTC_MINUTES:
      case RTC_HOURS:
      case RTC_DAY_OF_WEEK:
      case RTC_DAY_OF_MONTH:
      case RTC_MONTH:
      case RTC_YEAR:
      case RTC_CENTURY:
        this.catchUp(now);
        if (this.frozen) {
          this.nvram[reg] = value;
        } else {
          // Setting a field while the clock runs: the clock continues from the new value.
          this.snapshotTime(now);
          this.nvram[reg] = value;
          this.baseSec = this.registersToSeconds() - Math.floor((this.basePhaseNs + now) / NS_PER_S);
          this.lastNs = now;
        }
        return;
      case RTC_REG_A:
        this.catchUp(now);
        this.nvram[RTC_REG_A] = value & ~RTC_UIP;
        this.refreshFrozen(now);
        break;
      case RTC_REG_B:
        this.catchUp(now);
        // Setting SET also clears UIE (datasheet "Register B").
        this.nvram[RTC_REG_B] = value & RTC_SET ? value & ~RTC_UIE : value;
        this.refreshFrozen(now);
        break;
      case RTC_REG_C:
      case RTC_REG_D:
        return; // read-only
      default:
        this.nvram[reg] = value;
        return;
    }
    this.updateIrq();
  }

  saveState(): SavedState {
    return {
      version: STATE_VERSION,
      nvram: Array.from(this.nvram),
      index: this.index,
      nmiMasked: this.nmiMasked,
      baseSec: this.baseSec,
      basePhaseNs: this.basePhaseNs,
      frozen: this.frozen,
      dividerWasReset: this.dividerWasReset,
      regC: this.regC,
      lastNs: this.lastNs,
      irqLevel: this.irqLevel,
    };
  }

  loadState(state: SavedState): void {
    if (state.version !== STATE_VERSION) throw new Error(`CmosRtc: unsupported state version ${state.version}`);
    this.nvram.set(state.nvram as number[]);
    this.index = state.index as number;
    this.nmiMasked = state.nmiMasked as boolean;
    this.baseSec = state.baseSec as number;
    this.basePhaseNs = state.basePhaseNs as number;
    this.frozen = state.frozen as boolean;
    this.dividerWasReset = state.dividerWasReset as boolean;
    this.regC = state.regC as number;
    this.lastNs = state.lastNs as number;
    this.irqLevel = state.irqLevel as boolean;
    if (this.irqLevel) this.irq8.raise();
    else this.irq8.lower();
  }
}
