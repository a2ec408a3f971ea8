/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_PCAP_H
#define SL_PCAP_H

/**
 * @file
 * Serializers for pcap (nanosecond variant) and pcapng files, and a strict
 * reader for both, used by tests, tools and crash recovery.
 *
 * DPDK ships librte_pcapng, but it copies every packet into a new mbuf and
 * writes with writev(); sluice serializes straight into large registered
 * io_uring buffers instead, so it carries its own serializer.
 *
 * All functions are pure (no global state, no EAL): any thread may call
 * them. The writer lcores call the record functions on the data path.
 */

#include <stddef.h>
#include <stdint.h>

struct rte_mbuf;

enum sl_pcap_format {
	SL_PCAP_FORMAT_PCAP = 0, /**< libpcap format, nanosecond magic 0xa1b23c4d. */
	SL_PCAP_FORMAT_PCAPNG = 1,
};

/** Link type of every interface sluice captures on (LINKTYPE_ETHERNET). */
#define SL_PCAP_LINKTYPE_ETHERNET 1
/** Largest snaplen accepted, as tcpdump's default. */
#define SL_PCAP_MAX_SNAPLEN 262144u
/** pcap record header size. */
#define SL_PCAP_RECORD_HDR 16u
/** pcapng enhanced packet block overhead (header 28 + trailing length 4). */
#define SL_PCAPNG_EPB_OVERHEAD 32u

/** One capture interface: a pcapng IDB. For pcap only the first one's snaplen is used. */
struct sl_pcap_iface {
	const char *name;        /**< if_name option, may be NULL. */
	const char *description; /**< if_description option, may be NULL. */
	uint32_t snaplen;        /**< IDB snaplen. */
};

/**
 * Size in bytes of the file header: the 24-byte pcap global header, or a
 * pcapng section header block followed by one interface description block
 * per interface (each with if_tsresol = 9, i.e. nanoseconds).
 */
size_t sl_pcap_header_size(enum sl_pcap_format fmt, const struct sl_pcap_iface *ifaces,
			   unsigned nb_ifaces);

/**
 * Write the file header into @p buf, which holds at least
 * sl_pcap_header_size() bytes. For pcap, @p ifaces[0].snaplen is the global
 * snaplen (nb_ifaces must be >= 1).
 *
 * @return bytes written.
 */
size_t sl_pcap_header_write(enum sl_pcap_format fmt, void *buf, const struct sl_pcap_iface *ifaces,
			    unsigned nb_ifaces);

/** Size of the record for a packet of which @p caplen bytes are kept. */
static inline size_t
sl_pcap_record_size(enum sl_pcap_format fmt, uint32_t caplen)
{
	if (fmt == SL_PCAP_FORMAT_PCAP)
		return SL_PCAP_RECORD_HDR + caplen;
	return SL_PCAPNG_EPB_OVERHEAD + ((caplen + 3u) & ~3u);
}

/**
 * Serialize one packet: a pcap record, or a pcapng enhanced packet block on
 * interface @p iface. The first @p caplen bytes of the (possibly chained)
 * mbuf are copied; the original length is rte_pktmbuf_pkt_len(m).
 * Requires caplen <= pkt_len; pcapng padding bytes are zero.
 *
 * @return bytes written, equal to sl_pcap_record_size(fmt, caplen).
 */
size_t sl_pcap_record_write(enum sl_pcap_format fmt, void *buf, uint64_t ts_ns, uint32_t iface,
			    const struct rte_mbuf *m, uint32_t caplen);

/** Same as sl_pcap_record_write() from a flat buffer of @p caplen bytes, original length @p len. */
size_t sl_pcap_record_write_flat(enum sl_pcap_format fmt, void *buf, uint64_t ts_ns, uint32_t iface,
				 const void *data, uint32_t caplen, uint32_t len);

/** One packet returned by the reader; @p data points into the reader's input. */
struct sl_pcap_packet {
	uint64_t ts_ns;
	uint32_t iface; /**< pcapng interface id; 0 for pcap. */
	uint32_t caplen;
	uint32_t len;
	const uint8_t *data;
};

/** Most interfaces a pcapng file may describe for the reader. */
#define SL_PCAP_READER_MAX_IFACES 64

/** Strict reader over a whole file held in memory (read or mmap'ed). */
struct sl_pcap_reader {
	const uint8_t *base;
	size_t size;
	size_t offset;   /**< Where the next block or record starts. */
	size_t good_end; /**< End of the last complete, valid record or block. */
	enum sl_pcap_format format;
	int swapped;      /**< Input is of the other byte order. */
	uint32_t snaplen; /**< pcap global snaplen. */
	unsigned nb_ifaces;
	uint32_t if_snaplen[SL_PCAP_READER_MAX_IFACES];
	uint8_t if_tsresol[SL_PCAP_READER_MAX_IFACES];
	uint64_t packets; /**< Packets returned so far. */
	char error[160];  /**< Why the last call failed. */
};

/**
 * Start reading the file in @p data (a pcap file of either byte order and
 * either timestamp resolution, or a pcapng file with one section).
 *
 * @return 0, or -EBADMSG with r->error set.
 */
int sl_pcap_reader_open(struct sl_pcap_reader *r, const void *data, size_t size);

/**
 * Return the next packet. Non-packet pcapng blocks (IDB, ISB, NRB, custom)
 * are validated and skipped. Checks: block lengths, trailing length,
 * caplen <= len, caplen <= snaplen, known interface ids, no truncation.
 *
 * @return 1 with @p pkt filled, 0 at a clean end of file, -EBADMSG on a
 *   malformed or truncated record (r->error says what; r->good_end is where
 *   the valid part of the file ends, for trimming a torn tail). Errors are
 *   sticky: after a failed open or next, later calls return -EBADMSG again.
 */
int sl_pcap_reader_next(struct sl_pcap_reader *r, struct sl_pcap_packet *pkt);

#endif /* SL_PCAP_H */
