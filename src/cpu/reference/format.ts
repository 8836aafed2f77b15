/**
 * The committed reference file (cases.json.gz): gzip of one JSON object of type RefFile.
 * Numbers are unsigned 32-bit values; byte strings are lowercase hex.
 */
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

export interface RefCase {
  /** Index into RefFile.groups. */
  g: number;
  /** Instruction text (GNU as Intel syntax, with notes). */
  t: string;
  /** Bytes the replay executes (then HLT). */
  b: string;
  /** Bytes the host executed, when they differ from `b` (alias cases only). */
  hb?: string;
  /** Initial EAX ECX EDX EBX ESP EBP ESI EDI. */
  r: number[];
  /** Initial EFLAGS as the host had it (IF=1: clear it for the replay). */
  f: number;
  /** Seed of the initial data-area bytes (prng.ts fillArea). */
  s: number;
  /** Patches over the seeded bytes: offset, hex bytes, offset, hex bytes, ... */
  p?: (number | string)[];
  /** Final registers. */
  R: number[];
  /** Final EFLAGS. */
  F: number;
  /** EFLAGS bits to compare. */
  m: number;
  /** Data-area bytes that changed: offset, new value, offset, new value, ... */
  w?: number[];
  /** Per-register compare masks, when some register bits are undefined. */
  rm?: number[];
  /** Data-area bytes compared under a mask: offset, mask, ... */
  mm?: number[];
  /** Data-area offsets of m64 results compared within 1 ulp. */
  u?: number[];
}

export interface RefMeta {
  description: string;
  host: string;
  hostMode: string;
  seed: number;
  area: number;
  areaSize: number;
  ulpTolerance: string;
  flagMasks: string;
  notRecorded: string[];
  caseCounts: Record<string, number>;
}

export interface RefFile {
  format: 1;
  meta: RefMeta;
  groups: string[];
  cases: RefCase[];
}

export const REFERENCE_FILE = new URL('./cases.json.gz', import.meta.url);

export function loadReference(path: URL | string = REFERENCE_FILE): RefFile {
  return JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as RefFile;
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}
