/**
 * The kernel inside a bzImage, inflated on the host.
 *
 * A bzImage's protected-mode part is a small decompressor followed by the payload: the kernel's
 * own ELF image (`vmlinux`, stripped, plus relocation data), compressed (boot.rst,
 * "payload_offset"/"payload_length", protocol 2.08+). At boot the decompressor inflates it to the
 * kernel's runtime address, copies the ELF's loadable segments into place and jumps to the
 * kernel's `startup_32` with ESI = boot_params. On an emulated CPU that inflating costs millions
 * of guest instructions at every boot, so when the payload is gzip pc-machine inflates it with the
 * platform's DecompressionStream, loads the segments itself and enters `startup_32` directly, with
 * the same registers. Any other payload, or one the host cannot inflate, boots the usual way.
 */
import { BootImageError } from './boot-error';
import { parseBzImage } from './bzimage';
import { inflateInitrd, isGzip } from './initrd';

/** A loadable segment: `data` goes to physical address `address`; the rest up to `memorySize` is zero. */
export interface KernelSegment {
  address: number;
  data: Uint8Array;
  memorySize: number;
}

/** The kernel's ELF image, ready to load. */
export interface KernelElf {
  /** Physical address of `startup_32` (the ELF entry point). */
  entry: number;
  segments: KernelSegment[];
}

// ELF32 (System V ABI, "ELF Header" and "Program Header")
const ELF_MAGIC = 0x464c457f; // 7f 'E' 'L' 'F', little-endian
const ELFCLASS32 = 1;
const ELFDATA2LSB = 1;
const EM_386 = 3;
const PT_LOAD = 1;
const E_ENTRY = 24, E_PHOFF = 28, E_PHENTSIZE = 42, E_PHNUM = 44;
const P_OFFSET = 4, P_PADDR = 12, P_FILESZ = 16, P_MEMSZ = 20;
const ELF32_PHDR_SIZE = 32;

/** Parse a 32-bit x86 ELF kernel image; a BootImageError says what is wrong with it. */
export function parseKernelElf(elf: Uint8Array): KernelElf {
  const bad = (why: string): never => {
    throw new BootImageError(`kernel payload: ${why}`);
  };
  if (elf.length < 52) bad('too short for an ELF header');
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (view.getUint32(0, true) !== ELF_MAGIC) bad('not an ELF image');
  if (elf[4] !== ELFCLASS32 || elf[5] !== ELFDATA2LSB || view.getUint16(18, true) !== EM_386) {
    bad('not a 32-bit little-endian i386 ELF image');
  }
  const phoff = view.getUint32(E_PHOFF, true);
  const phentsize = view.getUint16(E_PHENTSIZE, true);
  const phnum = view.getUint16(E_PHNUM, true);
  if (phentsize < ELF32_PHDR_SIZE || phoff + phnum * phentsize > elf.length) bad('program headers out of bounds');
  const segments: KernelSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (view.getUint32(ph, true) !== PT_LOAD) continue;
    const offset = view.getUint32(ph + P_OFFSET, true);
    const address = view.getUint32(ph + P_PADDR, true);
    const fileSize = view.getUint32(ph + P_FILESZ, true);
    const memorySize = view.getUint32(ph + P_MEMSZ, true);
    if (offset + fileSize > elf.length) bad(`segment ${i} extends past the end of the image`);
    if (fileSize > memorySize) bad(`segment ${i} has more file bytes than memory bytes`);
    segments.push({ address, data: elf.subarray(offset, offset + fileSize), memorySize });
  }
  if (!segments.length) bad('no loadable segments');
  return { entry: view.getUint32(E_ENTRY, true), segments };
}

/**
 * The kernel image of a bzImage whose payload is gzip, inflated on the host; null when the
 * payload is compressed otherwise, the platform cannot inflate it, or it is not a kernel image
 * (the bzImage then boots through its own decompressor).
 */
export async function inflateKernel(kernel: Uint8Array): Promise<KernelElf | null> {
  const { header, protectedModeKernel } = parseBzImage(kernel);
  const { payloadOffset, payloadLength } = header;
  if (!payloadLength || payloadOffset + payloadLength > protectedModeKernel.length) return null;
  const payload = protectedModeKernel.subarray(payloadOffset, payloadOffset + payloadLength);
  if (!isGzip(payload)) return null;
  const inflated = await inflateInitrd(payload);
  if (inflated === payload) return null;
  try {
    return parseKernelElf(inflated);
  } catch {
    return null;
  }
}
