/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <rte_mbuf.h>

#include "sl_pcap.h"

#define TS_BASE 1700000000123456789ull

/* Filler bytes that differ per packet and per position, so a misplaced or missing segment
 * shows up as a mismatch. */
static void
fill(uint8_t *d, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		d[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 8) + 1);
}

static struct rte_mbuf *
mbuf_segment(const uint8_t *data, uint16_t len)
{
	size_t size = RTE_ALIGN_CEIL(sizeof(struct rte_mbuf) + RTE_PKTMBUF_HEADROOM + len + 64,
				     RTE_CACHE_LINE_SIZE);
	struct rte_mbuf *m = aligned_alloc(RTE_CACHE_LINE_SIZE, size);

	assert_non_null(m);
	/* Garbage in the headroom and tailroom catches a copy from the wrong offset. */
	memset(m, 0xee, size);
	memset(m, 0, sizeof(*m));
	m->buf_addr = (uint8_t *)m + sizeof(*m);
	m->buf_len = (uint16_t)(size - sizeof(*m));
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->data_len = len;
	m->pkt_len = len;
	m->nb_segs = 1;
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), data, len);
	return m;
}

/* Builds a chain of @p nb_segs segments holding @p data, the last one taking the remainder. */
static struct rte_mbuf *
mbuf_chain(const uint8_t *data, uint32_t len, unsigned nb_segs)
{
	struct rte_mbuf *head = NULL, *prev = NULL;
	uint32_t off = 0;
	unsigned i;

	for (i = 0; i < nb_segs; i++) {
		uint32_t n = i + 1 < nb_segs ? len / nb_segs : len - off;
		struct rte_mbuf *m = mbuf_segment(data + off, (uint16_t)n);

		if (prev != NULL)
			prev->next = m;
		else
			head = m;
		prev = m;
		off += n;
	}
	head->pkt_len = len;
	head->nb_segs = (uint16_t)nb_segs;
	return head;
}

static void
mbuf_chain_free(struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		free(m);
		m = next;
	}
}

/* A growable byte buffer with a chosen byte order, to hand-craft files the serializer does
 * not produce (other byte order, other resolutions, other block types, corruptions). */
struct blob {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool big_endian;
};

static void
b_put(struct blob *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (n > 0)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void
b_u8(struct blob *b, uint8_t v)
{
	b_put(b, &v, 1);
}

static void
b_u16(struct blob *b, uint16_t v)
{
	uint8_t x[2];

	if (b->big_endian) {
		x[0] = (uint8_t)(v >> 8);
		x[1] = (uint8_t)v;
	} else {
		x[0] = (uint8_t)v;
		x[1] = (uint8_t)(v >> 8);
	}
	b_put(b, x, 2);
}

static void
b_u32(struct blob *b, uint32_t v)
{
	if (b->big_endian) {
		b_u16(b, (uint16_t)(v >> 16));
		b_u16(b, (uint16_t)v);
	} else {
		b_u16(b, (uint16_t)v);
		b_u16(b, (uint16_t)(v >> 16));
	}
}

static void
b_set32(struct blob *b, size_t off, uint32_t v)
{
	size_t len = b->len;

	b->len = off;
	b_u32(b, v);
	b->len = len;
}

static void
b_pad4(struct blob *b)
{
	while (b->len % 4 != 0)
		b_u8(b, 0);
}

static size_t
b_block_begin(struct blob *b, uint32_t type)
{
	size_t start = b->len;

	b_u32(b, type);
	b_u32(b, 0);
	return start;
}

static void
b_block_end(struct blob *b, size_t start)
{
	uint32_t len;

	b_pad4(b);
	len = (uint32_t)(b->len - start + 4);
	b_u32(b, len);
	b_set32(b, start + 4, len);
}

static void
b_shb(struct blob *b)
{
	size_t s = b_block_begin(b, 0x0a0d0d0a);

	b_u32(b, 0x1a2b3c4d);
	b_u16(b, 1);
	b_u16(b, 0);
	b_u32(b, 0xffffffff);
	b_u32(b, 0xffffffff);
	b_block_end(b, s);
}

/* An IDB with an if_tsresol option unless @p tsresol is negative. */
static void
b_idb(struct blob *b, uint32_t snaplen, int tsresol)
{
	size_t s = b_block_begin(b, 1);

	b_u16(b, 1);
	b_u16(b, 0);
	b_u32(b, snaplen);
	if (tsresol >= 0) {
		b_u16(b, 9);
		b_u16(b, 1);
		b_u8(b, (uint8_t)tsresol);
		b_pad4(b);
		b_u32(b, 0);
	}
	b_block_end(b, s);
}

static void
b_epb(struct blob *b, uint32_t iface, uint64_t ts, const uint8_t *data, uint32_t caplen,
      uint32_t len)
{
	size_t s = b_block_begin(b, 6);

	b_u32(b, iface);
	b_u32(b, (uint32_t)(ts >> 32));
	b_u32(b, (uint32_t)ts);
	b_u32(b, caplen);
	b_u32(b, len);
	b_put(b, data, caplen);
	b_block_end(b, s);
}

static void
b_pcap_header(struct blob *b, uint32_t magic, uint32_t snaplen)
{
	b_u32(b, magic);
	b_u16(b, 2);
	b_u16(b, 4);
	b_u32(b, 0);
	b_u32(b, 0);
	b_u32(b, snaplen);
	b_u32(b, 1);
}

static void
b_pcap_record(struct blob *b, uint32_t sec, uint32_t frac, const uint8_t *data, uint32_t caplen,
	      uint32_t len)
{
	b_u32(b, sec);
	b_u32(b, frac);
	b_u32(b, caplen);
	b_u32(b, len);
	b_put(b, data, caplen);
}

/* Reads the whole image and returns the status of the last call with the packet count. */
static int
read_all(const void *data, size_t size, struct sl_pcap_reader *r, uint64_t *count)
{
	struct sl_pcap_packet pkt;
	int rc;

	*count = 0;
	rc = sl_pcap_reader_open(r, data, size);
	if (rc < 0)
		return rc;
	while ((rc = sl_pcap_reader_next(r, &pkt)) == 1)
		(*count)++;
	return rc;
}

static void
test_pcap_header_bytes(void **state)
{
	static const uint8_t expected[24] = {
		0x4d, 0x3c, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	};
	struct sl_pcap_iface iface = { .name = "ignored", .snaplen = 65535 };
	uint8_t buf[64];

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(sl_pcap_header_size(SL_PCAP_FORMAT_PCAP, &iface, 1), 24);
	assert_int_equal(sl_pcap_header_write(SL_PCAP_FORMAT_PCAP, buf, &iface, 1), 24);
	assert_memory_equal(buf, expected, sizeof(expected));
	assert_int_equal(buf[24], 0xaa);
}

static void
test_pcapng_header_bytes(void **state)
{
	static const uint8_t shb[44] = {
		0x0a, 0x0d, 0x0d, 0x0a, 0x2c, 0x00, 0x00, 0x00, 0x4d, 0x3c, 0x2b,
		0x1a, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0x04, 0x00, 0x06, 0x00, 's',  'l',  'u',  'i',  'c',
		'e',  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00,
	};
	static const uint8_t idb_named[48] = {
		0x01, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
		0xea, 0x05, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 'e',  't',  'h',  '0',
		0x03, 0x00, 0x01, 0x00, 'x',  0x00, 0x00, 0x00, 0x09, 0x00, 0x01, 0x00,
		0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00,
	};
	static const uint8_t idb_bare[32] = {
		0x01, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x04, 0x00, 0x09, 0x00, 0x01, 0x00, 0x09, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00,
	};
	const struct sl_pcap_iface ifaces[] = {
		{ .name = "eth0", .description = "x", .snaplen = 1514 },
		{ .name = "", .description = NULL, .snaplen = 262144 },
	};
	uint8_t buf[256];

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(sl_pcap_header_size(SL_PCAP_FORMAT_PCAPNG, ifaces, 0), 44);
	assert_int_equal(sl_pcap_header_size(SL_PCAP_FORMAT_PCAPNG, ifaces, 1), 44 + 48);
	assert_int_equal(sl_pcap_header_size(SL_PCAP_FORMAT_PCAPNG, ifaces, 2), 44 + 48 + 32);
	assert_int_equal(sl_pcap_header_write(SL_PCAP_FORMAT_PCAPNG, buf, ifaces, 2), 124);
	assert_memory_equal(buf, shb, sizeof(shb));
	assert_memory_equal(buf + 44, idb_named, sizeof(idb_named));
	assert_memory_equal(buf + 92, idb_bare, sizeof(idb_bare));
	assert_int_equal(buf[124], 0xaa);
}

static void
test_record_sizes(void **state)
{
	static const uint32_t caplens[] = { 0, 1, 2, 3, 4, 5, 60, 61, 1514, 9018 };
	static uint8_t data[9018];
	static uint8_t buf[9018 + 64];
	unsigned i;

	for (i = 0; i < RTE_DIM(caplens); i++) {
		uint32_t c = caplens[i];
		size_t ng = 32 + (c + 3) / 4 * 4;

		assert_int_equal(sl_pcap_record_size(SL_PCAP_FORMAT_PCAP, c), 16 + c);
		assert_int_equal(sl_pcap_record_size(SL_PCAP_FORMAT_PCAPNG, c), ng);
		assert_int_equal(
			sl_pcap_record_write_flat(SL_PCAP_FORMAT_PCAP, buf, 0, 0, data, c, c),
			16 + c);
		assert_int_equal(
			sl_pcap_record_write_flat(SL_PCAP_FORMAT_PCAPNG, buf, 0, 0, data, c, c),
			ng);
	}
	assert_int_equal(sl_pcap_record_size(SL_PCAP_FORMAT_PCAPNG, 0), 32);
	assert_int_equal(sl_pcap_record_size(SL_PCAP_FORMAT_PCAPNG, 61), 96);
}

static void
test_pcap_record_bytes(void **state)
{
	static const uint8_t expected[] = {
		0x00, 0xf1, 0x53, 0x65, 0x15, 0xcd, 0x5b, 0x07, 0x03, 0x00,
		0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0xaa, 0xbb, 0xcc,
	};
	static const uint8_t data[] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	struct rte_mbuf *m = mbuf_chain(data, sizeof(data), 1);
	uint8_t buf[64];

	memset(buf, 0x55, sizeof(buf));
	assert_int_equal(sl_pcap_record_write(SL_PCAP_FORMAT_PCAP, buf, TS_BASE, 7, m, 3), 19);
	assert_memory_equal(buf, expected, sizeof(expected));
	assert_int_equal(buf[19], 0x55);
	mbuf_chain_free(m);
}

static void
test_pcapng_epb_bytes(void **state)
{
	static const uint8_t expected[40] = {
		0x06, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x78, 0x56,
		0x34, 0x12, 0xf0, 0xde, 0xbc, 0x9a, 0x05, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00,
	};
	static const uint8_t data[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct rte_mbuf *m = mbuf_chain(data, sizeof(data), 3);
	uint8_t buf[64];

	/* Padding must come out zero whatever the buffer held before. */
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(
		sl_pcap_record_write(SL_PCAP_FORMAT_PCAPNG, buf, 0x123456789abcdef0ull, 2, m, 5),
		40);
	assert_memory_equal(buf, expected, sizeof(expected));
	assert_int_equal(buf[40], 0xaa);

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(sl_pcap_record_write_flat(SL_PCAP_FORMAT_PCAPNG, buf,
						   0x123456789abcdef0ull, 2, data, 5, 9),
			 40);
	assert_memory_equal(buf, expected, sizeof(expected));
	mbuf_chain_free(m);
}

struct pkt_spec {
	uint32_t len;
	uint32_t caplen;
	uint32_t iface;
	unsigned nb_segs; /* 0: written with sl_pcap_record_write_flat(). */
	uint64_t ts_ns;
};

/* Serializes @p specs with the given interfaces, reads the image back and checks every
 * field and byte, then checks that the serializer's sizes add up. */
static void
round_trip(enum sl_pcap_format fmt, const struct sl_pcap_iface *ifaces, unsigned nb_ifaces,
	   const struct pkt_spec *specs, unsigned nb_specs)
{
	size_t size = sl_pcap_header_size(fmt, ifaces, nb_ifaces);
	struct sl_pcap_reader r;
	struct sl_pcap_packet pkt;
	uint8_t *file, *data;
	size_t off;
	unsigned i;

	for (i = 0; i < nb_specs; i++)
		size += sl_pcap_record_size(fmt, specs[i].caplen);
	file = malloc(size);
	data = malloc(65536);
	assert_non_null(file);
	assert_non_null(data);
	memset(file, 0xaa, size);

	off = sl_pcap_header_write(fmt, file, ifaces, nb_ifaces);
	assert_int_equal(off, sl_pcap_header_size(fmt, ifaces, nb_ifaces));
	for (i = 0; i < nb_specs; i++) {
		const struct pkt_spec *s = &specs[i];
		size_t n;

		fill(data, s->len, i);
		if (s->nb_segs == 0) {
			n = sl_pcap_record_write_flat(fmt, file + off, s->ts_ns, s->iface, data,
						      s->caplen, s->len);
		} else {
			struct rte_mbuf *m = mbuf_chain(data, s->len, s->nb_segs);

			n = sl_pcap_record_write(fmt, file + off, s->ts_ns, s->iface, m, s->caplen);
			mbuf_chain_free(m);
		}
		assert_int_equal(n, sl_pcap_record_size(fmt, s->caplen));
		if (fmt == SL_PCAP_FORMAT_PCAPNG) {
			size_t pad;

			for (pad = s->caplen; pad % 4 != 0; pad++)
				assert_int_equal(file[off + 28 + pad], 0);
		}
		off += n;
	}
	assert_int_equal(off, size);

	assert_int_equal(sl_pcap_reader_open(&r, file, size), 0);
	assert_int_equal(r.format, fmt);
	assert_int_equal(r.swapped, 0);
	for (i = 0; i < nb_specs; i++) {
		const struct pkt_spec *s = &specs[i];

		assert_int_equal(sl_pcap_reader_next(&r, &pkt), 1);
		fill(data, s->len, i);
		assert_int_equal(pkt.len, s->len);
		assert_int_equal(pkt.caplen, s->caplen);
		assert_int_equal(pkt.iface, fmt == SL_PCAP_FORMAT_PCAP ? 0 : s->iface);
		assert_int_equal(pkt.ts_ns, s->ts_ns);
		assert_memory_equal(pkt.data, data, s->caplen);
		assert_int_equal(r.good_end, r.offset);
	}
	assert_int_equal(sl_pcap_reader_next(&r, &pkt), 0);
	assert_int_equal(sl_pcap_reader_next(&r, &pkt), 0);
	assert_int_equal(r.packets, nb_specs);
	assert_int_equal(r.good_end, size);
	assert_int_equal(r.nb_ifaces, fmt == SL_PCAP_FORMAT_PCAP ? 1 : nb_ifaces);
	assert_string_equal(r.error, "");
	free(data);
	free(file);
}

static const struct pkt_spec basic_specs[] = {
	{ .len = 60, .caplen = 60, .nb_segs = 1, .ts_ns = TS_BASE },
	{ .len = 0, .caplen = 0, .nb_segs = 1, .ts_ns = TS_BASE + 1 },
	{ .len = 61, .caplen = 61, .nb_segs = 0, .ts_ns = TS_BASE + 999999999 },
	{ .len = 1514, .caplen = 1514, .nb_segs = 1, .ts_ns = 0 },
	/* Three segments, caplen ending inside the second one. */
	{ .len = 3000, .caplen = 1700, .nb_segs = 3, .ts_ns = TS_BASE + 2 },
	/* caplen ending exactly at a segment boundary. */
	{ .len = 3000, .caplen = 1000, .nb_segs = 3, .ts_ns = TS_BASE + 3 },
	{ .len = 9018, .caplen = 9018, .nb_segs = 3, .ts_ns = 4294967295999999999ull },
	{ .len = 63, .caplen = 62, .nb_segs = 2, .ts_ns = TS_BASE + 4 },
	{ .len = 1, .caplen = 1, .nb_segs = 1, .ts_ns = TS_BASE + 5 },
	{ .len = 1514, .caplen = 0, .nb_segs = 3, .ts_ns = TS_BASE + 6 },
};

static void
test_round_trip_pcap(void **state)
{
	struct sl_pcap_iface iface = { .snaplen = SL_PCAP_MAX_SNAPLEN };

	round_trip(SL_PCAP_FORMAT_PCAP, &iface, 1, basic_specs, RTE_DIM(basic_specs));
}

static void
test_round_trip_pcapng(void **state)
{
	struct sl_pcap_iface iface = { .name = "0000:01:00.0", .snaplen = SL_PCAP_MAX_SNAPLEN };

	round_trip(SL_PCAP_FORMAT_PCAPNG, &iface, 1, basic_specs, RTE_DIM(basic_specs));
}

static void
test_round_trip_snaplen(void **state)
{
	static const struct pkt_spec specs[] = {
		{ .len = 1514, .caplen = 128, .nb_segs = 1, .ts_ns = TS_BASE },
		{ .len = 9018, .caplen = 128, .nb_segs = 3, .ts_ns = TS_BASE + 1000 },
		{ .len = 100, .caplen = 100, .nb_segs = 2, .ts_ns = TS_BASE + 2000 },
		{ .len = 129, .caplen = 128, .nb_segs = 0, .ts_ns = TS_BASE + 3000 },
	};
	struct sl_pcap_iface iface = { .snaplen = 128 };
	uint8_t hdr[24];
	struct sl_pcap_reader r;

	round_trip(SL_PCAP_FORMAT_PCAP, &iface, 1, specs, RTE_DIM(specs));
	round_trip(SL_PCAP_FORMAT_PCAPNG, &iface, 1, specs, RTE_DIM(specs));
	sl_pcap_header_write(SL_PCAP_FORMAT_PCAP, hdr, &iface, 1);
	assert_int_equal(sl_pcap_reader_open(&r, hdr, sizeof(hdr)), 0);
	assert_int_equal(r.snaplen, 128);
}

static void
test_round_trip_multi_iface(void **state)
{
	static const struct pkt_spec specs[] = {
		{ .len = 1514, .caplen = 1514, .iface = 0, .nb_segs = 1, .ts_ns = TS_BASE },
		{ .len = 1514, .caplen = 96, .iface = 1, .nb_segs = 2, .ts_ns = TS_BASE + 1 },
		{ .len = 9018, .caplen = 9018, .iface = 2, .nb_segs = 3, .ts_ns = TS_BASE + 2 },
		{ .len = 70, .caplen = 70, .iface = 3, .nb_segs = 0, .ts_ns = TS_BASE + 3 },
		{ .len = 60, .caplen = 60, .iface = 1, .nb_segs = 1, .ts_ns = TS_BASE + 4 },
	};
	static const struct sl_pcap_iface ifaces[] = {
		{ .name = "port0", .description = "rx queue 0", .snaplen = SL_PCAP_MAX_SNAPLEN },
		{ .name = NULL, .description = NULL, .snaplen = 96 },
		{ .name = "p2", .description = NULL, .snaplen = 0 },
		{ .name = NULL, .description = "only a description", .snaplen = 65535 },
	};

	round_trip(SL_PCAP_FORMAT_PCAPNG, ifaces, RTE_DIM(ifaces), specs, RTE_DIM(specs));
}

/* Writes a small valid file and returns its size and the end of each record or block. */
static size_t
small_file(enum sl_pcap_format fmt, uint8_t *buf, size_t *ends, unsigned *nb_ends)
{
	static const struct sl_pcap_iface ifaces[] = {
		{ .name = "a", .snaplen = 1514 },
		{ .name = "b", .snaplen = 64 },
	};
	uint8_t data[1514];
	size_t off;
	unsigned i, n = 0;

	fill(data, sizeof(data), 3);
	off = sl_pcap_header_write(fmt, buf, ifaces, RTE_DIM(ifaces));
	if (fmt == SL_PCAP_FORMAT_PCAPNG) {
		size_t shb = sl_pcap_header_size(fmt, ifaces, 0);
		size_t end = shb;

		ends[n++] = shb;
		for (i = 0; i < RTE_DIM(ifaces); i++) {
			end += sl_pcap_header_size(fmt, &ifaces[i], 1) - shb;
			ends[n++] = end;
		}
		assert_int_equal(end, off);
	} else {
		ends[n++] = off;
	}
	for (i = 0; i < 4; i++) {
		off += sl_pcap_record_write_flat(fmt, buf + off, TS_BASE + i, i % 2, data,
						 i == 1 ? 64 : 61 + i, 1514);
		ends[n++] = off;
	}
	*nb_ends = n;
	return off;
}

static void
test_truncation_at_every_length(void **state)
{
	static const enum sl_pcap_format fmts[] = { SL_PCAP_FORMAT_PCAP, SL_PCAP_FORMAT_PCAPNG };
	uint8_t buf[4096];
	size_t ends[16];
	unsigned f, nb_ends;

	for (f = 0; f < RTE_DIM(fmts); f++) {
		size_t size = small_file(fmts[f], buf, ends, &nb_ends);
		size_t len;

		for (len = 0; len <= size; len++) {
			/* An exact-size copy, so an overread is caught by ASan/valgrind. */
			uint8_t *copy = malloc(len ? len : 1);
			struct sl_pcap_reader r;
			size_t last = 0;
			uint64_t count;
			unsigned i, nb_packets = 0;
			bool at_end = false;
			int rc;

			memcpy(copy, buf, len);
			for (i = 0; i < nb_ends && ends[i] <= len; i++) {
				last = ends[i];
				at_end = ends[i] == len;
			}
			for (i = 0; i < nb_ends; i++)
				if (ends[i] <= len && i >= nb_ends - 4)
					nb_packets++;
			rc = read_all(copy, len, &r, &count);
			if (at_end) {
				assert_int_equal(rc, 0);
				assert_int_equal(r.good_end, len);
			} else {
				assert_int_equal(rc, -EBADMSG);
				assert_int_equal(r.good_end, last);
				assert_true(r.error[0] != '\0');
			}
			assert_int_equal(count, nb_packets);
			free(copy);
		}
	}
}

static void
test_reject_bad_magic(void **state)
{
	uint8_t buf[64] = { 0x01, 0x02, 0x03, 0x04 };
	struct sl_pcap_reader r;
	struct sl_pcap_packet pkt;

	assert_int_equal(sl_pcap_reader_open(&r, buf, sizeof(buf)), -EBADMSG);
	assert_non_null(strstr(r.error, "magic"));
	assert_int_equal(r.good_end, 0);
	/* A failed open stays failed. */
	assert_int_equal(sl_pcap_reader_next(&r, &pkt), -EBADMSG);

	assert_int_equal(sl_pcap_reader_open(&r, buf, 0), -EBADMSG);
	assert_int_equal(sl_pcap_reader_open(&r, NULL, 0), -EBADMSG);
	assert_int_equal(sl_pcap_reader_open(&r, buf, 3), -EBADMSG);

	/* pcapng SHB with a bad byte-order magic. */
	memcpy(buf, "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x11\x22\x33\x44", 12);
	assert_int_equal(sl_pcap_reader_open(&r, buf, 28), -EBADMSG);
	assert_non_null(strstr(r.error, "byte-order"));
}

static void
test_reject_pcap_records(void **state)
{
	uint8_t data[100];
	struct blob b = { 0 };
	struct sl_pcap_reader r;
	struct sl_pcap_packet pkt;
	uint64_t count;

	fill(data, sizeof(data), 1);

	/* caplen > len. */
	b_pcap_header(&b, 0xa1b23c4d, 65535);
	b_pcap_record(&b, 1, 2, data, 60, 60);
	b_pcap_record(&b, 1, 3, data, 61, 60);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(count, 1);
	assert_int_equal(r.good_end, 24 + 76);
	assert_int_equal(r.offset, 24 + 76);
	assert_non_null(strstr(r.error, "original length"));
	/* Errors are sticky. */
	assert_int_equal(sl_pcap_reader_next(&r, &pkt), -EBADMSG);

	/* caplen > snaplen. */
	b.len = 0;
	b_pcap_header(&b, 0xa1b23c4d, 64);
	b_pcap_record(&b, 1, 2, data, 64, 100);
	b_pcap_record(&b, 1, 2, data, 65, 100);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(count, 1);
	assert_int_equal(r.good_end, 24 + 80);
	assert_non_null(strstr(r.error, "snaplen"));

	/* snaplen 0 means no limit. */
	b.len = 0;
	b_pcap_header(&b, 0xa1b23c4d, 0);
	b_pcap_record(&b, 1, 2, data, 100, 100);
	assert_int_equal(read_all(b.p, b.len, &r, &count), 0);
	assert_int_equal(count, 1);

	/* Truncated data and truncated record header. */
	b.len = 0;
	b_pcap_header(&b, 0xa1b23c4d, 65535);
	b_pcap_record(&b, 1, 2, data, 60, 60);
	b_pcap_record(&b, 1, 2, data, 60, 60);
	assert_int_equal(read_all(b.p, b.len - 1, &r, &count), -EBADMSG);
	assert_int_equal(count, 1);
	assert_int_equal(r.good_end, 24 + 76);
	assert_int_equal(read_all(b.p, 24 + 76 + 10, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, 24 + 76);
	assert_non_null(strstr(r.error, "header truncated"));

	/* A huge caplen must not wrap any bounds check. */
	b.len = 0;
	b_pcap_header(&b, 0xa1b23c4d, 0);
	b_pcap_record(&b, 1, 2, data, 0, 0xffffffff);
	b_set32(&b, 24 + 8, 0xffffffff);
	b_put(&b, data, 16);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, 24);

	/* Bad version, truncated global header. */
	b.len = 0;
	b_pcap_header(&b, 0xa1b23c4d, 0);
	b_set32(&b, 4, 0x00040003);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_non_null(strstr(r.error, "version"));
	assert_int_equal(read_all(b.p, 23, &r, &count), -EBADMSG);
	free(b.p);
}

static void
test_accept_usec_and_big_endian_pcap(void **state)
{
	static const struct {
		uint32_t magic;
		bool big_endian;
		uint64_t frac_ns;
	} cases[] = {
		{ 0xa1b2c3d4, false, 1000 },
		{ 0xa1b2c3d4, true, 1000 },
		{ 0xa1b23c4d, true, 1 },
		{ 0xa1b23c4d, false, 1 },
	};
	uint8_t data[61];
	unsigned i;

	fill(data, sizeof(data), 9);
	for (i = 0; i < RTE_DIM(cases); i++) {
		struct blob b = { .big_endian = cases[i].big_endian };
		struct sl_pcap_reader r;
		struct sl_pcap_packet pkt;

		b_pcap_header(&b, cases[i].magic, 65535);
		b_pcap_record(&b, 1700000000, 999999, data, 61, 61);
		b_pcap_record(&b, 1700000001, 5, data, 10, 61);
		assert_int_equal(sl_pcap_reader_open(&r, b.p, b.len), 0);
		assert_int_equal(r.swapped, cases[i].big_endian);
		assert_int_equal(r.format, SL_PCAP_FORMAT_PCAP);
		assert_int_equal(r.snaplen, 65535);
		assert_int_equal(sl_pcap_reader_next(&r, &pkt), 1);
		assert_int_equal(pkt.ts_ns, 1700000000000000000ull + 999999 * cases[i].frac_ns);
		assert_int_equal(pkt.caplen, 61);
		assert_int_equal(pkt.len, 61);
		assert_memory_equal(pkt.data, data, 61);
		assert_int_equal(sl_pcap_reader_next(&r, &pkt), 1);
		assert_int_equal(pkt.ts_ns, 1700000001000000000ull + 5 * cases[i].frac_ns);
		assert_int_equal(pkt.caplen, 10);
		assert_int_equal(pkt.len, 61);
		assert_int_equal(sl_pcap_reader_next(&r, &pkt), 0);
		free(b.p);
	}
}

static void
test_accept_big_endian_pcapng(void **state)
{
	struct blob b = { .big_endian = true };
	struct sl_pcap_reader r;
	struct sl_pcap_packet pkt;
	uint8_t data[70];
	size_t s;

	fill(data, sizeof(data), 5);
	b_shb(&b);
	/* No if_tsresol: microseconds. */
	b_idb(&b, 0, -1);
	/* Milliseconds, then 2^-10 s. */
	b_idb(&b, 65535, 3);
	b_idb(&b, 65535, 0x80 | 10);
	/* Interface statistics block and a custom block, both to be skipped. */
	s = b_block_begin(&b, 5);
	b_u32(&b, 0);
	b_u32(&b, 0);
	b_u32(&b, 0);
	b_u32(&b, 0);
	b_block_end(&b, s);
	s = b_block_begin(&b, 0x40000bad);
	b_u32(&b, 32473);
	b_put(&b, "abc", 3);
	b_block_end(&b, s);
	b_epb(&b, 0, 1700000000123456ull, data, 70, 70);
	b_epb(&b, 1, 1700000000123ull, data, 3, 70);
	b_epb(&b, 2, 3ull << 10 | 512, data, 0, 0);
	/* Simple packet block: caplen from the block, no timestamp, interface 0. */
	s = b_block_begin(&b, 3);
	b_u32(&b, 65);
	b_put(&b, data, 65);
	b_block_end(&b, s);

	assert_int_equal(sl_pcap_reader_open(&r, b.p, b.len), 0);
	assert_int_equal(r.swapped, 1);
	assert_int_equal(r.format, SL_PCAP_FORMAT_PCAPNG);
	assert_int_equal(sl_pcap_reader_next(&r, &pkt), 1);
	assert_int_equal(r.nb_ifaces, 3);
	assert_int_equal(pkt.ts_ns, 1700000000123456000ull);
	assert_int_equal(pkt.iface, 0);
	assert_int_equal(pkt.caplen, 70);
	assert_memory_equal(pkt.data, data, 70);
	assert_int_equal(sl_pcap_reader_next(&r, &pkt), 1);
	assert_int_equal(pkt.ts_ns, 1700000000123000000ull);
	assert_int_equal(pkt.iface, 1);
	assert_int_equal(pkt.caplen, 3);
	assert_int_equal(pkt.len, 70);
	assert_int_equal(sl_pcap_reader_next(&r, &pkt), 1);
	assert_int_equal(pkt.ts_ns, 3500000000ull);
	assert_int_equal(pkt.iface, 2);
	assert_int_equal(pkt.caplen, 0);
	assert_int_equal(sl_pcap_reader_next(&r, &pkt), 1);
	assert_int_equal(pkt.ts_ns, 0);
	assert_int_equal(pkt.iface, 0);
	assert_int_equal(pkt.caplen, 65);
	assert_int_equal(pkt.len, 65);
	assert_memory_equal(pkt.data, data, 65);
	assert_int_equal(sl_pcap_reader_next(&r, &pkt), 0);
	assert_int_equal(r.packets, 4);
	assert_int_equal(r.good_end, b.len);
	free(b.p);
}

/* A simple packet block holds min(original length, snaplen) bytes; a block holding fewer is
 * malformed. */
static void
test_simple_packet_block_snaplen(void **state)
{
	struct blob b = { 0 };
	struct sl_pcap_reader r;
	struct sl_pcap_packet pkt;
	uint8_t data[100];
	uint64_t count;
	size_t good, s;

	fill(data, sizeof(data), 4);
	b_shb(&b);
	b_idb(&b, 64, -1);
	s = b_block_begin(&b, 3);
	b_u32(&b, 100);
	b_put(&b, data, 64);
	b_block_end(&b, s);
	good = b.len;
	assert_int_equal(sl_pcap_reader_open(&r, b.p, b.len), 0);
	assert_int_equal(sl_pcap_reader_next(&r, &pkt), 1);
	assert_int_equal(pkt.caplen, 64);
	assert_int_equal(pkt.len, 100);
	assert_memory_equal(pkt.data, data, 64);
	assert_int_equal(sl_pcap_reader_next(&r, &pkt), 0);

	s = b_block_begin(&b, 3);
	b_u32(&b, 50);
	b_put(&b, data, 40);
	b_block_end(&b, s);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(count, 1);
	assert_int_equal(r.good_end, good);
	free(b.p);
}

/* Resolutions whose conversion to nanoseconds would need more than 64 bits are refused,
 * the largest ones still accepted convert exactly. */
static void
test_tsresol_limits(void **state)
{
	static const struct {
		int tsresol;
		uint64_t ts;
		int64_t ns; /* -1: the IDB is refused. */
	} cases[] = {
		{ 19, 10000000000000000000ull, 1000000000 },
		{ 20, 0, -1 },
		{ 0x80 | 63, 1ull << 62, 500000000 },
		{ 0x80 | 64, 0, -1 },
		{ 0xff, 0, -1 },
		{ 0, 3, 3000000000 },
		/* Seconds far past 2554 saturate rather than wrap. */
		{ 0, 1ull << 40, -2 },
	};
	uint8_t data[4] = { 1, 2, 3, 4 };
	unsigned i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		struct blob b = { 0 };
		struct sl_pcap_reader r;
		struct sl_pcap_packet pkt;
		int rc;

		b_shb(&b);
		b_idb(&b, 0, cases[i].tsresol);
		b_epb(&b, 0, cases[i].ts, data, 4, 4);
		assert_int_equal(sl_pcap_reader_open(&r, b.p, b.len), 0);
		rc = sl_pcap_reader_next(&r, &pkt);
		if (cases[i].ns == -1) {
			assert_int_equal(rc, -EBADMSG);
			assert_non_null(strstr(r.error, "if_tsresol"));
			assert_int_equal(r.good_end, 28);
		} else {
			assert_int_equal(rc, 1);
			assert_int_equal(pkt.ts_ns,
					 cases[i].ns == -2 ? UINT64_MAX : (uint64_t)cases[i].ns);
		}
		free(b.p);
	}
}

static void
test_reject_pcapng_blocks(void **state)
{
	struct blob b = { 0 };
	struct sl_pcap_reader r;
	uint8_t data[100];
	uint64_t count;
	size_t good, s;
	unsigned i;

	fill(data, sizeof(data), 2);

	/* Bad trailing block length. */
	b_shb(&b);
	b_idb(&b, 0, 9);
	b_epb(&b, 0, 1, data, 60, 60);
	good = b.len;
	b_epb(&b, 0, 2, data, 60, 60);
	b_set32(&b, b.len - 4, 96);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(count, 1);
	assert_int_equal(r.good_end, good);
	assert_non_null(strstr(r.error, "trailing"));

	/* Unknown interface id. */
	b.len = good;
	b_epb(&b, 1, 2, data, 60, 60);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, good);
	assert_non_null(strstr(r.error, "interface id 1"));

	/* Huge, too small and unaligned block lengths. */
	b.len = good;
	b_epb(&b, 0, 2, data, 60, 60);
	b_set32(&b, good + 4, 0xfffffff0);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, good);
	assert_non_null(strstr(r.error, "truncated"));
	b_set32(&b, good + 4, 8);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, good);
	b_set32(&b, good + 4, 90);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, good);
	assert_non_null(strstr(r.error, "multiple of 4"));

	/* caplen > len, and caplen so large that padding would wrap 32 bits. */
	b.len = good;
	b_epb(&b, 0, 2, data, 60, 59);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, good);
	b.len = good;
	b_epb(&b, 0, 2, data, 0, 0xffffffff);
	b_set32(&b, good + 20, 0xfffffffe);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, good);
	assert_non_null(strstr(r.error, "too small"));

	/* caplen > interface snaplen. */
	b.len = 0;
	b_shb(&b);
	b_idb(&b, 64, 9);
	b_epb(&b, 0, 1, data, 64, 100);
	good = b.len;
	b_epb(&b, 0, 1, data, 65, 100);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(count, 1);
	assert_int_equal(r.good_end, good);
	assert_non_null(strstr(r.error, "snaplen"));

	/* Packets before any IDB. */
	b.len = 0;
	b_shb(&b);
	good = b.len;
	b_epb(&b, 0, 1, data, 10, 10);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, good);
	b.len = good;
	s = b_block_begin(&b, 3);
	b_u32(&b, 4);
	b_u32(&b, 0);
	b_block_end(&b, s);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, good);

	/* A second section. */
	b.len = 0;
	b_shb(&b);
	b_idb(&b, 0, 9);
	good = b.len;
	b_shb(&b);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, good);

	/* An option running past its block, and a malformed if_tsresol. */
	b.len = good;
	s = b_block_begin(&b, 1);
	b_u32(&b, 1);
	b_u32(&b, 0);
	b_u16(&b, 2);
	b_u16(&b, 200);
	b_u32(&b, 0);
	b_block_end(&b, s);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, good);
	assert_non_null(strstr(r.error, "overruns"));
	b.len = good;
	s = b_block_begin(&b, 1);
	b_u32(&b, 1);
	b_u32(&b, 0);
	b_u16(&b, 9);
	b_u16(&b, 2);
	b_u32(&b, 0);
	b_block_end(&b, s);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, good);

	/* More interfaces than the reader holds. */
	b.len = 0;
	b_shb(&b);
	for (i = 0; i < SL_PCAP_READER_MAX_IFACES; i++)
		b_idb(&b, 0, 9);
	b_epb(&b, SL_PCAP_READER_MAX_IFACES - 1, 1, data, 10, 10);
	assert_int_equal(read_all(b.p, b.len, &r, &count), 0);
	assert_int_equal(count, 1);
	good = b.len;
	b_idb(&b, 0, 9);
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_int_equal(r.good_end, good);

	/* Unsupported pcapng major version. */
	b.len = 0;
	b_shb(&b);
	b.p[12] = 2;
	assert_int_equal(read_all(b.p, b.len, &r, &count), -EBADMSG);
	assert_non_null(strstr(r.error, "version"));
	free(b.p);
}

/* Deterministic random corruptions of valid files; the reader must stay inside the input
 * and keep its invariants. Run under ASan or valgrind to catch overreads. */
static void
test_corruption_stays_in_bounds(void **state)
{
	static const enum sl_pcap_format fmts[] = { SL_PCAP_FORMAT_PCAP, SL_PCAP_FORMAT_PCAPNG };
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	uint8_t buf[4096];
	size_t ends[16];
	unsigned f, nb_ends, iter;

	for (f = 0; f < RTE_DIM(fmts); f++) {
		size_t size = small_file(fmts[f], buf, ends, &nb_ends);

		for (iter = 0; iter < 20000; iter++) {
			uint8_t *copy = malloc(size);
			struct sl_pcap_reader r;
			struct sl_pcap_packet pkt;
			unsigned flips, k;
			int rc;

			memcpy(copy, buf, size);
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			flips = 1 + (unsigned)(rng >> 60) % 4;
			for (k = 0; k < flips; k++) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				copy[(rng >> 33) % size] = (uint8_t)(rng >> 20);
			}
			rc = sl_pcap_reader_open(&r, copy, size);
			if (rc == 0) {
				while ((rc = sl_pcap_reader_next(&r, &pkt)) == 1) {
					assert_true(pkt.data >= copy);
					assert_true(pkt.data + pkt.caplen <= copy + size);
					assert_true(pkt.caplen <= pkt.len);
				}
			}
			assert_true(rc == 0 || rc == -EBADMSG);
			assert_true(r.good_end <= size);
			if (rc == 0)
				assert_int_equal(r.good_end, size);
			free(copy);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcap_header_bytes),
		cmocka_unit_test(test_pcapng_header_bytes),
		cmocka_unit_test(test_record_sizes),
		cmocka_unit_test(test_pcap_record_bytes),
		cmocka_unit_test(test_pcapng_epb_bytes),
		cmocka_unit_test(test_round_trip_pcap),
		cmocka_unit_test(test_round_trip_pcapng),
		cmocka_unit_test(test_round_trip_snaplen),
		cmocka_unit_test(test_round_trip_multi_iface),
		cmocka_unit_test(test_truncation_at_every_length),
		cmocka_unit_test(test_reject_bad_magic),
		cmocka_unit_test(test_reject_pcap_records),
		cmocka_unit_test(test_accept_usec_and_big_endian_pcap),
		cmocka_unit_test(test_accept_big_endian_pcapng),
		cmocka_unit_test(test_simple_packet_block_snaplen),
		cmocka_unit_test(test_tsresol_limits),
		cmocka_unit_test(test_reject_pcapng_blocks),
		cmocka_unit_test(test_corruption_stays_in_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
