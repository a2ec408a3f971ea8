/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sl_safepath.h"

#define RESOLVE_STRICT (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
/* openat2 with RESOLVE_BENEATH fails with EAGAIN when a rename or mount races the lookup. */
#define OPENAT2_RETRIES 16

static bool fallback_forced;

void
sl_safepath_force_fallback(bool on)
{
	fallback_forced = on;
}

static int
refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/*
 * Decode one UTF-8 sequence at s (len bytes available). Returns its length, or
 * 0 if it is invalid: a stray continuation byte, an overlong form, a
 * surrogate, a code point above U+10FFFF or a sequence cut short.
 */
static size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n, k;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xc2) /* Continuation byte, or 0xc0/0xc1 which only start overlongs. */
		return 0;
	if (c < 0xe0) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c < 0xf0) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c < 0xf5) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[k] & 0x3f);
	}
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return n;
}

static bool
is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

int
sl_safepath_check(const char *name, size_t len, char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i = 0, start = 0, clen, n;
	unsigned depth = 0;
	uint32_t cp;

	if (len == 0)
		return refuse(err, errlen, "empty name");
	if (name == NULL)
		return refuse(err, errlen, "null name");
	if (len > SL_SAFEPATH_NAME_MAX)
		return refuse(err, errlen, "name longer than %d bytes", SL_SAFEPATH_NAME_MAX);
	if (s[0] == '/')
		return refuse(err, errlen, "absolute path");

	for (;;) {
		if (i == len || s[i] == '/') {
			clen = i - start;
			if (clen == 0)
				return refuse(err, errlen, "empty component at byte %zu", i);
			if (++depth > SL_SAFEPATH_DEPTH_MAX)
				return refuse(err, errlen, "more than %d components",
					      SL_SAFEPATH_DEPTH_MAX);
			if (clen > SL_SAFEPATH_COMPONENT_MAX)
				return refuse(err, errlen, "component longer than %d bytes",
					      SL_SAFEPATH_COMPONENT_MAX);
			if (clen == 1 && s[start] == '.')
				return refuse(err, errlen, "'.' component");
			if (clen == 2 && s[start] == '.' && s[start + 1] == '.')
				return refuse(err, errlen, "'..' component");
			if (depth == 1 && clen == strlen(SL_SAFEPATH_RESERVED) &&
			    memcmp(s + start, SL_SAFEPATH_RESERVED, clen) == 0)
				return refuse(err, errlen, "reserved name '%s'",
					      SL_SAFEPATH_RESERVED);
			if (i == len)
				return 0;
			start = ++i;
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		if (n == 0)
			return refuse(err, errlen, "invalid UTF-8 at byte %zu", i);
		if (is_control(cp))
			return refuse(err, errlen, "control character at byte %zu", i);
		i += n;
	}
}

static int
openat2_strict(int dirfd, const char *name, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned)(flags | O_NOFOLLOW | O_CLOEXEC),
		.resolve = RESOLVE_STRICT,
	};
	long fd;
	int tries = 0;

	/* openat2 refuses a mode without O_CREAT or O_TMPFILE. */
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		how.mode = mode;
	do
		fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN && ++tries < OPENAT2_RETRIES);
	return fd < 0 ? -errno : (int)fd;
}

/*
 * Open one directory component beneath cur, following no symlink. With
 * O_DIRECTORY a symlink fails with ENOTDIR (even through openat2, since
 * O_PATH | O_NOFOLLOW would otherwise open the link itself); report it as
 * ELOOP like a symlink met in the middle of an openat2 lookup.
 */
static int
open_dir_step(int cur, const char *comp, bool walk)
{
	struct stat st;
	int fd = -ENOSYS;

	if (!walk && !fallback_forced)
		fd = openat2_strict(cur, comp, O_PATH | O_DIRECTORY, 0);
	if (fd == -ENOSYS) {
		fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	}
	if (fd == -ENOTDIR && fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		fd = -ELOOP;
	return fd;
}

/*
 * Walk every component of path but the last, beneath dirfd, creating missing
 * directories if asked. path is a writable copy: separators are overwritten.
 * On success *parent is the last directory reached (dirfd itself or a new fd
 * the caller closes) and *last points at the final component.
 */
static int
walk_parents(int dirfd, char *path, bool create, int *parent, char **last)
{
	char *p = path, *slash;
	int cur = dirfd, next, ret;

	if (*p == '/')
		return -EXDEV;
	for (;;) {
		slash = strchr(p, '/');
		if (*p == '\0' || slash == p) {
			ret = -EINVAL;
			goto fail;
		}
		if (slash == NULL)
			break;
		*slash = '\0';
		if (strcmp(p, "..") == 0) {
			ret = -EXDEV;
			goto fail;
		}
		if (create && mkdirat(cur, p, 0755) < 0 && errno != EEXIST) {
			ret = -errno;
			goto fail;
		}
		next = open_dir_step(cur, p, !create);
		if (next < 0) {
			ret = next;
			goto fail;
		}
		if (cur != dirfd)
			close(cur);
		cur = next;
		p = slash + 1;
	}
	*parent = cur;
	*last = p;
	return 0;
fail:
	if (cur != dirfd)
		close(cur);
	return ret;
}

static int
copy_name(char *buf, const char *name)
{
	size_t len;

	if (name == NULL)
		return -EINVAL;
	len = strnlen(name, SL_SAFEPATH_NAME_MAX + 1);
	if (len > SL_SAFEPATH_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, name, len + 1);
	return 0;
}

static int
openat_walk(int dirfd, const char *name, int flags, mode_t mode)
{
	char path[SL_SAFEPATH_NAME_MAX + 1];
	char *last;
	int parent, fd, ret;

	ret = copy_name(path, name);
	if (ret < 0)
		return ret;
	ret = walk_parents(dirfd, path, false, &parent, &last);
	if (ret < 0)
		return ret;
	if (strcmp(last, "..") == 0) {
		fd = -EXDEV;
	} else {
		fd = openat(parent, last, flags | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0)
			fd = -errno;
	}
	if (parent != dirfd)
		close(parent);
	return fd;
}

int
sl_safepath_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	int fd;

	if (name == NULL)
		return -EINVAL;
	if (!fallback_forced) {
		fd = openat2_strict(dirfd, name, flags, mode);
		if (fd != -ENOSYS)
			return fd;
	}
	return openat_walk(dirfd, name, flags, mode);
}

int
sl_safepath_mkdirs(int dirfd, const char *name)
{
	char path[SL_SAFEPATH_NAME_MAX + 1];
	char *last;
	int parent, ret;

	ret = copy_name(path, name);
	if (ret < 0)
		return ret;
	ret = walk_parents(dirfd, path, true, &parent, &last);
	if (ret < 0)
		return ret;
	if (parent != dirfd)
		close(parent);
	return 0;
}
