/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sl_common.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

/* A value the parsers never produce, to prove that failures leave the output alone. */
#define UNTOUCHED UINT64_C(0xdeadbeef)

static void
u64_ok(const char *s, uint64_t min, uint64_t max, uint64_t expected)
{
	uint64_t v = UNTOUCHED;

	assert_int_equal(sl_parse_u64(s, min, max, &v), 0);
	assert_int_equal(v, expected);
}

static void
u64_fails(const char *s, uint64_t min, uint64_t max, int expected_rc)
{
	uint64_t v = UNTOUCHED;

	assert_int_equal(sl_parse_u64(s, min, max, &v), expected_rc);
	assert_int_equal(v, UNTOUCHED);
}

static void
test_parse_u64_valid(void **state)
{
	u64_ok("0", 0, 10, 0);
	u64_ok("7", 0, 10, 7);
	u64_ok("10", 0, 10, 10);
	u64_ok("007", 0, 10, 7);
	u64_ok("262144", 1, 262144, 262144);
	u64_ok("18446744073709551615", 0, UINT64_MAX, UINT64_MAX);
}

static void
test_parse_u64_range(void **state)
{
	u64_fails("0", 1, 10, -ERANGE);
	u64_fails("11", 1, 10, -ERANGE);
	u64_ok("1", 1, 10, 1);
	/* One past UINT64_MAX, and far past it, overflow rather than wrap. */
	u64_fails("18446744073709551616", 0, UINT64_MAX, -ERANGE);
	u64_fails("99999999999999999999999", 0, UINT64_MAX, -ERANGE);
}

static void
test_parse_u64_malformed(void **state)
{
	uint64_t v = UNTOUCHED;

	assert_int_equal(sl_parse_u64(NULL, 0, 10, &v), -EINVAL);
	u64_fails("", 0, 10, -EINVAL);
	u64_fails("-1", 0, 10, -EINVAL);
	u64_fails("+1", 0, 10, -EINVAL);
	u64_fails(" 1", 0, 10, -EINVAL);
	u64_fails("1 ", 0, 10, -EINVAL);
	u64_fails("1x", 0, 10, -EINVAL);
	u64_fails("0x10", 0, 100, -EINVAL);
	u64_fails("1.0", 0, 10, -EINVAL);
	u64_fails("1e3", 0, 10000, -EINVAL);
	u64_fails("1K", 0, 10000, -EINVAL);
	u64_fails("abc", 0, 10, -EINVAL);
}

static void
size_ok(const char *s, uint64_t expected)
{
	uint64_t v = UNTOUCHED;

	assert_int_equal(sl_parse_size(s, 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, expected);
}

static void
size_fails(const char *s, uint64_t min, uint64_t max, int expected_rc)
{
	uint64_t v = UNTOUCHED;

	assert_int_equal(sl_parse_size(s, min, max, &v), expected_rc);
	assert_int_equal(v, UNTOUCHED);
}

static void
test_parse_size_suffixes(void **state)
{
	size_ok("0", 0);
	size_ok("512", 512);
	size_ok("512B", 512);
	size_ok("512b", 512);
	size_ok("4K", 4 * KIB);
	size_ok("4k", 4 * KIB);
	size_ok("4KB", 4 * KIB);
	size_ok("4KiB", 4 * KIB);
	size_ok("4kib", 4 * KIB);
	size_ok("64KiB", 64 * KIB);
	size_ok("1M", MIB);
	size_ok("3MiB", 3 * MIB);
	size_ok("1G", GIB);
	size_ok("2GB", 2 * GIB);
	size_ok("1T", TIB);
	size_ok("5TiB", 5 * TIB);
	size_ok("0K", 0);
	/* The largest size that fits: (2^24 - 1) TiB. */
	size_ok("16777215T", 16777215 * TIB);
	size_ok("18446744073709551615", UINT64_MAX);
}

static void
test_parse_size_overflow_and_range(void **state)
{
	uint64_t v = UNTOUCHED;

	size_fails("16777216T", 0, UINT64_MAX, -ERANGE);
	size_fails("17179869184G", 0, UINT64_MAX, -ERANGE);
	size_fails("18446744073709551616", 0, UINT64_MAX, -ERANGE);
	size_fails("18446744073709551615K", 0, UINT64_MAX, -ERANGE);
	size_fails("63K", 64 * KIB, 64 * MIB, -ERANGE);
	size_fails("65M", 64 * KIB, 64 * MIB, -ERANGE);
	size_fails("65537K", 64 * KIB, 64 * MIB, -ERANGE);
	assert_int_equal(sl_parse_size("64K", 64 * KIB, 64 * MIB, &v), 0);
	assert_int_equal(v, 64 * KIB);
	assert_int_equal(sl_parse_size("64M", 64 * KIB, 64 * MIB, &v), 0);
	assert_int_equal(v, 64 * MIB);
}

static void
test_parse_size_malformed(void **state)
{
	uint64_t v = UNTOUCHED;

	assert_int_equal(sl_parse_size(NULL, 0, UINT64_MAX, &v), -EINVAL);
	size_fails("", 0, UINT64_MAX, -EINVAL);
	size_fails("K", 0, UINT64_MAX, -EINVAL);
	size_fails("B", 0, UINT64_MAX, -EINVAL);
	size_fails("-1K", 0, UINT64_MAX, -EINVAL);
	size_fails("+1K", 0, UINT64_MAX, -EINVAL);
	size_fails(" 4K", 0, UINT64_MAX, -EINVAL);
	size_fails("4K ", 0, UINT64_MAX, -EINVAL);
	size_fails("4 K", 0, UINT64_MAX, -EINVAL);
	size_fails("4Ki", 0, UINT64_MAX, -EINVAL);
	size_fails("4KiBx", 0, UINT64_MAX, -EINVAL);
	size_fails("4KBB", 0, UINT64_MAX, -EINVAL);
	size_fails("4BB", 0, UINT64_MAX, -EINVAL);
	size_fails("4iB", 0, UINT64_MAX, -EINVAL);
	size_fails("4KK", 0, UINT64_MAX, -EINVAL);
	size_fails("1.5G", 0, UINT64_MAX, -EINVAL);
	size_fails("1P", 0, UINT64_MAX, -EINVAL);
	size_fails("1E", 0, UINT64_MAX, -EINVAL);
	size_fails("0x1000", 0, UINT64_MAX, -EINVAL);
}

static void
seconds_ok(const char *s, uint64_t max_ms, uint64_t expected_ms)
{
	uint64_t v = UNTOUCHED;

	assert_int_equal(sl_parse_seconds_ms(s, max_ms, &v), 0);
	assert_int_equal(v, expected_ms);
}

static void
seconds_fails(const char *s, uint64_t max_ms, int expected_rc)
{
	uint64_t v = UNTOUCHED;

	assert_int_equal(sl_parse_seconds_ms(s, max_ms, &v), expected_rc);
	assert_int_equal(v, UNTOUCHED);
}

static void
test_parse_seconds(void **state)
{
	seconds_ok("0", 10000, 0);
	seconds_ok("5", 10000, 5000);
	seconds_ok("10", 10000, 10000);
	seconds_ok("0.25", 10000, 250);
	seconds_ok("1.5", 10000, 1500);
	seconds_ok("1.05", 10000, 1050);
	seconds_ok("2.001", 10000, 2001);
	seconds_ok("0.0", 10000, 0);
	/* Milliseconds are the resolution: extra digits are dropped, not rounded. */
	seconds_ok("1.2349", 10000, 1234);
	seconds_ok("0.0009", 10000, 0);
	seconds_ok("3.000000000000000000000001", 10000, 3000);
	seconds_ok("315360000", UINT64_C(315360000000), UINT64_C(315360000000));
}

static void
test_parse_seconds_range(void **state)
{
	seconds_fails("11", 10000, -ERANGE);
	seconds_fails("10.001", 10000, -ERANGE);
	seconds_fails("10.5", 10000, -ERANGE);
	seconds_fails("315360000.001", UINT64_C(315360000000), -ERANGE);
	/* Above UINT64_MAX / 1000: the multiplication must not wrap. */
	seconds_fails("18446744073709552", UINT64_MAX, -ERANGE);
	seconds_fails("99999999999999999999999", UINT64_MAX, -ERANGE);
	seconds_ok("18446744073709551", UINT64_MAX, UINT64_C(18446744073709551000));
}

static void
test_parse_seconds_malformed(void **state)
{
	uint64_t v = UNTOUCHED;

	assert_int_equal(sl_parse_seconds_ms(NULL, 10000, &v), -EINVAL);
	seconds_fails("", 10000, -EINVAL);
	seconds_fails("-1", 10000, -EINVAL);
	seconds_fails("+1", 10000, -EINVAL);
	seconds_fails(" 1", 10000, -EINVAL);
	seconds_fails("1 ", 10000, -EINVAL);
	seconds_fails("1.", 10000, -EINVAL);
	seconds_fails(".5", 10000, -EINVAL);
	seconds_fails("1..5", 10000, -EINVAL);
	seconds_fails("1.5.2", 10000, -EINVAL);
	seconds_fails("1,5", 10000, -EINVAL);
	seconds_fails("5s", 10000, -EINVAL);
	seconds_fails("1e3", 10000, -EINVAL);
}

static void
list_ok(const char *s, unsigned limit, unsigned max, const uint16_t *expected, unsigned n)
{
	uint16_t ids[SL_MAX_LCORES];

	assert_int_equal(sl_parse_id_list(s, limit, ids, max), (int)n);
	assert_memory_equal(ids, expected, n * sizeof(ids[0]));
}

static void
test_parse_id_list_valid(void **state)
{
	uint16_t all[SL_MAX_LCORES];

	list_ok("3", 128, 128, (const uint16_t[]){ 3 }, 1);
	list_ok("0", 128, 128, (const uint16_t[]){ 0 }, 1);
	list_ok("127", 128, 128, (const uint16_t[]){ 127 }, 1);
	list_ok("1,3-5,8", 128, 128, (const uint16_t[]){ 1, 3, 4, 5, 8 }, 5);
	list_ok("5-5", 128, 128, (const uint16_t[]){ 5 }, 1);
	/* The order given is kept, not sorted. */
	list_ok("8,1,4-5", 128, 128, (const uint16_t[]){ 8, 1, 4, 5 }, 4);
	list_ok("1,2", 128, 2, (const uint16_t[]){ 1, 2 }, 2);
	for (unsigned i = 0; i < SL_MAX_LCORES; i++)
		all[i] = (uint16_t)i;
	list_ok("0-127", 128, 128, all, 128);
}

static void
list_fails(const char *s, unsigned limit, unsigned max, int expected_rc)
{
	uint16_t ids[SL_MAX_LCORES];

	assert_int_equal(sl_parse_id_list(s, limit, ids, max), expected_rc);
}

static void
test_parse_id_list_limits(void **state)
{
	list_fails("128", 128, 128, -ERANGE);
	list_fails("0-128", 128, 128, -ERANGE);
	list_fails("1,200", 128, 128, -ERANGE);
	list_fails("4", 4, 128, -ERANGE);
	list_fails("99999999999999999999999", 128, 128, -ERANGE);
	list_fails("1,2,3", 128, 2, -ERANGE);
	list_fails("0-3", 128, 3, -ERANGE);
}

static void
test_parse_id_list_malformed(void **state)
{
	uint16_t ids[4];

	assert_int_equal(sl_parse_id_list(NULL, 128, ids, 4), -EINVAL);
	list_fails("", 128, 128, -EINVAL);
	list_fails("1,1", 128, 128, -EINVAL);
	list_fails("1-3,2", 128, 128, -EINVAL);
	list_fails("2,1-3", 128, 128, -EINVAL);
	list_fails("5-3", 128, 128, -EINVAL);
	list_fails(",1", 128, 128, -EINVAL);
	list_fails("1,", 128, 128, -EINVAL);
	list_fails("1,,2", 128, 128, -EINVAL);
	list_fails("1 ,2", 128, 128, -EINVAL);
	list_fails("1, 2", 128, 128, -EINVAL);
	list_fails(" 1", 128, 128, -EINVAL);
	list_fails("-1", 128, 128, -EINVAL);
	list_fails("1-", 128, 128, -EINVAL);
	list_fails("1-3-5", 128, 128, -EINVAL);
	list_fails("1;2", 128, 128, -EINVAL);
	list_fails("a", 128, 128, -EINVAL);
	list_fails("+1", 128, 128, -EINVAL);
}

/* The exact result, by a division sl_clock_ns() avoids: ns0 + delta * 1e9 / hz. */
static uint64_t
exact_ns(uint64_t hz, uint64_t tsc0, uint64_t ns0, uint64_t tsc)
{
	return ns0 + (uint64_t)((unsigned __int128)(tsc - tsc0) * 1000000000u / hz);
}

static uint64_t
distance(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

static const uint64_t test_hz[] = {
	UINT64_C(1000000000),
	UINT64_C(2500000000),
	UINT64_C(3123456789),
};

static void
test_clock_one_second(void **state)
{
	const uint64_t ns0 = UINT64_C(1700000000123456789);

	for (unsigned i = 0; i < SL_ARRAY_SIZE(test_hz); i++) {
		uint64_t hz = test_hz[i];
		/* A large TSC origin, as after weeks of uptime. */
		uint64_t tsc0 = UINT64_C(123456789012345);
		struct sl_clock c;

		sl_clock_init(&c, hz, tsc0, ns0);
		assert_int_equal(sl_clock_ns(&c, tsc0), ns0);
		assert_true(distance(sl_clock_ns(&c, tsc0 + hz), ns0 + 1000000000u) <= 1);
		assert_true(distance(sl_clock_ns(&c, tsc0 + hz / 2), ns0 + 500000000u) <= 1);
	}
}

static void
test_clock_exact_at_1ghz(void **state)
{
	struct sl_clock c;

	/* At 1 GHz a tick is one nanosecond and the factor is exact. */
	sl_clock_init(&c, 1000000000u, 1000, 5000);
	assert_int_equal(sl_clock_ns(&c, 1000), 5000);
	assert_int_equal(sl_clock_ns(&c, 1001), 5001);
	assert_int_equal(sl_clock_ns(&c, 1000 + UINT64_C(86400000000000)),
			 5000 + UINT64_C(86400000000000));
}

static void
test_clock_monotonic(void **state)
{
	for (unsigned i = 0; i < SL_ARRAY_SIZE(test_hz); i++) {
		uint64_t hz = test_hz[i], tsc0 = UINT64_C(987654321), prev;
		struct sl_clock c;

		sl_clock_init(&c, hz, tsc0, UINT64_C(1700000000000000000));
		prev = sl_clock_ns(&c, tsc0);
		for (uint64_t t = 1; t < 100000; t++) {
			uint64_t now = sl_clock_ns(&c, tsc0 + t);

			assert_true(now >= prev);
			/* No tick lasts more than a nanosecond at >= 1 GHz. */
			assert_true(now - prev <= 1);
			prev = now;
		}
		/* Sparse steps over a longer span, across many carries of the fraction. */
		for (uint64_t t = 100000; t < 3600 * hz; t += hz / 7 + 12345) {
			uint64_t now = sl_clock_ns(&c, tsc0 + t);

			assert_true(now >= prev);
			prev = now;
		}
	}
}

static void
test_clock_large_deltas(void **state)
{
	static const uint64_t spans_s[] = { 3600, 86400, 7 * 86400, 10ull * 365 * 86400 };
	const uint64_t ns0 = UINT64_C(1700000000000000000);

	for (unsigned i = 0; i < SL_ARRAY_SIZE(test_hz); i++) {
		uint64_t hz = test_hz[i], tsc0 = UINT64_C(5000000000);
		struct sl_clock c;

		sl_clock_init(&c, hz, tsc0, ns0);
		for (unsigned j = 0; j < SL_ARRAY_SIZE(spans_s); j++) {
			uint64_t ticks = spans_s[j] * hz + hz / 3;
			uint64_t expect = exact_ns(hz, tsc0, ns0, tsc0 + ticks);
			/* A 32.32 factor is off by at most half a unit of 2^-32 ns per
			 * tick once rounded: about 20-30 us a day at these rates. A
			 * 64-bit product would be off by seconds, as would a factor
			 * truncated to whole nanoseconds. */
			uint64_t bound = ticks / (UINT64_C(1) << 33) + 1;

			assert_true(distance(sl_clock_ns(&c, tsc0 + ticks), expect) <= bound);
		}
	}
}

static void
test_clock_one_day_within_30us(void **state)
{
	const uint64_t day_ns = UINT64_C(86400000000000);

	for (unsigned i = 0; i < SL_ARRAY_SIZE(test_hz); i++) {
		uint64_t hz = test_hz[i];
		struct sl_clock c;

		sl_clock_init(&c, hz, 0, 0);
		assert_true(distance(sl_clock_ns(&c, 86400 * hz), day_ns) <= 30000);
	}
}

static void
test_realtime(void **state)
{
	uint64_t a = sl_realtime_ns(), b = sl_realtime_ns();

	/* After 2023-11-14 and before 2100: a real wall clock, in nanoseconds. */
	assert_true(a > UINT64_C(1700000000000000000));
	assert_true(a < UINT64_C(4102444800000000000));
	assert_true(b >= a);
}

static void
test_format_size(void **state)
{
	char buf[32];
	uint64_t back;

	assert_string_equal(sl_format_size(0, buf, sizeof(buf)), "0");
	assert_string_equal(sl_format_size(1000, buf, sizeof(buf)), "1000");
	assert_string_equal(sl_format_size(4096, buf, sizeof(buf)), "4K");
	assert_string_equal(sl_format_size(1536 * 1024, buf, sizeof(buf)), "1536K");
	assert_string_equal(sl_format_size(1ull << 30, buf, sizeof(buf)), "1G");
	assert_string_equal(sl_format_size(3ull << 50, buf, sizeof(buf)), "3072T");
	/* It is the inverse of sl_parse_size(). */
	for (uint64_t v = 1; v < (1ull << 45); v = v * 3 + 1024) {
		assert_int_equal(
			sl_parse_size(sl_format_size(v, buf, sizeof(buf)), 0, UINT64_MAX, &back),
			0);
		assert_int_equal(back, v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_parse_u64_valid),
		cmocka_unit_test(test_parse_u64_range),
		cmocka_unit_test(test_parse_u64_malformed),
		cmocka_unit_test(test_parse_size_suffixes),
		cmocka_unit_test(test_parse_size_overflow_and_range),
		cmocka_unit_test(test_parse_size_malformed),
		cmocka_unit_test(test_parse_seconds),
		cmocka_unit_test(test_parse_seconds_range),
		cmocka_unit_test(test_parse_seconds_malformed),
		cmocka_unit_test(test_parse_id_list_valid),
		cmocka_unit_test(test_parse_id_list_limits),
		cmocka_unit_test(test_parse_id_list_malformed),
		cmocka_unit_test(test_clock_one_second),
		cmocka_unit_test(test_clock_exact_at_1ghz),
		cmocka_unit_test(test_clock_monotonic),
		cmocka_unit_test(test_clock_large_deltas),
		cmocka_unit_test(test_clock_one_day_within_30us),
		cmocka_unit_test(test_realtime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
