/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "sl_safepath.h"

/* A string literal with its length, embedded NULs included. */
#define S(lit) lit, sizeof(lit) - 1

struct name_case {
	const char *name;
	size_t len;
	const char *err; /* NULL when the name is acceptable. */
};

static void
check_name(const char *name, size_t len, const char *want_err)
{
	char err[128] = "";
	int ret = sl_safepath_check(name, len, err, sizeof(err));

	if (want_err == NULL) {
		if (ret != 0)
			fail_msg("refused good name (len %zu): %s", len, err);
	} else {
		if (ret != -EINVAL)
			fail_msg("accepted bad name (len %zu), wanted \"%s\"", len, want_err);
		assert_string_equal(err, want_err);
	}
}

static void
test_check_table(void **state)
{
	static const struct name_case cases[] = {
		{ S("a"), NULL },
		{ S("dir/file.bin"), NULL },
		{ S("with space/ünïcødé.txt"), NULL },
		{ S("日本語/ファイル"), NULL },
		{ S("emoji \xf0\x9f\x98\x80.txt"), NULL },
		{ S("back\\slash"), NULL },
		{ S("...hidden/..x/x.."), NULL },
		{ S("sub/.sluice"), NULL },
		{ S(".sluicex"), NULL },
		{ S(""), "empty name" },
		{ S("/etc/passwd"), "absolute path" },
		{ S(".."), "'..' component" },
		{ S("../x"), "'..' component" },
		{ S("a/../b"), "'..' component" },
		{ S("a/.."), "'..' component" },
		{ S("."), "'.' component" },
		{ S("a/./b"), "'.' component" },
		{ S("a//b"), "empty component at byte 2" },
		{ S("a/"), "empty component at byte 2" },
		{ S("a\x01"
		    "b"),
		  "control character at byte 1" },
		{ S("a\x7f"
		    "b"),
		  "control character at byte 1" },
		{ S("abc/\n"), "control character at byte 4" },
		{ S("x\xc2\x85"), "control character at byte 1" },
		{ S("ab\0cd"), "control character at byte 2" },
		{ S("\xc0\xaf"), "invalid UTF-8 at byte 0" },
		{ S("ab/\xe0\x80\xaf"), "invalid UTF-8 at byte 3" },
		{ S("\xed\xa0\x80"), "invalid UTF-8 at byte 0" },
		{ S("a\xf4\x90\x80\x80"), "invalid UTF-8 at byte 1" },
		{ S("abc\xe6\x97"), "invalid UTF-8 at byte 3" },
		{ S("\x80"), "invalid UTF-8 at byte 0" },
		{ S("\xff"), "invalid UTF-8 at byte 0" },
		{ S(".sluice"), "reserved name '.sluice'" },
		{ S(".sluice/x"), "reserved name '.sluice'" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_name(cases[i].name, cases[i].len, cases[i].err);
}

static void
test_check_limits(void **state)
{
	char buf[SL_SAFEPATH_NAME_MAX + 16];
	size_t i, n;

	/* One component of 255 bytes, then 256. */
	memset(buf, 'x', 256);
	check_name(buf, 255, NULL);
	check_name(buf, 256, "component longer than 255 bytes");
	/* 255 bytes made of two-byte letters is still counted in bytes. */
	for (i = 0; i < 128; i++)
		memcpy(buf + 2 * i, "\xc3\xa9", 2);
	check_name(buf, 254, NULL);
	check_name(buf, 256, "component longer than 255 bytes");

	/* 64 components, then 65. */
	for (i = 0; i < 65; i++)
		memcpy(buf + 2 * i, "d/", 2);
	check_name(buf, 64 * 2 - 1, NULL);
	check_name(buf, 65 * 2 - 1, "more than 64 components");

	/* 16 components of 255 bytes make exactly 4095 bytes; one more is too long. */
	memset(buf, 'y', sizeof(buf));
	for (i = 1; i < 17; i++)
		buf[i * 256 - 1] = '/';
	n = 16 * 256 - 1;
	assert_int_equal(n, SL_SAFEPATH_NAME_MAX);
	check_name(buf, n, NULL);
	buf[n] = '/';
	buf[n + 1] = 'z';
	check_name(buf, n + 2, "name longer than 4095 bytes");

	/* Only len bytes count: what follows is not read. */
	check_name("abc/../x", 3, NULL);
	check_name("ab\xc3\xa9", 3, "invalid UTF-8 at byte 2");
}

static void
test_check_err_buffer(void **state)
{
	char err[6];

	assert_int_equal(sl_safepath_check(S(".."), NULL, 0), -EINVAL);
	assert_int_equal(sl_safepath_check(S("/x"), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "absol");
	assert_int_equal(sl_safepath_check(NULL, 3, err, sizeof(err)), -EINVAL);
	assert_int_equal(sl_safepath_check(S("ok"), NULL, 0), 0);
}

/*
 * Each filesystem test gets a fresh tree:
 *   root/dir       the directory handed to the module (dirfd)
 *   root/dir/sub   a sibling directory inside
 *   root/outside   a directory that must stay untouched
 */
struct tree {
	char root[PATH_MAX];
	char outside[PATH_MAX + 16];
	char tmp_name[64]; /* A file name that must never appear in /tmp. */
	int rootfd, dirfd, outfd;
	bool fallback;
};

static int
setup_tree(void **state, bool fallback)
{
	const char *base = getenv("SL_TEST_TMPDIR");
	struct tree *t = calloc(1, sizeof(*t));
	int fd;

	if (t == NULL)
		return -1;
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(t->root, sizeof(t->root), "%s/safepath.XXXXXX", base);
	if (mkdtemp(t->root) == NULL)
		return -1;
	snprintf(t->outside, sizeof(t->outside), "%s/outside", t->root);
	t->rootfd = open(t->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->rootfd < 0 || mkdirat(t->rootfd, "dir", 0755) < 0 ||
	    mkdirat(t->rootfd, "outside", 0755) < 0)
		return -1;
	t->dirfd = openat(t->rootfd, "dir", O_PATH | O_DIRECTORY | O_CLOEXEC);
	t->outfd = openat(t->rootfd, "outside", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0 || t->outfd < 0 || mkdirat(t->dirfd, "sub", 0755) < 0)
		return -1;
	/* A file outside that a symlink inside points at. */
	fd = openat(t->outfd, "target", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "keep", 4) != 4)
		return -1;
	close(fd);
	snprintf(t->tmp_name, sizeof(t->tmp_name), "sl_safepath_escape_%ld", (long)getpid());
	if (symlinkat(t->outside, t->dirfd, "lnk_out") < 0 ||
	    symlinkat("/tmp", t->dirfd, "lnk_tmp") < 0 ||
	    symlinkat("sub", t->dirfd, "lnk_sub") < 0 ||
	    symlinkat("../outside/target", t->dirfd, "lnk_file") < 0 ||
	    symlinkat("../outside/created", t->dirfd, "lnk_dangling") < 0)
		return -1;
	t->fallback = fallback;
	sl_safepath_force_fallback(fallback);
	*state = t;
	return 0;
}

static int
setup_openat2(void **state)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC };
	long fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof(how));
	bool missing = fd < 0 && errno == ENOSYS;

	if (fd >= 0)
		close((int)fd);
	/* Without openat2 (a kernel before 5.6, or valgrind 3.19, which does not
	 * know the syscall) the module walks the components itself, so the
	 * walk's results are the ones to expect. */
	return setup_tree(state, missing);
}

static int
setup_fallback(void **state)
{
	return setup_tree(state, true);
}

static int
teardown_tree(void **state)
{
	struct tree *t = *state;
	char cmd[PATH_MAX + 32];
	int ret;

	sl_safepath_force_fallback(false);
	close(t->dirfd);
	close(t->outfd);
	close(t->rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	ret = system(cmd);
	free(t);
	return ret == 0 ? 0 : -1;
}

static bool
exists_at(int fd, const char *name)
{
	struct stat st;

	return fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Nothing may appear outside dir: not in root, outside, or /tmp. */
static void
assert_nothing_escaped(const struct tree *t)
{
	char buf[16] = "";
	int fd, n;

	assert_false(exists_at(t->rootfd, "x"));
	assert_false(exists_at(t->rootfd, "abs"));
	assert_false(exists_at(t->outfd, "x"));
	assert_false(exists_at(t->outfd, "f"));
	assert_false(exists_at(t->outfd, "created"));
	assert_false(exists_at(AT_FDCWD, "/tmp/x"));
	assert_false(exists_at(t->dirfd, "sub/f"));
	assert_false(exists_at(t->dirfd, "sub/x"));
	{
		char p[128];

		snprintf(p, sizeof(p), "/tmp/%s", t->tmp_name);
		assert_false(exists_at(AT_FDCWD, p));
	}
	fd = openat(t->outfd, "target", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_int_equal(n, 4);
	assert_string_equal(buf, "keep");
}

static void
assert_refused_link(int ret)
{
	/* openat2 says ELOOP; the walk turns its ENOTDIR into ELOOP too. */
	if (ret != -ELOOP)
		fail_msg("expected -ELOOP, got %d (%s)", ret, strerror(-ret));
}

static void
test_openat_creates_beneath(void **state)
{
	struct tree *t = *state;
	struct stat st;
	int fd;

	fd = sl_safepath_openat(t->dirfd, "sub/new.bin", O_CREAT | O_EXCL | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	/* O_CLOEXEC was added. */
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	assert_int_equal(fstatat(t->dirfd, "sub/new.bin", &st, 0), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(st.st_mode & 0077, 0);
	assert_true(S_ISREG(st.st_mode));

	fd = sl_safepath_openat(t->dirfd, "top.txt", O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_true(exists_at(t->dirfd, "top.txt"));
	/* Existing file, no O_CREAT; missing file without O_CREAT. */
	fd = sl_safepath_openat(t->dirfd, "sub/new.bin", O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sl_safepath_openat(t->dirfd, "sub/none", O_RDONLY, 0), -ENOENT);
	assert_nothing_escaped(t);
}

static void
test_openat_refuses_escape(void **state)
{
	struct tree *t = *state;
	char abs[PATH_MAX + 8];

	/* The check refuses the name before it is ever opened... */
	check_name(S("../x"), "'..' component");
	/* ...and the open refuses it on its own. */
	assert_int_equal(sl_safepath_openat(t->dirfd, "../x", O_CREAT | O_WRONLY, 0644), -EXDEV);
	assert_int_equal(sl_safepath_openat(t->dirfd, "sub/../../x", O_CREAT | O_WRONLY, 0644),
			 -EXDEV);
	assert_int_equal(sl_safepath_openat(t->dirfd, "..", O_RDONLY | O_DIRECTORY, 0), -EXDEV);
	snprintf(abs, sizeof(abs), "%s/abs", t->root);
	assert_int_equal(sl_safepath_openat(t->dirfd, abs, O_CREAT | O_WRONLY, 0644), -EXDEV);
	assert_nothing_escaped(t);
}

static void
test_openat_dotdot_inside(void **state)
{
	struct tree *t = *state;
	int fd;

	/*
	 * openat2 allows ".." that stays beneath; the walk refuses every "..".
	 * This difference also proves the fallback switch really switches.
	 */
	fd = sl_safepath_openat(t->dirfd, "sub/../in.txt", O_CREAT | O_WRONLY, 0644);
	if (t->fallback) {
		assert_int_equal(fd, -EXDEV);
		assert_false(exists_at(t->dirfd, "in.txt"));
	} else {
		assert_true(fd >= 0);
		close(fd);
		assert_true(exists_at(t->dirfd, "in.txt"));
	}
	assert_nothing_escaped(t);
}

static void
test_openat_refuses_symlinked_dir(void **state)
{
	struct tree *t = *state;
	char name[128];

	assert_refused_link(sl_safepath_openat(t->dirfd, "lnk_out/f", O_CREAT | O_WRONLY, 0644));
	assert_refused_link(sl_safepath_openat(t->dirfd, "lnk_out/target", O_WRONLY | O_TRUNC, 0));
	snprintf(name, sizeof(name), "lnk_tmp/%s", t->tmp_name);
	assert_refused_link(sl_safepath_openat(t->dirfd, name, O_CREAT | O_WRONLY, 0644));
	/* Even a symlink to a directory inside is refused. */
	assert_refused_link(sl_safepath_openat(t->dirfd, "lnk_sub/f", O_CREAT | O_WRONLY, 0644));
	/* The walk stops at the ".."; openat2 gets past it and stops at the link. */
	assert_int_equal(sl_safepath_openat(t->dirfd, "sub/../lnk_sub/f", O_CREAT | O_WRONLY, 0644),
			 t->fallback ? -EXDEV : -ELOOP);
	assert_nothing_escaped(t);
}

static void
test_openat_refuses_final_symlink(void **state)
{
	struct tree *t = *state;

	assert_refused_link(sl_safepath_openat(t->dirfd, "lnk_file", O_WRONLY | O_TRUNC, 0));
	assert_refused_link(sl_safepath_openat(t->dirfd, "lnk_file", O_RDONLY, 0));
	/* The classic attack: O_CREAT through a dangling symlink. */
	assert_refused_link(sl_safepath_openat(t->dirfd, "lnk_dangling", O_CREAT | O_WRONLY, 0644));
	/* O_NOFOLLOW | O_DIRECTORY on a symlink: the kernel says ENOTDIR. */
	assert_int_equal(sl_safepath_openat(t->dirfd, "lnk_sub", O_RDONLY | O_DIRECTORY, 0),
			 -ENOTDIR);
	/* With O_EXCL an existing symlink is simply an existing name. */
	assert_int_equal(
		sl_safepath_openat(t->dirfd, "lnk_dangling", O_CREAT | O_EXCL | O_WRONLY, 0644),
		-EEXIST);
	assert_nothing_escaped(t);
}

static void
test_mkdirs_creates_parents(void **state)
{
	struct tree *t = *state;
	struct stat st;
	int fd;

	assert_int_equal(sl_safepath_mkdirs(t->dirfd, "a/b/c/file.bin"), 0);
	assert_int_equal(fstatat(t->dirfd, "a/b/c", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Only the parents: the last component is left for the open. */
	assert_false(exists_at(t->dirfd, "a/b/c/file.bin"));
	/* Existing parents are fine. */
	assert_int_equal(sl_safepath_mkdirs(t->dirfd, "a/b/c/file.bin"), 0);
	assert_int_equal(sl_safepath_mkdirs(t->dirfd, "a/b/d/e"), 0);
	assert_int_equal(sl_safepath_mkdirs(t->dirfd, "single"), 0);
	assert_false(exists_at(t->dirfd, "single"));
	fd = sl_safepath_openat(t->dirfd, "a/b/c/file.bin", O_CREAT | O_EXCL | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_true(exists_at(t->dirfd, "a/b/d"));
	assert_nothing_escaped(t);
}

static void
test_mkdirs_refuses(void **state)
{
	struct tree *t = *state;
	char name[128];
	int fd;

	assert_refused_link(sl_safepath_mkdirs(t->dirfd, "lnk_out/x/f"));
	assert_refused_link(sl_safepath_mkdirs(t->dirfd, "lnk_sub/x/f"));
	snprintf(name, sizeof(name), "lnk_tmp/%s/f", t->tmp_name);
	assert_refused_link(sl_safepath_mkdirs(t->dirfd, name));
	/* A symlink deeper down, after directories were created. */
	assert_int_equal(symlinkat(t->outside, t->dirfd, "sub/deep"), 0);
	assert_refused_link(sl_safepath_mkdirs(t->dirfd, "sub/deep/x/f"));
	assert_int_equal(sl_safepath_mkdirs(t->dirfd, "../x/f"), -EXDEV);
	assert_int_equal(sl_safepath_mkdirs(t->dirfd, "sub/../../x/f"), -EXDEV);
	assert_int_equal(sl_safepath_mkdirs(t->dirfd, "/tmp/x/f"), -EXDEV);
	assert_int_equal(sl_safepath_mkdirs(t->dirfd, "a//b"), -EINVAL);
	assert_int_equal(sl_safepath_mkdirs(t->dirfd, ""), -EINVAL);
	/* A regular file in the way. */
	fd = openat(t->dirfd, "plain", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sl_safepath_mkdirs(t->dirfd, "plain/x/f"), -ENOTDIR);
	assert_false(exists_at(t->dirfd, "x"));
	assert_nothing_escaped(t);
}

/* Not the module: the kernel itself must refuse an escape given to openat2. */
static void
test_kernel_openat2_refuses_escape(void **state)
{
	struct tree *t = *state;
	struct open_how how = {
		.flags = O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
		.mode = 0644,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, t->dirfd, "../x", &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		skip();
	assert_int_equal(fd, -1);
	assert_int_equal(errno, EXDEV);
	assert_nothing_escaped(t);
}

/* Each filesystem test runs once through openat2 and once through the walk. */
#define BOTH(f)                                                                                    \
	{ "openat2:" #f, f, setup_openat2, teardown_tree, NULL },                                  \
	{                                                                                          \
		"fallback:" #f, f, setup_fallback, teardown_tree, NULL                             \
	}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_table),
		cmocka_unit_test(test_check_limits),
		cmocka_unit_test(test_check_err_buffer),
		cmocka_unit_test_setup_teardown(test_kernel_openat2_refuses_escape, setup_openat2,
						teardown_tree),
		BOTH(test_openat_creates_beneath),
		BOTH(test_openat_refuses_escape),
		BOTH(test_openat_dotdot_inside),
		BOTH(test_openat_refuses_symlinked_dir),
		BOTH(test_openat_refuses_final_symlink),
		BOTH(test_mkdirs_creates_parents),
		BOTH(test_mkdirs_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
