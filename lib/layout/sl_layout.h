/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_LAYOUT_H
#define SL_LAYOUT_H

/**
 * @file
 * Who does what: which worker lcores receive and which write, which RX queue
 * of which port each RX lcore polls, and which writer owns each queue.
 *
 * Rules: every port gets one RX queue per RX lcore serving it; RX lcores on
 * the port's NUMA socket serve it (all RX lcores if none is there, with a
 * warning); each (port, queue) feeds exactly one writer, preferring writers
 * on the RX lcore's socket, spread round-robin. Pure code, no EAL: the
 * control lcore fills the input from EAL and ethdev.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_common.h"
#include "sl_config.h"

struct sl_layout_input {
	unsigned nb_workers;            /**< Enabled lcores except the main one. */
	uint16_t worker[SL_MAX_LCORES]; /**< Their ids, ascending. */
	int worker_socket[SL_MAX_LCORES];
	unsigned nb_ports;
	uint16_t port_id[SL_MAX_PORTS];
	int port_socket[SL_MAX_PORTS];
	uint16_t port_max_rxq[SL_MAX_PORTS];
};

/** One polled queue. */
struct sl_layout_queue {
	uint16_t port; /**< Port id. */
	uint16_t queue;
	uint16_t rx;     /**< Index into sl_layout.rx_lcore. */
	uint16_t writer; /**< Index into sl_layout.writer_lcore. */
};

#define SL_LAYOUT_MAX_QUEUES (SL_MAX_PORTS * 16)
#define SL_LAYOUT_MAX_WARNINGS 8

struct sl_layout {
	unsigned nb_rx;
	uint16_t rx_lcore[SL_MAX_LCORES];
	unsigned nb_writers;
	uint16_t writer_lcore[SL_MAX_LCORES];
	uint16_t nb_rxq[SL_MAX_PORTS]; /**< Per port index (as in the input). */
	unsigned nb_queues;
	struct sl_layout_queue queues[SL_LAYOUT_MAX_QUEUES];
	unsigned nb_warnings;
	char warnings[SL_LAYOUT_MAX_WARNINGS][160];
};

/**
 * Plan the layout from the --rx-lcores/--writer-lcores options in @p cfg
 * (lists left empty mean "split the workers": the first half, at least one,
 * receive, the rest write) and the machine in @p in.
 *
 * @return 0, or -EINVAL with a reason in @p err (too few workers, a listed
 *   lcore that is not an enabled worker, no writer, a port no RX lcore can
 *   serve).
 */
int sl_layout_plan(const struct sl_config *cfg, const struct sl_layout_input *in,
		   struct sl_layout *out, char *err, size_t errlen);

/** Longest line of sl_layout_numa_check(), NUL included. */
#define SL_LAYOUT_LINE_LEN 160

/**
 * Check the NUMA placement of plan @p l: one line for each RX lcore that
 * polls a port on another socket, and for each writer lcore on another
 * socket than a port whose packets it writes (capture mode: the ports of
 * its queues; @p file_mode: every port that is polled, since any session
 * may arrive on any port). A socket below 0 (SOCKET_ID_ANY) is unknown and
 * never warned about.
 *
 * @param port_socket  Socket of each port, by index as in @p in: the
 *   device's own, which may be unknown, where in->port_socket is the one the
 *   plan used.
 * @return the number of lines written to @p lines, at most @p max.
 */
unsigned sl_layout_numa_check(const struct sl_layout *l, const struct sl_layout_input *in,
			      const int *port_socket, bool file_mode,
			      char (*lines)[SL_LAYOUT_LINE_LEN], unsigned max);

#endif /* SL_LAYOUT_H */
