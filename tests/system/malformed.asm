; Descriptor tables and frames a guest got wrong must raise the fault the
; SDM names, never anything else: a GDT limit that stops short (vol. 3,
; 3.5.1), tables wrapping at 4 GiB and entries read from unassigned memory,
; a TSS with a null or unusable inner stack (vol. 2, CALL, #TS/#SS),
; parameters beyond the caller's stack (#SS), IRET and RET with bad
; selectors (vol. 2, IRET, RET), offsets past a limit, segments wrapping
; at 4 GiB.
%include "lib.inc"

G_RING1     equ (FREE_IDX + 0) * 8     ; call gate DPL 3 -> ring 1
G_PARAMS    equ (FREE_IDX + 1) * 8     ; call gate DPL 3 -> ring 0, 31 dwords
SMALL3      equ (FREE_IDX + 2) * 8     ; ring-3 data, limit 0x80010
WRAP        equ (FREE_IDX + 3) * 8     ; data, base 0xFFFFF000, 4 GiB
NP1         equ (FREE_IDX + 4) * 8     ; ring-1 data, not present
C16         equ (FREE_IDX + 5) * 8     ; 16-bit code, limit 0xFFFF
SMALL1      equ (FREE_IDX + 6) * 8     ; ring-1 data, limit 0xFFFF, B = 1

%macro GATE 5
    lea edi, [gdt + %1]
    mov eax, %2
    mov bx, %3
    mov cl, %4
    mov ch, %5
    call set_gate
%endmacro

%macro SEG 5
    mov eax, (%1) / 8
    mov ebx, %2
    mov ecx, %3
    mov dl, %4
    mov dh, %5
    call set_desc
%endmacro

test_main:
    GATE G_RING1, ring1_target, SEL_CODE1, 0xEC, 0
    GATE G_PARAMS, fail, SEL_CODE0, 0xEC, 31
    SEG SMALL3, 0, 0x80010, 0xF2, 0x4
    SEG WRAP, 0xFFFFF000, 0xFFFFF, 0x92, 0xC
    SEG NP1, 0, 0xFFFFF, 0x32, 0xC
    SEG C16, 0, 0xFFFF, 0x9A, 0x0
    SEG SMALL1, 0, 0xFFFF, 0xB2, 0x4

    ; ---- GDT limits and placement ----
    CASE "GDT limit short of the selector: #GP(sel)"
    TRY .b1
    lgdt [short_gdt]
    mov ax, SEL_DATA3
.f1: mov es, ax
.b1: lgdt [gdt_ptr]
    EXPECT_EXC 13, SEL_DATA3 & ~3, .f1

    CASE "GDT wrapping at 4 GiB"
    mov esi, gdt + 8                    ; flat code and data at linear 0
    xor edi, edi
    mov ecx, 4
    rep movsd
    mov dword [0x10], 0
    mov dword [0x14], 0
    TRY .b2
    lgdt [wrap_gdt]                     ; base 0xFFFFFFF8: entry 1 at linear 0
    mov ax, SEL_DATA0
    mov ds, ax                          ; entry 2, linear 8
    mov ax, 0x18
.f2: mov es, ax                         ; entry 3, linear 0x10: zeros
.b2: lgdt [gdt_ptr]
    EXPECT_EXC 13, 0x18, .f2

    CASE "IDT wrapping at 4 GiB, entries in unassigned memory"
    mov edi, 0
    mov eax, exc_stubs + 1 * 16         ; vector 1 at linear 0
    mov bx, SEL_CODE0
    mov cl, 0x8E
    xor ch, ch
    call set_gate
    mov edi, 0x60                       ; vector 13 at linear 0x60
    mov eax, exc_stubs + 13 * 16
    call set_gate
    TRY .b3
    lidt [wrap_idt]
.f3: int 0                              ; vector 0 at 0xFFFFFFF8: open bus
.b3: lidt [idt_ptr]
    EXPECT_EXC 13, 0 * 8 + 2, .f3
    TRY .b4
    lidt [wrap_idt]
    int 1
.a4:
.b4: lidt [idt_ptr]
    EXPECT_EXC_NOERR 1, .a4

    ; ---- Inner stacks from the TSS ----
    CASE "call gate to ring 1, TSS.SS1 null: #TS(0)"
    mov dword [TSS0 + 16], 0
    TRY .b5
    mov eax, .f5
    jmp to_ring3
.f5: call G_RING1 | 3:0
.b5: EXPECT_EXC 10, 0, .f5

    CASE "TSS.SS1 names DPL 0 data: #TS(sel)"
    mov dword [TSS0 + 16], SEL_DATA0
    TRY .b6
    mov eax, .f6
    jmp to_ring3
.f6: call G_RING1 | 3:0
.b6: EXPECT_EXC 10, SEL_DATA0, .f6

    CASE "TSS.SS1 not present: #SS(sel)"
    mov dword [TSS0 + 16], NP1 | 1
    TRY .b7
    mov eax, .f7
    jmp to_ring3
.f7: call G_RING1 | 3:0
.b7: EXPECT_EXC 12, NP1, .f7
    mov dword [TSS0 + 16], SEL_DATA1

    CASE "TSS.ESP1 leaves no room on the ring-1 stack: #SS(sel)"
    mov dword [TSS0 + 12], 8
    mov dword [TSS0 + 16], SMALL1 | 1
    TRY .b8
    mov eax, .f8
    jmp to_ring3
.f8: call G_RING1 | 3:0
.b8: EXPECT_EXC 12, SMALL1, .f8
    mov dword [TSS0 + 12], STACK1
    mov dword [TSS0 + 16], SEL_DATA1

    CASE "call gate parameters beyond the caller's stack: #SS(0)"
    TRY .b9
    push dword SMALL3 | 3
    push dword 0x80000
    push dword 2
    push dword SEL_CODE3
    push dword .f9
    iret
.f9: call G_PARAMS | 3:0
.b9: EXPECT_EXC 12, 0, .f9

    ; ---- Returns with bad selectors ----
    CASE "IRET to a selector beyond the GDT: #GP(sel)"
    TRY .b10
    push dword 2
    push dword 0x7F8
    push dword fail
.f10: iret
.b10: EXPECT_EXC 13, 0x7F8, .f10

    CASE "IRET to a null CS: #GP(0)"
    TRY .b11
    push dword 2
    push dword 0
    push dword fail
.f11: iret
.b11: EXPECT_EXC 13, 0, .f11

    CASE "IRET to a data segment: #GP(sel)"
    TRY .b12
    push dword 2
    push dword SEL_DATA0
    push dword fail
.f12: iret
.b12: EXPECT_EXC 13, SEL_DATA0, .f12

    CASE "IRET to ring 3 with a null SS: #GP(0)"
    TRY .b13
    push dword 0
    push dword STACK3
    push dword 2
    push dword SEL_CODE3
    push dword fail
.f13: iret
.b13: EXPECT_EXC 13, 0, .f13

    CASE "IRET to ring 3 with a DPL 0 SS: #GP(sel)"
    TRY .b14
    push dword SEL_DATA0
    push dword STACK3
    push dword 2
    push dword SEL_CODE3
    push dword fail
.f14: iret
.b14: EXPECT_EXC 13, SEL_DATA0, .f14

    CASE "RETF to a null CS: #GP(0)"
    TRY .b15
    push dword 0
    push dword fail
.f15: retf
.b15: EXPECT_EXC 13, 0, .f15

    CASE "far JMP past the code segment limit: #GP(0)"
    TRY .b16
.f16: jmp C16:0x12345
.b16: EXPECT_EXC 13, 0, .f16

    CASE "IRET past the code segment limit: #GP(0)"
    TRY .b17
    push dword 2
    push dword C16
    push dword 0x10000
.f17: iret
.b17: EXPECT_EXC 13, 0, .f17

    CASE "a segment wrapping at 4 GiB"
    mov dword [0x1000], 0x600DF00D
    mov ax, WRAP
    mov es, ax
    mov eax, [es:0x2000]                ; linear 0x1000
    CHECK eax, 0x600DF00D, "read through the wrap"
    ret

ring1_target:
    retf

align 8
short_gdt:
    dw 3 * 8 - 1
    dd gdt
wrap_gdt:
    dw 4 * 8 - 1
    dd 0xFFFFFFF8
wrap_idt:
    dw 256 * 8 - 1
    dd 0xFFFFFFF8

%include "tail.inc"
