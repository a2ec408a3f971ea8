/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_ethdev.h>

#include "sl_profile.h"

#define MAX_ARGS 16

/* The NIC families and virtual devices a profile ships for (issue 5). */
static const char *const shipped[] = {
	"mlx5", "ice",       "i40e",   "ixgbe", "virtio", "vmxnet3",
	"ena",  "af_packet", "af_xdp", "memif", "pcap",   "null",
};

static struct sl_profile prof;
static char err[512];
static char tmp_path[PATH_MAX];

static const char *
source_dir(void)
{
	const char *dir = getenv("SL_SOURCE_DIR");

	return dir != NULL ? dir : ".";
}

/* Writes @p text to a profile file of its own and returns its path. */
static const char *
write_profile(const char *text)
{
	const char *base = getenv("SL_TEST_TMPDIR");
	FILE *f;

	snprintf(tmp_path, sizeof(tmp_path), "%s/test_profile_%d.ini", base ? base : "/tmp",
		 (int)getpid());
	f = fopen(tmp_path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return tmp_path;
}

static int
load_text(const char *text)
{
	/* Garbage, so that a success which forgets to clear the message shows. */
	memset(err, 'X', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	return sl_profile_load(&prof, write_profile(text), err, sizeof(err));
}

#define MINIMAL "[device]\ndriver = net_null\nbus = vdev\n"

static void
loads(const char *text)
{
	int rc = load_text(text);

	if (rc != 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
	assert_string_equal(err, "");
}

/* The load fails, and the message holds @p expected after "<path>". */
static void
fails_with(const char *text, const char *expected)
{
	char want[PATH_MAX + 1024];
	int rc = load_text(text);

	snprintf(want, sizeof(want), "%s%s", tmp_path, expected);
	if (rc != -EINVAL || strcmp(err, want) != 0)
		print_error("for:\n%s\ngot %d '%s'\nwanted '%s'\n", text, rc, err, want);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err, want);
	/* A failed load leaves no half profile behind. */
	assert_int_equal(prof.set, 0);
	assert_string_equal(prof.path, "");
}

static void
test_shipped_profiles_load(void **state)
{
	for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
		char path[PATH_MAX];
		int rc;

		snprintf(path, sizeof(path), "%s/drivers-config/%s.ini", source_dir(), shipped[i]);
		rc = sl_profile_load(&prof, path, err, sizeof(err));
		if (rc != 0)
			print_error("%s: %s\n", path, err);
		assert_int_equal(rc, 0);
		assert_string_equal(prof.name, shipped[i]);
		assert_string_equal(prof.path, path);
		assert_true(prof.nb_drivers >= 1);
		/* Each ships every RX key, so that it documents them all. */
		assert_true(prof.set & SL_PROFILE_RXD);
		assert_true(prof.set & SL_PROFILE_BURST);
		assert_true(prof.set & SL_PROFILE_MBUF_SIZE);
		assert_true(prof.set & SL_PROFILE_RSS);
		assert_true(prof.set & SL_PROFILE_RX_CHECKSUM);
		assert_true(prof.set & SL_PROFILE_RX_TIMESTAMP);
		assert_true(prof.set & SL_PROFILE_RX_SCATTER);
		/* No site-specific devargs: interfaces, sockets, PCI addresses. */
		assert_null(strstr(prof.devargs, "iface="));
		assert_null(strstr(prof.devargs, "socket="));
		assert_null(strstr(prof.devargs, "rx_pcap="));
		/* A PCI family's port driver is one of its driver names. */
		assert_int_equal(prof.bus, strstr("mlx5 ice i40e ixgbe virtio vmxnet3 ena",
						  shipped[i]) != NULL
						   ? SL_PROFILE_BUS_PCI
						   : SL_PROFILE_BUS_VDEV);
	}
}

static void
test_mlx5_values(void **state)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/drivers-config/mlx5.ini", source_dir());
	assert_int_equal(sl_profile_load(&prof, path, err, sizeof(err)), 0);
	assert_int_equal(prof.nb_drivers, 1);
	assert_string_equal(prof.drivers[0], "mlx5_pci");
	assert_int_equal(prof.bus, SL_PROFILE_BUS_PCI);
	assert_string_equal(prof.devargs, "rxq_cqe_comp_en=1");
	assert_int_equal(prof.rxd, 4096);
	assert_int_equal(prof.burst, 64);
	assert_int_equal(prof.mbuf_size, 2176);
	assert_true(prof.rss);
	assert_int_equal(prof.rss_hf, RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	assert_true(prof.rx_checksum);
	assert_false(prof.rx_timestamp);
	assert_true(prof.rx_scatter);
	assert_int_equal(prof.txd, 1024);
}

static void
test_every_key(void **state)
{
	loads("# comment line\n"
	      "\n"
	      "[device]   # trailing comment\n"
	      "driver = net_ixgbe, net_ixgbe_vf\n"
	      "bus=pci\n"
	      "devargs = a=1,flag,representor=[0,1],x-y=z\n"
	      "[ rx ]\n"
	      "descriptors = 64\n"
	      "burst = 512\n"
	      "mbuf_size = 65535\n"
	      "rss = YES\n"
	      "rss_hash = ipv4 , udp,sctp\n"
	      "checksum = false\n"
	      "timestamp = 1\n"
	      "scatter = off\n"
	      "[tx]\n"
	      "descriptors = 16384\n");
	assert_int_equal(prof.nb_drivers, 2);
	assert_string_equal(prof.drivers[0], "net_ixgbe");
	assert_string_equal(prof.drivers[1], "net_ixgbe_vf");
	assert_int_equal(prof.bus, SL_PROFILE_BUS_PCI);
	assert_string_equal(prof.devargs, "a=1,flag,representor=[0,1],x-y=z");
	assert_int_equal(prof.rxd, 64);
	assert_int_equal(prof.burst, 512);
	assert_int_equal(prof.mbuf_size, 65535);
	assert_true(prof.rss);
	assert_int_equal(prof.rss_hf, RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 |
					      RTE_ETH_RSS_NONFRAG_IPV4_OTHER | RTE_ETH_RSS_UDP |
					      RTE_ETH_RSS_SCTP);
	assert_false(prof.rx_checksum);
	assert_true(prof.rx_timestamp);
	assert_false(prof.rx_scatter);
	assert_int_equal(prof.txd, 16384);
	assert_int_equal(prof.set, (1u << 12) - 1);
	/* The name is the file's, without directory and ".ini". */
	assert_non_null(strstr(prof.name, "test_profile_"));
	assert_null(strstr(prof.name, ".ini"));
}

static void
test_defaults_of_missing_keys(void **state)
{
	loads(MINIMAL);
	assert_int_equal(prof.set, SL_PROFILE_DRIVER | SL_PROFILE_BUS);
	assert_int_equal(prof.bus, SL_PROFILE_BUS_VDEV);
	assert_string_equal(prof.devargs, "");
	/* What sluice does without a profile. */
	assert_true(prof.rss);
	assert_int_equal(prof.rss_hf, 0);
	assert_true(prof.rx_checksum);
	assert_false(prof.rx_timestamp);
	assert_true(prof.rx_scatter);
	/* An empty devargs says "none". */
	loads(MINIMAL "devargs =\n");
	assert_true(prof.set & SL_PROFILE_DEVARGS);
	assert_string_equal(prof.devargs, "");
}

static void
test_booleans(void **state)
{
	static const char *const on[] = { "on", "ON", "yes", "true", "True", "1" };
	static const char *const off[] = { "off", "no", "NO", "false", "0" };
	char text[256];

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		snprintf(text, sizeof(text), MINIMAL "[rx]\ntimestamp = %s\n", on[i]);
		loads(text);
		assert_true(prof.rx_timestamp);
	}
	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		snprintf(text, sizeof(text), MINIMAL "[rx]\nchecksum = %s\n", off[i]);
		loads(text);
		assert_false(prof.rx_checksum);
	}
	fails_with(MINIMAL "[rx]\nscatter = maybe\n",
		   ": [rx] scatter: 'maybe' is not on or off (or yes/no, true/false, 1/0)");
	fails_with(MINIMAL "[rx]\nrss = 2\n",
		   ": [rx] rss: '2' is not on or off (or yes/no, true/false, 1/0)");
}

static void
test_unknown_names(void **state)
{
	fails_with(MINIMAL "[bogus]\nx = 1\n", ": unknown section [bogus] (known: device, rx, tx)");
	fails_with(MINIMAL "[RX]\nburst = 1\n", ": unknown section [RX] (known: device, rx, tx)");
	fails_with(MINIMAL "[rx]\nrxd = 1024\n",
		   ": unknown key 'rxd' in section [rx] (known: descriptors, burst, mbuf_size, "
		   "rss, rss_hash, checksum, timestamp, scatter)");
	fails_with(MINIMAL "[tx]\nchecksum = on\n",
		   ": unknown key 'checksum' in section [tx] (known: descriptors)");
	fails_with(MINIMAL "name = x\n",
		   ": unknown key 'name' in section [device] (known: driver, bus, devargs)");
	/* A section of its own that is empty is still unknown. */
	fails_with(MINIMAL "[extra]\n", ": unknown section [extra] (known: device, rx, tx)");
}

static void
test_bad_values(void **state)
{
	fails_with(MINIMAL "[rx]\ndescriptors = 63\n",
		   ": [rx] descriptors: '63' is out of range (64..16384)");
	fails_with(MINIMAL "[rx]\ndescriptors = 16385\n",
		   ": [rx] descriptors: '16385' is out of range (64..16384)");
	fails_with(MINIMAL "[rx]\ndescriptors = 1k\n",
		   ": [rx] descriptors: '1k' is not a decimal number");
	fails_with(MINIMAL "[rx]\ndescriptors = -1\n",
		   ": [rx] descriptors: '-1' is not a decimal number");
	fails_with(MINIMAL "[rx]\nburst = 0\n", ": [rx] burst: '0' is out of range (1..512)");
	fails_with(MINIMAL "[rx]\nburst = 513\n", ": [rx] burst: '513' is out of range (1..512)");
	fails_with(MINIMAL "[rx]\nmbuf_size = 1151\n",
		   ": [rx] mbuf_size: '1151' is out of range (1152..65535)");
	fails_with(MINIMAL "[rx]\nmbuf_size = 65536\n",
		   ": [rx] mbuf_size: '65536' is out of range (1152..65535)");
	fails_with(MINIMAL "[tx]\ndescriptors = 32\n",
		   ": [tx] descriptors: '32' is out of range (64..16384)");
	fails_with(MINIMAL "[rx]\nrss_hash = ip,mac\n",
		   ": [rx] rss_hash: 'ip,mac' is not a list of ip, ipv4, ipv6, tcp, udp, sctp");
	fails_with(MINIMAL "[rx]\nrss_hash = ip,\n",
		   ": [rx] rss_hash: 'ip,' is not a list of ip, ipv4, ipv6, tcp, udp, sctp");
	fails_with(MINIMAL "[rx]\nrss = off\nrss_hash = ip\n",
		   ": [rx] rss_hash is given but rss is off");
	fails_with(MINIMAL "[rx]\nburst =\n", ": [rx] burst needs a value");
	fails_with("[device]\ndriver = net_null\nbus = usb\n",
		   ": [device] bus: 'usb' is not one of pci, vdev");
	fails_with("[device]\ndriver = net null\nbus = pci\n",
		   ": [device] driver: 'net null' is not a list of DPDK driver names (such as "
		   "net_ice)");
	fails_with("[device]\ndriver = a,b,c,d,e\nbus = pci\n",
		   ": [device] driver: 'a,b,c,d,e' has more than 4 drivers");
	fails_with("[device]\ndriver = net_ice,\nbus = pci\n",
		   ": [device] driver: 'net_ice,' is not a list of DPDK driver names (such as "
		   "net_ice)");
	fails_with("[device]\nbus = pci\n",
		   ": [device] driver is missing (the DPDK driver names the profile is for)");
	fails_with("[device]\ndriver = net_ice\n", ": [device] bus is missing (pci or vdev)");
	fails_with("[rx]\nburst = 32\n",
		   ": [device] driver is missing (the DPDK driver names the profile is for)");
}

static void
test_bad_devargs(void **state)
{
	fails_with(MINIMAL "devargs = a=1,,b=2\n",
		   ": [device] devargs: 'a=1,,b=2' has an empty item (give key=value,key=value)");
	fails_with(MINIMAL "devargs = =1\n",
		   ": [device] devargs: '=1' has an empty item (give key=value,key=value)");
	fails_with(MINIMAL "devargs = a=1,\n", ": [device] devargs: 'a=1,' ends with ','");
	fails_with(MINIMAL "devargs = size=\n",
		   ": [device] devargs: 'size=' gives 'size' no value");
	fails_with(MINIMAL "devargs = a b=1\n",
		   ": [device] devargs: 'a b=1' has a key that is not [A-Za-z0-9_-]: 'a b'");
	fails_with(MINIMAL "devargs = a=x y\n",
		   ": [device] devargs: 'a=x y' has a space in 'a=x y'");
	fails_with(MINIMAL "devargs = r=[0,1\n",
		   ": [device] devargs: 'r=[0,1' has unpaired brackets");
	fails_with(MINIMAL "devargs = r=0]\n", ": [device] devargs: 'r=0]' has unpaired brackets");
}

static void
test_file_shape(void **state)
{
	char text[1024];

	fails_with(MINIMAL "[rx]\ndescriptors 4096\n",
		   ":5: 'descriptors 4096' is neither a [section] nor key = value (comments start "
		   "with '#')");
	fails_with("driver = net_null\n" MINIMAL, ":1: key 'driver' comes before any [section]");
	fails_with(MINIMAL "[rx\n", ":4: '[rx' is not a [section] heading");
	fails_with(MINIMAL "[rx] burst = 1\n", ":4: '[rx] burst = 1' is not a [section] heading");
	fails_with(MINIMAL "[ ]\n", ":4: a section without a name");
	fails_with(MINIMAL "= 1\n", ":4: '=' without a key");
	/* rte_cfgfile would keep the second ones and never look at them. */
	fails_with(MINIMAL "[rx]\nburst = 1\nburst = 2\n",
		   ": key 'burst' appears twice in section [rx]");
	fails_with(MINIMAL "[rx]\nburst = 1\n[tx]\ndescriptors = 64\n[rx]\nrss = on\n",
		   ": section [rx] appears twice");
	fails_with(MINIMAL "[device]\nbus = pci\n", ": section [device] appears twice");
	/* Values rte_cfgfile would cut short. */
	snprintf(text, sizeof(text), MINIMAL "devargs = a=%0300d\n", 0);
	fails_with(text, ":4: the value of 'devargs' is too long (at most 255 characters)");
	snprintf(text, sizeof(text), MINIMAL "# %0400d\n", 0);
	fails_with(text, ":4: line too long (at most 320 characters)");
	/* A comment may hold '=' and '[' without becoming a key or a section. */
	loads("# [rx] descriptors = 99999\n" MINIMAL "[rx]\nburst = 8 # burst = 9\n");
	assert_int_equal(prof.burst, 8);
	assert_int_equal(prof.set, SL_PROFILE_DRIVER | SL_PROFILE_BUS | SL_PROFILE_BURST);
}

/*
 * rte_cfgfile takes "\#" for a '#' that starts no comment, and when the first
 * '#' of a line is one, it strips no comment from that line at all. The shape
 * check must read such a line as rte_cfgfile does, or it measures a shorter
 * value than rte_cfgfile keeps, which then cuts it short without a word
 * (tests/fuzz/fuzz_profile checks this too).
 */
static void
test_escaped_comment_character(void **state)
{
	char text[1024];

	snprintf(text, sizeof(text), MINIMAL "devargs = a=\\#%0300d\n", 0);
	fails_with(text, ":4: the value of 'devargs' is too long (at most 255 characters)");
	snprintf(text, sizeof(text), MINIMAL "devargs = a=1\\#2 # %0280d\n", 0);
	fails_with(text, ":4: the value of 'devargs' is too long (at most 255 characters)");
	/* An escaped '#' stands for itself; a comment after it is none. */
	loads(MINIMAL "devargs = a=1\\#2\n");
	assert_string_equal(prof.devargs, "a=1#2");
	fails_with(MINIMAL "[rx]\nburst = 8\\# # 9\n",
		   ": [rx] burst: '8# # 9' is not a decimal number");
	/* 255 characters once unescaped: the longest value, kept whole. */
	snprintf(text, sizeof(text), MINIMAL "devargs = a=\\#%0252d\n", 0);
	loads(text);
	assert_int_equal(strlen(prof.devargs), 255);
}

static void
test_missing_file(void **state)
{
	int rc = sl_profile_load(&prof, "/nonexistent/x.ini", err, sizeof(err));

	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err, "/nonexistent/x.ini: No such file or directory");
}

/* Parses, with a profile in between, the NULL-terminated options after a program name. */
static int
parse(struct sl_config *cfg, const char *first, ...)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	const char *arg;
	va_list ap;

	argv[argc++] = (char *)"sluice";
	va_start(ap, first);
	for (arg = first; arg != NULL; arg = va_arg(ap, const char *)) {
		assert_true(argc <= MAX_ARGS);
		argv[argc++] = (char *)arg;
	}
	va_end(ap);
	argv[argc] = NULL;
	memset(err, 'X', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	return sl_profile_config_parse(cfg, &prof, argc, argv, err, sizeof(err));
}

#define PARSE(cfg, ...) parse(cfg, __VA_ARGS__, NULL)

static void
test_precedence(void **state)
{
	struct sl_config cfg;
	char opt[PATH_MAX + 16];

	write_profile(MINIMAL "[rx]\ndescriptors = 4096\nburst = 64\n");
	snprintf(opt, sizeof(opt), "--profile=%s", tmp_path);

	/* Without --profile: the defaults and the command line. */
	assert_int_equal(PARSE(&cfg, "--rxd=2048"), 0);
	assert_string_equal(prof.path, "");
	assert_int_equal(cfg.nb_rxd, 2048);
	assert_int_equal(cfg.burst, 32);

	/* The profile over the defaults. */
	assert_int_equal(PARSE(&cfg, opt), 0);
	assert_string_equal(prof.path, tmp_path);
	assert_string_equal(cfg.profile, tmp_path);
	assert_int_equal(cfg.nb_rxd, 4096);
	assert_int_equal(cfg.burst, 64);

	/* The command line over the profile, before or after it. */
	assert_int_equal(PARSE(&cfg, "--rxd=2048", opt), 0);
	assert_int_equal(cfg.nb_rxd, 2048);
	assert_int_equal(cfg.burst, 64);
	assert_int_equal(PARSE(&cfg, opt, "--rxd=2048", "--burst=16"), 0);
	assert_int_equal(cfg.nb_rxd, 2048);
	assert_int_equal(cfg.burst, 16);
	/* Even when the option says what the defaults say. */
	assert_int_equal(PARSE(&cfg, "--burst=32", opt), 0);
	assert_int_equal(cfg.burst, 32);
	assert_int_equal(cfg.nb_rxd, 4096);

	/* Other options are untouched by the profile. */
	assert_int_equal(PARSE(&cfg, opt, "--snaplen=100", "--no-promisc"), 0);
	assert_int_equal(cfg.snaplen, 100);
	assert_false(cfg.promiscuous);
	assert_int_equal(cfg.ring_size, 16384);

	/* A combination the profile's burst breaks is named with the profile. */
	assert_int_equal(PARSE(&cfg, opt, "--ring-size=100"), -EINVAL);
	assert_non_null(strstr(err, "--ring-size (100) must be at least twice --burst (64)"));
	assert_non_null(strstr(err, "(with the values of profile "));
	assert_non_null(strstr(err, tmp_path));

	/* Errors of the command line alone, and -h. */
	assert_int_equal(PARSE(&cfg, opt, "--rxd=1"), -EINVAL);
	assert_string_equal(err, "--rxd: '1' is out of range (64..16384)");
	assert_int_equal(PARSE(&cfg, opt, "-h"), 1);
	assert_int_equal(PARSE(&cfg, "--profile="), -EINVAL);
	assert_string_equal(err, "--profile needs a value");
}

static void
test_precedence_bad_profile(void **state)
{
	struct sl_config cfg;
	char opt[PATH_MAX + 16], want[PATH_MAX + 256];

	write_profile(MINIMAL "[rx]\nbogus = 1\n");
	snprintf(opt, sizeof(opt), "--profile=%s", tmp_path);
	assert_int_equal(PARSE(&cfg, "--rxd=2048", opt), -EINVAL);
	snprintf(want, sizeof(want),
		 "--profile: %s: unknown key 'bogus' in section [rx] (known: descriptors, burst, "
		 "mbuf_size, rss, rss_hash, checksum, timestamp, scatter)",
		 tmp_path);
	assert_string_equal(err, want);
	assert_string_equal(prof.path, "");
	assert_int_equal(PARSE(&cfg, "--profile=/nonexistent.ini"), -EINVAL);
	assert_string_equal(err, "--profile: /nonexistent.ini: No such file or directory");
}

static void
test_describe(void **state)
{
	struct sl_config cfg;
	char opt[PATH_MAX + 16], line[2 * PATH_MAX + 1024], want[2 * PATH_MAX + 1024];

	write_profile("[device]\ndriver = net_ice\nbus = pci\ndevargs = a=1\n"
		      "[rx]\ndescriptors = 4096\nburst = 64\nmbuf_size = 2176\n"
		      "rss_hash = ip,tcp,udp\nchecksum = off\ntimestamp = on\nscatter = on\n"
		      "[tx]\ndescriptors = 1024\n");
	snprintf(opt, sizeof(opt), "--profile=%s", tmp_path);
	assert_int_equal(PARSE(&cfg, opt, "--rxd=1024"), 0);
	sl_profile_describe(&prof, &cfg, line, sizeof(line));
	snprintf(want, sizeof(want),
		 "profile %s (%s): driver net_ice, rx descriptors 1024 (command line), burst 64, "
		 "mbuf_size 2176, rss on (ip,tcp,udp), rx checksum off, timestamp on, scatter on, "
		 "tx descriptors 1024, devargs a=1 (-a devices)",
		 prof.name, tmp_path);
	assert_string_equal(line, want);
	/* Only what the profile gives. */
	write_profile(MINIMAL);
	assert_int_equal(PARSE(&cfg, opt), 0);
	sl_profile_describe(&prof, &cfg, line, sizeof(line));
	snprintf(want, sizeof(want), "profile %s (%s): driver net_null", prof.name, tmp_path);
	assert_string_equal(line, want);
	/* A short buffer is cut, not overrun. */
	sl_profile_describe(&prof, &cfg, line, 8);
	assert_string_equal(line, "profile");
}

static void
test_rss_names(void **state)
{
	char buf[64];

	assert_string_equal(sl_profile_rss_names(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP,
						 buf, sizeof(buf)),
			    "ip,tcp,udp");
	loads(MINIMAL "[rx]\nrss_hash = ipv6,ipv4,sctp\n");
	assert_string_equal(sl_profile_rss_names(prof.rss_hf, buf, sizeof(buf)), "ip,sctp");
	loads(MINIMAL "[rx]\nrss_hash = ipv6,tcp\n");
	assert_string_equal(sl_profile_rss_names(prof.rss_hf, buf, sizeof(buf)), "ipv6,tcp");
	assert_string_equal(sl_profile_rss_names(0, buf, sizeof(buf)), "");
}

static void
test_driver_matches(void **state)
{
	loads("[device]\ndriver = net_pcap, net_null\nbus = vdev\n");
	assert_true(sl_profile_driver_matches(&prof, "net_pcap"));
	assert_true(sl_profile_driver_matches(&prof, "net_null"));
	assert_false(sl_profile_driver_matches(&prof, "net_pcap0"));
	assert_false(sl_profile_driver_matches(&prof, "net_ice"));
	assert_true(sl_profile_vdev_matches(&prof, "net_pcap0"));
	assert_true(sl_profile_vdev_matches(&prof, "net_null12"));
	assert_true(sl_profile_vdev_matches(&prof, "eth_pcap1"));
	assert_false(sl_profile_vdev_matches(&prof, "net_af_packet0"));
	assert_false(sl_profile_vdev_matches(&prof, "eth_af_packet0"));
	assert_false(sl_profile_vdev_matches(&prof, "net_pca"));
}

/* Runs sl_profile_eal_args() on a NULL-terminated command line and checks
 * every argument against the NULL-terminated @p expected. */
static int
rewrite(const char *const *args, const char *const *expected, unsigned want_devices)
{
	char *argv[32];
	char **out = NULL;
	unsigned devices = 99;
	int argc = 0, changed;

	while (args[argc] != NULL)
		argv[argc] = (char *)args[argc], argc++;
	argv[argc] = NULL;
	changed = sl_profile_eal_args(&prof, argc, argv, &out, &devices);
	assert_true(changed >= 0);
	assert_non_null(out);
	for (int i = 0; i < argc; i++) {
		if (strcmp(out[i], expected[i]) != 0)
			print_error("argument %d is '%s', expected '%s'\n", i, out[i], expected[i]);
		assert_string_equal(out[i], expected[i]);
		/* Unchanged arguments are the caller's own strings. */
		if (strcmp(argv[i], expected[i]) == 0)
			assert_ptr_equal(out[i], argv[i]);
	}
	assert_null(out[argc]);
	assert_null(expected[argc]);
	assert_int_equal(devices, want_devices);
	free(out);
	return changed;
}

static void
test_eal_args_pci(void **state)
{
	loads("[device]\ndriver = mlx5_pci\nbus = pci\n"
	      "devargs = rxq_cqe_comp_en=1,mprq_en=1\n");
	{
		static const char *const in[] = { "sluice",
						  "-l",
						  "0-2",
						  "-a",
						  "0000:03:00.0",
						  "-a0000:04:00.0,mprq_en=0",
						  "--allow",
						  "0000:05:00.0,rxq_cqe_comp_en=0,mprq_en=0",
						  "--allow=0000:06:00.0,",
						  "--vdev=net_null0",
						  "--",
						  "-a",
						  "x",
						  NULL };
		static const char *const out[] = {
			"sluice",
			"-l",
			"0-2",
			"-a",
			"0000:03:00.0,rxq_cqe_comp_en=1,mprq_en=1",
			/* The user's key wins. */
			"-a0000:04:00.0,mprq_en=0,rxq_cqe_comp_en=1",
			"--allow",
			/* Every key given: unchanged. */
			"0000:05:00.0,rxq_cqe_comp_en=0,mprq_en=0",
			"--allow=0000:06:00.0,rxq_cqe_comp_en=1,mprq_en=1",
			/* Not a PCI device: untouched. */
			"--vdev=net_null0",
			"--",
			/* sluice's own arguments: untouched. */
			"-a",
			"x",
			NULL,
		};

		assert_int_equal(rewrite(in, out, 4), 3);
	}
}

static void
test_eal_args_vdev(void **state)
{
	loads("[device]\ndriver = net_null\nbus = vdev\ndevargs = size=200,copy=1\n");
	{
		static const char *const in[] = { "sluice",
						  "--vdev=net_null0",
						  "--vdev",
						  "eth_null1,size=100",
						  "--vdev=net_pcap0,rx_pcap=/tmp/a,b.pcap",
						  "--vdev=net_null2,size=64,copy=0",
						  "-a",
						  "0000:03:00.0",
						  "--vdev",
						  NULL };
		static const char *const out[] = { "sluice",
						   "--vdev=net_null0,size=200,copy=1",
						   "--vdev",
						   "eth_null1,size=100,copy=1",
						   "--vdev=net_pcap0,rx_pcap=/tmp/a,b.pcap",
						   "--vdev=net_null2,size=64,copy=0",
						   "-a",
						   "0000:03:00.0",
						   "--vdev",
						   NULL };

		assert_int_equal(rewrite(in, out, 3), 2);
	}
	/* Keys inside brackets are values, not keys of the device. */
	loads("[device]\ndriver = net_null\nbus = vdev\ndevargs = copy=1\n");
	{
		static const char *const in[] = { "sluice", "--vdev=net_null0,list=[copy,x]",
						  NULL };
		static const char *const out[] = { "sluice",
						   "--vdev=net_null0,list=[copy,x],copy=1", NULL };

		assert_int_equal(rewrite(in, out, 1), 1);
	}
	/* Without devargs nothing changes, but the devices are counted. */
	loads(MINIMAL);
	{
		static const char *const in[] = { "sluice", "--vdev=net_null0", "--vdev=net_pcap0",
						  NULL };

		assert_int_equal(rewrite(in, in, 1), 0);
	}
	/* A command line with no device at all. */
	loads(MINIMAL "devargs = copy=1\n");
	{
		static const char *const in[] = { "sluice", "-l", "0-2", NULL };

		assert_int_equal(rewrite(in, in, 0), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_profiles_load),
		cmocka_unit_test(test_mlx5_values),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_defaults_of_missing_keys),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_devargs),
		cmocka_unit_test(test_file_shape),
		cmocka_unit_test(test_escaped_comment_character),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_precedence_bad_profile),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_rss_names),
		cmocka_unit_test(test_driver_matches),
		cmocka_unit_test(test_eal_args_pci),
		cmocka_unit_test(test_eal_args_vdev),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	unlink(tmp_path);
	return rc;
}
