/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "sl_sendpmd.h"

#define ETH_LEN ((uint32_t)sizeof(struct rte_ether_hdr))
#define IPV4_LEN ((uint32_t)sizeof(struct rte_ipv4_hdr))
#define UDP_LEN ((uint32_t)sizeof(struct rte_udp_hdr))
#define ARP_LEN ((uint32_t)sizeof(struct rte_arp_hdr))
/* Offsets in the frame of the fields that change per datagram. */
#define OFF_IP_LEN (ETH_LEN + 2)
#define OFF_IP_CSUM (ETH_LEN + 10)
#define OFF_UDP (ETH_LEN + IPV4_LEN)
#define OFF_UDP_LEN (OFF_UDP + 4)
#define OFF_UDP_CSUM (OFF_UDP + 6)

_Static_assert(SL_SENDPMD_HDR_LEN == ETH_LEN + IPV4_LEN + UDP_LEN, "header length");

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void
sl_sendpmd_frame_init(struct sl_sendpmd_frame *f, const struct sl_net_iface *ifc,
		      const struct rte_ether_addr *dst_mac, uint32_t dst_ip, uint16_t dst_port,
		      enum sl_sendpmd_csum csum)
{
	uint8_t frame[SL_NET_MIN_FRAME];

	/* lib/net's builder makes the header of an empty datagram; only the
	 * lengths and checksums change afterwards. */
	sl_net_build_udp(ifc, dst_mac, dst_ip, dst_port, false, 0, NULL, 0, frame, sizeof(frame));
	memcpy(f->hdr, frame, sizeof(f->hdr));
	f->csum = csum;
}

uint32_t
sl_sendpmd_frame_build(const struct sl_sendpmd_frame *f, const uint8_t *payload,
		       uint32_t payload_len, uint8_t *out, uint32_t cap)
{
	uint32_t len = SL_SENDPMD_HDR_LEN + payload_len;
	uint32_t frame_len = len < SL_NET_MIN_FRAME ? SL_NET_MIN_FRAME : len;
	uint16_t ip_len = (uint16_t)(IPV4_LEN + UDP_LEN + payload_len);
	uint32_t sum;

	if (payload_len > SL_NET_UDP_MAX_PAYLOAD || cap < frame_len)
		return 0;
	memcpy(out, f->hdr, SL_SENDPMD_HDR_LEN);
	memcpy(out + SL_SENDPMD_HDR_LEN, payload, payload_len);
	if (frame_len > len)
		memset(out + len, 0, frame_len - len);
	/*
	 * The template's header checksum covers a total length of 28 (an empty
	 * datagram); the new one follows by RFC 1624's incremental update,
	 * HC' = ~(~HC + ~m + m'), which costs less than summing the header.
	 */
	sum = (uint16_t)~get_be16(f->hdr + OFF_IP_CSUM);
	sum += (uint16_t)~get_be16(f->hdr + OFF_IP_LEN);
	sum += ip_len;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	put_be16(out + OFF_IP_LEN, ip_len);
	put_be16(out + OFF_IP_CSUM, (uint16_t)~sum);
	put_be16(out + OFF_UDP_LEN, (uint16_t)(UDP_LEN + payload_len));
	switch (f->csum) {
	case SL_SENDPMD_CSUM_NONE:
		put_be16(out + OFF_UDP_CSUM, 0);
		break;
	case SL_SENDPMD_CSUM_SOFTWARE: {
		struct rte_ipv4_hdr ip;
		uint16_t c;

		/* The IPv4 header is copied out: a frame need not be aligned. */
		memcpy(&ip, out + ETH_LEN, sizeof(ip));
		put_be16(out + OFF_UDP_CSUM, 0);
		c = rte_ipv4_udptcp_cksum(&ip, out + OFF_UDP);
		memcpy(out + OFF_UDP_CSUM, &c, sizeof(c));
		break;
	}
	case SL_SENDPMD_CSUM_OFFLOAD: {
		struct rte_ipv4_hdr ip;
		uint16_t c;

		memcpy(&ip, out + ETH_LEN, sizeof(ip));
		c = rte_ipv4_phdr_cksum(&ip, 0);
		memcpy(out + OFF_UDP_CSUM, &c, sizeof(c));
		break;
	}
	}
	return frame_len;
}

bool
sl_sendpmd_arp_learn(const struct sl_net_iface *ifc, uint32_t target_ip, const uint8_t *frame,
		     uint32_t len, struct rte_ether_addr *mac)
{
	struct rte_arp_hdr arp;
	uint16_t op;

	if (len < ETH_LEN + ARP_LEN || get_be16(frame + 12) != RTE_ETHER_TYPE_ARP)
		return false;
	memcpy(&arp, frame + ETH_LEN, ARP_LEN);
	if (rte_be_to_cpu_16(arp.arp_hardware) != RTE_ARP_HRD_ETHER ||
	    rte_be_to_cpu_16(arp.arp_protocol) != RTE_ETHER_TYPE_IPV4 ||
	    arp.arp_hlen != RTE_ETHER_ADDR_LEN || arp.arp_plen != 4 ||
	    arp.arp_data.arp_sip != target_ip)
		return false;
	op = rte_be_to_cpu_16(arp.arp_opcode);
	if (op == RTE_ARP_OP_REPLY) {
		/* A reply to someone else (seen in promiscuous mode) tells as much,
		 * but only one to us is taken. */
		if (!rte_is_same_ether_addr(&arp.arp_data.arp_tha, &ifc->mac) ||
		    arp.arp_data.arp_tip != ifc->ip)
			return false;
	} else if (op != RTE_ARP_OP_REQUEST || arp.arp_data.arp_tip != ifc->ip) {
		return false;
	}
	if (!rte_is_unicast_ether_addr(&arp.arp_data.arp_sha) ||
	    rte_is_zero_ether_addr(&arp.arp_data.arp_sha))
		return false;
	*mac = arp.arp_data.arp_sha;
	return true;
}

enum sl_sendpmd_rx
sl_sendpmd_classify(const struct sl_net_iface *ifc, uint32_t peer_ip, uint16_t peer_port,
		    const uint8_t *frame, uint32_t len, uint32_t flags, struct sl_net_pkt *pkt,
		    enum sl_net_verdict *verdict)
{
	enum sl_net_verdict v = sl_net_classify(ifc, frame, len, flags, pkt);

	*verdict = v;
	switch (v) {
	case SL_NET_UDP:
		if (pkt->family == 4 && pkt->src_ip == peer_ip && pkt->src_port == peer_port)
			return SL_SENDPMD_RX_DATAGRAM;
		return SL_SENDPMD_RX_WRONG_PEER;
	case SL_NET_ARP_REQUEST:
		return SL_SENDPMD_RX_ARP_REQUEST;
	default:
		return SL_SENDPMD_RX_DROP;
	}
}
