/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_INGEST_H
#define SL_INGEST_H

/**
 * @file
 * File mode's writer lcore: drains the rings from every RX lcore, hands each
 * protocol datagram to this lcore's engine (lib/session), and sends the
 * engine's replies on this lcore's own TX queue of the port they answer,
 * without locks. When every RX lcore has stopped and the rings are empty,
 * it makes every verified chunk durable (so transfers resume), says BYE and
 * stops.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "sl_common.h"
#include "sl_net.h"
#include "sl_session.h"
#include "sl_stats.h"

/** State of a writer lcore, as seen by the control lcore (as in lib/capture). */
enum sl_ingest_state {
	SL_INGEST_STARTING = 0,
	SL_INGEST_RUNNING = 1,
	SL_INGEST_DONE = 2,
	SL_INGEST_FAILED = 3,
};

struct sl_ingest_lcore {
	/** Engine parameters; tx, tx_arg and the stats pointers are set by the lcore. */
	struct sl_session_params params;
	struct rte_ring *rings[SL_MAX_LCORES]; /**< One from each RX lcore. */
	unsigned nb_rings;
	unsigned burst;
	uint32_t idle_sleep_us;
	const int *rx_running;             /**< RX lcores still running (atomic reads). */
	const struct sl_net_iface *ifaces; /**< Our addresses, by port id. */
	uint16_t txq;                      /**< This lcore's TX queue on every port. */
	/** Per port id: when the port has no TX queue for this lcore, replies go
	 * to this multi-producer ring instead and an RX lcore of the port sends
	 * them on its own queue (still without locks). NULL: use txq. */
	struct rte_ring *tx_ring[SL_MAX_PORTS];
	struct rte_mempool *tx_pool[SL_MAX_PORTS]; /**< mbufs for replies, by port id. */
	struct sl_writer_stats *stats;
	struct sl_session_stats *session_stats;
	/** At stop, how long the disk may answer nothing while chunks are made durable. */
	uint32_t finish_timeout_ms;
	/** Test seams, applied to the engine right after the lcore creates it:
	 * an io_uring fault (NULL: none) and a kill point (sl_session_set_kill()). */
	sl_uring_fault_fn fault;
	void *fault_arg;
	unsigned kill_point;
	uint32_t kill_nth;
	int state; /**< enum sl_ingest_state (atomic). */
	int error; /**< -errno when FAILED. */
};

/** Add the counters of @p x to @p sum (gauges are added too). */
void sl_ingest_stats_add(struct sl_session_stats *sum, const struct sl_session_stats *x);

/**
 * Write @p s as the members of a JSON object (no braces): "sessions",
 * "files_ok", "files_failed" (by status name), "files_resumed", "bytes",
 * "chunks", "drops" (by reason), "replies".
 */
void sl_ingest_stats_json(FILE *f, const struct sl_session_stats *s);

/** Print the file-mode lines of the summary. */
void sl_ingest_stats_summary(FILE *f, const struct sl_session_stats *s);

/** Writer lcore entry point for rte_eal_remote_launch(). Returns 0. */
int sl_ingest_lcore_main(void *arg);

#endif /* SL_INGEST_H */
