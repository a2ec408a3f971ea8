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
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <cmocka.h>

#include "sl_auth.h"
#include "sl_common.h"
#include "sl_proto.h"
#include "sl_session.h"
#include "uring_probe.h"

#define SEC 1000000000ull
#define MS 1000000ull
/* The engine's clock at the start of every test. */
#define T0 (1000 * SEC)
#define K64 65536u
#define MAX_CHUNK (256u * 1024u)
#define WINDOW (1024u * 1024u)
#define PIECE 1024u
#define WAIT_LOOPS 5000
#define MAX_RX 512

/* ---- fixture ---- */

struct rx_msg {
	uint8_t *buf;
	uint16_t len;
	struct sl_net_peer to;
};

struct ctx {
	char dir[1024];
	struct sl_auth auth;
	struct sl_session_stats st;
	struct sl_io_stats io;
	struct sl_session_params p;
	struct sl_session_engine *e;
	struct sl_net_peer peer;
	uint64_t now;
	struct rx_msg rx[MAX_RX];
	unsigned nb_rx;
	uint8_t last[SL_PROTO_MAX_PAYLOAD_MAX]; /* the message last taken, decoded in place */
	uint64_t sid;
	uint16_t max_payload;
	uint64_t credit_max; /* highest credit_limit seen in an ACK */
	bool credit_went_down;
	uint64_t nonce;
};

static void
tx_cb(void *arg, const struct sl_net_peer *to, const uint8_t *msg, uint16_t len)
{
	struct ctx *c = arg;
	struct sl_proto_msg m;

	assert_true(len <= (c->max_payload ? c->max_payload : SL_PROTO_MAX_PAYLOAD_MAX));
	assert_int_equal(sl_proto_decode(msg, len, &m), 0);
	if (m.type == SL_PROTO_ACK) {
		if (m.ack.credit_limit < c->credit_max)
			c->credit_went_down = true;
		else
			c->credit_max = m.ack.credit_limit;
	}
	if (c->nb_rx == MAX_RX) {
		free(c->rx[0].buf);
		memmove(c->rx, c->rx + 1, (MAX_RX - 1) * sizeof(c->rx[0]));
		c->nb_rx--;
	}
	c->rx[c->nb_rx].buf = malloc(len);
	assert_non_null(c->rx[c->nb_rx].buf);
	memcpy(c->rx[c->nb_rx].buf, msg, len);
	c->rx[c->nb_rx].len = len;
	c->rx[c->nb_rx].to = *to;
	c->nb_rx++;
}

static void
rx_clear(struct ctx *c)
{
	for (unsigned i = 0; i < c->nb_rx; i++)
		free(c->rx[i].buf);
	c->nb_rx = 0;
}

static void
default_params(struct ctx *c)
{
	memset(&c->p, 0, sizeof(c->p));
	c->p.writer_id = 0;
	c->p.nb_writers = 1;
	c->p.dir = c->dir;
	c->p.direct = true;
	c->p.max_chunk = MAX_CHUNK;
	c->p.nb_bufs = 16;
	c->p.uring_depth = 64;
	c->p.max_sessions = 4;
	c->p.max_files = 8;
	c->p.window = WINDOW;
	c->p.max_payload = 1472;
	c->p.ack_interval_us = 20000;
	c->p.idle_timeout_ms = 30000;
	c->p.sync_interval_us = 1000;
	c->p.auth = &c->auth;
	c->p.tx = tx_cb;
	c->p.tx_arg = c;
	c->p.stats = &c->st;
	c->p.io_stats = &c->io;
}

static void
engine_start(struct ctx *c)
{
	int err = 0;

	c->e = sl_session_create(&c->p, &err);
	if (c->e == NULL)
		fprintf(stderr, "sl_session_create: %s\n", strerror(-err));
	assert_non_null(c->e);
}

static void
engine_stop(struct ctx *c)
{
	sl_session_destroy(c->e);
	c->e = NULL;
}

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	const char *base = getenv("SL_TEST_TMPDIR");

	if (c == NULL)
		return -1;
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(c->dir, sizeof(c->dir), "%s/test_session.XXXXXX", base);
	if (mkdtemp(c->dir) == NULL)
		return -1;
	if (sl_auth_init(&c->auth) < 0)
		return -1;
	c->peer.family = 4;
	c->peer.udp_port = 40000;
	c->peer.ip[0] = 192;
	c->peer.ip[1] = 0;
	c->peer.ip[2] = 2;
	c->peer.ip[3] = 1;
	c->peer.mac.addr_bytes[5] = 1;
	c->now = T0;
	c->nonce = 0x1122334455667788ull;
	default_params(c);
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;
	char cmd[PATH_MAX + 32];

	if (c->e != NULL)
		sl_session_destroy(c->e);
	rx_clear(c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", c->dir);
	free(c);
	return 0;
}

/* ---- checks ---- */

static void
check_balance(const struct sl_session_stats *st)
{
	uint64_t drops = st->unexpected_type + st->unknown_session + st->wrong_peer +
			 st->handshake_refused + st->data_unknown_file + st->data_bad_range +
			 st->data_no_buffer + st->data_fragmented + st->bad_manifest;

	for (unsigned i = 0; i < SL_PROTO_ERROR_COUNT; i++)
		drops += st->decode_error[i];
	assert_int_equal(st->dgrams, st->accepted + drops);
}

/* ---- sending ---- */

static int
feed_from(struct ctx *c, const struct sl_net_peer *from, const struct sl_proto_msg *m)
{
	uint8_t buf[SL_PROTO_MAX_PAYLOAD_MAX];
	int n = sl_proto_encode(m, buf, c->max_payload ? c->max_payload : 1472);

	assert_true(n > 0);
	return sl_session_input(c->e, from, buf, (uint32_t)n, c->now);
}

static int
feed(struct ctx *c, const struct sl_proto_msg *m)
{
	return feed_from(c, &c->peer, m);
}

/* Take the oldest reply of @type (and @file_id for FILE_STATUS), decoded into @m. */
static bool
take(struct ctx *c, uint8_t type, int64_t file_id, struct sl_proto_msg *m)
{
	for (unsigned i = 0; i < c->nb_rx; i++) {
		struct sl_proto_msg t;

		assert_int_equal(sl_proto_decode(c->rx[i].buf, c->rx[i].len, &t), 0);
		if (t.type != type)
			continue;
		if (type == SL_PROTO_FILE_STATUS && file_id >= 0 &&
		    t.file_status.file_id != (uint32_t)file_id)
			continue;
		memcpy(c->last, c->rx[i].buf, c->rx[i].len);
		assert_int_equal(sl_proto_decode(c->last, c->rx[i].len, m), 0);
		free(c->rx[i].buf);
		memmove(c->rx + i, c->rx + i + 1, (c->nb_rx - i - 1) * sizeof(c->rx[0]));
		c->nb_rx--;
		return true;
	}
	return false;
}

static void
drop_all(struct ctx *c, uint8_t type)
{
	struct sl_proto_msg m;

	while (take(c, type, -1, &m))
		;
}

static void
poll_once(struct ctx *c)
{
	c->now += MS;
	sl_session_poll(c->e, c->now);
}

/* Poll (the clock moving 1 ms each time) until a reply of @type arrives. */
static bool
wait_for(struct ctx *c, uint8_t type, int64_t file_id, struct sl_proto_msg *m)
{
	for (unsigned i = 0; i < WAIT_LOOPS; i++) {
		if (take(c, type, file_id, m))
			return true;
		poll_once(c);
		if (sl_session_busy(c->e))
			sl_session_idle_wait(c->e, 1000);
	}
	return take(c, type, file_id, m);
}

static void
hello(struct ctx *c, const struct sl_net_peer *from, uint64_t nonce, struct sl_proto_cookie *out)
{
	struct sl_proto_msg m = { .type = SL_PROTO_HELLO }, r;

	memcpy(m.hello.client_nonce, &nonce, 8);
	m.hello.max_payload = 1472;
	assert_int_equal(feed_from(c, from, &m), 0);
	assert_true(take(c, SL_PROTO_COOKIE, -1, &r));
	assert_memory_equal(r.cookie.client_nonce, &nonce, 8);
	*out = r.cookie;
}

static void
connect_msg(struct sl_proto_msg *m, const struct sl_proto_cookie *ck, uint16_t max_payload,
	    const struct sl_auth_key *key)
{
	memset(m, 0, sizeof(*m));
	m->type = SL_PROTO_CONNECT;
	memcpy(m->connect.client_nonce, ck->client_nonce, 8);
	m->connect.issued = ck->issued;
	memcpy(m->connect.cookie, ck->cookie, 16);
	m->connect.max_payload = max_payload;
	if (key != NULL) {
		m->connect.psk_id_len = key->id_len;
		m->connect.psk_id = key->id;
		sl_auth_connect_proof(key, ck->client_nonce, ck->cookie, m->connect.auth);
	}
}

/* Handshake from the fixture's peer; returns the session id. */
static uint64_t
open_session(struct ctx *c)
{
	struct sl_proto_cookie ck;
	struct sl_proto_msg m, r;

	hello(c, &c->peer, c->nonce++, &ck);
	connect_msg(&m, &ck, 1472, NULL);
	assert_int_equal(feed(c, &m), 0);
	assert_true(take(c, SL_PROTO_WELCOME, -1, &r));
	c->sid = r.session;
	c->max_payload = r.welcome.max_payload;
	return r.session;
}

/* ---- files ---- */

struct tfile {
	uint32_t id;
	char path[256];
	uint8_t *data;
	uint64_t size;
	uint32_t cs;
	uint32_t mode;
	int64_t mtime;
	uint8_t sha[32];
	uint32_t *crc;
	uint32_t nb;
};

static void
tfile_make(struct tfile *t, uint32_t id, const char *path, uint64_t size, uint32_t cs,
	   uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	memset(t, 0, sizeof(*t));
	t->id = id;
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->size = size;
	t->cs = cs;
	t->mode = 0640;
	t->mtime = 1600000000123456789ll;
	t->data = malloc(size ? size : 1);
	assert_non_null(t->data);
	for (uint64_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		t->data[i] = (uint8_t)x;
	}
	sl_sha256(t->data, size, t->sha);
	t->nb = sl_proto_chunk_count(size, cs);
	t->crc = calloc(t->nb ? t->nb : 1, sizeof(uint32_t));
	for (uint32_t i = 0; i < t->nb; i++) {
		uint64_t off = (uint64_t)i * cs;
		uint64_t len = size - off < cs ? size - off : cs;

		t->crc[i] = sl_proto_crc32c(t->data + off, len);
	}
}

static void
tfile_free(struct tfile *t)
{
	free(t->data);
	free(t->crc);
}

static void
manifest_msg(struct ctx *c, const struct tfile *t, uint16_t ndigests, struct sl_proto_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = SL_PROTO_MANIFEST;
	m->session = c->sid;
	m->manifest.file_id = t->id;
	m->manifest.size = t->size;
	m->manifest.mode = t->mode;
	m->manifest.mtime_ns = t->mtime;
	m->manifest.chunk_size = t->cs;
	memcpy(m->manifest.file_sha256, t->sha, 32);
	m->manifest.path_len = (uint16_t)strlen(t->path);
	m->manifest.path = t->path;
	m->manifest.first = 0;
	m->manifest.count = ndigests;
	m->manifest.digests = t->crc;
}

/* MANIFEST with every digest; returns the FILE_STATUS status it got. */
static int
send_manifest(struct ctx *c, const struct tfile *t, struct sl_proto_msg *status)
{
	struct sl_proto_msg m, r;

	manifest_msg(c, t, (uint16_t)t->nb, &m);
	feed(c, &m);
	if (!take(c, SL_PROTO_FILE_STATUS, t->id, &r))
		return -1;
	if (status != NULL)
		*status = r;
	return r.file_status.status;
}

static int
send_data_raw(struct ctx *c, uint32_t id, uint64_t off, const uint8_t *p, uint32_t len,
	      uint16_t flags)
{
	struct sl_proto_msg m = { .type = SL_PROTO_DATA, .session = c->sid, .flags = flags };

	m.data.file_id = id;
	m.data.offset = off;
	m.data.len = len;
	m.data.payload = p;
	return feed(c, &m);
}

/* Send bytes [off, off + len) in pieces that never cross a chunk. */
static void
send_range(struct ctx *c, const struct tfile *t, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;

	while (off < end) {
		uint64_t chunk_end = (off / t->cs + 1) * t->cs;
		uint64_t n = end - off;

		if (n > PIECE)
			n = PIECE;
		if (off + n > chunk_end)
			n = chunk_end - off;
		send_data_raw(c, t->id, off, t->data + off, (uint32_t)n, 0);
		off += n;
	}
}

static void
send_chunk(struct ctx *c, const struct tfile *t, uint32_t idx)
{
	uint64_t off = (uint64_t)idx * t->cs;
	uint64_t len = t->size - off < t->cs ? t->size - off : t->cs;

	send_range(c, t, off, len);
}

static int
wait_status(struct ctx *c, uint32_t id)
{
	struct sl_proto_msg r = { 0 };

	if (!wait_for(c, SL_PROTO_FILE_STATUS, id, &r))
		return -1;
	return r.file_status.status;
}

static void
check_file(struct ctx *c, const struct tfile *t)
{
	char path[PATH_MAX];
	struct stat sb;
	uint8_t *buf = malloc(t->size + 1);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", c->dir, t->path);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, t->size);
	assert_int_equal(sb.st_mode & 0777, t->mode & 0777);
	assert_int_equal((int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec, t->mtime);
	assert_int_equal(read(fd, buf, t->size + 1), (ssize_t)t->size);
	assert_memory_equal(buf, t->data, t->size);
	close(fd);
	free(buf);
}

static bool
final_exists(struct ctx *c, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", c->dir, name);
	return access(path, F_OK) == 0;
}

static unsigned
staging_entries(struct ctx *c)
{
	char cmd[PATH_MAX + 64];
	FILE *p;
	unsigned n = 0;

	snprintf(cmd, sizeof(cmd), "ls -A '%s/.sluice/staging' | wc -l", c->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%u", &n), 1);
	pclose(p);
	return n;
}

/* The sender's BYE, answered by BYE. */
static void
bye(struct ctx *c)
{
	struct sl_proto_msg m = { .type = SL_PROTO_BYE, .session = c->sid }, r;

	assert_int_equal(feed(c, &m), 0);
	assert_true(take(c, SL_PROTO_BYE, -1, &r));
}

/* Send a whole file and expect OK. */
static void
transfer(struct ctx *c, const struct tfile *t)
{
	assert_int_equal(send_manifest(c, t, NULL),
			 t->size == 0 ? SL_PROTO_STATUS_OK : SL_PROTO_STATUS_READY);
	if (t->size == 0)
		return;
	for (uint32_t i = 0; i < t->nb; i++)
		send_chunk(c, t, i);
	assert_int_equal(wait_status(c, t->id), SL_PROTO_STATUS_OK);
}

/* ---- tests ---- */

static void
test_route(void **state)
{
	struct sl_proto_msg m = { .type = SL_PROTO_HELLO };
	uint8_t buf[512];
	int n;

	(void)state;
	memcpy(m.hello.client_nonce, "\0\0\0\0\0\0\0\x07", 8);
	m.hello.max_payload = 1472;
	n = sl_proto_encode(&m, buf, sizeof(buf));
	assert_true(n >= 256);
	assert_int_equal(sl_session_route(buf, (uint32_t)n, 4), 3);
	assert_int_equal(sl_session_route(buf, 28, 4), 3);
	assert_int_equal(sl_session_route(buf, 27, 4), -1);
	assert_int_equal(sl_session_route(buf, (uint32_t)n, 0), -1);

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_BYE;
	m.session = 0x100000000ull * 5 + 2; /* % 3 = (5 * 1 + 2) % 3 = 1 */
	n = sl_proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 20);
	assert_int_equal(sl_session_route(buf, 20, 3), (int)(m.session % 3));
	assert_int_equal(sl_session_route(buf, 19, 3), -1);
	buf[0] = 'X';
	assert_int_equal(sl_session_route(buf, 20, 3), -1);
}

static void
test_create_bad_params(void **state)
{
	struct ctx *c = *state;
	int err = 0;

	c->p.max_chunk = 1000;
	assert_null(sl_session_create(&c->p, &err));
	assert_int_equal(err, -EINVAL);
	default_params(c);
	c->p.writer_id = 1;
	assert_null(sl_session_create(&c->p, &err));
	assert_int_equal(err, -EINVAL);
	default_params(c);
	c->p.dir = "/nonexistent/sluice";
	assert_null(sl_session_create(&c->p, &err));
	assert_int_equal(err, -ENOENT);
}

static void
test_handshake(void **state)
{
	struct ctx *c = *state;
	struct sl_proto_cookie ck, ck2;
	struct sl_proto_msg m, r;
	uint64_t sid;

	c->p.nb_writers = 3;
	c->p.writer_id = 2;
	c->p.max_sessions = 2;
	c->p.max_payload = 1400;
	engine_start(c);

	hello(c, &c->peer, 42, &ck);
	assert_int_equal(ck.issued, T0 / SEC);
	assert_int_equal(c->st.cookies_sent, 1);

	/* A bad cookie, then the good one. */
	connect_msg(&m, &ck, 9000, NULL);
	m.connect.cookie[0] ^= 1;
	assert_true(feed(c, &m) < 0);
	assert_true(take(c, SL_PROTO_REJECT, -1, &r));
	assert_int_equal(r.reject.reason, SL_PROTO_REJECT_BAD_COOKIE);
	assert_int_equal(r.session, 0);
	assert_int_equal(c->st.rejects[SL_PROTO_REJECT_BAD_COOKIE], 1);

	connect_msg(&m, &ck, 9000, NULL);
	assert_int_equal(feed(c, &m), 0);
	assert_true(take(c, SL_PROTO_WELCOME, -1, &r));
	sid = r.session;
	assert_true(sid != 0);
	assert_int_equal(sid % 3, 2);
	assert_int_equal(r.welcome.max_payload, 1400);
	assert_int_equal(r.welcome.max_chunk, MAX_CHUNK);
	assert_int_equal(r.welcome.credit, WINDOW);
	assert_int_equal(r.welcome.max_files, 8);
	assert_false(r.welcome.has_auth);

	/* The same CONNECT again (WELCOME lost): the same session. */
	assert_int_equal(feed(c, &m), 0);
	assert_true(take(c, SL_PROTO_WELCOME, -1, &r));
	assert_int_equal(r.session, sid);
	assert_int_equal(c->st.sessions_opened, 1);
	assert_int_equal(c->st.welcomes_sent, 2);

	/* Expired cookie: issued 61 s ago. */
	hello(c, &c->peer, 43, &ck2);
	c->now += 61 * SEC;
	connect_msg(&m, &ck2, 1472, NULL);
	assert_true(feed(c, &m) < 0);
	assert_true(take(c, SL_PROTO_REJECT, -1, &r));
	assert_int_equal(r.reject.reason, SL_PROTO_REJECT_EXPIRED_COOKIE);
	assert_memory_equal(r.reject.client_nonce, ck2.client_nonce, 8);

	/* A second session, then busy. */
	hello(c, &c->peer, 44, &ck2);
	connect_msg(&m, &ck2, 1472, NULL);
	assert_int_equal(feed(c, &m), 0);
	assert_true(take(c, SL_PROTO_WELCOME, -1, &r));
	assert_true(r.session != sid);
	assert_int_equal(r.session % 3, 2);
	hello(c, &c->peer, 45, &ck2);
	connect_msg(&m, &ck2, 1472, NULL);
	assert_true(feed(c, &m) < 0);
	assert_true(take(c, SL_PROTO_REJECT, -1, &r));
	assert_int_equal(r.reject.reason, SL_PROTO_REJECT_BUSY);
	assert_int_equal(c->st.sessions_active, 2);
	assert_int_equal(c->st.handshake_refused, 3);
	check_balance(&c->st);
}

static void
test_allow_list(void **state)
{
	struct ctx *c = *state;
	struct sl_proto_cookie ck;
	struct sl_proto_msg m, r;
	char err[128];

	assert_int_equal(sl_auth_allow_add(&c->auth, "10.9.9.0/24", err, sizeof(err)), 0);
	engine_start(c);
	hello(c, &c->peer, 1, &ck);
	connect_msg(&m, &ck, 1472, NULL);
	assert_true(feed(c, &m) < 0);
	assert_true(take(c, SL_PROTO_REJECT, -1, &r));
	assert_int_equal(r.reject.reason, SL_PROTO_REJECT_NOT_ALLOWED);
	assert_int_equal(c->st.sessions_active, 0);
	check_balance(&c->st);
}

static void
test_psk(void **state)
{
	struct ctx *c = *state;
	struct sl_auth_key wrong = { .id = "id1", .id_len = 3, .key_len = 16 };
	const struct sl_auth_key *key;
	struct sl_proto_cookie ck;
	struct sl_proto_msg m, r;
	uint8_t proof[32];
	char path[PATH_MAX], err[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/keys", c->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "# test\nid1 00112233445566778899aabbccddeeff\n");
	fclose(fp);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(sl_auth_load_keys(&c->auth, path, err, sizeof(err)), 0);
	key = sl_auth_find_key(&c->auth, "id1", 3);
	assert_non_null(key);
	engine_start(c);

	/* No key proof. */
	hello(c, &c->peer, 1, &ck);
	connect_msg(&m, &ck, 1472, NULL);
	assert_true(feed(c, &m) < 0);
	assert_true(take(c, SL_PROTO_REJECT, -1, &r));
	assert_int_equal(r.reject.reason, SL_PROTO_REJECT_AUTH_FAILED);
	/* The wrong key. */
	connect_msg(&m, &ck, 1472, &wrong);
	assert_true(feed(c, &m) < 0);
	assert_true(take(c, SL_PROTO_REJECT, -1, &r));
	assert_int_equal(r.reject.reason, SL_PROTO_REJECT_AUTH_FAILED);
	/* The right key: WELCOME carries the proof. */
	connect_msg(&m, &ck, 1472, key);
	assert_int_equal(feed(c, &m), 0);
	assert_true(take(c, SL_PROTO_WELCOME, -1, &r));
	assert_true(r.welcome.has_auth);
	sl_auth_welcome_proof(key, r.session, ck.client_nonce, proof);
	assert_memory_equal(r.welcome.auth, proof, 32);
	assert_int_equal(c->st.rejects[SL_PROTO_REJECT_AUTH_FAILED], 2);
	check_balance(&c->st);
}

static void
test_drops(void **state)
{
	struct ctx *c = *state;
	struct sl_net_peer other = c->peer;
	struct sl_proto_msg m, r;
	uint8_t buf[64] = { 0 };
	uint8_t enc[512];
	int n;

	engine_start(c);
	open_session(c);
	other.udp_port++;

	/* Unknown session: REJECT carrying that session id. */
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_DATA;
	m.session = c->sid + 1;
	m.data.file_id = 1;
	m.data.len = 16;
	m.data.payload = buf;
	assert_true(feed(c, &m) < 0);
	assert_true(take(c, SL_PROTO_REJECT, -1, &r));
	assert_int_equal(r.session, c->sid + 1);
	assert_int_equal(r.reject.reason, SL_PROTO_REJECT_UNKNOWN_SESSION);
	assert_int_equal(c->st.unknown_session, 1);

	/* Known session from another port: dropped, no answer. */
	m.session = c->sid;
	assert_true(feed_from(c, &other, &m) < 0);
	assert_int_equal(c->st.wrong_peer, 1);
	assert_int_equal(c->nb_rx, 0);

	/* DATA for no file. */
	assert_true(feed(c, &m) < 0);
	assert_int_equal(c->st.data_unknown_file, 1);

	/* A type receivers never take. */
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_ACK;
	m.session = c->sid;
	assert_true(feed(c, &m) < 0);
	assert_int_equal(c->st.unexpected_type, 1);

	/* Decode errors. */
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_BYE;
	m.session = c->sid;
	n = sl_proto_encode(&m, enc, sizeof(enc));
	enc[19] ^= 1;
	assert_true(sl_session_input(c->e, &c->peer, enc, (uint32_t)n, c->now) < 0);
	assert_int_equal(c->st.decode_error[sl_proto_error_index(SL_PROTO_E_CRC)], 1);
	assert_true(sl_session_input(c->e, &c->peer, enc, 10, c->now) < 0);
	assert_int_equal(c->st.decode_error[sl_proto_error_index(SL_PROTO_E_SHORT)], 1);
	enc[0] = 'X';
	assert_true(sl_session_input(c->e, &c->peer, enc, (uint32_t)n, c->now) < 0);
	assert_int_equal(c->st.decode_error[sl_proto_error_index(SL_PROTO_E_MAGIC)], 1);
	assert_int_equal(c->nb_rx, 0);

	/* BYE: answered, session freed; later messages are unknown. */
	assert_int_equal(feed(c, &m), 0);
	assert_true(take(c, SL_PROTO_BYE, -1, &r));
	assert_int_equal(r.session, c->sid);
	assert_int_equal(c->st.sessions_closed, 1);
	assert_int_equal(c->st.sessions_active, 0);
	/* An unknown BYE is not answered: the REJECT would be larger. */
	assert_true(feed(c, &m) < 0);
	assert_int_equal(c->st.unknown_session, 2);
	assert_int_equal(c->nb_rx, 0);
	check_balance(&c->st);
}

static void
test_timeout(void **state)
{
	struct ctx *c = *state;

	c->p.idle_timeout_ms = 100;
	engine_start(c);
	open_session(c);
	for (unsigned i = 0; i < 99; i++)
		poll_once(c);
	assert_int_equal(c->st.sessions_active, 1);
	for (unsigned i = 0; i < 3; i++)
		poll_once(c);
	assert_int_equal(c->st.sessions_active, 0);
	assert_int_equal(c->st.sessions_timed_out, 1);
	check_balance(&c->st);
}

static void
test_small_files(void **state)
{
	struct ctx *c = *state;
	static const struct {
		const char *path;
		uint64_t size;
	} cases[] = {
		{ "empty", 0 },
		{ "one", 1 },
		{ "page", 4096 },
		{ "chunk", K64 },
		{ "chunk_plus_one", K64 + 1 },
		{ "a/b/c/nested", 3 * K64 + 100 },
	};
	uint64_t bytes = 0;

	engine_start(c);
	open_session(c);
	for (unsigned i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct tfile t;

		tfile_make(&t, i, cases[i].path, cases[i].size, K64, i);
		t.mode = 0600 | (i & 7) << 3;
		transfer(c, &t);
		check_file(c, &t);
		bytes += t.size;
		tfile_free(&t);
	}
	assert_int_equal(c->st.files_ok, SL_ARRAY_SIZE(cases));
	assert_int_equal(c->st.file_bytes, bytes);
	assert_int_equal(c->st.files_active, 0);
	/* A receipt per published file with data, until the sender's BYE. */
	assert_int_equal(staging_entries(c), SL_ARRAY_SIZE(cases) - 1);
	bye(c);
	assert_int_equal(staging_entries(c), 0);
	assert_int_equal(c->st.receipts_released, SL_ARRAY_SIZE(cases) - 1);
	check_balance(&c->st);
}

static void
test_empty_digest_mismatch(void **state)
{
	struct ctx *c = *state;
	struct tfile t;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "empty", 0, K64, 1);
	t.sha[0] ^= 1;
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_DIGEST_MISMATCH);
	assert_false(final_exists(c, "empty"));
	assert_int_equal(staging_entries(c), 0);
	tfile_free(&t);
	check_balance(&c->st);
}

/* Find the latest ACK entry of @id, polling until @pred holds. */
static bool
ack_entry(struct ctx *c, uint32_t id, struct sl_proto_ack_entry *out)
{
	struct sl_proto_msg m;
	struct sl_proto_ack_iter it;

	if (!wait_for(c, SL_PROTO_ACK, -1, &m))
		return false;
	sl_proto_ack_iter_init(&it, &m.ack);
	while (sl_proto_ack_next(&it, out))
		if (out->file_id == id)
			return true;
	return false;
}

static void
test_out_of_order(void **state)
{
	struct ctx *c = *state;
	struct sl_proto_ack_entry a;
	struct sl_proto_missing mr;
	struct tfile t;
	uint64_t tail = 4ull * K64;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 7, "ooo", 4ull * K64 + 5000, K64, 7);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);

	/* Chunk 3, chunk 1 twice, chunk 0 without [2048, 3072), 1000 bytes of the tail. */
	send_chunk(c, &t, 3);
	send_chunk(c, &t, 1);
	send_chunk(c, &t, 1);
	send_range(c, &t, 0, 2048);
	send_range(c, &t, 3072, K64 - 3072);
	send_range(c, &t, tail, 999);
	send_data_raw(c, t.id, tail + 999, t.data + tail + 999, 1, SL_PROTO_FLAG_ACK_NOW);
	assert_int_equal(c->st.data_dup_bytes, K64);
	assert_int_equal(c->st.data_durable, K64 / PIECE);
	drop_all(c, SL_PROTO_ACK);

	assert_true(ack_entry(c, t.id, &a));
	assert_int_equal(a.received_upto, 0);
	assert_int_equal(a.nmissing, 2);
	mr = sl_proto_missing_get(&a, 0);
	assert_int_equal(mr.offset, 2048);
	assert_int_equal(mr.length, 1024);
	mr = sl_proto_missing_get(&a, 1);
	assert_int_equal(mr.offset, 2 * K64);
	assert_int_equal(mr.length, K64);
	/* Let chunks 1 and 3 leave memory, so the SHA-256 must read them back. */
	for (unsigned i = 0; i < WAIT_LOOPS && c->st.chunks_written < 2; i++) {
		poll_once(c);
		sl_session_idle_wait(c->e, 1000);
	}
	assert_int_equal(c->st.chunks_written, 2);

	/* Resend exactly what was listed, then the rest of the tail. */
	send_range(c, &t, 2048, 1024);
	send_chunk(c, &t, 2);
	send_range(c, &t, tail + 1000, 4000);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_OK);
	check_file(c, &t);
	/* Chunks 1 and 3 were written before chunk 0 and are read back. */
	assert_true(c->st.readback_bytes > 0);
	assert_int_equal(c->st.chunks_verified, 5);
	assert_false(c->credit_went_down);
	tfile_free(&t);
	check_balance(&c->st);
}

static void
test_bad_chunk_crc(void **state)
{
	struct ctx *c = *state;
	struct sl_proto_ack_entry a;
	struct sl_proto_missing mr;
	struct tfile t;
	uint8_t bad[PIECE];

	engine_start(c);
	open_session(c);
	tfile_make(&t, 3, "crc", 3ull * K64, K64, 3);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	send_chunk(c, &t, 0);
	/* Chunk 1 with one byte changed in transit (the datagram CRC is fine). */
	memcpy(bad, t.data + K64, PIECE);
	bad[5] ^= 0x40;
	send_data_raw(c, t.id, K64, bad, PIECE, 0);
	send_range(c, &t, K64 + PIECE, K64 - PIECE);
	send_chunk(c, &t, 2);
	send_data_raw(c, t.id, 3 * K64 - 1, t.data + 3 * K64 - 1, 1, SL_PROTO_FLAG_ACK_NOW);
	assert_int_equal(c->st.chunks_bad, 1);
	drop_all(c, SL_PROTO_ACK);
	assert_true(ack_entry(c, t.id, &a));
	assert_int_equal(a.received_upto, 1);
	assert_int_equal(a.nmissing, 1);
	mr = sl_proto_missing_get(&a, 0);
	assert_int_equal(mr.offset, K64);
	assert_int_equal(mr.length, K64);
	send_chunk(c, &t, 1);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_OK);
	check_file(c, &t);
	tfile_free(&t);
	check_balance(&c->st);
}

static void
test_digest_mismatch(void **state)
{
	struct ctx *c = *state;
	struct tfile t;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "dir/mismatch", 2ull * K64 + 10, K64, 1);
	t.sha[31] ^= 1;
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	for (uint32_t i = 0; i < t.nb; i++)
		send_chunk(c, &t, i);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_DIGEST_MISMATCH);
	assert_false(final_exists(c, "dir/mismatch"));
	assert_int_equal(staging_entries(c), 0);
	assert_int_equal(c->st.files_failed[SL_PROTO_STATUS_DIGEST_MISMATCH], 1);
	/* The MANIFEST again gets the same answer. */
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_DIGEST_MISMATCH);
	/* Late DATA for it is not taken. */
	send_data_raw(c, t.id, 0, t.data, 10, 0);
	assert_int_equal(c->st.data_unknown_file, 1);
	tfile_free(&t);
	check_balance(&c->st);
}

static void
test_exists_overwrite(void **state)
{
	struct ctx *c = *state;
	char path[PATH_MAX];
	struct tfile t, t2;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/taken", c->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("old", fp);
	fclose(fp);

	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "taken", 5000, K64, 1);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_EXISTS);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_EXISTS);
	/* A changed MANIFEST for that file_id. */
	t.mode = 0644;
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_BAD_MANIFEST);
	assert_int_equal(c->st.bad_manifest, 1);
	t.mode = 0640;
	engine_stop(c);

	c->p.overwrite = true;
	engine_start(c);
	open_session(c);
	transfer(c, &t);
	check_file(c, &t);
	/* Overwrite also replaces a file that appears during the transfer. */
	tfile_make(&t2, 2, "taken", 70000, K64, 2);
	assert_int_equal(send_manifest(c, &t2, NULL), SL_PROTO_STATUS_READY);
	send_chunk(c, &t2, 0);
	send_chunk(c, &t2, 1);
	assert_int_equal(wait_status(c, t2.id), SL_PROTO_STATUS_OK);
	check_file(c, &t2);
	tfile_free(&t);
	tfile_free(&t2);
	check_balance(&c->st);
}

static void
test_bad_path(void **state)
{
	struct ctx *c = *state;
	char outside[PATH_MAX + 16], link[PATH_MAX + 16], probe[PATH_MAX + 32];
	char outdir[PATH_MAX + 16];
	static const char *const names[] = { "../x", "/abs", ".sluice/x", "a//b", "link/f" };
	struct tfile t;

	snprintf(outside, sizeof(outside), "%s/outside", c->dir);
	snprintf(link, sizeof(link), "%s/out/link", c->dir);
	assert_int_equal(mkdir(outside, 0700), 0);
	snprintf(outdir, sizeof(outdir), "%s/out", c->dir);
	assert_int_equal(mkdir(outdir, 0700), 0);
	assert_int_equal(symlink(outside, link), 0);
	/* The engine's --dir is <tmp>/out, where "link" points outside it. */
	c->p.dir = outdir;
	engine_start(c);
	open_session(c);
	for (unsigned i = 0; i < SL_ARRAY_SIZE(names); i++) {
		tfile_make(&t, i, names[i], 100, K64, i);
		assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_BAD_PATH);
		tfile_free(&t);
	}
	/* A symlink met only at commit (planted after the MANIFEST). */
	tfile_make(&t, 10, "late/f", 100, K64, 10);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	snprintf(probe, sizeof(probe), "%s/out/late", c->dir);
	assert_int_equal(symlink(outside, probe), 0);
	send_chunk(c, &t, 0);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_BAD_PATH);
	tfile_free(&t);
	snprintf(probe, sizeof(probe), "%s/f", outside);
	assert_int_equal(access(probe, F_OK), -1);
	snprintf(probe, sizeof(probe), "%s/x", outside);
	assert_int_equal(access(probe, F_OK), -1);
	assert_int_equal(c->st.files_failed[SL_PROTO_STATUS_BAD_PATH], SL_ARRAY_SIZE(names) + 1);
	check_balance(&c->st);
}

static void
test_bad_manifest(void **state)
{
	struct ctx *c = *state;
	struct sl_proto_msg m, r;
	struct tfile t;
	uint32_t wrong = 0;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "bm", 3 * K64, K64, 1);
	t.cs = 4096; /* below 64 KiB */
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_BAD_MANIFEST);
	tfile_free(&t);

	/* Digests only for chunk 0; the rest come in DIGESTS after the data. */
	tfile_make(&t, 2, "late_digests", 3 * K64, K64, 2);
	manifest_msg(c, &t, 1, &m);
	feed(c, &m);
	assert_true(take(c, SL_PROTO_FILE_STATUS, t.id, &r));
	assert_int_equal(r.file_status.status, SL_PROTO_STATUS_READY);
	assert_int_equal(r.file_status.digests_needed, 1);
	/* An identical repeat: READY again; a changed one: BAD_MANIFEST, the file goes on. */
	feed(c, &m);
	assert_true(take(c, SL_PROTO_FILE_STATUS, t.id, &r));
	assert_int_equal(r.file_status.status, SL_PROTO_STATUS_READY);
	m.manifest.size++;
	assert_true(feed(c, &m) < 0);
	assert_true(take(c, SL_PROTO_FILE_STATUS, t.id, &r));
	assert_int_equal(r.file_status.status, SL_PROTO_STATUS_BAD_MANIFEST);
	for (uint32_t i = 0; i < t.nb; i++)
		send_chunk(c, &t, i);
	for (unsigned i = 0; i < 20; i++)
		poll_once(c);
	assert_false(take(c, SL_PROTO_FILE_STATUS, t.id, &r));
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_DIGESTS;
	m.session = c->sid;
	m.digests.file_id = t.id;
	m.digests.first = 1;
	m.digests.count = 2;
	m.digests.digests = t.crc + 1;
	assert_int_equal(feed(c, &m), 0);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_OK);
	check_file(c, &t);

	/* A DIGESTS that contradicts a known digest fails the file. */
	tfile_free(&t);
	tfile_make(&t, 3, "contradict", 2 * K64, K64, 3);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	wrong = t.crc[1] ^ 1;
	m.digests.file_id = t.id;
	m.digests.first = 1;
	m.digests.count = 1;
	m.digests.digests = &wrong;
	assert_true(feed(c, &m) < 0);
	assert_true(take(c, SL_PROTO_FILE_STATUS, t.id, &r));
	assert_int_equal(r.file_status.status, SL_PROTO_STATUS_BAD_MANIFEST);
	/* DIGESTS for no file. */
	m.digests.file_id = 99;
	assert_true(feed(c, &m) < 0);
	assert_int_equal(c->st.bad_manifest, 4);
	tfile_free(&t);
	check_balance(&c->st);
}

static void
test_resume(void **state)
{
	struct ctx *c = *state;
	struct sl_proto_msg r = { 0 };
	struct sl_proto_range rg;
	struct tfile t;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 5, "dir/resume", 8ull * K64 - 100, K64, 5);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	for (uint32_t i = 0; i < 4; i++)
		send_chunk(c, &t, i);
	send_chunk(c, &t, 5);
	/* Half a chunk that is never finished. */
	send_range(c, &t, 6ull * K64, K64 / 2);
	for (unsigned i = 0; i < WAIT_LOOPS && c->st.chunks_durable < 5; i++) {
		poll_once(c);
		sl_session_idle_wait(c->e, 1000);
	}
	assert_int_equal(c->st.chunks_durable, 5);
	poll_once(c);
	/* Crash: no finish, no goodbye. */
	engine_stop(c);
	rx_clear(c);

	memset(&c->st, 0, sizeof(c->st));
	engine_start(c);
	open_session(c);
	assert_int_equal(send_manifest(c, &t, &r), SL_PROTO_STATUS_READY);
	assert_int_equal(r.file_status.count, 2);
	rg = sl_proto_range_get(&r.file_status, 0);
	assert_int_equal(rg.first, 0);
	assert_int_equal(rg.count, 4);
	rg = sl_proto_range_get(&r.file_status, 1);
	assert_int_equal(rg.first, 5);
	assert_int_equal(rg.count, 1);
	assert_int_equal(c->st.files_resumed, 1);
	assert_int_equal(c->st.chunks_skipped, 5);
	send_chunk(c, &t, 4);
	send_chunk(c, &t, 6);
	send_chunk(c, &t, 7);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_OK);
	check_file(c, &t);
	assert_int_equal(c->st.chunks_written, 3);
	assert_true(c->st.readback_bytes >= 5ull * K64);
	bye(c);
	assert_int_equal(staging_entries(c), 0);
	tfile_free(&t);
	check_balance(&c->st);
}

/* A sidecar that cannot be written fails the file with IO_ERROR (and must not
 * touch the freed file afterwards: run under ASan). */
static void
test_sidecar_failure(void **state)
{
	struct ctx *c = *state;
	struct tfile t;
	char cmd[PATH_MAX + 256];

	engine_start(c);
	open_session(c);
	tfile_make(&t, 9, "sidecar-fails", 4ull * K64, K64, 9);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	/* A directory where the sidecar's temporary file goes. */
	snprintf(cmd, sizeof(cmd),
		 "cd '%s/.sluice/staging' && for f in *.data; do mkdir \"${f%%.data}.state.tmp\"; "
		 "done",
		 c->dir);
	assert_int_equal(system(cmd), 0);
	send_chunk(c, &t, 0);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_IO_ERROR);
	assert_true(c->st.io_errors >= 1);
	assert_int_equal(c->st.files_failed[SL_PROTO_STATUS_IO_ERROR], 1);
	/* The engine goes on serving. */
	send_chunk(c, &t, 1);
	poll_once(c);
	tfile_free(&t);
	check_balance(&c->st);
}

/* A session cannot grow the remembered final statuses without bound. */
static void
test_finals_bounded(void **state)
{
	struct ctx *c = *state;
	const uint32_t n = 65536 + 50;
	struct tfile t;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "../escape", 10, K64, 1);
	for (uint32_t id = 1; id <= n; id++) {
		struct sl_proto_msg m;

		t.id = id;
		manifest_msg(c, &t, (uint16_t)t.nb, &m);
		feed(c, &m);
		if (id % 64 == 0)
			rx_clear(c);
	}
	assert_int_equal(c->st.files_failed[SL_PROTO_STATUS_BAD_PATH], n);
	assert_int_equal(c->st.finals_forgotten, 50);
	/* A remembered one is still answered the same. */
	rx_clear(c);
	t.id = 7;
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_BAD_PATH);
	tfile_free(&t);
	check_balance(&c->st);
}

/* One byte at the far end of a big file: the ACK's missing ranges look at no
 * more than 4096 chunks (MISSING_SCAN_CHUNKS), so the writer stays fast. */
static void
test_missing_scan_bounded(void **state)
{
	struct ctx *c = *state;
	const uint32_t chunks = 4200;
	struct sl_proto_ack_entry a;
	struct sl_proto_missing mr;
	struct sl_proto_msg m;
	struct tfile t;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 11, "far", (uint64_t)chunks * K64, K64, 11);
	manifest_msg(c, &t, 0, &m);
	feed(c, &m);
	send_data_raw(c, t.id, (uint64_t)(chunks - 1) * K64, t.data, 1, SL_PROTO_FLAG_ACK_NOW);
	drop_all(c, SL_PROTO_ACK);
	assert_true(ack_entry(c, t.id, &a));
	assert_int_equal(a.received_upto, 0);
	assert_int_equal(a.nmissing, 1);
	mr = sl_proto_missing_get(&a, 0);
	assert_int_equal(mr.offset, 0);
	assert_int_equal(mr.length, 4096u * K64);
	tfile_free(&t);
	check_balance(&c->st);
}

static void
test_bye_keeps_staging(void **state)
{
	struct ctx *c = *state;
	struct sl_proto_msg m = { .type = SL_PROTO_BYE }, r;
	struct sl_proto_range rg;
	struct tfile t;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "bye", 4ull * K64, K64, 9);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	send_chunk(c, &t, 0);
	send_chunk(c, &t, 1);
	send_range(c, &t, 2 * K64, 100);
	/* BYE at once: the verified chunks are still being written. */
	m.session = c->sid;
	assert_int_equal(feed(c, &m), 0);
	assert_true(take(c, SL_PROTO_BYE, -1, &r));
	for (unsigned i = 0; i < WAIT_LOOPS && sl_session_busy(c->e); i++) {
		poll_once(c);
		sl_session_idle_wait(c->e, 1000);
	}
	assert_false(sl_session_busy(c->e));
	assert_int_equal(c->st.chunks_durable, 2);
	assert_int_equal(c->st.files_active, 0);

	open_session(c);
	assert_int_equal(send_manifest(c, &t, &r), SL_PROTO_STATUS_READY);
	assert_int_equal(r.file_status.count, 1);
	rg = sl_proto_range_get(&r.file_status, 0);
	assert_int_equal(rg.first, 0);
	assert_int_equal(rg.count, 2);
	send_chunk(c, &t, 2);
	send_chunk(c, &t, 3);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_OK);
	check_file(c, &t);
	/* finish() says goodbye to the session still open. */
	assert_int_equal(sl_session_finish(c->e, c->now, 5000), 0);
	assert_true(take(c, SL_PROTO_BYE, -1, &r));
	tfile_free(&t);
	check_balance(&c->st);
}

static void
test_credit(void **state)
{
	struct ctx *c = *state;
	struct tfile t;
	uint64_t sent = 0;

	c->p.window = 4 * K64;
	engine_start(c);
	open_session(c);
	c->credit_max = 4 * K64;
	tfile_make(&t, 1, "credit", 16ull * K64, K64, 4);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	/* Send only as much as the credit allows, as a sender must. */
	for (unsigned loops = 0; sent < t.size && loops < WAIT_LOOPS; loops++) {
		while (sent < t.size && sent + K64 <= c->credit_max) {
			send_chunk(c, &t, (uint32_t)(sent / K64));
			sent += K64;
		}
		poll_once(c);
		sl_session_idle_wait(c->e, 1000);
	}
	assert_int_equal(sent, t.size);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_OK);
	/* Every chunk retired: the credit reaches size + window. */
	for (unsigned i = 0; i < 100 && c->credit_max < t.size + 4 * K64; i++)
		poll_once(c);
	assert_int_equal(c->credit_max, t.size + 4 * K64);
	assert_false(c->credit_went_down);
	assert_int_equal(c->st.data_no_buffer, 0);
	check_file(c, &t);
	tfile_free(&t);
	check_balance(&c->st);
}

static void
test_no_space(void **state)
{
	struct ctx *c = *state;
	struct statvfs vfs;
	struct tfile t;
	uint64_t total;

	assert_int_equal(statvfs(c->dir, &vfs), 0);
	total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	if (total * 2 / MAX_CHUNK >= (1u << 24)) {
		fprintf(stderr, "skipped NO_SPACE: filesystem too large\n");
		return;
	}
	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "huge", 0, K64, 1);
	t.size = total * 2;
	t.cs = MAX_CHUNK;
	t.nb = 0; /* no digests: the MANIFEST needs none */
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_NO_SPACE);
	assert_int_equal(c->st.files_failed[SL_PROTO_STATUS_NO_SPACE], 1);
	assert_int_equal(staging_entries(c), 0);
	tfile_free(&t);
	check_balance(&c->st);
}

static int
fail_writes(void *arg, int kind, uint64_t offset, uint32_t len, int res)
{
	unsigned *n = arg;

	if (kind == 0 && offset == K64) {
		(*n)++;
		return -EIO;
	}
	return res;
}

static void
test_io_error(void **state)
{
	struct ctx *c = *state;
	unsigned nfail = 0;
	struct tfile t, t2;

	engine_start(c);
	sl_session_set_fault(c->e, fail_writes, &nfail);
	open_session(c);
	tfile_make(&t, 1, "ioerr", 3ull * K64, K64, 1);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	for (uint32_t i = 0; i < t.nb; i++)
		send_chunk(c, &t, i);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_IO_ERROR);
	assert_int_equal(nfail, 1);
	assert_true(c->st.io_errors >= 1);
	assert_false(final_exists(c, "ioerr"));
	/* Other files keep going. */
	tfile_make(&t2, 2, "fine", 1000, K64, 2);
	transfer(c, &t2);
	check_file(c, &t2);
	for (unsigned i = 0; i < 50; i++)
		poll_once(c);
	assert_int_equal(c->st.files_active, 0);
	assert_int_equal(c->st.buffers_free, 16);
	/* The failed file gave back all its credit: an ACK now grants every
	 * byte of both files plus the window. */
	send_data_raw(c, t2.id, 0, t2.data, 0, SL_PROTO_FLAG_ACK_NOW);
	for (unsigned i = 0; i < 20; i++)
		poll_once(c);
	drop_all(c, SL_PROTO_ACK);
	assert_true(c->credit_max >= 3ull * K64 + 1000 + WINDOW);
	tfile_free(&t);
	tfile_free(&t2);
	check_balance(&c->st);
}

static void
test_locked_elsewhere(void **state)
{
	struct ctx *c = *state;
	struct sl_session_engine *first;
	struct tfile t;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "shared", 2 * K64, K64, 1);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	/* A second engine (another writer) on the same directory. */
	first = c->e;
	c->e = NULL;
	engine_start(c);
	open_session(c);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_REFUSED);
	engine_stop(c);
	c->e = first;
	tfile_free(&t);
}

static void
test_max_files(void **state)
{
	struct ctx *c = *state;
	struct tfile t[3];

	c->p.max_files = 2;
	engine_start(c);
	open_session(c);
	for (unsigned i = 0; i < 3; i++)
		tfile_make(&t[i], i, i == 0 ? "m0" : i == 1 ? "m1" : "m2", K64 * 2, K64, i);
	assert_int_equal(send_manifest(c, &t[0], NULL), SL_PROTO_STATUS_READY);
	assert_int_equal(send_manifest(c, &t[1], NULL), SL_PROTO_STATUS_READY);
	assert_int_equal(send_manifest(c, &t[2], NULL), SL_PROTO_STATUS_REFUSED);
	assert_int_equal(c->st.bad_manifest, 1);
	for (unsigned i = 0; i < 3; i++)
		tfile_free(&t[i]);
	check_balance(&c->st);
}

static void
test_rate_limit(void **state)
{
	struct ctx *c = *state;
	struct sl_proto_msg m = { .type = SL_PROTO_HELLO };
	unsigned ok = 0;

	engine_start(c);
	m.hello.max_payload = 1472;
	/* The burst is 1000 replies; the clock does not move. */
	for (unsigned i = 0; i < 1100; i++) {
		memcpy(m.hello.client_nonce, &i, sizeof(i));
		ok += feed(c, &m) == 0;
	}
	assert_int_equal(ok, 1000);
	assert_int_equal(c->st.cookies_sent, 1000);
	assert_int_equal(c->st.handshake_refused, 100);
	/* 10 ms later, 200 more tokens (20000/s). */
	c->now += 10 * MS;
	ok = 0;
	for (unsigned i = 0; i < 300; i++)
		ok += feed(c, &m) == 0;
	assert_int_equal(ok, 200);
	rx_clear(c);
	check_balance(&c->st);
}

static void
test_peer_moves(void **state)
{
	struct ctx *c = *state;
	struct sl_proto_msg m, r;
	struct tfile t;
	unsigned i;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "moves", 100, K64, 1);
	/* Same address and port from another MAC, VLAN and DPDK port. */
	c->peer.mac.addr_bytes[5] = 9;
	c->peer.vlan = true;
	c->peer.vlan_tci = 7;
	c->peer.port_id = 2;
	manifest_msg(c, &t, 1, &m);
	assert_int_equal(feed(c, &m), 0);
	for (i = 0; i < c->nb_rx; i++)
		if (c->rx[i].to.mac.addr_bytes[5] == 9 && c->rx[i].to.vlan &&
		    c->rx[i].to.vlan_tci == 7 && c->rx[i].to.port_id == 2)
			break;
	assert_true(i < c->nb_rx);
	assert_true(take(c, SL_PROTO_FILE_STATUS, t.id, &r));
	/* An empty DATA is accepted and changes nothing. */
	assert_int_equal(send_data_raw(c, t.id, 100, t.data, 0, 0), 0);
	send_chunk(c, &t, 0);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_OK);
	/* Late duplicates of a published file are accepted. */
	assert_int_equal(send_data_raw(c, t.id, 0, t.data, 10, 0), 0);
	assert_int_equal(c->st.data_durable, 1);
	tfile_free(&t);
	check_balance(&c->st);
}

static void
test_buffered(void **state)
{
	struct ctx *c = *state;
	struct tfile t;

	c->p.direct = false;
	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "x/buffered", 3 * K64 + 77, K64, 1);
	transfer(c, &t);
	check_file(c, &t);
	tfile_free(&t);
	check_balance(&c->st);
}

static void
test_exists_at_commit(void **state)
{
	struct ctx *c = *state;
	char path[PATH_MAX];
	struct tfile t;
	FILE *fp;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "racer", 2 * K64, K64, 1);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	snprintf(path, sizeof(path), "%s/racer", c->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("first", fp);
	fclose(fp);
	send_chunk(c, &t, 0);
	send_chunk(c, &t, 1);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_EXISTS);
	/* The other file is untouched and nothing is left staged. */
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(path, sizeof(path), fp));
	fclose(fp);
	assert_string_equal(path, "first");
	assert_int_equal(staging_entries(c), 0);
	tfile_free(&t);
	check_balance(&c->st);
}

/* Chunks ahead hold every buffer; the chunk they all wait for still gets one
 * (the furthest partial chunk is given up), so the transfer cannot stall. */
static void
test_head_chunk_evicts(void **state)
{
	struct ctx *c = *state;
	struct tfile t;

	c->p.nb_bufs = 4;
	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "evict", 6 * K64, K64, 1);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	for (uint32_t i = 1; i <= 4; i++)
		send_data_raw(c, t.id, (uint64_t)i * K64, t.data + (uint64_t)i * K64, 1, 0);
	assert_int_equal(c->st.data_no_buffer, 0);
	/* A chunk ahead of them all finds no buffer and takes none. */
	assert_true(send_data_raw(c, t.id, 5 * K64, t.data + 5 * K64, 1, 0) < 0);
	assert_int_equal(c->st.data_no_buffer, 1);
	assert_int_equal(c->st.chunks_evicted, 0);
	/* Chunk 0, the one everything waits for, takes chunk 4's buffer. */
	send_chunk(c, &t, 0);
	assert_int_equal(c->st.data_no_buffer, 1);
	assert_int_equal(c->st.chunks_evicted, 1);
	assert_int_equal(c->st.chunks_verified, 1);
	for (uint32_t i = 1; i < 4; i++)
		send_chunk(c, &t, i);
	for (unsigned k = 0; k < WAIT_LOOPS && c->st.chunks_written < 4; k++) {
		poll_once(c);
		sl_session_idle_wait(c->e, 1000);
	}
	send_chunk(c, &t, 4);
	send_chunk(c, &t, 5);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_OK);
	check_file(c, &t);
	tfile_free(&t);
	check_balance(&c->st);
}

static void
test_no_buffer_and_fragmented(void **state)
{
	struct ctx *c = *state;
	struct tfile t;
	uint8_t byte = 0;

	c->p.nb_bufs = 4;
	engine_start(c);
	open_session(c);
	tfile_make(&t, 1, "frag", 6 * K64, K64, 1);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	/* One byte of each of 5 chunks: only 4 buffers. */
	for (uint32_t i = 0; i < 5; i++)
		send_data_raw(c, t.id, (uint64_t)i * K64, t.data + (uint64_t)i * K64, 1, 0);
	assert_int_equal(c->st.data_no_buffer, 1);
	/* Chunk 0: 64 separate intervals are kept, a 65th is refused. */
	for (uint32_t i = 1; i < 64; i++)
		assert_int_equal(send_data_raw(c, t.id, 2 * i, t.data + 2 * i, 1, 0), 0);
	assert_true(send_data_raw(c, t.id, 200, &byte, 1, 0) < 0);
	assert_int_equal(c->st.data_fragmented, 1);
	/* Filling the holes still works; chunks 4 and 5 wait for free buffers. */
	for (uint32_t i = 0; i < 4; i++)
		send_chunk(c, &t, i);
	for (unsigned i = 0; i < WAIT_LOOPS && c->st.chunks_written < 4; i++) {
		poll_once(c);
		sl_session_idle_wait(c->e, 1000);
	}
	send_chunk(c, &t, 4);
	send_chunk(c, &t, 5);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_OK);
	check_file(c, &t);
	tfile_free(&t);
	check_balance(&c->st);
}

static int
fail_fsync(void *arg, int kind, uint64_t offset, uint32_t len, int res)
{
	return kind == 1 ? -EIO : res;
}

static int
fail_enospc(void *arg, int kind, uint64_t offset, uint32_t len, int res)
{
	return kind == 0 ? -ENOSPC : res;
}

static int
fail_fsync_enospc(void *arg, int kind, uint64_t offset, uint32_t len, int res)
{
	return kind == 1 ? -ENOSPC : res;
}

static void
test_sync_error_and_enospc(void **state)
{
	struct ctx *c = *state;
	struct tfile t;

	engine_start(c);
	open_session(c);
	sl_session_set_fault(c->e, fail_fsync, NULL);
	tfile_make(&t, 1, "nosync", 2 * K64, K64, 1);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	send_chunk(c, &t, 0);
	send_chunk(c, &t, 1);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_IO_ERROR);
	tfile_free(&t);

	sl_session_set_fault(c->e, fail_enospc, NULL);
	tfile_make(&t, 2, "full", 2 * K64, K64, 2);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	send_chunk(c, &t, 0);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_NO_SPACE);
	assert_false(final_exists(c, "nosync"));
	assert_false(final_exists(c, "full"));
	assert_int_equal(c->st.io_errors, 2);
	tfile_free(&t);

	/* A disk that fills under an fdatasync (thin provisioning, NFS). */
	sl_session_set_fault(c->e, fail_fsync_enospc, NULL);
	tfile_make(&t, 3, "fullsync", 2 * K64, K64, 3);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	send_chunk(c, &t, 0);
	send_chunk(c, &t, 1);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_NO_SPACE);
	assert_false(final_exists(c, "fullsync"));
	assert_int_equal(c->st.files_failed[SL_PROTO_STATUS_NO_SPACE], 2);
	tfile_free(&t);
	check_balance(&c->st);
}

/* More files than one ACK holds: the next ACK carries the others. */
static void
test_ack_rotation(void **state)
{
	struct ctx *c = *state;
	enum {
		NB = 120
	};
	static bool seen[NB];
	struct sl_proto_ack_iter it;
	struct sl_proto_ack_entry a;
	struct sl_proto_msg m;
	unsigned first = 0, total = 0;

	c->p.max_files = NB;
	engine_start(c);
	open_session(c);
	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < NB; i++) {
		struct tfile t;
		char name[32];

		snprintf(name, sizeof(name), "many/%u", i);
		tfile_make(&t, i, name, 2 * K64, K64, i);
		assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
		/* Byte 1 only: byte 0 is missing. */
		send_data_raw(c, t.id, 1, t.data + 1, 1, i == NB - 1 ? SL_PROTO_FLAG_ACK_NOW : 0);
		tfile_free(&t);
	}
	/* 26 bytes per entry: 55 fit in 1472 bytes, so three ACKs cover all. */
	for (unsigned round = 0; round < 3; round++) {
		unsigned n = 0;

		if (round > 0)
			assert_int_equal(send_data_raw(c, 0, 0, NULL, 0, SL_PROTO_FLAG_ACK_NOW), 0);
		assert_true(wait_for(c, SL_PROTO_ACK, -1, &m));
		sl_proto_ack_iter_init(&it, &m.ack);
		while (sl_proto_ack_next(&it, &a)) {
			assert_true(a.file_id < NB);
			assert_int_equal(a.nmissing, 1);
			/* Before the last round, every entry is one not yet sent. */
			if (round < 2)
				assert_false(seen[a.file_id]);
			total += !seen[a.file_id];
			seen[a.file_id] = true;
			n++;
		}
		assert_true(n < NB);
		if (round == 0)
			first = n;
	}
	assert_int_equal(first, 55);
	assert_int_equal(total, NB);
	check_balance(&c->st);
}

/* Many holes: the ACK lists the lowest ones that fit in max_payload. */
static void
test_ack_cut_short(void **state)
{
	struct ctx *c = *state;
	struct sl_proto_cookie ck;
	struct sl_proto_ack_entry a;
	struct sl_proto_missing mr;
	struct sl_proto_msg m, r;
	struct tfile t;
	unsigned max = (1200 - 30 - 14) / 12;

	engine_start(c);
	hello(c, &c->peer, 5, &ck);
	connect_msg(&m, &ck, 1200, NULL);
	assert_int_equal(feed(c, &m), 0);
	assert_true(take(c, SL_PROTO_WELCOME, -1, &r));
	c->sid = r.session;
	c->max_payload = 1200;
	tfile_make(&t, 1, "holes", 4 * K64, K64, 1);
	manifest_msg(c, &t, 4, &m);
	assert_int_equal(feed(c, &m), 0);
	/* Every other 1 KiB piece of 4 chunks: 128 holes. */
	for (uint64_t off = 0; off < 4 * K64; off += 2 * PIECE)
		send_data_raw(c, t.id, off, t.data + off, PIECE, 0);
	send_data_raw(c, t.id, 4 * K64 - 1, t.data + 4 * K64 - 1, 1, SL_PROTO_FLAG_ACK_NOW);
	drop_all(c, SL_PROTO_ACK);
	assert_true(ack_entry(c, t.id, &a));
	assert_int_equal(a.nmissing, max);
	for (unsigned i = 0; i < max; i++) {
		mr = sl_proto_missing_get(&a, (uint16_t)i);
		assert_int_equal(mr.offset, (2 * i + 1) * (uint64_t)PIECE);
		assert_int_equal(mr.length, i == 127 ? PIECE - 1 : PIECE);
	}
	tfile_free(&t);
	check_balance(&c->st);
}

/* SLUICE_TEST_KILL_AT's syntax. */
static void
test_kill_parse(void **state)
{
	static const char *const bad[] = { "",         "sync",  "rename:",  "rename:0",
					   "rename:x", ":3",    "fsync:-1", "renamed:99999999999",
					   "fsync 2",  "Rename" };
	unsigned point = 99;
	uint32_t nth = 0;
	char err[160];

	(void)state;
	assert_int_equal(sl_session_kill_parse("fsync", &point, &nth, err, sizeof(err)), 0);
	assert_int_equal(point, SL_SESSION_KILL_FSYNC);
	assert_int_equal(nth, 1);
	assert_int_equal(sl_session_kill_parse("sidecar:3", &point, &nth, err, sizeof(err)), 0);
	assert_int_equal(point, SL_SESSION_KILL_SIDECAR);
	assert_int_equal(nth, 3);
	assert_int_equal(sl_session_kill_parse("rename", &point, &nth, err, sizeof(err)), 0);
	assert_int_equal(point, SL_SESSION_KILL_RENAME);
	assert_int_equal(
		sl_session_kill_parse("renamed:4294967295", &point, &nth, err, sizeof(err)), 0);
	assert_int_equal(point, SL_SESSION_KILL_RENAMED);
	assert_int_equal(nth, UINT32_MAX);
	assert_string_equal(sl_session_kill_point_name(SL_SESSION_KILL_RENAMED), "renamed");
	assert_int_equal(sl_session_kill_parse("published:2", &point, &nth, err, sizeof(err)), 0);
	assert_int_equal(point, SL_SESSION_KILL_PUBLISHED);
	assert_int_equal(nth, 2);
	assert_string_equal(sl_session_kill_point_name(SL_SESSION_KILL_PUBLISHED), "published");
	assert_string_equal(sl_session_kill_point_name(77), "unknown");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(sl_session_kill_parse(bad[i], &point, &nth, err, sizeof(err)),
				 -EINVAL);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(sl_session_kill_parse(NULL, &point, &nth, err, sizeof(err)), -EINVAL);
}

static void
wait_idle(struct ctx *c)
{
	for (unsigned i = 0; i < WAIT_LOOPS && sl_session_busy(c->e); i++) {
		poll_once(c);
		sl_session_idle_wait(c->e, 1000);
	}
	assert_false(sl_session_busy(c->e));
}

/* Bytes the first staged data file of the fixture occupies on disk (-1: none). */
static int64_t
staged_data_bytes(struct ctx *c)
{
	char cmd[PATH_MAX + 128];
	long long n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "cd '%s/.sluice/staging' && for f in *.data; do [ -f \"$f\" ] && "
		 "stat -c %%b \"$f\"; done | head -1",
		 c->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fscanf(p, "%lld", &n) != 1)
		n = -1;
	pclose(p);
	return n < 0 ? -1 : (int64_t)n * 512;
}

/* A transfer abandoned before any chunk was durable leaves nothing staged:
 * no sidecar, so nothing a resume could use. */
static void
test_abandoned_nothing_durable(void **state)
{
	struct ctx *c = *state;
	struct tfile t;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 3, "abandoned", 16ull * K64, K64, 3);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	/* The full size is preallocated while the session lives. */
	assert_true(staged_data_bytes(c) >= (int64_t)(16 * K64));
	send_range(c, &t, 0, K64 / 2);
	bye(c);
	wait_idle(c);
	assert_int_equal(staging_entries(c), 0);
	assert_int_equal(c->st.staged_removed, 1);
	/* The same transfer later starts from nothing and completes. */
	open_session(c);
	transfer(c, &t);
	check_file(c, &t);
	tfile_free(&t);
	check_balance(&c->st);
}

/* An abandoned transfer with durable chunks keeps them (and its sidecar) for
 * a resume, and gives back the rest of its preallocation. */
static void
test_abandoned_keeps_durable(void **state)
{
	struct ctx *c = *state;
	struct sl_proto_msg r = { 0 };
	struct sl_proto_range rg;
	struct tfile t;
	int64_t held;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 4, "kept", 16ull * K64, K64, 4);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	send_chunk(c, &t, 0);
	send_chunk(c, &t, 1);
	bye(c);
	wait_idle(c);
	assert_int_equal(c->st.chunks_durable, 2);
	assert_int_equal(staging_entries(c), 2);
	assert_int_equal(c->st.staged_trimmed, 1);
	held = staged_data_bytes(c);
	print_message("staged data holds %lld bytes of %llu\n", (long long)held,
		      (unsigned long long)t.size);
	assert_true(held >= (int64_t)(2 * K64));
	assert_true(held <= (int64_t)(2 * K64 + 64 * 1024)); /* a filesystem's extent slack */
	open_session(c);
	assert_int_equal(send_manifest(c, &t, &r), SL_PROTO_STATUS_READY);
	assert_int_equal(r.file_status.count, 1);
	rg = sl_proto_range_get(&r.file_status, 0);
	assert_int_equal(rg.first, 0);
	assert_int_equal(rg.count, 2);
	for (uint32_t i = 2; i < t.nb; i++)
		send_chunk(c, &t, i);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_OK);
	check_file(c, &t);
	bye(c);
	assert_int_equal(staging_entries(c), 0);
	tfile_free(&t);
	check_balance(&c->st);
}

static void
touch_staged(struct ctx *c, const char *name, const char *when)
{
	char cmd[PATH_MAX + 256];

	snprintf(cmd, sizeof(cmd), "cd '%s/.sluice/staging' && echo x > '%s' && touch -d '%s' '%s'",
		 c->dir, name, when, name);
	assert_int_equal(system(cmd), 0);
}

static bool
staged_exists(struct ctx *c, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/.sluice/staging/%s", c->dir, name);
	return access(path, F_OK) == 0;
}

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEX_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define HEX_D "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define HEX_E "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

/* At start, writer 0 clears what a crash left that no resume can use, and
 * whatever has not been touched for staging_ttl_s; a file in use (locked)
 * and names that are not ours stay. */
static void
test_staging_sweep(void **state)
{
	struct ctx *c = *state;
	char path[PATH_MAX];
	int lockfd;

	engine_start(c); /* makes the staging area */
	engine_stop(c);
	touch_staged(c, HEX_A ".data", "now");      /* no sidecar: crash leftover */
	touch_staged(c, HEX_B ".state.tmp", "now"); /* interrupted sidecar update */
	touch_staged(c, HEX_C ".data", "now");      /* resumable: kept */
	touch_staged(c, HEX_C ".state", "now");
	touch_staged(c, HEX_D ".data", "3 days ago"); /* expired */
	touch_staged(c, HEX_D ".state", "3 days ago");
	touch_staged(c, HEX_E ".state", "3 days ago"); /* lone sidecar, expired */
	touch_staged(c, "notes.txt", "3 days ago");    /* not ours */
	touch_staged(c, HEX_A "0.data", "3 days ago"); /* not ours either */
	c->p.staging_ttl_s = 24 * 3600;
	/* A file in use elsewhere is never touched. */
	snprintf(path, sizeof(path), "%s/.sluice/staging/" HEX_B ".data", c->dir);
	lockfd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(lockfd >= 0);
	assert_int_equal(flock(lockfd, LOCK_EX), 0);
	engine_start(c);
	assert_false(staged_exists(c, HEX_A ".data"));
	assert_false(staged_exists(c, HEX_B ".state.tmp"));
	assert_true(staged_exists(c, HEX_B ".data"));
	assert_true(staged_exists(c, HEX_C ".data"));
	assert_true(staged_exists(c, HEX_C ".state"));
	assert_false(staged_exists(c, HEX_D ".data"));
	assert_false(staged_exists(c, HEX_D ".state"));
	assert_false(staged_exists(c, HEX_E ".state"));
	assert_true(staged_exists(c, "notes.txt"));
	assert_true(staged_exists(c, HEX_A "0.data"));
	assert_int_equal(c->st.staged_removed, 3);
	close(lockfd);
	/* While running, only what expires goes (a minute's sweep). */
	touch_staged(c, HEX_C ".data", "2 days ago");
	touch_staged(c, HEX_C ".state", "2 days ago");
	for (unsigned i = 0; i < 3; i++) {
		c->now += 61 * SEC;
		sl_session_poll(c->e, c->now);
	}
	assert_false(staged_exists(c, HEX_C ".data"));
	assert_true(staged_exists(c, HEX_B ".data")); /* no sidecar, but only start removes it */
	/* Without a TTL nothing expires. */
	engine_stop(c);
	touch_staged(c, HEX_D ".data", "3 days ago");
	touch_staged(c, HEX_D ".state", "3 days ago");
	c->p.staging_ttl_s = 0;
	engine_start(c);
	assert_true(staged_exists(c, HEX_D ".data"));
}

/* Copy the only sidecar of the staging area to @p to (or back with @p back). */
static void
sidecar_copy(struct ctx *c, const char *to, bool back)
{
	char cmd[PATH_MAX * 2 + 128];

	if (!back)
		snprintf(cmd, sizeof(cmd), "cp %s/.sluice/staging/*.state '%s'", c->dir, to);
	else
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s/.sluice/staging/%s'", to, c->dir,
			 strrchr(to, '/') + 1);
	assert_int_equal(system(cmd), 0);
}

/* A crash after a publish's rename and before its sidecar went leaves the
 * final name and a lone sidecar: the MANIFEST sent again gets OK (not
 * EXISTS) when the final name holds that very file, and EXISTS otherwise.
 * With --overwrite, such a stale sidecar never vouches for a new data file. */
static void
test_interrupted_publish(void **state)
{
	struct ctx *c = *state;
	char saved[PATH_MAX + 256], name[256], cmd[PATH_MAX + 64];
	struct sl_proto_msg r = { 0 };
	struct tfile t;
	FILE *p;

	engine_start(c);
	open_session(c);
	tfile_make(&t, 6, "sub/published", 8ull * K64, K64, 6);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	for (uint32_t i = 0; i < 4; i++)
		send_chunk(c, &t, i);
	for (unsigned i = 0; i < WAIT_LOOPS && c->st.sidecar_writes == 0; i++) {
		poll_once(c);
		sl_session_idle_wait(c->e, 1000);
	}
	assert_true(c->st.sidecar_writes > 0);
	/* The sidecar as it stood: a stand-in for one a crash left behind. */
	snprintf(cmd, sizeof(cmd), "ls %s/.sluice/staging/ | grep 'state$'", c->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(name, sizeof(name), p));
	pclose(p);
	name[strcspn(name, "\n")] = '\0';
	snprintf(saved, sizeof(saved), "%s/%s", c->dir, name);
	sidecar_copy(c, saved, false);
	for (uint32_t i = 4; i < t.nb; i++)
		send_chunk(c, &t, i);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_OK);
	bye(c);
	assert_int_equal(staging_entries(c), 0);

	sidecar_copy(c, saved, true);
	open_session(c);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_OK);
	assert_int_equal(c->st.files_recovered, 1);
	/* The sidecar is this session's receipt now, until its BYE. */
	assert_int_equal(staging_entries(c), 1);
	bye(c);
	assert_int_equal(staging_entries(c), 0);
	check_file(c, &t);

	/* The final name now holds something else: EXISTS, the sidecar gone. */
	snprintf(cmd, sizeof(cmd), "printf X | dd of=%s/sub/published conv=notrunc 2>/dev/null",
		 c->dir);
	assert_int_equal(system(cmd), 0);
	sidecar_copy(c, saved, true);
	open_session(c);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_EXISTS);
	assert_int_equal(c->st.files_recovered, 1);
	assert_int_equal(staging_entries(c), 0);
	engine_stop(c);

	/* With --overwrite the file is sent again whole, not taken from the
	 * stale sidecar (whose chunks are not in the new data file). */
	c->p.overwrite = true;
	sidecar_copy(c, saved, true);
	engine_start(c);
	open_session(c);
	assert_int_equal(send_manifest(c, &t, &r), SL_PROTO_STATUS_READY);
	assert_int_equal(r.file_status.count, 0);
	for (uint32_t i = 0; i < t.nb; i++)
		send_chunk(c, &t, i);
	assert_int_equal(wait_status(c, t.id), SL_PROTO_STATUS_OK);
	check_file(c, &t);
	unlink(saved);
	tfile_free(&t);
	check_balance(&c->st);
}

/*
 * A published file's sidecar stays as its receipt until the sender's BYE. Should
 * sluice go before it (destroyed here, as a crash leaves it), the sender's resend
 * is answered OK from the file already there, without a byte of data; after the
 * BYE the same MANIFEST is EXISTS. A receipt whose identity has a new staged
 * transfer (the published file was deleted and is being sent again) is that
 * transfer's sidecar now: the first session's BYE leaves it.
 */
static void
test_receipts(void **state)
{
	struct ctx *c = *state;
	struct tfile a, b;
	char path[PATH_MAX + 32];
	uint64_t first, sidecars;

	engine_start(c);
	open_session(c);
	tfile_make(&a, 1, "r/a.bin", 3 * K64 + 5, K64, 1);
	transfer(c, &a);
	assert_int_equal(staging_entries(c), 1);
	engine_stop(c);

	memset(&c->st, 0, sizeof(c->st));
	engine_start(c);
	open_session(c);
	assert_int_equal(send_manifest(c, &a, NULL), SL_PROTO_STATUS_OK);
	assert_int_equal(c->st.files_recovered, 1);
	assert_int_equal(c->st.files_ok, 1);
	assert_int_equal(c->st.data_bytes, 0);
	check_file(c, &a);
	assert_int_equal(staging_entries(c), 1);
	bye(c);
	assert_int_equal(c->st.receipts_released, 1);
	assert_int_equal(staging_entries(c), 0);
	open_session(c);
	assert_int_equal(send_manifest(c, &a, NULL), SL_PROTO_STATUS_EXISTS);
	assert_int_equal(c->st.files_recovered, 1);

	/* b published in a first session, deleted, sent again in a second one. */
	open_session(c);
	first = c->sid;
	tfile_make(&b, 2, "r/b.bin", 8 * K64, K64, 2);
	transfer(c, &b);
	snprintf(path, sizeof(path), "%s/r/b.bin", c->dir);
	assert_int_equal(unlink(path), 0);
	open_session(c);
	assert_int_equal(send_manifest(c, &b, NULL), SL_PROTO_STATUS_READY);
	sidecars = c->st.sidecar_writes;
	for (uint32_t i = 0; i < 4; i++)
		send_chunk(c, &b, i);
	for (unsigned i = 0; i < WAIT_LOOPS && c->st.sidecar_writes == sidecars; i++) {
		poll_once(c);
		sl_session_idle_wait(c->e, 1000);
	}
	assert_true(c->st.sidecar_writes > sidecars);
	assert_int_equal(staging_entries(c), 2); /* data and sidecar */
	{
		uint64_t second = c->sid;

		c->sid = first;
		bye(c);
		c->sid = second;
	}
	assert_int_equal(staging_entries(c), 2);
	for (uint32_t i = 4; i < b.nb; i++)
		send_chunk(c, &b, i);
	assert_int_equal(wait_status(c, b.id), SL_PROTO_STATUS_OK);
	check_file(c, &b);
	assert_int_equal(staging_entries(c), 1);
	bye(c);
	assert_int_equal(staging_entries(c), 0);
	tfile_free(&a);
	tfile_free(&b);
	check_balance(&c->st);
}

/* The seam of the finish tests: every completion seen late, or writes never done. */
struct slow_disk {
	unsigned delay_us;
	bool stall; /* every write completion a retry (-EAGAIN) */
	unsigned seen;
};

static int
slow_disk(void *arg, int kind, uint64_t offset, uint32_t len, int res)
{
	struct slow_disk *f = arg;

	if (res < 0)
		return res;
	if (f->stall && kind == 0)
		return -EAGAIN;
	f->seen++;
	if (f->delay_us != 0)
		usleep(f->delay_us);
	return res;
}

/*
 * At stop, a disk slower than the finish timeout in all but never silent that long
 * is waited for: every verified chunk becomes durable. One that answers nothing is
 * given up on after the timeout (-ETIMEDOUT); once it answers, a second finish
 * completes the work.
 */
static void
test_finish_slow_disk(void **state)
{
	struct ctx *c = *state;
	struct slow_disk flt = { .delay_us = 40000 };
	struct log_capture lc;
	struct tfile t;
	uint64_t t0, took;
	unsigned seen, notes;
	char *log;

	engine_start(c);
	sl_session_set_fault(c->e, slow_disk, &flt);
	open_session(c);
	tfile_make(&t, 1, "slow", 8ull * K64, K64, 1);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	for (uint32_t i = 0; i < 6; i++)
		send_chunk(c, &t, i);
	seen = flt.seen;
	t0 = sl_monotonic_ns();
	assert_int_equal(sl_session_finish(c->e, c->now, 150), 0);
	took = sl_monotonic_ns() - t0;
	print_message("finish: %u completions in %llu ms\n", flt.seen - seen,
		      (unsigned long long)(took / 1000000));
	assert_true(took > 150 * 1000000ull);
	assert_int_equal(c->st.chunks_durable, 6);
	engine_stop(c);

	/* Writes that never complete. */
	memset(&c->st, 0, sizeof(c->st));
	rx_clear(c);
	engine_start(c);
	flt = (struct slow_disk){ .stall = true };
	sl_session_set_fault(c->e, slow_disk, &flt);
	open_session(c);
	assert_int_equal(send_manifest(c, &t, NULL), SL_PROTO_STATUS_READY);
	send_chunk(c, &t, 6);
	send_chunk(c, &t, 7);
	assert_true(log_capture_start(&lc));
	t0 = sl_monotonic_ns();
	assert_int_equal(sl_session_finish(c->e, c->now, 200), -ETIMEDOUT);
	took = sl_monotonic_ns() - t0;
	log = log_capture_stop(&lc);
	assert_true(took >= 200 * 1000000ull);
	assert_true(took < 5000 * 1000000ull);
	/* It said what it waited for, every tenth of the timeout, then gave up. */
	notes = occurrences(log, "stopping: waiting for");
	assert_true(notes >= 3 && notes <= took / 20000000ull);
	assert_non_null(strstr(log, "no I/O completed"));
	free(log);
	flt.stall = false;
	assert_int_equal(sl_session_finish(c->e, c->now, 5000), 0);
	assert_int_equal(c->st.chunks_durable, 2);
	tfile_free(&t);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route),
		T(test_create_bad_params),
		T(test_handshake),
		T(test_allow_list),
		T(test_psk),
		T(test_drops),
		T(test_timeout),
		T(test_small_files),
		T(test_empty_digest_mismatch),
		T(test_out_of_order),
		T(test_bad_chunk_crc),
		T(test_digest_mismatch),
		T(test_exists_overwrite),
		T(test_bad_path),
		T(test_bad_manifest),
		T(test_resume),
		T(test_sidecar_failure),
		T(test_finals_bounded),
		T(test_missing_scan_bounded),
		T(test_head_chunk_evicts),
		T(test_bye_keeps_staging),
		T(test_credit),
		T(test_no_space),
		T(test_io_error),
		T(test_locked_elsewhere),
		T(test_max_files),
		T(test_rate_limit),
		T(test_peer_moves),
		T(test_buffered),
		T(test_exists_at_commit),
		T(test_no_buffer_and_fragmented),
		T(test_sync_error_and_enospc),
		T(test_ack_rotation),
		T(test_ack_cut_short),
		cmocka_unit_test(test_kill_parse),
		T(test_abandoned_nothing_durable),
		T(test_abandoned_keeps_durable),
		T(test_staging_sweep),
		T(test_interrupted_publish),
		T(test_receipts),
		T(test_finish_slow_disk),
	};

	if (!uring_available())
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
