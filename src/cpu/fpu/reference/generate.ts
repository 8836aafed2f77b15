/**
 * Regenerates x87-reference.json.gz by running every case of cases.ts on the host CPU.
 *
 *   npx tsx src/cpu/fpu/reference/generate.ts [--only group[,group]] [--out file] [--print]
 *
 * Needs nasm and gcc (static linking). Steps: assemble all cases into one flat binary, build the
 * native runner (x87run.c), run it, and record per case the FNSAVE image, the data area, EAX,
 * EFLAGS and the offset of a #MF fault, if any.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE_BASE, type CaseSpec } from './case-builder';
import { buildCases } from './cases';

/** One case's native results (its inputs come from cases.ts: buildCases() gives the same list). */
export interface ReferenceCase {
  name: string;
  /** Address of the code when it ran natively (FIP values refer to it). */
  addr: number;
  /** The case's machine code, up to and including its RET. */
  code: string;
  /** Offset of the instruction that raised #MF (SIGFPE), or -1. */
  fault: number;
  eax: number;
  eflagsOut: number;
  fsave: string;
  /** The data area afterwards, as [offset, hex] runs of bytes that differ from the initial data. */
  changed: Array<[number, string]>;
}

const here = dirname(fileURLToPath(import.meta.url));

function toHex(bytes: Uint8Array | number[]): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function main(): void {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
  const outPath = args.includes('--out') ? args[args.indexOf('--out') + 1] : join(here, 'x87-reference.json.gz');
  const print = args.includes('--print');

  let cases: CaseSpec[] = buildCases();
  if (only) cases = cases.filter((c) => only.includes(c.group));
  const names = new Set<string>();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
    names.add(c.name);
  }

  const dir = mkdtempSync(join(tmpdir(), 'x87ref-'));
  try {
    const src: string[] = ['bits 64', 'default abs', `org ${CODE_BASE}`, `dd ${cases.length}`];
    cases.forEach((_, i) => src.push(`dd case_${i} - $$, case_${i}_end - $$`));
    cases.forEach((c, i) => src.push(`case_${i}:`, ...c.asm.map((l) => '  ' + l), `case_${i}_end:`));
    writeFileSync(join(dir, 'cases.asm'), src.join('\n') + '\n');
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'code.bin'), join(dir, 'cases.asm')], { stdio: 'inherit' });
    const code = readFileSync(join(dir, 'code.bin'));

    const parts: Buffer[] = [Buffer.from('X87C'), u32le(cases.length)];
    const offsets: Array<[number, number]> = [];
    cases.forEach((c, i) => {
      const start = code.readUInt32LE(4 + 8 * i);
      const end = code.readUInt32LE(8 + 8 * i);
      offsets.push([start, end]);
      parts.push(u32le(start), u32le(c.eflags), u32le(c.data.length), Buffer.from(c.data));
    });
    writeFileSync(join(dir, 'cases.bin'), Buffer.concat(parts));

    execFileSync('gcc', ['-O1', '-static', '-o', join(dir, 'x87run'), join(here, 'x87run.c')], { stdio: 'inherit' });
    execFileSync(join(dir, 'x87run'), [join(dir, 'code.bin'), join(dir, 'cases.bin'), join(dir, 'results.bin')], {
      stdio: 'inherit',
    });
    const res = readFileSync(join(dir, 'results.bin'));

    const out: ReferenceCase[] = [];
    let pos = 0;
    cases.forEach((c, i) => {
      const [start, end] = offsets[i];
      const fault = res.readInt32LE(pos);
      const eax = res.readUInt32LE(pos + 4);
      const eflagsOut = res.readUInt32LE(pos + 8);
      const fsave = res.subarray(pos + 12, pos + 120);
      const dataOut = res.subarray(pos + 120, pos + 120 + c.data.length);
      pos += 120 + c.data.length;
      const r: ReferenceCase = {
        name: c.name,
        addr: CODE_BASE + start,
        code: toHex(code.subarray(start, end)),
        fault: fault < 0 ? -1 : fault - start,
        eax,
        eflagsOut,
        fsave: toHex(fsave),
        changed: diffRuns(c.data, dataOut),
      };
      out.push(r);
      if (print) {
        console.log(`${c.name}: fault=${r.fault} eax=${eax.toString(16)} efl=${eflagsOut.toString(16)}`);
        console.log(`  fsave ${r.fsave.slice(0, 56)} regs ${r.fsave.slice(56)}`);
        console.log(`  data  ${toHex(dataOut)}`);
      }
    });
    if (!print || args.includes('--out')) {
      const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
      const json = { cpu, count: out.length, cases: out };
      const text = JSON.stringify(json, null, 0).replace(/\},\{/g, '},\n{') + '\n';
      writeFileSync(outPath, outPath.endsWith('.gz') ? gzipSync(text, { level: 9 }) : text);
      console.log(`wrote ${out.length} cases to ${outPath}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function diffRuns(before: number[], after: Uint8Array): Array<[number, string]> {
  const runs: Array<[number, string]> = [];
  let i = 0;
  while (i < after.length) {
    if (after[i] === before[i]) {
      i++;
      continue;
    }
    let j = i;
    // extend the run over short stretches of equal bytes
    while (j < after.length && (after[j] !== before[j] || (j + 1 < after.length && after[j + 1] !== before[j + 1]))) j++;
    runs.push([i, toHex(after.subarray(i, j))]);
    i = j;
  }
  return runs;
}

function u32le(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

main();
