/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_cfgfile.h>
#include <rte_ethdev.h>

#include "sl_common.h"
#include "sl_profile.h"

/* rte_cfgfile reads a line into a buffer of CFG_NAME_LEN + CFG_VALUE_LEN + 4
 * bytes and fails on a longer one; keys and values longer than its fields
 * would be cut short without a word. */
#define MAX_LINE (CFG_NAME_LEN + CFG_VALUE_LEN)
#define MAX_ENTRIES 32
#define MAX_DEVARGS_ITEMS 32

struct key {
	const char *section;
	const char *name;
	uint32_t bit;
};

static const char *const sections[] = { "device", "rx", "tx" };

static const struct key keys[] = {
	{ "device", "driver", SL_PROFILE_DRIVER },
	{ "device", "bus", SL_PROFILE_BUS },
	{ "device", "devargs", SL_PROFILE_DEVARGS },
	{ "rx", "descriptors", SL_PROFILE_RXD },
	{ "rx", "burst", SL_PROFILE_BURST },
	{ "rx", "mbuf_size", SL_PROFILE_MBUF_SIZE },
	{ "rx", "rss", SL_PROFILE_RSS },
	{ "rx", "rss_hash", SL_PROFILE_RSS_HASH },
	{ "rx", "checksum", SL_PROFILE_RX_CHECKSUM },
	{ "rx", "timestamp", SL_PROFILE_RX_TIMESTAMP },
	{ "rx", "scatter", SL_PROFILE_RX_SCATTER },
	{ "tx", "descriptors", SL_PROFILE_TXD },
};

/* The rss_hash words. "ip" is both families; "tcp", "udp" and "sctp" hash
 * the ports over both. */
static const struct {
	const char *name;
	uint64_t hf;
} rss_words[] = {
	{ "ip", RTE_ETH_RSS_IP },
	{ "ipv4", RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_OTHER },
	{ "ipv6", RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_FRAG_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_OTHER |
			  RTE_ETH_RSS_IPV6_EX },
	{ "tcp", RTE_ETH_RSS_TCP },
	{ "udp", RTE_ETH_RSS_UDP },
	{ "sctp", RTE_ETH_RSS_SCTP },
};

static int __attribute__((format(printf, 3, 4)))
report(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* The key being read, so that every message names file, section, key and value. */
struct entry {
	const char *path;
	const char *section;
	const char *key;
	const char *value;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 2, 3)))
bad_value(const struct entry *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (e->err == NULL || e->errlen == 0)
		return -EINVAL;
	n = snprintf(e->err, e->errlen, "%s: [%s] %s: '%s' ", e->path, e->section, e->key,
		     e->value);
	if (n >= 0 && (size_t)n < e->errlen) {
		va_start(ap, fmt);
		vsnprintf(e->err + n, e->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static char *
trim(char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* Length of a value as rte_cfgfile keeps it: a backslash before a '#' is dropped. */
static size_t
value_len(const char *v)
{
	size_t n = strlen(v);

	for (v = strstr(v, "\\#"); v != NULL; v = strstr(v + 2, "\\#"))
		n--;
	return n;
}

/*
 * What rte_cfgfile would skip or cut without a word: a line that is neither
 * a comment, a [section] nor key = value, a key before any section, text
 * after a section's ']', and lines or values too long for its buffers.
 */
static int
check_shape(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	bool in_section = false;
	int rc = 0;

	if (f == NULL)
		return report(err, errlen, "%s: %s", path, strerror(errno));
	errno = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		char *s, *hash, *eq;

		lineno++;
		if ((size_t)n > MAX_LINE) {
			rc = report(err, errlen, "%s:%u: line too long (at most %d characters)",
				    path, lineno, MAX_LINE);
			break;
		}
		if (strlen(line) != (size_t)n) {
			rc = report(err, errlen, "%s:%u: the line holds a NUL byte", path, lineno);
			break;
		}
		/* As rte_cfgfile reads it: the first '#' starts a comment unless a
		 * backslash escapes it, and then the line has no comment at all. */
		hash = strchr(line, '#');
		if (hash != NULL && (hash == line || hash[-1] != '\\'))
			*hash = '\0';
		s = trim(line);
		if (*s == '\0')
			continue;
		if (*s == '[') {
			size_t len = strlen(s);

			if (s[len - 1] != ']' || memchr(s, ']', len - 1) != NULL) {
				rc = report(err, errlen, "%s:%u: '%s' is not a [section] heading",
					    path, lineno, s);
				break;
			}
			s[len - 1] = '\0';
			if (*trim(s + 1) == '\0') {
				rc = report(err, errlen, "%s:%u: a section without a name", path,
					    lineno);
				break;
			}
			in_section = true;
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			rc = report(err, errlen,
				    "%s:%u: '%s' is neither a [section] nor key = value (comments "
				    "start with '#')",
				    path, lineno, s);
			break;
		}
		*eq = '\0';
		if (*trim(s) == '\0') {
			rc = report(err, errlen, "%s:%u: '=' without a key", path, lineno);
			break;
		}
		if (!in_section) {
			rc = report(err, errlen, "%s:%u: key '%s' comes before any [section]", path,
				    lineno, s);
			break;
		}
		if (value_len(trim(eq + 1)) >= CFG_VALUE_LEN) {
			rc = report(err, errlen,
				    "%s:%u: the value of '%s' is too long (at most %d "
				    "characters)",
				    path, lineno, s, CFG_VALUE_LEN - 1);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = report(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
	free(line);
	fclose(f);
	return rc;
}

static int
parse_bool(const struct entry *e, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };

	for (size_t i = 0; i < SL_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(e->value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(e->value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return bad_value(e, "is not on or off (or yes/no, true/false, 1/0)");
}

static int
parse_u16(const struct entry *e, uint64_t min, uint64_t max, uint16_t *out)
{
	uint64_t v;
	int rc = sl_parse_u64(e->value, min, max, &v);

	if (rc == -ERANGE)
		return bad_value(e, "is out of range (%" PRIu64 "..%" PRIu64 ")", min, max);
	if (rc < 0)
		return bad_value(e, "is not a decimal number");
	*out = (uint16_t)v;
	return 0;
}

static bool
is_name_char(char c, bool dash)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || (dash && c == '-');
}

static int
parse_drivers(struct sl_profile *p, const struct entry *e)
{
	const char *s = e->value;

	p->nb_drivers = 0;
	for (;;) {
		size_t len;

		while (*s == ' ' || *s == '\t')
			s++;
		len = 0;
		while (is_name_char(s[len], false))
			len++;
		if (len == 0)
			return bad_value(e, "is not a list of DPDK driver names (such as net_ice)");
		if (len >= SL_PROFILE_DRIVER_LEN)
			return bad_value(e, "has a driver name longer than %d characters",
					 SL_PROFILE_DRIVER_LEN - 1);
		if (p->nb_drivers == SL_PROFILE_MAX_DRIVERS)
			return bad_value(e, "has more than %d drivers", SL_PROFILE_MAX_DRIVERS);
		memcpy(p->drivers[p->nb_drivers], s, len);
		p->drivers[p->nb_drivers][len] = '\0';
		p->nb_drivers++;
		s += len;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			return 0;
		if (*s != ',')
			return bad_value(e, "is not a list of DPDK driver names (such as net_ice)");
		s++;
	}
}

/* Length of the devargs item at @p s: up to a ',' outside brackets, since
 * values such as representor=[0,1] hold commas. -1 if brackets do not pair. */
static ssize_t
item_len(const char *s)
{
	int depth = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '[')
			depth++;
		else if (s[i] == ']' && --depth < 0)
			return -1;
		else if (s[i] == ',' && depth == 0)
			break;
	}
	return depth == 0 ? (ssize_t)i : -1;
}

/* Length of the key of an item ("size" of "size=64", or the whole "no-rx"). */
static size_t
key_len(const char *item, size_t len)
{
	const char *eq = memchr(item, '=', len);

	return eq != NULL ? (size_t)(eq - item) : len;
}

static int
parse_devargs(struct sl_profile *p, const struct entry *e)
{
	const char *s = e->value;
	unsigned items = 0;

	/* An empty value says "no devargs" explicitly. */
	while (*s != '\0') {
		ssize_t len = item_len(s);
		size_t klen;

		if (len < 0)
			return bad_value(e, "has unpaired brackets");
		klen = key_len(s, (size_t)len);
		if (len == 0 || klen == 0)
			return bad_value(e, "has an empty item (give key=value,key=value)");
		for (size_t i = 0; i < klen; i++)
			if (!is_name_char(s[i], true))
				return bad_value(e, "has a key that is not [A-Za-z0-9_-]: '%.*s'",
						 (int)klen, s);
		if (klen + 1 == (size_t)len)
			return bad_value(e, "gives '%.*s' no value", (int)klen, s);
		for (ssize_t i = 0; i < len; i++)
			if (isspace((unsigned char)s[i]))
				return bad_value(e, "has a space in '%.*s'", (int)len, s);
		if (++items > MAX_DEVARGS_ITEMS)
			return bad_value(e, "has more than %d items", MAX_DEVARGS_ITEMS);
		s += len;
		if (*s == ',' && *++s == '\0')
			return bad_value(e, "ends with ','");
	}
	snprintf(p->devargs, sizeof(p->devargs), "%s", e->value);
	return 0;
}

static int
parse_rss_hash(struct sl_profile *p, const struct entry *e)
{
	const char *s = e->value;

	p->rss_hf = 0;
	for (;;) {
		size_t len, i;

		while (*s == ' ' || *s == '\t')
			s++;
		len = strcspn(s, ", \t");
		for (i = 0; i < SL_ARRAY_SIZE(rss_words); i++)
			if (strlen(rss_words[i].name) == len &&
			    strncasecmp(s, rss_words[i].name, len) == 0)
				break;
		if (i == SL_ARRAY_SIZE(rss_words))
			return bad_value(e, "is not a list of ip, ipv4, ipv6, tcp, udp, sctp");
		p->rss_hf |= rss_words[i].hf;
		s += len;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			return 0;
		if (*s != ',')
			return bad_value(e, "is not a list of ip, ipv4, ipv6, tcp, udp, sctp");
		s++;
	}
}

static int
parse_value(struct sl_profile *p, uint32_t bit, const struct entry *e)
{
	if (e->value[0] == '\0' && bit != SL_PROFILE_DEVARGS)
		return report(e->err, e->errlen, "%s: [%s] %s needs a value", e->path, e->section,
			      e->key);
	switch (bit) {
	case SL_PROFILE_DRIVER:
		return parse_drivers(p, e);
	case SL_PROFILE_BUS:
		if (strcmp(e->value, "pci") == 0)
			p->bus = SL_PROFILE_BUS_PCI;
		else if (strcmp(e->value, "vdev") == 0)
			p->bus = SL_PROFILE_BUS_VDEV;
		else
			return bad_value(e, "is not one of pci, vdev");
		return 0;
	case SL_PROFILE_DEVARGS:
		return parse_devargs(p, e);
	case SL_PROFILE_RXD:
		return parse_u16(e, 64, 16384, &p->rxd);
	case SL_PROFILE_BURST:
		return parse_u16(e, 1, 512, &p->burst);
	case SL_PROFILE_MBUF_SIZE:
		/* At least 1 KiB of data past the 128-byte headroom. */
		return parse_u16(e, 1152, UINT16_MAX, &p->mbuf_size);
	case SL_PROFILE_RSS:
		return parse_bool(e, &p->rss);
	case SL_PROFILE_RSS_HASH:
		return parse_rss_hash(p, e);
	case SL_PROFILE_RX_CHECKSUM:
		return parse_bool(e, &p->rx_checksum);
	case SL_PROFILE_RX_TIMESTAMP:
		return parse_bool(e, &p->rx_timestamp);
	case SL_PROFILE_RX_SCATTER:
		return parse_bool(e, &p->rx_scatter);
	case SL_PROFILE_TXD:
		return parse_u16(e, 64, 16384, &p->txd);
	}
	return report(e->err, e->errlen, "%s: [%s] %s is not handled", e->path, e->section, e->key);
}

static void
known_keys(const char *section, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < SL_ARRAY_SIZE(keys) && n < len; i++)
		if (strcmp(keys[i].section, section) == 0)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
					      keys[i].name);
}

static int
read_section(struct sl_profile *p, const char *path, const char *section,
	     const struct rte_cfgfile_entry *entries, int nb, char *err, size_t errlen)
{
	for (int i = 0; i < nb; i++) {
		const struct key *k = NULL;
		struct entry e = {
			.path = path,
			.section = section,
			.key = entries[i].name,
			.value = entries[i].value,
			.err = err,
			.errlen = errlen,
		};
		int rc;

		for (size_t j = 0; j < SL_ARRAY_SIZE(keys); j++)
			if (strcmp(keys[j].section, section) == 0 &&
			    strcmp(keys[j].name, entries[i].name) == 0)
				k = &keys[j];
		if (k == NULL) {
			char known[256];

			known_keys(section, known, sizeof(known));
			return report(err, errlen,
				      "%s: unknown key '%s' in section [%s] (known: %s)", path,
				      entries[i].name, section, known);
		}
		if (p->set & k->bit)
			return report(err, errlen, "%s: key '%s' appears twice in section [%s]",
				      path, k->name, section);
		rc = parse_value(p, k->bit, &e);
		if (rc < 0)
			return rc;
		p->set |= k->bit;
	}
	return 0;
}

static int
read_file(struct sl_profile *p, struct rte_cfgfile *cf, const char *path, char *err, size_t errlen)
{
	struct rte_cfgfile_entry entries[MAX_ENTRIES];
	bool seen[SL_ARRAY_SIZE(sections)] = { false };
	int nb_sections = rte_cfgfile_num_sections(cf, NULL, 0);

	for (int i = 0; i < nb_sections; i++) {
		char section[CFG_NAME_LEN];
		size_t s;
		int nb;

		nb = rte_cfgfile_section_num_entries_by_index(cf, section, i);
		if (nb > MAX_ENTRIES)
			return report(err, errlen, "%s: section [%s] has more than %d keys", path,
				      section, MAX_ENTRIES);
		for (s = 0; s < SL_ARRAY_SIZE(sections); s++)
			if (strcmp(sections[s], section) == 0)
				break;
		if (s == SL_ARRAY_SIZE(sections))
			return report(err, errlen,
				      "%s: unknown section [%s] (known: device, rx, tx)", path,
				      section);
		if (seen[s])
			return report(err, errlen, "%s: section [%s] appears twice", path, section);
		seen[s] = true;
		nb = rte_cfgfile_section_entries_by_index(cf, i, section, entries, MAX_ENTRIES);
		if (nb < 0)
			return report(err, errlen, "%s: cannot read section [%s]", path, section);
		if (read_section(p, path, sections[s], entries, nb, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

int
sl_profile_load(struct sl_profile *p, const char *path, char *err, size_t errlen)
{
	const struct rte_cfgfile_parameters params = { .comment_character = '#' };
	struct rte_cfgfile *cf;
	const char *base;
	size_t len;
	int rc;

	memset(p, 0, sizeof(*p));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (strlen(path) >= sizeof(p->path))
		return report(err, errlen, "the profile's path is too long");
	rc = check_shape(path, err, errlen);
	if (rc < 0)
		return rc;
	cf = rte_cfgfile_load_with_params(path, CFG_FLAG_EMPTY_VALUES, &params);
	if (cf == NULL)
		return report(err, errlen, "%s: rte_cfgfile cannot read it", path);
	/* The defaults of the keys a profile may leave out. */
	p->rss = true;
	p->rx_checksum = true;
	p->rx_scatter = true;
	rc = read_file(p, cf, path, err, errlen);
	rte_cfgfile_close(cf);
	if (rc < 0) {
		memset(p, 0, sizeof(*p));
		return rc;
	}
	if (!(p->set & SL_PROFILE_DRIVER))
		rc = report(err, errlen,
			    "%s: [device] driver is missing (the DPDK driver names "
			    "the profile is for)",
			    path);
	else if (!(p->set & SL_PROFILE_BUS))
		rc = report(err, errlen, "%s: [device] bus is missing (pci or vdev)", path);
	else if ((p->set & SL_PROFILE_RSS_HASH) && !p->rss)
		rc = report(err, errlen, "%s: [rx] rss_hash is given but rss is off", path);
	if (rc < 0) {
		memset(p, 0, sizeof(*p));
		return rc;
	}
	memcpy(p->path, path, strlen(path) + 1);
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 4 && strcmp(base + len - 4, ".ini") == 0)
		len -= 4;
	if (len >= sizeof(p->name))
		len = sizeof(p->name) - 1;
	memcpy(p->name, base, len);
	p->name[len] = '\0';
	return 0;
}

void
sl_profile_apply_config(const struct sl_profile *p, struct sl_config *cfg)
{
	if (p->set & SL_PROFILE_RXD)
		cfg->nb_rxd = p->rxd;
	if (p->set & SL_PROFILE_BURST)
		cfg->burst = p->burst;
}

int
sl_profile_config_parse(struct sl_config *cfg, struct sl_profile *p, int argc, char **argv,
			char *err, size_t errlen)
{
	char msg[512];
	size_t n;
	int rc;

	memset(p, 0, sizeof(*p));
	/* A first pass finds --profile. Only --rxd and --burst take values from a
	 * profile, and the command line alone is valid whatever they are, so an
	 * error here is the command line's own. */
	sl_config_defaults(cfg);
	rc = sl_config_parse(cfg, argc, argv, err, errlen);
	if (rc != 0 || cfg->profile[0] == '\0')
		return rc;
	rc = sl_profile_load(p, cfg->profile, msg, sizeof(msg));
	if (rc < 0)
		return report(err, errlen, "--profile: %s", msg);
	/* Then the options again over the profile's values, so that an option
	 * wins wherever it stands. */
	sl_config_defaults(cfg);
	sl_profile_apply_config(p, cfg);
	rc = sl_config_parse(cfg, argc, argv, err, errlen);
	if (rc < 0 && err != NULL && errlen > 0) {
		n = strlen(err);
		snprintf(err + n, errlen - n, " (with the values of profile %s)", p->path);
	}
	return rc;
}

bool
sl_profile_driver_matches(const struct sl_profile *p, const char *driver_name)
{
	for (unsigned i = 0; i < p->nb_drivers; i++)
		if (strcmp(p->drivers[i], driver_name) == 0)
			return true;
	return false;
}

bool
sl_profile_vdev_matches(const struct sl_profile *p, const char *vdev_name)
{
	for (unsigned i = 0; i < p->nb_drivers; i++) {
		const char *d = p->drivers[i];

		if (strncmp(vdev_name, d, strlen(d)) == 0)
			return true;
		/* DPDK registers "eth_pcap" and the like as aliases of "net_pcap". */
		if (strncmp(d, "net_", 4) == 0 && strncmp(vdev_name, "eth_", 4) == 0 &&
		    strncmp(vdev_name + 4, d + 4, strlen(d + 4)) == 0)
			return true;
	}
	return false;
}

/* Whether the devargs after the device name in @p dev give key @p key. */
static bool
has_key(const char *dev, const char *key, size_t klen)
{
	ssize_t len = item_len(dev);

	if (len < 0)
		return false;
	dev += len;
	while (*dev == ',') {
		dev++;
		len = item_len(dev);
		if (len < 0)
			return false;
		if (key_len(dev, (size_t)len) == klen && strncmp(dev, key, klen) == 0)
			return true;
		dev += len;
	}
	return false;
}

/* Writes @p prefix, @p dev and the profile's items @p dev lacks to @p out;
 * returns the bytes written (NUL included), or 0 if @p dev lacks none. */
static size_t
merge_devargs(const char *prefix, const char *dev, const char *devargs, char *out)
{
	size_t n = (size_t)sprintf(out, "%s%s", prefix, dev);
	const char *s = devargs;
	bool added = false;

	while (*s != '\0') {
		ssize_t len = item_len(s);

		if (len <= 0)
			break;
		if (!has_key(dev, s, key_len(s, (size_t)len))) {
			if (n == 0 || out[n - 1] != ',')
				out[n++] = ',';
			memcpy(out + n, s, (size_t)len);
			n += (size_t)len;
			added = true;
		}
		s += len;
		if (*s == ',')
			s++;
	}
	out[n++] = '\0';
	return added ? n : 0;
}

/* The device argument of EAL option @p arg: its kind, where the device text
 * starts (inside @p arg, or NULL when it is the next argument) and the
 * option text before it. */
enum dev_kind {
	DEV_NONE,
	DEV_PCI,
	DEV_VDEV,
};

static enum dev_kind
device_option(const char *arg, const char **dev, size_t *prefix_len)
{
	static const struct {
		const char *opt;
		enum dev_kind kind;
	} opts[] = {
		{ "--allow", DEV_PCI },
		{ "--vdev", DEV_VDEV },
	};

	*dev = NULL;
	*prefix_len = 0;
	if (strncmp(arg, "-a", 2) == 0) {
		if (arg[2] != '\0') {
			*dev = arg + 2;
			*prefix_len = 2;
		}
		return DEV_PCI;
	}
	for (size_t i = 0; i < SL_ARRAY_SIZE(opts); i++) {
		size_t len = strlen(opts[i].opt);

		if (strncmp(arg, opts[i].opt, len) != 0)
			continue;
		if (arg[len] == '\0')
			return opts[i].kind;
		if (arg[len] == '=') {
			*dev = arg + len + 1;
			*prefix_len = len + 1;
			return opts[i].kind;
		}
	}
	return DEV_NONE;
}

int
sl_profile_eal_args(const struct sl_profile *p, int argc, char *const argv[], char ***out,
		    unsigned *nb_devices)
{
	size_t room = (size_t)(argc + 1) * sizeof(char *);
	size_t extra = strlen(p->devargs) + 2;
	int changed = 0, i;
	unsigned devices = 0;
	char **args, *text;

	*out = NULL;
	if (nb_devices != NULL)
		*nb_devices = 0;
	for (i = 0; i < argc; i++)
		room += strlen(argv[i]) + extra;
	args = malloc(room);
	if (args == NULL)
		return -ENOMEM;
	text = (char *)(args + argc + 1);
	for (i = 0; i < argc; i++)
		args[i] = argv[i];
	args[argc] = NULL;
	for (i = 1; i < argc; i++) {
		const char *dev;
		size_t prefix_len, n;
		char prefix[16];
		enum dev_kind kind;
		int at = i;

		if (strcmp(argv[i], "--") == 0)
			break;
		kind = device_option(argv[i], &dev, &prefix_len);
		if (kind == DEV_NONE)
			continue;
		if (dev == NULL) {
			if (i + 1 >= argc)
				break;
			at = ++i;
			dev = argv[at];
		}
		if ((kind == DEV_PCI && p->bus != SL_PROFILE_BUS_PCI) ||
		    (kind == DEV_VDEV &&
		     (p->bus != SL_PROFILE_BUS_VDEV || !sl_profile_vdev_matches(p, dev))))
			continue;
		devices++;
		if (p->devargs[0] == '\0')
			continue;
		memcpy(prefix, argv[at], prefix_len);
		prefix[prefix_len] = '\0';
		n = merge_devargs(prefix, dev, p->devargs, text);
		if (n == 0)
			continue;
		args[at] = text;
		text += n;
		changed++;
	}
	*out = args;
	if (nb_devices != NULL)
		*nb_devices = devices;
	return changed;
}

const char *
sl_profile_rss_names(uint64_t rss_hf, char *buf, size_t len)
{
	uint64_t covered = 0;
	size_t n = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < SL_ARRAY_SIZE(rss_words) && n < len; i++) {
		uint64_t hf = rss_words[i].hf;

		if ((rss_hf & hf) != hf || (covered & hf) == hf)
			continue;
		covered |= hf;
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", rss_words[i].name);
	}
	return buf;
}

const char *
sl_profile_describe(const struct sl_profile *p, const struct sl_config *cfg, char *buf, size_t len)
{
	size_t n = 0;
	char names[64];

#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (n < len)                                                                       \
			n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__);                      \
	} while (0)

	if (len == 0)
		return buf;
	buf[0] = '\0';
	ADD("profile %s (%s): driver", p->name, p->path);
	for (unsigned i = 0; i < p->nb_drivers; i++)
		ADD("%s%s", i ? "," : " ", p->drivers[i]);
	if (p->set & SL_PROFILE_RXD)
		ADD(", rx descriptors %u%s", cfg->nb_rxd,
		    cfg->nb_rxd != p->rxd ? " (command line)" : "");
	if (p->set & SL_PROFILE_BURST)
		ADD(", burst %u%s", cfg->burst, cfg->burst != p->burst ? " (command line)" : "");
	if (p->set & SL_PROFILE_MBUF_SIZE)
		ADD(", mbuf_size %u", p->mbuf_size);
	if (p->set & (SL_PROFILE_RSS | SL_PROFILE_RSS_HASH))
		ADD(", rss %s", p->rss ? "on" : "off");
	if (p->set & SL_PROFILE_RSS_HASH)
		ADD(" (%s)", sl_profile_rss_names(p->rss_hf, names, sizeof(names)));
	if (p->set & SL_PROFILE_RX_CHECKSUM)
		ADD(", rx checksum %s", p->rx_checksum ? "on" : "off");
	if (p->set & SL_PROFILE_RX_TIMESTAMP)
		ADD(", timestamp %s", p->rx_timestamp ? "on" : "off");
	if (p->set & SL_PROFILE_RX_SCATTER)
		ADD(", scatter %s", p->rx_scatter ? "on" : "off");
	if (p->set & SL_PROFILE_TXD)
		ADD(", tx descriptors %u", p->txd);
	if (p->devargs[0] != '\0')
		ADD(", devargs %s (%s)", p->devargs,
		    p->bus == SL_PROFILE_BUS_PCI ? "-a devices" : "--vdev devices of the driver");
#undef ADD
	return buf;
}
