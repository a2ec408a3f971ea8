/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_STAGE_H
#define SL_STAGE_H

/**
 * @file
 * Receiver-side bookkeeping of staged files (docs/protocol.md, "Staging,
 * durability and resume"): which chunks of a file are received and which are
 * durable (struct sl_chunkmap), which bytes of one chunk in progress have
 * arrived (struct sl_chunkfill), and the sidecar `.state` file that lets a
 * transfer resume after a crash (sl_sidecar_write(), sl_sidecar_read()).
 *
 * Nothing here touches EAL state. A chunk map or chunk fill is owned by one
 * lcore and is not thread-safe. The chunk map and chunk fill calls do no
 * syscalls or allocation (except sl_chunkmap_create()) and may run on the data
 * path. The sidecar calls do file I/O and fsync: call them from a writer or
 * control lcore, never from an RX loop.
 */

#include <stdbool.h>
#include <stdint.h>

/** A run of chunk indexes, as in FILE_STATUS: (first, count). */
struct sl_range32 {
	uint32_t first;
	uint32_t count;
};

/** A byte range of a file, as in ACK missing ranges: (offset, length). */
struct sl_range64 {
	uint64_t offset;
	uint32_t length;
};

/**
 * State of every chunk of one file.
 *
 * A chunk is "received" once it is whole and verified (in memory or written),
 * and "durable" once its write and a later fdatasync completed. Durable
 * implies received. The fields are read-only for callers.
 */
struct sl_chunkmap {
	uint32_t nb_chunks;     /**< Chunks in the file, up to UINT32_MAX. */
	uint32_t nb_received;   /**< Chunks marked received (durable included). */
	uint32_t nb_durable;    /**< Chunks marked durable. */
	uint32_t received_upto; /**< First chunk not received (cached). */
	uint32_t durable_upto;  /**< First chunk not durable (cached). */
	uint64_t *received;     /**< Bitmap, bit i of word i / 64; unused bits 0. */
	uint64_t *durable;      /**< Bitmap, same layout. */
};

/**
 * Allocate a map of @p nb_chunks chunks, none received.
 *
 * @return the map, or NULL with rte_errno set to ENOMEM.
 */
struct sl_chunkmap *sl_chunkmap_create(uint32_t nb_chunks);

/** Free a map; NULL is accepted. */
void sl_chunkmap_destroy(struct sl_chunkmap *map);

/**
 * Mark chunk @p idx received.
 *
 * @return 1 if newly marked, 0 if it already was, -EINVAL if @p idx is out of
 *   range.
 */
int sl_chunkmap_set_received(struct sl_chunkmap *map, uint32_t idx);

/**
 * Mark chunk @p idx durable (and received, if it was not).
 *
 * @return 1 if newly marked durable, 0 if it already was, -EINVAL if @p idx is
 *   out of range.
 */
int sl_chunkmap_set_durable(struct sl_chunkmap *map, uint32_t idx);

/** @return true if chunk @p idx is received (false if out of range). */
bool sl_chunkmap_is_received(const struct sl_chunkmap *map, uint32_t idx);

/** @return true if chunk @p idx is durable (false if out of range). */
bool sl_chunkmap_is_durable(const struct sl_chunkmap *map, uint32_t idx);

/** @return the first chunk index not received; nb_chunks when all are. */
static inline uint32_t
sl_chunkmap_received_upto(const struct sl_chunkmap *map)
{
	return map->received_upto;
}

/** @return the first chunk index not durable; nb_chunks when all are. */
static inline uint32_t
sl_chunkmap_durable_upto(const struct sl_chunkmap *map)
{
	return map->durable_upto;
}

/** @return the number of received chunks (durable ones included). */
static inline uint32_t
sl_chunkmap_received_count(const struct sl_chunkmap *map)
{
	return map->nb_received;
}

/** @return the number of durable chunks. */
static inline uint32_t
sl_chunkmap_durable_count(const struct sl_chunkmap *map)
{
	return map->nb_durable;
}

/** @return true when every chunk is durable (true for an empty file). */
static inline bool
sl_chunkmap_complete(const struct sl_chunkmap *map)
{
	return map->nb_durable == map->nb_chunks;
}

/**
 * Extract runs of durable chunks for FILE_STATUS, scanning a word at a time.
 *
 * Fills @p out with up to @p max maximal runs (first, count) of durable chunks
 * at or after @p start, in ascending order. A run that begins before @p start
 * is reported from @p start. To split the list over several messages, call
 * again with @p start = *next until the return value is 0.
 *
 * @param next
 *   Set to where the next call should start: the end of the last run reported
 *   when @p out filled up, nb_chunks when the scan reached the end, and
 *   @p start when @p max is 0.
 * @return the number of runs written to @p out.
 */
unsigned sl_chunkmap_durable_ranges(const struct sl_chunkmap *map, uint32_t start,
				    struct sl_range32 *out, unsigned max, uint32_t *next);

/**
 * Most disjoint byte intervals one chunk fill keeps. DATA datagrams arrive
 * mostly in order, so a chunk in progress holds a few intervals; a sender that
 * fragments a chunk into more holes than this is refused (-ENOSPC) and the
 * refusals are counted in sl_chunkfill::nb_refused.
 */
#define SL_CHUNKFILL_MAX_INTERVALS 64

/**
 * Which bytes of one chunk in progress have arrived.
 *
 * An exact, sorted list of disjoint, non-adjacent half-open byte intervals
 * [start, end) within the chunk. Unlike a bitmap of fixed-size blocks, it is
 * exact for arbitrary offsets and lengths (DATA payloads need not be aligned)
 * and its size does not depend on the chunk length; its cost is the bound on
 * the number of holes. Fields are read-only for callers.
 */
struct sl_chunkfill {
	uint32_t chunk_len;  /**< Bytes in this chunk. */
	uint32_t filled;     /**< Bytes arrived so far. */
	uint32_t nb_refused; /**< Adds refused with -ENOSPC. */
	uint16_t nb_intervals;
	struct {
		uint32_t start;
		uint32_t end;
	} iv[SL_CHUNKFILL_MAX_INTERVALS];
};

/**
 * Reset @p f to an empty chunk of @p chunk_len bytes.
 *
 * @return 0, or -EINVAL if @p chunk_len is 0 or above INT32_MAX.
 */
int sl_chunkfill_init(struct sl_chunkfill *f, uint32_t chunk_len);

/**
 * Record that bytes [off, off + len) of the chunk arrived.
 *
 * Duplicates and overlaps are accepted and count only their new bytes.
 *
 * @return the number of bytes not seen before (0 for a duplicate), -EINVAL if
 *   @p len is 0 or the range does not lie within the chunk (nothing is
 *   recorded), -ENOSPC if recording it would need more than
 *   SL_CHUNKFILL_MAX_INTERVALS intervals (nothing is recorded; nb_refused is
 *   incremented).
 */
int sl_chunkfill_add(struct sl_chunkfill *f, uint32_t off, uint32_t len);

/** @return true when every byte of the chunk has arrived. */
static inline bool
sl_chunkfill_full(const struct sl_chunkfill *f)
{
	return f->filled == f->chunk_len;
}

/**
 * List the holes of the chunk, for ACK missing ranges.
 *
 * @param chunk_base
 *   Byte offset of the chunk in the file, added to each offset reported.
 * @return the number of ranges written to @p out (at most @p max), in
 *   ascending order; 0 when the chunk is full.
 */
unsigned sl_chunkfill_missing(const struct sl_chunkfill *f, struct sl_range64 *out, unsigned max,
			      uint64_t chunk_base);

/** Sidecar format version written and accepted. */
#define SL_SIDECAR_VERSION 1
/** Bytes of the staging identity (SHA-256). */
#define SL_SIDECAR_IDENTITY_LEN 32
/** Longest path in a sidecar, in bytes without NUL (as SL_SAFEPATH_NAME_MAX). */
#define SL_SIDECAR_PATH_MAX 4095
/** Chunk sizes must be a non-zero multiple of this. */
#define SL_SIDECAR_CHUNK_ALIGN 4096u

/** Everything a sidecar holds besides the durable bitmap. */
struct sl_sidecar_info {
	uint8_t identity[SL_SIDECAR_IDENTITY_LEN]; /**< Opaque staging identity. */
	uint64_t file_size;                        /**< Bytes in the file. */
	uint32_t chunk_size;                /**< Non-zero multiple of SL_SIDECAR_CHUNK_ALIGN. */
	uint32_t nb_chunks;                 /**< Must equal ceil(file_size / chunk_size). */
	uint16_t path_len;                  /**< 1 .. SL_SIDECAR_PATH_MAX. */
	char path[SL_SIDECAR_PATH_MAX + 1]; /**< Final relative name, NUL-terminated on read. */
};

/**
 * Atomically replace sidecar @p name in @p dirfd with @p info and the durable
 * bits of @p map.
 *
 * Writes "<name>.tmp", fdatasyncs it, renames it over @p name and fsyncs
 * @p dirfd, so a reader sees either the old sidecar or the new one, whole.
 * The file layout (version 1, big-endian like the wire) is:
 *
 *     magic "SLSC" | version u32 | identity[32] | file_size u64 |
 *     chunk_size u32 | nb_chunks u32 | path_len u16 | path bytes |
 *     durable bitmap, ceil(nb_chunks / 8) bytes, chunk i at bit (i % 8)
 *     (least significant first) of byte i / 8, unused bits zero |
 *     CRC32C u32 of everything before it
 *
 * @return 0; -EINVAL if @p info is inconsistent (see sl_sidecar_read()) or
 *   does not match @p map; -ENAMETOOLONG if the temporary name is too long;
 *   -ENOMEM; or the -errno of a failed open, write, sync or rename (the old
 *   sidecar is then left as it was and the temporary removed).
 */
int sl_sidecar_write(int dirfd, const char *name, const struct sl_sidecar_info *info,
		     const struct sl_chunkmap *map);

/** sl_sidecar_write_ex() flag: no fdatasync, no directory fsync (as durable as page cache). */
#define SL_SIDECAR_NO_SYNC (1u << 0)

/**
 * As sl_sidecar_write(), with @p flags (SL_SIDECAR_NO_SYNC), and calling
 * @p mid (when not NULL) once the new sidecar is written under its temporary
 * name and before it replaces the old one: a test seam for a crash in the
 * middle of an update.
 */
int sl_sidecar_write_ex(int dirfd, const char *name, const struct sl_sidecar_info *info,
			const struct sl_chunkmap *map, unsigned flags, void (*mid)(void *arg),
			void *arg);

/**
 * Read and validate sidecar @p name in @p dirfd.
 *
 * Checks the magic, version, chunk_size (non-zero multiple of 4096),
 * nb_chunks == ceil(file_size / chunk_size), path_len (1 .. 4095, no NUL),
 * the exact total length, zero unused bitmap bits and the CRC32C. On success
 * *@p map is a new map whose durable bits are restored and whose received
 * bits equal them; free it with sl_chunkmap_destroy().
 *
 * @return 0; -ENOENT if there is no such file; -EBADMSG if it is not a valid
 *   sidecar (any corruption, truncation or unknown version, or not a regular
 *   file); -ENOMEM; or the -errno of a failed open or read.
 */
int sl_sidecar_read(int dirfd, const char *name, struct sl_sidecar_info *info,
		    struct sl_chunkmap **map);

#endif /* SL_STAGE_H */
