/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "sl_rx.h"
#include "sl_session.h"

#define RX_MAX_BURST 512
#define TX_BURST 32
/* Frames longer than this (beyond a 9000-byte MTU) cannot be ours. */
#define FRAME_MAX (9216 + 64)

_Static_assert(SL_NET_NB_VERDICTS <= SL_STATS_MAX_VERDICTS, "verdict counters too small");

struct txbuf {
	struct rte_mbuf *m[TX_BURST];
	unsigned n;
};

static void
tx_flush(struct sl_rx_lcore *rx, uint16_t port, struct txbuf *t)
{
	uint16_t sent;

	if (t->n == 0)
		return;
	sent = rte_eth_tx_burst(port, rx->txq, t->m, (uint16_t)t->n);
	rx->stats->tx_sent += sent;
	if (sent < t->n) {
		rx->stats->tx_dropped += t->n - sent;
		rte_pktmbuf_free_bulk(&t->m[sent], t->n - sent);
	}
	t->n = 0;
}

/* Build the answer to a request we serve into a fresh mbuf. */
static void
reply(struct sl_rx_lcore *rx, enum sl_net_verdict v, uint16_t port, const uint8_t *frame,
      uint32_t len, struct txbuf *t)
{
	const struct sl_net_iface *ifc = &rx->ifaces[port];
	struct rte_mbuf *r = rte_pktmbuf_alloc(rx->tx_pool[port]);
	uint8_t *out;
	uint32_t cap, n = 0;

	if (unlikely(r == NULL)) {
		rx->stats->tx_dropped++;
		return;
	}
	out = rte_pktmbuf_mtod(r, uint8_t *);
	cap = rte_pktmbuf_tailroom(r);
	switch (v) {
	case SL_NET_ARP_REQUEST:
		n = sl_net_build_arp_reply(ifc, frame, len, out, cap);
		break;
	case SL_NET_ICMP_ECHO:
		n = sl_net_build_icmp_echo_reply(ifc, frame, len, out, cap);
		break;
	case SL_NET_NDP_SOLICIT:
		n = sl_net_build_ndp_advert(ifc, frame, len, out, cap);
		break;
	case SL_NET_ICMP6_ECHO:
		n = sl_net_build_icmp6_echo_reply(ifc, frame, len, out, cap);
		break;
	default:
		break;
	}
	if (n == 0) {
		/* An echo request larger than one mbuf, for instance. */
		rte_pktmbuf_free(r);
		rx->stats->tx_dropped++;
		return;
	}
	r->data_len = (uint16_t)n;
	r->pkt_len = n;
	t->m[t->n++] = r;
	if (t->n == TX_BURST)
		tx_flush(rx, port, t);
}

/* Send the replies writers without a TX queue of their own left for us. */
static unsigned
relay_writer_replies(struct sl_rx_lcore *rx)
{
	struct rte_mbuf *m[TX_BURST];
	unsigned total = 0;

	for (uint16_t p = 0; p < SL_MAX_PORTS; p++) {
		unsigned n;
		uint16_t sent;

		if (rx->tx_relay[p] == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst(rx->tx_relay[p], (void **)m, TX_BURST, NULL);
		if (n == 0)
			continue;
		sent = rte_eth_tx_burst(p, rx->txq, m, (uint16_t)n);
		rx->stats->tx_sent += sent;
		if (sent < n) {
			rx->stats->tx_dropped += n - sent;
			rte_pktmbuf_free_bulk(&m[sent], n - sent);
		}
		total += n;
	}
	return total;
}

int
sl_rx_file_lcore_main(void *arg)
{
	struct sl_rx_lcore *rx = arg;
	struct sl_rx_stats *st = rx->stats;
	struct rte_mbuf *pkts[RX_MAX_BURST];
	/* Datagrams of the burst in order, and the writer of each. */
	struct rte_mbuf *fwd[RX_MAX_BURST], *batch[RX_MAX_BURST];
	uint16_t fwd_writer[RX_MAX_BURST];
	unsigned nout[SL_MAX_LCORES];
	uint8_t scratch[FRAME_MAX];
	struct rte_mbuf *drop[RX_MAX_BURST];
	struct txbuf tx = { .n = 0 };
	const uint16_t burst = rx->burst > RX_MAX_BURST ? RX_MAX_BURST : rx->burst;

	while (likely(!__atomic_load_n(rx->stop, __ATOMIC_RELAXED))) {
		unsigned round = 0;

		for (unsigned i = 0; i < rx->nb_q; i++) {
			const struct sl_rx_queue *q = &rx->q[i];
			struct sl_rx_port_stats *ps = &st->port[q->port];
			unsigned ndrop = 0, nfwd = 0;
			uint64_t bytes = 0;
			uint16_t n;

			n = rte_eth_rx_burst(q->port, q->queue, pkts, burst);
			st->polls++;
			if (n == 0) {
				st->idle_polls++;
				continue;
			}
			round += n;
			memset(nout, 0, sizeof(nout[0]) * rx->nb_writers);
			for (uint16_t k = 0; k < n; k++) {
				struct rte_mbuf *m = pkts[k];
				uint32_t len = rte_pktmbuf_pkt_len(m);
				const uint8_t *frame;
				struct sl_net_pkt pkt;
				enum sl_net_verdict v;
				int w;

				/* A tag the device stripped is put back: replies carry it,
				 * and the writer reads it from the frame. */
				if (unlikely(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)) {
					if (rte_vlan_insert(&pkts[k]) == 0) {
						m = pkts[k];
						m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN_STRIPPED |
								 RTE_MBUF_F_RX_VLAN);
						len = rte_pktmbuf_pkt_len(m);
					}
				}
				bytes += len;
				if (unlikely(len > FRAME_MAX)) {
					st->oversize++;
					ps->invalid++;
					drop[ndrop++] = m;
					continue;
				}
				/* Chained mbufs (jumbo frames) are read into one piece. */
				frame = rte_pktmbuf_read(m, 0, len, scratch);
				v = sl_net_classify(&rx->ifaces[q->port], frame, len,
						    sl_net_mbuf_csum_flags(m->ol_flags), &pkt);
				st->verdicts[v]++;
				switch (v) {
				case SL_NET_UDP:
					w = sl_session_route(pkt.payload, pkt.payload_len,
							     rx->nb_writers);
					if (unlikely(w < 0)) {
						st->unroutable++;
						ps->invalid++;
						drop[ndrop++] = m;
					} else {
						fwd[nfwd] = m;
						fwd_writer[nfwd++] = (uint16_t)w;
						nout[w]++;
					}
					break;
				case SL_NET_ARP_REQUEST:
				case SL_NET_ICMP_ECHO:
				case SL_NET_NDP_SOLICIT:
				case SL_NET_ICMP6_ECHO:
					ps->served++;
					reply(rx, v, q->port, frame, len, &tx);
					drop[ndrop++] = m;
					break;
				default:
					ps->invalid++;
					drop[ndrop++] = m;
					break;
				}
			}
			ps->received += n;
			ps->bytes += bytes;
			/* One enqueue per writer, keeping each writer's datagrams in order. */
			for (unsigned w = 0; w < rx->nb_writers && nfwd > 0; w++) {
				unsigned sent, nb = 0;

				if (nout[w] == 0)
					continue;
				for (unsigned k = 0; k < nfwd; k++)
					if (fwd_writer[k] == w)
						batch[nb++] = fwd[k];
				sent = rte_ring_sp_enqueue_burst(rx->to_writer[w], (void **)batch,
								 nb, NULL);
				if (unlikely(sent < nb)) {
					ps->ring_full += nb - sent;
					rte_pktmbuf_free_bulk(&batch[sent], nb - sent);
				}
			}
			if (ndrop > 0)
				rte_pktmbuf_free_bulk(drop, ndrop);
			tx_flush(rx, q->port, &tx);
		}
		round += relay_writer_replies(rx);
		if (round == 0 && rx->idle_sleep_us > 0) {
			st->sleeps++;
			rte_delay_us_sleep(rx->idle_sleep_us);
		}
	}
	/* Writers finish after us: what they still send waits for nobody. */
	relay_writer_replies(rx);
	__atomic_fetch_sub(rx->running, 1, __ATOMIC_RELEASE);
	return 0;
}
