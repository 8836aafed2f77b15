/**
 * The x86 I/O port space: a dense table of 65536 ports. Unmapped ports read as all-ones and
 * ignore writes. A device registers per-width handlers; a 16/32-bit access to a port whose
 * device has only 8-bit handlers is split into 8-bit accesses (little-endian, ascending ports).
 */
export interface PortHandlers {
  read8?(port: number): number;
  write8?(port: number, value: number): void;
  read16?(port: number): number;
  write16?(port: number, value: number): void;
  read32?(port: number): number;
  write32?(port: number, value: number): void;
}

const PORT_COUNT = 0x10000;

export class IoBus {
  private readonly handlers: (PortHandlers | undefined)[] = new Array(PORT_COUNT).fill(undefined);
  private readonly loggedUnmapped = new Uint8Array(PORT_COUNT);
  /** Called once per unmapped port touched, when set (debug mode). */
  onUnmapped: ((port: number, write: boolean) => void) | null = null;

  /** Claim `count` consecutive ports starting at `first` for one device. */
  register(first: number, count: number, handlers: PortHandlers): void {
    for (let p = first; p < first + count; p++) {
      if (p < 0 || p >= PORT_COUNT) throw new RangeError(`I/O port 0x${p.toString(16)} out of range`);
      this.handlers[p] = handlers;
    }
  }

  unregister(first: number, count: number): void {
    for (let p = first; p < first + count; p++) this.handlers[p] = undefined;
  }

  isMapped(port: number): boolean {
    return this.handlers[port & 0xffff] !== undefined;
  }

  read8(port: number): number {
    port &= 0xffff;
    const h = this.handlers[port];
    if (h?.read8) return h.read8(port) & 0xff;
    this.unmapped(port, false);
    return 0xff;
  }

  read16(port: number): number {
    port &= 0xffff;
    const h = this.handlers[port];
    if (h?.read16) return h.read16(port) & 0xffff;
    return this.read8(port) | (this.read8(port + 1) << 8);
  }

  read32(port: number): number {
    port &= 0xffff;
    const h = this.handlers[port];
    if (h?.read32) return h.read32(port) | 0;
    return (this.read16(port) | (this.read16(port + 2) << 16)) | 0;
  }

  write8(port: number, value: number): void {
    port &= 0xffff;
    const h = this.handlers[port];
    if (h?.write8) h.write8(port, value & 0xff);
    else this.unmapped(port, true);
  }

  write16(port: number, value: number): void {
    port &= 0xffff;
    const h = this.handlers[port];
    if (h?.write16) h.write16(port, value & 0xffff);
    else {
      this.write8(port, value);
      this.write8(port + 1, value >>> 8);
    }
  }

  write32(port: number, value: number): void {
    port &= 0xffff;
    const h = this.handlers[port];
    if (h?.write32) h.write32(port, value | 0);
    else {
      this.write16(port, value);
      this.write16(port + 2, value >>> 16);
    }
  }

  private unmapped(port: number, write: boolean): void {
    if (this.onUnmapped && !this.loggedUnmapped[port]) {
      this.loggedUnmapped[port] = 1;
      this.onUnmapped(port, write);
    }
  }
}
