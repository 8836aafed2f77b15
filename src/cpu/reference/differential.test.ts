/**
 * Differential test: replays every case of cases.json.gz (recorded on a real x86 CPU, see
 * README.md) on pc-machine's CPU and compares registers, EFLAGS (SDM-undefined bits masked)
 * and the data area.
 *
 * Environment knobs for debugging:
 *   REF_GROUP=alu,shift   only these groups
 *   REF_CASE=1234         only this case index
 *   REF_SHOW=50           mismatches printed per group (default 12)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { IoBus } from '../../io/io-bus';
import { PhysMemory } from '../../memory/phys-memory';
import { Cpu } from '../cpu';
import { IF } from './flag-masks';
import { hexToBytes, loadReference, RefCase } from './format';
import { fillArea } from './prng';

const ref = loadReference();
const AREA = ref.meta.area;
const AREA_SIZE = ref.meta.areaSize;
/** Replay code goes to a fresh address per case (no stale decoded code can be reused). */
const CODE_BASE = 0x00300000;
const CODE_END = 0x007f0000;
const BUDGET = 20000;
const REG_NAMES = ['EAX', 'ECX', 'EDX', 'EBX', 'ESP', 'EBP', 'ESI', 'EDI'];
const FLAG_NAMES: [number, string][] = [
  [0, 'CF'], [2, 'PF'], [4, 'AF'], [6, 'ZF'], [7, 'SF'], [8, 'TF'], [9, 'IF'], [10, 'DF'], [11, 'OF'],
  [14, 'NT'], [16, 'RF'], [18, 'AC'], [21, 'ID'],
];

const onlyGroups = process.env.REF_GROUP?.split(',').filter(Boolean);
const onlyCase = process.env.REF_CASE !== undefined ? Number(process.env.REF_CASE) : undefined;
const SHOW = Number(process.env.REF_SHOW ?? 12);

const h32 = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');
const h8 = (v: number): string => '0x' + v.toString(16).padStart(2, '0');

function flagNames(v: number): string {
  return FLAG_NAMES.filter(([b]) => v & (1 << b)).map(([, n]) => n).join(' ') || '-';
}

/** Orders doubles (by their bits) so that neighbours differ by 1. */
function orderedBits(bytes: Uint8Array, off: number): bigint {
  const v = new DataView(bytes.buffer, bytes.byteOffset + off, 8).getBigUint64(0, true);
  return v & (1n << 63n) ? -(v & ~(1n << 63n)) : v;
}

function isNaNBits(bytes: Uint8Array, off: number): boolean {
  return Number.isNaN(new DataView(bytes.buffer, bytes.byteOffset + off, 8).getFloat64(0, true));
}

class Replayer {
  readonly mem = new PhysMemory({ ramBytes: 8 << 20 });
  readonly cpu = new Cpu(this.mem, new IoBus());
  private readonly expected = new Uint8Array(AREA_SIZE);
  private readonly byteMask = new Uint8Array(AREA_SIZE);
  private codeCursor = CODE_BASE;
  private events: string[] = [];
  private needsReset = true;

  constructor() {
    this.cpu.onException = (vector, code, eip) => {
      this.events.push(`exception ${vector}${code >= 0 ? ` (error code ${h32(code)})` : ''} at ${h32(eip)}`);
    };
    this.cpu.onTripleFault = (eip) => {
      this.events.push(`triple fault at ${h32(eip)}`);
    };
    this.cpu.onUnimplemented = (eip, bytes) => {
      this.events.push(`unimplemented ${bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')} at ${h32(eip)}`);
    };
  }

  /** Returns a description of the differences, or null when the case matches. */
  replay(c: RefCase): string | null {
    const { cpu, mem } = this;
    if (this.needsReset) {
      cpu.reset();
      cpu.enterFlatProtectedMode();
      this.needsReset = false;
    }
    this.events = [];

    // Data area: seeded bytes, patches; expected = initial + recorded changes.
    const area = mem.u8.subarray(AREA, AREA + AREA_SIZE);
    fillArea(area, c.s);
    if (c.p) for (let i = 0; i < c.p.length; i += 2) area.set(hexToBytes(c.p[i + 1] as string), c.p[i] as number);
    this.expected.set(area);
    if (c.w) for (let i = 0; i < c.w.length; i += 2) this.expected[c.w[i]] = c.w[i + 1];

    // Code + HLT.
    const code = hexToBytes(c.b);
    if (this.codeCursor + code.length + 16 > CODE_END) this.codeCursor = CODE_BASE;
    const eip = this.codeCursor;
    mem.u8.set(code, eip);
    mem.u8[eip + code.length] = 0xf4;
    this.codeCursor = (eip + code.length + 16) & ~15;

    for (let r = 0; r < 8; r++) cpu.reg32[r] = c.r[r];
    cpu.eip = eip;
    cpu.setEflags(c.f & ~IF);
    cpu.halted = false;
    cpu.haltedForever = false;
    cpu.fpu.reset();

    let crashed = '';
    try {
      cpu.run(BUDGET);
    } catch (e) {
      crashed = `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
    }

    const out: string[] = [];
    if (crashed) out.push(crashed);
    out.push(...this.events);
    const endEip = eip + code.length + 1;
    if (!crashed && (!cpu.halted || cpu.eip >>> 0 !== endEip)) {
      out.push(`did not reach the final HLT (halted=${cpu.halted}, EIP=${h32(cpu.eip)}, expected ${h32(endEip)}, block at ${h32(eip)})`);
    }
    if (out.length) this.needsReset = true;

    for (let r = 0; r < 8; r++) {
      const m = c.rm ? c.rm[r] : 0xffffffff;
      const got = cpu.reg32[r] >>> 0;
      if (((got ^ c.R[r]) & m) !== 0) {
        out.push(`${REG_NAMES[r]}: expected ${h32(c.R[r])} got ${h32(got)}${m !== 0xffffffff ? ` (compared bits ${h32(m)})` : ''}`);
      }
    }
    const flags = cpu.getEflags() >>> 0;
    const diff = (flags ^ c.F) & c.m;
    if (diff) {
      out.push(`EFLAGS: expected ${h32(c.F)} [${flagNames(c.F & c.m)}] got ${h32(flags)} [${flagNames(flags & c.m)}], differ in ${flagNames(diff)}`);
    }

    // Data area.
    this.byteMask.fill(0xff);
    if (c.mm) for (let i = 0; i < c.mm.length; i += 2) this.byteMask[c.mm[i]] &= c.mm[i + 1];
    if (c.u) {
      for (const off of c.u) {
        for (let i = 0; i < 8; i++) this.byteMask[off + i] = 0;
        const e = orderedBits(this.expected, off);
        const g = orderedBits(area, off);
        const ok = isNaNBits(this.expected, off) ? isNaNBits(area, off) : e - g <= 1n && g - e <= 1n;
        if (!ok) {
          const dv = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset + off, 8).getFloat64(0, true);
          out.push(`m64 [${h32(AREA + off)}]: expected ${dv(this.expected)} got ${dv(area)} (more than 1 ulp apart)`);
        }
      }
    }
    let memDiffs = 0;
    for (let i = 0; i < AREA_SIZE; i++) {
      if ((area[i] ^ this.expected[i]) & this.byteMask[i]) {
        if (memDiffs < 16) out.push(`mem[${h32(AREA + i)}]: expected ${h8(this.expected[i])} got ${h8(area[i])}`);
        memDiffs++;
      }
    }
    if (memDiffs > 16) out.push(`... ${memDiffs - 16} more differing bytes`);

    if (!out.length) return null;
    const init = REG_NAMES.map((n, r) => `${n}=${h32(c.r[r])}`).join(' ');
    return [
      `${c.t}    [bytes ${c.b.replace(/(..)/g, '$1 ').trim()}]`,
      `  in:  ${init} EFLAGS=${h32(c.f)} [${flagNames(c.f)}]`,
      ...out.map((l) => '  ' + l),
    ].join('\n');
  }
}

const summary: [string, number, number][] = [];

/**
 * Every case runs twice: through the interpreter, and through the block compiler (threshold 0:
 * each block is compiled the first time it is reached, so compiled code covers what it can and the
 * interpreter the rest).
 */
const MODES: [string, number][] = [
  ['interpreter', Infinity],
  ['compiled blocks', 0],
];

describe.each(MODES)('differential CPU reference (%s)', (mode, threshold) => {
  const replayer = new Replayer();
  replayer.cpu.jitThreshold = threshold;

  it('reference file is complete', () => {
    expect(ref.format).toBe(1);
    expect(ref.cases.length).toBeGreaterThanOrEqual(20000);
    for (const g of ref.groups) expect(ref.meta.caseCounts[g]).toBeGreaterThan(0);
  });

  ref.groups.forEach((group, gi) => {
    if (onlyGroups && !onlyGroups.includes(group)) return;
    it(`${group} (${ref.meta.caseCounts[group]} cases)`, () => {
      const failures: string[] = [];
      let n = 0;
      ref.cases.forEach((c, index) => {
        if (c.g !== gi || (onlyCase !== undefined && index !== onlyCase)) return;
        n++;
        const d = replayer.replay(c);
        if (d) failures.push(`#${index} ${d}`);
      });
      summary.push([`${group} (${mode})`, n, failures.length]);
      if (failures.length) {
        const shown = failures.slice(0, SHOW).join('\n\n');
        const more = failures.length > SHOW ? `\n\n... and ${failures.length - SHOW} more (REF_SHOW=N shows more)` : '';
        expect.fail(`${failures.length} of ${n} ${group} cases differ from the hardware:\n\n${shown}${more}`);
      }
    });
  });

  if (threshold === 0 && !onlyGroups && onlyCase === undefined) {
    it('ran the cases through compiled blocks', () => {
      expect(replayer.cpu.blocks.compiled, `compiled ${replayer.cpu.blocks.compiled}`).toBeGreaterThan(5000);
    });
  }
});

afterAll(() => {
  const bad = summary.filter(([, , f]) => f > 0);
  const total = summary.reduce((a, [, n]) => a + n, 0);
  const failed = bad.reduce((a, [, , f]) => a + f, 0);
  console.log(
    `differential: ${total - failed} of ${total} case runs match` +
      (bad.length ? `; mismatches: ${bad.map(([g, n, f]) => `${g} ${f}/${n}`).join(', ')}` : ''),
  );
});
