; Single-step and code breakpoints (SDM vol. 3, 17.3): the TF trap after
; each instruction with DR6.BS (17.3.1.4), none after an instruction that
; faults or after INT n (which clears TF for its handler), the MOV SS / POP
; SS shadow that delays the trap by one instruction (6.8.3), STI that does
; not, code breakpoints in DR0-DR3 as faults honouring RF (17.3.1.1), DR6 and
; DR7 reserved bits (17.2.3-17.2.4), and INT1 (ICEBP) vs INT 1 and INT3 at
; CPL 3 (vol. 2, INT n).
%include "lib.inc"
%include "dblog.inc"

test_main:
    mov dword [handler_hook], log_hook

    ; ---- TF: a trap after every instruction with TF set at its start ----
    CASE "single step"
    call log_reset
    TF_ON
.s1: nop
.s2: nop
.s3: TF_OFF
.s4:
    CHECK dword [log_n], 5, "number of traps"
    LOGGED 0, 1, .s2
    LOGGED 1, 1, .s3
    LOGGED 4, 1, .s4
    mov eax, [log_dr6]
    and eax, 0xE00F
    CHECK eax, 0x4000, "DR6: BS alone"
    mov eax, [log_efl]
    and eax, 0x10100
    CHECK eax, 0x100, "pushed EFLAGS: TF set, RF clear"

    CASE "INT n under TF: no trap after INT, the handler is not traced"
    call log_reset
    TF_ON
.t1: int 0x40
.t2: nop
.t3: TF_OFF
    CHECK dword [log_n], 5, "events"
    LOGGED 0, 0x40, .t2
    LOGGED 1, 1, .t3
    mov eax, [log_efl]
    and eax, 0x100
    CHECK eax, 0x100, "TF in the image pushed by INT"

    CASE "a faulting instruction under TF: the fault only"
    call log_reset
    TF_ON
.u1: ud2
.u2: nop
.u3: TF_OFF
    CHECK dword [log_n], 5, "events"
    LOGGED 0, 6, .u1
    LOGGED 1, 1, .u3

    CASE "MOV SS delays the trap past the next instruction"
    call log_reset
    mov ax, ss
    TF_ON
.v1: mov ss, ax
.v2: nop
.v3: TF_OFF
    CHECK dword [log_n], 4, "traps"
    LOGGED 0, 1, .v3
    mov eax, [log_dr6]
    and eax, 0x4000
    CHECK eax, 0x4000, "DR6.BS"

    CASE "POP SS delays the trap past the next instruction"
    call log_reset
    push ss
    TF_ON
.w1: pop ss
.w2: nop
.w3: TF_OFF
    CHECK dword [log_n], 4, "traps"
    LOGGED 0, 1, .w3

    CASE "STI does not delay the trap"
    call log_reset
    TF_ON
.x1: sti
.x2: cli
.x3: TF_OFF
    CHECK dword [log_n], 5, "traps"
    LOGGED 0, 1, .x2
    LOGGED 1, 1, .x3

    ; ---- Code breakpoints: faults, suppressed by RF (17.3.1.1) ----
    CASE "DR0 code breakpoint"
    call log_reset
    mov eax, .y1
    mov dr0, eax
    mov eax, 0x00000001                 ; L0, execute, 1 byte
    mov dr7, eax
    mov ecx, 2
.y1: nop
    dec ecx
    jnz .y1
    xor eax, eax
    mov dr7, eax
    CHECK dword [log_n], 2, "breakpoint hits"
    LOGGED 0, 1, .y1
    LOGGED 1, 1, .y1
    mov eax, [log_dr6]
    and eax, 0xE00F
    CHECK eax, 1, "DR6: B0 alone"
    mov eax, [log_efl]
    and eax, 0x10000
    CHECK eax, 0, "RF not set in the image of a code breakpoint"

    CASE "DR3 global code breakpoint, other breakpoints disabled"
    call log_reset
    mov eax, .z1
    mov dr3, eax
    mov dr1, eax                        ; DR1 matches too but is disabled
    mov eax, 0x00000080                 ; G3
    mov dr7, eax
    nop
.z1: nop
    xor eax, eax
    mov dr7, eax
    CHECK dword [log_n], 1, "breakpoint hits"
    LOGGED 0, 1, .z1
    mov eax, [log_dr6]
    and eax, 8                          ; B1 may or may not be set (17.2.3)
    CHECK eax, 8, "DR6: B3"

    CASE "code breakpoint and TF: the breakpoint first, then the trap"
    call log_reset
    mov eax, .k2
    mov dr0, eax
    mov eax, 1
    mov dr7, eax
    TF_ON
.k1: nop
.k2: nop
.k3: TF_OFF
    xor eax, eax
    mov dr7, eax
    LOGGED 0, 1, .k2
    LOGGED 1, 1, .k2
    LOGGED 2, 1, .k3
    mov eax, [log_dr6 + 4]
    and eax, 0x400F
    CHECK eax, 1, "the breakpoint's DR6"
    mov eax, [log_dr6 + 8]
    and eax, 0x400F
    CHECK eax, 0x4000, "the trap's DR6"

    CASE "REP under TF: a trap after each iteration, RF = 1 but the last"
    call log_reset
    mov edi, scratch
    mov ecx, 3
    xor eax, eax
    cld
    TF_ON
.m1: rep stosb
.m2: TF_OFF
    LOGGED 0, 1, .m1
    LOGGED 1, 1, .m1
    LOGGED 2, 1, .m2
    mov eax, [log_efl]
    and eax, 0x10000
    CHECK eax, 0x10000, "RF after the first iteration"
    mov eax, [log_efl + 8]
    and eax, 0x10000
    CHECK eax, 0, "RF after the last iteration"

    CASE "code breakpoint on a long REP STOSB: one #DB"
    call log_reset
    mov eax, .n1
    mov dr0, eax
    mov eax, 1
    mov dr7, eax
    mov edi, scratch
    mov ecx, 10000
    xor eax, eax
.n1: rep stosb
    xor eax, eax
    mov dr7, eax
    CHECK dword [log_n], 1, "breakpoint hits"
    LOGGED 0, 1, .n1
    CHECK ecx, 0, "ECX after the REP"

    ; ---- DR6 / DR7 fixed bits (17.2.3, 17.2.4) ----
    CASE "DR6 and DR7 reserved bits"
    xor eax, eax
    mov dr6, eax
    mov eax, dr6
    CHECK eax, 0xFFFF0FF0, "DR6 read back"
    xor eax, eax
    mov dr7, eax
    mov eax, dr7
    CHECK eax, 0x400, "DR7 read back"
    mov dword [handler_hook], 0

    ; ---- INT1 vs INT 1 and INT3 at CPL 3 through DPL 0 gates ----
    CASE "ICEBP at CPL 3: #DB without the gate DPL check"
    TRY .b1
    mov eax, .r3_1
    jmp to_ring3
.r3_1:
    db 0xF1
.a1:
.b1: EXPECT_EXC_NOERR 1, .a1
    CHECK dword [got_frame + 4], SEL_CODE3, "CS"

    CASE "INT 1 at CPL 3 through a DPL 0 gate: #GP(0x0A)"
    TRY .b2
    mov eax, .f2
    jmp to_ring3
.f2: int 1
.b2: EXPECT_EXC 13, 1 * 8 + 2, .f2

    CASE "INT3 at CPL 3 through a DPL 0 gate: #GP(0x1A)"
    TRY .b3
    mov eax, .f3
    jmp to_ring3
.f3: int3
.b3: EXPECT_EXC 13, 3 * 8 + 2, .f3
    ret

align 4
scratch: times 10000 db 0

%include "tail.inc"
