; Virtual-8086 mode (SDM vol. 3, chapter 20): entry through IRET with
; VM = 1 (vol. 2, IRET, RETURN-TO-VIRTUAL-8086-MODE), the IOPL-sensitive
; instructions at IOPL < 3 (20.2.7), INT n through the IDT to ring 0 with
; GS FS DS ES pushed and zeroed (20.3.1.1; vol. 2, INT n), I/O through the
; bitmap whatever the IOPL (20.2.8.1), 8086 segment arithmetic and the
; 64 KiB limit, VME (20.3.3: VIF, VIP, the interrupt redirection bitmap),
; PVI (20.4), and a task switch into a V86 task (20.2.5).
%include "lib.inc"

V86_SEG     equ V86_BASE >> 4
V86_SP      equ 0xFFF0
VDS         equ 0x2100          ; V86 data segments: linear 0x21000...
VES         equ 0x2200
VFS         equ 0x2300
VGS         equ 0x2400
VDATA       equ VDS << 4        ; where V86 code stores its results
VM_FLAG     equ 0x20000
VIF_FLAG    equ 0x80000
VIP_FLAG    equ 0x100000
TSS_V86     equ 0x17C00
T_V86       equ (FREE_IDX + 0) * 8

%define OFF(x) ((x) - v86_blob)

; V86 entry-point, EFLAGS (VM added): enter V86 mode at V86_SEG:entry.
%macro V86 2
    mov eax, OFF(%1)
    mov ebx, %2
    call enter_v86
%endmacro

; The V86 #GP frame: vector 13, error 0, the IP of entry point %1.
%macro EXPECT_V86_GP 1
    CHECK dword [got_vec], 13, "vector"
    CHECK dword [got_frame], 0, "error code"
    CHECK dword [got_frame + 4], OFF(%1), "IP"
    CHECK dword [got_frame + 8], V86_SEG, "CS"
%endmacro

test_main:
    mov esi, v86_blob
    mov edi, V86_BASE
    mov ecx, v86_blob_end - v86_blob
    rep movsb

    ; ---- IOPL 0: the sensitive instructions fault (20.2.7) ----
    CASE "CLI in V86 at IOPL 0: #GP(0), frame with GS FS DS ES"
    TRY .b1
    V86 v86_blob.cli, 0
.b1:
    EXPECT_V86_GP v86_blob.cli
    mov eax, [got_frame + 12]
    and eax, VM_FLAG | 0x3000
    CHECK eax, VM_FLAG, "EFLAGS: VM, IOPL 0"
    CHECK dword [got_frame + 16], V86_SP, "ESP"
    CHECK dword [got_frame + 20], V86_SEG, "SS"
    CHECK dword [got_frame + 24], VES, "ES"
    CHECK dword [got_frame + 28], VDS, "DS"
    CHECK dword [got_frame + 32], VFS, "FS"
    CHECK dword [got_frame + 36], VGS, "GS"
    CHECK dword [got_esp], STACK0 - 40, "ring-0 ESP"
    CHECK dword [got_segs_in], 0, "ES in the handler"
    CHECK dword [got_segs_in + 4], 0, "FS in the handler"
    CHECK dword [got_segs_in + 8], 0, "GS in the handler"
    CHECK dword [got_segs_in + 12], 0, "DS in the handler"

    CASE "INT n at IOPL 0: #GP(0)"
    TRY .b2
    V86 v86_blob.intn, 0
.b2: EXPECT_V86_GP v86_blob.intn
    CASE "PUSHF at IOPL 0: #GP(0)"
    TRY .b3
    V86 v86_blob.pushf, 0
.b3: EXPECT_V86_GP v86_blob.pushf
    CASE "POPF at IOPL 0: #GP(0)"
    TRY .b4
    V86 v86_blob.popf, 0
.b4: EXPECT_V86_GP v86_blob.popf
    CASE "STI at IOPL 0: #GP(0)"
    TRY .b5
    V86 v86_blob.sti, 0
.b5: EXPECT_V86_GP v86_blob.sti
    CASE "IRET at IOPL 0: #GP(0)"
    TRY .b6
    V86 v86_blob.iret, 0
.b6: EXPECT_V86_GP v86_blob.iret
    CASE "HLT at IOPL 3: #GP(0)"
    TRY .b7
    V86 v86_blob.hlt, 0x3000
.b7: EXPECT_V86_GP v86_blob.hlt

    ; ---- IOPL 3: the flag instructions work ----
    CASE "CLI STI PUSHF POPF IRET at IOPL 3"
    TRY .b8
    V86 v86_blob.iopl3, 0x3000
.b8: EXPECT_V86_GP v86_blob.iopl3_end
    movzx eax, word [VDATA + 0x10]
    and eax, 0x3200
    CHECK eax, 0x3000, "FLAGS after CLI"
    movzx eax, word [VDATA + 0x12]
    and eax, 0x3200
    CHECK eax, 0x3200, "FLAGS after STI"
    movzx eax, word [VDATA + 0x14]
    and eax, 0x3200
    CHECK eax, 0x3000, "POPF: IOPL kept, IF loaded"
    movzx eax, word [VDATA + 0x16]
    CHECK eax, 0x1111, "IRET reached its target"

    ; ---- INT n to ring 0 through the IDT and IRET back (20.3.1.1) ----
    CASE "INT 0x80 from V86: ring-0 handler, IRET back to V86"
    mov dword [handler_hook], int80_hook
    TRY .b9
    V86 v86_blob.int80, 0x3000
.b9: EXPECT_V86_GP v86_blob.int80_end
    CHECK dword [v80_frame], OFF(v86_blob.int80_ret), "IP after INT"
    CHECK dword [v80_frame + 4], V86_SEG, "CS"
    mov eax, [v80_frame + 8]
    and eax, VM_FLAG | 0x3000
    CHECK eax, VM_FLAG | 0x3000, "EFLAGS"
    CHECK dword [v80_frame + 16], V86_SEG, "SS"
    CHECK dword [v80_frame + 20], VES, "ES"
    CHECK dword [v80_frame + 24], VDS, "DS"
    CHECK dword [v80_frame + 28], VFS, "FS"
    CHECK dword [v80_frame + 32], VGS, "GS"
    CHECK dword [v80_segs], 0, "ES in the handler"
    CHECK dword [v80_segs + 12], 0, "DS in the handler"
    CHECK dword [v80_cs], SEL_CODE0, "handler CS"
    movzx eax, word [VDATA + 0x18]
    CHECK eax, 0xBEEF, "V86 code ran after the IRET"

    ; ---- I/O: the bitmap decides even at IOPL 3 (20.2.8.1) ----
    CASE "IN from a denied port in V86 at IOPL 3: #GP(0)"
    TRY .b10
    V86 v86_blob.io, 0x3000
.b10: EXPECT_V86_GP v86_blob.io_bad

    ; ---- 8086 segments ----
    CASE "V86 segment arithmetic and the 64 KiB limit"
    mov word [0x25006], 0
    TRY .b11
    V86 v86_blob.seg, 0
.b11: EXPECT_V86_GP v86_blob.seg_bad
    movzx eax, word [0x25006]
    CHECK eax, 0x5678, "ES = 0x2500 writes linear 0x25006"

    ; ---- VME (20.3.3) ----
    CASE "CR4.VME"
    TRY .novme
    mov eax, cr4
    or eax, 3                           ; VME, PVI
    mov cr4, eax
    mov dword [resume_eip], 0
    jmp .vme
.novme:
    PRINT "CR4.VME not writable: VME and PVI not tested", 10
    jmp .task
.vme:
    CASE "VME: STI and CLI change VIF, PUSHF shows VIF as IF"
    TRY .b12
    V86 v86_blob.vme_flags, 0
.b12: EXPECT_V86_GP v86_blob.vme_flags_end
    movzx eax, word [VDATA + 0x20]
    and eax, 0x3200
    CHECK eax, 0x3200, "PUSHF after STI: IF = VIF = 1, IOPL = 3"
    movzx eax, word [VDATA + 0x22]
    and eax, 0x3200
    CHECK eax, 0x3000, "PUSHF after CLI: IF = VIF = 0"
    mov eax, [got_frame + 12]
    and eax, VIF_FLAG | 0x3200
    CHECK eax, 0, "real IF and IOPL unchanged, VIF clear"

    CASE "VME: STI sets VIF"
    TRY .b13
    V86 v86_blob.vme_sti, 0
.b13: EXPECT_V86_GP v86_blob.vme_sti_end
    mov eax, [got_frame + 12]
    and eax, VIF_FLAG | 0x200
    CHECK eax, VIF_FLAG, "VIF set, IF clear"

    CASE "VME: STI with VIP set: #GP(0)"
    TRY .b14
    V86 v86_blob.sti, VIP_FLAG
.b14: EXPECT_V86_GP v86_blob.sti

    CASE "VME: POPF setting TF: #GP(0)"
    TRY .b15
    V86 v86_blob.vme_popf_tf, 0
.b15: EXPECT_V86_GP v86_blob.vme_popf_tf_bad

    CASE "VME: 32-bit PUSHF: #GP(0)"
    TRY .b16
    V86 v86_blob.pushfd, 0
.b16: EXPECT_V86_GP v86_blob.pushfd

    CASE "VME: INT n redirected to the 8086 handler"
    and byte [TSS0 + TSS0_REDIR + 0x21 / 8], ~(1 << (0x21 & 7))
    mov word [0x21 * 4], OFF(v86_blob.isr)
    mov word [0x21 * 4 + 2], V86_SEG
    TRY .b17
    V86 v86_blob.redir, VIF_FLAG
.b17: EXPECT_V86_GP v86_blob.redir_end
    or byte [TSS0 + TSS0_REDIR + 0x21 / 8], 1 << (0x21 & 7)
    movzx eax, word [VDATA + 0x24]
    and eax, 0x3200
    CHECK eax, 0x3200, "pushed FLAGS: IF = VIF, IOPL = 3"
    movzx eax, word [VDATA + 0x26]
    and eax, 0x200
    CHECK eax, 0, "VIF cleared in the handler"
    movzx eax, word [VDATA + 0x28]
    and eax, 0x200
    CHECK eax, 0x200, "VIF restored by IRET"
    movzx eax, word [VDATA + 0x2A]
    CHECK eax, OFF(v86_blob.redir_ret), "pushed IP"

    CASE "VME: INT n with its bitmap bit set at IOPL 0: #GP(0)"
    TRY .b18
    V86 v86_blob.intn, 0
.b18: EXPECT_V86_GP v86_blob.intn

    ; ---- PVI: CLI/STI at CPL 3 in protected mode (20.4) ----
    CASE "PVI: STI at CPL 3 sets VIF"
    TRY .b19
    mov eax, .r3_19
    jmp to_ring3
.r3_19:
    sti
    int 0x80
.b19:
    mov eax, [got_frame + 8]
    and eax, VIF_FLAG | 0x200
    CHECK eax, VIF_FLAG, "VIF set, IF clear"
    CASE "PVI: CLI at CPL 3 clears VIF"
    TRY .b20
    mov eax, .r3_20
    jmp to_ring3
.r3_20:
    sti
    cli
    int 0x80
.b20:
    mov eax, [got_frame + 8]
    and eax, VIF_FLAG | 0x200
    CHECK eax, 0, "VIF clear"
    mov eax, cr4
    and eax, ~3
    mov cr4, eax

    ; ---- A task switch into a V86 task (last: TR stays on that task) ----
.task:
    CASE "JMP to a TSS with VM set"
    mov edi, TSS_V86
    xor eax, eax
    mov ecx, 0x68 / 4
    rep stosd
    mov dword [TSS_V86 + 0x04], STACK0
    mov dword [TSS_V86 + 0x08], SEL_DATA0
    mov dword [TSS_V86 + 0x20], OFF(v86_blob.task)
    mov dword [TSS_V86 + 0x24], VM_FLAG | 2
    mov dword [TSS_V86 + 0x38], V86_SP
    mov dword [TSS_V86 + 0x48], VES
    mov dword [TSS_V86 + 0x4C], V86_SEG
    mov dword [TSS_V86 + 0x50], V86_SEG
    mov dword [TSS_V86 + 0x54], VDS
    mov dword [TSS_V86 + 0x58], VFS
    mov dword [TSS_V86 + 0x5C], VGS
    mov word [TSS_V86 + 0x66], 0x68
    mov eax, T_V86 / 8
    mov ebx, TSS_V86
    mov ecx, 0x67
    mov dl, 0x89
    mov dh, 0
    call set_desc
    mov word [VDATA + 0x30], 0
    TRY .b21
    jmp T_V86:0
.b21: EXPECT_V86_GP v86_blob.task_end
    movzx eax, word [VDATA + 0x30]
    CHECK eax, 0x7777, "the V86 task ran"
    str eax
    CHECK eax, T_V86, "TR"
    ret

; Enter V86 mode at V86_SEG:eax with EFLAGS = VM | ebx | 2.
enter_v86:
    push dword VGS
    push dword VFS
    push dword VDS
    push dword VES
    push dword V86_SEG
    push dword V86_SP
    or ebx, VM_FLAG | 2
    push ebx
    push dword V86_SEG
    push eax
    iret

; INT 0x80 from V86: keep the frame, return with IRET.
int80_hook:
    push ds                             ; null: V86 delivery cleared it
    push eax
    push ecx
    mov ax, SEL_DATA0
    mov ds, ax
    xor ecx, ecx
.copy:
    mov eax, [got_frame + ecx * 4]
    mov [v80_frame + ecx * 4], eax
    mov eax, [got_segs_in + ecx * 4]
    mov [v80_segs + ecx * 4], eax
    inc ecx
    cmp ecx, 9
    jb .copy
    mov eax, cs
    mov [v80_cs], eax
    mov dword [handler_hook], 0
    pop ecx
    pop eax
    pop ds
    iret

; ---- V86 code, copied to V86_BASE ------------------------------------------------
bits 16
v86_blob:
.cli:   cli
        hlt
.intn:  int 0x21
        hlt
.pushf: pushf
        hlt
.popf:  popf
        hlt
.sti:   sti
        hlt
.iret:  iret
.hlt:   hlt
.iopl3:
    cli
    pushf
    pop ax
    mov [0x10], ax
    sti
    pushf
    pop ax
    mov [0x12], ax
    push word 0x0002
    popf
    pushf
    pop ax
    mov [0x14], ax
    pushf
    push cs
    push word OFF(.iret_target)
    iret
    hlt
.iret_target:
    mov word [0x16], 0x1111
.iopl3_end:
    hlt
.int80:
    int 0x80
.int80_ret:
    mov word [0x18], 0xBEEF
.int80_end:
    hlt
.io:
    in al, 0xE9
.io_bad:
    in al, 0x80
    hlt
.seg:
    mov ax, 0x2500
    mov es, ax
    mov word [es:6], 0x5678
.seg_bad:
    mov ax, [0xFFFF]
    hlt
.vme_flags:
    sti
    pushf
    pop ax
    mov [0x20], ax
    cli
    pushf
    pop ax
    mov [0x22], ax
.vme_flags_end:
    hlt
.vme_sti:
    sti
.vme_sti_end:
    hlt
.vme_popf_tf:
    push word 0x0102
.vme_popf_tf_bad:
    popf
    hlt
.pushfd:
    pushfd
    hlt
.redir:
    int 0x21
.redir_ret:
    pushf
    pop ax
    mov [0x28], ax
.redir_end:
    hlt
.isr:
    mov bp, sp
    mov ax, [bp + 4]
    mov [0x24], ax
    mov ax, [bp]
    mov [0x2A], ax
    pushf
    pop ax
    mov [0x26], ax
    iret
.task:
    mov word [0x30], 0x7777
.task_end:
    hlt
v86_blob_end:
bits 32

align 4
v80_frame:  times 9 dd 0
v80_segs:   times 9 dd 0
v80_cs:     dd 0

%include "tail.inc"
