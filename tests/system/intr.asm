; Interrupt and exception delivery through the IDT: interrupt vs trap
; gates (SDM vol. 3, 6.12.1.3), fault vs trap return addresses (6.5, 6.15),
; error codes and the EXT/IDT bits (6.13), gate checks (vol. 2, INT n),
; #DF (6.15, interrupt 8 and table 6-5), 16-bit gates, conforming handlers,
; the RF image (17.3.1.1) and what IRET at CPL 3 may change (vol. 2, IRET).
%include "lib.inc"

C16_0   equ (FREE_IDX + 0) * 8     ; 16-bit code DPL 0 based at h16
C16_E   equ (FREE_IDX + 1) * 8     ; 16-bit code DPL 0 based at h16e
CONF0   equ (FREE_IDX + 2) * 8     ; conforming code DPL 0

%macro SEG 5
    mov eax, (%1) / 8
    mov ebx, %2
    mov ecx, %3
    mov dl, %4
    mov dh, %5
    call set_desc
%endmacro

; IDTGATE vector, offset, selector, access
%macro IDTGATE 4
    lea edi, [IDT_ADDR + (%1) * 8]
    mov eax, %2
    mov bx, %3
    mov cl, %4
    xor ch, ch
    call set_gate
%endmacro

%define STUB(v) (exc_stubs + (v) * 16)  ; the standard stub of a vector

; CHECK_FRAME_SIZE n: the CPU pushed n bytes on the stack TRY saw.
%macro CHECK_FRAME_SIZE 1
    mov ebx, [resume_esp]
    sub ebx, %1
    CHECK dword [got_esp], ebx, "frame size"
%endmacro

test_main:
    SEG C16_0, h16, 0xFFFF, 0x9A, 0x0
    SEG C16_E, h16e, 0xFFFF, 0x9A, 0x0
    SEG CONF0, 0, 0xFFFFF, 0x9E, 0xC

    ; ---- Trap and interrupt gates (6.12.1.3) ----
    CASE "INT n through a trap gate: IF kept, EIP after INT"
    IDTGATE 0x40, exc_stubs + 0x40 * 16, SEL_CODE0, 0x8F
    TRY .b1
    sti
    int 0x40
.a1:
.b1: cli
    EXPECT_EXC_NOERR 0x40, .a1
    CHECK dword [got_frame + 4], SEL_CODE0, "CS"
    CHECK_FRAME_SIZE 12
    mov eax, [got_eflags_in]
    and eax, 0x200
    CHECK eax, 0x200, "IF in the handler"
    mov eax, [got_frame + 8]
    and eax, 0x10200
    CHECK eax, 0x200, "pushed IF set, RF clear"

    CASE "INT n through an interrupt gate clears IF"
    TRY .b2
    sti
    int 0x41
.a2:
.b2: cli
    EXPECT_EXC_NOERR 0x41, .a2
    mov eax, [got_eflags_in]
    and eax, 0x200
    CHECK eax, 0, "IF in the handler"

    ; ---- Return addresses of traps and faults (6.5) ----
    CASE "INT3: trap, EIP after it"
    TRY .b3
    int3
.a3:
.b3: EXPECT_EXC_NOERR 3, .a3
    CHECK_FRAME_SIZE 12

    CASE "INTO with OF = 1: trap"
    TRY .b4
    mov al, 0x7F
    add al, 1
    into
.a4:
.b4: EXPECT_EXC_NOERR 4, .a4

    CASE "INTO with OF = 0: nothing"
    TRY fail
    xor eax, eax
    into
    mov dword [resume_eip], 0

    CASE "BOUND: #BR fault"
    TRY .b5
    mov eax, 10
.f5: bound eax, [bounds]
    jmp fail
.b5: EXPECT_EXC_NOERR 5, .f5

    CASE "DIV by zero: #DE fault"
    TRY .b6
    xor ecx, ecx
    mov eax, 1
    xor edx, edx
.f6: div ecx
    jmp fail
.b6: EXPECT_EXC_NOERR 0, .f6

    CASE "UD2: #UD fault"
    TRY .b7
.f7: ud2
.b7: EXPECT_EXC_NOERR 6, .f7
    CHECK_FRAME_SIZE 12

    CASE "#GP with an error code; RF = 1 in the image of a fault"
    TRY .b8
    mov ax, 0x200
.f8: mov ds, ax
.b8: EXPECT_EXC 13, 0x200, .f8
    CHECK_FRAME_SIZE 16
    mov eax, [got_frame + 12]
    and eax, 0x10000
    CHECK eax, 0x10000, "RF in the pushed EFLAGS"

    ; ---- Gate checks (vol. 2, INT n) ----
    CASE "gate not present: #NP(vector * 8 + 2)"
    IDTGATE 0x42, 0, SEL_CODE0, 0x0E
    TRY .b9
.f9: int 0x42
.b9: EXPECT_EXC 11, 0x42 * 8 + 2, .f9

    CASE "IDT limit too small: #GP(vector * 8 + 2)"
    TRY .b10
    lidt [small_idt]
.f10: int 0x40
.b10: call reset_idtr
    EXPECT_EXC 13, 0x40 * 8 + 2, .f10

    CASE "TSS descriptor in the IDT: #GP(vector * 8 + 2)"
    IDTGATE 0x43, 0, SEL_TSS0, 0x89
    TRY .b11
.f11: int 0x43
.b11: EXPECT_EXC 13, 0x43 * 8 + 2, .f11

    CASE "call gate in the IDT: #GP(vector * 8 + 2)"
    IDTGATE 0x44, fail, SEL_CODE0, 0x8C
    TRY .b12
.f12: int 0x44
.b12: EXPECT_EXC 13, 0x44 * 8 + 2, .f12

    CASE "gate with a null selector: #GP(0)"
    IDTGATE 0x45, fail, 0, 0x8E
    TRY .b13
.f13: int 0x45
.b13: EXPECT_EXC 13, 0, .f13

    CASE "gate to a data segment: #GP(sel)"
    IDTGATE 0x46, fail, SEL_DATA0, 0x8E
    TRY .b14
.f14: int 0x46
.b14: EXPECT_EXC 13, SEL_DATA0, .f14

    CASE "gate selector beyond the GDT: #GP(sel)"
    IDTGATE 0x47, fail, 0x400, 0x8E
    TRY .b15
.f15: int 0x47
.b15: EXPECT_EXC 13, 0x400, .f15

    CASE "gate to DPL 3 code from CPL 0: #GP(sel)"
    IDTGATE 0x48, fail, SEL_CODE3, 0x8E
    TRY .b16
.f16: int 0x48
.b16: EXPECT_EXC 13, SEL_CODE3 & ~3, .f16

    CASE "gate offset beyond the code limit: #GP(0)"
    IDTGATE 0x49, 0x20000, C16_0, 0x8E
    TRY .b17
.f17: int 0x49
.b17: EXPECT_EXC 13, 0, .f17

    ; ---- Exceptions meeting bad gates: EXT and #DF (6.13, 6.15) ----
    CASE "#UD through a not-present gate: #NP(6 * 8 + 2 + EXT)"
    IDTGATE 6, STUB(6), SEL_CODE0, 0x0E
    TRY .b18
.f18: ud2
.b18: IDTGATE 6, STUB(6), SEL_CODE0, 0x8E
    EXPECT_EXC 11, 6 * 8 + 3, .f18

    CASE "#GP through a not-present gate: #DF(0)"
    IDTGATE 13, STUB(13), SEL_CODE0, 0x0E
    TRY .b19
    mov ax, 0x200
.f19: mov ds, ax
.b19: IDTGATE 13, STUB(13), SEL_CODE0, 0x8E
    CHECK dword [got_vec], 8, "vector"
    CHECK dword [got_frame], 0, "error code"

    CASE "#BP through a not-present gate: #NP, no #DF (benign first)"
    IDTGATE 3, STUB(3), SEL_CODE0, 0x0E
    TRY .b20
.f20: int3
.b20: IDTGATE 3, STUB(3), SEL_CODE0, 0x8E
    EXPECT_EXC 11, 3 * 8 + 2, .f20

    ; ---- 16-bit gates: 16-bit pushes ----
    CASE "16-bit interrupt gate"
    IDTGATE 0x4A, 0, C16_0, 0x86
    mov [saved_esp], esp
    int 0x4A
.a21:
.back16:
    mov esp, [saved_esp]
    CHECK dword [h16_cs], C16_0, "CS"
    mov ebx, [saved_esp]
    sub ebx, 6
    CHECK dword [h16_esp], ebx, "ESP: three words pushed"
    CHECK dword [h16_frame], (ABS(.a21) & 0xFFFF) | (SEL_CODE0 << 16), "IP, CS"

    CASE "#GP through a 16-bit gate: 16-bit error code"
    IDTGATE 13, 0, C16_E, 0x86
    mov [saved_esp], esp
    mov ax, 0x208
.f22: mov ds, ax
    jmp fail
.back16e:
    mov esp, [saved_esp]
    IDTGATE 13, STUB(13), SEL_CODE0, 0x8E
    mov ebx, [saved_esp]
    sub ebx, 8
    CHECK dword [h16_esp], ebx, "ESP: four words pushed"
    CHECK dword [h16_frame], 0x208 | ((ABS(.f22) & 0xFFFF) << 16), "error code, IP"

    ; ---- Conforming handler: runs at CPL 3 on the ring-3 stack ----
    CASE "conforming handler from ring 3"
    IDTGATE 0x4B, conf_handler, CONF0, 0xEE
    TRY .b23
    mov eax, .r3_23
    jmp to_ring3
.r3_23:
    int 0x4B
.a23:
.b23:
    CHECK dword [conf_cs], CONF0 | 3, "CS (RPL = CPL 3)"
    CHECK dword [conf_esp], STACK3 - 12, "ESP on the ring-3 stack"
    CHECK dword [conf_eip], .a23, "pushed EIP"

    ; ---- IRET at CPL 3 cannot change IOPL or IF (vol. 2, IRET) ----
    CASE "IRET at CPL 3 keeps IOPL and IF"
    TRY .b24
    mov eax, .r3_24
    jmp to_ring3
.r3_24:
    push dword 0x3202
    push dword SEL_CODE3
    push dword .r3_24b
    iret
.r3_24b:
    pushfd
    pop dword [ss:conf_esp]
    int 0x80
.b24:
    mov eax, [conf_esp]
    and eax, 0x3200
    CHECK eax, 0, "IOPL and IF"

    CASE "same-level IRET restores EFLAGS bits"
    push dword 0x0CD7                   ; OF DF SF ZF AF PF CF
    push dword SEL_CODE0
    push dword .a25
    iret
.a25:
    pushfd
    pop eax
    and eax, 0xCD5
    CHECK eax, 0xCD5, "arithmetic flags and DF"
    cld
    ret

conf_handler:
    mov eax, cs
    mov [ss:conf_cs], eax
    mov [ss:conf_esp], esp
    mov eax, [esp]
    mov [ss:conf_eip], eax
    int 0x80

bits 16
h16:
    mov [ss:dword h16_esp], esp
    mov ax, cs
    mov [ss:dword h16_cs], ax
    mov eax, [esp]
    mov [ss:dword h16_frame], eax
    jmp dword SEL_CODE0:test_main.back16
h16e:
    mov [ss:dword h16_esp], esp
    mov eax, [esp]
    mov [ss:dword h16_frame], eax
    jmp dword SEL_CODE0:test_main.back16e
bits 32

align 8
small_idt:
    dw 0x40 * 8 - 1
    dd IDT_ADDR
bounds:     dd 0, 5
saved_esp:  dd 0
h16_esp:    dd 0
h16_cs:     dd 0
h16_frame:  dd 0
conf_cs:    dd 0
conf_esp:   dd 0
conf_eip:   dd 0

%include "tail.inc"
