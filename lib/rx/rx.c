/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "sl_rx.h"

#define RX_MAX_BURST 512

int
sl_rx_register_timestamp(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "sluice_dynfield_rx_tsc",
		.size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};
	int off = rte_mbuf_dynfield_register(&desc);

	return off < 0 ? -rte_errno : off;
}

/* Reserve up to @want packets of the --max-packets budget; 0 once it is spent. */
static inline uint16_t
budget_claim(uint64_t *budget, uint16_t want)
{
	uint64_t left = __atomic_load_n(budget, __ATOMIC_RELAXED);
	uint64_t take;

	do {
		if (left == 0)
			return 0;
		take = left < want ? left : want;
	} while (!__atomic_compare_exchange_n(budget, &left, left - take, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return (uint16_t)take;
}

int
sl_rx_lcore_main(void *arg)
{
	struct sl_rx_lcore *rx = arg;
	struct sl_rx_stats *st = rx->stats;
	struct rte_mbuf *pkts[RX_MAX_BURST];
	struct rte_mbuf *rejected[RX_MAX_BURST];
	const uint16_t burst = rx->burst > RX_MAX_BURST ? RX_MAX_BURST : rx->burst;
	const int off = rx->ts_offset;

	sl_filter_reader_register(rx->filter, rx->reader_id);
	while (likely(!__atomic_load_n(rx->stop, __ATOMIC_RELAXED))) {
		/* The filter is read once per round and released at its end, so a
		 * replacement takes effect at a burst boundary. */
		const struct sl_filter *f = sl_filter_current(rx->filter);
		unsigned round = 0;

		/* --max-packets used up: done, even for a lcore that polls no queue
		 * (more RX lcores than queues) and so never claims from it. */
		if (rx->budget != NULL && __atomic_load_n(rx->budget, __ATOMIC_RELAXED) == 0)
			break;

		for (unsigned i = 0; i < rx->nb_q; i++) {
			const struct sl_rx_queue *q = &rx->q[i];
			struct sl_rx_port_stats *ps = &st->port[q->port];
			uint16_t want = burst, n, sent;
			uint64_t bytes = 0;

			if (rx->budget != NULL) {
				want = budget_claim(rx->budget, burst);
				if (want == 0)
					goto out;
			}
			n = rte_eth_rx_burst(q->port, q->queue, pkts, want);
			st->polls++;
			if (rx->budget != NULL && n < want)
				__atomic_fetch_add(rx->budget, want - n, __ATOMIC_RELAXED);
			if (n == 0) {
				st->idle_polls++;
				continue;
			}
			/* One stamp per burst: the frames of a burst were all in
			 * the RX ring at this poll, so a stamp each would only
			 * differ by the time this loop takes, not by arrival. */
			const uint64_t tsc = rte_rdtsc();

			for (uint16_t k = 0; k < n; k++) {
				*RTE_MBUF_DYNFIELD(pkts[k], off, uint64_t *) = tsc;
				bytes += rte_pktmbuf_pkt_len(pkts[k]);
			}
			ps->received += n;
			ps->bytes += bytes;
			round += n;
			if (f != NULL) {
				unsigned nr = 0;

				n = (uint16_t)sl_filter_burst(f, pkts, n, rejected, &nr);
				if (nr > 0) {
					ps->filtered += nr;
					rte_pktmbuf_free_bulk(rejected, nr);
				}
				if (n == 0)
					continue;
			}
			sent = (uint16_t)rte_ring_sp_enqueue_burst(q->ring, (void **)pkts, n, NULL);
			if (unlikely(sent < n)) {
				if (__atomic_load_n(q->backlog, __ATOMIC_RELAXED))
					ps->writer_nobuf += n - sent;
				else
					ps->ring_full += n - sent;
				rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
			}
		}
		sl_filter_quiescent(rx->filter, rx->reader_id);
		if (round == 0 && rx->idle_sleep_us > 0) {
			st->sleeps++;
			/* A sleeping reader must not hold up a filter swap. */
			sl_filter_reader_offline(rx->filter, rx->reader_id);
			rte_delay_us_sleep(rx->idle_sleep_us);
			sl_filter_reader_online(rx->filter, rx->reader_id);
		}
	}
out:
	sl_filter_reader_unregister(rx->filter, rx->reader_id);
	__atomic_fetch_sub(rx->running, 1, __ATOMIC_RELEASE);
	return 0;
}
