/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "sl_common.h"
#include "sl_safepath.h"
#include "session_priv.h"

/* ---- small helpers ---- */

uint32_t
sfile_chunk_len(const struct sfile *f, uint32_t idx)
{
	uint64_t base = (uint64_t)idx * f->chunk_size;

	return idx + 1 < f->nb_chunks ? f->chunk_size : (uint32_t)(f->size - base);
}

static inline bool
digest_known(const struct sfile *f, uint32_t i)
{
	return (f->dknown[i / 64] >> (i % 64)) & 1;
}

static void
put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* Staging identity: SHA-256(path | size u64 | chunk_size u32 | file_sha256). */
static void
manifest_identity(const struct sl_proto_manifest *m, uint8_t out[SL_PROTO_SHA256_SIZE])
{
	struct sl_sha256 h;
	uint8_t tail[12];

	put_be(tail, m->size, 8);
	put_be(tail + 8, m->chunk_size, 4);
	if (sl_sha256_init(&h) < 0) {
		memset(out, 0, SL_PROTO_SHA256_SIZE);
		return;
	}
	sl_sha256_update(&h, m->path, m->path_len);
	sl_sha256_update(&h, tail, sizeof(tail));
	sl_sha256_update(&h, m->file_sha256, SL_PROTO_SHA256_SIZE);
	sl_sha256_final(&h, out);
}

/* 56-bit fingerprint of every MANIFEST field but the digests: tells a
 * repeat from a changed manifest for the same file_id. */
static uint64_t
manifest_fingerprint(const struct sl_proto_manifest *m, const uint8_t identity[32])
{
	uint8_t buf[32 + 4 + 8], out[SL_PROTO_SHA256_SIZE];
	uint64_t fp = 0;

	memcpy(buf, identity, 32);
	put_be(buf + 32, m->mode, 4);
	put_be(buf + 36, (uint64_t)m->mtime_ns, 8);
	sl_sha256(buf, sizeof(buf), out);
	for (unsigned i = 0; i < 7; i++)
		fp = fp << 8 | out[i];
	return fp;
}

static void
record_final(struct sl_session_engine *e, struct session *s, uint32_t file_id, uint64_t fp,
	     uint8_t status)
{
	/* Out of memory, or a session past SESSION_MAX_FINALS files (which a
	 * hostile sender could otherwise grow without bound), only costs the
	 * memory of this status for repeats: a repeated MANIFEST is then handled
	 * as new (an OK file answers EXISTS). */
	if (s->finals.nb >= SESSION_MAX_FINALS && htab_find(&s->finals, file_id) == NULL) {
		s->finals_dropped++;
		e->st->finals_forgotten++;
		return;
	}
	(void)htab_put(&s->finals, file_id, fp << 8 | status);
}

/* The staged data file's and the sidecar's names of an identity (both @p len bytes). */
static void
staged_names(const uint8_t identity[SL_SIDECAR_IDENTITY_LEN], char *data, char *state, size_t len)
{
	char hex[2 * SL_SIDECAR_IDENTITY_LEN + 1];

	for (unsigned i = 0; i < SL_SIDECAR_IDENTITY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", identity[i]);
	snprintf(data, len, "%s.data", hex);
	snprintf(state, len, "%s.state", hex);
}

/* Remove the receipt (the kept sidecar) of a published file, unless a new
 * transfer of the same identity has staged data beside it (the sidecar is then
 * that transfer's). */
static void
receipt_remove(struct sl_session_engine *e, const uint8_t identity[SL_SIDECAR_IDENTITY_LEN])
{
	char data[2 * SL_SIDECAR_IDENTITY_LEN + 16], state[sizeof(data)];
	struct stat st;

	staged_names(identity, data, state, sizeof(data));
	if (fstatat(e->stagefd, data, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		unlinkat(e->stagefd, state, 0);
}

/* Keep the receipt of a file published in @p s until the sender's BYE. A session
 * past SESSION_MAX_FINALS receipts (or out of memory) removes it at once: a resend
 * after a crash then answers EXISTS, as a forgotten status does. */
static void
receipt_keep(struct sl_session_engine *e, struct session *s,
	     const uint8_t identity[SL_SIDECAR_IDENTITY_LEN])
{
	if (s->nb_receipts == s->cap_receipts) {
		uint32_t cap = s->cap_receipts != 0 ? 2 * s->cap_receipts : 16;
		void *p = NULL;

		if (cap <= SESSION_MAX_FINALS)
			p = realloc(s->receipts, (size_t)cap * sizeof(*s->receipts));
		if (p == NULL) {
			receipt_remove(e, identity);
			return;
		}
		s->receipts = p;
		s->cap_receipts = cap;
	}
	memcpy(s->receipts[s->nb_receipts++], identity, SL_SIDECAR_IDENTITY_LEN);
}

void
sfile_receipts_release(struct sl_session_engine *e, struct session *s)
{
	for (uint32_t i = 0; i < s->nb_receipts; i++)
		receipt_remove(e, s->receipts[i]);
	e->st->receipts_released += s->nb_receipts;
	s->nb_receipts = 0;
}

/* ---- chunk buffers ---- */

static struct cbuf *
cb(struct sl_session_engine *e, uint32_t bi)
{
	return &e->cbufs[bi];
}

static uint32_t
find_buf(struct sl_session_engine *e, const struct sfile *f, uint32_t idx)
{
	for (uint32_t bi = f->bufs; bi != NONE; bi = cb(e, bi)->next)
		if (cb(e, bi)->idx == idx)
			return bi;
	return NONE;
}

static void
buf_unlink(struct sl_session_engine *e, struct sfile *f, uint32_t bi)
{
	uint32_t *link = &f->bufs;

	while (*link != NONE && *link != bi)
		link = &cb(e, *link)->next;
	if (*link == bi)
		*link = cb(e, bi)->next;
}

static void
buf_put(struct sl_session_engine *e, uint32_t bi)
{
	cb(e, bi)->state = CB_FREE;
	cb(e, bi)->f = NULL;
	sl_bufpool_put(&e->pool, bi);
}

/* A session's count of buffers filling or held (its share of the pool). */
static void
filling_start(struct sfile *f)
{
	if (f->s != NULL)
		f->s->nb_filling++;
}

static void
filling_end(struct sfile *f)
{
	if (f->s != NULL && f->s->nb_filling > 0)
		f->s->nb_filling--;
}

/* Buffers one session may fill at once when others want some too. */
static unsigned
fair_share(const struct sl_session_engine *e)
{
	uint64_t n = e->st->sessions_active > 0 ? e->st->sessions_active : 1;
	unsigned q = (unsigned)(e->p.nb_bufs / n);

	return q < 2 ? 2 : q;
}

/*
 * Free one partial chunk so that chunk @nidx of @nf gets a buffer. With
 * @only set, the victim is that session's own chunk furthest ahead that is
 * less urgent: later in the same file, or (when @nidx is the lowest chunk
 * its file waits for) any chunk that is not the lowest of its own file. With
 * @only NULL, any such partial chunk of a session above its fair share.
 * Without this, chunks ahead could hold every buffer while the chunk all of
 * them wait for finds none: a transfer would stall for good. The victim's
 * bytes are simply requested again (they retire when the chunk is written).
 */
static bool
evict_one(struct sl_session_engine *e, const struct session *only, const struct sfile *nf,
	  uint32_t nidx)
{
	const bool urgent = nidx == sl_chunkmap_received_upto(nf->map);
	const unsigned share = fair_share(e);
	struct sfile *best_f = NULL;
	uint32_t best = NONE, best_idx = 0;

	for (struct sfile *f = e->files; f != NULL; f = f->next) {
		uint32_t head;

		if (f->s == NULL || f->state != F_ACTIVE)
			continue;
		if (only != NULL ? f->s != only : f->s->nb_filling <= share)
			continue;
		head = sl_chunkmap_received_upto(f->map);
		for (uint32_t bi = f->bufs; bi != NONE; bi = cb(e, bi)->next) {
			const struct cbuf *b = cb(e, bi);

			if (b->state != CB_FILLING || b->idx == head)
				continue;
			if (only != NULL && !(f == nf ? b->idx > nidx : urgent))
				continue;
			if (best == NONE || b->idx > best_idx) {
				best = bi;
				best_f = f;
				best_idx = b->idx;
			}
		}
	}
	if (best == NONE)
		return false;
	buf_unlink(e, best_f, best);
	filling_end(best_f);
	buf_put(e, best);
	e->st->chunks_evicted++;
	return true;
}

/* Drop the chunks in memory that are not being written: partial ones and
 * those waiting for a digest. Their bytes leave the buffers (credit). */
static void
discard_bufs(struct sl_session_engine *e, struct sfile *f)
{
	uint32_t bi = f->bufs, next;

	for (; bi != NONE; bi = next) {
		struct cbuf *b = cb(e, bi);

		next = b->next;
		if (b->state == CB_WRITING)
			continue;
		filling_end(f);
		f->retired_bytes += b->fill.filled;
		if (f->s != NULL)
			f->s->retired += b->fill.filled;
		buf_unlink(e, f, bi);
		buf_put(e, bi);
	}
}

/* ---- file lifetime ---- */

static void
file_free(struct sl_session_engine *e, struct sfile *f)
{
	if (f->slot >= 0 && e->io != NULL)
		sl_uring_file_remove(e->io, f->slot);
	if (f->fd >= 0)
		close(f->fd);
	if (f->lockfd >= 0)
		close(f->lockfd); /* releases the flock */
	if (f->prev != NULL)
		f->prev->next = f->next;
	else if (e->files == f)
		e->files = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	sl_sha256_final(&f->sha, NULL);
	sl_chunkmap_destroy(f->map);
	free(f->digests);
	free(f->dknown);
	free(f->unsynced);
	free(f->path);
	free(f);
}

/*
 * A staged file that ends without being published (its session ended, or a
 * final error) keeps on disk only what a resume can use: nothing at all
 * without a sidecar, otherwise its durable chunks, the rest of its
 * preallocation given back. So an abandoned transfer holds no more space
 * than the bytes that were sent, verified and made durable. Runs when no
 * I/O of the file is in flight, while it still holds the staged file's lock.
 */
static void
shrink_staged(struct sl_session_engine *e, struct sfile *f)
{
	uint64_t end = SL_ALIGN_UP(f->size, SL_DIRECT_ALIGN);
	bool punched = false;
	uint32_t i = 0;

	if (f->fd < 0 || f->size == 0)
		return;
	if (!f->has_sidecar || f->map == NULL || f->map->nb_durable == 0) {
		if (unlinkat(e->stagefd, f->data_name, 0) == 0)
			e->st->staged_removed++;
		unlinkat(e->stagefd, f->state_name, 0);
		return;
	}
	while (i < f->nb_chunks) {
		uint32_t j;
		uint64_t from, to;

		if (sl_chunkmap_is_durable(f->map, i)) {
			i++;
			continue;
		}
		for (j = i; j < f->nb_chunks && !sl_chunkmap_is_durable(f->map, j); j++)
			;
		from = (uint64_t)i * f->chunk_size;
		to = (uint64_t)j * f->chunk_size < end ? (uint64_t)j * f->chunk_size : end;
		/* A filesystem that cannot punch holes only keeps the space. */
		if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from,
			      (off_t)(to - from)) == 0)
			punched = true;
		i = j;
	}
	if (punched)
		e->st->staged_trimmed++;
}

static void
file_maybe_free(struct sl_session_engine *e, struct sfile *f)
{
	if (f->state == F_DEAD && f->writes_inflight == 0 && !f->sync_inflight) {
		if (f->shrink)
			shrink_staged(e, f);
		file_free(e, f);
	}
}

static void
release_reservation(struct sl_session_engine *e, struct sfile *f)
{
	e->reserved -= f->reserved;
	f->reserved = 0;
}

/* The file reached a final status: report it (once), remember it for
 * repeats, and let go of everything but the I/O still in flight. */
static void
file_final(struct sl_session_engine *e, struct sfile *f, uint8_t status)
{
	struct session *s = f->s;

	if (f->state == F_DEAD)
		return;
	if (status == SL_PROTO_STATUS_OK) {
		e->st->files_ok++;
		e->st->file_bytes += f->size;
		if (f->receipt && s != NULL)
			receipt_keep(e, s, f->identity);
	} else {
		e->st->files_failed[status & 15]++;
	}
	discard_bufs(e, f);
	/* A failed file owes its session the credit of every byte that has not
	 * retired yet (chunks still being written, bytes dropped on the way):
	 * the sender counted them as new and will not send them again. This may
	 * credit bytes never sent, which only leaves the sender more room. */
	if (s != NULL && status != SL_PROTO_STATUS_OK) {
		uint64_t owed = f->size - f->skip_bytes;

		if (owed > f->retired_bytes)
			s->retired += owed - f->retired_bytes;
		f->retired_bytes = owed;
	}
	if (s != NULL) {
		htab_del(&s->files, f->file_id);
		s->nb_files--;
		e->st->files_active--;
		record_final(e, s, f->file_id, f->fp, status);
		session_send_status(e, s, NULL, f->file_id, status);
		f->s = NULL;
	}
	release_reservation(e, f);
	f->state = F_DEAD;
	f->shrink = status != SL_PROTO_STATUS_OK;
	file_maybe_free(e, f);
}

static void
unlink_staged(struct sl_session_engine *e, const struct sfile *f)
{
	unlinkat(e->stagefd, f->data_name, 0);
	unlinkat(e->stagefd, f->state_name, 0);
}

static uint8_t
errno_status(struct sl_session_engine *e, int err)
{
	switch (err) {
	case -EEXIST:
		return SL_PROTO_STATUS_EXISTS;
	case -ELOOP:
	case -ENOTDIR:
	case -EXDEV:
		return SL_PROTO_STATUS_BAD_PATH;
	case -ENOSPC:
	case -EDQUOT:
		return SL_PROTO_STATUS_NO_SPACE;
	default:
		e->st->io_errors++;
		return SL_PROTO_STATUS_IO_ERROR;
	}
}

static int store_sidecar(struct sl_session_engine *e, struct sfile *f, unsigned flags);

/* Every chunk is durable and hashed: check the SHA-256 and move the file to
 * its final name. Nothing appears under that name unless this returns OK. */
static uint8_t
publish(struct sl_session_engine *e, struct sfile *f)
{
	uint8_t digest[SL_PROTO_SHA256_SIZE];
	struct timespec times[2];
	int64_t sec = f->mtime_ns / 1000000000, nsec = f->mtime_ns % 1000000000;
	char *slash = strrchr(f->path, '/');
	const char *base = f->path;
	int pfd = e->dirfd, rc;
	uint8_t status;

	sl_sha256_final(&f->sha, digest);
	if (memcmp(digest, f->sha256, sizeof(digest)) != 0) {
		unlink_staged(e, f);
		return SL_PROTO_STATUS_DIGEST_MISMATCH;
	}
	if (nsec < 0) {
		nsec += 1000000000;
		sec--;
	}
	times[0].tv_sec = 0;
	times[0].tv_nsec = UTIME_OMIT;
	times[1].tv_sec = (time_t)sec;
	times[1].tv_nsec = (long)nsec;
	if (ftruncate(f->fd, (off_t)f->size) < 0 || fsync(f->fd) < 0 ||
	    fchmod(f->fd, f->mode & 0777) < 0 || futimens(f->fd, times) < 0) {
		SESS_LOG(ERR, "cannot finish %s: %s\n", f->path, strerror(errno));
		e->st->io_errors++;
		return SL_PROTO_STATUS_IO_ERROR;
	}
	if (slash != NULL) {
		rc = sl_safepath_mkdirs(e->dirfd, f->path);
		if (rc == 0) {
			*slash = '\0';
			pfd = sl_safepath_openat(e->dirfd, f->path, O_RDONLY | O_DIRECTORY, 0);
			*slash = '/';
			rc = pfd < 0 ? pfd : 0;
		}
		if (rc < 0) {
			status = errno_status(e, rc);
			if (status != SL_PROTO_STATUS_IO_ERROR)
				unlink_staged(e, f);
			return status;
		}
		base = slash + 1;
	}
	/* A file whose chunks all became durable at once has no sidecar yet.
	 * It gets one now, unsynced (its data is synced): should a crash come
	 * between the rename and the sender's receipt of OK, a resend of the
	 * MANIFEST finds the publish to finish (adopt_published()) instead of
	 * an EXISTS. Under power loss it is as durable as the rename it stands
	 * for. */
	if (!f->has_sidecar && f->map != NULL && store_sidecar(e, f, SL_SIDECAR_NO_SYNC) < 0)
		SESS_LOG(WARNING, "no sidecar for the publish of %s\n", f->path);
	session_kill_point(e, SL_SESSION_KILL_RENAME);
	rc = renameat2(e->stagefd, f->data_name, pfd, base, e->p.overwrite ? 0 : RENAME_NOREPLACE);
	if (rc < 0) {
		status = errno_status(e, -errno);
		if (status != SL_PROTO_STATUS_IO_ERROR)
			unlink_staged(e, f);
		goto out;
	}
	session_kill_point(e, SL_SESSION_KILL_RENAMED);
	if (fsync(pfd) < 0) {
		/* Not durable: take it back rather than claim OK. */
		e->st->io_errors++;
		unlinkat(pfd, base, 0);
		status = SL_PROTO_STATUS_IO_ERROR;
		goto out;
	}
	/* The sidecar stays as the file's receipt until the sender's BYE says its OK
	 * arrived (sfile_receipts_release()): should sluice die before that, the
	 * sender's resend finds it and is answered OK (adopt_published()), not EXISTS.
	 * A receipt no BYE removes goes with the staging sweep (staging_ttl_s). */
	f->receipt = f->has_sidecar;
	session_kill_point(e, SL_SESSION_KILL_PUBLISHED);
	status = SL_PROTO_STATUS_OK;
out:
	if (pfd != e->dirfd)
		close(pfd);
	return status;
}

/* ---- chunks ---- */

static void
hash_in_order(struct sl_session_engine *e, struct sfile *f)
{
	while (f->sha_next < f->nb_chunks) {
		uint32_t bi = find_buf(e, f, f->sha_next);

		if (bi == NONE || cb(e, bi)->state != CB_WRITING)
			return;
		sl_sha256_update(&f->sha, sl_bufpool_addr(&e->pool, bi), cb(e, bi)->len);
		f->sha_next++;
	}
}

static void
queue_write(struct sl_session_engine *e, struct sfile *f, uint32_t bi)
{
	struct cbuf *b = cb(e, bi);
	uint8_t *addr = sl_bufpool_addr(&e->pool, bi);
	uint32_t wlen = (uint32_t)SL_ALIGN_UP(b->len, f->align);

	if (wlen > b->len)
		memset(addr + b->len, 0, wlen - b->len);
	if (sl_uring_write(e->io, f->slot, (int)bi, addr, wlen, (uint64_t)b->idx * f->chunk_size,
			   (uint64_t)bi << 8 | CK_WRITE) < 0) {
		/* Cannot happen: max_ops covers every buffer and one sync per file. */
		SESS_LOG(ERR, "cannot queue a write of %s\n", f->path);
		e->st->io_errors++;
		f->fail_status = SL_PROTO_STATUS_IO_ERROR;
		return;
	}
	f->writes_inflight++;
}

/* A whole chunk whose digest is known: verify it, then hash and write it. */
static void
verify_chunk(struct sl_session_engine *e, struct sfile *f, uint32_t bi)
{
	struct cbuf *b = cb(e, bi);
	uint32_t crc = sl_proto_crc32c(sl_bufpool_addr(&e->pool, bi), b->len);

	filling_end(f); /* written or discarded from here on */
	if (crc != f->digests[b->idx]) {
		/* Discarded whole; the resend is requested through ACK. */
		e->st->chunks_bad++;
		buf_unlink(e, f, bi);
		buf_put(e, bi);
		return;
	}
	e->st->chunks_verified++;
	sl_chunkmap_set_received(f->map, b->idx);
	b->state = CB_WRITING;
	hash_in_order(e, f);
	queue_write(e, f, bi);
}

static void
release_held(struct sl_session_engine *e, struct sfile *f)
{
	uint32_t bi = f->bufs, next;

	for (; bi != NONE; bi = next) {
		next = cb(e, bi)->next;
		if (cb(e, bi)->state == CB_HELD && digest_known(f, cb(e, bi)->idx))
			verify_chunk(e, f, bi);
	}
}

/* Take digests first .. first + count - 1; all or none. */
static int
learn_digests(struct sfile *f, uint32_t first, uint16_t count, const uint8_t *wire)
{
	if ((uint64_t)first + count > f->nb_chunks)
		return -EINVAL;
	for (uint32_t i = 0; i < count; i++)
		if (digest_known(f, first + i) &&
		    f->digests[first + i] != sl_proto_u32_get(wire, i))
			return -EINVAL;
	for (uint32_t i = 0; i < count; i++) {
		f->digests[first + i] = sl_proto_u32_get(wire, i);
		f->dknown[(first + i) / 64] |= 1ull << ((first + i) % 64);
	}
	while (f->digests_needed < f->nb_chunks && digest_known(f, f->digests_needed))
		f->digests_needed++;
	return 0;
}

/* ---- MANIFEST ---- */

/* Answer a MANIFEST refused before any state was made, and remember the answer. */
static int
refuse(struct sl_session_engine *e, struct session *s, const struct sl_proto_manifest *m,
       uint64_t fp, uint8_t status, bool counted_drop)
{
	record_final(e, s, m->file_id, fp, status);
	e->st->files_failed[status]++;
	session_send_status(e, s, NULL, m->file_id, status);
	if (counted_drop) {
		e->st->bad_manifest++;
		return -EINVAL;
	}
	return 0;
}

/* Open with O_DIRECT if asked and possible; *direct tells which it got. */
static int
open_maybe_direct(int dirfd, const char *name, int flags, bool *direct)
{
	int fd;

	if (*direct) {
		fd = openat(dirfd, name, flags | O_DIRECT, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EINVAL)
			return -errno;
		*direct = false;
	}
	fd = openat(dirfd, name, flags, 0600);
	return fd < 0 ? -errno : fd;
}

static int
open_staged(struct sl_session_engine *e, struct sfile *f, bool *created)
{
	const int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW;
	bool direct = e->p.direct;
	struct stat a, b;
	int fd, lockfd, rc;

	*created = false;
	fd = open_maybe_direct(e->stagefd, f->data_name, flags, &direct);
	if (fd == -ENOENT) {
		fd = open_maybe_direct(e->stagefd, f->data_name, flags | O_CREAT | O_EXCL, &direct);
		if (fd >= 0)
			*created = true;
		else if (fd == -EEXIST)
			fd = open_maybe_direct(e->stagefd, f->data_name, flags, &direct);
	}
	if (fd < 0)
		return fd;
	f->align = direct ? SL_DIRECT_ALIGN : 1;
	/* The lock sits on a descriptor of its own: the data descriptor goes
	 * into io_uring's file table, which keeps its open file description
	 * alive until the ring is torn down asynchronously, and a lock on it
	 * would outlive the file here. */
	lockfd = openat(e->stagefd, f->data_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (lockfd < 0 || fstat(fd, &a) < 0 || fstat(lockfd, &b) < 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev) {
		rc = lockfd < 0 ? -errno : -EBUSY;
		goto fail;
	}
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	f->lockfd = lockfd;
	return fd;

fail:
	if (lockfd >= 0)
		close(lockfd);
	close(fd);
	return rc;
}

/* Take the durable chunks of a matching sidecar, or start empty. A data
 * file just created makes any sidecar of the same name stale: the chunks
 * it records are not in this file. */
static int
load_sidecar(struct sl_session_engine *e, struct sfile *f, bool created)
{
	struct sl_sidecar_info *info = malloc(sizeof(*info));
	struct sl_chunkmap *map = NULL;
	int rc;

	if (info == NULL)
		return -ENOMEM;
	rc = created ? -ESTALE : sl_sidecar_read(e->stagefd, f->state_name, info, &map);
	if (rc == 0 && memcmp(info->identity, f->identity, SL_SIDECAR_IDENTITY_LEN) == 0 &&
	    info->file_size == f->size && info->chunk_size == f->chunk_size &&
	    info->nb_chunks == f->nb_chunks && info->path_len == f->path_len &&
	    memcmp(info->path, f->path, f->path_len) == 0) {
		f->map = map;
		f->has_sidecar = true;
	} else {
		sl_chunkmap_destroy(map);
		if (rc != -ENOENT)
			unlinkat(e->stagefd, f->state_name, 0);
		f->map = sl_chunkmap_create(f->nb_chunks);
	}
	free(info);
	return f->map == NULL ? -ENOMEM : 0;
}

static struct sfile *
file_new(const struct sl_proto_manifest *m, const uint8_t identity[32], uint64_t fp)
{
	struct sfile *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->path = malloc((size_t)m->path_len + 1);
	if (f->path == NULL) {
		free(f);
		return NULL;
	}
	memcpy(f->path, m->path, m->path_len);
	f->path[m->path_len] = '\0';
	f->path_len = m->path_len;
	f->file_id = m->file_id;
	f->fp = fp;
	f->size = m->size;
	f->mode = m->mode;
	f->mtime_ns = m->mtime_ns;
	f->chunk_size = m->chunk_size;
	f->nb_chunks = sl_proto_chunk_count(m->size, m->chunk_size);
	memcpy(f->sha256, m->file_sha256, SL_PROTO_SHA256_SIZE);
	memcpy(f->identity, identity, SL_SIDECAR_IDENTITY_LEN);
	staged_names(identity, f->data_name, f->state_name, sizeof(f->data_name));
	f->fd = -1;
	f->lockfd = -1;
	f->slot = -1;
	f->bufs = NONE;
	f->align = 1;
	return f;
}

/* Whether the final name is free (0), taken (1), or a status to refuse with. */
static int
probe_final(struct sl_session_engine *e, const char *path)
{
	int fd = sl_safepath_openat(e->dirfd, path, O_PATH, 0);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (fd == -ENOENT)
		return 0;
	return -(int)errno_status(e, fd);
}

/* SHA-256 of the @p size bytes of @p fd. */
static int
hash_fd(int fd, uint64_t size, uint8_t out[SL_PROTO_SHA256_SIZE])
{
	const size_t step = 1u << 20;
	uint8_t *buf = malloc(step);
	struct sl_sha256 h;
	uint64_t off = 0;
	int rc = 0;

	if (buf == NULL)
		return -ENOMEM;
	if (sl_sha256_init(&h) < 0) {
		free(buf);
		return -ENOMEM;
	}
	while (off < size) {
		size_t want = size - off < step ? (size_t)(size - off) : step;
		ssize_t r = pread(fd, buf, want, (off_t)off);

		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			break;
		}
		sl_sha256_update(&h, buf, (size_t)r);
		off += (uint64_t)r;
	}
	sl_sha256_final(&h, rc == 0 ? out : NULL);
	free(buf);
	return rc;
}

/*
 * A publish cut short by a crash after its rename, or one whose OK its sender
 * may not have received (no BYE came before sluice stopped or died), leaves the
 * final name in place, the sidecar in staging (the receipt) and no staged data.
 * When the file under the final name is this manifest's (same identity in the
 * sidecar, same size and SHA-256), the publish is finished now (file and
 * directory fsynced) and the answer is OK rather than EXISTS; the receipt then
 * waits for this session's BYE. A receipt that does not match goes, so a final
 * name is read back at most once per receipt and session.
 */
static bool
adopt_published(struct sl_session_engine *e, struct sfile *f)
{
	uint8_t digest[SL_PROTO_SHA256_SIZE];
	struct sl_sidecar_info *info;
	struct sl_chunkmap *map = NULL;
	char *slash = strrchr(f->path, '/');
	struct stat st;
	bool ok = false;
	int fd, pfd, rc;

	if (fstatat(e->stagefd, f->data_name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return false;
	info = malloc(sizeof(*info));
	if (info == NULL)
		return false;
	rc = sl_sidecar_read(e->stagefd, f->state_name, info, &map);
	sl_chunkmap_destroy(map);
	ok = rc == 0 && memcmp(info->identity, f->identity, SL_SIDECAR_IDENTITY_LEN) == 0 &&
	     info->file_size == f->size;
	free(info);
	if (rc == -ENOENT)
		return false;
	if (ok) {
		ok = false;
		fd = sl_safepath_openat(e->dirfd, f->path, O_RDONLY, 0);
		if (fd >= 0) {
			if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
			    (uint64_t)st.st_size == f->size && hash_fd(fd, f->size, digest) == 0 &&
			    memcmp(digest, f->sha256, sizeof(digest)) == 0 && fsync(fd) == 0)
				ok = true;
			close(fd);
		}
	}
	if (ok) {
		/* The rename itself may not be durable yet. */
		pfd = e->dirfd;
		if (slash != NULL) {
			*slash = '\0';
			pfd = sl_safepath_openat(e->dirfd, f->path, O_RDONLY | O_DIRECTORY, 0);
			*slash = '/';
		}
		ok = pfd >= 0 && fsync(pfd) == 0;
		if (pfd >= 0 && pfd != e->dirfd)
			close(pfd);
	}
	if (!ok)
		unlinkat(e->stagefd, f->state_name, 0);
	return ok;
}

/* Set up the staged file of a new MANIFEST; returns the status to answer. */
static uint8_t
file_open(struct sl_session_engine *e, struct sfile *f)
{
	struct statvfs vfs;
	bool created;
	uint64_t need, avail;
	bool preallocated;
	int rc;

	rc = open_staged(e, f, &created);
	if (rc < 0)
		return rc == -EBUSY ? SL_PROTO_STATUS_REFUSED : errno_status(e, rc);
	f->fd = rc;
	if (sl_sha256_init(&f->sha) < 0)
		return SL_PROTO_STATUS_REFUSED;
	if (f->size == 0)
		return SL_PROTO_STATUS_READY;

	rc = load_sidecar(e, f, created);
	if (rc < 0)
		return SL_PROTO_STATUS_REFUSED;
	/* What the disk must still give: the file's size less what its staged
	 * data file already holds (a resumed transfer holds it all). */
	{
		struct stat st;
		uint64_t want = SL_ALIGN_UP(f->size, SL_DIRECT_ALIGN), held = 0;

		if (fstat(f->fd, &st) == 0)
			held = (uint64_t)st.st_blocks * 512;
		need = want > held ? want - held : 0;
	}
	if (fstatvfs(e->dirfd, &vfs) < 0) {
		e->st->io_errors++;
		return SL_PROTO_STATUS_IO_ERROR;
	}
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (avail < need || avail - need < e->reserved) {
		if (created)
			unlinkat(e->stagefd, f->data_name, 0);
		return SL_PROTO_STATUS_NO_SPACE;
	}
	/* Space that fallocate() gave is already out of f_bavail for the next
	 * manifest; only a filesystem without it needs our own reservation. */
	preallocated = fallocate(f->fd, 0, 0, (off_t)SL_ALIGN_UP(f->size, SL_DIRECT_ALIGN)) == 0;
	if (!preallocated && errno != EOPNOTSUPP) {
		rc = -errno;
		if (created)
			unlinkat(e->stagefd, f->data_name, 0);
		return rc == -ENOSPC || rc == -EDQUOT ? SL_PROTO_STATUS_NO_SPACE
						      : errno_status(e, rc);
	}
	f->digests = calloc(f->nb_chunks, sizeof(*f->digests));
	f->dknown = calloc((f->nb_chunks + 63) / 64, sizeof(*f->dknown));
	if (f->digests == NULL || f->dknown == NULL)
		return SL_PROTO_STATUS_REFUSED;
	rc = sl_uring_file_add(e->io, f->fd, f->align);
	if (rc < 0)
		return SL_PROTO_STATUS_REFUSED;
	f->slot = rc;
	f->nb_written = f->map->nb_durable;
	f->reserved = preallocated ? 0 : need;
	e->reserved += f->reserved;
	return SL_PROTO_STATUS_READY;
}

static void
file_link(struct sl_session_engine *e, struct sfile *f)
{
	f->prev = NULL;
	f->next = e->files;
	if (e->files != NULL)
		e->files->prev = f;
	e->files = f;
}

int
sfile_manifest(struct sl_session_engine *e, struct session *s, const struct sl_proto_manifest *m)
{
	uint8_t identity[SL_PROTO_SHA256_SIZE];
	uint64_t fp, *v;
	struct sfile *f;
	uint32_t nb_chunks;
	uint8_t status;
	int rc;

	e->st->manifests++;
	manifest_identity(m, identity);
	fp = manifest_fingerprint(m, identity);

	v = htab_find(&s->files, m->file_id);
	if (v != NULL) {
		f = (struct sfile *)(uintptr_t)*v;
		if (f->fp != fp || learn_digests(f, m->first, m->count, m->digests_wire) < 0) {
			/* A changed manifest: refused, the file goes on. */
			session_send_status(e, s, NULL, m->file_id, SL_PROTO_STATUS_BAD_MANIFEST);
			e->st->bad_manifest++;
			return -EINVAL;
		}
		release_held(e, f);
		session_send_status(e, s, f, f->file_id, SL_PROTO_STATUS_READY);
		return 0;
	}
	v = htab_find(&s->finals, m->file_id);
	if (v != NULL) {
		if (*v >> 8 != fp) {
			session_send_status(e, s, NULL, m->file_id, SL_PROTO_STATUS_BAD_MANIFEST);
			e->st->bad_manifest++;
			return -EINVAL;
		}
		session_send_status(e, s, NULL, m->file_id, (uint8_t)*v);
		return 0;
	}

	if (sl_safepath_check(m->path, m->path_len, NULL, 0) < 0)
		return refuse(e, s, m, fp, SL_PROTO_STATUS_BAD_PATH, false);
	nb_chunks = sl_proto_chunk_count(m->size, m->chunk_size);
	if (!sl_proto_chunk_size_valid(m->chunk_size, e->p.max_chunk) || m->first != 0 ||
	    (uint64_t)m->first + m->count > nb_chunks)
		return refuse(e, s, m, fp, SL_PROTO_STATUS_BAD_MANIFEST, true);
	if (nb_chunks > MAX_FILE_CHUNKS || s->nb_files >= e->p.max_files)
		return refuse(e, s, m, fp, SL_PROTO_STATUS_REFUSED, true);

	f = file_new(m, identity, fp);
	if (f == NULL)
		return refuse(e, s, m, fp, SL_PROTO_STATUS_REFUSED, false);
	rc = probe_final(e, f->path);
	if (rc == 1 && f->size > 0 && adopt_published(e, f)) {
		receipt_keep(e, s, f->identity);
		free(f->path);
		free(f);
		e->st->files_ok++;
		e->st->files_recovered++;
		e->st->file_bytes += m->size;
		record_final(e, s, m->file_id, fp, SL_PROTO_STATUS_OK);
		session_send_status(e, s, NULL, m->file_id, SL_PROTO_STATUS_OK);
		return 0;
	}
	if (rc < 0 || (rc == 1 && !e->p.overwrite)) {
		free(f->path);
		free(f);
		return refuse(e, s, m, fp, rc < 0 ? (uint8_t)-rc : SL_PROTO_STATUS_EXISTS, false);
	}

	status = file_open(e, f);
	if (status == SL_PROTO_STATUS_READY && f->size == 0)
		status = publish(e, f); /* nothing to wait for */
	if (status != SL_PROTO_STATUS_READY) {
		release_reservation(e, f);
		f->state = F_DEAD;
		file_free(e, f);
		if (status == SL_PROTO_STATUS_OK) {
			e->st->files_ok++;
			record_final(e, s, m->file_id, fp, status);
			session_send_status(e, s, NULL, m->file_id, status);
			return 0;
		}
		return refuse(e, s, m, fp, status, false);
	}
	if (htab_put(&s->files, f->file_id, (uint64_t)(uintptr_t)f) < 0) {
		release_reservation(e, f);
		file_free(e, f);
		return refuse(e, s, m, fp, SL_PROTO_STATUS_REFUSED, false);
	}
	f->s = s;
	s->nb_files++;
	e->st->files_active++;
	file_link(e, f);
	if (f->map->nb_durable > 0) {
		e->st->files_resumed++;
		e->st->chunks_skipped += f->map->nb_durable;
		f->skip_bytes = (uint64_t)f->map->nb_durable * f->chunk_size;
		if (sl_chunkmap_is_durable(f->map, f->nb_chunks - 1))
			f->skip_bytes -= f->chunk_size - sfile_chunk_len(f, f->nb_chunks - 1);
	}
	learn_digests(f, m->first, m->count, m->digests_wire); /* checked above */
	if (sl_chunkmap_complete(f->map))
		f->state = F_COMMIT;
	session_send_status(e, s, f, f->file_id, SL_PROTO_STATUS_READY);
	return 0;
}

int
sfile_digests(struct sl_session_engine *e, struct session *s, const struct sl_proto_digests *d)
{
	uint64_t *v = htab_find(&s->files, d->file_id);
	struct sfile *f;

	if (v == NULL) {
		if (htab_find(&s->finals, d->file_id) != NULL)
			return 0; /* late repeat for a finished file */
		e->st->bad_manifest++;
		return -ENOENT;
	}
	f = (struct sfile *)(uintptr_t)*v;
	if (learn_digests(f, d->first, d->count, d->digests_wire) < 0) {
		e->st->bad_manifest++;
		file_final(e, f, SL_PROTO_STATUS_BAD_MANIFEST);
		return -EINVAL;
	}
	release_held(e, f);
	return 0;
}

/* ---- DATA ---- */

int
sfile_data(struct sl_session_engine *e, struct session *s, const struct sl_proto_data *d)
{
	struct sl_session_stats *st = e->st;
	uint64_t *v = htab_find(&s->files, d->file_id);
	struct sfile *f;
	struct cbuf *b;
	uint32_t idx, off, bi;
	int n;

	if (v == NULL) {
		v = htab_find(&s->finals, d->file_id);
		if (v != NULL && (uint8_t)*v == SL_PROTO_STATUS_OK) {
			/* Late duplicate of a published file. */
			st->data_durable++;
			st->data_bytes += d->len;
			st->data_dup_bytes += d->len;
			return 0;
		}
		st->data_unknown_file++;
		return -ENOENT;
	}
	f = (struct sfile *)(uintptr_t)*v;
	if (!sl_proto_data_in_chunk(d->offset, d->len, f->chunk_size, f->size)) {
		st->data_bad_range++;
		return -ERANGE;
	}
	s->data_since_ack = true;
	if (d->len == 0)
		return 0;
	if (d->offset + d->len > f->highest_seen)
		f->highest_seen = d->offset + d->len;
	idx = (uint32_t)(d->offset / f->chunk_size);
	off = (uint32_t)(d->offset - (uint64_t)idx * f->chunk_size);
	if (sl_chunkmap_is_received(f->map, idx)) {
		st->data_durable++;
		st->data_bytes += d->len;
		st->data_dup_bytes += d->len;
		return 0;
	}
	bi = find_buf(e, f, idx);
	if (bi == NONE) {
		int got = -1;

		/* Within its fair share a session takes a free buffer, or one from a
		 * session above its share; beyond it (or when that fails) only one of
		 * its own less urgent partial chunks. */
		if (s->nb_filling < fair_share(e)) {
			got = sl_bufpool_get(&e->pool);
			if (got < 0 && evict_one(e, NULL, f, idx))
				got = sl_bufpool_get(&e->pool);
		}
		if (got < 0 && evict_one(e, s, f, idx))
			got = sl_bufpool_get(&e->pool);
		if (got < 0) {
			st->data_no_buffer++;
			return -ENOBUFS;
		}
		bi = (uint32_t)got;
		b = cb(e, bi);
		b->f = f;
		b->idx = idx;
		b->len = sfile_chunk_len(f, idx);
		b->state = CB_FILLING;
		filling_start(f);
		sl_chunkfill_init(&b->fill, b->len);
		b->next = f->bufs;
		f->bufs = bi;
	}
	b = cb(e, bi);
	if (b->state != CB_FILLING) {
		/* Whole already, waiting for its digest. */
		st->data_bytes += d->len;
		st->data_dup_bytes += d->len;
		return 0;
	}
	n = sl_chunkfill_add(&b->fill, off, d->len);
	if (n < 0) {
		st->data_fragmented++;
		return n;
	}
	memcpy(sl_bufpool_addr(&e->pool, bi) + off, d->payload, d->len);
	st->data_bytes += d->len;
	st->data_dup_bytes += d->len - (uint32_t)n;
	if (sl_chunkfill_full(&b->fill)) {
		if (digest_known(f, idx))
			verify_chunk(e, f, bi);
		else
			b->state = CB_HELD;
	}
	return 0;
}

static uint16_t
add_range(struct sl_proto_missing *out, uint16_t n, unsigned max, uint64_t off, uint64_t len)
{
	if (n > 0 && out[n - 1].offset + out[n - 1].length == off &&
	    out[n - 1].length + len <= UINT32_MAX) {
		out[n - 1].length += (uint32_t)len;
		return n;
	}
	if (n >= max)
		return n;
	out[n].offset = off;
	out[n].length = (uint32_t)len;
	return n + 1;
}

unsigned
sfile_missing(struct sl_session_engine *e, struct sfile *f, struct sl_proto_missing *out,
	      unsigned max)
{
	struct sl_range64 holes[SL_CHUNKFILL_MAX_INTERVALS + 1];
	const uint32_t first = sl_chunkmap_received_upto(f->map);
	uint16_t n = 0;

	if (f->state != F_ACTIVE)
		return 0;
	/* At most MISSING_SCAN_CHUNKS chunks per ACK: a sender that jumps far
	 * ahead (one byte at the end of a huge file) must not cost every other
	 * session its ACKs. Honest senders stay within their credit window,
	 * far below it; the rest is found by later ACKs. */
	for (uint32_t idx = first;
	     n < max && idx < f->nb_chunks && idx - first < MISSING_SCAN_CHUNKS &&
	     (uint64_t)idx * f->chunk_size < f->highest_seen;
	     idx++) {
		uint64_t base = (uint64_t)idx * f->chunk_size;
		uint64_t lim = base + sfile_chunk_len(f, idx);
		uint32_t bi;

		if (sl_chunkmap_is_received(f->map, idx))
			continue;
		if (lim > f->highest_seen)
			lim = f->highest_seen;
		bi = find_buf(e, f, idx);
		if (bi == NONE) {
			n = add_range(out, n, max, base, lim - base);
			continue;
		}
		if (cb(e, bi)->state != CB_FILLING)
			continue;
		unsigned k =
			sl_chunkfill_missing(&cb(e, bi)->fill, holes, SL_ARRAY_SIZE(holes), base);
		for (unsigned j = 0; j < k && holes[j].offset < lim; j++) {
			uint64_t end = holes[j].offset + holes[j].length;

			n = add_range(out, n, max, holes[j].offset,
				      (end < lim ? end : lim) - holes[j].offset);
		}
	}
	return n;
}

/* ---- I/O completions ---- */

static int
push_unsynced(struct sl_session_engine *e, struct sfile *f, uint32_t idx)
{
	if (f->nb_unsynced == f->cap_unsynced) {
		uint32_t cap = f->cap_unsynced ? 2 * f->cap_unsynced : 64;
		uint32_t *p = realloc(f->unsynced, (size_t)cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		f->unsynced = p;
		f->cap_unsynced = cap;
	}
	if (f->nb_unsynced == 0)
		f->unsynced_since_ns = e->now_ns;
	f->unsynced[f->nb_unsynced++] = idx;
	return 0;
}

static void
sidecar_mid(void *arg)
{
	session_kill_point(arg, SL_SESSION_KILL_SIDECAR);
}

/* Write the sidecar of @p f as its map stands: 0 or -errno. */
static int
store_sidecar(struct sl_session_engine *e, struct sfile *f, unsigned flags)
{
	struct sl_sidecar_info *info = malloc(sizeof(*info));
	int rc;

	if (info == NULL)
		return -ENOMEM;
	memcpy(info->identity, f->identity, SL_SIDECAR_IDENTITY_LEN);
	info->file_size = f->size;
	info->chunk_size = f->chunk_size;
	info->nb_chunks = f->nb_chunks;
	info->path_len = f->path_len;
	memcpy(info->path, f->path, f->path_len);
	info->path[f->path_len] = '\0';
	rc = sl_sidecar_write_ex(e->stagefd, f->state_name, info, f->map, flags,
				 e->kill_point == SL_SESSION_KILL_SIDECAR ? sidecar_mid : NULL, e);
	free(info);
	if (rc == 0)
		f->has_sidecar = true;
	return rc;
}

/* @return 0, or -1 when the file failed (and may have been freed: do not touch it). */
static int
write_sidecar(struct sl_session_engine *e, struct sfile *f)
{
	int rc = store_sidecar(e, f, 0);

	if (rc < 0) {
		SESS_LOG(ERR, "cannot write the sidecar of %s: %s\n", f->path, strerror(-rc));
		e->st->io_errors++;
		/* The old sidecar is intact: the chunks it records still resume. */
		file_final(e, f,
			   rc == -ENOSPC || rc == -EDQUOT ? SL_PROTO_STATUS_NO_SPACE
							  : SL_PROTO_STATUS_IO_ERROR);
		return -1;
	}
	e->st->sidecar_writes++;
	return 0;
}

static void
write_done(struct sl_session_engine *e, uint32_t bi, int res)
{
	struct cbuf *b = cb(e, bi);
	struct sfile *f = b->f;
	uint32_t idx = b->idx, len = b->len;

	f->writes_inflight--;
	buf_unlink(e, f, bi);
	buf_put(e, bi);
	/* The chunk has left its buffer either way: the sender may send more. */
	f->retired_bytes += len;
	if (f->s != NULL)
		f->s->retired += len;
	if (f->state == F_DEAD) {
		file_maybe_free(e, f);
		return;
	}
	if (res < 0) {
		SESS_LOG(ERR, "writing %s failed: %s\n", f->path, strerror(-res));
		e->st->io_errors++;
		file_final(e, f,
			   res == -ENOSPC || res == -EDQUOT ? SL_PROTO_STATUS_NO_SPACE
							    : SL_PROTO_STATUS_IO_ERROR);
		return;
	}
	e->st->chunks_written++;
	f->nb_written++;
	if (push_unsynced(e, f, idx) < 0)
		file_final(e, f, SL_PROTO_STATUS_IO_ERROR);
}

static void
sync_done(struct sl_session_engine *e, struct sfile *f, int res)
{
	uint32_t n = f->sync_n;

	f->sync_inflight = false;
	f->sync_n = 0;
	if (f->state == F_DEAD) {
		file_maybe_free(e, f);
		return;
	}
	if (res < 0) {
		SESS_LOG(ERR, "fdatasync of %s failed: %s\n", f->path, strerror(-res));
		e->st->io_errors++;
		file_final(e, f,
			   res == -ENOSPC || res == -EDQUOT ? SL_PROTO_STATUS_NO_SPACE
							    : SL_PROTO_STATUS_IO_ERROR);
		return;
	}
	e->st->datasyncs++;
	session_kill_point(e, SL_SESSION_KILL_FSYNC);
	/* Only the chunks written before the fdatasync was queued are durable. */
	for (uint32_t i = 0; i < n; i++)
		sl_chunkmap_set_durable(f->map, f->unsynced[i]);
	memmove(f->unsynced, f->unsynced + n, (size_t)(f->nb_unsynced - n) * sizeof(uint32_t));
	f->nb_unsynced -= n;
	if (f->nb_unsynced > 0)
		f->unsynced_since_ns = e->now_ns;
	e->st->chunks_durable += n;
	if (sl_chunkmap_complete(f->map)) {
		f->state = F_COMMIT;
	} else if (write_sidecar(e, f) < 0) {
		return;
	}
	if (f->s != NULL)
		f->s->ack_now = true;
}

void
sfile_io_done(void *arg, uint64_t cookie, int res)
{
	struct sl_session_engine *e = arg;

	if ((cookie & 0xf) == CK_WRITE)
		write_done(e, (uint32_t)(cookie >> 8), res);
	else
		sync_done(e, (struct sfile *)(uintptr_t)(cookie & ~(uint64_t)0xf), res);
}

/* ---- periodic work ---- */

static void
maybe_sync(struct sl_session_engine *e, struct sfile *f)
{
	bool due;

	if (f->nb_unsynced == 0 || f->sync_inflight)
		return;
	if (f->state == F_CLOSING)
		due = f->writes_inflight == 0;
	else
		due = f->nb_written == f->nb_chunks ||
		      e->now_ns - f->unsynced_since_ns >= (uint64_t)e->p.sync_interval_us * 1000;
	if (!due)
		return;
	if (sl_uring_fsync(e->io, f->slot, true, (uint64_t)(uintptr_t)f | CK_SYNC) < 0)
		return; /* queue full: next poll */
	f->sync_inflight = true;
	f->sync_n = f->nb_unsynced;
}

/* Finish the SHA-256 by reading back chunks not hashed in order (one per
 * call, so other sessions keep being served), then publish. */
static void
commit_step(struct sl_session_engine *e, struct sfile *f, unsigned *budget)
{
	uint8_t status;

	if (f->writes_inflight > 0 || f->sync_inflight)
		return;
	if (f->sha_next < f->nb_chunks) {
		uint32_t len = sfile_chunk_len(f, f->sha_next);
		uint32_t rlen = (uint32_t)SL_ALIGN_UP(len, f->align);
		ssize_t r;
		int bi;

		if (*budget == 0)
			return;
		bi = sl_bufpool_get(&e->pool);
		if (bi < 0)
			return;
		(*budget)--;
		r = pread(f->fd, sl_bufpool_addr(&e->pool, (unsigned)bi), rlen,
			  (off_t)((uint64_t)f->sha_next * f->chunk_size));
		if (r >= (ssize_t)len)
			sl_sha256_update(&f->sha, sl_bufpool_addr(&e->pool, (unsigned)bi), len);
		sl_bufpool_put(&e->pool, (unsigned)bi);
		if (r < (ssize_t)len) {
			SESS_LOG(ERR, "reading back %s failed: %s\n", f->path,
				 r < 0 ? strerror(errno) : "short read");
			e->st->io_errors++;
			file_final(e, f, SL_PROTO_STATUS_IO_ERROR);
			return;
		}
		e->st->readback_bytes += len;
		f->sha_next++;
		if (f->sha_next < f->nb_chunks)
			return;
	}
	status = publish(e, f);
	file_final(e, f, status);
}

void
sfile_poll(struct sl_session_engine *e)
{
	unsigned budget = 1;
	struct sfile *f, *next;

	for (f = e->files; f != NULL; f = next) {
		next = f->next;
		if (f->fail_status != 0 && f->state != F_DEAD) {
			file_final(e, f, f->fail_status);
			continue;
		}
		switch (f->state) {
		case F_ACTIVE:
			maybe_sync(e, f);
			break;
		case F_CLOSING:
			maybe_sync(e, f);
			if (f->writes_inflight == 0 && !f->sync_inflight && f->nb_unsynced == 0) {
				release_reservation(e, f);
				f->state = F_DEAD;
				f->shrink = true;
				file_maybe_free(e, f);
			}
			break;
		case F_COMMIT:
			commit_step(e, f, &budget);
			break;
		default:
			file_maybe_free(e, f);
			break;
		}
	}
}

void
sfile_session_closed(struct sl_session_engine *e, struct session *s)
{
	for (uint32_t i = 0; i < s->files.cap; i++) {
		struct sfile *f;

		if (s->files.used[i] != 1)
			continue;
		f = (struct sfile *)(uintptr_t)s->files.vals[i];
		/* Partial chunks go; verified ones are written, synced and
		 * recorded in the sidecar so the transfer resumes later. A
		 * file already complete is still published. */
		discard_bufs(e, f);
		f->s = NULL;
		e->st->files_active--;
		if (f->state == F_ACTIVE)
			f->state = F_CLOSING;
	}
}

bool
sfile_busy(const struct sl_session_engine *e)
{
	for (const struct sfile *f = e->files; f != NULL; f = f->next)
		if (f->state != F_ACTIVE || f->nb_unsynced > 0 || f->writes_inflight > 0 ||
		    f->sync_inflight)
			return true;
	return false;
}

void
sfile_destroy_all(struct sl_session_engine *e)
{
	/* The ring is gone: nothing is in flight any more. */
	while (e->files != NULL) {
		struct sfile *f = e->files;

		for (uint32_t bi = f->bufs; bi != NONE; bi = cb(e, bi)->next)
			cb(e, bi)->state = CB_FREE;
		f->slot = -1;
		file_free(e, f);
	}
}

/* ---- the staging sweep ---- */

/* A sidecar temporary older than this was left by a crash in mid-update
 * (a live update writes and renames it within one call). */
#define TMP_GRACE_S 60

enum staged_kind {
	SK_OTHER = 0,
	SK_DATA,  /* <identity hex>.data */
	SK_STATE, /* <identity hex>.state */
	SK_TMP,   /* <identity hex>.state.tmp */
};

static enum staged_kind
staged_kind(const char *name)
{
	const unsigned hex = 2 * SL_PROTO_SHA256_SIZE;
	const char *suffix = name + hex;

	for (unsigned i = 0; i < hex; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return SK_OTHER;
	if (strcmp(suffix, ".data") == 0)
		return SK_DATA;
	if (strcmp(suffix, ".state") == 0)
		return SK_STATE;
	if (strcmp(suffix, ".state.tmp") == 0)
		return SK_TMP;
	return SK_OTHER;
}

static bool
expired(const struct sl_session_engine *e, int64_t mtime, int64_t now)
{
	return e->p.staging_ttl_s != 0 && now - mtime > (int64_t)e->p.staging_ttl_s;
}

/*
 * One entry of the staging area. Removed: a data file without a sidecar
 * (no chunk of it can be resumed) found at start, a staged file whose
 * sidecar and data have not changed for staging_ttl_s, a lone sidecar (of
 * a publish a crash cut short after its rename) as old, and sidecar
 * temporaries left by a crash. A data file locked by a transfer in progress
 * is never touched, by any writer or another sluice on the same --dir.
 */
static void
sweep_entry(struct sl_session_engine *e, const char *name, bool startup, int64_t now)
{
	enum staged_kind kind = staged_kind(name);
	char other[2 * SL_PROTO_SHA256_SIZE + 16];
	struct stat st, ost;
	int64_t newest;
	bool has_state;
	int lockfd;

	if (kind == SK_OTHER || fstatat(e->stagefd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode))
		return;
	switch (kind) {
	case SK_TMP:
		if (startup || now - st.st_mtime > TMP_GRACE_S)
			unlinkat(e->stagefd, name, 0);
		return;
	case SK_STATE:
		snprintf(other, sizeof(other), "%.64s.data", name);
		if (fstatat(e->stagefd, other, &ost, AT_SYMLINK_NOFOLLOW) == 0)
			return; /* judged with its data file */
		if (expired(e, st.st_mtime, now) && unlinkat(e->stagefd, name, 0) == 0)
			e->st->staged_removed++;
		return;
	default:
		break;
	}
	lockfd = openat(e->stagefd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (lockfd < 0)
		return;
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0 || fstat(lockfd, &ost) < 0 ||
	    ost.st_ino != st.st_ino || ost.st_dev != st.st_dev) {
		close(lockfd);
		return;
	}
	snprintf(other, sizeof(other), "%.64s.state", name);
	has_state = fstatat(e->stagefd, other, &ost, AT_SYMLINK_NOFOLLOW) == 0;
	newest = has_state && ost.st_mtime > st.st_mtime ? ost.st_mtime : st.st_mtime;
	if ((startup && !has_state) || expired(e, newest, now)) {
		if (unlinkat(e->stagefd, name, 0) == 0)
			e->st->staged_removed++;
		unlinkat(e->stagefd, other, 0);
	}
	close(lockfd); /* releases the lock */
}

void
sfile_sweep_start(struct sl_session_engine *e)
{
	int fd;

	if (e->sweep_dir != NULL)
		return;
	fd = openat(e->stagefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	e->sweep_dir = fdopendir(fd);
	if (e->sweep_dir == NULL)
		close(fd);
}

void
sfile_sweep_stop(struct sl_session_engine *e)
{
	if (e->sweep_dir != NULL)
		closedir(e->sweep_dir);
	e->sweep_dir = NULL;
	e->next_sweep_ns = e->now_ns != 0 ? e->now_ns + SWEEP_PERIOD_NS : 0;
}

void
sfile_sweep_step(struct sl_session_engine *e, unsigned budget, bool startup)
{
	int64_t now = (int64_t)time(NULL);

	while (e->sweep_dir != NULL && budget-- > 0) {
		struct dirent *de = readdir(e->sweep_dir);

		if (de == NULL) {
			sfile_sweep_stop(e);
			return;
		}
		sweep_entry(e, de->d_name, startup, now);
	}
}
