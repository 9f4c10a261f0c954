; Guest programs for the interpreter micro-benchmark (bench/mips.c).
; Flat 32-bit protected mode; loaded at 0x1000.  Each loop runs until the
; benchmark's instruction budget ends it.
bits 32
org 0x1000

; Integer loop: register-only ALU work and a taken branch.
int_loop:
    mov ecx, 0xFFFFFFFF
    xor eax, eax
    mov ebx, 0x12345678
.l: add eax, ebx
    xor edx, eax
    sub ebx, edx
    and edx, 0x0F0F0F0F
    or eax, edx
    inc esi
    cmp esi, edi
    lea ebx, [ebx + eax * 2 + 1]
    dec ecx
    jnz .l
    hlt

times 0x100 - ($ - $$) db 0x90
; Memory loop (at 0x1100): loads, a read-modify-write and a store over a 1 MiB array.
mem_loop:
    mov ecx, 0xFFFFFFFF
    mov ebp, 0x100000
    xor esi, esi
.l: mov eax, [ebp + esi]
    add eax, [ebp + esi + 4]
    mov [ebp + esi + 8], eax
    add [ebp + esi + 12], eax
    push eax
    pop edx
    add esi, 16
    and esi, 0xFFFF0
    dec ecx
    jnz .l
    hlt
