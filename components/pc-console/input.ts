/** Turning what xterm.js reports as input into bytes for the guest's UART. */

const encoder = new TextEncoder();

/** Bytes for the UART from an xterm.js `onData` string: text, sent as UTF-8. */
export function consoleDataToBytes(data: string): Uint8Array {
  return encoder.encode(data);
}

/** Bytes from an xterm.js `onBinary` string: one character per byte (some mouse reports). */
export function binaryStringToBytes(data: string): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data.charCodeAt(i) & 0xff;
  return out;
}
