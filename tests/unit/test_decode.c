/* Table-driven decoder tests: hand-picked encodings with the fields the
 * Intel SDM says they have.  References are to the SDM (vol. 2 unless
 * said otherwise): 2.1.1 prefixes, 2.1.5 / tables 2-1 (16-bit ModRM),
 * 2-2 (32-bit ModRM), 2-3 (SIB), appendix A (opcode maps A-2 one-byte,
 * A-3 two-byte, A-6 opcode extensions by ModRM.reg), and the instruction
 * pages named in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/decode.h"
#include "cpu/handlers.h"

/* An optional expected value. */
typedef struct Opt {
    bool set;
    uint32_t v;
} Opt;
/* clang-format off */
#define V(x) {true, (uint32_t)(x)}
/* clang-format on */

typedef struct Case {
    const char *name;
    bool code32;
    const uint8_t *b;
    int n;   /* bytes available */
    int ret; /* length or DECODE_* */
    Opt op, reg, rm, base, index, scale, seg, disp, imm, imm2, size, flags;
    const char *mn; /* table mnemonic */
} Case;

#define B(...) .b = (const uint8_t[]){__VA_ARGS__}, .n = sizeof((const uint8_t[]){__VA_ARGS__})
#define C16 .code32 = false
#define C32 .code32 = true
#define LEN(x) .ret = (x)
#define UD .ret = DECODE_UD
#define SHORT .ret = DECODE_SHORT
#define TOO_LONG .ret = DECODE_TOO_LONG

/* Registers and segments in encoding order (cpu.h). */
#define EAX R_EAX
#define ECX R_ECX
#define EDX R_EDX
#define EBX R_EBX
#define ESP R_ESP
#define EBP R_EBP
#define ESI R_ESI
#define EDI R_EDI
#define NONE R_ZERO
#define MEM16(b_, i_, s_) .base = V(b_), .index = V(i_), .seg = V(s_)
#define MEM32(b_, i_, sc_, s_) .base = V(b_), .index = V(i_), .scale = V(sc_), .seg = V(s_)

/* ---- ModRM and SIB ----------------------------------------------------- */

static const Case modrm16_cases[] = {
    /* Table 2-1, mod = 00: the eight base/index pairs; [BP+SI] and [BP+DI]
     * default to SS (SDM vol. 1, 3.7.4-3.7.5: BP as a base register
     * selects SS), rm = 110 is disp16 alone. */
    {"16: 8B 00 mov ax,[bx+si]", C16, B(0x8B, 0x00), LEN(2), .op = V(0x8B), .reg = V(0), .rm = V(0),
     MEM16(EBX, ESI, SEG_DS), .disp = V(0), .size = V(2), .flags = V(I_MEM)},
    {"16: 8B 09 mov cx,[bx+di]", C16, B(0x8B, 0x09), LEN(2), .reg = V(1), .rm = V(1),
     MEM16(EBX, EDI, SEG_DS), .flags = V(I_MEM)},
    {"16: 8B 12 mov dx,[bp+si] -> SS", C16, B(0x8B, 0x12), LEN(2), .reg = V(2),
     MEM16(EBP, ESI, SEG_SS), .flags = V(I_MEM)},
    {"16: 8B 1B mov bx,[bp+di] -> SS", C16, B(0x8B, 0x1B), LEN(2), .reg = V(3),
     MEM16(EBP, EDI, SEG_SS)},
    {"16: 8B 24 mov sp,[si]", C16, B(0x8B, 0x24), LEN(2), .reg = V(4), MEM16(ESI, NONE, SEG_DS)},
    {"16: 8B 2D mov bp,[di]", C16, B(0x8B, 0x2D), LEN(2), .reg = V(5), MEM16(EDI, NONE, SEG_DS)},
    {"16: 8B 36 34 12 mov si,[1234] (disp16 only, DS)", C16, B(0x8B, 0x36, 0x34, 0x12), LEN(4),
     .reg = V(6), .rm = V(6), MEM16(NONE, NONE, SEG_DS), .disp = V(0x1234), .flags = V(I_MEM)},
    {"16: 8B 3F mov di,[bx]", C16, B(0x8B, 0x3F), LEN(2), .reg = V(7), MEM16(EBX, NONE, SEG_DS)},
    /* mod = 01: disp8, sign-extended (2.1.5); rm = 110 is now [BP+disp8]. */
    {"16: 8B 46 FE mov ax,[bp-2] -> SS", C16, B(0x8B, 0x46, 0xFE), LEN(3), MEM16(EBP, NONE, SEG_SS),
     .disp = V(0xFFFE)},
    {"16: 8B 40 80 mov ax,[bx+si-80h]", C16, B(0x8B, 0x40, 0x80), LEN(3), MEM16(EBX, ESI, SEG_DS),
     .disp = V(0xFF80)},
    {"16: 8B 47 7F mov ax,[bx+7Fh]", C16, B(0x8B, 0x47, 0x7F), LEN(3), MEM16(EBX, NONE, SEG_DS),
     .disp = V(0x7F)},
    /* mod = 10: disp16. */
    {"16: 8B 86 00 80 mov ax,[bp+8000h] -> SS", C16, B(0x8B, 0x86, 0x00, 0x80), LEN(4),
     MEM16(EBP, NONE, SEG_SS), .disp = V(0x8000)},
    {"16: 8B 82 34 12 mov ax,[bp+si+1234h] -> SS", C16, B(0x8B, 0x82, 0x34, 0x12), LEN(4),
     MEM16(EBP, ESI, SEG_SS), .disp = V(0x1234)},
    {"16: 8B 95 FF FF mov dx,[di-1]", C16, B(0x8B, 0x95, 0xFF, 0xFF), LEN(4), .reg = V(2),
     MEM16(EDI, NONE, SEG_DS), .disp = V(0xFFFF)},
    /* mod = 11: a register (2.1.5). */
    {"16: 8B C1 mov ax,cx", C16, B(0x8B, 0xC1), LEN(2), .reg = V(0), .rm = V(1), .size = V(2),
     .flags = V(0)},
    {"16: 8A E7 mov ah,bh", C16, B(0x8A, 0xE7), LEN(2), .reg = V(4), .rm = V(7), .size = V(1),
     .flags = V(0)},
    /* A segment override replaces the default, SS included (2.1.1 group 2). */
    {"16: 26 8B 46 00 mov ax,es:[bp+0]", C16, B(0x26, 0x8B, 0x46, 0x00), LEN(4),
     MEM16(EBP, NONE, SEG_ES), .flags = V(I_MEM | I_SEGOVR)},
    {"16: 3E 8B 02 mov ax,ds:[bp+si]", C16, B(0x3E, 0x8B, 0x02), LEN(3), MEM16(EBP, ESI, SEG_DS),
     .flags = V(I_MEM | I_SEGOVR)},
    {"16: 36 8B 07 mov ax,ss:[bx]", C16, B(0x36, 0x8B, 0x07), LEN(3), MEM16(EBX, NONE, SEG_SS),
     .flags = V(I_MEM | I_SEGOVR)},
};

static const Case modrm32_cases[] = {
    /* Table 2-2, mod = 00. */
    {"32: 8B 00 mov eax,[eax]", C32, B(0x8B, 0x00), LEN(2), .op = V(0x8B), .reg = V(0), .rm = V(0),
     MEM32(EAX, NONE, 0, SEG_DS), .disp = V(0), .size = V(4), .flags = V(I_OP32 | I_AD32 | I_MEM)},
    {"32: 8B 1E mov ebx,[esi]", C32, B(0x8B, 0x1E), LEN(2), .reg = V(3),
     MEM32(ESI, NONE, 0, SEG_DS)},
    {"32: 8B 05 disp32 mov eax,[12345678] (disp32 only, DS)", C32,
     B(0x8B, 0x05, 0x78, 0x56, 0x34, 0x12), LEN(6), .rm = V(5), .base = V(NONE), .index = V(NONE),
     .seg = V(SEG_DS), .disp = V(0x12345678)},
    /* mod = 01 / 10 with EBP: SS (SDM vol. 1, 3.7.4-3.7.5: EBP or ESP as base -> SS). */
    {"32: 8B 45 FC mov eax,[ebp-4] -> SS", C32, B(0x8B, 0x45, 0xFC), LEN(3),
     MEM32(EBP, NONE, 0, SEG_SS), .disp = V(0xFFFFFFFC)},
    {"32: 8B 85 disp32 mov eax,[ebp+100h] -> SS", C32, B(0x8B, 0x85, 0x00, 0x01, 0x00, 0x00),
     LEN(6), MEM32(EBP, NONE, 0, SEG_SS), .disp = V(0x100)},
    {"32: 8B 4F 80 mov ecx,[edi-80h]", C32, B(0x8B, 0x4F, 0x80), LEN(3), .reg = V(1),
     MEM32(EDI, NONE, 0, SEG_DS), .disp = V(0xFFFFFF80)},
    {"32: 8B 8B disp32 mov ecx,[ebx+disp32]", C32, B(0x8B, 0x8B, 0xEF, 0xBE, 0xAD, 0xDE), LEN(6),
     MEM32(EBX, NONE, 0, SEG_DS), .disp = V(0xDEADBEEF)},
    /* SIB (table 2-3). */
    {"32: 8B 04 24 mov eax,[esp] -> SS", C32, B(0x8B, 0x04, 0x24), LEN(3), .rm = V(4),
     .base = V(ESP), .index = V(NONE), .seg = V(SEG_SS), .disp = V(0)},
    {"32: 8B 04 88 mov eax,[eax+ecx*4]", C32, B(0x8B, 0x04, 0x88), LEN(3),
     MEM32(EAX, ECX, 2, SEG_DS)},
    {"32: 8B 04 C5 disp32 mov eax,[eax*8+10h] (no base)", C32,
     B(0x8B, 0x04, 0xC5, 0x10, 0x00, 0x00, 0x00), LEN(7), MEM32(NONE, EAX, 3, SEG_DS),
     .disp = V(0x10)},
    {"32: 8B 04 25 disp32 mov eax,[11223344] (SIB, no base, no index)", C32,
     B(0x8B, 0x04, 0x25, 0x44, 0x33, 0x22, 0x11), LEN(7), .base = V(NONE), .index = V(NONE),
     .seg = V(SEG_DS), .disp = V(0x11223344)},
    {"32: 8B 0C 6D disp32 mov ecx,[ebp*2+0] (index EBP, no base -> DS)", C32,
     B(0x8B, 0x0C, 0x6D, 0x00, 0x00, 0x00, 0x00), LEN(7), MEM32(NONE, EBP, 1, SEG_DS),
     .disp = V(0)},
    {"32: 8B 04 2C mov eax,[esp+ebp] (base ESP -> SS)", C32, B(0x8B, 0x04, 0x2C), LEN(3),
     MEM32(ESP, EBP, 0, SEG_SS)},
    {"32: 8B 04 29 mov eax,[ecx+ebp] (index EBP -> DS)", C32, B(0x8B, 0x04, 0x29), LEN(3),
     MEM32(ECX, EBP, 0, SEG_DS)},
    {"32: 8B 44 25 08 mov eax,[ebp+8] (SIB base EBP, mod 01) -> SS", C32, B(0x8B, 0x44, 0x25, 0x08),
     LEN(4), .base = V(EBP), .index = V(NONE), .seg = V(SEG_SS), .disp = V(8)},
    {"32: 8B 84 8D disp32 mov eax,[ebp+ecx*4+1000h] -> SS", C32,
     B(0x8B, 0x84, 0x8D, 0x00, 0x10, 0x00, 0x00), LEN(7), MEM32(EBP, ECX, 2, SEG_SS),
     .disp = V(0x1000)},
    {"32: 8B 4C 24 FC mov ecx,[esp-4] -> SS", C32, B(0x8B, 0x4C, 0x24, 0xFC), LEN(4), .reg = V(1),
     .base = V(ESP), .index = V(NONE), .seg = V(SEG_SS), .disp = V(0xFFFFFFFC)},
    {"32: 8B 7C BE 10 mov edi,[esi+edi*4+10h]", C32, B(0x8B, 0x7C, 0xBE, 0x10), LEN(4), .reg = V(7),
     MEM32(ESI, EDI, 2, SEG_DS), .disp = V(0x10)},
    /* Overrides. */
    {"32: 64 8B 45 00 mov eax,fs:[ebp]", C32, B(0x64, 0x8B, 0x45, 0x00), LEN(4),
     MEM32(EBP, NONE, 0, SEG_FS), .flags = V(I_OP32 | I_AD32 | I_MEM | I_SEGOVR)},
    {"32: 2E 8B 04 24 mov eax,cs:[esp]", C32, B(0x2E, 0x8B, 0x04, 0x24), LEN(4), .base = V(ESP),
     .seg = V(SEG_CS)},
    {"32: 65 8B 05 disp32 mov eax,gs:[disp32]", C32, B(0x65, 0x8B, 0x05, 0x00, 0x00, 0x00, 0x00),
     LEN(7), .seg = V(SEG_GS)},
    /* Register form. */
    {"32: 8B C8 mov ecx,eax", C32, B(0x8B, 0xC8), LEN(2), .reg = V(1), .rm = V(0), .size = V(4),
     .flags = V(I_OP32 | I_AD32)},
};

/* ---- Prefixes (2.1.1) ---------------------------------------------------- */

static const Case prefix_cases[] = {
    /* 66 and 67 toggle the default of CS.D. */
    {"32: 66 8B 00 mov ax,[eax]", C32, B(0x66, 0x8B, 0x00), LEN(3), .size = V(2),
     MEM32(EAX, NONE, 0, SEG_DS), .flags = V(I_AD32 | I_MEM)},
    {"16: 66 8B 00 mov eax,[bx+si]", C16, B(0x66, 0x8B, 0x00), LEN(3), .size = V(4),
     MEM16(EBX, ESI, SEG_DS), .flags = V(I_OP32 | I_MEM)},
    {"16: 67 8B 04 24 mov ax,[esp] -> SS", C16, B(0x67, 0x8B, 0x04, 0x24), LEN(4), .size = V(2),
     .base = V(ESP), .index = V(NONE), .seg = V(SEG_SS), .flags = V(I_AD32 | I_MEM)},
    {"32: 67 8B 46 02 mov eax,[bp+2] -> SS", C32, B(0x67, 0x8B, 0x46, 0x02), LEN(4), .size = V(4),
     MEM16(EBP, NONE, SEG_SS), .disp = V(2), .flags = V(I_OP32 | I_MEM)},
    {"32: 67 8B 06 34 12 mov eax,[1234] (16-bit disp16 form)", C32, B(0x67, 0x8B, 0x06, 0x34, 0x12),
     LEN(5), MEM16(NONE, NONE, SEG_DS), .disp = V(0x1234)},
    {"16: 67 8B 05 disp32 mov ax,[disp32]", C16, B(0x67, 0x8B, 0x05, 0x78, 0x56, 0x34, 0x12),
     LEN(7), .base = V(NONE), .disp = V(0x12345678), .flags = V(I_AD32 | I_MEM)},
    {"16: 66 67 8B 00 mov eax,[eax]", C16, B(0x66, 0x67, 0x8B, 0x00), LEN(4), .size = V(4),
     MEM32(EAX, NONE, 0, SEG_DS), .flags = V(I_OP32 | I_AD32 | I_MEM)},
    {"32: 67 66 8B 00 mov ax,[bx+si] (order free)", C32, B(0x67, 0x66, 0x8B, 0x00), LEN(4),
     .size = V(2), MEM16(EBX, ESI, SEG_DS), .flags = V(I_MEM)},
    /* A repeated prefix acts once: 66 66 is still the other size. */
    {"32: 66 66 8B 00 mov ax,[eax]", C32, B(0x66, 0x66, 0x8B, 0x00), LEN(4), .size = V(2),
     .flags = V(I_AD32 | I_MEM)},
    {"16: 67 67 8B 00 mov ax,[eax]", C16, B(0x67, 0x67, 0x8B, 0x00), LEN(4), .base = V(EAX),
     .flags = V(I_AD32 | I_MEM)},
    /* Several segment overrides: the last one is used. */
    {"16: 26 2E 36 8B 00 -> SS (last override)", C16, B(0x26, 0x2E, 0x36, 0x8B, 0x00), LEN(5),
     MEM16(EBX, ESI, SEG_SS), .flags = V(I_MEM | I_SEGOVR)},
    {"32: 65 64 8B 45 00 -> FS (last override)", C32, B(0x65, 0x64, 0x8B, 0x45, 0x00), LEN(5),
     .seg = V(SEG_FS)},
    {"16: 3E 26 8B 46 00 -> ES (last override)", C16, B(0x3E, 0x26, 0x8B, 0x46, 0x00), LEN(5),
     MEM16(EBP, NONE, SEG_ES)},
    {"32: 3E 26 3E 8B 04 24 -> DS (last override, over the SS default)", C32,
     B(0x3E, 0x26, 0x3E, 0x8B, 0x04, 0x24), LEN(6), .seg = V(SEG_DS)},
    /* A segment override on an instruction without a memory operand is
     * ignored (2.1.1). */
    {"32: 2E 90 nop", C32, B(0x2E, 0x90), LEN(2), .op = V(0x90)},
    /* REP/REPNE (group 1). */
    {"16: F3 A4 rep movsb", C16, B(0xF3, 0xA4), LEN(2), .op = V(0xA4), .size = V(1),
     .flags = V(I_REP)},
    {"32: F2 AE repne scasb", C32, B(0xF2, 0xAE), LEN(2), .flags = V(I_OP32 | I_AD32 | I_REPNE)},
    {"32: F2 F3 A5 rep movsd (last of F2/F3)", C32, B(0xF2, 0xF3, 0xA5), LEN(3), .size = V(4),
     .flags = V(I_OP32 | I_AD32 | I_REP)},
    {"16: F3 F2 A6 repne cmpsb (last of F2/F3)", C16, B(0xF3, 0xF2, 0xA6), LEN(3),
     .flags = V(I_REPNE)},
    {"16: 26 F3 66 67 A5 rep movsd es:, a32", C16, B(0x26, 0xF3, 0x66, 0x67, 0xA5), LEN(5),
     .size = V(4), .seg = V(SEG_ES), .flags = V(I_OP32 | I_AD32 | I_REP | I_SEGOVR)},
    /* A mix of all groups in any order. */
    {"16: F0 66 2E 67 83 04 24 01 lock add dword cs:[esp],1", C16,
     B(0xF0, 0x66, 0x2E, 0x67, 0x83, 0x04, 0x24, 0x01), LEN(8), .op = V(0x83), .reg = V(0),
     .base = V(ESP), .index = V(NONE), .seg = V(SEG_CS), .imm = V(1), .size = V(4),
     .flags = V(I_OP32 | I_AD32 | I_LOCK | I_MEM | I_SEGOVR), .mn = "add"},
    {"32: 66 F0 66 F0 01 18 lock add [eax],bx (repeated)", C32,
     B(0x66, 0xF0, 0x66, 0xF0, 0x01, 0x18), LEN(6), .size = V(2),
     .flags = V(I_AD32 | I_LOCK | I_MEM)},
};

/* ---- Immediates ---------------------------------------------------------- */

static const Case imm_cases[] = {
    /* Ib: a byte, zero-extended. */
    {"16: 04 7F add al,7Fh", C16, B(0x04, 0x7F), LEN(2), .rm = V(0), .imm = V(0x7F), .size = V(1)},
    {"32: 80 C1 FF add cl,0FFh", C32, B(0x80, 0xC1, 0xFF), LEN(3), .rm = V(1), .imm = V(0xFF),
     .size = V(1), .mn = "add"},
    {"16: CD 80 int 80h", C16, B(0xCD, 0x80), LEN(2), .imm = V(0x80)},
    {"32: E4 FF in al,0FFh", C32, B(0xE4, 0xFF), LEN(2), .imm = V(0xFF), .size = V(1)},
    {"32: E7 80 out 80h,eax", C32, B(0xE7, 0x80), LEN(2), .imm = V(0x80), .size = V(4)},
    {"16: D4 0A aam", C16, B(0xD4, 0x0A), LEN(2), .imm = V(10)},
    {"16: B4 12 mov ah,12h", C16, B(0xB4, 0x12), LEN(2), .reg = V(4), .imm = V(0x12), .size = V(1)},
    /* Ibs: the byte is sign-extended to the operand size (83 /r, 6A, 6B:
     * ADD/PUSH/IMUL pages, "imm8 sign-extended"). */
    {"16: 83 C1 FF add cx,-1", C16, B(0x83, 0xC1, 0xFF), LEN(3), .imm = V(0xFFFFFFFF),
     .size = V(2)},
    {"32: 83 C1 FF add ecx,-1", C32, B(0x83, 0xC1, 0xFF), LEN(3), .imm = V(0xFFFFFFFF),
     .size = V(4)},
    {"32: 83 C1 7F add ecx,7Fh", C32, B(0x83, 0xC1, 0x7F), LEN(3), .imm = V(0x7F)},
    {"32: 6A 80 push -80h", C32, B(0x6A, 0x80), LEN(2), .imm = V(0xFFFFFF80), .size = V(4)},
    {"16: 6B C0 FE imul ax,ax,-2", C16, B(0x6B, 0xC0, 0xFE), LEN(3), .imm = V(0xFFFFFFFE),
     .size = V(2)},
    /* Iz: a word or doubleword by operand size. */
    {"16: 05 34 12 add ax,1234h", C16, B(0x05, 0x34, 0x12), LEN(3), .imm = V(0x1234), .size = V(2)},
    {"32: 05 imm32 add eax,12345678h", C32, B(0x05, 0x78, 0x56, 0x34, 0x12), LEN(5),
     .imm = V(0x12345678), .size = V(4)},
    {"32: 66 05 FF FF add ax,0FFFFh", C32, B(0x66, 0x05, 0xFF, 0xFF), LEN(4), .imm = V(0xFFFF),
     .size = V(2)},
    {"16: 66 05 imm32 add eax,imm32", C16, B(0x66, 0x05, 0x78, 0x56, 0x34, 0x12), LEN(6),
     .imm = V(0x12345678), .size = V(4)},
    {"16: 69 C0 34 12 imul ax,ax,1234h", C16, B(0x69, 0xC0, 0x34, 0x12), LEN(4), .imm = V(0x1234)},
    {"32: 69 C0 imm32 imul eax,eax,imm32", C32, B(0x69, 0xC0, 0x78, 0x56, 0x34, 0x12), LEN(6),
     .imm = V(0x12345678)},
    {"32: 68 imm32 push", C32, B(0x68, 0x78, 0x56, 0x34, 0x12), LEN(5), .imm = V(0x12345678)},
    {"16: 68 34 12 push", C16, B(0x68, 0x34, 0x12), LEN(3), .imm = V(0x1234)},
    {"32: 81 84 88 disp32 imm32 add [eax+ecx*4+disp32],imm32 (longest ModRM form)", C32,
     B(0x81, 0x84, 0x88, 0x44, 0x33, 0x22, 0x11, 0x78, 0x56, 0x34, 0x12), LEN(11),
     MEM32(EAX, ECX, 2, SEG_DS), .disp = V(0x11223344), .imm = V(0x12345678), .mn = "add"},
    {"16: C7 06 34 12 78 56 mov word [1234h],5678h", C16, B(0xC7, 0x06, 0x34, 0x12, 0x78, 0x56),
     LEN(6), .disp = V(0x1234), .imm = V(0x5678), .size = V(2)},
    {"32: B8 imm32 mov eax", C32, B(0xB8, 0x78, 0x56, 0x34, 0x12), LEN(5), .reg = V(0),
     .imm = V(0x12345678), .size = V(4)},
    {"32: 66 BF 34 12 mov di,1234h", C32, B(0x66, 0xBF, 0x34, 0x12), LEN(4), .reg = V(7),
     .imm = V(0x1234), .size = V(2)},
    /* Iw: always a word (RET imm16, ENTER). */
    {"16: C2 08 00 ret 8", C16, B(0xC2, 0x08, 0x00), LEN(3), .imm = V(8)},
    {"32: C2 08 00 ret 8 (Iw in 32-bit code)", C32, B(0xC2, 0x08, 0x00), LEN(3), .imm = V(8)},
    {"32: CA FF FF retf 0FFFFh", C32, B(0xCA, 0xFF, 0xFF), LEN(3), .imm = V(0xFFFF)},
    /* ENTER Iw, Ib (ENTER page: imm16 size, imm8 nesting level). */
    {"16: C8 10 00 01 enter 10h,1", C16, B(0xC8, 0x10, 0x00, 0x01), LEN(4), .imm = V(0x10),
     .imm2 = V(1)},
    {"32: C8 34 12 FF enter 1234h,0FFh", C32, B(0xC8, 0x34, 0x12, 0xFF), LEN(4), .imm = V(0x1234),
     .imm2 = V(0xFF)},
    {"32: 66 C8 00 01 00 enter (66 leaves the length)", C32, B(0x66, 0xC8, 0x00, 0x01, 0x00),
     LEN(5), .imm = V(0x100), .imm2 = V(0)},
    /* Jb / Jz: signed displacements (Jcc/JMP/CALL: rel8, rel16, rel32). */
    {"16: 70 FE jo $", C16, B(0x70, 0xFE), LEN(2), .imm = V(0xFFFFFFFE)},
    {"32: EB 7F jmp +7Fh", C32, B(0xEB, 0x7F), LEN(2), .imm = V(0x7F)},
    {"32: E3 80 jecxz -80h", C32, B(0xE3, 0x80), LEN(2), .imm = V(0xFFFFFF80)},
    {"16: E8 00 80 call rel16", C16, B(0xE8, 0x00, 0x80), LEN(3), .imm = V(0xFFFF8000)},
    {"16: E9 FF 7F jmp rel16", C16, B(0xE9, 0xFF, 0x7F), LEN(3), .imm = V(0x7FFF)},
    {"32: E8 rel32 call", C32, B(0xE8, 0xFC, 0xFF, 0xFF, 0xFF), LEN(5), .imm = V(0xFFFFFFFC)},
    {"32: 66 E8 FE FF call rel16", C32, B(0x66, 0xE8, 0xFE, 0xFF), LEN(4), .imm = V(0xFFFFFFFE)},
    {"16: 66 E9 rel32 jmp", C16, B(0x66, 0xE9, 0x00, 0x00, 0x01, 0x00), LEN(6), .imm = V(0x10000)},
    {"16: 0F 85 10 00 jnz rel16", C16, B(0x0F, 0x85, 0x10, 0x00), LEN(4), .op = V(0x85),
     .imm = V(0x10)},
    {"16: 66 0F 85 rel32 jnz", C16, B(0x66, 0x0F, 0x85, 0xF0, 0xFF, 0xFF, 0xFF), LEN(7),
     .imm = V(0xFFFFFFF0)},
    {"32: 0F 84 rel32 jz", C32, B(0x0F, 0x84, 0x00, 0x00, 0x00, 0x80), LEN(6),
     .imm = V(0x80000000)},
    {"32: 66 0F 84 00 80 jz rel16", C32, B(0x66, 0x0F, 0x84, 0x00, 0x80), LEN(5),
     .imm = V(0xFFFF8000)},
    /* 67 does not change a relative branch. */
    {"32: 67 E9 rel32 jmp", C32, B(0x67, 0xE9, 0x01, 0x00, 0x00, 0x00), LEN(6), .imm = V(1)},
    /* Ap: offset then selector, offset sized by the operand size (CALL/JMP
     * ptr16:16 / ptr16:32). */
    {"16: 9A 34 12 00 F0 call F000:1234", C16, B(0x9A, 0x34, 0x12, 0x00, 0xF0), LEN(5),
     .imm = V(0x1234), .imm2 = V(0xF000)},
    {"32: EA imm32 08 00 jmp 0008:12345678", C32, B(0xEA, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00),
     LEN(7), .imm = V(0x12345678), .imm2 = V(8)},
    {"32: 66 EA 34 12 08 00 jmp 0008:1234", C32, B(0x66, 0xEA, 0x34, 0x12, 0x08, 0x00), LEN(6),
     .imm = V(0x1234), .imm2 = V(8)},
    {"16: 66 9A ptr16:32", C16, B(0x66, 0x9A, 0x78, 0x56, 0x34, 0x12, 0x10, 0x00), LEN(8),
     .imm = V(0x12345678), .imm2 = V(0x10)},
    {"16: 67 EA 34 12 00 F0 (67 leaves Ap)", C16, B(0x67, 0xEA, 0x34, 0x12, 0x00, 0xF0), LEN(6),
     .imm = V(0x1234), .imm2 = V(0xF000)},
    /* moffs (MOV A0-A3): the offset is address-sized, the data operand-sized. */
    {"16: A1 34 12 mov ax,[1234h]", C16, B(0xA1, 0x34, 0x12), LEN(3), .disp = V(0x1234),
     .size = V(2), .seg = V(SEG_DS)},
    {"32: A1 moffs32 mov eax", C32, B(0xA1, 0x78, 0x56, 0x34, 0x12), LEN(5), .disp = V(0x12345678),
     .size = V(4)},
    {"32: 67 A1 34 12 mov eax,[1234h]", C32, B(0x67, 0xA1, 0x34, 0x12), LEN(4), .disp = V(0x1234),
     .size = V(4), .flags = V(I_OP32)},
    {"32: 66 A1 moffs32 mov ax", C32, B(0x66, 0xA1, 0x78, 0x56, 0x34, 0x12), LEN(6),
     .disp = V(0x12345678), .size = V(2), .flags = V(I_AD32)},
    {"16: 67 A0 moffs32 mov al", C16, B(0x67, 0xA0, 0x78, 0x56, 0x34, 0x12), LEN(6),
     .disp = V(0x12345678), .size = V(1), .flags = V(I_AD32)},
    {"32: 2E A2 moffs32 mov cs:[..],al", C32, B(0x2E, 0xA2, 0x00, 0x10, 0x00, 0x00), LEN(6),
     .seg = V(SEG_CS), .size = V(1), .flags = V(I_OP32 | I_AD32 | I_SEGOVR)},
    /* Shifts: C0/C1 Ib, D0/D1 by one, D2/D3 by CL (no immediate). */
    {"16: C0 E0 04 shl al,4", C16, B(0xC0, 0xE0, 0x04), LEN(3), .reg = V(4), .imm = V(4),
     .size = V(1), .mn = "shl"},
    {"32: C1 7D 08 03 sar dword [ebp+8],3", C32, B(0xC1, 0x7D, 0x08, 0x03), LEN(4), .reg = V(7),
     .seg = V(SEG_SS), .disp = V(8), .imm = V(3), .mn = "sar"},
    {"16: D0 E0 shl al,1", C16, B(0xD0, 0xE0), LEN(2), .imm = V(1), .mn = "shl"},
    {"32: D1 F8 sar eax,1", C32, B(0xD1, 0xF8), LEN(2), .imm = V(1), .size = V(4), .mn = "sar"},
    {"16: D2 C8 ror al,cl", C16, B(0xD2, 0xC8), LEN(2), .mn = "ror"},
    {"32: D3 14 24 rcl dword [esp],cl", C32, B(0xD3, 0x14, 0x24), LEN(3), .seg = V(SEG_SS),
     .mn = "rcl"},
    {"32: 0F A4 C2 05 shld edx,eax,5", C32, B(0x0F, 0xA4, 0xC2, 0x05), LEN(4), .reg = V(0),
     .rm = V(2), .imm = V(5)},
    {"32: 0F AD C2 shrd edx,eax,cl", C32, B(0x0F, 0xAD, 0xC2), LEN(3)},
};

/* ---- Groups (table A-6) ---------------------------------------------------- */

static const Case group_cases[] = {
    /* Group 1: 80-83. */
    {"16: 80 3E 34 12 05 cmp byte [1234h],5", C16, B(0x80, 0x3E, 0x34, 0x12, 0x05), LEN(5),
     .reg = V(7), .disp = V(0x1234), .imm = V(5), .size = V(1), .mn = "cmp"},
    {"32: 81 D1 imm32 adc ecx,imm32", C32, B(0x81, 0xD1, 0x01, 0x00, 0x00, 0x80), LEN(6),
     .reg = V(2), .imm = V(0x80000001), .mn = "adc"},
    {"16: 81 2F 34 12 sub word [bx],1234h", C16, B(0x81, 0x2F, 0x34, 0x12), LEN(4), .reg = V(5),
     .mn = "sub"},
    /* 82 is an alias of 80 outside 64-bit mode (table A-2, "i64"). */
    {"32: 82 C0 01 add al,1", C32, B(0x82, 0xC0, 0x01), LEN(3), .imm = V(1), .size = V(1),
     .mn = "add"},
    {"16: 82 3F 80 cmp byte [bx],80h", C16, B(0x82, 0x3F, 0x80), LEN(3), .reg = V(7),
     .imm = V(0x80), .mn = "cmp"},
    {"32: 83 E8 01 sub eax,1", C32, B(0x83, 0xE8, 0x01), LEN(3), .reg = V(5), .mn = "sub"},
    {"32: 83 F7 FF xor edi,-1", C32, B(0x83, 0xF7, 0xFF), LEN(3), .reg = V(6), .imm = V(0xFFFFFFFF),
     .mn = "xor"},
    /* Group 2 by ModRM.reg. */
    {"32: C1 C0 01 rol eax,1", C32, B(0xC1, 0xC0, 0x01), LEN(3), .reg = V(0), .mn = "rol"},
    {"32: D3 E8 shr eax,cl", C32, B(0xD3, 0xE8), LEN(2), .reg = V(5), .mn = "shr"},
    {"32: D1 D8 rcr eax,1", C32, B(0xD1, 0xD8), LEN(2), .reg = V(3), .mn = "rcr"},
    /* Group 3: /0 TEST has an immediate, /2-/7 do not (table A-6, TEST/NOT/
     * NEG/MUL/IMUL/DIV/IDIV pages). */
    {"16: F6 C3 01 test bl,1", C16, B(0xF6, 0xC3, 0x01), LEN(3), .imm = V(1), .size = V(1),
     .mn = "test"},
    {"16: F6 D3 not bl", C16, B(0xF6, 0xD3), LEN(2), .reg = V(2), .mn = "not"},
    {"16: F6 DB neg bl", C16, B(0xF6, 0xDB), LEN(2), .reg = V(3), .mn = "neg"},
    {"16: F6 E3 mul bl", C16, B(0xF6, 0xE3), LEN(2), .reg = V(4), .mn = "mul"},
    {"16: F6 EB imul bl", C16, B(0xF6, 0xEB), LEN(2), .reg = V(5), .mn = "imul"},
    {"16: F6 F3 div bl", C16, B(0xF6, 0xF3), LEN(2), .reg = V(6), .mn = "div"},
    {"16: F6 FB idiv bl", C16, B(0xF6, 0xFB), LEN(2), .reg = V(7), .mn = "idiv"},
    {"16: F7 C3 34 12 test bx,1234h", C16, B(0xF7, 0xC3, 0x34, 0x12), LEN(4), .imm = V(0x1234),
     .mn = "test"},
    {"32: F7 C3 imm32 test ebx,imm32", C32, B(0xF7, 0xC3, 0x78, 0x56, 0x34, 0x12), LEN(6),
     .imm = V(0x12345678), .mn = "test"},
    {"32: F7 05 disp32 imm32 test dword [disp32],imm32", C32,
     B(0xF7, 0x05, 0x00, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00), LEN(10), .disp = V(0x1000),
     .imm = V(1)},
    {"32: F7 35 disp32 div dword [disp32] (no imm)", C32, B(0xF7, 0x35, 0x78, 0x56, 0x34, 0x12),
     LEN(6), .reg = V(6), .disp = V(0x12345678), .mn = "div"},
    {"32: F7 D8 neg eax", C32, B(0xF7, 0xD8), LEN(2), .mn = "neg"},
    {"16: F7 2F imul word [bx]", C16, B(0xF7, 0x2F), LEN(2), .reg = V(5), .mn = "imul"},
    /* Group 4 (FE): /0 INC, /1 DEC, the rest #UD. */
    {"32: FE C0 inc al", C32, B(0xFE, 0xC0), LEN(2), .size = V(1), .mn = "inc"},
    {"32: FE 0B dec byte [ebx]", C32, B(0xFE, 0x0B), LEN(2), .reg = V(1), .mn = "dec"},
    {"32: FE D0 (FE /2) #UD", C32, B(0xFE, 0xD0), UD},
    {"32: FE 38 (FE /7) #UD", C32, B(0xFE, 0x38), UD},
    /* Group 5 (FF): /3 and /5 far forms take memory only; /7 is #UD. */
    {"32: FF C1 inc ecx", C32, B(0xFF, 0xC1), LEN(2), .mn = "inc"},
    {"16: FF D0 call ax", C16, B(0xFF, 0xD0), LEN(2), .reg = V(2), .mn = "call"},
    {"16: FF 1E 34 12 call far [1234h]", C16, B(0xFF, 0x1E, 0x34, 0x12), LEN(4), .reg = V(3),
     .mn = "callf"},
    {"16: FF D8 (callf register) #UD", C16, B(0xFF, 0xD8), UD},
    {"32: FF 24 85 disp32 jmp [eax*4+disp32]", C32, B(0xFF, 0x24, 0x85, 0x00, 0x20, 0x00, 0x00),
     LEN(7), .reg = V(4), MEM32(NONE, EAX, 2, SEG_DS), .disp = V(0x2000), .mn = "jmp"},
    {"32: FF 2D disp32 jmp far [disp32]", C32, B(0xFF, 0x2D, 0x00, 0x20, 0x00, 0x00), LEN(6),
     .reg = V(5), .mn = "jmpf"},
    {"32: FF E8 (jmpf register) #UD", C32, B(0xFF, 0xE8), UD},
    {"16: FF 36 34 12 push word [1234h]", C16, B(0xFF, 0x36, 0x34, 0x12), LEN(4), .reg = V(6),
     .mn = "push"},
    {"32: FF 38 (FF /7) #UD", C32, B(0xFF, 0x38), UD},
    {"32: FF F8 (FF /7 reg) #UD", C32, B(0xFF, 0xF8), UD},
    /* Group 11 (C6/C7): only /0. */
    {"32: C6 00 12 mov byte [eax],12h", C32, B(0xC6, 0x00, 0x12), LEN(3), .imm = V(0x12),
     .mn = "mov"},
    {"32: C6 08 12 (C6 /1) #UD", C32, B(0xC6, 0x08, 0x12), UD},
    {"32: C7 C8 imm32 (C7 /1) #UD", C32, B(0xC7, 0xC8, 0, 0, 0, 0), UD},
    /* Group 1A (8F): only /0. */
    {"16: 8F 06 34 12 pop word [1234h]", C16, B(0x8F, 0x06, 0x34, 0x12), LEN(4), .mn = "pop"},
    {"32: 8F C8 (8F /1) #UD", C32, B(0x8F, 0xC8), UD},
    /* Group 6 (0F 00): /0-/5; /6 /7 #UD. */
    {"32: 0F 00 C0 sldt eax", C32, B(0x0F, 0x00, 0xC0), LEN(3), .op = V(0x00), .reg = V(0),
     .mn = "sldt"},
    {"16: 0F 00 16 34 12 lldt [1234h]", C16, B(0x0F, 0x00, 0x16, 0x34, 0x12), LEN(5), .reg = V(2),
     .disp = V(0x1234), .mn = "lldt"},
    {"32: 0F 00 D8 ltr ax", C32, B(0x0F, 0x00, 0xD8), LEN(3), .mn = "ltr"},
    {"32: 0F 00 E8 verw ax", C32, B(0x0F, 0x00, 0xE8), LEN(3), .mn = "verw"},
    {"32: 0F 00 30 (0F 00 /6) #UD", C32, B(0x0F, 0x00, 0x30), UD},
    {"32: 0F 00 F8 (0F 00 /7) #UD", C32, B(0x0F, 0x00, 0xF8), UD},
    /* Group 7 (0F 01): SGDT/SIDT/LGDT/LIDT/INVLPG take memory only (their
     * pages: #UD if the operand is a register); SMSW/LMSW allow a register;
     * /5 is #UD. */
    {"16: 0F 01 06 34 12 sgdt [1234h]", C16, B(0x0F, 0x01, 0x06, 0x34, 0x12), LEN(5), .op = V(0x01),
     .disp = V(0x1234), .mn = "sgdt"},
    {"32: 0F 01 0C 24 sidt [esp]", C32, B(0x0F, 0x01, 0x0C, 0x24), LEN(4), .seg = V(SEG_SS),
     .mn = "sidt"},
    {"32: 0F 01 15 disp32 lgdt", C32, B(0x0F, 0x01, 0x15, 0, 0, 1, 0), LEN(7), .mn = "lgdt"},
    {"32: 0F 01 18 lidt [eax]", C32, B(0x0F, 0x01, 0x18), LEN(3), .mn = "lidt"},
    {"32: 0F 01 C0 (sgdt register) #UD", C32, B(0x0F, 0x01, 0xC0), UD},
    {"32: 0F 01 C8 (sidt register) #UD", C32, B(0x0F, 0x01, 0xC8), UD},
    {"32: 0F 01 D0 (lgdt register) #UD", C32, B(0x0F, 0x01, 0xD0), UD},
    {"32: 0F 01 D8 (lidt register) #UD", C32, B(0x0F, 0x01, 0xD8), UD},
    {"32: 0F 01 E0 smsw eax", C32, B(0x0F, 0x01, 0xE0), LEN(3), .mn = "smsw"},
    {"16: 0F 01 26 34 12 smsw [1234h]", C16, B(0x0F, 0x01, 0x26, 0x34, 0x12), LEN(5), .mn = "smsw"},
    {"32: 0F 01 28 (0F 01 /5) #UD", C32, B(0x0F, 0x01, 0x28), UD},
    {"32: 0F 01 F0 lmsw ax", C32, B(0x0F, 0x01, 0xF0), LEN(3), .mn = "lmsw"},
    {"32: 0F 01 38 invlpg [eax]", C32, B(0x0F, 0x01, 0x38), LEN(3), .mn = "invlpg"},
    {"32: 0F 01 F8 (invlpg register) #UD", C32, B(0x0F, 0x01, 0xF8), UD},
    /* Group 8 (0F BA): /4-/7 with Ib; /0-/3 #UD. */
    {"32: 0F BA E0 05 bt eax,5", C32, B(0x0F, 0xBA, 0xE0, 0x05), LEN(4), .reg = V(4), .imm = V(5),
     .mn = "bt"},
    {"16: 0F BA 2F 0F bts word [bx],15", C16, B(0x0F, 0xBA, 0x2F, 0x0F), LEN(4), .reg = V(5),
     .imm = V(15), .mn = "bts"},
    {"32: 0F BA 34 24 01 btr dword [esp],1", C32, B(0x0F, 0xBA, 0x34, 0x24, 0x01), LEN(5),
     .seg = V(SEG_SS), .imm = V(1), .mn = "btr"},
    {"32: 0F BA FF 1F btc edi,31", C32, B(0x0F, 0xBA, 0xFF, 0x1F), LEN(4), .imm = V(31),
     .mn = "btc"},
    {"32: 0F BA C0 05 (0F BA /0) #UD", C32, B(0x0F, 0xBA, 0xC0, 0x05), UD},
    {"32: 0F BA 18 05 (0F BA /3) #UD", C32, B(0x0F, 0xBA, 0x18, 0x05), UD},
    /* Group 9 (0F C7): /1 CMPXCHG8B m64 only (its page: #UD if the
     * destination is a register). */
    {"16: 0F C7 0E 34 12 cmpxchg8b [1234h]", C16, B(0x0F, 0xC7, 0x0E, 0x34, 0x12), LEN(5),
     .op = V(0xC7), .reg = V(1), .disp = V(0x1234), .mn = "cmpxchg8b"},
    {"32: F0 0F C7 0F lock cmpxchg8b [edi]", C32, B(0xF0, 0x0F, 0xC7, 0x0F), LEN(4),
     .flags = V(I_OP32 | I_AD32 | I_LOCK | I_MEM), .mn = "cmpxchg8b"},
    {"32: 0F C7 C8 (cmpxchg8b register) #UD", C32, B(0x0F, 0xC7, 0xC8), UD},
    {"32: 0F C7 00 (0F C7 /0) #UD", C32, B(0x0F, 0xC7, 0x00), UD},
};

/* ---- Other two-byte forms ------------------------------------------------- */

static const Case twobyte_cases[] = {
    /* MOV to/from CR/DR: the operand is always a register, mod is ignored
     * (MOV-Move to/from Control Registers: "the 2 bits in the mod field
     * are ignored"), so no SIB or displacement follows. */
    {"32: 0F 20 C0 mov eax,cr0", C32, B(0x0F, 0x20, 0xC0), LEN(3), .op = V(0x20), .reg = V(0),
     .rm = V(0), .size = V(4), .flags = V(I_OP32 | I_AD32)},
    {"32: 0F 22 18 mov cr3,eax (mod 00)", C32, B(0x0F, 0x22, 0x18), LEN(3), .reg = V(3), .rm = V(0),
     .flags = V(I_OP32 | I_AD32)},
    {"32: 0F 20 04 mov esp,cr0 (rm 100: no SIB)", C32, B(0x0F, 0x20, 0x04), LEN(3), .rm = V(4)},
    {"32: 0F 22 05 mov cr0,ebp (mod 00 rm 101: no disp32)", C32, B(0x0F, 0x22, 0x05), LEN(3),
     .rm = V(5)},
    {"16: 0F 21 86 mov esi,dr0 (mod 10: no disp16)", C16, B(0x0F, 0x21, 0x86), LEN(3), .reg = V(0),
     .rm = V(6), .size = V(4), .flags = V(0)},
    {"32: 0F 23 F9 mov dr7,ecx", C32, B(0x0F, 0x23, 0xF9), LEN(3), .reg = V(7), .rm = V(1)},
    {"32: 0F C8 bswap eax", C32, B(0x0F, 0xC8), LEN(2), .reg = V(0), .size = V(4)},
    {"16: 0F CF bswap edi", C16, B(0x0F, 0xCF), LEN(2), .reg = V(7), .size = V(4)},
    {"16: 0F B6 C3 movzx ax,bl", C16, B(0x0F, 0xB6, 0xC3), LEN(3), .reg = V(0), .rm = V(3),
     .size = V(2)},
    {"32: 0F BF 06 movsx eax,word [esi]", C32, B(0x0F, 0xBF, 0x06), LEN(3), .size = V(4),
     .base = V(ESI)},
    {"32: 0F 44 C1 cmovz eax,ecx", C32, B(0x0F, 0x44, 0xC1), LEN(3), .op = V(0x44)},
    {"32: 0F 9F C0 setg al", C32, B(0x0F, 0x9F, 0xC0), LEN(3), .size = V(1)},
    {"32: 0F A2 cpuid", C32, B(0x0F, 0xA2), LEN(2), .op = V(0xA2)},
    {"32: 0F B1 0F cmpxchg [edi],ecx", C32, B(0x0F, 0xB1, 0x0F), LEN(3), .reg = V(1)},
    {"32: 0F 1F 44 00 00 nop dword [eax+eax] (multi-byte NOP, NOP page)", C32,
     B(0x0F, 0x1F, 0x44, 0x00, 0x00), LEN(5)},
    {"16: 0F 1F 00 nop [bx+si]", C16, B(0x0F, 0x1F, 0x00), LEN(3)},
    /* x87 escapes: the length is set by the ModRM byte (appendix A, escape
     * opcode instructions). */
    {"16: D9 C0 fld st0", C16, B(0xD9, 0xC0), LEN(2), .op = V(0xD9), .flags = V(0)},
    {"16: DD 06 34 12 fld qword [1234h]", C16, B(0xDD, 0x06, 0x34, 0x12), LEN(4), .disp = V(0x1234),
     .flags = V(I_MEM)},
    {"32: DB 2D disp32 fld tword [disp32]", C32, B(0xDB, 0x2D, 0x78, 0x56, 0x34, 0x12), LEN(6),
     .disp = V(0x12345678)},
    {"32: DF 6C 24 04 fild qword [esp+4]", C32, B(0xDF, 0x6C, 0x24, 0x04), LEN(4),
     .seg = V(SEG_SS)},
};

/* SLDT and STR are "Rv/Mw" and SMSW "Mw/Rv" in table A-6: a register
 * destination has the operand size (SLDT/STR pages: with a 32-bit register
 * the selector is zero-extended on P6 and later; SMSW page: r32 form), a
 * memory destination is always 16 bits (the handlers store 16 bits there,
 * so only the register forms are checked). */
static const Case rv_mw_cases[] = {
    {"32: 0F 00 C0 sldt eax", C32, B(0x0F, 0x00, 0xC0), LEN(3), .size = V(4), .mn = "sldt"},
    {"32: 66 0F 00 C0 sldt ax", C32, B(0x66, 0x0F, 0x00, 0xC0), LEN(4), .size = V(2)},
    {"16: 0F 00 C8 str ax", C16, B(0x0F, 0x00, 0xC8), LEN(3), .size = V(2), .mn = "str"},
    {"16: 66 0F 00 CB str ebx", C16, B(0x66, 0x0F, 0x00, 0xCB), LEN(4), .size = V(4)},
    {"32: 0F 01 E0 smsw eax", C32, B(0x0F, 0x01, 0xE0), LEN(3), .size = V(4), .mn = "smsw"},
    {"32: 66 0F 01 E1 smsw cx", C32, B(0x66, 0x0F, 0x01, 0xE1), LEN(4), .size = V(2)},
    /* ... while LLDT/LTR/VERR/VERW/LMSW read a word in either form. */
    {"32: 0F 00 D0 lldt ax", C32, B(0x0F, 0x00, 0xD0), LEN(3), .size = V(2), .mn = "lldt"},
    {"32: 0F 01 F0 lmsw ax", C32, B(0x0F, 0x01, 0xF0), LEN(3), .size = V(2), .mn = "lmsw"},
};

/* ---- Illegal encodings ----------------------------------------------------- */

static const Case ud_cases[] = {
    /* LOCK: #UD unless a lockable instruction with a memory destination
     * (LOCK page). */
    {"16: F0 8B 00 lock mov", C16, B(0xF0, 0x8B, 0x00), UD},
    {"32: F0 90 lock nop", C32, B(0xF0, 0x90), UD},
    {"32: F0 39 00 lock cmp [eax],eax", C32, B(0xF0, 0x39, 0x00), UD},
    {"32: F0 80 38 01 lock cmp byte [eax],1 (80 /7)", C32, B(0xF0, 0x80, 0x38, 0x01), UD},
    {"32: F0 84 00 lock test", C32, B(0xF0, 0x84, 0x00), UD},
    {"32: F0 0F A3 00 lock bt [eax],eax", C32, B(0xF0, 0x0F, 0xA3, 0x00), UD},
    {"32: F0 0F BA 20 01 lock bt [eax],1", C32, B(0xF0, 0x0F, 0xBA, 0x20, 0x01), UD},
    {"32: F0 A5 lock movsd", C32, B(0xF0, 0xA5), UD},
    {"32: F0 02 00 lock add al,[eax] (memory is the source)", C32, B(0xF0, 0x02, 0x00), UD},
    {"32: F0 01 C0 lock add eax,eax (register destination)", C32, B(0xF0, 0x01, 0xC0), UD},
    {"32: F0 FE C0 lock inc al", C32, B(0xF0, 0xFE, 0xC0), UD},
    {"32: F0 86 C0 lock xchg al,al", C32, B(0xF0, 0x86, 0xC0), UD},
    {"32: F0 F7 D0 lock not eax", C32, B(0xF0, 0xF7, 0xD0), UD},
    {"32: F0 0F C1 C0 lock xadd eax,eax", C32, B(0xF0, 0x0F, 0xC1, 0xC0), UD},
    {"32: F0 83 C0 01 lock add eax,1", C32, B(0xF0, 0x83, 0xC0, 0x01), UD},
    {"32: F0 0F 20 C0 lock mov eax,cr0", C32, B(0xF0, 0x0F, 0x20, 0xC0), UD},
    /* ... and the lockable ones with memory destinations decode. */
    {"32: F0 86 00 lock xchg [eax],al", C32, B(0xF0, 0x86, 0x00), LEN(3),
     .flags = V(I_OP32 | I_AD32 | I_LOCK | I_MEM)},
    {"16: F0 F7 1E 34 12 lock neg word [1234h]", C16, B(0xF0, 0xF7, 0x1E, 0x34, 0x12), LEN(5),
     .flags = V(I_LOCK | I_MEM), .mn = "neg"},
    {"32: F0 0F AB 08 lock bts [eax],ecx", C32, B(0xF0, 0x0F, 0xAB, 0x08), LEN(4)},
    {"32: F0 0F BA 38 01 lock btc [eax],1", C32, B(0xF0, 0x0F, 0xBA, 0x38, 0x01), LEN(5)},
    {"32: F0 0F C0 08 lock xadd [eax],cl", C32, B(0xF0, 0x0F, 0xC0, 0x08), LEN(4)},
    {"32: F0 FF 08 lock dec dword [eax]", C32, B(0xF0, 0xFF, 0x08), LEN(3)},
    {"32: F0 80 30 01 lock xor byte [eax],1", C32, B(0xF0, 0x80, 0x30, 0x01), LEN(4)},
    /* MOV Sreg: CS cannot be loaded (MOV page: #UD if loading CS) and
     * ModRM.reg 6/7 name no segment register. */
    {"32: 8E C8 mov cs,ax", C32, B(0x8E, 0xC8), UD},
    {"16: 8E 0F mov cs,[bx]", C16, B(0x8E, 0x0F), UD},
    {"32: 8E F0 mov sreg6,ax", C32, B(0x8E, 0xF0), UD},
    {"32: 8E 38 mov sreg7,[eax]", C32, B(0x8E, 0x38), UD},
    {"32: 8C F0 mov ax,sreg6", C32, B(0x8C, 0xF0), UD},
    {"16: 8C 3F mov [bx],sreg7", C16, B(0x8C, 0x3F), UD},
    {"32: 8E D0 mov ss,ax", C32, B(0x8E, 0xD0), LEN(2), .reg = V(SEG_SS), .rm = V(0)},
    {"16: 8C 0E 34 12 mov [1234h],cs", C16, B(0x8C, 0x0E, 0x34, 0x12), LEN(4), .reg = V(SEG_CS)},
    {"32: 8C E0 mov eax,fs", C32, B(0x8C, 0xE0), LEN(2), .reg = V(SEG_FS)},
    {"32: 8E EB mov gs,bx", C32, B(0x8E, 0xEB), LEN(2), .reg = V(SEG_GS), .rm = V(3)},
    /* Memory-only operands in register form (LEA, LES/LDS/LSS/LFS/LGS,
     * BOUND pages: #UD if the source is a register). */
    {"32: 8D C0 lea eax,eax", C32, B(0x8D, 0xC0), UD},
    {"32: 8D 04 24 lea eax,[esp]", C32, B(0x8D, 0x04, 0x24), LEN(3), .base = V(ESP)},
    {"16: C4 C0 les ax,ax", C16, B(0xC4, 0xC0), UD},
    {"16: C5 C0 lds ax,ax", C16, B(0xC5, 0xC0), UD},
    {"16: C4 1E 34 12 les bx,[1234h]", C16, B(0xC4, 0x1E, 0x34, 0x12), LEN(4), .reg = V(3)},
    {"16: 62 C0 bound ax,ax", C16, B(0x62, 0xC0), UD},
    {"16: 62 06 34 12 bound ax,[1234h]", C16, B(0x62, 0x06, 0x34, 0x12), LEN(4)},
    {"32: 0F B2 C0 lss eax,eax", C32, B(0x0F, 0xB2, 0xC0), UD},
    {"32: 0F B4 C0 lfs eax,eax", C32, B(0x0F, 0xB4, 0xC0), UD},
    {"32: 0F B5 C0 lgs eax,eax", C32, B(0x0F, 0xB5, 0xC0), UD},
    /* Opcodes with nothing behind them here. */
    {"32: 0F 38 00 C0 (three-byte map, SSSE3+)", C32, B(0x0F, 0x38, 0x00, 0xC0), UD},
    {"32: 0F 3A 0F C0 00 (three-byte map, SSSE3+)", C32, B(0x0F, 0x3A, 0x0F, 0xC0, 0x00), UD},
    {"32: 0F 24 C0 (MOV TR, 386/486 only)", C32, B(0x0F, 0x24, 0xC0), UD},
    {"32: 0F 26 C0 (MOV TR, 386/486 only)", C32, B(0x0F, 0x26, 0xC0), UD},
    {"32: 0F 04", C32, B(0x0F, 0x04), UD},
    {"32: 0F 0A", C32, B(0x0F, 0x0A), UD},
    {"32: 0F A6", C32, B(0x0F, 0xA6, 0xC0), UD},
};

/* ---- The 15-byte limit and short buffers ------------------------------- */

static const Case limit_cases[] = {
    /* An instruction may be at most 15 bytes; a longer one is #GP(0) (2.3.11
     * "the maximum length ... remains 15 bytes"; vol. 3, 6.15 #GP). */
    {"16: 14 x 26 + 90 = 15 bytes", C16,
     B(0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x90),
     LEN(15), .op = V(0x90), .flags = V(I_SEGOVR)},
    {"16: 15 x 26 + 90 = 16 bytes: #GP", C16,
     B(0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26,
       0x90),
     TOO_LONG},
    {"32: 15 x 66 (buffer of 15): #GP without looking further", C32,
     B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66),
     TOO_LONG},
    {"32: 13 x 66 + 0F A2 = 15 bytes", C32,
     B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x0F, 0xA2),
     LEN(15), .op = V(0xA2)},
    {"32: 14 x 66 + 0F A2 = 16 bytes: #GP", C32,
     B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x0F,
       0xA2),
     TOO_LONG},
    {"32: 4 prefixes + 11-byte add = 15", C32,
     B(0x26, 0x26, 0x26, 0x26, 0x81, 0x84, 0x88, 0x44, 0x33, 0x22, 0x11, 0x78, 0x56, 0x34, 0x12),
     LEN(15), .disp = V(0x11223344), .imm = V(0x12345678), .seg = V(SEG_ES)},
    {"32: 5 prefixes + 11-byte add = 16: #GP", C32,
     B(0x26, 0x26, 0x26, 0x26, 0x26, 0x81, 0x84, 0x88, 0x44, 0x33, 0x22, 0x11, 0x78, 0x56, 0x34,
       0x12),
     TOO_LONG},
    {"16: 10 prefixes + 66 C7 06 disp16 imm32 = 18: #GP", C16,
     B(0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x66, 0xC7, 0x06, 0x00, 0x00, 0x78,
       0x56, 0x34, 0x12),
     TOO_LONG},
    /* The buffer ends before the instruction does. */
    {"16: 66 (prefix only)", C16, B(0x66), SHORT},
    {"32: 0F (escape only)", C32, B(0x0F), SHORT},
    {"32: 8B (no ModRM)", C32, B(0x8B), SHORT},
    {"32: FF (group, no ModRM)", C32, B(0xFF), SHORT},
    {"32: 8B 04 (no SIB)", C32, B(0x8B, 0x04), SHORT},
    {"32: 8B 05 78 56 (disp32 cut)", C32, B(0x8B, 0x05, 0x78, 0x56), SHORT},
    {"32: 8B 04 25 44 33 22 (SIB disp32 cut)", C32, B(0x8B, 0x04, 0x25, 0x44, 0x33, 0x22), SHORT},
    {"16: 8B 46 (disp8 missing)", C16, B(0x8B, 0x46), SHORT},
    {"16: 8B 86 00 (disp16 cut)", C16, B(0x8B, 0x86, 0x00), SHORT},
    {"16: 05 34 (imm16 cut)", C16, B(0x05, 0x34), SHORT},
    {"16: 66 05 34 12 (imm32 cut)", C16, B(0x66, 0x05, 0x34, 0x12), SHORT},
    {"32: 81 84 88 disp32 78 56 34 (imm32 cut)", C32,
     B(0x81, 0x84, 0x88, 0x44, 0x33, 0x22, 0x11, 0x78, 0x56, 0x34), SHORT},
    {"16: 9A 34 12 00 (Ap cut)", C16, B(0x9A, 0x34, 0x12, 0x00), SHORT},
    {"32: EA 78 56 34 12 08 (Ap selector cut)", C32, B(0xEA, 0x78, 0x56, 0x34, 0x12, 0x08), SHORT},
    {"32: C8 10 00 (ENTER Ib missing)", C32, B(0xC8, 0x10, 0x00), SHORT},
    {"16: E8 00 (rel16 cut)", C16, B(0xE8, 0x00), SHORT},
    {"32: 0F 84 00 00 00 (rel32 cut)", C32, B(0x0F, 0x84, 0x00, 0x00, 0x00), SHORT},
    {"32: 67 A1 34 (moffs16 cut)", C32, B(0x67, 0xA1, 0x34), SHORT},
    {"32: 0F BA E0 (Ib missing)", C32, B(0x0F, 0xBA, 0xE0), SHORT},
};

/* ---- Runner -------------------------------------------------------------- */

static bool raises_ud(const Insn *i)
{
    for (int s = 0; s < 3; s++)
        for (int m = 0; m < 2; m++)
            if (i->fn == hs_ud.f[s][m])
                return true;
    return i->fn == op_ud;
}

static int check_case(const Case *c)
{
    Insn in;
    int bad = 0;
    memset(&in, 0xA5, sizeof(in));
    int r = decode_bytes(c->b, c->n, c->code32, &in);

#define FAILF(...)                                                                                 \
    do {                                                                                           \
        print_error("%s: ", c->name);                                                              \
        print_error(__VA_ARGS__);                                                                  \
        bad++;                                                                                     \
    } while (0)

    if (r != c->ret) {
        FAILF("returned %d, expected %d\n", r, c->ret);
        return 1;
    }
    if (r == DECODE_UD) {
        /* The Insn must raise #UD and end the block. */
        if (in.fn != op_ud || !(in.flags & I_TERM))
            FAILF("#UD insn without the #UD handler / I_TERM\n");
        return bad;
    }
    if (r == DECODE_TOO_LONG) {
        if (in.fn == NULL || in.fn == op_ud || in.len != 15 || !(in.flags & I_TERM))
            FAILF("too-long insn: len %u, handler %s\n", in.len, in.fn == op_ud ? "#UD" : "?");
        return bad;
    }
    if (r == DECODE_SHORT)
        return 0;

    if (in.len != r)
        FAILF("len field %u, returned %d\n", in.len, r);
    if (in.fn == NULL)
        FAILF("no handler\n");
    /* With 16-bit addressing only the low 16 bits of a displacement count
     * (the effective address is 16 bits wide, SDM vol. 1, 3.6). */
    uint32_t dmask = (in.flags & I_AD32) ? 0xFFFFFFFFu : 0xFFFFu;
    if (c->op.set && in.op != c->op.v)
        FAILF("op %#x, expected %#x\n", in.op, c->op.v);
    if (c->reg.set && in.reg != c->reg.v)
        FAILF("reg %u, expected %u\n", in.reg, c->reg.v);
    if (c->rm.set && in.rm != c->rm.v)
        FAILF("rm %u, expected %u\n", in.rm, c->rm.v);
    if (c->base.set && in.base != c->base.v)
        FAILF("base %u, expected %u\n", in.base, c->base.v);
    if (c->index.set && in.index != c->index.v)
        FAILF("index %u, expected %u\n", in.index, c->index.v);
    if (c->scale.set && in.scale != c->scale.v)
        FAILF("scale %u, expected %u\n", in.scale, c->scale.v);
    if (c->seg.set && in.seg != c->seg.v)
        FAILF("seg %u, expected %u\n", in.seg, c->seg.v);
    if (c->disp.set && (in.disp & dmask) != (c->disp.v & dmask))
        FAILF("disp %#x, expected %#x\n", in.disp, c->disp.v);
    if (c->imm.set && in.imm != c->imm.v)
        FAILF("imm %#x, expected %#x\n", in.imm, c->imm.v);
    if (c->imm2.set && in.imm2 != c->imm2.v)
        FAILF("imm2 %#x, expected %#x\n", in.imm2, c->imm2.v);
    if (c->size.set && in.size != c->size.v)
        FAILF("size %u, expected %u\n", in.size, c->size.v);
    /* I_TERM is Kestrel's block-ending hint, not an SDM property. */
    if (c->flags.set && (in.flags & ~I_TERM) != c->flags.v)
        FAILF("flags %#x, expected %#x\n", in.flags & ~I_TERM, c->flags.v);
    if (c->mn) {
        const char *m = decode_mnemonic(c->b, c->n, c->code32);
        if (!m || strcmp(m, c->mn))
            FAILF("mnemonic %s, expected %s\n", m ? m : "(null)", c->mn);
    }
#undef FAILF
    return bad;
}

static void run_table(const Case *t, size_t n)
{
    int bad = 0;
    for (size_t k = 0; k < n; k++)
        bad += check_case(&t[k]);
    if (bad) {
        print_error("%d field(s) wrong\n", bad);
        fail();
    }
}

#define TABLE_TEST(name)                                                                           \
    static void test_##name(void **state)                                                          \
    {                                                                                              \
        (void)state;                                                                               \
        run_table(name##_cases, sizeof(name##_cases) / sizeof(name##_cases[0]));                   \
    }
TABLE_TEST(modrm16)
TABLE_TEST(modrm32)
TABLE_TEST(prefix)
TABLE_TEST(imm)
TABLE_TEST(group)
TABLE_TEST(twobyte)
TABLE_TEST(rv_mw)
TABLE_TEST(ud)
TABLE_TEST(limit)

/* UD2 (0F 0B) is an instruction whose execution is #UD (UD page): either
 * the decoder reports DECODE_UD, or it decodes two bytes and hands over a
 * handler that raises #UD.  The same holds for UD1 (0F B9 /r) and UD0
 * (0F FF /r), which take a ModRM byte. */
static void test_ud012(void **state)
{
    (void)state;
    static const struct {
        uint8_t b[8];
        int n, len;
        bool code32;
    } t[] = {
        {{0x0F, 0x0B}, 2, 2, true},
        {{0x0F, 0x0B, 0xC0}, 3, 2, false},
        {{0x66, 0xF3, 0x0F, 0x0B}, 4, 4, true},
        {{0x0F, 0xB9, 0xC0}, 3, 3, true},
        {{0x0F, 0xB9, 0x05, 0, 0, 0, 0}, 7, 7, true},
        {{0x0F, 0xB9, 0x46, 0x10}, 4, 4, false},
        {{0x0F, 0xFF, 0xC0}, 3, 3, true},
        {{0x0F, 0xFF, 0x04, 0x24}, 4, 4, true},
    };
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        Insn in;
        int r = decode_bytes(t[k].b, t[k].n, t[k].code32, &in);
        if (r == DECODE_UD) {
            assert_true(in.fn == op_ud);
        } else {
            assert_int_equal(r, t[k].len);
            assert_true(raises_ud(&in));
        }
    }
}

/* Every single-byte opcode either decodes or reports one of the codes, and
 * a buffer cut at any point before the end gives DECODE_SHORT (never a
 * wrong length) for every case of the tables. */
static void test_truncation(void **state)
{
    (void)state;
    const Case *tables[] = {modrm16_cases, modrm32_cases, prefix_cases,
                            imm_cases,     group_cases,   twobyte_cases};
    const size_t sizes[] = {
        sizeof(modrm16_cases) / sizeof(Case), sizeof(modrm32_cases) / sizeof(Case),
        sizeof(prefix_cases) / sizeof(Case),  sizeof(imm_cases) / sizeof(Case),
        sizeof(group_cases) / sizeof(Case),   sizeof(twobyte_cases) / sizeof(Case),
    };
    int bad = 0;
    for (size_t t = 0; t < 6; t++) {
        for (size_t k = 0; k < sizes[t]; k++) {
            const Case *c = &tables[t][k];
            if (c->ret <= 0)
                continue;
            for (int cut = 0; cut < c->ret; cut++) {
                Insn in;
                int r = decode_bytes(c->b, cut, c->code32, &in);
                if (r != DECODE_SHORT) {
                    print_error("%s: cut at %d gives %d\n", c->name, cut, r);
                    bad++;
                }
            }
        }
    }
    assert_int_equal(bad, 0);
}

/* decode_full hands out the table entry; decode_mnemonic agrees. */
static void test_full(void **state)
{
    (void)state;
    const uint8_t add[] = {0x01, 0xC0};
    Insn in;
    const void *e = NULL;
    assert_int_equal(decode_full(add, 2, true, &in, &e), 2);
    assert_non_null(e);
    assert_string_equal(decode_mnemonic(add, 2, true), "add");
    const uint8_t bad[] = {0xFF, 0xF8};
    assert_int_equal(decode_full(bad, 2, true, &in, &e), DECODE_UD);
    assert_null(decode_mnemonic(bad, 2, true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modrm16),    cmocka_unit_test(test_modrm32),
        cmocka_unit_test(test_prefix),     cmocka_unit_test(test_imm),
        cmocka_unit_test(test_group),      cmocka_unit_test(test_twobyte),
        cmocka_unit_test(test_rv_mw),      cmocka_unit_test(test_ud),
        cmocka_unit_test(test_limit),      cmocka_unit_test(test_ud012),
        cmocka_unit_test(test_truncation), cmocka_unit_test(test_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
