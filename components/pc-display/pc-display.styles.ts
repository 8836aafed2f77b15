import { css } from 'lit';

export const displayStyles = css`
  :host {
    display: block;
    position: relative;
    overflow: hidden;
    aspect-ratio: 4 / 3;
    min-width: 0;
    min-height: 0;
    background: var(--pc-display-background, #000);
    contain: strict;
  }

  :host([hidden]) {
    display: none;
  }

  canvas {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    display: block;
    outline: none;
  }

  [part='fullscreen-button'] {
    position: absolute;
    top: 0.5rem;
    right: 0.5rem;
    width: 2rem;
    height: 2rem;
    padding: 0.35rem;
    border: 1px solid var(--pc-display-button-border, rgb(255 255 255 / 0.35));
    border-radius: 0.35rem;
    background: var(--pc-display-button-background, rgb(0 0 0 / 0.55));
    color: var(--pc-display-button-color, #fff);
    cursor: pointer;
    opacity: 0;
    transition: opacity 0.15s;
  }

  :host(:hover) [part='fullscreen-button'],
  [part='fullscreen-button']:focus-visible {
    opacity: 1;
  }

  [part='fullscreen-button'] svg {
    width: 100%;
    height: 100%;
    display: block;
  }

  [part='message'] {
    position: absolute;
    inset: auto 0 0 0;
    padding: 0.5rem 0.75rem;
    font: 0.85rem/1.3 system-ui, sans-serif;
    color: var(--pc-display-message-color, #ffb4a8);
    background: rgb(0 0 0 / 0.7);
  }
`;
