/**
 * CPU time of the calling thread, from Linux's /proc/thread-self/schedstat (nanoseconds on a
 * CPU). Unlike wall time it does not grow while the thread waits for a core, so figures based on
 * it are much steadier on a loaded host. Null where it is not available.
 */
import { readFileSync } from 'node:fs';

let available: boolean | null = null;

export function threadCpuMs(): number | null {
  if (available === false) return null;
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
    available = Number.isFinite(ns);
    return available ? ns / 1e6 : null;
  } catch {
    available = false;
    return null;
  }
}
