/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_STATS_H
#define SL_STATS_H

/**
 * @file
 * The accounting of every packet's fate.
 *
 * A writer out of buffers stops taking packets, so its rings absorb a slow
 * disk before anything is dropped; an RX lcore that then finds the ring full
 * counts the drop as writer_nobuf, not ring_full, because the writer has
 * flagged its backlog. ring_full therefore means a writer short of CPU.
 *
 * Each RX lcore and each writer lcore owns one counter structure and is its
 * only writer (no locks, no atomics on the data path). The control lcore
 * reads them while they run (values may be a few bursts stale) and after
 * the lcores stopped (exact), sums them and checks the balance:
 *
 *     received = written + served + filtered + ring_full + writer_nobuf
 *                + write_error + invalid
 *                + in_flight (zero once everything is drained)
 *
 * In file mode "written" counts the datagrams the protocol engine accepted
 * (their bytes are then accounted per file and chunk), "served" the ARP,
 * NDP and echo requests answered by the RX lcores, and "invalid" what was
 * malformed, not ours, or refused by the protocol, by reason.
 *
 * The NIC's own drops (imissed, rx_nombuf) happen before reception and are
 * reported beside that equation, from rte_eth_stats.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_common.h"

/** Room for every sl_net_classify() verdict (SL_NET_NB_VERDICTS is smaller). */
#define SL_STATS_MAX_VERDICTS 32

/** Counters of one RX lcore for one port; written by that lcore only. */
struct sl_rx_port_stats {
	uint64_t received;  /**< Packets returned by rte_eth_rx_burst(). */
	uint64_t bytes;     /**< Their wire length (pkt_len), bytes. */
	uint64_t filtered;  /**< Rejected by the capture filter (not a drop). */
	uint64_t ring_full; /**< Dropped: the ring towards the writer was full. */
	/** Dropped: the ring was full because its writer had no free buffer (disk backlog). */
	uint64_t writer_nobuf;
	uint64_t served;  /**< File mode: ARP, NDP or echo requests answered here. */
	uint64_t invalid; /**< File mode: dropped by classification (see verdicts). */
};

/** Counters of one RX lcore. */
struct sl_rx_stats {
	struct sl_rx_port_stats port[SL_MAX_PORTS];
	uint64_t polls;      /**< rte_eth_rx_burst() calls. */
	uint64_t idle_polls; /**< ... that returned nothing. */
	uint64_t sleeps;     /**< Idle back-offs taken. */
	/** File mode: frames by sl_net_classify() verdict (enum sl_net_verdict). */
	uint64_t verdicts[SL_STATS_MAX_VERDICTS];
	uint64_t unroutable; /**< File mode: UDP to our port too short to route (in invalid). */
	uint64_t oversize;   /**< File mode: frames longer than any MTU we serve (in invalid). */
	uint64_t tx_sent;    /**< Replies transmitted. */
	uint64_t tx_dropped; /**< Replies not sent (no mbuf, TX queue full, build failed). */
} __attribute__((aligned(64)));

/** Counters of one writer for one port; written by that writer only. */
struct sl_writer_port_stats {
	uint64_t dequeued;      /**< Packets taken from the rings. */
	uint64_t written;       /**< Records whose bytes are on disk (write completed). */
	uint64_t written_bytes; /**< Captured bytes of those records. */
	uint64_t nobuf;         /**< Dropped: no free write buffer (disk backlog). */
	uint64_t write_error;   /**< Dropped: the disk refused their write (EIO, ENOSPC). */
	uint64_t truncated;     /**< Records cut to snaplen (written, not dropped). */
	uint64_t invalid;       /**< File mode: datagrams the protocol engine dropped. */
};

/** I/O engine counters of one writer (lib/uring). */
struct sl_io_stats {
	uint64_t submit_calls; /**< io_uring_submit() calls that submitted something. */
	uint64_t sqes;         /**< SQEs submitted. */
	uint64_t max_batch;    /**< Largest single submission. */
	uint64_t writes;       /**< Write operations completed successfully. */
	uint64_t write_bytes;  /**< Bytes they wrote, padding included. */
	uint64_t short_writes; /**< Short writes re-queued for the remainder. */
	uint64_t retries;      /**< -EAGAIN/-EINTR re-queued. */
	uint64_t errors;       /**< Operations that failed for good. */
	uint64_t enospc;       /**< ... of which with ENOSPC. */
	uint64_t fsyncs;       /**< fsync operations completed. */
	uint64_t sq_full;      /**< Times the SQ was full and ops waited. */
	uint64_t inflight;     /**< Gauge: operations in the kernel now. */
	uint64_t pending;      /**< Gauge: operations queued, not yet in the SQ. */
	uint64_t lat_count;    /**< Write latencies measured (queue to completion). */
	uint64_t lat_sum_ns;
	uint64_t lat_max_ns;
	uint64_t fsync_lat_count; /**< fsync latencies measured (queue to completion). */
	uint64_t fsync_lat_sum_ns;
	uint64_t fsync_lat_max_ns;
	int last_errno; /**< errno of the most recent failure. */
};

/** Counters of one writer lcore. */
struct sl_writer_stats {
	struct sl_writer_port_stats port[SL_MAX_PORTS];
	struct sl_io_stats io;
	uint64_t file_bytes; /**< Bytes of finished files (after trimming padding). */
	uint64_t files_opened;
	uint64_t files_closed;      /**< Finished, fsynced and renamed to the final name. */
	uint64_t file_errors;       /**< Files cut short or removed after an I/O error. */
	uint64_t partial_flushes;   /**< Buffers written early by --flush-interval. */
	uint64_t preallocs;         /**< fallocate() steps ahead of the writes. */
	uint64_t buffers_in_flight; /**< Gauge: write buffers handed to the kernel. */
	uint64_t buffers_free;      /**< Gauge: write buffers free. */
	uint64_t busy_polls;
	uint64_t idle_polls;
	uint64_t backlog_polls; /**< Polls that took nothing: no free buffer. */
	uint64_t tx_sent;       /**< File mode: protocol replies transmitted. */
	uint64_t tx_dropped;    /**< File mode: replies not sent (no mbuf, TX queue full). */
} __attribute__((aligned(64)));

/** The NIC's own counters of one port (rte_eth_stats). */
struct sl_nic_stats {
	uint64_t ipackets;
	uint64_t ibytes;
	uint64_t imissed;
	uint64_t ierrors;
	uint64_t rx_nombuf;
};

/** Sums of the packet fates, for one port or for everything. */
struct sl_fate {
	uint64_t received;
	uint64_t bytes;
	uint64_t filtered;
	uint64_t written;
	uint64_t written_bytes;
	uint64_t truncated;
	uint64_t ring_full;
	uint64_t writer_nobuf;
	uint64_t write_error;
	uint64_t served;
	uint64_t invalid;
};

/** Everything the control lcore knows at one moment, for summaries and JSON. */
struct sl_stats_view {
	const char *mode;
	double elapsed_s;
	unsigned nb_ports;
	uint16_t port_id[SL_MAX_PORTS];
	const char *port_name[SL_MAX_PORTS];
	struct sl_nic_stats nic[SL_MAX_PORTS];
	unsigned nb_rx;
	unsigned rx_lcore[SL_MAX_LCORES];
	const struct sl_rx_stats *rx[SL_MAX_LCORES];
	unsigned nb_writers;
	unsigned writer_lcore[SL_MAX_LCORES];
	const struct sl_writer_stats *writer[SL_MAX_LCORES];
	/** File mode: RX lcores' per-verdict counters are reported. */
	bool file_mode;
	/** Optional: more members of the top-level JSON object ("name": value, no
	 * leading comma), and more summary lines. */
	void (*extra_json)(FILE *f, void *arg);
	void (*extra_summary)(FILE *f, void *arg);
	void *extra_arg;
};

/** Add the fates of port @p port_id (or every port if port_id < 0) over all lcores. */
void sl_stats_fate(const struct sl_stats_view *v, int port_id, struct sl_fate *out);

/** Fates of one writer (port_id < 0: all ports). */
void sl_stats_writer_fate(const struct sl_writer_stats *w, int port_id, struct sl_fate *out);

/** Packets neither written nor counted as dropped or filtered (yet). */
static inline int64_t
sl_fate_unaccounted(const struct sl_fate *f)
{
	return (int64_t)(f->received - f->written - f->served - f->filtered - f->ring_full -
			 f->writer_nobuf - f->write_error - f->invalid);
}

/** Total drops after reception. */
static inline uint64_t
sl_fate_drops(const struct sl_fate *f)
{
	return f->ring_full + f->writer_nobuf + f->write_error + f->invalid;
}

/**
 * Write the view as one JSON document: {"version", "mode", "elapsed_s",
 * "balanced", "total": {...}, "ports": [...], "rx_lcores": [...],
 * "writers": [...]}. Every object of fates carries "received", "written",
 * "written_bytes", "served", "filtered", "dropped" and "drops": {"ring_full",
 * "writer_nobuf", "write_error", "invalid"}; ports and total add "nic": {"ipackets",
 * "imissed", "rx_nombuf", "ierrors"}.
 *
 * @return 0, or -errno if writing failed.
 */
int sl_stats_json(FILE *f, const struct sl_stats_view *v);

/** Write @p s (NULL: "") to @p f as a JSON string, quoted and escaped. */
void sl_stats_json_string(FILE *f, const char *s);

/** Print the human summary (one block per port, per writer, and totals). */
void sl_stats_summary(FILE *f, const struct sl_stats_view *v);

#endif /* SL_STATS_H */
