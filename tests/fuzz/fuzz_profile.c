/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/profile: sl_profile_load() of any INI text (its own shape check, then
 * DPDK's rte_cfgfile, then the keys and values), the EAL argument rewriting
 * of sl_profile_eal_args(), and sl_profile_config_parse() with the profile
 * between the defaults and the command line.
 *
 * The input is the profile's text, optionally followed by a line "%%" and a
 * command line: EAL arguments, "--" and sluice's options, separated by NUL
 * bytes. The text is handed to the loader as a file (a memfd, through
 * /proc/self/fd), and the command line gets the profile with --profile.
 *
 * Invariants: a profile that loads has its driver(s) and bus, values in their
 * ranges, rss_hash only with rss on, a devargs string that parses as
 * key=value items without spaces and is the file's value whole (as
 * rte_cfgfile reads it: never cut short); one that fails says why and leaves the
 * struct zeroed; sl_profile_describe() and sl_profile_rss_names() write within
 * any buffer, NUL-terminated; the drivers match themselves and their vdevs.
 * The EAL rewrite leaves argv[0], everything after "--" and every argument it
 * does not change untouched, changes no more arguments than it counts
 * devices, only appends (",key=value" items the argument lacks) to the one it
 * changes, gives every key of the profile to each changed device, and run on
 * its own output changes nothing more.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_log.h>

#include "fuzz.h"
#include "sl_profile.h"

#define MAX_ARGS 64
#define ALL_BITS ((SL_PROFILE_TXD << 1) - 1)

static int memfd = -1;
static char path[64];
static struct sl_profile prof, other;
static struct sl_config cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* rte_cfgfile logs every line it refuses. */
	rte_log_set_global_level(RTE_LOG_EMERG);
	memfd = memfd_create("fuzz_profile.ini", MFD_CLOEXEC);
	if (memfd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* The keys of a "key=value,key,..." list (brackets may hold commas), into @p keys. */
static unsigned
devargs_keys(const char *s, char keys[][SL_PROFILE_DEVARGS_LEN], unsigned max)
{
	unsigned n = 0;

	while (*s != '\0' && n < max) {
		size_t len = 0, klen;
		int depth = 0;

		while (s[len] != '\0' && (s[len] != ',' || depth > 0)) {
			depth += s[len] == '[' ? 1 : s[len] == ']' ? -1 : 0;
			len++;
		}
		klen = strcspn(s, "=");
		if (klen > len)
			klen = len;
		/* A longer key (only a device argument may have one) is cut. */
		if (klen >= SL_PROFILE_DEVARGS_LEN)
			klen = SL_PROFILE_DEVARGS_LEN - 1;
		memcpy(keys[n], s, klen);
		keys[n++][klen] = '\0';
		s += len;
		if (*s == ',')
			s++;
	}
	return n;
}

static void
check_profile(const struct sl_profile *p)
{
	char keys[32][SL_PROFILE_DEVARGS_LEN];
	char name[SL_PROFILE_DRIVER_LEN + 2];
	unsigned nkeys;

	FUZZ_ASSERT((p->set & ~(uint32_t)ALL_BITS) == 0);
	FUZZ_ASSERT((p->set & SL_PROFILE_DRIVER) && (p->set & SL_PROFILE_BUS));
	FUZZ_ASSERT(p->nb_drivers >= 1 && p->nb_drivers <= SL_PROFILE_MAX_DRIVERS);
	for (unsigned i = 0; i < p->nb_drivers; i++) {
		const char *d = p->drivers[i];

		FUZZ_ASSERT(memchr(d, '\0', SL_PROFILE_DRIVER_LEN) != NULL && d[0] != '\0');
		for (const char *c = d; *c != '\0'; c++)
			FUZZ_ASSERT(name_char(*c) && *c != '-');
		FUZZ_ASSERT(sl_profile_driver_matches(p, d));
		snprintf(name, sizeof(name), "%s0", d);
		FUZZ_ASSERT(sl_profile_vdev_matches(p, name));
	}
	FUZZ_ASSERT(p->bus == SL_PROFILE_BUS_PCI || p->bus == SL_PROFILE_BUS_VDEV);
	if (p->set & SL_PROFILE_RXD)
		FUZZ_ASSERT(p->rxd >= 64 && p->rxd <= 16384);
	if (p->set & SL_PROFILE_TXD)
		FUZZ_ASSERT(p->txd >= 64 && p->txd <= 16384);
	if (p->set & SL_PROFILE_BURST)
		FUZZ_ASSERT(p->burst >= 1 && p->burst <= 512);
	if (p->set & SL_PROFILE_MBUF_SIZE)
		FUZZ_ASSERT(p->mbuf_size >= 1152);
	if (p->set & SL_PROFILE_RSS_HASH)
		FUZZ_ASSERT(p->rss && p->rss_hf != 0);
	FUZZ_ASSERT(memchr(p->devargs, '\0', sizeof(p->devargs)) != NULL);
	if (!(p->set & SL_PROFILE_DEVARGS))
		FUZZ_ASSERT(p->devargs[0] == '\0');
	for (const char *c = p->devargs; *c != '\0'; c++)
		FUZZ_ASSERT(*c != ' ' && *c != '\t' && *c != '\n');
	nkeys = devargs_keys(p->devargs, keys, 32);
	for (unsigned i = 0; i < nkeys; i++) {
		FUZZ_ASSERT(keys[i][0] != '\0');
		for (const char *c = keys[i]; *c != '\0'; c++)
			FUZZ_ASSERT(name_char(*c));
	}
	FUZZ_ASSERT(strcmp(p->path, path) == 0);
	FUZZ_ASSERT(memchr(p->name, '\0', sizeof(p->name)) != NULL);
}

/*
 * The devargs value of @p text as rte_cfgfile reads it: the first '#' of a
 * line starts a comment unless a backslash precedes it (then the line has
 * none), and a backslash before a '#' is dropped. NULL if there is none.
 */
static char *
text_devargs(const uint8_t *text, size_t len)
{
	static char value[4096];
	char line[4096];
	bool found = false;

	for (size_t i = 0; i < len;) {
		size_t end = i, n;
		char *hash, *eq, *k, *v, *w;

		while (end < len && text[end] != '\n')
			end++;
		n = end - i < sizeof(line) - 1 ? end - i : sizeof(line) - 1;
		memcpy(line, text + i, n);
		line[n] = '\0';
		i = end + 1;
		hash = strchr(line, '#');
		if (hash != NULL && (hash == line || hash[-1] != '\\'))
			*hash = '\0';
		eq = strchr(line, '=');
		if (line[0] == '[' || eq == NULL)
			continue;
		*eq = '\0';
		for (k = line; isspace((unsigned char)*k); k++)
			;
		for (w = eq; w > k && isspace((unsigned char)w[-1]); w--)
			;
		*w = '\0';
		if (strcmp(k, "devargs") != 0)
			continue;
		for (v = eq + 1; isspace((unsigned char)*v); v++)
			;
		for (w = v + strlen(v); w > v && isspace((unsigned char)w[-1]); w--)
			;
		*w = '\0';
		n = 0;
		for (char *c = v; *c != '\0'; c++)
			if (!(c[0] == '\\' && c[1] == '#'))
				value[n++] = *c;
		value[n] = '\0';
		found = true;
	}
	return found ? value : NULL;
}

static void
check_text_outputs(const struct sl_profile *p)
{
	struct sl_config c;

	sl_config_defaults(&c);
	sl_profile_apply_config(p, &c);
	for (size_t len = 1; len <= 1024; len *= 4) {
		char *buf = malloc(len);

		FUZZ_ASSERT(buf != NULL);
		FUZZ_ASSERT(sl_profile_describe(p, &c, buf, len) == buf);
		FUZZ_ASSERT(memchr(buf, '\0', len) != NULL);
		FUZZ_ASSERT(sl_profile_rss_names(p->rss_hf, buf, len) == buf);
		FUZZ_ASSERT(memchr(buf, '\0', len) != NULL);
		free(buf);
	}
}

/* Whether the devargs of device argument @p dev (its items after the first) name key @p key. */
static bool
dev_has_key(const char *dev, const char *key)
{
	size_t klen = strlen(key);
	bool first = true;

	while (*dev != '\0') {
		size_t len = 0;
		int depth = 0;

		while (dev[len] != '\0' && (dev[len] != ',' || depth > 0)) {
			depth += dev[len] == '[' ? 1 : dev[len] == ']' ? -1 : 0;
			len++;
		}
		if (!first && strcspn(dev, "=") >= klen && (dev[klen] == '=' || klen == len) &&
		    len >= klen && strncmp(dev, key, klen) == 0)
			return true;
		first = false;
		dev += len;
		if (*dev == ',')
			dev++;
	}
	return false;
}

/* Index of the "--" that ends EAL's arguments (one that is not the value of
 * -a, --allow or --vdev), or argc. */
static int
end_of_eal(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return i;
		if (strcmp(argv[i], "-a") == 0 || strcmp(argv[i], "--allow") == 0 ||
		    strcmp(argv[i], "--vdev") == 0)
			i++;
	}
	return argc;
}

static void
check_eal_args(const struct sl_profile *p, int argc, char **argv)
{
	char keys[32][SL_PROFILE_DEVARGS_LEN];
	unsigned nkeys = devargs_keys(p->devargs, keys, 32), devices = 0, devices2 = 0;
	int changed, changed2, eal_end = end_of_eal(argc, argv);
	char **out = NULL, **out2 = NULL;
	bool brackets = false;

	changed = sl_profile_eal_args(p, argc, argv, &out, &devices);
	FUZZ_ASSERT(changed >= 0 && out != NULL && out[argc] == NULL);
	FUZZ_ASSERT((unsigned)changed <= devices && out[0] == argv[0]);
	for (int i = 0; i < argc; i++)
		if (strchr(argv[i], '[') != NULL || strchr(argv[i], ']') != NULL)
			brackets = true;
	for (int i = 0; i < argc; i++) {
		if (out[i] == argv[i])
			continue;
		changed--;
		FUZZ_ASSERT(i < eal_end);
		/* Only appended to, and now with every key of the profile. */
		FUZZ_ASSERT(strncmp(out[i], argv[i], strlen(argv[i])) == 0);
		FUZZ_ASSERT(strlen(out[i]) > strlen(argv[i]));
		if (!brackets)
			for (unsigned k = 0; k < nkeys; k++)
				FUZZ_ASSERT(dev_has_key(out[i], keys[k]));
	}
	FUZZ_ASSERT(changed == 0);
	/* Brackets that do not pair hide a device's keys, so only then may a
	 * second pass add them again. */
	if (!brackets) {
		changed2 = sl_profile_eal_args(p, argc, out, &out2, &devices2);
		FUZZ_ASSERT(changed2 == 0 && devices2 == devices);
		free(out2);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n%%\n";
	const uint8_t *cmd = NULL;
	size_t text_len = size, cmd_len = 0;
	char *argv[MAX_ARGS + 3], err[512], profile_arg[80];
	int argc = 1, rc, app_start = -1;

	if (size > 64 * 1024)
		return -1;
	for (size_t i = 0; i + sizeof(sep) - 1 <= size; i++)
		if (memcmp(data + i, sep, sizeof(sep) - 1) == 0) {
			text_len = i + 1;
			cmd = data + i + sizeof(sep) - 1;
			cmd_len = size - (i + sizeof(sep) - 1);
			break;
		}
	FUZZ_ASSERT(ftruncate(memfd, 0) == 0);
	FUZZ_ASSERT(pwrite(memfd, data, text_len, 0) == (ssize_t)text_len);

	memset(&prof, 0xa5, sizeof(prof));
	memset(err, 'x', sizeof(err));
	rc = sl_profile_load(&prof, path, err, sizeof(err));
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc != 0) {
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT(all_zero(&prof, sizeof(prof)));
		/* Without a profile there is nothing more to rewrite or parse. */
		return 0;
	}
	check_profile(&prof);
	check_text_outputs(&prof);
	/* The devargs are the file's, whole: none cut short. */
	if (prof.set & SL_PROFILE_DEVARGS) {
		const char *want = text_devargs(data, text_len);

		FUZZ_ASSERT(want != NULL && strcmp(want, prof.devargs) == 0);
	}
	FUZZ_ASSERT(sl_profile_load(&other, path, NULL, 0) == 0);
	FUZZ_ASSERT(memcmp(&prof, &other, sizeof(prof)) == 0);

	/* The command line: "sluice", then the input's arguments. */
	argv[0] = strdup("sluice");
	for (size_t i = 0, start = 0; cmd != NULL && i <= cmd_len && argc <= MAX_ARGS; i++) {
		if (i < cmd_len && cmd[i] != '\0')
			continue;
		if (i == cmd_len && i == start && cmd_len > 0)
			break;
		argv[argc] = malloc(i - start + 1);
		FUZZ_ASSERT(argv[argc] != NULL);
		memcpy(argv[argc], cmd + start, i - start);
		argv[argc][i - start] = '\0';
		if (app_start < 0 && strcmp(argv[argc], "--") == 0)
			app_start = argc;
		argc++;
		start = i + 1;
	}
	argv[argc] = NULL;
	check_eal_args(&prof, argc, argv);

	/* sluice's options after "--", behind ours: --profile=<the text>. Options
	 * starting "--p" are left out, since one of them could name another
	 * profile (as "--pro"), and a path such as /dev/zero is no profile. */
	if (app_start >= 0) {
		char *app[MAX_ARGS + 3];
		int app_argc = 0;

		snprintf(profile_arg, sizeof(profile_arg), "--profile=%s", path);
		app[app_argc++] = argv[0];
		app[app_argc++] = profile_arg;
		for (int i = app_start + 1; i < argc; i++)
			if (strncmp(argv[i], "--p", 3) != 0)
				app[app_argc++] = argv[i];
		app[app_argc] = NULL;
		memset(err, 'x', sizeof(err));
		rc = sl_profile_config_parse(&cfg, &other, app_argc, app, err, sizeof(err));
		FUZZ_ASSERT(rc == 0 || rc == 1 || rc == -EINVAL);
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
		if (rc == -EINVAL)
			FUZZ_ASSERT(err[0] != '\0');
		if (rc == 0) {
			FUZZ_ASSERT(strcmp(cfg.profile, path) == 0);
			FUZZ_ASSERT(memcmp(&other, &prof, sizeof(prof)) == 0);
			FUZZ_ASSERT(cfg.ring_size >= 2u * cfg.burst);
			FUZZ_ASSERT(cfg.nb_rxd >= 64 && cfg.nb_rxd <= 16384);
			FUZZ_ASSERT(cfg.burst >= 1 && cfg.burst <= 512);
		}
	}
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
