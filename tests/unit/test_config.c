/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_config.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

#define MAX_ARGS 16

static struct sl_config cfg;
static char err[512];

/* Parses, from the defaults, the NULL-terminated arguments that follow a program name. */
static int
parse(const char *first, ...)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	const char *arg;
	va_list ap;

	argv[argc++] = (char *)"sluice";
	va_start(ap, first);
	for (arg = first; arg != NULL; arg = va_arg(ap, const char *)) {
		assert_true(argc <= MAX_ARGS);
		argv[argc++] = (char *)arg;
	}
	va_end(ap);
	argv[argc] = NULL;
	sl_config_defaults(&cfg);
	/* Garbage, so that a success which forgets to clear the message shows. */
	memset(err, 'X', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	return sl_config_parse(&cfg, argc, argv, err, sizeof(err));
}

#define PARSE(...) parse(__VA_ARGS__, NULL)

static void
parses(int rc)
{
	if (rc != 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
	assert_string_equal(err, "");
}

static void
fails_with(int rc, const char *expected)
{
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err, expected);
}

static void
test_defaults(void **state)
{
	memset(&cfg, 0xa5, sizeof(cfg));
	sl_config_defaults(&cfg);
	assert_int_equal(cfg.mode, SL_MODE_CAPTURE);
	assert_string_equal(cfg.dir, ".");
	assert_int_equal(cfg.format, SL_PCAP_FORMAT_PCAPNG);
	assert_int_equal(cfg.snaplen, 262144);
	assert_int_equal(cfg.rotate_size, GIB);
	assert_int_equal(cfg.rotate_seconds, 0);
	assert_int_equal(cfg.burst, 32);
	assert_int_equal(cfg.ring_size, 16384);
	assert_int_equal(cfg.max_packets, 0);
	assert_int_equal(cfg.duration_ms, 0);
	assert_int_equal(cfg.stats_period, 0);
	assert_string_equal(cfg.stats_json, "");
	assert_int_equal(cfg.idle_sleep_us, 0);
	assert_true(cfg.direct);
	assert_int_equal(cfg.nb_rx_lcores, 0);
	assert_int_equal(cfg.nb_writer_lcores, 0);
	assert_int_equal(cfg.write_buffer_size, MIB);
	assert_int_equal(cfg.write_buffers, 32);
	assert_int_equal(cfg.uring_depth, 128);
	assert_int_equal(cfg.flush_ms, 1000);
	assert_int_equal(cfg.nb_rxd, 1024);
	assert_int_equal(cfg.nb_mbufs, 0);
	assert_true(cfg.promiscuous);
	assert_string_equal(cfg.name_prefix, "sluice");
}

static void
test_no_arguments_keeps_defaults(void **state)
{
	struct sl_config defaults;
	char *argv[] = { (char *)"sluice", NULL };

	sl_config_defaults(&defaults);
	sl_config_defaults(&cfg);
	assert_int_equal(sl_config_parse(&cfg, 1, argv, err, sizeof(err)), 0);
	assert_memory_equal(&cfg, &defaults, sizeof(cfg));
}

static void
test_format_name(void **state)
{
	assert_string_equal(sl_config_format_name(SL_PCAP_FORMAT_PCAP), "pcap");
	assert_string_equal(sl_config_format_name(SL_PCAP_FORMAT_PCAPNG), "pcapng");
}

static void
test_mode_dir_format(void **state)
{
	parses(PARSE("--mode=capture"));
	assert_int_equal(cfg.mode, SL_MODE_CAPTURE);
	parses(PARSE("--dir=/data/cap"));
	assert_string_equal(cfg.dir, "/data/cap");
	/* A value may itself start with dashes when attached with '='. */
	parses(PARSE("--dir=--odd"));
	assert_string_equal(cfg.dir, "--odd");
	parses(PARSE("--format=pcap"));
	assert_int_equal(cfg.format, SL_PCAP_FORMAT_PCAP);
	parses(PARSE("--format=pcap", "--format=pcapng"));
	assert_int_equal(cfg.format, SL_PCAP_FORMAT_PCAPNG);
}

static void
test_file_mode(void **state)
{
	parses(PARSE("--mode=file", "--ip=10.0.0.1/24", "--ip=fd00::1/64", "--ip=192.0.2.9/32@3",
		     "--udp-port=9000", "--overwrite", "--psk-file=/k", "--allow=10.0.0.0/8",
		     "--allow=fd00::/16", "--mtu=9000", "--max-sessions=4", "--max-files=8",
		     "--window=16M"));
	assert_int_equal(cfg.mode, SL_MODE_FILE);
	assert_int_equal(cfg.nb_ips, 3);
	assert_int_equal(cfg.ips[0].family, 4);
	assert_int_equal(cfg.ips[0].prefix, 24);
	assert_int_equal(cfg.ips[0].port, 0);
	assert_int_equal(cfg.ips[0].ip[0], 10);
	assert_int_equal(cfg.ips[0].ip[3], 1);
	assert_int_equal(cfg.ips[1].family, 6);
	assert_int_equal(cfg.ips[1].ip[0], 0xfd);
	assert_int_equal(cfg.ips[1].ip[15], 1);
	assert_int_equal(cfg.ips[2].port, 3);
	assert_int_equal(cfg.udp_port, 9000);
	assert_true(cfg.overwrite);
	assert_string_equal(cfg.psk_file, "/k");
	assert_int_equal(cfg.nb_allow, 2);
	assert_string_equal(cfg.allow[1], "fd00::/16");
	assert_int_equal(cfg.mtu, 9000);
	assert_int_equal(cfg.max_sessions, 4);
	assert_int_equal(cfg.max_files, 8);
	assert_int_equal(cfg.window, 16u << 20);

	fails_with(PARSE("--mode=file"), "--mode=file needs an address: --ip=ADDR/PREFIX (such as "
					 "10.0.0.1/24)");
	fails_with(PARSE("--ip=10.0.0.1/24"),
		   "--ip, --overwrite, --allow and --psk-file need --mode=file");
	fails_with(PARSE("--overwrite"),
		   "--ip, --overwrite, --allow and --psk-file need --mode=file");
	fails_with(PARSE("--mode=file", "--ip=10.0.0.1/24", "--ip=10.0.0.2/24"),
		   "--ip: '10.0.0.2/24' gives port 0 a second IPv4 address");
	fails_with(PARSE("--mode=file", "--ip=10.0.0.1/24", "--filter=udp"),
		   "--filter is for --mode=capture");
	fails_with(
		PARSE("--mode=file", "--ip=10.0.0.1/24", "--max-sessions=65536", "--max-files=17"),
		"--max-sessions (65536) times --max-files (17) must not exceed 1048576");
	parses(PARSE("--mode=file", "--ip=10.0.0.1/24", "--max-sessions=65536", "--max-files=16"));
	fails_with(PARSE("--mode=file", "--ip=10.0.0.1/24", "--window=64K"),
		   "--window (65536) must be at least --write-buffer (1048576), the largest chunk");
}

static void
test_long_paths(void **state)
{
	char *arg = malloc(PATH_MAX + 32);

	assert_non_null(arg);
	/* The longest directory that fits, then one byte more. */
	strcpy(arg, "--dir=");
	memset(arg + 6, 'd', PATH_MAX - 1);
	arg[6 + PATH_MAX - 1] = '\0';
	parses(PARSE(arg));
	assert_int_equal(strlen(cfg.dir), PATH_MAX - 1);
	strcat(arg, "d");
	fails_with(PARSE(arg), "--dir is too long (4096 characters, at most 4095)");

	strcpy(arg, "--stats-json=");
	memset(arg + 13, 'j', PATH_MAX);
	arg[13 + PATH_MAX] = '\0';
	fails_with(PARSE(arg), "--stats-json is too long (4096 characters, at most 4095)");
	free(arg);
}

static void
test_numbers(void **state)
{
	parses(PARSE("--snaplen=1"));
	assert_int_equal(cfg.snaplen, 1);
	parses(PARSE("--snaplen=262144"));
	assert_int_equal(cfg.snaplen, 262144);
	parses(PARSE("--rotate-seconds=0"));
	assert_int_equal(cfg.rotate_seconds, 0);
	parses(PARSE("--rotate-seconds=31536000"));
	assert_int_equal(cfg.rotate_seconds, 31536000);
	parses(PARSE("--burst=1"));
	assert_int_equal(cfg.burst, 1);
	parses(PARSE("--burst=512", "--ring-size=1024"));
	assert_int_equal(cfg.burst, 512);
	assert_int_equal(cfg.ring_size, 1024);
	parses(PARSE("--ring-size=16777216"));
	assert_int_equal(cfg.ring_size, 16777216);
	parses(PARSE("--max-packets=0"));
	assert_int_equal(cfg.max_packets, 0);
	parses(PARSE("--max-packets=18446744073709551615"));
	assert_int_equal(cfg.max_packets, UINT64_MAX);
	parses(PARSE("--stats-period=86400"));
	assert_int_equal(cfg.stats_period, 86400);
	parses(PARSE("--idle-sleep=1000000"));
	assert_int_equal(cfg.idle_sleep_us, 1000000);
	parses(PARSE("--write-buffers=4"));
	assert_int_equal(cfg.write_buffers, 4);
	parses(PARSE("--write-buffers=4096"));
	assert_int_equal(cfg.write_buffers, 4096);
	parses(PARSE("--uring-depth=8"));
	assert_int_equal(cfg.uring_depth, 8);
	parses(PARSE("--uring-depth=4096"));
	assert_int_equal(cfg.uring_depth, 4096);
	parses(PARSE("--flush-interval=1"));
	assert_int_equal(cfg.flush_ms, 1);
	parses(PARSE("--flush-interval=60000"));
	assert_int_equal(cfg.flush_ms, 60000);
	parses(PARSE("--rxd=64"));
	assert_int_equal(cfg.nb_rxd, 64);
	parses(PARSE("--rxd=16384"));
	assert_int_equal(cfg.nb_rxd, 16384);
	parses(PARSE("--mbufs=0"));
	assert_int_equal(cfg.nb_mbufs, 0);
	parses(PARSE("--mbufs=1024"));
	assert_int_equal(cfg.nb_mbufs, 1024);
	parses(PARSE("--mbufs=16777216"));
	assert_int_equal(cfg.nb_mbufs, 16777216);
}

static void
test_sizes(void **state)
{
	parses(PARSE("--rotate-size=0"));
	assert_int_equal(cfg.rotate_size, 0);
	parses(PARSE("--rotate-size=4096"));
	assert_int_equal(cfg.rotate_size, 4096);
	parses(PARSE("--rotate-size=4K"));
	assert_int_equal(cfg.rotate_size, 4 * KIB);
	parses(PARSE("--rotate-size=512MiB"));
	assert_int_equal(cfg.rotate_size, 512 * MIB);
	parses(PARSE("--rotate-size=2G"));
	assert_int_equal(cfg.rotate_size, 2 * GIB);
	parses(PARSE("--rotate-size=1T"));
	assert_int_equal(cfg.rotate_size, TIB);
	parses(PARSE("--snaplen=1500", "--write-buffer=64K"));
	assert_int_equal(cfg.write_buffer_size, 64 * KIB);
	parses(PARSE("--snaplen=1500", "--write-buffer=68K"));
	assert_int_equal(cfg.write_buffer_size, 68 * KIB);
	parses(PARSE("--write-buffer=4M"));
	assert_int_equal(cfg.write_buffer_size, 4 * MIB);
	parses(PARSE("--write-buffer=64MiB"));
	assert_int_equal(cfg.write_buffer_size, 64 * MIB);
	parses(PARSE("--snaplen=1500", "--write-buffer=65536"));
	assert_int_equal(cfg.write_buffer_size, 65536);
	/* A buffer must hold the largest pcapng record for the snaplen,
	 * whatever the order of the options. */
	fails_with(PARSE("--write-buffer=256K"),
		   "--write-buffer (262144) must hold the largest record, 262176 bytes for "
		   "--snaplen 262144: raise --write-buffer or lower --snaplen");
	fails_with(PARSE("--write-buffer=64K", "--snaplen=65505"),
		   "--write-buffer (65536) must hold the largest record, 65540 bytes for "
		   "--snaplen 65505: raise --write-buffer or lower --snaplen");
	parses(PARSE("--write-buffer=64K", "--snaplen=65504"));
}

static void
test_control_options(void **state)
{
	assert_false(cfg.interactive);
	assert_string_equal(cfg.filter, "");
	parses(PARSE("-i", "--cmdline-file=/tmp/cmds", "--filter=udp and port 7400"));
	assert_true(cfg.interactive);
	assert_string_equal(cfg.cmdline_file, "/tmp/cmds");
	assert_string_equal(cfg.filter, "udp and port 7400");
	parses(PARSE("--interactive", "--filter", "tcp"));
	assert_string_equal(cfg.filter, "tcp");
	fails_with(PARSE("--filter="), "--filter needs a value");
	fails_with(PARSE("-i=1"), "unknown option '-='");
	fails_with(PARSE("--interactive=yes"), "--interactive takes no value");
}

static void
test_duration(void **state)
{
	parses(PARSE("--duration=0"));
	assert_int_equal(cfg.duration_ms, 0);
	parses(PARSE("--duration=10"));
	assert_int_equal(cfg.duration_ms, 10000);
	parses(PARSE("--duration=0.5"));
	assert_int_equal(cfg.duration_ms, 500);
	parses(PARSE("--duration=2.125"));
	assert_int_equal(cfg.duration_ms, 2125);
	parses(PARSE("--duration=315360000"));
	assert_int_equal(cfg.duration_ms, UINT64_C(315360000000));
}

static void
test_flags_and_strings(void **state)
{
	parses(PARSE("--no-direct"));
	assert_false(cfg.direct);
	assert_true(cfg.promiscuous);
	parses(PARSE("--no-promisc"));
	assert_false(cfg.promiscuous);
	assert_true(cfg.direct);
	parses(PARSE("--stats-json=/tmp/s.json"));
	assert_string_equal(cfg.stats_json, "/tmp/s.json");
	parses(PARSE("--name-prefix=cap_1.a-b"));
	assert_string_equal(cfg.name_prefix, "cap_1.a-b");
	parses(PARSE("--name-prefix=x"));
	assert_string_equal(cfg.name_prefix, "x");
	parses(PARSE("--name-prefix=a.", "--name-prefix=-a"));
	assert_string_equal(cfg.name_prefix, "-a");
	parses(PARSE(
		"--name-prefix=123456789012345678901234567890123456789012345678901234567890123"));
	assert_int_equal(strlen(cfg.name_prefix), 63);
}

static void
test_lcore_lists(void **state)
{
	parses(PARSE("--rx-lcores=1,3-5", "--writer-lcores=6-7,2"));
	assert_int_equal(cfg.nb_rx_lcores, 4);
	assert_memory_equal(cfg.rx_lcores, ((const uint16_t[]){ 1, 3, 4, 5 }),
			    4 * sizeof(uint16_t));
	assert_int_equal(cfg.nb_writer_lcores, 3);
	assert_memory_equal(cfg.writer_lcores, ((const uint16_t[]){ 6, 7, 2 }),
			    3 * sizeof(uint16_t));
	parses(PARSE("--rx-lcores=127"));
	assert_int_equal(cfg.nb_rx_lcores, 1);
	assert_int_equal(cfg.rx_lcores[0], 127);
	assert_int_equal(cfg.nb_writer_lcores, 0);
	/* The later list replaces the earlier one. */
	parses(PARSE("--rx-lcores=1-4", "--rx-lcores=9"));
	assert_int_equal(cfg.nb_rx_lcores, 1);
	assert_int_equal(cfg.rx_lcores[0], 9);
}

static void
test_lcore_overlap(void **state)
{
	fails_with(PARSE("--rx-lcores=1-3", "--writer-lcores=4,2"),
		   "lcore 2 is in both --rx-lcores and --writer-lcores");
	fails_with(PARSE("--writer-lcores=5", "--rx-lcores=0-10"),
		   "lcore 5 is in both --rx-lcores and --writer-lcores");
	/* A replaced list no longer counts. */
	parses(PARSE("--rx-lcores=1", "--writer-lcores=1", "--writer-lcores=2"));
}

static void
test_separate_values(void **state)
{
	parses(PARSE("--dir", "/data", "--snaplen", "128", "--format", "pcap", "--rotate-size",
		     "2M", "--duration", "1.5", "--rx-lcores", "1-2", "--name-prefix", "p"));
	assert_string_equal(cfg.dir, "/data");
	assert_int_equal(cfg.snaplen, 128);
	assert_int_equal(cfg.format, SL_PCAP_FORMAT_PCAP);
	assert_int_equal(cfg.rotate_size, 2 * MIB);
	assert_int_equal(cfg.duration_ms, 1500);
	assert_int_equal(cfg.nb_rx_lcores, 2);
	assert_string_equal(cfg.name_prefix, "p");
	fails_with(PARSE("--snaplen", "0"), "--snaplen: '0' is out of range (1..262144)");
	/* A forgotten value must not swallow the next option. */
	fails_with(PARSE("--dir", "--format=pcap"),
		   "--dir needs a value (got option '--format=pcap')");
	fails_with(PARSE("--stats-json", "--no-direct"),
		   "--stats-json needs a value (got option '--no-direct')");
}

static void
test_ring_size_vs_burst(void **state)
{
	const char *expect = "--ring-size (64) must be at least twice --burst (64)";

	fails_with(PARSE("--ring-size=64", "--burst=64"), expect);
	fails_with(PARSE("--burst=64", "--ring-size=64"), expect);
	fails_with(PARSE("--burst=512", "--ring-size=1023"),
		   "--ring-size (1023) must be at least twice --burst (512)");
	/* Equal to twice the burst is enough, whichever option comes first. */
	parses(PARSE("--ring-size=128", "--burst=64"));
	assert_int_equal(cfg.ring_size, 128);
	assert_int_equal(cfg.burst, 64);
	parses(PARSE("--burst=64", "--ring-size=128"));
	parses(PARSE("--ring-size=64"));
	assert_int_equal(cfg.burst, 32);
}

static void
test_help(void **state)
{
	assert_int_equal(PARSE("-h"), 1);
	assert_int_equal(PARSE("--help"), 1);
	assert_int_equal(PARSE("--snaplen=64", "-h", "--dir=/x"), 1);
	/* An error before -h is still reported. */
	fails_with(PARSE("--bogus", "--help"), "unknown option '--bogus'");
	fails_with(PARSE("--help=yes"), "--help takes no value");
}

static void
test_repeated_calls_reset_getopt(void **state)
{
	/* "-h" returns while getopt is still inside the cluster "-hx"; the next
	 * call must not resume there and complain about 'x'. */
	assert_int_equal(PARSE("-hx"), 1);
	parses(PARSE("--snaplen=5"));
	assert_int_equal(cfg.snaplen, 5);
	fails_with(PARSE("--snaplen", "7", "stray"), "unexpected argument 'stray'");
	parses(PARSE("--snaplen", "9"));
	assert_int_equal(cfg.snaplen, 9);
}

static void
test_unknown_and_positional(void **state)
{
	fails_with(PARSE("--bogus"), "unknown option '--bogus'");
	fails_with(PARSE("--bogus=1"), "unknown option '--bogus'");
	fails_with(PARSE("-x"), "unknown option '-x'");
	parses(PARSE("--"));
	fails_with(PARSE("--snaplen=64", "foo"), "unexpected argument 'foo'");
	fails_with(PARSE("foo", "--snaplen=64"), "unexpected argument 'foo'");
	/* Parsing stops at the first positional argument, so it is the error named. */
	fails_with(PARSE("foo", "--bogus"), "unexpected argument 'foo'");
	fails_with(PARSE("--", "foo"), "unexpected argument 'foo'");
	fails_with(PARSE("--", "--snaplen=64"), "unexpected argument '--snaplen=64'");
	fails_with(PARSE("-"), "unexpected argument '-'");
	fails_with(PARSE("--no"), "option '--no' is ambiguous");
	fails_with(PARSE("--rotate=1"), "option '--rotate' is ambiguous");
	fails_with(PARSE("--snaplen"), "--snaplen needs a value");
	fails_with(PARSE("--dir=/x", "--rx-lcores"), "--rx-lcores needs a value");
}

struct bad_case {
	const char *arg;
	const char *error;
};

/* At least one value out of range and one malformed per option. */
static const struct bad_case bad_cases[] = {
	{ "--mode=replay", "--mode: 'replay' is not one of capture, file" },
	{ "--mode=", "--mode needs a value" },
	{ "--ip=10.0.0.1", "--ip: '10.0.0.1' is not ADDR/PREFIX[@PORT] (such as 10.0.0.1/24 or "
			   "fd00::1/64@1)" },
	{ "--ip=10.0.0.1/33", "--ip: '10.0.0.1/33' is not ADDR/PREFIX[@PORT] (such as 10.0.0.1/24 "
			      "or fd00::1/64@1)" },
	{ "--ip=224.0.0.1/4", "--ip: '224.0.0.1/4' is not a unicast host address with a prefix" },
	{ "--ip=ff02::1/64", "--ip: 'ff02::1/64' is not a unicast host address with a prefix" },
	{ "--ip=10.0.0.1/24@32", "--ip: '10.0.0.1/24@32' has a port index that is not 0..31" },
	{ "--ip=10.0.0.1/24@x", "--ip: '10.0.0.1/24@x' has a port index that is not 0..31" },
	{ "--udp-port=0", "--udp-port: '0' is out of range (1..65535)" },
	{ "--udp-port=65536", "--udp-port: '65536' is out of range (1..65535)" },
	{ "--mtu=1279", "--mtu: '1279' is out of range (1280..9000)" },
	{ "--mtu=9001", "--mtu: '9001' is out of range (1280..9000)" },
	{ "--max-sessions=0", "--max-sessions: '0' is out of range (1..65536)" },
	{ "--max-files=4097", "--max-files: '4097' is out of range (1..4096)" },
	{ "--window=1K", "--window: '1K' is out of range (64K..4G)" },
	{ "--window=lots", "--window: 'lots' is not a size (a number with an optional K, M, G or T "
			   "suffix)" },
	{ "--dir=", "--dir needs a value" },
	{ "--format=foo", "--format: 'foo' is not one of pcap, pcapng" },
	{ "--format=PCAP", "--format: 'PCAP' is not one of pcap, pcapng" },
	{ "--format=", "--format needs a value" },
	{ "--snaplen=0", "--snaplen: '0' is out of range (1..262144)" },
	{ "--snaplen=262145", "--snaplen: '262145' is out of range (1..262144)" },
	{ "--snaplen=abc", "--snaplen: 'abc' is not a decimal number" },
	{ "--snaplen=-1", "--snaplen: '-1' is not a decimal number" },
	{ "--snaplen= 64", "--snaplen: ' 64' is not a decimal number" },
	{ "--rotate-size=4095", "--rotate-size: '4095' is out of range (0 or 4K..1T)" },
	{ "--rotate-size=1", "--rotate-size: '1' is out of range (0 or 4K..1T)" },
	{ "--rotate-size=1025G", "--rotate-size: '1025G' is out of range (0 or 4K..1T)" },
	{ "--rotate-size=1X",
	  "--rotate-size: '1X' is not a size (a number with an optional K, M, G or T suffix)" },
	{ "--rotate-size=1.5G",
	  "--rotate-size: '1.5G' is not a size (a number with an optional K, M, G or T suffix)" },
	{ "--rotate-seconds=31536001",
	  "--rotate-seconds: '31536001' is out of range (0..31536000)" },
	{ "--rotate-seconds=1h", "--rotate-seconds: '1h' is not a decimal number" },
	{ "--burst=0", "--burst: '0' is out of range (1..512)" },
	{ "--burst=513", "--burst: '513' is out of range (1..512)" },
	{ "--burst=32x", "--burst: '32x' is not a decimal number" },
	{ "--ring-size=63", "--ring-size: '63' is out of range (64..16777216)" },
	{ "--ring-size=16777217", "--ring-size: '16777217' is out of range (64..16777216)" },
	{ "--ring-size=16K", "--ring-size: '16K' is not a decimal number" },
	{ "--max-packets=18446744073709551616",
	  "--max-packets: '18446744073709551616' is out of range (0..18446744073709551615)" },
	{ "--max-packets=1e6", "--max-packets: '1e6' is not a decimal number" },
	{ "--duration=315360000.001",
	  "--duration: '315360000.001' is out of range (0..315360000 seconds)" },
	{ "--duration=1.5s", "--duration: '1.5s' is not a number of seconds (such as 10 or 0.5)" },
	{ "--duration=-1", "--duration: '-1' is not a number of seconds (such as 10 or 0.5)" },
	{ "--stats-period=86401", "--stats-period: '86401' is out of range (0..86400)" },
	{ "--stats-period=0.5", "--stats-period: '0.5' is not a decimal number" },
	{ "--stats-json=", "--stats-json needs a value" },
	{ "--idle-sleep=1000001", "--idle-sleep: '1000001' is out of range (0..1000000)" },
	{ "--idle-sleep=fast", "--idle-sleep: 'fast' is not a decimal number" },
	{ "--no-direct=1", "--no-direct takes no value" },
	{ "--no-promisc=yes", "--no-promisc takes no value" },
	{ "--rx-lcores=128", "--rx-lcores: '128' has a lcore id out of range (0..127)" },
	{ "--rx-lcores=1,1",
	  "--rx-lcores: '1,1' is not a list of distinct lcore ids (such as 1,3-5)" },
	{ "--rx-lcores=3-1",
	  "--rx-lcores: '3-1' is not a list of distinct lcore ids (such as 1,3-5)" },
	{ "--writer-lcores=0-200",
	  "--writer-lcores: '0-200' has a lcore id out of range (0..127)" },
	{ "--writer-lcores=a",
	  "--writer-lcores: 'a' is not a list of distinct lcore ids (such as 1,3-5)" },
	{ "--writer-lcores=", "--writer-lcores needs a value" },
	{ "--write-buffer=60K", "--write-buffer: '60K' is out of range (64K..64M)" },
	{ "--write-buffer=65M", "--write-buffer: '65M' is out of range (64K..64M)" },
	{ "--write-buffer=65537", "--write-buffer: '65537' is not a multiple of 4096" },
	{ "--write-buffer=66K", "--write-buffer: '66K' is not a multiple of 4096" },
	{ "--write-buffer=1.5M",
	  "--write-buffer: '1.5M' is not a size (a number with an optional K, M, G or T suffix)" },
	{ "--write-buffers=3", "--write-buffers: '3' is out of range (4..4096)" },
	{ "--write-buffers=4097", "--write-buffers: '4097' is out of range (4..4096)" },
	{ "--write-buffers=ten", "--write-buffers: 'ten' is not a decimal number" },
	{ "--uring-depth=7", "--uring-depth: '7' is out of range (8..4096)" },
	{ "--uring-depth=4097", "--uring-depth: '4097' is out of range (8..4096)" },
	{ "--uring-depth=0x10", "--uring-depth: '0x10' is not a decimal number" },
	{ "--flush-interval=0", "--flush-interval: '0' is out of range (1..60000)" },
	{ "--flush-interval=60001", "--flush-interval: '60001' is out of range (1..60000)" },
	{ "--flush-interval=1s", "--flush-interval: '1s' is not a decimal number" },
	{ "--rxd=63", "--rxd: '63' is out of range (64..16384)" },
	{ "--rxd=16385", "--rxd: '16385' is out of range (64..16384)" },
	{ "--rxd=1k", "--rxd: '1k' is not a decimal number" },
	{ "--mbufs=1", "--mbufs: '1' is out of range (0 or 1024..16777216)" },
	{ "--mbufs=1023", "--mbufs: '1023' is out of range (0 or 1024..16777216)" },
	{ "--mbufs=16777217", "--mbufs: '16777217' is out of range (0 or 1024..16777216)" },
	{ "--mbufs=lots", "--mbufs: 'lots' is not a decimal number" },
	{ "--name-prefix=", "--name-prefix needs a value" },
	{ "--name-prefix=a/b",
	  "--name-prefix: 'a/b' may only contain letters, digits, '_', '.' and '-'" },
	{ "--name-prefix=a b",
	  "--name-prefix: 'a b' may only contain letters, digits, '_', '.' and '-'" },
	{ "--name-prefix=.hidden", "--name-prefix: '.hidden' must not start with '.'" },
	{ "--name-prefix=1234567890123456789012345678901234567890123456789012345678901234",
	  "--name-prefix is too long (64 characters, at most 63)" },
};

static void
test_bad_values(void **state)
{
	for (unsigned i = 0; i < SL_ARRAY_SIZE(bad_cases); i++) {
		struct sl_config before;
		int rc = PARSE(bad_cases[i].arg);

		if (rc != -EINVAL || strcmp(err, bad_cases[i].error) != 0)
			print_error("case %s\n", bad_cases[i].arg);
		fails_with(rc, bad_cases[i].error);
		/* A refused value leaves the option's field at its default. */
		sl_config_defaults(&before);
		assert_memory_equal(&cfg, &before, sizeof(cfg));
	}
}

static void
test_error_buffer(void **state)
{
	char small[8];
	char *argv[] = { (char *)"sluice", (char *)"--snaplen=0", NULL };

	sl_config_defaults(&cfg);
	assert_int_equal(sl_config_parse(&cfg, 2, argv, small, sizeof(small)), -EINVAL);
	assert_string_equal(small, "--snapl");
	assert_int_equal(sl_config_parse(&cfg, 2, argv, NULL, 0), -EINVAL);
}

static void
test_usage(void **state)
{
	static const char *const expected[] = {
		"Usage: sluice [EAL options] -- [options]",
		"before '--'",
		"--mode=capture",
		"--perf-test=disk",
		"--perf-frame-size=N",
		"--dir=PATH ",
		"(default .)",
		"--format=pcap|pcapng ",
		"(default pcapng)",
		"--snaplen=N ",
		"(default 262144)",
		"--rotate-size=SIZE ",
		"(default 1G)",
		"--rotate-seconds=N ",
		"--burst=N ",
		"(default 32)",
		"--ring-size=N ",
		"(default 16384)",
		"--max-packets=N ",
		"--duration=SECONDS ",
		"--stats-period=SECONDS ",
		"--stats-json=FILE ",
		"--idle-sleep=USEC ",
		"--no-direct ",
		"--rx-lcores=LIST ",
		"--writer-lcores=LIST ",
		"--write-buffer=SIZE ",
		"(default 1M)",
		"--write-buffers=N ",
		"--uring-depth=N ",
		"(default 128)",
		"--flush-interval=MS ",
		"(default 1000)",
		"--rxd=N ",
		"(default 1024)",
		"--mbufs=N ",
		"--no-promisc ",
		"--name-prefix=STR ",
		"(default sluice)",
		"-h, --help",
		"Mode and output:",
		"Rotation:",
		"Lcores and performance:",
		"Stopping and statistics:",
		"sluice -l 0-2 --vdev=net_pcap0,rx_pcap=in.pcap -- --dir=/data/cap --format=pcapng\n",
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	sl_config_usage(f, "sluice");
	assert_int_equal(fclose(f), 0);
	for (unsigned i = 0; i < SL_ARRAY_SIZE(expected); i++) {
		if (strstr(text, expected[i]) == NULL)
			print_error("usage lacks \"%s\"\n", expected[i]);
		assert_non_null(strstr(text, expected[i]));
	}
	free(text);
}

static void
test_perf_test(void **state)
{
	(void)state;
	parses(PARSE("--dir=/tmp"));
	assert_int_equal(cfg.perf_test, SL_PERF_NONE);
	assert_int_equal(cfg.perf_frame_size, 9000);
	parses(PARSE("--perf-test=disk", "--duration=2.5", "--perf-frame-size=64"));
	assert_int_equal(cfg.perf_test, SL_PERF_DISK);
	assert_int_equal(cfg.duration_ms, 2500);
	assert_int_equal(cfg.perf_frame_size, 64);
	parses(PARSE("--perf-frame-size=9216", "--perf-test", "disk"));
	assert_int_equal(cfg.perf_frame_size, 9216);
	assert_int_equal(PARSE("--perf-test=network"), -EINVAL);
	assert_non_null(strstr(err, "--perf-test"));
	assert_non_null(strstr(err, "disk"));
	assert_int_equal(PARSE("--perf-frame-size=63"), -EINVAL);
	assert_non_null(strstr(err, "--perf-frame-size"));
	assert_int_equal(PARSE("--perf-frame-size=9217"), -EINVAL);
	fails_with(PARSE("--perf-test=disk", "-i"),
		   "--perf-test runs alone: not with -i, --cmdline-file or --mode=file");
	fails_with(PARSE("--mode=file", "--ip=10.0.0.1/24", "--perf-test=disk"),
		   "--perf-test runs alone: not with -i, --cmdline-file or --mode=file");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_no_arguments_keeps_defaults),
		cmocka_unit_test(test_format_name),
		cmocka_unit_test(test_mode_dir_format),
		cmocka_unit_test(test_file_mode),
		cmocka_unit_test(test_long_paths),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_control_options),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_flags_and_strings),
		cmocka_unit_test(test_lcore_lists),
		cmocka_unit_test(test_lcore_overlap),
		cmocka_unit_test(test_separate_values),
		cmocka_unit_test(test_ring_size_vs_burst),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_repeated_calls_reset_getopt),
		cmocka_unit_test(test_unknown_and_positional),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_perf_test),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
