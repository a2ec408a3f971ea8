/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "sl_telemetry.h"

RTE_LOG_REGISTER(sl_logtype_telemetry, sluice.telemetry, INFO);
#define TEL_LOG(level, fmt, ...)                                                                   \
	rte_log(RTE_LOG_##level, sl_logtype_telemetry, "telemetry: " fmt, ##__VA_ARGS__)

/*
 * The dict helpers below stop at the first failure and keep its errno in *rc,
 * so a reply is built as a flat list of calls with one check at the end.
 * Positive returns (E2BIG: a string was truncated) are not failures.
 */
static void
add_u64(struct rte_tel_data *d, int *rc, const char *name, uint64_t val)
{
	int r;

	if (*rc != 0)
		return;
	r = rte_tel_data_add_dict_u64(d, name, val);
	if (r < 0)
		*rc = r;
}

static void
add_int(struct rte_tel_data *d, int *rc, const char *name, int val)
{
	int r;

	if (*rc != 0)
		return;
	r = rte_tel_data_add_dict_int(d, name, val);
	if (r < 0)
		*rc = r;
}

/* Telemetry 22.11 has signed values of 32 bits only. */
static void
add_i64(struct rte_tel_data *d, int *rc, const char *name, int64_t val)
{
	if (val >= 0)
		add_u64(d, rc, name, (uint64_t)val);
	else
		add_int(d, rc, name, val < INT_MIN ? INT_MIN : (int)val);
}

static void
add_string(struct rte_tel_data *d, int *rc, const char *name, const char *val)
{
	int r;

	if (*rc != 0)
		return;
	r = rte_tel_data_add_dict_string(d, name, val != NULL ? val : "");
	if (r < 0)
		*rc = r;
}

/* Takes @p child: it is attached to @p d, or freed. */
static void
add_container(struct rte_tel_data *d, int *rc, const char *name, struct rte_tel_data *child)
{
	int r;

	if (*rc != 0) {
		rte_tel_data_free(child);
		return;
	}
	r = rte_tel_data_add_dict_container(d, name, child, 0);
	if (r < 0) {
		rte_tel_data_free(child);
		*rc = r;
	}
}

static struct rte_tel_data *
new_dict(int *rc)
{
	struct rte_tel_data *d;

	if (*rc != 0)
		return NULL;
	d = rte_tel_data_alloc();
	if (d == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	rte_tel_data_start_dict(d);
	return d;
}

static void
add_fate(struct rte_tel_data *d, int *rc, const struct sl_fate *f)
{
	add_u64(d, rc, "received", f->received);
	add_u64(d, rc, "bytes", f->bytes);
	add_u64(d, rc, "written", f->written);
	add_u64(d, rc, "written_bytes", f->written_bytes);
	add_u64(d, rc, "filtered", f->filtered);
	add_u64(d, rc, "truncated", f->truncated);
	add_u64(d, rc, "dropped", sl_fate_drops(f));
	add_u64(d, rc, "ring_full", f->ring_full);
	add_u64(d, rc, "writer_nobuf", f->writer_nobuf);
	add_u64(d, rc, "write_error", f->write_error);
	add_i64(d, rc, "unaccounted", sl_fate_unaccounted(f));
}

static void
add_nic(struct rte_tel_data *d, int *rc, const struct sl_nic_stats *n)
{
	add_u64(d, rc, "nic_ipackets", n->ipackets);
	add_u64(d, rc, "nic_ibytes", n->ibytes);
	add_u64(d, rc, "nic_imissed", n->imissed);
	add_u64(d, rc, "nic_rx_nombuf", n->rx_nombuf);
	add_u64(d, rc, "nic_ierrors", n->ierrors);
}

int
sl_telemetry_fill_stats(const struct sl_stats_view *v, const char *state, struct rte_tel_data *d)
{
	struct sl_nic_stats nic = { 0 };
	struct sl_fate total;
	uint64_t elapsed_ms;
	int rc = 0;

	sl_stats_fate(v, -1, &total);
	for (unsigned i = 0; i < v->nb_ports; i++) {
		nic.ipackets += v->nic[i].ipackets;
		nic.ibytes += v->nic[i].ibytes;
		nic.imissed += v->nic[i].imissed;
		nic.rx_nombuf += v->nic[i].rx_nombuf;
		nic.ierrors += v->nic[i].ierrors;
	}
	elapsed_ms = v->elapsed_s > 0 ? (uint64_t)(v->elapsed_s * 1000.0 + 0.5) : 0;

	rte_tel_data_start_dict(d);
	add_string(d, &rc, "mode", v->mode);
	add_string(d, &rc, "state", state);
	add_u64(d, &rc, "elapsed_s", elapsed_ms / 1000);
	add_u64(d, &rc, "elapsed_ms", elapsed_ms);
	add_u64(d, &rc, "nb_ports", v->nb_ports);
	add_u64(d, &rc, "nb_rx_lcores", v->nb_rx);
	add_u64(d, &rc, "nb_writers", v->nb_writers);
	add_fate(d, &rc, &total);
	add_nic(d, &rc, &nic);
	return rc;
}

static void
add_port(struct rte_tel_data *d, int *rc, const struct sl_stats_view *v, unsigned i)
{
	struct sl_fate f;

	sl_stats_fate(v, v->port_id[i], &f);
	add_u64(d, rc, "port_id", v->port_id[i]);
	add_string(d, rc, "name", v->port_name[i]);
	add_fate(d, rc, &f);
	add_nic(d, rc, &v->nic[i]);
}

int
sl_telemetry_fill_ports(const struct sl_stats_view *v, int port_id, struct rte_tel_data *d)
{
	char key[16];
	int rc = 0;

	if (port_id >= 0) {
		for (unsigned i = 0; i < v->nb_ports; i++) {
			if (v->port_id[i] != port_id)
				continue;
			rte_tel_data_start_dict(d);
			add_port(d, &rc, v, i);
			return rc;
		}
		return -ENODEV;
	}
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < v->nb_ports && rc == 0; i++) {
		struct rte_tel_data *p = new_dict(&rc);

		if (p == NULL)
			break;
		add_port(p, &rc, v, i);
		snprintf(key, sizeof(key), "%u", v->port_id[i]);
		add_container(d, &rc, key, p);
	}
	return rc;
}

static uint64_t
div_round(uint64_t num, uint64_t den)
{
	return den != 0 ? (num + den / 2) / den : 0;
}

static void
add_io(struct rte_tel_data *d, int *rc, const struct sl_io_stats *io)
{
	uint64_t lat_avg_ns = io->lat_count != 0 ? io->lat_sum_ns / io->lat_count : 0;
	uint64_t fsync_avg_ns =
		io->fsync_lat_count != 0 ? io->fsync_lat_sum_ns / io->fsync_lat_count : 0;

	add_u64(d, rc, "submit_calls", io->submit_calls);
	add_u64(d, rc, "sqes", io->sqes);
	add_u64(d, rc, "max_batch", io->max_batch);
	add_u64(d, rc, "avg_batch", div_round(io->sqes, io->submit_calls));
	add_u64(d, rc, "writes", io->writes);
	add_u64(d, rc, "write_bytes", io->write_bytes);
	add_u64(d, rc, "short_writes", io->short_writes);
	add_u64(d, rc, "retries", io->retries);
	add_u64(d, rc, "errors", io->errors);
	add_u64(d, rc, "enospc", io->enospc);
	add_int(d, rc, "last_errno", io->last_errno);
	add_u64(d, rc, "fsyncs", io->fsyncs);
	add_u64(d, rc, "sq_full", io->sq_full);
	add_u64(d, rc, "inflight", io->inflight);
	add_u64(d, rc, "pending", io->pending);
	add_u64(d, rc, "write_latency_avg_us", div_round(lat_avg_ns, 1000));
	add_u64(d, rc, "write_latency_max_us", div_round(io->lat_max_ns, 1000));
	add_u64(d, rc, "write_latency_avg_ns", lat_avg_ns);
	add_u64(d, rc, "write_latency_max_ns", io->lat_max_ns);
	add_u64(d, rc, "fsync_latency_avg_us", div_round(fsync_avg_ns, 1000));
	add_u64(d, rc, "fsync_latency_max_us", div_round(io->fsync_lat_max_ns, 1000));
	add_u64(d, rc, "fsync_latency_avg_ns", fsync_avg_ns);
	add_u64(d, rc, "fsync_latency_max_ns", io->fsync_lat_max_ns);
}

static void
add_writer(struct rte_tel_data *d, int *rc, const struct sl_stats_view *v, unsigned i)
{
	const struct sl_writer_stats *w = v->writer[i];
	struct rte_tel_data *io;
	uint64_t dequeued = 0;
	struct sl_fate f;

	sl_stats_writer_fate(w, -1, &f);
	for (unsigned p = 0; p < SL_MAX_PORTS; p++)
		dequeued += w->port[p].dequeued;
	add_u64(d, rc, "writer", i);
	add_u64(d, rc, "lcore", v->writer_lcore[i]);
	add_u64(d, rc, "dequeued", dequeued);
	add_u64(d, rc, "written", f.written);
	add_u64(d, rc, "written_bytes", f.written_bytes);
	add_u64(d, rc, "truncated", f.truncated);
	add_u64(d, rc, "nobuf", f.writer_nobuf);
	add_u64(d, rc, "write_error", f.write_error);
	add_u64(d, rc, "file_bytes", w->file_bytes);
	add_u64(d, rc, "files_opened", w->files_opened);
	add_u64(d, rc, "files_closed", w->files_closed);
	add_u64(d, rc, "file_errors", w->file_errors);
	add_u64(d, rc, "partial_flushes", w->partial_flushes);
	add_u64(d, rc, "buffers_in_flight", w->buffers_in_flight);
	add_u64(d, rc, "buffers_free", w->buffers_free);
	add_u64(d, rc, "busy_polls", w->busy_polls);
	add_u64(d, rc, "idle_polls", w->idle_polls);
	add_u64(d, rc, "backlog_polls", w->backlog_polls);
	io = new_dict(rc);
	if (io != NULL) {
		add_io(io, rc, &w->io);
		add_container(d, rc, "io", io);
	}
}

int
sl_telemetry_fill_writers(const struct sl_stats_view *v, int writer, struct rte_tel_data *d)
{
	char key[16];
	int rc = 0;

	if (writer >= 0) {
		if ((unsigned)writer >= v->nb_writers)
			return -ENODEV;
		rte_tel_data_start_dict(d);
		add_writer(d, &rc, v, (unsigned)writer);
		return rc;
	}
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < v->nb_writers && rc == 0; i++) {
		struct rte_tel_data *w = new_dict(&rc);

		if (w == NULL)
			break;
		add_writer(w, &rc, v, i);
		snprintf(key, sizeof(key), "%u", i);
		add_container(d, &rc, key, w);
	}
	return rc;
}

static void
add_ring(struct rte_tel_data *d, int *rc, const struct sl_telemetry_ring *r)
{
	add_string(d, rc, "name", r->name);
	add_u64(d, rc, "rx", r->rx);
	add_u64(d, rc, "rx_lcore", r->rx_lcore);
	add_u64(d, rc, "writer", r->writer);
	add_u64(d, rc, "writer_lcore", r->writer_lcore);
	add_u64(d, rc, "size", r->ring != NULL ? rte_ring_get_capacity(r->ring) : 0);
	add_u64(d, rc, "count", r->ring != NULL ? rte_ring_count(r->ring) : 0);
	add_u64(d, rc, "enqueued", r->enqueued);
	add_u64(d, rc, "full_drops", r->ring_full + r->writer_nobuf);
	add_u64(d, rc, "ring_full", r->ring_full);
	add_u64(d, rc, "writer_nobuf", r->writer_nobuf);
}

/* Telemetry takes letters, digits, '_' and '/' in keys, and nothing else. */
static void
ring_key(const struct sl_telemetry_ring *r, unsigned idx, char *key, size_t len)
{
	if (r->name == NULL || r->name[0] == '\0') {
		snprintf(key, len, "ring%u", idx);
		return;
	}
	snprintf(key, len, "%s", r->name);
	for (char *c = key; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '/'))
			*c = '_';
}

int
sl_telemetry_fill_rings(const struct sl_telemetry_ring *rings, unsigned nb_rings, const char *name,
			struct rte_tel_data *d)
{
	char key[RTE_TEL_MAX_STRING_LEN];
	int rc = 0;

	if (name != NULL) {
		for (unsigned i = 0; i < nb_rings; i++) {
			if (rings[i].name == NULL || strcmp(rings[i].name, name) != 0)
				continue;
			rte_tel_data_start_dict(d);
			add_ring(d, &rc, &rings[i]);
			return rc;
		}
		return -ENODEV;
	}
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < nb_rings && rc == 0; i++) {
		struct rte_tel_data *r = new_dict(&rc);

		if (r == NULL)
			break;
		add_ring(r, &rc, &rings[i]);
		ring_key(&rings[i], i, key, sizeof(key));
		add_container(d, &rc, key, r);
	}
	return rc;
}

unsigned
sl_telemetry_layout_rings(const struct sl_layout *l, struct sl_rx_stats *const *rx_stats,
			  struct rte_ring *rings[][SL_MAX_LCORES], struct sl_telemetry_ring *out,
			  unsigned max)
{
	unsigned n = 0;

	for (unsigned r = 0; r < l->nb_rx; r++) {
		for (unsigned w = 0; w < l->nb_writers; w++) {
			const struct sl_rx_stats *st = rx_stats[r];
			struct sl_telemetry_ring *t;
			uint64_t seen = 0;

			if (rings[r][w] == NULL)
				continue;
			if (n == max)
				return n;
			t = &out[n++];
			memset(t, 0, sizeof(*t));
			t->name = rings[r][w]->name;
			t->rx = r;
			t->rx_lcore = l->rx_lcore[r];
			t->writer = w;
			t->writer_lcore = l->writer_lcore[w];
			t->ring = rings[r][w];
			for (unsigned q = 0; q < l->nb_queues && st != NULL; q++) {
				const struct sl_layout_queue *lq = &l->queues[q];
				const struct sl_rx_port_stats *ps;
				uint64_t full, nobuf, filtered, received, gone;

				/* One queue per port per RX lcore: count each port once. */
				if (lq->rx != r || lq->writer != w || lq->port >= SL_MAX_PORTS ||
				    (seen & (1ull << lq->port)) != 0)
					continue;
				seen |= 1ull << lq->port;
				ps = &st->port[lq->port];
				/* Drops first: the RX lcore counts a packet received before
				 * it may count it dropped, so received read last covers
				 * every drop read before it. */
				full = __atomic_load_n(&ps->ring_full, __ATOMIC_ACQUIRE);
				nobuf = __atomic_load_n(&ps->writer_nobuf, __ATOMIC_ACQUIRE);
				filtered = __atomic_load_n(&ps->filtered, __ATOMIC_ACQUIRE);
				received = __atomic_load_n(&ps->received, __ATOMIC_ACQUIRE);
				gone = full + nobuf + filtered;
				t->ring_full += full;
				t->writer_nobuf += nobuf;
				t->enqueued += received > gone ? received - gone : 0;
			}
		}
	}
	return n;
}

/* The telemetry callbacks of 22.11 take no argument: the source lives here. */
static pthread_mutex_t source_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sl_telemetry_source source;
static bool have_source;

static const char *
source_state(void)
{
	const char *s = source.state != NULL ? source.state(source.arg) : NULL;

	return s != NULL ? s : "running";
}

static bool
has_param(const char *params)
{
	return params != NULL && params[0] != '\0';
}

/*
 * Parameters are checked before anything is added to the reply: DPDK frees
 * the nested containers of a reply only when the callback succeeds.
 */
static int
cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sl_stats_view v;
	int rc = -ENODEV;

	if (has_param(params))
		return -EINVAL;
	pthread_mutex_lock(&source_lock);
	if (have_source) {
		source.view(source.arg, &v);
		rc = sl_telemetry_fill_stats(&v, source_state(), d);
	}
	pthread_mutex_unlock(&source_lock);
	return rc;
}

static int
cmd_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sl_stats_view v;
	int port_id = -1, rc = -ENODEV;
	uint64_t id;

	if (has_param(params)) {
		if (sl_parse_u64(params, 0, UINT16_MAX, &id) < 0)
			return -EINVAL;
		port_id = (int)id;
	}
	pthread_mutex_lock(&source_lock);
	if (have_source) {
		source.view(source.arg, &v);
		rc = sl_telemetry_fill_ports(&v, port_id, d);
	}
	pthread_mutex_unlock(&source_lock);
	return rc;
}

static int
cmd_writers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sl_stats_view v;
	int writer = -1, rc = -ENODEV;
	uint64_t idx;

	if (has_param(params)) {
		if (sl_parse_u64(params, 0, SL_MAX_LCORES - 1, &idx) < 0)
			return -EINVAL;
		writer = (int)idx;
	}
	pthread_mutex_lock(&source_lock);
	if (have_source) {
		source.view(source.arg, &v);
		rc = sl_telemetry_fill_writers(&v, writer, d);
	}
	pthread_mutex_unlock(&source_lock);
	return rc;
}

static int
cmd_rings(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sl_telemetry_ring *rings;
	unsigned n = 0;
	int rc = -ENODEV;

	/* Up to 256 rings: too big for a telemetry thread's stack frame. */
	rings = calloc(SL_TELEMETRY_MAX_RINGS, sizeof(*rings));
	if (rings == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&source_lock);
	if (have_source) {
		if (source.rings != NULL)
			n = source.rings(source.arg, rings, SL_TELEMETRY_MAX_RINGS);
		if (n > SL_TELEMETRY_MAX_RINGS)
			n = SL_TELEMETRY_MAX_RINGS;
		rc = sl_telemetry_fill_rings(rings, n, has_param(params) ? params : NULL, d);
	}
	pthread_mutex_unlock(&source_lock);
	free(rings);
	return rc;
}

static const struct {
	const char *name;
	telemetry_cb fn;
	const char *help;
} commands[] = {
	{ "/sluice/stats", cmd_stats,
	  "Packet fates and NIC counters of the capture, totals. Takes no parameters." },
	{ "/sluice/ports", cmd_ports,
	  "Packet fates and NIC counters per port. Parameter: port id (optional)." },
	{ "/sluice/writers", cmd_writers,
	  "Writer and io_uring counters per writer. Parameter: writer index (optional)." },
	{ "/sluice/rings", cmd_rings,
	  "Rings from RX lcores to writers: size, count, enqueued, drops. Parameter: name." },
};
static bool command_registered[SL_ARRAY_SIZE(commands)];

int
sl_telemetry_register(const struct sl_telemetry_source *src)
{
	int rc = 0;

	if (src == NULL || src->view == NULL)
		return -EINVAL;
	pthread_mutex_lock(&source_lock);
	if (have_source) {
		rc = -EBUSY;
		goto out;
	}
	/* DPDK cannot remove a command: each is registered once per process. */
	for (unsigned i = 0; i < SL_ARRAY_SIZE(commands); i++) {
		if (command_registered[i])
			continue;
		rc = rte_telemetry_register_cmd(commands[i].name, commands[i].fn, commands[i].help);
		if (rc < 0) {
			TEL_LOG(ERR, "cannot register %s: %s\n", commands[i].name, strerror(-rc));
			goto out;
		}
		command_registered[i] = true;
	}
	source = *src;
	have_source = true;
out:
	pthread_mutex_unlock(&source_lock);
	return rc;
}

void
sl_telemetry_unregister(void)
{
	pthread_mutex_lock(&source_lock);
	have_source = false;
	memset(&source, 0, sizeof(source));
	pthread_mutex_unlock(&source_lock);
}
