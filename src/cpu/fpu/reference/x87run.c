/*
 * Native x87 reference runner for the pc-machine FPU tests.
 *
 * Executes x87 instruction sequences on the host CPU and records the resulting state, so the
 * emulated FPU can be checked against real hardware. The sequences are assembled by nasm
 * (see generate.ts) with absolute [disp32] memory operands encoded through a SIB byte, which
 * decode to the same linear address in 32-bit protected mode and in 64-bit mode; the x87
 * unit itself behaves the same in both modes (FNSTENV/FNSAVE use the 32-bit protected-mode
 * layout, or the 16-bit one with a 0x66 prefix). This runner is therefore a 64-bit program:
 * it also works on hosts whose kernel has 32-bit compat support switched off.
 *
 *   build: gcc -O1 -static -o x87run x87run.c
 *   usage: x87run code.bin cases.bin results.bin
 *
 * cases.bin:   "X87C", u32 count, then per case: u32 codeOffset, u32 eflagsIn, u32 dataLen, data
 * results.bin: per case: i32 faultOffset (-1: none), u32 eax, u32 eflagsOut,
 *              u8 fsave[108] (FNSAVE image, 32-bit layout), u8 data[dataLen] (data area afterwards)
 *
 * A case whose pending unmasked exception reaches a waiting instruction gets SIGFPE (#MF): the
 * handler records the faulting offset and rebuilds an FNSAVE-style image from the FXSAVE-format
 * state the kernel put in the signal frame (control, status and tag words, registers).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define DATA_BASE 0x10000000UL
#define DATA_SIZE 0x10000UL
#define CODE_BASE 0x20000000UL
#define CODE_SIZE 0x400000UL

/* run_case(code, eflagsIn, &eax, &eflagsOut): sets EFLAGS, clears EAX (without touching flags),
 * calls the case code and records EAX and EFLAGS after it returns. */
__asm__(
    ".text\n"
    ".globl run_case\n"
    "run_case:\n"
    "  push %rbx\n"
    "  push %r12\n"
    "  push %r13\n"
    "  mov %rdx, %r12\n"
    "  mov %rcx, %r13\n"
    "  xor %ebx, %ebx\n"
    "  push %rsi\n"
    "  popfq\n"
    "  mov $0, %eax\n"
    "  call *%rdi\n"
    "  pushfq\n"
    "  pop %rcx\n"
    "  mov %ecx, (%r13)\n"
    "  mov %eax, (%r12)\n"
    "  pop %r13\n"
    "  pop %r12\n"
    "  pop %rbx\n"
    "  ret\n");
void run_case(void *code, uint64_t eflagsIn, uint32_t *eax, uint32_t *eflagsOut);

static sigjmp_buf jump;
static int32_t faultOffset;
static uint8_t image[108];

static void put16(uint8_t *p, unsigned v) { p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v & 0xffff); put16(p + 2, v >> 16); }

/* Full tag of one 80-bit register: 0 valid, 1 zero, 2 special. */
static unsigned fullTag(const uint16_t *sig, uint16_t exponent) {
  unsigned e = exponent & 0x7fff;
  int mantZero = !sig[0] && !sig[1] && !sig[2] && !sig[3];
  if (e == 0x7fff) return 2;
  if (e == 0) return mantZero ? 1 : 2;
  return (sig[3] & 0x8000) ? 0 : 2;
}

static void onSigfpe(int sig, siginfo_t *info, void *ctx) {
  (void)sig; (void)info;
  ucontext_t *uc = (ucontext_t *)ctx;
  struct _libc_fpstate *fx = uc->uc_mcontext.fpregs;
  faultOffset = (int32_t)(uc->uc_mcontext.gregs[REG_RIP] - CODE_BASE);
  memset(image, 0, sizeof image);
  unsigned top = (fx->swd >> 11) & 7;
  unsigned tw = 0;
  for (unsigned phys = 0; phys < 8; phys++) {
    unsigned st = (phys - top) & 7;
    unsigned tag = (fx->ftw & (1u << phys)) ? fullTag(fx->_st[st].significand, fx->_st[st].exponent) : 3;
    tw |= tag << (2 * phys);
  }
  put32(image + 0, 0xffff0000u | fx->cwd);
  put32(image + 4, 0xffff0000u | fx->swd);
  put32(image + 8, 0xffff0000u | tw);
  put32(image + 12, (uint32_t)fx->rip);
  put32(image + 16, ((uint32_t)(fx->fop & 0x7ff) << 16));
  put32(image + 20, (uint32_t)fx->rdp);
  put32(image + 24, 0xffff0000u);
  for (unsigned i = 0; i < 8; i++) {
    for (unsigned j = 0; j < 4; j++) put16(image + 28 + 10 * i + 2 * j, fx->_st[i].significand[j]);
    put16(image + 28 + 10 * i + 8, fx->_st[i].exponent);
  }
  siglongjmp(jump, 1);
}

static void *readFile(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(1); }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *buf = malloc(n ? n : 1);
  if (fread(buf, 1, n, f) != (size_t)n) { perror(path); exit(1); }
  fclose(f);
  *size = n;
  return buf;
}

static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: %s code.bin cases.bin results.bin\n", argv[0]); return 2; }
  size_t codeSize, casesSize;
  uint8_t *code = readFile(argv[1], &codeSize);
  uint8_t *cases = readFile(argv[2], &casesSize);
  if (codeSize > CODE_SIZE || casesSize < 8 || memcmp(cases, "X87C", 4)) { fprintf(stderr, "bad input\n"); return 1; }

  uint8_t *data = mmap((void *)DATA_BASE, DATA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  uint8_t *text = mmap((void *)CODE_BASE, CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (data != (void *)DATA_BASE || text != (void *)CODE_BASE) { perror("mmap"); return 1; }
  memcpy(text, code, codeSize);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = onSigfpe;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGFPE, &sa, NULL);

  FILE *out = fopen(argv[3], "wb");
  if (!out) { perror(argv[3]); return 1; }
  uint32_t count = get32(cases + 4);
  size_t pos = 8;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t codeOffset = get32(cases + pos), eflagsIn = get32(cases + pos + 4), dataLen = get32(cases + pos + 8);
    pos += 12;
    if (dataLen > DATA_SIZE || pos + dataLen > casesSize) { fprintf(stderr, "bad case %u\n", i); return 1; }
    memcpy(data, cases + pos, dataLen);
    pos += dataLen;
    uint32_t eax = 0, eflagsOut = 0;
    faultOffset = -1;
    /* Make every physical register +0 so stale contents (visible in FNSAVE and to FXAM of empty
       registers) do not leak from one case into the next; the emulator starts each case likewise. */
    __asm__ volatile("fninit; fldz; fldz; fldz; fldz; fldz; fldz; fldz; fldz; fninit");
    if (sigsetjmp(jump, 1) == 0) {
      run_case(text + codeOffset, eflagsIn, &eax, &eflagsOut);
      __asm__ volatile("fnsave %0" : "=m"(image));
    }
    __asm__ volatile("fninit");
    fwrite(&faultOffset, 4, 1, out);
    fwrite(&eax, 4, 1, out);
    fwrite(&eflagsOut, 4, 1, out);
    fwrite(image, 1, sizeof image, out);
    fwrite(data, 1, dataLen, out);
  }
  fclose(out);
  return 0;
}
