/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sl_sender.h"

#define MS 1000000ull
#define SESSION 0x1122334455667788ull

static char tmpdir[256];

/* Independent references: bitwise CRC32C and a plain SHA-256 (FIPS 180-4). */
static uint32_t
ref_crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffff;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78 : c >> 1;
	}
	return ~c;
}

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
ref_sha256(const uint8_t *msg, size_t len, uint8_t out[32])
{
	static const uint32_t k[64] = {
		0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
		0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
		0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
		0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
		0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
		0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
		0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
		0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
		0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
		0xc67178f2,
	};
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	size_t total = ((len + 8) / 64 + 1) * 64;

	for (size_t blk = 0; blk < total; blk += 64) {
		uint32_t w[64], a, b, c, d, e, f, g, hh;

		for (int i = 0; i < 16; i++) {
			w[i] = 0;
			for (int j = 0; j < 4; j++) {
				size_t pos = blk + (size_t)i * 4 + (size_t)j;
				uint8_t byte;

				if (pos < len)
					byte = msg[pos];
				else if (pos == len)
					byte = 0x80;
				else if (pos >= total - 8)
					byte = (uint8_t)(((uint64_t)len * 8) >>
							 (8 * (total - 1 - pos)));
				else
					byte = 0;
				w[i] = w[i] << 8 | byte;
			}
		}
		for (int i = 16; i < 64; i++) {
			uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);

			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
		for (int i = 0; i < 64; i++) {
			uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
				      ((e & f) ^ (~e & g)) + k[i] + w[i];
			uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
				      ((a & b) ^ (a & c) ^ (b & c));

			hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g,
			h[7] += hh;
	}
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 4; j++)
			out[i * 4 + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

static uint64_t rng_state;

static uint32_t
rng(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

static void
path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* Write a file of @p size pseudo-random bytes (seeded by @p seed); return its bytes. */
static uint8_t *
make_file(const char *name, size_t size, uint32_t seed)
{
	uint8_t *data = malloc(size + 1);
	char path[512];
	FILE *f;

	assert_non_null(data);
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)((i * 2654435761u + seed * 40503u) >> 13 ^ (i >> 7));
	path_in(path, sizeof(path), name);
	f = fopen(path, "wb");
	assert_non_null(f);
	if (size > 0)
		assert_int_equal(fwrite(data, 1, size, f), size);
	fclose(f);
	return data;
}

static int
setup_dir(void **state)
{
	const char *base = getenv("SL_TEST_TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/sender-XXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown_dir(void **state)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", tmpdir, tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- Option parsing. */

static int
parse(struct sl_sender_opts *o, const char *line)
{
	static char storage[1024];
	static char *argv[32];
	char err[256];
	int argc = 0;
	char *tok;

	snprintf(storage, sizeof(storage), "sluice-send %s", line);
	for (tok = strtok(storage, " "); tok != NULL && argc < 31; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return sl_sender_opts_parse(o, argc, argv, err, sizeof(err));
}

static void
test_opts(void **state)
{
	static const char *const bad[] = {
		"",                          /* no host */
		"host",                      /* no source */
		"--rate=fast host f",        /* bad rate */
		"--rate=0 host f",           /* zero rate */
		"--rate=10X host f",         /* bad suffix */
		"--chunk-size=1000 host f",  /* not a multiple of 4K */
		"--chunk-size=32K host f",   /* under 64K */
		"--max-payload=1199 host f", /* under 1200 */
		"--max-payload=9001 host f", /* over 9000 */
		"--timeout=abc host f",      /* not seconds */
		"--timeout=0 host f",        /* zero */
		"--bind=not-an-ip host f",   /* not an address */
		"--name=x host f g",         /* --name with two sources */
		"--bogus host f",            /* unknown option */
		"--name host f",             /* hmm: --name takes "host" as value, no source */
		"host:0 f",                  /* port 0 */
		"host:70000 f",              /* port too big */
		"[::1 f",                    /* unbalanced bracket */
		"[::1]x f",                  /* junk after bracket */
		"--psk-id=01234567890123456789012345678901234567890123456789012345678901234 h f",
	};
	struct sl_sender_opts o;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&o, bad[i]) != -EINVAL)
			fail_msg("accepted: '%s'", bad[i]);
	}

	assert_int_equal(parse(&o, "h f"), 0);
	assert_string_equal(o.host, "h");
	assert_int_equal(o.port, 7400);
	assert_int_equal(o.chunk_size, 1024 * 1024);
	assert_int_equal(o.timeout_ms, 30000);
	assert_int_equal(o.max_payload, 0);
	assert_int_equal(o.rate_bps, 0);
	assert_int_equal(o.nb_sources, 1);

	assert_int_equal(parse(&o, "--rate=1.5G --chunk-size=64K --max-payload=1200 --timeout=0.5 "
				   "-q -v --json --bind=::1 --psk-file=k --psk-id=me "
				   "[fe80::1]:9000 a b c"),
			 0);
	assert_int_equal(o.rate_bps, 1500000000ull);
	assert_int_equal(o.chunk_size, 65536);
	assert_int_equal(o.max_payload, 1200);
	assert_int_equal(o.timeout_ms, 500);
	assert_true(o.quiet && o.verbose && o.json);
	assert_string_equal(o.host, "fe80::1");
	assert_int_equal(o.port, 9000);
	assert_int_equal(o.nb_sources, 3);
	assert_string_equal(o.sources[2], "c");
	assert_string_equal(o.psk_id, "me");

	assert_int_equal(parse(&o, "--name=../x 10.0.0.1:1 f"), 0);
	assert_string_equal(o.name, "../x");
	assert_string_equal(o.host, "10.0.0.1");
	assert_int_equal(o.port, 1);
	assert_int_equal(parse(&o, "2001:db8::5 f"), 0);
	assert_string_equal(o.host, "2001:db8::5");
	assert_int_equal(o.port, 7400);
	assert_int_equal(parse(&o, "-h"), 0);
	assert_true(o.help);
}

static void
test_rate(void **state)
{
	uint64_t v;

	assert_int_equal(sl_sender_parse_rate("100M", &v), 0);
	assert_int_equal(v, 100000000ull);
	assert_int_equal(sl_sender_parse_rate("1k", &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(sl_sender_parse_rate("2.25G", &v), 0);
	assert_int_equal(v, 2250000000ull);
	assert_int_equal(sl_sender_parse_rate("64000", &v), 0);
	assert_int_equal(v, 64000);
	assert_int_equal(sl_sender_parse_rate("", &v), -EINVAL);
	assert_int_equal(sl_sender_parse_rate(".", &v), -EINVAL);
	assert_int_equal(sl_sender_parse_rate("1MB", &v), -EINVAL);
	assert_int_equal(sl_sender_parse_rate("-5", &v), -EINVAL);
	assert_int_equal(sl_sender_parse_rate("99999999999999999999", &v), -ERANGE);
	assert_int_equal(sl_sender_parse_rate("20000000T", &v), -ERANGE);
}

/*
 * A whole part just under 2^64 / the unit passes the overflow check, and the
 * fraction then carried the product past 64 bits: "18446744073709551.999k"
 * was taken as 383 bit/s (found by tests/fuzz/fuzz_config).
 */
static void
test_rate_overflow(void **state)
{
	uint64_t v;

	assert_int_equal(sl_sender_parse_rate("18446744073709551.999k", &v), -ERANGE);
	assert_int_equal(sl_sender_parse_rate("18446744073709551.616k", &v), -ERANGE);
	assert_int_equal(sl_sender_parse_rate("18446744073.709551616G", &v), -ERANGE);
	assert_int_equal(sl_sender_parse_rate("18446744.073709552T", &v), -ERANGE);
	/* The largest rates that fit are still taken, to the bit. */
	assert_int_equal(sl_sender_parse_rate("18446744073709551.615k", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(sl_sender_parse_rate("18446744073.709551615G", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(sl_sender_parse_rate("18446744.073709551T", &v), 0);
	assert_int_equal(v, UINT64_MAX - 615);
	assert_int_equal(sl_sender_parse_rate("18446744073709551.6149k", &v), 0);
	assert_int_equal(v, UINT64_MAX - 1);
}

/* ---- Source walking. */

struct warnings {
	unsigned n;
	char last[512];
};

static void
count_warning(void *arg, const char *msg)
{
	struct warnings *w = arg;

	w->n++;
	snprintf(w->last, sizeof(w->last), "%s", msg);
}

static void
test_walk(void **state)
{
	struct sl_sender_list l = { 0 };
	struct warnings w = { 0 };
	char p[512], p2[512], tgt[512];
	char *srcs[3];

	path_in(p, sizeof(p), "tree");
	assert_int_equal(mkdir(p, 0755), 0);
	path_in(p, sizeof(p), "tree/sub");
	assert_int_equal(mkdir(p, 0755), 0);
	path_in(p, sizeof(p), "tree/sub/deeper");
	assert_int_equal(mkdir(p, 0755), 0);
	path_in(p, sizeof(p), "tree/empty");
	assert_int_equal(mkdir(p, 0755), 0);
	free(make_file("tree/b file with spaces.txt", 10, 1));
	free(make_file("tree/a", 1, 2));
	free(make_file("tree/sub/\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.bin", 3, 3));
	free(make_file("tree/sub/deeper/z", 0, 4));
	path_in(p, sizeof(p), "tree/link");
	path_in(tgt, sizeof(tgt), "tree/a");
	assert_int_equal(symlink(tgt, p), 0);
	path_in(p, sizeof(p), "tree/dirlink");
	path_in(tgt, sizeof(tgt), "tree/sub");
	assert_int_equal(symlink(tgt, p), 0);
	path_in(p, sizeof(p), "tree/fifo");
	assert_int_equal(mkfifo(p, 0644), 0);

	/* A directory with a trailing slash: recursion, sorted, links and the FIFO skipped. */
	path_in(p, sizeof(p), "tree/");
	srcs[0] = p;
	assert_int_equal(sl_sender_list_build(&l, srcs, 1, NULL, count_warning, &w), 0);
	assert_int_equal(l.count, 4);
	assert_string_equal(l.files[0].name, "tree/a");
	assert_int_equal(l.files[0].size, 1);
	assert_string_equal(l.files[1].name, "tree/b file with spaces.txt");
	assert_int_equal(l.files[1].size, 10);
	assert_string_equal(l.files[2].name, "tree/sub/deeper/z");
	assert_string_equal(l.files[3].name,
			    "tree/sub/\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.bin");
	for (unsigned i = 0; i < l.count; i++) {
		assert_int_equal(l.files[i].status, SL_SENDER_PENDING);
		assert_true(l.files[i].nofollow);
	}
	assert_int_equal(l.skipped, 3);
	assert_int_equal(w.n, 3);
	sl_sender_list_free(&l);

	/* A single file, renamed; the remote name is not checked here (the receiver decides). */
	path_in(p, sizeof(p), "tree/a");
	srcs[0] = p;
	assert_int_equal(sl_sender_list_build(&l, srcs, 1, "../x", NULL, NULL), 0);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.files[0].name, "../x");
	assert_string_equal(l.files[0].source, p);
	assert_false(l.files[0].nofollow);
	sl_sender_list_free(&l);

	/* --name with a directory renames its top; with two sources it is refused. */
	path_in(p, sizeof(p), "tree/sub");
	srcs[0] = p;
	assert_int_equal(sl_sender_list_build(&l, srcs, 1, "top", NULL, NULL), 0);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.files[0].name, "top/deeper/z");
	sl_sender_list_free(&l);
	path_in(p2, sizeof(p2), "tree/a");
	srcs[1] = p2;
	assert_int_equal(sl_sender_list_build(&l, srcs, 2, "x", NULL, NULL), -EINVAL);
	sl_sender_list_free(&l);

	/* Several sources, a symlink named on the command line (followed), a missing file. */
	path_in(p, sizeof(p), "tree/link");
	path_in(p2, sizeof(p2), "tree/missing");
	path_in(tgt, sizeof(tgt), "tree/sub/deeper");
	srcs[0] = p;
	srcs[1] = p2;
	srcs[2] = tgt;
	memset(&w, 0, sizeof(w));
	assert_int_equal(sl_sender_list_build(&l, srcs, 3, NULL, count_warning, &w), 0);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.files[0].name, "link");
	assert_int_equal(l.files[0].size, 1);
	assert_int_equal(l.files[0].status, SL_SENDER_PENDING);
	assert_string_equal(l.files[1].name, "missing");
	assert_int_equal(l.files[1].status, SL_SENDER_UNREADABLE);
	assert_string_equal(l.files[2].name, "deeper/z");
	assert_int_equal(w.n, 1);
	sl_sender_list_free(&l);

	/* "." is named after the directory it is. */
	assert_int_equal(chdir(tmpdir), 0);
	assert_int_equal(chdir("tree/sub/deeper"), 0);
	srcs[0] = ".";
	assert_int_equal(sl_sender_list_build(&l, srcs, 1, NULL, NULL, NULL), 0);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.files[0].name, "deeper/z");
	assert_string_equal(l.files[0].source, "./z");
	sl_sender_list_free(&l);
	assert_int_equal(chdir("/"), 0);
}

/* ---- Manifest digests. */

static void
test_digest(void **state)
{
	static const size_t sizes[] = { 0, 1, 4096, 65535, 65536, 65537, 3 * 65536 + 5 };
	const uint32_t chunk = 65536;
	uint8_t *buf = malloc(chunk);

	assert_non_null(buf);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = sizes[i];
		uint8_t *data = make_file("digest", size, (uint32_t)i);
		uint32_t n = sl_proto_chunk_count(size, chunk);
		uint32_t crcs[8];
		uint8_t sha[32], ref[32];
		char path[512];
		int fd;

		path_in(path, sizeof(path), "digest");
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(sl_sender_digest_fd(fd, size, chunk, buf, crcs, sha), 0);
		assert_int_equal(n, (size + chunk - 1) / chunk);
		for (uint32_t c = 0; c < n; c++) {
			size_t len =
				size - (size_t)c * chunk < chunk ? size - (size_t)c * chunk : chunk;

			assert_int_equal(crcs[c], ref_crc32c(data + (size_t)c * chunk, len));
		}
		ref_sha256(data, size, ref);
		assert_memory_equal(sha, ref, 32);
		/* A file shorter than announced is an error, not a short digest. */
		if (size > 0)
			assert_int_equal(sl_sender_digest_fd(fd, size + 1, chunk, buf, crcs, sha),
					 -EIO);
		close(fd);
		free(data);
	}
	/* The reference itself: SHA-256("abc"). */
	{
		uint8_t ref[32];
		static const uint8_t abc[32] = {
			0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
			0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
			0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
		};

		ref_sha256((const uint8_t *)"abc", 3, ref);
		assert_memory_equal(ref, abc, 32);
	}
	free(buf);
}

/* ---- Token bucket. */

static void
test_bucket(void **state)
{
	struct sl_sender_bucket b;

	/* 8 Mbit/s = 1 byte per microsecond; 1000-byte burst, starts full. */
	sl_sender_bucket_init(&b, 8000000, 1000, 0);
	assert_true(sl_sender_bucket_take(&b, 600, 0));
	assert_false(sl_sender_bucket_take(&b, 600, 0));
	assert_int_equal(sl_sender_bucket_wait_ns(&b, 600, 0), 200001);
	assert_false(sl_sender_bucket_take(&b, 600, 199000));
	assert_true(sl_sender_bucket_take(&b, 600, 201000));
	/* Idle time never accrues more than the burst. */
	assert_true(sl_sender_bucket_take(&b, 1000, 10 * MS));
	assert_false(sl_sender_bucket_take(&b, 1, 10 * MS));
	assert_int_equal(sl_sender_bucket_wait_ns(&b, 500, 10 * MS), 500001);
	/* Halving the rate doubles the wait; what accrued before is kept. */
	sl_sender_bucket_set_rate(&b, 4000000, 10 * MS + 250000);
	assert_int_equal(sl_sender_bucket_wait_ns(&b, 500, 10 * MS + 250000), 500001);
	/* Over one simulated second at 8 Mbit/s, 1500-byte takes give 1 MB plus the burst. */
	{
		uint64_t taken = 0, t;

		sl_sender_bucket_init(&b, 8000000, 3000, 0);
		for (t = 0; t <= 1000 * MS; t += 10000)
			while (sl_sender_bucket_take(&b, 1500, t))
				taken += 1500;
		assert_true(taken >= 1000000 && taken <= 1000000 + 3000);
	}
	/* Rate 0: unlimited. */
	sl_sender_bucket_init(&b, 0, 0, 0);
	assert_true(sl_sender_bucket_take(&b, 1u << 30, 0));
	assert_int_equal(sl_sender_bucket_wait_ns(&b, 1u << 30, 0), 0);
}

/* ---- JSON. */

static void
test_json(void **state)
{
	struct sl_sender_file files[3] = {
		{ .source = "/a/x",
		  .name = "x",
		  .size = 5,
		  .sent_bytes = 5,
		  .status = SL_SENDER_OK },
		{ .source = "q\"b\\",
		  .name = "d/\xc3\xa9\tz\x01",
		  .size = 7,
		  .status = SL_SENDER_DIGEST_MISMATCH },
		{ .source = "bad\xff", .name = "bad\xff", .status = SL_SENDER_UNREADABLE },
	};
	struct sl_sender_list l = { .files = files, .count = 3, .cap = 3, .skipped = 2 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	sl_sender_json(f, &l, NULL, 2.0);
	fclose(f);
	assert_string_equal(
		text,
		"{\"files\":[{\"name\":\"x\",\"source\":\"/a/x\",\"size\":5,\"sent_bytes\":5,"
		"\"retransmitted_bytes\":0,\"status\":\"ok\"},"
		"{\"name\":\"d/\xc3\xa9\\u0009z\\u0001\",\"source\":\"q\\\"b\\\\\",\"size\":7,"
		"\"sent_bytes\":0,\"retransmitted_bytes\":0,\"status\":\"digest_mismatch\"},"
		"{\"name\":\"bad\\u00ff\",\"source\":\"bad\\u00ff\",\"size\":0,\"sent_bytes\":0,"
		"\"retransmitted_bytes\":0,\"status\":\"unreadable\"}],"
		"\"files_total\":3,\"files_ok\":1,\"files_failed\":2,\"skipped\":2,"
		"\"total_bytes\":12,\"sent_bytes\":5,\"retransmitted_bytes\":0,\"elapsed_s\":2.000,"
		"\"rate_bps\":20,\"max_payload\":0,\"chunk_size\":0}\n");
	free(text);

	/* Every status has its snake_case name. */
	assert_string_equal(sl_sender_status_name(SL_SENDER_NO_SPACE), "no_space");
	assert_string_equal(sl_sender_status_name(SL_SENDER_BAD_MANIFEST), "bad_manifest");
	assert_string_equal(sl_sender_status_name(SL_SENDER_TIMEOUT), "timeout");
	assert_string_equal(sl_sender_status_name(SL_SENDER_REJECTED), "rejected");
	assert_string_equal(sl_sender_status_name(SL_SENDER_NB_STATUS), "unknown");
	assert_int_equal(sl_sender_status_from_proto(SL_PROTO_STATUS_EXISTS), SL_SENDER_EXISTS);
	assert_int_equal(sl_sender_status_from_proto(SL_PROTO_STATUS_IO_ERROR), SL_SENDER_IO_ERROR);
	assert_int_equal(sl_sender_status_from_proto(200), SL_SENDER_REFUSED);
}

/* ---- A tiny fake receiver: enough of the protocol to prove transfers complete. */

#define FR_FILES 512
#define FR_OUTQ 256
#define FR_BUF 1600
#define NET_PKTS 8192

struct ffile {
	bool known, final;
	uint8_t status;
	char name[512];
	uint64_t size;
	uint32_t chunk, nchunks, ndigests, received_upto;
	uint32_t *crcs, *fill;
	uint8_t sha[32];
	uint8_t *data, *have, *done;
	uint64_t highest;
};

struct frecv {
	uint16_t max_payload, max_files;
	uint32_t max_chunk;
	uint64_t window, retired, credit;
	const struct sl_auth_key *key;
	bool reject;            /* Answer CONNECT with REJECT. */
	bool silent;            /* Answer nothing. */
	uint32_t resume_chunks; /* Pretend this many leading chunks of each file are durable. */
	const uint8_t *resume_data[FR_FILES + 1];
	bool corrupt_once; /* Corrupt the first chunk that completes (bad digest). */
	struct ffile f[FR_FILES + 1];
	unsigned data_since_ack, in_progress_max, bad_data, manifests, data_msgs, byes;
	unsigned discarded_chunks, window_violations;
	uint64_t last_ack_ns;
	uint8_t outq[FR_OUTQ][FR_BUF];
	uint16_t outlen[FR_OUTQ];
	unsigned nout;
};

static void
fr_send(struct frecv *fr, const struct sl_proto_msg *m)
{
	int len;

	if (fr->nout >= FR_OUTQ)
		return;
	len = sl_proto_encode(m, fr->outq[fr->nout], fr->max_payload);
	assert_true(len > 0);
	fr->outlen[fr->nout++] = (uint16_t)len;
}

static void
fr_status(struct frecv *fr, uint32_t id)
{
	struct ffile *f = &fr->f[id];
	struct sl_proto_range r = { 0, fr->resume_chunks };
	struct sl_proto_msg m = { .type = SL_PROTO_FILE_STATUS, .session = SESSION };

	m.file_status.file_id = id;
	m.file_status.status = f->final ? f->status : SL_PROTO_STATUS_READY;
	m.file_status.digests_needed = f->ndigests;
	if (!f->final && fr->resume_chunks > 0 && f->nchunks > fr->resume_chunks) {
		m.file_status.count = 1;
		m.file_status.ranges = &r;
	}
	fr_send(fr, &m);
}

static void
fr_ack(struct frecv *fr, uint64_t now)
{
	static struct sl_proto_ack_entry e[64];
	static struct sl_proto_missing miss[64][100];
	struct sl_proto_msg m = { .type = SL_PROTO_ACK, .session = SESSION };
	size_t room = fr->max_payload - SL_PROTO_HEADER_SIZE - 10;
	unsigned n = 0;

	for (uint32_t id = 1; id <= FR_FILES && n < 64; id++) {
		struct ffile *f = &fr->f[id];
		uint64_t pos;
		uint16_t nm = 0;

		if (!f->known || f->final || room < 14)
			continue;
		room -= 14;
		e[n] = (struct sl_proto_ack_entry){ .file_id = id,
						    .received_upto = f->received_upto,
						    .durable_upto = f->received_upto };
		pos = (uint64_t)f->received_upto * f->chunk;
		while (pos < f->highest && nm < 100 && room >= 12) {
			uint64_t start;

			while (pos < f->highest && f->have[pos])
				pos++;
			if (pos >= f->highest)
				break;
			start = pos;
			while (pos < f->highest && !f->have[pos])
				pos++;
			miss[n][nm++] = (struct sl_proto_missing){ start, (uint32_t)(pos - start) };
			room -= 12;
		}
		e[n].nmissing = nm;
		e[n].missing = miss[n];
		n++;
	}
	m.ack.credit_limit = fr->credit;
	m.ack.count = (uint16_t)n;
	m.ack.entries = e;
	fr_send(fr, &m);
	fr->data_since_ack = 0;
	fr->last_ack_ns = now;
}

/* Verify complete chunks, advance received_upto, publish the file when whole. */
static void
fr_settle(struct frecv *fr, uint32_t id)
{
	struct ffile *f = &fr->f[id];

	for (uint32_t c = f->received_upto; c < f->nchunks && c < f->ndigests; c++) {
		uint64_t off = (uint64_t)c * f->chunk;
		uint32_t len = (uint32_t)(f->size - off < f->chunk ? f->size - off : f->chunk);

		if (f->done[c] || f->fill[c] != len)
			continue;
		if (fr->corrupt_once) {
			fr->corrupt_once = false;
			f->data[off] ^= 1;
		}
		if (ref_crc32c(f->data + off, len) != f->crcs[c]) {
			/* Discarded whole, and asked for again through the missing ranges. */
			memset(f->have + off, 0, len);
			f->fill[c] = 0;
			f->highest = f->highest > off + len ? f->highest : off + len;
			fr->discarded_chunks++;
			continue;
		}
		f->done[c] = 1;
		fr->retired += len;
	}
	while (f->received_upto < f->nchunks && f->done[f->received_upto])
		f->received_upto++;
	fr->credit = fr->retired + fr->window;
	if (!f->final && f->received_upto == f->nchunks) {
		uint8_t sha[32];

		ref_sha256(f->data, f->size, sha);
		f->final = true;
		f->status = memcmp(sha, f->sha, 32) == 0 ? SL_PROTO_STATUS_OK
							 : SL_PROTO_STATUS_DIGEST_MISMATCH;
		fr_status(fr, id);
	}
}

static void
fr_manifest(struct frecv *fr, const struct sl_proto_manifest *mf)
{
	struct ffile *f;
	unsigned active = 0;

	fr->manifests++;
	if (mf->file_id == 0 || mf->file_id > FR_FILES)
		return;
	f = &fr->f[mf->file_id];
	if (f->known) {
		fr_status(fr, mf->file_id);
		return;
	}
	for (uint32_t id = 1; id <= FR_FILES; id++)
		active += fr->f[id].known && !fr->f[id].final;
	if (active + 1 > fr->max_files)
		fr->window_violations++;
	assert_true(sl_proto_chunk_size_valid(mf->chunk_size, fr->max_chunk));
	f->known = true;
	f->size = mf->size;
	f->chunk = mf->chunk_size;
	f->nchunks = sl_proto_chunk_count(mf->size, mf->chunk_size);
	assert_true(mf->count <= f->nchunks);
	assert_true(mf->path_len < sizeof(f->name));
	memcpy(f->name, mf->path, mf->path_len);
	memcpy(f->sha, mf->file_sha256, 32);
	f->crcs = calloc(f->nchunks + 1, 4);
	f->fill = calloc(f->nchunks + 1, 4);
	f->done = calloc(f->nchunks + 1, 1);
	f->data = calloc(f->size + 1, 1);
	f->have = calloc(f->size + 1, 1);
	assert_true(f->crcs && f->fill && f->done && f->data && f->have);
	for (uint16_t i = 0; i < mf->count; i++)
		f->crcs[i] = sl_proto_u32_get(mf->digests_wire, i);
	f->ndigests = mf->count;
	if (fr->resume_chunks > 0 && f->nchunks > fr->resume_chunks) {
		uint64_t end = (uint64_t)fr->resume_chunks * f->chunk;

		memcpy(f->data, fr->resume_data[mf->file_id], end);
		memset(f->have, 1, end);
		for (uint32_t c = 0; c < fr->resume_chunks; c++) {
			f->done[c] = 1;
			f->fill[c] = f->chunk;
		}
		f->received_upto = fr->resume_chunks;
	}
	fr_status(fr, mf->file_id);
	if (f->nchunks == 0 || f->received_upto == f->nchunks)
		fr_settle(fr, mf->file_id);
}

static void
fr_input(struct frecv *fr, const uint8_t *buf, size_t len, uint64_t now)
{
	struct sl_proto_msg m, r = { 0 };
	struct ffile *f;

	if (fr->silent || sl_proto_decode(buf, len, &m) != 0)
		return;
	switch (m.type) {
	case SL_PROTO_HELLO:
		r.type = SL_PROTO_COOKIE;
		memcpy(r.cookie.client_nonce, m.hello.client_nonce, 8);
		r.cookie.issued = 7;
		memset(r.cookie.cookie, 0xc0, 16);
		fr_send(fr, &r);
		break;
	case SL_PROTO_CONNECT:
		if (fr->reject) {
			r.type = SL_PROTO_REJECT;
			r.reject.reason = SL_PROTO_REJECT_NOT_ALLOWED;
			memcpy(r.reject.client_nonce, m.connect.client_nonce, 8);
			fr_send(fr, &r);
			break;
		}
		assert_int_equal(m.connect.issued, 7);
		assert_int_equal(m.connect.cookie[0], 0xc0);
		r.type = SL_PROTO_WELCOME;
		r.session = SESSION;
		memcpy(r.welcome.client_nonce, m.connect.client_nonce, 8);
		r.welcome.max_payload = m.connect.max_payload < fr->max_payload
						? m.connect.max_payload
						: fr->max_payload;
		r.welcome.max_chunk = fr->max_chunk;
		r.welcome.credit = fr->credit;
		r.welcome.max_files = fr->max_files;
		if (fr->key != NULL) {
			uint8_t proof[32];

			assert_int_equal(m.connect.psk_id_len, fr->key->id_len);
			sl_auth_connect_proof(fr->key, m.connect.client_nonce, m.connect.cookie,
					      proof);
			assert_memory_equal(proof, m.connect.auth, 32);
			r.welcome.has_auth = true;
			sl_auth_welcome_proof(fr->key, SESSION, m.connect.client_nonce,
					      r.welcome.auth);
		}
		fr_send(fr, &r);
		break;
	case SL_PROTO_MANIFEST:
		assert_int_equal(m.session, SESSION);
		fr_manifest(fr, &m.manifest);
		break;
	case SL_PROTO_DIGESTS:
		if (m.digests.file_id == 0 || m.digests.file_id > FR_FILES)
			break;
		f = &fr->f[m.digests.file_id];
		if (!f->known || m.digests.first > f->ndigests)
			break;
		assert_true(m.digests.first + m.digests.count <= f->nchunks);
		for (uint16_t i = 0; i < m.digests.count; i++)
			f->crcs[m.digests.first + i] = sl_proto_u32_get(m.digests.digests_wire, i);
		if (m.digests.first + m.digests.count > f->ndigests)
			f->ndigests = m.digests.first + m.digests.count;
		fr_settle(fr, m.digests.file_id);
		break;
	case SL_PROTO_DATA:
		fr->data_msgs++;
		if (m.data.file_id == 0 || m.data.file_id > FR_FILES)
			break;
		f = &fr->f[m.data.file_id];
		if (!f->known) {
			fr->bad_data++;
			break;
		}
		if (!sl_proto_data_in_chunk(m.data.offset, m.data.len, f->chunk, f->size)) {
			fr->bad_data++;
			break;
		}
		if (!f->final) {
			uint32_t c = (uint32_t)(m.data.offset / f->chunk);

			for (uint32_t i = 0; i < m.data.len; i++) {
				uint64_t o = m.data.offset + i;

				if (!f->have[o] && !f->done[c]) {
					f->have[o] = 1;
					f->data[o] = m.data.payload[i];
					f->fill[c]++;
				}
			}
			if (m.data.offset + m.data.len > f->highest)
				f->highest = m.data.offset + m.data.len;
			fr_settle(fr, m.data.file_id);
		}
		if (++fr->data_since_ack >= 16 || (m.flags & SL_PROTO_FLAG_ACK_NOW))
			fr_ack(fr, now);
		break;
	case SL_PROTO_BYE:
		fr->byes++;
		r.type = SL_PROTO_BYE;
		r.session = SESSION;
		fr_send(fr, &r);
		break;
	default:
		break;
	}
}

static void
fr_init(struct frecv *fr)
{
	memset(fr, 0, sizeof(*fr));
	fr->max_payload = 1472;
	fr->max_chunk = 64 * 1024;
	fr->window = 256 * 1024;
	fr->credit = fr->window;
	fr->max_files = 4;
}

static void
fr_free(struct frecv *fr)
{
	for (uint32_t id = 1; id <= FR_FILES; id++) {
		free(fr->f[id].crcs);
		free(fr->f[id].fill);
		free(fr->f[id].done);
		free(fr->f[id].data);
		free(fr->f[id].have);
	}
}

/* ---- The network between them: delay, jitter (so reordering), loss, duplication. */

struct pkt {
	uint64_t at;
	uint16_t len;
	bool to_sender;
	uint8_t buf[FR_BUF];
};

struct tfile {
	uint64_t size;
	uint32_t chunk;
	uint8_t *sent;
};

struct sim {
	struct frecv fr;
	struct pkt *pkts;
	unsigned npkts;
	unsigned loss_to_recv, loss_to_send, dup; /* Percent. */
	uint64_t delay, jitter, now;
	/* Wire tap on what the sender emits. */
	struct tfile tf[FR_FILES + 1];
	uint64_t tap_new, tap_resent, credit_seen;
	unsigned crossing, oversize, credit_violations, undecodable, acknow_data;
	uint16_t payload_seen;
};

static void
net_push(struct sim *m, const uint8_t *buf, uint16_t len, bool to_sender)
{
	unsigned loss = to_sender ? m->loss_to_send : m->loss_to_recv;
	int copies = (m->dup > 0 && rng() % 100 < m->dup) ? 2 : 1;

	if (rng() % 100 < loss)
		return;
	while (copies-- > 0 && m->npkts < NET_PKTS) {
		struct pkt *p = &m->pkts[m->npkts++];

		p->at = m->now + m->delay + (m->jitter ? rng() % m->jitter : 0);
		p->len = len;
		p->to_sender = to_sender;
		memcpy(p->buf, buf, len);
	}
}

static void
tap(struct sim *m, const uint8_t *buf, uint16_t len)
{
	struct sl_proto_msg msg;
	struct tfile *t;

	if (sl_proto_decode(buf, len, &msg) != 0) {
		m->undecodable++;
		return;
	}
	if (msg.type == SL_PROTO_MANIFEST && msg.manifest.file_id <= FR_FILES) {
		t = &m->tf[msg.manifest.file_id];
		if (t->sent == NULL) {
			t->size = msg.manifest.size;
			t->chunk = msg.manifest.chunk_size;
			t->sent = calloc(t->size + 1, 1);
		}
	}
	if (msg.type != SL_PROTO_DATA)
		return;
	if (len > m->payload_seen)
		m->oversize++;
	if (msg.flags & SL_PROTO_FLAG_ACK_NOW)
		m->acknow_data++;
	assert_true(msg.data.file_id > 0 && msg.data.file_id <= FR_FILES);
	t = &m->tf[msg.data.file_id];
	assert_non_null(t->sent);
	if (!sl_proto_data_in_chunk(msg.data.offset, msg.data.len, t->chunk, t->size)) {
		m->crossing++;
		return;
	}
	for (uint32_t i = 0; i < msg.data.len; i++) {
		if (t->sent[msg.data.offset + i])
			m->tap_resent++;
		else
			m->tap_new++;
		t->sent[msg.data.offset + i] = 1;
	}
	if (m->tap_new > m->credit_seen)
		m->credit_violations++;
}

/* What the sender learns: credit from WELCOME and ACKs, for the credit check. */
static void
learn(struct sim *m, const uint8_t *buf, uint16_t len)
{
	struct sl_proto_msg msg;

	if (sl_proto_decode(buf, len, &msg) != 0)
		return;
	if (msg.type == SL_PROTO_WELCOME) {
		m->credit_seen =
			msg.welcome.credit > m->credit_seen ? msg.welcome.credit : m->credit_seen;
		m->payload_seen = msg.welcome.max_payload;
	}
	if (msg.type == SL_PROTO_ACK && msg.ack.credit_limit > m->credit_seen)
		m->credit_seen = msg.ack.credit_limit;
}

static bool
deliver_one(struct sim *m, struct sl_sender *s)
{
	unsigned best = m->npkts;
	struct pkt p;

	for (unsigned i = 0; i < m->npkts; i++)
		if (m->pkts[i].at <= m->now &&
		    (best == m->npkts || m->pkts[i].at < m->pkts[best].at))
			best = i;
	if (best == m->npkts)
		return false;
	p = m->pkts[best];
	m->pkts[best] = m->pkts[--m->npkts];
	if (getenv("SL_TEST_TRACE") != NULL) {
		struct sl_proto_msg d;

		if (sl_proto_decode(p.buf, p.len, &d) == 0)
			fprintf(stderr, "  %8.3f ms %s type %u id %u off %llu\n",
				(double)(m->now % (1000 * MS)) / 1e6, p.to_sender ? "<-" : "->",
				d.type,
				d.type == SL_PROTO_DATA ? d.data.file_id
				: d.type == SL_PROTO_FILE_STATUS
					? d.file_status.file_id * 100 + d.file_status.status
				: d.type == SL_PROTO_MANIFEST ? d.manifest.file_id
							      : 0,
				d.type == SL_PROTO_DATA  ? (unsigned long long)d.data.offset
				: d.type == SL_PROTO_ACK ? (unsigned long long)d.ack.credit_limit
							 : 0ull);
	}
	if (p.to_sender) {
		learn(m, p.buf, p.len);
		sl_sender_input(s, p.buf, p.len, m->now);
	} else {
		fr_input(&m->fr, p.buf, p.len, m->now);
		for (unsigned i = 0; i < m->fr.nout; i++)
			net_push(m, m->fr.outq[i], m->fr.outlen[i], true);
		m->fr.nout = 0;
	}
	return true;
}

static void
sim_init(struct sim *m)
{
	memset(m, 0, sizeof(*m));
	fr_init(&m->fr);
	m->pkts = calloc(NET_PKTS, sizeof(*m->pkts));
	assert_non_null(m->pkts);
	m->delay = 1 * MS;
	m->payload_seen = 9000;
	m->now = 1000 * MS;
	rng_state = 42;
}

static void
sim_free(struct sim *m)
{
	fr_free(&m->fr);
	for (unsigned i = 0; i <= FR_FILES; i++)
		free(m->tf[i].sent);
	free(m->pkts);
}

/* Run until the transfer ends or @p limit_ns of simulated time passed. */
static void
sim_run(struct sim *m, struct sl_sender *s, uint64_t limit_ns)
{
	struct sl_sender_dgram dg[64];
	uint64_t end = m->now + limit_ns;

	while (m->now < end) {
		enum sl_sender_phase ph;
		uint64_t wake, next;
		unsigned n;
		bool moved = false;

		n = sl_sender_output(s, m->now, dg, 64, &wake);
		for (unsigned i = 0; i < n; i++) {
			tap(m, dg[i].buf, dg[i].len);
			net_push(m, dg[i].buf, dg[i].len, false);
		}
		while (deliver_one(m, s))
			moved = true;
		/* The receiver ACKs at least every 20 ms while data flows. */
		if (m->fr.data_since_ack > 0 && m->now - m->fr.last_ack_ns >= 20 * MS) {
			fr_ack(&m->fr, m->now);
			for (unsigned i = 0; i < m->fr.nout; i++)
				net_push(m, m->fr.outq[i], m->fr.outlen[i], true);
			m->fr.nout = 0;
		}
		ph = sl_sender_phase(s);
		if (ph == SL_SENDER_DONE || ph == SL_SENDER_NO_SESSION)
			break;
		/* What was delivered may have made work: ask the sender again at the same time. */
		if (n == 64 || moved)
			continue;
		next = wake;
		for (unsigned i = 0; i < m->npkts; i++)
			if (m->pkts[i].at < next)
				next = m->pkts[i].at;
		if (m->fr.data_since_ack > 0 && m->fr.last_ack_ns + 20 * MS < next)
			next = m->fr.last_ack_ns + 20 * MS;
		if (next > m->now)
			m->now = next;
		else if (n == 0)
			m->now += 10000;
	}
}

static void
print_event(void *arg, const char *msg)
{
	fprintf(stderr, "  sender: %s\n", msg);
}

static struct sl_sender_config
sim_config(void)
{
	struct sl_sender_config c = {
		.max_payload = 1472,
		.chunk_size = 1024 * 1024,
		.timeout_ns = 5000 * MS,
		.ip_overhead = 28,
	};

	/* SL_TEST_VERBOSE=1 shows the sender's protocol events. */
	if (getenv("SL_TEST_VERBOSE") != NULL)
		c.log = print_event;

	return c;
}

/* Build a list of @p n files of the given sizes in tmpdir; originals in @p data. */
static void
make_list(struct sl_sender_list *l, const size_t *sizes, unsigned n, uint8_t **data,
	  const char *prefix)
{
	char name[64], path[512];

	memset(l, 0, sizeof(*l));
	l->files = calloc(n, sizeof(*l->files));
	assert_non_null(l->files);
	l->cap = n;
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%u", prefix, i);
		data[i] = make_file(name, sizes[i], i + 1);
		path_in(path, sizeof(path), name);
		l->files[i].source = strdup(path);
		l->files[i].name = strdup(name);
		l->files[i].size = sizes[i];
		l->count++;
	}
}

static void
check_delivered(struct sim *m, struct sl_sender_list *l, uint8_t **data)
{
	for (unsigned i = 0; i < l->count; i++) {
		struct ffile *f = &m->fr.f[i + 1];

		if (l->files[i].status != SL_SENDER_OK)
			fail_msg("file %u (%s): %s", i, l->files[i].name,
				 sl_sender_status_name(l->files[i].status));
		assert_true(f->final);
		assert_int_equal(f->status, SL_PROTO_STATUS_OK);
		assert_int_equal(f->size, l->files[i].size);
		assert_string_equal(f->name, l->files[i].name);
		if (f->size > 0)
			assert_memory_equal(f->data, data[i], f->size);
	}
	assert_int_equal(m->crossing, 0);
	assert_int_equal(m->oversize, 0);
	assert_int_equal(m->credit_violations, 0);
	assert_int_equal(m->undecodable, 0);
	assert_int_equal(m->fr.bad_data, 0);
	assert_int_equal(m->fr.window_violations, 0);
}

static void
test_sim_clean(void **state)
{
	static const size_t sizes[] = { 0, 1, 4096, 65536, 65537, 300000, 1000, 131072 * 3 + 17 };
	const unsigned n = sizeof(sizes) / sizeof(sizes[0]);
	struct sl_sender_config c = sim_config();
	struct sl_sender_list l;
	struct sl_sender_stats st;
	uint8_t *data[8];
	struct sl_sender *s;
	struct sim m;
	uint64_t total = 0;

	sim_init(&m);
	make_list(&l, sizes, n, data, "clean");
	s = sl_sender_create(&c, &l, m.now);
	assert_non_null(s);
	sim_run(&m, s, 20000 * MS);
	assert_int_equal(sl_sender_phase(s), SL_SENDER_DONE);
	check_delivered(&m, &l, data);
	sl_sender_get_stats(s, &st);
	for (unsigned i = 0; i < n; i++) {
		total += sizes[i];
		/* Nothing lost: every byte sent exactly once. */
		assert_int_equal(l.files[i].sent_bytes, sizes[i]);
		assert_int_equal(l.files[i].retransmitted_bytes, 0);
	}
	assert_int_equal(st.new_bytes, total);
	assert_int_equal(m.tap_new, total);
	assert_int_equal(m.tap_resent, 0);
	assert_int_equal(st.files_done, n);
	assert_int_equal(st.chunk_size, 65536); /* Clamped to max_chunk. */
	assert_int_equal(st.acked_bytes, total);
	assert_true(m.fr.byes >= 1);
	/* Manifests were pipelined: no more than one per file plus a few repeats. */
	assert_true(m.fr.manifests <= n + 2);
	sl_sender_free(s);
	for (unsigned i = 0; i < n; i++)
		free(data[i]);
	sl_sender_list_free(&l);
	sim_free(&m);
}

static void
run_lossy(unsigned loss, unsigned dup, uint64_t seed, uint16_t payload)
{
	static const size_t sizes[] = { 700000, 0, 1, 65536, 200001, 5, 65535 };
	const unsigned n = sizeof(sizes) / sizeof(sizes[0]);
	struct sl_sender_config c = sim_config();
	struct sl_sender_list l;
	struct sl_sender_stats st;
	uint8_t *data[8];
	struct sl_sender *s;
	struct sim m;

	sim_init(&m);
	rng_state = seed;
	m.loss_to_recv = loss;
	m.loss_to_send = loss;
	m.dup = dup;
	m.jitter = 2 * MS; /* More than a datagram's time: heavy reordering. */
	m.fr.max_files = 3;
	c.max_payload = payload;
	make_list(&l, sizes, n, data, "lossy");
	s = sl_sender_create(&c, &l, m.now);
	assert_non_null(s);
	sim_run(&m, s, 120000 * MS);
	sl_sender_get_stats(s, &st);
	assert_int_equal(sl_sender_phase(s), SL_SENDER_DONE);
	check_delivered(&m, &l, data);
	/* New bytes counted once each; what the tap saw again is what the sender calls resent. */
	assert_int_equal(st.new_bytes, m.tap_new);
	assert_int_equal(st.retransmitted_bytes, m.tap_resent);
	assert_true(st.retransmitted_bytes > 0);
	sl_sender_free(s);
	for (unsigned i = 0; i < n; i++)
		free(data[i]);
	sl_sender_list_free(&l);
	sim_free(&m);
}

static void
test_sim_lossy(void **state)
{
	run_lossy(5, 0, 1, 1472);
	run_lossy(15, 3, 2, 1200);
	run_lossy(30, 0, 3, 1472);
}

/* A chunk that fails its digest at the receiver is discarded and sent again whole. */
static void
test_sim_bad_chunk(void **state)
{
	static const size_t sizes[] = { 3 * 65536 };
	struct sl_sender_config c = sim_config();
	struct sl_sender_list l;
	uint8_t *data[1];
	struct sl_sender *s;
	struct sim m;

	sim_init(&m);
	m.fr.corrupt_once = true;
	make_list(&l, sizes, 1, data, "badchunk");
	s = sl_sender_create(&c, &l, m.now);
	sim_run(&m, s, 20000 * MS);
	assert_int_equal(m.fr.discarded_chunks, 1);
	check_delivered(&m, &l, data);
	assert_int_equal(l.files[0].retransmitted_bytes, 65536);
	sl_sender_free(s);
	free(data[0]);
	sl_sender_list_free(&l);
	sim_free(&m);
}

/* Resume: chunks READY lists as durable are never sent. */
static void
test_sim_resume(void **state)
{
	static const size_t sizes[] = { 5 * 65536 + 100 };
	struct sl_sender_config c = sim_config();
	struct sl_sender_list l;
	uint8_t *data[1];
	struct sl_sender *s;
	struct sim m;

	sim_init(&m);
	make_list(&l, sizes, 1, data, "resume");
	m.fr.resume_chunks = 3;
	m.fr.resume_data[1] = data[0];
	s = sl_sender_create(&c, &l, m.now);
	sim_run(&m, s, 20000 * MS);
	check_delivered(&m, &l, data);
	assert_int_equal(l.files[0].sent_bytes, 2 * 65536 + 100);
	for (size_t i = 0; i < 3 * 65536; i++)
		assert_int_equal(m.tf[1].sent[i], 0);
	sl_sender_free(s);
	free(data[0]);
	sl_sender_list_free(&l);
	sim_free(&m);
}

/* Many small files with a window of 8: manifests go ahead; few round trips per file. */
static void
test_sim_many(void **state)
{
	enum {
		N = 300
	};
	size_t sizes[N];
	uint8_t *data[N];
	struct sl_sender_config c = sim_config();
	struct sl_sender_list l;
	struct sl_sender *s;
	struct sim m;
	uint64_t t0;

	for (unsigned i = 0; i < N; i++)
		sizes[i] = 100 + i * 37;
	sim_init(&m);
	m.fr.max_files = 8;
	m.delay = 5 * MS; /* RTT 10 ms. */
	make_list(&l, sizes, N, data, "many");
	s = sl_sender_create(&c, &l, m.now);
	t0 = m.now;
	sim_run(&m, s, 60000 * MS);
	check_delivered(&m, &l, data);
	/* One file per RTT would take 3 s; a window of 8 takes well under half that. */
	assert_true(m.now - t0 < 1500 * MS);
	sl_sender_free(s);
	for (unsigned i = 0; i < N; i++)
		free(data[i]);
	sl_sender_list_free(&l);
	sim_free(&m);
}

/* Many chunks at a small payload: digests that do not fit the MANIFEST go in DIGESTS. */
static void
test_sim_digests(void **state)
{
	static const size_t sizes[] = { 400 * 65536 + 3 };
	struct sl_sender_config c = sim_config();
	struct sl_sender_list l;
	uint8_t *data[1];
	struct sl_sender *s;
	struct sim m;

	sim_init(&m);
	m.fr.max_payload = 1200;
	m.fr.window = 2 << 20;
	m.fr.credit = m.fr.window;
	m.loss_to_recv = 2;
	make_list(&l, sizes, 1, data, "digests");
	s = sl_sender_create(&c, &l, m.now);
	sim_run(&m, s, 60000 * MS);
	check_delivered(&m, &l, data);
	sl_sender_free(s);
	free(data[0]);
	sl_sender_list_free(&l);
	sim_free(&m);
}

static void
test_sim_no_session(void **state)
{
	static const size_t sizes[] = { 10, 20 };
	struct sl_sender_config c = sim_config();
	struct sl_sender_list l;
	struct sl_sender_stats st;
	uint8_t *data[2];
	struct sl_sender *s;
	struct sim m;
	uint64_t t0;

	/* Nobody answers: HELLO resent with backoff, then every file times out. */
	sim_init(&m);
	m.fr.silent = true;
	c.timeout_ns = 3000 * MS;
	make_list(&l, sizes, 2, data, "nosession");
	s = sl_sender_create(&c, &l, m.now);
	t0 = m.now;
	sim_run(&m, s, 60000 * MS);
	assert_int_equal(sl_sender_phase(s), SL_SENDER_NO_SESSION);
	assert_true(m.now - t0 >= 3000 * MS && m.now - t0 < 3100 * MS);
	sl_sender_get_stats(s, &st);
	/* 0, 0.25, 0.75, 1.75, 2.75 s: backoff doubling to a 2 s ceiling... within 3 s. */
	assert_true(st.datagrams_sent >= 4 && st.datagrams_sent <= 6);
	assert_int_equal(l.files[0].status, SL_SENDER_TIMEOUT);
	assert_int_equal(l.files[1].status, SL_SENDER_TIMEOUT);
	sl_sender_free(s);
	sim_free(&m);

	/* REJECT: no session, files "rejected", the reason kept. */
	sim_init(&m);
	m.fr.reject = true;
	l.files[0].status = l.files[1].status = SL_SENDER_PENDING;
	s = sl_sender_create(&c, &l, m.now);
	sim_run(&m, s, 60000 * MS);
	assert_int_equal(sl_sender_phase(s), SL_SENDER_NO_SESSION);
	sl_sender_get_stats(s, &st);
	assert_int_equal(st.reject_reason, SL_PROTO_REJECT_NOT_ALLOWED);
	assert_int_equal(l.files[0].status, SL_SENDER_REJECTED);
	sl_sender_free(s);
	sim_free(&m);
	for (unsigned i = 0; i < 2; i++)
		free(data[i]);
	sl_sender_list_free(&l);
}

static void
test_sim_psk(void **state)
{
	static const size_t sizes[] = { 5000 };
	struct sl_sender_config c = sim_config();
	struct sl_auth_key key = { .id = "alice", .id_len = 5, .key_len = 32 };
	struct sl_auth_key wrong = key;
	struct sl_sender_list l;
	uint8_t *data[1];
	struct sl_sender *s;
	struct sim m;

	memset(key.key, 0x5a, 32);
	memset(wrong.key, 0x33, 32);
	sim_init(&m);
	m.fr.key = &key;
	c.key = &key;
	make_list(&l, sizes, 1, data, "psk");
	s = sl_sender_create(&c, &l, m.now);
	sim_run(&m, s, 20000 * MS);
	check_delivered(&m, &l, data);
	sl_sender_free(s);
	sim_free(&m);

	/* A WELCOME whose proof does not check out is ignored: no session. */
	sim_init(&m);
	m.fr.key = &wrong;
	c.timeout_ns = 2000 * MS;
	l.files[0].status = SL_SENDER_PENDING;
	s = sl_sender_create(&c, &l, m.now);
	/* The fake receiver asserts the CONNECT proof: give it the sender's key for that. */
	m.fr.key = &key;
	{
		/* Swap in a receiver whose WELCOME proof is made with another key. */
		struct sl_sender_dgram dg[64];
		uint64_t wake;
		unsigned n;
		struct sl_proto_msg r = { .type = SL_PROTO_COOKIE };
		uint8_t buf[1500];
		struct sl_proto_msg hello, conn;
		int len;

		n = sl_sender_output(s, m.now, dg, 64, &wake);
		assert_int_equal(n, 1);
		assert_int_equal(sl_proto_decode(dg[0].buf, dg[0].len, &hello), 0);
		assert_int_equal(hello.hello.hello_flags, SL_PROTO_HELLO_PSK);
		memcpy(r.cookie.client_nonce, hello.hello.client_nonce, 8);
		r.cookie.issued = 7;
		len = sl_proto_encode(&r, buf, sizeof(buf));
		sl_sender_input(s, buf, (size_t)len, m.now);
		n = sl_sender_output(s, m.now, dg, 64, &wake);
		assert_int_equal(n, 1);
		assert_int_equal(sl_proto_decode(dg[0].buf, dg[0].len, &conn), 0);
		assert_int_equal(conn.type, SL_PROTO_CONNECT);
		memset(&r, 0, sizeof(r));
		r.type = SL_PROTO_WELCOME;
		r.session = SESSION;
		memcpy(r.welcome.client_nonce, conn.connect.client_nonce, 8);
		r.welcome.max_payload = 1472;
		r.welcome.max_chunk = 65536;
		r.welcome.credit = 65536;
		r.welcome.max_files = 1;
		r.welcome.has_auth = true;
		sl_auth_welcome_proof(&wrong, SESSION, conn.connect.client_nonce, r.welcome.auth);
		len = sl_proto_encode(&r, buf, sizeof(buf));
		sl_sender_input(s, buf, (size_t)len, m.now);
		assert_int_equal(sl_sender_phase(s), SL_SENDER_HANDSHAKE);
		/* Without any proof: ignored too. */
		r.welcome.has_auth = false;
		len = sl_proto_encode(&r, buf, sizeof(buf));
		sl_sender_input(s, buf, (size_t)len, m.now);
		assert_int_equal(sl_sender_phase(s), SL_SENDER_HANDSHAKE);
		/* The right one opens the session. */
		r.welcome.has_auth = true;
		sl_auth_welcome_proof(&key, SESSION, conn.connect.client_nonce, r.welcome.auth);
		len = sl_proto_encode(&r, buf, sizeof(buf));
		sl_sender_input(s, buf, (size_t)len, m.now);
		assert_int_equal(sl_sender_phase(s), SL_SENDER_RUNNING);
	}
	sl_sender_free(s);
	sim_free(&m);
	free(data[0]);
	sl_sender_list_free(&l);
}

/* ---- Direct tests: hand-made receiver messages, exact expectations. */

static unsigned
pull(struct sl_sender *s, uint64_t now, struct sl_sender_dgram *dg)
{
	uint64_t wake;

	return sl_sender_output(s, now, dg, 64, &wake);
}

static void
inject(struct sl_sender *s, const struct sl_proto_msg *m, uint64_t now)
{
	uint8_t buf[1500];
	int len = sl_proto_encode(m, buf, sizeof(buf));

	assert_true(len > 0);
	sl_sender_input(s, buf, (size_t)len, now);
}

/* Handshake by hand, then READY for file 1. Returns the sender, its MANIFEST seen. */
static struct sl_sender *
direct_open(struct sl_sender_list *l, uint64_t now, uint64_t credit)
{
	struct sl_sender_config c = sim_config();
	struct sl_sender_dgram dg[64];
	struct sl_proto_msg m, r;
	struct sl_sender *s = sl_sender_create(&c, l, now);
	unsigned n;

	assert_non_null(s);
	assert_int_equal(pull(s, now, dg), 1);
	assert_int_equal(sl_proto_decode(dg[0].buf, dg[0].len, &m), 0);
	assert_int_equal(m.type, SL_PROTO_HELLO);
	assert_true(dg[0].len >= SL_PROTO_PADDED_MIN);
	memset(&r, 0, sizeof(r));
	r.type = SL_PROTO_COOKIE;
	memcpy(r.cookie.client_nonce, m.hello.client_nonce, 8);
	inject(s, &r, now);
	assert_int_equal(pull(s, now, dg), 1);
	assert_int_equal(sl_proto_decode(dg[0].buf, dg[0].len, &m), 0);
	assert_int_equal(m.type, SL_PROTO_CONNECT);
	memset(&r, 0, sizeof(r));
	r.type = SL_PROTO_WELCOME;
	r.session = SESSION;
	memcpy(r.welcome.client_nonce, m.connect.client_nonce, 8);
	r.welcome.max_payload = 1472;
	r.welcome.max_chunk = 65536;
	r.welcome.credit = credit;
	r.welcome.max_files = 4;
	inject(s, &r, now);
	assert_int_equal(sl_sender_phase(s), SL_SENDER_RUNNING);
	n = pull(s, now, dg);
	assert_true(n >= 1);
	assert_int_equal(sl_proto_decode(dg[0].buf, dg[0].len, &m), 0);
	assert_int_equal(m.type, SL_PROTO_MANIFEST);
	assert_int_equal(m.manifest.file_id, 1);
	assert_int_equal(m.manifest.chunk_size, 65536);
	memset(&r, 0, sizeof(r));
	r.type = SL_PROTO_FILE_STATUS;
	r.session = SESSION;
	r.file_status.file_id = 1;
	r.file_status.status = SL_PROTO_STATUS_READY;
	r.file_status.digests_needed = sl_proto_chunk_count(l->files[0].size, 65536);
	inject(s, &r, now);
	return s;
}

struct seen_data {
	uint64_t off[4096];
	uint32_t len[4096];
	bool ack_now[4096];
	unsigned n;
};

/* Collect the DATA of @p n datagrams, checking payloads against @p file. */
static void
collect(struct seen_data *sd, const struct sl_sender_dgram *dg, unsigned n, const uint8_t *file)
{
	for (unsigned i = 0; i < n; i++) {
		struct sl_proto_msg m;

		assert_int_equal(sl_proto_decode(dg[i].buf, dg[i].len, &m), 0);
		if (m.type != SL_PROTO_DATA)
			continue;
		assert_true(dg[i].len <= 1472);
		assert_true(sl_proto_data_in_chunk(m.data.offset, m.data.len, 65536, 1u << 30));
		assert_memory_equal(m.data.payload, file + m.data.offset, m.data.len);
		assert_true(sd->n < 4096);
		sd->off[sd->n] = m.data.offset;
		sd->len[sd->n] = m.data.len;
		sd->ack_now[sd->n] = (m.flags & SL_PROTO_FLAG_ACK_NOW) != 0;
		sd->n++;
	}
}

/* Send everything new (advancing time 1 ms per call); returns the time of the last DATA. */
static uint64_t
drain_new(struct sl_sender *s, uint64_t *now, struct seen_data *sd, const uint8_t *file)
{
	struct sl_sender_dgram dg[64];
	uint64_t last = *now;
	unsigned idle = 0;

	while (idle < 3) {
		unsigned before = sd->n;

		collect(sd, dg, pull(s, *now, dg), file);
		if (sd->n > before) {
			last = *now;
			idle = 0;
		} else {
			idle++;
		}
		*now += MS;
	}
	return last;
}

static void
ack_with(struct sl_sender *s, uint64_t now, uint64_t credit, uint32_t received_upto,
	 const struct sl_proto_missing *miss, uint16_t nmiss)
{
	struct sl_proto_ack_entry e = { .file_id = 1,
					.received_upto = received_upto,
					.durable_upto = received_upto,
					.nmissing = nmiss,
					.missing = miss };
	struct sl_proto_msg m = { .type = SL_PROTO_ACK, .session = SESSION };

	m.ack.credit_limit = credit;
	m.ack.count = 1;
	m.ack.entries = &e;
	inject(s, &m, now);
}

static void
test_schedule_and_credit(void **state)
{
	static const size_t sizes[] = { 4 * 65536 };
	struct sl_sender_list l;
	struct seen_data *sd = calloc(1, sizeof(*sd));
	struct sl_sender_stats st;
	uint8_t *data[1];
	uint64_t now = 5000 * MS, expect = 0;
	struct sl_sender *s;

	assert_non_null(sd);
	make_list(&l, sizes, 1, data, "sched");
	s = direct_open(&l, now, 10000);
	/* Credit 10000: 6 full datagrams and a short one, the last asking for an ACK. */
	drain_new(s, &now, sd, data[0]);
	assert_int_equal(sd->n, 7);
	for (unsigned i = 0; i < 7; i++) {
		assert_int_equal(sd->off[i], expect);
		expect += sd->len[i];
	}
	assert_int_equal(sd->len[6], 10000 - 6 * 1440);
	assert_true(sd->ack_now[6]);
	/* A lower (reordered) credit changes nothing; a higher one lets exactly that much out. */
	ack_with(s, now, 5000, 0, NULL, 0);
	drain_new(s, &now, sd, data[0]);
	assert_int_equal(sd->n, 7);
	ack_with(s, now, 200000, 0, NULL, 0);
	drain_new(s, &now, sd, data[0]);
	for (unsigned i = 7; i < sd->n; i++) {
		/* Ascending, contiguous, never crossing a chunk (checked in collect). */
		assert_int_equal(sd->off[i], expect);
		expect += sd->len[i];
	}
	assert_int_equal(expect, 200000);
	/* The datagram that reaches a chunk's end is cut there. */
	for (unsigned i = 0; i < sd->n; i++)
		if (sd->off[i] == 45 * 1440)
			assert_int_equal(sd->len[i], 65536 - 45 * 1440);
	ack_with(s, now, 1u << 30, 0, NULL, 0);
	drain_new(s, &now, sd, data[0]);
	assert_int_equal(sd->off[sd->n - 1] + sd->len[sd->n - 1], 4 * 65536);
	assert_true(sd->ack_now[sd->n - 1]);
	sl_sender_get_stats(s, &st);
	assert_int_equal(st.new_bytes, 4 * 65536);
	assert_int_equal(st.retransmitted_bytes, 0);
	sl_sender_free(s);
	free(sd);
	free(data[0]);
	sl_sender_list_free(&l);
}

static void
test_retransmit_ranges(void **state)
{
	static const size_t sizes[] = { 4 * 65536 };
	static const struct sl_proto_missing miss[] = {
		{ 3 * 1440, 1440 },        /* One lost datagram. */
		{ 65536 + 100, 2000 },     /* Unaligned: two datagrams. */
		{ 2 * 65536 - 500, 1000 }, /* Across a chunk boundary: split there. */
	};
	static const uint64_t want_off[] = { 4320, 65636, 67076, 130572, 131072 };
	static const uint32_t want_len[] = { 1440, 1440, 560, 500, 500 };
	struct sl_sender_list l;
	struct seen_data *sd = calloc(1, sizeof(*sd));
	struct sl_sender_dgram dg[64];
	struct sl_sender_stats st;
	uint8_t *data[1];
	uint64_t now = 5000 * MS, t_ack;
	struct sl_sender *s;

	assert_non_null(sd);
	make_list(&l, sizes, 1, data, "retx");
	s = direct_open(&l, now, 1u << 30);
	drain_new(s, &now, sd, data[0]);
	assert_int_equal(sd->off[sd->n - 1] + sd->len[sd->n - 1], 4 * 65536);

	t_ack = now;
	ack_with(s, t_ack, 1u << 30, 0, miss, 3);
	sd->n = 0;
	collect(sd, dg, pull(s, t_ack, dg), data[0]);
	assert_int_equal(sd->n, 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(sd->off[i], want_off[i]);
		assert_int_equal(sd->len[i], want_len[i]);
	}
	sl_sender_get_stats(s, &st);
	assert_int_equal(st.retransmitted_bytes, 1440 + 2000 + 1000);
	assert_int_equal(st.new_bytes, 4 * 65536);
	assert_true(st.srtt_ns < 20 * MS);

	/* The same ACK again within one RTT: nothing is sent again. */
	ack_with(s, t_ack + MS / 2, 1u << 30, 0, miss, 3);
	sd->n = 0;
	collect(sd, dg, pull(s, t_ack + MS / 2, dg), data[0]);
	assert_int_equal(sd->n, 0);

	/* After an RTT (but before the tail rule), an ACK listing one of them gets it again. */
	ack_with(s, t_ack + 25 * MS, 1u << 30, 0, miss + 1, 1);
	sd->n = 0;
	collect(sd, dg, pull(s, t_ack + 25 * MS, dg), data[0]);
	assert_int_equal(sd->n, 2);
	assert_int_equal(sd->off[0], 65636);
	assert_int_equal(sd->off[1], 67076);
	/* Ranges past what was ever sent, or junk entries, send nothing. */
	{
		struct sl_proto_missing junk = { 1ull << 40, 5000 };

		ack_with(s, t_ack + 60 * MS, 1u << 30, 4, &junk, 1);
		sd->n = 0;
		collect(sd, dg, pull(s, t_ack + 60 * MS, dg), data[0]);
		assert_int_equal(sd->n, 0);
	}
	sl_sender_free(s);
	free(sd);
	free(data[0]);
	sl_sender_list_free(&l);
}

static void
test_tail(void **state)
{
	static const size_t sizes[] = { 4 * 65536 };
	struct sl_sender_list l;
	struct seen_data *sd = calloc(1, sizeof(*sd));
	struct sl_sender_dgram dg[64];
	uint8_t *data[1];
	uint64_t now = 5000 * MS, t_end, pos;
	struct sl_sender *s;

	assert_non_null(sd);
	make_list(&l, sizes, 1, data, "tail");
	s = direct_open(&l, now, 1u << 30);
	t_end = drain_new(s, &now, sd, data[0]);

	/* No ACK at all: nothing before two RTTs (at least 50 ms)... */
	sd->n = 0;
	collect(sd, dg, pull(s, t_end + 49 * MS, dg), data[0]);
	assert_int_equal(sd->n, 0);
	/* ...then the last 16 datagrams' worth, "ack now" on the last one only. */
	collect(sd, dg, pull(s, t_end + 50 * MS, dg), data[0]);
	assert_int_equal(sd->n, 16);
	pos = 4 * 65536 - 16 * 1440;
	for (unsigned i = 0; i < sd->n; i++) {
		assert_int_equal(sd->off[i], pos);
		pos += sd->len[i];
		assert_int_equal(sd->ack_now[i], i == sd->n - 1);
	}
	assert_int_equal(pos, 4 * 65536);
	/* Not again right away; then again after a doubled wait, while nothing moves. */
	sd->n = 0;
	collect(sd, dg, pull(s, t_end + 60 * MS, dg), data[0]);
	collect(sd, dg, pull(s, t_end + 149 * MS, dg), data[0]);
	assert_int_equal(sd->n, 0);
	collect(sd, dg, pull(s, t_end + 151 * MS, dg), data[0]);
	assert_int_equal(sd->n, 16);
	/* An ACK showing everything received: no tail any more; the file waits for OK. */
	ack_with(s, t_end + 152 * MS, 1u << 30, 4, NULL, 0);
	sd->n = 0;
	collect(sd, dg, pull(s, t_end + 400 * MS, dg), data[0]);
	assert_int_equal(sd->n, 0);
	sl_sender_free(s);
	free(sd);
	free(data[0]);
	sl_sender_list_free(&l);
}

/* MANIFEST is sent again after 1 s without FILE_STATUS, then after 2 s, 4 s. */
static void
test_manifest_retry(void **state)
{
	static const size_t sizes[] = { 100 };
	struct sl_sender_config c = sim_config();
	struct sl_sender_list l;
	struct sl_sender_dgram dg[64];
	struct sl_proto_msg m, r;
	uint8_t *data[1];
	uint64_t t0 = 5000 * MS;
	struct sl_sender *s;
	unsigned manifests = 0;

	make_list(&l, sizes, 1, data, "mretry");
	c.timeout_ns = 60000 * MS;
	s = sl_sender_create(&c, &l, t0);
	assert_int_equal(pull(s, t0, dg), 1);
	assert_int_equal(sl_proto_decode(dg[0].buf, dg[0].len, &m), 0);
	memset(&r, 0, sizeof(r));
	r.type = SL_PROTO_COOKIE;
	memcpy(r.cookie.client_nonce, m.hello.client_nonce, 8);
	inject(s, &r, t0);
	assert_int_equal(pull(s, t0, dg), 1);
	assert_int_equal(sl_proto_decode(dg[0].buf, dg[0].len, &m), 0);
	memset(&r, 0, sizeof(r));
	r.type = SL_PROTO_WELCOME;
	r.session = SESSION;
	memcpy(r.welcome.client_nonce, m.connect.client_nonce, 8);
	r.welcome.max_payload = 1472;
	r.welcome.max_chunk = 65536;
	r.welcome.credit = 1 << 20;
	r.welcome.max_files = 4;
	inject(s, &r, t0);
	for (uint64_t t = t0; t <= t0 + 7500 * MS; t += 10 * MS) {
		unsigned n = pull(s, t, dg);

		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(sl_proto_decode(dg[i].buf, dg[i].len, &m), 0);
			if (m.type == SL_PROTO_MANIFEST) {
				static const uint64_t at[] = { 0, 1000, 3000, 7000 };

				assert_true(manifests < 4);
				assert_int_equal((t - t0) / MS, at[manifests]);
				manifests++;
			}
		}
	}
	assert_int_equal(manifests, 4);
	/* A final status ends the file; the session closes with BYE. */
	memset(&r, 0, sizeof(r));
	r.type = SL_PROTO_FILE_STATUS;
	r.session = SESSION;
	r.file_status.file_id = 1;
	r.file_status.status = SL_PROTO_STATUS_EXISTS;
	inject(s, &r, t0 + 8000 * MS);
	assert_int_equal(l.files[0].status, SL_SENDER_EXISTS);
	assert_int_equal(pull(s, t0 + 8000 * MS, dg), 1);
	assert_int_equal(sl_proto_decode(dg[0].buf, dg[0].len, &m), 0);
	assert_int_equal(m.type, SL_PROTO_BYE);
	sl_sender_free(s);
	free(data[0]);
	sl_sender_list_free(&l);
}

/* Garbage, mutations of valid messages and other sessions' traffic change nothing. */
static void
test_garbage(void **state)
{
	static const size_t sizes[] = { 3 * 65536 };
	struct sl_sender_list l;
	struct sl_sender_dgram dg[64];
	struct sl_sender_stats st;
	struct sl_proto_msg m = { .type = SL_PROTO_ACK, .session = SESSION + 1 };
	uint8_t *data[1], buf[1500];
	uint64_t now = 5000 * MS;
	struct sl_sender *s;
	int len;

	make_list(&l, sizes, 1, data, "garbage");
	s = direct_open(&l, now, 1u << 30);
	rng_state = 7;
	for (int i = 0; i < 20000; i++) {
		size_t n = rng() % sizeof(buf);

		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)rng();
		if (i % 2 == 0 && n >= 20) {
			/* A valid header over random bytes. */
			buf[0] = 0x53, buf[1] = 0x4c, buf[2] = 1;
			buf[3] = (uint8_t)(1 + rng() % 11);
		}
		sl_sender_input(s, buf, n, now);
	}
	/* A valid ACK of another session must not move anything. */
	m.ack.credit_limit = 1;
	len = sl_proto_encode(&m, buf, sizeof(buf));
	sl_sender_input(s, buf, (size_t)len, now);
	/* A late duplicate COOKIE and WELCOME are ignored. */
	memset(&m, 0, sizeof(m));
	m.type = SL_PROTO_COOKIE;
	len = sl_proto_encode(&m, buf, sizeof(buf));
	sl_sender_input(s, buf, (size_t)len, now);
	sl_sender_get_stats(s, &st);
	assert_int_equal(st.dropped, st.datagrams_received - 3 /* COOKIE, WELCOME, READY */);
	assert_int_equal(sl_sender_phase(s), SL_SENDER_RUNNING);
	/* It still sends its data. */
	assert_true(pull(s, now, dg) > 0);
	sl_sender_free(s);
	free(data[0]);
	sl_sender_list_free(&l);
}

/* Unreadable files fail locally; the rest still goes. */
static void
test_sim_unreadable(void **state)
{
	static const size_t sizes[] = { 1000, 2000 };
	struct sl_sender_config c = sim_config();
	struct sl_sender_list l;
	uint8_t *data[2];
	struct sl_sender *s;
	struct sim m;

	sim_init(&m);
	make_list(&l, sizes, 2, data, "unread");
	if (geteuid() == 0) {
		/* root reads anything: make the file vanish instead. */
		assert_int_equal(unlink(l.files[0].source), 0);
	} else {
		assert_int_equal(chmod(l.files[0].source, 0), 0);
	}
	s = sl_sender_create(&c, &l, m.now);
	sim_run(&m, s, 20000 * MS);
	assert_int_equal(l.files[0].status, SL_SENDER_UNREADABLE);
	assert_int_equal(l.files[1].status, SL_SENDER_OK);
	assert_memory_equal(m.fr.f[2].data, data[1], 2000);
	sl_sender_free(s);
	for (unsigned i = 0; i < 2; i++)
		free(data[i]);
	sl_sender_list_free(&l);
	sim_free(&m);
}

/* The real socket loop (sendmmsg, UDP GSO or its fallback) against the fake receiver over loopback.
 */
static void
test_loopback_udp(void **state)
{
	static const size_t sizes[] = { 3 * 65536 + 11, 0, 777, 1000000 };
	const unsigned n = sizeof(sizes) / sizeof(sizes[0]);
	struct sl_sender_config c = sim_config();
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct sl_sender_opts o = { .host = "127.0.0.1" };
	struct sl_sender_stats st;
	struct sl_sender_list l;
	uint8_t *data[4];
	char err[256];
	int fd, status;
	pid_t pid;

	make_list(&l, sizes, n, data, "loop");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	o.port = ntohs(a.sin_port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The receiver: answer until BYE, at most 20 s; exit 0 if every file is whole. */
		static struct frecv fr;
		struct timeval tv = { 0, 5000 };
		uint64_t t = 0;
		int ok = 1;

		fr_init(&fr);
		fr.max_files = 2;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while (t < 4000 && fr.byes == 0) {
			uint8_t buf[2048];
			struct sockaddr_in from;
			socklen_t flen = sizeof(from);
			ssize_t r =
				recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (r > 0)
				fr_input(&fr, buf, (size_t)r,
					 (uint64_t)ts.tv_sec * 1000000000ull +
						 (uint64_t)ts.tv_nsec);
			else
				t++;
			if (r <= 0 && fr.data_since_ack > 0)
				fr_ack(&fr, 0);
			for (unsigned i = 0; i < fr.nout; i++)
				sendto(fd, fr.outq[i], fr.outlen[i], 0, (struct sockaddr *)&from,
				       flen);
			fr.nout = 0;
		}
		for (unsigned i = 1; i <= n; i++)
			ok &= fr.f[i].final && fr.f[i].status == SL_PROTO_STATUS_OK;
		_exit(ok && fr.bad_data == 0 ? 0 : 1);
	}
	close(fd);
	c.max_payload = 0; /* By address family: 1472. */
	assert_int_equal(sl_sender_run(&o, &c, &l, NULL, NULL, &st, err, sizeof(err)), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(l.files[i].status, SL_SENDER_OK);
	assert_int_equal(st.max_payload, 1472);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Nobody there: no session, -ETIMEDOUT, quickly with --timeout. */
	for (unsigned i = 0; i < n; i++)
		l.files[i].status = SL_SENDER_PENDING;
	c.timeout_ns = 300 * MS;
	assert_int_equal(sl_sender_run(&o, &c, &l, NULL, NULL, &st, err, sizeof(err)), -ETIMEDOUT);
	assert_int_equal(l.files[0].status, SL_SENDER_TIMEOUT);
	for (unsigned i = 0; i < n; i++)
		free(data[i]);
	sl_sender_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_rate_overflow),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_schedule_and_credit),
		cmocka_unit_test(test_retransmit_ranges),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_manifest_retry),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_sim_clean),
		cmocka_unit_test(test_sim_lossy),
		cmocka_unit_test(test_sim_bad_chunk),
		cmocka_unit_test(test_sim_resume),
		cmocka_unit_test(test_sim_many),
		cmocka_unit_test(test_sim_digests),
		cmocka_unit_test(test_sim_no_session),
		cmocka_unit_test(test_sim_psk),
		cmocka_unit_test(test_sim_unreadable),
		cmocka_unit_test(test_loopback_udp),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
