/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The telemetry replies are checked through a stand-in for DPDK's
 * rte_tel_data API defined in this file: the executable's definitions of
 * rte_tel_data_*() and rte_telemetry_register_cmd() take precedence over
 * librte_telemetry.so, so the module under test builds its replies into
 * trees the test can read key by key. The stand-in enforces what DPDK 22.11
 * enforces (key characters, entry limits, which containers may nest, string
 * lengths), found by running the real library, so a reply that DPDK would
 * refuse or drop fails here too; and a renderer with 22.11's compact JSON
 * output checks that replies fit its 16 KiB output buffer, beyond which DPDK
 * silently leaves entries out.
 */
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

#include <rte_ring.h>
#include <rte_telemetry.h>

#include "sl_layout.h"
#include "sl_stats.h"
#include "sl_telemetry.h"

/* max_output_len of DPDK 22.11's telemetry socket. */
#define TEL_OUTPUT_MAX 16384

enum fake_kind {
	FAKE_NONE,
	FAKE_DICT,
	FAKE_ARRAY_STRING,
	FAKE_ARRAY_INT,
	FAKE_ARRAY_U64,
	FAKE_ARRAY_CONTAINER,
};

struct fake_entry {
	char name[RTE_TEL_MAX_STRING_LEN];
	enum rte_tel_value_type type;
	char sval[RTE_TEL_MAX_STRING_LEN];
	int ival;
	uint64_t uval;
	struct rte_tel_data *child;
	int keep;
};

struct rte_tel_data {
	enum fake_kind kind;
	unsigned len;
	struct fake_entry e[RTE_TEL_MAX_DICT_ENTRIES];
};

static long live_containers;
static long allocs_until_failure = -1; /* < 0: never fail */

struct rte_tel_data *
rte_tel_data_alloc(void)
{
	struct rte_tel_data *d;

	if (allocs_until_failure == 0)
		return NULL;
	if (allocs_until_failure > 0)
		allocs_until_failure--;
	d = calloc(1, sizeof(*d));
	if (d != NULL)
		live_containers++;
	return d;
}

void
rte_tel_data_free(struct rte_tel_data *d)
{
	if (d == NULL)
		return;
	live_containers--;
	free(d);
}

int
rte_tel_data_start_dict(struct rte_tel_data *d)
{
	d->kind = FAKE_DICT;
	d->len = 0;
	return 0;
}

int
rte_tel_data_start_array(struct rte_tel_data *d, enum rte_tel_value_type type)
{
	static const enum fake_kind kinds[] = {
		[RTE_TEL_STRING_VAL] = FAKE_ARRAY_STRING,
		[RTE_TEL_INT_VAL] = FAKE_ARRAY_INT,
		[RTE_TEL_U64_VAL] = FAKE_ARRAY_U64,
		[RTE_TEL_CONTAINER] = FAKE_ARRAY_CONTAINER,
	};

	d->kind = kinds[type];
	d->len = 0;
	return 0;
}

/* 22.11 accepts letters, digits, '_' and '/' in keys (-EINVAL otherwise). */
static struct fake_entry *
dict_slot(struct rte_tel_data *d, const char *name, int *rc)
{
	if (d->kind != FAKE_DICT) {
		*rc = -EINVAL;
		return NULL;
	}
	for (const char *c = name; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '/')) {
			*rc = -EINVAL;
			return NULL;
		}
	if (d->len >= RTE_TEL_MAX_DICT_ENTRIES) {
		*rc = -ENOSPC;
		return NULL;
	}
	/* DPDK would print both; JSON readers would keep one. */
	for (unsigned i = 0; i < d->len; i++)
		if (strcmp(d->e[i].name, name) == 0)
			fail_msg("duplicate key \"%s\"", name);
	*rc = strlen(name) >= RTE_TEL_MAX_STRING_LEN ? E2BIG : 0;
	snprintf(d->e[d->len].name, RTE_TEL_MAX_STRING_LEN, "%s", name);
	return &d->e[d->len++];
}

int
rte_tel_data_add_dict_u64(struct rte_tel_data *d, const char *name, uint64_t val)
{
	int rc;
	struct fake_entry *e = dict_slot(d, name, &rc);

	if (e == NULL)
		return rc;
	e->type = RTE_TEL_U64_VAL;
	e->uval = val;
	return rc;
}

int
rte_tel_data_add_dict_int(struct rte_tel_data *d, const char *name, int val)
{
	int rc;
	struct fake_entry *e = dict_slot(d, name, &rc);

	if (e == NULL)
		return rc;
	e->type = RTE_TEL_INT_VAL;
	e->ival = val;
	return rc;
}

int
rte_tel_data_add_dict_string(struct rte_tel_data *d, const char *name, const char *val)
{
	int rc;
	struct fake_entry *e = dict_slot(d, name, &rc);

	if (e == NULL)
		return rc;
	e->type = RTE_TEL_STRING_VAL;
	if (strlen(val) >= RTE_TEL_MAX_STRING_LEN)
		rc = E2BIG;
	snprintf(e->sval, sizeof(e->sval), "%s", val);
	return rc;
}

/* Dicts and scalar arrays may go in a dict; only scalar arrays in an array. */
int
rte_tel_data_add_dict_container(struct rte_tel_data *d, const char *name, struct rte_tel_data *val,
				int keep)
{
	struct fake_entry *e;
	int rc;

	if (val == NULL || val->kind == FAKE_NONE || val->kind == FAKE_ARRAY_CONTAINER)
		return -EINVAL;
	e = dict_slot(d, name, &rc);
	if (e == NULL)
		return rc;
	e->type = RTE_TEL_CONTAINER;
	e->child = val;
	e->keep = keep;
	return rc;
}

/* What DPDK does once it has sent a reply: free the containers not kept. */
static void
tree_free(struct rte_tel_data *d)
{
	for (unsigned i = 0; i < d->len; i++)
		if (d->e[i].type == RTE_TEL_CONTAINER && !d->e[i].keep)
			tree_free(d->e[i].child);
	rte_tel_data_free(d);
}

static struct rte_tel_data *
reply_new(void)
{
	struct rte_tel_data *d = rte_tel_data_alloc();

	assert_non_null(d);
	return d;
}

/* Render like 22.11: compact JSON, keys in insertion order. */
static size_t
render(const struct rte_tel_data *d, char *buf, size_t len)
{
	size_t n = 0;

#define OUT(...)                                                                                   \
	(n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, __VA_ARGS__))
	OUT("{");
	for (unsigned i = 0; i < d->len; i++) {
		const struct fake_entry *e = &d->e[i];

		OUT("%s\"%s\":", i ? "," : "", e->name);
		switch (e->type) {
		case RTE_TEL_STRING_VAL:
			OUT("\"%s\"", e->sval);
			break;
		case RTE_TEL_INT_VAL:
			OUT("%d", e->ival);
			break;
		case RTE_TEL_U64_VAL:
			OUT("%" PRIu64, e->uval);
			break;
		case RTE_TEL_CONTAINER:
			n += render(e->child, buf + (n < len ? n : len), n < len ? len - n : 0);
			break;
		}
	}
	OUT("}");
#undef OUT
	return n;
}

/* The size of the whole socket reply {"<cmd>":<data>}. */
static size_t
reply_size(const char *cmd, const struct rte_tel_data *d)
{
	return strlen(cmd) + 5 + render(d, NULL, 0);
}

/* Look up "a.b.c" through nested dicts. */
static const struct fake_entry *
lookup(const struct rte_tel_data *d, const char *path)
{
	char buf[256], *save = NULL, *tok;
	const struct fake_entry *e = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok != NULL; tok = strtok_r(NULL, ".", &save)) {
		if (e != NULL) {
			if (e->type != RTE_TEL_CONTAINER)
				return NULL;
			d = e->child;
		}
		e = NULL;
		for (unsigned i = 0; i < d->len; i++)
			if (strcmp(d->e[i].name, tok) == 0)
				e = &d->e[i];
		if (e == NULL)
			return NULL;
	}
	return e;
}

static void
check_u64(const struct rte_tel_data *d, const char *path, uint64_t want)
{
	const struct fake_entry *e = lookup(d, path);

	if (e == NULL)
		fail_msg("missing %s", path);
	if (e->type != RTE_TEL_U64_VAL)
		fail_msg("%s: not a u64 (type %d)", path, e->type);
	if (e->uval != want)
		fail_msg("%s: %" PRIu64 ", expected %" PRIu64, path, e->uval, want);
}

static void
check_int(const struct rte_tel_data *d, const char *path, int want)
{
	const struct fake_entry *e = lookup(d, path);

	if (e == NULL)
		fail_msg("missing %s", path);
	if (e->type != RTE_TEL_INT_VAL)
		fail_msg("%s: not an int (type %d)", path, e->type);
	if (e->ival != want)
		fail_msg("%s: %d, expected %d", path, e->ival, want);
}

static void
check_str(const struct rte_tel_data *d, const char *path, const char *want)
{
	const struct fake_entry *e = lookup(d, path);

	if (e == NULL)
		fail_msg("missing %s", path);
	if (e->type != RTE_TEL_STRING_VAL)
		fail_msg("%s: not a string (type %d)", path, e->type);
	if (strcmp(e->sval, want) != 0)
		fail_msg("%s: \"%s\", expected \"%s\"", path, e->sval, want);
}

static unsigned
nb_keys(const struct rte_tel_data *d, const char *path)
{
	const struct fake_entry *e;

	if (path == NULL)
		return d->len;
	e = lookup(d, path);
	if (e == NULL || e->type != RTE_TEL_CONTAINER)
		fail_msg("%s: not a container", path);
	return e->child->len;
}

/*
 * A capture of two ports (ids 0 and 3), two RX lcores (1, 2) and two writers
 * (3, 4), with counters chosen so that every sum is distinct.
 */
static struct sl_rx_stats rx0, rx1;
static struct sl_writer_stats wr0, wr1;

static void
make_view(struct sl_stats_view *v)
{
	memset(&rx0, 0, sizeof(rx0));
	memset(&rx1, 0, sizeof(rx1));
	memset(&wr0, 0, sizeof(wr0));
	memset(&wr1, 0, sizeof(wr1));
	rx0.port[0] = (struct sl_rx_port_stats){
		.received = 1000, .bytes = 64000, .filtered = 10, .ring_full = 5, .writer_nobuf = 7
	};
	rx0.port[3] = (struct sl_rx_port_stats){ .received = 500, .bytes = 32000, .ring_full = 1 };
	rx1.port[0] =
		(struct sl_rx_port_stats){ .received = 2000, .bytes = 128000, .writer_nobuf = 3 };
	wr0.port[0] = (struct sl_writer_port_stats){ .dequeued = 2960,
						     .written = 2950,
						     .written_bytes = 188800,
						     .nobuf = 2,
						     .write_error = 1,
						     .truncated = 4 };
	wr0.port[3] = (struct sl_writer_port_stats){ .dequeued = 499,
						     .written = 499,
						     .written_bytes = 31936 };
	wr1.port[0] = (struct sl_writer_port_stats){ .dequeued = 21,
						     .written = 20,
						     .written_bytes = 1280 };
	wr0.file_bytes = 123456;
	wr0.files_opened = 3;
	wr0.files_closed = 2;
	wr0.file_errors = 1;
	wr0.partial_flushes = 6;
	wr0.buffers_in_flight = 2;
	wr0.buffers_free = 14;
	wr0.busy_polls = 77;
	wr0.idle_polls = 88;
	wr0.backlog_polls = 9;
	wr0.io = (struct sl_io_stats){ .submit_calls = 10,
				       .sqes = 35,
				       .max_batch = 8,
				       .writes = 33,
				       .write_bytes = 4 << 20,
				       .short_writes = 2,
				       .retries = 1,
				       .errors = 1,
				       .enospc = 1,
				       .fsyncs = 2,
				       .sq_full = 5,
				       .inflight = 3,
				       .pending = 1,
				       .lat_count = 4,
				       .lat_sum_ns = 10000,
				       .lat_max_ns = 7400,
				       .fsync_lat_count = 2,
				       .fsync_lat_sum_ns = 3000001,
				       .fsync_lat_max_ns = 2999500,
				       .last_errno = 28 };

	memset(v, 0, sizeof(*v));
	v->mode = "capture";
	v->elapsed_s = 12.3456;
	v->nb_ports = 2;
	v->port_id[0] = 0;
	v->port_id[1] = 3;
	v->port_name[0] = "net_pcap0";
	v->port_name[1] = "0000:01:00.0";
	v->nic[0] = (struct sl_nic_stats){
		.ipackets = 3100, .ibytes = 200000, .imissed = 100, .ierrors = 1, .rx_nombuf = 3
	};
	v->nic[1] = (struct sl_nic_stats){ .ipackets = 500, .ibytes = 32000, .imissed = 7 };
	v->nb_rx = 2;
	v->rx_lcore[0] = 1;
	v->rx_lcore[1] = 2;
	v->rx[0] = &rx0;
	v->rx[1] = &rx1;
	v->nb_writers = 2;
	v->writer_lcore[0] = 3;
	v->writer_lcore[1] = 4;
	v->writer[0] = &wr0;
	v->writer[1] = &wr1;
}

static void
test_stats_totals(void **state)
{
	struct sl_stats_view v;
	struct rte_tel_data *d = reply_new();

	make_view(&v);
	assert_int_equal(sl_telemetry_fill_stats(&v, "running", d), 0);
	check_str(d, "mode", "capture");
	check_str(d, "state", "running");
	check_u64(d, "elapsed_s", 12);
	check_u64(d, "elapsed_ms", 12346);
	check_u64(d, "nb_ports", 2);
	check_u64(d, "nb_rx_lcores", 2);
	check_u64(d, "nb_writers", 2);
	check_u64(d, "received", 3500);
	check_u64(d, "bytes", 224000);
	check_u64(d, "written", 3469);
	check_u64(d, "written_bytes", 222016);
	check_u64(d, "filtered", 10);
	check_u64(d, "truncated", 4);
	check_u64(d, "ring_full", 6);
	/* 7 + 3 counted by the RX lcores at the ring, 2 by writer 0 itself. */
	check_u64(d, "writer_nobuf", 12);
	check_u64(d, "write_error", 1);
	check_u64(d, "dropped", 19);
	/* 3500 - 3469 - 10 - 19 packets still in flight. */
	check_u64(d, "unaccounted", 2);
	check_u64(d, "nic_ipackets", 3600);
	check_u64(d, "nic_ibytes", 232000);
	check_u64(d, "nic_imissed", 107);
	check_u64(d, "nic_rx_nombuf", 3);
	check_u64(d, "nic_ierrors", 1);
	assert_int_equal(nb_keys(d, NULL), 23);
	tree_free(d);
	assert_int_equal(live_containers, 0);
}

/* Counters read one after another can make the in-flight count negative. */
static void
test_stats_negative_unaccounted(void **state)
{
	struct sl_stats_view v;
	struct rte_tel_data *d = reply_new();

	make_view(&v);
	wr1.port[0].written = 27;
	v.elapsed_s = 0;
	assert_int_equal(sl_telemetry_fill_stats(&v, "stopped", d), 0);
	check_int(d, "unaccounted", -5);
	check_str(d, "state", "stopped");
	check_u64(d, "elapsed_ms", 0);
	tree_free(d);
}

static void
test_ports_all_and_one(void **state)
{
	struct sl_stats_view v;
	struct rte_tel_data *d = reply_new();

	make_view(&v);
	assert_int_equal(sl_telemetry_fill_ports(&v, -1, d), 0);
	assert_int_equal(nb_keys(d, NULL), 2);
	check_u64(d, "0.port_id", 0);
	check_str(d, "0.name", "net_pcap0");
	check_u64(d, "0.received", 3000);
	check_u64(d, "0.bytes", 192000);
	check_u64(d, "0.written", 2970);
	check_u64(d, "0.written_bytes", 190080);
	check_u64(d, "0.filtered", 10);
	check_u64(d, "0.ring_full", 5);
	check_u64(d, "0.writer_nobuf", 12);
	check_u64(d, "0.write_error", 1);
	check_u64(d, "0.dropped", 18);
	check_u64(d, "0.unaccounted", 2);
	check_u64(d, "0.nic_ipackets", 3100);
	check_u64(d, "0.nic_imissed", 100);
	check_u64(d, "0.nic_rx_nombuf", 3);
	check_u64(d, "0.nic_ierrors", 1);
	check_u64(d, "3.port_id", 3);
	check_str(d, "3.name", "0000:01:00.0");
	check_u64(d, "3.received", 500);
	check_u64(d, "3.written", 499);
	check_u64(d, "3.ring_full", 1);
	check_u64(d, "3.unaccounted", 0);
	check_u64(d, "3.nic_imissed", 7);
	assert_int_equal(nb_keys(d, "3"), nb_keys(d, "0"));
	tree_free(d);

	d = reply_new();
	assert_int_equal(sl_telemetry_fill_ports(&v, 3, d), 0);
	check_u64(d, "port_id", 3);
	check_str(d, "name", "0000:01:00.0");
	check_u64(d, "written_bytes", 31936);
	assert_null(lookup(d, "0"));
	tree_free(d);

	d = reply_new();
	assert_int_equal(sl_telemetry_fill_ports(&v, 1, d), -ENODEV);
	tree_free(d);
	assert_int_equal(live_containers, 0);
}

static void
test_writers_all_and_one(void **state)
{
	struct sl_stats_view v;
	struct rte_tel_data *d = reply_new();

	make_view(&v);
	assert_int_equal(sl_telemetry_fill_writers(&v, -1, d), 0);
	assert_int_equal(nb_keys(d, NULL), 2);
	check_u64(d, "0.writer", 0);
	check_u64(d, "0.lcore", 3);
	check_u64(d, "0.dequeued", 3459);
	check_u64(d, "0.written", 3449);
	check_u64(d, "0.written_bytes", 220736);
	check_u64(d, "0.truncated", 4);
	check_u64(d, "0.nobuf", 2);
	check_u64(d, "0.write_error", 1);
	check_u64(d, "0.file_bytes", 123456);
	check_u64(d, "0.files_opened", 3);
	check_u64(d, "0.files_closed", 2);
	check_u64(d, "0.file_errors", 1);
	check_u64(d, "0.partial_flushes", 6);
	check_u64(d, "0.buffers_in_flight", 2);
	check_u64(d, "0.buffers_free", 14);
	check_u64(d, "0.busy_polls", 77);
	check_u64(d, "0.idle_polls", 88);
	check_u64(d, "0.backlog_polls", 9);
	check_u64(d, "0.io.submit_calls", 10);
	check_u64(d, "0.io.sqes", 35);
	check_u64(d, "0.io.max_batch", 8);
	check_u64(d, "0.io.avg_batch", 4); /* 3.5 rounds up */
	check_u64(d, "0.io.writes", 33);
	check_u64(d, "0.io.write_bytes", 4 << 20);
	check_u64(d, "0.io.short_writes", 2);
	check_u64(d, "0.io.retries", 1);
	check_u64(d, "0.io.errors", 1);
	check_u64(d, "0.io.enospc", 1);
	check_int(d, "0.io.last_errno", 28);
	check_u64(d, "0.io.fsyncs", 2);
	check_u64(d, "0.io.sq_full", 5);
	check_u64(d, "0.io.inflight", 3);
	check_u64(d, "0.io.pending", 1);
	check_u64(d, "0.io.write_latency_avg_ns", 2500);
	check_u64(d, "0.io.write_latency_avg_us", 3);
	check_u64(d, "0.io.write_latency_max_ns", 7400);
	check_u64(d, "0.io.write_latency_max_us", 7);
	check_u64(d, "0.io.fsync_latency_avg_ns", 1500000);
	check_u64(d, "0.io.fsync_latency_avg_us", 1500);
	check_u64(d, "0.io.fsync_latency_max_ns", 2999500);
	check_u64(d, "0.io.fsync_latency_max_us", 3000);
	check_u64(d, "1.writer", 1);
	check_u64(d, "1.lcore", 4);
	check_u64(d, "1.written", 20);
	/* Nothing submitted and nothing measured: zeros, not a division by 0. */
	check_u64(d, "1.io.avg_batch", 0);
	check_u64(d, "1.io.write_latency_avg_us", 0);
	tree_free(d);

	d = reply_new();
	assert_int_equal(sl_telemetry_fill_writers(&v, 1, d), 0);
	check_u64(d, "lcore", 4);
	check_u64(d, "dequeued", 21);
	check_u64(d, "io.sqes", 0);
	tree_free(d);

	d = reply_new();
	assert_int_equal(sl_telemetry_fill_writers(&v, 2, d), -ENODEV);
	tree_free(d);
	assert_int_equal(live_containers, 0);
}

/* A failed allocation midway fails the reply and leaks nothing. */
static void
test_alloc_failure(void **state)
{
	struct sl_stats_view v;

	make_view(&v);
	for (long k = 0; k < 4; k++) {
		struct rte_tel_data *d = reply_new();

		allocs_until_failure = k;
		assert_int_equal(sl_telemetry_fill_writers(&v, -1, d), -ENOMEM);
		allocs_until_failure = -1;
		tree_free(d);
		assert_int_equal(live_containers, 0);
	}
	for (long k = 0; k < 2; k++) {
		struct rte_tel_data *d = reply_new();

		allocs_until_failure = k;
		assert_int_equal(sl_telemetry_fill_ports(&v, -1, d), -ENOMEM);
		allocs_until_failure = -1;
		tree_free(d);
		assert_int_equal(live_containers, 0);
	}
}

static void *
ring_new(const char *name, unsigned size)
{
	struct rte_ring *r = aligned_alloc(
		RTE_CACHE_LINE_SIZE,
		RTE_ALIGN(rte_ring_get_memsize(rte_align32pow2(size + 1)), RTE_CACHE_LINE_SIZE));

	assert_non_null(r);
	assert_int_equal(
		rte_ring_init(r, name, size, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ), 0);
	return r;
}

/*
 * Two RX lcores, two writers, ports 0 and 1, each RX lcore with one queue per
 * port: rx0 sends port 0 to writer 0 and port 1 to writer 1, rx1 sends both
 * ports to writer 0; rx1 has no ring to writer 1.
 */
static void
test_layout_rings(void **state)
{
	static struct rte_ring *rings[SL_MAX_LCORES][SL_MAX_LCORES];
	static struct sl_layout l;
	struct sl_rx_stats *rx_stats[2] = { &rx0, &rx1 };
	struct sl_telemetry_ring out[4];
	void *objs[7] = { 0 };
	struct rte_tel_data *d;
	unsigned n;

	memset(&l, 0, sizeof(l));
	l.nb_rx = 2;
	l.rx_lcore[0] = 1;
	l.rx_lcore[1] = 2;
	l.nb_writers = 2;
	l.writer_lcore[0] = 3;
	l.writer_lcore[1] = 4;
	l.nb_queues = 4;
	l.queues[0] = (struct sl_layout_queue){ .port = 0, .queue = 0, .rx = 0, .writer = 0 };
	l.queues[1] = (struct sl_layout_queue){ .port = 1, .queue = 0, .rx = 0, .writer = 1 };
	l.queues[2] = (struct sl_layout_queue){ .port = 0, .queue = 1, .rx = 1, .writer = 0 };
	l.queues[3] = (struct sl_layout_queue){ .port = 1, .queue = 1, .rx = 1, .writer = 0 };
	memset(&rx0, 0, sizeof(rx0));
	memset(&rx1, 0, sizeof(rx1));
	rx0.port[0] =
		(struct sl_rx_port_stats){ .received = 100, .ring_full = 3, .writer_nobuf = 2 };
	rx0.port[1] = (struct sl_rx_port_stats){ .received = 50, .ring_full = 5 };
	rx1.port[0] = (struct sl_rx_port_stats){ .received = 70, .writer_nobuf = 1 };
	rx1.port[1] = (struct sl_rx_port_stats){ .received = 30, .ring_full = 2, .filtered = 4 };
	memset(rings, 0, sizeof(rings));
	rings[0][0] = ring_new("sl_rx0_w0", 100);
	rings[0][1] = ring_new("sl_rx0_w1", 1000);
	rings[1][0] = ring_new("sl_rx1_w0", 64);
	assert_int_equal(rte_ring_sp_enqueue_burst(rings[0][0], objs, 7, NULL), 7);

	n = sl_telemetry_layout_rings(&l, rx_stats, rings, out, 4);
	assert_int_equal(n, 3);
	assert_string_equal(out[0].name, "sl_rx0_w0");
	assert_int_equal(out[0].rx, 0);
	assert_int_equal(out[0].rx_lcore, 1);
	assert_int_equal(out[0].writer, 0);
	assert_int_equal(out[0].writer_lcore, 3);
	assert_ptr_equal(out[0].ring, rings[0][0]);
	assert_int_equal(out[0].enqueued, 95);
	assert_int_equal(out[0].ring_full, 3);
	assert_int_equal(out[0].writer_nobuf, 2);
	assert_string_equal(out[1].name, "sl_rx0_w1");
	assert_int_equal(out[1].writer_lcore, 4);
	assert_int_equal(out[1].enqueued, 45);
	assert_int_equal(out[1].ring_full, 5);
	assert_string_equal(out[2].name, "sl_rx1_w0");
	assert_int_equal(out[2].rx_lcore, 2);
	assert_int_equal(out[2].enqueued, 69 + 24);
	assert_int_equal(out[2].ring_full, 2);
	assert_int_equal(out[2].writer_nobuf, 1);

	/* A port listed twice for one RX lcore is still counted once. */
	l.queues[4] = (struct sl_layout_queue){ .port = 0, .queue = 2, .rx = 0, .writer = 0 };
	l.nb_queues = 5;
	assert_int_equal(sl_telemetry_layout_rings(&l, rx_stats, rings, out, 4), 3);
	assert_int_equal(out[0].enqueued, 95);
	assert_int_equal(out[0].ring_full, 3);
	l.nb_queues = 4;

	/* Drops read before a reception they belong to never go below zero. */
	rx1.port[1].received = 3;
	assert_int_equal(sl_telemetry_layout_rings(&l, rx_stats, rings, out, 4), 3);
	assert_int_equal(out[2].enqueued, 69);
	rx1.port[1].received = 30;

	/* A short output array takes the first rings. */
	assert_int_equal(sl_telemetry_layout_rings(&l, rx_stats, rings, out, 2), 2);
	assert_string_equal(out[1].name, "sl_rx0_w1");

	/* Rendered: exact capacity and occupancy come from the rings. */
	n = sl_telemetry_layout_rings(&l, rx_stats, rings, out, 4);
	d = reply_new();
	assert_int_equal(sl_telemetry_fill_rings(out, n, NULL, d), 0);
	assert_int_equal(nb_keys(d, NULL), 3);
	check_str(d, "sl_rx0_w0.name", "sl_rx0_w0");
	check_u64(d, "sl_rx0_w0.size", 100);
	check_u64(d, "sl_rx0_w0.count", 7);
	check_u64(d, "sl_rx0_w0.enqueued", 95);
	check_u64(d, "sl_rx0_w0.full_drops", 5);
	check_u64(d, "sl_rx0_w0.ring_full", 3);
	check_u64(d, "sl_rx0_w0.writer_nobuf", 2);
	check_u64(d, "sl_rx0_w0.rx", 0);
	check_u64(d, "sl_rx0_w0.rx_lcore", 1);
	check_u64(d, "sl_rx0_w0.writer", 0);
	check_u64(d, "sl_rx0_w0.writer_lcore", 3);
	check_u64(d, "sl_rx0_w1.size", 1000);
	check_u64(d, "sl_rx0_w1.count", 0);
	check_u64(d, "sl_rx1_w0.size", 64);
	check_u64(d, "sl_rx1_w0.full_drops", 3);
	tree_free(d);

	d = reply_new();
	assert_int_equal(sl_telemetry_fill_rings(out, n, "sl_rx1_w0", d), 0);
	check_u64(d, "enqueued", 93);
	check_u64(d, "rx", 1);
	tree_free(d);
	d = reply_new();
	assert_int_equal(sl_telemetry_fill_rings(out, n, "sl_rx9_w9", d), -ENODEV);
	tree_free(d);
	assert_int_equal(live_containers, 0);
	free(rings[0][0]);
	free(rings[0][1]);
	free(rings[1][0]);
}

/* Keys take only letters, digits, '_' and '/': other names are made so. */
static void
test_ring_keys_sanitised(void **state)
{
	struct sl_telemetry_ring r[2] = {
		{ .name = "my.ring-1" },
		{ .name = NULL, .rx = 1 },
	};
	struct rte_tel_data *d = reply_new();

	assert_int_equal(sl_telemetry_fill_rings(r, 2, NULL, d), 0);
	check_str(d, "my_ring_1.name", "my.ring-1");
	check_u64(d, "my_ring_1.size", 0);
	check_str(d, "ring1.name", "");
	check_u64(d, "ring1.rx", 1);
	tree_free(d);
	assert_int_equal(live_containers, 0);
}

/* More rings than a telemetry dict holds: refused, and nothing leaks. */
static void
test_rings_too_many(void **state)
{
	static struct sl_telemetry_ring r[RTE_TEL_MAX_DICT_ENTRIES + 1];
	struct rte_tel_data *d = reply_new();

	memset(r, 0, sizeof(r));
	assert_int_equal(sl_telemetry_fill_rings(r, RTE_TEL_MAX_DICT_ENTRIES + 1, NULL, d),
			 -ENOSPC);
	assert_int_equal(nb_keys(d, NULL), RTE_TEL_MAX_DICT_ENTRIES);
	tree_free(d);
	assert_int_equal(live_containers, 0);
	d = reply_new();
	assert_int_equal(sl_telemetry_fill_rings(r, RTE_TEL_MAX_DICT_ENTRIES, NULL, d), 0);
	tree_free(d);
	assert_int_equal(live_containers, 0);
}

/* Worst-case counters (20 digits): what fits in one 16 KiB reply. */
static void
test_replies_fit(void **state)
{
	static struct sl_writer_stats big_wr;
	static struct sl_rx_stats big_rx;
	struct sl_stats_view v;
	static char names[64][RTE_RING_NAMESIZE];
	struct sl_telemetry_ring rings[64];
	struct rte_tel_data *d;
	size_t size;

	memset(&big_wr, 0xff, sizeof(big_wr));
	big_wr.io.last_errno = -2147483647;
	big_wr.io.lat_count = 1;
	memset(&big_rx, 0, sizeof(big_rx));
	memset(&v, 0, sizeof(v));
	v.mode = "capture";
	v.elapsed_s = 1e9;
	v.nb_ports = 8;
	v.nb_rx = 1;
	v.rx[0] = &big_rx;
	v.nb_writers = 8;
	for (unsigned i = 0; i < 8; i++) {
		v.port_id[i] = (uint16_t)(i + 10);
		v.port_name[i] = "0000:ff:1f.7_representor_vf_255";
		memset(&v.nic[i], 0xff, sizeof(v.nic[i]));
		v.writer_lcore[i] = 127;
		v.writer[i] = &big_wr;
	}
	for (unsigned i = 0; i < 64; i++) {
		memset(&rings[i], 0xff, sizeof(rings[i]));
		snprintf(names[i], sizeof(names[i]), "sl_rx%u_w127_abcdefghijkl", 100 + i);
		rings[i].name = names[i];
		rings[i].ring = NULL;
	}

	d = reply_new();
	assert_int_equal(sl_telemetry_fill_stats(&v, "running", d), 0);
	size = reply_size("/sluice/stats", d);
	print_message("/sluice/stats: %zu bytes\n", size);
	assert_true(size < 2048);
	tree_free(d);

	d = reply_new();
	assert_int_equal(sl_telemetry_fill_ports(&v, -1, d), 0);
	size = reply_size("/sluice/ports", d);
	print_message("/sluice/ports, 8 ports: %zu bytes\n", size);
	assert_true(size < TEL_OUTPUT_MAX);
	tree_free(d);

	d = reply_new();
	assert_int_equal(sl_telemetry_fill_writers(&v, -1, d), 0);
	size = reply_size("/sluice/writers", d);
	print_message("/sluice/writers, 8 writers: %zu bytes\n", size);
	assert_true(size < TEL_OUTPUT_MAX);
	tree_free(d);

	d = reply_new();
	assert_int_equal(sl_telemetry_fill_rings(rings, 40, NULL, d), 0);
	size = reply_size("/sluice/rings", d);
	print_message("/sluice/rings, 40 rings: %zu bytes\n", size);
	assert_true(size < TEL_OUTPUT_MAX);
	tree_free(d);
	assert_int_equal(live_containers, 0);
}

/* The commands, reached as DPDK would call them. */
#define MAX_CMDS 1024
static struct {
	char name[64];
	telemetry_cb fn;
	unsigned registered;
} cmds[MAX_CMDS];
static unsigned nb_cmds;

/* DPDK's own libraries register their commands from constructors, too. */
int
rte_telemetry_register_cmd(const char *cmd, telemetry_cb fn, const char *help)
{
	if (help == NULL || strlen(help) >= RTE_TEL_MAX_STRING_LEN)
		return -EINVAL;
	for (unsigned i = 0; i < nb_cmds; i++)
		if (strcmp(cmds[i].name, cmd) == 0) {
			cmds[i].registered++;
			return 0;
		}
	if (nb_cmds == MAX_CMDS)
		return -ENOMEM;
	snprintf(cmds[nb_cmds].name, sizeof(cmds[0].name), "%s", cmd);
	cmds[nb_cmds].fn = fn;
	cmds[nb_cmds].registered = 1;
	nb_cmds++;
	return 0;
}

static unsigned
times_registered(const char *cmd)
{
	for (unsigned i = 0; i < nb_cmds; i++)
		if (strcmp(cmds[i].name, cmd) == 0)
			return cmds[i].registered;
	return 0;
}

/* Run a command; on success keep the reply in *out, else free it. */
static int
call(const char *line, struct rte_tel_data **out)
{
	char cmd[64];
	const char *comma = strchr(line, ',');
	const char *params = comma != NULL ? comma + 1 : NULL;
	struct rte_tel_data *d = reply_new();
	int rc;

	snprintf(cmd, sizeof(cmd), "%.*s", (int)(comma ? comma - line : (long)strlen(line)), line);
	for (unsigned i = 0; i < nb_cmds; i++) {
		if (strcmp(cmds[i].name, cmd) != 0)
			continue;
		rc = cmds[i].fn(cmd, params, d);
		if (rc == 0 && out != NULL) {
			*out = d;
		} else {
			tree_free(d);
			if (out != NULL)
				*out = NULL;
		}
		return rc;
	}
	fail_msg("command %s not registered", cmd);
	return -1;
}

struct fake_app {
	struct sl_stats_view view;
	const char *state;
	unsigned views, ring_calls;
	struct sl_telemetry_ring rings[2];
};

static void
app_view(void *arg, struct sl_stats_view *v)
{
	struct fake_app *a = arg;

	a->views++;
	*v = a->view;
}

static unsigned
app_rings(void *arg, struct sl_telemetry_ring *out, unsigned max)
{
	struct fake_app *a = arg;

	a->ring_calls++;
	assert_int_equal(max, SL_TELEMETRY_MAX_RINGS);
	out[0] = a->rings[0];
	out[1] = a->rings[1];
	return 2;
}

static const char *
app_state(void *arg)
{
	return ((struct fake_app *)arg)->state;
}

static void
test_commands(void **state)
{
	static struct fake_app app;
	struct sl_telemetry_source src = {
		.arg = &app,
		.view = app_view,
		.rings = app_rings,
		.state = app_state,
	};
	struct sl_telemetry_source no_view = { .arg = &app };
	struct rte_tel_data *d;
	unsigned views;

	make_view(&app.view);
	app.state = "running";
	app.rings[0] = (struct sl_telemetry_ring){ .name = "sl_rx0_w0", .enqueued = 11 };
	app.rings[1] = (struct sl_telemetry_ring){ .name = "sl_rx1_w0", .enqueued = 22 };

	assert_int_equal(sl_telemetry_register(NULL), -EINVAL);
	assert_int_equal(sl_telemetry_register(&no_view), -EINVAL);
	assert_int_equal(sl_telemetry_register(&src), 0);
	assert_int_equal(sl_telemetry_register(&src), -EBUSY);

	assert_int_equal(call("/sluice/stats", &d), 0);
	check_u64(d, "received", 3500);
	check_str(d, "state", "running");
	tree_free(d);
	app.state = "stopped";
	assert_int_equal(call("/sluice/stats", &d), 0);
	check_str(d, "state", "stopped");
	tree_free(d);
	assert_int_equal(call("/sluice/stats,1", NULL), -EINVAL);

	assert_int_equal(call("/sluice/ports", &d), 0);
	check_str(d, "0.name", "net_pcap0");
	check_str(d, "3.name", "0000:01:00.0");
	tree_free(d);
	assert_int_equal(call("/sluice/ports,3", &d), 0);
	check_u64(d, "received", 500);
	tree_free(d);
	assert_int_equal(call("/sluice/ports,", &d), 0); /* empty: all ports */
	assert_int_equal(nb_keys(d, NULL), 2);
	tree_free(d);
	assert_int_equal(call("/sluice/ports,1", NULL), -ENODEV);
	assert_int_equal(call("/sluice/ports,x", NULL), -EINVAL);
	assert_int_equal(call("/sluice/ports,-1", NULL), -EINVAL);
	assert_int_equal(call("/sluice/ports,65536", NULL), -EINVAL);

	assert_int_equal(call("/sluice/writers", &d), 0);
	check_u64(d, "1.lcore", 4);
	tree_free(d);
	assert_int_equal(call("/sluice/writers,0", &d), 0);
	check_u64(d, "io.sqes", 35);
	tree_free(d);
	assert_int_equal(call("/sluice/writers,2", NULL), -ENODEV);
	assert_int_equal(call("/sluice/writers,0x1", NULL), -EINVAL);

	assert_int_equal(call("/sluice/rings", &d), 0);
	check_u64(d, "sl_rx0_w0.enqueued", 11);
	check_u64(d, "sl_rx1_w0.enqueued", 22);
	tree_free(d);
	assert_int_equal(call("/sluice/rings,sl_rx1_w0", &d), 0);
	check_u64(d, "enqueued", 22);
	tree_free(d);
	assert_int_equal(call("/sluice/rings,nope", NULL), -ENODEV);
	assert_true(app.ring_calls >= 3);

	/* Detached: the commands stay (DPDK cannot remove them) but answer null. */
	sl_telemetry_unregister();
	views = app.views;
	assert_int_equal(call("/sluice/stats", NULL), -ENODEV);
	assert_int_equal(call("/sluice/ports", NULL), -ENODEV);
	assert_int_equal(call("/sluice/writers", NULL), -ENODEV);
	assert_int_equal(call("/sluice/rings", NULL), -ENODEV);
	assert_int_equal(app.views, views);
	sl_telemetry_unregister();

	/* A new source: the commands are not registered with DPDK twice. */
	src.rings = NULL;
	src.state = NULL;
	assert_int_equal(sl_telemetry_register(&src), 0);
	assert_int_equal(call("/sluice/stats", &d), 0);
	check_str(d, "state", "running");
	tree_free(d);
	assert_int_equal(call("/sluice/rings", &d), 0);
	assert_int_equal(nb_keys(d, NULL), 0);
	tree_free(d);
	assert_int_equal(times_registered("/sluice/stats"), 1);
	assert_int_equal(times_registered("/sluice/ports"), 1);
	assert_int_equal(times_registered("/sluice/writers"), 1);
	assert_int_equal(times_registered("/sluice/rings"), 1);
	sl_telemetry_unregister();
	assert_int_equal(live_containers, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_totals),
		cmocka_unit_test(test_stats_negative_unaccounted),
		cmocka_unit_test(test_ports_all_and_one),
		cmocka_unit_test(test_writers_all_and_one),
		cmocka_unit_test(test_alloc_failure),
		cmocka_unit_test(test_layout_rings),
		cmocka_unit_test(test_ring_keys_sanitised),
		cmocka_unit_test(test_rings_too_many),
		cmocka_unit_test(test_replies_fit),
		cmocka_unit_test(test_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
