; Segment register loads and the hidden descriptor caches: every check of a
; data/stack segment load (SDM vol. 2, MOV; vol. 3, 5.4-5.6), limits with
; granularity and expand-down (vol. 3, 3.4.5, 5.3), the accessed bit, LDT
; selectors (LLDT), LAR/LSL/VERR/VERW (vol. 3, 5.10.1), ARPL, SLDT/STR, and
; unreal mode (vol. 3, 20.1.1: a real-mode load changes only selector and
; base).
%include "lib.inc"

S_NP        equ (FREE_IDX + 0) * 8     ; data, not present
S_XONLY     equ (FREE_IDX + 1) * 8     ; execute-only code
S_RCODE     equ (FREE_IDX + 2) * 8     ; readable code
S_RODATA    equ (FREE_IDX + 3) * 8     ; read-only data
S_SMALL     equ (FREE_IDX + 4) * 8     ; data, base 0x200000, limit 0xFFF
S_GRAN      equ (FREE_IDX + 5) * 8     ; data, limit 0 with G = 1
S_EDOWN32   equ (FREE_IDX + 6) * 8     ; expand-down, limit 0xFFF, B = 1
S_EDOWN16   equ (FREE_IDX + 7) * 8     ; expand-down, limit 0xFFF, B = 0
S_STACK64K  equ (FREE_IDX + 8) * 8     ; stack, base STACK0 - 0x10000, limit 0xFFFF
S_SSNP      equ (FREE_IDX + 9) * 8     ; writable data, not present
S_FRESH     equ (FREE_IDX + 10) * 8    ; data with the accessed bit clear
S_GATE      equ (FREE_IDX + 11) * 8    ; an interrupt gate in the GDT
S_CONF      equ (FREE_IDX + 12) * 8    ; conforming readable code DPL 0

%macro SEG 5 ; slot selector, base, limit, access, flags
    mov eax, (%1) / 8
    mov ebx, %2
    mov ecx, %3
    mov dl, %4
    mov dh, %5
    call set_desc
%endmacro

test_main:
    SEG S_NP, 0, 0xFFFFF, 0x12, 0xC
    SEG S_XONLY, 0, 0xFFFFF, 0x98, 0xC
    SEG S_RCODE, 0, 0xFFFFF, 0x9A, 0xC
    SEG S_RODATA, 0, 0xFFFFF, 0x90, 0xC
    SEG S_SMALL, 0x200000, 0xFFF, 0x92, 0x4
    SEG S_GRAN, 0x200000, 0, 0x92, 0xC
    SEG S_EDOWN32, 0, 0xFFF, 0x96, 0x4
    SEG S_EDOWN16, 0, 0xFFF, 0x96, 0x0
    SEG S_STACK64K, STACK0 - 0x10000, 0xFFFF, 0x92, 0x4
    SEG S_SSNP, 0, 0xFFFFF, 0x12, 0xC
    SEG S_FRESH, 0, 0xFFFFF, 0x92, 0xC
    SEG S_GATE, 0, 0, 0x8E, 0x0
    SEG S_CONF, 0, 0xFFFFF, 0x9E, 0xC

    ; ---- Null selectors (vol. 3, 5.4.1) ----
    CASE "null DS loads, use faults #GP(0)"
    TRY .r1
    xor eax, eax
    mov ds, ax
.f1: mov eax, [ds:0x1000]
    jmp fail
.r1: EXPECT_EXC 13, 0, .f1

    CASE "null SS: #GP(0)"
    TRY .r2
    xor eax, eax
.f2: mov ss, ax
    jmp fail
.r2: EXPECT_EXC 13, 0, .f2

    ; ---- Descriptor checks of MOV to DS (vol. 2, MOV) ----
    CASE "selector beyond the GDT limit: #GP(sel)"
    TRY .r3
    mov ax, GDT_ENTRIES * 8 + 3
.f3: mov ds, ax
    jmp fail
.r3: EXPECT_EXC 13, GDT_ENTRIES * 8, .f3

    CASE "not present: #NP(sel)"
    TRY .r4
    mov ax, S_NP
.f4: mov es, ax
    jmp fail
.r4: EXPECT_EXC 11, S_NP, .f4

    CASE "system descriptor into DS: #GP(sel)"
    TRY .r5
    mov ax, SEL_LDT
.f5: mov ds, ax
    jmp fail
.r5: EXPECT_EXC 13, SEL_LDT, .f5

    CASE "gate descriptor into FS: #GP(sel)"
    TRY .r5b
    mov ax, S_GATE
.f5b: mov fs, ax
    jmp fail
.r5b: EXPECT_EXC 13, S_GATE, .f5b

    CASE "execute-only code into DS: #GP(sel)"
    TRY .r6
    mov ax, S_XONLY
.f6: mov ds, ax
    jmp fail
.r6: EXPECT_EXC 13, S_XONLY, .f6

    CASE "RPL > DPL: #GP(sel)"
    TRY .r7
    mov ax, SEL_DATA0 | 3
.f7: mov gs, ax
    jmp fail
.r7: EXPECT_EXC 13, SEL_DATA0, .f7

    CASE "readable code in DS: reads work, writes #GP(0)"
    mov ax, S_RCODE
    mov es, ax
    mov eax, [es:test_main]
    CHECK eax, [test_main], "read through code segment"
    TRY .r8
.f8: mov [es:scratch], eax
    jmp fail
.r8: EXPECT_EXC 13, 0, .f8

    CASE "read-only data: writes #GP(0)"
    mov ax, S_RODATA
    mov fs, ax
    mov eax, [fs:scratch]
    TRY .r9
.f9: mov [fs:scratch], eax
    jmp fail
.r9: EXPECT_EXC 13, 0, .f9

    CASE "conforming code loads into GS with RPL 3"
    mov ax, S_CONF | 3
    mov gs, ax
    mov eax, [gs:test_main]
    xor eax, eax
    mov ax, gs
    CHECK eax, S_CONF | 3, "GS selector"

    ; ---- Stack segment loads ----
    CASE "read-only SS: #GP(sel)"
    TRY .r10
    mov ax, S_RODATA
.f10: mov ss, ax
    jmp fail
.r10: EXPECT_EXC 13, S_RODATA, .f10

    CASE "SS with DPL 3 at CPL 0: #GP(sel)"
    TRY .r11
    mov ax, SEL_DATA3
.f11: mov ss, ax
    jmp fail
.r11: EXPECT_EXC 13, SEL_DATA3 & ~3, .f11

    CASE "SS not present: #SS(sel)"
    TRY .r12
    mov ax, S_SSNP
.f12: mov ss, ax
    jmp fail
.r12: EXPECT_EXC 12, S_SSNP, .f12

    ; ---- Limits ----
    CASE "byte-granular limit"
    TRY .r13
    mov ax, S_SMALL
    mov ds, ax
    mov al, [0xFFF]
    mov eax, [0xFFC]
.f13: mov eax, [0xFFD]
    jmp fail
.r13: EXPECT_EXC 13, 0, .f13

    CASE "page-granular limit 0 is 0xFFF"
    TRY .r14
    mov ax, S_GRAN
    mov ds, ax
    mov al, [0xFFF]
.f14: mov al, [0x1000]
    jmp fail
.r14: EXPECT_EXC 13, 0, .f14

    CASE "expand-down, B = 1: offsets above the limit"
    mov ax, S_EDOWN32
    mov es, ax
    mov eax, [es:0x1000]
    mov eax, [es:0x80000000]
    mov [es:0xFFFFFFFC], eax
    TRY .r15
.f15: mov al, [es:0xFFF]
    jmp fail
.r15: EXPECT_EXC 13, 0, .f15

    CASE "expand-down, B = 0: up to 0xFFFF only"
    mov ax, S_EDOWN16
    mov es, ax
    mov ax, [es:0xFFFE]
    TRY .r16
.f16: mov ax, [es:0xFFFF]
    jmp fail
.r16: EXPECT_EXC 13, 0, .f16

    CASE "SS-relative access beyond the limit: #SS(0)"
    TRY .r17
    mov ax, S_STACK64K
    mov ss, ax
    mov esp, 0x8000
    mov eax, [ss:0xFFFC]
.f17: mov eax, [ss:0xFFFE]
    jmp fail
.r17: EXPECT_EXC 12, 0, .f17

    CASE "EBP-based access defaults to SS"
    TRY .r18
    mov ax, S_STACK64K
    mov ss, ax
    mov esp, 0x8000
    mov ebp, 0x10000
.f18: mov eax, [ebp]
    jmp fail
.r18: EXPECT_EXC 12, 0, .f18

    ; ---- The accessed bit (vol. 3, 3.4.5.1) ----
    CASE "loading sets the accessed bit"
    movzx eax, byte [gdt + S_FRESH + 5]
    CHECK eax, 0x92, "access byte before"
    mov ax, S_FRESH
    mov fs, ax
    movzx eax, byte [gdt + S_FRESH + 5]
    CHECK eax, 0x93, "access byte after"

    ; ---- LDT (vol. 2, LLDT) ----
    CASE "LDT selectors"
    mov dword [LDT_ADDR], 0
    mov dword [LDT_ADDR + 4], 0
    mov dword [LDT_ADDR + 8], 0x0000FFFF     ; entry 1: data, base 0x300000
    mov dword [LDT_ADDR + 12], 0x00CF9230
    mov dword [0x300010], 0x5A5A1234
    mov ax, SEL_LDT
    lldt ax
    sldt eax
    CHECK eax, SEL_LDT, "SLDT"
    mov ax, 0x0C
    mov ds, ax
    mov eax, [0x10]
    mov bx, SEL_DATA0
    mov ds, bx
    CHECK eax, 0x5A5A1234, "data through the LDT"
    TRY .r19
    mov ax, 0x104                            ; index 0x20: beyond the 0xFF limit
.f19: mov es, ax
    jmp fail
.r19: EXPECT_EXC 13, 0x104, .f19
    xor eax, eax
    lldt ax
    TRY .r20
    mov ax, 0x0C
.f20: mov es, ax
    jmp fail
.r20: EXPECT_EXC 13, 0x0C, .f20

    CASE "LLDT of a non-LDT descriptor: #GP(sel)"
    TRY .r21
    mov ax, SEL_DATA0
.f21: lldt ax
    jmp fail
.r21: EXPECT_EXC 13, SEL_DATA0, .f21

    ; ---- LAR / LSL / VERR / VERW ----
    CASE "LAR of the code segment"
    mov eax, 0x11111111
    mov bx, SEL_CODE0
    lar eax, bx
    jnz .lar_bad
    CHECK eax, 0x00C09B00, "LAR result"
    CASE "LAR of the busy TSS"
    mov bx, SEL_TSS0
    lar eax, bx
    jnz .lar_bad
    CHECK eax, 0x00008B00, "LAR TSS"
    CASE "LSL"
    mov bx, SEL_CODE0
    lsl eax, bx
    jnz .lar_bad
    CHECK eax, 0xFFFFFFFF, "LSL flat"
    mov bx, SEL_TSS0
    lsl eax, bx
    CHECK eax, TSS0_LIMIT, "LSL TSS"
    mov bx, S_GRAN
    lsl ax, bx
    CHECK eax, (TSS0_LIMIT & 0xFFFF0000) | 0xFFF, "LSL 16-bit operand"
    CASE "LAR/LSL failures leave the destination and clear ZF"
    mov eax, 0x12345678
    xor ebx, ebx
    lar eax, bx
    jz .lar_bad
    mov bx, GDT_ENTRIES * 8
    lar eax, bx
    jz .lar_bad
    mov bx, S_GATE
    lsl eax, bx
    jz .lar_bad
    mov bx, S_GATE                           ; interrupt gate: LAR-invalid
    lar eax, bx
    jz .lar_bad
    CHECK eax, 0x12345678, "destination"
    CASE "VERR / VERW"
    mov bx, SEL_CODE0
    verr bx
    jnz .lar_bad
    mov bx, S_XONLY
    verr bx
    jz .lar_bad
    mov bx, SEL_DATA0
    verw bx
    jnz .lar_bad
    mov bx, S_RODATA
    verw bx
    jz .lar_bad
    mov bx, SEL_CODE0
    verw bx
    jz .lar_bad
    mov bx, SEL_DATA0 | 3                    ; RPL 3 > DPL 0
    verr bx
    jz .lar_bad
    mov bx, S_CONF | 3                       ; conforming: no privilege check
    verr bx
    jnz .lar_bad
    jmp .lar_done
.lar_bad:
    CHECK 1, 0, "ZF"
.lar_done:

    ; ---- ARPL, STR ----
    CASE "ARPL"
    mov ax, SEL_DATA0
    mov bx, SEL_DATA3
    arpl ax, bx
    jnz .lar_bad
    movzx eax, ax
    CHECK eax, SEL_DATA0 | 3, "ARPL result"
    arpl ax, bx
    jz .lar_bad
    str eax
    CHECK eax, SEL_TSS0, "STR"

    ; ---- Unreal mode ----
    CASE "unreal mode"
    mov esi, real_code
    mov edi, 0x7000
    mov ecx, real_code_end - real_code
    rep movsb
    mov dword [0x400000], 0xC0FFEE11
    mov ax, SEL_DATA0
    mov fs, ax                              ; FS: 4 GiB limit
    mov [saved_esp], esp
    jmp SEL_CODE16:0x7000
back_from_real:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, [saved_esp]
    CHECK dword [unreal_val], 0xC0FFEE11, "read above 1 MiB through FS in real mode"
    CHECK dword [unreal_seg], 0x55AA, "real-mode ES base = selector * 16"
    ret

; 16-bit code copied to 0x7000 and run there: protected mode with a 16-bit
; code segment, then real mode, then back.
bits 16
real_code:
    mov eax, cr0
    and al, ~1
    mov cr0, eax
    jmp 0x0000:0x7000 + (.real - real_code)
.real:
    xor ax, ax
    mov ds, ax
    mov fs, ax                              ; base 0; the 4 GiB limit stays
    mov eax, [fs:dword 0x400000]
    mov [dword unreal_val], eax
    mov word [0x8010], 0x55AA
    mov ax, 0x0800
    mov es, ax
    mov ax, [es:0x10]
    mov [dword unreal_seg], ax
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword SEL_CODE0:back_from_real
real_code_end:
bits 32

align 4
scratch:    dd 0
saved_esp:  dd 0
unreal_val: dd 0
unreal_seg: dd 0

%include "tail.inc"
