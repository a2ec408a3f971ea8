/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * krecv is the kernel baseline of the benchmark: the best an ordinary program can do with
 * the kernel's network stack and page cache. It receives UDP datagrams with recvmmsg() in
 * batches and appends each one to a file as a record (a 4-byte little-endian length, then
 * the payload), through a large user-space buffer written with write(). When it is told to
 * stop (SIGINT or SIGTERM, or --max-seconds) it writes what is left, fsyncs the file, and
 * prints one JSON line with what landed, so that it is compared with sluice on durable
 * bytes, like every other receiver of the benchmark.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX 1024u
#define DATAGRAM_MAX 65536u

struct options {
	const char *bind_addr;
	uint16_t port;
	const char *path;
	unsigned int batch;
	size_t buffer;
	int rcvbuf;
	double max_seconds;
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
		"usage: krecv --bind ADDR --port N --output FILE [--batch N] [--buffer BYTES]\n"
		"             [--rcvbuf BYTES] [--max-seconds S]\n"
		"  Receives UDP datagrams with recvmmsg until SIGINT/SIGTERM (or --max-seconds),\n"
		"  writes them as length-prefixed records through a buffer of --buffer bytes\n"
		"  (default 4 MiB), fsyncs, and prints a JSON summary on stdout.\n"
		"  --batch: datagrams per recvmmsg, 1..%u (default 64); --rcvbuf: socket\n"
		"  receive buffer (default 256 MiB, forced as root).\n",
		BATCH_MAX);
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
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "bind", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "batch", required_argument, NULL, 'b' },
		{ "buffer", required_argument, NULL, 'B' },
		{ "rcvbuf", required_argument, NULL, 'r' },
		{ "max-seconds", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;
	char *end;

	*o = (struct options){ .bind_addr = "0.0.0.0",
			       .batch = 64,
			       .buffer = 4u << 20,
			       .rcvbuf = 256 << 20,
			       .max_seconds = 3600 };
	while ((c = getopt_long(argc, argv, "a:p:o:b:B:r:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->bind_addr = optarg;
			break;
		case 'p':
			if (parse_u64(optarg, 1, 65535, &v) < 0)
				return -1;
			o->port = (uint16_t)v;
			break;
		case 'o':
			o->path = optarg;
			break;
		case 'b':
			if (parse_u64(optarg, 1, BATCH_MAX, &v) < 0)
				return -1;
			o->batch = (unsigned int)v;
			break;
		case 'B':
			if (parse_u64(optarg, DATAGRAM_MAX + 4, 1u << 30, &v) < 0)
				return -1;
			o->buffer = (size_t)v;
			break;
		case 'r':
			if (parse_u64(optarg, 4096, 1u << 30, &v) < 0)
				return -1;
			o->rcvbuf = (int)v;
			break;
		case 't':
			errno = 0;
			o->max_seconds = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !(o->max_seconds > 0))
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc || o->path == NULL || o->port == 0)
		return -1;
	return 0;
}

/* Writes all of buf, retrying short writes; returns 0 or -errno. */
static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct mmsghdr msgs[BATCH_MAX];
	static struct iovec iovs[BATCH_MAX];
	struct options o;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sigaction sa = { .sa_handler = on_signal };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	uint64_t packets = 0, payload_bytes = 0, file_bytes = 0, recv_calls = 0, write_calls = 0;
	double start, first = 0, last = 0, end, fsync_s;
	uint8_t *slots, *out;
	size_t used = 0;
	int fd, sock, rc, one = 1;
	unsigned int i;

	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (inet_pton(AF_INET, o.bind_addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "krecv: bad IPv4 address %s\n", o.bind_addr);
		return 2;
	}
	sin.sin_port = htons(o.port);
	/* No SA_RESTART: a signal must interrupt recvmmsg. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	slots = malloc((size_t)o.batch * DATAGRAM_MAX);
	out = aligned_alloc(4096, (o.buffer + 4095) & ~(size_t)4095);
	if (slots == NULL || out == NULL) {
		fprintf(stderr, "krecv: out of memory\n");
		return 1;
	}
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	if (sock < 0) {
		perror("krecv: socket");
		return 1;
	}
	setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &o.rcvbuf, sizeof(o.rcvbuf)) < 0)
		setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &o.rcvbuf, sizeof(o.rcvbuf));
	/* The timeout bounds how late a stop request or --max-seconds is noticed. */
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(sock, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "krecv: bind %s:%u: %s\n", o.bind_addr, o.port, strerror(errno));
		return 1;
	}
	fd = open(o.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "krecv: %s: %s\n", o.path, strerror(errno));
		return 1;
	}
	for (i = 0; i < o.batch; i++) {
		iovs[i].iov_base = slots + (size_t)i * DATAGRAM_MAX;
		iovs[i].iov_len = DATAGRAM_MAX;
		msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iovs[i], .msg_iovlen = 1 };
	}
	fprintf(stderr, "krecv: ready on %s:%u\n", o.bind_addr, o.port);
	start = now_s();
	while (!stop_requested && now_s() - start < o.max_seconds) {
		int n = recvmmsg(sock, msgs, o.batch, MSG_WAITFORONE, NULL);

		recv_calls++;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			perror("krecv: recvmmsg");
			return 1;
		}
		if (n > 0 && packets == 0)
			first = now_s();
		for (i = 0; i < (unsigned int)n; i++) {
			uint32_t len = msgs[i].msg_len;

			if (used + 4 + len > o.buffer) {
				rc = write_all(fd, out, used);
				if (rc < 0) {
					fprintf(stderr, "krecv: write: %s\n", strerror(-rc));
					return 1;
				}
				write_calls++;
				file_bytes += used;
				used = 0;
			}
			memcpy(out + used, &len, 4);
			memcpy(out + used + 4, iovs[i].iov_base, len);
			used += 4 + (size_t)len;
			packets++;
			payload_bytes += len;
		}
		if (n > 0)
			last = now_s();
	}
	rc = write_all(fd, out, used);
	if (rc < 0) {
		fprintf(stderr, "krecv: write: %s\n", strerror(-rc));
		return 1;
	}
	file_bytes += used;
	end = now_s();
	if (fsync(fd) < 0) {
		perror("krecv: fsync");
		return 1;
	}
	fsync_s = now_s() - end;
	close(fd);
	close(sock);
	printf("{\"packets\":%" PRIu64 ",\"payload_bytes\":%" PRIu64 ",\"file_bytes\":%" PRIu64
	       ",\"recv_calls\":%" PRIu64 ",\"write_calls\":%" PRIu64
	       ",\"first_to_last_s\":%.6f,\"fsync_s\":%.6f}\n",
	       packets, payload_bytes, file_bytes, recv_calls, write_calls,
	       packets > 0 ? last - first : 0.0, fsync_s);
	return 0;
}
