/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_FUZZ_H
#define SL_FUZZ_H

/**
 * @file
 * What the libFuzzer targets of tests/fuzz share: the entry points libFuzzer
 * calls, an assertion that survives NDEBUG, and a cursor that takes typed
 * values from the fuzzer's bytes (zeros once they run out, so that every
 * input is a valid description of something).
 */

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test does not hold: report it as a crash. */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t
fuzz_u8(struct fuzz_input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t
fuzz_u16(struct fuzz_input *in)
{
	uint16_t hi = fuzz_u8(in);

	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t
fuzz_u32(struct fuzz_input *in)
{
	uint32_t hi = fuzz_u16(in);

	return hi << 16 | fuzz_u16(in);
}

static inline uint64_t
fuzz_u64(struct fuzz_input *in)
{
	uint64_t hi = fuzz_u32(in);

	return hi << 32 | fuzz_u32(in);
}

/* Up to @p n bytes of the input, without copying; *got says how many. */
static inline const uint8_t *
fuzz_bytes(struct fuzz_input *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;

	if (n > in->left)
		n = in->left;
	in->p += n;
	in->left -= n;
	*got = n;
	return p;
}

static inline int
fuzz_remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/*
 * Make a scratch directory for target @p name in @p dir (PATH_MAX bytes):
 * $TMPDIR, or /dev/shm (tmpfs, as the targets create and fsync files), or
 * /tmp, then "sl-fuzz-<name>.<pid>". libFuzzer ends without running atexit
 * handlers, so the directories of processes that are gone are removed here.
 * Aborts on failure.
 */
static inline void
fuzz_scratch_dir(const char *name, char *dir)
{
	const char *tmp = getenv("TMPDIR");
	char prefix[64], stale[PATH_MAX];
	struct dirent *e;
	size_t plen;
	DIR *d;

	if (tmp == NULL)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	plen = (size_t)snprintf(prefix, sizeof(prefix), "sl-fuzz-%s.", name);
	d = opendir(tmp);
	while (d != NULL && (e = readdir(d)) != NULL) {
		long pid;

		if (strncmp(e->d_name, prefix, plen) != 0)
			continue;
		pid = strtol(e->d_name + plen, NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
			snprintf(stale, sizeof(stale), "%s/%s", tmp, e->d_name);
			nftw(stale, fuzz_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		}
	}
	if (d != NULL)
		closedir(d);
	snprintf(dir, PATH_MAX, "%s/%s%ld", tmp, prefix, (long)getpid());
	nftw(dir, fuzz_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (mkdir(dir, 0700) != 0)
		abort();
}

#endif /* SL_FUZZ_H */
