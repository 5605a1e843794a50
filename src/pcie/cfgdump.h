/* Configuration space dumps in the pciutils text format: what `lspci -x`, `-xxx`
 * and `-xxxx` print and what `lspci -F FILE` reads back.
 *
 * Format (pciutils lspci.c show_hex_dump / lib/dump.c, read for the format only):
 *   one function starts with a line "[DDDD:]BB:DD.F <description>"; the domain is
 *   printed when any function has a non-zero domain (or with -D);
 *   then lines "oo: hh hh ... hh" with 16 bytes each, offset in lowercase hex
 *   (2 digits below 100h, 3 digits above), bytes as two lowercase hex digits
 *   separated by one space; a blank line ends the function.
 *   lspci -F needs the space after the BDF, so the writer always prints a
 *   description; without one it prints what `lspci -n` prints:
 *   "CCCC: VVVV:DDDD" plus " (rev RR)" when the revision is non-zero.
 *
 * The reader accepts what users paste: with or without domains, any text after
 * the BDF, verbose `lspci -vvv` lines in between (they start with a tab), blank
 * lines, indentation with spaces, trailing spaces and CRLF line ends. Errors name
 * line and column of the offending token.
 */
#ifndef PCILAB_PCIE_CFGDUMP_H
#define PCILAB_PCIE_CFGDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcie/config.h"
#include "sim/err.h"

#define PCIE_DUMP_MAX_FUNCS 8192u

/* One function read from a dump. */
struct pcie_dump_func {
    uint32_t domain;            /* 0 when the dump has no domains */
    uint8_t bus, dev, fn;
    unsigned line;              /* line of the "BB:DD.F" header (1-based) */
    unsigned len;               /* highest offset given + 1 (what lspci -F can read) */
    unsigned present;           /* number of bytes actually given */
    uint8_t bytes[PCIE_CFG_SPACE_SIZE];         /* bytes not given read ff */
    uint8_t given[PCIE_CFG_SPACE_SIZE / 8];     /* bit per byte: given in the dump */
};

struct pcie_dump {
    struct pcie_dump_func *funcs;   /* in order of appearance */
    size_t count, capacity;
};

void pcie_dump_init(struct pcie_dump *d);
void pcie_dump_free(struct pcie_dump *d);
/* Parses `len` bytes of text (need not be NUL-terminated) and appends the
 * functions to d. `file` names the input in errors (may be NULL). On error d
 * keeps the functions parsed before the error. */
int pcie_dump_parse(struct pcie_dump *d, const char *text, size_t len, const char *file,
                    struct pcilab_err *err);
/* Reads and parses a file. */
int pcie_dump_load(struct pcie_dump *d, const char *path, struct pcilab_err *err);
const struct pcie_dump_func *pcie_dump_find(const struct pcie_dump *d, uint32_t domain,
                                            uint8_t bus, uint8_t dev, uint8_t fn);
bool pcie_dump_func_has(const struct pcie_dump_func *f, unsigned off, unsigned size);

/* One function to write. */
struct pcie_dump_entry {
    uint32_t domain;
    uint8_t bus, dev, fn;
    const uint8_t *bytes;       /* configuration space bytes */
    unsigned len;               /* bytes available: 64, 256 or 4096 */
    const char *desc;           /* text after the BDF; NULL = lspci -n style */
};
void pcie_dump_entry_from_cfg(struct pcie_dump_entry *e, uint32_t domain, uint8_t bus,
                              uint8_t dev, uint8_t fn, const struct pcie_cfg *cfg);

#define PCIE_DUMP_DOMAINS 0x1u  /* always print the domain (lspci -D) */

/* Formats the functions as lspci does with -x (bytes = 64), -xxx (256) or -xxxx
 * (4096); a function with fewer bytes prints what it has, like a conventional
 * PCI function under -xxxx. *out is malloc'd and NUL-terminated; *out_len is
 * its length. */
int pcie_dump_format(const struct pcie_dump_entry *e, size_t n, unsigned bytes, unsigned flags,
                     char **out, size_t *out_len, struct pcilab_err *err);

#endif
