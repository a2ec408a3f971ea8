/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_NET_H
#define SL_NET_H

/**
 * @file
 * The minimal IPv4 and IPv6 host that sluice needs: classify a received
 * Ethernet frame (ours to serve, or why it is dropped) and build the replies
 * (ARP, ICMP echo, NDP neighbour advertisement, ICMPv6 echo) and the UDP
 * frames we send, so that an ordinary host can reach us without any special
 * configuration.
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
#include <rte_mbuf_core.h>

/** Smallest frame we build: the Ethernet minimum without FCS. */
#define SL_NET_MIN_FRAME (RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN)

/** Largest UDP payload sl_net_build_udp() accepts (IPv4 total length limit). */
#define SL_NET_UDP_MAX_PAYLOAD (UINT16_MAX - 20 - 8)

/** Largest UDP payload over IPv6 (UDP length limit; jumbograms are not built). */
#define SL_NET_UDP6_MAX_PAYLOAD (UINT16_MAX - 8)

/**
 * @name Checksum flags for sl_net_classify()
 * What the NIC already found, so that the software check can be skipped. A
 * clear bit means "not checked by hardware". GOOD and BAD both set means the
 * checksum in the frame may be wrong but the data was verified (DPDK's
 * RTE_MBUF_F_RX_*_CKSUM_NONE), and is treated as GOOD; so the bits can be
 * taken one for one from the mbuf's ol_flags.
 * @{
 */
#define SL_NET_F_IP_CSUM_GOOD (1u << 0) /**< IPv4 header checksum verified good. */
#define SL_NET_F_IP_CSUM_BAD (1u << 1)  /**< IPv4 header checksum found bad. */
#define SL_NET_F_L4_CSUM_GOOD (1u << 2) /**< UDP/ICMP/ICMPv6 checksum verified good. */
#define SL_NET_F_L4_CSUM_BAD (1u << 3)  /**< UDP/ICMP/ICMPv6 checksum found bad. */
/** @} */

/** What to do with a received frame. Drop reasons double as counter names. */
enum sl_net_verdict {
	SL_NET_UDP,                    /**< UDP to our IP and port, checksums valid. */
	SL_NET_ARP_REQUEST,            /**< ARP request asking for our IP. */
	SL_NET_ICMP_ECHO,              /**< ICMP echo request to our IP, checksum valid. */
	SL_NET_NDP_SOLICIT,            /**< Neighbour solicitation for our IPv6 address. */
	SL_NET_ICMP6_ECHO,             /**< ICMPv6 echo request to our IPv6, checksum valid. */
	SL_NET_DROP_RUNT,              /**< Shorter than its Ethernet, VLAN, IP or ARP header. */
	SL_NET_DROP_BAD_ETHERTYPE,     /**< Not IPv4, ARP, IPv6 or up to two VLAN tags. */
	SL_NET_DROP_BAD_IP_HEADER,     /**< Version, lengths, ext. headers or source impossible. */
	SL_NET_DROP_BAD_IP_CSUM,       /**< IPv4 header checksum fails. */
	SL_NET_DROP_FRAGMENT,          /**< IPv4 MF or offset set; any IPv6 Fragment header. */
	SL_NET_DROP_NOT_FOR_US,        /**< Destination MAC or IP not ours, or no such family. */
	SL_NET_DROP_BAD_UDP,           /**< UDP length not the IP payload length. */
	SL_NET_DROP_BAD_UDP_CSUM,      /**< UDP checksum fails (or is 0, over IPv6). */
	SL_NET_DROP_WRONG_PORT,        /**< UDP to a port other than ours. */
	SL_NET_DROP_BAD_ICMP,          /**< ICMP/ICMPv6 we serve, truncated or checksum fails. */
	SL_NET_DROP_UNSUPPORTED_PROTO, /**< Another IP protocol, ICMP type or IPv6 ext header. */
	SL_NET_DROP_ARP_OTHER,         /**< ARP that is not an Ethernet/IPv4 request for us. */
	SL_NET_DROP_NDP_OTHER,         /**< Any other ICMPv6: adverts, MLD, DAD, NS for others. */
	SL_NET_DROP_BAD_SRC_MAC,       /**< A group (multicast or broadcast) source MAC. */
	SL_NET_NB_VERDICTS
};

/** Our addresses on one port. */
struct sl_net_iface {
	struct rte_ether_addr mac;
	uint32_t ip;        /**< Network byte order; 0: no IPv4 address. */
	uint16_t udp_port;  /**< Host byte order. */
	uint8_t ip_prefix;  /**< IPv4 prefix length (informative: nothing is routed). */
	uint8_t ip6[16];    /**< Network byte order; all zero: no IPv6 address. */
	uint8_t ip6_prefix; /**< IPv6 prefix length (informative). */
};

/**
 * What sl_net_classify() found. Addresses are in network byte order, ports
 * in host byte order; payload points into the classified frame.
 */
struct sl_net_pkt {
	uint16_t vlan_tci;           /**< Innermost tag's TCI (host order), if vlan. */
	bool vlan;                   /**< At least one 802.1Q/802.1ad tag was present. */
	uint8_t family;              /**< 4 (IPv4 or ARP) or 6, once the ethertype is known. */
	uint32_t src_ip, dst_ip;     /**< IPv4, or ARP sender/target. */
	uint8_t src_ip6[16];         /**< IPv6 only. */
	uint8_t dst_ip6[16];         /**< IPv6 only. */
	uint16_t src_port, dst_port; /**< UDP only. */
	const uint8_t *payload;      /**< UDP payload, or ICMP/ICMPv6 data after 8 bytes. */
	uint16_t payload_len;
	/** Offsets of the IPv4/IPv6/ARP header and of the L4 header (after any IPv6
	 * extension headers). */
	uint16_t l3_off, l4_off;
	struct rte_ether_addr src_mac; /**< Ethernet source. */
};

/**
 * The far end of a datagram we received: everything needed to answer it
 * from the same port, without ARP or NDP (replies go to the MAC the datagram
 * came from, with its VLAN tag). Also the identity of a sender for cookies,
 * --allow and sessions. Compare peers with sl_net_peer_equal().
 */
struct sl_net_peer {
	uint16_t port_id;          /**< DPDK port the datagram arrived on. */
	uint8_t family;            /**< 4 or 6. */
	bool vlan;                 /**< Answer with one 802.1Q tag carrying vlan_tci. */
	uint16_t vlan_tci;         /**< Host order. */
	uint16_t udp_port;         /**< Sender's UDP port, host order. */
	struct rte_ether_addr mac; /**< Sender's (or its router's) MAC. */
	uint8_t ip[16];            /**< IPv4 in ip[0..3], rest zero; or IPv6. Network order. */
};

/** Whether two peers are the same address, port and family (MAC, VLAN and DPDK port ignored). */
static inline bool
sl_net_peer_equal(const struct sl_net_peer *a, const struct sl_net_peer *b)
{
	if (a->family != b->family || a->udp_port != b->udp_port)
		return false;
	for (unsigned i = 0; i < 16; i++)
		if (a->ip[i] != b->ip[i])
			return false;
	return true;
}

/**
 * Name of a verdict, snake_case without the SL_NET_ / DROP_ prefix
 * ("udp", "bad_ip_csum"), usable as a counter name.
 *
 * @return
 *   A static string; "unknown" for a value out of range.
 */
const char *sl_net_verdict_name(enum sl_net_verdict v);

/**
 * The sl_net_classify() flags of an mbuf's checksum offload flags (its
 * ol_flags). DPDK's verdicts are two bits each: GOOD, BAD, NONE (both: the
 * data's sum is not right but the NIC verified the packet) or UNKNOWN
 * (neither); the SL_NET_F_* bits read the same way, so they map one for one.
 * Inline: the RX lcores call it for every frame.
 */
static inline uint32_t
sl_net_mbuf_csum_flags(uint64_t ol_flags)
{
	uint32_t f = 0;

	if (ol_flags & RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		f |= SL_NET_F_IP_CSUM_GOOD;
	if (ol_flags & RTE_MBUF_F_RX_IP_CKSUM_BAD)
		f |= SL_NET_F_IP_CSUM_BAD;
	if (ol_flags & RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		f |= SL_NET_F_L4_CSUM_GOOD;
	if (ol_flags & RTE_MBUF_F_RX_L4_CKSUM_BAD)
		f |= SL_NET_F_L4_CSUM_BAD;
	return f;
}

/**
 * Classify one received frame.
 *
 * Up to two VLAN tags are parsed (802.1Q, or 802.1ad then 802.1Q); the
 * innermost one's TCI is reported. The destination MAC must be ours or
 * broadcast (or 33:33:xx:xx:xx:xx multicast for IPv6). Frames of a family we
 * have no address for (ifc->ip == 0, or ifc->ip6 all zero) are NOT_FOR_US.
 *
 * IPv4: a UDP checksum of 0 means "none" and is accepted, whatever the flags
 * say. The UDP length must equal the IPv4 payload length; bytes after the
 * IPv4 total length (Ethernet padding) are ignored. A source no host may
 * have (0.0.0.0/8, 127.0.0.0/8, multicast, 255.255.255.255) in a packet to
 * our address is a bad header.
 *
 * IPv6: the destination must be our address, or multicast; only neighbour
 * solicitations (to our address or its solicited-node group) and other
 * ICMPv6 (NDP_OTHER) are taken from multicast. Hop-by-Hop (first only) and
 * Destination Options headers are skipped; a Fragment header is FRAGMENT, any
 * other extension header UNSUPPORTED_PROTO. A multicast source is a bad
 * header, and so is the unspecified source on UDP. The UDP checksum is
 * mandatory: 0 is BAD_UDP_CSUM. A solicitation from the unspecified address
 * (duplicate address detection) is NDP_OTHER: we do not defend our address.
 *
 * @param ifc
 *   Our addresses.
 * @param frame
 *   The frame, starting at the Ethernet destination; no FCS.
 * @param len
 *   Bytes readable at @p frame.
 * @param flags
 *   SL_NET_F_* bits from the NIC's receive checksum offload, or 0 to check
 *   every checksum in software. A GOOD bit skips that check, a BAD bit alone
 *   gives the checksum verdict without computing anything.
 * @param out
 *   Filled as far as parsing got; fully valid only for SL_NET_UDP,
 *   SL_NET_ARP_REQUEST, SL_NET_ICMP_ECHO, SL_NET_NDP_SOLICIT and
 *   SL_NET_ICMP6_ECHO.
 * @return
 *   The verdict. Never fails otherwise.
 */
enum sl_net_verdict sl_net_classify(const struct sl_net_iface *ifc, const uint8_t *frame,
				    uint32_t len, uint32_t flags, struct sl_net_pkt *out);

/**
 * Build a broadcast ARP request (untagged) from our MAC and IPv4 address for
 * @p target_ip (network order): how a sender learns its next hop's MAC.
 *
 * @return the frame length (SL_NET_MIN_FRAME), or 0 if @p cap is too small.
 */
uint32_t sl_net_build_arp_request(const struct sl_net_iface *ifc, uint32_t target_ip, uint8_t *out,
				  uint32_t cap);

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

/**
 * Build the neighbour advertisement answering a solicitation for our IPv6
 * address: same VLAN tags, to the solicitation's source MAC and IPv6
 * address, from our IPv6 address, hop limit 255, Solicited and Override set,
 * with a target link-layer address option carrying our MAC.
 *
 * @return
 *   Length of the frame written to @p out; 0 if @p request does not classify
 *   as SL_NET_NDP_SOLICIT or @p cap is too small.
 */
uint32_t sl_net_build_ndp_advert(const struct sl_net_iface *ifc, const uint8_t *request,
				 uint32_t req_len, uint8_t *out, uint32_t cap);

/**
 * Build the ICMPv6 echo reply to an echo request for our IPv6 address: same
 * VLAN tags, addresses swapped, a fresh 40-byte IPv6 header (extension
 * headers of the request are not echoed; hop limit 64, same traffic class,
 * flow label 0), the ICMPv6 message copied with type 129 and its checksum
 * recomputed.
 *
 * @return
 *   Length of the frame written to @p out; 0 if @p request does not classify
 *   as SL_NET_ICMP6_ECHO or @p cap is too small.
 */
uint32_t sl_net_build_icmp6_echo_reply(const struct sl_net_iface *ifc, const uint8_t *request,
				       uint32_t req_len, uint8_t *out, uint32_t cap);

/**
 * Build a UDP frame to a peer, from our MAC, UDP port and our address of the
 * peer's family. IPv4 as sl_net_build_udp() does; IPv6 without extension
 * headers, hop limit 64, traffic class and flow label 0, checksum filled in.
 * One 802.1Q tag if @p to says so.
 *
 * @return
 *   Length of the frame written to @p out; 0 if we have no address of that
 *   family (or the family is neither 4 nor 6), @p cap is too small, or
 *   @p payload_len exceeds SL_NET_UDP_MAX_PAYLOAD (IPv4) or
 *   SL_NET_UDP6_MAX_PAYLOAD (IPv6).
 */
uint32_t sl_net_build_udp_to(const struct sl_net_iface *ifc, const struct sl_net_peer *to,
			     const uint8_t *payload, uint32_t payload_len, uint8_t *out,
			     uint32_t cap);

/**
 * The sender of a datagram that sl_net_classify() returned SL_NET_UDP for,
 * of either family, as a peer to answer with sl_net_build_udp_to(). Unused
 * bytes of @p out are zeroed, so peers may also be hashed or compared whole.
 *
 * @param port_id
 *   The DPDK port the frame arrived on.
 */
void sl_net_peer_from_pkt(const struct sl_net_pkt *pkt, uint16_t port_id, struct sl_net_peer *out);

/**
 * Parse an interface address with its prefix length: "192.0.2.1/24" or
 * "2001:db8::1/64", as --ip takes it. No whitespace, and the prefix is
 * required.
 *
 * @param family
 *   Set to 4 or 6.
 * @param ip
 *   Set to the address in network order: IPv4 in ip[0..3] and the rest
 *   zeroed, or all 16 bytes of IPv6.
 * @param prefix
 *   Set to the prefix length.
 * @return
 *   0; or -EINVAL if @p s is not an address, lacks "/N", has N out of range
 *   (over 32 or 128) or anything after N, or is the all-zero address (which
 *   means "no address" in struct sl_net_iface). Nothing is written then.
 */
int sl_net_parse_cidr(const char *s, uint8_t *family, uint8_t ip[16], uint8_t *prefix);

#endif /* SL_NET_H */
