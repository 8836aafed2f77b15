/**
 * One benchmark run of one emulator, in a process of its own (a fresh JavaScript heap and JIT for
 * every run, and a hung emulator can be killed without taking the harness down). Started by
 * `bench/main.ts` with its configuration as JSON in argv; reports over the IPC channel.
 */
import { loadavg } from 'node:os';
import { ConsoleTimeout, TimedConsole } from './console';
import { runCpuLoop, cpuLoopOptions } from './cpu-loop';
import { killDriverNow, makeDriver, type Counters, type Driver, type EmulatorName } from './drivers';
import { workloadByName, type Size, type Workload } from './workloads';

export interface ChildConfig {
  emulator: EmulatorName;
  workloads: string[];
  size: Size;
  repoRoot: string;
  nativeBin?: string;
}

export type RunStatus = 'ok' | 'fail' | 'timeout';

export interface RunResult {
  emulator: EmulatorName;
  workload: string;
  status: RunStatus;
  /** Host wall-clock ms (for 'cpu' workloads: the timed chunks' total). */
  ms?: number;
  error?: string;
  /** Guest instructions executed during the workload (pc-machine, v86). */
  instructions?: number;
  /** pc-machine: host ms spent executing guest code during the workload. */
  busyMs?: number;
  /** pc-machine, v86: CPU time of the emulator's thread during the workload (ms). */
  cpuMs?: number;
  /** 'cpu' workloads: median MIPS per CPU second (`cpuTime`) or per wall second, the median per
   * wall second, and the per-chunk figures. */
  mips?: number;
  wallMips?: number;
  chunkMips?: number[];
  chunkWallMips?: number[];
  cpuTime?: boolean;
  details?: Record<string, string>;
  /** 1-minute load average when the workload started. */
  load1: number;
}

export type ChildMessage = { type: 'result'; result: RunResult } | { type: 'done' };

function report(result: RunResult): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      process.stdout.write(JSON.stringify(result) + '\n');
      resolve();
      return;
    }
    process.send({ type: 'result', result } satisfies ChildMessage, undefined, {}, () => resolve());
  });
}

function delta(after: Counters, before: Counters): Pick<RunResult, 'instructions' | 'busyMs' | 'cpuMs'> {
  const r: Pick<RunResult, 'instructions' | 'busyMs' | 'cpuMs'> = {};
  if (after.instructions !== undefined && before.instructions !== undefined) r.instructions = after.instructions - before.instructions;
  if (after.busyMs !== undefined && before.busyMs !== undefined) r.busyMs = after.busyMs - before.busyMs;
  if (after.cpuMs !== undefined && before.cpuMs !== undefined) r.cpuMs = after.cpuMs - before.cpuMs;
  return r;
}

async function runCpuWorkload(cfg: ChildConfig, w: Workload): Promise<void> {
  const load1 = loadavg()[0];
  try {
    const r = runCpuLoop(cpuLoopOptions(cfg.size === 'quick', w.name === 'cpu-loop-paged', w.name === 'cpu-loop-interp'));
    await report({
      emulator: cfg.emulator, workload: w.name, status: 'ok', ms: r.timedMs, mips: r.mips, wallMips: r.wallMips,
      chunkMips: r.chunkMips, chunkWallMips: r.chunkWallMips, cpuTime: r.cpuTime,
      instructions: r.instructions, load1,
    });
  } catch (e) {
    await report({ emulator: cfg.emulator, workload: w.name, status: 'fail', error: (e as Error).message, load1 });
  }
}

async function runEmulator(cfg: ChildConfig, workloads: Workload[]): Promise<void> {
  const driver: Driver = makeDriver(cfg.emulator, { repoRoot: cfg.repoRoot, nativeBin: cfg.nativeBin });
  const onSignal = () => {
    killDriverNow(driver);
    process.exit(1);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('disconnect', onSignal);

  const console_ = new TimedConsole((t) => driver.send(t), driver.eol);
  const base = { emulator: cfg.emulator };
  const shell = workloads.filter((w) => w.kind === 'shell');
  const failRest = async (from: number, error: string) => {
    for (const w of shell.slice(from)) await report({ ...base, workload: w.name, status: 'fail', error, load1: loadavg()[0] });
  };

  await driver.prepare();
  const bootWl = workloads.find((w) => w.kind === 'boot');
  const bootTimeout = workloadByName('boot').timeoutMs(cfg.size);
  const load1 = loadavg()[0];
  const bootBefore = driver.counters();
  const t0 = performance.now();
  try {
    await driver.start(
      (text) => console_.feed(text),
      (reason) => console_.close(reason),
    );
  } catch (e) {
    const error = `could not start: ${(e as Error).message}`;
    if (bootWl) await report({ ...base, workload: 'boot', status: 'fail', error, load1 });
    await failRest(0, error);
    return;
  }
  try {
    const at = await console_.waitForPrompt(driver.boots ? bootTimeout : 30_000);
    if (bootWl && driver.boots) {
      await report({ ...base, workload: 'boot', status: 'ok', ms: at - t0, ...delta(driver.counters(), bootBefore), load1 });
    }
  } catch (e) {
    const timeout = e instanceof ConsoleTimeout;
    const error = `${(e as Error).message}; console tail: ${JSON.stringify(console_.tail.slice(-300))}`;
    if (bootWl && driver.boots) await report({ ...base, workload: 'boot', status: timeout ? 'timeout' : 'fail', error, load1 });
    await failRest(0, 'no shell prompt');
    await driver.stop();
    return;
  }

  for (let i = 0; i < shell.length; i++) {
    const w = shell[i];
    const size = cfg.size;
    const load = loadavg()[0];
    const before = driver.counters();
    try {
      const r = await console_.exec(w.command!(size), w.timeoutMs(size));
      const counters = delta(driver.counters(), before);
      const problem = r.status !== 0 ? `exit status ${r.status}: ${r.output.slice(-200)}` : (w.check?.(r.output, size) ?? null);
      const details = w.details?.(r.output);
      await report({
        ...base, workload: w.name, status: problem ? 'fail' : 'ok', ms: r.doneAt - r.sentAt,
        ...(problem ? { error: problem } : {}), ...counters, ...(details && Object.keys(details).length ? { details } : {}), load1: load,
      });
    } catch (e) {
      const timeout = e instanceof ConsoleTimeout;
      await report({ ...base, workload: w.name, status: timeout ? 'timeout' : 'fail', error: (e as Error).message, load1: load });
      if (!timeout || !(await console_.interrupt())) {
        await failRest(i + 1, `skipped: the guest did not recover after '${w.name}'`);
        break;
      }
    }
  }
  await driver.stop();
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]) as ChildConfig;
  const workloads = cfg.workloads.map(workloadByName);
  const cpu = workloads.filter((w) => w.kind === 'cpu');
  for (const w of cpu) await runCpuWorkload(cfg, w);
  if (workloads.some((w) => w.kind !== 'cpu')) await runEmulator(cfg, workloads.filter((w) => w.kind !== 'cpu'));
  if (process.send) process.send({ type: 'done' } satisfies ChildMessage, undefined, {}, () => process.exit(0));
  else process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`bench child: ${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
});
