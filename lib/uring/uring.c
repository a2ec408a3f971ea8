/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <liburing.h>
#include <rte_cycles.h>
#include <rte_log.h>

#include "sl_common.h"
#include "sl_uring.h"

RTE_LOG_REGISTER(sl_logtype_uring, sluice.uring, INFO);
#define URING_LOG(level, ...) rte_log(RTE_LOG_##level, sl_logtype_uring, "uring: " __VA_ARGS__)

enum op_kind {
	OP_WRITE = 0,
	OP_FSYNC = 1,
};

#define NO_OP UINT32_MAX
/* A short write that makes no progress this many times in a row fails. */
#define MAX_STALLS 8

struct op {
	uint8_t kind;
	uint8_t datasync;
	uint8_t stalls;
	uint8_t fixed_fd; /* fd below is a slot of the registered table */
	int fd;           /* slot or descriptor */
	int buf_idx;
	unsigned align;
	const uint8_t *addr;
	uint32_t len;
	uint32_t done;
	uint64_t offset;
	uint64_t cookie;
	uint64_t tsc_queued;
	uint32_t next; /* pending list or free list link */
};

struct file_slot {
	int fd; /* -1 when free */
	unsigned align;
};

struct sl_uring {
	struct io_uring ring;
	struct sl_io_stats *st;
	struct op *ops;
	unsigned max_ops;
	uint32_t free_head;
	uint32_t pend_head;
	uint32_t pend_tail;
	unsigned nb_pending;
	unsigned nb_inflight;
	struct file_slot *files;
	unsigned max_files;
	bool fixed_files;
	bool fixed_buffers;
	uint64_t tsc_hz;
	uint64_t nb_finished; /* operations finished (their callback ran), ever */
	sl_uring_fault_fn fault;
	void *fault_arg;
};

static uint32_t
op_alloc(struct sl_uring *u)
{
	uint32_t i = u->free_head;

	if (i != NO_OP)
		u->free_head = u->ops[i].next;
	return i;
}

static void
op_free(struct sl_uring *u, uint32_t i)
{
	u->ops[i].next = u->free_head;
	u->free_head = i;
}

static void
pending_push(struct sl_uring *u, uint32_t i)
{
	u->ops[i].next = NO_OP;
	if (u->pend_tail == NO_OP)
		u->pend_head = i;
	else
		u->ops[u->pend_tail].next = i;
	u->pend_tail = i;
	u->nb_pending++;
}

static uint32_t
pending_pop(struct sl_uring *u)
{
	uint32_t i = u->pend_head;

	if (i == NO_OP)
		return NO_OP;
	u->pend_head = u->ops[i].next;
	if (u->pend_head == NO_OP)
		u->pend_tail = NO_OP;
	u->nb_pending--;
	return i;
}

static int
ring_init(struct sl_uring *u, unsigned depth, unsigned cq_entries)
{
	struct io_uring_params params;
	/* Newest flags first; older kernels refuse them with -EINVAL. */
	static const unsigned flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	int rc = -EINVAL;

	for (unsigned i = 0; i < SL_ARRAY_SIZE(flag_sets); i++) {
		memset(&params, 0, sizeof(params));
		params.flags = flag_sets[i] | IORING_SETUP_CQSIZE;
		params.cq_entries = cq_entries;
		rc = io_uring_queue_init_params(depth, &u->ring, &params);
		if (rc != -EINVAL)
			break;
	}
	return rc;
}

struct sl_uring *
sl_uring_create(const struct sl_uring_params *p, int *err)
{
	struct sl_uring *u;
	unsigned cq;
	int rc;

	u = calloc(1, sizeof(*u));
	if (u == NULL || p->stats == NULL || p->depth == 0 || p->max_ops == 0) {
		rc = u == NULL ? -ENOMEM : -EINVAL;
		goto fail;
	}
	u->st = p->stats;
	u->tsc_hz = p->tsc_hz;
	u->max_ops = p->max_ops;
	u->max_files = p->max_files ? p->max_files : 1;
	u->ops = calloc(u->max_ops, sizeof(*u->ops));
	u->files = calloc(u->max_files, sizeof(*u->files));
	if (u->ops == NULL || u->files == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	u->free_head = NO_OP;
	for (unsigned i = u->max_ops; i-- > 0;)
		op_free(u, i);
	u->pend_head = u->pend_tail = NO_OP;
	for (unsigned i = 0; i < u->max_files; i++)
		u->files[i].fd = -1;

	/* The CQ holds every operation that can be in flight, so it never overflows. */
	cq = u->max_ops > 2 * p->depth ? u->max_ops : 2 * p->depth;
	rc = ring_init(u, p->depth, cq);
	if (rc < 0)
		goto fail;

	rc = io_uring_register_files_sparse(&u->ring, u->max_files);
	u->fixed_files = rc == 0;
	if (rc < 0)
		URING_LOG(WARNING, "registered files unavailable (%s); using plain descriptors\n",
			  strerror(-rc));

	if (p->pool != NULL) {
		struct iovec *iov = calloc(p->pool->count, sizeof(*iov));

		if (iov == NULL) {
			rc = -ENOMEM;
			goto fail_ring;
		}
		sl_bufpool_iovecs(p->pool, iov);
		rc = io_uring_register_buffers(&u->ring, iov, p->pool->count);
		free(iov);
		u->fixed_buffers = rc == 0;
		if (rc < 0)
			URING_LOG(WARNING,
				  "cannot register %u write buffers (%s); using plain writes\n",
				  p->pool->count, strerror(-rc));
	}
	return u;

fail_ring:
	io_uring_queue_exit(&u->ring);
fail:
	if (u != NULL) {
		free(u->ops);
		free(u->files);
		free(u);
	}
	*err = rc;
	return NULL;
}

void
sl_uring_destroy(struct sl_uring *u)
{
	if (u == NULL)
		return;
	io_uring_queue_exit(&u->ring);
	free(u->ops);
	free(u->files);
	free(u);
}

bool
sl_uring_buffers_registered(const struct sl_uring *u)
{
	return u->fixed_buffers;
}

int
sl_uring_file_add(struct sl_uring *u, int fd, unsigned align)
{
	for (unsigned i = 0; i < u->max_files; i++) {
		if (u->files[i].fd >= 0)
			continue;
		if (u->fixed_files) {
			int rc = io_uring_register_files_update(&u->ring, i, &fd, 1);

			if (rc < 0)
				return rc;
		}
		u->files[i].fd = fd;
		u->files[i].align = align ? align : 1;
		return (int)i;
	}
	return -ENFILE;
}

void
sl_uring_file_remove(struct sl_uring *u, int slot)
{
	int none = -1;

	if (slot < 0 || (unsigned)slot >= u->max_files || u->files[slot].fd < 0)
		return;
	if (u->fixed_files)
		io_uring_register_files_update(&u->ring, (unsigned)slot, &none, 1);
	u->files[slot].fd = -1;
}

static struct op *
op_new(struct sl_uring *u, uint32_t *idx)
{
	uint32_t i = op_alloc(u);
	struct op *o;

	if (i == NO_OP)
		return NULL;
	o = &u->ops[i];
	memset(o, 0, sizeof(*o));
	o->buf_idx = -1;
	o->align = 1;
	o->tsc_queued = u->tsc_hz ? rte_rdtsc() : 0;
	*idx = i;
	return o;
}

static void
op_set_file(struct sl_uring *u, struct op *o, int slot)
{
	o->fixed_fd = u->fixed_files;
	o->fd = u->fixed_files ? slot : u->files[slot].fd;
	o->align = u->files[slot].align;
}

int
sl_uring_write(struct sl_uring *u, int slot, int buf_idx, const void *addr, uint32_t len,
	       uint64_t offset, uint64_t cookie)
{
	uint32_t i;
	struct op *o = op_new(u, &i);

	if (o == NULL)
		return -EBUSY;
	o->kind = OP_WRITE;
	op_set_file(u, o, slot);
	o->buf_idx = u->fixed_buffers ? buf_idx : -1;
	o->addr = addr;
	o->len = len;
	o->offset = offset;
	o->cookie = cookie;
	pending_push(u, i);
	return 0;
}

int
sl_uring_fsync(struct sl_uring *u, int slot, bool datasync, uint64_t cookie)
{
	uint32_t i;
	struct op *o = op_new(u, &i);

	if (o == NULL)
		return -EBUSY;
	o->kind = OP_FSYNC;
	o->datasync = datasync;
	op_set_file(u, o, slot);
	o->cookie = cookie;
	pending_push(u, i);
	return 0;
}

int
sl_uring_fsync_fd(struct sl_uring *u, int fd, uint64_t cookie)
{
	uint32_t i;
	struct op *o = op_new(u, &i);

	if (o == NULL)
		return -EBUSY;
	o->kind = OP_FSYNC;
	o->fd = fd;
	o->cookie = cookie;
	pending_push(u, i);
	return 0;
}

static void
prep(struct io_uring_sqe *sqe, struct op *o, uint32_t idx)
{
	if (o->kind == OP_WRITE) {
		const uint8_t *a = o->addr + o->done;
		unsigned n = o->len - o->done;

		if (o->buf_idx >= 0)
			io_uring_prep_write_fixed(sqe, o->fd, a, n, o->offset + o->done,
						  o->buf_idx);
		else
			io_uring_prep_write(sqe, o->fd, a, n, o->offset + o->done);
	} else {
		io_uring_prep_fsync(sqe, o->fd, o->datasync ? IORING_FSYNC_DATASYNC : 0);
	}
	if (o->fixed_fd)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, (uint64_t)idx + 1);
}

unsigned
sl_uring_submit(struct sl_uring *u)
{
	unsigned prepared = 0;
	int rc;

	while (u->pend_head != NO_OP) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
		uint32_t i;

		if (sqe == NULL) {
			u->st->sq_full++;
			break;
		}
		i = pending_pop(u);
		prep(sqe, &u->ops[i], i);
		prepared++;
	}
	if (io_uring_sq_ready(&u->ring) == 0)
		return 0;
	rc = io_uring_submit(&u->ring);
	if (rc < 0) {
		/* The SQEs stay in the ring and go with the next submit. */
		if (rc != -EAGAIN && rc != -EBUSY && rc != -EINTR)
			URING_LOG(ERR, "io_uring_submit: %s\n", strerror(-rc));
		u->st->sq_full++;
		return 0;
	}
	u->nb_inflight += (unsigned)rc;
	u->st->submit_calls++;
	u->st->sqes += (unsigned)rc;
	if ((uint64_t)rc > u->st->max_batch)
		u->st->max_batch = (uint64_t)rc;
	u->st->inflight = u->nb_inflight;
	u->st->pending = u->nb_pending;
	(void)prepared;
	return (unsigned)rc;
}

/* Queue to completion of a write, or of an fsync: a slow disk shows in one, a
 * journal or device cache flush that stalls (a file's close waits for it) in the other. */
static void
note_latency(struct sl_uring *u, const struct op *o)
{
	uint64_t ns;

	if (u->tsc_hz == 0)
		return;
	ns = (rte_rdtsc() - o->tsc_queued) * 1000000000ull / u->tsc_hz;
	if (o->kind == OP_WRITE) {
		u->st->lat_count++;
		u->st->lat_sum_ns += ns;
		if (ns > u->st->lat_max_ns)
			u->st->lat_max_ns = ns;
	} else {
		u->st->fsync_lat_count++;
		u->st->fsync_lat_sum_ns += ns;
		if (ns > u->st->fsync_lat_max_ns)
			u->st->fsync_lat_max_ns = ns;
	}
}

static void
note_error(struct sl_uring *u, int res)
{
	u->st->errors++;
	if (res == -ENOSPC || res == -EDQUOT)
		u->st->enospc++;
	u->st->last_errno = -res;
}

/* Returns true when the operation is finished (its callback is due). */
static bool
complete_write(struct sl_uring *u, struct op *o, uint32_t idx, int *res)
{
	if (*res == -EAGAIN || *res == -EINTR) {
		u->st->retries++;
		pending_push(u, idx);
		return false;
	}
	if (*res < 0) {
		note_error(u, *res);
		return true;
	}
	if (o->done + (uint32_t)*res < o->len) {
		uint32_t before = o->done;

		u->st->short_writes++;
		o->done += (uint32_t)*res;
		/* O_DIRECT needs the remainder to start aligned: write the
		 * partial block again from its start. */
		o->done = SL_ALIGN_DOWN(o->done, o->align);
		o->stalls = o->done > before ? 0 : o->stalls + 1;
		if (o->stalls >= MAX_STALLS) {
			*res = -EIO;
			note_error(u, *res);
			return true;
		}
		pending_push(u, idx);
		return false;
	}
	u->st->writes++;
	u->st->write_bytes += o->len;
	note_latency(u, o);
	*res = (int)o->len;
	return true;
}

unsigned
sl_uring_reap(struct sl_uring *u, sl_uring_done_fn fn, void *arg)
{
	struct io_uring_cqe *cqes[64];
	unsigned finished = 0, n;

	do {
		uint64_t data[64];
		int res[64];

		n = io_uring_peek_batch_cqe(&u->ring, cqes, SL_ARRAY_SIZE(cqes));
		/* Copy out and release the CQ slots first so that callbacks may
		 * queue and even submit new operations. */
		for (unsigned i = 0; i < n; i++) {
			data[i] = io_uring_cqe_get_data64(cqes[i]);
			res[i] = cqes[i]->res;
		}
		io_uring_cq_advance(&u->ring, n);
		u->nb_inflight -= n;

		for (unsigned i = 0; i < n; i++) {
			uint32_t idx = (uint32_t)(data[i] - 1);
			struct op *o = &u->ops[idx];
			int r = res[i];
			uint64_t cookie;
			bool done;

			if (u->fault != NULL)
				r = u->fault(u->fault_arg, o->kind, o->offset + o->done,
					     o->len - o->done, r);
			if (o->kind == OP_WRITE) {
				done = complete_write(u, o, idx, &r);
			} else {
				done = true;
				if (r < 0) {
					note_error(u, r);
				} else {
					u->st->fsyncs++;
					note_latency(u, o);
				}
			}
			if (!done)
				continue;
			finished++;
			u->nb_finished++;
			cookie = o->cookie;
			op_free(u, idx);
			fn(arg, cookie, r);
		}
	} while (n == SL_ARRAY_SIZE(cqes));
	u->st->inflight = u->nb_inflight;
	u->st->pending = u->nb_pending;
	return finished;
}

void
sl_uring_wait(struct sl_uring *u, uint32_t timeout_us)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_us / 1000000,
		.tv_nsec = (long long)(timeout_us % 1000000) * 1000,
	};
	struct io_uring_cqe *cqe;

	if (u->nb_inflight == 0)
		return;
	io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts);
}

unsigned
sl_uring_outstanding(const struct sl_uring *u)
{
	return u->nb_inflight + u->nb_pending;
}

uint64_t
sl_uring_finished(const struct sl_uring *u)
{
	return u->nb_finished;
}

void
sl_uring_watch_start(const struct sl_uring *u, struct sl_uring_watch *w)
{
	w->finished = u->nb_finished;
	w->since_ns = sl_monotonic_ns();
	w->noted = 0;
}

uint64_t
sl_uring_silent_ns(const struct sl_uring *u, struct sl_uring_watch *w)
{
	uint64_t now = sl_monotonic_ns();

	if (u->nb_finished != w->finished) {
		w->finished = u->nb_finished;
		w->since_ns = now;
		w->noted = 0;
	}
	return now - w->since_ns;
}

bool
sl_uring_watch_due(struct sl_uring_watch *w, uint64_t silent_ns, uint64_t every_ns)
{
	if (every_ns == 0 || silent_ns / every_ns <= w->noted)
		return false;
	w->noted = silent_ns / every_ns;
	return true;
}

int
sl_uring_watch_check(const struct sl_uring *u, struct sl_uring_watch *w, uint64_t timeout_ms,
		     unsigned writer_id)
{
	uint64_t silent = sl_uring_silent_ns(u, w);

	if (sl_uring_watch_due(w, silent, timeout_ms * 100000ull))
		URING_LOG(WARNING,
			  "writer %u: stopping: waiting for %u I/O operations, none finished for "
			  "%.1f s\n",
			  writer_id, sl_uring_outstanding(u), (double)silent / 1e9);
	if (silent <= timeout_ms * 1000000ull)
		return 0;
	URING_LOG(ERR,
		  "writer %u: no I/O completed for %llu s: %u I/O operations still pending at "
		  "exit\n",
		  writer_id, (unsigned long long)(timeout_ms / 1000), sl_uring_outstanding(u));
	return -ETIMEDOUT;
}

void
sl_uring_set_fault(struct sl_uring *u, sl_uring_fault_fn fn, void *arg)
{
	u->fault = fn;
	u->fault_arg = arg;
}

/* ---- the fault seam of the tests (SLUICE_FAULT_URING) ---- */

static const struct {
	const char *name;
	int value;
} errno_names[] = {
	{ "EIO", EIO },       { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT }, { "EROFS", EROFS },
	{ "EFBIG", EFBIG },   { "EBADF", EBADF },   { "EINVAL", EINVAL }, { "ENOMEM", ENOMEM },
	{ "EPERM", EPERM },   { "EACCES", EACCES }, { "ENXIO", ENXIO },   { "ENODEV", ENODEV },
	{ "EAGAIN", EAGAIN }, { "EINTR", EINTR },
};

const char *
sl_uring_fault_errno_name(int error)
{
	for (size_t i = 0; i < SL_ARRAY_SIZE(errno_names); i++)
		if (errno_names[i].value == error)
			return errno_names[i].name;
	return NULL;
}

/* A decimal number of [min, max], the whole of @s. */
static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
sl_uring_fault_parse(const char *text, struct sl_uring_fault_spec *spec, char *err, size_t errlen)
{
	char buf[256], *save = NULL, *item;
	uint64_t v;

	memset(spec, 0, sizeof(*spec));
	spec->kinds = SL_URING_FAULT_WRITE;
	spec->error = EIO;
	spec->writer = -1;
	if (text == NULL || text[0] == '\0' || strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "empty or longer than %zu bytes", sizeof(buf) - 1);
		return -EINVAL;
	}
	memcpy(buf, text, strlen(text) + 1);
	for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		char *val = strchr(item, '=');

		if (val == NULL) {
			snprintf(err, errlen, "'%s' is not KEY=VALUE", item);
			return -EINVAL;
		}
		*val++ = '\0';
		if (strcmp(item, "op") == 0) {
			if (strcmp(val, "write") == 0)
				spec->kinds = SL_URING_FAULT_WRITE;
			else if (strcmp(val, "fsync") == 0)
				spec->kinds = SL_URING_FAULT_FSYNC;
			else if (strcmp(val, "any") == 0)
				spec->kinds = SL_URING_FAULT_WRITE | SL_URING_FAULT_FSYNC;
			else
				goto bad_value;
		} else if (strcmp(item, "errno") == 0) {
			size_t i;

			for (i = 0; i < SL_ARRAY_SIZE(errno_names); i++)
				if (strcmp(val, errno_names[i].name) == 0)
					break;
			if (i < SL_ARRAY_SIZE(errno_names))
				spec->error = errno_names[i].value;
			else if (parse_u64(val, 1, 4095, &v) == 0)
				spec->error = (int)v;
			else
				goto bad_value;
		} else if (strcmp(item, "after") == 0) {
			if (parse_u64(val, 0, UINT64_MAX - 1, &spec->after) < 0)
				goto bad_value;
		} else if (strcmp(item, "count") == 0) {
			if (parse_u64(val, 0, UINT64_MAX - 1, &spec->count) < 0)
				goto bad_value;
		} else if (strcmp(item, "writer") == 0) {
			if (parse_u64(val, 0, SL_MAX_LCORES - 1, &v) < 0)
				goto bad_value;
			spec->writer = (int)v;
		} else {
			snprintf(err, errlen, "unknown key '%s' (op, errno, after, count, writer)",
				 item);
			return -EINVAL;
		}
		continue;
	bad_value:
		snprintf(err, errlen, "bad value '%s' for %s", val, item);
		return -EINVAL;
	}
	if ((spec->error == EAGAIN || spec->error == EINTR) && spec->count == 0) {
		snprintf(err, errlen, "errno=%s is retried: it needs a count",
			 sl_uring_fault_errno_name(spec->error));
		return -EINVAL;
	}
	return 0;
}

int
sl_uring_fault_inject(void *arg, int kind, uint64_t offset, uint32_t len, int res)
{
	struct sl_uring_fault *f = arg;
	unsigned bit = kind == OP_WRITE ? SL_URING_FAULT_WRITE : SL_URING_FAULT_FSYNC;

	(void)offset;
	(void)len;
	if (!(f->spec.kinds & bit))
		return res;
	if (f->seen++ < f->spec.after)
		return res;
	if (f->spec.count != 0 && f->fired >= f->spec.count)
		return res;
	f->fired++;
	return -f->spec.error;
}
