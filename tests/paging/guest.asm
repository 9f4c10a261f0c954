; Guest-side paging test, run by test_paging.c (test_guest_program): loaded
; at 0x1000 in flat 32-bit protected mode at CPL 0, with IA32_EFER.NXE set by
; the host; runs until HLT.
;
; The guest builds its own page tables, turns paging on with MOV to CR0 and
; lets its #PF handler repair each fault (map a frame, make a page writable,
; clear XD), logging CR2 and the error code.  First with 32-bit paging
; (demand paging, CR0.WP, INVLPG, a 4 MiB page), then with PAE paging
; (demand paging, execute-disable, a write crossing into a read-only page).
; The host compares the log at RESULTS and the values at CHECKS with what the
; SDM says (vol. 3, 4.6-4.8 and 6.15).
bits 32
org 0x1000

RESULTS equ 0x9000      ; dword count, then (CR2, error code) pairs
CHECKS  equ 0x9800      ; values the host compares
MODE    equ 0x9FF0      ; 0: 32-bit tables, 1: PAE tables (for the handler)
IDT     equ 0xA000      ; 32 gates, built here
PD      equ 0x20000     ; 32-bit page directory
PT0     equ 0x21000     ; 32-bit: identity map of 0-4 MiB
PT1     equ 0x22000     ; 32-bit: 0x400000-0x7FFFFF, filled on demand
PDPT    equ 0x23000
PDP0    equ 0x24000     ; PAE: page directory for 0-1 GiB
PTP1    equ 0x25000     ; PAE: page table for 0x400000-0x5FFFFF

start:
    lgdt [gdt_desc]
    mov eax, pf_handler         ; IDT 14: 32-bit interrupt gate, DPL 0
    mov [IDT + 14*8], ax
    mov word [IDT + 14*8 + 2], 0x08
    mov word [IDT + 14*8 + 4], 0x8E00
    shr eax, 16
    mov [IDT + 14*8 + 6], ax
    lidt [idt_desc]
    jmp 0x08:flat
flat:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x8000
    mov dword [RESULTS], 0

; ---- 32-bit paging ------------------------------------------------------
    mov edi, PT0
    mov eax, 3                  ; P | R/W
    mov ecx, 1024
.id:
    mov [edi], eax
    add eax, 0x1000
    add edi, 4
    dec ecx
    jnz .id
    mov dword [PD], PT0 + 3
    mov dword [PD + 4], PT1 + 3
    mov eax, PD
    mov cr3, eax
    mov dword [MODE], 0
    mov eax, cr0
    or eax, 0x80010000          ; PG | WP
    mov cr0, eax

    ; 1. Demand paging: the write faults (not present, write: 2); the
    ;    handler maps frame 0x300000 and the write is retried.
    mov dword [0x400123], 0x11223344
    mov eax, [0x400123]
    mov [CHECKS + 0], eax
    mov eax, [PT1]
    mov [CHECKS + 24], eax      ; A and D set by the retried write

    ; 2. Read-only page with CR0.WP = 1: a supervisor write faults (P|W: 3)
    ;    even though the page was read (and cached) before.
    mov dword [PT1 + 4], 0x301001
    mov eax, [0x401000]
    mov dword [0x401010], 0x55667788
    mov eax, [0x401010]
    mov [CHECKS + 4], eax

    ; 3. INVLPG after remapping a page.
    mov dword [0x302000], 0xAAAA0001
    mov dword [0x303000], 0xBBBB0002
    mov dword [PT1 + 8], 0x302003
    mov eax, [0x402000]
    mov [CHECKS + 8], eax
    mov dword [PT1 + 8], 0x303003
    invlpg [0x402000]
    mov eax, [0x402000]
    mov [CHECKS + 12], eax

    ; 4. A 4 MiB page (CR4.PSE): linear 0x800000 -> physical 0.
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    mov dword [PD + 8], 0x83    ; P | R/W | PS
    mov eax, [0x800000 + 0x303000]
    mov [CHECKS + 16], eax
    mov eax, [PD + 8]
    mov [CHECKS + 20], eax      ; A set, D clear

    mov byte [0x305000], 0xC3   ; RET, for step 6

; ---- PAE paging with execute-disable --------------------------------------
    mov eax, cr0
    and eax, 0x7FFFFFFF
    mov cr0, eax
    mov dword [PDP0], 0x83      ; 2 MiB identity pages for 0-4 MiB
    mov dword [PDP0 + 8], 0x200083
    mov dword [PDP0 + 16], PTP1 + 3
    mov dword [PDPT], PDP0 + 1
    mov dword [PTP1 + 5*8], 0x305003
    mov dword [PTP1 + 5*8 + 4], 0x80000000  ; XD
    mov dword [PTP1 + 6*8], 0x306003
    mov dword [PTP1 + 7*8], 0x307001        ; read-only
    mov eax, cr4
    or eax, 0x20                ; PAE
    mov cr4, eax
    mov eax, PDPT
    mov cr3, eax
    mov dword [MODE], 1
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax                ; loads the PDPTEs

    ; 5. Demand paging: a read faults (not present, read: 0); the handler
    ;    maps frame 0x300000, written in step 1.
    mov eax, [0x400123]
    mov [CHECKS + 28], eax

    ; 6. Execute-disable: the fetch at the call target faults (P|I/D:
    ;    0x11); the handler clears XD and the RET runs.
    call 0x405000
    mov dword [CHECKS + 32], 1

    ; 7. A write crossing into a read-only page faults on the second page
    ;    (CR2 = its first byte, P|W: 3); retried once it is writable.
    mov dword [0x406FFE], 0xCCDDEEFF
    mov eax, [0x406FFE]
    mov [CHECKS + 36], eax
    hlt

; #PF handler: log CR2 and the error code, repair the entry, INVLPG, IRET.
pf_handler:
    push eax
    push ebx
    push ecx
    push edx
    mov ebx, cr2
    mov edx, [esp + 16]         ; error code
    mov ecx, [RESULTS]
    cmp ecx, 16
    jae .runaway
    mov [RESULTS + 4 + ecx*8], ebx
    mov [RESULTS + 8 + ecx*8], edx
    inc dword [RESULTS]
    mov eax, ebx
    shr eax, 12
    cmp dword [MODE], 0
    jne .pae
    and eax, 0x3FF
    test dl, 1
    jnz .prot32
    mov ecx, eax                ; not present: frame 0x300000 + index * 4 KiB
    shl ecx, 12
    add ecx, 0x300003
    mov [PT1 + eax*4], ecx
    jmp .done
.prot32:
    or dword [PT1 + eax*4], 2
    jmp .done
.pae:
    and eax, 0x1FF
    test dl, 1
    jnz .protpae
    mov ecx, eax
    shl ecx, 12
    add ecx, 0x300003
    mov [PTP1 + eax*8], ecx
    mov dword [PTP1 + eax*8 + 4], 0
    jmp .done
.protpae:
    test dl, 0x10
    jz .writable
    and dword [PTP1 + eax*8 + 4], 0x7FFFFFFF
    jmp .done
.writable:
    or dword [PTP1 + eax*8], 2
.done:
    invlpg [ebx]
    pop edx
    pop ecx
    pop ebx
    pop eax
    add esp, 4                  ; the error code
    iret
.runaway:
    hlt
    jmp .runaway

align 8
gdt:
    dq 0
    dq 0x00CF9B000000FFFF       ; 0x08: flat 32-bit code, accessed
    dq 0x00CF93000000FFFF       ; 0x10: flat data, accessed
gdt_desc:
    dw gdt_desc - gdt - 1
    dd gdt
idt_desc:
    dw 32*8 - 1
    dd IDT
