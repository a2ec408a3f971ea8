/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sl_proto.h"

#define MTU_PAYLOAD 1472
#define BIG SL_PROTO_MAX_PAYLOAD_MAX

/* Bitwise CRC32C, independent of rte_hash_crc, to check it and to re-seal edited messages. */
static uint32_t
ref_crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78 : c >> 1;
	}
	return ~c;
}

/* Set the length field to @p len and recompute the CRC, as a hostile but careful sender would. */
static void
reseal(uint8_t *buf, size_t len)
{
	uint32_t crc;

	buf[6] = (uint8_t)(len >> 8);
	buf[7] = (uint8_t)len;
	memset(buf + 16, 0, 4);
	crc = ref_crc32c(buf, len);
	buf[16] = (uint8_t)(crc >> 24);
	buf[17] = (uint8_t)(crc >> 16);
	buf[18] = (uint8_t)(crc >> 8);
	buf[19] = (uint8_t)crc;
}

/*
 * Decode from an exact-size heap copy, so valgrind or ASan sees any read past len.
 * The copy is freed: only scalar fields of @p m may be used afterwards.
 */
static int
decode_exact(const uint8_t *buf, size_t len, struct sl_proto_msg *m)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	ret = sl_proto_decode(copy, len, m);
	free(copy);
	return ret;
}

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void
test_crc_vectors(void **state)
{
	uint8_t zeros[32] = { 0 }, ones[32], inc[32], buf[200 + 8];
	size_t n, off;

	memset(ones, 0xff, sizeof(ones));
	for (n = 0; n < sizeof(inc); n++)
		inc[n] = (uint8_t)n;
	assert_int_equal(sl_proto_crc32c("123456789", 9), 0xe3069283);
	assert_int_equal(sl_proto_crc32c(zeros, sizeof(zeros)), 0x8a9136aa);
	assert_int_equal(sl_proto_crc32c(ones, sizeof(ones)), 0x62a8ab43);
	assert_int_equal(sl_proto_crc32c(inc, sizeof(inc)), 0x46dd794e);
	assert_int_equal(sl_proto_crc32c(zeros, 0), 0);
	/* Every tail length and alignment of the 8/4/2/1-byte steps. */
	fill(buf, sizeof(buf), 3);
	for (off = 0; off < 8; off++)
		for (n = 0; n <= 200; n++)
			assert_int_equal(sl_proto_crc32c(buf + off, n), ref_crc32c(buf + off, n));
}

/* Expected HELLO bytes, written from docs/protocol.md; the CRC was computed separately. */
static const uint8_t golden_hello_head[32] = {
	0x53, 0x4c, 0x01, 0x01,                         /* magic "SL", version 1, HELLO */
	0x00, 0x00, 0x01, 0x00,                         /* flags 0, length 256 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* session 0 */
	0x13, 0x1c, 0xe2, 0xc3,                         /* crc */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* client_nonce */
	0x05, 0xc0,                                     /* max_payload 1472 */
	0x00, 0x01,                                     /* hello_flags: PSK */
};

static void
test_golden_hello(void **state)
{
	uint8_t want[256] = { 0 }, buf[MTU_PAYLOAD];
	struct sl_proto_msg m = { .type = SL_PROTO_HELLO }, d;
	int len;

	memcpy(want, golden_hello_head, sizeof(golden_hello_head));
	memcpy(m.hello.client_nonce, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	m.hello.max_payload = 1472;
	m.hello.hello_flags = SL_PROTO_HELLO_PSK;
	memset(buf, 0xaa, sizeof(buf));
	len = sl_proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, 256);
	assert_memory_equal(buf, want, sizeof(want));

	assert_int_equal(decode_exact(want, sizeof(want), &d), 0);
	assert_int_equal(d.type, SL_PROTO_HELLO);
	assert_int_equal(d.session, 0);
	assert_memory_equal(d.hello.client_nonce, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_int_equal(d.hello.max_payload, 1472);
	assert_int_equal(d.hello.hello_flags, 1);
}

static const uint8_t golden_data[35] = {
	0x53, 0x4c, 0x01, 0x08,                         /* magic, version 1, DATA */
	0x00, 0x01, 0x00, 0x23,                         /* flags: ack now, length 35 */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* session */
	0x87, 0x79, 0x8c, 0x41,                         /* crc */
	0x0a, 0x0b, 0x0c, 0x0d,                         /* file_id */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, /* offset 2^32 + 16 */
	'a',  'b',  'c',                                /* payload */
};

static void
test_golden_data(void **state)
{
	uint8_t buf[MTU_PAYLOAD];
	struct sl_proto_msg m = {
		.type = SL_PROTO_DATA,
		.session = 0x0102030405060708ull,
		.flags = SL_PROTO_FLAG_ACK_NOW,
		.data = { .file_id = 0x0a0b0c0d,
			  .offset = 0x100000010ull,
			  .len = 3,
			  .payload = (const uint8_t *)"abc" },
	};
	struct sl_proto_msg d;

	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), sizeof(golden_data));
	assert_memory_equal(buf, golden_data, sizeof(golden_data));
	assert_int_equal(sl_proto_data_header_size(), 32);

	assert_int_equal(sl_proto_decode(golden_data, sizeof(golden_data), &d), 0);
	assert_int_equal(d.type, SL_PROTO_DATA);
	assert_int_equal(d.flags, SL_PROTO_FLAG_ACK_NOW);
	assert_int_equal(d.session, 0x0102030405060708ull);
	assert_int_equal(d.data.file_id, 0x0a0b0c0d);
	assert_int_equal(d.data.offset, 0x100000010ull);
	assert_int_equal(d.data.len, 3);
	assert_ptr_equal(d.data.payload, golden_data + 32);
	assert_memory_equal(d.data.payload, "abc", 3);
}

/* Encode, decode, and check that decode points into the buffer it was given. */
static int
round_trip(const struct sl_proto_msg *m, uint8_t *buf, size_t cap, struct sl_proto_msg *d)
{
	int len = sl_proto_encode(m, buf, cap);

	assert_true(len >= SL_PROTO_HEADER_SIZE);
	assert_true((size_t)len <= cap);
	memset(d, 0x5a, sizeof(*d));
	assert_int_equal(sl_proto_decode(buf, (size_t)len, d), 0);
	assert_int_equal(d->type, m->type);
	assert_int_equal(d->session, m->session);
	assert_int_equal(d->flags, m->flags);
	return len;
}

static void
test_round_trip_handshake(void **state)
{
	uint8_t buf[BIG];
	struct sl_proto_msg m, d;
	int len;

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_HELLO;
	m.flags = 0xffff; /* unknown bits are carried and ignored */
	m.hello.max_payload = SL_PROTO_MAX_PAYLOAD_MAX;
	fill(m.hello.client_nonce, 8, 1);
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 256);
	assert_memory_equal(&d.hello.client_nonce, m.hello.client_nonce, 8);
	assert_int_equal(d.hello.max_payload, 9000);
	assert_int_equal(d.hello.hello_flags, 0);

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_COOKIE;
	fill(m.cookie.client_nonce, 8, 2);
	m.cookie.issued = UINT64_MAX;
	fill(m.cookie.cookie, 16, 3);
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 20 + 32);
	assert_memory_equal(d.cookie.client_nonce, m.cookie.client_nonce, 8);
	assert_int_equal(d.cookie.issued, UINT64_MAX);
	assert_memory_equal(d.cookie.cookie, m.cookie.cookie, 16);

	/* CONNECT without a key: no psk_id, no auth, padded. */
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_CONNECT;
	fill(m.connect.client_nonce, 8, 4);
	m.connect.issued = 1700000000;
	fill(m.connect.cookie, 16, 5);
	m.connect.max_payload = SL_PROTO_MAX_PAYLOAD_MIN;
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 256);
	assert_int_equal(buf[20 + 34], 0); /* psk_id_len */
	assert_int_equal(d.connect.psk_id_len, 0);
	assert_null(d.connect.psk_id);
	assert_int_equal(d.connect.issued, 1700000000);
	assert_int_equal(d.connect.max_payload, 1200);
	assert_memory_equal(d.connect.cookie, m.connect.cookie, 16);

	/* CONNECT with the longest key name and auth. */
	char id[SL_PROTO_PSK_ID_MAX];
	memset(id, 'k', sizeof(id));
	m.connect.psk_id_len = SL_PROTO_PSK_ID_MAX;
	m.connect.psk_id = id;
	fill(m.connect.auth, 32, 6);
	len = round_trip(&m, buf, sizeof(buf), &d);
	assert_int_equal(len, 256);
	assert_int_equal(d.connect.psk_id_len, 64);
	assert_ptr_equal(d.connect.psk_id, (const char *)buf + 20 + 35);
	assert_memory_equal(d.connect.psk_id, id, 64);
	assert_memory_equal(d.connect.auth, m.connect.auth, 32);

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_WELCOME;
	m.session = UINT64_MAX;
	fill(m.welcome.client_nonce, 8, 7);
	m.welcome.max_payload = 1472;
	m.welcome.max_chunk = UINT32_MAX;
	m.welcome.credit = 1ull << 40;
	m.welcome.max_files = UINT16_MAX;
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 20 + 24);
	assert_false(d.welcome.has_auth);
	assert_int_equal(d.welcome.max_chunk, UINT32_MAX);
	assert_int_equal(d.welcome.credit, 1ull << 40);
	assert_int_equal(d.welcome.max_files, UINT16_MAX);
	assert_int_equal(d.welcome.max_payload, 1472);
	m.welcome.has_auth = true;
	fill(m.welcome.auth, 32, 8);
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 20 + 56);
	assert_true(d.welcome.has_auth);
	assert_memory_equal(d.welcome.auth, m.welcome.auth, 32);

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_BYE;
	m.session = 1;
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 20);

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_REJECT;
	m.reject.reason = SL_PROTO_REJECT_BUSY;
	fill(m.reject.client_nonce, 8, 9);
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 29);
	assert_int_equal(d.reject.reason, 6);
	assert_memory_equal(d.reject.client_nonce, m.reject.client_nonce, 8);
	m.session = 42; /* REJECT of an unknown session echoes it */
	round_trip(&m, buf, sizeof(buf), &d);
}

static void
test_round_trip_manifest(void **state)
{
	static char path[SL_PROTO_PATH_MAX];
	static uint32_t digests[BIG / 4];
	uint8_t buf[BIG];
	struct sl_proto_msg m, d;
	uint16_t max_count, i;

	/* A 0-byte file: no chunks, no digests. */
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_MANIFEST;
	m.session = 7;
	m.manifest.file_id = 1;
	m.manifest.mode = 0644;
	m.manifest.mtime_ns = -1; /* before the epoch: signed */
	m.manifest.chunk_size = SL_PROTO_CHUNK_MIN;
	m.manifest.path = "empty";
	m.manifest.path_len = 5;
	fill(m.manifest.file_sha256, 32, 10);
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 20 + 68 + 5);
	assert_int_equal(d.manifest.size, 0);
	assert_int_equal(d.manifest.count, 0);
	assert_int_equal(d.manifest.mtime_ns, -1);
	assert_int_equal(d.manifest.mode, 0644);
	assert_int_equal(d.manifest.chunk_size, 65536);
	assert_int_equal(d.manifest.path_len, 5);
	assert_memory_equal(d.manifest.path, "empty", 5);
	assert_memory_equal(d.manifest.file_sha256, m.manifest.file_sha256, 32);
	assert_int_equal(sl_proto_chunk_count(d.manifest.size, d.manifest.chunk_size), 0);

	/* The longest path, with as many digests as still fit in 9000 bytes. */
	memset(path, 'p', sizeof(path));
	max_count = (BIG - 20 - 68 - SL_PROTO_PATH_MAX) / 4;
	for (i = 0; i < max_count; i++)
		digests[i] = 0x01000000u * (i & 0xff) + i;
	m.manifest.size = UINT64_MAX;
	m.manifest.mtime_ns = INT64_MIN;
	m.manifest.file_id = UINT32_MAX;
	m.manifest.path = path;
	m.manifest.path_len = SL_PROTO_PATH_MAX;
	m.manifest.count = max_count;
	m.manifest.digests = digests;
	m.manifest.first = 0;
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 20 + 68 + 4095 + 4 * max_count);
	assert_int_equal(d.manifest.path_len, 4095);
	assert_ptr_equal(d.manifest.path, (const char *)buf + 20 + 62);
	assert_memory_equal(d.manifest.path, path, 4095);
	assert_int_equal(d.manifest.size, UINT64_MAX);
	assert_int_equal(d.manifest.mtime_ns, INT64_MIN);
	assert_int_equal(d.manifest.count, max_count);
	assert_null(d.manifest.digests);
	for (i = 0; i < max_count; i++)
		assert_int_equal(sl_proto_u32_get(d.manifest.digests_wire, i), digests[i]);
	/* One more digest does not fit. */
	m.manifest.count = max_count + 1;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EMSGSIZE);

	/* A 1472-byte payload filled exactly with digests. */
	m.manifest.path_len = 4;
	m.manifest.count = (MTU_PAYLOAD - 20 - 68 - 4) / 4;
	assert_int_equal(round_trip(&m, buf, MTU_PAYLOAD, &d), MTU_PAYLOAD);
	assert_int_equal(sl_proto_u32_get(d.manifest.digests_wire, d.manifest.count - 1),
			 digests[m.manifest.count - 1]);

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_DIGESTS;
	m.session = 7;
	m.digests.file_id = 3;
	m.digests.first = UINT32_MAX - 10;
	m.digests.count = (BIG - 30) / 4;
	m.digests.digests = digests;
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 30 + 4 * m.digests.count);
	assert_int_equal(d.digests.first, UINT32_MAX - 10);
	assert_int_equal(d.digests.count, m.digests.count);
	for (i = 0; i < d.digests.count; i++)
		assert_int_equal(sl_proto_u32_get(d.digests.digests_wire, i), digests[i]);
	m.digests.count = 0;
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 30);
	assert_int_equal(d.digests.count, 0);
}

static void
test_round_trip_status_data_ack(void **state)
{
	static struct sl_proto_range ranges[BIG / 8];
	static struct sl_proto_ack_entry entries[BIG / 14];
	static struct sl_proto_missing missing[BIG / 12];
	static uint8_t payload[BIG];
	uint8_t buf[BIG];
	struct sl_proto_msg m, d;
	struct sl_proto_ack_iter it;
	struct sl_proto_ack_entry e;
	uint16_t i, n;

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_FILE_STATUS;
	m.session = 9;
	m.file_status.file_id = 77;
	m.file_status.status = SL_PROTO_STATUS_READY;
	m.file_status.digests_needed = 12;
	m.file_status.count = (BIG - 32) / 8;
	for (i = 0; i < m.file_status.count; i++)
		ranges[i] = (struct sl_proto_range){ .first = i * 3u, .count = UINT32_MAX - i };
	m.file_status.ranges = ranges;
	round_trip(&m, buf, sizeof(buf), &d);
	assert_int_equal(buf[25], 0); /* reserved */
	assert_int_equal(d.file_status.file_id, 77);
	assert_int_equal(d.file_status.digests_needed, 12);
	assert_int_equal(d.file_status.count, m.file_status.count);
	for (i = 0; i < d.file_status.count; i++) {
		struct sl_proto_range r = sl_proto_range_get(&d.file_status, i);

		assert_int_equal(r.first, ranges[i].first);
		assert_int_equal(r.count, ranges[i].count);
	}
	m.file_status.status = SL_PROTO_STATUS_BAD_MANIFEST;
	m.file_status.count = 0;
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 32);
	assert_int_equal(d.file_status.status, 8);

	/* DATA: empty, then a full 1472-byte datagram, then a full 9000-byte one. */
	fill(payload, sizeof(payload), 11);
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_DATA;
	m.session = 9;
	m.data.offset = UINT64_MAX;
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 32);
	assert_int_equal(d.data.len, 0);
	assert_int_equal(d.data.offset, UINT64_MAX);
	m.data.payload = payload;
	m.data.len = MTU_PAYLOAD - sl_proto_data_header_size();
	assert_int_equal(round_trip(&m, buf, MTU_PAYLOAD, &d), MTU_PAYLOAD);
	assert_int_equal(d.data.len, m.data.len);
	assert_ptr_equal(d.data.payload, buf + 32);
	assert_memory_equal(d.data.payload, payload, m.data.len);
	m.data.len++;
	assert_int_equal(sl_proto_encode(&m, buf, MTU_PAYLOAD), -EMSGSIZE);
	m.data.len = BIG - 32;
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), BIG);
	assert_memory_equal(d.data.payload, payload, m.data.len);

	/* ACK with no entries. */
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_ACK;
	m.session = 9;
	m.ack.credit_limit = UINT64_MAX;
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), 30);
	assert_int_equal(d.ack.count, 0);
	sl_proto_ack_iter_init(&it, &d.ack);
	assert_false(sl_proto_ack_next(&it, &e));

	/* ACK with as many entries as fit, each with 0..3 missing ranges. */
	for (i = 0; i < 4; i++)
		missing[i] = (struct sl_proto_missing){ .offset = UINT64_MAX - i, .length = i + 1 };
	size_t used = 30;
	for (n = 0;; n++) {
		uint16_t nm = n % 4;

		if (used + 14 + 12u * nm > BIG)
			break;
		entries[n] = (struct sl_proto_ack_entry){ .file_id = n,
							  .received_upto = n * 2u,
							  .durable_upto = n,
							  .nmissing = nm,
							  .missing = missing };
		used += 14 + 12u * nm;
	}
	m.ack.count = n;
	m.ack.entries = entries;
	assert_int_equal(round_trip(&m, buf, sizeof(buf), &d), (int)used);
	assert_int_equal(d.ack.count, n);
	assert_int_equal(d.ack.entries_len, used - 30);
	sl_proto_ack_iter_init(&it, &d.ack);
	for (i = 0; i < n; i++) {
		uint16_t j;

		assert_true(sl_proto_ack_next(&it, &e));
		assert_int_equal(e.file_id, i);
		assert_int_equal(e.received_upto, i * 2u);
		assert_int_equal(e.durable_upto, i);
		assert_int_equal(e.nmissing, i % 4);
		for (j = 0; j < e.nmissing; j++) {
			struct sl_proto_missing r = sl_proto_missing_get(&e, j);

			assert_int_equal(r.offset, missing[j].offset);
			assert_int_equal(r.length, missing[j].length);
		}
	}
	assert_false(sl_proto_ack_next(&it, &e));

	/* One entry with as many missing ranges as fit. */
	n = (BIG - 30 - 14) / 12;
	for (i = 0; i < n; i++)
		missing[i] = (struct sl_proto_missing){ .offset = (uint64_t)i << 33, .length = i };
	entries[0].nmissing = n;
	m.ack.count = 1;
	round_trip(&m, buf, sizeof(buf), &d);
	sl_proto_ack_iter_init(&it, &d.ack);
	assert_true(sl_proto_ack_next(&it, &e));
	assert_int_equal(e.nmissing, n);
	assert_int_equal(sl_proto_missing_get(&e, n - 1).offset, (uint64_t)(n - 1) << 33);
	assert_int_equal(sl_proto_missing_get(&e, n - 1).length, n - 1);
	assert_false(sl_proto_ack_next(&it, &e));
	entries[0].nmissing = n + 1;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EMSGSIZE);
}

/* One valid message of every type, for the rejection tests. */
static int
sample(uint8_t type, uint8_t *buf, size_t cap)
{
	static const uint32_t digests[3] = { 1, 2, 3 };
	static const struct sl_proto_range ranges[2] = { { 0, 4 }, { 9, 1 } };
	static const struct sl_proto_missing missing[2] = { { 4096, 100 }, { 70000, 5 } };
	static const struct sl_proto_ack_entry entries[2] = {
		{ .file_id = 1, .nmissing = 2, .missing = missing },
		{ .file_id = 2, .nmissing = 0 },
	};
	struct sl_proto_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.session = 0x1122334455667788ull;
	switch (type) {
	case SL_PROTO_HELLO:
		m.session = 0;
		m.hello.max_payload = 1472;
		break;
	case SL_PROTO_COOKIE:
		m.session = 0;
		break;
	case SL_PROTO_CONNECT:
		m.session = 0;
		m.connect.max_payload = 1472;
		m.connect.psk_id = "site-a";
		m.connect.psk_id_len = 6;
		break;
	case SL_PROTO_WELCOME:
		m.welcome.max_payload = 1472;
		m.welcome.has_auth = true;
		break;
	case SL_PROTO_MANIFEST:
		m.manifest.path = "dir/file";
		m.manifest.path_len = 8;
		m.manifest.count = 3;
		m.manifest.digests = digests;
		break;
	case SL_PROTO_DIGESTS:
		m.digests.count = 3;
		m.digests.digests = digests;
		break;
	case SL_PROTO_FILE_STATUS:
		m.file_status.count = 2;
		m.file_status.ranges = ranges;
		break;
	case SL_PROTO_DATA:
		m.data.payload = (const uint8_t *)"0123456789";
		m.data.len = 10;
		break;
	case SL_PROTO_ACK:
		m.ack.count = 2;
		m.ack.entries = entries;
		break;
	case SL_PROTO_REJECT:
		m.reject.reason = SL_PROTO_REJECT_BAD_COOKIE;
		break;
	default:
		break;
	}
	return sl_proto_encode(&m, buf, cap);
}

static void
test_truncation(void **state)
{
	uint8_t full[MTU_PAYLOAD], cut[MTU_PAYLOAD];
	struct sl_proto_msg d;
	uint8_t type;
	int len, n, ret;

	for (type = SL_PROTO_HELLO; type <= SL_PROTO_REJECT; type++) {
		len = sample(type, full, sizeof(full));
		assert_true(len >= SL_PROTO_HEADER_SIZE);
		assert_int_equal(decode_exact(full, len, &d), 0);
		for (n = 0; n < len; n++) {
			/* As received: the header still claims the full length. */
			ret = decode_exact(full, n, &d);
			if (n < SL_PROTO_HEADER_SIZE)
				assert_int_equal(ret, SL_PROTO_E_SHORT);
			else
				assert_int_equal(ret, SL_PROTO_E_LENGTH);

			/* Re-sealed with a matching length and CRC, so the body parser sees it. */
			if (n < SL_PROTO_HEADER_SIZE)
				continue;
			memcpy(cut, full, n);
			reseal(cut, n);
			ret = decode_exact(cut, n, &d);
			if (type == SL_PROTO_DATA && n >= 32) {
				/* A shorter payload is still a valid DATA. */
				assert_int_equal(ret, 0);
				assert_int_equal(d.data.len, n - 32);
			} else if (type == SL_PROTO_WELCOME && n == 44) {
				/* Without its auth a WELCOME is still well formed. */
				assert_int_equal(ret, 0);
				assert_false(d.welcome.has_auth);
			} else if (type == SL_PROTO_HELLO || type == SL_PROTO_CONNECT) {
				assert_int_equal(ret, SL_PROTO_E_PADDING);
			} else {
				if (ret != SL_PROTO_E_BODY)
					fail_msg("type %u cut at %d: %d", type, n, ret);
			}
		}
		/* Trailing garbage is refused, except zero padding of HELLO and CONNECT. */
		if (type == SL_PROTO_DATA)
			continue;
		memcpy(cut, full, len);
		cut[len] = 0;
		reseal(cut, len + 1);
		ret = decode_exact(cut, len + 1, &d);
		if (type == SL_PROTO_HELLO || type == SL_PROTO_CONNECT)
			assert_int_equal(ret, 0);
		else
			assert_int_equal(ret, SL_PROTO_E_BODY);
	}
}

static void
test_decode_errors(void **state)
{
	uint8_t full[MTU_PAYLOAD], buf[MTU_PAYLOAD];
	struct sl_proto_msg d;
	uint8_t type;
	int len, i;

	for (type = SL_PROTO_HELLO; type <= SL_PROTO_REJECT; type++) {
		len = sample(type, full, sizeof(full));

		/* Flipping any byte not checked before the CRC is a CRC error. */
		for (i = 3; i < len; i++) {
			if (i == 6 || i == 7)
				continue;
			memcpy(buf, full, len);
			buf[i] ^= 0x01;
			if (decode_exact(buf, len, &d) != SL_PROTO_E_CRC)
				fail_msg("type %u byte %d flipped: not a CRC error", type, i);
		}
		memcpy(buf, full, len);
		buf[0] = 'X';
		assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_MAGIC);
		memcpy(buf, full, len);
		buf[1] = 'l';
		assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_MAGIC);
		memcpy(buf, full, len);
		buf[2] = 2;
		reseal(buf, len);
		assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_VERSION);
		memcpy(buf, full, len);
		buf[7] ^= 0x01;
		assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_LENGTH);
		memcpy(buf, full, len);
		buf[len] = 0;
		assert_int_equal(decode_exact(buf, len + 1, &d), SL_PROTO_E_LENGTH);
		/* The CRC itself. */
		memcpy(buf, full, len);
		buf[19] ^= 0x80;
		assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_CRC);

		/* The session rule. */
		memcpy(buf, full, len);
		if (type == SL_PROTO_HELLO || type == SL_PROTO_COOKIE || type == SL_PROTO_CONNECT)
			buf[15] = 1;
		else
			memset(buf + 8, 0, 8);
		reseal(buf, len);
		assert_int_equal(decode_exact(buf, len, &d),
				 type == SL_PROTO_REJECT ? 0 : SL_PROTO_E_SESSION);
	}

	/* Unknown types. */
	len = sample(SL_PROTO_BYE, full, sizeof(full));
	for (i = 0; i < 256; i++) {
		if (i >= SL_PROTO_HELLO && i <= SL_PROTO_REJECT)
			continue;
		memcpy(buf, full, len);
		buf[3] = (uint8_t)i;
		reseal(buf, len);
		assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_TYPE);
	}
	/* Unknown flag bits are ignored. */
	memcpy(buf, full, len);
	buf[4] = 0x80;
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), 0);
	assert_int_equal(d.flags, 0x8000);

	/* A HELLO one byte short of the padding, and one with a nonzero padding byte. */
	len = sample(SL_PROTO_HELLO, full, sizeof(full));
	assert_int_equal(len, 256);
	memcpy(buf, full, len);
	reseal(buf, 255);
	assert_int_equal(decode_exact(buf, 255, &d), SL_PROTO_E_PADDING);
	memcpy(buf, full, len);
	buf[255] = 1;
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_PADDING);
	/* A HELLO with a max_payload out of range. */
	memcpy(buf, full, len);
	buf[28] = 0x04; /* 0x04c0 = 1216 is fine */
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), 0);
	buf[28] = 0x02; /* 704 */
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_BODY);

	/* CONNECT: nonzero byte after the auth, and a psk_id_len over 64. */
	len = sample(SL_PROTO_CONNECT, full, sizeof(full));
	memcpy(buf, full, len);
	buf[20 + 35 + 6 + 32] = 1;
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_PADDING);
	memcpy(buf, full, len);
	buf[20 + 34] = 65;
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_BODY);
	memcpy(buf, full, len);
	buf[20 + 34] = 64;
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), 0); /* padding reads as psk_id and auth */
	assert_int_equal(d.connect.psk_id_len, 64);

	/* WELCOME: only 24- and 56-byte bodies. */
	len = sample(SL_PROTO_WELCOME, full, sizeof(full));
	assert_int_equal(len, 76);
	memcpy(buf, full, len);
	reseal(buf, 44);
	assert_int_equal(decode_exact(buf, 44, &d), 0);
	assert_false(d.welcome.has_auth);

	/* MANIFEST: counts that do not fit, a path_len over 4095. */
	len = sample(SL_PROTO_MANIFEST, full, sizeof(full));
	memcpy(buf, full, len);
	buf[20 + 60 + 2 + 8 + 5] = 4; /* count 3 -> 4 */
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_BODY);
	memcpy(buf, full, len);
	buf[20 + 60 + 2 + 8 + 5] = 2; /* count 3 -> 2: four trailing bytes */
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_BODY);
	memcpy(buf, full, len);
	buf[20 + 60] = 0xff; /* path_len 0xff08 */
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_BODY);
	memcpy(buf, full, len);
	buf[20 + 60] = 0x10; /* path_len 4104: over the limit even if it fit */
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_BODY);

	/* ACK: an nmissing pointing past the end, and a count one too high. */
	len = sample(SL_PROTO_ACK, full, sizeof(full));
	memcpy(buf, full, len);
	buf[20 + 10 + 13] = 3;
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_BODY);
	memcpy(buf, full, len);
	buf[20 + 9] = 3;
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_BODY);
	memcpy(buf, full, len);
	buf[20 + 9] = 0xff;
	buf[20 + 8] = 0xff;
	reseal(buf, len);
	assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_BODY);

	/* The largest length field with a datagram that is shorter. */
	memcpy(buf, full, len);
	buf[6] = 0xff;
	buf[7] = 0xff;
	assert_int_equal(decode_exact(buf, len, &d), SL_PROTO_E_LENGTH);
}

static void
test_encode_errors(void **state)
{
	static char path[SL_PROTO_PATH_MAX + 1];
	char id[SL_PROTO_PSK_ID_MAX + 1];
	uint8_t buf[BIG + 100];
	struct sl_proto_msg m;
	uint8_t type;

	/* Too small a buffer: every truncated capacity fails, the exact one works. */
	for (type = SL_PROTO_HELLO; type <= SL_PROTO_REJECT; type++) {
		int len = sample(type, buf, sizeof(buf));
		size_t cap;

		assert_true(len > 0);
		for (cap = 0; cap < (size_t)len; cap++)
			assert_int_equal(sample(type, buf, cap), -EMSGSIZE);
		assert_int_equal(sample(type, buf, len), len);
	}
	/* No message exceeds 9000 bytes, whatever the buffer. */
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_DATA;
	m.session = 1;
	m.data.payload = buf;
	m.data.len = BIG - 32 + 1;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EMSGSIZE);
	m.data.payload = NULL;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);

	/* Sessions. */
	m.data.len = 0;
	m.session = 0;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_HELLO;
	m.hello.max_payload = 1472;
	m.session = 1;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.session = 0;
	m.hello.max_payload = 1199;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.hello.max_payload = 9001;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.hello.max_payload = 1200;
	assert_int_equal(sl_proto_encode(&m, buf, 255), -EMSGSIZE);
	m.type = 0;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.type = 12;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_CONNECT;
	m.connect.max_payload = 1472;
	memset(id, 'i', sizeof(id));
	m.connect.psk_id = id;
	m.connect.psk_id_len = SL_PROTO_PSK_ID_MAX + 1;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.connect.psk_id_len = 1;
	m.connect.psk_id = NULL;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_MANIFEST;
	m.session = 1;
	memset(path, 'a', sizeof(path));
	m.manifest.path = path;
	m.manifest.path_len = SL_PROTO_PATH_MAX + 1;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.manifest.path_len = SL_PROTO_PATH_MAX;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), 20 + 68 + 4095);
	m.manifest.count = 1;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);

	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_ACK;
	m.session = 1;
	m.ack.count = 1;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);
	struct sl_proto_ack_entry e = { .nmissing = 1 };
	m.ack.entries = &e;
	assert_int_equal(sl_proto_encode(&m, buf, sizeof(buf)), -EINVAL);
}

static void
test_chunks(void **state)
{
	const uint32_t c = 65536;

	/* Inside one chunk, up to its last byte. */
	assert_true(sl_proto_data_in_chunk(0, c, c, 3 * c));
	assert_true(sl_proto_data_in_chunk(c, c, c, 3 * c));
	assert_true(sl_proto_data_in_chunk(c - 1, 1, c, 3 * c));
	assert_true(sl_proto_data_in_chunk(2 * c + 100, 1400, c, 3 * c));
	/* Crossing a boundary by one byte. */
	assert_false(sl_proto_data_in_chunk(c - 1, 2, c, 3 * c));
	assert_false(sl_proto_data_in_chunk(0, c + 1, c, 3 * c));
	assert_false(sl_proto_data_in_chunk(c - 1400 + 1, 1400, c, 3 * c));
	assert_true(sl_proto_data_in_chunk(c - 1400, 1400, c, 3 * c));
	/* The short last chunk and the file's end. */
	assert_true(sl_proto_data_in_chunk(c, 10, c, c + 10));
	assert_false(sl_proto_data_in_chunk(c, 11, c, c + 10));
	assert_false(sl_proto_data_in_chunk(c + 10, 1, c, c + 10));
	assert_true(sl_proto_data_in_chunk(c + 10, 0, c, c + 10));
	assert_false(sl_proto_data_in_chunk(c + 11, 0, c, c + 10));
	assert_false(sl_proto_data_in_chunk(0, 1, c, 0));
	assert_true(sl_proto_data_in_chunk(0, 0, c, 0));
	/* No overflow near 2^64. */
	assert_false(sl_proto_data_in_chunk(UINT64_MAX, 2, c, UINT64_MAX));
	assert_false(sl_proto_data_in_chunk(UINT64_MAX - 1, UINT32_MAX, c, UINT64_MAX));
	assert_true(sl_proto_data_in_chunk(UINT64_MAX - 1, 1, c, UINT64_MAX));
	assert_false(sl_proto_data_in_chunk(0, 1, 0, 10));

	assert_int_equal(sl_proto_chunk_count(0, c), 0);
	assert_int_equal(sl_proto_chunk_count(1, c), 1);
	assert_int_equal(sl_proto_chunk_count(c, c), 1);
	assert_int_equal(sl_proto_chunk_count(c + 1, c), 2);
	assert_int_equal(sl_proto_chunk_count(10, 0), 0);
	assert_int_equal(sl_proto_chunk_count((uint64_t)UINT32_MAX * c, c), UINT32_MAX);
	assert_int_equal(sl_proto_chunk_count(UINT64_MAX, c), UINT32_MAX);

	assert_true(sl_proto_chunk_size_valid(65536, 65536));
	assert_true(sl_proto_chunk_size_valid(65536 + 4096, 1 << 20));
	assert_false(sl_proto_chunk_size_valid(65536 - 4096, 1 << 20));
	assert_false(sl_proto_chunk_size_valid(65536 + 1, 1 << 20));
	assert_false(sl_proto_chunk_size_valid(1 << 21, 1 << 20));
	assert_false(sl_proto_chunk_size_valid(0, 1 << 20));
}

static void
test_error_names(void **state)
{
	assert_string_equal(sl_proto_error_name(0), "ok");
	assert_string_equal(sl_proto_error_name(SL_PROTO_E_SHORT), "short");
	assert_string_equal(sl_proto_error_name(SL_PROTO_E_MAGIC), "magic");
	assert_string_equal(sl_proto_error_name(SL_PROTO_E_VERSION), "version");
	assert_string_equal(sl_proto_error_name(SL_PROTO_E_LENGTH), "length");
	assert_string_equal(sl_proto_error_name(SL_PROTO_E_CRC), "crc");
	assert_string_equal(sl_proto_error_name(SL_PROTO_E_TYPE), "type");
	assert_string_equal(sl_proto_error_name(SL_PROTO_E_SESSION), "session");
	assert_string_equal(sl_proto_error_name(SL_PROTO_E_BODY), "body");
	assert_string_equal(sl_proto_error_name(SL_PROTO_E_PADDING), "padding");
	assert_string_equal(sl_proto_error_name(-SL_PROTO_ERROR_COUNT), "unknown");
	assert_string_equal(sl_proto_error_name(1), "unknown");
	assert_int_equal(sl_proto_error_index(SL_PROTO_E_PADDING), 9);
	assert_int_equal(sl_proto_error_index(0), 0);
	assert_int_equal(sl_proto_error_index(-100), 0);
}

/* Datagrams sit at any offset in an mbuf: every start alignment gives the same CRC. */
static void
test_crc32c_unaligned(void **state)
{
	uint64_t aligned[9];
	uint8_t *ref = (uint8_t *)aligned, buf[64 + 8];

	for (unsigned i = 0; i < 64; i++)
		ref[i] = (uint8_t)(i * 7 + 1);
	for (unsigned off = 0; off < 8; off++) {
		memcpy(buf + off, "123456789", 9);
		assert_int_equal(sl_proto_crc32c(buf + off, 9), 0xe3069283);
		memcpy(buf + off, ref, 64);
		for (unsigned n = 0; n <= 64; n++)
			assert_int_equal(sl_proto_crc32c(buf + off, n), sl_proto_crc32c(ref, n));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_unaligned),
		cmocka_unit_test(test_crc_vectors),
		cmocka_unit_test(test_golden_hello),
		cmocka_unit_test(test_golden_data),
		cmocka_unit_test(test_round_trip_handshake),
		cmocka_unit_test(test_round_trip_manifest),
		cmocka_unit_test(test_round_trip_status_data_ack),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_chunks),
		cmocka_unit_test(test_error_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
