/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sluice> prompt (-i): testpmd's command model on librte_cmdline. Each
 * command is a token table with a help string; "help" lists them all.
 *
 * Everything here runs on the main lcore, between app_tick() calls, so the
 * commands may call the app_*() operations directly. Counters owned by the RX
 * and writer lcores are only read; while a capture runs they may be a burst
 * stale. Output goes through stdio and is flushed before a command returns,
 * because librte_cmdline writes its prompt straight to the file descriptor.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_string.h>
#include <cmdline_rdline.h>
#include <cmdline_socket.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "app.h"
#include "sl_telemetry.h"

#define PROMPT "sluice> "
/* Longest wait for a key before the next app_tick(); --stats-period and the
 * stop conditions are checked at least this often. */
#define TICK_MS 10
/* Characters handled per tick at most, so that a long paste cannot hold off
 * app_tick() (signals, --duration) for long. */
#define KEYS_PER_TICK 4096
#define KIB 1024ull
#define TIB (KIB * KIB * KIB * KIB)
#define MAX_ROTATE_SECONDS (365u * 86400u)
#define MAX_STATS_PERIOD 86400u
#define STATS_BORDER "########################"

/* The callbacks of librte_cmdline take no application argument. */
static struct app *cli_app;
/* "quit" was typed: the cursor is already at the start of a line. */
static bool quit_typed;

/* Per port index: counters at the previous "show port stats", for the rates. */
static uint64_t last_tsc[SL_MAX_PORTS];
static uint64_t last_ipackets[SL_MAX_PORTS];
static uint64_t last_ibytes[SL_MAX_PORTS];

/* Ends every command: the prompt that follows is written with write(2). */
static void
done(void)
{
	fflush(stdout);
}

/* Capture settings mean nothing to file mode: say so rather than pretend. */
static bool
capture_only(const struct app *a)
{
	if (a->cfg.mode == SL_MODE_CAPTURE)
		return false;
	printf("Refused: this setting is for --mode=capture; sluice runs in --mode=file.\n");
	done();
	return true;
}

/* Append "1,3-5" style text of a sorted id list to buf. */
static void
list_append(char *buf, size_t len, bool *first, unsigned lo, unsigned hi)
{
	size_t n = strlen(buf);

	if (n >= len)
		return;
	if (lo == hi)
		snprintf(buf + n, len - n, "%s%u", *first ? "" : ",", lo);
	else
		snprintf(buf + n, len - n, "%s%u-%u", *first ? "" : ",", lo, hi);
	*first = false;
}

static const char *
cpuset_text(const rte_cpuset_t *set, char *buf, size_t len)
{
	bool first = true;
	int lo = -1;

	buf[0] = '\0';
	for (int c = 0; c <= CPU_SETSIZE; c++) {
		bool in = c < CPU_SETSIZE && CPU_ISSET(c, set);

		if (in && lo < 0)
			lo = c;
		else if (!in && lo >= 0) {
			list_append(buf, len, &first, (unsigned)lo, (unsigned)c - 1);
			lo = -1;
		}
	}
	if (first)
		snprintf(buf, len, "none");
	return buf;
}

static const char *
lcore_list_text(const uint16_t *ids, unsigned n, char *buf, size_t len)
{
	bool first = true;

	buf[0] = '\0';
	for (unsigned i = 0; i < n;) {
		unsigned j = i;

		while (j + 1 < n && ids[j + 1] == ids[j] + 1)
			j++;
		list_append(buf, len, &first, ids[i], ids[j]);
		i = j + 1;
	}
	return buf;
}

/* The ports the capture uses, as "0,1", for error messages. */
static const char *
port_list_text(const struct app *a, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < a->nb_ports && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%u", i ? "," : "", a->port_ids[i]);
	return buf;
}

/*
 * Resolve "all" or a port id to indexes into a->port_ids. Prints the reason
 * and returns 0 if the argument names no port of the capture.
 */
static unsigned
select_ports(const struct app *a, const char *arg, unsigned idx[SL_MAX_PORTS])
{
	char ports[SL_MAX_PORTS * 6];
	uint64_t id;

	if (strcmp(arg, "all") == 0) {
		for (unsigned i = 0; i < a->nb_ports; i++)
			idx[i] = i;
		return a->nb_ports;
	}
	if (sl_parse_u64(arg, 0, UINT16_MAX, &id) == 0)
		for (unsigned i = 0; i < a->nb_ports; i++)
			if (a->port_ids[i] == id) {
				idx[0] = i;
				return 1;
			}
	printf("Invalid port '%s': give a port id (%s) or all.\n", arg,
	       port_list_text(a, ports, sizeof(ports)));
	return 0;
}

/* Why sl_parse_u64() or sl_parse_size() refused a value. */
static const char *
parse_error_text(int rc)
{
	return rc == -ERANGE ? "out of range" : "not a number";
}

/* Drop the blanks a multi-word token keeps before the end of the line. */
static void
trim_right(char *s)
{
	size_t n = strlen(s);

	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
}

/* Settings handed to the writers take effect at a file boundary. */
static void
push_live_and_say(struct app *a, const char *what)
{
	app_push_live(a);
	if (a->started)
		printf("%s: the writers finish their current file and start the next one with "
		       "it.\n",
		       what);
	else
		printf("%s: the next start uses it.\n", what);
}

/* *** start, stop, quit *** */

struct cmd_word_result {
	cmdline_fixed_string_t word;
};

static void
cmd_start_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	struct app *a = cli_app;
	int rc = app_start(a);

	if (rc == 0 && a->cfg.mode == SL_MODE_FILE)
		printf("File mode started: receiving on UDP port %u.\n", a->cfg.udp_port);
	else if (rc == 0)
		printf("Capture started.\n");
	else if (rc == -EALREADY)
		printf("Already started.\n");
	else
		printf("Capture not started (see the error above).\n");
	done();
}

static cmdline_parse_token_string_t cmd_start_word =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "start");

static cmdline_parse_inst_t cmd_start = {
	.f = cmd_start_parsed,
	.help_str = "start: start the capture (the writers, then the ports and RX lcores)",
	.tokens = {
		(void *)&cmd_start_word,
		NULL,
	},
};

static void
cmd_stop_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	int rc = app_stop(cli_app);

	if (rc == 0 && cli_app->cfg.mode == SL_MODE_FILE)
		printf("File mode stopped; verified chunks are durable for resume, sessions closed.\n");
	else if (rc == 0)
		printf("Capture stopped; files flushed.\n");
	else if (rc == -EALREADY)
		printf("Not started.\n");
	else
		printf("Capture stopped with writer errors: some files were cut short (see the "
		       "error above).\n");
	done();
}

static cmdline_parse_token_string_t cmd_stop_word =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "stop");

static cmdline_parse_inst_t cmd_stop = {
	.f = cmd_stop_parsed,
	.help_str = "stop: stop the capture; the writers drain the rings and finish their files",
	.tokens = {
		(void *)&cmd_stop_word,
		NULL,
	},
};

static void
cmd_quit_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	cli_app->quit = true;
	quit_typed = true;
	cmdline_quit(cl);
}

static cmdline_parse_token_string_t cmd_quit_word =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "quit");

static cmdline_parse_inst_t cmd_quit = {
	.f = cmd_quit_parsed,
	.help_str = "quit: stop the capture if it runs, print the summary and exit (also Ctrl-D)",
	.tokens = {
		(void *)&cmd_quit_word,
		NULL,
	},
};

/* *** show port info|stats|xstats, clear port stats *** */

struct cmd_port_result {
	cmdline_fixed_string_t verb;
	cmdline_fixed_string_t port;
	cmdline_fixed_string_t what;
	cmdline_fixed_string_t id;
};

static void
port_info(struct app *a, unsigned i)
{
	uint16_t pid = a->port_ids[i];
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	struct rte_eth_link link;
	char mac_text[RTE_ETHER_ADDR_FMT_SIZE];
	int promisc, socket;

	printf("\n********************* Infos for port %-2u *********************\n", pid);
	printf("Name: %s\n", a->port_names[i]);
	if (rte_eth_dev_info_get(pid, &info) == 0)
		printf("Driver: %s\n", info.driver_name);
	else
		printf("Driver: unknown (cannot get the device info)\n");
	socket = rte_eth_dev_socket_id(pid);
	if (socket < 0)
		printf("Socket: any (the device has no NUMA affinity)\n");
	else
		printf("Socket: %d\n", socket);
	if (rte_eth_macaddr_get(pid, &mac) == 0) {
		rte_ether_format_addr(mac_text, sizeof(mac_text), &mac);
		printf("MAC address: %s\n", mac_text);
	} else {
		printf("MAC address: unknown\n");
	}
	/* rte_eth_link_to_str() is still experimental in 22.11. */
	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(pid, &link) != 0)
		printf("Link: unknown\n");
	else if (link.link_status == RTE_ETH_LINK_DOWN)
		printf("Link: down\n");
	else if (link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN)
		printf("Link: up, speed unknown, %s-duplex\n",
		       link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
	else
		printf("Link: up, %" PRIu32 " Mbps, %s-duplex%s\n", link.link_speed,
		       link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half",
		       link.link_autoneg == RTE_ETH_LINK_AUTONEG ? ", autoneg" : "");
	promisc = rte_eth_promiscuous_get(pid);
	if (promisc < 0)
		printf("Promiscuous mode: unknown\n");
	else
		printf("Promiscuous mode: %s\n", promisc ? "enabled" : "disabled");
	printf("Started: %s\n", a->ports_started[i] ? "yes" : "no");
	printf("RX queues in use: %u\n", a->layout.nb_rxq[i]);
	for (unsigned q = 0; q < a->layout.nb_queues; q++) {
		const struct sl_layout_queue *lq = &a->layout.queues[q];

		if (lq->port != pid)
			continue;
		printf("  RX queue %u: polled by lcore %u (rx %u), written by lcore %u "
		       "(writer %u)\n",
		       lq->queue, a->layout.rx_lcore[lq->rx], lq->rx,
		       a->layout.writer_lcore[lq->writer], lq->writer);
	}
}

static void
port_stats(struct app *a, unsigned i)
{
	uint16_t pid = a->port_ids[i];
	struct rte_eth_stats st;
	struct sl_stats_view v;
	struct sl_fate f;
	uint64_t now, dp = 0, db = 0, pps = 0, bps = 0;

	if (rte_eth_stats_get(pid, &st) != 0) {
		printf("Cannot read the statistics of port %u.\n", pid);
		return;
	}
	app_fill_view(a, &v);
	sl_stats_fate(&v, pid, &f);

	now = rte_rdtsc();
	/* After "clear port stats" the NIC's counters restart below the last ones. */
	if (st.ipackets >= last_ipackets[i])
		dp = st.ipackets - last_ipackets[i];
	if (st.ibytes >= last_ibytes[i])
		db = st.ibytes - last_ibytes[i];
	if (last_tsc[i] != 0 && now > last_tsc[i]) {
		double dt = (double)(now - last_tsc[i]) / (double)a->tsc_hz;

		pps = (uint64_t)((double)dp / dt);
		bps = (uint64_t)((double)db * 8 / dt);
	}
	last_tsc[i] = now;
	last_ipackets[i] = st.ipackets;
	last_ibytes[i] = st.ibytes;

	printf("\n  %s NIC statistics for port %-2u %s\n", STATS_BORDER, pid, STATS_BORDER);
	printf("  RX-packets: %-10" PRIu64 " RX-missed: %-10" PRIu64 " RX-bytes:  %" PRIu64 "\n",
	       st.ipackets, st.imissed, st.ibytes);
	printf("  RX-errors: %" PRIu64 "\n", st.ierrors);
	printf("  RX-nombuf:  %" PRIu64 "\n", st.rx_nombuf);
	printf("  Written: %-13" PRIu64 " Filtered: %-11" PRIu64 " Dropped: %" PRIu64
	       " (ring_full %" PRIu64 ", writer_nobuf %" PRIu64 ", write_error %" PRIu64 ")\n",
	       f.written, f.filtered, sl_fate_drops(&f), f.ring_full, f.writer_nobuf,
	       f.write_error);
	printf("\n  Throughput (since last show)\n");
	printf("  Rx-pps: %12" PRIu64 "          Rx-bps: %12" PRIu64 "\n", pps, bps);
	printf("  %s############################%s\n", STATS_BORDER, STATS_BORDER);
}

static void
port_xstats(unsigned i)
{
	uint16_t pid = cli_app->port_ids[i];
	struct rte_eth_xstat_name *names = NULL;
	struct rte_eth_xstat *values = NULL;
	int n, got;

	n = rte_eth_xstats_get_names(pid, NULL, 0);
	if (n < 0) {
		printf("Cannot read the extended statistics of port %u: %s\n", pid, strerror(-n));
		return;
	}
	printf("###### NIC extended statistics for port %-2u\n", pid);
	if (n == 0)
		return;
	names = calloc((size_t)n, sizeof(*names));
	values = calloc((size_t)n, sizeof(*values));
	if (names == NULL || values == NULL) {
		printf("Out of memory.\n");
		goto out;
	}
	if (rte_eth_xstats_get_names(pid, names, (unsigned)n) != n) {
		printf("Cannot read the extended statistic names of port %u.\n", pid);
		goto out;
	}
	got = rte_eth_xstats_get(pid, values, (unsigned)n);
	if (got < 0 || got > n) {
		printf("Cannot read the extended statistics of port %u.\n", pid);
		goto out;
	}
	for (int k = 0; k < got; k++)
		if (values[k].id < (uint64_t)n)
			printf("%s: %" PRIu64 "\n", names[values[k].id].name, values[k].value);
out:
	free(values);
	free(names);
}

static void
port_clear(struct app *a, unsigned i)
{
	uint16_t pid = a->port_ids[i];
	int rc = rte_eth_stats_reset(pid);

	if (rc != 0) {
		printf("Cannot clear the statistics of port %u: %s\n", pid, strerror(-rc));
		return;
	}
	/* Not every driver has extended statistics to reset. */
	rte_eth_xstats_reset(pid);
	last_tsc[i] = rte_rdtsc();
	last_ipackets[i] = 0;
	last_ibytes[i] = 0;
	printf("\n  NIC statistics for port %u cleared\n", pid);
}

static void
cmd_port_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	struct cmd_port_result *res = parsed_result;
	struct app *a = cli_app;
	unsigned idx[SL_MAX_PORTS];
	unsigned n = select_ports(a, res->id, idx);

	for (unsigned k = 0; k < n; k++) {
		if (strcmp(res->verb, "clear") == 0)
			port_clear(a, idx[k]);
		else if (strcmp(res->what, "info") == 0)
			port_info(a, idx[k]);
		else if (strcmp(res->what, "stats") == 0)
			port_stats(a, idx[k]);
		else
			port_xstats(idx[k]);
	}
	done();
}

static cmdline_parse_token_string_t cmd_port_show =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, verb, "show");
static cmdline_parse_token_string_t cmd_port_clear =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, verb, "clear");
static cmdline_parse_token_string_t cmd_port_port =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, port, "port");
static cmdline_parse_token_string_t cmd_port_info =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, what, "info");
static cmdline_parse_token_string_t cmd_port_stats =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, what, "stats");
static cmdline_parse_token_string_t cmd_port_xstats =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, what, "xstats");
/* Any word: "all" or a port id, checked by select_ports() with our messages. */
static cmdline_parse_token_string_t cmd_port_id =
	TOKEN_STRING_INITIALIZER(struct cmd_port_result, id, NULL);

static cmdline_parse_inst_t cmd_show_port_info = {
	.f = cmd_port_parsed,
	.help_str = "show port info <port_id>|all: driver, socket, MAC, link, promiscuous mode, "
		    "RX queues and the lcores that poll and write them",
	.tokens = {
		(void *)&cmd_port_show,
		(void *)&cmd_port_port,
		(void *)&cmd_port_info,
		(void *)&cmd_port_id,
		NULL,
	},
};

static cmdline_parse_inst_t cmd_show_port_stats = {
	.f = cmd_port_parsed,
	.help_str = "show port stats <port_id>|all: NIC counters, packets written, filtered and "
		    "dropped, and rates since the last show",
	.tokens = {
		(void *)&cmd_port_show,
		(void *)&cmd_port_port,
		(void *)&cmd_port_stats,
		(void *)&cmd_port_id,
		NULL,
	},
};

static cmdline_parse_inst_t cmd_show_port_xstats = {
	.f = cmd_port_parsed,
	.help_str = "show port xstats <port_id>|all: every extended statistic of the NIC",
	.tokens = {
		(void *)&cmd_port_show,
		(void *)&cmd_port_port,
		(void *)&cmd_port_xstats,
		(void *)&cmd_port_id,
		NULL,
	},
};

static cmdline_parse_inst_t cmd_clear_port_stats = {
	.f = cmd_port_parsed,
	.help_str = "clear port stats <port_id>|all: reset the NIC's counters and xstats (also "
		    "in the final summary); sluice's own packet counters are kept, so they still "
		    "balance",
	.tokens = {
		(void *)&cmd_port_clear,
		(void *)&cmd_port_port,
		(void *)&cmd_port_stats,
		(void *)&cmd_port_id,
		NULL,
	},
};

/* *** show lcores, show ring stats, show writer stats, show config *** */

struct cmd_show_result {
	cmdline_fixed_string_t show;
	cmdline_fixed_string_t what;
	cmdline_fixed_string_t stats;
};

static int
layout_index(const uint16_t *ids, unsigned n, unsigned lcore)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == lcore)
			return (int)i;
	return -1;
}

static void
cmd_show_lcores_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	const struct app *a = cli_app;
	const struct sl_layout *l = &a->layout;
	unsigned lc;

	/* RTE_LCORE_FOREACH, spelled out so that clang-format leaves it alone. */
	for (lc = rte_get_next_lcore(-1, 0, 0); lc < RTE_MAX_LCORE;
	     lc = rte_get_next_lcore(lc, 0, 0)) {
		int rx = layout_index(l->rx_lcore, l->nb_rx, lc);
		int wr = layout_index(l->writer_lcore, l->nb_writers, lc);
		bool is_main = lc == rte_get_main_lcore();
		rte_cpuset_t set = rte_lcore_cpuset(lc);
		const char *role = is_main ? "main" : rx >= 0 ? "rx" : wr >= 0 ? "writer" : "idle";
		const char *state;
		char cpus[256];

		/* An RX lcore whose --max-packets budget ran out has returned while the
		 * capture is still started: it waits for the next start. */
		if (is_main || rte_eal_get_lcore_state(lc) == RUNNING)
			state = "running";
		else if ((rx >= 0 || wr >= 0) && !a->started)
			state = "stopped";
		else
			state = "waiting";
		printf("lcore %-3u %-6s socket %-2u cpus %-12s %-8s", lc, role,
		       rte_lcore_to_socket_id(lc), cpuset_text(&set, cpus, sizeof(cpus)), state);
		if (is_main) {
			printf(" control: prompt, counters, start and stop");
		} else if (rx >= 0) {
			const char *sep = " polls ";

			for (unsigned q = 0; q < l->nb_queues; q++)
				if (l->queues[q].rx == rx) {
					printf("%sport %u queue %u", sep, l->queues[q].port,
					       l->queues[q].queue);
					sep = ", ";
				}
			printf(" (rx %d)", rx);
		} else if (wr >= 0) {
			const char *sep = " drains ";

			for (unsigned r = 0; r < l->nb_rx; r++)
				if (a->rings[r][wr] != NULL) {
					printf("%s%s", sep, a->rings[r][wr]->name);
					sep = ", ";
				}
			printf(" (writer %d)", wr);
		}
		printf("\n");
	}
	done();
}

static cmdline_parse_token_string_t cmd_show_show =
	TOKEN_STRING_INITIALIZER(struct cmd_show_result, show, "show");
static cmdline_parse_token_string_t cmd_show_lcores_word =
	TOKEN_STRING_INITIALIZER(struct cmd_show_result, what, "lcores");

static cmdline_parse_inst_t cmd_show_lcores = {
	.f = cmd_show_lcores_parsed,
	.help_str = "show lcores: role, socket, CPUs and state of each lcore, the queues each RX "
		    "lcore polls and the rings each writer drains",
	.tokens = {
		(void *)&cmd_show_show,
		(void *)&cmd_show_lcores_word,
		NULL,
	},
};

static void
cmd_show_ring_stats_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	/* A ring carries at least one queue. */
	static struct sl_telemetry_ring rings[SL_LAYOUT_MAX_QUEUES];
	struct app *a = cli_app;
	unsigned n = sl_telemetry_layout_rings(&a->layout, a->rx_stats, a->rings, rings,
					       SL_ARRAY_SIZE(rings));

	for (unsigned i = 0; i < n; i++) {
		const struct sl_telemetry_ring *t = &rings[i];

		printf("ring %-12s rx lcore %-3u -> writer %u (lcore %u)  capacity %u  count %u  "
		       "enqueued %" PRIu64 "  full-drops %" PRIu64 " (ring_full %" PRIu64
		       ", writer_nobuf %" PRIu64 ")\n",
		       t->name, t->rx_lcore, t->writer, t->writer_lcore,
		       rte_ring_get_capacity(t->ring), rte_ring_count(t->ring), t->enqueued,
		       t->ring_full + t->writer_nobuf, t->ring_full, t->writer_nobuf);
	}
	if (n == 0)
		printf("No rings.\n");
	done();
}

static cmdline_parse_token_string_t cmd_show_ring_word =
	TOKEN_STRING_INITIALIZER(struct cmd_show_result, what, "ring");
static cmdline_parse_token_string_t cmd_show_stats_word =
	TOKEN_STRING_INITIALIZER(struct cmd_show_result, stats, "stats");

static cmdline_parse_inst_t cmd_show_ring_stats = {
	.f = cmd_show_ring_stats_parsed,
	.help_str = "show ring stats: each RX-to-writer ring: capacity, occupancy now, packets "
		    "enqueued and dropped because it was full",
	.tokens = {
		(void *)&cmd_show_show,
		(void *)&cmd_show_ring_word,
		(void *)&cmd_show_stats_word,
		NULL,
	},
};

static void
cmd_show_writer_stats_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	const struct app *a = cli_app;

	if (a->cfg.mode == SL_MODE_FILE) {
		for (unsigned w = 0; w < a->layout.nb_writers; w++) {
			if (a->fw_stats[w] == NULL)
				continue;
			printf("\n  writer %u (lcore %u), sessions active %" PRIu64
			       ", files in progress %" PRIu64 ", chunk buffers free %" PRIu64 "\n",
			       w, a->layout.writer_lcore[w], a->fw_stats[w]->sessions_active,
			       a->fw_stats[w]->files_active, a->fw_stats[w]->buffers_free);
			sl_ingest_stats_summary(stdout, a->fw_stats[w]);
		}
		done();
		return;
	}

	for (unsigned w = 0; w < a->layout.nb_writers; w++) {
		const struct sl_writer_stats *ws = a->wr_stats[w];
		const struct sl_io_stats *io;
		struct sl_fate f;
		char title[64];

		if (ws == NULL)
			continue;
		io = &ws->io;
		sl_stats_writer_fate(ws, -1, &f);
		snprintf(title, sizeof(title), "Writer %u (lcore %u)", w,
			 a->layout.writer_lcore[w]);
		printf("\n  %s %s %s\n", STATS_BORDER, title, STATS_BORDER);
		printf("  Written: %" PRIu64 " records, %" PRIu64
		       " captured bytes; files hold %" PRIu64 " bytes\n",
		       f.written, f.written_bytes, ws->file_bytes);
		printf("  Dropped: writer_nobuf %" PRIu64 ", write_error %" PRIu64
		       "; truncated to snaplen %" PRIu64 "\n",
		       f.writer_nobuf, f.write_error, f.truncated);
		printf("  Files: opened %" PRIu64 ", closed %" PRIu64 ", errors %" PRIu64 "\n",
		       ws->files_opened, ws->files_closed, ws->file_errors);
		printf("  Buffers: in flight %" PRIu64 ", free %" PRIu64 ", flushed early %" PRIu64
		       "\n",
		       ws->buffers_in_flight, ws->buffers_free, ws->partial_flushes);
		printf("  I/O: writes %" PRIu64 ", write_bytes %" PRIu64 ", fsyncs %" PRIu64
		       ", short_writes %" PRIu64 ", retries %" PRIu64 ", errors %" PRIu64
		       ", enospc %" PRIu64 "\n",
		       io->writes, io->write_bytes, io->fsyncs, io->short_writes, io->retries,
		       io->errors, io->enospc);
		printf("  Submits: submit_calls %" PRIu64 ", avg batch %.1f, max_batch %" PRIu64
		       ", sq_full %" PRIu64 ", in flight %" PRIu64 ", pending %" PRIu64 "\n",
		       io->submit_calls,
		       io->submit_calls ? (double)io->sqes / (double)io->submit_calls : 0.0,
		       io->max_batch, io->sq_full, io->inflight, io->pending);
		printf("  Write latency: avg %.1f us, max %.1f us (%" PRIu64 " writes measured)\n",
		       io->lat_count ? (double)io->lat_sum_ns / (double)io->lat_count / 1e3 : 0.0,
		       (double)io->lat_max_ns / 1e3, io->lat_count);
		printf("  Fsync latency: avg %.1f us, max %.1f us (%" PRIu64 " fsyncs measured)\n",
		       io->fsync_lat_count
			       ? (double)io->fsync_lat_sum_ns / (double)io->fsync_lat_count / 1e3
			       : 0.0,
		       (double)io->fsync_lat_max_ns / 1e3, io->fsync_lat_count);
		printf("  Last error: %s\n", io->last_errno ? strerror(io->last_errno) : "none");
	}
	printf("  %s############################%s\n", STATS_BORDER, STATS_BORDER);
	done();
}

static cmdline_parse_token_string_t cmd_show_writer_word =
	TOKEN_STRING_INITIALIZER(struct cmd_show_result, what, "writer");

static cmdline_parse_inst_t cmd_show_writer_stats = {
	.f = cmd_show_writer_stats_parsed,
	.help_str = "show writer stats: per writer: records and bytes written, files, buffers, "
		    "io_uring batches, errors, write and fsync latency",
	.tokens = {
		(void *)&cmd_show_show,
		(void *)&cmd_show_writer_word,
		(void *)&cmd_show_stats_word,
		NULL,
	},
};

static void
cmd_show_config_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	const struct app *a = cli_app;
	const struct sl_config *c = &a->cfg;
	const struct sl_filter *f = sl_filter_current(a->filter);
	char buf[256];

	printf("%s: %s\n", c->mode == SL_MODE_FILE ? "File mode" : "Capture",
	       a->started ? "started" : "stopped");
	printf("  --mode=%s\n", c->mode == SL_MODE_FILE ? "file" : "capture");
	printf("  --dir=%s\n", c->dir);
	if (c->mode == SL_MODE_FILE) {
		for (unsigned i = 0; i < c->nb_ips; i++) {
			char ip[INET6_ADDRSTRLEN];

			inet_ntop(c->ips[i].family == 4 ? AF_INET : AF_INET6, c->ips[i].ip, ip,
				  sizeof(ip));
			printf("  --ip=%s/%u@%u\n", ip, c->ips[i].prefix, c->ips[i].port);
		}
		printf("  --udp-port=%u\n", c->udp_port);
		printf("  %s\n",
		       c->overwrite ? "--overwrite" : "# no --overwrite: existing files are kept");
		if (c->psk_file[0] != '\0')
			printf("  --psk-file=%s\n", c->psk_file);
		for (unsigned i = 0; i < c->nb_allow; i++)
			printf("  --allow=%s\n", c->allow[i]);
		printf("  --mtu=%u\n", c->mtu);
		printf("  --max-sessions=%" PRIu32 "\n", c->max_sessions);
		printf("  --max-files=%" PRIu32 "\n", c->max_files);
		printf("  --window=%s\n", sl_format_size(c->window, buf, sizeof(buf)));
	}
	printf("  --format=%s\n", sl_config_format_name(c->format));
	printf("  --snaplen=%" PRIu32 "\n", c->snaplen);
	printf("  --rotate-size=%s\n", sl_format_size(c->rotate_size, buf, sizeof(buf)));
	printf("  --rotate-seconds=%" PRIu32 "\n", c->rotate_seconds);
	printf("  --name-prefix=%s\n", c->name_prefix);
	if (f != NULL)
		printf("  --filter='%s'   (%s)\n", sl_filter_expr(f),
		       sl_filter_is_jit(f) ? "JIT" : "interpreter");
	else
		printf("  # no --filter: every packet is captured\n");
	printf("  --rx-lcores=%s\n",
	       lcore_list_text(a->layout.rx_lcore, a->layout.nb_rx, buf, sizeof(buf)));
	printf("  --writer-lcores=%s\n",
	       lcore_list_text(a->layout.writer_lcore, a->layout.nb_writers, buf, sizeof(buf)));
	if (c->profile[0] != '\0')
		printf("  --profile=%s\n", c->profile);
	printf("  --burst=%u\n", c->burst);
	printf("  --ring-size=%" PRIu32 "\n", c->ring_size);
	printf("  --rxd=%u\n", c->nb_rxd);
	printf("  --mbufs=%" PRIu32 "%s\n", c->nb_mbufs,
	       c->nb_mbufs ? "" : "   (sized automatically)");
	printf("  --write-buffer=%s\n", sl_format_size(c->write_buffer_size, buf, sizeof(buf)));
	printf("  --write-buffers=%" PRIu32 "\n", c->write_buffers);
	printf("  --uring-depth=%" PRIu32 "\n", c->uring_depth);
	printf("  --flush-interval=%" PRIu32 "\n", c->flush_ms);
	printf("  --idle-sleep=%" PRIu32 "%s\n", c->idle_sleep_us,
	       c->idle_sleep_us ? "" : "   (busy-poll)");
	printf("  %s\n", c->direct ? "# O_DIRECT writes (no --no-direct)" : "--no-direct");
	printf("  %s\n", c->promiscuous ? "# promiscuous (no --no-promisc)" : "--no-promisc");
	printf("  --max-packets=%" PRIu64 "\n", c->max_packets);
	printf("  --duration=%" PRIu64 ".%03" PRIu64 "\n", c->duration_ms / 1000,
	       c->duration_ms % 1000);
	printf("  --stats-period=%" PRIu32 "\n", c->stats_period);
	printf("  --stats-json=%s\n", c->stats_json);
	printf("  -i%s%s\n", c->cmdline_file[0] ? " --cmdline-file=" : "", c->cmdline_file);
	done();
}

static cmdline_parse_token_string_t cmd_show_config_word =
	TOKEN_STRING_INITIALIZER(struct cmd_show_result, what, "config");

static cmdline_parse_inst_t cmd_show_config = {
	.f = cmd_show_config_parsed,
	.help_str = "show config: every setting in option syntax, and whether the capture runs",
	.tokens = {
		(void *)&cmd_show_show,
		(void *)&cmd_show_config_word,
		NULL,
	},
};

/* *** set capture filter *** */

struct cmd_set_filter_result {
	cmdline_fixed_string_t set;
	cmdline_fixed_string_t capture;
	cmdline_fixed_string_t filter;
	cmdline_multi_string_t expr;
};

static void
cmd_set_filter_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	struct cmd_set_filter_result *res = parsed_result;
	struct app *a = cli_app;
	const struct sl_filter *f;
	char err[512];
	bool off;

	if (capture_only(cli_app))
		return;
	trim_right(res->expr);
	off = strcmp(res->expr, "off") == 0;
	if (res->expr[0] == '\0') {
		printf("Missing filter expression: set capture filter <expression>|off\n");
		done();
		return;
	}
	if (app_set_filter(a, off ? NULL : res->expr, err, sizeof(err)) < 0) {
		f = sl_filter_current(a->filter);
		printf("Bad capture filter '%s': %s; kept the previous filter (%s).\n", res->expr,
		       err[0] ? err : "refused", f != NULL ? sl_filter_expr(f) : "none");
		done();
		return;
	}
	f = sl_filter_current(a->filter);
	if (f == NULL)
		printf("Capture filter removed: every packet is captured.\n");
	else
		printf("Capture filter set: %s (%s)\n", sl_filter_expr(f),
		       sl_filter_is_jit(f) ? "JIT" : "interpreter");
	done();
}

static cmdline_parse_token_string_t cmd_set_filter_set =
	TOKEN_STRING_INITIALIZER(struct cmd_set_filter_result, set, "set");
static cmdline_parse_token_string_t cmd_set_filter_capture =
	TOKEN_STRING_INITIALIZER(struct cmd_set_filter_result, capture, "capture");
static cmdline_parse_token_string_t cmd_set_filter_filter =
	TOKEN_STRING_INITIALIZER(struct cmd_set_filter_result, filter, "filter");
static cmdline_parse_token_string_t cmd_set_filter_expr =
	TOKEN_STRING_INITIALIZER(struct cmd_set_filter_result, expr, TOKEN_STRING_MULTI);

static cmdline_parse_inst_t cmd_set_filter = {
	.f = cmd_set_filter_parsed,
	.help_str = "set capture filter <libpcap expression>|off: keep only matching packets "
		    "(the rest count as filtered); applies at once, also while capturing",
	.tokens = {
		(void *)&cmd_set_filter_set,
		(void *)&cmd_set_filter_capture,
		(void *)&cmd_set_filter_filter,
		(void *)&cmd_set_filter_expr,
		NULL,
	},
};

/* *** set snaplen|format|stats-period <value>, set rotate size|seconds <value> *** */

struct cmd_set_result {
	cmdline_fixed_string_t set;
	cmdline_fixed_string_t what;
	cmdline_fixed_string_t value;
};

static void
cmd_set_snaplen_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	struct cmd_set_result *res = parsed_result;
	struct app *a = cli_app;
	char text[64];
	uint64_t v;
	int rc = sl_parse_u64(res->value, 1, SL_PCAP_MAX_SNAPLEN, &v);

	if (capture_only(cli_app))
		return;
	if (rc < 0) {
		printf("Invalid snaplen '%s': %s (1..%u); snaplen stays %" PRIu32 ".\n", res->value,
		       parse_error_text(rc), SL_PCAP_MAX_SNAPLEN, a->cfg.snaplen);
	} else if (sl_pcap_record_size(SL_PCAP_FORMAT_PCAPNG, (uint32_t)v) >
		   a->cfg.write_buffer_size) {
		printf("Invalid snaplen %" PRIu64 ": a record of it does not fit a write buffer "
		       "of %" PRIu64 " bytes (--write-buffer); snaplen stays %" PRIu32 ".\n",
		       v, a->cfg.write_buffer_size, a->cfg.snaplen);
	} else {
		a->cfg.snaplen = (uint32_t)v;
		snprintf(text, sizeof(text), "Snaplen set to %" PRIu64, v);
		push_live_and_say(a, text);
	}
	done();
}

static cmdline_parse_token_string_t cmd_set_set =
	TOKEN_STRING_INITIALIZER(struct cmd_set_result, set, "set");
static cmdline_parse_token_string_t cmd_set_snaplen_word =
	TOKEN_STRING_INITIALIZER(struct cmd_set_result, what, "snaplen");
/* Values are words parsed by lib/common, so "4K" works and errors are ours. */
static cmdline_parse_token_string_t cmd_set_value =
	TOKEN_STRING_INITIALIZER(struct cmd_set_result, value, NULL);

static cmdline_parse_inst_t cmd_set_snaplen = {
	.f = cmd_set_snaplen_parsed,
	.help_str = "set snaplen <1..262144>: bytes kept of each frame, from the next file on",
	.tokens = {
		(void *)&cmd_set_set,
		(void *)&cmd_set_snaplen_word,
		(void *)&cmd_set_value,
		NULL,
	},
};

static void
cmd_set_format_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	struct cmd_set_result *res = parsed_result;
	struct app *a = cli_app;
	char text[64];

	if (capture_only(cli_app))
		return;
	if (strcmp(res->value, "pcap") == 0) {
		a->cfg.format = SL_PCAP_FORMAT_PCAP;
	} else if (strcmp(res->value, "pcapng") == 0) {
		a->cfg.format = SL_PCAP_FORMAT_PCAPNG;
	} else {
		printf("Invalid format '%s': pcap or pcapng; the format stays %s.\n", res->value,
		       sl_config_format_name(a->cfg.format));
		done();
		return;
	}
	snprintf(text, sizeof(text), "Format set to %s", sl_config_format_name(a->cfg.format));
	push_live_and_say(a, text);
	done();
}

static cmdline_parse_token_string_t cmd_set_format_word =
	TOKEN_STRING_INITIALIZER(struct cmd_set_result, what, "format");

static cmdline_parse_inst_t cmd_set_format = {
	.f = cmd_set_format_parsed,
	.help_str = "set format pcap|pcapng: file format, from the next file on",
	.tokens = {
		(void *)&cmd_set_set,
		(void *)&cmd_set_format_word,
		(void *)&cmd_set_value,
		NULL,
	},
};

static void
cmd_set_stats_period_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	struct cmd_set_result *res = parsed_result;
	struct app *a = cli_app;
	uint64_t v;
	int rc = sl_parse_u64(res->value, 0, MAX_STATS_PERIOD, &v);

	if (rc < 0) {
		printf("Invalid stats-period '%s': %s (0..%u seconds, 0 = off); it stays %" PRIu32
		       ".\n",
		       res->value, parse_error_text(rc), MAX_STATS_PERIOD, a->cfg.stats_period);
		done();
		return;
	}
	a->cfg.stats_period = (uint32_t)v;
	/* The next line is due one new period from now, not at the old deadline. */
	a->next_print = rte_rdtsc() + v * a->tsc_hz;
	if (v == 0)
		printf("Periodic statistics off.\n");
	else
		printf("Statistics printed every %" PRIu64 " s while capturing.\n", v);
	done();
}

static cmdline_parse_token_string_t cmd_set_stats_period_word =
	TOKEN_STRING_INITIALIZER(struct cmd_set_result, what, "stats-period");

static cmdline_parse_inst_t cmd_set_stats_period = {
	.f = cmd_set_stats_period_parsed,
	.help_str = "set stats-period <0..86400>: print rates every N seconds while capturing, "
		    "0 = off",
	.tokens = {
		(void *)&cmd_set_set,
		(void *)&cmd_set_stats_period_word,
		(void *)&cmd_set_value,
		NULL,
	},
};

struct cmd_set_rotate_result {
	cmdline_fixed_string_t set;
	cmdline_fixed_string_t rotate;
	cmdline_fixed_string_t what;
	cmdline_fixed_string_t value;
};

static void
cmd_set_rotate_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	struct cmd_set_rotate_result *res = parsed_result;
	struct app *a = cli_app;
	char text[96], size[32];
	uint64_t v;
	int rc;

	if (capture_only(cli_app))
		return;
	if (strcmp(res->what, "size") == 0) {
		rc = sl_parse_size(res->value, 0, TIB, &v);
		/* Smaller files would be mostly headers; 0 turns rotation off. */
		if (rc == 0 && v != 0 && v < 4 * KIB)
			rc = -ERANGE;
		if (rc < 0) {
			printf("Invalid rotate size '%s': %s (0 or 4K..1T); it stays %s.\n",
			       res->value, parse_error_text(rc),
			       sl_format_size(a->cfg.rotate_size, size, sizeof(size)));
			done();
			return;
		}
		a->cfg.rotate_size = v;
		snprintf(text, sizeof(text), "Rotate size set to %s%s",
			 sl_format_size(v, size, sizeof(size)), v ? "" : " (never)");
	} else {
		rc = sl_parse_u64(res->value, 0, MAX_ROTATE_SECONDS, &v);
		if (rc < 0) {
			printf("Invalid rotate seconds '%s': %s (0..%u, 0 = never); it stays "
			       "%" PRIu32 ".\n",
			       res->value, parse_error_text(rc), MAX_ROTATE_SECONDS,
			       a->cfg.rotate_seconds);
			done();
			return;
		}
		a->cfg.rotate_seconds = (uint32_t)v;
		snprintf(text, sizeof(text), "Rotate seconds set to %" PRIu64 "%s", v,
			 v ? "" : " (never)");
	}
	push_live_and_say(a, text);
	done();
}

static cmdline_parse_token_string_t cmd_set_rotate_set =
	TOKEN_STRING_INITIALIZER(struct cmd_set_rotate_result, set, "set");
static cmdline_parse_token_string_t cmd_set_rotate_rotate =
	TOKEN_STRING_INITIALIZER(struct cmd_set_rotate_result, rotate, "rotate");
static cmdline_parse_token_string_t cmd_set_rotate_size_word =
	TOKEN_STRING_INITIALIZER(struct cmd_set_rotate_result, what, "size");
static cmdline_parse_token_string_t cmd_set_rotate_seconds_word =
	TOKEN_STRING_INITIALIZER(struct cmd_set_rotate_result, what, "seconds");
static cmdline_parse_token_string_t cmd_set_rotate_value =
	TOKEN_STRING_INITIALIZER(struct cmd_set_rotate_result, value, NULL);

static cmdline_parse_inst_t cmd_set_rotate_size = {
	.f = cmd_set_rotate_parsed,
	.help_str = "set rotate size <SIZE>: new file after SIZE bytes, 0 or 4K..1T (K, M, G, T "
		    "suffixes), 0 = never; from the next file on",
	.tokens = {
		(void *)&cmd_set_rotate_set,
		(void *)&cmd_set_rotate_rotate,
		(void *)&cmd_set_rotate_size_word,
		(void *)&cmd_set_rotate_value,
		NULL,
	},
};

static cmdline_parse_inst_t cmd_set_rotate_seconds = {
	.f = cmd_set_rotate_parsed,
	.help_str = "set rotate seconds <0..31536000>: new file every N seconds, 0 = never; "
		    "from the next file on",
	.tokens = {
		(void *)&cmd_set_rotate_set,
		(void *)&cmd_set_rotate_rotate,
		(void *)&cmd_set_rotate_seconds_word,
		(void *)&cmd_set_rotate_value,
		NULL,
	},
};

/* *** set dir *** */

struct cmd_set_dir_result {
	cmdline_fixed_string_t set;
	cmdline_fixed_string_t dir;
	cmdline_multi_string_t path;
};

static void
cmd_set_dir_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	struct cmd_set_dir_result *res = parsed_result;
	struct app *a = cli_app;
	struct stat st;

	trim_right(res->path);
	if (a->started) {
		printf("Stop the capture first: set dir is refused while started.\n");
	} else if (res->path[0] == '\0') {
		printf("Missing directory: set dir <path>\n");
	} else if (strlen(res->path) >= sizeof(a->cfg.dir)) {
		printf("Directory name too long.\n");
	} else if (stat(res->path, &st) < 0) {
		printf("Cannot use %s: %s; the directory stays %s.\n", res->path, strerror(errno),
		       a->cfg.dir);
	} else if (!S_ISDIR(st.st_mode)) {
		printf("Cannot use %s: not a directory; the directory stays %s.\n", res->path,
		       a->cfg.dir);
	} else if (access(res->path, W_OK | X_OK) < 0) {
		printf("Cannot use %s: not writable (%s); the directory stays %s.\n", res->path,
		       strerror(errno), a->cfg.dir);
	} else {
		snprintf(a->cfg.dir, sizeof(a->cfg.dir), "%s", res->path);
		printf("Directory set to %s: the next start writes there.\n", a->cfg.dir);
	}
	done();
}

static cmdline_parse_token_string_t cmd_set_dir_set =
	TOKEN_STRING_INITIALIZER(struct cmd_set_dir_result, set, "set");
static cmdline_parse_token_string_t cmd_set_dir_dir =
	TOKEN_STRING_INITIALIZER(struct cmd_set_dir_result, dir, "dir");
/* The rest of the line, so that a path may hold blanks (not '#', a comment). */
static cmdline_parse_token_string_t cmd_set_dir_path =
	TOKEN_STRING_INITIALIZER(struct cmd_set_dir_result, path, TOKEN_STRING_MULTI);

static cmdline_parse_inst_t cmd_set_dir = {
	.f = cmd_set_dir_parsed,
	.help_str = "set dir <path>: directory of the capture files, an existing writable one; "
		    "only while stopped",
	.tokens = {
		(void *)&cmd_set_dir_set,
		(void *)&cmd_set_dir_dir,
		(void *)&cmd_set_dir_path,
		NULL,
	},
};

/* *** help *** */

static cmdline_parse_inst_t cmd_help;

/* Every command; "help" prints their help strings in this order. */
static cmdline_parse_ctx_t main_ctx[] = {
	&cmd_help,
	&cmd_start,
	&cmd_stop,
	&cmd_quit,
	&cmd_show_port_info,
	&cmd_show_port_stats,
	&cmd_show_port_xstats,
	&cmd_clear_port_stats,
	&cmd_show_lcores,
	&cmd_show_ring_stats,
	&cmd_show_writer_stats,
	&cmd_show_config,
	&cmd_set_filter,
	&cmd_set_snaplen,
	&cmd_set_rotate_size,
	&cmd_set_rotate_seconds,
	&cmd_set_format,
	&cmd_set_dir,
	&cmd_set_stats_period,
	NULL,
};

static void
cmd_help_parsed(void *parsed_result, struct cmdline *cl, void *data)
{
	printf("Commands (TAB completes, ? shows the choices, Ctrl-L redraws the prompt):\n");
	for (unsigned i = 0; main_ctx[i] != NULL; i++) {
		const char *h = main_ctx[i]->help_str;
		const char *sep = strstr(h, ": ");

		if (sep == NULL)
			printf("  %s\n", h);
		else
			printf("  %-44.*s %s\n", (int)(sep - h), h, sep + 2);
	}
	done();
}

static cmdline_parse_token_string_t cmd_help_word =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "help");

static cmdline_parse_inst_t cmd_help = {
	.f = cmd_help_parsed,
	.help_str = "help: this list",
	.tokens = {
		(void *)&cmd_help_word,
		NULL,
	},
};

/*
 * Run the commands of a file before the prompt, as testpmd's --cmdline-file.
 * Unlike cmdline_file_new(), the commands and cmdline's own errors ("Command
 * not found", "Bad arguments") are echoed to stdout, so a typo in the file
 * is seen.
 */
static void
run_file(const char *path)
{
	struct cmdline *cl;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		printf("Cannot read commands from %s: %s\n", path, strerror(errno));
		done();
		return;
	}
	cl = cmdline_new(main_ctx, PROMPT, fd, STDOUT_FILENO);
	if (cl == NULL) {
		close(fd);
		printf("Cannot read commands from %s: out of memory\n", path);
		done();
		return;
	}
	/* Stops at the end of the file or at "quit". */
	cmdline_interact(cl);
	/* A last line without its newline still counts (ignored after "quit"). */
	cmdline_in(cl, "\n", 1);
	cmdline_free(cl); /* closes fd */
	printf("\nRead CLI commands from %s\n", path);
	done();
}

int
sl_cli_run(struct app *a, const char *cmdline_file)
{
	struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
	struct cmdline *cl;

	cli_app = a;
	if (cmdline_file != NULL && cmdline_file[0] != '\0')
		run_file(cmdline_file);
	if (a->quit)
		return 0;

	cl = cmdline_stdin_new(main_ctx, PROMPT);
	if (cl == NULL)
		return -ENOMEM;
	while (!a->quit) {
		int rc = poll(&in, 1, TICK_MS);

		if (rc < 0 && errno != EINTR) {
			a->quit = true;
			break;
		}
		/* cmdline_poll() takes one character per call: take what is there. */
		for (unsigned k = 0; rc > 0 && k < KEYS_PER_TICK && !a->quit; k++) {
			int st;

			errno = 0;
			st = cmdline_poll(cl);
			/* EOF (end of a pipe, Ctrl-D on an empty line) or "quit". */
			if (st == RDLINE_EXITED || (st < 0 && errno != EINTR)) {
				a->quit = true;
				break;
			}
			rc = poll(&in, 1, 0);
		}
		app_tick(a);
	}
	/* After EOF, Ctrl-D or a signal the cursor is still on the prompt's line,
	 * where the summary that follows should not start. */
	if (!quit_typed) {
		printf("\n");
		fflush(stdout);
	}
	cmdline_stdin_exit(cl);
	return 0;
}
