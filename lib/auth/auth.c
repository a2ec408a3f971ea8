/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sl_auth.h"

#define CONNECT_LABEL "sluice-connect-v1"
#define WELCOME_LABEL "sluice-welcome-v1"

int
sl_auth_random(void *out, size_t n)
{
	uint8_t *p = out;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
sl_auth_init(struct sl_auth *a)
{
	memset(a, 0, sizeof(*a));
	return sl_auth_random(a->secret, sizeof(a->secret));
}

bool
sl_auth_equal(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One "IDENTITY HEXKEY" line, already stripped of its newline. */
static int
parse_key_line(char *line, struct sl_auth_key *k, const char **why)
{
	char *id = line, *hex, *end;
	size_t id_len, hex_len;

	while (*id == ' ' || *id == '\t')
		id++;
	hex = id;
	while (*hex != '\0' && *hex != ' ' && *hex != '\t')
		hex++;
	id_len = (size_t)(hex - id);
	while (*hex == ' ' || *hex == '\t')
		hex++;
	end = hex;
	while (*end != '\0' && *end != ' ' && *end != '\t')
		end++;
	hex_len = (size_t)(end - hex);
	while (*end == ' ' || *end == '\t' || *end == '\r')
		end++;
	if (id_len == 0 || hex_len == 0 || *end != '\0') {
		*why = "expected 'IDENTITY HEXKEY'";
		return -EINVAL;
	}
	if (id_len > SL_PROTO_PSK_ID_MAX) {
		*why = "identity longer than 64 bytes";
		return -EINVAL;
	}
	for (size_t i = 0; i < id_len; i++)
		if ((unsigned char)id[i] < 0x21 || (unsigned char)id[i] == 0x7f) {
			*why = "identity has a control character";
			return -EINVAL;
		}
	if (hex_len % 2 != 0 || hex_len < 2 * SL_AUTH_KEY_MIN || hex_len > 2 * SL_AUTH_KEY_MAX) {
		*why = "key must be 32 to 128 hexadecimal digits (16 to 64 bytes)";
		return -EINVAL;
	}
	for (size_t i = 0; i < hex_len; i += 2) {
		int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);

		if (hi < 0 || lo < 0) {
			*why = "key is not hexadecimal";
			return -EINVAL;
		}
		k->key[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(k->id, id, id_len);
	k->id[id_len] = '\0';
	k->id_len = (uint8_t)id_len;
	k->key_len = (uint8_t)(hex_len / 2);
	return 0;
}

int
sl_auth_load_keys(struct sl_auth *a, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char line[512];
	unsigned lineno = 0;
	int fd, rc = 0;
	FILE *f;

	/* A failed load leaves no key at all, never part of a file. */
	memset(a->keys, 0, sizeof(a->keys));
	a->nb_keys = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: readable or writable by group or others (chmod 600 it)",
			 path);
		close(fd);
		return -EACCES;
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		rc = -errno;
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	a->nb_keys = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);
		struct sl_auth_key k;
		const char *why = NULL;
		char *p = line;

		lineno++;
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			rc = -EINVAL;
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		memset(&k, 0, sizeof(k));
		if (parse_key_line(p, &k, &why) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			rc = -EINVAL;
			break;
		}
		if (sl_auth_find_key(a, k.id, k.id_len) != NULL) {
			snprintf(err, errlen, "%s:%u: identity '%s' appears twice", path, lineno,
				 k.id);
			rc = -EINVAL;
			break;
		}
		if (a->nb_keys == SL_AUTH_MAX_KEYS) {
			snprintf(err, errlen, "%s:%u: more than %u keys", path, lineno,
				 SL_AUTH_MAX_KEYS);
			rc = -EINVAL;
			break;
		}
		a->keys[a->nb_keys++] = k;
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -EIO;
	}
	fclose(f);
	if (rc == 0 && a->nb_keys == 0) {
		snprintf(err, errlen, "%s: no key in the file", path);
		rc = -EINVAL;
	}
	if (rc < 0) {
		memset(a->keys, 0, sizeof(a->keys));
		a->nb_keys = 0;
	}
	return rc;
}

const struct sl_auth_key *
sl_auth_find_key(const struct sl_auth *a, const char *id, size_t len)
{
	for (unsigned i = 0; i < a->nb_keys; i++)
		if (a->keys[i].id_len == len && memcmp(a->keys[i].id, id, len) == 0)
			return &a->keys[i];
	return NULL;
}

int
sl_auth_allow_add(struct sl_auth *a, const char *cidr, char *err, size_t errlen)
{
	struct sl_auth_allow e;
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(cidr, '/');
	size_t alen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	unsigned max;

	memset(&e, 0, sizeof(e));
	if (a->nb_allow == SL_AUTH_MAX_ALLOW) {
		snprintf(err, errlen, "more than %u --allow entries", SL_AUTH_MAX_ALLOW);
		return -EINVAL;
	}
	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(err, errlen, "'%s' is not an address or CIDR", cidr);
		return -EINVAL;
	}
	memcpy(addr, cidr, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, e.net) == 1) {
		e.family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, e.net) == 1) {
		e.family = 6;
		max = 128;
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", addr);
		return -EINVAL;
	}
	e.prefix = (uint8_t)max;
	if (slash != NULL) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || n > max ||
		    !isdigit((unsigned char)slash[1])) {
			snprintf(err, errlen, "'%s': prefix length must be 0..%u", cidr, max);
			return -EINVAL;
		}
		e.prefix = (uint8_t)n;
	}
	for (unsigned bit = e.prefix; bit < max; bit++)
		if (e.net[bit / 8] & (0x80 >> (bit % 8))) {
			snprintf(err, errlen, "'%s': host bits set beyond the /%u prefix", cidr,
				 e.prefix);
			return -EINVAL;
		}
	a->allow[a->nb_allow++] = e;
	return 0;
}

static bool
prefix_match(const uint8_t *net, const uint8_t *ip, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(net, ip, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((net[full] ^ ip[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

bool
sl_auth_allowed(const struct sl_auth *a, const struct sl_net_peer *p)
{
	if (a->nb_allow == 0)
		return true;
	for (unsigned i = 0; i < a->nb_allow; i++)
		if (a->allow[i].family == p->family &&
		    prefix_match(a->allow[i].net, p->ip, a->allow[i].prefix))
			return true;
	return false;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void
hmac(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t len,
     uint8_t out[SL_PROTO_AUTH_SIZE])
{
	unsigned int olen = SL_PROTO_AUTH_SIZE;

	HMAC(EVP_sha256(), key, (int)key_len, msg, len, out, &olen);
}

void
sl_auth_cookie(const struct sl_auth *a, const struct sl_net_peer *p,
	       const uint8_t nonce[SL_PROTO_NONCE_SIZE], uint64_t issued,
	       uint8_t out[SL_PROTO_COOKIE_SIZE])
{
	uint8_t msg[1 + 16 + 2 + SL_PROTO_NONCE_SIZE + 8], mac[SL_PROTO_AUTH_SIZE];
	size_t n = 0, alen = p->family == 6 ? 16 : 4;

	msg[n++] = p->family;
	memcpy(msg + n, p->ip, alen);
	n += alen;
	msg[n++] = (uint8_t)(p->udp_port >> 8);
	msg[n++] = (uint8_t)p->udp_port;
	memcpy(msg + n, nonce, SL_PROTO_NONCE_SIZE);
	n += SL_PROTO_NONCE_SIZE;
	put_be64(msg + n, issued);
	n += 8;
	hmac(a->secret, sizeof(a->secret), msg, n, mac);
	memcpy(out, mac, SL_PROTO_COOKIE_SIZE);
}

void
sl_auth_connect_proof(const struct sl_auth_key *k, const uint8_t nonce[SL_PROTO_NONCE_SIZE],
		      const uint8_t cookie[SL_PROTO_COOKIE_SIZE], uint8_t out[SL_PROTO_AUTH_SIZE])
{
	uint8_t msg[sizeof(CONNECT_LABEL) - 1 + SL_PROTO_NONCE_SIZE + SL_PROTO_COOKIE_SIZE];
	size_t n = sizeof(CONNECT_LABEL) - 1;

	memcpy(msg, CONNECT_LABEL, n);
	memcpy(msg + n, nonce, SL_PROTO_NONCE_SIZE);
	n += SL_PROTO_NONCE_SIZE;
	memcpy(msg + n, cookie, SL_PROTO_COOKIE_SIZE);
	n += SL_PROTO_COOKIE_SIZE;
	hmac(k->key, k->key_len, msg, n, out);
}

void
sl_auth_welcome_proof(const struct sl_auth_key *k, uint64_t session,
		      const uint8_t nonce[SL_PROTO_NONCE_SIZE], uint8_t out[SL_PROTO_AUTH_SIZE])
{
	uint8_t msg[sizeof(WELCOME_LABEL) - 1 + 8 + SL_PROTO_NONCE_SIZE];
	size_t n = sizeof(WELCOME_LABEL) - 1;

	memcpy(msg, WELCOME_LABEL, n);
	put_be64(msg + n, session);
	n += 8;
	memcpy(msg + n, nonce, SL_PROTO_NONCE_SIZE);
	n += SL_PROTO_NONCE_SIZE;
	hmac(k->key, k->key_len, msg, n, out);
}

int
sl_auth_check_connect(const struct sl_auth *a, const struct sl_net_peer *p,
		      const struct sl_proto_connect *c, uint64_t now_s,
		      const struct sl_auth_key **key)
{
	uint8_t expect[SL_PROTO_COOKIE_SIZE];

	*key = NULL;
	if (!sl_auth_allowed(a, p))
		return -SL_PROTO_REJECT_NOT_ALLOWED;
	sl_auth_cookie(a, p, c->client_nonce, c->issued, expect);
	if (!sl_auth_equal(expect, c->cookie, sizeof(expect)))
		return -SL_PROTO_REJECT_BAD_COOKIE;
	if (c->issued > now_s + 2)
		return -SL_PROTO_REJECT_BAD_COOKIE;
	if (now_s > c->issued + SL_AUTH_COOKIE_TTL)
		return -SL_PROTO_REJECT_EXPIRED_COOKIE;
	if (a->nb_keys > 0) {
		const struct sl_auth_key *k;
		uint8_t proof[SL_PROTO_AUTH_SIZE];

		if (c->psk_id_len == 0)
			return -SL_PROTO_REJECT_AUTH_FAILED;
		k = sl_auth_find_key(a, c->psk_id, c->psk_id_len);
		if (k == NULL)
			return -SL_PROTO_REJECT_AUTH_FAILED;
		sl_auth_connect_proof(k, c->client_nonce, c->cookie, proof);
		if (!sl_auth_equal(proof, c->auth, sizeof(proof)))
			return -SL_PROTO_REJECT_AUTH_FAILED;
		*key = k;
	}
	return 0;
}

int
sl_sha256_init(struct sl_sha256 *s)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	s->ctx = NULL;
	if (ctx == NULL)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	s->ctx = ctx;
	return 0;
}

void
sl_sha256_update(struct sl_sha256 *s, const void *p, size_t n)
{
	if (s->ctx != NULL && n > 0)
		EVP_DigestUpdate(s->ctx, p, n);
}

void
sl_sha256_final(struct sl_sha256 *s, uint8_t out[SL_PROTO_SHA256_SIZE])
{
	if (s->ctx == NULL)
		return;
	if (out != NULL) {
		unsigned int len = SL_PROTO_SHA256_SIZE;

		EVP_DigestFinal_ex(s->ctx, out, &len);
	}
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}

void
sl_sha256(const void *p, size_t n, uint8_t out[SL_PROTO_SHA256_SIZE])
{
	unsigned int len = SL_PROTO_SHA256_SIZE;

	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}
