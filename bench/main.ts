/**
 * `npm run bench`: the committed guest images in pc-machine, v86 and QEMU (and the same work as
 * native x86-64 programs), one after another, each run in a fresh process; prints a table of
 * medians and writes bench/results/latest.json plus a dated copy.
 */
import { fork, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildConfig, ChildMessage, RunResult, RunStatus } from './child';
import { EMULATORS, EMULATOR_TITLES, type EmulatorName } from './drivers';
import { WORKLOADS, type Size, type Workload } from './workloads';

const USAGE = `usage: npm run bench -- [options]

  --runs N           runs per emulator; each run boots once and runs every workload once;
                     the table shows the median of the N runs (default 3)
  --only LIST        emulators, comma-separated: ${EMULATORS.join(',')} (default: all)
  --workloads LIST   workloads, comma-separated: ${WORKLOADS.map((w) => w.name).join(',')}
                     (default: all)
  --quick            smaller workloads and one run (unless --runs), for a fast check
  --full             the full-size workloads: a 200,000-iteration shell loop, sha256sum of
                     16 MiB, gzip of seq 1 200000 (default: 20,000, 4 MiB, 20,000)
  --no-save          do not write bench/results/
  -h, --help         this help`;

interface Options {
  runs: number;
  emulators: EmulatorName[];
  workloads: Workload[];
  size: Size;
  save: boolean;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      only: { type: 'string' },
      workloads: { type: 'string' },
      quick: { type: 'boolean' },
      full: { type: 'boolean' },
      'no-save': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  if (values.quick && values.full) throw new Error('--quick and --full exclude each other');
  const quick = values.quick ?? false;
  const size: Size = quick ? 'quick' : values.full ? 'full' : 'default';
  const runs = values.runs === undefined ? (quick ? 1 : 3) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`--runs must be a whole number from 1 to 50 (got '${values.runs}')`);
  const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : null);
  const only = list(values.only);
  for (const e of only ?? []) if (!EMULATORS.includes(e as EmulatorName)) throw new Error(`unknown emulator '${e}' (known: ${EMULATORS.join(', ')})`);
  const names = list(values.workloads);
  for (const w of names ?? []) if (!WORKLOADS.some((x) => x.name === w)) throw new Error(`unknown workload '${w}' (known: ${WORKLOADS.map((x) => x.name).join(', ')})`);
  return {
    runs,
    emulators: only ? EMULATORS.filter((e) => only.includes(e)) : [...EMULATORS],
    workloads: names ? WORKLOADS.filter((w) => names.includes(w.name)) : [...WORKLOADS],
    size,
    save: !values['no-save'],
  };
}

function firstLine(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim();
  } catch {
    return null;
  }
}

function uptime(): string {
  return firstLine('uptime', []) ?? `load average: ${loadavg().map((x) => x.toFixed(2)).join(', ')}`;
}

/** Emulator availability: null when usable, else why not. */
interface Setup {
  unavailable: Partial<Record<EmulatorName, string>>;
  nativeBin?: string;
  versions: Record<string, string>;
  cleanup: () => void;
}

function setUp(opts: Options, repoRoot: string): Setup {
  const unavailable: Setup['unavailable'] = {};
  const versions: Record<string, string> = { node: process.version };
  const cleanups: (() => void)[] = [];
  const want = (e: EmulatorName) => opts.emulators.includes(e);

  try {
    versions.v86 = (JSON.parse(readFileSync(join(repoRoot, 'node_modules/v86/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    if (want('v86')) unavailable.v86 = 'npm package v86 not installed';
  }
  for (const f of ['/usr/share/seabios/bios.bin', '/usr/share/seabios/vgabios-stdvga.bin']) {
    if (want('v86') && !existsSync(f)) unavailable.v86 = `${f} missing (Debian package seabios)`;
  }
  const qemu = firstLine('qemu-system-i386', ['--version']);
  if (qemu) versions.qemu = qemu;
  else if (want('qemu')) unavailable.qemu = 'qemu-system-i386 not found (Debian package qemu-system-x86)';

  if (want('native') && opts.workloads.some((w) => w.native)) {
    const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
    const gcc = firstLine('gcc', ['--version']);
    if (!busybox) unavailable.native = 'no native busybox (Debian package busybox)';
    else {
      const dir = mkdtempSync(join(tmpdir(), 'pc-machine-bench-native-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      symlinkSync(busybox, join(dir, 'busybox'));
      const inst = spawnSync(busybox, ['--install', '-s', dir], { encoding: 'utf8' });
      if (inst.status !== 0) unavailable.native = `busybox --install failed: ${inst.stderr}`;
      versions.busybox = firstLine(busybox, []) ?? 'busybox';
      // The guest programs, compiled for the host (x87 floating point, as in the guest).
      for (const prog of ['pcm-fpbench', 'pcm-fbdemo']) {
        if (!gcc) break;
        const r = spawnSync('gcc', ['-O2', '-mfpmath=387', '-o', join(dir, prog), join(repoRoot, `images/programs/${prog}.c`), '-lm'], { encoding: 'utf8' });
        if (r.status !== 0) process.stderr.write(`bench: could not compile ${prog} for the host: ${r.stderr}\n`);
      }
      if (gcc) versions.gcc = gcc;
      if (!unavailable.native) return finish(dir);
    }
  }
  return finish(undefined);

  function finish(nativeBin: string | undefined): Setup {
    return { unavailable, nativeBin, versions, cleanup: () => cleanups.splice(0).forEach((f) => f()) };
  }
}

/** Run one child process; resolves with every result it reported (missing ones filled in as failures). */
function runChild(childPath: string, cfg: ChildConfig, timeoutMs: number, onResult: (r: RunResult) => void): Promise<RunResult[]> {
  return new Promise((resolve) => {
    const results: RunResult[] = [];
    let stderr = '';
    const child = fork(childPath, [JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    child.stdout!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, timeoutMs);
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'result') {
        results.push(m.result);
        onResult(m.result);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      for (const w of cfg.workloads) {
        if (results.some((r) => r.workload === w)) continue;
        const r: RunResult = {
          emulator: cfg.emulator, workload: w, status: timedOut ? 'timeout' : 'fail', load1: loadavg()[0],
          error: timedOut ? 'the run took too long and was stopped' : `the benchmark process ended (${signal ?? code}) before this workload: ${stderr.trim().slice(-500)}`,
        };
        results.push(r);
        onResult(r);
      }
      resolve(results);
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Summary {
  status: RunStatus | 'n/a';
  runs: number;
  ok: number;
  /** Median wall ms. */
  ms?: number;
  /** 'cpu' workloads: median MIPS per thread CPU second (or per wall second where unavailable). */
  mips?: number;
  /** Median guest MIPS per wall second. */
  wallMips?: number;
  instructions?: number;
  /** pc-machine: median host ms inside `cpu.run`, and median MIPS per such ms. */
  busyMs?: number;
  busyMips?: number;
  /** Median MIPS per CPU second of the emulator's thread. */
  cpuMips?: number;
  mbPerSec?: number;
  note?: string;
}

function summarise(w: Workload, runs: RunResult[], size: Size, na?: string): Summary {
  if (na !== undefined) return { status: 'n/a', runs: 0, ok: 0, note: na };
  const ok = runs.filter((r) => r.status === 'ok');
  if (ok.length === 0) {
    const status = runs.some((r) => r.status === 'timeout') ? 'timeout' : 'fail';
    return { status, runs: runs.length, ok: 0, note: runs.find((r) => r.error)?.error };
  }
  const s: Summary = { status: 'ok', runs: runs.length, ok: ok.length };
  if (w.kind === 'cpu') {
    s.mips = median(ok.map((r) => r.mips!));
    s.wallMips = median(ok.map((r) => r.wallMips ?? r.mips!));
    return s;
  }
  s.ms = median(ok.map((r) => r.ms!));
  if (w.bytes) s.mbPerSec = w.bytes(size) / 1e6 / (s.ms / 1000);
  const withInstr = ok.filter((r) => r.instructions !== undefined);
  if (withInstr.length) {
    s.instructions = median(withInstr.map((r) => r.instructions!));
    s.wallMips = median(withInstr.map((r) => r.instructions! / r.ms! / 1000));
    const busy = withInstr.filter((r) => r.busyMs !== undefined && r.busyMs > 0);
    if (busy.length) {
      s.busyMs = median(busy.map((r) => r.busyMs!));
      s.busyMips = median(busy.map((r) => r.instructions! / r.busyMs! / 1000));
    }
    const cpu = withInstr.filter((r) => r.cpuMs !== undefined && r.cpuMs > 0);
    if (cpu.length) s.cpuMips = median(cpu.map((r) => r.instructions! / r.cpuMs! / 1000));
  }
  if (ok.length < runs.length) s.note = runs.find((r) => r.status !== 'ok')?.error;
  return s;
}

function fmtTime(ms: number): string {
  if (ms >= 100_000) return `${(ms / 1000).toFixed(0)} s`;
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms.toFixed(ms >= 100 ? 0 : 1)} ms`;
}

function fmtNum(x: number): string {
  if (x >= 1000) return x.toFixed(0);
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function cell(s: Summary | undefined, value: (s: Summary) => string | null): string {
  if (!s) return '';
  if (s.status !== 'ok') return s.status;
  const v = value(s);
  if (v === null) return 'n/a';
  return s.ok < s.runs ? `${v} (${s.ok}/${s.runs})` : v;
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(b > 0)) return '';
  const r = a / b;
  return `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;
}

function renderTable(rows: string[][], rightFrom = 1): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r, i) => {
      const line = r.map((v, c) => (c < rightFrom ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

export async function main(argv: string[], env: { repoRoot: string; childPath: string }): Promise<number> {
  let opts: Options | null;
  try {
    opts = parseOptions(argv);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (!opts) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const { repoRoot, childPath } = env;
  const startedAt = new Date();
  const uptimeStart = uptime();
  const setup = setUp(opts, repoRoot);
  process.once('exit', () => setup.cleanup());
  const o = opts;

  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(
    `pc-machine benchmark (${o.size} size): ${o.runs} run${o.runs > 1 ? 's' : ''}; ` +
      `emulators: ${o.emulators.join(', ')}; workloads: ${o.workloads.map((w) => w.name).join(', ')}\n` +
      `host: ${cpuModel}, ${cpus().length} cores, Linux ${release()}, Node ${process.version}\n` +
      `uptime at start: ${uptimeStart}\n`,
  );
  for (const [e, why] of Object.entries(setup.unavailable)) process.stdout.write(`${e}: not run (${why})\n`);

  const results: Record<string, Record<string, RunResult[]>> = {};
  for (const e of o.emulators) results[e] = {};
  const applies = (e: EmulatorName, w: Workload) => (e === 'native' ? w.native : w.kind === 'cpu' ? e === 'pc-machine' : true);

  const onResult = (run: number) => (r: RunResult) => {
    (results[r.emulator][r.workload] ??= []).push(r);
    const what = r.status !== 'ok' ? `${r.status}: ${r.error ?? ''}`.slice(0, 160)
      : r.mips !== undefined ? `${r.mips.toFixed(1)} MIPS${r.cpuTime ? ' (CPU time)' : ''}, ${r.wallMips?.toFixed(1)} MIPS (wall)`
      : `${fmtTime(r.ms!)}${r.instructions !== undefined ? `, ${(r.instructions / 1e6).toFixed(0)} M instructions` : ''}`;
    process.stdout.write(`  run ${run}/${o.runs}  ${r.emulator.padEnd(10)}  ${r.workload.padEnd(14)}  ${what}  (load ${r.load1.toFixed(2)})\n`);
  };

  try {
    for (let run = 1; run <= o.runs; run++) {
      for (const e of o.emulators) {
        if (setup.unavailable[e]) continue;
        const ws = o.workloads.filter((w) => applies(e, w));
        // The CPU micro-benchmark gets a fresh process per workload; the emulator one per run.
        const groups = [...ws.filter((w) => w.kind === 'cpu').map((w) => [w]), ws.filter((w) => w.kind !== 'cpu')].filter((g) => g.length);
        for (const group of groups) {
          const cfg: ChildConfig = { emulator: e, workloads: group.map((w) => w.name), size: o.size, repoRoot, nativeBin: setup.nativeBin };
          const limit = group.reduce((t, w) => t + w.timeoutMs(o.size) + 40_000, 60_000);
          await runChild(childPath, cfg, limit, onResult(run));
        }
      }
    }
  } finally {
    setup.cleanup();
  }
  const uptimeEnd = uptime();

  // Summaries and the table.
  const summaries: Record<string, Record<string, Summary>> = {};
  for (const e of o.emulators) {
    summaries[e] = {};
    for (const w of o.workloads) {
      const na = setup.unavailable[e] ? `not run: ${setup.unavailable[e]}` : !applies(e, w) ? 'not applicable' : undefined;
      summaries[e][w.name] = summarise(w, results[e][w.name] ?? [], o.size, na);
    }
  }
  const has = (e: EmulatorName) => o.emulators.includes(e);
  const ratioCols = (['v86', 'native', 'qemu'] as EmulatorName[]).filter((e) => has('pc-machine') && has(e));
  const ratioTitle: Record<string, string> = { v86: 'pc/v86', native: 'pc/native', qemu: 'pc/QEMU' };
  const header = ['workload (median wall time)', ...o.emulators.map((e) => EMULATOR_TITLES[e]), ...ratioCols.map((e) => ratioTitle[e])];
  const rows: string[][] = [header];
  for (const w of o.workloads.filter((x) => x.kind !== 'cpu')) {
    const pc = summaries['pc-machine']?.[w.name];
    rows.push([
      w.title(o.size),
      ...o.emulators.map((e) => cell(summaries[e][w.name], (s) => (s.ms !== undefined ? fmtTime(s.ms) : null))),
      ...ratioCols.map((e) => ratio(pc?.status === 'ok' ? pc.ms : undefined, summaries[e][w.name].status === 'ok' ? summaries[e][w.name].ms : undefined)),
    ]);
    if (w.bytes) {
      rows.push([
        '  throughput, MB/s',
        ...o.emulators.map((e) => cell(summaries[e][w.name], (s) => (s.mbPerSec !== undefined ? fmtNum(s.mbPerSec) : null))),
        ...ratioCols.map(() => ''),
      ]);
    }
  }
  const shellWls = o.workloads.filter((x) => x.kind !== 'cpu');
  let out = '';
  if (shellWls.length) {
    out += `\n${renderTable(rows)}\n`;
    if (ratioCols.length) out += `Ratios: pc-machine's time divided by the other's (how many times slower pc-machine is).\n`;
  }

  // Guest instructions: pc-machine and v86 count them.
  const instrEmus = (['pc-machine', 'v86'] as EmulatorName[]).filter((e) => has(e) && !setup.unavailable[e]);
  if (instrEmus.length && shellWls.length) {
    const h = ['guest instructions (median)'];
    for (const e of instrEmus) {
      h.push(`${e} instr`);
      if (e === 'pc-machine') h.push('busy/wall', 'MIPS busy');
      h.push('MIPS wall', 'MIPS CPU');
    }
    const irows: string[][] = [h];
    for (const w of shellWls) {
      const r = [w.title(o.size)];
      for (const e of instrEmus) {
        const s = summaries[e][w.name];
        const ok = s.status === 'ok' && s.instructions !== undefined;
        const num = (x: number | undefined) => (ok && x !== undefined ? fmtNum(x) : '');
        r.push(ok ? `${(s.instructions! / 1e6).toFixed(0)} M` : s.status === 'ok' ? 'n/a' : s.status);
        if (e === 'pc-machine') {
          r.push(ok && s.busyMs !== undefined && s.ms ? `${((100 * s.busyMs) / s.ms).toFixed(0)}%` : '');
          r.push(num(s.busyMips));
        }
        r.push(num(s.wallMips), num(s.cpuMips));
      }
      irows.push(r);
    }
    out += `\n${renderTable(irows)}\n`;
    out +=
      `busy: pc-machine's host time inside cpu.run() (the rest is devices, idle sleeps, the event loop). ` +
      `MIPS CPU: per second of the emulator thread's CPU time, which a loaded host disturbs least.\n`;
  }

  const cpuWls = o.workloads.filter((w) => w.kind === 'cpu');
  if (cpuWls.length && has('pc-machine')) {
    const crows: string[][] = [['CPU micro-benchmark', 'MIPS CPU', 'chunks min..max', 'MIPS wall']];
    for (const w of cpuWls) {
      const s = summaries['pc-machine'][w.name];
      const all = (results['pc-machine'][w.name] ?? []).filter((r) => r.status === 'ok').flatMap((r) => r.chunkMips ?? []);
      crows.push([
        w.title(o.size),
        cell(s, (x) => (x.mips !== undefined ? x.mips.toFixed(1) : null)),
        all.length ? `${Math.min(...all).toFixed(1)}..${Math.max(...all).toFixed(1)}` : '',
        cell(s, (x) => (x.wallMips !== undefined ? x.wallMips.toFixed(1) : null)),
      ]);
    }
    out += `\n${renderTable(crows)}\n`;
    out += `Median of the timed chunks; MIPS CPU per second of the thread's CPU time (/proc/thread-self/schedstat).\n`;
  }

  const notes: string[] = [];
  for (const e of o.emulators) {
    for (const w of o.workloads) {
      const s = summaries[e][w.name];
      if (s.status !== 'n/a' && s.note) notes.push(`${e} ${w.name}: ${s.note.slice(0, 300)}`);
    }
  }
  if (notes.length) out += `\nfailures:\n${notes.map((n) => `  ${n}`).join('\n')}\n`;
  out += `\nuptime at start: ${uptimeStart}\nuptime at end:   ${uptimeEnd}\n`;
  process.stdout.write(out);

  if (o.save) {
    const dir = join(repoRoot, 'bench/results');
    mkdirSync(dir, { recursive: true });
    const doc = {
      date: startedAt.toISOString(),
      size: o.size,
      runs: o.runs,
      emulators: o.emulators,
      workloads: o.workloads.map((w) => ({ name: w.name, title: w.title(o.size), command: w.command?.(o.size) ?? null })),
      host: {
        cpu: cpuModel,
        cores: cpus().length,
        memoryBytes: totalmem(),
        kernel: release(),
        node: process.version,
        uptimeStart,
        uptimeEnd,
        loadAverageEnd: loadavg(),
      },
      versions: setup.versions,
      unavailable: setup.unavailable,
      summary: summaries,
      runsDetail: results,
      table: out.trim(),
    };
    const json = JSON.stringify(doc, null, 2) + '\n';
    const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
    writeFileSync(join(dir, 'latest.json'), json);
    writeFileSync(join(dir, `${stamp}${o.size === 'default' ? '' : `-${o.size}`}.json`), json);
    process.stdout.write(`results: bench/results/latest.json, bench/results/${stamp}${o.size === 'default' ? '' : `-${o.size}`}.json\n`);
  }
  // Failures and timeouts are results (shown in the table), not errors of the benchmark.
  return 0;
}
