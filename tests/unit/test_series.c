/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sl_series.h"

static void
test_init_validates_prefix(void **state)
{
	struct sl_series s;

	assert_int_equal(sl_series_init(&s, "sluice", "pcap", 0, 0, 0), 0);
	assert_int_equal(sl_series_init(&s, "a.b-c_9", "pcap", 0, 0, 0), 0);
	assert_int_equal(sl_series_init(&s, "", "pcap", 0, 0, 0), -EINVAL);
	assert_int_equal(sl_series_init(&s, ".hidden", "pcap", 0, 0, 0), -EINVAL);
	assert_int_equal(sl_series_init(&s, "a/b", "pcap", 0, 0, 0), -EINVAL);
	assert_int_equal(sl_series_init(&s, "a b", "pcap", 0, 0, 0), -EINVAL);
	assert_int_equal(sl_series_init(&s, NULL, "pcap", 0, 0, 0), -EINVAL);
	assert_int_equal(sl_series_init(&s, "x", NULL, 0, 0, 0), -EINVAL);
	assert_int_equal(s.next_seq, 0);
	assert_int_equal(sl_series_init(&s, "x", "pcap", 0, 0, 0), 0);
	assert_int_equal(s.next_seq, 1);
}

static void
test_names(void **state)
{
	struct sl_series s;
	char name[SL_SERIES_NAME_MAX];
	/* 2026-11-22 10:15:00 UTC plus 123456789 ns. */
	uint64_t t = 1795342500ull * 1000000000ull + 123456789ull;

	assert_int_equal(sl_series_init(&s, "sluice", "pcapng", 3, 0, 0), 0);
	assert_int_equal(sl_series_name(&s, 42, t, false, name, sizeof(name)), 0);
	assert_string_equal(name, "sluice_20261122T101500.123456789Z_w03_000042.pcapng");
	assert_int_equal(sl_series_name(&s, 42, t, true, name, sizeof(name)), 0);
	assert_string_equal(name, "sluice_20261122T101500.123456789Z_w03_000042.pcapng.part");
	assert_int_equal(sl_series_name(&s, 1, t, false, name, 20), -ENAMETOOLONG);
}

static void
test_names_sort_in_time_order(void **state)
{
	struct sl_series a, b;
	char n1[SL_SERIES_NAME_MAX], n2[SL_SERIES_NAME_MAX], n3[SL_SERIES_NAME_MAX];
	uint64_t t = 1795342500ull * 1000000000ull;

	sl_series_init(&a, "cap", "pcap", 0, 0, 0);
	sl_series_init(&b, "cap", "pcap", 1, 0, 0);
	/* Writer 1 earlier than writer 0; ns digits and a later second. */
	sl_series_name(&b, 7, t + 5, false, n1, sizeof(n1));
	sl_series_name(&a, 2, t + 999999999, false, n2, sizeof(n2));
	sl_series_name(&a, 3, t + 1000000000, false, n3, sizeof(n3));
	assert_true(strcmp(n1, n2) < 0);
	assert_true(strcmp(n2, n3) < 0);
}

static void
test_rotation_due(void **state)
{
	struct sl_series s;

	sl_series_init(&s, "x", "pcap", 0, 1000, 5000000000ull);
	assert_false(sl_series_size_due(&s, 999));
	assert_true(sl_series_size_due(&s, 1000));
	assert_true(sl_series_size_due(&s, 5000));
	assert_false(sl_series_time_due(&s, 100, 100 + 4999999999ull));
	assert_true(sl_series_time_due(&s, 100, 100 + 5000000000ull));
	/* A clock step backwards never rotates. */
	assert_false(sl_series_time_due(&s, 100, 50));

	sl_series_init(&s, "x", "pcap", 0, 0, 0);
	assert_false(sl_series_size_due(&s, UINT64_MAX));
	assert_false(sl_series_time_due(&s, 0, UINT64_MAX));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_validates_prefix),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_names_sort_in_time_order),
		cmocka_unit_test(test_rotation_due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
