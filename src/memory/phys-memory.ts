/**
 * Guest-physical memory: one ArrayBuffer holding RAM (from address 0) followed by extra
 * "backed" regions such as the framebuffer's VRAM, page-granular MMIO regions, and per-page
 * write tracking.
 *
 * The CPU's TLB caches, per virtual page, the *backing offset* of the physical page (its byte
 * offset in `u8`), so RAM and VRAM are both reached by the fast path. Pages with
 * `pageBacking[p] < 0` are MMIO or unmapped and always take the slow path here.
 *
 * Write tracking (framebuffer dirty pages, later: translated-code invalidation): a tracked page
 * is marked dirty when a write mapping for it is handed out (`noteWriteMapping`) or when it is
 * written through the slow path. `takeDirtyPages()` clears the marks and asks the CPU, through
 * `onWriteMappingsReset`, to drop its cached write mappings so the next write marks it again.
 */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_COUNT = 1 << 20;

/** `pageBacking` value of a page with no memory behind it: reads all-ones, writes are ignored. */
export const PAGE_UNMAPPED = -1;
/** `pageBacking` value of a page handled by an `MmioHandler`. */
export const PAGE_MMIO = -2;

export interface MmioHandler {
  read8(addr: number): number;
  write8(addr: number, value: number): void;
  read16?(addr: number): number;
  write16?(addr: number, value: number): void;
  read32?(addr: number): number;
  write32?(addr: number, value: number): void;
}

export interface PhysMemoryOptions {
  /** RAM size in bytes (multiple of 4 KiB). */
  ramBytes: number;
  /** Extra backed memory after RAM (framebuffer VRAM); multiple of 4 KiB. */
  extraBytes?: number;
}

export class PhysMemory {
  readonly ramBytes: number;
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  /** Backing byte offset of each physical page, or PAGE_UNMAPPED / PAGE_MMIO. */
  readonly pageBacking: Int32Array;
  /** 1 where writes to the physical page are tracked. */
  readonly writeTracked: Uint8Array;
  /** 1 where a tracked physical page was (possibly) written since the last `takeDirtyPages`. */
  readonly dirty: Uint8Array;
  /**
   * 1 where the CPU holds compiled code for the physical page. The CPU never caches a write
   * mapping for such a page, so every write to it arrives here and is reported through
   * `onCodeWrite` (the CPU then drops the page's compiled blocks).
   */
  readonly codePages: Uint8Array;
  onCodeWrite: ((page: number) => void) | null = null;
  /** Set by the CPU: drop cached write mappings (called after dirty marks are cleared). */
  onWriteMappingsReset: (() => void) | null = null;
  /** Set by the CPU: drop all cached mappings (called when the physical map changes). */
  onMappingsChanged: (() => void) | null = null;

  private readonly mmio = new Map<number, MmioHandler>();
  private nextExtra: number;

  constructor(options: PhysMemoryOptions) {
    const { ramBytes, extraBytes = 0 } = options;
    if (ramBytes <= 0 || ramBytes % PAGE_SIZE || extraBytes % PAGE_SIZE) {
      throw new RangeError('memory sizes must be positive multiples of 4 KiB');
    }
    this.ramBytes = ramBytes;
    this.buffer = new ArrayBuffer(ramBytes + extraBytes);
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.pageBacking = new Int32Array(PAGE_COUNT).fill(PAGE_UNMAPPED);
    this.writeTracked = new Uint8Array(PAGE_COUNT);
    this.dirty = new Uint8Array(PAGE_COUNT);
    this.codePages = new Uint8Array(PAGE_COUNT);
    for (let p = 0; p < ramBytes >>> PAGE_SHIFT; p++) this.pageBacking[p] = p << PAGE_SHIFT;
    this.nextExtra = ramBytes;
  }

  /**
   * Map `size` bytes of the extra backing store at guest-physical `base`. Returns the byte
   * offset of the region in `u8` (so a device can read it directly).
   */
  mapBacked(base: number, size: number): number {
    if (base % PAGE_SIZE || size % PAGE_SIZE) throw new RangeError('backed region must be page aligned');
    const offset = this.nextExtra;
    if (offset + size > this.buffer.byteLength) throw new RangeError('not enough extra memory reserved');
    this.nextExtra += size;
    for (let i = 0; i < size >>> PAGE_SHIFT; i++) this.pageBacking[(base >>> PAGE_SHIFT) + i] = offset + (i << PAGE_SHIFT);
    this.onMappingsChanged?.();
    return offset;
  }

  /** Route the pages of [base, base+size) to a device. */
  mapMmio(base: number, size: number, handler: MmioHandler): void {
    if (base % PAGE_SIZE || size % PAGE_SIZE) throw new RangeError('MMIO region must be page aligned');
    for (let i = 0; i < size >>> PAGE_SHIFT; i++) {
      const page = (base >>> PAGE_SHIFT) + i;
      this.pageBacking[page] = PAGE_MMIO;
      this.mmio.set(page, handler);
    }
    this.onMappingsChanged?.();
  }

  /** Start tracking writes to the pages of [base, base+size). */
  trackWrites(base: number, size: number): void {
    const end = Math.floor((base + size + PAGE_SIZE - 1) / PAGE_SIZE);
    for (let p = Math.floor(base / PAGE_SIZE); p < end; p++) {
      this.writeTracked[p] = 1;
      this.dirty[p] = 1;
    }
    this.onWriteMappingsReset?.();
  }

  /** The CPU is about to cache a write mapping of this physical page. */
  noteWriteMapping(page: number): void {
    if (this.writeTracked[page]) this.dirty[page] = 1;
  }

  /**
   * Collect and clear the dirty marks of [base, base+size): calls `visit(pageIndex)` for each dirty
   * page (index relative to `base`). Returns how many pages were dirty.
   */
  takeDirtyPages(base: number, size: number, visit: (pageIndex: number) => void): number {
    const first = base >>> PAGE_SHIFT;
    const count = (size + PAGE_SIZE - 1) >>> PAGE_SHIFT;
    let n = 0;
    for (let i = 0; i < count; i++) {
      if (this.dirty[first + i]) {
        this.dirty[first + i] = 0;
        n++;
        visit(i);
      }
    }
    if (n) this.onWriteMappingsReset?.();
    return n;
  }

  // --- Slow-path accesses by physical address (devices, DMA, the boot loader, the CPU's slow path) ---

  read8(addr: number): number {
    addr >>>= 0;
    const b = this.pageBacking[addr >>> PAGE_SHIFT];
    if (b >= 0) return this.u8[b + (addr & 0xfff)];
    if (b === PAGE_MMIO) return this.mmio.get(addr >>> PAGE_SHIFT)!.read8(addr) & 0xff;
    return 0xff;
  }

  read16(addr: number): number {
    addr >>>= 0;
    const b = this.pageBacking[addr >>> PAGE_SHIFT];
    const off = addr & 0xfff;
    if (b >= 0 && off <= 0xffe) {
      return (addr & 1) === 0 ? this.u16[(b + off) >>> 1] : this.u8[b + off] | (this.u8[b + off + 1] << 8);
    }
    if (b === PAGE_MMIO && off <= 0xffe) {
      const h = this.mmio.get(addr >>> PAGE_SHIFT)!;
      if (h.read16) return h.read16(addr) & 0xffff;
    }
    return this.read8(addr) | (this.read8(addr + 1) << 8);
  }

  read32(addr: number): number {
    addr >>>= 0;
    const b = this.pageBacking[addr >>> PAGE_SHIFT];
    const off = addr & 0xfff;
    if (b >= 0 && off <= 0xffc) {
      if ((addr & 3) === 0) return this.i32[(b + off) >>> 2];
      const u = this.u8, i = b + off;
      return u[i] | (u[i + 1] << 8) | (u[i + 2] << 16) | (u[i + 3] << 24);
    }
    if (b === PAGE_MMIO && off <= 0xffc) {
      const h = this.mmio.get(addr >>> PAGE_SHIFT)!;
      if (h.read32) return h.read32(addr) | 0;
    }
    return (this.read16(addr) | (this.read16(addr + 2) << 16)) | 0;
  }

  write8(addr: number, value: number): void {
    addr >>>= 0;
    const page = addr >>> PAGE_SHIFT;
    const b = this.pageBacking[page];
    if (b >= 0) {
      if (this.codePages[page]) this.onCodeWrite?.(page);
      this.u8[b + (addr & 0xfff)] = value;
      if (this.writeTracked[page]) this.dirty[page] = 1;
    } else if (b === PAGE_MMIO) this.mmio.get(page)!.write8(addr, value & 0xff);
  }

  write16(addr: number, value: number): void {
    addr >>>= 0;
    const page = addr >>> PAGE_SHIFT;
    const b = this.pageBacking[page];
    const off = addr & 0xfff;
    if (b >= 0 && off <= 0xffe) {
      if (this.codePages[page]) this.onCodeWrite?.(page);
      const i = b + off;
      this.u8[i] = value;
      this.u8[i + 1] = value >>> 8;
      if (this.writeTracked[page]) this.dirty[page] = 1;
      return;
    }
    if (b === PAGE_MMIO && off <= 0xffe) {
      const h = this.mmio.get(page)!;
      if (h.write16) {
        h.write16(addr, value & 0xffff);
        return;
      }
    }
    this.write8(addr, value);
    this.write8(addr + 1, value >>> 8);
  }

  write32(addr: number, value: number): void {
    addr >>>= 0;
    const page = addr >>> PAGE_SHIFT;
    const b = this.pageBacking[page];
    const off = addr & 0xfff;
    if (b >= 0 && off <= 0xffc) {
      if (this.codePages[page]) this.onCodeWrite?.(page);
      const i = b + off;
      if ((i & 3) === 0) this.i32[i >>> 2] = value;
      else {
        this.u8[i] = value;
        this.u8[i + 1] = value >>> 8;
        this.u8[i + 2] = value >>> 16;
        this.u8[i + 3] = value >>> 24;
      }
      if (this.writeTracked[page]) this.dirty[page] = 1;
      return;
    }
    if (b === PAGE_MMIO && off <= 0xffc) {
      const h = this.mmio.get(page)!;
      if (h.write32) {
        h.write32(addr, value | 0);
        return;
      }
    }
    this.write16(addr, value);
    this.write16(addr + 2, value >>> 16);
  }

  /** Copy host bytes into guest-physical memory (the boot loader). */
  writeBytes(addr: number, bytes: Uint8Array): void {
    addr >>>= 0;
    const end = addr + bytes.length;
    for (let p = addr >>> PAGE_SHIFT; p <= (end - 1) >>> PAGE_SHIFT && p < PAGE_COUNT; p++) {
      if (this.codePages[p]) this.onCodeWrite?.(p);
    }
    if (end <= this.ramBytes) {
      this.u8.set(bytes, addr);
      return;
    }
    for (let i = 0; i < bytes.length; i++) this.write8(addr + i, bytes[i]);
  }

  readBytes(addr: number, length: number): Uint8Array {
    addr >>>= 0;
    if (addr + length <= this.ramBytes) return this.u8.slice(addr, addr + length);
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.read8(addr + i);
    return out;
  }
}
