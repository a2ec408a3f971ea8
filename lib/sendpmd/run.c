/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "sl_sendpmd.h"
#include "sl_common.h"

/* Datagrams asked of the state machine per loop (it makes at most 64). */
#define BURST 64
#define RX_BURST 32
#define NB_RXD 512
#define NB_TXD 1024
#define MBUF_CACHE 256
#define PROGRESS_NS 200000000ull
/* A refused tx_burst is retried; after this long the rest is freed and counted. */
#define TX_STALL_NS 1000000000ull
#define ARP_RETRY_FIRST_NS 200000000ull
#define ARP_RETRY_MAX_NS 1000000000ull
#define LINK_POLL_NS 10000000ull
/* Before leaving, the link must have been quiet this long (see quiesce()). */
#define QUIET_NS 50000000ull
#define QUIET_MAX_NS 1000000000ull
/* Largest frame we receive whole (9000-byte MTU, VLAN tags); longer ones are not ours. */
#define FRAME_MAX (9216 + 64)
#define EPHEMERAL_FIRST 49152

struct loop {
	const struct sl_sendpmd_opts *po;
	const struct sl_sender_config *cfg;
	uint16_t port;
	uint16_t nb_rxq;
	bool memif, started;
	uint64_t start_ns;  /* When sl_sendpmd_run() began, for the timings of -v. */
	uint32_t link_mbps; /* As the device reports it; RTE_ETH_SPEED_NUM_UNKNOWN or 0 if not. */
	int socket;
	struct rte_mempool *pool;
	struct sl_net_iface ifc;
	uint32_t dst_ip;
	uint16_t dst_port;
	uint32_t hop;
	bool have_mac;
	struct rte_ether_addr hop_mac;
	struct sl_sendpmd_frame frame;
	uint64_t tx_ol_flags;
	struct sl_sender *s;
	struct sl_sendpmd_stats st;
	uint8_t scratch[FRAME_MAX];
};

static void
sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	nanosleep(&ts, NULL);
}

static void note(const struct loop *lp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(const struct loop *lp, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (lp->cfg->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lp->cfg->log(lp->cfg->log_arg, msg);
}

/*
 * Hand @p n frames to the device. A full TX ring is retried (the receiver,
 * or the wire, is behind: waiting is the back-pressure the socket mode gets
 * from a full socket buffer); after TX_STALL_NS the rest is freed and
 * counted, and the protocol retransmits what mattered.
 */
static void
tx_all(struct loop *lp, struct rte_mbuf **m, unsigned n)
{
	unsigned done = 0;
	uint64_t start = 0;

	while (done < n) {
		uint16_t k = rte_eth_tx_burst(lp->port, 0, m + done, (uint16_t)(n - done));

		for (uint16_t i = 0; i < k; i++)
			lp->st.tx_bytes += rte_pktmbuf_pkt_len(m[done + i]);
		done += k;
		lp->st.tx_frames += k;
		if (done == n)
			break;
		lp->st.tx_busy++;
		if (start == 0) {
			start = sl_monotonic_ns();
		} else if (sl_monotonic_ns() - start > TX_STALL_NS) {
			lp->st.tx_dropped += n - done;
			rte_pktmbuf_free_bulk(m + done, n - done);
			return;
		}
		/* The receiver is behind: give it the CPU rather than spin (the CPUs may be
		 * shared, as in the tests). */
		if (k == 0) {
			if (lp->po->idle_sleep_us > 0)
				sleep_ns((uint64_t)lp->po->idle_sleep_us * 1000ull);
			else
				rte_pause();
		}
	}
}

/* One frame, copied into a fresh mbuf and sent at once (ARP: rare). */
static void
tx_control(struct loop *lp, const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(lp->pool);

	if (unlikely(m == NULL)) {
		lp->st.tx_nombuf++;
		return;
	}
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), frame, len);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	tx_all(lp, &m, 1);
}

static void
send_arp_request(struct loop *lp)
{
	uint8_t frame[SL_NET_MIN_FRAME];
	uint32_t len = sl_net_build_arp_request(&lp->ifc, lp->hop, frame, sizeof(frame));

	tx_control(lp, frame, len);
	lp->st.arp_requests_sent++;
}

/*
 * Poll every RX queue once: datagrams from the receiver go to the state
 * machine (when there is one), ARP requests for us are answered, an ARP
 * answer from the next hop is learnt, everything else is counted and freed.
 *
 * @return frames received.
 */
static unsigned
rx_poll(struct loop *lp)
{
	struct rte_mbuf *pkts[RX_BURST];
	unsigned total = 0;

	for (uint16_t q = 0; q < lp->nb_rxq; q++) {
		uint16_t n = rte_eth_rx_burst(lp->port, q, pkts, RX_BURST);
		uint64_t now = n > 0 && lp->s != NULL ? sl_monotonic_ns() : 0;

		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			uint32_t len = rte_pktmbuf_pkt_len(m);
			const uint8_t *frame;
			enum sl_net_verdict v;
			struct sl_net_pkt pkt;
			uint8_t reply[SL_NET_MIN_FRAME + 8];
			uint32_t rlen;

			if (i + 1 < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
			if (unlikely(len > FRAME_MAX)) {
				lp->st.rx_verdicts[SL_NET_DROP_BAD_IP_HEADER]++;
				lp->st.rx_dropped++;
				continue;
			}
			/* Chained mbufs (jumbo frames, small buffers) are read in one piece. */
			frame = rte_pktmbuf_read(m, 0, len, lp->scratch);
			switch (sl_sendpmd_classify(&lp->ifc, lp->dst_ip, lp->dst_port, frame, len,
						    sl_net_mbuf_csum_flags(m->ol_flags), &pkt,
						    &v)) {
			case SL_SENDPMD_RX_DATAGRAM:
				if (lp->s != NULL) {
					sl_sender_input(lp->s, pkt.payload, pkt.payload_len, now);
					lp->st.rx_datagrams++;
				} else {
					lp->st.rx_wrong_peer++;
				}
				break;
			case SL_SENDPMD_RX_ARP_REQUEST:
				if (!lp->have_mac && sl_sendpmd_arp_learn(&lp->ifc, lp->hop, frame,
									  len, &lp->hop_mac))
					lp->have_mac = true;
				rlen = sl_net_build_arp_reply(&lp->ifc, frame, len, reply,
							      sizeof(reply));
				if (rlen > 0)
					tx_control(lp, reply, rlen);
				lp->st.rx_arp_requests++;
				break;
			case SL_SENDPMD_RX_WRONG_PEER:
				lp->st.rx_wrong_peer++;
				break;
			case SL_SENDPMD_RX_DROP:
				if (!lp->have_mac && sl_sendpmd_arp_learn(&lp->ifc, lp->hop, frame,
									  len, &lp->hop_mac))
					lp->have_mac = true;
				lp->st.rx_dropped++;
				break;
			}
			lp->st.rx_verdicts[v]++;
		}
		if (n > 0)
			rte_pktmbuf_free_bulk(pkts, n);
		lp->st.rx_frames += n;
		total += n;
	}
	return total;
}

static void
idle(struct loop *lp, uint64_t ns)
{
	if (ns == 0)
		return;
	lp->st.idle_sleeps++;
	sleep_ns(ns);
}

/* Mbufs: every TX descriptor of the TX queue we use, every RX descriptor of every queue, the
 * bursts in hand and the per-lcore cache. The protocol's window never sits in mbufs:
 * the state machine reads a retransmission from the file again. */
static unsigned
pool_size(uint16_t nb_rxq, uint16_t nb_txq)
{
	return (unsigned)nb_txq * NB_TXD + (unsigned)nb_rxq * NB_RXD + 4 * BURST + 2 * MBUF_CACHE +
	       1024;
}

/* Choose the port, read what it offers, make the pool. */
static int
port_open(struct loop *lp, struct rte_eth_dev_info *info, char *err, size_t errlen)
{
	const struct sl_sendpmd_opts *po = lp->po;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t room, maxq;
	unsigned n;
	int socket, rc;

	if (rte_eth_dev_count_avail() == 0) {
		snprintf(err, errlen,
			 "no DPDK port: give one to EAL before '--' (such as "
			 "--vdev=net_memif0,role=client,socket=/run/sluice.sock, or -a PCI_ADDR)");
		return -ENODEV;
	}
	if (po->have_port_id) {
		if (!rte_eth_dev_is_valid_port(po->port_id)) {
			snprintf(err, errlen, "--port-id=%u: no such port (%u available)",
				 po->port_id, rte_eth_dev_count_avail());
			return -ENODEV;
		}
		lp->port = po->port_id;
	} else {
		uint16_t p;

		RTE_ETH_FOREACH_DEV(p)
		{
			lp->port = p;
			break;
		}
	}
	rc = rte_eth_dev_info_get(lp->port, info);
	if (rc != 0) {
		snprintf(err, errlen, "port %u: cannot read device info: %s", lp->port,
			 strerror(-rc));
		return -ENODEV;
	}
	lp->memif = strcmp(info->driver_name, "net_memif") == 0;
	if (po->rx_queues > info->max_rx_queues || po->tx_queues > info->max_tx_queues ||
	    info->max_tx_queues == 0) {
		snprintf(err, errlen, "port %u (%s) has at most %u RX and %u TX queues", lp->port,
			 info->driver_name, info->max_rx_queues, info->max_tx_queues);
		return -ENODEV;
	}
	/* See enum sl_sendpmd_csum: offload when the device has it, else 0 over IPv4. */
	if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
		lp->tx_ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
	socket = rte_eth_dev_socket_id(lp->port);
	lp->socket = socket < 0 ? (int)rte_socket_id() : socket;
	/* A whole frame of the MTU in one mbuf: no chains on TX. */
	room = RTE_MBUF_DEFAULT_BUF_SIZE;
	if ((unsigned)po->mtu + RTE_ETHER_HDR_LEN + 8 + RTE_PKTMBUF_HEADROOM > room)
		room = (uint16_t)(po->mtu + RTE_ETHER_HDR_LEN + 8 + RTE_PKTMBUF_HEADROOM);
	/* net_memif copies into mbufs it allocates per burst: its RX queues hold none
	 * (4 cover zero-copy=yes, where each holds a ring of them). */
	maxq = lp->memif ? 4 : 1;
	n = pool_size(po->rx_queues != 0 && !lp->memif ? po->rx_queues : maxq, 1);
	snprintf(name, sizeof(name), "sl_send_p%u", lp->port);
	/* Virtual devices copy frames in and out (net_memif without zero-copy), so an
	 * ordinary pool does without hugepages; only net_af_xdp wants a packed one
	 * (app/main.c), and a kernel socket serves better where it would be used. */
	lp->pool = rte_pktmbuf_pool_create(name, n, MBUF_CACHE, 0, room, lp->socket);
	if (lp->pool == NULL)
		lp->pool = rte_pktmbuf_pool_create(name, n, MBUF_CACHE, 0, room, SOCKET_ID_ANY);
	if (lp->pool == NULL) {
		snprintf(err, errlen, "cannot create a pool of %u mbufs: %s (give EAL more -m)", n,
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

/* Configure @p nb_rxq RX and @p nb_txq TX queues and start the port. */
static int
port_start(struct loop *lp, const struct rte_eth_dev_info *info, uint16_t nb_rxq, uint16_t nb_txq,
	   char *err, size_t errlen)
{
	const struct sl_sendpmd_opts *po = lp->po;
	uint16_t nb_rxd = NB_RXD, nb_txd = NB_TXD;
	struct rte_eth_conf conf;
	int rc;

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.offloads = info->rx_offload_capa &
			       (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	if (lp->tx_ol_flags != 0)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	rc = rte_eth_dev_configure(lp->port, nb_rxq, nb_txq, &conf);
	if (rc < 0) {
		snprintf(err, errlen,
			 "port %u (%s): configure with %u RX and %u TX queues failed: %s", lp->port,
			 info->driver_name, nb_rxq, nb_txq, strerror(-rc));
		return -ENODEV;
	}
	if (po->mtu != RTE_ETHER_MTU) {
		rc = rte_eth_dev_set_mtu(lp->port, po->mtu);
		/* Virtual devices without an MTU (net_memif, net_ring) carry any frame. */
		if (rc < 0 && rc != -ENOTSUP) {
			snprintf(err, errlen, "port %u (%s): cannot set MTU %u: %s", lp->port,
				 info->driver_name, po->mtu, strerror(-rc));
			return -ENODEV;
		}
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(lp->port, &nb_rxd, &nb_txd);
	if (rc < 0) {
		snprintf(err, errlen, "port %u: descriptor counts refused: %s", lp->port,
			 strerror(-rc));
		return -ENODEV;
	}
	for (uint16_t q = 0; q < nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(lp->port, q, nb_rxd, (unsigned)lp->socket, NULL,
					    lp->pool);
		if (rc < 0) {
			snprintf(err, errlen, "port %u: RX queue %u setup failed: %s", lp->port, q,
				 strerror(-rc));
			return -ENODEV;
		}
	}
	for (uint16_t q = 0; q < nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(lp->port, q, nb_txd, (unsigned)lp->socket, NULL);
		if (rc < 0) {
			snprintf(err, errlen, "port %u: TX queue %u setup failed: %s", lp->port, q,
				 strerror(-rc));
			return -ENODEV;
		}
	}
	rc = rte_eth_dev_start(lp->port);
	if (rc < 0) {
		snprintf(err, errlen, "port %u (%s): start failed: %s%s", lp->port,
			 info->driver_name, strerror(-rc),
			 lp->memif ? " (is the memif server running on that socket?)" : "");
		return -ENODEV;
	}
	lp->started = true;
	lp->nb_rxq = nb_rxq;
	return 0;
}

static void
port_stop(struct loop *lp)
{
	if (lp->started)
		rte_eth_dev_stop(lp->port);
	lp->started = false;
}

/* Whether the link comes up within @p ns (a memif client: the server has accepted it). */
static bool
link_up_within(struct loop *lp, uint64_t ns, const volatile int *stop)
{
	uint64_t start = sl_monotonic_ns();

	for (;;) {
		struct rte_eth_link link;

		if (rte_eth_link_get_nowait(lp->port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP) {
			lp->link_mbps = link.link_speed;
			return true;
		}
		if ((stop != NULL && *stop) || sl_monotonic_ns() - start >= ns)
			return false;
		sleep_ns(LINK_POLL_NS / 10);
	}
}

/* struct sl_sendpmd_link_ops on the loop's port. */
struct link_arg {
	struct loop *lp;
	const struct rte_eth_dev_info *info;
	const volatile int *stop;
};

static int
link_start(void *arg, uint16_t rxq, uint16_t txq, char *err, size_t errlen)
{
	struct link_arg *a = arg;
	int rc = port_start(a->lp, a->info, rxq, txq, err, errlen);

	if (rc != 0)
		note(a->lp, "%s (%llu ms)", err,
		     (unsigned long long)((sl_monotonic_ns() - a->lp->start_ns) / 1000000));
	return rc;
}

static void
link_stop(void *arg)
{
	port_stop(((struct link_arg *)arg)->lp);
}

static bool
link_up(void *arg, uint64_t ns)
{
	struct link_arg *a = arg;

	return link_up_within(a->lp, ns, a->stop);
}

static void
link_sleep(void *arg __rte_unused, uint64_t ns)
{
	sleep_ns(ns);
}

static uint64_t
link_now(void *arg __rte_unused)
{
	return sl_monotonic_ns();
}

/*
 * Start the port with the queues of --rx-queues and --tx-queues, or on
 * net_memif with as many as the server accepts (sl_sendpmd_memif_connect()).
 */
static int
port_connect(struct loop *lp, const struct rte_eth_dev_info *info, uint64_t limit_ns,
	     const volatile int *stop, char *err, size_t errlen)
{
	const struct sl_sendpmd_opts *po = lp->po;
	struct link_arg a = { .lp = lp, .info = info, .stop = stop };
	const struct sl_sendpmd_link_ops ops = {
		.start = link_start,
		.stop = link_stop,
		.up_within = link_up,
		.sleep = link_sleep,
		.now = link_now,
		.arg = &a,
	};
	char who[64];
	struct sl_sendpmd_probe p = {
		.who = who,
		.rx_queues = po->rx_queues,
		.tx_queues = po->tx_queues,
		.max_rx = info->max_rx_queues,
		.max_tx = info->max_tx_queues,
		.limit_ns = limit_ns,
		.stop = stop,
	};
	uint16_t rxq, txq;
	int rc;

	snprintf(who, sizeof(who), "port %u (%s)", lp->port, info->driver_name);
	if (!lp->memif) {
		rc = port_start(lp, info, po->rx_queues != 0 ? po->rx_queues : 1,
				po->tx_queues != 0 ? po->tx_queues : 1, err, errlen);
		if (rc != 0)
			return rc;
		if (link_up_within(lp, limit_ns, stop))
			return 0;
		if (stop != NULL && *stop)
			return -EINTR;
		snprintf(err, errlen, "%s: link down after %llu s", who,
			 (unsigned long long)(limit_ns / 1000000000ull));
		return -ENODEV;
	}
	rc = sl_sendpmd_memif_connect(&ops, &p, &rxq, &txq, err, errlen);
	if (rc == 0)
		note(lp, "net_memif: the server takes %u RX and %u TX queue(s) from us (%llu ms)",
		     rxq, txq, (unsigned long long)((sl_monotonic_ns() - lp->start_ns) / 1000000));
	return rc;
}

/* ARP for the next hop, with retries (doubling to 1 s) until it answers or @p limit_ns. */
static int
resolve(struct loop *lp, uint64_t limit_ns, const volatile int *stop, char *err, size_t errlen)
{
	uint64_t start = sl_monotonic_ns(), next = start, wait = ARP_RETRY_FIRST_NS;
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &lp->hop, ip, sizeof(ip));
	while (!lp->have_mac) {
		uint64_t now = sl_monotonic_ns();

		if (stop != NULL && *stop)
			return -EINTR;
		if (now - start >= limit_ns) {
			snprintf(err, errlen,
				 "%s: no ARP reply within %llu s (is it on the link of --src-ip? "
				 "--dst-mac skips ARP)",
				 ip, (unsigned long long)(limit_ns / 1000000000ull));
			return -EHOSTUNREACH;
		}
		if (now >= next) {
			send_arp_request(lp);
			note(lp, "ARP: who has %s", ip);
			next = now + wait;
			wait = RTE_MIN(wait * 2, ARP_RETRY_MAX_NS);
		}
		if (rx_poll(lp) == 0)
			idle(lp, RTE_MAX(lp->po->idle_sleep_us, 100u) * 1000ull);
	}
	note(lp, "ARP: %s is at " RTE_ETHER_ADDR_PRT_FMT " (%llu ms)", ip,
	     RTE_ETHER_ADDR_BYTES(&lp->hop_mac),
	     (unsigned long long)((sl_monotonic_ns() - lp->start_ns) / 1000000));
	return 0;
}

/* Build the datagrams into mbufs and send them. @return frames handed over. */
static unsigned
tx_datagrams(struct loop *lp, const struct sl_sender_dgram *dg, unsigned n)
{
	struct rte_mbuf *m[BURST];

	if (unlikely(rte_pktmbuf_alloc_bulk(lp->pool, m, n) != 0)) {
		/* Rare (the pool covers every descriptor); the protocol resends what mattered. */
		lp->st.tx_nombuf += n;
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *out = rte_pktmbuf_mtod(m[i], uint8_t *);
		uint32_t len = sl_sendpmd_frame_build(&lp->frame, dg[i].buf, dg[i].len, out,
						      rte_pktmbuf_tailroom(m[i]));

		if (i + 1 < n)
			rte_prefetch0(dg[i + 1].buf);
		m[i]->data_len = (uint16_t)len;
		m[i]->pkt_len = len;
		if (lp->tx_ol_flags != 0) {
			m[i]->ol_flags |= lp->tx_ol_flags;
			m[i]->l2_len = RTE_ETHER_HDR_LEN;
			m[i]->l3_len = sizeof(struct rte_ipv4_hdr);
		}
	}
	tx_all(lp, m, n);
	return n;
}

/*
 * Before the port stops: nothing more is sent, and what still comes is taken
 * until the link has been quiet for QUIET_NS (at most QUIET_MAX_NS). A memif
 * peer unmaps the shared rings when we leave, and DPDK 22.11's memif does not
 * keep its own lcores out of them meanwhile: leaving while a burst is being
 * copied can crash the peer, leaving in quiet hardly can.
 */
static void
quiesce(struct loop *lp)
{
	uint64_t start = sl_monotonic_ns(), last = start;

	for (;;) {
		uint64_t now;

		if (rx_poll(lp) > 0)
			last = sl_monotonic_ns();
		now = sl_monotonic_ns();
		if (now - last >= QUIET_NS || now - start >= QUIET_MAX_NS) {
			note(lp, "link %s after %llu ms",
			     now - last >= QUIET_NS ? "quiet" : "still busy",
			     (unsigned long long)((now - start) / 1000000));
			return;
		}
		sleep_ns(RTE_MAX(lp->po->idle_sleep_us, 100u) * 1000ull);
	}
}

static int
transfer(struct loop *lp, struct sl_sender_list *l, sl_sender_progress_fn *progress, void *arg,
	 const volatile int *stop, struct sl_sender_stats *st)
{
	const uint64_t idle_ns = (uint64_t)lp->po->idle_sleep_us * 1000ull;
	struct sl_sender_dgram dg[BURST];
	uint64_t start = sl_monotonic_ns(), next_progress = start, wake = start;
	int ret = 0;

	lp->st.transfer_ns = 0;

	lp->s = sl_sender_create(lp->cfg, l, start);
	if (lp->s == NULL)
		return -errno;
	for (;;) {
		enum sl_sender_phase ph;
		uint64_t now;
		unsigned got, n;

		got = rx_poll(lp);
		now = sl_monotonic_ns();
		ph = sl_sender_phase(lp->s);
		if (ph == SL_SENDER_DONE || ph == SL_SENDER_NO_SESSION)
			break;
		if (unlikely(stop != NULL && *stop)) {
			ret = -EINTR;
			break;
		}
		n = 0;
		if (got > 0 || now >= wake) {
			n = sl_sender_output(lp->s, now, dg, BURST, &wake);
			if (n > 0)
				tx_datagrams(lp, dg, n);
		}
		if (progress != NULL && now >= next_progress) {
			sl_sender_get_stats(lp->s, st);
			progress(arg, st, now - start, false);
			next_progress = now + PROGRESS_NS;
		}
		if (got == 0 && n == 0) {
			/* Nothing came and nothing went: back off, but never past a timer. */
			now = sl_monotonic_ns();
			if (wake > now)
				idle(lp, RTE_MIN(idle_ns, wake - now));
		}
	}
	sl_sender_get_stats(lp->s, st);
	lp->st.transfer_ns = sl_monotonic_ns() - start;
	if (progress != NULL)
		progress(arg, st, lp->st.transfer_ns, true);
	if (ret == 0 && sl_sender_phase(lp->s) == SL_SENDER_NO_SESSION)
		ret = st->reject_reason != 0 ? -ECONNREFUSED : -ETIMEDOUT;
	sl_sender_free(lp->s);
	lp->s = NULL;
	return ret;
}

int
sl_sendpmd_run(const struct sl_sendpmd_opts *po, const struct sl_sender_opts *o,
	       const struct sl_sender_config *c, struct sl_sender_list *l,
	       sl_sender_progress_fn *progress, void *arg, const volatile int *stop,
	       struct sl_sender_stats *stats, struct sl_sendpmd_stats *pstats, char *err,
	       size_t errlen)
{
	struct sl_sender_config cfg = *c;
	struct sl_sender_stats st = { 0 };
	struct rte_eth_dev_info info;
	struct loop *lp;
	uint64_t limit = c->timeout_ns;
	int ret;

	err[0] = '\0';
	lp = rte_zmalloc("sl_sendpmd", sizeof(*lp), RTE_CACHE_LINE_SIZE);
	if (lp == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	lp->po = po;
	lp->cfg = &cfg;
	lp->start_ns = sl_monotonic_ns();
	lp->port = RTE_MAX_ETHPORTS;
	ret = sl_sendpmd_opts_check(po, o, &lp->dst_ip, err, errlen);
	if (ret != 0)
		goto out;
	lp->dst_port = o->port;
	if (sl_sendpmd_next_hop(po->src_ip, po->src_prefix, lp->dst_ip, po->gateway, &lp->hop) !=
	    0) {
		snprintf(err, errlen, "%s is outside --src-ip's network: give --gateway=ADDR",
			 o->host);
		ret = -EINVAL;
		goto out;
	}
	if (cfg.max_payload == 0)
		cfg.max_payload = sl_sendpmd_max_payload(po->mtu);
	cfg.ip_overhead = SL_SENDPMD_IP_OVERHEAD;
	lp->ifc.ip = po->src_ip;
	lp->ifc.ip_prefix = po->src_prefix;
	lp->ifc.udp_port = po->src_port != 0
				   ? po->src_port
				   : (uint16_t)(EPHEMERAL_FIRST +
						rte_rand_max(UINT16_MAX - EPHEMERAL_FIRST + 1));
	/* Sleeps of tens of microseconds: the default 50 us timer slack would double them. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);

	ret = port_open(lp, &info, err, errlen);
	if (ret != 0)
		goto out;
	note(lp, "port %u (%s): pool of %u mbufs (%llu ms)", lp->port, info.driver_name,
	     lp->pool->size, (unsigned long long)((sl_monotonic_ns() - lp->start_ns) / 1000000));
	ret = port_connect(lp, &info, limit, stop, err, errlen);
	if (ret != 0)
		goto out;
	ret = rte_eth_macaddr_get(lp->port, &lp->ifc.mac);
	if (ret != 0) {
		snprintf(err, errlen, "port %u: no MAC address: %s", lp->port, strerror(-ret));
		ret = -ENODEV;
		goto out;
	}
	/* Promiscuous mode is not needed: only frames to our MAC or broadcast are ours. */
	note(lp,
	     "port %u (%s): %u RX queue(s), UDP checksum %s, MAC " RTE_ETHER_ADDR_PRT_FMT
	     " (%llu ms)",
	     lp->port, info.driver_name, lp->nb_rxq,
	     lp->tx_ol_flags != 0 ? "offloaded" : "0 (CRC32C covers each message)",
	     RTE_ETHER_ADDR_BYTES(&lp->ifc.mac),
	     (unsigned long long)((sl_monotonic_ns() - lp->start_ns) / 1000000));
	if (po->have_dst_mac) {
		lp->hop_mac = po->dst_mac;
		lp->have_mac = true;
	} else {
		ret = resolve(lp, limit, stop, err, errlen);
		if (ret != 0)
			goto out;
	}
	/* The state machine starts slowly (SL_SENDER_CC_START_BPS, made for unknown
	 * paths) and gains 5 % per round trip; here the first hop is the device, so it
	 * starts at a quarter of the link's speed and backs off on loss as usual.
	 * net_memif says 100G and never loses: a full ring makes us wait instead. */
	if (cfg.cc_start_bps == 0 && lp->link_mbps != 0 &&
	    lp->link_mbps != RTE_ETH_SPEED_NUM_UNKNOWN &&
	    (uint64_t)lp->link_mbps * 250000ull > SL_SENDER_CC_START_BPS)
		cfg.cc_start_bps = (uint64_t)lp->link_mbps * 250000ull;
	sl_sendpmd_frame_init(&lp->frame, &lp->ifc, &lp->hop_mac, lp->dst_ip, lp->dst_port,
			      lp->tx_ol_flags != 0 ? SL_SENDPMD_CSUM_OFFLOAD
						   : SL_SENDPMD_CSUM_NONE);
	note(lp, "sending from %u.%u.%u.%u:%u", ((uint8_t *)&po->src_ip)[0],
	     ((uint8_t *)&po->src_ip)[1], ((uint8_t *)&po->src_ip)[2], ((uint8_t *)&po->src_ip)[3],
	     lp->ifc.udp_port);
	ret = transfer(lp, l, progress, arg, stop, &st);
	if (ret == -ECONNREFUSED)
		snprintf(err, errlen, "%s: session refused (REJECT reason %u)", o->host,
			 st.reject_reason);
	else if (ret == -ETIMEDOUT)
		snprintf(err, errlen, "%s: no answer", o->host);
	else if (ret == -EINTR)
		snprintf(err, errlen, "interrupted");
	else if (ret < 0 && err[0] == '\0')
		snprintf(err, errlen, "cannot start: %s", strerror(-ret));
out:
	if (lp->port < RTE_MAX_ETHPORTS && rte_eth_dev_is_valid_port(lp->port)) {
		if (lp->started)
			quiesce(lp);
		port_stop(lp);
		rte_eth_dev_close(lp->port);
	}
	rte_mempool_free(lp->pool);
	if (stats != NULL)
		*stats = st;
	if (pstats != NULL)
		*pstats = lp->st;
	rte_free(lp);
	return ret;
}
