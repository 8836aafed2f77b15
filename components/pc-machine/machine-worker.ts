/**
 * The module worker that runs one pc-machine core for a `<pc-machine>` element.
 * Protocol: see ./protocol.ts. Nothing thrown here reaches the page: messages, machine callbacks,
 * timers and stray promise rejections all end up as `error` messages.
 */

import { MachineConfigError, PcMachine } from '../../src/machine/pc';
import { BootImageError } from '../../src/boot/bzimage';
import { inflateInitrds } from '../../src/boot/initrd';
import { inflateKernel, type KernelElf } from '../../src/boot/kernel-elf';
import { MachineHost } from './machine-host';
import type { FromWorker, ToWorker } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;

const host = new MachineHost(
  (config) => new PcMachine(config, { kernelElf: preparedKernel }),
  (message: FromWorker, transfer?: Transferable[]) => scope.postMessage(message, transfer ?? []),
  {
    classifyBootError: (err) =>
      err instanceof BootImageError ? 'image' : err instanceof MachineConfigError ? 'attribute' : 'machine',
  },
);

/**
 * Messages are handled strictly in order. A boot first inflates gzip initrds and the kernel's
 * gzip payload on the host (src/boot/initrd.ts, src/boot/kernel-elf.ts), which is asynchronous,
 * so later messages wait in this chain.
 */
let inbox: Promise<void> = Promise.resolve();
/** The kernel image inflated for the boot being handled (null: boot the bzImage as it is). */
let preparedKernel: KernelElf | null = null;

async function prepare(msg: ToWorker): Promise<ToWorker> {
  if (msg.type !== 'boot') return msg;
  const [initrd, kernel] = await Promise.all([
    inflateInitrds(msg.config.initrd.map((b) => new Uint8Array(b))),
    // a bad bzImage is reported by the machine itself, with the other boot errors
    inflateKernel(new Uint8Array(msg.config.kernel)).catch(() => null),
  ]);
  preparedKernel = kernel;
  return { ...msg, config: { ...msg.config, initrd: initrd.map((b) => b.buffer as ArrayBuffer) } };
}

scope.addEventListener('message', (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  inbox = inbox.then(() => prepare(msg)).then((m) => host.handle(m)).catch((err: unknown) => host.fail(err));
});

scope.addEventListener('messageerror', () => {
  host.fail(new Error('a message from the page could not be read'));
});

scope.addEventListener('error', (event: ErrorEvent) => {
  event.preventDefault();
  host.fail(event.error ?? new Error(event.message || 'uncaught error in the machine worker'));
});

scope.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
  event.preventDefault();
  host.fail(event.reason);
});
