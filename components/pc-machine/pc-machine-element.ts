import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { parseBzImage } from '../../src/boot/bzimage';
import type { HaltReason, MachineStats } from '../../src/machine/types';
import '../pc-console';
import '../pc-display';
import type { PcConsoleElement } from '../pc-console/pc-console-element';
import type { PcDisplayElement } from '../pc-display/pc-display-element';
import {
  emit,
  type PcConsoleDataDetail,
  type PcErrorDetail,
  type PcErrorKind,
  type PcHaltDetail,
  type PcProgressDetail,
  type PcReadyDetail,
  type PcResetDetail,
  type PcSerialDetail,
} from '../shared/events';
import {
  DEFAULT_CMDLINE,
  DEFAULT_HEIGHT,
  DEFAULT_INITRD_URL,
  DEFAULT_KERNEL_URL,
  DEFAULT_MEMORY_MIB,
  DEFAULT_WIDTH,
  FRAMEBUFFER_RANGE,
  MEMORY_RANGE,
  READY_PROMPT,
} from './defaults';
import { download, DownloadError } from './download';
import { buildExec, cleanExecOutput, type ExecResult } from './exec';
import { OutputLog, type OutputMatch } from './output-log';
import type { BootConfig, FromWorker, ToWorker } from './protocol';
import { machineStyles } from './pc-machine.styles';
import { TerminalTextFilter } from './terminal-text';

export type MachineLayout = 'split' | 'console' | 'screen';

/**
 * `idle`: not started (or powered off); `loading`: downloading the images and creating the machine;
 * `running` / `stopped`: the machine runs or is paused; `halted`: the guest powered off or the
 * machine stopped on a fault; `error`: it could not be started (see the message).
 */
export type MachineState = 'idle' | 'loading' | 'running' | 'stopped' | 'halted' | 'error';

export interface WaitForOptions {
  /** Milliseconds before rejecting (default 30 000; 0 waits without limit). */
  timeout?: number;
  /**
   * Where in the output to start looking, as returned by {@link PcMachineElement.outputPosition}.
   * Default: only output that arrives after the call.
   */
  since?: number;
}

export interface ExecOptions {
  /** Milliseconds for the command, including waiting for the first prompt (default 60 000). */
  timeout?: number;
}

const LAYOUTS: readonly MachineLayout[] = ['split', 'console', 'screen'];

/** Kernel messages that mark how far a boot has come, for `pc-progress`. */
const BOOT_MILESTONES: readonly [text: string, fraction: number, label: string][] = [
  ['Linux version', 0.05, 'kernel started'],
  ['Unpacking initramfs', 0.3, 'unpacking the initramfs'],
  ['Freeing initrd memory', 0.55, 'initramfs unpacked'],
  ['Freeing unused kernel', 0.8, 'kernel initialised'],
  ['Run /init as init process', 0.9, 'starting init'],
];

const decoderOptions = { fatal: false } as const;

/**
 * An i686 PC running Linux in a page: downloads a kernel and initramfs, runs the emulator in a
 * module Web Worker (the page never freezes, each element has its own worker), and shows the serial
 * console (`<pc-console>`) and the framebuffer (`<pc-display>`).
 *
 * ```html
 * <pc-machine autostart memory="64" width="1024" height="768"></pc-machine>
 * ```
 *
 * @summary A PC emulator that boots Linux.
 *
 * @attr {string} kernel - URL of a bzImage (default: the bundled Linux 6.1).
 * @attr {string} initrd - Space-separated initramfs URLs, concatenated in order (default: the bundled busybox initramfs; empty for none).
 * @attr {string} cmdline - Kernel command line (default `console=tty0 console=ttyS0`).
 * @attr {number} memory - RAM in MiB, 16..2048 (default 64).
 * @attr {number} width - Framebuffer width in pixels, 64..4096 (default 1024).
 * @attr {number} height - Framebuffer height in pixels, 64..4096 (default 768).
 * @attr {boolean} autostart - Start as soon as the element is in the page.
 * @attr {'split' | 'console' | 'screen'} layout - Framebuffer and console, console only, or framebuffer only (default `split`).
 *
 * @event {CustomEvent<PcProgressDetail>} pc-progress - Download and boot progress.
 * @event {CustomEvent<PcReadyDetail>} pc-ready - The first shell prompt after a boot.
 * @event {CustomEvent<PcSerialDetail>} pc-serial - Text from the guest's serial console.
 * @event {CustomEvent<PcHaltDetail>} pc-halt - The machine stopped: poweroff, panic, triple fault or an emulator error.
 * @event {CustomEvent<PcErrorDetail>} pc-error - A bad attribute, an image that failed to load or is not a bzImage, a worker failure. Also shown in the element.
 * @event {CustomEvent<Record<string, never>>} pc-start - The machine is running.
 * @event {CustomEvent<Record<string, never>>} pc-stop - The machine is paused.
 * @event {CustomEvent<PcResetDetail>} pc-reset - The machine was reset (by `reset()` or by the guest).
 * @event {CustomEvent<MachineStats>} pc-stats - Instruction count and speed, every second while running.
 *
 * @csspart base - The grid holding screen, console and status bar.
 * @csspart screen - The framebuffer pane.
 * @csspart display - The `<pc-display>`.
 * @csspart console - The `<pc-console>`.
 * @csspart status - The status bar.
 * @csspart progress - The progress bar in the status bar.
 * @csspart error - The error message box.
 * @csspart display-canvas - The display's canvas.
 * @csspart fullscreen-button - The display's fullscreen button.
 * @csspart terminal - The console's terminal box.
 *
 * @cssproperty [--pc-machine-background=#0b0e12] - Background.
 * @cssproperty [--pc-machine-color=#d8dee9] - Text colour.
 * @cssproperty [--pc-machine-font=0.85rem/1.4 system-ui, sans-serif] - Font of the status bar and messages.
 * @cssproperty [--pc-machine-border=1px solid #2b3440] - Border.
 * @cssproperty [--pc-machine-border-radius=0.5rem] - Corner radius.
 * @cssproperty [--pc-machine-accent=#5fb878] - Running indicator and progress colour.
 * @cssproperty [--pc-machine-console-height=38%] - Console height in the stacked split layout.
 * @cssproperty [--pc-machine-console-width=42%] - Console width in the side-by-side split layout (wide elements).
 * @cssproperty [--pc-machine-gap=1px] - Gap between panes.
 * @cssproperty [--pc-machine-gap-color=#2b3440] - Colour of the gap.
 * @cssproperty [--pc-machine-status-background=#151a21] - Status bar background.
 * @cssproperty [--pc-machine-status-color=#9aa7b6] - Status bar text.
 * @cssproperty [--pc-machine-error-background=#2a1212] - Error box background.
 * @cssproperty [--pc-machine-error-color=#ffd2cc] - Error box text.
 * @cssproperty [--pc-machine-error-border=#a33a33] - Error box border.
 */
export class PcMachineElement extends LitElement {
  static override styles = machineStyles;

  /** URL of the bzImage to boot. Relative URLs resolve against the page. */
  @property() kernel = '';

  /** Space-separated initramfs URLs (concatenated). Absent: the bundled initramfs; empty: none. */
  @property() initrd: string | null = null;

  /** Kernel command line. */
  @property() cmdline = DEFAULT_CMDLINE;

  /** RAM in MiB. */
  @property({ type: Number }) memory = DEFAULT_MEMORY_MIB;

  /** Framebuffer width in pixels. */
  @property({ type: Number }) width = DEFAULT_WIDTH;

  /** Framebuffer height in pixels. */
  @property({ type: Number }) height = DEFAULT_HEIGHT;

  /** Start when connected. */
  @property({ type: Boolean }) autostart = false;

  /** What to show: framebuffer and console, console only, or framebuffer only. */
  @property({ reflect: true }) layout: MachineLayout = 'split';

  /** The machine's state. */
  @state() state: MachineState = 'idle';

  /** True from the first shell prompt after a boot until the next reset or halt. */
  @state() ready = false;

  /** The last statistics from the machine (updated every second while running). */
  @state() stats: MachineStats | null = null;

  /** Why the machine last halted. */
  @state() haltReason: HaltReason | null = null;

  @state() private errorMessage = '';
  @state() private errorTitle = '';
  @state() private progress: PcProgressDetail | null = null;

  @query('pc-console') private consoleEl!: PcConsoleElement;
  @query('pc-display') private displayEl!: PcDisplayElement;

  private worker: Worker | null = null;
  private log = new OutputLog();
  private filter = new TerminalTextFilter();
  private decoder = new TextDecoder('utf-8', decoderOptions);
  private loadAbort: AbortController | null = null;
  private startPromise: Promise<void> | null = null;
  private execChain: Promise<unknown> = Promise.resolve();
  private bootStartedAt = 0;
  private bootGeneration = 0;
  private teardownTimer: ReturnType<typeof setTimeout> | null = null;
  /** Aborted when the worker goes away: pending waits for its events reject. */
  private lifetime = new AbortController();

  /** Position just past the output received so far (for `waitFor(..., { since })`). */
  get outputPosition(): number {
    return this.log.end;
  }

  /** The plain text of the serial output since `since` (escape sequences removed; the last MiB at most). */
  output(since = 0): string {
    return this.log.slice(since);
  }

  /**
   * Starts the machine: on the first call (or after {@link powerOff}) downloads the images and
   * boots; after {@link stop} resumes; after a halt boots again. Resolves when it runs; rejects
   * with the error also reported by `pc-error`.
   */
  start(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    if (this.startPromise) return this.startPromise;
    const p = this.worker ? this.resume() : this.boot();
    this.startPromise = p.finally(() => {
      this.startPromise = null;
    });
    return this.startPromise;
  }

  /** Pauses the machine. Resolves when it has stopped. */
  async stop(): Promise<void> {
    if (this.startPromise) await this.startPromise.catch(() => {});
    if (this.state !== 'running') return;
    const done = this.nextEvent('pc-stop');
    this.post({ type: 'stop' });
    await done;
  }

  /** Resets the machine (a hardware reset: the kernel boots again). Resolves once it is reset. */
  async reset(): Promise<void> {
    if (this.startPromise) await this.startPromise.catch(() => {});
    if (!this.worker) return this.start();
    const done = this.nextEvent('pc-reset');
    this.post({ type: 'reset' });
    await done;
  }

  /** Stops and discards the machine. The next {@link start} downloads the images and boots afresh. */
  async powerOff(): Promise<void> {
    this.loadAbort?.abort();
    this.loadAbort = null;
    this.terminate(new Error('the machine was powered off'));
    this.state = 'idle';
    this.progress = null;
  }

  /** Types `text` into the serial console (as if typed on the terminal). */
  async send(text: string | Uint8Array): Promise<void> {
    if (!this.worker || this.state === 'loading') {
      throw new Error('pc-machine: the machine is not running (call start() first)');
    }
    const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text.slice();
    this.post({ type: 'serial-in', data: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
  }

  /**
   * Resolves when `pattern` shows up in the serial output (escape sequences removed), with the
   * output from the start position through the match. Rejects on timeout and when the machine halts.
   */
  async waitFor(pattern: string | RegExp, options: WaitForOptions = {}): Promise<string> {
    return (await this.waitForMatch(pattern, options)).output;
  }

  /** Like {@link waitFor}, with the match, its groups and its end position. */
  waitForMatch(pattern: string | RegExp, options: WaitForOptions = {}): Promise<OutputMatch> {
    if (this.state === 'halted' || this.state === 'error' || this.state === 'idle') {
      return Promise.reject(new Error(`pc-machine: the machine is ${this.state}`));
    }
    return this.log.waitFor(pattern, { since: options.since, timeout: options.timeout ?? 30_000 });
  }

  /**
   * Runs a one-line shell command at the prompt and resolves with what it printed and its exit
   * status. Commands run one after another. Waits for the first prompt if the guest is still booting.
   */
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const run = this.execChain.then(
      () => this.execNow(command, options),
      () => this.execNow(command, options),
    );
    this.execChain = run.catch(() => {});
    return run;
  }

  /** The framebuffer as a PNG image. */
  screenshot(): Promise<Blob> {
    return this.displayEl.screenshot();
  }

  /** Resolves at the first shell prompt (at once if there already is one). */
  whenReady(timeout = 0): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.state === 'idle' || this.state === 'error' || this.state === 'halted') {
      return Promise.reject(new Error(`pc-machine: the machine is ${this.state}`));
    }
    return this.nextEvent('pc-ready', timeout).then(() => {});
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.teardownTimer !== null) {
      clearTimeout(this.teardownTimer);
      this.teardownTimer = null;
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // Moving the element fires disconnected + connected: only a removal that lasts ends the machine.
    this.teardownTimer = setTimeout(() => {
      this.teardownTimer = null;
      if (!this.isConnected) void this.powerOff();
    }, 0);
  }

  protected override firstUpdated(): void {
    // after this update completes: starting changes state, which would schedule another update from inside this one
    if (this.autostart) void this.updateComplete.then(() => (this.isConnected ? this.start() : undefined)).catch(() => {});
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('layout') && !LAYOUTS.includes(this.layout)) {
      const bad = this.layout;
      this.layout = 'split';
      this.fail('attribute', `layout must be split, console or screen (got "${bad}")`, false);
    }
    if (changed.has('layout') && this.layout !== 'screen') requestAnimationFrame(() => this.consoleEl?.fit());
  }

  protected override render() {
    const layout = LAYOUTS.includes(this.layout) ? this.layout : 'split';
    const shownState = this.state === 'running' && !this.ready ? 'booting' : this.state;
    return html`
      <div part="base" class="base layout-${layout}">
        <div part="screen">
          <pc-display
            part="display"
            exportparts="canvas: display-canvas, fullscreen-button"
            @pc-error=${this.onDisplayError}
          ></pc-display>
        </div>
        <pc-console part="console" exportparts="terminal" @pc-console-data=${this.onConsoleData}></pc-console>
        <div part="status" class="state-${shownState}">
          <span class="dot" aria-hidden="true"></span>
          <span class="status-text" role="status">${this.statusText(shownState)}</span>
          <span class="spacer"></span>
          ${this.progress && (shownState === 'loading' || shownState === 'booting')
            ? html`<progress part="progress" max="1" .value=${this.progress.fraction}></progress>`
            : nothing}
          ${this.stats && this.state === 'running'
            ? html`<span class="mips">${this.stats.mips.toFixed(1)} MIPS</span>`
            : nothing}
        </div>
        ${this.errorMessage
          ? html`<div part="error" role="alert">
              <button type="button" aria-label="Dismiss" @click=${this.dismissError}>×</button>
              <strong>${this.errorTitle}</strong><span class="message">${this.errorMessage}</span>
            </div>`
          : nothing}
      </div>
    `;
  }

  private statusText(shown: string): string {
    switch (shown) {
      case 'idle':
        return 'Off';
      case 'loading': {
        const p = this.progress;
        if (!p) return 'Loading…';
        const mib = p.loaded !== undefined ? ` ${(p.loaded / 1048576).toFixed(1)} MiB` : '';
        return `Downloading the ${p.phase}…${mib}`;
      }
      case 'booting':
        return `Booting — ${this.progress?.phase === 'boot' ? this.progress.label : 'starting'}`;
      case 'running':
        return 'Running';
      case 'stopped':
        return 'Paused';
      case 'halted':
        return haltText(this.haltReason);
      case 'error':
        return 'Could not start';
      default:
        return shown;
    }
  }

  private dismissError = () => {
    this.errorMessage = '';
  };

  private onConsoleData = (event: CustomEvent<PcConsoleDataDetail>) => {
    event.stopPropagation();
    if (!this.worker || this.state === 'loading' || this.state === 'error') return;
    const bytes = event.detail.bytes.slice();
    this.post({ type: 'serial-in', data: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
  };

  private onDisplayError = (event: CustomEvent<PcErrorDetail>) => {
    // bubbles on out of the element as its own pc-error; show it too
    this.showError('The display failed', event.detail.message);
  };

  // --- starting ---

  private validate(): string | null {
    const m = this.memory;
    if (!Number.isInteger(m) || m < MEMORY_RANGE.min || m > MEMORY_RANGE.max) {
      return `memory must be a whole number of MiB from ${MEMORY_RANGE.min} to ${MEMORY_RANGE.max} (got "${this.getAttribute('memory') ?? m}")`;
    }
    for (const name of ['width', 'height'] as const) {
      const v = this[name];
      if (!Number.isInteger(v) || v < FRAMEBUFFER_RANGE.min || v > FRAMEBUFFER_RANGE.max) {
        return `${name} must be a whole number of pixels from ${FRAMEBUFFER_RANGE.min} to ${FRAMEBUFFER_RANGE.max} (got "${this.getAttribute(name) ?? v}")`;
      }
    }
    if (!LAYOUTS.includes(this.layout)) return `layout must be split, console or screen (got "${this.layout}")`;
    return null;
  }

  private resolveUrl(url: string, attribute: string): string {
    try {
      return new URL(url, document.baseURI).href;
    } catch {
      throw new UrlError(`${attribute} is not a valid URL: "${url}"`);
    }
  }

  private async boot(): Promise<void> {
    this.errorMessage = '';
    this.haltReason = null;
    const problem = this.validate();
    if (problem) {
      this.state = 'error';
      throw this.fail('attribute', problem);
    }
    const generation = ++this.bootGeneration;
    this.state = 'loading';
    this.ready = false;
    const abort = new AbortController();
    this.loadAbort = abort;
    let kernel: Uint8Array;
    const initrds: Uint8Array[] = [];
    try {
      const kernelUrl = this.kernel.trim() ? this.resolveUrl(this.kernel.trim(), 'kernel') : DEFAULT_KERNEL_URL;
      const initrdUrls =
        this.initrd === null
          ? [DEFAULT_INITRD_URL]
          : this.initrd
              .split(/\s+/)
              .filter(Boolean)
              .map((u) => this.resolveUrl(u, 'initrd'));
      kernel = await download(kernelUrl, 'kernel', (p) => this.downloadProgress('kernel', kernelUrl, p), abort.signal);
      if (generation !== this.bootGeneration) throw new Error('superseded');
      try {
        parseBzImage(kernel);
      } catch (err) {
        throw new ImageError(`The kernel from ${kernelUrl} is not a bootable bzImage: ${(err as Error).message}`);
      }
      for (const url of initrdUrls) {
        initrds.push(await download(url, 'initrd', (p) => this.downloadProgress('initrd', url, p), abort.signal));
        if (generation !== this.bootGeneration) throw new Error('superseded');
      }
    } catch (err) {
      if (generation !== this.bootGeneration || abort.signal.aborted) {
        throw new Error('pc-machine: the start was cancelled');
      }
      this.state = 'error';
      this.loadAbort = null;
      const kind: PcErrorKind =
        err instanceof UrlError ? 'attribute' : err instanceof ImageError ? 'image' : err instanceof DownloadError ? 'download' : 'worker';
      throw this.fail(kind, err instanceof Error ? err.message : String(err));
    }
    this.loadAbort = null;
    const config: BootConfig = {
      memoryMiB: this.memory,
      kernel: kernel.buffer as ArrayBuffer,
      initrd: initrds.map((b) => b.buffer as ArrayBuffer),
      cmdline: this.cmdline,
      framebuffer: { width: this.width, height: this.height },
    };
    this.resetOutput();
    this.bootStartedAt = 0;
    const running = this.nextEvent('pc-start');
    this.spawnWorker();
    this.post({ type: 'boot', config, start: true }, [config.kernel, ...config.initrd]);
    await running;
  }

  private async resume(): Promise<void> {
    // after a halt the worker resets the machine first (a `reset` message re-arms the watchers)
    this.haltReason = null;
    const running = this.nextEvent('pc-start');
    this.post({ type: 'start' });
    await running;
  }

  private downloadProgress(phase: 'kernel' | 'initrd', url: string, p: { loaded: number; total: number }): void {
    const fraction = p.total > 0 ? Math.min(1, p.loaded / p.total) : 0;
    const last = this.progress;
    // at most ~100 events per download
    if (last && last.phase === phase && last.label === url && fraction - last.fraction < 0.01 && fraction < 1 && p.total > 0) return;
    this.setProgress({ phase, fraction, loaded: p.loaded, total: p.total, label: url });
  }

  private setProgress(detail: PcProgressDetail): void {
    this.progress = detail;
    emit(this, 'pc-progress', detail);
  }

  private spawnWorker(): void {
    const worker = new Worker(new URL('./machine-worker.ts', import.meta.url), { type: 'module', name: 'pc-machine' });
    this.worker = worker;
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
      if (this.worker !== worker) return;
      try {
        this.onWorkerMessage(event.data);
      } catch (err) {
        this.fail('worker', `Internal error handling the machine's message: ${err instanceof Error ? err.message : String(err)}`, false);
      }
    });
    worker.addEventListener('error', (event: ErrorEvent) => {
      event.preventDefault();
      if (this.worker !== worker) return;
      const detail = event.message ? `: ${event.message}` : ' (its script could not be loaded)';
      this.state = 'error';
      this.fail('worker', `The machine worker failed${detail}`);
      this.terminate(new Error('the machine worker failed'));
    });
    worker.addEventListener('messageerror', () => {
      if (this.worker === worker) this.fail('worker', 'A message from the machine worker could not be read', false);
    });
  }

  private post(message: ToWorker, transfer: Transferable[] = []): void {
    this.worker?.postMessage(message, transfer);
  }

  private terminate(reason: Error): void {
    if (this.worker) {
      this.worker.terminate();
      this.worker = null;
    }
    this.ready = false;
    this.log.failAll(reason);
    this.lifetime.abort(reason);
    this.lifetime = new AbortController();
  }

  // --- from the worker ---

  private onWorkerMessage(msg: FromWorker): void {
    switch (msg.type) {
      case 'booted':
        break;
      case 'state':
        if (msg.state === 'running') {
          if (this.bootStartedAt === 0) this.bootStartedAt = performance.now();
          this.state = 'running';
          emit(this, 'pc-start', {});
        } else {
          this.state = 'stopped';
          emit(this, 'pc-stop', {});
        }
        break;
      case 'reset':
        this.resetOutput();
        this.bootStartedAt = this.state === 'running' ? performance.now() : 0;
        void this.consoleEl.write('\r\n\x1b[2m[pc-machine: reset]\x1b[0m\r\n');
        emit<PcResetDetail>(this, 'pc-reset', { cause: msg.cause });
        break;
      case 'halt':
        this.onHalt(msg.reason);
        break;
      case 'serial':
        this.onSerial(new Uint8Array(msg.data));
        break;
      case 'fb-mode':
        this.displayEl.setMode(msg.width, msg.height);
        break;
      case 'fb': {
        const display = this.displayEl;
        if (display.width !== msg.width || display.height !== msg.height) display.setMode(msg.width, msg.height);
        display.putRows(msg.first, new Uint8Array(msg.data));
        void display.whenRendered().then(() => this.post({ type: 'fb-ack' }));
        break;
      }
      case 'stats':
        this.stats = msg.stats;
        emit(this, 'pc-stats', msg.stats);
        break;
      case 'error':
        if (msg.fatal) {
          this.state = 'error';
          this.fail(msg.kind, msg.message);
          this.terminate(new Error(msg.message));
        } else {
          this.fail(msg.kind, msg.message, false);
        }
        break;
    }
  }

  private onSerial(bytes: Uint8Array): void {
    void this.consoleEl.write(bytes);
    const text = this.decoder.decode(bytes, { stream: true });
    if (!text) return;
    emit<PcSerialDetail>(this, 'pc-serial', { text });
    this.log.append(this.filter.push(text));
  }

  private onHalt(reason: HaltReason): void {
    this.haltReason = reason;
    this.state = 'halted';
    this.ready = false;
    const text = haltText(reason);
    this.log.failAll(new Error(`pc-machine: ${text}`));
    if (reason.kind !== 'poweroff') {
      const detail =
        reason.kind === 'error'
          ? `${reason.message} (eip ${hex(reason.eip)}${reason.bytes ? `, bytes ${reason.bytes}` : ''})`
          : reason.kind === 'panic'
            ? reason.message
            : `eip ${hex(reason.eip)}`;
      this.showError(text, detail);
    }
    void this.consoleEl.write(`\r\n\x1b[2m[pc-machine: ${text}]\x1b[0m\r\n`);
    emit<PcHaltDetail>(this, 'pc-halt', { reason });
  }

  /** Starts a fresh transcript for a new boot and arms the boot progress and ready watchers. */
  private resetOutput(): void {
    this.ready = false;
    this.filter.reset();
    this.decoder = new TextDecoder('utf-8', decoderOptions);
    const since = this.log.end;
    const generation = ++this.bootGeneration;
    this.setProgress({ phase: 'boot', fraction: 0, label: 'powering on' });
    for (const [text, fraction, label] of BOOT_MILESTONES) {
      this.log.waitFor(text, { since }).then(
        () => {
          if (generation !== this.bootGeneration || this.ready) return;
          if (this.progress?.phase === 'boot' && this.progress.fraction >= fraction) return;
          this.setProgress({ phase: 'boot', fraction, label });
        },
        () => {},
      );
    }
    this.log.waitFor(READY_PROMPT, { since }).then(
      () => {
        if (generation !== this.bootGeneration) return;
        this.ready = true;
        this.setProgress({ phase: 'boot', fraction: 1, label: 'shell ready' });
        const bootMs = this.bootStartedAt ? Math.round(performance.now() - this.bootStartedAt) : 0;
        emit<PcReadyDetail>(this, 'pc-ready', { bootMs });
      },
      () => {},
    );
  }

  private async execNow(command: string, options: ExecOptions): Promise<ExecResult> {
    const markers = buildExec(command); // throws for a multi-line command before anything is typed
    const timeout = options.timeout ?? 60_000;
    const started = performance.now();
    await this.whenReady(timeout);
    const left = timeout > 0 ? Math.max(1, timeout - (performance.now() - started)) : 0;
    const since = this.log.end;
    const both = Promise.all([
      this.log.waitFor(markers.begin, { since, timeout: left }),
      this.log.waitFor(markers.end, { since, timeout: left }),
    ]);
    const reset = this.nextEvent('pc-reset').then(() => {
      throw new Error('pc-machine: the machine was reset during exec()');
    });
    await this.send(markers.line);
    let begin: OutputMatch;
    let end: OutputMatch;
    try {
      [begin, end] = await Promise.race([both, reset]);
    } finally {
      reset.catch(() => {});
    }
    const output = cleanExecOutput(this.log.slice(begin.end, end.end - end.match.length));
    // let the prompt come back before the next command is typed
    await this.log.waitFor(/\n[^\n]*[#$] /, { since: end.end, timeout: 2000 }).catch(() => {});
    return { output, status: Number(end.groups[1]) };
  }

  /**
   * Resolves with the next `name` event from this element; rejects on `pc-error` or `pc-halt`
   * (unless that is the awaited event) and after `timeout` ms when given.
   */
  private nextEvent<K extends keyof GlobalEventHandlersEventMap>(name: K, timeout = 0): Promise<GlobalEventHandlersEventMap[K]> {
    const lifetime = this.lifetime.signal;
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const cleanup = () => {
        this.removeEventListener(name, onEvent as EventListener);
        this.removeEventListener('pc-error', onError as EventListener);
        this.removeEventListener('pc-halt', onHalt as EventListener);
        lifetime.removeEventListener('abort', onGone);
        if (timer !== null) clearTimeout(timer);
      };
      const onGone = () => {
        cleanup();
        reject(new Error(`pc-machine: ${(lifetime.reason as Error)?.message ?? 'the machine is gone'}`));
      };
      lifetime.addEventListener('abort', onGone);
      const onEvent = (e: GlobalEventHandlersEventMap[K]) => {
        if ((e as Event).target !== this) return;
        cleanup();
        resolve(e);
      };
      const onError = (e: CustomEvent<PcErrorDetail>) => {
        // non-fatal errors (a bad layout attribute) do not abort the wait
        if (this.state !== 'error' && this.state !== 'halted') return;
        cleanup();
        reject(new Error(e.detail.message));
      };
      const onHalt = (e: CustomEvent<PcHaltDetail>) => {
        cleanup();
        reject(new Error(`pc-machine: ${haltText(e.detail.reason)}`));
      };
      this.addEventListener(name, onEvent as EventListener);
      if (name !== 'pc-error') this.addEventListener('pc-error', onError as EventListener);
      if (name !== 'pc-halt') this.addEventListener('pc-halt', onHalt as EventListener);
      if (timeout > 0 && Number.isFinite(timeout)) {
        timer = setTimeout(() => {
          cleanup();
          reject(new Error(`pc-machine: timed out after ${timeout} ms waiting for ${name}`));
        }, timeout);
      }
    });
  }

  /** Shows the message in the element, fires `pc-error`, and returns an Error for a rejection. */
  private fail(kind: PcErrorKind, message: string, show = true): Error {
    if (show || kind === 'attribute') this.showError(errorTitle(kind), message);
    emit<PcErrorDetail>(this, 'pc-error', { kind, message });
    return new Error(message);
  }

  private showError(title: string, message: string): void {
    this.errorTitle = title;
    this.errorMessage = message;
  }
}

class UrlError extends Error {}
class ImageError extends Error {}

function errorTitle(kind: PcErrorKind): string {
  switch (kind) {
    case 'attribute':
      return 'Bad attribute';
    case 'download':
      return 'An image failed to load';
    case 'image':
      return 'Not a bootable kernel';
    case 'display':
      return 'The display failed';
    default:
      return 'The machine failed';
  }
}

function haltText(reason: HaltReason | null): string {
  switch (reason?.kind) {
    case 'poweroff':
      return 'powered off';
    case 'panic':
      return 'halted: kernel panic';
    case 'triple-fault':
      return 'halted: triple fault';
    case 'error':
      return 'halted: emulator error';
    default:
      return 'halted';
  }
}

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}
