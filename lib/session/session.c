/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sl_common.h"
#include "sl_safepath.h"
#include "session_priv.h"

RTE_LOG_REGISTER(sl_logtype_session, sluice.session, INFO);

/* Handshake replies (COOKIE, REJECT) allowed per second, and the burst. */
#define HANDSHAKE_RATE 20000u
#define HANDSHAKE_BURST 1000u
/* Entries of an ACK take this much before their missing ranges. */

/* ---- hash table ---- */

static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static int
htab_alloc(struct htab *h, uint32_t cap)
{
	h->keys = calloc(cap, sizeof(*h->keys));
	h->vals = calloc(cap, sizeof(*h->vals));
	h->used = calloc(cap, 1);
	if (h->keys == NULL || h->vals == NULL || h->used == NULL) {
		htab_fini(h);
		return -ENOMEM;
	}
	h->cap = cap;
	h->nb = 0;
	h->nb_deleted = 0;
	return 0;
}

int
htab_init(struct htab *h, uint32_t min_cap)
{
	uint32_t cap = 8;

	memset(h, 0, sizeof(*h));
	while (cap < min_cap && cap < (1u << 30))
		cap <<= 1;
	return htab_alloc(h, cap);
}

void
htab_fini(struct htab *h)
{
	free(h->keys);
	free(h->vals);
	free(h->used);
	h->keys = NULL;
	h->vals = NULL;
	h->used = NULL;
	h->cap = 0;
	h->nb = 0;
}

uint64_t *
htab_find(const struct htab *h, uint64_t key)
{
	uint32_t mask = h->cap - 1;

	if (h->cap == 0)
		return NULL;
	for (uint32_t i = (uint32_t)mix64(key) & mask, n = 0; n < h->cap; i = (i + 1) & mask, n++) {
		if (h->used[i] == 0)
			return NULL;
		if (h->used[i] == 1 && h->keys[i] == key)
			return &h->vals[i];
	}
	return NULL;
}

static void
htab_insert_new(struct htab *h, uint64_t key, uint64_t val)
{
	uint32_t mask = h->cap - 1;
	uint32_t i = (uint32_t)mix64(key) & mask;

	while (h->used[i] == 1)
		i = (i + 1) & mask;
	if (h->used[i] == 2)
		h->nb_deleted--;
	h->used[i] = 1;
	h->keys[i] = key;
	h->vals[i] = val;
	h->nb++;
}

int
htab_put(struct htab *h, uint64_t key, uint64_t val)
{
	uint64_t *v = htab_find(h, key);

	if (v != NULL) {
		*v = val;
		return 0;
	}
	if ((uint64_t)(h->nb + h->nb_deleted + 1) * 4 > (uint64_t)h->cap * 3) {
		struct htab old = *h;
		uint32_t cap = (uint64_t)(h->nb + 1) * 2 > h->cap ? h->cap * 2 : h->cap;

		if (cap == 0 || cap > (1u << 30))
			return -ENOMEM;

		if (htab_alloc(h, cap) < 0) {
			*h = old;
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < old.cap; i++)
			if (old.used[i] == 1)
				htab_insert_new(h, old.keys[i], old.vals[i]);
		htab_fini(&old);
	}
	htab_insert_new(h, key, val);
	return 0;
}

void
htab_del(struct htab *h, uint64_t key)
{
	uint64_t *v = htab_find(h, key);

	if (v == NULL)
		return;
	h->used[v - h->vals] = 2;
	h->nb--;
	h->nb_deleted++;
}

/* ---- engine ---- */

size_t
sl_session_mem_size(const struct sl_session_params *p)
{
	return sl_bufpool_mem_size(p->max_chunk, 0, p->nb_bufs);
}

static unsigned
uring_max_files(const struct sl_session_params *p)
{
	/* Files of ended sessions may still drain next to the live ones. */
	return 2 * p->max_sessions * p->max_files + 8;
}

/* Make (or open) a directory below @dirfd, refusing a symlink in its place. */
static int
open_private_dir(int dirfd, const char *name)
{
	int fd;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? -ELOOP : -errno;
	return fd;
}

struct sl_session_engine *
sl_session_create(const struct sl_session_params *p, int *err)
{
	struct sl_uring_params up = { 0 };
	struct sl_session_engine *e;
	int rc, sluicefd;

	if (p == NULL || p->dir == NULL || p->tx == NULL || p->stats == NULL ||
	    p->io_stats == NULL || p->auth == NULL || p->nb_writers == 0 ||
	    p->writer_id >= p->nb_writers || p->max_chunk < SL_PROTO_CHUNK_MIN ||
	    p->max_chunk % SL_PROTO_CHUNK_ALIGN != 0 || p->max_chunk > (1u << 30) ||
	    p->nb_bufs < 4 || p->nb_bufs >= NONE || p->max_sessions == 0 || p->max_files == 0 ||
	    p->max_files > UINT16_MAX || p->window < p->max_chunk ||
	    p->max_payload < SL_PROTO_MAX_PAYLOAD_MIN ||
	    p->max_payload > SL_PROTO_MAX_PAYLOAD_MAX || p->uring_depth == 0 ||
	    p->max_sessions > (1u << 20) || (uint64_t)p->max_sessions * p->max_files > (1u << 20)) {
		*err = -EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	e->p = *p;
	e->st = p->stats;
	e->dirfd = -1;
	e->stagefd = -1;
	rc = htab_init(&e->sessions, 2 * p->max_sessions);
	if (rc < 0)
		goto fail;

	e->dirfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (e->dirfd < 0) {
		rc = -errno;
		goto fail;
	}
	sluicefd = open_private_dir(e->dirfd, SL_SAFEPATH_RESERVED);
	if (sluicefd < 0) {
		rc = sluicefd;
		goto fail;
	}
	e->stagefd = open_private_dir(sluicefd, "staging");
	close(sluicefd);
	if (e->stagefd < 0) {
		rc = e->stagefd;
		e->stagefd = -1;
		goto fail;
	}

	if (p->buf_mem == NULL) {
		e->own_mem = aligned_alloc(SL_DIRECT_ALIGN, sl_session_mem_size(p));
		if (e->own_mem == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	rc = sl_bufpool_init(&e->pool, p->buf_mem ? p->buf_mem : e->own_mem, p->max_chunk, 0,
			     p->nb_bufs);
	if (rc < 0)
		goto fail;
	e->pool_ready = true;
	e->cbufs = calloc(p->nb_bufs, sizeof(*e->cbufs));
	if (e->cbufs == NULL) {
		rc = -ENOMEM;
		goto fail;
	}

	up.depth = p->uring_depth;
	up.max_files = uring_max_files(p);
	/* Every buffer may be in flight, plus one fdatasync per file. */
	up.max_ops = p->nb_bufs + up.max_files + 16;
	up.pool = &e->pool;
	up.stats = p->io_stats;
	e->io = sl_uring_create(&up, &rc);
	if (e->io == NULL)
		goto fail;
	e->st->buffers_free = e->pool.nb_free;
	/* One writer looks after the staging area that they all share: before
	 * any session, it clears what a crash left that no resume can use. */
	if (p->writer_id == 0) {
		sfile_sweep_start(e);
		sfile_sweep_step(e, UINT32_MAX, true);
	}
	return e;

fail:
	sl_session_destroy(e);
	*err = rc;
	return NULL;
}

static void session_free(struct sl_session_engine *e, struct session *s);

void
sl_session_destroy(struct sl_session_engine *e)
{
	if (e == NULL)
		return;
	for (uint32_t i = 0; i < e->sessions.cap; i++)
		if (e->sessions.used[i] == 1)
			session_free(e, (struct session *)(uintptr_t)e->sessions.vals[i]);
	sfile_sweep_stop(e);
	/* The ring goes first: the kernel must be done with the buffers. */
	sl_uring_destroy(e->io);
	e->io = NULL;
	sfile_destroy_all(e);
	htab_fini(&e->sessions);
	free(e->cbufs);
	if (e->pool_ready)
		sl_bufpool_fini(&e->pool);
	free(e->own_mem);
	if (e->stagefd >= 0)
		close(e->stagefd);
	if (e->dirfd >= 0)
		close(e->dirfd);
	free(e);
}

void
sl_session_set_fault(struct sl_session_engine *e, sl_uring_fault_fn fn, void *arg)
{
	sl_uring_set_fault(e->io, fn, arg);
}

static const char *const kill_names[SL_SESSION_KILL_COUNT] = {
	[SL_SESSION_KILL_NONE] = "none",       [SL_SESSION_KILL_FSYNC] = "fsync",
	[SL_SESSION_KILL_SIDECAR] = "sidecar", [SL_SESSION_KILL_RENAME] = "rename",
	[SL_SESSION_KILL_RENAMED] = "renamed", [SL_SESSION_KILL_PUBLISHED] = "published",
};

const char *
sl_session_kill_point_name(unsigned point)
{
	return point < SL_SESSION_KILL_COUNT ? kill_names[point] : "unknown";
}

int
sl_session_kill_parse(const char *text, unsigned *point, uint32_t *nth, char *err, size_t errlen)
{
	const char *colon;
	size_t len;
	uint64_t n = 1;

	if (text == NULL || text[0] == '\0') {
		snprintf(err, errlen, "empty");
		return -EINVAL;
	}
	colon = strchr(text, ':');
	len = colon != NULL ? (size_t)(colon - text) : strlen(text);
	if (colon != NULL) {
		const char *d = colon + 1;

		n = 0;
		if (*d == '\0')
			goto bad_count;
		for (; *d != '\0'; d++) {
			if (*d < '0' || *d > '9')
				goto bad_count;
			n = n * 10 + (uint64_t)(*d - '0');
			if (n > UINT32_MAX)
				goto bad_count;
		}
		if (n == 0)
			goto bad_count;
	}
	for (unsigned i = SL_SESSION_KILL_NONE + 1; i < SL_SESSION_KILL_COUNT; i++)
		if (strlen(kill_names[i]) == len && strncmp(text, kill_names[i], len) == 0) {
			*point = i;
			*nth = (uint32_t)n;
			return 0;
		}
	snprintf(err, errlen, "unknown point '%.*s' (fsync, sidecar, rename, renamed)", (int)len,
		 text);
	return -EINVAL;
bad_count:
	snprintf(err, errlen, "'%s': the count after ':' must be 1 to %u", text, UINT32_MAX);
	return -EINVAL;
}

void
sl_session_set_kill(struct sl_session_engine *e, unsigned point, uint32_t nth)
{
	e->kill_point = point < SL_SESSION_KILL_COUNT ? point : SL_SESSION_KILL_NONE;
	e->kill_nth = nth > 0 ? nth : 1;
	e->kill_seen = 0;
}

void
session_kill_point(struct sl_session_engine *e, unsigned point)
{
	if (e->kill_point != point || ++e->kill_seen < e->kill_nth)
		return;
	SESS_LOG(WARNING, "writer %u: test kill point %s:%u reached: SIGKILL\n", e->p.writer_id,
		 kill_names[point], e->kill_nth);
	raise(SIGKILL);
}

const char *
sl_session_status_name(unsigned status)
{
	static const char *const names[] = {
		[SL_PROTO_STATUS_READY] = "ready",
		[SL_PROTO_STATUS_OK] = "ok",
		[SL_PROTO_STATUS_EXISTS] = "exists",
		[SL_PROTO_STATUS_BAD_PATH] = "bad_path",
		[SL_PROTO_STATUS_NO_SPACE] = "no_space",
		[SL_PROTO_STATUS_DIGEST_MISMATCH] = "digest_mismatch",
		[SL_PROTO_STATUS_IO_ERROR] = "io_error",
		[SL_PROTO_STATUS_REFUSED] = "refused",
		[SL_PROTO_STATUS_BAD_MANIFEST] = "bad_manifest",
	};

	return status < SL_ARRAY_SIZE(names) ? names[status] : "unknown";
}

int
sl_session_route(const uint8_t *payload, uint32_t len, unsigned nb_writers)
{
	uint64_t v = 0;
	unsigned from;

	if (nb_writers == 0 || len < SL_PROTO_HEADER_SIZE || payload[0] != 0x53 ||
	    payload[1] != 0x4c)
		return -1;
	switch (payload[3]) {
	case SL_PROTO_HELLO:
	case SL_PROTO_COOKIE:
	case SL_PROTO_CONNECT:
		if (len < SL_PROTO_HEADER_SIZE + SL_PROTO_NONCE_SIZE)
			return -1;
		from = SL_PROTO_HEADER_SIZE;
		break;
	default:
		from = 8;
		break;
	}
	for (unsigned i = 0; i < 8; i++)
		v = v << 8 | payload[from + i];
	return (int)(v % nb_writers);
}

/* ---- replies ---- */

bool
session_send(struct sl_session_engine *e, const struct sl_net_peer *to,
	     const struct sl_proto_msg *m, size_t cap)
{
	int n = sl_proto_encode(m, e->tx, cap);

	if (n < 0)
		return false;
	e->p.tx(e->p.tx_arg, to, e->tx, (uint16_t)n);
	e->st->tx_msgs++;
	return true;
}

/* Token bucket of handshake replies; false when this one must be dropped. */
static bool
handshake_token(struct sl_session_engine *e, uint64_t now)
{
	const uint64_t full = (uint64_t)HANDSHAKE_BURST * 1000;

	if (!e->tokens_init) {
		e->tokens_init = true;
		e->tokens_milli = full;
		e->tokens_ns = now;
	} else if (now > e->tokens_ns) {
		uint64_t dt = now - e->tokens_ns;
		/* thousandths of a token per ns = RATE / 1e6 */
		uint64_t add = dt > 1000000000ull ? full : dt * HANDSHAKE_RATE / 1000000;

		e->tokens_milli = e->tokens_milli + add > full ? full : e->tokens_milli + add;
		e->tokens_ns = now;
	}
	if (e->tokens_milli < 1000)
		return false;
	e->tokens_milli -= 1000;
	return true;
}

static void
send_reject(struct sl_session_engine *e, const struct sl_net_peer *to, uint64_t session,
	    uint8_t reason, const uint8_t nonce[SL_PROTO_NONCE_SIZE], size_t cap)
{
	struct sl_proto_msg m = { .type = SL_PROTO_REJECT, .session = session };

	m.reject.reason = reason;
	if (nonce != NULL)
		memcpy(m.reject.client_nonce, nonce, SL_PROTO_NONCE_SIZE);
	/* A REJECT longer than what it answers is not sent (no amplification). */
	if (session_send(e, to, &m, cap))
		e->st->rejects[reason]++;
}

static size_t
handshake_cap(uint32_t len)
{
	return len < SL_PROTO_MAX_PAYLOAD_MIN ? len : SL_PROTO_MAX_PAYLOAD_MIN;
}

void
session_send_status(struct sl_session_engine *e, struct session *s, struct sfile *f,
		    uint32_t file_id, uint8_t status)
{
	struct sl_range32 r32[(SL_PROTO_MAX_PAYLOAD_MAX - 32) / 8];
	struct sl_proto_range ranges[SL_ARRAY_SIZE(r32)];
	struct sl_proto_msg m = { .type = SL_PROTO_FILE_STATUS, .session = s->id };
	unsigned n = 0;

	m.file_status.file_id = file_id;
	m.file_status.status = status;
	if (f != NULL) {
		unsigned max = (s->max_payload - SL_PROTO_HEADER_SIZE - 12) / 8;
		uint32_t next;

		m.file_status.digests_needed = f->digests_needed;
		if (status == SL_PROTO_STATUS_READY && f->map != NULL)
			n = sl_chunkmap_durable_ranges(f->map, 0, r32, max, &next);
		for (unsigned i = 0; i < n; i++) {
			ranges[i].first = r32[i].first;
			ranges[i].count = r32[i].count;
		}
	}
	m.file_status.count = (uint16_t)n;
	m.file_status.ranges = ranges;
	session_send(e, &s->peer, &m, s->max_payload);
	e->st->file_status_sent++;
}

/* ---- sessions ---- */

static struct session *
session_find(const struct sl_session_engine *e, uint64_t id)
{
	uint64_t *v = htab_find(&e->sessions, id);

	return v == NULL ? NULL : (struct session *)(uintptr_t)*v;
}

static void
session_free(struct sl_session_engine *e, struct session *s)
{
	sfile_session_closed(e, s);
	htab_del(&e->sessions, s->id);
	htab_fini(&s->files);
	htab_fini(&s->finals);
	free(s->receipts);
	free(s);
	e->st->sessions_active--;
}

static void
send_welcome(struct sl_session_engine *e, const struct session *s)
{
	struct sl_proto_msg m = { .type = SL_PROTO_WELCOME, .session = s->id };

	memcpy(m.welcome.client_nonce, s->nonce, SL_PROTO_NONCE_SIZE);
	m.welcome.max_payload = s->max_payload;
	m.welcome.max_chunk = e->p.max_chunk;
	m.welcome.credit = e->p.window;
	m.welcome.max_files = (uint16_t)e->p.max_files;
	m.welcome.has_auth = s->has_auth;
	memcpy(m.welcome.auth, s->welcome_auth, SL_PROTO_AUTH_SIZE);
	session_send(e, &s->peer, &m, s->max_payload);
	e->st->welcomes_sent++;
}

static int
handle_hello(struct sl_session_engine *e, const struct sl_net_peer *from,
	     const struct sl_proto_hello *h, uint32_t len, uint64_t now)
{
	struct sl_proto_msg m = { .type = SL_PROTO_COOKIE };

	if (!handshake_token(e, now)) {
		e->st->handshake_refused++;
		return -EBUSY;
	}
	memcpy(m.cookie.client_nonce, h->client_nonce, SL_PROTO_NONCE_SIZE);
	m.cookie.issued = now / 1000000000ull;
	sl_auth_cookie(e->p.auth, from, h->client_nonce, m.cookie.issued, m.cookie.cookie);
	session_send(e, from, &m, handshake_cap(len));
	e->st->cookies_sent++;
	e->st->accepted++;
	return 0;
}

static struct session *
session_by_connect(const struct sl_session_engine *e, const struct sl_net_peer *from,
		   const struct sl_proto_connect *c)
{
	for (uint32_t i = 0; i < e->sessions.cap; i++) {
		struct session *s;

		if (e->sessions.used[i] != 1)
			continue;
		s = (struct session *)(uintptr_t)e->sessions.vals[i];
		if (sl_net_peer_equal(&s->peer, from) && s->issued == c->issued &&
		    memcmp(s->nonce, c->client_nonce, SL_PROTO_NONCE_SIZE) == 0 &&
		    sl_auth_equal(s->cookie, c->cookie, SL_PROTO_COOKIE_SIZE))
			return s;
	}
	return NULL;
}

static int
new_session_id(struct sl_session_engine *e, uint64_t *out)
{
	for (unsigned tries = 0; tries < 64; tries++) {
		uint64_t r;
		int rc = sl_auth_random(&r, sizeof(r));

		if (rc < 0)
			return rc;
		r = r - r % e->p.nb_writers + e->p.writer_id;
		if (r < e->p.writer_id || r == 0 || session_find(e, r) != NULL)
			continue; /* wrapped, zero or taken */
		*out = r;
		return 0;
	}
	return -EAGAIN;
}

static int
handle_connect(struct sl_session_engine *e, const struct sl_net_peer *from,
	       const struct sl_proto_connect *c, uint32_t len, uint64_t now)
{
	const struct sl_auth_key *key = NULL;
	struct session *s;
	int rc;

	/* The cookie is checked first (one HMAC), so that only a sender with a
	 * real address makes us look through the sessions for a repeat. */
	rc = sl_auth_check_connect(e->p.auth, from, c, now / 1000000000ull, &key);
	if (rc == 0 || rc == -SL_PROTO_REJECT_EXPIRED_COOKIE) {
		s = session_by_connect(e, from, c);
		if (s != NULL) {
			/* Its WELCOME was lost: the same one again. */
			s->peer = *from;
			s->last_seen_ns = now;
			send_welcome(e, s);
			e->st->accepted++;
			return 0;
		}
	}
	if (rc == 0 && e->st->sessions_active >= e->p.max_sessions)
		rc = -SL_PROTO_REJECT_BUSY;
	if (rc < 0) {
		e->st->handshake_refused++;
		if (handshake_token(e, now))
			send_reject(e, from, 0, (uint8_t)-rc, c->client_nonce, handshake_cap(len));
		return rc;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || htab_init(&s->files, 2 * e->p.max_files) < 0 ||
	    htab_init(&s->finals, 16) < 0 || new_session_id(e, &s->id) < 0 ||
	    htab_put(&e->sessions, s->id, (uint64_t)(uintptr_t)s) < 0) {
		if (s != NULL) {
			htab_fini(&s->files);
			htab_fini(&s->finals);
			free(s);
		}
		e->st->handshake_refused++;
		if (handshake_token(e, now))
			send_reject(e, from, 0, SL_PROTO_REJECT_BUSY, c->client_nonce,
				    handshake_cap(len));
		return -ENOMEM;
	}
	s->peer = *from;
	memcpy(s->nonce, c->client_nonce, SL_PROTO_NONCE_SIZE);
	memcpy(s->cookie, c->cookie, SL_PROTO_COOKIE_SIZE);
	s->issued = c->issued;
	s->max_payload = c->max_payload < e->p.max_payload ? c->max_payload : e->p.max_payload;
	if (key != NULL) {
		s->has_auth = true;
		sl_auth_welcome_proof(key, s->id, s->nonce, s->welcome_auth);
	}
	s->last_seen_ns = now;
	s->last_ack_ns = now;
	s->credit_sent = e->p.window;
	e->st->sessions_opened++;
	e->st->sessions_active++;
	send_welcome(e, s);
	e->st->accepted++;
	return 0;
}

int
sl_session_input(struct sl_session_engine *e, const struct sl_net_peer *from, const uint8_t *msg,
		 uint32_t len, uint64_t now_ns)
{
	struct sl_proto_msg m;
	struct session *s;
	int rc;

	e->st->dgrams++;
	e->now_ns = now_ns;
	rc = sl_proto_decode(msg, len, &m);
	if (rc < 0) {
		e->st->decode_error[sl_proto_error_index(rc)]++;
		return rc;
	}
	switch (m.type) {
	case SL_PROTO_HELLO:
		return handle_hello(e, from, &m.hello, len, now_ns);
	case SL_PROTO_CONNECT:
		return handle_connect(e, from, &m.connect, len, now_ns);
	case SL_PROTO_MANIFEST:
	case SL_PROTO_DIGESTS:
	case SL_PROTO_DATA:
	case SL_PROTO_BYE:
		break;
	default:
		e->st->unexpected_type++;
		return -EPROTO;
	}
	s = session_find(e, m.session);
	if (s == NULL) {
		e->st->unknown_session++;
		if (handshake_token(e, now_ns))
			send_reject(e, from, m.session, SL_PROTO_REJECT_UNKNOWN_SESSION, NULL,
				    handshake_cap(len));
		return -ENOENT;
	}
	if (!sl_net_peer_equal(&s->peer, from)) {
		e->st->wrong_peer++;
		return -EPERM;
	}
	/* Replies go where the latest datagram came from (MAC, VLAN, port). */
	s->peer = *from;
	s->last_seen_ns = now_ns;
	switch (m.type) {
	case SL_PROTO_MANIFEST:
		rc = sfile_manifest(e, s, &m.manifest);
		break;
	case SL_PROTO_DIGESTS:
		rc = sfile_digests(e, s, &m.digests);
		break;
	case SL_PROTO_DATA:
		if (m.flags & SL_PROTO_FLAG_ACK_NOW)
			s->ack_now = true;
		rc = sfile_data(e, s, &m.data);
		break;
	default: { /* BYE */
		struct sl_proto_msg bye = { .type = SL_PROTO_BYE, .session = s->id };

		/* The sender ends only when it knows every file's status: its OKs arrived. */
		sfile_receipts_release(e, s);
		session_send(e, &s->peer, &bye, s->max_payload);
		session_free(e, s);
		e->st->sessions_closed++;
		rc = 0;
		break;
	}
	}
	if (rc == 0)
		e->st->accepted++;
	return rc;
}

/* ---- ACKs ---- */

static void
send_ack(struct sl_session_engine *e, struct session *s)
{
	struct sl_proto_missing *missing = e->missing;
	struct sl_proto_ack_entry entries[(SL_PROTO_MAX_PAYLOAD_MAX - ACK_HEADER) / ACK_ENTRY];
	struct sl_proto_msg m = { .type = SL_PROTO_ACK, .session = s->id };
	size_t room = s->max_payload - ACK_HEADER;
	unsigned nb = 0, used = 0;
	uint32_t cap = s->files.cap, i, next = s->ack_cursor;

	for (i = 0; i < cap; i++) {
		uint32_t slot = (s->ack_cursor + i) % cap;
		struct sfile *f;
		unsigned nm, max;

		if (s->files.used[slot] != 1)
			continue;
		if (room < ACK_ENTRY)
			break;
		f = (struct sfile *)(uintptr_t)s->files.vals[slot];
		max = (unsigned)((room - ACK_ENTRY) / ACK_RANGE);
		if (max > MAX_RANGES - used)
			max = MAX_RANGES - used;
		nm = sfile_missing(e, f, missing + used, max);
		entries[nb].file_id = f->file_id;
		entries[nb].received_upto = sl_chunkmap_received_upto(f->map);
		entries[nb].durable_upto = sl_chunkmap_durable_upto(f->map);
		entries[nb].nmissing = (uint16_t)nm;
		entries[nb].missing = missing + used;
		used += nm;
		room -= ACK_ENTRY + (size_t)nm * ACK_RANGE;
		nb++;
		next = (slot + 1) % cap;
	}
	/* When not every file fitted, the next ACK starts after the last one in. */
	s->ack_cursor = i < cap ? next : s->ack_cursor;
	m.ack.credit_limit = s->retired + e->p.window;
	m.ack.count = (uint16_t)nb;
	m.ack.entries = entries;
	session_send(e, &s->peer, &m, s->max_payload);
	s->credit_sent = m.ack.credit_limit;
	s->last_ack_ns = e->now_ns;
	s->data_since_ack = false;
	s->ack_now = false;
	e->st->acks_sent++;
}

static void
sessions_poll(struct sl_session_engine *e, uint64_t now)
{
	uint64_t idle = (uint64_t)e->p.idle_timeout_ms * 1000000ull;
	uint64_t every = (uint64_t)e->p.ack_interval_us * 1000ull;

	for (uint32_t i = 0; i < e->sessions.cap; i++) {
		struct session *s;

		if (e->sessions.used[i] != 1)
			continue;
		s = (struct session *)(uintptr_t)e->sessions.vals[i];
		if (now > s->last_seen_ns && now - s->last_seen_ns > idle) {
			session_free(e, s);
			e->st->sessions_timed_out++;
			continue;
		}
		if (s->ack_now ||
		    ((s->data_since_ack || s->retired + e->p.window > s->credit_sent) &&
		     now - s->last_ack_ns >= every))
			send_ack(e, s);
	}
}

void
sl_session_poll(struct sl_session_engine *e, uint64_t now_ns)
{
	if (now_ns > e->now_ns)
		e->now_ns = now_ns;
	sl_uring_reap(e->io, sfile_io_done, e);
	sfile_poll(e);
	sessions_poll(e, e->now_ns);
	if (e->p.writer_id == 0 && e->p.staging_ttl_s != 0 && !e->finishing) {
		if (e->next_sweep_ns == 0)
			e->next_sweep_ns = e->now_ns + SWEEP_PERIOD_NS;
		if (e->sweep_dir == NULL && e->now_ns >= e->next_sweep_ns)
			sfile_sweep_start(e);
		if (e->sweep_dir != NULL)
			sfile_sweep_step(e, 64, false);
	}
	sl_uring_submit(e->io);
	sl_uring_reap(e->io, sfile_io_done, e);
	e->st->buffers_free = e->pool.nb_free;
}

bool
sl_session_busy(const struct sl_session_engine *e)
{
	if (sl_uring_outstanding(e->io) > 0 || sfile_busy(e))
		return true;
	for (uint32_t i = 0; i < e->sessions.cap; i++) {
		const struct session *s;

		if (e->sessions.used[i] != 1)
			continue;
		s = (const struct session *)(uintptr_t)e->sessions.vals[i];
		if (s->ack_now || s->data_since_ack)
			return true;
	}
	return false;
}

void
sl_session_idle_wait(struct sl_session_engine *e, uint32_t usec)
{
	if (sl_uring_outstanding(e->io) > 0)
		sl_uring_wait(e->io, usec);
	else
		usleep(usec);
}

int
sl_session_finish(struct sl_session_engine *e, uint64_t now_ns, uint64_t timeout_ms)
{
	struct sl_uring_watch w;

	sl_uring_watch_start(e->io, &w);
	e->finishing = true;
	if (now_ns > e->now_ns)
		e->now_ns = now_ns;
	for (uint32_t i = 0; i < e->sessions.cap; i++) {
		struct session *s;
		struct sl_proto_msg bye = { .type = SL_PROTO_BYE };

		if (e->sessions.used[i] != 1)
			continue;
		s = (struct session *)(uintptr_t)e->sessions.vals[i];
		bye.session = s->id;
		session_send(e, &s->peer, &bye, s->max_payload);
		session_free(e, s);
		e->st->sessions_closed++;
	}
	for (;;) {
		sl_session_poll(e, e->now_ns);
		if (!sfile_busy(e) && sl_uring_outstanding(e->io) == 0)
			return 0;
		/* As sl_capture_finish(): waited for while the disk answers at all. */
		if (sl_uring_watch_check(e->io, &w, timeout_ms, e->p.writer_id) < 0)
			return -ETIMEDOUT;
		sl_session_idle_wait(e, 1000);
	}
}
