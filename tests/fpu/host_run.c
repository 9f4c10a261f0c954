/* Host x87 runner (see host_run.h): a few bytes of x86-64 code generated
 * into an executable page around the instruction under test. */
#include "tests/fpu/host_run.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct HostStub {
    uint8_t *code;
    size_t size;
};

static HostStub *stub_alloc(void)
{
    HostStub *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->size = 4096;
    s->code = mmap(NULL, s->size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (s->code == MAP_FAILED) {
        perror("host_run: mmap");
        abort();
    }
    return s;
}

/* [rbx + disp32] operand: ModRM mod = 10, rm = 3, then the displacement. */
static uint8_t *emit_rbx(uint8_t *p, uint8_t modrm_reg, uint32_t disp)
{
    *p++ = (uint8_t)(0x83 | (modrm_reg << 3));
    memcpy(p, &disp, 4);
    return p + 4;
}
#define RBX(reg, d) (p = emit_rbx(p, (reg), (uint32_t)(d)))

#define EMIT(...)                                                                          \
    do {                                                                                   \
        const uint8_t b_[] = {__VA_ARGS__};                                                \
        memcpy(p, b_, sizeof b_);                                                          \
        p += sizeof b_;                                                                    \
    } while (0)

HostStub *host_stub_new(const uint8_t *insn, int len)
{
    HostStub *s = stub_alloc();
    uint8_t *p = s->code;
    uint32_t o_rax = offsetof(HostCtx, rax), o_fl = offsetof(HostCtx, rflags),
            o_mem = offsetof(HostCtx, mem), o_out = offsetof(HostCtx, out);
    EMIT(0x53);                   /* push rbx */
    EMIT(0x48, 0x89, 0xFB);       /* mov rbx, rdi */
    EMIT(0xFF); RBX(6, o_fl);       /* push qword [rbx+rflags] */
    EMIT(0x9D);                   /* popfq */
    EMIT(0xDD, 0x23);             /* frstor [rbx] */
    EMIT(0x48, 0x8B); RBX(6, o_mem); /* mov rsi, [rbx+mem] */
    EMIT(0x48, 0x89, 0xF7);          /* mov rdi, rsi: MASKMOVQ/MASKMOVDQU store to [rdi] */
    EMIT(0x48, 0x8B); RBX(0, o_rax); /* mov rax, [rbx+rax] */
    memcpy(p, insn, (size_t)len);
    p += len;
    EMIT(0xDD); RBX(6, o_out);       /* fnsave [rbx+out] */
    EMIT(0x9C);                    /* pushfq */
    EMIT(0x8F); RBX(0, o_fl);        /* pop qword [rbx+rflags] */
    EMIT(0x48, 0x89); RBX(0, o_rax); /* mov [rbx+rax], rax */
    EMIT(0xFC);                    /* cld */
    EMIT(0x5B);                    /* pop rbx */
    EMIT(0xC3);                    /* ret */
    return s;
}

HostStub *host_fxstub_new(const uint8_t *insn, int len)
{
    HostStub *s = stub_alloc();
    uint8_t *p = s->code;
    uint32_t o_rax = offsetof(HostFxCtx, rax), o_fl = offsetof(HostFxCtx, rflags),
            o_mem = offsetof(HostFxCtx, mem), o_in = offsetof(HostFxCtx, in),
            o_out = offsetof(HostFxCtx, out);
    EMIT(0x53);                    /* push rbx */
    EMIT(0x48, 0x89, 0xFB);        /* mov rbx, rdi */
    EMIT(0x48, 0x83, 0xEC, 0x08);  /* sub rsp, 8 */
    EMIT(0x0F, 0xAE, 0x1C, 0x24);  /* stmxcsr [rsp]: MXCSR's control bits are callee-saved */
    EMIT(0xFF); RBX(6, o_fl);        /* push qword [rbx+rflags] */
    EMIT(0x9D);                    /* popfq */
    EMIT(0x48, 0x8B); RBX(0, o_in);  /* mov rax, [rbx+in] */
    EMIT(0x0F, 0xAE, 0x08);        /* fxrstor [rax] */
    EMIT(0x48, 0x8B); RBX(6, o_mem); /* mov rsi, [rbx+mem] */
    EMIT(0x48, 0x89, 0xF7);          /* mov rdi, rsi: MASKMOVQ/MASKMOVDQU store to [rdi] */
    EMIT(0x48, 0x8B); RBX(0, o_rax); /* mov rax, [rbx+rax] */
    memcpy(p, insn, (size_t)len);
    p += len;
    EMIT(0x9C);                    /* pushfq */
    EMIT(0x8F); RBX(0, o_fl);        /* pop qword [rbx+rflags] */
    EMIT(0x48, 0x89); RBX(0, o_rax); /* mov [rbx+rax], rax */
    EMIT(0x48, 0x8B); RBX(0, o_out); /* mov rax, [rbx+out] */
    EMIT(0x0F, 0xAE, 0x00);        /* fxsave [rax] */
    EMIT(0xDB, 0xE3);              /* fninit: leave the host x87 as the ABI wants */
    EMIT(0x0F, 0xAE, 0x14, 0x24);  /* ldmxcsr [rsp] */
    EMIT(0x48, 0x83, 0xC4, 0x08);  /* add rsp, 8 */
    EMIT(0xFC);                    /* cld */
    EMIT(0x5B);                    /* pop rbx */
    EMIT(0xC3);                    /* ret */
    return s;
}

void host_stub_run(HostStub *s, HostCtx *ctx)
{
    ((void (*)(HostCtx *))(void *)s->code)(ctx);
}

void host_fxstub_run(HostStub *s, HostFxCtx *ctx)
{
    ((void (*)(HostFxCtx *))(void *)s->code)(ctx);
}

void host_stub_free(HostStub *s)
{
    if (!s)
        return;
    munmap(s->code, s->size);
    free(s);
}
