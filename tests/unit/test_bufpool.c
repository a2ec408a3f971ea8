/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sl_bufpool.h"
#include "sl_common.h"

static void
test_init_rejects_bad_args(void **state)
{
	struct sl_bufpool p;
	void *mem = aligned_alloc(SL_DIRECT_ALIGN, 4 * 8192);

	assert_int_equal(sl_bufpool_init(&p, NULL, 8192, 0, 4), -EINVAL);
	assert_int_equal(sl_bufpool_init(&p, mem, 0, 0, 4), -EINVAL);
	assert_int_equal(sl_bufpool_init(&p, mem, 1000, 0, 4), -EINVAL);
	assert_int_equal(sl_bufpool_init(&p, mem, 8192, 0, 0), -EINVAL);
	assert_int_equal(sl_bufpool_init(&p, (uint8_t *)mem + 512, 8192, 0, 2), -EINVAL);
	free(mem);
}

static void
test_layout_and_alignment(void **state)
{
	struct sl_bufpool p;
	size_t need = sl_bufpool_mem_size(65536, 1500, 3);
	uint8_t *mem = aligned_alloc(SL_DIRECT_ALIGN, need);
	struct iovec iov[3];

	/* 65536 + 1500 rounds up to 69632 (17 pages). */
	assert_int_equal(need, 3 * 69632);
	assert_int_equal(sl_bufpool_init(&p, mem, 65536, 1500, 3), 0);
	assert_int_equal(p.stride, 69632);
	sl_bufpool_iovecs(&p, iov);
	for (unsigned i = 0; i < 3; i++) {
		assert_ptr_equal(iov[i].iov_base, mem + i * 69632);
		assert_int_equal(iov[i].iov_len, 69632);
		assert_int_equal((uintptr_t)sl_bufpool_addr(&p, i) % SL_DIRECT_ALIGN, 0);
	}
	sl_bufpool_fini(&p);
	free(mem);
}

static void
test_get_put_exhaustion_and_double_put(void **state)
{
	struct sl_bufpool p;
	uint8_t *mem = aligned_alloc(SL_DIRECT_ALIGN, sl_bufpool_mem_size(4096, 0, 4));
	int got[4];

	assert_int_equal(sl_bufpool_init(&p, mem, 4096, 0, 4), 0);
	for (int i = 0; i < 4; i++) {
		got[i] = sl_bufpool_get(&p);
		assert_int_equal(got[i], i);
	}
	assert_int_equal(sl_bufpool_get(&p), -1);
	assert_int_equal(p.nb_free, 0);
	assert_int_equal(sl_bufpool_put(&p, 2), 0);
	assert_int_equal(sl_bufpool_put(&p, 2), -EINVAL);
	assert_int_equal(sl_bufpool_put(&p, 9), -EINVAL);
	/* LIFO: the buffer just returned comes back first. */
	assert_int_equal(sl_bufpool_get(&p), 2);
	for (int i = 0; i < 4; i++)
		assert_int_equal(sl_bufpool_put(&p, got[i]), 0);
	assert_int_equal(p.nb_free, 4);
	sl_bufpool_fini(&p);
	free(mem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_bad_args),
		cmocka_unit_test(test_layout_and_alignment),
		cmocka_unit_test(test_get_put_exhaustion_and_double_put),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
