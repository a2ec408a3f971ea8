/* SPDX-License-Identifier: BSD-3-Clause */
/* rte_bpf_convert() is still marked experimental in DPDK 22.11. */
#define ALLOW_EXPERIMENTAL_API

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include <rte_bpf.h>
#include <rte_branch_prediction.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "sl_filter.h"
#include "sl_common.h"

RTE_LOG_REGISTER(sl_logtype_filter, sluice.filter, INFO);
#define FILTER_LOG(level, fmt, ...)                                                                \
	rte_log(RTE_LOG_##level, sl_logtype_filter, "filter: " fmt, ##__VA_ARGS__)

/* The interpreter takes its results in an array; this bounds its stack use
 * whatever the burst size. */
#define EXEC_CHUNK 64
/* How far ahead packet data is prefetched: a JIT-ed filter costs tens of
 * nanoseconds, about one DRAM access, so a few packets of lead suffice. */
#define PREFETCH_AHEAD 4
/* A grace period usually ends within microseconds (one RX loop iteration):
 * spin that long before sleeping, so that a swap is not slowed down by the
 * scheduler's timer slack. */
#define GRACE_SPINS 4096
#define GRACE_SLEEP_NS 50000L

struct sl_filter {
	struct rte_bpf *bpf;
	uint64_t (*jit)(void *mbuf); /* NULL: run the interpreter. */
	/* Written by the slot's writer only, after the filter left service. */
	struct sl_filter *next_retired;
	char expr[];
};

static void __attribute__((format(printf, 3, 4)))
set_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool
jit_disabled(void)
{
	const char *v = getenv("SL_FILTER_NO_JIT");

	return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/*
 * rte_bpf_convert() in DPDK 22.11 takes the index register of an indirect
 * load ("[x + k]") from the opcode's BPF_X bit, which only the half-word size
 * (BPF_H, also 0x08) happens to set: byte and word loads, as in "tcp[13]",
 * "tcp[tcpflags]" or "tcp[4:4]", come out indexed by A instead of X, so the
 * interpreter reads the wrong bytes and the x86 JIT crashes. Point every
 * indirect load at X, the register the converter's prologue clears second
 * (cBPF starts with A and X zeroed); a converter without the bug is left as
 * it is. If the prologue is not the expected one, X is unknown: programs
 * with indirect loads are refused rather than run wrong.
 */
static int
fix_indirect_loads(struct ebpf_insn *ins, uint32_t nb_ins)
{
	const struct ebpf_insn *clear_x = &ins[1];
	bool known_x = nb_ins > 2 && clear_x->code == (EBPF_ALU64 | BPF_XOR | BPF_X) &&
		       clear_x->dst_reg == clear_x->src_reg;

	for (uint32_t i = 0; i < nb_ins; i++) {
		if (BPF_CLASS(ins[i].code) != BPF_LD || BPF_MODE(ins[i].code) != BPF_IND)
			continue;
		if (!known_x)
			return -ENOTSUP;
		ins[i].src_reg = clear_x->dst_reg;
	}
	return 0;
}

/*
 * The x86 JIT of DPDK 22.11 encodes "test $imm, %reg" (JSET against a constant)
 * with a one-byte immediate whenever the constant fits in one, but that opcode
 * always takes four: what follows is garbage and the program crashes, e.g.
 * "tcp[tcpflags] & tcp-syn != 0" or "ether multicast". Such programs must run
 * in the interpreter.
 */
static bool
jit_miscompiles(const struct ebpf_insn *ins, uint32_t nb_ins)
{
#ifdef RTE_ARCH_X86_64
	for (uint32_t i = 0; i < nb_ins; i++)
		if (ins[i].code == (BPF_JMP | BPF_JSET | BPF_K) && ins[i].imm >= INT8_MIN &&
		    ins[i].imm <= INT8_MAX)
			return true;
#endif
	return false;
}

/* Classic BPF from libpcap, as eBPF loaded into librte_bpf. @p jit_safe tells
 * whether librte_bpf's JIT may be trusted with the program. */
static struct rte_bpf *
load_program(const struct bpf_program *cbpf, bool *jit_safe, char *err, size_t errlen)
{
	struct rte_bpf_prm *conv, prm;
	struct ebpf_insn *ins;
	struct rte_bpf *bpf;
	uint32_t nb_ins;
	int rc;

	conv = rte_bpf_convert(cbpf);
	if (conv == NULL) {
		/* Besides memory, the converter fails on what eBPF on an mbuf cannot
		 * express (Linux ancillary data as in "inbound", programs over 4096
		 * instructions), reporting it as EPERM or EINVAL: say ENOTSUP. */
		rc = rte_errno == ENOMEM ? ENOMEM : ENOTSUP;
		if (rc == ENOMEM)
			set_error(err, errlen, "out of memory");
		else
			set_error(err, errlen, "rte_bpf_convert() cannot express this filter");
		rte_errno = rc;
		return NULL;
	}
	/* A private copy to patch, so the converter's buffer is only read. */
	nb_ins = conv->nb_ins;
	ins = malloc(nb_ins * sizeof(*ins));
	if (ins != NULL)
		memcpy(ins, conv->ins, nb_ins * sizeof(*ins));
	rte_free(conv);
	if (ins == NULL) {
		set_error(err, errlen, "out of memory");
		rte_errno = ENOMEM;
		return NULL;
	}
	rc = fix_indirect_loads(ins, nb_ins);
	if (rc < 0) {
		free(ins);
		set_error(err, errlen, "unexpected rte_bpf_convert() output: X register not found");
		rte_errno = -rc;
		return NULL;
	}
	/* The argument is described here rather than trusting what the converter
	 * happened to fill in, because the verifier and both back ends depend on
	 * it. It is the mbuf itself (RTE_BPF_ARG_PTR_MBUF): the converted program
	 * reads packet bytes only through BPF_LD_ABS/BPF_LD_IND, which librte_bpf
	 * serves with rte_pktmbuf_read() (bounds checked against pkt_len, across
	 * segments; an out-of-range load makes the program return 0, i.e. reject,
	 * as in the kernel), and reads "len" as a load of mbuf->pkt_len, which the
	 * verifier allows only within an object of sizeof(struct rte_mbuf).
	 * buf_size (the data room behind mbuf->buf_addr) matters only to programs
	 * that follow buf_addr themselves, which converted cBPF never does. No
	 * external symbols: classic BPF cannot call helpers. Zeroed whole rather
	 * than initialised member by member: librte_bpf keeps a copy, padding
	 * included, and valgrind reports branches on that padding otherwise. */
	memset(&prm, 0, sizeof(prm));
	prm.ins = ins;
	prm.nb_ins = nb_ins;
	prm.xsym = NULL;
	prm.nb_xsym = 0;
	prm.prog_arg.type = RTE_BPF_ARG_PTR_MBUF;
	prm.prog_arg.size = sizeof(struct rte_mbuf);
	prm.prog_arg.buf_size = 0;

	/* rte_bpf_load() copies the instructions. */
	bpf = rte_bpf_load(&prm);
	rc = rte_errno;
	*jit_safe = !jit_miscompiles(ins, nb_ins);
	free(ins);
	if (bpf == NULL) {
		set_error(err, errlen, "the BPF verifier refused the filter: %s", rte_strerror(rc));
		rte_errno = rc;
		return NULL;
	}
	return bpf;
}

struct sl_filter *
sl_filter_create(const char *expr, uint32_t snaplen, char *err, size_t errlen)
{
	struct bpf_program cbpf;
	struct sl_filter *f;
	struct rte_bpf_jit jit;
	bool jit_safe = false;
	pcap_t *pcap;
	size_t len;
	int rc;

	set_error(err, errlen, "%s", "");
	/* libpcap compiles an empty expression to "accept all"; here that is
	 * spelt as no filter (NULL), so an empty string is more likely a mistake. */
	if (expr == NULL || expr[strspn(expr, " \t\r\n")] == '\0') {
		set_error(err, errlen, "empty filter expression");
		rte_errno = EINVAL;
		return NULL;
	}
	if (snaplen == 0 || snaplen > INT32_MAX) {
		set_error(err, errlen, "snaplen %u out of range", snaplen);
		rte_errno = EINVAL;
		return NULL;
	}
	len = strlen(expr);
	f = calloc(1, sizeof(*f) + len + 1);
	if (f == NULL) {
		set_error(err, errlen, "out of memory");
		rte_errno = ENOMEM;
		return NULL;
	}
	memcpy(f->expr, expr, len + 1);

	pcap = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (pcap == NULL) {
		set_error(err, errlen, "out of memory");
		rc = ENOMEM;
		goto fail;
	}
	if (pcap_compile(pcap, &cbpf, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		set_error(err, errlen, "%s", pcap_geterr(pcap));
		pcap_close(pcap);
		rc = EINVAL;
		goto fail;
	}
	pcap_close(pcap);
	f->bpf = load_program(&cbpf, &jit_safe, err, errlen);
	rc = rte_errno;
	pcap_freecode(&cbpf);
	if (f->bpf == NULL)
		goto fail;

	/* A JIT may be missing for this CPU or may fail on a program; both are
	 * reported as a NULL function, and the interpreter gives the same results. */
	if (!jit_disabled()) {
		if (!jit_safe)
			FILTER_LOG(
				INFO,
				"\"%s\" runs in the interpreter: DPDK's x86 JIT miscompiles its JSET\n",
				f->expr);
		else if (rte_bpf_get_jit(f->bpf, &jit) == 0 && jit.func != NULL)
			f->jit = jit.func;
	}
	FILTER_LOG(DEBUG, "\"%s\" compiled, %s\n", f->expr, f->jit ? "JIT" : "interpreted");
	return f;

fail:
	free(f);
	rte_errno = rc;
	return NULL;
}

void
sl_filter_destroy(struct sl_filter *f)
{
	if (f == NULL)
		return;
	rte_bpf_destroy(f->bpf);
	free(f);
}

const char *
sl_filter_expr(const struct sl_filter *f)
{
	return f->expr;
}

bool
sl_filter_is_jit(const struct sl_filter *f)
{
	return f->jit != NULL;
}

static unsigned
burst_jit(const struct sl_filter *f, struct rte_mbuf **pkts, unsigned n, struct rte_mbuf **rejected,
	  unsigned *nb_rejected)
{
	unsigned kept = 0, nb_rej = 0;

	for (unsigned i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (unsigned i = 0; i < n; i++) {
		/* Read before the slot may be overwritten by the compaction. */
		struct rte_mbuf *m = pkts[i];

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		if (f->jit(m) != 0)
			pkts[kept++] = m;
		else
			rejected[nb_rej++] = m;
	}
	*nb_rejected = nb_rej;
	return kept;
}

static unsigned
burst_interpreted(const struct sl_filter *f, struct rte_mbuf **pkts, unsigned n,
		  struct rte_mbuf **rejected, unsigned *nb_rejected)
{
	unsigned kept = 0, nb_rej = 0;
	uint64_t rc[EXEC_CHUNK];

	for (unsigned base = 0; base < n; base += EXEC_CHUNK) {
		uint32_t cnt = RTE_MIN(n - base, (unsigned)EXEC_CHUNK);

		/* The chunk is read before any of it is overwritten: the compaction
		 * writes at kept <= base + j only after reading pkts[base + j]. The
		 * interpreter has no per-packet failure (a fault returns 0), so
		 * every rc[] is set. */
		rte_bpf_exec_burst(f->bpf, (void **)&pkts[base], rc, cnt);
		for (uint32_t j = 0; j < cnt; j++) {
			struct rte_mbuf *m = pkts[base + j];

			if (rc[j] != 0)
				pkts[kept++] = m;
			else
				rejected[nb_rej++] = m;
		}
	}
	*nb_rejected = nb_rej;
	return kept;
}

unsigned
sl_filter_burst(const struct sl_filter *f, struct rte_mbuf **pkts, unsigned n,
		struct rte_mbuf **rejected, unsigned *nb_rejected)
{
	if (f == NULL) {
		*nb_rejected = 0;
		return n;
	}
	if (likely(f->jit != NULL))
		return burst_jit(f, pkts, n, rejected, nb_rejected);
	return burst_interpreted(f, pkts, n, rejected, nb_rejected);
}

struct sl_filter_slot *
sl_filter_slot_create(unsigned max_readers)
{
	struct sl_filter_slot *s;
	size_t head, qsize;
	void *mem;
	int rc;

	if (max_readers == 0 || max_readers > SL_MAX_LCORES) {
		rte_errno = EINVAL;
		return NULL;
	}
	/* The slot and its QSBR variable share one cache-aligned block from libc
	 * rather than rte_zmalloc(): it is a few cache lines that stay hot in the
	 * readers' caches whatever memory backs them, and libc keeps the slot
	 * usable without EAL (unit tests). QSBR needs cache-line alignment. */
	head = RTE_ALIGN_CEIL(sizeof(*s), RTE_CACHE_LINE_SIZE);
	qsize = rte_rcu_qsbr_get_memsize(max_readers);
	rc = posix_memalign(&mem, RTE_CACHE_LINE_SIZE, head + qsize);
	if (rc != 0) {
		rte_errno = rc;
		return NULL;
	}
	memset(mem, 0, head + qsize);
	s = mem;
	s->qsbr = (struct rte_rcu_qsbr *)((uint8_t *)mem + head);
	s->max_readers = max_readers;
	if (rte_rcu_qsbr_init(s->qsbr, max_readers) != 0) {
		rc = rte_errno;
		free(mem);
		rte_errno = rc;
		return NULL;
	}
	return s;
}

static void
free_retired(struct sl_filter_slot *s)
{
	while (s->retired != NULL) {
		struct sl_filter *f = s->retired;

		s->retired = f->next_retired;
		sl_filter_destroy(f);
	}
}

/* Free the retired filters once the grace period of the newest has ended:
 * tokens grow, so the readers have then passed the older ones' too. Time is
 * read from the OS clock, not the TSC, which needs EAL to be calibrated. */
static int
reclaim(struct sl_filter_slot *s, bool wait)
{
	const struct timespec nap = { .tv_sec = 0, .tv_nsec = GRACE_SLEEP_NS };
	uint64_t deadline = 0;

	for (unsigned spins = 0; s->retired != NULL; spins++) {
		if (rte_rcu_qsbr_check(s->qsbr, s->retired_token, false) == 1) {
			free_retired(s);
			break;
		}
		if (!wait)
			return -EAGAIN;
		if (spins < GRACE_SPINS) {
			rte_pause();
			continue;
		}
		if (deadline == 0)
			deadline = sl_monotonic_ns() + SL_FILTER_GRACE_MS * 1000000ull;
		else if (sl_monotonic_ns() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&nap, NULL);
	}
	return 0;
}

static bool
owned_by(const struct sl_filter_slot *s, const struct sl_filter *f)
{
	if (f == s->current)
		return true;
	for (const struct sl_filter *r = s->retired; r != NULL; r = r->next_retired)
		if (r == f)
			return true;
	return false;
}

int
sl_filter_slot_set(struct sl_filter_slot *s, struct sl_filter *f)
{
	struct sl_filter *old;
	int rc;

	if (s == NULL || (f != NULL && owned_by(s, f)))
		return -EINVAL;
	/* Release publishes the filter's contents with the pointer. */
	old = __atomic_exchange_n(&s->current, f, __ATOMIC_ACQ_REL);
	if (old != NULL) {
		old->next_retired = s->retired;
		s->retired = old;
		/* The token's release increment is ordered after the exchange: a
		 * reader that acknowledges it loads the new pointer next time. */
		s->retired_token = rte_rcu_qsbr_start(s->qsbr);
	}
	rc = reclaim(s, true);
	if (rc == -ETIMEDOUT)
		FILTER_LOG(
			WARNING,
			"an RX lcore has not quiesced within %u ms; the replaced filter stays allocated until it does\n",
			SL_FILTER_GRACE_MS);
	return rc;
}

int
sl_filter_slot_reclaim(struct sl_filter_slot *s)
{
	if (s == NULL)
		return -EINVAL;
	return reclaim(s, false);
}

void
sl_filter_slot_destroy(struct sl_filter_slot *s)
{
	if (s == NULL)
		return;
	if (s->qsbr->num_threads != 0)
		FILTER_LOG(ERR, "slot destroyed while %u readers are still registered\n",
			   s->qsbr->num_threads);
	sl_filter_destroy(s->current);
	free_retired(s);
	free(s);
}

int
sl_filter_reader_register(struct sl_filter_slot *s, unsigned id)
{
	if (s == NULL || id >= s->max_readers)
		return -EINVAL;
	if (rte_rcu_qsbr_thread_register(s->qsbr, id) != 0)
		return -rte_errno;
	rte_rcu_qsbr_thread_online(s->qsbr, id);
	return 0;
}

void
sl_filter_reader_unregister(struct sl_filter_slot *s, unsigned id)
{
	if (s == NULL || id >= s->max_readers)
		return;
	rte_rcu_qsbr_thread_offline(s->qsbr, id);
	rte_rcu_qsbr_thread_unregister(s->qsbr, id);
}
