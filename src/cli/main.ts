/**
 * The Node runner:
 *   pc-machine [--kernel F] [--initrd F]... [--append S] [--memory MiB]   boot with the console on this terminal
 *   pc-machine exec [options] -- CMD...                                    boot, run CMD, print its output, exit with its status
 * A thin shell around the core: arguments, files, the terminal.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BootImageError } from '../boot/bzimage';
import { ConsoleSession } from '../machine/console-session';
import { MachineConfigError, PcMachine } from '../machine/pc';
import type { HaltReason, MachineConfig } from '../machine/types';

export const DEFAULT_CMDLINE = 'console=ttyS0';
const IMAGES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../images');

const USAGE = `usage: pc-machine [options]              boot the guest with its serial console on this terminal
       pc-machine exec [options] -- CMD  boot, run CMD in the guest shell, print its output, exit with its status

options:
  --kernel FILE    bzImage to boot (default: images/bzImage)
  --initrd FILE    initramfs archive; repeat to concatenate several (default: images/initramfs.cpio.gz)
  --append TEXT    kernel command line (default: "${DEFAULT_CMDLINE}")
  --memory MIB     RAM in MiB, 16-2048 (default: 128)
  --timeout SEC    exec: give up after SEC seconds (default: 300)
  -h, --help       show this help

In the console: Ctrl-A x quits, Ctrl-A c prints machine statistics, Ctrl-A Ctrl-A sends Ctrl-A.`;

export class UsageError extends Error {}

export interface CliOptions {
  mode: 'console' | 'exec';
  config: MachineConfig;
  command: string;
  timeoutMs: number;
}

function readInput(path: string, what: string): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${what} ${path} is not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${what} ${path}: no such file`);
  }
  if (size === 0) throw new UsageError(`${what} ${path} is empty`);
  return new Uint8Array(readFileSync(path));
}

export function parseCli(argv: string[]): CliOptions | 'help' {
  let mode: 'console' | 'exec' = 'console';
  let args = argv;
  if (args[0] === 'exec') {
    mode = 'exec';
    args = args.slice(1);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        kernel: { type: 'string' },
        initrd: { type: 'string', multiple: true },
        append: { type: 'string' },
        memory: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const positionals = parsed.positionals;
  if (mode === 'console' && positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (mode === 'exec' && positionals.length === 0) throw new UsageError('exec needs a command: pc-machine exec -- CMD...');
  const memory = v.memory === undefined ? 128 : Number(v.memory);
  if (!Number.isInteger(memory) || memory < 16 || memory > 2048) {
    throw new UsageError(`--memory must be a whole number of MiB between 16 and 2048 (got '${v.memory}')`);
  }
  const timeout = v.timeout === undefined ? 300 : Number(v.timeout);
  if (!(timeout > 0)) throw new UsageError(`--timeout must be a positive number of seconds (got '${v.timeout}')`);
  const kernel = readInput(v.kernel ?? resolve(IMAGES_DIR, 'bzImage'), 'kernel');
  const initrdPaths = v.initrd ?? [resolve(IMAGES_DIR, 'initramfs.cpio.gz')];
  const initrd = initrdPaths.map((p) => readInput(p, 'initrd'));
  return {
    mode,
    command: positionals.join(' '),
    timeoutMs: timeout * 1000,
    config: {
      memoryMiB: memory,
      kernel,
      initrd,
      cmdline: v.append ?? DEFAULT_CMDLINE,
      framebuffer: null,
      timeMode: 'realtime',
    },
  };
}

function describeHalt(reason: HaltReason): string {
  switch (reason.kind) {
    case 'poweroff': return 'guest powered off';
    case 'triple-fault': return `triple fault at 0x${(reason.eip >>> 0).toString(16)}`;
    case 'panic': return `guest kernel panic: ${reason.message}`;
    case 'error': return `emulator error at EIP 0x${(reason.eip >>> 0).toString(16)} (bytes ${reason.bytes}): ${reason.message}`;
  }
}

async function runConsole(opts: CliOptions): Promise<number> {
  const machine = await PcMachine.create(opts.config);
  const stdin = process.stdin;
  const out = process.stdout;
  return new Promise<number>((resolveExit) => {
    let ctrlA = false;
    const finish = (code: number, message?: string) => {
      machine.stop();
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      if (message) process.stderr.write(`\r\n[pc-machine] ${message}\r\n`);
      resolveExit(code);
    };
    machine.onSerial = (bytes) => out.write(bytes);
    machine.onHalt = (reason) => finish(reason.kind === 'poweroff' ? 0 : 1, describeHalt(reason));
    machine.onReset = (cause) => process.stderr.write(`\r\n[pc-machine] reset (${cause})\r\n`);
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.on('data', (data: Buffer) => {
      const keep: number[] = [];
      for (const b of data) {
        if (ctrlA) {
          ctrlA = false;
          if (b === 0x78 /* x */) {
            finish(0, 'quit');
            return;
          }
          if (b === 0x63 /* c */) {
            const s = machine.stats();
            process.stderr.write(
              `\r\n[pc-machine] ${s.instructions.toLocaleString('en')} instructions, ${s.mips.toFixed(1)} MIPS, up ${(s.uptimeMs / 1000).toFixed(1)} s\r\n`,
            );
            continue;
          }
          if (b === 0x01) keep.push(0x01);
          continue;
        }
        if (b === 0x01) ctrlA = true;
        else keep.push(b);
      }
      if (keep.length) machine.sendSerial(new Uint8Array(keep));
    });
    stdin.resume();
    machine.start();
  });
}

async function runExec(opts: CliOptions): Promise<number> {
  const machine = await PcMachine.create(opts.config);
  const session = new ConsoleSession((text) => machine.sendSerial(text));
  let halted: HaltReason | null = null;
  machine.onSerial = (bytes) => session.feed(bytes);
  machine.onHalt = (reason) => {
    halted = reason;
    session.fail(new Error(describeHalt(reason)));
  };
  machine.start();
  try {
    const result = await session.exec(opts.command, { timeout: opts.timeoutMs });
    process.stdout.write(result.output);
    return result.status;
  } catch (e) {
    const h = halted as HaltReason | null;
    if (h && h.kind === 'poweroff') return 0;
    process.stderr.write(`pc-machine: ${(e as Error).message}\n`);
    return 124;
  } finally {
    machine.stop();
  }
}

export async function main(argv: string[]): Promise<number> {
  let opts: CliOptions | 'help';
  try {
    opts = parseCli(argv);
    if (opts === 'help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    return opts.mode === 'exec' ? await runExec(opts) : await runConsole(opts);
  } catch (e) {
    if (e instanceof UsageError || e instanceof BootImageError || e instanceof MachineConfigError) {
      process.stderr.write(`pc-machine: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`pc-machine: internal error: ${(e as Error)?.message ?? e}\n`);
    return 70;
  }
}
