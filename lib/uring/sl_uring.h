/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_URING_H
#define SL_URING_H

/**
 * @file
 * The writers' I/O engine: one io_uring per writer lcore, with the writer's
 * buffer pool registered (io_uring_register_buffers) and a table of
 * registered files.
 *
 * Rhythm (as SPDK's pollers do it): callers queue any number of operations,
 * then call sl_uring_submit() once per loop iteration (one io_uring_enter for
 * the whole batch), then sl_uring_reap() without blocking. Short writes are
 * re-queued for their remainder, -EAGAIN/-EINTR are retried, a full SQ
 * keeps operations queued for the next submit; every other error completes
 * the operation with -errno, counted in the stats, never silently.
 *
 * Thread safety: an sl_uring belongs to the lcore that created it
 * (IORING_SETUP_SINGLE_ISSUER where the kernel has it); no function may be
 * called from another thread.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_bufpool.h"
#include "sl_stats.h"

struct sl_uring;

struct sl_uring_params {
	unsigned depth;            /**< SQ entries (rounded up to a power of two by the kernel). */
	unsigned max_files;        /**< Size of the registered file table. */
	unsigned max_ops;          /**< Operations that may be queued or in flight at once. */
	struct sl_bufpool *pool;   /**< Buffers to register; NULL for none. */
	struct sl_io_stats *stats; /**< Counters to update; required. */
	uint64_t tsc_hz;           /**< TSC rate for latency figures; 0 disables them. */
};

/** Called once per finished operation: @p res is bytes written (all of them) or -errno. */
typedef void (*sl_uring_done_fn)(void *arg, uint64_t cookie, int res);

/**
 * Test seam: sees every completion before the engine does, and returns the
 * result to use instead of @p res (e.g. a short count or -EIO). @p kind is
 * 0 for writes, 1 for fsyncs.
 */
typedef int (*sl_uring_fault_fn)(void *arg, int kind, uint64_t offset, uint32_t len, int res);

/**
 * Create the engine on the calling thread. Falls back, with a log line, to
 * unregistered buffers or files when the kernel refuses to register them.
 *
 * @return the engine, or NULL with @p *err set to -errno (-ENOMEM, or the
 *   io_uring_queue_init() error, e.g. -EPERM when io_uring is disabled).
 */
struct sl_uring *sl_uring_create(const struct sl_uring_params *p, int *err);

/** Destroy the engine; operations still queued or in flight are abandoned. */
void sl_uring_destroy(struct sl_uring *u);

/** Whether the pool's buffers are registered (fixed-buffer writes). */
bool sl_uring_buffers_registered(const struct sl_uring *u);

/**
 * Put @p fd in the file table. @p align is the alignment the file needs for
 * offsets and lengths (SL_DIRECT_ALIGN for O_DIRECT, 1 otherwise), used when
 * re-queuing the remainder of a short write.
 *
 * @return the slot (>= 0), or -ENFILE if the table is full, or the
 *   io_uring_register_files_update() error.
 */
int sl_uring_file_add(struct sl_uring *u, int fd, unsigned align);

/** Take @p slot out of the table (the caller closes the fd). No op may be pending on it. */
void sl_uring_file_remove(struct sl_uring *u, int slot);

/**
 * Queue a write of @p len bytes from @p addr (inside pool buffer @p buf_idx,
 * or any memory if @p buf_idx < 0) to file @p slot at @p offset.
 *
 * @return 0, or -EBUSY if max_ops operations are outstanding.
 */
int sl_uring_write(struct sl_uring *u, int slot, int buf_idx, const void *addr, uint32_t len,
		   uint64_t offset, uint64_t cookie);

/** Queue an fsync (fdatasync if @p datasync) of file @p slot. @return 0 or -EBUSY. */
int sl_uring_fsync(struct sl_uring *u, int slot, bool datasync, uint64_t cookie);

/** Queue an fsync of a plain descriptor (e.g. a directory). @return 0 or -EBUSY. */
int sl_uring_fsync_fd(struct sl_uring *u, int fd, uint64_t cookie);

/**
 * Move queued operations into the SQ and submit them with one system call.
 *
 * @return operations submitted.
 */
unsigned sl_uring_submit(struct sl_uring *u);

/**
 * Handle every available completion without blocking, calling @p fn for
 * each finished operation (which may queue new ones).
 *
 * @return operations finished.
 */
unsigned sl_uring_reap(struct sl_uring *u, sl_uring_done_fn fn, void *arg);

/**
 * Sleep until a completion arrives or @p timeout_us passes; returns at once
 * if nothing is in flight. Used for the idle back-off.
 */
void sl_uring_wait(struct sl_uring *u, uint32_t timeout_us);

/** Operations queued or in flight. */
unsigned sl_uring_outstanding(const struct sl_uring *u);

/**
 * Operations finished so far (their callback ran, with success or error; a
 * retry or the rest of a short write does not count): progress, for a wait
 * that gives up only when the disk stops answering, not when it is slow.
 */
uint64_t sl_uring_finished(const struct sl_uring *u);

/** The progress seen by a wait (see sl_uring_silent_ns()). */
struct sl_uring_watch {
	uint64_t finished;
	uint64_t since_ns; /**< sl_monotonic_ns() when it last moved. */
	uint64_t noted;    /**< Periods of this silence already told (sl_uring_watch_due()). */
};

/** Start watching @p u's progress now. */
void sl_uring_watch_start(const struct sl_uring *u, struct sl_uring_watch *w);

/** Nanoseconds since an operation of @p u last finished (0 if one did since the
 * last call, or since sl_uring_watch_start()). */
uint64_t sl_uring_silent_ns(const struct sl_uring *u, struct sl_uring_watch *w);

/**
 * Whether a long wait should say again that it still waits: true once each time
 * @p silent_ns (from sl_uring_silent_ns()) passes another multiple of @p every_ns,
 * so that an operator sees a stop that waits on the disk, and for how long. A silence
 * broken by a finished operation starts the count again. Never true for @p every_ns 0.
 */
bool sl_uring_watch_due(struct sl_uring_watch *w, uint64_t silent_ns, uint64_t every_ns);

/**
 * One round of a finish loop that waits on @p u, as writer @p writer_id: a slow disk is
 * waited for as long as it goes on answering (giving up would lose what is in flight),
 * and every tenth of @p timeout_ms without a finished operation this logs what the
 * wait waits for (a stop that waits on the disk looks hung otherwise).
 *
 * @return 0 to wait on, or -ETIMEDOUT (logged) once no operation has finished for
 *   @p timeout_ms.
 */
int sl_uring_watch_check(const struct sl_uring *u, struct sl_uring_watch *w, uint64_t timeout_ms,
			 unsigned writer_id);

/** Install (or, with NULL, remove) the fault-injection seam. */
void sl_uring_set_fault(struct sl_uring *u, sl_uring_fault_fn fn, void *arg);

/** Which completions a fault spec turns into errors (bits of sl_uring_fault_spec.kinds). */
#define SL_URING_FAULT_WRITE (1u << 0)
#define SL_URING_FAULT_FSYNC (1u << 1)

/**
 * A test fault, as the environment variable SLUICE_FAULT_URING gives it
 * (docs/architecture.md): "op=write|fsync|any,errno=NAME|N,after=N,count=K,writer=W",
 * every key optional (defaults: op=write, errno=EIO, after=0, count=0, every writer).
 */
struct sl_uring_fault_spec {
	unsigned kinds; /**< SL_URING_FAULT_WRITE and/or SL_URING_FAULT_FSYNC. */
	int error;      /**< Positive errno the failed completions report. */
	uint64_t after; /**< Completions of those kinds that pass first, per engine. */
	uint64_t count; /**< How many fail then; 0 = every later one. */
	int writer;     /**< Index of the only writer it applies to; -1 = every writer. */
};

/** One engine's fault in action: the spec and what it has counted (one lcore only). */
struct sl_uring_fault {
	struct sl_uring_fault_spec spec;
	uint64_t seen;  /**< Completions of the chosen kinds seen so far. */
	uint64_t fired; /**< ... of which turned into errors. */
};

/**
 * Parse @p text into @p spec. Pure: no EAL, no I/O.
 *
 * @return 0, or -EINVAL with the reason in @p err: an unknown key or
 *   value, a number out of range, or an error the engine retries
 *   (EAGAIN, EINTR) without a count, which would never complete.
 */
int sl_uring_fault_parse(const char *text, struct sl_uring_fault_spec *spec, char *err,
			 size_t errlen);

/** Name of an errno value the parser knows ("EIO", "ENOSPC", ...), or NULL. */
const char *sl_uring_fault_errno_name(int error);

/**
 * A sl_uring_fault_fn over a struct sl_uring_fault (@p arg): after
 * spec.after completions of the chosen kinds, the next spec.count (or all)
 * complete with -spec.error instead of their result.
 */
int sl_uring_fault_inject(void *arg, int kind, uint64_t offset, uint32_t len, int res);

#endif /* SL_URING_H */
