; Triple fault (SDM vol. 3, 6.15, interrupt 8): with an IDT limit of 0,
; #UD cannot be delivered (#GP(6 * 8 + 2 + EXT)), that #GP cannot be
; delivered either (a contributory fault while delivering a contributory
; one: #DF), and a fault while delivering #DF shuts the processor down.
; Run with --expect-shutdown: reaching the end of the test fails.
%include "lib.inc"

test_main:
    PRINT "expecting a triple fault", 10
    lidt [null_idt]
    ud2
    jmp fail

align 8
null_idt:
    dw 0
    dd IDT_ADDR

%include "tail.inc"
