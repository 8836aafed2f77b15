; A boot sector that starts a kernel the way pc-machine does: the TypeScript loader
; (src/boot/linux-loader.ts) has already put the kernel, initrd, command line, zero page and GDT
; in memory; this switches to 32-bit protected mode and enters the kernel with the registers of
; the 32-bit boot protocol (Documentation/x86/boot.rst, "32-bit Boot Protocol").
; The BIOS uses low memory while it starts, so the loader's low-memory blobs (the GDT; the zero
; page and command line) are staged above the guest's RAM and copied into place here first.
; Assembled with: nasm -f bin -DGDT_BASE=.. -DGDT_LIMIT=.. -DBOOT_CS=.. -DBOOT_DS=.. -DBOOT_PARAMS=..
;                 -DSTACK_TOP=.. -DENTRY=.. -DGDT_STAGING=.. -DPARAMS_ADDRESS=.. -DPARAMS_SIZE=..
;                 -DPARAMS_STAGING=..
bits 16
org 0x7c00
start:
    cli
    xor ax, ax
    mov ds, ax
    lgdt [stub_gdt_descriptor]
    mov eax, cr0
    or eax, 1                   ; CR0.PE, paging stays off
    mov cr0, eax
    jmp dword BOOT_CS:protected_mode

bits 32
protected_mode:
    mov ax, BOOT_DS
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    cld
    mov esi, GDT_STAGING
    mov edi, GDT_BASE
    mov ecx, GDT_LIMIT + 1
    rep movsb
    mov esi, PARAMS_STAGING
    mov edi, PARAMS_ADDRESS
    mov ecx, PARAMS_SIZE
    rep movsb
    lgdt [gdt_descriptor]       ; the loader's GDT, now in place
    jmp BOOT_CS:reloaded
reloaded:
    mov ax, BOOT_DS
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esp, STACK_TOP
    mov esi, BOOT_PARAMS
    xor ebp, ebp
    xor edi, edi
    xor ebx, ebx
    mov eax, ENTRY
    jmp eax

gdt_descriptor:
    dw GDT_LIMIT
    dd GDT_BASE

; a GDT of the stub's own for the switch to protected mode (same flat descriptors)
align 8
stub_gdt:
    dq 0
    dq 0
    dq 0x00cf9a000000ffff       ; BOOT_CS (0x10): flat 32-bit code
    dq 0x00cf92000000ffff       ; BOOT_DS (0x18): flat data
stub_gdt_descriptor:
    dw 31
    dd stub_gdt

times 510 - ($ - $$) db 0
    dw 0xaa55
