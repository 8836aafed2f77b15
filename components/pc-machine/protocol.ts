/**
 * Messages between `<pc-machine>` (the page) and its machine worker. Binary payloads travel as
 * transferred ArrayBuffers (never copied twice, never shared).
 *
 * Page → worker
 * - `boot`: create the machine from the images (its errors come back as `error` with
 *   `fatal: true`); then `booted`, and with `start: true` the machine starts.
 * - `start` / `stop` / `reset`: answered by `state` (`running` / `stopped`) or `reset`.
 * - `serial-in`: bytes typed into the UART.
 * - `fb-ack`: the page has drawn the last `fb` band; the worker sends the next one only after
 *   this, so at most one band is in flight and bands are never queued up.
 *
 * Worker → page
 * - `booted`, `state`, `reset` (`cause`: `host`, or the guest's `guest-reboot` / `triple-fault`), `halt` (the guest stopped),
 * - `serial`: guest UART output, batched per run slice,
 * - `fb-mode` then `fb`: the framebuffer's size and dirty bands of packed RGBX rows
 *   (`width * 4` bytes a row, whatever the guest's stride),
 * - `stats` every second while running,
 * - `error`: anything thrown in the worker; `fatal` when there is no usable machine.
 */

import type { HaltReason, MachineStats } from '../../src/machine/types';

export interface BootConfig {
  memoryMiB: number;
  kernel: ArrayBuffer;
  initrd: ArrayBuffer[];
  cmdline: string;
  framebuffer: { width: number; height: number } | null;
}

export type ToWorker =
  | { type: 'boot'; config: BootConfig; start: boolean }
  | { type: 'start' }
  | { type: 'stop' }
  | { type: 'reset' }
  | { type: 'serial-in'; data: ArrayBuffer }
  | { type: 'fb-ack' };

export type ErrorKind = 'attribute' | 'image' | 'machine' | 'worker';

export type FromWorker =
  | { type: 'booted' }
  | { type: 'state'; state: 'running' | 'stopped' }
  | { type: 'reset'; cause: 'host' | 'guest-reboot' | 'triple-fault' }
  | { type: 'halt'; reason: HaltReason }
  | { type: 'serial'; data: ArrayBuffer }
  | { type: 'fb-mode'; width: number; height: number }
  | { type: 'fb'; width: number; height: number; first: number; rows: number; data: ArrayBuffer }
  | { type: 'stats'; stats: MachineStats }
  | { type: 'error'; kind: ErrorKind; message: string; fatal: boolean };
