/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_SESSION_H
#define SL_SESSION_H

/**
 * @file
 * File mode's writer engine: the receiver side of docs/protocol.md. One
 * engine runs on each writer lcore and owns its sessions, their files in
 * progress, the chunk buffers and an io_uring (lib/uring).
 *
 * It takes decoded-but-untrusted UDP payloads (sl_session_input()) and emits
 * replies through a callback (COOKIE, WELCOME, REJECT, FILE_STATUS, ACK,
 * BYE). DATA bytes are copied into a chunk buffer (a registered, 4 KiB
 * aligned buffer of the pool); a full chunk is checked against its CRC32C
 * from the manifest, then written with one O_DIRECT io_uring write at its
 * offset in the staging file <dir>/.sluice/staging/<identity hex>.data. A
 * batch of written chunks becomes durable with one fdatasync, after which
 * the sidecar <identity hex>.state is rewritten (lib/stage) and the chunks
 * are reported durable in ACKs. When every chunk is durable the whole
 * file's SHA-256 is checked (hashed in memory for chunks verified in order,
 * read back from disk for the others), the file is trimmed to its size,
 * given its mode and mtime, renamed to its final name beneath --dir with
 * renameat2(RENAME_NOREPLACE) (plain rename with overwrite), the directory
 * fsynced, the sidecar removed, and FILE_STATUS OK sent.
 *
 * Session ids are random, never 0, and satisfy id % nb_writers == writer_id,
 * so RX lcores route a datagram to its writer from its header alone; HELLO
 * and CONNECT are routed by their client nonce (sl_session_route()).
 *
 * Every datagram given to sl_session_input() is either accepted (processed,
 * duplicates included) or dropped and counted under one reason:
 * stats->dgrams == stats->accepted + sum of the drop counters listed at
 * struct sl_session_stats.
 *
 * Thread safety: an engine belongs to the lcore that created it. Nothing it
 * does blocks for long on the data path except per-file metadata work (open,
 * mkdir, fallocate, rename, fsync of a directory, sidecar), which is per
 * file or per batch, never per datagram.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_auth.h"
#include "sl_net.h"
#include "sl_proto.h"
#include "sl_stats.h"
#include "sl_uring.h"

struct sl_session_engine;

/** Counters of one engine; written by its lcore only. */
struct sl_session_stats {
	uint64_t dgrams;   /**< Payloads handed to sl_session_input(). */
	uint64_t accepted; /**< ... processed (duplicates included). */
	/* Drops (each datagram counts under exactly one): */
	uint64_t decode_error[SL_PROTO_ERROR_COUNT]; /**< By sl_proto_error_index(); [0] unused. */
	uint64_t unexpected_type;   /**< A type receivers never take (COOKIE, WELCOME, ...). */
	uint64_t unknown_session;   /**< No such session (answered by REJECT, rate-limited). */
	uint64_t wrong_peer;        /**< Known session id from another address or port. */
	uint64_t handshake_refused; /**< CONNECT refused (see rejects[]) or HELLO rate-limited. */
	uint64_t data_unknown_file; /**< DATA for a file_id not in progress. */
	uint64_t data_bad_range;    /**< DATA crossing a chunk or past the end of its file. */
	uint64_t data_no_buffer;    /**< DATA dropped: no chunk buffer free (sender resends). */
	uint64_t data_fragmented;   /**< DATA refused: too many holes in one chunk. */
	uint64_t bad_manifest;      /**< MANIFEST/DIGESTS answered BAD_MANIFEST or over limits. */
	/* Handshake and sessions: */
	uint64_t cookies_sent;
	uint64_t welcomes_sent;
	uint64_t rejects[8]; /**< REJECTs sent, by reason (index = enum sl_proto_reject_reason). */
	uint64_t sessions_opened;
	uint64_t sessions_closed;    /**< By BYE. */
	uint64_t sessions_timed_out; /**< Silent for idle_timeout_ms. */
	uint64_t sessions_active;    /**< Gauge. */
	/* Files: */
	uint64_t manifests;
	uint64_t files_resumed; /**< MANIFESTs that found durable chunks staged. */
	uint64_t files_ok;
	uint64_t files_failed[16]; /**< Final statuses other than OK, by enum sl_proto_status. */
	uint64_t files_active;     /**< Gauge: files in progress. */
	uint64_t file_bytes;       /**< Bytes of files published OK. */
	/* Data path: */
	uint64_t data_bytes;      /**< DATA payload bytes accepted. */
	uint64_t data_dup_bytes;  /**< ... of which already held (duplicates, resends). */
	uint64_t data_durable;    /**< DATA for chunks already received or durable (accepted). */
	uint64_t chunks_verified; /**< Chunks whose CRC32C matched. */
	uint64_t chunks_bad;      /**< Chunks whose CRC32C failed (discarded, requested again). */
	uint64_t chunks_written;
	uint64_t chunks_durable;
	uint64_t chunks_skipped; /**< Chunks already durable when a transfer resumed. */
	uint64_t readback_bytes; /**< Bytes read back to finish a SHA-256. */
	uint64_t datasyncs;
	uint64_t sidecar_writes;
	uint64_t io_errors; /**< Failed writes, syncs, renames, sidecars (files fail IO_ERROR). */
	uint64_t buffers_free; /**< Gauge. */
	/* Replies: */
	uint64_t acks_sent;
	uint64_t file_status_sent;
	uint64_t tx_msgs; /**< Messages handed to the tx callback. */
	/** Final statuses not remembered: a session past its limit of remembered files. */
	uint64_t finals_forgotten;
	/** Partial chunks given up so that a more urgent chunk (the lowest one a file
	 * waits for, or one of a session under its fair share) got a buffer; their
	 * bytes are requested again. */
	uint64_t chunks_evicted;
	/** MANIFESTs answered OK from a published file's receipt: a publish that a
	 * crash cut short after its rename, or whose OK its sender never had (the
	 * final name held this very file). */
	uint64_t files_recovered;
	/** Staged files removed: abandoned with nothing durable, left by a crash
	 * without a sidecar, or untouched for staging_ttl_s (docs/protocol.md). */
	uint64_t staged_removed;
	/** Staged files whose session ended unpublished, cut down to their durable chunks. */
	uint64_t staged_trimmed;
	/** Receipts of published files (their sidecars, kept so that a resend after a
	 * crash is answered OK) removed at their sender's BYE. */
	uint64_t receipts_released;
} __attribute__((aligned(64)));

/**
 * Send one message (a whole UDP payload) to @p to. The callback frames it
 * (lib/net) and queues it on the lcore's own TX queue; it may drop it (and
 * count it) when the queue is full: the protocol recovers from lost replies.
 */
typedef void (*sl_session_tx_fn)(void *arg, const struct sl_net_peer *to, const uint8_t *msg,
				 uint16_t len);

struct sl_session_params {
	unsigned writer_id;
	unsigned nb_writers; /**< Session ids satisfy id % nb_writers == writer_id. */
	const char *dir;     /**< --dir (must exist); staging in <dir>/.sluice/staging. */
	bool overwrite;      /**< --overwrite: replace existing final names. */
	bool direct;         /**< O_DIRECT writes (falls back per file if refused). */
	uint32_t max_chunk;  /**< Chunk buffer size: multiple of 4096, >= 64 KiB. */
	unsigned nb_bufs;    /**< Chunk buffers (>= 4). */
	void *buf_mem;       /**< sl_session_mem_size() bytes, 4 KiB aligned; NULL: allocate. */
	unsigned uring_depth;
	unsigned max_sessions;     /**< Sessions at once; more get REJECT busy. */
	unsigned max_files;        /**< Files in progress per session (WELCOME max_files). */
	uint64_t window;           /**< Credit window per session, bytes (>= max_chunk). */
	uint16_t max_payload;      /**< Largest UDP payload we accept and send (1200..9000). */
	uint32_t ack_interval_us;  /**< ACK cadence while data flows (protocol: 20 ms). */
	uint32_t idle_timeout_ms;  /**< A silent session is freed (protocol: 30 s). */
	uint32_t sync_interval_us; /**< Longest wait before written chunks are fdatasynced. */
	/** Staged files (with their sidecar) untouched this long are removed; 0: never. */
	uint32_t staging_ttl_s;
	const struct sl_auth *auth; /**< Cookies, keys, allow list (shared, read-only). */
	sl_session_tx_fn tx;        /**< Required. */
	void *tx_arg;
	struct sl_session_stats *stats; /**< Required. */
	struct sl_io_stats *io_stats;   /**< Required (lib/uring counters). */
};

/** Bytes of buffer memory an engine needs (for hugepage allocation by the caller). */
size_t sl_session_mem_size(const struct sl_session_params *p);

/**
 * Create an engine on the calling lcore: makes <dir>/.sluice/staging
 * (mode 0700) if missing, never through a symlink, and the io_uring.
 *
 * @return the engine, or NULL with @p *err = -errno (-EINVAL for bad
 *   parameters, -ENOENT, -ELOOP, -ENOMEM, io_uring errors).
 */
struct sl_session_engine *sl_session_create(const struct sl_session_params *p, int *err);

/**
 * Which writer must handle a UDP payload, from its header alone (no CRC
 * check): session % nb_writers, or for HELLO and CONNECT (session 0) the
 * first 8 body bytes (the client nonce) % nb_writers.
 *
 * @return the writer index, or -1 if the payload is too short to route
 *   (the RX lcore counts it as a protocol drop).
 */
int sl_session_route(const uint8_t *payload, uint32_t len, unsigned nb_writers);

/**
 * Process one untrusted UDP payload from @p from, received at @p now_ns
 * (a monotonic clock). Copies what it keeps: @p msg may be freed on return.
 *
 * @return 0 if accepted, or a negative value if dropped (already counted).
 */
int sl_session_input(struct sl_session_engine *e, const struct sl_net_peer *from,
		     const uint8_t *msg, uint32_t len, uint64_t now_ns);

/**
 * Periodic work, once per loop: ACKs, fdatasync batches, sidecars,
 * read-back hashing, commits, timeouts, then one io_uring submit and a
 * non-blocking reap.
 */
void sl_session_poll(struct sl_session_engine *e, uint64_t now_ns);

/** Whether the engine has I/O or timers that need polling soon (no idle sleep). */
bool sl_session_busy(const struct sl_session_engine *e);

/** Sleep until an I/O completes or @p usec pass (idle back-off). */
void sl_session_idle_wait(struct sl_session_engine *e, uint32_t usec);

/**
 * Shut down: stop taking data, make every verified chunk durable (write,
 * fdatasync, sidecar) so the transfers resume later, send BYE to every
 * session, close every file. Waits as long as the disk goes on answering,
 * unless no I/O operation completes for @p timeout_ms.
 *
 * @return 0, or -ETIMEDOUT.
 */
int sl_session_finish(struct sl_session_engine *e, uint64_t now_ns, uint64_t timeout_ms);

/** Free the engine (after sl_session_finish()). */
void sl_session_destroy(struct sl_session_engine *e);

/** Fault-injection seam for tests, passed to the I/O engine. */
void sl_session_set_fault(struct sl_session_engine *e, sl_uring_fault_fn fn, void *arg);

/**
 * Where the kill seam of the tests (SLUICE_TEST_KILL_AT=POINT[:N]) makes the
 * writer raise SIGKILL, at the N-th time its engine gets there.
 */
enum sl_session_kill_point {
	SL_SESSION_KILL_NONE = 0,
	/** "fsync": an fdatasync of staged data completed; no sidecar records it yet. */
	SL_SESSION_KILL_FSYNC,
	/** "sidecar": a new sidecar is written under its temporary name, not yet renamed. */
	SL_SESSION_KILL_SIDECAR,
	/** "rename": the file is whole, verified and synced in staging, before its rename. */
	SL_SESSION_KILL_RENAME,
	/** "renamed": just after the rename, before the directory fsync. */
	SL_SESSION_KILL_RENAMED,
	/** "published": the rename is durable, before the sender is told OK. */
	SL_SESSION_KILL_PUBLISHED,
	SL_SESSION_KILL_COUNT
};

/** The name of a kill point ("fsync", "sidecar", "rename", "renamed", "published";
 * "none"). */
const char *sl_session_kill_point_name(unsigned point);

/**
 * Parse "POINT[:N]" (N >= 1, default 1). Pure: no EAL, no I/O.
 *
 * @return 0 with @p *point and @p *nth set, or -EINVAL with the reason in @p err.
 */
int sl_session_kill_parse(const char *text, unsigned *point, uint32_t *nth, char *err,
			  size_t errlen);

/** Arm the kill seam (@p point SL_SESSION_KILL_NONE disarms it). Tests only. */
void sl_session_set_kill(struct sl_session_engine *e, unsigned point, uint32_t nth);

/** The name of a FILE_STATUS status ("ready", "ok", "exists", "bad_path", ...). */
const char *sl_session_status_name(unsigned status);

#endif /* SL_SESSION_H */
