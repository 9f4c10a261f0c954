; The bare-metal guest the gdb stub tests debug (tests/gdb/gdb_test.py).
;
; Assembled as ELF so that gdb gets the labels as symbols, then flattened
; with objcopy into a Multiboot image (a.out kludge: loaded at 1 MiB and
; entered in flat 32-bit protected mode).  Port 0xE9 prints; writing V to
; port 0xF4 (isa-debug-exit) ends the run with status (V << 1) | 1.
;
; The default run prints "hello kestrel", computes
;     value + 5 (= 12, stored to `watched`, read back into EDX)
;     + counter (3 loop iterations) + delta (0)  = 15
; prints "done" and exits with status 31.  The tests change `delta`, EDX,
; `greeting` or `mode` through gdb and check that the result follows.
bits 32
section .text

global start, bp_main, step2, step3, step4, step5, after_write, after_read
global loop_top, loop_bp, bp_final, spin, spin_jmp, halt_forever, puts
global value, watched, counter, delta, mode, spins, greeting

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ (1 << 16)                  ; the address fields below are valid
hdr:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd hdr, hdr, 0, 0, start            ; header, load, load end, bss end, entry

start:
    mov esp, stack_top
    mov esi, greeting
    call puts
    cmp dword [mode], 1
    je spin
    cmp dword [mode], 2
    je halt_forever
bp_main:
    mov eax, [value]                    ; 5 bytes
step2:
    mov ecx, 5                          ; 5 bytes
step3:
    add ecx, eax                        ; 2 bytes
step4:
    jmp short step5                     ; a step lands on the target
    ud2
step5:
    mov [watched], ecx                  ; the write watchpoint hits here
after_write:
    mov edx, [watched]                  ; the read watchpoint hits here
after_read:
    mov ebx, 3
loop_top:
    inc dword [counter]
loop_bp:
    dec ebx
    jnz loop_top
bp_final:
    mov eax, edx
    add eax, [counter]
    add eax, [delta]
    push eax
    mov esi, done_msg
    call puts
    pop eax
    out 0xF4, al
    hlt

; mode 1: spin until gdb interrupts
spin:
    inc dword [spins]
spin_jmp:
    jmp spin

; mode 2: halt with interrupts off: nothing can wake the CPU
halt_forever:
    cli
    hlt
    jmp halt_forever

puts:
    lodsb
    test al, al
    jz .done
    out 0xE9, al
    jmp puts
.done:
    ret

align 4
value:    dd 7
watched:  dd 0
counter:  dd 0
delta:    dd 0
mode:     dd 0
spins:    dd 0
greeting: db "hello kestrel", 10, 0
done_msg: db "done", 10, 0
align 16
stack:    times 1024 db 0
stack_top:
