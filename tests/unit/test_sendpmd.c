/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sl_sendpmd.h"

/* The pure half of the DPDK mode: no EAL here. Checksums are checked with this
 * file's own one's-complement sum, so a bug shared with DPDK's helpers shows. */

static const struct rte_ether_addr our_mac = { { 0x02, 0, 0, 0, 0, 0x02 } };
static const struct rte_ether_addr peer_mac = { { 0x02, 0, 0, 0, 0, 0x01 } };

static uint32_t
ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static struct sl_net_iface
iface(const struct rte_ether_addr *mac, const char *ip, uint16_t port)
{
	struct sl_net_iface ifc;

	memset(&ifc, 0, sizeof(ifc));
	ifc.mac = *mac;
	ifc.ip = ip4(ip);
	ifc.ip_prefix = 24;
	ifc.udp_port = port;
	return ifc;
}

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Argument vectors are built from string literals; getopt-style code only permutes them. */
#define ARGV(...)                                                                                  \
	(char *[])                                                                                 \
	{                                                                                          \
		__VA_ARGS__, NULL                                                                  \
	}

static int
ARGC(char **v)
{
	int n = 0;

	while (v[n] != NULL)
		n++;
	return n;
}

static void
test_split(void **state)
{
	char *argv[] = { "sluice-send", "--dpdk", "--no-huge", "-l", "0",
			 "--",          "--json", "10.0.0.1",  "f",  NULL };
	char *eal[11], *app[11], err[256];
	int neal, napp;

	(void)state;
	assert_int_equal(sl_sendpmd_split_args(9, argv, eal, &neal, app, &napp, err, sizeof(err)),
			 0);
	assert_int_equal(neal, 4);
	assert_string_equal(eal[0], "sluice-send");
	assert_string_equal(eal[1], "--no-huge");
	assert_string_equal(eal[3], "0");
	assert_null(eal[4]);
	assert_int_equal(napp, 4);
	assert_string_equal(app[0], "sluice-send");
	assert_string_equal(app[1], "--json");
	assert_string_equal(app[3], "f");
	assert_null(app[4]);

	/* Only the first "--" splits: a later one is sluice-send's end of options. */
	{
		char *v[] = { "s", "--dpdk", "--", "--", "h", "f", NULL };

		assert_int_equal(
			sl_sendpmd_split_args(6, v, eal, &neal, app, &napp, err, sizeof(err)), 0);
		assert_int_equal(neal, 1);
		assert_int_equal(napp, 4);
		assert_string_equal(app[1], "--");
	}
	/* No "--": refused with the reason. */
	{
		char *v[] = { "s", "--dpdk", "--no-huge", "h", NULL };

		assert_int_equal(
			sl_sendpmd_split_args(4, v, eal, &neal, app, &napp, err, sizeof(err)),
			-EINVAL);
		assert_non_null(strstr(err, "'--'"));
	}
	/* --dpdk not first. */
	{
		char *v[] = { "s", "--json", "--dpdk", "--", "h", NULL };

		assert_int_equal(
			sl_sendpmd_split_args(5, v, eal, &neal, app, &napp, err, sizeof(err)),
			-EINVAL);
		assert_non_null(strstr(err, "first"));
	}
}

static void
test_extract(void **state)
{
	struct sl_sendpmd_opts o;
	char err[256];

	(void)state;
	{
		char **v = ARGV("s", "--json", "--src-ip=10.9.0.2/24", "--port-id", "1",
				"--dst-mac=02:00:00:00:00:01", "--gateway", "10.9.0.254",
				"--mtu=9000", "--idle-sleep=0", "--src-port=50000", "--rx-queues=3",
				"--tx-queues", "2", "-q", "10.9.0.1", "f");
		int n = ARGC(v);

		assert_int_equal(sl_sendpmd_opts_extract(&o, &n, v, err, sizeof(err)), 9);
		assert_int_equal(n, 5);
		assert_string_equal(v[1], "--json");
		assert_string_equal(v[2], "-q");
		assert_string_equal(v[3], "10.9.0.1");
		assert_string_equal(v[4], "f");
		assert_null(v[5]);
		assert_true(o.have_src);
		assert_int_equal(o.src_ip, ip4("10.9.0.2"));
		assert_int_equal(o.src_prefix, 24);
		assert_true(o.have_port_id);
		assert_int_equal(o.port_id, 1);
		assert_true(o.have_dst_mac);
		assert_memory_equal(&o.dst_mac, &peer_mac, sizeof(peer_mac));
		assert_int_equal(o.gateway, ip4("10.9.0.254"));
		assert_int_equal(o.mtu, 9000);
		assert_int_equal(o.idle_sleep_us, 0);
		assert_int_equal(o.src_port, 50000);
		assert_int_equal(o.rx_queues, 3);
		assert_int_equal(o.tx_queues, 2);
	}
	/* Defaults. */
	{
		char **v = ARGV("s", "h", "f");
		int n = ARGC(v);

		assert_int_equal(sl_sendpmd_opts_extract(&o, &n, v, err, sizeof(err)), 0);
		assert_int_equal(n, 3);
		assert_false(o.have_src);
		assert_false(o.have_port_id);
		assert_false(o.have_dst_mac);
		assert_int_equal(o.mtu, SL_SENDPMD_MTU_DEFAULT);
		assert_int_equal(o.idle_sleep_us, SL_SENDPMD_IDLE_SLEEP_DEFAULT);
		assert_int_equal(o.src_port, 0);
		assert_int_equal(o.rx_queues, 0);
		assert_int_equal(o.gateway, 0);
	}
	/* Values of sluice-send's own options are stepped over, even when they look
	 * like ours; operands and "--" end the scan, as they end getopt's. */
	{
		char **v = ARGV("s", "--name", "--mtu=1", "--rate", "1G", "--src-ip=10.0.0.2/8",
				"--", "--mtu=9000", "h");
		int n = ARGC(v);

		assert_int_equal(sl_sendpmd_opts_extract(&o, &n, v, err, sizeof(err)), 1);
		assert_int_equal(o.mtu, SL_SENDPMD_MTU_DEFAULT);
		assert_int_equal(n, 8);
		assert_string_equal(v[2], "--mtu=1");
		assert_string_equal(v[5], "--");
		assert_string_equal(v[6], "--mtu=9000");
	}
	{
		char **v = ARGV("s", "h", "--src-ip=10.0.0.2/8", "f");
		int n = ARGC(v);

		assert_int_equal(sl_sendpmd_opts_extract(&o, &n, v, err, sizeof(err)), 0);
		assert_int_equal(n, 4);
	}
	/* An unambiguous abbreviation of a sluice-send option takes its value too. */
	{
		char **v = ARGV("s", "--na", "x", "--mtu=2000", "h", "f");
		int n = ARGC(v);

		assert_int_equal(sl_sendpmd_opts_extract(&o, &n, v, err, sizeof(err)), 1);
		assert_int_equal(o.mtu, 2000);
	}
	/* Bad values and missing ones are usage errors naming the option. */
	static const char *const bad[] = {
		"--src-ip=10.0.0.2",
		"--src-ip=fd00::2/64",
		"--src-ip=0.0.0.0/8",
		"--port-id=x",
		"--port-id=-1",
		"--dst-mac=ff:ff:ff:ff:ff:ff",
		"--dst-mac=01:00:5e:00:00:01",
		"--dst-mac=nope",
		"--gateway=10.0.0",
		"--mtu=1279",
		"--mtu=9001",
		"--idle-sleep=1000001",
		"--src-port=0",
		"--src-port=65536",
		"--rx-queues=0",
		"--tx-queues=65",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *v[] = { "s", (char *)bad[i], "h", "f", NULL };
		int n = 4;
		char name[32];

		assert_int_equal(sl_sendpmd_opts_extract(&o, &n, v, err, sizeof(err)), -EINVAL);
		snprintf(name, sizeof(name), "%.*s", (int)(strchr(bad[i], '=') - bad[i]), bad[i]);
		assert_non_null(strstr(err, name));
	}
	{
		char **v = ARGV("s", "--mtu");
		int n = ARGC(v);

		assert_int_equal(sl_sendpmd_opts_extract(&o, &n, v, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "--mtu"));
	}
}

/*
 * The scan must know which of sluice-send's options take a value. Every
 * option of the usage text written "--opt=VALUE" must step over a separate
 * value, and every one without must not: an option of ours behind it is
 * found only if so.
 */
static void
test_sender_options_known(void **state)
{
	const char *u = sl_sender_usage();
	unsigned with_value = 0;

	(void)state;
	while ((u = strstr(u, "\n  --")) != NULL) {
		char opt[64], err[256];
		struct sl_sendpmd_opts o;
		size_t len = strcspn(u + 3, "= \n");
		bool value = u[3 + len] == '=';

		assert_true(len < sizeof(opt));
		memcpy(opt, u + 3, len);
		opt[len] = '\0';
		u += 3 + len;
		{
			char *v[] = { "s", opt, "VALUE", "--mtu=2000", "h", NULL };
			int n = 5;

			assert_int_equal(sl_sendpmd_opts_extract(&o, &n, v, err, sizeof(err)),
					 value ? 1 : 0);
		}
		with_value += value;
	}
	assert_true(with_value >= 8);
}

static void
test_find_option(void **state)
{
	(void)state;
	{
		char **v = ARGV("s", "--json", "--mtu", "9000", "h", "f");

		assert_non_null(sl_sendpmd_find_option(ARGC(v), v));
		assert_string_equal(sl_sendpmd_find_option(ARGC(v), v), "--mtu");
		/* Unchanged. */
		assert_string_equal(v[2], "--mtu");
		assert_string_equal(v[3], "9000");
	}
	{
		char **v = ARGV("s", "--json", "--name", "--src-ip=1.2.3.4/8", "h", "--mtu=9000");

		assert_null(sl_sendpmd_find_option(ARGC(v), v));
	}
}

static void
test_check(void **state)
{
	struct sl_sendpmd_opts o;
	struct sl_sender_opts so;
	uint32_t dst;
	char err[256];

	(void)state;
	{
		char **v = ARGV("s", "--src-ip=10.9.0.2/24", "10.9.0.1:7500", "f");
		int n = ARGC(v);

		assert_int_equal(sl_sendpmd_opts_extract(&o, &n, v, err, sizeof(err)), 1);
		assert_int_equal(sl_sender_opts_parse(&so, n, v, err, sizeof(err)), 0);
		assert_int_equal(sl_sendpmd_opts_check(&o, &so, &dst, err, sizeof(err)), 0);
		assert_int_equal(dst, ip4("10.9.0.1"));
		assert_int_equal(so.port, 7500);
	}
	static const struct {
		const char *args[4];
		const char *why;
	} cases[] = {
		{ { "10.9.0.1", "f" }, "--src-ip" },
		{ { "--src-ip=10.9.0.2/24", "receiver.example", "f" }, "numeric" },
		{ { "--src-ip=10.9.0.2/24", "[fd00::1]", "f" }, "IPv4" },
		{ { "--src-ip=10.9.0.2/24", "--bind=10.9.0.2", "10.9.0.1", "f" }, "--bind" },
		{ { "--src-ip=10.9.0.2/24", "--max-payload=1473", "10.9.0.1", "f" }, "--mtu" },
		{ { "--src-ip=10.9.0.2/24", "10.9.0.2", "f" }, "own" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *v[6] = { "s" };
		int n = 1;

		for (unsigned k = 0; k < 4 && cases[i].args[k] != NULL; k++)
			v[n++] = (char *)cases[i].args[k];
		assert_true(sl_sendpmd_opts_extract(&o, &n, v, err, sizeof(err)) >= 0);
		assert_int_equal(sl_sender_opts_parse(&so, n, v, err, sizeof(err)), 0);
		assert_int_equal(sl_sendpmd_opts_check(&o, &so, &dst, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, cases[i].why));
	}
	/* --max-payload up to what the MTU carries is fine. */
	{
		char **v = ARGV("s", "--mtu=9000", "--src-ip=10.9.0.2/24", "--max-payload=8972",
				"10.9.0.1", "f");
		int n = ARGC(v);

		assert_int_equal(sl_sendpmd_opts_extract(&o, &n, v, err, sizeof(err)), 2);
		assert_int_equal(sl_sender_opts_parse(&so, n, v, err, sizeof(err)), 0);
		assert_int_equal(sl_sendpmd_opts_check(&o, &so, &dst, err, sizeof(err)), 0);
	}
}

static void
test_next_hop(void **state)
{
	uint32_t hop = 0;

	(void)state;
	assert_int_equal(sl_sendpmd_next_hop(ip4("10.9.0.2"), 24, ip4("10.9.0.1"), 0, &hop), 0);
	assert_int_equal(hop, ip4("10.9.0.1"));
	assert_int_equal(sl_sendpmd_next_hop(ip4("10.9.0.2"), 24, ip4("10.9.1.1"), 0, &hop),
			 -EHOSTUNREACH);
	assert_int_equal(
		sl_sendpmd_next_hop(ip4("10.9.0.2"), 24, ip4("10.9.1.1"), ip4("10.9.0.254"), &hop),
		0);
	assert_int_equal(hop, ip4("10.9.0.254"));
	/* The gateway is not used on-link. */
	assert_int_equal(
		sl_sendpmd_next_hop(ip4("10.9.0.2"), 24, ip4("10.9.0.7"), ip4("10.9.0.254"), &hop),
		0);
	assert_int_equal(hop, ip4("10.9.0.7"));
	assert_int_equal(sl_sendpmd_next_hop(ip4("10.9.0.2"), 0, ip4("192.168.1.1"), 0, &hop), 0);
	assert_int_equal(sl_sendpmd_next_hop(ip4("10.9.0.2"), 32, ip4("10.9.0.3"), 0, &hop),
			 -EHOSTUNREACH);
	assert_int_equal(sl_sendpmd_next_hop(ip4("10.9.0.2"), 23, ip4("10.9.1.3"), 0, &hop), 0);
	assert_int_equal(sl_sendpmd_max_payload(1500), 1472);
	assert_int_equal(sl_sendpmd_max_payload(1280), 1252);
	assert_int_equal(sl_sendpmd_max_payload(9000), 8972);
}

static void
test_frame(void **state)
{
	static const uint32_t sizes[] = { 0, 1, 17, 18, 19, 1000, 1471, 1472, 8972 };
	const struct sl_net_iface us = iface(&our_mac, "10.9.0.2", 50000);
	const struct sl_net_iface peer = iface(&peer_mac, "10.9.0.1", 7400);
	static uint8_t payload[9000], a[9100], b[9100];
	struct sl_sendpmd_frame fs, fn, fo;

	(void)state;
	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	sl_sendpmd_frame_init(&fs, &us, &peer_mac, peer.ip, 7400, SL_SENDPMD_CSUM_SOFTWARE);
	sl_sendpmd_frame_init(&fn, &us, &peer_mac, peer.ip, 7400, SL_SENDPMD_CSUM_NONE);
	sl_sendpmd_frame_init(&fo, &us, &peer_mac, peer.ip, 7400, SL_SENDPMD_CSUM_OFFLOAD);
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t n = sizes[i], want = 42 + n < 60 ? 60 : 42 + n, len;
		struct sl_net_pkt pkt;
		uint32_t sum;

		/* Software checksum: byte for byte what lib/net builds. */
		memset(a, 0xaa, sizeof(a));
		memset(b, 0x55, sizeof(b));
		len = sl_sendpmd_frame_build(&fs, payload, n, a, sizeof(a));
		assert_int_equal(len, want);
		assert_int_equal(sl_net_build_udp(&us, &peer_mac, peer.ip, 7400, false, 0, payload,
						  n, b, sizeof(b)),
				 want);
		assert_memory_equal(a, b, len);
		/* The IPv4 header sums to 0xffff; the UDP sum with its pseudo-header too. */
		assert_int_equal(fold(sum16(a + 14, 20, 0)), 0xffff);
		sum = sum16(a + 26, 8, 17 + 8 + n);
		assert_int_equal(fold(sum16(a + 34, 8 + n, sum)), 0xffff);
		assert_int_equal(sl_net_classify(&peer, a, len, 0, &pkt), SL_NET_UDP);
		assert_int_equal(pkt.payload_len, n);
		assert_int_equal(pkt.src_port, 50000);
		assert_int_equal(pkt.dst_port, 7400);

		/* No checksum: 0, and the receiver takes it over IPv4. */
		memset(a, 0xaa, sizeof(a));
		len = sl_sendpmd_frame_build(&fn, payload, n, a, sizeof(a));
		assert_int_equal(len, want);
		assert_int_equal(a[40], 0);
		assert_int_equal(a[41], 0);
		assert_memory_equal(a, b, 40);
		assert_memory_equal(a + 42, b + 42, len - 42);
		assert_int_equal(sl_net_classify(&peer, a, len, 0, &pkt), SL_NET_UDP);
		assert_int_equal(pkt.payload_len, n);
		if (n > 0)
			assert_memory_equal(pkt.payload, payload, n);
		assert_int_equal(sl_sendpmd_classify(&peer, us.ip, 50000, a, len, 0, &pkt,
						     &(enum sl_net_verdict){ 0 }),
				 SL_SENDPMD_RX_DATAGRAM);

		/* Offload: the pseudo-header sum, not complemented, for the NIC to finish. */
		len = sl_sendpmd_frame_build(&fo, payload, n, a, sizeof(a));
		assert_int_equal(len, want);
		assert_memory_equal(a, b, 40);
		assert_int_equal(a[40] << 8 | a[41], fold(sum16(a + 26, 8, 17 + 8 + n)));
		/* Padding is zero. */
		for (uint32_t k = 42 + n; k < len; k++)
			assert_int_equal(a[k], 0);
	}
	assert_int_equal(sl_sendpmd_frame_build(&fn, payload, 100, a, 141), 0);
	assert_int_equal(sl_sendpmd_frame_build(&fn, payload, 100, a, 142), 142);
	assert_int_equal(sl_sendpmd_frame_build(&fn, payload, 0, a, 59), 0);
}

static void
test_arp(void **state)
{
	const struct sl_net_iface us = iface(&our_mac, "10.9.0.2", 50000);
	const struct sl_net_iface peer = iface(&peer_mac, "10.9.0.1", 7400);
	const struct sl_net_iface other = iface(&peer_mac, "10.9.0.3", 7400);
	uint8_t req[64], rep[64], bad[64];
	struct rte_ether_addr mac;
	struct sl_net_pkt pkt;
	uint32_t n, m;

	(void)state;
	assert_int_equal(sl_net_build_arp_request(&us, peer.ip, req, 59), 0);
	n = sl_net_build_arp_request(&us, peer.ip, req, sizeof(req));
	assert_int_equal(n, 60);
	/* The receiver takes it as a request for itself and answers. */
	assert_int_equal(sl_net_classify(&peer, req, n, 0, &pkt), SL_NET_ARP_REQUEST);
	assert_int_equal(sl_net_classify(&other, req, n, 0, &pkt), SL_NET_DROP_ARP_OTHER);
	m = sl_net_build_arp_reply(&peer, req, n, rep, sizeof(rep));
	assert_true(m >= 42);
	/* We learn the peer's MAC from its reply, and nothing from a reply about
	 * another address. */
	memset(&mac, 0, sizeof(mac));
	assert_true(sl_sendpmd_arp_learn(&us, peer.ip, rep, m, &mac));
	assert_memory_equal(&mac, &peer_mac, sizeof(mac));
	assert_false(sl_sendpmd_arp_learn(&us, ip4("10.9.0.3"), rep, m, &mac));
	assert_false(sl_sendpmd_arp_learn(&us, peer.ip, rep, 41, &mac));
	/* A reply to someone else is not ours. */
	{
		struct sl_net_iface them =
			iface(&(struct rte_ether_addr){ { 2, 0, 0, 0, 0, 9 } }, "10.9.0.9", 1);
		uint8_t r2[64], q2[64];
		uint32_t k = sl_net_build_arp_request(&them, peer.ip, q2, sizeof(q2));

		k = sl_net_build_arp_reply(&peer, q2, k, r2, sizeof(r2));
		assert_false(sl_sendpmd_arp_learn(&us, peer.ip, r2, k, &mac));
	}
	/* A request from the peer for our address teaches its MAC too, and classifies
	 * as a request for us to answer; one for another address does not. */
	n = sl_net_build_arp_request(&peer, us.ip, req, sizeof(req));
	assert_true(sl_sendpmd_arp_learn(&us, peer.ip, req, n, &mac));
	assert_int_equal(sl_sendpmd_classify(&us, peer.ip, 7400, req, n, 0, &pkt,
					     &(enum sl_net_verdict){ 0 }),
			 SL_SENDPMD_RX_ARP_REQUEST);
	n = sl_net_build_arp_request(&peer, ip4("10.9.0.3"), req, sizeof(req));
	assert_false(sl_sendpmd_arp_learn(&us, peer.ip, req, n, &mac));
	/* A broadcast or zero sender address is never learnt. */
	memcpy(bad, rep, m);
	memset(bad + 22, 0xff, 6);
	assert_false(sl_sendpmd_arp_learn(&us, peer.ip, bad, m, &mac));
	memset(bad + 22, 0, 6);
	assert_false(sl_sendpmd_arp_learn(&us, peer.ip, bad, m, &mac));
	/* Not ARP at all. */
	memcpy(bad, rep, m);
	bad[13] = 0x00;
	assert_false(sl_sendpmd_arp_learn(&us, peer.ip, bad, m, &mac));
}

static void
test_classify(void **state)
{
	const struct sl_net_iface us = iface(&our_mac, "10.9.0.2", 50000);
	const struct sl_net_iface peer = iface(&peer_mac, "10.9.0.1", 7400);
	const struct sl_net_iface stranger = iface(&peer_mac, "10.9.0.1", 7401);
	uint8_t payload[100] = { 1, 2, 3 }, f[200];
	enum sl_net_verdict v;
	struct sl_net_pkt pkt;
	uint32_t n;

	(void)state;
	n = sl_net_build_udp(&peer, &our_mac, us.ip, 50000, false, 0, payload, 100, f, sizeof(f));
	assert_int_equal(sl_sendpmd_classify(&us, peer.ip, 7400, f, n, 0, &pkt, &v),
			 SL_SENDPMD_RX_DATAGRAM);
	assert_int_equal(v, SL_NET_UDP);
	assert_int_equal(pkt.payload_len, 100);
	assert_memory_equal(pkt.payload, payload, 100);
	/* The right address from another port, or another address: not the receiver. */
	n = sl_net_build_udp(&stranger, &our_mac, us.ip, 50000, false, 0, payload, 100, f,
			     sizeof(f));
	assert_int_equal(sl_sendpmd_classify(&us, peer.ip, 7400, f, n, 0, &pkt, &v),
			 SL_SENDPMD_RX_WRONG_PEER);
	assert_int_equal(sl_sendpmd_classify(&us, ip4("10.9.0.5"), 7401, f, n, 0, &pkt, &v),
			 SL_SENDPMD_RX_WRONG_PEER);
	/* To another of our ports: dropped by lib/net's verdict. */
	n = sl_net_build_udp(&peer, &our_mac, us.ip, 50001, false, 0, payload, 100, f, sizeof(f));
	assert_int_equal(sl_sendpmd_classify(&us, peer.ip, 7400, f, n, 0, &pkt, &v),
			 SL_SENDPMD_RX_DROP);
	assert_int_equal(v, SL_NET_DROP_WRONG_PORT);
	assert_int_equal(sl_sendpmd_classify(&us, peer.ip, 7400, f, 10, 0, &pkt, &v),
			 SL_SENDPMD_RX_DROP);
	assert_int_equal(v, SL_NET_DROP_RUNT);
}

/*
 * sl_sendpmd_memif_connect() against a model of a memif server: it takes a client
 * whose queue counts are within its own once it listens; a start can fail (the
 * PMD's connect() or its control channel) on chosen calls. Time is the model's.
 */
struct model {
	uint16_t takes_rx, takes_tx; /* The server's queues. */
	uint64_t listens_at;         /* Before this, every start fails (no listener). */
	uint32_t fail_mask;          /* Start call k (from 0) fails if bit k is set. */
	unsigned stop_at;            /* Set *stop on this start call (0: never). */
	volatile int *stop;
	uint64_t now;
	unsigned starts, stops;
	bool started, up;
	uint16_t rxq, txq;   /* Of the last start. */
	uint16_t log[64][2]; /* Every start's counts. */
	int rc[64];          /* And what it returned. */
};

static int
m_start(void *arg, uint16_t rxq, uint16_t txq, char *err, size_t errlen)
{
	struct model *m = arg;
	unsigned k = m->starts++;
	int rc = 0;

	/* As rte_eth_dev_configure() refuses a started port. */
	assert_false(m->started);
	m->now += 1000000; /* configure + queue set-up + connect() */
	if (k < 64) {
		m->log[k][0] = rxq;
		m->log[k][1] = txq;
	}
	if (m->stop_at != 0 && k + 1 == m->stop_at)
		*m->stop = 1;
	if (m->now < m->listens_at || (k < 32 && (m->fail_mask >> k) & 1))
		rc = -ECONNREFUSED;
	if (k < 64)
		m->rc[k] = rc;
	if (rc != 0) {
		snprintf(err, errlen, "start failed (call %u)", k);
		return rc;
	}
	m->started = true;
	m->rxq = rxq;
	m->txq = txq;
	m->up = rxq <= m->takes_rx && txq <= m->takes_tx;
	return 0;
}

static void
m_stop(void *arg)
{
	struct model *m = arg;

	if (m->started)
		m->stops++;
	m->started = m->up = false;
}

static bool
m_up_within(void *arg, uint64_t ns)
{
	struct model *m = arg;

	if (m->started && m->up) {
		m->now += 3000000; /* the handshake */
		return true;
	}
	m->now += ns;
	return false;
}

static void
m_sleep(void *arg, uint64_t ns)
{
	((struct model *)arg)->now += ns;
}

static uint64_t
m_now(void *arg)
{
	return ((struct model *)arg)->now;
}

static int
probe_run(struct model *m, uint16_t want_rx, uint16_t want_tx, uint16_t *rx, uint16_t *tx,
	  char *err, size_t errlen)
{
	static volatile int stop;
	const struct sl_sendpmd_link_ops ops = {
		.start = m_start,
		.stop = m_stop,
		.up_within = m_up_within,
		.sleep = m_sleep,
		.now = m_now,
		.arg = m,
	};
	const struct sl_sendpmd_probe p = {
		.who = "port 0 (net_memif)",
		.rx_queues = want_rx,
		.tx_queues = want_tx,
		.max_rx = 1024,
		.max_tx = 1024,
		.limit_ns = 30000000000ull,
		.stop = &stop,
	};

	stop = 0;
	m->stop = &stop;
	*rx = *tx = 0;
	return sl_sendpmd_memif_connect(&ops, &p, rx, tx, err, errlen);
}

/* The counts of start call k. */
static void
assert_start(const struct model *m, unsigned k, uint16_t rx, uint16_t tx)
{
	assert_true(k < m->starts);
	assert_int_equal(m->log[k][0], rx);
	assert_int_equal(m->log[k][1], tx);
}

static void
test_memif_probe(void **state)
{
	struct model m = { .takes_rx = 2, .takes_tx = 1 };
	uint16_t rx, tx;
	char err[256];

	(void)state;
	/* RX up while taken, then TX; each refusal goes back to what was taken. */
	assert_int_equal(probe_run(&m, 0, 0, &rx, &tx, err, sizeof(err)), 0);
	assert_int_equal(rx, 2);
	assert_int_equal(tx, 1);
	assert_true(m.started && m.up);
	assert_int_equal(m.starts, 6);
	assert_start(&m, 0, 1, 1);
	assert_start(&m, 1, 2, 1);
	assert_start(&m, 2, 3, 1);
	assert_start(&m, 3, 2, 1);
	assert_start(&m, 4, 2, 2);
	assert_start(&m, 5, 2, 1);
	/* A refusal costs the least probe wait (20 handshakes are less here). */
	assert_true(m.now >= 2 * SL_SENDPMD_PROBE_MIN_NS);
	assert_true(m.now < 3 * SL_SENDPMD_PROBE_MIN_NS);

	/* Counts given: no probing, one start. */
	memset(&m, 0, sizeof(m));
	m.takes_rx = m.takes_tx = 4;
	assert_int_equal(probe_run(&m, 4, 3, &rx, &tx, err, sizeof(err)), 0);
	assert_int_equal(m.starts, 1);
	assert_int_equal(rx, 4);
	assert_int_equal(tx, 3);
	/* One given, the other probed. */
	memset(&m, 0, sizeof(m));
	m.takes_rx = m.takes_tx = 4;
	assert_int_equal(probe_run(&m, 2, 0, &rx, &tx, err, sizeof(err)), 0);
	assert_int_equal(rx, 2);
	assert_int_equal(tx, 4);
	for (unsigned k = 0; k < m.starts; k++)
		assert_int_equal(m.log[k][0], 2);

	/* Never above SL_SENDPMD_MEMIF_PROBE_MAX. */
	memset(&m, 0, sizeof(m));
	m.takes_rx = m.takes_tx = 100;
	assert_int_equal(probe_run(&m, 0, 0, &rx, &tx, err, sizeof(err)), 0);
	assert_int_equal(rx, SL_SENDPMD_MEMIF_PROBE_MAX);
	assert_int_equal(tx, SL_SENDPMD_MEMIF_PROBE_MAX);
}

static void
test_memif_probe_failed_starts(void **state)
{
	struct model m = { .takes_rx = 2, .takes_tx = 1, .listens_at = 3000000000ull };
	uint16_t rx, tx;
	char err[256];

	(void)state;
	/* A server that listens only after 3 s is waited for. */
	assert_int_equal(probe_run(&m, 0, 0, &rx, &tx, err, sizeof(err)), 0);
	assert_int_equal(rx, 2);
	assert_int_equal(tx, 1);
	assert_true(m.rc[0] != 0);

	/* A start that fails while probing is tried again: it is no refusal (the
	 * failure CI saw: sluice-send gave up at once with every file pending). */
	memset(&m, 0, sizeof(m));
	m.takes_rx = 2;
	m.takes_tx = 1;
	m.fail_mask = 1u << 1; /* the first (2, 1) */
	assert_int_equal(probe_run(&m, 0, 0, &rx, &tx, err, sizeof(err)), 0);
	assert_int_equal(rx, 2);
	assert_int_equal(tx, 1);
	assert_start(&m, 1, 2, 1);
	assert_start(&m, 2, 2, 1);

	/* So is the start back to the counts taken after a refusal. */
	memset(&m, 0, sizeof(m));
	m.takes_rx = 2;
	m.takes_tx = 1;
	m.fail_mask = (1u << 3) | (1u << 4); /* (2, 1) after (3, 1) was refused, twice */
	assert_int_equal(probe_run(&m, 0, 0, &rx, &tx, err, sizeof(err)), 0);
	assert_int_equal(rx, 2);
	assert_int_equal(tx, 1);
	assert_true(m.started && m.up);
	assert_int_equal(m.rxq, 2);
	assert_int_equal(m.txq, 1);

	/* Only SL_SENDPMD_PROBE_START_TRIES failures in a row count as a refusal. */
	memset(&m, 0, sizeof(m));
	m.takes_rx = 2;
	m.takes_tx = 1;
	m.fail_mask = ((1u << SL_SENDPMD_PROBE_START_TRIES) - 1) << 1;
	assert_int_equal(probe_run(&m, 0, 0, &rx, &tx, err, sizeof(err)), 0);
	assert_int_equal(rx, 1);
	assert_int_equal(tx, 1);
	assert_true(m.started && m.up);
}

static void
test_memif_probe_gives_up(void **state)
{
	struct model m = { .takes_rx = 0, .takes_tx = 0 };
	uint16_t rx, tx;
	char err[256];

	(void)state;
	/* A server that never takes us: down after the limit, with what was tried. */
	assert_int_equal(probe_run(&m, 0, 0, &rx, &tx, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "port 0 (net_memif): link down after 30 s with 1 RX and 1 TX"));
	assert_true(m.now >= 30000000000ull);
	assert_true(m.now < 36000000000ull);
	assert_int_equal(rx, 0);

	/* No listener at all: the start's own error, after the limit too. */
	memset(&m, 0, sizeof(m));
	m.listens_at = UINT64_MAX;
	assert_int_equal(probe_run(&m, 0, 0, &rx, &tx, err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "start failed"));
	assert_true(m.now >= 30000000000ull);

	/* A stop request ends it at once, whether starts fail or succeed. */
	memset(&m, 0, sizeof(m));
	m.listens_at = UINT64_MAX;
	m.stop_at = 2;
	assert_int_equal(probe_run(&m, 0, 0, &rx, &tx, err, sizeof(err)), -EINTR);
	assert_int_equal(m.starts, 2);
	memset(&m, 0, sizeof(m));
	m.takes_rx = 4;
	m.takes_tx = 4;
	m.stop_at = 3;
	m.fail_mask = 1u << 2;
	assert_int_equal(probe_run(&m, 0, 0, &rx, &tx, err, sizeof(err)), -EINTR);
	assert_int_equal(m.starts, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_extract),
		cmocka_unit_test(test_sender_options_known),
		cmocka_unit_test(test_find_option),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_next_hop),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_memif_probe),
		cmocka_unit_test(test_memif_probe_failed_starts),
		cmocka_unit_test(test_memif_probe_gives_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
