/*
 * Native side of the differential harness: enters one generated case block with the
 * requested registers and EFLAGS and captures the state after it.
 *
 * The recorder runs as an x86-64 process (see README.md: this host cannot execute 32-bit
 * code), so the blocks run in 64-bit mode. Every register is loaded with a 32-bit move,
 * which zero-extends it: the upper halves are 0 when the block starts, so address
 * arithmetic and counters behave as in 32-bit code as long as they do not wrap past 4 GiB.
 */
        .intel_syntax noprefix
        .text
        .code64

/* void ref_run_case(const void *code)   (System V: rdi = code) */
        .globl  ref_run_case
ref_run_case:
        push    rbx
        push    rbp
        push    r12
        push    r13
        push    r14
        push    r15
        mov     [rip + saved_rsp], rsp
        mov     [rip + target], rdi
        fninit
        lea     rsp, [rip + scratch_top]
        push    qword ptr [rip + ref_in_flags]
        popfq
        pushfq
        pop     qword ptr [rip + ref_in_flags_eff]
        mov     ecx, [rip + ref_in_regs + 4]
        mov     edx, [rip + ref_in_regs + 8]
        mov     ebx, [rip + ref_in_regs + 12]
        mov     ebp, [rip + ref_in_regs + 20]
        mov     esi, [rip + ref_in_regs + 24]
        mov     edi, [rip + ref_in_regs + 28]
        mov     eax, [rip + ref_in_regs + 0]
        mov     esp, [rip + ref_in_regs + 16]
        jmp     qword ptr [rip + target]

/* Every block is followed by a `jmp ref_case_exit` (not part of the recorded bytes). */
        .globl  ref_case_exit
ref_case_exit:
        mov     [rip + ref_out_regs + 0], eax
        mov     [rip + ref_out_regs + 4], ecx
        mov     [rip + ref_out_regs + 8], edx
        mov     [rip + ref_out_regs + 12], ebx
        mov     [rip + ref_out_regs + 16], esp
        mov     [rip + ref_out_regs + 20], ebp
        mov     [rip + ref_out_regs + 24], esi
        mov     [rip + ref_out_regs + 28], edi
        lea     rsp, [rip + scratch_top]
        pushfq
        pop     qword ptr [rip + ref_out_flags]
        push    2
        popfq                           /* clear DF, AC, NT, ... for the C code */
        mov     rsp, [rip + saved_rsp]
        pop     r15
        pop     r14
        pop     r13
        pop     r12
        pop     rbp
        pop     rbx
        ret

        .data
        .balign 16
        .globl  ref_in_regs, ref_out_regs, ref_in_flags, ref_in_flags_eff, ref_out_flags
ref_in_regs:      .space 32
ref_out_regs:     .space 32
ref_in_flags:     .quad 0
ref_in_flags_eff: .quad 0
ref_out_flags:    .quad 0
saved_rsp:        .quad 0
target:           .quad 0

        .bss
        .balign 16
scratch:          .space 4096
scratch_top:

        .section .note.GNU-stack, "", @progbits
