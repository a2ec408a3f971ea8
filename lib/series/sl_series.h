/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_SERIES_H
#define SL_SERIES_H

/**
 * @file
 * A writer's series of capture files: their names and when to rotate.
 *
 * Names are `<prefix>_<UTC start, ns>_w<writer>_<seq>.<ext>`, e.g.
 * `sluice_20261122T101500.123456789Z_w00_000001.pcapng`, so that a plain sort
 * puts every writer's files in time order and says which writer and which
 * sequence number each is. A file being written carries the suffix ".part"
 * and is renamed only once it is complete, fsynced and valid.
 *
 * Naming and rotation are pure code; one series belongs to one writer lcore.
 * sl_series_last_seq() and sl_series_recover() read (and repair) the directory: the
 * control lcore calls them before the writers start.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Suffix of files still being written. */
#define SL_SERIES_PART_SUFFIX ".part"
/** Longest file name the series produces, NUL included. */
#define SL_SERIES_NAME_MAX 160

struct sl_series {
	char prefix[64];
	const char *ext;      /**< "pcap" or "pcapng". */
	unsigned writer;      /**< Writer index shown in names. */
	uint64_t next_seq;    /**< Sequence number of the next file, from 1. */
	uint64_t rotate_size; /**< Rotate once a file holds this many bytes; 0 = never. */
	uint64_t rotate_ns;   /**< Rotate once a file is this old; 0 = never. */
};

/**
 * Initialise a series.
 *
 * @return 0, or -EINVAL if the prefix is empty, too long or has characters
 *   other than [A-Za-z0-9_.-].
 */
int sl_series_init(struct sl_series *s, const char *prefix, const char *ext, unsigned writer,
		   uint64_t rotate_size, uint64_t rotate_ns);

/**
 * Name of a file started at @p start_ns with sequence @p seq, into @p buf
 * (at least SL_SERIES_NAME_MAX bytes), with the ".part" suffix if @p part.
 *
 * @return 0, or -ENAMETOOLONG.
 */
int sl_series_name(const struct sl_series *s, uint64_t seq, uint64_t start_ns, bool part, char *buf,
		   size_t len);

/** Whether a file of @p size bytes opened at @p start_ns must be closed by its size. */
static inline bool
sl_series_size_due(const struct sl_series *s, uint64_t size)
{
	return s->rotate_size != 0 && size >= s->rotate_size;
}

/** Whether a file opened at @p start_ns must be closed at @p now_ns by its age. */
static inline bool
sl_series_time_due(const struct sl_series *s, uint64_t start_ns, uint64_t now_ns)
{
	return s->rotate_ns != 0 && now_ns >= start_ns && now_ns - start_ns >= s->rotate_ns;
}

/** Suffix given to a file that had no valid header at recovery. */
#define SL_SERIES_CORRUPT_SUFFIX ".corrupt"

/**
 * Whether @p name is a file of the series @p prefix (of any writer, format and suffix:
 * finished, ".part", ".corrupt" or renamed aside by a recovery), and if so its writer
 * and sequence number.
 *
 * @return 1 with @p writer and @p seq set (either may be NULL), 0 if it is not.
 */
int sl_series_parse(const char *prefix, const char *name, unsigned *writer, uint64_t *seq);

/**
 * Highest sequence number that writer @p writer of series @p prefix has used in @p dir,
 * whatever became of the file, into @p seq (0 when there is none). A writer that
 * starts at *seq + 1 never reuses a number, across restarts and recoveries.
 *
 * @return 0, or -errno if @p dir cannot be read (-EINVAL: bad prefix).
 */
int sl_series_last_seq(const char *dir, const char *prefix, unsigned writer, uint64_t *seq);

/** Result of walking the records of a capture file held in memory. */
struct sl_series_walk {
	uint64_t records; /**< Complete, valid packet records. */
	uint64_t kept;    /**< Bytes worth keeping: the header and those records. */
	bool header_ok;   /**< The file starts with a valid pcap or pcapng header. */
	bool clean_end;   /**< The records end exactly at the end of the data. */
	char why[240];    /**< What ended the walk early ("" at a clean end). */
};

/**
 * Walk the records of a pcap or pcapng file in @p data with sl_pcap_reader, and find
 * where its valid part ends: the end of the last complete, valid record (or pcapng
 * block). The walk stops at the first record or block header of zeros (space that
 * was preallocated or padded but never written), at a torn record and at anything
 * the strict reader refuses. A pcap record has no trailer that proves it whole: when
 * the walk stops early, a last record whose final byte is zero may have lost its
 * tail to never-written space, so it is not kept (at worst one good record is lost).
 *
 * Pure; any thread.
 *
 * @return 0 (@p w filled), or -EBADMSG when there is no valid header (w->why says why).
 */
int sl_series_walk(const void *data, size_t size, struct sl_series_walk *w);

/** What sl_series_recover() did with one ".part" file. */
enum sl_series_recovery_action {
	/** Cut to its valid part, fsynced, renamed to its final name. */
	SL_SERIES_RECOVERED,
	/** Removed: empty or only zeros (killed before its header reached the disk). */
	SL_SERIES_REMOVED_EMPTY,
	/** Removed: a valid header but no complete record. */
	SL_SERIES_REMOVED_NO_RECORD,
	/** Not a capture (no valid header, not all zeros): renamed to "NAME.corrupt". */
	SL_SERIES_CORRUPT,
	/** Still locked by a live writer (or by its I/O): left alone. */
	SL_SERIES_BUSY,
	/** An I/O error: left as it was (or cut and fsynced but not renamed). */
	SL_SERIES_FAILED,
};

/**
 * One file handled by sl_series_recover(), passed to its callback. The strings live
 * only for the duration of the call.
 */
struct sl_series_recovery {
	const char *part;   /**< The ".part" file, in the directory. */
	const char *name;   /**< Its new name ("" if removed or left as it was). */
	bool renamed_aside; /**< Its final name was taken: @p name is another one. */
	enum sl_series_recovery_action action;
	uint64_t size;          /**< Bytes the file had. */
	uint64_t records;       /**< Records kept. */
	uint64_t kept_bytes;    /**< Bytes kept (0 when removed or corrupt). */
	uint64_t trimmed_bytes; /**< Bytes cut off: size - kept_bytes, or size if removed. */
	const char *why;        /**< What ended the valid part ("" if nothing was cut). */
	int error;              /**< -errno when FAILED. */
};

typedef void (*sl_series_recover_fn)(void *arg, const struct sl_series_recovery *r);

/** Short name of a recovery action, for logs and JSON ("recovered", "corrupt", ...). */
const char *sl_series_recovery_action_name(enum sl_series_recovery_action a);

/**
 * Make every file that series @p prefix (any writer, either format) left unfinished in
 * @p dir valid again, after a crash or a SIGKILL. For each "NAME.part":
 * - take its flock: a capture writer holds one on its ".part" file through the open file
 *   description that io_uring also holds, so the lock frees only once the dead writer's
 *   last write has landed; a file still locked after @p lock_wait_ms (in total) belongs
 *   to a live writer and is left alone (BUSY);
 * - walk it (sl_series_walk()), cut it to the end of its last complete record, fsync it
 *   and rename it to NAME with RENAME_NOREPLACE; if NAME exists, to
 *   "STEM.recoveredK.EXT" (K = 1, 2, ...) instead, and say so (renamed_aside);
 * - an empty or all-zero file, or one with a header but no complete record, is removed;
 *   a file that is not a capture at all (a header the reader refuses) is kept for
 *   inspection as "NAME.corrupt";
 * then fsync @p dir once. @p fn (may be NULL) hears about each file, in name order.
 * Files are independent: a failure with one is reported and the others are still done.
 *
 * Not thread-safe against another recovery of the same series; call before the
 * writers of the series start.
 *
 * @return the number of ".part" files handled, or -errno: -EINVAL (bad prefix), or
 *   why @p dir cannot be read or synced.
 */
int sl_series_recover(const char *dir, const char *prefix, uint32_t lock_wait_ms,
		      sl_series_recover_fn fn, void *arg);

#endif /* SL_SERIES_H */
