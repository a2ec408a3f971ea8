/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_hash_crc.h>

#include "sl_stage.h"

#define SL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Reference model: durable runs computed bit by bit. */
static unsigned
naive_ranges(const struct sl_chunkmap *m, uint32_t start, struct sl_range32 *out, unsigned max)
{
	uint64_t i = start;
	unsigned n = 0;

	while (i < m->nb_chunks && n < max) {
		if (!sl_chunkmap_is_durable(m, (uint32_t)i)) {
			i++;
			continue;
		}
		out[n].first = (uint32_t)i;
		while (i < m->nb_chunks && sl_chunkmap_is_durable(m, (uint32_t)i))
			i++;
		out[n].count = (uint32_t)(i - out[n].first);
		n++;
	}
	return n;
}

/* Extract every run in pieces of @p max and compare with the reference. */
static void
check_ranges_split(const struct sl_chunkmap *m, unsigned max)
{
	static struct sl_range32 want[600000], got[8];
	unsigned nwant = naive_ranges(m, 0, want, SL_ARRAY_SIZE(want)), k = 0, n, i;
	uint32_t start = 0, next;

	for (;;) {
		n = sl_chunkmap_durable_ranges(m, start, got, max, &next);
		assert_true(n <= max);
		for (i = 0; i < n; i++, k++) {
			assert_true(k < nwant);
			assert_int_equal(got[i].first, want[k].first);
			assert_int_equal(got[i].count, want[k].count);
		}
		if (n == 0)
			break;
		assert_true(next > start || n == 0);
		start = next;
	}
	assert_int_equal(k, nwant);
	assert_int_equal(next, m->nb_chunks);
}

static void
check_sizes(uint32_t nb)
{
	struct sl_chunkmap *m = sl_chunkmap_create(nb);
	struct sl_range32 r[4];
	uint32_t next = 12345, i;

	assert_non_null(m);
	assert_int_equal(sl_chunkmap_received_upto(m), 0);
	assert_int_equal(sl_chunkmap_durable_upto(m), 0);
	assert_int_equal(sl_chunkmap_complete(m), nb == 0);
	assert_int_equal(sl_chunkmap_durable_ranges(m, 0, r, 4, &next), 0);
	assert_int_equal(next, nb);
	assert_int_equal(sl_chunkmap_set_received(m, nb), -EINVAL);
	assert_int_equal(sl_chunkmap_set_durable(m, nb), -EINVAL);
	assert_false(sl_chunkmap_is_durable(m, nb));

	/* Receive all in order, then make all durable in reverse order. */
	for (i = 0; i < nb; i++) {
		assert_int_equal(sl_chunkmap_set_received(m, i), 1);
		assert_int_equal(sl_chunkmap_received_upto(m), i + 1);
	}
	assert_int_equal(sl_chunkmap_received_count(m), nb);
	for (i = nb; i-- > 0;) {
		assert_int_equal(sl_chunkmap_durable_upto(m), 0);
		assert_int_equal(sl_chunkmap_set_durable(m, i), 1);
		assert_int_equal(sl_chunkmap_set_durable(m, i), 0);
	}
	assert_int_equal(sl_chunkmap_durable_upto(m), nb);
	assert_int_equal(sl_chunkmap_durable_count(m), nb);
	assert_true(sl_chunkmap_complete(m));
	if (nb > 0) {
		assert_int_equal(sl_chunkmap_durable_ranges(m, 0, r, 4, &next), 1);
		assert_int_equal(r[0].first, 0);
		assert_int_equal(r[0].count, nb);
		assert_int_equal(next, nb);
		/* A run that begins before start is reported from start. */
		assert_int_equal(sl_chunkmap_durable_ranges(m, nb - 1, r, 4, &next), 1);
		assert_int_equal(r[0].first, nb - 1);
		assert_int_equal(r[0].count, 1);
	}
	sl_chunkmap_destroy(m);
}

static void
test_chunkmap_sizes(void **state)
{
	static const uint32_t sizes[] = { 0, 1, 2, 63, 64, 65, 127, 128, 129, 1000000 };
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_sizes(sizes[i]);
	sl_chunkmap_destroy(NULL);
}

static void
test_chunkmap_upto(void **state)
{
	struct sl_chunkmap *m = sl_chunkmap_create(130);

	(void)state;
	assert_non_null(m);
	/* Durable implies received. */
	assert_int_equal(sl_chunkmap_set_durable(m, 5), 1);
	assert_true(sl_chunkmap_is_received(m, 5));
	assert_int_equal(sl_chunkmap_received_count(m), 1);
	assert_int_equal(sl_chunkmap_set_received(m, 5), 0);
	assert_int_equal(sl_chunkmap_received_upto(m), 0);
	for (uint32_t i = 0; i < 5; i++)
		sl_chunkmap_set_received(m, i);
	assert_int_equal(sl_chunkmap_received_upto(m), 6);
	assert_int_equal(sl_chunkmap_durable_upto(m), 0);
	/* Holes past a word boundary: the cursor jumps over filled words. */
	for (uint32_t i = 7; i < 129; i++)
		sl_chunkmap_set_received(m, i);
	assert_int_equal(sl_chunkmap_received_upto(m), 6);
	sl_chunkmap_set_received(m, 6);
	assert_int_equal(sl_chunkmap_received_upto(m), 129);
	sl_chunkmap_set_received(m, 129);
	assert_int_equal(sl_chunkmap_received_upto(m), 130);
	assert_false(sl_chunkmap_complete(m));
	for (uint32_t i = 0; i < 64; i++)
		sl_chunkmap_set_durable(m, i);
	assert_int_equal(sl_chunkmap_durable_upto(m), 64);
	assert_int_equal(sl_chunkmap_durable_count(m), 64);
	sl_chunkmap_destroy(m);
}

static void
test_chunkmap_ranges(void **state)
{
	struct sl_chunkmap *m = sl_chunkmap_create(200);
	struct sl_range32 r[8];
	uint32_t next;
	unsigned n;

	(void)state;
	assert_non_null(m);
	/* Runs: [0,3) [62,66) [127,128) [190,200). */
	for (uint32_t i = 0; i < 3; i++)
		sl_chunkmap_set_durable(m, i);
	for (uint32_t i = 62; i < 66; i++)
		sl_chunkmap_set_durable(m, i);
	sl_chunkmap_set_durable(m, 127);
	for (uint32_t i = 190; i < 200; i++)
		sl_chunkmap_set_durable(m, i);
	/* Received but not durable chunks are not reported. */
	sl_chunkmap_set_received(m, 100);

	n = sl_chunkmap_durable_ranges(m, 0, r, 8, &next);
	assert_int_equal(n, 4);
	assert_int_equal(next, 200);
	assert_int_equal(r[0].first, 0);
	assert_int_equal(r[0].count, 3);
	assert_int_equal(r[1].first, 62);
	assert_int_equal(r[1].count, 4);
	assert_int_equal(r[2].first, 127);
	assert_int_equal(r[2].count, 1);
	assert_int_equal(r[3].first, 190);
	assert_int_equal(r[3].count, 10);

	/* max = 1: one run per call, continuing at next. */
	n = sl_chunkmap_durable_ranges(m, 0, r, 1, &next);
	assert_int_equal(n, 1);
	assert_int_equal(next, 3);
	n = sl_chunkmap_durable_ranges(m, next, r, 1, &next);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].first, 62);
	assert_int_equal(next, 66);
	/* max = 2 from the middle of a run. */
	n = sl_chunkmap_durable_ranges(m, 64, r, 2, &next);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].first, 64);
	assert_int_equal(r[0].count, 2);
	assert_int_equal(r[1].first, 127);
	assert_int_equal(next, 128);
	n = sl_chunkmap_durable_ranges(m, next, r, 2, &next);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].first, 190);
	assert_int_equal(r[0].count, 10);
	assert_int_equal(next, 200);
	assert_int_equal(sl_chunkmap_durable_ranges(m, next, r, 2, &next), 0);
	assert_int_equal(next, 200);
	/* max = 0 writes nothing and does not advance. */
	assert_int_equal(sl_chunkmap_durable_ranges(m, 5, r, 0, &next), 0);
	assert_int_equal(next, 5);
	/* Start past the end. */
	assert_int_equal(sl_chunkmap_durable_ranges(m, 500, r, 2, &next), 0);
	assert_int_equal(next, 200);

	check_ranges_split(m, 1);
	check_ranges_split(m, 2);
	check_ranges_split(m, 8);
	sl_chunkmap_destroy(m);
}

static void
test_chunkmap_ranges_large(void **state)
{
	const uint32_t nb = 1000000;
	struct sl_chunkmap *m = sl_chunkmap_create(nb);
	uint64_t x = 88172645463325252ull;

	(void)state;
	assert_non_null(m);
	/* Pseudo-random runs of varied lengths, crossing word boundaries. */
	for (uint32_t i = 0; i < nb;) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t len = (uint32_t)(x % 200) + 1;
		bool on = (x >> 40) & 1;

		for (uint32_t j = i; j < i + len && j < nb; j++)
			if (on)
				sl_chunkmap_set_durable(m, j);
		i += len;
	}
	check_ranges_split(m, 1);
	check_ranges_split(m, 2);
	check_ranges_split(m, 7);
	sl_chunkmap_destroy(m);
}

/* Reference model of one chunk: a byte array. */
struct fill_model {
	struct sl_chunkfill f;
	uint8_t have[4096];
};

static void
model_check(struct fill_model *fm)
{
	struct sl_range64 r[SL_CHUNKFILL_MAX_INTERVALS + 1];
	unsigned n = sl_chunkfill_missing(&fm->f, r, SL_ARRAY_SIZE(r), 1000000), k = 0;
	uint32_t len = fm->f.chunk_len, i = 0, filled = 0;

	for (i = 0; i < len; i++)
		filled += fm->have[i];
	assert_int_equal(fm->f.filled, filled);
	assert_int_equal(sl_chunkfill_full(&fm->f), filled == len);
	for (i = 0; i < len;) {
		if (fm->have[i]) {
			i++;
			continue;
		}
		uint32_t s = i;

		while (i < len && !fm->have[i])
			i++;
		assert_true(k < n);
		assert_int_equal(r[k].offset, 1000000 + s);
		assert_int_equal(r[k].length, i - s);
		k++;
	}
	assert_int_equal(k, n);
}

static int
model_add(struct fill_model *fm, uint32_t off, uint32_t len)
{
	int want = 0, got;

	for (uint32_t i = off; i < off + len; i++)
		want += !fm->have[i];
	got = sl_chunkfill_add(&fm->f, off, len);
	if (got >= 0) {
		assert_int_equal(got, want);
		memset(fm->have + off, 1, len);
	}
	model_check(fm);
	return got;
}

static void
test_chunkfill_orders(void **state)
{
	struct fill_model fm;
	uint32_t i;

	(void)state;
	/* In order. */
	memset(&fm, 0, sizeof(fm));
	assert_int_equal(sl_chunkfill_init(&fm.f, 4000), 0);
	model_check(&fm);
	for (i = 0; i < 4000; i += 1000)
		assert_int_equal(model_add(&fm, i, 1000), 1000);
	assert_true(sl_chunkfill_full(&fm.f));
	assert_int_equal(fm.f.nb_intervals, 1);

	/* Reverse order with an odd tail. */
	memset(&fm, 0, sizeof(fm));
	assert_int_equal(sl_chunkfill_init(&fm.f, 4001), 0);
	assert_int_equal(model_add(&fm, 4000, 1), 1);
	for (i = 4; i-- > 0;)
		assert_int_equal(model_add(&fm, i * 1000, 1000), 1000);
	assert_true(sl_chunkfill_full(&fm.f));
	assert_int_equal(fm.f.nb_intervals, 1);

	/* Duplicates and overlaps. */
	memset(&fm, 0, sizeof(fm));
	sl_chunkfill_init(&fm.f, 3000);
	assert_int_equal(model_add(&fm, 100, 200), 200);
	assert_int_equal(model_add(&fm, 100, 200), 0);
	assert_int_equal(model_add(&fm, 150, 50), 0);
	assert_int_equal(model_add(&fm, 50, 100), 50);
	assert_int_equal(model_add(&fm, 250, 100), 50);
	assert_int_equal(model_add(&fm, 1000, 10), 10);
	assert_int_equal(model_add(&fm, 2000, 10), 10);
	/* One add bridging three intervals and the holes between. */
	assert_int_equal(model_add(&fm, 0, 2500), 2500 - 300 - 20);
	assert_int_equal(fm.f.nb_intervals, 1);
	/* Adjacent (touching) ranges merge. */
	assert_int_equal(model_add(&fm, 2500, 500), 500);
	assert_true(sl_chunkfill_full(&fm.f));
	assert_int_equal(fm.f.nb_intervals, 1);
}

static void
test_chunkfill_invalid(void **state)
{
	struct sl_chunkfill f;
	struct sl_range64 r[2];

	(void)state;
	assert_int_equal(sl_chunkfill_init(&f, 0), -EINVAL);
	assert_int_equal(sl_chunkfill_init(&f, (uint32_t)INT32_MAX + 1), -EINVAL);
	assert_int_equal(sl_chunkfill_init(&f, 100), 0);
	assert_int_equal(sl_chunkfill_add(&f, 0, 0), -EINVAL);
	assert_int_equal(sl_chunkfill_add(&f, 100, 1), -EINVAL);
	assert_int_equal(sl_chunkfill_add(&f, 50, 51), -EINVAL);
	assert_int_equal(sl_chunkfill_add(&f, UINT32_MAX, 2), -EINVAL);
	assert_int_equal(sl_chunkfill_add(&f, 1, UINT32_MAX), -EINVAL);
	assert_int_equal(f.filled, 0);
	assert_int_equal(f.nb_intervals, 0);
	/* Nothing was recorded: the whole chunk is missing. */
	assert_int_equal(sl_chunkfill_missing(&f, r, 2, 4096), 1);
	assert_int_equal(r[0].offset, 4096);
	assert_int_equal(r[0].length, 100);
	assert_int_equal(sl_chunkfill_add(&f, 50, 50), 50);
	assert_int_equal(sl_chunkfill_add(&f, 0, 1), 1);
	/* Max limits the output; full chunk has no holes. */
	assert_int_equal(sl_chunkfill_missing(&f, r, 1, 0), 1);
	assert_int_equal(r[0].offset, 1);
	assert_int_equal(r[0].length, 49);
	assert_int_equal(sl_chunkfill_missing(&f, r, 0, 0), 0);
	assert_int_equal(sl_chunkfill_add(&f, 1, 49), 49);
	assert_true(sl_chunkfill_full(&f));
	assert_int_equal(sl_chunkfill_missing(&f, r, 2, 0), 0);
}

static void
test_chunkfill_cap(void **state)
{
	struct fill_model fm;
	uint32_t i;

	(void)state;
	memset(&fm, 0, sizeof(fm));
	sl_chunkfill_init(&fm.f, 4096);
	/* Every other 10-byte block: 64 disjoint intervals fill the list. */
	for (i = 0; i < SL_CHUNKFILL_MAX_INTERVALS; i++)
		assert_int_equal(model_add(&fm, i * 20, 10), 10);
	assert_int_equal(fm.f.nb_intervals, SL_CHUNKFILL_MAX_INTERVALS);
	/* A 65th disjoint interval is refused and counted, state unchanged. */
	assert_int_equal(model_add(&fm, 3000, 10), -ENOSPC);
	assert_int_equal(model_add(&fm, 1285, 1), -ENOSPC);
	assert_int_equal(fm.f.nb_refused, 2);
	/* Extending or merging existing intervals still works. */
	assert_int_equal(model_add(&fm, 10, 5), 5);
	assert_int_equal(model_add(&fm, 15, 5), 5);
	assert_int_equal(fm.f.nb_intervals, SL_CHUNKFILL_MAX_INTERVALS - 1);
	assert_int_equal(model_add(&fm, 3000, 10), 10);
	assert_int_equal(model_add(&fm, 0, 4096), 4096 - fm.f.filled);
	assert_true(sl_chunkfill_full(&fm.f));
}

static void
test_chunkfill_random(void **state)
{
	struct fill_model fm;
	uint64_t x = 0x9E3779B97F4A7C15ull;

	(void)state;
	for (int round = 0; round < 50; round++) {
		memset(&fm, 0, sizeof(fm));
		sl_chunkfill_init(&fm.f, 1 + (uint32_t)(x % 4096));
		for (int k = 0; k < 200 && !sl_chunkfill_full(&fm.f); k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			uint32_t off = (uint32_t)(x % fm.f.chunk_len);
			uint32_t len = 1 + (uint32_t)((x >> 20) % 300);

			if (off + len > fm.f.chunk_len)
				len = fm.f.chunk_len - off;
			int ret = model_add(&fm, off, len);

			assert_true(ret >= 0 || ret == -ENOSPC);
		}
	}
}

static void
test_crc_vector(void **state)
{
	(void)state;
	assert_int_equal(~rte_hash_crc("123456789", 9, 0xFFFFFFFF), 0xE3069283);
}

/* Sidecar tests share a temporary directory. */
struct fixture {
	char dir[PATH_MAX];
	int dirfd;
};

static int
setup_dir(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *base = getenv("SL_TEST_TMPDIR");

	if (fx == NULL)
		return -1;
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_stage.XXXXXX", base);
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	fx->dirfd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx->dirfd < 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown_dir(void **state)
{
	struct fixture *fx = *state;
	char cmd[PATH_MAX + 16];

	close(fx->dirfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static void
make_info(struct sl_sidecar_info *info, uint64_t size, uint32_t chunk, const char *path)
{
	memset(info, 0, sizeof(*info));
	for (unsigned i = 0; i < SL_SIDECAR_IDENTITY_LEN; i++)
		info->identity[i] = (uint8_t)(0xA0 + i);
	info->file_size = size;
	info->chunk_size = chunk;
	info->nb_chunks = (uint32_t)(size / chunk + (size % chunk != 0));
	info->path_len = (uint16_t)strlen(path);
	memcpy(info->path, path, info->path_len);
}

static size_t
read_file(int dirfd, const char *name, uint8_t *buf, size_t max)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, max);
	assert_true(n >= 0 && (size_t)n < max);
	close(fd);
	return (size_t)n;
}

static void
write_file(int dirfd, const char *name, const uint8_t *buf, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static int
read_back(int dirfd, const char *name)
{
	struct sl_sidecar_info info;
	struct sl_chunkmap *map = NULL;
	int ret = sl_sidecar_read(dirfd, name, &info, &map);

	if (ret == 0) {
		assert_non_null(map);
		sl_chunkmap_destroy(map);
	}
	return ret;
}

/* Rewrite the CRC so that only the field under test is wrong. */
static void
fix_crc(uint8_t *buf, size_t len)
{
	uint32_t crc = ~rte_hash_crc(buf, (uint32_t)(len - 4), 0xFFFFFFFF);

	buf[len - 4] = (uint8_t)(crc >> 24);
	buf[len - 3] = (uint8_t)(crc >> 16);
	buf[len - 2] = (uint8_t)(crc >> 8);
	buf[len - 1] = (uint8_t)crc;
}

static void
test_sidecar_roundtrip(void **state)
{
	struct fixture *fx = *state;
	static const uint32_t counts[] = { 0, 1, 7, 8, 9, 63, 64, 65, 1000003 };

	for (unsigned c = 0; c < SL_ARRAY_SIZE(counts); c++) {
		struct sl_sidecar_info info, got;
		struct sl_chunkmap *map, *back = NULL;
		uint32_t nb = counts[c];

		make_info(&info, (uint64_t)nb * 8192 - (nb ? 17 : 0), 8192, "dir/sub/file.bin");
		assert_int_equal(info.nb_chunks, nb);
		map = sl_chunkmap_create(nb);
		assert_non_null(map);
		for (uint32_t i = 0; i < nb; i++) {
			if (i % 3 != 1)
				sl_chunkmap_set_durable(map, i);
			else
				sl_chunkmap_set_received(map, i); /* Not persisted. */
		}
		assert_int_equal(sl_sidecar_write(fx->dirfd, "f.state", &info, map), 0);
		assert_int_equal(faccessat(fx->dirfd, "f.state.tmp", F_OK, 0), -1);
		memset(&got, 0x55, sizeof(got));
		assert_int_equal(sl_sidecar_read(fx->dirfd, "f.state", &got, &back), 0);
		assert_memory_equal(got.identity, info.identity, SL_SIDECAR_IDENTITY_LEN);
		assert_int_equal(got.file_size, info.file_size);
		assert_int_equal(got.chunk_size, 8192);
		assert_int_equal(got.nb_chunks, nb);
		assert_int_equal(got.path_len, info.path_len);
		assert_string_equal(got.path, "dir/sub/file.bin");
		assert_int_equal(back->nb_chunks, nb);
		assert_int_equal(sl_chunkmap_durable_count(back), sl_chunkmap_durable_count(map));
		assert_int_equal(sl_chunkmap_received_count(back), sl_chunkmap_durable_count(map));
		assert_int_equal(sl_chunkmap_durable_upto(back), nb > 1 ? 1 : nb);
		assert_int_equal(sl_chunkmap_received_upto(back), nb > 1 ? 1 : nb);
		for (uint32_t i = 0; i < nb; i++) {
			if (sl_chunkmap_is_durable(back, i) != (i % 3 != 1))
				fail_msg("nb %u chunk %u durable bit wrong", nb, i);
			if (sl_chunkmap_is_received(back, i) != (i % 3 != 1))
				fail_msg("nb %u chunk %u received bit wrong", nb, i);
		}
		assert_int_equal(sl_chunkmap_complete(back),
				 nb <= 1); /* Chunk 1 is never durable. */
		sl_chunkmap_destroy(back);
		sl_chunkmap_destroy(map);
	}
	assert_int_equal(read_back(fx->dirfd, "missing.state"), -ENOENT);
}

static void
test_sidecar_write_invalid(void **state)
{
	struct fixture *fx = *state;
	struct sl_sidecar_info info;
	struct sl_chunkmap *map = sl_chunkmap_create(3);
	char longname[300];

	assert_non_null(map);
	make_info(&info, 3 * 4096, 4096, "x");
	info.chunk_size = 4097;
	assert_int_equal(sl_sidecar_write(fx->dirfd, "w.state", &info, map), -EINVAL);
	make_info(&info, 3 * 4096, 4096, "x");
	info.nb_chunks = 4;
	assert_int_equal(sl_sidecar_write(fx->dirfd, "w.state", &info, map), -EINVAL);
	make_info(&info, 2 * 4096, 4096, "x");
	assert_int_equal(sl_sidecar_write(fx->dirfd, "w.state", &info, map), -EINVAL);
	make_info(&info, 3 * 4096, 4096, "x");
	info.path_len = 0;
	assert_int_equal(sl_sidecar_write(fx->dirfd, "w.state", &info, map), -EINVAL);
	info.path_len = SL_SIDECAR_PATH_MAX + 1;
	assert_int_equal(sl_sidecar_write(fx->dirfd, "w.state", &info, map), -EINVAL);
	make_info(&info, 3 * 4096, 4096, "x");
	memset(longname, 'n', sizeof(longname) - 1);
	longname[252] = '\0';
	assert_int_equal(sl_sidecar_write(fx->dirfd, longname, &info, map), -ENAMETOOLONG);
	assert_int_equal(read_back(fx->dirfd, "w.state"), -ENOENT);
	sl_chunkmap_destroy(map);
}

static void
test_sidecar_atomic(void **state)
{
	struct fixture *fx = *state;
	struct sl_sidecar_info info, got;
	struct sl_chunkmap *map = sl_chunkmap_create(10), *back = NULL;
	uint8_t old[512], now[512];
	size_t oldlen, nowlen;

	assert_non_null(map);
	make_info(&info, 10 * 4096, 4096, "a/b");
	sl_chunkmap_set_durable(map, 0);
	assert_int_equal(sl_sidecar_write(fx->dirfd, "a.state", &info, map), 0);
	oldlen = read_file(fx->dirfd, "a.state", old, sizeof(old));

	/* A crash mid-write leaves a partial temporary: the sidecar is intact. */
	write_file(fx->dirfd, "a.state.tmp", old, oldlen / 2);
	assert_int_equal(sl_sidecar_read(fx->dirfd, "a.state", &got, &back), 0);
	assert_int_equal(sl_chunkmap_durable_count(back), 1);
	sl_chunkmap_destroy(back);

	/* A failure before the rename (the temporary cannot be opened) keeps the old one. */
	unlinkat(fx->dirfd, "a.state.tmp", 0);
	assert_int_equal(mkdirat(fx->dirfd, "a.state.tmp", 0755), 0);
	sl_chunkmap_set_durable(map, 1);
	assert_int_equal(sl_sidecar_write(fx->dirfd, "a.state", &info, map), -EISDIR);
	nowlen = read_file(fx->dirfd, "a.state", now, sizeof(now));
	assert_int_equal(nowlen, oldlen);
	assert_memory_equal(now, old, oldlen);
	assert_int_equal(unlinkat(fx->dirfd, "a.state.tmp", AT_REMOVEDIR), 0);

	/* A stale temporary is replaced; the new content appears whole. */
	write_file(fx->dirfd, "a.state.tmp", (const uint8_t *)"garbage", 7);
	assert_int_equal(sl_sidecar_write(fx->dirfd, "a.state", &info, map), 0);
	assert_int_equal(faccessat(fx->dirfd, "a.state.tmp", F_OK, 0), -1);
	assert_int_equal(sl_sidecar_read(fx->dirfd, "a.state", &got, &back), 0);
	assert_int_equal(sl_chunkmap_durable_count(back), 2);
	assert_int_equal(sl_chunkmap_durable_upto(back), 2);
	sl_chunkmap_destroy(back);
	sl_chunkmap_destroy(map);
}

/* What the seam's callback sees in the middle of an update. */
struct mid_seen {
	int dirfd;
	unsigned calls;
	bool tmp_whole;  /* the temporary is the complete new sidecar */
	int old_durable; /* the sidecar under its name still the old one */
};

static void
mid_cb(void *arg)
{
	struct mid_seen *m = arg;
	struct sl_sidecar_info got;
	struct sl_chunkmap *back = NULL;

	m->calls++;
	m->tmp_whole = sl_sidecar_read(m->dirfd, "m.state.tmp", &got, &back) == 0 &&
		       sl_chunkmap_durable_count(back) == 2;
	sl_chunkmap_destroy(back);
	back = NULL;
	if (sl_sidecar_read(m->dirfd, "m.state", &got, &back) == 0)
		m->old_durable = (int)sl_chunkmap_durable_count(back);
	sl_chunkmap_destroy(back);
}

/* sl_sidecar_write_ex(): the middle of an update is reached once, with the
 * new sidecar whole under its temporary name and the old one in place; the
 * unsynced variant writes the same bytes. */
static void
test_sidecar_write_ex(void **state)
{
	struct fixture *fx = *state;
	struct mid_seen m = { .dirfd = fx->dirfd, .old_durable = -1 };
	struct sl_sidecar_info info, got;
	struct sl_chunkmap *map = sl_chunkmap_create(4), *back = NULL;
	uint8_t a[512], b[512];
	size_t alen, blen;

	assert_non_null(map);
	make_info(&info, 4 * 4096, 4096, "mid");
	sl_chunkmap_set_durable(map, 0);
	assert_int_equal(sl_sidecar_write(fx->dirfd, "m.state", &info, map), 0);
	sl_chunkmap_set_durable(map, 3);
	assert_int_equal(sl_sidecar_write_ex(fx->dirfd, "m.state", &info, map, 0, mid_cb, &m), 0);
	assert_int_equal(m.calls, 1);
	assert_true(m.tmp_whole);
	assert_int_equal(m.old_durable, 1);
	assert_int_equal(sl_sidecar_read(fx->dirfd, "m.state", &got, &back), 0);
	assert_int_equal(sl_chunkmap_durable_count(back), 2);
	sl_chunkmap_destroy(back);
	alen = read_file(fx->dirfd, "m.state", a, sizeof(a));
	assert_int_equal(sl_sidecar_write_ex(fx->dirfd, "n.state", &info, map, SL_SIDECAR_NO_SYNC,
					     NULL, NULL),
			 0);
	blen = read_file(fx->dirfd, "n.state", b, sizeof(b));
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_int_equal(faccessat(fx->dirfd, "n.state.tmp", F_OK, 0), -1);
	sl_chunkmap_destroy(map);
}

static void
test_sidecar_corruption(void **state)
{
	struct fixture *fx = *state;
	struct sl_sidecar_info info;
	struct sl_chunkmap *map = sl_chunkmap_create(21);
	uint8_t good[512], bad[512];
	size_t len;

	assert_non_null(map);
	make_info(&info, 20 * 4096 + 5, 4096, "p/q.bin");
	for (uint32_t i = 0; i < 21; i += 2)
		sl_chunkmap_set_durable(map, i);
	assert_int_equal(sl_sidecar_write(fx->dirfd, "c.state", &info, map), 0);
	len = read_file(fx->dirfd, "c.state", good, sizeof(good));
	assert_int_equal(len, 58 + 7 + 3 + 4);
	assert_memory_equal(good, "SLSC\0\0\0\1", 8);

	/* Every single byte changed, with several patterns. */
	for (size_t i = 0; i < len; i++) {
		static const uint8_t xors[] = { 0x01, 0x80, 0xFF, 0x5A };

		for (unsigned k = 0; k < SL_ARRAY_SIZE(xors); k++) {
			memcpy(bad, good, len);
			bad[i] ^= xors[k];
			write_file(fx->dirfd, "x.state", bad, len);
			if (read_back(fx->dirfd, "x.state") != -EBADMSG)
				fail_msg("byte %zu ^ 0x%02x accepted", i, xors[k]);
		}
	}
	/* Unchanged copy is accepted. */
	write_file(fx->dirfd, "x.state", good, len);
	assert_int_equal(read_back(fx->dirfd, "x.state"), 0);

	/* Truncation at every length, and one extra byte. */
	for (size_t l = 0; l < len; l++) {
		write_file(fx->dirfd, "x.state", good, l);
		if (read_back(fx->dirfd, "x.state") != -EBADMSG)
			fail_msg("truncated to %zu accepted", l);
	}
	memcpy(bad, good, len);
	bad[len] = 0;
	write_file(fx->dirfd, "x.state", bad, len + 1);
	assert_int_equal(read_back(fx->dirfd, "x.state"), -EBADMSG);

	/* Wrong version with a valid CRC. */
	memcpy(bad, good, len);
	bad[7] = 2;
	fix_crc(bad, len);
	write_file(fx->dirfd, "x.state", bad, len);
	assert_int_equal(read_back(fx->dirfd, "x.state"), -EBADMSG);

	/* Inconsistent nb_chunks (22 for 21 chunks' worth of bytes), valid CRC. */
	memcpy(bad, good, len);
	assert_int_equal(bad[55], 21);
	bad[55] = 22;
	fix_crc(bad, len);
	write_file(fx->dirfd, "x.state", bad, len);
	assert_int_equal(read_back(fx->dirfd, "x.state"), -EBADMSG);

	/* chunk_size not a multiple of 4096, valid CRC. */
	memcpy(bad, good, len);
	bad[51] = 1;
	fix_crc(bad, len);
	write_file(fx->dirfd, "x.state", bad, len);
	assert_int_equal(read_back(fx->dirfd, "x.state"), -EBADMSG);

	/* path_len too long for the file, valid CRC. */
	memcpy(bad, good, len);
	bad[56] = 0xFF;
	fix_crc(bad, len);
	write_file(fx->dirfd, "x.state", bad, len);
	assert_int_equal(read_back(fx->dirfd, "x.state"), -EBADMSG);

	/* A NUL inside the path, valid CRC. */
	memcpy(bad, good, len);
	bad[60] = 0;
	fix_crc(bad, len);
	write_file(fx->dirfd, "x.state", bad, len);
	assert_int_equal(read_back(fx->dirfd, "x.state"), -EBADMSG);

	/* A bit set past nb_chunks in the last bitmap byte, valid CRC. */
	memcpy(bad, good, len);
	bad[len - 5] |= 0x80;
	fix_crc(bad, len);
	write_file(fx->dirfd, "x.state", bad, len);
	assert_int_equal(read_back(fx->dirfd, "x.state"), -EBADMSG);

	/* The helper itself must not mask errors: good data with a fixed CRC passes. */
	memcpy(bad, good, len);
	fix_crc(bad, len);
	assert_memory_equal(bad, good, len);

	/* Not a regular file, and a symlink to a good sidecar. */
	assert_int_equal(mkdirat(fx->dirfd, "d.state", 0755), 0);
	assert_int_equal(read_back(fx->dirfd, "d.state"), -EBADMSG);
	assert_int_equal(symlinkat("c.state", fx->dirfd, "l.state"), 0);
	assert_int_equal(read_back(fx->dirfd, "l.state"), -EBADMSG);
	sl_chunkmap_destroy(map);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunkmap_sizes),
		cmocka_unit_test(test_chunkmap_upto),
		cmocka_unit_test(test_chunkmap_ranges),
		cmocka_unit_test(test_chunkmap_ranges_large),
		cmocka_unit_test(test_chunkfill_orders),
		cmocka_unit_test(test_chunkfill_invalid),
		cmocka_unit_test(test_chunkfill_cap),
		cmocka_unit_test(test_chunkfill_random),
		cmocka_unit_test(test_crc_vector),
		cmocka_unit_test(test_sidecar_roundtrip),
		cmocka_unit_test(test_sidecar_write_invalid),
		cmocka_unit_test(test_sidecar_atomic),
		cmocka_unit_test(test_sidecar_write_ex),
		cmocka_unit_test(test_sidecar_corruption),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
