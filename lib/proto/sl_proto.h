/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_PROTO_H
#define SL_PROTO_H

/**
 * @file
 * Codec of the sluice file protocol, version 1 (docs/protocol.md): message
 * layouts, CRC32C, and the chunk arithmetic both ends share.
 *
 * This is a pure codec: no sockets, no EAL state, no allocation and no
 * cryptography (cookies and HMACs are bytes carried in fields). Every
 * function is reentrant and may be called from any lcore, the RX loop
 * included.
 *
 * Decoding is zero-copy: the variable parts of a decoded message (path,
 * digests, ranges, ACK entries, DATA payload) point into the caller's buffer,
 * which must outlive the decoded struct. Lists of integers are left in wire
 * order and read with the accessors below; decode has already checked that
 * they lie inside the message.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Size of the common header. */
#define SL_PROTO_HEADER_SIZE 20
/** The two magic bytes, "SL", as a big-endian 16-bit value. */
#define SL_PROTO_MAGIC 0x534c
/** The only version this codec speaks. */
#define SL_PROTO_VERSION 1
/** Default UDP port. */
#define SL_PROTO_PORT 7400

/** HELLO and CONNECT are zero-padded to at least this length (anti-amplification). */
#define SL_PROTO_PADDED_MIN 256
/** Bounds of the negotiated max_payload (the largest UDP payload). */
#define SL_PROTO_MAX_PAYLOAD_MIN 1200
#define SL_PROTO_MAX_PAYLOAD_MAX 9000
/** Longest file name in a MANIFEST, in bytes. */
#define SL_PROTO_PATH_MAX 4095
/** Longest PSK identity in a CONNECT, in bytes. */
#define SL_PROTO_PSK_ID_MAX 64
/** Chunk sizes are multiples of this, from SL_PROTO_CHUNK_MIN to the receiver's max_chunk. */
#define SL_PROTO_CHUNK_ALIGN 4096
#define SL_PROTO_CHUNK_MIN (64 * 1024)

#define SL_PROTO_NONCE_SIZE 8
#define SL_PROTO_COOKIE_SIZE 16
#define SL_PROTO_AUTH_SIZE 32
#define SL_PROTO_SHA256_SIZE 32

/** Header flag of a DATA: the receiver should ACK at once. */
#define SL_PROTO_FLAG_ACK_NOW 0x0001
/** HELLO hello_flags bit: the sender will authenticate with a pre-shared key. */
#define SL_PROTO_HELLO_PSK 0x0001

/** Message types. */
enum sl_proto_type {
	SL_PROTO_HELLO = 1,
	SL_PROTO_COOKIE = 2,
	SL_PROTO_CONNECT = 3,
	SL_PROTO_WELCOME = 4,
	SL_PROTO_MANIFEST = 5,
	SL_PROTO_DIGESTS = 6,
	SL_PROTO_FILE_STATUS = 7,
	SL_PROTO_DATA = 8,
	SL_PROTO_ACK = 9,
	SL_PROTO_BYE = 10,
	SL_PROTO_REJECT = 11,
};

/** FILE_STATUS status codes. */
enum sl_proto_status {
	SL_PROTO_STATUS_READY = 0,
	SL_PROTO_STATUS_OK = 1,
	SL_PROTO_STATUS_EXISTS = 2,
	SL_PROTO_STATUS_BAD_PATH = 3,
	SL_PROTO_STATUS_NO_SPACE = 4,
	SL_PROTO_STATUS_DIGEST_MISMATCH = 5,
	SL_PROTO_STATUS_IO_ERROR = 6,
	SL_PROTO_STATUS_REFUSED = 7,
	SL_PROTO_STATUS_BAD_MANIFEST = 8,
};

/** REJECT reasons. */
enum sl_proto_reject_reason {
	SL_PROTO_REJECT_BAD_COOKIE = 1,
	SL_PROTO_REJECT_EXPIRED_COOKIE = 2,
	SL_PROTO_REJECT_AUTH_FAILED = 3,
	SL_PROTO_REJECT_NOT_ALLOWED = 4,
	SL_PROTO_REJECT_UNKNOWN_SESSION = 5,
	SL_PROTO_REJECT_BUSY = 6,
};

/** Why sl_proto_decode() refused a datagram; each is a drop counter. */
enum sl_proto_error {
	SL_PROTO_E_SHORT = -1,   /**< Shorter than the common header. */
	SL_PROTO_E_MAGIC = -2,   /**< Magic is not "SL". */
	SL_PROTO_E_VERSION = -3, /**< Version is not 1. */
	SL_PROTO_E_LENGTH = -4,  /**< Header length differs from the datagram length. */
	SL_PROTO_E_CRC = -5,     /**< CRC32C mismatch. */
	SL_PROTO_E_TYPE = -6,    /**< Unknown message type. */
	SL_PROTO_E_SESSION = -7, /**< Session nonzero in a handshake message or zero after it. */
	SL_PROTO_E_BODY = -8,    /**< Body too short, too long, or inconsistent with its counts. */
	SL_PROTO_E_PADDING = -9, /**< HELLO or CONNECT under 256 bytes or with nonzero padding. */
};
/** Number of distinct sl_proto_decode() results, 0 included: size of a counter array. */
#define SL_PROTO_ERROR_COUNT 10

/** A range of chunk indexes (FILE_STATUS). */
struct sl_proto_range {
	uint32_t first;
	uint32_t count;
};

/** A missing byte range (ACK). */
struct sl_proto_missing {
	uint64_t offset;
	uint32_t length;
};

/** One file entry of an ACK. */
struct sl_proto_ack_entry {
	uint32_t file_id;
	uint32_t received_upto;
	uint32_t durable_upto;
	uint16_t nmissing;
	/** Encode: @p nmissing ranges supplied by the caller. Decode: NULL. */
	const struct sl_proto_missing *missing;
	/** Decode: 12 x @p nmissing wire bytes; read with sl_proto_missing_get(). */
	const uint8_t *missing_wire;
};

struct sl_proto_hello {
	uint8_t client_nonce[SL_PROTO_NONCE_SIZE];
	uint16_t max_payload;
	uint16_t hello_flags;
};

struct sl_proto_cookie {
	uint8_t client_nonce[SL_PROTO_NONCE_SIZE];
	uint64_t issued;
	uint8_t cookie[SL_PROTO_COOKIE_SIZE];
};

struct sl_proto_connect {
	uint8_t client_nonce[SL_PROTO_NONCE_SIZE];
	uint64_t issued;
	uint8_t cookie[SL_PROTO_COOKIE_SIZE];
	uint16_t max_payload;
	/** 0 without a key; then @p psk_id is unused and no auth is sent. */
	uint8_t psk_id_len;
	const char *psk_id;
	/** Present on the wire only when psk_id_len > 0. */
	uint8_t auth[SL_PROTO_AUTH_SIZE];
};

struct sl_proto_welcome {
	uint8_t client_nonce[SL_PROTO_NONCE_SIZE];
	uint16_t max_payload;
	uint32_t max_chunk;
	uint64_t credit;
	uint16_t max_files;
	/** Whether @p auth is on the wire; decode infers it from the body length (24 or 56). */
	bool has_auth;
	uint8_t auth[SL_PROTO_AUTH_SIZE];
};

struct sl_proto_manifest {
	uint32_t file_id;
	uint64_t size;
	uint32_t mode;
	int64_t mtime_ns;
	uint32_t chunk_size;
	uint8_t file_sha256[SL_PROTO_SHA256_SIZE];
	/** Not NUL-terminated and not validated here: see sl_safepath_check(). */
	uint16_t path_len;
	const char *path;
	uint32_t first;
	uint16_t count;
	/** Encode: @p count CRC32C values supplied by the caller. Decode: NULL. */
	const uint32_t *digests;
	/** Decode: 4 x @p count wire bytes; read with sl_proto_u32_get(). */
	const uint8_t *digests_wire;
};

struct sl_proto_digests {
	uint32_t file_id;
	uint32_t first;
	uint16_t count;
	const uint32_t *digests;     /**< Encode input, as in sl_proto_manifest. */
	const uint8_t *digests_wire; /**< Decode output, as in sl_proto_manifest. */
};

struct sl_proto_file_status {
	uint32_t file_id;
	uint8_t status; /**< enum sl_proto_status; unknown values are passed through. */
	uint32_t digests_needed;
	uint16_t count;
	const struct sl_proto_range *ranges; /**< Encode input. */
	const uint8_t *ranges_wire;          /**< Decode output; read with sl_proto_range_get(). */
};

struct sl_proto_data {
	uint32_t file_id;
	uint64_t offset;
	uint32_t len;
	const uint8_t *payload; /**< Encode input; decode points into the datagram. */
};

struct sl_proto_ack {
	uint64_t credit_limit;
	uint16_t count;
	const struct sl_proto_ack_entry *entries; /**< Encode input. */
	/** Decode output: the raw entries; walk them with sl_proto_ack_next(). */
	const uint8_t *entries_wire;
	size_t entries_len;
};

struct sl_proto_reject {
	uint8_t reason; /**< enum sl_proto_reject_reason; unknown values are passed through. */
	uint8_t client_nonce[SL_PROTO_NONCE_SIZE];
};

/** One message; @p type selects the union member. BYE has no body. */
struct sl_proto_msg {
	uint8_t type;
	uint64_t session;
	uint16_t flags;
	union {
		struct sl_proto_hello hello;
		struct sl_proto_cookie cookie;
		struct sl_proto_connect connect;
		struct sl_proto_welcome welcome;
		struct sl_proto_manifest manifest;
		struct sl_proto_digests digests;
		struct sl_proto_file_status file_status;
		struct sl_proto_data data;
		struct sl_proto_ack ack;
		struct sl_proto_reject reject;
	};
};

/**
 * CRC32C (Castagnoli; initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF) of
 * @p n bytes, computed with rte_hash_crc. CRC32C("123456789") = 0xE3069283.
 */
uint32_t sl_proto_crc32c(const void *p, size_t n);

/**
 * Encode @p m into @p buf: header (magic, version, length, flags, session),
 * body, HELLO/CONNECT zero padding to 256 bytes, and the CRC last.
 *
 * @param cap
 *   Room in @p buf; pass the negotiated max_payload so that no message
 *   exceeds it. A message never exceeds SL_PROTO_MAX_PAYLOAD_MAX either.
 * @return the message length, -EMSGSIZE if it does not fit, or -EINVAL for
 *   an unknown type, a session that breaks the rule (0 in HELLO, COOKIE,
 *   CONNECT; nonzero in the others but REJECT), a max_payload outside
 *   [1200, 9000], a path over 4095 bytes, a psk_id over 64 bytes, or a NULL
 *   pointer for a nonzero count.
 */
int sl_proto_encode(const struct sl_proto_msg *m, uint8_t *buf, size_t cap);

/**
 * Decode and verify one untrusted datagram of @p len bytes.
 *
 * Checks, in order: length, magic, version, header length, CRC, type,
 * session, then the body, whose counts must exactly fill it (only HELLO and
 * CONNECT may carry trailing bytes, which must be zero). Never reads outside
 * [buf, buf + len). Names are not validated (see lib/safepath). On error
 * @p m is unspecified.
 *
 * @return 0, or a negative enum sl_proto_error.
 */
int sl_proto_decode(const uint8_t *buf, size_t len, struct sl_proto_msg *m);

/**
 * Short name of a sl_proto_decode() result ("ok", "short", "magic",
 * "version", "length", "crc", "type", "session", "body", "padding"),
 * usable as a counter name; "unknown" for anything else.
 */
const char *sl_proto_error_name(int err);

/** Index 0 .. SL_PROTO_ERROR_COUNT - 1 of a sl_proto_decode() result, for counter arrays. */
static inline unsigned int
sl_proto_error_index(int err)
{
	return err <= 0 && err > -SL_PROTO_ERROR_COUNT ? (unsigned int)-err : 0;
}

/** Bytes of a DATA message before its payload (header included). */
size_t sl_proto_data_header_size(void);

/**
 * Whether a DATA of @p len bytes at @p offset stays inside one chunk and
 * inside the file. An empty DATA is accepted at any offset up to
 * @p file_size. False when @p chunk_size is 0.
 */
bool sl_proto_data_in_chunk(uint64_t offset, uint32_t len, uint32_t chunk_size, uint64_t file_size);

/**
 * Number of chunks of a file: ceil(size / chunk_size), 0 for an empty file
 * or a zero chunk size. Chunk indexes are 32-bit on the wire, so the result
 * saturates at UINT32_MAX; a file that needs more cannot be sent.
 */
uint32_t sl_proto_chunk_count(uint64_t size, uint32_t chunk_size);

/** Whether @p chunk_size is a multiple of 4096 in [64 KiB, @p max_chunk]. */
bool sl_proto_chunk_size_valid(uint32_t chunk_size, uint32_t max_chunk);

/** Big-endian u32 number @p i of a decoded list (digests). */
static inline uint32_t
sl_proto_u32_get(const uint8_t *wire, uint32_t i)
{
	const uint8_t *p = wire + (size_t)i * 4;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/** Range @p i of a decoded FILE_STATUS. */
static inline struct sl_proto_range
sl_proto_range_get(const struct sl_proto_file_status *fs, uint16_t i)
{
	struct sl_proto_range r = {
		.first = sl_proto_u32_get(fs->ranges_wire, 2u * i),
		.count = sl_proto_u32_get(fs->ranges_wire, 2u * i + 1),
	};

	return r;
}

/** Missing range @p i of a decoded ACK entry. */
static inline struct sl_proto_missing
sl_proto_missing_get(const struct sl_proto_ack_entry *e, uint16_t i)
{
	const uint8_t *p = e->missing_wire + (size_t)i * 12;
	struct sl_proto_missing r = {
		.offset = (uint64_t)sl_proto_u32_get(p, 0) << 32 | sl_proto_u32_get(p, 1),
		.length = sl_proto_u32_get(p, 2),
	};

	return r;
}

/** Cursor over the entries of a decoded ACK. */
struct sl_proto_ack_iter {
	const uint8_t *pos;
	uint16_t left;
};

/** Start walking the entries of a decoded ACK. */
static inline void
sl_proto_ack_iter_init(struct sl_proto_ack_iter *it, const struct sl_proto_ack *ack)
{
	it->pos = ack->entries_wire;
	it->left = ack->count;
}

/**
 * Fill @p e with the next entry (its missing ranges point into the datagram).
 *
 * @return false when all entries have been read.
 */
bool sl_proto_ack_next(struct sl_proto_ack_iter *it, struct sl_proto_ack_entry *e);

#endif /* SL_PROTO_H */
