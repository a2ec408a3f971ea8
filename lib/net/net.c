/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "sl_net.h"

#define ETH_LEN ((uint32_t)sizeof(struct rte_ether_hdr))
#define VLAN_LEN ((uint32_t)sizeof(struct rte_vlan_hdr))
#define IPV4_LEN ((uint32_t)sizeof(struct rte_ipv4_hdr))
#define UDP_LEN ((uint32_t)sizeof(struct rte_udp_hdr))
#define ICMP_LEN ((uint32_t)sizeof(struct rte_icmp_hdr))
#define ARP_LEN ((uint32_t)sizeof(struct rte_arp_hdr))
#define IPV6_LEN ((uint32_t)sizeof(struct rte_ipv6_hdr))
#define SL_NET_TTL 64
/* RFC 4861 section 7.1: NDP messages are only valid if no router forwarded them. */
#define NDP_HOP_LIMIT 255
/* Neighbour solicitation: type, code, checksum, reserved, target address. */
#define NS_LEN 24u
/* Our advertisement: the same 24 bytes and one target link-layer address option. */
#define NA_LEN 32u
#define NA_FLAG_SOLICITED 0x40
#define NA_FLAG_OVERRIDE 0x20
#define NDP_OPT_TARGET_LLADDR 2

enum {
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
	NDP_NEIGHBOUR_SOLICIT = 135,
	NDP_NEIGHBOUR_ADVERT = 136,
};

static const char *const verdict_names[SL_NET_NB_VERDICTS] = {
	[SL_NET_UDP] = "udp",
	[SL_NET_ARP_REQUEST] = "arp_request",
	[SL_NET_ICMP_ECHO] = "icmp_echo",
	[SL_NET_NDP_SOLICIT] = "ndp_solicit",
	[SL_NET_ICMP6_ECHO] = "icmp6_echo",
	[SL_NET_DROP_RUNT] = "runt",
	[SL_NET_DROP_BAD_ETHERTYPE] = "bad_ethertype",
	[SL_NET_DROP_BAD_IP_HEADER] = "bad_ip_header",
	[SL_NET_DROP_BAD_IP_CSUM] = "bad_ip_csum",
	[SL_NET_DROP_FRAGMENT] = "fragment",
	[SL_NET_DROP_NOT_FOR_US] = "not_for_us",
	[SL_NET_DROP_BAD_UDP] = "bad_udp",
	[SL_NET_DROP_BAD_UDP_CSUM] = "bad_udp_csum",
	[SL_NET_DROP_WRONG_PORT] = "wrong_port",
	[SL_NET_DROP_BAD_ICMP] = "bad_icmp",
	[SL_NET_DROP_UNSUPPORTED_PROTO] = "unsupported_proto",
	[SL_NET_DROP_ARP_OTHER] = "arp_other",
	[SL_NET_DROP_NDP_OTHER] = "ndp_other",
	[SL_NET_DROP_BAD_SRC_MAC] = "bad_src_mac",
};

const char *
sl_net_verdict_name(enum sl_net_verdict v)
{
	if ((unsigned int)v >= SL_NET_NB_VERDICTS || verdict_names[v] == NULL)
		return "unknown";
	return verdict_names[v];
}

/* Headers are read with memcpy or through DPDK's packed structs, never through
 * rte_ether_hdr or rte_arp_hdr pointers: those are declared 2-byte aligned and
 * a fuzzer's buffer need not be. */
static uint16_t
read_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_16(v);
}

static void
write_be16(uint8_t *p, uint16_t v)
{
	v = rte_cpu_to_be_16(v);
	memcpy(p, &v, sizeof(v));
}

static uint16_t
fold(uint32_t sum)
{
	sum = (sum >> 16) + (sum & 0xffff);
	sum = (sum >> 16) + (sum & 0xffff);
	return (uint16_t)sum;
}

static bool
is_zero_ip6(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, sizeof(zero)) == 0;
}

/* The pseudo-header sum of RFC 768 and RFC 8200 section 8.1, in the native
 * word order rte_raw_cksum() sums in. Both families' pseudo-headers add up
 * alike: the addresses, then the protocol and the L4 length as 16-bit words
 * (the upper half of IPv6's 32-bit length is 0 without jumbograms). */
static uint32_t
pseudo_sum(const uint8_t *src, const uint8_t *dst, uint32_t addr_len, uint8_t proto,
	   uint32_t l4_len)
{
	uint32_t sum = __rte_raw_cksum(src, addr_len, 0);

	sum = __rte_raw_cksum(dst, addr_len, sum);
	sum += rte_cpu_to_be_16(proto);
	sum += rte_cpu_to_be_16((uint16_t)l4_len);
	return sum;
}

/* The one's complement sum over a correct IPv4 header, or over a correct L4
 * message and its pseudo-header, is 0xffff. Neither sum can be 0: the
 * version/IHL byte, the protocol number in the pseudo-header and the ICMP
 * types we check are nonzero. ICMP over IPv4 has no pseudo-header: phdr 0. */
static bool
l4_cksum_ok(uint32_t phdr, const uint8_t *l4, uint32_t l4_len)
{
	return fold((uint32_t)rte_raw_cksum(l4, l4_len) + phdr) == 0xffff;
}

/* The value for an L4 checksum field whose bytes are zero in @l4, in the
 * byte order memcpy() puts on the wire. */
static uint16_t
l4_cksum(uint32_t phdr, const uint8_t *l4, uint32_t l4_len)
{
	return (uint16_t)~fold((uint32_t)rte_raw_cksum(l4, l4_len) + phdr);
}

/* The NIC's word first: GOOD (alone or with BAD, which DPDK uses for "wrong in
 * the frame, but verified") skips the sum, BAD alone fails without it. */
static bool
ip_cksum_valid(uint32_t flags, const struct rte_ipv4_hdr *ip)
{
	if (flags & SL_NET_F_IP_CSUM_GOOD)
		return true;
	if (flags & SL_NET_F_IP_CSUM_BAD)
		return false;
	return rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) == 0xffff;
}

static bool
l4_cksum_valid(uint32_t flags, uint32_t phdr, const uint8_t *l4, uint32_t l4_len)
{
	if (flags & SL_NET_F_L4_CSUM_GOOD)
		return true;
	if (flags & SL_NET_F_L4_CSUM_BAD)
		return false;
	return l4_cksum_ok(phdr, l4, l4_len);
}

static bool
mac_is_ours(const struct sl_net_iface *ifc, const uint8_t *dst)
{
	static const uint8_t bcast[RTE_ETHER_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	return memcmp(dst, ifc->mac.addr_bytes, RTE_ETHER_ADDR_LEN) == 0 ||
	       memcmp(dst, bcast, RTE_ETHER_ADDR_LEN) == 0;
}

static enum sl_net_verdict
classify_arp(const struct sl_net_iface *ifc, const uint8_t *frame, uint32_t len,
	     struct sl_net_pkt *out)
{
	struct rte_arp_hdr arp;

	if (len - out->l3_off < ARP_LEN)
		return SL_NET_DROP_RUNT;
	memcpy(&arp, frame + out->l3_off, ARP_LEN);
	out->src_ip = arp.arp_data.arp_sip;
	out->dst_ip = arp.arp_data.arp_tip;
	if (arp.arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp.arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp.arp_hlen != RTE_ETHER_ADDR_LEN || arp.arp_plen != sizeof(uint32_t) ||
	    arp.arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    arp.arp_data.arp_tip != ifc->ip)
		return SL_NET_DROP_ARP_OTHER;
	return SL_NET_ARP_REQUEST;
}

/* @zero_ok: a zero checksum means "none" (IPv4), rather than a bad one (IPv6).
 * Hardware flags do not override that: some NICs flag a zero IPv4 UDP
 * checksum as bad. */
static enum sl_net_verdict
classify_udp(const struct sl_net_iface *ifc, uint32_t phdr, bool zero_ok, const uint8_t *l4,
	     uint32_t l4_len, uint32_t flags, struct sl_net_pkt *out)
{
	bool no_cksum;

	if (l4_len < UDP_LEN || read_be16(l4 + 4) != l4_len)
		return SL_NET_DROP_BAD_UDP;
	out->src_port = read_be16(l4);
	out->dst_port = read_be16(l4 + 2);
	out->payload = l4 + UDP_LEN;
	out->payload_len = (uint16_t)(l4_len - UDP_LEN);
	no_cksum = read_be16(l4 + 6) == 0;
	if (no_cksum ? !zero_ok : !l4_cksum_valid(flags, phdr, l4, l4_len))
		return SL_NET_DROP_BAD_UDP_CSUM;
	if (out->dst_port != ifc->udp_port)
		return SL_NET_DROP_WRONG_PORT;
	return SL_NET_UDP;
}

static enum sl_net_verdict
classify_icmp(const uint8_t *l4, uint32_t l4_len, uint32_t flags, struct sl_net_pkt *out)
{
	if (l4_len < 1 || l4[0] != RTE_IP_ICMP_ECHO_REQUEST)
		return SL_NET_DROP_UNSUPPORTED_PROTO;
	if (l4_len < ICMP_LEN || l4[1] != 0 || !l4_cksum_valid(flags, 0, l4, l4_len))
		return SL_NET_DROP_BAD_ICMP;
	out->payload = l4 + ICMP_LEN;
	out->payload_len = (uint16_t)(l4_len - ICMP_LEN);
	return SL_NET_ICMP_ECHO;
}

/* RFC 1122 3.2.1.3: no host sends from "this network" (0/8), loopback (127/8),
 * a multicast group (224/4) or the limited broadcast; an answer would go to a
 * group or to everyone. */
static bool
ipv4_source_ok(uint32_t src)
{
	uint32_t a = rte_be_to_cpu_32(src);

	return (a >> 24) != 0 && (a >> 24) != 127 && (a >> 28) != 0xe && a != UINT32_MAX;
}

static enum sl_net_verdict
classify_ipv4(const struct sl_net_iface *ifc, const uint8_t *frame, uint32_t len, uint32_t flags,
	      struct sl_net_pkt *out)
{
	const uint8_t *l3 = frame + out->l3_off;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	uint32_t avail = len - out->l3_off;
	uint32_t ihl, total;
	uint16_t frag;

	if (avail < IPV4_LEN)
		return SL_NET_DROP_RUNT;
	ihl = rte_ipv4_hdr_len(ip);
	total = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || ihl < IPV4_LEN || ihl > avail || total < ihl ||
	    total > avail)
		return SL_NET_DROP_BAD_IP_HEADER;
	if (!ip_cksum_valid(flags, ip))
		return SL_NET_DROP_BAD_IP_CSUM;
	out->src_ip = ip->src_addr;
	out->dst_ip = ip->dst_addr;
	out->l4_off = (uint16_t)(out->l3_off + ihl);
	if (ip->dst_addr != ifc->ip)
		return SL_NET_DROP_NOT_FOR_US;
	if (!ipv4_source_ok(ip->src_addr))
		return SL_NET_DROP_BAD_IP_HEADER;
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	if (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return SL_NET_DROP_FRAGMENT;
	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		return classify_udp(ifc, pseudo_sum(l3 + 12, l3 + 16, 4, IPPROTO_UDP, total - ihl),
				    true, frame + out->l4_off, total - ihl, flags, out);
	case IPPROTO_ICMP:
		return classify_icmp(frame + out->l4_off, total - ihl, flags, out);
	default:
		return SL_NET_DROP_UNSUPPORTED_PROTO;
	}
}

/* ff02::1:ffXX:XXXX, the group that solicitations for @ip6 go to (RFC 4291
 * section 2.7.1). */
static void
solicited_node_group(const uint8_t *ip6, uint8_t *group)
{
	static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };

	memcpy(group, prefix, sizeof(prefix));
	memcpy(group + sizeof(prefix), ip6 + sizeof(prefix), 16 - sizeof(prefix));
}

/* RFC 4861 section 7.1.1, as far as answering goes: the message is checked
 * before anything else is, so that a corrupt one counts as bad_icmp. */
static enum sl_net_verdict
classify_neighbour_solicit(const struct sl_net_iface *ifc, uint8_t hop_limit, bool to_us,
			   uint32_t phdr, const uint8_t *l4, uint32_t l4_len, uint32_t flags,
			   struct sl_net_pkt *out)
{
	uint8_t group[16];
	uint32_t off;

	if (l4_len < NS_LEN || !l4_cksum_valid(flags, phdr, l4, l4_len))
		return SL_NET_DROP_BAD_ICMP;
	if (l4[1] != 0 || hop_limit != NDP_HOP_LIMIT || memcmp(l4 + 8, ifc->ip6, 16) != 0)
		return SL_NET_DROP_NDP_OTHER;
	solicited_node_group(ifc->ip6, group);
	if (!to_us && memcmp(out->dst_ip6, group, sizeof(group)) != 0)
		return SL_NET_DROP_NDP_OTHER;
	/* Duplicate address detection by another host: it would take the
	 * address if nobody answered, but we leave defending it to operators. */
	if (is_zero_ip6(out->src_ip6))
		return SL_NET_DROP_NDP_OTHER;
	/* Every option must have a nonzero length and fit. */
	for (off = NS_LEN; off < l4_len; off += l4[off + 1] * 8u)
		if (l4_len - off < 2 || l4[off + 1] == 0 || l4[off + 1] * 8u > l4_len - off)
			return SL_NET_DROP_NDP_OTHER;
	out->payload = l4 + ICMP_LEN;
	out->payload_len = (uint16_t)(l4_len - ICMP_LEN);
	return SL_NET_NDP_SOLICIT;
}

static enum sl_net_verdict
classify_icmp6(const struct sl_net_iface *ifc, uint8_t hop_limit, bool to_us, const uint8_t *l4,
	       uint32_t l4_len, uint32_t flags, struct sl_net_pkt *out)
{
	uint32_t phdr;

	if (l4_len < 4)
		return SL_NET_DROP_BAD_ICMP;
	phdr = pseudo_sum(out->src_ip6, out->dst_ip6, 16, IPPROTO_ICMPV6, l4_len);
	switch (l4[0]) {
	case NDP_NEIGHBOUR_SOLICIT:
		return classify_neighbour_solicit(ifc, hop_limit, to_us, phdr, l4, l4_len, flags,
						  out);
	case ICMP6_ECHO_REQUEST:
		/* We answer pings to our address, not to groups. */
		if (!to_us)
			return SL_NET_DROP_NDP_OTHER;
		if (l4_len < ICMP_LEN || l4[1] != 0 || !l4_cksum_valid(flags, phdr, l4, l4_len))
			return SL_NET_DROP_BAD_ICMP;
		if (is_zero_ip6(out->src_ip6))
			return SL_NET_DROP_BAD_IP_HEADER;
		out->payload = l4 + ICMP_LEN;
		out->payload_len = (uint16_t)(l4_len - ICMP_LEN);
		return SL_NET_ICMP6_ECHO;
	default:
		return SL_NET_DROP_NDP_OTHER;
	}
}

static enum sl_net_verdict
classify_ipv6(const struct sl_net_iface *ifc, const uint8_t *frame, uint32_t len, uint32_t flags,
	      struct sl_net_pkt *out)
{
	const uint8_t *l3 = frame + out->l3_off;
	uint32_t avail = len - out->l3_off;
	uint32_t off = IPV6_LEN, end;
	uint8_t next;
	bool to_us;

	if (avail < IPV6_LEN)
		return SL_NET_DROP_RUNT;
	/* Offsets from here on are relative to l3 and bounded by end. */
	end = IPV6_LEN + read_be16(l3 + 4);
	if ((l3[0] >> 4) != 6 || end > avail)
		return SL_NET_DROP_BAD_IP_HEADER;
	memcpy(out->src_ip6, l3 + 8, 16);
	memcpy(out->dst_ip6, l3 + 24, 16);
	if (out->src_ip6[0] == 0xff)
		return SL_NET_DROP_BAD_IP_HEADER;
	to_us = memcmp(out->dst_ip6, ifc->ip6, 16) == 0;
	if (!to_us && out->dst_ip6[0] != 0xff)
		return SL_NET_DROP_NOT_FOR_US;

	/* Each header skipped is at least 8 bytes, so this ends. Hop-by-Hop
	 * options (MLD carries Router Alert in one) may only come first. */
	next = l3[6];
	while ((next == IPPROTO_HOPOPTS && off == IPV6_LEN) || next == IPPROTO_DSTOPTS) {
		uint32_t ext_len;

		if (end - off < 2)
			return SL_NET_DROP_BAD_IP_HEADER;
		ext_len = (l3[off + 1] + 1u) * 8;
		if (ext_len > end - off)
			return SL_NET_DROP_BAD_IP_HEADER;
		next = l3[off];
		off += ext_len;
	}
	if (out->l3_off + off > UINT16_MAX)
		return SL_NET_DROP_BAD_IP_HEADER;
	out->l4_off = (uint16_t)(out->l3_off + off);

	switch (next) {
	case IPPROTO_FRAGMENT:
		return SL_NET_DROP_FRAGMENT;
	case IPPROTO_UDP:
		if (!to_us)
			return SL_NET_DROP_NOT_FOR_US;
		/* Nobody to answer. */
		if (is_zero_ip6(out->src_ip6))
			return SL_NET_DROP_BAD_IP_HEADER;
		return classify_udp(
			ifc, pseudo_sum(out->src_ip6, out->dst_ip6, 16, IPPROTO_UDP, end - off),
			false, l3 + off, end - off, flags, out);
	case IPPROTO_ICMPV6:
		return classify_icmp6(ifc, l3[7], to_us, l3 + off, end - off, flags, out);
	default:
		return to_us ? SL_NET_DROP_UNSUPPORTED_PROTO : SL_NET_DROP_NOT_FOR_US;
	}
}

enum sl_net_verdict
sl_net_classify(const struct sl_net_iface *ifc, const uint8_t *frame, uint32_t len, uint32_t flags,
		struct sl_net_pkt *out)
{
	uint32_t off = 2 * RTE_ETHER_ADDR_LEN;
	uint16_t type;
	int tags = 0;

	memset(out, 0, sizeof(*out));
	if (len < ETH_LEN)
		return SL_NET_DROP_RUNT;
	memcpy(&out->src_mac, frame + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
	/* No station sends from a group address (IEEE 802: the I/G bit of a source
	 * is 0); every reply would go to a group or to everyone. */
	if (rte_is_multicast_ether_addr(&out->src_mac))
		return SL_NET_DROP_BAD_SRC_MAC;
	type = read_be16(frame + off);
	off += 2;
	/* 802.1Q alone, or an 802.1ad outer tag followed by one 802.1Q tag. */
	while ((type == RTE_ETHER_TYPE_QINQ && tags == 0) || type == RTE_ETHER_TYPE_VLAN) {
		bool outer_s_tag = type == RTE_ETHER_TYPE_QINQ;

		if (len - off < VLAN_LEN)
			return SL_NET_DROP_RUNT;
		out->vlan = true;
		out->vlan_tci = read_be16(frame + off);
		type = read_be16(frame + off + 2);
		off += VLAN_LEN;
		tags++;
		if (!outer_s_tag)
			break;
	}
	out->l3_off = (uint16_t)off;

	if (type == RTE_ETHER_TYPE_IPV6) {
		out->family = 6;
		/* Neighbour discovery goes to multicast groups (RFC 2464 section 7). */
		if ((!mac_is_ours(ifc, frame) && !(frame[0] == 0x33 && frame[1] == 0x33)) ||
		    is_zero_ip6(ifc->ip6))
			return SL_NET_DROP_NOT_FOR_US;
		return classify_ipv6(ifc, frame, len, flags, out);
	}
	if (type != RTE_ETHER_TYPE_IPV4 && type != RTE_ETHER_TYPE_ARP)
		return SL_NET_DROP_BAD_ETHERTYPE;
	out->family = 4;
	if (!mac_is_ours(ifc, frame) || ifc->ip == 0)
		return SL_NET_DROP_NOT_FOR_US;
	if (type == RTE_ETHER_TYPE_ARP)
		return classify_arp(ifc, frame, len, out);
	return classify_ipv4(ifc, frame, len, flags, out);
}

/* Pads a built frame to the Ethernet minimum, or reports it does not fit. */
static uint32_t
finish_frame(uint8_t *out, uint32_t len, uint32_t cap)
{
	if (len < SL_NET_MIN_FRAME) {
		if (cap < SL_NET_MIN_FRAME)
			return 0;
		memset(out + len, 0, SL_NET_MIN_FRAME - len);
		len = SL_NET_MIN_FRAME;
	}
	return len;
}

static uint32_t
frame_size(uint32_t len)
{
	return len < SL_NET_MIN_FRAME ? SL_NET_MIN_FRAME : len;
}

/* Ethernet header and the request's tags, addressed back to @dst. */
static void
write_l2_reply(const struct sl_net_iface *ifc, const uint8_t *request, uint16_t l3_off,
	       const struct rte_ether_addr *dst, uint8_t *out)
{
	memcpy(out, dst->addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(out + RTE_ETHER_ADDR_LEN, ifc->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(out + 2 * RTE_ETHER_ADDR_LEN, request + 2 * RTE_ETHER_ADDR_LEN,
	       l3_off - 2 * RTE_ETHER_ADDR_LEN);
}

uint32_t
sl_net_build_arp_reply(const struct sl_net_iface *ifc, const uint8_t *request, uint32_t req_len,
		       uint8_t *out, uint32_t cap)
{
	struct sl_net_pkt pkt;
	struct rte_arp_hdr req, rep;
	uint32_t len;

	if (sl_net_classify(ifc, request, req_len, 0, &pkt) != SL_NET_ARP_REQUEST)
		return 0;
	len = pkt.l3_off + ARP_LEN;
	if (cap < frame_size(len))
		return 0;
	memcpy(&req, request + pkt.l3_off, ARP_LEN);

	rep = req;
	rep.arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rep.arp_data.arp_sha = ifc->mac;
	rep.arp_data.arp_sip = ifc->ip;
	rep.arp_data.arp_tha = req.arp_data.arp_sha;
	rep.arp_data.arp_tip = req.arp_data.arp_sip;
	write_l2_reply(ifc, request, pkt.l3_off, &req.arp_data.arp_sha, out);
	memcpy(out + pkt.l3_off, &rep, ARP_LEN);
	return finish_frame(out, len, cap);
}

static void
write_ipv4(uint8_t *p, uint8_t tos, uint16_t id, uint16_t frag, uint8_t proto, uint32_t src,
	   uint32_t dst, uint16_t l4_len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = tos;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(IPV4_LEN + l4_len));
	ip->packet_id = id;
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->time_to_live = SL_NET_TTL;
	ip->next_proto_id = proto;
	ip->hdr_checksum = 0;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

uint32_t
sl_net_build_icmp_echo_reply(const struct sl_net_iface *ifc, const uint8_t *request,
			     uint32_t req_len, uint8_t *out, uint32_t cap)
{
	const struct rte_ipv4_hdr *req_ip;
	struct sl_net_pkt pkt;
	uint16_t icmp_len, cksum;
	uint32_t len;
	uint8_t *icmp;

	if (sl_net_classify(ifc, request, req_len, 0, &pkt) != SL_NET_ICMP_ECHO)
		return 0;
	req_ip = (const struct rte_ipv4_hdr *)(request + pkt.l3_off);
	icmp_len = (uint16_t)(ICMP_LEN + pkt.payload_len);
	len = pkt.l3_off + IPV4_LEN + icmp_len;
	if (cap < frame_size(len))
		return 0;

	write_l2_reply(ifc, request, pkt.l3_off, &pkt.src_mac, out);
	write_ipv4(out + pkt.l3_off, req_ip->type_of_service, req_ip->packet_id, 0, IPPROTO_ICMP,
		   ifc->ip, pkt.src_ip, icmp_len);
	icmp = out + pkt.l3_off + IPV4_LEN;
	memcpy(icmp, request + pkt.l4_off, icmp_len);
	icmp[0] = RTE_IP_ICMP_ECHO_REPLY;
	icmp[1] = 0;
	memset(icmp + 2, 0, 2);
	cksum = (uint16_t)~rte_raw_cksum(icmp, icmp_len);
	memcpy(icmp + 2, &cksum, sizeof(cksum));
	return finish_frame(out, len, cap);
}

/* Ethernet header from us, with one 802.1Q tag if @vlan. */
static void
write_l2(const struct sl_net_iface *ifc, const struct rte_ether_addr *dst_mac, bool vlan,
	 uint16_t vlan_tci, uint16_t type, uint8_t *out)
{
	uint32_t type_off = 2 * RTE_ETHER_ADDR_LEN;

	memcpy(out, dst_mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(out + RTE_ETHER_ADDR_LEN, ifc->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	if (vlan) {
		write_be16(out + type_off, RTE_ETHER_TYPE_VLAN);
		write_be16(out + type_off + 2, vlan_tci);
		type_off += VLAN_LEN;
	}
	write_be16(out + type_off, type);
}

uint32_t
sl_net_build_arp_request(const struct sl_net_iface *ifc, uint32_t target_ip, uint8_t *out,
			 uint32_t cap)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff,
								     0xff } };
	struct rte_arp_hdr arp;

	if (cap < frame_size(ETH_LEN + ARP_LEN))
		return 0;
	write_l2(ifc, &bcast, false, 0, RTE_ETHER_TYPE_ARP, out);
	arp.arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp.arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp.arp_hlen = RTE_ETHER_ADDR_LEN;
	arp.arp_plen = 4;
	arp.arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp.arp_data.arp_sha = ifc->mac;
	arp.arp_data.arp_sip = ifc->ip;
	memset(&arp.arp_data.arp_tha, 0, sizeof(arp.arp_data.arp_tha));
	arp.arp_data.arp_tip = target_ip;
	memcpy(out + ETH_LEN, &arp, ARP_LEN);
	return finish_frame(out, ETH_LEN + ARP_LEN, cap);
}

uint32_t
sl_net_build_udp(const struct sl_net_iface *ifc, const struct rte_ether_addr *dst_mac,
		 uint32_t dst_ip, uint16_t dst_port, bool vlan, uint16_t vlan_tci,
		 const uint8_t *payload, uint32_t payload_len, uint8_t *out, uint32_t cap)
{
	uint32_t l3_off = ETH_LEN + (vlan ? VLAN_LEN : 0);
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	uint32_t len;

	if (payload_len > SL_NET_UDP_MAX_PAYLOAD)
		return 0;
	len = l3_off + IPV4_LEN + UDP_LEN + payload_len;
	if (cap < frame_size(len))
		return 0;

	write_l2(ifc, dst_mac, vlan, vlan_tci, RTE_ETHER_TYPE_IPV4, out);
	write_ipv4(out + l3_off, 0, 0, RTE_IPV4_HDR_DF_FLAG, IPPROTO_UDP, ifc->ip, dst_ip,
		   (uint16_t)(UDP_LEN + payload_len));

	ip = (struct rte_ipv4_hdr *)(out + l3_off);
	udp = (struct rte_udp_hdr *)(out + l3_off + IPV4_LEN);
	udp->src_port = rte_cpu_to_be_16(ifc->udp_port);
	udp->dst_port = rte_cpu_to_be_16(dst_port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(UDP_LEN + payload_len));
	udp->dgram_cksum = 0;
	if (payload_len > 0)
		memcpy(udp + 1, payload, payload_len);
	/* Works on a flat buffer: it reads the lengths from the IPv4 header. */
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	return finish_frame(out, len, cap);
}

static void
write_ipv6(uint8_t *p, uint8_t traffic_class, uint8_t proto, uint8_t hop_limit, const uint8_t *src,
	   const uint8_t *dst, uint16_t payload_len)
{
	uint32_t vtc_flow = rte_cpu_to_be_32(6u << 28 | (uint32_t)traffic_class << 20);

	memcpy(p, &vtc_flow, sizeof(vtc_flow));
	write_be16(p + 4, payload_len);
	p[6] = proto;
	p[7] = hop_limit;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
}

uint32_t
sl_net_build_ndp_advert(const struct sl_net_iface *ifc, const uint8_t *request, uint32_t req_len,
			uint8_t *out, uint32_t cap)
{
	struct sl_net_pkt pkt;
	uint32_t len;
	uint16_t cksum;
	uint8_t *na;

	if (sl_net_classify(ifc, request, req_len, 0, &pkt) != SL_NET_NDP_SOLICIT)
		return 0;
	len = pkt.l3_off + IPV6_LEN + NA_LEN;
	if (cap < frame_size(len))
		return 0;

	write_l2_reply(ifc, request, pkt.l3_off, &pkt.src_mac, out);
	write_ipv6(out + pkt.l3_off, 0, IPPROTO_ICMPV6, NDP_HOP_LIMIT, ifc->ip6, pkt.src_ip6,
		   NA_LEN);
	na = out + pkt.l3_off + IPV6_LEN;
	memset(na, 0, NA_LEN);
	na[0] = NDP_NEIGHBOUR_ADVERT;
	na[4] = NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE;
	memcpy(na + 8, ifc->ip6, 16);
	na[NS_LEN] = NDP_OPT_TARGET_LLADDR;
	na[NS_LEN + 1] = 1; /* in units of 8 bytes */
	memcpy(na + NS_LEN + 2, ifc->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	cksum = l4_cksum(pseudo_sum(ifc->ip6, pkt.src_ip6, 16, IPPROTO_ICMPV6, NA_LEN), na, NA_LEN);
	memcpy(na + 2, &cksum, sizeof(cksum));
	return finish_frame(out, len, cap);
}

uint32_t
sl_net_build_icmp6_echo_reply(const struct sl_net_iface *ifc, const uint8_t *request,
			      uint32_t req_len, uint8_t *out, uint32_t cap)
{
	const uint8_t *req_ip;
	struct sl_net_pkt pkt;
	uint16_t icmp_len, cksum;
	uint8_t traffic_class;
	uint32_t len;
	uint8_t *icmp;

	if (sl_net_classify(ifc, request, req_len, 0, &pkt) != SL_NET_ICMP6_ECHO)
		return 0;
	req_ip = request + pkt.l3_off;
	traffic_class = (uint8_t)((req_ip[0] & 0x0f) << 4 | req_ip[1] >> 4);
	icmp_len = (uint16_t)(ICMP_LEN + pkt.payload_len);
	len = pkt.l3_off + IPV6_LEN + icmp_len;
	if (cap < frame_size(len))
		return 0;

	write_l2_reply(ifc, request, pkt.l3_off, &pkt.src_mac, out);
	write_ipv6(out + pkt.l3_off, traffic_class, IPPROTO_ICMPV6, SL_NET_TTL, ifc->ip6,
		   pkt.src_ip6, icmp_len);
	icmp = out + pkt.l3_off + IPV6_LEN;
	memcpy(icmp, request + pkt.l4_off, icmp_len);
	icmp[0] = ICMP6_ECHO_REPLY;
	icmp[1] = 0;
	memset(icmp + 2, 0, 2);
	cksum = l4_cksum(pseudo_sum(ifc->ip6, pkt.src_ip6, 16, IPPROTO_ICMPV6, icmp_len), icmp,
			 icmp_len);
	memcpy(icmp + 2, &cksum, sizeof(cksum));
	return finish_frame(out, len, cap);
}

static uint32_t
build_udp6(const struct sl_net_iface *ifc, const struct sl_net_peer *to, const uint8_t *payload,
	   uint32_t payload_len, uint8_t *out, uint32_t cap)
{
	uint32_t l3_off = ETH_LEN + (to->vlan ? VLAN_LEN : 0);
	uint16_t udp_len, cksum;
	uint32_t len;
	uint8_t *udp;

	if (payload_len > SL_NET_UDP6_MAX_PAYLOAD)
		return 0;
	udp_len = (uint16_t)(UDP_LEN + payload_len);
	len = l3_off + IPV6_LEN + udp_len;
	if (cap < frame_size(len))
		return 0;

	write_l2(ifc, &to->mac, to->vlan, to->vlan_tci, RTE_ETHER_TYPE_IPV6, out);
	write_ipv6(out + l3_off, 0, IPPROTO_UDP, SL_NET_TTL, ifc->ip6, to->ip, udp_len);
	udp = out + l3_off + IPV6_LEN;
	write_be16(udp, ifc->udp_port);
	write_be16(udp + 2, to->udp_port);
	write_be16(udp + 4, udp_len);
	memset(udp + 6, 0, 2);
	if (payload_len > 0)
		memcpy(udp + UDP_LEN, payload, payload_len);
	cksum = l4_cksum(pseudo_sum(ifc->ip6, to->ip, 16, IPPROTO_UDP, udp_len), udp, udp_len);
	/* Zero would mean "no checksum", which IPv6 forbids (RFC 8200 8.1). */
	if (cksum == 0)
		cksum = 0xffff;
	memcpy(udp + 6, &cksum, sizeof(cksum));
	return finish_frame(out, len, cap);
}

uint32_t
sl_net_build_udp_to(const struct sl_net_iface *ifc, const struct sl_net_peer *to,
		    const uint8_t *payload, uint32_t payload_len, uint8_t *out, uint32_t cap)
{
	uint32_t dst_ip;

	switch (to->family) {
	case 4:
		if (ifc->ip == 0)
			return 0;
		memcpy(&dst_ip, to->ip, sizeof(dst_ip));
		return sl_net_build_udp(ifc, &to->mac, dst_ip, to->udp_port, to->vlan, to->vlan_tci,
					payload, payload_len, out, cap);
	case 6:
		if (is_zero_ip6(ifc->ip6))
			return 0;
		return build_udp6(ifc, to, payload, payload_len, out, cap);
	default:
		return 0;
	}
}

void
sl_net_peer_from_pkt(const struct sl_net_pkt *pkt, uint16_t port_id, struct sl_net_peer *out)
{
	memset(out, 0, sizeof(*out));
	out->port_id = port_id;
	out->family = pkt->family;
	out->vlan = pkt->vlan;
	out->vlan_tci = pkt->vlan_tci;
	out->udp_port = pkt->src_port;
	out->mac = pkt->src_mac;
	if (pkt->family == 6)
		memcpy(out->ip, pkt->src_ip6, sizeof(pkt->src_ip6));
	else
		memcpy(out->ip, &pkt->src_ip, sizeof(pkt->src_ip));
}

int
sl_net_parse_cidr(const char *s, uint8_t *family, uint8_t ip[16], uint8_t *prefix)
{
	char addr[INET6_ADDRSTRLEN];
	uint8_t buf[16] = { 0 };
	unsigned int bits = 0, max_bits;
	const char *slash, *p;
	uint8_t fam;

	if (s == NULL)
		return -EINVAL;
	slash = strchr(s, '/');
	if (slash == NULL || slash == s || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, buf) == 1) {
		fam = 4;
		max_bits = 32;
	} else if (inet_pton(AF_INET6, addr, buf) == 1) {
		fam = 6;
		max_bits = 128;
	} else {
		return -EINVAL;
	}
	if (slash[1] == '\0')
		return -EINVAL;
	for (p = slash + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		bits = bits * 10 + (unsigned int)(*p - '0');
		if (bits > max_bits)
			return -EINVAL;
	}
	if (is_zero_ip6(buf))
		return -EINVAL;
	*family = fam;
	memcpy(ip, buf, sizeof(buf));
	*prefix = (uint8_t)bits;
	return 0;
}
