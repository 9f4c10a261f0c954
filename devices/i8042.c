/* 8042 keyboard controller, AT keyboard and PS/2 mouse; see i8042.h.
 *
 * References: IBM PC AT Technical Reference, "Keyboard Controller"
 * (status register, command byte, commands 20h-FFh, input and output
 * ports) and "Keyboard" (commands EDh-FFh, BAT AAh, ACK FAh, resend FEh,
 * overrun); IBM PS/2 Hardware Interface Technical Reference, "Pointing
 * Device" (commands E6h-FFh, data packet, status bytes); Microsoft
 * "Keyboard Scan Code Specification" rev. 1.3a (scan code sets 1 and 2,
 * Print Screen and Pause sequences); Microsoft IntelliMouse PS/2
 * documentation (sample rates 200, 100, 80 switch the device ID to 3 and
 * add a wheel byte). */
#include "devices/i8042.h"

#include <string.h>

enum {
    /* Status register (port 64h read). */
    ST_OBF = 0x01,
    ST_IBF = 0x02,
    ST_SYS = 0x04,
    ST_CMD = 0x08,
    ST_UNLOCKED = 0x10,
    ST_AUXB = 0x20,
    /* Command byte. */
    CB_KBD_INT = 0x01,
    CB_AUX_INT = 0x02,
    CB_SYS = 0x04,
    CB_KBD_DIS = 0x10,
    CB_AUX_DIS = 0x20,
    CB_XLATE = 0x40,
    /* Output port. */
    OP_RESET = 0x01,
    OP_A20 = 0x02,
    OP_OBF_KBD = 0x10,
    OP_OBF_AUX = 0x20,
    /* Device replies. */
    R_ACK = 0xFA,
    R_RESEND = 0xFE,
    R_BAT_OK = 0xAA,
    R_ECHO = 0xEE,
};

/* ---- Byte queues ---------------------------------------------------------- */

static void q_init(ByteQueue *q, uint8_t size)
{
    memset(q, 0, sizeof *q);
    q->size = size;
}

static unsigned q_free(const ByteQueue *q)
{
    return (unsigned)(q->size - q->count);
}

static void q_put(ByteQueue *q, uint8_t v)
{
    if (q->count >= q->size)
        return;
    q->data[(q->head + q->count) % q->size] = v;
    q->count++;
}

static uint8_t q_get(ByteQueue *q)
{
    uint8_t v = q->data[q->head];
    q->head = (uint8_t)((q->head + 1) % q->size);
    q->count--;
    return v;
}

/* ---- Scan codes --------------------------------------------------------------- */

/* Set 2 -> set 1 for the one-byte codes (the 8042's translation, and the
 * keyboard's own set 1).  Pairs from the scan code specification. */
static const uint8_t set2_set1_pairs[][2] = {
    {0x76, 0x01},
    {0x16, 0x02},
    {0x1E, 0x03},
    {0x26, 0x04},
    {0x25, 0x05},
    {0x2E, 0x06},
    {0x36, 0x07},
    {0x3D, 0x08},
    {0x3E, 0x09},
    {0x46, 0x0A},
    {0x45, 0x0B},
    {0x4E, 0x0C},
    {0x55, 0x0D},
    {0x66, 0x0E},
    {0x0D, 0x0F},
    {0x15, 0x10},
    {0x1D, 0x11},
    {0x24, 0x12},
    {0x2D, 0x13},
    {0x2C, 0x14},
    {0x35, 0x15},
    {0x3C, 0x16},
    {0x43, 0x17},
    {0x44, 0x18},
    {0x4D, 0x19},
    {0x54, 0x1A},
    {0x5B, 0x1B},
    {0x5A, 0x1C},
    {0x14, 0x1D},
    {0x1C, 0x1E},
    {0x1B, 0x1F},
    {0x23, 0x20},
    {0x2B, 0x21},
    {0x34, 0x22},
    {0x33, 0x23},
    {0x3B, 0x24},
    {0x42, 0x25},
    {0x4B, 0x26},
    {0x4C, 0x27},
    {0x52, 0x28},
    {0x0E, 0x29},
    {0x12, 0x2A},
    {0x5D, 0x2B},
    {0x1A, 0x2C},
    {0x22, 0x2D},
    {0x21, 0x2E},
    {0x2A, 0x2F},
    {0x32, 0x30},
    {0x31, 0x31},
    {0x3A, 0x32},
    {0x41, 0x33},
    {0x49, 0x34},
    {0x4A, 0x35},
    {0x59, 0x36},
    {0x7C, 0x37},
    {0x11, 0x38},
    {0x29, 0x39},
    {0x58, 0x3A},
    {0x05, 0x3B},
    {0x06, 0x3C},
    {0x04, 0x3D},
    {0x0C, 0x3E},
    {0x03, 0x3F},
    {0x0B, 0x40},
    {0x0A, 0x42},
    {0x01, 0x43},
    {0x09, 0x44},
    {0x77, 0x45},
    {0x7E, 0x46},
    {0x6C, 0x47},
    {0x75, 0x48},
    {0x7D, 0x49},
    {0x7B, 0x4A},
    {0x6B, 0x4B},
    {0x73, 0x4C},
    {0x74, 0x4D},
    {0x79, 0x4E},
    {0x69, 0x4F},
    {0x72, 0x50},
    {0x7A, 0x51},
    {0x70, 0x52},
    {0x71, 0x53},
    {0x61, 0x56},
    {0x78, 0x57},
    {0x07, 0x58},
    {0x1F, 0x5B},
    {0x27, 0x5C},
    {0x2F, 0x5D},
    /* Not keys: the overrun code (00 -> FF) and the "set 2" reply to F0 00. */
    {0x00, 0xFF},
    {0x02, 0x41},
};

/* Translate one byte from set 2 to set 1 (without the F0 handling).  Bytes
 * from 80h up pass unchanged, except the two set 2 codes above 7Fh: F7
 * (83h -> 41h) and Alt+SysRq (84h -> 54h).  Codes no key sends map to
 * themselves. */
static uint8_t xlate(uint8_t b)
{
    if (b == 0x83)
        return 0x41;
    if (b == 0x84)
        return 0x54;
    if (b >= 0x80)
        return b;
    for (size_t i = 0; i < sizeof set2_set1_pairs / sizeof set2_set1_pairs[0]; i++)
        if (set2_set1_pairs[i][0] == b)
            return set2_set1_pairs[i][1];
    return b;
}

/* ---- Controller output buffer ------------------------------------------------ */

static void update_irqs(I8042State *s)
{
    uint8_t cb = s->ram[0];
    int kbd = s->obf && !s->obf_aux && (cb & CB_KBD_INT);
    int aux = s->obf && s->obf_aux && (cb & CB_AUX_INT);
    if (kbd != s->irq_kbd.level)
        irq_set(&s->irq_kbd, kbd);
    if (aux != s->irq_mouse.level)
        irq_set(&s->irq_mouse, aux);
}

/* Move the next byte into the output buffer if it is empty: controller
 * replies first, then the keyboard, then the mouse; a device whose clock
 * line the command byte disables cannot send. */
static void refill(I8042State *s)
{
    while (!s->obf) {
        uint8_t cb = s->ram[0];
        if (s->ctl.count) {
            s->out = q_get(&s->ctl);
            s->obf = true;
            s->obf_aux = false;
        } else if (s->kbd.q.count && !(cb & CB_KBD_DIS)) {
            uint8_t b = q_get(&s->kbd.q);
            if (cb & CB_XLATE) {
                /* Translation: F0 is swallowed and sets bit 7 of the next
                 * code ("break" in set 1). */
                if (b == 0xF0) {
                    s->xlate_break = true;
                    continue;
                }
                b = xlate(b);
                if (s->xlate_break)
                    b |= 0x80;
                s->xlate_break = false;
            }
            s->out = b;
            s->obf = true;
            s->obf_aux = false;
        } else if (s->mouse.q.count && !(cb & CB_AUX_DIS)) {
            s->out = q_get(&s->mouse.q);
            s->obf = true;
            s->obf_aux = true;
        } else {
            break;
        }
    }
    update_irqs(s);
}

static void ctl_reply(I8042State *s, uint8_t v)
{
    q_put(&s->ctl, v);
    refill(s);
}

/* ---- Keyboard ------------------------------------------------------------------ */

static void kbd_send(I8042State *s, uint8_t v)
{
    s->kbd.last = v;
    q_put(&s->kbd.q, v);
}

/* Queue a whole key sequence.  If it does not fit, the keyboard's buffer
 * overruns: "the overrun character replaces the last character in the
 * buffer" (00h in set 2, FFh in set 1). */
static void kbd_send_seq(I8042State *s, const uint8_t *b, unsigned n)
{
    AtKeyboard *k = &s->kbd;
    if (q_free(&k->q) < n) {
        uint8_t ovr = k->set == 1 ? 0xFF : 0x00;
        if (k->q.count)
            k->q.data[(k->q.head + k->q.count - 1) % k->q.size] = ovr;
        else
            q_put(&k->q, ovr);
        return;
    }
    for (unsigned i = 0; i < n; i++)
        kbd_send(s, b[i]);
}

static void kbd_defaults(AtKeyboard *k)
{
    k->set = 2;
    k->leds = 0;
    k->typematic = 0x2B; /* 10.9 cps, 500 ms */
    k->expect = 0;
}

/* A command byte (or parameter) from the host to the keyboard. */
static void kbd_write(I8042State *s, uint8_t v)
{
    AtKeyboard *k = &s->kbd;
    if (k->expect) {
        uint8_t cmd = k->expect;
        k->expect = 0;
        switch (cmd) {
        case 0xED: /* set LEDs */
            k->leds = v & 7;
            kbd_send(s, R_ACK);
            break;
        case 0xF3: /* set typematic rate/delay */
            k->typematic = v & 0x7F;
            kbd_send(s, R_ACK);
            break;
        case 0xF0: /* get/set scan code set */
            if (v == 0) {
                kbd_send(s, R_ACK);
                kbd_send(s, k->set);
            } else if (v <= 3) {
                if (v == 3)
                    devlog(&s->log, DEVLOG_UNIMP, "i8042: scan code set 3 (set 2 is sent)");
                k->set = v;
                kbd_send(s, R_ACK);
            } else {
                kbd_send(s, R_RESEND);
            }
            break;
        default: /* set 3 key-type commands FB-FD: one key, acknowledged */
            kbd_send(s, R_ACK);
            break;
        }
        refill(s);
        return;
    }
    switch (v) {
    case 0xED: /* set/reset LEDs */
    case 0xF0: /* select alternate scan codes */
    case 0xF3: /* set typematic rate/delay */
    case 0xFB:
    case 0xFC:
    case 0xFD:
        k->expect = v;
        kbd_send(s, R_ACK);
        break;
    case 0xEE: /* echo */
        kbd_send(s, R_ECHO);
        break;
    case 0xF2: /* read ID: ACK, ABh, 83h (MF2 keyboard) */
        kbd_send(s, R_ACK);
        kbd_send(s, 0xAB);
        kbd_send(s, 0x83);
        break;
    case 0xF4: /* enable */
        q_init(&k->q, I8042_KBD_QUEUE);
        k->scanning = true;
        kbd_send(s, R_ACK);
        break;
    case 0xF5: /* default disable: defaults, clear the buffer, stop scanning */
        q_init(&k->q, I8042_KBD_QUEUE);
        kbd_defaults(k);
        k->scanning = false;
        kbd_send(s, R_ACK);
        break;
    case 0xF6: /* set default */
        q_init(&k->q, I8042_KBD_QUEUE);
        kbd_defaults(k);
        k->scanning = true;
        kbd_send(s, R_ACK);
        break;
    case 0xF7: /* set 3 "all keys" commands: acknowledged, no effect */
    case 0xF8:
    case 0xF9:
    case 0xFA:
        kbd_send(s, R_ACK);
        break;
    case 0xFE: /* resend */
        kbd_send(s, k->last);
        break;
    case 0xFF: /* reset: ACK, then the basic assurance test result */
        q_init(&k->q, I8042_KBD_QUEUE);
        kbd_defaults(k);
        k->scanning = true;
        kbd_send(s, R_ACK);
        kbd_send(s, R_BAT_OK);
        break;
    default:
        devlog(&s->log, DEVLOG_GUEST_ERROR, "i8042: unknown keyboard command %02x", v);
        kbd_send(s, R_RESEND);
        break;
    }
    refill(s);
}

void i8042_key_event(I8042State *s, unsigned key, bool down)
{
    AtKeyboard *k = &s->kbd;
    if (!k->scanning)
        return;
    uint8_t b[8];
    unsigned n = 0;
    bool set1 = k->set == 1;
    if (key == KBD_PAUSE) {
        if (!down)
            return; /* Pause has no break code */
        static const uint8_t p1[] = {0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5};
        static const uint8_t p2[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
        if (set1)
            kbd_send_seq(s, p1, sizeof p1);
        else
            kbd_send_seq(s, p2, sizeof p2);
        refill(s);
        return;
    }
    if (key == KBD_PRINT) {
        /* Print Screen: a fake shift (E0 12 / E0 2A) around the code. */
        static const uint8_t m1[] = {0xE0, 0x2A, 0xE0, 0x37}, b1[] = {0xE0, 0xB7, 0xE0, 0xAA};
        static const uint8_t m2[] = {0xE0, 0x12, 0xE0, 0x7C};
        static const uint8_t b2[] = {0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
        if (set1)
            kbd_send_seq(s, down ? m1 : b1, 4);
        else if (down)
            kbd_send_seq(s, m2, sizeof m2);
        else
            kbd_send_seq(s, b2, sizeof b2);
        refill(s);
        return;
    }
    if (key > 0xFFFF || (key > 0xFF && (key >> 8) != 0xE0))
        return; /* not a key */
    uint8_t code = (uint8_t)key;
    if (key >> 8)
        b[n++] = 0xE0;
    if (set1) {
        b[n++] = (uint8_t)(xlate(code) | (down ? 0 : 0x80));
    } else {
        if (!down)
            b[n++] = 0xF0;
        b[n++] = code;
    }
    kbd_send_seq(s, b, n);
    refill(s);
}

uint8_t i8042_get_leds(const I8042State *s)
{
    return s->kbd.leds;
}

/* ---- Mouse ------------------------------------------------------------------- */

static void mouse_send(I8042State *s, uint8_t v)
{
    s->mouse.last = v;
    q_put(&s->mouse.q, v);
}

static void mouse_defaults(Ps2Mouse *m)
{
    m->reporting = false;
    m->remote = false;
    m->scale21 = false;
    m->rate = 100;
    m->resolution = 2; /* 4 counts/mm */
    m->dx = m->dy = m->dz = 0;
    memset(m->rate_hist, 0, sizeof m->rate_hist);
}

/* 2:1 scaling (stream mode only): 0 1 1 3 6 9, then 2 x. */
static int scale21(int v)
{
    static const int t[6] = {0, 1, 1, 3, 6, 9};
    int a = v < 0 ? -v : v;
    int r = a < 6 ? t[a] : 2 * a;
    return v < 0 ? -r : r;
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Build one movement packet from the accumulated motion. */
static void mouse_packet(I8042State *s, bool stream)
{
    Ps2Mouse *m = &s->mouse;
    int dx = clamp(m->dx, -256, 255), dy = clamp(m->dy, -256, 255);
    int dz = clamp(m->dz, -8, 7);
    m->dx -= dx;
    m->dy -= dy;
    m->dz -= dz;
    if (stream && m->scale21) {
        dx = clamp(scale21(dx), -256, 255);
        dy = clamp(scale21(dy), -256, 255);
    }
    uint8_t b0 = (uint8_t)(0x08 | (m->buttons & 7) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0));
    mouse_send(s, b0);
    mouse_send(s, (uint8_t)dx);
    mouse_send(s, (uint8_t)dy);
    if (m->id == 3)
        mouse_send(s, (uint8_t)dz);
}

/* Stream mode: report pending motion while there is room for packets. */
static void mouse_flush(I8042State *s, bool force)
{
    Ps2Mouse *m = &s->mouse;
    unsigned len = m->id == 3 ? 4 : 3;
    if (!m->reporting || m->remote || m->wrap)
        return;
    while (q_free(&m->q) >= len && (force || m->dx || m->dy || m->dz)) {
        mouse_packet(s, true);
        force = false;
    }
}

static void mouse_write(I8042State *s, uint8_t v)
{
    Ps2Mouse *m = &s->mouse;
    if (m->wrap && v != 0xEC && v != 0xFF) {
        mouse_send(s, v); /* wrap mode echoes everything else */
        refill(s);
        return;
    }
    if (m->expect) {
        uint8_t cmd = m->expect;
        m->expect = 0;
        if (cmd == 0xF3) {
            m->rate = v;
            m->rate_hist[0] = m->rate_hist[1];
            m->rate_hist[1] = m->rate_hist[2];
            m->rate_hist[2] = v;
            /* IntelliMouse detection: rates 200, 100, 80 in a row. */
            if (m->rate_hist[0] == 200 && m->rate_hist[1] == 100 && m->rate_hist[2] == 80)
                m->id = 3;
        } else { /* E8 */
            m->resolution = v & 3;
        }
        mouse_send(s, R_ACK);
        refill(s);
        return;
    }
    switch (v) {
    case 0xE6:
        m->scale21 = false;
        mouse_send(s, R_ACK);
        break;
    case 0xE7:
        m->scale21 = true;
        mouse_send(s, R_ACK);
        break;
    case 0xE8: /* set resolution */
    case 0xF3: /* set sample rate */
        m->expect = v;
        mouse_send(s, R_ACK);
        break;
    case 0xE9: /* status request: mode/buttons, resolution, rate */
        mouse_send(s, R_ACK);
        mouse_send(s, (uint8_t)((m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
                                (m->scale21 ? 0x10 : 0) | ((m->buttons & MOUSE_LEFT) ? 4 : 0) |
                                ((m->buttons & MOUSE_MIDDLE) ? 2 : 0) |
                                ((m->buttons & MOUSE_RIGHT) ? 1 : 0)));
        mouse_send(s, m->resolution);
        mouse_send(s, m->rate);
        break;
    case 0xEA:
        m->remote = false;
        mouse_send(s, R_ACK);
        break;
    case 0xEB: /* read data */
        mouse_send(s, R_ACK);
        mouse_packet(s, false);
        break;
    case 0xEC:
        m->wrap = false;
        mouse_send(s, R_ACK);
        break;
    case 0xEE:
        m->wrap = true;
        mouse_send(s, R_ACK);
        break;
    case 0xF0:
        m->remote = true;
        mouse_send(s, R_ACK);
        break;
    case 0xF2: /* read device type */
        mouse_send(s, R_ACK);
        mouse_send(s, m->id);
        break;
    case 0xF4:
        m->reporting = true;
        mouse_send(s, R_ACK);
        break;
    case 0xF5:
        m->reporting = false;
        mouse_send(s, R_ACK);
        break;
    case 0xF6:
        mouse_defaults(m);
        mouse_send(s, R_ACK);
        break;
    case 0xFE:
        mouse_send(s, m->last);
        break;
    case 0xFF: /* reset: ACK, BAT completion AAh, ID 00h */
        q_init(&m->q, I8042_AUX_QUEUE);
        mouse_defaults(m);
        m->wrap = false;
        m->id = 0;
        mouse_send(s, R_ACK);
        mouse_send(s, R_BAT_OK);
        mouse_send(s, 0x00);
        break;
    default:
        devlog(&s->log, DEVLOG_GUEST_ERROR, "i8042: unknown mouse command %02x", v);
        mouse_send(s, R_RESEND);
        break;
    }
    refill(s);
}

void i8042_mouse_event(I8042State *s, int dx, int dy, int dz, unsigned buttons)
{
    Ps2Mouse *m = &s->mouse;
    bool changed = (buttons & 7) != m->buttons;
    m->buttons = (uint8_t)(buttons & 7);
    if (!m->reporting || m->remote) {
        /* Remote mode keeps the motion for the next read data (EBh);
         * a disabled stream-mode mouse reports nothing. */
        if (m->remote) {
            m->dx = clamp(m->dx + dx, -4096, 4096);
            m->dy = clamp(m->dy - dy, -4096, 4096);
            m->dz = clamp(m->dz - dz, -64, 64);
        }
        return;
    }
    /* Bound the backlog so a flood of host events cannot grow it without
     * limit; the excess is motion the guest could not have read anyway. */
    m->dx = clamp(m->dx + dx, -4096, 4096);
    m->dy = clamp(m->dy - dy, -4096, 4096);
    m->dz = clamp(m->dz - dz, -64, 64);
    mouse_flush(s, changed);
    refill(s);
}

/* ---- Controller ------------------------------------------------------------- */

static void set_outport(I8042State *s, uint8_t v)
{
    uint8_t old = s->outport;
    s->outport = v;
    if ((old ^ v) & OP_A20 && s->a20)
        s->a20(s->cb_opaque, v & OP_A20);
    if (!(v & OP_RESET)) {
        /* Bit 0 low resets the processor; the line returns high. */
        s->outport |= OP_RESET;
        if (s->reset)
            s->reset(s->cb_opaque);
    }
}

static uint8_t read_outport(const I8042State *s)
{
    uint8_t v = s->outport & ~(OP_OBF_KBD | OP_OBF_AUX);
    if (s->obf && !s->obf_aux)
        v |= OP_OBF_KBD;
    if (s->obf && s->obf_aux)
        v |= OP_OBF_AUX;
    return v;
}

static void write_command_byte(I8042State *s, uint8_t v)
{
    s->ram[0] = v & 0x7F; /* bit 7 is reserved, always 0 */
    refill(s);
}

static void controller_command(I8042State *s, uint8_t v)
{
    if (v >= 0x20 && v <= 0x3F) { /* read controller RAM */
        ctl_reply(s, s->ram[v & 0x1F]);
        return;
    }
    if ((v >= 0x60 && v <= 0x7F) || v == 0xD1 || v == 0xD2 || v == 0xD3 || v == 0xD4) {
        s->pending = v; /* the next byte written to port 60h is the data */
        return;
    }
    if (v >= 0xF0) {
        /* Pulse output port bits whose mask bit is 0 (F0-FF); bit 0 is
         * the reset line, so FEh resets the processor. */
        if (!(v & 0x01)) {
            if (s->reset)
                s->reset(s->cb_opaque);
        }
        return;
    }
    switch (v) {
    case 0xA4:
        ctl_reply(s, 0xF1);
        break; /* no password installed */
    case 0xA7:
        s->ram[0] |= CB_AUX_DIS;
        refill(s);
        break;
    case 0xA8:
        s->ram[0] &= (uint8_t)~CB_AUX_DIS;
        refill(s);
        break;
    case 0xA9:
        ctl_reply(s, 0x00);
        break; /* auxiliary interface test: OK */
    case 0xAA: /* self test: 55h, and the system flag reads 1 */
        s->ram[0] |= CB_SYS;
        ctl_reply(s, 0x55);
        break;
    case 0xAB:
        ctl_reply(s, 0x00);
        break; /* keyboard interface test: OK */
    case 0xAD:
        s->ram[0] |= CB_KBD_DIS;
        refill(s);
        break;
    case 0xAE:
        s->ram[0] &= (uint8_t)~CB_KBD_DIS;
        refill(s);
        break;
    case 0xC0:
        ctl_reply(s, 0x80);
        break; /* input port: keyboard not inhibited */
    case 0xD0:
        ctl_reply(s, read_outport(s));
        break;
    case 0xDD:
        set_outport(s, s->outport & (uint8_t)~OP_A20);
        break; /* A20 off */
    case 0xDF:
        set_outport(s, s->outport | OP_A20);
        break; /* A20 on */
    case 0xE0:
        ctl_reply(s, 0x00);
        break; /* test inputs */
    default:
        devlog(&s->log, DEVLOG_GUEST_ERROR, "i8042: unknown controller command %02x", v);
        break;
    }
}

static void data_write(I8042State *s, uint8_t v)
{
    uint8_t cmd = s->pending;
    s->pending = 0;
    if (cmd >= 0x60 && cmd <= 0x7F) {
        if (cmd == 0x60)
            write_command_byte(s, v);
        else
            s->ram[cmd & 0x1F] = v;
        return;
    }
    switch (cmd) {
    case 0xD1:
        set_outport(s, v);
        break;
    case 0xD2:             /* as if the keyboard had sent it */
        q_put(&s->ctl, v); /* not translated; reported as keyboard data */
        refill(s);
        break;
    case 0xD3: /* as if the mouse had sent it */
        if (!s->obf) {
            s->out = v;
            s->obf = true;
            s->obf_aux = true;
            update_irqs(s);
        } else {
            q_put(&s->mouse.q, v);
        }
        break;
    case 0xD4:
        mouse_write(s, v);
        break;
    default:
        kbd_write(s, v);
        break; /* no controller command: to the keyboard */
    }
}

/* ---- Bus glue -------------------------------------------------------------- */

static uint32_t data_read(void *opaque, uint32_t off, unsigned size)
{
    (void)off;
    (void)size;
    I8042State *s = opaque;
    uint8_t v = s->out; /* with the buffer empty, the last byte again */
    if (s->obf) {
        bool aux = s->obf_aux;
        s->obf = false;
        s->obf_aux = false;
        update_irqs(s);
        if (aux)
            mouse_flush(s, false);
        refill(s);
    }
    return v;
}

static void data_write_op(void *opaque, uint32_t off, uint32_t v, unsigned size)
{
    (void)off;
    (void)size;
    I8042State *s = opaque;
    s->last_was_cmd = false;
    data_write(s, (uint8_t)v);
}

static uint32_t status_read(void *opaque, uint32_t off, unsigned size)
{
    (void)off;
    (void)size;
    I8042State *s = opaque;
    uint8_t v = ST_UNLOCKED;
    if (s->obf)
        v |= ST_OBF;
    if (s->obf && s->obf_aux)
        v |= ST_AUXB;
    if (s->ram[0] & CB_SYS)
        v |= ST_SYS;
    if (s->last_was_cmd)
        v |= ST_CMD;
    return v; /* IBF is never set: input is taken at once */
}

static void cmd_write_op(void *opaque, uint32_t off, uint32_t v, unsigned size)
{
    (void)off;
    (void)size;
    I8042State *s = opaque;
    s->last_was_cmd = true;
    s->pending = 0;
    controller_command(s, (uint8_t)v);
}

const BusOps i8042_data_ops = {data_read, data_write_op, 1, 1};
const BusOps i8042_cmd_ops = {status_read, cmd_write_op, 1, 1};

/* ---- Life cycle -------------------------------------------------------------- */

void i8042_reset(I8042State *s)
{
    memset(s->ram, 0, sizeof s->ram);
    s->out = 0;
    s->obf = s->obf_aux = false;
    s->last_was_cmd = false;
    s->pending = 0;
    s->outport = OP_RESET | OP_A20;
    s->xlate_break = false;
    q_init(&s->ctl, I8042_CTL_QUEUE);

    q_init(&s->kbd.q, I8042_KBD_QUEUE);
    kbd_defaults(&s->kbd);
    s->kbd.scanning = true;
    s->kbd.last = 0;

    q_init(&s->mouse.q, I8042_AUX_QUEUE);
    mouse_defaults(&s->mouse);
    s->mouse.wrap = false;
    s->mouse.id = 0;
    s->mouse.expect = 0;
    s->mouse.buttons = 0;
    s->mouse.last = 0;
    update_irqs(s);
}

void i8042_init(I8042State *s)
{
    memset(s, 0, sizeof *s);
    i8042_reset(s);
}
