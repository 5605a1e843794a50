#include "scenario/yaml.h"

#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void scn_yaml_free(struct scn_ynode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        scn_yaml_free(n->kids[i]);
    free(n->kids);
    free(n->text);
    free(n);
}

bool scn_yaml_is_null(const struct scn_ynode *n)
{
    if (!n || n->type != SCN_Y_SCALAR || !n->plain)
        return false;
    return n->len == 0 || !strcmp(n->text, "~") || !strcmp(n->text, "null") ||
           !strcmp(n->text, "Null") || !strcmp(n->text, "NULL");
}

const char *scn_yaml_describe(const struct scn_ynode *n, char *buf, size_t len)
{
    if (n->type == SCN_Y_MAP)
        snprintf(buf, len, "a mapping");
    else if (n->type == SCN_Y_SEQ)
        snprintf(buf, len, "a sequence");
    else if (scn_yaml_is_null(n))
        snprintf(buf, len, "nothing");
    else {
        /* Printable, shortened: control bytes and non-ASCII become '?'. */
        char tmp[48];
        size_t k = 0;
        for (size_t i = 0; i < n->len && k < 40; i++) {
            unsigned char ch = (unsigned char)n->text[i];
            tmp[k++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
        }
        tmp[k] = '\0';
        snprintf(buf, len, "'%s%s'", tmp, n->len > 40 ? "..." : "");
    }
    return buf;
}

static int append(struct scn_ynode *parent, struct scn_ynode *kid)
{
    if (parent->nkids == parent->cap) {
        size_t ncap = parent->cap ? parent->cap * 2 : 8;
        struct scn_ynode **k = realloc(parent->kids, ncap * sizeof *k);
        if (!k)
            return -1;
        parent->kids = k;
        parent->cap = ncap;
    }
    parent->kids[parent->nkids++] = kid;
    return 0;
}

struct yparse {
    const char *file;
    struct pcilab_err *err;
    struct fy_diag *diag;
};

static int at_mark(struct yparse *y, const struct fy_mark *m, int code, const char *what)
{
    return pcilab_err_at(y->err, code, y->file, m ? (unsigned)m->line + 1 : 0,
                         m ? (unsigned)m->column + 1 : 0, "%s", what);
}

static int at_event(struct yparse *y, struct fy_event *e, int code, const char *what)
{
    return at_mark(y, fy_event_start_mark(e), code, what);
}

/* The first error libfyaml collected, at its position (the diag reports 1-based
 * lines and columns). */
static int diag_error(struct yparse *y, unsigned line, unsigned col)
{
    void *it = NULL;
    struct fy_diag_error *de = fy_diag_errors_iterate(y->diag, &it);
    if (de && de->msg)
        return pcilab_err_at(y->err, PCILAB_EINVAL, y->file, de->line > 0 ? (unsigned)de->line : line,
                             de->column > 0 ? (unsigned)de->column : col, "YAML syntax: %s",
                             de->msg);
    return pcilab_err_at(y->err, PCILAB_EINVAL, y->file, line, col, "YAML syntax error");
}

/* YAML 1.2 5.1: a stream is printable Unicode (tab, LF, CR, 0x20.. except DEL
 * and C1 controls other than NEL) in UTF-8 here. Checked before libfyaml sees
 * the text: it names the position, and libfyaml 0.7.12 can loop forever on
 * invalid UTF-8 inside a directive. */
static int check_text(const char *file, const unsigned char *t, size_t len, struct pcilab_err *err)
{
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < len; col++) {
        unsigned c = t[i], need, cp;
        if (c < 0x80) {
            if (c == '\n') {
                line++;
                col = 0;
            } else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
                return pcilab_err_at(err, PCILAB_EINVAL, file, line, col,
                                     "control character 0x%02x is not allowed in YAML (YAML 1.2 5.1)", c);
            }
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return pcilab_err_at(err, PCILAB_EINVAL, file, line, col,
                                 "invalid UTF-8 byte 0x%02x", c);
        }
        if (need >= len - i)
            return pcilab_err_at(err, PCILAB_EINVAL, file, line, col, "truncated UTF-8 sequence");
        for (unsigned k = 1; k <= need; k++) {
            if ((t[i + k] & 0xc0) != 0x80)
                return pcilab_err_at(err, PCILAB_EINVAL, file, line, col,
                                     "invalid UTF-8 sequence starting with byte 0x%02x", c);
            cp = cp << 6 | (t[i + k] & 0x3fu);
        }
        /* Overlong forms, surrogates, beyond U+10FFFF, C1 controls except NEL. */
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f && cp != 0x85) ||
            cp == 0xfffe || cp == 0xffff)
            return pcilab_err_at(err, PCILAB_EINVAL, file, line, col,
                                 "character U+%04X is not allowed in YAML (YAML 1.2 5.1)", cp);
        i += need + 1;
    }
    return 0;
}

int scn_yaml_parse(const char *file, const char *text, size_t len, struct scn_ynode **root,
                   struct pcilab_err *err)
{
    *root = NULL;
    int trc = check_text(file, (const unsigned char *)text, len, err);
    if (trc)
        return trc;
    struct yparse y = {.file = file, .err = err};
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = NULL; /* errors are collected, nothing is printed */
    dcfg.colorize = false;
    dcfg.level = FYET_ERROR;
    y.diag = fy_diag_create(&dcfg);
    if (!y.diag)
        return pcilab_errf(err, PCILAB_ENOMEM, "cannot create the YAML diagnostics object");
    fy_diag_set_collect_errors(y.diag, true);

    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2, .diag = y.diag};
    struct fy_parser *p = fy_parser_create(&cfg);
    if (!p) {
        fy_diag_destroy(y.diag);
        return pcilab_errf(err, PCILAB_ENOMEM, "cannot create the YAML parser");
    }
    int rc = 0;
    if (fy_parser_set_string(p, text, len) != 0) {
        rc = pcilab_errf(err, PCILAB_ENOMEM, "cannot hand the text to the YAML parser");
        goto out;
    }

    struct scn_ynode *stack[SCN_YAML_MAX_DEPTH];
    int depth = 0, docs = 0;
    bool ended = false;
    unsigned last_line = 1, last_col = 1;
    struct fy_event *e;
    while (!rc && (e = fy_parser_parse(p)) != NULL) {
        const struct fy_mark *m = fy_event_start_mark(e);
        if (m) {
            last_line = (unsigned)m->line + 1;
            last_col = (unsigned)m->column + 1;
        }
        struct scn_ynode *n = NULL;
        switch (e->type) {
        case FYET_STREAM_END:
            ended = true;
            break;
        case FYET_DOCUMENT_START:
            if (++docs > 1)
                rc = at_event(&y, e, PCILAB_EINVAL,
                              "a scenario file holds one YAML document (found a second '---')");
            break;
        case FYET_ALIAS:
            rc = at_event(&y, e, PCILAB_EINVAL, "YAML aliases (*name) are not supported in scenarios");
            break;
        case FYET_SCALAR:
        case FYET_MAPPING_START:
        case FYET_SEQUENCE_START: {
            struct fy_token *anchor = e->type == FYET_SCALAR ? e->scalar.anchor
                                      : e->type == FYET_MAPPING_START ? e->mapping_start.anchor
                                                                      : e->sequence_start.anchor;
            struct fy_token *tag = e->type == FYET_SCALAR ? e->scalar.tag
                                   : e->type == FYET_MAPPING_START ? e->mapping_start.tag
                                                                   : e->sequence_start.tag;
            if (anchor) {
                rc = at_mark(&y, fy_token_start_mark(anchor), PCILAB_EINVAL, "YAML anchors (&name) are not supported in scenarios");
                break;
            }
            if (tag) {
                rc = at_mark(&y, fy_token_start_mark(tag), PCILAB_EINVAL, "YAML tags (!tag) are not supported in scenarios");
                break;
            }
            n = calloc(1, sizeof *n);
            if (!n) {
                rc = pcilab_errf(err, PCILAB_ENOMEM, "out of memory reading %s", file);
                break;
            }
            n->line = last_line;
            n->col = last_col;
            if (e->type == FYET_SCALAR) {
                size_t l = 0;
                const char *t = fy_token_get_text(e->scalar.value, &l);
                n->type = SCN_Y_SCALAR;
                n->text = malloc(l + 1);
                if (!n->text) {
                    free(n);
                    rc = pcilab_errf(err, PCILAB_ENOMEM, "out of memory reading %s", file);
                    break;
                }
                if (l)
                    memcpy(n->text, t, l);
                n->text[l] = '\0';
                n->len = l;
                n->plain = fy_event_get_node_style(e) == FYNS_PLAIN;
            } else {
                n->type = e->type == FYET_MAPPING_START ? SCN_Y_MAP : SCN_Y_SEQ;
            }
            if (depth == 0) {
                if (*root) { /* cannot happen with one document, kept as a guard */
                    scn_yaml_free(n);
                    rc = at_event(&y, e, PCILAB_EINVAL, "more than one top-level node");
                    break;
                }
                *root = n;
            } else {
                struct scn_ynode *top = stack[depth - 1];
                if (top->type == SCN_Y_MAP && top->nkids % 2 == 0 && n->type != SCN_Y_SCALAR) {
                    scn_yaml_free(n);
                    rc = at_event(&y, e, PCILAB_EINVAL, "a mapping key must be a scalar, not a mapping or sequence");
                    break;
                }
                if (append(top, n)) {
                    scn_yaml_free(n);
                    rc = pcilab_errf(err, PCILAB_ENOMEM, "out of memory reading %s", file);
                    break;
                }
            }
            if (n->type != SCN_Y_SCALAR) {
                if (depth == SCN_YAML_MAX_DEPTH) {
                    rc = at_event(&y, e, PCILAB_EINVAL, "nesting deeper than 64 levels");
                    break;
                }
                stack[depth++] = n;
            }
            break;
        }
        case FYET_MAPPING_END:
        case FYET_SEQUENCE_END:
            if (depth > 0)
                depth--;
            break;
        default:
            break;
        }
        fy_parser_event_free(p, e);
    }
    if (!rc && (!ended || fy_parser_get_stream_error(p)))
        rc = diag_error(&y, last_line, last_col);
    if (!rc && !*root)
        rc = pcilab_err_at(err, PCILAB_EINVAL, file, 1, 1, "empty scenario: expected a mapping");
out:
    if (rc) {
        scn_yaml_free(*root);
        *root = NULL;
    }
    fy_parser_destroy(p);
    fy_diag_destroy(y.diag);
    return rc;
}
