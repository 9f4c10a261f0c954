/* The physical memory bus and the I/O port bus.
 *
 * One ops shape serves both: read(s, offset, size) and write(s, offset,
 * value, size), where offset is relative to the start of the mapping and
 * size is 1, 2 or 4 bytes.  A device states the access sizes it accepts;
 * the bus, not the device, splits wider accesses and merges narrower ones.
 *
 * RAM and ROM are plain host memory; the CPU reaches them through its TLB
 * without calling the bus.  Everything else (MMIO, unassigned space, ports)
 * goes through the slow path here.
 */
#ifndef KESTREL_MACHINE_BUS_H
#define KESTREL_MACHINE_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct BusOps {
    uint32_t (*read)(void *s, uint32_t offset, unsigned size);
    void (*write)(void *s, uint32_t offset, uint32_t value, unsigned size);
    uint8_t min_size; /* smallest access the device takes (1, 2 or 4) */
    uint8_t max_size; /* largest access the device takes (1, 2 or 4) */
} BusOps;

typedef enum MemKind { MEM_RAM, MEM_ROM, MEM_MMIO } MemKind;

typedef struct MemRegion {
    uint64_t start;
    uint64_t size;
    MemKind kind;
    uint8_t *host; /* RAM and ROM */
    const BusOps *ops; /* MMIO */
    void *opaque;
    int priority; /* a higher priority region hides a lower one */
} MemRegion;

typedef struct PortRange {
    uint16_t start;
    uint16_t count;
    const BusOps *ops;
    void *opaque;
} PortRange;

#define BUS_MAX_REGIONS 64
#define BUS_MAX_PORT_RANGES 128

/* Called when something other than the CPU (DMA, a loader) writes RAM, so
 * that decoded code covering it is dropped. */
typedef void (*BusWriteNotify)(void *opaque, uint64_t phys, uint64_t len);

typedef struct Bus {
    MemRegion regions[BUS_MAX_REGIONS];
    int n_regions;
    PortRange ranges[BUS_MAX_PORT_RANGES];
    int n_ranges;
    uint8_t *port_map; /* 65536 entries: index+1 into ranges, 0 = unassigned */
    const MemRegion *last_hit;
    BusWriteNotify notify;
    void *notify_opaque;
    uint64_t unassigned_reads; /* statistics for guest_error reporting */
} Bus;

int bus_init(Bus *b);
void bus_destroy(Bus *b);

/* Map host memory as RAM or ROM; `host` stays owned by the caller. */
int bus_map_ram(Bus *b, uint64_t start, uint64_t size, uint8_t *host, int priority);
int bus_map_rom(Bus *b, uint64_t start, uint64_t size, uint8_t *host, int priority);
int bus_map_mmio(Bus *b, uint64_t start, uint64_t size, const BusOps *ops, void *s,
                 int priority);
int bus_map_ports(Bus *b, uint16_t start, uint16_t count, const BusOps *ops, void *s);

/* The region that decodes physical address `phys`, or NULL if nothing does. */
const MemRegion *bus_find(Bus *b, uint64_t phys);

/* Host pointer to the byte at `phys` when it is RAM (or ROM and !write),
 * together with how many bytes after it stay in the same region. */
uint8_t *bus_host_ptr(Bus *b, uint64_t phys, bool write, uint64_t *avail);

/* Slow-path accesses: any size 1, 2 or 4, any alignment. */
uint32_t bus_mem_read(Bus *b, uint64_t phys, unsigned size);
void bus_mem_write(Bus *b, uint64_t phys, uint32_t value, unsigned size);
uint32_t bus_io_read(Bus *b, uint16_t port, unsigned size);
void bus_io_write(Bus *b, uint16_t port, uint32_t value, unsigned size);

/* Copy to or from guest physical memory (loaders, DMA).  Writes notify the
 * code cache.  Returns the number of bytes that reached RAM/ROM/MMIO. */
uint64_t bus_write_phys(Bus *b, uint64_t phys, const void *src, uint64_t len);
uint64_t bus_read_phys(Bus *b, uint64_t phys, void *dst, uint64_t len);

#endif
