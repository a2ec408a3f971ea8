/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_APP_H
#define SL_APP_H

/**
 * @file
 * The application's state and its control-plane operations, shared by
 * main.c (start-up, the non-interactive loop, teardown) and cli.c (the
 * sluice> prompt). Everything here runs on the main lcore only.
 */

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "sl_capture.h"
#include "sl_common.h"
#include "sl_config.h"
#include "sl_auth.h"
#include "sl_filter.h"
#include "sl_ingest.h"
#include "sl_net.h"
#include "sl_layout.h"
#include "sl_pcap.h"
#include "sl_profile.h"
#include "sl_rx.h"
#include "sl_stats.h"

#define SL_APP_MAX_SOCKETS 8

struct app {
	struct sl_config cfg;
	struct sl_profile profile; /* --profile; path "" = none */
	struct sl_layout layout;
	struct sl_clock clock;
	uint64_t tsc_hz;
	int ts_offset;
	unsigned nb_ports;
	uint16_t port_ids[SL_MAX_PORTS];
	char port_names[SL_MAX_PORTS][RTE_ETH_NAME_MAX_LEN];
	struct sl_pcap_iface ifaces[SL_MAX_PORTS];
	struct rte_mempool *pools[SL_APP_MAX_SOCKETS];
	struct sl_rx_lcore *rx[SL_MAX_LCORES];
	struct sl_rx_stats *rx_stats[SL_MAX_LCORES];
	struct sl_capture_lcore *wr[SL_MAX_LCORES];
	struct sl_writer_stats *wr_stats[SL_MAX_LCORES];
	void *wr_mem[SL_MAX_LCORES];
	struct rte_ring *rings[SL_MAX_LCORES][SL_MAX_LCORES]; /* [rx][writer] */
	/* File mode */
	struct sl_ingest_lcore *fw[SL_MAX_LCORES];        /* writer lcores */
	struct sl_session_stats *fw_stats[SL_MAX_LCORES]; /* their engines' counters */
	struct sl_net_iface net_ifaces[SL_MAX_PORTS];     /* our addresses, by port id */
	struct sl_auth *auth;
	struct rte_ring *tx_relay[SL_MAX_PORTS]; /* by port id: writers' replies via RX */
	struct sl_filter_slot *filter;
	int stop;           /* RX lcores stop when set (atomic) */
	int rx_running;     /* RX lcores still running (atomic) */
	uint64_t budget;    /* --max-packets left (atomic) */
	uint64_t start_tsc; /* first start */
	uint64_t run_tsc;   /* current start */
	bool started;
	bool quit;
	bool failed; /* a writer failed: exit non-zero */
	bool ports_started[SL_MAX_PORTS];
	/* --stats-period bookkeeping */
	uint64_t next_print;
	uint64_t last_print;
	struct sl_fate prev_port[SL_MAX_PORTS];
	uint64_t prev_wbytes[SL_MAX_LCORES];
};

/** Begin ingest: launch writers, start ports, launch RX lcores. @return 0, -EALREADY, -EIO. */
int app_start(struct app *a);

/** Pause ingest: stop RX, let writers drain and finish their files. @return 0, -EALREADY, -EIO. */
int app_stop(struct app *a);

/** Fill a view of every counter (live while running). */
void app_fill_view(struct app *a, struct sl_stats_view *v);

/** Hand the current --format, --snaplen and rotation to running writers (next file). */
void app_push_live(struct app *a);

/**
 * Replace the capture filter (NULL or "" removes it); safe while packets
 * flow. On a compile error the old filter stays and @p err says why.
 *
 * @return 0 or -EINVAL.
 */
int app_set_filter(struct app *a, const char *expr, char *err, size_t errlen);

/** Periodic control work: signals, --duration, --max-packets, --stats-period. */
void app_tick(struct app *a);

/** Print the per-port and per-writer rate lines of --stats-period now. */
void app_print_period(struct app *a);

/**
 * Run the sluice> prompt (cli.c) until quit, after the commands of
 * @p cmdline_file (may be NULL).
 *
 * @return 0, or -errno if the prompt could not be created.
 */
int sl_cli_run(struct app *a, const char *cmdline_file);

/**
 * Run --perf-test=disk (app/perf.c): the writer lcores alone, then report.
 * @return the exit code: 0, 1 (a writer failed), 2 (bad lcores).
 */
int app_perf_test(struct app *a);

/**
 * Capture mode, before the writers first start (app/recover.c): repair the files an
 * earlier run left unfinished in --dir, report each, and make every writer's series
 * continue after the highest sequence number it has used there.
 * @return 0, or -errno if --dir cannot be read.
 */
int app_recover(struct app *a);

/** The "recovery" and "recovered" members of --stats-json (a sl_stats_view extra_json). */
void app_recover_json(FILE *f, void *arg);

#endif /* SL_APP_H */
