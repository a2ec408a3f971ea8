/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The command lines. lib/config: sl_config_parse() of sluice's own options
 * (everything after EAL's "--"), with the helpers of lib/common it parses
 * numbers, sizes, times and lcore lists with, sl_net_parse_cidr() for --ip,
 * and lib/auth's sl_auth_allow_add() for each --allow the parse accepted (the
 * app loads them there). lib/sender: sl_sender_opts_parse() of the same
 * arguments as sluice-send's, and its value parsers (rate, HOST[:PORT]) with
 * lib/common's sl_parse_size() on every argument and option value.
 *
 * The input is the argument vector after the program name, the arguments
 * separated by NUL bytes (at most 64 of them; a final NUL is optional).
 *
 * Invariants: on success every field lies in its documented range and the
 * combinations hold (ring >= 2 x burst, a buffer holds the largest record,
 * file mode has an address and only file mode has --ip/--allow/--psk-file,
 * no lcore in both lists, one address per family and port, name prefix of
 * [A-Za-z0-9_.-] not starting with '.', every string NUL-terminated inside
 * its field); a size prints and parses back to itself; a failure says why,
 * within errlen, NUL-terminated; parsing twice gives the same result (getopt's
 * state is reset); an --allow accepted by lib/auth has no host bits and
 * allows its own network address. sluice-send's options: fields in range,
 * sources after the host, --name with one source, the same on a second parse;
 * a failure says why. Sizes and rates parse to the value an independent
 * reader computes (or fail as it says: -EINVAL for syntax, -ERANGE for 64-bit
 * overflow, and for a rate of 0); a host fits its buffer and is the text's.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <strings.h>

#include "fuzz.h"
#include "sl_auth.h"
#include "sl_config.h"
#include "sl_net.h"
#include "sl_sender.h"

#define MAX_ARGS 64

typedef unsigned __int128 u128;

static struct sl_config cfg, again;
static struct sl_sender_opts opts, opts_again;

static bool
terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

/* Past this, a decimal number is only "very large": what the references saturate at. */
#define SATURATED ((u128)1 << 100)

/* Decimal digits at *p, saturating; NULL if there are none. */
static const char *
ref_digits(const char *p, u128 *v)
{
	if (*p < '0' || *p > '9')
		return NULL;
	for (*v = 0; *p >= '0' && *p <= '9'; p++)
		*v = *v >= SATURATED ? SATURATED : *v * 10 + (unsigned)(*p - '0');
	return p;
}

/*
 * sl_parse_size() of lib/common, apart: digits, then nothing, "B", or one of
 * K, M, G, T (binary, any case) with an optional "B" or "iB" (any case); -ERANGE
 * when the value does not fit in 64 bits (digits first, then the product).
 */
static void
check_parse_size(const char *s)
{
	static const char units[] = "KMGT";
	const char *p, *u;
	uint64_t got = 0;
	u128 v, mult = 1;
	int rc, want = 0;

	rc = sl_parse_size(s, 0, UINT64_MAX, &got);
	p = ref_digits(s, &v);
	if (p == NULL)
		want = -EINVAL;
	else if (v > UINT64_MAX)
		want = -ERANGE;
	else {
		u = *p != '\0' ? strchr(units, toupper((unsigned char)*p)) : NULL;
		if (u != NULL) {
			mult = (u128)1 << (10 * (u - units + 1));
			p++;
			if (strcasecmp(p, "iB") == 0 || strcasecmp(p, "B") == 0)
				p += strlen(p);
		} else if (*p == 'B' || *p == 'b') {
			p++;
		}
		if (*p != '\0')
			want = -EINVAL;
		else if (v * mult > UINT64_MAX)
			want = -ERANGE;
	}
	FUZZ_ASSERT(rc == want);
	if (rc == 0)
		FUZZ_ASSERT(got == (uint64_t)(v * mult));
}

/*
 * sl_sender_parse_rate() of lib/sender, apart: digits, an optional fraction
 * (digits beyond the ninth ignored), an optional k/K, M, G or T (decimal);
 * the value in bits per second, rounded down. -ERANGE for 0 and for what does
 * not fit in 64 bits, and (the digits are scanned first, conservatively) for
 * a whole part from 18446744073709551610 on.
 */
static void
check_parse_rate(const char *s)
{
	const char *p = s;
	u128 whole = 0, frac = 0, div = 1, mult = 1, value;
	uint64_t got = 0;
	bool digits = false;
	int rc, want = 0;

	rc = sl_sender_parse_rate(s, &got);
	p = ref_digits(s, &whole);
	digits = p != NULL;
	if (p == NULL)
		p = s;
	if (whole >= 18446744073709551610u) {
		FUZZ_ASSERT(rc == -ERANGE);
		return;
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (div < 1000000000)
				frac = frac * 10 + (unsigned)(*p - '0'), div *= 10;
			digits = true;
		}
	switch (*p) {
	case 'k':
	case 'K':
		mult = 1000;
		p++;
		break;
	case 'M':
		mult = 1000000;
		p++;
		break;
	case 'G':
		mult = 1000000000;
		p++;
		break;
	case 'T':
		mult = 1000000000000;
		p++;
		break;
	default:
		break;
	}
	value = whole * mult + frac * mult / div;
	if (!digits || *p != '\0')
		want = -EINVAL;
	else if (value == 0 || value > UINT64_MAX)
		want = -ERANGE;
	if (rc != want || (rc == 0 && got != (uint64_t)value)) {
		fprintf(stderr, "sl_sender_parse_rate(\"%s\") = %d, %llu; expected %d, %llu\n", s,
			rc, (unsigned long long)got, want, (unsigned long long)value);
		FUZZ_ASSERT(false);
	}
}

/*
 * sl_sender_parse_host() into an exact-size buffer of @p hostlen bytes: a
 * host it returns is a nonempty part of the text that fits, and a port it
 * sets is the decimal number after the text's last colon.
 */
static void
check_parse_host(const char *s, size_t hostlen)
{
	char *host = malloc(hostlen);
	uint16_t port = 0;
	const char *colon;
	int rc;

	FUZZ_ASSERT(host != NULL);
	rc = sl_sender_parse_host(s, host, hostlen, &port);
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		FUZZ_ASSERT(memchr(host, '\0', hostlen) != NULL && host[0] != '\0');
		FUZZ_ASSERT(strstr(s, host) != NULL);
		if (s[0] == '[')
			FUZZ_ASSERT(strncmp(s + 1, host, strlen(host)) == 0 &&
				    s[1 + strlen(host)] == ']' && strchr(host, ']') == NULL);
		if (port != 0) {
			colon = strrchr(s, ':');
			FUZZ_ASSERT(colon != NULL && strtoul(colon + 1, NULL, 10) == port);
		}
	}
	free(host);
}

/* Each argument, and the value of an option "--name=value", through the value parsers. */
static void
check_values(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		const char *v = eq != NULL ? eq + 1 : argv[i];

		check_parse_size(v);
		check_parse_rate(v);
		check_parse_host(v, 256);
		check_parse_host(v, 8);
	}
}

/*
 * sluice-send's command line: the same arguments, to sl_sender_opts_parse().
 * On success every field is in its documented range, the sources are the
 * arguments after HOST[:PORT], and a second parse gives the same result.
 */
static void
check_sender_opts(int argc, char **argv)
{
	char *args[MAX_ARGS + 2], *small, err[256], err2[256];
	uint8_t addr[16];
	int rc;

	memcpy(args, argv, (size_t)(argc + 1) * sizeof(args[0]));
	args[0] = "sluice-send";
	memset(err, 'x', sizeof(err));
	rc = sl_sender_opts_parse(&opts, argc, args, err, sizeof(err));
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	FUZZ_ASSERT(terminated(err, sizeof(err)));
	FUZZ_ASSERT((rc == 0) == (err[0] == '\0'));
	if (rc == 0 && !opts.help) {
		FUZZ_ASSERT(terminated(opts.host, sizeof(opts.host)) && opts.host[0] != '\0');
		FUZZ_ASSERT(opts.port >= 1);
		FUZZ_ASSERT(opts.nb_sources >= 1 && opts.sources > args + 1 &&
			    opts.sources + opts.nb_sources == args + argc);
		FUZZ_ASSERT(opts.name == NULL || (opts.name[0] != '\0' && opts.nb_sources == 1));
		FUZZ_ASSERT(opts.psk_id == NULL ||
			    (opts.psk_id[0] != '\0' && strlen(opts.psk_id) <= SL_PROTO_PSK_ID_MAX));
		FUZZ_ASSERT(opts.chunk_size % SL_PROTO_CHUNK_ALIGN == 0 &&
			    opts.chunk_size >= SL_PROTO_CHUNK_MIN &&
			    opts.chunk_size <= SL_SENDER_CHUNK_MAX);
		FUZZ_ASSERT(opts.max_payload == 0 ||
			    (opts.max_payload >= SL_PROTO_MAX_PAYLOAD_MIN &&
			     opts.max_payload <= SL_PROTO_MAX_PAYLOAD_MAX));
		FUZZ_ASSERT(opts.timeout_ms >= 1 && opts.timeout_ms <= 86400000);
		FUZZ_ASSERT(opts.bind == NULL || inet_pton(AF_INET, opts.bind, addr) == 1 ||
			    inet_pton(AF_INET6, opts.bind, addr) == 1);
	}
	rc = sl_sender_opts_parse(&opts_again, argc, args, err2, sizeof(err2));
	FUZZ_ASSERT(strcmp(err, err2) == 0);
	if (rc == 0)
		FUZZ_ASSERT(memcmp(&opts, &opts_again, sizeof(opts)) == 0);
	small = malloc(3);
	FUZZ_ASSERT(small != NULL);
	FUZZ_ASSERT(sl_sender_opts_parse(&opts_again, argc, args, small, 3) == rc);
	FUZZ_ASSERT(terminated(small, 3));
	free(small);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *f = fopen("/dev/null", "w");

	if (f != NULL) {
		sl_config_usage(f, "sluice");
		fclose(f);
	}
	return 0;
}

static void
check_size_text(uint64_t v)
{
	char text[32];
	uint64_t back = ~v;

	sl_format_size(v, text, sizeof(text));
	FUZZ_ASSERT(sl_parse_size(text, 0, UINT64_MAX, &back) == 0 && back == v);
}

static void
check_lcores(const uint16_t *ids, unsigned n)
{
	FUZZ_ASSERT(n <= SL_MAX_LCORES);
	for (unsigned i = 0; i < n; i++) {
		FUZZ_ASSERT(ids[i] < SL_MAX_LCORES);
		for (unsigned j = 0; j < i; j++)
			FUZZ_ASSERT(ids[i] != ids[j]);
	}
}

static void
check_allow(const char *cidr)
{
	struct sl_auth a;
	struct sl_net_peer p;
	char err[128];
	int rc;

	memset(&a, 0, sizeof(a));
	rc = sl_auth_allow_add(&a, cidr, err, sizeof(err));
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	if (rc != 0) {
		FUZZ_ASSERT(terminated(err, sizeof(err)) && err[0] != '\0');
		return;
	}
	FUZZ_ASSERT(a.nb_allow == 1);
	FUZZ_ASSERT((a.allow[0].family == 4 && a.allow[0].prefix <= 32) ||
		    (a.allow[0].family == 6 && a.allow[0].prefix <= 128));
	for (unsigned bit = a.allow[0].prefix; bit < 128; bit++)
		FUZZ_ASSERT(!(a.allow[0].net[bit / 8] & (0x80 >> (bit % 8))));
	memset(&p, 0, sizeof(p));
	p.family = a.allow[0].family;
	memcpy(p.ip, a.allow[0].net, sizeof(p.ip));
	FUZZ_ASSERT(sl_auth_allowed(&a, &p));
	p.family = p.family == 4 ? 6 : 4;
	FUZZ_ASSERT(!sl_auth_allowed(&a, &p));
}

static void
check_config(const struct sl_config *c)
{
	FUZZ_ASSERT(c->mode == SL_MODE_CAPTURE || c->mode == SL_MODE_FILE);
	FUZZ_ASSERT(c->format == SL_PCAP_FORMAT_PCAP || c->format == SL_PCAP_FORMAT_PCAPNG);
	FUZZ_ASSERT(c->snaplen >= 1 && c->snaplen <= SL_PCAP_MAX_SNAPLEN);
	FUZZ_ASSERT(c->rotate_size == 0 ||
		    (c->rotate_size >= 4096 && c->rotate_size <= (UINT64_C(1) << 40)));
	FUZZ_ASSERT(c->rotate_seconds <= 365 * 86400);
	FUZZ_ASSERT(c->burst >= 1 && c->burst <= 512);
	FUZZ_ASSERT(c->ring_size >= 64 && c->ring_size <= (1u << 24) &&
		    c->ring_size >= 2u * c->burst);
	FUZZ_ASSERT(c->duration_ms <= UINT64_C(10) * 365 * 86400 * 1000);
	FUZZ_ASSERT(c->stats_period <= 86400 && c->idle_sleep_us <= 1000000);
	FUZZ_ASSERT(c->write_buffer_size >= 64 * 1024 && c->write_buffer_size <= 64 * 1024 * 1024 &&
		    c->write_buffer_size % SL_DIRECT_ALIGN == 0);
	FUZZ_ASSERT(c->write_buffer_size >= sl_pcap_record_size(SL_PCAP_FORMAT_PCAPNG, c->snaplen));
	FUZZ_ASSERT(c->write_buffers >= 4 && c->write_buffers <= 4096);
	FUZZ_ASSERT(c->uring_depth >= 8 && c->uring_depth <= 4096);
	FUZZ_ASSERT(c->flush_ms >= 1 && c->flush_ms <= 60000);
	FUZZ_ASSERT(c->nb_rxd >= 64 && c->nb_rxd <= 16384);
	FUZZ_ASSERT(c->nb_mbufs == 0 || (c->nb_mbufs >= 1024 && c->nb_mbufs <= (1u << 24)));
	FUZZ_ASSERT(c->udp_port >= 1 && c->mtu >= 1280 && c->mtu <= 9000);
	FUZZ_ASSERT(c->max_sessions >= 1 && c->max_sessions <= 65536);
	FUZZ_ASSERT(c->max_files >= 1 && c->max_files <= 4096);
	FUZZ_ASSERT(c->window >= 64 * 1024 && c->window <= (UINT64_C(4) << 30));
	FUZZ_ASSERT(c->perf_frame_size >= 64 && c->perf_frame_size <= 9216);
	FUZZ_ASSERT(terminated(c->dir, sizeof(c->dir)) && c->dir[0] != '\0');
	FUZZ_ASSERT(terminated(c->stats_json, sizeof(c->stats_json)));
	FUZZ_ASSERT(terminated(c->cmdline_file, sizeof(c->cmdline_file)));
	FUZZ_ASSERT(terminated(c->filter, sizeof(c->filter)));
	FUZZ_ASSERT(terminated(c->psk_file, sizeof(c->psk_file)));
	FUZZ_ASSERT(terminated(c->profile, sizeof(c->profile)));
	FUZZ_ASSERT(terminated(c->name_prefix, sizeof(c->name_prefix)));
	FUZZ_ASSERT(c->name_prefix[0] != '\0' && c->name_prefix[0] != '.');
	FUZZ_ASSERT(
		c->name_prefix[strspn(c->name_prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
						      "abcdefghijklmnopqrstuvwxyz0123456789_.-")] ==
		'\0');
	check_lcores(c->rx_lcores, c->nb_rx_lcores);
	check_lcores(c->writer_lcores, c->nb_writer_lcores);
	for (unsigned i = 0; i < c->nb_rx_lcores; i++)
		for (unsigned j = 0; j < c->nb_writer_lcores; j++)
			FUZZ_ASSERT(c->rx_lcores[i] != c->writer_lcores[j]);
	FUZZ_ASSERT(c->nb_ips <= SL_CONFIG_MAX_IPS && c->nb_allow <= SL_CONFIG_MAX_ALLOW);
	for (unsigned i = 0; i < c->nb_ips; i++) {
		const struct sl_config_ip *ip = &c->ips[i];

		FUZZ_ASSERT(ip->port < SL_MAX_PORTS && ip->prefix > 0);
		FUZZ_ASSERT((ip->family == 4 && ip->prefix <= 32 && ip->ip[0] != 0 &&
			     ip->ip[0] < 224) ||
			    (ip->family == 6 && ip->prefix <= 128 && ip->ip[0] != 0xff));
		for (unsigned j = 0; j < i; j++)
			FUZZ_ASSERT(c->ips[j].port != ip->port || c->ips[j].family != ip->family);
	}
	for (unsigned i = 0; i < c->nb_allow; i++) {
		FUZZ_ASSERT(terminated(c->allow[i], sizeof(c->allow[i])) && c->allow[i][0] != '\0');
		check_allow(c->allow[i]);
	}
	if (c->mode == SL_MODE_FILE) {
		FUZZ_ASSERT(c->nb_ips > 0 && c->filter[0] == '\0');
		FUZZ_ASSERT(c->window >= c->write_buffer_size);
		FUZZ_ASSERT((uint64_t)c->max_sessions * c->max_files <= (UINT64_C(1) << 20));
	} else {
		FUZZ_ASSERT(c->nb_ips == 0 && !c->overwrite && c->nb_allow == 0 &&
			    c->psk_file[0] == '\0');
	}
	if (c->perf_test != SL_PERF_NONE)
		FUZZ_ASSERT(!c->interactive && c->cmdline_file[0] == '\0' &&
			    c->mode != SL_MODE_FILE);
	check_size_text(c->rotate_size);
	check_size_text(c->write_buffer_size);
	check_size_text(c->window);
	FUZZ_ASSERT(strcmp(sl_config_format_name(c->format), "unknown") != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2], *text, err[256], err2[256], *small;
	int argc = 1, rc, rc2;
	size_t start = 0;

	if (size > 64 * 1024)
		return -1;
	/* One block per argument, of its exact size, so that ASan sees any read past it. */
	argv[0] = strdup("sluice");
	for (size_t i = 0; i <= size && argc <= MAX_ARGS; i++) {
		if (i < size && data[i] != '\0')
			continue;
		/* A NUL ends an argument; one at the very end adds no empty one. */
		if (i == size && i == start && size > 0)
			break;
		text = malloc(i - start + 1);
		FUZZ_ASSERT(text != NULL);
		memcpy(text, data + start, i - start);
		text[i - start] = '\0';
		argv[argc++] = text;
		start = i + 1;
	}
	argv[argc] = NULL;

	sl_config_defaults(&cfg);
	memset(err, 'x', sizeof(err));
	rc = sl_config_parse(&cfg, argc, argv, err, sizeof(err));
	FUZZ_ASSERT(rc == 0 || rc == 1 || rc == -EINVAL);
	FUZZ_ASSERT(terminated(err, sizeof(err)));
	if (rc == -EINVAL)
		FUZZ_ASSERT(err[0] != '\0');
	if (rc == 0)
		check_config(&cfg);

	/* Again: the same answer, word for word. */
	sl_config_defaults(&again);
	rc2 = sl_config_parse(&again, argc, argv, err2, sizeof(err2));
	FUZZ_ASSERT(rc2 == rc && strcmp(err, err2) == 0);
	if (rc == 0)
		FUZZ_ASSERT(memcmp(&cfg, &again, sizeof(cfg)) == 0);

	/* Tiny and missing error buffers. */
	small = malloc(3);
	FUZZ_ASSERT(small != NULL);
	sl_config_defaults(&again);
	FUZZ_ASSERT(sl_config_parse(&again, argc, argv, small, 3) == rc);
	FUZZ_ASSERT(terminated(small, 3));
	free(small);
	sl_config_defaults(&again);
	FUZZ_ASSERT(sl_config_parse(&again, argc, argv, NULL, 0) == rc);

	check_sender_opts(argc, argv);
	check_values(argc, argv);

	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
