/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sl_series.h"

static bool
prefix_valid(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n >= sizeof(((struct sl_series *)0)->prefix) || p[0] == '.')
		return false;
	for (; *p != '\0'; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

int
sl_series_init(struct sl_series *s, const char *prefix, const char *ext, unsigned writer,
	       uint64_t rotate_size, uint64_t rotate_ns)
{
	memset(s, 0, sizeof(*s));
	if (prefix == NULL || !prefix_valid(prefix) || ext == NULL)
		return -EINVAL;
	snprintf(s->prefix, sizeof(s->prefix), "%s", prefix);
	s->ext = ext;
	s->writer = writer;
	s->next_seq = 1;
	s->rotate_size = rotate_size;
	s->rotate_ns = rotate_ns;
	return 0;
}

int
sl_series_name(const struct sl_series *s, uint64_t seq, uint64_t start_ns, bool part, char *buf,
	       size_t len)
{
	time_t sec = (time_t)(start_ns / 1000000000u);
	struct tm tm;
	char when[32];
	int n;

	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm);
	n = snprintf(buf, len, "%s_%s.%09" PRIu64 "Z_w%02u_%06" PRIu64 ".%s%s", s->prefix, when,
		     start_ns % 1000000000u, s->writer, seq, s->ext,
		     part ? SL_SERIES_PART_SUFFIX : "");
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}
