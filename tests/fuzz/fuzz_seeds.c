/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writes the seed corpora of the fuzz targets: real frames, real protocol
 * messages from sl_proto_encode(), real pcap/pcapng files and sidecars from
 * lib/pcap and lib/stage, hostile names, typical command lines, the shipped
 * NIC profiles and key files.
 *
 *   fuzz_seeds OUTDIR [DRIVERS_CONFIG_DIR]
 *
 * writes OUTDIR/<target>/<seed> (the directories must exist). The committed
 * seeds under tests/fuzz/corpus were made by it, as
 * "build-fuzz/tests/fuzz/fuzz_seeds tests/fuzz/corpus drivers-config" (without
 * the second argument, the profiles' seeds are not written); run it again
 * after a change to a format. (The few seeds named found_* are not its: they
 * are inputs of fuzzing runs that added the most coverage to the others,
 * picked with -merge=1.) It is no fuzz target: it links no libFuzzer and
 * is built only when asked for (ninja -C build-fuzz tests/fuzz/fuzz_seeds).
 * Frames are addressed to the interface fuzz_net.c assumes:
 * 02:00:00:00:00:01, 10.0.0.1, fd00::1, UDP port 7400.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "sl_net.h"
#include "sl_pcap.h"
#include "sl_proto.h"
#include "sl_stage.h"

static const char *outdir;

static void
seed(const char *target, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "fuzz_seeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static void
seed_str(const char *target, const char *name, const char *s)
{
	seed(target, name, s, strlen(s));
}

/* A command line: the arguments given with their NUL terminators. */
static void
seed_args(const char *target, const char *name, const char *const *args)
{
	uint8_t buf[4096];
	size_t n = 0;

	for (; *args != NULL; args++) {
		size_t len = strlen(*args) + 1;

		memcpy(buf + n, *args, len);
		n += len;
	}
	seed(target, name, buf, n);
}

/* Frames. */

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t our_ip[4] = { 10, 0, 0, 1 };
static const uint8_t peer_ip[4] = { 10, 0, 0, 2 };
static const uint8_t our_ip6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t peer_ip6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
static const uint8_t snm_ip6[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1 };
static const uint8_t snm_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };

enum tags {
	NO_TAG,
	ONE_TAG,
	QINQ,
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
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
csum(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet header with tags; returns the L3 offset. */
static size_t
eth(uint8_t *f, const uint8_t *dst, uint16_t type, enum tags tags)
{
	size_t off = 12;

	memcpy(f, dst, 6);
	memcpy(f + 6, peer_mac, 6);
	if (tags == QINQ) {
		put16(f + off, 0x88a8);
		put16(f + off + 2, 200);
		off += 4;
	}
	if (tags != NO_TAG) {
		put16(f + off, 0x8100);
		put16(f + off + 2, 100);
		off += 4;
	}
	put16(f + off, type);
	return off + 2;
}

static size_t
pad60(uint8_t *f, size_t len)
{
	if (len < 60) {
		memset(f + len, 0, 60 - len);
		len = 60;
	}
	return len;
}

static size_t
arp_request(uint8_t *f, enum tags tags, const uint8_t *target)
{
	size_t l3 = eth(f, bcast, 0x0806, tags);
	uint8_t *a = f + l3;

	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);
	memcpy(a + 8, peer_mac, 6);
	memcpy(a + 14, peer_ip, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, target, 4);
	return pad60(f, l3 + 28);
}

/* The IPv4 source of the frames ipv4() builds. */
static const uint8_t *v4_src = peer_ip;

/* IPv4 with @p opt_len bytes of options (NOPs), @p frag the flags and offset field. */
static size_t
ipv4(uint8_t *f, enum tags tags, uint8_t proto, uint16_t frag, size_t opt_len, const uint8_t *l4,
     size_t l4_len)
{
	size_t l3 = eth(f, our_mac, 0x0800, tags), ihl = 20 + opt_len;
	uint8_t *ip = f + l3;

	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(ihl + l4_len));
	put16(ip + 4, 0x1234);
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	put16(ip + 10, 0);
	memcpy(ip + 12, v4_src, 4);
	memcpy(ip + 16, our_ip, 4);
	memset(ip + 20, 1, opt_len);
	put16(ip + 10, csum(sum16(ip, ihl, 0)));
	memcpy(ip + ihl, l4, l4_len);
	if (proto == 17 && l4_len >= 8) {
		uint8_t *udp = ip + ihl;
		uint32_t s = sum16(ip + 12, 8, 0) + 17 + (uint32_t)l4_len;

		put16(udp + 6, 0);
		put16(udp + 6, csum(sum16(udp, l4_len, s)));
	}
	return pad60(f, l3 + ihl + l4_len);
}

/* IPv6 with the extension headers in @p ext (already chained to @p proto). */
static size_t
ipv6(uint8_t *f, const uint8_t *dst_mac, enum tags tags, const uint8_t *dst, uint8_t next,
     uint8_t hop_limit, const uint8_t *ext, size_t ext_len, uint8_t proto, const uint8_t *l4,
     size_t l4_len, const uint8_t *src)
{
	size_t l3 = eth(f, dst_mac, 0x86dd, tags);
	uint8_t *ip = f + l3, *p;
	uint32_t s;

	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(ext_len + l4_len));
	ip[6] = ext_len ? next : proto;
	ip[7] = hop_limit;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	if (ext_len > 0)
		memcpy(ip + 40, ext, ext_len);
	p = ip + 40 + ext_len;
	memcpy(p, l4, l4_len);
	s = sum16(src, 16, 0) + sum16(dst, 16, 0) + (uint32_t)l4_len + proto;
	if (proto == 17) {
		put16(p + 6, 0);
		put16(p + 6, csum(sum16(p, l4_len, s)));
	} else if (proto == 58) {
		put16(p + 2, 0);
		put16(p + 2, csum(sum16(p, l4_len, s)));
	}
	return pad60(f, l3 + 40 + ext_len + l4_len);
}

static size_t
udp_header(uint8_t *u, const uint8_t *payload, size_t len)
{
	put16(u, 40000);
	put16(u + 2, 7400);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	memcpy(u + 8, payload, len);
	return 8 + len;
}

static size_t
neighbour_solicit(uint8_t *m, bool with_option)
{
	memset(m, 0, 24);
	m[0] = 135;
	memcpy(m + 8, our_ip6, 16);
	if (!with_option)
		return 24;
	m[24] = 1; /* source link-layer address */
	m[25] = 1;
	memcpy(m + 26, peer_mac, 6);
	return 32;
}

static void
net_seeds(const uint8_t *hello, size_t hello_len)
{
	static const uint8_t zero6[16];
	struct sl_net_iface peer = { .udp_port = 40000 };
	struct sl_net_peer to = { .family = 6, .udp_port = 7400 };
	struct rte_ether_addr dst;
	uint8_t f[2048], l4[1500], ext[16];
	uint32_t ip;
	size_t n, m;

	seed("net", "arp_request", f, arp_request(f, NO_TAG, our_ip));
	seed("net", "arp_request_vlan", f, arp_request(f, ONE_TAG, our_ip));
	seed("net", "arp_request_qinq", f, arp_request(f, QINQ, our_ip));
	seed("net", "arp_request_other", f, arp_request(f, NO_TAG, peer_ip));

	memset(l4, 0, 8);
	l4[0] = 8;
	put16(l4 + 4, 0x4242);
	put16(l4 + 6, 1);
	for (int i = 0; i < 32; i++)
		l4[8 + i] = (uint8_t)i;
	put16(l4 + 2, csum(sum16(l4, 40, 0)));
	seed("net", "icmp_echo", f, ipv4(f, NO_TAG, 1, 0, 0, l4, 40));
	seed("net", "icmp_echo_vlan", f, ipv4(f, ONE_TAG, 1, 0, 0, l4, 40));

	/* UDP from the peer, built by lib/net as the peer would. */
	memcpy(peer.mac.addr_bytes, peer_mac, 6);
	memcpy(&peer.ip, peer_ip, 4);
	memcpy(peer.ip6, peer_ip6, 16);
	memcpy(dst.addr_bytes, our_mac, 6);
	memcpy(&ip, our_ip, 4);
	n = sl_net_build_udp(&peer, &dst, ip, 7400, false, 0, hello, (uint32_t)hello_len, f,
			     sizeof(f));
	seed("net", "udp4_hello", f, n);
	n = sl_net_build_udp(&peer, &dst, ip, 7400, true, 0x2064, hello, (uint32_t)hello_len, f,
			     sizeof(f));
	seed("net", "udp4_hello_vlan", f, n);
	memcpy(to.mac.addr_bytes, our_mac, 6);
	memcpy(to.ip, our_ip6, 16);
	n = sl_net_build_udp_to(&peer, &to, hello, (uint32_t)hello_len, f, sizeof(f));
	seed("net", "udp6_hello", f, n);
	to.vlan = true;
	to.vlan_tci = 100;
	n = sl_net_build_udp_to(&peer, &to, hello, (uint32_t)hello_len, f, sizeof(f));
	seed("net", "udp6_hello_vlan", f, n);

	/* UDP by hand: zero checksum, IP options, a fragment, QinQ. */
	m = udp_header(l4, (const uint8_t *)"payload", 7);
	n = ipv4(f, NO_TAG, 17, 0x4000, 0, l4, m);
	put16(f + 14 + 20 + 6, 0);
	seed("net", "udp4_no_csum", f, n);
	seed("net", "udp4_options", f, ipv4(f, NO_TAG, 17, 0, 8, l4, m));
	seed("net", "udp4_fragment", f, ipv4(f, NO_TAG, 17, 0x2000, 0, l4, m));
	seed("net", "udp4_fragment_offset", f, ipv4(f, NO_TAG, 17, 0x0010, 0, l4, m));
	seed("net", "udp4_qinq", f, ipv4(f, QINQ, 17, 0, 0, l4, m));
	seed("net", "ipv4_tcp", f, ipv4(f, NO_TAG, 6, 0, 0, l4, m));

	/* IPv6: hop-by-hop then destination options, a fragment header. */
	memset(ext, 0, sizeof(ext));
	ext[0] = 60; /* hop-by-hop, next: destination options */
	ext[8] = 17; /* destination options, next: UDP */
	seed("net", "udp6_ext_headers", f,
	     ipv6(f, our_mac, NO_TAG, our_ip6, 0, 64, ext, 16, 17, l4, m, peer_ip6));
	memset(ext, 0, 8);
	ext[0] = 17; /* fragment header, next: UDP */
	ext[3] = 1;  /* more fragments */
	seed("net", "udp6_fragment", f,
	     ipv6(f, our_mac, NO_TAG, our_ip6, 44, 64, ext, 8, 17, l4, m, peer_ip6));

	/* NDP and ICMPv6 echo. */
	m = neighbour_solicit(l4, true);
	seed("net", "ndp_ns", f,
	     ipv6(f, snm_mac, NO_TAG, snm_ip6, 0, 255, NULL, 0, 58, l4, m, peer_ip6));
	seed("net", "ndp_ns_vlan", f,
	     ipv6(f, snm_mac, ONE_TAG, snm_ip6, 0, 255, NULL, 0, 58, l4, m, peer_ip6));
	seed("net", "ndp_ns_qinq", f,
	     ipv6(f, snm_mac, QINQ, snm_ip6, 0, 255, NULL, 0, 58, l4, m, peer_ip6));
	seed("net", "ndp_ns_unicast", f,
	     ipv6(f, our_mac, NO_TAG, our_ip6, 0, 255, NULL, 0, 58, l4, m, peer_ip6));
	m = neighbour_solicit(l4, false);
	seed("net", "ndp_ns_dad", f,
	     ipv6(f, snm_mac, NO_TAG, snm_ip6, 0, 255, NULL, 0, 58, l4, m, zero6));
	memset(l4, 0, 8);
	l4[0] = 128;
	put16(l4 + 4, 7);
	put16(l4 + 6, 1);
	memcpy(l4 + 8, "abcdefghijklmnop", 16);
	seed("net", "icmp6_echo", f,
	     ipv6(f, our_mac, NO_TAG, our_ip6, 0, 64, NULL, 0, 58, l4, 24, peer_ip6));
	ext[0] = 58; /* hop-by-hop, next: ICMPv6 (MLD carries Router Alert so) */
	memset(ext + 1, 0, 7);
	seed("net", "icmp6_echo_hopopts", f,
	     ipv6(f, our_mac, NO_TAG, our_ip6, 0, 64, ext, 8, 58, l4, 24, peer_ip6));

	/* Sources no host may have: never answered (regressions). */
	v4_src = (const uint8_t[4]){ 255, 255, 255, 255 };
	m = udp_header(l4, hello, hello_len);
	seed("net", "regress_udp4_from_broadcast", f, ipv4(f, NO_TAG, 17, 0, 0, l4, m));
	v4_src = (const uint8_t[4]){ 224, 0, 0, 1 };
	memset(l4, 0, 8);
	l4[0] = 8;
	put16(l4 + 2, csum(sum16(l4, 8, 0)));
	seed("net", "regress_icmp_echo_from_multicast", f, ipv4(f, NO_TAG, 1, 0, 0, l4, 8));
	v4_src = peer_ip;

	memset(f, 0, 64);
	seed("net", "runt", f, 10);
	n = eth(f, our_mac, 0x88cc, NO_TAG); /* LLDP */
	seed("net", "lldp", f, pad60(f, n));
}

/* Protocol messages, from the codec's encoder. */

static size_t
encode(const struct sl_proto_msg *m, uint8_t *buf)
{
	int n = sl_proto_encode(m, buf, SL_PROTO_MAX_PAYLOAD_MAX);

	if (n < 0) {
		fprintf(stderr, "fuzz_seeds: cannot encode type %u: %d\n", m->type, n);
		exit(1);
	}
	return (size_t)n;
}

static size_t
proto_seeds(uint8_t *hello_out)
{
	static const uint32_t digests[3] = { 0x11111111, 0x22222222, 0x33333333 };
	static const struct sl_proto_range ranges[2] = { { 0, 4 }, { 6, 2 } };
	static const struct sl_proto_missing missing[3] = { { 1048576, 1400 },
							    { 1052176, 60000 },
							    { 2097152, 1024 } };
	const struct sl_proto_ack_entry entries[2] = {
		{ .file_id = 1,
		  .received_upto = 1,
		  .durable_upto = 0,
		  .nmissing = 2,
		  .missing = missing },
		{ .file_id = 2,
		  .received_upto = 0,
		  .durable_upto = 0,
		  .nmissing = 1,
		  .missing = missing + 2 },
	};
	const uint64_t session = 0x0123456789abcdefull;
	uint8_t buf[SL_PROTO_MAX_PAYLOAD_MAX], payload[1400];
	struct sl_proto_msg m;
	size_t hello_len;

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_HELLO;
	memcpy(m.hello.client_nonce, "nonce-01", 8);
	m.hello.max_payload = 1472;
	hello_len = encode(&m, hello_out);
	seed("proto", "hello", hello_out, hello_len);
	m.hello.hello_flags = SL_PROTO_HELLO_PSK;
	m.hello.max_payload = 8972;
	seed("proto", "hello_psk_jumbo", buf, encode(&m, buf));

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_COOKIE;
	memcpy(m.cookie.client_nonce, "nonce-01", 8);
	m.cookie.issued = 1767225600;
	memcpy(m.cookie.cookie, "0123456789abcdef", 16);
	seed("proto", "cookie", buf, encode(&m, buf));

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_CONNECT;
	memcpy(m.connect.client_nonce, "nonce-01", 8);
	m.connect.issued = 1767225600;
	memcpy(m.connect.cookie, "0123456789abcdef", 16);
	m.connect.max_payload = 1472;
	seed("proto", "connect", buf, encode(&m, buf));
	m.connect.psk_id = "alice";
	m.connect.psk_id_len = 5;
	memset(m.connect.auth, 0xab, sizeof(m.connect.auth));
	m.flags = 0x8000; /* fuzz_proto: seal the proof of alice's key */
	seed("proto", "connect_psk", buf, encode(&m, buf));

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_WELCOME;
	m.session = session;
	memcpy(m.welcome.client_nonce, "nonce-01", 8);
	m.welcome.max_payload = 1472;
	m.welcome.max_chunk = 1 << 20;
	m.welcome.credit = 8 << 20;
	m.welcome.max_files = 32;
	seed("proto", "welcome", buf, encode(&m, buf));
	m.welcome.has_auth = true;
	memset(m.welcome.auth, 0xcd, sizeof(m.welcome.auth));
	seed("proto", "welcome_auth", buf, encode(&m, buf));

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_MANIFEST;
	m.session = session;
	m.manifest.file_id = 1;
	m.manifest.size = 3 * 1048576 - 100;
	m.manifest.mode = 0644;
	m.manifest.mtime_ns = 1767225600123456789ll;
	m.manifest.chunk_size = 1048576;
	memset(m.manifest.file_sha256, 0x5a, 32);
	m.manifest.path = "run42/report.pdf";
	m.manifest.path_len = (uint16_t)strlen(m.manifest.path);
	m.manifest.count = 3;
	m.manifest.digests = digests;
	seed("proto", "manifest", buf, encode(&m, buf));
	m.manifest.size = 0;
	m.manifest.count = 0;
	m.manifest.path = "empty";
	m.manifest.path_len = 5;
	seed("proto", "manifest_empty_file", buf, encode(&m, buf));

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_DIGESTS;
	m.session = session;
	m.digests.file_id = 1;
	m.digests.first = 3;
	m.digests.count = 3;
	m.digests.digests = digests;
	seed("proto", "digests", buf, encode(&m, buf));

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_FILE_STATUS;
	m.session = session;
	m.file_status.file_id = 1;
	m.file_status.status = SL_PROTO_STATUS_READY;
	m.file_status.digests_needed = 8;
	m.file_status.count = 2;
	m.file_status.ranges = ranges;
	seed("proto", "file_status_ready", buf, encode(&m, buf));
	m.file_status.status = SL_PROTO_STATUS_OK;
	m.file_status.count = 0;
	seed("proto", "file_status_ok", buf, encode(&m, buf));

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_DATA;
	m.session = session;
	m.flags = SL_PROTO_FLAG_ACK_NOW;
	m.data.file_id = 1;
	m.data.offset = 1048576;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13);
	m.data.payload = payload;
	m.data.len = 1400;
	seed("proto", "data", buf, encode(&m, buf));
	m.data.len = 0;
	m.flags = 0;
	seed("proto", "data_empty", buf, encode(&m, buf));

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_ACK;
	m.session = session;
	m.ack.credit_limit = 9 << 20;
	m.ack.count = 2;
	m.ack.entries = entries;
	seed("proto", "ack", buf, encode(&m, buf));

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_BYE;
	m.session = session;
	seed("proto", "bye", buf, encode(&m, buf));

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_REJECT;
	m.reject.reason = SL_PROTO_REJECT_BAD_COOKIE;
	memcpy(m.reject.client_nonce, "nonce-01", 8);
	seed("proto", "reject_handshake", buf, encode(&m, buf));
	m.session = session;
	m.reject.reason = SL_PROTO_REJECT_UNKNOWN_SESSION;
	seed("proto", "reject_session", buf, encode(&m, buf));
	return hello_len;
}

/* Names. */

static void
safepath_seeds(void)
{
	static const struct {
		const char *name;
		const char *text;
	} names[] = {
		{ "plain", "report.pdf" },
		{ "nested", "run42/sub dir/data.tar" },
		{ "unicode", "donn\xc3\xa9"
			     "es/\xd1\x84\xd0\xb0\xd0\xb9\xd0\xbb.txt" },
		{ "backslash", "a\\b" },
		{ "dotfile", ".config/x" },
		{ "sluice_nested", "x/.sluice/y" },
		{ "dotdot", "../etc/passwd" },
		{ "dotdot_inner", "a/../../b" },
		{ "dot", "a/./b" },
		{ "absolute", "/etc/passwd" },
		{ "double_slash", "a//b" },
		{ "trailing_slash", "a/b/" },
		{ "reserved", ".sluice/staging/x" },
		{ "overlong_slash", "a\xc0\xaf"
				    "b" },
		{ "surrogate", "\xed\xa0\x80" },
		{ "beyond_10ffff", "\xf4\x90\x80\x80" },
		{ "truncated_utf8", "abc\xe2\x82" },
		{ "c0_control", "tab\there" },
		{ "del", "del\x7f" },
		{ "c1_control", "nel\xc2\x85" },
		{ "symlink_up", "up/escaped" },
		{ "symlink_abs", "abs/escaped" },
		{ "through_file", "file/x" },
		{ "into_dir", "dir/new/file" },
	};
	char buf[8192];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		seed_str("safepath", names[i].name, names[i].text);
	seed("safepath", "nul", "a\0b", 3);
	memset(buf, 'a', 256);
	seed("safepath", "component_255", buf, 255);
	seed("safepath", "component_256", buf, 256);
	for (int i = 0; i < 65; i++) {
		buf[n++] = 'd';
		buf[n++] = '/';
	}
	seed("safepath", "depth_64", buf, 64 * 2 - 1);
	seed("safepath", "depth_65", buf, 65 * 2 - 1);
	memset(buf, 'x', 4096);
	for (int i = 200; i < 4096; i += 200)
		buf[i] = '/';
	seed("safepath", "length_4095", buf, 4095);
	seed("safepath", "length_4096", buf, 4096);
}

/* pcap: structured inputs for the round trip (first byte even) and files for
 * the reader (first byte odd). */

static void
put_le32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void
pcap_round_trip_seed(const char *name, uint8_t flags, uint32_t snaplen, int16_t delta,
		     const uint16_t *seg_lens, unsigned nsegs)
{
	uint8_t buf[8192];
	size_t n = 0;

	buf[n++] = 0; /* round trip */
	buf[n++] = flags;
	buf[n++] = (uint8_t)((snaplen - 1) >> 24);
	buf[n++] = (uint8_t)((snaplen - 1) >> 16);
	buf[n++] = (uint8_t)((snaplen - 1) >> 8);
	buf[n++] = (uint8_t)(snaplen - 1);
	for (int i = 0; i < 8; i++) /* 2026-01-01T00:00:00.123456789Z */
		buf[n++] = (uint8_t)(1767225600123456789ull >> (56 - 8 * i));
	buf[n++] = 0; /* interface */
	buf[n++] = (uint8_t)((uint16_t)delta >> 8);
	buf[n++] = (uint8_t)delta;
	buf[n++] = (uint8_t)(nsegs - 1);
	for (unsigned i = 0; i <= (unsigned)(flags >> 1) % 8; i++) {
		buf[n++] = 5;
		memcpy(buf + n, "port0", 5);
		n += 5;
	}
	for (unsigned i = 0; i < nsegs; i++) {
		buf[n++] = (uint8_t)(seg_lens[i] >> 8);
		buf[n++] = (uint8_t)seg_lens[i];
		buf[n++] = 128; /* headroom */
		for (unsigned k = 0; k < seg_lens[i]; k++)
			buf[n++] = (uint8_t)(k + i * 31);
	}
	seed("pcap", name, buf, n);
}

static void
pcap_seeds(const uint8_t *frame, size_t frame_len)
{
	static const uint16_t one[] = { 60 };
	static const uint16_t chain[] = { 14, 0, 20, 200 };
	static const uint16_t zeros[] = { 0, 0 };
	struct sl_pcap_iface ifaces[2] = {
		{ .name = "port0", .description = "net_af_packet0", .snaplen = 262144 },
		{ .name = "port1", .snaplen = 96 },
	};
	uint8_t buf[8192];
	size_t n;

	pcap_round_trip_seed("rt_pcap_one_segment", 0, 262144, 0, one, 1);
	pcap_round_trip_seed("rt_pcapng_chain", 1 | 2 << 1, 65535, 0, chain, 4);
	pcap_round_trip_seed("rt_pcapng_pkt_len_longer", 1, 262144, 100, chain, 4);
	pcap_round_trip_seed("rt_pcap_pkt_len_shorter", 0, 262144, -50, chain, 4);
	pcap_round_trip_seed("rt_pcapng_snaplen_1", 1, 1, 0, chain, 4);
	pcap_round_trip_seed("rt_pcapng_zero_segments", 1, 262144, 0, zeros, 2);

	/* Files for the reader, from the writer. */
	buf[0] = 1;
	n = 1 + sl_pcap_header_write(SL_PCAP_FORMAT_PCAP, buf + 1, ifaces, 1);
	n += sl_pcap_record_write_flat(SL_PCAP_FORMAT_PCAP, buf + n, 1767225600123456789ull, 0,
				       frame, (uint32_t)frame_len, (uint32_t)frame_len);
	n += sl_pcap_record_write_flat(SL_PCAP_FORMAT_PCAP, buf + n, 1767225601000000000ull, 0,
				       frame, 20, (uint32_t)frame_len);
	seed("pcap", "read_pcap", buf, n);
	seed("pcap", "read_pcap_torn", buf, n - 7);
	n = 1 + sl_pcap_header_write(SL_PCAP_FORMAT_PCAPNG, buf + 1, ifaces, 2);
	n += sl_pcap_record_write_flat(SL_PCAP_FORMAT_PCAPNG, buf + n, 1767225600123456789ull, 0,
				       frame, (uint32_t)frame_len, (uint32_t)frame_len);
	n += sl_pcap_record_write_flat(SL_PCAP_FORMAT_PCAPNG, buf + n, 1767225600123456790ull, 1,
				       frame, 40, (uint32_t)frame_len);
	seed("pcap", "read_pcapng", buf, n);
	/* A simple packet block, then an unknown block (type 0x0bad). */
	put_le32(buf + n, 3);
	put_le32(buf + n + 4, 16 + 64);
	put_le32(buf + n + 8, 64);
	memcpy(buf + n + 12, frame, 64);
	put_le32(buf + n + 12 + 64, 16 + 64);
	n += 16 + 64;
	put_le32(buf + n, 0x0bad);
	put_le32(buf + n + 4, 12);
	put_le32(buf + n + 8, 12);
	n += 12;
	seed("pcap", "read_pcapng_spb_unknown", buf, n);
	/* A microsecond pcap of the other byte order, by hand. */
	{
		static const uint8_t hdr[24] = { 0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4,
						 0,    0,    0,    0,    0, 0, 0, 0,
						 0,    0,    0xff, 0xff, 0, 0, 0, 1 };
		static const uint8_t rec[16] = { 0x69, 0x56, 0x24, 0x00, 0, 0x01, 0xe2, 0x40,
						 0,    0,    0,    4,    0, 0,    0,    60 };

		buf[0] = 1;
		memcpy(buf + 1, hdr, 24);
		memcpy(buf + 25, rec, 16);
		memcpy(buf + 41, frame, 4);
		seed("pcap", "read_pcap_usec_swapped", buf, 45);
	}
	/* As many interfaces as the reader takes, a packet on the last; then one more. */
	{
		struct sl_pcap_iface many[SL_PCAP_READER_MAX_IFACES + 1];

		for (unsigned i = 0; i <= SL_PCAP_READER_MAX_IFACES; i++)
			many[i] = (struct sl_pcap_iface){ .snaplen = 128 };
		buf[0] = 1;
		n = 1 + sl_pcap_header_write(SL_PCAP_FORMAT_PCAPNG, buf + 1, many,
					     SL_PCAP_READER_MAX_IFACES);
		n += sl_pcap_record_write_flat(SL_PCAP_FORMAT_PCAPNG, buf + n,
					       1767225600123456789ull,
					       SL_PCAP_READER_MAX_IFACES - 1, frame, 60, 60);
		seed("pcap", "read_pcapng_64_ifaces", buf, n);
		n = 1 + sl_pcap_header_write(SL_PCAP_FORMAT_PCAPNG, buf + 1, many,
					     SL_PCAP_READER_MAX_IFACES + 1);
		seed("pcap", "read_pcapng_65_ifaces", buf, n);
	}
}

/* Command lines (sluice's options, after "--"). */

static void
config_seeds(void)
{
	static const char *const capture[] = { "--rx-lcores=1,2",
					       "--writer-lcores=3,4",
					       "--dir=/data/capture",
					       "--format=pcapng",
					       "--rotate-size=1G",
					       "--stats-period=1",
					       NULL };
	static const char *const file[] = { "--mode=file",
					    "--ip=10.0.0.1/24",
					    "--ip=fd00::1/64",
					    "--dir=/data/in",
					    "--psk-file=/etc/sluice/keys",
					    "--allow=10.0.0.0/24",
					    "--allow=fd00::/64",
					    NULL };
	static const char *const file_tuned[] = { "--mode=file",
						  "--ip=10.9.0.1/24@1",
						  "--udp-port=7401",
						  "--mtu=9000",
						  "--max-sessions=128",
						  "--max-files=64",
						  "--window=64M",
						  "--write-buffer=4M",
						  "--overwrite",
						  "--idle-sleep=50",
						  NULL };
	static const char *const interactive[] = {
		"-i",           "--cmdline-file=cmds.txt", "--filter=udp and dst port 7400",
		"--snaplen=96", "--format=pcap",           NULL
	};
	static const char *const perf[] = { "--perf-test=disk", "--perf-frame-size=1500",
					    "--duration=0.5", "--stats-json=/tmp/s.json", NULL };
	static const char *const tuning[] = { "--burst=64",
					      "--ring-size=65536",
					      "--rxd=4096",
					      "--mbufs=262144",
					      "--write-buffers=64",
					      "--uring-depth=256",
					      "--flush-interval=100",
					      "--rotate-seconds=3600",
					      "--max-packets=1000000",
					      "--no-promisc",
					      "--no-direct",
					      "--name-prefix=cap-1",
					      "--profile=drivers-config/mlx5.ini",
					      NULL };
	static const char *const separate[] = { "--dir", "/data",      "--rotate-size",
						"64KiB", "--duration", "10",
						NULL };
	static const char *const help[] = { "-h", NULL };
	static const char *const missing[] = { "--dir", "--format=pcap", NULL };
	static const char *const both[] = { "--rx-lcores=1-3", "--writer-lcores=3", NULL };
	/* Combinations refused as a whole. */
	static const char *const small_buffer[] = { "--snaplen=262144", "--write-buffer=64K",
						    NULL };
	static const char *const small_window[] = { "--mode=file", "--ip=10.0.0.1/24",
						    "--write-buffer=4M", "--window=1M", NULL };
	static const char *const many_files[] = { "--mode=file", "--ip=10.0.0.1/24",
						  "--max-sessions=65536", "--max-files=4096",
						  NULL };
	/* sluice-send's command lines (fuzz_config parses every input as both). */
	static const char *const send[] = { "--rate=1.5G",
					    "--chunk-size=4MiB",
					    "--max-payload=8972",
					    "--timeout=2.5",
					    "--psk-file=keys",
					    "--psk-id=alice",
					    "--bind=fd00::2",
					    "--json",
					    "-qv",
					    "[fd00::1]:7400",
					    "dir",
					    "file.bin",
					    NULL };
	static const char *const send_name[] = { "--name=remote.bin", "--rate=500k",
						 "10.0.0.1:7401",     "--",
						 "local.bin",         NULL };
	/* The fraction carried this rate past 64 bits: 383 bit/s. */
	static const char *const rate_wrap[] = { "--rate=18446744073709551.999k", "10.0.0.1", "f",
						 NULL };

	seed_args("config", "capture", capture);
	seed_args("config", "file", file);
	seed_args("config", "file_tuned", file_tuned);
	seed_args("config", "interactive", interactive);
	seed_args("config", "perf_test", perf);
	seed_args("config", "tuning", tuning);
	seed_args("config", "separate_values", separate);
	seed_args("config", "help", help);
	seed_args("config", "missing_value", missing);
	seed_args("config", "lcore_in_both", both);
	seed_args("config", "write_buffer_too_small", small_buffer);
	seed_args("config", "window_below_buffer", small_window);
	seed_args("config", "too_many_files", many_files);
	seed_args("config", "send", send);
	seed_args("config", "send_name", send_name);
	seed_args("config", "regress_send_rate_wrap", rate_wrap);
}

/* The shipped profiles, each with a command line of its bus. */
static void
profile_seeds(const char *dir)
{
	static const uint8_t pci_args[] = "-l\0"
					  "0-4\0"
					  "-a\0"
					  "0000:03:00.0\0"
					  "--allow=0000:04:00.0,rxq_cqe_comp_en=0\0"
					  "--\0"
					  "--rxd=2048\0"
					  "--dir=/data\0";
	static const uint8_t vdev_args[] = "-l\0"
					   "0-2\0"
					   "--no-huge\0"
					   "--vdev=net_null0,size=1514\0"
					   "--vdev\0"
					   "net_pcap0,rx_pcap=in.pcap\0"
					   "--vdev=eth_af_packet0\0"
					   "--\0"
					   "--burst=16\0"
					   "--mode=file\0"
					   "--ip=10.0.0.1/24\0";
	static const char hostile[] =
		"[device]\ndriver = net_ice, net_i40e\nbus = pci\n"
		"devargs = representor=[0,1],flow_mark=1\n[rx]\nrss_hash = ipv4, udp\n"
		"# comment\n  [tx]  \ndescriptors=64\n\n%%\n-a\0"
		"0000:01:00.0,flow_mark=2\0--\0";
	static const char escaped[] = "[device]\ndriver = net_pcap\nbus = vdev\n"
				      "devargs = rx_pcap=a\\#b.pcap\n%%\n--vdev=net_pcap0\0--\0";
	char line[512];
	struct dirent *e;
	DIR *d;

	if (dir == NULL)
		return;
	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "fuzz_seeds: %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX], *text;
		size_t len = strlen(e->d_name), n;
		bool vdev;
		FILE *f;

		if (len < 5 || strcmp(e->d_name + len - 4, ".ini") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		text = malloc(65536);
		if (f == NULL || text == NULL)
			exit(1);
		n = fread(text, 1, 65536 - 1024, f);
		fclose(f);
		text[n] = '\0';
		vdev = strstr(text, "bus = vdev") != NULL;
		memcpy(text + n, "\n%%\n", 4);
		n += 4;
		memcpy(text + n, vdev ? vdev_args : pci_args,
		       vdev ? sizeof(vdev_args) - 1 : sizeof(pci_args) - 1);
		n += vdev ? sizeof(vdev_args) - 1 : sizeof(pci_args) - 1;
		seed("profile", e->d_name, text, n);
		free(text);
	}
	closedir(d);
	seed("profile", "hostile_shape", hostile, sizeof(hostile) - 1);
	seed("profile", "escaped_hash_devargs", escaped, sizeof(escaped) - 1);
	/* rte_cfgfile kept more of this value than the shape check measured. */
	snprintf(line, sizeof(line),
		 "[device]\ndriver = net_null\nbus = vdev\ndevargs = a=\\#%0300d\n", 0);
	seed_str("profile", "regress_escaped_hash_long_value", line);
}

/* Sidecars from lib/stage, and chunk operations. */

static void
sidecar_seed(const char *name, uint64_t size, uint32_t chunk_size, const char *path,
	     const uint32_t *durable, unsigned nb_durable)
{
	char dir[] = "/tmp/sl-fuzz-seeds.XXXXXX";
	struct sl_sidecar_info info = { 0 };
	struct sl_chunkmap *map;
	uint8_t buf[65536];
	int dirfd, fd;
	ssize_t n;

	info.file_size = size;
	info.chunk_size = chunk_size;
	info.nb_chunks = (uint32_t)(size / chunk_size + (size % chunk_size != 0));
	info.path_len = (uint16_t)strlen(path);
	memcpy(info.path, path, info.path_len);
	memset(info.identity, 0x42, sizeof(info.identity));
	map = sl_chunkmap_create(info.nb_chunks);
	for (unsigned i = 0; i < nb_durable; i++)
		sl_chunkmap_set_durable(map, durable[i]);
	if (mkdtemp(dir) == NULL || (dirfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0 ||
	    sl_sidecar_write(dirfd, "s.state", &info, map) != 0) {
		fprintf(stderr, "fuzz_seeds: cannot write a sidecar\n");
		exit(1);
	}
	fd = openat(dirfd, "s.state", O_RDONLY);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	seed("stage", name, buf, (size_t)n);
	unlinkat(dirfd, "s.state", 0);
	close(dirfd);
	rmdir(dir);
	sl_chunkmap_destroy(map);
}

static void
stage_seeds(void)
{
	static const uint32_t some[] = { 0, 1, 2, 5, 63, 64, 99 };
	static const uint32_t first[] = { 0 };
	/* chunk_len 1400, 300 chunks, then: fill, fill, map ops, ranges. */
	static const uint8_t ops[] = {
		0x05, 0x77, 0x01, 0x2c,       /* chunk_len 1400, 300 chunks */
		0x00, 0x00, 0x00, 0x02, 0x00, /* add [0, 512) */
		0x00, 0x03, 0x00, 0x00, 0x10, /* add [768, 784) */
		0x00, 0x01, 0xf0, 0x01, 0x00, /* add [496, 752): merges */
		0x80, 0xff, 0xff, 0xff, 0xf0, 0x00, 0x00, 0x00, 0x20, /* wraps: refused */
		0x01, 0x00, 0x07,                                     /* received 7 */
		0x02, 0x00, 0x07,                                     /* durable 7 */
		0x02, 0x00, 0x08,                                     /* durable 8 */
		0x02, 0x01, 0x2b,                                     /* durable 299 */
		0x01, 0x01, 0x2c,       /* received 300: out of range */
		0x03, 0x00, 0x00, 0x01, /* ranges from 0, one at a time */
	};
	uint8_t many[4 + 5 * 70];
	size_t n = 0;

	sidecar_seed("sidecar_100_chunks", 100 * 65536ull - 3, 65536, "run42/data.bin", some, 7);
	sidecar_seed("sidecar_1_chunk", 4096, 4096, "small", first, 1);
	sidecar_seed("sidecar_none_durable", 5 * 1048576ull, 1048576, "dir/x", NULL, 0);
	sidecar_seed("sidecar_empty_file", 0, 1048576, "empty", NULL, 0);
	seed("stage", "ops_fill_and_map", ops, sizeof(ops));
	/* 70 disjoint one-byte adds into a 4096-byte chunk: past 64 intervals. */
	many[n++] = 0x0f;
	many[n++] = 0xff;
	many[n++] = 0;
	many[n++] = 10;
	for (int i = 0; i < 70; i++) {
		many[n++] = 0x00;
		many[n++] = (uint8_t)((i * 50) >> 8);
		many[n++] = (uint8_t)(i * 50);
		many[n++] = 0x00;
		many[n++] = 0x01;
	}
	seed("stage", "ops_too_many_holes", many, n);
}

/* Transcripts of a receiver, for fuzz_sender: records of an op byte (bits 2..7:
 * 16 ms steps of the clock after it), a 16-bit length and a message, whose
 * nonce, session, length and CRC the target fills in. */
static size_t
sender_record(uint8_t *buf, size_t n, uint8_t op, const struct sl_proto_msg *m)
{
	int len = sl_proto_encode(m, buf + n + 3, SL_PROTO_MAX_PAYLOAD_MAX);

	if (len < 0) {
		fprintf(stderr, "fuzz_seeds: cannot encode type %u: %d\n", m->type, len);
		exit(1);
	}
	buf[n] = op;
	buf[n + 1] = (uint8_t)(len >> 8);
	buf[n + 2] = (uint8_t)len;
	return n + 3 + (size_t)len;
}

static size_t
sender_transfer(uint8_t *buf, bool keyed, size_t *before_ok)
{
	/* The chunks of fuzz_sender.c's files (140000, 0 and 5000 bytes, 64 KiB chunks). */
	static const uint32_t chunks[3] = { 3, 0, 1 };
	static const struct sl_proto_range none[1] = { { 0, 0 } };
	static const struct sl_proto_missing hole[1] = { { 1400, 2800 } };
	struct sl_proto_ack_entry entries[3];
	struct sl_proto_msg m;
	size_t n = 0;

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_COOKIE;
	m.cookie.issued = 1767225600;
	/* Bit 1 of the first op gives the transfer a key. */
	n = sender_record(buf, n, (uint8_t)(1 << 2 | (keyed ? 2 : 0)), &m);
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_WELCOME;
	m.session = 0x5eed;
	m.welcome.max_payload = 1472;
	m.welcome.max_chunk = 1 << 20;
	m.welcome.credit = 1 << 20;
	m.welcome.max_files = 32;
	m.welcome.has_auth = keyed; /* the target signs it */
	n = sender_record(buf, n, (uint8_t)(1 << 2 | (keyed ? 2 : 0)), &m);
	for (uint32_t id = 1; id <= 3; id++) {
		memset(&m, 0, sizeof(m));
		m.type = SL_PROTO_FILE_STATUS;
		m.session = 1;
		m.file_status.file_id = id;
		m.file_status.status = SL_PROTO_STATUS_READY;
		m.file_status.digests_needed = chunks[id - 1];
		m.file_status.ranges = none;
		n = sender_record(buf, n, 1 << 2, &m);
	}
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_ACK;
	m.session = 1;
	m.ack.credit_limit = 8 << 20;
	m.ack.count = 3;
	for (uint32_t i = 0; i < 3; i++)
		entries[i] = (struct sl_proto_ack_entry){ .file_id = i + 1,
							  .received_upto = 1,
							  .durable_upto = 0 };
	entries[0].nmissing = 1;
	entries[0].missing = hole;
	m.ack.entries = entries;
	n = sender_record(buf, n, 4 << 2, &m);
	*before_ok = n;
	for (uint32_t i = 0; i < 3; i++)
		entries[i] = (struct sl_proto_ack_entry){ .file_id = i + 1,
							  .received_upto = chunks[i],
							  .durable_upto = chunks[i] };
	n = sender_record(buf, n, 4 << 2, &m);
	for (uint32_t id = 1; id <= 3; id++) {
		memset(&m, 0, sizeof(m));
		m.type = SL_PROTO_FILE_STATUS;
		m.session = 1;
		m.file_status.file_id = id;
		m.file_status.status = SL_PROTO_STATUS_OK;
		m.file_status.digests_needed = chunks[id - 1];
		n = sender_record(buf, n, 1 << 2, &m);
	}
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_BYE;
	m.session = 1;
	n = sender_record(buf, n, 1 << 2, &m);
	return n;
}

static void
sender_seeds(void)
{
	static uint8_t buf[16384];
	struct sl_proto_msg m;
	size_t n, before_ok;

	n = sender_transfer(buf, false, &before_ok);
	seed("sender", "transfer", buf, n);
	seed("sender", "transfer_until_ack", buf, before_ok);
	n = sender_transfer(buf, true, &before_ok);
	seed("sender", "transfer_psk", buf, n);

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_REJECT;
	m.reject.reason = SL_PROTO_REJECT_BAD_COOKIE;
	n = sender_record(buf, 0, 1 << 2, &m);
	m.reject.reason = SL_PROTO_REJECT_NOT_ALLOWED;
	n = sender_record(buf, n, 1 << 2, &m);
	seed("sender", "reject", buf, n);
}

static void
auth_seeds(void)
{
	seed_str("auth", "keys",
		 "# sluice keys: IDENTITY HEXKEY\n"
		 "alice 00112233445566778899aabbccddeeff\n"
		 "\n"
		 "  bob\t00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff  \n");
	seed_str("auth", "keys_crlf", "alice 00112233445566778899aabbccddeeff\r\n# x\r\n");
	seed_str("auth", "keys_duplicate",
		 "a 00112233445566778899aabbccddeeff\na 00112233445566778899aabbccddeeff\n");
	seed_str("auth", "keys_odd_hex", "alice 00112233445566778899aabbccddeef\n");
	seed_str("auth", "cidrs",
		 "10.0.0.0/24\nfd00::/64\n192.168.1.7\n10.0.0.1/24\n::/0\n"
		 "0.0.0.0/0\n2001:db8::1/129\n1.2.3.4/+8\n");
}

int
main(int argc, char **argv)
{
	uint8_t hello[SL_PROTO_MAX_PAYLOAD_MAX], frame[2048] = { 0 };
	size_t hello_len, frame_len;

	if (argc < 2) {
		fprintf(stderr, "usage: %s OUTDIR [DRIVERS_CONFIG_DIR]\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	hello_len = proto_seeds(hello);
	net_seeds(hello, hello_len);
	frame_len = arp_request(frame, ONE_TAG, our_ip);
	safepath_seeds();
	pcap_seeds(frame, frame_len);
	config_seeds();
	profile_seeds(argc > 2 ? argv[2] : NULL);
	stage_seeds();
	auth_seeds();
	sender_seeds();
	return 0;
}
