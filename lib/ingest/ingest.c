/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "sl_ingest.h"
#include "sl_common.h"

RTE_LOG_REGISTER(sl_logtype_ingest, sluice.ingest, INFO);
#define INGEST_LOG(level, fmt, ...)                                                                \
	rte_log(RTE_LOG_##level, sl_logtype_ingest, "ingest: " fmt, ##__VA_ARGS__)

#define MAX_BURST 512
#define TX_BURST 32
#define FRAME_MAX (9216 + 64)

struct ingest {
	struct sl_ingest_lcore *lc;
	struct rte_mbuf *tx[SL_MAX_PORTS][TX_BURST];
	unsigned ntx[SL_MAX_PORTS];
	uint8_t scratch[FRAME_MAX];
};

static void
tx_flush(struct ingest *g, uint16_t port)
{
	struct sl_writer_stats *ws = g->lc->stats;
	unsigned n = g->ntx[port];
	uint16_t sent;

	if (n == 0)
		return;
	if (g->lc->tx_ring[port] != NULL)
		sent = (uint16_t)rte_ring_mp_enqueue_burst(g->lc->tx_ring[port],
							   (void **)g->tx[port], n, NULL);
	else
		sent = rte_eth_tx_burst(port, g->lc->txq, g->tx[port], (uint16_t)n);
	/* Relayed frames are counted as sent by the RX lcore that sends them. */
	if (g->lc->tx_ring[port] == NULL)
		ws->tx_sent += sent;
	if (sent < n) {
		ws->tx_dropped += n - sent;
		rte_pktmbuf_free_bulk(&g->tx[port][sent], n - sent);
	}
	g->ntx[port] = 0;
}

static void
tx_flush_all(struct ingest *g)
{
	for (uint16_t p = 0; p < SL_MAX_PORTS; p++)
		tx_flush(g, p);
}

/* The engine's reply callback: frame it and queue it on our TX queue. */
static void
ingest_tx(void *arg, const struct sl_net_peer *to, const uint8_t *msg, uint16_t len)
{
	struct ingest *g = arg;
	struct sl_ingest_lcore *lc = g->lc;
	uint16_t port = to->port_id;
	struct rte_mbuf *m;
	uint32_t n;

	if (unlikely(port >= SL_MAX_PORTS || lc->tx_pool[port] == NULL)) {
		lc->stats->tx_dropped++;
		return;
	}
	m = rte_pktmbuf_alloc(lc->tx_pool[port]);
	if (unlikely(m == NULL)) {
		lc->stats->tx_dropped++;
		return;
	}
	n = sl_net_build_udp_to(&lc->ifaces[port], to, msg, len, rte_pktmbuf_mtod(m, uint8_t *),
				rte_pktmbuf_tailroom(m));
	if (unlikely(n == 0)) {
		rte_pktmbuf_free(m);
		lc->stats->tx_dropped++;
		return;
	}
	m->data_len = (uint16_t)n;
	m->pkt_len = n;
	g->tx[port][g->ntx[port]++] = m;
	if (g->ntx[port] == TX_BURST)
		tx_flush(g, port);
}

static void
handle(struct ingest *g, struct sl_session_engine *e, struct rte_mbuf *m, uint64_t now)
{
	struct sl_ingest_lcore *lc = g->lc;
	struct sl_writer_port_stats *ps = &lc->stats->port[m->port];
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *frame;
	struct sl_net_pkt pkt;
	struct sl_net_peer peer;

	ps->dequeued++;
	frame = len <= FRAME_MAX ? rte_pktmbuf_read(m, 0, len, g->scratch) : NULL;
	/* The RX lcore checked the checksums; parse again only for the addresses. */
	if (unlikely(frame == NULL || sl_net_classify(&lc->ifaces[m->port], frame, len,
						      SL_NET_F_IP_CSUM_GOOD | SL_NET_F_L4_CSUM_GOOD,
						      &pkt) != SL_NET_UDP)) {
		ps->invalid++;
		return;
	}
	sl_net_peer_from_pkt(&pkt, m->port, &peer);
	if (sl_session_input(e, &peer, pkt.payload, pkt.payload_len, now) == 0) {
		ps->written++;
		ps->written_bytes += pkt.payload_len;
	} else {
		ps->invalid++;
	}
}

static bool
rings_empty(const struct sl_ingest_lcore *lc)
{
	for (unsigned i = 0; i < lc->nb_rings; i++)
		if (rte_ring_count(lc->rings[i]) != 0)
			return false;
	return true;
}

int
sl_ingest_lcore_main(void *arg)
{
	struct sl_ingest_lcore *lc = arg;
	struct rte_mbuf *pkts[MAX_BURST];
	const unsigned burst = lc->burst > MAX_BURST ? MAX_BURST : lc->burst;
	struct sl_session_engine *e;
	struct ingest *g;
	int err = 0;

	g = rte_zmalloc_socket("sl_ingest", sizeof(*g), RTE_CACHE_LINE_SIZE, rte_socket_id());
	if (g == NULL) {
		lc->error = -ENOMEM;
		__atomic_store_n(&lc->state, SL_INGEST_FAILED, __ATOMIC_RELEASE);
		return 0;
	}
	g->lc = lc;
	lc->params.tx = ingest_tx;
	lc->params.tx_arg = g;
	lc->params.stats = lc->session_stats;
	lc->params.io_stats = &lc->stats->io;
	e = sl_session_create(&lc->params, &err);
	if (e == NULL) {
		lc->error = err;
		rte_free(g);
		__atomic_store_n(&lc->state, SL_INGEST_FAILED, __ATOMIC_RELEASE);
		return 0;
	}
	if (lc->fault != NULL)
		sl_session_set_fault(e, lc->fault, lc->fault_arg);
	if (lc->kill_point != SL_SESSION_KILL_NONE)
		sl_session_set_kill(e, lc->kill_point, lc->kill_nth);
	__atomic_store_n(&lc->state, SL_INGEST_RUNNING, __ATOMIC_RELEASE);
	for (;;) {
		uint64_t now = sl_monotonic_ns();
		unsigned total = 0;

		for (unsigned i = 0; i < lc->nb_rings; i++) {
			unsigned n =
				rte_ring_sc_dequeue_burst(lc->rings[i], (void **)pkts, burst, NULL);

			for (unsigned k = 0; k < n; k++)
				handle(g, e, pkts[k], now);
			if (n > 0)
				rte_pktmbuf_free_bulk(pkts, n);
			total += n;
		}
		sl_session_poll(e, now);
		tx_flush_all(g);
		if (total > 0) {
			lc->stats->busy_polls++;
			continue;
		}
		lc->stats->idle_polls++;
		if (__atomic_load_n(lc->rx_running, __ATOMIC_ACQUIRE) == 0 && rings_empty(lc))
			break;
		if (lc->idle_sleep_us > 0 && !sl_session_busy(e))
			sl_session_idle_wait(e, lc->idle_sleep_us);
	}
	if (sl_session_finish(e, sl_monotonic_ns(), lc->finish_timeout_ms) < 0)
		INGEST_LOG(WARNING, "writer on lcore %u: timed out making chunks durable\n",
			   rte_lcore_id());
	tx_flush_all(g);
	sl_session_destroy(e);
	rte_free(g);
	__atomic_store_n(&lc->state, SL_INGEST_DONE, __ATOMIC_RELEASE);
	return 0;
}

void
sl_ingest_stats_add(struct sl_session_stats *sum, const struct sl_session_stats *x)
{
	/* Every member is a uint64_t counter or gauge. */
	const uint64_t *src = (const uint64_t *)x;
	uint64_t *dst = (uint64_t *)sum;

	_Static_assert(sizeof(*x) % sizeof(uint64_t) == 0, "session stats are u64 only");
	for (size_t i = 0; i < sizeof(*x) / sizeof(uint64_t); i++)
		dst[i] += src[i];
}

static uint64_t
drops_total(const struct sl_session_stats *s)
{
	uint64_t d = s->unexpected_type + s->unknown_session + s->wrong_peer +
		     s->handshake_refused + s->data_unknown_file + s->data_bad_range +
		     s->data_no_buffer + s->data_fragmented + s->bad_manifest;

	for (unsigned i = 0; i < SL_PROTO_ERROR_COUNT; i++)
		d += s->decode_error[i];
	return d;
}

void
sl_ingest_stats_json(FILE *f, const struct sl_session_stats *s)
{
	static const char *const reject_names[] = { "",
						    "bad_cookie",
						    "expired_cookie",
						    "auth_failed",
						    "not_allowed",
						    "unknown_session",
						    "busy",
						    "" };
	bool first = true;

	fprintf(f,
		"\"datagrams\": %" PRIu64 ", \"accepted\": %" PRIu64 ", \"dropped\": %" PRIu64
		", \"sessions\": {\"opened\": %" PRIu64 ", \"closed\": %" PRIu64
		", \"timed_out\": %" PRIu64 ", \"active\": %" PRIu64 "}"
		", \"handshake\": {\"cookies\": %" PRIu64 ", \"welcomes\": %" PRIu64
		", \"rejects\": {",
		s->dgrams, s->accepted, drops_total(s), s->sessions_opened, s->sessions_closed,
		s->sessions_timed_out, s->sessions_active, s->cookies_sent, s->welcomes_sent);
	for (unsigned i = 1; i <= 6; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i > 1 ? ", " : "", reject_names[i], s->rejects[i]);
	fprintf(f,
		"}}, \"manifests\": %" PRIu64 ", \"files_ok\": %" PRIu64
		", \"files_resumed\": %" PRIu64 ", \"files_recovered\": %" PRIu64
		", \"files_active\": %" PRIu64 ", \"file_bytes\": %" PRIu64
		", \"staging\": {\"removed\": %" PRIu64 ", \"trimmed\": %" PRIu64
		", \"receipts_released\": %" PRIu64 "}, \"files_failed\": {",
		s->manifests, s->files_ok, s->files_resumed, s->files_recovered, s->files_active,
		s->file_bytes, s->staged_removed, s->staged_trimmed, s->receipts_released);
	for (unsigned i = SL_PROTO_STATUS_EXISTS; i <= SL_PROTO_STATUS_BAD_MANIFEST; i++) {
		fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", sl_session_status_name(i),
			s->files_failed[i]);
		first = false;
	}
	fprintf(f,
		"}, \"data\": {\"bytes\": %" PRIu64 ", \"dup_bytes\": %" PRIu64
		", \"already_held\": %" PRIu64 "}, \"chunks\": {\"verified\": %" PRIu64
		", \"bad_crc\": %" PRIu64 ", \"written\": %" PRIu64 ", \"durable\": %" PRIu64
		", \"skipped\": %" PRIu64 ", \"evicted\": %" PRIu64
		"}, \"readback_bytes\": %" PRIu64 ", \"datasyncs\": %" PRIu64
		", \"sidecar_writes\": %" PRIu64 ", \"io_errors\": %" PRIu64,
		s->data_bytes, s->data_dup_bytes, s->data_durable, s->chunks_verified,
		s->chunks_bad, s->chunks_written, s->chunks_durable, s->chunks_skipped,
		s->chunks_evicted, s->readback_bytes, s->datasyncs, s->sidecar_writes,
		s->io_errors);
	fprintf(f, ", \"drops\": {");
	first = true;
	for (unsigned i = 1; i < SL_PROTO_ERROR_COUNT; i++) {
		fprintf(f, "%s\"decode_%s\": %" PRIu64, first ? "" : ", ",
			sl_proto_error_name(-(int)i), s->decode_error[i]);
		first = false;
	}
	fprintf(f,
		", \"unexpected_type\": %" PRIu64 ", \"unknown_session\": %" PRIu64
		", \"wrong_peer\": %" PRIu64 ", \"handshake_refused\": %" PRIu64
		", \"data_unknown_file\": %" PRIu64 ", \"data_bad_range\": %" PRIu64
		", \"data_no_buffer\": %" PRIu64 ", \"data_fragmented\": %" PRIu64
		", \"bad_manifest\": %" PRIu64 "}, \"replies\": {\"acks\": %" PRIu64
		", \"file_status\": %" PRIu64 ", \"messages\": %" PRIu64 "}",
		s->unexpected_type, s->unknown_session, s->wrong_peer, s->handshake_refused,
		s->data_unknown_file, s->data_bad_range, s->data_no_buffer, s->data_fragmented,
		s->bad_manifest, s->acks_sent, s->file_status_sent, s->tx_msgs);
}

void
sl_ingest_stats_summary(FILE *f, const struct sl_session_stats *s)
{
	uint64_t failed = 0;

	for (unsigned i = 0; i < 16; i++)
		failed += s->files_failed[i];
	fprintf(f,
		"  files: %" PRIu64 " ok (%" PRIu64 " bytes), %" PRIu64 " failed, %" PRIu64
		" resumed; sessions %" PRIu64 "; chunks verified %" PRIu64 ", bad %" PRIu64
		", durable %" PRIu64 "\n"
		"  datagrams: %" PRIu64 " = accepted %" PRIu64 " + dropped %" PRIu64
		" (no buffer %" PRIu64 ", unknown session %" PRIu64 ", bad range %" PRIu64 ")\n",
		s->files_ok, s->file_bytes, failed, s->files_resumed, s->sessions_opened,
		s->chunks_verified, s->chunks_bad, s->chunks_durable, s->dgrams, s->accepted,
		drops_total(s), s->data_no_buffer, s->unknown_session, s->data_bad_range);
}
