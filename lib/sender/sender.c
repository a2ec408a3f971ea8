/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_common.h"
#include "sl_sender.h"

/* Datagrams one sl_sender_output() call may produce at most (the arena's slots). */
#define OUT_SLOTS 64
/* Retransmission entries per file: pending ones and those sent within the last RTT. */
#define RETX_MAX 1024
/* A tail retransmission resends at most this many datagrams' worth before the end. */
#define TAIL_DATAGRAMS 16
/* Bytes digested per sl_sender_output() call, so that ACKs keep being served. */
#define DIGEST_BUDGET (8u << 20)
/* Read-ahead buffer for DATA payloads. */
#define READ_CACHE (256u << 10)
#define BYE_COUNT 3
#define BYE_GAP_NS 20000000ull
#define HANDSHAKE_RETRY_MAX_NS 2000000000ull
#define HANDSHAKE_RESTARTS 2
#define RTT_MIN_NS 1000000ull
#define SECOND_NS 1000000000ull

struct retx {
	uint64_t off;
	uint32_t len;
	uint32_t done;    /* Bytes of it sent so far. */
	uint64_t sent_ns; /* When its last byte went out (valid once done == len). */
	bool ack_now;     /* Set "ack now" on its last datagram (tail). */
};

enum xstate {
	X_DIGEST,   /* Computing chunk CRCs and the SHA-256. */
	X_MANIFEST, /* Manifest sent, no FILE_STATUS yet. */
	X_READY,    /* READY received: sending DATA. */
};

/* A file in progress. */
struct xfile {
	struct sl_sender_file *f;
	uint32_t id;
	int fd;
	enum xstate state;
	uint64_t size;
	uint32_t mode;
	int64_t mtime_ns;
	uint32_t nchunks, digested;
	uint32_t *crcs;
	struct sl_sha256 sha_ctx;
	bool sha_open;
	uint8_t sha[SL_PROTO_SHA256_SIZE];
	bool manifest_now; /* Send the MANIFEST at the next output. */
	bool manifest_sent;
	uint64_t manifest_at, manifest_wait;
	uint32_t digests_next, digests_end; /* DIGESTS still to send. */
	uint64_t digests_sent_ns;
	struct sl_proto_range *durable; /* From READY. */
	uint16_t ndurable;
	uint64_t cursor; /* Next new byte. */
	uint64_t skipped_bytes;
	uint32_t received_upto, durable_upto;
	uint64_t seen; /* Estimate of the receiver's highest byte seen. */
	uint64_t max_missing_end;
	uint64_t progress_ns; /* Last ACK showing progress for this file. */
	uint64_t tail_wait;   /* 0: two RTTs; doubles while tails bring no progress. */
	struct retx *retx;
	unsigned nretx, retx_pending;
};

struct sl_sender {
	struct sl_sender_config cfg;
	struct sl_sender_list *list;
	enum sl_sender_phase phase;
	uint64_t start_ns;

	/* Handshake. */
	bool hs_connect; /* false: HELLO phase; true: CONNECT phase. */
	uint8_t nonce[SL_PROTO_NONCE_SIZE];
	struct sl_proto_cookie cookie;
	uint64_t hs_sent_ns, hs_next_ns, hs_wait_ns;
	unsigned hs_tries, hs_restarts;

	/* Session. */
	uint64_t session;
	uint16_t payload;
	uint32_t data_max;
	uint32_t chunk, max_chunk;
	uint16_t max_files;
	unsigned inflight_cap;
	uint64_t credit_limit, new_total;

	/* Files: by_id[id - 1]; active in id order. */
	struct xfile **by_id;
	struct xfile **active;
	unsigned nactive;
	unsigned next_admit;
	uint64_t final_bytes;
	uint8_t *chunk_buf;

	/* Read cache. */
	uint8_t *rbuf;
	const struct xfile *rfile;
	uint64_t roff;
	size_t rlen;

	/* Output arena. */
	uint8_t *arena;
	size_t stride;
	struct sl_sender_dgram *out;
	unsigned nout, maxout;

	/* Pacing and congestion. */
	struct sl_sender_bucket bucket;
	uint64_t cc_rate, cc_changed_ns;
	bool rate_limited;

	/* RTT. */
	uint64_t srtt;
	bool acknow_out;
	uint64_t acknow_ns;

	uint64_t progress_ns; /* Anything at all moved. */
	unsigned bye_sent;
	uint64_t bye_next;
	struct sl_sender_stats st;
};

static void event(struct sl_sender *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
event(struct sl_sender *s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (s->cfg.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->cfg.log(s->cfg.log_arg, msg);
}

/* Token bucket. */

static void
bucket_refill(struct sl_sender_bucket *b, uint64_t now_ns)
{
	if (now_ns > b->last_ns) {
		b->tokens += (double)(now_ns - b->last_ns) * (double)b->rate_bps / 8e9;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
	}
	if (now_ns > b->last_ns)
		b->last_ns = now_ns;
}

void
sl_sender_bucket_init(struct sl_sender_bucket *b, uint64_t rate_bps, uint64_t burst,
		      uint64_t now_ns)
{
	b->rate_bps = rate_bps;
	b->burst = (double)burst;
	b->tokens = (double)burst;
	b->last_ns = now_ns;
}

void
sl_sender_bucket_set_rate(struct sl_sender_bucket *b, uint64_t rate_bps, uint64_t now_ns)
{
	bucket_refill(b, now_ns);
	b->rate_bps = rate_bps;
}

bool
sl_sender_bucket_take(struct sl_sender_bucket *b, uint64_t bytes, uint64_t now_ns)
{
	if (b->rate_bps == 0)
		return true;
	bucket_refill(b, now_ns);
	if (b->tokens < (double)bytes)
		return false;
	b->tokens -= (double)bytes;
	return true;
}

uint64_t
sl_sender_bucket_wait_ns(struct sl_sender_bucket *b, uint64_t bytes, uint64_t now_ns)
{
	double need;

	if (b->rate_bps == 0)
		return 0;
	bucket_refill(b, now_ns);
	need = (double)bytes - b->tokens;
	if (need <= 0)
		return 0;
	/* Rounded up, so that waiting this long always suffices. */
	return (uint64_t)(need * 8e9 / (double)b->rate_bps) + 1;
}

/* Charge control messages, which are never held back: the bucket may go below zero. */
static void
bucket_charge(struct sl_sender_bucket *b, uint64_t bytes, uint64_t now_ns)
{
	if (b->rate_bps == 0)
		return;
	bucket_refill(b, now_ns);
	b->tokens -= (double)bytes;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t
rtt(const struct sl_sender *s)
{
	return max_u64(s->srtt, RTT_MIN_NS);
}

static void
rtt_sample(struct sl_sender *s, uint64_t sample)
{
	if (s->srtt == 0)
		s->srtt = sample;
	else
		s->srtt = (s->srtt * 7 + sample) / 8;
}

/* Pacing rate: the congestion rate, capped by --rate; the burst is about 1 ms of it. */
static void
update_rate(struct sl_sender *s, uint64_t now_ns)
{
	uint64_t rate = s->cc_rate;
	uint64_t burst;

	if (s->cfg.rate_bps != 0 && s->cfg.rate_bps < rate)
		rate = s->cfg.rate_bps;
	burst = max_u64(rate / 8000, 16ull * (s->payload + s->cfg.ip_overhead));
	sl_sender_bucket_set_rate(&s->bucket, rate, now_ns);
	s->bucket.burst = (double)burst;
	s->st.rate_bps = rate;
}

static void
cc_on_ack(struct sl_sender *s, bool loss, uint64_t now_ns)
{
	if (now_ns - s->cc_changed_ns < rtt(s))
		return;
	if (loss) {
		s->cc_rate = max_u64(s->cc_rate * 7 / 10, SL_SENDER_CC_FLOOR_BPS);
		event(s, "loss: rate %llu bit/s", (unsigned long long)s->cc_rate);
	} else if (s->rate_limited) {
		s->cc_rate = min_u64(s->cc_rate + max_u64(s->cc_rate / 20, 5000000ull),
				     SL_SENDER_CC_CEIL_BPS);
		s->rate_limited = false;
	} else {
		return;
	}
	s->cc_changed_ns = now_ns;
	update_rate(s, now_ns);
}

/* Output slots. */

static uint8_t *
slot_next(struct sl_sender *s)
{
	if (s->nout >= s->maxout)
		return NULL;
	return s->arena + s->nout * s->stride;
}

static bool
emit(struct sl_sender *s, const struct sl_proto_msg *m, uint64_t now_ns, bool charge)
{
	uint8_t *buf = slot_next(s);
	size_t cap = s->phase == SL_SENDER_HANDSHAKE ? s->cfg.max_payload : s->payload;
	int len;

	if (buf == NULL)
		return false;
	len = sl_proto_encode(m, buf, cap);
	if (len < 0) {
		event(s, "cannot encode message type %u: %d", m->type, len);
		return true; /* Dropped: never retried the same way. */
	}
	s->out[s->nout].buf = buf;
	s->out[s->nout].len = (uint16_t)len;
	s->nout++;
	s->st.datagrams_sent++;
	if (charge)
		bucket_charge(&s->bucket, (uint64_t)len + s->cfg.ip_overhead, now_ns);
	return true;
}

/* Files. */

static void
file_release(struct sl_sender *s, struct xfile *x)
{
	if (x->fd >= 0)
		close(x->fd);
	if (x->sha_open)
		sl_sha256_final(&x->sha_ctx, NULL);
	if (s->rfile == x)
		s->rfile = NULL;
	free(x->crcs);
	free(x->durable);
	free(x->retx);
	free(x);
}

static void
file_finish(struct sl_sender *s, struct xfile *x, enum sl_sender_status st)
{
	unsigned i;

	x->f->status = st;
	s->final_bytes += x->f->size;
	if (st == SL_SENDER_OK)
		s->st.files_done++;
	else
		s->st.files_failed++;
	event(s, "file %u %s: %s", x->id, x->f->name, sl_sender_status_name(st));
	for (i = 0; i < s->nactive; i++)
		if (s->active[i] == x)
			break;
	if (i < s->nactive) {
		memmove(&s->active[i], &s->active[i + 1],
			(s->nactive - i - 1) * sizeof(*s->active));
		s->nactive--;
	}
	s->by_id[x->id - 1] = NULL;
	file_release(s, x);
}

/* Every file not yet final gets @p st, and nothing more is admitted. */
static void
fail_rest(struct sl_sender *s, enum sl_sender_status st)
{
	while (s->nactive > 0)
		file_finish(s, s->active[0], st);
	for (; s->next_admit < s->list->count; s->next_admit++) {
		struct sl_sender_file *f = &s->list->files[s->next_admit];

		if (f->status == SL_SENDER_PENDING) {
			f->status = st;
			s->final_bytes += f->size;
			s->st.files_failed++;
		}
	}
}

static void
fail_local(struct sl_sender *s, struct sl_sender_file *f, enum sl_sender_status st, const char *why)
{
	f->status = st;
	s->final_bytes += f->size;
	s->st.files_failed++;
	event(s, "%s: %s (%s)", f->source, sl_sender_status_name(st), why);
}

/* Open the next files, up to the window. */
static void
admit(struct sl_sender *s)
{
	size_t name_room = s->payload - SL_PROTO_HEADER_SIZE - 68;

	while (s->nactive < s->inflight_cap && s->next_admit < s->list->count) {
		struct sl_sender_file *f = &s->list->files[s->next_admit];
		uint32_t id = ++s->next_admit;
		size_t name_len = strlen(f->name);
		struct xfile *x;
		struct stat st;
		int fd;

		if (f->status != SL_SENDER_PENDING)
			continue;
		if (name_len > SL_PROTO_PATH_MAX || name_len > name_room) {
			/* The only name check made here: one the protocol cannot carry. */
			fail_local(s, f, SL_SENDER_BAD_PATH, "name too long for one MANIFEST");
			continue;
		}
		fd = open(f->source,
			  O_RDONLY | O_CLOEXEC | O_NONBLOCK | (f->nofollow ? O_NOFOLLOW : 0));
		if (fd < 0) {
			fail_local(s, f, SL_SENDER_UNREADABLE, strerror(errno));
			continue;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			fail_local(s, f, SL_SENDER_UNREADABLE, "not a regular file");
			continue;
		}
		x = calloc(1, sizeof(*x));
		if (x != NULL) {
			x->size = (uint64_t)st.st_size;
			x->nchunks = sl_proto_chunk_count(x->size, s->chunk);
			x->crcs = malloc(((size_t)x->nchunks + 1) * sizeof(*x->crcs));
			x->retx = malloc(RETX_MAX * sizeof(*x->retx));
		}
		if (x == NULL || x->crcs == NULL || x->retx == NULL ||
		    sl_sha256_init(&x->sha_ctx) != 0) {
			if (x != NULL) {
				free(x->crcs);
				free(x->retx);
				free(x);
			}
			close(fd);
			fail_local(s, f, SL_SENDER_UNREADABLE, "out of memory");
			continue;
		}
		s->st.total_bytes = s->st.total_bytes - f->size + x->size;
		f->size = x->size;
		x->f = f;
		x->id = id;
		x->fd = fd;
		x->sha_open = true;
		x->mode = st.st_mode & 0777;
		x->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		x->state = X_DIGEST;
		s->by_id[id - 1] = x;
		s->active[s->nactive++] = x;
	}
}

/* Digest files in the window, at most DIGEST_BUDGET bytes per call. */
static void
digest_some(struct sl_sender *s, uint64_t now_ns)
{
	uint64_t budget = DIGEST_BUDGET;

	for (unsigned i = 0; i < s->nactive && budget > 0; i++) {
		struct xfile *x = s->active[i];

		while (x->state == X_DIGEST && budget > 0) {
			if (x->digested == x->nchunks) {
				sl_sha256_final(&x->sha_ctx, x->sha);
				x->sha_open = false;
				x->state = X_MANIFEST;
				x->manifest_now = true;
				x->manifest_wait = SL_SENDER_MANIFEST_RETRY_NS;
				break;
			}
			uint64_t off = (uint64_t)x->digested * s->chunk;
			size_t want = (size_t)min_u64(x->size - off, s->chunk), got = 0;

			while (got < want) {
				ssize_t r = pread(x->fd, s->chunk_buf + got, want - got,
						  (off_t)(off + got));

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					break;
				got += (size_t)r;
			}
			if (got < want) {
				file_finish(s, x, SL_SENDER_UNREADABLE);
				i--;
				break;
			}
			x->crcs[x->digested++] = sl_proto_crc32c(s->chunk_buf, want);
			sl_sha256_update(&x->sha_ctx, s->chunk_buf, want);
			budget -= min_u64(budget, want + 1);
			/* Reading a large file is local progress: it does not count toward
			 * --timeout. */
			s->progress_ns = now_ns;
		}
	}
}

static bool
chunk_durable(const struct xfile *x, uint32_t idx)
{
	for (unsigned i = 0; i < x->ndurable; i++)
		if (idx >= x->durable[i].first && idx - x->durable[i].first < x->durable[i].count)
			return true;
	return false;
}

/* Move the cursor past chunks the receiver already holds durably. */
static void
skip_durable(struct sl_sender *s, struct xfile *x)
{
	while (x->cursor < x->size && x->cursor % s->chunk == 0 &&
	       chunk_durable(x, (uint32_t)(x->cursor / s->chunk))) {
		uint64_t next = min_u64(x->cursor + s->chunk, x->size);

		x->skipped_bytes += next - x->cursor;
		x->cursor = next;
	}
}

/* Payload bytes of @p x at @p off, through the read cache. */
static const uint8_t *
read_bytes(struct sl_sender *s, struct xfile *x, uint64_t off, uint32_t len, uint64_t ahead)
{
	size_t want, got = 0;

	if (s->rfile == x && off >= s->roff && off + len <= s->roff + s->rlen)
		return s->rbuf + (off - s->roff);
	want = (size_t)min_u64(min_u64(max_u64(ahead, len), READ_CACHE), x->size - off);
	s->rfile = NULL;
	while (got < want) {
		ssize_t r = pread(x->fd, s->rbuf + got, want - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got < len)
		return NULL;
	s->rfile = x;
	s->roff = off;
	s->rlen = got;
	return s->rbuf;
}

/* Encode one DATA; false when out of slots. A read failure fails the file (*gone set). */
static bool
emit_data(struct sl_sender *s, struct xfile *x, uint64_t off, uint32_t len, bool ack_now,
	  uint64_t ahead, uint64_t now_ns, bool *gone)
{
	struct sl_proto_msg m = { .type = SL_PROTO_DATA, .session = s->session };

	*gone = false;
	if (slot_next(s) == NULL)
		return false;
	m.data.file_id = x->id;
	m.data.offset = off;
	m.data.len = len;
	m.data.payload = read_bytes(s, x, off, len, ahead);
	if (m.data.payload == NULL) {
		file_finish(s, x, SL_SENDER_UNREADABLE);
		*gone = true;
		return true;
	}
	if (ack_now) {
		m.flags = SL_PROTO_FLAG_ACK_NOW;
		if (!s->acknow_out) {
			s->acknow_out = true;
			s->acknow_ns = now_ns;
		}
	}
	return emit(s, &m, now_ns, false);
}

static void
send_manifest(struct sl_sender *s, struct xfile *x, uint64_t now_ns)
{
	struct sl_proto_msg m = { .type = SL_PROTO_MANIFEST, .session = s->session };
	size_t name_len = strlen(x->f->name);
	size_t room = (s->payload - SL_PROTO_HEADER_SIZE - 68 - name_len) / 4;

	m.manifest.file_id = x->id;
	m.manifest.size = x->size;
	m.manifest.mode = x->mode;
	m.manifest.mtime_ns = x->mtime_ns;
	m.manifest.chunk_size = s->chunk;
	memcpy(m.manifest.file_sha256, x->sha, sizeof(x->sha));
	m.manifest.path_len = (uint16_t)name_len;
	m.manifest.path = x->f->name;
	m.manifest.first = 0;
	m.manifest.count = (uint16_t)min_u64(min_u64(room, x->nchunks), UINT16_MAX);
	m.manifest.digests = x->crcs;
	if (!emit(s, &m, now_ns, true))
		return;
	event(s, "%s MANIFEST %u %s (%llu bytes, %u chunks)", x->manifest_sent ? "resend" : "send",
	      x->id, x->f->name, (unsigned long long)x->size, x->nchunks);
	if (!x->manifest_sent) {
		x->digests_next = m.manifest.count;
		x->digests_end = x->nchunks;
		x->manifest_sent = true;
	}
	x->manifest_now = false;
	x->manifest_at = now_ns + x->manifest_wait;
}

static void
send_digests(struct sl_sender *s, struct xfile *x, uint64_t now_ns)
{
	uint32_t per = (s->payload - SL_PROTO_HEADER_SIZE - 10) / 4;

	while (x->digests_next < x->digests_end) {
		struct sl_proto_msg m = { .type = SL_PROTO_DIGESTS, .session = s->session };

		m.digests.file_id = x->id;
		m.digests.first = x->digests_next;
		m.digests.count = (uint16_t)min_u64(min_u64(per, x->digests_end - x->digests_next),
						    UINT16_MAX);
		m.digests.digests = x->crcs + x->digests_next;
		if (!emit(s, &m, now_ns, true))
			return;
		x->digests_next += m.digests.count;
		x->digests_sent_ns = now_ns;
	}
}

/* Drop retransmission entries sent more than one RTT ago. */
static void
retx_expire(struct sl_sender *s, struct xfile *x, uint64_t now_ns)
{
	unsigned j = 0;

	for (unsigned i = 0; i < x->nretx; i++) {
		struct retx *r = &x->retx[i];

		if (r->done == r->len && now_ns - r->sent_ns >= rtt(s))
			continue;
		x->retx[j++] = *r;
	}
	x->nretx = j;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct retx *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Queue [off, off + len) for retransmission, less what is already queued or
 * was sent within the last RTT (@p recent, sorted by offset, @p nrecent).
 * @return the bytes queued.
 */
static uint64_t
retx_add(struct xfile *x, uint64_t off, uint64_t len, const struct retx *recent, unsigned nrecent,
	 bool ack_now)
{
	uint64_t end = min_u64(off + len, x->cursor), pos = off, queued = 0;
	struct retx *last = NULL;

	if (off >= end)
		return 0;
	for (unsigned i = 0; i <= nrecent && pos < end; i++) {
		uint64_t gap_end = i < nrecent ? recent[i].off : end;

		if (i < nrecent && recent[i].off + recent[i].len <= pos)
			continue;
		gap_end = min_u64(gap_end, end);
		while (pos < gap_end && x->nretx < RETX_MAX) {
			uint32_t piece = (uint32_t)min_u64(gap_end - pos, UINT32_MAX);

			last = &x->retx[x->nretx++];
			*last = (struct retx){ .off = pos, .len = piece };
			x->retx_pending++;
			queued += piece;
			pos += piece;
		}
		if (i < nrecent)
			pos = max_u64(pos, recent[i].off + recent[i].len);
	}
	if (last != NULL && ack_now)
		last->ack_now = true;
	return queued;
}

static void
on_file_status(struct sl_sender *s, const struct sl_proto_file_status *fs, uint64_t now_ns)
{
	struct xfile *x;
	enum sl_sender_status st;

	if (fs->file_id == 0 || fs->file_id > s->list->count ||
	    (x = s->by_id[fs->file_id - 1]) == NULL || !x->manifest_sent) {
		s->st.dropped++;
		return;
	}
	s->progress_ns = now_ns;
	x->manifest_wait = SL_SENDER_MANIFEST_RETRY_NS;
	x->manifest_at = now_ns + x->manifest_wait;
	if (fs->status != SL_PROTO_STATUS_READY) {
		st = sl_sender_status_from_proto(fs->status);
		file_finish(s, x, st);
		return;
	}
	if (x->state == X_MANIFEST) {
		x->ndurable = 0;
		if (fs->count > 0) {
			x->durable = calloc(fs->count, sizeof(*x->durable));
			if (x->durable != NULL) {
				for (uint16_t i = 0; i < fs->count; i++)
					x->durable[i] = sl_proto_range_get(fs, i);
				x->ndurable = fs->count;
			}
		}
		x->state = X_READY;
		x->progress_ns = now_ns;
		skip_durable(s, x);
		event(s, "READY %u (%u durable ranges, digests_needed %u)", x->id, fs->count,
		      fs->digests_needed);
	}
	/* Digests still lacking long after they were sent were lost: send them again. */
	if (fs->digests_needed < x->nchunks && x->digests_next >= x->digests_end &&
	    now_ns - x->digests_sent_ns > rtt(s)) {
		x->digests_next = fs->digests_needed;
		x->digests_end = x->nchunks;
	}
}

static bool
on_ack_entry(struct sl_sender *s, const struct sl_proto_ack_entry *e, uint64_t now_ns, bool *loss)
{
	struct retx recent[RETX_MAX];
	uint64_t seen, cursor_cap;
	bool progress = false;
	unsigned nrecent;
	struct xfile *x;

	if (e->file_id == 0 || e->file_id > s->list->count ||
	    (x = s->by_id[e->file_id - 1]) == NULL || x->state != X_READY ||
	    e->received_upto > x->nchunks)
		return false;
	cursor_cap = x->cursor;
	seen = min_u64((uint64_t)e->received_upto * s->chunk, x->size);
	if (e->received_upto > x->received_upto) {
		x->received_upto = e->received_upto;
		progress = true;
	}
	if (e->durable_upto > x->durable_upto && e->durable_upto <= x->nchunks) {
		x->durable_upto = e->durable_upto;
		progress = true;
	}
	retx_expire(s, x, now_ns);
	nrecent = x->nretx;
	memcpy(recent, x->retx, nrecent * sizeof(*recent));
	qsort(recent, nrecent, sizeof(*recent), range_cmp);
	for (uint16_t i = 0; i < e->nmissing; i++) {
		struct sl_proto_missing r = sl_proto_missing_get(e, i);
		uint64_t end = min_u64(r.offset + r.length, cursor_cap);

		if (r.offset >= end)
			continue;
		seen = max_u64(seen, end);
		if (end > x->max_missing_end) {
			*loss = true;
			x->max_missing_end = end;
		}
		retx_add(x, r.offset, end - r.offset, recent, nrecent, false);
	}
	if (seen > x->seen) {
		x->seen = seen;
		progress = true;
	}
	if (progress) {
		x->progress_ns = now_ns;
		x->tail_wait = 0;
		x->manifest_wait = SL_SENDER_MANIFEST_RETRY_NS;
		x->manifest_at = now_ns + x->manifest_wait;
	}
	return progress;
}

static void
on_ack(struct sl_sender *s, const struct sl_proto_ack *a, uint64_t now_ns)
{
	struct sl_proto_ack_iter it;
	struct sl_proto_ack_entry e;
	bool progress = false, loss = false;

	if (a->credit_limit > s->credit_limit) {
		s->credit_limit = a->credit_limit;
		progress = true;
	}
	if (s->acknow_out) {
		rtt_sample(s, now_ns - s->acknow_ns);
		s->acknow_out = false;
	}
	sl_proto_ack_iter_init(&it, a);
	while (sl_proto_ack_next(&it, &e))
		progress |= on_ack_entry(s, &e, now_ns, &loss);
	if (progress)
		s->progress_ns = now_ns;
	cc_on_ack(s, loss, now_ns);
}

static void
handshake_restart(struct sl_sender *s, uint64_t now_ns)
{
	sl_auth_random(s->nonce, sizeof(s->nonce));
	s->hs_connect = false;
	s->hs_tries = 0;
	s->hs_next_ns = now_ns;
	s->hs_wait_ns = SL_SENDER_HANDSHAKE_RETRY_NS;
}

static void
on_welcome(struct sl_sender *s, const struct sl_proto_msg *m, uint64_t now_ns)
{
	const struct sl_proto_welcome *w = &m->welcome;
	uint32_t chunk;

	if (s->cfg.key != NULL) {
		uint8_t proof[SL_PROTO_AUTH_SIZE];

		sl_auth_welcome_proof(s->cfg.key, m->session, s->nonce, proof);
		if (!w->has_auth || !sl_auth_equal(proof, w->auth, sizeof(proof))) {
			event(s, "WELCOME with a bad key proof: ignored");
			s->st.dropped++;
			return;
		}
	}
	if (s->hs_tries == 1)
		rtt_sample(s, now_ns - s->hs_sent_ns);
	s->session = m->session;
	s->payload = (uint16_t)min_u64(s->cfg.max_payload, w->max_payload);
	if (s->payload < SL_PROTO_MAX_PAYLOAD_MIN)
		s->payload = SL_PROTO_MAX_PAYLOAD_MIN;
	s->stride = s->payload;
	s->data_max = s->payload - (uint32_t)sl_proto_data_header_size();
	s->max_chunk = w->max_chunk;
	chunk = SL_ALIGN_DOWN(min_u64(s->cfg.chunk_size, w->max_chunk), SL_PROTO_CHUNK_ALIGN);
	s->chunk = chunk < SL_PROTO_CHUNK_MIN ? SL_PROTO_CHUNK_MIN : chunk;
	s->credit_limit = w->credit;
	s->max_files = w->max_files;
	s->inflight_cap = w->max_files > 0 ? w->max_files : 1;
	if (s->inflight_cap > s->cfg.max_inflight)
		s->inflight_cap = s->cfg.max_inflight;
	s->chunk_buf = malloc(s->chunk);
	if (s->chunk_buf == NULL) {
		event(s, "out of memory for a %u-byte chunk", s->chunk);
		s->phase = SL_SENDER_NO_SESSION;
		fail_rest(s, SL_SENDER_UNREADABLE);
		return;
	}
	s->phase = SL_SENDER_RUNNING;
	s->progress_ns = now_ns;
	s->cc_changed_ns = now_ns;
	update_rate(s, now_ns);
	event(s, "WELCOME session %016llx: max_payload %u, max_chunk %u, credit %llu, max_files %u",
	      (unsigned long long)s->session, s->payload, w->max_chunk,
	      (unsigned long long)w->credit, w->max_files);
}

static void
on_reject(struct sl_sender *s, const struct sl_proto_msg *m, uint64_t now_ns)
{
	uint8_t reason = m->reject.reason;

	if (s->phase == SL_SENDER_HANDSHAKE) {
		if (m->session != 0 || memcmp(m->reject.client_nonce, s->nonce, sizeof(s->nonce)))
			goto drop;
		event(s, "REJECT during the handshake, reason %u", reason);
		if ((reason == SL_PROTO_REJECT_BAD_COOKIE ||
		     reason == SL_PROTO_REJECT_EXPIRED_COOKIE) &&
		    s->hs_restarts < HANDSHAKE_RESTARTS) {
			s->hs_restarts++;
			handshake_restart(s, now_ns);
			return;
		}
		s->st.reject_reason = reason;
		s->phase = SL_SENDER_NO_SESSION;
		fail_rest(s, SL_SENDER_REJECTED);
		return;
	}
	if (m->session != s->session || s->phase == SL_SENDER_DONE)
		goto drop;
	event(s, "REJECT of the session, reason %u", reason);
	s->st.reject_reason = reason;
	fail_rest(s, SL_SENDER_REJECTED);
	s->phase = SL_SENDER_DONE;
	return;
drop:
	s->st.dropped++;
}

void
sl_sender_input(struct sl_sender *s, const uint8_t *buf, size_t len, uint64_t now_ns)
{
	struct sl_proto_msg m;

	s->st.datagrams_received++;
	if (sl_proto_decode(buf, len, &m) != 0)
		goto drop;
	if (m.type == SL_PROTO_REJECT) {
		on_reject(s, &m, now_ns);
		return;
	}
	if (s->phase == SL_SENDER_HANDSHAKE) {
		if (m.type == SL_PROTO_COOKIE && !s->hs_connect &&
		    memcmp(m.cookie.client_nonce, s->nonce, sizeof(s->nonce)) == 0) {
			if (s->hs_tries == 1)
				rtt_sample(s, now_ns - s->hs_sent_ns);
			s->cookie = m.cookie;
			s->hs_connect = true;
			s->hs_tries = 0;
			s->hs_next_ns = now_ns;
			s->hs_wait_ns = SL_SENDER_HANDSHAKE_RETRY_NS;
			s->progress_ns = now_ns;
			event(s, "COOKIE");
			return;
		}
		if (m.type == SL_PROTO_WELCOME && s->hs_connect &&
		    memcmp(m.welcome.client_nonce, s->nonce, sizeof(s->nonce)) == 0) {
			on_welcome(s, &m, now_ns);
			return;
		}
		goto drop;
	}
	if (m.session != s->session || s->session == 0 ||
	    (s->phase != SL_SENDER_RUNNING && s->phase != SL_SENDER_CLOSING))
		goto drop;
	switch (m.type) {
	case SL_PROTO_FILE_STATUS:
		on_file_status(s, &m.file_status, now_ns);
		return;
	case SL_PROTO_ACK:
		on_ack(s, &m.ack, now_ns);
		return;
	case SL_PROTO_BYE:
		event(s, "BYE from the receiver");
		if (s->phase == SL_SENDER_RUNNING)
			fail_rest(s, SL_SENDER_REJECTED);
		s->phase = SL_SENDER_DONE;
		return;
	default:
		break;
	}
drop:
	s->st.dropped++;
}

static void
output_handshake(struct sl_sender *s, uint64_t now_ns, uint64_t *wake)
{
	struct sl_proto_msg m = { 0 };

	if (now_ns - s->progress_ns >= s->cfg.timeout_ns) {
		event(s, "no answer to the handshake");
		s->phase = SL_SENDER_NO_SESSION;
		fail_rest(s, SL_SENDER_TIMEOUT);
		return;
	}
	if (now_ns < s->hs_next_ns) {
		*wake = min_u64(s->hs_next_ns, s->progress_ns + s->cfg.timeout_ns);
		return;
	}
	if (!s->hs_connect) {
		m.type = SL_PROTO_HELLO;
		memcpy(m.hello.client_nonce, s->nonce, sizeof(s->nonce));
		m.hello.max_payload = s->cfg.max_payload;
		m.hello.hello_flags = s->cfg.key != NULL ? SL_PROTO_HELLO_PSK : 0;
	} else {
		m.type = SL_PROTO_CONNECT;
		memcpy(m.connect.client_nonce, s->nonce, sizeof(s->nonce));
		m.connect.issued = s->cookie.issued;
		memcpy(m.connect.cookie, s->cookie.cookie, sizeof(m.connect.cookie));
		m.connect.max_payload = s->cfg.max_payload;
		if (s->cfg.key != NULL) {
			m.connect.psk_id_len = s->cfg.key->id_len;
			m.connect.psk_id = s->cfg.key->id;
			sl_auth_connect_proof(s->cfg.key, s->nonce, s->cookie.cookie,
					      m.connect.auth);
		}
	}
	if (!emit(s, &m, now_ns, false))
		return;
	event(s, "send %s (try %u)", s->hs_connect ? "CONNECT" : "HELLO", s->hs_tries + 1);
	s->hs_tries++;
	s->hs_sent_ns = now_ns;
	s->hs_next_ns = now_ns + s->hs_wait_ns;
	s->hs_wait_ns = min_u64(s->hs_wait_ns * 2, HANDSHAKE_RETRY_MAX_NS);
	*wake = min_u64(s->hs_next_ns, s->progress_ns + s->cfg.timeout_ns);
}

/* Timers of one READY file: the tail rule. */
static void
tail_check(struct sl_sender *s, struct xfile *x, uint64_t now_ns, uint64_t *wake)
{
	uint64_t wait = max_u64(max_u64(2 * rtt(s), SL_SENDER_TAIL_MIN_NS), x->tail_wait);
	uint64_t start;

	if (x->state != X_READY || x->cursor <= x->seen || x->retx_pending > 0)
		return;
	if (now_ns - x->progress_ns < wait) {
		*wake = min_u64(*wake, x->progress_ns + wait);
		return;
	}
	start = x->cursor > (uint64_t)TAIL_DATAGRAMS * s->data_max
			? x->cursor - (uint64_t)TAIL_DATAGRAMS * s->data_max
			: 0;
	start = max_u64(start, x->seen);
	retx_expire(s, x, now_ns);
	/* The tail goes out whatever was sent lately: nothing has moved for two RTTs. */
	if (retx_add(x, start, x->cursor - start, NULL, 0, true) > 0)
		event(s, "tail %u: resend %llu..%llu", x->id, (unsigned long long)start,
		      (unsigned long long)x->cursor);
	x->progress_ns = now_ns;
	/* A receiver that holds the tail but cannot move (credit, disk) is not flooded. */
	x->tail_wait = min_u64(wait * 2, SECOND_NS);
	*wake = min_u64(*wake, now_ns + x->tail_wait);
}

/* Retransmissions first (any file), then new bytes in ascending order; paced. */
static void
output_data(struct sl_sender *s, uint64_t now_ns, uint64_t *wake)
{
	uint64_t dgram = s->payload + s->cfg.ip_overhead;
	bool gone;

	for (unsigned i = 0; i < s->nactive; i++) {
		struct xfile *x = s->active[i];

		for (unsigned k = 0; k < x->nretx && x->retx_pending > 0; k++) {
			struct retx *r = &x->retx[k];

			while (r->done < r->len) {
				uint64_t off = r->off + r->done;
				uint64_t chunk_end =
					min_u64((off / s->chunk + 1) * s->chunk, x->size);
				uint32_t len = (uint32_t)min_u64(
					min_u64(s->data_max, chunk_end - off), r->len - r->done);
				bool last = r->done + len == r->len;

				if (chunk_durable(x, (uint32_t)(off / s->chunk))) {
					len = (uint32_t)min_u64(chunk_end - off, r->len - r->done);
				} else {
					if (slot_next(s) == NULL)
						return;
					if (!sl_sender_bucket_take(&s->bucket, dgram, now_ns)) {
						s->rate_limited = true;
						*wake = min_u64(*wake,
								now_ns + sl_sender_bucket_wait_ns(
										 &s->bucket, dgram,
										 now_ns));
						return;
					}
					if (!emit_data(s, x, off, len, last && r->ack_now, len,
						       now_ns, &gone))
						return;
					if (gone) {
						i--;
						goto next_file;
					}
					x->f->retransmitted_bytes += len;
					s->st.retransmitted_bytes += len;
				}
				r->done += len;
				if (r->done >= r->len) {
					r->done = r->len;
					r->sent_ns = now_ns;
					x->retx_pending--;
				}
			}
		}
	next_file:;
	}
	for (unsigned i = 0; i < s->nactive; i++) {
		struct xfile *x = s->active[i];

		if (x->state != X_READY)
			continue;
		skip_durable(s, x);
		while (x->cursor < x->size) {
			uint64_t chunk_end =
				min_u64((x->cursor / s->chunk + 1) * s->chunk, x->size);
			uint64_t credit =
				s->credit_limit > s->new_total ? s->credit_limit - s->new_total : 0;
			uint32_t len = (uint32_t)min_u64(
				min_u64(s->data_max, chunk_end - x->cursor), credit);
			bool ack_now;

			if (len == 0)
				return; /* No credit: wait for an ACK. */
			if (slot_next(s) == NULL)
				return;
			if (!sl_sender_bucket_take(&s->bucket, dgram, now_ns)) {
				s->rate_limited = true;
				*wake = min_u64(*wake, now_ns + sl_sender_bucket_wait_ns(
									&s->bucket, dgram, now_ns));
				return;
			}
			/* Ask for an ACK at a file's end, when credit runs out, and once per RTT.
			 */
			ack_now = x->cursor + len == x->size || credit == len ||
				  (!s->acknow_out && now_ns - s->acknow_ns >= rtt(s));
			if (!emit_data(s, x, x->cursor, len, ack_now, chunk_end - x->cursor, now_ns,
				       &gone))
				return;
			if (gone)
				return;
			x->cursor += len;
			x->f->sent_bytes += len;
			s->new_total += len;
			s->st.new_bytes += len;
			x->progress_ns = x->cursor == x->size ? now_ns : x->progress_ns;
			skip_durable(s, x);
		}
	}
}

static void
output_running(struct sl_sender *s, uint64_t now_ns, uint64_t *wake)
{
	if (now_ns - s->progress_ns >= s->cfg.timeout_ns) {
		event(s, "no progress for %llu ms: giving up",
		      (unsigned long long)(s->cfg.timeout_ns / 1000000));
		fail_rest(s, SL_SENDER_TIMEOUT);
	}
	admit(s);
	digest_some(s, now_ns);
	for (unsigned i = 0; i < s->nactive; i++) {
		struct xfile *x = s->active[i];

		if (x->state == X_DIGEST) {
			*wake = now_ns; /* More to read. */
			continue;
		}
		if (!x->manifest_now && now_ns >= x->manifest_at) {
			x->manifest_now = true;
			x->manifest_wait *= 2;
		}
		if (x->manifest_now)
			send_manifest(s, x, now_ns);
		if (!x->manifest_now)
			*wake = min_u64(*wake, x->manifest_at);
		send_digests(s, x, now_ns);
		tail_check(s, x, now_ns, wake);
	}
	output_data(s, now_ns, wake);
	if (s->nactive == 0 && s->next_admit >= s->list->count) {
		s->phase = SL_SENDER_CLOSING;
		s->bye_next = now_ns;
	}
	if (s->nout >= s->maxout)
		*wake = now_ns;
	*wake = min_u64(*wake, s->progress_ns + s->cfg.timeout_ns);
}

unsigned
sl_sender_output(struct sl_sender *s, uint64_t now_ns, struct sl_sender_dgram *out, unsigned max,
		 uint64_t *wake_ns)
{
	uint64_t wake = now_ns + SECOND_NS;

	s->out = out;
	s->nout = 0;
	s->maxout = max < OUT_SLOTS ? max : OUT_SLOTS;
	if (s->phase == SL_SENDER_HANDSHAKE)
		output_handshake(s, now_ns, &wake);
	if (s->phase == SL_SENDER_RUNNING)
		output_running(s, now_ns, &wake);
	if (s->phase == SL_SENDER_CLOSING) {
		if (now_ns >= s->bye_next) {
			struct sl_proto_msg m = { .type = SL_PROTO_BYE, .session = s->session };

			if (emit(s, &m, now_ns, false)) {
				s->bye_sent++;
				s->bye_next = now_ns + BYE_GAP_NS;
				event(s, "send BYE");
			}
		}
		if (s->bye_sent >= BYE_COUNT)
			s->phase = SL_SENDER_DONE;
		else
			wake = min_u64(wake, s->bye_next);
	}
	if (s->phase == SL_SENDER_DONE || s->phase == SL_SENDER_NO_SESSION)
		wake = now_ns;
	*wake_ns = wake;
	return s->nout;
}

struct sl_sender *
sl_sender_create(const struct sl_sender_config *c, struct sl_sender_list *l, uint64_t now_ns)
{
	struct sl_sender *s;

	if (c->max_payload < SL_PROTO_MAX_PAYLOAD_MIN ||
	    c->max_payload > SL_PROTO_MAX_PAYLOAD_MAX || c->chunk_size < SL_PROTO_CHUNK_MIN ||
	    c->chunk_size % SL_PROTO_CHUNK_ALIGN != 0 || c->timeout_ns == 0) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->cfg = *c;
	if (s->cfg.max_inflight == 0)
		s->cfg.max_inflight = 256;
	if (s->cfg.cc_start_bps == 0)
		s->cfg.cc_start_bps = SL_SENDER_CC_START_BPS;
	s->list = l;
	s->by_id = calloc(l->count + 1, sizeof(*s->by_id));
	s->active = calloc(s->cfg.max_inflight, sizeof(*s->active));
	s->arena = malloc((size_t)OUT_SLOTS * c->max_payload);
	s->rbuf = malloc(READ_CACHE);
	if (s->by_id == NULL || s->active == NULL || s->arena == NULL || s->rbuf == NULL ||
	    sl_auth_random(s->nonce, sizeof(s->nonce)) != 0) {
		sl_sender_free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->phase = SL_SENDER_HANDSHAKE;
	s->start_ns = now_ns;
	s->progress_ns = now_ns;
	s->payload = c->max_payload;
	s->stride = c->max_payload;
	s->cc_rate = s->cfg.cc_start_bps;
	sl_sender_bucket_init(&s->bucket, 0, 0, now_ns);
	update_rate(s, now_ns);
	s->bucket.tokens = s->bucket.burst;
	handshake_restart(s, now_ns);
	for (unsigned i = 0; i < l->count; i++) {
		s->st.total_bytes += l->files[i].size;
		if (l->files[i].status != SL_SENDER_PENDING) {
			s->final_bytes += l->files[i].size;
			if (l->files[i].status == SL_SENDER_OK)
				s->st.files_done++;
			else
				s->st.files_failed++;
		}
	}
	s->st.files_total = l->count;
	return s;
}

void
sl_sender_free(struct sl_sender *s)
{
	if (s == NULL)
		return;
	for (unsigned i = 0; i < s->nactive; i++)
		file_release(s, s->active[i]);
	free(s->by_id);
	free(s->active);
	free(s->arena);
	free(s->rbuf);
	free(s->chunk_buf);
	free(s);
}

enum sl_sender_phase
sl_sender_phase(const struct sl_sender *s)
{
	return s->phase;
}

void
sl_sender_get_stats(const struct sl_sender *s, struct sl_sender_stats *st)
{
	uint64_t acked = s->final_bytes;

	for (unsigned i = 0; i < s->nactive; i++) {
		const struct xfile *x = s->active[i];

		acked += min_u64((uint64_t)x->received_upto * s->chunk + x->skipped_bytes, x->size);
	}
	*st = s->st;
	st->acked_bytes = min_u64(acked, st->total_bytes);
	st->credit_limit = s->credit_limit;
	st->srtt_ns = s->srtt;
	st->max_payload = s->payload;
	st->chunk_size = s->chunk;
	st->max_files = s->max_files;
}
