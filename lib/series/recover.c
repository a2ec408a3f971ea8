/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a series left in its directory: the sequence numbers it used, and the
 * ".part" files a crash left unfinished, which are made valid captures again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sl_pcap.h"
#include "sl_series.h"
#include "sl_common.h"

/* "YYYYMMDDTHHMMSS.NNNNNNNNNZ": d is a digit, anything else itself. */
static const char time_shape[] = "ddddddddTdddddd.dddddddddZ";
#define LOCK_POLL_NS 20000000ull
#define ASIDE_MAX 1000u

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads at least @p min digits (at most 19, so the value fits). */
static const char *
digits(const char *p, unsigned min, uint64_t *v)
{
	unsigned n = 0;

	*v = 0;
	while (is_digit(p[n]) && n < 19) {
		*v = *v * 10 + (uint64_t)(p[n] - '0');
		n++;
	}
	if (n < min || is_digit(p[n]))
		return NULL;
	return p + n;
}

int
sl_series_parse(const char *prefix, const char *name, unsigned *writer, uint64_t *seq)
{
	size_t n = strlen(prefix);
	const char *p;
	uint64_t w, s;

	if (n == 0 || strncmp(name, prefix, n) != 0 || name[n] != '_')
		return 0;
	p = name + n + 1;
	for (size_t i = 0; i < sizeof(time_shape) - 1; i++)
		if (time_shape[i] == 'd' ? !is_digit(p[i]) : p[i] != time_shape[i])
			return 0;
	p += sizeof(time_shape) - 1;
	if (p[0] != '_' || p[1] != 'w')
		return 0;
	p = digits(p + 2, 2, &w);
	if (p == NULL || *p != '_' || w > UINT32_MAX)
		return 0;
	p = digits(p + 1, 6, &s);
	if (p == NULL || *p != '.' || p[1] == '\0')
		return 0;
	if (writer != NULL)
		*writer = (unsigned)w;
	if (seq != NULL)
		*seq = s;
	return 1;
}

static bool
prefix_ok(const char *prefix)
{
	struct sl_series s;

	return sl_series_init(&s, prefix, "pcap", 0, 0, 0) == 0;
}

int
sl_series_last_seq(const char *dir, const char *prefix, unsigned writer, uint64_t *seq)
{
	struct dirent *de;
	DIR *d;

	*seq = 0;
	if (!prefix_ok(prefix))
		return -EINVAL;
	d = opendir(dir);
	if (d == NULL)
		return -errno;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		unsigned w;
		uint64_t s;

		if (sl_series_parse(prefix, de->d_name, &w, &s) && w == writer && s > *seq)
			*seq = s;
	}
	if (errno != 0) {
		int rc = -errno;

		closedir(d);
		return rc;
	}
	closedir(d);
	return 0;
}

/* ---- walking a file ---- */

static bool
mem_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int
sl_series_walk(const void *data, size_t size, struct sl_series_walk *w)
{
	struct sl_pcap_reader r;
	struct sl_pcap_packet pkt;
	size_t hdr, last_start = 0;

	memset(w, 0, sizeof(*w));
	if (sl_pcap_reader_open(&r, data, size) < 0) {
		snprintf(w->why, sizeof(w->why), "%s", r.error);
		return -EBADMSG;
	}
	w->header_ok = true;
	/* A pcap record header, or the type and length that start a pcapng block. */
	hdr = r.format == SL_PCAP_FORMAT_PCAP ? SL_PCAP_RECORD_HDR : 8;
	for (;;) {
		size_t left = size - r.offset, start = r.good_end;
		int rc;

		if (left == 0) {
			w->clean_end = true;
			break;
		}
		/* The reader would take a pcap header of zeros for an empty record
		 * of 1970: zeros here are space that was never written. */
		if (mem_zero(r.base + r.offset, left < hdr ? left : hdr)) {
			snprintf(w->why, sizeof(w->why),
				 "zeros from byte %zu on (preallocated or padded, never written)",
				 r.offset);
			break;
		}
		rc = sl_pcap_reader_next(&r, &pkt);
		if (rc == 0) {
			w->clean_end = true;
			break;
		}
		if (rc < 0) {
			snprintf(w->why, sizeof(w->why), "at byte %zu: %s", r.good_end, r.error);
			break;
		}
		w->records++;
		last_start = start;
	}
	w->kept = r.good_end;
	/* A pcap record has no trailer to prove it whole: one whose tail lies in
	 * never-written space reads as zeros there, which the reader cannot tell
	 * from data. Such a record ends in a zero byte, so a last record that does
	 * is not trusted when the file goes on past it. */
	if (!w->clean_end && r.format == SL_PCAP_FORMAT_PCAP && w->records > 0 &&
	    w->kept > last_start && r.base[w->kept - 1] == 0) {
		size_t n = strlen(w->why);

		snprintf(w->why + n, sizeof(w->why) - n,
			 "; the last record ends in zeros and may have lost its tail");
		w->records--;
		w->kept = last_start;
	}
	return 0;
}

/* ---- recovery ---- */

const char *
sl_series_recovery_action_name(enum sl_series_recovery_action a)
{
	switch (a) {
	case SL_SERIES_RECOVERED:
		return "recovered";
	case SL_SERIES_REMOVED_EMPTY:
		return "removed_empty";
	case SL_SERIES_REMOVED_NO_RECORD:
		return "removed_no_record";
	case SL_SERIES_CORRUPT:
		return "corrupt";
	case SL_SERIES_BUSY:
		return "busy";
	case SL_SERIES_FAILED:
		return "failed";
	}
	return "?";
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The files sluice writes: "<series name>.pcap.part" and "<series name>.pcapng.part". */
static bool
is_our_part(const char *prefix, const char *name)
{
	return sl_series_parse(prefix, name, NULL, NULL) &&
	       (ends_with(name, ".pcap" SL_SERIES_PART_SUFFIX) ||
		ends_with(name, ".pcapng" SL_SERIES_PART_SUFFIX));
}

/* Whether the whole file is zeros. Holes (and, on ext4, unwritten preallocated
 * extents) are skipped with SEEK_DATA rather than read. */
static bool
file_zero(int fd, const uint8_t *map, size_t size)
{
	off_t pos = 0;

	while ((size_t)pos < size) {
		off_t data = lseek(fd, pos, SEEK_DATA), hole;

		if (data < 0)
			return errno == ENXIO ? true : mem_zero(map + pos, size - (size_t)pos);
		if ((size_t)data >= size)
			return true;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || (size_t)hole > size)
			hole = (off_t)size;
		if (!mem_zero(map + data, (size_t)(hole - data)))
			return false;
		pos = hole;
	}
	return true;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ".part" files of the series, sorted. */
static int
list_parts(int dirfd, const char *prefix, char ***out, size_t *nb)
{
	size_t n = 0, cap = 0;
	char **names = NULL;
	struct dirent *de;
	int fd, rc = 0;
	DIR *d;

	fd = dup(dirfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rewinddir(d);
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!is_our_part(prefix, de->d_name))
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap ? cap * 2 : 16) * sizeof(*names));

			if (more == NULL) {
				rc = -ENOMEM;
				break;
			}
			names = more;
			cap = cap ? cap * 2 : 16;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			rc = -ENOMEM;
			break;
		}
		n++;
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = -errno;
	closedir(d);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return rc;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*nb = n;
	return 0;
}

/* Rename @p from to @p want, or, if that is taken, to want with ".recoveredK" before its
 * last extension; never over an existing file. */
static int
rename_free(int dirfd, const char *from, const char *want, char *got, size_t len, bool *aside)
{
	const char *ext = strrchr(want, '.');
	size_t stem = ext != NULL ? (size_t)(ext - want) : strlen(want);

	if (ext == NULL)
		ext = "";
	*aside = false;
	for (unsigned k = 0; k < ASIDE_MAX; k++) {
		int n = k == 0 ? snprintf(got, len, "%s", want)
			       : snprintf(got, len, "%.*s.recovered%u%s", (int)stem, want, k, ext);

		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		if (renameat2(dirfd, from, dirfd, got, RENAME_NOREPLACE) == 0) {
			*aside = k > 0;
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Takes the writer's lock on @p fd: it is free once no process, and no io_uring
 * of a dead one, holds the file open. */
static int
lock_wait(int fd, uint64_t deadline_ns)
{
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		struct timespec ts = { 0, LOCK_POLL_NS };

		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -errno;
		if (sl_monotonic_ns() >= deadline_ns)
			return -EBUSY;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/*
 * Repairs one ".part" file. Returns 1 with @p r filled, or 0 if the file is no
 * longer there under that name (its writer finished it in the meantime).
 */
static int
recover_one(int dirfd, const char *part, uint64_t deadline_ns, struct sl_series_recovery *r,
	    char *name, size_t name_len, char *why, size_t why_len, bool *changed)
{
	char final[SL_SERIES_NAME_MAX + 16], want[sizeof(final) + sizeof(SL_SERIES_CORRUPT_SUFFIX)];
	struct sl_series_walk w;
	struct stat a, b;
	void *map = NULL;
	int fd, rc;

	memset(r, 0, sizeof(*r));
	r->part = part;
	r->name = name;
	r->why = why;
	name[0] = '\0';
	why[0] = '\0';
	/* The name less ".part" (the caller matched the suffix); a plain copy, as
	 * GCC's -O3 with sanitizers takes "%.*s" of @p part for a null argument. */
	{
		size_t n = strlen(part) - strlen(SL_SERIES_PART_SUFFIX);

		if (n >= sizeof(final))
			n = sizeof(final) - 1;
		memcpy(final, part, n);
		final[n] = '\0';
	}

	fd = openat(dirfd, part, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		goto failed;
	}
	if (fstat(fd, &a) < 0) {
		rc = -errno;
		goto failed;
	}
	if (!S_ISREG(a.st_mode)) {
		snprintf(why, why_len, "not a regular file");
		rc = -EINVAL;
		goto failed;
	}
	rc = lock_wait(fd, deadline_ns);
	if (rc == -EBUSY) {
		snprintf(why, why_len, "in use: a live writer still holds its lock");
		r->action = SL_SERIES_BUSY;
		r->size = (uint64_t)a.st_size;
		r->kept_bytes = (uint64_t)a.st_size;
		close(fd);
		return 1;
	}
	if (rc < 0)
		goto failed;
	/* Its writer may have finished and renamed it while we waited for the lock. */
	if (fstatat(dirfd, part, &b, AT_SYMLINK_NOFOLLOW) < 0 || b.st_ino != a.st_ino ||
	    b.st_dev != a.st_dev) {
		close(fd);
		return 0;
	}
	if (fstat(fd, &a) < 0) {
		rc = -errno;
		goto failed;
	}
	r->size = (uint64_t)a.st_size;
	if (a.st_size == 0) {
		snprintf(why, why_len, "empty file");
		goto remove;
	}
	map = mmap(NULL, (size_t)a.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		goto failed;
	}
	rc = sl_series_walk(map, (size_t)a.st_size, &w);
	snprintf(why, why_len, "%s", w.why);
	if (rc < 0) {
		bool zero = file_zero(fd, map, (size_t)a.st_size);

		munmap(map, (size_t)a.st_size);
		if (zero) {
			snprintf(why, why_len, "only zeros: no header reached the disk");
			goto remove;
		}
		/* Not something a capture writer leaves behind: keep it for a look. */
		snprintf(want, sizeof(want), "%s%s", final, SL_SERIES_CORRUPT_SUFFIX);
		rc = rename_free(dirfd, part, want, name, name_len, &r->renamed_aside);
		if (rc < 0)
			goto failed;
		*changed = true;
		r->action = SL_SERIES_CORRUPT;
		close(fd);
		return 1;
	}
	munmap(map, (size_t)a.st_size);
	if (w.records == 0) {
		r->action = SL_SERIES_REMOVED_NO_RECORD;
		goto remove_as;
	}
	if (w.kept < (uint64_t)a.st_size && ftruncate(fd, (off_t)w.kept) < 0) {
		rc = -errno;
		goto failed;
	}
	/* What the dead writer wrote may be in the page cache only, and the file's
	 * size and extents in the journal only: make the kept part durable before
	 * it gets its final name. */
	if (fsync(fd) < 0) {
		rc = -errno;
		goto failed;
	}
	rc = rename_free(dirfd, part, final, name, name_len, &r->renamed_aside);
	if (rc < 0)
		goto failed;
	*changed = true;
	r->action = SL_SERIES_RECOVERED;
	r->records = w.records;
	r->kept_bytes = w.kept;
	r->trimmed_bytes = (uint64_t)a.st_size - w.kept;
	close(fd);
	return 1;

remove:
	r->action = SL_SERIES_REMOVED_EMPTY;
remove_as:
	if (unlinkat(dirfd, part, 0) < 0) {
		rc = -errno;
		goto failed;
	}
	*changed = true;
	r->trimmed_bytes = r->size;
	close(fd);
	return 1;

failed:
	if (fd >= 0)
		close(fd);
	name[0] = '\0';
	if (why[0] == '\0')
		snprintf(why, why_len, "%s", strerror(-rc));
	r->action = SL_SERIES_FAILED;
	r->error = rc;
	r->records = 0;
	r->kept_bytes = r->size;
	r->trimmed_bytes = 0;
	return 1;
}

int
sl_series_recover(const char *dir, const char *prefix, uint32_t lock_wait_ms,
		  sl_series_recover_fn fn, void *arg)
{
	uint64_t deadline = sl_monotonic_ns() + (uint64_t)lock_wait_ms * 1000000ull;
	char **parts = NULL;
	size_t nb = 0;
	bool changed = false;
	int dirfd, rc, count = 0;

	if (prefix == NULL || !prefix_ok(prefix))
		return -EINVAL;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	rc = list_parts(dirfd, prefix, &parts, &nb);
	if (rc < 0) {
		close(dirfd);
		return rc;
	}
	for (size_t i = 0; i < nb; i++) {
		struct sl_series_recovery r;
		char name[SL_SERIES_NAME_MAX + 64], why[256];

		if (recover_one(dirfd, parts[i], deadline, &r, name, sizeof(name), why, sizeof(why),
				&changed) == 0)
			continue;
		count++;
		if (fn != NULL)
			fn(arg, &r);
	}
	/* Renames and removals are durable once the directory is. */
	if (changed && fsync(dirfd) < 0)
		rc = -errno;
	for (size_t i = 0; i < nb; i++)
		free(parts[i]);
	free(parts);
	close(dirfd);
	return rc < 0 ? rc : count;
}
