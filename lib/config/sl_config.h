/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

/**
 * @file
 * sluice's application options (everything after EAL's "--"): defaults,
 * parsing and validation. Pure code, no EAL: the control lcore calls it
 * once at start-up, and unit tests call it directly.
 */

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_common.h"
#include "sl_pcap.h"

enum sl_mode {
	SL_MODE_CAPTURE = 0, /**< Every frame into rotating pcap/pcapng files. */
	SL_MODE_FILE = 1,    /**< Whole files from senders (docs/protocol.md). */
};

/** What --perf-test runs instead of ingest. */
enum sl_perf_test {
	SL_PERF_NONE = 0,
	SL_PERF_DISK = 1, /**< Writer lcores alone write synthetic records for --duration. */
};

/** Most --ip addresses (one IPv4 and one IPv6 per port). */
#define SL_CONFIG_MAX_IPS (2 * SL_MAX_PORTS)
/** Most --allow entries. */
#define SL_CONFIG_MAX_ALLOW 64

/** One --ip=ADDR/PREFIX[@PORT]. */
struct sl_config_ip {
	uint16_t port;  /**< Index of the port in DPDK port order (default 0). */
	uint8_t family; /**< 4 or 6. */
	uint8_t prefix;
	uint8_t ip[16]; /**< Network order; IPv4 in ip[0..3]. */
};

struct sl_config {
	enum sl_mode mode;          /**< --mode=capture */
	char dir[PATH_MAX];         /**< --dir=PATH, default "." */
	enum sl_pcap_format format; /**< --format=pcap|pcapng, default pcapng */
	uint32_t snaplen;           /**< --snaplen=N, 1..262144, default 262144 */
	uint64_t rotate_size;       /**< --rotate-size=SIZE, 0 = never, default 1G */
	uint32_t rotate_seconds;    /**< --rotate-seconds=N, 0 = never (default) */
	uint16_t burst;             /**< --burst=N, 1..512, default 32 */
	uint32_t ring_size;         /**< --ring-size=N, >= 2*burst, <= 1<<24, default 16384 */
	uint64_t max_packets;       /**< --max-packets=N, 0 = no limit (default) */
	uint64_t duration_ms;       /**< --duration=SECONDS (fraction allowed), 0 = none */
	uint32_t stats_period;      /**< --stats-period=SECONDS, 0 = off (default) */
	char stats_json[PATH_MAX];  /**< --stats-json=FILE, "" = none */
	uint32_t idle_sleep_us;     /**< --idle-sleep=USEC, 0..1000000, default 0 */
	bool direct;                /**< O_DIRECT writes; --no-direct clears it */
	uint16_t rx_lcores[SL_MAX_LCORES];     /**< --rx-lcores=LIST */
	unsigned nb_rx_lcores;                 /**< 0 = not given: split by default */
	uint16_t writer_lcores[SL_MAX_LCORES]; /**< --writer-lcores=LIST */
	unsigned nb_writer_lcores;             /**< 0 = not given: split by default */
	uint64_t
		write_buffer_size; /**< --write-buffer=SIZE, multiple of 4K, 64K..64M, default 1M */
	uint32_t write_buffers;    /**< --write-buffers=N per writer, 4..4096, default 32 */
	uint32_t uring_depth;      /**< --uring-depth=N, 8..4096, default 128 */
	uint32_t flush_ms;         /**< --flush-interval=MS, 1..60000, default 1000 */
	uint16_t nb_rxd;           /**< --rxd=N, 64..16384, default 1024 */
	uint32_t nb_mbufs;         /**< --mbufs=N, 0 = sized automatically (default) */
	bool promiscuous;          /**< --no-promisc clears it (default on) */
	/** --name-prefix=STR (capture file names), [A-Za-z0-9_.-]{1,63}, default "sluice" */
	char name_prefix[64];
	bool interactive;            /**< -i: the sluice> prompt; ingest waits for start */
	char cmdline_file[PATH_MAX]; /**< --cmdline-file=FILE: commands run before the prompt */
	char filter[4096];           /**< --filter=EXPR: libpcap capture filter, "" = none */
	/* File mode. */
	struct sl_config_ip ips[SL_CONFIG_MAX_IPS]; /**< --ip=ADDR/PREFIX[@PORT], repeatable */
	unsigned nb_ips;
	uint16_t udp_port;       /**< --udp-port=N, 1..65535, default 7400 */
	bool overwrite;          /**< --overwrite: replace existing files */
	char psk_file[PATH_MAX]; /**< --psk-file=FILE: keys senders must prove, "" = none */
	char allow[SL_CONFIG_MAX_ALLOW][64]; /**< --allow=CIDR, repeatable; none = everyone */
	unsigned nb_allow;
	uint16_t mtu;          /**< --mtu=N, 1280..9000, default 1500 (largest IP packet) */
	uint32_t max_sessions; /**< --max-sessions=N per writer, 1..65536, default 64 */
	uint32_t max_files;    /**< --max-files=N in progress per session, 1..4096, default 32 */
	uint64_t window;       /**< --window=SIZE credit per session, default 8M */
	/* Driver profile (lib/profile). */
	char profile[PATH_MAX]; /**< --profile=FILE: NIC profile, "" = none */
	/* Benchmarks. */
	enum sl_perf_test perf_test; /**< --perf-test=disk: writers alone, no ports */
	uint32_t perf_frame_size;    /**< --perf-frame-size=N, 64..9216, default 9000 */
};

/** Fill @p cfg with every default. */
void sl_config_defaults(struct sl_config *cfg);

/**
 * Parse the application arguments (argv[0] is the program name, as
 * rte_eal_init() leaves it). Starts from the current contents of @p cfg, so
 * call sl_config_defaults() first. Unknown options, missing or malformed
 * values, values out of range and contradictions (a lcore in both lists)
 * are errors: @p err receives one line naming the option and the reason.
 *
 * @return 0 on success, 1 if -h/--help was given (usage is not printed
 *   here), -EINVAL on any error (cfg may be partly modified).
 */
int sl_config_parse(struct sl_config *cfg, int argc, char **argv, char *err, size_t errlen);

/** Print the usage text (every option, its default and meaning) to @p f. */
void sl_config_usage(FILE *f, const char *prog);

/** Name of a format as written on the command line ("pcap" or "pcapng"). */
const char *sl_config_format_name(enum sl_pcap_format fmt);

#endif /* SL_CONFIG_H */
