/* Reading pasted lspci output: see lspci.h and docs/explain-lspci.md.
 *
 * The formats are pciutils' (read for the format only, never copied):
 *   ls-tree.c   `-t`: each line repeats the previous line's prefix with '+'
 *               and '|' turned into '|' and everything else into blanks, so
 *               a bus's later entries start at the column of its first one;
 *               a device is "DD.F", a bridge adds "-[SS]-" or "-[SS-UU]-",
 *               a bus with one device is "--DD.F", with several "+-DD.F"
 *               ... "\-DD.F", a bridge with several buses (the host bridge
 *               with several root buses) "+-[DDDD:BB]-" ... "\-[DDDD:BB]-";
 *               -v adds two blanks and "Vendor Device", -nn " [vvvv:dddd]".
 *   lspci.c     device lines "[DDDD:]BB:DD.F Class: Vendor Device (rev RR)
 *               (prog-if PP [name])", with -n "CCCC: VVVV:DDDD", with -nn
 *               "Class [cccc]: ... [vvvv:dddd]"; -v/-k lines indented with
 *               one tab: "Bus: primary=PP, secondary=SS, subordinate=UU,
 *               sec-latency=N", "Kernel driver in use: NAME".
 *   ls-caps.c   "Capabilities: [OO] Express (vN) TYPE, MSI NN" (the "(vN) "
 *               only from -vv on; older pciutils printed no version),
 *               TYPE one of Endpoint, Legacy Endpoint, Root Port (Slot+),
 *               Upstream Port, Downstream Port (Slot+), PCI-Express to
 *               PCI/PCI-X Bridge, PCI/PCI-X to PCI-Express Bridge (Slot+),
 *               Root Complex Integrated Endpoint, Root Complex Event
 *               Collector; capability 0fh prints "Secure device" (the AMD
 *               IOMMU's capability block).
 * Configuration dumps go through pcie/cfgdump.h, one function block at a
 * time, and the capability list through pcie/caps.h.
 */
#include "diag/lspci.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcie/caps.h"
#include "pcie/cfgdump.h"
#include "pcie/config.h"
#include "sim/text.h"

#define LSPCI_MAX_FUNCS PCIE_DUMP_MAX_FUNCS
#define TREE_COLS 512u

const char *lspci_role_name(enum lspci_role r)
{
    switch (r) {
    case LSPCI_ROLE_UNKNOWN: return "unknown";
    case LSPCI_ROLE_HOST_BRIDGE: return "host bridge";
    case LSPCI_ROLE_ROOT_PORT: return "root port";
    case LSPCI_ROLE_BRIDGE: return "bridge";
    case LSPCI_ROLE_ENDPOINT: return "endpoint";
    case LSPCI_ROLE_RCIEP: return "root complex integrated endpoint";
    case LSPCI_ROLE_IOMMU: return "IOMMU";
    }
    return "unknown";
}

/* Sub-class names as lspci prints them without -n: the "C" section of
 * pci.ids (version 2023.04.10, /usr/share/misc/pci.ids of pciutils 3.9.0),
 * base class << 8 | sub-class. Compared without regard to case (older
 * pci.ids spelt "USB Controller"). */
static const struct {
    uint16_t code;
    const char *name;
} class_names[] = {
    {0x0000, "Non-VGA unclassified device"},
    {0x0001, "VGA compatible unclassified device"},
    {0x0005, "Image coprocessor"},
    {0x0100, "SCSI storage controller"},
    {0x0101, "IDE interface"},
    {0x0102, "Floppy disk controller"},
    {0x0103, "IPI bus controller"},
    {0x0104, "RAID bus controller"},
    {0x0105, "ATA controller"},
    {0x0106, "SATA controller"},
    {0x0107, "Serial Attached SCSI controller"},
    {0x0108, "Non-Volatile memory controller"},
    {0x0109, "Universal Flash Storage controller"},
    {0x0180, "Mass storage controller"},
    {0x0200, "Ethernet controller"},
    {0x0201, "Token ring network controller"},
    {0x0202, "FDDI network controller"},
    {0x0203, "ATM network controller"},
    {0x0204, "ISDN controller"},
    {0x0205, "WorldFip controller"},
    {0x0206, "PICMG controller"},
    {0x0207, "Infiniband controller"},
    {0x0208, "Fabric controller"},
    {0x0280, "Network controller"},
    {0x0300, "VGA compatible controller"},
    {0x0301, "XGA compatible controller"},
    {0x0302, "3D controller"},
    {0x0380, "Display controller"},
    {0x0400, "Multimedia video controller"},
    {0x0401, "Multimedia audio controller"},
    {0x0402, "Computer telephony device"},
    {0x0403, "Audio device"},
    {0x0480, "Multimedia controller"},
    {0x0500, "RAM memory"},
    {0x0501, "FLASH memory"},
    {0x0502, "CXL"},
    {0x0580, "Memory controller"},
    {0x0600, "Host bridge"},
    {0x0601, "ISA bridge"},
    {0x0602, "EISA bridge"},
    {0x0603, "MicroChannel bridge"},
    {0x0604, "PCI bridge"},
    {0x0605, "PCMCIA bridge"},
    {0x0606, "NuBus bridge"},
    {0x0607, "CardBus bridge"},
    {0x0608, "RACEway bridge"},
    {0x0609, "Semi-transparent PCI-to-PCI bridge"},
    {0x060a, "InfiniBand to PCI host bridge"},
    {0x0680, "Bridge"},
    {0x0700, "Serial controller"},
    {0x0701, "Parallel controller"},
    {0x0702, "Multiport serial controller"},
    {0x0703, "Modem"},
    {0x0704, "GPIB controller"},
    {0x0705, "Smard Card controller"},
    {0x0780, "Communication controller"},
    {0x0800, "PIC"},
    {0x0801, "DMA controller"},
    {0x0802, "Timer"},
    {0x0803, "RTC"},
    {0x0804, "PCI Hot-plug controller"},
    {0x0805, "SD Host controller"},
    {0x0806, "IOMMU"},
    {0x0880, "System peripheral"},
    {0x0899, "Timing Card"},
    {0x0900, "Keyboard controller"},
    {0x0901, "Digitizer Pen"},
    {0x0902, "Mouse controller"},
    {0x0903, "Scanner controller"},
    {0x0904, "Gameport controller"},
    {0x0980, "Input device controller"},
    {0x0a00, "Generic Docking Station"},
    {0x0a80, "Docking Station"},
    {0x0b00, "386"},
    {0x0b01, "486"},
    {0x0b02, "Pentium"},
    {0x0b10, "Alpha"},
    {0x0b20, "Power PC"},
    {0x0b30, "MIPS"},
    {0x0b40, "Co-processor"},
    {0x0c00, "FireWire (IEEE 1394)"},
    {0x0c01, "ACCESS Bus"},
    {0x0c02, "SSA"},
    {0x0c03, "USB controller"},
    {0x0c04, "Fibre Channel"},
    {0x0c05, "SMBus"},
    {0x0c06, "InfiniBand"},
    {0x0c07, "IPMI Interface"},
    {0x0c08, "SERCOS interface"},
    {0x0c09, "CANBUS"},
    {0x0c80, "Serial bus controller"},
    {0x0d00, "IRDA controller"},
    {0x0d01, "Consumer IR controller"},
    {0x0d10, "RF controller"},
    {0x0d11, "Bluetooth"},
    {0x0d12, "Broadband"},
    {0x0d20, "802.1a controller"},
    {0x0d21, "802.1b controller"},
    {0x0d80, "Wireless controller"},
    {0x0e00, "I2O"},
    {0x0f01, "Satellite TV controller"},
    {0x0f02, "Satellite audio communication controller"},
    {0x0f03, "Satellite voice communication controller"},
    {0x0f04, "Satellite data communication controller"},
    {0x1000, "Network and computing encryption device"},
    {0x1010, "Entertainment encryption device"},
    {0x1080, "Encryption controller"},
    {0x1100, "DPIO module"},
    {0x1101, "Performance counters"},
    {0x1110, "Communication synchronizer"},
    {0x1120, "Signal processing management"},
    {0x1180, "Signal processing controller"},
    {0x1200, "Processing accelerators"},
    {0x1201, "SNIA Smart Data Accelerator Interface (SDXI) controller"},
    {0x1300, "Non-Essential Instrumentation"},
    {0x4000, "Coprocessor"},
    {0xff00, "Unassigned class"},
};

/* ---- small text helpers ---- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool hex_at(const char *s, size_t n, size_t at, size_t digits)
{
    if (at + digits > n)
        return false;
    for (size_t i = 0; i < digits; i++)
        if (pcilab_hexval(s[at + i]) < 0)
            return false;
    return true;
}

static unsigned hex_get(const char *s, size_t digits)
{
    unsigned v = 0;
    for (size_t i = 0; i < digits; i++)
        v = v << 4 | (unsigned)pcilab_hexval(s[i]);
    return v;
}

static bool starts(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && memcmp(s, lit, l) == 0;
}

/* Copies s[0..n) into dst (size cap) with blanks collapsed and trimmed. */
static void copy_text(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    bool sp = false;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        char c = s[i];
        if (is_blank(c)) {
            sp = o > 0;
            continue;
        }
        if (sp && o + 2 < cap)
            dst[o++] = ' ';
        sp = false;
        dst[o++] = (unsigned char)c < 0x20 || c == 0x7f ? '?' : c;
    }
    dst[o] = '\0';
}

/* "[DDDD:]BB:DD.F" at s: returns its length (0 when not one); the BDF must
 * be followed by the end, a blank, or (with allow_dash) a '-'. */
static size_t parse_bdf(const char *s, size_t n, uint16_t *seg, uint16_t *bdf, bool *has_dom,
                        bool allow_dash)
{
    size_t p = 0;
    *has_dom = false;
    *seg = 0;
    if (hex_at(s, n, 0, 4) && n > 4 && s[4] == ':' && hex_at(s, n, 5, 2) && n > 7 && s[7] == ':') {
        *seg = (uint16_t)hex_get(s, 4);
        *has_dom = true;
        p = 5;
    }
    if (!hex_at(s, n, p, 2) || p + 2 >= n || s[p + 2] != ':' || !hex_at(s, n, p + 3, 2) ||
        p + 5 >= n || s[p + 5] != '.' || p + 6 >= n || s[p + 6] < '0' || s[p + 6] > '7')
        return 0;
    unsigned bus = hex_get(s + p, 2), dev = hex_get(s + p + 3, 2);
    unsigned fn = (unsigned)(s[p + 6] - '0');
    if (dev > 0x1f)
        return 0;
    size_t e = p + 7;
    if (e < n && !is_blank(s[e]) && !(allow_dash && s[e] == '-'))
        return 0;
    *bdf = (uint16_t)(bus << 8 | dev << 3 | fn);
    return e;
}

/* ---- physical lines, cleaned ---- */

enum lk {
    LK_BLANK,
    LK_HEADER,  /* [DDDD:]BB:DD.F ... */
    LK_HEX,     /* oo: hh hh ... */
    LK_BYTES,   /* hh hh ... only (a wrapped hex line, or "00" of "MSI\n00") */
    LK_TREE,
    LK_INDENT,  /* -v attribute lines */
    LK_ORPHAN,
};

struct pline {
    const char *s;
    size_t n;
    unsigned no;
    enum lk kind;
    size_t width;   /* columns, tabs to multiples of 8 */
};

/* Byte pairs separated by blanks only (at least one). */
static unsigned count_bytes_only(const char *s, size_t n)
{
    size_t p = 0;
    unsigned k = 0;
    for (;;) {
        while (p < n && is_blank(s[p]))
            p++;
        if (p >= n)
            return k;
        if (!hex_at(s, n, p, 2) || (p + 2 < n && !is_blank(s[p + 2])))
            return 0;
        k++;
        p += 2;
    }
}

/* A hex dump line: "oo: hh" (1 to 3 offset digits); returns the number of
 * bytes, 0 when not one. */
static unsigned hex_line_bytes(const char *s, size_t n)
{
    size_t p = 0;
    while (p < n && s[p] == ' ')
        p++;
    size_t a = 0;
    while (p + a < n && pcilab_hexval(s[p + a]) >= 0)
        a++;
    if (a < 1 || a > 3 || p + a + 1 >= n || s[p + a] != ':' || s[p + a + 1] != ' ')
        return 0;
    return count_bytes_only(s + p + a + 1, n - p - a - 1);
}

static enum lk classify(const char *s, size_t n)
{
    if (n == 0)
        return LK_BLANK;
    uint16_t seg, bdf;
    bool dom;
    if (parse_bdf(s, n, &seg, &bdf, &dom, false))
        return LK_HEADER;
    if (hex_line_bytes(s, n))
        return LK_HEX;
    if (s[0] == '-' && n > 1 && (s[1] == '[' || s[1] == '+' || s[1] == '\\'))
        return LK_TREE;
    /* "dddd:bb:DD.F-[..]" (lspci -t -s) */
    if (parse_bdf(s, n, &seg, &bdf, &dom, true) && dom)
        return LK_TREE;
    size_t p = 0;
    bool bar = false;
    while (p < n && (s[p] == ' ' || s[p] == '|')) {
        bar |= s[p] == '|';
        p++;
    }
    if (p > 0 && p + 1 < n && (s[p] == '+' || s[p] == '\\') && s[p + 1] == '-')
        return LK_TREE;
    if (bar)
        return LK_TREE;
    if (count_bytes_only(s, n))
        return LK_BYTES;
    if (is_blank(s[0]))
        return LK_INDENT;
    return LK_ORPHAN;
}

/* The text of a device description ends like lspci ends one. */
static bool lspci_tail(const char *s, size_t n)
{
    if (n >= 11 && s[n - 1] == ']' && s[n - 11] == '[' && s[n - 6] == ':' &&
        hex_at(s, n, n - 10, 4) && hex_at(s, n, n - 5, 4))
        return true;                       /* [vvvv:dddd] */
    if (n >= 8 && starts(s + n - 8, 8, "(rev ") && s[n - 1] == ')')
        return true;                       /* (rev rr) */
    if (n >= 2 && s[n - 1] == ')' && s[n - 2] == ']') {
        for (size_t i = 0; i + 9 <= n; i++)
            if (starts(s + i, n - i, "(prog-if "))
                return true;
        if (n >= 1 && s[0] == '[')
            return true;                   /* "[VGA controller])" */
    }
    return false;
}

/* ---- functions being gathered ---- */

struct meta {
    unsigned line;                  /* first mention */
    unsigned l_ids, l_class, l_bus, l_parent, l_driver, l_exp, l_name;
    int name_rank;                  /* 0 none, 1 tree, 2 device line */
    int exp_type;                   /* -1 unknown, else PCIe port type */
    int prog_if;                    /* -1 unknown */
    bool bridge_seen;               /* tree range, Bus: line or header type 1/2 */
    bool secure_cap;                /* capability 0fh (AMD IOMMU) */
    bool tree_root;                 /* on a root bus of the tree */
    bool in_tree;
};

struct work {
    struct lspci_fn f;
    struct meta m;
};

struct tctx {
    bool valid, buslist;
    uint16_t seg;
    uint8_t bus;
    bool has_parent;
    uint16_t parent;
};

struct ps {
    const char *name;
    struct pcilab_err *err;
    size_t skipped;
    struct work *w;
    size_t n, cap;
    uint32_t *hash;                 /* index + 1, 0 = empty */
    size_t hcap;
    struct pcie_cfg *cfg;           /* scratch for the capability walk */
    struct pcie_dump dump;
    struct pcilab_err note;
    /* the tree */
    struct tctx col[TREE_COLS];
    /* the current device block */
    long cur;                       /* index in w, -1 none */
    unsigned cur_line;
    /* the dump block being collected */
    char *dbuf;
    size_t dlen, dcap;
    unsigned *dmap;                 /* dump buffer line -> input line */
    size_t dlines, dmcap;
    unsigned dfirst;
};

static uint32_t key_of(uint16_t seg, uint16_t bdf)
{
    return (uint32_t)seg << 16 | bdf;
}

static size_t hslot(uint32_t k, size_t cap)
{
    uint32_t h = k * 2654435761u;
    return (size_t)(h ^ (h >> 15)) & (cap - 1);
}

static int rehash(struct ps *p)
{
    size_t ncap = p->hcap ? p->hcap * 2 : 256;
    uint32_t *nh = calloc(ncap, sizeof *nh);
    if (!nh)
        return pcilab_errf(p->err, PCILAB_ENOMEM, "out of memory reading %s", p->name);
    for (size_t i = 0; i < p->n; i++) {
        size_t s = hslot(key_of(p->w[i].f.segment, p->w[i].f.bdf), ncap);
        while (nh[s])
            s = (s + 1) & (ncap - 1);
        nh[s] = (uint32_t)i + 1;
    }
    free(p->hash);
    p->hash = nh;
    p->hcap = ncap;
    return 0;
}

static long find_w(const struct ps *p, uint16_t seg, uint16_t bdf)
{
    if (!p->hcap)
        return -1;
    uint32_t k = key_of(seg, bdf);
    for (size_t s = hslot(k, p->hcap); p->hash[s]; s = (s + 1) & (p->hcap - 1)) {
        const struct work *w = &p->w[p->hash[s] - 1];
        if (w->f.segment == seg && w->f.bdf == bdf)
            return (long)p->hash[s] - 1;
    }
    return -1;
}

/* The function's index, created when new; -1 when there are too many
 * (the caller skips the line); negative PCILAB_E* (< -1) out of memory. */
static long get_w(struct ps *p, uint16_t seg, uint16_t bdf, unsigned line)
{
    long i = find_w(p, seg, bdf);
    if (i >= 0)
        return i;
    if (p->n >= LSPCI_MAX_FUNCS)
        return -1;
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 32;
        struct work *nw = realloc(p->w, ncap * sizeof *nw);
        if (!nw)
            return -1000 - PCILAB_ENOMEM;
        p->w = nw;
        p->cap = ncap;
    }
    if ((p->n + 1) * 2 > p->hcap && rehash(p) < 0)
        return -1000 - PCILAB_ENOMEM;
    struct work *w = &p->w[p->n];
    memset(&w->f, 0, offsetof(struct lspci_fn, config));
    w->f.config_len = 0;
    w->f.segment = seg;
    w->f.bdf = bdf;
    memset(&w->m, 0, sizeof w->m);
    w->m.line = line;
    w->m.exp_type = -1;
    w->m.prog_if = -1;
    size_t s = hslot(key_of(seg, bdf), p->hcap);
    while (p->hash[s])
        s = (s + 1) & (p->hcap - 1);
    p->hash[s] = (uint32_t)p->n + 1;
    return (long)p->n++;
}

static void bdf_str(char *b, size_t n, uint16_t seg, uint16_t bdf)
{
    snprintf(b, n, "%04x:%02x:%02x.%u", seg, bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7u);
}

static int contra(struct ps *p, unsigned line, const struct work *w, const char *what,
                  const char *now, const char *before, unsigned before_line)
{
    char b[16];
    bdf_str(b, sizeof b, w->f.segment, w->f.bdf);
    return pcilab_err_at(p->err, PCILAB_EINVAL, p->name, line, 0,
                         "%s: %s is %s here but %s on line %u (two machines, or two "
                         "moments, pasted together?)",
                         b, what, now, before, before_line);
}

static int set_ids(struct ps *p, struct work *w, uint16_t v, uint16_t d, unsigned line)
{
    if (w->f.has_ids && (w->f.vendor != v || w->f.device != d)) {
        char a[16], b[16];
        snprintf(a, sizeof a, "%04x:%04x", v, d);
        snprintf(b, sizeof b, "%04x:%04x", w->f.vendor, w->f.device);
        return contra(p, line, w, "vendor:device", a, b, w->m.l_ids);
    }
    if (!w->f.has_ids) {
        w->f.has_ids = true;
        w->f.vendor = v;
        w->f.device = d;
        w->m.l_ids = line;
    }
    return 0;
}

/* class24: base << 16 | sub << 8 | prog-if; prog_if_known says whether the
 * low byte is real. */
static int set_class(struct ps *p, struct work *w, uint32_t class24, bool prog_if_known,
                     unsigned line)
{
    if (w->f.has_class && (w->f.class_code >> 8) != (class24 >> 8)) {
        char a[16], b[16];
        snprintf(a, sizeof a, "%04x", class24 >> 8);
        snprintf(b, sizeof b, "%04x", w->f.class_code >> 8);
        return contra(p, line, w, "class", a, b, w->m.l_class);
    }
    if (!w->f.has_class) {
        w->f.has_class = true;
        w->f.class_code = class24 & 0xffff00u;
        w->m.l_class = line;
    }
    if (prog_if_known) {
        w->f.class_code = (w->f.class_code & 0xffff00u) | (class24 & 0xffu);
        w->m.prog_if = (int)(class24 & 0xffu);
    }
    return 0;
}

static int set_bus(struct ps *p, struct work *w, uint8_t sec, uint8_t sub, unsigned line)
{
    w->m.bridge_seen = true;
    if (w->m.l_bus && (w->f.secondary != sec || w->f.subordinate != sub)) {
        char a[16], b[16];
        snprintf(a, sizeof a, "[%02x-%02x]", sec, sub);
        snprintf(b, sizeof b, "[%02x-%02x]", w->f.secondary, w->f.subordinate);
        return contra(p, line, w, "the bridge's bus range", a, b, w->m.l_bus);
    }
    if (!w->m.l_bus) {
        w->f.secondary = sec;
        w->f.subordinate = sub;
        w->m.l_bus = line;
    }
    return 0;
}

static int set_parent(struct ps *p, struct work *w, uint16_t parent, unsigned line)
{
    if (w->f.has_parent && w->f.parent_bdf != parent) {
        char a[16], b[16];
        bdf_str(a, sizeof a, w->f.segment, parent);
        bdf_str(b, sizeof b, w->f.segment, w->f.parent_bdf);
        return contra(p, line, w, "its parent", a, b, w->m.l_parent);
    }
    if (!w->f.has_parent) {
        w->f.has_parent = true;
        w->f.parent_bdf = parent;
        w->m.l_parent = line;
    }
    return 0;
}

static int set_driver(struct ps *p, struct work *w, const char *s, size_t n, unsigned line)
{
    /* the whole rest: old kernels' driver names had blanks ("HDA Intel") */
    char d[sizeof w->f.driver];
    copy_text(d, sizeof d, s, n);
    if (!d[0])
        return 0;
    if (w->f.driver[0] && strcmp(w->f.driver, d) != 0)
        return contra(p, line, w, "its driver", d, w->f.driver, w->m.l_driver);
    if (!w->f.driver[0]) {
        memcpy(w->f.driver, d, sizeof d);
        w->m.l_driver = line;
    }
    return 0;
}

static const char *port_type_text(int t)
{
    static const char *const names[] = {
        [0x0] = "Endpoint", [0x1] = "Legacy Endpoint", [0x4] = "Root Port",
        [0x5] = "Upstream Port", [0x6] = "Downstream Port",
        [0x7] = "PCI-Express to PCI/PCI-X Bridge", [0x8] = "PCI/PCI-X to PCI-Express Bridge",
        [0x9] = "Root Complex Integrated Endpoint", [0xa] = "Root Complex Event Collector",
    };
    if (t >= 0 && (size_t)t < sizeof names / sizeof names[0] && names[t])
        return names[t];
    return "an unknown Express type";
}

static int set_exp(struct ps *p, struct work *w, int type, unsigned line)
{
    if (w->m.exp_type >= 0 && w->m.exp_type != type)
        return contra(p, line, w, "its Express type", port_type_text(type),
                      port_type_text(w->m.exp_type), w->m.l_exp);
    if (w->m.exp_type < 0) {
        w->m.exp_type = type;
        w->m.l_exp = line;
    }
    return 0;
}

static void set_name(struct work *w, int rank, const char *s, size_t n, unsigned line)
{
    if (rank <= w->m.name_rank || n == 0)
        return;
    copy_text(w->f.name, sizeof w->f.name, s, n);
    w->m.name_rank = rank;
    w->m.l_name = line;
}

/* ---- device lines ---- */

/* Strips a trailing " (prog-if PP [..])", " (rev RR)" and " [vvvv:dddd]"
 * from s[0..*n), recording what they say. */
static int strip_tail(struct ps *p, struct work *w, const char *s, size_t *n, unsigned line,
                      bool *ids_seen)
{
    *ids_seen = false;
    for (int guard = 0; guard < 4; guard++) {
        size_t k = *n;
        while (k && is_blank(s[k - 1]))
            k--;
        *n = k;
        if (k >= 2 && s[k - 1] == ')') {
            /* find the matching '(' */
            size_t depth = 0, i = k;
            while (i > 0) {
                i--;
                if (s[i] == ')')
                    depth++;
                else if (s[i] == '(' && --depth == 0)
                    break;
            }
            if (depth != 0)
                return 0;
            if (starts(s + i, k - i, "(prog-if ") && hex_at(s, k, i + 9, 2)) {
                uint32_t cls = w->f.has_class ? w->f.class_code : 0;
                if (w->f.has_class) {
                    int r = set_class(p, w, (cls & 0xffff00u) | hex_get(s + i + 9, 2), true,
                                      line);
                    if (r < 0)
                        return r;
                } else {
                    w->m.prog_if = (int)hex_get(s + i + 9, 2);
                }
                *n = i;
                continue;
            }
            if (starts(s + i, k - i, "(rev ") && hex_at(s, k, i + 5, 2)) {
                *n = i;
                continue;
            }
            return 0;
        }
        if (k >= 11 && s[k - 1] == ']' && s[k - 11] == '[' && s[k - 6] == ':' &&
            hex_at(s, k, k - 10, 4) && hex_at(s, k, k - 5, 4)) {
            int r = set_ids(p, w, (uint16_t)hex_get(s + k - 10, 4), (uint16_t)hex_get(s + k - 5, 4),
                            line);
            if (r < 0)
                return r;
            *ids_seen = true;
            *n = k - 11;
            continue;
        }
        return 0;
    }
    return 0;
}

static bool same_text_nocase(const char *a, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)s[i]))
            return false;
    return true;
}

static bool class_by_name(const char *s, size_t n, uint16_t *code)
{
    for (size_t i = 0; i < sizeof class_names / sizeof class_names[0]; i++) {
        size_t l = strlen(class_names[i].name);
        if (l == n && same_text_nocase(class_names[i].name, s, n)) {
            *code = class_names[i].code;
            return true;
        }
    }
    /* "Class 0806" (a class pci.ids does not name) */
    if (n == 10 && same_text_nocase("Class ", s, 6) && hex_at(s, n, 6, 4)) {
        *code = (uint16_t)hex_get(s + 6, 4);
        return true;
    }
    return false;
}

static int device_line(struct ps *p, const char *s, size_t n, unsigned line, long *out)
{
    uint16_t seg, bdf;
    bool dom;
    size_t e = parse_bdf(s, n, &seg, &bdf, &dom, false);
    long i = get_w(p, seg, bdf, line);
    if (i < -1)
        return pcilab_errf(p->err, PCILAB_ENOMEM, "out of memory reading %s", p->name);
    *out = i;
    if (i < 0)
        return 0;
    struct work *w = &p->w[i];
    const char *r = s + e;
    size_t rn = n - e;
    while (rn && is_blank(*r))
        r++, rn--;
    /* lspci -n: "CCCC: VVVV:DDDD" */
    if (rn >= 15 && hex_at(r, rn, 0, 4) && r[4] == ':' && r[5] == ' ' && hex_at(r, rn, 6, 4) &&
        r[10] == ':' && hex_at(r, rn, 11, 4) && (rn == 15 || is_blank(r[15]))) {
        int rc = set_class(p, w, hex_get(r, 4) << 8, false, line);
        if (rc == 0)
            rc = set_ids(p, w, (uint16_t)hex_get(r + 6, 4), (uint16_t)hex_get(r + 11, 4), line);
        if (rc < 0)
            return rc;
        size_t tn = rn;
        bool ids;
        return strip_tail(p, w, r, &tn, line, &ids);
    }
    /* "Class name[ [cccc]]: description" */
    const char *colon = NULL;
    for (size_t k = 0; k + 1 < rn; k++)
        if (r[k] == ':' && r[k + 1] == ' ') {
            colon = r + k;
            break;
        }
    if (!colon) {
        set_name(w, 2, r, rn, line);
        return 0;
    }
    size_t cn = (size_t)(colon - r);
    uint16_t code;
    size_t cname = cn;
    if (cn >= 7 && r[cn - 1] == ']' && r[cn - 6] == '[' && hex_at(r, cn, cn - 5, 4) &&
        r[cn - 7] == ' ') {
        code = (uint16_t)hex_get(r + cn - 5, 4);
        cname = cn - 7;
        int rc = set_class(p, w, (uint32_t)code << 8, false, line);
        if (rc < 0)
            return rc;
    } else if (class_by_name(r, cn, &code)) {
        int rc = set_class(p, w, (uint32_t)code << 8, false, line);
        if (rc < 0)
            return rc;
    }
    const char *d = colon + 2;
    size_t dn = rn - cn - 2;
    bool ids;
    int rc = strip_tail(p, w, d, &dn, line, &ids);
    if (rc < 0)
        return rc;
    char nm[sizeof w->f.name];
    int k = snprintf(nm, sizeof nm, "%.*s: %.*s", (int)cname, r, (int)dn, d);
    if (k > 0)
        set_name(w, 2, nm, strlen(nm), line);
    return 0;
}

/* ---- -v attribute lines ---- */

static bool num_after(const char *s, size_t n, const char *key, unsigned *v)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 2 <= n; i++)
        if (memcmp(s + i, key, kl) == 0 && (i == 0 || s[i - 1] == ' ' || s[i - 1] == ',') &&
            hex_at(s, n, i + kl, 2)) {
            *v = hex_get(s + i + kl, 2);
            return true;
        }
    return false;
}

static int attr_line(struct ps *p, struct work *w, const char *s, size_t n, unsigned line)
{
    while (n && is_blank(*s))
        s++, n--;
    if (starts(s, n, "Kernel driver in use:")) {
        size_t k = 21;
        while (k < n && is_blank(s[k]))
            k++;
        return set_driver(p, w, s + k, n - k, line);
    }
    if (starts(s, n, "Bus: ")) {
        unsigned sec, sub;
        if (num_after(s, n, "secondary=", &sec) && num_after(s, n, "subordinate=", &sub))
            return set_bus(p, w, (uint8_t)sec, (uint8_t)sub, line);
        return 0;
    }
    if (starts(s, n, "Capabilities: [")) {
        size_t k = 15;
        while (k < n && s[k] != ']')
            k++;
        k += 2;
        if (k >= n)
            return 0;
        const char *c = s + k;
        size_t cn = n - k;
        if (starts(c, cn, "Secure device")) {
            w->m.secure_cap = true;
            return 0;
        }
        if (!starts(c, cn, "Express "))
            return 0;
        c += 8, cn -= 8;
        if (starts(c, cn, "(v") ) {
            size_t j = 2;
            while (j < cn && c[j] != ')')
                j++;
            if (j + 1 < cn)
                c += j + 2, cn -= j + 2;
        }
        static const struct {
            const char *text;
            int type;
        } types[] = {
            {"Endpoint", PCIE_PORT_ENDPOINT},
            {"Legacy Endpoint", PCIE_PORT_LEGACY_ENDPOINT},
            {"Root Port", PCIE_PORT_ROOT_PORT},
            {"Upstream Port", PCIE_PORT_UPSTREAM},
            {"Downstream Port", PCIE_PORT_DOWNSTREAM},
            {"PCI-Express to PCI/PCI-X Bridge", PCIE_PORT_PCIE_TO_PCI},
            {"PCI/PCI-X to PCI-Express Bridge", PCIE_PORT_PCI_TO_PCIE},
            {"Root Complex Integrated Endpoint", PCIE_PORT_RC_INTEGRATED_EP},
            {"Root Complex Event Collector", PCIE_PORT_RC_EVENT_COLLECTOR},
        };
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
            size_t tl = strlen(types[t].text);
            if (starts(c, cn, types[t].text) && (cn == tl || c[tl] == ',' || c[tl] == ' '))
                return set_exp(p, w, types[t].type, line);
        }
        if (starts(c, cn, "Unknown type ")) {
            int v = atoi(c + 13);
            return set_exp(p, w, v & 0xf, line);
        }
    }
    return 0;
}

/* ---- configuration dump blocks ---- */

static int dump_add(struct ps *p, const char *s, size_t n, unsigned line)
{
    if (p->dlen + n + 2 > p->dcap) {
        size_t nc = (p->dcap ? p->dcap * 2 : 4096);
        while (nc < p->dlen + n + 2)
            nc *= 2;
        char *nb = realloc(p->dbuf, nc);
        if (!nb)
            return pcilab_errf(p->err, PCILAB_ENOMEM, "out of memory reading %s", p->name);
        p->dbuf = nb;
        p->dcap = nc;
    }
    if (p->dlines == p->dmcap) {
        size_t nc = p->dmcap ? p->dmcap * 2 : 64;
        unsigned *nm = realloc(p->dmap, nc * sizeof *nm);
        if (!nm)
            return pcilab_errf(p->err, PCILAB_ENOMEM, "out of memory reading %s", p->name);
        p->dmap = nm;
        p->dmcap = nc;
    }
    memcpy(p->dbuf + p->dlen, s, n);
    p->dlen += n;
    p->dbuf[p->dlen++] = '\n';
    p->dmap[p->dlines++] = line;
    return 0;
}

/* What the bytes say, checked against what the text said. */
static int from_config(struct ps *p, struct work *w, const struct pcie_dump_func *df,
                       unsigned line)
{
    const uint8_t *b = df->bytes;
    /* Header, PCIe 5.0 7.5.1.1: Vendor ID 00h, Device ID 02h, Class Code 09h-0bh,
     * Header Type 0eh (bits 6:0 layout), Status 06h bit 4 Capabilities List. */
    if (pcie_dump_func_has(df, 0x00, 4)) {
        uint16_t v = (uint16_t)(b[0] | b[1] << 8), d = (uint16_t)(b[2] | b[3] << 8);
        if (v == 0xffff)
            return 0; /* nothing there */
        int r = set_ids(p, w, v, d, line);
        if (r < 0)
            return r;
    }
    if (pcie_dump_func_has(df, 0x09, 3)) {
        int r = set_class(p, w, (uint32_t)b[0x0b] << 16 | (uint32_t)b[0x0a] << 8 | b[0x09], true,
                          line);
        if (r < 0)
            return r;
    }
    unsigned ht = pcie_dump_func_has(df, 0x0e, 1) ? (b[0x0e] & 0x7fu) : 0xffu;
    /* Type 1 (7.5.1.3): Secondary Bus Number 19h, Subordinate 1ah; CardBus
     * (PCI-to-CardBus bridge header, PC Card Standard) the same offsets. */
    if ((ht == 1 || ht == 2) && pcie_dump_func_has(df, 0x18, 3)) {
        w->m.bridge_seen = true;
        if (b[0x19] != 0) {
            int r = set_bus(p, w, b[0x19], b[0x1a], line);
            if (r < 0)
                return r;
        }
    } else if (ht == 1 || ht == 2) {
        w->m.bridge_seen = true;
    }
    /* The capability list (PCI 3.0 6.7), walked by pcie/caps.c. */
    pcie_cfg_init(p->cfg);
    memcpy(p->cfg->data, b, PCIE_CFG_SPACE_SIZE);
    p->cfg->size = df->len > 256 ? PCIE_CFG_SPACE_SIZE : 256;
    unsigned ec = pcie_cap_find(p->cfg, PCIE_CAP_ID_EXP);
    if (ec && pcie_dump_func_has(df, ec, 4)) {
        int r = set_exp(p, w, (int)pcie_exp_port_type(p->cfg), line);
        if (r < 0)
            return r;
    }
    unsigned sc = pcie_cap_find(p->cfg, 0x0f); /* Secure Device: the AMD IOMMU block */
    if (sc && pcie_dump_func_has(df, sc, 2))
        w->m.secure_cap = true;
    /* keep the bytes */
    unsigned len = df->len <= 64 ? 64 : df->len <= 256 ? 256 : 4096;
    if (w->f.has_config) {
        for (unsigned o = 0; o < PCIE_CFG_SPACE_SIZE; o++)
            if (df->given[o / 8] & (1u << (o % 8)))
                w->f.config[o] = df->bytes[o];
        if (len > w->f.config_len)
            w->f.config_len = len;
    } else {
        memcpy(w->f.config, df->bytes, sizeof w->f.config);
        w->f.config_len = len;
        w->f.has_config = true;
    }
    return 0;
}

static int dump_flush(struct ps *p)
{
    if (!p->dlines)
        return 0;
    int rc = 0;
    if (p->dlines > 1) {
        struct pcilab_err e;
        pcilab_err_clear(&e);
        pcie_dump_free(&p->dump);
        pcie_dump_init(&p->dump);
        int r = pcie_dump_parse(&p->dump, p->dbuf, p->dlen, p->name, &e);
        if (r == -PCILAB_ENOMEM) {
            rc = pcilab_errf(p->err, PCILAB_ENOMEM, "out of memory reading %s", p->name);
        } else if (r < 0 || p->dump.count != 1) {
            /* tolerated: the block's hex lines are skipped */
            if (r < 0 && e.line >= 1 && e.line <= p->dlines)
                e.line = p->dmap[e.line - 1];
            if (!p->note.code)
                p->note = e;
            p->skipped += p->dlines - 1;
        } else {
            const struct pcie_dump_func *df = &p->dump.funcs[0];
            long i = find_w(p, (uint16_t)df->domain, (uint16_t)(df->bus << 8 | df->dev << 3 | df->fn));
            if (i >= 0)
                rc = from_config(p, &p->w[i], df, p->dmap[0]);
        }
    }
    p->dlen = 0;
    p->dlines = 0;
    return rc;
}

/* ---- the tree ---- */

struct tline {
    struct ps *p;
    const char *s;
    size_t n;
    unsigned line;
};

static int tree_bus(struct tline *t, size_t x, struct tctx bus);

static void col_set(struct ps *p, size_t x, struct tctx c)
{
    if (x < TREE_COLS) {
        c.valid = true;
        p->col[x] = c;
    }
}

/* "DD.F" at x, on bus `bus`; returns 0, 1 when the line is not tree syntax,
 * or negative. */
static int tree_dev(struct tline *t, size_t x, struct tctx bus)
{
    const char *s = t->s;
    size_t n = t->n;
    if (!hex_at(s, n, x, 2) || x + 3 >= n || s[x + 2] != '.' || s[x + 3] < '0' || s[x + 3] > '7')
        return 1;
    unsigned dev = hex_get(s + x, 2);
    if (dev > 0x1f)
        return 1;
    uint16_t bdf = (uint16_t)(bus.bus << 8 | dev << 3 | (unsigned)(s[x + 3] - '0'));
    long i = get_w(t->p, bus.seg, bdf, t->line);
    if (i < -1)
        return pcilab_errf(t->p->err, PCILAB_ENOMEM, "out of memory reading %s", t->p->name);
    if (i < 0)
        return 1;
    struct work *w = &t->p->w[i];
    w->m.in_tree = true;
    if (bus.has_parent) {
        int r = set_parent(t->p, w, bus.parent, t->line);
        if (r < 0)
            return r;
    } else {
        w->m.tree_root = true;
    }
    size_t y = x + 4;
    if (y + 1 < n && s[y] == '-' && s[y + 1] == '[') {
        /* -[SS]- or -[SS-UU]- then the bridge's own '-' */
        if (!hex_at(s, n, y + 2, 2))
            return 1;
        unsigned sec = hex_get(s + y + 2, 2), sub = sec;
        size_t z = y + 4;
        if (z < n && s[z] == '-') {
            if (!hex_at(s, n, z + 1, 2))
                return 1;
            sub = hex_get(s + z + 1, 2);
            z += 3;
        }
        if (z + 1 >= n || s[z] != ']' || s[z + 1] != '-')
            return 1;
        int r = set_bus(t->p, w, (uint8_t)sec, (uint8_t)sub, t->line);
        if (r < 0)
            return r;
        z += 2;
        if (z >= n || s[z] != '-')
            return 1;
        z++;
        struct tctx child = {.seg = bus.seg, .bus = (uint8_t)sec, .has_parent = true,
                             .parent = bdf};
        if (z + 2 < n && (s[z] == '+' || s[z] == '\\') && s[z + 1] == '-' && s[z + 2] == '[') {
            struct tctx list = child;
            list.buslist = true;
            col_set(t->p, z, list);
            /* "+-[DDDD:BB]-" */
            if (!hex_at(s, n, z + 3, 4) || z + 7 >= n || s[z + 7] != ':' ||
                !hex_at(s, n, z + 8, 2) || z + 11 >= n || s[z + 10] != ']' || s[z + 11] != '-')
                return 1;
            child.seg = (uint16_t)hex_get(s + z + 3, 4);
            child.bus = (uint8_t)hex_get(s + z + 8, 2);
            return tree_bus(t, z + 12, child);
        }
        return tree_bus(t, z, child);
    }
    /* a device: "  Vendor Device[ [vvvv:dddd]]" */
    size_t k = y;
    while (k < n && is_blank(s[k]))
        k++;
    if (k < n) {
        bool ids;
        size_t dn = n - k;
        int r = strip_tail(t->p, w, s + k, &dn, t->line, &ids);
        if (r < 0)
            return r;
        set_name(w, 1, s + k, dn, t->line);
    }
    return 0;
}

static int tree_bus(struct tline *t, size_t x, struct tctx bus)
{
    const char *s = t->s;
    size_t n = t->n;
    bus.buslist = false;
    col_set(t->p, x, bus);
    if (x >= n)
        return 0; /* a bus with nothing on it: "-[03]--" */
    if (x + 1 < n && (s[x] == '-' || s[x] == '+' || s[x] == '\\') && s[x + 1] == '-')
        return tree_dev(t, x + 2, bus);
    return 1;
}

/* "[DDDD:BB]-" at x: a root bus of the host bridge (no parent). */
static int tree_root_bus(struct tline *t, size_t x)
{
    const char *s = t->s;
    size_t n = t->n;
    if (x >= n || s[x] != '[' || !hex_at(s, n, x + 1, 4) || x + 5 >= n || s[x + 5] != ':' ||
        !hex_at(s, n, x + 6, 2) || x + 9 >= n || s[x + 8] != ']' || s[x + 9] != '-')
        return 1;
    struct tctx bus = {.seg = (uint16_t)hex_get(s + x + 1, 4),
                       .bus = (uint8_t)hex_get(s + x + 6, 2)};
    return tree_bus(t, x + 10, bus);
}

static bool tree_bases(const char *s, size_t n)
{
    /* lspci -tvv prints each device's BARs under it */
    return starts(s, n, "Memory at") || starts(s, n, "I/O ports at") || starts(s, n, "Region ") ||
           starts(s, n, "[virtual]") || starts(s, n, "[enhanced]");
}

static int tree_line(struct ps *p, const char *s, size_t n, unsigned line)
{
    struct tline t = {.p = p, .s = s, .n = n, .line = line};
    int r = 1;
    if (s[0] == '-') {
        /* a new tree */
        memset(p->col, 0, sizeof p->col);
        if (n > 3 && (s[1] == '+' || s[1] == '\\') && s[2] == '-' && s[3] == '[') {
            col_set(p, 1, (struct tctx){.buslist = true});
            r = tree_root_bus(&t, 3);
        } else {
            r = tree_root_bus(&t, 1);
        }
    } else if (pcilab_hexval(s[0]) >= 0) {
        /* lspci -t -s: "DDDD:BB:DD.F-[..]..." (its parent is not shown) */
        memset(p->col, 0, sizeof p->col);
        struct tctx bus = {.seg = (uint16_t)hex_get(s, 4), .bus = (uint8_t)hex_get(s + 5, 2)};
        r = tree_dev(&t, 8, bus);
        if (r == 0) {
            uint16_t bdf = (uint16_t)(bus.bus << 8 | hex_get(s + 8, 2) << 3 | (unsigned)(s[11] - '0'));
            long i = find_w(p, bus.seg, bdf);
            if (i >= 0)
                p->w[i].m.tree_root = false; /* not known to be on a root bus */
        }
    } else {
        size_t x = 0;
        while (x < n && (s[x] == ' ' || s[x] == '|'))
            x++;
        if (x < n && tree_bases(s + x, n - x))
            return 0;
        if (x < TREE_COLS && p->col[x].valid) {
            struct tctx c = p->col[x];
            for (size_t k = x + 1; k < TREE_COLS; k++)
                p->col[k].valid = false;
            if (c.buslist) {
                if (x + 2 < n && (s[x] == '+' || s[x] == '\\') && s[x + 1] == '-') {
                    if (c.has_parent) {
                        /* a bridge's further bus: parent as the list's */
                        if (s[x + 2] != '[' || !hex_at(s, n, x + 3, 4) || x + 11 >= n ||
                            s[x + 7] != ':' || !hex_at(s, n, x + 8, 2) || s[x + 10] != ']' ||
                            s[x + 11] != '-')
                            r = 1;
                        else {
                            struct tctx b = c;
                            b.seg = (uint16_t)hex_get(s + x + 3, 4);
                            b.bus = (uint8_t)hex_get(s + x + 8, 2);
                            r = tree_bus(&t, x + 12, b);
                        }
                    } else {
                        r = tree_root_bus(&t, x + 2);
                    }
                }
            } else if (x + 1 < n && (s[x] == '+' || s[x] == '\\') && s[x + 1] == '-') {
                r = tree_dev(&t, x + 2, c);
            }
        }
    }
    if (r > 0)
        p->skipped++;
    return r < 0 ? r : 0;
}

/* ---- driving ---- */

static int interpret(struct ps *p, enum lk kind, const char *s, size_t n, unsigned line)
{
    int r = 0;
    if (kind != LK_HEX && kind != LK_INDENT) {
        r = dump_flush(p);
        if (r < 0)
            return r;
    }
    switch (kind) {
    case LK_BLANK:
        p->cur = -1;
        return 0;
    case LK_HEADER: {
        long i = -1;
        r = device_line(p, s, n, line, &i);
        if (r < 0)
            return r;
        p->cur = i;
        p->cur_line = line;
        if (i < 0)
            p->skipped++;
        else
            r = dump_add(p, s, n, line);
        return r;
    }
    case LK_HEX:
        if (p->cur < 0 || !p->dlines) {
            p->skipped++;
            return 0;
        }
        return dump_add(p, s, n, line);
    case LK_INDENT:
        if (p->cur < 0) {
            p->skipped++;
            return 0;
        }
        return attr_line(p, &p->w[p->cur], s, n, line);
    case LK_TREE:
        p->cur = -1;
        return tree_line(p, s, n, line);
    case LK_BYTES:
    case LK_ORPHAN:
        p->cur = -1;
        p->skipped++;
        return 0;
    }
    return 0;
}

/* Physical lines: CR, trailing blanks and mail quoting ("> ", ">> ", "> > ")
 * removed. */
static int split_lines(const char *text, size_t len, struct pline **out, size_t *count)
{
    size_t cap = 64, k = 0;
    struct pline *v = malloc(cap * sizeof *v);
    if (!v)
        return -PCILAB_ENOMEM;
    size_t pos = 0;
    unsigned no = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t e = nl ? (size_t)(nl - text) : len;
        const char *s = text + pos;
        size_t n = e - pos;
        no++;
        pos = e + 1;
        while (n && (s[n - 1] == '\r' || is_blank(s[n - 1])))
            n--;
        while (n && s[0] == '>') {
            s++, n--;
            if (n && s[0] == ' ')
                s++, n--;
        }
        if (k == cap) {
            cap *= 2;
            struct pline *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                free(v);
                return -PCILAB_ENOMEM;
            }
            v = nv;
        }
        /* a line with NUL or other control bytes is not lspci output */
        bool bin = false;
        for (size_t i = 0; i < n; i++)
            if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
                bin = true;
        size_t width = 0;
        for (size_t i = 0; i < n; i++)
            width = s[i] == '\t' ? (width / 8 + 1) * 8 : width + 1;
        v[k] = (struct pline){.s = s, .n = n, .no = no,
                              .kind = bin ? LK_ORPHAN : classify(s, n), .width = width};
        k++;
    }
    *out = v;
    *count = k;
    return 0;
}

/* Shell prompts and comments pasted around the output: never the rest of
 * a wrapped line. */
static bool prompt_like(const char *s, size_t n)
{
    return n && (s[0] == '#' || s[0] == '$' || s[0] == '%' || starts(s, n, "lspci") ||
                 starts(s, n, "sudo "));
}

struct order {
    uint32_t key;
    size_t idx;
};

static int order_cmp(const void *a, const void *b)
{
    uint32_t x = ((const struct order *)a)->key, y = ((const struct order *)b)->key;
    return x < y ? -1 : x > y;
}

static bool joinable_prev(enum lk k)
{
    return k == LK_HEADER || k == LK_INDENT || k == LK_TREE;
}

int lspci_parse(struct lspci_db *db, const char *text, size_t len, const char *name,
                size_t *skipped, struct pcilab_err *err)
{
    memset(db, 0, sizeof *db);
    if (skipped)
        *skipped = 0;
    if (!name)
        name = "lspci";
    struct ps *p = calloc(1, sizeof *p);
    if (!p)
        return pcilab_errf(err, PCILAB_ENOMEM, "out of memory reading %s", name);
    p->name = name;
    p->err = err;
    p->cur = -1;
    pcie_dump_init(&p->dump);
    struct pline *pl = NULL;
    size_t np = 0;
    char *join = NULL;
    size_t jcap = 0;
    size_t *br = NULL;
    int rc = 0;
    p->cfg = pcie_cfg_create(err);
    if (!p->cfg) {
        rc = -PCILAB_ENOMEM;
        goto out;
    }
    if (split_lines(text, len, &pl, &np) < 0) {
        rc = pcilab_errf(err, PCILAB_ENOMEM, "out of memory reading %s", name);
        goto out;
    }
    for (size_t i = 0; i < np && rc == 0; i++) {
        const struct pline *L = &pl[i];
        /* Mail wrapping: orphan lines after a device, attribute or tree line
         * are its continuation when the evidence says so (docs/explain-lspci.md). */
        size_t j = i + 1;
        if (joinable_prev(L->kind)) {
            while (j < np && j < i + 4 && (pl[j].kind == LK_ORPHAN || pl[j].kind == LK_BYTES) &&
                   !prompt_like(pl[j].s, pl[j].n))
                j++;
        }
        size_t run = j - i - 1;
        bool join_it = false;
        if (run > 0) {
            enum lk next = j < np ? pl[j].kind : LK_BLANK;
            const struct pline *last = &pl[j - 1];
            bool sandwich = L->kind == LK_TREE ? next == LK_TREE
                                               : (next == LK_INDENT || next == LK_HEADER ||
                                                  next == LK_HEX);
            bool tail = lspci_tail(last->s, last->n);
            /* a wrapped line was long, but not longer than mail wraps at */
            bool longish = pl[j - 2].width >= 60 && pl[j - 2].width <= 100 && run == 1;
            if (L->kind == LK_TREE)
                join_it = tail || (longish && (sandwich || next == LK_BLANK));
            else
                join_it = tail || (L->width >= 40 && sandwich) || (longish && L->kind == LK_INDENT);
        }
        /* a hex line cut short, its rest on the next line */
        if (L->kind == LK_HEX && j < np && pl[j].kind == LK_BYTES &&
            hex_line_bytes(L->s, L->n) + count_bytes_only(pl[j].s, pl[j].n) <= 16 &&
            hex_line_bytes(L->s, L->n) < 16) {
            run = 1;
            j = i + 2;
            join_it = true;
        }
        if (!join_it) {
            rc = interpret(p, L->kind, L->s, L->n, L->no);
            continue;
        }
        size_t need = 0;
        for (size_t k = i; k < j; k++)
            need += pl[k].n + 1;
        if (need > jcap) {
            char *nb = realloc(join, need);
            if (!nb) {
                rc = pcilab_errf(err, PCILAB_ENOMEM, "out of memory reading %s", name);
                break;
            }
            join = nb;
            jcap = need;
        }
        size_t o = 0;
        for (size_t k = i; k < j; k++) {
            const char *s = pl[k].s;
            size_t n = pl[k].n;
            if (k > i) {
                while (n && is_blank(*s))
                    s++, n--;
                join[o++] = ' ';
            }
            memcpy(join + o, s, n);
            o += n;
        }
        rc = interpret(p, L->kind, join, o, L->no);
        i = j - 1;
    }
    if (rc == 0)
        rc = dump_flush(p);
    if (rc < 0)
        goto out;

    /* The bridges whose bus range is known. */
    size_t nbr = 0;
    br = malloc((p->n ? p->n : 1) * sizeof *br);
    if (!br) {
        rc = pcilab_errf(err, PCILAB_ENOMEM, "out of memory reading %s", name);
        goto out;
    }
    for (size_t i = 0; i < p->n; i++)
        if (p->w[i].m.l_bus && p->w[i].f.secondary != 0)
            br[nbr++] = i;
    /* Two bridges cannot lead to the same bus. */
    for (size_t x = 0; x < nbr && rc == 0; x++)
        for (size_t y = x + 1; y < nbr; y++) {
            const struct work *w = &p->w[br[x]], *o = &p->w[br[y]];
            if (o->f.segment != w->f.segment || o->f.secondary != w->f.secondary)
                continue;
            const struct work *first = w->m.l_bus <= o->m.l_bus ? w : o;
            const struct work *second = first == w ? o : w;
            char a1[16], b1[16];
            bdf_str(a1, sizeof a1, first->f.segment, first->f.bdf);
            bdf_str(b1, sizeof b1, second->f.segment, second->f.bdf);
            rc = pcilab_err_at(err, PCILAB_EINVAL, name, second->m.l_bus, 0,
                               "%s: secondary bus %02x here, but bridge %s leads to bus %02x "
                               "on line %u",
                               b1, second->f.secondary, a1, first->f.secondary,
                               first->m.l_bus);
            break;
        }
    if (rc < 0)
        goto out;
    /* Parents from bus numbers where the tree gave none: the bridge whose
     * secondary bus is the function's bus (PCI-to-PCI Bridge Architecture
     * 1.2, 3.2.5.3: Secondary Bus Number). */
    for (size_t i = 0; i < p->n; i++) {
        struct work *w = &p->w[i];
        if (w->f.has_parent || w->m.tree_root)
            continue;
        uint8_t bus = (uint8_t)(w->f.bdf >> 8);
        for (size_t x = 0; x < nbr; x++) {
            const struct work *o = &p->w[br[x]];
            if (br[x] != i && o->f.segment == w->f.segment && o->f.secondary == bus) {
                w->f.has_parent = true;
                w->f.parent_bdf = o->f.bdf;
                w->m.l_parent = o->m.l_bus;
                break;
            }
        }
    }
    /* Roles. */
    for (size_t i = 0; i < p->n; i++) {
        struct work *w = &p->w[i];
        struct meta *m = &w->m;
        uint16_t cls = (uint16_t)(w->f.class_code >> 8);
        bool bridge = m->bridge_seen ||
                      (w->f.has_class && (cls == 0x0604 || cls == 0x0609 || cls == 0x0607));
        bool on_root = m->tree_root;
        if (!on_root && !w->f.has_parent && !m->in_tree) {
            uint8_t bus = (uint8_t)(w->f.bdf >> 8);
            bool covered = false;
            for (size_t x = 0; x < nbr && !covered; x++) {
                const struct work *o = &p->w[br[x]];
                covered = o->f.segment == w->f.segment && o->f.secondary <= bus &&
                          bus <= o->f.subordinate;
            }
            on_root = !covered && (nbr > 0 || bus == 0);
        }
        enum lspci_role role = LSPCI_ROLE_UNKNOWN;
        if (w->f.has_class && cls == 0x0600)
            role = LSPCI_ROLE_HOST_BRIDGE;
        else if ((w->f.has_class && cls == 0x0806) || m->secure_cap)
            role = LSPCI_ROLE_IOMMU;
        else if (m->exp_type >= 0) {
            switch (m->exp_type) {
            case PCIE_PORT_ROOT_PORT: role = LSPCI_ROLE_ROOT_PORT; break;
            case PCIE_PORT_UPSTREAM:
            case PCIE_PORT_DOWNSTREAM:
            case PCIE_PORT_PCIE_TO_PCI:
            case PCIE_PORT_PCI_TO_PCIE: role = LSPCI_ROLE_BRIDGE; break;
            case PCIE_PORT_ENDPOINT:
            case PCIE_PORT_LEGACY_ENDPOINT: role = LSPCI_ROLE_ENDPOINT; break;
            case PCIE_PORT_RC_INTEGRATED_EP:
            case PCIE_PORT_RC_EVENT_COLLECTOR: role = LSPCI_ROLE_RCIEP; break;
            default: role = bridge ? LSPCI_ROLE_BRIDGE : LSPCI_ROLE_UNKNOWN; break;
            }
        } else if (bridge) {
            /* no Express capability seen: a bridge on a root bus is taken for a
             * root port, unless it decodes subtractively (prog-if 01, a
             * legacy PCI bridge such as Intel's 00:1e.0) */
            role = on_root && m->prog_if != 1 ? LSPCI_ROLE_ROOT_PORT : LSPCI_ROLE_BRIDGE;
        } else if (w->f.has_class) {
            role = LSPCI_ROLE_ENDPOINT;
        }
        w->f.role = role;
    }
    /* Out, sorted by (segment, bdf). */
    if (p->n) {
        struct order *ord = malloc(p->n * sizeof *ord);
        db->fn = malloc(p->n * sizeof *db->fn);
        if (!db->fn || !ord) {
            free(ord);
            rc = pcilab_errf(err, PCILAB_ENOMEM, "out of memory reading %s", name);
            goto out;
        }
        for (size_t i = 0; i < p->n; i++)
            ord[i] = (struct order){key_of(p->w[i].f.segment, p->w[i].f.bdf), i};
        qsort(ord, p->n, sizeof *ord, order_cmp);
        for (size_t i = 0; i < p->n; i++)
            memcpy(&db->fn[i], &p->w[ord[i].idx].f, sizeof db->fn[i]);
        db->n = p->n;
        free(ord);
    }
    db->note = p->note;
out:
    if (skipped)
        *skipped = p->skipped;
    free(pl);
    free(join);
    free(br);
    free(p->dbuf);
    free(p->dmap);
    free(p->hash);
    free(p->w);
    pcie_dump_free(&p->dump);
    pcie_cfg_destroy(p->cfg);
    free(p);
    if (rc < 0)
        lspci_free(db);
    return rc;
}

void lspci_free(struct lspci_db *db)
{
    if (!db)
        return;
    free(db->fn);
    db->fn = NULL;
    db->n = 0;
}

const struct lspci_fn *lspci_find(const struct lspci_db *db, uint16_t segment, uint16_t bdf)
{
    if (!db || !db->n)
        return NULL;
    uint32_t k = key_of(segment, bdf);
    size_t lo = 0, hi = db->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t mk = key_of(db->fn[mid].segment, db->fn[mid].bdf);
        if (mk == k)
            return &db->fn[mid];
        if (mk < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t lspci_path(const struct lspci_db *db, const struct lspci_fn *fn, uint16_t *out, size_t max)
{
    size_t k = 0;
    /* at most one step per function: a loop in bad input ends here */
    for (size_t steps = 0; fn && k < max && steps <= db->n; steps++) {
        out[k++] = fn->bdf;
        if (!fn->has_parent)
            break;
        fn = lspci_find(db, fn->segment, fn->parent_bdf);
    }
    return k;
}
