/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sl_layout.h"

#define END 0xffff /* Ends the lcore and port lists of the helpers below. */

/* Lcore 0 is the main lcore; the workers have gaps in their ids so that a
 * mix-up of index and id shows. */
static const uint16_t workers5[] = { 2, 4, 5, 9, 11, END };

static unsigned
list_len(const uint16_t *ids)
{
	unsigned n = 0;

	while (ids[n] != END)
		n++;
	return n;
}

/* Workers @p ids, all on socket 0, and @p nb_ports ports with ids 0, 1, ...
 * on socket 0, 16 RX queues each. */
static void
machine(struct sl_layout_input *in, const uint16_t *ids, unsigned nb_ports)
{
	memset(in, 0, sizeof(*in));
	in->nb_workers = list_len(ids);
	for (unsigned i = 0; i < in->nb_workers; i++)
		in->worker[i] = ids[i];
	in->nb_ports = nb_ports;
	for (unsigned p = 0; p < nb_ports; p++) {
		in->port_id[p] = (uint16_t)p;
		in->port_max_rxq[p] = 16;
	}
}

static void
config(struct sl_config *cfg, const uint16_t *rx, const uint16_t *writers)
{
	sl_config_defaults(cfg);
	for (; rx != NULL && *rx != END; rx++)
		cfg->rx_lcores[cfg->nb_rx_lcores++] = *rx;
	for (; writers != NULL && *writers != END; writers++)
		cfg->writer_lcores[cfg->nb_writer_lcores++] = *writers;
}

/*
 * Invariants every plan must meet: each port has nb_rxq queues 0..nb_rxq-1,
 * each (port, queue) appears once, with a valid RX lcore and writer, and no
 * RX lcore polls two queues of one port.
 */
static void
check_invariants(const struct sl_layout_input *in, const struct sl_layout *l)
{
	unsigned total = 0;

	for (unsigned p = 0; p < in->nb_ports; p++) {
		unsigned seen_queue[16] = { 0 };
		unsigned seen_rx[SL_MAX_LCORES] = { 0 };

		assert_true(l->nb_rxq[p] >= 1);
		assert_true(l->nb_rxq[p] <= in->port_max_rxq[p]);
		assert_true(l->nb_rxq[p] <= 16);
		for (unsigned i = 0; i < l->nb_queues; i++) {
			const struct sl_layout_queue *q = &l->queues[i];

			if (q->port != in->port_id[p])
				continue;
			assert_true(q->queue < l->nb_rxq[p]);
			assert_true(q->rx < l->nb_rx);
			assert_true(q->writer < l->nb_writers);
			seen_queue[q->queue]++;
			seen_rx[q->rx]++;
			total++;
		}
		for (unsigned q = 0; q < l->nb_rxq[p]; q++)
			assert_int_equal(seen_queue[q], 1);
		for (unsigned r = 0; r < l->nb_rx; r++)
			assert_true(seen_rx[r] <= 1);
	}
	assert_int_equal(total, l->nb_queues);
	/* No lcore has both roles. */
	for (unsigned r = 0; r < l->nb_rx; r++)
		for (unsigned w = 0; w < l->nb_writers; w++)
			assert_int_not_equal(l->rx_lcore[r], l->writer_lcore[w]);
}

static void
expect_lcores(const uint16_t *got, unsigned nb_got, const uint16_t *expected)
{
	unsigned n = list_len(expected);

	assert_int_equal(nb_got, n);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(got[i], expected[i]);
}

static void
expect_roles(const struct sl_layout *l, const uint16_t *rx, const uint16_t *writers)
{
	expect_lcores(l->rx_lcore, l->nb_rx, rx);
	expect_lcores(l->writer_lcore, l->nb_writers, writers);
}

static void
expect_queue(const struct sl_layout *l, unsigned i, uint16_t port, uint16_t queue,
	     uint16_t rx_lcore, uint16_t writer_lcore)
{
	const struct sl_layout_queue *q = &l->queues[i];

	assert_true(i < l->nb_queues);
	assert_int_equal(q->port, port);
	assert_int_equal(q->queue, queue);
	assert_int_equal(l->rx_lcore[q->rx], rx_lcore);
	assert_int_equal(l->writer_lcore[q->writer], writer_lcore);
}

static void
expect_warnings(const struct sl_layout *l, const char *const *expected, unsigned n)
{
	for (unsigned i = 0; i < l->nb_warnings && i < n; i++) {
		if (strcmp(l->warnings[i], expected[i]) != 0)
			print_error("warning %u is \"%s\", expected \"%s\"\n", i, l->warnings[i],
				    expected[i]);
		assert_string_equal(l->warnings[i], expected[i]);
	}
	assert_int_equal(l->nb_warnings, n);
}

static void
plan_ok(const struct sl_config *cfg, const struct sl_layout_input *in, struct sl_layout *l)
{
	char err[256] = "";
	int rc = sl_layout_plan(cfg, in, l, err, sizeof(err));

	if (rc != 0)
		print_error("sl_layout_plan failed: %s\n", err);
	assert_int_equal(rc, 0);
	check_invariants(in, l);
}

static void
plan_fails(const struct sl_config *cfg, const struct sl_layout_input *in, const char *expected)
{
	static struct sl_layout l;
	char err[512] = "";

	assert_int_equal(sl_layout_plan(cfg, in, &l, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, expected);
}

static void
test_default_split(void **state)
{
	static const struct {
		unsigned nb_workers;
		uint16_t rx[4];
		uint16_t writers[4];
	} cases[] = {
		{ 2, { 2, END }, { 4, END } },
		{ 3, { 2, END }, { 4, 5, END } },
		{ 4, { 2, 4, END }, { 5, 9, END } },
		{ 5, { 2, 4, END }, { 5, 9, 11, END } },
	};
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;

	config(&cfg, NULL, NULL);
	for (unsigned c = 0; c < SL_ARRAY_SIZE(cases); c++) {
		uint16_t ids[8];

		memcpy(ids, workers5, sizeof(uint16_t) * cases[c].nb_workers);
		ids[cases[c].nb_workers] = END;
		machine(&in, ids, 1);
		plan_ok(&cfg, &in, &l);
		expect_roles(&l, cases[c].rx, cases[c].writers);
		assert_int_equal(l.nb_warnings, 0);
	}
}

static void
test_rx_lcores_only(void **state)
{
	static const uint16_t rx[] = { 4, 9, END };
	static const uint16_t writers[] = { 2, 5, 11, END };
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;

	/* The workers not listed write, including one below the listed ones. */
	machine(&in, workers5, 1);
	config(&cfg, rx, NULL);
	plan_ok(&cfg, &in, &l);
	expect_roles(&l, rx, writers);
	assert_int_equal(l.nb_warnings, 0);
}

static void
test_writer_lcores_only(void **state)
{
	static const uint16_t writers[] = { 2, 11, END };
	static const uint16_t rx[] = { 4, 5, 9, END };
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;

	machine(&in, workers5, 1);
	config(&cfg, NULL, writers);
	plan_ok(&cfg, &in, &l);
	expect_roles(&l, rx, writers);
	assert_int_equal(l.nb_warnings, 0);
}

static void
test_both_lists_leave_idle(void **state)
{
	static const uint16_t rx[] = { 9, END };
	static const uint16_t writers[] = { 2, 5, END };
	static const char *const warnings[] = {
		"lcore 4 has no role and stays idle",
		"lcore 11 has no role and stays idle",
	};
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;

	machine(&in, workers5, 1);
	config(&cfg, rx, writers);
	plan_ok(&cfg, &in, &l);
	expect_roles(&l, rx, writers);
	expect_warnings(&l, warnings, SL_ARRAY_SIZE(warnings));

	/* Every worker listed: nothing idle, nothing to say. */
	{
		static const uint16_t w4[] = { 2, 4, 5, 11, END };

		config(&cfg, rx, w4);
		plan_ok(&cfg, &in, &l);
		expect_roles(&l, rx, w4);
		assert_int_equal(l.nb_warnings, 0);
	}
}

static void
test_refusals(void **state)
{
	static const uint16_t one[] = { 3, END };
	static const uint16_t none[] = { END };
	static const uint16_t two[] = { 2, 4, END };
	static const uint16_t seven[] = { 7, END };
	static const uint16_t main_lcore[] = { 0, END };
	static const uint16_t four[] = { 4, END };
	struct sl_layout_input in;
	struct sl_config cfg;

	config(&cfg, NULL, NULL);
	machine(&in, one, 1);
	plan_fails(&cfg, &in,
		   "sluice needs at least 2 worker lcores besides the main one (1 RX, 1 "
		   "writer); 1 given: use e.g. -l 0-2, or --lcores=0@0,1@1,2@1 on fewer CPUs");
	machine(&in, none, 1);
	plan_fails(&cfg, &in,
		   "sluice needs at least 2 worker lcores besides the main one (1 RX, 1 "
		   "writer); 0 given: use e.g. -l 0-2, or --lcores=0@0,1@1,2@1 on fewer CPUs");

	machine(&in, two, 0);
	plan_fails(&cfg, &in,
		   "no Ethernet port: give a NIC with -a <PCI address> or a virtual one with "
		   "--vdev (e.g. --vdev=net_pcap0,rx_pcap=in.pcap)");

	machine(&in, two, 1);
	config(&cfg, seven, NULL);
	plan_fails(&cfg, &in,
		   "--rx-lcores: lcore 7 is not an enabled worker lcore (give it to EAL with "
		   "-l/--lcores, and not as the main lcore)");
	config(&cfg, NULL, main_lcore);
	plan_fails(&cfg, &in,
		   "--writer-lcores: lcore 0 is not an enabled worker lcore (give it to EAL with "
		   "-l/--lcores, and not as the main lcore)");
	/* A valid --rx-lcores does not excuse a bad --writer-lcores. */
	config(&cfg, four, seven);
	plan_fails(&cfg, &in,
		   "--writer-lcores: lcore 7 is not an enabled worker lcore (give it to EAL with "
		   "-l/--lcores, and not as the main lcore)");

	config(&cfg, NULL, two);
	plan_fails(&cfg, &in, "no lcore is left to receive: --writer-lcores takes them all");
	config(&cfg, two, NULL);
	plan_fails(&cfg, &in, "no lcore is left to write: --rx-lcores takes them all");

	config(&cfg, NULL, NULL);
	machine(&in, two, 2);
	in.port_id[1] = 3;
	in.port_max_rxq[1] = 0;
	plan_fails(&cfg, &in, "port 3 has no RX queue");

	/* A short error buffer gets a truncated, terminated message. */
	{
		struct sl_layout l;
		char err[12];

		memset(err, 'x', sizeof(err));
		assert_int_equal(sl_layout_plan(&cfg, &in, &l, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "port 3 has ");
	}
}

static void
test_too_many_queues(void **state)
{
	static uint16_t ids[64];
	struct sl_layout_input in;
	struct sl_config cfg;

	/* 32 ports polled by 17 RX lcores need 544 queues, above 512. */
	for (unsigned i = 0; i < 34; i++)
		ids[i] = (uint16_t)(i + 1);
	ids[34] = END;
	machine(&in, ids, SL_MAX_PORTS);
	for (unsigned p = 0; p < SL_MAX_PORTS; p++)
		in.port_max_rxq[p] = 64;
	config(&cfg, NULL, NULL);
	plan_fails(&cfg, &in, "more than 512 queues in all");
}

static void
test_queues_two_ports_two_rx(void **state)
{
	static const uint16_t ids[] = { 2, 4, 5, 9, END };
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;

	machine(&in, ids, 2);
	in.port_id[1] = 6;
	config(&cfg, NULL, NULL);
	plan_ok(&cfg, &in, &l);
	assert_int_equal(l.nb_rxq[0], 2);
	assert_int_equal(l.nb_rxq[1], 2);
	assert_int_equal(l.nb_queues, 4);
	/* Queue q of each port goes to RX lcore q; writers take turns. */
	expect_queue(&l, 0, 0, 0, 2, 5);
	expect_queue(&l, 1, 0, 1, 4, 9);
	expect_queue(&l, 2, 6, 0, 2, 5);
	expect_queue(&l, 3, 6, 1, 4, 9);
	assert_int_equal(l.nb_warnings, 0);
}

static void
test_queues_round_robin(void **state)
{
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;
	unsigned load[3] = { 0 };

	/* 2 RX lcores, 3 writers, 3 ports: 6 queues, 2 for each writer. */
	machine(&in, workers5, 3);
	config(&cfg, NULL, NULL);
	plan_ok(&cfg, &in, &l);
	assert_int_equal(l.nb_writers, 3);
	assert_int_equal(l.nb_queues, 6);
	expect_queue(&l, 0, 0, 0, 2, 5);
	expect_queue(&l, 1, 0, 1, 4, 9);
	expect_queue(&l, 2, 1, 0, 2, 11);
	expect_queue(&l, 3, 1, 1, 4, 5);
	expect_queue(&l, 4, 2, 0, 2, 9);
	expect_queue(&l, 5, 2, 1, 4, 11);
	for (unsigned i = 0; i < l.nb_queues; i++)
		load[l.queues[i].writer]++;
	for (unsigned w = 0; w < 3; w++)
		assert_int_equal(load[w], 2);
}

static void
test_port_max_rxq(void **state)
{
	static const uint16_t ids[] = { 1, 2, 3, 4, 5, 6, 7, 8, END };
	static const char *const warnings[] = {
		"port 0 has only 2 RX queues for 4 RX lcores",
		"RX lcore 3 polls no queue",
		"RX lcore 4 polls no queue",
	};
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;

	machine(&in, ids, 1);
	in.port_max_rxq[0] = 2;
	config(&cfg, NULL, NULL);
	plan_ok(&cfg, &in, &l);
	assert_int_equal(l.nb_rx, 4);
	assert_int_equal(l.nb_rxq[0], 2);
	assert_int_equal(l.nb_queues, 2);
	expect_queue(&l, 0, 0, 0, 1, 5);
	expect_queue(&l, 1, 0, 1, 2, 6);
	expect_warnings(&l, warnings, SL_ARRAY_SIZE(warnings));

	/* A second port with enough queues keeps every RX lcore busy. */
	machine(&in, ids, 2);
	in.port_max_rxq[0] = 2;
	plan_ok(&cfg, &in, &l);
	assert_int_equal(l.nb_rxq[0], 2);
	assert_int_equal(l.nb_rxq[1], 4);
	assert_int_equal(l.nb_queues, 6);
	expect_warnings(&l, warnings, 1);
}

/* Workers 1-4 on socket 0, 11-14 on socket 1. */
static const uint16_t numa_workers[] = { 1, 2, 3, 4, 11, 12, 13, 14, END };

static void
numa_machine(struct sl_layout_input *in, unsigned nb_ports)
{
	machine(in, numa_workers, nb_ports);
	for (unsigned i = 0; i < in->nb_workers; i++)
		in->worker_socket[i] = in->worker[i] >= 10 ? 1 : 0;
}

static int
lcore_socket(const struct sl_layout_input *in, uint16_t lcore)
{
	for (unsigned i = 0; i < in->nb_workers; i++)
		if (in->worker[i] == lcore)
			return in->worker_socket[i];
	fail_msg("lcore %u is not a worker", lcore);
	return -1;
}

static void
test_numa_local(void **state)
{
	static const uint16_t rx[] = { 1, 2, 11, 12, END };
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;
	unsigned load[SL_MAX_LCORES] = { 0 };

	numa_machine(&in, 2);
	in.port_id[0] = 4;
	in.port_socket[0] = 1;
	in.port_id[1] = 8;
	in.port_socket[1] = 0;
	config(&cfg, rx, NULL);
	plan_ok(&cfg, &in, &l);
	assert_int_equal(l.nb_warnings, 0);
	/* Each port is polled only by the RX lcores of its socket. */
	assert_int_equal(l.nb_rxq[0], 2);
	assert_int_equal(l.nb_rxq[1], 2);
	expect_queue(&l, 0, 4, 0, 11, 13);
	expect_queue(&l, 1, 4, 1, 12, 14);
	expect_queue(&l, 2, 8, 0, 1, 3);
	expect_queue(&l, 3, 8, 1, 2, 4);
	for (unsigned i = 0; i < l.nb_queues; i++)
		load[l.queues[i].writer]++;
	for (unsigned w = 0; w < l.nb_writers; w++)
		assert_int_equal(load[w], 1);
}

static void
test_numa_alternating_ports_spread(void **state)
{
	static const uint16_t rx[] = { 1, 11, END };
	static const uint16_t writers[] = { 3, 4, 13, 14, END };
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;
	unsigned load[SL_MAX_LCORES] = { 0 };

	/* Ports alternate between the sockets, one queue each: each writer of
	 * a socket takes one of that socket's two queues, none stays idle. */
	numa_machine(&in, 4);
	for (unsigned p = 0; p < 4; p++)
		in.port_socket[p] = (int)(p % 2);
	config(&cfg, rx, writers);
	plan_ok(&cfg, &in, &l);
	assert_int_equal(l.nb_queues, 4);
	for (unsigned i = 0; i < l.nb_queues; i++) {
		const struct sl_layout_queue *q = &l.queues[i];

		assert_int_equal(lcore_socket(&in, l.rx_lcore[q->rx]), in.port_socket[q->port]);
		assert_int_equal(lcore_socket(&in, l.writer_lcore[q->writer]),
				 in.port_socket[q->port]);
		load[q->writer]++;
	}
	for (unsigned w = 0; w < l.nb_writers; w++) {
		if (load[w] != 1)
			print_error("writer lcore %u has %u queues\n", l.writer_lcore[w], load[w]);
		assert_int_equal(load[w], 1);
	}
	/* lcores 2, 12 have no role. */
	assert_int_equal(l.nb_warnings, 2);
}

static void
test_numa_no_local_writer(void **state)
{
	static const uint16_t rx[] = { 1, 11, END };
	static const uint16_t writers[] = { 3, 4, END };
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;

	/* Socket 1 has an RX lcore but no writer: its queue goes to a writer of
	 * socket 0 rather than nowhere. */
	numa_machine(&in, 2);
	in.port_socket[0] = 1;
	in.port_socket[1] = 0;
	config(&cfg, rx, writers);
	plan_ok(&cfg, &in, &l);
	assert_int_equal(l.nb_queues, 2);
	assert_int_equal(l.nb_rxq[0], 1);
	assert_int_equal(l.nb_rxq[1], 1);
	assert_int_equal(l.rx_lcore[l.queues[0].rx], 11);
	assert_int_equal(l.rx_lcore[l.queues[1].rx], 1);
	/* Both writers are used. */
	assert_int_not_equal(l.queues[0].writer, l.queues[1].writer);
}

static void
test_numa_port_without_local_rx(void **state)
{
	static const uint16_t rx[] = { 1, 2, END };
	static const char *const warnings[] = {
		"lcore 3 has no role and stays idle",
		"lcore 4 has no role and stays idle",
		"port 5 is on socket 1 but no RX lcore is: packets cross sockets",
	};
	static const uint16_t writers[] = { 11, 12, 13, 14, END };
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;

	/* All RX lcores on socket 0, the port on socket 1: every RX lcore
	 * serves it, and the writers of the RX lcores' socket are preferred,
	 * but there are none there, so all writers take turns. */
	numa_machine(&in, 1);
	in.port_id[0] = 5;
	in.port_socket[0] = 1;
	config(&cfg, rx, writers);
	plan_ok(&cfg, &in, &l);
	expect_warnings(&l, warnings, SL_ARRAY_SIZE(warnings));
	assert_int_equal(l.nb_rxq[0], 2);
	expect_queue(&l, 0, 5, 0, 1, 11);
	expect_queue(&l, 1, 5, 1, 2, 12);
}

static void
test_numa_idle_rx_lcore(void **state)
{
	static const uint16_t rx[] = { 1, 11, END };
	static const char *const warnings[] = {
		"RX lcore 11 polls no queue",
	};
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;

	/* The only port is on socket 0, so RX lcore 11 (socket 1) gets nothing. */
	numa_machine(&in, 1);
	config(&cfg, rx, NULL);
	plan_ok(&cfg, &in, &l);
	expect_warnings(&l, warnings, SL_ARRAY_SIZE(warnings));
	assert_int_equal(l.nb_rxq[0], 1);
	assert_int_equal(l.nb_queues, 1);
	/* Served by lcore 1, and written on socket 0 (lcores 2, 3 or 4). */
	assert_int_equal(l.rx_lcore[l.queues[0].rx], 1);
	assert_int_equal(lcore_socket(&in, l.writer_lcore[l.queues[0].writer]), 0);
}

/* Runs the NUMA check on plan @p l with the ports' own sockets @p sockets and
 * compares its lines with the NULL-terminated @p expected. */
static void
expect_numa_lines(const struct sl_layout *l, const struct sl_layout_input *in, const int *sockets,
		  bool file_mode, const char *const *expected)
{
	char lines[16][SL_LAYOUT_LINE_LEN];
	unsigned n = sl_layout_numa_check(l, in, sockets, file_mode, lines, 16), i;

	for (i = 0; i < n && expected[i] != NULL; i++) {
		if (strcmp(lines[i], expected[i]) != 0)
			print_error("line %u is \"%s\", expected \"%s\"\n", i, lines[i],
				    expected[i]);
		assert_string_equal(lines[i], expected[i]);
	}
	if (i < n)
		print_error("unexpected line \"%s\"\n", lines[i]);
	assert_int_equal(n, i);
	assert_null(expected[i]);
}

static void
test_numa_check_rx_away(void **state)
{
	static const uint16_t rx[] = { 1, 2, END };
	static const uint16_t writers[] = { 11, 12, 13, 14, END };
	static const char *const lines[] = {
		"RX lcore 1 (socket 0) polls port 5 on socket 1: packets cross sockets",
		"RX lcore 2 (socket 0) polls port 5 on socket 1: packets cross sockets",
		NULL,
	};
	static const char *const none[] = { NULL };
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;
	int sockets[1] = { 1 };
	char one[1][SL_LAYOUT_LINE_LEN];

	/* The port is on socket 1, its RX lcores on socket 0, its writers on
	 * socket 1: one line per RX lcore, none for the writers. */
	numa_machine(&in, 1);
	in.port_id[0] = 5;
	in.port_socket[0] = 1;
	config(&cfg, rx, writers);
	plan_ok(&cfg, &in, &l);
	expect_numa_lines(&l, &in, sockets, false, lines);
	/* A port of unknown socket (a vdev) is never warned about. */
	sockets[0] = -1;
	expect_numa_lines(&l, &in, sockets, false, none);
	expect_numa_lines(&l, &in, sockets, true, none);
	/* At most @max lines. */
	sockets[0] = 1;
	assert_int_equal(sl_layout_numa_check(&l, &in, sockets, false, one, 1), 1);
	assert_string_equal(one[0], lines[0]);
	assert_int_equal(sl_layout_numa_check(&l, &in, sockets, false, one, 0), 0);
}

static void
test_numa_check_writer_away(void **state)
{
	static const uint16_t rx[] = { 1, 11, END };
	static const uint16_t writers[] = { 3, 4, END };
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;
	int sockets[2] = { 1, 0 };
	char line[SL_LAYOUT_LINE_LEN];
	const char *lines[] = { line, NULL };

	/* Port 0 is on socket 1 and polled there, but written on socket 0, for
	 * socket 1 has no writer. Port 1 is local throughout. */
	numa_machine(&in, 2);
	in.port_socket[0] = 1;
	in.port_socket[1] = 0;
	config(&cfg, rx, writers);
	plan_ok(&cfg, &in, &l);
	snprintf(line, sizeof(line),
		 "writer lcore %u (socket 0) writes packets of port 0 on socket 1: packets "
		 "cross sockets",
		 l.writer_lcore[l.queues[0].writer]);
	expect_numa_lines(&l, &in, sockets, false, lines);
	/* An lcore of unknown socket is never warned about either. */
	for (unsigned i = 0; i < in.nb_workers; i++)
		in.worker_socket[i] = -1;
	lines[0] = NULL;
	expect_numa_lines(&l, &in, sockets, false, lines);
}

static void
test_numa_check_once_per_pair(void **state)
{
	static const uint16_t rx[] = { 1, 2, END };
	static const uint16_t writers[] = { 3, END };
	static const char *const lines[] = {
		"RX lcore 1 (socket 0) polls port 0 on socket 1: packets cross sockets",
		"writer lcore 3 (socket 0) writes packets of port 0 on socket 1: packets cross "
		"sockets",
		"RX lcore 2 (socket 0) polls port 0 on socket 1: packets cross sockets",
		NULL,
	};
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;
	int sockets[1] = { 1 };

	/* Both queues of the port go to writer 3: one line for it. */
	numa_machine(&in, 1);
	in.port_socket[0] = 1;
	config(&cfg, rx, writers);
	plan_ok(&cfg, &in, &l);
	assert_int_equal(l.nb_queues, 2);
	expect_numa_lines(&l, &in, sockets, false, lines);
}

static void
test_numa_check_file_mode(void **state)
{
	static const uint16_t rx[] = { 1, 11, END };
	static const uint16_t writers[] = { 3, 13, END };
	static const char *const capture_lines[] = { NULL };
	static const char *const file_lines[] = {
		"writer lcore 3 (socket 0) writes packets of port 1 on socket 1: packets cross "
		"sockets",
		"writer lcore 13 (socket 1) writes packets of port 0 on socket 0: packets cross "
		"sockets",
		NULL,
	};
	struct sl_layout_input in;
	struct sl_config cfg;
	struct sl_layout l;
	int sockets[2] = { 0, 1 };

	/* A port and an RX lcore and a writer on each socket: local in capture
	 * mode, but in file mode every writer takes sessions from every port. */
	numa_machine(&in, 2);
	in.port_socket[0] = 0;
	in.port_socket[1] = 1;
	config(&cfg, rx, writers);
	plan_ok(&cfg, &in, &l);
	assert_int_equal(l.writer_lcore[0], 3);
	assert_int_equal(l.writer_lcore[1], 13);
	expect_numa_lines(&l, &in, sockets, false, capture_lines);
	expect_numa_lines(&l, &in, sockets, true, file_lines);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_split),
		cmocka_unit_test(test_rx_lcores_only),
		cmocka_unit_test(test_writer_lcores_only),
		cmocka_unit_test(test_both_lists_leave_idle),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_too_many_queues),
		cmocka_unit_test(test_queues_two_ports_two_rx),
		cmocka_unit_test(test_queues_round_robin),
		cmocka_unit_test(test_port_max_rxq),
		cmocka_unit_test(test_numa_local),
		cmocka_unit_test(test_numa_alternating_ports_spread),
		cmocka_unit_test(test_numa_no_local_writer),
		cmocka_unit_test(test_numa_port_without_local_rx),
		cmocka_unit_test(test_numa_idle_rx_lcore),
		cmocka_unit_test(test_numa_check_rx_away),
		cmocka_unit_test(test_numa_check_writer_away),
		cmocka_unit_test(test_numa_check_once_per_pair),
		cmocka_unit_test(test_numa_check_file_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
