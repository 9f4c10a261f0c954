; External interrupts (SDM vol. 3, 6.3, 6.8): INTR needs IF; the shadow
; after STI and after MOV SS / POP SS delays it by one instruction (vol. 2,
; STI; vol. 3, 6.8.3); HLT is left by an interrupt and resumes after HLT
; (vol. 2, HLT); NMI ignores IF and blocks further NMIs until IRET (6.7.1).
; Needs the harness's interrupt ports (harness.c): 0xE0 assert INTR, 0xE1
; NMI, 0xE3/0xE4 an event after N instructions or at HLT.
%include "lib.inc"
%include "dblog.inc"

VEC     equ 0x60

; EVENT vector, n: INTR `vector` (NMI for 2) after n more instructions
; (n = 0: when the CPU halts).
%macro EVENT 2
    mov al, %1
    out 0xE3, al
    mov al, %2
    out 0xE4, al
%endmacro

test_main:
    mov dword [handler_hook], log_hook

    CASE "INTR waits while IF = 0 and for the instruction after STI"
    call log_reset
    cli
    mov al, VEC
    out 0xE0, al
    nop
    nop
    sti
    nop
.a1:
    cli
    CHECK dword [log_n], 1, "interrupts"
    LOGGED 0, VEC, .a1
    mov eax, [log_efl]
    and eax, 0x200
    CHECK eax, 0x200, "pushed IF"

    CASE "INTR with IF = 1 is taken after the instruction that raised it"
    call log_reset
    sti
    mov al, VEC + 1
    out 0xE0, al
.b1:
    cli
    CHECK dword [log_n], 1, "interrupts"
    LOGGED 0, VEC + 1, .b1

    CASE "STI; HLT with an interrupt pending: resumes after HLT"
    call log_reset
    cli
    mov al, VEC + 2
    out 0xE0, al
    sti
    hlt
.c1:
    cli
    CHECK dword [log_n], 1, "interrupts"
    LOGGED 0, VEC + 2, .c1

    CASE "HLT woken by a later interrupt"
    call log_reset
    EVENT VEC + 3, 0
    sti
    hlt
.d1:
    cli
    CHECK dword [log_n], 1, "interrupts"
    LOGGED 0, VEC + 3, .d1

    CASE "no shadow: an interrupt arriving after an instruction is taken at once"
    call log_reset
    sti
    EVENT VEC + 4, 1
    nop
.e1:
    nop
    cli
    CHECK dword [log_n], 1, "interrupts"
    LOGGED 0, VEC + 4, .e1

    CASE "INTR between REP STOSB iterations: EIP at the REP, RF = 1 pushed"
    call log_reset
    mov edi, 0x800000
    mov ecx, 20000
    mov al, 0x5A
    cld
    sti
    EVENT VEC + 5, 1
.r1: rep stosb
    cli
    CHECK dword [log_n], 1, "interrupts"
    LOGGED 0, VEC + 5, .r1
    mov eax, [log_efl]
    and eax, 0x10000
    CHECK eax, 0x10000, "RF in the pushed EFLAGS"
    CHECK ecx, 0, "ECX after the REP"
    CHECK edi, 0x800000 + 20000, "EDI after the REP"
    pushfd
    pop eax
    and eax, 0x10000
    CHECK eax, 0, "RF after the REP"

    CASE "MOV SS shadow"
    call log_reset
    mov bx, ss
    sti
    EVENT VEC + 5, 1
    mov ss, bx
    nop
.f1:
    cli
    CHECK dword [log_n], 1, "interrupts"
    LOGGED 0, VEC + 5, .f1

    CASE "POP SS shadow"
    call log_reset
    push ss
    sti
    EVENT VEC + 6, 1
    pop ss
    nop
.g1:
    cli
    CHECK dword [log_n], 1, "interrupts"
    LOGGED 0, VEC + 6, .g1

    CASE "STI shadow for an interrupt arriving with STI"
    call log_reset
    cli
    EVENT VEC + 7, 1
    sti
    nop
.h1:
    cli
    CHECK dword [log_n], 1, "interrupts"
    LOGGED 0, VEC + 7, .h1

    CASE "NMI with IF = 0"
    call log_reset
    cli
    out 0xE1, al
.i1:
    CHECK dword [log_n], 1, "NMIs"
    LOGGED 0, 2, .i1

    CASE "NMI blocked until IRET"
    call log_reset
    mov dword [handler_hook], nmi_hook
    out 0xE1, al
.j1:
    mov dword [handler_hook], log_hook
    CHECK dword [log_n], 2, "NMIs"
    LOGGED 0, 2, .j1
    LOGGED 1, 2, .j1

    CASE "NMI wakes HLT with IF = 0"
    call log_reset
    cli
    EVENT 2, 0
    hlt
.k1:
    CHECK dword [log_n], 1, "NMIs"
    LOGGED 0, 2, .k1

    CASE "MOV SS shadow holds off NMI"
    call log_reset
    mov bx, ss
    EVENT 2, 1
    mov ss, bx
    nop
.l1:
    CHECK dword [log_n], 1, "NMIs"
    LOGGED 0, 2, .l1
    mov dword [handler_hook], 0
    ret

; The first NMI raises a second one inside its handler; it must wait for
; the handler's IRET.
nmi_hook:
    cmp dword [cs:log_n], 0
    jne log_hook
    out 0xE1, al
    jmp log_hook

%include "tail.inc"
