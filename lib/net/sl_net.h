/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_NET_H
#define SL_NET_H

/**
 * @file
 * The minimal IPv4 host that file mode needs: classify a received Ethernet
 * frame (ours to serve, or why it is dropped) and build the replies (ARP,
 * ICMP echo) and the UDP frames we send.
 *
 * Everything here works on flat byte buffers: no EAL, no mbufs, no global
 * state, so any lcore may call any function at any time, and the unit tests
 * and a fuzzer can drive it directly. Frames are untrusted: no function reads
 * a byte at or beyond the length it is given, whatever the headers claim.
 * Buffers need no particular alignment.
 *
 * Frames carry no FCS. Frames we build are padded with zeros to the Ethernet
 * minimum of 60 bytes, since not every PMD (net_pcap, net_ring) pads them.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

/** Smallest frame we build: the Ethernet minimum without FCS. */
#define SL_NET_MIN_FRAME (RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN)

/** Largest UDP payload sl_net_build_udp() accepts (IPv4 total length limit). */
#define SL_NET_UDP_MAX_PAYLOAD (UINT16_MAX - 20 - 8)

/** What to do with a received frame. Drop reasons double as counter names. */
enum sl_net_verdict {
	SL_NET_UDP,                    /**< UDP to our IP and port, checksums valid. */
	SL_NET_ARP_REQUEST,            /**< ARP request asking for our IP. */
	SL_NET_ICMP_ECHO,              /**< ICMP echo request to our IP, checksum valid. */
	SL_NET_DROP_RUNT,              /**< Shorter than its Ethernet, VLAN, IPv4 or ARP header. */
	SL_NET_DROP_BAD_ETHERTYPE,     /**< Not IPv4, ARP, IPv6 or up to two VLAN tags. */
	SL_NET_DROP_BAD_IP_HEADER,     /**< Version, IHL or total length inconsistent. */
	SL_NET_DROP_BAD_IP_CSUM,       /**< IPv4 header checksum fails. */
	SL_NET_DROP_FRAGMENT,          /**< MF set or fragment offset not 0. */
	SL_NET_DROP_NOT_FOR_US,        /**< Destination MAC or IPv4 address not ours. */
	SL_NET_DROP_BAD_UDP,           /**< UDP length not the IPv4 payload length. */
	SL_NET_DROP_BAD_UDP_CSUM,      /**< Nonzero UDP checksum that fails. */
	SL_NET_DROP_WRONG_PORT,        /**< UDP to a port other than ours. */
	SL_NET_DROP_BAD_ICMP,          /**< ICMP echo request truncated or checksum fails. */
	SL_NET_DROP_UNSUPPORTED_PROTO, /**< Another IP protocol or ICMP type. */
	SL_NET_DROP_ARP_OTHER,         /**< ARP that is not an Ethernet/IPv4 request for us. */
	SL_NET_DROP_IPV6,              /**< IPv6: counted, not served yet. */
	SL_NET_NB_VERDICTS
};

/** Our address on one port. */
struct sl_net_iface {
	struct rte_ether_addr mac;
	uint32_t ip;       /**< Network byte order. */
	uint16_t udp_port; /**< Host byte order. */
};

/**
 * What sl_net_classify() found. Addresses are in network byte order, ports
 * in host byte order; payload points into the classified frame.
 */
struct sl_net_pkt {
	uint16_t vlan_tci;           /**< Innermost tag's TCI (host order), if vlan. */
	bool vlan;                   /**< At least one 802.1Q/802.1ad tag was present. */
	uint32_t src_ip, dst_ip;     /**< IPv4, or ARP sender/target. */
	uint16_t src_port, dst_port; /**< UDP only. */
	const uint8_t *payload;      /**< UDP payload, or ICMP data after its 8-byte header. */
	uint16_t payload_len;
	uint16_t l3_off, l4_off;       /**< Offsets of the IPv4/ARP header and L4 header. */
	struct rte_ether_addr src_mac; /**< Ethernet source. */
};

/**
 * Name of a verdict, snake_case without the SL_NET_ / DROP_ prefix
 * ("udp", "bad_ip_csum"), usable as a counter name.
 *
 * @return
 *   A static string; "unknown" for a value out of range.
 */
const char *sl_net_verdict_name(enum sl_net_verdict v);

/**
 * Classify one received frame.
 *
 * Up to two VLAN tags are parsed (802.1Q, or 802.1ad then 802.1Q); the
 * innermost one's TCI is reported. The destination MAC must be ours or
 * broadcast (or any multicast for IPv6). A UDP checksum of 0 means "none" and
 * is accepted. The UDP length must equal the IPv4 payload length; bytes after
 * the IPv4 total length (Ethernet padding) are ignored.
 *
 * @param ifc
 *   Our addresses.
 * @param frame
 *   The frame, starting at the Ethernet destination; no FCS.
 * @param len
 *   Bytes readable at @p frame.
 * @param out
 *   Filled as far as parsing got; fully valid only for SL_NET_UDP,
 *   SL_NET_ARP_REQUEST and SL_NET_ICMP_ECHO.
 * @return
 *   The verdict. Never fails otherwise.
 */
enum sl_net_verdict sl_net_classify(const struct sl_net_iface *ifc, const uint8_t *frame,
				    uint32_t len, struct sl_net_pkt *out);

/**
 * Build the ARP reply to a request for our IP, with the request's VLAN
 * tags, addressed to the requester's MAC.
 *
 * @return
 *   Length of the frame written to @p out; 0 if @p request does not classify
 *   as SL_NET_ARP_REQUEST or @p cap is too small.
 */
uint32_t sl_net_build_arp_reply(const struct sl_net_iface *ifc, const uint8_t *request,
				uint32_t req_len, uint8_t *out, uint32_t cap);

/**
 * Build the ICMP echo reply to an echo request for our IP: same VLAN tags,
 * addresses swapped, a fresh 20-byte IPv4 header (IPv4 options of the
 * request are not echoed; TTL 64, same TOS and id), the ICMP message copied
 * with type 0 and its checksum recomputed.
 *
 * @return
 *   Length of the frame written to @p out; 0 if @p request does not classify
 *   as SL_NET_ICMP_ECHO or @p cap is too small.
 */
uint32_t sl_net_build_icmp_echo_reply(const struct sl_net_iface *ifc, const uint8_t *request,
				      uint32_t req_len, uint8_t *out, uint32_t cap);

/**
 * Build a UDP/IPv4 frame from our MAC, IP and UDP port: IPv4 without
 * options, DF set, TTL 64, id 0; both checksums filled in.
 *
 * @param dst_ip
 *   Network byte order.
 * @param dst_port
 *   Host byte order.
 * @param vlan
 *   Whether to add one 802.1Q tag carrying @p vlan_tci (host order).
 * @return
 *   Length of the frame written to @p out; 0 if @p cap is too small or
 *   @p payload_len exceeds SL_NET_UDP_MAX_PAYLOAD.
 */
uint32_t sl_net_build_udp(const struct sl_net_iface *ifc, const struct rte_ether_addr *dst_mac,
			  uint32_t dst_ip, uint16_t dst_port, bool vlan, uint16_t vlan_tci,
			  const uint8_t *payload, uint32_t payload_len, uint8_t *out, uint32_t cap);

#endif /* SL_NET_H */
