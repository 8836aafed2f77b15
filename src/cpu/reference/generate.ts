/**
 * Regenerates cases.json.gz: generates the cases, records them on the host CPU, and checks
 * that every executed block means the same in 32-bit and 64-bit mode.
 *
 *   npx tsx src/cpu/reference/generate.ts [--seed N] [--keep]
 *
 * Needs gcc (x86-64, static), GNU as and objdump. Build files go to a temporary directory
 * (kept and printed with --keep).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { comparedFlags } from './flag-masks';
import { AREA, AREA_SIZE, CaseSpec } from './gen-common';
import {
  genAlias, genAlu, genBitOps, genCond, genLea, genMoves, genMulDiv, genPrefixes, genShift, genShiftd, genStack, genString, genUnary,
  genXchg,
} from './gen-int';
import { genX87, X87_ULP_INSTRUCTIONS } from './gen-x87';
import { RefCase, RefFile } from './format';
import { Rng } from './prng';

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_SEED = 0x5eed1686;

export function generateCases(seed: number): CaseSpec[] {
  const cases: CaseSpec[] = [];
  const emit = (c: CaseSpec): void => {
    cases.push(c);
  };
  // Each group gets its own stream so that editing one group does not reshuffle the others.
  const groups: [string, (rng: Rng, emit: (c: CaseSpec) => void) => void][] = [
    ['alu', genAlu], ['unary', genUnary], ['shift', genShift], ['shiftd', genShiftd], ['muldiv', genMulDiv],
    ['bitops', genBitOps], ['xchg', genXchg], ['moves', genMoves], ['lea', genLea], ['cond', genCond],
    ['stack', genStack], ['string', genString], ['x87', genX87], ['alias', genAlias], ['prefix', genPrefixes],
  ];
  groups.forEach(([, gen], i) => gen(new Rng((seed ^ Math.imul(i + 1, 0x9e3779b9)) >>> 0), emit));
  return cases;
}

function cHeader(cases: CaseSpec[]): string {
  const patchBytes: number[] = [];
  const rows: string[] = [];
  for (const c of cases) {
    const start = patchBytes.length;
    for (const [off, bytes] of c.patches) {
      for (let i = 0; i < bytes.length; i += 255) {
        const chunk = bytes.slice(i, i + 255);
        const o = off + i;
        if (o < 0 || o + chunk.length > AREA_SIZE) throw new Error(`patch outside the data area: ${c.text}`);
        patchBytes.push(o & 0xff, o >> 8, chunk.length, ...chunk.map((b) => b & 0xff));
      }
    }
    rows.push(`{{${c.regs.map((v) => `0x${(v >>> 0).toString(16)}u`).join(',')}},0x${c.flags.toString(16)}u,0x${c.seed.toString(16)}u,${start}u,${patchBytes.length - start}u}`);
  }
  return [
    '#include <stdint.h>',
    `#define REF_AREA 0x${AREA.toString(16)}u`,
    `#define REF_AREA_SIZE ${AREA_SIZE}u`,
    `#define REF_NCASES ${cases.length}u`,
    'struct ref_case { uint32_t regs[8]; uint32_t flags; uint32_t seed; uint32_t patch_start; uint32_t patch_len; };',
    `static const struct ref_case REF_CASES[] = {\n${rows.join(',\n')}\n};`,
    `static const uint8_t REF_PATCHES[] = {${patchBytes.length ? patchBytes.join(',') : '0'}};`,
    '',
  ].join('\n');
}

function asmFile(cases: CaseSpec[]): string {
  const out: string[] = ['.intel_syntax noprefix', '.text', '.code32'];
  cases.forEach((c, i) => {
    out.push(`c${i}_s:`, ...c.asm, `c${i}_e:`, 'jmp ref_case_exit');
  });
  out.push('.section .rodata.alias,"a"');
  cases.forEach((c, i) => {
    if (c.alias) out.push(`a${i}_s:`, ...c.alias, `a${i}_e:`, 'int3');
  });
  out.push('.data', '.balign 8', '.globl ref_code_table', 'ref_code_table:');
  cases.forEach((c, i) => {
    out.push(c.alias ? `.quad c${i}_s, c${i}_e, a${i}_s, a${i}_e` : `.quad c${i}_s, c${i}_e, 0, 0`);
  });
  out.push('.section .note.GNU-stack,"",@progbits', '');
  return out.join('\n');
}

/** objdump's disassembly of the blocks c<i>_s..c<i>_e, one list of instruction texts per block. */
function disassemble(obj: string, mode: 'i386' | 'x86-64', section: string, prefix: string): Map<number, string[]> {
  const text = execFileSync('objdump', [section === '.text' ? '-d' : '-D', '--no-show-raw-insn', '-M', `intel,${mode}`, '-j', section, obj], {
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  const blocks = new Map<number, string[]>();
  let cur: string[] | null = null;
  const head = new RegExp(`^[0-9a-f]+ <${prefix}(\\d+)_([se])>:$`);
  for (const line of text.split('\n')) {
    const h = head.exec(line);
    if (h) {
      if (h[2] === 's') {
        cur = [];
        blocks.set(Number(h[1]), cur);
      } else cur = null;
      continue;
    }
    if (/^[0-9a-f]+ <.*>:$/.test(line)) {
      cur = null;
      continue;
    }
    const m = /^\s*[0-9a-f]+:\s+(.*)$/.exec(line);
    if (m && cur) cur.push(normalizeDisasm(m[1]));
  }
  return blocks;
}

function normalizeDisasm(s: string): string {
  return s
    .replace(/\s+/g, ' ')
    .replace(/ <[^>]*>/g, '')
    .replace(/\[eiz\*1\+(0x[0-9a-f]+)\]/g, 'ds:$1')
    .replace(/\[eiz\*1-(0x[0-9a-f]+)\]/g, (_, n: string) => `ds:0x${(2 ** 32 - parseInt(n, 16)).toString(16)}`)
    .trim();
}

const STACK_OPS = /^(push|pop|pushf|popf|pushfd|popfd|pushfq|popfq|pusha|popa|leave|enter|call|ret|iret|lret|retf)/;

/** Why a block's bytes would not mean the same in 32-bit mode, or null. */
function modeProblem(d32: string[], d64: string[]): string | null {
  if (d32.length !== d64.length) return 'different instruction boundaries';
  for (let i = 0; i < d32.length; i++) {
    const a = d32[i];
    const b = d64[i];
    if (/\(bad\)|\brex|\brip\b|\br(8|9|1[0-5])[dwb]?\b|movsxd|addr32|addr16/.test(b)) return `64-bit decoding: ${b}`;
    if (STACK_OPS.test(a) && !/^(pushw|popw|pushfw|popfw|leavew)\b/.test(a) && !/WORD PTR/.test(a) && !/^(push|pop) (ax|cx|dx|bx|sp|bp|si|di)$/.test(a)) {
      return `stack width differs: ${a}`;
    }
    // 64-bit mode ignores CS/DS/ES/SS overrides; with the replay's flat segments they do not
    // change the address either. objdump shows them as a prefix word in 64-bit mode.
    let n64 = b.replace(/^(cs|ds|es|ss) (.*?PTR )\[/, '$2$1:[');
    n64 = n64.replace(/\br([a-d]x|[sb]p|[sd]i)\b/g, 'e$1').replace(/^jrcxz/, 'jecxz');
    // LEA keeps the low 32 bits of the address, so a sign-extended disp32 gives the same result.
    if (/^lea /.test(n64)) n64 = n64.replace(/ds:0xffffffff([0-9a-f]{8})$/, (_, h: string) => `ds:0x${parseInt(h, 16).toString(16)}`);
    if (n64 !== a) return `32-bit "${a}" vs 64-bit "${b}"`;
  }
  return null;
}

function hexOf(s: string): string {
  return s === '-' ? '' : s;
}

function main(): void {
  const args = process.argv.slice(2);
  const seedArg = args.indexOf('--seed');
  const seed = seedArg >= 0 ? Number(args[seedArg + 1]) >>> 0 : DEFAULT_SEED;
  const keep = args.includes('--keep');
  const specs = generateCases(seed);
  const dir = mkdtempSync(join(tmpdir(), 'pc-machine-reference-'));
  try {
    writeFileSync(join(dir, 'cases.h'), cHeader(specs));
    writeFileSync(join(dir, 'cases.S'), asmFile(specs));
    const run = (cmd: string, argv: string[]): string => execFileSync(cmd, argv, { cwd: dir, maxBuffer: 1 << 30, encoding: 'utf8' });
    run('gcc', ['-c', '-o', 'cases.o', 'cases.S']);
    run('gcc', ['-static', '-O1', '-Wall', '-I', dir, '-o', 'recorder', join(HERE, 'driver.c'), join(HERE, 'trampoline.S'), 'cases.o']);
    const output = run(join(dir, 'recorder'), []);
    const d32 = disassemble(join(dir, 'cases.o'), 'i386', '.text', 'c');
    const d64 = disassemble(join(dir, 'cases.o'), 'x86-64', '.text', 'c');
    const dAlias = disassemble(join(dir, 'cases.o'), 'i386', '.rodata.alias', 'a');

    const groups: string[] = [];
    const groupIndex = new Map<string, number>();
    const cases: RefCase[] = [];
    const counts: Record<string, number> = {};
    const dropped: string[] = [];
    for (const line of output.trim().split('\n')) {
      const f = line.split(' ');
      const id = Number(f[0]);
      const spec = specs[id];
      if (f[1] === 'FAULT') {
        dropped.push(`fault (signal ${f[2]} at +0x${f[3]}): ${spec.group}: ${spec.text}`);
        continue;
      }
      const problem = modeProblem(d32.get(id) ?? [], d64.get(id) ?? []);
      if (problem) {
        dropped.push(`not mode-invariant (${problem}): ${spec.group}: ${spec.text}`);
        continue;
      }
      if (spec.alias) {
        const ours = (d32.get(id) ?? []).join('; ');
        const theirs = (dAlias.get(id) ?? []).join('; ');
        if (ours !== theirs) {
          dropped.push(`alias is not the same instruction ("${theirs}" vs "${ours}"): ${spec.text}`);
          continue;
        }
      }
      let g = groupIndex.get(spec.group);
      if (g === undefined) {
        g = groups.length;
        groups.push(spec.group);
        groupIndex.set(spec.group, g);
      }
      counts[spec.group] = (counts[spec.group] ?? 0) + 1;
      const hostBytes = hexOf(f[11]);
      const rc: RefCase = {
        g,
        t: spec.text,
        b: spec.alias ? hexOf(f[12]) : hostBytes,
        r: spec.regs,
        f: parseInt(f[1], 16) >>> 0,
        s: spec.seed,
        R: f.slice(2, 10).map((v) => parseInt(v, 16) >>> 0),
        F: parseInt(f[10], 16) >>> 0,
        m: comparedFlags(spec.undefFlags),
      };
      if (spec.alias) rc.hb = hostBytes;
      if (spec.patches.length) rc.p = spec.patches.flatMap(([off, bytes]) => [off, bytes.map((b) => (b & 0xff).toString(16).padStart(2, '0')).join('')]);
      if (f[13] !== '-') rc.w = f[13].split(',').flatMap((kv) => kv.split('=').map((v) => parseInt(v, 16)));
      if (spec.regMask) rc.rm = spec.regMask.map((v) => v >>> 0);
      if (spec.memMask) rc.mm = spec.memMask.flat();
      if (spec.ulp) rc.u = spec.ulp;
      cases.push(rc);
    }
    const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
    const ref: RefFile = {
      format: 1,
      meta: {
        description: 'pc-machine differential CPU reference: results recorded on a real x86 CPU (see src/cpu/reference/README.md)',
        host: cpu,
        hostMode:
          'recorded in 64-bit mode (the host kernel cannot run 32-bit code); only encodings that objdump decodes identically in 32-bit and 64-bit mode are kept, except the alias cases (field hb = bytes the host ran)',
        seed,
        area: AREA,
        areaSize: AREA_SIZE,
        ulpTolerance: `m64 results of ${X87_ULP_INSTRUCTIONS.join(', ')} (offsets in field u) may differ by 1 ulp; after them FNSTSW's C1 and PE bits are not compared`,
        flagMasks: 'field m = EFLAGS bits compared; SDM-undefined flags per instruction are in src/cpu/reference/flag-masks.ts',
        notRecorded: [
          'DAA DAS AAA AAS AAM AAD, PUSHA/POPA, 32-bit PUSH/POP/PUSHFD/POPFD/PUSH imm, ENTER, 32-bit LEAVE: invalid or of another width in 64-bit mode',
          '16-bit address size (0x67: [bx+si] forms, string instructions with SI/DI/CX, LOOP/JCXZ with CX): 0x67 selects 32-bit addressing in 64-bit mode',
        ],
        caseCounts: counts,
      },
      groups,
      cases,
    };
    const gz = gzipSync(Buffer.from(JSON.stringify(ref)), { level: 9 });
    writeFileSync(join(HERE, 'cases.json.gz'), gz);
    for (const d of dropped) console.log('dropped:', d);
    console.log(`generated ${specs.length}, recorded ${cases.length}, dropped ${dropped.length}; ${(gz.length / 1024).toFixed(0)} KiB`);
    for (const [g, n] of Object.entries(counts)) console.log(`  ${g.padEnd(12)} ${n}`);
  } finally {
    if (keep) console.log('build files in', dir);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
