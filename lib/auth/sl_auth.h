/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_AUTH_H
#define SL_AUTH_H

/**
 * @file
 * Who may open a session (docs/protocol.md, HELLO/COOKIE/CONNECT/WELCOME and
 * "Pre-shared keys"): stateless address cookies, pre-shared key files and
 * proofs, and the --allow list.
 *
 * HMAC-SHA256 and SHA-256 come from OpenSSL's libcrypto: DPDK has no HMAC
 * outside rte_cryptodev, whose sessions and queue pairs are far heavier
 * than one MAC per handshake, and writing SHA-256 ourselves would be slower
 * (libcrypto uses the SHA extensions) and riskier.
 *
 * No EAL state is used, so sluice-send links this module too. A struct
 * sl_auth is built by the control thread before lcores start and is
 * read-only afterwards: any number of lcores may call the const functions at
 * once.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_net.h"
#include "sl_proto.h"

/** Most keys a key file may hold. */
#define SL_AUTH_MAX_KEYS 256
/** Key length bounds, bytes. */
#define SL_AUTH_KEY_MIN 16
#define SL_AUTH_KEY_MAX 64
/** Most --allow entries. */
#define SL_AUTH_MAX_ALLOW 64
/** Cookie lifetime, seconds. */
#define SL_AUTH_COOKIE_TTL 60

struct sl_auth_key {
	char id[SL_PROTO_PSK_ID_MAX + 1]; /**< NUL-terminated identity. */
	uint8_t id_len;
	uint8_t key[SL_AUTH_KEY_MAX];
	uint8_t key_len;
};

struct sl_auth_allow {
	uint8_t family; /**< 4 or 6. */
	uint8_t prefix; /**< Prefix length in bits. */
	uint8_t net[16];
};

struct sl_auth {
	uint8_t secret[32]; /**< Cookie secret: random, made by sl_auth_init(). */
	struct sl_auth_key keys[SL_AUTH_MAX_KEYS];
	unsigned nb_keys; /**< 0: no key file, no key proof required. */
	struct sl_auth_allow allow[SL_AUTH_MAX_ALLOW];
	unsigned nb_allow; /**< 0: everyone allowed. */
};

/**
 * Reset @p a: no keys, no allow list, a fresh random cookie secret
 * (getrandom).
 *
 * @return 0, or -errno if no randomness could be had.
 */
int sl_auth_init(struct sl_auth *a);

/**
 * Load a key file (format in docs/protocol.md): refused if group or others
 * may read or write it, if any line is malformed (the line number is
 * reported), if it holds no key, more than SL_AUTH_MAX_KEYS, or the same
 * identity twice.
 *
 * @return 0, or -EINVAL / -EACCES / -errno with a one-line reason in @p err.
 */
int sl_auth_load_keys(struct sl_auth *a, const char *path, char *err, size_t errlen);

/** Find a key by identity (@p len bytes, not NUL-terminated). @return it, or NULL. */
const struct sl_auth_key *sl_auth_find_key(const struct sl_auth *a, const char *id, size_t len);

/**
 * Add an --allow entry: "A.B.C.D/N", "A.B.C.D" (/32), an IPv6 address with
 * an optional "/N" (default /128). Host bits beyond the prefix must be zero.
 *
 * @return 0, or -EINVAL with a reason in @p err (also when the list is full).
 */
int sl_auth_allow_add(struct sl_auth *a, const char *cidr, char *err, size_t errlen);

/** Whether @p p's address is in the allow list (always true when it is empty). */
bool sl_auth_allowed(const struct sl_auth *a, const struct sl_net_peer *p);

/**
 * The cookie of @p p (family, address, UDP port), @p nonce and @p issued:
 * the first 16 bytes of HMAC-SHA256(secret, family | address | port | nonce | issued).
 */
void sl_auth_cookie(const struct sl_auth *a, const struct sl_net_peer *p,
		    const uint8_t nonce[SL_PROTO_NONCE_SIZE], uint64_t issued,
		    uint8_t out[SL_PROTO_COOKIE_SIZE]);

/**
 * Check a CONNECT from @p p at coarse time @p now_s (same clock as the
 * issued value of the cookies): allow list, cookie (constant-time compare),
 * age (expired when now_s > issued + SL_AUTH_COOKIE_TTL; a cookie issued
 * more than 2 s in the future is bad), then the key proof: required when
 * keys are loaded (a CONNECT without psk_id, with an unknown identity, or a
 * wrong auth fails), ignored otherwise.
 *
 * @param key
 *   Receives the key used (NULL without keys), for the WELCOME proof.
 * @return 0, or the negative REJECT reason: -SL_PROTO_REJECT_NOT_ALLOWED,
 *   -SL_PROTO_REJECT_BAD_COOKIE, -SL_PROTO_REJECT_EXPIRED_COOKIE,
 *   -SL_PROTO_REJECT_AUTH_FAILED.
 */
int sl_auth_check_connect(const struct sl_auth *a, const struct sl_net_peer *p,
			  const struct sl_proto_connect *c, uint64_t now_s,
			  const struct sl_auth_key **key);

/** HMAC-SHA256(key, "sluice-connect-v1" | nonce | cookie): a sender's CONNECT proof. */
void sl_auth_connect_proof(const struct sl_auth_key *k, const uint8_t nonce[SL_PROTO_NONCE_SIZE],
			   const uint8_t cookie[SL_PROTO_COOKIE_SIZE],
			   uint8_t out[SL_PROTO_AUTH_SIZE]);

/** HMAC-SHA256(key, "sluice-welcome-v1" | session (8 bytes BE) | nonce): the WELCOME proof. */
void sl_auth_welcome_proof(const struct sl_auth_key *k, uint64_t session,
			   const uint8_t nonce[SL_PROTO_NONCE_SIZE],
			   uint8_t out[SL_PROTO_AUTH_SIZE]);

/** Constant-time comparison of @p n bytes. @return true if equal. */
bool sl_auth_equal(const void *a, const void *b, size_t n);

/** Fill @p out with @p n random bytes (getrandom). @return 0 or -errno. */
int sl_auth_random(void *out, size_t n);

/**
 * Incremental SHA-256 (libcrypto EVP), for whole-file digests on both ends.
 * The context is opaque storage; sl_sha256_init() must precede use and
 * sl_sha256_final() releases it.
 */
struct sl_sha256 {
	void *ctx;
};

/** @return 0 or -ENOMEM. */
int sl_sha256_init(struct sl_sha256 *s);
void sl_sha256_update(struct sl_sha256 *s, const void *p, size_t n);
/** Write the digest and free the context (also frees it when @p out is NULL). */
void sl_sha256_final(struct sl_sha256 *s, uint8_t out[SL_PROTO_SHA256_SIZE]);
/** One-shot SHA-256. */
void sl_sha256(const void *p, size_t n, uint8_t out[SL_PROTO_SHA256_SIZE]);

#endif /* SL_AUTH_H */
