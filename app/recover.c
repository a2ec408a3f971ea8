/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture mode's start: the ".part" files a crash of an earlier run left in
 * --dir are made valid captures again (sl_series_recover()), each repair is
 * reported on stdout and kept for --stats-json ("recovered"), and every
 * writer's series continues after the highest sequence number it has used.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "sl_series.h"
#include "sl_stats.h"

/* How long a .part may stay locked by the I/O of a killed writer before it counts as a
 * live writer's: its io_uring is torn down after the process is gone, once its last
 * write has landed, which takes up to --write-buffers x --write-buffer at the disk's
 * pace (8 MiB on a disk throttled to 1 MB/s: 7 s after the process was reaped). */
#define RECOVER_LOCK_WAIT_MS 30000u
/* Repairs kept for the JSON; a longer list is cut there, and says so. */
#define RECOVER_KEEP 256u

struct recovered {
	char part[SL_SERIES_NAME_MAX + 16];
	char name[SL_SERIES_NAME_MAX + 64];
	char why[256];
	enum sl_series_recovery_action action;
	bool renamed_aside;
	uint64_t size;
	uint64_t records;
	uint64_t kept_bytes;
	uint64_t trimmed_bytes;
};

static struct {
	struct recovered list[RECOVER_KEEP];
	unsigned nb;    /* kept in list */
	unsigned total; /* files handled */
	unsigned failed;
} rec;

static void
on_recovered(void *arg, const struct sl_series_recovery *r)
{
	struct recovered *k = rec.nb < RECOVER_KEEP ? &rec.list[rec.nb++] : NULL;

	(void)arg;
	rec.total++;
	switch (r->action) {
	case SL_SERIES_RECOVERED:
		if (r->renamed_aside)
			printf("sluice: recovery: the final name of %s exists, so it becomes %s\n",
			       r->part, r->name);
		printf("sluice: recovered %s: %" PRIu64 " records, kept %" PRIu64
		       " bytes, trimmed %" PRIu64 " bytes%s%s\n",
		       r->name, r->records, r->kept_bytes, r->trimmed_bytes, r->why[0] ? ": " : "",
		       r->why);
		break;
	case SL_SERIES_REMOVED_EMPTY:
	case SL_SERIES_REMOVED_NO_RECORD:
		printf("sluice: recovery removed %s (%" PRIu64 " bytes, %s): %s\n", r->part,
		       r->size,
		       r->action == SL_SERIES_REMOVED_EMPTY ? "no header" : "no complete record",
		       r->why);
		break;
	case SL_SERIES_CORRUPT:
		printf("sluice: recovery: %s is no capture (%s), kept as %s\n", r->part, r->why,
		       r->name);
		break;
	case SL_SERIES_BUSY:
	case SL_SERIES_FAILED:
		rec.failed++;
		fprintf(stderr, "sluice: error: recovery of %s %s: %s\n", r->part,
			r->action == SL_SERIES_BUSY ? "skipped" : "failed", r->why);
		break;
	}
	if (k == NULL)
		return;
	snprintf(k->part, sizeof(k->part), "%s", r->part);
	snprintf(k->name, sizeof(k->name), "%s", r->name);
	snprintf(k->why, sizeof(k->why), "%s", r->why);
	k->action = r->action;
	k->renamed_aside = r->renamed_aside;
	k->size = r->size;
	k->records = r->records;
	k->kept_bytes = r->kept_bytes;
	k->trimmed_bytes = r->trimmed_bytes;
}

int
app_recover(struct app *a)
{
	int rc;

	/* Numbers first: a file the recovery removes (nothing of it reached the
	 * disk) still had its number, which no later file may take. */
	for (unsigned w = 0; w < a->layout.nb_writers; w++) {
		uint64_t last;

		rc = sl_series_last_seq(a->cfg.dir, a->cfg.name_prefix, w, &last);
		if (rc < 0) {
			fprintf(stderr, "sluice: error: cannot read %s: %s\n", a->cfg.dir,
				strerror(-rc));
			return rc;
		}
		a->wr[w]->params.first_seq = last + 1;
	}
	rc = sl_series_recover(a->cfg.dir, a->cfg.name_prefix, RECOVER_LOCK_WAIT_MS, on_recovered,
			       NULL);
	if (rc < 0) {
		fprintf(stderr, "sluice: error: recovery of unfinished files in %s: %s\n",
			a->cfg.dir, strerror(-rc));
		return rc;
	}
	if (rc > 0)
		printf("sluice: recovery: %d unfinished file(s) of series %s in %s, %u not "
		       "repaired\n",
		       rc, a->cfg.name_prefix, a->cfg.dir, rec.failed);
	fflush(stdout);
	return 0;
}

void
app_recover_json(FILE *f, void *arg)
{
	(void)arg;
	fprintf(f, "\"recovery\": {\"files\": %u, \"failed\": %u, \"listed\": %u},\n  ", rec.total,
		rec.failed, rec.nb);
	fprintf(f, "\"recovered\": [");
	for (unsigned i = 0; i < rec.nb; i++) {
		const struct recovered *k = &rec.list[i];

		fprintf(f, "%s\n    {\"file\": ", i ? "," : "");
		sl_stats_json_string(f, k->name[0] ? k->name : k->part);
		fprintf(f, ", \"part\": ");
		sl_stats_json_string(f, k->part);
		fprintf(f, ", \"action\": ");
		sl_stats_json_string(f, sl_series_recovery_action_name(k->action));
		fprintf(f,
			", \"records\": %" PRIu64 ", \"kept_bytes\": %" PRIu64
			", \"trimmed_bytes\": %" PRIu64 ", \"size\": %" PRIu64
			", \"renamed_aside\": %s, \"why\": ",
			k->records, k->kept_bytes, k->trimmed_bytes, k->size,
			k->renamed_aside ? "true" : "false");
		sl_stats_json_string(f, k->why);
		fprintf(f, "}");
	}
	fprintf(f, "%s]", rec.nb ? "\n  " : "");
}
