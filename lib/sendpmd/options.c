/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_common.h"
#include "sl_sendpmd.h"

enum opt_id {
	OPT_SRC_IP,
	OPT_PORT_ID,
	OPT_DST_MAC,
	OPT_GATEWAY,
	OPT_MTU,
	OPT_IDLE_SLEEP,
	OPT_SRC_PORT,
	OPT_RX_QUEUES,
	OPT_TX_QUEUES,
};

/* Ours: every one takes a value. */
static const struct {
	const char *name;
	enum opt_id id;
} dpdk_options[] = {
	{ "src-ip", OPT_SRC_IP },
	{ "port-id", OPT_PORT_ID },
	{ "dst-mac", OPT_DST_MAC },
	{ "gateway", OPT_GATEWAY },
	{ "mtu", OPT_MTU },
	{ "idle-sleep", OPT_IDLE_SLEEP },
	{ "src-port", OPT_SRC_PORT },
	{ "rx-queues", OPT_RX_QUEUES },
	{ "tx-queues", OPT_TX_QUEUES },
};

/*
 * sluice-send's long options that take a value (lib/sender/options.c): the
 * scan must step over "--name VALUE" to find the operands where getopt
 * would. tests/unit/test_sendpmd.c checks this list against the usage text.
 */
static const char *const sender_value_options[] = {
	"name", "psk-file", "psk-id", "rate", "chunk-size", "max-payload", "timeout", "bind",
};

int
sl_sendpmd_split_args(int argc, char **argv, char **eal_argv, int *eal_argc, char **app_argv,
		      int *app_argc, char *err, size_t errlen)
{
	int dd = -1;

	err[0] = '\0';
	if (argc < 2 || strcmp(argv[1], "--dpdk") != 0) {
		snprintf(err, errlen, "--dpdk must be the first argument");
		return -EINVAL;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	}
	if (dd < 0) {
		snprintf(
			err, errlen,
			"--dpdk: end the EAL arguments with '--' (sluice-send --dpdk [EAL args] -- "
			"[options] --src-ip=ADDR/PREFIX HOST SOURCE...)");
		return -EINVAL;
	}
	*eal_argc = 0;
	eal_argv[(*eal_argc)++] = argv[0];
	for (int i = 2; i < dd; i++)
		eal_argv[(*eal_argc)++] = argv[i];
	eal_argv[*eal_argc] = NULL;
	*app_argc = 0;
	app_argv[(*app_argc)++] = argv[0];
	for (int i = dd + 1; i < argc; i++)
		app_argv[(*app_argc)++] = argv[i];
	app_argv[*app_argc] = NULL;
	return 0;
}

/* Which of ours "--NAME[=...]" is (exact names only), or -1. */
static int
find_dpdk_option(const char *arg, size_t name_len)
{
	for (unsigned i = 0; i < RTE_DIM(dpdk_options); i++)
		if (strlen(dpdk_options[i].name) == name_len &&
		    memcmp(dpdk_options[i].name, arg, name_len) == 0)
			return (int)i;
	return -1;
}

/* Whether "--NAME" (no '=') is sluice-send's and takes the next argument as its value.
 * Unambiguous abbreviations count, as getopt_long takes them. */
static bool
sender_takes_value(const char *name, size_t name_len)
{
	unsigned prefix_hits = 0;

	for (unsigned i = 0; i < RTE_DIM(sender_value_options); i++) {
		const char *s = sender_value_options[i];

		if (strlen(s) == name_len && memcmp(s, name, name_len) == 0)
			return true;
		if (strlen(s) > name_len && memcmp(s, name, name_len) == 0)
			prefix_hits++;
	}
	return prefix_hits == 1;
}

static int
bad(char *err, size_t errlen, const char *what, const char *value)
{
	snprintf(err, errlen, "%s: '%s'", what, value);
	return -EINVAL;
}

static int
parse_ipv4(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1 || a.s_addr == 0)
		return -EINVAL;
	*ip = a.s_addr;
	return 0;
}

static int
apply(struct sl_sendpmd_opts *o, enum opt_id id, const char *v, char *err, size_t errlen)
{
	uint64_t n;

	switch (id) {
	case OPT_SRC_IP: {
		uint8_t family, ip[16], prefix;

		if (sl_net_parse_cidr(v, &family, ip, &prefix) != 0)
			return bad(err, errlen, "--src-ip: not ADDR/PREFIX (such as 10.0.0.2/24)",
				   v);
		if (family != 4)
			return bad(err, errlen, "--src-ip: DPDK mode sends over IPv4 only", v);
		memcpy(&o->src_ip, ip, 4);
		o->src_prefix = prefix;
		o->have_src = true;
		return 0;
	}
	case OPT_PORT_ID:
		if (sl_parse_u64(v, 0, RTE_MAX_ETHPORTS - 1, &n) != 0)
			return bad(err, errlen, "--port-id: a DPDK port number", v);
		o->port_id = (uint16_t)n;
		o->have_port_id = true;
		return 0;
	case OPT_DST_MAC:
		if (rte_ether_unformat_addr(v, &o->dst_mac) != 0 ||
		    !rte_is_unicast_ether_addr(&o->dst_mac) || rte_is_zero_ether_addr(&o->dst_mac))
			return bad(err, errlen,
				   "--dst-mac: not a unicast MAC (such as 02:00:00:00:00:01)", v);
		o->have_dst_mac = true;
		return 0;
	case OPT_GATEWAY:
		if (parse_ipv4(v, &o->gateway) != 0)
			return bad(err, errlen, "--gateway: not an IPv4 address", v);
		return 0;
	case OPT_MTU:
		if (sl_parse_u64(v, SL_SENDPMD_MTU_MIN, SL_SENDPMD_MTU_MAX, &n) != 0)
			return bad(err, errlen, "--mtu: 1280 to 9000", v);
		o->mtu = (uint16_t)n;
		return 0;
	case OPT_IDLE_SLEEP:
		if (sl_parse_u64(v, 0, SL_SENDPMD_IDLE_SLEEP_MAX, &n) != 0)
			return bad(err, errlen, "--idle-sleep: microseconds, 0 to 1000000", v);
		o->idle_sleep_us = (uint32_t)n;
		return 0;
	case OPT_SRC_PORT:
		if (sl_parse_u64(v, 1, UINT16_MAX, &n) != 0)
			return bad(err, errlen, "--src-port: 1 to 65535", v);
		o->src_port = (uint16_t)n;
		return 0;
	case OPT_RX_QUEUES:
		if (sl_parse_u64(v, 1, SL_SENDPMD_QUEUES_MAX, &n) != 0)
			return bad(err, errlen, "--rx-queues: 1 to 64", v);
		o->rx_queues = (uint16_t)n;
		return 0;
	case OPT_TX_QUEUES:
		if (sl_parse_u64(v, 1, SL_SENDPMD_QUEUES_MAX, &n) != 0)
			return bad(err, errlen, "--tx-queues: 1 to 64", v);
		o->tx_queues = (uint16_t)n;
		return 0;
	}
	return -EINVAL;
}

/*
 * The scan shared by sl_sendpmd_opts_extract() and sl_sendpmd_find_option():
 * with @p o NULL it only looks for the first option of ours.
 */
static int
scan(struct sl_sendpmd_opts *o, int *argc, char **argv, const char **first, char *err,
     size_t errlen)
{
	int i = 1, out = 1, found = 0;

	while (i < *argc) {
		const char *a = argv[i];
		const char *eq;
		size_t name_len;
		int k;

		if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0)
			break; /* An operand or the end of the options: getopt stops there. */
		if (a[1] != '-') {
			/* Short options (-q, -v, -h): none takes a value. */
			argv[out++] = argv[i++];
			continue;
		}
		eq = strchr(a + 2, '=');
		name_len = eq != NULL ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		k = find_dpdk_option(a + 2, name_len);
		if (k < 0) {
			argv[out++] = argv[i++];
			if (eq == NULL && sender_takes_value(a + 2, name_len) && i < *argc)
				argv[out++] = argv[i++];
			continue;
		}
		found++;
		if (o == NULL) {
			*first = a;
			return found;
		}
		if (eq == NULL && i + 1 >= *argc) {
			snprintf(err, errlen, "option needs a value: '%s'", a);
			return -EINVAL;
		}
		if (apply(o, dpdk_options[k].id, eq != NULL ? eq + 1 : argv[i + 1], err, errlen) !=
		    0)
			return -EINVAL;
		i += eq != NULL ? 1 : 2;
	}
	while (i < *argc)
		argv[out++] = argv[i++];
	argv[out] = NULL;
	*argc = out;
	return found;
}

int
sl_sendpmd_opts_extract(struct sl_sendpmd_opts *o, int *argc, char **argv, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->mtu = SL_SENDPMD_MTU_DEFAULT;
	o->idle_sleep_us = SL_SENDPMD_IDLE_SLEEP_DEFAULT;
	err[0] = '\0';
	return scan(o, argc, argv, NULL, err, errlen);
}

const char *
sl_sendpmd_find_option(int argc, char *const *argv)
{
	const char *first = NULL;
	char **copy = calloc((size_t)argc + 1, sizeof(*copy));
	char err[8];
	int n = argc;

	if (copy == NULL)
		return NULL;
	memcpy(copy, argv, (size_t)argc * sizeof(*copy));
	scan(NULL, &n, copy, &first, err, sizeof(err));
	free(copy);
	return first;
}

uint16_t
sl_sendpmd_max_payload(uint16_t mtu)
{
	unsigned p = mtu > SL_SENDPMD_IP_OVERHEAD ? mtu - SL_SENDPMD_IP_OVERHEAD : 0;

	return (uint16_t)(p > SL_PROTO_MAX_PAYLOAD_MAX ? SL_PROTO_MAX_PAYLOAD_MAX : p);
}

int
sl_sendpmd_opts_check(const struct sl_sendpmd_opts *o, const struct sl_sender_opts *so,
		      uint32_t *dst_ip, char *err, size_t errlen)
{
	struct in6_addr a6;

	err[0] = '\0';
	if (so->bind != NULL) {
		snprintf(err, errlen, "--bind is for the socket mode; with --dpdk give --src-ip");
		return -EINVAL;
	}
	if (!o->have_src) {
		snprintf(err, errlen,
			 "--dpdk needs --src-ip=ADDR/PREFIX (our address on the port)");
		return -EINVAL;
	}
	if (inet_pton(AF_INET6, so->host, &a6) == 1) {
		snprintf(err, errlen, "%s: DPDK mode sends over IPv4 only", so->host);
		return -EINVAL;
	}
	if (parse_ipv4(so->host, dst_ip) != 0) {
		snprintf(
			err, errlen,
			"%s: in DPDK mode HOST must be a numeric IPv4 address (no name resolution)",
			so->host);
		return -EINVAL;
	}
	if (*dst_ip == o->src_ip) {
		snprintf(err, errlen, "%s: HOST is our own --src-ip", so->host);
		return -EINVAL;
	}
	if (so->max_payload > sl_sendpmd_max_payload(o->mtu)) {
		snprintf(err, errlen, "--max-payload %u does not fit --mtu %u (at most %u)",
			 so->max_payload, o->mtu, sl_sendpmd_max_payload(o->mtu));
		return -EINVAL;
	}
	return 0;
}

int
sl_sendpmd_next_hop(uint32_t src_ip, uint8_t prefix, uint32_t dst_ip, uint32_t gateway,
		    uint32_t *hop)
{
	uint32_t mask = prefix == 0 ? 0 : htonl(~0u << (32 - prefix));

	if (((src_ip ^ dst_ip) & mask) == 0) {
		*hop = dst_ip;
		return 0;
	}
	if (gateway == 0)
		return -EHOSTUNREACH;
	*hop = gateway;
	return 0;
}

const char *
sl_sendpmd_usage(void)
{
	return "\n"
	       "DPDK mode: sluice-send --dpdk [EAL options] -- [options] --src-ip=ADDR/PREFIX "
	       "HOST[:PORT] SOURCE...\n"
	       "Sends from a DPDK port (a NIC, or net_memif as client of a sluice memif server)\n"
	       "instead of a kernel socket; --dpdk comes first, the EAL options end at '--'.\n"
	       "HOST must be a numeric IPv4 address. The options above keep their meaning\n"
	       "(but --bind), and these are added:\n"
	       "  --src-ip=ADDR/PREFIX our IPv4 address on the port (required)\n"
	       "  --port-id=N       DPDK port to send from (default: the first)\n"
	       "  --dst-mac=MAC     MAC of HOST or of the gateway: no ARP\n"
	       "  --gateway=ADDR    next hop when HOST is outside ADDR/PREFIX\n"
	       "  --mtu=N           largest IP packet, 1280..9000 (default 1500); the largest\n"
	       "                    UDP payload is N - 28\n"
	       "  --idle-sleep=USEC sleep when a loop found nothing to do, 0 = busy-poll\n"
	       "                    (default 50)\n"
	       "  --src-port=N      our UDP port (default: random, 49152..65535)\n"
	       "  --rx-queues=N     RX queues, all polled, 1..64 (default 1)\n"
	       "  --tx-queues=N     TX queues, the first used, 1..64 (default 1)\n"
	       "                    On net_memif both default to what the server accepts,\n"
	       "                    which must match its TX and RX queues (sluice: one TX\n"
	       "                    queue per RX and writer lcore, one RX queue per RX lcore)\n"
	       "Exit status as above; a device that cannot be set up or whose link stays\n"
	       "down is a usage error (2), a next hop that does not answer ARP is 3.\n";
}
