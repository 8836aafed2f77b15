/**
 * `<pc-machine>`: an i686 PC that boots Linux in the page. Import this module to define the tag
 * (it also defines `<pc-console>` and `<pc-display>`).
 * @module
 */
import { PcMachineElement } from './pc-machine/pc-machine-element';

export { PcMachineElement };
export type { ExecOptions, MachineLayout, MachineState, WaitForOptions } from './pc-machine/pc-machine-element';
export type { ExecResult } from './pc-machine/exec';
export { DEFAULT_CMDLINE, READY_PROMPT } from './pc-machine/defaults';
export type * from './shared/events';

if (!customElements.get('pc-machine')) customElements.define('pc-machine', PcMachineElement);

declare global {
  interface HTMLElementTagNameMap {
    'pc-machine': PcMachineElement;
  }
}
