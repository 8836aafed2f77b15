import { PhysMemory } from '../memory/phys-memory';
import { CPU_FAULT, EXC_GP, EXC_PF } from './exceptions';
import { LazyFlags } from './flags';
import {
  CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, PDE_PS, PTE_G, PF_PRESENT, PF_USER, PF_WRITE, PTE_A, PTE_D, PTE_P, PTE_RW, PTE_US,
} from './registers';

/**
 * Paging (SDM Vol. 3A, 4.3 "32-bit paging") and the software TLB.
 *
 * The TLB is four typed arrays indexed by virtual page number (lin >>> 12): read and write
 * mappings, for supervisor (CPL 0-2) and user (CPL 3) accesses. An entry holds the backing
 * offset of the physical page in `mem.u8` with bit 0 set; 0 means "not cached: take the slow
 * path", which walks the page tables, checks permissions, sets accessed/dirty bits, raises #PF,
 * and handles MMIO and accesses that cross a page boundary.
 *
 * A write mapping is only cached once the PTE's dirty bit is set, so the fast path never needs to
 * set D. Flushing touches only the entries that were filled (recorded in `tlbFilled`), so a
 * CR3 reload on every context switch stays cheap. Entries of global pages (PTE.G with CR4.PGE:
 * the kernel's) are recorded apart, in `tlbGlobalFilled`, and a CR3 write (`flushTlb`) keeps
 * them; `flushTlbAll` drops them too.
 */
const TLB_SIZE = 1 << 20;
const TLB_FILLED_MAX = 1 << 16;

export class Mmu extends LazyFlags {
  readonly mem: PhysMemory;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;

  cr0 = 0;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  /** Current privilege level. */
  cpl = 0;

  readonly tlbSupR = new Int32Array(TLB_SIZE);
  readonly tlbSupW = new Int32Array(TLB_SIZE);
  readonly tlbUserR = new Int32Array(TLB_SIZE);
  readonly tlbUserW = new Int32Array(TLB_SIZE);
  /** The tables for the current CPL. */
  tlbR: Int32Array;
  tlbW: Int32Array;
  private readonly tlbFilled = new Int32Array(TLB_FILLED_MAX);
  private tlbFilledCount = 0;
  private readonly tlbGlobalFilled = new Int32Array(TLB_FILLED_MAX);
  private tlbGlobalFilledCount = 0;

  /** Pending exception, set by `raise*` before throwing CPU_FAULT. */
  excVector = 0;
  excErrorCode = 0;
  excHasErrorCode = false;

  /** Instruction fetch: the virtual page of the cached code page, and its backing offset. */
  fetchVpn = -1;
  fetchBacking = 0;

  tlbFlushes = 0;

  constructor(mem: PhysMemory) {
    super();
    this.mem = mem;
    this.u8 = mem.u8;
    this.u16 = mem.u16;
    this.i32 = mem.i32;
    this.tlbR = this.tlbSupR;
    this.tlbW = this.tlbSupW;
    mem.onWriteMappingsReset = () => this.dropAllWriteMappings();
    mem.onMappingsChanged = () => this.flushTlbAll();
  }

  // --- Exceptions ---

  raise(vector: number): never {
    this.excVector = vector;
    this.excErrorCode = 0;
    this.excHasErrorCode = false;
    throw CPU_FAULT;
  }

  raiseWithCode(vector: number, code: number): never {
    this.excVector = vector;
    this.excErrorCode = code & 0xffff_ffff;
    this.excHasErrorCode = true;
    throw CPU_FAULT;
  }

  raiseGP(code: number): never {
    return this.raiseWithCode(EXC_GP, code);
  }

  // --- TLB maintenance ---

  setCpl(cpl: number): void {
    this.cpl = cpl;
    const user = cpl === 3;
    this.tlbR = user ? this.tlbUserR : this.tlbSupR;
    this.tlbW = user ? this.tlbUserW : this.tlbSupW;
    this.fetchVpn = -1;
  }

  /** A CR3 write: drop every entry except those of global pages. */
  flushTlb(): void {
    this.tlbFlushes++;
    if (this.tlbFilledCount >= TLB_FILLED_MAX) this.clearAllEntries();
    else this.clearEntries(this.tlbFilled, this.tlbFilledCount);
    this.tlbFilledCount = 0;
    this.fetchVpn = -1;
  }

  /** Drop every entry, global ones included (CR0/CR4 writes, a changed physical map, reset). */
  flushTlbAll(): void {
    this.tlbFlushes++;
    if (this.tlbFilledCount >= TLB_FILLED_MAX || this.tlbGlobalFilledCount >= TLB_FILLED_MAX) this.clearAllEntries();
    else {
      this.clearEntries(this.tlbFilled, this.tlbFilledCount);
      this.clearEntries(this.tlbGlobalFilled, this.tlbGlobalFilledCount);
    }
    this.tlbFilledCount = 0;
    this.tlbGlobalFilledCount = 0;
    this.fetchVpn = -1;
  }

  private clearEntries(list: Int32Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const v = list[i];
      this.tlbSupR[v] = 0;
      this.tlbSupW[v] = 0;
      this.tlbUserR[v] = 0;
      this.tlbUserW[v] = 0;
    }
  }

  private clearAllEntries(): void {
    this.tlbSupR.fill(0);
    this.tlbSupW.fill(0);
    this.tlbUserR.fill(0);
    this.tlbUserW.fill(0);
    this.tlbGlobalFilledCount = 0;
  }

  /**
   * Drop every cached write mapping and keep the read mappings: the next write to any page takes
   * the slow path (which is how write tracking sees the first write to a page after its dirty mark
   * was cleared, e.g. framebuffer pages after each frame).
   */
  dropAllWriteMappings(): void {
    if (this.tlbFilledCount >= TLB_FILLED_MAX || this.tlbGlobalFilledCount >= TLB_FILLED_MAX) {
      this.flushTlbAll();
      return;
    }
    for (const [list, n] of [[this.tlbFilled, this.tlbFilledCount], [this.tlbGlobalFilled, this.tlbGlobalFilledCount]] as const) {
      for (let i = 0; i < n; i++) {
        this.tlbSupW[list[i]] = 0;
        this.tlbUserW[list[i]] = 0;
      }
    }
  }

  /** Drop every cached write mapping that points at physical (backing) page `page`. */
  dropWriteMappingsTo(page: number): void {
    if (this.tlbFilledCount >= TLB_FILLED_MAX || this.tlbGlobalFilledCount >= TLB_FILLED_MAX) {
      this.flushTlbAll();
      return;
    }
    this.dropWriteEntries(this.tlbFilled, this.tlbFilledCount, page);
    this.dropWriteEntries(this.tlbGlobalFilled, this.tlbGlobalFilledCount, page);
  }

  private dropWriteEntries(list: Int32Array, n: number, page: number): void {
    for (let i = 0; i < n; i++) {
      const v = list[i];
      const s = this.tlbSupW[v];
      if (s && (s ^ 1) >>> 12 === page) this.tlbSupW[v] = 0;
      const u = this.tlbUserW[v];
      if (u && (u ^ 1) >>> 12 === page) this.tlbUserW[v] = 0;
    }
  }

  invalidatePage(lin: number): void {
    const v = lin >>> 12;
    this.tlbSupR[v] = 0;
    this.tlbSupW[v] = 0;
    this.tlbUserR[v] = 0;
    this.tlbUserW[v] = 0;
    this.fetchVpn = -1;
  }

  private noteFilled(vpn: number, global: boolean): void {
    if (global) {
      if (this.tlbGlobalFilledCount < TLB_FILLED_MAX) this.tlbGlobalFilled[this.tlbGlobalFilledCount] = vpn;
      this.tlbGlobalFilledCount++;
    } else {
      if (this.tlbFilledCount < TLB_FILLED_MAX) this.tlbFilled[this.tlbFilledCount] = vpn;
      this.tlbFilledCount++;
    }
  }

  // --- Translation ---

  /**
   * Translate a linear address for an access by `user` (CPL 3) code; raises #PF on failure.
   * Returns the physical address. Fills the TLB for RAM-backed pages.
   */
  translate(lin: number, write: boolean, user: boolean): number {
    lin >>>= 0;
    if (!(this.cr0 & CR0_PG)) {
      this.fill(lin >>> 12, lin >>> 12, write, true, true, true, false);
      return lin;
    }
    const pdeAddr = ((this.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
    let pde = this.mem.read32(pdeAddr);
    if (!(pde & PTE_P)) this.pageFault(lin, write, user, false);
    let phys: number;
    let allowUser: boolean;
    let allowWrite: boolean;
    let dirty: boolean;
    let global: number;
    if (pde & PDE_PS && this.cr4 & CR4_PSE) {
      // 4 MiB page (SDM 4.3, Table 4-4)
      allowUser = (pde & PTE_US) !== 0;
      allowWrite = (pde & PTE_RW) !== 0;
      this.checkAccess(lin, write, user, allowUser, allowWrite);
      const want = PTE_A | (write ? PTE_D : 0);
      if ((pde & want) !== want) {
        pde |= want;
        this.mem.write32(pdeAddr, pde);
      }
      dirty = (pde & PTE_D) !== 0;
      global = pde & PTE_G;
      phys = ((pde & 0xffc00000) | (lin & 0x3fffff)) >>> 0;
    } else {
      const pteAddr = ((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
      let pte = this.mem.read32(pteAddr);
      if (!(pte & PTE_P)) this.pageFault(lin, write, user, false);
      allowUser = (pde & pte & PTE_US) !== 0;
      allowWrite = (pde & pte & PTE_RW) !== 0;
      this.checkAccess(lin, write, user, allowUser, allowWrite);
      if (!(pde & PTE_A)) this.mem.write32(pdeAddr, pde | PTE_A);
      const want = PTE_A | (write ? PTE_D : 0);
      if ((pte & want) !== want) {
        pte |= want;
        this.mem.write32(pteAddr, pte);
      }
      dirty = (pte & PTE_D) !== 0;
      global = pte & PTE_G;
      phys = ((pte & ~0xfff) | (lin & 0xfff)) >>> 0;
    }
    // Cache what this walk proved: supervisor read always; supervisor write when writable or
    // CR0.WP=0; user read/write when the U/S (and R/W) bits allow. Writes only once dirty.
    const wp = (this.cr0 & CR0_WP) !== 0;
    const keep = global !== 0 && (this.cr4 & CR4_PGE) !== 0;
    this.fill(lin >>> 12, phys >>> 12, dirty, allowUser, allowWrite || !wp, allowWrite, keep);
    return phys;
  }

  private fill(
    vpn: number, ppn: number, dirty: boolean, allowUser: boolean, supWrite: boolean, userWrite: boolean, global: boolean,
  ): void {
    const backing = this.mem.pageBacking[ppn];
    if (backing < 0) return; // MMIO or unmapped: never cached
    const e = backing | 1;
    this.noteFilled(vpn, global);
    this.tlbSupR[vpn] = e;
    if (allowUser) this.tlbUserR[vpn] = e;
    if (dirty && !this.mem.codePages[ppn]) {
      if (supWrite || userWrite) this.mem.noteWriteMapping(ppn);
      if (supWrite) this.tlbSupW[vpn] = e;
      if (allowUser && userWrite) this.tlbUserW[vpn] = e;
    }
  }

  private checkAccess(lin: number, write: boolean, user: boolean, allowUser: boolean, allowWrite: boolean): void {
    if (user) {
      if (!allowUser || (write && !allowWrite)) this.pageFault(lin, write, user, true);
    } else if (write && !allowWrite && this.cr0 & CR0_WP) {
      this.pageFault(lin, write, user, true);
    }
  }

  private pageFault(lin: number, write: boolean, user: boolean, present: boolean): never {
    this.cr2 = lin | 0;
    return this.raiseWithCode(EXC_PF, (present ? PF_PRESENT : 0) | (write ? PF_WRITE : 0) | (user ? PF_USER : 0));
  }

  // --- Data accesses by linear address at the current privilege level ---

  read8(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    if (e) return this.u8[(e ^ 1) + (lin & 0xfff)];
    return this.mem.read8(this.translate(lin, false, this.cpl === 3));
  }

  read16(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    const off = lin & 0xfff;
    if (e && off <= 0xffe) {
      const a = (e ^ 1) + off;
      return (a & 1) === 0 ? this.u16[a >> 1] : this.u8[a] | (this.u8[a + 1] << 8);
    }
    return this.read16Slow(lin);
  }

  read32(lin: number): number {
    const e = this.tlbR[lin >>> 12];
    const off = lin & 0xfff;
    if (e && off <= 0xffc) {
      const a = (e ^ 1) + off;
      if ((a & 3) === 0) return this.i32[a >> 2];
      const u = this.u8;
      return u[a] | (u[a + 1] << 8) | (u[a + 2] << 16) | (u[a + 3] << 24);
    }
    return this.read32Slow(lin);
  }

  private read16Slow(lin: number): number {
    const user = this.cpl === 3;
    if ((lin & 0xfff) === 0xfff) {
      const p0 = this.translate(lin, false, user);
      const p1 = this.translate(lin + 1, false, user);
      return this.mem.read8(p0) | (this.mem.read8(p1) << 8);
    }
    return this.mem.read16(this.translate(lin, false, user));
  }

  private read32Slow(lin: number): number {
    const user = this.cpl === 3;
    const off = lin & 0xfff;
    if (off > 0xffc) {
      const p0 = this.translate(lin, false, user);
      const p1 = this.translate((lin | 0xfff) + 1, false, user);
      let v = 0;
      for (let i = 0; i < 4; i++) {
        const p = off + i <= 0xfff ? p0 + i : p1 + (off + i - 0x1000);
        v |= this.mem.read8(p) << (8 * i);
      }
      return v;
    }
    return this.mem.read32(this.translate(lin, false, user));
  }

  write8(lin: number, v: number): void {
    const e = this.tlbW[lin >>> 12];
    if (e) {
      this.u8[(e ^ 1) + (lin & 0xfff)] = v;
      return;
    }
    this.mem.write8(this.translate(lin, true, this.cpl === 3), v);
  }

  write16(lin: number, v: number): void {
    const e = this.tlbW[lin >>> 12];
    const off = lin & 0xfff;
    if (e && off <= 0xffe) {
      const a = (e ^ 1) + off;
      if ((a & 1) === 0) this.u16[a >> 1] = v;
      else {
        this.u8[a] = v;
        this.u8[a + 1] = v >> 8;
      }
      return;
    }
    this.write16Slow(lin, v);
  }

  write32(lin: number, v: number): void {
    const e = this.tlbW[lin >>> 12];
    const off = lin & 0xfff;
    if (e && off <= 0xffc) {
      const a = (e ^ 1) + off;
      if ((a & 3) === 0) this.i32[a >> 2] = v;
      else {
        const u = this.u8;
        u[a] = v;
        u[a + 1] = v >> 8;
        u[a + 2] = v >> 16;
        u[a + 3] = v >> 24;
      }
      return;
    }
    this.write32Slow(lin, v);
  }

  private write16Slow(lin: number, v: number): void {
    const user = this.cpl === 3;
    if ((lin & 0xfff) === 0xfff) {
      const p0 = this.translate(lin, true, user);
      const p1 = this.translate(lin + 1, true, user);
      this.mem.write8(p0, v);
      this.mem.write8(p1, v >> 8);
      return;
    }
    this.mem.write16(this.translate(lin, true, user), v);
  }

  private write32Slow(lin: number, v: number): void {
    const user = this.cpl === 3;
    const off = lin & 0xfff;
    if (off > 0xffc) {
      const p0 = this.translate(lin, true, user);
      const p1 = this.translate((lin | 0xfff) + 1, true, user);
      for (let i = 0; i < 4; i++) {
        const p = off + i <= 0xfff ? p0 + i : p1 + (off + i - 0x1000);
        this.mem.write8(p, v >> (8 * i));
      }
      return;
    }
    this.mem.write32(this.translate(lin, true, user), v);
  }

  /** Fault now if a write to [lin, lin+len) would fault (keeps multi-part stores restartable). */
  checkWrite(lin: number, len: number): void {
    const user = this.cpl === 3;
    const last = (lin + len - 1) | 0;
    if (!this.tlbW[lin >>> 12]) this.translate(lin, true, user);
    if ((last >>> 12) !== (lin >>> 12) && !this.tlbW[last >>> 12]) this.translate(last, true, user);
  }

  // --- Supervisor-level ("system") accesses: descriptor tables, TSS, done at any CPL ---

  sysRead32(lin: number): number {
    const e = this.tlbSupR[lin >>> 12];
    if (e && (lin & 0xfff) <= 0xffc) {
      const a = (e ^ 1) + (lin & 0xfff);
      if ((a & 3) === 0) return this.i32[a >> 2];
    }
    return this.sysRead16(lin) | (this.sysRead16(lin + 2) << 16);
  }

  sysRead16(lin: number): number {
    return this.sysRead8(lin) | (this.sysRead8(lin + 1) << 8);
  }

  sysRead8(lin: number): number {
    const e = this.tlbSupR[lin >>> 12];
    if (e) return this.u8[(e ^ 1) + (lin & 0xfff)];
    return this.mem.read8(this.translate(lin, false, false));
  }

  sysWrite8(lin: number, v: number): void {
    const e = this.tlbSupW[lin >>> 12];
    if (e) {
      this.u8[(e ^ 1) + (lin & 0xfff)] = v;
      return;
    }
    this.mem.write8(this.translate(lin, true, false), v);
  }

  sysWrite16(lin: number, v: number): void {
    this.sysWrite8(lin, v);
    this.sysWrite8(lin + 1, v >> 8);
  }

  sysWrite32(lin: number, v: number): void {
    this.sysWrite16(lin, v);
    this.sysWrite16(lin + 2, v >> 16);
  }

  /** Physical page backing for instruction fetch of linear page `vpn` (fills the fetch cache). */
  fetchPage(lin: number): void {
    const vpn = lin >>> 12;
    let e = this.tlbR[vpn];
    if (!e) {
      this.translate(lin, false, this.cpl === 3);
      e = this.tlbR[vpn];
      if (!e) this.raiseGP(0); // code in MMIO or unmapped memory is not supported
    }
    this.fetchVpn = vpn;
    this.fetchBacking = e ^ 1;
  }
}
