; Data breakpoints in DR0-DR3 (SDM vol. 3, 17.2.4-17.2.5, 17.3.1.2): traps
; taken after the accessing instruction, write-only vs read/write, the
; breakpoint length and alignment, DR6.Bn, and a data breakpoint hit by MOV SS
; that waits for the next instruction (6.8.3) -- even when that instruction
; is an INT n, whose handler then receives the #DB before its first
; instruction, as on Intel hardware.  Then I/O breakpoints (CR4.DE with
; R/W = 10): traps after IN/OUT on a port in the range, and after each
; iteration of REP OUTS (17.3.1.2: "after the completion of the first
; iteration").
%include "lib.inc"
%include "dblog.inc"

; DR7 for breakpoint 1 on `data`: L1, R/W1 (bits 20-21), LEN1 (bits 22-23).
DR7_W4      equ 0x4 | (1 << 20) | (3 << 22)    ; write, 4 bytes
DR7_RW4     equ 0x4 | (3 << 20) | (3 << 22)    ; read/write, 4 bytes
DR7_RW2     equ 0x4 | (3 << 20) | (1 << 22)    ; read/write, 2 bytes
DR7_IO1     equ 0x4 | (2 << 20)                ; I/O (CR4.DE), 1 port
DR7_IO4     equ 0x4 | (2 << 20) | (3 << 22)    ; I/O, 4 ports
CR4_DE      equ 1 << 3

test_main:
    mov dword [handler_hook], log_hook
    mov eax, data
    mov dr1, eax

    CASE "write breakpoint: trap after the write, reads ignored"
    call log_reset
    mov eax, DR7_W4
    mov dr7, eax
.a1: mov [data], eax
.a2: mov eax, [data]
    mov [data + 4], eax                 ; outside the 4 bytes
    mov [data + 3], al                  ; overlaps the last byte
.a3:
    xor eax, eax
    mov dr7, eax
    CHECK dword [log_n], 2, "hits"
    LOGGED 0, 1, .a2
    LOGGED 1, 1, .a3
    mov eax, [log_dr6]
    and eax, 0xE00F
    CHECK eax, 2, "DR6: B1 alone"

    CASE "read/write breakpoint: reads trap too"
    call log_reset
    mov eax, DR7_RW4
    mov dr7, eax
.b1: mov eax, [data + 2]                ; a dword overlapping bytes 2-3
.b2: push dword [data]
.b3: pop eax
    xor eax, eax
    mov dr7, eax
    CHECK dword [log_n], 2, "hits"
    LOGGED 0, 1, .b2
    LOGGED 1, 1, .b3

    CASE "2-byte breakpoint on an aligned word"
    call log_reset
    mov eax, data + 1                   ; aligned down to data
    mov dr1, eax
    mov eax, DR7_RW2
    mov dr7, eax
    mov al, [data + 2]                  ; outside
.c1: mov al, [data]
.c2: xor eax, eax
    mov dr7, eax
    mov eax, data
    mov dr1, eax
    CHECK dword [log_n], 1, "hits"
    LOGGED 0, 1, .c2

    CASE "string instruction access"
    call log_reset
    mov eax, DR7_W4
    mov dr7, eax
    mov edi, data
    xor eax, eax
    cld
.d1: stosd
.d2: xor eax, eax
    mov dr7, eax
    CHECK dword [log_n], 1, "hits"
    LOGGED 0, 1, .d2

    CASE "MOV SS reading a breakpoint: the trap waits one instruction"
    call log_reset
    mov word [data], SEL_DATA0
    mov eax, DR7_RW4
    mov dr7, eax
.e1: mov ss, [data]
.e2: nop
.e3: xor eax, eax
    mov dr7, eax
    CHECK dword [log_n], 1, "hits"
    LOGGED 0, 1, .e3

    CASE "MOV SS then INT n: #DB at the handler's first instruction"
    call log_reset
    mov eax, DR7_RW4
    mov dr7, eax
.f1: mov ss, [data]
.f2: int 0x40
.f3: xor eax, eax
    mov dr7, eax
    CHECK dword [log_n], 2, "events"
    LOGGED 0, 1, exc_stubs + 0x40 * 16
    LOGGED 1, 0x40, .f3

    mov eax, cr4
    or eax, CR4_DE
    mov cr4, eax
    mov eax, 0x80
    mov dr1, eax

    CASE "I/O breakpoint: IN and OUT on the port trap after the instruction"
    call log_reset
    mov eax, DR7_IO1
    mov dr7, eax
.g1: out 0x80, al
.g2: in al, 0x81                       ; outside the one byte
    mov dx, 0x80
.g3: in al, dx
.g4: xor eax, eax
    mov dr7, eax
    CHECK dword [log_n], 2, "hits"
    LOGGED 0, 1, .g2
    LOGGED 1, 1, .g4
    mov eax, [log_dr6]
    and eax, 0xE00F
    CHECK eax, 2, "DR6: B1 alone"

    CASE "I/O breakpoint on four ports: byte and word accesses overlapping it"
    call log_reset
    mov eax, 0x81                       ; aligned down to 0x80
    mov dr1, eax
    mov eax, DR7_IO4
    mov dr7, eax
    out 0x84, al                        ; just outside
.h1: out 0x83, al
.h2: in ax, 0x7F                       ; ports 7F-80
.h3: xor eax, eax
    mov dr7, eax
    CHECK dword [log_n], 2, "hits"
    LOGGED 0, 1, .h2
    LOGGED 1, 1, .h3

    CASE "REP OUTSB: an I/O breakpoint traps after every iteration"
    call log_reset
    mov eax, 0x80
    mov dr1, eax
    mov eax, DR7_IO1
    mov dr7, eax
    mov esi, data
    mov ecx, 3
    mov dx, 0x80
    cld
.i1: rep outsb
.i2: xor eax, eax
    mov dr7, eax
    CHECK dword [log_n], 3, "hits"
    LOGGED 0, 1, .i1
    LOGGED 1, 1, .i1
    LOGGED 2, 1, .i2
    CHECK ecx, 0, "ECX after the REP"
    CHECK esi, data + 3, "ESI after the REP"

    mov eax, cr4
    and eax, ~CR4_DE
    mov cr4, eax
    mov dword [handler_hook], 0
    ret

align 4
data:   dd 0, 0

%include "tail.inc"
