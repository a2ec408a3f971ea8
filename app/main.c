/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice: EAL start-up, options, port and lcore wiring, the control loop on
 * the main lcore, and the orderly stop (RX first, then the writers drain
 * their rings and finish their files, then the summary).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "app.h"
#include "seams.h"
#include "sl_capture.h"
#include "sl_auth.h"
#include "sl_filter.h"
#include "sl_common.h"
#include "sl_ingest.h"
#include "sl_net.h"
#include "sl_session.h"
#include "sl_config.h"
#include "sl_layout.h"
#include "sl_pcap.h"
#include "sl_port.h"
#include "sl_profile.h"
#include "sl_rx.h"
#include "sl_stats.h"
#include "sl_telemetry.h"

RTE_LOG_REGISTER(sl_logtype_app, sluice.app, INFO);
#define APP_LOG(level, fmt, ...)                                                                   \
	rte_log(RTE_LOG_##level, sl_logtype_app, "sluice: " fmt, ##__VA_ARGS__)

#define MBUF_CACHE 256
#define MAX_SOCKETS SL_APP_MAX_SOCKETS

static volatile sig_atomic_t quit_signal;

static void
on_signal(int sig)
{
	quit_signal = sig;
}

static int
plan_layout(struct app *a)
{
	struct sl_layout_input in;
	unsigned lcore;
	uint16_t pid;
	char err[256];

	memset(&in, 0, sizeof(in));
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		in.worker[in.nb_workers] = (uint16_t)lcore;
		in.worker_socket[in.nb_workers] = (int)rte_lcore_to_socket_id(lcore);
		in.nb_workers++;
	}
	RTE_ETH_FOREACH_DEV(pid)
	{
		if (a->nb_ports == SL_MAX_PORTS)
			break;
		a->port_ids[a->nb_ports] = pid;
		in.port_id[in.nb_ports] = pid;
		in.port_socket[in.nb_ports] = sl_port_socket(pid);
		in.port_max_rxq[in.nb_ports] = sl_port_max_rxq(pid);
		sl_port_name(pid, a->port_names[a->nb_ports], sizeof(a->port_names[0]));
		a->nb_ports++;
		in.nb_ports++;
	}
	if (sl_layout_plan(&a->cfg, &in, &a->layout, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice: error: %s\n", err);
		return -EINVAL;
	}
	for (unsigned i = 0; i < a->layout.nb_warnings; i++)
		APP_LOG(WARNING, "%s\n", a->layout.warnings[i]);
	{
		/* The plan takes a port of unknown socket (a vdev) as socket 0;
		 * the check says nothing about those. */
		static char lines[2 * SL_MAX_LCORES][SL_LAYOUT_LINE_LEN];
		int sockets[SL_MAX_PORTS];
		unsigned n;

		for (unsigned i = 0; i < in.nb_ports; i++)
			sockets[i] = rte_eth_dev_socket_id(in.port_id[i]);
		n = sl_layout_numa_check(&a->layout, &in, sockets, a->cfg.mode == SL_MODE_FILE,
					 lines, RTE_DIM(lines));
		for (unsigned i = 0; i < n; i++)
			APP_LOG(WARNING, "%s\n", lines[i]);
	}
	return 0;
}

/* mbufs wait in RX descriptors, in the rings and in per-lcore caches; size the
 * pool so that a full set of rings never starves the NIC. */
static unsigned
mbufs_needed(const struct app *a, int socket)
{
	const struct sl_layout *l = &a->layout;
	unsigned n = 0;

	for (unsigned p = 0; p < a->nb_ports; p++)
		if (sl_port_socket(a->port_ids[p]) == socket)
			n += l->nb_rxq[p] * a->cfg.nb_rxd;
	/* A ring per queue at most (file mode: per RX and writer pair); each may be full. */
	n += (a->cfg.mode == SL_MODE_FILE ? l->nb_rx * l->nb_writers : l->nb_queues) *
	     a->cfg.ring_size;
	/* Replies wait in TX descriptors (512 unless a profile says otherwise). */
	if (a->cfg.mode == SL_MODE_FILE)
		n += a->nb_ports * (l->nb_rx + l->nb_writers) *
		     ((a->profile.set & SL_PROFILE_TXD) ? a->profile.txd : 512u);
	n += (l->nb_rx + l->nb_writers + 1) * (MBUF_CACHE + a->cfg.burst * 4u);
	return n + 1024;
}

/*
 * net_af_xdp registers the pool's memory as its UMEM and takes object i to
 * lie at base + i * object size. Without hugepages, rte_pktmbuf_pool_create()
 * keeps each mbuf inside one 4 KiB page for the sake of IOVA contiguity,
 * which leaves gaps, and the mbufs past the first gap are no valid UMEM
 * frames: reception then stops after some 15000 frames. Virtual devices do
 * no DMA, so such a pool is packed without page boundaries instead
 * (RTE_MEMPOOL_F_NO_IOVA_CONTIG); this is rte_pktmbuf_pool_create() with that
 * one flag.
 */
static bool
needs_packed_pool(const struct app *a)
{
	if (rte_eal_has_hugepages())
		return false;
	for (unsigned p = 0; p < a->nb_ports; p++) {
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(a->port_ids[p], &info) == 0 &&
		    strcmp(info.driver_name, "net_af_xdp") == 0)
			return true;
	}
	return false;
}

static struct rte_mempool *
pool_create(const char *name, unsigned n, uint16_t room, int socket, bool packed)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = room,
		.mbuf_priv_size = 0,
	};
	struct rte_mempool *mp;

	if (!packed)
		return rte_pktmbuf_pool_create(name, n, MBUF_CACHE, 0, room, socket);
	mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) + room, MBUF_CACHE,
				      sizeof(priv), socket, RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (mp == NULL)
		return NULL;
	if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL) != 0)
		goto fail;
	rte_pktmbuf_pool_init(mp, &priv);
	if (rte_mempool_populate_default(mp) < 0)
		goto fail;
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
fail:
	rte_mempool_free(mp);
	return NULL;
}

static int
create_pools(struct app *a)
{
	const bool packed = needs_packed_pool(a);

	for (unsigned p = 0; p < a->nb_ports; p++) {
		int s = sl_port_socket(a->port_ids[p]);
		unsigned n;
		char name[RTE_MEMPOOL_NAMESIZE];

		if (s >= MAX_SOCKETS)
			s = 0;
		if (a->pools[s] != NULL)
			continue;
		uint16_t room = (a->profile.set & SL_PROFILE_MBUF_SIZE) ? a->profile.mbuf_size
									: RTE_MBUF_DEFAULT_BUF_SIZE;

		/* File mode: a whole frame of the MTU (VLAN tags included) in one
		 * mbuf, so replies and datagrams need no chains. */
		if (a->cfg.mode == SL_MODE_FILE &&
		    a->cfg.mtu + 14u + 8u + RTE_PKTMBUF_HEADROOM > room)
			room = (uint16_t)(a->cfg.mtu + 14u + 8u + RTE_PKTMBUF_HEADROOM);
		n = a->cfg.nb_mbufs ? a->cfg.nb_mbufs : mbufs_needed(a, s);
		snprintf(name, sizeof(name), "sl_mbuf_s%d", s);
		a->pools[s] = pool_create(name, n, room, s, packed);
		if (a->pools[s] == NULL) {
			a->pools[s] = pool_create(name, n, room, SOCKET_ID_ANY, packed);
			if (a->pools[s] != NULL)
				APP_LOG(WARNING,
					"mbuf pool %s: no room on socket %d, so it lies wherever EAL "
					"had memory: packets may cross sockets\n",
					name, s);
		}
		if (a->pools[s] == NULL) {
			fprintf(stderr,
				"sluice: error: cannot create a pool of %u mbufs on socket %d: %s "
				"(reserve more hugepages, give EAL -m, or lower --ring-size/--mbufs)\n",
				n, s, rte_strerror(rte_errno));
			return -ENOMEM;
		}
		APP_LOG(INFO, "mbuf pool %s: %u mbufs, data room %u%s\n", name, n, room,
			packed ? " (packed for net_af_xdp without hugepages)" : "");
	}
	return 0;
}

static struct rte_mempool *
pool_of_port(struct app *a, uint16_t port_id)
{
	int s = sl_port_socket(port_id);

	return a->pools[s < MAX_SOCKETS ? s : 0];
}

/* What a --profile sets on a port, and a warning when the port's driver is
 * not of the profile's family. */
static void
profile_port_conf(const struct app *a, uint16_t port_id, struct sl_port_conf *pc)
{
	const struct sl_profile *pr = &a->profile;
	struct rte_eth_dev_info info;

	if (pr->path[0] == '\0')
		return;
	if (pr->set & SL_PROFILE_TXD)
		pc->nb_txd = pr->txd;
	pc->no_rss = !pr->rss;
	pc->rss_hf = pr->rss_hf;
	pc->rx_timestamp = pr->rx_timestamp;
	pc->no_scatter = !pr->rx_scatter;
	if (!pr->rx_checksum)
		pc->rx_csum = false;
	if (rte_eth_dev_info_get(port_id, &info) == 0 &&
	    !sl_profile_driver_matches(pr, info.driver_name))
		APP_LOG(WARNING, "port %u is driven by %s, not by %s of profile %s\n", port_id,
			info.driver_name, pr->drivers[0], pr->name);
}

static int
setup_ports(struct app *a)
{
	char err[256];

	for (unsigned p = 0; p < a->nb_ports; p++) {
		struct sl_port_conf pc = {
			.nb_rxq = a->layout.nb_rxq[p],
			.nb_txq = 0,
			.nb_rxd = a->cfg.nb_rxd,
			.promiscuous = a->cfg.promiscuous,
			.pool = pool_of_port(a, a->port_ids[p]),
		};

		if (a->cfg.mode == SL_MODE_CAPTURE) {
			struct rte_eth_dev_info info;

			/* Capture sends nothing, but a memif server refuses a client
			 * whose RX rings it has no TX queue for (pktgen and testpmd
			 * always have one): give memif as many as it receives on. */
			if (rte_eth_dev_info_get(a->port_ids[p], &info) == 0 &&
			    strcmp(info.driver_name, "net_memif") == 0)
				pc.nb_txq = pc.nb_rxq;
		}
		if (a->cfg.mode == SL_MODE_FILE) {
			struct rte_eth_dev_info info;
			uint16_t want = (uint16_t)(a->layout.nb_rx + a->layout.nb_writers);

			/* Every RX and writer lcore sends on its own queue: no locks.
			 * A device with fewer TX queues (net_af_xdp on a veth has one)
			 * gives them to the RX lcores, and the writers hand their
			 * replies to an RX lcore through a lock-free ring. */
			pc.nb_txq = want;
			if (rte_eth_dev_info_get(a->port_ids[p], &info) == 0 &&
			    info.max_tx_queues < want && info.max_tx_queues >= a->layout.nb_rx) {
				char name[RTE_RING_NAMESIZE];

				pc.nb_txq = (uint16_t)a->layout.nb_rx;
				snprintf(name, sizeof(name), "sl_txrelay_p%u", a->port_ids[p]);
				a->tx_relay[a->port_ids[p]] = rte_ring_create(
					name, 4096, sl_port_socket(a->port_ids[p]), RING_F_SC_DEQ);
				if (a->tx_relay[a->port_ids[p]] == NULL) {
					fprintf(stderr,
						"sluice: error: cannot create ring %s: %s\n", name,
						rte_strerror(rte_errno));
					return -ENOMEM;
				}
				APP_LOG(INFO,
					"port %u has %u TX queue(s): writers reply through RX lcores\n",
					a->port_ids[p], info.max_tx_queues);
			}
			pc.rx_csum = true;
			pc.mtu = a->cfg.mtu != 1500 ? a->cfg.mtu : 0;
		}

		if (pc.nb_rxq == 0)
			continue;
		profile_port_conf(a, a->port_ids[p], &pc);
		if (sl_port_configure(a->port_ids[p], &pc, err, sizeof(err)) < 0) {
			fprintf(stderr, "sluice: error: %s\n", err);
			return -EINVAL;
		}
	}
	return 0;
}

static int
start_ports(struct app *a)
{
	char err[256];

	for (unsigned p = 0; p < a->nb_ports; p++) {
		if (a->layout.nb_rxq[p] == 0 || a->ports_started[p])
			continue;
		if (sl_port_start(a->port_ids[p], a->cfg.promiscuous, err, sizeof(err)) < 0) {
			fprintf(stderr, "sluice: error: %s\n", err);
			return -EINVAL;
		}
		a->ports_started[p] = true;
	}
	return 0;
}

/* File mode: one ingest lcore per writer, and a ring from every RX lcore to
 * every writer, since any RX lcore may receive any session's datagrams. */
static int
create_file_lcores(struct app *a)
{
	const struct sl_layout *l = &a->layout;
	const struct sl_config *c = &a->cfg;

	for (unsigned r = 0; r < l->nb_rx; r++) {
		struct sl_rx_lcore *rx = a->rx[r];

		rx->ifaces = a->net_ifaces;
		rx->nb_writers = l->nb_writers;
		rx->txq = (uint16_t)r;
		for (unsigned i = 0; i < a->nb_ports; i++)
			rx->tx_pool[a->port_ids[i]] = pool_of_port(a, a->port_ids[i]);
	}
	for (unsigned w = 0; w < l->nb_writers; w++) {
		unsigned lc = l->writer_lcore[w];
		int s = (int)rte_lcore_to_socket_id(lc);
		struct sl_ingest_lcore *fw;
		struct sl_session_params *p;
		size_t mem;

		a->wr_stats[w] = rte_zmalloc_socket("sl_wr_stats", sizeof(struct sl_writer_stats),
						    RTE_CACHE_LINE_SIZE, s);
		a->fw_stats[w] = rte_zmalloc_socket("sl_fw_stats", sizeof(struct sl_session_stats),
						    RTE_CACHE_LINE_SIZE, s);
		fw = a->fw[w] = rte_zmalloc_socket("sl_fw", sizeof(*fw), RTE_CACHE_LINE_SIZE, s);
		if (fw == NULL || a->wr_stats[w] == NULL || a->fw_stats[w] == NULL)
			return -ENOMEM;
		p = &fw->params;
		p->writer_id = w;
		p->nb_writers = l->nb_writers;
		p->dir = c->dir;
		p->overwrite = c->overwrite;
		p->direct = c->direct;
		p->max_chunk = (uint32_t)c->write_buffer_size;
		p->nb_bufs = c->write_buffers;
		p->uring_depth = c->uring_depth;
		p->max_sessions = c->max_sessions;
		p->max_files = c->max_files;
		p->window = c->window;
		/* The largest UDP payload in an IPv4 packet of the MTU; IPv6
		 * senders take 20 bytes less themselves. */
		p->max_payload = (uint16_t)(c->mtu - 28u);
		p->ack_interval_us = 20000;
		p->idle_timeout_ms = 30000;
		p->sync_interval_us = 20000;
		p->staging_ttl_s = 24 * 3600;
		p->auth = a->auth;
		mem = sl_session_mem_size(p);
		a->wr_mem[w] = rte_malloc_socket("sl_wbuf", mem, SL_DIRECT_ALIGN, s);
		if (a->wr_mem[w] == NULL)
			APP_LOG(WARNING,
				"writer %u: no %zu MiB of DPDK memory for chunk buffers, using "
				"ordinary memory\n",
				w, mem >> 20);
		p->buf_mem = a->wr_mem[w];
		fw->burst = c->burst * 4u;
		fw->idle_sleep_us = c->idle_sleep_us;
		fw->rx_running = &a->rx_running;
		fw->ifaces = a->net_ifaces;
		fw->txq = (uint16_t)(l->nb_rx + w);
		for (unsigned i = 0; i < a->nb_ports; i++)
			fw->tx_pool[a->port_ids[i]] = pool_of_port(a, a->port_ids[i]);
		fw->stats = a->wr_stats[w];
		fw->session_stats = a->fw_stats[w];
		/* As the capture writers' (sl_capture_finish()): a stall, not a slow disk. */
		fw->finish_timeout_ms = 120000;
	}
	for (unsigned r = 0; r < l->nb_rx; r++)
		for (unsigned w = 0; w < l->nb_writers; w++) {
			char name[RTE_RING_NAMESIZE];
			struct rte_ring *ring;

			snprintf(name, sizeof(name), "sl_rx%u_w%u", r, w);
			ring = rte_ring_create(name, c->ring_size,
					       (int)rte_lcore_to_socket_id(l->writer_lcore[w]),
					       RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
			if (ring == NULL) {
				fprintf(stderr, "sluice: error: cannot create ring %s of %u: %s\n",
					name, c->ring_size, rte_strerror(rte_errno));
				return -ENOMEM;
			}
			a->rings[r][w] = ring;
			a->rx[r]->to_writer[w] = ring;
			a->fw[w]->rings[a->fw[w]->nb_rings++] = ring;
		}
	/* Each RX lcore polls the queues the layout gave it; the first one of a
	 * port short of TX queues also sends the writers' replies. */
	for (unsigned q = 0; q < l->nb_queues; q++) {
		const struct sl_layout_queue *lq = &l->queues[q];
		struct sl_rx_lcore *rx = a->rx[lq->rx];
		struct rte_ring *relay = a->tx_relay[lq->port];

		if (rx->nb_q == SL_RX_MAX_QUEUES) {
			fprintf(stderr,
				"sluice: error: RX lcore %u would poll more than %u queues\n",
				l->rx_lcore[lq->rx], SL_RX_MAX_QUEUES);
			return -EINVAL;
		}
		rx->q[rx->nb_q].port = lq->port;
		rx->q[rx->nb_q].queue = lq->queue;
		rx->nb_q++;
		if (relay != NULL && rte_ring_get_size(relay) != 0) {
			bool taken = false;

			for (unsigned r = 0; r < l->nb_rx; r++)
				taken = taken || a->rx[r]->tx_relay[lq->port] == relay;
			if (!taken)
				rx->tx_relay[lq->port] = relay;
		}
	}
	for (unsigned w = 0; w < l->nb_writers; w++)
		for (unsigned i = 0; i < a->nb_ports; i++)
			a->fw[w]->tx_ring[a->port_ids[i]] = a->tx_relay[a->port_ids[i]];
	return 0;
}

static int
create_rings_and_lcores(struct app *a)
{
	const struct sl_layout *l = &a->layout;
	const struct sl_config *c = &a->cfg;

	for (unsigned r = 0; r < l->nb_rx; r++) {
		unsigned lc = l->rx_lcore[r];
		int s = (int)rte_lcore_to_socket_id(lc);

		a->rx_stats[r] = rte_zmalloc_socket("sl_rx_stats", sizeof(struct sl_rx_stats),
						    RTE_CACHE_LINE_SIZE, s);
		a->rx[r] = rte_zmalloc_socket("sl_rx", sizeof(struct sl_rx_lcore),
					      RTE_CACHE_LINE_SIZE, s);
		if (a->rx[r] == NULL || a->rx_stats[r] == NULL)
			return -ENOMEM;
		a->rx[r]->burst = c->burst;
		a->rx[r]->idle_sleep_us = c->idle_sleep_us;
		a->rx[r]->ts_offset = a->ts_offset;
		a->rx[r]->stats = a->rx_stats[r];
		a->rx[r]->stop = &a->stop;
		a->rx[r]->running = &a->rx_running;
		a->rx[r]->budget = c->max_packets ? &a->budget : NULL;
		a->rx[r]->filter = a->filter;
		a->rx[r]->reader_id = r;
	}
	if (c->mode == SL_MODE_FILE)
		return create_file_lcores(a);
	for (unsigned w = 0; w < l->nb_writers; w++) {
		unsigned lc = l->writer_lcore[w];
		int s = (int)rte_lcore_to_socket_id(lc);
		struct sl_capture_lcore *wl;
		struct sl_capture_params *p;
		size_t mem;

		a->wr_stats[w] = rte_zmalloc_socket("sl_wr_stats", sizeof(struct sl_writer_stats),
						    RTE_CACHE_LINE_SIZE, s);
		wl = a->wr[w] = rte_zmalloc_socket("sl_wr", sizeof(*wl), RTE_CACHE_LINE_SIZE, s);
		if (wl == NULL || a->wr_stats[w] == NULL)
			return -ENOMEM;
		p = &wl->params;
		p->writer_id = w;
		p->dir = c->dir;
		p->prefix = c->name_prefix;
		p->format = c->format;
		p->snaplen = c->snaplen;
		p->rotate_size = c->rotate_size;
		p->rotate_ns = (uint64_t)c->rotate_seconds * 1000000000ull;
		p->flush_ns = (uint64_t)c->flush_ms * 1000000ull;
		p->direct = c->direct;
		p->buf_size = c->write_buffer_size;
		p->nb_bufs = c->write_buffers;
		p->uring_depth = c->uring_depth;
		p->ifaces = a->ifaces;
		p->nb_ifaces = a->nb_ports;
		for (unsigned i = 0; i < a->nb_ports; i++)
			p->port_iface[a->port_ids[i]] = (uint16_t)i;
		p->clock = &a->clock;
		p->tsc_hz = a->tsc_hz;
		p->ts_offset = a->ts_offset;
		p->stats = a->wr_stats[w];
		/* Write buffers come from hugepage memory on the writer's socket,
		 * registered once with io_uring; without hugepages the writer
		 * allocates them itself. */
		mem = sl_capture_mem_size(p);
		a->wr_mem[w] = rte_malloc_socket("sl_wbuf", mem, SL_DIRECT_ALIGN, s);
		if (a->wr_mem[w] == NULL)
			APP_LOG(WARNING,
				"writer %u: no %zu MiB of DPDK memory for buffers, using "
				"ordinary memory\n",
				w, mem >> 20);
		p->buf_mem = a->wr_mem[w];
		wl->burst = c->burst * 4u;
		wl->idle_sleep_us = c->idle_sleep_us;
		wl->rx_running = &a->rx_running;
	}
	for (unsigned q = 0; q < l->nb_queues; q++) {
		const struct sl_layout_queue *lq = &l->queues[q];
		struct sl_rx_lcore *rx = a->rx[lq->rx];
		struct rte_ring **ring = &a->rings[lq->rx][lq->writer];

		if (*ring == NULL) {
			char name[RTE_RING_NAMESIZE];
			struct sl_capture_lcore *wl = a->wr[lq->writer];

			snprintf(name, sizeof(name), "sl_rx%u_w%u", lq->rx, lq->writer);
			*ring = rte_ring_create(name, c->ring_size, sl_port_socket(lq->port),
						RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
			if (*ring == NULL) {
				fprintf(stderr, "sluice: error: cannot create ring %s of %u: %s\n",
					name, c->ring_size, rte_strerror(rte_errno));
				return -ENOMEM;
			}
			wl->rings[wl->nb_rings++] = *ring;
		}
		rx->q[rx->nb_q].port = lq->port;
		rx->q[rx->nb_q].queue = lq->queue;
		rx->q[rx->nb_q].ring = *ring;
		rx->q[rx->nb_q].backlog = &a->wr[lq->writer]->backlog;
		rx->nb_q++;
	}
	return 0;
}

static void
file_stats_sum(struct app *a, struct sl_session_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned w = 0; w < a->layout.nb_writers; w++)
		if (a->fw_stats[w] != NULL)
			sl_ingest_stats_add(sum, a->fw_stats[w]);
}

static void
file_json(FILE *f, void *arg)
{
	struct sl_session_stats sum;

	file_stats_sum(arg, &sum);
	fprintf(f, "\"file\": {");
	sl_ingest_stats_json(f, &sum);
	fprintf(f, "}");
}

static void
file_summary(FILE *f, void *arg)
{
	struct sl_session_stats sum;

	file_stats_sum(arg, &sum);
	sl_ingest_stats_summary(f, &sum);
}

void
app_fill_view(struct app *a, struct sl_stats_view *v)
{
	memset(v, 0, sizeof(*v));
	v->mode = a->cfg.mode == SL_MODE_FILE ? "file" : "capture";
	if (a->cfg.mode == SL_MODE_FILE) {
		v->file_mode = true;
		v->extra_json = file_json;
		v->extra_summary = file_summary;
		v->extra_arg = a;
	} else {
		v->extra_json = app_recover_json;
	}
	v->elapsed_s = a->start_tsc ? (double)(rte_rdtsc() - a->start_tsc) / (double)a->tsc_hz : 0;
	v->nb_ports = a->nb_ports;
	for (unsigned i = 0; i < a->nb_ports; i++) {
		v->port_id[i] = a->port_ids[i];
		v->port_name[i] = a->port_names[i];
		sl_port_nic_stats(a->port_ids[i], &v->nic[i]);
	}
	v->nb_rx = a->layout.nb_rx;
	for (unsigned i = 0; i < v->nb_rx; i++) {
		v->rx_lcore[i] = a->layout.rx_lcore[i];
		v->rx[i] = a->rx_stats[i];
	}
	v->nb_writers = a->layout.nb_writers;
	for (unsigned i = 0; i < v->nb_writers; i++) {
		v->writer_lcore[i] = a->layout.writer_lcore[i];
		v->writer[i] = a->wr_stats[i];
	}
}

void
app_print_period(struct app *a)
{
	uint64_t now = rte_rdtsc();
	double dt = (double)(now - a->last_print) / (double)a->tsc_hz;
	struct sl_stats_view v;
	struct sl_fate f;

	if (dt <= 0)
		dt = 1e-9;
	app_fill_view(a, &v);
	for (unsigned i = 0; i < a->nb_ports; i++) {
		sl_stats_fate(&v, a->port_ids[i], &f);
		printf("[%8.1fs] port %u: rx %" PRIu64 " (%.3f Mpps)  written %" PRIu64
		       "  drops ring_full %" PRIu64 " writer_nobuf %" PRIu64 " write_error %" PRIu64
		       "  nic imissed %" PRIu64 " rx_nombuf %" PRIu64 "\n",
		       v.elapsed_s, a->port_ids[i], f.received,
		       (double)(f.received - a->prev_port[i].received) / dt / 1e6, f.written,
		       f.ring_full, f.writer_nobuf, f.write_error, v.nic[i].imissed,
		       v.nic[i].rx_nombuf);
		a->prev_port[i] = f;
	}
	for (unsigned w = 0; w < a->layout.nb_writers; w++) {
		const struct sl_writer_stats *ws = a->wr_stats[w];

		printf("[%8.1fs] writer %u: %.1f MB/s to disk, files %" PRIu64
		       ", buffers in flight %" PRIu64 ", io errors %" PRIu64 "\n",
		       v.elapsed_s, w, (double)(ws->io.write_bytes - a->prev_wbytes[w]) / dt / 1e6,
		       ws->files_closed, ws->buffers_in_flight, ws->io.errors);
		a->prev_wbytes[w] = ws->io.write_bytes;
	}
	fflush(stdout);
	a->last_print = now;
}

_Static_assert((int)SL_INGEST_STARTING == (int)SL_CAPTURE_LCORE_STARTING &&
		       (int)SL_INGEST_RUNNING == (int)SL_CAPTURE_LCORE_RUNNING &&
		       (int)SL_INGEST_DONE == (int)SL_CAPTURE_LCORE_DONE &&
		       (int)SL_INGEST_FAILED == (int)SL_CAPTURE_LCORE_FAILED,
	       "writer lcore states of both modes must agree");

static int *
writer_state(struct app *a, unsigned w)
{
	return a->cfg.mode == SL_MODE_FILE ? &a->fw[w]->state : &a->wr[w]->state;
}

static int
writer_error(struct app *a, unsigned w)
{
	return a->cfg.mode == SL_MODE_FILE ? a->fw[w]->error : a->wr[w]->error;
}

/* Settings that may change between runs (set commands while stopped). */
static void
refresh_writer_params(struct app *a)
{
	if (a->cfg.mode == SL_MODE_FILE) {
		for (unsigned w = 0; w < a->layout.nb_writers; w++) {
			a->fw[w]->params.dir = a->cfg.dir;
			a->fw[w]->state = SL_INGEST_STARTING;
		}
		return;
	}
	for (unsigned w = 0; w < a->layout.nb_writers; w++) {
		struct sl_capture_params *p = &a->wr[w]->params;

		p->dir = a->cfg.dir;
		p->format = a->cfg.format;
		p->snaplen = a->cfg.snaplen;
		p->rotate_size = a->cfg.rotate_size;
		p->rotate_ns = (uint64_t)a->cfg.rotate_seconds * 1000000000ull;
		a->wr[w]->state = SL_CAPTURE_LCORE_STARTING;
		a->wr[w]->backlog = 0;
	}
	for (unsigned i = 0; i < a->nb_ports; i++)
		a->ifaces[i].snaplen = a->cfg.snaplen;
}

int
app_start(struct app *a)
{
	const struct sl_layout *l = &a->layout;
	int rc = 0;

	if (a->started)
		return -EALREADY;
	refresh_writer_params(a);
	__atomic_store_n(&a->stop, 0, __ATOMIC_RELEASE);
	/* Writers run until every RX lcore has stopped: count them in first. */
	__atomic_store_n(&a->rx_running, (int)l->nb_rx, __ATOMIC_RELEASE);
	for (unsigned w = 0; w < l->nb_writers; w++) {
		app_seams_arm(a, w);
		if (a->cfg.mode == SL_MODE_FILE)
			rte_eal_remote_launch(sl_ingest_lcore_main, a->fw[w], l->writer_lcore[w]);
		else
			rte_eal_remote_launch(sl_capture_lcore_main, a->wr[w], l->writer_lcore[w]);
	}
	/* Writers create their io_uring on their own lcore; wait until each is
	 * ready so that a disk problem stops us before any packet is taken. */
	for (unsigned w = 0; w < l->nb_writers; w++) {
		int st;

		while ((st = __atomic_load_n(writer_state(a, w), __ATOMIC_ACQUIRE)) ==
		       SL_CAPTURE_LCORE_STARTING)
			rte_delay_us_sleep(1000);
		if (st == SL_CAPTURE_LCORE_FAILED) {
			fprintf(stderr, "sluice: error: writer %u cannot start in %s: %s\n", w,
				a->cfg.dir, strerror(-writer_error(a, w)));
			rc = -EIO;
		}
	}
	if (rc == 0)
		rc = start_ports(a);
	if (rc < 0) {
		/* Release the writers that did start. */
		__atomic_store_n(&a->rx_running, 0, __ATOMIC_RELEASE);
		for (unsigned w = 0; w < l->nb_writers; w++)
			rte_eal_wait_lcore(l->writer_lcore[w]);
		a->failed = true;
		return -EIO;
	}
	a->run_tsc = rte_rdtsc();
	if (a->start_tsc == 0)
		a->start_tsc = a->run_tsc;
	a->last_print = a->run_tsc;
	/* Rates of the first periodic line count from this start. */
	{
		struct sl_stats_view v;

		app_fill_view(a, &v);
		for (unsigned i = 0; i < a->nb_ports; i++)
			sl_stats_fate(&v, a->port_ids[i], &a->prev_port[i]);
		for (unsigned w = 0; w < l->nb_writers; w++)
			a->prev_wbytes[w] = a->wr_stats[w]->io.write_bytes;
	}
	a->next_print = a->run_tsc + (uint64_t)a->cfg.stats_period * a->tsc_hz;
	for (unsigned r = 0; r < l->nb_rx; r++)
		rte_eal_remote_launch(a->cfg.mode == SL_MODE_FILE ? sl_rx_file_lcore_main
								  : sl_rx_lcore_main,
				      a->rx[r], l->rx_lcore[r]);
	a->started = true;
	return 0;
}

/*
 * The writers' last words (BYE, final statuses) may still sit in a relay ring
 * when the RX lcores that send them have stopped: send them now, on the TX
 * queue of the RX lcore that owned the relay (stopped, so nobody else uses it).
 */
static void
flush_tx_relays(struct app *a)
{
	for (unsigned r = 0; r < a->layout.nb_rx; r++) {
		struct sl_rx_lcore *rx = a->rx[r];

		if (rx == NULL)
			continue;
		for (uint16_t p = 0; p < SL_MAX_PORTS; p++) {
			struct rte_mbuf *m[32];
			unsigned n;

			if (rx->tx_relay[p] == NULL)
				continue;
			while ((n = rte_ring_sc_dequeue_burst(rx->tx_relay[p], (void **)m, 32,
							      NULL)) > 0) {
				uint16_t sent = 0;

				for (int tries = 0; tries < 1000 && sent < n; tries++)
					sent += rte_eth_tx_burst(p, rx->txq, m + sent,
								 (uint16_t)(n - sent));
				rx->stats->tx_sent += sent;
				if (sent < n) {
					rx->stats->tx_dropped += n - sent;
					rte_pktmbuf_free_bulk(m + sent, n - sent);
				}
			}
		}
	}
}

int
app_stop(struct app *a)
{
	const struct sl_layout *l = &a->layout;
	int rc = 0;

	if (!a->started)
		return -EALREADY;
	__atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
	for (unsigned r = 0; r < l->nb_rx; r++)
		rte_eal_wait_lcore(l->rx_lcore[r]);
	for (unsigned w = 0; w < l->nb_writers; w++) {
		rte_eal_wait_lcore(l->writer_lcore[w]);
		if (__atomic_load_n(writer_state(a, w), __ATOMIC_ACQUIRE) !=
		    SL_CAPTURE_LCORE_DONE) {
			a->failed = true;
			rc = -EIO;
		}
	}
	flush_tx_relays(a);
	a->started = false;
	return rc;
}

void
app_push_live(struct app *a)
{
	if (a->cfg.mode == SL_MODE_FILE)
		return;
	for (unsigned i = 0; i < a->nb_ports; i++)
		a->ifaces[i].snaplen = a->cfg.snaplen;
	for (unsigned w = 0; w < a->layout.nb_writers; w++) {
		struct sl_capture_lcore *wl = a->wr[w];

		wl->live.format = a->cfg.format;
		wl->live.snaplen = a->cfg.snaplen;
		wl->live.rotate_size = a->cfg.rotate_size;
		wl->live.rotate_ns = (uint64_t)a->cfg.rotate_seconds * 1000000000ull;
		/* Also the parameters of the next start. */
		wl->params.format = a->cfg.format;
		wl->params.snaplen = a->cfg.snaplen;
		wl->params.rotate_size = wl->live.rotate_size;
		wl->params.rotate_ns = wl->live.rotate_ns;
		__atomic_fetch_add(&wl->live_gen, 1, __ATOMIC_RELEASE);
	}
}

int
app_set_filter(struct app *a, const char *expr, char *err, size_t errlen)
{
	struct sl_filter *f = NULL;

	if (expr != NULL && expr[0] != '\0') {
		f = sl_filter_create(expr, a->cfg.snaplen, err, errlen);
		if (f == NULL)
			return -EINVAL;
	}
	/* Swaps the program and waits until no RX lcore can still use the old
	 * one; if one is slow to quiesce, app_tick() frees it later. */
	sl_filter_slot_set(a->filter, f);
	snprintf(a->cfg.filter, sizeof(a->cfg.filter), "%s", f ? expr : "");
	return 0;
}

void
app_tick(struct app *a)
{
	uint64_t now = rte_rdtsc();

	if (quit_signal) {
		APP_LOG(INFO, "signal %d: stopping\n", (int)quit_signal);
		a->quit = true;
		return;
	}
	sl_filter_slot_reclaim(a->filter);
	if (!a->started)
		return;
	if ((a->cfg.duration_ms != 0 &&
	     now - a->run_tsc >= a->cfg.duration_ms * (a->tsc_hz / 1000)) ||
	    __atomic_load_n(&a->rx_running, __ATOMIC_ACQUIRE) == 0) {
		/* --duration passed or --max-packets reached. */
		if (!a->cfg.interactive) {
			a->quit = true;
			return;
		}
		if (app_stop(a) == 0)
			printf("\nCapture stopped (%s); files flushed.\n",
			       a->cfg.duration_ms ? "--duration or --max-packets reached"
						  : "--max-packets reached");
		else
			printf("\nCapture stopped with writer errors.\n");
		fflush(stdout);
		return;
	}
	if (a->cfg.stats_period != 0 && now >= a->next_print) {
		app_print_period(a);
		a->next_print = now + (uint64_t)a->cfg.stats_period * a->tsc_hz;
	}
}

/* Telemetry callbacks run on DPDK's telemetry threads; they only read. */
static void
telemetry_view(void *arg, struct sl_stats_view *v)
{
	app_fill_view(arg, v);
}

static unsigned
telemetry_rings(void *arg, struct sl_telemetry_ring *out, unsigned max)
{
	struct app *a = arg;

	return sl_telemetry_layout_rings(&a->layout, a->rx_stats, a->rings, out, max);
}

static const char *
telemetry_state(void *arg)
{
	const struct app *a = arg;

	return __atomic_load_n(&a->started, __ATOMIC_RELAXED) ? "running" : "stopped";
}

static void
report(struct app *a, int *exit_code)
{
	struct sl_stats_view v;
	struct sl_fate total;

	app_fill_view(a, &v);
	for (unsigned p = 0; p < a->nb_ports; p++)
		if (a->ports_started[p])
			sl_port_stop(a->port_ids[p]);
	sl_stats_summary(stdout, &v);
	sl_stats_fate(&v, -1, &total);
	if (sl_fate_unaccounted(&total) != 0) {
		fprintf(stderr, "sluice: error: %" PRId64 " packets are unaccounted for\n",
			sl_fate_unaccounted(&total));
		*exit_code = 1;
	}
	if (a->cfg.stats_json[0] != '\0') {
		char tmp[PATH_MAX + 8];
		FILE *f;

		/* Written aside and renamed, so a reader never sees half a file. */
		snprintf(tmp, sizeof(tmp), "%s.tmp", a->cfg.stats_json);
		f = fopen(tmp, "w");
		if (f == NULL || sl_stats_json(f, &v) < 0 || fsync(fileno(f)) < 0 ||
		    fclose(f) != 0 || rename(tmp, a->cfg.stats_json) < 0) {
			fprintf(stderr, "sluice: error: cannot write %s: %s\n", a->cfg.stats_json,
				strerror(errno));
			*exit_code = 1;
		}
	}
}

/*
 * net_af_packet spreads received frames over all of its qpairs sockets
 * (PACKET_FANOUT), and net_af_xdp receives on whichever queue the kernel
 * picks, whatever number of RX queues is configured. So in file mode, where
 * every datagram matters, every queue of those drivers is set up and polled:
 * the extra ones go round-robin to the RX lcores serving the port.
 */
static void
poll_all_fanout_queues(struct app *a)
{
	struct sl_layout *l = &a->layout;

	for (unsigned p = 0; p < a->nb_ports; p++) {
		struct rte_eth_dev_info info;
		uint16_t have = l->nb_rxq[p], rx_of[SL_LAYOUT_MAX_QUEUES];
		unsigned nb_rx_of = 0;

		if (have == 0 || rte_eth_dev_info_get(a->port_ids[p], &info) < 0 ||
		    (strcmp(info.driver_name, "net_af_packet") != 0 &&
		     strcmp(info.driver_name, "net_af_xdp") != 0))
			continue;
		for (unsigned q = 0; q < l->nb_queues; q++)
			if (l->queues[q].port == a->port_ids[p])
				rx_of[nb_rx_of++] = l->queues[q].rx;
		for (uint16_t q = have;
		     q < info.max_rx_queues && l->nb_queues < SL_LAYOUT_MAX_QUEUES; q++) {
			struct sl_layout_queue *lq = &l->queues[l->nb_queues++];

			lq->port = a->port_ids[p];
			lq->queue = q;
			lq->rx = rx_of[q % nb_rx_of];
			lq->writer = 0;
			l->nb_rxq[p]++;
		}
	}
}

/* File mode: our address on each port, and who may connect. */
static int
setup_file_mode(struct app *a)
{
	static struct sl_auth auth;
	char err[512];

	for (unsigned i = 0; i < a->cfg.nb_ips; i++)
		if (a->cfg.ips[i].port >= a->nb_ports) {
			fprintf(stderr, "sluice: error: --ip %s@%u: there are only %u port(s)\n",
				a->cfg.ips[i].family == 4 ? "(IPv4)" : "(IPv6)", a->cfg.ips[i].port,
				a->nb_ports);
			return -EINVAL;
		}
	for (unsigned p = 0; p < a->nb_ports; p++) {
		struct sl_net_iface *ifc = &a->net_ifaces[a->port_ids[p]];

		memset(ifc, 0, sizeof(*ifc));
		sl_port_mac(a->port_ids[p], &ifc->mac);
		ifc->udp_port = a->cfg.udp_port;
		for (unsigned i = 0; i < a->cfg.nb_ips; i++) {
			const struct sl_config_ip *ip = &a->cfg.ips[i];

			if (ip->port != p)
				continue;
			if (ip->family == 4) {
				memcpy(&ifc->ip, ip->ip, 4);
				ifc->ip_prefix = ip->prefix;
			} else {
				memcpy(ifc->ip6, ip->ip, 16);
				ifc->ip6_prefix = ip->prefix;
			}
		}
	}
	if (sl_auth_init(&auth) < 0) {
		fprintf(stderr, "sluice: error: no randomness for the cookie secret\n");
		return -EIO;
	}
	if (a->cfg.psk_file[0] != '\0' &&
	    sl_auth_load_keys(&auth, a->cfg.psk_file, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice: error: --psk-file: %s\n", err);
		return -EINVAL;
	}
	for (unsigned i = 0; i < a->cfg.nb_allow; i++)
		if (sl_auth_allow_add(&auth, a->cfg.allow[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "sluice: error: --allow: %s\n", err);
			return -EINVAL;
		}
	a->auth = &auth;
	return 0;
}

/*
 * sluice's own options, which follow the first "--" (where EAL stops too),
 * and the --profile they name. They are read before EAL starts, since a
 * profile adds devargs to EAL's device arguments.
 */
static int
read_options(struct app *a, int argc, char **argv, char *err, size_t errlen)
{
	char **args = calloc((size_t)argc + 1, sizeof(char *));
	int first = argc, n = 0, saved_opterr = opterr, rc;

	if (args == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			first = i + 1;
			break;
		}
	args[n++] = (char *)"sluice";
	for (int i = first; i < argc; i++)
		args[n++] = argv[i];
	rc = sl_profile_config_parse(&a->cfg, &a->profile, n, args, err, errlen);
	/* EAL's parser counts on getopt to name the options it does not know. */
	opterr = saved_opterr;
	free(args);
	return rc;
}

/* What --profile set, and which EAL device arguments received its devargs. */
static void
log_profile(const struct app *a, int argc, char **argv, char **eal_argv, unsigned nb_devices)
{
	const struct sl_profile *pr = &a->profile;
	char text[1024];

	if (pr->path[0] == '\0')
		return;
	APP_LOG(INFO, "%s\n", sl_profile_describe(pr, &a->cfg, text, sizeof(text)));
	for (int i = 1; i < argc; i++)
		if (eal_argv[i] != argv[i])
			APP_LOG(INFO, "profile %s: EAL argument %s -> %s\n", pr->name, argv[i],
				eal_argv[i]);
	if (pr->devargs[0] != '\0' && nb_devices == 0)
		APP_LOG(WARNING,
			"profile %s: no %s on the command line: its devargs %s reach no device\n",
			pr->name,
			pr->bus == SL_PROFILE_BUS_PCI ? "-a/--allow device"
						      : "--vdev of its driver",
			pr->devargs);
}

static int
check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		fprintf(stderr, "sluice: error: --dir %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "sluice: error: --dir %s is not a directory\n", dir);
		return -ENOTDIR;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		fprintf(stderr, "sluice: error: --dir %s is not writable: %s\n", dir,
			strerror(errno));
		return -errno;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct app app;
	struct app *a = &app;
	char **eal_argv = argv, **eal_run = argv;
	unsigned nb_devices = 0;
	char err[512];
	int rc, exit_code = 0;

	/* -h works without EAL, so operators can read the options anywhere. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			for (int j = i + 1; j < argc; j++)
				if (strcmp(argv[j], "-h") == 0 || strcmp(argv[j], "--help") == 0) {
					sl_config_usage(stdout, argv[0]);
					return 0;
				}
			break;
		}
	}
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		sl_config_usage(stdout, argv[0]);
		return 0;
	}

	rc = read_options(a, argc, argv, err, sizeof(err));
	if (rc == 1) {
		sl_config_usage(stdout, "sluice");
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "sluice: error: %s\n(see sluice -- -h)\n", err);
		return 2;
	}
	if (a->profile.path[0] != '\0') {
		/* EAL gets a copy, since it may reorder its arguments, and the log
		 * compares the originals with the profile's. */
		if (sl_profile_eal_args(&a->profile, argc, argv, &eal_argv, &nb_devices) < 0 ||
		    (eal_run = calloc((size_t)argc + 1, sizeof(char *))) == NULL) {
			fprintf(stderr, "sluice: error: out of memory\n");
			return 1;
		}
		memcpy(eal_run, eal_argv, (size_t)argc * sizeof(char *));
	}

	rc = rte_eal_init(argc, eal_run);
	if (rc < 0)
		rte_exit(2, "cannot initialise EAL: %s\n", rte_strerror(rte_errno));
	log_profile(a, argc, argv, eal_argv, nb_devices);
	if (check_dir(a->cfg.dir) < 0) {
		rte_eal_cleanup();
		return 2;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	a->tsc_hz = rte_get_tsc_hz();
	sl_clock_init(&a->clock, a->tsc_hz, rte_rdtsc(), sl_realtime_ns());
	if (a->cfg.perf_test != SL_PERF_NONE) {
		exit_code = app_perf_test(a);
		rte_eal_cleanup();
		return exit_code;
	}
	a->budget = a->cfg.max_packets;
	a->ts_offset = sl_rx_register_timestamp();
	if (a->ts_offset < 0)
		rte_exit(1, "cannot register the timestamp mbuf field: %s\n",
			 strerror(-a->ts_offset));

	if (plan_layout(a) < 0 || app_seams_read(a) < 0) {
		rte_eal_cleanup();
		return 2;
	}
	for (unsigned i = 0; i < a->nb_ports; i++) {
		a->ifaces[i].name = a->port_names[i];
		a->ifaces[i].description = "sluice capture";
		a->ifaces[i].snaplen = a->cfg.snaplen;
	}
	if (a->cfg.mode == SL_MODE_FILE)
		poll_all_fanout_queues(a);
	if (a->cfg.mode == SL_MODE_FILE && setup_file_mode(a) < 0) {
		rte_eal_cleanup();
		return 2;
	}

	a->filter = sl_filter_slot_create(a->layout.nb_rx);
	if (a->filter == NULL)
		rte_exit(1, "cannot create the filter slot\n");
	if (a->cfg.filter[0] != '\0') {
		char expr[sizeof(a->cfg.filter)];

		memcpy(expr, a->cfg.filter, sizeof(expr));
		if (app_set_filter(a, expr, err, sizeof(err)) < 0) {
			fprintf(stderr, "sluice: error: --filter: %s\n", err);
			rte_eal_cleanup();
			return 2;
		}
	}

	if (create_pools(a) < 0 || setup_ports(a) < 0 || create_rings_and_lcores(a) < 0 ||
	    (a->cfg.mode == SL_MODE_CAPTURE && app_recover(a) < 0)) {
		rte_eal_cleanup();
		return 1;
	}
	{
		const struct sl_telemetry_source src = {
			.arg = a,
			.view = telemetry_view,
			.rings = telemetry_rings,
			.state = telemetry_state,
		};

		rc = sl_telemetry_register(&src);
		if (rc < 0)
			APP_LOG(WARNING, "telemetry commands unavailable: %s\n", strerror(-rc));
	}

	if (a->cfg.mode == SL_MODE_FILE) {
		printf("sluice: file mode on %u port(s), %u RX lcore(s), %u writer(s) -> %s "
		       "(UDP port %u%s%s%s)\n",
		       a->nb_ports, a->layout.nb_rx, a->layout.nb_writers, a->cfg.dir,
		       a->cfg.udp_port, a->cfg.direct ? ", O_DIRECT" : "",
		       a->auth->nb_keys ? ", keys required" : "",
		       a->cfg.overwrite ? ", overwrite" : "");
		for (unsigned i = 0; i < a->nb_ports; i++) {
			const struct sl_net_iface *ifc = &a->net_ifaces[a->port_ids[i]];
			char v4[INET_ADDRSTRLEN] = "-", v6[INET6_ADDRSTRLEN] = "-";

			if (ifc->ip != 0)
				inet_ntop(AF_INET, &ifc->ip, v4, sizeof(v4));
			if (ifc->ip6[0] != 0 || memcmp(ifc->ip6, ifc->ip6 + 1, 15) != 0)
				inet_ntop(AF_INET6, ifc->ip6, v6, sizeof(v6));
			printf("sluice: port %u (%s) " RTE_ETHER_ADDR_PRT_FMT
			       " IPv4 %s/%u IPv6 %s/%u\n",
			       a->port_ids[i], a->port_names[i], RTE_ETHER_ADDR_BYTES(&ifc->mac),
			       v4, ifc->ip_prefix, v6, ifc->ip6_prefix);
		}
	} else {
		printf("sluice: capture on %u port(s), %u RX lcore(s), %u writer(s) -> %s (%s%s)\n",
		       a->nb_ports, a->layout.nb_rx, a->layout.nb_writers, a->cfg.dir,
		       sl_config_format_name(a->cfg.format), a->cfg.direct ? ", O_DIRECT" : "");
	}
	fflush(stdout);

	if (a->cfg.interactive) {
		if (sl_cli_run(a, a->cfg.cmdline_file[0] ? a->cfg.cmdline_file : NULL) < 0)
			exit_code = 1;
	} else if (app_start(a) == 0) {
		while (!a->quit) {
			app_tick(a);
			rte_delay_us_sleep(10000);
		}
	}
	if (a->started && app_stop(a) < 0)
		exit_code = 1;
	if (a->failed)
		exit_code = 1;
	report(a, &exit_code);
	sl_telemetry_unregister();
	sl_filter_slot_destroy(a->filter);

	for (unsigned w = 0; w < a->layout.nb_writers; w++)
		rte_free(a->wr_mem[w]);
	rte_eal_cleanup();
	if (eal_run != argv) {
		free(eal_run);
		free(eal_argv);
	}
	return exit_code;
}
