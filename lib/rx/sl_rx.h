/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_RX_H
#define SL_RX_H

/**
 * @file
 * RX lcores: poll their (port, queue) pairs, stamp every packet with its own
 * TSC reading, and pass bursts on to the writers over single-producer /
 * single-consumer rings. A full ring drops the excess, counted per port.
 *
 * The configuration is written by the control lcore before launch and read
 * only by its RX lcore afterwards; the stats belong to the RX lcore.
 */

#include <stdint.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "sl_common.h"
#include "sl_filter.h"
#include "sl_net.h"
#include "sl_stats.h"

/** One queue an RX lcore polls, and the ring to the writer that owns it. */
struct sl_rx_queue {
	uint16_t port;
	uint16_t queue;
	struct rte_ring *ring;
	const uint8_t *backlog; /**< Set by the ring's writer while it has no free buffer. */
};

/** Most (port, queue) pairs one RX lcore polls. */
#define SL_RX_MAX_QUEUES (SL_MAX_PORTS * 16)

struct sl_rx_lcore {
	struct sl_rx_queue q[SL_RX_MAX_QUEUES];
	unsigned nb_q;
	uint16_t burst;
	uint32_t idle_sleep_us; /**< Sleep after an idle round; 0 = busy poll. */
	int ts_offset;          /**< mbuf dynfield for the RX TSC. */
	struct sl_rx_stats *stats;
	const int *stop;               /**< Set (atomically) by the control lcore. */
	int *running;                  /**< Decremented (release) when this lcore exits. */
	uint64_t *budget;              /**< Packets left under --max-packets, or NULL. */
	struct sl_filter_slot *filter; /**< Capture filter, swapped at run time (RCU). */
	unsigned reader_id;            /**< This lcore's RCU reader id in the filter slot. */
	/* File mode (sl_rx_file_lcore_main); the per-queue rings are unused. */
	const struct sl_net_iface *ifaces;         /**< Our addresses, indexed by port id. */
	struct rte_ring *to_writer[SL_MAX_LCORES]; /**< This lcore's ring to each writer. */
	unsigned nb_writers;
	uint16_t txq;                              /**< This lcore's TX queue on every port. */
	struct rte_mempool *tx_pool[SL_MAX_PORTS]; /**< mbufs for replies, by port id. */
	/** Per port id: replies of writers that have no TX queue of their own on
	 * that port, sent by this lcore on its queue. NULL for none. */
	struct rte_ring *tx_relay[SL_MAX_PORTS];
};

/**
 * Register (or look up) the mbuf dynamic field that carries the RX TSC.
 *
 * @return its offset, or -errno (rte_errno).
 */
int sl_rx_register_timestamp(void);

/** RX lcore entry point for rte_eal_remote_launch(). Returns 0. */
int sl_rx_lcore_main(void *arg);

/**
 * File mode's RX lcore: classify every frame (lib/net), answer ARP, NDP and
 * echo requests on this lcore's own TX queue, count and drop what is not
 * ours, and pass each protocol datagram to the writer that owns its session
 * (sl_session_route()). Returns 0.
 */
int sl_rx_file_lcore_main(void *arg);

#endif /* SL_RX_H */
