/* Enumeration and resource assignment by configuration requests. See enumerate.h. */
#include "pcie/enumerate.h"
#include "pcie/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcie/caps.h"
#include "pcie/config.h"
#include "pcie/fabric_priv.h"
#include "pcie/route.h"

#define MIB (1ull << 20)

/* One resource to place: a BAR or a bridge window. */
struct eres {
    int node;                /* owner */
    unsigned index;          /* Linux resource number */
    unsigned reg;            /* BAR config offset */
    enum pcie_window kind;   /* IO, MEM, PREF */
    bool mem64;              /* 64-bit BAR / 64-bit-capable window */
    bool need32;             /* must lie below 4 GiB */
    uint64_t size, align, start;
    bool assigned;
};

struct enode {
    uint16_t bdf;
    int parent;              /* node of the bridge above, -1 on the root bus */
    bool bridge, pcie_link_below;
    uint8_t secondary, subordinate;
    bool has_io, has_pref, pref64;
    int first_res, nres;     /* BARs in the resource array */
    int win[3];              /* bridge windows: resource indices or -1 */
};

struct ectx {
    struct pcie_fabric *f;
    struct pcie_enum_report *rep;
    struct pcilab_err *err;
    struct enode *nodes;
    size_t nn, capn;
    struct eres *res;
    size_t nr, capr;
    int oom;
};

static void *grow(void *p, size_t *cap, size_t n, size_t elem, int *oom)
{
    if (n < *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 16;
    void *q = realloc(p, nc * elem);
    if (!q) {
        *oom = 1;
        return p;
    }
    *cap = nc;
    return q;
}

static struct pcie_enum_step *step(struct ectx *c, enum pcie_enum_step_kind k, uint16_t bdf)
{
    struct pcie_enum_report *r = c->rep;
    if (!r)
        return NULL;
    r->steps = grow(r->steps, &r->cap, r->n, sizeof *r->steps, &c->oom);
    if (r->n >= r->cap)
        return NULL;
    struct pcie_enum_step *s = &r->steps[r->n++];
    memset(s, 0, sizeof *s);
    s->kind = k;
    s->bdf = bdf;
    return s;
}

static uint32_t rd(struct ectx *c, uint16_t bdf, unsigned off, unsigned size)
{
    uint32_t v;
    if (c->rep)
        c->rep->cfg_reads++;
    pcie_host_cfg_read(c->f, bdf, off, size, &v);
    return v;
}

static void wr(struct ectx *c, uint16_t bdf, unsigned off, unsigned size, uint32_t v)
{
    if (c->rep)
        c->rep->cfg_writes++;
    pcie_host_cfg_write(c->f, bdf, off, size, v);
}

static int add_res(struct ectx *c, const struct eres *e)
{
    c->res = grow(c->res, &c->capr, c->nr, sizeof *c->res, &c->oom);
    if (c->nr >= c->capr)
        return -1;
    c->res[c->nr] = *e;
    return (int)c->nr++;
}

/* Sizes the BARs of a function (Linux __pci_read_base): with decoding
 * disabled, write all-ones, read back, restore (PCIe 5.0 7.5.1.2.1). */
static void size_bars(struct ectx *c, int ni, unsigned nbars)
{
    struct enode *n = &c->nodes[ni];
    uint16_t bdf = n->bdf;
    uint16_t cmd = (uint16_t)rd(c, bdf, PCIE_CFG_COMMAND, 2);
    if (cmd & (PCIE_CMD_MEMORY | PCIE_CMD_IO))
        wr(c, bdf, PCIE_CFG_COMMAND, 2, cmd & ~(PCIE_CMD_MEMORY | PCIE_CMD_IO));
    n->first_res = (int)c->nr;
    for (unsigned i = 0; i < nbars; i++) {
        unsigned reg = PCIE_CFG_BAR0 + 4 * i;
        uint32_t orig = rd(c, bdf, reg, 4);
        wr(c, bdf, reg, 4, 0xffffffffu);
        uint32_t sz = rd(c, bdf, reg, 4);
        wr(c, bdf, reg, 4, orig);
        if (sz == 0 || sz == 0xffffffffu)
            continue;
        struct eres e = {.node = ni, .index = i, .reg = reg};
        uint64_t mask, start, size;
        if (sz & PCIE_BAR_SPACE_IO) {
            mask = sz & 0xfffffffcu;
            mask |= 0xffff0000u; /* upper 16 bits may be unimplemented (7.5.1.2.1) */
            size = (~mask & 0xffffffffu) + 1;
            start = orig & 0xfffffffcu;
            e.kind = PCIE_WINDOW_IO;
        } else {
            /* A 64-bit BAR needs the next BAR register for its upper half
             * (7.5.1.2.1); in the last slot (a malformed dump) it is sized and
             * programmed as 32-bit, never writing past the BARs. */
            bool is64 = (sz & PCIE_BAR_MEM_TYPE_MASK) == PCIE_BAR_MEM_TYPE_64 && i + 1 < nbars;
            uint64_t m = sz & 0xfffffff0u;
            start = orig & 0xfffffff0u;
            if (is64) {
                uint32_t oh = rd(c, bdf, reg + 4, 4);
                wr(c, bdf, reg + 4, 4, 0xffffffffu);
                uint32_t sh = rd(c, bdf, reg + 4, 4);
                wr(c, bdf, reg + 4, 4, oh);
                m |= (uint64_t)sh << 32;
                start |= (uint64_t)oh << 32;
            } else {
                m |= 0xffffffff00000000ull;
            }
            size = ~m + 1;
            e.kind = (sz & PCIE_BAR_MEM_PREFETCH) ? PCIE_WINDOW_PREF : PCIE_WINDOW_MEM;
            e.mem64 = is64;
            e.need32 = !is64;
        }
        e.size = size;
        e.align = size;
        if (add_res(c, &e) < 0)
            return;
        struct pcie_enum_step *s = step(c, PCIE_ENUM_BAR, bdf);
        if (s) {
            s->reg = reg;
            s->res.type = e.kind == PCIE_WINDOW_IO ? PCIE_RES_IO : PCIE_RES_MEM;
            s->res.start = start;
            s->res.end = start + size - 1;
            s->res.mem64 = e.mem64;
            s->res.pref = e.kind == PCIE_WINDOW_PREF;
        }
        if (e.mem64)
            i++;
    }
    n = &c->nodes[ni];
    n->nres = (int)c->nr - n->first_res;
    if (cmd & (PCIE_CMD_MEMORY | PCIE_CMD_IO))
        wr(c, bdf, PCIE_CFG_COMMAND, 2, cmd);
}

/* Probes one function; returns its node or -1 when absent. */
static int probe_fn(struct ectx *c, uint16_t bdf, int parent)
{
    uint32_t id = rd(c, bdf, PCIE_CFG_VENDOR_ID, 4);
    /* 7.5.1.1.1: absent functions read Vendor ID FFFFh (UR -> all ones);
     * 0000h/0xffff0000 are treated as absent too, as Linux does. */
    if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0 || id == 0xffff0000u)
        return -1;
    uint8_t ht = (uint8_t)rd(c, bdf, PCIE_CFG_HEADER_TYPE, 1);
    uint32_t cls = rd(c, bdf, PCIE_CFG_REVISION_ID, 4) >> 8;
    c->nodes = grow(c->nodes, &c->capn, c->nn, sizeof *c->nodes, &c->oom);
    if (c->nn >= c->capn)
        return -1;
    int ni = (int)c->nn++;
    struct enode *n = &c->nodes[ni];
    memset(n, 0, sizeof *n);
    n->bdf = bdf;
    n->parent = parent;
    n->win[0] = n->win[1] = n->win[2] = -1;
    n->bridge = (ht & PCIE_HEADER_TYPE_MASK) == PCIE_HEADER_TYPE1;
    if (c->rep)
        c->rep->functions++;
    struct pcie_enum_step *s = step(c, PCIE_ENUM_DEVICE, bdf);
    if (s) {
        s->vendor_id = (uint16_t)id;
        s->device_id = (uint16_t)(id >> 16);
        s->header_type = ht & PCIE_HEADER_TYPE_MASK;
        s->class_code = cls;
    }
    size_bars(c, ni, n->bridge ? PCIE_TYPE1_BARS : PCIE_TYPE0_BARS);
    n = &c->nodes[ni];
    if (n->bridge) {
        /* Which windows exist: the I/O and prefetchable base registers are RO 0
         * when not implemented (7.5.1.3.6, 7.5.1.3.9); probe as Linux
         * pci_bridge_check_ranges does, by writing and reading back. */
        uint16_t io = (uint16_t)rd(c, bdf, PCIE_CFG_IO_BASE, 2);
        if (!io) {
            wr(c, bdf, PCIE_CFG_IO_BASE, 2, 0xe0f0);
            io = (uint16_t)rd(c, bdf, PCIE_CFG_IO_BASE, 2);
            wr(c, bdf, PCIE_CFG_IO_BASE, 2, 0);
        }
        n->has_io = io != 0;
        uint32_t pm = rd(c, bdf, PCIE_CFG_PREF_BASE, 4);
        if (!pm) {
            wr(c, bdf, PCIE_CFG_PREF_BASE, 4, 0xffe0fff0u);
            pm = rd(c, bdf, PCIE_CFG_PREF_BASE, 4);
            wr(c, bdf, PCIE_CFG_PREF_BASE, 4, 0);
        }
        n->has_pref = pm != 0;
        n->pref64 = (pm & 0xf) == 1;
        /* Below a root port or switch downstream port sits one device (0). */
        unsigned exp = 0;
        uint8_t ptr = (uint8_t)rd(c, bdf, PCIE_CFG_CAP_PTR, 1);
        for (unsigned guard = 0; ptr >= 0x40 && guard < 48; guard++) {
            uint16_t hdr = (uint16_t)rd(c, bdf, ptr & 0xfcu, 2);
            if ((hdr & 0xff) == PCIE_CAP_ID_EXP) {
                exp = ptr & 0xfcu;
                break;
            }
            ptr = (uint8_t)(hdr >> 8);
        }
        if (exp) {
            unsigned t = (rd(c, bdf, exp + PCIE_EXP_FLAGS, 2) >> 4) & 0xf;
            n->pcie_link_below = t == PCIE_PORT_ROOT_PORT || t == PCIE_PORT_DOWNSTREAM;
        }
    }
    return ni;
}

static unsigned scan_bus(struct ectx *c, unsigned busnr, int parent, bool only_dev0);

/* Linux pci_scan_bridge_extend, pass 1 (bridge not configured). */
static unsigned scan_bridge(struct ectx *c, int ni, unsigned busnr, unsigned max)
{
    uint16_t bdf = c->nodes[ni].bdf;
    /* Clear errors in the secondary status, then program the buses with
     * subordinate 0xff while scanning below (PCIe 5.0 7.5.1.3.3-5). */
    wr(c, bdf, PCIE_CFG_SEC_STATUS, 2, 0xffff);
    unsigned sec = max + 1;
    if (sec > 0xff)
        return max;
    uint32_t buses = rd(c, bdf, PCIE_CFG_PRIMARY_BUS, 4);
    buses = (buses & 0xff000000u) | busnr | sec << 8 | 0xffu << 16;
    wr(c, bdf, PCIE_CFG_PRIMARY_BUS, 4, buses);
    c->nodes[ni].secondary = (uint8_t)sec;
    unsigned child_max = scan_bus(c, sec, ni, c->nodes[ni].pcie_link_below);
    wr(c, bdf, PCIE_CFG_SUBORDINATE_BUS, 1, child_max);
    c->nodes[ni].subordinate = (uint8_t)child_max;
    struct pcie_enum_step *s = step(c, PCIE_ENUM_BUSN_UPDATED, (uint16_t)(sec << 8));
    if (s) {
        s->res.type = PCIE_RES_BUS;
        s->res.start = sec;
        s->res.end = 0xff;
        s->bus_end_new = child_max;
    }
    return child_max;
}

/* Linux pci_scan_child_bus: devices, then bridges in devfn order. */
static unsigned scan_bus(struct ectx *c, unsigned busnr, int parent, bool only_dev0)
{
    unsigned max = busnr;
    size_t first = c->nn;
    for (unsigned dev = 0; dev < 32; dev++) {
        if (only_dev0 && dev > 0)
            break;
        int n0 = probe_fn(c, pcie_bdf(busnr, dev, 0), parent);
        if (n0 < 0)
            continue;
        uint8_t ht = (uint8_t)rd(c, pcie_bdf(busnr, dev, 0), PCIE_CFG_HEADER_TYPE, 1);
        if (!(ht & PCIE_HEADER_MULTIFUNCTION))
            continue;
        for (unsigned fn = 1; fn < 8; fn++)
            probe_fn(c, pcie_bdf(busnr, dev, fn), parent);
    }
    size_t last = c->nn;
    for (size_t i = first; i < last; i++)
        if (c->nodes[i].bridge && c->nodes[i].parent == parent)
            max = scan_bridge(c, (int)i, busnr, max);
    return max;
}

/* ---- resources ---- */

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* The window a child resource goes into at its parent bridge. */
static enum pcie_window home_window(const struct enode *bridge, const struct eres *r)
{
    if (r->kind == PCIE_WINDOW_IO)
        return PCIE_WINDOW_IO;
    if (r->kind == PCIE_WINDOW_PREF && bridge->has_pref)
        return PCIE_WINDOW_PREF;
    return PCIE_WINDOW_MEM;
}

/* Sort: largest alignment first, then larger size, then creation order. */
static int cmp_res(const void *a, const void *b, const struct eres *res)
{
    const struct eres *x = &res[*(const int *)a], *y = &res[*(const int *)b];
    if (x->align != y->align)
        return x->align > y->align ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

static void sort_idx(int *idx, int n, const struct eres *res)
{
    for (int i = 1; i < n; i++) {
        int v = idx[i], j = i - 1;
        while (j >= 0 && cmp_res(&idx[j], &v, res) > 0) {
            idx[j + 1] = idx[j];
            j--;
        }
        idx[j + 1] = v;
    }
}

/* Resources that live directly in node p's window w (p = -1: root bus, w
 * then selects the root aperture class). */
static int collect(struct ectx *c, int p, enum pcie_window w, bool root64, int *out)
{
    int k = 0;
    for (size_t i = 0; i < c->nr; i++) {
        const struct eres *r = &c->res[i];
        if (r->size == 0)
            continue;
        const struct enode *owner = &c->nodes[r->node];
        /* a bridge's own windows live in its parent; BARs in their node's parent */
        int parent = owner->parent;
        if (parent != p)
            continue;
        enum pcie_window hw;
        if (p >= 0) {
            hw = home_window(&c->nodes[p], r);
        } else if (r->kind == PCIE_WINDOW_IO) {
            hw = PCIE_WINDOW_IO;
        } else {
            /* root: 64-bit-capable resources above 4 GiB when there is a
             * 64-bit aperture (Linux tries pci_high first) */
            bool high = root64 && r->mem64 && !r->need32;
            hw = high ? PCIE_WINDOW_PREF : PCIE_WINDOW_MEM;
        }
        if (hw == w)
            out[k++] = (int)i;
    }
    return k;
}

/* Bottom-up: sizes each bridge's windows from its children. */
static void size_windows(struct ectx *c, int ni)
{
    struct enode *n = &c->nodes[ni];
    for (size_t i = 0; i < c->nn; i++)
        if (c->nodes[i].parent == ni && c->nodes[i].bridge)
            size_windows(c, (int)i);
    n = &c->nodes[ni];
    for (int w = 0; w < 3; w++) {
        if (w == PCIE_WINDOW_IO && !n->has_io)
            continue;
        if (w == PCIE_WINDOW_PREF && !n->has_pref)
            continue;
        int *idx = malloc((c->nr + 1) * sizeof *idx);
        if (!idx) {
            c->oom = 1;
            return;
        }
        int k = collect(c, ni, (enum pcie_window)w, false, idx);
        sort_idx(idx, k, c->res);
        uint64_t gran = w == PCIE_WINDOW_IO ? 0x1000 : MIB;
        uint64_t off = 0, align = gran;
        bool need32 = w != PCIE_WINDOW_PREF || !n->pref64;
        for (int j = 0; j < k; j++) {
            const struct eres *r = &c->res[idx[j]];
            off = align_up(off, r->align) + r->size;
            if (r->align > align)
                align = r->align;
            if (r->need32)
                need32 = true;
        }
        free(idx);
        if (!k)
            continue;
        struct eres e = {
            .node = ni,
            .index = 13u + (unsigned)w, /* PCI_BRIDGE_RESOURCES + n (with SR-IOV) */
            .kind = (enum pcie_window)w,
            .mem64 = w == PCIE_WINDOW_PREF && n->pref64,
            .need32 = need32,
            .size = align_up(off, gran),
            .align = align,
        };
        int ri = add_res(c, &e);
        c->nodes[ni].win[w] = ri;
    }
}

static void res_to_pcie(const struct eres *r, struct pcie_res *out)
{
    memset(out, 0, sizeof *out);
    out->type = r->kind == PCIE_WINDOW_IO ? PCIE_RES_IO : PCIE_RES_MEM;
    out->start = r->start;
    out->end = r->start + r->size - 1;
    out->mem64 = r->mem64;
    out->pref = r->kind == PCIE_WINDOW_PREF;
}

/* Places the resources idx[0..k) in [base, limit], largest alignment first. */
static void place(struct ectx *c, int *idx, int k, uint64_t base, uint64_t limit)
{
    sort_idx(idx, k, c->res);
    uint64_t off = base;
    for (int j = 0; j < k; j++) {
        struct eres *r = &c->res[idx[j]];
        uint64_t start = align_up(off, r->align);
        uint16_t bdf = c->nodes[r->node].bdf;
        if (start < off || start + r->size - 1 > limit || limit < base) {
            struct pcie_enum_step *s = step(c, PCIE_ENUM_NO_SPACE, bdf);
            if (s) {
                s->index = r->index;
                res_to_pcie(r, &s->res);
                s->res.start = 0;
                s->res.end = r->size - 1;
            }
            continue;
        }
        r->start = start;
        r->assigned = true;
        off = start + r->size;
        struct pcie_enum_step *s = step(c, PCIE_ENUM_ASSIGNED, bdf);
        if (s) {
            s->index = r->index;
            res_to_pcie(r, &s->res);
        }
        if (r->index < 6) {
            /* program the BAR (7.5.1.2.1) */
            wr(c, bdf, r->reg, 4, (uint32_t)r->start);
            if (r->mem64)
                wr(c, bdf, r->reg + 4, 4, (uint32_t)(r->start >> 32));
        }
    }
}

/* Programs a bridge's windows (Linux pci_setup_bridge) and reports them. */
static void setup_bridge(struct ectx *c, int ni)
{
    struct enode *n = &c->nodes[ni];
    uint16_t bdf = n->bdf;
    struct pcie_enum_step *s = step(c, PCIE_ENUM_BRIDGE_BUSES, bdf);
    if (s) {
        s->res.type = PCIE_RES_BUS;
        s->res.start = n->secondary;
        s->res.end = n->subordinate;
    }
    /* I/O, 7.5.1.3.6: 4 KiB granularity, upper 16 bits at 30h/32h. */
    const struct eres *io = n->win[PCIE_WINDOW_IO] >= 0 ? &c->res[n->win[PCIE_WINDOW_IO]] : NULL;
    if (n->has_io) {
        if (io && io->assigned) {
            uint64_t lim = io->start + io->size - 1;
            wr(c, bdf, PCIE_CFG_IO_BASE_UPPER, 4, 0xffff); /* Linux: base > limit first */
            wr(c, bdf, PCIE_CFG_IO_BASE, 2,
               (uint32_t)(((io->start >> 8) & 0xf0) | ((lim >> 8) & 0xf0) << 8));
            wr(c, bdf, PCIE_CFG_IO_BASE_UPPER, 4,
               (uint32_t)((io->start >> 16) & 0xffff) | (uint32_t)((lim >> 16) & 0xffff) << 16);
        } else {
            wr(c, bdf, PCIE_CFG_IO_BASE, 2, 0x00f0);
            wr(c, bdf, PCIE_CFG_IO_BASE_UPPER, 4, 0);
        }
    }
    if (io && io->assigned && (s = step(c, PCIE_ENUM_BRIDGE_WINDOW, bdf)))
        res_to_pcie(io, &s->res);
    /* Memory, 7.5.1.3.8: 1 MiB granularity. */
    const struct eres *mem = n->win[PCIE_WINDOW_MEM] >= 0 ? &c->res[n->win[PCIE_WINDOW_MEM]] : NULL;
    if (mem && mem->assigned) {
        uint64_t lim = mem->start + mem->size - 1;
        wr(c, bdf, PCIE_CFG_MEM_BASE, 4,
           (uint32_t)((mem->start >> 16) & 0xfff0) | (uint32_t)((lim >> 16) & 0xfff0) << 16);
        if ((s = step(c, PCIE_ENUM_BRIDGE_WINDOW, bdf)))
            res_to_pcie(mem, &s->res);
    } else {
        wr(c, bdf, PCIE_CFG_MEM_BASE, 4, 0x0000fff0);
    }
    /* Prefetchable, 7.5.1.3.9/7.5.1.3.10. */
    if (n->has_pref) {
        const struct eres *pf =
            n->win[PCIE_WINDOW_PREF] >= 0 ? &c->res[n->win[PCIE_WINDOW_PREF]] : NULL;
        wr(c, bdf, PCIE_CFG_PREF_LIMIT_UPPER, 4, 0); /* Linux: clear upper limit first */
        if (pf && pf->assigned) {
            uint64_t lim = pf->start + pf->size - 1;
            wr(c, bdf, PCIE_CFG_PREF_BASE, 4,
               (uint32_t)((pf->start >> 16) & 0xfff0) | (uint32_t)((lim >> 16) & 0xfff0) << 16);
            if (n->pref64) {
                wr(c, bdf, PCIE_CFG_PREF_BASE_UPPER, 4, (uint32_t)(pf->start >> 32));
                wr(c, bdf, PCIE_CFG_PREF_LIMIT_UPPER, 4, (uint32_t)(lim >> 32));
            }
            if ((s = step(c, PCIE_ENUM_BRIDGE_WINDOW, bdf)))
                res_to_pcie(pf, &s->res);
        } else {
            wr(c, bdf, PCIE_CFG_PREF_BASE, 4, 0x0000fff0);
            if (n->pref64)
                wr(c, bdf, PCIE_CFG_PREF_BASE_UPPER, 4, 0);
        }
    }
}

/* Top-down: resources on bus of bridge p (-1: root) within its windows,
 * then each child bridge, then the bridge itself is programmed. */
static void assign_bus(struct ectx *c, int p)
{
    int *idx = malloc((c->nr + 1) * sizeof *idx);
    if (!idx) {
        c->oom = 1;
        return;
    }
    const struct pcie_fabric_config *fc = &c->f->cfg;
    if (p < 0) {
        bool root64 = fc->mem64.size != 0;
        int k = collect(c, -1, PCIE_WINDOW_IO, root64, idx);
        if (fc->io.size)
            place(c, idx, k, fc->io.base, fc->io.base + fc->io.size - 1);
        else
            place(c, idx, k, 1, 0);
        k = collect(c, -1, PCIE_WINDOW_MEM, root64, idx);
        place(c, idx, k, fc->mem32.base, fc->mem32.base + fc->mem32.size - 1);
        if (root64) {
            k = collect(c, -1, PCIE_WINDOW_PREF, root64, idx);
            place(c, idx, k, fc->mem64.base, fc->mem64.base + fc->mem64.size - 1);
        }
    } else {
        for (int w = 0; w < 3; w++) {
            int wi = c->nodes[p].win[w];
            int k = collect(c, p, (enum pcie_window)w, false, idx);
            if (wi >= 0 && c->res[wi].assigned)
                place(c, idx, k, c->res[wi].start, c->res[wi].start + c->res[wi].size - 1);
            else
                place(c, idx, k, 1, 0);
        }
    }
    free(idx);
    for (size_t i = 0; i < c->nn; i++) {
        if (c->nodes[i].parent != p || !c->nodes[i].bridge)
            continue;
        assign_bus(c, (int)i);
        setup_bridge(c, (int)i);
    }
}

int pcie_enumerate(struct pcie_fabric *f, const struct pcie_enum_options *opt,
                   struct pcie_enum_report *rep, struct pcilab_err *err)
{
    struct ectx c = {.f = f, .rep = rep, .err = err};
    if (rep)
        memset(rep, 0, sizeof *rep);
    unsigned max = scan_bus(&c, f->cfg.root_bus, -1, false);
    if (rep)
        rep->max_bus = max;
    if (!(opt && opt->no_assign) && !c.oom) {
        for (size_t i = 0; i < c.nn; i++)
            if (c.nodes[i].parent == -1 && c.nodes[i].bridge)
                size_windows(&c, (int)i);
        assign_bus(&c, -1);
    }
    free(c.nodes);
    free(c.res);
    if (c.oom)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory during enumeration");
    /* Bus numbers exist now: links trace under the names the fabric's own
     * per-hop records use ("00:02.2<->01:00.0"). */
    for (size_t i = 0; i < pcie_fabric_fn_count(f); i++) {
        struct pcie_fn *fn = pcie_fabric_fn_at(f, i);
        struct pcie_link *l = pcie_fn_link(fn);
        if (l && pcie_fn_parent(fn) && pcie_fn_link(pcie_fn_parent(fn)) == l) {
            char name[PCIE_LINK_NAME_LEN];
            pcie_link_set_name(l, pcie_fn_link_name(fn, name));
        }
    }
    return 0;
}

void pcie_enum_report_free(struct pcie_enum_report *rep)
{
    if (!rep)
        return;
    free(rep->steps);
    memset(rep, 0, sizeof *rep);
}

size_t pcie_res_format(const struct pcie_res *r, char *buf, size_t len)
{
    /* lib/vsprintf.c resource_string: io 0x%04llx, mem 0x%08llx, bus %02llx. */
    switch (r->type) {
    case PCIE_RES_BUS:
        if (r->start == r->end)
            return (size_t)snprintf(buf, len, "[bus %02llx]", (unsigned long long)r->start);
        return (size_t)snprintf(buf, len, "[bus %02llx-%02llx]", (unsigned long long)r->start,
                                (unsigned long long)r->end);
    case PCIE_RES_IO:
        if (r->disabled)
            return (size_t)snprintf(buf, len, "[io  disabled]");
        return (size_t)snprintf(buf, len, "[io  0x%04llx-0x%04llx]", (unsigned long long)r->start,
                                (unsigned long long)r->end);
    case PCIE_RES_MEM:
        break;
    }
    if (r->disabled)
        return (size_t)snprintf(buf, len, "[mem disabled%s%s]", r->mem64 ? " 64bit" : "",
                                r->pref ? " pref" : "");
    return (size_t)snprintf(buf, len, "[mem 0x%08llx-0x%08llx%s%s]", (unsigned long long)r->start,
                            (unsigned long long)r->end, r->mem64 ? " 64bit" : "",
                            r->pref ? " pref" : "");
}

size_t pcie_enum_step_format(const struct pcie_enum_step *s, uint16_t segment, char *buf,
                             size_t len)
{
    char res[96];
    pcie_res_format(&s->res, res, sizeof res);
    char who[40];
    snprintf(who, sizeof who, "pci %04x:%02x:%02x.%u", segment, pcie_bdf_bus(s->bdf),
             pcie_bdf_dev(s->bdf), pcie_bdf_fn(s->bdf));
    switch (s->kind) {
    case PCIE_ENUM_DEVICE:
        return (size_t)snprintf(buf, len, "%s: [%04x:%04x] type %02x class 0x%06x", who,
                                s->vendor_id, s->device_id, s->header_type, s->class_code);
    case PCIE_ENUM_BAR:
        return (size_t)snprintf(buf, len, "%s: reg 0x%x: %s", who, s->reg, res);
    case PCIE_ENUM_BUSN_UPDATED:
        return (size_t)snprintf(buf, len, "pci_bus %04x:%02x: busn_res: %s end is updated to %02x",
                                segment, pcie_bdf_bus(s->bdf), res, s->bus_end_new);
    case PCIE_ENUM_ASSIGNED:
        return (size_t)snprintf(buf, len, "%s: BAR %u: assigned %s", who, s->index, res);
    case PCIE_ENUM_NO_SPACE:
        return (size_t)snprintf(buf, len, "%s: BAR %u: no space for [%s size 0x%08llx%s%s]", who,
                                s->index, s->res.type == PCIE_RES_IO ? "io " : "mem",
                                (unsigned long long)(s->res.end + 1), s->res.mem64 ? " 64bit" : "",
                                s->res.pref ? " pref" : "");
    case PCIE_ENUM_BRIDGE_BUSES:
        return (size_t)snprintf(buf, len, "%s: PCI bridge to %s", who, res);
    case PCIE_ENUM_BRIDGE_WINDOW:
        return (size_t)snprintf(buf, len, "%s:   bridge window %s", who, res);
    }
    return (size_t)snprintf(buf, len, "%s: ?", who);
}

int pcie_enum_enable(struct pcie_fabric *f, struct pcie_fn *fn, bool master,
                     struct pcilab_err *err)
{
    struct pcie_fn *chain[64];
    unsigned n = 0;
    for (struct pcie_fn *p = pcie_fn_parent(fn); p && n < 64; p = pcie_fn_parent(p))
        chain[n++] = p;
    /* Top down, so each bridge is reachable when it is written. */
    while (n--) {
        struct pcie_fn *b = chain[n];
        uint16_t cmd = pcie_cfg_command(b->cfg);
        uint16_t want = cmd | PCIE_CMD_MEMORY | PCIE_CMD_BUS_MASTER;
        if (pcie_cfg_bridge_has_window(b->cfg, PCIE_WINDOW_IO))
            want |= PCIE_CMD_IO;
        if (want != cmd &&
            pcie_host_cfg_write(f, pcie_fn_bdf(b), PCIE_CFG_COMMAND, 2, want) != PCIE_REQ_SC)
            return pcilab_errf(err, PCILAB_EIO, "enabling bridge %s failed", pcie_fn_name(b));
    }
    uint16_t cmd = pcie_cfg_command(fn->cfg), want = cmd;
    for (unsigned i = 0; i < pcie_cfg_bar_count(fn->cfg); i++) {
        enum pcie_bar_type t = pcie_cfg_bar_type(fn->cfg, i);
        if (t == PCIE_BAR_IO)
            want |= PCIE_CMD_IO;
        else if (t == PCIE_BAR_MEM32 || t == PCIE_BAR_MEM64)
            want |= PCIE_CMD_MEMORY;
    }
    if (master)
        want |= PCIE_CMD_BUS_MASTER;
    if (want != cmd &&
        pcie_host_cfg_write(f, pcie_fn_bdf(fn), PCIE_CFG_COMMAND, 2, want) != PCIE_REQ_SC)
        return pcilab_errf(err, PCILAB_EIO, "enabling %s failed", pcie_fn_name(fn));
    return 0;
}
