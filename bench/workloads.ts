/**
 * The benchmark's workloads: what runs in the guest shell, how big it is at each size, and how
 * its output is checked (a run whose output is wrong counts as a failure).
 */
import { createHash } from 'node:crypto';

export type WorkloadKind = 'boot' | 'shell' | 'cpu';

export interface Workload {
  name: string;
  /** Label in the table. */
  title: (size: Size) => string;
  kind: WorkloadKind;
  /** The shell command (kind 'shell'). */
  command?: (size: Size) => string;
  /** Bytes the command moves, for a MB/s figure. */
  bytes?: (size: Size) => number;
  /** What is wrong with the output (or null when it is right). */
  check?: (output: string, size: Size) => string | null;
  /** Figures worth keeping from the output (what the guest itself measured, checksums). */
  details?: (output: string) => Record<string, string>;
  /** Host time allowed before the workload counts as 'timeout'. */
  timeoutMs: (size: Size) => number;
  /** Whether the native x86-64 column runs it. */
  native: boolean;
}

const MiB = 1 << 20;

/**
 * Workload sizes. 'full' is the original specification (dd 256 MiB, a 200,000-iteration loop,
 * sha256sum of 16 MiB, gzip of `seq 1 200000`); the default scales the three longest down so
 * that a run of pc-machine or v86 takes minutes rather than most of an hour; 'quick' is a fast
 * check that everything works.
 */
export type Size = 'quick' | 'default' | 'full';

const SIZES = {
  quick: { dd: 32, loop: 5_000, sha: 1, seq: 5_000, frames: 1 },
  default: { dd: 256, loop: 20_000, sha: 4, seq: 20_000, frames: 5 },
  full: { dd: 256, loop: 200_000, sha: 16, seq: 200_000, frames: 5 },
} as const;

/** Compressed size of `seq 1 N | gzip -6` at each size (busybox 1.35, the guest's and the native one). */
const GZIP_BYTES: Record<Size, number> = { quick: 11115, default: 45004, full: 428472 };

const ddCount = (size: Size) => SIZES[size].dd;
const loopCount = (size: Size) => SIZES[size].loop;
const shaMiB = (size: Size) => SIZES[size].sha;
const seqCount = (size: Size) => SIZES[size].seq;
const fbFrames = (size: Size) => SIZES[size].frames;

const shellTimeout = (size: Size) => ({ quick: 120_000, default: 300_000, full: 1_200_000 })[size];

function sha256OfZeros(mib: number): string {
  return createHash('sha256').update(Buffer.alloc(mib * MiB)).digest('hex');
}

function firstMatch(output: string, re: RegExp): string | undefined {
  return re.exec(output)?.[1];
}

export const WORKLOADS: Workload[] = [
  {
    name: 'boot',
    title: () => 'boot to shell prompt',
    kind: 'boot',
    timeoutMs: () => 300_000,
    native: false,
  },
  {
    name: 'noop',
    title: () => 'round trip (true)',
    kind: 'shell',
    command: () => 'true',
    timeoutMs: () => 60_000,
    native: true,
  },
  {
    name: 'dd',
    title: (size) => `dd ${ddCount(size)} MiB to /dev/null`,
    kind: 'shell',
    command: (size) => `dd if=/dev/zero of=/dev/null bs=1M count=${ddCount(size)}`,
    bytes: (size) => ddCount(size) * MiB,
    check: (out, size) => (out.includes(`${ddCount(size)}+0 records out`) ? null : 'dd did not copy every block'),
    details: (out): Record<string, string> => {
      const rate = firstMatch(out, /copied, [^,]*, ([\d.]+\s*[KMG]?B\/s)/);
      return rate ? { guestReportedRate: rate } : {};
    },
    timeoutMs: shellTimeout,
    native: true,
  },
  {
    name: 'loop',
    title: (size) => `shell loop ${loopCount(size).toLocaleString('en')}`,
    kind: 'shell',
    command: (size) => `i=0; while [ $i -lt ${loopCount(size)} ]; do i=$((i+1)); done; echo $i`,
    check: (out, size) => (out.trim() === String(loopCount(size)) ? null : `expected ${loopCount(size)}, got ${JSON.stringify(out.trim().slice(0, 80))}`),
    timeoutMs: shellTimeout,
    native: true,
  },
  {
    name: 'sha256',
    title: (size) => `sha256sum ${shaMiB(size)} MiB`,
    kind: 'shell',
    command: (size) => `dd if=/dev/zero bs=1M count=${shaMiB(size)} 2>/dev/null | sha256sum`,
    bytes: (size) => shaMiB(size) * MiB,
    check: (out, size) => (out.includes(sha256OfZeros(shaMiB(size))) ? null : `wrong digest: ${JSON.stringify(out.trim().slice(0, 80))}`),
    timeoutMs: shellTimeout,
    native: true,
  },
  {
    name: 'gzip',
    title: (size) => `seq ${seqCount(size).toLocaleString('en')} | gzip -6`,
    kind: 'shell',
    command: (size) => `seq 1 ${seqCount(size)} | gzip -6 | wc -c`,
    // busybox gzip -6 of `seq 1 N` (seq counts in doubles, so a wrong x87 result shows here)
    check: (out, size) => (Number(out.trim()) === GZIP_BYTES[size] ? null : `expected ${GZIP_BYTES[size]} bytes, got ${JSON.stringify(out.trim().slice(0, 80))}`),
    details: (out) => ({ compressedBytes: out.trim() }),
    timeoutMs: shellTimeout,
    native: true,
  },
  {
    name: 'fpbench',
    title: () => 'pcm-fpbench 1 (x87)',
    kind: 'shell',
    command: () => 'pcm-fpbench 1',
    check: (out) => (out.includes('879683 iterations') ? null : 'wrong Mandelbrot count'),
    details: (out): Record<string, string> => {
      const total = firstMatch(out, /total ([\d.]+) s/);
      return total ? { guestReportedSeconds: total } : {};
    },
    timeoutMs: shellTimeout,
    native: true,
  },
  {
    name: 'fbdemo',
    title: (size) => `pcm-fbdemo --headless ${fbFrames(size)} (x87)`,
    kind: 'shell',
    command: (size) => `pcm-fbdemo --headless ${fbFrames(size)}`,
    check: (out, size) => {
      if (!/checksum [0-9a-f]{8}/.test(out)) return 'no checksum printed';
      if (fbFrames(size) === 5 && !out.includes('checksum 737ec95b')) return 'wrong checksum (expected 737ec95b)';
      return null;
    },
    details: (out) => {
      const sum = firstMatch(out, /checksum ([0-9a-f]{8})/);
      const secs = firstMatch(out, /checksum [0-9a-f]{8}, ([\d.]+) s/);
      return { ...(sum ? { checksum: sum } : {}), ...(secs ? { guestReportedSeconds: secs } : {}) };
    },
    timeoutMs: shellTimeout,
    native: true,
  },
  {
    name: 'cpu-loop',
    title: () => 'CPU loop, paging off',
    kind: 'cpu',
    timeoutMs: () => 300_000,
    native: false,
  },
  {
    name: 'cpu-loop-paged',
    title: () => 'CPU loop, paging on',
    kind: 'cpu',
    timeoutMs: () => 300_000,
    native: false,
  },
  {
    name: 'cpu-loop-interp',
    title: () => 'CPU loop, interpreter only',
    kind: 'cpu',
    timeoutMs: () => 300_000,
    native: false,
  },
];

export function workloadByName(name: string): Workload {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w) throw new Error(`unknown workload '${name}'`);
  return w;
}
