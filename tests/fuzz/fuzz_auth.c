/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/auth's parsers: sl_auth_load_keys() of a pre-shared key file
 * (--psk-file, lines "IDENTITY HEXKEY"), and, on each of the first lines of
 * the same text, sl_auth_allow_add() (--allow) and lib/net's
 * sl_net_parse_cidr() (--ip).
 *
 * The input is the key file (written to a scratch file of mode 0600, since
 * the loader refuses any other).
 *
 * Invariants: a file that loads holds 1..256 keys, as many as it has lines
 * that are neither blank nor comments, each with an identity of 1..64
 * printable bytes without space, NUL-terminated, found again by
 * sl_auth_find_key() and by no other identity, and a key of 16..64 bytes;
 * a file that does not load leaves no key and says why. An --allow entry
 * that is accepted has no host bits and allows its own address; a CIDR that
 * sl_net_parse_cidr() accepts has a prefix within its family's bits and is
 * not the all-zero address.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "sl_auth.h"
#include "sl_net.h"

static char dir[PATH_MAX], keyfile[PATH_MAX + 16];
static struct sl_auth auth;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];
	int fd;

	fuzz_scratch_dir("auth", dir);
	snprintf(keyfile, sizeof(keyfile), "%s/keys", dir);
	/* A key file others may read is refused, whatever it holds. */
	fd = open(keyfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FUZZ_ASSERT(fd >= 0 && fchmod(fd, 0644) == 0);
	FUZZ_ASSERT(write(fd, "id 00112233445566778899aabbccddeeff\n", 36) == 36);
	close(fd);
	FUZZ_ASSERT(sl_auth_load_keys(&auth, keyfile, err, sizeof(err)) == -EACCES);
	FUZZ_ASSERT(chmod(keyfile, 0600) == 0);
	FUZZ_ASSERT(sl_auth_load_keys(&auth, keyfile, err, sizeof(err)) == 0 && auth.nb_keys == 1);
	return 0;
}

/* Lines fgets() would see that are neither blank nor comments. */
static unsigned
key_lines(const uint8_t *data, size_t size)
{
	unsigned n = 0;
	size_t i = 0;

	while (i < size) {
		size_t end = i, k = i, e;

		while (end < size && data[end] != '\n')
			end++;
		e = end;
		while (e > i && data[e - 1] == '\r')
			e--;
		while (k < e && (data[k] == ' ' || data[k] == '\t'))
			k++;
		if (k < e && data[k] != '#')
			n++;
		i = end + 1;
	}
	return n;
}

static void
check_keys(const uint8_t *data, size_t size)
{
	char err[256];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = sl_auth_load_keys(&auth, keyfile, err, sizeof(err));
	if (rc != 0) {
		FUZZ_ASSERT(rc == -EINVAL || rc == -EIO);
		FUZZ_ASSERT(auth.nb_keys == 0);
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		return;
	}
	FUZZ_ASSERT(auth.nb_keys >= 1 && auth.nb_keys <= SL_AUTH_MAX_KEYS);
	/* A NUL ends a line early for fgets' caller; count only NUL-free files. */
	if (memchr(data, '\0', size) == NULL)
		FUZZ_ASSERT(auth.nb_keys == key_lines(data, size));
	for (unsigned i = 0; i < auth.nb_keys; i++) {
		const struct sl_auth_key *k = &auth.keys[i];

		FUZZ_ASSERT(k->id_len >= 1 && k->id_len <= SL_PROTO_PSK_ID_MAX);
		FUZZ_ASSERT(k->id[k->id_len] == '\0' && strlen(k->id) == k->id_len);
		for (unsigned j = 0; j < k->id_len; j++)
			FUZZ_ASSERT((unsigned char)k->id[j] > 0x20 &&
				    (unsigned char)k->id[j] != 0x7f);
		FUZZ_ASSERT(k->key_len >= SL_AUTH_KEY_MIN && k->key_len <= SL_AUTH_KEY_MAX);
		FUZZ_ASSERT(sl_auth_find_key(&auth, k->id, k->id_len) == k);
		if (k->id_len > 1)
			FUZZ_ASSERT(sl_auth_find_key(&auth, k->id, k->id_len - 1) != k);
	}
}

static void
check_cidr(const char *s)
{
	struct sl_auth a;
	struct sl_net_peer p;
	uint8_t family = 0, ip[16], prefix = 0;
	char err[160];
	int rc;

	memset(&a, 0, sizeof(a));
	rc = sl_auth_allow_add(&a, s, err, sizeof(err));
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		const struct sl_auth_allow *e = &a.allow[0];

		FUZZ_ASSERT(a.nb_allow == 1);
		FUZZ_ASSERT((e->family == 4 && e->prefix <= 32) ||
			    (e->family == 6 && e->prefix <= 128));
		for (unsigned bit = e->prefix; bit < 128; bit++)
			FUZZ_ASSERT(!(e->net[bit / 8] & (0x80 >> (bit % 8))));
		memset(&p, 0, sizeof(p));
		p.family = e->family;
		memcpy(p.ip, e->net, sizeof(p.ip));
		FUZZ_ASSERT(sl_auth_allowed(&a, &p));
	} else {
		FUZZ_ASSERT(a.nb_allow == 0 && memchr(err, '\0', sizeof(err)) != NULL);
	}

	memset(ip, 0xee, sizeof(ip));
	rc = sl_net_parse_cidr(s, &family, ip, &prefix);
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		static const uint8_t zero[16];

		FUZZ_ASSERT((family == 4 && prefix <= 32) || (family == 6 && prefix <= 128));
		FUZZ_ASSERT(memcmp(ip, zero, 16) != 0 && strchr(s, '/') != NULL);
		if (family == 4)
			FUZZ_ASSERT(memcmp(ip + 4, zero, 12) == 0);
	} else {
		FUZZ_ASSERT(family == 0 && prefix == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd;

	if (size > 64 * 1024)
		return -1;
	fd = open(keyfile, O_WRONLY | O_TRUNC | O_CLOEXEC);
	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(write(fd, data, size) == (ssize_t)size);
	close(fd);
	check_keys(data, size);

	/* The first lines, each as an address. */
	for (size_t i = 0, lines = 0; i < size && lines < 8; lines++) {
		size_t end = i;
		char *s;

		while (end < size && data[end] != '\n')
			end++;
		s = malloc(end - i + 1);
		FUZZ_ASSERT(s != NULL);
		memcpy(s, data + i, end - i);
		s[end - i] = '\0';
		check_cidr(s);
		free(s);
		i = end + 1;
	}
	return 0;
}
