/* The host kernel object (kernel.h). */
#include "host/kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/irq.h"
#include "host/mm.h"
#include "host/pages.h"
#include "host/swiotlb.h"
#include "host/pci.h"

static _Thread_local struct host_kernel *current_kernel;

struct host_kernel *host_current(void)
{
    return current_kernel;
}

struct host_kernel *host_enter(struct host_kernel *k)
{
    struct host_kernel *prev = current_kernel;
    current_kernel = k;
    return prev;
}

void host_leave(struct host_kernel *prev)
{
    current_kernel = prev;
}

static void kernel_destroy(void *obj)
{
    struct host_kernel *k = obj;
    if (current_kernel == k)
        current_kernel = NULL;
    host_pci_destroy_all(k);
    host_swiotlb_destroy(k->swiotlb);
    host_irq_destroy(k);
    host_mm_destroy(k);
    host_pages_destroy(k->pages);
    free(k);
}

/* Lines from boot code that has no kernel object yet (the command line
 * parser) go to the ring with their level. */
static void log_sink(void *ctx, int level, const char *text)
{
    struct host_kernel *k = ctx;
    host_printk(k, "\001%c%s\n", '0' + (level & 7), text);
}

struct host_kernel *host_kernel_create(struct pcilab_sim *sim, struct pcie_fabric *fabric,
                                       struct mem_phys *ram, struct mem_addrmap *map,
                                       const struct host_kernel_config *cfg,
                                       struct pcilab_err *err)
{
    struct host_kernel *k = calloc(1, sizeof *k);
    if (!k) {
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory for the host kernel");
        return NULL;
    }
    const char *version = cfg && cfg->version ? cfg->version : HOST_KERNEL_DEFAULT_VERSION;
    const char *cmdline = cfg && cfg->cmdline ? cfg->cmdline : "";
    if (host_kver_find(version, &k->kver, err) < 0) {
        free(k);
        return NULL;
    }
    if (strlen(cmdline) > HOST_KERNEL_CMDLINE_MAX) {
        pcilab_errf(err, PCILAB_EINVAL,
                    "kernel command line of %zu characters: Linux keeps at most %d "
                    "(COMMAND_LINE_SIZE 2048 on x86 counts the boot loader's too; pcilab "
                    "takes %d)", strlen(cmdline), HOST_KERNEL_CMDLINE_MAX, HOST_KERNEL_CMDLINE_MAX);
        free(k);
        return NULL;
    }
    snprintf(k->cmdline, sizeof k->cmdline, "%s", cmdline);
    k->sim = sim;
    k->fabric = fabric;
    k->ram = ram;
    k->map = map;
    k->ncpus = cfg && cfg->ncpus ? cfg->ncpus : 4;
    struct sim_log_config lc = *sim_log_config(sim_log(sim));
    lc.cont = k->kver->printk_cont;
    if (sim_log_configure(sim_log(sim), &lc, err) < 0) {
        free(k);
        return NULL;
    }
    struct host_log_sink sink = {log_sink, k};
    k->dma_debug_built = cfg && cfg->dma_debug;
    host_cmdline_parse_built(k->kver, k->dma_debug_built ? HOST_BUILT_DMA_API_DEBUG : 0,
                             k->cmdline, &k->bootparams, &sink, NULL);
    k->pages = host_pages_create(map, k->bootparams.mem_limit, err);
    if (!k->pages) {
        free(k);
        return NULL;
    }
    /* Page 0 and the BIOS area below 1 MiB stay with firmware (x86
     * trim_low_memory_range / reserve_bios_regions). */
    host_pages_reserve(k->pages, 0, 1ull << 20);
    if (host_irq_init(k, err) < 0 || host_mm_init(k, err) < 0) {
        host_irq_destroy(k);
        host_pages_destroy(k->pages);
        free(k);
        return NULL;
    }
    if (sim_own(sim, k, kernel_destroy) < 0) {
        host_mm_destroy(k);
        host_irq_destroy(k);
        host_pages_destroy(k->pages);
        free(k);
        pcilab_errf(err, PCILAB_ENOMEM, "out of memory registering the host kernel");
        return NULL;
    }
    return k;
}

int host_vprintk(struct host_kernel *k, const char *fmt, va_list ap)
{
    return sim_vprintk(k->sim, fmt, ap);
}

int host_printk(struct host_kernel *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = host_vprintk(k, fmt, ap);
    va_end(ap);
    return n;
}
