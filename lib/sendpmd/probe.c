/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How a net_memif client finds the queue counts its server takes, and gets
 * connected with them. Pure: the port is reached through
 * struct sl_sendpmd_link_ops, so the unit tests run it against a model of a
 * server (and a clock of their own) as run.c runs it against the PMD.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_common.h>

#include "sl_sendpmd.h"

static bool
stopped(const struct sl_sendpmd_probe *p)
{
	return p->stop != NULL && *p->stop;
}

/*
 * Start with @p rxq and @p txq queues until the server takes us (the link comes
 * up), until @p deadline. A server that is not listening yet, or not started (it
 * refuses clients until then), is waited for, longer each time in case it is only
 * slow. A failed start is not final either: the PMD's control channel can still be
 * closing from the previous client, or a busy server still be dropping it.
 * @p handshake_ns: how long the start that came up took.
 */
static int
start_until(const struct sl_sendpmd_link_ops *ops, const struct sl_sendpmd_probe *p, uint16_t rxq,
	    uint16_t txq, uint64_t deadline, uint64_t *handshake_ns, char *err, size_t errlen)
{
	for (uint64_t wait = SL_SENDPMD_PROBE_MIN_NS;;
	     wait = RTE_MIN(wait * 2, SL_SENDPMD_PROBE_MAX_NS)) {
		int rc = ops->start(ops->arg, rxq, txq, err, errlen);
		uint64_t t0 = ops->now(ops->arg);

		if (rc == 0 && ops->up_within(ops->arg, wait)) {
			*handshake_ns = ops->now(ops->arg) - t0;
			return 0;
		}
		if (stopped(p))
			return -EINTR;
		if (ops->now(ops->arg) >= deadline) {
			if (rc != 0)
				return rc;
			snprintf(
				err, errlen,
				"%s: link down after %llu s with %u RX and %u TX queues (the memif "
				"server refused us: see its log, or give --rx-queues and "
				"--tx-queues as its TX and RX queues)",
				p->who, (unsigned long long)(p->limit_ns / 1000000000ull), rxq,
				txq);
			return -ENODEV;
		}
		ops->stop(ops->arg);
		ops->sleep(ops->arg, SL_SENDPMD_PROBE_GAP_NS);
	}
}

int
sl_sendpmd_memif_connect(const struct sl_sendpmd_link_ops *ops, const struct sl_sendpmd_probe *p,
			 uint16_t *rx_queues, uint16_t *tx_queues, char *err, size_t errlen)
{
	uint16_t rxq = p->rx_queues != 0 ? p->rx_queues : 1;
	uint16_t txq = p->tx_queues != 0 ? p->tx_queues : 1;
	uint64_t handshake_ns, probe_ns;
	int rc;

	rc = start_until(ops, p, rxq, txq, ops->now(ops->arg) + p->limit_ns, &handshake_ns, err,
			 errlen);
	if (rc != 0)
		return rc;
	/* A refusal comes within a round trip over the unix socket; the first handshake
	 * tells how long one takes here. */
	probe_ns = RTE_MAX(20 * handshake_ns, SL_SENDPMD_PROBE_MIN_NS);
	for (int dir = 0; dir < 2; dir++) {
		uint16_t *q = dir == 0 ? &rxq : &txq;
		uint16_t max =
			RTE_MIN(dir == 0 ? p->max_rx : p->max_tx, SL_SENDPMD_MEMIF_PROBE_MAX);

		if ((dir == 0 ? p->rx_queues : p->tx_queues) != 0)
			continue;
		while (*q < max) {
			bool up = false;

			(*q)++;
			/* A failed start says nothing of the server (see start_until()): only
			 * a link that stays down is its refusal. */
			for (int t = 0; t < SL_SENDPMD_PROBE_START_TRIES; t++) {
				ops->stop(ops->arg);
				/* Let the server see the previous client go before the next. */
				ops->sleep(ops->arg, SL_SENDPMD_PROBE_GAP_NS);
				if (ops->start(ops->arg, rxq, txq, err, errlen) == 0) {
					up = ops->up_within(ops->arg, probe_ns);
					break;
				}
				if (stopped(p))
					break;
			}
			if (stopped(p))
				return -EINTR;
			if (up)
				continue;
			(*q)--;
			ops->stop(ops->arg);
			ops->sleep(ops->arg, SL_SENDPMD_PROBE_GAP_NS);
			rc = start_until(ops, p, rxq, txq, ops->now(ops->arg) + p->limit_ns,
					 &handshake_ns, err, errlen);
			if (rc != 0)
				return rc;
			break;
		}
	}
	*rx_queues = rxq;
	*tx_queues = txq;
	return 0;
}
