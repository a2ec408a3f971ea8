/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/stage: the sidecar reader, and the chunk bookkeeping that DATA offsets
 * and sidecars drive.
 *
 * An input that starts with "SL" is a sidecar file (its magic is "SLSC"), as a
 * crash, a full disk or a hostile local user may leave it in
 * .sluice/staging: sl_sidecar_read() reads it as it is, and again with its
 * CRC32C made right, so that the fuzzer reaches the checks behind the CRC.
 * Invariants: a sidecar that reads has a consistent geometry (chunk size a
 * multiple of 4096, nb_chunks = ceil(size / chunk_size)), a path of 1..4095
 * bytes without NUL and NUL-terminated, a map of nb_chunks chunks whose
 * received bits equal its durable ones and whose counts and cursors match
 * the bits; and sl_sidecar_write() of what was read writes the very same
 * bytes (the format has one encoding).
 *
 * Any other input is a sequence of operations: on a chunk fill (a chunk of
 * 1..1024 bytes: sl_chunkfill_add() of any offset and length, as DATA
 * messages make them) and on a chunk map (sl_chunkmap_set_received/durable()
 * and sl_chunkmap_durable_ranges() paged with any start and max), each
 * checked against a plain array of bytes or bits: new-byte counts, refusals
 * (out of range, or more than 64 intervals), the sorted disjoint intervals,
 * the holes sl_chunkfill_missing() lists, counts, cursors and ranges.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "sl_stage.h"

#define MAX_CHUNK_LEN 1024u
#define MAX_MAP_CHUNKS 1024u

static char dir[PATH_MAX];
static int scratch_fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sl_sidecar_info info;
	struct sl_chunkmap *map = NULL;

	fuzz_scratch_dir("stage", dir);
	scratch_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (scratch_fd < 0)
		abort();
	/* What is not a regular sidecar file. */
	FUZZ_ASSERT(sl_sidecar_read(scratch_fd, "none", &info, &map) == -ENOENT);
	FUZZ_ASSERT(mkdirat(scratch_fd, "sub", 0755) == 0);
	FUZZ_ASSERT(sl_sidecar_read(scratch_fd, "sub", &info, &map) == -EBADMSG);
	FUZZ_ASSERT(symlinkat("/etc/passwd", scratch_fd, "link") == 0);
	FUZZ_ASSERT(sl_sidecar_read(scratch_fd, "link", &info, &map) == -EBADMSG);
	FUZZ_ASSERT(map == NULL);
	return 0;
}

static uint32_t
ref_crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78 : c >> 1;
	}
	return ~c;
}

static void
write_file(const char *name, const uint8_t *data, size_t size)
{
	int fd = openat(scratch_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(write(fd, data, size) == (ssize_t)size);
	close(fd);
}

static bool
bit(const uint64_t *bits, uint64_t i)
{
	return (bits[i / 64] >> (i % 64)) & 1;
}

/* Counts, cursors and unused bits of @p map agree with its bitmaps. */
static void
check_map(const struct sl_chunkmap *map)
{
	uint64_t words = (map->nb_chunks + 63) / 64;
	uint32_t received = 0, durable = 0, rupto = map->nb_chunks, dupto = map->nb_chunks;

	for (uint64_t i = 0; i < map->nb_chunks; i++) {
		bool r = bit(map->received, i), d = bit(map->durable, i);

		FUZZ_ASSERT(!d || r);
		received += r;
		durable += d;
		if (!r && rupto == map->nb_chunks)
			rupto = (uint32_t)i;
		if (!d && dupto == map->nb_chunks)
			dupto = (uint32_t)i;
	}
	for (uint64_t i = map->nb_chunks; i < words * 64; i++)
		FUZZ_ASSERT(!bit(map->received, i) && !bit(map->durable, i));
	FUZZ_ASSERT(sl_chunkmap_received_count(map) == received);
	FUZZ_ASSERT(sl_chunkmap_durable_count(map) == durable);
	FUZZ_ASSERT(sl_chunkmap_received_upto(map) == rupto);
	FUZZ_ASSERT(sl_chunkmap_durable_upto(map) == dupto);
	FUZZ_ASSERT(sl_chunkmap_complete(map) == (durable == map->nb_chunks));
}

/* Paging through the durable ranges, @p max at a time from @p start, finds exactly the bits. */
static void
check_ranges(const struct sl_chunkmap *map, uint32_t start, unsigned max)
{
	struct sl_range32 out[16];
	uint32_t pos = start, next, expect = start;
	unsigned n, rounds = 0;

	if (max == 0) {
		FUZZ_ASSERT(sl_chunkmap_durable_ranges(map, start, out, 0, &next) == 0);
		/* "start" (clamped to the end, as everywhere else). */
		FUZZ_ASSERT(next == (start < map->nb_chunks ? start : map->nb_chunks));
		return;
	}
	for (;;) {
		n = sl_chunkmap_durable_ranges(map, pos, out, max, &next);
		FUZZ_ASSERT(n <= max);
		for (unsigned i = 0; i < n; i++) {
			FUZZ_ASSERT(out[i].count > 0 && out[i].first >= expect);
			FUZZ_ASSERT((uint64_t)out[i].first + out[i].count <= map->nb_chunks);
			for (uint64_t c = expect; c < out[i].first; c++)
				FUZZ_ASSERT(!bit(map->durable, c));
			for (uint64_t c = out[i].first; c < (uint64_t)out[i].first + out[i].count;
			     c++)
				FUZZ_ASSERT(bit(map->durable, c));
			/* Maximal: the run ends at a clear bit or the end. */
			expect = out[i].first + out[i].count;
			FUZZ_ASSERT(expect == map->nb_chunks || !bit(map->durable, expect));
		}
		/* A page not filled up means the scan reached the end. */
		if (n < max)
			break;
		FUZZ_ASSERT(next == expect && next > pos);
		pos = next;
		FUZZ_ASSERT(++rounds <= map->nb_chunks + 1);
	}
	FUZZ_ASSERT(next == map->nb_chunks);
	for (uint64_t c = expect; c < map->nb_chunks; c++)
		FUZZ_ASSERT(!bit(map->durable, c));
}

static void
sidecar_once(const uint8_t *data, size_t size)
{
	struct sl_sidecar_info info;
	struct sl_chunkmap *map = NULL;
	uint8_t *back;
	struct stat st;
	int rc, fd;

	write_file("in", data, size);
	rc = sl_sidecar_read(scratch_fd, "in", &info, &map);
	FUZZ_ASSERT(rc == 0 || rc == -EBADMSG);
	if (rc != 0) {
		FUZZ_ASSERT(map == NULL);
		return;
	}
	FUZZ_ASSERT(map != NULL);
	FUZZ_ASSERT(info.chunk_size != 0 && info.chunk_size % SL_SIDECAR_CHUNK_ALIGN == 0);
	FUZZ_ASSERT(info.nb_chunks ==
		    info.file_size / info.chunk_size + (info.file_size % info.chunk_size != 0));
	FUZZ_ASSERT(info.path_len >= 1 && info.path_len <= SL_SIDECAR_PATH_MAX);
	FUZZ_ASSERT(info.path[info.path_len] == '\0' && strlen(info.path) == info.path_len);
	FUZZ_ASSERT(map->nb_chunks == info.nb_chunks);
	FUZZ_ASSERT(memcmp(map->received, map->durable, (map->nb_chunks + 63) / 64 * 8) == 0);
	check_map(map);
	check_ranges(map, 0, 16);

	/* The one encoding: written again, the same bytes. */
	FUZZ_ASSERT(sl_sidecar_write(scratch_fd, "out", &info, map) == 0);
	fd = openat(scratch_fd, "out", O_RDONLY | O_CLOEXEC);
	FUZZ_ASSERT(fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size == size);
	back = malloc(size);
	FUZZ_ASSERT(back != NULL && read(fd, back, size) == (ssize_t)size);
	FUZZ_ASSERT(memcmp(back, data, size) == 0);
	free(back);
	close(fd);
	FUZZ_ASSERT(faccessat(scratch_fd, "out.tmp", F_OK, 0) != 0);
	sl_chunkmap_destroy(map);
}

static void
sidecar(const uint8_t *data, size_t size)
{
	uint8_t *fixed;
	uint32_t crc;

	sidecar_once(data, size);
	if (size < 4)
		return;
	fixed = malloc(size);
	FUZZ_ASSERT(fixed != NULL);
	memcpy(fixed, data, size);
	crc = ref_crc32c(fixed, size - 4);
	fixed[size - 4] = (uint8_t)(crc >> 24);
	fixed[size - 3] = (uint8_t)(crc >> 16);
	fixed[size - 2] = (uint8_t)(crc >> 8);
	fixed[size - 1] = (uint8_t)crc;
	sidecar_once(fixed, size);
	free(fixed);
}

/* The runs of set bytes of @p have, as the intervals must be. */
static void
check_fill(const struct sl_chunkfill *f, const uint8_t *have)
{
	struct sl_range64 holes[SL_CHUNKFILL_MAX_INTERVALS + 1];
	uint32_t filled = 0, pos = 0;
	unsigned runs = 0, n;

	for (uint32_t i = 0; i < f->chunk_len; i++) {
		filled += have[i];
		if (have[i] && (i == 0 || !have[i - 1])) {
			FUZZ_ASSERT(runs < f->nb_intervals && f->iv[runs].start == i);
			runs++;
		}
		if (have[i] && (i + 1 == f->chunk_len || !have[i + 1]))
			FUZZ_ASSERT(f->iv[runs - 1].end == i + 1);
	}
	FUZZ_ASSERT(runs == f->nb_intervals && f->filled == filled);
	FUZZ_ASSERT(sl_chunkfill_full(f) == (filled == f->chunk_len));
	n = sl_chunkfill_missing(f, holes, SL_CHUNKFILL_MAX_INTERVALS + 1, 1000);
	FUZZ_ASSERT((n == 0) == (filled == f->chunk_len));
	for (unsigned i = 0; i < n; i++) {
		FUZZ_ASSERT(holes[i].length > 0 && holes[i].offset >= 1000 + (uint64_t)pos);
		for (uint64_t b = holes[i].offset - 1000;
		     b < holes[i].offset - 1000 + holes[i].length; b++)
			FUZZ_ASSERT(!have[b]);
		pos = (uint32_t)(holes[i].offset - 1000 + holes[i].length);
		FUZZ_ASSERT(pos == f->chunk_len || have[pos]);
	}
	if (n > 1)
		FUZZ_ASSERT(sl_chunkfill_missing(f, holes, 1, 0) == 1);
}

/* How many runs the bytes would form with [off, off + len) set too. */
static unsigned
runs_with(const uint8_t *have, uint32_t chunk_len, uint32_t off, uint32_t len)
{
	unsigned runs = 0;
	bool prev = false;

	for (uint32_t i = 0; i < chunk_len; i++) {
		bool cur = have[i] || (i >= off && i - off < len);

		runs += cur && !prev;
		prev = cur;
	}
	return runs;
}

static void
operations(struct fuzz_input *in)
{
	static uint8_t have[MAX_CHUNK_LEN];
	static uint64_t bits_r[MAX_MAP_CHUNKS / 64], bits_d[MAX_MAP_CHUNKS / 64];
	struct sl_chunkfill f;
	struct sl_chunkmap *map;
	uint32_t chunk_len = 1 + fuzz_u16(in) % MAX_CHUNK_LEN;
	uint32_t nb_chunks = fuzz_u16(in) % (MAX_MAP_CHUNKS + 1);

	FUZZ_ASSERT(sl_chunkfill_init(&f, 0) == -EINVAL);
	FUZZ_ASSERT(sl_chunkfill_init(&f, (uint32_t)INT32_MAX + 1) == -EINVAL);
	FUZZ_ASSERT(sl_chunkfill_init(&f, chunk_len) == 0);
	memset(have, 0, chunk_len);
	map = sl_chunkmap_create(nb_chunks);
	FUZZ_ASSERT(map != NULL && map->nb_chunks == nb_chunks);
	memset(bits_r, 0, sizeof(bits_r));
	memset(bits_d, 0, sizeof(bits_d));

	while (in->left > 0) {
		uint8_t op = fuzz_u8(in);
		uint32_t a, b;
		int rc;

		switch (op % 4) {
		case 0: /* chunk fill: small numbers around the chunk, or any 32-bit ones */
			if (op & 0x80) {
				a = fuzz_u32(in);
				b = fuzz_u32(in);
			} else {
				a = fuzz_u16(in) % (chunk_len + 2);
				b = fuzz_u16(in) % (chunk_len + 2);
			}
			rc = sl_chunkfill_add(&f, a, b);
			if (b == 0 || (uint64_t)a + b > chunk_len) {
				FUZZ_ASSERT(rc == -EINVAL);
			} else if (runs_with(have, chunk_len, a, b) > SL_CHUNKFILL_MAX_INTERVALS) {
				FUZZ_ASSERT(rc == -ENOSPC && f.nb_refused > 0);
			} else {
				int fresh = 0;

				for (uint32_t i = a; i < a + b; i++) {
					fresh += !have[i];
					have[i] = 1;
				}
				FUZZ_ASSERT(rc == fresh);
			}
			check_fill(&f, have);
			break;
		case 1:
		case 2: /* chunk map: received (1) or durable (2) */
			a = op & 0x80 ? fuzz_u32(in) : fuzz_u16(in) % (nb_chunks + 2);
			rc = op % 4 == 1 ? sl_chunkmap_set_received(map, a)
					 : sl_chunkmap_set_durable(map, a);
			if (a >= nb_chunks) {
				FUZZ_ASSERT(rc == -EINVAL);
				FUZZ_ASSERT(!sl_chunkmap_is_received(map, a) &&
					    !sl_chunkmap_is_durable(map, a));
				break;
			}
			if (op % 4 == 1) {
				FUZZ_ASSERT(rc == !bit(bits_r, a));
			} else {
				FUZZ_ASSERT(rc == !bit(bits_d, a));
				bits_d[a / 64] |= UINT64_C(1) << (a % 64);
			}
			bits_r[a / 64] |= UINT64_C(1) << (a % 64);
			FUZZ_ASSERT(sl_chunkmap_is_received(map, a));
			FUZZ_ASSERT(sl_chunkmap_is_durable(map, a) == bit(bits_d, a));
			FUZZ_ASSERT(memcmp(map->received, bits_r, (nb_chunks + 63) / 64 * 8) == 0);
			FUZZ_ASSERT(memcmp(map->durable, bits_d, (nb_chunks + 63) / 64 * 8) == 0);
			check_map(map);
			break;
		default: /* durable ranges, paged */
			a = op & 0x80 ? fuzz_u32(in) : fuzz_u16(in) % (nb_chunks + 2);
			check_ranges(map, a, fuzz_u8(in) % 17);
			break;
		}
	}
	sl_chunkmap_destroy(map);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };

	if (size > 256 * 1024)
		return -1;
	if (size >= 2 && data[0] == 'S' && data[1] == 'L')
		sidecar(data, size);
	else
		operations(&in);
	return 0;
}
