/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sl_common.h"

/* strtoull accepts signs, spaces and hex prefixes; operators' typos should be
 * refused, so digits are scanned by hand. */
static int
scan_digits(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return 0;
}

int
sl_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	int rc;

	if (s == NULL)
		return -EINVAL;
	rc = scan_digits(&s, &v);
	if (rc < 0)
		return rc;
	if (*s != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
sl_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v, mult = 1;
	int rc;

	if (s == NULL)
		return -EINVAL;
	rc = scan_digits(&s, &v);
	if (rc < 0)
		return rc;
	switch (toupper((unsigned char)*s)) {
	case 'K':
		mult = 1ull << 10;
		break;
	case 'M':
		mult = 1ull << 20;
		break;
	case 'G':
		mult = 1ull << 30;
		break;
	case 'T':
		mult = 1ull << 40;
		break;
	case '\0':
		break;
	case 'B':
		if (s[1] != '\0')
			return -EINVAL;
		s++;
		break;
	default:
		return -EINVAL;
	}
	if (mult != 1) {
		s++;
		/* The unit letter is case-insensitive, so its "iB" or "B" tail is too. */
		if (strcasecmp(s, "iB") == 0 || strcasecmp(s, "B") == 0)
			s += strlen(s);
	}
	if (*s != '\0')
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	v *= mult;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
sl_parse_seconds_ms(const char *s, uint64_t max_ms, uint64_t *out_ms)
{
	uint64_t whole, frac = 0, scale = 1000;
	int rc;

	if (s == NULL)
		return -EINVAL;
	rc = scan_digits(&s, &whole);
	if (rc < 0)
		return rc;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		/* Milliseconds are the resolution; further digits are ignored. */
		for (; isdigit((unsigned char)*s); s++) {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*s - '0') * scale;
			}
		}
	}
	if (*s != '\0')
		return -EINVAL;
	if (whole > max_ms / 1000)
		return -ERANGE;
	whole = whole * 1000 + frac;
	if (whole > max_ms)
		return -ERANGE;
	*out_ms = whole;
	return 0;
}

int
sl_parse_id_list(const char *s, unsigned limit, uint16_t *ids, unsigned max)
{
	unsigned n = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (;;) {
		uint64_t lo, hi;
		int rc = scan_digits(&s, &lo);

		if (rc < 0)
			return rc;
		hi = lo;
		if (*s == '-') {
			s++;
			rc = scan_digits(&s, &hi);
			if (rc < 0)
				return rc;
			if (hi < lo)
				return -EINVAL;
		}
		if (hi >= limit)
			return -ERANGE;
		for (uint64_t id = lo; id <= hi; id++) {
			for (unsigned i = 0; i < n; i++)
				if (ids[i] == id)
					return -EINVAL;
			if (n == max)
				return -ERANGE;
			ids[n++] = (uint16_t)id;
		}
		if (*s == '\0')
			break;
		if (*s != ',')
			return -EINVAL;
		s++;
	}
	return (int)n;
}

void
sl_clock_init(struct sl_clock *c, uint64_t tsc_hz, uint64_t tsc_now, uint64_t ns_now)
{
	uint64_t hz = tsc_hz ? tsc_hz : 1;

	c->tsc0 = tsc_now;
	c->ns0 = ns_now;
	/* The more fraction bits, the less the factor's rounding error
	 * accumulates over a long capture: take as many as keep it below
	 * 2^64 (64 for any TSC of 1 GHz or more, i.e. under 1 ns per 2^33 s). */
	c->shift = 64;
	while (c->shift > 0 &&
	       ((unsigned __int128)1000000000u << c->shift) / hz > (unsigned __int128)UINT64_MAX)
		c->shift--;
	c->mult = (uint64_t)((((unsigned __int128)1000000000u << c->shift) + hz / 2) / hz);
}

uint64_t
sl_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
sl_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *
sl_format_size(uint64_t v, char *buf, size_t len)
{
	static const char suffix[] = "KMGT";
	unsigned unit = 0;

	while (v != 0 && v % 1024 == 0 && unit < sizeof(suffix) - 1) {
		v /= 1024;
		unit++;
	}
	if (unit == 0)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIu64 "%c", v, suffix[unit - 1]);
	return buf;
}
