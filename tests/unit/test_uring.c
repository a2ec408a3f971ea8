/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "sl_bufpool.h"
#include "sl_common.h"
#include "sl_stats.h"
#include "sl_uring.h"
#include "uring_probe.h"

#define BUF_SIZE 65536u
#define NB_BUFS 8u
/* A test waits this long at most for its completions before it fails. */
#define WAIT_LOOPS 5000

/* One fixture per test: a directory, a pool of registered buffers and an engine. */
struct fixture {
	char dir[512];
	void *mem;
	struct sl_bufpool pool;
	struct sl_io_stats st;
	struct sl_uring *u;
};

/* What the completion callback saw. */
#define MAX_DONE 256
struct done_log {
	unsigned n;
	uint64_t cookie[MAX_DONE];
	int res[MAX_DONE];
};

/* What the fault seam saw, and what it does. */
enum fault_mode {
	FAULT_NONE,
	FAULT_SHORT_FIRST, /* first write completion: report `arg` bytes */
	FAULT_ERR_FIRST,   /* first write completion: report -arg */
	FAULT_ERR_FSYNC,   /* every fsync completion: report -arg */
	FAULT_ALWAYS,      /* every write completion: report `arg` bytes */
	FAULT_ERR_AT,      /* first write completion at offset `at`: report -arg */
	FAULT_SHORT_TWICE, /* first write completion: report `arg` bytes, second: `arg2` */
};

#define MAX_SEEN 64
struct fault {
	enum fault_mode mode;
	int arg;
	int arg2;
	uint64_t at;
	bool fired;
	unsigned calls;
	int kind[MAX_SEEN];
	uint64_t offset[MAX_SEEN];
	uint32_t len[MAX_SEEN];
	int res[MAX_SEEN];
};

static int
fault_fn(void *arg, int kind, uint64_t offset, uint32_t len, int res)
{
	struct fault *f = arg;
	unsigned call = f->calls++;

	if (call < MAX_SEEN) {
		f->kind[call] = kind;
		f->offset[call] = offset;
		f->len[call] = len;
		f->res[call] = res;
	}
	switch (f->mode) {
	case FAULT_SHORT_FIRST:
		return kind == 0 && call == 0 ? f->arg : res;
	case FAULT_ERR_FIRST:
		return kind == 0 && call == 0 ? -f->arg : res;
	case FAULT_ERR_FSYNC:
		return kind == 1 ? -f->arg : res;
	case FAULT_ALWAYS:
		return kind == 0 ? f->arg : res;
	case FAULT_SHORT_TWICE:
		if (kind == 0 && call < 2)
			return call == 0 ? f->arg : f->arg2;
		return res;
	case FAULT_ERR_AT:
		if (kind == 0 && offset == f->at && !f->fired) {
			f->fired = true;
			return -f->arg;
		}
		return res;
	default:
		return res;
	}
}

static void
on_done(void *arg, uint64_t cookie, int res)
{
	struct done_log *d = arg;

	assert_true(d->n < MAX_DONE);
	d->cookie[d->n] = cookie;
	d->res[d->n] = res;
	d->n++;
}

/* Submit, wait and reap until @p want operations have finished. */
static void
run_until(struct sl_uring *u, struct done_log *d, unsigned want)
{
	for (unsigned loop = 0; d->n < want; loop++) {
		assert_true(loop < WAIT_LOOPS);
		sl_uring_submit(u);
		sl_uring_wait(u, 1000);
		sl_uring_reap(u, on_done, d);
	}
	assert_int_equal(d->n, want);
}

static void
pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 31 + seed * 17 + (i >> 9)) ^ (seed >> 2));
}

static void
check_file(const char *path, const uint8_t *want, size_t n)
{
	uint8_t *got = malloc(n + 1);
	struct stat sb;
	int fd = open(path, O_RDONLY);

	assert_non_null(got);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_size, n);
	assert_int_equal(pread(fd, got, n + 1, 0), (ssize_t)n);
	assert_memory_equal(got, want, n);
	close(fd);
	free(got);
}

static int
setup(void **state)
{
	const char *base = getenv("SL_TEST_TMPDIR");
	struct sl_uring_params p = { 0 };
	struct fixture *fx = calloc(1, sizeof(*fx));
	size_t mem;
	int err = 0;

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "%s/uring-XXXXXX", base ? base : "/tmp");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	mem = sl_bufpool_mem_size(BUF_SIZE, 0, NB_BUFS);
	fx->mem = aligned_alloc(SL_DIRECT_ALIGN, mem);
	if (fx->mem == NULL || sl_bufpool_init(&fx->pool, fx->mem, BUF_SIZE, 0, NB_BUFS) < 0)
		return -1;
	p.depth = 32;
	p.max_files = 4;
	p.max_ops = 64;
	p.pool = &fx->pool;
	p.stats = &fx->st;
	p.tsc_hz = 2000000000ull;
	fx->u = sl_uring_create(&p, &err);
	if (fx->u == NULL) {
		fprintf(stderr, "sl_uring_create: %s\n", strerror(-err));
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	struct dirent *de;
	DIR *d;

	sl_uring_destroy(fx->u);
	sl_bufpool_fini(&fx->pool);
	free(fx->mem);
	d = opendir(fx->dir);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			char path[1024];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", fx->dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Opens @p name in the fixture directory; @p direct asks for O_DIRECT. */
static int
open_file(struct fixture *fx, const char *name, bool direct, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s", fx->dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | (direct ? O_DIRECT : 0), 0644);
	assert_true(fd >= 0);
	return fd;
}

static void
test_create_rejects_bad_params(void **state)
{
	struct sl_io_stats st = { 0 };
	struct sl_uring_params p = { .depth = 8, .max_ops = 8, .stats = &st };
	struct sl_uring *u;
	int err = 0;

	p.depth = 0;
	assert_null(sl_uring_create(&p, &err));
	assert_int_equal(err, -EINVAL);
	p.depth = 8;
	p.max_ops = 0;
	err = 0;
	assert_null(sl_uring_create(&p, &err));
	assert_int_equal(err, -EINVAL);
	p.max_ops = 8;
	p.stats = NULL;
	err = 0;
	assert_null(sl_uring_create(&p, &err));
	assert_int_equal(err, -EINVAL);
	/* Without a pool nothing is registered; create and destroy work. */
	p.stats = &st;
	u = sl_uring_create(&p, &err);
	assert_non_null(u);
	assert_false(sl_uring_buffers_registered(u));
	assert_int_equal(sl_uring_outstanding(u), 0);
	/* Nothing in flight: wait returns at once, reap finds nothing. */
	sl_uring_wait(u, 1000000);
	assert_int_equal(sl_uring_submit(u), 0);
	assert_int_equal(sl_uring_reap(u, on_done, NULL), 0);
	sl_uring_destroy(u);
	sl_uring_destroy(NULL);
}

/* Buffers of the pool written to an O_DIRECT file (fixed buffers when registered). */
static void
test_write_direct_readback(void **state)
{
	struct fixture *fx = *state;
	size_t total = NB_BUFS * BUF_SIZE;
	uint8_t *want = malloc(total);
	struct done_log d = { 0 };
	char path[1024];
	int fd, slot;

	assert_non_null(want);
	fd = open_file(fx, "direct.bin", true, path, sizeof(path));
	slot = sl_uring_file_add(fx->u, fd, SL_DIRECT_ALIGN);
	assert_true(slot >= 0);
	/* Written in reverse order, so the file is right only if offsets are honoured. */
	for (unsigned i = 0; i < NB_BUFS; i++) {
		unsigned b = NB_BUFS - 1 - i;

		pattern(sl_bufpool_addr(&fx->pool, b), BUF_SIZE, b);
		memcpy(want + (size_t)b * BUF_SIZE, sl_bufpool_addr(&fx->pool, b), BUF_SIZE);
		assert_int_equal(sl_uring_write(fx->u, slot, (int)b, sl_bufpool_addr(&fx->pool, b),
						BUF_SIZE, (uint64_t)b * BUF_SIZE, 100 + b),
				 0);
	}
	assert_int_equal(sl_uring_outstanding(fx->u), NB_BUFS);
	run_until(fx->u, &d, NB_BUFS);
	for (unsigned i = 0; i < NB_BUFS; i++)
		assert_int_equal(d.res[i], BUF_SIZE);
	assert_int_equal(sl_uring_outstanding(fx->u), 0);
	assert_int_equal(fx->st.writes, NB_BUFS);
	assert_int_equal(fx->st.write_bytes, total);
	assert_int_equal(fx->st.errors, 0);
	assert_int_equal(fx->st.short_writes, 0);
	/* Latency is measured for every write when tsc_hz is given. */
	assert_int_equal(fx->st.lat_count, NB_BUFS);
	assert_int_equal(fx->st.inflight, 0);
	assert_int_equal(fx->st.pending, 0);
	check_file(path, want, total);
	sl_uring_file_remove(fx->u, slot);
	close(fd);
	print_message("buffers registered: %s\n",
		      sl_uring_buffers_registered(fx->u) ? "yes" : "no");
	free(want);
}

/* Unaligned lengths and offsets on a plain file, from pool buffers and from other memory. */
static void
test_write_buffered_readback(void **state)
{
	struct fixture *fx = *state;
	/* Each fits in its pool buffer after the 7-byte offset. */
	static const uint32_t lens[] = { 1, 1000, 4097, BUF_SIZE - 7, 333 };
	uint8_t *want = calloc(1, 200000);
	uint8_t *heap = malloc(5000);
	struct done_log d = { 0 };
	uint64_t off = 0;
	char path[1024];
	int fd, slot;

	assert_non_null(want);
	assert_non_null(heap);
	fd = open_file(fx, "plain.bin", false, path, sizeof(path));
	slot = sl_uring_file_add(fx->u, fd, 1);
	assert_true(slot >= 0);
	for (unsigned i = 0; i < SL_ARRAY_SIZE(lens); i++) {
		uint8_t *src = sl_bufpool_addr(&fx->pool, i) + 7;

		pattern(src, lens[i], i + 40);
		memcpy(want + off, src, lens[i]);
		assert_int_equal(sl_uring_write(fx->u, slot, (int)i, src, lens[i], off, i), 0);
		off += lens[i];
	}
	pattern(heap, 5000, 99);
	memcpy(want + off, heap, 5000);
	assert_int_equal(sl_uring_write(fx->u, slot, -1, heap, 5000, off, 77), 0);
	off += 5000;
	run_until(fx->u, &d, SL_ARRAY_SIZE(lens) + 1);
	for (unsigned i = 0; i < d.n; i++) {
		uint64_t c = d.cookie[i];

		assert_int_equal(d.res[i], c == 77 ? 5000 : (int)lens[c]);
	}
	check_file(path, want, off);
	sl_uring_file_remove(fx->u, slot);
	close(fd);
	free(heap);
	free(want);
}

/* Sixteen writes queued, one io_uring_enter. */
static void
test_batch_one_submit(void **state)
{
	struct fixture *fx = *state;
	struct done_log d = { 0 };
	uint8_t *src = sl_bufpool_addr(&fx->pool, 0);
	char path[1024];
	int fd, slot;

	fd = open_file(fx, "batch.bin", false, path, sizeof(path));
	slot = sl_uring_file_add(fx->u, fd, 1);
	assert_true(slot >= 0);
	pattern(src, 16 * 512, 5);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(sl_uring_write(fx->u, slot, 0, src + i * 512, 512, i * 512, i), 0);
	assert_int_equal(fx->st.submit_calls, 0);
	assert_int_equal(sl_uring_outstanding(fx->u), 16);
	assert_int_equal(sl_uring_submit(fx->u), 16);
	assert_int_equal(fx->st.submit_calls, 1);
	assert_int_equal(fx->st.sqes, 16);
	assert_int_equal(fx->st.max_batch, 16);
	assert_int_equal(sl_uring_outstanding(fx->u), 16);
	/* Nothing left to submit: no system call, no count. */
	assert_int_equal(sl_uring_submit(fx->u), 0);
	assert_int_equal(fx->st.submit_calls, 1);
	run_until(fx->u, &d, 16);
	assert_int_equal(fx->st.submit_calls, 1);
	assert_int_equal(fx->st.writes, 16);
	check_file(path, src, 16 * 512);
	sl_uring_file_remove(fx->u, slot);
	close(fd);
}

static void
test_fsync(void **state)
{
	struct fixture *fx = *state;
	struct done_log d = { 0 };
	struct sl_uring_watch w;
	char path[1024];
	int fd, slot, dirfd;

	/* Silence is counted from the watch's start until an operation finishes. */
	sl_uring_watch_start(fx->u, &w);
	usleep(2000);
	assert_true(sl_uring_silent_ns(fx->u, &w) >= 2000000ull);
	fd = open_file(fx, "sync.bin", false, path, sizeof(path));
	slot = sl_uring_file_add(fx->u, fd, 1);
	assert_true(slot >= 0);
	dirfd = open(fx->dir, O_RDONLY | O_DIRECTORY);
	assert_true(dirfd >= 0);
	assert_int_equal(sl_uring_fsync(fx->u, slot, false, 1), 0);
	assert_int_equal(sl_uring_fsync(fx->u, slot, true, 2), 0);
	assert_int_equal(sl_uring_fsync_fd(fx->u, dirfd, 3), 0);
	/* Latency runs from the queueing: 20 ms pass before any is reaped. */
	usleep(20000);
	run_until(fx->u, &d, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(d.res[i], 0);
	assert_int_equal(fx->st.fsyncs, 3);
	assert_int_equal(fx->st.errors, 0);
	/* Measured as fsyncs, not as writes. p.tsc_hz says 2 GHz, the TSC's own rate
	 * may be other (no EAL here to read it): 5 ms holds for any TSC above 0.5 GHz. */
	assert_int_equal(fx->st.fsync_lat_count, 3);
	assert_int_equal(fx->st.lat_count, 0);
	assert_true(fx->st.fsync_lat_max_ns >= 5000000ull);
	assert_true(fx->st.fsync_lat_max_ns <= fx->st.fsync_lat_sum_ns);
	assert_true(fx->st.fsync_lat_sum_ns <= 3 * fx->st.fsync_lat_max_ns);
	assert_int_equal(sl_uring_finished(fx->u), 3);
	assert_int_equal(sl_uring_silent_ns(fx->u, &w), 0);
	/* A long wait says so once per period of silence, skipping periods it missed;
	 * a finished operation starts the count again. */
	assert_false(sl_uring_watch_due(&w, 9, 10));
	assert_true(sl_uring_watch_due(&w, 10, 10));
	assert_false(sl_uring_watch_due(&w, 19, 10));
	assert_true(sl_uring_watch_due(&w, 45, 10));
	assert_false(sl_uring_watch_due(&w, 49, 10));
	assert_true(sl_uring_watch_due(&w, 50, 10));
	assert_false(sl_uring_watch_due(&w, 1000, 0));
	assert_int_equal(sl_uring_fsync(fx->u, slot, false, 4), 0);
	run_until(fx->u, &d, 4);
	assert_int_equal(sl_uring_silent_ns(fx->u, &w), 0);
	assert_true(sl_uring_watch_due(&w, 10, 10));
	sl_uring_file_remove(fx->u, slot);
	close(fd);
	close(dirfd);
}

static void
test_fsync_error(void **state)
{
	struct fixture *fx = *state;
	struct fault flt = { .mode = FAULT_ERR_FSYNC, .arg = EIO };
	struct done_log d = { 0 };
	char path[1024];
	int fd, slot;

	fd = open_file(fx, "syncerr.bin", false, path, sizeof(path));
	slot = sl_uring_file_add(fx->u, fd, 1);
	sl_uring_set_fault(fx->u, fault_fn, &flt);
	assert_int_equal(sl_uring_fsync(fx->u, slot, false, 9), 0);
	run_until(fx->u, &d, 1);
	assert_int_equal(d.cookie[0], 9);
	assert_int_equal(d.res[0], -EIO);
	assert_int_equal(flt.calls, 1);
	assert_int_equal(flt.kind[0], 1);
	assert_int_equal(fx->st.fsyncs, 0);
	assert_int_equal(fx->st.fsync_lat_count, 0);
	assert_int_equal(fx->st.errors, 1);
	assert_int_equal(fx->st.last_errno, EIO);
	sl_uring_file_remove(fx->u, slot);
	close(fd);
}

/* The seam says the first completion wrote 4000 of 10000 bytes: the rest is written again
 * from byte 4000 and the file is whole. */
static void
test_short_write_buffered(void **state)
{
	struct fixture *fx = *state;
	struct fault flt = { .mode = FAULT_SHORT_FIRST, .arg = 4000 };
	uint8_t *src = sl_bufpool_addr(&fx->pool, 1);
	struct done_log d = { 0 };
	char path[1024];
	int fd, slot;

	fd = open_file(fx, "short.bin", false, path, sizeof(path));
	slot = sl_uring_file_add(fx->u, fd, 1);
	pattern(src, 10000, 3);
	sl_uring_set_fault(fx->u, fault_fn, &flt);
	assert_int_equal(sl_uring_write(fx->u, slot, 1, src, 10000, 0, 5), 0);
	run_until(fx->u, &d, 1);
	assert_int_equal(d.res[0], 10000);
	assert_int_equal(flt.calls, 2);
	assert_int_equal(flt.offset[0], 0);
	assert_int_equal(flt.len[0], 10000);
	assert_int_equal(flt.offset[1], 4000);
	assert_int_equal(flt.len[1], 6000);
	assert_int_equal(flt.res[1], 6000);
	assert_int_equal(fx->st.short_writes, 1);
	assert_int_equal(fx->st.writes, 1);
	assert_int_equal(fx->st.write_bytes, 10000);
	assert_int_equal(fx->st.errors, 0);
	check_file(path, src, 10000);
	sl_uring_file_remove(fx->u, slot);
	close(fd);
}

/* Two short completions in a row: progress adds up, 4000 then 1000 leave 5000 to write. */
static void
test_short_write_twice(void **state)
{
	struct fixture *fx = *state;
	struct fault flt = { .mode = FAULT_SHORT_TWICE, .arg = 4000, .arg2 = 1000 };
	uint8_t *src = sl_bufpool_addr(&fx->pool, 1);
	struct done_log d = { 0 };
	char path[1024];
	int fd, slot;

	fd = open_file(fx, "short2.bin", false, path, sizeof(path));
	slot = sl_uring_file_add(fx->u, fd, 1);
	pattern(src, 10000, 4);
	sl_uring_set_fault(fx->u, fault_fn, &flt);
	assert_int_equal(sl_uring_write(fx->u, slot, 1, src, 10000, 100, 5), 0);
	run_until(fx->u, &d, 1);
	assert_int_equal(d.res[0], 10000);
	assert_int_equal(flt.calls, 3);
	assert_int_equal(flt.offset[1], 4100);
	assert_int_equal(flt.len[1], 6000);
	assert_int_equal(flt.offset[2], 5100);
	assert_int_equal(flt.len[2], 5000);
	assert_int_equal(fx->st.short_writes, 2);
	assert_int_equal(fx->st.writes, 1);
	sl_uring_file_remove(fx->u, slot);
	close(fd);
}

/* On an O_DIRECT file a short count of 5000 is taken back to 4096, the last aligned byte,
 * so that the remainder starts on a block. */
static void
test_short_write_direct_unaligned(void **state)
{
	struct fixture *fx = *state;
	struct fault flt = { .mode = FAULT_SHORT_FIRST, .arg = 5000 };
	uint8_t *src = sl_bufpool_addr(&fx->pool, 2);
	struct done_log d = { 0 };
	char path[1024];
	int fd, slot;

	fd = open_file(fx, "shortdirect.bin", true, path, sizeof(path));
	slot = sl_uring_file_add(fx->u, fd, SL_DIRECT_ALIGN);
	pattern(src, BUF_SIZE, 11);
	sl_uring_set_fault(fx->u, fault_fn, &flt);
	assert_int_equal(sl_uring_write(fx->u, slot, 2, src, BUF_SIZE, 0, 6), 0);
	run_until(fx->u, &d, 1);
	assert_int_equal(d.res[0], BUF_SIZE);
	assert_int_equal(flt.calls, 2);
	assert_int_equal(flt.offset[1], 4096);
	assert_int_equal(flt.len[1], BUF_SIZE - 4096);
	/* The kernel accepted the aligned remainder: O_DIRECT would refuse anything else. */
	assert_int_equal(flt.res[1], BUF_SIZE - 4096);
	assert_int_equal(fx->st.short_writes, 1);
	assert_int_equal(fx->st.errors, 0);
	check_file(path, src, BUF_SIZE);
	sl_uring_file_remove(fx->u, slot);
	close(fd);
}

/* A write that never makes progress fails with -EIO instead of spinning. */
static void
test_short_write_stall_fails(void **state)
{
	struct fixture *fx = *state;
	struct fault flt = { .mode = FAULT_ALWAYS, .arg = 100 };
	uint8_t *src = sl_bufpool_addr(&fx->pool, 3);
	struct done_log d = { 0 };
	char path[1024];
	int fd, slot;

	fd = open_file(fx, "stall.bin", true, path, sizeof(path));
	slot = sl_uring_file_add(fx->u, fd, SL_DIRECT_ALIGN);
	pattern(src, 8192, 1);
	sl_uring_set_fault(fx->u, fault_fn, &flt);
	assert_int_equal(sl_uring_write(fx->u, slot, 3, src, 8192, 0, 8), 0);
	run_until(fx->u, &d, 1);
	assert_int_equal(d.res[0], -EIO);
	assert_int_equal(flt.calls, 8);
	assert_int_equal(fx->st.short_writes, 8);
	assert_int_equal(fx->st.errors, 1);
	assert_int_equal(fx->st.last_errno, EIO);
	assert_int_equal(fx->st.writes, 0);
	assert_int_equal(sl_uring_outstanding(fx->u), 0);
	sl_uring_file_remove(fx->u, slot);
	close(fd);
}

static void
test_eagain_retried(void **state)
{
	struct fixture *fx = *state;
	struct fault flt = { .mode = FAULT_ERR_FIRST, .arg = EAGAIN };
	uint8_t *src = sl_bufpool_addr(&fx->pool, 4);
	struct done_log d = { 0 };
	char path[1024];
	int fd, slot;

	fd = open_file(fx, "eagain.bin", true, path, sizeof(path));
	slot = sl_uring_file_add(fx->u, fd, SL_DIRECT_ALIGN);
	pattern(src, 3 * 4096, 8);
	sl_uring_set_fault(fx->u, fault_fn, &flt);
	assert_int_equal(sl_uring_write(fx->u, slot, 4, src, 3 * 4096, 0, 1), 0);
	run_until(fx->u, &d, 1);
	assert_int_equal(d.res[0], 3 * 4096);
	assert_int_equal(flt.calls, 2);
	assert_int_equal(flt.offset[1], 0);
	assert_int_equal(flt.len[1], 3 * 4096);
	assert_int_equal(fx->st.retries, 1);
	assert_int_equal(fx->st.errors, 0);
	assert_int_equal(fx->st.writes, 1);
	check_file(path, src, 3 * 4096);
	sl_uring_file_remove(fx->u, slot);
	close(fd);
}

static void
check_write_error(struct fixture *fx, int err, uint64_t enospc)
{
	struct fault flt = { .mode = FAULT_ERR_AT, .arg = err, .at = 4096 };
	uint8_t *src = sl_bufpool_addr(&fx->pool, 5);
	struct done_log d = { 0 };
	char path[1024];
	int fd, slot;

	fd = open_file(fx, "err.bin", false, path, sizeof(path));
	slot = sl_uring_file_add(fx->u, fd, 1);
	pattern(src, 4096, 2);
	sl_uring_set_fault(fx->u, fault_fn, &flt);
	assert_int_equal(sl_uring_write(fx->u, slot, 5, src, 4096, 0, 42), 0);
	assert_int_equal(sl_uring_write(fx->u, slot, 5, src, 4096, 4096, 43), 0);
	run_until(fx->u, &d, 2);
	/* Only the write at 4096 failed, and only its callback says so. */
	for (unsigned i = 0; i < 2; i++) {
		if (d.cookie[i] == 43)
			assert_int_equal(d.res[i], -err);
		else
			assert_int_equal(d.res[i], 4096);
	}
	assert_int_equal(flt.calls, 2);
	assert_int_equal(fx->st.errors, 1);
	assert_int_equal(fx->st.enospc, enospc);
	assert_int_equal(fx->st.last_errno, err);
	assert_int_equal(fx->st.writes, 1);
	assert_int_equal(fx->st.retries, 0);
	assert_int_equal(sl_uring_outstanding(fx->u), 0);
	sl_uring_file_remove(fx->u, slot);
	close(fd);
	unlink(path);
}

static void
test_eio_reaches_callback(void **state)
{
	check_write_error(*state, EIO, 0);
}

static void
test_enospc_counted(void **state)
{
	check_write_error(*state, ENOSPC, 1);
}

/* max_ops bounds queued plus in-flight operations; completions give room back. */
static void
test_ebusy_and_outstanding(void **state)
{
	struct sl_io_stats st = { 0 };
	struct sl_uring_params p = { .depth = 4, .max_files = 1, .max_ops = 4, .stats = &st };
	struct fixture *fx = *state;
	uint8_t buf[4 * 100];
	struct done_log d = { 0 };
	struct sl_uring *u;
	char path[1024];
	int err = 0, fd, slot;

	u = sl_uring_create(&p, &err);
	assert_non_null(u);
	fd = open_file(fx, "busy.bin", false, path, sizeof(path));
	slot = sl_uring_file_add(u, fd, 1);
	assert_int_equal(slot, 0);
	pattern(buf, sizeof(buf), 6);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(sl_uring_write(u, slot, -1, buf + i * 100, 100, i * 100, i), 0);
		assert_int_equal(sl_uring_outstanding(u), i + 1);
	}
	assert_int_equal(sl_uring_fsync(u, slot, true, 3), 0);
	assert_int_equal(sl_uring_outstanding(u), 4);
	assert_int_equal(sl_uring_write(u, slot, -1, buf, 100, 0, 9), -EBUSY);
	assert_int_equal(sl_uring_fsync(u, slot, false, 9), -EBUSY);
	assert_int_equal(sl_uring_fsync_fd(u, fd, 9), -EBUSY);
	assert_int_equal(st.pending, 0); /* a gauge, updated by submit and reap */
	assert_int_equal(sl_uring_submit(u), 4);
	/* In the kernel now, still outstanding and still no room. */
	assert_int_equal(sl_uring_outstanding(u), 4);
	assert_int_equal(sl_uring_write(u, slot, -1, buf, 100, 0, 9), -EBUSY);
	run_until(u, &d, 4);
	assert_int_equal(sl_uring_outstanding(u), 0);
	assert_int_equal(sl_uring_write(u, slot, -1, buf + 300, 100, 300, 4), 0);
	run_until(u, &d, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(d.res[i], d.cookie[i] == 3 ? 0 : 100);
	check_file(path, buf, sizeof(buf));
	sl_uring_file_remove(u, slot);
	close(fd);
	sl_uring_destroy(u);
}

static void
test_file_table(void **state)
{
	struct sl_io_stats st = { 0 };
	struct sl_uring_params p = { .depth = 4, .max_files = 2, .max_ops = 4, .stats = &st };
	struct fixture *fx = *state;
	struct done_log d = { 0 };
	char path[1024];
	int err = 0, fd[3];
	struct sl_uring *u;

	u = sl_uring_create(&p, &err);
	assert_non_null(u);
	for (unsigned i = 0; i < 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "table%u.bin", i);
		fd[i] = open_file(fx, name, false, path, sizeof(path));
	}
	assert_int_equal(sl_uring_file_add(u, fd[0], 1), 0);
	assert_int_equal(sl_uring_file_add(u, fd[1], 1), 1);
	assert_int_equal(sl_uring_file_add(u, fd[2], 1), -ENFILE);
	/* Bad or free slots are ignored. */
	sl_uring_file_remove(u, -1);
	sl_uring_file_remove(u, 7);
	sl_uring_file_remove(u, 0);
	sl_uring_file_remove(u, 0);
	assert_int_equal(sl_uring_file_add(u, fd[2], 1), 0);
	/* The re-used slot now writes to the third file. */
	assert_int_equal(sl_uring_write(u, 0, -1, "third", 5, 0, 1), 0);
	run_until(u, &d, 1);
	assert_int_equal(d.res[0], 5);
	check_file(path, (const uint8_t *)"third", 5);
	sl_uring_file_remove(u, 0);
	sl_uring_file_remove(u, 1);
	for (unsigned i = 0; i < 3; i++)
		close(fd[i]);
	sl_uring_destroy(u);
}

/* SLUICE_FAULT_URING's syntax: defaults, every key, and what is refused. */
static void
test_fault_parse(void **state)
{
	struct sl_uring_fault_spec sp;
	char err[200];
	static const char *const bad[] = {
		"",
		"op",
		"op=read",
		"errno=EWHAT",
		"errno=0",
		"errno=4096",
		"after=-1",
		"after=1x",
		"count=",
		"writer=128",
		"colour=red",
		"errno=EAGAIN",
		"op=write,,errno=EIO=1",
		"after=99999999999999999999",
	};

	(void)state;
	assert_int_equal(sl_uring_fault_parse("errno=EIO", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.kinds, SL_URING_FAULT_WRITE);
	assert_int_equal(sp.error, EIO);
	assert_int_equal(sp.after, 0);
	assert_int_equal(sp.count, 0);
	assert_int_equal(sp.writer, -1);
	assert_int_equal(sl_uring_fault_parse("op=fsync,errno=ENOSPC,after=12,count=3,writer=1",
					      &sp, err, sizeof(err)),
			 0);
	assert_int_equal(sp.kinds, SL_URING_FAULT_FSYNC);
	assert_int_equal(sp.error, ENOSPC);
	assert_int_equal(sp.after, 12);
	assert_int_equal(sp.count, 3);
	assert_int_equal(sp.writer, 1);
	assert_int_equal(sl_uring_fault_parse("op=any,errno=28", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.kinds, SL_URING_FAULT_WRITE | SL_URING_FAULT_FSYNC);
	assert_int_equal(sp.error, ENOSPC);
	/* A retried error with a count ends; without one it would never. */
	assert_int_equal(sl_uring_fault_parse("errno=EAGAIN,count=2", &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.error, EAGAIN);
	assert_string_equal(sl_uring_fault_errno_name(EDQUOT), "EDQUOT");
	assert_null(sl_uring_fault_errno_name(9999));
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(sl_uring_fault_parse(bad[i], &sp, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(sl_uring_fault_parse(NULL, &sp, err, sizeof(err)), -EINVAL);
}

/* after=N passes N completions of the chosen kind, then count=K fail, then all pass. */
static void
test_fault_inject_counts(void **state)
{
	struct sl_uring_fault f = { 0 };
	char err[100];

	(void)state;
	assert_int_equal(sl_uring_fault_parse("op=write,errno=EIO,after=2,count=2", &f.spec, err,
					      sizeof(err)),
			 0);
	/* fsyncs neither fail nor count. */
	assert_int_equal(sl_uring_fault_inject(&f, 1, 0, 0, 0), 0);
	assert_int_equal(sl_uring_fault_inject(&f, 0, 0, 4096, 4096), 4096);
	assert_int_equal(sl_uring_fault_inject(&f, 0, 4096, 4096, 4096), 4096);
	assert_int_equal(sl_uring_fault_inject(&f, 1, 0, 0, 0), 0);
	assert_int_equal(sl_uring_fault_inject(&f, 0, 8192, 4096, 4096), -EIO);
	assert_int_equal(sl_uring_fault_inject(&f, 0, 12288, 4096, -ENOSPC), -EIO);
	assert_int_equal(sl_uring_fault_inject(&f, 0, 16384, 4096, 4096), 4096);
	assert_int_equal(f.seen, 5);
	assert_int_equal(f.fired, 2);
	/* count=0: every completion after the first fails. */
	memset(&f, 0, sizeof(f));
	assert_int_equal(
		sl_uring_fault_parse("op=any,errno=ENOSPC,after=1", &f.spec, err, sizeof(err)), 0);
	assert_int_equal(sl_uring_fault_inject(&f, 1, 0, 0, 0), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(sl_uring_fault_inject(&f, i % 2, 0, 4096, 4096), -ENOSPC);
}

/* The spec's fault, set on one engine, fails exactly its chosen completions there, and
 * nothing on another engine. */
static void
test_fault_on_engine(void **state)
{
	struct fixture *fx = *state;
	struct sl_io_stats st = { 0 };
	struct sl_uring_params p = { .depth = 8, .max_files = 2, .max_ops = 8, .stats = &st };
	struct sl_uring_fault f = { 0 };
	struct done_log d = { 0 };
	struct sl_uring *u, *u2;
	uint8_t *buf = aligned_alloc(SL_DIRECT_ALIGN, 4096);
	char path[1024], err[100];
	int fd, slot, rc = 0;

	assert_non_null(buf);
	memset(buf, 7, 4096);
	assert_int_equal(
		sl_uring_fault_parse("errno=EIO,after=1,count=1", &f.spec, err, sizeof(err)), 0);
	u = sl_uring_create(&p, &rc);
	assert_non_null(u);
	sl_uring_set_fault(u, sl_uring_fault_inject, &f);
	u2 = sl_uring_create(&p, &rc); /* no fault */
	assert_non_null(u2);
	fd = open_file(fx, "next.bin", false, path, sizeof(path));
	slot = sl_uring_file_add(u, fd, 1);
	assert_true(slot >= 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(sl_uring_write(u, slot, -1, buf, 4096, 4096ull * i, i), 0);
	run_until(u, &d, 3);
	assert_int_equal(d.res[0], 4096);
	assert_int_equal(d.res[1], -EIO);
	assert_int_equal(d.res[2], 4096);
	assert_int_equal(st.errors, 1);
	sl_uring_file_remove(u, slot);
	/* The second engine has no fault. */
	memset(&d, 0, sizeof(d));
	slot = sl_uring_file_add(u2, fd, 1);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(sl_uring_write(u2, slot, -1, buf, 4096, 4096ull * i, i), 0);
	run_until(u2, &d, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(d.res[i], 4096);
	assert_int_equal(f.seen, 3);
	sl_uring_file_remove(u2, slot);
	close(fd);
	sl_uring_destroy(u);
	sl_uring_destroy(u2);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rejects_bad_params),
		cmocka_unit_test_setup_teardown(test_write_direct_readback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_buffered_readback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_one_submit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsync_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_write_buffered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_write_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_write_direct_unaligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_write_stall_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eagain_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eio_reaches_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enospc_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ebusy_and_outstanding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_table, setup, teardown),
		cmocka_unit_test(test_fault_parse),
		cmocka_unit_test(test_fault_inject_counts),
		cmocka_unit_test_setup_teardown(test_fault_on_engine, setup, teardown),
	};

	if (!uring_available())
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
