/* Internal state of the AMD IOMMU driver model (amd_iommu.h), shared by
 * amd_iommu_init.c (detection, tables, registers, commands, groups),
 * amd_iommu_dma.c (page tables, DMA ops, flush queues) and amd_iommu_irq.c
 * (event log interrupt, interrupt remapping). Names follow Linux's
 * drivers/iommu/amd_iommu*.c (4.9.80) where the model mirrors a structure. */
#ifndef PCILAB_HOST_AMD_IOMMU_PRIV_H
#define PCILAB_HOST_AMD_IOMMU_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "host/mm.h" /* struct host_iopt */
#include "host/amd_iommu.h"
#include "host/dma.h"
#include "host/iova.h"
#include "host/irq.h"
#include "host/ivrs.h"
#include "iommu/amdvi_fmt.h"

/* amd_iommu_types.h (4.9.80 and later) */
#define AMD_CMD_BUFFER_SIZE   8192   /* CMD_BUFFER_SIZE: 512 entries */
#define AMD_EVT_BUFFER_SIZE   8192   /* EVT_BUFFER_SIZE: 512 entries */
#define AMD_LOOP_TIMEOUT      100000 /* LOOP_TIMEOUT */
#define AMD_MAX_IRQS_PER_TABLE 256   /* MAX_IRQS_PER_TABLE; DTE IntTabLen 8 */
#define AMD_FQ_SIZE           256    /* FLUSH_QUEUE_SIZE (4.9), IOVA_FQ_SIZE (4.20+) */
#define AMD_MSI_RANGE_START   0xfee00000ull
#define AMD_MSI_RANGE_END     0xfeefffffull
#define AMD_HT_RANGE_START    0xfd00000000ull
#define AMD_HT_RANGE_END      0xffffffffffull
#define AMD_PAGE_MODE_NONE    0
#define AMD_PAGE_MODE_3_LEVEL 3
#define AMD_PAGE_MODE_6_LEVEL 6
#define AMD_IOMMU_CAP_NPCACHE 26     /* capability header bit: NpCache (48882 3.2.1) */
#define AMD_IOMMU_CAP_EFR     27     /* capability header bit: EFR present */

/* PTE bits (amd_iommu_types.h IOMMU_PTE_*) */
#define AMD_PTE_PR (1ull << 0)
#define AMD_PTE_FC (1ull << 60)
#define AMD_PTE_IR (1ull << 61)
#define AMD_PTE_IW (1ull << 62)
#define AMD_PTE_ADDR_MASK 0x000ffffffffff000ull
#define AMD_PROT_IR 1
#define AMD_PROT_IW 2

struct host_amd_iommu;

/* struct amd_iommu: one IOMMU unit. */
struct amd_unit {
    struct host_amd_iommu *drv;
    unsigned index;
    uint16_t devid, cap_ptr, segment;
    uint8_t ivhd_flags, ivhd_type;
    uint64_t mmio;               /* physical address of the register block */
    uint32_t cap;                /* capability header (config dword at cap_ptr) */
    uint64_t features, features2;
    struct pci_dev *dev;         /* its own PCI function */
    uint8_t *cmd_buf;
    uint64_t cmd_buf_pa;
    uint8_t *evt_buf;
    uint64_t evt_buf_pa;
    volatile uint64_t *cmd_sem;  /* 5.x: a page of its own; 4.x: a field */
    uint64_t cmd_sem_pa;
    uint64_t cmd_sem_val;
    bool need_sync;
    uint64_t excl_start, excl_length;
    int irq;                     /* its event interrupt, -1 when none */
    char name[16];               /* "ivhd0": the sysfs iommu device */
};

struct amd_fq_entry {
    uint64_t dma_addr, size;     /* as host_iova_dma_free takes them */
    uint64_t counter;            /* fq_flush_start_cnt when queued */
    struct amd_domain *dom;      /* 4.9: the entry's domain */
};

/* One CPU's ring: 4.9 uses head = 0 and tail = queue->next. */
struct amd_fq_ring {
    struct amd_fq_entry e[AMD_FQ_SIZE];
    unsigned head, tail;
};

/* struct protection_domain (+ dma_ops_domain / iommu_dma_cookie). */
struct amd_domain {
    uint16_t id;
    int mode;                    /* paging levels, 0 for identity */
    struct host_iopt *root;
    bool dma;                    /* DMA API domain (has an IOVA allocator) */
    bool fq;                     /* lazy unmap through a flush queue */
    bool updated;                /* root changed: DTEs must be rewritten */
    struct host_iova_domain *iovad;
    unsigned dev_iommu[HOST_IVRS_MAX_IOMMUS];
    unsigned dev_cnt;
    /* HOST_AMD_FQ_IOVA */
    struct amd_fq_ring *fq_ring; /* one per CPU */
    uint64_t fq_start_cnt, fq_finish_cnt;
    bool fq_timer_on;
    sim_event_id fq_timer;
    struct amd_domain *next;     /* amd_iommu_pd_list */
};

struct amd_group {
    int id;
    struct amd_domain *domain;   /* default domain */
    unsigned ndev;
};

/* Linux's struct ratelimit_state (lib/ratelimit.c), in jiffies. */
struct amd_ratelimit {
    uint64_t begin;
    bool started;
    int printed, missed;
};

/* struct iommu_dev_data */
struct amd_dev_data {
    uint16_t devid, alias;
    struct pci_dev *pdev;
    struct amd_unit *iommu;
    struct amd_domain *domain;
    struct amd_group *group;
    bool passthrough;
    struct amd_ratelimit rs;     /* 4.20+: per-device fault ratelimit */
};

/* struct irq_remap_table */
struct amd_irt {
    void *table;                 /* 256 x 4 bytes (legacy) or 256 x 16 (GA) */
    uint64_t pa;
    unsigned min_index;
};

struct host_amd_iommu {
    struct host_kernel *k;
    const struct host_kver *kv;
    struct host_ivrs_linux *lx;
    struct host_ivrs *ivrs;
    unsigned n;
    struct amd_unit unit[HOST_IVRS_MAX_IOMMUS];
    uint16_t last_bdf;
    uint8_t *dev_table;
    uint64_t dev_table_pa;
    uint32_t dev_table_size;
    unsigned dev_table_order;
    struct amd_dev_data **dev_data;  /* [devid] */
    struct amd_irt **irq_table;      /* irq_lookup_table[devid] */
    /* every dev_data and irq_table allocation, once each (aliases share an
     * irq table): freed at teardown without scanning both 65,536 entries */
    void **owned;
    size_t n_owned, cap_owned;
    uint8_t pd_bitmap[65536 / 8];    /* amd_iommu_pd_alloc_bitmap */
    struct amd_domain *pd_list;
    struct amd_group **groups;
    unsigned ngroups, cap_groups;
    bool irq_remap;                  /* irq_remapping_enabled */
    bool v2_present;                 /* amd_iommu_v2_present: an IOMMU with GTSup and PPRSup */
    bool ga;                         /* AMD_IOMMU_GUEST_IR_GA: 128-bit IRTEs */
    bool vapic;
    bool lazy;
    bool np_cache;                   /* amd_iommu_np_cache: an IOMMU has NpCache */
    bool identity_default;
    /* 4.x: the template of reserved IOVA ranges (init_reserved_iova_ranges) */
    struct host_iova_domain *resv;
    /* HOST_AMD_FQ_DRIVER: the per-CPU queues and the one timer */
    struct amd_fq_ring *q49;
    bool q49_timer_on;
    sim_event_id q49_timer;
    struct host_dma_ops ops;
    struct host_irq_remap remap;
    struct amd_ratelimit printk_rs;  /* printk_ratelimit() (4.20) */
    struct amd_ratelimit fault_rs;   /* pr_err_ratelimited call site (5.x) */
    struct amd_ratelimit ovf_rs;     /* pr_info_ratelimited overflow (5.x) */
    uint64_t events_printed, completion_waits, completion_timeouts, fq_flushes;
};

/* ---- amd_iommu_init.c ---- */
uint64_t amd_mmio_read64(struct amd_unit *u, unsigned off);
void amd_mmio_write64(struct amd_unit *u, unsigned off, uint64_t v);
uint32_t amd_mmio_read32(struct amd_unit *u, unsigned off);
void amd_mmio_write32(struct amd_unit *u, unsigned off, uint32_t v);
/* iommu_queue_command (sync = true) / iommu_completion_wait */
int amd_queue_command(struct amd_unit *u, const struct amdvi_cmd *c);
int amd_completion_wait(struct amd_unit *u);
void amd_flush_dte(struct amd_unit *u, uint16_t devid);
void amd_domain_flush_pages(struct host_amd_iommu *a, struct amd_domain *d, uint64_t addr,
                            uint64_t size, bool pde);
void amd_domain_flush_tlb(struct host_amd_iommu *a, struct amd_domain *d, bool pde);
void amd_domain_flush_complete(struct host_amd_iommu *a, struct amd_domain *d);
void amd_update_domain(struct host_amd_iommu *a, struct amd_domain *d);
uint64_t *amd_dte(struct host_amd_iommu *a, uint16_t devid);
bool amd_ratelimit(struct host_amd_iommu *a, struct amd_ratelimit *rs);
void amd_pr(struct host_amd_iommu *a, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- amd_iommu_dma.c ---- */
struct amd_domain *amd_domain_alloc(struct host_amd_iommu *a, bool dma, struct pcilab_err *err);
void amd_domain_free(struct host_amd_iommu *a, struct amd_domain *d);
int amd_init_reserved_iova_ranges(struct host_amd_iommu *a, struct pcilab_err *err);
/* the DMA domain's reserved regions and unity maps for dev (4.x: template +
 * dm regions; 5.x: PCI windows + resv regions + direct mappings) */
int amd_domain_prepare_for_dev(struct host_amd_iommu *a, struct amd_domain *d,
                               struct amd_dev_data *dd, struct pcilab_err *err);
/* Records a calloc'd dev_data or irq table for state_destroy to free. 0, or
 * -ENOMEM (then the caller frees it). */
int amd_own(struct host_amd_iommu *a, void *p);
int amd_map_range(struct host_amd_iommu *a, struct amd_domain *d, uint64_t iova, uint64_t pa,
                  uint64_t size, int prot);
void amd_dma_ops_init(struct host_amd_iommu *a);
void amd_fq_destroy(struct host_amd_iommu *a);

/* ---- amd_iommu_irq.c ---- */
int amd_setup_interrupts(struct host_amd_iommu *a, struct amd_unit *u, struct pcilab_err *err);
void amd_irq_remap_init(struct host_amd_iommu *a);

#endif
