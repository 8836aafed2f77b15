import { LitElement, html, type PropertyValues } from 'lit';
import { property, query } from 'lit/decorators.js';
import { Terminal, type ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { consoleStyles } from './pc-console.styles';
import { emit, type PcConsoleDataDetail } from '../shared/events';
import { binaryStringToBytes, consoleDataToBytes } from './input';

/**
 * A serial console: an xterm.js terminal sized to its box (UTF-8, ANSI colours, scrollback,
 * copy and paste). Output is written as terminal data only, never as HTML. Keys and pastes come
 * out as `pc-console-data` events carrying the bytes a VT100/xterm terminal sends (Enter is CR,
 * Backspace is DEL 0x7f, arrows and function keys are escape sequences), as do the terminal's
 * answers to queries such as the cursor position request `ESC[6n`.
 *
 * @summary An xterm.js serial terminal.
 *
 * @event {CustomEvent<PcConsoleDataDetail>} pc-console-data - Input for the guest: keys, pastes, terminal replies.
 *
 * @csspart terminal - The box xterm.js draws into.
 *
 * @cssproperty [--pc-console-background=#0f1419] - Background colour.
 * @cssproperty [--pc-console-foreground=#d8dee9] - Text colour.
 * @cssproperty [--pc-console-cursor=#f0c674] - Cursor colour.
 * @cssproperty [--pc-console-selection=rgb(120 160 220 / 0.4)] - Selection colour.
 * @cssproperty [--pc-console-font-family=ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace] - Font.
 * @cssproperty [--pc-console-font-size=14px] - Font size (px).
 * @cssproperty [--pc-console-padding=0.25rem 0 0.25rem 0.5rem] - Space around the text.
 * @cssproperty [--pc-console-scrollbar=rgb(255 255 255 / 0.25)] - Scrollbar thumb colour.
 */
export class PcConsoleElement extends LitElement {
  static override styles = consoleStyles;

  /** Lines kept above the screen. */
  @property({ type: Number }) scrollback = 5000;

  /** When set, keys and pastes are ignored (output still shows). */
  @property({ type: Boolean, reflect: true }) readonly = false;

  @query('[part="terminal"]') private box!: HTMLDivElement;

  private term: Terminal;
  private fitAddon = new FitAddon();
  private resizeObserver: ResizeObserver | null = null;
  private opened = false;

  constructor() {
    super();
    this.term = new Terminal({
      scrollback: this.scrollback,
      allowProposedApi: false,
      convertEol: false,
      cursorBlink: true,
      macOptionIsMeta: true,
      fontSize: 14,
      lineHeight: 1.15,
      fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
    });
    this.term.loadAddon(this.fitAddon);
    this.term.onData((data) => this.input(data, consoleDataToBytes(data)));
    this.term.onBinary((data) => this.input(data, binaryStringToBytes(data)));
  }

  /** Columns of the terminal. */
  get cols(): number {
    return this.term.cols;
  }

  /** Rows of the terminal. */
  get rows(): number {
    return this.term.rows;
  }

  /** Writes terminal data (text or UTF-8 bytes); resolves once xterm.js has processed it. */
  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve) => this.term.write(data, resolve));
  }

  /** Clears the screen and scrollback. */
  clear(): void {
    this.term.clear();
  }

  /** Resets the terminal state (modes, colours, screen). */
  reset(): void {
    this.term.reset();
  }

  /** Focuses the terminal so it receives keys. */
  override focus(): void {
    this.term.focus();
  }

  /** Sizes the terminal to its box (done automatically when the box resizes). */
  fit(): void {
    if (!this.opened) return;
    const dims = this.fitAddon.proposeDimensions();
    if (!dims || !Number.isFinite(dims.cols) || !Number.isFinite(dims.rows) || dims.cols < 2 || dims.rows < 1) return;
    if (dims.cols !== this.term.cols || dims.rows !== this.term.rows) this.term.resize(dims.cols, dims.rows);
  }

  /** The text of the screen and scrollback, one string a line, trailing blanks trimmed. */
  lines(): string[] {
    const buffer = this.term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < buffer.length; i++) out.push(buffer.getLine(i)?.translateToString(true) ?? '');
    while (out.length && out[out.length - 1] === '') out.pop();
    return out;
  }

  /** Re-reads the `--pc-console-*` custom properties (call after changing them). */
  refreshTheme(): void {
    const cs = getComputedStyle(this);
    const v = (name: string) => cs.getPropertyValue(name).trim();
    const theme: ITheme = {
      background: v('--pc-console-background') || '#0f1419',
      foreground: v('--pc-console-foreground') || '#d8dee9',
      cursor: v('--pc-console-cursor') || '#f0c674',
      selectionBackground: v('--pc-console-selection') || 'rgba(120, 160, 220, 0.4)',
    };
    this.term.options.theme = theme;
    const family = v('--pc-console-font-family');
    if (family) this.term.options.fontFamily = family;
    const size = parseFloat(v('--pc-console-font-size'));
    if (Number.isFinite(size) && size > 0) this.term.options.fontSize = size;
    this.fit();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.opened) this.observe();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
  }

  protected override firstUpdated(): void {
    this.term.open(this.box);
    this.opened = true;
    this.refreshTheme();
    this.observe();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('scrollback')) this.term.options.scrollback = Math.max(0, Math.floor(this.scrollback) || 0);
    if (changed.has('readonly')) this.term.options.disableStdin = this.readonly;
  }

  protected override render() {
    return html`<div part="terminal"></div>`;
  }

  private observe(): void {
    if (this.resizeObserver) return;
    this.resizeObserver = new ResizeObserver(() => this.fit());
    this.resizeObserver.observe(this.box);
  }

  private input(data: string, bytes: Uint8Array): void {
    if (this.readonly) return;
    emit<PcConsoleDataDetail>(this, 'pc-console-data', { data, bytes });
  }
}
