/* The PC keyboard controller (Intel 8042 / PS/2 style, ports 0x60 and
 * 0x64) with an AT keyboard on its first port and a PS/2 mouse on the
 * auxiliary port.
 *
 * Wiring (machine/pc.c):
 *   i8042_init(kbc);
 *   kbc->a20 = <cpu_set_a20 wrapper>; kbc->reset = <reset request>;
 *   kbc->cb_opaque = m;
 *   bus_map_ports(b, 0x60, 1, &i8042_data_ops, kbc);
 *   bus_map_ports(b, 0x64, 1, &i8042_cmd_ops, kbc);
 *   irq_connect(&kbc->irq_kbd, pic_set_irq, pic, 1);
 *   irq_connect(&kbc->irq_mouse, pic_set_irq, pic, 12);
 *
 * Frontend API:
 *   i8042_key_event(s, key, down): `key` is a KbdKey (below).
 *   i8042_mouse_event(s, dx, dy, dz, buttons).
 *
 * Key numbering (KbdKey): a key is named by its make code in scan code
 * set 2.  One-byte codes are the byte itself (KBD_A = 0x1C); keys whose
 * set 2 code has the E0 prefix are 0xE000 | code (KBD_UP = 0xE075).  Two
 * keys have multi-byte make codes and are named by a distinctive part:
 * Print Screen is KBD_PRINT = 0xE07C (make E0 12 E0 7C) and Pause is
 * KBD_PAUSE = 0xE114 (make E1 14 77 E1 F0 14 F0 77, no break code).  The
 * keyboard sends these in set 2, or in set 1 when the guest selects it;
 * the controller translates set 2 to set 1 when its command byte says so
 * (bit 6), as PCs normally run.  Key repeat is the frontend's business: it
 * sends repeated `down` events, and the keyboard just emits make codes. */
#ifndef KESTREL_DEVICES_I8042_H
#define KESTREL_DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/devlog.h"
#include "machine/bus.h"
#include "machine/irq.h"

/* clang-format off */
typedef enum KbdKey {
    KBD_ESC = 0x76, KBD_F1 = 0x05, KBD_F2 = 0x06, KBD_F3 = 0x04, KBD_F4 = 0x0C,
    KBD_F5 = 0x03, KBD_F6 = 0x0B, KBD_F7 = 0x83, KBD_F8 = 0x0A, KBD_F9 = 0x01,
    KBD_F10 = 0x09, KBD_F11 = 0x78, KBD_F12 = 0x07,
    KBD_GRAVE = 0x0E, KBD_1 = 0x16, KBD_2 = 0x1E, KBD_3 = 0x26, KBD_4 = 0x25,
    KBD_5 = 0x2E, KBD_6 = 0x36, KBD_7 = 0x3D, KBD_8 = 0x3E, KBD_9 = 0x46,
    KBD_0 = 0x45, KBD_MINUS = 0x4E, KBD_EQUAL = 0x55, KBD_BACKSPACE = 0x66,
    KBD_TAB = 0x0D, KBD_Q = 0x15, KBD_W = 0x1D, KBD_E = 0x24, KBD_R = 0x2D,
    KBD_T = 0x2C, KBD_Y = 0x35, KBD_U = 0x3C, KBD_I = 0x43, KBD_O = 0x44,
    KBD_P = 0x4D, KBD_LBRACKET = 0x54, KBD_RBRACKET = 0x5B, KBD_BACKSLASH = 0x5D,
    KBD_CAPSLOCK = 0x58, KBD_A = 0x1C, KBD_S = 0x1B, KBD_D = 0x23, KBD_F = 0x2B,
    KBD_G = 0x34, KBD_H = 0x33, KBD_J = 0x3B, KBD_K = 0x42, KBD_L = 0x4B,
    KBD_SEMICOLON = 0x4C, KBD_APOSTROPHE = 0x52, KBD_ENTER = 0x5A,
    KBD_LSHIFT = 0x12, KBD_102ND = 0x61, KBD_Z = 0x1A, KBD_X = 0x22, KBD_C = 0x21,
    KBD_V = 0x2A, KBD_B = 0x32, KBD_N = 0x31, KBD_M = 0x3A, KBD_COMMA = 0x41,
    KBD_DOT = 0x49, KBD_SLASH = 0x4A, KBD_RSHIFT = 0x59,
    KBD_LCTRL = 0x14, KBD_LALT = 0x11, KBD_SPACE = 0x29,
    KBD_RALT = 0xE011, KBD_RCTRL = 0xE014, KBD_LMETA = 0xE01F, KBD_RMETA = 0xE027,
    KBD_MENU = 0xE02F,
    KBD_PRINT = 0xE07C, KBD_SCROLLLOCK = 0x7E, KBD_PAUSE = 0xE114,
    KBD_INSERT = 0xE070, KBD_HOME = 0xE06C, KBD_PAGEUP = 0xE07D,
    KBD_DELETE = 0xE071, KBD_END = 0xE069, KBD_PAGEDOWN = 0xE07A,
    KBD_UP = 0xE075, KBD_LEFT = 0xE06B, KBD_DOWN = 0xE072, KBD_RIGHT = 0xE074,
    KBD_NUMLOCK = 0x77, KBD_KPSLASH = 0xE04A, KBD_KPASTERISK = 0x7C,
    KBD_KPMINUS = 0x7B, KBD_KPPLUS = 0x79, KBD_KPENTER = 0xE05A, KBD_KPDOT = 0x71,
    KBD_KP0 = 0x70, KBD_KP1 = 0x69, KBD_KP2 = 0x72, KBD_KP3 = 0x7A, KBD_KP4 = 0x6B,
    KBD_KP5 = 0x73, KBD_KP6 = 0x74, KBD_KP7 = 0x6C, KBD_KP8 = 0x75, KBD_KP9 = 0x7D,
} KbdKey;
/* clang-format on */

/* Mouse buttons for i8042_mouse_event. */
enum { MOUSE_LEFT = 1, MOUSE_RIGHT = 2, MOUSE_MIDDLE = 4 };

#define I8042_KBD_QUEUE 16 /* the keyboard's buffer (AT keyboards hold 16) */
#define I8042_AUX_QUEUE 32
#define I8042_CTL_QUEUE 4

typedef struct ByteQueue {
    uint8_t data[32];
    uint8_t head, count, size; /* size <= sizeof data */
} ByteQueue;

typedef struct AtKeyboard {
    ByteQueue q;
    bool scanning;     /* F4/F5 */
    uint8_t set;       /* scan code set 1, 2 or 3 */
    uint8_t leds;      /* bit 0 scroll, 1 num, 2 caps */
    uint8_t typematic; /* F3 parameter */
    uint8_t expect;    /* command awaiting its parameter, 0 = none */
    uint8_t last;      /* last byte sent, for resend (FE) */
} AtKeyboard;

typedef struct Ps2Mouse {
    ByteQueue q;
    bool reporting; /* F4/F5 */
    bool remote;    /* remote mode (F0) rather than stream mode */
    bool wrap;      /* wrap (echo) mode */
    bool scale21;   /* 2:1 scaling */
    uint8_t rate, resolution;
    uint8_t id;           /* 0, or 3 once the IntelliMouse sequence was seen */
    uint8_t rate_hist[3]; /* the last three sample rates, newest last */
    uint8_t expect;       /* command awaiting its parameter, 0 = none */
    uint8_t buttons;
    int32_t dx, dy, dz; /* movement not yet reported (PS/2 axes: y up) */
    uint8_t last;       /* last byte sent, for resend */
} Ps2Mouse;

typedef struct I8042State {
    uint8_t ram[32];   /* controller RAM; ram[0] is the command byte */
    uint8_t out;       /* output buffer */
    bool obf;          /* output buffer full */
    bool obf_aux;      /* ... with mouse data */
    bool last_was_cmd; /* status bit 3 */
    uint8_t pending;   /* controller command awaiting its data byte */
    uint8_t outport;   /* output port (bit 0 reset, bit 1 A20) */
    bool xlate_break;  /* translation: an F0 prefix was swallowed */
    ByteQueue ctl;     /* controller replies */
    AtKeyboard kbd;
    Ps2Mouse mouse;

    IrqLine irq_kbd;   /* IRQ1 */
    IrqLine irq_mouse; /* IRQ12 */
    /* Machine callbacks: A20 gate changed; reset requested (output port
     * bit 0 driven low, e.g. command 0xFE). */
    void (*a20)(void *opaque, bool enabled);
    void (*reset)(void *opaque);
    void *cb_opaque;
    DevLog log;
} I8042State;

extern const BusOps i8042_data_ops; /* port 0x60 */
extern const BusOps i8042_cmd_ops;  /* port 0x64: status (read), command (write) */

/* Initialize (callbacks NULL: set them afterwards). */
void i8042_init(I8042State *s);
/* Power-on state: command byte 0 (no IRQs, no translation: the BIOS sets
 * them up), output port 0x03 (A20 on, matching the CPU's reset state), the
 * keyboard in set 2 scanning, the mouse reset and not reporting. */
void i8042_reset(I8042State *s);

/* Frontend input.  dx: right positive; dy: DOWN positive (screen
 * convention, flipped for the PS/2 packet); dz: wheel steps, positive
 * away from the user (scroll up); buttons: MOUSE_* bits. */
void i8042_key_event(I8042State *s, unsigned key, bool down);
void i8042_mouse_event(I8042State *s, int dx, int dy, int dz, unsigned buttons);
/* Keyboard LEDs (bit 0 scroll lock, 1 num lock, 2 caps lock). */
uint8_t i8042_get_leds(const I8042State *s);

#endif
