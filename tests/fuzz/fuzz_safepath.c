/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/safepath: sl_safepath_check() of any sender-supplied name, then the
 * names it accepts created for real beneath a scratch directory with
 * sl_safepath_mkdirs() and sl_safepath_openat(), through openat2 and through
 * the component walk that replaces it on old kernels; and any name at all
 * opened read-only through both.
 *
 * Invariants: the check agrees with an independent implementation of the
 * rules of docs/protocol.md (well-formed UTF-8 per Unicode table 3-7, no C0,
 * DEL or C1 control, no empty, '.' or '..' component, so nothing absolute, at
 * most 4095 bytes, 255 per component and 64 components, not '.sluice' at the
 * top), writes its reason within errlen, NUL-terminated; every descriptor
 * the open calls return is what a strict walk beneath the scratch directory
 * finds, whose symlinks ("up" to its parent, "abs" to an absolute path) are
 * never followed; the directory beside it stays empty, and the scratch
 * directory holds nothing but what the accepted name made.
 *
 * The input is the name, without a NUL.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "sl_safepath.h"

static char base[PATH_MAX];
static char root[PATH_MAX];
static char outside[PATH_MAX];
static int rootfd = -1;
static const char *const fixtures[] = { "up", "abs", "file", "dir" };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[PATH_MAX + 16];

	fuzz_scratch_dir("safepath", base);
	snprintf(path, sizeof(path), "%s/root", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	if (mkdir(path, 0755) != 0 || mkdir(outside, 0755) != 0 || realpath(path, root) == NULL)
		abort();
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || symlinkat("../outside", rootfd, "up") != 0 ||
	    symlinkat(outside, rootfd, "abs") != 0 || mkdirat(rootfd, "dir", 0755) != 0)
		abort();
	close(openat(rootfd, "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	return 0;
}

/* Unicode 15, table 3-7: the well-formed UTF-8 byte sequences. */
static size_t
utf8_len(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint8_t b = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (b <= 0x7f) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf)
		len = 2;
	else if (b >= 0xe0 && b <= 0xef)
		len = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		len = 4;
	else
		return 0;
	if (b == 0xe0)
		lo = 0xa0;
	else if (b == 0xed)
		hi = 0x9f;
	else if (b == 0xf0)
		lo = 0x90;
	else if (b == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	*cp = len == 2 ? (uint32_t)(b & 0x1f) << 6 | (s[1] & 0x3f) : 0x800;
	return len;
}

static bool
name_ok(const uint8_t *s, size_t len)
{
	size_t i = 0, start = 0, depth = 0;

	if (len == 0 || len > 4095)
		return false;
	while (i <= len) {
		if (i == len || s[i] == '/') {
			size_t clen = i - start;

			if (clen == 0 || clen > 255 || ++depth > 64)
				return false;
			if ((clen == 1 && s[start] == '.') ||
			    (clen == 2 && s[start] == '.' && s[start + 1] == '.'))
				return false;
			if (depth == 1 && clen == 7 && memcmp(s + start, ".sluice", 7) == 0)
				return false;
			start = ++i;
			continue;
		}
		uint32_t cp;
		size_t n = utf8_len(s + i, len - i, &cp);

		if (n == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			return false;
		i += n;
	}
	return true;
}

/*
 * Resolves @p name beneath the scratch directory as the rules say it must be:
 * component by component, never through a symlink and never above the
 * directory; returns an O_PATH descriptor of what it names, or -1.
 */
static int
strict_walk(const char *name)
{
	char comp[NAME_MAX + 1];
	int cur = dup(rootfd), next;
	unsigned depth = 0;
	struct stat st;

	while (cur >= 0 && *name != '\0') {
		size_t len = strcspn(name, "/");

		if (len > NAME_MAX) {
			close(cur);
			return -1;
		}
		memcpy(comp, name, len);
		comp[len] = '\0';
		name += len;
		while (*name == '/')
			name++;
		if (len == 0 || strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0 && depth == 0) {
			close(cur);
			return -1;
		}
		next = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		close(cur);
		cur = next;
		if (cur < 0 || fstat(cur, &st) != 0 || S_ISLNK(st.st_mode) ||
		    (*name != '\0' && !S_ISDIR(st.st_mode))) {
			if (cur >= 0)
				close(cur);
			return -1;
		}
		depth = strcmp(comp, "..") == 0 ? depth - 1 : depth + 1;
	}
	return cur;
}

/* The descriptor the library opened for @p name is what the strict walk finds;
 * where /proc can spell its path, that is beneath the scratch directory. */
static void
check_beneath(int fd, const char *name)
{
	char link[64], target[PATH_MAX + 1];
	size_t rlen = strlen(root);
	struct stat a, b;
	int walked;
	ssize_t n;

	walked = strict_walk(name);
	if (walked < 0) {
		fprintf(stderr, "opened '%s', which no strict walk beneath %s reaches\n", name,
			root);
		FUZZ_ASSERT(false);
	}
	FUZZ_ASSERT(fstat(fd, &a) == 0 && fstat(walked, &b) == 0);
	FUZZ_ASSERT(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	close(walked);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0 && errno == ENAMETOOLONG)
		return;
	FUZZ_ASSERT(n > 0);
	target[n] = '\0';
	if (strncmp(target, root, rlen) != 0 || (target[rlen] != '\0' && target[rlen] != '/')) {
		fprintf(stderr, "opened %s, outside %s\n", target, root);
		FUZZ_ASSERT(false);
	}
}

static bool
is_fixture(const char *name)
{
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		if (strcmp(name, fixtures[i]) == 0)
			return true;
	return false;
}

/*
 * Removes what creating the accepted name @p cname made: the name, then each
 * of its parents, deepest first (the fixtures stay). A checked name has no
 * "." or "..", so its prefixes are exactly the directories made.
 */
static void
remove_created(char *cname)
{
	char *slash;

	if (!is_fixture(cname))
		unlinkat(rootfd, cname, 0);
	while ((slash = strrchr(cname, '/')) != NULL) {
		*slash = '\0';
		if (!is_fixture(cname) && unlinkat(rootfd, cname, AT_REMOVEDIR) != 0 &&
		    errno != ENOENT && errno != ENOTDIR)
			fprintf(stderr, "fuzz_safepath: cannot remove %s: %s\n", cname,
				strerror(errno));
	}
}

/* Directory @p path holds nothing but the names @p allowed says it may. */
static void
check_only(const char *path, bool (*allowed)(const char *))
{
	DIR *d = opendir(path);
	struct dirent *e;

	FUZZ_ASSERT(d != NULL);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    allowed(e->d_name))
			continue;
		fprintf(stderr, "%s/%s was left behind\n", path, e->d_name);
		FUZZ_ASSERT(false);
	}
	closedir(d);
}

static bool
nothing(const char *name)
{
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *name = (const char *)data;
	char *err, *cname, *copy, dirpath[PATH_MAX + 8];
	size_t errlen;
	bool ok;
	int rc, fd;

	if (size > 8192)
		return -1;
	ok = name_ok(data, size);

	/* The reason fits any buffer: exact-size blocks let ASan see an overflow. */
	rc = sl_safepath_check(name, size, NULL, 0);
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	if ((rc == 0) != ok) {
		fprintf(stderr, "sl_safepath_check says %d, the rules say %s\n", rc,
			ok ? "accept" : "refuse");
		FUZZ_ASSERT(false);
	}
	for (errlen = 1; errlen <= 64; errlen *= 8) {
		err = malloc(errlen);
		FUZZ_ASSERT(err != NULL);
		memset(err, 'x', errlen);
		FUZZ_ASSERT(sl_safepath_check(name, size, err, errlen) == rc);
		if (rc != 0)
			FUZZ_ASSERT(memchr(err, '\0', errlen) != NULL);
		free(err);
	}
	if (rc == 0) {
		FUZZ_ASSERT(data[0] != '/' && memchr(data, '\0', size) == NULL);
		for (size_t i = 0; i < size; i++)
			FUZZ_ASSERT(data[i] >= 0x20 && data[i] != 0x7f);
	}

	/* The name as a C string: as checked, or cut at its first NUL. */
	cname = malloc(size + 1);
	copy = malloc(size + 1);
	FUZZ_ASSERT(cname != NULL && copy != NULL);
	memcpy(cname, data, size);
	cname[size] = '\0';

	for (int fallback = 0; fallback < 2; fallback++) {
		sl_safepath_force_fallback(fallback);
		fd = sl_safepath_openat(rootfd, cname, O_RDONLY, 0);
		if (fd >= 0) {
			check_beneath(fd, cname);
			close(fd);
		}
		if (rc != 0)
			continue;
		if (sl_safepath_mkdirs(rootfd, cname) == 0) {
			fd = sl_safepath_openat(rootfd, cname, O_WRONLY | O_CREAT, 0600);
			if (fd >= 0) {
				check_beneath(fd, cname);
				close(fd);
			}
		}
		/* On a copy: the name is needed again for the next mode. */
		memcpy(copy, cname, size + 1);
		remove_created(copy);
	}
	sl_safepath_force_fallback(false);
	/* Nothing escaped, and nothing was made but what was removed again. */
	check_only(outside, nothing);
	check_only(root, is_fixture);
	snprintf(dirpath, sizeof(dirpath), "%s/dir", root);
	check_only(dirpath, nothing);
	free(copy);
	free(cname);
	return 0;
}
