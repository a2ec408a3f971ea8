/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_TEST_URING_PROBE_H
#define SL_TEST_URING_PROBE_H

/* Shared by the unit tests that need a real io_uring. */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

#endif /* SL_TEST_URING_PROBE_H */
