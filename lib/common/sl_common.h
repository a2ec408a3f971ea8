/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_COMMON_H
#define SL_COMMON_H

/**
 * @file
 * Small helpers shared by every module: number, size and list parsing, and
 * the TSC to wall-clock conversion used for packet timestamps.
 *
 * Everything here is free of EAL state and safe to call from any thread;
 * sl_clock_ns() is the only function meant for the data path.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Most ports sluice handles; matches DPDK's default RTE_MAX_ETHPORTS. */
#define SL_MAX_PORTS 32
/** Most lcores sluice handles; matches Debian's RTE_MAX_LCORE. */
#define SL_MAX_LCORES 128
/** Alignment of every O_DIRECT buffer, length and file offset. */
#define SL_DIRECT_ALIGN 4096u

#define SL_ALIGN_UP(v, a) ((((v) + (a)-1) / (a)) * (a))
#define SL_ALIGN_DOWN(v, a) (((v) / (a)) * (a))
#define SL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/**
 * Parse an unsigned decimal integer that must lie in [min, max].
 *
 * @return 0 on success, -EINVAL if @p s is not a plain decimal number
 *   (empty, sign, trailing characters), -ERANGE if outside [min, max].
 */
int sl_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/**
 * Parse a size with an optional binary suffix: K, M, G, T (powers of 1024),
 * optionally followed by "iB" or "B" ("4K", "64KiB", "1G", "512").
 *
 * @return 0 on success, -EINVAL on syntax errors, -ERANGE on overflow or a
 *   value outside [min, max].
 */
int sl_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/**
 * Write @p v with the largest binary suffix that divides it exactly ("4K",
 * "1G", "1000"): the inverse of sl_parse_size().
 *
 * @return @p buf.
 */
const char *sl_format_size(uint64_t v, char *buf, size_t len);

/**
 * Parse a duration in seconds with an optional fraction ("5", "0.25"),
 * returning milliseconds.
 *
 * @return 0, -EINVAL on syntax errors, -ERANGE if above @p max_ms.
 */
int sl_parse_seconds_ms(const char *s, uint64_t max_ms, uint64_t *out_ms);

/**
 * Parse a list of ids such as "1,3-5,8" into @p ids (ascending order of
 * appearance is kept; duplicates are refused). Every id must be < @p limit.
 *
 * @return the number of ids (> 0), -EINVAL on syntax errors or duplicates,
 *   -ERANGE if an id is >= @p limit or more than @p max ids are given.
 */
int sl_parse_id_list(const char *s, unsigned limit, uint16_t *ids, unsigned max);

/**
 * Conversion of TSC readings to nanoseconds since the Unix epoch.
 *
 * RX lcores store raw TSC values in each mbuf (one rdtsc per packet); writers
 * convert with a multiply and a shift, so no division happens per packet.
 */
struct sl_clock {
	uint64_t tsc0;  /**< TSC at the reference point. */
	uint64_t ns0;   /**< CLOCK_REALTIME in ns at the reference point. */
	uint64_t mult;  /**< ns per tick, fixed point with @c shift fraction bits. */
	unsigned shift; /**< As many fraction bits as keep mult below 2^64. */
};

/** Set @p c from a TSC frequency and a (tsc, realtime ns) pair read together. */
void sl_clock_init(struct sl_clock *c, uint64_t tsc_hz, uint64_t tsc_now, uint64_t ns_now);

/** Convert a TSC reading taken after sl_clock_init() to ns since the epoch. */
static inline uint64_t
sl_clock_ns(const struct sl_clock *c, uint64_t tsc)
{
	uint64_t delta = tsc - c->tsc0;

	return c->ns0 + (uint64_t)(((unsigned __int128)delta * c->mult) >> c->shift);
}

/** CLOCK_REALTIME now, in ns. */
uint64_t sl_realtime_ns(void);

/** CLOCK_MONOTONIC now, in ns: timeouts and pacing that must not need EAL's TSC. */
uint64_t sl_monotonic_ns(void);

#endif /* SL_COMMON_H */
