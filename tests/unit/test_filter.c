/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <pcap/pcap.h>

#include <rte_arp.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "sl_common.h"
#include "sl_filter.h"

#define SNAPLEN 65535u
#define MAX_FRAME 1514u

/* rte_bpf_convert() returns its program in rte_zmalloc() memory, and without
 * EAL there is no heap. These definitions in the executable take precedence
 * over librte_eal's for every caller in the process (librte_bpf's included),
 * and count calls, so a converted program that is never freed shows up. */
static uint64_t nb_zmalloc;
static uint64_t nb_rte_free;

void *
rte_zmalloc(const char *type, size_t size, unsigned align)
{
	void *p;

	if (posix_memalign(&p, align > RTE_CACHE_LINE_SIZE ? align : RTE_CACHE_LINE_SIZE, size) !=
	    0)
		return NULL;
	memset(p, 0, size);
	__atomic_fetch_add(&nb_zmalloc, 1, __ATOMIC_RELAXED);
	return p;
}

void
rte_free(void *p)
{
	if (p == NULL)
		return;
	__atomic_fetch_add(&nb_rte_free, 1, __ATOMIC_RELAXED);
	free(p);
}

/* ---- frames and fake mbufs ---- */

enum kind {
	UDP4,
	TCP4,
	ARP,
	UDP6,
	TCP6,
	NB_KINDS,
};

struct spec {
	enum kind kind;
	uint16_t vlan;  /* 0: untagged */
	uint16_t vlan2; /* 0: single tag; else an inner tag (QinQ) */
	const char *src, *dst;
	uint16_t sport, dport;
	uint16_t len;   /* frame bytes, FCS excluded */
	uint16_t split; /* 0: one segment; else bytes in the first of two */
	uint8_t tcp_flags;
	uint16_t cut; /* 0: whole frame; else the frame ends after this many bytes */
};

static const struct rte_ether_addr mac_a = { { 0x02, 0, 0, 0, 0, 0x0a } };
static const struct rte_ether_addr mac_b = { { 0x02, 0, 0, 0, 0, 0x0b } };

static uint16_t
min_len(enum kind k)
{
	switch (k) {
	case UDP4:
		return 14 + 20 + 8;
	case TCP4:
		return 14 + 20 + 20;
	case ARP:
		return 14 + 28;
	case UDP6:
		return 14 + 40 + 8;
	default:
		return 14 + 40 + 20;
	}
}

static uint16_t
tags_len(const struct spec *sp)
{
	return (sp->vlan != 0 ? 4 : 0) + (sp->vlan != 0 && sp->vlan2 != 0 ? 4 : 0);
}

static void
put_l4(uint8_t *l4, const struct spec *sp, bool udp, uint16_t l4_len)
{
	if (udp) {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)l4;

		u->src_port = htons(sp->sport);
		u->dst_port = htons(sp->dport);
		u->dgram_len = htons(l4_len);
	} else {
		struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)l4;

		t->src_port = htons(sp->sport);
		t->dst_port = htons(sp->dport);
		t->sent_seq = htonl(sp->sport * 65537u);
		t->data_off = 5 << 4;
		t->tcp_flags = sp->tcp_flags != 0 ? sp->tcp_flags : RTE_TCP_ACK_FLAG;
		t->rx_win = htons(8192);
	}
}

/* Write the frame @p sp describes into @p buf (sp->len bytes). */
static void
build_frame(const struct spec *sp, uint8_t *buf)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	uint16_t type, off = sizeof(*eth);

	assert_true(sp->len >= min_len(sp->kind) + tags_len(sp) && sp->len <= MAX_FRAME);
	memset(buf, 0, sp->len);
	type = sp->kind == ARP                        ? RTE_ETHER_TYPE_ARP
	       : sp->kind == UDP4 || sp->kind == TCP4 ? RTE_ETHER_TYPE_IPV4
						      : RTE_ETHER_TYPE_IPV6;
	eth->src_addr = mac_a;
	eth->dst_addr = mac_b;
	if (sp->kind == ARP)
		memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	if (sp->vlan != 0) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(buf + off);

		eth->ether_type = htons(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = htons(sp->vlan);
		vh->eth_proto = htons(type);
		off += sizeof(*vh);
		if (sp->vlan2 != 0) {
			vh->eth_proto = htons(RTE_ETHER_TYPE_VLAN);
			vh = (struct rte_vlan_hdr *)(buf + off);
			vh->vlan_tci = htons(sp->vlan2);
			vh->eth_proto = htons(type);
			off += sizeof(*vh);
		}
	} else {
		eth->ether_type = htons(type);
	}

	if (sp->kind == ARP) {
		struct rte_arp_hdr *a = (struct rte_arp_hdr *)(buf + off);

		a->arp_hardware = htons(RTE_ARP_HRD_ETHER);
		a->arp_protocol = htons(RTE_ETHER_TYPE_IPV4);
		a->arp_hlen = RTE_ETHER_ADDR_LEN;
		a->arp_plen = 4;
		a->arp_opcode = htons(RTE_ARP_OP_REQUEST);
		a->arp_data.arp_sha = mac_a;
		assert_int_equal(inet_pton(AF_INET, sp->src, &a->arp_data.arp_sip), 1);
		assert_int_equal(inet_pton(AF_INET, sp->dst, &a->arp_data.arp_tip), 1);
	} else if (sp->kind == UDP4 || sp->kind == TCP4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + off);

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = htons(sp->len - off);
		ip->time_to_live = 64;
		ip->next_proto_id = sp->kind == UDP4 ? IPPROTO_UDP : IPPROTO_TCP;
		assert_int_equal(inet_pton(AF_INET, sp->src, &ip->src_addr), 1);
		assert_int_equal(inet_pton(AF_INET, sp->dst, &ip->dst_addr), 1);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		put_l4(buf + off + sizeof(*ip), sp, sp->kind == UDP4, sp->len - off - sizeof(*ip));
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(buf + off);

		ip->vtc_flow = htonl(6u << 28);
		ip->payload_len = htons(sp->len - off - sizeof(*ip));
		ip->proto = sp->kind == UDP6 ? IPPROTO_UDP : IPPROTO_TCP;
		ip->hop_limits = 64;
		assert_int_equal(inet_pton(AF_INET6, sp->src, ip->src_addr), 1);
		assert_int_equal(inet_pton(AF_INET6, sp->dst, ip->dst_addr), 1);
		put_l4(buf + off + sizeof(*ip), sp, sp->kind == UDP6, sp->len - off - sizeof(*ip));
	}
}

/* One segment laid out like a pool's mbuf: header, headroom, data. */
static struct rte_mbuf *
segment(const uint8_t *data, uint16_t len)
{
	size_t size = RTE_ALIGN_CEIL(sizeof(struct rte_mbuf) + RTE_PKTMBUF_HEADROOM + len,
				     RTE_CACHE_LINE_SIZE);
	struct rte_mbuf *m = aligned_alloc(RTE_CACHE_LINE_SIZE, size);

	assert_non_null(m);
	memset(m, 0, size);
	m->buf_addr = m + 1;
	m->buf_len = RTE_PKTMBUF_HEADROOM + len;
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->data_len = len;
	m->pkt_len = len;
	m->nb_segs = 1;
	rte_mbuf_refcnt_set(m, 1);
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), data, len);
	return m;
}

/* An mbuf holding @p len bytes of @p frame, split in two segments after
 * @p split bytes if that is non-zero. Its index goes in hash.usr, which no
 * filter reads, so that results can be mapped back to packets. */
static struct rte_mbuf *
mbuf_from_frame(const uint8_t *frame, uint16_t len, uint16_t split, uint32_t index)
{
	struct rte_mbuf *m;

	if (split == 0 || split >= len) {
		m = segment(frame, len);
	} else {
		m = segment(frame, split);
		m->next = segment(frame + split, len - split);
		m->nb_segs = 2;
		m->pkt_len = len;
	}
	m->port = (uint16_t)(index % 4);
	m->hash.usr = index;
	return m;
}

static void
mbuf_release(struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		free(m);
		m = next;
	}
}

/* A set of packets, their wire bytes and libpcap's own verdicts. */
struct traffic {
	unsigned n;
	struct rte_mbuf **pkts;
	uint8_t (*frame)[MAX_FRAME];
	uint16_t *len;
};

static void
traffic_add(struct traffic *t, const struct spec *sp)
{
	unsigned i = t->n++;

	build_frame(sp, t->frame[i]);
	t->len[i] = sp->cut != 0 ? sp->cut : sp->len;
	t->pkts[i] = mbuf_from_frame(t->frame[i], t->len[i], sp->split, i);
}

static void
traffic_alloc(struct traffic *t, unsigned cap)
{
	t->n = 0;
	t->pkts = calloc(cap, sizeof(*t->pkts));
	t->frame = calloc(cap, sizeof(*t->frame));
	t->len = calloc(cap, sizeof(*t->len));
	assert_true(t->pkts != NULL && t->frame != NULL && t->len != NULL);
}

static void
traffic_free(struct traffic *t)
{
	for (unsigned i = 0; i < t->n; i++)
		mbuf_release(t->pkts[i]);
	free(t->pkts);
	free(t->frame);
	free(t->len);
	memset(t, 0, sizeof(*t));
}

/* libpcap's verdicts for every packet of @p t: the reference. */
static void
oracle(const char *expr, const struct traffic *t, bool *accept)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, SNAPLEN);
	struct bpf_program prog;

	assert_non_null(p);
	assert_int_equal(pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN), 0);
	for (unsigned i = 0; i < t->n; i++) {
		struct pcap_pkthdr h = { .caplen = t->len[i], .len = t->len[i] };

		accept[i] = pcap_offline_filter(&prog, &h, t->frame[i]) != 0;
	}
	pcap_freecode(&prog);
	pcap_close(p);
}

/* Run @p f over a copy of the packet array and return, per packet, whether it
 * was kept; checks the burst contract (order kept on both sides, nothing lost). */
static unsigned
run_burst(const struct sl_filter *f, const struct traffic *t, bool *accept)
{
	struct rte_mbuf **pkts = calloc(t->n, sizeof(*pkts));
	struct rte_mbuf **rej = calloc(t->n, sizeof(*rej));
	unsigned kept, nb_rej = ~0u;
	int64_t last = -1;

	assert_true(pkts != NULL && rej != NULL);
	memcpy(pkts, t->pkts, t->n * sizeof(*pkts));
	kept = sl_filter_burst(f, pkts, t->n, rej, &nb_rej);
	assert_int_equal(kept + nb_rej, t->n);
	memset(accept, 0, t->n * sizeof(*accept));
	for (unsigned i = 0; i < kept; i++) {
		uint32_t id = pkts[i]->hash.usr;

		assert_true((int64_t)id > last);
		assert_ptr_equal(pkts[i], t->pkts[id]);
		accept[id] = true;
		last = id;
	}
	last = -1;
	for (unsigned i = 0; i < nb_rej; i++) {
		uint32_t id = rej[i]->hash.usr;

		assert_true((int64_t)id > last);
		assert_ptr_equal(rej[i], t->pkts[id]);
		assert_false(accept[id]);
		last = id;
	}
	free(pkts);
	free(rej);
	return kept;
}

static struct sl_filter *
create_ok(const char *expr, bool interpreter)
{
	char err[256];
	struct sl_filter *f;

	if (interpreter)
		setenv("SL_FILTER_NO_JIT", "1", 1);
	f = sl_filter_create(expr, SNAPLEN, err, sizeof(err));
	unsetenv("SL_FILTER_NO_JIT");
	if (f == NULL)
		fail_msg("\"%s\": %s", expr, err);
	assert_string_equal(err, "");
	assert_string_equal(sl_filter_expr(f), expr);
	assert_ptr_not_equal(sl_filter_expr(f), expr);
	if (interpreter)
		assert_false(sl_filter_is_jit(f));
	return f;
}

/* ---- a fixed, hand-checked packet set ---- */

static const struct spec fixed[] = {
	/* 0 */ { UDP4, 0, 0, "10.0.0.1", "10.0.0.2", 5000, 7400, 60, 0, 0, 0 },
	/* 1 */ { TCP4, 0, 0, "10.0.0.3", "10.0.0.4", 40000, 80, 60, 0, RTE_TCP_SYN_FLAG, 0 },
	/* 2 */ { ARP, 0, 0, "10.0.0.9", "10.0.0.1", 0, 0, 60, 0, 0, 0 },
	/* 3 */ { UDP4, 100, 0, "10.0.0.5", "10.0.0.6", 5000, 7400, 64, 0, 0, 0 },
	/* 4 */ { UDP6, 0, 0, "2001:db8::1", "2001:db8::2", 5353, 53, 80, 0, 0, 0 },
	/* 5 */ { TCP4, 0, 0, "10.0.0.1", "10.0.0.7", 80, 1234, 60, 0, 0, 0 },
	/* 6 */ { UDP4, 0, 0, "10.0.0.8", "10.0.0.1", 6000, 9999, 1200, 0, 0, 0 },
	/* 7 */ { TCP6, 0, 0, "2001:db8::3", "2001:db8::4", 50000, 443, 86, 0, 0, 0 },
	/* 8 */ { TCP4, 200, 0, "10.0.0.1", "10.0.0.12", 33000, 80, 64, 0, 0, 0 },
	/* 9: the IPv4 header straddles two segments. */
	/* 9 */ { UDP4, 0, 0, "10.0.0.10", "10.0.0.11", 5001, 7400, 300, 20, 0, 0 },
	/* 10 */ { UDP4, 0, 0, "10.0.0.13", "10.0.0.14", 7400, 5000, 60, 0, 0, 0 },
	/* 11 */ { TCP4, 0, 0, "10.0.0.15", "10.0.0.16", 1000, 8080, 1000, 0, 0, 0 },
	/* 12 */ { UDP4, 0, 0, "10.0.0.17", "10.0.0.18", 1000, 1001, 999, 0, 0, 0 },
};
#define NB_FIXED SL_ARRAY_SIZE(fixed)

struct fixed_case {
	const char *expr;
	uint32_t want; /* bit i: packet i is kept */
};

#define B(i) (1u << (i))
#define ALL_FIXED ((1u << NB_FIXED) - 1)

/* What tcpdump keeps; note that "udp", "tcp port 80" and "host" do not look
 * inside VLAN tags, that "udp" covers IPv6 and "host" covers ARP. */
static const struct fixed_case fixed_cases[] = {
	{ "udp", B(0) | B(4) | B(6) | B(9) | B(10) | B(12) },
	{ "tcp port 80", B(1) | B(5) },
	{ "host 10.0.0.1", B(0) | B(2) | B(5) | B(6) },
	{ "vlan and udp", B(3) },
	{ "ip6", B(4) | B(7) },
	{ "not arp", ALL_FIXED & ~B(2) },
	{ "udp and dst port 7400", B(0) | B(9) },
	{ "greater 1000", B(6) | B(11) },
	{ "less 60", B(0) | B(1) | B(2) | B(5) | B(10) },
	{ "vlan 200 and tcp port 80", B(8) },
	{ "tcp[tcpflags] & tcp-syn != 0", B(1) },
};

static struct traffic fixed_traffic;

static int
group_setup(void **state)
{
	unsetenv("SL_FILTER_NO_JIT");
	traffic_alloc(&fixed_traffic, NB_FIXED);
	for (unsigned i = 0; i < NB_FIXED; i++)
		traffic_add(&fixed_traffic, &fixed[i]);
	return 0;
}

static int
group_teardown(void **state)
{
	traffic_free(&fixed_traffic);
	/* Every program rte_bpf_convert() returned was given back. */
	if (nb_zmalloc != nb_rte_free) {
		fprintf(stderr, "rte_zmalloc %lu calls, rte_free %lu\n", (unsigned long)nb_zmalloc,
			(unsigned long)nb_rte_free);
		return -1;
	}
	return 0;
}

static void
test_fixed_expressions(void **state)
{
	bool ref[NB_FIXED], got[NB_FIXED];

	for (unsigned c = 0; c < SL_ARRAY_SIZE(fixed_cases); c++) {
		const struct fixed_case *fc = &fixed_cases[c];

		/* The hand-written expectation agrees with libpcap's own matcher... */
		oracle(fc->expr, &fixed_traffic, ref);
		for (unsigned i = 0; i < NB_FIXED; i++)
			if (ref[i] != !!(fc->want & B(i)))
				fail_msg("\"%s\", packet %u: libpcap says %d", fc->expr, i, ref[i]);
		/* ...and so does the filter, JIT-ed and interpreted. */
		for (int interp = 0; interp <= 1; interp++) {
			struct sl_filter *f = create_ok(fc->expr, interp);
			unsigned kept = run_burst(f, &fixed_traffic, got);

			assert_int_equal(kept, __builtin_popcount(fc->want));
			for (unsigned i = 0; i < NB_FIXED; i++)
				if (got[i] != !!(fc->want & B(i)))
					fail_msg("\"%s\" (%s), packet %u: kept %d", fc->expr,
						 interp ? "interpreter" : "default", i, got[i]);
			sl_filter_destroy(f);
		}
	}
}

static void
test_null_filter_keeps_all(void **state)
{
	bool got[NB_FIXED];

	assert_int_equal(run_burst(NULL, &fixed_traffic, got), NB_FIXED);
	for (unsigned i = 0; i < NB_FIXED; i++)
		assert_true(got[i]);
}

static void
test_empty_burst(void **state)
{
	struct sl_filter *f = create_ok("udp", false);
	unsigned nb_rej = 99;

	assert_int_equal(sl_filter_burst(f, NULL, 0, NULL, &nb_rej), 0);
	assert_int_equal(nb_rej, 0);
	sl_filter_destroy(f);
}

static void
test_jit_used_where_dpdk_has_one(void **state)
{
	struct sl_filter *f = create_ok("udp", false);

#if defined(RTE_ARCH_X86_64) || defined(RTE_ARCH_ARM64)
	assert_true(sl_filter_is_jit(f));
#endif
	print_message("filters run %s\n", sl_filter_is_jit(f) ? "JIT-ed" : "in the interpreter");
	sl_filter_destroy(f);
#ifdef RTE_ARCH_X86_64
	/* DPDK 22.11's x86 JIT miscompiles JSET with a small constant: such a
	 * filter must be interpreted, one with a large constant need not. */
	f = create_ok("tcp[13] & 2 != 0", false);
	assert_false(sl_filter_is_jit(f));
	sl_filter_destroy(f);
	f = create_ok("ip[6:2] & 0x4000 != 0", false);
	assert_true(sl_filter_is_jit(f));
	sl_filter_destroy(f);
#endif
	/* "0" and "" do not disable the JIT. */
	setenv("SL_FILTER_NO_JIT", "0", 1);
	f = sl_filter_create("udp", SNAPLEN, NULL, 0);
	unsetenv("SL_FILTER_NO_JIT");
	assert_non_null(f);
#if defined(RTE_ARCH_X86_64) || defined(RTE_ARCH_ARM64)
	assert_true(sl_filter_is_jit(f));
#endif
	sl_filter_destroy(f);
}

static void
create_fails(const char *expr, uint32_t snaplen, const char *needle)
{
	char err[256];

	rte_errno = 0;
	assert_null(sl_filter_create(expr, snaplen, err, sizeof(err)));
	assert_int_equal(rte_errno, EINVAL);
	if (strstr(err, needle) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", expr ? expr : "(null)", err,
			 needle);
}

static void
test_bad_expressions(void **state)
{
	char small[8];

	create_fails("udp and and tcp", SNAPLEN, "syntax error");
	create_fails("tcp port 99999", SNAPLEN, "port");
	create_fails("", SNAPLEN, "empty");
	create_fails(" \t ", SNAPLEN, "empty");
	create_fails(NULL, SNAPLEN, "empty");
	create_fails("udp", 0, "snaplen");
	create_fails("udp", (uint32_t)INT32_MAX + 1, "snaplen");
	/* libpcap accepts it, but it reads Linux ancillary data, which an mbuf
	 * has not. */
	assert_null(sl_filter_create("inbound", SNAPLEN, small, sizeof(small)));
	assert_int_equal(rte_errno, ENOTSUP);
	/* No message buffer, or a small one: still refused, and terminated. */
	assert_null(sl_filter_create("udp and and", SNAPLEN, NULL, 0));
	assert_null(sl_filter_create("udp and and", SNAPLEN, small, sizeof(small)));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* ---- JIT, interpreter and libpcap agree on random traffic ---- */

static uint64_t rng_state = 0x5eed;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

#define NB_RANDOM 1500

static void
random_traffic(struct traffic *t)
{
	static const char *const v4[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3", "192.168.1.1" };
	static const char *const v6[] = { "2001:db8::1", "2001:db8::2", "fe80::1" };
	static const uint16_t ports[] = { 53, 80, 443, 1500, 7400 };
	static const uint8_t flags[] = { RTE_TCP_SYN_FLAG, RTE_TCP_ACK_FLAG,
					 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, RTE_TCP_FIN_FLAG };

	traffic_alloc(t, NB_RANDOM);
	for (unsigned i = 0; i < NB_RANDOM; i++) {
		struct spec sp = { .kind = (enum kind)(rng() % NB_KINDS) };
		bool six = sp.kind == UDP6 || sp.kind == TCP6;
		uint16_t min;

		sp.vlan = rng() % 4 == 0 ? (rng() % 2 ? 100 : 200) : 0;
		sp.vlan2 = rng() % 3 == 0 ? (rng() % 2 ? 100 : 300) : 0;
		sp.src = six ? v6[rng() % 3] : v4[rng() % 4];
		sp.dst = six ? v6[rng() % 3] : v4[rng() % 4];
		sp.sport = rng() % 3 ? ports[rng() % 5] : (uint16_t)(1024 + rng() % 60000);
		sp.dport = rng() % 3 ? ports[rng() % 5] : (uint16_t)(1024 + rng() % 60000);
		sp.tcp_flags = flags[rng() % 4];
		min = min_len(sp.kind) + tags_len(&sp);
		sp.len = (uint16_t)(min + rng() % (MAX_FRAME - min + 1));
		if (sp.len < 60)
			sp.len = 60;
		/* Some packets in two segments, some cut inside their headers. */
		if (rng() % 5 == 0)
			sp.split = (uint16_t)(1 + rng() % (sp.len - 1));
		if (rng() % 20 == 0)
			sp.cut = (uint16_t)(1 + rng() % min);
		traffic_add(t, &sp);
	}
}

static const char *const random_exprs[] = {
	"udp",
	"tcp port 80",
	"host 10.0.0.1",
	"vlan and udp",
	"ip6",
	"not arp",
	"udp and dst port 7400",
	"greater 1000",
	"less 100",
	"tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
	"portrange 1000-2000",
	"net 10.0.0.0/31",
	"ip6 and udp port 53",
	"ether broadcast",
	"ip[8] = 64 and src host 10.0.0.2",
	"vlan 100 and (tcp or udp) and port 443",
	"len > 700 and (udp or arp)",
	"arp and arp[7] = 1",
	"ip and not host 10.0.0.2 and udp[8:2] = 0",
	"ether multicast",
	"tcp[tcpflags] == tcp-ack",
	"tcp[4:4] > 0x80000000",
	"ip[6:2] & 0x1fff = 0 and ip[2:2] > 576",
	"(ip[2:2] - ((ip[0] & 0xf) << 2)) > 100",
	"tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0",
	"udp[4:2] - 8 > 100 or tcp[13] & 0x12 = 0x12",
	"ether[12:2] = 0x8100 and ether[14:2] & 0xfff = 100",
	"vlan and vlan and udp",
	"vlan 200 and vlan 300 and (tcp or udp)",
	"vlan and vlan and tcp[tcpflags] & tcp-syn != 0",
	"icmp",
};

static void
test_jit_interpreter_libpcap_agree(void **state)
{
	struct traffic t;
	bool *ref = calloc(NB_RANDOM, sizeof(bool));
	bool *jit = calloc(NB_RANDOM, sizeof(bool));
	bool *interp = calloc(NB_RANDOM, sizeof(bool));

	assert_true(ref != NULL && jit != NULL && interp != NULL);
	random_traffic(&t);
	for (unsigned e = 0; e < SL_ARRAY_SIZE(random_exprs); e++) {
		const char *expr = random_exprs[e];
		struct sl_filter *fj = create_ok(expr, false);
		struct sl_filter *fi = create_ok(expr, true);
		unsigned nref = 0;

		oracle(expr, &t, ref);
		run_burst(fj, &t, jit);
		run_burst(fi, &t, interp);
		for (unsigned i = 0; i < NB_RANDOM; i++) {
			if (jit[i] != ref[i] || interp[i] != ref[i])
				fail_msg(
					"\"%s\", packet %u (len %u, %u segs): libpcap %d, default %d, interpreter %d",
					expr, i, t.len[i], t.pkts[i]->nb_segs, ref[i], jit[i],
					interp[i]);
			nref += ref[i];
		}
		/* The traffic must exercise both outcomes, or the comparison says little. */
		if (strcmp(expr, "icmp") == 0)
			assert_int_equal(nref, 0);
		else if (nref == 0 || nref == NB_RANDOM)
			fail_msg("\"%s\" matches %u of %u random packets", expr, nref, NB_RANDOM);
		sl_filter_destroy(fj);
		sl_filter_destroy(fi);
	}
	traffic_free(&t);
	free(ref);
	free(jit);
	free(interp);
}

/* ---- the slot ---- */

static void
test_slot_bad_args(void **state)
{
	struct sl_filter_slot *s;
	struct sl_filter *f = create_ok("udp", false);

	rte_errno = 0;
	assert_null(sl_filter_slot_create(0));
	assert_int_equal(rte_errno, EINVAL);
	assert_null(sl_filter_slot_create(SL_MAX_LCORES + 1));
	s = sl_filter_slot_create(2);
	assert_non_null(s);
	assert_int_equal(sl_filter_reader_register(s, 2), -EINVAL);
	assert_int_equal(sl_filter_reader_register(NULL, 0), -EINVAL);
	assert_int_equal(sl_filter_slot_set(NULL, f), -EINVAL);
	assert_int_equal(sl_filter_slot_set(s, f), 0);
	/* Handing over a filter the slot already owns would free it under the readers. */
	assert_int_equal(sl_filter_slot_set(s, f), -EINVAL);
	assert_ptr_equal(sl_filter_current(s), f);
	sl_filter_slot_destroy(s);
	sl_filter_slot_destroy(NULL);
	sl_filter_destroy(NULL);
}

static void
test_slot_set_replace_remove(void **state)
{
	struct sl_filter_slot *s = sl_filter_slot_create(1);
	struct sl_filter *udp = create_ok("udp", false);
	struct sl_filter *tcp = create_ok("tcp", false);

	assert_non_null(s);
	assert_null(sl_filter_current(s));
	assert_int_equal(sl_filter_slot_set(s, udp), 0);
	assert_ptr_equal(sl_filter_current(s), udp);
	/* No reader registered: the old filter is freed at once (valgrind checks). */
	assert_int_equal(sl_filter_slot_set(s, tcp), 0);
	assert_ptr_equal(sl_filter_current(s), tcp);
	assert_int_equal(sl_filter_slot_set(s, NULL), 0);
	assert_null(sl_filter_current(s));
	assert_int_equal(sl_filter_slot_set(s, NULL), 0);
	assert_int_equal(sl_filter_slot_reclaim(s), 0);
	assert_int_equal(sl_filter_slot_set(s, create_ok("arp", false)), 0);
	/* Destroying the slot frees the filter in force. */
	sl_filter_slot_destroy(s);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The calling thread plays RX lcore 0, so the reader's state is under control. */
static void
test_slot_stalled_and_offline_reader(void **state)
{
	struct sl_filter_slot *s = sl_filter_slot_create(2);
	struct sl_filter *udp = create_ok("udp", false);
	struct sl_filter *tcp = create_ok("tcp", false);
	uint64_t t0;

	assert_non_null(s);
	assert_int_equal(sl_filter_reader_register(s, 0), 0);
	/* Nothing to free, nothing to wait for. */
	assert_int_equal(sl_filter_slot_set(s, udp), 0);

	/* An online reader that never reports: bounded wait, then the old filter
	 * is parked, the new one in force. */
	t0 = now_ms();
	assert_int_equal(sl_filter_slot_set(s, tcp), -ETIMEDOUT);
	assert_true(now_ms() - t0 >= SL_FILTER_GRACE_MS * 9 / 10);
	assert_ptr_equal(sl_filter_current(s), tcp);
	/* The reader may still be running udp: it must be intact. */
	assert_string_equal(sl_filter_expr(udp), "udp");
	assert_int_equal(sl_filter_slot_reclaim(s), -EAGAIN);
	assert_int_equal(sl_filter_slot_set(s, udp), -EINVAL);
	sl_filter_quiescent(s, 0);
	assert_int_equal(sl_filter_slot_reclaim(s), 0);

	/* An offline (sleeping) reader is not waited for. */
	sl_filter_reader_offline(s, 0);
	t0 = now_ms();
	assert_int_equal(sl_filter_slot_set(s, create_ok("arp", false)), 0);
	assert_true(now_ms() - t0 < SL_FILTER_GRACE_MS / 2);

	/* Back online, it holds up the next swap again; whatever is still parked
	 * when the slot goes is freed with it. */
	sl_filter_reader_online(s, 0);
	assert_int_equal(sl_filter_slot_set(s, NULL), -ETIMEDOUT);
	assert_null(sl_filter_current(s));
	sl_filter_reader_unregister(s, 0);
	sl_filter_slot_destroy(s);
}

/* Two RX lcores loop (current, burst, quiescent) over the fixed packets while
 * the control thread swaps the filter 200 times among "udp", "tcp" and none.
 * Each generation of filter is tracked in a record the test never frees, so a
 * reader can tell which generation it runs and whether it was destroyed. */

#define NB_READERS 2
#define NB_SWAPS 200
#define BURSTS_PER_ITERATION 16

enum gen_kind {
	GEN_NONE,
	GEN_UDP,
	GEN_TCP,
	NB_GEN_KINDS,
};

static const char *const gen_expr[NB_GEN_KINDS] = { NULL, "udp", "tcp" };

struct gen {
	struct sl_filter *f;
	enum gen_kind kind;
	int users;     /* readers inside a burst with this filter */
	int destroyed; /* set once sl_filter_slot_set() replacing it returned */
};

struct swap_test {
	struct sl_filter_slot *slot;
	struct gen gen[NB_SWAPS + 1];
	int published; /* the newest generation handed to sl_filter_slot_set() */
	int stop;
	bool want[NB_GEN_KINDS][NB_FIXED];
};

struct reader {
	struct swap_test *st;
	unsigned id;
	pthread_t thread;
	uint64_t iterations;
	uint64_t seen[NB_GEN_KINDS];
	uint64_t unknown_filter; /* held a filter of none of the three newest generations */
	uint64_t used_destroyed; /* started a burst with a destroyed filter */
	uint64_t wrong_result;   /* a burst's result is not its filter's */
};

static void
reader_iteration(struct reader *r, struct rte_mbuf **pkts, struct rte_mbuf **rej)
{
	struct swap_test *st = r->st;
	const struct sl_filter *f = sl_filter_current(st->slot);
	int g = __atomic_load_n(&st->published, __ATOMIC_ACQUIRE);
	struct gen *gen = NULL;
	unsigned kept, nb_rej;
	bool ok = true;

	/* Until this reader quiesces, the slot cannot get past the first
	 * replacement of a real filter after the one it loaded; a swap away from
	 * "none" frees nothing and does not wait, so the filter is one of the three
	 * newest. Newest first: a freed filter's address may be reused. */
	for (int k = g; k >= 0 && k >= g - 2; k--) {
		if (st->gen[k].f == f) {
			gen = &st->gen[k];
			break;
		}
	}
	if (gen == NULL) {
		r->unknown_filter++;
		return;
	}
	/* Sequentially consistent on both sides: either this reader sees the
	 * destroyed flag, or the control thread sees it among the users. Several
	 * bursts per iteration, as an RX lcore polls several queues, make the
	 * window in which a premature free would be caught wide. */
	__atomic_fetch_add(&gen->users, 1, __ATOMIC_SEQ_CST);
	for (unsigned b = 0; b < BURSTS_PER_ITERATION; b++) {
		if (__atomic_load_n(&gen->destroyed, __ATOMIC_SEQ_CST))
			r->used_destroyed++;
		memcpy(pkts, fixed_traffic.pkts, NB_FIXED * sizeof(*pkts));
		kept = sl_filter_burst(f, pkts, NB_FIXED, rej, &nb_rej);
		for (unsigned i = 0, k = 0; i < NB_FIXED; i++) {
			bool in = k < kept && pkts[k] == fixed_traffic.pkts[i];

			k += in;
			ok &= in == st->want[gen->kind][i];
		}
		ok &= kept + nb_rej == NB_FIXED;
		/* Get preempted while holding the filter: on a machine with fewer
		 * CPUs than threads, this is what lets a swap land mid-iteration. */
		if (b == BURSTS_PER_ITERATION / 2)
			sched_yield();
	}
	__atomic_fetch_sub(&gen->users, 1, __ATOMIC_SEQ_CST);
	if (!ok)
		r->wrong_result++;
	r->seen[gen->kind]++;
}

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct swap_test *st = r->st;
	struct rte_mbuf *pkts[NB_FIXED], *rej[NB_FIXED];

	if (sl_filter_reader_register(st->slot, r->id) != 0) {
		r->unknown_filter++;
		return NULL;
	}
	while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED)) {
		reader_iteration(r, pkts, rej);
		sl_filter_quiescent(st->slot, r->id);
		__atomic_store_n(&r->iterations, r->iterations + 1, __ATOMIC_RELAXED);
		/* Now and then nap like an idle RX lcore, offline meanwhile. */
		if (r->iterations % 64 == 0) {
			sl_filter_reader_offline(st->slot, r->id);
			sched_yield();
			sl_filter_reader_online(st->slot, r->id);
		}
	}
	sl_filter_reader_unregister(st->slot, r->id);
	return NULL;
}

static void
test_slot_swap_under_load(void **state)
{
	static struct swap_test st;
	struct reader readers[NB_READERS];
	unsigned set_failures = 0, busy_after_set = 0;
	uint64_t since[NB_READERS], deadline = now_ms() + 30000;

	memset(&st, 0, sizeof(st));
	memset(readers, 0, sizeof(readers));
	for (unsigned i = 0; i < NB_FIXED; i++) {
		st.want[GEN_NONE][i] = true;
		st.want[GEN_UDP][i] = fixed[i].kind == UDP4 || fixed[i].kind == UDP6;
		st.want[GEN_UDP][i] &= fixed[i].vlan == 0;
		st.want[GEN_TCP][i] = fixed[i].kind == TCP4 || fixed[i].kind == TCP6;
		st.want[GEN_TCP][i] &= fixed[i].vlan == 0;
	}
	st.slot = sl_filter_slot_create(NB_READERS);
	assert_non_null(st.slot);
	st.gen[0].kind = GEN_NONE;

	for (unsigned i = 0; i < NB_READERS; i++) {
		readers[i].st = &st;
		readers[i].id = i;
		assert_int_equal(pthread_create(&readers[i].thread, NULL, reader_main, &readers[i]),
				 0);
	}
	/* Swaps start once every reader is registered and running. */
	for (unsigned i = 0; i < NB_READERS; i++)
		while (__atomic_load_n(&readers[i].iterations, __ATOMIC_RELAXED) == 0)
			sched_yield();

	for (int k = 1; k <= NB_SWAPS; k++) {
		struct gen *g = &st.gen[k];

		g->kind = (enum gen_kind)(k % NB_GEN_KINDS);
		g->f = g->kind == GEN_NONE ? NULL
					   : sl_filter_create(gen_expr[g->kind], SNAPLEN, NULL, 0);
		if (g->kind != GEN_NONE && g->f == NULL) {
			set_failures++;
			break;
		}
		__atomic_store_n(&st.published, k, __ATOMIC_RELEASE);
		if (sl_filter_slot_set(st.slot, g->f) != 0)
			set_failures++;
		/* Let every reader run the new filter at least once: an iteration
		 * that starts after this point sees it. */
		for (unsigned i = 0; i < NB_READERS; i++)
			since[i] = __atomic_load_n(&readers[i].iterations, __ATOMIC_RELAXED);
		for (unsigned i = 0; i < NB_READERS; i++)
			while (__atomic_load_n(&readers[i].iterations, __ATOMIC_RELAXED) <
				       since[i] + 2 &&
			       now_ms() < deadline)
				sched_yield();
		/* sl_filter_slot_set() has freed generation k - 1: nobody may be
		 * using it. ("None" is not freed, so readers may still run it.) */
		if (st.gen[k - 1].f != NULL) {
			__atomic_store_n(&st.gen[k - 1].destroyed, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&st.gen[k - 1].users, __ATOMIC_SEQ_CST) != 0)
				busy_after_set++;
		}
	}

	__atomic_store_n(&st.stop, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < NB_READERS; i++)
		assert_int_equal(pthread_join(readers[i].thread, NULL), 0);
	sl_filter_slot_destroy(st.slot);

	assert_int_equal(set_failures, 0);
	assert_int_equal(busy_after_set, 0);
	assert_true(now_ms() < deadline);
	for (unsigned i = 0; i < NB_READERS; i++) {
		struct reader *r = &readers[i];

		print_message("reader %u: %lu bursts (none %lu, udp %lu, tcp %lu)\n", i,
			      (unsigned long)r->iterations, (unsigned long)r->seen[GEN_NONE],
			      (unsigned long)r->seen[GEN_UDP], (unsigned long)r->seen[GEN_TCP]);
		assert_int_equal(r->unknown_filter, 0);
		assert_int_equal(r->used_destroyed, 0);
		assert_int_equal(r->wrong_result, 0);
		for (unsigned k = 0; k < NB_GEN_KINDS; k++)
			assert_true(r->seen[k] > 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_expressions),
		cmocka_unit_test(test_null_filter_keeps_all),
		cmocka_unit_test(test_empty_burst),
		cmocka_unit_test(test_jit_used_where_dpdk_has_one),
		cmocka_unit_test(test_bad_expressions),
		cmocka_unit_test(test_jit_interpreter_libpcap_agree),
		cmocka_unit_test(test_slot_bad_args),
		cmocka_unit_test(test_slot_set_replace_remove),
		cmocka_unit_test(test_slot_stalled_and_offline_reader),
		cmocka_unit_test(test_slot_swap_under_load),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
