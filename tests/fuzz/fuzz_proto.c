/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/proto: sl_proto_decode() of any datagram, three ways per input.
 *
 * 1. The input as it is, a datagram off the wire.
 * 2. The input resealed, as a careful hostile sender would: the length field
 *    set to the real length and the CRC32C recomputed (and, in a CONNECT, the
 *    cookie our receiver would have issued to the sender), so that the fuzzer
 *    reaches every body decoder, which a CRC would otherwise hide from it.
 * 3. The input read as the fields of a message to encode.
 *
 * Invariants: sl_proto_crc32c() equals a bitwise CRC32C at any alignment;
 * a decoded message's lists lie inside the datagram and its ACK entries fill
 * their bytes exactly; what decodes re-encodes to the same bytes (HELLO and
 * CONNECT padded to exactly 256 bytes, FILE_STATUS with a zero reserved
 * byte, anything within SL_PROTO_MAX_PAYLOAD_MAX), an encoder writes nothing
 * past its buffer and refuses one byte too few; whatever encodes decodes to
 * the same fields; a CONNECT passes sl_auth_check_connect() only with a
 * known key and its proof.
 */
#include <errno.h>

#include "fuzz.h"
#include "sl_auth.h"
#include "sl_proto.h"

#define MAX_ENTRIES 64
#define MAX_ITEMS 16384

static struct sl_auth auth;
static struct sl_net_peer peer;
static uint8_t *buf;

static const uint8_t key_alice[16] = "0123456789abcdef";
static const uint8_t key_bob[32] = "fedcba9876543210fedcba9876543210";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	memset(&auth, 0, sizeof(auth));
	memset(auth.secret, 0x5a, sizeof(auth.secret));
	strcpy(auth.keys[0].id, "alice");
	auth.keys[0].id_len = 5;
	memcpy(auth.keys[0].key, key_alice, sizeof(key_alice));
	auth.keys[0].key_len = sizeof(key_alice);
	strcpy(auth.keys[1].id, "bob");
	auth.keys[1].id_len = 3;
	memcpy(auth.keys[1].key, key_bob, sizeof(key_bob));
	auth.keys[1].key_len = sizeof(key_bob);
	auth.nb_keys = 2;

	peer.family = 4;
	peer.udp_port = 40000;
	peer.ip[0] = 10;
	peer.ip[3] = 2;
	buf = malloc(UINT16_MAX + 1);
	if (buf == NULL)
		abort();
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
put_be(uint8_t *p, uint64_t v, unsigned bytes)
{
	while (bytes-- > 0) {
		p[bytes] = (uint8_t)v;
		v >>= 8;
	}
}

static void
reseal(uint8_t *p, size_t len)
{
	put_be(p + 6, len, 2);
	memset(p + 16, 0, 4);
	put_be(p + 16, sl_proto_crc32c(p, len), 4);
}

static bool
inside(const void *ptr, size_t n, const uint8_t *base, size_t len)
{
	const uint8_t *q = ptr;

	return q >= base && q <= base + len && n <= (size_t)(base + len - q);
}

/* Re-encodes @p m, decoded from @p wire, and compares where the codec promises it. */
static void
check_reencode(const struct sl_proto_msg *m, const uint8_t *wire, size_t len)
{
	static uint32_t u32s[MAX_ITEMS];
	static struct sl_proto_range ranges[MAX_ITEMS];
	static struct sl_proto_missing missing[MAX_ITEMS];
	static struct sl_proto_ack_entry entries[UINT16_MAX];
	struct sl_proto_msg e = *m;
	size_t expect_len = len, natural;
	bool compare = true;
	uint8_t *exact;
	int n;

	switch (m->type) {
	case SL_PROTO_HELLO:
		expect_len = SL_PROTO_PADDED_MIN;
		break;
	case SL_PROTO_CONNECT:
		natural = SL_PROTO_HEADER_SIZE + 35 +
			  (m->connect.psk_id_len ? m->connect.psk_id_len + SL_PROTO_AUTH_SIZE : 0);
		expect_len = natural < SL_PROTO_PADDED_MIN ? SL_PROTO_PADDED_MIN : natural;
		break;
	case SL_PROTO_MANIFEST:
		FUZZ_ASSERT(m->manifest.count <= MAX_ITEMS);
		for (uint16_t i = 0; i < m->manifest.count; i++)
			u32s[i] = sl_proto_u32_get(m->manifest.digests_wire, i);
		e.manifest.digests = u32s;
		break;
	case SL_PROTO_DIGESTS:
		FUZZ_ASSERT(m->digests.count <= MAX_ITEMS);
		for (uint16_t i = 0; i < m->digests.count; i++)
			u32s[i] = sl_proto_u32_get(m->digests.digests_wire, i);
		e.digests.digests = u32s;
		break;
	case SL_PROTO_FILE_STATUS:
		FUZZ_ASSERT(m->file_status.count <= MAX_ITEMS);
		for (uint16_t i = 0; i < m->file_status.count; i++)
			ranges[i] = sl_proto_range_get(&m->file_status, i);
		e.file_status.ranges = ranges;
		compare = wire[SL_PROTO_HEADER_SIZE + 5] == 0;
		break;
	case SL_PROTO_ACK: {
		struct sl_proto_ack_iter it;
		struct sl_proto_ack_entry ent;
		size_t used = 0, items = 0;
		uint16_t k = 0;

		sl_proto_ack_iter_init(&it, &m->ack);
		while (sl_proto_ack_next(&it, &ent)) {
			FUZZ_ASSERT(k < m->ack.count);
			FUZZ_ASSERT(inside(ent.missing_wire, (size_t)ent.nmissing * 12, wire, len));
			used += 14 + (size_t)ent.nmissing * 12;
			FUZZ_ASSERT(items + ent.nmissing <= MAX_ITEMS);
			for (uint16_t j = 0; j < ent.nmissing; j++)
				missing[items + j] = sl_proto_missing_get(&ent, j);
			ent.missing = missing + items;
			items += ent.nmissing;
			entries[k++] = ent;
		}
		FUZZ_ASSERT(k == m->ack.count && used == m->ack.entries_len);
		e.ack.entries = entries;
		break;
	}
	default:
		break;
	}

	n = sl_proto_encode(&e, buf, UINT16_MAX);
	if (expect_len > SL_PROTO_MAX_PAYLOAD_MAX) {
		FUZZ_ASSERT(n == -EMSGSIZE);
		return;
	}
	FUZZ_ASSERT(n > 0 && (size_t)n == expect_len);
	if (expect_len == len && compare)
		FUZZ_ASSERT(memcmp(buf, wire, len) == 0);

	/* Exactly enough room, then one byte too little. */
	exact = malloc((size_t)n);
	FUZZ_ASSERT(exact != NULL);
	FUZZ_ASSERT(sl_proto_encode(&e, exact, (size_t)n - 1) == -EMSGSIZE);
	FUZZ_ASSERT(sl_proto_encode(&e, exact, (size_t)n) == n);
	FUZZ_ASSERT(memcmp(exact, buf, (size_t)n) == 0);
	free(exact);
}

/*
 * With keys loaded, a CONNECT passes only with our cookie for the peer, a
 * known identity and that key's proof. (A cookie "issued" in the last seconds
 * of the 64-bit clock is refused as from the future: now + 2 wraps.)
 */
static void
check_connect(const struct sl_proto_connect *c, bool cookie_fixed, bool proof_fixed)
{
	const struct sl_auth_key *key = NULL;
	int rc = sl_auth_check_connect(&auth, &peer, c, c->issued, &key);
	bool clock_ok = c->issued < UINT64_MAX - SL_AUTH_COOKIE_TTL;

	FUZZ_ASSERT(rc == 0 || rc == -SL_PROTO_REJECT_BAD_COOKIE ||
		    rc == -SL_PROTO_REJECT_EXPIRED_COOKIE || rc == -SL_PROTO_REJECT_AUTH_FAILED);
	if (rc == 0) {
		FUZZ_ASSERT(key != NULL && key->id_len == c->psk_id_len);
		FUZZ_ASSERT(memcmp(key->id, c->psk_id, c->psk_id_len) == 0);
		FUZZ_ASSERT(cookie_fixed && proof_fixed);
	} else {
		FUZZ_ASSERT(key == NULL);
	}
	if (cookie_fixed && clock_ok)
		FUZZ_ASSERT(proof_fixed ? rc == 0 : rc == -SL_PROTO_REJECT_AUTH_FAILED);
}

/* Decodes @p wire and checks everything that holds of any decoded message. */
static int
decode_and_check(const uint8_t *wire, size_t len, struct sl_proto_msg *m)
{
	int rc = sl_proto_decode(wire, len, m);
	const char *name = sl_proto_error_name(rc);

	FUZZ_ASSERT(rc <= 0 && rc > -SL_PROTO_ERROR_COUNT);
	FUZZ_ASSERT(strcmp(name, "unknown") != 0);
	FUZZ_ASSERT(sl_proto_error_index(rc) == (unsigned)-rc);
	if (rc != 0)
		return rc;
	FUZZ_ASSERT(len >= SL_PROTO_HEADER_SIZE && m->type >= SL_PROTO_HELLO &&
		    m->type <= SL_PROTO_REJECT);
	FUZZ_ASSERT((m->session == 0) == (m->type <= SL_PROTO_CONNECT) ||
		    m->type == SL_PROTO_REJECT);
	switch (m->type) {
	case SL_PROTO_HELLO:
		FUZZ_ASSERT(len >= SL_PROTO_PADDED_MIN);
		break;
	case SL_PROTO_CONNECT:
		FUZZ_ASSERT(len >= SL_PROTO_PADDED_MIN);
		FUZZ_ASSERT(m->connect.psk_id_len <= SL_PROTO_PSK_ID_MAX);
		if (m->connect.psk_id_len > 0)
			FUZZ_ASSERT(inside(m->connect.psk_id, m->connect.psk_id_len, wire, len));
		break;
	case SL_PROTO_MANIFEST:
		FUZZ_ASSERT(m->manifest.path_len <= SL_PROTO_PATH_MAX);
		FUZZ_ASSERT(inside(m->manifest.path, m->manifest.path_len, wire, len));
		FUZZ_ASSERT(
			inside(m->manifest.digests_wire, (size_t)m->manifest.count * 4, wire, len));
		FUZZ_ASSERT(SL_PROTO_HEADER_SIZE + 68u + m->manifest.path_len +
				    4u * m->manifest.count ==
			    len);
		break;
	case SL_PROTO_DIGESTS:
		FUZZ_ASSERT(
			inside(m->digests.digests_wire, (size_t)m->digests.count * 4, wire, len));
		FUZZ_ASSERT(SL_PROTO_HEADER_SIZE + 10u + 4u * m->digests.count == len);
		break;
	case SL_PROTO_FILE_STATUS:
		FUZZ_ASSERT(inside(m->file_status.ranges_wire, (size_t)m->file_status.count * 8,
				   wire, len));
		FUZZ_ASSERT(SL_PROTO_HEADER_SIZE + 12u + 8u * m->file_status.count == len);
		break;
	case SL_PROTO_DATA:
		FUZZ_ASSERT(inside(m->data.payload, m->data.len, wire, len));
		FUZZ_ASSERT(sl_proto_data_header_size() + m->data.len == len);
		break;
	case SL_PROTO_ACK:
		FUZZ_ASSERT(inside(m->ack.entries_wire, m->ack.entries_len, wire, len));
		FUZZ_ASSERT(SL_PROTO_HEADER_SIZE + 10u + m->ack.entries_len == len);
		break;
	case SL_PROTO_WELCOME:
		FUZZ_ASSERT(len == SL_PROTO_HEADER_SIZE + (m->welcome.has_auth ? 56u : 24u));
		break;
	default:
		break;
	}
	check_reencode(m, wire, len);
	return 0;
}

/* The chunk arithmetic both ends share, on the numbers of a manifest. */
static void
check_chunks(const struct sl_proto_manifest *mf, const struct sl_proto_data *d)
{
	uint32_t chunks = sl_proto_chunk_count(mf->size, mf->chunk_size);
	bool in;

	if (mf->chunk_size == 0 || mf->size == 0)
		FUZZ_ASSERT(chunks == 0);
	else if (chunks < UINT32_MAX)
		FUZZ_ASSERT((uint64_t)(chunks - 1) * mf->chunk_size < mf->size &&
			    (uint64_t)chunks * mf->chunk_size >= mf->size);
	in = sl_proto_data_in_chunk(d->offset, d->len, mf->chunk_size, mf->size);
	if (in) {
		FUZZ_ASSERT(mf->chunk_size != 0 && d->offset <= mf->size &&
			    d->len <= mf->size - d->offset);
		if (d->len > 0)
			FUZZ_ASSERT(d->offset / mf->chunk_size ==
				    (d->offset + d->len - 1) / mf->chunk_size);
	}
	if (sl_proto_chunk_size_valid(mf->chunk_size,
				      mf->size > UINT32_MAX ? UINT32_MAX : (uint32_t)mf->size))
		FUZZ_ASSERT(mf->chunk_size % SL_PROTO_CHUNK_ALIGN == 0 &&
			    mf->chunk_size >= SL_PROTO_CHUNK_MIN);
}

/* Mode 3: a message built from the input's bytes, encoded, then decoded. */
static void
encode_from_input(const uint8_t *data, size_t size)
{
	static uint8_t bytes[SL_PROTO_PATH_MAX + 1];
	static uint32_t u32s[MAX_ITEMS];
	static struct sl_proto_range ranges[MAX_ITEMS];
	static struct sl_proto_missing missing[MAX_ITEMS];
	static struct sl_proto_ack_entry entries[MAX_ENTRIES];
	struct fuzz_input in = { data, size };
	struct sl_proto_msg m, d;
	size_t got, items = 0;
	const uint8_t *p;
	uint16_t count;
	int n, rc;

	memset(&m, 0, sizeof(m));
	m.type = fuzz_u8(&in) % 13;
	m.flags = fuzz_u16(&in);
	m.session = fuzz_u64(&in);
	count = fuzz_u8(&in);
	switch (m.type) {
	case SL_PROTO_HELLO:
	case SL_PROTO_CONNECT:
	case SL_PROTO_WELCOME:
		p = fuzz_bytes(&in, SL_PROTO_NONCE_SIZE, &got);
		memcpy(m.hello.client_nonce, p, got);
		m.connect.issued = fuzz_u64(&in);
		p = fuzz_bytes(&in, SL_PROTO_COOKIE_SIZE, &got);
		memcpy(m.connect.cookie, p, got);
		m.connect.max_payload = fuzz_u16(&in);
		if (m.type == SL_PROTO_HELLO) {
			m.hello.max_payload = m.connect.max_payload;
			m.hello.hello_flags = fuzz_u16(&in);
		} else if (m.type == SL_PROTO_WELCOME) {
			m.welcome.max_payload = fuzz_u16(&in);
			m.welcome.max_chunk = fuzz_u32(&in);
			m.welcome.credit = fuzz_u64(&in);
			m.welcome.max_files = fuzz_u16(&in);
			m.welcome.has_auth = count & 1;
			p = fuzz_bytes(&in, SL_PROTO_AUTH_SIZE, &got);
			memcpy(m.welcome.auth, p, got);
		} else {
			m.connect.psk_id_len = count % 80;
			memset(bytes, 'k', m.connect.psk_id_len);
			p = fuzz_bytes(&in, m.connect.psk_id_len, &got);
			memcpy(bytes, p, got);
			m.connect.psk_id = (const char *)bytes;
			p = fuzz_bytes(&in, SL_PROTO_AUTH_SIZE, &got);
			memcpy(m.connect.auth, p, got);
		}
		break;
	case SL_PROTO_COOKIE:
		p = fuzz_bytes(&in, SL_PROTO_NONCE_SIZE, &got);
		memcpy(m.cookie.client_nonce, p, got);
		m.cookie.issued = fuzz_u64(&in);
		p = fuzz_bytes(&in, SL_PROTO_COOKIE_SIZE, &got);
		memcpy(m.cookie.cookie, p, got);
		break;
	case SL_PROTO_MANIFEST:
		m.manifest.file_id = fuzz_u32(&in);
		m.manifest.size = fuzz_u64(&in);
		m.manifest.mode = fuzz_u32(&in);
		m.manifest.mtime_ns = (int64_t)fuzz_u64(&in);
		m.manifest.chunk_size = fuzz_u32(&in);
		p = fuzz_bytes(&in, SL_PROTO_SHA256_SIZE, &got);
		memcpy(m.manifest.file_sha256, p, got);
		m.manifest.path_len = fuzz_u16(&in) % (SL_PROTO_PATH_MAX + 2);
		memset(bytes, 'p', m.manifest.path_len);
		m.manifest.path = (const char *)bytes;
		m.manifest.first = fuzz_u32(&in);
		m.manifest.count = count;
		for (uint16_t i = 0; i < count; i++)
			u32s[i] = fuzz_u32(&in);
		m.manifest.digests = u32s;
		break;
	case SL_PROTO_DIGESTS:
		m.digests.file_id = fuzz_u32(&in);
		m.digests.first = fuzz_u32(&in);
		m.digests.count = (uint16_t)(count * 9);
		for (uint16_t i = 0; i < m.digests.count; i++)
			u32s[i] = fuzz_u32(&in);
		m.digests.digests = u32s;
		break;
	case SL_PROTO_FILE_STATUS:
		m.file_status.file_id = fuzz_u32(&in);
		m.file_status.status = fuzz_u8(&in);
		m.file_status.digests_needed = fuzz_u32(&in);
		m.file_status.count = count;
		for (uint16_t i = 0; i < count; i++) {
			ranges[i].first = fuzz_u32(&in);
			ranges[i].count = fuzz_u32(&in);
		}
		m.file_status.ranges = ranges;
		break;
	case SL_PROTO_DATA:
		m.data.file_id = fuzz_u32(&in);
		m.data.offset = fuzz_u64(&in);
		m.data.payload = fuzz_bytes(&in, (size_t)count * 40, &got);
		m.data.len = (uint32_t)got;
		break;
	case SL_PROTO_ACK:
		m.ack.credit_limit = fuzz_u64(&in);
		m.ack.count = count % (MAX_ENTRIES + 1);
		for (uint16_t i = 0; i < m.ack.count; i++) {
			entries[i].file_id = fuzz_u32(&in);
			entries[i].received_upto = fuzz_u32(&in);
			entries[i].durable_upto = fuzz_u32(&in);
			entries[i].nmissing = fuzz_u8(&in) % 16;
			entries[i].missing = missing + items;
			for (uint16_t j = 0; j < entries[i].nmissing; j++) {
				missing[items + j].offset = fuzz_u64(&in);
				missing[items + j].length = fuzz_u32(&in);
			}
			items += entries[i].nmissing;
		}
		m.ack.entries = entries;
		break;
	case SL_PROTO_REJECT:
		m.reject.reason = fuzz_u8(&in);
		p = fuzz_bytes(&in, SL_PROTO_NONCE_SIZE, &got);
		memcpy(m.reject.client_nonce, p, got);
		break;
	default:
		break;
	}

	n = sl_proto_encode(&m, buf, SL_PROTO_MAX_PAYLOAD_MAX);
	if (n == -EINVAL || n == -EMSGSIZE)
		return;
	FUZZ_ASSERT(n >= SL_PROTO_HEADER_SIZE && n <= SL_PROTO_MAX_PAYLOAD_MAX);
	rc = sl_proto_decode(buf, (size_t)n, &d);
	FUZZ_ASSERT(rc == 0);
	FUZZ_ASSERT(d.type == m.type && d.flags == m.flags && d.session == m.session);
	switch (m.type) {
	case SL_PROTO_HELLO:
		FUZZ_ASSERT(memcmp(&d.hello, &m.hello, sizeof(m.hello)) == 0);
		break;
	case SL_PROTO_COOKIE:
		FUZZ_ASSERT(memcmp(&d.cookie, &m.cookie, sizeof(m.cookie)) == 0);
		break;
	case SL_PROTO_CONNECT:
		FUZZ_ASSERT(d.connect.issued == m.connect.issued &&
			    d.connect.max_payload == m.connect.max_payload &&
			    d.connect.psk_id_len == m.connect.psk_id_len);
		FUZZ_ASSERT(memcmp(d.connect.cookie, m.connect.cookie, SL_PROTO_COOKIE_SIZE) == 0);
		if (m.connect.psk_id_len > 0) {
			FUZZ_ASSERT(memcmp(d.connect.psk_id, m.connect.psk_id,
					   m.connect.psk_id_len) == 0);
			FUZZ_ASSERT(memcmp(d.connect.auth, m.connect.auth, SL_PROTO_AUTH_SIZE) ==
				    0);
		}
		break;
	case SL_PROTO_WELCOME:
		FUZZ_ASSERT(d.welcome.max_payload == m.welcome.max_payload &&
			    d.welcome.max_chunk == m.welcome.max_chunk &&
			    d.welcome.credit == m.welcome.credit &&
			    d.welcome.max_files == m.welcome.max_files &&
			    d.welcome.has_auth == m.welcome.has_auth);
		break;
	case SL_PROTO_MANIFEST:
		FUZZ_ASSERT(d.manifest.file_id == m.manifest.file_id &&
			    d.manifest.size == m.manifest.size &&
			    d.manifest.mode == m.manifest.mode &&
			    d.manifest.mtime_ns == m.manifest.mtime_ns &&
			    d.manifest.chunk_size == m.manifest.chunk_size &&
			    d.manifest.path_len == m.manifest.path_len &&
			    d.manifest.first == m.manifest.first &&
			    d.manifest.count == m.manifest.count);
		FUZZ_ASSERT(memcmp(d.manifest.path, m.manifest.path, m.manifest.path_len) == 0);
		for (uint16_t i = 0; i < m.manifest.count; i++)
			FUZZ_ASSERT(sl_proto_u32_get(d.manifest.digests_wire, i) == u32s[i]);
		break;
	case SL_PROTO_DIGESTS:
		FUZZ_ASSERT(d.digests.count == m.digests.count &&
			    d.digests.first == m.digests.first);
		for (uint16_t i = 0; i < m.digests.count; i++)
			FUZZ_ASSERT(sl_proto_u32_get(d.digests.digests_wire, i) == u32s[i]);
		break;
	case SL_PROTO_FILE_STATUS:
		FUZZ_ASSERT(d.file_status.count == m.file_status.count &&
			    d.file_status.status == m.file_status.status &&
			    d.file_status.digests_needed == m.file_status.digests_needed);
		for (uint16_t i = 0; i < m.file_status.count; i++) {
			struct sl_proto_range r = sl_proto_range_get(&d.file_status, i);

			FUZZ_ASSERT(r.first == ranges[i].first && r.count == ranges[i].count);
		}
		break;
	case SL_PROTO_DATA:
		FUZZ_ASSERT(d.data.offset == m.data.offset && d.data.len == m.data.len);
		FUZZ_ASSERT(m.data.len == 0 ||
			    memcmp(d.data.payload, m.data.payload, m.data.len) == 0);
		break;
	case SL_PROTO_ACK: {
		struct sl_proto_ack_iter it;
		struct sl_proto_ack_entry ent;
		uint16_t i = 0;

		FUZZ_ASSERT(d.ack.credit_limit == m.ack.credit_limit && d.ack.count == m.ack.count);
		sl_proto_ack_iter_init(&it, &d.ack);
		while (sl_proto_ack_next(&it, &ent)) {
			FUZZ_ASSERT(ent.file_id == entries[i].file_id &&
				    ent.received_upto == entries[i].received_upto &&
				    ent.durable_upto == entries[i].durable_upto &&
				    ent.nmissing == entries[i].nmissing);
			for (uint16_t j = 0; j < ent.nmissing; j++) {
				struct sl_proto_missing r = sl_proto_missing_get(&ent, j);

				FUZZ_ASSERT(r.offset == entries[i].missing[j].offset &&
					    r.length == entries[i].missing[j].length);
			}
			i++;
		}
		FUZZ_ASSERT(i == m.ack.count);
		break;
	}
	case SL_PROTO_REJECT:
		FUZZ_ASSERT(memcmp(&d.reject, &m.reject, sizeof(m.reject)) == 0);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_proto_msg m;
	uint8_t *copy;
	int rc;

	if (size > UINT16_MAX)
		return -1;
	FUZZ_ASSERT(sl_proto_crc32c(data, size) == ref_crc32c(data, size));
	if (size > 1)
		FUZZ_ASSERT(sl_proto_crc32c(data + 1, size - 1) == ref_crc32c(data + 1, size - 1));

	/* 1. As received. */
	rc = decode_and_check(data, size, &m);
	if (rc == 0 && m.type == SL_PROTO_CONNECT)
		check_connect(&m.connect, false, false);

	/* 2. Resealed, in an exact-size block so that ASan sees any read past it. */
	if (size >= SL_PROTO_HEADER_SIZE) {
		copy = malloc(size);
		FUZZ_ASSERT(copy != NULL);
		memcpy(copy, data, size);
		reseal(copy, size);
		rc = decode_and_check(copy, size, &m);
		FUZZ_ASSERT(rc != SL_PROTO_E_LENGTH && rc != SL_PROTO_E_CRC &&
			    rc != SL_PROTO_E_SHORT);
		if (rc == 0 && m.type == SL_PROTO_CONNECT) {
			/* The cookie our receiver would have issued this peer; and, when the
			 * top flag bit asks for it and the key is known, the key's proof. */
			const struct sl_auth_key *k =
				m.connect.psk_id_len > 0 ? sl_auth_find_key(&auth, m.connect.psk_id,
									    m.connect.psk_id_len)
							 : NULL;
			bool proof = k != NULL && (m.flags & 0x8000);

			sl_auth_cookie(&auth, &peer, m.connect.client_nonce, m.connect.issued,
				       copy + SL_PROTO_HEADER_SIZE + 16);
			if (proof)
				sl_auth_connect_proof(
					k, m.connect.client_nonce, copy + SL_PROTO_HEADER_SIZE + 16,
					copy + SL_PROTO_HEADER_SIZE + 35 + m.connect.psk_id_len);
			reseal(copy, size);
			FUZZ_ASSERT(decode_and_check(copy, size, &m) == 0);
			check_connect(&m.connect, true, proof);
		}
		if (rc == 0 && m.type == SL_PROTO_MANIFEST) {
			struct sl_proto_data d = { .offset = m.manifest.mtime_ns,
						   .len = m.manifest.first };

			check_chunks(&m.manifest, &d);
		}
		free(copy);
	}

	/* 3. As the fields of a message. */
	encode_from_input(data, size);
	return 0;
}
