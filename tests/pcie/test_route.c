/* Routing through the fabric: Type 1 -> Type 0, address routing both ways,
 * peer-to-peer (with and without ACS redirect), UR, RCB splitting, tags,
 * timeouts and hop timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "fabric_fixture.h"
#include "pcie/link.h"

static void setup(struct tfab *t, bool acs)
{
    tfab_build(t, acs);
    assert_int_equal(pcie_enumerate(t->f, NULL, NULL, NULL), 0);
}

static void test_type1_converted(void **state)
{
    (void)state;
    struct tfab t;
    setup(&t, false);
    FILE *tf = tmpfile();
    assert_non_null(tf);
    assert_int_equal(sim_trace_open_stream(sim_trace(t.sim), tf, SIM_TRACE_TEXT, NULL), 0);
    uint32_t v;
    assert_int_equal(pcie_host_cfg_read(t.f, pcie_bdf(6, 0, 0), 0, 4, &v), PCIE_REQ_SC);
    assert_int_equal(v, 0x10d38086u);
    sim_trace_close(sim_trace(t.sim), NULL);
    rewind(tf);
    char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, tf);
    text[n] = 0;
    fclose(tf);
    /* Type 1 on the root port's link, Type 0 on the last link */
    const char *a = strstr(text, "00:02.1<->01:00.0");
    assert_non_null(a);
    const char *line_end = strchr(a, '\n');
    assert_non_null(strstr(a, "CfgRd1"));
    assert_true(strstr(a, "CfgRd1") < line_end);
    const char *b = strstr(text, "05:00.0<->06:00.0");
    assert_non_null(b);
    assert_true(strstr(b, "CfgRd0") < strchr(b, '\n'));
    tfab_free(&t);
}

static void test_address_routing(void **state)
{
    (void)state;
    struct tfab t;
    setup(&t, false);
    uint32_t v = 0x11223344;
    memcpy(t.d2->bar[0] + 0x10, &v, 4);
    uint8_t buf[4];
    /* bridges and device not enabled yet: the root complex claims nothing */
    assert_int_equal(pcie_host_mem_read(t.f, 0xe0000010, buf, 4), PCIE_REQ_UR);
    assert_int_equal(pcie_enum_enable(t.f, t.e2, true, NULL), 0);
    assert_int_equal(pcie_host_mem_read(t.f, 0xe0000010, buf, 4), PCIE_REQ_SC);
    assert_memory_equal(buf, &v, 4);
    uint32_t w = 0xcafef00d;
    assert_int_equal(pcie_host_mem_write(t.f, 0xe0000020, &w, 4), PCIE_REQ_SC);
    assert_memory_equal(t.d2->bar[0] + 0x20, &w, 4);

    /* upstream: DMA write into system RAM, then an MSI */
    assert_int_equal(pcie_enum_enable(t.f, t.e1, true, NULL), 0);
    uint8_t data[300];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    assert_int_equal(pcie_fn_mem_write(t.e1, 0x100f80, data, sizeof data, NULL), 0);
    sim_run(t.sim, 0);
    uint8_t back[300];
    assert_int_equal(mem_phys_read(t.ram, 0x100f80, back, sizeof back, NULL), 0);
    assert_memory_equal(back, data, sizeof data);

    unsigned msi = pcie_cap_find(&t.d1->cfg, PCIE_CAP_ID_MSI);
    assert_true(msi != 0);
    uint16_t bdf = pcie_fn_bdf(t.e1);
    assert_int_equal(pcie_host_cfg_write(t.f, bdf, msi + 4, 4, 0xfee00000u), PCIE_REQ_SC);
    assert_int_equal(pcie_host_cfg_write(t.f, bdf, msi + 8, 4, 0), PCIE_REQ_SC);
    assert_int_equal(pcie_host_cfg_write(t.f, bdf, pcie_msi_data_off(&t.d1->cfg, msi), 2, 0x4021),
                     PCIE_REQ_SC);
    assert_int_equal(pcie_host_cfg_write(t.f, bdf, msi + 2, 2, PCIE_MSI_CTRL_ENABLE), PCIE_REQ_SC);
    assert_int_equal(pcie_fn_msi_send(t.e1, 0, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(t.irqs, 1);
    assert_int_equal(t.irq_rid, pcie_bdf(3, 0, 0));
    assert_int_equal(t.irq_data, 0x4021);
    /* vector 1 is beyond Multiple Message Enable (1 vector) */
    assert_true(pcie_fn_msi_send(t.e1, 1, NULL) < 0);
    tfab_free(&t);
}

/* A device that ignores the Max_Payload_Size software programmed (Device
 * Control, reset value 128 bytes) sends a 256-byte MWr: the switch port at the
 * other end of its link drops it as a Malformed TLP (2.2.2) and logs it in
 * AER; a 128-byte write goes through. */
static void test_mps_violation(void **state)
{
    (void)state;
    struct tfab t;
    setup(&t, false);
    assert_int_equal(pcie_enum_enable(t.f, t.e1, true, NULL), 0);
    uint8_t data[256];
    memset(data, 0xa5, sizeof data);
    struct pcie_tlp w;
    assert_int_equal(pcie_tlp_mem_write(&w, pcie_fn_bdf(t.e1), 0x200000, data, 256, NULL), 0);
    assert_int_equal(pcie_fn_send_tlp(t.e1, &w, NULL), 0);
    sim_run(t.sim, 0);
    struct pcie_fabric_stats st;
    pcie_fabric_get_stats(t.f, &st);
    assert_int_equal(st.mps_violations, 1);
    assert_int_equal(st.malformed, 1);
    uint8_t back[256];
    assert_int_equal(mem_phys_read(t.ram, 0x200000, back, sizeof back, NULL), 0);
    assert_int_equal(back[0], 0);
    struct pcie_cfg *dp = pcie_fn_cfg(pcie_switch_downstream(t.s1, 0));
    unsigned aer = pcie_ecap_find(dp, PCIE_ECAP_ID_AER);
    assert_true(aer != 0);
    assert_true(pcie_cfg_raw_read32(dp, aer + PCIE_AER_UNCOR_STATUS) & PCIE_AER_UNC_MALFORMED);

    assert_int_equal(pcie_tlp_mem_write(&w, pcie_fn_bdf(t.e1), 0x200000, data, 128, NULL), 0);
    assert_int_equal(pcie_fn_send_tlp(t.e1, &w, NULL), 0);
    sim_run(t.sim, 0);
    pcie_fabric_get_stats(t.f, &st);
    assert_int_equal(st.mps_violations, 1);
    assert_int_equal(mem_phys_read(t.ram, 0x200000, back, sizeof back, NULL), 0);
    assert_memory_equal(back, data, 128);
    tfab_free(&t);
}

static void p2p(bool acs, uint64_t *hops)
{
    struct tfab t;
    setup(&t, acs);
    assert_int_equal(pcie_enum_enable(t.f, t.e1, true, NULL), 0);
    assert_int_equal(pcie_enum_enable(t.f, t.e2, true, NULL), 0);
    if (acs) {
        /* Linux pci_std_enable_acs: SV, RR, CR, UF on every downstream port
         * (here the switch's, and Upstream Forwarding on the root port). */
        struct pcie_fn *ports[] = {pcie_switch_downstream(t.s1, 0), t.rpa};
        for (unsigned i = 0; i < 2; i++) {
            unsigned c = pcie_ecap_find(pcie_fn_cfg(ports[i]), PCIE_ECAP_ID_ACS);
            assert_true(c != 0);
            assert_int_equal(pcie_host_cfg_write(t.f, pcie_fn_bdf(ports[i]), c + PCIE_ACS_CTRL, 2,
                                                 PCIE_ACS_SV | PCIE_ACS_RR | PCIE_ACS_CR |
                                                     PCIE_ACS_UF),
                             PCIE_REQ_SC);
        }
    }
    struct pcie_fabric_stats s0, s1;
    pcie_fabric_get_stats(t.f, &s0);
    uint32_t v = 0x5a5a1234;
    assert_int_equal(pcie_fn_mem_write(t.e1, 0xe0000040, &v, 4, NULL), 0);
    sim_run(t.sim, 0);
    pcie_fabric_get_stats(t.f, &s1);
    assert_memory_equal(t.d2->bar[0] + 0x40, &v, 4);
    assert_int_equal(s1.upstream_requests, s0.upstream_requests);
    *hops = s1.hops - s0.hops;
    tfab_free(&t);
}

static void test_peer_to_peer(void **state)
{
    (void)state;
    uint64_t direct, redirected;
    p2p(false, &direct);
    p2p(true, &redirected);
    /* E1 link, S1, S1.dsp1 link, S2, E2 link */
    assert_int_equal(direct, 5);
    /* ... plus up to S1's link and the root complex and back down */
    assert_int_equal(redirected, 9);
}

static void test_unsupported_request(void **state)
{
    (void)state;
    struct tfab t;
    setup(&t, false);
    assert_int_equal(pcie_enum_enable(t.f, t.e1, true, NULL), 0);
    struct pcie_fabric_stats s0, s1;
    pcie_fabric_get_stats(t.f, &s0);
    /* posted: inside S1.dsp0's window but no BAR of E1 claims it */
    uint32_t w = 1;
    assert_int_equal(pcie_host_mem_write(t.f, 0xe0280000, &w, 4), PCIE_REQ_DROPPED);
    pcie_fabric_get_stats(t.f, &s1);
    assert_int_equal(s1.ur_posted_dropped, s0.ur_posted_dropped + 1);
    unsigned exp = pcie_cap_find(&t.d1->cfg, PCIE_CAP_ID_EXP);
    assert_true(pcie_cfg_raw_read16(&t.d1->cfg, exp + PCIE_EXP_DEVSTA) & PCIE_DEVSTA_URD);
    unsigned aer = pcie_ecap_find(&t.d1->cfg, PCIE_ECAP_ID_AER);
    assert_true(pcie_cfg_raw_read32(&t.d1->cfg, aer + PCIE_AER_UNCOR_STATUS) &
                PCIE_AER_UNC_UNSUP_REQ);

    /* non-posted from the device to an address no one claims: UR completion
     * from the root port with Byte Count and Lower Address of the request */
    struct pcie_tlp rq;
    assert_int_equal(pcie_tlp_mem_read(&rq, pcie_fn_bdf(t.e1), 7, 0x90000044, 64, NULL), 0);
    assert_int_equal(pcie_fn_send_tlp(t.e1, &rq, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(t.d1->nrx, 1);
    assert_int_equal(t.d1->rx[0].kind, PCIE_TLP_CPL);
    assert_int_equal(t.d1->rx[0].cpl_status, PCIE_CPL_UR);
    assert_int_equal(t.d1->rx[0].completer_id, pcie_bdf(0, 2, 1));
    assert_int_equal(t.d1->rx[0].requester_id, pcie_bdf(3, 0, 0));
    assert_int_equal(t.d1->rx[0].tag, 7);
    assert_int_equal(t.d1->rx[0].byte_count, 64);
    assert_int_equal(t.d1->rx[0].lower_addr, 0x44);
    assert_true(pcie_cfg_status(&t.d1->cfg) & PCIE_STS_REC_MASTER_ABORT);
    unsigned rexp = pcie_cap_find(pcie_fn_cfg(t.rpa), PCIE_CAP_ID_EXP);
    assert_true(pcie_cfg_raw_read16(pcie_fn_cfg(t.rpa), rexp + PCIE_EXP_DEVSTA) & PCIE_DEVSTA_URD);
    tfab_free(&t);
}

static void test_rcb_split(void **state)
{
    (void)state;
    struct tfab t;
    setup(&t, false);
    assert_int_equal(pcie_enum_enable(t.f, t.e1, true, NULL), 0);
    uint8_t pat[1024];
    for (unsigned i = 0; i < sizeof pat; i++)
        pat[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(mem_phys_write(t.ram, 0x10000000, pat, sizeof pat, NULL), 0);
    /* root port MPS 128 (reset value), RCB 64: 256 bytes at 0x...20 come back
     * as 96 (to the RCB), 128, 32 bytes */
    struct pcie_tlp rq;
    assert_int_equal(pcie_tlp_mem_read(&rq, pcie_fn_bdf(t.e1), 3, 0x10000020, 256, NULL), 0);
    assert_int_equal(pcie_fn_send_tlp(t.e1, &rq, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(t.d1->nrx, 3);
    const uint16_t bc[3] = {256, 160, 32}, len[3] = {24, 32, 8};
    const uint8_t la[3] = {0x20, 0x00, 0x00};
    unsigned off = 0x20;
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(t.d1->rx[i].kind, PCIE_TLP_CPLD);
        assert_int_equal(t.d1->rx[i].byte_count, bc[i]);
        assert_int_equal(t.d1->rx[i].length, len[i]);
        assert_int_equal(t.d1->rx[i].lower_addr, la[i]);
        assert_memory_equal(t.d1->rx_payload[i], pat + off, len[i] * 4u);
        off += len[i] * 4u;
    }
    tfab_free(&t);
}

struct rd {
    int calls;
    enum pcie_req_status st;
    sim_time_t when;
    struct pcilab_sim *sim;
};

static void rd_done(void *ctx, enum pcie_req_status st, void *buf, uint32_t len)
{
    (void)buf;
    (void)len;
    struct rd *r = ctx;
    r->calls++;
    r->st = st;
    r->when = sim_now(r->sim);
}

static void test_tags_and_timeout(void **state)
{
    (void)state;
    struct tfab t;
    setup(&t, false);
    assert_int_equal(pcie_enum_enable(t.f, t.e1, true, NULL), 0);
    uint8_t pat[16384];
    for (unsigned i = 0; i < sizeof pat; i++)
        pat[i] = (uint8_t)(i ^ (i >> 8));
    assert_int_equal(mem_phys_write(t.ram, 0x2000000, pat, sizeof pat, NULL), 0);
    /* no Extended Tag Field Enable: 32 tags; MRRS 512: 32 requests */
    assert_int_equal(pcie_fn_tags_max(t.e1), 32);
    static uint8_t buf[16384];
    struct rd r1 = {.sim = t.sim}, r2 = {.sim = t.sim};
    assert_int_equal(pcie_fn_mem_read(t.e1, 0x2000000, buf, sizeof buf, rd_done, &r1, NULL), 0);
    assert_int_equal(pcie_fn_tags_in_use(t.e1), 32);
    struct pcilab_err err;
    assert_int_equal(pcie_fn_mem_read(t.e1, 0x2000000, buf, 64, rd_done, &r2, &err),
                     -PCILAB_ERANGE);
    sim_run(t.sim, 0);
    assert_int_equal(r1.calls, 1);
    assert_int_equal(r1.st, PCIE_REQ_SC);
    assert_memory_equal(buf, pat, sizeof pat);
    assert_int_equal(pcie_fn_tags_in_use(t.e1), 0);

    /* The seed's soft IP: requester ID 0000. The completion goes to the
     * host bridge 00:00.0, which expected none; the device times out. */
    pcie_fn_set_requester_id(t.e1, true, 0x0000);
    sim_time_t start = sim_now(t.sim);
    assert_int_equal(pcie_fn_mem_read(t.e1, 0x2000000, buf, 64, rd_done, &r2, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(r2.calls, 1);
    assert_int_equal(r2.st, PCIE_REQ_TIMEOUT);
    assert_int_equal(r2.when - start, 50 * SIM_MS);
    struct pcie_fabric_stats st;
    pcie_fabric_get_stats(t.f, &st);
    assert_int_equal(st.unexpected_completions, 1);
    assert_int_equal(st.timeouts, 1);
    unsigned aer = pcie_ecap_find(&t.d1->cfg, PCIE_ECAP_ID_AER);
    assert_true(pcie_cfg_raw_read32(&t.d1->cfg, aer + PCIE_AER_UNCOR_STATUS) &
                PCIE_AER_UNC_COMP_TIMEOUT);
    assert_int_equal(pcie_fn_tags_in_use(t.e1), 0);
    tfab_free(&t);
}

struct sinkrec {
    sim_time_t when;
    int n;
    struct pcilab_sim *sim;
};

static enum pcie_cpl_status sink(void *ctx, const struct pcie_upstream_req *req, uint8_t *buf,
                                 sim_time_t *delay)
{
    struct sinkrec *s = ctx;
    s->when = sim_now(s->sim);
    s->n++;
    return pcie_fabric_system_access(req->fabric, req, buf, delay);
}

static void link_arrived(void *ctx, const struct pcie_link_tlp *tlp, sim_time_t arrived)
{
    (void)tlp;
    struct sinkrec *s = ctx;
    s->n++;
    s->when = arrived;
}

static void test_two_hop_timing(void **state)
{
    (void)state;
    struct tfab t;
    setup(&t, false);
    assert_int_equal(pcie_enum_enable(t.f, t.e1, true, NULL), 0);
    struct sinkrec sr = {.sim = t.sim};
    pcie_fabric_set_upstream(t.f, sink, &sr);
    sim_run(t.sim, 0);
    sim_time_t t0 = sim_now(t.sim);
    uint8_t data[64] = {1};
    assert_int_equal(pcie_fn_mem_write(t.e1, 0x3000, data, 64, NULL), 0);
    sim_run(t.sim, 0);
    assert_int_equal(sr.n, 1);
    /* E1 link: Gen2 x1 (E1's maximum); S1's link: Gen3 x4. The same TLP
     * bytes over stand-alone links of those kinds give the link times. */
    const struct pcie_fabric_config *fc = pcie_fabric_config(t.f);
    struct pcie_tlp mw;
    uint8_t bytes[128];
    assert_int_equal(pcie_tlp_mem_write(&mw, pcie_fn_bdf(t.e1), 0x3000, data, 64, NULL), 0);
    int nb = pcie_tlp_encode(&mw, bytes, sizeof bytes, NULL);
    assert_int_equal(nb, 76);
    /* Serialisation depends on the 128b/130b block phase, so each stand-alone
     * link (created at time 0 like the fabric's) sends at the same time. */
    sim_time_t at = t0;
    const unsigned gens[2] = {2, 3}, widths[2] = {1, 4};
    for (unsigned i = 0; i < 2; i++) {
        struct pcilab_sim *ls = sim_create(1);
        struct pcie_link_cfg lc;
        pcie_link_cfg_default(&lc);
        lc.gen = gens[i];
        lc.width = widths[i];
        lc.mps = 256;
        struct pcie_link *l;
        assert_int_equal(pcie_link_create(ls, &lc, &l, NULL), 0);
        sim_run_until(ls, at);
        struct sinkrec got = {.sim = ls};
        struct pcie_link_tlp lt = {.bytes = bytes, .len = (size_t)nb, .deliver = link_arrived,
                                   .ctx = &got};
        assert_int_equal(pcie_link_send(l, PCIE_LINK_UP, &lt, NULL), 0);
        sim_run_until(ls, at + 10 * SIM_US);
        assert_int_equal(got.n, 1);
        at = got.when + (i == 0 ? fc->switch_latency : fc->root_port_latency);
        sim_destroy(ls);
    }
    sim_time_t want = at - t0;
    /* about 0.49 us: 84 wire bytes at 5 GT/s x1 dominate */
    assert_in_range(want, 480 * SIM_NS, 500 * SIM_NS);
    assert_int_equal(sr.when - t0, want);
    tfab_free(&t);
}

/* topology.h: a fabric configured without a host bridge function still
 * receives the completions to its requests (requester ID root_bus:00.0),
 * also when another function sits at 00:00.0. */
static void test_host_without_host_bridge(void **state)
{
    (void)state;
    struct pcilab_sim *sim = sim_create(1);
    struct pcie_fabric_config c;
    pcie_fabric_config_default(&c);
    c.host_bridge.vendor_id = 0;
    struct pcie_fabric *f = pcie_fabric_create(sim, &c, NULL);
    assert_non_null(f);
    assert_null(pcie_fabric_host_bridge(f));
    assert_non_null(pcie_fabric_add_root_port(f, 0, 0, NULL, NULL));
    assert_non_null(pcie_fabric_add_root_port(f, 1, 0, NULL, NULL));
    uint32_t v = 0;
    for (unsigned dev = 0; dev < 2; dev++) {
        assert_int_equal(pcie_host_cfg_read(f, pcie_bdf(0, dev, 0), 0, 4, &v), PCIE_REQ_SC);
        assert_int_equal(v, 0x157c1022u);
    }
    assert_int_equal(pcie_host_cfg_read(f, pcie_bdf(0, 2, 0), 0, 4, &v), PCIE_REQ_UR);
    struct pcie_fabric_stats st;
    pcie_fabric_get_stats(f, &st);
    assert_int_equal(st.unexpected_completions, 0);
    assert_int_equal(st.timeouts, 0);
    sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type1_converted),
        cmocka_unit_test(test_address_routing),
        cmocka_unit_test(test_peer_to_peer),
        cmocka_unit_test(test_unsupported_request),
        cmocka_unit_test(test_mps_violation),
        cmocka_unit_test(test_rcb_split),
        cmocka_unit_test(test_tags_and_timeout),
        cmocka_unit_test(test_two_hop_timing),
        cmocka_unit_test(test_host_without_host_bridge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
