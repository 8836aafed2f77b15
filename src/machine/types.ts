/** The public shape of a pc-machine: configuration, events and halt reasons. */

export interface FramebufferConfig {
  width: number;
  height: number;
}

export interface MachineConfig {
  /** RAM size in MiB (16..2048). */
  memoryMiB: number;
  /** The Linux kernel, a bzImage. */
  kernel: Uint8Array;
  /** Initramfs archives, concatenated in order (Linux accepts several cpio archives back to back). */
  initrd: Uint8Array[];
  /** Kernel command line. */
  cmdline: string;
  /** The paravirtual linear framebuffer's mode, or null for none. */
  framebuffer: FramebufferConfig | null;
  /**
   * 'realtime': emulated time follows the host's wall clock (interactive use).
   * 'deterministic': emulated time is derived from the instruction count (tests).
   */
  timeMode?: 'realtime' | 'deterministic';
  /**
   * Seed for the guest kernel's random number generator, handed over at each boot the way a
   * bootloader does (up to 64 bytes). Default: 32 fresh bytes from `crypto.getRandomValues` per
   * boot in realtime mode, a fixed seed in deterministic mode.
   */
  rngSeed?: Uint8Array;
}

export type HaltReason =
  | { kind: 'poweroff' }
  | { kind: 'triple-fault'; eip: number }
  | { kind: 'panic'; message: string }
  | { kind: 'error'; message: string; eip: number; bytes: string };

export interface MachineStats {
  instructions: number;
  mips: number;
  uptimeMs: number;
}
