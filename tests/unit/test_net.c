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

static struct sl_net_iface ifc;

static int
setup(void **state)
{
	memcpy(ifc.mac.addr_bytes, our_mac, 6);
	ifc.ip = htonl(OUR_IP);
	ifc.udp_port = OUR_PORT;
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
			pseudo_sum(PEER_IP, get16(f + l3 + 16) << 16 | get16(f + l3 + 18), 17,
				   l4_len));
		put16(u + 6, c == 0 ? 0xffff : c);
	}
	return l4 + l4_len;
}

static enum sl_net_verdict
classify(const uint8_t *f, size_t len, struct sl_net_pkt *pkt)
{
	struct sl_net_pkt local;

	return sl_net_classify(&ifc, f, (uint32_t)len, pkt ? pkt : &local);
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
		v = sl_net_classify(&ifc, copy, (uint32_t)n, &p);
		free(copy);
		assert_int_not_equal(v, SL_NET_UDP);
		assert_int_not_equal(v, SL_NET_ICMP_ECHO);
		assert_int_not_equal(v, SL_NET_ARP_REQUEST);
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

	n = put_eth(f, v6_mcast, peer_mac, NULL, 0, 0x86dd);
	assert_int_equal(classify(f, 60, NULL), SL_NET_DROP_IPV6);
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
	struct sl_net_iface peer;
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
	assert_int_equal(sl_net_classify(&peer, out, len, &p), SL_NET_UDP);
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
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
