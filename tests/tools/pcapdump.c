/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapdump prints what sluice's strict reader finds in pcap and pcapng files, one line per
 * packet, so tests can compare captures with sent traffic and with tshark's view.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_pcap.h"

#define EXIT_MALFORMED 1
#define EXIT_USAGE 2

struct options {
	bool hex;
	bool count;
	bool quiet;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: pcapdump [-x] [-c] [-q] FILE...   (- reads stdin)\n"
		"Print one line per packet: <iface> <len> <caplen> <fnv1a-64 of the bytes>.\n"
		"  -x  print the captured bytes in hex instead of the hash\n"
		"  -c  print only '<count> <file>' per file\n"
		"  -q  print nothing, only check the files\n"
		"Exit status: 0 all files valid, 1 a file is malformed, 2 usage or I/O error.\n");
}

static uint64_t
fnv1a64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void
print_hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char line[8192];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		line[k++] = digits[p[i] >> 4];
		line[k++] = digits[p[i] & 0xf];
		if (k == sizeof(line)) {
			fwrite(line, 1, k, stdout);
			k = 0;
		}
	}
	fwrite(line, 1, k, stdout);
}

static void
print_packet(const struct sl_pcap_packet *pkt, const struct options *o)
{
	if (o->count || o->quiet)
		return;
	if (!o->hex) {
		printf("%" PRIu32 " %" PRIu32 " %" PRIu32 " %016" PRIx64 "\n", pkt->iface, pkt->len,
		       pkt->caplen, fnv1a64(pkt->data, pkt->caplen));
		return;
	}
	/* No trailing blank for an empty packet: awk and cut see the same fields. */
	printf("%" PRIu32 " %" PRIu32 " %" PRIu32 "%s", pkt->iface, pkt->len, pkt->caplen,
	       pkt->caplen > 0 ? " " : "");
	print_hex(pkt->data, pkt->caplen);
	putchar('\n');
}

/* Pipes and other unmappable inputs are read whole into memory instead. */
static int
slurp(int fd, uint8_t **out, size_t *size)
{
	size_t cap = 1 << 20, len = 0;
	uint8_t *buf = malloc(cap);

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			uint8_t *bigger = realloc(buf, cap * 2);

			if (bigger == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;

			free(buf);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = buf;
	*size = len;
	return 0;
}

/* Returns 0, EXIT_MALFORMED or EXIT_USAGE (I/O errors share the usage status). */
static int
dump_file(const char *path, const struct options *o)
{
	struct sl_pcap_reader r;
	struct sl_pcap_packet pkt;
	uint8_t *copy = NULL;
	const void *map = NULL;
	struct stat st;
	size_t size = 0;
	int fd, rc;

	fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "pcapdump: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_USAGE;
	}
	if (S_ISREG(st.st_mode)) {
		size = (size_t)st.st_size;
		/* mmap refuses zero lengths; an empty file is then reported by the reader. */
		if (size > 0) {
			map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (map == MAP_FAILED) {
				fprintf(stderr, "pcapdump: %s: mmap: %s\n", path, strerror(errno));
				close(fd);
				return EXIT_USAGE;
			}
			madvise((void *)map, size, MADV_SEQUENTIAL);
		}
	} else {
		rc = slurp(fd, &copy, &size);
		if (rc < 0) {
			fprintf(stderr, "pcapdump: %s: %s\n", path, strerror(-rc));
			close(fd);
			return EXIT_USAGE;
		}
		map = copy;
	}
	close(fd);

	rc = sl_pcap_reader_open(&r, map, size);
	if (rc == 0) {
		while ((rc = sl_pcap_reader_next(&r, &pkt)) == 1)
			print_packet(&pkt, o);
	}
	/* Packets before a malformed record are still counted, so a torn tail shows how
	 * much survived; the exit status tells the file was not clean. */
	if (o->count)
		printf("%" PRIu64 " %s\n", r.packets, path);
	if (rc < 0) {
		fflush(stdout);
		fprintf(stderr, "pcapdump: %s: %s at offset %zu\n", path, r.error, r.offset);
	}
	if (copy != NULL)
		free(copy);
	else if (map != NULL)
		munmap((void *)map, size);
	return rc < 0 ? EXIT_MALFORMED : 0;
}

int
main(int argc, char **argv)
{
	struct options o = { 0 };
	int c, i, status = 0;

	while ((c = getopt(argc, argv, "xcqh")) != -1) {
		switch (c) {
		case 'x':
			o.hex = true;
			break;
		case 'c':
			o.count = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	for (i = optind; i < argc; i++) {
		int rc = dump_file(argv[i], &o);

		if (rc > status)
			status = rc;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "pcapdump: write error: %s\n", strerror(errno));
		status = EXIT_USAGE;
	}
	return status;
}
