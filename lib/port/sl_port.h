/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_PORT_H
#define SL_PORT_H

/**
 * @file
 * Ethernet port set-up for ingest: queues, RSS, descriptors, promiscuous
 * mode, and the port's identity and counters. Control lcore only.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "sl_stats.h"

struct sl_port_conf {
	uint16_t nb_rxq; /**< RX queues (one per RX lcore serving the port). */
	uint16_t nb_txq; /**< TX queues (0 in capture mode; file mode: one per lcore that sends). */
	uint16_t nb_rxd; /**< RX descriptors per queue (adjusted to the device). */
	uint16_t nb_txd;
	bool promiscuous;
	bool rx_csum;             /**< Ask for IPv4/UDP checksum checks where the NIC has them. */
	uint16_t mtu;             /**< 0: leave the device's MTU; else set it (file mode). */
	struct rte_mempool *pool; /**< mbufs for the RX queues. */
	/* From a NIC profile (lib/profile); zero keeps the defaults. */
	bool no_rss;       /**< No RSS even with several queues. */
	uint64_t rss_hf;   /**< RTE_ETH_RSS_* to hash on; 0: IP, TCP and UDP. */
	bool rx_timestamp; /**< Ask for RTE_ETH_RX_OFFLOAD_TIMESTAMP (a warning if not offered). */
	bool no_scatter;   /**< Do not ask for RTE_ETH_RX_OFFLOAD_SCATTER, even where offered. */
};

/**
 * Configure port @p port_id (not started). RSS (on conf->rss_hf, by default
 * IP/TCP/UDP, less what the device lacks) is enabled when there is more than
 * one queue, the device offers it and conf->no_rss is not set. Logs one line
 * with the queues, descriptors and offloads in effect.
 *
 * @return 0, or -errno with a reason in @p err.
 */
int sl_port_configure(uint16_t port_id, const struct sl_port_conf *conf, char *err, size_t errlen);

/** Start the port and enable promiscuous mode if asked. @return 0 or -errno. */
int sl_port_start(uint16_t port_id, bool promiscuous, char *err, size_t errlen);

/** Stop the port (errors are logged, not returned). */
void sl_port_stop(uint16_t port_id);

/** The port's MAC address. @return 0 or -errno. */
int sl_port_mac(uint16_t port_id, struct rte_ether_addr *mac);

/** Highest number of RX queues the device accepts. */
uint16_t sl_port_max_rxq(uint16_t port_id);

/** NUMA socket of the port, or 0 when unknown. */
int sl_port_socket(uint16_t port_id);

/** Name of the device (e.g. "0000:03:00.0" or "net_pcap0") into @p buf. */
void sl_port_name(uint16_t port_id, char *buf, size_t len);

/** Read the NIC's counters. @return 0 or -errno. */
int sl_port_nic_stats(uint16_t port_id, struct sl_nic_stats *out);

#endif /* SL_PORT_H */
