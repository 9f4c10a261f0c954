; Model-specific registers (SDM vol. 4, table 2-2; vol. 3, 11.11 MTRRs,
; 11.12 PAT) and SYSENTER/SYSEXIT (vol. 2; vol. 3, 5.8.7): reset values,
; read-back, #GP(0) for reserved bits, unknown MSRs and CPL > 0.
%include "lib.inc"

; RDMSR_IS msr, edx, eax
%macro RDMSR_IS 3
    mov ecx, %1
    rdmsr
    CHECK edx, %2, "MSR high half"
    CHECK eax, %3, "MSR low half"
%endmacro

; WRMSR_GP msr, edx, eax: the write raises #GP(0).
%macro WRMSR_GP 3
    TRY %%back
    mov ecx, %1
    mov edx, %2
    mov eax, %3
%%f: wrmsr
    jmp fail
%%back:
    EXPECT_EXC 13, 0, %%f
%endmacro

; WRMSR_OK msr, edx, eax: written and read back.
%macro WRMSR_OK 3
    mov ecx, %1
    mov edx, %2
    mov eax, %3
    wrmsr
    RDMSR_IS %1, %2, %3
%endmacro

test_main:
    CASE "reset values"
    RDMSR_IS 0x17, 0, 0                      ; IA32_PLATFORM_ID
    RDMSR_IS 0x8B, 0, 0                      ; IA32_BIOS_SIGN_ID
    RDMSR_IS 0x1B, 0, 0xFEE00100             ; IA32_APIC_BASE: BSP, disabled
    RDMSR_IS 0xFE, 0, 0x508                  ; MTRRcap: 8 variable, fixed, WC
    RDMSR_IS 0x2FF, 0, 0                     ; MTRRdefType
    RDMSR_IS 0x277, 0x00070406, 0x00070406   ; PAT
    RDMSR_IS 0xC0000080, 0, 0                ; EFER
    RDMSR_IS 0x174, 0, 0

    CASE "TSC MSR follows RDTSC"
    rdtsc
    mov ebx, eax
    mov ecx, 0x10
    rdmsr
    sub eax, ebx
    cmp eax, 100
    jae fail
    CASE "TSC MSR write"
    xor edx, edx
    mov eax, 0x10000000
    mov ecx, 0x10
    wrmsr
    rdtsc
    sub eax, 0x10000000
    cmp eax, 100
    jae fail

    CASE "EFER: NXE only"
    WRMSR_OK 0xC0000080, 0, 0x800
    WRMSR_GP 0xC0000080, 0, 0x801
    WRMSR_GP 0xC0000080, 0, 0x100            ; LME does not exist here
    WRMSR_OK 0xC0000080, 0, 0

    CASE "PAT"
    WRMSR_OK 0x277, 0x07050401, 0x00010600
    WRMSR_GP 0x277, 0, 0x02                  ; type 2 is reserved
    WRMSR_GP 0x277, 0x08000000, 0
    WRMSR_OK 0x277, 0x00070406, 0x00070406

    CASE "MTRRs"
    WRMSR_GP 0xFE, 0, 0x508                  ; MTRRcap is read-only
    WRMSR_OK 0x2FF, 0, 0xC06
    WRMSR_GP 0x2FF, 0, 0x1006
    WRMSR_GP 0x2FF, 0, 0x0C03                ; type 3 is reserved
    WRMSR_OK 0x200, 0x0000000F, 0xFFF00006   ; PHYSBASE0: WB at 0xFFFF00000
    WRMSR_GP 0x200, 0x00000010, 0x00000006   ; beyond 36 physical bits
    WRMSR_GP 0x200, 0, 0x00000106            ; reserved bit 8
    WRMSR_OK 0x201, 0x0000000F, 0xFFF00800   ; PHYSMASK0, valid
    WRMSR_GP 0x201, 0, 0x00000400
    WRMSR_OK 0x20F, 0, 0
    WRMSR_OK 0x250, 0x06060606, 0x06060606   ; fixed 64K
    WRMSR_OK 0x258, 0x01010101, 0x01010101
    WRMSR_OK 0x259, 0x00000000, 0x05050505
    WRMSR_OK 0x268, 0x04040404, 0x04040404
    WRMSR_OK 0x26F, 0x06060606, 0x06060606
    WRMSR_GP 0x26F, 0x02000000, 0

    CASE "IA32_MISC_ENABLE, BIOS_SIGN_ID, APIC_BASE writes"
    RDMSR_IS 0x1A0, 0, 1
    WRMSR_OK 0x1A0, 0, 0x89
    mov ecx, 0x8B
    xor eax, eax
    xor edx, edx
    wrmsr                                    ; accepted, reads back 0
    RDMSR_IS 0x8B, 0, 0
    WRMSR_GP 0x17, 0, 0                      ; PLATFORM_ID is read-only
    WRMSR_OK 0x1B, 0, 0xFED00900
    WRMSR_GP 0x1B, 0, 0xFEE00001

    CASE "unknown MSRs: #GP(0)"
    TRY .b1
    mov ecx, 0x12345
.f1: rdmsr
    jmp fail
.b1: EXPECT_EXC 13, 0, .f1
    WRMSR_GP 0xC0000081, 0, 0                ; STAR: no SYSCALL here

    CASE "RDMSR at CPL 3: #GP(0)"
    TRY .b2
    mov eax, .r3_2
    jmp to_ring3
.r3_2:
    mov ecx, 0x10
.f2: rdmsr
.b2: EXPECT_EXC 13, 0, .f2

    ; ---- SYSENTER / SYSEXIT (the GDT has the layout they assume) ----
    CASE "SYSENTER with SYSENTER_CS = 0: #GP(0)"
    TRY .b3
    mov eax, .r3_3
    jmp to_ring3
.r3_3:
.f3: sysenter
.b3: EXPECT_EXC 13, 0, .f3

    CASE "SYSENTER and SYSEXIT"
    mov ecx, 0x174
    xor edx, edx
    mov eax, SEL_CODE0
    wrmsr
    mov ecx, 0x175
    mov eax, STACK0 - 0x100
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_entry
    wrmsr
    TRY .b4
    push dword SEL_DATA3
    push dword STACK3
    push dword 0x202                    ; IF = 1: SYSENTER clears it
    push dword SEL_CODE3
    push dword .r3_4
    iret
.r3_4:
    mov ecx, esp
    mov edx, .back3
    sysenter
.back3:
    mov eax, cs
    mov [ss:r3_cs], eax
    mov eax, ss
    mov [ss:r3_ss], eax
    mov [ss:r3_esp], esp
    int 0x80
.b4:
    CHECK dword [k_cs], SEL_CODE0, "CS after SYSENTER"
    CHECK dword [k_ss], SEL_DATA0, "SS after SYSENTER"
    CHECK dword [k_esp], STACK0 - 0x100, "ESP after SYSENTER"
    mov eax, [k_flags]
    and eax, 0x200
    CHECK eax, 0, "IF cleared"
    CHECK dword [r3_cs], SEL_CODE3, "CS after SYSEXIT"
    CHECK dword [r3_ss], SEL_DATA3, "SS after SYSEXIT"
    CHECK dword [r3_esp], STACK3, "ESP after SYSEXIT"
    CHECK dword [got_frame + 4], SEL_CODE3, "still at CPL 3"

    CASE "SYSEXIT at CPL 3: #GP(0)"
    TRY .b5
    mov eax, .r3_5
    jmp to_ring3
.r3_5:
.f5: sysexit
.b5: EXPECT_EXC 13, 0, .f5
    ret

sysenter_entry:
    mov eax, cs
    mov [ss:k_cs], eax
    mov eax, ss
    mov [ss:k_ss], eax
    mov [ss:k_esp], esp
    pushfd
    pop dword [ss:k_flags]
    sysexit

align 4
k_cs:       dd 0
k_ss:       dd 0
k_esp:      dd 0
k_flags:    dd 0
r3_cs:      dd 0
r3_ss:      dd 0
r3_esp:     dd 0

%include "tail.inc"
