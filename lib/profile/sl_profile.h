/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_PROFILE_H
#define SL_PROFILE_H

/**
 * @file
 * NIC profiles: one INI file per NIC family or virtual device
 * (drivers-config/<name>.ini), loaded with --profile=FILE. A profile holds
 * what depends on the driver rather than on the site: descriptors, burst,
 * mbuf data room, RSS, offloads and the driver's devargs.
 *
 * The file is read with DPDK's librte_cfgfile, the INI reader that DPDK's
 * own applications use, so that a profile reads like any other DPDK
 * configuration file and needs no parser of ours. rte_cfgfile silently
 * skips lines it does not understand, keeps duplicate sections and keys and
 * knows nothing of their meaning, so the loader checks the file's shape
 * first (every line a comment, a [section] or a key = value) and then every
 * section, key and value against the list below: anything else is an error
 * that names the file, the section and the key. Comments start with '#'.
 *
 * [device]
 *   driver      DPDK driver names of the family (rte_eth_dev_info.driver_name),
 *               comma separated, at most SL_PROFILE_MAX_DRIVERS. Required. A
 *               port driven by another driver is configured all the same,
 *               with a warning. For vdev profiles, also the prefix of the
 *               --vdev names the devargs go to (an "eth_" alias counts).
 *   bus         pci or vdev: whether the devargs go to the -a/--allow
 *               devices or to the --vdev devices of the driver. Required.
 *   devargs     key=value,... appended to those EAL device arguments before
 *               rte_eal_init(); a key the command line already gives for
 *               that device is left out (the command line wins).
 * [rx]
 *   descriptors RX descriptors per queue, 64..16384 (as --rxd).
 *   burst       packets per receive burst, 1..512 (as --burst).
 *   mbuf_size   mbuf data room in bytes, headroom included (DPDK's
 *               data_room_size), 1152..65535. File mode still enlarges it
 *               to hold a frame of --mtu whole.
 *   rss         on|off: spread flows over the queues of a port with RSS when
 *               it has several (on by default, where the device has RSS).
 *   rss_hash    what RSS hashes on: a list of ip, ipv4, ipv6, tcp, udp, sctp
 *               (default ip,tcp,udp); types the device lacks are dropped,
 *               with a log line.
 *   checksum    on|off: file mode asks the NIC to verify IPv4 and UDP
 *               checksums (on by default); off leaves it to software.
 *               Capture mode never asks.
 *   timestamp   on|off: ask for RTE_ETH_RX_OFFLOAD_TIMESTAMP where the device
 *               offers it (off by default; a warning where it does not).
 *               sluice's pcap timestamps stay TSC-based in this version.
 *   scatter     on|off: let a frame span several mbufs where the device can
 *               (on by default); off makes frames longer than mbuf_size drop.
 * [tx]
 *   descriptors TX descriptors per queue (file mode replies), 64..16384,
 *               default 512.
 *
 * There is no TX checksum key: file mode's replies are small control
 * datagrams whose checksums lib/net computes in software while it builds
 * them in flat buffers, with no mbuf to carry offload flags.
 *
 * Booleans are on/off, yes/no, true/false or 1/0. Keys left out keep
 * sluice's built-in defaults, and options on the command line win over
 * the profile (sl_profile_config_parse()).
 *
 * Pure code without EAL: the control lcore calls it before rte_eal_init(),
 * and the unit tests call it directly. Not thread-safe.
 */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_config.h"

#define SL_PROFILE_MAX_DRIVERS 4
#define SL_PROFILE_DRIVER_LEN 32
/** rte_cfgfile's longest value (CFG_VALUE_LEN). */
#define SL_PROFILE_DEVARGS_LEN 256

enum sl_profile_bus {
	SL_PROFILE_BUS_PCI = 0,  /**< Devargs go to the -a/--allow devices. */
	SL_PROFILE_BUS_VDEV = 1, /**< Devargs go to the --vdev devices of the driver. */
};

/** @name Bits of sl_profile.set: the keys the file gave. */
/**@{*/
#define SL_PROFILE_DRIVER (1u << 0)
#define SL_PROFILE_BUS (1u << 1)
#define SL_PROFILE_DEVARGS (1u << 2)
#define SL_PROFILE_RXD (1u << 3)
#define SL_PROFILE_BURST (1u << 4)
#define SL_PROFILE_MBUF_SIZE (1u << 5)
#define SL_PROFILE_RSS (1u << 6)
#define SL_PROFILE_RSS_HASH (1u << 7)
#define SL_PROFILE_RX_CHECKSUM (1u << 8)
#define SL_PROFILE_RX_TIMESTAMP (1u << 9)
#define SL_PROFILE_RX_SCATTER (1u << 10)
#define SL_PROFILE_TXD (1u << 11)
/**@}*/

struct sl_profile {
	char path[PATH_MAX]; /**< As given to --profile; "" = no profile. */
	char name[64];       /**< File name without directory and ".ini". */
	uint32_t set;        /**< SL_PROFILE_* bits of the keys present. */
	/* [device] */
	unsigned nb_drivers;
	char drivers[SL_PROFILE_MAX_DRIVERS][SL_PROFILE_DRIVER_LEN];
	enum sl_profile_bus bus;
	char devargs[SL_PROFILE_DEVARGS_LEN]; /**< "" = none. */
	/* [rx] */
	uint16_t rxd;
	uint16_t burst;
	uint16_t mbuf_size;
	bool rss;
	uint64_t rss_hf; /**< RTE_ETH_RSS_* bits of rss_hash. */
	bool rx_checksum;
	bool rx_timestamp;
	bool rx_scatter;
	/* [tx] */
	uint16_t txd;
};

/**
 * Load and check the profile at @p path into @p p (zeroed first).
 *
 * @return 0, or -EINVAL with one line in @p err naming the file and, where
 *   it applies, the line, section, key and value at fault and the reason.
 */
int sl_profile_load(struct sl_profile *p, const char *path, char *err, size_t errlen);

/** Put the profile's values that are also options (--rxd, --burst) into @p cfg. */
void sl_profile_apply_config(const struct sl_profile *p, struct sl_config *cfg);

/**
 * Parse sluice's options with a profile in between: built-in defaults, then
 * the profile of --profile (if any), then the other options of the command
 * line, whatever their order (--rxd=2048 --profile=x.ini keeps 2048). Fills
 * @p cfg from scratch and @p p (p->path is "" without --profile).
 *
 * @return as sl_config_parse(): 0, 1 for -h/--help, or -EINVAL with a
 *   reason in @p err (the profile's own errors are prefixed "--profile: ").
 */
int sl_profile_config_parse(struct sl_config *cfg, struct sl_profile *p, int argc, char **argv,
			    char *err, size_t errlen);

/** Whether @p driver_name (rte_eth_dev_info.driver_name) is one of the profile's drivers. */
bool sl_profile_driver_matches(const struct sl_profile *p, const char *driver_name);

/**
 * Whether the --vdev device named @p vdev_name ("net_null0") belongs to the
 * profile's driver: its name starts with one of the drivers, or with the
 * "eth_" alias of a "net_" driver (DPDK matches vdev drivers by prefix too).
 */
bool sl_profile_vdev_matches(const struct sl_profile *p, const char *vdev_name);

/**
 * The EAL arguments with the profile's devargs added: to every -a/--allow
 * device of a pci profile, or to every --vdev of the profile's driver of a
 * vdev profile, each key only where that argument does not give it already.
 * The options may come as "-a DEV", "-aDEV", "--allow DEV", "--allow=DEV",
 * "--vdev DEV" and "--vdev=DEV"; nothing after "--" is touched, nor any
 * other argument.
 *
 * @param argc, argv  The whole command line, as main() has it.
 * @param[out] out    A NULL-terminated copy of @p argv of @p argc entries in
 *   one allocation, to be released with free(); an unchanged argument is
 *   the same pointer as in @p argv.
 * @param[out] nb_devices  If not NULL: the device arguments of the
 *   profile's bus and driver found, changed or not.
 * @return the number of arguments changed, or -ENOMEM.
 */
int sl_profile_eal_args(const struct sl_profile *p, int argc, char *const argv[], char ***out,
			unsigned *nb_devices);

/**
 * One line saying what the profile sets, for the log: its name and path,
 * then each key it gives, with the value in effect and "(command line)"
 * where an option won over it.
 *
 * @return @p buf.
 */
const char *sl_profile_describe(const struct sl_profile *p, const struct sl_config *cfg, char *buf,
				size_t len);

/** The rss_hash names of @p rss_hf ("ip,tcp,udp") into @p buf. @return @p buf. */
const char *sl_profile_rss_names(uint64_t rss_hf, char *buf, size_t len);

#endif /* SL_PROFILE_H */
