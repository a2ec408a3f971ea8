/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "sl_capture.h"
#include "uring_probe.h"
#include "sl_pcap.h"
#include "sl_series.h"
#include "sl_stats.h"

/* 2023-11-14T22:13:20.123456789Z: the clock's origin and the first poll of every test. */
#define T0 1700000000123456789ull
#define T0_NAME "20231114T221320.123456789Z"
#define MS 1000000ull
#define SEC 1000000000ull

/* The RX TSC goes in dynfield1 at its first 8-byte aligned offset, the packet's index in the
 * word after it; the index lets the free_bulk mock check that each packet is freed once. */
#define TS_OFFSET ((int)RTE_ALIGN_CEIL(offsetof(struct rte_mbuf, dynfield1), 8))
#define ID_OFFSET (TS_OFFSET + 8)
_Static_assert(RTE_ALIGN_CEIL(offsetof(struct rte_mbuf, dynfield1), 8) + 12 <=
		       offsetof(struct rte_mbuf, dynfield1) +
			       sizeof(((struct rte_mbuf *)0)->dynfield1),
	       "dynfield1 too small for a timestamp and an index");

#define PORT_A 0
#define PORT_B 3
#define BUF_64K 65536u
/* The smallest buffer that holds a record of snaplen 65535. */
#define BUF_68K (68u * 1024u)
#define JUMBO_LEN 8990u
#define MAX_LEN (JUMBO_LEN + 19u)
/* Polls a test may spend waiting for the disk before it fails (1 ms each). */
#define WAIT_LOOPS 10000
#define MAX_FILES_SEEN 256

/* ---- packets ---- */

struct pkt {
	uint32_t len;
	uint16_t port;
	uint8_t nb_segs;
	uint64_t tsc;
};

struct traffic {
	struct pkt *pkt;
	unsigned n;
	unsigned sent; /* packets handed to the writer so far */
};

/* Every mbuf handed to sl_capture_burst() must come back through rte_pktmbuf_free_bulk()
 * exactly once. */
static uint8_t *freed;
static unsigned freed_cap;
static uint64_t nb_allocated;
static uint64_t nb_freed;

void __wrap_rte_pktmbuf_free_bulk(struct rte_mbuf **mbufs, unsigned int count);

void
__wrap_rte_pktmbuf_free_bulk(struct rte_mbuf **mbufs, unsigned int count)
{
	for (unsigned i = 0; i < count; i++) {
		struct rte_mbuf *m = mbufs[i];
		uint32_t id = *RTE_MBUF_DYNFIELD(m, ID_OFFSET, uint32_t *);

		assert_true(id < freed_cap);
		assert_int_equal(freed[id], 0);
		assert_int_equal(m->refcnt, 1);
		freed[id] = 1;
		nb_freed++;
		while (m != NULL) {
			struct rte_mbuf *next = m->next;

			free(m);
			m = next;
		}
	}
}

static uint64_t rng_state;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/* Byte @p j of packet @p id: the index itself in the first four bytes, so that a packet read
 * back names its origin, then a pattern that differs per packet and per position. */
static inline uint8_t
pkt_byte(uint32_t id, uint32_t j)
{
	if (j < 4)
		return (uint8_t)(id >> (8 * j));
	return (uint8_t)(id * 37u + j * 11u + (j >> 7) + 5u);
}

/* @p n packets from both ports, 60..1514 bytes, every @p jumbo_every-th a 3-segment jumbo. */
static void
traffic_init(struct traffic *tr, unsigned n, uint64_t seed, unsigned jumbo_every)
{
	static const uint16_t ports[] = { PORT_A, PORT_B };

	free(tr->pkt);
	free(freed);
	tr->pkt = calloc(n, sizeof(*tr->pkt));
	freed = calloc(n, 1);
	assert_non_null(tr->pkt);
	assert_non_null(freed);
	freed_cap = n;
	nb_allocated = nb_freed = 0;
	tr->n = n;
	tr->sent = 0;
	rng_state = seed;
	for (unsigned i = 0; i < n; i++) {
		struct pkt *p = &tr->pkt[i];

		p->port = ports[rng() % 2];
		if (jumbo_every != 0 && i % jumbo_every == jumbo_every - 1) {
			p->len = JUMBO_LEN + rng() % 20;
			p->nb_segs = 3;
		} else {
			p->len = 60 + rng() % 1455;
			p->nb_segs = (rng() % 10 == 0) ? 2 : 1;
		}
		/* Increasing, at uneven gaps. */
		p->tsc = (uint64_t)(i + 1) * 1000 + rng() % 1000;
	}
}

static struct rte_mbuf *
segment_new(uint32_t id, uint32_t from, uint16_t len)
{
	size_t size = RTE_ALIGN_CEIL(sizeof(struct rte_mbuf) + RTE_PKTMBUF_HEADROOM + len + 64,
				     RTE_CACHE_LINE_SIZE);
	struct rte_mbuf *m = aligned_alloc(RTE_CACHE_LINE_SIZE, size);
	uint8_t *d;

	assert_non_null(m);
	/* Garbage around the data catches a copy from the wrong place. */
	memset(m, 0xee, size);
	memset(m, 0, sizeof(*m));
	m->buf_addr = (uint8_t *)m + sizeof(*m);
	m->buf_len = (uint16_t)(size - sizeof(*m));
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->data_len = len;
	m->pkt_len = len;
	m->nb_segs = 1;
	m->refcnt = 1;
	d = rte_pktmbuf_mtod(m, uint8_t *);
	for (uint32_t j = 0; j < len; j++)
		d[j] = pkt_byte(id, from + j);
	return m;
}

static struct rte_mbuf *
mbuf_new(const struct traffic *tr, uint32_t id)
{
	const struct pkt *p = &tr->pkt[id];
	struct rte_mbuf *head = NULL, *prev = NULL;
	uint32_t off = 0;

	for (unsigned s = 0; s < p->nb_segs; s++) {
		uint32_t n = s + 1 < p->nb_segs ? p->len / p->nb_segs : p->len - off;
		struct rte_mbuf *m = segment_new(id, off, (uint16_t)n);

		if (prev == NULL)
			head = m;
		else
			prev->next = m;
		prev = m;
		off += n;
	}
	head->pkt_len = p->len;
	head->nb_segs = p->nb_segs;
	head->port = p->port;
	*RTE_MBUF_DYNFIELD(head, TS_OFFSET, uint64_t *) = p->tsc;
	*RTE_MBUF_DYNFIELD(head, ID_OFFSET, uint32_t *) = id;
	nb_allocated++;
	return head;
}

/* ---- fixture ---- */

struct config {
	enum sl_pcap_format format;
	bool direct;
};

static const struct config pcap_direct = { SL_PCAP_FORMAT_PCAP, true };
static const struct config pcapng_direct = { SL_PCAP_FORMAT_PCAPNG, true };
static const struct config pcapng_buffered = { SL_PCAP_FORMAT_PCAPNG, false };
static const struct config pcap_buffered = { SL_PCAP_FORMAT_PCAP, false };

struct fixture {
	struct config cfg;
	char dir[512];
	struct sl_clock clock;
	struct sl_pcap_iface ifaces[2];
	struct sl_writer_stats st;
	struct sl_capture_params p;
	struct traffic tr;
	struct sl_capture *c;
	uint64_t now;
	uint64_t first_error_ns; /* now_ns of the poll that first saw file_errors > 0 */
	bool check_ts;
};

static int
setup(void **state)
{
	const struct config *cfg = *state;
	const char *base = getenv("SL_TEST_TMPDIR");
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sl_capture_params *p;

	if (fx == NULL)
		return -1;
	fx->cfg = cfg != NULL ? *cfg : pcapng_direct;
	snprintf(fx->dir, sizeof(fx->dir), "%s/capture-XXXXXX", base ? base : "/tmp");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	/* 1 GHz from TSC 0 at T0: a packet's TSC is its nanoseconds after T0. */
	sl_clock_init(&fx->clock, 1000000000ull, 0, T0);
	fx->ifaces[0] = (struct sl_pcap_iface){ "dpdk0", "first port", 65535 };
	fx->ifaces[1] = (struct sl_pcap_iface){ "dpdk3", NULL, 65535 };
	fx->check_ts = true;
	p = &fx->p;
	p->writer_id = 3;
	p->dir = fx->dir;
	p->prefix = "sluice";
	p->format = fx->cfg.format;
	p->snaplen = 65535;
	p->flush_ns = 3600 * SEC;
	p->direct = fx->cfg.direct;
	p->buf_size = BUF_68K;
	p->nb_bufs = 8;
	p->uring_depth = 32;
	p->ifaces = fx->ifaces;
	p->nb_ifaces = 2;
	p->port_iface[PORT_A] = 0;
	p->port_iface[PORT_B] = 1;
	p->clock = &fx->clock;
	p->tsc_hz = 2000000000ull;
	p->ts_offset = TS_OFFSET;
	p->stats = &fx->st;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	struct dirent *de;
	DIR *d;

	sl_capture_destroy(fx->c);
	d = opendir(fx->dir);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			char path[1024];

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", fx->dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx->tr.pkt);
	free(freed);
	freed = NULL;
	freed_cap = 0;
	free(fx);
	return 0;
}

static void
poll_now(struct fixture *fx)
{
	sl_capture_poll(fx->c, fx->now);
	if (fx->st.file_errors > 0 && fx->first_error_ns == 0)
		fx->first_error_ns = fx->now;
}

static void
poll_at(struct fixture *fx, uint64_t now)
{
	fx->now = now;
	poll_now(fx);
}

static void
create(struct fixture *fx)
{
	int err = 0;

	fx->c = sl_capture_create(&fx->p, &err);
	assert_non_null(fx->c);
	assert_int_equal(err, 0);
	poll_at(fx, T0);
}

/* Poll, time standing still, until every I/O is done. */
static void
drain(struct fixture *fx)
{
	for (unsigned loop = 0;; loop++) {
		poll_now(fx);
		if (sl_capture_outstanding(fx->c) == 0)
			return;
		assert_true(loop < WAIT_LOOPS);
		sl_capture_idle_wait(fx->c, 1000);
	}
}

/* Poll, time standing still, until @p want write buffers are free. */
static void
wait_free(struct fixture *fx, unsigned want)
{
	for (unsigned loop = 0; fx->st.buffers_free < want; loop++) {
		assert_true(loop < WAIT_LOOPS);
		sl_capture_idle_wait(fx->c, 1000);
		poll_now(fx);
	}
}

/* Hand the next @p count packets to the writer, @p burst at a time, without polling. */
static void
feed(struct fixture *fx, unsigned count, unsigned burst)
{
	struct rte_mbuf *pkts[64];

	assert_true(burst <= SL_ARRAY_SIZE(pkts));
	assert_true(fx->tr.sent + count <= fx->tr.n);
	while (count > 0) {
		unsigned n = count < burst ? count : burst;

		for (unsigned i = 0; i < n; i++)
			pkts[i] = mbuf_new(&fx->tr, fx->tr.sent++);
		sl_capture_burst(fx->c, pkts, n);
		count -= n;
	}
}

/* Feed @p count packets 16 at a time, with room for each burst, time moving @p step_ns per
 * burst: nothing is dropped. */
static void
feed_paced(struct fixture *fx, unsigned count, uint64_t step_ns)
{
	while (count > 0) {
		unsigned n = count < 16 ? count : 16;

		/* 16 jumbo records need 3 buffers, one more for the record crossing the end. */
		wait_free(fx, 4);
		feed(fx, n, 16);
		count -= n;
		fx->now += step_ns;
		poll_now(fx);
	}
}

static void
finish(struct fixture *fx)
{
	assert_int_equal(sl_capture_finish(fx->c, 10000), 0);
	assert_int_equal(sl_capture_outstanding(fx->c), 0);
}

/* ---- reading the output ---- */

struct out_file {
	char name[SL_SERIES_NAME_MAX];
	uint8_t *data;
	size_t size;
};

static int
no_dots(const struct dirent *de)
{
	return strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
}

/* Every file of the directory, in name order. */
static unsigned
list_files(const struct fixture *fx, struct out_file *out, unsigned max)
{
	struct dirent **names;
	int n = scandir(fx->dir, &names, no_dots, alphasort);

	assert_true(n >= 0);
	assert_true((unsigned)n <= max);
	for (int i = 0; i < n; i++) {
		char path[1024];
		struct stat sb;
		int fd;

		assert_true(strlen(names[i]->d_name) < sizeof(out[i].name));
		memcpy(out[i].name, names[i]->d_name, strlen(names[i]->d_name) + 1);
		snprintf(path, sizeof(path), "%s/%s", fx->dir, names[i]->d_name);
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &sb), 0);
		out[i].size = (size_t)sb.st_size;
		out[i].data = malloc(out[i].size + 1);
		assert_non_null(out[i].data);
		assert_int_equal(pread(fd, out[i].data, out[i].size + 1, 0), (ssize_t)out[i].size);
		close(fd);
		free(names[i]);
	}
	free(names);
	return (unsigned)n;
}

static void
free_files(struct out_file *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(f[i].data);
}

static uint32_t
caplen_of(const struct fixture *fx, uint32_t id)
{
	uint32_t len = fx->tr.pkt[id].len;

	return len < fx->p.snaplen ? len : fx->p.snaplen;
}

static size_t
header_size(const struct fixture *fx)
{
	return sl_pcap_header_size(fx->p.format, fx->p.ifaces, fx->p.nb_ifaces);
}

/* Checks one packet read back against what was sent; returns its index. */
static uint32_t
check_packet(const struct fixture *fx, const struct sl_pcap_packet *pk)
{
	const struct pkt *p;
	uint32_t id;

	assert_true(pk->caplen >= 4);
	memcpy(&id, pk->data, sizeof(id));
	assert_true(id < fx->tr.sent);
	p = &fx->tr.pkt[id];
	assert_int_equal(pk->len, p->len);
	assert_int_equal(pk->caplen, caplen_of(fx, id));
	if (fx->check_ts)
		assert_int_equal(pk->ts_ns, T0 + p->tsc);
	assert_int_equal(pk->iface,
			 fx->p.format == SL_PCAP_FORMAT_PCAPNG ? fx->p.port_iface[p->port] : 0);
	for (uint32_t j = 0; j < pk->caplen; j++)
		if (pk->data[j] != pkt_byte(id, j))
			fail_msg("packet %u byte %u: 0x%02x, expected 0x%02x", id, j, pk->data[j],
				 pkt_byte(id, j));
	return id;
}

/* Reads the first @p size bytes of @p data, which must hold whole records and nothing else;
 * appends the packets' indexes to @p ids. @return packets read. */
static unsigned
check_records(const struct fixture *fx, const uint8_t *data, size_t size, uint32_t *ids,
	      unsigned max)
{
	struct sl_pcap_reader r;
	struct sl_pcap_packet pk;
	size_t expect = header_size(fx);
	unsigned n = 0;
	int rc;

	assert_int_equal(sl_pcap_reader_open(&r, data, size), 0);
	while ((rc = sl_pcap_reader_next(&r, &pk)) == 1) {
		uint32_t id = check_packet(fx, &pk);

		assert_true(n < max);
		ids[n++] = id;
		expect += sl_pcap_record_size(fx->p.format, pk.caplen);
	}
	if (rc != 0)
		fail_msg("reader: %s at byte %zu of %zu", r.error, r.good_end, size);
	/* No padding, no stray bytes: the size is exactly the header and the records. */
	assert_int_equal(size, expect);
	return n;
}

/* Checks a finished file's name: prefix, start time, writer, sequence, extension. */
static void
check_name(const struct fixture *fx, const char *name, uint64_t seq)
{
	const char *ext = fx->p.format == SL_PCAP_FORMAT_PCAP ? "pcap" : "pcapng";
	char tail[64];
	regex_t re;
	size_t nl = strlen(name), tl;

	assert_int_equal(regcomp(&re,
				 "^sluice_[0-9]{8}T[0-9]{6}\\.[0-9]{9}Z_w03_[0-9]{6}\\.pcap(ng)?$",
				 REG_EXTENDED | REG_NOSUB),
			 0);
	if (regexec(&re, name, 0, NULL, 0) != 0)
		fail_msg("file name %s does not match the series pattern", name);
	regfree(&re);
	snprintf(tail, sizeof(tail), "_w03_%06lu.%s", (unsigned long)seq, ext);
	tl = strlen(tail);
	assert_true(nl > tl);
	assert_string_equal(name + nl - tl, tail);
}

/* The name a file of sequence @p seq opened at @p start_ns must have. */
static void
expect_name(const struct fixture *fx, uint64_t seq, uint64_t start_ns, char *buf)
{
	struct sl_series s;

	assert_int_equal(sl_series_init(&s, "sluice",
					fx->p.format == SL_PCAP_FORMAT_PCAP ? "pcap" : "pcapng", 3,
					0, 0),
			 0);
	assert_int_equal(sl_series_name(&s, seq, start_ns, false, buf, SL_SERIES_NAME_MAX), 0);
}

/* Every file is finished (no ".part"), named in sequence from 1, and valid; returns the
 * indexes of all their packets in file order. */
static unsigned
collect(const struct fixture *fx, uint32_t *ids, unsigned max, struct out_file *files,
	unsigned *nb_files)
{
	unsigned n = list_files(fx, files, MAX_FILES_SEEN), total = 0;

	for (unsigned i = 0; i < n; i++) {
		check_name(fx, files[i].name, i + 1);
		total += check_records(fx, files[i].data, files[i].size, ids + total, max - total);
	}
	*nb_files = n;
	return total;
}

/* Per port: dequeued is what was sent, and every packet is written or dropped once; written
 * and written_bytes match the packets found in the files. */
static void
check_accounting(const struct fixture *fx, const uint32_t *ids, unsigned nb_ids)
{
	uint64_t sent[SL_MAX_PORTS] = { 0 }, found[SL_MAX_PORTS] = { 0 },
		 bytes[SL_MAX_PORTS] = { 0 };

	for (unsigned i = 0; i < fx->tr.sent; i++)
		sent[fx->tr.pkt[i].port]++;
	for (unsigned i = 0; i < nb_ids; i++) {
		found[fx->tr.pkt[ids[i]].port]++;
		bytes[fx->tr.pkt[ids[i]].port] += caplen_of(fx, ids[i]);
	}
	for (unsigned p = 0; p < SL_MAX_PORTS; p++) {
		const struct sl_writer_port_stats *ps = &fx->st.port[p];

		assert_int_equal(ps->dequeued, sent[p]);
		assert_int_equal(ps->written, found[p]);
		assert_int_equal(ps->written_bytes, bytes[p]);
		assert_int_equal(ps->dequeued, ps->written + ps->nobuf + ps->write_error);
	}
	/* Every mbuf came back once (double frees fail in the mock). */
	assert_int_equal(nb_allocated, fx->tr.sent);
	assert_int_equal(nb_freed, fx->tr.sent);
	for (unsigned i = 0; i < fx->tr.sent; i++)
		assert_int_equal(freed[i], 1);
}

static uint64_t
sum_ports(const struct fixture *fx, size_t field)
{
	uint64_t s = 0;

	for (unsigned p = 0; p < SL_MAX_PORTS; p++)
		s += *(const uint64_t *)((const uint8_t *)&fx->st.port[p] + field);
	return s;
}

#define SUM(fx, field) sum_ports(fx, offsetof(struct sl_writer_port_stats, field))

static void
check_ids_sequential(const uint32_t *ids, unsigned n, uint32_t first)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] != first + i)
			fail_msg("packet %u of the output is #%u, expected #%u", i, ids[i],
				 first + i);
}

/* ---- tests ---- */

static void
test_create_rejects_bad_params(void **state)
{
	struct fixture *fx = *state;
	struct sl_capture_params p = fx->p;
	int err;

	/* A record of snaplen 65535 does not fit in 64 KiB. */
	p.buf_size = BUF_64K;
	err = 0;
	assert_null(sl_capture_create(&p, &err));
	assert_int_equal(err, -EINVAL);
	p = fx->p;
	p.buf_size = BUF_68K + 100;
	assert_null(sl_capture_create(&p, &err));
	assert_int_equal(err, -EINVAL);
	p = fx->p;
	p.nb_bufs = 1;
	assert_null(sl_capture_create(&p, &err));
	assert_int_equal(err, -EINVAL);
	p = fx->p;
	p.nb_ifaces = 0;
	assert_null(sl_capture_create(&p, &err));
	assert_int_equal(err, -EINVAL);
	p = fx->p;
	p.prefix = "a/b";
	assert_null(sl_capture_create(&p, &err));
	assert_int_equal(err, -EINVAL);
	p = fx->p;
	p.dir = "/nonexistent/sluice-test";
	assert_null(sl_capture_create(&p, &err));
	assert_int_equal(err, -ENOENT);
	/* A smaller snaplen makes 64 KiB enough; nothing is written without packets. */
	p = fx->p;
	p.snaplen = 9216;
	p.buf_size = BUF_64K;
	fx->c = sl_capture_create(&p, &err);
	assert_non_null(fx->c);
	assert_int_equal(sl_capture_finish(fx->c, 1000), 0);
	assert_int_equal(fx->st.files_opened, 0);
}

/* 3000 packets from two ports, jumbo chains among them, into one file read back exactly. */
static void
test_roundtrip(void **state)
{
	struct fixture *fx = *state;
	struct out_file files[MAX_FILES_SEEN];
	uint32_t *ids;
	unsigned n, nb_files;
	char want[SL_SERIES_NAME_MAX];
	size_t size;

	traffic_init(&fx->tr, 3000, 0x1234567, 100);
	ids = calloc(fx->tr.n, sizeof(*ids));
	create(fx);
	feed_paced(fx, fx->tr.n, 10000);
	finish(fx);

	n = collect(fx, ids, fx->tr.n, files, &nb_files);
	assert_int_equal(nb_files, 1);
	expect_name(fx, 1, T0, want);
	assert_string_equal(files[0].name, want);
	assert_non_null(strstr(files[0].name, "sluice_" T0_NAME "_w03_000001.pcap"));
	assert_int_equal(n, fx->tr.n);
	check_ids_sequential(ids, n, 0);

	size = header_size(fx);
	for (unsigned i = 0; i < fx->tr.n; i++)
		size += sl_pcap_record_size(fx->p.format, fx->tr.pkt[i].len);
	assert_int_equal(files[0].size, size);
	assert_int_equal(fx->st.file_bytes, size);
	assert_int_equal(fx->st.files_opened, 1);
	assert_int_equal(fx->st.files_closed, 1);
	assert_int_equal(fx->st.file_errors, 0);
	assert_int_equal(fx->st.partial_flushes, 0);
	assert_int_equal(SUM(fx, nobuf), 0);
	assert_int_equal(SUM(fx, write_error), 0);
	assert_int_equal(SUM(fx, truncated), 0);
	assert_int_equal(fx->st.io.errors, 0);
	/* Whole buffers plus the padded last one, then the file's and the directory's fsync. */
	assert_int_equal(fx->st.io.writes, (size + fx->p.buf_size - 1) / fx->p.buf_size);
	assert_int_equal(fx->st.io.write_bytes,
			 fx->p.direct ? SL_ALIGN_UP(size, SL_DIRECT_ALIGN) : size);
	assert_int_equal(fx->st.io.fsyncs, 2);
	assert_int_equal(fx->st.buffers_free, fx->p.nb_bufs);
	check_accounting(fx, ids, n);
	free_files(files, nb_files);
	free(ids);
}

/* snaplen 100: records keep 100 bytes and the original length. */
static void
test_snaplen(void **state)
{
	struct fixture *fx = *state;
	struct out_file files[MAX_FILES_SEEN];
	uint64_t trunc[SL_MAX_PORTS] = { 0 };
	uint32_t *ids;
	unsigned n, nb_files;

	fx->p.snaplen = 100;
	fx->ifaces[0].snaplen = 100;
	fx->ifaces[1].snaplen = 100;
	fx->p.buf_size = BUF_64K;
	traffic_init(&fx->tr, 2000, 0xabcdef, 50);
	ids = calloc(fx->tr.n, sizeof(*ids));
	create(fx);
	feed_paced(fx, fx->tr.n, 10000);
	finish(fx);

	n = collect(fx, ids, fx->tr.n, files, &nb_files);
	assert_int_equal(nb_files, 1);
	assert_int_equal(n, fx->tr.n);
	check_ids_sequential(ids, n, 0);
	for (unsigned i = 0; i < fx->tr.n; i++)
		if (fx->tr.pkt[i].len > 100)
			trunc[fx->tr.pkt[i].port]++;
	for (unsigned p = 0; p < SL_MAX_PORTS; p++)
		assert_int_equal(fx->st.port[p].truncated, trunc[p]);
	assert_true(trunc[PORT_A] > 0 && trunc[PORT_B] > 0);
	check_accounting(fx, ids, n);
	free_files(files, nb_files);
	free(ids);
}

/* rotate_size 64 KiB: many files, each valid, none much past the limit, together the input. */
static void
test_rotate_size(void **state)
{
	struct fixture *fx = *state;
	struct out_file files[MAX_FILES_SEEN];
	size_t limit, total = 0;
	uint32_t *ids;
	unsigned n, nb_files;

	fx->p.rotate_size = BUF_64K;
	traffic_init(&fx->tr, 1200, 0x5eed, 60);
	ids = calloc(fx->tr.n, sizeof(*ids));
	limit = BUF_64K + sl_pcap_record_size(fx->p.format, MAX_LEN);
	create(fx);
	/* Small bursts and waiting for every I/O: files finish before too many are open. */
	while (fx->tr.sent < fx->tr.n) {
		unsigned k = fx->tr.n - fx->tr.sent < 4 ? fx->tr.n - fx->tr.sent : 4;

		feed(fx, k, 4);
		fx->now += 10000;
		drain(fx);
	}
	finish(fx);

	n = collect(fx, ids, fx->tr.n, files, &nb_files);
	assert_true(nb_files >= 10);
	assert_int_equal(n, fx->tr.n);
	check_ids_sequential(ids, n, 0);
	for (unsigned i = 0; i < nb_files; i++) {
		assert_true(files[i].size < limit);
		if (i + 1 < nb_files)
			assert_true(files[i].size >= BUF_64K);
		total += files[i].size;
	}
	assert_int_equal(fx->st.files_opened, nb_files);
	assert_int_equal(fx->st.files_closed, nb_files);
	assert_int_equal(fx->st.file_bytes, total);
	assert_int_equal(SUM(fx, nobuf), 0);
	check_accounting(fx, ids, n);
	free_files(files, nb_files);
	free(ids);
}

/* rotate_ns 1 s: a poll 2 s after the file opened closes it; the next packets start another. */
static void
test_rotate_time(void **state)
{
	struct fixture *fx = *state;
	struct out_file files[MAX_FILES_SEEN];
	char want[SL_SERIES_NAME_MAX];
	uint32_t *ids;
	unsigned n, nb_files;

	fx->p.rotate_ns = SEC;
	traffic_init(&fx->tr, 200, 0x77, 40);
	ids = calloc(fx->tr.n, sizeof(*ids));
	create(fx);
	feed(fx, 100, 32);
	poll_at(fx, T0 + 500 * MS);
	drain(fx);
	assert_int_equal(fx->st.files_opened, 1);
	assert_int_equal(fx->st.files_closed, 0);
	poll_at(fx, T0 + 2 * SEC);
	drain(fx);
	/* The first file is finished before any more packets arrive. */
	assert_int_equal(fx->st.files_closed, 1);
	n = list_files(fx, files, MAX_FILES_SEEN);
	assert_int_equal(n, 1);
	expect_name(fx, 1, T0, want);
	assert_string_equal(files[0].name, want);
	free_files(files, n);

	feed(fx, 100, 32);
	finish(fx);
	n = collect(fx, ids, fx->tr.n, files, &nb_files);
	assert_int_equal(nb_files, 2);
	expect_name(fx, 2, T0 + 2 * SEC, want);
	assert_string_equal(files[1].name, want);
	assert_int_equal(n, 200);
	check_ids_sequential(ids, n, 0);
	assert_int_equal(fx->st.files_opened, 2);
	assert_int_equal(fx->st.files_closed, 2);
	check_accounting(fx, ids, n);
	/* Each file holds its own half. */
	assert_int_equal(check_records(fx, files[0].data, files[0].size, ids, 200), 100);
	check_ids_sequential(ids, 100, 0);
	assert_int_equal(check_records(fx, files[1].data, files[1].size, ids, 200), 100);
	check_ids_sequential(ids, 100, 100);
	free_files(files, nb_files);
	free(ids);
}

/* The .part file holds every packet fed so far, whole records up to its logical end and, with
 * O_DIRECT, zeros from there to the end of the block. */
static void
check_part_file(struct fixture *fx, uint32_t *ids)
{
	struct out_file files[MAX_FILES_SEEN];
	size_t logical = header_size(fx);
	size_t align = fx->p.direct ? SL_DIRECT_ALIGN : 1;
	unsigned n;

	for (unsigned i = 0; i < fx->tr.sent; i++)
		logical += sl_pcap_record_size(fx->p.format, caplen_of(fx, i));
	n = list_files(fx, files, MAX_FILES_SEEN);
	assert_int_equal(n, 1);
	assert_non_null(strstr(files[0].name, SL_SERIES_PART_SUFFIX));
	/* O_DIRECT files are allocated ahead of the writes (and trimmed when
	 * finished), so a .part file may be longer; what follows the records
	 * must be zeros, checked up to the padded block and a little beyond. */
	if (fx->p.direct)
		assert_true(files[0].size >= SL_ALIGN_UP(logical, align));
	else
		assert_int_equal(files[0].size, logical);
	for (size_t i = logical; i < files[0].size && i < SL_ALIGN_UP(logical, align) + 8192; i++)
		if (files[0].data[i] != 0)
			fail_msg("byte %zu after the records (%zu) is 0x%02x", i, logical,
				 files[0].data[i]);
	assert_int_equal(check_records(fx, files[0].data, logical, ids, fx->tr.n), fx->tr.sent);
	check_ids_sequential(ids, fx->tr.sent, 0);
	if (fx->p.format == SL_PCAP_FORMAT_PCAPNG && logical < files[0].size) {
		/* A pcapng reader stops at the padding, knowing where the valid part ends. */
		struct sl_pcap_reader r;
		struct sl_pcap_packet pk;
		int rc;

		assert_int_equal(sl_pcap_reader_open(&r, files[0].data, files[0].size), 0);
		while ((rc = sl_pcap_reader_next(&r, &pk)) == 1)
			;
		assert_int_equal(rc, -EBADMSG);
		assert_int_equal(r.good_end, logical);
	}
	free_files(files, n);
}

/* --flush-interval: records reach the disk once they waited flush_ns, the unaligned tail is
 * carried, and the final file is exact however often its last block was rewritten. */
static void
test_flush_interval(void **state)
{
	struct fixture *fx = *state;
	struct out_file files[MAX_FILES_SEEN];
	uint64_t flush_rounds = 1;
	uint32_t *ids;
	unsigned n, nb_files;

	fx->p.flush_ns = 100 * MS;
	traffic_init(&fx->tr, 3000, 0xf1a5, 30);
	ids = calloc(fx->tr.n, sizeof(*ids));
	create(fx);
	feed(fx, 5, 5);
	poll_at(fx, T0 + 50 * MS);
	drain(fx);
	assert_int_equal(fx->st.partial_flushes, 0);
	n = list_files(fx, files, MAX_FILES_SEEN);
	assert_int_equal(n, 1);
	assert_int_equal(files[0].size, 0);
	free_files(files, n);

	poll_at(fx, T0 + 150 * MS);
	assert_int_equal(fx->st.partial_flushes, 1);
	drain(fx);
	check_part_file(fx, ids);

	/* Bursts of random size; every third round waits past the interval. */
	rng_state = 99;
	for (unsigned round = 0; round < 60 && fx->tr.sent < fx->tr.n; round++) {
		unsigned k = 1 + rng() % 50;
		bool flush = round % 3 == 0;

		if (k > fx->tr.n - fx->tr.sent)
			k = fx->tr.n - fx->tr.sent;
		while (k > 0) {
			unsigned b = k < 8 ? k : 8;

			wait_free(fx, 4);
			feed(fx, b, 8);
			k -= b;
		}
		fx->now += flush ? 150 * MS : 20 * MS;
		poll_now(fx);
		if (flush) {
			flush_rounds++;
			drain(fx);
			check_part_file(fx, ids);
		} else if (round % 2 == 0) {
			drain(fx);
		}
	}
	assert_true(fx->st.partial_flushes >= flush_rounds);
	feed_paced(fx, fx->tr.n - fx->tr.sent, 10 * MS);
	finish(fx);

	n = collect(fx, ids, fx->tr.n, files, &nb_files);
	assert_int_equal(nb_files, 1);
	assert_int_equal(n, fx->tr.n);
	check_ids_sequential(ids, n, 0);
	assert_int_equal(fx->st.file_bytes, files[0].size);
	assert_int_equal(fx->st.files_closed, 1);
	assert_int_equal(fx->st.file_errors, 0);
	check_accounting(fx, ids, n);
	free_files(files, nb_files);
	free(ids);
}

/* The writer's files: one, holding every packet of the input in order, accounted. */
static void
expect_whole_input(struct fixture *fx)
{
	struct out_file files[MAX_FILES_SEEN];
	uint32_t *ids = calloc(fx->tr.n, sizeof(*ids));
	unsigned n, nb_files;

	assert_non_null(ids);
	n = collect(fx, ids, fx->tr.n, files, &nb_files);
	assert_int_equal(nb_files, 1);
	assert_int_equal(n, fx->tr.n);
	check_ids_sequential(ids, n, 0);
	check_accounting(fx, ids, n);
	free_files(files, nb_files);
	free(ids);
}

/* The last packet before a flush crosses the end of a buffer: the new buffer holding its
 * end is due for the flush too. */
static void
test_flush_after_crossing(void **state)
{
	struct fixture *fx = *state;
	size_t fill = header_size(fx);
	uint32_t *ids;
	unsigned cross = 0;

	fx->p.flush_ns = 100 * MS;
	traffic_init(&fx->tr, 400, 0xc705, 0);
	ids = calloc(fx->tr.n, sizeof(*ids));
	/* Without flushes so far, the first buffer ends at buf_size in the file. */
	for (unsigned i = 0; i < fx->tr.n; i++) {
		fill += sl_pcap_record_size(fx->p.format, caplen_of(fx, i));
		if (fill > fx->p.buf_size) {
			cross = i;
			break;
		}
	}
	assert_true(cross > 0);
	create(fx);
	feed(fx, cross + 1, 32);
	poll_at(fx, T0 + 150 * MS);
	drain(fx);
	check_part_file(fx, ids);
	feed(fx, fx->tr.n - fx->tr.sent, 32);
	finish(fx);
	expect_whole_input(fx);
	free(ids);
}

/* Three buffers and no polls: nothing completes, buffers run out, packets are dropped as
 * nobuf; what was kept is written whole and in order. */
static void
test_nobuf(void **state)
{
	struct fixture *fx = *state;
	struct out_file files[MAX_FILES_SEEN];
	uint64_t written, nobuf;
	uint32_t *ids;
	unsigned n, nb_files;

	fx->p.nb_bufs = 3;
	traffic_init(&fx->tr, 600, 0xb0f, 25);
	ids = calloc(fx->tr.n, sizeof(*ids));
	create(fx);
	feed(fx, fx->tr.n, 32);
	assert_int_equal(fx->st.io.submit_calls, 0);
	nobuf = SUM(fx, nobuf);
	assert_true(nobuf > 0);
	finish(fx);

	written = SUM(fx, written);
	assert_true(written > 0);
	assert_int_equal(SUM(fx, nobuf), nobuf);
	assert_int_equal(SUM(fx, write_error), 0);
	assert_int_equal(written + nobuf, fx->tr.n);
	n = collect(fx, ids, fx->tr.n, files, &nb_files);
	assert_int_equal(nb_files, 1);
	assert_int_equal(n, written);
	/* In order, each once. */
	for (unsigned i = 1; i < n; i++)
		assert_true(ids[i] > ids[i - 1]);
	/* The three buffers hold at least two full ones of records. */
	assert_true(files[0].size > 2 * fx->p.buf_size);
	check_accounting(fx, ids, n);
	free_files(files, nb_files);
	free(ids);
}

/* sl_capture_room() is a promise: that many packets of up to a jumbo frame fit without a nobuf
 * drop, even with nothing completing; once it is 0, the next packet may be dropped. */
static void
test_room(void **state)
{
	struct fixture *fx = *state;
	struct out_file files[MAX_FILES_SEEN];
	uint32_t *ids;
	unsigned n, nb_files, room;

	fx->p.nb_bufs = 3;
	/* Every packet a jumbo frame, the size room is judged for. */
	traffic_init(&fx->tr, 200, 0x4004, 1);
	ids = calloc(fx->tr.n, sizeof(*ids));
	create(fx);
	room = sl_capture_room(fx->c);
	/* 3 buffers of 68 KiB, less the file header, in records of a 9216-byte frame. */
	assert_int_equal(room,
			 (3 * BUF_68K - header_size(fx)) / sl_pcap_record_size(fx->p.format, 9216));
	while ((room = sl_capture_room(fx->c)) > 0) {
		feed(fx, room < 5 ? room : 5, 5);
		assert_int_equal(SUM(fx, nobuf), 0);
	}
	assert_true(fx->tr.sent > 0);
	/* Without completions the writer is full: more packets are dropped, not queued. */
	feed(fx, 10, 10);
	assert_true(SUM(fx, nobuf) > 0);
	drain(fx);
	assert_true(sl_capture_room(fx->c) > 0);
	finish(fx);
	n = collect(fx, ids, fx->tr.n, files, &nb_files);
	assert_int_equal(nb_files, 1);
	assert_int_equal(n, SUM(fx, written));
	for (unsigned i = 1; i < n; i++)
		assert_true(ids[i] > ids[i - 1]);
	check_accounting(fx, ids, n);
	free_files(files, nb_files);
	free(ids);
}

/* The fault seam of the capture tests. */
struct cap_fault {
	bool enospc; /* fail writes at or past enospc_from */
	uint64_t enospc_from;
	unsigned short_every;  /* every Nth write completion reports a third of its bytes */
	unsigned eagain_every; /* every Nth write completion reports -EAGAIN */
	unsigned delay_us;     /* every write completion takes this long to be seen */
	unsigned calls;
	unsigned failed;
	unsigned shortened;
	unsigned eagains;
};

static int
cap_fault(void *arg, int kind, uint64_t offset, uint32_t len, int res)
{
	struct cap_fault *f = arg;
	unsigned call;

	if (kind != 0 || res < 0)
		return res;
	call = ++f->calls;
	if (f->delay_us != 0)
		usleep(f->delay_us);
	if (f->enospc && offset >= f->enospc_from) {
		f->failed++;
		return -ENOSPC;
	}
	if (f->eagain_every != 0 && call % f->eagain_every == 0) {
		f->eagains++;
		return -EAGAIN;
	}
	if (f->short_every != 0 && call % f->short_every == 0 && len > 1) {
		f->shortened++;
		return res / 3;
	}
	return res;
}

/* ENOSPC past 2 buffers: the file is cut at its last whole record, packets fed during the
 * 1 s back-off are write errors, then a new file is written fine. */
static void
test_write_error(void **state)
{
	struct fixture *fx = *state;
	struct cap_fault flt = { .enospc = true, .enospc_from = 2 * BUF_68K };
	struct out_file files[MAX_FILES_SEEN];
	uint64_t written, werr, t_err;
	unsigned n, nb_files, kept, mid;
	char want[SL_SERIES_NAME_MAX];
	uint32_t *ids;

	traffic_init(&fx->tr, 1500, 0xe770, 70);
	ids = calloc(fx->tr.n, sizeof(*ids));
	create(fx);
	sl_capture_set_fault(fx->c, cap_fault, &flt);
	while (fx->st.file_errors == 0) {
		assert_true(fx->tr.sent + 16 <= 1000);
		wait_free(fx, 4);
		if (fx->st.file_errors != 0)
			break;
		feed(fx, 16, 16);
		fx->now += MS;
		poll_now(fx);
	}
	/* Time stands still until every write of the failed file is back. */
	t_err = fx->first_error_ns;
	assert_true(t_err > T0);
	drain(fx);
	assert_int_equal(fx->st.file_errors, 1);
	assert_true(fx->st.io.enospc >= 1);
	assert_true(flt.failed >= 1);
	assert_int_equal(fx->st.io.last_errno, ENOSPC);
	assert_int_equal(SUM(fx, nobuf), 0);
	written = SUM(fx, written);
	werr = SUM(fx, write_error);
	assert_true(written > 0);
	assert_true(werr > 0);
	assert_int_equal(written + werr, fx->tr.sent);

	/* The failed file is already cut and renamed: a prefix of the input, ending before
	 * the first refused write. */
	n = list_files(fx, files, MAX_FILES_SEEN);
	assert_int_equal(n, 1);
	check_name(fx, files[0].name, 1);
	kept = check_records(fx, files[0].data, files[0].size, ids, fx->tr.n);
	assert_int_equal(kept, written);
	check_ids_sequential(ids, kept, 0);
	assert_true(files[0].size <= flt.enospc_from);
	assert_true(files[0].size + sl_pcap_record_size(fx->p.format, MAX_LEN) > flt.enospc_from);
	assert_int_equal(fx->st.files_closed, 1);
	assert_int_equal(fx->st.file_bytes, files[0].size);
	free_files(files, n);

	/* During the back-off every packet is a write error, and no file is opened. */
	poll_at(fx, t_err + 500 * MS);
	feed(fx, 50, 16);
	poll_at(fx, t_err + SEC - 1);
	feed(fx, 10, 10);
	drain(fx);
	assert_int_equal(SUM(fx, write_error), werr + 60);
	assert_int_equal(SUM(fx, written), written);
	assert_int_equal(fx->st.files_opened, 1);

	/* After it, with the disk healthy again, a new file takes the rest. */
	flt.enospc = false;
	poll_at(fx, t_err + SEC);
	mid = fx->tr.sent;
	feed_paced(fx, 200, MS);
	finish(fx);
	assert_int_equal(fx->st.files_opened, 2);
	assert_int_equal(fx->st.files_closed, 2);
	assert_int_equal(fx->st.file_errors, 1);
	assert_int_equal(SUM(fx, written), written + 200);
	assert_int_equal(SUM(fx, write_error), werr + 60);

	n = collect(fx, ids, fx->tr.n, files, &nb_files);
	assert_int_equal(nb_files, 2);
	expect_name(fx, 2, t_err + SEC, want);
	assert_string_equal(files[1].name, want);
	assert_int_equal(n, written + 200);
	check_ids_sequential(ids, kept, 0);
	check_ids_sequential(ids + kept, 200, mid);
	assert_int_equal(fx->st.file_bytes, files[0].size + files[1].size);
	check_accounting(fx, ids, n);
	free_files(files, nb_files);
	free(ids);
}

/* The very first write fails: no record survives, so no file is left at all. */
static void
test_write_error_first_block(void **state)
{
	struct fixture *fx = *state;
	struct cap_fault flt = { .enospc = true, .enospc_from = 0 };
	struct out_file files[MAX_FILES_SEEN];
	unsigned n;

	traffic_init(&fx->tr, 100, 0xf00, 0);
	create(fx);
	sl_capture_set_fault(fx->c, cap_fault, &flt);
	feed(fx, 100, 32);
	finish(fx);
	n = list_files(fx, files, MAX_FILES_SEEN);
	assert_int_equal(n, 0);
	assert_int_equal(SUM(fx, written), 0);
	assert_int_equal(SUM(fx, write_error), 100);
	assert_int_equal(fx->st.files_opened, 1);
	assert_int_equal(fx->st.files_closed, 0);
	assert_int_equal(fx->st.file_errors, 1);
	assert_int_equal(fx->st.io.enospc, flt.failed);
	check_accounting(fx, NULL, 0);
}

/* Short writes and -EAGAIN from the seam, with partial flushes among them: the file is still
 * exactly the input. */
static void
test_short_writes(void **state)
{
	struct fixture *fx = *state;
	struct cap_fault flt = { .short_every = 3, .eagain_every = 7 };

	fx->p.flush_ns = 100 * MS;
	traffic_init(&fx->tr, 1500, 0x5407, 45);
	create(fx);
	sl_capture_set_fault(fx->c, cap_fault, &flt);
	feed_paced(fx, fx->tr.n, 40 * MS);
	finish(fx);

	assert_true(flt.shortened > 0);
	assert_true(flt.eagains > 0);
	assert_int_equal(fx->st.io.short_writes, flt.shortened);
	assert_int_equal(fx->st.io.retries, flt.eagains);
	assert_int_equal(fx->st.io.errors, 0);
	assert_true(fx->st.partial_flushes > 0);
	assert_int_equal(fx->st.file_errors, 0);
	expect_whole_input(fx);
}

/* A disk slower than the finish timeout in all, but never silent that long: nothing is
 * given up. Each write completion takes 40 ms, six or more are left at the finish, and
 * the timeout is 150 ms: the old whole-wait deadline would have cut the file short. */
static void
test_finish_slow_disk(void **state)
{
	struct fixture *fx = *state;
	struct cap_fault flt = { .delay_us = 40000 };
	uint64_t t0, took;
	unsigned writes;

	traffic_init(&fx->tr, 400, 0x510e, 0);
	create(fx);
	sl_capture_set_fault(fx->c, cap_fault, &flt);
	feed(fx, fx->tr.n, 16);
	assert_int_equal(SUM(fx, nobuf), 0);
	writes = flt.calls;
	t0 = sl_monotonic_ns();
	assert_int_equal(sl_capture_finish(fx->c, 150), 0);
	took = sl_monotonic_ns() - t0;
	print_message("finish: %u writes seen in %llu ms\n", flt.calls - writes,
		      (unsigned long long)(took / 1000000));
	assert_true(flt.calls - writes >= 5);
	assert_true(took > 150 * 1000000ull);
	assert_int_equal(sl_capture_outstanding(fx->c), 0);
	assert_int_equal(fx->st.file_errors, 0);
	assert_int_equal(fx->st.files_closed, 1);
	expect_whole_input(fx);
}

/* A disk that answers nothing (every write completion a retry, forever) is given up on
 * once nothing has completed for the timeout; when it answers again, the same finish
 * completes the file whole. */
static void
test_finish_stalled_disk(void **state)
{
	struct fixture *fx = *state;
	struct cap_fault flt = { .eagain_every = 1 };
	uint64_t t0, took;
	struct log_capture lc;
	unsigned notes;
	char *log;

	traffic_init(&fx->tr, 200, 0x57a1, 0);
	create(fx);
	sl_capture_set_fault(fx->c, cap_fault, &flt);
	feed(fx, fx->tr.n, 16);
	assert_true(log_capture_start(&lc));
	t0 = sl_monotonic_ns();
	assert_int_equal(sl_capture_finish(fx->c, 200), -ETIMEDOUT);
	took = sl_monotonic_ns() - t0;
	log = log_capture_stop(&lc);
	/* The wait said what it waited for, every tenth of the timeout, then gave up. */
	notes = occurrences(log, "stopping: waiting for");
	print_message("finish: %u notes of the wait\n", notes);
	assert_true(notes >= 3 && notes <= took / 20000000ull);
	assert_non_null(strstr(log, "none finished for 0."));
	assert_non_null(strstr(log, "no I/O completed"));
	free(log);
	assert_true(took >= 200 * 1000000ull);
	assert_true(took < 5000 * 1000000ull);
	assert_true(flt.eagains > 10);
	assert_true(sl_capture_outstanding(fx->c) > 0);
	assert_int_equal(fx->st.files_closed, 0);

	flt.eagain_every = 0;
	finish(fx);
	assert_int_equal(fx->st.file_errors, 0);
	expect_whole_input(fx);
}

/* ts_offset < 0: packets are stamped with the writer's clock when they arrive. */
static void
test_stamp_on_arrival(void **state)
{
	struct fixture *fx = *state;
	struct out_file files[MAX_FILES_SEEN];
	struct sl_pcap_reader r;
	struct sl_pcap_packet pk;
	uint32_t ids[20];
	unsigned n;

	fx->p.ts_offset = -1;
	traffic_init(&fx->tr, 20, 0x57a, 0);
	create(fx);
	poll_at(fx, T0 + 5);
	feed(fx, 10, 10);
	poll_at(fx, T0 + 7 * MS);
	feed(fx, 10, 10);
	finish(fx);
	n = list_files(fx, files, MAX_FILES_SEEN);
	assert_int_equal(n, 1);
	fx->check_ts = false;
	assert_int_equal(check_records(fx, files[0].data, files[0].size, ids, 20), 20);
	check_ids_sequential(ids, 20, 0);
	assert_int_equal(sl_pcap_reader_open(&r, files[0].data, files[0].size), 0);
	for (unsigned i = 0; i < 20; i++) {
		assert_int_equal(sl_pcap_reader_next(&r, &pk), 1);
		assert_int_equal(pk.ts_ns, i < 10 ? T0 + 5 : T0 + 7 * MS);
	}
	check_accounting(fx, ids, 20);
	free_files(files, n);
}

/* The writer lcore's loop, run on this thread over a ring filled beforehand. */
static void
test_lcore_main(void **state)
{
	struct fixture *fx = *state;
	struct out_file files[MAX_FILES_SEEN];
	struct sl_capture_lcore *w = calloc(1, sizeof(*w));
	ssize_t rsz = rte_ring_get_memsize(1024);
	struct rte_ring *ring;
	int rx_running = 0;
	uint32_t *ids;
	unsigned n, nb_files;
	char year[8];

	assert_non_null(w);
	assert_true(rsz > 0);
	ring = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL((size_t)rsz, RTE_CACHE_LINE_SIZE));
	assert_non_null(ring);
	assert_int_equal(rte_ring_init(ring, "test", 1024, RING_F_SP_ENQ | RING_F_SC_DEQ), 0);
	traffic_init(&fx->tr, 700, 0x1c0e, 35);
	ids = calloc(fx->tr.n, sizeof(*ids));
	for (unsigned i = 0; i < fx->tr.n; i++) {
		struct rte_mbuf *m = mbuf_new(&fx->tr, fx->tr.sent++);

		assert_int_equal(rte_ring_sp_enqueue(ring, m), 0);
	}
	w->params = fx->p;
	w->rings[0] = ring;
	w->nb_rings = 1;
	w->burst = 32;
	w->rx_running = &rx_running;
	/* Buffers are taken ahead of the disk: room for the whole input. */
	w->params.nb_bufs = 64;
	assert_int_equal(sl_capture_lcore_main(w), 0);
	assert_int_equal(w->state, SL_CAPTURE_LCORE_DONE);
	assert_int_equal(w->error, 0);
	assert_true(rte_ring_empty(ring));

	n = collect(fx, ids, fx->tr.n, files, &nb_files);
	assert_int_equal(nb_files, 1);
	assert_int_equal(n, fx->tr.n);
	check_ids_sequential(ids, n, 0);
	/* The file is named after the writer's clock when it opened, not the epoch. */
	memcpy(year, files[0].name + strlen("sluice_"), 4);
	year[4] = '\0';
	print_message("lcore file: %s\n", files[0].name);
	assert_true(strtoul(year, NULL, 10) >= 2023);
	assert_int_equal(fx->st.files_closed, 1);
	check_accounting(fx, ids, n);
	free_files(files, nb_files);
	free(ids);
	free(ring);
	free(w);
}

#define T(f, cfg) cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, (void *)&(cfg))

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_rejects_bad_params, pcapng_direct),
		T(test_roundtrip, pcap_direct),
		T(test_roundtrip, pcapng_direct),
		T(test_roundtrip, pcapng_buffered),
		T(test_snaplen, pcap_direct),
		T(test_snaplen, pcapng_buffered),
		T(test_rotate_size, pcapng_direct),
		T(test_rotate_size, pcap_buffered),
		T(test_rotate_time, pcap_direct),
		T(test_flush_interval, pcapng_direct),
		T(test_flush_interval, pcap_direct),
		T(test_flush_interval, pcapng_buffered),
		T(test_flush_after_crossing, pcapng_direct),
		T(test_flush_after_crossing, pcap_buffered),
		T(test_nobuf, pcapng_direct),
		T(test_room, pcapng_direct),
		T(test_room, pcap_buffered),
		T(test_write_error, pcapng_direct),
		T(test_write_error, pcap_buffered),
		T(test_write_error_first_block, pcap_direct),
		T(test_short_writes, pcapng_direct),
		T(test_short_writes, pcap_buffered),
		T(test_finish_slow_disk, pcapng_direct),
		T(test_finish_slow_disk, pcap_buffered),
		T(test_finish_stalled_disk, pcap_direct),
		T(test_stamp_on_arrival, pcapng_direct),
		T(test_lcore_main, pcapng_direct),
	};

	if (!uring_available())
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
