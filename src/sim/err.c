#include "sim/err.h"

#include <stdio.h>
#include <string.h>

int pcilab_verrf(struct pcilab_err *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        err->file[0] = '\0';
        err->line = err->col = 0;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return -code;
}

int pcilab_errf(struct pcilab_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = pcilab_verrf(err, code, fmt, ap);
    va_end(ap);
    return r;
}

int pcilab_err_at(struct pcilab_err *err, int code, const char *file, unsigned line,
                  unsigned col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = pcilab_verrf(err, code, fmt, ap);
    va_end(ap);
    if (err) {
        snprintf(err->file, sizeof err->file, "%s", file ? file : "");
        err->line = line;
        err->col = col;
    }
    return r;
}

void pcilab_err_clear(struct pcilab_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

const char *pcilab_err_str(const struct pcilab_err *err, char *buf, size_t len)
{
    if (!err->file[0])
        snprintf(buf, len, "%s", err->msg);
    else if (!err->line)
        snprintf(buf, len, "%s: %s", err->file, err->msg);
    else if (!err->col)
        snprintf(buf, len, "%s:%u: %s", err->file, err->line, err->msg);
    else
        snprintf(buf, len, "%s:%u:%u: %s", err->file, err->line, err->col, err->msg);
    return buf;
}

const char *pcilab_errcode_name(int code)
{
    static const char *const names[] = {
        "ok", "invalid input", "malformed", "out of memory", "I/O error",
        "already exists", "not found", "out of range", "not supported",
    };
    if (code < 0)
        code = -code;
    return (size_t)code < sizeof names / sizeof names[0] ? names[code] : "unknown error";
}
