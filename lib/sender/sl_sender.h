/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_SENDER_H
#define SL_SENDER_H

/**
 * @file
 * The sender side of the sluice file protocol (docs/protocol.md), used by
 * sluice-send: command-line options, the walk that turns SOURCE arguments
 * into remote names, the per-file digests of a MANIFEST, the pacing token
 * bucket, the protocol state machine, the kernel UDP socket loop that drives
 * it, and the JSON summary.
 *
 * Nothing here uses EAL state or DPDK lcores: sluice-send is an ordinary
 * process. The state machine (struct sl_sender) is single-threaded and takes
 * the time as an argument on every call, so tests drive it with an injected
 * clock and an in-memory network. Functions return 0 or -errno unless
 * stated; none of them exits.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_auth.h"
#include "sl_proto.h"

/** Defaults of the command-line options. */
#define SL_SENDER_CHUNK_DEFAULT (1024 * 1024)
#define SL_SENDER_CHUNK_MAX (256u * 1024 * 1024)
#define SL_SENDER_PAYLOAD_V4 1472
#define SL_SENDER_PAYLOAD_V6 1452
#define SL_SENDER_TIMEOUT_MS_DEFAULT 30000
/** Congestion control: starting rate and floor, bits per second. */
#define SL_SENDER_CC_START_BPS 200000000ull
#define SL_SENDER_CC_FLOOR_BPS 1000000ull
#define SL_SENDER_CC_CEIL_BPS 400000000000ull
/** The tail is retransmitted after this many RTTs without progress, and never sooner than this. */
#define SL_SENDER_TAIL_MIN_NS 50000000ull
/** First MANIFEST re-send delay (doubling afterwards). */
#define SL_SENDER_MANIFEST_RETRY_NS 1000000000ull
/** First HELLO/CONNECT re-send delay (doubling, at most 2 s). */
#define SL_SENDER_HANDSHAKE_RETRY_NS 250000000ull

/** Final (or not yet final) state of one file, as reported in the summary. */
enum sl_sender_status {
	SL_SENDER_PENDING = 0, /**< Not final yet. */
	SL_SENDER_OK,          /**< FILE_STATUS OK. */
	SL_SENDER_EXISTS,      /**< FILE_STATUS EXISTS. */
	SL_SENDER_BAD_PATH,    /**< FILE_STATUS BAD_PATH, or a name the protocol cannot carry. */
	SL_SENDER_NO_SPACE,    /**< FILE_STATUS NO_SPACE. */
	SL_SENDER_DIGEST_MISMATCH, /**< FILE_STATUS DIGEST_MISMATCH. */
	SL_SENDER_IO_ERROR,        /**< FILE_STATUS IO_ERROR. */
	SL_SENDER_REFUSED,         /**< FILE_STATUS REFUSED (and unknown status codes). */
	SL_SENDER_BAD_MANIFEST,    /**< FILE_STATUS BAD_MANIFEST. */
	SL_SENDER_TIMEOUT,         /**< No progress at all for --timeout. */
	SL_SENDER_UNREADABLE,      /**< The local file could not be opened or read. */
	SL_SENDER_REJECTED,        /**< The session was refused or ended by the receiver. */
	SL_SENDER_NB_STATUS
};

/** snake_case name of a status ("ok", "digest_mismatch", "timeout"); "unknown" if out of range. */
const char *sl_sender_status_name(enum sl_sender_status s);

/** Map a FILE_STATUS code to a status (READY maps to PENDING, unknown codes to REFUSED). */
enum sl_sender_status sl_sender_status_from_proto(uint8_t code);

/** Parsed command line of sluice-send. Strings point into argv. */
struct sl_sender_opts {
	char host[256]; /**< Name or address, without brackets. */
	uint16_t port;
	char **sources;
	unsigned nb_sources;
	const char *name;     /**< --name, or NULL. */
	const char *psk_file; /**< --psk-file, or NULL. */
	const char *psk_id;   /**< --psk-id, or NULL (first key). */
	const char *bind;     /**< --bind, or NULL. */
	uint32_t chunk_size;
	uint16_t max_payload; /**< 0: by address family. */
	uint64_t rate_bps;    /**< 0: no cap. */
	uint64_t timeout_ms;
	bool quiet, verbose, json, help;
};

/**
 * Parse sluice-send's arguments (getopt_long; resets getopt's state first,
 * so it may be called repeatedly).
 *
 * @return 0 (check @p o->help), or -EINVAL with a one-line reason in @p err:
 *   a usage error, exit code 2.
 */
int sl_sender_opts_parse(struct sl_sender_opts *o, int argc, char **argv, char *err, size_t errlen);

/** The --help text. */
const char *sl_sender_usage(void);

/**
 * Parse a rate in bits per second: a decimal number with an optional
 * fraction and an optional decimal suffix k, M, G or T ("100M", "1.5G").
 *
 * @return 0, -EINVAL on syntax errors, -ERANGE for 0 or an overflow.
 */
int sl_sender_parse_rate(const char *s, uint64_t *bps);

/**
 * Split HOST[:PORT]: "name", "name:port", "1.2.3.4:port", "[v6]", "[v6]:port"
 * or a bare IPv6 address (two colons or more, no port). @p port is left
 * unchanged when none is given.
 *
 * @return 0, or -EINVAL (empty host, bad port, unbalanced brackets, too long).
 */
int sl_sender_parse_host(const char *s, char *host, size_t hostlen, uint16_t *port);

/** One file to send. */
struct sl_sender_file {
	char *source; /**< Local path. */
	char *name;   /**< Remote name, relative, '/'-separated. */
	uint64_t size;
	bool nofollow; /**< Found inside a directory: never open through a symlink. */
	enum sl_sender_status status;
	uint64_t sent_bytes;          /**< New payload bytes sent (first transmissions). */
	uint64_t retransmitted_bytes; /**< Payload bytes sent again. */
};

/** The files of one run, in the order they are sent. */
struct sl_sender_list {
	struct sl_sender_file *files;
	unsigned count, cap;
	unsigned skipped; /**< Symlinks and special files skipped inside directories. */
};

/** Warning callback of the walk (one line, no newline). */
typedef void sl_sender_warn_fn(void *arg, const char *msg);

/**
 * Add each SOURCE to @p l like scp -r: a file as its basename, a directory
 * recursively as basename/... (entries sorted by name). Symlinks and special
 * files inside directories are skipped with a warning; a SOURCE that cannot
 * be read is added with status SL_SENDER_UNREADABLE. @p rename (--name)
 * replaces the basename of the single SOURCE.
 *
 * @return 0, -EINVAL if @p rename is given with more than one source, or
 *   -ENOMEM.
 */
int sl_sender_list_build(struct sl_sender_list *l, char *const *sources, unsigned n,
			 const char *rename, sl_sender_warn_fn *warn, void *arg);

/** Free the list's files and names. */
void sl_sender_list_free(struct sl_sender_list *l);

/**
 * Digest a file for its MANIFEST: CRC32C of each @p chunk_size chunk into
 * @p crcs (sl_proto_chunk_count() entries) and the SHA-256 of the whole
 * file, reading @p size bytes from @p fd (from offset 0, with pread) through
 * @p buf of @p chunk_size bytes.
 *
 * @return 0, -EIO if the file is shorter than @p size, or -errno.
 */
int sl_sender_digest_fd(int fd, uint64_t size, uint32_t chunk_size, uint8_t *buf, uint32_t *crcs,
			uint8_t sha[SL_PROTO_SHA256_SIZE]);

/**
 * Pacing token bucket, in bytes. Time is injected, so tests are exact.
 * A rate of 0 means unlimited.
 */
struct sl_sender_bucket {
	uint64_t rate_bps;
	double tokens; /**< Bytes available now; may not exceed burst. */
	double burst;  /**< Largest accumulation, bytes. */
	uint64_t last_ns;
};

/** Start full, at @p rate_bps, with room for @p burst bytes. */
void sl_sender_bucket_init(struct sl_sender_bucket *b, uint64_t rate_bps, uint64_t burst,
			   uint64_t now_ns);
/** Change the rate (tokens accrued so far at the old rate are kept). */
void sl_sender_bucket_set_rate(struct sl_sender_bucket *b, uint64_t rate_bps, uint64_t now_ns);
/** Take @p bytes if available. @return whether they were taken. */
bool sl_sender_bucket_take(struct sl_sender_bucket *b, uint64_t bytes, uint64_t now_ns);
/** Nanoseconds until @p bytes are available (0 if now). */
uint64_t sl_sender_bucket_wait_ns(struct sl_sender_bucket *b, uint64_t bytes, uint64_t now_ns);

/** One datagram produced by the state machine; valid until the next call. */
struct sl_sender_dgram {
	uint8_t *buf;
	uint16_t len;
};

/** Configuration of a transfer. */
struct sl_sender_config {
	uint16_t max_payload;          /**< Ours; the WELCOME may lower it. */
	uint32_t chunk_size;           /**< Wanted; clamped to the receiver's max_chunk. */
	uint64_t rate_bps;             /**< Cap; 0: none. */
	uint64_t timeout_ns;           /**< No progress at all for this long fails the rest. */
	uint64_t cc_start_bps;         /**< 0: SL_SENDER_CC_START_BPS. */
	unsigned ip_overhead;          /**< IP + UDP header bytes, counted by the pacer. */
	unsigned max_inflight;         /**< Cap on files in progress besides max_files; 0: 256. */
	const struct sl_auth_key *key; /**< NULL: no pre-shared key. */
	/** Protocol events (verbose); NULL: none. */
	void (*log)(void *arg, const char *msg);
	void *log_arg;
};

/** Phase of a transfer. */
enum sl_sender_phase {
	SL_SENDER_HANDSHAKE, /**< HELLO/CONNECT. */
	SL_SENDER_RUNNING,   /**< Session open, files in progress. */
	SL_SENDER_CLOSING,   /**< Every file final; sending BYE. */
	SL_SENDER_DONE,      /**< Finished with a session. */
	SL_SENDER_NO_SESSION /**< No session could be opened (timeout or REJECT). */
};

/** Counters of a transfer, for progress and the summary. */
struct sl_sender_stats {
	uint64_t total_bytes;         /**< Sum of the sizes of the files to send. */
	uint64_t acked_bytes;         /**< Bytes known received (or durable, or final). */
	uint64_t new_bytes;           /**< New DATA payload bytes sent. */
	uint64_t retransmitted_bytes; /**< DATA payload bytes sent again. */
	uint64_t datagrams_sent;
	uint64_t datagrams_received;
	uint64_t dropped; /**< Received datagrams ignored (decode, session, unexpected). */
	uint64_t credit_limit;
	uint64_t rate_bps; /**< Current pacing rate (min of the cap and congestion). */
	uint64_t srtt_ns;
	uint32_t max_payload, chunk_size, max_files;
	unsigned files_done, files_failed, files_total;
	uint8_t reject_reason; /**< Of a REJECT that ended the handshake or session, or 0. */
};

struct sl_sender;

/**
 * Create a transfer of the files of @p l (statuses and byte counts are
 * written back into @p l, which must outlive it). Files already final in
 * @p l are skipped.
 *
 * @return the transfer, or NULL with errno set (ENOMEM, EINVAL).
 */
struct sl_sender *sl_sender_create(const struct sl_sender_config *c, struct sl_sender_list *l,
				   uint64_t now_ns);

/** Close files and free everything. */
void sl_sender_free(struct sl_sender *s);

/** Feed one received datagram (untrusted; anything malformed is counted and ignored). */
void sl_sender_input(struct sl_sender *s, const uint8_t *buf, size_t len, uint64_t now_ns);

/**
 * Run timers and produce up to @p max datagrams to send now, paced. Data
 * datagrams of full size come out back to back in memory (for UDP GSO).
 *
 * @param wake_ns
 *   Receives the time by which this should be called again, even if
 *   nothing is received.
 * @return the number of datagrams in @p out.
 */
unsigned sl_sender_output(struct sl_sender *s, uint64_t now_ns, struct sl_sender_dgram *out,
			  unsigned max, uint64_t *wake_ns);

/** Current phase. */
enum sl_sender_phase sl_sender_phase(const struct sl_sender *s);

/** Fill @p st. */
void sl_sender_get_stats(const struct sl_sender *s, struct sl_sender_stats *st);

/** Progress callback of sl_sender_run(), about every 200 ms and once at the end. */
typedef void sl_sender_progress_fn(void *arg, const struct sl_sender_stats *st, uint64_t elapsed_ns,
				   bool last);

/**
 * Resolve the host of @p o, open a UDP socket (--bind, UDP GSO where the
 * kernel has it), and run the transfer of @p l to its end.
 *
 * @param stats
 *   Receives the final counters (may be NULL).
 * @return 0 when a session was opened and ended (file statuses in @p l),
 *   -ETIMEDOUT or -ECONNREFUSED when no session could be opened,
 *   -EHOSTUNREACH when the host cannot be resolved, or -errno. Messages
 *   go through @p c->log (verbose) and @p err.
 */
int sl_sender_run(const struct sl_sender_opts *o, const struct sl_sender_config *c,
		  struct sl_sender_list *l, sl_sender_progress_fn *progress, void *arg,
		  struct sl_sender_stats *stats, char *err, size_t errlen);

/**
 * Write the JSON summary: {"files":[{"name", "source", "size", "sent_bytes",
 * "retransmitted_bytes", "status"}...], "files_total", "files_ok",
 * "files_failed", "skipped", "total_bytes", "sent_bytes",
 * "retransmitted_bytes", "elapsed_s", "rate_bps"} and a newline. Strings are
 * escaped; bytes that are not UTF-8 are written as \\u00XX.
 */
void sl_sender_json(FILE *out, const struct sl_sender_list *l, const struct sl_sender_stats *st,
		    double elapsed_s);

#endif /* SL_SENDER_H */
