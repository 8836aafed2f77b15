/**
 * Exceptions, paging and privilege: each test runs a few hand-assembled instructions that fault and
 * checks where the CPU went (the handler of the right vector), what it pushed (error code, faulting
 * EIP, the outer stack), CR2, and that the faulting instruction changed nothing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { IoBus } from '../io/io-bus';
import { PhysMemory } from '../memory/phys-memory';
import { Cpu } from './cpu';
import { EAX, EBX, ECX, EDI, EDX, ESI, ESP } from './registers';

const CODE = 0x1000;
const GDT = 0x800;
const IDT = 0x3000;
const HANDLERS = 0x8000; // vector v is handled at HANDLERS + v * 16
const TSS = 0x9000;
const PD = 0x20000;
const PT = 0x21000;
const KSTACK = 0x70000;
const USTACK = 0x60000;
const NOT_PRESENT = 0x100000;
const READ_ONLY = 0x101000;
const SUPERVISOR = 0x102000;

const KCODE = 0x10, KDATA = 0x18, UCODE = 0x23, UDATA = 0x2b, TSS_SEL = 0x30;

let mem: PhysMemory;
let cpu: Cpu;

function descriptor(base: number, limit: number, access: number, flags: number): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = (base & 0xff000000) | ((flags & 0xf) << 20) | (limit & 0xf0000) | ((access & 0xff) << 8) | ((base >>> 16) & 0xff);
  return [lo | 0, hi | 0];
}

function setup(paging: boolean): void {
  mem = new PhysMemory({ ramBytes: 8 << 20 });
  cpu = new Cpu(mem, new IoBus());
  cpu.enterFlatProtectedMode(GDT);
  const gdt: [number, number][] = [
    [0, 0], [0, 0],
    descriptor(0, 0xfffff, 0x9a, 0xc), // 0x10 kernel code
    descriptor(0, 0xfffff, 0x92, 0xc), // 0x18 kernel data
    descriptor(0, 0xfffff, 0xfa, 0xc), // 0x20 user code (DPL 3)
    descriptor(0, 0xfffff, 0xf2, 0xc), // 0x28 user data (DPL 3)
    descriptor(TSS, 0x67, 0x89, 0x0), // 0x30 available 32-bit TSS
  ];
  gdt.forEach(([lo, hi], i) => {
    mem.write32(GDT + i * 8, lo);
    mem.write32(GDT + i * 8 + 4, hi);
  });
  cpu.gdtLimit = gdt.length * 8 - 1;
  for (let v = 0; v < 32; v++) {
    const off = HANDLERS + v * 16;
    mem.write32(IDT + v * 8, (KCODE << 16) | (off & 0xffff));
    mem.write32(IDT + v * 8 + 4, (off & 0xffff0000) | 0x8e00);
  }
  mem.u8.fill(0xf4, HANDLERS, HANDLERS + 32 * 16); // every handler is a HLT
  cpu.idtBase = IDT;
  cpu.idtLimit = 32 * 8 - 1;
  mem.write32(TSS + 4, KSTACK); // ESP0
  mem.write32(TSS + 8, KDATA); // SS0
  cpu.trSel = TSS_SEL;
  cpu.trBase = TSS;
  cpu.trLimit = 0x67;
  cpu.trType = 0x0b;
  cpu.reg32[ESP] = KSTACK;
  if (paging) {
    mem.write32(PD, PT | 7);
    for (let i = 0; i < 1024; i++) mem.write32(PT + i * 4, (i << 12) | 7); // identity, user, writable
    mem.write32(PT + (NOT_PRESENT >>> 12) * 4, NOT_PRESENT | 6); // P=0
    mem.write32(PT + (READ_ONLY >>> 12) * 4, READ_ONLY | 5); // P, U, read-only
    mem.write32(PT + (SUPERVISOR >>> 12) * 4, SUPERVISOR | 3); // P, RW, supervisor only
    cpu.cr3 = PD;
    cpu.cr0 |= (1 << 31) | (1 << 16); // PG, WP
    cpu.flushTlb();
  }
}

function code(bytes: number[], at = CODE): void {
  mem.writeBytes(at, new Uint8Array(bytes));
  cpu.eip = at;
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** The handler address of the vector the CPU went to. */
function vectorTaken(): number {
  return Math.floor(((cpu.eip >>> 0) - HANDLERS) / 16);
}

function stack(i: number): number {
  return mem.read32((cpu.reg32[ESP] >>> 0) + i * 4) >>> 0;
}

/** Leave the kernel for ring 3 at `eip` through IRET (also tests IRET to an outer privilege level). */
function enterUserMode(eip: number): void {
  const frame = [eip, UCODE, 0x202, USTACK, UDATA];
  let sp = KSTACK - frame.length * 4;
  frame.forEach((v, i) => mem.write32(sp + i * 4, v));
  cpu.reg32[ESP] = sp;
  code([0xcf], 0x7f00); // iret
  cpu.step();
  expect(cpu.cpl).toBe(3);
  expect(cpu.eip).toBe(eip);
  expect(cpu.reg32[ESP]).toBe(USTACK);
  sp = 0;
}

describe('page faults', () => {
  beforeEach(() => setup(true));

  it('#PF on a not-present page: CR2, error code 0 (read) and the faulting EIP', () => {
    cpu.reg32[EBX] = NOT_PRESENT + 0x10;
    cpu.reg32[EAX] = 0x1234;
    code([0x8b, 0x03]); // mov eax, [ebx]
    cpu.step();
    expect(vectorTaken()).toBe(14);
    expect(cpu.cr2 >>> 0).toBe(NOT_PRESENT + 0x10);
    expect(stack(0)).toBe(0); // error code: not present, read, supervisor
    expect(stack(1)).toBe(CODE); // EIP of the faulting instruction
    expect(stack(2)).toBe(KCODE);
    expect(cpu.reg32[EAX]).toBe(0x1234); // unchanged
  });

  it('#PF on a supervisor write to a read-only page with CR0.WP=1 (error code 3)', () => {
    cpu.reg32[EBX] = READ_ONLY;
    code([0xc7, 0x03, ...le32(0xdeadbeef)]); // mov dword [ebx], 0xdeadbeef
    cpu.step();
    expect(vectorTaken()).toBe(14);
    expect(stack(0)).toBe(3); // present | write
    expect(cpu.cr2 >>> 0).toBe(READ_ONLY);
    expect(mem.read32(READ_ONLY)).toBe(0);
  });

  it('no #PF for the same supervisor write with CR0.WP=0; the dirty bit gets set', () => {
    cpu.cr0 &= ~(1 << 16);
    cpu.flushTlb();
    cpu.reg32[EBX] = READ_ONLY;
    code([0xc7, 0x03, ...le32(0xdeadbeef), 0xf4]); // mov dword [ebx], 0xdeadbeef; hlt
    cpu.run(2);
    expect(mem.read32(READ_ONLY) >>> 0).toBe(0xdeadbeef);
    expect(mem.read32(PT + (READ_ONLY >>> 12) * 4) & 0x60).toBe(0x60); // accessed + dirty
  });

  it('#PF for a user read of a supervisor page (error code 5), taken on the ring-0 stack from the TSS', () => {
    mem.writeBytes(0x5000, new Uint8Array([0x8b, 0x03])); // mov eax, [ebx]
    enterUserMode(0x5000);
    cpu.reg32[EBX] = SUPERVISOR + 4;
    cpu.step();
    expect(vectorTaken()).toBe(14);
    expect(cpu.cpl).toBe(0);
    expect(cpu.reg32[ESP]).toBe(KSTACK - 6 * 4);
    expect(stack(0)).toBe(5); // present | user, read
    expect(stack(1)).toBe(0x5000);
    expect(stack(2)).toBe(UCODE);
    expect(stack(4)).toBe(USTACK); // outer ESP
    expect(stack(5)).toBe(UDATA); // outer SS
    expect(cpu.cr2 >>> 0).toBe(SUPERVISOR + 4);
  });

  it('#PF for a user write to a read-only page (error code 7)', () => {
    mem.writeBytes(0x5000, new Uint8Array([0x89, 0x03])); // mov [ebx], eax
    enterUserMode(0x5000);
    cpu.reg32[EBX] = READ_ONLY + 8;
    cpu.step();
    expect(vectorTaken()).toBe(14);
    expect(stack(0)).toBe(7);
  });

  it('a faulting PUSH leaves ESP unchanged', () => {
    mem.writeBytes(0x5000, new Uint8Array([0x50])); // push eax
    enterUserMode(0x5000);
    cpu.reg32[ESP] = NOT_PRESENT + 0x100;
    cpu.step();
    expect(vectorTaken()).toBe(14);
    expect(stack(0)).toBe(6); // not present | write | user
    expect(cpu.cr2 >>> 0).toBe(NOT_PRESENT + 0xfc);
    expect(stack(4)).toBe(NOT_PRESENT + 0x100); // the user ESP, as before the PUSH
  });

  it('a page fault in the middle of REP MOVSB leaves ECX/ESI/EDI at the faulting element', () => {
    for (let i = 0; i < 16; i++) mem.write8(0x4000 + i, 0x40 + i);
    cpu.reg32[ESI] = 0x4000;
    cpu.reg32[EDI] = NOT_PRESENT - 8;
    cpu.reg32[ECX] = 16;
    code([0xf3, 0xa4]); // rep movsb
    cpu.step();
    expect(vectorTaken()).toBe(14);
    expect(stack(1)).toBe(CODE);
    expect(cpu.reg32[ECX]).toBe(8);
    expect(cpu.reg32[ESI]).toBe(0x4008);
    expect(cpu.reg32[EDI]).toBe(NOT_PRESENT);
    expect(Array.from(mem.readBytes(NOT_PRESENT - 8, 8))).toEqual([0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47]);
  });

  it('a read-modify-write that faults on the write changes neither memory nor flags', () => {
    cpu.reg32[EBX] = READ_ONLY;
    mem.write32(READ_ONLY, 5);
    cpu.reg32[EAX] = -5;
    cpu.setEflags(0x2);
    code([0x01, 0x03]); // add [ebx], eax  (would give 0 and ZF=1)
    cpu.step();
    expect(vectorTaken()).toBe(14);
    expect(mem.read32(READ_ONLY)).toBe(5);
    expect(stack(3) & 0x40).toBe(0); // pushed EFLAGS: ZF still clear
  });

  it('INVLPG drops a stale translation', () => {
    cpu.reg32[EBX] = 0x400000 - 0x1000;
    code([0x8b, 0x03, 0x0f, 0x01, 0x3b, 0x8b, 0x03, 0xf4]); // mov eax,[ebx]; invlpg [ebx]; mov eax,[ebx]; hlt
    mem.write32(0x3ff000, 111);
    mem.write32(0x3fe000, 222);
    cpu.step(); // fills the TLB
    expect(cpu.reg32[EAX]).toBe(111);
    mem.write32(PT + 0x3ff * 4, 0x3fe000 | 7); // remap the page
    cpu.step(); // invlpg
    cpu.step();
    expect(cpu.reg32[EAX]).toBe(222);
  });

  it('4 MiB pages with CR4.PSE', () => {
    mem.write32(PD + 4, 0x400000 | 0x87); // 4 MiB page at 4 MiB: P, RW, U, PS
    mem.write32(PD + 8, 0x000000 | 0x87); // 8 MiB → physical 0
    cpu.cr4 |= 1 << 4;
    cpu.flushTlb();
    mem.write32(0x10, 0xcafe);
    cpu.reg32[EBX] = 0x800010;
    code([0x8b, 0x03, 0xf4]);
    cpu.run(2);
    expect(cpu.reg32[EAX]).toBe(0xcafe);
    expect(mem.read32(PD + 8) & 0x20).toBe(0x20); // accessed
  });
});

describe('global pages (CR4.PGE)', () => {
  beforeEach(() => setup(true));
  const GLOBAL_VA = 0x400000, LOCAL_VA = 0x401000;
  const FRAME_A = 0x300000, FRAME_B = 0x301000;

  it('keep their TLB entries across a CR3 write; a CR4 write drops them', () => {
    // a second page table, for 0x400000..0x7fffff: one global and one ordinary mapping
    const pt2 = 0x22000;
    mem.write32(PD + 4, pt2 | 7);
    mem.write32(pt2, FRAME_A | 0x103); // P, RW, G
    mem.write32(pt2 + 4, FRAME_A | 0x003); // P, RW
    mem.write32(FRAME_A, 0xaaaa);
    mem.write32(FRAME_B, 0xbbbb);
    cpu.reg32[ECX] = 1 << 7; // CR4.PGE
    cpu.reg32[EDX] = PD;
    code([
      0x0f, 0x22, 0xe1, // mov cr4, ecx
      0x8b, 0x05, ...le32(GLOBAL_VA), // mov eax, [GLOBAL_VA]   (fills both TLB entries)
      0x8b, 0x1d, ...le32(LOCAL_VA), // mov ebx, [LOCAL_VA]
      0x0f, 0x22, 0xda, // mov cr3, edx   (same tables: a TLB flush)
      0x8b, 0x35, ...le32(GLOBAL_VA), // mov esi, [GLOBAL_VA]
      0x8b, 0x3d, ...le32(LOCAL_VA), // mov edi, [LOCAL_VA]
      0x0f, 0x22, 0xe1, // mov cr4, ecx   (drops global entries too)
      0x8b, 0x05, ...le32(GLOBAL_VA), // mov eax, [GLOBAL_VA]
    ]);
    for (let i = 0; i < 3; i++) cpu.step();
    expect([cpu.reg32[EAX], cpu.reg32[EBX]]).toEqual([0xaaaa, 0xaaaa]);
    // both PTEs now point at frame B, without INVLPG: only a flush makes that visible
    mem.write32(pt2, FRAME_B | 0x163);
    mem.write32(pt2 + 4, FRAME_B | 0x063);
    for (let i = 0; i < 3; i++) cpu.step();
    expect(cpu.reg32[ESI]).toBe(0xaaaa); // global: still the old translation
    expect(cpu.reg32[EDI]).toBe(0xbbbb); // ordinary: walked again after the CR3 write
    for (let i = 0; i < 2; i++) cpu.step();
    expect(cpu.reg32[EAX]).toBe(0xbbbb);
    expect(cpu.cr4 & (1 << 7)).not.toBe(0);
  });
});

describe('write tracking (framebuffer dirty pages)', () => {
  beforeEach(() => setup(true));

  it('sees the first CPU write after each collection, and keeps read mappings meanwhile', () => {
    const PAGE = 0x200000;
    mem.trackWrites(PAGE, 0x2000);
    mem.takeDirtyPages(PAGE, 0x2000, () => {});
    const dirty = () => {
      const pages: number[] = [];
      mem.takeDirtyPages(PAGE, 0x2000, (i) => pages.push(i));
      return pages;
    };
    cpu.reg32[EAX] = 0x11223344;
    code([0xa3, ...le32(PAGE + 0x1004), 0xa1, ...le32(PAGE + 0x10), 0xa3, ...le32(PAGE + 0x1008)]); // store, load, store
    cpu.step();
    expect(dirty()).toEqual([1]);
    expect(cpu.tlbSupR[(PAGE + 0x1000) >>> 12]).not.toBe(0); // the read mapping stays cached
    expect(cpu.tlbSupW[(PAGE + 0x1000) >>> 12]).toBe(0); // the write mapping is gone
    cpu.step();
    expect(dirty()).toEqual([]); // a read marks nothing
    cpu.step();
    expect(dirty()).toEqual([1]); // the next write is seen again
    expect(mem.read32(PAGE + 0x1004)).toBe(0x11223344);
  });
});

describe('SYSENTER and SYSEXIT', () => {
  beforeEach(() => setup(false));
  const KENTRY = 0x6000, SE_STACK = 0x6f00, USER_CODE = 0x5000, USER_RET = 0x5100, USER_STACK2 = 0x5f00;
  const wrmsr = (msr: number, v: number) => [0xb9, ...le32(msr), 0xb8, ...le32(v), 0x31, 0xd2, 0x0f, 0x30];

  it('enter the kernel at IA32_SYSENTER_EIP and return to EDX/ECX at CPL 3 (SDM Vol. 2B)', () => {
    code([...wrmsr(0x174, KCODE), ...wrmsr(0x175, SE_STACK), ...wrmsr(0x176, KENTRY)]);
    for (let i = 0; i < 12; i++) cpu.step();
    mem.writeBytes(KENTRY, new Uint8Array([0xba, ...le32(USER_RET), 0xb9, ...le32(USER_STACK2), 0x0f, 0x35])); // mov edx; mov ecx; sysexit
    mem.writeBytes(USER_CODE, new Uint8Array([0x0f, 0x34])); // sysenter
    enterUserMode(USER_CODE);
    cpu.step();
    expect(cpu.cpl).toBe(0);
    expect([cpu.segSel[1], cpu.segSel[2]]).toEqual([KCODE, KDATA]); // CS, SS = CS + 8
    expect([cpu.eip, cpu.reg32[ESP]]).toEqual([KENTRY, SE_STACK]);
    expect(cpu.getEflags() & 0x200).toBe(0); // IF cleared
    for (let i = 0; i < 3; i++) cpu.step();
    expect(cpu.cpl).toBe(3);
    expect([cpu.segSel[1], cpu.segSel[2]]).toEqual([UCODE, UDATA]); // CS + 16 | 3, CS + 24 | 3
    expect([cpu.eip, cpu.reg32[ESP]]).toEqual([USER_RET, USER_STACK2]);
  });

  it('#GP for SYSEXIT at CPL 3 and for SYSENTER while IA32_SYSENTER_CS is 0', () => {
    mem.writeBytes(0x5000, new Uint8Array([0x0f, 0x35])); // sysexit
    enterUserMode(0x5000);
    cpu.step();
    expect(vectorTaken()).toBe(13);
    setup(false);
    mem.writeBytes(0x5000, new Uint8Array([0x0f, 0x34])); // sysenter
    enterUserMode(0x5000);
    cpu.step();
    expect(vectorTaken()).toBe(13);
    expect(stack(1)).toBe(0x5000);
  });
});

describe('other exceptions', () => {
  beforeEach(() => setup(false));

  it('#DE on division by zero, with no register changed', () => {
    cpu.reg32[EAX] = 100;
    cpu.reg32[EDX] = 0;
    cpu.reg32[ECX] = 0;
    code([0xf7, 0xf1]); // div ecx
    cpu.step();
    expect(vectorTaken()).toBe(0);
    expect(stack(0)).toBe(CODE);
    expect(cpu.reg32[EAX]).toBe(100);
  });

  it('#DE when the quotient does not fit', () => {
    cpu.reg32[EDX] = 2;
    cpu.reg32[EAX] = 0;
    cpu.reg32[ECX] = 2;
    code([0xf7, 0xf1]); // div ecx: 2^33 / 2 = 2^32 overflows
    cpu.step();
    expect(vectorTaken()).toBe(0);
    expect(cpu.reg32[EDX]).toBe(2);
  });

  it('#UD for UD2 and for an invalid encoding', () => {
    code([0x0f, 0x0b]);
    cpu.step();
    expect(vectorTaken()).toBe(6);
    expect(stack(0)).toBe(CODE);
    setup(false);
    code([0x8d, 0xc0]); // lea eax, eax (register operand: invalid)
    cpu.step();
    expect(vectorTaken()).toBe(6);
  });

  it('#GP with the selector as error code for a selector beyond the GDT limit', () => {
    cpu.reg32[EAX] = 0x1238;
    code([0x8e, 0xd8]); // mov ds, ax
    cpu.step();
    expect(vectorTaken()).toBe(13);
    expect(stack(0)).toBe(0x1238);
    expect(stack(1)).toBe(CODE);
    expect(cpu.segSel[3]).toBe(KDATA); // DS unchanged
  });

  it('#GP when loading SS with a null selector, and for a code segment in DS is fine only if readable', () => {
    cpu.reg32[EAX] = 0;
    code([0x8e, 0xd0]); // mov ss, ax
    cpu.step();
    expect(vectorTaken()).toBe(13);
    expect(stack(0)).toBe(0);
  });

  it('#GP(0) for privileged instructions at CPL 3, #BP/#OF as traps after the instruction', () => {
    mem.writeBytes(0x5000, new Uint8Array([0xfa])); // cli
    enterUserMode(0x5000);
    cpu.step();
    expect(vectorTaken()).toBe(13);
    expect(stack(0)).toBe(0);
    expect(stack(1)).toBe(0x5000);
    setup(false);
    code([0xcc]); // int3
    cpu.step();
    expect(vectorTaken()).toBe(3);
    expect(stack(0)).toBe(CODE + 1); // trap: return address after int3
  });

  it('INT n from ring 3 through a DPL-0 gate is #GP(n*8+2); a DPL-3 gate switches to the ring-0 stack', () => {
    mem.writeBytes(0x5000, new Uint8Array([0xcd, 0x15])); // int 0x15
    enterUserMode(0x5000);
    cpu.step();
    expect(vectorTaken()).toBe(13);
    expect(stack(0)).toBe(0x15 * 8 + 2);
    setup(false);
    mem.write32(IDT + 0x15 * 8 + 4, mem.read32(IDT + 0x15 * 8 + 4) | 0x6000); // DPL 3
    mem.writeBytes(0x5000, new Uint8Array([0xcd, 0x15]));
    enterUserMode(0x5000);
    cpu.step();
    expect(vectorTaken()).toBe(0x15);
    expect(cpu.cpl).toBe(0);
    expect(stack(0)).toBe(0x5002);
    expect(stack(3)).toBe(USTACK);
  });

  it('a triple fault is reported to the machine', () => {
    let reported = -1;
    cpu.onTripleFault = (eip) => {
      reported = eip;
    };
    cpu.idtLimit = 0; // no usable IDT: #UD → #GP → #DF → triple fault
    code([0x0f, 0x0b]);
    cpu.step();
    expect(reported).toBe(CODE);
    expect(cpu.halted).toBe(true);
  });

  it('external interrupts wait one instruction after STI', () => {
    let acks = 0;
    cpu.irqController = { hasInterrupt: () => acks === 0, acknowledge: () => (acks++, 0x10) };
    cpu.intrPending = true;
    cpu.reg32[EAX] = 0;
    code([0xfb, 0x40, 0x40]); // sti; inc eax; inc eax
    cpu.step(); // sti
    cpu.step(); // inc eax runs in the interrupt shadow
    expect(cpu.reg32[EAX]).toBe(1);
    expect(acks).toBe(0);
    cpu.step(); // now the interrupt is taken before the next inc (then the handler's HLT runs)
    expect(acks).toBe(1);
    expect(cpu.reg32[EAX]).toBe(1);
    expect(vectorTaken()).toBe(0x10);
    expect(stack(0)).toBe(CODE + 2);
  });
});

void EDI;
