/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kgen is the traffic source of the benchmark's veth scenarios: it sends Ethernet/IPv4/UDP
 * frames of one size from a raw AF_PACKET socket (PACKET_QDISC_BYPASS, sendmmsg batches)
 * for a bounded time and count, as fast as the kernel takes them, and prints one JSON line
 * with what it sent. The frames are addressed to a real host (MAC, IP and port given), so
 * a kernel UDP receiver gets them as well as a packet capture does: every receiver sees
 * the same input. Each payload starts with a 64-bit sequence number.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX 1024u
#define FRAME_MIN 60u
#define FRAME_MAX 1514u
#define HDRS_LEN 42u

struct options {
	const char *ifname;
	uint8_t dst_mac[6];
	struct in_addr src_ip;
	struct in_addr dst_ip;
	uint16_t dst_port;
	unsigned int size;
	unsigned int batch;
	double seconds;
	uint64_t count;
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: kgen --iface IF --dst-mac MAC --src-ip A --dst-ip A [--port N]\n"
		"            [--size BYTES] [--seconds S] [--count N] [--batch N]\n"
		"  Sends UDP/IPv4 frames of --size bytes without FCS (%u..%u, default 64) on\n"
		"  IF for --seconds (default 10, at most 3600) or --count frames, whichever comes\n"
		"  first, and prints a JSON summary. --port: UDP destination (default 9000);\n"
		"  --batch: frames per sendmmsg, 1..%u (default 64).\n",
		FRAME_MIN, FRAME_MAX, BATCH_MAX);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	int i;
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "src-ip", required_argument, NULL, 's' },
		{ "dst-ip", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 'S' },
		{ "seconds", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool mac = false, src = false, dst = false;
	uint64_t v;
	char *end;
	int c;

	*o = (struct options){
		.dst_port = 9000, .size = 64, .batch = 64, .seconds = 10, .count = UINT64_MAX
	};
	while ((c = getopt_long(argc, argv, "i:m:s:d:p:S:t:n:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, o->dst_mac) < 0)
				return -1;
			mac = true;
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &o->src_ip) != 1)
				return -1;
			src = true;
			break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &o->dst_ip) != 1)
				return -1;
			dst = true;
			break;
		case 'p':
			if (parse_u64(optarg, 1, 65535, &v) < 0)
				return -1;
			o->dst_port = (uint16_t)v;
			break;
		case 'S':
			if (parse_u64(optarg, FRAME_MIN, FRAME_MAX, &v) < 0)
				return -1;
			o->size = (unsigned int)v;
			break;
		case 't':
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !(o->seconds > 0) ||
			    o->seconds > 3600)
				return -1;
			break;
		case 'n':
			if (parse_u64(optarg, 1, UINT64_MAX, &v) < 0)
				return -1;
			o->count = v;
			break;
		case 'b':
			if (parse_u64(optarg, 1, BATCH_MAX, &v) < 0)
				return -1;
			o->batch = (unsigned int)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc || o->ifname == NULL || !mac || !src || !dst)
		return -1;
	return 0;
}

static uint16_t
ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Writes one frame: Ethernet, IPv4 (valid header checksum), UDP (checksum 0, allowed
 * over IPv4), then the payload, zeros after the sequence number. */
static void
build_frame(uint8_t *f, const struct options *o, const uint8_t src_mac[6])
{
	uint16_t ip_len = (uint16_t)(o->size - 14);
	uint16_t udp_len = (uint16_t)(o->size - 34);
	uint16_t csum;

	memset(f, 0, o->size);
	memcpy(f, o->dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	f[16] = (uint8_t)(ip_len >> 8);
	f[17] = (uint8_t)ip_len;
	f[20] = 0x40; /* don't fragment */
	f[22] = 64;
	f[23] = IPPROTO_UDP;
	memcpy(f + 26, &o->src_ip, 4);
	memcpy(f + 30, &o->dst_ip, 4);
	csum = ip_checksum(f + 14, 20);
	f[24] = (uint8_t)(csum >> 8);
	f[25] = (uint8_t)csum;
	f[34] = 0x23; /* source port 9000 */
	f[35] = 0x28;
	f[36] = (uint8_t)(o->dst_port >> 8);
	f[37] = (uint8_t)o->dst_port;
	f[38] = (uint8_t)(udp_len >> 8);
	f[39] = (uint8_t)udp_len;
}

int
main(int argc, char **argv)
{
	static struct mmsghdr msgs[BATCH_MAX];
	static struct iovec iovs[BATCH_MAX];
	struct options o;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct sigaction sa = { .sa_handler = on_signal };
	uint8_t src_mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
	uint64_t sent = 0, calls = 0, enobufs = 0, seq = 0;
	double start, elapsed;
	uint8_t *frames;
	unsigned int i, n;
	int sock, one = 1;

	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sock = socket(AF_PACKET, SOCK_RAW, 0);
	if (sock < 0) {
		perror("kgen: socket(AF_PACKET)");
		return 1;
	}
	sll.sll_ifindex = (int)if_nametoindex(o.ifname);
	if (sll.sll_ifindex == 0) {
		fprintf(stderr, "kgen: no interface %s\n", o.ifname);
		return 1;
	}
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, o.dst_mac, 6);
	/* Straight to the driver: no qdisc, as a DPDK sender would be. */
	if (setsockopt(sock, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		fprintf(stderr, "kgen: PACKET_QDISC_BYPASS: %s (going through the qdisc)\n",
			strerror(errno));
	if (bind(sock, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("kgen: bind");
		return 1;
	}
	frames = malloc((size_t)o.batch * o.size);
	if (frames == NULL) {
		fprintf(stderr, "kgen: out of memory\n");
		return 1;
	}
	for (i = 0; i < o.batch; i++) {
		build_frame(frames + (size_t)i * o.size, &o, src_mac);
		iovs[i].iov_base = frames + (size_t)i * o.size;
		iovs[i].iov_len = o.size;
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &sll,
						   .msg_namelen = sizeof(sll),
						   .msg_iov = &iovs[i],
						   .msg_iovlen = 1 };
	}
	start = now_s();
	while (!stop_requested && sent < o.count) {
		int r;

		/* The clock is read once per batch: cheap, and the overshoot is one batch. */
		if (now_s() - start >= o.seconds)
			break;
		n = o.batch;
		if (o.count - sent < n)
			n = (unsigned int)(o.count - sent);
		for (i = 0; i < n; i++) {
			uint8_t *payload = frames + (size_t)i * o.size + HDRS_LEN;

			if (o.size >= HDRS_LEN + 8)
				memcpy(payload, &seq, 8);
			seq++;
		}
		r = sendmmsg(sock, msgs, n, 0);
		calls++;
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				enobufs++;
				seq -= n;
				continue;
			}
			if (errno == EINTR)
				continue;
			perror("kgen: sendmmsg");
			return 1;
		}
		seq -= n - (unsigned int)r;
		sent += (unsigned int)r;
	}
	elapsed = now_s() - start;
	printf("{\"sent\":%" PRIu64 ",\"frame_bytes\":%" PRIu64 ",\"size\":%u,\"elapsed_s\":%.6f"
	       ",\"calls\":%" PRIu64 ",\"enobufs\":%" PRIu64 "}\n",
	       sent, sent * o.size, o.size, elapsed, calls, enobufs);
	close(sock);
	free(frames);
	return 0;
}
