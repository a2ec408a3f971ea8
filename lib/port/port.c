/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_log.h>

#include "sl_port.h"

RTE_LOG_REGISTER(sl_logtype_port, sluice.port, INFO);
#define PORT_LOG(level, fmt, ...)                                                                  \
	rte_log(RTE_LOG_##level, sl_logtype_port, "port: " fmt, ##__VA_ARGS__)

int
sl_port_configure(uint16_t port_id, const struct sl_port_conf *conf, char *err, size_t errlen)
{
	struct rte_eth_conf ec;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = conf->nb_rxd, nb_txd = conf->nb_txd ? conf->nb_txd : 512;
	int socket = sl_port_socket(port_id);
	uint16_t nb_txq = conf->nb_txq;
	int rc;

	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc < 0) {
		snprintf(err, errlen, "port %u: cannot read device info: %s", port_id,
			 strerror(-rc));
		return rc;
	}
	if (conf->nb_rxq > info.max_rx_queues) {
		snprintf(err, errlen, "port %u (%s) has at most %u RX queues, %u wanted", port_id,
			 info.driver_name, info.max_rx_queues, conf->nb_rxq);
		return -EINVAL;
	}
	if (conf->nb_txq > info.max_tx_queues) {
		snprintf(err, errlen,
			 "port %u (%s) has at most %u TX queues, %u wanted (one per RX and writer "
			 "lcore; for net_af_packet add qpairs=%u to its --vdev)",
			 port_id, info.driver_name, info.max_tx_queues, conf->nb_txq, conf->nb_txq);
		return -EINVAL;
	}
	memset(&ec, 0, sizeof(ec));
	if (conf->rx_csum)
		ec.rxmode.offloads |= info.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM |
							      RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
	if (conf->nb_rxq > 1 && conf->no_rss) {
		PORT_LOG(WARNING,
			 "port %u (%s): RSS is off; its %u queues are filled by the device\n",
			 port_id, info.driver_name, conf->nb_rxq);
	} else if (conf->nb_rxq > 1 && info.flow_type_rss_offloads != 0) {
		uint64_t want = conf->rss_hf ? conf->rss_hf
					     : RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;

		ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		ec.rx_adv_conf.rss_conf.rss_hf = want & info.flow_type_rss_offloads;
		if (want & ~info.flow_type_rss_offloads)
			PORT_LOG(INFO,
				 "port %u (%s) cannot hash on RSS types 0x%" PRIx64
				 ", left out (hashing on 0x%" PRIx64 ")\n",
				 port_id, info.driver_name, want & ~info.flow_type_rss_offloads,
				 ec.rx_adv_conf.rss_conf.rss_hf);
	} else if (conf->nb_rxq > 1) {
		PORT_LOG(WARNING,
			 "port %u (%s) has no RSS; its %u queues are filled by the device\n",
			 port_id, info.driver_name, conf->nb_rxq);
	}
	if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) && !conf->no_scatter)
		ec.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	if (conf->rx_timestamp && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP))
		ec.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	else if (conf->rx_timestamp)
		PORT_LOG(WARNING,
			 "port %u (%s) offers no RX timestamp offload; timestamp = on is ignored\n",
			 port_id, info.driver_name);

	rc = rte_eth_dev_configure(port_id, conf->nb_rxq, nb_txq, &ec);
	if (rc == -EINVAL && nb_txq == 0) {
		/* Some drivers (net_af_xdp) want as many TX queues as RX queues;
		 * capture mode leaves them unused. */
		nb_txq = conf->nb_rxq;
		rc = rte_eth_dev_configure(port_id, conf->nb_rxq, nb_txq, &ec);
	}
	if (rc < 0) {
		snprintf(err, errlen, "port %u (%s): configure with %u RX queues failed: %s",
			 port_id, info.driver_name, conf->nb_rxq, strerror(-rc));
		return rc;
	}
	if (conf->mtu != 0) {
		rc = rte_eth_dev_set_mtu(port_id, conf->mtu);
		if (rc < 0 && rc != -ENOTSUP) {
			snprintf(err, errlen, "port %u (%s): cannot set MTU %u: %s", port_id,
				 info.driver_name, conf->mtu, strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (rc < 0) {
		snprintf(err, errlen, "port %u: descriptor counts refused: %s", port_id,
			 strerror(-rc));
		return rc;
	}
	for (uint16_t q = 0; q < conf->nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, nb_rxd, socket, NULL, conf->pool);
		if (rc < 0) {
			snprintf(err, errlen, "port %u: RX queue %u setup failed: %s", port_id, q,
				 strerror(-rc));
			return rc;
		}
	}
	for (uint16_t q = 0; q < nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(port_id, q, nb_txd, socket, NULL);
		if (rc < 0) {
			snprintf(err, errlen, "port %u: TX queue %u setup failed: %s", port_id, q,
				 strerror(-rc));
			return rc;
		}
	}
	PORT_LOG(INFO,
		 "port %u (%s): %u RX queue(s) of %u descriptors, %u TX queue(s) of %u, RSS %s, "
		 "RX offloads 0x%" PRIx64 "\n",
		 port_id, info.driver_name, conf->nb_rxq, nb_rxd, nb_txq, nb_txd,
		 ec.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? "on" : "off", ec.rxmode.offloads);
	return 0;
}

int
sl_port_start(uint16_t port_id, bool promiscuous, char *err, size_t errlen)
{
	int rc = rte_eth_dev_start(port_id);

	if (rc < 0) {
		snprintf(err, errlen, "port %u: start failed: %s", port_id, strerror(-rc));
		return rc;
	}
	if (promiscuous) {
		rc = rte_eth_promiscuous_enable(port_id);
		if (rc < 0 && rc != -ENOTSUP)
			PORT_LOG(WARNING, "port %u: cannot enable promiscuous mode: %s\n", port_id,
				 strerror(-rc));
	}
	return 0;
}

void
sl_port_stop(uint16_t port_id)
{
	int rc = rte_eth_dev_stop(port_id);

	if (rc < 0)
		PORT_LOG(WARNING, "port %u: stop failed: %s\n", port_id, strerror(-rc));
}

int
sl_port_mac(uint16_t port_id, struct rte_ether_addr *mac)
{
	return rte_eth_macaddr_get(port_id, mac);
}

uint16_t
sl_port_max_rxq(uint16_t port_id)
{
	struct rte_eth_dev_info info;

	if (rte_eth_dev_info_get(port_id, &info) < 0)
		return 0;
	return info.max_rx_queues;
}

int
sl_port_socket(uint16_t port_id)
{
	int s = rte_eth_dev_socket_id(port_id);

	return s < 0 ? 0 : s;
}

void
sl_port_name(uint16_t port_id, char *buf, size_t len)
{
	char name[RTE_ETH_NAME_MAX_LEN];

	if (rte_eth_dev_get_name_by_port(port_id, name) < 0)
		snprintf(name, sizeof(name), "port%u", port_id);
	snprintf(buf, len, "%s", name);
}

int
sl_port_nic_stats(uint16_t port_id, struct sl_nic_stats *out)
{
	struct rte_eth_stats s;
	int rc = rte_eth_stats_get(port_id, &s);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	out->ipackets = s.ipackets;
	out->ibytes = s.ibytes;
	out->imissed = s.imissed;
	out->ierrors = s.ierrors;
	out->rx_nombuf = s.rx_nombuf;
	return 0;
}
