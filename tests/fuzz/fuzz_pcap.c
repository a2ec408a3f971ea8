/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pcap, both ways. The first byte of the input chooses.
 *
 * Even: the serializers. The input describes a packet as the writer lcores
 * get it: a chain of 1 to 8 mbufs built by hand (no EAL) with any headroom,
 * zero-length segments, a pkt_len larger or smaller than the sum of the
 * data_len, a snaplen of 1..262144, a timestamp and up to 8 interfaces with
 * optional names. It is serialized with sl_pcap_record_write() (and with
 * sl_pcap_record_write_flat() from the expected bytes) behind a header from
 * sl_pcap_header_write(), and read back with the strict reader.
 * Invariants: each call writes exactly the size it reports (exact-size heap
 * blocks, so ASan sees a byte too many), pcapng padding is zero, the mbuf and
 * flat records are identical, and the reader accepts the file and returns
 * the same caplen, original length, interface, timestamp (pcap: while the
 * seconds fit in 32 bits) and bytes: those of the chain up to caplen, zeros
 * where a chain is shorter than its pkt_len.
 *
 * Odd: the reader, on the rest of the input as a file (a crash may leave any
 * bytes behind). Invariants: it never reads outside the input; packets lie
 * inside it with caplen <= len and within the interface's snaplen; good_end
 * only grows and stays inside the file; errors are sticky, with a reason;
 * and whatever it reads, written again as pcapng, reads back the same.
 */
#include <errno.h>

#include <rte_mbuf.h>

#include "fuzz.h"
#include "sl_pcap.h"

#define MAX_SEGS 8
#define MAX_SEG_LEN 4096
#define MAX_IFACES 8
#define MAX_PACKETS 256

static struct rte_mbuf segs[MAX_SEGS];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void
check_packet(const struct sl_pcap_packet *pkt, uint64_t ts, uint32_t iface, uint32_t caplen,
	     uint32_t len, const uint8_t *bytes)
{
	FUZZ_ASSERT(pkt->ts_ns == ts && pkt->iface == iface);
	FUZZ_ASSERT(pkt->caplen == caplen && pkt->len == len);
	FUZZ_ASSERT(caplen == 0 || memcmp(pkt->data, bytes, caplen) == 0);
}

static void
round_trip(struct fuzz_input *in)
{
	struct sl_pcap_iface ifaces[MAX_IFACES];
	char names[MAX_IFACES][24];
	uint8_t *bufs[MAX_SEGS] = { NULL }, *expect, *head, *rec, *flat, *file;
	uint8_t flags = fuzz_u8(in);
	enum sl_pcap_format fmt = flags & 1 ? SL_PCAP_FORMAT_PCAPNG : SL_PCAP_FORMAT_PCAP;
	unsigned nb_ifaces = 1 + (flags >> 1) % MAX_IFACES;
	uint32_t snaplen = 1 + fuzz_u32(in) % SL_PCAP_MAX_SNAPLEN;
	uint64_t ts = fuzz_u64(in);
	uint32_t iface = fuzz_u8(in) % nb_ifaces;
	int32_t len_delta = (int16_t)fuzz_u16(in);
	unsigned nsegs = 1 + fuzz_u8(in) % MAX_SEGS;
	uint64_t sum = 0, pkt_len;
	uint32_t caplen, copied = 0;
	size_t hsize, rsize, fsize, got;
	struct sl_pcap_reader r;
	struct sl_pcap_packet pkt;

	for (unsigned i = 0; i < nb_ifaces; i++) {
		uint8_t n = fuzz_u8(in);
		const uint8_t *p = fuzz_bytes(in, n % sizeof(names[i]), &got);

		memcpy(names[i], p, got);
		names[i][got] = '\0';
		ifaces[i].name = n & 0x80 ? NULL : names[i];
		ifaces[i].description = n & 0x40 ? names[i] : NULL;
		ifaces[i].snaplen = snaplen;
	}

	memset(segs, 0, sizeof(segs));
	for (unsigned i = 0; i < nsegs; i++) {
		uint16_t data_len = fuzz_u16(in) % (MAX_SEG_LEN + 1);
		uint16_t headroom = fuzz_u8(in);
		const uint8_t *p;

		/* Segments of 0 bytes are as likely as any other length. */
		if (data_len & 0x100)
			data_len = 0;
		bufs[i] = malloc((size_t)headroom + data_len + 1);
		FUZZ_ASSERT(bufs[i] != NULL);
		memset(bufs[i], 0xee, headroom);
		p = fuzz_bytes(in, data_len, &got);
		memcpy(bufs[i] + headroom, p, got);
		for (size_t k = got; k < data_len; k++)
			bufs[i][headroom + k] = (uint8_t)(k * 7 + i);
		segs[i].buf_addr = bufs[i];
		segs[i].data_off = headroom;
		segs[i].data_len = data_len;
		segs[i].buf_len = (uint16_t)(headroom + data_len);
		segs[i].next = i + 1 < nsegs ? &segs[i + 1] : NULL;
		sum += data_len;
	}
	pkt_len = (int64_t)sum + len_delta < 0 ? 0 : sum + (uint64_t)(int64_t)len_delta;
	segs[0].pkt_len = (uint32_t)pkt_len;
	segs[0].nb_segs = (uint16_t)nsegs;
	caplen = pkt_len < snaplen ? (uint32_t)pkt_len : snaplen;

	/* What the record must hold: the chain's bytes, then zeros. */
	expect = calloc(1, caplen + 1);
	FUZZ_ASSERT(expect != NULL);
	for (unsigned i = 0; i < nsegs && copied < caplen; i++) {
		uint32_t n =
			segs[i].data_len < caplen - copied ? segs[i].data_len : caplen - copied;

		memcpy(expect + copied, bufs[i] + segs[i].data_off, n);
		copied += n;
	}

	hsize = sl_pcap_header_size(fmt, ifaces, nb_ifaces);
	rsize = sl_pcap_record_size(fmt, caplen);
	FUZZ_ASSERT(rsize ==
		    (fmt == SL_PCAP_FORMAT_PCAP ? 16u + caplen : 32u + ((caplen + 3) & ~3u)));
	head = malloc(hsize);
	rec = malloc(rsize);
	flat = malloc(rsize);
	FUZZ_ASSERT(head != NULL && rec != NULL && flat != NULL);
	memset(rec, 0xaa, rsize);
	memset(flat, 0x55, rsize);
	FUZZ_ASSERT(sl_pcap_header_write(fmt, head, ifaces, nb_ifaces) == hsize);
	FUZZ_ASSERT(sl_pcap_record_write(fmt, rec, ts, iface, &segs[0], caplen) == rsize);
	FUZZ_ASSERT(sl_pcap_record_write_flat(fmt, flat, ts, iface, expect, caplen,
					      (uint32_t)pkt_len) == rsize);
	FUZZ_ASSERT(memcmp(rec, flat, rsize) == 0);
	if (fmt == SL_PCAP_FORMAT_PCAPNG)
		for (size_t k = 28 + caplen; k < rsize - 4; k++)
			FUZZ_ASSERT(rec[k] == 0);

	fsize = hsize + 2 * rsize;
	file = malloc(fsize);
	FUZZ_ASSERT(file != NULL);
	memcpy(file, head, hsize);
	memcpy(file + hsize, rec, rsize);
	memcpy(file + hsize + rsize, flat, rsize);
	if (sl_pcap_reader_open(&r, file, fsize) != 0) {
		fprintf(stderr, "reader refuses our header: %s\n", r.error);
		FUZZ_ASSERT(false);
	}
	FUZZ_ASSERT(r.nb_ifaces == (fmt == SL_PCAP_FORMAT_PCAP ? 1 : 0));
	if (fmt == SL_PCAP_FORMAT_PCAP) {
		iface = 0;
		/* Seconds are 32 bits in a pcap record. */
		if (ts / 1000000000u > UINT32_MAX)
			ts = (ts / 1000000000u & UINT32_MAX) * 1000000000u + ts % 1000000000u;
	}
	for (int k = 0; k < 2; k++) {
		int rc = sl_pcap_reader_next(&r, &pkt);

		if (rc != 1) {
			fprintf(stderr, "reader refuses record %d: %d %s\n", k, rc, r.error);
			FUZZ_ASSERT(false);
		}
		check_packet(&pkt, ts, iface, caplen, (uint32_t)pkt_len, expect);
	}
	FUZZ_ASSERT(sl_pcap_reader_next(&r, &pkt) == 0 && r.good_end == fsize);
	FUZZ_ASSERT(r.nb_ifaces == (fmt == SL_PCAP_FORMAT_PCAP ? 1 : nb_ifaces));

	free(file);
	free(flat);
	free(rec);
	free(head);
	free(expect);
	for (unsigned i = 0; i < nsegs; i++)
		free(bufs[i]);
}

/* Writes @p pkts again as pcapng with the reader's interfaces and reads them back. */
static void
rewrite(const struct sl_pcap_reader *r, const struct sl_pcap_packet *pkts, unsigned n)
{
	struct sl_pcap_iface ifaces[SL_PCAP_READER_MAX_IFACES];
	struct sl_pcap_reader back;
	struct sl_pcap_packet pkt;
	size_t size, off;
	uint8_t *file;

	for (unsigned i = 0; i < r->nb_ifaces; i++)
		ifaces[i] = (struct sl_pcap_iface){ .snaplen = r->if_snaplen[i] };
	size = sl_pcap_header_size(SL_PCAP_FORMAT_PCAPNG, ifaces, r->nb_ifaces);
	for (unsigned i = 0; i < n; i++)
		size += sl_pcap_record_size(SL_PCAP_FORMAT_PCAPNG, pkts[i].caplen);
	file = malloc(size);
	FUZZ_ASSERT(file != NULL);
	off = sl_pcap_header_write(SL_PCAP_FORMAT_PCAPNG, file, ifaces, r->nb_ifaces);
	for (unsigned i = 0; i < n; i++)
		off += sl_pcap_record_write_flat(SL_PCAP_FORMAT_PCAPNG, file + off, pkts[i].ts_ns,
						 pkts[i].iface, pkts[i].data, pkts[i].caplen,
						 pkts[i].len);
	FUZZ_ASSERT(off == size);
	FUZZ_ASSERT(sl_pcap_reader_open(&back, file, size) == 0);
	for (unsigned i = 0; i < n; i++) {
		FUZZ_ASSERT(sl_pcap_reader_next(&back, &pkt) == 1);
		check_packet(&pkt, pkts[i].ts_ns, pkts[i].iface, pkts[i].caplen, pkts[i].len,
			     pkts[i].data);
	}
	FUZZ_ASSERT(sl_pcap_reader_next(&back, &pkt) == 0);
	free(file);
}

static void
read_any(const uint8_t *data, size_t size)
{
	static struct sl_pcap_packet pkts[MAX_PACKETS];
	struct sl_pcap_reader r;
	unsigned n = 0;
	size_t good = 0;
	int rc;

	rc = sl_pcap_reader_open(&r, data, size);
	FUZZ_ASSERT(rc == 0 || rc == -EBADMSG);
	FUZZ_ASSERT(memchr(r.error, '\0', sizeof(r.error)) != NULL);
	if (rc != 0) {
		FUZZ_ASSERT(r.error[0] != '\0');
		FUZZ_ASSERT(sl_pcap_reader_next(&r, &pkts[0]) == -EBADMSG);
		return;
	}
	for (;;) {
		struct sl_pcap_packet pkt;

		rc = sl_pcap_reader_next(&r, &pkt);
		FUZZ_ASSERT(rc == 1 || rc == 0 || rc == -EBADMSG);
		FUZZ_ASSERT(r.good_end >= good && r.good_end <= size && r.offset <= size);
		FUZZ_ASSERT(r.nb_ifaces <= SL_PCAP_READER_MAX_IFACES);
		good = r.good_end;
		if (rc != 1)
			break;
		FUZZ_ASSERT(pkt.data >= data && pkt.caplen <= size &&
			    pkt.data - data <= (ptrdiff_t)(size - pkt.caplen));
		FUZZ_ASSERT(pkt.caplen <= pkt.len);
		FUZZ_ASSERT(pkt.iface < r.nb_ifaces);
		FUZZ_ASSERT(r.if_snaplen[pkt.iface] == 0 || pkt.caplen <= r.if_snaplen[pkt.iface]);
		if (n < MAX_PACKETS)
			pkts[n++] = pkt;
	}
	FUZZ_ASSERT(sl_pcap_reader_next(&r, &pkts[MAX_PACKETS - 1]) == rc);
	if (rc == -EBADMSG)
		FUZZ_ASSERT(r.error[0] != '\0');
	else
		FUZZ_ASSERT(r.good_end == size);
	rewrite(&r, pkts, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		read_any(data + 1, size - 1);
	} else {
		in.p++;
		in.left--;
		round_trip(&in);
	}
	return 0;
}
