/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_stats.h"

/*
 * A minimal JSON reader, so that the document sl_stats_json() writes is
 * checked for syntax and read by structure (member "written" of member
 * "total") rather than matched as loose text. It follows RFC 8259 except
 * that it does not check UTF-8 sequences.
 */

struct span {
	const char *p; /**< First character of the value; NULL if absent. */
	size_t n;
};

#define JSON_MAX_DEPTH 32

static const char *json_value(const char *p, int depth);

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *
json_string_end(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (;;) {
		unsigned char c = (unsigned char)*p++;

		if (c == '"')
			return p;
		if (c < 0x20) /* Raw control characters (and the terminating NUL) are invalid. */
			return NULL;
		if (c != '\\')
			continue;
		c = (unsigned char)*p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++, p++)
				if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
				      (*p >= 'A' && *p <= 'F')))
					return NULL;
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
			return NULL;
		}
	}
}

static const char *
digits(const char *p)
{
	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9')
		p++;
	return p;
}

static const char *
json_number_end(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if ((p = digits(p)) == NULL)
		return NULL;
	if (*p == '.' && (p = digits(p + 1)) == NULL)
		return NULL;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		p = digits(p);
	}
	return p;
}

/* Objects and arrays: members are "key": value when @p close is '}'. */
static const char *
json_container_end(const char *p, char close, int depth)
{
	p = skip_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			if ((p = json_string_end(p)) == NULL)
				return NULL;
			p = skip_ws(p);
			if (*p != ':')
				return NULL;
			p = skip_ws(p + 1);
		}
		if ((p = json_value(p, depth + 1)) == NULL)
			return NULL;
		p = skip_ws(p);
		if (*p == close)
			return p + 1;
		if (*p != ',')
			return NULL;
		p = skip_ws(p + 1);
	}
}

/* Returns the end of the value starting at @p, or NULL if it is not valid JSON. */
static const char *
json_value(const char *p, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return NULL;
	switch (*p) {
	case '{':
		return json_container_end(p, '}', depth);
	case '[':
		return json_container_end(p, ']', depth);
	case '"':
		return json_string_end(p);
	case 't':
		return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		return json_number_end(p);
	}
}

static bool
json_valid(const char *doc)
{
	const char *end = json_value(skip_ws(doc), 0);

	return end != NULL && *skip_ws(end) == '\0';
}

static struct span
json_root(const char *doc)
{
	const char *p = skip_ws(doc);
	const char *end = json_value(p, 0);

	assert_non_null(end);
	return (struct span){ p, (size_t)(end - p) };
}

/* The value of member @p key of object @p obj; p is NULL if there is none. */
static struct span
json_member(struct span obj, const char *key)
{
	size_t klen = strlen(key);
	const char *p;

	assert_non_null(obj.p);
	assert_int_equal(obj.p[0], '{');
	p = skip_ws(obj.p + 1);
	while (*p == '"') {
		const char *kend = json_string_end(p), *v, *vend;
		bool match = (size_t)(kend - p) == klen + 2 && memcmp(p + 1, key, klen) == 0;

		v = skip_ws(skip_ws(kend) + 1);
		vend = json_value(v, 0);
		if (match)
			return (struct span){ v, (size_t)(vend - v) };
		p = skip_ws(vend);
		if (*p == ',')
			p = skip_ws(p + 1);
	}
	return (struct span){ NULL, 0 };
}

/* Element @p index of array @p arr; p is NULL past the end. */
static struct span
json_element(struct span arr, unsigned index)
{
	const char *p;

	assert_non_null(arr.p);
	assert_int_equal(arr.p[0], '[');
	p = skip_ws(arr.p + 1);
	for (unsigned i = 0; *p != ']'; i++) {
		const char *end = json_value(p, 0);

		if (i == index)
			return (struct span){ p, (size_t)(end - p) };
		p = skip_ws(end);
		if (*p == ',')
			p = skip_ws(p + 1);
	}
	return (struct span){ NULL, 0 };
}

static unsigned
json_length(struct span arr)
{
	unsigned n = 0;

	while (json_element(arr, n).p != NULL)
		n++;
	return n;
}

/* Member @p key of @p obj must be exactly the JSON text @p expected. */
static void
expect_text(struct span obj, const char *key, const char *expected)
{
	struct span v = json_member(obj, key);

	if (v.p == NULL) {
		print_error("member \"%s\" is missing\n", key);
		fail();
	}
	if (v.n != strlen(expected) || memcmp(v.p, expected, v.n) != 0) {
		print_error("member \"%s\" is %.*s, expected %s\n", key, (int)v.n, v.p, expected);
		fail();
	}
}

static void
expect_u64(struct span obj, const char *key, uint64_t expected)
{
	char text[32];

	snprintf(text, sizeof(text), "%" PRIu64, expected);
	expect_text(obj, key, text);
}

static void
expect_i64(struct span obj, const char *key, int64_t expected)
{
	char text[32];

	snprintf(text, sizeof(text), "%" PRId64, expected);
	expect_text(obj, key, text);
}

static struct span
member(struct span obj, const char *key)
{
	struct span v = json_member(obj, key);

	if (v.p == NULL)
		print_error("member \"%s\" is missing\n", key);
	assert_non_null(v.p);
	return v;
}

static void
expect_contains(const char *text, const char *needle)
{
	/* A null text fails below; the fallback only keeps the message defined. */
	const char *t = text != NULL ? text : "(null)";

	if (text == NULL || strstr(t, needle) == NULL)
		print_error("\"%s\" not found in:\n%s\n", needle, t);
	assert_non_null(text);
	assert_non_null(strstr(t, needle));
}

/*
 * The fixture: 2 RX lcores (2 and 5), 2 writers (4 and 6) and 3 ports with
 * ids 0, 3 and 7, so that a mix-up of port index and port id shows. Every
 * port balances; the numbers differ so that a counter added to the wrong
 * class or twice shows as well.
 *
 *   port 0: received 3000 = written 2937 + filtered 30 + ring_full 10
 *           + writer_nobuf 11 (6 at RX, 5 at writer 0) + write_error 12
 *   port 3: received  500 = written  480 + filtered  1 + ring_full  0
 *           + writer_nobuf 11 (9 at RX, 2 at writer 0) + write_error  8
 *   port 7: received   50 = written   39 + filtered  5 + ring_full  1
 *           + writer_nobuf  1 (at writer 1)            + write_error  4
 *   total:  received 3550 = written 3456 + filtered 36 + ring_full 11
 *           + writer_nobuf 23 + write_error 24
 */
struct fixture {
	struct sl_rx_stats rx[2];
	struct sl_writer_stats wr[2];
	struct sl_stats_view v;
};

#define PORT_NAME_0 "0000:3b:00.0"
/* A quote, a backslash, a tab and a 0x01: JSON must escape all four. */
#define PORT_NAME_3 "net_\"pcap\\0\t\x01x"
#define PORT_NAME_3_JSON "\"net_\\\"pcap\\\\0\\u0009\\u0001x\""
#define PORT_NAME_7 "net_ring0"

static void
rx_port(struct sl_rx_stats *rx, unsigned port, uint64_t received, uint64_t bytes, uint64_t filtered,
	uint64_t ring_full, uint64_t writer_nobuf)
{
	rx->port[port] = (struct sl_rx_port_stats){
		.received = received,
		.bytes = bytes,
		.filtered = filtered,
		.ring_full = ring_full,
		.writer_nobuf = writer_nobuf,
	};
}

static void
writer_port(struct sl_writer_stats *w, unsigned port, uint64_t written, uint64_t written_bytes,
	    uint64_t nobuf, uint64_t write_error, uint64_t truncated)
{
	w->port[port] = (struct sl_writer_port_stats){
		.dequeued = written + nobuf + write_error,
		.written = written,
		.written_bytes = written_bytes,
		.nobuf = nobuf,
		.write_error = write_error,
		.truncated = truncated,
	};
}

static void
fixture_init(struct fixture *fx)
{
	struct sl_stats_view *v = &fx->v;

	memset(fx, 0, sizeof(*fx));
	rx_port(&fx->rx[0], 0, 1000, 64000, 10, 3, 2);
	rx_port(&fx->rx[0], 3, 200, 30000, 0, 0, 0);
	rx_port(&fx->rx[0], 7, 50, 5000, 5, 1, 0);
	fx->rx[0].polls = 10000;
	fx->rx[0].idle_polls = 9000;
	rx_port(&fx->rx[1], 0, 2000, 128000, 20, 7, 4);
	rx_port(&fx->rx[1], 3, 300, 45000, 1, 0, 9);
	fx->rx[1].polls = 20000;
	fx->rx[1].idle_polls = 15000;

	writer_port(&fx->wr[0], 0, 1499, 95936, 5, 0, 7);
	writer_port(&fx->wr[0], 3, 480, 72000, 2, 8, 0);
	fx->wr[0].file_bytes = 171008;
	fx->wr[0].files_opened = 3;
	fx->wr[0].files_closed = 2;
	fx->wr[0].partial_flushes = 5;
	fx->wr[0].io = (struct sl_io_stats){
		.submit_calls = 11,
		.sqes = 42,
		.max_batch = 8,
		.writes = 40,
		.write_bytes = 4194304,
		.short_writes = 1,
		.retries = 2,
		.fsyncs = 3,
		.sq_full = 4,
		.lat_count = 40,
		.lat_sum_ns = 6000000, /* 150 us on average */
		.lat_max_ns = 912345,
		.fsync_lat_count = 3,
		.fsync_lat_sum_ns = 31000000, /* 10333.3 us on average */
		.fsync_lat_max_ns = 29000049,
	};
	writer_port(&fx->wr[1], 0, 1438, 91000, 0, 12, 0);
	writer_port(&fx->wr[1], 7, 39, 3900, 1, 4, 2);
	fx->wr[1].file_bytes = 98304;
	fx->wr[1].files_opened = 2;
	fx->wr[1].files_closed = 1;
	fx->wr[1].file_errors = 1;
	fx->wr[1].io = (struct sl_io_stats){
		.submit_calls = 7,
		.sqes = 9,
		.max_batch = 3,
		.writes = 6,
		.write_bytes = 98304,
		.errors = 2,
		.enospc = 1,
		.fsyncs = 1,
		.lat_count = 3,
		.lat_sum_ns = 4550, /* 1.5167 us on average */
		.lat_max_ns = 2049,
		.last_errno = ENOSPC,
	};

	v->mode = "capture";
	v->elapsed_s = 2.5;
	v->nb_ports = 3;
	v->port_id[0] = 0;
	v->port_id[1] = 3;
	v->port_id[2] = 7;
	v->port_name[0] = PORT_NAME_0;
	v->port_name[1] = PORT_NAME_3;
	v->port_name[2] = PORT_NAME_7;
	v->nic[0] = (struct sl_nic_stats){ 3010, 192640, 90, 1, 10 };
	v->nic[1] = (struct sl_nic_stats){ 500, 75000, 0, 0, 0 };
	v->nic[2] = (struct sl_nic_stats){ 60, 6000, 4, 2, 6 };
	v->nb_rx = 2;
	v->rx_lcore[0] = 2;
	v->rx_lcore[1] = 5;
	v->rx[0] = &fx->rx[0];
	v->rx[1] = &fx->rx[1];
	v->nb_writers = 2;
	v->writer_lcore[0] = 4;
	v->writer_lcore[1] = 6;
	v->writer[0] = &fx->wr[0];
	v->writer[1] = &fx->wr[1];
}

static void
expect_fate(const struct sl_fate *f, uint64_t received, uint64_t bytes, uint64_t filtered,
	    uint64_t written, uint64_t written_bytes, uint64_t truncated, uint64_t ring_full,
	    uint64_t writer_nobuf, uint64_t write_error)
{
	assert_int_equal(f->received, received);
	assert_int_equal(f->bytes, bytes);
	assert_int_equal(f->filtered, filtered);
	assert_int_equal(f->written, written);
	assert_int_equal(f->written_bytes, written_bytes);
	assert_int_equal(f->truncated, truncated);
	assert_int_equal(f->ring_full, ring_full);
	assert_int_equal(f->writer_nobuf, writer_nobuf);
	assert_int_equal(f->write_error, write_error);
}

/* Garbage in the output proves that the fate functions set every field. */
static void
poison(struct sl_fate *f)
{
	memset(f, 0xa5, sizeof(*f));
}

static void
test_port_fates(void **state)
{
	struct fixture fx;
	struct sl_fate f;

	fixture_init(&fx);
	poison(&f);
	sl_stats_fate(&fx.v, 0, &f);
	expect_fate(&f, 3000, 192000, 30, 2937, 186936, 7, 10, 11, 12);
	assert_int_equal(sl_fate_unaccounted(&f), 0);
	assert_int_equal(sl_fate_drops(&f), 33);

	poison(&f);
	sl_stats_fate(&fx.v, 3, &f);
	/* writer_nobuf: 9 counted by the RX lcore (ring full behind a backlogged
	 * writer) plus 2 counted by the writer itself. */
	expect_fate(&f, 500, 75000, 1, 480, 72000, 0, 0, 11, 8);
	assert_int_equal(sl_fate_unaccounted(&f), 0);
	assert_int_equal(sl_fate_drops(&f), 19);

	poison(&f);
	sl_stats_fate(&fx.v, 7, &f);
	expect_fate(&f, 50, 5000, 5, 39, 3900, 2, 1, 1, 4);
	assert_int_equal(sl_fate_unaccounted(&f), 0);
	assert_int_equal(sl_fate_drops(&f), 6);

	/* A port without traffic (an index of the view, not an id) has none. */
	poison(&f);
	sl_stats_fate(&fx.v, 1, &f);
	expect_fate(&f, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(sl_fate_unaccounted(&f), 0);
	assert_int_equal(sl_fate_drops(&f), 0);
}

static void
test_total_fate_is_sum_of_ports(void **state)
{
	struct fixture fx;
	struct sl_fate total, sum = { 0 }, f;

	fixture_init(&fx);
	poison(&total);
	sl_stats_fate(&fx.v, -1, &total);
	expect_fate(&total, 3550, 272000, 36, 3456, 262836, 9, 11, 23, 24);
	assert_int_equal(sl_fate_unaccounted(&total), 0);
	assert_int_equal(sl_fate_drops(&total), 58);

	for (unsigned i = 0; i < fx.v.nb_ports; i++) {
		sl_stats_fate(&fx.v, fx.v.port_id[i], &f);
		sum.received += f.received;
		sum.bytes += f.bytes;
		sum.filtered += f.filtered;
		sum.written += f.written;
		sum.written_bytes += f.written_bytes;
		sum.truncated += f.truncated;
		sum.ring_full += f.ring_full;
		sum.writer_nobuf += f.writer_nobuf;
		sum.write_error += f.write_error;
	}
	assert_memory_equal(&sum, &total, sizeof(sum));
}

static void
test_writer_fates(void **state)
{
	struct fixture fx;
	struct sl_fate f;

	fixture_init(&fx);
	/* A writer only knows what it wrote or dropped: received, bytes,
	 * filtered and ring_full stay zero. */
	poison(&f);
	sl_stats_writer_fate(&fx.wr[0], -1, &f);
	expect_fate(&f, 0, 0, 0, 1979, 167936, 7, 0, 7, 8);
	poison(&f);
	sl_stats_writer_fate(&fx.wr[1], -1, &f);
	expect_fate(&f, 0, 0, 0, 1477, 94900, 2, 0, 1, 16);
	poison(&f);
	sl_stats_writer_fate(&fx.wr[0], 3, &f);
	expect_fate(&f, 0, 0, 0, 480, 72000, 0, 0, 2, 8);
	poison(&f);
	sl_stats_writer_fate(&fx.wr[1], 0, &f);
	expect_fate(&f, 0, 0, 0, 1438, 91000, 0, 0, 0, 12);
	poison(&f);
	sl_stats_writer_fate(&fx.wr[1], 3, &f);
	expect_fate(&f, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

static void
test_unaccounted(void **state)
{
	struct fixture fx;
	struct sl_fate f;

	/* Packets still in the rings: received but not yet written. */
	fixture_init(&fx);
	fx.rx[1].port[3].received += 5;
	sl_stats_fate(&fx.v, 3, &f);
	assert_int_equal(sl_fate_unaccounted(&f), 5);
	sl_stats_fate(&fx.v, 0, &f);
	assert_int_equal(sl_fate_unaccounted(&f), 0);
	sl_stats_fate(&fx.v, -1, &f);
	assert_int_equal(sl_fate_unaccounted(&f), 5);

	/* More fates than packets (a counter bumped twice) is negative, not a
	 * huge unsigned number. */
	fixture_init(&fx);
	fx.wr[1].port[7].write_error += 7;
	sl_stats_fate(&fx.v, 7, &f);
	assert_true(sl_fate_unaccounted(&f) == -7);
	assert_int_equal(sl_fate_drops(&f), 13);
	sl_stats_fate(&fx.v, -1, &f);
	assert_true(sl_fate_unaccounted(&f) == -7);

	/* Both on different ports cancel out in the total only. */
	fx.rx[0].port[0].received += 7;
	sl_stats_fate(&fx.v, 0, &f);
	assert_int_equal(sl_fate_unaccounted(&f), 7);
	sl_stats_fate(&fx.v, -1, &f);
	assert_int_equal(sl_fate_unaccounted(&f), 0);

	/* Plain arithmetic on one fate, every class counted once. */
	f = (struct sl_fate){ .received = 100,
			      .written = 50,
			      .filtered = 20,
			      .ring_full = 4,
			      .writer_nobuf = 2,
			      .write_error = 1,
			      .truncated = 9 };
	assert_int_equal(sl_fate_unaccounted(&f), 23);
	assert_int_equal(sl_fate_drops(&f), 7);
	f.received = 0;
	assert_true(sl_fate_unaccounted(&f) == -77);
}

/* Where open_memstream() leaves its buffer: file-scope, so that the stream
 * never refers to a stack frame that has returned. The caller frees it. */
static char *memstream_text;
static size_t memstream_len;

static char *
render_json(const struct sl_stats_view *v)
{
	FILE *f = open_memstream(&memstream_text, &memstream_len);

	assert_non_null(f);
	assert_int_equal(sl_stats_json(f, v), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(strlen(memstream_text), memstream_len);
	return memstream_text;
}

static char *
render_summary(const struct sl_stats_view *v)
{
	FILE *f = open_memstream(&memstream_text, &memstream_len);

	assert_non_null(f);
	sl_stats_summary(f, v);
	assert_int_equal(fclose(f), 0);
	return memstream_text;
}

static void
test_json_validator(void **state)
{
	static const char *const good[] = {
		"{}",
		"[]",
		" {\"a\": [1, -2.5, 3e10, 0, -0.0, 1E-3], \"b\": {\"c\": null}} \n",
		"\"\\u00e9\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
		"[true, false, null, \"\"]",
	};
	static const char *const bad[] = {
		"",        "{",           "{\"a\": 1,}", "{\"a\" 1}", "{a: 1}",      "[1, 2",
		"[1 2]",   "01",          "1.",          "-",         "tru",         "\"\x01\"",
		"\"\\x\"", "\"\\u12g4\"", "\"open",      "{} {}",     "{\"a\": 1}}",
	};

	/* The validator must be able to say no, or the JSON checks prove nothing. */
	for (unsigned i = 0; i < SL_ARRAY_SIZE(good); i++) {
		if (!json_valid(good[i]))
			print_error("valid JSON refused: %s\n", good[i]);
		assert_true(json_valid(good[i]));
	}
	for (unsigned i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		if (json_valid(bad[i]))
			print_error("invalid JSON accepted: %s\n", bad[i]);
		assert_false(json_valid(bad[i]));
	}
}

static void
expect_fate_json(struct span o, uint64_t received, uint64_t written, uint64_t written_bytes,
		 uint64_t filtered, uint64_t ring_full, uint64_t writer_nobuf, uint64_t write_error,
		 int64_t unaccounted)
{
	struct span drops = member(o, "drops");

	expect_u64(o, "received", received);
	expect_u64(o, "written", written);
	expect_u64(o, "written_bytes", written_bytes);
	expect_u64(o, "filtered", filtered);
	expect_u64(o, "dropped", ring_full + writer_nobuf + write_error);
	expect_u64(drops, "ring_full", ring_full);
	expect_u64(drops, "writer_nobuf", writer_nobuf);
	expect_u64(drops, "write_error", write_error);
	expect_i64(o, "unaccounted", unaccounted);
}

static void
expect_nic_json(struct span o, uint64_t ipackets, uint64_t ibytes, uint64_t imissed,
		uint64_t ierrors, uint64_t rx_nombuf)
{
	struct span nic = member(o, "nic");

	expect_u64(nic, "ipackets", ipackets);
	expect_u64(nic, "ibytes", ibytes);
	expect_u64(nic, "imissed", imissed);
	expect_u64(nic, "ierrors", ierrors);
	expect_u64(nic, "rx_nombuf", rx_nombuf);
}

static void
test_json_balanced(void **state)
{
	struct fixture fx;
	struct span doc, total, ports, p, rx, writers, w, io;
	char *text;

	fixture_init(&fx);
	text = render_json(&fx.v);
	if (!json_valid(text))
		print_error("invalid JSON:\n%s\n", text);
	assert_true(json_valid(text));
	expect_contains(text, "\"balanced\": true");
	assert_null(strstr(text, "false"));

	doc = json_root(text);
	expect_u64(doc, "version", 1);
	expect_text(doc, "mode", "\"capture\"");
	expect_text(doc, "elapsed_s", "2.500");
	expect_text(doc, "balanced", "true");

	total = member(doc, "total");
	expect_fate_json(total, 3550, 3456, 262836, 36, 11, 23, 24, 0);
	expect_u64(total, "bytes", 272000);
	expect_u64(total, "truncated", 9);
	expect_nic_json(total, 3570, 273640, 94, 3, 16);

	ports = member(doc, "ports");
	assert_int_equal(json_length(ports), 3);
	p = json_element(ports, 0);
	expect_u64(p, "port", 0);
	expect_text(p, "name", "\"" PORT_NAME_0 "\"");
	expect_fate_json(p, 3000, 2937, 186936, 30, 10, 11, 12, 0);
	expect_u64(p, "bytes", 192000);
	expect_u64(p, "truncated", 7);
	expect_nic_json(p, 3010, 192640, 90, 1, 10);
	p = json_element(ports, 1);
	expect_u64(p, "port", 3);
	expect_text(p, "name", PORT_NAME_3_JSON);
	expect_fate_json(p, 500, 480, 72000, 1, 0, 11, 8, 0);
	expect_nic_json(p, 500, 75000, 0, 0, 0);
	p = json_element(ports, 2);
	expect_u64(p, "port", 7);
	expect_text(p, "name", "\"" PORT_NAME_7 "\"");
	expect_fate_json(p, 50, 39, 3900, 5, 1, 1, 4, 0);
	expect_u64(p, "truncated", 2);
	expect_nic_json(p, 60, 6000, 4, 2, 6);

	rx = member(doc, "rx_lcores");
	assert_int_equal(json_length(rx), 2);
	p = json_element(rx, 0);
	expect_u64(p, "lcore", 2);
	expect_u64(p, "received", 1250);
	expect_u64(p, "filtered", 15);
	expect_u64(p, "ring_full", 4);
	expect_u64(p, "writer_nobuf", 2);
	expect_u64(p, "polls", 10000);
	expect_u64(p, "idle_polls", 9000);
	p = json_element(rx, 1);
	expect_u64(p, "lcore", 5);
	expect_u64(p, "received", 2300);
	expect_u64(p, "filtered", 21);
	expect_u64(p, "ring_full", 7);
	expect_u64(p, "writer_nobuf", 13);
	expect_u64(p, "polls", 20000);
	expect_u64(p, "idle_polls", 15000);

	writers = member(doc, "writers");
	assert_int_equal(json_length(writers), 2);
	w = json_element(writers, 0);
	expect_u64(w, "writer", 0);
	expect_u64(w, "lcore", 4);
	expect_u64(w, "written", 1979);
	expect_u64(w, "written_bytes", 167936);
	expect_u64(w, "truncated", 7);
	expect_u64(member(w, "drops"), "writer_nobuf", 7);
	expect_u64(member(w, "drops"), "write_error", 8);
	expect_u64(w, "file_bytes", 171008);
	expect_u64(w, "files_opened", 3);
	expect_u64(w, "files_closed", 2);
	expect_u64(w, "file_errors", 0);
	expect_u64(w, "partial_flushes", 5);
	io = member(w, "io");
	expect_u64(io, "submit_calls", 11);
	expect_u64(io, "sqes", 42);
	expect_u64(io, "max_batch", 8);
	expect_u64(io, "writes", 40);
	expect_u64(io, "write_bytes", 4194304);
	expect_u64(io, "short_writes", 1);
	expect_u64(io, "retries", 2);
	expect_u64(io, "errors", 0);
	expect_u64(io, "enospc", 0);
	expect_u64(io, "fsyncs", 3);
	expect_u64(io, "sq_full", 4);
	/* lat_sum_ns / lat_count / 1000: 6000000 / 40 / 1000. */
	expect_text(io, "write_latency_avg_us", "150.0");
	expect_text(io, "write_latency_max_us", "912.3");
	/* Apart from the writes': 31000000 / 3 / 1000 and 29000049 / 1000. */
	expect_text(io, "fsync_latency_avg_us", "10333.3");
	expect_text(io, "fsync_latency_max_us", "29000.0");

	w = json_element(writers, 1);
	expect_u64(w, "writer", 1);
	expect_u64(w, "lcore", 6);
	expect_u64(w, "written", 1477);
	expect_u64(w, "written_bytes", 94900);
	expect_u64(w, "truncated", 2);
	expect_u64(member(w, "drops"), "writer_nobuf", 1);
	expect_u64(member(w, "drops"), "write_error", 16);
	expect_u64(w, "file_bytes", 98304);
	expect_u64(w, "files_opened", 2);
	expect_u64(w, "files_closed", 1);
	expect_u64(w, "file_errors", 1);
	expect_u64(w, "partial_flushes", 0);
	io = member(w, "io");
	expect_u64(io, "submit_calls", 7);
	expect_u64(io, "errors", 2);
	expect_u64(io, "enospc", 1);
	/* 4550 / 3 / 1000 = 1.5167. */
	expect_text(io, "write_latency_avg_us", "1.5");
	expect_text(io, "write_latency_max_us", "2.0");
	free(text);
}

static void
test_json_not_balanced(void **state)
{
	struct fixture fx;
	struct span doc, p;
	char *text;

	fixture_init(&fx);
	fx.rx[0].port[7].received += 4; /* Four packets of port 7 still in flight. */
	text = render_json(&fx.v);
	assert_true(json_valid(text));
	expect_contains(text, "\"balanced\": false");
	doc = json_root(text);
	expect_text(doc, "balanced", "false");
	expect_i64(member(doc, "total"), "unaccounted", 4);
	expect_u64(member(doc, "total"), "received", 3554);
	p = json_element(member(doc, "ports"), 0);
	expect_i64(p, "unaccounted", 0);
	p = json_element(member(doc, "ports"), 2);
	expect_u64(p, "port", 7);
	expect_i64(p, "unaccounted", 4);
	free(text);

	/* Negative: written beyond what was received. */
	fixture_init(&fx);
	fx.wr[0].port[3].written += 3;
	text = render_json(&fx.v);
	assert_true(json_valid(text));
	doc = json_root(text);
	expect_text(doc, "balanced", "false");
	expect_i64(member(doc, "total"), "unaccounted", -3);
	p = json_element(member(doc, "ports"), 1);
	expect_u64(p, "port", 3);
	expect_i64(p, "unaccounted", -3);
	free(text);
}

static void
test_json_empty_and_missing_names(void **state)
{
	struct sl_stats_view v;
	struct span doc;
	char *text;

	/* Nothing running yet: no lcores, a port without a name, no mode. */
	memset(&v, 0, sizeof(v));
	v.nb_ports = 1;
	v.port_id[0] = 2;
	text = render_json(&v);
	if (!json_valid(text))
		print_error("invalid JSON:\n%s\n", text);
	assert_true(json_valid(text));
	doc = json_root(text);
	expect_text(doc, "mode", "\"\"");
	expect_text(doc, "balanced", "true");
	expect_text(json_element(member(doc, "ports"), 0), "name", "\"\"");
	assert_int_equal(json_length(member(doc, "rx_lcores")), 0);
	assert_int_equal(json_length(member(doc, "writers")), 0);
	free(text);

	/* No measured latency averages to zero, not to a division by zero. */
	{
		struct fixture fx;
		struct span io;

		fixture_init(&fx);
		fx.wr[0].io.lat_count = 0;
		fx.wr[0].io.lat_sum_ns = 0;
		fx.wr[0].io.fsync_lat_count = 0;
		fx.wr[0].io.fsync_lat_sum_ns = 0;
		text = render_json(&fx.v);
		assert_true(json_valid(text));
		io = member(json_element(member(json_root(text), "writers"), 0), "io");
		expect_text(io, "write_latency_avg_us", "0.0");
		expect_text(io, "fsync_latency_avg_us", "0.0");
		free(text);
	}
}

static void
test_json_write_failure(void **state)
{
	struct fixture fx;
	FILE *f;

	fixture_init(&fx);
	f = fopen("/dev/full", "w");
	if (f == NULL) {
		print_message("skipped: /dev/full: %s\n", strerror(errno));
		skip();
	}
	/* Buffered: the document stays in the stdio buffer until the final flush. */
	errno = 0;
	assert_int_equal(sl_stats_json(f, &fx.v), -ENOSPC);
	fclose(f);

	/* Unbuffered: every fprintf fails, the final fflush has nothing left to do
	 * and only the stream's error flag tells. */
	f = fopen("/dev/full", "w");
	assert_non_null(f);
	assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
	errno = 0;
	assert_int_equal(sl_stats_json(f, &fx.v), -ENOSPC);
	fclose(f);
}

static void
test_summary(void **state)
{
	struct fixture fx;
	char *text;

	fixture_init(&fx);
	text = render_summary(&fx.v);
	expect_contains(text, "sluice summary (2.500 s)");
	expect_contains(text, "  port 0 (" PORT_NAME_0 ")\n"
			      "    NIC: ipackets 3010  imissed 90  rx_nombuf 10  ierrors 1\n"
			      "    received 3000  written 2937  served 0  filtered 30  dropped 33 "
			      "(ring_full 10, writer_nobuf 11, write_error 12, invalid 0)\n");
	expect_contains(text, "  port 3 (" PORT_NAME_3 ")\n");
	expect_contains(text, "    received 500  written 480  served 0  filtered 1  dropped 19 "
			      "(ring_full 0, writer_nobuf 11, write_error 8, invalid 0)\n");
	expect_contains(text, "  port 7 (" PORT_NAME_7 ")\n"
			      "    NIC: ipackets 60  imissed 4  rx_nombuf 6  ierrors 2\n"
			      "    received 50  written 39  served 0  filtered 5  dropped 6 "
			      "(ring_full 1, writer_nobuf 1, write_error 4, invalid 0)\n");
	expect_contains(text, "  writer 0 (lcore 4): written 1979 records, 171008 file bytes in 2 "
			      "files, 40 writes, 11 submits, errors 0\n");
	expect_contains(text, "  writer 1 (lcore 6): written 1477 records, 98304 file bytes in 1 "
			      "files, 6 writes, 7 submits, errors 2\n");
	expect_contains(
		text,
		"  total: received 3550 = written 3456 + served 0 + filtered 36 + ring_full 11 "
		"+ writer_nobuf 23 + write_error 24 + invalid 0  (balanced)\n");
	assert_null(strstr(text, "NOT BALANCED"));
	/* Ports in the order of the view. */
	assert_true(strstr(text, "  port 0 (") < strstr(text, "  port 3 ("));
	assert_true(strstr(text, "  port 3 (") < strstr(text, "  port 7 ("));
	free(text);

	fx.wr[1].port[0].written -= 2; /* Two packets of port 0 not written yet. */
	fx.v.port_name[0] = NULL;
	text = render_summary(&fx.v);
	expect_contains(text, "  port 0 (?)\n");
	expect_contains(
		text,
		"  total: received 3550 = written 3454 + served 0 + filtered 36 + ring_full 11 "
		"+ writer_nobuf 23 + write_error 24 + invalid 0  (NOT BALANCED)\n");
	assert_null(strstr(text, "(balanced)"));
	free(text);

	/* File mode: answered requests and invalid datagrams balance too. */
	fx.wr[1].port[0].written += 2;
	fx.rx[0].port[0].received += 7;
	fx.rx[0].port[0].served += 4;
	fx.rx[0].port[0].invalid += 2;
	fx.wr[0].port[0].invalid += 1;
	text = render_summary(&fx.v);
	expect_contains(
		text, "  total: received 3557 = written 3456 + served 4 + filtered 36 + "
		      "ring_full 11 + writer_nobuf 23 + write_error 24 + invalid 3  (balanced)\n");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_fates),
		cmocka_unit_test(test_total_fate_is_sum_of_ports),
		cmocka_unit_test(test_writer_fates),
		cmocka_unit_test(test_unaccounted),
		cmocka_unit_test(test_json_validator),
		cmocka_unit_test(test_json_balanced),
		cmocka_unit_test(test_json_not_balanced),
		cmocka_unit_test(test_json_empty_and_missing_names),
		cmocka_unit_test(test_json_write_failure),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
