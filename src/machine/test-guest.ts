/** Test helpers: boot the committed guest images (Node only; used by tests). */
import { gunzipSync } from 'node:zlib';
import { readImage } from '../boot/test-images';
import { ConsoleSession } from './console-session';
import { PcMachine } from './pc';
import type { HaltReason, MachineConfig } from './types';

export interface BootedGuest {
  machine: PcMachine;
  session: ConsoleSession;
  halts: HaltReason[];
  resets: string[];
  serial: () => string;
  /** Guest instructions run when the kernel printed its banner ("Linux version"). */
  kernelBannerAt: () => number;
}

/**
 * Boot the default guest and wait for its first shell prompt. `via`: 'create' (the default)
 * inflates the kernel and the initramfs on the host as the CLI and the element do; 'constructor'
 * hands the files to the guest as they are, which then runs the bzImage's decompressor and
 * inflates the initramfs itself.
 */
export async function bootGuest(
  overrides: Partial<MachineConfig> = {}, timeoutMs = 240_000, via: 'create' | 'constructor' = 'create',
): Promise<BootedGuest> {
  const config: MachineConfig = {
    memoryMiB: 64,
    kernel: readImage('bzImage'),
    initrd: [readImage('initramfs.cpio.gz')],
    cmdline: 'console=ttyS0',
    framebuffer: null,
    timeMode: 'realtime',
    ...overrides,
  };
  const machine = via === 'create' ? await PcMachine.create(config) : new PcMachine(config);
  const session = new ConsoleSession((t) => machine.sendSerial(t));
  const halts: HaltReason[] = [];
  const resets: string[] = [];
  let all = '';
  let bannerAt = -1;
  machine.onSerial = (b) => {
    session.feed(b);
    all += Buffer.from(b).toString('latin1');
    if (bannerAt < 0 && all.includes('Linux version')) bannerAt = machine.cpu.icount;
  };
  machine.onHalt = (r) => {
    halts.push(r);
    session.fail(new Error(`machine halted: ${JSON.stringify(r)}`));
  };
  machine.onReset = (cause) => resets.push(cause);
  machine.start();
  await session.waitForPrompt({ timeout: timeoutMs });
  return { machine, session, halts, resets, serial: () => all, kernelBannerAt: () => bannerAt };
}

/** Extract one file from a (gzipped) newc cpio archive. */
export function cpioFile(archive: Uint8Array, path: string): Uint8Array | null {
  const data = archive[0] === 0x1f && archive[1] === 0x8b ? gunzipSync(archive) : archive;
  const want = path.replace(/^\//, '');
  let off = 0;
  const text = (a: number, n: number) => Buffer.from(data.subarray(a, a + n)).toString('latin1');
  while (off + 110 <= data.length) {
    if (text(off, 6) !== '070701') return null;
    const field = (i: number) => parseInt(text(off + 6 + i * 8, 8), 16);
    const fileSize = field(6);
    const nameSize = field(11);
    const name = text(off + 110, nameSize - 1);
    const dataStart = (off + 110 + nameSize + 3) & ~3;
    if (name === 'TRAILER!!!') return null;
    if (name.replace(/^\.\//, '') === want) return data.slice(dataStart, dataStart + fileSize);
    off = (dataStart + fileSize + 3) & ~3;
  }
  return null;
}
