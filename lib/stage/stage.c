/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>

#include "sl_stage.h"

#define WORD_BITS 64u

static inline uint64_t
nb_words(uint64_t nbits)
{
	return (nbits + WORD_BITS - 1) / WORD_BITS;
}

/*
 * First index >= from whose bit equals want_set, or nbits if none. Works a word
 * at a time so that maps of millions of chunks scan quickly; bits past nbits are
 * always zero, hence the clamp when looking for a clear bit.
 */
static uint64_t
find_next(const uint64_t *bits, uint64_t nbits, uint64_t from, bool want_set)
{
	uint64_t flip = want_set ? 0 : ~UINT64_C(0);
	uint64_t words = nb_words(nbits);
	uint64_t i, w, pos;

	if (from >= nbits)
		return nbits;
	i = from / WORD_BITS;
	w = (bits[i] ^ flip) & (~UINT64_C(0) << (from % WORD_BITS));
	while (w == 0) {
		if (++i >= words)
			return nbits;
		w = bits[i] ^ flip;
	}
	pos = i * WORD_BITS + (uint64_t)__builtin_ctzll(w);
	return pos < nbits ? pos : nbits;
}

static inline bool
bit_test(const uint64_t *bits, uint32_t idx)
{
	return (bits[idx / WORD_BITS] >> (idx % WORD_BITS)) & 1;
}

static inline void
bit_set(uint64_t *bits, uint32_t idx)
{
	bits[idx / WORD_BITS] |= UINT64_C(1) << (idx % WORD_BITS);
}

struct sl_chunkmap *
sl_chunkmap_create(uint32_t nb_chunks)
{
	struct sl_chunkmap *map;
	/* calloc(0) may return NULL; keep one word so pointers are never NULL. */
	size_t words = nb_chunks == 0 ? 1 : nb_words(nb_chunks);

	map = calloc(1, sizeof(*map));
	if (map == NULL)
		goto fail;
	map->nb_chunks = nb_chunks;
	map->received = calloc(words, sizeof(uint64_t));
	if (map->received == NULL)
		goto fail_map;
	map->durable = calloc(words, sizeof(uint64_t));
	if (map->durable == NULL)
		goto fail_received;
	return map;

fail_received:
	free(map->received);
fail_map:
	free(map);
fail:
	rte_errno = ENOMEM;
	return NULL;
}

void
sl_chunkmap_destroy(struct sl_chunkmap *map)
{
	if (map == NULL)
		return;
	free(map->received);
	free(map->durable);
	free(map);
}

int
sl_chunkmap_set_received(struct sl_chunkmap *map, uint32_t idx)
{
	if (idx >= map->nb_chunks)
		return -EINVAL;
	if (bit_test(map->received, idx))
		return 0;
	bit_set(map->received, idx);
	map->nb_received++;
	if (idx == map->received_upto)
		map->received_upto = (uint32_t)find_next(map->received, map->nb_chunks, idx, false);
	return 1;
}

int
sl_chunkmap_set_durable(struct sl_chunkmap *map, uint32_t idx)
{
	if (idx >= map->nb_chunks)
		return -EINVAL;
	if (bit_test(map->durable, idx))
		return 0;
	sl_chunkmap_set_received(map, idx);
	bit_set(map->durable, idx);
	map->nb_durable++;
	if (idx == map->durable_upto)
		map->durable_upto = (uint32_t)find_next(map->durable, map->nb_chunks, idx, false);
	return 1;
}

bool
sl_chunkmap_is_received(const struct sl_chunkmap *map, uint32_t idx)
{
	return idx < map->nb_chunks && bit_test(map->received, idx);
}

bool
sl_chunkmap_is_durable(const struct sl_chunkmap *map, uint32_t idx)
{
	return idx < map->nb_chunks && bit_test(map->durable, idx);
}

unsigned
sl_chunkmap_durable_ranges(const struct sl_chunkmap *map, uint32_t start, struct sl_range32 *out,
			   unsigned max, uint32_t *next)
{
	uint64_t pos = start, first;
	unsigned n = 0;

	while (n < max) {
		first = find_next(map->durable, map->nb_chunks, pos, true);
		if (first >= map->nb_chunks) {
			pos = map->nb_chunks;
			break;
		}
		pos = find_next(map->durable, map->nb_chunks, first, false);
		out[n].first = (uint32_t)first;
		out[n].count = (uint32_t)(pos - first);
		n++;
	}
	if (pos > map->nb_chunks)
		pos = map->nb_chunks;
	*next = (uint32_t)pos;
	return n;
}

/* Recompute counts and cursors after the bitmaps were filled in bulk. */
static void
chunkmap_recount(struct sl_chunkmap *map)
{
	uint64_t words = nb_words(map->nb_chunks), i;
	uint64_t received = 0, durable = 0;

	for (i = 0; i < words; i++) {
		received += (uint64_t)__builtin_popcountll(map->received[i]);
		durable += (uint64_t)__builtin_popcountll(map->durable[i]);
	}
	map->nb_received = (uint32_t)received;
	map->nb_durable = (uint32_t)durable;
	map->received_upto = (uint32_t)find_next(map->received, map->nb_chunks, 0, false);
	map->durable_upto = (uint32_t)find_next(map->durable, map->nb_chunks, 0, false);
}

int
sl_chunkfill_init(struct sl_chunkfill *f, uint32_t chunk_len)
{
	if (chunk_len == 0 || chunk_len > INT32_MAX)
		return -EINVAL;
	f->chunk_len = chunk_len;
	f->filled = 0;
	f->nb_refused = 0;
	f->nb_intervals = 0;
	return 0;
}

int
sl_chunkfill_add(struct sl_chunkfill *f, uint32_t off, uint32_t len)
{
	uint32_t end, lo, hi, covered = 0;
	unsigned first, last, i, n = f->nb_intervals;

	if (len == 0 || (uint64_t)off + len > f->chunk_len)
		return -EINVAL;
	end = off + len;

	/* First interval that ends at or after off: it may touch or overlap us. */
	for (first = 0; first < n && f->iv[first].end < off; first++)
		;
	/* Intervals [first, last) touch or overlap [off, end) and merge with it. */
	for (last = first; last < n && f->iv[last].start <= end; last++)
		;

	if (first == last) {
		if (n == SL_CHUNKFILL_MAX_INTERVALS) {
			f->nb_refused++;
			return -ENOSPC;
		}
		memmove(&f->iv[first + 1], &f->iv[first], (n - first) * sizeof(f->iv[0]));
		f->iv[first].start = off;
		f->iv[first].end = end;
		f->nb_intervals++;
		f->filled += len;
		return (int)len;
	}

	lo = off;
	hi = end;
	for (i = first; i < last; i++) {
		uint32_t s = f->iv[i].start > off ? f->iv[i].start : off;
		uint32_t e = f->iv[i].end < end ? f->iv[i].end : end;

		if (e > s)
			covered += e - s;
		if (f->iv[i].start < lo)
			lo = f->iv[i].start;
		if (f->iv[i].end > hi)
			hi = f->iv[i].end;
	}
	f->iv[first].start = lo;
	f->iv[first].end = hi;
	memmove(&f->iv[first + 1], &f->iv[last], (n - last) * sizeof(f->iv[0]));
	f->nb_intervals = (uint16_t)(n - (last - first - 1));
	f->filled += len - covered;
	return (int)(len - covered);
}

unsigned
sl_chunkfill_missing(const struct sl_chunkfill *f, struct sl_range64 *out, unsigned max,
		     uint64_t chunk_base)
{
	uint32_t pos = 0;
	unsigned i, n = 0;

	for (i = 0; i <= f->nb_intervals && n < max; i++) {
		uint32_t hole_end = i < f->nb_intervals ? f->iv[i].start : f->chunk_len;

		if (hole_end > pos) {
			out[n].offset = chunk_base + pos;
			out[n].length = hole_end - pos;
			n++;
		}
		if (i < f->nb_intervals)
			pos = f->iv[i].end;
	}
	return n;
}

#define SIDECAR_MAGIC "SLSC"
/* magic, version, identity, file_size, chunk_size, nb_chunks, path_len. */
#define SIDECAR_HEADER_LEN (4 + 4 + SL_SIDECAR_IDENTITY_LEN + 8 + 4 + 4 + 2)
#define SIDECAR_CRC_LEN 4
#define SIDECAR_MAX_LEN                                                                            \
	((uint64_t)SIDECAR_HEADER_LEN + SL_SIDECAR_PATH_MAX + (((uint64_t)UINT32_MAX + 7) / 8) +   \
	 SIDECAR_CRC_LEN)

static uint32_t
crc32c(const void *p, size_t n)
{
	return ~rte_hash_crc(p, (uint32_t)n, 0xFFFFFFFF);
}

static void
put_be(uint8_t *p, uint64_t v, unsigned bytes)
{
	while (bytes-- > 0) {
		p[bytes] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
get_be(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < bytes; i++)
		v = (v << 8) | p[i];
	return v;
}

/* The consistency rules shared by writer and reader, path aside. */
static bool
geometry_ok(uint64_t file_size, uint32_t chunk_size, uint32_t nb_chunks)
{
	uint64_t want;

	if (chunk_size == 0 || chunk_size % SL_SIDECAR_CHUNK_ALIGN != 0)
		return false;
	want = file_size / chunk_size + (file_size % chunk_size != 0);
	return want == nb_chunks;
}

static uint64_t
sidecar_len(uint16_t path_len, uint32_t nb_chunks)
{
	return SIDECAR_HEADER_LEN + path_len + ((uint64_t)nb_chunks + 7) / 8 + SIDECAR_CRC_LEN;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
sl_sidecar_write(int dirfd, const char *name, const struct sl_sidecar_info *info,
		 const struct sl_chunkmap *map)
{
	return sl_sidecar_write_ex(dirfd, name, info, map, 0, NULL, NULL);
}

int
sl_sidecar_write_ex(int dirfd, const char *name, const struct sl_sidecar_info *info,
		    const struct sl_chunkmap *map, unsigned flags, void (*mid)(void *arg),
		    void *arg)
{
	char tmp[NAME_MAX + 1];
	uint8_t *buf, *p, *bitmap;
	uint64_t len, nbytes, j;
	int fd, ret;

	if (info->path_len == 0 || info->path_len > SL_SIDECAR_PATH_MAX ||
	    memchr(info->path, '\0', info->path_len) != NULL ||
	    !geometry_ok(info->file_size, info->chunk_size, info->nb_chunks) ||
	    map->nb_chunks != info->nb_chunks)
		return -EINVAL;
	ret = snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if (ret < 0 || (size_t)ret >= sizeof(tmp))
		return -ENAMETOOLONG;

	len = sidecar_len(info->path_len, info->nb_chunks);
	buf = malloc(len);
	if (buf == NULL)
		return -ENOMEM;
	p = buf;
	memcpy(p, SIDECAR_MAGIC, 4);
	put_be(p + 4, SL_SIDECAR_VERSION, 4);
	memcpy(p + 8, info->identity, SL_SIDECAR_IDENTITY_LEN);
	p += 8 + SL_SIDECAR_IDENTITY_LEN;
	put_be(p, info->file_size, 8);
	put_be(p + 8, info->chunk_size, 4);
	put_be(p + 12, info->nb_chunks, 4);
	put_be(p + 16, info->path_len, 2);
	p += 18;
	memcpy(p, info->path, info->path_len);
	bitmap = p + info->path_len;
	nbytes = ((uint64_t)info->nb_chunks + 7) / 8;
	for (j = 0; j < nbytes; j++)
		bitmap[j] = (uint8_t)(map->durable[j / 8] >> (8 * (j % 8)));
	put_be(bitmap + nbytes, crc32c(buf, len - SIDECAR_CRC_LEN), 4);

	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		ret = -errno;
		goto out_free;
	}
	ret = write_all(fd, buf, len);
	if (ret == 0 && !(flags & SL_SIDECAR_NO_SYNC) && fdatasync(fd) != 0)
		ret = -errno;
	if (close(fd) != 0 && ret == 0)
		ret = -errno;
	if (ret != 0)
		goto out_unlink;
	if (mid != NULL)
		mid(arg);
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		ret = -errno;
		goto out_unlink;
	}
	/* The rename is only durable once the directory itself is synced. */
	if (!(flags & SL_SIDECAR_NO_SYNC) && fsync(dirfd) != 0)
		ret = -errno;
	goto out_free;

out_unlink:
	unlinkat(dirfd, tmp, 0);
out_free:
	free(buf);
	return ret;
}

static int
read_all(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EBADMSG; /* Shrank under us: not a usable sidecar. */
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Validate a whole sidecar image; every length is checked before it is used. */
static int
sidecar_parse(const uint8_t *buf, uint64_t len, struct sl_sidecar_info *info,
	      struct sl_chunkmap **mapp)
{
	const uint8_t *p = buf, *bitmap;
	struct sl_chunkmap *map;
	uint64_t nbytes, j;
	uint32_t last_bits;

	if (len < SIDECAR_HEADER_LEN + SIDECAR_CRC_LEN || memcmp(p, SIDECAR_MAGIC, 4) != 0 ||
	    get_be(p + 4, 4) != SL_SIDECAR_VERSION)
		return -EBADMSG;
	memcpy(info->identity, p + 8, SL_SIDECAR_IDENTITY_LEN);
	p += 8 + SL_SIDECAR_IDENTITY_LEN;
	info->file_size = get_be(p, 8);
	info->chunk_size = (uint32_t)get_be(p + 8, 4);
	info->nb_chunks = (uint32_t)get_be(p + 12, 4);
	info->path_len = (uint16_t)get_be(p + 16, 2);
	p += 18;
	if (!geometry_ok(info->file_size, info->chunk_size, info->nb_chunks) ||
	    info->path_len == 0 || info->path_len > SL_SIDECAR_PATH_MAX ||
	    sidecar_len(info->path_len, info->nb_chunks) != len)
		return -EBADMSG;
	if (crc32c(buf, len - SIDECAR_CRC_LEN) != get_be(buf + len - SIDECAR_CRC_LEN, 4))
		return -EBADMSG;
	if (memchr(p, '\0', info->path_len) != NULL)
		return -EBADMSG;
	memcpy(info->path, p, info->path_len);
	info->path[info->path_len] = '\0';

	bitmap = p + info->path_len;
	nbytes = ((uint64_t)info->nb_chunks + 7) / 8;
	last_bits = info->nb_chunks % 8;
	if (last_bits != 0 && (bitmap[nbytes - 1] >> last_bits) != 0)
		return -EBADMSG;

	map = sl_chunkmap_create(info->nb_chunks);
	if (map == NULL)
		return -ENOMEM;
	for (j = 0; j < nbytes; j++)
		map->durable[j / 8] |= (uint64_t)bitmap[j] << (8 * (j % 8));
	memcpy(map->received, map->durable, nb_words(info->nb_chunks) * sizeof(uint64_t));
	chunkmap_recount(map);
	*mapp = map;
	return 0;
}

int
sl_sidecar_read(int dirfd, const char *name, struct sl_sidecar_info *info, struct sl_chunkmap **map)
{
	struct stat st;
	uint8_t *buf;
	int fd, ret;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ELOOP ? -EBADMSG : -errno;
	if (fstat(fd, &st) != 0) {
		ret = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < SIDECAR_HEADER_LEN + SIDECAR_CRC_LEN ||
	    (uint64_t)st.st_size > SIDECAR_MAX_LEN) {
		ret = -EBADMSG;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size);
	if (buf == NULL) {
		ret = -ENOMEM;
		goto out_close;
	}
	ret = read_all(fd, buf, (size_t)st.st_size);
	if (ret == 0)
		ret = sidecar_parse(buf, (uint64_t)st.st_size, info, map);
	free(buf);
out_close:
	close(fd);
	return ret;
}
