/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mkpcap writes a deterministic classic pcap file (microsecond magic, little endian) of
 * Ethernet/IPv4/UDP frames with valid checksums, to feed sluice's tests through a virtual
 * device. The same arguments always produce the same bytes, so a test can compare what
 * sluice captured with what it sent. It is self-contained on purpose: the files it writes
 * also check sluice's pcap reader against an independent writer.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define LINKTYPE_ETHERNET 1u
#define MAX_SNAPLEN 262144u

#define ETH_HDR_LEN 14u
#define IPV4_HDR_LEN 20u
#define UDP_HDR_LEN 8u
#define HDRS_LEN (ETH_HDR_LEN + IPV4_HDR_LEN + UDP_HDR_LEN)
/* Payload prefix: 32-bit stream id and 64-bit sequence number. */
#define PAYLOAD_PREFIX_LEN 12u
#define FRAME_MIN 60u
#define FRAME_MAX 9018u

#define MAX_FLOWS 65535u
#define UDP_DST_PORT 9u
#define UDP_SRC_PORT_BASE 1024u
/* 2023-11-14, so timestamps look recent and fit any 32-bit seconds field. */
#define TS_BASE_SEC 1700000000u

struct options {
	const char *path;
	uint64_t count;
	uint32_t size_min;
	uint32_t size_max;
	uint64_t seed;
	uint32_t flows;
	uint32_t snaplen;
	uint32_t stream;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: mkpcap -o FILE -n COUNT [-s SIZE | -s MIN-MAX] [--seed N] [--flows N]\n"
		"              [--snaplen N] [--stream ID]\n"
		"  -o, --output FILE  pcap file to write ('-' for stdout)\n"
		"  -n, --count COUNT  number of frames\n"
		"  -s, --size SIZE    frame size without FCS, fixed or a uniform range,\n"
		"                     %u..%u (default %u)\n"
		"  --seed N           payload and size seed (default 1)\n"
		"  --flows N          UDP flows, 1..%u, varying source address and port\n"
		"                     (default 1)\n"
		"  --snaplen N        pcap snaplen, frames are truncated to it, 1..%u\n"
		"                     (default %u)\n"
		"  --stream ID        32-bit stream id written in every payload (default 0)\n",
		FRAME_MIN, FRAME_MAX, FRAME_MIN, MAX_FLOWS, MAX_SNAPLEN, MAX_SNAPLEN);
}

/* strtoull accepts signs and spaces, which would hide typos in test scripts. */
static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int
parse_u32_arg(const char *name, const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, min, max, &v) < 0) {
		fprintf(stderr, "mkpcap: %s: '%s' is not a number in %u..%u\n", name, s, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
parse_size(const char *s, struct options *o)
{
	const char *dash = strchr(s, '-');
	char min[32];

	if (dash == NULL) {
		if (parse_u32_arg("-s", s, FRAME_MIN, FRAME_MAX, &o->size_min) < 0)
			return -EINVAL;
		o->size_max = o->size_min;
		return 0;
	}
	if ((size_t)(dash - s) >= sizeof(min)) {
		fprintf(stderr, "mkpcap: -s: bad range '%s'\n", s);
		return -EINVAL;
	}
	memcpy(min, s, (size_t)(dash - s));
	min[dash - s] = '\0';
	if (parse_u32_arg("-s", min, FRAME_MIN, FRAME_MAX, &o->size_min) < 0 ||
	    parse_u32_arg("-s", dash + 1, FRAME_MIN, FRAME_MAX, &o->size_max) < 0)
		return -EINVAL;
	if (o->size_min > o->size_max) {
		fprintf(stderr, "mkpcap: -s: empty range '%s'\n", s);
		return -EINVAL;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	enum {
		OPT_SEED = 256,
		OPT_FLOWS,
		OPT_SNAPLEN,
		OPT_STREAM
	};
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "flows", required_argument, NULL, OPT_FLOWS },
		{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
		{ "stream", required_argument, NULL, OPT_STREAM },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_count = false;
	int c;

	*o = (struct options){
		.size_min = FRAME_MIN,
		.size_max = FRAME_MIN,
		.seed = 1,
		.flows = 1,
		.snaplen = MAX_SNAPLEN,
	};
	while ((c = getopt_long(argc, argv, "o:n:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->path = optarg;
			break;
		case 'n':
			if (parse_u64(optarg, 0, UINT64_MAX, &o->count) < 0) {
				fprintf(stderr, "mkpcap: -n: '%s' is not a count\n", optarg);
				return -EINVAL;
			}
			have_count = true;
			break;
		case 's':
			if (parse_size(optarg, o) < 0)
				return -EINVAL;
			break;
		case OPT_SEED:
			if (parse_u64(optarg, 0, UINT64_MAX, &o->seed) < 0) {
				fprintf(stderr, "mkpcap: --seed: '%s' is not a number\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_FLOWS:
			if (parse_u32_arg("--flows", optarg, 1, MAX_FLOWS, &o->flows) < 0)
				return -EINVAL;
			break;
		case OPT_SNAPLEN:
			if (parse_u32_arg("--snaplen", optarg, 1, MAX_SNAPLEN, &o->snaplen) < 0)
				return -EINVAL;
			break;
		case OPT_STREAM:
			if (parse_u32_arg("--stream", optarg, 0, UINT32_MAX, &o->stream) < 0)
				return -EINVAL;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mkpcap: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->path == NULL || !have_count) {
		fprintf(stderr, "mkpcap: -o and -n are required\n");
		return -EINVAL;
	}
	return 0;
}

/* splitmix64: tiny, fast, and good enough to make payloads incompressible and distinct. */
static uint64_t
splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

/* One's complement sum of big-endian 16-bit words, not yet folded. */
static uint64_t
csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Builds frame @p seq of @p size bytes. Flows differ in source address and port, so RSS
 * spreads them over queues; the payload is a function of (seed, seq) only. */
static void
build_frame(uint8_t *f, const struct options *o, uint64_t seq, uint32_t size)
{
	static const uint8_t dst_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
	static const uint8_t src_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	uint32_t flow = (uint32_t)(seq % o->flows);
	/* RFC 2544 benchmarking addresses: 198.18.0.0/16 for sources, 198.19.0.1 as sink. */
	uint32_t src_ip = 0xc6120001u + flow;
	uint32_t dst_ip = 0xc6130001u;
	uint16_t ip_len = (uint16_t)(size - ETH_HDR_LEN);
	uint16_t udp_len = (uint16_t)(size - ETH_HDR_LEN - IPV4_HDR_LEN);
	uint8_t *ip = f + ETH_HDR_LEN;
	uint8_t *udp = ip + IPV4_HDR_LEN;
	uint8_t *payload = udp + UDP_HDR_LEN;
	uint64_t state = o->seed ^ (seq * 0xd1342543de82ef95ull);
	uint8_t pseudo[12];
	uint64_t sum;
	uint16_t csum;
	uint32_t i;

	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	put_be16(f + 12, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	put_be16(ip + 2, ip_len);
	put_be16(ip + 4, (uint16_t)seq);
	put_be16(ip + 6, 0x4000); /* DF: these frames must never be fragmented. */
	ip[8] = 64;
	ip[9] = 17;
	put_be16(ip + 10, 0);
	put_be32(ip + 12, src_ip);
	put_be32(ip + 16, dst_ip);
	put_be16(ip + 10, csum_fold(csum_add(0, ip, IPV4_HDR_LEN)));

	put_be16(udp, (uint16_t)(UDP_SRC_PORT_BASE + flow % (65536u - UDP_SRC_PORT_BASE)));
	put_be16(udp + 2, UDP_DST_PORT);
	put_be16(udp + 4, udp_len);
	put_be16(udp + 6, 0);

	put_be32(payload, o->stream);
	put_be64(payload + 4, seq);
	for (i = PAYLOAD_PREFIX_LEN; i < size - HDRS_LEN; i += 8) {
		uint64_t r = splitmix64(&state);
		uint32_t k;

		/* Byte by byte, so the output does not depend on the host's byte order. */
		for (k = 0; k < 8 && i + k < size - HDRS_LEN; k++)
			payload[i + k] = (uint8_t)(r >> (8 * k));
	}

	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	put_be16(pseudo + 10, udp_len);
	sum = csum_add(0, pseudo, sizeof(pseudo));
	sum = csum_add(sum, udp, udp_len);
	csum = csum_fold(sum);
	/* Zero means "no checksum" in UDP over IPv4; its one's complement twin is sent. */
	put_be16(udp + 6, csum == 0 ? 0xffff : csum);
}

static int
write_file(FILE *out, const struct options *o)
{
	static uint8_t frame[FRAME_MAX];
	uint64_t size_state = o->seed ^ 0x5bd1e9955bd1e995ull;
	uint8_t hdr[24];
	uint64_t seq;

	put_le32(hdr, PCAP_MAGIC_USEC);
	put_le16(hdr + 4, 2);
	put_le16(hdr + 6, 4);
	put_le32(hdr + 8, 0);
	put_le32(hdr + 12, 0);
	put_le32(hdr + 16, o->snaplen);
	put_le32(hdr + 20, LINKTYPE_ETHERNET);
	if (fwrite(hdr, sizeof(hdr), 1, out) != 1)
		return -EIO;

	for (seq = 0; seq < o->count; seq++) {
		uint32_t size = o->size_min;
		uint32_t caplen;
		uint8_t rec[16];

		if (o->size_max != o->size_min)
			size += (uint32_t)(splitmix64(&size_state) %
					   (o->size_max - o->size_min + 1u));
		caplen = size < o->snaplen ? size : o->snaplen;
		build_frame(frame, o, seq, size);
		put_le32(rec, (uint32_t)(TS_BASE_SEC + seq / 1000000));
		put_le32(rec + 4, (uint32_t)(seq % 1000000));
		put_le32(rec + 8, caplen);
		put_le32(rec + 12, size);
		if (fwrite(rec, sizeof(rec), 1, out) != 1 || fwrite(frame, caplen, 1, out) != 1)
			return -EIO;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	bool to_stdout;
	FILE *out;
	int rc;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	to_stdout = strcmp(o.path, "-") == 0;
	out = to_stdout ? stdout : fopen(o.path, "wb");
	if (out == NULL) {
		fprintf(stderr, "mkpcap: %s: %s\n", o.path, strerror(errno));
		return 1;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	rc = write_file(out, &o);
	if (fflush(out) != 0 || ferror(out))
		rc = -EIO;
	if (!to_stdout && fclose(out) != 0)
		rc = -EIO;
	if (rc < 0) {
		fprintf(stderr, "mkpcap: %s: write failed: %s\n", o.path, strerror(errno));
		return 1;
	}
	return 0;
}
