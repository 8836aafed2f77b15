/**
 * Loading Linux without a BIOS: the 32-bit boot protocol (Documentation/x86/boot.rst, "32-bit Boot
 * Protocol"). The loader puts the protected-mode kernel at 1 MiB, the initrd as high in RAM as the
 * kernel allows, the command line and the zero page in low memory, and a GDT with the flat
 * __BOOT_CS / __BOOT_DS descriptors; it returns the CPU state to start the kernel with.
 */
import type { PhysMemory } from '../memory/phys-memory';
import { BootImageError } from './boot-error';
import { buildBootParams, EBDA_START, HIGH_MEMORY_START, type FramebufferInfo } from './boot-params';
import { parseBzImage, SETUP_HEADER, type BzImage } from './bzimage';
import type { KernelElf } from './kernel-elf';

/** Guest-physical layout of what the loader writes below 640 KiB. */
export const BOOT_GDT_ADDRESS = 0x1000;
/** A stack for the entry code, growing down from just below the zero page (the kernel sets its own). */
export const BOOT_STACK_TOP = 0x10000;
export const BOOT_PARAMS_ADDRESS = 0x10000;
export const CMDLINE_ADDRESS = 0x20000;
/** The setup_data list (one SETUP_RNG_SEED entry), after the longest command line a kernel accepts. */
export const SETUP_DATA_ADDRESS = 0x21000;
/** setup_data types (arch/x86/include/uapi/asm/bootparam.h). */
export const SETUP_RNG_SEED = 9;
/** Size of the setup_data header: next (u64), type (u32), len (u32). */
const SETUP_DATA_HEADER = 16;
/** Longest RNG seed passed; the kernel credits 8 bits per byte when it trusts the bootloader. */
export const MAX_RNG_SEED_BYTES = 64;
/** The protected-mode kernel is loaded at 1 MiB (boot.rst, "Loading the rest of the kernel"). */
export const KERNEL_LOAD_ADDRESS = HIGH_MEMORY_START;
/** Initrds are placed on a page boundary. */
export const INITRD_ALIGNMENT = 4096;
/** Each initrd archive is padded to a multiple of 4 bytes before the next one (cpio archives are 4-byte aligned). */
export const INITRD_PAD = 4;

/** BIOS data area fields: conventional memory size in KiB, and the EBDA segment (matching the e820 map). */
export const BDA_EBDA_SEGMENT = 0x40e;
export const BDA_BASE_MEMORY_KIB = 0x413;

/** Segment selectors the kernel expects at entry (boot.rst: __BOOT_CS 0x10, __BOOT_DS 0x18). */
export const BOOT_CS = 0x10;
export const BOOT_DS = 0x18;
/**
 * Flat 4 GiB descriptors: base 0, limit 0xFFFFF with 4 KiB granularity, 32-bit, present, ring 0.
 * Code: type 0xA (execute/read). Data: type 0x2 (read/write). (Intel SDM Vol. 3A, 3.4.5.)
 */
export const FLAT_CODE_DESCRIPTOR = { low: 0x0000ffff, high: 0x00cf9a00 } as const;
export const FLAT_DATA_DESCRIPTOR = { low: 0x0000ffff, high: 0x00cf9200 } as const;
/** null, null, __BOOT_CS, __BOOT_DS: 4 descriptors of 8 bytes. */
export const BOOT_GDT_LIMIT = 4 * 8 - 1;
/** EFLAGS at entry: interrupts off, only the always-one bit 1 set. */
export const ENTRY_EFLAGS = 0x00000002;

export interface LoadLinuxOptions {
  /** The bzImage file. */
  kernel: Uint8Array;
  /** Initramfs archives, concatenated in order. */
  initrds: Uint8Array[];
  cmdline: string;
  framebuffer: FramebufferInfo | null;
  /**
   * Entropy for the kernel's RNG, passed as a SETUP_RNG_SEED setup_data entry (boot.rst,
   * "setup_data"; protocol 2.09+). With `random.trust_bootloader=on` the kernel's CRNG is ready at
   * once instead of deriving keys from an empty pool for every random number until jitter entropy
   * arrives. Omitted or empty: none.
   */
  rngSeed?: Uint8Array;
  /**
   * The kernel's own image from the bzImage's payload, inflated on the host (`inflateKernel`):
   * its segments are loaded in place and the CPU enters `startup_32` directly, skipping the
   * bzImage's decompressor. Omitted: the bzImage is loaded at 1 MiB and entered at code32_start.
   */
  kernelElf?: KernelElf | null;
}

export interface LinuxEntry {
  /** EIP: the 32-bit entry point (code32_start, or startup_32 for a kernel loaded from its ELF image). */
  entry: number;
  /** ESI: address of boot_params. */
  bootParams: number;
  /** The GDT the CPU must have loaded at entry. */
  gdt: { base: number; limit: number };
  codeSelector: number;
  dataSelector: number;
  /** Initial registers: ESI = boot_params; EBP, EDI, EBX = 0; IF = 0. */
  registers: {
    eax: number; ebx: number; ecx: number; edx: number;
    esi: number; edi: number; ebp: number; esp: number;
    eip: number; eflags: number;
  };
  /** Control register 0: protection on (PE), paging off. */
  cr0: number;
  /** Where things were put, for diagnostics. */
  layout: {
    kernel: { address: number; size: number };
    /** The memory the kernel uses from its runtime address before it reads the memory map. */
    kernelRuntime: { address: number; size: number };
    initrd: { address: number; size: number } | null;
    cmdline: { address: number; size: number };
    setupData: { address: number; size: number } | null;
  };
  image: BzImage;
}

const CR0_PE = 1 << 0;
/** CR0.ET: set on a 387-class FPU; real i686 processors hard-wire it to 1. */
const CR0_ET = 1 << 4;

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

function alignDown(value: number, alignment: number): number {
  return Math.floor(value / alignment) * alignment;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
}

/** Concatenate initrd archives, each padded to a multiple of INITRD_PAD bytes. */
export function concatenateInitrds(initrds: Uint8Array[]): Uint8Array {
  const total = initrds.reduce((sum, part) => sum + alignUp(part.length, INITRD_PAD), 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of initrds) {
    out.set(part, offset);
    offset += alignUp(part.length, INITRD_PAD);
  }
  return out;
}

/**
 * Load a bzImage, its initrds and command line into `mem` and describe the CPU state that starts it.
 * Throws BootImageError for an unbootable image, a command line that is too long, or too little RAM.
 */
export function loadLinux(mem: PhysMemory, options: LoadLinuxOptions): LinuxEntry {
  const image = parseBzImage(options.kernel);
  const { header } = image;
  const ramEnd = mem.ramBytes;

  // --- the kernel: loaded at 1 MiB; it decompresses itself to its runtime address ---
  const kernelSize = image.protectedModeKernel.length;
  // A kernel runs at pref_address, or (relocatable) at its load address aligned to kernel_alignment,
  // whichever is higher, and needs init_size bytes from there (boot.rst, "init_size").
  const runtimeAddress = Math.max(
    header.prefAddress,
    header.relocatableKernel ? alignUp(KERNEL_LOAD_ADDRESS, header.kernelAlignment || 1) : KERNEL_LOAD_ADDRESS,
  );
  const kernelFootprintEnd = Math.max(KERNEL_LOAD_ADDRESS + kernelSize, runtimeAddress + header.initSize);
  if (kernelFootprintEnd > ramEnd) {
    throw new BootImageError(
      `RAM too small: the kernel needs ${mib(kernelFootprintEnd)} of memory, the machine has ${mib(ramEnd)}`,
    );
  }

  const elf = options.kernelElf ?? null;
  if (elf) {
    const end = runtimeAddress + header.initSize;
    for (const seg of elf.segments) {
      if (seg.address < runtimeAddress || seg.address + seg.memorySize > end) {
        throw new BootImageError(
          `kernel payload: a segment at 0x${seg.address.toString(16)} lies outside the kernel's memory` +
            ` (0x${runtimeAddress.toString(16)}-0x${end.toString(16)})`,
        );
      }
    }
    if (!elf.segments.some((seg) => elf.entry >= seg.address && elf.entry < seg.address + seg.data.length)) {
      throw new BootImageError(`kernel payload: entry point 0x${elf.entry.toString(16)} is not in a loaded segment`);
    }
  }

  // --- the command line: NUL-terminated, at most cmdline_size bytes without the NUL ---
  const cmdlineBytes = new TextEncoder().encode(options.cmdline);
  if (cmdlineBytes.includes(0)) throw new BootImageError('kernel command line contains a NUL character');
  if (cmdlineBytes.length > header.cmdlineSize) {
    throw new BootImageError(
      `kernel command line too long: ${cmdlineBytes.length} bytes, this kernel accepts at most ${header.cmdlineSize}`,
    );
  }

  // --- the initrds: back to back, placed page-aligned as high as allowed ---
  const initrd = options.initrds.length ? concatenateInitrds(options.initrds) : new Uint8Array(0);
  let initrdLayout: { address: number; size: number } | null = null;
  if (initrd.length) {
    // initrd_addr_max is the highest address the initrd may occupy (its last byte).
    const top = Math.min(header.initrdAddrMax + 1, ramEnd);
    const address = alignDown(top - initrd.length, INITRD_ALIGNMENT);
    if (address < alignUp(kernelFootprintEnd, INITRD_ALIGNMENT)) {
      throw new BootImageError(
        `RAM too small for kernel + initrd: they need ${mib(alignUp(kernelFootprintEnd, INITRD_ALIGNMENT) + initrd.length)}` +
          `, the machine has ${mib(ramEnd)}`,
      );
    }
    initrdLayout = { address, size: initrd.length };
  }

  // --- write everything ---
  if (elf) {
    for (const seg of elf.segments) {
      mem.writeBytes(seg.address, seg.data);
      // the rest of the segment (BSS) is zero, also after a reboot
      if (seg.memorySize > seg.data.length) mem.writeBytes(seg.address + seg.data.length, new Uint8Array(seg.memorySize - seg.data.length));
    }
  } else {
    mem.writeBytes(KERNEL_LOAD_ADDRESS, image.protectedModeKernel);
  }
  const entryPoint = elf ? elf.entry : header.code32Start;
  if (initrdLayout) mem.writeBytes(initrdLayout.address, initrd);

  const cmdlineWithNul = new Uint8Array(cmdlineBytes.length + 1);
  cmdlineWithNul.set(cmdlineBytes);
  mem.writeBytes(CMDLINE_ADDRESS, cmdlineWithNul);

  const bootParams = buildBootParams(image, {
    ramBytes: ramEnd,
    cmdLinePtr: CMDLINE_ADDRESS,
    ramdisk: initrdLayout,
    framebuffer: options.framebuffer,
  });
  const seed = options.rngSeed ?? new Uint8Array(0);
  if (seed.length > MAX_RNG_SEED_BYTES) throw new BootImageError(`RNG seed too long: ${seed.length} bytes (at most ${MAX_RNG_SEED_BYTES})`);
  if (seed.length) {
    const entry = new Uint8Array(SETUP_DATA_HEADER + seed.length);
    const view = new DataView(entry.buffer);
    view.setUint32(8, SETUP_RNG_SEED, true); // next = 0 (u64 at 0): the list has one entry
    view.setUint32(12, seed.length, true);
    entry.set(seed, SETUP_DATA_HEADER);
    mem.writeBytes(SETUP_DATA_ADDRESS, entry);
    new DataView(bootParams.buffer, bootParams.byteOffset).setUint32(SETUP_HEADER.SETUP_DATA, SETUP_DATA_ADDRESS, true);
  }
  mem.writeBytes(BOOT_PARAMS_ADDRESS, bootParams);

  // GDT: two null descriptors, then __BOOT_CS and __BOOT_DS.
  mem.writeBytes(BOOT_GDT_ADDRESS, new Uint8Array(BOOT_GDT_LIMIT + 1));
  mem.write32(BOOT_GDT_ADDRESS + BOOT_CS, FLAT_CODE_DESCRIPTOR.low);
  mem.write32(BOOT_GDT_ADDRESS + BOOT_CS + 4, FLAT_CODE_DESCRIPTOR.high);
  mem.write32(BOOT_GDT_ADDRESS + BOOT_DS, FLAT_DATA_DESCRIPTOR.low);
  mem.write32(BOOT_GDT_ADDRESS + BOOT_DS + 4, FLAT_DATA_DESCRIPTOR.high);

  // The BIOS data area as a BIOS would leave it: 639 KiB of conventional memory, the EBDA above it.
  mem.write16(BDA_BASE_MEMORY_KIB, EBDA_START / 1024);
  mem.write16(BDA_EBDA_SEGMENT, EBDA_START >>> 4);

  return {
    entry: entryPoint,
    bootParams: BOOT_PARAMS_ADDRESS,
    gdt: { base: BOOT_GDT_ADDRESS, limit: BOOT_GDT_LIMIT },
    codeSelector: BOOT_CS,
    dataSelector: BOOT_DS,
    registers: {
      eax: 0, ebx: 0, ecx: 0, edx: 0,
      esi: BOOT_PARAMS_ADDRESS, edi: 0, ebp: 0, esp: BOOT_STACK_TOP,
      eip: entryPoint, eflags: ENTRY_EFLAGS,
    },
    cr0: CR0_PE | CR0_ET,
    layout: {
      kernel: elf
        ? { address: runtimeAddress, size: Math.max(...elf.segments.map((seg) => seg.address + seg.memorySize)) - runtimeAddress }
        : { address: KERNEL_LOAD_ADDRESS, size: kernelSize },
      kernelRuntime: { address: runtimeAddress, size: header.initSize },
      initrd: initrdLayout,
      cmdline: { address: CMDLINE_ADDRESS, size: cmdlineWithNul.length },
      setupData: seed.length ? { address: SETUP_DATA_ADDRESS, size: SETUP_DATA_HEADER + seed.length } : null,
    },
    image,
  };
}
