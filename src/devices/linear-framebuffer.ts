/**
 * The paravirtual linear framebuffer Linux drives through `screen_info` (VIDEO_TYPE_VLFB, simplefb
 * / efifb style): 32 bits per pixel, bytes R, G, B, X in memory (red at byte 0), stride width*4,
 * backed by guest-physical memory at `base`. The host finds changed rows through PhysMemory's
 * per-page write tracking.
 */
import { PAGE_SHIFT, PAGE_SIZE, type PhysMemory } from '../memory/phys-memory';
import type { SavedState, Stateful } from '../machine/state';

export const FRAMEBUFFER_DEFAULT_BASE = 0xfd000000;
export const FRAMEBUFFER_BYTES_PER_PIXEL = 4;

const STATE_VERSION = 1;

export interface LinearFramebufferOptions {
  /** Guest-physical address (page aligned); 0xFD000000 by default. */
  base?: number;
  width: number;
  height: number;
}

export class LinearFramebuffer implements Stateful {
  /** Bytes the machine must reserve as PhysMemory `extraBytes` for a width x height framebuffer. */
  static bytesFor(width: number, height: number): number {
    return Math.ceil((width * height * FRAMEBUFFER_BYTES_PER_PIXEL) / PAGE_SIZE) * PAGE_SIZE;
  }

  readonly base: number;
  readonly width: number;
  readonly height: number;
  /** Bytes per row. */
  readonly stride: number;
  /** Bytes of pixel data (stride * height). */
  readonly size: number;
  /** The VRAM bytes, a view on guest memory: R, G, B, X per pixel. */
  readonly pixels: Uint8Array;
  /** The mapped size (whole pages). */
  private readonly mappedSize: number;
  private firstDirtyPage = 0;
  private lastDirtyPage = -1;
  private readonly visitDirty = (page: number): void => {
    if (page < this.firstDirtyPage) this.firstDirtyPage = page;
    if (page > this.lastDirtyPage) this.lastDirtyPage = page;
  };

  constructor(
    private readonly mem: PhysMemory,
    options: LinearFramebufferOptions,
  ) {
    const { base = FRAMEBUFFER_DEFAULT_BASE, width, height } = options;
    if (!(width > 0 && height > 0) || (width | 0) !== width || (height | 0) !== height) {
      throw new RangeError(`bad framebuffer size ${width}x${height}`);
    }
    this.base = base >>> 0;
    this.width = width;
    this.height = height;
    this.stride = width * FRAMEBUFFER_BYTES_PER_PIXEL;
    this.size = this.stride * height;
    this.mappedSize = LinearFramebuffer.bytesFor(width, height);
    if (this.base % PAGE_SIZE || this.base + this.mappedSize > 2 ** 32) {
      throw new RangeError(`framebuffer of ${this.mappedSize} bytes does not fit at 0x${this.base.toString(16)}`);
    }
    const offset = mem.mapBacked(this.base, this.mappedSize);
    this.pixels = mem.u8.subarray(offset, offset + this.size);
    mem.trackWrites(this.base, this.mappedSize);
  }

  /**
   * The band of rows written since the last call (inclusive), or null when nothing changed.
   * Page granular: a write anywhere in a page marks every row that page touches.
   */
  takeDirtyRows(): { first: number; last: number } | null {
    this.firstDirtyPage = this.mappedSize >>> PAGE_SHIFT;
    this.lastDirtyPage = -1;
    if (this.mem.takeDirtyPages(this.base, this.mappedSize, this.visitDirty) === 0) return null;
    const first = Math.floor((this.firstDirtyPage << PAGE_SHIFT) / this.stride);
    if (first >= this.height) return null; // only the padding after the last row was written
    const last = Math.min(this.height - 1, Math.floor((((this.lastDirtyPage + 1) << PAGE_SHIFT) - 1) / this.stride));
    return { first, last };
  }

  /** Black screen; the whole framebuffer is reported dirty. */
  reset(): void {
    this.pixels.fill(0);
    this.mem.trackWrites(this.base, this.mappedSize);
  }

  saveState(): SavedState {
    return { version: STATE_VERSION, width: this.width, height: this.height, pixels: this.pixels.slice() };
  }

  loadState(state: SavedState): void {
    if (state.version !== STATE_VERSION) {
      throw new Error(`LinearFramebuffer: unsupported state version ${state.version}`);
    }
    if (state.width !== this.width || state.height !== this.height) {
      throw new Error(`LinearFramebuffer: saved ${state.width}x${state.height}, have ${this.width}x${this.height}`);
    }
    this.pixels.set(state.pixels as Uint8Array);
    this.mem.trackWrites(this.base, this.mappedSize);
  }
}
