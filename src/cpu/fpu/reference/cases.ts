/**
 * The native x87 reference cases. Each case is run on the host CPU by generate.ts and replayed
 * through the emulated FPU by ../reference.test.ts. Apart from the transcendental group, results
 * are compared bit for bit. Operands stay within what the emulation reproduces exactly (see the
 * header of ../fpu.ts): precision control 53 or 24 bits, no arithmetic on 64-bit significands.
 */
import {
  CaseBuilder,
  RC_DOWN,
  RC_NEAREST,
  RC_UP,
  RC_ZERO,
  Rng,
  cwFor,
  extHexOfDouble,
  hexDouble,
  type CaseSpec,
} from './case-builder';

type Value = number | string; // a double, or its 64-bit pattern as 16 hex digits

const QNAN_P = '7ff8000000000123';
const QNAN_N = 'fff8400000000000';
const SNAN_P = '7ff0000000000456';
const SNAN_N = 'fff4000000000000';
const INDEF = 'fff8000000000000';
const MIN_NORMAL = 2.2250738585072014e-308;

const RCS = [RC_NEAREST, RC_DOWN, RC_UP, RC_ZERO];
const RC_NAME = ['rn', 'rd', 'ru', 'rz'];

const ARITH = ['fadd', 'fmul', 'fsub', 'fsubr', 'fdiv', 'fdivr'];

function valueOf(v: Value): number {
  return typeof v === 'string' ? hexDouble(v) : v;
}

/** Splits `items` into cases of `per` items each. */
function chunks<T>(items: T[], per: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += per) out.push(items.slice(i, i + per));
  return out;
}

/** Appends "store status word, clear exceptions". */
function sw(b: CaseBuilder): void {
  b.a(`fnstsw word ${b.swOut()}`, 'fnclex');
}

/** Loads a value onto the stack exactly (as m80, so signaling NaNs stay signaling). */
function ld(b: CaseBuilder, v: Value): void {
  b.a(`fld tword ${b.m80(extHexOfDouble(v))}`);
}

export function buildCases(): CaseSpec[] {
  const cases: CaseSpec[] = [];
  const add = (b: CaseBuilder): void => void cases.push(b.build());
  const rng = new Rng(0x1234567);

  // ------------------------------------------------------------------------------------------
  // m80 conversions
  {
    const doubles: Value[] = [
      0, -0, 1, -1, 0.5, 1.5, -2.75, 0.1, 1 / 3, Math.PI, 1e10, -1e-10, 1e300, -1e-300, MIN_NORMAL, -MIN_NORMAL,
      5e-324, -5e-324, 2.225073858507201e-308, 1e-310, -3.5e-320, Number.MAX_VALUE, -Number.MAX_VALUE, Infinity,
      -Infinity, QNAN_P, QNAN_N, SNAN_P, SNAN_N, INDEF, '7fffffffffffffff', '000fffffffffffff', '0000000000000001',
      '0008000000000000', '0000000100000000', '0000000080000000', '8000000000000400',
    ];
    for (let i = 0; i < 60; i++) doubles.push(rng.double(-1074 + 52, 1023));
    for (let i = 0; i < 20; i++) {
      // random denormals
      const hi = rng.int(0x100000);
      doubles.push(hi.toString(16).padStart(8, '0') + rng.next().toString(16).padStart(8, '0'));
    }
    chunks(doubles, 10).forEach((list, k) => {
      const b = new CaseBuilder(`m64-to-m80-${k}`, 'm80');
      for (const v of list) {
        b.a(`fld qword ${b.m64(v)}`, `fstp tword ${b.out(10)}`);
        sw(b);
      }
      add(b);
    });

    // 80-bit values with more precision or range than a double, and the odd encodings.
    const exts: string[] = [
      '3fff8000000000000001', '3fff8000000000000400', '3fff8000000000000401', '3fff80000000000003ff', '3fff8000000000000c00',
      'bfff8000000000000400', 'bfff8000000000000c00', '3fffffffffffffffffff', '43fefffffffffffff800', '43feffffffffffffffff',
      '43fffffffffffffff800', '7ffe8000000000000000', 'fffe8000000000000000', '3c018000000000000000', '3c008000000000000000',
      '3bcd8000000000000000', '3bcc8000000000000000', '3bcc8000000000000001', 'bbcc8000000000000001', '3bffc000000000000000',
      '3c00fffffffffffff800', '3c00fffffffffffffc00', '3c00fffffffffffffbff', '3c0080000000000007ff', '3bf0abcdef1234567890',
      '00000000000000000001', '80008000000000000000', '00008000000000000000', '00007fffffffffffffff', '40000000000000000001',
      '7fff0000000000000000', '7fff4000000000000001', 'ffff8000000000000000', '7fff8000000000000001', '7fffc000000000000001',
      'ffffc000000000000000', '7fff8000000000000800', '7fffc0000000000007ff', '40ff8000000000000000', '3fffaaaaaaaaaaaaaaab',
    ];
    for (let i = 0; i < 40; i++) {
      const e = 0x3fff + rng.int(2001) - 1000;
      exts.push(
        ((rng.int(2) << 15) | e).toString(16).padStart(4, '0') +
          ((rng.next() | 0x80000000) >>> 0).toString(16).padStart(8, '0') +
          rng.next().toString(16).padStart(8, '0'),
      );
    }
    chunks(exts, 10).forEach((list, k) => {
      const b = new CaseBuilder(`m80-roundtrip-${k}`, 'm80');
      for (const v of list) {
        b.a(`fld tword ${b.m80(v)}`, `fstp tword ${b.out(10)}`);
        sw(b);
      }
      add(b);
      for (const rc of RCS) {
        const c = new CaseBuilder(`m80-to-m64-${k}-${RC_NAME[rc]}`, 'm80', cwFor(rc));
        for (const v of list) {
          c.a(`fld tword ${c.m80(v)}`, `fstp qword ${c.out(8)}`);
          sw(c);
        }
        add(c);
      }
    });
    // m80 with at most 53 significant bits to m32 (one rounding in both).
    for (const rc of RCS) {
      const b = new CaseBuilder(`m80-to-m32-${RC_NAME[rc]}`, 'm80', cwFor(rc));
      const vals: Value[] = [1.0000000596046448, 1.0000001192092896, -1.0000000596046448, 3.4028235677973366e38, 3.4028234663852886e38,
        -3.5e38, 1e39, 1.1754942106924411e-38, 1e-45, 7e-46, -1e-40, 0.1, 2 / 3, SNAN_P, QNAN_N];
      for (const v of vals) {
        b.a(`fld tword ${b.m80(extHexOfDouble(v))}`, `fstp dword ${b.out(4, 4)}`);
        sw(b);
      }
      add(b);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Arithmetic: special operands (round to nearest), m64 operand form
  {
    const special: Value[] = [0, -0, 1, -1, 1.5, -2.75, 0.1, 3, 1e10, -7e-5, 1e300, -1e-300, 5e-324, Infinity, -Infinity,
      QNAN_P, QNAN_N, SNAN_P, SNAN_N, INDEF];
    const items: Array<[string, Value, Value]> = [];
    for (const op of ARITH)
      for (const a of special)
        for (const c of special) items.push([op, a, c]);
    chunks(items, 14).forEach((list, k) => {
      const b = new CaseBuilder(`special-${k}`, 'arith-special');
      for (const [op, x, y] of list) {
        ld(b, x);
        b.a(`${op} qword ${b.m64(y)}`, `fstp qword ${b.out(8)}`);
        sw(b);
      }
      add(b);
    });
    // NaN selection in register forms (both operands signaling/quiet, equal payloads)
    const nans: Value[] = [QNAN_P, QNAN_N, SNAN_P, SNAN_N, INDEF, '7ff8000000000000', 'fff8000000000123', '7ff0000000000123', 1];
    const pairs: Array<[Value, Value]> = [];
    for (const a of nans) for (const c of nans) pairs.push([a, c]);
    chunks(pairs, 14).forEach((list, k) => {
      const b = new CaseBuilder(`nan-select-${k}`, 'arith-special');
      for (const [x, y] of list) {
        ld(b, y);
        ld(b, x);
        b.a('fadd st0, st1', `fstp qword ${b.out(8)}`, 'fdivr st0, st0', `fstp qword ${b.out(8)}`);
        sw(b);
      }
      add(b);
    });
  }

  // ------------------------------------------------------------------------------------------
  // Arithmetic: random operands in every rounding mode, several forms
  for (const rc of RCS) {
    const items: Array<[string, number, number]> = [];
    for (const op of ARITH)
      for (let i = 0; i < 24; i++) {
        const x = rng.double(-40, 40);
        const y = i % 6 === 5 ? -x * (1 + 2 ** -50) : i % 6 === 4 ? x : rng.double(-40, 40);
        items.push([op, x, y]);
      }
    chunks(items, 12).forEach((list, k) => {
      const b = new CaseBuilder(`random-${RC_NAME[rc]}-${k}`, 'arith-random', cwFor(rc));
      list.forEach(([op, x, y], i) => {
        b.a(`fld qword ${b.m64(x)}`);
        if (i % 3 === 0) b.a(`${op} qword ${b.m64(y)}`);
        else if (i % 3 === 1) b.a(`fld qword ${b.m64(y)}`, `${op} st1, st0`, 'fstp st0');
        else b.a(`fld qword ${b.m64(y)}`, `${op} st0, st1`, 'fxch', 'fstp st0');
        b.a(`fstp qword ${b.out(8)}`);
        sw(b);
      });
      add(b);
    });
  }
  // Operands with large and small exponents (exercising the exact rounding-direction code paths)
  for (const rc of RCS) {
    const items: Array<[string, number, number]> = [];
    while (items.length < 96) {
      const op = ARITH[items.length % 6];
      const ex = rng.int(2000) - 1000;
      // half of the results inside the double range, half beyond it (kept in the 80-bit range)
      const spread = items.length % 12 < 6 ? 900 : 1300;
      const ey = op === 'fmul' ? rng.int(2 * spread) - spread - ex : op === 'fdiv' || op === 'fdivr' ? ex - (rng.int(2 * spread) - spread) : rng.int(2000) - 1000;
      if (ey < -1020 || ey > 1020) continue;
      items.push([op, rng.double(ex, ex), rng.double(ey, ey)]);
    }
    chunks(items, 12).forEach((list, k) => {
      const b = new CaseBuilder(`wide-${RC_NAME[rc]}-${k}`, 'arith-random', cwFor(rc));
      for (const [op, x, y] of list) {
        b.a(`fld qword ${b.m64(x)}`, `${op} qword ${b.m64(y)}`, `fstp qword ${b.out(8)}`);
        sw(b);
      }
      add(b);
    });
    const b = new CaseBuilder(`wide-sqrt-${RC_NAME[rc]}`, 'arith-random', cwFor(rc));
    for (let i = 0; i < 12; i++) {
      b.a(`fld qword ${b.m64(Math.abs(rng.double(-1022, 1023)))}`, 'fsqrt', `fstp qword ${b.out(8)}`);
      sw(b);
    }
    add(b);
  }

  // Results beyond the double range, stored afterwards (the hardware overflows/underflows at the store)
  for (const rc of RCS) {
    const b = new CaseBuilder(`range-${RC_NAME[rc]}`, 'range', cwFor(rc));
    const pairs: Array<[string, number, number]> = [['fmul', 1e300, 1e10], ['fmul', -1e300, 3e200], ['fdiv', 1e300, 1e-20], ['fadd', Number.MAX_VALUE, Number.MAX_VALUE],
      ['fsub', -Number.MAX_VALUE, 1e300], ['fadd', Number.MAX_VALUE, 1e292], ['fadd', Number.MAX_VALUE, 1e291], ['fmul', 1e-300, 1e-10], ['fmul', -1e-200, 3.3e-120],
      ['fdiv', 1e-300, 3e20], ['fmul', 2.2250738585072014e-308, 0.9999999999999999], ['fdiv', 5e-324, 3], ['fmul', 1e-160, -1e-160], ['fmul', 1.5, 1.7e308]];
    for (const [op, x, y] of pairs) {
      b.a(`fld qword ${b.m64(x)}`, `${op} qword ${b.m64(y)}`, `fnstsw word ${b.out(2, 2)}`, 'fld st0', `fstp tword ${b.out(10)}`, `fstp qword ${b.out(8)}`);
      sw(b);
    }
    for (const [x, n] of [[1.5, 2000], [-1.25, -1100], [3, 1030], [0.75, -1074]] as Array<[number, number]>) {
      b.a(`fild dword ${b.i32(n)}`, `fld qword ${b.m64(x)}`, 'fscale', `fnstsw word ${b.out(2, 2)}`, 'fld st0', `fstp tword ${b.out(10)}`, `fstp dword ${b.out(4, 4)}`, 'fstp st0');
      sw(b);
    }
    add(b);
  }

  // Values beyond the double range used as operands (the hardware's registers hold them)
  for (const rc of [RC_NEAREST, RC_UP]) {
    const b = new CaseBuilder(`range-chain-${RC_NAME[rc]}`, 'range', cwFor(rc));
    const big = b.m64(1e200);
    const tiny = b.m64(1e-200);
    const chains: string[][] = [
      [`fld qword ${big}`, 'fmul st0, st0', 'fsqrt'],
      [`fld qword ${big}`, `fmul qword ${big}`, `fdiv qword ${b.m64(3e150)}`],
      [`fld qword ${tiny}`, `fmul qword ${tiny}`, `fmul qword ${b.m64(1e300)}`],
      [`fld qword ${tiny}`, `fmul qword ${tiny}`, 'fsqrt'],
      [`fld qword ${big}`, `fmul qword ${big}`, 'fld st0', 'faddp st1, st0', `fdiv qword ${big}`],
      [`fld qword ${big}`, `fmul qword ${big}`, `fsub qword ${big}`, `fmul qword ${tiny}`],
      [`fld qword ${big}`, `fmul qword ${big}`, 'fld1', 'fdivrp st1, st0', `fmul qword ${big}`],
      [`fld qword ${big}`, `fmul qword ${b.m64(-1e300)}`, 'fld st0', 'fmulp st1, st0', 'fsqrt', 'fsqrt'],
      [`fld qword ${big}`, `fmul qword ${big}`, `fild dword ${b.i32(-1000)}`, 'fxch', 'fscale', 'fstp st1'],
      [`fld qword ${tiny}`, `fdiv qword ${big}`, `fimul dword ${b.i32(1000000)}`, `fmul qword ${big}`, `fmul qword ${big}`],
    ];
    for (const chain of chains) {
      b.a(...chain, 'fld st0', `fstp tword ${b.out(10)}`, `fstp qword ${b.out(8)}`);
      sw(b);
    }
    // with zeros and infinities
    for (const other of ['fldz', 'fld1\nfdiv qword ZERO', 'fld1\nfchs\nfdiv qword ZERO']) {
      for (const op of ['fmul', 'fadd', 'fsub', 'fdiv', 'fdivr']) {
        b.a(`fld qword ${big}`, `fmul qword ${big}`, ...other.replace(/ZERO/g, b.m64(0)).split('\n'), `${op}p st1, st0`, `fstp qword ${b.out(8)}`);
        sw(b);
      }
    }
    // comparisons and classification of such values
    b.a(`fld qword ${big}`, `fmul qword ${big}`, `fld qword ${big}`, `fmul qword ${b.m64(2e200)}`, 'fcom st1');
    sw(b);
    b.a('fucomi st0, st1', 'fxch', 'fcomi st0, st1', 'ftst');
    sw(b);
    b.a('fxam');
    sw(b);
    b.a(`fcom qword ${b.m64(Infinity)}`);
    sw(b);
    b.a('fcompp', `fld qword ${tiny}`, `fmul qword ${tiny}`, 'ftst');
    sw(b);
    b.a('fchs', 'ftst');
    sw(b);
    b.a(`fcom qword ${b.m64(-0)}`);
    sw(b);
    b.a(`fistp dword ${b.out(4, 4)}`, `fld qword ${big}`, `fmul qword ${big}`, `fistp dword ${b.out(4, 4)}`);
    sw(b);
    add(b);
  }

  // Precision control: single (PC=00) in every rounding mode.
  for (const rc of RCS) {
    const items: Array<[string, number, number]> = [];
    for (const op of ARITH) for (let i = 0; i < 10; i++) items.push([op, rng.double(-20, 20), rng.double(-20, 20)]);
    chunks(items, 12).forEach((list, k) => {
      const b = new CaseBuilder(`pc24-${RC_NAME[rc]}-${k}`, 'precision', cwFor(rc, 0));
      for (const [op, x, y] of list) {
        b.a(`fld qword ${b.m64(x)}`, `${op} qword ${b.m64(y)}`, `fstp qword ${b.out(8)}`);
        sw(b);
      }
      add(b);
    });
    const b = new CaseBuilder(`pc24-sqrt-${RC_NAME[rc]}`, 'precision', cwFor(rc, 0));
    for (let i = 0; i < 10; i++) {
      b.a(`fld qword ${b.m64(Math.abs(rng.double(-30, 30)))}`, 'fsqrt', `fstp qword ${b.out(8)}`);
      sw(b);
    }
    b.a(`fld qword ${b.m64(1)}`, `fadd qword ${b.m64(2 ** -24)}`, `fstp qword ${b.out(8)}`);
    sw(b);
    b.a(`fld qword ${b.m64(1)}`, `fadd qword ${b.m64(3 * 2 ** -24)}`, `fstp qword ${b.out(8)}`);
    sw(b);
    add(b);
  }

  // ------------------------------------------------------------------------------------------
  // All operand forms of the six operations
  {
    const forms: Array<[string, (b: CaseBuilder, op: string) => void]> = [
      ['m32', (b, op) => b.a('fld qword ' + b.m64(7.25), `${op} dword ${b.m32(-1.375)}`)],
      ['m64', (b, op) => b.a('fld qword ' + b.m64(7.25), `${op} qword ${b.m64(-1.375)}`)],
      ['m16int', (b, op) => b.a('fld qword ' + b.m64(7.25), `${op.replace('f', 'fi')} word ${b.i16(-3)}`)],
      ['m32int', (b, op) => b.a('fld qword ' + b.m64(7.25), `${op.replace('f', 'fi')} dword ${b.i32(100000)}`)],
      ['st0-sti', (b, op) => b.a('fld qword ' + b.m64(-1.375), 'fld qword ' + b.m64(7.25), `${op} st0, st1`, 'fstp qword ' + b.out(8))],
      ['sti-st0', (b, op) => b.a('fld qword ' + b.m64(-1.375), 'fld qword ' + b.m64(7.25), `${op} st1, st0`, 'fstp qword ' + b.out(8))],
      ['pop', (b, op) => b.a('fld qword ' + b.m64(-1.375), 'fld qword ' + b.m64(7.25), `${op}p st1, st0`)],
      ['st2', (b, op) => b.a('fld qword ' + b.m64(3), 'fld qword ' + b.m64(-1.375), 'fld qword ' + b.m64(7.25), `${op}p st2, st0`, 'fstp qword ' + b.out(8))],
    ];
    for (const [name, emit] of forms) {
      const b = new CaseBuilder(`form-${name}`, 'arith-forms');
      for (const op of ARITH) {
        emit(b, op);
        b.a(`fstp qword ${b.out(8)}`);
        sw(b);
      }
      add(b);
    }
    // Denormal memory operands (DE), m32 NaNs
    const b = new CaseBuilder('form-denormal-operands', 'arith-forms');
    b.a('fld qword ' + b.m64(1), 'fadd qword ' + b.m64(5e-324), 'fstp qword ' + b.out(8));
    sw(b);
    b.a('fld qword ' + b.m64(1), 'fmul dword ' + b.m32('00000001'), 'fstp qword ' + b.out(8));
    sw(b);
    b.a('fld qword ' + b.m64(1), 'fadd dword ' + b.m32('7f800001'), 'fstp qword ' + b.out(8));
    sw(b);
    b.a('fld qword ' + b.m64(1), 'fadd dword ' + b.m32('ffc00123'), 'fstp qword ' + b.out(8));
    sw(b);
    b.a('fld dword ' + b.m32('80000010'), 'fstp qword ' + b.out(8));
    sw(b);
    b.a('fld dword ' + b.m32('7f800010'), 'fstp qword ' + b.out(8));
    sw(b);
    b.a('fld qword ' + b.m64('8000000000000010'), 'fstp qword ' + b.out(8));
    sw(b);
    add(b);
  }

  // ------------------------------------------------------------------------------------------
  // FIST/FISTP: all sizes and rounding modes
  {
    const vals: Value[] = [0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 2.4999999999999996, -2.5000000000000004, 0.25, -0.75, 1e-300,
      32767.4, 32767.5, -32768.5, -32768.4, 32768, -32769, 2147483647.5, -2147483648.5, 2147483648, -2147483649,
      9223372036854774784, 9223372036854775808, -9223372036854775808, -9223372036854777856, 1e19, 123456.789, -98765.4321,
      Infinity, -Infinity, QNAN_P, SNAN_N];
    for (const rc of RCS)
      for (const [size, w] of [['word', 2], ['dword', 4], ['qword', 8]] as const) {
        chunks(vals, 12).forEach((list, k) => {
          const b = new CaseBuilder(`fistp-${size}-${RC_NAME[rc]}-${k}`, 'fist', cwFor(rc));
          for (const v of list) {
            ld(b, v);
            b.a(`fistp ${size} ${b.out(w, w)}`);
            sw(b);
          }
          add(b);
        });
      }
    const b = new CaseBuilder('fist-nopop', 'fist');
    b.a(`fld qword ${b.m64(-7.5)}`, `fist word ${b.out(2, 2)}`, `fist dword ${b.out(4, 4)}`);
    sw(b);
    add(b);
  }

  // ------------------------------------------------------------------------------------------
  // FILD and 64-bit integer round trips
  {
    const b = new CaseBuilder('fild-16-32', 'fild');
    for (const v of [0, 1, -1, 32767, -32768, 12345]) b.a(`fild word ${b.i16(v)}`, `fstp tword ${b.out(10)}`);
    for (const v of [0, 1, -1, 2147483647, -2147483648, 987654321]) b.a(`fild dword ${b.i32(v)}`, `fstp tword ${b.out(10)}`);
    sw(b);
    add(b);
    const i64 = [0n, 1n, -1n, (1n << 53n) + 1n, (1n << 63n) - 1n, -(1n << 63n), 0x123456789abcdef0n, -0x123456789abcdefn, (1n << 62n) + 3n];
    for (let i = 0; i < 9; i++) i64.push(BigInt.asIntN(64, (BigInt(rng.next()) << 32n) | BigInt(rng.next())));
    chunks(i64, 6).forEach((list, k) => {
      const c = new CaseBuilder(`fild-64-${k}`, 'fild');
      for (const v of list) {
        const m = c.i64(v);
        c.a(`fild qword ${m}`, `fstp tword ${c.out(10)}`, `fild qword ${m}`, `fistp qword ${c.out(8)}`);
        c.a(`fild qword ${m}`, 'fld st0', 'fxch st1', 'fstp st1', `fistp qword ${c.out(8)}`);
      }
      sw(c);
      add(c);
      for (const rc of RCS) {
        const d = new CaseBuilder(`fild-64-to-m64-${k}-${RC_NAME[rc]}`, 'fild', cwFor(rc));
        for (const v of list) {
          d.a(`fild qword ${d.i64(v)}`, `fstp qword ${d.out(8)}`);
          sw(d);
        }
        add(d);
      }
    });
  }

  // ------------------------------------------------------------------------------------------
  // Packed BCD
  {
    const b = new CaseBuilder('fbld', 'bcd');
    for (const [d, neg] of [['0', false], ['0', true], ['1', false], ['999999999999999999', false], ['123456789012345678', true],
      ['9007199254740993', false], ['100000000000000000', true], ['42', false]] as const) {
      b.a(`fbld tword ${b.bcd(d, neg)}`, `fstp tword ${b.out(10)}`);
    }
    sw(b);
    add(b);
    const vals: Value[] = [0, -0, 1.5, 2.5, -2.5, -0.4, 1e17, 99999999999999.99, -123.456, 999999999999999999, 1e18, -1e18, QNAN_P, Infinity];
    for (const rc of RCS) {
      const c = new CaseBuilder(`fbstp-${RC_NAME[rc]}`, 'bcd', cwFor(rc));
      for (const v of vals) {
        ld(c, v);
        c.a(`fbstp tword ${c.out(10)}`);
        sw(c);
      }
      const bcd = c.bcd('999999999999999999');
      c.a(`fbld tword ${bcd}`, `fbstp tword ${c.out(10)}`);
      c.a(`fbld tword ${c.bcd('123456789012345678', true)}`, `fbstp tword ${c.out(10)}`);
      sw(c);
      add(c);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Constants in each rounding mode
  for (const rc of RCS) {
    const b = new CaseBuilder(`constants-${RC_NAME[rc]}`, 'constants', cwFor(rc));
    for (const c of ['fld1', 'fldl2t', 'fldl2e', 'fldpi', 'fldlg2', 'fldln2', 'fldz']) b.a(c, `fstp tword ${b.out(10)}`);
    for (const c of ['fldl2t', 'fldl2e', 'fldpi', 'fldlg2', 'fldln2']) b.a(c, `fstp qword ${b.out(8)}`);
    b.a('fldpi', `fstp dword ${b.out(4, 4)}`);
    sw(b);
    add(b);
  }

  // ------------------------------------------------------------------------------------------
  // Comparisons
  {
    const pairs: Array<[Value, Value]> = [[1, 2], [2, 1], [1, 1], [0, -0], [-0, 0], [Infinity, Infinity], [-Infinity, 1], [1e300, 1e-300],
      [QNAN_P, 1], [1, QNAN_N], [SNAN_P, 1], [1, SNAN_N], [-5, -5.5], [5e-324, 0], [0, Infinity], [INDEF, INDEF]];
    pairs.forEach(([x, y], k) => {
      const b = new CaseBuilder(`compare-${k}`, 'compare');
      ld(b, y);
      ld(b, x);
      for (const ins of ['fcom st1', 'fucom st1', 'ftst', `fcom qword ${b.m64(y)}`, `fcom dword ${b.m32(valueOf(y))}`, 'fcom', 'fucom']) {
        b.a(ins);
        sw(b);
      }
      b.a('fucomp st1');
      sw(b);
      ld(b, x);
      b.a('fcompp');
      sw(b);
      ld(b, y);
      ld(b, x);
      b.a('fucompp');
      sw(b);
      ld(b, x);
      b.a(`fcomp qword ${b.m64(y)}`);
      sw(b);
      ld(b, x);
      b.a(`ficom dword ${b.i32(2)}`);
      sw(b);
      b.a(`ficomp word ${b.i16(-1)}`);
      sw(b);
      add(b);
    });
    const c = new CaseBuilder('compare-denormal-mem', 'compare');
    c.a('fldz', `fcom qword ${c.m64(5e-324)}`);
    sw(c);
    c.a(`fcom dword ${c.m32('00000003')}`);
    sw(c);
    add(c);
    // FCOMI family: one comparison per case (EFLAGS are recorded at the end)
    const ipairs: Array<[Value, Value]> = [[1, 2], [2, 1], [1, 1], [-0, 0], [QNAN_P, 1], [1, SNAN_P], [Infinity, -Infinity]];
    for (const ins of ['fcomi', 'fcomip', 'fucomi', 'fucomip']) {
      ipairs.forEach(([x, y], k) => {
        const b = new CaseBuilder(`${ins}-${k}`, 'fcomi');
        b.eflags = 0x202 | 0x8d5;
        ld(b, y);
        ld(b, x);
        b.a(`${ins} st0, st1`);
        sw(b);
        add(b);
      });
      const b = new CaseBuilder(`${ins}-empty`, 'fcomi');
      b.eflags = 0x202;
      b.a('fld1', `${ins} st0, st3`);
      sw(b);
      add(b);
    }
  }

  // ------------------------------------------------------------------------------------------
  // FCMOVcc under several flag combinations
  for (const flags of [0, 0x01, 0x40, 0x04, 0x41, 0x45, 0x05, 0x44]) {
    const b = new CaseBuilder(`fcmov-${flags.toString(16)}`, 'fcmov');
    b.eflags = 0x202 | flags;
    const A = b.m64(1.25);
    const B = b.m64(-8);
    for (const cc of ['fcmovb', 'fcmove', 'fcmovbe', 'fcmovu', 'fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu'])
      b.a(`fld qword ${A}`, `fld qword ${B}`, `${cc} st0, st1`, `fstp qword ${b.out(8)}`, 'fstp st0');
    sw(b);
    add(b);
  }
  {
    const b = new CaseBuilder('fcmov-empty-dest', 'fcmov');
    b.eflags = 0x203;
    b.a('fld1', 'fincstp', 'fcmovb st0, st7');
    sw(b);
    add(b);
  }

  // ------------------------------------------------------------------------------------------
  // FPREM / FPREM1
  {
    const pairs: Array<[Value, Value]> = [[5.5, 2], [-5.5, 2], [5.5, -2], [7, 3], [1e10, 3.3], [-1e10, 0.7], [1, 3], [2, 3], [1.5, 3],
      [3, 2], [-3, 2], [5, 2], [7, 2], [6, 4], [1e30, 3], [1e300, 1.1], [2, 0], [Infinity, 2], [2, Infinity], [0, 3], [-0, 3],
      [QNAN_P, 1], [1, SNAN_N], [5e-324, 3e-320], [3e-320, 5e-324], [1e-300, 3e-310], [8, 8], [-9, 3]];
    for (let i = 0; i < 24; i++) {
      const y = rng.double(-10, 10);
      const d = i < 8 ? 60 + i : rng.int(70);
      pairs.push([y * 2 ** d * (1 + rng.int(1000) / 1000), y]);
    }
    for (const ins of ['fprem', 'fprem1']) {
      chunks(pairs, 7).forEach((list, k) => {
        const b = new CaseBuilder(`${ins}-${k}`, 'fprem');
        for (const [x, y] of list) {
          ld(b, y);
          ld(b, x);
          for (let i = 0; i < 3; i++) b.a(ins, `fnstsw word ${b.out(2, 2)}`, `fst qword ${b.out(8)}`);
          b.a('fstp st0', 'fstp st0', 'fnclex');
        }
        add(b);
      });
    }
  }

  // ------------------------------------------------------------------------------------------
  // FXAM
  {
    const b = new CaseBuilder('fxam', 'fxam');
    const exts = [extHexOfDouble(0), extHexOfDouble(-0), extHexOfDouble(1), extHexOfDouble(-1), extHexOfDouble(Infinity),
      extHexOfDouble(-Infinity), extHexOfDouble(QNAN_P), extHexOfDouble(QNAN_N), extHexOfDouble(SNAN_P), extHexOfDouble(5e-324),
      '00000000000000000001', '80008000000000000000', '40004000000000000000', '7fff0000000000000000', 'ffff4000000000000001',
      '3fff8000000000000001', 'bffe8000000000000001'];
    for (const x of exts) b.a(`fld tword ${b.m80(x)}`, 'fxam', `fnstsw word ${b.out(2, 2)}`, 'fstp st0');
    b.a('fxam', `fnstsw word ${b.out(2, 2)}`); // empty, stale -2^-1 with extra bit
    b.a('fld1', 'fchs', 'fstp st0', 'fdecstp', 'fxam', `fnstsw word ${b.out(2, 2)}`, 'fincstp', 'fxam', `fnstsw word ${b.out(2, 2)}`);
    add(b);
  }

  // ------------------------------------------------------------------------------------------
  // Stack faults and register housekeeping
  {
    let b = new CaseBuilder('overflow', 'stack');
    for (let i = 0; i < 9; i++) b.a('fld1');
    sw(b);
    b.a('fld qword ' + b.m64(2), 'fild dword ' + b.i32(3), 'fldpi');
    sw(b);
    add(b);

    const underflows: Array<[string, string[]]> = [
      ['fadd', ['fld1', 'fadd st0, st3']],
      ['faddp', ['fld1', 'faddp st3, st0']],
      ['fadd-mem', [`fadd qword MEM`]],
      ['fst-mem', ['fst qword OUT8']],
      ['fstp-mem', ['fstp qword OUT8']],
      ['fstp-m32', ['fstp dword OUT4']],
      ['fstp-m80', ['fstp tword OUT10']],
      ['fistp', ['fistp dword OUT4']],
      ['fistp16', ['fistp word OUT2']],
      ['fistp64', ['fistp qword OUT8']],
      ['fbstp', ['fbstp tword OUT10']],
      ['fxch', ['fld1', 'fxch st2']],
      ['fld-sti', ['fld1', 'fld st4']],
      ['fst-sti', ['fst st3']],
      ['fstp-sti', ['fld1', 'fincstp', 'fstp st2']],
      ['fchs', ['fchs']],
      ['fabs', ['fabs']],
      ['fsqrt', ['fsqrt']],
      ['frndint', ['frndint']],
      ['fcom', ['fld1', 'fcom st2']],
      ['fcomp-mem', ['fcomp qword MEM']],
      ['ftst', ['ftst']],
      ['fprem', ['fld1', 'fprem']],
      ['fscale', ['fld1', 'fscale']],
      ['fsin', ['fsin']],
      ['fptan', ['fptan']],
      ['fsincos', ['fsincos']],
      ['fxtract', ['fxtract']],
      ['fpatan', ['fld1', 'fpatan']],
      ['fyl2x', ['fld1', 'fyl2x']],
      ['f2xm1', ['f2xm1']],
    ];
    for (const [name, ins] of underflows) {
      b = new CaseBuilder(`underflow-${name}`, 'stack');
      b.a(...ins.map((l) => l.replace('MEM', b.m64(1.5)).replace(/OUT(\d+)/, (_, n: string) => b.out(Number(n), Math.min(Number(n), 8)))));
      sw(b);
      add(b);
    }
    const full: Array<[string, string]> = [['fptan', 'fptan'], ['fsincos', 'fsincos'], ['fxtract', 'fxtract'], ['fld-sti', 'fld st3'],
      ['fldz', 'fldz'], ['fild', 'FILD'], ['fbld', 'FBLD']];
    for (const [name, ins] of full) {
      b = new CaseBuilder(`full-${name}`, 'stack');
      b.a('fld qword ' + b.m64(0.5));
      for (let i = 0; i < 7; i++) b.a('fld1');
      b.a(ins.replace('FILD', 'fild dword ' + b.i32(9)).replace('FBLD', 'fbld tword ' + b.bcd('77')));
      sw(b);
      add(b);
    }
    b = new CaseBuilder('housekeeping', 'stack');
    b.a('fld1', 'fldpi', 'fldz', 'fld qword ' + b.m64(-3.5), 'fxch st2', 'ffree st1', 'fincstp', 'fdecstp', 'fdecstp', 'fnop');
    sw(b);
    b.a('fld st2', 'fst st5', 'fstp st1');
    sw(b);
    add(b);
    // Undocumented aliases
    const aliases: Array<[string, number[]]> = [
      ['fstp1', [0xd9, 0xda]], ['fcom2', [0xdc, 0xd1]], ['fcomp3', [0xdc, 0xd9]], ['fxch4', [0xdd, 0xc9]], ['fcomp5', [0xde, 0xd1]],
      ['fxch7', [0xdf, 0xca]], ['fstp8', [0xdf, 0xd2]], ['fstp9', [0xdf, 0xd9]], ['ffreep', [0xdf, 0xc1]], ['feni', [0xdb, 0xe0]],
      ['fdisi', [0xdb, 0xe1]], ['fsetpm', [0xdb, 0xe4]],
    ];
    for (const [name, bytes] of aliases) {
      b = new CaseBuilder(`alias-${name}`, 'stack');
      b.a('fld qword ' + b.m64(5), 'fld qword ' + b.m64(-2), 'fld qword ' + b.m64(0.75), `db ${bytes.join(', ')}`);
      sw(b);
      add(b);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Unsupported encodings (unnormal, pseudo-infinity) as operands: invalid operation
  for (const [encName, enc] of [['unnormal', '40004000000000000000'], ['pseudo-inf', 'ffff0000000000000000']]) {
    const ops = ['fadd st0, st1', 'fsub st1, st0', 'fmul qword MEM', 'fcom st1', 'fucom st1', 'fcomi st0, st1', 'ftst', 'fsqrt', 'fsin',
      'fptan', 'frndint', 'fprem', 'fscale', 'fxtract', 'fchs', 'fabs', 'f2xm1', 'fpatan', 'fyl2x', 'fistp dword OUT', 'fstp qword OUT',
      'fstp dword OUT', 'fxch', 'fst st1', 'fld st0'];
    ops.forEach((ins, k) => {
      const b = new CaseBuilder(`unsupported-${encName}-${k}`, 'unsupported');
      b.a(`fld qword ${b.m64(2.5)}`, `fld tword ${b.m80(enc)}`, ins.replace('MEM', b.m64(1.5)).replace('OUT', b.out(8)));
      sw(b);
      add(b);
    });
    const b = new CaseBuilder(`unsupported-${encName}-second`, 'unsupported');
    b.a(`fld tword ${b.m80(enc)}`, `fld qword ${b.m64(2.5)}`, 'fadd st0, st1');
    sw(b);
    b.a('fcom st1');
    sw(b);
    add(b);
  }

  // ------------------------------------------------------------------------------------------
  // Control and environment
  {
    let b = new CaseBuilder('control-words', 'env');
    b.a(`fldcw ${b.i16(0xffff)}`, `fnstcw ${b.out(2, 2)}`, `fldcw ${b.i16(0)}`, `fnstcw ${b.out(2, 2)}`, `fldcw ${b.i16(0x0c7f)}`);
    b.a(`fnstcw ${b.out(2, 2)}`, 'fninit', `fnstcw ${b.out(2, 2)}`, `fnstsw ${b.out(2, 2)}`);
    add(b);

    const setup = (c: CaseBuilder): void => {
      c.a(`fld tword ${c.m80('3fff8000000000000001')}`, 'fldz', `fld qword ${c.m64(QNAN_P)}`, `fld qword ${c.m64(-2.5)}`);
      c.a(`fld qword ${c.m64(1)}`, `fdiv qword ${c.m64(0)}`, `fmul qword ${c.m64(3)}`, `fdiv dword ${c.m32(3)}`, `fldcw ${c.i16(0x0e7f)}`, 'fdecstp');
    };
    for (const o16 of [false, true]) {
      const p = o16 ? 'o16 ' : '';
      const n = o16 ? 16 : 'e32';
      b = new CaseBuilder(`fnstenv-${n}`, 'env');
      setup(b);
      b.a(`${p}fnstenv ${b.out(o16 ? 14 : 28)}`, `${p}fnstenv ${b.out(o16 ? 14 : 28)}`);
      add(b);
      b = new CaseBuilder(`fnsave-frstor-${n}`, 'env');
      setup(b);
      const area = b.out(o16 ? 94 : 108);
      b.a(`${p}fnsave ${area}`, 'fld1', `${p}fnsave ${b.out(o16 ? 94 : 108)}`, `${p}frstor ${area}`);
      add(b);
    }
    // FLDENV/FRSTOR of constructed images: tags, weird registers, flags with ES, pointers
    const env32 = (cw: number, sw: number, tw: number): number[] => {
      const w = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, 0xff, 0xff];
      return [...w(cw), ...w(sw), ...w(tw), 0x78, 0x56, 0x34, 0x12, 0x23, 0x00, 0x5d, 0x04, 0xef, 0xcd, 0xab, 0x89, 0x2b, 0x00, 0xff, 0xff];
    };
    b = new CaseBuilder('fldenv-32', 'env');
    b.a('fld1', 'fld1', `fldenv ${b.raw(env32(0x0a7f, 0x1a21 | 0x8080, 0x5a3c))}`, `fnstsw ${b.out(2, 2)}`, `fnstenv ${b.out(28)}`);
    add(b);
    b = new CaseBuilder('fldenv-16', 'env');
    b.a('fld1', `o16 fldenv ${b.raw([0x7f, 0x06, 0x01, 0x20, 0xfc, 0xff, 0x34, 0x12, 0x08, 0x00, 0x78, 0x56, 0x10, 0x00])}`, `fnstsw ${b.out(2, 2)}`, `fnstenv ${b.out(28)}`);
    add(b);
    const regs = ['3fff8000000000000001', '00000000000000000000', '7fff4000000000000001', '40004000000000000000', 'c0008000000000000000',
      '00000000000000000001', '7fffc000000000000000', '3ffe8000000000000000'];
    const image = [...env32(0x027f, 0x3000 | 0x20, 0x0000), ...regs.flatMap((h) => {
      const bytes: number[] = [];
      for (let i = 20; i > 0; i -= 2) bytes.push(parseInt(h.slice(i - 2, i), 16));
      return bytes;
    })];
    b = new CaseBuilder('frstor-32', 'env');
    b.a(`frstor ${b.raw(image)}`, 'fxam', `fnstsw ${b.out(2, 2)}`, `fst qword ${b.out(8)}`, `fnstenv ${b.out(28)}`);
    add(b);
    b = new CaseBuilder('frstor-32-tags', 'env');
    const image2 = image.slice();
    image2[8] = 0xff; // tags: physical 0..3 empty
    image2[4] = 0x00;
    image2[5] = 0x28; // TOP = 5
    b.a(`frstor ${b.raw(image2)}`, `fnsave ${b.out(108)}`, `frstor ${b.raw(image2)}`);
    add(b);
    // Pointer tracking: control instructions leave FIP/FDP/FOP alone; register forms keep FDP
    b = new CaseBuilder('pointers', 'env');
    b.a(`fld qword ${b.m64(2)}`, `fld dword ${b.m32(3)}`, 'fmul st0, st1', `fnstcw ${b.out(2, 2)}`, `fldcw ${b.i16(0x027f)}`, 'fnclex');
    const saved = b.out(28);
    b.a(`fnstenv ${saved}`, `fldenv ${saved}`, 'fwait', `fnstenv ${b.out(28)}`, `fnstsw ax`);
    add(b);
    b = new CaseBuilder('fnstsw-ax', 'env');
    b.a('fld1', 'fldz', 'fcom st1', 'fnstsw ax');
    add(b);
  }

  // ------------------------------------------------------------------------------------------
  // Unmasked exceptions: ES/B, #MF at the next waiting instruction, destination untouched
  {
    const unmasked: Array<[string, number, (b: CaseBuilder) => void]> = [
      ['ze', 0x3b, (b) => b.a(`fld qword ${b.m64(1)}`, `fdiv qword ${b.m64(0)}`, 'fld1')],
      ['ie-sqrt', 0x3e, (b) => b.a(`fld qword ${b.m64(-1)}`, 'fsqrt', 'fwait')],
      ['ie-snan-load', 0x3e, (b) => b.a(`fld qword ${b.m64(SNAN_P)}`, 'fwait')],
      ['ie-overflow', 0x3e, (b) => b.a(...Array<string>(9).fill('fld1'), 'fwait')],
      ['ie-underflow', 0x3e, (b) => b.a(`fstp qword ${b.out(8)}`, 'fwait')],
      ['ie-fist', 0x3e, (b) => b.a(`fld qword ${b.m64(1e10)}`, `fistp dword ${b.out(4, 4)}`, 'fwait')],
      ['de', 0x3d, (b) => b.a(`fld qword ${b.m64(5e-324)}`, 'fwait')],
      ['de-arith', 0x3d, (b) => b.a('fld1', `fadd qword ${b.m64(5e-324)}`, 'fwait')],
      ['oe-store', 0x37, (b) => b.a(`fld qword ${b.m64(1e300)}`, `fst dword ${b.out(4, 4)}`, 'fwait')],
      ['ue-store', 0x2f, (b) => b.a(`fld qword ${b.m64(1e-40)}`, `fst dword ${b.out(4, 4)}`, 'fwait')],
      ['pe', 0x1f, (b) => b.a(`fld qword ${b.m64(1)}`, `fdiv qword ${b.m64(3)}`, `fst qword ${b.out(8)}`)],
      ['pe-fist', 0x1f, (b) => b.a(`fld qword ${b.m64(1.5)}`, `fistp dword ${b.out(4, 4)}`, 'fwait')],
      ['fnstsw-no-wait', 0x3b, (b) => b.a(`fld qword ${b.m64(1)}`, `fdiv qword ${b.m64(0)}`, 'fnstsw ax', `fnstenv ${b.out(28)}`, 'fldz')],
      ['fstsw-waits', 0x3b, (b) => b.a(`fld qword ${b.m64(1)}`, `fdiv qword ${b.m64(0)}`, 'fstsw ax')],
      ['fnclex', 0x3b, (b) => b.a(`fld qword ${b.m64(1)}`, `fdiv qword ${b.m64(0)}`, 'fnclex', 'fwait', 'fld1')],
      ['fninit', 0x3b, (b) => b.a(`fld qword ${b.m64(1)}`, `fdiv qword ${b.m64(0)}`, 'fninit', 'fld1')],
      ['fnsave', 0x3b, (b) => b.a(`fld qword ${b.m64(1)}`, `fdiv qword ${b.m64(0)}`, `fnsave ${b.out(108)}`, 'fwait')],
      ['fldcw-unmask', 0x3f, (b) => b.a(`fld qword ${b.m64(1)}`, `fdiv qword ${b.m64(0)}`, `fldcw ${b.i16(0x027b)}`, `fnstsw ${b.out(2, 2)}`, 'fld1')],
      ['fldcw-waits', 0x3b, (b) => b.a(`fld qword ${b.m64(1)}`, `fdiv qword ${b.m64(0)}`, `fldcw ${b.i16(0x027f)}`)],
      ['fldenv-clears', 0x3f, (b) => b.a(`fldenv ${b.raw([0x7f, 0x02, 0xff, 0xff, 0x84, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...Array<number>(16).fill(0)])}`, `fnstsw ${b.out(2, 2)}`, 'fld1')],
    ];
    for (const [name, masks, emit] of unmasked) {
      const b = new CaseBuilder(`unmasked-${name}`, 'exceptions', cwFor(RC_NEAREST, 2, masks));
      emit(b);
      add(b);
    }
  }

  // ------------------------------------------------------------------------------------------
  // FSCALE, FXTRACT, FRNDINT, FSQRT, FCHS, FABS
  {
    const scale: Array<[Value, Value]> = [[1.5, 3], [1.5, -3.7], [1, 1023], [1, -1022], [3, 0.5], [-2, 10], [0, 5], [-0, -5],
      [Infinity, -Infinity], [0, Infinity], [1, Infinity], [-1, -Infinity], [Infinity, 3], [QNAN_P, 1], [1, SNAN_P], [1, 20000],
      [-1, -20000], [0.75, -1073], [1.25, 60.9], [-1.5, -0.9]];
    const b = new CaseBuilder('fscale', 'misc');
    for (const [x, n] of scale) {
      ld(b, n);
      ld(b, x);
      b.a('fscale', `fstp qword ${b.out(8)}`, 'fstp st0');
      sw(b);
    }
    add(b);
    const c = new CaseBuilder('fxtract', 'misc');
    for (const x of [1, -3.5, 1e300, 5e-324, 1e-310, 0, -0, Infinity, -Infinity, QNAN_N, SNAN_P, 0.1]) {
      ld(c, x);
      c.a('fxtract', `fstp qword ${c.out(8)}`, `fstp qword ${c.out(8)}`);
      sw(c);
    }
    add(c);
    for (const rc of RCS) {
      const d = new CaseBuilder(`frndint-${RC_NAME[rc]}`, 'misc', cwFor(rc));
      for (const x of [2.5, -2.5, 3.5, 0.5, -0.5, 0.4, -0.6, 1e20, 4503599627370495.5, -0, 0.1, -7.75, Infinity, QNAN_P, SNAN_N]) {
        ld(d, x);
        d.a('frndint', `fstp qword ${d.out(8)}`);
        sw(d);
      }
      d.a(`fld tword ${d.m80('403d8000000000000001')}`, 'frndint', `fstp tword ${d.out(10)}`);
      d.a(`fld tword ${d.m80('403c8000000000000001')}`, 'frndint', `fstp tword ${d.out(10)}`);
      sw(d);
      add(d);
      const e = new CaseBuilder(`fsqrt-${RC_NAME[rc]}`, 'misc', cwFor(rc));
      const xs: Value[] = [2, 4, 0.25, 1e300, 5e-324, -0, 0, Infinity, -1, -Infinity, QNAN_N, SNAN_P, 1e-310];
      for (let i = 0; i < 12; i++) xs.push(Math.abs(rng.double(-60, 60)));
      for (const x of xs) {
        ld(e, x);
        e.a('fsqrt', `fstp qword ${e.out(8)}`);
        sw(e);
      }
      add(e);
    }
    const f = new CaseBuilder('fchs-fabs', 'misc');
    for (const x of [1, -1, 0, -0, Infinity, QNAN_P, SNAN_N]) {
      ld(f, x);
      f.a('fchs', 'fld st0', `fstp tword ${f.out(10)}`, 'fabs', `fstp tword ${f.out(10)}`);
      sw(f);
    }
    f.a(`fld tword ${f.m80('3fff8000000000000001')}`, 'fchs', 'fld st0', `fstp tword ${f.out(10)}`, 'fabs', `fstp tword ${f.out(10)}`);
    add(f);
  }

  // ------------------------------------------------------------------------------------------
  // Transcendental functions (compared within 1 ulp of a double; C1 not compared)
  {
    const trigArgs: Value[] = [0.1, 0.5, 1, -1, 2, 3, -3, 10, 100, 1e-5, 0.7853981633974483, 1.5, -0.3, 6, 1000.5, 12345.678];
    for (let i = 0; i < 16; i++) trigArgs.push(rng.double(-4, 3));
    for (const ins of ['fsin', 'fcos', 'fptan', 'fsincos']) {
      chunks(trigArgs, 16).forEach((list, k) => {
        const b = new CaseBuilder(`${ins}-${k}`, 'transcendental').tolerant(1);
        for (const x of list) {
          b.a(`fld qword ${b.m64(x)}`, ins);
          if (ins === 'fptan' || ins === 'fsincos') b.a(`fstp qword ${b.outTol()}`);
          b.a(`fstp qword ${b.outTol()}`);
          sw(b);
        }
        add(b);
      });
      const b = new CaseBuilder(`${ins}-special`, 'transcendental');
      for (const x of [0, -0, 9223372036854775808, -1e20, Infinity, QNAN_P, SNAN_N]) {
        ld(b, x);
        b.a(ins, `fnstsw word ${b.out(2, 2)}`, `fstp qword ${b.out(8)}`);
        if (ins === 'fptan' || ins === 'fsincos') b.a(`fstp qword ${b.out(8)}`);
        b.a('fnclex');
      }
      add(b);
    }
    // Arguments where the hardware's 66-bit pi shows: near multiples of pi/2, and large arguments.
    const reduction: Value[] = [Math.PI, -Math.PI, 2 * Math.PI, Math.PI / 2, 3 * Math.PI / 2, 1e6, -1e10, 4611686018427387904, 1e15, 355,
      103993, 3141.592653589793, 710, 22, 2 ** 62 + 2 ** 40, 0.7853981633974483, 0.7853981633974484, 1e300 / 1e290];
    for (const ins of ['fsin', 'fcos', 'fptan', 'fsincos']) {
      const b = new CaseBuilder(`${ins}-reduction`, 'transcendental').tolerant(1);
      for (const x of reduction) {
        b.a(`fld qword ${b.m64(x)}`, ins);
        if (ins === 'fptan' || ins === 'fsincos') b.a(`fstp qword ${b.outTol()}`);
        b.a(`fstp qword ${b.outTol()}`);
        sw(b);
      }
      add(b);
    }
    const f2 = new CaseBuilder('f2xm1', 'transcendental').tolerant(1);
    for (const x of [0.5, -0.5, 1e-10, -0.999, 0.999, 0.25, 1e-300, 0.1, -0.1]) {
      f2.a(`fld qword ${f2.m64(x)}`, 'f2xm1', `fstp qword ${f2.outTol()}`);
      sw(f2);
    }
    for (let i = 0; i < 12; i++) {
      f2.a(`fld qword ${f2.m64(rng.double(-6, -1))}`, 'f2xm1', `fstp qword ${f2.outTol()}`);
      sw(f2);
    }
    add(f2);
    const f2s = new CaseBuilder('f2xm1-special', 'transcendental');
    for (const x of [0, -0, 1, -1, Infinity, -Infinity, QNAN_N]) {
      ld(f2s, x);
      f2s.a('f2xm1', `fstp qword ${f2s.out(8)}`);
      sw(f2s);
    }
    add(f2s);
    const pat = new CaseBuilder('fpatan', 'transcendental').tolerant(1);
    const patPairs: Array<[number, number]> = [[1, 1], [1, -1], [-1, 1], [-1, -1], [3, 0.5], [1e-5, 7], [2, 1e-3], [-0.5, 0.25]];
    for (let i = 0; i < 12; i++) patPairs.push([rng.double(-5, 5), rng.double(-5, 5)]);
    for (const [y, x] of patPairs) {
      pat.a(`fld qword ${pat.m64(y)}`, `fld qword ${pat.m64(x)}`, 'fpatan', `fstp qword ${pat.outTol()}`);
      sw(pat);
    }
    add(pat);
    const pats = new CaseBuilder('fpatan-special', 'transcendental').tolerant(1, 0x0200);
    for (const [y, x] of [[0, 1], [-0, 1], [0, -1], [-0, -0], [0, 0], [Infinity, Infinity], [-Infinity, -Infinity], [1, Infinity], [1, -Infinity],
      [Infinity, 1], [QNAN_P, 1], [1, SNAN_N]] as Array<[Value, Value]>) {
      ld(pats, y);
      ld(pats, x);
      pats.a('fpatan', `fstp qword ${pats.outTol()}`);
      sw(pats);
    }
    add(pats);
    const yl = new CaseBuilder('fyl2x', 'transcendental').tolerant(1);
    const ylPairs: Array<[number, number]> = [[1, 8], [3, 0.5], [-2, 10], [1, 1.5], [0.5, 1e-300], [7, 1e300], [1, 0.999999]];
    for (let i = 0; i < 12; i++) ylPairs.push([rng.double(-5, 5), Math.abs(rng.double(-30, 30))]);
    for (const [y, x] of ylPairs) {
      yl.a(`fld qword ${yl.m64(y)}`, `fld qword ${yl.m64(x)}`, 'fyl2x', `fstp qword ${yl.outTol()}`);
      sw(yl);
    }
    add(yl);
    const yls = new CaseBuilder('fyl2x-special', 'transcendental');
    for (const [y, x] of [[2, 1], [-2, 1], [3, 0], [-3, -0], [0, 0], [1, -1], [1, Infinity], [0, Infinity], [Infinity, 1], [Infinity, 0.5],
      [-Infinity, 2], [QNAN_N, 2], [1, SNAN_P], [5, 4], [-0.5, 16]] as Array<[Value, Value]>) {
      ld(yls, y);
      ld(yls, x);
      yls.a('fyl2x', `fstp qword ${yls.out(8)}`);
      sw(yls);
    }
    add(yls);
    const yp = new CaseBuilder('fyl2xp1', 'transcendental').tolerant(1);
    const ypPairs: Array<[number, number]> = [[1, 0.25], [2, -0.25], [1, 1e-10], [-3, 1e-300]];
    for (let i = 0; i < 12; i++) ypPairs.push([rng.double(-5, 5), rng.double(-12, -2)]);
    for (const [y, x] of ypPairs) {
      yp.a(`fld qword ${yp.m64(y)}`, `fld qword ${yp.m64(x)}`, 'fyl2xp1', `fstp qword ${yp.outTol()}`);
      sw(yp);
    }
    add(yp);
    const yps = new CaseBuilder('fyl2xp1-special', 'transcendental');
    for (const [y, x] of [[2, 0], [2, -0], [-2, 0], [0, 0.1], [Infinity, 0], [QNAN_P, 0.1], [Infinity, 0.1]] as Array<[Value, Value]>) {
      ld(yps, y);
      ld(yps, x);
      yps.a('fyl2xp1', `fstp qword ${yps.out(8)}`);
      sw(yps);
    }
    add(yps);
  }

  return cases;
}
