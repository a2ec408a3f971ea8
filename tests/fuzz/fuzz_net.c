/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net: sl_net_classify() on any frame (Ethernet, 802.1Q and QinQ tags, ARP,
 * IPv4, IPv6 with extension headers, UDP, ICMP, ICMPv6/NDP), under every
 * combination of the NIC's checksum flags and at an odd address; then every
 * reply builder that takes the parsed frame, and the UDP reply to the sender.
 *
 * Invariants: a verdict's payload lies inside the frame; what is accepted is
 * what the verdict says (our address and port, a source that can be answered,
 * at most an 802.1ad and an 802.1Q tag with the inner TCI reported, the
 * ethertype and types of the verdict, IPv6 extension headers that an
 * independent walk skips to the same L4 offset, a solicitation to our address
 * or its solicited-node group with well-formed options, lengths that add up,
 * checksums that an independent sum confirms); a GOOD flag never turns an
 * accepted frame into a drop; bytes after the packet change nothing about an
 * accepted frame; an interface without addresses takes nothing;
 * a builder answers exactly the frames of its verdict, writes no byte past the
 * length it returns, refuses a buffer one byte short, and builds what it
 * promises (addresses swapped, tags kept, checksums valid); the UDP reply to a
 * datagram classifies, at its sender, as UDP with the same payload.
 *
 * The input is the frame itself, without FCS; our addresses are fixed below
 * (tests/fuzz/corpus/net holds frames addressed to them).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "sl_net.h"

#define OUT_CAP (UINT16_MAX + 128)

static const struct sl_net_iface ours = {
	.mac = { .addr_bytes = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 } },
	.ip = 0, /* set in LLVMFuzzerInitialize: 10.0.0.1 */
	.udp_port = 7400,
	.ip_prefix = 24,
	.ip6 = { 0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 },
	.ip6_prefix = 64,
};
static struct sl_net_iface ifc;
static struct sl_net_iface no_address;
static uint8_t *out;
static uint8_t *misaligned;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	ifc = ours;
	ifc.ip = htonl(0x0a000001);
	no_address = ifc;
	no_address.ip = 0;
	memset(no_address.ip6, 0, sizeof(no_address.ip6));
	out = malloc(OUT_CAP);
	misaligned = malloc(OUT_CAP + 9);
	if (out == NULL || misaligned == NULL)
		abort();
	return 0;
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The one's complement sum of RFC 1071, written apart from lib/net's on purpose. */
static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
fold16(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t
pseudo4(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t l4_len)
{
	uint32_t sum = sum16(src, 4, 0);

	sum = sum16(dst, 4, sum);
	return sum + proto + (l4_len & 0xffff);
}

static uint32_t
pseudo6(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t l4_len)
{
	uint32_t sum = sum16(src, 16, 0);

	sum = sum16(dst, 16, sum);
	return sum + (l4_len >> 16) + (l4_len & 0xffff) + proto;
}

static bool
accepted(enum sl_net_verdict v)
{
	return v == SL_NET_UDP || v == SL_NET_ARP_REQUEST || v == SL_NET_ICMP_ECHO ||
	       v == SL_NET_NDP_SOLICIT || v == SL_NET_ICMP6_ECHO;
}

static bool
is_checksum_verdict(enum sl_net_verdict v)
{
	return v == SL_NET_DROP_BAD_IP_CSUM || v == SL_NET_DROP_BAD_UDP_CSUM ||
	       v == SL_NET_DROP_BAD_ICMP;
}

/* Bytes of the L4 message of an accepted IP frame. */
static uint32_t
l4_length(const uint8_t *frame, const struct sl_net_pkt *pkt)
{
	const uint8_t *l3 = frame + pkt->l3_off;

	if (pkt->family == 4)
		return be16(l3 + 2) - (uint32_t)(pkt->l4_off - pkt->l3_off);
	return pkt->l3_off + 40u + be16(l3 + 4) - pkt->l4_off;
}

static const uint8_t solicited_prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };

/*
 * The tags and ethertype of an accepted frame: 802.1Q, or 802.1ad then
 * 802.1Q, with the innermost tag's TCI reported; the ethertype of its verdict.
 */
static void
check_l2(const uint8_t *frame, enum sl_net_verdict v, const struct sl_net_pkt *pkt)
{
	uint16_t type = be16(frame + pkt->l3_off - 2);

	if (pkt->l3_off == 18)
		FUZZ_ASSERT(be16(frame + 12) == 0x8100 || be16(frame + 12) == 0x88a8);
	if (pkt->l3_off == 22)
		FUZZ_ASSERT(be16(frame + 12) == 0x88a8 && be16(frame + 16) == 0x8100);
	if (pkt->vlan)
		FUZZ_ASSERT(pkt->vlan_tci == be16(frame + pkt->l3_off - 4));
	FUZZ_ASSERT(memcmp(pkt->src_mac.addr_bytes, frame + 6, 6) == 0);
	/* An answer goes to the source MAC: never a group's. */
	FUZZ_ASSERT((frame[6] & 1) == 0);
	if (v == SL_NET_ARP_REQUEST)
		FUZZ_ASSERT(type == 0x0806);
	else if (pkt->family == 4)
		FUZZ_ASSERT(type == 0x0800);
	else
		FUZZ_ASSERT(type == 0x86dd);
}

/*
 * Where the L4 header of an IPv6 packet of @p avail bytes starts, walked
 * apart from lib/net: Hop-by-Hop options first only, Destination options
 * anywhere, each inside the payload length; 0 unless the chain ends in
 * @p proto.
 */
static uint32_t
ipv6_l4_off(const uint8_t *l3, uint32_t avail, uint8_t proto)
{
	uint32_t end = 40u + be16(l3 + 4), off = 40;
	uint8_t next = l3[6];

	if (end > avail)
		return 0;
	for (;;) {
		if (next == proto)
			return off;
		if (!(next == 60 || (next == 0 && off == 40)) || end - off < 8)
			return 0;
		next = l3[off];
		off += (l3[off + 1] + 1u) * 8;
		if (off > end)
			return 0;
	}
}

/* RFC 4861 4.6: every option of a solicitation has a nonzero length and fits. */
static bool
ndp_options_ok(const uint8_t *m, uint32_t len)
{
	uint32_t off = 24;

	while (off < len) {
		if (len - off < 2 || m[off + 1] == 0 || m[off + 1] * 8u > len - off)
			return false;
		off += m[off + 1] * 8u;
	}
	return true;
}

static void
check_verdict(const struct sl_net_iface *i, const uint8_t *frame, uint32_t len, uint32_t flags,
	      enum sl_net_verdict v, const struct sl_net_pkt *pkt)
{
	const uint8_t *l3 = frame + pkt->l3_off, *l4 = frame + pkt->l4_off;
	uint32_t l4_len;

	FUZZ_ASSERT((unsigned)v < SL_NET_NB_VERDICTS);
	FUZZ_ASSERT(strcmp(sl_net_verdict_name(v), "unknown") != 0);
	if (pkt->payload != NULL) {
		FUZZ_ASSERT(pkt->payload >= frame && pkt->payload <= frame + len);
		FUZZ_ASSERT(pkt->payload_len <= len - (uint32_t)(pkt->payload - frame));
	}
	if (!accepted(v))
		return;
	FUZZ_ASSERT(pkt->l3_off == 14 || pkt->l3_off == 18 || pkt->l3_off == 22);
	FUZZ_ASSERT(pkt->vlan == (pkt->l3_off > 14));
	check_l2(frame, v, pkt);
	FUZZ_ASSERT(memcmp(frame, i->mac.addr_bytes, 6) == 0 ||
		    memcmp(frame, "\xff\xff\xff\xff\xff\xff", 6) == 0 ||
		    (pkt->family == 6 && frame[0] == 0x33 && frame[1] == 0x33));
	if (v == SL_NET_ARP_REQUEST) {
		FUZZ_ASSERT(pkt->family == 4 && pkt->l3_off + 28u <= len);
		FUZZ_ASSERT(be16(l3 + 6) == 1 && memcmp(l3 + 24, &i->ip, 4) == 0);
		FUZZ_ASSERT(pkt->dst_ip == i->ip);
		return;
	}
	FUZZ_ASSERT(pkt->l4_off > pkt->l3_off && pkt->l4_off <= len);
	l4_len = l4_length(frame, pkt);
	FUZZ_ASSERT(l4_len <= len - pkt->l4_off);
	if (pkt->family == 4) {
		FUZZ_ASSERT((l3[0] >> 4) == 4 &&
			    (uint32_t)(l3[0] & 0xf) * 4 == (uint32_t)(pkt->l4_off - pkt->l3_off));
		FUZZ_ASSERT((be16(l3 + 6) & 0x3fff) == 0); /* neither MF nor an offset */
		FUZZ_ASSERT(pkt->dst_ip == i->ip && memcmp(l3 + 16, &i->ip, 4) == 0);
		/* A source that could be answered: not 0/8, 127/8, 224/4 or everyone. */
		FUZZ_ASSERT(l3[12] != 0 && l3[12] != 127 && (l3[12] & 0xf0) != 0xe0 &&
			    memcmp(l3 + 12, "\xff\xff\xff\xff", 4) != 0);
		if (!(flags & SL_NET_F_IP_CSUM_GOOD))
			FUZZ_ASSERT(fold16(sum16(l3, pkt->l4_off - pkt->l3_off, 0)) == 0xffff);
	} else {
		FUZZ_ASSERT(pkt->family == 6 && (l3[0] >> 4) == 6);
		FUZZ_ASSERT(pkt->src_ip6[0] != 0xff);
		FUZZ_ASSERT(memcmp(pkt->src_ip6, l3 + 8, 16) == 0 &&
			    memcmp(pkt->dst_ip6, l3 + 24, 16) == 0);
		/* Nobody to answer at the unspecified address. */
		FUZZ_ASSERT(memcmp(pkt->src_ip6, (const uint8_t[16]){ 0 }, 16) != 0);
		FUZZ_ASSERT(ipv6_l4_off(l3, len - pkt->l3_off,
					v == SL_NET_UDP ? IPPROTO_UDP : IPPROTO_ICMPV6) ==
			    (uint32_t)(pkt->l4_off - pkt->l3_off));
	}
	switch (v) {
	case SL_NET_UDP:
		FUZZ_ASSERT(pkt->payload == l4 + 8 && pkt->payload_len + 8u == l4_len);
		FUZZ_ASSERT(be16(l4 + 4) == l4_len && be16(l4 + 2) == i->udp_port);
		FUZZ_ASSERT(pkt->dst_port == i->udp_port && pkt->src_port == be16(l4));
		if (pkt->family == 4) {
			FUZZ_ASSERT(l3[9] == IPPROTO_UDP);
			if (!(flags & SL_NET_F_L4_CSUM_GOOD) && be16(l4 + 6) != 0)
				FUZZ_ASSERT(fold16(sum16(l4, l4_len,
							 pseudo4(l3 + 12, l3 + 16, IPPROTO_UDP,
								 l4_len))) == 0xffff);
		} else {
			FUZZ_ASSERT(memcmp(pkt->dst_ip6, i->ip6, 16) == 0);
			FUZZ_ASSERT(memcmp(pkt->src_ip6, (const uint8_t[16]){ 0 }, 16) != 0);
			FUZZ_ASSERT(be16(l4 + 6) != 0);
			if (!(flags & SL_NET_F_L4_CSUM_GOOD))
				FUZZ_ASSERT(fold16(sum16(l4, l4_len,
							 pseudo6(pkt->src_ip6, pkt->dst_ip6,
								 IPPROTO_UDP, l4_len))) == 0xffff);
		}
		break;
	case SL_NET_ICMP_ECHO:
		FUZZ_ASSERT(pkt->family == 4 && l3[9] == IPPROTO_ICMP && l4[0] == 8 && l4[1] == 0);
		FUZZ_ASSERT(pkt->payload == l4 + 8 && pkt->payload_len + 8u == l4_len);
		if (!(flags & SL_NET_F_L4_CSUM_GOOD))
			FUZZ_ASSERT(fold16(sum16(l4, l4_len, 0)) == 0xffff);
		break;
	case SL_NET_NDP_SOLICIT:
	case SL_NET_ICMP6_ECHO:
		FUZZ_ASSERT(l4[0] == (v == SL_NET_NDP_SOLICIT ? 135 : 128) && l4[1] == 0);
		FUZZ_ASSERT(pkt->payload == l4 + 8 && pkt->payload_len + 8u == l4_len);
		if (v == SL_NET_NDP_SOLICIT) {
			FUZZ_ASSERT(l3[7] == 255 && l4_len >= 24 &&
				    memcmp(l4 + 8, i->ip6, 16) == 0);
			/* To our address or to its solicited-node group. */
			FUZZ_ASSERT(memcmp(pkt->dst_ip6, i->ip6, 16) == 0 ||
				    (memcmp(pkt->dst_ip6, solicited_prefix, 13) == 0 &&
				     memcmp(pkt->dst_ip6 + 13, i->ip6 + 13, 3) == 0));
			FUZZ_ASSERT(ndp_options_ok(l4, l4_len));
		} else {
			FUZZ_ASSERT(memcmp(pkt->dst_ip6, i->ip6, 16) == 0);
		}
		if (!(flags & SL_NET_F_L4_CSUM_GOOD))
			FUZZ_ASSERT(fold16(sum16(l4, l4_len,
						 pseudo6(pkt->src_ip6, pkt->dst_ip6, IPPROTO_ICMPV6,
							 l4_len))) == 0xffff);
		break;
	default:
		FUZZ_ASSERT(false);
	}
}

typedef uint32_t (*reply_builder)(const struct sl_net_iface *, const uint8_t *, uint32_t, uint8_t *,
				  uint32_t);

/*
 * A builder answers exactly the frames of its verdict. Its reply is rebuilt in
 * a heap block of exactly the returned length, so that ASan sees any byte
 * written past it, and a block one byte short must be refused.
 */
static uint8_t *
build_exact(reply_builder build, bool expected, const uint8_t *frame, uint32_t len, uint32_t *n)
{
	uint8_t *exact;
	uint32_t again;

	*n = build(&ifc, frame, len, out, OUT_CAP);
	FUZZ_ASSERT((*n != 0) == expected);
	if (*n == 0)
		return NULL;
	FUZZ_ASSERT(*n >= SL_NET_MIN_FRAME && *n <= OUT_CAP);
	exact = malloc(*n);
	FUZZ_ASSERT(exact != NULL);
	FUZZ_ASSERT(build(&ifc, frame, len, exact, *n - 1) == 0);
	again = build(&ifc, frame, len, exact, *n);
	FUZZ_ASSERT(again == *n && memcmp(exact, out, *n) == 0);
	return exact;
}

/* The Ethernet header of a reply: to @p dst, from us, with the request's tags. */
static void
check_reply_l2(const uint8_t *reply, const uint8_t *frame, const struct sl_net_pkt *pkt,
	       const uint8_t *dst)
{
	FUZZ_ASSERT(memcmp(reply, dst, 6) == 0);
	FUZZ_ASSERT(memcmp(reply + 6, ifc.mac.addr_bytes, 6) == 0);
	FUZZ_ASSERT(memcmp(reply + 12, frame + 12, pkt->l3_off - 12u) == 0);
}

static void
check_replies(const uint8_t *frame, uint32_t len, enum sl_net_verdict v,
	      const struct sl_net_pkt *pkt)
{
	uint8_t *r;
	uint32_t n, l3 = pkt->l3_off;

	r = build_exact(sl_net_build_arp_reply, v == SL_NET_ARP_REQUEST, frame, len, &n);
	if (r != NULL) {
		FUZZ_ASSERT(n == (l3 + 28 < 60 ? 60 : l3 + 28));
		check_reply_l2(r, frame, pkt, frame + l3 + 8);
		FUZZ_ASSERT(memcmp(r + l3, frame + l3, 6) == 0 && be16(r + l3 + 6) == 2);
		FUZZ_ASSERT(memcmp(r + l3 + 8, ifc.mac.addr_bytes, 6) == 0);
		FUZZ_ASSERT(memcmp(r + l3 + 14, &ifc.ip, 4) == 0);
		FUZZ_ASSERT(memcmp(r + l3 + 18, frame + l3 + 8, 10) == 0);
		free(r);
	}

	r = build_exact(sl_net_build_icmp_echo_reply, v == SL_NET_ICMP_ECHO, frame, len, &n);
	if (r != NULL) {
		uint32_t icmp_len = 8u + pkt->payload_len;

		FUZZ_ASSERT(n >= l3 + 20 + icmp_len);
		check_reply_l2(r, frame, pkt, frame + 6);
		FUZZ_ASSERT(r[l3] == 0x45 && be16(r + l3 + 2) == 20 + icmp_len && r[l3 + 9] == 1);
		FUZZ_ASSERT(memcmp(r + l3 + 12, &ifc.ip, 4) == 0);
		FUZZ_ASSERT(memcmp(r + l3 + 16, &pkt->src_ip, 4) == 0);
		FUZZ_ASSERT(fold16(sum16(r + l3, 20, 0)) == 0xffff);
		FUZZ_ASSERT(r[l3 + 20] == 0 && r[l3 + 21] == 0);
		FUZZ_ASSERT(memcmp(r + l3 + 24, frame + pkt->l4_off + 4, icmp_len - 4) == 0);
		FUZZ_ASSERT(fold16(sum16(r + l3 + 20, icmp_len, 0)) == 0xffff);
		free(r);
	}

	r = build_exact(sl_net_build_ndp_advert, v == SL_NET_NDP_SOLICIT, frame, len, &n);
	if (r != NULL) {
		const uint8_t *na = r + l3 + 40;

		FUZZ_ASSERT(n == l3 + 40 + 32u);
		check_reply_l2(r, frame, pkt, frame + 6);
		FUZZ_ASSERT((r[l3] >> 4) == 6 && be16(r + l3 + 4) == 32 && r[l3 + 6] == 58);
		FUZZ_ASSERT(r[l3 + 7] == 255);
		FUZZ_ASSERT(memcmp(r + l3 + 8, ifc.ip6, 16) == 0);
		FUZZ_ASSERT(memcmp(r + l3 + 24, pkt->src_ip6, 16) == 0);
		FUZZ_ASSERT(na[0] == 136 && na[1] == 0 && na[4] == 0x60);
		FUZZ_ASSERT(memcmp(na + 8, ifc.ip6, 16) == 0);
		FUZZ_ASSERT(na[24] == 2 && na[25] == 1 &&
			    memcmp(na + 26, ifc.mac.addr_bytes, 6) == 0);
		FUZZ_ASSERT(fold16(sum16(na, 32, pseudo6(ifc.ip6, pkt->src_ip6, 58, 32))) ==
			    0xffff);
		free(r);
	}

	r = build_exact(sl_net_build_icmp6_echo_reply, v == SL_NET_ICMP6_ECHO, frame, len, &n);
	if (r != NULL) {
		uint32_t icmp_len = 8u + pkt->payload_len;
		const uint8_t *icmp = r + l3 + 40;

		FUZZ_ASSERT(n >= l3 + 40 + icmp_len);
		check_reply_l2(r, frame, pkt, frame + 6);
		FUZZ_ASSERT((r[l3] >> 4) == 6 && be16(r + l3 + 4) == icmp_len && r[l3 + 6] == 58);
		FUZZ_ASSERT(memcmp(r + l3 + 8, ifc.ip6, 16) == 0);
		FUZZ_ASSERT(memcmp(r + l3 + 24, pkt->src_ip6, 16) == 0);
		FUZZ_ASSERT(icmp[0] == 129 && icmp[1] == 0);
		FUZZ_ASSERT(memcmp(icmp + 4, frame + pkt->l4_off + 4, icmp_len - 4) == 0);
		FUZZ_ASSERT(fold16(sum16(icmp, icmp_len,
					 pseudo6(ifc.ip6, pkt->src_ip6, 58, icmp_len))) == 0xffff);
		free(r);
	}
}

/* Answer a datagram as a session does, and classify the answer at its sender. */
static void
check_udp_answer(const struct sl_net_pkt *pkt)
{
	struct sl_net_iface sender = { 0 };
	struct sl_net_peer peer, back;
	struct sl_net_pkt got;
	enum sl_net_verdict v;
	uint32_t n;

	sl_net_peer_from_pkt(pkt, 3, &peer);
	FUZZ_ASSERT(peer.port_id == 3 && peer.family == pkt->family);
	/* Nothing from an interface without an address of the family, or to another family. */
	FUZZ_ASSERT(sl_net_build_udp_to(&no_address, &peer, pkt->payload, pkt->payload_len, out,
					OUT_CAP) == 0);
	back = peer;
	back.family = (uint8_t)(peer.family ^ 0x10);
	FUZZ_ASSERT(sl_net_build_udp_to(&ifc, &back, pkt->payload, pkt->payload_len, out,
					OUT_CAP) == 0);
	FUZZ_ASSERT(peer.udp_port == pkt->src_port && peer.vlan == pkt->vlan);
	FUZZ_ASSERT(sl_net_peer_equal(&peer, &peer));
	n = sl_net_build_udp_to(&ifc, &peer, pkt->payload, pkt->payload_len, out, OUT_CAP);
	FUZZ_ASSERT(n >= SL_NET_MIN_FRAME);
	FUZZ_ASSERT(sl_net_build_udp_to(&ifc, &peer, pkt->payload, pkt->payload_len,
					out + OUT_CAP - (n - 1), n - 1) == 0);

	sender.mac = peer.mac;
	sender.udp_port = peer.udp_port;
	if (peer.family == 4)
		memcpy(&sender.ip, peer.ip, 4);
	else
		memcpy(sender.ip6, peer.ip, 16);
	/* An IPv4 sender of 0.0.0.0 cannot be addressed as an interface of ours. */
	if (peer.family == 4 && sender.ip == 0)
		return;
	v = sl_net_classify(&sender, out, n, 0, &got);
	FUZZ_ASSERT(v == SL_NET_UDP);
	FUZZ_ASSERT(got.src_port == ifc.udp_port && got.payload_len == pkt->payload_len);
	FUZZ_ASSERT(memcmp(got.payload, pkt->payload, pkt->payload_len) == 0);
	FUZZ_ASSERT(got.vlan == pkt->vlan && (!got.vlan || got.vlan_tci == pkt->vlan_tci));
	sl_net_peer_from_pkt(&got, 0, &back);
	FUZZ_ASSERT(back.family == peer.family);
	if (peer.family == 4)
		FUZZ_ASSERT(memcmp(back.ip, &ifc.ip, 4) == 0);
	else
		FUZZ_ASSERT(memcmp(back.ip, ifc.ip6, 16) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_net_pkt pkt, other;
	enum sl_net_verdict v, w;
	uint32_t len, flags;

	if (size > UINT16_MAX + 64)
		return -1;
	len = (uint32_t)size;

	v = sl_net_classify(&ifc, data, len, 0, &pkt);
	check_verdict(&ifc, data, len, 0, v, &pkt);

	/* Every combination of the NIC's checksum verdicts. */
	for (flags = 1; flags < 16; flags++) {
		w = sl_net_classify(&ifc, data, len, flags, &other);
		check_verdict(&ifc, data, len, flags, w, &other);
		if (accepted(v) && (flags & SL_NET_F_IP_CSUM_GOOD) &&
		    (flags & SL_NET_F_L4_CSUM_GOOD))
			FUZZ_ASSERT(w == v && other.payload == pkt.payload);
		if (!is_checksum_verdict(v) && !accepted(v) && v != SL_NET_DROP_WRONG_PORT &&
		    !is_checksum_verdict(w))
			FUZZ_ASSERT(w == v);
	}

	/* Frames need no alignment: the same verdict one byte off. */
	if (len > 0)
		memcpy(misaligned + 1, data, len);
	w = sl_net_classify(&ifc, misaligned + 1, len, 0, &other);
	FUZZ_ASSERT(w == v && other.l3_off == pkt.l3_off && other.l4_off == pkt.l4_off);
	FUZZ_ASSERT(other.payload_len == pkt.payload_len);

	/* Bytes after the IP packet or ARP message (Ethernet padding, a trailer)
	 * change nothing about a frame that is taken. */
	memset(misaligned + 1 + len, 0xa5, 8);
	w = sl_net_classify(&ifc, misaligned + 1, len + 8, 0, &other);
	if (accepted(v))
		FUZZ_ASSERT(w == v && other.l4_off == pkt.l4_off &&
			    other.payload_len == pkt.payload_len);

	/* Without addresses, nothing is ours. */
	w = sl_net_classify(&no_address, data, len, 0, &other);
	FUZZ_ASSERT(w == SL_NET_DROP_RUNT || w == SL_NET_DROP_BAD_SRC_MAC ||
		    w == SL_NET_DROP_BAD_ETHERTYPE || w == SL_NET_DROP_NOT_FOR_US);

	check_replies(data, len, v, &pkt);
	if (v == SL_NET_UDP)
		check_udp_answer(&pkt);
	return 0;
}
