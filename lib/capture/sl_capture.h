/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_CAPTURE_H
#define SL_CAPTURE_H

/**
 * @file
 * Capture mode's writer: turns bursts of mbufs into pcap or pcapng records
 * inside large aligned buffers, writes full buffers through the writer's
 * io_uring, rotates files by size and age, and finishes each file (tail,
 * trim, fsync, rename from ".part" to its final name).
 *
 * Guarantees, whatever the disk does:
 * - every packet handed in ends as exactly one of written, writer_nobuf
 *   (no free buffer: the disk is behind) or write_error (the disk refused it),
 *   counted per port in struct sl_writer_stats;
 * - a record counts as written only once its bytes and every byte before it
 *   in the file are on disk; after a failed write the file is cut at the
 *   last complete record before it, so every file stays valid;
 * - records are never reordered within a writer;
 * - each ".part" file is flock()ed by its writer through the open file that
 *   io_uring holds, so the lock outlives a killed process until its last
 *   write has landed: sl_series_recover() waits for it before a repair.
 *
 * Thread safety: an sl_capture belongs to the writer lcore that created it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ring.h>

#include "sl_common.h"
#include "sl_pcap.h"
#include "sl_stats.h"
#include "sl_uring.h"

struct rte_mbuf;
struct sl_capture;

struct sl_capture_params {
	unsigned writer_id; /**< Shown in file names. */
	const char *dir;    /**< Output directory (must exist). */
	const char *prefix; /**< File name prefix. */
	enum sl_pcap_format format;
	uint32_t snaplen;
	uint64_t rotate_size; /**< Bytes; 0 = never. */
	uint64_t rotate_ns;   /**< File age; 0 = never. */
	uint64_t flush_ns;    /**< Longest time a record waits in memory. */
	bool direct;          /**< O_DIRECT (falls back per file if refused). */
	size_t buf_size;      /**< Write buffer size, multiple of 4 KiB. */
	unsigned nb_bufs;     /**< Write buffers. */
	void *buf_mem;        /**< sl_capture_mem_size() bytes, 4 KiB aligned; NULL: allocate. */
	unsigned uring_depth;
	const struct sl_pcap_iface *ifaces; /**< pcapng interfaces, in interface id order. */
	unsigned nb_ifaces;
	uint16_t port_iface[SL_MAX_PORTS]; /**< pcapng interface id of each port id. */
	const struct sl_clock *clock;
	uint64_t tsc_hz;
	int ts_offset;      /**< mbuf dynfield holding the RX TSC; < 0: stamp on arrival here. */
	uint64_t first_seq; /**< Sequence number of the first file (0 or 1: start at 1). */
	struct sl_writer_stats *stats;
};

/** Bytes of buffer memory the writer needs (for hugepage allocation by the caller). */
size_t sl_capture_mem_size(const struct sl_capture_params *p);

/**
 * Create a writer on the calling lcore.
 *
 * @return the writer, or NULL with @p *err = -errno: -EINVAL (bad
 *   parameters, e.g. a buffer smaller than the largest record), -ENOENT
 *   (no directory), -ENOMEM, or io_uring set-up errors.
 */
struct sl_capture *sl_capture_create(const struct sl_capture_params *p, int *err);

/**
 * How many packets of up to a jumbo frame each the writer has room for now.
 * A writer with no room stops dequeuing, so that packets wait in its rings
 * instead of being dropped.
 */
unsigned sl_capture_room(const struct sl_capture *c);

/** Serialize @p n packets (in order) and free them. */
void sl_capture_burst(struct sl_capture *c, struct rte_mbuf **pkts, unsigned n);

/** Periodic work, once per loop: age rotation, flushes, one submit, reap. */
void sl_capture_poll(struct sl_capture *c, uint64_t now_ns);

/**
 * Close every file and wait until all writes, trims, fsyncs and renames are
 * done, however slow the disk, unless no I/O operation completes for
 * @p timeout_ms.
 *
 * @return 0, or -ETIMEDOUT.
 */
int sl_capture_finish(struct sl_capture *c, uint64_t timeout_ms);

/** Free the writer (after sl_capture_finish()). */
void sl_capture_destroy(struct sl_capture *c);

/**
 * Change format, snaplen and rotation while running: the current file is
 * finished and the next one uses the new settings.
 *
 * @return 0, or -EINVAL if a record of @p snaplen does not fit a buffer.
 */
int sl_capture_reconfigure(struct sl_capture *c, enum sl_pcap_format format, uint32_t snaplen,
			   uint64_t rotate_size, uint64_t rotate_ns);

/** Sequence number the next file will get. */
uint64_t sl_capture_next_seq(const struct sl_capture *c);

/** Operations queued or in the kernel. */
unsigned sl_capture_outstanding(const struct sl_capture *c);

/** Sleep until an I/O completes or @p usec pass (idle back-off). */
void sl_capture_idle_wait(struct sl_capture *c, uint32_t usec);

/** Fault-injection seam for tests, passed to the I/O engine. */
void sl_capture_set_fault(struct sl_capture *c, sl_uring_fault_fn fn, void *arg);

/** State of a writer lcore, as seen by the control lcore. */
enum sl_capture_lcore_state {
	SL_CAPTURE_LCORE_STARTING = 0,
	SL_CAPTURE_LCORE_RUNNING = 1,
	SL_CAPTURE_LCORE_DONE = 2,
	SL_CAPTURE_LCORE_FAILED = 3,
};

/** What a writer lcore runs: the rings it drains and its writer's parameters. */
struct sl_capture_lcore {
	struct sl_capture_params params;
	struct rte_ring *rings[SL_MAX_LCORES];
	unsigned nb_rings;
	unsigned burst;         /**< Dequeue burst. */
	uint32_t idle_sleep_us; /**< Back-off when idle; 0 = busy poll. */
	const int *rx_running;  /**< RX lcores still running (atomic reads). */
	int state;              /**< enum sl_capture_lcore_state (atomic). */
	uint8_t backlog;        /**< 1 while out of buffers (atomic; read by RX lcores). */
	int error;              /**< -errno when FAILED. */
	/** Test seam: an io_uring fault the lcore installs on its writer right
	 * after creating it (sl_capture_set_fault()); NULL: none. */
	sl_uring_fault_fn fault;
	void *fault_arg;
	/** Settings the control lcore changes while the writer runs: it writes
	 * them, then increments live_gen (release); the writer applies them at
	 * its next loop when it sees a new generation (acquire). */
	struct {
		enum sl_pcap_format format;
		uint32_t snaplen;
		uint64_t rotate_size;
		uint64_t rotate_ns;
	} live;
	unsigned live_gen;
};

/**
 * Writer lcore entry point (for rte_eal_remote_launch): creates the writer,
 * drains its rings until every RX lcore has stopped and the rings are empty,
 * then finishes every file.
 */
int sl_capture_lcore_main(void *arg);

/** Synthetic frames one disk benchmark writer cycles through. */
#define SL_CAPTURE_PERF_FRAMES 64

/**
 * What a writer lcore runs for --perf-test=disk: no rings, no ports. It
 * serializes the same few synthetic frames over and over, as fast as the
 * writer takes them, through the real writer (records, buffers, rotation,
 * preallocation, io_uring, fsync, rename), then finishes its files.
 */
struct sl_capture_perf_lcore {
	struct sl_capture_params params;
	/** Frames of the records; each burst takes a reference, so they are never freed here. */
	struct rte_mbuf *frames[SL_CAPTURE_PERF_FRAMES];
	unsigned nb_frames;
	uint64_t duration_ns; /**< Feed records for this long. */
	const int *stop;      /**< Non-zero: stop feeding early (atomic reads); may be NULL. */
	int state;            /**< enum sl_capture_lcore_state (atomic). */
	int error;            /**< -errno when FAILED. */
	uint64_t elapsed_ns;  /**< From the first record until every file was finished. */
	uint64_t records;     /**< Records handed to the writer. */
};

/**
 * Disk benchmark writer entry point (for rte_eal_remote_launch). What
 * landed is in params.stats (file_bytes, written, write_error); bytes per
 * second are file_bytes / elapsed_ns, draining and the final fsync included.
 */
int sl_capture_perf_lcore_main(void *arg);

#endif /* SL_CAPTURE_H */
