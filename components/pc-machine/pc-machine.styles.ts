import { css } from 'lit';

export const machineStyles = css`
  :host {
    display: block;
    position: relative;
    height: 46rem;
    min-height: 16rem;
    box-sizing: border-box;
    overflow: hidden;
    border: var(--pc-machine-border, 1px solid #2b3440);
    border-radius: var(--pc-machine-border-radius, 0.5rem);
    background: var(--pc-machine-background, #0b0e12);
    color: var(--pc-machine-color, #d8dee9);
    font: var(--pc-machine-font, 0.85rem/1.4 system-ui, sans-serif);
    container-type: size;
  }

  :host([hidden]) {
    display: none;
  }

  .base {
    position: absolute;
    inset: 0;
    display: grid;
    grid-template-columns: minmax(0, 1fr);
    grid-template-rows: minmax(0, 1fr) var(--pc-machine-console-height, 38%) auto;
    grid-template-areas: 'screen' 'console' 'status';
    gap: var(--pc-machine-gap, 1px);
    background: var(--pc-machine-gap-color, #2b3440);
  }

  @container (min-aspect-ratio: 2 / 1) {
    .base.layout-split {
      grid-template-columns: minmax(0, 1fr) var(--pc-machine-console-width, 42%);
      grid-template-rows: minmax(0, 1fr) auto;
      grid-template-areas: 'screen console' 'status status';
    }
  }

  .base.layout-console {
    grid-template-rows: minmax(0, 1fr) auto;
    grid-template-areas: 'console' 'status';
  }

  .base.layout-screen {
    grid-template-rows: minmax(0, 1fr) auto;
    grid-template-areas: 'screen' 'status';
  }

  .layout-console [part='screen'],
  .layout-screen [part='console'] {
    /* kept in the document (the terminal still answers the guest's queries), just not shown */
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    grid-area: auto;
  }

  [part='screen'] {
    grid-area: screen;
    position: relative;
    min-height: 0;
    background: var(--pc-display-background, #000);
  }

  pc-display {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    aspect-ratio: auto;
  }

  [part='console'] {
    grid-area: console;
    min-height: 0;
  }

  [part='status'] {
    grid-area: status;
    display: flex;
    align-items: center;
    gap: 0.75rem;
    min-height: 1.75rem;
    padding: 0 0.75rem;
    background: var(--pc-machine-status-background, #151a21);
    color: var(--pc-machine-status-color, #9aa7b6);
    font-size: 0.8em;
    white-space: nowrap;
    overflow: hidden;
  }

  .dot {
    width: 0.55rem;
    height: 0.55rem;
    border-radius: 50%;
    background: #56606c;
    flex: none;
  }

  .state-running .dot {
    background: var(--pc-machine-accent, #5fb878);
  }
  .state-loading .dot,
  .state-booting .dot {
    background: #e0b14f;
  }
  .state-error .dot,
  .state-halted .dot {
    background: #e0625a;
  }

  .status-text {
    overflow: hidden;
    text-overflow: ellipsis;
  }

  .spacer {
    flex: 1;
  }

  [part='progress'] {
    width: 9rem;
    height: 0.35rem;
    accent-color: var(--pc-machine-accent, #5fb878);
  }

  [part='error'] {
    position: absolute;
    left: 1rem;
    right: 1rem;
    top: 1rem;
    z-index: 2;
    padding: 0.75rem 1rem;
    border: 1px solid var(--pc-machine-error-border, #a33a33);
    border-radius: 0.4rem;
    background: var(--pc-machine-error-background, #2a1212);
    color: var(--pc-machine-error-color, #ffd2cc);
    overflow-wrap: anywhere;
    box-shadow: 0 0.5rem 1.5rem rgb(0 0 0 / 0.4);
  }

  [part='error'] .message {
    white-space: pre-wrap;
  }

  [part='error'] strong {
    display: block;
    margin-bottom: 0.25rem;
    color: #fff;
  }

  [part='error'] button {
    float: right;
    margin: -0.25rem -0.5rem 0 0.5rem;
    border: none;
    background: none;
    color: inherit;
    font-size: 1.1rem;
    cursor: pointer;
  }
`;
