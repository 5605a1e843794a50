/* Errors: functions that can fail return a negative PCILAB_E* code and fill a
 * struct pcilab_err. Only src/cli prints and exits. */
#ifndef PCILAB_SIM_ERR_H
#define PCILAB_SIM_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum pcilab_errcode {
    PCILAB_OK = 0,
    PCILAB_EINVAL = 1,   /* bad input: syntax, out-of-range value, unknown name */
    PCILAB_EMALFORMED,   /* a hardware format breaks a rule of its specification */
    PCILAB_ENOMEM,       /* allocation failed */
    PCILAB_EIO,          /* reading or writing a host file or running a host tool */
    PCILAB_EEXIST,       /* a name, ID or address range is already taken */
    PCILAB_ENOENT,       /* a named thing does not exist */
    PCILAB_ERANGE,       /* an address or size outside what the object covers */
    PCILAB_EUNSUPPORTED, /* valid, but not modelled */
};

struct pcilab_err {
    int code;            /* enum pcilab_errcode; 0 when no error was recorded */
    char file[256];      /* input file the error is in, "" when none */
    unsigned line, col;  /* 1-based; 0 when not applicable */
    char msg[512];
};

/* Records an error and returns -code, so callers can write
 *     return pcilab_errf(err, PCILAB_EINVAL, "bad width %u", w);
 * err may be NULL (the error is then only returned). */
int pcilab_errf(struct pcilab_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pcilab_verrf(struct pcilab_err *err, int code, const char *fmt, va_list ap);
/* Same, with a position in an input file. */
int pcilab_err_at(struct pcilab_err *err, int code, const char *file, unsigned line,
                  unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void pcilab_err_clear(struct pcilab_err *err);
/* "file:line:col: msg" (parts left out when unknown). Returns buf. */
const char *pcilab_err_str(const struct pcilab_err *err, char *buf, size_t len);
const char *pcilab_errcode_name(int code);

#endif
