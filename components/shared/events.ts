/**
 * The events of the pc-machine elements. All bubble and are composed (they cross shadow roots).
 */

import type { HaltReason, MachineStats } from '../../src/machine/types';

export interface PcProgressDetail {
  /** `kernel` / `initrd`: downloading that image; `boot`: the guest is booting. */
  phase: 'kernel' | 'initrd' | 'boot';
  /** Progress of the phase, 0..1 (downloads of unknown size report 0 until done). */
  fraction: number;
  /** Bytes loaded so far (downloads only). */
  loaded?: number;
  /** Bytes in total, when the server said (downloads only). */
  total?: number;
  /** The URL being downloaded, or the boot milestone reached. */
  label: string;
}

export interface PcReadyDetail {
  /** Milliseconds from the start of the boot to the first shell prompt. */
  bootMs: number;
}

export interface PcSerialDetail {
  /** Guest serial output as text (UTF-8 decoded, escape sequences included). */
  text: string;
}

export interface PcHaltDetail {
  reason: HaltReason;
}

export type PcErrorKind = 'attribute' | 'download' | 'image' | 'machine' | 'worker' | 'display';

export interface PcErrorDetail {
  kind: PcErrorKind;
  /** One line for people: what went wrong and with what. */
  message: string;
}

export interface PcResetDetail {
  /** `host`: `reset()` was called (or a halted machine was started again); otherwise the guest rebooted or triple-faulted. */
  cause: 'host' | 'guest-reboot' | 'triple-fault';
}

export interface PcConsoleDataDetail {
  /** What the keyboard or a paste produced, as xterm.js encodes it (VT100/xterm sequences). */
  data: string;
  /** The same as bytes for the UART (UTF-8). */
  bytes: Uint8Array;
}

export interface PcDisplayModeDetail {
  width: number;
  height: number;
}

export type PcStatsDetail = MachineStats;

declare global {
  interface GlobalEventHandlersEventMap {
    'pc-progress': CustomEvent<PcProgressDetail>;
    'pc-ready': CustomEvent<PcReadyDetail>;
    'pc-serial': CustomEvent<PcSerialDetail>;
    'pc-halt': CustomEvent<PcHaltDetail>;
    'pc-error': CustomEvent<PcErrorDetail>;
    'pc-start': CustomEvent<Record<string, never>>;
    'pc-stop': CustomEvent<Record<string, never>>;
    'pc-reset': CustomEvent<PcResetDetail>;
    'pc-stats': CustomEvent<PcStatsDetail>;
    'pc-console-data': CustomEvent<PcConsoleDataDetail>;
    'pc-display-mode': CustomEvent<PcDisplayModeDetail>;
  }
}

/** Dispatches a bubbling, composed CustomEvent. */
export function emit<T>(target: EventTarget, name: string, detail: T): CustomEvent<T> {
  const event = new CustomEvent<T>(name, { detail, bubbles: true, composed: true });
  target.dispatchEvent(event);
  return event;
}
