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
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sl_pcap.h"
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

static void
test_parse(void **state)
{
	unsigned w = 99;
	uint64_t seq = 99;

	assert_int_equal(sl_series_parse("sluice",
					 "sluice_20261122T101500.123456789Z_w03_000042.pcapng", &w,
					 &seq),
			 1);
	assert_int_equal(w, 3);
	assert_int_equal(seq, 42);
	assert_int_equal(sl_series_parse("sluice",
					 "sluice_20261122T101500.123456789Z_w00_1234567.pcap.part",
					 &w, &seq),
			 1);
	assert_int_equal(w, 0);
	assert_int_equal(seq, 1234567);
	assert_int_equal(sl_series_parse("a_b",
					 "a_b_20261122T101500.123456789Z_w12_000009.pcap.corrupt",
					 &w, &seq),
			 1);
	assert_int_equal(w, 12);
	assert_int_equal(seq, 9);
	assert_int_equal(sl_series_parse("x",
					 "x_20261122T101500.123456789Z_w01_000002.recovered1.pcap",
					 NULL, NULL),
			 1);
	/* Another series, whose prefix merely starts the same. */
	assert_int_equal(
		sl_series_parse("a", "a_b_20261122T101500.123456789Z_w12_000009.pcap", NULL, NULL),
		0);
	assert_int_equal(
		sl_series_parse("ab", "a_20261122T101500.123456789Z_w12_000009.pcap", NULL, NULL),
		0);
	/* Not the shape of a series name. */
	assert_int_equal(
		sl_series_parse("x", "x_20261122T101500.12345678Z_w01_000002.pcap", NULL, NULL), 0);
	assert_int_equal(
		sl_series_parse("x", "x_20261122T101500.123456789Z_w1_000002.pcap", NULL, NULL), 0);
	assert_int_equal(
		sl_series_parse("x", "x_20261122T101500.123456789Z_w01_00002.pcap", NULL, NULL), 0);
	assert_int_equal(
		sl_series_parse("x", "x_20261122T101500.123456789Z_w01_000002", NULL, NULL), 0);
	assert_int_equal(
		sl_series_parse("x", "x_20261122T101500.123456789Z_w01_000002.", NULL, NULL), 0);
	assert_int_equal(sl_series_parse("x",
					 "x_20261122T101500.123456789Z_w01_00000000000000000002"
					 "1.pcap",
					 NULL, NULL),
			 0);
	assert_int_equal(sl_series_parse("x", "x", NULL, NULL), 0);
	assert_int_equal(sl_series_parse("x", "", NULL, NULL), 0);
}

/* ---- capture files built by hand ---- */

#define T0 1700000000123456789ull
#define MAX_FILE (1u << 20)

struct cap {
	uint8_t *data;
	size_t size;
	size_t ends[64]; /* end of the header, then of each record */
	unsigned nb;     /* records */
};

/* A capture of @p n records of 60..(60 + 37 * 10) bytes; no frame ends in a zero byte
 * unless @p zero_last, which makes the last one do so. */
static void
cap_build(struct cap *c, enum sl_pcap_format fmt, unsigned n, bool zero_last)
{
	struct sl_pcap_iface ifc[2] = { { "p0", NULL, 65535 }, { "p1", "second", 65535 } };
	uint8_t frame[512];

	c->data = calloc(1, MAX_FILE);
	assert_non_null(c->data);
	c->size = sl_pcap_header_write(fmt, c->data, ifc, 2);
	c->ends[0] = c->size;
	c->nb = n;
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = 60 + 37 * (i % 11);

		for (uint32_t j = 0; j < len; j++)
			frame[j] = (uint8_t)(1 + (i * 7 + j) % 250);
		if (zero_last && i == n - 1)
			frame[len - 1] = 0;
		c->size += sl_pcap_record_write_flat(fmt, c->data + c->size, T0 + i * 1000u, i % 2,
						     frame, len, len + 4);
		c->ends[i + 1] = c->size;
	}
}

static void
walk_expect(const void *data, size_t size, uint64_t records, uint64_t kept, bool clean)
{
	struct sl_series_walk w;

	assert_int_equal(sl_series_walk(data, size, &w), 0);
	assert_true(w.header_ok);
	assert_int_equal(w.records, records);
	assert_int_equal(w.kept, kept);
	assert_int_equal(w.clean_end, clean);
	if (clean)
		assert_string_equal(w.why, "");
	else
		assert_true(w.why[0] != '\0');
}

static void
test_walk_whole_and_torn(void **state)
{
	for (int fmt = 0; fmt < 2; fmt++) {
		struct cap c;

		cap_build(&c, (enum sl_pcap_format)fmt, 20, false);
		/* Whole. */
		walk_expect(c.data, c.size, 20, c.size, true);
		/* Header only. */
		walk_expect(c.data, c.ends[0], 0, c.ends[0], true);
		/* Cut inside the 10th record's header (pcap 16, EPB 28 bytes). */
		walk_expect(c.data, c.ends[9] + 7, 9, c.ends[9], false);
		/* Cut inside its data. */
		walk_expect(c.data, c.ends[9] + 40, 9, c.ends[9], false);
		/* One byte short of whole. */
		walk_expect(c.data, c.size - 1, 19, c.ends[19], false);
		/* Zeros after the last record: O_DIRECT padding and preallocation. */
		walk_expect(c.data, ((c.size + 4095) & ~(size_t)4095) + 65536, 20, c.size, false);
		/* A few zeros only, fewer than a record header. */
		walk_expect(c.data, c.size + 3, 20, c.size, false);
		free(c.data);
	}
}

static void
test_walk_pcap_zero_tail(void **state)
{
	struct cap c;
	struct sl_series_walk w;

	/* The last record's data ends in zeros and zeros follow: its tail may never have been
	 * written, so it goes. */
	cap_build(&c, SL_PCAP_FORMAT_PCAP, 10, true);
	walk_expect(c.data, c.size + 4096, 9, c.ends[9], false);
	/* At a clean end of file it stays. */
	walk_expect(c.data, c.size, 10, c.size, true);
	/* Followed by a torn record instead of zeros, it goes too. */
	memcpy(c.data + c.size, c.data + c.ends[0], 30);
	walk_expect(c.data, c.size + 30, 9, c.ends[9], false);
	memset(c.data + c.size, 0, 30);
	/* A record whose second half never reached the disk (zeros), then zeros. */
	memset(c.data + c.ends[9] + 30, 0, c.size - c.ends[9] - 30);
	walk_expect(c.data, c.size + 100, 9, c.ends[9], false);
	assert_int_equal(sl_series_walk(c.data, c.size + 100, &w), 0);
	assert_non_null(strstr(w.why, "zeros"));
	free(c.data);
}

static void
test_walk_pcapng_torn_epb(void **state)
{
	struct sl_series_walk w;
	struct cap c;
	uint32_t bad;

	cap_build(&c, SL_PCAP_FORMAT_PCAPNG, 12, false);
	/* A torn EPB: whole length present but its trailing length is zeros (the rest of the
	 * block never written), then zeros. */
	memset(c.data + c.size - 30, 0, 30);
	walk_expect(c.data, c.size + 8192, 11, c.ends[11], false);
	free(c.data);
	/* A trailing length that differs. */
	cap_build(&c, SL_PCAP_FORMAT_PCAPNG, 12, false);
	bad = 0x1234;
	memcpy(c.data + c.ends[6] - 4, &bad, 4);
	walk_expect(c.data, c.size, 5, c.ends[5], false);
	free(c.data);
	/* A partially written block header: type present, length zero. */
	cap_build(&c, SL_PCAP_FORMAT_PCAPNG, 3, false);
	memset(c.data + c.ends[2] + 4, 0, c.size - c.ends[2] - 4);
	walk_expect(c.data, c.size + 4096, 2, c.ends[2], false);
	/* The second IDB is torn: the SHB and the first IDB are kept, no record. */
	assert_int_equal(sl_series_walk(c.data, c.ends[0] - 10, &w), 0);
	assert_int_equal(w.records, 0);
	assert_true(w.kept > 28 && w.kept < c.ends[0] - 10);
	assert_false(w.clean_end);
	free(c.data);
}

static void
test_walk_no_header(void **state)
{
	struct sl_series_walk w;
	uint8_t junk[4096];
	struct cap c;

	memset(junk, 0, sizeof(junk));
	assert_int_equal(sl_series_walk(junk, 0, &w), -EBADMSG);
	assert_false(w.header_ok);
	assert_int_equal(sl_series_walk(junk, sizeof(junk), &w), -EBADMSG);
	assert_true(w.why[0] != '\0');
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	assert_int_equal(sl_series_walk(junk, sizeof(junk), &w), -EBADMSG);
	/* A header cut short. */
	cap_build(&c, SL_PCAP_FORMAT_PCAP, 1, false);
	assert_int_equal(sl_series_walk(c.data, 20, &w), -EBADMSG);
	free(c.data);
}

/* ---- recovery of a directory ---- */

#define NAME(w, seq, ext) "cap_20231114T221320.123456789Z_w0" #w "_00000" #seq "." ext

struct seen {
	unsigned n;
	struct sl_series_recovery r[16];
	char part[16][SL_SERIES_NAME_MAX];
	char name[16][SL_SERIES_NAME_MAX + 64];
	char why[16][256];
};

static void
on_file(void *arg, const struct sl_series_recovery *r)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	s->r[s->n] = *r;
	snprintf(s->part[s->n], sizeof(s->part[0]), "%s", r->part);
	snprintf(s->name[s->n], sizeof(s->name[0]), "%s", r->name);
	snprintf(s->why[s->n], sizeof(s->why[0]), "%s", r->why);
	/* The strings belong to the recovery: only the copies live on. */
	s->r[s->n].part = s->part[s->n];
	s->r[s->n].name = s->name[s->n];
	s->r[s->n].why = s->why[s->n];
	s->n++;
}

static void
put_file(const char *dir, const char *name, const void *data, size_t size, off_t extend)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, size), (ssize_t)size);
	if (extend > 0)
		assert_int_equal(ftruncate(fd, (off_t)size + extend), 0);
	close(fd);
}

static bool
exists(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* The file reads cleanly to its end with @p records packets. */
static void
check_valid(const char *dir, const char *name, uint64_t records)
{
	struct sl_pcap_reader r;
	struct sl_pcap_packet pkt;
	uint8_t *buf = malloc(MAX_FILE);
	char path[512];
	ssize_t n;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, MAX_FILE);
	assert_true(n > 0);
	close(fd);
	assert_int_equal(sl_pcap_reader_open(&r, buf, (size_t)n), 0);
	while ((rc = sl_pcap_reader_next(&r, &pkt)) == 1)
		;
	assert_int_equal(rc, 0);
	assert_int_equal(r.packets, records);
	free(buf);
}

static void
make_dir(char *dir, size_t len)
{
	const char *base = getenv("SL_TEST_TMPDIR");

	snprintf(dir, len, "%s/series-XXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
}

static void
remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void
test_recover_dir(void **state)
{
	struct cap ng, pc, hdr;
	struct seen s = { 0 };
	uint8_t junk[1000];
	char dir[256], path[512];
	uint64_t seq;
	int lockfd;

	make_dir(dir, sizeof(dir));
	cap_build(&ng, SL_PCAP_FORMAT_PCAPNG, 30, false);
	cap_build(&pc, SL_PCAP_FORMAT_PCAP, 30, false);
	cap_build(&hdr, SL_PCAP_FORMAT_PCAPNG, 0, false);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);

	/* 1: pcapng, torn in its last EPB, then 1 MiB of preallocated zeros. */
	put_file(dir, NAME(0, 1, "pcapng.part"), ng.data, ng.ends[29] + 50, 1 << 20);
	/* 2: pcap cut inside a record header. */
	put_file(dir, NAME(0, 2, "pcap.part"), pc.data, pc.ends[17] + 9, 0);
	/* 3: empty. */
	put_file(dir, NAME(0, 3, "pcapng.part"), "", 0, 0);
	/* 4: only zeros (preallocated, never written). */
	put_file(dir, NAME(0, 4, "pcapng.part"), "", 0, 4 << 20);
	/* 5: a header and nothing else. */
	put_file(dir, NAME(0, 5, "pcapng.part"), hdr.data, hdr.size, 4096);
	/* 6: garbage. */
	put_file(dir, NAME(0, 6, "pcap.part"), junk, sizeof(junk), 0);
	/* 7: whole, but its final name is taken. */
	put_file(dir, NAME(1, 7, "pcap.part"), pc.data, pc.size, 0);
	put_file(dir, NAME(1, 7, "pcap"), "x", 1, 0);
	/* 8: still locked by a live writer. */
	put_file(dir, NAME(1, 8, "pcapng.part"), ng.data, ng.size, 0);
	snprintf(path, sizeof(path), "%s/%s", dir, NAME(1, 8, "pcapng.part"));
	lockfd = open(path, O_RDONLY);
	assert_true(lockfd >= 0);
	assert_int_equal(flock(lockfd, LOCK_EX | LOCK_NB), 0);
	/* Not of this series, or not a capture writer's part file. */
	put_file(dir, "other_20231114T221320.123456789Z_w00_000001.pcap.part", junk, 100, 0);
	put_file(dir, NAME(0, 9, "txt.part"), junk, 100, 0);

	assert_int_equal(sl_series_recover(dir, "cap", 100, on_file, &s), 8);
	assert_int_equal(s.n, 8);

	/* In name order: writer 0's first. */
	assert_string_equal(s.part[0], NAME(0, 1, "pcapng.part"));
	assert_int_equal(s.r[0].action, SL_SERIES_RECOVERED);
	assert_string_equal(s.name[0], NAME(0, 1, "pcapng"));
	assert_false(s.r[0].renamed_aside);
	assert_int_equal(s.r[0].records, 29);
	assert_int_equal(s.r[0].kept_bytes, ng.ends[29]);
	assert_int_equal(s.r[0].size, ng.ends[29] + 50 + (1 << 20));
	assert_int_equal(s.r[0].trimmed_bytes, 50 + (1 << 20));
	check_valid(dir, NAME(0, 1, "pcapng"), 29);

	assert_int_equal(s.r[1].action, SL_SERIES_RECOVERED);
	assert_int_equal(s.r[1].records, 17);
	assert_int_equal(s.r[1].kept_bytes, pc.ends[17]);
	assert_int_equal(s.r[1].trimmed_bytes, 9);
	assert_non_null(strstr(s.why[1], "truncated"));
	check_valid(dir, NAME(0, 2, "pcap"), 17);

	assert_int_equal(s.r[2].action, SL_SERIES_REMOVED_EMPTY);
	assert_false(exists(dir, NAME(0, 3, "pcapng")));
	assert_int_equal(s.r[3].action, SL_SERIES_REMOVED_EMPTY);
	assert_int_equal(s.r[3].trimmed_bytes, 4 << 20);
	assert_false(exists(dir, NAME(0, 4, "pcapng")));
	assert_int_equal(s.r[4].action, SL_SERIES_REMOVED_NO_RECORD);
	assert_false(exists(dir, NAME(0, 5, "pcapng")));

	assert_int_equal(s.r[5].action, SL_SERIES_CORRUPT);
	assert_string_equal(s.name[5], NAME(0, 6, "pcap.corrupt"));
	assert_true(exists(dir, NAME(0, 6, "pcap.corrupt")));
	assert_false(exists(dir, NAME(0, 6, "pcap")));

	assert_int_equal(s.r[6].action, SL_SERIES_RECOVERED);
	assert_true(s.r[6].renamed_aside);
	assert_string_equal(s.name[6], "cap_20231114T221320.123456789Z_w01_000007.recovered1.pcap");
	assert_int_equal(s.r[6].trimmed_bytes, 0);
	check_valid(dir, s.name[6], 30);

	assert_int_equal(s.r[7].action, SL_SERIES_BUSY);
	assert_true(exists(dir, NAME(1, 8, "pcapng.part")));
	close(lockfd);

	/* Nothing else was touched, and no .part of the series is left but the busy one. */
	assert_true(exists(dir, "other_20231114T221320.123456789Z_w00_000001.pcap.part"));
	assert_true(exists(dir, NAME(0, 9, "txt.part")));
	for (int i = 1; i <= 7; i++) {
		char n1[128], n2[128];

		snprintf(n1, sizeof(n1), "cap_20231114T221320.123456789Z_w0%d_00000%d.pcap.part",
			 i == 7, i);
		snprintf(n2, sizeof(n2), "cap_20231114T221320.123456789Z_w0%d_00000%d.pcapng.part",
			 i == 7, i);
		assert_false(exists(dir, n1));
		assert_false(exists(dir, n2));
	}

	/* The numbers used stay used: writer 0 up to 9 (even the removed files' are past). */
	assert_int_equal(sl_series_last_seq(dir, "cap", 0, &seq), 0);
	assert_int_equal(seq, 9);
	assert_int_equal(sl_series_last_seq(dir, "cap", 1, &seq), 0);
	assert_int_equal(seq, 8);
	assert_int_equal(sl_series_last_seq(dir, "cap", 2, &seq), 0);
	assert_int_equal(seq, 0);

	/* Once the lock is gone, the last one is recovered too; a second pass has nothing. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(sl_series_recover(dir, "cap", 100, on_file, &s), 1);
	assert_int_equal(s.r[0].action, SL_SERIES_RECOVERED);
	assert_int_equal(s.r[0].trimmed_bytes, 0);
	check_valid(dir, NAME(1, 8, "pcapng"), 30);
	assert_int_equal(sl_series_recover(dir, "cap", 100, NULL, NULL), 0);

	assert_int_equal(sl_series_recover(dir, "", 100, NULL, NULL), -EINVAL);
	assert_int_equal(sl_series_recover(dir, "a/b", 100, NULL, NULL), -EINVAL);
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(sl_series_recover(path, "cap", 100, NULL, NULL), -ENOENT);
	assert_int_equal(sl_series_last_seq(path, "cap", 0, &seq), -ENOENT);
	assert_int_equal(sl_series_last_seq(dir, "a b", 0, &seq), -EINVAL);

	remove_dir(dir);
	free(ng.data);
	free(pc.data);
	free(hdr.data);
}

/* The lock of a writer that is gone (closed) no longer blocks; one that is still open
 * blocks for the time given, not longer. */
static void
test_recover_lock_wait(void **state)
{
	struct seen s = { 0 };
	char dir[256], path[512];
	struct cap c;
	int fd;

	make_dir(dir, sizeof(dir));
	cap_build(&c, SL_PCAP_FORMAT_PCAP, 3, false);
	put_file(dir, NAME(0, 1, "pcap.part"), c.data, c.size, 0);
	snprintf(path, sizeof(path), "%s/%s", dir, NAME(0, 1, "pcap.part"));
	fd = open(path, O_RDONLY);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(sl_series_recover(dir, "cap", 0, on_file, &s), 1);
	assert_int_equal(s.r[0].action, SL_SERIES_BUSY);
	assert_int_equal(s.r[0].kept_bytes, c.size);
	close(fd);
	memset(&s, 0, sizeof(s));
	assert_int_equal(sl_series_recover(dir, "cap", 0, on_file, &s), 1);
	assert_int_equal(s.r[0].action, SL_SERIES_RECOVERED);
	assert_int_equal(s.r[0].records, 3);
	remove_dir(dir);
	free(c.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_validates_prefix),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_names_sort_in_time_order),
		cmocka_unit_test(test_rotation_due),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_walk_whole_and_torn),
		cmocka_unit_test(test_walk_pcap_zero_tail),
		cmocka_unit_test(test_walk_pcapng_torn_epb),
		cmocka_unit_test(test_walk_no_header),
		cmocka_unit_test(test_recover_dir),
		cmocka_unit_test(test_recover_lock_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
