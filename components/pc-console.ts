/**
 * `<pc-console>`: an xterm.js serial console. Import this module to define the tag.
 * @module
 */
import { PcConsoleElement } from './pc-console/pc-console-element';

export { PcConsoleElement };

if (!customElements.get('pc-console')) customElements.define('pc-console', PcConsoleElement);

declare global {
  interface HTMLElementTagNameMap {
    'pc-console': PcConsoleElement;
  }
}
