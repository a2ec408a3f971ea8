/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_APP_SEAMS_H
#define SL_APP_SEAMS_H

/**
 * @file
 * The test seams of the real binary (docs/architecture.md), off unless
 * their environment variable is set:
 *
 * - SLUICE_FAULT_URING=op=write|fsync|any,errno=NAME|N,after=N,count=K[,writer=W]
 *   makes completions of each writer's io_uring fail (lib/uring's parser);
 * - SLUICE_TEST_KILL_AT=fsync|sidecar|rename|renamed|published[:N] (file mode) makes
 *   a writer raise SIGKILL at the N-th time it gets there (lib/session).
 *
 * Both are read once, on the main lcore, before the writers first start.
 */

#include "app.h"

/**
 * Read the seams' environment variables; log a WARNING for each one set.
 *
 * @return 0, or -EINVAL after printing why (exit 2).
 */
int app_seams_read(const struct app *a);

/** Arm the seams that apply to writer @p w in its lcore parameters, before it starts. */
void app_seams_arm(struct app *a, unsigned w);

#endif /* SL_APP_SEAMS_H */
