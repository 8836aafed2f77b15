import { css, unsafeCSS } from 'lit';
import xtermCss from '@xterm/xterm/css/xterm.css?inline';

export const consoleStyles = [
  unsafeCSS(xtermCss),
  css`
    :host {
      display: block;
      position: relative;
      min-width: 0;
      min-height: 8rem;
      box-sizing: border-box;
      padding: var(--pc-console-padding, 0.25rem 0 0.25rem 0.5rem);
      background: var(--pc-console-background, #0f1419);
      overflow: hidden;
    }

    :host([hidden]) {
      display: none;
    }

    [part='terminal'] {
      position: absolute;
      inset: var(--pc-console-padding, 0.25rem 0 0.25rem 0.5rem);
    }

    .xterm .xterm-viewport {
      scrollbar-width: thin;
      scrollbar-color: var(--pc-console-scrollbar, rgb(255 255 255 / 0.25)) transparent;
    }
  `,
];
