/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_sender.h"

/* Deeper trees are skipped: the protocol allows 64 components, and recursion must stay bounded. */
#define WALK_MAX_DEPTH 128

static void
warnf(sl_sender_warn_fn *warn, void *arg, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn(arg, msg);
}

static int
list_push(struct sl_sender_list *l, const char *source, const char *name, uint64_t size,
	  bool nofollow, enum sl_sender_status status)
{
	struct sl_sender_file *f;

	if (l->count == l->cap) {
		unsigned cap = l->cap ? l->cap * 2 : 16;
		struct sl_sender_file *n = realloc(l->files, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		l->files = n;
		l->cap = cap;
	}
	f = &l->files[l->count];
	memset(f, 0, sizeof(*f));
	f->source = strdup(source);
	f->name = strdup(name);
	if (f->source == NULL || f->name == NULL) {
		free(f->source);
		free(f->name);
		return -ENOMEM;
	}
	f->size = size;
	f->nofollow = nofollow;
	f->status = status;
	l->count++;
	return 0;
}

static char *
join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 2);

	if (p == NULL)
		return NULL;
	memcpy(p, a, la);
	/* "dir/" + "x" must not become "dir//x". */
	if (la > 0 && a[la - 1] != '/')
		p[la++] = '/';
	memcpy(p + la, b, lb + 1);
	return p;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct sl_sender_list *l, const char *path, const char *remote, unsigned depth,
		    sl_sender_warn_fn *warn, void *arg);

static int
walk_entry(struct sl_sender_list *l, int dfd, const char *path, const char *name,
	   const char *remote, unsigned depth, sl_sender_warn_fn *warn, void *arg)
{
	char *child = join(path, name), *child_remote = join(remote, name);
	struct stat st;
	int ret = 0;

	if (child == NULL || child_remote == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		warnf(warn, arg, "%s: %s", child, strerror(errno));
		ret = list_push(l, child, child_remote, 0, true, SL_SENDER_UNREADABLE);
	} else if (S_ISREG(st.st_mode)) {
		ret = list_push(l, child, child_remote, (uint64_t)st.st_size, true,
				SL_SENDER_PENDING);
	} else if (S_ISDIR(st.st_mode)) {
		ret = walk_dir(l, child, child_remote, depth + 1, warn, arg);
	} else {
		warnf(warn, arg, "%s: skipped (%s)", child,
		      S_ISLNK(st.st_mode) ? "symbolic link" : "not a regular file");
		l->skipped++;
	}
out:
	free(child);
	free(child_remote);
	return ret;
}

static int
walk_dir(struct sl_sender_list *l, const char *path, const char *remote, unsigned depth,
	 sl_sender_warn_fn *warn, void *arg)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;

	if (depth > WALK_MAX_DEPTH) {
		warnf(warn, arg, "%s: skipped (deeper than %u directories)", path, WALK_MAX_DEPTH);
		l->skipped++;
		return 0;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		warnf(warn, arg, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return list_push(l, path, remote, 0, true, SL_SENDER_UNREADABLE);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **nn = realloc(names, ncap * sizeof(*nn));

			if (nn == NULL) {
				ret = -ENOMEM;
				goto out;
			}
			names = nn;
			cap = ncap;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			ret = -ENOMEM;
			goto out;
		}
		n++;
	}
	/* Sorted, so that runs (and resumes) send the same files in the same order. */
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = walk_entry(l, dirfd(d), path, names[i], remote, depth, warn, arg);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

/* The basename scp would use: trailing slashes dropped; ".", ".." and "/" resolved first. */
static char *
source_basename(const char *src)
{
	size_t len = strlen(src);
	const char *b;
	char *copy, *res = NULL;

	while (len > 1 && src[len - 1] == '/')
		len--;
	copy = strndup(src, len);
	if (copy == NULL)
		return NULL;
	b = strrchr(copy, '/');
	b = b != NULL ? b + 1 : copy;
	if (*b == '\0' || strcmp(b, ".") == 0 || strcmp(b, "..") == 0) {
		char *real = realpath(copy, NULL);

		if (real != NULL) {
			const char *rb = strrchr(real, '/');

			res = strdup(rb != NULL && rb[1] != '\0' ? rb + 1 : real);
			free(real);
		}
	} else {
		res = strdup(b);
	}
	free(copy);
	return res;
}

int
sl_sender_list_build(struct sl_sender_list *l, char *const *sources, unsigned n, const char *rename,
		     sl_sender_warn_fn *warn, void *arg)
{
	int ret = 0;

	if (rename != NULL && n != 1)
		return -EINVAL;
	for (unsigned i = 0; i < n && ret == 0; i++) {
		char *base = rename != NULL ? strdup(rename) : source_basename(sources[i]);
		struct stat st;

		if (base == NULL) {
			/* "/" or an unresolvable "..": no name to give it. */
			warnf(warn, arg, "%s: %s", sources[i], "cannot name this source");
			ret = list_push(l, sources[i], sources[i], 0, false, SL_SENDER_UNREADABLE);
			continue;
		}
		/* Like scp, a symbolic link named on the command line is followed. */
		if (stat(sources[i], &st) != 0) {
			warnf(warn, arg, "%s: %s", sources[i], strerror(errno));
			ret = list_push(l, sources[i], base, 0, false, SL_SENDER_UNREADABLE);
		} else if (S_ISDIR(st.st_mode)) {
			ret = walk_dir(l, sources[i], base, 0, warn, arg);
		} else if (S_ISREG(st.st_mode)) {
			ret = list_push(l, sources[i], base, (uint64_t)st.st_size, false,
					SL_SENDER_PENDING);
		} else {
			warnf(warn, arg, "%s: not a regular file or directory", sources[i]);
			ret = list_push(l, sources[i], base, 0, false, SL_SENDER_UNREADABLE);
		}
		free(base);
	}
	return ret;
}

void
sl_sender_list_free(struct sl_sender_list *l)
{
	for (unsigned i = 0; i < l->count; i++) {
		free(l->files[i].source);
		free(l->files[i].name);
	}
	free(l->files);
	memset(l, 0, sizeof(*l));
}

int
sl_sender_digest_fd(int fd, uint64_t size, uint32_t chunk_size, uint8_t *buf, uint32_t *crcs,
		    uint8_t sha[SL_PROTO_SHA256_SIZE])
{
	uint32_t nchunks = sl_proto_chunk_count(size, chunk_size);
	struct sl_sha256 ctx;
	int ret;

	if (chunk_size == 0)
		return -EINVAL;
	ret = sl_sha256_init(&ctx);
	if (ret != 0)
		return ret;
	for (uint32_t c = 0; c < nchunks; c++) {
		uint64_t off = (uint64_t)c * chunk_size;
		size_t want = size - off < chunk_size ? (size_t)(size - off) : chunk_size;
		size_t got = 0;

		while (got < want) {
			ssize_t r = pread(fd, buf + got, want - got, (off_t)(off + got));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				ret = r < 0 ? -errno : -EIO;
				sl_sha256_final(&ctx, NULL);
				return ret;
			}
			got += (size_t)r;
		}
		crcs[c] = sl_proto_crc32c(buf, want);
		sl_sha256_update(&ctx, buf, want);
	}
	sl_sha256_final(&ctx, sha);
	return 0;
}
