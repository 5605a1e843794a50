/* diag/lspci: lspci output of every form, mixed and damaged, read into
 * functions with roles and topology. The seed-* files are what the real
 * pciutils 3.9.0 printed from pcilab's dump of the seed machine
 * (`./build/pcilab lspci --dump > d; lspci -F d -tv / -nn / -vvv`, and
 * `pcilab lspci --dump -xxx`); switch-* and multidomain-tv from
 * tests/pcie/data/pex8747-switch.lspci (the latter with the seed as domain
 * 0000 and the switch as domain 0001); hp-nc6310-v-mail is a real `lspci -v`
 * quoted in a public mail (linux-mm, 13 Dec 2010, "Re: 2.6.36.2 reliably
 * panics in VFS"), wrapped at 72 columns by the mailer; superuser-renoir-t
 * a real `lspci -t` with the poster's comments (superuser.com question
 * 1768544); seed-mail the seed's outputs mailed (CRLF, quoted, wrapped). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/lspci.h"

#define BDF(b, d, f) ((uint16_t)((b) << 8 | (d) << 3 | (f)))

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/diag/data/lspci/%s", PCILAB_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static size_t parse_file(struct lspci_db *db, const char *name)
{
    size_t len, skipped = 99;
    char *t = slurp(name, &len);
    struct pcilab_err err;
    pcilab_err_clear(&err);
    int r = lspci_parse(db, t, len, name, &skipped, &err);
    if (r != 0)
        fail_msg("%s: %s (line %u)", name, err.msg, err.line);
    free(t);
    return skipped;
}

static int parse_str(struct lspci_db *db, const char *text, size_t *skipped,
                     struct pcilab_err *err)
{
    pcilab_err_clear(err);
    return lspci_parse(db, text, strlen(text), "t.lspci", skipped, err);
}

static const struct lspci_fn *get(const struct lspci_db *db, uint16_t seg, uint16_t bdf)
{
    const struct lspci_fn *f = lspci_find(db, seg, bdf);
    if (!f)
        fail_msg("%04x:%02x:%02x.%u missing", seg, bdf >> 8, (bdf >> 3) & 31, bdf & 7);
    return f;
}

static void test_tree_seed(void **state)
{
    (void)state;
    struct lspci_db db;
    assert_int_equal(parse_file(&db, "seed-tv.txt"), 0);
    assert_int_equal(db.n, 17);
    const struct lspci_fn *ecp5 = get(&db, 0, BDF(1, 0, 0));
    assert_true(ecp5->has_parent);
    assert_int_equal(ecp5->parent_bdf, BDF(0, 2, 2));
    assert_string_equal(ecp5->name, "Lattice Semiconductor Corporation Device 5045");
    const struct lspci_fn *rp = get(&db, 0, BDF(0, 2, 2));
    assert_int_equal(rp->role, LSPCI_ROLE_ROOT_PORT); /* tree position */
    assert_int_equal(rp->secondary, 1);
    assert_int_equal(rp->subordinate, 1);
    assert_false(rp->has_parent);
    const struct lspci_fn *can = get(&db, 0, BDF(2, 0, 0));
    assert_int_equal(can->parent_bdf, BDF(0, 2, 3));
    /* a bridge with an empty bus */
    assert_int_equal(get(&db, 0, BDF(0, 3, 1))->secondary, 3);
    /* the tree alone does not tell a host bridge from an endpoint */
    const struct lspci_fn *hb = get(&db, 0, BDF(0, 0, 0));
    assert_int_equal(hb->role, LSPCI_ROLE_UNKNOWN);
    assert_false(hb->has_ids);
    uint16_t path[8];
    assert_int_equal(lspci_path(&db, ecp5, path, 8), 2);
    assert_int_equal(path[0], BDF(1, 0, 0));
    assert_int_equal(path[1], BDF(0, 2, 2));
    assert_int_equal(lspci_path(&db, hb, path, 8), 1);
    assert_int_equal(lspci_path(&db, ecp5, path, 1), 1);
    assert_null(lspci_find(&db, 0, BDF(1, 0, 1)));
    assert_null(lspci_find(&db, 1, BDF(1, 0, 0)));
    lspci_free(&db);
}

static void test_nn_seed(void **state)
{
    (void)state;
    struct lspci_db db;
    assert_int_equal(parse_file(&db, "seed-nn.txt"), 0);
    assert_int_equal(db.n, 17);
    const struct lspci_fn *hb = get(&db, 0, BDF(0, 0, 0));
    assert_true(hb->has_ids);
    assert_int_equal(hb->vendor, 0x1022);
    assert_int_equal(hb->device, 0x1576);
    assert_int_equal(hb->class_code, 0x060000);
    assert_int_equal(hb->role, LSPCI_ROLE_HOST_BRIDGE);
    assert_string_equal(hb->name, "Host bridge: Advanced Micro Devices, Inc. [AMD] Family 15h "
                                  "(Models 60h-6fh) Processor Root Complex");
    assert_int_equal(get(&db, 0, BDF(0, 0, 2))->role, LSPCI_ROLE_IOMMU);
    assert_int_equal(get(&db, 0, BDF(0, 0x18, 5))->role, LSPCI_ROLE_HOST_BRIDGE);
    assert_int_equal(get(&db, 0, BDF(0, 2, 2))->role, LSPCI_ROLE_ROOT_PORT);
    const struct lspci_fn *ecp5 = get(&db, 0, BDF(1, 0, 0));
    assert_int_equal(ecp5->vendor, 0x1204);
    assert_int_equal(ecp5->device, 0x5045);
    assert_int_equal(ecp5->class_code, 0x118000);
    assert_int_equal(ecp5->role, LSPCI_ROLE_ENDPOINT);
    /* "(rev 01)" and "[1204:5045]" are not part of the name */
    assert_string_equal(ecp5->name,
                        "Signal processing controller: Lattice Semiconductor Corporation Device");
    assert_false(ecp5->has_parent); /* -nn has no bus numbers */
    lspci_free(&db);
}

static void test_vvv_seed(void **state)
{
    (void)state;
    struct lspci_db db;
    assert_int_equal(parse_file(&db, "seed-vvv.txt"), 0);
    assert_int_equal(db.n, 17);
    /* "Express (v2) Root Complex Integrated Endpoint" */
    assert_int_equal(get(&db, 0, BDF(0, 1, 0))->role, LSPCI_ROLE_RCIEP);
    assert_int_equal(get(&db, 0, BDF(0, 1, 1))->role, LSPCI_ROLE_RCIEP);
    const struct lspci_fn *rp = get(&db, 0, BDF(0, 2, 3));
    assert_int_equal(rp->role, LSPCI_ROLE_ROOT_PORT);
    assert_int_equal(rp->secondary, 2);
    assert_int_equal(rp->class_code, 0x060400); /* "PCI bridge" + (prog-if 00) */
    const struct lspci_fn *ecp5 = get(&db, 0, BDF(1, 0, 0));
    assert_int_equal(ecp5->role, LSPCI_ROLE_ENDPOINT);
    assert_true(ecp5->has_parent); /* from "Bus: ... secondary=01" */
    assert_int_equal(ecp5->parent_bdf, BDF(0, 2, 2));
    assert_int_equal(get(&db, 0, BDF(2, 0, 0))->parent_bdf, BDF(0, 2, 3));
    assert_int_equal(get(&db, 0, BDF(0, 0, 2))->role, LSPCI_ROLE_IOMMU);
    lspci_free(&db);
}

static void test_dump_seed(void **state)
{
    (void)state;
    struct lspci_db db;
    assert_int_equal(parse_file(&db, "seed-xxx.txt"), 0);
    assert_int_equal(db.n, 17);
    const struct lspci_fn *hb = get(&db, 0, BDF(0, 0, 0));
    assert_true(hb->has_config);
    assert_int_equal(hb->config_len, 256);
    assert_int_equal(hb->config[0], 0x22);
    assert_int_equal(hb->config[1], 0x10);
    assert_int_equal(hb->role, LSPCI_ROLE_HOST_BRIDGE);
    /* Express capability type from the capability list in the bytes */
    assert_int_equal(get(&db, 0, BDF(0, 1, 0))->role, LSPCI_ROLE_RCIEP);
    const struct lspci_fn *rp = get(&db, 0, BDF(0, 2, 2));
    assert_int_equal(rp->role, LSPCI_ROLE_ROOT_PORT);
    assert_int_equal(rp->secondary, 1);
    const struct lspci_fn *ecp5 = get(&db, 0, BDF(1, 0, 0));
    assert_int_equal(ecp5->role, LSPCI_ROLE_ENDPOINT);
    assert_int_equal(ecp5->parent_bdf, BDF(0, 2, 2));
    assert_int_equal(ecp5->device, 0x5045);
    assert_int_equal(ecp5->class_code, 0x118000);
    lspci_free(&db);
}

static void test_domains_and_n(void **state)
{
    (void)state;
    struct lspci_db db;
    struct pcilab_err err;
    size_t sk;
    /* lspci -D and lspci -n, and a tree as lspci -t -s prints it */
    const char *t = "0000:00:00.0 Host bridge: Advanced Micro Devices, Inc. [AMD] Family 15h "
                    "(Models 60h-6fh) Processor Root Complex\n"
                    "0002:00:00.2 IOMMU: Advanced Micro Devices, Inc. [AMD] Family 15h\n"
                    "00:02.2 0604: 1022:157c\n"
                    "01:00.0 1180: 1204:5045 (rev 01)\n"
                    "0000:00:02.3-[02]----00.0  Lattice Semiconductor Corporation Device e3ca\n";
    assert_int_equal(parse_str(&db, t, &sk, &err), 0);
    assert_int_equal(sk, 0);
    assert_int_equal(db.n, 6);
    assert_int_equal(get(&db, 0, BDF(0, 0, 0))->role, LSPCI_ROLE_HOST_BRIDGE);
    assert_int_equal(get(&db, 2, BDF(0, 0, 2))->role, LSPCI_ROLE_IOMMU);
    const struct lspci_fn *rp = get(&db, 0, BDF(0, 2, 2));
    assert_int_equal(rp->vendor, 0x1022);
    assert_int_equal(rp->class_code, 0x060400);
    assert_int_equal(rp->role, LSPCI_ROLE_ROOT_PORT);
    assert_int_equal(get(&db, 0, BDF(1, 0, 0))->role, LSPCI_ROLE_ENDPOINT);
    assert_int_equal(get(&db, 0, BDF(2, 0, 0))->parent_bdf, BDF(0, 2, 3));
    /* sorted by segment, then BDF */
    assert_int_equal(db.fn[db.n - 1].segment, 2);
    lspci_free(&db);
}

static void test_switch_and_domains(void **state)
{
    (void)state;
    struct lspci_db db;
    assert_int_equal(parse_file(&db, "multidomain-tv.txt"), 0);
    assert_int_equal(db.n, 24);
    const struct lspci_fn *fpga = get(&db, 1, BDF(3, 0, 0));
    uint16_t path[8];
    assert_int_equal(lspci_path(&db, fpga, path, 8), 4);
    assert_int_equal(path[1], BDF(2, 8, 0));
    assert_int_equal(path[2], BDF(1, 0, 0));
    assert_int_equal(path[3], BDF(0, 2, 1));
    assert_int_equal(get(&db, 1, BDF(0, 2, 1))->subordinate, 5);
    assert_int_equal(get(&db, 1, BDF(1, 0, 0))->role, LSPCI_ROLE_BRIDGE);
    assert_int_equal(get(&db, 1, BDF(0, 2, 1))->role, LSPCI_ROLE_ROOT_PORT);
    assert_int_equal(get(&db, 0, BDF(1, 0, 0))->parent_bdf, BDF(0, 2, 2));
    assert_null(lspci_find(&db, 0, BDF(2, 8, 0)));
    lspci_free(&db);

    assert_int_equal(parse_file(&db, "switch-tvnn.txt"), 0);
    const struct lspci_fn *nic = get(&db, 0, BDF(4, 0, 0));
    assert_int_equal(nic->vendor, 0x8086);
    assert_int_equal(nic->device, 0x1533);
    assert_string_equal(nic->name, "Intel Corporation I210 Gigabit Network Connection");
    lspci_free(&db);

    /* -vvv: switch ports by their Express type, parents by bus numbers */
    assert_int_equal(parse_file(&db, "switch-vvv.txt"), 0);
    assert_int_equal(db.n, 7);
    assert_int_equal(get(&db, 0, BDF(0, 2, 1))->role, LSPCI_ROLE_ROOT_PORT);
    assert_int_equal(get(&db, 0, BDF(1, 0, 0))->role, LSPCI_ROLE_BRIDGE);
    assert_int_equal(get(&db, 0, BDF(2, 9, 0))->role, LSPCI_ROLE_BRIDGE);
    assert_int_equal(get(&db, 0, BDF(2, 9, 0))->parent_bdf, BDF(1, 0, 0));
    assert_int_equal(lspci_path(&db, get(&db, 0, BDF(4, 0, 0)), path, 8), 4);
    lspci_free(&db);
}

static void test_mixed_and_damaged(void **state)
{
    (void)state;
    /* all four forms in one file, clean */
    const char *parts[] = {"seed-tv.txt", "seed-nn.txt", "seed-vvv.txt", "seed-xxx.txt"};
    char *all = NULL;
    size_t len = 0;
    for (size_t i = 0; i < 4; i++) {
        size_t l;
        char *t = slurp(parts[i], &l);
        all = realloc(all, len + l + 2);
        assert_non_null(all);
        memcpy(all + len, t, l);
        len += l;
        all[len++] = '\n';
        free(t);
    }
    struct lspci_db mixed, mail;
    struct pcilab_err err;
    size_t sk = 99;
    pcilab_err_clear(&err);
    assert_int_equal(lspci_parse(&mixed, all, len, "mixed", &sk, &err), 0);
    assert_int_equal(sk, 0);
    free(all);
    assert_int_equal(mixed.n, 17);
    const struct lspci_fn *ecp5 = get(&mixed, 0, BDF(1, 0, 0));
    assert_true(ecp5->has_ids && ecp5->has_class && ecp5->has_config && ecp5->has_parent);
    assert_int_equal(ecp5->config_len, 256);
    assert_int_equal(ecp5->role, LSPCI_ROLE_ENDPOINT);
    /* the name from the device line wins over the tree's */
    assert_string_equal(ecp5->name,
                        "Signal processing controller: Lattice Semiconductor Corporation Device");
    assert_int_equal(get(&mixed, 0, BDF(0, 1, 0))->role, LSPCI_ROLE_RCIEP);

    /* the same outputs mailed: CRLF, the tree quoted, lines wrapped at 72
     * columns, prompts and prose around them (8 lines) */
    assert_int_equal(parse_file(&mail, "seed-mail.txt"), 8);
    assert_int_equal(mail.n, 17);
    for (size_t i = 0; i < mail.n; i++) {
        const struct lspci_fn *x = &mail.fn[i], *y = get(&mixed, 0, x->bdf);
        assert_int_equal(x->vendor, y->vendor);
        assert_int_equal(x->device, y->device);
        assert_int_equal(x->class_code >> 8, y->class_code >> 8);
        assert_int_equal(x->has_parent, y->has_parent);
        assert_int_equal(x->parent_bdf, y->parent_bdf);
        assert_string_equal(x->name, y->name);
    }
    /* only 00:02.2 and 01:00.0 had -vvv and dumps in the mail */
    assert_true(get(&mail, 0, BDF(0, 2, 2))->has_config);
    assert_false(get(&mail, 0, BDF(0, 2, 3))->has_config);
    assert_int_equal(get(&mail, 0, BDF(0, 2, 2))->role, LSPCI_ROLE_ROOT_PORT);
    assert_int_equal(get(&mail, 0, BDF(0, 0x18, 5))->role, LSPCI_ROLE_HOST_BRIDGE);
    lspci_free(&mail);

    lspci_free(&mixed);
}

static void test_real_hp_mail(void **state)
{
    (void)state;
    struct lspci_db db;
    /* 8 lines of mail around it, 4 of lsusb after it */
    assert_int_equal(parse_file(&db, "hp-nc6310-v-mail.txt"), 12);
    assert_int_equal(db.n, 11);
    const struct lspci_fn *hb = get(&db, 0, BDF(0, 0, 0));
    assert_int_equal(hb->role, LSPCI_ROLE_HOST_BRIDGE);
    assert_string_equal(hb->driver, "agpgart-intel");
    assert_string_equal(hb->name, "Host bridge: Intel Corporation Mobile 945GM/PM/GMS, "
                                  "943/940GML and 945GT Express Memory Controller Hub");
    /* "Express Root Complex Integrated Endpoint, MSI" wrapped before "00" */
    const struct lspci_fn *hda = get(&db, 0, BDF(0, 0x1b, 0));
    assert_int_equal(hda->role, LSPCI_ROLE_RCIEP);
    assert_string_equal(hda->driver, "HDA Intel");
    assert_int_equal(get(&db, 0, BDF(0, 0x1c, 0))->role, LSPCI_ROLE_ROOT_PORT);
    /* subtractive-decode PCI bridge (prog-if 01): a bridge, not a root port */
    const struct lspci_fn *pcib = get(&db, 0, BDF(0, 0x1e, 0));
    assert_int_equal(pcib->class_code, 0x060401);
    assert_int_equal(pcib->role, LSPCI_ROLE_BRIDGE);
    /* "USB Controller" (old pci.ids spelling) is 0c03, prog-if 20 */
    assert_int_equal(get(&db, 0, BDF(0, 0x1d, 7))->class_code, 0x0c0320);
    assert_int_equal(get(&db, 0, BDF(0, 0x1f, 0))->role, LSPCI_ROLE_ENDPOINT);
    const struct lspci_fn *cb = get(&db, 0, BDF(2, 6, 0));
    assert_int_equal(cb->role, LSPCI_ROLE_BRIDGE);
    assert_int_equal(cb->parent_bdf, BDF(0, 0x1e, 0));
    const struct lspci_fn *wifi = get(&db, 0, BDF(8, 0, 0));
    assert_int_equal(wifi->role, LSPCI_ROLE_ENDPOINT); /* Legacy Endpoint */
    assert_int_equal(wifi->parent_bdf, BDF(0, 0x1c, 0));
    assert_string_equal(wifi->name, "Network controller: Intel Corporation PRO/Wireless "
                                    "3945ABG [Golan] Network Connection");
    lspci_free(&db);
}

static void test_real_superuser_tree(void **state)
{
    (void)state;
    struct lspci_db db;
    /* two prompts and four "# ..." comment lines */
    assert_int_equal(parse_file(&db, "superuser-renoir-t.txt"), 6);
    assert_int_equal(db.n, 24);
    uint16_t path[8];
    const struct lspci_fn *f = get(&db, 0, BDF(9, 0, 3));
    assert_int_equal(lspci_path(&db, f, path, 8), 4);
    assert_int_equal(path[1], BDF(5, 8, 0));
    assert_int_equal(path[2], BDF(4, 0, 0));
    assert_int_equal(path[3], BDF(0, 1, 2));
    assert_int_equal(get(&db, 0, BDF(3, 0, 1))->parent_bdf, BDF(2, 0, 0));
    assert_int_equal(get(&db, 0, BDF(2, 0, 0))->role, LSPCI_ROLE_BRIDGE);
    assert_int_equal(get(&db, 0, BDF(0, 1, 1))->role, LSPCI_ROLE_ROOT_PORT);
    assert_int_equal(get(&db, 0, BDF(0, 1, 0))->role, LSPCI_ROLE_HOST_BRIDGE);
    assert_int_equal(get(&db, 0, BDF(3, 0, 0))->role, LSPCI_ROLE_ENDPOINT);
    assert_int_equal(get(&db, 0, BDF(0, 0, 2))->role, LSPCI_ROLE_UNKNOWN);
    lspci_free(&db);
}

static void test_nonsense_counted(void **state)
{
    (void)state;
    struct lspci_db db;
    struct pcilab_err err;
    size_t sk;
    const char *t = "random words\n"
                    "[   49.001605] AMD-Vi: Event logged [IO_PAGE_FAULT device=00:00.0\n"
                    "\x01\x02 binary\n"
                    "        Kernel driver in use: stray\n"
                    "           +-02.0  a tree continuation without a tree\n"
                    "00: 22 10 76 15\n"
                    "00:00.0 Host bridge [0600]: AMD Root Complex [1022:1576]\n"
                    "ab cd\n";
    assert_int_equal(parse_str(&db, t, &sk, &err), 0);
    assert_int_equal(sk, 7);
    assert_int_equal(db.n, 1);
    assert_string_equal(db.fn[0].driver, "");
    lspci_free(&db);

    /* empty input: nothing, no error */
    assert_int_equal(parse_str(&db, "", &sk, &err), 0);
    assert_int_equal(db.n, 0);
    assert_int_equal(sk, 0);
    lspci_free(&db);

    /* a dump block the dump reader rejects is skipped and noted */
    const char *bad = "00:00.0 Host bridge: AMD Root Complex\n"
                      "00: 22 10 76 15\n"
                      "00: 22 10\n";
    assert_int_equal(parse_str(&db, bad, &sk, &err), 0);
    assert_int_equal(db.n, 1);
    assert_false(db.fn[0].has_config);
    assert_int_equal(sk, 2);
    assert_int_not_equal(db.note.code, 0);
    assert_int_equal(db.note.line, 3); /* the byte given twice */
    lspci_free(&db);
}

static void expect_contra(const char *text, unsigned line, const char *phrase)
{
    struct lspci_db db;
    struct pcilab_err err;
    size_t sk;
    int r = parse_str(&db, text, &sk, &err);
    assert_true(r < 0);
    assert_string_equal(err.file, "t.lspci");
    assert_int_equal(err.line, line);
    if (!strstr(err.msg, phrase))
        fail_msg("'%s' not in '%s'", phrase, err.msg);
    assert_int_equal(db.n, 0);
    assert_null(db.fn);
}

static void test_contradictions(void **state)
{
    (void)state;
    expect_contra("00:00.0 Host bridge [0600]: AMD Root Complex [1022:1576]\n"
                  "\n"
                  "00:00.0 Host bridge [0600]: AMD Root Complex [1022:1577]\n",
                  3, "1022:1577 here but 1022:1576 on line 1");
    expect_contra("00:00.0 Host bridge [0600]: AMD Root Complex [1022:1576]\n"
                  "00:00.0 0806: 1022:1576\n",
                  2, "class is 0806 here but 0600 on line 1");
    expect_contra("-[0000:00]-+-02.2-[01]----00.0\n"
                  "           \\-02.3-[02]----00.0\n"
                  "00:02.2 PCI bridge: AMD Root Port\n"
                  "\tBus: primary=00, secondary=02, subordinate=02, sec-latency=0\n",
                  4, "[02-02] here but [01-01] on line 1");
    expect_contra("00:02.2 PCI bridge: AMD Root Port\n"
                  "\tBus: primary=00, secondary=01, subordinate=01, sec-latency=0\n"
                  "00:02.3 PCI bridge: AMD Root Port\n"
                  "\tBus: primary=00, secondary=01, subordinate=01, sec-latency=0\n",
                  4, "secondary bus 01 here, but bridge 0000:00:02.2");
    expect_contra("01:00.0 Signal processing controller: Lattice\n"
                  "\tKernel driver in use: ecp5\n"
                  "01:00.0 Signal processing controller: Lattice\n"
                  "\tKernel driver in use: vfio-pci\n",
                  4, "its driver is vfio-pci here but ecp5 on line 2");
    expect_contra("00:01.0 VGA compatible controller: AMD Wani\n"
                  "\tCapabilities: [48] Express (v2) Root Complex Integrated Endpoint, MSI 00\n"
                  "00:01.0 VGA compatible controller: AMD Wani\n"
                  "\tCapabilities: [48] Express (v2) Endpoint, MSI 00\n",
                  4, "its Express type is Endpoint here but Root Complex Integrated Endpoint on line 2");
    /* a dump that disagrees with the -nn line */
    expect_contra("00:00.0 Host bridge [0600]: AMD Root Complex [1022:1576]\n\n"
                  "00:00.0 Host bridge: AMD\n"
                  "00: 22 10 77 15 00 00 00 00 00 00 00 06 00 00 00 00\n",
                  3, "1022:1577 here");
}

static void test_quoting_and_crlf(void **state)
{
    (void)state;
    struct lspci_db db;
    struct pcilab_err err;
    size_t sk;
    const char *t = "> > 00:02.2 PCI bridge [0604]: AMD Root Port [1022:157c]\r\n"
                    "> > \tBus: primary=00, secondary=01, subordinate=01, sec-latency=0\r\n"
                    "> > \tCapabilities: [58] Express (v2) Root Port (Slot+), MSI 00\r\n"
                    "> > \tKernel driver in use: pcieport\r\n"
                    ">> \r\n"
                    ">> 01:00.0 Signal processing controller [1180]: Lattice Semiconductor\r\n"
                    ">> Corporation Device [1204:5045] (rev 01)\r\n"
                    ">> \tKernel driver in use: ecp5\r\n";
    assert_int_equal(parse_str(&db, t, &sk, &err), 0);
    assert_int_equal(sk, 0);
    assert_int_equal(db.n, 2);
    const struct lspci_fn *rp = get(&db, 0, BDF(0, 2, 2));
    assert_string_equal(rp->driver, "pcieport");
    assert_int_equal(rp->role, LSPCI_ROLE_ROOT_PORT);
    const struct lspci_fn *e = get(&db, 0, BDF(1, 0, 0));
    assert_int_equal(e->device, 0x5045);
    assert_string_equal(e->driver, "ecp5");
    assert_string_equal(e->name,
                        "Signal processing controller: Lattice Semiconductor Corporation Device");
    assert_int_equal(e->parent_bdf, BDF(0, 2, 2));
    assert_string_equal(lspci_role_name(e->role), "endpoint");
    lspci_free(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_seed),
        cmocka_unit_test(test_nn_seed),
        cmocka_unit_test(test_vvv_seed),
        cmocka_unit_test(test_dump_seed),
        cmocka_unit_test(test_domains_and_n),
        cmocka_unit_test(test_switch_and_domains),
        cmocka_unit_test(test_mixed_and_damaged),
        cmocka_unit_test(test_real_hp_mail),
        cmocka_unit_test(test_real_superuser_tree),
        cmocka_unit_test(test_nonsense_counted),
        cmocka_unit_test(test_contradictions),
        cmocka_unit_test(test_quoting_and_crlf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
