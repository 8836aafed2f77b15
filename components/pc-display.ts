/**
 * `<pc-display>`: a WebGL framebuffer display. Import this module to define the tag.
 * @module
 */
import { PcDisplayElement } from './pc-display/pc-display-element';

export { PcDisplayElement };
export type { DisplayContentRect, FramebufferSource } from './pc-display/pc-display-element';

if (!customElements.get('pc-display')) customElements.define('pc-display', PcDisplayElement);

declare global {
  interface HTMLElementTagNameMap {
    'pc-display': PcDisplayElement;
  }
}
