; A TSS too short to hold ESP0/SS0 (SDM vol. 2, INT n: "(TSSstackAddress +
; 7) > TSS limit: #TS(current TSS selector)"): an interrupt from ring 3
; raises #TS, whose delivery from ring 3 needs the same stack (#TS again:
; #DF), whose delivery does too: shutdown.  LTR does not check the limit
; (vol. 2, LTR).  Run with --expect-shutdown.
%include "lib.inc"

T_SHORT     equ (FREE_IDX + 0) * 8

test_main:
    mov eax, T_SHORT / 8
    mov ebx, TSS1
    mov ecx, 0x07                       ; ESP0 at 4-7, SS0 at 8-9: cut off
    mov dl, 0x89
    mov dh, 0
    call set_desc
    mov dword [TSS1 + 4], STACK0
    mov dword [TSS1 + 8], SEL_DATA0
    mov ax, T_SHORT
    ltr ax
    PRINT "expecting a shutdown", 10
    mov eax, .r3
    jmp to_ring3
.r3:
    int 0x80
    jmp fail

%include "tail.inc"
