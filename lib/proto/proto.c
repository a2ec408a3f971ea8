/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>

#include "sl_proto.h"

/* Offsets in the common header. */
#define OFF_MAGIC 0
#define OFF_VERSION 2
#define OFF_TYPE 3
#define OFF_FLAGS 4
#define OFF_LENGTH 6
#define OFF_SESSION 8
#define OFF_CRC 16

/* Fixed body sizes (bytes after the header). */
#define HELLO_BODY 12
#define COOKIE_BODY 32
#define CONNECT_FIXED 35 /* nonce, issued, cookie, max_payload, psk_id_len */
#define WELCOME_BODY 24
#define WELCOME_AUTH_BODY (WELCOME_BODY + SL_PROTO_AUTH_SIZE)
#define MANIFEST_FIXED 68 /* 62 before the path, 6 after it */
#define DIGESTS_FIXED 10
#define FILE_STATUS_FIXED 12
#define DATA_FIXED 12
#define ACK_FIXED 10
#define ACK_ENTRY_FIXED 14
#define REJECT_BODY 9
#define RANGE_SIZE 8
#define MISSING_SIZE 12

static inline uint32_t
crc_update(uint32_t state, const uint8_t *p, size_t n)
{
	/* rte_hash_crc() loads 8 bytes at a time through a uint64_t pointer, which
	 * is undefined on an unaligned address (datagrams sit at any offset in
	 * an mbuf): take single bytes up to the first aligned one. */
	while (n > 0 && ((uintptr_t)p & 7) != 0) {
		state = rte_hash_crc_1byte(*p++, state);
		n--;
	}
	/* rte_hash_crc() takes a 32-bit length and applies no final XOR, so it chains. */
	while (n > UINT32_MAX) {
		state = rte_hash_crc(p, UINT32_MAX, state);
		p += UINT32_MAX;
		n -= UINT32_MAX;
	}
	return rte_hash_crc(p, (uint32_t)n, state);
}

uint32_t
sl_proto_crc32c(const void *p, size_t n)
{
	return ~crc_update(0xffffffff, p, n);
}

/* CRC of a whole message as if its crc field were zero, without writing to it. */
static uint32_t
message_crc(const uint8_t *buf, size_t len)
{
	static const uint8_t zero[4];
	uint32_t state = 0xffffffff;

	state = crc_update(state, buf, OFF_CRC);
	state = crc_update(state, zero, sizeof(zero));
	state = crc_update(state, buf + OFF_CRC + 4, len - OFF_CRC - 4);
	return ~state;
}

struct writer {
	uint8_t *buf;
	size_t pos;
	size_t cap;
	bool overflow;
};

static uint8_t *
w_take(struct writer *w, size_t n)
{
	uint8_t *p;

	if (w->overflow || n > w->cap - w->pos) {
		w->overflow = true;
		return NULL;
	}
	p = w->buf + w->pos;
	w->pos += n;
	return p;
}

static void
w_bytes(struct writer *w, const void *src, size_t n)
{
	uint8_t *p = w_take(w, n);

	if (p != NULL && n > 0)
		memcpy(p, src, n);
}

static void
w_u8(struct writer *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

static void
w_u16(struct writer *w, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v };

	w_bytes(w, b, sizeof(b));
}

static void
w_u32(struct writer *w, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	w_bytes(w, b, sizeof(b));
}

static void
w_u64(struct writer *w, uint64_t v)
{
	w_u32(w, v >> 32);
	w_u32(w, (uint32_t)v);
}

static void
w_pad_to(struct writer *w, size_t total)
{
	size_t n;
	uint8_t *p;

	if (w->pos >= total)
		return;
	n = total - w->pos;
	p = w_take(w, n);
	if (p != NULL)
		memset(p, 0, n);
}

static bool
max_payload_valid(uint16_t v)
{
	return v >= SL_PROTO_MAX_PAYLOAD_MIN && v <= SL_PROTO_MAX_PAYLOAD_MAX;
}

static bool
handshake_type(uint8_t type)
{
	return type == SL_PROTO_HELLO || type == SL_PROTO_COOKIE || type == SL_PROTO_CONNECT;
}

/*
 * The document says session is 0 in HELLO, COOKIE and CONNECT and the session id
 * after. REJECT answers both a handshake (no session yet) and an unknown session,
 * so it may carry either; it is the one type exempt from the rule.
 */
static bool
session_valid(uint8_t type, uint64_t session)
{
	if (type == SL_PROTO_REJECT)
		return true;
	return handshake_type(type) ? session == 0 : session != 0;
}

static int
check_content(const struct sl_proto_msg *m)
{
	uint16_t i;

	if (m->type < SL_PROTO_HELLO || m->type > SL_PROTO_REJECT)
		return -EINVAL;
	if (!session_valid(m->type, m->session))
		return -EINVAL;
	switch (m->type) {
	case SL_PROTO_HELLO:
		return max_payload_valid(m->hello.max_payload) ? 0 : -EINVAL;
	case SL_PROTO_CONNECT:
		if (!max_payload_valid(m->connect.max_payload))
			return -EINVAL;
		if (m->connect.psk_id_len > SL_PROTO_PSK_ID_MAX)
			return -EINVAL;
		if (m->connect.psk_id_len > 0 && m->connect.psk_id == NULL)
			return -EINVAL;
		return 0;
	case SL_PROTO_WELCOME:
		return max_payload_valid(m->welcome.max_payload) ? 0 : -EINVAL;
	case SL_PROTO_MANIFEST:
		if (m->manifest.path_len > SL_PROTO_PATH_MAX)
			return -EINVAL;
		if (m->manifest.path_len > 0 && m->manifest.path == NULL)
			return -EINVAL;
		if (m->manifest.count > 0 && m->manifest.digests == NULL)
			return -EINVAL;
		return 0;
	case SL_PROTO_DIGESTS:
		return m->digests.count > 0 && m->digests.digests == NULL ? -EINVAL : 0;
	case SL_PROTO_FILE_STATUS:
		return m->file_status.count > 0 && m->file_status.ranges == NULL ? -EINVAL : 0;
	case SL_PROTO_DATA:
		return m->data.len > 0 && m->data.payload == NULL ? -EINVAL : 0;
	case SL_PROTO_ACK:
		if (m->ack.count > 0 && m->ack.entries == NULL)
			return -EINVAL;
		for (i = 0; i < m->ack.count; i++)
			if (m->ack.entries[i].nmissing > 0 && m->ack.entries[i].missing == NULL)
				return -EINVAL;
		return 0;
	default:
		return 0;
	}
}

static void
encode_body(const struct sl_proto_msg *m, struct writer *w)
{
	uint16_t i, j;

	switch (m->type) {
	case SL_PROTO_HELLO:
		w_bytes(w, m->hello.client_nonce, SL_PROTO_NONCE_SIZE);
		w_u16(w, m->hello.max_payload);
		w_u16(w, m->hello.hello_flags);
		w_pad_to(w, SL_PROTO_PADDED_MIN);
		break;
	case SL_PROTO_COOKIE:
		w_bytes(w, m->cookie.client_nonce, SL_PROTO_NONCE_SIZE);
		w_u64(w, m->cookie.issued);
		w_bytes(w, m->cookie.cookie, SL_PROTO_COOKIE_SIZE);
		break;
	case SL_PROTO_CONNECT:
		w_bytes(w, m->connect.client_nonce, SL_PROTO_NONCE_SIZE);
		w_u64(w, m->connect.issued);
		w_bytes(w, m->connect.cookie, SL_PROTO_COOKIE_SIZE);
		w_u16(w, m->connect.max_payload);
		w_u8(w, m->connect.psk_id_len);
		if (m->connect.psk_id_len > 0) {
			w_bytes(w, m->connect.psk_id, m->connect.psk_id_len);
			w_bytes(w, m->connect.auth, SL_PROTO_AUTH_SIZE);
		}
		w_pad_to(w, SL_PROTO_PADDED_MIN);
		break;
	case SL_PROTO_WELCOME:
		w_bytes(w, m->welcome.client_nonce, SL_PROTO_NONCE_SIZE);
		w_u16(w, m->welcome.max_payload);
		w_u32(w, m->welcome.max_chunk);
		w_u64(w, m->welcome.credit);
		w_u16(w, m->welcome.max_files);
		if (m->welcome.has_auth)
			w_bytes(w, m->welcome.auth, SL_PROTO_AUTH_SIZE);
		break;
	case SL_PROTO_MANIFEST:
		w_u32(w, m->manifest.file_id);
		w_u64(w, m->manifest.size);
		w_u32(w, m->manifest.mode);
		w_u64(w, (uint64_t)m->manifest.mtime_ns);
		w_u32(w, m->manifest.chunk_size);
		w_bytes(w, m->manifest.file_sha256, SL_PROTO_SHA256_SIZE);
		w_u16(w, m->manifest.path_len);
		w_bytes(w, m->manifest.path, m->manifest.path_len);
		w_u32(w, m->manifest.first);
		w_u16(w, m->manifest.count);
		for (i = 0; i < m->manifest.count && !w->overflow; i++)
			w_u32(w, m->manifest.digests[i]);
		break;
	case SL_PROTO_DIGESTS:
		w_u32(w, m->digests.file_id);
		w_u32(w, m->digests.first);
		w_u16(w, m->digests.count);
		for (i = 0; i < m->digests.count && !w->overflow; i++)
			w_u32(w, m->digests.digests[i]);
		break;
	case SL_PROTO_FILE_STATUS:
		w_u32(w, m->file_status.file_id);
		w_u8(w, m->file_status.status);
		w_u8(w, 0);
		w_u32(w, m->file_status.digests_needed);
		w_u16(w, m->file_status.count);
		for (i = 0; i < m->file_status.count && !w->overflow; i++) {
			w_u32(w, m->file_status.ranges[i].first);
			w_u32(w, m->file_status.ranges[i].count);
		}
		break;
	case SL_PROTO_DATA:
		w_u32(w, m->data.file_id);
		w_u64(w, m->data.offset);
		w_bytes(w, m->data.payload, m->data.len);
		break;
	case SL_PROTO_ACK:
		w_u64(w, m->ack.credit_limit);
		w_u16(w, m->ack.count);
		for (i = 0; i < m->ack.count && !w->overflow; i++) {
			const struct sl_proto_ack_entry *e = &m->ack.entries[i];

			w_u32(w, e->file_id);
			w_u32(w, e->received_upto);
			w_u32(w, e->durable_upto);
			w_u16(w, e->nmissing);
			for (j = 0; j < e->nmissing && !w->overflow; j++) {
				w_u64(w, e->missing[j].offset);
				w_u32(w, e->missing[j].length);
			}
		}
		break;
	case SL_PROTO_REJECT:
		w_u8(w, m->reject.reason);
		w_bytes(w, m->reject.client_nonce, SL_PROTO_NONCE_SIZE);
		break;
	default: /* BYE has no body. */
		break;
	}
}

int
sl_proto_encode(const struct sl_proto_msg *m, uint8_t *buf, size_t cap)
{
	struct writer w = { .buf = buf, .pos = 0, .cap = cap, .overflow = false };
	uint32_t crc;
	int ret;

	ret = check_content(m);
	if (ret < 0)
		return ret;
	/* No message may exceed max_payload, whose ceiling is 9000; the length field is 16 bits. */
	if (w.cap > SL_PROTO_MAX_PAYLOAD_MAX)
		w.cap = SL_PROTO_MAX_PAYLOAD_MAX;

	w_u16(&w, SL_PROTO_MAGIC);
	w_u8(&w, SL_PROTO_VERSION);
	w_u8(&w, m->type);
	w_u16(&w, m->flags);
	w_u16(&w, 0); /* length, filled in below */
	w_u64(&w, m->session);
	w_u32(&w, 0); /* crc, computed last */
	encode_body(m, &w);
	if (w.overflow)
		return -EMSGSIZE;

	buf[OFF_LENGTH] = (uint8_t)(w.pos >> 8);
	buf[OFF_LENGTH + 1] = (uint8_t)w.pos;
	crc = sl_proto_crc32c(buf, w.pos);
	buf[OFF_CRC] = (uint8_t)(crc >> 24);
	buf[OFF_CRC + 1] = (uint8_t)(crc >> 16);
	buf[OFF_CRC + 2] = (uint8_t)(crc >> 8);
	buf[OFF_CRC + 3] = (uint8_t)crc;
	return (int)w.pos;
}

/* A bounded cursor over untrusted bytes: every read is checked against end. */
struct reader {
	const uint8_t *pos;
	const uint8_t *end;
	bool short_read;
};

static const uint8_t *
r_take(struct reader *r, size_t n)
{
	const uint8_t *p = r->pos;

	if (r->short_read || n > (size_t)(r->end - r->pos)) {
		r->short_read = true;
		return NULL;
	}
	r->pos += n;
	return p;
}

static void
r_bytes(struct reader *r, void *dst, size_t n)
{
	const uint8_t *p = r_take(r, n);

	if (p != NULL)
		memcpy(dst, p, n);
}

static uint8_t
r_u8(struct reader *r)
{
	const uint8_t *p = r_take(r, 1);

	return p != NULL ? p[0] : 0;
}

static uint16_t
r_u16(struct reader *r)
{
	const uint8_t *p = r_take(r, 2);

	return p != NULL ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint32_t
r_u32(struct reader *r)
{
	const uint8_t *p = r_take(r, 4);

	return p != NULL ? sl_proto_u32_get(p, 0) : 0;
}

static uint64_t
r_u64(struct reader *r)
{
	uint64_t hi = r_u32(r);

	return hi << 32 | r_u32(r);
}

static size_t
r_left(const struct reader *r)
{
	return (size_t)(r->end - r->pos);
}

/* The rest of a HELLO or CONNECT must be zero: padding only, no hidden fields. */
static int
r_zero_padding(struct reader *r)
{
	const uint8_t *p;

	for (p = r->pos; p < r->end; p++)
		if (*p != 0)
			return SL_PROTO_E_PADDING;
	r->pos = r->end;
	return 0;
}

static int
decode_body(struct reader *r, size_t len, struct sl_proto_msg *m)
{
	uint16_t i;

	switch (m->type) {
	case SL_PROTO_HELLO: {
		struct sl_proto_hello *h = &m->hello;

		if (len < SL_PROTO_PADDED_MIN)
			return SL_PROTO_E_PADDING;
		r_bytes(r, h->client_nonce, SL_PROTO_NONCE_SIZE);
		h->max_payload = r_u16(r);
		h->hello_flags = r_u16(r);
		if (r->short_read || !max_payload_valid(h->max_payload))
			return SL_PROTO_E_BODY;
		return r_zero_padding(r);
	}
	case SL_PROTO_COOKIE:
		r_bytes(r, m->cookie.client_nonce, SL_PROTO_NONCE_SIZE);
		m->cookie.issued = r_u64(r);
		r_bytes(r, m->cookie.cookie, SL_PROTO_COOKIE_SIZE);
		break;
	case SL_PROTO_CONNECT: {
		struct sl_proto_connect *c = &m->connect;

		if (len < SL_PROTO_PADDED_MIN)
			return SL_PROTO_E_PADDING;
		r_bytes(r, c->client_nonce, SL_PROTO_NONCE_SIZE);
		c->issued = r_u64(r);
		r_bytes(r, c->cookie, SL_PROTO_COOKIE_SIZE);
		c->max_payload = r_u16(r);
		c->psk_id_len = r_u8(r);
		c->psk_id = NULL;
		memset(c->auth, 0, sizeof(c->auth));
		if (c->psk_id_len > SL_PROTO_PSK_ID_MAX || !max_payload_valid(c->max_payload))
			return SL_PROTO_E_BODY;
		/* The auth field is present exactly when a key is named (psk_id_len > 0). */
		if (c->psk_id_len > 0) {
			c->psk_id = (const char *)r_take(r, c->psk_id_len);
			r_bytes(r, c->auth, SL_PROTO_AUTH_SIZE);
		}
		if (r->short_read)
			return SL_PROTO_E_BODY;
		return r_zero_padding(r);
	}
	case SL_PROTO_WELCOME: {
		struct sl_proto_welcome *wl = &m->welcome;
		size_t body = r_left(r);

		/* Nothing in WELCOME says whether auth follows; its length does. */
		if (body != WELCOME_BODY && body != WELCOME_AUTH_BODY)
			return SL_PROTO_E_BODY;
		r_bytes(r, wl->client_nonce, SL_PROTO_NONCE_SIZE);
		wl->max_payload = r_u16(r);
		wl->max_chunk = r_u32(r);
		wl->credit = r_u64(r);
		wl->max_files = r_u16(r);
		wl->has_auth = body == WELCOME_AUTH_BODY;
		memset(wl->auth, 0, sizeof(wl->auth));
		if (wl->has_auth)
			r_bytes(r, wl->auth, SL_PROTO_AUTH_SIZE);
		if (!max_payload_valid(wl->max_payload))
			return SL_PROTO_E_BODY;
		break;
	}
	case SL_PROTO_MANIFEST: {
		struct sl_proto_manifest *mf = &m->manifest;

		mf->file_id = r_u32(r);
		mf->size = r_u64(r);
		mf->mode = r_u32(r);
		mf->mtime_ns = (int64_t)r_u64(r);
		mf->chunk_size = r_u32(r);
		r_bytes(r, mf->file_sha256, SL_PROTO_SHA256_SIZE);
		mf->path_len = r_u16(r);
		if (mf->path_len > SL_PROTO_PATH_MAX)
			return SL_PROTO_E_BODY;
		mf->path = (const char *)r_take(r, mf->path_len);
		mf->first = r_u32(r);
		mf->count = r_u16(r);
		mf->digests = NULL;
		mf->digests_wire = r_take(r, (size_t)mf->count * 4);
		break;
	}
	case SL_PROTO_DIGESTS:
		m->digests.file_id = r_u32(r);
		m->digests.first = r_u32(r);
		m->digests.count = r_u16(r);
		m->digests.digests = NULL;
		m->digests.digests_wire = r_take(r, (size_t)m->digests.count * 4);
		break;
	case SL_PROTO_FILE_STATUS: {
		struct sl_proto_file_status *fs = &m->file_status;

		fs->file_id = r_u32(r);
		fs->status = r_u8(r);
		(void)r_u8(r); /* reserved: ignored like unknown flag bits */
		fs->digests_needed = r_u32(r);
		fs->count = r_u16(r);
		fs->ranges = NULL;
		fs->ranges_wire = r_take(r, (size_t)fs->count * RANGE_SIZE);
		break;
	}
	case SL_PROTO_DATA:
		m->data.file_id = r_u32(r);
		m->data.offset = r_u64(r);
		m->data.len = (uint32_t)r_left(r);
		m->data.payload = r->short_read ? NULL : r_take(r, m->data.len);
		break;
	case SL_PROTO_ACK: {
		struct sl_proto_ack *a = &m->ack;

		a->credit_limit = r_u64(r);
		a->count = r_u16(r);
		a->entries = NULL;
		a->entries_wire = r->pos;
		for (i = 0; i < a->count && !r->short_read; i++) {
			uint16_t nmissing;

			r_take(r, ACK_ENTRY_FIXED - 2);
			nmissing = r_u16(r);
			r_take(r, (size_t)nmissing * MISSING_SIZE);
		}
		a->entries_len = (size_t)(r->pos - a->entries_wire);
		break;
	}
	case SL_PROTO_REJECT:
		m->reject.reason = r_u8(r);
		r_bytes(r, m->reject.client_nonce, SL_PROTO_NONCE_SIZE);
		break;
	default: /* BYE */
		break;
	}
	/* Counts must fill the body exactly: no short body, no trailing bytes. */
	if (r->short_read || r->pos != r->end)
		return SL_PROTO_E_BODY;
	return 0;
}

int
sl_proto_decode(const uint8_t *buf, size_t len, struct sl_proto_msg *m)
{
	struct reader r;
	uint32_t crc;

	if (len < SL_PROTO_HEADER_SIZE)
		return SL_PROTO_E_SHORT;
	r = (struct reader){ .pos = buf, .end = buf + len, .short_read = false };
	if (r_u16(&r) != SL_PROTO_MAGIC)
		return SL_PROTO_E_MAGIC;
	if (r_u8(&r) != SL_PROTO_VERSION)
		return SL_PROTO_E_VERSION;
	m->type = r_u8(&r);
	m->flags = r_u16(&r);
	if (r_u16(&r) != len)
		return SL_PROTO_E_LENGTH;
	m->session = r_u64(&r);
	crc = r_u32(&r);
	if (crc != message_crc(buf, len))
		return SL_PROTO_E_CRC;
	if (m->type < SL_PROTO_HELLO || m->type > SL_PROTO_REJECT)
		return SL_PROTO_E_TYPE;
	if (!session_valid(m->type, m->session))
		return SL_PROTO_E_SESSION;
	return decode_body(&r, len, m);
}

const char *
sl_proto_error_name(int err)
{
	static const char *const names[SL_PROTO_ERROR_COUNT] = {
		[0] = "ok",
		[-SL_PROTO_E_SHORT] = "short",
		[-SL_PROTO_E_MAGIC] = "magic",
		[-SL_PROTO_E_VERSION] = "version",
		[-SL_PROTO_E_LENGTH] = "length",
		[-SL_PROTO_E_CRC] = "crc",
		[-SL_PROTO_E_TYPE] = "type",
		[-SL_PROTO_E_SESSION] = "session",
		[-SL_PROTO_E_BODY] = "body",
		[-SL_PROTO_E_PADDING] = "padding",
	};

	if (err > 0 || err <= -SL_PROTO_ERROR_COUNT)
		return "unknown";
	return names[-err];
}

bool
sl_proto_ack_next(struct sl_proto_ack_iter *it, struct sl_proto_ack_entry *e)
{
	const uint8_t *p = it->pos;

	/* Decode has verified that count entries fill entries_wire exactly. */
	if (it->left == 0)
		return false;
	e->file_id = sl_proto_u32_get(p, 0);
	e->received_upto = sl_proto_u32_get(p, 1);
	e->durable_upto = sl_proto_u32_get(p, 2);
	e->nmissing = (uint16_t)(p[12] << 8 | p[13]);
	e->missing = NULL;
	e->missing_wire = p + ACK_ENTRY_FIXED;
	it->pos = p + ACK_ENTRY_FIXED + (size_t)e->nmissing * MISSING_SIZE;
	it->left--;
	return true;
}

size_t
sl_proto_data_header_size(void)
{
	return SL_PROTO_HEADER_SIZE + DATA_FIXED;
}

bool
sl_proto_data_in_chunk(uint64_t offset, uint32_t len, uint32_t chunk_size, uint64_t file_size)
{
	if (chunk_size == 0 || offset > file_size || len > file_size - offset)
		return false;
	if (len == 0)
		return true;
	return offset / chunk_size == (offset + len - 1) / chunk_size;
}

uint32_t
sl_proto_chunk_count(uint64_t size, uint32_t chunk_size)
{
	uint64_t n;

	if (chunk_size == 0)
		return 0;
	n = size / chunk_size + (size % chunk_size != 0);
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

bool
sl_proto_chunk_size_valid(uint32_t chunk_size, uint32_t max_chunk)
{
	return chunk_size % SL_PROTO_CHUNK_ALIGN == 0 && chunk_size >= SL_PROTO_CHUNK_MIN &&
	       chunk_size <= max_chunk;
}
