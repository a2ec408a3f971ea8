/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_SAFEPATH_H
#define SL_SAFEPATH_H

/**
 * @file
 * Names of received files: which sender-supplied relative names are
 * acceptable, and how to open or create them strictly beneath the output
 * directory.
 *
 * Senders are untrusted. A name is first checked with sl_safepath_check();
 * then sl_safepath_mkdirs() and sl_safepath_openat() resolve it beneath a
 * directory fd without following any symlink, so that neither a hostile name
 * nor a symlink planted in the directory can make sluice write elsewhere.
 *
 * Everything here is free of EAL state and safe to call from any thread. The
 * open and mkdir calls are syscalls: call them from a control or writer lcore,
 * never from an RX loop.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/** Longest accepted name in bytes, without a terminating NUL (PATH_MAX - 1). */
#define SL_SAFEPATH_NAME_MAX 4095
/** Longest accepted component in bytes (NAME_MAX). */
#define SL_SAFEPATH_COMPONENT_MAX 255
/** Most components a name may have. */
#define SL_SAFEPATH_DEPTH_MAX 64
/** Top-level name reserved for sluice's own staging area beneath --dir. */
#define SL_SAFEPATH_RESERVED ".sluice"

/**
 * Decide whether a sender-supplied name is acceptable.
 *
 * The name is exactly @p len bytes and need not be NUL-terminated. It must be
 * valid UTF-8 (no overlong forms, surrogates, code points above U+10FFFF or
 * truncated sequences), non-empty, relative, made of components separated by
 * single '/' with no empty, "." or ".." component, free of control
 * characters (U+0000-U+001F, U+007F, U+0080-U+009F; so an embedded NUL is
 * refused), at most SL_SAFEPATH_NAME_MAX bytes with components of at most
 * SL_SAFEPATH_COMPONENT_MAX bytes and at most SL_SAFEPATH_DEPTH_MAX
 * components, and must not start with the component SL_SAFEPATH_RESERVED.
 * Spaces, non-ASCII letters and backslashes are accepted: to Linux a
 * backslash is an ordinary character, not a separator.
 *
 * Because an accepted name has no NUL, copying its @p len bytes and adding a
 * NUL gives the C string to pass to sl_safepath_mkdirs() and
 * sl_safepath_openat().
 *
 * @param err
 *   Receives a short reason when the name is refused, e.g. "'..' component"
 *   or "invalid UTF-8 at byte 3" (byte offsets count from 0). May be NULL.
 * @return 0 if acceptable, -EINVAL otherwise.
 */
int sl_safepath_check(const char *name, size_t len, char *err, size_t errlen);

/**
 * Open @p name strictly beneath @p dirfd, following no symlink.
 *
 * Uses openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS and adds O_NOFOLLOW | O_CLOEXEC to @p flags; a
 * symlink anywhere in the name, the final component included, is refused. If
 * the kernel lacks openat2, walks the components one by one with
 * openat(O_NOFOLLOW | O_DIRECTORY), which is as strict and also refuses every
 * ".." component, even one that would stay beneath @p dirfd.
 *
 * @p name should have passed sl_safepath_check(); containment does not rely
 * on it, but the naming policy (reserved names, control characters) does.
 * @p mode is used only with O_CREAT or O_TMPFILE.
 *
 * @return a file descriptor, or -errno: -EXDEV for a name that escapes
 *   @p dirfd (absolute, ".."), -ELOOP for a symlink in the way (-ENOTDIR
 *   when the final component is a symlink and @p flags has O_DIRECTORY),
 *   -EEXIST for any existing name with O_CREAT | O_EXCL, -EINVAL for an
 *   empty component in the fallback walk, or whatever open reports.
 */
int sl_safepath_openat(int dirfd, const char *name, int flags, mode_t mode);

/**
 * Create the missing parent directories of @p name (not its last component)
 * beneath @p dirfd, with mode 0755 (less the umask).
 *
 * Each step is a mkdirat() followed by an open of that one component under
 * the same rules as sl_safepath_openat(), so an existing symlink is never
 * followed. Directories that already exist are fine, so concurrent callers
 * creating the same parents do not fail.
 *
 * @return 0, or -errno: -ELOOP for a symlink in the way, -ENOTDIR for a
 *   non-directory in the way, -EXDEV for an absolute name or a ".." component,
 *   -EINVAL for an empty name or empty component, -ENAMETOOLONG beyond
 *   SL_SAFEPATH_NAME_MAX, or whatever mkdirat/open report.
 */
int sl_safepath_mkdirs(int dirfd, const char *name);

/**
 * For tests only: make sl_safepath_openat() and sl_safepath_mkdirs() use the
 * component walk as if the kernel lacked openat2. Not thread-safe; set it
 * before any other call.
 */
void sl_safepath_force_fallback(bool on);

#endif /* SL_SAFEPATH_H */
