/**
 * Replays every native reference case (reference/cases.ts, results recorded on real hardware in
 * reference/x87-reference.json.gz by reference/generate.ts) through the emulated FPU and compares the
 * FNSAVE image (control/status/tag words, pointers, all eight registers as 80-bit values), the data
 * area, AX and EFLAGS, and the instruction that raised #MF. Everything is compared bit for bit,
 * except the transcendental cases marked tolerant: their results may differ by `tol` ulps of a
 * double and C1 is not compared there.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Fpu } from './fpu';
import { TestHost, hexBytes, runCode, toHex } from './fpu-test-host';
import { DATA_BASE, type CaseSpec } from './reference/case-builder';
import { buildCases } from './reference/cases';
import type { ReferenceCase } from './reference/generate';

const reference = JSON.parse(gunzipSync(readFileSync(new URL('./reference/x87-reference.json.gz', import.meta.url))).toString('utf8')) as {
  cpu: string;
  count: number;
  cases: ReferenceCase[];
};
const specs = new Map<string, CaseSpec>(buildCases().map((c) => [c.name, c]));

const SAVE_AREA = 0xf000;

interface Outcome {
  fault: number;
  eax: number;
  eflags: number;
  fsave: Uint8Array;
  data: Uint8Array;
}

function runCase(spec: CaseSpec, ref: ReferenceCase): Outcome {
  const host = new TestHost(DATA_BASE, 0x10000);
  host.mem.set(spec.data);
  host.eflags = spec.eflags;
  const fpu = new Fpu(host);
  const fault = runCode(fpu, hexBytes(ref.code), ref.addr);
  fpu.execute(5, 0x35, DATA_BASE + SAVE_AREA, true); // FNSAVE (no-wait)
  return {
    fault,
    eax: host.ax,
    eflags: host.eflags,
    fsave: host.mem.slice(SAVE_AREA, SAVE_AREA + 108),
    data: host.mem.slice(0, spec.data.length),
  };
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** An 80-bit value (10 bytes, little endian) as the nearest double. */
function extToNumber(b: Uint8Array, at: number): number {
  let mant = 0n;
  for (let i = 7; i >= 0; i--) mant = (mant << 8n) | BigInt(b[at + i]);
  const se = b[at + 8] | (b[at + 9] << 8);
  const e = se & 0x7fff;
  const sign = se & 0x8000 ? -1 : 1;
  if (e === 0x7fff) return (mant << 1n) & ((1n << 64n) - 1n) ? NaN : sign * Infinity;
  if (mant === 0n) return sign * 0;
  return sign * Number(mant) * 2 ** (e - 16383 - 63);
}

function doubleAt(b: Uint8Array, at: number): number {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]);
  u64[0] = v;
  return f64[0];
}

/** Distance in units in the last place between two doubles (0 for identical NaNs). */
function ulps(a: number, b: number): number {
  if (Object.is(a, b)) return 0;
  if (a !== a || b !== b || Math.sign(a) !== Math.sign(b)) return Infinity;
  f64[0] = Math.abs(a);
  const x = u64[0];
  f64[0] = Math.abs(b);
  const y = u64[0];
  return Number(x > y ? x - y : y - x);
}

function describeImage(img: Uint8Array): string {
  const w = (o: number, n: number): string => toHex(img.slice(o, o + n).reverse());
  const regs: string[] = [];
  for (let i = 0; i < 8; i++) regs.push(`st${i}=${w(28 + 10 * i, 10)}`);
  return `cw=${w(0, 2)} sw=${w(4, 2)} tw=${w(8, 2)} fip=${w(12, 4)} fop|fcs=${w(16, 4)} fdp=${w(20, 4)} fds=${w(24, 2)}\n  ${regs.join(' ')}`;
}

function compare(spec: CaseSpec, ref: ReferenceCase, got: Outcome): string[] {
  const problems: string[] = [];
  const want = hexBytes(ref.fsave);
  const have = got.fsave.slice();
  if (ref.fault >= 0) {
    // The native image of a faulting case comes from the signal frame (FXSAVE format): no FCS/FDS.
    have.set(want.subarray(16, 18), 16);
    have.set(want.subarray(24, 26), 24);
  }
  if (got.fault !== ref.fault) problems.push(`#MF at offset ${got.fault}, native ${ref.fault}`);
  if (got.eax !== (ref.eax & 0xffff)) problems.push(`AX ${got.eax.toString(16)}, native ${ref.eax.toString(16)}`);
  if ((got.eflags & 0x8d5) !== (ref.eflagsOut & 0x8d5))
    problems.push(`EFLAGS ${(got.eflags & 0x8d5).toString(16)}, native ${(ref.eflagsOut & 0x8d5).toString(16)}`);

  if (spec.tol) {
    const mask = ~spec.swIgnore & 0xffff;
    for (const img of [want, have]) {
      img[4] &= mask & 0xff;
      img[5] &= mask >> 8;
    }
    const headerOk = toHex(want.subarray(0, 28)) === toHex(have.subarray(0, 28));
    let regsOk = true;
    for (let i = 0; i < 8; i++) if (ulps(extToNumber(want, 28 + 10 * i), extToNumber(have, 28 + 10 * i)) > spec.tol) regsOk = false;
    if (!headerOk || !regsOk) problems.push(`FNSAVE image\n  ours:   ${describeImage(have)}\n  native: ${describeImage(want)}`);
  } else if (toHex(want) !== toHex(have)) {
    problems.push(`FNSAVE image\n  ours:   ${describeImage(have)}\n  native: ${describeImage(want)}`);
  }

  const expected = Uint8Array.from(spec.data);
  for (const [at, h] of ref.changed) expected.set(hexBytes(h), at);
  if (spec.tol) {
    for (const at of spec.swSlots) {
      for (const d of [expected, got.data]) {
        d[at] &= ~spec.swIgnore & 0xff;
        d[at + 1] &= (~spec.swIgnore >> 8) & 0xff;
      }
    }
  }
  const tolerant = new Set<number>();
  for (const at of spec.tolSlots) {
    for (let k = 0; k < 8; k++) tolerant.add(at + k);
    const a = doubleAt(got.data, at);
    const b = doubleAt(expected, at);
    if (ulps(a, b) > spec.tol) problems.push(`data+${at}: ${a}, native ${b} (${ulps(a, b)} ulps)`);
  }
  for (let i = 0; i < expected.length; i++) {
    if (tolerant.has(i) || expected[i] === got.data[i]) continue;
    let j = i;
    while (j < expected.length && !tolerant.has(j) && expected[j] !== got.data[j]) j++;
    const from = Math.max(0, i - 2);
    const to = Math.min(expected.length, j + 2);
    problems.push(`data+${i}..${j}: ${toHex(got.data.slice(from, to))}, native ${toHex(expected.slice(from, to))} (from +${from})`);
    i = j;
  }
  return problems;
}

describe(`x87 reference cases (native: ${reference.cpu})`, () => {
  it('cover every case of cases.ts', () => {
    expect(reference.cases.map((c) => c.name).sort()).toEqual([...specs.keys()].sort());
  });

  const groups = new Map<string, ReferenceCase[]>();
  for (const ref of reference.cases) {
    const group = specs.get(ref.name)?.group ?? 'unknown';
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group)!.push(ref);
  }
  for (const [group, refs] of groups) {
    describe(group, () => {
      it.each(refs.map((r) => [r.name, r] as const))('%s', (_name, ref) => {
        const spec = specs.get(ref.name);
        expect(spec, `case ${ref.name} missing from cases.ts`).toBeDefined();
        const problems = compare(spec!, ref, runCase(spec!, ref));
        expect(problems.join('\n')).toBe('');
      });
    });
  }
});
