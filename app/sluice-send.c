/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-send: send files and directories to a sluice receiver over ordinary
 * kernel UDP sockets. Everything but option handling and output lives in
 * lib/sender.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_auth.h"
#include "sl_sender.h"

#define EXIT_FAILED_FILE 1
#define EXIT_USAGE 2
#define EXIT_NO_SESSION 3

struct output {
	bool quiet, verbose, bar;
	bool bar_drawn;
};

static void
warn_cb(void *arg, const char *msg)
{
	const struct output *out = arg;

	if (!out->quiet)
		fprintf(stderr, "sluice-send: %s\n", msg);
}

static void
log_cb(void *arg, const char *msg)
{
	struct output *out = arg;

	if (out->bar_drawn) {
		fputs("\r\033[K", stderr);
		out->bar_drawn = false;
	}
	fprintf(stderr, "sluice-send: %s\n", msg);
}

static void
human(double v, const char *unit, char *buf, size_t len)
{
	static const char *const pre[] = { "", "k", "M", "G", "T", "P" };
	unsigned i = 0;

	while (v >= 1000 && i + 1 < sizeof(pre) / sizeof(pre[0])) {
		v /= 1000;
		i++;
	}
	snprintf(buf, len, "%.1f %s%s", v, pre[i], unit);
}

static void
progress_cb(void *arg, const struct sl_sender_stats *st, uint64_t elapsed_ns, bool last)
{
	struct output *out = arg;
	double secs = (double)elapsed_ns / 1e9;
	double rate = secs > 0 ? (double)st->acked_bytes * 8 / secs : 0;
	double pct = st->total_bytes > 0 ? 100.0 * (double)st->acked_bytes / (double)st->total_bytes
					 : 100.0;
	char done[32], total[32], r[32], eta[32];
	const int width = 24;
	char bar[32];
	int fill;

	if (!out->bar)
		return;
	human((double)st->acked_bytes, "B", done, sizeof(done));
	human((double)st->total_bytes, "B", total, sizeof(total));
	human(rate, "bit/s", r, sizeof(r));
	if (rate > 0 && st->total_bytes > st->acked_bytes) {
		double left = (double)(st->total_bytes - st->acked_bytes) * 8 / rate;

		snprintf(eta, sizeof(eta), "%d:%02d", (int)(left / 60), (int)left % 60);
	} else {
		snprintf(eta, sizeof(eta), "--:--");
	}
	fill = (int)(pct * width / 100);
	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	fprintf(stderr, "\r\033[K[%s] %5.1f%% %s / %s  %s  ETA %s  files %u/%u", bar, pct, done,
		total, r, eta, st->files_done + st->files_failed, st->files_total);
	out->bar_drawn = true;
	if (last) {
		fputc('\n', stderr);
		out->bar_drawn = false;
	}
	fflush(stderr);
}

int
main(int argc, char **argv)
{
	struct sl_sender_list list = { 0 };
	struct sl_sender_config cfg = { 0 };
	struct sl_sender_stats st = { 0 };
	const struct sl_auth_key *key = NULL;
	struct sl_auth *auth = NULL;
	struct sl_sender_opts o;
	struct output out = { 0 };
	struct timespec t0, t1;
	char err[512];
	int ret, code = 0;

	if (sl_sender_opts_parse(&o, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "sluice-send: %s\n%s", err, sl_sender_usage());
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(sl_sender_usage(), stdout);
		return 0;
	}
	out.quiet = o.quiet;
	out.verbose = o.verbose;
	out.bar = !o.quiet && isatty(STDERR_FILENO);

	if (o.psk_file != NULL) {
		auth = calloc(1, sizeof(*auth));
		if (auth == NULL || sl_auth_init(auth) != 0) {
			fprintf(stderr, "sluice-send: out of memory\n");
			return EXIT_USAGE;
		}
		if (sl_auth_load_keys(auth, o.psk_file, err, sizeof(err)) != 0) {
			fprintf(stderr, "sluice-send: --psk-file: %s\n", err);
			free(auth);
			return EXIT_USAGE;
		}
		key = o.psk_id != NULL ? sl_auth_find_key(auth, o.psk_id, strlen(o.psk_id))
				       : &auth->keys[0];
		if (key == NULL) {
			fprintf(stderr, "sluice-send: --psk-id: no key '%s' in %s\n", o.psk_id,
				o.psk_file);
			free(auth);
			return EXIT_USAGE;
		}
	} else if (o.psk_id != NULL) {
		fprintf(stderr, "sluice-send: --psk-id needs --psk-file\n");
		return EXIT_USAGE;
	}

	ret = sl_sender_list_build(&list, o.sources, o.nb_sources, o.name, warn_cb, &out);
	if (ret != 0) {
		fprintf(stderr, "sluice-send: %s\n",
			ret == -EINVAL ? "--name needs exactly one SOURCE" : strerror(-ret));
		sl_sender_list_free(&list);
		free(auth);
		return ret == -EINVAL ? EXIT_USAGE : EXIT_FAILED_FILE;
	}

	cfg.max_payload = o.max_payload;
	cfg.chunk_size = o.chunk_size;
	cfg.rate_bps = o.rate_bps;
	cfg.timeout_ns = o.timeout_ms * 1000000ull;
	cfg.key = key;
	if (o.verbose) {
		cfg.log = log_cb;
		cfg.log_arg = &out;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = sl_sender_run(&o, &cfg, &list, progress_cb, &out, &st, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret != 0 && !o.quiet)
		fprintf(stderr, "sluice-send: %s\n", err);

	if (ret == -ETIMEDOUT || ret == -ECONNREFUSED || ret == -EHOSTUNREACH) {
		code = EXIT_NO_SESSION;
		/* Files not yet final never got a session: say so in the summary. */
		for (unsigned i = 0; i < list.count; i++)
			if (list.files[i].status == SL_SENDER_PENDING)
				list.files[i].status = ret == -ECONNREFUSED ? SL_SENDER_REJECTED
									    : SL_SENDER_TIMEOUT;
	} else if (ret != 0) {
		code = EXIT_NO_SESSION;
	}
	for (unsigned i = 0; i < list.count; i++) {
		const struct sl_sender_file *f = &list.files[i];

		if (f->status != SL_SENDER_OK) {
			if (code == 0)
				code = EXIT_FAILED_FILE;
			if (!o.quiet && !o.json && ret == 0)
				fprintf(stderr, "sluice-send: %s: %s\n", f->name,
					sl_sender_status_name(f->status));
		}
	}
	if (o.json)
		sl_sender_json(stdout, &list, &st,
			       (double)(t1.tv_sec - t0.tv_sec) +
				       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	fflush(stdout);
	sl_sender_list_free(&list);
	free(auth);
	return code;
}
