/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include "sl_bufpool.h"
#include "sl_capture.h"
#include "sl_series.h"

RTE_LOG_REGISTER(sl_logtype_capture, sluice.capture, INFO);
#define CAP_LOG(level, fmt, ...)                                                                   \
	rte_log(RTE_LOG_##level, sl_logtype_capture, "capture: " fmt, ##__VA_ARGS__)

/* Files that may be open at once: the current one plus those still being
 * finished (last writes, trim, fsync) after a rotation. */
#define MAX_FILES 64
/* After the disk refused a write, packets are dropped (as write_error) for
 * this long before a new file is tried, so a full disk costs no syscall storm. */
#define ERROR_BACKOFF_NS 1000000000ull
#define NONE UINT32_MAX

enum cookie_kind {
	COOKIE_BUF = 0,
	COOKIE_FSYNC = 1,
	COOKIE_DIR = 2,
};
#define COOKIE(kind, idx) (((uint64_t)(kind) << 32) | (uint32_t)(idx))

enum buf_state {
	BUF_FILLING,
	BUF_HELD, /* waits for an overlapping padded write of its file */
	BUF_INFLIGHT,
	BUF_DONE,
};

struct wbuf {
	uint32_t file;
	uint8_t state;
	uint8_t padded; /* write extends past the data: the next one overlaps */
	int res;
	uint64_t offset;   /* file offset of byte 0 */
	uint32_t fill;     /* bytes of data */
	uint32_t carry;    /* leading bytes copied from a previous buffer */
	uint64_t boundary; /* start of the first record that ends in this buffer */
	uint64_t dirty_ns; /* when the first new record came in; 0 = none */
	uint32_t next;     /* file's FIFO link */
	uint32_t nrec[SL_MAX_PORTS];
	uint32_t nbytes[SL_MAX_PORTS];
};

enum file_state {
	FILE_FREE = 0,
	FILE_OPEN,
	FILE_CLOSING, /* no more data; waiting for its buffers */
	FILE_SYNCING, /* fsync in flight */
};

struct cfile {
	uint8_t state;
	bool failed;
	int fd;
	int slot;
	unsigned align;
	uint64_t start_ns;
	uint64_t size;     /* bytes serialized */
	uint64_t good_end; /* where a failed file is cut */
	uint64_t kept;     /* records retired as written */
	uint64_t prealloc; /* file size allocated ahead of the writes */
	unsigned padded_inflight;
	uint32_t fifo_head;
	uint32_t fifo_tail;
	char part[SL_SERIES_NAME_MAX];
	char final[SL_SERIES_NAME_MAX];
};

struct sl_capture {
	struct sl_capture_params p;
	struct sl_writer_stats *st;
	struct sl_series series;
	struct sl_bufpool pool;
	struct sl_uring *io;
	void *own_mem;
	int dirfd;
	unsigned dir_syncs;
	size_t header_size;
	uint8_t header[4096];
	struct sl_pcap_iface ifaces[SL_MAX_PORTS]; /* own copy; snaplen may change */
	struct wbuf *bufs;
	struct cfile files[MAX_FILES];
	uint32_t cur_file;
	uint32_t cur_buf;
	uint64_t now_ns;
	uint64_t error_until_ns;
	uint32_t ready_record; /* record size used to judge room for a burst */
	bool direct_warned;
};

static inline struct wbuf *
buf_of(struct sl_capture *c, uint32_t i)
{
	return &c->bufs[i];
}

/* The slack past each buffer holds the largest record any snaplen that fits
 * the buffer can produce, so that snaplen and format can change while the
 * writer runs without reallocating. */
static size_t
slack_size(size_t buf_size)
{
	size_t max_snap = buf_size - SL_PCAPNG_EPB_OVERHEAD;

	if (max_snap > SL_PCAP_MAX_SNAPLEN)
		max_snap = SL_PCAP_MAX_SNAPLEN;
	return sl_pcap_record_size(SL_PCAP_FORMAT_PCAPNG, (uint32_t)max_snap);
}

size_t
sl_capture_mem_size(const struct sl_capture_params *p)
{
	return sl_bufpool_mem_size(p->buf_size, slack_size(p->buf_size), p->nb_bufs);
}

static void on_io_done(void *arg, uint64_t cookie, int res);

static const char *
format_ext(enum sl_pcap_format fmt)
{
	return fmt == SL_PCAP_FORMAT_PCAP ? "pcap" : "pcapng";
}

struct sl_capture *
sl_capture_create(const struct sl_capture_params *p, int *err)
{
	struct sl_uring_params up = { 0 };
	struct sl_capture *c;
	size_t slack, mem;
	int rc;

	if (p->buf_size <= SL_PCAPNG_EPB_OVERHEAD) {
		*err = -EINVAL;
		return NULL;
	}
	slack = slack_size(p->buf_size);
	if (p->stats == NULL || p->clock == NULL || p->nb_bufs < 2 ||
	    p->buf_size < sl_pcap_record_size(p->format, p->snaplen) ||
	    p->buf_size % SL_DIRECT_ALIGN != 0 || p->snaplen == 0 || p->nb_ifaces == 0 ||
	    p->nb_ifaces > SL_MAX_PORTS || p->buf_size > UINT32_MAX / 2 || p->nb_bufs >= NONE) {
		*err = -EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	c->p = *p;
	c->st = p->stats;
	c->cur_file = NONE;
	c->cur_buf = NONE;
	c->dirfd = -1;
	for (unsigned i = 0; i < MAX_FILES; i++)
		c->files[i].fd = -1;

	for (unsigned i = 0; i < p->nb_ifaces; i++) {
		c->ifaces[i] = p->ifaces[i];
		c->ifaces[i].snaplen = p->snaplen;
	}
	c->header_size = sl_pcap_header_size(p->format, c->ifaces, p->nb_ifaces);
	if (c->header_size > sizeof(c->header) || c->header_size > p->buf_size) {
		rc = -EINVAL;
		goto fail;
	}
	sl_pcap_header_write(p->format, c->header, c->ifaces, p->nb_ifaces);

	rc = sl_series_init(&c->series, p->prefix, format_ext(p->format), p->writer_id,
			    p->rotate_size, p->rotate_ns);
	if (rc < 0)
		goto fail;
	if (p->first_seq > 1)
		c->series.next_seq = p->first_seq;

	c->dirfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		rc = -errno;
		goto fail;
	}

	mem = sl_capture_mem_size(p);
	if (p->buf_mem == NULL) {
		c->own_mem = aligned_alloc(SL_DIRECT_ALIGN, mem);
		if (c->own_mem == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	rc = sl_bufpool_init(&c->pool, p->buf_mem ? p->buf_mem : c->own_mem, p->buf_size, slack,
			     p->nb_bufs);
	if (rc < 0)
		goto fail;
	c->bufs = calloc(p->nb_bufs, sizeof(*c->bufs));
	if (c->bufs == NULL) {
		rc = -ENOMEM;
		goto fail;
	}

	up.depth = p->uring_depth;
	up.max_files = MAX_FILES;
	/* Every buffer may be in flight, plus an fsync per file and per rename. */
	up.max_ops = p->nb_bufs + 3 * MAX_FILES;
	up.pool = &c->pool;
	up.stats = &c->st->io;
	up.tsc_hz = p->tsc_hz;
	c->io = sl_uring_create(&up, &rc);
	if (c->io == NULL)
		goto fail;
	c->st->buffers_free = c->pool.nb_free;
	/* Room is judged for jumbo frames; larger ones (LRO) may still find a
	 * buffer missing mid-burst, and are then counted as nobuf. */
	c->ready_record =
		(uint32_t)sl_pcap_record_size(p->format, p->snaplen < 9216 ? p->snaplen : 9216);
	return c;

fail:
	sl_capture_destroy(c);
	*err = rc;
	return NULL;
}

void
sl_capture_destroy(struct sl_capture *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < MAX_FILES; i++)
		if (c->files[i].fd >= 0)
			close(c->files[i].fd);
	sl_uring_destroy(c->io);
	free(c->bufs);
	sl_bufpool_fini(&c->pool);
	free(c->own_mem);
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c);
}

/* ---- buffers ---- */

static uint32_t
buf_take(struct sl_capture *c, uint32_t file, uint64_t offset, uint64_t boundary)
{
	int i = sl_bufpool_get(&c->pool);
	struct wbuf *b;

	if (i < 0)
		return NONE;
	b = buf_of(c, (uint32_t)i);
	memset(b, 0, sizeof(*b));
	b->file = file;
	b->state = BUF_FILLING;
	b->offset = offset;
	b->boundary = boundary;
	b->next = NONE;
	return (uint32_t)i;
}

static void
buf_release(struct sl_capture *c, uint32_t i)
{
	sl_bufpool_put(&c->pool, i);
}

/* O_DIRECT writes that extend a file take ext4's inode lock exclusively, so
 * the kernel runs them one at a time (io_uring hands them to io-wq): the
 * disk then sees a queue depth of one. Allocating the file ahead of the
 * writes, in large steps, makes every write land inside the file and run in
 * parallel; the file is trimmed to its real length when it is finished. A
 * refusal (ENOSPC, EOPNOTSUPP) only costs that speed-up: the writes
 * themselves report a real shortage of space. */
static void
preallocate(struct sl_capture *c, struct cfile *f, uint64_t end)
{
	uint64_t step = 16 * (uint64_t)c->p.buf_size;
	uint64_t want;

	if (f->align == 1 || end <= f->prealloc || f->prealloc == UINT64_MAX)
		return;
	if (step < (64u << 20))
		step = 64u << 20;
	want = SL_ALIGN_UP(end, step);
	if (c->series.rotate_size != 0 &&
	    want > SL_ALIGN_UP(c->series.rotate_size + c->p.buf_size, SL_DIRECT_ALIGN))
		want = SL_ALIGN_UP(c->series.rotate_size + c->p.buf_size, SL_DIRECT_ALIGN);
	if (want < end)
		want = end;
	if (fallocate(f->fd, 0, (off_t)f->prealloc, (off_t)(want - f->prealloc)) == 0) {
		f->prealloc = want;
		c->st->preallocs++;
	} else {
		f->prealloc = UINT64_MAX; /* do not retry for this file */
	}
}

static void
buf_submit_now(struct sl_capture *c, uint32_t i)
{
	struct wbuf *b = buf_of(c, i);
	struct cfile *f = &c->files[b->file];
	uint32_t wlen = (uint32_t)SL_ALIGN_UP(b->fill, f->align);
	int rc;

	preallocate(c, f, b->offset + wlen);
	b->state = BUF_INFLIGHT;
	b->padded = wlen != b->fill;
	if (b->padded) {
		memset(sl_bufpool_addr(&c->pool, i) + b->fill, 0, wlen - b->fill);
		f->padded_inflight++;
	}
	rc = sl_uring_write(c->io, f->slot, (int)i, sl_bufpool_addr(&c->pool, i), wlen, b->offset,
			    COOKIE(COOKIE_BUF, i));
	if (rc < 0) {
		/* Cannot happen: max_ops covers every buffer. Fail the buffer
		 * rather than lose track of it. */
		CAP_LOG(ERR, "cannot queue a write: %s\n", strerror(-rc));
		on_io_done(c, COOKIE(COOKIE_BUF, i), rc);
	}
}

/* Append buffer @i to its file's FIFO and write it, unless an earlier padded
 * write of the same file is still in flight: the two overlap in one block, and
 * the kernel does not order concurrent writes. */
static void
buf_submit(struct sl_capture *c, uint32_t i)
{
	struct wbuf *b = buf_of(c, i);
	struct cfile *f = &c->files[b->file];

	b->next = NONE;
	if (f->fifo_tail == NONE)
		f->fifo_head = i;
	else
		buf_of(c, f->fifo_tail)->next = i;
	f->fifo_tail = i;
	if (f->padded_inflight > 0) {
		b->state = BUF_HELD;
		return;
	}
	buf_submit_now(c, i);
}

/* Records of a buffer that will never reach the file count as write errors. */
static void
buf_count_lost(struct sl_capture *c, const struct wbuf *b)
{
	for (unsigned p = 0; p < SL_MAX_PORTS; p++)
		c->st->port[p].write_error += b->nrec[p];
}

static void
buf_count_written(struct sl_capture *c, struct cfile *f, const struct wbuf *b)
{
	for (unsigned p = 0; p < SL_MAX_PORTS; p++) {
		c->st->port[p].written += b->nrec[p];
		c->st->port[p].written_bytes += b->nbytes[p];
		f->kept += b->nrec[p];
	}
}

/* ---- files ---- */

static void file_finalize(struct sl_capture *c, uint32_t fi);

static void
file_fail(struct sl_capture *c, struct cfile *f, uint64_t cut, int err)
{
	if (!f->failed) {
		f->failed = true;
		f->good_end = cut;
		c->st->file_errors++;
		CAP_LOG(ERR, "writing %s failed (%s); the file ends at byte %lu\n", f->part,
			strerror(-err), (unsigned long)cut);
	} else if (cut < f->good_end) {
		f->good_end = cut;
	}
	c->error_until_ns = c->now_ns + ERROR_BACKOFF_NS;
}

/* Retire finished buffers in file order, release held ones, and finish a
 * closing file once nothing of it is left in memory. */
static void
file_advance(struct sl_capture *c, uint32_t fi)
{
	struct cfile *f = &c->files[fi];
	uint32_t i;

	while ((i = f->fifo_head) != NONE && buf_of(c, i)->state == BUF_DONE) {
		struct wbuf *b = buf_of(c, i);

		f->fifo_head = b->next;
		if (f->fifo_head == NONE)
			f->fifo_tail = NONE;
		if (b->res < 0)
			file_fail(c, f, b->boundary, b->res);
		if (f->failed)
			buf_count_lost(c, b);
		else
			buf_count_written(c, f, b);
		buf_release(c, i);
	}
	for (i = f->fifo_head; i != NONE && f->padded_inflight == 0; i = buf_of(c, i)->next)
		if (buf_of(c, i)->state == BUF_HELD)
			buf_submit_now(c, i);
	if (f->state == FILE_CLOSING && f->fifo_head == NONE)
		file_finalize(c, fi);
}

static void
file_release(struct sl_capture *c, struct cfile *f)
{
	sl_uring_file_remove(c->io, f->slot);
	close(f->fd);
	f->fd = -1;
	f->slot = -1;
	f->state = FILE_FREE;
}

/* Everything of the file is written: cut it to its real length (padding of
 * the last O_DIRECT block, or the part after a failed write) and fsync it. */
static void
file_finalize(struct sl_capture *c, uint32_t fi)
{
	struct cfile *f = &c->files[fi];
	uint64_t end = f->failed ? f->good_end : f->size;

	if (f->failed && f->kept == 0) {
		/* Nothing but a header: not worth a file. */
		unlinkat(c->dirfd, f->part, 0);
		file_release(c, f);
		return;
	}
	if (ftruncate(f->fd, (off_t)end) < 0) {
		CAP_LOG(ERR, "cannot trim %s to %lu bytes: %s\n", f->part, (unsigned long)end,
			strerror(errno));
		c->st->file_errors++;
	}
	f->size = end;
	f->state = FILE_SYNCING;
	if (sl_uring_fsync(c->io, f->slot, false, COOKIE(COOKIE_FSYNC, fi)) < 0)
		on_io_done(c, COOKIE(COOKIE_FSYNC, fi), -EBUSY);
}

static void
file_synced(struct sl_capture *c, uint32_t fi, int res)
{
	struct cfile *f = &c->files[fi];

	if (res < 0) {
		CAP_LOG(ERR, "fsync of %s failed: %s\n", f->part, strerror(-res));
		c->st->file_errors++;
	}
	if (renameat2(c->dirfd, f->part, c->dirfd, f->final, RENAME_NOREPLACE) < 0) {
		CAP_LOG(ERR, "cannot rename %s to %s: %s\n", f->part, f->final, strerror(errno));
		c->st->file_errors++;
	} else {
		c->st->files_closed++;
		c->st->file_bytes += f->size;
		/* The rename is durable once the directory is. */
		if (sl_uring_fsync_fd(c->io, c->dirfd, COOKIE(COOKIE_DIR, 0)) == 0)
			c->dir_syncs++;
	}
	file_release(c, f);
}

static int
file_open(struct sl_capture *c)
{
	struct cfile *f = NULL;
	uint32_t fi, bi;
	uint64_t seq = c->series.next_seq;
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
	int fd, slot;

	for (fi = 0; fi < MAX_FILES; fi++) {
		if (c->files[fi].state == FILE_FREE) {
			f = &c->files[fi];
			break;
		}
	}
	if (f == NULL)
		return -EBUSY;
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->slot = -1;
	f->fifo_head = f->fifo_tail = NONE;
	f->start_ns = c->now_ns;
	sl_series_name(&c->series, seq, f->start_ns, true, f->part, sizeof(f->part));
	sl_series_name(&c->series, seq, f->start_ns, false, f->final, sizeof(f->final));

	f->align = c->p.direct ? SL_DIRECT_ALIGN : 1;
	fd = openat(c->dirfd, f->part, flags | (c->p.direct ? O_DIRECT : 0), 0644);
	if (fd < 0 && errno == EINVAL && c->p.direct) {
		/* The filesystem has no O_DIRECT (e.g. older tmpfs). */
		if (!c->direct_warned)
			CAP_LOG(WARNING, "%s: O_DIRECT refused, writing through the page cache\n",
				c->p.dir);
		c->direct_warned = true;
		f->align = 1;
		fd = openat(c->dirfd, f->part, flags, 0644);
	}
	if (fd < 0) {
		int rc = -errno;

		CAP_LOG(ERR, "cannot create %s in %s: %s\n", f->part, c->p.dir, strerror(errno));
		return rc;
	}
	/* The lock says "a writer owns this .part" to a recovery at start
	 * (sl_series_recover()). It lives on the open file description, which the
	 * io_uring file table holds too, so after a SIGKILL it is freed only once
	 * the ring is torn down and its last write has landed. Cannot fail on a
	 * file just created with O_EXCL (but on a filesystem without locks). */
	(void)flock(fd, LOCK_EX | LOCK_NB);
	slot = sl_uring_file_add(c->io, fd, f->align);
	if (slot < 0) {
		close(fd);
		unlinkat(c->dirfd, f->part, 0);
		return slot;
	}
	bi = buf_take(c, fi, 0, 0);
	if (bi == NONE) {
		sl_uring_file_remove(c->io, slot);
		close(fd);
		unlinkat(c->dirfd, f->part, 0);
		return -ENOBUFS;
	}
	f->fd = fd;
	f->slot = slot;
	f->state = FILE_OPEN;
	memcpy(sl_bufpool_addr(&c->pool, bi), c->header, c->header_size);
	buf_of(c, bi)->fill = (uint32_t)c->header_size;
	f->size = c->header_size;
	c->series.next_seq++;
	c->cur_file = fi;
	c->cur_buf = bi;
	c->st->files_opened++;
	return 0;
}

/* Stop adding to the current file and finish it once its writes are done. */
static void
file_close_current(struct sl_capture *c)
{
	uint32_t fi = c->cur_file;
	struct cfile *f;

	if (fi == NONE)
		return;
	f = &c->files[fi];
	if (c->cur_buf != NONE) {
		struct wbuf *b = buf_of(c, c->cur_buf);

		if (f->failed) {
			buf_count_lost(c, b);
			buf_release(c, c->cur_buf);
		} else if (b->fill > 0) {
			buf_submit(c, c->cur_buf);
		} else {
			buf_release(c, c->cur_buf);
		}
		c->cur_buf = NONE;
	}
	c->cur_file = NONE;
	f->state = FILE_CLOSING;
	file_advance(c, fi);
}

/* Write out a buffer that has waited --flush-interval, keeping its unaligned
 * tail (under 4 KiB) in a fresh buffer that continues at that block. */
static void
flush_current(struct sl_capture *c)
{
	struct cfile *f = &c->files[c->cur_file];
	struct wbuf *b = buf_of(c, c->cur_buf);
	uint32_t keep = b->fill % f->align;
	uint32_t from = b->fill - keep;
	uint32_t nb = NONE;

	if (keep > 0) {
		nb = buf_take(c, c->cur_file, b->offset + from, f->size);
		if (nb == NONE)
			return; /* No buffer free: try again on the next poll. */
		memcpy(sl_bufpool_addr(&c->pool, nb), sl_bufpool_addr(&c->pool, c->cur_buf) + from,
		       keep);
		buf_of(c, nb)->fill = keep;
		buf_of(c, nb)->carry = keep;
	}
	c->st->partial_flushes++;
	buf_submit(c, c->cur_buf);
	c->cur_buf = nb;
}

/* ---- completions ---- */

static void
on_io_done(void *arg, uint64_t cookie, int res)
{
	struct sl_capture *c = arg;
	uint32_t idx = (uint32_t)cookie;

	switch (cookie >> 32) {
	case COOKIE_BUF: {
		struct wbuf *b = buf_of(c, idx);
		struct cfile *f = &c->files[b->file];

		b->state = BUF_DONE;
		b->res = res < 0 ? res : 0;
		if (b->padded)
			f->padded_inflight--;
		file_advance(c, b->file);
		break;
	}
	case COOKIE_FSYNC:
		file_synced(c, idx, res);
		break;
	case COOKIE_DIR:
		c->dir_syncs--;
		if (res < 0)
			CAP_LOG(ERR, "fsync of %s failed: %s\n", c->p.dir, strerror(-res));
		break;
	}
}

/* ---- data path ---- */

unsigned
sl_capture_room(const struct sl_capture *c)
{
	uint64_t room;

	if (c->error_until_ns != 0)
		return UINT32_MAX; /* packets are being dropped as write errors */
	/* A record crossing the end of the current buffer needs a free one. */
	if (c->pool.nb_free == 0)
		return 0;
	room = (uint64_t)c->pool.nb_free * c->p.buf_size;
	if (c->cur_buf != NONE)
		room += c->p.buf_size - c->bufs[c->cur_buf].fill;
	if (c->cur_file == NONE)
		room -= c->header_size;
	room /= c->ready_record;
	/* Rotations inside the burst need file slots; those still finishing
	 * (fsync) hold theirs, so a fast rotation waits here, not in a drop. */
	if (c->series.rotate_size != 0) {
		unsigned free_files = 0;
		uint64_t per_file = c->series.rotate_size / c->ready_record + 1;

		for (unsigned i = 0; i < MAX_FILES; i++)
			free_files += c->files[i].state == FILE_FREE;
		if (free_files == 0)
			return 0;
		if (room > free_files * per_file)
			room = free_files * per_file;
	}
	return room > UINT32_MAX ? UINT32_MAX : (unsigned)room;
}

static inline uint64_t
packet_time(const struct sl_capture *c, const struct rte_mbuf *m)
{
	if (c->p.ts_offset < 0)
		return c->now_ns;
	return sl_clock_ns(c->p.clock, *RTE_MBUF_DYNFIELD(m, c->p.ts_offset, const uint64_t *));
}

static inline void
drop_rest(struct rte_mbuf **pkts, unsigned from, unsigned n, struct sl_writer_stats *st, bool nobuf)
{
	for (unsigned i = from; i < n; i++) {
		if (nobuf)
			st->port[pkts[i]->port].nobuf++;
		else
			st->port[pkts[i]->port].write_error++;
	}
}

void
sl_capture_burst(struct sl_capture *c, struct rte_mbuf **pkts, unsigned n)
{
	const enum sl_pcap_format fmt = c->p.format;
	const uint32_t snaplen = c->p.snaplen;
	const uint32_t bsize = (uint32_t)c->p.buf_size;
	struct sl_writer_stats *st = c->st;
	unsigned i;

	for (i = 0; i < n; i++)
		st->port[pkts[i]->port].dequeued++;

	if (unlikely(c->error_until_ns != 0)) {
		if (c->now_ns < c->error_until_ns) {
			drop_rest(pkts, 0, n, st, false);
			goto out;
		}
		c->error_until_ns = 0;
	}

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint16_t port = m->port;
		uint32_t len = rte_pktmbuf_pkt_len(m);
		uint32_t caplen = len < snaplen ? len : snaplen;
		uint32_t rsz = (uint32_t)sl_pcap_record_size(fmt, caplen);
		struct cfile *f;
		struct wbuf *b;
		uint64_t ts;
		uint8_t *dst;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));

		if (unlikely(c->cur_file == NONE)) {
			int rc = file_open(c);

			if (rc < 0) {
				bool nobuf = rc == -EBUSY || rc == -ENOBUFS;

				if (!nobuf)
					c->error_until_ns = c->now_ns + ERROR_BACKOFF_NS;
				drop_rest(pkts, i, n, st, nobuf);
				break;
			}
		}
		f = &c->files[c->cur_file];
		if (unlikely(c->cur_buf == NONE)) {
			c->cur_buf = buf_take(c, c->cur_file, f->size, f->size);
			if (c->cur_buf == NONE) {
				st->port[port].nobuf++;
				continue;
			}
		}
		b = buf_of(c, c->cur_buf);
		dst = sl_bufpool_addr(&c->pool, c->cur_buf) + b->fill;

		if (b->fill + rsz > bsize) {
			/* The record crosses the end: it is serialized into the
			 * slack, its overflow moves to the next buffer, and it
			 * belongs to the buffer where it ends. */
			uint32_t over = b->fill + rsz - bsize;
			uint32_t nb = buf_take(c, c->cur_file, b->offset + bsize, f->size);
			struct wbuf *n2;

			if (nb == NONE) {
				st->port[port].nobuf++;
				continue;
			}
			ts = packet_time(c, m);
			sl_pcap_record_write(fmt, dst, ts, c->p.port_iface[port], m, caplen);
			n2 = buf_of(c, nb);
			memcpy(sl_bufpool_addr(&c->pool, nb),
			       sl_bufpool_addr(&c->pool, c->cur_buf) + bsize, over);
			n2->fill = over;
			n2->nrec[port]++;
			n2->nbytes[port] += caplen;
			n2->dirty_ns = c->now_ns;
			b->fill = bsize;
			buf_submit(c, c->cur_buf);
			c->cur_buf = nb;
		} else {
			ts = packet_time(c, m);
			sl_pcap_record_write(fmt, dst, ts, c->p.port_iface[port], m, caplen);
			b->fill += rsz;
			b->nrec[port]++;
			b->nbytes[port] += caplen;
			if (b->dirty_ns == 0)
				b->dirty_ns = c->now_ns;
			if (b->fill == bsize) {
				buf_submit(c, c->cur_buf);
				c->cur_buf = NONE;
			}
		}
		if (caplen < len)
			st->port[port].truncated++;
		f->size += rsz;
		if (sl_series_size_due(&c->series, f->size))
			file_close_current(c);
	}
out:
	rte_pktmbuf_free_bulk(pkts, n);
}

void
sl_capture_poll(struct sl_capture *c, uint64_t now_ns)
{
	c->now_ns = now_ns;
	if (c->cur_file != NONE) {
		struct cfile *f = &c->files[c->cur_file];

		if (f->failed || sl_series_time_due(&c->series, f->start_ns, now_ns)) {
			file_close_current(c);
		} else if (c->cur_buf != NONE) {
			struct wbuf *b = buf_of(c, c->cur_buf);

			if (b->dirty_ns != 0 && now_ns - b->dirty_ns >= c->p.flush_ns)
				flush_current(c);
		}
	}
	sl_uring_submit(c->io);
	sl_uring_reap(c->io, on_io_done, c);
	c->st->buffers_free = c->pool.nb_free;
	c->st->buffers_in_flight = c->pool.count - c->pool.nb_free;
}

static bool
files_busy(const struct sl_capture *c)
{
	for (unsigned i = 0; i < MAX_FILES; i++)
		if (c->files[i].state != FILE_FREE)
			return true;
	return false;
}

int
sl_capture_finish(struct sl_capture *c, uint64_t timeout_ms)
{
	uint64_t now = c->now_ns;
	struct sl_uring_watch w;

	sl_uring_watch_start(c->io, &w);
	file_close_current(c);
	while (files_busy(c) || sl_uring_outstanding(c->io) > 0) {
		sl_capture_poll(c, now);
		if (!files_busy(c) && sl_uring_outstanding(c->io) == 0)
			break;
		/* Waited for while the disk answers at all, saying so. */
		if (sl_uring_watch_check(c->io, &w, timeout_ms, c->p.writer_id) < 0)
			return -ETIMEDOUT;
		sl_uring_wait(c->io, 1000);
	}
	return 0;
}

int
sl_capture_reconfigure(struct sl_capture *c, enum sl_pcap_format format, uint32_t snaplen,
		       uint64_t rotate_size, uint64_t rotate_ns)
{
	size_t hdr;

	if (snaplen == 0 || sl_pcap_record_size(SL_PCAP_FORMAT_PCAPNG, snaplen) > c->p.buf_size)
		return -EINVAL;
	c->p.format = format;
	c->p.snaplen = snaplen;
	for (unsigned i = 0; i < c->p.nb_ifaces; i++)
		c->ifaces[i].snaplen = snaplen;
	hdr = sl_pcap_header_size(format, c->ifaces, c->p.nb_ifaces);
	if (hdr > sizeof(c->header))
		return -EINVAL;
	/* Every file holds one format and one snaplen: start a new one. */
	file_close_current(c);
	c->header_size = sl_pcap_header_write(format, c->header, c->ifaces, c->p.nb_ifaces);
	c->series.ext = format_ext(format);
	c->series.rotate_size = rotate_size;
	c->series.rotate_ns = rotate_ns;
	c->ready_record = (uint32_t)sl_pcap_record_size(format, snaplen < 9216 ? snaplen : 9216);
	return 0;
}

uint64_t
sl_capture_next_seq(const struct sl_capture *c)
{
	return c->series.next_seq;
}

unsigned
sl_capture_outstanding(const struct sl_capture *c)
{
	return sl_uring_outstanding(c->io);
}

void
sl_capture_idle_wait(struct sl_capture *c, uint32_t usec)
{
	if (sl_uring_outstanding(c->io) > 0)
		sl_uring_wait(c->io, usec);
	else
		usleep(usec);
}

void
sl_capture_set_fault(struct sl_capture *c, sl_uring_fault_fn fn, void *arg)
{
	sl_uring_set_fault(c->io, fn, arg);
}

/* ---- the writer lcore ---- */

#define WRITER_MAX_BURST 512

int
sl_capture_lcore_main(void *arg)
{
	struct sl_capture_lcore *w = arg;
	struct rte_mbuf *pkts[WRITER_MAX_BURST];
	unsigned burst = w->burst > WRITER_MAX_BURST ? WRITER_MAX_BURST : w->burst;
	struct sl_capture *c;
	unsigned gen;
	int rc = 0;

	c = sl_capture_create(&w->params, &rc);
	if (c == NULL) {
		w->error = rc;
		__atomic_store_n(&w->state, SL_CAPTURE_LCORE_FAILED, __ATOMIC_RELEASE);
		return rc;
	}
	if (w->fault != NULL)
		sl_capture_set_fault(c, w->fault, w->fault_arg);
	__atomic_store_n(&w->state, SL_CAPTURE_LCORE_RUNNING, __ATOMIC_RELEASE);
	/* Set the writer's clock before the first burst, which would otherwise open its
	 * first file (and stamp packets) at time 0. */
	sl_capture_poll(c, sl_clock_ns(w->params.clock, rte_rdtsc()));
	gen = __atomic_load_n(&w->live_gen, __ATOMIC_ACQUIRE);

	for (;;) {
		unsigned got = 0;
		uint64_t now;
		bool ready;

		if (unlikely(__atomic_load_n(&w->live_gen, __ATOMIC_ACQUIRE) != gen)) {
			gen = __atomic_load_n(&w->live_gen, __ATOMIC_ACQUIRE);
			if (sl_capture_reconfigure(c, w->live.format, w->live.snaplen,
						   w->live.rotate_size, w->live.rotate_ns) < 0)
				CAP_LOG(ERR, "writer %u: snaplen %u does not fit a buffer\n",
					w->params.writer_id, w->live.snaplen);
		}
		ready = sl_capture_room(c) > 0;

		if (ready != !w->backlog)
			__atomic_store_n(&w->backlog, !ready, __ATOMIC_RELAXED);
		for (unsigned r = 0; ready && r < w->nb_rings; r++) {
			unsigned room = sl_capture_room(c);
			unsigned k = rte_ring_sc_dequeue_burst(w->rings[r], (void **)pkts,
							       room < burst ? room : burst, NULL);

			if (k > 0) {
				sl_capture_burst(c, pkts, k);
				got += k;
			}
		}
		now = sl_clock_ns(w->params.clock, rte_rdtsc());
		sl_capture_poll(c, now);
		if (got > 0) {
			w->params.stats->busy_polls++;
			continue;
		}
		w->params.stats->idle_polls++;
		if (!ready) {
			/* Wait for the disk: a completion frees a buffer. */
			w->params.stats->backlog_polls++;
			if (w->idle_sleep_us > 0)
				sl_capture_idle_wait(c, w->idle_sleep_us);
			continue;
		}
		if (__atomic_load_n(w->rx_running, __ATOMIC_ACQUIRE) == 0) {
			bool empty = true;

			for (unsigned r = 0; r < w->nb_rings; r++)
				empty = empty && rte_ring_empty(w->rings[r]);
			if (empty)
				break;
			continue;
		}
		if (w->idle_sleep_us > 0)
			sl_capture_idle_wait(c, w->idle_sleep_us);
	}
	rc = sl_capture_finish(c, 120000);
	/* A later start continues the series. */
	w->params.first_seq = sl_capture_next_seq(c);
	sl_capture_destroy(c);
	w->error = rc;
	__atomic_store_n(&w->state, rc == 0 ? SL_CAPTURE_LCORE_DONE : SL_CAPTURE_LCORE_FAILED,
			 __ATOMIC_RELEASE);
	return rc;
}

/* ---- the disk benchmark (--perf-test=disk) ---- */

int
sl_capture_perf_lcore_main(void *arg)
{
	struct sl_capture_perf_lcore *w = arg;
	struct rte_mbuf *pkts[SL_CAPTURE_PERF_FRAMES];
	const unsigned n = w->nb_frames;
	uint64_t start, deadline, now;
	struct sl_capture *c;
	int rc = 0;

	if (n == 0 || n > SL_CAPTURE_PERF_FRAMES) {
		w->error = -EINVAL;
		__atomic_store_n(&w->state, SL_CAPTURE_LCORE_FAILED, __ATOMIC_RELEASE);
		return -EINVAL;
	}
	c = sl_capture_create(&w->params, &rc);
	if (c == NULL) {
		w->error = rc;
		__atomic_store_n(&w->state, SL_CAPTURE_LCORE_FAILED, __ATOMIC_RELEASE);
		return rc;
	}
	__atomic_store_n(&w->state, SL_CAPTURE_LCORE_RUNNING, __ATOMIC_RELEASE);
	start = sl_clock_ns(w->params.clock, rte_rdtsc());
	deadline = start + w->duration_ns;
	sl_capture_poll(c, start);
	for (now = start; now < deadline; now = sl_clock_ns(w->params.clock, rte_rdtsc())) {
		unsigned room, k;

		if (w->stop != NULL && __atomic_load_n(w->stop, __ATOMIC_ACQUIRE) != 0)
			break;
		room = sl_capture_room(c);
		k = room < n ? room : n;
		if (k == 0) {
			/* The disk is behind: wait for a completion, as a writer
			 * with a backlog does. */
			w->params.stats->backlog_polls++;
			sl_capture_poll(c, now);
			sl_capture_idle_wait(c, 100);
			continue;
		}
		/* The writer frees what it serializes: a reference each keeps
		 * the frames for the next round. */
		for (unsigned i = 0; i < k; i++) {
			rte_mbuf_refcnt_update(w->frames[i], 1);
			pkts[i] = w->frames[i];
		}
		sl_capture_burst(c, pkts, k);
		w->records += k;
		w->params.stats->busy_polls++;
		sl_capture_poll(c, now);
	}
	rc = sl_capture_finish(c, 120000);
	w->elapsed_ns = sl_clock_ns(w->params.clock, rte_rdtsc()) - start;
	sl_capture_destroy(c);
	w->error = rc;
	__atomic_store_n(&w->state, rc == 0 ? SL_CAPTURE_LCORE_DONE : SL_CAPTURE_LCORE_FAILED,
			 __ATOMIC_RELEASE);
	return rc;
}
