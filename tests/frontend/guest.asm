; The guest of the serial chardev tests (serial_test.py): a Multiboot v1
; image (a.out kludge, nasm -f bin) loaded at 1 MiB and entered in flat
; 32-bit protected mode.
;
; It prints "READY\n" on COM1 and "ready\n" on the debug console (port
; 0xE9), then reads COM1 and echoes every byte back at once, a-z made
; upper case.  A line that reads "quit" (any case) gets "BYE\n" after its
; echo, "bye\n" on the debug console, and the run ends through
; isa-debug-exit with 0x10 (Kestrel's status 33).  An unexpected
; exception writes "FAULT\n" to the debug console and exits with 0x11.
;
; Without a command line COM1 is polled (LSR.DR) with interrupts off.  With
; -append irq the guest waits in HLT for the UART's receive interrupt
; (IRQ4 through the 8259, the only line unmasked), so it sits halted until
; input arrives: the test checks that Kestrel then waits without spinning
; and that input still wakes the guest.
bits 32
org 0x100000

COM1        equ 0x3F8           ; 16550: RBR/THR, IER, IIR/FCR, LCR, MCR, LSR
LSR_DR      equ 0x01
LSR_THRE    equ 0x20
DEBUGCON    equ 0xE9
EXIT_PORT   equ 0xF4
PASS        equ 0x10
FAULT       equ 0x11
IRQ_BASE    equ 0x20            ; 8259 master at 0x20-0x27, slave 0x28-0x2F
IDT_ENTRIES equ 0x30

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ (1 << 16)          ; the address fields below are valid
hdr:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd hdr, hdr, 0, 0, start    ; header, load, load end, bss end, entry

start:
    cli
    mov esp, stack_top
    ; Multiboot info (EBX): flags bit 2 says cmdline (offset 16) is valid.
    test dword [ebx], 1 << 2
    jz .mode_done
    mov esi, [ebx + 16]
    cmp word [esi], 'ir'
    jne .mode_done
    cmp byte [esi + 2], 'q'
    jne .mode_done
    mov byte [irq_mode], 1
.mode_done:
    ; Our own GDT and IDT: interrupt delivery needs a code selector.
    lgdt [gdtr]
    jmp 0x08:.reload
.reload:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    call idt_init
    lidt [idtr]
    call pic_init
    call uart_init

    mov esi, banner
    call com_puts
    mov esi, dbg_ready
    call dbg_puts

.next:
    call com_getc
    cmp al, 'a'
    jb .upper
    cmp al, 'z'
    ja .upper
    sub al, 'a' - 'A'
.upper:
    call com_putc
    mov ecx, [line_len]
    cmp ecx, line_max
    jae .full
    mov [line + ecx], al
    inc dword [line_len]
.full:
    cmp al, 10
    jne .next
    ; End of line: "QUIT\n" ends the run.
    cmp dword [line_len], 5
    jne .new_line
    cmp dword [line], 'QUIT'
    jne .new_line
    mov esi, bye
    call com_puts
    mov esi, dbg_bye
    call dbg_puts
    mov al, PASS
    out EXIT_PORT, al
    hlt
.new_line:
    mov dword [line_len], 0
    jmp .next

; ---- COM1 ----------------------------------------------------------------

uart_init:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                  ; IER: nothing yet
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                  ; LCR.DLAB
    mov dx, COM1
    mov al, 1
    out dx, al                  ; divisor 1: 115200 baud
    inc dx
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al                  ; 8N1, DLAB off
    mov dx, COM1 + 2
    mov al, 0x07
    out dx, al                  ; FIFOs on and cleared, trigger level 1
    mov dx, COM1 + 4
    mov al, 0x0B
    out dx, al                  ; DTR, RTS, OUT2 (the IRQ buffer enable)
    cmp byte [irq_mode], 0
    je .done
    mov dx, COM1 + 1
    mov al, 0x01
    out dx, al                  ; IER: received data available
.done:
    ret

; AL -> COM1
com_putc:
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, LSR_THRE
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    ret

; COM1 -> AL.  With interrupts off, look at LSR.DR; in irq mode sleep in
; HLT between looks (STI's shadow covers HLT, so an IRQ that is already
; pending wakes it rather than being missed).
com_getc:
    mov dx, COM1 + 5
    in al, dx
    test al, LSR_DR
    jnz .have
    cmp byte [irq_mode], 0
    je com_getc
    sti
    hlt
    cli
    jmp com_getc
.have:
    mov dx, COM1
    in al, dx
    ret

; ESI: NUL-terminated string
com_puts:
    lodsb
    test al, al
    jz .done
    call com_putc
    jmp com_puts
.done:
    ret

dbg_puts:
    lodsb
    test al, al
    jz .done
    out DEBUGCON, al
    jmp dbg_puts
.done:
    ret

; ---- Interrupts ----------------------------------------------------------

pic_init:
    mov al, 0x11                ; ICW1: edge, cascade, ICW4 follows
    out 0x20, al
    out 0xA0, al
    mov al, IRQ_BASE            ; ICW2: vectors
    out 0x21, al
    mov al, IRQ_BASE + 8
    out 0xA1, al
    mov al, 0x04                ; ICW3: slave on IRQ2
    out 0x21, al
    mov al, 0x02
    out 0xA1, al
    mov al, 0x01                ; ICW4: 8086 mode
    out 0x21, al
    out 0xA1, al
    mov al, 0xEF                ; only IRQ4 (COM1)
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al
    ret

; Vectors 0-31 fault; 32-47 (the 8259s, spurious IRQ7/15 included) are
; acknowledged and ignored: the main loop reads the UART itself.
idt_init:
    xor ecx, ecx
.loop:
    mov eax, fault_handler
    cmp ecx, IRQ_BASE
    jb .set
    mov eax, irq_handler
.set:
    mov [idt + ecx * 8], ax
    mov word [idt + ecx * 8 + 2], 0x08
    mov word [idt + ecx * 8 + 4], 0x8E00  ; present, DPL 0, 32-bit interrupt gate
    shr eax, 16
    mov [idt + ecx * 8 + 6], ax
    inc ecx
    cmp ecx, IDT_ENTRIES
    jb .loop
    ret

irq_handler:
    push eax
    mov al, 0x20                ; non-specific EOI (harmless with ISR empty)
    out 0xA0, al
    out 0x20, al
    pop eax
    iret

fault_handler:
    mov esi, dbg_fault
    call dbg_puts
    mov al, FAULT
    out EXIT_PORT, al
    hlt

; ---- Data ----------------------------------------------------------------

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF       ; 0x08: flat 32-bit code
    dq 0x00CF92000000FFFF       ; 0x10: flat data
gdtr:
    dw gdtr - gdt - 1
    dd gdt
idtr:
    dw IDT_ENTRIES * 8 - 1
    dd idt

banner:    db "READY", 10, 0
bye:       db "BYE", 10, 0
dbg_ready: db "ready", 10, 0
dbg_bye:   db "bye", 10, 0
dbg_fault: db "FAULT", 10, 0
irq_mode:  db 0

line_max equ 64
align 4
line_len:  dd 0
line:      times line_max db 0

align 8
idt:       times IDT_ENTRIES * 8 db 0
           times 4096 db 0
stack_top:
