/* libFuzzer target: any bytes as a kernel command line, for every modelled
 * version. Parsing never fails and never crashes; every line it prints fits
 * a printk record; what init receives stays within the version's limits;
 * parsing is deterministic (twice the same input, the same values and
 * lines). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/cmdline.h"
#include "host/kver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct lines {
    unsigned n;
    uint64_t hash;
};

static void collect(void *ctx, int level, const char *text)
{
    struct lines *l = ctx;
    size_t len = strlen(text);
    if (level < 0 || level > 7 || len > SIM_LOG_LINE_MAX)
        abort();
    l->n++;
    /* FNV-1a over level and text, to compare two runs */
    l->hash = (l->hash ^ (uint64_t)level) * 0x100000001b3ull;
    for (size_t i = 0; i < len; i++)
        l->hash = (l->hash ^ (uint8_t)text[i]) * 0x100000001b3ull;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a command line is a C string: the bytes up to the first NUL, at most
     * what the kernel keeps */
    char line[HOST_CMDLINE_SIZE];
    size_t n = size < sizeof line - 1 ? size : sizeof line - 1;
    memcpy(line, data, n);
    line[n] = '\0';
    for (size_t v = 0; v < host_kver_count(); v++) {
        const struct host_kver *kv = host_kver_at(v);
        struct host_bootparams a, b;
        struct lines la = {0, 0xcbf29ce484222325ull}, lb = la;
        struct host_log_sink sa = {collect, &la}, sb = {collect, &lb};
        if (host_cmdline_parse(kv, line, &a, &sa, NULL) != 0 ||
            host_cmdline_parse(kv, line, &b, &sb, NULL) != 0)
            abort();
        if (la.n != lb.n || la.hash != lb.hash || memcmp(&a, &b, sizeof a) != 0)
            abort();
        if (a.init_argc > kv->cmdline_max_init_args || a.init_envc > kv->cmdline_max_init_args)
            abort();
    }
    return 0;
}
