import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { BufferImageSource, Container, Sprite, Texture, WebGLRenderer } from 'pixi.js';
import { displayStyles } from './pc-display.styles';
import { copyRowsOpaque, DirtyBand, fitLayout, type FitLayout } from './framebuffer';
import { emit, type PcErrorDetail } from '../shared/events';

/** A framebuffer the display can poll itself (the shape of the core's `PcMachine.framebuffer`). */
export interface FramebufferSource {
  readonly width: number;
  readonly height: number;
  readonly stride: number;
  readonly pixels: Uint8Array;
  takeDirtyRows(): { first: number; last: number } | null;
}

/** Where the picture sits inside the element, in CSS pixels. */
export interface DisplayContentRect {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Canvas pixels per framebuffer pixel. */
  scale: number;
}

/**
 * A framebuffer display: R,G,B,X pixels drawn with WebGL (PixiJS) through one texture that is
 * re-uploaded only where rows changed, at most once per animation frame. The picture keeps its
 * aspect ratio; it is scaled by whole factors (crisp, nearest filtering) when it fits and scaled
 * down smoothly when it does not. Double-click or the corner button toggles fullscreen.
 *
 * Feed it either with {@link setMode} + {@link putRows} (bands of rows, e.g. from a worker) or by
 * setting {@link source} to a framebuffer object that it polls every frame.
 *
 * @summary Shows a guest framebuffer.
 *
 * @event {CustomEvent<PcErrorDetail>} pc-error - WebGL could not be started (`kind: 'display'`).
 * @event {CustomEvent<{ width: number; height: number }>} pc-display-mode - The framebuffer size changed.
 *
 * @csspart canvas - The WebGL canvas.
 * @csspart fullscreen-button - The button that toggles fullscreen.
 * @csspart message - The line shown when the display cannot render.
 *
 * @cssproperty [--pc-display-background=#000] - Colour around the picture.
 * @cssproperty [--pc-display-button-background=rgb(0 0 0 / 0.55)] - Fullscreen button background.
 * @cssproperty [--pc-display-button-color=#fff] - Fullscreen button icon colour.
 * @cssproperty [--pc-display-button-border=rgb(255 255 255 / 0.35)] - Fullscreen button border.
 * @cssproperty [--pc-display-message-color=#ffb4a8] - Colour of the error line.
 */
export class PcDisplayElement extends LitElement {
  static override styles = displayStyles;

  /** Hides the fullscreen button (double-click still toggles fullscreen). */
  @property({ type: Boolean, reflect: true, attribute: 'no-fullscreen-button' }) noFullscreenButton = false;

  /**
   * A framebuffer to poll every animation frame (`takeDirtyRows()` tells which rows to upload).
   * Leave null when feeding rows with {@link putRows}.
   */
  @property({ attribute: false }) source: FramebufferSource | null = null;

  @query('canvas') private canvas!: HTMLCanvasElement;
  @state() private errorMessage = '';

  private fbWidth = 0;
  private fbHeight = 0;
  /** The picture, R,G,B,255: the texture's backing store and the screenshot's source. */
  private pixels: Uint8Array = new Uint8Array(0);
  private readonly dirty = new DirtyBand();
  private renderer: WebGLRenderer | null = null;
  private rendererFailed = false;
  private stage = new Container();
  private sprite: Sprite | null = null;
  private texSource: BufferImageSource | null = null;
  private textureUploaded = false;
  private layoutBox = { width: 0, height: 0, dpr: 1 };
  private layout: FitLayout | null = null;
  private layoutChanged = true;
  private frameRequested = 0;
  private frameWaiters: (() => void)[] = [];
  private resizeObserver: ResizeObserver | null = null;

  /** Framebuffer width in pixels (0 before the first mode). */
  get width(): number {
    return this.fbWidth;
  }

  /** Framebuffer height in pixels (0 before the first mode). */
  get height(): number {
    return this.fbHeight;
  }

  /** Where the picture is drawn inside the element, in CSS pixels (null before the first frame). */
  get contentRect(): DisplayContentRect | null {
    const l = this.layout;
    if (!l || this.fbWidth === 0) return null;
    const dpr = this.layoutBox.dpr;
    return { x: l.x / dpr, y: l.y / dpr, width: l.width / dpr, height: l.height / dpr, scale: l.scale };
  }

  /** Sets the framebuffer size; the picture starts black. */
  setMode(width: number, height: number): void {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || width * height > 1 << 24) {
      throw new RangeError(`pc-display: bad framebuffer size ${width}x${height}`);
    }
    if (width === this.fbWidth && height === this.fbHeight) return;
    this.fbWidth = width;
    this.fbHeight = height;
    this.pixels = new Uint8Array(width * height * 4);
    new Uint32Array(this.pixels.buffer).fill(0xff000000);
    this.replaceTexture();
    this.dirty.add(0, height - 1);
    this.layoutChanged = true;
    emit(this, 'pc-display-mode', { width, height });
    this.requestFrame();
  }

  /**
   * Replaces rows `first ..` with `data`: packed R,G,B,X rows of the current width (`width * 4`
   * bytes a row, or `stride` bytes). The fourth byte is ignored (drawn opaque).
   */
  putRows(first: number, data: Uint8Array, stride = this.fbWidth * 4): void {
    if (this.fbWidth === 0) throw new Error('pc-display: putRows before setMode');
    const rows = Math.min(Math.floor(data.length / stride), this.fbHeight - first);
    if (first < 0 || rows <= 0) return;
    copyRowsOpaque(this.pixels, this.fbWidth, first, data, rows, stride);
    this.dirty.add(first, first + rows - 1);
    this.requestFrame();
  }

  /** Resolves after the next animation frame has drawn everything put so far. */
  whenRendered(): Promise<void> {
    return new Promise((resolve) => {
      this.frameWaiters.push(resolve);
      this.requestFrame();
    });
  }

  /** The framebuffer as a PNG image (exact pixels, unscaled). */
  async screenshot(): Promise<Blob> {
    if (this.fbWidth === 0) throw new Error('pc-display: no framebuffer yet');
    this.pollSource();
    const { fbWidth: w, fbHeight: h } = this;
    const image = new ImageData(new Uint8ClampedArray(this.pixels), w, h);
    if (typeof OffscreenCanvas !== 'undefined') {
      const canvas = new OffscreenCanvas(w, h);
      canvas.getContext('2d')!.putImageData(image, 0, 0);
      return canvas.convertToBlob({ type: 'image/png' });
    }
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    canvas.getContext('2d')!.putImageData(image, 0, 0);
    return new Promise((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('pc-display: PNG encoding failed'))), 'image/png'),
    );
  }

  /** Shows the display fullscreen. */
  async enterFullscreen(): Promise<void> {
    if (document.fullscreenElement !== this) await this.requestFullscreen();
  }

  /** Leaves fullscreen if the display is fullscreen. */
  async exitFullscreen(): Promise<void> {
    if (document.fullscreenElement === this) await document.exitFullscreen();
  }

  /** Toggles fullscreen. */
  toggleFullscreen(): Promise<void> {
    return document.fullscreenElement === this ? this.exitFullscreen() : this.enterFullscreen();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hasUpdated) this.observeSize();
    this.requestFrame();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
    if (this.frameRequested) cancelAnimationFrame(this.frameRequested);
    this.frameRequested = 0;
    this.flushWaiters();
  }

  protected override firstUpdated(): void {
    this.observeSize();
    void this.initRenderer();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('source')) this.requestFrame();
  }

  protected override render() {
    return html`
      <canvas part="canvas" @dblclick=${this.onDoubleClick}></canvas>
      ${this.noFullscreenButton
        ? nothing
        : html`<button part="fullscreen-button" type="button" title="Fullscreen" aria-label="Toggle fullscreen" @click=${this.onFullscreenButton}>
            <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
              <path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5" />
            </svg>
          </button>`}
      ${this.errorMessage ? html`<div part="message" role="alert">${this.errorMessage}</div>` : nothing}
    `;
  }

  private onDoubleClick = () => {
    void this.toggleFullscreen().catch(() => {});
  };

  private onFullscreenButton = () => {
    void this.toggleFullscreen().catch(() => {});
  };

  private observeSize(): void {
    if (this.resizeObserver) return;
    this.resizeObserver = new ResizeObserver((entries) => {
      const entry = entries[entries.length - 1];
      const dpr = window.devicePixelRatio || 1;
      const device = entry.devicePixelContentBoxSize?.[0];
      const css = entry.contentBoxSize?.[0];
      const width = device ? device.inlineSize : Math.round((css?.inlineSize ?? this.clientWidth) * dpr);
      const height = device ? device.blockSize : Math.round((css?.blockSize ?? this.clientHeight) * dpr);
      if (width !== this.layoutBox.width || height !== this.layoutBox.height || dpr !== this.layoutBox.dpr) {
        this.layoutBox = { width, height, dpr };
        this.layoutChanged = true;
        this.requestFrame();
      }
    });
    try {
      this.resizeObserver.observe(this, { box: 'device-pixel-content-box' });
    } catch {
      this.resizeObserver.observe(this);
    }
  }

  private async initRenderer(): Promise<void> {
    const renderer = new WebGLRenderer();
    try {
      await renderer.init({
        canvas: this.canvas,
        width: Math.max(1, this.layoutBox.width),
        height: Math.max(1, this.layoutBox.height),
        resolution: 1,
        autoDensity: false,
        antialias: false,
        backgroundAlpha: 1,
        background: this.backgroundColor(),
        preferWebGLVersion: 2,
        accessibilityOptions: { enabledByDefault: false, activateOnTab: false },
        eventFeatures: { move: false, globalMove: false, click: false, wheel: false },
      });
    } catch (err) {
      this.rendererFailed = true;
      const message = `The display could not start WebGL: ${err instanceof Error ? err.message : String(err)}`;
      this.errorMessage = message;
      emit<PcErrorDetail>(this, 'pc-error', { kind: 'display', message });
      return;
    }
    this.renderer = renderer;
    if (this.texSource) this.stage.addChild(this.sprite!);
    this.layoutChanged = true;
    this.requestFrame();
  }

  private backgroundColor(): string {
    return getComputedStyle(this).getPropertyValue('--pc-display-background').trim() || '#000';
  }

  private replaceTexture(): void {
    if (this.sprite) {
      this.stage.removeChild(this.sprite);
      this.sprite.destroy();
    }
    this.texSource?.destroy();
    this.texSource = new BufferImageSource({
      resource: this.pixels,
      width: this.fbWidth,
      height: this.fbHeight,
      format: 'rgba8unorm',
      alphaMode: 'no-premultiply-alpha',
      scaleMode: 'nearest',
      autoGenerateMipmaps: false,
    });
    this.textureUploaded = false;
    this.sprite = new Sprite(new Texture({ source: this.texSource }));
    this.sprite.roundPixels = true;
    if (this.renderer) this.stage.addChild(this.sprite);
  }

  private requestFrame(): void {
    if (this.frameRequested || !this.isConnected) return;
    this.frameRequested = requestAnimationFrame(this.frame);
  }

  private pollSource(): void {
    const src = this.source;
    if (!src) return;
    if (src.width !== this.fbWidth || src.height !== this.fbHeight) {
      this.setMode(src.width, src.height);
      src.takeDirtyRows();
      copyRowsOpaque(this.pixels, this.fbWidth, 0, src.pixels, this.fbHeight, src.stride);
      return;
    }
    const band = src.takeDirtyRows();
    if (!band) return;
    const first = Math.max(0, band.first);
    const last = Math.min(this.fbHeight - 1, band.last);
    if (last < first) return;
    copyRowsOpaque(this.pixels, this.fbWidth, first, src.pixels, last - first + 1, src.stride, first * src.stride);
    this.dirty.add(first, last);
  }

  private frame = (): void => {
    this.frameRequested = 0;
    try {
      this.pollSource();
      const renderer = this.renderer;
      if (renderer && this.texSource && this.sprite) {
        const band = this.dirty.take();
        if (band && this.textureUploaded) {
          // texSubImage2D of the changed rows only
          this.texSource.update(band.first * this.fbWidth, (band.last + 1) * this.fbWidth);
        }
        if (band || this.layoutChanged) {
          this.applyLayout(renderer);
          renderer.render({ container: this.stage });
          this.textureUploaded = true; // the first render uploads the whole texture
        }
      } else if (renderer && this.layoutChanged) {
        this.applyLayout(renderer);
        renderer.render({ container: this.stage });
      } else if (this.rendererFailed) {
        this.dirty.take();
      }
    } finally {
      this.flushWaiters();
      if (this.source && this.isConnected) this.requestFrame();
    }
  };

  private applyLayout(renderer: WebGLRenderer): void {
    if (!this.layoutChanged) return;
    this.layoutChanged = false;
    const { width, height } = this.layoutBox;
    if (width > 0 && height > 0 && (renderer.width !== width || renderer.height !== height)) {
      renderer.resize(width, height, 1);
    }
    renderer.background.color = this.backgroundColor();
    if (!this.sprite || !this.texSource) return;
    const l = fitLayout(this.fbWidth, this.fbHeight, width, height);
    this.layout = l;
    this.texSource.scaleMode = l.smooth ? 'linear' : 'nearest';
    this.sprite.position.set(l.x, l.y);
    this.sprite.width = l.width;
    this.sprite.height = l.height;
  }

  private flushWaiters(): void {
    const waiters = this.frameWaiters;
    this.frameWaiters = [];
    for (const w of waiters) w();
  }
}
