/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sl_layout.h"

static void
warn(struct sl_layout *out, const char *fmt, ...)
{
	va_list ap;

	if (out->nb_warnings == SL_LAYOUT_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(out->warnings[out->nb_warnings++], sizeof(out->warnings[0]), fmt, ap);
	va_end(ap);
}

static int
worker_index(const struct sl_layout_input *in, uint16_t lcore)
{
	for (unsigned i = 0; i < in->nb_workers; i++)
		if (in->worker[i] == lcore)
			return (int)i;
	return -1;
}

static int
take_list(const struct sl_layout_input *in, const uint16_t *ids, unsigned n, const char *opt,
	  uint16_t *dst, char *err, size_t errlen)
{
	for (unsigned i = 0; i < n; i++) {
		if (worker_index(in, ids[i]) < 0) {
			snprintf(err, errlen,
				 "%s: lcore %u is not an enabled worker lcore (give it to EAL with "
				 "-l/--lcores, and not as the main lcore)",
				 opt, ids[i]);
			return -EINVAL;
		}
		dst[i] = ids[i];
	}
	return 0;
}

static bool
listed(const uint16_t *ids, unsigned n, uint16_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static int
socket_of(const struct sl_layout_input *in, uint16_t lcore)
{
	int i = worker_index(in, lcore);

	return i < 0 ? -1 : in->worker_socket[i];
}

static int
assign_roles(const struct sl_config *cfg, const struct sl_layout_input *in, struct sl_layout *out,
	     char *err, size_t errlen)
{
	unsigned nb_rx = cfg->nb_rx_lcores, nb_wr = cfg->nb_writer_lcores;

	if (in->nb_workers < 2) {
		snprintf(
			err, errlen,
			"sluice needs at least 2 worker lcores besides the main one (1 RX, 1 "
			"writer); %u given: use e.g. -l 0-2, or --lcores=0@0,1@1,2@1 on fewer CPUs",
			in->nb_workers);
		return -EINVAL;
	}
	if (take_list(in, cfg->rx_lcores, nb_rx, "--rx-lcores", out->rx_lcore, err, errlen) < 0 ||
	    take_list(in, cfg->writer_lcores, nb_wr, "--writer-lcores", out->writer_lcore, err,
		      errlen) < 0)
		return -EINVAL;
	if (nb_rx == 0 && nb_wr == 0)
		nb_rx = in->nb_workers / 2;
	/* Workers left out of the lists given take the missing role. */
	if (cfg->nb_rx_lcores == 0) {
		for (unsigned i = 0; i < in->nb_workers; i++) {
			uint16_t id = in->worker[i];

			if (listed(out->writer_lcore, nb_wr, id))
				continue;
			if (cfg->nb_writer_lcores == 0 && out->nb_rx == nb_rx)
				break;
			out->rx_lcore[out->nb_rx++] = id;
		}
	} else {
		out->nb_rx = nb_rx;
	}
	if (cfg->nb_writer_lcores == 0) {
		for (unsigned i = 0; i < in->nb_workers; i++) {
			uint16_t id = in->worker[i];

			if (!listed(out->rx_lcore, out->nb_rx, id))
				out->writer_lcore[out->nb_writers++] = id;
		}
	} else {
		out->nb_writers = nb_wr;
	}
	if (out->nb_rx == 0) {
		snprintf(err, errlen,
			 "no lcore is left to receive: --writer-lcores takes them all");
		return -EINVAL;
	}
	if (out->nb_writers == 0) {
		snprintf(err, errlen, "no lcore is left to write: --rx-lcores takes them all");
		return -EINVAL;
	}
	for (unsigned i = 0; i < in->nb_workers; i++) {
		uint16_t id = in->worker[i];

		if (!listed(out->rx_lcore, out->nb_rx, id) &&
		    !listed(out->writer_lcore, out->nb_writers, id))
			warn(out, "lcore %u has no role and stays idle", id);
	}
	return 0;
}

int
sl_layout_plan(const struct sl_config *cfg, const struct sl_layout_input *in, struct sl_layout *out,
	       char *err, size_t errlen)
{
	unsigned served[SL_MAX_LCORES] = { 0 };
	unsigned load[SL_MAX_LCORES] = { 0 };

	memset(out, 0, sizeof(*out));
	if (in->nb_ports == 0) {
		snprintf(err, errlen,
			 "no Ethernet port: give a NIC with -a <PCI address> or a virtual one with "
			 "--vdev (e.g. --vdev=net_pcap0,rx_pcap=in.pcap)");
		return -EINVAL;
	}
	if (assign_roles(cfg, in, out, err, errlen) < 0)
		return -EINVAL;

	for (unsigned p = 0; p < in->nb_ports; p++) {
		uint16_t cand[SL_MAX_LCORES];
		unsigned nc = 0;

		for (unsigned r = 0; r < out->nb_rx; r++)
			if (socket_of(in, out->rx_lcore[r]) == in->port_socket[p])
				cand[nc++] = (uint16_t)r;
		if (nc == 0) {
			warn(out,
			     "port %u is on socket %d but no RX lcore is: packets cross sockets",
			     in->port_id[p], in->port_socket[p]);
			for (unsigned r = 0; r < out->nb_rx; r++)
				cand[nc++] = (uint16_t)r;
		}
		if (in->port_max_rxq[p] == 0) {
			snprintf(err, errlen, "port %u has no RX queue", in->port_id[p]);
			return -EINVAL;
		}
		if (nc > in->port_max_rxq[p]) {
			warn(out, "port %u has only %u RX queues for %u RX lcores", in->port_id[p],
			     in->port_max_rxq[p], nc);
			nc = in->port_max_rxq[p];
		}
		out->nb_rxq[p] = (uint16_t)nc;
		for (unsigned q = 0; q < nc; q++) {
			struct sl_layout_queue *lq;
			int rs = socket_of(in, out->rx_lcore[cand[q]]);
			unsigned nw_same = 0, pick = 0;
			unsigned same[SL_MAX_LCORES];

			if (out->nb_queues == SL_LAYOUT_MAX_QUEUES) {
				snprintf(err, errlen, "more than %u queues in all",
					 SL_LAYOUT_MAX_QUEUES);
				return -EINVAL;
			}
			for (unsigned w = 0; w < out->nb_writers; w++)
				if (socket_of(in, out->writer_lcore[w]) == rs)
					same[nw_same++] = w;
			/* Spread queues over writers: same socket first, else
			 * all writers, each time the one with the fewest queues
			 * (the first on a tie, so that one socket's writers take
			 * turns). One counter shared by all sockets would skip
			 * writers when the sockets' queues interleave. */
			if (nw_same == 0)
				for (unsigned w = 0; w < out->nb_writers; w++)
					same[nw_same++] = w;
			for (unsigned k = 0; k < nw_same; k++)
				if (k == 0 || load[same[k]] < load[pick])
					pick = same[k];
			load[pick]++;
			lq = &out->queues[out->nb_queues++];
			lq->port = in->port_id[p];
			lq->queue = (uint16_t)q;
			lq->rx = cand[q];
			lq->writer = (uint16_t)pick;
			served[cand[q]]++;
		}
	}
	for (unsigned r = 0; r < out->nb_rx; r++)
		if (served[r] == 0)
			warn(out, "RX lcore %u polls no queue", out->rx_lcore[r]);
	return 0;
}

static int
port_index(const struct sl_layout_input *in, uint16_t port_id)
{
	for (unsigned i = 0; i < in->nb_ports; i++)
		if (in->port_id[i] == port_id)
			return (int)i;
	return -1;
}

/* Adds a line for an lcore away from its port, once per (lcore, port) pair. */
static void
check_pair(bool (*seen)[SL_MAX_PORTS], const struct sl_layout_input *in, const int *port_socket,
	   const char *role, const char *verb, unsigned lcore_index, uint16_t lcore, unsigned port,
	   char (*lines)[SL_LAYOUT_LINE_LEN], unsigned max, unsigned *n)
{
	int ls = socket_of(in, lcore), ps = port_socket[port];

	if (seen[lcore_index][port] || ls < 0 || ps < 0 || ls == ps)
		return;
	seen[lcore_index][port] = true;
	if (*n < max)
		snprintf(lines[(*n)++], SL_LAYOUT_LINE_LEN,
			 "%s lcore %u (socket %d) %s port %u on socket %d: packets cross sockets",
			 role, lcore, ls, verb, in->port_id[port], ps);
}

unsigned
sl_layout_numa_check(const struct sl_layout *l, const struct sl_layout_input *in,
		     const int *port_socket, bool file_mode, char (*lines)[SL_LAYOUT_LINE_LEN],
		     unsigned max)
{
	bool rx_seen[SL_MAX_LCORES][SL_MAX_PORTS];
	bool writer_seen[SL_MAX_LCORES][SL_MAX_PORTS];
	unsigned n = 0;

	memset(rx_seen, 0, sizeof(rx_seen));
	memset(writer_seen, 0, sizeof(writer_seen));
	for (unsigned q = 0; q < l->nb_queues; q++) {
		const struct sl_layout_queue *lq = &l->queues[q];
		int p = port_index(in, lq->port);

		if (p < 0)
			continue;
		check_pair(rx_seen, in, port_socket, "RX", "polls", lq->rx, l->rx_lcore[lq->rx],
			   (unsigned)p, lines, max, &n);
		if (!file_mode)
			check_pair(writer_seen, in, port_socket, "writer", "writes packets of",
				   lq->writer, l->writer_lcore[lq->writer], (unsigned)p, lines, max,
				   &n);
	}
	for (unsigned w = 0; file_mode && w < l->nb_writers; w++)
		for (unsigned p = 0; p < in->nb_ports; p++)
			if (l->nb_rxq[p] > 0)
				check_pair(writer_seen, in, port_socket, "writer",
					   "writes packets of", w, l->writer_lcore[w], p, lines,
					   max, &n);
	return n;
}
