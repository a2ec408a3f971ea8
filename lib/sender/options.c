/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_common.h"
#include "sl_sender.h"

static const char *const status_names[SL_SENDER_NB_STATUS] = {
	[SL_SENDER_PENDING] = "pending",
	[SL_SENDER_OK] = "ok",
	[SL_SENDER_EXISTS] = "exists",
	[SL_SENDER_BAD_PATH] = "bad_path",
	[SL_SENDER_NO_SPACE] = "no_space",
	[SL_SENDER_DIGEST_MISMATCH] = "digest_mismatch",
	[SL_SENDER_IO_ERROR] = "io_error",
	[SL_SENDER_REFUSED] = "refused",
	[SL_SENDER_BAD_MANIFEST] = "bad_manifest",
	[SL_SENDER_TIMEOUT] = "timeout",
	[SL_SENDER_UNREADABLE] = "unreadable",
	[SL_SENDER_REJECTED] = "rejected",
};

const char *
sl_sender_status_name(enum sl_sender_status s)
{
	if ((unsigned)s >= SL_SENDER_NB_STATUS)
		return "unknown";
	return status_names[s];
}

enum sl_sender_status
sl_sender_status_from_proto(uint8_t code)
{
	switch (code) {
	case SL_PROTO_STATUS_READY:
		return SL_SENDER_PENDING;
	case SL_PROTO_STATUS_OK:
		return SL_SENDER_OK;
	case SL_PROTO_STATUS_EXISTS:
		return SL_SENDER_EXISTS;
	case SL_PROTO_STATUS_BAD_PATH:
		return SL_SENDER_BAD_PATH;
	case SL_PROTO_STATUS_NO_SPACE:
		return SL_SENDER_NO_SPACE;
	case SL_PROTO_STATUS_DIGEST_MISMATCH:
		return SL_SENDER_DIGEST_MISMATCH;
	case SL_PROTO_STATUS_IO_ERROR:
		return SL_SENDER_IO_ERROR;
	case SL_PROTO_STATUS_BAD_MANIFEST:
		return SL_SENDER_BAD_MANIFEST;
	default:
		/* REFUSED, and codes of a later revision: final, and not OK. */
		return SL_SENDER_REFUSED;
	}
}

int
sl_sender_parse_rate(const char *s, uint64_t *bps)
{
	unsigned long long whole = 0, frac = 0, frac_div = 1, mult = 1, part;
	const char *p = s;
	bool digits = false;

	if (s == NULL)
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		if (whole > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (unsigned)(*p++ - '0');
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			/* Digits beyond a nanobit are ignored rather than overflowing. */
			if (frac_div < 1000000000ull) {
				frac = frac * 10 + (unsigned)(*p - '0');
				frac_div *= 10;
			}
			p++;
			digits = true;
		}
	}
	if (!digits)
		return -EINVAL;
	switch (*p) {
	case 'k':
	case 'K':
		mult = 1000ull;
		p++;
		break;
	case 'M':
		mult = 1000000ull;
		p++;
		break;
	case 'G':
		mult = 1000000000ull;
		p++;
		break;
	case 'T':
		mult = 1000000000000ull;
		p++;
		break;
	default:
		break;
	}
	if (*p != '\0')
		return -EINVAL;
	if (whole > UINT64_MAX / mult)
		return -ERANGE;
	/* The fraction may still carry the product past 64 bits ("18446744073709551.9k"). */
	part = (uint64_t)((unsigned __int128)frac * mult / frac_div);
	if (part > UINT64_MAX - whole * mult)
		return -ERANGE;
	*bps = whole * mult + part;
	if (*bps == 0)
		return -ERANGE;
	return 0;
}

static int
copy_host(const char *s, size_t n, char *host, size_t hostlen)
{
	if (n == 0 || n >= hostlen)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
}

static int
parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (sl_parse_u64(s, 1, UINT16_MAX, &v) != 0)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int
sl_sender_parse_host(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || copy_host(s + 1, (size_t)(close - s - 1), host, hostlen) != 0)
			return -EINVAL;
		if (close[1] == '\0')
			return 0;
		if (close[1] != ':')
			return -EINVAL;
		return parse_port(close + 2, port);
	}
	colon = strchr(s, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		/* Two colons or more: a bare IPv6 address, which cannot carry a port. */
		return copy_host(s, strlen(s), host, hostlen);
	}
	if (colon == NULL)
		return copy_host(s, strlen(s), host, hostlen);
	if (copy_host(s, (size_t)(colon - s), host, hostlen) != 0)
		return -EINVAL;
	return parse_port(colon + 1, port);
}

const char *
sl_sender_usage(void)
{
	return "Usage: sluice-send [options] HOST[:PORT] SOURCE...\n"
	       "Send files and directories (recursively, like scp -r) to a sluice receiver.\n"
	       "Each SOURCE lands as <dir>/<basename> on the receiver.\n"
	       "\n"
	       "  HOST              IPv4, IPv6 ([addr]:port or a bare addr) or a name; port 7400\n"
	       "  --name=REMOTE     remote name of the single SOURCE\n"
	       "  --psk-file=FILE   pre-shared keys (IDENTITY HEXKEY lines, mode 0600)\n"
	       "  --psk-id=ID       key to use (default: the first one in the file)\n"
	       "  --rate=BITS       cap in bits per second, suffixes k, M, G (decimal)\n"
	       "  --chunk-size=SIZE chunk size (default 1M; multiple of 4K, at least 64K)\n"
	       "  --max-payload=N   largest UDP payload (default 1472 IPv4, 1452 IPv6)\n"
	       "  --timeout=SECONDS give up after this long without progress (default 30)\n"
	       "  --bind=ADDR       source address\n"
	       "  --json            per-file summary as JSON on stdout\n"
	       "  -q, --quiet       no progress bar and no warnings\n"
	       "  -v, --verbose     protocol events on stderr\n"
	       "  -h, --help        this text\n"
	       "\n"
	       "Exit status: 0 all files OK, 1 some file failed, 2 usage error,\n"
	       "3 no session could be opened.\n";
}

enum {
	OPT_NAME = 256,
	OPT_PSK_FILE,
	OPT_PSK_ID,
	OPT_RATE,
	OPT_CHUNK,
	OPT_PAYLOAD,
	OPT_TIMEOUT,
	OPT_BIND,
	OPT_JSON,
};

static const struct option long_options[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "psk-file", required_argument, NULL, OPT_PSK_FILE },
	{ "psk-id", required_argument, NULL, OPT_PSK_ID },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "chunk-size", required_argument, NULL, OPT_CHUNK },
	{ "max-payload", required_argument, NULL, OPT_PAYLOAD },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
usage_error(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return -EINVAL;
}

int
sl_sender_opts_parse(struct sl_sender_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->port = SL_PROTO_PORT;
	o->chunk_size = SL_SENDER_CHUNK_DEFAULT;
	o->timeout_ms = SL_SENDER_TIMEOUT_MS_DEFAULT;
	err[0] = '\0';

	/* 0 makes glibc reinitialise getopt, so tests may parse several command lines. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:qvh", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_NAME:
			if (optarg[0] == '\0')
				return usage_error(err, errlen, "--name: empty name%s", "");
			o->name = optarg;
			break;
		case OPT_PSK_FILE:
			o->psk_file = optarg;
			break;
		case OPT_PSK_ID:
			if (optarg[0] == '\0' || strlen(optarg) > SL_PROTO_PSK_ID_MAX)
				return usage_error(err, errlen, "--psk-id: 1 to 64 bytes: '%s'",
						   optarg);
			o->psk_id = optarg;
			break;
		case OPT_RATE:
			if (sl_sender_parse_rate(optarg, &o->rate_bps) != 0)
				return usage_error(err, errlen,
						   "--rate: not a rate in bit/s (e.g. 500M): '%s'",
						   optarg);
			break;
		case OPT_CHUNK:
			if (sl_parse_size(optarg, SL_PROTO_CHUNK_MIN, SL_SENDER_CHUNK_MAX, &v) !=
				    0 ||
			    v % SL_PROTO_CHUNK_ALIGN != 0)
				return usage_error(
					err, errlen,
					"--chunk-size: a multiple of 4K from 64K to 256M: '%s'",
					optarg);
			o->chunk_size = (uint32_t)v;
			break;
		case OPT_PAYLOAD:
			if (sl_parse_u64(optarg, SL_PROTO_MAX_PAYLOAD_MIN, SL_PROTO_MAX_PAYLOAD_MAX,
					 &v) != 0)
				return usage_error(err, errlen, "--max-payload: 1200 to 9000: '%s'",
						   optarg);
			o->max_payload = (uint16_t)v;
			break;
		case OPT_TIMEOUT:
			if (sl_parse_seconds_ms(optarg, 86400000ull, &v) != 0 || v == 0)
				return usage_error(err, errlen, "--timeout: seconds, above 0: '%s'",
						   optarg);
			o->timeout_ms = v;
			break;
		case OPT_BIND: {
			uint8_t addr[16];

			if (inet_pton(AF_INET, optarg, addr) != 1 &&
			    inet_pton(AF_INET6, optarg, addr) != 1)
				return usage_error(err, errlen,
						   "--bind: not an IPv4 or IPv6 address: '%s'",
						   optarg);
			o->bind = optarg;
			break;
		}
		case OPT_JSON:
			o->json = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			o->help = true;
			return 0;
		case ':':
			return usage_error(err, errlen, "option needs a value: '%s'",
					   argv[optind - 1]);
		default:
			return usage_error(err, errlen, "unknown option: '%s'",
					   optind > 0 && optind <= argc ? argv[optind - 1] : "?");
		}
	}
	if (optind >= argc)
		return usage_error(err, errlen, "missing HOST[:PORT]%s", "");
	if (sl_sender_parse_host(argv[optind], o->host, sizeof(o->host), &o->port) != 0)
		return usage_error(err, errlen, "bad HOST[:PORT]: '%s'", argv[optind]);
	optind++;
	if (optind >= argc)
		return usage_error(err, errlen, "missing SOURCE%s", "");
	o->sources = argv + optind;
	o->nb_sources = (unsigned)(argc - optind);
	if (o->name != NULL && o->nb_sources > 1)
		return usage_error(err, errlen, "--name needs exactly one SOURCE%s", "");
	return 0;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points above U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void
json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	fputc('"', out);
	while (n > 0) {
		size_t len = utf8_len(p, n);

		if (len == 0) {
			fprintf(out, "\\u%04x", p[0]);
			len = 1;
		} else if (*p == '"' || *p == '\\') {
			fputc('\\', out);
			fputc(*p, out);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\u%04x", *p);
		} else {
			fwrite(p, 1, len, out);
		}
		p += len;
		n -= len;
	}
	fputc('"', out);
}

void
sl_sender_json(FILE *out, const struct sl_sender_list *l, const struct sl_sender_stats *st,
	       double elapsed_s)
{
	uint64_t total = 0, sent = 0, resent = 0;
	unsigned ok = 0, failed = 0;

	fputs("{\"files\":[", out);
	for (unsigned i = 0; i < l->count; i++) {
		const struct sl_sender_file *f = &l->files[i];

		fputs(i == 0 ? "{\"name\":" : ",{\"name\":", out);
		json_string(out, f->name);
		fputs(",\"source\":", out);
		json_string(out, f->source);
		fprintf(out,
			",\"size\":%llu,\"sent_bytes\":%llu,\"retransmitted_bytes\":%llu,"
			"\"status\":\"%s\"}",
			(unsigned long long)f->size, (unsigned long long)f->sent_bytes,
			(unsigned long long)f->retransmitted_bytes,
			sl_sender_status_name(f->status));
		total += f->size;
		sent += f->sent_bytes;
		resent += f->retransmitted_bytes;
		if (f->status == SL_SENDER_OK)
			ok++;
		else
			failed++;
	}
	fprintf(out,
		"],\"files_total\":%u,\"files_ok\":%u,\"files_failed\":%u,\"skipped\":%u,"
		"\"total_bytes\":%llu,\"sent_bytes\":%llu,\"retransmitted_bytes\":%llu,"
		"\"elapsed_s\":%.3f,\"rate_bps\":%.0f,\"max_payload\":%u,\"chunk_size\":%u}\n",
		l->count, ok, failed, l->skipped, (unsigned long long)total,
		(unsigned long long)sent, (unsigned long long)resent, elapsed_s,
		elapsed_s > 0 ? (double)sent * 8 / elapsed_s : 0.0,
		st != NULL ? st->max_payload : 0, st != NULL ? st->chunk_size : 0);
}
