; Privilege-level transfers: far CALL through 32- and 16-bit call gates
; with parameter copy and the stack switch from the TSS (SDM vol. 3,
; 5.8.5-5.8.6), far RET to an outer level with the data-segment nulling
; rule (vol. 2, RET), IRET to ring 3, conforming code (5.8.1.2), direct
; transfers that must fault, and the instructions ring 3 may not execute
; (5.9, and vol. 1, 19.5 for I/O).
%include "lib.inc"

G32         equ (FREE_IDX + 0) * 8     ; 32-bit call gate DPL 3 -> ring 0, 2 dwords
G_DPL0      equ (FREE_IDX + 1) * 8     ; call gate with DPL 0
G_NP        equ (FREE_IDX + 2) * 8     ; call gate not present
G_DATA      equ (FREE_IDX + 3) * 8     ; call gate to a data segment
G_RING1     equ (FREE_IDX + 4) * 8     ; call gate DPL 3 -> ring 1
CONF0       equ (FREE_IDX + 5) * 8     ; conforming code, DPL 0
G16         equ (FREE_IDX + 6) * 8     ; 16-bit call gate DPL 3 -> C16_0, 2 words
C16_0       equ (FREE_IDX + 7) * 8     ; 16-bit code DPL 0 based at gate16_target
C16_3       equ (FREE_IDX + 8) * 8     ; 16-bit code DPL 3 based at r3_16
G_OFF       equ (FREE_IDX + 9) * 8     ; call gate whose offset is past the limit
G_CONF      equ (FREE_IDX + 10) * 8    ; call gate DPL 3 -> conforming DPL 0

; edi slot, eax offset, bx selector, cl access, ch count
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

; R3 label: run ring-3 code at label (ESP = STACK3, DS = ES = 0x23).
%macro R3 1
    mov eax, %1
    jmp to_ring3
%endmacro

test_main:
    GATE G32, gate32_target, SEL_CODE0, 0xEC, 2
    GATE G_DPL0, gate32_target, SEL_CODE0, 0x8C, 0
    GATE G_NP, gate32_target, SEL_CODE0, 0x6C, 0
    GATE G_DATA, 0, SEL_DATA0, 0xEC, 0
    GATE G_RING1, ring1_target, SEL_CODE1, 0xEC, 0
    SEG CONF0, 0, 0xFFFFF, 0x9E, 0xC
    GATE G16, 0, C16_0, 0xE4, 2
    SEG C16_0, gate16_target, 0xFFFF, 0x9A, 0x0
    SEG C16_3, r3_16, 0xFFFF, 0xFA, 0x0
    GATE G_OFF, 0x20000, C16_0, 0xEC, 0
    GATE G_CONF, conf_call_target, CONF0, 0xEC, 0

    ; ---- 32-bit call gate, ring 3 -> 0, two parameters, RETF 8 back ----
    CASE "call gate 32: ring 3 -> 0"
    TRY .bA
    R3 .r3A
.r3A:
    push dword 0xAAAA1111
    push dword 0xBBBB2222
    call G32 | 3:0
.retA:
    mov eax, ds
    mov [ss:r3_ds], eax
    mov eax, es
    mov [ss:r3_es], eax
    mov eax, fs
    mov [ss:r3_fs], eax
    mov eax, gs
    mov [ss:r3_gs], eax
    mov [ss:r3_esp], esp
.intA:
    int 0x80
.afterA:
.bA:
    CHECK dword [gate_cs], SEL_CODE0, "CS in the gate target"
    CHECK dword [gate_ss], SEL_DATA0, "SS from TSS.SS0"
    CHECK dword [gate_esp], STACK0 - 24, "ESP: TSS.ESP0 - 6 dwords"
    CHECK dword [gate_frame], .retA, "pushed EIP"
    CHECK dword [gate_frame + 4], SEL_CODE3, "pushed CS"
    CHECK dword [gate_frame + 8], 0xBBBB2222, "parameter 1"
    CHECK dword [gate_frame + 12], 0xAAAA1111, "parameter 2"
    CHECK dword [gate_frame + 16], STACK3 - 8, "pushed ESP"
    CHECK dword [gate_frame + 20], SEL_DATA3, "pushed SS"
    CASE "RETF 8 to ring 3: segment registers"
    CHECK dword [r3_ds], 0, "DS (DPL 0 data) nulled"
    CHECK dword [r3_fs], 0, "FS (DPL 0 data) nulled"
    CHECK dword [r3_es], SEL_DATA3, "ES (DPL 3 data) kept"
    CHECK dword [r3_gs], CONF0, "GS (conforming code) kept"
    CHECK dword [r3_esp], STACK3, "ESP after RETF 8"
    CASE "INT 0x80 from ring 3: frame on the ring-0 stack"
    CHECK dword [got_vec], 0x80, "vector"
    CHECK dword [got_frame], .afterA, "EIP"
    CHECK dword [got_frame + 4], SEL_CODE3, "CS"
    CHECK dword [got_frame + 12], STACK3, "ESP"
    CHECK dword [got_frame + 16], SEL_DATA3, "SS"
    CHECK dword [got_esp], STACK0 - 20, "handler ESP"

    ; ---- 16-bit call gate from 16-bit ring-3 code ----
    CASE "call gate 16: ring 3 -> 0, word parameters"
    TRY .bB
    push dword SEL_DATA3
    push dword 0xF000                   ; a stack 16-bit SP values can name
    push dword 0x0002
    push dword C16_3 | 3
    push dword 0
    iret
.bB:
    CHECK dword [g16_cs], C16_0, "CS in the target"
    CHECK dword [g16_esp], STACK0 - 12, "ESP: 6 words pushed"
    CHECK dword [g16_frame], (r3_16.ret - r3_16) | ((C16_3 | 3) << 16), "IP, CS"
    CHECK dword [g16_frame + 4], 0x11112222, "parameters"
    CHECK dword [g16_frame + 8], 0xEFFC | (SEL_DATA3 << 16), "SP, SS"
    CHECK dword [g16_r3sp], 0xF000, "ESP after RETF 4"
    CHECK dword [got_vec], 0x80, "exit vector"

    ; ---- Call gate to ring 1: SS:ESP from TSS.SS1:ESP1 ----
    CASE "call gate to ring 1"
    TRY .bC
    R3 .r3C
.r3C:
    call G_RING1 | 3:0
    int 0x80
.bC:
    CHECK dword [r1_cs], SEL_CODE1, "CS"
    CHECK dword [r1_ss], SEL_DATA1, "SS from TSS.SS1"
    CHECK dword [r1_esp], STACK1 - 16, "ESP"
    CHECK dword [got_frame + 12], STACK3, "ring-3 ESP after RETF"

    ; ---- Conforming code ----
    CASE "far JMP to conforming code keeps CPL 3"
    TRY .bD
    R3 .r3D
.r3D:
    jmp CONF0:conf_jmp_target
.bD:
    CHECK dword [conf_cs], CONF0 | 3, "CS with RPL = CPL"
    CHECK dword [got_frame + 4], CONF0 | 3, "CS of the INT frame"

    CASE "call gate to conforming code: no stack switch"
    TRY .bE
    R3 .r3E
.r3E:
    call G_CONF | 3:0
.retE:
    int 0x80
.bE:
    CHECK dword [conf_cs], CONF0 | 3, "CS with RPL = CPL"
    CHECK dword [conf_esp], STACK3 - 8, "ESP on the ring-3 stack"
    CHECK dword [conf_ret], .retE, "return EIP"

    ; ---- RETF and IRET from ring 0 to ring 3 ----
    CASE "RETF to ring 3 nulls DS"
    TRY .bF
    mov ax, SEL_DATA0
    mov ds, ax
    mov ax, SEL_DATA3
    mov es, ax
    push dword SEL_DATA3
    push dword STACK3
    push dword SEL_CODE3
    push dword .r3F
    retf
.r3F:
    mov eax, ds
    mov [ss:r3_ds], eax
    mov eax, cs
    mov [ss:r3_cs], eax
    int 0x80
.bF:
    CHECK dword [r3_ds], 0, "DS"
    CHECK dword [r3_cs], SEL_CODE3, "CS"

    CASE "IRET to ring 3 nulls DS, keeps ES"
    TRY .bG
    mov ax, SEL_DATA0
    mov ds, ax
    mov ax, SEL_DATA3
    mov es, ax
    push dword SEL_DATA3
    push dword STACK3
    push dword 0x3002                   ; IOPL 3
    push dword SEL_CODE3
    push dword .r3G
    iret
.r3G:
    mov eax, ds
    mov [ss:r3_ds], eax
    mov eax, es
    mov [ss:r3_es], eax
    pushfd
    pop dword [ss:r3_esp]
    int 0x80
.bG:
    CHECK dword [r3_ds], 0, "DS"
    CHECK dword [r3_es], SEL_DATA3, "ES"
    CHECK dword [r3_esp], 0x3002, "EFLAGS with IOPL 3"

    ; ---- Transfers that must fault from ring 3 ----
    CASE "call gate DPL 0 from ring 3: #GP(gate)"
    TRY .b1
    R3 .f1
.f1: call G_DPL0 | 3:0
.b1: EXPECT_EXC 13, G_DPL0, .f1
    CHECK dword [got_frame + 8], SEL_CODE3, "faulting CS"

    CASE "call gate not present: #NP(gate)"
    TRY .b2
    R3 .f2
.f2: call G_NP | 3:0
.b2: EXPECT_EXC 11, G_NP, .f2

    CASE "call gate to a data segment: #GP(target)"
    TRY .b3
    R3 .f3
.f3: call G_DATA | 3:0
.b3: EXPECT_EXC 13, SEL_DATA0, .f3

    CASE "JMP through a call gate to inner non-conforming code: #GP(target)"
    TRY .b4
    R3 .f4
.f4: jmp G32 | 3:0
.b4: EXPECT_EXC 13, SEL_CODE0, .f4

    CASE "far JMP to ring-0 code: #GP(sel)"
    TRY .b5
    R3 .f5
.f5: jmp SEL_CODE0:fail
.b5: EXPECT_EXC 13, SEL_CODE0, .f5

    CASE "RETF to an inner level: #GP(sel)"
    TRY .b6
    R3 .r3_6
.r3_6:
    push dword SEL_CODE0
    push dword fail
.f6: retf
.b6: EXPECT_EXC 13, SEL_CODE0, .f6

    CASE "call gate offset past the target limit: #GP(0)"
    TRY .b7
    R3 .f7
.f7: call G_OFF | 3:0
.b7: EXPECT_EXC 13, 0, .f7

    CASE "far CALL from ring 0 to ring-3 code: #GP(sel)"
    TRY .b8
.f8: call SEL_CODE3:fail
.b8: EXPECT_EXC 13, SEL_CODE3 & ~3, .f8

    CASE "MOV DS, DPL-0 data at CPL 3: #GP(sel)"
    TRY .b9
    R3 .r3_9
.r3_9:
    mov ax, SEL_DATA0 | 3
.f9: mov ds, ax
.b9: EXPECT_EXC 13, SEL_DATA0, .f9

    CASE "INT n through a DPL 0 gate: #GP(n * 8 + 2)"
    TRY .b10
    R3 .f10
.f10: int 0x31
.b10: EXPECT_EXC 13, 0x31 * 8 + 2, .f10

    CASE "CLI at CPL 3, IOPL 0: #GP(0)"
    TRY .b11
    R3 .f11
.f11: cli
.b11: EXPECT_EXC 13, 0, .f11

    CASE "HLT at CPL 3: #GP(0)"
    TRY .b12
    R3 .f12
.f12: hlt
.b12: EXPECT_EXC 13, 0, .f12

    CASE "MOV from CR0 at CPL 3: #GP(0)"
    TRY .b13
    R3 .f13
.f13: mov eax, cr0
.b13: EXPECT_EXC 13, 0, .f13

    CASE "LGDT at CPL 3: #GP(0)"
    TRY .b14
    R3 .f14
.f14: lgdt [ss:gdt_ptr]
.b14: EXPECT_EXC 13, 0, .f14

    CASE "RDMSR at CPL 3: #GP(0)"
    TRY .b15
    R3 .f15
.f15: rdmsr
.b15: EXPECT_EXC 13, 0, .f15

    CASE "IN from a port the bitmap denies: #GP(0)"
    TRY .b16
    R3 .f16
.f16: in al, 0x80
.b16: EXPECT_EXC 13, 0, .f16

    CASE "I/O the bitmap allows"
    TRY .b17
    R3 .r3_17
.r3_17:
    in al, 0xE9
    mov dx, 0xF5
    in al, dx
.f17: in ax, 0xE8                       ; port 0xE8 denied
.b17: EXPECT_EXC 13, 0, .f17

    CASE "LAR at CPL 3"
    TRY .b18
    R3 .r3_18
.r3_18:
    mov dword [ss:r3_ds], 0
    mov bx, SEL_DATA0
    lar eax, bx
    jz .lar1
    or dword [ss:r3_ds], 1
.lar1:
    mov bx, SEL_DATA3
    lar eax, bx
    jnz .lar2
    or dword [ss:r3_ds], 2
.lar2:
    int 0x80
.b18: CHECK dword [r3_ds], 3, "LAR DPL 0 fails, DPL 3 works"
    ret

; ---- Targets ------------------------------------------------------------------

gate32_target:
    mov [ss:gate_esp], esp
    mov eax, cs
    mov [ss:gate_cs], eax
    mov eax, ss
    mov [ss:gate_ss], eax
    xor ecx, ecx
.copy:
    mov eax, [esp + ecx * 4]
    mov [ss:gate_frame + ecx * 4], eax
    inc ecx
    cmp ecx, 6
    jb .copy
    mov ax, SEL_DATA0
    mov ds, ax
    mov fs, ax
    mov ax, SEL_DATA3
    mov es, ax
    mov ax, CONF0
    mov gs, ax
    retf 8

ring1_target:
    mov eax, cs
    mov [ss:r1_cs], eax
    mov eax, ss
    mov [ss:r1_ss], eax
    mov [ss:r1_esp], esp
    retf

conf_jmp_target:
    mov eax, cs
    mov [ss:conf_cs], eax
    int 0x80

conf_call_target:
    mov eax, cs
    mov [ss:conf_cs], eax
    mov [ss:conf_esp], esp
    mov eax, [esp]
    mov [ss:conf_ret], eax
    retf

bits 16
; Ring-3 16-bit code (segment C16_3 based here).
r3_16:
    push word 0x1111
    push word 0x2222
    call G16 | 3:0
.ret:
    mov [ss:dword g16_r3sp], esp
    int 0x80

; Ring-0 16-bit code (segment C16_0 based here), entered through G16.
gate16_target:
    mov [ss:dword g16_esp], esp
    mov ax, cs
    mov [ss:dword g16_cs], ax
    mov eax, [esp]
    mov [ss:dword g16_frame], eax
    mov eax, [esp + 4]
    mov [ss:dword g16_frame + 4], eax
    mov eax, [esp + 8]
    mov [ss:dword g16_frame + 8], eax
    o16 retf 4
bits 32

align 4
gate_esp:   dd 0
gate_cs:    dd 0
gate_ss:    dd 0
gate_frame: times 6 dd 0
r3_ds:      dd 0
r3_es:      dd 0
r3_fs:      dd 0
r3_gs:      dd 0
r3_cs:      dd 0
r3_esp:     dd 0
r1_cs:      dd 0
r1_ss:      dd 0
r1_esp:     dd 0
conf_cs:    dd 0
conf_esp:   dd 0
conf_ret:   dd 0
g16_esp:    dd 0
g16_cs:     dd 0
g16_frame:  times 3 dd 0
g16_r3sp:   dd 0

%include "tail.inc"
