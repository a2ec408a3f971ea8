/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "sl_net.h"

/* Frames here are built byte by byte with this file's own checksum code, so
 * that a bug shared by the library and DPDK's helpers cannot hide. */

#define OUR_IP 0x0a000001u  /* 10.0.0.1 */
#define PEER_IP 0x0a000002u /* 10.0.0.2 */
#define OUR_PORT 9000
#define PEER_PORT 12345

static const uint8_t our_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t other_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x09 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* 2001:db8::12ab:cdef: only its last 24 bits go into its solicited-node group,
 * ff02::1:ffab:cdef. The peer uses a link-local address, as hosts do for NDP. */
static const uint8_t our_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [12] = 0x12, 0xab, 0xcd, 0xef };
static const uint8_t peer_ip6[16] = { 0xfe, 0x80, [8] = 0x02, [11] = 0xff, 0xfe, [15] = 0x02 };
static const uint8_t other_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x09 };
static const uint8_t solicited_ip6[16] = { 0xff, 0x02, [11] = 0x01, 0xff, 0xab, 0xcd, 0xef };
static const uint8_t other_group_ip6[16] = { 0xff, 0x02, [11] = 0x01, 0xff, 0x00, 0x00, 0x09 };
static const uint8_t all_nodes_ip6[16] = { 0xff, 0x02, [15] = 0x01 };
static const uint8_t mld_routers_ip6[16] = { 0xff, 0x02, [15] = 0x16 };
static const uint8_t unspec_ip6[16];
static const uint8_t solicited_mac[6] = { 0x33, 0x33, 0xff, 0xab, 0xcd, 0xef };
static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t v4_mcast_mac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

static struct sl_net_iface ifc;

static int
setup(void **state)
{
	memcpy(ifc.mac.addr_bytes, our_mac, 6);
	ifc.ip = htonl(OUR_IP);
	ifc.udp_port = OUR_PORT;
	ifc.ip_prefix = 24;
	memcpy(ifc.ip6, our_ip6, 16);
	ifc.ip6_prefix = 64;
	return 0;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* One's complement sum of big-endian 16-bit words, folded, not inverted. */
static uint16_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t
pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
	uint8_t ph[12];

	put32(ph, src);
	put32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, l4_len);
	return sum16(ph, sizeof(ph), 0);
}

/* Ethernet header with optional tags: each tag is a (TPID, TCI) pair. */
static size_t
put_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, const uint16_t *tags, int nb_tags,
	uint16_t type)
{
	size_t off = 12;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	for (int i = 0; i < nb_tags; i++) {
		put16(f + off, tags[2 * i]);
		put16(f + off + 2, tags[2 * i + 1]);
		off += 4;
	}
	put16(f + off, type);
	return off + 2;
}

/* IPv4 header of ihl words (options zero-filled) with a correct checksum. */
static size_t
put_ipv4(uint8_t *p, int ihl, uint8_t proto, uint32_t src, uint32_t dst, uint16_t l4_len,
	 uint16_t frag)
{
	size_t hl = (size_t)ihl * 4;

	memset(p, 0, hl);
	p[0] = 0x40 | ihl;
	put16(p + 2, (uint16_t)(hl + l4_len));
	put16(p + 4, 0x1234);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	put32(p + 12, src);
	put32(p + 16, dst);
	put16(p + 10, (uint16_t)~sum16(p, hl, 0));
	return hl;
}

struct udp_opts {
	const uint8_t *dst_mac;
	const uint16_t *tags;
	int nb_tags;
	int ihl;
	uint32_t dst_ip;
	uint16_t dst_port;
	uint16_t frag;
	bool no_cksum;
};

static const uint8_t test_payload[] = "sluice says hello";
#define TEST_PAYLOAD_LEN (sizeof(test_payload) - 1)

/* A valid UDP frame from the peer to us unless opts say otherwise. */
static size_t
udp_frame(uint8_t *f, const struct udp_opts *o)
{
	uint16_t l4_len = 8 + TEST_PAYLOAD_LEN;
	size_t l3, l4;
	uint8_t *u;

	l3 = put_eth(f, o && o->dst_mac ? o->dst_mac : our_mac, peer_mac, o ? o->tags : NULL,
		     o ? o->nb_tags : 0, 0x0800);
	l4 = l3 + put_ipv4(f + l3, o && o->ihl ? o->ihl : 5, 17, PEER_IP,
			   o && o->dst_ip ? o->dst_ip : OUR_IP, l4_len, o ? o->frag : 0);
	u = f + l4;
	put16(u, PEER_PORT);
	put16(u + 2, o && o->dst_port ? o->dst_port : OUR_PORT);
	put16(u + 4, l4_len);
	put16(u + 6, 0);
	memcpy(u + 8, test_payload, TEST_PAYLOAD_LEN);
	if (!(o && o->no_cksum)) {
		uint16_t c = (uint16_t)~sum16(
			u, l4_len,
			pseudo_sum(PEER_IP, (uint32_t)get16(f + l3 + 16) << 16 | get16(f + l3 + 18),
				   17, l4_len));
		put16(u + 6, c == 0 ? 0xffff : c);
	}
	return l4 + l4_len;
}

static enum sl_net_verdict
classify(const uint8_t *f, size_t len, struct sl_net_pkt *pkt)
{
	struct sl_net_pkt local;

	return sl_net_classify(&ifc, f, (uint32_t)len, 0, pkt ? pkt : &local);
}

static void
test_verdict_names(void **state)
{
	for (int i = 0; i < SL_NET_NB_VERDICTS; i++) {
		const char *n = sl_net_verdict_name(i);

		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		for (const char *c = n; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || *c == '_' ||
				    (*c >= '0' && *c <= '9'));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, sl_net_verdict_name(j));
	}
	assert_string_equal(sl_net_verdict_name(SL_NET_DROP_BAD_IP_CSUM), "bad_ip_csum");
	assert_string_equal(sl_net_verdict_name(SL_NET_UDP), "udp");
	assert_string_equal(sl_net_verdict_name(SL_NET_NB_VERDICTS), "unknown");
	assert_string_equal(sl_net_verdict_name(-1), "unknown");
}

static void
check_udp_fields(const uint8_t *f, const struct sl_net_pkt *p, uint16_t l3_off)
{
	assert_int_equal(p->l3_off, l3_off);
	assert_int_equal(p->l4_off, l3_off + 20);
	assert_int_equal(p->src_ip, htonl(PEER_IP));
	assert_int_equal(p->dst_ip, htonl(OUR_IP));
	assert_int_equal(p->src_port, PEER_PORT);
	assert_int_equal(p->dst_port, OUR_PORT);
	assert_ptr_equal(p->payload, f + l3_off + 28);
	assert_int_equal(p->payload_len, TEST_PAYLOAD_LEN);
	assert_memory_equal(p->payload, test_payload, TEST_PAYLOAD_LEN);
	assert_memory_equal(p->src_mac.addr_bytes, peer_mac, 6);
}

static void
test_udp_plain(void **state)
{
	uint8_t f[128];
	struct sl_net_pkt p;
	size_t n = udp_frame(f, NULL);

	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	assert_false(p.vlan);
	check_udp_fields(f, &p, 14);

	/* Ethernet padding after the IPv4 total length is ignored. */
	memset(f + n, 0, 20);
	assert_int_equal(classify(f, n + 20, &p), SL_NET_UDP);
	assert_int_equal(p.payload_len, TEST_PAYLOAD_LEN);

	/* Broadcast destination MAC with our IP is ours. */
	n = udp_frame(f, &(struct udp_opts){ .dst_mac = bcast_mac });
	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
}

static void
test_udp_vlan(void **state)
{
	static const uint16_t tag[] = { 0x8100, 0x2064 };
	uint8_t f[128];
	struct sl_net_pkt p;
	size_t n = udp_frame(f, &(struct udp_opts){ .tags = tag, .nb_tags = 1 });

	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	assert_true(p.vlan);
	assert_int_equal(p.vlan_tci, 0x2064);
	check_udp_fields(f, &p, 18);
}

static void
test_udp_qinq(void **state)
{
	static const uint16_t tags[] = { 0x88a8, 100, 0x8100, 0x3000 | 200 };
	static const uint16_t s_only[] = { 0x88a8, 100 };
	static const uint16_t triple[] = { 0x88a8, 100, 0x8100, 200, 0x8100, 300 };
	static const uint16_t double_q[] = { 0x8100, 100, 0x8100, 200 };
	static const uint16_t s_twice[] = { 0x88a8, 100, 0x88a8, 200 };
	uint8_t f[128];
	struct sl_net_pkt p;
	size_t n = udp_frame(f, &(struct udp_opts){ .tags = tags, .nb_tags = 2 });

	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	assert_true(p.vlan);
	assert_int_equal(p.vlan_tci, 0x3000 | 200);
	check_udp_fields(f, &p, 22);

	n = udp_frame(f, &(struct udp_opts){ .tags = s_only, .nb_tags = 1 });
	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	assert_int_equal(p.vlan_tci, 100);

	n = udp_frame(f, &(struct udp_opts){ .tags = triple, .nb_tags = 3 });
	assert_int_equal(classify(f, n, &p), SL_NET_DROP_BAD_ETHERTYPE);
	n = udp_frame(f, &(struct udp_opts){ .tags = double_q, .nb_tags = 2 });
	assert_int_equal(classify(f, n, &p), SL_NET_DROP_BAD_ETHERTYPE);
	n = udp_frame(f, &(struct udp_opts){ .tags = s_twice, .nb_tags = 2 });
	assert_int_equal(classify(f, n, &p), SL_NET_DROP_BAD_ETHERTYPE);
}

/* Every prefix of a valid frame, each in a heap block of exactly that size so
 * that valgrind or ASan reports any read past the end. */
static void
check_truncations(const uint8_t *f, size_t full, size_t min_eth)
{
	for (size_t n = 0; n < full; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct sl_net_pkt p;
		enum sl_net_verdict v;

		assert_non_null(copy);
		memcpy(copy, f, n);
		v = sl_net_classify(&ifc, copy, (uint32_t)n, 0, &p);
		free(copy);
		assert_int_not_equal(v, SL_NET_UDP);
		assert_int_not_equal(v, SL_NET_ICMP_ECHO);
		assert_int_not_equal(v, SL_NET_ARP_REQUEST);
		assert_int_not_equal(v, SL_NET_NDP_SOLICIT);
		assert_int_not_equal(v, SL_NET_ICMP6_ECHO);
		if (n < min_eth)
			assert_int_equal(v, SL_NET_DROP_RUNT);
		else
			assert_true(v == SL_NET_DROP_RUNT || v == SL_NET_DROP_BAD_IP_HEADER);
	}
}

static void
test_truncated(void **state)
{
	static const uint16_t tags[] = { 0x88a8, 100, 0x8100, 200 };
	uint8_t f[128];
	size_t n;

	n = udp_frame(f, NULL);
	check_truncations(f, n, 14);
	assert_int_equal(classify(f, n, NULL), SL_NET_UDP);
	n = udp_frame(f, &(struct udp_opts){ .tags = tags, .nb_tags = 2 });
	check_truncations(f, n, 22);
	assert_int_equal(classify(f, n, NULL), SL_NET_UDP);
	n = udp_frame(f, &(struct udp_opts){ .ihl = 15 });
	check_truncations(f, n, 14);
	assert_int_equal(classify(f, n, NULL), SL_NET_UDP);
}

static void
test_bad_ip_header(void **state)
{
	uint8_t f[128], g[128];
	size_t n = udp_frame(f, NULL);

	/* IHL 4: below the minimum (checksum fixed up so only IHL is wrong). */
	memcpy(g, f, n);
	g[14] = 0x44;
	assert_int_equal(classify(g, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
	/* Version 6 in an IPv4 ethertype. */
	memcpy(g, f, n);
	g[14] = 0x65;
	assert_int_equal(classify(g, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
	/* IHL 15 (60 bytes) in a frame whose IP part is shorter. */
	memcpy(g, f, n);
	g[14] = 0x4f;
	assert_int_equal(classify(g, 14 + 50, NULL), SL_NET_DROP_BAD_IP_HEADER);
	/* Total length one more than the frame holds. */
	memcpy(g, f, n);
	put16(g + 16, (uint16_t)(n - 14 + 1));
	assert_int_equal(classify(g, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
	/* Total length smaller than the header. */
	memcpy(g, f, n);
	put16(g + 16, 19);
	assert_int_equal(classify(g, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
}

static void
test_ip_options(void **state)
{
	uint8_t f[128];
	struct sl_net_pkt p;
	size_t n = udp_frame(f, &(struct udp_opts){ .ihl = 6 });

	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 14 + 24);
	assert_int_equal(p.dst_port, OUR_PORT);
	assert_ptr_equal(p.payload, f + 14 + 24 + 8);
	assert_memory_equal(p.payload, test_payload, TEST_PAYLOAD_LEN);
}

static void
test_bad_ip_csum(void **state)
{
	uint8_t f[128];
	size_t n = udp_frame(f, NULL);

	f[14 + 8] = 63; /* TTL changed, checksum not updated */
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_IP_CSUM);
}

static void
test_fragment(void **state)
{
	uint8_t f[128];
	size_t n;

	n = udp_frame(f, &(struct udp_opts){ .frag = 0x2000 }); /* MF */
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_FRAGMENT);
	n = udp_frame(f, &(struct udp_opts){ .frag = 5 }); /* offset 40, last fragment */
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_FRAGMENT);
	n = udp_frame(f, &(struct udp_opts){ .frag = 0x4000 }); /* DF only: whole datagram */
	assert_int_equal(classify(f, n, NULL), SL_NET_UDP);
}

static void
test_udp_checks(void **state)
{
	uint8_t f[128];
	struct sl_net_pkt p;
	size_t n;

	n = udp_frame(f, NULL);
	f[n - 1] ^= 0x01; /* payload changed, checksum not updated */
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_UDP_CSUM);

	n = udp_frame(f, &(struct udp_opts){ .no_cksum = true });
	assert_int_equal(get16(f + 34 + 6), 0);
	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	assert_memory_equal(p.payload, test_payload, TEST_PAYLOAD_LEN);

	/* UDP length different from the IPv4 payload length, either way. */
	n = udp_frame(f, &(struct udp_opts){ .no_cksum = true });
	put16(f + 34 + 4, (uint16_t)(8 + TEST_PAYLOAD_LEN - 1));
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_UDP);
	put16(f + 34 + 4, (uint16_t)(8 + TEST_PAYLOAD_LEN + 1));
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_UDP);
	put16(f + 34 + 4, 7);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_UDP);

	n = udp_frame(f, &(struct udp_opts){ .dst_port = OUR_PORT + 1 });
	assert_int_equal(classify(f, n, &p), SL_NET_DROP_WRONG_PORT);
	assert_int_equal(p.dst_port, OUR_PORT + 1);
}

static void
test_not_for_us(void **state)
{
	uint8_t f[128];
	size_t n;

	n = udp_frame(f, &(struct udp_opts){ .dst_ip = 0x0a000003 });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NOT_FOR_US);
	n = udp_frame(f, &(struct udp_opts){ .dst_mac = other_mac });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NOT_FOR_US);
}

static void
test_other_protocols(void **state)
{
	static const uint8_t v6_mcast[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x01 };
	uint8_t f[128] = { 0 };
	size_t n;

	n = put_eth(f, our_mac, peer_mac, NULL, 0, 0x88cc); /* LLDP */
	assert_int_equal(classify(f, 60, NULL), SL_NET_DROP_BAD_ETHERTYPE);

	/* IPv6 ethertype, but version 0 in the zeroed header. */
	n = put_eth(f, v6_mcast, peer_mac, NULL, 0, 0x86dd);
	assert_int_equal(classify(f, 60, NULL), SL_NET_DROP_BAD_IP_HEADER);
	n = put_eth(f, other_mac, peer_mac, NULL, 0, 0x86dd);
	assert_int_equal(classify(f, 60, NULL), SL_NET_DROP_NOT_FOR_US);

	/* TCP to us. */
	n = put_eth(f, our_mac, peer_mac, NULL, 0, 0x0800);
	n += put_ipv4(f + n, 5, 6, PEER_IP, OUR_IP, 20, 0);
	assert_int_equal(classify(f, n + 20, NULL), SL_NET_DROP_UNSUPPORTED_PROTO);

	/* ICMP timestamp request (type 13) is not served. */
	n = put_eth(f, our_mac, peer_mac, NULL, 0, 0x0800);
	n += put_ipv4(f + n, 5, 1, PEER_IP, OUR_IP, 20, 0);
	memset(f + n, 0, 20);
	f[n] = 13;
	put16(f + n + 2, (uint16_t)~sum16(f + n, 20, 0));
	assert_int_equal(classify(f, n + 20, NULL), SL_NET_DROP_UNSUPPORTED_PROTO);
}

/* An ARP frame; tags as in put_eth. Returns the length before padding. */
static size_t
arp_frame(uint8_t *f, const uint8_t *dst, const uint16_t *tags, int nb_tags, uint16_t op,
	  uint32_t target_ip)
{
	size_t l3 = put_eth(f, dst, peer_mac, tags, nb_tags, 0x0806);
	uint8_t *a = f + l3;

	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, peer_mac, 6);
	put32(a + 14, PEER_IP);
	memset(a + 18, 0, 6);
	put32(a + 24, target_ip);
	return l3 + 28;
}

static void
check_arp_reply(const uint16_t *tags, int nb_tags)
{
	uint8_t req[128] = { 0 }, rep[128], expect[128];
	struct sl_net_pkt p;
	size_t n, l3;
	uint32_t len;

	n = arp_frame(req, bcast_mac, tags, nb_tags, 1, OUR_IP);
	memset(req + n, 0, 60 - n); /* padded as received from the wire */
	assert_int_equal(classify(req, n, &p), SL_NET_ARP_REQUEST);
	assert_int_equal(classify(req, 60, &p), SL_NET_ARP_REQUEST);
	assert_int_equal(p.src_ip, htonl(PEER_IP));
	assert_int_equal(p.dst_ip, htonl(OUR_IP));

	memset(rep, 0xaa, sizeof(rep));
	len = sl_net_build_arp_reply(&ifc, req, 60, rep, sizeof(rep));
	l3 = n - 28;
	memset(expect, 0, sizeof(expect));
	put_eth(expect, peer_mac, our_mac, tags, nb_tags, 0x0806);
	put16(expect + l3, 1);
	put16(expect + l3 + 2, 0x0800);
	expect[l3 + 4] = 6;
	expect[l3 + 5] = 4;
	put16(expect + l3 + 6, 2);
	memcpy(expect + l3 + 8, our_mac, 6);
	put32(expect + l3 + 14, OUR_IP);
	memcpy(expect + l3 + 18, peer_mac, 6);
	put32(expect + l3 + 24, PEER_IP);
	assert_int_equal(len, n < 60 ? 60 : n);
	assert_memory_equal(rep, expect, len);
	/* Our own reply is not a request for us. */
	assert_int_equal(classify(rep, len, NULL), SL_NET_DROP_NOT_FOR_US);

	assert_int_equal(sl_net_build_arp_reply(&ifc, req, 60, rep, len - 1), 0);
}

static void
test_arp(void **state)
{
	static const uint16_t tag[] = { 0x8100, 42 };
	static const uint16_t tags[] = { 0x88a8, 7, 0x8100, 42 };
	uint8_t f[128] = { 0 }, out[128];
	size_t n;

	check_arp_reply(NULL, 0);
	check_arp_reply(tag, 1);
	check_arp_reply(tags, 2);

	n = arp_frame(f, bcast_mac, NULL, 0, 1, 0x0a000003);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_ARP_OTHER);
	assert_int_equal(sl_net_build_arp_reply(&ifc, f, (uint32_t)n, out, sizeof(out)), 0);
	n = arp_frame(f, our_mac, NULL, 0, 2, OUR_IP); /* a reply to us */
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_ARP_OTHER);
	n = arp_frame(f, bcast_mac, NULL, 0, 1, OUR_IP);
	f[14 + 4] = 8; /* hardware address length */
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_ARP_OTHER);
	n = arp_frame(f, bcast_mac, NULL, 0, 1, OUR_IP);
	assert_int_equal(classify(f, n - 1, NULL), SL_NET_DROP_RUNT);
	n = arp_frame(f, other_mac, NULL, 0, 1, OUR_IP);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NOT_FOR_US);
	n = arp_frame(f, bcast_mac, NULL, 0, 1, OUR_IP);
	check_truncations(f, n, 14);
}

#define ICMP_DATA_LEN 33 /* odd on purpose: the checksum must handle it */

static size_t
icmp_request(uint8_t *f, const uint16_t *tags, int nb_tags)
{
	size_t l3 = put_eth(f, our_mac, peer_mac, tags, nb_tags, 0x0800);
	size_t l4 = l3 + put_ipv4(f + l3, 5, 1, PEER_IP, OUR_IP, 8 + ICMP_DATA_LEN, 0);
	uint8_t *m = f + l4;

	f[l3 + 1] = 0x10; /* TOS, kept in the reply; fix the IP checksum again */
	put16(f + l3 + 10, 0);
	put16(f + l3 + 10, (uint16_t)~sum16(f + l3, 20, 0));
	m[0] = 8;
	m[1] = 0;
	put16(m + 2, 0);
	put16(m + 4, 0xbeef); /* identifier */
	put16(m + 6, 7);      /* sequence */
	for (int i = 0; i < ICMP_DATA_LEN; i++)
		m[8 + i] = (uint8_t)(i * 7 + 1);
	put16(m + 2, (uint16_t)~sum16(m, 8 + ICMP_DATA_LEN, 0));
	return l4 + 8 + ICMP_DATA_LEN;
}

static void
check_icmp_reply(const uint16_t *tags, int nb_tags)
{
	uint8_t req[256], rep[256], expect[256];
	struct sl_net_pkt p;
	size_t n = icmp_request(req, tags, nb_tags);
	size_t l3 = n - 28 - ICMP_DATA_LEN;
	uint8_t *ip = expect + l3, *m = expect + l3 + 20;
	uint32_t len;

	assert_int_equal(classify(req, n, &p), SL_NET_ICMP_ECHO);
	assert_int_equal(p.payload_len, ICMP_DATA_LEN);
	assert_ptr_equal(p.payload, req + l3 + 28);

	memset(rep, 0xaa, sizeof(rep));
	len = sl_net_build_icmp_echo_reply(&ifc, req, (uint32_t)n, rep, sizeof(rep));
	assert_int_equal(len, n);

	put_eth(expect, peer_mac, our_mac, tags, nb_tags, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[1] = 0x10;
	put16(ip + 2, 28 + ICMP_DATA_LEN);
	put16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = 1;
	put32(ip + 12, OUR_IP);
	put32(ip + 16, PEER_IP);
	put16(ip + 10, (uint16_t)~sum16(ip, 20, 0));
	memcpy(m, req + l3 + 20, 8 + ICMP_DATA_LEN);
	m[0] = 0;
	put16(m + 2, 0);
	put16(m + 2, (uint16_t)~sum16(m, 8 + ICMP_DATA_LEN, 0));
	assert_memory_equal(rep, expect, len);

	/* Checked independently of the expected bytes as well. */
	assert_int_equal(sum16(rep + l3, 20, 0), 0xffff);
	assert_int_equal(sum16(rep + l3 + 20, 8 + ICMP_DATA_LEN, 0), 0xffff);
	assert_int_equal(rep[l3 + 20], 0);
	assert_int_equal(get16(rep + l3 + 24), 0xbeef);

	assert_int_equal(sl_net_build_icmp_echo_reply(&ifc, req, (uint32_t)n, rep, len - 1), 0);
}

static void
test_icmp_echo(void **state)
{
	static const uint16_t tag[] = { 0x8100, 0x0fff };
	uint8_t f[256], out[256];
	size_t n;

	check_icmp_reply(NULL, 0);
	check_icmp_reply(tag, 1);

	n = icmp_request(f, NULL, 0);
	f[n - 1] ^= 0x40;
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_ICMP);
	assert_int_equal(sl_net_build_icmp_echo_reply(&ifc, f, (uint32_t)n, out, sizeof(out)), 0);
	n = udp_frame(f, NULL);
	assert_int_equal(sl_net_build_icmp_echo_reply(&ifc, f, (uint32_t)n, out, sizeof(out)), 0);
	n = icmp_request(f, NULL, 0);
	check_truncations(f, n, 14);
}

/* The built frame is checked with this file's checksum code and then fed back
 * through sl_net_classify() as if it had come from the peer: to make that
 * work, the receiving interface swaps roles with ours. */
static void
check_udp_round_trip(bool vlan, const uint8_t *payload, uint32_t payload_len)
{
	static uint8_t out[2048];
	struct rte_ether_addr dst;
	struct sl_net_iface peer = { 0 };
	struct sl_net_pkt p;
	uint32_t len, l3 = vlan ? 18 : 14;
	uint32_t want = l3 + 28 + payload_len;

	memcpy(dst.addr_bytes, peer_mac, 6);
	memset(out, 0xaa, sizeof(out));
	len = sl_net_build_udp(&ifc, &dst, htonl(PEER_IP), PEER_PORT, vlan, 0x2005, payload,
			       payload_len, out, sizeof(out));
	assert_int_equal(len, want < 60 ? 60 : want);
	assert_memory_equal(out, peer_mac, 6);
	assert_memory_equal(out + 6, our_mac, 6);
	if (vlan) {
		assert_int_equal(get16(out + 12), 0x8100);
		assert_int_equal(get16(out + 14), 0x2005);
	}
	assert_int_equal(get16(out + l3 - 2), 0x0800);
	assert_int_equal(out[l3], 0x45);
	assert_int_equal(get16(out + l3 + 2), 28 + payload_len);
	assert_int_equal(get16(out + l3 + 6), 0x4000);
	assert_int_equal(out[l3 + 8], 64);
	assert_int_equal(out[l3 + 9], 17);
	assert_int_equal(sum16(out + l3, 20, 0), 0xffff);
	assert_int_not_equal(get16(out + l3 + 26), 0);
	assert_int_equal(sum16(out + l3 + 20, 8 + payload_len,
			       pseudo_sum(OUR_IP, PEER_IP, 17, (uint16_t)(8 + payload_len))),
			 0xffff);
	for (uint32_t i = want; i < len; i++)
		assert_int_equal(out[i], 0);

	memcpy(peer.mac.addr_bytes, peer_mac, 6);
	peer.ip = htonl(PEER_IP);
	peer.udp_port = PEER_PORT;
	assert_int_equal(sl_net_classify(&peer, out, len, 0, &p), SL_NET_UDP);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.vlan, vlan);
	if (vlan)
		assert_int_equal(p.vlan_tci, 0x2005);
	assert_int_equal(p.src_ip, htonl(OUR_IP));
	assert_int_equal(p.dst_ip, htonl(PEER_IP));
	assert_int_equal(p.src_port, OUR_PORT);
	assert_int_equal(p.dst_port, PEER_PORT);
	assert_int_equal(p.payload_len, payload_len);
	assert_int_equal(p.l4_off, l3 + 20);
	if (payload_len)
		assert_memory_equal(p.payload, payload, payload_len);
	assert_memory_equal(p.src_mac.addr_bytes, our_mac, 6);

	assert_int_equal(sl_net_build_udp(&ifc, &dst, htonl(PEER_IP), PEER_PORT, vlan, 0x2005,
					  payload, payload_len, out, len - 1),
			 0);
}

static void
test_udp_build(void **state)
{
	static const uint32_t sizes[] = { 0, 1, 5, 17, 18, 100, 1471, 1472, 2000 - 46 };
	static uint8_t payload[2048];
	struct rte_ether_addr dst = { { 0 } };
	uint8_t out[64];

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 5);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		check_udp_round_trip(false, payload, sizes[i]);
		check_udp_round_trip(true, payload, sizes[i]);
	}
	assert_int_equal(sl_net_build_udp(&ifc, &dst, 1, 1, false, 0, payload,
					  SL_NET_UDP_MAX_PAYLOAD + 1, out, UINT32_MAX),
			 0);
}

/* The IPv6 pseudo-header of RFC 8200 section 8.1, summed. */
static uint16_t
pseudo6_sum(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t l4_len)
{
	uint8_t ph[40] = { 0 };

	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	put32(ph + 32, l4_len);
	ph[39] = proto;
	return sum16(ph, sizeof(ph), 0);
}

#define NO_CKSUM SIZE_MAX

struct v6_opts {
	const uint8_t *dst_mac; /* default: ours */
	const uint16_t *tags;
	int nb_tags;
	const uint8_t *src, *dst; /* default: peer_ip6 to our_ip6 */
	uint8_t hop_limit;        /* default: 64, or 255 for NDP */
	uint8_t tclass;
	const uint8_t *ext; /* extension header types in order, each built 8 bytes long */
	int nb_ext;
	uint16_t dst_port; /* UDP only; default ours */
	bool zero_cksum, bad_cksum;
};

/* An IPv6 frame around an L4 message whose checksum, at @cksum_off in it, is
 * filled in (then zeroed or spoiled if @o says so). */
static size_t
v6_frame(uint8_t *f, const struct v6_opts *o, uint8_t proto, const uint8_t *l4, size_t l4_len,
	 size_t cksum_off)
{
	static const struct v6_opts none;
	const uint8_t *src, *dst;
	size_t l3, off;
	uint8_t *ip, *m;

	if (o == NULL)
		o = &none;
	src = o->src ? o->src : peer_ip6;
	dst = o->dst ? o->dst : our_ip6;
	l3 = put_eth(f, o->dst_mac ? o->dst_mac : our_mac, peer_mac, o->tags, o->nb_tags, 0x86dd);
	ip = f + l3;
	put32(ip, 0x60000000u | (uint32_t)o->tclass << 20 | 0x12345); /* with a flow label */
	put16(ip + 4, (uint16_t)(8 * o->nb_ext + l4_len));
	ip[6] = o->nb_ext ? o->ext[0] : proto;
	ip[7] = o->hop_limit ? o->hop_limit : 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	off = l3 + 40;
	for (int i = 0; i < o->nb_ext; i++) {
		uint8_t *e = f + off;

		memset(e, 0, 8);
		e[0] = i + 1 < o->nb_ext ? o->ext[i + 1] : proto;
		if (o->ext[i] == 0 || o->ext[i] == 60) {
			e[2] = 1; /* PadN over the 4 bytes left */
			e[3] = 4;
		} else if (o->ext[i] == 44) {
			put16(e + 2, 0x0001); /* offset 0, more fragments */
			put32(e + 4, 0xdeadbeef);
		}
		off += 8;
	}
	m = f + off;
	memcpy(m, l4, l4_len);
	if (cksum_off != NO_CKSUM) {
		uint16_t c;

		put16(m + cksum_off, 0);
		c = (uint16_t)~sum16(m, l4_len, pseudo6_sum(src, dst, proto, (uint32_t)l4_len));
		if (proto == 17 && c == 0)
			c = 0xffff;
		if (o->zero_cksum)
			c = 0;
		if (o->bad_cksum)
			c ^= 0x0101;
		put16(m + cksum_off, c);
	}
	return off + l4_len;
}

/* A neighbour solicitation for @target, with a source link-layer address
 * option if @slla. */
static size_t
ns_frame(uint8_t *f, struct v6_opts o, const uint8_t *target, bool slla)
{
	uint8_t m[32] = { 0 };

	m[0] = 135;
	memcpy(m + 8, target, 16);
	m[24] = 1;
	m[25] = 1;
	memcpy(m + 26, peer_mac, 6);
	if (o.hop_limit == 0)
		o.hop_limit = 255;
	return v6_frame(f, &o, 58, m, slla ? 32 : 24, 2);
}

static size_t
echo6_frame(uint8_t *f, const struct v6_opts *o)
{
	uint8_t m[8 + ICMP_DATA_LEN];

	m[0] = 128;
	m[1] = 0;
	put16(m + 2, 0);
	put16(m + 4, 0xbeef);
	put16(m + 6, 9);
	for (int i = 0; i < ICMP_DATA_LEN; i++)
		m[8 + i] = (uint8_t)(i * 5 + 3);
	return v6_frame(f, o, 58, m, sizeof(m), 2);
}

static size_t
udp6_frame(uint8_t *f, const struct v6_opts *o)
{
	uint8_t m[8 + TEST_PAYLOAD_LEN];

	put16(m, PEER_PORT);
	put16(m + 2, o && o->dst_port ? o->dst_port : OUR_PORT);
	put16(m + 4, sizeof(m));
	put16(m + 6, 0);
	memcpy(m + 8, test_payload, TEST_PAYLOAD_LEN);
	return v6_frame(f, o, 17, m, sizeof(m), 6);
}

/* An ICMPv6 message of @len bytes of type @type, otherwise zero. */
static size_t
icmp6_frame(uint8_t *f, const struct v6_opts *o, uint8_t type, size_t len)
{
	uint8_t m[64] = { 0 };

	m[0] = type;
	return v6_frame(f, o, 58, m, len, 2);
}

static void
peer_iface(struct sl_net_iface *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->mac.addr_bytes, peer_mac, 6);
	p->ip = htonl(PEER_IP);
	memcpy(p->ip6, peer_ip6, 16);
	p->udp_port = PEER_PORT;
}

static enum sl_net_verdict
classify_flags(const uint8_t *f, size_t len, uint32_t flags)
{
	struct sl_net_pkt p;

	return sl_net_classify(&ifc, f, (uint32_t)len, flags, &p);
}

static void
check_na(const uint8_t *req, size_t req_len, const uint16_t *tags, int nb_tags)
{
	uint8_t rep[256], expect[256];
	struct sl_net_iface peer;
	struct sl_net_pkt p;
	size_t l3 = 14 + 4 * (size_t)nb_tags;
	uint8_t *ip = expect + l3, *m = expect + l3 + 40;
	uint32_t len;

	memset(rep, 0xaa, sizeof(rep));
	len = sl_net_build_ndp_advert(&ifc, req, (uint32_t)req_len, rep, sizeof(rep));
	assert_int_equal(len, l3 + 40 + 32);

	memset(expect, 0, sizeof(expect));
	put_eth(expect, peer_mac, our_mac, tags, nb_tags, 0x86dd);
	put32(ip, 0x60000000);
	put16(ip + 4, 32);
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, our_ip6, 16);
	memcpy(ip + 24, peer_ip6, 16);
	m[0] = 136;
	m[4] = 0x60; /* solicited, override */
	memcpy(m + 8, our_ip6, 16);
	m[24] = 2; /* target link-layer address */
	m[25] = 1;
	memcpy(m + 26, our_mac, 6);
	put16(m + 2, (uint16_t)~sum16(m, 32, pseudo6_sum(our_ip6, peer_ip6, 58, 32)));
	assert_memory_equal(rep, expect, len);
	/* The checksum, recomputed from the built frame's own addresses. */
	assert_int_equal(sum16(rep + l3 + 40, 32, pseudo6_sum(rep + l3 + 8, rep + l3 + 24, 58, 32)),
			 0xffff);

	/* The peer parses it to the end: an advert, which it does not serve. */
	peer_iface(&peer);
	assert_int_equal(sl_net_classify(&peer, rep, len, 0, &p), SL_NET_DROP_NDP_OTHER);
	assert_int_equal(p.family, 6);
	assert_memory_equal(p.src_ip6, our_ip6, 16);
	assert_memory_equal(p.dst_ip6, peer_ip6, 16);
	assert_int_equal(p.vlan, nb_tags > 0);

	assert_int_equal(sl_net_build_ndp_advert(&ifc, req, (uint32_t)req_len, rep, len - 1), 0);
}

static void
test_ndp_solicit(void **state)
{
	static const uint16_t tag[] = { 0x8100, 0x0123 };
	static const uint16_t tags[] = { 0x88a8, 7, 0x8100, 0x0123 };
	static const struct {
		const uint16_t *tags;
		int nb;
	} cases[] = { { NULL, 0 }, { tag, 1 }, { tags, 2 } };
	uint8_t f[256];
	struct sl_net_pkt p;
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t l3 = 14 + 4 * (size_t)cases[i].nb;

		/* Unicast, as to confirm reachability. */
		n = ns_frame(f, (struct v6_opts){ .tags = cases[i].tags, .nb_tags = cases[i].nb },
			     our_ip6, true);
		assert_int_equal(classify(f, n, &p), SL_NET_NDP_SOLICIT);
		assert_int_equal(p.family, 6);
		assert_int_equal(p.vlan, cases[i].nb > 0);
		if (cases[i].nb)
			assert_int_equal(p.vlan_tci, 0x0123);
		assert_int_equal(p.l3_off, l3);
		assert_int_equal(p.l4_off, l3 + 40);
		assert_memory_equal(p.src_ip6, peer_ip6, 16);
		assert_memory_equal(p.dst_ip6, our_ip6, 16);
		assert_memory_equal(p.src_mac.addr_bytes, peer_mac, 6);
		check_na(f, n, cases[i].tags, cases[i].nb);

		/* To our solicited-node group, as for address resolution. */
		n = ns_frame(f,
			     (struct v6_opts){ .dst_mac = solicited_mac,
					       .dst = solicited_ip6,
					       .tags = cases[i].tags,
					       .nb_tags = cases[i].nb },
			     our_ip6, true);
		assert_int_equal(classify(f, n, &p), SL_NET_NDP_SOLICIT);
		assert_memory_equal(p.dst_ip6, solicited_ip6, 16);
		check_na(f, n, cases[i].tags, cases[i].nb);

		/* Duplicate address detection: from ::, not answered. */
		n = ns_frame(f,
			     (struct v6_opts){ .dst_mac = solicited_mac,
					       .src = unspec_ip6,
					       .dst = solicited_ip6,
					       .tags = cases[i].tags,
					       .nb_tags = cases[i].nb },
			     our_ip6, false);
		assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
		assert_int_equal(sl_net_build_ndp_advert(&ifc, f, (uint32_t)n, f + 128, 128), 0);

		/* For another target. */
		n = ns_frame(f,
			     (struct v6_opts){ .dst_mac = all_nodes_mac,
					       .dst = other_group_ip6,
					       .tags = cases[i].tags,
					       .nb_tags = cases[i].nb },
			     other_ip6, true);
		assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	}

	/* Without the optional source link-layer address option; padded. */
	n = ns_frame(f, (struct v6_opts){ 0 }, our_ip6, false);
	memset(f + n, 0, 10);
	assert_int_equal(classify(f, n + 10, NULL), SL_NET_NDP_SOLICIT);
	check_na(f, n + 10, NULL, 0);

	/* Our target, but to another group, or to all nodes. */
	n = ns_frame(f, (struct v6_opts){ .dst_mac = all_nodes_mac, .dst = other_group_ip6 },
		     our_ip6, true);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	n = ns_frame(f, (struct v6_opts){ .dst_mac = all_nodes_mac, .dst = all_nodes_ip6 }, our_ip6,
		     true);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	/* Forwarded by a router. */
	n = ns_frame(f, (struct v6_opts){ .hop_limit = 254 }, our_ip6, true);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	/* Code not 0 (checksum still right). */
	n = ns_frame(f, (struct v6_opts){ 0 }, our_ip6, true);
	f[14 + 40 + 1] = 1;
	put16(f + 14 + 40 + 2, (uint16_t)(get16(f + 14 + 40 + 2) - 1));
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	/* An option of length 0. */
	n = ns_frame(f, (struct v6_opts){ 0 }, our_ip6, true);
	f[14 + 40 + 25] = 0;
	put16(f + 14 + 40 + 2, (uint16_t)(get16(f + 14 + 40 + 2) + 1));
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	/* An option longer than the message. */
	n = ns_frame(f, (struct v6_opts){ 0 }, our_ip6, true);
	f[14 + 40 + 25] = 2;
	put16(f + 14 + 40 + 2, (uint16_t)(get16(f + 14 + 40 + 2) - 1));
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	/* Bad checksum; truncated message with a good one. */
	n = ns_frame(f, (struct v6_opts){ .bad_cksum = true }, our_ip6, true);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_ICMP);
	{
		uint8_t m[20] = { 135 };

		n = v6_frame(f, &(struct v6_opts){ .hop_limit = 255 }, 58, m, sizeof(m), 2);
		assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_ICMP);
	}
	/* To another host's MAC, or to an IPv4 multicast MAC. */
	n = ns_frame(f, (struct v6_opts){ .dst_mac = other_mac }, our_ip6, true);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NOT_FOR_US);
	n = ns_frame(f, (struct v6_opts){ .dst_mac = v4_mcast_mac }, our_ip6, true);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NOT_FOR_US);
	/* The broadcast MAC is accepted, as for IPv4. */
	n = ns_frame(f, (struct v6_opts){ .dst_mac = bcast_mac }, our_ip6, true);
	assert_int_equal(classify(f, n, NULL), SL_NET_NDP_SOLICIT);
}

static void
test_ndp_other(void **state)
{
	static const uint8_t hbh[] = { 0 };
	uint8_t f[256];
	size_t n;

	/* Router advertisement to all nodes. */
	n = icmp6_frame(f,
			&(struct v6_opts){
				.dst_mac = all_nodes_mac, .dst = all_nodes_ip6, .hop_limit = 255 },
			134, 16);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	/* Router solicitation, neighbour advertisement, redirect, echo reply. */
	n = icmp6_frame(f, &(struct v6_opts){ .hop_limit = 255 }, 133, 8);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	n = icmp6_frame(f, &(struct v6_opts){ .hop_limit = 255 }, 136, 24);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	n = icmp6_frame(f, &(struct v6_opts){ .hop_limit = 255 }, 137, 40);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	n = icmp6_frame(f, NULL, 129, 8);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	/* MLDv2 report, behind a Hop-by-Hop header as always, from ::. */
	n = icmp6_frame(f,
			&(struct v6_opts){ .dst_mac = all_nodes_mac,
					   .src = unspec_ip6,
					   .dst = mld_routers_ip6,
					   .hop_limit = 1,
					   .ext = hbh,
					   .nb_ext = 1 },
			143, 8);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	/* Echo request to a group: not answered. */
	n = echo6_frame(f, &(struct v6_opts){ .dst_mac = all_nodes_mac, .dst = all_nodes_ip6 });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NDP_OTHER);
	/* ICMPv6 shorter than its 4-byte header. */
	n = icmp6_frame(f, NULL, 1, 3);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_ICMP);
}

static void
check_echo6_reply(const struct v6_opts *o, size_t l3)
{
	uint8_t req[256], rep[256], expect[256];
	struct sl_net_iface peer;
	struct sl_net_pkt p;
	size_t n = echo6_frame(req, o);
	size_t icmp_off = n - 8 - ICMP_DATA_LEN;
	uint8_t *ip = expect + l3, *m = expect + l3 + 40;
	uint32_t len;

	assert_int_equal(classify(req, n, &p), SL_NET_ICMP6_ECHO);
	assert_int_equal(p.family, 6);
	assert_int_equal(p.l3_off, l3);
	assert_int_equal(p.l4_off, icmp_off);
	assert_int_equal(p.payload_len, ICMP_DATA_LEN);
	assert_ptr_equal(p.payload, req + icmp_off + 8);

	memset(rep, 0xaa, sizeof(rep));
	len = sl_net_build_icmp6_echo_reply(&ifc, req, (uint32_t)n, rep, sizeof(rep));
	assert_int_equal(len, l3 + 40 + 8 + ICMP_DATA_LEN);

	put_eth(expect, peer_mac, our_mac, o->tags, o->nb_tags, 0x86dd);
	put32(ip, 0x60000000u | (uint32_t)o->tclass << 20);
	put16(ip + 4, 8 + ICMP_DATA_LEN);
	ip[6] = 58;
	ip[7] = 64;
	memcpy(ip + 8, our_ip6, 16);
	memcpy(ip + 24, peer_ip6, 16);
	memcpy(m, req + icmp_off, 8 + ICMP_DATA_LEN);
	m[0] = 129;
	put16(m + 2, 0);
	put16(m + 2, (uint16_t)~sum16(m, 8 + ICMP_DATA_LEN,
				      pseudo6_sum(our_ip6, peer_ip6, 58, 8 + ICMP_DATA_LEN)));
	assert_memory_equal(rep, expect, len);
	assert_int_equal(sum16(rep + l3 + 40, 8 + ICMP_DATA_LEN,
			       pseudo6_sum(rep + l3 + 8, rep + l3 + 24, 58, 8 + ICMP_DATA_LEN)),
			 0xffff);

	peer_iface(&peer);
	assert_int_equal(sl_net_classify(&peer, rep, len, 0, &p), SL_NET_DROP_NDP_OTHER);
	assert_int_equal(sl_net_build_icmp6_echo_reply(&ifc, req, (uint32_t)n, rep, len - 1), 0);
}

static void
test_icmp6_echo(void **state)
{
	static const uint16_t tag[] = { 0x8100, 0x0fff };
	static const uint16_t tags[] = { 0x88a8, 1, 0x8100, 2 };
	static const uint8_t dstopts[] = { 60 };
	uint8_t f[256], out[256];
	size_t n;

	check_echo6_reply(&(struct v6_opts){ 0 }, 14);
	check_echo6_reply(&(struct v6_opts){ .tags = tag, .nb_tags = 1, .tclass = 0xb8 }, 18);
	check_echo6_reply(&(struct v6_opts){ .tags = tags, .nb_tags = 2 }, 22);
	/* Extension headers of the request are not echoed. */
	check_echo6_reply(&(struct v6_opts){ .ext = dstopts, .nb_ext = 1 }, 14);

	n = echo6_frame(f, &(struct v6_opts){ .bad_cksum = true });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_ICMP);
	assert_int_equal(sl_net_build_icmp6_echo_reply(&ifc, f, (uint32_t)n, out, sizeof(out)), 0);
	n = echo6_frame(f, NULL);
	f[14 + 40 + 1] = 1; /* code */
	put16(f + 14 + 40 + 2, (uint16_t)(get16(f + 14 + 40 + 2) - 1));
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_ICMP);
	{
		uint8_t m[6] = { 128 };

		n = v6_frame(f, NULL, 58, m, sizeof(m), 2);
		assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_ICMP);
	}
	n = echo6_frame(f, &(struct v6_opts){ .src = unspec_ip6 });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
	n = echo6_frame(f, &(struct v6_opts){ .dst = other_ip6 });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NOT_FOR_US);
	n = udp6_frame(f, NULL);
	assert_int_equal(sl_net_build_icmp6_echo_reply(&ifc, f, (uint32_t)n, out, sizeof(out)), 0);
	assert_int_equal(sl_net_build_ndp_advert(&ifc, f, (uint32_t)n, out, sizeof(out)), 0);
}

static void
check_udp6_fields(const uint8_t *f, const struct sl_net_pkt *p, uint16_t l3_off, uint16_t l4_off)
{
	assert_int_equal(p->family, 6);
	assert_int_equal(p->l3_off, l3_off);
	assert_int_equal(p->l4_off, l4_off);
	assert_memory_equal(p->src_ip6, peer_ip6, 16);
	assert_memory_equal(p->dst_ip6, our_ip6, 16);
	assert_int_equal(p->src_port, PEER_PORT);
	assert_int_equal(p->dst_port, OUR_PORT);
	assert_ptr_equal(p->payload, f + l4_off + 8);
	assert_int_equal(p->payload_len, TEST_PAYLOAD_LEN);
	assert_memory_equal(p->payload, test_payload, TEST_PAYLOAD_LEN);
	assert_memory_equal(p->src_mac.addr_bytes, peer_mac, 6);
}

static void
test_udp6(void **state)
{
	static const uint16_t tag[] = { 0x8100, 0x2064 };
	static const uint16_t tags[] = { 0x88a8, 100, 0x8100, 0x3000 | 200 };
	uint8_t f[256];
	struct sl_net_pkt p;
	size_t n;

	n = udp6_frame(f, NULL);
	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	assert_false(p.vlan);
	check_udp6_fields(f, &p, 14, 54);
	memset(f + n, 0, 8); /* padding after the payload length is ignored */
	assert_int_equal(classify(f, n + 8, &p), SL_NET_UDP);
	assert_int_equal(p.payload_len, TEST_PAYLOAD_LEN);

	n = udp6_frame(f, &(struct v6_opts){ .tags = tag, .nb_tags = 1 });
	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	assert_true(p.vlan);
	assert_int_equal(p.vlan_tci, 0x2064);
	check_udp6_fields(f, &p, 18, 58);
	n = udp6_frame(f, &(struct v6_opts){ .tags = tags, .nb_tags = 2 });
	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	assert_int_equal(p.vlan_tci, 0x3000 | 200);
	check_udp6_fields(f, &p, 22, 62);

	/* The checksum is mandatory over IPv6. */
	n = udp6_frame(f, &(struct v6_opts){ .zero_cksum = true });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_UDP_CSUM);
	n = udp6_frame(f, &(struct v6_opts){ .bad_cksum = true });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_UDP_CSUM);
	n = udp6_frame(f, NULL);
	f[n - 1] ^= 0x20;
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_UDP_CSUM);

	n = udp6_frame(f, &(struct v6_opts){ .dst_port = OUR_PORT + 1 });
	assert_int_equal(classify(f, n, &p), SL_NET_DROP_WRONG_PORT);
	assert_int_equal(p.dst_port, OUR_PORT + 1);
	n = udp6_frame(f, NULL);
	put16(f + 54 + 4, (uint16_t)(8 + TEST_PAYLOAD_LEN - 1));
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_UDP);
	put16(f + 54 + 4, (uint16_t)(8 + TEST_PAYLOAD_LEN + 1));
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_UDP);

	n = udp6_frame(f, &(struct v6_opts){ .dst = other_ip6 });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NOT_FOR_US);
	n = udp6_frame(f, &(struct v6_opts){ .dst_mac = all_nodes_mac, .dst = all_nodes_ip6 });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NOT_FOR_US);
	n = udp6_frame(f, &(struct v6_opts){ .dst_mac = other_mac });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NOT_FOR_US);
	n = udp6_frame(f, &(struct v6_opts){ .src = unspec_ip6 });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
	n = udp6_frame(f, &(struct v6_opts){ .src = all_nodes_ip6 });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
	/* To our MAC over a 33:33 multicast one is fine too. */
	n = udp6_frame(f, &(struct v6_opts){ .dst_mac = all_nodes_mac });
	assert_int_equal(classify(f, n, NULL), SL_NET_UDP);
}

/* Gives the untagged IPv4 frame @p f (UDP or ICMP) source @p src, checksums made right again. */
static void
set_src_ip(uint8_t *f, uint32_t src)
{
	uint8_t *ip = f + 14, *l4 = ip + 20;
	uint16_t l4_len = (uint16_t)(get16(ip + 2) - 20), c;
	uint32_t dst = (uint32_t)get16(ip + 16) << 16 | get16(ip + 18);

	put32(ip + 12, src);
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~sum16(ip, 20, 0));
	if (ip[9] != 17)
		return;
	put16(l4 + 6, 0);
	c = (uint16_t)~sum16(l4, l4_len, pseudo_sum(src, dst, 17, l4_len));
	put16(l4 + 6, c == 0 ? 0xffff : c);
}

/*
 * A source no host may have (RFC 1122 3.2.1.3: "this network", loopback,
 * multicast, limited broadcast) is a bad header, as a multicast source is
 * over IPv6: sluice would otherwise answer a datagram or a ping to a group or
 * to everyone (tests/fuzz/fuzz_net checks this too).
 */
static void
test_bad_source4(void **state)
{
	static const uint32_t bad[] = { 0x00000000, 0x00010203, 0x7f000001,
					0xe0000001, 0xeffffffa, 0xffffffff };
	static const uint32_t good[] = { PEER_IP, 0xf0000001, 0x01000001, 0xdfffffff };
	uint8_t f[256], out[256];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = udp_frame(f, NULL);
		set_src_ip(f, bad[i]);
		assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
		n = icmp_request(f, NULL, 0);
		set_src_ip(f, bad[i]);
		assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
		assert_int_equal(
			sl_net_build_icmp_echo_reply(&ifc, f, (uint32_t)n, out, sizeof(out)), 0);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = udp_frame(f, NULL);
		set_src_ip(f, good[i]);
		assert_int_equal(classify(f, n, NULL), SL_NET_UDP);
		n = icmp_request(f, NULL, 0);
		set_src_ip(f, good[i]);
		assert_int_equal(classify(f, n, NULL), SL_NET_ICMP_ECHO);
	}
	/* Not ours first: a DHCP discover (0.0.0.0 to everyone) is just not for us. */
	n = udp_frame(f, &(struct udp_opts){ .dst_mac = bcast_mac, .dst_ip = 0xffffffff });
	set_src_ip(f, 0);
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NOT_FOR_US);
}

/*
 * A group source MAC (the I/G bit set: multicast, or the broadcast address) is
 * no station's (IEEE 802): dropped, whatever the frame, so nothing is answered
 * to a group. The same frames from a unicast source are served.
 */
static void
test_bad_src_mac(void **state)
{
	static const uint8_t groups[][6] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
					     { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },
					     { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
					     { 0x03, 0x00, 0x00, 0x00, 0x00, 0x00 } };
	uint8_t f[256];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		n = udp_frame(f, NULL);
		assert_int_equal(classify(f, n, NULL), SL_NET_UDP);
		memcpy(f + 6, groups[i], 6);
		assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_SRC_MAC);
		n = icmp_request(f, NULL, 0);
		memcpy(f + 6, groups[i], 6);
		assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_SRC_MAC);
		n = arp_frame(f, bcast_mac, NULL, 0, 1, OUR_IP);
		assert_int_equal(classify(f, n, NULL), SL_NET_ARP_REQUEST);
		memcpy(f + 6, groups[i], 6);
		assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_SRC_MAC);
		n = echo6_frame(f, &(struct v6_opts){ 0 });
		assert_int_equal(classify(f, n, NULL), SL_NET_ICMP6_ECHO);
		memcpy(f + 6, groups[i], 6);
		assert_int_equal(classify(f, n, NULL), SL_NET_DROP_BAD_SRC_MAC);
	}
	/* The locally administered bit (0x02) is no group bit. */
	n = udp_frame(f, NULL);
	f[6] = 0x02;
	assert_int_equal(classify(f, n, NULL), SL_NET_UDP);
}

/* What the NIC verified changes nothing about where an answer would go. */
static void
test_bad_source4_flags(void **state)
{
	const uint32_t good = SL_NET_F_IP_CSUM_GOOD | SL_NET_F_L4_CSUM_GOOD;
	struct sl_net_pkt p;
	uint8_t f[256];
	size_t n;

	n = udp_frame(f, NULL);
	set_src_ip(f, 0xffffffff);
	assert_int_equal(sl_net_classify(&ifc, f, (uint32_t)n, good, &p),
			 SL_NET_DROP_BAD_IP_HEADER);
	n = icmp_request(f, NULL, 0);
	set_src_ip(f, 0xe0000001);
	assert_int_equal(sl_net_classify(&ifc, f, (uint32_t)n, good, &p),
			 SL_NET_DROP_BAD_IP_HEADER);
}

static void
test_ipv6_headers(void **state)
{
	static const uint8_t hbh[] = { 0 };
	static const uint8_t hbh_dst[] = { 0, 60 };
	static const uint8_t dst_hbh[] = { 60, 0 };
	static const uint8_t frag[] = { 44 };
	static const uint8_t hbh_frag[] = { 0, 44 };
	static const uint8_t routing[] = { 43 };
	static const uint16_t tags[] = { 0x88a8, 1, 0x8100, 2 };
	uint8_t f[256], g[256];
	struct sl_net_pkt p;
	size_t n;

	n = udp6_frame(f, &(struct v6_opts){ .ext = hbh, .nb_ext = 1 });
	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	check_udp6_fields(f, &p, 14, 14 + 40 + 8);
	n = udp6_frame(
		f, &(struct v6_opts){ .ext = hbh_dst, .nb_ext = 2, .tags = tags, .nb_tags = 2 });
	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	check_udp6_fields(f, &p, 22, 22 + 40 + 16);
	n = echo6_frame(f, &(struct v6_opts){ .ext = hbh, .nb_ext = 1 });
	assert_int_equal(classify(f, n, NULL), SL_NET_ICMP6_ECHO);
	n = ns_frame(f, (struct v6_opts){ .ext = hbh_dst, .nb_ext = 2 }, our_ip6, true);
	assert_int_equal(classify(f, n, NULL), SL_NET_NDP_SOLICIT);

	/* A Hop-by-Hop header anywhere but first. */
	n = udp6_frame(f, &(struct v6_opts){ .ext = dst_hbh, .nb_ext = 2 });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_UNSUPPORTED_PROTO);
	n = udp6_frame(f, &(struct v6_opts){ .ext = frag, .nb_ext = 1 });
	assert_int_equal(classify(f, n, &p), SL_NET_DROP_FRAGMENT);
	n = udp6_frame(
		f, &(struct v6_opts){ .ext = hbh_frag, .nb_ext = 2, .tags = tags, .nb_tags = 2 });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_FRAGMENT);
	n = udp6_frame(f, &(struct v6_opts){ .ext = routing, .nb_ext = 1 });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_UNSUPPORTED_PROTO);
	/* Fragments and the rest to another address are not for us. */
	n = udp6_frame(f, &(struct v6_opts){ .ext = frag, .nb_ext = 1, .dst = other_ip6 });
	assert_int_equal(classify(f, n, NULL), SL_NET_DROP_NOT_FOR_US);

	/* An extension header longer than the payload, or cut short by it. */
	n = udp6_frame(f, &(struct v6_opts){ .ext = hbh, .nb_ext = 1 });
	memcpy(g, f, n);
	g[14 + 40 + 1] = 4; /* 40 bytes */
	assert_int_equal(classify(g, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
	memcpy(g, f, n);
	put16(g + 14 + 4, 1); /* only one byte of the header inside the payload */
	assert_int_equal(classify(g, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
	memcpy(g, f, n);
	put16(g + 14 + 4, 8); /* header fits, nothing after it */
	assert_int_equal(classify(g, n, NULL), SL_NET_DROP_BAD_UDP);

	/* TCP, no next header, ESP. */
	n = udp6_frame(f, NULL);
	for (int proto = 0; proto < 3; proto++) {
		static const uint8_t others[] = { 6, 59, 50 };

		memcpy(g, f, n);
		g[14 + 6] = others[proto];
		assert_int_equal(classify(g, n, NULL), SL_NET_DROP_UNSUPPORTED_PROTO);
	}
	/* Version 4 in an IPv6 ethertype; payload length past the frame. */
	memcpy(g, f, n);
	g[14] = 0x45;
	assert_int_equal(classify(g, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
	memcpy(g, f, n);
	put16(g + 14 + 4, (uint16_t)(n - 54 + 1));
	assert_int_equal(classify(g, n, NULL), SL_NET_DROP_BAD_IP_HEADER);
	assert_int_equal(classify(f, 14 + 39, NULL), SL_NET_DROP_RUNT);
	assert_int_equal(classify(f, 14 + 40, NULL), SL_NET_DROP_BAD_IP_HEADER);
}

static void
test_no_address(void **state)
{
	struct sl_net_iface v4_only = ifc, v6_only = ifc;
	struct sl_net_pkt p;
	uint8_t f[256];
	size_t n;

	memset(v4_only.ip6, 0, 16);
	v6_only.ip = 0;

	n = udp6_frame(f, NULL);
	assert_int_equal(sl_net_classify(&v4_only, f, (uint32_t)n, 0, &p), SL_NET_DROP_NOT_FOR_US);
	assert_int_equal(sl_net_classify(&v6_only, f, (uint32_t)n, 0, &p), SL_NET_UDP);
	/* A solicitation for :: must not match an interface without IPv6. */
	n = ns_frame(f, (struct v6_opts){ 0 }, unspec_ip6, true);
	assert_int_equal(sl_net_classify(&v4_only, f, (uint32_t)n, 0, &p), SL_NET_DROP_NOT_FOR_US);
	n = ns_frame(f, (struct v6_opts){ .dst = unspec_ip6 }, unspec_ip6, true);
	assert_int_equal(sl_net_classify(&v4_only, f, (uint32_t)n, 0, &p), SL_NET_DROP_NOT_FOR_US);

	n = udp_frame(f, NULL);
	assert_int_equal(sl_net_classify(&v6_only, f, (uint32_t)n, 0, &p), SL_NET_DROP_NOT_FOR_US);
	assert_int_equal(sl_net_classify(&v4_only, f, (uint32_t)n, 0, &p), SL_NET_UDP);
	n = udp_frame(f, &(struct udp_opts){ .dst_ip = 0xffffffff });
	put32(f + 14 + 16, 0); /* to 0.0.0.0 (checksums not fixed: the address decides first) */
	assert_int_equal(sl_net_classify(&v6_only, f, (uint32_t)n, 0, &p), SL_NET_DROP_NOT_FOR_US);
	n = arp_frame(f, bcast_mac, NULL, 0, 1, 0);
	assert_int_equal(sl_net_classify(&v6_only, f, (uint32_t)n, 0, &p), SL_NET_DROP_NOT_FOR_US);
}

static void
test_csum_flags(void **state)
{
	const uint32_t ip_good = SL_NET_F_IP_CSUM_GOOD, ip_bad = SL_NET_F_IP_CSUM_BAD;
	const uint32_t l4_good = SL_NET_F_L4_CSUM_GOOD, l4_bad = SL_NET_F_L4_CSUM_BAD;
	uint8_t f[256];
	size_t n;

	/* IPv4 header. */
	n = udp_frame(f, NULL);
	assert_int_equal(classify_flags(f, n, ip_good | l4_good), SL_NET_UDP);
	assert_int_equal(classify_flags(f, n, ip_bad), SL_NET_DROP_BAD_IP_CSUM);
	assert_int_equal(classify_flags(f, n, ip_bad | l4_good), SL_NET_DROP_BAD_IP_CSUM);
	assert_int_equal(classify_flags(f, n, ip_good | ip_bad), SL_NET_UDP);
	f[14 + 8] = 63; /* TTL changed, checksum not updated */
	assert_int_equal(classify_flags(f, n, 0), SL_NET_DROP_BAD_IP_CSUM);
	assert_int_equal(classify_flags(f, n, ip_good), SL_NET_UDP);
	assert_int_equal(classify_flags(f, n, ip_good | ip_bad), SL_NET_UDP);
	assert_int_equal(classify_flags(f, n, l4_good), SL_NET_DROP_BAD_IP_CSUM);

	/* UDP over IPv4; a zero checksum stays "none" whatever the NIC says. */
	n = udp_frame(f, NULL);
	assert_int_equal(classify_flags(f, n, l4_bad), SL_NET_DROP_BAD_UDP_CSUM);
	assert_int_equal(classify_flags(f, n, l4_good | l4_bad), SL_NET_UDP);
	f[n - 1] ^= 1;
	assert_int_equal(classify_flags(f, n, 0), SL_NET_DROP_BAD_UDP_CSUM);
	assert_int_equal(classify_flags(f, n, l4_good), SL_NET_UDP);
	assert_int_equal(classify_flags(f, n, ip_good), SL_NET_DROP_BAD_UDP_CSUM);
	n = udp_frame(f, &(struct udp_opts){ .no_cksum = true });
	assert_int_equal(classify_flags(f, n, l4_bad), SL_NET_UDP);

	/* ICMP over IPv4. */
	n = icmp_request(f, NULL, 0);
	assert_int_equal(classify_flags(f, n, l4_bad), SL_NET_DROP_BAD_ICMP);
	f[n - 1] ^= 1;
	assert_int_equal(classify_flags(f, n, 0), SL_NET_DROP_BAD_ICMP);
	assert_int_equal(classify_flags(f, n, l4_good), SL_NET_ICMP_ECHO);

	/* UDP over IPv6; a zero checksum stays bad whatever the NIC says. */
	n = udp6_frame(f, NULL);
	assert_int_equal(classify_flags(f, n, l4_bad), SL_NET_DROP_BAD_UDP_CSUM);
	assert_int_equal(classify_flags(f, n, ip_bad), SL_NET_UDP); /* no IPv6 header checksum */
	n = udp6_frame(f, &(struct v6_opts){ .bad_cksum = true });
	assert_int_equal(classify_flags(f, n, 0), SL_NET_DROP_BAD_UDP_CSUM);
	assert_int_equal(classify_flags(f, n, l4_good), SL_NET_UDP);
	n = udp6_frame(f, &(struct v6_opts){ .zero_cksum = true });
	assert_int_equal(classify_flags(f, n, l4_good), SL_NET_DROP_BAD_UDP_CSUM);

	/* ICMPv6. */
	n = echo6_frame(f, NULL);
	assert_int_equal(classify_flags(f, n, l4_bad), SL_NET_DROP_BAD_ICMP);
	n = echo6_frame(f, &(struct v6_opts){ .bad_cksum = true });
	assert_int_equal(classify_flags(f, n, l4_good), SL_NET_ICMP6_ECHO);
	n = ns_frame(f, (struct v6_opts){ 0 }, our_ip6, true);
	assert_int_equal(classify_flags(f, n, l4_bad), SL_NET_DROP_BAD_ICMP);
	n = ns_frame(f, (struct v6_opts){ .bad_cksum = true }, our_ip6, true);
	assert_int_equal(classify_flags(f, n, l4_good), SL_NET_NDP_SOLICIT);
}

/* A UDP frame built for a peer, checked with this file's own checksum code,
 * then classified by the peer's interface. */
static void
check_udp6_build(bool vlan, const uint8_t *payload, uint32_t payload_len)
{
	static uint8_t out[70000];
	struct sl_net_peer to = { .family = 6, .vlan = vlan, .vlan_tci = 0x2005 };
	struct sl_net_iface peer;
	struct sl_net_pkt p;
	uint32_t len, l3 = vlan ? 18 : 14, udp_len = 8 + payload_len;
	uint32_t want = l3 + 40 + udp_len;
	uint8_t *ip = out + l3, *u = out + l3 + 40;

	to.udp_port = PEER_PORT;
	memcpy(to.mac.addr_bytes, peer_mac, 6);
	memcpy(to.ip, peer_ip6, 16);
	memset(out, 0xaa, sizeof(out));
	len = sl_net_build_udp_to(&ifc, &to, payload, payload_len, out, sizeof(out));
	assert_int_equal(len, want < 60 ? 60 : want);
	assert_memory_equal(out, peer_mac, 6);
	assert_memory_equal(out + 6, our_mac, 6);
	if (vlan) {
		assert_int_equal(get16(out + 12), 0x8100);
		assert_int_equal(get16(out + 14), 0x2005);
	}
	assert_int_equal(get16(out + l3 - 2), 0x86dd);
	assert_int_equal(get16(ip), 0x6000);
	assert_int_equal(get16(ip + 2), 0);
	assert_int_equal(get16(ip + 4), udp_len);
	assert_int_equal(ip[6], 17);
	assert_int_equal(ip[7], 64);
	assert_memory_equal(ip + 8, our_ip6, 16);
	assert_memory_equal(ip + 24, peer_ip6, 16);
	assert_int_equal(get16(u), OUR_PORT);
	assert_int_equal(get16(u + 2), PEER_PORT);
	assert_int_equal(get16(u + 4), udp_len);
	assert_int_not_equal(get16(u + 6), 0);
	assert_int_equal(sum16(u, udp_len, pseudo6_sum(our_ip6, peer_ip6, 17, udp_len)), 0xffff);
	if (payload_len)
		assert_memory_equal(u + 8, payload, payload_len);
	for (uint32_t i = want; i < len; i++)
		assert_int_equal(out[i], 0);

	peer_iface(&peer);
	assert_int_equal(sl_net_classify(&peer, out, len, 0, &p), SL_NET_UDP);
	assert_int_equal(p.family, 6);
	assert_int_equal(p.vlan, vlan);
	assert_memory_equal(p.src_ip6, our_ip6, 16);
	assert_memory_equal(p.dst_ip6, peer_ip6, 16);
	assert_int_equal(p.src_port, OUR_PORT);
	assert_int_equal(p.payload_len, payload_len);
	assert_int_equal(sl_net_build_udp_to(&ifc, &to, payload, payload_len, out, len - 1), 0);
}

static void
test_udp_to(void **state)
{
	static const uint32_t sizes[] = { 0, 1, 5, 6, 7, 100, 1452, 1453, SL_NET_UDP6_MAX_PAYLOAD };
	static uint8_t payload[SL_NET_UDP6_MAX_PAYLOAD + 1];
	static uint8_t out[2][128];
	struct sl_net_peer to4 = { .family = 4, .vlan = true, .vlan_tci = 77 };
	struct sl_net_peer to6 = { .family = 6 };
	struct sl_net_iface no6 = ifc, no4 = ifc;
	struct rte_ether_addr dst;
	uint32_t a, b;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 11 + 1);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		check_udp6_build(false, payload, sizes[i]);
		check_udp6_build(true, payload, sizes[i]);
	}

	/* IPv4: the same frame sl_net_build_udp() builds. */
	memcpy(dst.addr_bytes, peer_mac, 6);
	to4.mac = dst;
	to4.udp_port = PEER_PORT;
	put32(to4.ip, PEER_IP);
	a = sl_net_build_udp_to(&ifc, &to4, test_payload, TEST_PAYLOAD_LEN, out[0], 128);
	b = sl_net_build_udp(&ifc, &dst, htonl(PEER_IP), PEER_PORT, true, 77, test_payload,
			     TEST_PAYLOAD_LEN, out[1], 128);
	assert_int_not_equal(a, 0);
	assert_int_equal(a, b);
	assert_memory_equal(out[0], out[1], a);

	/* No address of the family, another family, too little room or payload. */
	memset(no6.ip6, 0, 16);
	no4.ip = 0;
	memcpy(to6.ip, peer_ip6, 16);
	assert_int_equal(sl_net_build_udp_to(&no6, &to6, payload, 10, out[0], 128), 0);
	assert_int_equal(sl_net_build_udp_to(&no4, &to6, payload, 10, out[0], 128), 62 + 10);
	assert_int_equal(sl_net_build_udp_to(&no4, &to4, payload, 10, out[0], 128), 0);
	assert_int_not_equal(sl_net_build_udp_to(&no6, &to4, payload, 10, out[0], 128), 0);
	to6.family = 5;
	assert_int_equal(sl_net_build_udp_to(&ifc, &to6, payload, 10, out[0], 128), 0);
	to6.family = 0;
	assert_int_equal(sl_net_build_udp_to(&ifc, &to6, payload, 10, out[0], 128), 0);
	to6.family = 6;
	assert_int_equal(sl_net_build_udp_to(&ifc, &to6, payload, 0, out[0], 59), 0);
	assert_int_equal(sl_net_build_udp_to(&ifc, &to6, payload, 0, out[0], 62), 62);
	assert_int_equal(sl_net_build_udp_to(&ifc, &to6, payload, SL_NET_UDP6_MAX_PAYLOAD + 1,
					     out[0], UINT32_MAX),
			 0);
}

static void
test_peer_from_pkt(void **state)
{
	static const uint16_t tags[] = { 0x88a8, 5, 0x8100, 0x0abc };
	struct sl_net_peer a, b, back;
	struct sl_net_iface peer;
	struct sl_net_pkt p;
	uint8_t f[256], out[256];
	uint32_t len;
	size_t n;

	n = udp_frame(f, &(struct udp_opts){ .tags = tags, .nb_tags = 2 });
	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	memset(&a, 0x55, sizeof(a));
	sl_net_peer_from_pkt(&p, 3, &a);
	assert_int_equal(a.port_id, 3);
	assert_int_equal(a.family, 4);
	assert_true(a.vlan);
	assert_int_equal(a.vlan_tci, 0x0abc);
	assert_int_equal(a.udp_port, PEER_PORT);
	assert_memory_equal(a.mac.addr_bytes, peer_mac, 6);
	assert_int_equal(get16(a.ip), PEER_IP >> 16);
	assert_int_equal(get16(a.ip + 2), PEER_IP & 0xffff);
	for (int i = 4; i < 16; i++)
		assert_int_equal(a.ip[i], 0);
	/* The same sender on another port and VLAN is the same peer. */
	n = udp_frame(f, NULL);
	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	sl_net_peer_from_pkt(&p, 0, &b);
	assert_true(sl_net_peer_equal(&a, &b));

	/* Answered with one tag, and classified by the peer as from us. */
	peer_iface(&peer);
	len = sl_net_build_udp_to(&ifc, &a, test_payload, 3, out, sizeof(out));
	assert_int_not_equal(len, 0);
	assert_int_equal(sl_net_classify(&peer, out, len, 0, &p), SL_NET_UDP);
	assert_int_equal(p.vlan_tci, 0x0abc);
	assert_int_equal(p.src_ip, htonl(OUR_IP));

	n = udp6_frame(f, &(struct v6_opts){ .tags = tags, .nb_tags = 1 });
	assert_int_equal(classify(f, n, &p), SL_NET_UDP);
	memset(&b, 0x55, sizeof(b));
	sl_net_peer_from_pkt(&p, 1, &b);
	assert_int_equal(b.port_id, 1);
	assert_int_equal(b.family, 6);
	assert_true(b.vlan);
	assert_int_equal(b.vlan_tci, 5);
	assert_int_equal(b.udp_port, PEER_PORT);
	assert_memory_equal(b.mac.addr_bytes, peer_mac, 6);
	assert_memory_equal(b.ip, peer_ip6, 16);
	assert_false(sl_net_peer_equal(&a, &b));

	len = sl_net_build_udp_to(&ifc, &b, test_payload, TEST_PAYLOAD_LEN, out, sizeof(out));
	assert_int_equal(sl_net_classify(&peer, out, len, 0, &p), SL_NET_UDP);
	assert_int_equal(p.vlan_tci, 5);
	assert_memory_equal(p.src_ip6, our_ip6, 16);
	/* The peer's view of us, answered back, reaches us. */
	sl_net_peer_from_pkt(&p, 1, &back);
	len = sl_net_build_udp_to(&peer, &back, test_payload, TEST_PAYLOAD_LEN, out, sizeof(out));
	assert_int_equal(classify(out, len, &p), SL_NET_UDP);
	check_udp6_fields(out, &p, 18, 58);
}

static void
test_parse_cidr(void **state)
{
	static const struct {
		const char *s;
		uint8_t family, prefix;
		uint8_t ip[16];
	} good[] = {
		{ "192.0.2.1/24", 4, 24, { 192, 0, 2, 1 } },
		{ "10.0.0.1/32", 4, 32, { 10, 0, 0, 1 } },
		{ "10.0.0.1/0", 4, 0, { 10, 0, 0, 1 } },
		{ "10.0.0.1/08", 4, 8, { 10, 0, 0, 1 } },
		{ "2001:db8::12ab:cdef/64",
		  6,
		  64,
		  { 0x20, 0x01, 0x0d, 0xb8, [12] = 0x12, 0xab, 0xcd, 0xef } },
		{ "fe80::1/128", 6, 128, { 0xfe, 0x80, [15] = 1 } },
		{ "::ffff:192.0.2.1/96", 6, 96, { [10] = 0xff, 0xff, 192, 0, 2, 1 } },
		{ "2001:0db8:0000:0000:0000:0000:0000:0001/0",
		  6,
		  0,
		  { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	};
	static const char *const bad[] = {
		"",
		"/24",
		"192.0.2.1",
		"192.0.2.1/",
		"192.0.2.1/33",
		"192.0.2.1/-1",
		"192.0.2.1/+8",
		"192.0.2.1/ 8",
		"192.0.2.1/8 ",
		" 192.0.2.1/8",
		"192.0.2.1/24x",
		"192.0.2.1/24/5",
		"192.0.2.1/99999999999999999999",
		"192.0.2/24",
		"192.0.2.256/24",
		"0x0a.0.0.1/8",
		"0.0.0.0/0",
		"2001:db8::1",
		"2001:db8::1/",
		"2001:db8::1/129",
		"2001:db8::1/1280",
		"2001:db8:::1/64",
		"::/0",
		"fe80::1%eth0/64",
		"2001:db8:1:2:3:4:5:6:7/64",
		"2001:0db8:0000:0000:0000:0000:0000:0001:ffff:ffff:ffff/64",
		"hostname/24",
	};
	uint8_t family, prefix, ip[16];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(ip, 0xee, sizeof(ip));
		assert_int_equal(sl_net_parse_cidr(good[i].s, &family, ip, &prefix), 0);
		assert_int_equal(family, good[i].family);
		assert_int_equal(prefix, good[i].prefix);
		assert_memory_equal(ip, good[i].ip, 16);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		family = 0xee;
		prefix = 0xee;
		memset(ip, 0xee, sizeof(ip));
		if (sl_net_parse_cidr(bad[i], &family, ip, &prefix) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(family, 0xee);
		assert_int_equal(prefix, 0xee);
		assert_int_equal(ip[0], 0xee);
	}
	assert_int_equal(sl_net_parse_cidr(NULL, &family, ip, &prefix), -EINVAL);
}

/* Every valid frame the tests build, for the robustness checks. */
#define CORPUS_MAX 32
struct corpus {
	uint8_t frame[CORPUS_MAX][256];
	size_t len[CORPUS_MAX];
	enum sl_net_verdict verdict[CORPUS_MAX];
	int count;
};

static void
corpus_add(struct corpus *c, const uint8_t *f, size_t n)
{
	assert_true(c->count < CORPUS_MAX);
	assert_true(n <= sizeof(c->frame[0]));
	memcpy(c->frame[c->count], f, n);
	c->len[c->count] = n;
	c->verdict[c->count] = classify(f, n, NULL);
	c->count++;
}

static void
build_corpus(struct corpus *c)
{
	static const uint16_t tag[] = { 0x8100, 0x0123 };
	static const uint16_t tags[] = { 0x88a8, 7, 0x8100, 0x0123 };
	static const uint8_t hbh_dst[] = { 0, 60 };
	struct sl_net_peer to = { .family = 6, .udp_port = PEER_PORT };
	uint8_t f[256], out[256];
	size_t n;

	memset(c, 0, sizeof(*c));
	corpus_add(c, f, udp_frame(f, NULL));
	corpus_add(c, f, udp_frame(f, &(struct udp_opts){ .tags = tags, .nb_tags = 2 }));
	corpus_add(c, f, udp_frame(f, &(struct udp_opts){ .ihl = 15 }));
	corpus_add(c, f, arp_frame(f, bcast_mac, tag, 1, 1, OUR_IP));
	corpus_add(c, f, icmp_request(f, tags, 2));
	corpus_add(c, f, ns_frame(f, (struct v6_opts){ 0 }, our_ip6, true));
	corpus_add(c, f,
		   ns_frame(f,
			    (struct v6_opts){ .dst_mac = solicited_mac,
					      .dst = solicited_ip6,
					      .tags = tags,
					      .nb_tags = 2 },
			    our_ip6, true));
	corpus_add(c, f,
		   ns_frame(f, (struct v6_opts){ .tags = tag, .nb_tags = 1 }, our_ip6, false));
	corpus_add(c, f,
		   ns_frame(f, (struct v6_opts){ .ext = hbh_dst, .nb_ext = 2 }, our_ip6, true));
	corpus_add(c, f, echo6_frame(f, NULL));
	corpus_add(c, f, echo6_frame(f, &(struct v6_opts){ .tags = tags, .nb_tags = 2 }));
	corpus_add(c, f, udp6_frame(f, NULL));
	corpus_add(c, f, udp6_frame(f, &(struct v6_opts){ .tags = tag, .nb_tags = 1 }));
	corpus_add(c, f, udp6_frame(f, &(struct v6_opts){ .ext = hbh_dst, .nb_ext = 2 }));
	for (int i = 0; i < c->count; i++)
		assert_true(c->verdict[i] <= SL_NET_ICMP6_ECHO);

	/* Frames we build, as the peer would see them (to us, they are drops). */
	n = sl_net_build_ndp_advert(&ifc, c->frame[5], (uint32_t)c->len[5], out, sizeof(out));
	corpus_add(c, out, n);
	memcpy(to.mac.addr_bytes, peer_mac, 6);
	memcpy(to.ip, peer_ip6, 16);
	n = sl_net_build_udp_to(&ifc, &to, test_payload, TEST_PAYLOAD_LEN, out, sizeof(out));
	corpus_add(c, out, n);
}

/* Classify, and feed to every builder, one untrusted frame in a heap block of
 * exactly its size; replies go to blocks of exactly the room they are given.
 * ASan reports any access outside either. */
static void
exercise(const uint8_t *f, size_t n, uint32_t flags)
{
	uint32_t cap = (uint32_t)n + 64;
	uint8_t *copy = malloc(n ? n : 1), *out = malloc(cap);
	struct sl_net_peer peer;
	struct sl_net_pkt p;
	enum sl_net_verdict v;
	uint32_t len;

	assert_non_null(copy);
	assert_non_null(out);
	memcpy(copy, f, n);
	v = sl_net_classify(&ifc, copy, (uint32_t)n, flags, &p);
	assert_true((unsigned)v < SL_NET_NB_VERDICTS);
	if (v == SL_NET_UDP || v == SL_NET_ICMP_ECHO || v == SL_NET_ICMP6_ECHO ||
	    v == SL_NET_NDP_SOLICIT) {
		assert_true(p.payload >= copy);
		assert_true(p.payload + p.payload_len <= copy + n);
		assert_true(p.l4_off <= n);
	}
	if (v == SL_NET_UDP) {
		sl_net_peer_from_pkt(&p, 0, &peer);
		len = sl_net_build_udp_to(&ifc, &peer, p.payload, p.payload_len, out, cap);
		assert_true(len <= cap);
	}
	assert_true(sl_net_build_arp_reply(&ifc, copy, (uint32_t)n, out, cap) <= cap);
	assert_true(sl_net_build_icmp_echo_reply(&ifc, copy, (uint32_t)n, out, cap) <= cap);
	assert_true(sl_net_build_ndp_advert(&ifc, copy, (uint32_t)n, out, cap) <= cap);
	assert_true(sl_net_build_icmp6_echo_reply(&ifc, copy, (uint32_t)n, out, cap) <= cap);
	free(out);
	free(copy);
}

static void
test_truncated_all(void **state)
{
	static struct corpus c;

	build_corpus(&c);
	for (int i = 0; i < c.count; i++)
		for (size_t n = 0; n < c.len[i]; n++) {
			struct sl_net_pkt p;
			enum sl_net_verdict v;

			exercise(c.frame[i], n, 0);
			exercise(c.frame[i], n, SL_NET_F_IP_CSUM_GOOD | SL_NET_F_L4_CSUM_GOOD);
			v = classify(c.frame[i], n, &p);
			if (n < 14u)
				assert_int_equal(v, SL_NET_DROP_RUNT);
			else if (c.verdict[i] <= SL_NET_ICMP6_ECHO)
				assert_true(v == SL_NET_DROP_RUNT ||
					    v == SL_NET_DROP_BAD_IP_HEADER);
		}
}

/* Every truncation again, but with the IPv4 total length or IPv6 payload
 * length (and the IPv4 header checksum) rewritten to match the cut, so that
 * parsing goes on to the extension and L4 headers and right up to the end of
 * the buffer. */
static void
test_truncated_consistent(void **state)
{
	static struct corpus c;
	uint8_t f[256];

	build_corpus(&c);
	for (int i = 0; i < c.count; i++) {
		struct sl_net_pkt p;

		classify(c.frame[i], c.len[i], &p);
		if (p.family == 0 || get16(c.frame[i] + p.l3_off - 2) == 0x0806)
			continue;
		for (size_t n = p.l3_off; n < c.len[i]; n++) {
			uint8_t *ip = f + p.l3_off;
			size_t ip_len = n - p.l3_off;

			memcpy(f, c.frame[i], n);
			if (p.family == 6 && ip_len >= 40) {
				put16(ip + 4, (uint16_t)(ip_len - 40));
			} else if (p.family == 4 && ip_len > 0 &&
				   ip_len >= (size_t)(ip[0] & 0x0f) * 4) {
				put16(ip + 2, (uint16_t)ip_len);
				put16(ip + 10, 0);
				put16(ip + 10, (uint16_t)~sum16(ip, (size_t)(ip[0] & 0x0f) * 4, 0));
			}
			exercise(f, n, 0);
			exercise(f, n, SL_NET_F_IP_CSUM_GOOD | SL_NET_F_L4_CSUM_GOOD);
		}
	}
}

/* xorshift32: the same flips on every run, so a failure reproduces. */
static uint32_t
next_random(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_random_flips(void **state)
{
	static struct corpus c;
	uint32_t seed = 0x5eed1234;
	uint8_t f[256];

	build_corpus(&c);
	for (int i = 0; i < c.count; i++)
		for (int iter = 0; iter < 400; iter++) {
			size_t n = c.len[i];
			int flips = 1 + (int)(next_random(&seed) % 4);

			memcpy(f, c.frame[i], n);
			for (int k = 0; k < flips; k++)
				f[next_random(&seed) % n] ^=
					(uint8_t)(1 + next_random(&seed) % 255);
			/* Sometimes cut it too, at a random point. */
			if (next_random(&seed) % 4 == 0)
				n = next_random(&seed) % (n + 1);
			exercise(f, n, next_random(&seed) % 16);
		}
}

/* Writes frames as a classic pcap with plain stdio. */
static void
write_pcap(const char *path, uint8_t frames[][256], const uint32_t *lens, int count)
{
	const uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	fwrite(gh, sizeof(gh), 1, fp);
	for (int i = 0; i < count; i++) {
		uint32_t rh[4] = { (uint32_t)i, 0, lens[i], lens[i] };

		fwrite(rh, sizeof(rh), 1, fp);
		fwrite(frames[i], lens[i], 1, fp);
	}
	assert_int_equal(fclose(fp), 0);
}

/* tshark, where installed, decodes our NA, echo reply and UDP6 frames and
 * verifies their checksums itself. */
static void
test_tshark_ipv6(void **state)
{
	static const uint16_t tag[] = { 0x8100, 0x0123 };
	static const char *const expect[] = {
		"136,1,1,1,02:00:00:00:00:01,2001:db8::12ab:cdef,fe80::200:ff:fe00:2,,,",
		"129,1,,,,2001:db8::12ab:cdef,fe80::200:ff:fe00:2,,,",
		",,,,,2001:db8::12ab:cdef,fe80::200:ff:fe00:2,9000,12345,1",
		",,,,,2001:db8::12ab:cdef,fe80::200:ff:fe00:2,9000,12345,1",
	};
	const char *tmpdir = getenv("SL_TEST_TMPDIR");
	struct sl_net_peer to = { .family = 6, .udp_port = PEER_PORT };
	uint8_t frames[4][256], req[256];
	char path[256], cmd[1024], line[512];
	uint32_t lens[4];
	FILE *pp;
	int i = 0;

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		print_message("tshark not installed: skipped\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/test_net_ipv6.pcap", tmpdir ? tmpdir : "/tmp");
	lens[0] = sl_net_build_ndp_advert(
		&ifc, req, (uint32_t)ns_frame(req, (struct v6_opts){ 0 }, our_ip6, true), frames[0],
		256);
	lens[1] = sl_net_build_icmp6_echo_reply(&ifc, req, (uint32_t)echo6_frame(req, NULL),
						frames[1], 256);
	memcpy(to.mac.addr_bytes, peer_mac, 6);
	memcpy(to.ip, peer_ip6, 16);
	lens[2] = sl_net_build_udp_to(&ifc, &to, test_payload, TEST_PAYLOAD_LEN, frames[2], 256);
	to.vlan = true;
	to.vlan_tci = tag[1];
	lens[3] = sl_net_build_udp_to(&ifc, &to, test_payload, 1, frames[3], 256);
	for (int k = 0; k < 4; k++)
		assert_int_not_equal(lens[k], 0);
	write_pcap(path, frames, lens, 4);

	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r '%s' -o udp.check_checksum:TRUE -T fields -E separator=, "
		 "-e icmpv6.type -e icmpv6.checksum.status -e icmpv6.nd.na.flag.s "
		 "-e icmpv6.nd.na.flag.o -e icmpv6.opt.linkaddr -e ipv6.src -e ipv6.dst "
		 "-e udp.srcport -e udp.dstport -e udp.checksum.status 2>'%s.err'",
		 path, path);
	pp = popen(cmd, "r");
	assert_non_null(pp);
	while (fgets(line, sizeof(line), pp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (i >= 4)
			fail_msg("tshark: unexpected line \"%s\"", line);
		if (strcmp(line, expect[i]) != 0)
			fail_msg("tshark frame %d: \"%s\", expected \"%s\"", i + 1, line,
				 expect[i]);
		i++;
	}
	assert_int_equal(pclose(pp), 0);
	assert_int_equal(i, 4);
}

/* With SL_NET_PCAP=<path>, also writes a few built frames to a pcap file so
 * that tshark can check them independently. */
static void
test_write_pcap(void **state)
{
	const char *path = getenv("SL_NET_PCAP");
	uint8_t f[256], out[256];
	struct rte_ether_addr dst;
	FILE *fp;

	if (path == NULL)
		skip();
	fp = fopen(path, "wb");
	assert_non_null(fp);
	uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	fwrite(gh, sizeof(gh), 1, fp);
	memcpy(dst.addr_bytes, peer_mac, 6);
	for (int i = 0; i < 4; i++) {
		uint32_t len;

		if (i < 2)
			len = sl_net_build_udp(&ifc, &dst, htonl(PEER_IP), PEER_PORT, i == 1,
					       0x2005, test_payload, TEST_PAYLOAD_LEN, out,
					       sizeof(out));
		else if (i == 2)
			len = sl_net_build_icmp_echo_reply(
				&ifc, f, (uint32_t)icmp_request(f, NULL, 0), out, sizeof(out));
		else
			len = sl_net_build_arp_reply(
				&ifc, f, (uint32_t)arp_frame(f, bcast_mac, NULL, 0, 1, OUR_IP), out,
				sizeof(out));
		assert_int_not_equal(len, 0);
		uint32_t rh[4] = { 0, 0, len, len };
		fwrite(rh, sizeof(rh), 1, fp);
		fwrite(out, len, 1, fp);
	}
	assert_int_equal(fclose(fp), 0);
}

/* The NIC's checksum verdicts map onto lib/net's flags one for one: a
 * checked-good sum skips the software check, a bad one is a drop, "none"
 * (good and bad both set, which lib/net takes as good) and "unknown" (neither:
 * left to software). */
static void
test_mbuf_csum_flags(void **state)
{
	assert_int_equal(sl_net_mbuf_csum_flags(0), 0);
	assert_int_equal(sl_net_mbuf_csum_flags(RTE_MBUF_F_RX_IP_CKSUM_GOOD),
			 SL_NET_F_IP_CSUM_GOOD);
	assert_int_equal(sl_net_mbuf_csum_flags(RTE_MBUF_F_RX_IP_CKSUM_BAD), SL_NET_F_IP_CSUM_BAD);
	assert_int_equal(sl_net_mbuf_csum_flags(RTE_MBUF_F_RX_L4_CKSUM_GOOD),
			 SL_NET_F_L4_CSUM_GOOD);
	assert_int_equal(sl_net_mbuf_csum_flags(RTE_MBUF_F_RX_L4_CKSUM_BAD), SL_NET_F_L4_CSUM_BAD);
	assert_int_equal(
		sl_net_mbuf_csum_flags(RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD),
		SL_NET_F_IP_CSUM_GOOD | SL_NET_F_L4_CSUM_BAD);
	/* "NONE" is both bits: the NIC vouches for the packet. */
	assert_int_equal(
		sl_net_mbuf_csum_flags(RTE_MBUF_F_RX_IP_CKSUM_NONE | RTE_MBUF_F_RX_L4_CKSUM_NONE),
		SL_NET_F_IP_CSUM_GOOD | SL_NET_F_IP_CSUM_BAD | SL_NET_F_L4_CSUM_GOOD |
			SL_NET_F_L4_CSUM_BAD);
	/* Unrelated flags change nothing. */
	assert_int_equal(sl_net_mbuf_csum_flags(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_RSS_HASH), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_names), cmocka_unit_test(test_udp_plain),
		cmocka_unit_test(test_udp_vlan),      cmocka_unit_test(test_udp_qinq),
		cmocka_unit_test(test_truncated),     cmocka_unit_test(test_bad_ip_header),
		cmocka_unit_test(test_ip_options),    cmocka_unit_test(test_bad_ip_csum),
		cmocka_unit_test(test_fragment),      cmocka_unit_test(test_udp_checks),
		cmocka_unit_test(test_not_for_us),    cmocka_unit_test(test_other_protocols),
		cmocka_unit_test(test_arp),           cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_udp_build),     cmocka_unit_test(test_write_pcap),
		cmocka_unit_test(test_ndp_solicit),   cmocka_unit_test(test_ndp_other),
		cmocka_unit_test(test_icmp6_echo),    cmocka_unit_test(test_udp6),
		cmocka_unit_test(test_ipv6_headers),  cmocka_unit_test(test_no_address),
		cmocka_unit_test(test_csum_flags),    cmocka_unit_test(test_udp_to),
		cmocka_unit_test(test_peer_from_pkt), cmocka_unit_test(test_parse_cidr),
		cmocka_unit_test(test_truncated_all), cmocka_unit_test(test_truncated_consistent),
		cmocka_unit_test(test_random_flips),  cmocka_unit_test(test_tshark_ipv6),
		cmocka_unit_test(test_bad_source4),   cmocka_unit_test(test_bad_source4_flags),
		cmocka_unit_test(test_bad_src_mac),   cmocka_unit_test(test_mbuf_csum_flags),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
