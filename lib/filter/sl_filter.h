/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_FILTER_H
#define SL_FILTER_H

/**
 * @file
 * Capture filters in libpcap syntax ("tcp port 80", "vlan and udp"), as
 * tcpdump takes them, run by the RX lcores on every burst and replaceable
 * while packets flow.
 *
 * An expression is compiled by libpcap for Ethernet (DLT_EN10MB), converted
 * from classic BPF to eBPF by rte_bpf_convert() and loaded by rte_bpf_load();
 * where librte_bpf has a JIT for the CPU the native code is used, otherwise
 * its interpreter. A compiled struct sl_filter never changes afterwards, so
 * any number of lcores may run it at once.
 *
 * A struct sl_filter_slot holds the filter in force and makes replacing it
 * safe with DPDK's QSBR RCU: the control lcore publishes the new filter with
 * one atomic pointer exchange and frees the old one only once every RX lcore
 * has reported a quiescent state, i.e. has finished the burst that may have
 * used it. The RX lcores take no lock and write nothing shared but their own
 * quiescent-state counter.
 *
 * Who may call what:
 * - sl_filter_create(), sl_filter_destroy(), sl_filter_slot_create(),
 *   sl_filter_slot_destroy(), sl_filter_slot_set(), sl_filter_slot_reclaim():
 *   the control lcore (one thread per slot: sl_filter_slot_set() and
 *   sl_filter_slot_reclaim() must never run concurrently on one slot).
 *   sl_filter_create() does not touch the slot, so it may run on any thread;
 *   it blocks (libpcap may resolve host names) and needs the EAL heap, since
 *   rte_bpf_convert() returns its program in rte_zmalloc() memory.
 * - sl_filter_burst(), sl_filter_expr(), sl_filter_is_jit(): any thread that
 *   holds a valid filter (an RX lcore between sl_filter_current() and its next
 *   sl_filter_quiescent(), or the thread that owns the filter).
 * - sl_filter_reader_register() / _unregister(), sl_filter_current(),
 *   sl_filter_quiescent(), sl_filter_reader_offline() / _online(): RX lcore
 *   number @c id only, on its own id (0 .. max_readers - 1, e.g. its index
 *   among the RX lcores). The control lcore may also call sl_filter_current()
 *   without registering, because it is the only thread that frees filters.
 *
 * An RX lcore's loop:
 *
 *     sl_filter_reader_register(slot, id);
 *     while (!stop) {
 *             const struct sl_filter *f = sl_filter_current(slot);
 *
 *             for each queue:
 *                     n = rte_eth_rx_burst(...);
 *                     n = sl_filter_burst(f, pkts, n, rej, &nb_rej);
 *                     stats->filtered += nb_rej;
 *                     rte_pktmbuf_free_bulk(rej, nb_rej);
 *                     ... enqueue pkts[0 .. n - 1] ...
 *             sl_filter_quiescent(slot, id);   (f must not be used after this)
 *             if idle:
 *                     sl_filter_reader_offline(slot, id);
 *                     sleep;
 *                     sl_filter_reader_online(slot, id);
 *     }
 *     sl_filter_reader_unregister(slot, id);
 *
 * Setting the environment variable SL_FILTER_NO_JIT to a value other than
 * "" or "0" makes sl_filter_create() use the interpreter even where a JIT
 * exists (read at each create; meant for tests and for ruling out the JIT
 * when a filter misbehaves).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_rcu_qsbr.h>

#include "sl_common.h"

struct rte_mbuf;

/** An immutable compiled capture filter; opaque. */
struct sl_filter;

/** Longest sl_filter_slot_set() waits for the RX lcores to let go of the old filter. */
#define SL_FILTER_GRACE_MS 1000u

/**
 * Compile a filter expression in libpcap syntax.
 *
 * @param expr
 *   The expression, e.g. "udp and dst port 7400". It is copied.
 * @param snaplen
 *   Snapshot length handed to libpcap (1 .. INT32_MAX); it only becomes the
 *   program's "accept" return value, since packets are not cut here.
 * @param err
 *   If not NULL, receives a message on failure, e.g. libpcap's
 *   "can't parse filter expression: syntax error"; an empty string on success.
 * @param errlen
 *   Size of @p err.
 * @return
 *   The filter, or NULL with rte_errno set: EINVAL (NULL, empty or blank
 *   expression, snaplen out of range, expression refused by libpcap),
 *   ENOMEM, ENOTSUP (rte_bpf_convert() cannot express the program), or the
 *   error of rte_bpf_load() (its verifier refused the program).
 */
struct sl_filter *sl_filter_create(const char *expr, uint32_t snaplen, char *err, size_t errlen);

/**
 * Free a filter that no slot owns (never handed to sl_filter_slot_set()).
 * NULL is allowed.
 */
void sl_filter_destroy(struct sl_filter *f);

/** The expression @p f was compiled from. */
const char *sl_filter_expr(const struct sl_filter *f);

/**
 * True if @p f runs as native code, false if it runs in the eBPF interpreter:
 * where librte_bpf has no JIT, when SL_FILTER_NO_JIT is set, and for programs
 * that DPDK 22.11's x86 JIT is known to miscompile (a JSET against a constant
 * between -128 and 127, as in "tcp[tcpflags] & tcp-syn != 0").
 */
bool sl_filter_is_jit(const struct sl_filter *f);

/**
 * Run @p f over a burst.
 *
 * Accepted packets stay in @p pkts, compacted to its front in their original
 * order; rejected ones are moved to @p rejected (also in order), for the
 * caller to count and free. No packet is freed here.
 *
 * @param f
 *   The filter; NULL accepts everything.
 * @param pkts
 *   @p n packets, single- or multi-segment.
 * @param rejected
 *   Room for @p n packets.
 * @param nb_rejected
 *   Set to the number of packets put in @p rejected.
 * @return
 *   The number of accepted packets, left in pkts[0 .. return - 1].
 */
unsigned sl_filter_burst(const struct sl_filter *f, struct rte_mbuf **pkts, unsigned n,
			 struct rte_mbuf **rejected, unsigned *nb_rejected);

/**
 * The filter in force and the RCU state that protects it. The fields are
 * public only so that the RX lcores' helpers below can be inline; use the
 * functions.
 */
struct sl_filter_slot {
	/* Read by every RX lcore once per loop iteration; written by set() only. */
	struct sl_filter *current;
	struct rte_rcu_qsbr *qsbr;
	unsigned max_readers;
	/* Writer-only: filters replaced while a reader was slow to quiesce,
	 * waiting to be freed. Its own cache line, so that bookkeeping on the
	 * control lcore does not take the line the readers poll away from them. */
	struct sl_filter *retired __rte_cache_aligned;
	uint64_t retired_token; /* RCU token that frees the whole list. */
} __rte_cache_aligned;

/**
 * Create an empty slot (no filter: everything is accepted) for up to
 * @p max_readers RX lcores.
 *
 * @return
 *   The slot, or NULL with rte_errno set: EINVAL (max_readers is 0 or above
 *   SL_MAX_LCORES), ENOMEM.
 */
struct sl_filter_slot *sl_filter_slot_create(unsigned max_readers);

/**
 * Free the slot, its filter and any filter still waiting for a grace period.
 * Call it only after every reader has unregistered (the RX lcores have been
 * joined); NULL is allowed.
 */
void sl_filter_slot_destroy(struct sl_filter_slot *s);

/**
 * Put @p f in force (NULL: no filter) and free the filter it replaces.
 *
 * The exchange is immediate: RX lcores pick @p f up at their next loop
 * iteration. The old filter is freed once every online reader has reported a
 * quiescent state; this call waits for that up to SL_FILTER_GRACE_MS (a busy
 * RX lcore reports within microseconds; an offline one is not waited for).
 * If the wait times out, the old filter is kept aside and freed by a later
 * sl_filter_slot_set(), sl_filter_slot_reclaim() or sl_filter_slot_destroy().
 *
 * The slot owns @p f from this call on (unless -EINVAL is returned). Only one
 * thread may call this function on a given slot.
 *
 * @return
 *   0: @p f is in force and no replaced filter is left allocated;
 *   -ETIMEDOUT: @p f is in force, but some reader has not quiesced yet, so a
 *   replaced filter is still allocated;
 *   -EINVAL: @p s is NULL, or @p f is already owned by the slot (nothing done).
 */
int sl_filter_slot_set(struct sl_filter_slot *s, struct sl_filter *f);

/**
 * Free the filters a timed-out sl_filter_slot_set() left behind, if their
 * grace period has ended; never waits. Same thread rule as sl_filter_slot_set().
 *
 * @return 0 if none is left, -EAGAIN if some still wait for a reader, -EINVAL
 *   if @p s is NULL.
 */
int sl_filter_slot_reclaim(struct sl_filter_slot *s);

/**
 * Register RX lcore @p id as a reader and put it online.
 *
 * @return 0, or -EINVAL if @p s is NULL or @p id >= max_readers.
 */
int sl_filter_reader_register(struct sl_filter_slot *s, unsigned id);

/** Put reader @p id offline and unregister it; it must not use the slot afterwards. */
void sl_filter_reader_unregister(struct sl_filter_slot *s, unsigned id);

/**
 * The filter in force (NULL: none), valid until the caller's next
 * sl_filter_quiescent() or sl_filter_reader_offline().
 */
static inline const struct sl_filter *
sl_filter_current(const struct sl_filter_slot *s)
{
	/* Acquire pairs with the writer's exchange, so the filter's contents are
	 * visible before it is run. */
	return __atomic_load_n(&s->current, __ATOMIC_ACQUIRE);
}

/**
 * Report that reader @p id holds no filter pointer any more. Call it once per
 * loop iteration, after the last sl_filter_burst() of the iteration.
 */
static inline void
sl_filter_quiescent(struct sl_filter_slot *s, unsigned id)
{
	rte_rcu_qsbr_quiescent(s->qsbr, id);
}

/**
 * Take reader @p id out of grace-period accounting before it sleeps or blocks,
 * so that sl_filter_slot_set() does not wait for it. It must not hold a filter.
 */
static inline void
sl_filter_reader_offline(struct sl_filter_slot *s, unsigned id)
{
	rte_rcu_qsbr_thread_offline(s->qsbr, id);
}

/** Bring reader @p id back after sl_filter_reader_offline(), before sl_filter_current(). */
static inline void
sl_filter_reader_online(struct sl_filter_slot *s, unsigned id)
{
	rte_rcu_qsbr_thread_online(s->qsbr, id);
}

#endif /* SL_FILTER_H */
