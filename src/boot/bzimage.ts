/**
 * Parsing a Linux bzImage: the real-mode setup header (Documentation/x86/boot.rst, "The Real-Mode
 * Kernel Header") and the protected-mode kernel that follows the setup sectors.
 */
import { BootImageError } from './boot-error';

export { BootImageError } from './boot-error';

/** Offsets of setup-header fields, in the bzImage file and equally in boot_params (boot.rst). */
export const SETUP_HEADER = {
  SETUP_SECTS: 0x1f1,
  ROOT_FLAGS: 0x1f2,
  SYSSIZE: 0x1f4,
  RAM_SIZE: 0x1f8,
  VID_MODE: 0x1fa,
  ROOT_DEV: 0x1fc,
  BOOT_FLAG: 0x1fe,
  JUMP: 0x200,
  HEADER: 0x202,
  VERSION: 0x206,
  REALMODE_SWTCH: 0x208,
  START_SYS_SEG: 0x20c,
  KERNEL_VERSION: 0x20e,
  TYPE_OF_LOADER: 0x210,
  LOADFLAGS: 0x211,
  SETUP_MOVE_SIZE: 0x212,
  CODE32_START: 0x214,
  RAMDISK_IMAGE: 0x218,
  RAMDISK_SIZE: 0x21c,
  BOOTSECT_KLUDGE: 0x220,
  HEAP_END_PTR: 0x224,
  EXT_LOADER_VER: 0x226,
  EXT_LOADER_TYPE: 0x227,
  CMD_LINE_PTR: 0x228,
  INITRD_ADDR_MAX: 0x22c,
  KERNEL_ALIGNMENT: 0x230,
  RELOCATABLE_KERNEL: 0x234,
  MIN_ALIGNMENT: 0x235,
  XLOADFLAGS: 0x236,
  CMDLINE_SIZE: 0x238,
  HARDWARE_SUBARCH: 0x23c,
  HARDWARE_SUBARCH_DATA: 0x240,
  PAYLOAD_OFFSET: 0x248,
  PAYLOAD_LENGTH: 0x24c,
  SETUP_DATA: 0x250,
  PREF_ADDRESS: 0x258,
  INIT_SIZE: 0x260,
  HANDOVER_OFFSET: 0x264,
  KERNEL_INFO_OFFSET: 0x268,
} as const;

/** "HdrS" as a little-endian 32-bit value at 0x202. */
export const HDRS_MAGIC = 0x53726448;
/** boot_flag at 0x1FE: the boot-sector signature. */
export const BOOT_FLAG_MAGIC = 0xaa55;
/** The 32-bit boot protocol with pref_address/init_size needs protocol 2.10 or later. */
export const MIN_BOOT_PROTOCOL = 0x020a;
/** setup_sects = 0 means 4 (boot.rst, "setup_sects"). */
export const DEFAULT_SETUP_SECTS = 4;
export const SECTOR_SIZE = 512;

/** loadflags bits (boot.rst, "loadflags"). */
export const LOADED_HIGH = 1 << 0;
export const KASLR_FLAG = 1 << 1;
export const QUIET_FLAG = 1 << 5;
export const KEEP_SEGMENTS = 1 << 6;
export const CAN_USE_HEAP = 1 << 7;

/** xloadflags bits (boot.rst, "xloadflags", protocol 2.12). */
export const XLF_KERNEL_64 = 1 << 0;
export const XLF_CAN_BE_LOADED_ABOVE_4G = 1 << 1;

export interface SetupHeader {
  setupSects: number;
  rootFlags: number;
  /** Size of the protected-mode code in 16-byte paragraphs. */
  syssize: number;
  vidMode: number;
  rootDev: number;
  bootFlag: number;
  /** Boot protocol version, e.g. 0x020f for 2.15. */
  version: number;
  kernelVersionOffset: number;
  typeOfLoader: number;
  loadflags: number;
  code32Start: number;
  ramdiskImage: number;
  ramdiskSize: number;
  heapEndPtr: number;
  cmdLinePtr: number;
  /** Highest address the initrd may occupy (its last byte). */
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatableKernel: boolean;
  /** log2 of the minimum alignment of a relocated kernel (protocol 2.10). */
  minAlignment: number;
  /** Protocol 2.12; 0 before. */
  xloadflags: number;
  /** Maximum command-line length without the terminating NUL. */
  cmdlineSize: number;
  hardwareSubarch: number;
  payloadOffset: number;
  payloadLength: number;
  /** Preferred load address of the decompressed kernel (a u64; exact while below 2^53). */
  prefAddress: number;
  /** Memory the kernel needs from its runtime start address before it can read the memory map. */
  initSize: number;
  /** Protocol 2.11; 0 before. */
  handoverOffset: number;
  /** Protocol 2.15; 0 before. */
  kernelInfoOffset: number;
}

export interface BzImage {
  /** The whole file. */
  bytes: Uint8Array;
  header: SetupHeader;
  /** File offset just past the setup header: 0x202 + the byte at 0x201 (boot.rst, "32-bit Boot Protocol"). */
  headerEnd: number;
  /** Size in bytes of the boot sector plus setup sectors; the protected-mode kernel starts here. */
  setupSize: number;
  /** The protected-mode kernel, loaded at 0x100000 (a view into `bytes`). */
  protectedModeKernel: Uint8Array;
  /** The kernel's version string (`kernel_version` points at it), or null if absent. */
  kernelVersion: string | null;
}

/** "2.15" from 0x020f. */
export function formatProtocolVersion(version: number): string {
  return `${version >>> 8}.${(version & 0xff).toString().padStart(2, '0')}`;
}

function readCString(bytes: Uint8Array, offset: number, max: number): string | null {
  if (offset <= 0 || offset >= bytes.length) return null;
  let end = offset;
  while (end < bytes.length && end - offset < max && bytes[end] !== 0) end++;
  if (end === bytes.length || end - offset === max) return null;
  let text = '';
  for (let i = offset; i < end; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

/** Parse and validate a bzImage; throws BootImageError for anything Linux's 32-bit boot protocol can't start. */
export function parseBzImage(bytes: Uint8Array): BzImage {
  const H = SETUP_HEADER;
  if (bytes.length < H.VERSION + 2) throw new BootImageError('not a bzImage: file too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u8 = (o: number) => view.getUint8(o);
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);

  if (u32(H.HEADER) !== HDRS_MAGIC) throw new BootImageError('not a bzImage: missing HdrS signature');
  const version = u16(H.VERSION);
  if (version < MIN_BOOT_PROTOCOL) {
    throw new BootImageError(
      `boot protocol ${formatProtocolVersion(version)} is too old (need ≥ ${formatProtocolVersion(MIN_BOOT_PROTOCOL)})`,
    );
  }
  const headerEnd = H.JUMP + 2 + u8(H.JUMP + 1);
  if (bytes.length < Math.max(headerEnd, H.INIT_SIZE + 4)) throw new BootImageError('not a bzImage: file too short');
  if (u16(H.BOOT_FLAG) !== BOOT_FLAG_MAGIC) throw new BootImageError('not a bzImage: missing 0xAA55 boot flag');

  const loadflags = u8(H.LOADFLAGS);
  if (!(loadflags & LOADED_HIGH)) throw new BootImageError('kernel is not loaded high');

  const setupSects = u8(H.SETUP_SECTS) || DEFAULT_SETUP_SECTS;
  const setupSize = (setupSects + 1) * SECTOR_SIZE;
  const syssize = u32(H.SYSSIZE);
  // syssize counts the protected-mode code in 16-byte paragraphs (boot.rst, "syssize", protocol 2.04+).
  if (syssize === 0 || bytes.length < setupSize + syssize * 16) {
    throw new BootImageError('not a bzImage: file too short');
  }

  const at = (offset: number, minVersion: number) => (version >= minVersion ? u32(offset) : 0);
  const header: SetupHeader = {
    setupSects,
    rootFlags: u16(H.ROOT_FLAGS),
    syssize,
    vidMode: u16(H.VID_MODE),
    rootDev: u16(H.ROOT_DEV),
    bootFlag: u16(H.BOOT_FLAG),
    version,
    kernelVersionOffset: u16(H.KERNEL_VERSION),
    typeOfLoader: u8(H.TYPE_OF_LOADER),
    loadflags,
    code32Start: u32(H.CODE32_START),
    ramdiskImage: u32(H.RAMDISK_IMAGE),
    ramdiskSize: u32(H.RAMDISK_SIZE),
    heapEndPtr: u16(H.HEAP_END_PTR),
    cmdLinePtr: u32(H.CMD_LINE_PTR),
    initrdAddrMax: u32(H.INITRD_ADDR_MAX),
    kernelAlignment: u32(H.KERNEL_ALIGNMENT),
    relocatableKernel: u8(H.RELOCATABLE_KERNEL) !== 0,
    minAlignment: u8(H.MIN_ALIGNMENT),
    xloadflags: version >= 0x020c ? u16(H.XLOADFLAGS) : 0,
    cmdlineSize: u32(H.CMDLINE_SIZE),
    hardwareSubarch: u32(H.HARDWARE_SUBARCH),
    payloadOffset: u32(H.PAYLOAD_OFFSET),
    payloadLength: u32(H.PAYLOAD_LENGTH),
    prefAddress: u32(H.PREF_ADDRESS) + u32(H.PREF_ADDRESS + 4) * 2 ** 32,
    initSize: u32(H.INIT_SIZE),
    handoverOffset: at(H.HANDOVER_OFFSET, 0x020b),
    kernelInfoOffset: at(H.KERNEL_INFO_OFFSET, 0x020f),
  };

  // kernel_version is an offset from the start of the setup code (boot.rst: "points to the string - 0x200").
  const kernelVersion = header.kernelVersionOffset
    ? readCString(bytes, header.kernelVersionOffset + 0x200, 256)
    : null;

  return {
    bytes,
    header,
    headerEnd,
    setupSize,
    protectedModeKernel: bytes.subarray(setupSize),
    kernelVersion,
  };
}
