/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sender: the state machine of sluice-send fed what a receiver (or
 * anyone who can spoof one) sends it: sl_sender_input() of any datagrams,
 * with sl_sender_output() and the clock in between, for a transfer of three
 * scratch files (140000, 0 and 5000 bytes: 3, 0 and 1 chunks of 64 KiB).
 *
 * The input is a sequence of records: an op byte, a 16-bit length and that
 * many bytes of a datagram. Op bit 0 feeds the bytes as they are; otherwise
 * they are made into what a receiver would send: magic and version, the
 * client nonce of the sender's last HELLO or CONNECT echoed in a COOKIE,
 * WELCOME or REJECT, the session of its last message in the others, the
 * WELCOME's key proof when the transfer has a key (op bit 1 on the first
 * record), then the length and CRC32C. Bits 2..7 move the clock (0 to
 * 63 x 16 ms) before the output is taken.
 *
 * Invariants: every datagram the sender emits decodes, fits the payload size
 * it may use, and carries a session once one is open; a MANIFEST names one of
 * the files with its size; a DATA stays inside one chunk and inside its file,
 * and carries the file's own bytes at its offset; the new bytes sent never
 * exceed the receiver's credit; the counters stay consistent.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "sl_auth.h"
#include "sl_proto.h"
#include "sl_sender.h"

#define NB_FILES 3
#define OUT_MAX 64
#define MS 1000000ull

static const uint64_t sizes[NB_FILES] = { 140000, 0, 5000 };
static char dir[PATH_MAX], paths[NB_FILES][PATH_MAX + 16];
static char *sources[NB_FILES];
static struct sl_auth_key key;

/* Byte @p off of file @p i: what every DATA of it must carry. */
static uint8_t
content(unsigned i, uint64_t off)
{
	return (uint8_t)(off * 7 + off / 251 + i * 13);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static uint8_t buf[140000];

	fuzz_scratch_dir("sender", dir);
	for (unsigned i = 0; i < NB_FILES; i++) {
		int fd;

		snprintf(paths[i], sizeof(paths[i]), "%s/file%u.bin", dir, i);
		for (uint64_t o = 0; o < sizes[i]; o++)
			buf[o] = content(i, o);
		fd = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, buf, sizes[i]) != (ssize_t)sizes[i])
			abort();
		close(fd);
		sources[i] = paths[i];
	}
	strcpy(key.id, "alice");
	key.id_len = 5;
	memset(key.key, 0x61, 16);
	key.key_len = 16;
	return 0;
}

struct state {
	struct sl_sender *s;
	struct sl_sender_list *list;
	uint8_t nonce[SL_PROTO_NONCE_SIZE];
	uint64_t session;
	bool keyed;
	unsigned id_of[NB_FILES + 1]; /* file_id -> index in sources, from the MANIFESTs */
};

static unsigned
file_index(const struct sl_sender_list *l, const char *name, size_t len)
{
	for (unsigned i = 0; i < l->count; i++)
		if (strlen(l->files[i].name) == len && memcmp(l->files[i].name, name, len) == 0)
			return i;
	return UINT32_MAX;
}

static void
check_output(struct state *st, const struct sl_sender_dgram *d, unsigned n)
{
	struct sl_sender_stats stats;
	struct sl_proto_msg m;

	sl_sender_get_stats(st->s, &stats);
	for (unsigned k = 0; k < n; k++) {
		FUZZ_ASSERT(d[k].len >= SL_PROTO_HEADER_SIZE);
		FUZZ_ASSERT(sl_proto_decode(d[k].buf, d[k].len, &m) == 0);
		FUZZ_ASSERT(d[k].len <= 1472 &&
			    (stats.max_payload == 0 || d[k].len <= stats.max_payload));
		switch (m.type) {
		case SL_PROTO_HELLO:
			memcpy(st->nonce, m.hello.client_nonce, sizeof(st->nonce));
			FUZZ_ASSERT(m.hello.max_payload == 1472);
			break;
		case SL_PROTO_CONNECT:
			memcpy(st->nonce, m.connect.client_nonce, sizeof(st->nonce));
			FUZZ_ASSERT(m.connect.psk_id_len == (st->keyed ? 5 : 0));
			break;
		case SL_PROTO_MANIFEST: {
			unsigned i = file_index(st->list, m.manifest.path, m.manifest.path_len);

			FUZZ_ASSERT(i < NB_FILES && m.manifest.size == sizes[i]);
			FUZZ_ASSERT(m.manifest.file_id >= 1 && m.manifest.file_id <= NB_FILES);
			FUZZ_ASSERT(sl_proto_chunk_size_valid(m.manifest.chunk_size, UINT32_MAX));
			st->id_of[m.manifest.file_id] = i;
			st->session = m.session;
			break;
		}
		case SL_PROTO_DATA: {
			unsigned i;

			FUZZ_ASSERT(m.data.file_id >= 1 && m.data.file_id <= NB_FILES);
			i = st->id_of[m.data.file_id];
			FUZZ_ASSERT(i < NB_FILES);
			FUZZ_ASSERT(sl_proto_data_in_chunk(m.data.offset, m.data.len,
							   stats.chunk_size, sizes[i]));
			for (uint32_t b = 0; b < m.data.len; b++)
				FUZZ_ASSERT(m.data.payload[b] == content(i, m.data.offset + b));
			st->session = m.session;
			break;
		}
		case SL_PROTO_DIGESTS:
		case SL_PROTO_BYE:
			st->session = m.session;
			break;
		default:
			FUZZ_ASSERT(false); /* a sender sends nothing else */
		}
		if (m.type > SL_PROTO_CONNECT)
			FUZZ_ASSERT(m.session != 0);
	}
	FUZZ_ASSERT(stats.new_bytes <= stats.credit_limit);
	FUZZ_ASSERT(stats.files_done + stats.files_failed <= stats.files_total);
	FUZZ_ASSERT(stats.files_total == NB_FILES);
}

/* Makes @p p (@p len bytes) into what a receiver of this transfer would send. */
static void
fix_up(const struct state *st, uint8_t *p, size_t len)
{
	uint8_t type = p[3];
	uint64_t session = st->session;
	uint32_t crc;

	p[0] = 'S';
	p[1] = 'L';
	p[2] = SL_PROTO_VERSION;
	if (type == SL_PROTO_COOKIE || type == SL_PROTO_WELCOME) {
		if (len >= SL_PROTO_HEADER_SIZE + SL_PROTO_NONCE_SIZE)
			memcpy(p + SL_PROTO_HEADER_SIZE, st->nonce, SL_PROTO_NONCE_SIZE);
	} else if (type == SL_PROTO_REJECT) {
		if (len >= SL_PROTO_HEADER_SIZE + 1 + SL_PROTO_NONCE_SIZE)
			memcpy(p + SL_PROTO_HEADER_SIZE + 1, st->nonce, SL_PROTO_NONCE_SIZE);
	} else if (session != 0) {
		for (int b = 0; b < 8; b++)
			p[8 + b] = (uint8_t)(session >> (56 - 8 * b));
	}
	if (type == SL_PROTO_WELCOME && st->keyed && len == SL_PROTO_HEADER_SIZE + 56) {
		uint64_t sess = 0;

		for (int b = 0; b < 8; b++)
			sess = sess << 8 | p[8 + b];
		sl_auth_welcome_proof(&key, sess, st->nonce, p + SL_PROTO_HEADER_SIZE + 24);
	}
	p[6] = (uint8_t)(len >> 8);
	p[7] = (uint8_t)len;
	memset(p + 16, 0, 4);
	crc = sl_proto_crc32c(p, len);
	for (int b = 0; b < 4; b++)
		p[16 + b] = (uint8_t)(crc >> (24 - 8 * b));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct sl_sender_config cfg = {
		.max_payload = 1472,
		.chunk_size = 64 * 1024,
		.timeout_ns = 10000 * MS,
		.ip_overhead = 28,
	};
	struct sl_sender_list list = { 0 };
	struct sl_sender_dgram out[OUT_MAX];
	struct state st = { 0 };
	uint64_t now = 1000 * MS, wake;
	unsigned n;

	if (size > 64 * 1024)
		return -1;
	st.keyed = size > 0 && (data[0] & 2);
	cfg.key = st.keyed ? &key : NULL;
	FUZZ_ASSERT(sl_sender_list_build(&list, sources, NB_FILES, NULL, NULL, NULL) == 0);
	FUZZ_ASSERT(list.count == NB_FILES);
	st.list = &list;
	for (unsigned i = 0; i <= NB_FILES; i++)
		st.id_of[i] = UINT32_MAX;
	st.s = sl_sender_create(&cfg, &list, now);
	FUZZ_ASSERT(st.s != NULL);
	n = sl_sender_output(st.s, now, out, OUT_MAX, &wake);
	check_output(&st, out, n);

	while (in.left > 0) {
		uint8_t op = fuzz_u8(&in);
		uint16_t len = fuzz_u16(&in);
		size_t got;
		const uint8_t *p = fuzz_bytes(&in, len, &got);
		uint8_t *msg = malloc(got > 0 ? got : 1);

		FUZZ_ASSERT(msg != NULL);
		memcpy(msg, p, got);
		if (!(op & 1) && got >= SL_PROTO_HEADER_SIZE)
			fix_up(&st, msg, got);
		sl_sender_input(st.s, msg, got, now);
		free(msg);
		now += (uint64_t)(op >> 2) * 16 * MS;
		n = sl_sender_output(st.s, now, out, OUT_MAX, &wake);
		check_output(&st, out, n);
	}
	/* The rest of the transfer's life: its timers run out. */
	for (int round = 0; round < 4; round++) {
		now += 5000 * MS;
		n = sl_sender_output(st.s, now, out, OUT_MAX, &wake);
		check_output(&st, out, n);
	}
	if (getenv("FUZZ_VERBOSE") != NULL) {
		struct sl_sender_stats stats;

		sl_sender_get_stats(st.s, &stats);
		fprintf(stderr,
			"phase %d: files done %u failed %u; new bytes %llu, retransmitted %llu, "
			"credit %llu, dropped %llu\n",
			(int)sl_sender_phase(st.s), stats.files_done, stats.files_failed,
			(unsigned long long)stats.new_bytes,
			(unsigned long long)stats.retransmitted_bytes,
			(unsigned long long)stats.credit_limit, (unsigned long long)stats.dropped);
	}
	sl_sender_free(st.s);
	sl_sender_list_free(&list);
	return 0;
}
