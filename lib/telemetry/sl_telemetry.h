/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_TELEMETRY_H
#define SL_TELEMETRY_H

/**
 * @file
 * Live counters over DPDK telemetry, for monitoring agents:
 *
 *     echo /sluice/stats | dpdk-telemetry.py -f <file-prefix>
 *
 * Commands (each answers one JSON object; a bad parameter answers null):
 *   - /sluice/stats            totals of every packet fate, NIC totals, state.
 *   - /sluice/ports[,PORT_ID]  per port, keyed by port id ("0", "1", ...);
 *                              with a port id, that port's object alone.
 *   - /sluice/writers[,INDEX]  per writer, keyed by writer index; with an
 *                              index, that writer's object alone.
 *   - /sluice/rings[,NAME]     per RX-to-writer ring, keyed by ring name;
 *                              with a name, that ring's object alone.
 *
 * Collections are objects keyed by id, not lists: DPDK 22.11 refuses a dict
 * inside an array (rte_tel_data_add_array_container() takes arrays only).
 * 22.11 has no floating-point values either, so fractions are given as
 * integers in a finer unit (elapsed_ms, write_latency_avg_ns) beside the
 * rounded value in the unit one would expect (elapsed_s, *_us).
 * A reply holds at most 16 KiB (the telemetry library's max_output_len) and
 * DPDK silently leaves out the entries beyond that. With 20-digit counters a
 * port takes 0.5 KiB, a writer 1.2 KiB and a ring 0.3 KiB, so a reply always
 * holds about 30 ports, 13 writers or 50 rings; past that, ask for them one
 * at a time (/sluice/stats gives nb_ports, nb_writers).
 *
 * Threads: DPDK runs the commands on its telemetry threads (one per client
 * connection), concurrently with every lcore. The source's callbacks are
 * therefore called from those threads, at most one at a time (a mutex
 * serialises them with sl_telemetry_unregister()), and must only read
 * counters that their owners keep writing (values may be a few bursts
 * stale). The sl_telemetry_fill_*() functions touch no global state; they
 * are exported so that unit tests can call them without EAL.
 */

#include <stdint.h>

#include <rte_ring.h>
#include <rte_telemetry.h>

#include "sl_common.h"
#include "sl_layout.h"
#include "sl_stats.h"

/** Most rings one reply describes (the telemetry dict limit). */
#define SL_TELEMETRY_MAX_RINGS RTE_TEL_MAX_DICT_ENTRIES

/** One ring from an RX lcore to a writer, and what went through it. */
struct sl_telemetry_ring {
	const char *name;            /**< The rte_ring's name. */
	unsigned rx;                 /**< Index of the RX lcore in the layout. */
	unsigned rx_lcore;           /**< Its lcore id. */
	unsigned writer;             /**< Index of the writer in the layout. */
	unsigned writer_lcore;       /**< Its lcore id. */
	const struct rte_ring *ring; /**< For the capacity and the occupancy now. */
	uint64_t enqueued;           /**< Packets the RX lcore put on the ring. */
	uint64_t ring_full;          /**< Dropped at this ring: it was full. */
	uint64_t writer_nobuf;       /**< Dropped at this ring: full, writer out of buffers. */
};

/**
 * Where the commands get their numbers. The telemetry module never sees the
 * application's own structures; it asks the source.
 */
struct sl_telemetry_source {
	void *arg; /**< Passed to every callback. */
	/** Fill @p v with the live counters. Required. */
	void (*view)(void *arg, struct sl_stats_view *v);
	/** Fill up to @p max rings; return how many. NULL: no rings to report. */
	unsigned (*rings)(void *arg, struct sl_telemetry_ring *out, unsigned max);
	/** "running" or "stopped". NULL: "running". */
	const char *(*state)(void *arg);
};

/**
 * Register the /sluice/... telemetry commands, answered from @p src.
 *
 * Call after rte_eal_init() (the telemetry socket exists only then). The
 * structure is copied; src->arg and what the callbacks read must stay valid
 * until sl_telemetry_unregister(). The commands themselves cannot be removed
 * from DPDK; after sl_telemetry_unregister() they answer null, and a later
 * sl_telemetry_register() gives them a new source.
 *
 * @return 0; -EINVAL if @p src or src->view is NULL; -EBUSY if a source is
 *   already registered; the -errno of rte_telemetry_register_cmd() if DPDK
 *   refuses a command (telemetry disabled with --no-telemetry does not
 *   refuse: the commands are then simply never called).
 */
int sl_telemetry_register(const struct sl_telemetry_source *src);

/**
 * Detach the source: returns once no command is using it any more, so the
 * caller may then free what the source reads (call before rte_eal_cleanup()).
 * Safe to call when nothing is registered.
 */
void sl_telemetry_unregister(void);

/**
 * Describe every ring between the RX lcores and the writers of a layout, with
 * its counters derived from the RX lcores' per-port counters: an RX lcore
 * polls one queue per port, and that queue feeds one writer, so each
 * (RX lcore, port) pair belongs to exactly one ring.
 *
 * enqueued = received - filtered - ring_full - writer_nobuf of those pairs.
 * The drops are read before the receptions, so a counter moving meanwhile
 * cannot make enqueued negative.
 *
 * @param l         The layout (queues, lcores).
 * @param rx_stats  RX counters, indexed like l->rx_lcore.
 * @param rings     rings[rx][writer], NULL where that pair has no ring.
 * @param out       Filled with up to @p max rings, in (rx, writer) order.
 * @return the number of rings written to @p out.
 */
unsigned sl_telemetry_layout_rings(const struct sl_layout *l, struct sl_rx_stats *const *rx_stats,
				   struct rte_ring *rings[][SL_MAX_LCORES],
				   struct sl_telemetry_ring *out, unsigned max);

/**
 * For tests: the /sluice/stats reply for view @p v and @p state, into @p d.
 *
 * Keys: mode, state, elapsed_s, elapsed_ms, nb_ports, nb_rx_lcores,
 * nb_writers, received, bytes, written, written_bytes, filtered, truncated,
 * dropped, ring_full, writer_nobuf, write_error, unaccounted (signed: while
 * running it counts packets in flight, and may read briefly negative because
 * counters are read one after another), nic_ipackets, nic_ibytes,
 * nic_imissed, nic_rx_nombuf, nic_ierrors.
 *
 * @return 0, or the negative errno of the first rte_tel_data call that failed.
 */
int sl_telemetry_fill_stats(const struct sl_stats_view *v, const char *state,
			    struct rte_tel_data *d);

/**
 * For tests: the /sluice/ports reply. With @p port_id < 0, an object keyed by
 * port id holding one object per port; otherwise that port's object alone.
 * A port's keys: port_id, name, the fate keys of /sluice/stats (received ...
 * unaccounted) and its nic_* keys.
 *
 * @return 0, -ENODEV if @p port_id is not in the view, -ENOMEM, or the
 *   negative errno of a failed rte_tel_data call.
 */
int sl_telemetry_fill_ports(const struct sl_stats_view *v, int port_id, struct rte_tel_data *d);

/**
 * For tests: the /sluice/writers reply. With @p writer < 0, an object keyed by
 * writer index; otherwise that writer's object alone. Keys: writer, lcore,
 * dequeued, written, written_bytes, truncated, nobuf, write_error,
 * file_bytes, files_opened, files_closed, file_errors, partial_flushes,
 * buffers_in_flight, buffers_free, busy_polls, idle_polls, backlog_polls, and
 * "io": {submit_calls, sqes, max_batch, avg_batch (sqes / submit_calls,
 * rounded), writes, write_bytes, short_writes, retries, errors, enospc,
 * last_errno, fsyncs, sq_full, inflight, pending, write_latency_avg_us,
 * write_latency_max_us (rounded), write_latency_avg_ns, write_latency_max_ns,
 * fsync_latency_avg_us, fsync_latency_max_us, fsync_latency_avg_ns,
 * fsync_latency_max_ns}.
 *
 * @return 0, -ENODEV if @p writer >= v->nb_writers, -ENOMEM, or the negative
 *   errno of a failed rte_tel_data call.
 */
int sl_telemetry_fill_writers(const struct sl_stats_view *v, int writer, struct rte_tel_data *d);

/**
 * For tests: the /sluice/rings reply. With @p name NULL, an object keyed by
 * ring name (characters other than letters, digits, '_' and '/' replaced by
 * '_', as telemetry accepts no others in keys); otherwise the object of the
 * ring of that name alone. Keys: name, rx, rx_lcore, writer, writer_lcore,
 * size (capacity), count (occupancy now), enqueued, full_drops (ring_full +
 * writer_nobuf), ring_full, writer_nobuf.
 *
 * @return 0, -ENODEV if no ring is called @p name, -ENOMEM, or the negative
 *   errno of a failed rte_tel_data call.
 */
int sl_telemetry_fill_rings(const struct sl_telemetry_ring *rings, unsigned nb_rings,
			    const char *name, struct rte_tel_data *d);

#endif /* SL_TELEMETRY_H */
