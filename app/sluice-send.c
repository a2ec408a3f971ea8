/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-send: send files and directories to a sluice receiver over ordinary
 * kernel UDP sockets, or with --dpdk from a DPDK port. Everything but option
 * handling, EAL and output lives in lib/sender and lib/sendpmd.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "sl_auth.h"
#include "sl_sender.h"
#include "sl_sendpmd.h"

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

/* Set by SIGINT and SIGTERM in DPDK mode: the loop stops and the summary follows. */
static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
print_dpdk_stats(const struct sl_sendpmd_stats *ps)
{
	fprintf(stderr,
		"sluice-send: dpdk: rx %llu frames (%llu datagrams, %llu ARP requests, %llu "
		"from others, %llu dropped); tx %llu frames %llu bytes (%llu busy, %llu dropped, "
		"%llu without mbuf); %llu ARP requests sent; %llu idle sleeps\n",
		(unsigned long long)ps->rx_frames, (unsigned long long)ps->rx_datagrams,
		(unsigned long long)ps->rx_arp_requests, (unsigned long long)ps->rx_wrong_peer,
		(unsigned long long)ps->rx_dropped, (unsigned long long)ps->tx_frames,
		(unsigned long long)ps->tx_bytes, (unsigned long long)ps->tx_busy,
		(unsigned long long)ps->tx_dropped, (unsigned long long)ps->tx_nombuf,
		(unsigned long long)ps->arp_requests_sent, (unsigned long long)ps->idle_sleeps);
}

/* Everything after the options: keys, the walk, the transfer (socket or DPDK), the summary.
 * @return the exit status. */
static int
send_files(const struct sl_sender_opts *po_sender, const struct sl_sendpmd_opts *pmd)
{
	const struct sl_sender_opts o = *po_sender;
	struct sl_sender_list list = { 0 };
	struct sl_sender_config cfg = { 0 };
	struct sl_sender_stats st = { 0 };
	struct sl_sendpmd_stats pst = { 0 };
	const struct sl_auth_key *key = NULL;
	struct sl_auth *auth = NULL;
	struct output out = { 0 };
	struct timespec t0, t1;
	char err[512];
	int ret, code = 0;

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
	if (pmd == NULL)
		ret = sl_sender_run(&o, &cfg, &list, progress_cb, &out, &st, err, sizeof(err));
	else
		ret = sl_sendpmd_run(pmd, &o, &cfg, &list, progress_cb, &out, &stop_requested, &st,
				     &pst, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret != 0 && !o.quiet)
		fprintf(stderr, "sluice-send: %s\n", err);
	if (pmd != NULL && o.verbose)
		print_dpdk_stats(&pst);

	if (pmd != NULL && ret == -EINTR) {
		/* Stopped by a signal: the files not final stay "pending" in the summary. */
		code = EXIT_FAILED_FILE;
	} else if (pmd != NULL && ret != 0 && ret != -ETIMEDOUT && ret != -ECONNREFUSED &&
		   ret != -EHOSTUNREACH) {
		/* The device could not be set up: like bad EAL arguments, a usage error. */
		code = EXIT_USAGE;
	} else if (ret == -ETIMEDOUT || ret == -ECONNREFUSED || ret == -EHOSTUNREACH) {
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
		/* DPDK mode: the transfer's own time, without the port's setup and ARP. */
		sl_sender_json(stdout, &list, &st,
			       pmd != NULL && pst.transfer_ns != 0
				       ? (double)pst.transfer_ns / 1e9
				       : (double)(t1.tv_sec - t0.tv_sec) +
						 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	fflush(stdout);
	sl_sender_list_free(&list);
	free(auth);
	return code;
}

/* sluice-send --dpdk [EAL args] -- [options] --src-ip=ADDR/PREFIX HOST SOURCE... */
static int
main_dpdk(int argc, char **argv)
{
	char **eal_argv = calloc((size_t)argc + 1, sizeof(char *));
	char **app_argv = calloc((size_t)argc + 1, sizeof(char *));
	struct sl_sendpmd_opts po;
	struct sl_sender_opts o;
	int eal_argc = 0, app_argc = 0, code;
	uint32_t dst_ip, hop;
	char err[512];

	if (eal_argv == NULL || app_argv == NULL) {
		fprintf(stderr, "sluice-send: out of memory\n");
		return EXIT_USAGE;
	}
	if (sl_sendpmd_split_args(argc, argv, eal_argv, &eal_argc, app_argv, &app_argc, err,
				  sizeof(err)) != 0 ||
	    sl_sendpmd_opts_extract(&po, &app_argc, app_argv, err, sizeof(err)) < 0 ||
	    sl_sender_opts_parse(&o, app_argc, app_argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "sluice-send: %s\n%s%s", err, sl_sender_usage(),
			sl_sendpmd_usage());
		code = EXIT_USAGE;
		goto out;
	}
	if (o.help) {
		fputs(sl_sender_usage(), stdout);
		fputs(sl_sendpmd_usage(), stdout);
		code = 0;
		goto out;
	}
	if (sl_sendpmd_opts_check(&po, &o, &dst_ip, err, sizeof(err)) != 0 ||
	    (sl_sendpmd_next_hop(po.src_ip, po.src_prefix, dst_ip, po.gateway, &hop) != 0 &&
	     snprintf(err, sizeof(err), "%s is outside --src-ip's network: give --gateway=ADDR",
		      o.host) > 0)) {
		fprintf(stderr, "sluice-send: %s\n", err);
		code = EXIT_USAGE;
		goto out;
	}
	/* EAL logs to stdout by default; stdout is for --json. */
	rte_openlog_stream(stderr);
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "sluice-send: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		code = EXIT_USAGE;
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	code = send_files(&o, &po);
	rte_eal_cleanup();
out:
	free(eal_argv);
	free(app_argv);
	return code;
}

int
main(int argc, char **argv)
{
	struct sl_sender_opts o;
	const char *dpdk_only;
	char err[512];

	if (argc > 1 && strcmp(argv[1], "--dpdk") == 0)
		return main_dpdk(argc, argv);
	dpdk_only = sl_sendpmd_find_option(argc, argv);
	if (dpdk_only != NULL) {
		fprintf(stderr,
			"sluice-send: %s: only in DPDK mode (sluice-send --dpdk [EAL args] -- "
			"[options] HOST SOURCE...)\n",
			dpdk_only);
		return EXIT_USAGE;
	}
	if (sl_sender_opts_parse(&o, argc, argv, err, sizeof(err)) != 0) {
		for (int i = 2; i < argc; i++)
			if (strcmp(argv[i], "--dpdk") == 0)
				snprintf(err, sizeof(err), "--dpdk must be the first argument");
		fprintf(stderr, "sluice-send: %s\n%s", err, sl_sender_usage());
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(sl_sender_usage(), stdout);
		fputs(sl_sendpmd_usage(), stdout);
		return 0;
	}
	return send_files(&o, NULL);
}
