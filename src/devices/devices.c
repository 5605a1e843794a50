/* The device-model registry, parameter parsing, and the engines the models
 * share. See devices.h. */
#include "devices/devices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices_priv.h"
#include "pcie/caps.h"
#include "pcie/config.h"
#include "pcie/msi.h"
#include "pcie/route.h"
#include "pcie/split.h"
#include "pcie/topology.h"
#include "sim/sim.h"
#include "sim/text.h"

/* ------------------------------------------------------------------ */
/* Registry */

static const struct dev_model_ops *const dev_kinds[] = {
    &dev_ecp5_dma_ops,
    &dev_ecp3_can_ops,
    &dev_edu_ops,
};
#define DEV_NKINDS (sizeof dev_kinds / sizeof dev_kinds[0])

size_t dev_model_type_count(void) { return DEV_NKINDS; }

const struct dev_model_info *dev_model_type_at(size_t i)
{
    return i < DEV_NKINDS ? dev_kinds[i]->info : NULL;
}

static const struct dev_model_ops *kind_find(const char *name)
{
    for (size_t i = 0; i < DEV_NKINDS; i++)
        if (!strcmp(dev_kinds[i]->info->name, name))
            return dev_kinds[i];
    return NULL;
}

const struct dev_model_info *dev_model_type_find(const char *name)
{
    const struct dev_model_ops *k = name ? kind_find(name) : NULL;
    return k ? k->info : NULL;
}

int dev_param_index(const struct dev_model_info *info, const char *key)
{
    for (size_t i = 0; i < info->nparams; i++)
        if (!strcmp(info->params[i].key, key))
            return (int)i;
    return -1;
}

/* ------------------------------------------------------------------ */
/* Requester IDs */

uint16_t dev_rid_resolve(const struct dev_rid *r, const struct pcie_fn *fn)
{
    switch (r->mode) {
    case DEV_RID_ZERO:
        return 0;
    case DEV_RID_FIXED:
        return r->bdf;
    case DEV_RID_CAPTURED:
        break;
    }
    return pcie_fn_captured_bdf(fn);
}

char *dev_rid_str(const struct dev_rid *r, char *buf)
{
    switch (r->mode) {
    case DEV_RID_ZERO:
        snprintf(buf, 16, "zero");
        break;
    case DEV_RID_FIXED:
        pcie_bdf_str(r->bdf, buf);
        break;
    case DEV_RID_CAPTURED:
        snprintf(buf, 16, "captured");
        break;
    }
    return buf;
}

/* ------------------------------------------------------------------ */
/* Parsing values */

/* Unsigned decimal or 0x-hex at *p; advances *p. False on no digits or overflow. */
static bool parse_number(const char **p, uint64_t *out)
{
    const char *s = *p;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    uint64_t v = 0;
    int n = 0;
    for (;; s++, n++) {
        int d = base == 16 ? pcilab_hexval(*s) : (*s >= '0' && *s <= '9' ? *s - '0' : -1);
        if (d < 0)
            break;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return false;
        v = v * base + (uint64_t)d;
    }
    if (!n)
        return false;
    *p = s;
    *out = v;
    return true;
}

static int bad_value(struct pcilab_err *err, const char *model, const char *key,
                     const char *text, const char *why)
{
    return pcilab_errf(err, PCILAB_EINVAL, "%s: parameter '%s': '%s' %s", model, key, text, why);
}

static int parse_size(const char *model, const struct dev_param_desc *d, const char *text,
                      uint64_t *out, struct pcilab_err *err)
{
    const char *p = text;
    uint64_t v;
    if (!parse_number(&p, &v))
        return bad_value(err, model, d->key, text,
                         d->type == DEV_PARAM_SIZE ? "is not a size (e.g. 128, 0x80, 4K)"
                                                   : "is not a number");
    uint64_t mul = 1;
    if (d->type == DEV_PARAM_SIZE && *p) {
        if (!strcmp(p, "K") || !strcmp(p, "KiB") || !strcmp(p, "k"))
            mul = 1024;
        else if (!strcmp(p, "M") || !strcmp(p, "MiB"))
            mul = 1024 * 1024;
        else
            return bad_value(err, model, d->key, text,
                             "has an unknown suffix (sizes take K, KiB, M or MiB)");
        p += strlen(p);
    }
    if (*p)
        return bad_value(err, model, d->key, text, "is not a number");
    if (v > UINT64_MAX / mul)
        return bad_value(err, model, d->key, text, "is too large");
    v *= mul;
    if (v < d->min || v > d->max) {
        char why[96];
        snprintf(why, sizeof why, "is out of range: %llu..%llu%s",
                 (unsigned long long)d->min, (unsigned long long)d->max,
                 d->type == DEV_PARAM_SIZE ? " bytes" : "");
        return bad_value(err, model, d->key, text, why);
    }
    *out = v;
    return 0;
}

static void time_str(sim_time_t t, char *buf, size_t len)
{
    static const struct { sim_time_t ps; const char *unit; } u[] = {
        {SIM_S, "s"}, {SIM_MS, "ms"}, {SIM_US, "us"}, {SIM_NS, "ns"}, {SIM_PS, "ps"},
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        if (t % u[i].ps == 0 || u[i].ps == 1) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(t / u[i].ps), u[i].unit);
            return;
        }
}

char *dev_param_values_str(const struct dev_param_desc *d, char *buf, size_t len)
{
    char a[32], b[32];
    switch (d->type) {
    case DEV_PARAM_SIZE:
        snprintf(buf, len, "size %llu..%llu bytes", (unsigned long long)d->min,
                 (unsigned long long)d->max);
        break;
    case DEV_PARAM_UINT:
        snprintf(buf, len, "%llu..%llu", (unsigned long long)d->min, (unsigned long long)d->max);
        break;
    case DEV_PARAM_TIME:
        time_str((sim_time_t)d->min, a, sizeof a);
        time_str((sim_time_t)d->max, b, sizeof b);
        snprintf(buf, len, "time %s..%s", a, b);
        break;
    case DEV_PARAM_BOOL:
        snprintf(buf, len, "true or false");
        break;
    case DEV_PARAM_CHOICE: {
        size_t used = 0;
        buf[0] = '\0';
        for (unsigned i = 0; d->choices[i]; i++) {
            int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", d->choices[i]);
            if (n < 0 || (size_t)n >= len - used)
                break;
            used += (size_t)n;
        }
        break;
    }
    case DEV_PARAM_RID:
        snprintf(buf, len, "captured, zero or bb:dd.f");
        break;
    }
    return buf;
}

static int parse_time(const char *model, const struct dev_param_desc *d, const char *text,
                      sim_time_t *out, struct pcilab_err *err)
{
    static const char *const what = "is not a time (a number with a unit: ps, ns, us, ms, s; "
                                    "e.g. 2.5ms)";
    const char *p = text;
    uint64_t ip = 0, frac = 0, scale = 1;
    bool digits = false;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (ip > (UINT64_MAX - 9) / 10)
            return bad_value(err, model, d->key, text, "is too large");
        ip = ip * 10 + (uint64_t)(*p - '0');
        digits = true;
    }
    if (*p == '.') {
        p++;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (scale >= 1000000000000ull)
                return bad_value(err, model, d->key, text, "has too many decimals");
            frac = frac * 10 + (uint64_t)(*p - '0');
            scale *= 10;
            digits = true;
        }
    }
    if (!digits)
        return bad_value(err, model, d->key, text, what);
    sim_time_t unit;
    if (!strcmp(p, "ps"))
        unit = SIM_PS;
    else if (!strcmp(p, "ns"))
        unit = SIM_NS;
    else if (!strcmp(p, "us"))
        unit = SIM_US;
    else if (!strcmp(p, "ms"))
        unit = SIM_MS;
    else if (!strcmp(p, "s"))
        unit = SIM_S;
    else if (!*p)
        return bad_value(err, model, d->key, text,
                         "needs a unit (ps, ns, us, ms or s), e.g. 2.5ms");
    else
        return bad_value(err, model, d->key, text, what);
    if (ip > SIM_TIME_MAX / unit)
        return bad_value(err, model, d->key, text, "is too large");
    /* frac < scale <= 10^12 and unit <= 10^12: the product fits in 64 bits
     * only when checked, so divide first where exact. */
    uint64_t fps;
    if (unit % scale == 0)
        fps = frac * (unit / scale);
    else if (scale % unit == 0 && frac % (scale / unit) == 0)
        fps = frac / (scale / unit);
    else
        return bad_value(err, model, d->key, text, "is finer than a picosecond");
    sim_time_t t = ip * unit;
    if (fps > SIM_TIME_MAX - t)
        return bad_value(err, model, d->key, text, "is too large");
    t += fps;
    if (t < d->min || t > d->max) {
        char lo[32], hi[32], why[96];
        time_str(d->min, lo, sizeof lo);
        time_str(d->max, hi, sizeof hi);
        snprintf(why, sizeof why, "is out of range: %s..%s", lo, hi);
        return bad_value(err, model, d->key, text, why);
    }
    *out = t;
    return 0;
}

int dev_param_parse(const char *model, const struct dev_param_desc *d, const char *text,
                    union dev_value *out, struct pcilab_err *err)
{
    memset(out, 0, sizeof *out);
    if (!text)
        text = "";
    switch (d->type) {
    case DEV_PARAM_SIZE:
    case DEV_PARAM_UINT:
        return parse_size(model, d, text, &out->u, err);
    case DEV_PARAM_TIME:
        return parse_time(model, d, text, &out->t, err);
    case DEV_PARAM_BOOL: {
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};
        for (size_t i = 0; i < 4; i++) {
            if (!strcmp(text, yes[i])) {
                out->b = true;
                return 0;
            }
            if (!strcmp(text, no[i])) {
                out->b = false;
                return 0;
            }
        }
        return bad_value(err, model, d->key, text, "is not a boolean (true/false)");
    }
    case DEV_PARAM_CHOICE: {
        char list[160] = "";
        size_t used = 0;
        for (unsigned i = 0; d->choices[i]; i++) {
            if (!strcmp(text, d->choices[i])) {
                out->c = i;
                return 0;
            }
            int n = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                             d->choices[i]);
            if (n > 0 && (size_t)n < sizeof list - used)
                used += (size_t)n;
        }
        char why[200];
        snprintf(why, sizeof why, "is not one of %s", list);
        return bad_value(err, model, d->key, text, why);
    }
    case DEV_PARAM_RID: {
        if (!strcmp(text, "captured")) {
            out->rid.mode = DEV_RID_CAPTURED;
            return 0;
        }
        if (!strcmp(text, "zero")) {
            out->rid.mode = DEV_RID_ZERO;
            return 0;
        }
        /* "bb:dd.f", or with a segment "ssss:bb:dd.f" */
        const char *b = text;
        if (strlen(text) > 5 && text[4] == ':' && pcilab_hexval(text[0]) >= 0 && pcilab_hexval(text[1]) >= 0 &&
            pcilab_hexval(text[2]) >= 0 && pcilab_hexval(text[3]) >= 0)
            b = text + 5;
        if (pcie_bdf_parse(b, &out->rid.bdf, NULL) == 0) {
            out->rid.mode = DEV_RID_FIXED;
            return 0;
        }
        return bad_value(err, model, d->key, text,
                         "is not a requester ID: captured, zero or a bus:device.function "
                         "like 01:00.0");
    }
    }
    return bad_value(err, model, d->key, text, "has an unknown type");
}

/* ------------------------------------------------------------------ */
/* Attaching and setting */

static int set_one(struct dev_model *m, size_t idx, const char *text, struct pcilab_err *err)
{
    const struct dev_model_info *info = m->ops->info;
    const struct dev_param_desc *d = &info->params[idx];
    union dev_value v;
    int r = dev_param_parse(info->name, d, text, &v, err);
    if (r < 0)
        return r;
    if (strlen(text) >= DEV_VALUE_LEN)
        return bad_value(err, info->name, d->key, text, "is too long");
    if ((r = m->ops->set(m, idx, &v, err)) < 0)
        return r;
    snprintf(m->values[idx], DEV_VALUE_LEN, "%s", text);
    return 0;
}

static int unknown_key(struct pcilab_err *err, const struct dev_model_info *info, const char *key)
{
    char list[400] = "";
    size_t used = 0;
    for (size_t i = 0; i < info->nparams; i++) {
        int n = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                         info->params[i].key);
        if (n > 0 && (size_t)n < sizeof list - used)
            used += (size_t)n;
    }
    return pcilab_errf(err, PCILAB_EINVAL, "%s: unknown parameter '%s' (known: %s)", info->name,
                       key ? key : "", list);
}

int dev_model_attach(const char *model, struct pcilab_sim *sim, struct pcie_fn *fn,
                     const struct dev_param *params, size_t nparams, struct dev_model **out,
                     struct pcilab_err *err)
{
    if (out)
        *out = NULL;
    const struct dev_model_ops *k = model ? kind_find(model) : NULL;
    if (!k) {
        char list[200] = "";
        size_t used = 0;
        for (size_t i = 0; i < DEV_NKINDS; i++) {
            int n = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                             dev_kinds[i]->info->name);
            if (n > 0 && (size_t)n < sizeof list - used)
                used += (size_t)n;
        }
        return pcilab_errf(err, PCILAB_ENOENT, "unknown device model '%s' (known: %s)",
                           model ? model : "", list);
    }
    if (!sim || !fn || pcie_fabric_sim(pcie_fn_fabric(fn)) != sim)
        return pcilab_errf(err, PCILAB_EINVAL, "%s: the function must belong to a fabric of "
                           "this simulation", model);
    if (pcie_fn_ops(fn)) {
        char a[PCIE_FN_ADDR_LEN];
        return pcilab_errf(err, PCILAB_EEXIST, "%s: %s already has a device model (%s)", model,
                           pcie_fn_addr_str(fn, a), pcie_fn_ops(fn)->name);
    }
    const struct dev_model_info *info = k->info;
    if (info->nparams > DEV_MAX_PARAMS)
        return pcilab_errf(err, PCILAB_EINVAL, "%s: too many parameters", model);
    /* Keys first: unknown and repeated keys are refused before anything is built. */
    for (size_t i = 0; i < nparams; i++) {
        if (dev_param_index(info, params[i].key ? params[i].key : "") < 0)
            return unknown_key(err, info, params[i].key);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(params[i].key, params[j].key))
                return pcilab_errf(err, PCILAB_EINVAL, "%s: parameter '%s' given twice", model,
                                   params[i].key);
    }
    struct dev_model *m = k->create(sim, fn, err);
    if (!m)
        return err && err->code ? -err->code : -PCILAB_ENOMEM;
    m->ops = k;
    m->sim = sim;
    m->fn = fn;
    int r = 0;
    for (size_t i = 0; i < info->nparams && r == 0; i++)
        if (info->params[i].def) /* NULL: derived from others (requester_id) */
            r = set_one(m, i, info->params[i].def, err);
    /* "requester_id" sets every engine's ID: apply it before the per-engine keys. */
    for (int pass = 0; pass < 2 && r == 0; pass++)
        for (size_t i = 0; i < nparams && r == 0; i++) {
            bool general = !strcmp(params[i].key, "requester_id");
            if (general == (pass == 0))
                r = set_one(m, (size_t)dev_param_index(info, params[i].key),
                            params[i].value ? params[i].value : "", err);
        }
    if (r == 0)
        r = k->start(m, err);
    if (r == 0 && sim_own(sim, m, (sim_destroy_fn)k->destroy) < 0)
        r = pcilab_errf(err, PCILAB_ENOMEM, "%s: out of memory", model);
    if (r < 0) {
        if (pcie_fn_ctx(fn) == m)
            pcie_fn_set_ops(fn, NULL, NULL);
        k->destroy(m);
        return r;
    }
    if (out)
        *out = m;
    return 0;
}

int dev_model_set(struct dev_model *m, const char *key, const char *value,
                  struct pcilab_err *err)
{
    const struct dev_model_info *info = m->ops->info;
    int idx = dev_param_index(info, key ? key : "");
    if (idx < 0)
        return unknown_key(err, info, key);
    return set_one(m, (size_t)idx, value ? value : "", err);
}

const char *dev_model_param(const struct dev_model *m, const char *key)
{
    int idx = dev_param_index(m->ops->info, key ? key : "");
    return idx < 0 ? NULL : m->values[idx];
}

const struct dev_model_info *dev_model_info(const struct dev_model *m) { return m->ops->info; }
const char *dev_model_name(const struct dev_model *m) { return m->ops->info->name; }
struct pcie_fn *dev_model_fn(const struct dev_model *m) { return m->fn; }

void dev_model_counters(const struct dev_model *m, struct dev_counters *out)
{
    *out = m->counters;
}

const char *dev_model_error(const struct dev_model *m)
{
    return m->error[0] ? m->error : NULL;
}

/* ------------------------------------------------------------------ */
/* Configuration-space checks */

int dev_check_mem_bar(const struct dev_model *m, unsigned bar, uint64_t min_size,
                      struct pcilab_err *err)
{
    const struct pcie_cfg *cfg = pcie_fn_cfg(m->fn);
    enum pcie_bar_type t = pcie_cfg_bar_type(cfg, bar);
    uint64_t size = pcie_cfg_bar_size(cfg, bar);
    if ((t != PCIE_BAR_MEM32 && t != PCIE_BAR_MEM64) || size < min_size)
        return pcilab_errf(err, PCILAB_EINVAL,
                           "%s: needs BAR%u as a memory BAR of at least %llu bytes for its "
                           "registers", m->ops->info->name, bar, (unsigned long long)min_size);
    return 0;
}

int dev_check_msi(const struct dev_model *m, struct pcilab_err *err)
{
    if (!pcie_cap_find(pcie_fn_cfg(m->fn), PCIE_CAP_ID_MSI))
        return pcilab_errf(err, PCILAB_EINVAL, "%s: needs an MSI capability (msi: in the "
                           "function's capabilities)", m->ops->info->name);
    return 0;
}

struct dev_model *dev_model_new(size_t size, struct pcie_fn *fn, const struct dev_model_ops *ops,
                                uint64_t regs_size, struct pcilab_err *err)
{
    struct dev_model *m = calloc(1, size);
    if (!m) {
        pcilab_errf(err, PCILAB_ENOMEM, "%s: out of memory", ops->info->name);
        return NULL;
    }
    m->fn = fn;
    m->ops = ops;
    if (dev_check_mem_bar(m, 0, regs_size, err) < 0 || dev_check_msi(m, err) < 0) {
        free(m);
        return NULL;
    }
    return m;
}

/* ------------------------------------------------------------------ */
/* Read completions */

enum dev_cpl dev_read_cpl(struct dev_model *m, const struct pcie_tlp *t, uint32_t received,
                          uint32_t len, uint32_t *skip, uint32_t *n)
{
    uint32_t left = len > received ? len - received : 0;
    if (t->cpl_status != PCIE_CPL_SC) {
        /* 2.2.9: reserved statuses are treated as UR */
        if (t->cpl_status == PCIE_CPL_CA) {
            m->counters.cpl_ca++;
            return DEV_CPL_CA;
        }
        m->counters.cpl_ur++;
        return DEV_CPL_UR;
    }
    if (!t->payload)
        return DEV_CPL_EMPTY;
    /* 2.2.9: the data starts at Lower Address[1:0] in the first DW; Byte
     * Count is what remains of the request, including these bytes. */
    *skip = t->lower_addr & 3u;
    uint32_t k = t->payload_len > *skip ? (uint32_t)t->payload_len - *skip : 0;
    uint32_t bc = t->byte_count ? t->byte_count : 4096;
    if (k > bc)
        k = bc;
    if (k > left)
        k = left;
    *n = k;
    m->counters.read_bytes += k;
    if (k < left)
        return DEV_CPL_DATA;
    m->counters.reads_completed++;
    return DEV_CPL_LAST;
}

/* ------------------------------------------------------------------ */
/* Register blocks */

void dev_mmio_read(void *ctx, dev_reg_read_fn rd, unsigned size, uint64_t off, void *buf,
                   unsigned len)
{
    uint8_t *out = buf;
    while (len) {
        uint64_t dw = off & ~3ull;
        unsigned first = (unsigned)(off & 3);
        unsigned n = 4 - first < len ? 4 - first : len;
        uint32_t v = dw < size ? rd(ctx, (unsigned)dw) : 0;
        for (unsigned i = 0; i < n; i++)
            out[i] = (uint8_t)(v >> (8 * (first + i)));
        out += n;
        off += n;
        len -= n;
    }
}

void dev_mmio_write(void *ctx, dev_reg_write_fn wr, unsigned size, uint64_t off,
                    const void *buf, unsigned len)
{
    const uint8_t *in = buf;
    while (len) {
        uint64_t dw = off & ~3ull;
        unsigned first = (unsigned)(off & 3);
        unsigned n = 4 - first < len ? 4 - first : len;
        uint32_t v = 0, mask = 0;
        for (unsigned i = 0; i < n; i++) {
            v |= (uint32_t)in[i] << (8 * (first + i));
            mask |= 0xffu << (8 * (first + i));
        }
        if (dw < size)
            wr(ctx, (unsigned)dw, v, mask);
        in += n;
        off += n;
        len -= n;
    }
}

/* ------------------------------------------------------------------ */
/* Engines */

void dev_tlp_apply_addr64(struct pcie_tlp *t, enum dev_addr64 a)
{
    /* PCIe 5.0 2.2.4.1: requesters must use the 3 DW format below 4 GiB;
     * a design that always builds 4 DW headers breaks that rule. */
    if (a == DEV_ADDR64_ALWAYS && pcie_tlp_header_dw(t) == 3)
        (void)pcie_tlp_set_kind(t, t->kind, true, 0);
}

int dev_dma_write(struct dev_model *m, const struct dev_write_engine *e, uint64_t addr,
                  const uint8_t *data, uint32_t len, struct pcilab_err *err)
{
    const struct pcie_cfg *cfg = pcie_fn_cfg(m->fn);
    unsigned mps = pcie_exp_present(cfg) ? pcie_exp_mps(cfg) : 128;
    if (e->split == DEV_SPLIT_NONE)
        mps = 4096;
    uint16_t rid = dev_rid_resolve(&e->rid, m->fn);
    uint32_t done = 0;
    while (done < len) {
        /* One 4 KiB page at a time: at most 4096 / 128 pieces (2.2.7). */
        uint64_t a = addr + done;
        uint32_t chunk = (uint32_t)(0x1000 - (a & 0xfff));
        if (chunk > len - done)
            chunk = len - done;
        struct pcie_split_req pieces[32];
        long n = pcie_split_write(a, chunk, mps, 0, pieces, 32, err);
        if (n < 0)
            return (int)n;
        for (long i = 0; i < n; i++) {
            struct pcie_tlp t;
            /* addr is DWORD aligned, so piece i's first byte is data[...] and
             * its DWs follow (pcie_tlp_mem_write reads payload[addr & 3]). */
            const uint8_t *src = data + done + (pieces[i].addr - a);
            int r = pcie_tlp_mem_write(&t, rid, pieces[i].addr, src - (pieces[i].addr & 3),
                                       pieces[i].len, err);
            if (r < 0)
                return r;
            dev_tlp_apply_addr64(&t, e->addr64);
            if ((r = pcie_fn_send_tlp(m->fn, &t, err)) < 0)
                return r;
            m->counters.tlps++;
            m->counters.write_tlps++;
            m->counters.write_bytes += pieces[i].len;
        }
        done += chunk;
    }
    return 0;
}

static void msi_send_now(struct dev_model *m, const struct dev_rid *rid,
                         const struct pcie_msi_vector *v)
{
    uint8_t d[4];
    dev_put32(d, v->data);
    struct pcie_tlp t;
    if (pcie_tlp_mem_write(&t, dev_rid_resolve(rid, m->fn), v->addr, d, 4, NULL) < 0 ||
        pcie_fn_send_tlp(m->fn, &t, NULL) < 0) {
        m->counters.msis_dropped++;
        return;
    }
    m->counters.tlps++;
    m->counters.msis++;
}

void dev_msi(struct dev_model *m, const struct dev_rid *rid, unsigned vector)
{
    struct pcie_cfg *cfg = pcie_fn_cfg(m->fn);
    struct pcie_msi_vector v;
    if (pcie_msi_vector(cfg, 0, &v, NULL) < 0) {
        m->counters.msis_dropped++;
        return;
    }
    /* 6.1.4.3: with 2^k vectors enabled the function may change only the low
     * k bits of Message Data; an interrupt source numbered beyond the enabled
     * vectors lands on the vector those bits give (vector 1 on vector 0 when
     * one is enabled). */
    unsigned eff = vector & (v.vectors - 1);
    int r = pcie_msi_signal(cfg, eff, &v, NULL);
    if (r == 1) {
        if (eff != vector)
            m->counters.msis_folded++;
        msi_send_now(m, rid, &v);
    } else if (r == 0 && v.status == PCIE_MSI_MASKED) {
        m->counters.msis_held++;
    } else {
        m->counters.msis_dropped++;
    }
}

void dev_msi_pending(struct dev_model *m, const struct dev_rid *rid)
{
    struct pcie_cfg *cfg = pcie_fn_cfg(m->fn);
    struct pcie_msi_vector v;
    if (pcie_msi_vector(cfg, 0, &v, NULL) < 0)
        return;
    unsigned n = v.vectors;
    for (unsigned i = 0; i < n && i < 32; i++)
        if (pcie_msi_poll_pending(cfg, i, &v) == 1)
            msi_send_now(m, rid, &v);
}

bool dev_msi_enabled(const struct dev_model *m)
{
    const struct pcie_cfg *cfg = pcie_fn_cfg(m->fn);
    unsigned cap = pcie_cap_find(cfg, PCIE_CAP_ID_MSI);
    return cap && (pcie_cfg_raw_read16(cfg, cap + PCIE_MSI_CTRL) & PCIE_MSI_CTRL_ENABLE);
}

int dev_lattice_cfg_init(struct pcie_cfg *cfg, uint16_t device_id, uint32_t class_code,
                         unsigned msi_vectors, unsigned mps, unsigned max_speed,
                         struct pcilab_err *err)
{
    struct pcie_cfg_ident id = {.vendor_id = 0x1204, .device_id = device_id, .revision = 0x01,
                                .class_code = class_code, .subsys_vendor_id = 0x1204,
                                .subsys_id = device_id, .interrupt_pin = 1, .pcie = true};
    pcie_cfg_init(cfg);
    int r = pcie_cfg_init_type0(cfg, &id, err);
    if (r < 0)
        return r;
    if ((r = pcie_cfg_bar_declare(cfg, 0, PCIE_BAR_MEM32, 4096, false, err)) < 0)
        return r;
    struct pcie_pm_params pm;
    memset(&pm, 0, sizeof pm);
    if ((r = pcie_cap_add_pm(cfg, &pm, 0x50, err)) < 0)
        return r;
    struct pcie_msi_params msi = {.addr64 = true, .vectors = msi_vectors};
    if ((r = pcie_cap_add_msi(cfg, &msi, 0x70, err)) < 0)
        return r;
    struct pcie_exp_params ep;
    memset(&ep, 0, sizeof ep);
    ep.type = PCIE_PORT_ENDPOINT;
    ep.mps_supported = mps;
    ep.rber = true;
    ep.completion_timeout_ranges = 0xf;
    ep.max_speed = (uint8_t)max_speed;
    ep.max_width = 1;
    ep.l0s_acceptable = 7;
    ep.l1_acceptable = 7;
    r = pcie_cap_add_exp(cfg, &ep, 0x90, err);
    return r < 0 ? r : 0;
}
