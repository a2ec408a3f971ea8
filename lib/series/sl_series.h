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
 * Pure code; one series belongs to one writer lcore.
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

#endif /* SL_SERIES_H */
