/* The DMA watch. See dma_watch.h. */
#include "diag/dma_watch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/dma.h"
#include "host/kernel.h"
#include "host/mm.h"
#include "host/pci.h"
#include "iommu/iommu.h"
#include "pcie/topology.h"
#include "sim/sim.h"

#define WATCH_HISTORY 1024 /* unmapped mappings remembered */

struct watch_map {
    struct device *dev;
    uint16_t rid;                /* the device's BDF when mapped */
    const struct pcie_fn *port;  /* its root port, NULL on the root bus */
    uint64_t dma, size, phys;
    enum dma_data_direction dir;
    bool coherent, live;
    sim_time_t mapped, unmapped;
};

/* One IOMMU the watch observes, and the observer it found there. */
struct watch_tap {
    struct diag_dma_watch *w;
    struct iommu *io;
    iommu_observer_fn prev_obs;
    void *prev_obs_ctx;
};

#define WATCH_MAX_IOMMUS 8

struct diag_dma_watch {
    struct host_kernel *k;
    struct pcie_fabric *f;
    struct watch_tap taps[WATCH_MAX_IOMMUS]; /* the IOMMUs on f's upstream path */
    size_t ntaps;
    /* what was installed before us */
    pcie_upstream_fn next;
    void *next_ctx;
    /* the observer's answer for the request in progress */
    bool seen, ok;
    uint64_t pa;
    /* mappings, live and unmapped, in order of mapping */
    struct watch_map *maps;
    size_t nmaps, cap;
    size_t nhistory;
    struct diag_dma_stray strays[DIAG_DMA_WATCH_MAX];
    size_t nstrays;
    struct diag_dma_watch_totals totals;
};

const char *diag_dma_dir_name(enum dma_data_direction d)
{
    switch (d) {
    case DMA_TO_DEVICE: return "DMA_TO_DEVICE";
    case DMA_FROM_DEVICE: return "DMA_FROM_DEVICE";
    case DMA_BIDIRECTIONAL: return "DMA_BIDIRECTIONAL";
    default: return "DMA_NONE";
    }
}

static struct pci_dev *pdev_of(struct device *dev)
{
    /* every device of pcilab's kernel is a PCI device (pci.h: dev is first) */
    return dev && dev->bus_name && !strcmp(dev->bus_name, "pci") ? (struct pci_dev *)dev : NULL;
}

static const struct pcie_fn *root_port_of(const struct pcie_fn *fn)
{
    const struct pcie_fn *p = fn ? pcie_fn_parent(fn) : NULL;
    while (p && pcie_fn_parent(p))
        p = pcie_fn_parent(p);
    return p;
}

/* ---- The DMA API side ---- */

static void forget_oldest_unmapped(struct diag_dma_watch *w)
{
    for (size_t i = 0; i < w->nmaps; i++)
        if (!w->maps[i].live) {
            memmove(&w->maps[i], &w->maps[i + 1], (w->nmaps - i - 1) * sizeof *w->maps);
            w->nmaps--;
            w->nhistory--;
            return;
        }
}

static void on_map(void *ctx, struct device *dev, uint64_t phys, dma_addr_t dma, size_t size,
                   enum dma_data_direction dir, bool coherent)
{
    struct diag_dma_watch *w = ctx;
    w->totals.maps++;
    if (w->nmaps == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        struct watch_map *m = realloc(w->maps, cap * sizeof *m);
        if (!m)
            return; /* the watch goes blind to this one; findings may follow */
        w->maps = m;
        w->cap = cap;
    }
    struct pci_dev *p = pdev_of(dev);
    w->maps[w->nmaps++] = (struct watch_map){
        .dev = dev, .rid = p ? host_pci_bdf(p) : 0xffff, .port = p ? root_port_of(p->fn) : NULL,
        .dma = dma, .size = size, .phys = phys, .dir = dir, .coherent = coherent, .live = true,
        .mapped = sim_now(w->k->sim)};
}

static void on_unmap(void *ctx, struct device *dev, dma_addr_t dma, size_t size,
                     enum dma_data_direction dir, bool coherent)
{
    (void)size;
    (void)dir;
    struct diag_dma_watch *w = ctx;
    w->totals.unmaps++;
    /* the latest live mapping of dev at dma */
    for (size_t i = w->nmaps; i-- > 0;) {
        struct watch_map *m = &w->maps[i];
        if (m->live && m->dev == dev && m->dma == dma && m->coherent == coherent) {
            m->live = false;
            m->unmapped = sim_now(w->k->sim);
            if (++w->nhistory > WATCH_HISTORY)
                forget_oldest_unmapped(w);
            return;
        }
    }
}

static const struct host_dma_watch watch_ops = {on_map, on_unmap};

/* ---- The fabric side ---- */

static bool is_owner(const struct watch_map *m, uint16_t rid, const struct pcie_fn *ingress)
{
    return m->live && (m->rid == rid || (ingress && m->port == ingress));
}

static bool dir_allows(enum dma_data_direction d, bool write)
{
    return d == DMA_BIDIRECTIONAL || d == (write ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
}

static void describe_device(struct diag_dma_watch *w, uint16_t rid, char *buf, size_t len)
{
    char bdf[16];
    pcie_bdf_str(rid, bdf);
    struct pci_dev *p = host_pci_find(w->k, 0, rid);
    const char *drv = p && p->dev.driver_name ? p->dev.driver_name : NULL;
    snprintf(buf, len, "%s (%s)", bdf, drv ? drv : p ? "no driver" : "no such device");
}

static void describe_mappings(struct diag_dma_watch *w, uint16_t rid,
                              const struct pcie_fn *ingress, char *buf, size_t len)
{
    size_t used = 0;
    unsigned n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < w->nmaps; i++) {
        const struct watch_map *m = &w->maps[i];
        if (!is_owner(m, rid, ingress))
            continue;
        if (n == 3) {
            snprintf(buf + used, len - used, ", ...");
            return;
        }
        int k = snprintf(buf + used, len - used, "%s0x%llx+0x%llx %s", n ? ", " : "",
                         (unsigned long long)m->dma, (unsigned long long)m->size,
                         m->coherent ? "coherent" : diag_dma_dir_name(m->dir));
        if (k < 0 || (size_t)k >= len - used)
            return;
        used += (size_t)k;
        n++;
    }
    if (!n)
        snprintf(buf, len, "none");
}

/* Whose the physical byte pa is now; true when a DMA buffer (live or
 * unmapped) holds it. */
static bool describe_owner(struct diag_dma_watch *w, uint16_t rid, const struct pcie_fn *ingress,
                           uint64_t pa, char *buf, size_t len)
{
    const struct watch_map *live = NULL, *gone = NULL;
    for (size_t i = 0; i < w->nmaps; i++) {
        const struct watch_map *m = &w->maps[i];
        if (pa < m->phys || pa - m->phys >= m->size)
            continue;
        if (m->live && !live)
            live = m;
        else if (!m->live)
            gone = m; /* the latest unmapped */
    }
    if (live) {
        bool own = is_owner(live, rid, ingress);
        struct pci_dev *p = pdev_of(live->dev);
        snprintf(buf, len, "%s: %s %s mapped it %s at 0x%llx (phys 0x%llx+0x%llx)",
                 own ? "the device's own DMA buffer" : p ? "another device's DMA buffer"
                                                       : "a DMA buffer",
                 live->dev->driver_name ? live->dev->driver_name : "", live->dev->name,
                 live->coherent ? "coherent" : diag_dma_dir_name(live->dir), (unsigned long long)live->dma,
                 (unsigned long long)live->phys, (unsigned long long)live->size);
        return true;
    }
    if (gone) {
        sim_time_t t = gone->unmapped;
        snprintf(buf, len, "%s %s's DMA buffer (%s at 0x%llx) until its unmap at %llu.%06llu s",
                 gone->dev->driver_name ? gone->dev->driver_name : "", gone->dev->name,
                 gone->coherent ? "coherent" : diag_dma_dir_name(gone->dir),
                 (unsigned long long)gone->dma, (unsigned long long)(t / SIM_S),
                 (unsigned long long)(t % SIM_S / SIM_US));
        return true;
    }
    if (host_phys_to_virt(w->k, pa))
        snprintf(buf, len, "kernel memory in use: allocated, and mapped for DMA by no device");
    else
        snprintf(buf, len, "memory the kernel has not allocated (free pages)");
    return false;
}

/* The mapping (live or not) nearest to pa by physical address, within 64 KiB,
 * that does not contain it: "0x400 bytes past the end of ...". */
static void describe_near(struct diag_dma_watch *w, uint64_t pa, char *buf, size_t len)
{
    const struct watch_map *best = NULL;
    uint64_t dist = 0x10000;
    bool after = false;
    for (size_t i = 0; i < w->nmaps; i++) {
        const struct watch_map *m = &w->maps[i];
        if (pa >= m->phys && pa - m->phys < m->size)
            continue;
        bool past = pa >= m->phys + m->size;
        uint64_t d = past ? pa - (m->phys + m->size) : m->phys - pa;
        if (d < dist || (d == dist && best && !best->live && m->live)) {
            best = m;
            dist = d;
            after = past;
        }
    }
    buf[0] = '\0';
    if (!best)
        return;
    char d[32];
    if (dist)
        snprintf(d, sizeof d, "0x%llx bytes ", (unsigned long long)dist);
    else
        snprintf(d, sizeof d, "just ");
    snprintf(buf, len, "%s%s %s %s's DMA buffer (%s, phys 0x%llx+0x%llx%s)", d,
             after ? "past the end of" : "below",
             best->dev->driver_name ? best->dev->driver_name : "", best->dev->name,
             best->coherent ? "coherent" : diag_dma_dir_name(best->dir), (unsigned long long)best->phys,
             (unsigned long long)best->size, best->live ? "" : ", unmapped");
}

static void record(struct diag_dma_watch *w, const struct pcie_upstream_req *req,
                   enum diag_dma_stray_kind kind, uint64_t bus, uint64_t pa, uint64_t n)
{
    if (req->write)
        w->totals.write_bytes_outside += n;
    else
        w->totals.read_bytes_outside += n;
    uint64_t page = pa >> 12;
    sim_time_t now = sim_now(w->k->sim);
    for (size_t i = 0; i < w->nstrays; i++) {
        struct diag_dma_stray *s = &w->strays[i];
        if (s->rid == req->requester_id && s->write == req->write && s->kind == kind &&
            s->page == page) {
            s->bytes += n;
            s->tlps++;
            s->last = now;
            if (pa + n - 1 > s->last_pa)
                s->last_pa = pa + n - 1;
            return;
        }
    }
    if (w->nstrays == DIAG_DMA_WATCH_MAX) {
        w->totals.dropped++;
        return;
    }
    struct diag_dma_stray *s = &w->strays[w->nstrays++];
    memset(s, 0, sizeof *s);
    s->rid = req->requester_id;
    s->write = req->write;
    s->kind = kind;
    s->page = page;
    s->bytes = n;
    s->tlps = 1;
    s->first = s->last = now;
    s->first_bus = bus;
    s->first_pa = pa;
    s->last_pa = pa + n - 1;
    describe_device(w, req->requester_id, s->device, sizeof s->device);
    bool buffer = describe_owner(w, req->requester_id, req->ingress, pa, s->owner, sizeof s->owner);
    describe_mappings(w, req->requester_id, req->ingress, s->mappings, sizeof s->mappings);
    if (!buffer)
        describe_near(w, pa, s->near, sizeof s->near);
}

/* Walks [addr, addr + len) over the owners' mappings. */
static void check(struct diag_dma_watch *w, const struct pcie_upstream_req *req, uint64_t pa)
{
    uint64_t x = req->addr, end = req->addr + req->len;
    while (x < end) {
        const struct watch_map *in = NULL;
        uint64_t next = end;
        for (size_t i = 0; i < w->nmaps; i++) {
            const struct watch_map *m = &w->maps[i];
            if (!is_owner(m, req->requester_id, req->ingress))
                continue;
            if (x >= m->dma && x - m->dma < m->size) {
                /* a mapping allowing the access wins over one that does not */
                if (!in || (!dir_allows(in->dir, req->write) && dir_allows(m->dir, req->write)))
                    in = m;
            } else if (m->dma > x && m->dma < next) {
                next = m->dma;
            }
        }
        uint64_t stop = end;
        if (in) {
            stop = in->dma + in->size < end ? in->dma + in->size : end;
            if (!dir_allows(in->dir, req->write))
                record(w, req, DIAG_STRAY_DIRECTION, x, pa + (x - req->addr), stop - x);
        } else {
            stop = next;
            record(w, req, DIAG_STRAY_OUTSIDE, x, pa + (x - req->addr), stop - x);
        }
        x = stop;
    }
}

static void observe(void *ctx, const struct pcie_upstream_req *up, const struct iommu_req *req,
                    const struct iommu_result *res)
{
    struct watch_tap *t = ctx;
    struct diag_dma_watch *w = t->w;
    if (t->prev_obs)
        t->prev_obs(t->prev_obs_ctx, up, req, res);
    w->seen = true;
    w->ok = res->ok;
    w->pa = res->pa;
}

static enum pcie_cpl_status upstream(void *ctx, const struct pcie_upstream_req *req,
                                     uint8_t *read_buf, sim_time_t *delay)
{
    struct diag_dma_watch *w = ctx;
    w->seen = false;
    enum pcie_cpl_status st = w->next ? w->next(w->next_ctx, req, read_buf, delay)
                                      : pcie_fabric_system_access(req->fabric, req, read_buf, delay);
    if (st != PCIE_CPL_SC || !req->len)
        return st;
    if (req->addr >= PCIE_MSI_WINDOW_BASE && req->addr - PCIE_MSI_WINDOW_BASE < PCIE_MSI_WINDOW_SIZE)
        return st; /* an interrupt message */
    for (size_t i = 0; i < w->ntaps; i++)
        if (w->taps[i].io->has_own_rid && req->requester_id == w->taps[i].io->own_rid)
            return st; /* an IOMMU's own requests */
    if (w->seen && !w->ok)
        return st;
    if (req->write)
        w->totals.writes++;
    else
        w->totals.reads++;
    check(w, req, w->seen ? w->pa : req->addr);
    return st;
}

/* ---- Life cycle and results ---- */

struct diag_dma_watch *diag_dma_watch_create(struct host_kernel *k, struct pcie_fabric *f,
                                             struct iommu *io)
{
    struct diag_dma_watch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->k = k;
    w->f = f;
    pcie_fabric_get_upstream(f, &w->next, &w->next_ctx);
    pcie_fabric_set_upstream(f, upstream, w);
    diag_dma_watch_add_iommu(w, io);
    host_dma_set_watch(k, &watch_ops, w);
    return w;
}

int diag_dma_watch_add_iommu(struct diag_dma_watch *w, struct iommu *io)
{
    if (!io || io->fabric != w->f)
        return 0;
    if (w->ntaps == WATCH_MAX_IOMMUS)
        return -1;
    struct watch_tap *t = &w->taps[w->ntaps++];
    *t = (struct watch_tap){w, io, io->observer, io->observer_ctx};
    iommu_set_observer(io, observe, t);
    return 0;
}

void diag_dma_watch_destroy(struct diag_dma_watch *w)
{
    if (!w)
        return;
    if (w->k->dma_watch == &watch_ops && w->k->dma_watch_ctx == w)
        host_dma_set_watch(w->k, NULL, NULL);
    pcie_upstream_fn fn;
    void *ctx;
    pcie_fabric_get_upstream(w->f, &fn, &ctx);
    if (fn == upstream && ctx == w)
        pcie_fabric_set_upstream(w->f, w->next, w->next_ctx);
    for (size_t i = 0; i < w->ntaps; i++) {
        struct watch_tap *t = &w->taps[i];
        if (t->io->observer == observe && t->io->observer_ctx == t)
            iommu_set_observer(t->io, t->prev_obs, t->prev_obs_ctx);
    }
    free(w->maps);
    free(w);
}

size_t diag_dma_watch_count(const struct diag_dma_watch *w) { return w->nstrays; }

size_t diag_dma_watch_map_count(const struct diag_dma_watch *w) { return w->nmaps; }

bool diag_dma_watch_map_at(const struct diag_dma_watch *w, size_t i, struct diag_dma_map *out)
{
    if (i >= w->nmaps)
        return false;
    const struct watch_map *m = &w->maps[i];
    *out = (struct diag_dma_map){
        .rid = m->rid, .dma = m->dma, .size = m->size, .phys = m->phys, .dir = m->dir,
        .coherent = m->coherent, .live = m->live, .mapped = m->mapped, .unmapped = m->unmapped,
        .driver = m->dev && m->dev->driver_name ? m->dev->driver_name : "",
        .device = m->dev ? m->dev->name : ""};
    return true;
}

const struct diag_dma_stray *diag_dma_watch_at(const struct diag_dma_watch *w, size_t i)
{
    return i < w->nstrays ? &w->strays[i] : NULL;
}

void diag_dma_watch_totals(const struct diag_dma_watch *w, struct diag_dma_watch_totals *out)
{
    *out = w->totals;
}

static void linef(void (*line)(void *, const char *), void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void linef(void (*line)(void *, const char *), void *ctx, const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    line(ctx, buf);
}

void diag_dma_watch_report(const struct diag_dma_watch *w,
                           void (*line)(void *ctx, const char *text), void *ctx)
{
    if (!w->nstrays)
        return;
    const struct diag_dma_watch_totals *t = &w->totals;
    linef(line, ctx, "DMA watch: %llu bytes written and %llu bytes read outside the devices' "
          "DMA mappings", (unsigned long long)t->write_bytes_outside,
          (unsigned long long)t->read_bytes_outside);
    linef(line, ctx, "  (they reached memory: no IOMMU translation stopped them, and the kernel "
          "says nothing)");
    for (size_t i = 0; i < w->nstrays; i++) {
        const struct diag_dma_stray *s = &w->strays[i];
        line(ctx, "");
        const char *what = s->kind == DIAG_STRAY_OUTSIDE
                               ? (s->write ? "wrote, outside its DMA mappings"
                                           : "read, outside its DMA mappings")
                               : (s->write ? "wrote into a mapping it may only read "
                                             "(DMA_TO_DEVICE)"
                                           : "read a mapping it may only write "
                                             "(DMA_FROM_DEVICE)");
        linef(line, ctx, "  [%zu] %s %s", i + 1, s->device, what);
        linef(line, ctx, "      %-9s %llu bytes at physical 0x%llx-0x%llx, page 0x%llx",
              s->write ? "Corrupted" : "Read", (unsigned long long)s->bytes,
              (unsigned long long)s->first_pa, (unsigned long long)s->last_pa,
              (unsigned long long)(s->page << 12));
        char when[64];
        int n = snprintf(when, sizeof when, "%llu.%06llu s", (unsigned long long)(s->first / SIM_S),
                         (unsigned long long)(s->first % SIM_S / SIM_US));
        if (s->last != s->first && n > 0)
            snprintf(when + n, sizeof when - (size_t)n, " to %llu.%06llu s",
                     (unsigned long long)(s->last / SIM_S),
                     (unsigned long long)(s->last % SIM_S / SIM_US));
        linef(line, ctx, "      %-9s %llu request%s at %s, first at device address 0x%llx", "When",
              (unsigned long long)s->tlps, s->tlps == 1 ? "" : "s", when,
              (unsigned long long)s->first_bus);
        linef(line, ctx, "      %-9s %s", "Whose", s->owner);
        if (s->near[0])
            linef(line, ctx, "      %-9s %s", "Where", s->near);
        linef(line, ctx, "      %-9s %s", "Mappings", s->mappings);
    }
    if (t->dropped)
        linef(line, ctx, "  (%llu more findings not kept)", (unsigned long long)t->dropped);
}
