/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_SENDPMD_H
#define SL_SENDPMD_H

/**
 * @file
 * The DPDK mode of sluice-send (`sluice-send --dpdk [EAL args] -- ...`):
 * the same sender state machine as the socket mode (lib/sender), driven by
 * a poll-mode loop on one DPDK port instead of a kernel UDP socket.
 *
 * The pure parts (argument splitting, the DPDK-mode options, the next hop,
 * the frame template, ARP, net_memif queue probing through callbacks) use
 * no EAL state, so the unit tests call them directly; any thread may call
 * them. sl_sendpmd_run() needs an initialised
 * EAL and runs on the main lcore only: one port, one TX queue, one or more
 * RX queues, no worker lcores. Functions return 0 or -errno unless stated;
 * none of them exits.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

#include "sl_net.h"
#include "sl_sender.h"

/** Defaults of the DPDK-mode options. */
#define SL_SENDPMD_MTU_DEFAULT 1500
#define SL_SENDPMD_MTU_MIN 1280
#define SL_SENDPMD_MTU_MAX 9000
#define SL_SENDPMD_IDLE_SLEEP_DEFAULT 50
#define SL_SENDPMD_IDLE_SLEEP_MAX 1000000
/** Queues tried on a net_memif port when --rx-queues/--tx-queues are not given. */
#define SL_SENDPMD_MEMIF_PROBE_MAX 16
#define SL_SENDPMD_QUEUES_MAX 64
/** Ethernet + IPv4 + UDP header bytes of every datagram we send. */
#define SL_SENDPMD_HDR_LEN 42
/** IPv4 + UDP header bytes, what --rate counts beside the payload (as the socket mode does). */
#define SL_SENDPMD_IP_OVERHEAD 28

/** Options of the DPDK mode, given after the EAL's "--" beside sluice-send's own. */
struct sl_sendpmd_opts {
	bool have_src;   /**< --src-ip was given. */
	uint32_t src_ip; /**< Network byte order. */
	uint8_t src_prefix;
	bool have_port_id;
	uint16_t port_id; /**< --port-id; default: the first port. */
	bool have_dst_mac;
	struct rte_ether_addr dst_mac; /**< --dst-mac: no ARP. */
	uint32_t gateway;              /**< --gateway, network order; 0: none. */
	uint16_t mtu;                  /**< --mtu: largest IP packet sent. */
	uint32_t idle_sleep_us;        /**< --idle-sleep: back-off when idle, 0 = busy-poll. */
	uint16_t src_port;             /**< --src-port, host order; 0: random ephemeral. */
	/**
	 * --rx-queues and --tx-queues; 0: automatic, which is 1 and 1, except
	 * on net_memif. A memif server accepts a client with at most as many
	 * rings each way as it has queues, and a server queue without a ring
	 * is not refused but reads or writes a ring that is not its own; sluice
	 * sends on one TX queue per RX and writer lcore. So on net_memif the
	 * counts are probed: the largest ones the server accepts. Every RX
	 * queue is polled; TX uses queue 0 only.
	 */
	uint16_t rx_queues;
	uint16_t tx_queues;
};

/**
 * Split `sluice-send --dpdk [EAL args...] -- [options] HOST SOURCE...` into
 * the EAL's argument vector (argv[0] and everything between "--dpdk" and
 * the first "--") and sluice-send's (argv[0] and everything after that
 * "--"). Pointers are copied, strings are not. Both vectors are
 * NULL-terminated and need room for @p argc + 1 pointers.
 *
 * @return 0; -EINVAL (with the reason in @p err) if argv[1] is not "--dpdk"
 *   or no "--" follows it.
 */
int sl_sendpmd_split_args(int argc, char **argv, char **eal_argv, int *eal_argc, char **app_argv,
			  int *app_argc, char *err, size_t errlen);

/**
 * Take the DPDK-mode options out of sluice-send's arguments, leaving the
 * rest, in order, for sl_sender_opts_parse(). Options are recognised as
 * getopt would: up to a "--" or the first operand (HOST), as --opt=VALUE or
 * --opt VALUE; the values of sluice-send's own options are skipped. Fills
 * @p o with defaults first.
 *
 * @param argc
 *   In: arguments in @p argv; out: those left.
 * @return the number of DPDK-mode options found, or -EINVAL with a one-line
 *   reason in @p err (a bad value, a missing value): a usage error.
 */
int sl_sendpmd_opts_extract(struct sl_sendpmd_opts *o, int *argc, char **argv, char *err,
			    size_t errlen);

/**
 * The first DPDK-mode option among sluice-send's arguments (without
 * --dpdk), or NULL: the socket mode refuses them. Does not change @p argv.
 */
const char *sl_sendpmd_find_option(int argc, char *const *argv);

/**
 * Check the DPDK-mode options against sluice-send's: --src-ip given, IPv4;
 * HOST a numeric IPv4 address (no name resolution in DPDK mode); no --bind;
 * --max-payload not above what --mtu carries.
 *
 * @param dst_ip
 *   Receives HOST in network order.
 * @return 0, or -EINVAL with a one-line reason in @p err: a usage error.
 */
int sl_sendpmd_opts_check(const struct sl_sendpmd_opts *o, const struct sl_sender_opts *so,
			  uint32_t *dst_ip, char *err, size_t errlen);

/**
 * The address to resolve with ARP for @p dst_ip (network order): itself
 * when it is inside @p src_ip / @p prefix, else @p gateway.
 *
 * @return 0, or -EHOSTUNREACH when @p dst_ip is off-link and @p gateway is 0.
 */
int sl_sendpmd_next_hop(uint32_t src_ip, uint8_t prefix, uint32_t dst_ip, uint32_t gateway,
			uint32_t *hop);

/** Largest UDP payload an IPv4 packet of @p mtu bytes carries, at most the protocol's 9000. */
uint16_t sl_sendpmd_max_payload(uint16_t mtu);

/** The DPDK-mode part of the --help text. */
const char *sl_sendpmd_usage(void);

/** How the UDP checksum of the datagrams we send is filled in. */
enum sl_sendpmd_csum {
	/**
	 * 0, "no checksum" (IPv4 only, RFC 768). Safe for this protocol: every
	 * message carries a CRC32C of all its bytes (docs/protocol.md, common
	 * header), checked by the receiver before anything else, so the UDP
	 * checksum would only protect the payload a second time; the IPv4
	 * header keeps its own checksum, and a corrupted UDP length or port is
	 * refused by the receiver's length checks or lands on no session.
	 * sluice accepts 0 over IPv4 (sl_net_classify) and then skips its own
	 * software check, which saves a pass over every payload on both ends.
	 */
	SL_SENDPMD_CSUM_NONE,
	SL_SENDPMD_CSUM_SOFTWARE, /**< Computed over the whole datagram. */
	/** The pseudo-header sum, for RTE_ETH_TX_OFFLOAD_UDP_CKSUM to finish. */
	SL_SENDPMD_CSUM_OFFLOAD,
};

/** A prepared Ethernet/IPv4/UDP header to one peer; only lengths and checksums change. */
struct sl_sendpmd_frame {
	uint8_t hdr[SL_SENDPMD_HDR_LEN];
	enum sl_sendpmd_csum csum;
};

/**
 * Prepare the header from our MAC, IPv4 address and UDP port in @p ifc to
 * @p dst_mac, @p dst_ip (network order) and @p dst_port (host order): IPv4
 * without options, DF set, TTL 64, id 0, as sl_net_build_udp() builds it.
 */
void sl_sendpmd_frame_init(struct sl_sendpmd_frame *f, const struct sl_net_iface *ifc,
			   const struct rte_ether_addr *dst_mac, uint32_t dst_ip, uint16_t dst_port,
			   enum sl_sendpmd_csum csum);

/**
 * Write one frame carrying @p payload: the header with its lengths and
 * checksums, the payload, zero padding to the Ethernet minimum. With
 * SL_SENDPMD_CSUM_SOFTWARE the bytes equal sl_net_build_udp()'s.
 *
 * @return the frame length, or 0 if it does not fit in @p cap or the
 *   payload exceeds SL_NET_UDP_MAX_PAYLOAD.
 */
uint32_t sl_sendpmd_frame_build(const struct sl_sendpmd_frame *f, const uint8_t *payload,
				uint32_t payload_len, uint8_t *out, uint32_t cap);

/**
 * Whether @p frame tells the MAC of @p target_ip: an Ethernet/IPv4 ARP
 * reply from it, or a request from it for our address (as a host learns
 * from a request addressed to it). Untagged frames only.
 *
 * @param mac
 *   Receives the sender hardware address (never broadcast, multicast or zero).
 */
bool sl_sendpmd_arp_learn(const struct sl_net_iface *ifc, uint32_t target_ip, const uint8_t *frame,
			  uint32_t len, struct rte_ether_addr *mac);

/** What the loop does with a received frame. */
enum sl_sendpmd_rx {
	SL_SENDPMD_RX_DATAGRAM,    /**< UDP from the receiver's address and port: the protocol's. */
	SL_SENDPMD_RX_ARP_REQUEST, /**< ARP request for our address: answered. */
	SL_SENDPMD_RX_WRONG_PEER,  /**< UDP to our port from anyone else: dropped. */
	SL_SENDPMD_RX_DROP,        /**< Anything else, by sl_net verdict: dropped. */
};

/**
 * Classify a received frame for the sender (sl_net_classify() with our
 * addresses in @p ifc, then the peer check).
 *
 * @param peer_ip
 *   The receiver's address, network order.
 * @param peer_port
 *   The receiver's UDP port, host order.
 * @param flags
 *   SL_NET_F_* checksum flags from the NIC, or 0.
 * @param pkt
 *   Filled by sl_net_classify(); payload valid for SL_SENDPMD_RX_DATAGRAM.
 * @param verdict
 *   Receives sl_net_classify()'s verdict.
 */
enum sl_sendpmd_rx sl_sendpmd_classify(const struct sl_net_iface *ifc, uint32_t peer_ip,
				       uint16_t peer_port, const uint8_t *frame, uint32_t len,
				       uint32_t flags, struct sl_net_pkt *pkt,
				       enum sl_net_verdict *verdict);

/** net_memif probing: the least wait for a refusal, the longest, and the pause
 * between two clients (the server must see one go before the next comes). */
#define SL_SENDPMD_PROBE_MIN_NS 500000000ull
#define SL_SENDPMD_PROBE_MAX_NS 4000000000ull
#define SL_SENDPMD_PROBE_GAP_NS 50000000ull
/** Starts of one probe that may fail before it counts as the server's refusal. */
#define SL_SENDPMD_PROBE_START_TRIES 3

/**
 * What sl_sendpmd_memif_connect() does to a port: sl_sendpmd_run() gives
 * the DPDK calls, the unit tests a model of a memif server and a clock.
 */
struct sl_sendpmd_link_ops {
	/** Configure @p rxq RX and @p txq TX queues and start the port; 0 or -errno
	 * with the reason in @p err. */
	int (*start)(void *arg, uint16_t rxq, uint16_t txq, char *err, size_t errlen);
	/** Stop the port; nothing if it is not started. */
	void (*stop)(void *arg);
	/** Whether the link comes up within @p ns (false at once when stopping). */
	bool (*up_within)(void *arg, uint64_t ns);
	void (*sleep)(void *arg, uint64_t ns);
	/** A monotonic clock, in nanoseconds. */
	uint64_t (*now)(void *arg);
	void *arg;
};

/** What sl_sendpmd_memif_connect() is to find. */
struct sl_sendpmd_probe {
	const char *who;    /**< Names the port in messages ("port 0 (net_memif)"). */
	uint16_t rx_queues; /**< --rx-queues; 0: probe. */
	uint16_t tx_queues; /**< --tx-queues; 0: probe. */
	uint16_t max_rx;    /**< The device's limits. */
	uint16_t max_tx;
	uint64_t limit_ns;        /**< For the server to take us at all (--timeout). */
	const volatile int *stop; /**< Polled; may be NULL. */
};

/**
 * Connect a net_memif client with the queue counts its server takes (see
 * struct sl_sendpmd_opts): first with 1 and 1 (or the counts given), until
 * the limit, then raising RX and then TX one at a time while the server
 * takes them (on the last refusal, the counts it took, again until the
 * limit). A start that fails does not count as a refusal: it is tried
 * again, up to SL_SENDPMD_PROBE_START_TRIES times per probe. On return
 * 0 the port is started with the counts in @p rx_queues and @p tx_queues.
 *
 * @return 0; -EINTR when stopped; -ENODEV when the link stays down past
 *   the limit; the start's own -errno when it still fails then.
 */
int sl_sendpmd_memif_connect(const struct sl_sendpmd_link_ops *ops,
			     const struct sl_sendpmd_probe *p, uint16_t *rx_queues,
			     uint16_t *tx_queues, char *err, size_t errlen);

/** Counters of the DPDK loop, beside the state machine's. */
struct sl_sendpmd_stats {
	uint64_t rx_frames;
	uint64_t rx_datagrams;    /**< Handed to the state machine. */
	uint64_t rx_arp_requests; /**< Answered. */
	uint64_t rx_wrong_peer;
	uint64_t rx_dropped;                      /**< Total of rx_verdicts but udp and ARP. */
	uint64_t rx_verdicts[SL_NET_NB_VERDICTS]; /**< Every received frame, by verdict. */
	uint64_t tx_frames;                       /**< Accepted by the device. */
	uint64_t tx_bytes;                        /**< Of those frames. */
	uint64_t tx_busy;    /**< tx_burst calls that took fewer frames than offered. */
	uint64_t tx_dropped; /**< Frames the device refused for too long: freed, counted. */
	uint64_t tx_nombuf;  /**< Frames lost for want of an mbuf. */
	uint64_t arp_requests_sent;
	uint64_t idle_sleeps;
	/** From the first HELLO to the end: the transfer without the port's setup and ARP. */
	uint64_t transfer_ns;
};

/**
 * Set up the port (--port-id or the first one) with its queues (on
 * net_memif, those its server takes: see struct sl_sendpmd_opts), wait for
 * its link, resolve the next hop's MAC with ARP (unless --dst-mac), then run
 * the transfer of @p l to its end as sl_sender_run() does, answering ARP
 * requests for our address meanwhile; wait for the link to be quiet, stop
 * and close the port. The caller has initialised EAL and cleans it up.
 *
 * @param c
 *   As for sl_sender_run(); max_payload 0 takes it from --mtu; ip_overhead
 *   and, unless set, cc_start_bps (a quarter of the link's speed) are set
 *   here.
 * @param stop
 *   Polled: once nonzero (a signal), the transfer stops where it is; the
 *   files not yet final stay SL_SENDER_PENDING.
 * @param pstats
 *   Receives the loop's counters (may be NULL).
 * @return 0 when a session was opened and ended; -ETIMEDOUT or
 *   -ECONNREFUSED when no session could be opened; -EHOSTUNREACH when the
 *   next hop does not answer ARP; -EINTR when stopped by @p stop; -EINVAL
 *   for options sl_sendpmd_opts_check() refuses or an off-link HOST without
 *   --gateway; -ENODEV (no such port, setup failed, link down), -ENOMEM or
 *   another -errno for the device. Messages go through @p c->log (verbose)
 *   and @p err.
 */
int sl_sendpmd_run(const struct sl_sendpmd_opts *po, const struct sl_sender_opts *o,
		   const struct sl_sender_config *c, struct sl_sender_list *l,
		   sl_sender_progress_fn *progress, void *arg, const volatile int *stop,
		   struct sl_sender_stats *stats, struct sl_sendpmd_stats *pstats, char *err,
		   size_t errlen);

#endif /* SL_SENDPMD_H */
