/**
 * The block compiler: hot straight-line runs of 32-bit code are translated into JavaScript
 * functions (`new Function`), which V8 then compiles to machine code. A block starts at a guest
 * instruction that the interpreter has executed often, covers the common integer instructions
 * (MOV, LEA, ALU, INC/DEC, TEST, shifts, PUSH/POP, MOVZX/MOVSX, SETcc, CMOVcc, IMUL) and ends with
 * a control transfer (Jcc, JMP, CALL, RET) or just before the first instruction it does not
 * cover, which the interpreter then executes. Blocks never cross a page.
 *
 * Blocks are keyed by the *physical* address of their first byte (plus the EIP they were
 * compiled for), so a changed page mapping needs no flush. A page holding compiled code is never
 * given a fast write mapping in the TLB: any write to it reaches `PhysMemory`, which reports it,
 * and the page's blocks are dropped (self-modifying code, a freed page reused for new code).
 *
 * Faults inside a block: before each instruction that can fault, the block records its EIP in
 * `cpu.instrStart`; the fault unwinds out of the block and is delivered exactly as from the
 * interpreter. Every instruction performs its memory accesses before it changes registers.
 *
 * Flags: a conditional jump that follows its CMP/SUB/TEST/AND/... in the same block tests the
 * operands directly (e.g. `(a >>> 0) < (b >>> 0)` for JB) while the lazy-flag state is still
 * recorded for any later reader.
 */
import type { Cpu } from './cpu';
import { EXC_NM } from './exceptions';
import {
  CS, CR0_EM, CR0_TS, CR4_TSD, FLAG_AF, FLAG_CF, FLAG_DF, FLAG_IF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, FLAGS_ARITH,
} from './registers';
import { LAZY_ADD, LAZY_SUB } from './flags';

/** Direct-mapped table of compiled blocks. */
const TABLE_BITS = 16;
const TABLE_SIZE = 1 << TABLE_BITS;
const TABLE_MASK = TABLE_SIZE - 1;
/**
 * Longest block (all regions of a function), in guest instructions. Longer functions take V8
 * longer to optimize, and the code waits unoptimized meanwhile: at 200 the bench's sha256 and gzip
 * ran about 15% slower than at 100, at 500 gzip took 9.3 s instead of 7; below 100 the shell loop
 * loses more to block exits than it gains (see README.md).
 */
const MAX_BLOCK_INSTRUCTIONS = 100;
/** Pages whose code was invalidated this often are left to the interpreter. */
const MAX_PAGE_INVALIDATIONS = 16;

/** A compiled block; `entry` is the case label to start at (0: the block's own start). */
export type BlockFn = (cpu: Cpu, r: Int32Array, r8: Uint8Array, r16: Uint16Array, sb: Int32Array, entry: number) => void;

export function tableSlot(phys: number): number {
  return (phys ^ (phys >>> TABLE_BITS)) & TABLE_MASK;
}

/** A block that could not be compiled (first instruction unsupported) is remembered with this. */
const NOT_COMPILABLE: BlockFn = () => {};

/**
 * Compiled blocks. The fast path is a direct-mapped table (`tag`/`eip`/`fn`, indexed by
 * `tableSlot(phys)`); every block also lives in `byPhys`, so two hot blocks whose addresses share
 * a slot take turns in it instead of being recompiled (and interpreted while they warm up again)
 * each time the other one runs.
 */
export class BlockCache {
  /** physical address + 1 of the block in each slot (0 = empty). */
  readonly tag = new Int32Array(TABLE_SIZE);
  readonly eip = new Int32Array(TABLE_SIZE);
  readonly fn: BlockFn[] = new Array<BlockFn>(TABLE_SIZE).fill(NOT_COMPILABLE);
  /** The `entry` argument for the slot's function. */
  readonly entry = new Int32Array(TABLE_SIZE);
  /** Interpreter executions of an instruction that hashes to this slot. */
  readonly heat = new Uint16Array(TABLE_SIZE);
  /** Every block (and every start that cannot be compiled), by physical address. */
  private readonly byPhys = new Map<number, { eip: number; fn: BlockFn; entry: number }>();
  /** The physical addresses of the blocks in each physical page. */
  private readonly pageBlocks = new Map<number, number[]>();
  private readonly pageInvalidations = new Map<number, number>();
  compiled = 0;
  invalidated = 0;

  constructor(private readonly cpu: Cpu) {}

  static isCompilable(fn: BlockFn): boolean {
    return fn !== NOT_COMPILABLE;
  }

  /**
   * A block known for `phys` and `eip` that is not in its table slot (another block took the
   * slot): put it back there and return it; null when there is none.
   */
  recall(phys: number, eip: number): BlockFn | null {
    const known = this.byPhys.get(phys);
    if (!known || known.eip !== eip) return null;
    const slot = tableSlot(phys);
    this.tag[slot] = phys + 1;
    this.eip[slot] = eip;
    this.fn[slot] = known.fn;
    this.entry[slot] = known.entry;
    return known.fn;
  }

  /** Compile the block starting at the current EIP (physical address `phys`); returns it or null. */
  compile(phys: number): BlockFn | null {
    const cpu = this.cpu;
    const page = phys >>> 12;
    if ((this.pageInvalidations.get(page) ?? 0) > MAX_PAGE_INVALIDATIONS) {
      this.install(phys, NOT_COMPILABLE, page);
      return null;
    }
    const deps = new Set<number>();
    const entries = new Map<number, number>();
    const fn = compileBlock(cpu, phys, cpu.eip, deps, entries);
    this.install(phys, fn ?? NOT_COMPILABLE, page);
    // a write to a page whose code was inlined drops this block too
    for (const dep of deps) if (dep !== page) this.watch(dep).push(phys);
    if (fn) {
      this.compiled++;
      // Every labelled instruction of the function is an entry into it: a branch target there
      // that gets hot later is run by this function rather than compiled again.
      if (cpu.csBase === 0) {
        for (const [eip, label] of entries) {
          const at = (phys & ~0xfff) | (eip & 0xfff);
          if (eip === cpu.eip || this.byPhys.has(at)) continue;
          this.byPhys.set(at, { eip, fn, entry: label });
          this.watch(page).push(at);
          for (const dep of deps) if (dep !== page) this.watch(dep).push(at);
        }
      }
    }
    return fn;
  }

  /** The list of blocks depending on physical page `page`, which from now on reports writes. */
  private watch(page: number): number[] {
    let list = this.pageBlocks.get(page);
    if (!list) {
      list = [];
      this.pageBlocks.set(page, list);
      if (!this.cpu.mem.codePages[page]) {
        this.cpu.mem.codePages[page] = 1;
        this.cpu.dropWriteMappingsTo(page);
      }
    }
    return list;
  }

  private install(phys: number, fn: BlockFn, page: number): void {
    const slot = tableSlot(phys);
    const eip = this.cpu.eip;
    this.tag[slot] = phys + 1;
    this.eip[slot] = eip;
    this.fn[slot] = fn;
    this.entry[slot] = 0;
    this.byPhys.set(phys, { eip, fn, entry: 0 });
    this.watch(page).push(phys);
  }

  /** A write reached a page holding compiled code. */
  invalidatePage(page: number): void {
    const list = this.pageBlocks.get(page);
    this.cpu.mem.codePages[page] = 0;
    if (!list) return;
    this.pageBlocks.delete(page);
    for (const phys of list) {
      this.byPhys.delete(phys);
      const slot = tableSlot(phys);
      if (this.tag[slot] === phys + 1) {
        this.tag[slot] = 0;
        this.fn[slot] = NOT_COMPILABLE;
        this.heat[slot] = 0;
      }
    }
    this.invalidated++;
    this.pageInvalidations.set(page, (this.pageInvalidations.get(page) ?? 0) + 1);
  }

  clear(): void {
    for (const page of this.pageBlocks.keys()) this.cpu.mem.codePages[page] = 0;
    this.pageBlocks.clear();
    this.byPhys.clear();
    this.pageInvalidations.clear();
    this.tag.fill(0);
    this.heat.fill(0);
    this.fn.fill(NOT_COMPILABLE);
  }
}

// --- Code generation ---

const SIGN = 31;
/** The flags SAHF/LAHF move: SF ZF AF PF CF. */
const SAHF_MASK = 0xd5;

interface FlagSource {
  kind: 'sub' | 'add' | 'logic';
  a: string;
  b: string;
  r: string;
}

class Emitter {
  constructor(readonly cpu: Cpu) {}
  lines: string[] = [];
  /** Physical pages other than the block's own whose code the block depends on (inlined thunks). */
  readonly deps = new Set<number>();
  private tmp = 0;
  /** The last flag-setting operation in this block (for fused compare-and-branch). */
  flags: FlagSource | null = null;
  /** Set by STI: the variable that says IF was clear, so the interrupt shadow starts at block exit. */
  shadowIf: string | null = null;
  /** Set by a direct control transfer: Jcc (cond set), JMP/CALL rel (cond null). */
  branch: { cond: string | null; target: number; next: number } | null = null;
  /**
   * Instructions this block may still take after the one being compiled, the page's last byte,
   * and whether the instruction at a code position is compiled already (the block jumps there,
   * and may leave at that jump).
   */
  room = 0;
  pageLast = 0;
  compiledAt: (pos: number) => boolean = () => true;
  t(): string {
    return `t${this.tmp++}`;
  }
  emit(s: string): void {
    this.lines.push(s);
  }
}

/** Decoder over the bytes of one page of guest code. */
class CodeReader {
  pos: number;
  constructor(readonly u8: Uint8Array, start: number) {
    this.pos = start;
  }
  u8n(): number {
    return this.u8[this.pos++];
  }
  s8(): number {
    return (this.u8[this.pos++] << 24) >> 24;
  }
  u32(): number {
    const u = this.u8, p = this.pos;
    this.pos += 4;
    return u[p] | (u[p + 1] << 8) | (u[p + 2] << 16) | (u[p + 3] << 24);
  }
}

const REG8_INDEX = [0, 4, 8, 12, 1, 5, 9, 13];

/** Length of a ModRM operand with 32-bit addressing (ModRM, SIB, displacement) at `p`. */
function modrmLength(u: Uint8Array, p: number): number {
  const modrm = u[p];
  const mod = modrm >> 6;
  const rm = modrm & 7;
  if (mod === 3) return 1;
  let n = 1;
  if (rm === 4) {
    n++;
    if (mod === 0 && (u[p + 1] & 7) === 5) n += 4;
  } else if (mod === 0 && rm === 5) n += 4;
  return n + (mod === 1 ? 1 : mod === 2 ? 4 : 0);
}

/**
 * Whether the arithmetic flags in `mask` that an instruction sets are dead: the instructions after
 * it (at rd.pos), compiled into this block with nothing in between that reads flags, leaves the
 * block or can fault, overwrite them. The instruction then need not compute them. Looks past
 * moves, LEA, NOT, BSWAP and XCHG of registers; stops at anything else.
 */
function flagsDeadAfter(e: Emitter, rd: CodeReader, mask = FLAGS_ARITH): boolean {
  const u = rd.u8;
  let p = rd.pos;
  for (let k = 0; k < 6 && k < e.room && p + 7 <= e.pageLast && !e.compiledAt(p); k++) {
    const op = u[p];
    const modrm = u[p + 1];
    const reg = (modrm >> 3) & 7;
    const regForm = modrm >= 0xc0;
    // writers of all six flags that read none and cannot fault
    if (op < 0x40 && (op & 7) < 6 && (op >> 3) !== 2 && (op >> 3) !== 3) {
      // ADD OR AND SUB XOR CMP: register forms and accumulator-immediate forms (ADC/SBB read CF)
      return (op & 7) >= 4 || regForm;
    }
    if ((op === 0x80 || op === 0x81 || op === 0x83) && regForm && reg !== 2 && reg !== 3) return true;
    if ((op === 0x84 || op === 0x85) && regForm) return true;
    if (op === 0xa8 || op === 0xa9) return true;
    if ((op === 0xc1 || op === 0xd1) && regForm && (op === 0xd1 || (u[p + 2] & 31) !== 0)) {
      if (reg === 4 || reg === 5 || reg === 7) return true; // SHL SHR SAR
      if (reg < 2) return (mask & ~(FLAG_CF | FLAG_OF)) === 0; // ROL ROR: CF and OF only
      return false;
    }
    if (op === 0xf7 && regForm && reg === 3) return true; // NEG
    // neither reading nor writing flags, and no fault: step over
    if ((op === 0x89 || op === 0x8b || op === 0x88 || op === 0x8a) && regForm) p += 2;
    else if (op === 0x8d && !regForm) p += 1 + modrmLength(u, p + 1);
    else if (op >= 0xb8 && op <= 0xbf) p += 5;
    else if (op >= 0xb0 && op <= 0xb7) p += 2;
    else if (op >= 0x90 && op <= 0x97) p += 1;
    else if (op === 0xf7 && regForm && reg === 2) p += 2; // NOT
    else if (op === 0x0f && modrm >= 0xc8 && modrm <= 0xcf) p += 2; // BSWAP
    else return false;
  }
  return false;
}

/** Effective address expression for a ModRM memory operand (32-bit addressing). */
function eaExpr(rd: CodeReader, modrm: number, seg: number): string {
  const mod = modrm >> 6;
  const rm = modrm & 7;
  let s = 3; // DS
  const parts: string[] = [];
  let disp = 0;
  if (rm === 4) {
    const sib = rd.u8n();
    const base = sib & 7;
    const index = (sib >> 3) & 7;
    const scale = sib >> 6;
    if (index !== 4) parts.push(scale ? `(r[${index}] << ${scale})` : `r[${index}]`);
    if (base === 5 && mod === 0) disp = rd.u32();
    else {
      parts.push(`r[${base}]`);
      if (base === 4 || base === 5) s = 2;
    }
  } else if (rm === 5 && mod === 0) {
    disp = rd.u32();
  } else {
    parts.push(`r[${rm}]`);
    if (rm === 5) s = 2;
  }
  if (mod === 1) disp = rd.s8();
  else if (mod === 2) disp = rd.u32();
  if (seg >= 0) s = seg;
  if (disp) parts.push(String(disp | 0));
  if (parts.length === 0) parts.push('0');
  return `((sb[${s}] + ${parts.join(' + ')}) | 0)`;
}

/** Condition expression for Jcc/SETcc/CMOVcc, fused with the block's last flag source when possible. */
function conditionExpr(e: Emitter, cc: number): string {
  const f = e.flags;
  const neg = (x: string) => ((cc & 1) ? `!(${x})` : `(${x})`);
  if (f) {
    const base = cc & ~1;
    if (f.kind === 'sub') {
      switch (base) {
        case 2: return neg(`(${f.a} >>> 0) < (${f.b} >>> 0)`);
        case 4: return neg(`${f.r} === 0`);
        case 6: return neg(`(${f.a} >>> 0) <= (${f.b} >>> 0)`);
        case 8: return neg(`${f.r} < 0`);
        case 12: return neg(`${f.a} < ${f.b}`);
        case 14: return neg(`${f.a} <= ${f.b}`);
      }
    } else if (f.kind === 'logic') {
      switch (base) {
        case 0: return cc & 1 ? 'true' : 'false';
        case 2: return cc & 1 ? 'true' : 'false';
        case 4: return neg(`${f.r} === 0`);
        case 6: return neg(`${f.r} === 0`);
        case 8: return neg(`${f.r} < 0`);
        case 12: return neg(`${f.r} < 0`);
        case 14: return neg(`${f.r} <= 0`);
      }
    } else {
      switch (base) {
        case 4: return neg(`${f.r} === 0`);
        case 8: return neg(`${f.r} < 0`);
      }
    }
  }
  return `cpu.testCondition(${cc})`;
}

/** 32-bit ALU operation `op` on expressions a, b; returns the result variable name. */
function emitAlu32(e: Emitter, op: number, a: string, b: string): string {
  const va = e.t(), vb = e.t(), r = e.t();
  e.emit(`const ${va} = ${a}, ${vb} = ${b};`);
  switch (op) {
    case 0:
      e.emit(`const ${r} = (${va} + ${vb}) | 0; cpu.setFlagsAdd(${va}, ${vb}, ${r}, ${SIGN});`);
      e.flags = { kind: 'add', a: va, b: vb, r };
      return r;
    case 1: case 4: case 6: {
      const o = op === 1 ? '|' : op === 4 ? '&' : '^';
      e.emit(`const ${r} = ${va} ${o} ${vb}; cpu.setFlagsLogic(${r}, ${SIGN});`);
      e.flags = { kind: 'logic', a: va, b: vb, r };
      return r;
    }
    case 5: case 7:
      e.emit(`const ${r} = (${va} - ${vb}) | 0; cpu.setFlagsSub(${va}, ${vb}, ${r}, ${SIGN});`);
      e.flags = { kind: 'sub', a: va, b: vb, r };
      return r;
    default:
      e.emit(`const ${r} = cpu.alu(${op}, ${va}, ${vb}, ${SIGN});`);
      e.flags = null;
      return r;
  }
}

type Step = 'continue' | 'end' | 'stop' | 'branch';

/**
 * Compile one instruction at rd.pos. Returns 'continue', 'end' (a control transfer was emitted:
 * the block is complete) or 'stop' (not compilable: end the block before it).
 */
function compileInstruction(e: Emitter, rd: CodeReader, eip: number, nextEip: () => number): Step {
  let seg = -1;
  let rep = 0;
  let o16 = false;
  let lock = false;
  let op = rd.u8n();
  // Segment overrides FS/GS (thread-local storage, per-CPU data) and DS/ES/SS/CS; REP; the
  // operand-size prefix; LOCK (one CPU, so every read-modify-write is already atomic).
  for (;;) {
    if (op === 0xf3) rep = 1;
    else if (op === 0xf2) rep = 2;
    else if (op === 0x66) o16 = true;
    else if (op === 0xf0) lock = true;
    else if (op === 0x64) seg = 4;
    else if (op === 0x65) seg = 5;
    else if (op === 0x26) seg = 0;
    else if (op === 0x2e) seg = 1;
    else if (op === 0x36) seg = 2;
    else if (op === 0x3e) seg = 3;
    else break;
    op = rd.u8n();
  }
  // REP/REPNE only in front of string instructions, and F3 0F BC (TZCNT, which runs as BSF on a
  // CPU without BMI1 such as this one).
  if (rep === 1 && op === 0x0f && rd.u8[rd.pos] === 0xbc) rep = 0;
  if (rep && !(op >= 0xa4 && op <= 0xaf && op !== 0xa8 && op !== 0xa9)) return 'stop';
  // LOCK only in front of a read-modify-write of memory (else #UD, which the interpreter raises).
  if (lock && !isLockable(op, rd.u8[rd.pos], rd.u8[rd.pos + 1])) return 'stop';
  const fault = () => e.emit(`cpu.instrStart = ${eip | 0};`);
  if (o16) return rep ? 'stop' : compileOperandSize16(e, rd, op, seg, fault);
  switch (op) {
    // ALU Ev,Gv / Gv,Ev / eAX,Iz (32-bit) and Eb,Gb / Gb,Eb / AL,Ib (8-bit)
    case 0x00: case 0x08: case 0x10: case 0x18: case 0x20: case 0x28: case 0x30: case 0x38:
    case 0x02: case 0x0a: case 0x12: case 0x1a: case 0x22: case 0x2a: case 0x32: case 0x3a: {
      const alu = op >> 3;
      const modrm = rd.u8n();
      const g = `r8[${REG8_INDEX[(modrm >> 3) & 7]}]`;
      const toReg = (op & 2) !== 0;
      const r = e.t();
      if (modrm >= 0xc0) {
        const m = `r8[${REG8_INDEX[modrm & 7]}]`;
        e.emit(`const ${r} = cpu.alu(${alu}, ${toReg ? g : m}, ${toReg ? m : g}, 7);`);
        if (alu !== 7) e.emit(`${toReg ? g : m} = ${r};`);
      } else {
        const ea = e.t();
        e.emit(`const ${ea} = ${eaExpr(rd, modrm, seg)};`);
        fault();
        if (toReg) {
          e.emit(`const ${r} = cpu.alu(${alu}, ${g}, cpu.read8(${ea}), 7);`);
          if (alu !== 7) e.emit(`${g} = ${r};`);
        } else if (alu === 7) e.emit(`cpu.alu(7, cpu.read8(${ea}), ${g}, 7);`);
        else e.emit(`cpu.write8(${ea}, cpu.alu(${alu}, cpu.rmw8(${ea}), ${g}, 7));`);
      }
      e.flags = null;
      return 'continue';
    }
    case 0x01: case 0x09: case 0x11: case 0x19: case 0x21: case 0x29: case 0x31: case 0x39:
    case 0x03: case 0x0b: case 0x13: case 0x1b: case 0x23: case 0x2b: case 0x33: case 0x3b: {
      const alu = op >> 3;
      const modrm = rd.u8n();
      const g = `r[${(modrm >> 3) & 7}]`;
      const toReg = (op & 2) !== 0;
      if (modrm >= 0xc0) {
        const m = `r[${modrm & 7}]`;
        if (alu === 6 && !toReg && (modrm & 7) === ((modrm >> 3) & 7)) {
          // xor r, r: the zeroing idiom
          e.emit(`${m} = 0; cpu.setFlagsLogic(0, ${SIGN});`);
          e.flags = { kind: 'logic', a: '0', b: '0', r: '0' };
          return 'continue';
        }
        const res = emitAlu32(e, alu, toReg ? g : m, toReg ? m : g);
        if (alu !== 7) e.emit(`${toReg ? g : m} = ${res};`);
        return 'continue';
      }
      const ea = e.t();
      e.emit(`const ${ea} = ${eaExpr(rd, modrm, seg)};`);
      fault();
      if (toReg) {
        const res = emitAlu32(e, alu, g, `cpu.read32(${ea})`);
        if (alu !== 7) e.emit(`${g} = ${res};`);
      } else if (alu === 7) {
        emitAlu32(e, 7, `cpu.read32(${ea})`, g);
      } else {
        const res = emitAlu32(e, alu, `cpu.rmw32(${ea})`, g);
        e.emit(`cpu.write32(${ea}, ${res});`);
      }
      return 'continue';
    }
    case 0x04: case 0x0c: case 0x14: case 0x1c: case 0x24: case 0x2c: case 0x34: case 0x3c: {
      const imm = rd.u8n();
      const r = e.t();
      e.emit(`const ${r} = cpu.alu(${op >> 3}, r8[0], ${imm}, 7);`);
      if (op >> 3 !== 7) e.emit(`r8[0] = ${r};`);
      e.flags = null;
      return 'continue';
    }
    case 0x05: case 0x0d: case 0x15: case 0x1d: case 0x25: case 0x2d: case 0x35: case 0x3d: {
      const imm = rd.u32();
      const res = emitAlu32(e, op >> 3, 'r[0]', String(imm));
      if (op >> 3 !== 7) e.emit(`r[0] = ${res};`);
      return 'continue';
    }
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
      const reg = op & 7;
      const dec = op >= 0x48;
      const a = e.t(), r = e.t();
      // CF is kept (read, then written back) unless the instructions after overwrite every flag
      const flags = flagsDeadAfter(e, rd, FLAG_CF)
        ? `cpu.${dec ? 'setFlagsSub' : 'setFlagsAdd'}(${a}, 1, ${r}, ${SIGN})`
        : `cpu.setFlagsIncDec(${a}, ${r}, ${SIGN}, ${dec})`;
      e.emit(`const ${a} = r[${reg}], ${r} = (${a} ${dec ? '-' : '+'} 1) | 0; r[${reg}] = ${r}; ${flags};`);
      e.flags = { kind: 'add', a, b: '1', r };
      return 'continue';
    }
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
      fault();
      e.emit(`cpu.push32(r[${op & 7}]);`);
      return 'continue';
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f: {
      fault();
      const v = e.t();
      e.emit(`const ${v} = cpu.pop32(); r[${op & 7}] = ${v};`);
      return 'continue';
    }
    case 0x68:
      fault();
      e.emit(`cpu.push32(${rd.u32()});`);
      return 'continue';
    case 0x6a:
      fault();
      e.emit(`cpu.push32(${rd.s8()});`);
      return 'continue';
    case 0x69: case 0x6b: { // IMUL Gv, Ev, Iz/Ib
      const modrm = rd.u8n();
      const src = modrmRead32(e, rd, modrm, seg, fault);
      const imm = op === 0x6b ? rd.s8() : rd.u32();
      const lo = e.t();
      e.emit(`const ${lo} = cpu.mul32(${src}, ${imm}, true); r[${(modrm >> 3) & 7}] = ${lo};`);
      e.emit(`{ const o = cpu.mulHigh !== (${lo} >> 31) ? 1 : 0; cpu.setFlagsResultWith(${lo}, 31, o, o); }`);
      e.flags = null;
      return 'continue';
    }
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f: {
      const d = rd.s8();
      const next = nextEip();
      e.branch = { cond: conditionExpr(e, op & 15), target: (next + d) | 0, next };
      return 'branch';
    }
    case 0x80: case 0x81: case 0x83: {
      const modrm = rd.u8n();
      const alu = (modrm >> 3) & 7;
      if (op === 0x80) {
        const r = e.t();
        if (modrm >= 0xc0) {
          const m = `r8[${REG8_INDEX[modrm & 7]}]`;
          e.emit(`const ${r} = cpu.alu(${alu}, ${m}, ${rd.u8n()}, 7);`);
          if (alu !== 7) e.emit(`${m} = ${r};`);
        } else {
          const ea = e.t();
          e.emit(`const ${ea} = ${eaExpr(rd, modrm, seg)};`);
          fault();
          const imm = rd.u8n();
          if (alu === 7) e.emit(`cpu.alu(7, cpu.read8(${ea}), ${imm}, 7);`);
          else e.emit(`cpu.write8(${ea}, cpu.alu(${alu}, cpu.rmw8(${ea}), ${imm}, 7));`);
        }
        e.flags = null;
        return 'continue';
      }
      if (modrm >= 0xc0) {
        const imm = op === 0x83 ? rd.s8() : rd.u32();
        const m = `r[${modrm & 7}]`;
        const res = emitAlu32(e, alu, m, String(imm));
        if (alu !== 7) e.emit(`${m} = ${res};`);
        return 'continue';
      }
      const ea = e.t();
      e.emit(`const ${ea} = ${eaExpr(rd, modrm, seg)};`);
      fault();
      const imm = op === 0x83 ? rd.s8() : rd.u32();
      if (alu === 7) emitAlu32(e, 7, `cpu.read32(${ea})`, String(imm));
      else {
        const res = emitAlu32(e, alu, `cpu.rmw32(${ea})`, String(imm));
        e.emit(`cpu.write32(${ea}, ${res});`);
      }
      return 'continue';
    }
    case 0x84: case 0x85: {
      const modrm = rd.u8n();
      if (op === 0x84) {
        const src = modrm >= 0xc0 ? `r8[${REG8_INDEX[modrm & 7]}]` : (() => {
          const ea = eaExpr(rd, modrm, seg);
          fault();
          return `cpu.read8(${ea})`;
        })();
        e.emit(`cpu.setFlagsLogic(${src} & r8[${REG8_INDEX[(modrm >> 3) & 7]}], 7);`);
        e.flags = null;
        return 'continue';
      }
      const src = modrmRead32(e, rd, modrm, seg, fault);
      const r = e.t();
      e.emit(`const ${r} = ${src} & r[${(modrm >> 3) & 7}]; cpu.setFlagsLogic(${r}, ${SIGN});`);
      e.flags = { kind: 'logic', a: r, b: r, r };
      return 'continue';
    }
    case 0x87: {
      const modrm = rd.u8n();
      const g = `r[${(modrm >> 3) & 7}]`;
      const t = e.t();
      if (modrm >= 0xc0) {
        e.emit(`const ${t} = r[${modrm & 7}]; r[${modrm & 7}] = ${g}; ${g} = ${t};`);
        return 'continue';
      }
      const ea = e.t();
      e.emit(`const ${ea} = ${eaExpr(rd, modrm, seg)};`);
      fault();
      e.emit(`const ${t} = cpu.rmw32(${ea}); cpu.write32(${ea}, ${g}); ${g} = ${t};`);
      return 'continue';
    }
    case 0xc9: // LEAVE
      fault();
      e.emit('cpu.leave(true);');
      return 'continue';
    case 0xfa: // CLI (#GP when CPL > IOPL)
      fault();
      e.emit(`if (cpu.cr0 & 1 && cpu.cpl > ((cpu.flagsReg >> 12) & 3)) cpu.raiseGP(0); cpu.flagsReg &= ${~FLAG_IF};`);
      return 'continue';
    case 0xfb: { // STI: ends the block; interrupts are recognised after the next instruction
      fault();
      const wasOff = e.t();
      e.emit(`if (cpu.cr0 & 1 && cpu.cpl > ((cpu.flagsReg >> 12) & 3)) cpu.raiseGP(0);`);
      e.emit(`const ${wasOff} = (cpu.flagsReg & ${FLAG_IF}) === 0; cpu.flagsReg |= ${FLAG_IF}; cpu.eip = ${nextEip() | 0};`);
      e.shadowIf = wasOff;
      return 'end';
    }
    case 0xfc:
      e.emit(`cpu.flagsReg &= ${~FLAG_DF};`);
      return 'continue';
    case 0xfd:
      e.emit(`cpu.flagsReg |= ${FLAG_DF};`);
      return 'continue';
    case 0xfe: // INC/DEC Eb
      return emitIncDecSmall(e, rd, rd.u8n(), seg, fault, 8);
    case 0x88: {
      const modrm = rd.u8n();
      const g = `r8[${REG8_INDEX[(modrm >> 3) & 7]}]`;
      if (modrm >= 0xc0) e.emit(`r8[${REG8_INDEX[modrm & 7]}] = ${g};`);
      else {
        const ea = eaExpr(rd, modrm, seg);
        fault();
        e.emit(`cpu.write8(${ea}, ${g});`);
      }
      return 'continue';
    }
    case 0x89: {
      const modrm = rd.u8n();
      const g = `r[${(modrm >> 3) & 7}]`;
      if (modrm >= 0xc0) e.emit(`r[${modrm & 7}] = ${g};`);
      else {
        const ea = eaExpr(rd, modrm, seg);
        fault();
        e.emit(`cpu.write32(${ea}, ${g});`);
      }
      return 'continue';
    }
    case 0x8a: {
      const modrm = rd.u8n();
      const g = `r8[${REG8_INDEX[(modrm >> 3) & 7]}]`;
      if (modrm >= 0xc0) e.emit(`${g} = r8[${REG8_INDEX[modrm & 7]}];`);
      else {
        const ea = eaExpr(rd, modrm, seg);
        fault();
        e.emit(`${g} = cpu.read8(${ea});`);
      }
      return 'continue';
    }
    case 0x8b: {
      const modrm = rd.u8n();
      const src = modrmRead32(e, rd, modrm, seg, fault);
      e.emit(`r[${(modrm >> 3) & 7}] = ${src};`);
      return 'continue';
    }
    case 0x8d: {
      const modrm = rd.u8n();
      if (modrm >= 0xc0) return 'stop';
      // LEA: the offset only (segment base removed by using a zero base)
      const ea = eaExpr(rd, modrm, 6);
      e.emit(`r[${(modrm >> 3) & 7}] = ${ea.replace('sb[6]', '0')};`);
      return 'continue';
    }
    case 0x90:
      return 'continue';
    case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: { // XCHG EAX, r32
      const t = e.t();
      e.emit(`const ${t} = r[0]; r[0] = r[${op & 7}]; r[${op & 7}] = ${t};`);
      return 'continue';
    }
    case 0x9e: // SAHF: SF ZF AF PF CF from AH
      e.emit(`cpu.setArithFlags(r8[1], ${SAHF_MASK});`);
      e.flags = null;
      return 'continue';
    case 0x9f: // LAHF
      e.emit(`r8[1] = (cpu.getEflags() & ${SAHF_MASK}) | 2;`);
      return 'continue';
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: { // MOV AL/EAX <-> moffs32
      const off = rd.u32();
      const ea = `((sb[${seg >= 0 ? seg : 3}] + ${off}) | 0)`;
      fault();
      if (op === 0xa0) e.emit(`r8[0] = cpu.read8(${ea});`);
      else if (op === 0xa1) e.emit(`r[0] = cpu.read32(${ea});`);
      else if (op === 0xa2) e.emit(`cpu.write8(${ea}, r8[0]);`);
      else e.emit(`cpu.write32(${ea}, r[0]);`);
      return 'continue';
    }
    case 0x9d: { // POPF: ends the block (it may set IF; interrupts are then checked at once)
      fault();
      const was = e.t();
      e.emit(`const ${was} = (cpu.flagsReg & ${FLAG_IF}) === 0; cpu.setEflagsChecked(cpu.peek32(0), true); cpu.adjustEsp(4); cpu.eip = ${nextEip() | 0};`);
      const sh = e.t();
      e.emit(`const ${sh} = ${was} && (cpu.flagsReg & ${FLAG_IF}) !== 0;`);
      e.shadowIf = sh; // as the interpreter does
      e.flags = null;
      return 'end';
    }
    case 0x8c: { // MOV Ev, Sreg
      const modrm = rd.u8n();
      const sreg = (modrm >> 3) & 7;
      if (sreg > 5) return 'stop';
      if (modrm >= 0xc0) e.emit(`r[${modrm & 7}] = cpu.segSel[${sreg}];`);
      else {
        const ea = eaExpr(rd, modrm, seg);
        fault();
        e.emit(`cpu.write16(${ea}, cpu.segSel[${sreg}]);`);
      }
      return 'continue';
    }
    case 0x8e: { // MOV Sreg, Ew: data segments only (CS is #UD, SS has an interrupt shadow)
      const modrm = rd.u8n();
      const sreg = (modrm >> 3) & 7;
      if (sreg === 1 || sreg === 2 || sreg > 5) return 'stop';
      const src = modrm >= 0xc0 ? `r16[${(modrm & 7) << 1}]` : `cpu.read16(${eaExpr(rd, modrm, seg)})`;
      fault();
      e.emit(`cpu.loadDataSegment(${sreg}, ${src});`);
      return 'continue';
    }
    case 0x06: case 0x1e: // PUSH ES / PUSH DS
      return emitSegmentPushPop(e, fault, op === 0x06 ? 0 : 3, false);
    case 0x07: case 0x1f: // POP ES / POP DS
      return emitSegmentPushPop(e, fault, op === 0x07 ? 0 : 3, true);
    case 0x9c: // PUSHF (protected mode, IOPL/VM checks are for virtual-8086 mode only)
      fault();
      e.emit('cpu.push32(cpu.getEflags() & ~0x30000);');
      return 'continue';
    case 0xa4: case 0xa5: case 0xaa: case 0xab: case 0xac: case 0xad: {
      // String instructions run through the interpreter's implementation and end the block
      // (a long REP may rewind EIP to itself to continue in a later slice).
      fault();
      e.emit(`cpu.eip = ${nextEip() | 0}; cpu.stringFromBlock(${op}, ${seg}, ${rep});`);
      return 'end';
    }
    case 0x98:
      e.emit('r[0] = (r[0] << 16) >> 16;');
      return 'continue';
    case 0x99:
      e.emit('r[2] = r[0] >> 31;');
      return 'continue';
    case 0xa8:
      e.emit(`cpu.setFlagsLogic(r8[0] & ${rd.u8n()}, 7);`);
      e.flags = null;
      return 'continue';
    case 0xa9: {
      const r = e.t();
      e.emit(`const ${r} = r[0] & ${rd.u32()}; cpu.setFlagsLogic(${r}, ${SIGN});`);
      e.flags = { kind: 'logic', a: r, b: r, r };
      return 'continue';
    }
    case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
      e.emit(`r8[${REG8_INDEX[op & 7]}] = ${rd.u8n()};`);
      return 'continue';
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf:
      e.emit(`r[${op & 7}] = ${rd.u32()};`);
      return 'continue';
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: { // shifts/rotates
      const modrm = rd.u8n();
      const sop = (modrm >> 3) & 7;
      const bits = op & 1 ? 32 : 8;
      const c = e.t();
      if (modrm >= 0xc0 && bits === 32 && op !== 0xd3 && sop !== 2 && sop !== 3) {
        // by a constant: inline (RCL/RCR, rare, go through cpu.shift)
        const count = op === 0xc1 ? rd.u8n() & 31 : 1;
        if (count !== 0) emitShiftConst32(e, sop, `r[${modrm & 7}]`, count, flagsDeadAfter(e, rd, sop < 2 ? FLAG_CF | FLAG_OF : FLAGS_ARITH));
        return 'continue';
      }
      if (modrm >= 0xc0) {
        const m = bits === 32 ? `r[${modrm & 7}]` : `r8[${REG8_INDEX[modrm & 7]}]`;
        const count = op <= 0xc1 ? String(rd.u8n() & 31) : op <= 0xd1 ? '1' : '(r8[4] & 31)';
        e.emit(`const ${c} = ${count}; if (${c} !== 0) ${m} = cpu.shift(${sop}, ${m}, ${c}, ${bits});`);
      } else {
        const ea = e.t();
        e.emit(`const ${ea} = ${eaExpr(rd, modrm, seg)};`);
        const count = op <= 0xc1 ? String(rd.u8n() & 31) : op <= 0xd1 ? '1' : '(r8[4] & 31)';
        fault();
        const v = e.t();
        if (bits === 32) e.emit(`const ${v} = cpu.rmw32(${ea}), ${c} = ${count}; if (${c} !== 0) cpu.write32(${ea}, cpu.shift(${sop}, ${v}, ${c}, 32));`);
        else e.emit(`const ${v} = cpu.rmw8(${ea}), ${c} = ${count}; if (${c} !== 0) cpu.write8(${ea}, cpu.shift(${sop}, ${v}, ${c}, 8));`);
      }
      e.flags = null;
      return 'continue';
    }
    case 0xc3:
      fault();
      e.emit('cpu.eip = cpu.pop32();');
      return 'end';
    case 0xc6: {
      const modrm = rd.u8n();
      if (modrm >= 0xc0) {
        e.emit(`r8[${REG8_INDEX[modrm & 7]}] = ${rd.u8n()};`);
        return 'continue';
      }
      const ea = eaExpr(rd, modrm, seg);
      fault();
      e.emit(`cpu.write8(${ea}, ${rd.u8n()});`);
      return 'continue';
    }
    case 0xc7: {
      const modrm = rd.u8n();
      if (modrm >= 0xc0) {
        e.emit(`r[${modrm & 7}] = ${rd.u32()};`);
        return 'continue';
      }
      const ea = eaExpr(rd, modrm, seg);
      fault();
      e.emit(`cpu.write32(${ea}, ${rd.u32()});`);
      return 'continue';
    }
    case 0xe8: {
      const d = rd.u32();
      const next = nextEip();
      const target = (next + d) | 0;
      fault();
      const thunk = pcThunkAt(e, target);
      if (thunk) {
        // CALL to a get_pc_thunk (MOV reg, [ESP]; RET): while the thunk's page is mapped as at
        // compile time, do what the three instructions do (the return address is still written
        // below ESP) and go on; else make the call.
        const { reg, vpn, entry } = thunk;
        e.branch = {
          cond: `((cpu.ss32 && cpu.tlbR[${vpn}] === ${entry}) ? (cpu.write32((sb[2] + r[4] - 4) | 0, ${next | 0}), r[${reg}] = ${next | 0}, cpu.icount += 2, false) : (cpu.push32(${next | 0}), true))`,
          target,
          next,
        };
        return 'branch';
      }
      e.emit(`cpu.push32(${next | 0});`);
      e.branch = { cond: null, target, next };
      return 'branch';
    }
    case 0xe9: {
      const d = rd.u32();
      const next = nextEip();
      e.branch = { cond: null, target: (next + d) | 0, next };
      return 'branch';
    }
    case 0xeb: {
      const d = rd.s8();
      const next = nextEip();
      e.branch = { cond: null, target: (next + d) | 0, next };
      return 'branch';
    }
    case 0xf6: {
      const modrm = rd.u8n();
      if ((modrm >> 3) & 7) return 'stop';
      let src: string;
      if (modrm >= 0xc0) src = `r8[${REG8_INDEX[modrm & 7]}]`;
      else {
        const ea = eaExpr(rd, modrm, seg);
        fault();
        src = `cpu.read8(${ea})`;
      }
      e.emit(`cpu.setFlagsLogic(${src} & ${rd.u8n()}, 7);`);
      e.flags = null;
      return 'continue';
    }
    case 0xf7: {
      const modrm = rd.u8n();
      const sub = (modrm >> 3) & 7;
      if (sub === 0) {
        const src = modrmRead32(e, rd, modrm, seg, fault);
        const r = e.t();
        e.emit(`const ${r} = ${src} & ${rd.u32()}; cpu.setFlagsLogic(${r}, ${SIGN});`);
        e.flags = { kind: 'logic', a: r, b: r, r };
        return 'continue';
      }
      if (sub >= 4) {
        // MUL/IMUL/DIV/IDIV EDX:EAX by r/m32 (#DE from div32 unwinds like any fault)
        const src = modrmRead32(e, rd, modrm, seg, fault);
        if (sub >= 6) {
          fault();
          e.emit(`cpu.div32(${src}, ${sub === 7});`);
        } else {
          const lo = e.t();
          e.emit(`const ${lo} = cpu.mul32(r[0], ${src}, ${sub === 5}); r[0] = ${lo}; r[2] = cpu.mulHigh;`);
          const carry = sub === 4 ? 'cpu.mulHigh !== 0' : `cpu.mulHigh !== (${lo} >> 31)`;
          e.emit(`{ const o = ${carry} ? 1 : 0; cpu.setFlagsResultWith(${lo}, 31, o, o); }`);
        }
        e.flags = null;
        return 'continue';
      }
      if ((sub === 2 || sub === 3) && modrm >= 0xc0) {
        const m = `r[${modrm & 7}]`;
        if (sub === 2) e.emit(`${m} = ~${m};`);
        else {
          const a = e.t();
          e.emit(`const ${a} = ${m}; ${m} = -${a} | 0; cpu.setFlagsSub(0, ${a}, ${m}, ${SIGN});`);
          e.flags = null;
        }
        return 'continue';
      }
      return 'stop';
    }
    case 0xff: {
      const modrm = rd.u8n();
      const sub = (modrm >> 3) & 7;
      if (sub === 0 || sub === 1) {
        const dec = sub === 1;
        const a = e.t(), r = e.t();
        if (modrm >= 0xc0) {
          const m = `r[${modrm & 7}]`;
          e.emit(`const ${a} = ${m}, ${r} = (${a} ${dec ? '-' : '+'} 1) | 0; ${m} = ${r};`);
        } else {
          const ea = e.t();
          e.emit(`const ${ea} = ${eaExpr(rd, modrm, seg)};`);
          fault();
          e.emit(`const ${a} = cpu.rmw32(${ea}), ${r} = (${a} ${dec ? '-' : '+'} 1) | 0; cpu.write32(${ea}, ${r});`);
        }
        e.emit(`cpu.setFlagsIncDec(${a}, ${r}, ${SIGN}, ${dec});`);
        e.flags = { kind: 'add', a, b: '1', r };
        return 'continue';
      }
      if (sub === 2 || sub === 4) {
        const src = modrmRead32(e, rd, modrm, seg, fault);
        const target = e.t();
        e.emit(`const ${target} = ${src};`);
        if (sub === 2) {
          fault();
          e.emit(`cpu.push32(${nextEip() | 0});`);
        }
        e.emit(`cpu.eip = ${target};`);
        return 'end';
      }
      if (sub === 6) {
        const src = modrmRead32(e, rd, modrm, seg, fault);
        const v = e.t();
        e.emit(`const ${v} = ${src}; cpu.push32(${v});`);
        return 'continue';
      }
      return 'stop';
    }
    case 0x0f:
      return compileTwoByte(e, rd, seg, fault, nextEip);
    case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf: {
      // x87: the operand address is computed here, the operation runs in the FPU (#NM first)
      const modrm = rd.u8n();
      const dataSeg = seg >= 0 ? seg : 3;
      let ea = '0';
      fault();
      if (modrm < 0xc0) {
        ea = e.t();
        e.emit(`const ${ea} = ${eaExpr(rd, modrm, seg)};`);
      }
      const general = `cpu.x87(${op}, ${modrm}, ${ea}, ${dataSeg}, true);`;
      const fast = x87FastPath(e, op, modrm, eip, ea, dataSeg);
      e.emit(`if (cpu.cr0 & ${CR0_EM | CR0_TS}) cpu.raise(${EXC_NM}); ${fast ? fast(general) : general}`);
      e.flags = null; // FCOMI/FUCOMI write ZF/PF/CF
      return 'continue';
    }
    default:
      return 'stop';
  }
}

/**
 * The FPU's fast path for the common x87 instructions (see "Fast paths for compiled blocks" in
 * fpu.ts), given the general call to run when it declines: arithmetic with a register or a
 * m32fp/m64fp operand, FLD/FST(P)/FXCH of registers, FLD m32fp/m64fp, FST(P) m64fp, FILD and
 * FIST(P) m32int, FLD1, FLDZ, FRNDINT, FLDCW, and FCOMI/FUCOMI(P), whose ZF/PF/CF are set here.
 * Null for the rest.
 */
function x87FastPath(e: Emitter, op: number, modrm: number, eip: number, ea: string, seg: number): ((general: string) => string) | null {
  const esc = op - 0xd8;
  const reg = (modrm >> 3) & 7;
  const i = modrm & 7;
  const at = `${eip | 0}, cpu.segSel[${CS}], ${((op & 7) << 8) | modrm}`;
  const unless = (test: string) => (general: string) => `if (!${test}) ${general}`;
  if (modrm < 0xc0) {
    const mem = `${ea}, cpu.segSel[${seg}], ${at}`;
    const m64 = `cpu.read32(${ea}), cpu.read32((${ea} + 4) | 0)`;
    if (esc === 5 && reg === 0) return unless(`cpu.fpu.fastFldF64(${m64}, ${mem})`);
    if (esc === 1 && reg === 0) return unless(`cpu.fpu.fastFldF32(cpu.read32(${ea}), ${mem})`);
    if (esc === 1 && reg === 5) return unless(`cpu.fpu.fastFldcw(cpu.read16(${ea}))`);
    if (esc === 3 && (reg === 2 || reg === 3)) return unless(`cpu.fpu.fastFist32(${reg === 3}, ${mem})`);
    if (esc === 3 && reg === 0) return unless(`cpu.fpu.fastFild32(cpu.read32(${ea}), ${mem})`);
    if (esc === 5 && (reg === 2 || reg === 3)) return unless(`cpu.fpu.fastFstF64(${reg === 3}, ${mem})`);
    if (reg === 2 || reg === 3) return null; // FCOM(P) m32fp/m64fp
    if (esc === 0) return unless(`cpu.fpu.fastArithMem(true, ${reg}, cpu.read32(${ea}), 0, ${mem})`);
    if (esc === 4) return unless(`cpu.fpu.fastArithMem(false, ${reg}, ${m64}, ${mem})`);
    return null;
  }
  if ((esc === 0 || esc === 4 || esc === 6) && reg !== 2 && reg !== 3) return unless(`cpu.fpu.fastArith(${esc}, ${reg}, ${i}, ${at})`);
  if (esc === 1 && reg === 0) return unless(`cpu.fpu.fastFldReg(${i}, ${at})`);
  if (esc === 1 && (modrm === 0xe8 || modrm === 0xee)) return unless(`cpu.fpu.fastFldConst(${i}, ${at})`); // FLD1, FLDZ
  if (esc === 1 && modrm === 0xfc) return unless(`cpu.fpu.fastFrndint(${at})`);
  if (reg === 1 && (esc === 1 || esc === 5 || esc === 7)) return unless(`cpu.fpu.fastFxch(${i}, ${at})`);
  if ((esc === 5 && (reg === 2 || reg === 3)) || (esc === 1 && reg === 3) || (esc === 7 && (reg === 2 || reg === 3))) {
    return unless(`cpu.fpu.fastFstReg(${i}, ${esc !== 5 || reg === 3}, ${at})`);
  }
  if ((esc === 3 || esc === 7) && (reg === 5 || reg === 6)) {
    const rel = e.t();
    return (general) =>
      `const ${rel} = cpu.fpu.fastComi(${i}, ${esc === 7}, ${at}); if (${rel} < 0) ${general} ` +
      `else { cpu.flagsReg = (cpu.flagsReg & ${~FLAGS_ARITH}) | (${rel} === 1 ? ${FLAG_CF} : ${rel} === 2 ? ${FLAG_ZF} : 0); cpu.lazyMask = 0; }`;
  }
  return null;
}

/**
 * Opcodes that accept LOCK with a memory destination (SDM Vol. 2, LOCK), given the two bytes after
 * the opcode byte (the ModRM byte, or for 0F the second opcode byte and then the ModRM byte).
 */
function isLockable(op: number, next: number, next2: number): boolean {
  if (op === 0x0f) return (next === 0xb0 || next === 0xb1 || next === 0xc0 || next === 0xc1) && next2 < 0xc0;
  const modrm = next;
  if (modrm >= 0xc0) return false;
  const sub = (modrm >> 3) & 7;
  if (op < 0x40) return (op & 7) < 2 && op !== 0x38 && op !== 0x39; // ALU Eb,Gb / Ev,Gv except CMP
  switch (op) {
    case 0x80: case 0x81: case 0x83: return sub !== 7;
    case 0x86: case 0x87: return true;
    case 0xf6: case 0xf7: return sub === 2 || sub === 3;
    case 0xfe: case 0xff: return sub < 2;
    default: return false;
  }
}

/** INC/DEC of an 8- or 16-bit r/m operand (other ModRM reg fields are not compiled). */
function emitIncDecSmall(e: Emitter, rd: CodeReader, modrm: number, seg: number, fault: () => void, bits: 8 | 16): Step {
  const sub = (modrm >> 3) & 7;
  if (sub > 1) return 'stop';
  const a = e.t(), r = e.t();
  const delta = sub ? '- 1' : '+ 1';
  const mask = bits === 8 ? '0xff' : '0xffff';
  if (modrm >= 0xc0) {
    const m = bits === 8 ? `r8[${REG8_INDEX[modrm & 7]}]` : `r16[${(modrm & 7) << 1}]`;
    e.emit(`const ${a} = ${m}, ${r} = (${a} ${delta}) & ${mask}; ${m} = ${r};`);
  } else {
    const ea = e.t();
    e.emit(`const ${ea} = ${eaExpr(rd, modrm, seg)};`);
    fault();
    e.emit(`const ${a} = cpu.rmw${bits}(${ea}), ${r} = (${a} ${delta}) & ${mask}; cpu.write${bits}(${ea}, ${r});`);
  }
  e.emit(`cpu.setFlagsIncDec(${a}, ${r}, ${bits - 1}, ${sub === 1});`);
  e.flags = null;
  return 'continue';
}

/**
 * 16-bit ALU operation `alu` on the r/m operand (register or memory) and `src()` (read after the
 * ModRM displacement, since it may be an immediate that follows it); CMP stores nothing.
 */
function emitRmw16(
  e: Emitter, rd: CodeReader, modrm: number, seg: number, fault: () => void, alu: number, src: () => string,
): void {
  const res = e.t();
  if (modrm >= 0xc0) {
    const m = `r16[${(modrm & 7) << 1}]`;
    e.emit(`const ${res} = cpu.alu(${alu}, ${m}, ${src()}, 15);`);
    if (alu !== 7) e.emit(`${m} = ${res};`);
    return;
  }
  const ea = e.t();
  e.emit(`const ${ea} = ${eaExpr(rd, modrm, seg)};`);
  const b = src();
  fault();
  if (alu === 7) e.emit(`cpu.alu(7, cpu.read16(${ea}), ${b}, 15);`);
  else e.emit(`const ${res} = cpu.alu(${alu}, cpu.rmw16(${ea}), ${b}, 15); cpu.write16(${ea}, ${res});`);
}

/**
 * 16-bit operand forms (0x66 prefix) of the moves, compares and tests that 32-bit kernels and
 * C code use on `short` fields. Registers are the low words, `r16[reg << 1]`.
 */
function compileOperandSize16(e: Emitter, rd: CodeReader, op: number, seg: number, fault: () => void): Step {
  const read16 = (modrm: number) => {
    if (modrm >= 0xc0) return `r16[${(modrm & 7) << 1}]`;
    const ea = eaExpr(rd, modrm, seg);
    fault();
    const v = e.t();
    e.emit(`const ${v} = cpu.read16(${ea});`);
    return v;
  };
  switch (op) {
    case 0x90: // XCHG AX, AX: a two-byte NOP
      return 'continue';
    case 0x89: { // MOV Ew, Gw
      const modrm = rd.u8n();
      const g = `r16[${((modrm >> 3) & 7) << 1}]`;
      if (modrm >= 0xc0) e.emit(`r16[${(modrm & 7) << 1}] = ${g};`);
      else {
        const ea = eaExpr(rd, modrm, seg);
        fault();
        e.emit(`cpu.write16(${ea}, ${g});`);
      }
      return 'continue';
    }
    case 0x8b: { // MOV Gw, Ew
      const modrm = rd.u8n();
      const src = read16(modrm);
      e.emit(`r16[${((modrm >> 3) & 7) << 1}] = ${src};`);
      return 'continue';
    }
    case 0xc7: { // MOV Ew, Iw
      const modrm = rd.u8n();
      if (modrm >= 0xc0) {
        e.emit(`r16[${(modrm & 7) << 1}] = ${rd.u8n() | (rd.u8n() << 8)};`);
        return 'continue';
      }
      const ea = eaExpr(rd, modrm, seg);
      fault();
      e.emit(`cpu.write16(${ea}, ${rd.u8n() | (rd.u8n() << 8)});`);
      return 'continue';
    }
    case 0x85: { // TEST Ew, Gw
      const modrm = rd.u8n();
      const src = read16(modrm);
      e.emit(`cpu.setFlagsLogic(${src} & r16[${((modrm >> 3) & 7) << 1}], 15);`);
      e.flags = null;
      return 'continue';
    }
    case 0x01: case 0x09: case 0x11: case 0x19: case 0x21: case 0x29: case 0x31: case 0x39:
    case 0x03: case 0x0b: case 0x13: case 0x1b: case 0x23: case 0x2b: case 0x33: case 0x3b: { // ALU Ew,Gw / Gw,Ew
      const alu = op >> 3;
      const modrm = rd.u8n();
      const g = `r16[${((modrm >> 3) & 7) << 1}]`;
      if (op & 2) { // to the register
        const src = read16(modrm);
        const res = e.t();
        e.emit(`const ${res} = cpu.alu(${alu}, ${g}, ${src}, 15);`);
        if (alu !== 7) e.emit(`${g} = ${res};`);
      } else emitRmw16(e, rd, modrm, seg, fault, alu, () => g);
      e.flags = null;
      return 'continue';
    }
    case 0x05: case 0x0d: case 0x15: case 0x1d: case 0x25: case 0x2d: case 0x35: case 0x3d: { // ALU AX, Iw
      const imm = rd.u8n() | (rd.u8n() << 8);
      const res = e.t();
      e.emit(`const ${res} = cpu.alu(${op >> 3}, r16[0], ${imm}, 15);`);
      if (op >> 3 !== 7) e.emit(`r16[0] = ${res};`);
      e.flags = null;
      return 'continue';
    }
    case 0x81: case 0x83: { // ALU Ew, Iw/Ib
      const modrm = rd.u8n();
      emitRmw16(e, rd, modrm, seg, fault, (modrm >> 3) & 7, () => String((op === 0x83 ? rd.s8() : rd.u8n() | (rd.u8n() << 8)) & 0xffff));
      e.flags = null;
      return 'continue';
    }
    case 0xff: // INC/DEC Ew
      return emitIncDecSmall(e, rd, rd.u8n(), seg, fault, 16);
    default:
      return 'stop';
  }
}

/**
 * Shift or rotate of a 32-bit register by a constant 1..31 (not RCL/RCR), flags as cpu.shift sets
 * them, or none when the instructions after overwrite them all (`flagsDead`).
 */
function emitShiftConst32(e: Emitter, sop: number, m: string, c: number, flagsDead: boolean): void {
  const v = e.t(), r = e.t();
  e.emit(`const ${v} = ${m};`);
  if (flagsDead) {
    const value = [`(${v} << ${c}) | (${v} >>> ${32 - c})`, `(${v} >>> ${c}) | (${v} << ${32 - c})`, '', '',
      `${v} << ${c}`, `${v} >>> ${c}`, `${v} << ${c}`, `${v} >> ${c}`][sop];
    e.emit(`${m} = ${value};`);
    e.flags = null;
    return;
  }
  switch (sop) {
    case 0: // ROL
      e.emit(`const ${r} = (${v} << ${c}) | (${v} >>> ${32 - c}); ${m} = ${r}; cpu.setCarryOverflow(${r} & 1, (${r} >>> 31) ^ (${r} & 1));`);
      e.flags = null;
      return;
    case 1: // ROR
      e.emit(`const ${r} = (${v} >>> ${c}) | (${v} << ${32 - c}); ${m} = ${r}; cpu.setCarryOverflow(${r} >>> 31, (${r} >>> 31) ^ ((${r} >>> 30) & 1));`);
      e.flags = null;
      return;
    case 4: case 6: { // SHL
      e.emit(`const ${r} = ${v} << ${c}; ${m} = ${r}; { const cf = (${v} >>> ${32 - c}) & 1; cpu.setFlagsResultWith(${r}, 31, cf, (${r} >>> 31) ^ cf); }`);
      break;
    }
    case 5: // SHR
      e.emit(`const ${r} = ${v} >>> ${c}; ${m} = ${r}; cpu.setFlagsResultWith(${r}, 31, (${v} >>> ${c - 1}) & 1, ${v} >>> 31);`);
      break;
    default: // SAR
      e.emit(`const ${r} = ${v} >> ${c}; ${m} = ${r}; cpu.setFlagsResultWith(${r}, 31, (${v} >> ${c - 1}) & 1, 0);`);
  }
  // ZF and SF come from the result, as after an addition
  e.flags = { kind: 'add', a: v, b: '0', r };
}

/**
 * Position-independent i386 code gets its own address by calling a thunk `MOV reg, [ESP]; RET`
 * (8B /r with SIB 24, then C3), often several times per function. The thunk at linear `target`,
 * if that page is in the TLB now: its register, virtual page and TLB entry (the run-time guard).
 */
function pcThunkAt(e: Emitter, target: number): { reg: number; vpn: number; entry: number } | null {
  const cpu = e.cpu;
  const vpn = target >>> 12;
  const entry = cpu.tlbR[vpn];
  if (!entry || (target & 0xfff) > 0xffc || cpu.csBase !== 0) return null;
  const at = (entry ^ 1) + (target & 0xfff);
  const u = cpu.u8;
  const modrm = u[at + 1];
  if (u[at] !== 0x8b || (modrm & 0xc7) !== 0x04 || u[at + 2] !== 0x24 || u[at + 3] !== 0xc3) return null;
  const reg = (modrm >> 3) & 7;
  if (reg === 4) return null; // MOV ESP, [ESP] is no thunk
  e.deps.add((entry ^ 1) >>> 12);
  return { reg, vpn, entry };
}

/** PUSH or POP of the data segment register `seg` (ES 0, DS 3, FS 4, GS 5; 32-bit stack slot). */
function emitSegmentPushPop(e: Emitter, fault: () => void, seg: number, pop: boolean): Step {
  fault();
  e.emit(pop ? `cpu.popDataSegment(${seg});` : `cpu.push32(cpu.segSel[${seg}]);`);
  return 'continue';
}

function modrmRead32(e: Emitter, rd: CodeReader, modrm: number, seg: number, fault: () => void): string {
  if (modrm >= 0xc0) return `r[${modrm & 7}]`;
  const ea = eaExpr(rd, modrm, seg);
  fault();
  const v = e.t();
  e.emit(`const ${v} = cpu.read32(${ea});`);
  return v;
}

function compileTwoByte(
  e: Emitter, rd: CodeReader, seg: number, fault: () => void, nextEip: () => number,
): Step {
  const op = rd.u8n();
  if (op >= 0x80 && op <= 0x8f) {
    const d = rd.u32();
    const next = nextEip();
    e.branch = { cond: conditionExpr(e, op & 15), target: (next + d) | 0, next };
    return 'branch';
  }
  if (op >= 0x40 && op <= 0x4f) { // CMOVcc
    const modrm = rd.u8n();
    const src = modrmRead32(e, rd, modrm, seg, fault);
    const v = e.t();
    e.emit(`const ${v} = ${src}; if (${conditionExpr(e, op & 15)}) r[${(modrm >> 3) & 7}] = ${v};`);
    return 'continue';
  }
  if (op >= 0x90 && op <= 0x9f) { // SETcc
    const modrm = rd.u8n();
    const v = `(${conditionExpr(e, op & 15)} ? 1 : 0)`;
    if (modrm >= 0xc0) e.emit(`r8[${REG8_INDEX[modrm & 7]}] = ${v};`);
    else {
      const ea = eaExpr(rd, modrm, seg);
      fault();
      e.emit(`cpu.write8(${ea}, ${v});`);
    }
    return 'continue';
  }
  if (op >= 0xc8 && op <= 0xcf) { // BSWAP
    const m = `r[${op & 7}]`;
    const v = e.t();
    e.emit(`const ${v} = ${m}; ${m} = (${v} >>> 24) | ((${v} >> 8) & 0xff00) | ((${v} & 0xff00) << 8) | (${v} << 24);`);
    return 'continue';
  }
  switch (op) {
    case 0xa0: case 0xa8: // PUSH FS / PUSH GS
      return emitSegmentPushPop(e, fault, op === 0xa0 ? 4 : 5, false);
    case 0xa1: case 0xa9: // POP FS / POP GS
      return emitSegmentPushPop(e, fault, op === 0xa1 ? 4 : 5, true);
    case 0x31: // RDTSC (#GP at CPL > 0 with CR4.TSD)
      fault();
      e.emit(`if (cpu.cr4 & ${CR4_TSD} && cpu.cpl !== 0) cpu.raiseGP(0);`);
      e.emit('{ const t = cpu.host.readTsc(); r[0] = t % 4294967296; r[2] = Math.floor(t / 4294967296); }');
      return 'continue';
    case 0xbc: case 0xbd: { // BSF/BSR r32, r/m32: ZF=1 and the destination unchanged for 0
      const modrm = rd.u8n();
      const v = e.t();
      e.emit(`const ${v} = ${modrmRead32(e, rd, modrm, seg, fault)};`);
      const idx = op === 0xbc ? `31 - Math.clz32(${v} & -${v})` : `31 - Math.clz32(${v})`;
      e.emit(`if (${v} === 0) cpu.setFlagsResultWith(0, 31, 0, 0); else { r[${(modrm >> 3) & 7}] = ${idx}; cpu.setFlagsResultWith(1, 31, 0, 0); }`);
      e.flags = null;
      return 'continue';
    }
    case 0xb1: case 0xc1: { // CMPXCHG Ev, Gv / XADD Ev, Gv (32-bit)
      const modrm = rd.u8n();
      const g = `r[${(modrm >> 3) & 7}]`;
      const d = e.t();
      let store: (v: string) => string;
      if (modrm >= 0xc0) {
        const m = `r[${modrm & 7}]`;
        e.emit(`const ${d} = ${m};`);
        store = (v) => `${m} = ${v};`;
      } else {
        const ea = e.t();
        e.emit(`const ${ea} = ${eaExpr(rd, modrm, seg)};`);
        fault();
        e.emit(`const ${d} = cpu.rmw32(${ea});`);
        store = (v) => `cpu.write32(${ea}, ${v});`;
      }
      if (op === 0xc1) {
        const g0 = e.t();
        e.emit(`const ${g0} = ${g};`);
        const sum = emitAlu32(e, 0, d, g0);
        e.emit(`${g} = ${d}; ${store(sum)}`);
        return 'continue';
      }
      // the destination is always written; EAX gets it when the compare fails (SDM: CMPXCHG)
      const eq = e.t(), a = e.t();
      e.emit(`const ${a} = r[0];`);
      emitAlu32(e, 7, a, d);
      e.emit(`const ${eq} = ${a} === ${d}; ${store(`${eq} ? ${g} : ${d}`)} if (!${eq}) r[0] = ${d};`);
      return 'continue';
    }
    case 0xba: { // BT/BTS/BTR/BTC r/m32, imm8
      const modrm = rd.u8n();
      const sub = (modrm >> 3) & 7;
      if (sub < 4) return 'stop';
      if (modrm >= 0xc0) {
        const m = `r[${modrm & 7}]`;
        const bit = rd.u8n() & 31;
        e.emit(`{ const v = ${m}; cpu.setCF((v >>> ${bit}) & 1);`);
        if (sub === 5) e.emit(`${m} = v | ${1 << bit};`);
        else if (sub === 6) e.emit(`${m} = v & ${~(1 << bit)};`);
        else if (sub === 7) e.emit(`${m} = v ^ ${1 << bit};`);
        e.emit('}');
      } else {
        const ea = e.t();
        e.emit(`const ${ea} = ${eaExpr(rd, modrm, seg)};`);
        const bit = rd.u8n() & 31;
        fault();
        if (sub === 4) e.emit(`cpu.setCF((cpu.read32(${ea}) >>> ${bit}) & 1);`);
        else {
          const v = e.t();
          const r = sub === 5 ? `${v} | ${1 << bit}` : sub === 6 ? `${v} & ${~(1 << bit)}` : `${v} ^ ${1 << bit}`;
          e.emit(`const ${v} = cpu.rmw32(${ea}); cpu.setCF((${v} >>> ${bit}) & 1); cpu.write32(${ea}, ${r});`);
        }
      }
      e.flags = null;
      return 'continue';
    }
    case 0xa4: case 0xa5: case 0xac: case 0xad: { // SHLD/SHRD r32, r32, imm8/CL
      const modrm = rd.u8n();
      if (modrm < 0xc0) return 'stop';
      const m = `r[${modrm & 7}]`;
      const count = op & 1 ? '(r8[4] & 31)' : String(rd.u8n() & 31);
      const c = e.t();
      e.emit(`const ${c} = ${count}; if (${c} !== 0) ${m} = cpu.shiftDouble(${op < 0xa8}, ${m}, r[${(modrm >> 3) & 7}], ${c}, 32);`);
      e.flags = null;
      return 'continue';
    }
    case 0xa3: { // BT r/m32, r32 (in memory the bit offset selects the dword: SDM Vol. 2, BT)
      const modrm = rd.u8n();
      const b = `r[${(modrm >> 3) & 7}]`;
      if (modrm >= 0xc0) e.emit(`cpu.setCF((r[${modrm & 7}] >>> (${b} & 31)) & 1);`);
      else {
        const ea = eaExpr(rd, modrm, seg);
        fault();
        e.emit(`cpu.setCF((cpu.read32((${ea} + ((${b} >> 5) << 2)) | 0) >>> (${b} & 31)) & 1);`);
      }
      e.flags = null;
      return 'continue';
    }
    case 0xb6: case 0xb7: case 0xbe: case 0xbf: { // MOVZX/MOVSX
      const modrm = rd.u8n();
      const word = (op & 1) !== 0;
      let src: string;
      if (modrm >= 0xc0) src = word ? `r16[${(modrm & 7) << 1}]` : `r8[${REG8_INDEX[modrm & 7]}]`;
      else {
        const ea = eaExpr(rd, modrm, seg);
        fault();
        src = word ? `cpu.read16(${ea})` : `cpu.read8(${ea})`;
      }
      if (op === 0xbe) src = `((${src} << 24) >> 24)`;
      else if (op === 0xbf) src = `((${src} << 16) >> 16)`;
      e.emit(`r[${(modrm >> 3) & 7}] = ${src};`);
      return 'continue';
    }
    case 0xaf: { // IMUL Gv, Ev
      const modrm = rd.u8n();
      const src = modrmRead32(e, rd, modrm, seg, fault);
      const lo = e.t();
      const reg = (modrm >> 3) & 7;
      e.emit(`const ${lo} = cpu.mul32(r[${reg}], ${src}, true); r[${reg}] = ${lo};`);
      e.emit(`{ const o = cpu.mulHigh !== (${lo} >> 31) ? 1 : 0; cpu.setFlagsResultWith(${lo}, 31, o, o); }`);
      e.flags = null;
      return 'continue';
    }
    default:
      return 'stop';
  }
}

/** How many backward jumps a block takes inside itself before returning to the dispatcher. */
const MAX_LOOP_ITERATIONS = 256;

/**
 * Translate the block at physical `phys` (EIP `eip`); null when its first instruction is not covered.
 *
 * The block covers code of one page: compilation follows the fall-through path of each Jcc and
 * direct JMPs and CALLs within the page (the callee is inlined). The taken targets of Jcc in the
 * same page become further regions of the same function, and a jump to any instruction already in
 * the function (a loop, or a branch between regions) stays inside it: the body is a `switch`
 * inside `for (;;)`, with a case label at each such target, so control flow within a page runs
 * without returning to the dispatcher (bounded, so interrupts and the slice budget are still
 * honoured). A call between two V8 functions costs about five times a jump inside one. This
 * takes two passes: the first finds the targets that need labels.
 */
export function compileBlock(
  cpu: Cpu, phys: number, eip: number, deps?: Set<number>, entries?: Map<number, number>,
): BlockFn | null {
  if (!cpu.cs32) return null;
  const first = compilePass(cpu, phys, eip, null);
  if (!first) return null;
  const final = first.loopTargets.size ? compilePass(cpu, phys, eip, first.loopTargets)! : first;
  for (const page of final.deps) deps?.add(page);
  if (final !== first) for (const [at, label] of final.labels) entries?.set(at, label);
  const body = finishBody(final.body);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('cpu', 'r', 'r8', 'r16', 'sb', 'entry', body) as BlockFn;
}

// --- Finishing a block's text: inline fast paths, guest state in locals ---
//
// The emitters above write guest state as it lives in the CPU object (`r[n]`, `r8[n]`, `r16[n]`,
// `cpu.lazyRes`, ...) and call the CPU's helpers (`cpu.read32`, `cpu.setFlagsAdd`, ...). Two
// rewrites of the finished text make that fast:
//
// 1. Inline fast paths. TurboFan inlines small callees only up to a cumulative budget per
//    function (under 1 KB of bytecode), which a block of a few dozen instructions exhausts: the
//    rest of its memory accesses and flag recordings would stay real calls. So the fast paths of
//    those helpers are written out: a TLB lookup and a typed-array access for an aligned in-page
//    access (anything else calls the helper, which takes the slow path), the field stores of the
//    lazy flag recordings, the flag tests. Scratch variables ($a/$x for reads, $w/$v/$y for
//    writes, $p/$q/$s for ALU operations) are live only inside one expansion, and arguments are
//    evaluated in the order the call would have evaluated them.
// 2. Guest state in locals. The eight registers and the seven lazy-flag fields the block uses are
//    loaded into locals on entry and stored back by a `finally` (on every return and every
//    fault), so V8 keeps them in machine registers and drops flag recordings that the next
//    instruction overwrites. Around a call to a helper that reads or writes them, the locals it
//    uses (all, unless HELPER_ACCESS says which) are stored before and loaded after; `$sr` (a mask
//    of registers) and `$sf` say that the CPU object holds the current copy while such a call
//    runs, so a fault inside it keeps what the helper wrote (a REP string instruction's
//    progress, for one).

/** Lengths in bytes and the typed array of an aligned access of each width. */
const ACCESS = {
  8: { view: 'u8', align: 0, shift: 0 },
  16: { view: 'u16', align: 1, shift: 1 },
  32: { view: 'i32', align: 3, shift: 2 },
} as const;

const CLEAR_CF_OF_AF = ~(FLAG_CF | FLAG_OF | FLAG_AF);
const RESULT_FLAGS = FLAG_PF | FLAG_ZF | FLAG_SF;

function readFast(bits: 8 | 16 | 32, a: string, table: 'tlbR' | 'tlbW', slow: string): string {
  const { view, align, shift } = ACCESS[bits];
  // A TLB entry is the page's offset in RAM with bit 0 set: (entry + offset) >> shift drops that
  // bit for an aligned offset; bytes use entry ^ 1.
  const index = bits === 8 ? '($x ^ 1) + ($a & 4095)' : `($x + ($a & 4095)) >> ${shift}`;
  const aligned = align ? ` && ($a & ${align}) === 0` : '';
  return `($a = ${a}, $x = cpu.${table}[$a >>> 12], $x !== 0${aligned} ? cpu.${view}[${index}] : cpu.${slow}($a))`;
}

function writeFast(bits: 8 | 16 | 32, a: string, v: string): string {
  const { view, align, shift } = ACCESS[bits];
  const index = bits === 8 ? '($y ^ 1) + ($w & 4095)' : `($y + ($w & 4095)) >> ${shift}`;
  const aligned = align ? ` && ($w & ${align}) === 0` : '';
  return `($w = ${a}, $v = ${v}, $y = cpu.tlbW[$w >>> 12], $y !== 0${aligned} ? (cpu.${view}[${index}] = $v) : cpu.write${bits}($w, $v))`;
}

/** LazyFlags.getCF and friends as expressions (0 or 1). */
const CF = '((cpu.lazyMask & 1) === 0 ? cpu.flagsReg & 1 : ((cpu.lazyKind === 0' +
  ' ? (cpu.lazyOp1 & cpu.lazyOp2) | ((cpu.lazyOp1 | cpu.lazyOp2) & ~cpu.lazyRes)' +
  ' : (~cpu.lazyOp1 & cpu.lazyOp2) | ((~cpu.lazyOp1 | cpu.lazyOp2) & cpu.lazyRes)) >>> cpu.lazySign) & 1)';
const ZF = `((cpu.lazyMask & ${FLAG_ZF}) === 0 ? (cpu.flagsReg >> 6) & 1 : cpu.lazyRes === 0 ? 1 : 0)`;
const SF = `((cpu.lazyMask & ${FLAG_SF}) === 0 ? (cpu.flagsReg >> 7) & 1 : (cpu.lazyRes >>> cpu.lazySign) & 1)`;
const OF = `((cpu.lazyMask & ${FLAG_OF}) === 0 ? (cpu.flagsReg >> 11) & 1 : ((cpu.lazyKind === 0` +
  ' ? (cpu.lazyOp1 ^ cpu.lazyRes) & (cpu.lazyOp2 ^ cpu.lazyRes)' +
  ' : (cpu.lazyOp1 ^ cpu.lazyOp2) & (cpu.lazyOp1 ^ cpu.lazyRes)) >>> cpu.lazySign) & 1)';
/** LazyFlags.testCondition for each cc >> 1 (PF, 5, keeps the call). */
const CONDITION = [OF, CF, ZF, `(${CF} | ${ZF})`, SF, null, `(${SF} ^ ${OF})`, `(${ZF} | (${SF} ^ ${OF}))`];

function lazyRecord(kind: number, a: string, b: string, r: string, sign: string, mask = FLAGS_ARITH): string {
  return `cpu.lazyKind = ${kind}, cpu.lazyOp1 = ${a}, cpu.lazyOp2 = ${b}, cpu.lazyRes = ${r}, cpu.lazySign = ${sign}, cpu.lazyMask = ${mask}`;
}
function logicRecord(r: string, sign: string): string {
  return `cpu.flagsReg &= ${CLEAR_CF_OF_AF}, cpu.lazyRes = ${r}, cpu.lazySign = ${sign}, cpu.lazyMask = ${RESULT_FLAGS}`;
}

/** Cpu.alu with a constant operation and width: the result, recording the flags. */
function aluFast([op, a, b, sign]: string[]): string | false {
  if (!/^\d+$/.test(op) || !/^(7|15|31)$/.test(sign)) return false;
  const mask = sign === '31' ? -1 : (2 << Number(sign)) - 1;
  const head = `$p = ${a}, $q = ${b}`;
  switch (Number(op)) {
    case 0: return `(${head}, $s = ($p + $q) & ${mask}, ${lazyRecord(LAZY_ADD, '$p', '$q', '$s', sign)}, $s)`;
    case 2: return `(${head}, $s = ($p + $q + ${CF}) & ${mask}, ${lazyRecord(LAZY_ADD, '$p', '$q', '$s', sign)}, $s)`;
    case 3: return `(${head}, $s = ($p - $q - ${CF}) & ${mask}, ${lazyRecord(LAZY_SUB, '$p', '$q', '$s', sign)}, $s)`;
    case 1: return `(${head}, $s = $p | $q, ${logicRecord('$s', sign)}, $s)`;
    case 4: return `(${head}, $s = $p & $q, ${logicRecord('$s', sign)}, $s)`;
    case 6: return `(${head}, $s = $p ^ $q, ${logicRecord('$s', sign)}, $s)`;
    case 5: case 7: return `(${head}, $s = ($p - $q) & ${mask}, ${lazyRecord(LAZY_SUB, '$p', '$q', '$s', sign)}, $s)`;
    default: return false;
  }
}

/** Expansions of `cpu.<name>(args)`; false keeps the call. */
const INLINE: Record<string, (args: string[]) => string | false> = {
  read8: ([a]) => readFast(8, a, 'tlbR', 'read8'),
  read16: ([a]) => readFast(16, a, 'tlbR', 'read16'),
  read32: ([a]) => readFast(32, a, 'tlbR', 'read32'),
  rmw8: ([a]) => readFast(8, a, 'tlbW', 'rmw8'),
  rmw16: ([a]) => readFast(16, a, 'tlbW', 'rmw16'),
  rmw32: ([a]) => readFast(32, a, 'tlbW', 'rmw32'),
  write8: ([a, v]) => writeFast(8, a, v),
  write16: ([a, v]) => writeFast(16, a, v),
  write32: ([a, v]) => writeFast(32, a, v),
  push32: ([v]) =>
    `($v = ${v}, $w = (sb[2] + r[4] - 4) | 0, $y = cpu.tlbW[$w >>> 12], cpu.ss32 && $y !== 0 && ($w & 3) === 0` +
    ` ? (cpu.i32[($y + ($w & 4095)) >> 2] = $v, r[4] = (r[4] - 4) | 0) : cpu.push32($v))`,
  pop32: () =>
    `($a = (sb[2] + r[4]) | 0, $x = cpu.tlbR[$a >>> 12], cpu.ss32 && $x !== 0 && ($a & 3) === 0` +
    ` ? (r[4] = (r[4] + 4) | 0, cpu.i32[($x + ($a & 4095)) >> 2]) : cpu.pop32())`,
  alu: aluFast,
  getCF: () => CF,
  testCondition: ([cc]) => {
    if (!/^\d+$/.test(cc)) return false;
    const t = CONDITION[Number(cc) >> 1];
    return t !== null && `(${t} ${Number(cc) & 1 ? '===' : '!=='} 0)`;
  },
  // The recordings evaluate their arguments into the scratch variables first, so a fault while
  // evaluating them leaves the previous record whole.
  setFlagsAdd: ([a, b, r, sign]) => `($p = ${a}, $q = ${b}, $s = ${r}, ${lazyRecord(LAZY_ADD, '$p', '$q', '$s', sign)})`,
  setFlagsSub: ([a, b, r, sign]) => `($p = ${a}, $q = ${b}, $s = ${r}, ${lazyRecord(LAZY_SUB, '$p', '$q', '$s', sign)})`,
  setFlagsLogic: ([r, sign]) => `($s = ${r}, ${logicRecord('$s', sign)})`,
  setFlagsResultWith: (args) =>
    args.length === 4 &&
    `($s = ${args[0]}, $p = ${args[2]}, $q = ${args[3]},` +
    ` cpu.flagsReg = (cpu.flagsReg & ${CLEAR_CF_OF_AF}) | ($p ? ${FLAG_CF} : 0) | ($q ? ${FLAG_OF} : 0),` +
    ` cpu.lazyRes = $s, cpu.lazySign = ${args[1]}, cpu.lazyMask = ${RESULT_FLAGS})`,
  setCarryOverflow: ([cf, of]) =>
    `($p = ${cf}, $q = ${of}, cpu.flagsReg = (cpu.flagsReg & ${~(FLAG_CF | FLAG_OF)}) | $p | ($q << 11),` +
    ` cpu.lazyMask &= ${~(FLAG_CF | FLAG_OF)})`,
  setFlagsIncDec: ([a, r, sign, dec]) =>
    (dec === 'true' || dec === 'false') &&
    `($p = ${a}, $s = ${r}, cpu.flagsReg = (cpu.flagsReg & ${~FLAG_CF}) | ${CF},` +
    ` ${lazyRecord(dec === 'true' ? LAZY_SUB : LAZY_ADD, '$p', '1', '$s', sign, FLAGS_ARITH & ~FLAG_CF)})`,
};

/**
 * Rewrite every `cpu.<name>(args)` in `src`, innermost first: `f` gets the name and the rewritten
 * arguments and returns the replacement, or false to keep the call (with its rewritten arguments).
 */
function rewriteCalls(src: string, f: (name: string, args: string[]) => string | false): string {
  let out = '';
  let from = 0;
  const call = /cpu\.(\w+)\(/g;
  for (let m = call.exec(src); m; m = call.exec(src)) {
    // the argument list, split at top-level commas
    const open = m.index + m[0].length;
    const args: string[] = [];
    let depth = 0;
    let start = open;
    let i = open;
    for (; i < src.length; i++) {
      const c = src[i];
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') {
        if (depth === 0) break;
        depth--;
      } else if (c === ',' && depth === 0) {
        args.push(src.slice(start, i).trim());
        start = i + 1;
      }
    }
    const last = src.slice(start, i).trim();
    if (last || args.length) args.push(last);
    const inner = args.map((a) => rewriteCalls(a, f));
    const text = f(m[1], inner);
    out += src.slice(from, m.index) + (text === false ? `cpu.${m[1]}(${inner.join(', ')})` : text);
    from = i + 1;
    call.lastIndex = from;
  }
  return out + src.slice(from);
}

/** Expand the helper calls listed in INLINE. */
export function inlineHelpers(src: string): string {
  return rewriteCalls(src, (name, args) => (INLINE[name] ? INLINE[name](args) : false));
}

/** The lazy-flag fields of the CPU and their locals. */
const FLAG_FIELDS = [
  ['flagsReg', '$fR'], ['lazyMask', '$fM'], ['lazyKind', '$fK'], ['lazyOp1', '$f1'],
  ['lazyOp2', '$f2'], ['lazyRes', '$fr'], ['lazySign', '$fs'],
] as const;

/** What a helper called from a block touches of the state kept in locals. */
interface StateAccess {
  /** Registers it reads or writes (EAX = 0 ... EDI = 7); null: any of them. */
  regs: readonly number[] | null;
  /** The lazy flags: 0 untouched, 1 read, 2 read and written. */
  flags: 0 | 1 | 2;
  /** Whether it reads `cpu.instrStart` while it runs (after a fault the `finally` has set it). */
  ip: boolean;
}

/** A helper not listed: everything. */
const ANY_STATE: StateAccess = { regs: null, flags: 2, ip: true };

const HELPER_ACCESS: Record<string, StateAccess> = {};
// memory accesses and exceptions (they may fault: the `finally` stores the locals)
for (const name of [
  'read8', 'read16', 'read32', 'write8', 'write16', 'write32', 'rmw8', 'rmw16', 'rmw32',
  'raise', 'raiseGP', 'mul32', 'dropWriteMappingsTo',
]) HELPER_ACCESS[name] = { regs: [], flags: 0, ip: false };
for (const [name, regs] of Object.entries({
  push32: [4], pop32: [4], peek32: [4], adjustEsp: [4], leave: [4, 5], div32: [0, 2],
})) HELPER_ACCESS[name] = { regs, flags: 0, ip: true };
for (const name of ['testCondition', 'getCF', 'getEflags']) HELPER_ACCESS[name] = { regs: [], flags: 1, ip: true };
for (const name of [
  'alu', 'shift', 'shiftDouble', 'setArithFlags', 'setCF', 'setEflagsChecked', 'setCarryOverflow',
  'setFlagsAdd', 'setFlagsSub', 'setFlagsLogic', 'setFlagsResultWith', 'setFlagsIncDec',
]) HELPER_ACCESS[name] = { regs: [], flags: 2, ip: true };

/**
 * What an x87 instruction (`cpu.x87(op, modrm, ...)`) touches besides the FPU and memory: FSTSW AX
 * writes AX, FCMOVcc reads EFLAGS, FCOMI/FUCOMI(P) write them; every one records its address (FIP).
 */
function x87Access([op, modrm]: string[]): StateAccess {
  if (!/^\d+$/.test(op) || !/^\d+$/.test(modrm)) return ANY_STATE;
  const o = Number(op), m = Number(modrm);
  if (o === 0xdf && m === 0xe0) return { regs: [0], flags: 0, ip: true }; // FSTSW AX
  if ((o === 0xda || o === 0xdb) && m >= 0xc0 && m < 0xe0) return { regs: [], flags: 1, ip: true }; // FCMOVcc
  if ((o === 0xdb || o === 0xdf) && m >= 0xe8 && m < 0xf8) return { regs: [], flags: 2, ip: true }; // FCOMI
  return { regs: [], flags: 0, ip: true };
}

/** CPU fields read into locals on entry (see localizeState). */
const HOISTED = [['tlbR', '$tR'], ['tlbW', '$tW'], ['u8', '$u8'], ['u16', '$u16'], ['i32', '$i32'], ['ss32', '$ss']] as const;

const REG8_SHIFT = (i: number) => ((i & 1) !== 0 ? 8 : 0);

/** Guest registers and lazy flags in locals (see above). */
export function localizeState(src: string): string {
  // registers: 8- and 16-bit stores first (always whole statements), then loads
  let s = src.replace(/\b(r8|r16)\[(\d+)\] = ([^;]*);/g, (_m, view: string, k: string, rhs: string) => {
    const i = Number(k);
    if (view === 'r16') return `$r${i >> 1} = ($r${i >> 1} & -65536) | ((${rhs}) & 65535);`;
    const n = i >> 2, sh = REG8_SHIFT(i);
    return `$r${n} = ($r${n} & ${~(0xff << sh)}) | (((${rhs}) & 255) << ${sh});`;
  });
  s = s.replace(/\b(r8|r16)\[(\d+)\]/g, (_m, view: string, k: string) => {
    const i = Number(k);
    if (view === 'r16') return `($r${i >> 1} & 65535)`;
    return `(($r${i >> 2} >>> ${REG8_SHIFT(i)}) & 255)`;
  });
  s = s.replace(/\br\[([0-7])\]/g, '$$r$1');
  if (/\br(8|16)?\[/.test(s)) throw new Error('block compiler: a register access with a computed index');
  for (const [field, local] of FLAG_FIELDS) s = s.split(`cpu.${field}`).join(local);
  // The EIP of the instruction under way: the CPU's copy is set before helpers that read it
  // (x87 for FIP, string instructions) and by the `finally` (for a fault).
  s = s.replace(/cpu\.instrStart = (-?\d+);/g, '$$ip = $1;');
  const regs = [0, 1, 2, 3, 4, 5, 6, 7].filter((n) => s.includes(`$r${n}`));
  const flags = s.includes('$f');
  const regsOut = regs.map((n) => `r[${n}] = $r${n}`).join(', ');
  const flagsOut = FLAG_FIELDS.map(([f, l]) => `cpu.${f} = ${l}`).join(', ');
  const flagsIn = FLAG_FIELDS.map(([f, l]) => `${l} = cpu.${f}`).join(', ');
  // segment bases: only MOV/POP Sreg change them within a block
  const bases = [0, 1, 2, 3, 4, 5].filter((k) => s.includes(`sb[${k}]`));
  s = s.replace(/\bsb\[([0-5])\]/g, '$$b$1');
  let site = 0;
  s = rewriteCalls(s, (name, args) => {
    const access = name === 'x87' ? x87Access(args) : HELPER_ACCESS[name] ?? ANY_STATE;
    const own = regs.filter((n) => access.regs === null || access.regs.includes(n));
    const readsFlags = flags && access.flags !== 0;
    const writesFlags = flags && access.flags === 2;
    if (!own.length && !readsFlags && !access.ip) return false;
    // arguments first (they may use the locals), then the stores, the call, the loads
    // an argument that the stores cannot change (a literal, a temporary) is passed as it is
    const vals = args.map((a, i) => (/^(-?\d+|true|false|t\d+)$/.test(a) ? a : `$c${site}_${i}`));
    const result = `$c${site}`;
    site++;
    const before = args.flatMap((a, i) => (vals[i] === a ? [] : [`${vals[i]} = ${a}`]));
    const after: string[] = [];
    if (access.ip) before.push('cpu.instrStart = $ip');
    if (own.length) {
      // $sr: a mask of the registers whose copy in the CPU is the current one during the call
      const mask = own.reduce((m, n) => m | (1 << n), 0);
      before.push(own.map((n) => `r[${n}] = $r${n}`).join(', '), `$sr = ${mask}`);
      after.push(own.map((n) => `$r${n} = r[${n}]`).join(', '), '$sr = 0');
    }
    if (readsFlags) before.push(flagsOut);
    if (writesFlags) {
      before.push('$sf = 1');
      after.push(flagsIn, '$sf = 0');
    }
    if (bases.length && (name === 'loadDataSegment' || name === 'popDataSegment')) after.push(bases.map((k) => `$b${k} = sb[${k}]`).join(', '));
    return `(${before.join(', ')}, ${result} = cpu.${name}(${vals.join(', ')}), ${after.length ? after.join(', ') + ', ' : ''}${result})`;
  });
  const scratch = ['$sr = 0', '$sf = 0', '$ip = cpu.instrStart'];
  for (let i = 0; i < site; i++) scratch.push(`$c${i} = 0`);
  const decls = [...scratch, ...regs.map((n) => `$r${n} = r[${n}]`), ...bases.map((k) => `$b${k} = sb[${k}]`)];
  if (flags) decls.push(...FLAG_FIELDS.map(([f, l]) => `${l} = cpu.${f}`));
  const store = [
    'cpu.instrStart = $ip;',
    regs.length
      ? `if ($sr === 0) { ${regsOut}; } else { ${regs.map((n) => `if (($sr & ${1 << n}) === 0) r[${n}] = $r${n};`).join(' ')} }`
      : '',
    flags ? `if ($sf === 0) { ${flagsOut}; }` : '',
  ];
  // CPU fields that no instruction of a block changes: the TLB tables and RAM views (replaced
  // only on a privilege change) and the stack size
  const fixed = HOISTED.filter(([field]) => s.includes(`cpu.${field}`));
  for (const [field, local] of fixed) s = s.split(`cpu.${field}`).join(local);
  decls.push(...fixed.map(([field, local]) => `${local} = cpu.${field}`));
  // call-site argument slots are declared where they are assigned
  const argSlots = new Set(s.match(/\$c\d+_\d+/g) ?? []);
  if (argSlots.size) decls.push(...[...argSlots].map((v) => `${v} = 0`));
  return `let ${decls.join(', ')};\ntry {\n${s}\n} finally {\n${store.join('\n')}\n}`;
}

/** The final text of a block function from the emitted body. */
function finishBody(body: string): string {
  return `let $a = 0, $x = 0, $w = 0, $v = 0, $y = 0, $p = 0, $q = 0, $s = 0;\n${localizeState(inlineHelpers(body))}`;
}

function compilePass(
  cpu: Cpu, phys: number, eip: number, labels: Set<number> | null,
): { body: string; loopTargets: Set<number>; deps: Set<number>; labels: Map<number, number> } | null {
  const pagePhys = phys & ~0xfff;
  const pageLast = phys | 0xfff;
  const followJumps = cpu.csBase === 0;
  const pageLin = eip & ~0xfff; // with CS base 0, EIP is the linear address
  const rd = new CodeReader(cpu.u8, phys);
  const e = new Emitter(cpu);
  const loopTargets = new Set<number>();
  /** Instruction start → case label, for the instructions compiled so far. */
  const compiled = new Map<number, number>();
  const labelOf = new Map<number, number>();
  if (labels) [...labels].forEach((t, i) => labelOf.set(t, i + 1));
  /** Jcc targets in this page not compiled yet: each becomes a further region of this function. */
  const pending: number[] = [];
  const queued = new Set<number>();
  let count = 0;
  /** `count` at the most recent label (instructions before it are already added to icount). */
  let segment = 0;
  let instrEip = eip;
  let ended = false;
  const flush = () => (count > segment ? `cpu.icount += ${count - segment}; ` : '');
  const exit = (target: string) => `${flush()}cpu.eip = ${target}; return;`;
  const jumpInside = (target: number) => {
    const label = labelOf.get(target);
    if (label === undefined) return null;
    return `${flush()}if (++iterations < ${MAX_LOOP_ITERATIONS} && !cpu.intrPending) { label = ${label}; continue; } cpu.eip = ${target}; return;`;
  };
  for (;;) {
    while (count < MAX_BLOCK_INSTRUCTIONS && rd.pos <= pageLast) {
      const start = rd.pos;
      const thisEip = instrEip;
      if (compiled.has(thisEip)) {
        // Fell through into code already in the block: jump there (a loop) or leave.
        const jump = jumpInside(thisEip);
        if (!labels) loopTargets.add(thisEip);
        e.emit(jump ?? exit(String(thisEip)));
        ended = true;
        break;
      }
      const label = labelOf.get(thisEip);
      if (label !== undefined) {
        // Control can arrive here from a later jump: flush the count and forget fused flags.
        const f = flush();
        if (f) e.emit(f);
        segment = count;
        e.emit(`case ${label}:`);
        e.flags = null;
      }
      const mark = e.lines.length;
      const flagsBefore = e.flags;
      e.branch = null;
      e.room = MAX_BLOCK_INSTRUCTIONS - count - 1;
      e.pageLast = pageLast;
      e.compiledAt = (pos) => compiled.has((thisEip + (pos - start)) | 0);
      const result = compileInstruction(e, rd, thisEip, () => (thisEip + (rd.pos - start)) | 0);
      // An instruction that crosses into the next page is left to the interpreter: the decoder read
      // its tail from the next physical page, which need not be the next linear one.
      if (result === 'stop' || rd.pos > pageLast + 1) {
        e.lines.length = mark;
        e.flags = flagsBefore;
        rd.pos = start;
        break;
      }
      compiled.set(thisEip, count);
      count++;
      instrEip = (instrEip + (rd.pos - start)) | 0;
      if (result === 'end') {
        const shadow = e.shadowIf ? `if (${e.shadowIf}) cpu.irqShadowAt = cpu.icount; ` : '';
        e.shadowIf = null;
        e.emit(`${flush()}${shadow}return;`);
        ended = true;
        break;
      }
      if (result === 'branch') {
        const { cond, target, next } = e.branch!;
        const inPage = followJumps && (target & ~0xfff) === pageLin;
        let takenCode: string;
        if (compiled.has(target)) {
          if (!labels) loopTargets.add(target);
          takenCode = jumpInside(target) ?? exit(String(target));
        } else {
          if (cond !== null && inPage && !queued.has(target)) {
            queued.add(target);
            pending.push(target);
          }
          takenCode = (cond !== null && jumpInside(target)) || exit(String(target));
        }
        if (cond === null) {
          if (compiled.has(target) || !inPage) {
            e.emit(takenCode);
            ended = true;
            break;
          }
          rd.pos = pagePhys + (target & 0xfff);
          instrEip = target;
          continue;
        }
        e.emit(`if (${cond}) { ${takenCode} }`);
        instrEip = next;
      }
    }
    if (count === 0) return null;
    if (!ended) e.emit(exit(String(instrEip)));
    // The next region: a Jcc target of this page not compiled yet (it gets a label in pass 2).
    let nextStart: number | undefined;
    while (pending.length) {
      const t = pending.shift()!;
      if (!compiled.has(t)) {
        nextStart = t;
        break;
      }
    }
    if (nextStart === undefined || count >= MAX_BLOCK_INSTRUCTIONS) break;
    rd.pos = pagePhys + (nextStart & 0xfff);
    instrEip = nextStart;
    ended = false;
    e.flags = null;
    segment = count;
  }
  // Queued targets that were compiled are entered by a jump: they need labels.
  if (!labels) for (const t of queued) if (compiled.has(t)) loopTargets.add(t);
  const body = labels
    ? `let iterations = 0, label = entry;\nfor (;;) switch (label) {\ncase 0:\n${e.lines.join('\n')}\n}`
    : e.lines.join('\n');
  return { body, loopTargets, deps: e.deps, labels: labelOf };
}
