/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The test seams (seams.h): parsed once from the environment, then armed on
 * each writer lcore as it starts. A writer's fault state (what it has
 * counted) belongs to that writer's lcore alone, so it needs no atomics.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_log.h>

#include "seams.h"
#include "sl_session.h"
#include "sl_uring.h"

extern int sl_logtype_app;
#define SEAM_LOG(level, fmt, ...)                                                                  \
	rte_log(RTE_LOG_##level, sl_logtype_app, "sluice: " fmt, ##__VA_ARGS__)

static bool fault_on;
static struct sl_uring_fault faults[SL_MAX_LCORES];
static unsigned kill_point = SL_SESSION_KILL_NONE;
static uint32_t kill_nth;

int
app_seams_read(const struct app *a)
{
	const char *fault = getenv("SLUICE_FAULT_URING");
	const char *kill = getenv("SLUICE_TEST_KILL_AT");
	char err[256];

	if (fault != NULL) {
		struct sl_uring_fault_spec spec;
		const char *name;
		char num[16];

		if (sl_uring_fault_parse(fault, &spec, err, sizeof(err)) < 0) {
			fprintf(stderr, "sluice: error: SLUICE_FAULT_URING=%s: %s\n", fault, err);
			return -EINVAL;
		}
		if (spec.writer >= 0 && (unsigned)spec.writer >= a->layout.nb_writers) {
			fprintf(stderr,
				"sluice: error: SLUICE_FAULT_URING=%s: writer %d of %u writers\n",
				fault, spec.writer, a->layout.nb_writers);
			return -EINVAL;
		}
		for (unsigned w = 0; w < SL_MAX_LCORES; w++)
			faults[w].spec = spec;
		fault_on = true;
		name = sl_uring_fault_errno_name(spec.error);
		if (name == NULL) {
			snprintf(num, sizeof(num), "errno %d", spec.error);
			name = num;
		}
		SEAM_LOG(WARNING,
			 "test seam active: SLUICE_FAULT_URING=%s: %s completions of %s fail with "
			 "%s after %" PRIu64 " of them, %s\n",
			 fault,
			 spec.kinds == SL_URING_FAULT_WRITE
				 ? "write"
				 : (spec.kinds == SL_URING_FAULT_FSYNC ? "fsync"
								       : "write and fsync"),
			 spec.writer < 0 ? "every writer" : "one writer", name, spec.after,
			 spec.count == 0 ? "then every one" : "a limited number of times");
	}
	if (kill != NULL) {
		if (a->cfg.mode != SL_MODE_FILE) {
			fprintf(stderr, "sluice: error: SLUICE_TEST_KILL_AT is for --mode=file\n");
			return -EINVAL;
		}
		if (sl_session_kill_parse(kill, &kill_point, &kill_nth, err, sizeof(err)) < 0) {
			fprintf(stderr, "sluice: error: SLUICE_TEST_KILL_AT=%s: %s\n", kill, err);
			return -EINVAL;
		}
		SEAM_LOG(
			WARNING,
			"test seam active: SLUICE_TEST_KILL_AT=%s: a writer raises SIGKILL when it "
			"reaches '%s' for the %" PRIu32 ". time\n",
			kill, sl_session_kill_point_name(kill_point), kill_nth);
	}
	return 0;
}

static struct sl_uring_fault *
fault_of(unsigned w)
{
	if (!fault_on || w >= SL_MAX_LCORES ||
	    (faults[w].spec.writer >= 0 && (unsigned)faults[w].spec.writer != w))
		return NULL;
	return &faults[w];
}

void
app_seams_arm(struct app *a, unsigned w)
{
	struct sl_uring_fault *f = fault_of(w);
	sl_uring_fault_fn fn = f != NULL ? sl_uring_fault_inject : NULL;

	if (a->cfg.mode == SL_MODE_FILE) {
		a->fw[w]->fault = fn;
		a->fw[w]->fault_arg = f;
		a->fw[w]->kill_point = kill_point;
		a->fw[w]->kill_nth = kill_nth;
	} else {
		a->wr[w]->fault = fn;
		a->wr[w]->fault_arg = f;
	}
}
