; The guest the trace test runs (tests/trace/trace_test.py): a Multiboot
; image (a.out kludge, loaded at 1 MiB, entered in flat 32-bit protected
; mode) that installs an IDT, raises #UD with UD2 and calls INT 0x30, runs
; a short loop, and exits through isa-debug-exit (port 0xF4) with status
; (0x21 << 1) | 1 = 67.  Assembled as ELF for the symbols the test reads.
bits 32
section .text

global start, loop_top, after_loop, do_ud, after_ud, do_int, after_int, ud_handler
global int_handler, finish

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ (1 << 16)
hdr:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd hdr, hdr, 0, 0, start

start:
    mov esp, stack_top
    ; The Multiboot spec leaves GDTR undefined: load a flat GDT of our own
    ; (code 0x08, data 0x10) before anything reads a descriptor.
    lgdt [gdtr]
    jmp 0x08:.cs_loaded
.cs_loaded:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    ; IDT entries 6 (#UD) and 0x30: 32-bit interrupt gates to code 0x08.
    mov ebx, ud_handler
    mov edi, idt + 6 * 8
    call set_gate
    mov ebx, int_handler
    mov edi, idt + 0x30 * 8
    call set_gate
    lidt [idtr]
    mov eax, 0x12345678
    mov ecx, 3
loop_top:
    add eax, ecx
    dec ecx
    jnz loop_top
after_loop:
do_ud:
    ud2
after_ud:
do_int:
    int 0x30
after_int:
finish:
    mov al, 0x21
    out 0xF4, al
    hlt

set_gate:
    mov ax, cs
    mov [edi + 2], ax
    mov [edi], bx
    shr ebx, 16
    mov [edi + 6], bx
    mov byte [edi + 5], 0x8E            ; present, DPL 0, 32-bit interrupt gate
    mov byte [edi + 4], 0
    ret

ud_handler:
    add dword [esp], 2                  ; skip the UD2
    iretd

int_handler:
    iretd

section .data
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF               ; 0x08: flat 32-bit code
    dq 0x00CF92000000FFFF               ; 0x10: flat data
gdtr:
    dw 3 * 8 - 1
    dd gdt
align 8
idtr:
    dw 256 * 8 - 1
    dd idt

section .bss
align 8
idt:
    resb 256 * 8
    resb 4096
stack_top:
