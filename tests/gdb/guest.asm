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
;
; mode 3 (fpu_sse) loads known x87, SSE and MXCSR values and stops at
; fpu_bp1 for gdb to read and change them; the code after it stores what
; the CPU then holds (out_xmm2, out_mxcsr, the FNSAVE image out_fsave) and
; exits with status 67.
bits 32
section .text

global start, bp_main, step2, step3, step4, step5, after_write, after_read
global loop_top, loop_bp, bp_final, spin, spin_jmp, halt_forever, puts
global value, watched, counter, delta, mode, spins, greeting
global fpu_sse, fp_last, fp_int, fpu_bp1, fpu_bp2, vec_a, vec_b, vec_c
global out_xmm2, out_mxcsr, out_fsave

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
    cmp dword [mode], 3
    je fpu_sse
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

; mode 3: x87 and SSE state for gdb.  Only moves, loads and stores: the
; SSE arithmetic is not needed to see the registers.
fpu_sse:
    mov eax, cr0
    and eax, ~0xC                       ; EM = TS = 0: x87 and SSE execute
    or eax, 0x22                        ; MP, NE: native x87 error reporting
    mov cr0, eax
    mov eax, cr4
    or eax, 0x200                       ; OSFXSR: without it SSE is #UD
    mov cr4, eax
    fninit
    fld1                                ; ST3 at the end = R7
    fldpi                               ; ST2 = R6
    fild dword [fp_int]                 ; ST1 = R5 = -42; FDP = fp_int
fp_last:
    fldz                                ; ST0 = R4 = +0 (tag zero); FIP, FOP D9 EE
    fldcw [fp_cw]                       ; a control instruction: FIP stays
    movaps xmm1, [vec_a]
    movups xmm0, [vec_b]                ; vec_b is not 16-byte aligned
    movdqa xmm3, [vec_c]
    ldmxcsr [mx_val]
fpu_bp1:
    movaps [out_xmm2], xmm2             ; what gdb wrote
    stmxcsr [out_mxcsr]
    fnsave [out_fsave]                  ; environment and ST0-ST7 as they are
fpu_bp2:
    mov al, 0x21                        ; exit status (0x21 << 1) | 1 = 67
    out 0xF4, al
    hlt

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
fp_int:   dd -42
fp_cw:    dw 0x027F                     ; 53-bit precision, nearest, all masked
align 4
mx_val:   dd 0x3FA0                     ; all masked, PE set, RC = 01 (down)
align 16
vec_a:    dd 1.0, 2.5, -3.0, 100.0
vec_c:    dq 0x0123456789ABCDEF, 0xFEDCBA9876543210
          dd 0
vec_b:    db 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
align 16
out_xmm2: times 16 db 0
out_mxcsr: dd 0
out_fsave: times 108 db 0
align 16
stack:    times 1024 db 0
stack_top:
