/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

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
#define SL_NET_TTL 64

static const char *const verdict_names[SL_NET_NB_VERDICTS] = {
	[SL_NET_UDP] = "udp",
	[SL_NET_ARP_REQUEST] = "arp_request",
	[SL_NET_ICMP_ECHO] = "icmp_echo",
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
	[SL_NET_DROP_IPV6] = "ipv6",
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

/* The one's complement sum over a correct IPv4 header, or over a correct L4
 * message and its pseudo-header, is 0xffff. Neither sum can be 0: the
 * version/IHL byte and the protocol number in the pseudo-header are nonzero. */
static bool
ip_cksum_ok(const struct rte_ipv4_hdr *ip)
{
	return rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) == 0xffff;
}

static bool
udp_cksum_ok(const struct rte_ipv4_hdr *ip, const uint8_t *l4, uint32_t l4_len)
{
	return fold((uint32_t)rte_raw_cksum(l4, l4_len) + rte_ipv4_phdr_cksum(ip, 0)) == 0xffff;
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

static enum sl_net_verdict
classify_udp(const struct sl_net_iface *ifc, const struct rte_ipv4_hdr *ip, const uint8_t *l4,
	     uint32_t l4_len, struct sl_net_pkt *out)
{
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)l4;

	if (l4_len < UDP_LEN || rte_be_to_cpu_16(udp->dgram_len) != l4_len)
		return SL_NET_DROP_BAD_UDP;
	out->src_port = rte_be_to_cpu_16(udp->src_port);
	out->dst_port = rte_be_to_cpu_16(udp->dst_port);
	out->payload = l4 + UDP_LEN;
	out->payload_len = (uint16_t)(l4_len - UDP_LEN);
	if (udp->dgram_cksum != 0 && !udp_cksum_ok(ip, l4, l4_len))
		return SL_NET_DROP_BAD_UDP_CSUM;
	if (out->dst_port != ifc->udp_port)
		return SL_NET_DROP_WRONG_PORT;
	return SL_NET_UDP;
}

static enum sl_net_verdict
classify_icmp(const uint8_t *l4, uint32_t l4_len, struct sl_net_pkt *out)
{
	const struct rte_icmp_hdr *icmp = (const struct rte_icmp_hdr *)l4;

	if (l4_len < 1 || l4[0] != RTE_IP_ICMP_ECHO_REQUEST)
		return SL_NET_DROP_UNSUPPORTED_PROTO;
	if (l4_len < ICMP_LEN || icmp->icmp_code != 0 || rte_raw_cksum(l4, l4_len) != 0xffff)
		return SL_NET_DROP_BAD_ICMP;
	out->payload = l4 + ICMP_LEN;
	out->payload_len = (uint16_t)(l4_len - ICMP_LEN);
	return SL_NET_ICMP_ECHO;
}

static enum sl_net_verdict
classify_ipv4(const struct sl_net_iface *ifc, const uint8_t *frame, uint32_t len,
	      struct sl_net_pkt *out)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(frame + out->l3_off);
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
	if (!ip_cksum_ok(ip))
		return SL_NET_DROP_BAD_IP_CSUM;
	out->src_ip = ip->src_addr;
	out->dst_ip = ip->dst_addr;
	out->l4_off = (uint16_t)(out->l3_off + ihl);
	if (ip->dst_addr != ifc->ip)
		return SL_NET_DROP_NOT_FOR_US;
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	if (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return SL_NET_DROP_FRAGMENT;
	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		return classify_udp(ifc, ip, frame + out->l4_off, total - ihl, out);
	case IPPROTO_ICMP:
		return classify_icmp(frame + out->l4_off, total - ihl, out);
	default:
		return SL_NET_DROP_UNSUPPORTED_PROTO;
	}
}

enum sl_net_verdict
sl_net_classify(const struct sl_net_iface *ifc, const uint8_t *frame, uint32_t len,
		struct sl_net_pkt *out)
{
	uint32_t off = 2 * RTE_ETHER_ADDR_LEN;
	uint16_t type;
	int tags = 0;

	memset(out, 0, sizeof(*out));
	if (len < ETH_LEN)
		return SL_NET_DROP_RUNT;
	memcpy(&out->src_mac, frame + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
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

	if (type == RTE_ETHER_TYPE_IPV6)
		/* Neighbour discovery goes to multicast addresses. */
		return mac_is_ours(ifc, frame) || (frame[0] & 0x01) ? SL_NET_DROP_IPV6
								    : SL_NET_DROP_NOT_FOR_US;
	if (type != RTE_ETHER_TYPE_IPV4 && type != RTE_ETHER_TYPE_ARP)
		return SL_NET_DROP_BAD_ETHERTYPE;
	if (!mac_is_ours(ifc, frame))
		return SL_NET_DROP_NOT_FOR_US;
	if (type == RTE_ETHER_TYPE_ARP)
		return classify_arp(ifc, frame, len, out);
	return classify_ipv4(ifc, frame, len, out);
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

	if (sl_net_classify(ifc, request, req_len, &pkt) != SL_NET_ARP_REQUEST)
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

	if (sl_net_classify(ifc, request, req_len, &pkt) != SL_NET_ICMP_ECHO)
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

	memcpy(out, dst_mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(out + RTE_ETHER_ADDR_LEN, ifc->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	if (vlan) {
		write_be16(out + 12, RTE_ETHER_TYPE_VLAN);
		write_be16(out + 14, vlan_tci);
	}
	write_be16(out + l3_off - 2, RTE_ETHER_TYPE_IPV4);
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
