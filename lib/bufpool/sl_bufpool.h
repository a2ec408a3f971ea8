/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_BUFPOOL_H
#define SL_BUFPOOL_H

/**
 * @file
 * A pool of large, aligned write buffers carved from one memory region,
 * owned by one writer lcore (no locks: only the owner may call get/put).
 *
 * rte_mempool would work, but its objects carry headers that break the
 * 4 KiB alignment and contiguity that O_DIRECT and io_uring_register_buffers()
 * want, and a writer never shares its buffers, so a plain LIFO stack of
 * indexes is enough (LIFO keeps recently used buffers warm in the cache).
 *
 * Each buffer has @c size usable bytes plus @c slack bytes past the end, so
 * a record that crosses the end can be serialized contiguously and its
 * overflow moved to the next buffer with one small copy.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct sl_bufpool {
	uint8_t *base;    /**< First buffer; aligned to SL_DIRECT_ALIGN. */
	size_t size;      /**< Usable bytes per buffer (multiple of the alignment). */
	size_t stride;    /**< Distance between buffers (size + slack, aligned). */
	unsigned count;   /**< Buffers in the pool. */
	unsigned nb_free; /**< Buffers on the free stack. */
	uint32_t *stack;  /**< Free buffer indexes, top at nb_free - 1. */
	uint8_t *in_use;  /**< Per buffer: 1 while handed out (catches double puts). */
};

/** Bytes of memory a pool of @p count buffers of @p size (+ @p slack) needs. */
size_t sl_bufpool_mem_size(size_t size, size_t slack, unsigned count);

/**
 * Set up @p pool over @p mem (at least sl_bufpool_mem_size() bytes, aligned to
 * SL_DIRECT_ALIGN; the caller owns it and frees it after sl_bufpool_fini()).
 *
 * @return 0, -EINVAL (size not a non-zero multiple of SL_DIRECT_ALIGN,
 *   count 0, mem misaligned), -ENOMEM.
 */
int sl_bufpool_init(struct sl_bufpool *pool, void *mem, size_t size, size_t slack, unsigned count);

/** Release what sl_bufpool_init() allocated (not the memory region). */
void sl_bufpool_fini(struct sl_bufpool *pool);

/** Fill @p iov (count entries) with one iovec per buffer, size + slack each. */
void sl_bufpool_iovecs(const struct sl_bufpool *pool, struct iovec *iov);

/** Take a free buffer. @return its index, or -1 if none is free. */
static inline int
sl_bufpool_get(struct sl_bufpool *pool)
{
	uint32_t idx;

	if (pool->nb_free == 0)
		return -1;
	idx = pool->stack[--pool->nb_free];
	pool->in_use[idx] = 1;
	return (int)idx;
}

/** Give buffer @p idx back. @return 0, or -EINVAL if it was not handed out. */
int sl_bufpool_put(struct sl_bufpool *pool, unsigned idx);

/** Address of buffer @p idx. */
static inline uint8_t *
sl_bufpool_addr(const struct sl_bufpool *pool, unsigned idx)
{
	return pool->base + (size_t)idx * pool->stride;
}

#endif /* SL_BUFPOOL_H */
