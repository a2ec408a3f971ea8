/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_TEST_URING_PROBE_H
#define SL_TEST_URING_PROBE_H

/* Shared by the unit tests that need a real io_uring. */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "sl_uring.h"

/* io_uring may be disabled (kernel.io_uring_disabled, seccomp in containers): skip, saying why. */
static inline bool
uring_available(void)
{
	struct sl_io_stats st = { 0 };
	struct sl_uring_params p = { .depth = 4, .max_ops = 4, .stats = &st };
	struct sl_uring *u;
	int err = 0;

	u = sl_uring_create(&p, &err);
	if (u == NULL) {
		fprintf(stderr, "skipped: io_uring unavailable (%s)\n", strerror(-err));
		return false;
	}
	sl_uring_destroy(u);
	return true;
}

/* What the libraries log (rte_log) in between, captured: a finish that waits on the
 * disk says so. log_capture_stop() returns the text (the caller frees it). */
struct log_capture {
	FILE *f;
	char *text;
	size_t len;
};

static inline bool
log_capture_start(struct log_capture *lc)
{
	lc->text = NULL;
	lc->len = 0;
	lc->f = open_memstream(&lc->text, &lc->len);
	return lc->f != NULL && rte_openlog_stream(lc->f) == 0;
}

static inline char *
log_capture_stop(struct log_capture *lc)
{
	rte_openlog_stream(NULL);
	fclose(lc->f);
	return lc->text;
}

/* How often @p what occurs in @p text. */
static inline unsigned
occurrences(const char *text, const char *what)
{
	unsigned n = 0;

	for (const char *p = text; p != NULL && (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

#endif /* SL_TEST_URING_PROBE_H */
