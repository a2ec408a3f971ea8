/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --perf-test=disk: "is it the disk?". The writer lcores run alone, with no
 * ports and no RX lcores, and serialize synthetic frames through the real
 * capture writer (records, registered buffers, preallocation, io_uring,
 * fsync, rename) for --duration. What landed in finished files, per writer
 * and in total, divided by the time until the last fsync, is the rate the
 * disk and the writers reach together: an upper bound for capture, to be
 * set beside fio's ceiling for the same filesystem.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "app.h"

#define PERF_DEFAULT_NS (10ull * 1000000000ull)

static volatile sig_atomic_t perf_signal;

static void
on_perf_signal(int sig)
{
	perf_signal = sig;
}

/* Remove the scratch directory: its files are ours and flat. */
static void
remove_scratch(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0)
			fprintf(stderr, "sluice: warning: cannot remove %s/%s: %s\n", path,
				e->d_name, strerror(errno));
	}
	closedir(d);
	if (rmdir(path) < 0)
		fprintf(stderr, "sluice: warning: cannot remove %s: %s\n", path, strerror(errno));
}

/* The writer lcores: --writer-lcores, else every worker lcore. */
static unsigned
perf_lcores(const struct sl_config *c, unsigned *out)
{
	unsigned n = 0, lc;

	if (c->nb_writer_lcores > 0) {
		for (unsigned i = 0; i < c->nb_writer_lcores; i++)
			out[n++] = c->writer_lcores[i];
		return n;
	}
	RTE_LCORE_FOREACH_WORKER(lc)
	{
		if (n == SL_MAX_LCORES)
			break;
		out[n++] = lc;
	}
	return n;
}

/* Synthetic frames: an Ethernet/IPv4/UDP header and a counting payload, so
 * the files read as ordinary captures. */
static void
fill_frame(struct rte_mbuf *m, uint32_t len, unsigned idx)
{
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	static const uint8_t hdr[] = {
		0x02, 0, 0, 0, 0,  1, 0x02, 0, 0,  0,  0, 2, 0x08, 0x00, /* Ethernet */
		0x45, 0, 0, 0, 0,  0, 0x40, 0, 64, 17, 0, 0,             /* IPv4 */
		10,   0, 0, 2, 10, 0, 0,    1,                           /* addresses */
	};

	memset(p, 0, len);
	memcpy(p, hdr, len < sizeof(hdr) ? len : sizeof(hdr));
	for (uint32_t i = sizeof(hdr); i < len; i++)
		p[i] = (uint8_t)(i + idx);
	m->port = 0;
}

int
app_perf_test(struct app *a)
{
	const struct sl_config *c = &a->cfg;
	static struct sl_capture_perf_lcore *w[SL_MAX_LCORES];
	unsigned lcores[SL_MAX_LCORES];
	unsigned n = perf_lcores(c, lcores);
	char scratch[PATH_MAX + 64];
	struct rte_mempool *pool = NULL;
	uint64_t duration = c->duration_ms ? c->duration_ms * 1000000ull : PERF_DEFAULT_NS;
	uint64_t total = 0, max_elapsed = 0, errors = 0;
	int rc = 0;

	if (n == 0) {
		fprintf(stderr, "sluice: error: --perf-test needs at least one worker lcore "
				"(such as -l 0-1)\n");
		return 2;
	}
	for (unsigned i = 0; i < n; i++)
		if (!rte_lcore_is_enabled(lcores[i]) || lcores[i] == rte_get_main_lcore()) {
			fprintf(stderr,
				"sluice: error: --writer-lcores: lcore %u is not a worker lcore\n",
				lcores[i]);
			return 2;
		}
	snprintf(scratch, sizeof(scratch), "%s/.sluice-perf-%d", c->dir, (int)getpid());
	if (mkdir(scratch, 0700) < 0) {
		fprintf(stderr, "sluice: error: cannot create %s: %s\n", scratch, strerror(errno));
		return 1;
	}
	pool = rte_pktmbuf_pool_create("sl_perf", n * SL_CAPTURE_PERF_FRAMES + 64, 0, 0,
				       (uint16_t)(c->perf_frame_size + RTE_PKTMBUF_HEADROOM),
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "sluice: error: cannot create the frame pool: %s\n",
			rte_strerror(rte_errno));
		rc = 1;
		goto out;
	}
	a->ifaces[0].name = "perf";
	a->ifaces[0].description = "sluice --perf-test=disk";
	a->ifaces[0].snaplen = c->perf_frame_size;

	for (unsigned i = 0; i < n; i++) {
		int s = (int)rte_lcore_to_socket_id(lcores[i]);
		struct sl_capture_params *p;

		a->wr_stats[i] = rte_zmalloc_socket("sl_wr_stats", sizeof(struct sl_writer_stats),
						    RTE_CACHE_LINE_SIZE, s);
		w[i] = rte_zmalloc_socket("sl_perf", sizeof(*w[i]), RTE_CACHE_LINE_SIZE, s);
		if (w[i] == NULL || a->wr_stats[i] == NULL) {
			rc = 1;
			goto out;
		}
		p = &w[i]->params;
		p->writer_id = i;
		p->dir = scratch;
		p->prefix = "perf";
		p->format = c->format;
		p->snaplen = c->perf_frame_size;
		p->rotate_size = c->rotate_size;
		p->rotate_ns = (uint64_t)c->rotate_seconds * 1000000000ull;
		p->flush_ns = (uint64_t)c->flush_ms * 1000000ull;
		p->direct = c->direct;
		p->buf_size = c->write_buffer_size;
		p->nb_bufs = c->write_buffers;
		p->uring_depth = c->uring_depth;
		p->ifaces = a->ifaces;
		p->nb_ifaces = 1;
		p->port_iface[0] = 0;
		p->clock = &a->clock;
		p->tsc_hz = a->tsc_hz;
		p->ts_offset = -1;
		p->stats = a->wr_stats[i];
		/* The same hugepage buffers as capture, when there are hugepages. */
		a->wr_mem[i] =
			rte_malloc_socket("sl_wbuf", sl_capture_mem_size(p), SL_DIRECT_ALIGN, s);
		p->buf_mem = a->wr_mem[i];
		w[i]->duration_ns = duration;
		w[i]->stop = &a->stop;
		for (unsigned f = 0; f < SL_CAPTURE_PERF_FRAMES; f++) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

			if (m == NULL) {
				rc = 1;
				goto out;
			}
			fill_frame(m, c->perf_frame_size, f);
			w[i]->frames[w[i]->nb_frames++] = m;
		}
	}
	printf("sluice: perf-test disk: %u writer(s), %" PRIu32 " B frames, %.1f s -> %s (%s%s)\n",
	       n, c->perf_frame_size, (double)duration / 1e9, c->dir,
	       sl_config_format_name(c->format), c->direct ? ", O_DIRECT" : "");
	fflush(stdout);
	for (unsigned i = 0; i < n; i++)
		if (rte_eal_remote_launch(sl_capture_perf_lcore_main, w[i], lcores[i]) != 0) {
			fprintf(stderr, "sluice: error: cannot launch lcore %u\n", lcores[i]);
			__atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
			rc = 1;
		}
	/* SIGINT/SIGTERM stop the feeding; the writers still finish their files. */
	signal(SIGINT, on_perf_signal);
	signal(SIGTERM, on_perf_signal);
	for (bool busy = true; busy;) {
		busy = false;
		for (unsigned i = 0; i < n; i++)
			busy = busy || rte_eal_get_lcore_state(lcores[i]) != WAIT;
		if (perf_signal != 0 && __atomic_load_n(&a->stop, __ATOMIC_ACQUIRE) == 0) {
			fprintf(stderr, "sluice: signal %d: stopping the perf-test\n",
				(int)perf_signal);
			__atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
		}
		if (busy)
			rte_delay_us_sleep(10000);
	}
	rte_eal_mp_wait_lcore();

	for (unsigned i = 0; i < n; i++) {
		const struct sl_writer_stats *st = a->wr_stats[i];
		uint64_t werr = st->port[0].write_error + st->file_errors + st->io.errors;

		total += st->file_bytes;
		errors += werr;
		if (w[i]->elapsed_ns > max_elapsed)
			max_elapsed = w[i]->elapsed_ns;
		if (w[i]->error != 0 || werr != 0) {
			fprintf(stderr,
				"sluice: error: perf-test writer %u: %s, %" PRIu64
				" write errors\n",
				i, w[i]->error ? strerror(-w[i]->error) : "ok", werr);
			rc = 1;
		}
		printf("sluice: perf-test disk: writer %u (lcore %u): %.3f GB/s (%" PRIu64
		       " bytes, %" PRIu64 " records in %.3f s)\n",
		       i, lcores[i],
		       w[i]->elapsed_ns ? (double)st->file_bytes / (double)w[i]->elapsed_ns : 0.0,
		       st->file_bytes, w[i]->records, (double)w[i]->elapsed_ns / 1e9);
	}
	printf("sluice: perf-test disk: total: %.3f GB/s (%" PRIu64 " bytes in %.3f s)\n",
	       max_elapsed ? (double)total / (double)max_elapsed : 0.0, total,
	       (double)max_elapsed / 1e9);
	if (c->stats_json[0] != '\0') {
		FILE *f = fopen(c->stats_json, "w");

		if (f == NULL) {
			fprintf(stderr, "sluice: error: --stats-json %s: %s\n", c->stats_json,
				strerror(errno));
			rc = 1;
		} else {
			fprintf(f,
				"{\"perf_test\": \"disk\", \"duration_s\": %.3f, "
				"\"frame_size\": %" PRIu32 ", \"format\": \"%s\", \"direct\": %s, "
				"\"write_buffer\": %" PRIu64 ", \"write_buffers\": %" PRIu32
				", \"writers\": {",
				(double)max_elapsed / 1e9, c->perf_frame_size,
				sl_config_format_name(c->format), c->direct ? "true" : "false",
				c->write_buffer_size, c->write_buffers);
			for (unsigned i = 0; i < n; i++) {
				const struct sl_writer_stats *st = a->wr_stats[i];

				fprintf(f,
					"%s\"%u\": {\"lcore\": %u, \"bytes\": %" PRIu64
					", \"records\": %" PRIu64 ", \"elapsed_s\": %.3f, "
					"\"GBps\": %.4f, \"write_errors\": %" PRIu64
					", \"backlog_polls\": %" PRIu64 "}",
					i ? ", " : "", i, lcores[i], st->file_bytes, w[i]->records,
					(double)w[i]->elapsed_ns / 1e9,
					w[i]->elapsed_ns
						? (double)st->file_bytes / (double)w[i]->elapsed_ns
						: 0.0,
					st->port[0].write_error + st->file_errors + st->io.errors,
					st->backlog_polls);
			}
			fprintf(f,
				"}, \"total\": {\"bytes\": %" PRIu64 ", \"GBps\": %.4f, "
				"\"write_errors\": %" PRIu64 "}}\n",
				total, max_elapsed ? (double)total / (double)max_elapsed : 0.0,
				errors);
			if (fclose(f) != 0)
				rc = 1;
		}
	}
out:
	for (unsigned i = 0; i < n; i++) {
		if (w[i] != NULL)
			for (unsigned f = 0; f < w[i]->nb_frames; f++)
				rte_pktmbuf_free(w[i]->frames[f]);
		rte_free(w[i]);
		rte_free(a->wr_mem[i]);
		rte_free(a->wr_stats[i]);
		a->wr_mem[i] = NULL;
		a->wr_stats[i] = NULL;
	}
	rte_mempool_free(pool);
	remove_scratch(scratch);
	return rc;
}
