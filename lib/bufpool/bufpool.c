/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sl_bufpool.h"
#include "sl_common.h"

size_t
sl_bufpool_mem_size(size_t size, size_t slack, unsigned count)
{
	return SL_ALIGN_UP(size + slack, SL_DIRECT_ALIGN) * count;
}

int
sl_bufpool_init(struct sl_bufpool *pool, void *mem, size_t size, size_t slack, unsigned count)
{
	memset(pool, 0, sizeof(*pool));
	if (mem == NULL || size == 0 || size % SL_DIRECT_ALIGN != 0 || count == 0 ||
	    (uintptr_t)mem % SL_DIRECT_ALIGN != 0)
		return -EINVAL;
	pool->stack = calloc(count, sizeof(*pool->stack));
	pool->in_use = calloc(count, 1);
	if (pool->stack == NULL || pool->in_use == NULL) {
		sl_bufpool_fini(pool);
		return -ENOMEM;
	}
	pool->base = mem;
	pool->size = size;
	pool->stride = SL_ALIGN_UP(size + slack, SL_DIRECT_ALIGN);
	pool->count = count;
	/* Push in reverse so that buffer 0 is handed out first. */
	for (unsigned i = 0; i < count; i++)
		pool->stack[i] = count - 1 - i;
	pool->nb_free = count;
	return 0;
}

void
sl_bufpool_fini(struct sl_bufpool *pool)
{
	free(pool->stack);
	free(pool->in_use);
	pool->stack = NULL;
	pool->in_use = NULL;
	pool->nb_free = 0;
	pool->count = 0;
}

void
sl_bufpool_iovecs(const struct sl_bufpool *pool, struct iovec *iov)
{
	for (unsigned i = 0; i < pool->count; i++) {
		iov[i].iov_base = sl_bufpool_addr(pool, i);
		iov[i].iov_len = pool->stride;
	}
}

int
sl_bufpool_put(struct sl_bufpool *pool, unsigned idx)
{
	if (idx >= pool->count || !pool->in_use[idx])
		return -EINVAL;
	pool->in_use[idx] = 0;
	pool->stack[pool->nb_free++] = idx;
	return 0;
}
