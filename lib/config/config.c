/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "sl_config.h"
#include "sl_net.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

/* Ten 365-day years: longer runs are surely a typo. */
#define MAX_DURATION_MS (UINT64_C(10) * 365 * 86400 * 1000)

/* Long-only options take values above any character, so that getopt's optopt
 * never confuses them with a short option. */
enum option_id {
	OPT_HELP = 'h',
	OPT_INTERACTIVE = 'i',
	OPT_MODE = 256,
	OPT_DIR,
	OPT_FORMAT,
	OPT_SNAPLEN,
	OPT_ROTATE_SIZE,
	OPT_ROTATE_SECONDS,
	OPT_BURST,
	OPT_RING_SIZE,
	OPT_MAX_PACKETS,
	OPT_DURATION,
	OPT_STATS_PERIOD,
	OPT_STATS_JSON,
	OPT_IDLE_SLEEP,
	OPT_NO_DIRECT,
	OPT_RX_LCORES,
	OPT_WRITER_LCORES,
	OPT_WRITE_BUFFER,
	OPT_WRITE_BUFFERS,
	OPT_URING_DEPTH,
	OPT_FLUSH_INTERVAL,
	OPT_RXD,
	OPT_MBUFS,
	OPT_NO_PROMISC,
	OPT_NAME_PREFIX,
	OPT_CMDLINE_FILE,
	OPT_FILTER,
	OPT_IP,
	OPT_UDP_PORT,
	OPT_OVERWRITE,
	OPT_PSK_FILE,
	OPT_ALLOW,
	OPT_MTU,
	OPT_MAX_SESSIONS,
	OPT_MAX_FILES,
	OPT_WINDOW,
	OPT_PROFILE,
	OPT_PERF_TEST,
	OPT_PERF_FRAME_SIZE,
};

static const struct option long_options[] = {
	{ "help", no_argument, NULL, OPT_HELP },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
	{ "rotate-size", required_argument, NULL, OPT_ROTATE_SIZE },
	{ "rotate-seconds", required_argument, NULL, OPT_ROTATE_SECONDS },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "max-packets", required_argument, NULL, OPT_MAX_PACKETS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "stats-period", required_argument, NULL, OPT_STATS_PERIOD },
	{ "stats-json", required_argument, NULL, OPT_STATS_JSON },
	{ "idle-sleep", required_argument, NULL, OPT_IDLE_SLEEP },
	{ "no-direct", no_argument, NULL, OPT_NO_DIRECT },
	{ "rx-lcores", required_argument, NULL, OPT_RX_LCORES },
	{ "writer-lcores", required_argument, NULL, OPT_WRITER_LCORES },
	{ "write-buffer", required_argument, NULL, OPT_WRITE_BUFFER },
	{ "write-buffers", required_argument, NULL, OPT_WRITE_BUFFERS },
	{ "uring-depth", required_argument, NULL, OPT_URING_DEPTH },
	{ "flush-interval", required_argument, NULL, OPT_FLUSH_INTERVAL },
	{ "rxd", required_argument, NULL, OPT_RXD },
	{ "mbufs", required_argument, NULL, OPT_MBUFS },
	{ "no-promisc", no_argument, NULL, OPT_NO_PROMISC },
	{ "name-prefix", required_argument, NULL, OPT_NAME_PREFIX },
	{ "interactive", no_argument, NULL, OPT_INTERACTIVE },
	{ "cmdline-file", required_argument, NULL, OPT_CMDLINE_FILE },
	{ "filter", required_argument, NULL, OPT_FILTER },
	{ "ip", required_argument, NULL, OPT_IP },
	{ "udp-port", required_argument, NULL, OPT_UDP_PORT },
	{ "overwrite", no_argument, NULL, OPT_OVERWRITE },
	{ "psk-file", required_argument, NULL, OPT_PSK_FILE },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "max-sessions", required_argument, NULL, OPT_MAX_SESSIONS },
	{ "max-files", required_argument, NULL, OPT_MAX_FILES },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "perf-test", required_argument, NULL, OPT_PERF_TEST },
	{ "perf-frame-size", required_argument, NULL, OPT_PERF_FRAME_SIZE },
	{ NULL, 0, NULL, 0 },
};

/* The option being handled, so that every message names it and its value. */
struct arg {
	const char *name;
	const char *value;
	char *err;
	size_t errlen;
};

static const char *
option_name(int id)
{
	for (const struct option *o = long_options; o->name != NULL; o++)
		if (o->val == id)
			return o->name;
	return "?";
}

static int __attribute__((format(printf, 3, 4)))
report(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Writes "--NAME: 'VALUE' " followed by the reason. */
static int __attribute__((format(printf, 2, 3)))
bad_value(const struct arg *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (a->err == NULL || a->errlen == 0)
		return -EINVAL;
	n = snprintf(a->err, a->errlen, "--%s: '%s' ", a->name, a->value);
	if (n >= 0 && (size_t)n < a->errlen) {
		va_start(ap, fmt);
		vsnprintf(a->err + n, a->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int
number(const struct arg *a, uint64_t min, uint64_t max, uint64_t *out)
{
	int rc = sl_parse_u64(a->value, min, max, out);

	if (rc == -ERANGE)
		return bad_value(a, "is out of range (%" PRIu64 "..%" PRIu64 ")", min, max);
	if (rc < 0)
		return bad_value(a, "is not a decimal number");
	return 0;
}

static int
number_u32(const struct arg *a, uint64_t min, uint64_t max, uint32_t *out)
{
	uint64_t v;
	int rc = number(a, min, max, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

static int
number_u16(const struct arg *a, uint64_t min, uint64_t max, uint16_t *out)
{
	uint64_t v;
	int rc = number(a, min, max, &v);

	if (rc == 0)
		*out = (uint16_t)v;
	return rc;
}

/* Values that may be 0 to mean "off" or "automatic", or else lie in [min, max]. */
static int
number_zero_or(const struct arg *a, uint64_t min, uint64_t max, uint32_t *out)
{
	uint64_t v;
	int rc = sl_parse_u64(a->value, 0, max, &v);

	if (rc == 0 && v != 0 && v < min)
		rc = -ERANGE;
	if (rc == -ERANGE)
		return bad_value(a, "is out of range (0 or %" PRIu64 "..%" PRIu64 ")", min, max);
	if (rc < 0)
		return bad_value(a, "is not a decimal number");
	*out = (uint32_t)v;
	return 0;
}

/* @p range is the human-readable form of [min, max], e.g. "64K..64M". */
static int
size(const struct arg *a, uint64_t min, uint64_t max, const char *range, uint64_t *out)
{
	int rc = sl_parse_size(a->value, min, max, out);

	if (rc == -ERANGE)
		return bad_value(a, "is out of range (%s)", range);
	if (rc < 0)
		return bad_value(a,
				 "is not a size (a number with an optional K, M, G or T suffix)");
	return 0;
}

static int
seconds_ms(const struct arg *a, uint64_t max_ms, uint64_t *out)
{
	int rc = sl_parse_seconds_ms(a->value, max_ms, out);

	if (rc == -ERANGE)
		return bad_value(a, "is out of range (0..%" PRIu64 " seconds)", max_ms / 1000);
	if (rc < 0)
		return bad_value(a, "is not a number of seconds (such as 10 or 0.5)");
	return 0;
}

static int
path(const struct arg *a, char *dst, size_t dstlen)
{
	size_t len = strlen(a->value);

	/* The value is not echoed: it would fill the whole message. */
	if (len >= dstlen)
		return report(a->err, a->errlen, "--%s is too long (%zu characters, at most %zu)",
			      a->name, len, dstlen - 1);
	memcpy(dst, a->value, len + 1);
	return 0;
}

static int
lcore_list(const struct arg *a, uint16_t *ids, unsigned *nb)
{
	uint16_t tmp[SL_MAX_LCORES];
	int rc = sl_parse_id_list(a->value, SL_MAX_LCORES, tmp, SL_MAX_LCORES);

	if (rc == -ERANGE)
		return bad_value(a, "has a lcore id out of range (0..%u)", SL_MAX_LCORES - 1);
	if (rc < 0)
		return bad_value(a, "is not a list of distinct lcore ids (such as 1,3-5)");
	memcpy(ids, tmp, (size_t)rc * sizeof(tmp[0]));
	*nb = (unsigned)rc;
	return 0;
}

/* The prefix names hugepage files and DPDK objects, so only characters that
 * are safe in file names are allowed, and no leading '.' that would hide them. */
static int
name_prefix(const struct arg *a, char *dst, size_t dstlen)
{
	size_t len = strlen(a->value);

	if (len >= dstlen)
		return report(a->err, a->errlen, "--%s is too long (%zu characters, at most %zu)",
			      a->name, len, dstlen - 1);
	if (a->value[strspn(a->value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789_.-")] != '\0')
		return bad_value(a, "may only contain letters, digits, '_', '.' and '-'");
	if (a->value[0] == '.')
		return bad_value(a, "must not start with '.'");
	memcpy(dst, a->value, len + 1);
	return 0;
}

/* --ip=ADDR/PREFIX[@PORT]: at most one address of each family per port. */
static int
ip_address(struct sl_config *cfg, const struct arg *a)
{
	char text[128];
	const char *at = strrchr(a->value, '@');
	size_t len = at ? (size_t)(at - a->value) : strlen(a->value);
	struct sl_config_ip ip;
	uint64_t port = 0;

	memset(&ip, 0, sizeof(ip));
	if (len >= sizeof(text))
		return bad_value(a, "is too long");
	memcpy(text, a->value, len);
	text[len] = '\0';
	if (at != NULL && sl_parse_u64(at + 1, 0, SL_MAX_PORTS - 1, &port) < 0)
		return bad_value(a, "has a port index that is not 0..%u", SL_MAX_PORTS - 1);
	if (sl_net_parse_cidr(text, &ip.family, ip.ip, &ip.prefix) < 0)
		return bad_value(a, "is not ADDR/PREFIX[@PORT] (such as 10.0.0.1/24 or "
				    "fd00::1/64@1)");
	if ((ip.family == 4 && (ip.ip[0] == 0 || ip.ip[0] >= 224 || ip.prefix == 0)) ||
	    (ip.family == 6 && (ip.ip[0] == 0xff || ip.prefix == 0)))
		return bad_value(a, "is not a unicast host address with a prefix");
	ip.port = (uint16_t)port;
	for (unsigned i = 0; i < cfg->nb_ips; i++)
		if (cfg->ips[i].port == ip.port && cfg->ips[i].family == ip.family)
			return bad_value(a, "gives port %u a second IPv%u address", ip.port,
					 ip.family);
	if (cfg->nb_ips == SL_CONFIG_MAX_IPS)
		return bad_value(a, "is one address too many");
	cfg->ips[cfg->nb_ips++] = ip;
	return 0;
}

static int
handle_option(struct sl_config *cfg, int id, const struct arg *a)
{
	uint64_t v;
	int rc;

	switch (id) {
	case OPT_MODE:
		if (strcmp(a->value, "capture") == 0)
			cfg->mode = SL_MODE_CAPTURE;
		else if (strcmp(a->value, "file") == 0)
			cfg->mode = SL_MODE_FILE;
		else
			return bad_value(a, "is not one of capture, file");
		return 0;
	case OPT_DIR:
		return path(a, cfg->dir, sizeof(cfg->dir));
	case OPT_FORMAT:
		if (strcmp(a->value, "pcap") == 0)
			cfg->format = SL_PCAP_FORMAT_PCAP;
		else if (strcmp(a->value, "pcapng") == 0)
			cfg->format = SL_PCAP_FORMAT_PCAPNG;
		else
			return bad_value(a, "is not one of pcap, pcapng");
		return 0;
	case OPT_SNAPLEN:
		return number_u32(a, 1, SL_PCAP_MAX_SNAPLEN, &cfg->snaplen);
	case OPT_ROTATE_SIZE:
		rc = size(a, 0, TIB, "0 or 4K..1T", &v);
		if (rc < 0)
			return rc;
		/* Smaller files would be mostly headers; 0 turns rotation off. */
		if (v != 0 && v < 4 * KIB)
			return bad_value(a, "is out of range (0 or 4K..1T)");
		cfg->rotate_size = v;
		return 0;
	case OPT_ROTATE_SECONDS:
		return number_u32(a, 0, 365 * 86400, &cfg->rotate_seconds);
	case OPT_BURST:
		return number_u16(a, 1, 512, &cfg->burst);
	case OPT_RING_SIZE:
		return number_u32(a, 64, 1u << 24, &cfg->ring_size);
	case OPT_MAX_PACKETS:
		return number(a, 0, UINT64_MAX, &cfg->max_packets);
	case OPT_DURATION:
		return seconds_ms(a, MAX_DURATION_MS, &cfg->duration_ms);
	case OPT_STATS_PERIOD:
		return number_u32(a, 0, 86400, &cfg->stats_period);
	case OPT_STATS_JSON:
		return path(a, cfg->stats_json, sizeof(cfg->stats_json));
	case OPT_IDLE_SLEEP:
		return number_u32(a, 0, 1000000, &cfg->idle_sleep_us);
	case OPT_RX_LCORES:
		return lcore_list(a, cfg->rx_lcores, &cfg->nb_rx_lcores);
	case OPT_WRITER_LCORES:
		return lcore_list(a, cfg->writer_lcores, &cfg->nb_writer_lcores);
	case OPT_WRITE_BUFFER:
		rc = size(a, 64 * KIB, 64 * MIB, "64K..64M", &v);
		if (rc < 0)
			return rc;
		/* O_DIRECT needs every write length aligned. */
		if (v % SL_DIRECT_ALIGN != 0)
			return bad_value(a, "is not a multiple of %u", SL_DIRECT_ALIGN);
		cfg->write_buffer_size = v;
		return 0;
	case OPT_WRITE_BUFFERS:
		return number_u32(a, 4, 4096, &cfg->write_buffers);
	case OPT_URING_DEPTH:
		return number_u32(a, 8, 4096, &cfg->uring_depth);
	case OPT_FLUSH_INTERVAL:
		return number_u32(a, 1, 60000, &cfg->flush_ms);
	case OPT_RXD:
		return number_u16(a, 64, 16384, &cfg->nb_rxd);
	case OPT_MBUFS:
		return number_zero_or(a, 1024, 1u << 24, &cfg->nb_mbufs);
	case OPT_NAME_PREFIX:
		return name_prefix(a, cfg->name_prefix, sizeof(cfg->name_prefix));
	case OPT_CMDLINE_FILE:
		return path(a, cfg->cmdline_file, sizeof(cfg->cmdline_file));
	case OPT_FILTER:
		/* Compiled by the app, which reports syntax errors with libpcap's words. */
		return path(a, cfg->filter, sizeof(cfg->filter));
	case OPT_IP:
		return ip_address(cfg, a);
	case OPT_UDP_PORT:
		return number_u16(a, 1, 65535, &cfg->udp_port);
	case OPT_PSK_FILE:
		return path(a, cfg->psk_file, sizeof(cfg->psk_file));
	case OPT_ALLOW:
		/* Checked by lib/auth when the app loads it (exit 2 on a bad one). */
		if (cfg->nb_allow == SL_CONFIG_MAX_ALLOW)
			return bad_value(a, "is one entry too many (at most %u)",
					 SL_CONFIG_MAX_ALLOW);
		rc = path(a, cfg->allow[cfg->nb_allow], sizeof(cfg->allow[0]));
		if (rc == 0)
			cfg->nb_allow++;
		return rc;
	case OPT_MTU:
		return number_u16(a, 1280, 9000, &cfg->mtu);
	case OPT_MAX_SESSIONS:
		return number_u32(a, 1, 65536, &cfg->max_sessions);
	case OPT_MAX_FILES:
		return number_u32(a, 1, 4096, &cfg->max_files);
	case OPT_WINDOW:
		return size(a, 64 * KIB, 4 * GIB, "64K..4G", &cfg->window);
	case OPT_PROFILE:
		/* Loaded by lib/profile, which reads the options around it. */
		return path(a, cfg->profile, sizeof(cfg->profile));
	case OPT_PERF_TEST:
		if (strcmp(a->value, "disk") != 0)
			return bad_value(a, "is not a benchmark (disk)");
		cfg->perf_test = SL_PERF_DISK;
		return 0;
	case OPT_PERF_FRAME_SIZE:
		return number_u32(a, 64, 9216, &cfg->perf_frame_size);
	}
	return report(a->err, a->errlen, "--%s is not handled", a->name);
}

/* getopt_long accepts unique abbreviations; say so when one was not unique,
 * rather than calling a prefix of two real options unknown. */
static int
unknown_long_option(const char *arg, char *err, size_t errlen)
{
	const char *name = arg + 2;
	size_t len = strcspn(name, "=");
	unsigned matches = 0;

	for (const struct option *o = long_options; o->name != NULL; o++)
		if (strncmp(o->name, name, len) == 0)
			matches++;
	if (len > 0 && matches > 1)
		return report(err, errlen, "option '--%.*s' is ambiguous", (int)len, name);
	return report(err, errlen, "unknown option '--%.*s'", (int)len, name);
}

void
sl_config_defaults(struct sl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = SL_MODE_CAPTURE;
	strcpy(cfg->dir, ".");
	cfg->format = SL_PCAP_FORMAT_PCAPNG;
	cfg->snaplen = SL_PCAP_MAX_SNAPLEN;
	cfg->rotate_size = GIB;
	cfg->rotate_seconds = 0;
	cfg->burst = 32;
	cfg->ring_size = 16384;
	cfg->max_packets = 0;
	cfg->duration_ms = 0;
	cfg->stats_period = 0;
	cfg->idle_sleep_us = 0;
	cfg->direct = true;
	cfg->nb_rx_lcores = 0;
	cfg->nb_writer_lcores = 0;
	cfg->write_buffer_size = MIB;
	cfg->write_buffers = 32;
	cfg->uring_depth = 128;
	cfg->flush_ms = 1000;
	cfg->nb_rxd = 1024;
	cfg->nb_mbufs = 0;
	cfg->promiscuous = true;
	strcpy(cfg->name_prefix, "sluice");
	cfg->udp_port = 7400;
	cfg->mtu = 1500;
	cfg->max_sessions = 64;
	cfg->max_files = 32;
	cfg->window = 8 * MIB;
	cfg->perf_test = SL_PERF_NONE;
	cfg->perf_frame_size = 9000;
}

/* Checks that involve more than one option run once everything is parsed, so
 * that the order of the options does not matter. */
static int
check_combinations(const struct sl_config *cfg, char *err, size_t errlen)
{
	if (cfg->ring_size < 2u * cfg->burst)
		return report(err, errlen,
			      "--ring-size (%" PRIu32 ") must be at least twice --burst (%u)",
			      cfg->ring_size, cfg->burst);
	/* A record is serialized whole into one buffer (plus its slack), so a
	 * buffer must hold the largest one in either format. */
	if (cfg->write_buffer_size < sl_pcap_record_size(SL_PCAP_FORMAT_PCAPNG, cfg->snaplen))
		return report(
			err, errlen,
			"--write-buffer (%" PRIu64 ") must hold the largest record, %zu bytes "
			"for --snaplen %" PRIu32 ": raise --write-buffer or lower --snaplen",
			cfg->write_buffer_size,
			sl_pcap_record_size(SL_PCAP_FORMAT_PCAPNG, cfg->snaplen), cfg->snaplen);
	if (cfg->mode == SL_MODE_FILE && cfg->nb_ips == 0)
		return report(
			err, errlen,
			"--mode=file needs an address: --ip=ADDR/PREFIX (such as 10.0.0.1/24)");
	if (cfg->mode != SL_MODE_FILE &&
	    (cfg->nb_ips > 0 || cfg->overwrite || cfg->nb_allow > 0 || cfg->psk_file[0] != '\0'))
		return report(err, errlen,
			      "--ip, --overwrite, --allow and --psk-file need --mode=file");
	if (cfg->mode == SL_MODE_FILE && cfg->filter[0] != '\0')
		return report(err, errlen, "--filter is for --mode=capture");
	if (cfg->perf_test != SL_PERF_NONE &&
	    (cfg->interactive || cfg->cmdline_file[0] != '\0' || cfg->mode == SL_MODE_FILE))
		return report(err, errlen,
			      "--perf-test runs alone: not with -i, --cmdline-file or --mode=file");
	/* Each writer keeps a file table of this size (lib/session). */
	if (cfg->mode == SL_MODE_FILE &&
	    (uint64_t)cfg->max_sessions * cfg->max_files > (UINT64_C(1) << 20))
		return report(err, errlen,
			      "--max-sessions (%" PRIu32 ") times --max-files (%" PRIu32
			      ") must not exceed 1048576",
			      cfg->max_sessions, cfg->max_files);
	if (cfg->mode == SL_MODE_FILE && cfg->window < cfg->write_buffer_size)
		return report(err, errlen,
			      "--window (%" PRIu64 ") must be at least --write-buffer (%" PRIu64
			      "), the largest chunk",
			      cfg->window, cfg->write_buffer_size);
	for (unsigned i = 0; i < cfg->nb_rx_lcores; i++)
		for (unsigned j = 0; j < cfg->nb_writer_lcores; j++)
			if (cfg->rx_lcores[i] == cfg->writer_lcores[j])
				return report(err, errlen,
					      "lcore %u is in both --rx-lcores and --writer-lcores",
					      cfg->rx_lcores[i]);
	return 0;
}

int
sl_config_parse(struct sl_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	int id, rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* optind = 0, unlike 1, makes glibc and musl also forget a half-read
	 * cluster of short options from a previous call. '+' stops at the first
	 * positional argument instead of permuting argv; ':' reports a missing
	 * value apart from an unknown option. */
	optind = 0;
	opterr = 0;
	for (;;) {
		const char *current;
		struct arg a;

		id = getopt_long(argc, argv, "+:hi", long_options, NULL);
		if (id == -1)
			break;
		/* getopt has moved past the option (and its separate value, if any). */
		current = argv[optind - 1];
		switch (id) {
		case OPT_HELP:
			return 1;
		case OPT_NO_DIRECT:
			cfg->direct = false;
			continue;
		case OPT_NO_PROMISC:
			cfg->promiscuous = false;
			continue;
		case OPT_INTERACTIVE:
			cfg->interactive = true;
			continue;
		case OPT_OVERWRITE:
			cfg->overwrite = true;
			continue;
		case ':':
			return report(err, errlen, "--%s needs a value", option_name(optopt));
		case '?':
			if (optopt == OPT_HELP || optopt == OPT_INTERACTIVE || optopt >= OPT_MODE)
				return report(err, errlen, "--%s takes no value",
					      option_name(optopt));
			if (optopt != 0)
				return report(err, errlen, "unknown option '-%c'", optopt);
			return unknown_long_option(current, err, errlen);
		}
		a = (struct arg){
			.name = option_name(id),
			.value = optarg,
			.err = err,
			.errlen = errlen,
		};
		if (optarg[0] == '\0')
			return report(err, errlen, "--%s needs a value", a.name);
		/* In "--dir --format=pcap", getopt would take "--format=pcap" as the
		 * directory; that is almost surely a forgotten value. */
		if (optarg == current && strncmp(optarg, "--", 2) == 0)
			return report(err, errlen, "--%s needs a value (got option '%s')", a.name,
				      optarg);
		rc = handle_option(cfg, id, &a);
		if (rc < 0)
			return rc;
	}
	if (optind < argc)
		return report(err, errlen, "unexpected argument '%s'", argv[optind]);
	return check_combinations(cfg, err, errlen);
}

void
sl_config_usage(FILE *f, const char *prog)
{
	struct sl_config d;
	char text[32];

	sl_config_defaults(&d);
	fprintf(f, "Usage: %s [EAL options] -- [options]\n", prog);
	fprintf(f, "EAL options (lcores, devices, memory) come before '--'; sluice's own\n"
		   "options come after it. Sizes take a K, M, G or T suffix (powers of 1024).\n");

	fprintf(f, "\nMode and output:\n");
	fprintf(f, "  --mode=capture|file     capture every frame to files, or receive whole\n"
		   "                          files from sluice-send (default capture)\n");
	fprintf(f, "  --dir=PATH              directory of the files (default %s)\n", d.dir);
	fprintf(f, "  --format=pcap|pcapng    file format, ns timestamps (default %s)\n",
		sl_config_format_name(d.format));
	fprintf(f,
		"  --snaplen=N             bytes kept of each frame, 1..%u (default %" PRIu32 ")\n",
		SL_PCAP_MAX_SNAPLEN, d.snaplen);
	fprintf(f, "  --no-direct             write through the page cache, not O_DIRECT\n");

	fprintf(f, "\nFile mode (--mode=file):\n");
	fprintf(f,
		"  --ip=ADDR/PREFIX[@PORT] our IPv4 or IPv6 address on port PORT (default 0);\n"
		"                          repeat for more ports, one of each family per port\n"
		"  --udp-port=N            UDP port of the protocol (default %u)\n"
		"  --overwrite             replace files that exist (default: status EXISTS)\n"
		"  --psk-file=FILE         senders must prove a key of FILE (lines 'ID HEXKEY')\n"
		"  --allow=CIDR            accept senders from CIDR only; repeatable\n"
		"                          (default: everyone)\n"
		"  --mtu=N                 largest IP packet sent or accepted, 1280..9000\n"
		"                          (default %u)\n"
		"  --max-sessions=N        sessions per writer lcore, 1..65536 (default %" PRIu32
		")\n"
		"  --max-files=N           files in progress per session, 1..4096 (default %" PRIu32
		")\n"
		"  --window=SIZE           credit per session, 64K..4G (default %s)\n"
		"  Chunks are at most --write-buffer; --write-buffers are the chunk buffers.\n",
		d.udp_port, d.mtu, d.max_sessions, d.max_files,
		sl_format_size(d.window, text, sizeof(text)));

	fprintf(f, "\nRotation:\n");
	fprintf(f,
		"  --rotate-size=SIZE      new file after SIZE bytes, 0 or 4K..1T, 0 = never\n"
		"                          (default %s)\n",
		sl_format_size(d.rotate_size, text, sizeof(text)));
	fprintf(f,
		"  --rotate-seconds=N      new file every N seconds, 0..31536000, 0 = never\n"
		"                          (default %" PRIu32 ")\n",
		d.rotate_seconds);

	fprintf(f, "\nLcores and performance:\n");
	fprintf(f, "  --profile=FILE          NIC profile (drivers-config/*.ini): descriptors,\n"
		   "                          burst, RSS, offloads, mbuf size, devargs; the\n"
		   "                          options given here win over it (default: none)\n");
	fprintf(f, "  --rx-lcores=LIST        lcores polling the ports, such as 1,3-5\n"
		   "                          (default: the worker lcores are split)\n");
	fprintf(f, "  --writer-lcores=LIST    lcores writing files, none also in --rx-lcores\n"
		   "                          (default: the worker lcores are split)\n");
	fprintf(f, "  --burst=N               packets per receive burst, 1..512 (default %u)\n",
		d.burst);
	fprintf(f,
		"  --ring-size=N           slots of each rx to writer ring, 64..16777216 and\n"
		"                          at least twice --burst (default %" PRIu32 ")\n",
		d.ring_size);
	fprintf(f,
		"  --rxd=N                 receive descriptors per queue, 64..16384\n"
		"                          (default %u)\n",
		d.nb_rxd);
	fprintf(f,
		"  --mbufs=N               mbufs in the pool, 0 or 1024..16777216,\n"
		"                          0 = sized automatically (default %" PRIu32 ")\n",
		d.nb_mbufs);
	fprintf(f,
		"  --write-buffer=SIZE     bytes per write, a multiple of 4K, 64K..64M\n"
		"                          (default %s)\n",
		sl_format_size(d.write_buffer_size, text, sizeof(text)));
	fprintf(f,
		"  --write-buffers=N       buffers per writer lcore, 4..4096 (default %" PRIu32
		")\n",
		d.write_buffers);
	fprintf(f,
		"  --uring-depth=N         io_uring entries per writer, 8..4096 (default %" PRIu32
		")\n",
		d.uring_depth);
	fprintf(f,
		"  --flush-interval=MS     write a partly filled buffer after MS ms, 1..60000\n"
		"                          (default %" PRIu32 ")\n",
		d.flush_ms);
	fprintf(f,
		"  --idle-sleep=USEC       sleep when a poll finds nothing, 0..1000000,\n"
		"                          0 = busy-poll (default %" PRIu32 ")\n",
		d.idle_sleep_us);
	fprintf(f, "  --no-promisc            leave the ports out of promiscuous mode\n");
	fprintf(f,
		"  --name-prefix=STR       prefix of the capture file names, 1..63 of\n"
		"                          [A-Za-z0-9_.-] (default %s)\n",
		d.name_prefix);

	fprintf(f, "\nControl and filtering:\n");
	fprintf(f, "  -i, --interactive       open the sluice> prompt; ingest waits for 'start'\n"
		   "  --cmdline-file=FILE     run the commands in FILE first (as testpmd does)\n"
		   "  --filter=EXPR           capture only frames matching EXPR, in libpcap\n"
		   "                          syntax as tcpdump takes it (default: all)\n");

	fprintf(f, "\nBenchmarks:\n");
	fprintf(f,
		"  --perf-test=disk        no ports: the writer lcores alone write synthetic\n"
		"                          records through the real io_uring path for\n"
		"                          --duration (default 10 s) into a scratch directory\n"
		"                          under --dir, removed afterwards, and report GB/s\n"
		"                          per writer and in total\n"
		"  --perf-frame-size=N     frame size of those records, 64..9216\n"
		"                          (default %" PRIu32 ")\n",
		d.perf_frame_size);

	fprintf(f, "\nStopping and statistics:\n");
	fprintf(f,
		"  --max-packets=N         stop after N packets, 0 = no limit (default %" PRIu64
		")\n",
		d.max_packets);
	fprintf(f,
		"  --duration=SECONDS      stop after SECONDS, such as 0.5, at most %" PRIu64 ",\n"
		"                          0 = run until stopped (default %" PRIu64 ")\n",
		MAX_DURATION_MS / 1000, d.duration_ms / 1000);
	fprintf(f,
		"  --stats-period=SECONDS  print statistics every SECONDS, 0..86400, 0 = off\n"
		"                          (default %" PRIu32 ")\n",
		d.stats_period);
	fprintf(f, "  --stats-json=FILE       write the final statistics as JSON to FILE\n"
		   "                          (default: none)\n");
	fprintf(f, "  -h, --help              print this text\n");

	fprintf(f,
		"\nExample:\n"
		"  %s -l 0-2 --vdev=net_pcap0,rx_pcap=in.pcap -- --dir=/data/cap --format=pcapng\n",
		prog);
}

const char *
sl_config_format_name(enum sl_pcap_format fmt)
{
	switch (fmt) {
	case SL_PCAP_FORMAT_PCAP:
		return "pcap";
	case SL_PCAP_FORMAT_PCAPNG:
		return "pcapng";
	}
	return "unknown";
}
