/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "sl_net.h"
#include "sl_stats.h"

static void
add_writer_port(struct sl_fate *out, const struct sl_writer_port_stats *p)
{
	out->written += p->written;
	out->written_bytes += p->written_bytes;
	out->truncated += p->truncated;
	out->writer_nobuf += p->nobuf;
	out->write_error += p->write_error;
	out->invalid += p->invalid;
}

static void
add_rx_port(struct sl_fate *out, const struct sl_rx_port_stats *p)
{
	out->received += p->received;
	out->bytes += p->bytes;
	out->filtered += p->filtered;
	out->ring_full += p->ring_full;
	out->writer_nobuf += p->writer_nobuf;
	out->served += p->served;
	out->invalid += p->invalid;
}

void
sl_stats_writer_fate(const struct sl_writer_stats *w, int port_id, struct sl_fate *out)
{
	memset(out, 0, sizeof(*out));
	for (int p = 0; p < SL_MAX_PORTS; p++)
		if (port_id < 0 || p == port_id)
			add_writer_port(out, &w->port[p]);
}

void
sl_stats_fate(const struct sl_stats_view *v, int port_id, struct sl_fate *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < v->nb_rx; i++)
		for (int p = 0; p < SL_MAX_PORTS; p++)
			if (port_id < 0 || p == port_id)
				add_rx_port(out, &v->rx[i]->port[p]);
	for (unsigned i = 0; i < v->nb_writers; i++)
		for (int p = 0; p < SL_MAX_PORTS; p++)
			if (port_id < 0 || p == port_id)
				add_writer_port(out, &v->writer[i]->port[p]);
}

void
sl_stats_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
json_fate(FILE *f, const struct sl_fate *x)
{
	fprintf(f,
		"\"received\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"written\": %" PRIu64
		", \"written_bytes\": %" PRIu64 ", \"served\": %" PRIu64 ", \"filtered\": %" PRIu64
		", \"truncated\": %" PRIu64 ", \"dropped\": %" PRIu64
		", \"drops\": {\"ring_full\": %" PRIu64 ", \"writer_nobuf\": %" PRIu64
		", \"write_error\": %" PRIu64 ", \"invalid\": %" PRIu64
		"}, \"unaccounted\": %" PRId64,
		x->received, x->bytes, x->written, x->written_bytes, x->served, x->filtered,
		x->truncated, sl_fate_drops(x), x->ring_full, x->writer_nobuf, x->write_error,
		x->invalid, sl_fate_unaccounted(x));
}

static void
json_nic(FILE *f, const struct sl_nic_stats *n)
{
	fprintf(f,
		"\"nic\": {\"ipackets\": %" PRIu64 ", \"ibytes\": %" PRIu64
		", \"imissed\": %" PRIu64 ", \"rx_nombuf\": %" PRIu64 ", \"ierrors\": %" PRIu64 "}",
		n->ipackets, n->ibytes, n->imissed, n->rx_nombuf, n->ierrors);
}

int
sl_stats_json(FILE *f, const struct sl_stats_view *v)
{
	struct sl_nic_stats nic_total = { 0 };
	struct sl_fate total, x;

	sl_stats_fate(v, -1, &total);
	for (unsigned i = 0; i < v->nb_ports; i++) {
		nic_total.ipackets += v->nic[i].ipackets;
		nic_total.ibytes += v->nic[i].ibytes;
		nic_total.imissed += v->nic[i].imissed;
		nic_total.rx_nombuf += v->nic[i].rx_nombuf;
		nic_total.ierrors += v->nic[i].ierrors;
	}

	fprintf(f, "{\n  \"version\": 1,\n  \"mode\": ");
	sl_stats_json_string(f, v->mode);
	fprintf(f, ",\n  \"elapsed_s\": %.3f,\n  \"balanced\": %s,\n  \"total\": {", v->elapsed_s,
		sl_fate_unaccounted(&total) == 0 ? "true" : "false");
	json_fate(f, &total);
	fprintf(f, ", ");
	json_nic(f, &nic_total);
	fprintf(f, "},\n  \"ports\": [");
	for (unsigned i = 0; i < v->nb_ports; i++) {
		sl_stats_fate(v, v->port_id[i], &x);
		fprintf(f, "%s\n    {\"port\": %u, \"name\": ", i ? "," : "", v->port_id[i]);
		sl_stats_json_string(f, v->port_name[i]);
		fprintf(f, ", ");
		json_fate(f, &x);
		fprintf(f, ", ");
		json_nic(f, &v->nic[i]);
		fprintf(f, "}");
	}
	fprintf(f, "\n  ],\n  \"rx_lcores\": [");
	for (unsigned i = 0; i < v->nb_rx; i++) {
		uint64_t rcv = 0, filt = 0, full = 0, nobuf = 0;

		for (int p = 0; p < SL_MAX_PORTS; p++) {
			rcv += v->rx[i]->port[p].received;
			filt += v->rx[i]->port[p].filtered;
			full += v->rx[i]->port[p].ring_full;
			nobuf += v->rx[i]->port[p].writer_nobuf;
		}
		fprintf(f,
			"%s\n    {\"lcore\": %u, \"received\": %" PRIu64 ", \"filtered\": %" PRIu64
			", \"ring_full\": %" PRIu64 ", \"writer_nobuf\": %" PRIu64
			", \"polls\": %" PRIu64 ", \"idle_polls\": %" PRIu64,
			i ? "," : "", v->rx_lcore[i], rcv, filt, full, nobuf, v->rx[i]->polls,
			v->rx[i]->idle_polls);
		if (v->file_mode) {
			fprintf(f,
				", \"tx_sent\": %" PRIu64 ", \"tx_dropped\": %" PRIu64
				", \"unroutable\": %" PRIu64 ", \"oversize\": %" PRIu64
				", \"verdicts\": {",
				v->rx[i]->tx_sent, v->rx[i]->tx_dropped, v->rx[i]->unroutable,
				v->rx[i]->oversize);
			for (unsigned k = 0; k < SL_NET_NB_VERDICTS; k++)
				fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "",
					sl_net_verdict_name((enum sl_net_verdict)k),
					v->rx[i]->verdicts[k]);
			fprintf(f, "}");
		}
		fprintf(f, "}");
	}
	fprintf(f, "\n  ],\n  \"writers\": [");
	for (unsigned i = 0; i < v->nb_writers; i++) {
		const struct sl_writer_stats *w = v->writer[i];
		const struct sl_io_stats *io = &w->io;

		sl_stats_writer_fate(w, -1, &x);
		fprintf(f,
			"%s\n    {\"writer\": %u, \"lcore\": %u, \"written\": %" PRIu64
			", \"written_bytes\": %" PRIu64 ", \"truncated\": %" PRIu64
			", \"drops\": {\"writer_nobuf\": %" PRIu64 ", \"write_error\": %" PRIu64 "}"
			", \"file_bytes\": %" PRIu64 ", \"files_opened\": %" PRIu64
			", \"files_closed\": %" PRIu64 ", \"file_errors\": %" PRIu64
			", \"partial_flushes\": %" PRIu64 ", \"invalid\": %" PRIu64
			", \"tx_sent\": %" PRIu64 ", \"tx_dropped\": %" PRIu64
			",\n     \"io\": {\"submit_calls\": %" PRIu64 ", \"sqes\": %" PRIu64
			", \"max_batch\": %" PRIu64 ", \"writes\": %" PRIu64
			", \"write_bytes\": %" PRIu64 ", \"short_writes\": %" PRIu64
			", \"retries\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"enospc\": %" PRIu64
			", \"fsyncs\": %" PRIu64 ", \"sq_full\": %" PRIu64
			", \"write_latency_avg_us\": %.1f, \"write_latency_max_us\": %.1f"
			", \"fsync_latency_avg_us\": %.1f, \"fsync_latency_max_us\": %.1f}}",
			i ? "," : "", i, v->writer_lcore[i], x.written, x.written_bytes,
			x.truncated, x.writer_nobuf, x.write_error, w->file_bytes, w->files_opened,
			w->files_closed, w->file_errors, w->partial_flushes, x.invalid, w->tx_sent,
			w->tx_dropped, io->submit_calls, io->sqes, io->max_batch, io->writes,
			io->write_bytes, io->short_writes, io->retries, io->errors, io->enospc,
			io->fsyncs, io->sq_full,
			io->lat_count ? (double)io->lat_sum_ns / io->lat_count / 1000.0 : 0.0,
			(double)io->lat_max_ns / 1000.0,
			io->fsync_lat_count
				? (double)io->fsync_lat_sum_ns / io->fsync_lat_count / 1000.0
				: 0.0,
			(double)io->fsync_lat_max_ns / 1000.0);
	}
	fprintf(f, "\n  ]");
	if (v->extra_json != NULL) {
		fprintf(f, ",\n  ");
		v->extra_json(f, v->extra_arg);
	}
	fprintf(f, "\n}\n");
	if (fflush(f) != 0 || ferror(f))
		return -(errno ? errno : EIO);
	return 0;
}

void
sl_stats_summary(FILE *f, const struct sl_stats_view *v)
{
	struct sl_fate total, x;

	fprintf(f, "\n  ---------------------- sluice summary (%.3f s) ----------------------\n",
		v->elapsed_s);
	for (unsigned i = 0; i < v->nb_ports; i++) {
		const struct sl_nic_stats *n = &v->nic[i];

		sl_stats_fate(v, v->port_id[i], &x);
		fprintf(f,
			"  port %u (%s)\n"
			"    NIC: ipackets %" PRIu64 "  imissed %" PRIu64 "  rx_nombuf %" PRIu64
			"  ierrors %" PRIu64 "\n"
			"    received %" PRIu64 "  written %" PRIu64 "  served %" PRIu64
			"  filtered %" PRIu64 "  dropped %" PRIu64 " (ring_full %" PRIu64
			", writer_nobuf %" PRIu64 ", write_error %" PRIu64 ", invalid %" PRIu64
			")\n",
			v->port_id[i], v->port_name[i] ? v->port_name[i] : "?", n->ipackets,
			n->imissed, n->rx_nombuf, n->ierrors, x.received, x.written, x.served,
			x.filtered, sl_fate_drops(&x), x.ring_full, x.writer_nobuf, x.write_error,
			x.invalid);
	}
	for (unsigned i = 0; i < v->nb_writers; i++) {
		const struct sl_writer_stats *w = v->writer[i];

		sl_stats_writer_fate(w, -1, &x);
		if (v->file_mode) {
			fprintf(f,
				"  writer %u (lcore %u): accepted %" PRIu64
				" datagrams, dropped %" PRIu64 ", %" PRIu64 " writes, %" PRIu64
				" fsyncs, %" PRIu64 " submits, errors %" PRIu64 ", replies %" PRIu64
				" (%" PRIu64 " not sent)\n",
				i, v->writer_lcore[i], x.written, x.invalid, w->io.writes,
				w->io.fsyncs, w->io.submit_calls, w->io.errors, w->tx_sent,
				w->tx_dropped);
			continue;
		}
		fprintf(f,
			"  writer %u (lcore %u): written %" PRIu64 " records, %" PRIu64
			" file bytes in %" PRIu64 " files, %" PRIu64 " writes, %" PRIu64
			" submits, errors %" PRIu64 "\n",
			i, v->writer_lcore[i], x.written, w->file_bytes, w->files_closed,
			w->io.writes, w->io.submit_calls, w->io.errors);
	}
	if (v->extra_summary != NULL)
		v->extra_summary(f, v->extra_arg);
	sl_stats_fate(v, -1, &total);
	fprintf(f,
		"  total: received %" PRIu64 " = written %" PRIu64 " + served %" PRIu64
		" + filtered %" PRIu64 " + ring_full %" PRIu64 " + writer_nobuf %" PRIu64
		" + write_error %" PRIu64 " + invalid %" PRIu64 "%s\n",
		total.received, total.written, total.served, total.filtered, total.ring_full,
		total.writer_nobuf, total.write_error, total.invalid,
		sl_fate_unaccounted(&total) == 0 ? "  (balanced)" : "  (NOT BALANCED)");
	fprintf(f, "  ---------------------------------------------------------------------\n");
}
