/* Physical memory map and port map; see bus.h. */
#include "machine/bus.h"

#include <stdlib.h>
#include <string.h>

int bus_init(Bus *b)
{
    memset(b, 0, sizeof(*b));
    b->port_map = calloc(65536, 1);
    return b->port_map ? 0 : -1;
}

void bus_destroy(Bus *b)
{
    free(b->port_map);
    b->port_map = NULL;
}

static int bus_add_region(Bus *b, const MemRegion *r)
{
    if (b->n_regions >= BUS_MAX_REGIONS || r->size == 0)
        return -1;
    /* Keep the array sorted by descending priority so that the first match
     * is the visible one. */
    int at = b->n_regions;
    while (at > 0 && b->regions[at - 1].priority < r->priority) {
        b->regions[at] = b->regions[at - 1];
        at--;
    }
    b->regions[at] = *r;
    b->n_regions++;
    b->last_hit = NULL;
    return 0;
}

int bus_map_ram(Bus *b, uint64_t start, uint64_t size, uint8_t *host, int priority)
{
    MemRegion r = {.start = start, .size = size, .kind = MEM_RAM, .host = host,
                   .priority = priority};
    return bus_add_region(b, &r);
}

int bus_map_rom(Bus *b, uint64_t start, uint64_t size, uint8_t *host, int priority)
{
    MemRegion r = {.start = start, .size = size, .kind = MEM_ROM, .host = host,
                   .priority = priority};
    return bus_add_region(b, &r);
}

int bus_map_mmio(Bus *b, uint64_t start, uint64_t size, const BusOps *ops, void *s,
                 int priority)
{
    MemRegion r = {.start = start, .size = size, .kind = MEM_MMIO, .ops = ops,
                   .opaque = s, .priority = priority};
    return bus_add_region(b, &r);
}

int bus_map_ports(Bus *b, uint16_t start, uint16_t count, const BusOps *ops, void *s)
{
    if (b->n_ranges >= BUS_MAX_PORT_RANGES || count == 0 ||
        (uint32_t)start + count > 65536)
        return -1;
    PortRange *p = &b->ranges[b->n_ranges++];
    p->start = start;
    p->count = count;
    p->ops = ops;
    p->opaque = s;
    for (uint32_t i = start; i < (uint32_t)start + count; i++)
        b->port_map[i] = (uint8_t)b->n_ranges;
    return 0;
}

static bool region_contains(const MemRegion *r, uint64_t phys)
{
    return phys >= r->start && phys - r->start < r->size;
}

const MemRegion *bus_find(Bus *b, uint64_t phys)
{
    /* A hidden lower-priority region must not be returned from the cache, so
     * the cache only short-cuts the highest-priority hit. */
    const MemRegion *r = b->last_hit;
    if (r && region_contains(r, phys) && r == &b->regions[0])
        return r;
    for (int i = 0; i < b->n_regions; i++) {
        if (region_contains(&b->regions[i], phys)) {
            b->last_hit = &b->regions[i];
            return &b->regions[i];
        }
    }
    return NULL;
}

/* How many bytes after `phys` remain before a higher-priority region starts
 * or this one ends. */
static uint64_t region_avail(Bus *b, const MemRegion *r, uint64_t phys)
{
    uint64_t end = r->start + r->size;
    for (int i = 0; i < b->n_regions && &b->regions[i] != r; i++) {
        const MemRegion *o = &b->regions[i];
        if (o->start > phys && o->start < end)
            end = o->start;
    }
    return end - phys;
}

uint8_t *bus_host_ptr(Bus *b, uint64_t phys, bool write, uint64_t *avail)
{
    const MemRegion *r = bus_find(b, phys);
    if (!r || r->kind == MEM_MMIO || (write && r->kind == MEM_ROM))
        return NULL;
    if (avail)
        *avail = region_avail(b, r, phys);
    return r->host + (phys - r->start);
}

static uint32_t ld_le(const uint8_t *p, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static void st_le(uint8_t *p, uint32_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Device access with the bus doing the splitting and merging. */
static uint32_t ops_read(const BusOps *ops, void *s, uint32_t off, unsigned size)
{
    if (!ops->read)
        return 0xFFFFFFFFu >> (32 - 8 * size);
    unsigned lo = ops->min_size ? ops->min_size : 1;
    unsigned hi = ops->max_size ? ops->max_size : 4;
    if (size >= lo && size <= hi)
        return ops->read(s, off, size);
    if (size > hi) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i += hi)
            v |= ops->read(s, off + i, hi) << (8 * i);
        return v;
    }
    /* Narrower than the device takes: read the containing unit. */
    uint32_t aligned = off & ~(uint32_t)(lo - 1);
    uint32_t v = ops->read(s, aligned, lo);
    v >>= 8 * (off - aligned);
    return v & (0xFFFFFFFFu >> (32 - 8 * size));
}

static void ops_write(const BusOps *ops, void *s, uint32_t off, uint32_t v, unsigned size)
{
    if (!ops->write)
        return;
    unsigned lo = ops->min_size ? ops->min_size : 1;
    unsigned hi = ops->max_size ? ops->max_size : 4;
    if (size >= lo && size <= hi) {
        ops->write(s, off, v, size);
        return;
    }
    if (size > hi) {
        for (unsigned i = 0; i < size; i += hi)
            ops->write(s, off + i, (v >> (8 * i)) & (0xFFFFFFFFu >> (32 - 8 * hi)), hi);
        return;
    }
    /* Narrower than the device takes: read-modify-write the unit. */
    uint32_t aligned = off & ~(uint32_t)(lo - 1);
    unsigned shift = 8 * (off - aligned);
    uint32_t mask = (0xFFFFFFFFu >> (32 - 8 * size)) << shift;
    uint32_t cur = ops->read ? ops->read(s, aligned, lo) : 0;
    ops->write(s, aligned, (cur & ~mask) | ((v << shift) & mask), lo);
}

uint32_t bus_mem_read(Bus *b, uint64_t phys, unsigned size)
{
    const MemRegion *r = bus_find(b, phys);
    if (r && phys + size - r->start <= r->size && region_avail(b, r, phys) >= size) {
        if (r->kind != MEM_MMIO)
            return ld_le(r->host + (phys - r->start), size);
        return ops_read(r->ops, r->opaque, (uint32_t)(phys - r->start), size);
    }
    if (!r && size == 1) {
        b->unassigned_reads++;
        return 0xFF; /* open bus */
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= bus_mem_read(b, phys + i, 1) << (8 * i);
    return v;
}

void bus_mem_write(Bus *b, uint64_t phys, uint32_t value, unsigned size)
{
    const MemRegion *r = bus_find(b, phys);
    if (r && phys + size - r->start <= r->size && region_avail(b, r, phys) >= size) {
        if (r->kind == MEM_RAM) {
            st_le(r->host + (phys - r->start), value, size);
            if (b->notify)
                b->notify(b->notify_opaque, phys, size);
        } else if (r->kind == MEM_MMIO) {
            ops_write(r->ops, r->opaque, (uint32_t)(phys - r->start), value, size);
        }
        return; /* ROM: writes are ignored, as on a real board */
    }
    if (!r && size == 1)
        return;
    for (unsigned i = 0; i < size; i++)
        bus_mem_write(b, phys + i, (value >> (8 * i)) & 0xFF, 1);
}

uint32_t bus_io_read(Bus *b, uint16_t port, unsigned size)
{
    unsigned idx = b->port_map[port];
    if (idx) {
        const PortRange *p = &b->ranges[idx - 1];
        if ((uint32_t)port + size <= (uint32_t)p->start + p->count)
            return ops_read(p->ops, p->opaque, port - p->start, size);
    }
    if (size == 1)
        return 0xFF; /* nothing decodes it: the ISA bus floats high */
    /* Split an access that spans ranges (or unassigned ports) byte by byte. */
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= bus_io_read(b, (uint16_t)(port + i), 1) << (8 * i);
    return v;
}

void bus_io_write(Bus *b, uint16_t port, uint32_t value, unsigned size)
{
    unsigned idx = b->port_map[port];
    if (idx) {
        const PortRange *p = &b->ranges[idx - 1];
        if ((uint32_t)port + size <= (uint32_t)p->start + p->count) {
            ops_write(p->ops, p->opaque, port - p->start, value, size);
            return;
        }
    }
    if (size == 1)
        return;
    for (unsigned i = 0; i < size; i++)
        bus_io_write(b, (uint16_t)(port + i), (value >> (8 * i)) & 0xFF, 1);
}

uint64_t bus_write_phys(Bus *b, uint64_t phys, const void *src, uint64_t len)
{
    const uint8_t *s = src;
    uint64_t done = 0;
    while (done < len) {
        uint64_t avail = 0;
        uint8_t *h = bus_host_ptr(b, phys + done, true, &avail);
        if (h) {
            uint64_t n = len - done < avail ? len - done : avail;
            memcpy(h, s + done, n);
            if (b->notify)
                b->notify(b->notify_opaque, phys + done, n);
            done += n;
        } else {
            if (!bus_find(b, phys + done))
                break;
            bus_mem_write(b, phys + done, s[done], 1);
            done++;
        }
    }
    return done;
}

uint64_t bus_read_phys(Bus *b, uint64_t phys, void *dst, uint64_t len)
{
    uint8_t *d = dst;
    uint64_t done = 0;
    while (done < len) {
        uint64_t avail = 0;
        uint8_t *h = bus_host_ptr(b, phys + done, false, &avail);
        if (h) {
            uint64_t n = len - done < avail ? len - done : avail;
            memcpy(d + done, h, n);
            done += n;
        } else {
            if (!bus_find(b, phys + done))
                break;
            d[done] = (uint8_t)bus_mem_read(b, phys + done, 1);
            done++;
        }
    }
    return done;
}
