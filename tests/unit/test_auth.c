/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_auth.h"

static char tmpdir[256];

static int
setup_dir(void **state)
{
	const char *base = getenv("SL_TEST_TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/auth-XXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown_dir(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
unhex(const char *h, uint8_t *out)
{
	for (size_t i = 0; h[2 * i] != '\0'; i++) {
		unsigned v;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static struct sl_net_peer
peer4(const char *ip, uint16_t port)
{
	struct sl_net_peer p;
	unsigned a, b, c, d;

	memset(&p, 0, sizeof(p));
	p.family = 4;
	sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d);
	p.ip[0] = (uint8_t)a;
	p.ip[1] = (uint8_t)b;
	p.ip[2] = (uint8_t)c;
	p.ip[3] = (uint8_t)d;
	p.udp_port = port;
	return p;
}

static void
test_sha256_vectors(void **state)
{
	uint8_t out[32], want[32];
	struct sl_sha256 s;

	sl_sha256("abc", 3, out);
	unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want);
	assert_memory_equal(out, want, 32);
	sl_sha256("", 0, out);
	unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want);
	assert_memory_equal(out, want, 32);
	/* Incremental, in uneven pieces, equals one-shot. */
	assert_int_equal(sl_sha256_init(&s), 0);
	sl_sha256_update(&s, "a", 1);
	sl_sha256_update(&s, "", 0);
	sl_sha256_update(&s, "bc", 2);
	sl_sha256_final(&s, out);
	unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want);
	assert_memory_equal(out, want, 32);
	assert_null(s.ctx);
}

static void
test_proofs_match_openssl_cli(void **state)
{
	/* Expected values computed with `openssl dgst -sha256 -mac HMAC`. */
	struct sl_auth_key k = { .id = "k", .id_len = 1, .key_len = 16 };
	const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t cookie[16], out[32], want[32];

	for (int i = 0; i < 16; i++)
		k.key[i] = (uint8_t)i;
	memset(cookie, 'A', sizeof(cookie));
	sl_auth_connect_proof(&k, nonce, cookie, out);
	unhex("7a58ee10b9e066f49eaf7746f7591e812502a7984fe0314633de075b205e77ca", want);
	assert_memory_equal(out, want, 32);
	sl_auth_welcome_proof(&k, 42, nonce, out);
	unhex("85edac7d50f4f7d39293f6ca5d6104fb780900fc9b5081351ad5d3b0d27690fc", want);
	assert_memory_equal(out, want, 32);
}

static void
test_keys_file(void **state)
{
	struct sl_auth a;
	char err[256];
	const char *p;
	const struct sl_auth_key *k;

	assert_int_equal(sl_auth_init(&a), 0);
	p = write_file("good",
		       "# keys\n\n  alpha 000102030405060708090a0b0c0d0e0f\n"
		       "beta\t"
		       "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\r\n",
		       0600);
	assert_int_equal(sl_auth_load_keys(&a, p, err, sizeof(err)), 0);
	assert_int_equal(a.nb_keys, 2);
	k = sl_auth_find_key(&a, "beta", 4);
	assert_non_null(k);
	assert_int_equal(k->key_len, 32);
	assert_int_equal(k->key[10], 0xaa);
	assert_null(sl_auth_find_key(&a, "bet", 3));
	assert_null(sl_auth_find_key(&a, "gamma", 5));

	p = write_file("open", "alpha 000102030405060708090a0b0c0d0e0f\n", 0644);
	assert_int_equal(sl_auth_load_keys(&a, p, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(a.nb_keys, 0);

	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{ "alpha 0001020304050607\n", ":1: key must be" },
		{ "# c\nalpha 000102030405060708090a0b0c0d0e0g\n", ":2: key is not hex" },
		{ "alpha\n", ":1: expected" },
		{ "alpha 000102030405060708090a0b0c0d0e0f extra\n", ":1: expected" },
		{ "a 000102030405060708090a0b0c0d0e0f\na 000102030405060708090a0b0c0d0e0f\n",
		  ":2: identity 'a' appears twice" },
		{ "# nothing\n", "no key" },
		{ "x12345678901234567890123456789012345678901234567890123456789012345 "
		  "000102030405060708090a0b0c0d0e0f\n",
		  "longer than 64" },
		{ "alpha 0001020304050607080\n", "key must be" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = write_file("bad", bad[i].text, 0600);
		err[0] = '\0';
		assert_int_equal(sl_auth_load_keys(&a, p, err, sizeof(err)), -EINVAL);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].why);
		assert_int_equal(a.nb_keys, 0);
	}
	{
		char missing[300];

		snprintf(missing, sizeof(missing), "%.200s/missing", tmpdir);
		assert_int_equal(sl_auth_load_keys(&a, missing, err, sizeof(err)), -ENOENT);
	}
}

static void
test_allow_list(void **state)
{
	struct sl_auth a;
	char err[256];
	struct sl_net_peer p6;

	assert_int_equal(sl_auth_init(&a), 0);
	/* Empty: everyone. */
	struct sl_net_peer p = peer4("192.0.2.7", 1000);
	assert_true(sl_auth_allowed(&a, &p));
	assert_int_equal(sl_auth_allow_add(&a, "10.1.0.0/16", err, sizeof(err)), 0);
	assert_int_equal(sl_auth_allow_add(&a, "192.0.2.9", err, sizeof(err)), 0);
	assert_int_equal(sl_auth_allow_add(&a, "2001:db8::/33", err, sizeof(err)), 0);
	assert_false(sl_auth_allowed(&a, &p));
	p = peer4("192.0.2.9", 1);
	assert_true(sl_auth_allowed(&a, &p));
	p = peer4("10.1.255.3", 1);
	assert_true(sl_auth_allowed(&a, &p));
	p = peer4("10.2.0.1", 1);
	assert_false(sl_auth_allowed(&a, &p));
	memset(&p6, 0, sizeof(p6));
	p6.family = 6;
	unhex("20010db87fffffff0000000000000001", p6.ip);
	assert_true(sl_auth_allowed(&a, &p6));
	unhex("20010db8800000000000000000000001", p6.ip);
	assert_false(sl_auth_allowed(&a, &p6));
	/* The same bytes as IPv4 do not match an IPv6 entry. */
	p = peer4("32.1.13.184", 1);
	assert_false(sl_auth_allowed(&a, &p));

	assert_int_equal(sl_auth_allow_add(&a, "10.1.0.1/16", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "host bits"));
	assert_int_equal(sl_auth_allow_add(&a, "10.1.0.0/33", err, sizeof(err)), -EINVAL);
	assert_int_equal(sl_auth_allow_add(&a, "10.1.0.0/", err, sizeof(err)), -EINVAL);
	assert_int_equal(sl_auth_allow_add(&a, "10.1.0.0/-1", err, sizeof(err)), -EINVAL);
	assert_int_equal(sl_auth_allow_add(&a, "host.example", err, sizeof(err)), -EINVAL);
	assert_int_equal(sl_auth_allow_add(&a, "", err, sizeof(err)), -EINVAL);
	assert_int_equal(sl_auth_allow_add(&a, "0.0.0.0/0", err, sizeof(err)), 0);
	p = peer4("8.8.8.8", 1);
	assert_true(sl_auth_allowed(&a, &p));
}

static void
test_cookies_and_connect(void **state)
{
	struct sl_auth a, other;
	struct sl_net_peer p = peer4("198.51.100.4", 40000), q;
	struct sl_proto_connect c;
	const struct sl_auth_key *key;
	uint8_t c1[16], c2[16];
	char err[256];
	const char *path;

	assert_int_equal(sl_auth_init(&a), 0);
	assert_int_equal(sl_auth_init(&other), 0);
	memset(&c, 0, sizeof(c));
	memcpy(c.client_nonce, "noncenon", 8);
	c.issued = 1000;
	sl_auth_cookie(&a, &p, c.client_nonce, c.issued, c.cookie);
	/* Deterministic for the same inputs, different for anything else. */
	sl_auth_cookie(&a, &p, c.client_nonce, c.issued, c1);
	assert_memory_equal(c1, c.cookie, 16);
	q = p;
	q.udp_port++;
	sl_auth_cookie(&a, &q, c.client_nonce, c.issued, c2);
	assert_memory_not_equal(c1, c2, 16);
	sl_auth_cookie(&other, &p, c.client_nonce, c.issued, c2);
	assert_memory_not_equal(c1, c2, 16);
	sl_auth_cookie(&a, &p, c.client_nonce, c.issued + 1, c2);
	assert_memory_not_equal(c1, c2, 16);

	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 1000, &key), 0);
	assert_null(key);
	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 1060, &key), 0);
	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 1061, &key),
			 -SL_PROTO_REJECT_EXPIRED_COOKIE);
	/* Replayed from another address or port. */
	assert_int_equal(sl_auth_check_connect(&a, &q, &c, 1000, &key),
			 -SL_PROTO_REJECT_BAD_COOKIE);
	q = p;
	q.ip[3]++;
	assert_int_equal(sl_auth_check_connect(&a, &q, &c, 1000, &key),
			 -SL_PROTO_REJECT_BAD_COOKIE);
	/* A forged issued time fails the MAC; a cookie from the future is bad. */
	c.issued = 2000;
	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 2000, &key),
			 -SL_PROTO_REJECT_BAD_COOKIE);
	sl_auth_cookie(&a, &p, c.client_nonce, c.issued, c.cookie);
	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 1990, &key),
			 -SL_PROTO_REJECT_BAD_COOKIE);
	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 1998, &key), 0);
	c.cookie[15] ^= 1;
	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 2000, &key),
			 -SL_PROTO_REJECT_BAD_COOKIE);
	c.cookie[15] ^= 1;
	/* Allow list comes first. */
	assert_int_equal(sl_auth_allow_add(&a, "10.0.0.0/8", err, sizeof(err)), 0);
	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 2000, &key),
			 -SL_PROTO_REJECT_NOT_ALLOWED);
	a.nb_allow = 0;

	/* With keys: a proof is required and must be right. */
	path = write_file("keys", "alpha 000102030405060708090a0b0c0d0e0f\n", 0600);
	assert_int_equal(sl_auth_load_keys(&a, path, err, sizeof(err)), 0);
	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 2000, &key),
			 -SL_PROTO_REJECT_AUTH_FAILED);
	c.psk_id = "alpha";
	c.psk_id_len = 5;
	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 2000, &key),
			 -SL_PROTO_REJECT_AUTH_FAILED);
	sl_auth_connect_proof(&a.keys[0], c.client_nonce, c.cookie, c.auth);
	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 2000, &key), 0);
	assert_ptr_equal(key, &a.keys[0]);
	c.psk_id = "alphb";
	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 2000, &key),
			 -SL_PROTO_REJECT_AUTH_FAILED);
	assert_null(key);
	c.psk_id = "alpha";
	c.auth[0] ^= 0x80;
	assert_int_equal(sl_auth_check_connect(&a, &p, &c, 2000, &key),
			 -SL_PROTO_REJECT_AUTH_FAILED);
}

static void
test_equal_and_random(void **state)
{
	uint8_t a[64], b[64];

	assert_int_equal(sl_auth_random(a, sizeof(a)), 0);
	assert_int_equal(sl_auth_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_true(sl_auth_equal(a, a, sizeof(a)));
	memcpy(b, a, sizeof(a));
	b[63] ^= 1;
	assert_false(sl_auth_equal(a, b, sizeof(a)));
	assert_true(sl_auth_equal(a, b, 63));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_proofs_match_openssl_cli),
		cmocka_unit_test(test_keys_file),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_cookies_and_connect),
		cmocka_unit_test(test_equal_and_random),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
