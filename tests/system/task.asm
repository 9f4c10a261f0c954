; Hardware task switching (SDM vol. 3, chapter 7): JMP, CALL, INT and IRET
; through TSS descriptors and task gates, busy bits, NT and the back link
; (7.4), the TSS checks (7.3, table 7-1), an exception with an error code
; through a task gate (vol. 2, INT n, TASK-GATE), 16-bit TSSs, the T bit
; (17.3.1.5), #TS raised after the commit point in the new task, LTR, and
; an I/O bitmap past the TSS limit (vol. 1, 19.5.2).
%include "lib.inc"

TSS_BAD     equ 0x17C00
TSS_TRAP    equ 0x17D00
TSS_SMALL   equ 0x17E00
TSS_DF      equ 0x17B00

T1          equ (FREE_IDX + 0) * 8     ; task A, 32-bit
TG1         equ (FREE_IDX + 1) * 8     ; task gate -> T1
T2          equ (FREE_IDX + 2) * 8     ; task B: #GP handler
T3          equ (FREE_IDX + 3) * 8     ; task C, 16-bit TSS
T_SMALL     equ (FREE_IDX + 4) * 8     ; limit 0x60
T_NP        equ (FREE_IDX + 5) * 8     ; not present
TG_LDT      equ (FREE_IDX + 6) * 8     ; task gate naming an LDT selector
T4          equ (FREE_IDX + 7) * 8     ; #TS handler task
T_BAD       equ (FREE_IDX + 8) * 8     ; CS selector names a data segment
T_TRAP      equ (FREE_IDX + 9) * 8     ; T bit set
TG0         equ (FREE_IDX + 10) * 8    ; task gate -> the (busy) main TSS
T_DF        equ (FREE_IDX + 11) * 8    ; double-fault handler task
S_TINY      equ (FREE_IDX + 12) * 8    ; a 17-byte stack segment

%macro SEG 5
    mov eax, (%1) / 8
    mov ebx, %2
    mov ecx, %3
    mov dl, %4
    mov dh, %5
    call set_desc
%endmacro

%macro TASKGATE 3 ; address of the 8-byte slot, TSS selector, access
    lea edi, [%1]
    xor eax, eax
    mov bx, %2
    mov cl, %3
    xor ch, ch
    call set_gate
%endmacro

; MKTSS address, eip, esp: a ring-0 32-bit TSS with flat segments.
%macro MKTSS 3
    mov edi, %1
    mov eax, %2
    mov ebx, %3
    call make_tss
%endmacro

test_main:
    MKTSS TSS1, task_a, STACK_T
    MKTSS TSS2, task_b, STACK_T - 0x1000
    MKTSS TSS4, task_rec, STACK_T - 0x2000
    MKTSS TSS_BAD, fail, STACK_T - 0x3000
    mov word [TSS_BAD + 0x4C], SEL_DATA0     ; CS: a data segment
    MKTSS TSS_TRAP, task_d, STACK_T - 0x4000
    mov word [TSS_TRAP + 0x64], 1            ; T
    SEG T1, TSS1, 0x67, 0x89, 0
    TASKGATE gdt + TG1, T1, 0x85
    SEG T2, TSS2, 0x67, 0x89, 0
    SEG T3, TSS3, 0x2B, 0x81, 0
    SEG T_SMALL, TSS_SMALL, 0x60, 0x89, 0
    SEG T_NP, TSS1, 0x67, 0x09, 0
    TASKGATE gdt + TG_LDT, T1 | 4, 0x85
    SEG T4, TSS4, 0x67, 0x89, 0
    SEG T_BAD, TSS_BAD, 0x67, 0x89, 0
    SEG T_TRAP, TSS_TRAP, 0x67, 0x89, 0
    TASKGATE gdt + TG0, SEL_TSS0, 0x85
    MKTSS TSS_DF, task_df, STACK_T - 0x5000
    SEG T_DF, TSS_DF, 0x67, 0x89, 0
    SEG S_TINY, 0x60000, 0x10, 0x92, 0x4

    ; ---- JMP to a TSS and back (7.3) ----
    CASE "JMP to a TSS"
    mov ebp, 0x5EB05EB0
    mov esi, 0x51515151
    jmp T1:0
.after1:
    CHECK dword [a_step], 1, "task A ran"
    CHECK ebp, 0x5EB05EB0, "EBP restored from the main TSS"
    CHECK esi, 0x51515151, "ESI restored"
    CHECK dword [a_tr], T1, "TR in task A"
    mov eax, [a_flags]
    and eax, 0x4000
    CHECK eax, 0, "NT in task A after JMP"
    CHECK dword [TSS0 + 0x20], .after1, "EIP saved in the main TSS"
    CHECK dword [TSS1 + 0x20], task_a.step2, "EIP saved in task A's TSS"
    mov eax, cr0
    and eax, 8
    CHECK eax, 8, "CR0.TS"
    clts
    mov bx, T1
    lar eax, bx
    CHECK eax, 0x8900, "task A's TSS available again"
    mov bx, SEL_TSS0
    lar eax, bx
    CHECK eax, 0x8B00, "main TSS busy"

    ; ---- CALL: nesting, back link, busy bits, IRET back (7.4) ----
    CASE "CALL to a TSS, IRET back"
    call T1:0
.after2:
    CHECK dword [a_step], 2, "task A ran"
    mov eax, [a_flags]
    and eax, 0x4000
    CHECK eax, 0x4000, "NT in task A after CALL"
    CHECK dword [a_link], SEL_TSS0, "back link"
    CHECK dword [a_lar_self], 0x8B00, "task A busy while it runs"
    CHECK dword [a_lar_main], 0x8B00, "main TSS still busy (nested)"
    mov bx, T1
    lar eax, bx
    CHECK eax, 0x8900, "task A available after IRET"
    pushfd
    pop eax
    and eax, 0x4000
    CHECK eax, 0, "NT in the main task"

    ; ---- INT n through a task gate ----
    CASE "INT through a task gate"
    TASKGATE IDT_ADDR + 0x50 * 8, T1, 0x85
    int 0x50
.after3:
    CHECK dword [a_step], 3, "task A ran"
    CHECK dword [a_link], SEL_TSS0, "back link"
    CHECK dword [TSS0 + 0x20], .after3, "EIP saved: after INT"

    ; ---- Busy, too small, not present, bad gate (7.3, table 7-1) ----
    CASE "JMP to the busy main TSS: #GP(sel)"
    TRY .b4
.f4: jmp SEL_TSS0:0
.b4: EXPECT_EXC 13, SEL_TSS0, .f4

    CASE "CALL through a task gate to a busy TSS: #GP(TSS)"
    TRY .b5
.f5: call TG0:0
.b5: EXPECT_EXC 13, SEL_TSS0, .f5

    CASE "TSS limit below 0x67: #TS(sel)"
    TRY .b6
.f6: jmp T_SMALL:0
.b6: EXPECT_EXC 10, T_SMALL, .f6

    CASE "TSS not present: #NP(sel)"
    TRY .b7
.f7: jmp T_NP:0
.b7: EXPECT_EXC 11, T_NP, .f7

    CASE "task gate naming an LDT selector: #GP(TSS sel)"
    TRY .b8
.f8: jmp TG_LDT:0
.b8: EXPECT_EXC 13, T1 | 4, .f8

    ; ---- An exception through a task gate, error code on the new stack ----
    CASE "#GP through a task gate"
    TASKGATE IDT_ADDR + 13 * 8, T2, 0x85
    mov ax, 0x208
.f9: mov ds, ax
    jmp fail
.task_b_resume:
    mov ax, SEL_DATA0
    mov ds, ax
    mov eax, exc_stubs + 13 * 16
    mov ebx, eax
    mov eax, 13
    mov cl, 0x8E
    call set_idt
    CHECK dword [b_err], 0x208, "error code on task B's stack"
    CHECK dword [b_esp], STACK_T - 0x1000 - 4, "task B's ESP"
    CHECK dword [b_link], SEL_TSS0, "back link"
    CHECK dword [b_eip], .f9, "saved EIP: the faulting instruction"

    ; ---- 16-bit TSS ----
    CASE "16-bit TSS"
    mov esi, task_c
    mov edi, 0x7000
    mov ecx, task_c_end - task_c
    rep movsb
    mov edi, TSS3
    xor eax, eax
    mov ecx, 0x2C / 4
    rep stosd
    mov word [TSS3 + 0x0E], 0x7000          ; IP
    mov word [TSS3 + 0x10], 0x0002          ; FLAGS
    mov word [TSS3 + 0x1A], 0x6F00          ; SP
    mov word [TSS3 + 0x22], SEL_DATA0       ; ES
    mov word [TSS3 + 0x24], SEL_CODE0       ; CS
    mov word [TSS3 + 0x26], SEL_DATA0       ; SS
    mov word [TSS3 + 0x28], SEL_DATA0       ; DS
    mov dword [0x7100], 0
    jmp T3:0
    CHECK dword [0x7100], 0x16161616, "task C ran"
    movzx eax, word [TSS3 + 0x0E]
    CHECK eax, 0x7000 + task_c_end - task_c, "IP saved in the 16-bit TSS"

    ; ---- T bit: #DB before the new task's first instruction ----
    CASE "T bit in the TSS"
    mov eax, 0
    mov dr6, eax
    mov dword [handler_hook], trap_hook
    jmp T_TRAP:0
    mov dword [handler_hook], 0
    CHECK dword [hook_vec], 1, "vector"
    CHECK dword [hook_eip], task_d, "EIP: task D's first instruction"
    mov eax, [hook_dr6]
    and eax, 0xE00F
    CHECK eax, 0x8000, "DR6.BT"
    CHECK dword [d_ran], 1, "task D ran"

    ; ---- #TS after the commit point, in the new task's context ----
    CASE "CS naming a data segment: #TS in the new task"
    TASKGATE IDT_ADDR + 10 * 8, T4, 0x85
    jmp T_BAD:0
    mov ax, SEL_DATA0
    mov ds, ax
    mov eax, 10
    mov ebx, exc_stubs + 10 * 16
    mov cl, 0x8E
    call set_idt
    CHECK dword [r_err], SEL_DATA0, "error code"
    CHECK dword [r_link], T_BAD, "back link: the task that faulted"

    ; ---- #DF through a task gate: a stack that overflows ----
    CASE "#GP with no room on the stack: #SS, #DF through a task gate"
    TASKGATE IDT_ADDR + 8 * 8, T_DF, 0x85
    mov [df_esp], esp
    mov ax, S_TINY
    mov ss, ax
    mov esp, 8
    mov ax, 0x208
.fdf: mov ds, ax
    jmp fail
.df_back:
    mov eax, 8
    mov ebx, exc_stubs + 8 * 16
    mov cl, 0x8E
    call set_idt
    CHECK dword [df_err], 0, "#DF error code"
    CHECK dword [df_link], SEL_TSS0, "back link"
    CHECK dword [df_eip], .fdf, "EIP saved: the instruction that faulted"
    CHECK dword [df_ss], S_TINY, "SS saved"

    ; ---- IRET with NT and a back link to an available TSS ----
    CASE "IRET to a task that is not busy: #TS(link)"
    mov word [TSS0], T1
    TRY .b10
    pushfd
    or dword [esp], 0x4000
    popfd
.f10: iret
.b10: EXPECT_EXC 10, T1, .f10

    ; ---- LTR (vol. 2, LTR) ----
    CASE "LTR of a busy TSS: #GP(sel)"
    TRY .b11
    mov ax, SEL_TSS0
.f11: ltr ax
.b11: EXPECT_EXC 13, SEL_TSS0, .f11
    CASE "LTR of a data segment: #GP(sel)"
    TRY .b12
    mov ax, SEL_DATA0
.f12: ltr ax
.b12: EXPECT_EXC 13, SEL_DATA0, .f12
    CASE "LTR null: #GP(0)"
    TRY .b13
    xor eax, eax
.f13: ltr ax
.b13: EXPECT_EXC 13, 0, .f13
    CASE "LTR not present: #NP(sel)"
    TRY .b14
    mov ax, T_NP
.f14: ltr ax
.b14: EXPECT_EXC 11, T_NP, .f14

    ; ---- I/O bitmap offset past the TSS limit ----
    CASE "I/O bitmap beyond the TSS limit: all ports denied"
    mov word [TSS0 + 0x66], 0xFFFF
    TRY .b15
    mov eax, .r3_15
    jmp to_ring3
.r3_15:
.f15: in al, 0xE9
.b15: mov word [TSS0 + 0x66], TSS0_IOMAP
    EXPECT_EXC 13, 0, .f15
    ret

; ---- Tasks --------------------------------------------------------------------

task_a:
    call a_record
    mov dword [a_step], 1
    jmp SEL_TSS0:0
.step2:
    call a_record
    mov dword [a_step], 2
    iret
.step3:
    call a_record
    mov dword [a_step], 3
    iret
    jmp fail

a_record:
    pushfd
    pop dword [a_flags]
    str eax
    mov [a_tr], eax
    movzx eax, word [TSS1]
    mov [a_link], eax
    mov bx, T1
    lar eax, bx
    mov [a_lar_self], eax
    mov bx, SEL_TSS0
    lar eax, bx
    mov [a_lar_main], eax
    ret

task_b:
    mov eax, [esp]
    mov [b_err], eax
    mov [b_esp], esp
    movzx eax, word [TSS2]
    mov [b_link], eax
    mov eax, [TSS0 + 0x20]
    mov [b_eip], eax
    mov dword [TSS0 + 0x20], test_main.task_b_resume
    add esp, 4
    iret

task_d:
    mov dword [d_ran], 1
    jmp SEL_TSS0:0

; Double-fault task: record, repair the interrupted task's stack and EIP
; in its TSS, return to it.
task_df:
    mov eax, [esp]
    mov [df_err], eax
    movzx eax, word [TSS_DF]
    mov [df_link], eax
    mov eax, [TSS0 + 0x20]
    mov [df_eip], eax
    movzx eax, word [TSS0 + 0x50]
    mov [df_ss], eax
    mov dword [TSS0 + 0x50], SEL_DATA0
    mov eax, [df_esp]
    mov [TSS0 + 0x38], eax
    mov dword [TSS0 + 0x20], test_main.df_back
    add esp, 4
    iret

task_rec:
    mov eax, [esp]
    mov [r_err], eax
    movzx eax, word [TSS4]
    mov [r_link], eax
    jmp SEL_TSS0:0

; Copied to 0x7000 and run through the 16-bit TSS (IP is 16 bits).
task_c:
    mov dword [0x7100], 0x16161616
    jmp SEL_TSS0:0
task_c_end:

trap_hook:
    push eax
    mov eax, [got_vec]
    mov [hook_vec], eax
    mov eax, [esp + 4]
    mov [hook_eip], eax
    mov eax, dr6
    mov [hook_dr6], eax
    mov dword [handler_hook], 0
    pop eax
    iret

; edi: TSS address, eax: EIP, ebx: ESP.
make_tss:
    push eax
    push edi
    xor eax, eax
    mov ecx, 0x68 / 4
    rep stosd
    pop edi
    pop eax
    mov [edi + 0x20], eax
    mov dword [edi + 0x24], 2
    mov [edi + 0x38], ebx
    mov [edi + 0x04], ebx
    mov dword [edi + 0x08], SEL_DATA0
    mov dword [edi + 0x48], SEL_DATA0
    mov dword [edi + 0x4C], SEL_CODE0
    mov dword [edi + 0x50], SEL_DATA0
    mov dword [edi + 0x54], SEL_DATA0
    mov dword [edi + 0x58], SEL_DATA0
    mov dword [edi + 0x5C], SEL_DATA0
    mov word [edi + 0x66], 0x68
    ret

align 4
a_step:     dd 0
a_flags:    dd 0
a_tr:       dd 0
a_link:     dd 0
a_lar_self: dd 0
a_lar_main: dd 0
b_err:      dd 0
b_esp:      dd 0
b_link:     dd 0
b_eip:      dd 0
d_ran:      dd 0
r_err:      dd 0
r_link:     dd 0
hook_vec:   dd 0
hook_eip:   dd 0
hook_dr6:   dd 0
df_esp:     dd 0
df_err:     dd 0
df_link:    dd 0
df_eip:     dd 0
df_ss:      dd 0

%include "tail.inc"
