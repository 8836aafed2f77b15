/*
 * Native recorder of the differential harness (built and run by generate.ts).
 *
 * For every case of the generated table (cases.h + cases.S): fill the data area with the
 * case's seeded bytes and patches, load the registers and EFLAGS, run the block, and print
 * one line with the state after it:
 *
 *   <id> <eflags in> <eax..edi out> <eflags out> <block bytes> <alias bytes|-> <changed bytes|->
 *   <id> FAULT <signal> <offset of the faulting instruction in the block>
 *
 * All numbers are hexadecimal. "changed bytes" lists off=byte for each byte of the data
 * area that differs from its initial value.
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

#include "cases.h" /* REF_AREA, REF_AREA_SIZE, REF_NCASES, REF_CASES[], REF_PATCHES[] */

extern void ref_run_case(const void *code);
extern uint32_t ref_in_regs[8], ref_out_regs[8];
extern uint64_t ref_in_flags, ref_in_flags_eff, ref_out_flags;
/* Per case: block start, block end, alias start, alias end (0 when none). */
extern const uint64_t ref_code_table[];

static sigjmp_buf fault_jmp;
static volatile uint64_t fault_rip;

static void on_fault(int sig, siginfo_t *info, void *uc_) {
  (void)info;
  ucontext_t *uc = uc_;
  fault_rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
  siglongjmp(fault_jmp, sig);
}

/* The same generator as prng.ts fillArea(): xorshift32, one little-endian word at a time. */
static void fill_area(uint8_t *area, uint32_t seed) {
  uint32_t x = seed ? seed : 1;
  for (uint32_t i = 0; i < REF_AREA_SIZE; i += 4) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    memcpy(area + i, &x, 4);
  }
}

static void hex_bytes(const uint8_t *p, const uint8_t *end) {
  if (p == end) {
    fputc('-', stdout);
    return;
  }
  for (; p < end; p++) printf("%02x", *p);
}

int main(void) {
  static uint8_t before[REF_AREA_SIZE];
  uint8_t *area = mmap((void *)(uintptr_t)REF_AREA, REF_AREA_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (area != (void *)(uintptr_t)REF_AREA) {
    perror("mmap data area");
    return 1;
  }
  static uint8_t altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  static char outbuf[1 << 20];
  setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);

  for (uint32_t id = 0; id < REF_NCASES; id++) {
    const struct ref_case *c = &REF_CASES[id];
    const uint8_t *start = (const uint8_t *)(uintptr_t)ref_code_table[id * 4];
    const uint8_t *end = (const uint8_t *)(uintptr_t)ref_code_table[id * 4 + 1];
    const uint8_t *astart = (const uint8_t *)(uintptr_t)ref_code_table[id * 4 + 2];
    const uint8_t *aend = (const uint8_t *)(uintptr_t)ref_code_table[id * 4 + 3];
    fill_area(area, c->seed);
    for (uint32_t p = c->patch_start; p < c->patch_start + c->patch_len;) {
      uint32_t off = REF_PATCHES[p] | (REF_PATCHES[p + 1] << 8);
      uint32_t len = REF_PATCHES[p + 2];
      memcpy(area + off, &REF_PATCHES[p + 3], len);
      p += 3 + len;
    }
    memcpy(before, area, REF_AREA_SIZE);
    memcpy(ref_in_regs, c->regs, sizeof c->regs);
    ref_in_flags = c->flags;
    int sig = sigsetjmp(fault_jmp, 1);
    if (sig) {
      __asm__ volatile("fninit");
      printf("%u FAULT %d %llx\n", id, sig, (unsigned long long)(fault_rip - (uint64_t)(uintptr_t)start));
      continue;
    }
    ref_run_case(start);
    printf("%u %x", id, (uint32_t)ref_in_flags_eff);
    for (int r = 0; r < 8; r++) printf(" %x", ref_out_regs[r]);
    printf(" %x ", (uint32_t)ref_out_flags);
    hex_bytes(start, end);
    fputc(' ', stdout);
    hex_bytes(astart, aend);
    fputc(' ', stdout);
    int any = 0;
    for (uint32_t i = 0; i < REF_AREA_SIZE; i++) {
      if (area[i] != before[i]) {
        printf("%s%x=%x", any ? "," : "", i, area[i]);
        any = 1;
      }
    }
    if (!any) fputc('-', stdout);
    fputc('\n', stdout);
  }
  fflush(stdout);
  return 0;
}
