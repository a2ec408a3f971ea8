/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "sl_pcap.h"

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_GLOBAL_HDR 24u
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4

#define PCAPNG_BLOCK_SHB 0x0a0d0d0au
#define PCAPNG_BLOCK_IDB 0x00000001u
#define PCAPNG_BLOCK_SPB 0x00000003u
#define PCAPNG_BLOCK_EPB 0x00000006u
#define PCAPNG_BYTE_ORDER_MAGIC 0x1a2b3c4du
#define PCAPNG_VERSION_MAJOR 1
#define PCAPNG_VERSION_MINOR 0

#define PCAPNG_OPT_ENDOFOPT 0
#define PCAPNG_OPT_SHB_USERAPPL 4
#define PCAPNG_OPT_IF_NAME 2
#define PCAPNG_OPT_IF_DESCRIPTION 3
#define PCAPNG_OPT_IF_TSRESOL 9

/* Smallest blocks: type, length and trailing length, plus each body's fixed part. */
#define PCAPNG_BLOCK_MIN 12u
#define PCAPNG_SHB_MIN 28u
#define PCAPNG_IDB_MIN 20u
#define PCAPNG_SPB_MIN 16u
#define PCAPNG_EPB_HDR 28u

/* if_tsresol values (10^-6 and 10^-9 s); readers assume microseconds when an IDB has none. */
#define TSRESOL_USEC 6
#define TSRESOL_NSEC 9

#define SL_USERAPPL "sluice"
#define NS_PER_SEC 1000000000u

/* An option's length field is 16 bits; longer strings are cut rather than refused, since
 * interface names and descriptions are informative only. */
#define OPTION_MAX_LEN 0xffffu

/* 64-bit so that a hostile caplen near 4 GiB cannot wrap to a small value in the reader. */
static inline uint64_t
pad4(uint64_t n)
{
	return (n + 3u) & ~(uint64_t)3;
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void
put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static size_t
string_option_len(const char *s)
{
	size_t n;

	/* An empty string option carries nothing and some readers warn about it. */
	if (s == NULL || s[0] == '\0')
		return 0;
	n = strnlen(s, OPTION_MAX_LEN);
	return 4 + pad4(n);
}

static size_t
write_string_option(uint8_t *p, uint16_t code, const char *s)
{
	size_t total = string_option_len(s);
	size_t n;

	if (total == 0)
		return 0;
	n = strnlen(s, OPTION_MAX_LEN);
	put16(p, code);
	put16(p + 2, (uint16_t)n);
	memcpy(p + 4, s, n);
	memset(p + 4 + n, 0, total - 4 - n);
	return total;
}

static size_t
shb_size(void)
{
	return 24 + string_option_len(SL_USERAPPL) + 4 + 4;
}

static size_t
idb_size(const struct sl_pcap_iface *iface)
{
	/* Fixed part, if_tsresol (4 + 1 padded to 4), opt_endofopt, trailing length. */
	return 16 + string_option_len(iface->name) + string_option_len(iface->description) + 8 + 4 +
	       4;
}

size_t
sl_pcap_header_size(enum sl_pcap_format fmt, const struct sl_pcap_iface *ifaces, unsigned nb_ifaces)
{
	size_t size;
	unsigned i;

	if (fmt == SL_PCAP_FORMAT_PCAP)
		return PCAP_GLOBAL_HDR;
	size = shb_size();
	for (i = 0; i < nb_ifaces; i++)
		size += idb_size(&ifaces[i]);
	return size;
}

static size_t
write_shb(uint8_t *p)
{
	uint32_t len = (uint32_t)shb_size();
	size_t off = 24;

	put32(p, PCAPNG_BLOCK_SHB);
	put32(p + 4, len);
	put32(p + 8, PCAPNG_BYTE_ORDER_MAGIC);
	put16(p + 12, PCAPNG_VERSION_MAJOR);
	put16(p + 14, PCAPNG_VERSION_MINOR);
	/* Section length unknown: the file grows while it is captured. */
	put64(p + 16, UINT64_MAX);
	off += write_string_option(p + off, PCAPNG_OPT_SHB_USERAPPL, SL_USERAPPL);
	put32(p + off, PCAPNG_OPT_ENDOFOPT);
	put32(p + off + 4, len);
	return len;
}

static size_t
write_idb(uint8_t *p, const struct sl_pcap_iface *iface)
{
	uint32_t len = (uint32_t)idb_size(iface);
	size_t off = 16;

	put32(p, PCAPNG_BLOCK_IDB);
	put32(p + 4, len);
	put16(p + 8, SL_PCAP_LINKTYPE_ETHERNET);
	put16(p + 10, 0);
	put32(p + 12, iface->snaplen);
	off += write_string_option(p + off, PCAPNG_OPT_IF_NAME, iface->name);
	off += write_string_option(p + off, PCAPNG_OPT_IF_DESCRIPTION, iface->description);
	put16(p + off, PCAPNG_OPT_IF_TSRESOL);
	put16(p + off + 2, 1);
	put32(p + off + 4, 0);
	p[off + 4] = TSRESOL_NSEC;
	off += 8;
	put32(p + off, PCAPNG_OPT_ENDOFOPT);
	put32(p + off + 4, len);
	return len;
}

size_t
sl_pcap_header_write(enum sl_pcap_format fmt, void *buf, const struct sl_pcap_iface *ifaces,
		     unsigned nb_ifaces)
{
	uint8_t *p = buf;
	size_t off;
	unsigned i;

	if (fmt == SL_PCAP_FORMAT_PCAP) {
		/* Without an interface, fall back to the largest snaplen rather than 0, which
		 * some readers take literally. */
		uint32_t snaplen = nb_ifaces > 0 ? ifaces[0].snaplen : SL_PCAP_MAX_SNAPLEN;

		put32(p, PCAP_MAGIC_NSEC);
		put16(p + 4, PCAP_VERSION_MAJOR);
		put16(p + 6, PCAP_VERSION_MINOR);
		put32(p + 8, 0);
		put32(p + 12, 0);
		put32(p + 16, snaplen);
		put32(p + 20, SL_PCAP_LINKTYPE_ETHERNET);
		return PCAP_GLOBAL_HDR;
	}
	off = write_shb(p);
	for (i = 0; i < nb_ifaces; i++)
		off += write_idb(p + off, &ifaces[i]);
	return off;
}

/* Writes the record header and returns where the packet bytes go. For pcapng the last word
 * of the padded data is zeroed first, so the copy that follows leaves the padding zero
 * without a separate memset. */
static inline uint8_t *
record_begin(enum sl_pcap_format fmt, uint8_t *p, uint64_t ts_ns, uint32_t iface, uint32_t caplen,
	     uint32_t len)
{
	if (fmt == SL_PCAP_FORMAT_PCAP) {
		put32(p, (uint32_t)(ts_ns / NS_PER_SEC));
		put32(p + 4, (uint32_t)(ts_ns % NS_PER_SEC));
		put32(p + 8, caplen);
		put32(p + 12, len);
		return p + SL_PCAP_RECORD_HDR;
	} else {
		uint32_t block_len = (uint32_t)(SL_PCAPNG_EPB_OVERHEAD + pad4(caplen));

		put32(p, PCAPNG_BLOCK_EPB);
		put32(p + 4, block_len);
		put32(p + 8, iface);
		put32(p + 12, (uint32_t)(ts_ns >> 32));
		put32(p + 16, (uint32_t)ts_ns);
		put32(p + 20, caplen);
		put32(p + 24, len);
		if (caplen & 3u)
			put32(p + PCAPNG_EPB_HDR + pad4(caplen) - 4, 0);
		put32(p + block_len - 4, block_len);
		return p + PCAPNG_EPB_HDR;
	}
}

size_t
sl_pcap_record_write(enum sl_pcap_format fmt, void *buf, uint64_t ts_ns, uint32_t iface,
		     const struct rte_mbuf *m, uint32_t caplen)
{
	uint8_t *dst = record_begin(fmt, buf, ts_ns, iface, caplen, rte_pktmbuf_pkt_len(m));
	uint32_t left = caplen;
	uint32_t n;

	n = RTE_MIN(left, (uint32_t)m->data_len);
	rte_memcpy(dst, rte_pktmbuf_mtod(m, const void *), n);
	left -= n;
	if (unlikely(left > 0)) {
		for (m = m->next; m != NULL && left > 0; m = m->next) {
			dst += n;
			n = RTE_MIN(left, (uint32_t)m->data_len);
			rte_memcpy(dst, rte_pktmbuf_mtod(m, const void *), n);
			left -= n;
		}
		/* A chain shorter than its pkt_len breaks the caller's contract; zeros are
		 * better than stale buffer bytes in the file. */
		if (unlikely(left > 0))
			memset(dst + n, 0, left);
	}
	return sl_pcap_record_size(fmt, caplen);
}

size_t
sl_pcap_record_write_flat(enum sl_pcap_format fmt, void *buf, uint64_t ts_ns, uint32_t iface,
			  const void *data, uint32_t caplen, uint32_t len)
{
	uint8_t *dst = record_begin(fmt, buf, ts_ns, iface, caplen, len);

	rte_memcpy(dst, data, caplen);
	return sl_pcap_record_size(fmt, caplen);
}

static int __attribute__((format(printf, 2, 3)))
fail(struct sl_pcap_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* Callers have checked that [off, off + 4) lies inside the input. */
static inline uint32_t
get32(const struct sl_pcap_reader *r, size_t off)
{
	uint32_t v;

	memcpy(&v, r->base + off, sizeof(v));
	return r->swapped ? __builtin_bswap32(v) : v;
}

static inline uint16_t
get16(const struct sl_pcap_reader *r, size_t off)
{
	uint16_t v;

	memcpy(&v, r->base + off, sizeof(v));
	return r->swapped ? __builtin_bswap16(v) : v;
}

static inline size_t
bytes_left(const struct sl_pcap_reader *r)
{
	return r->size - r->offset;
}

static const uint64_t pow10_table[] = {
	1ull,
	10ull,
	100ull,
	1000ull,
	10000ull,
	100000ull,
	1000000ull,
	10000000ull,
	100000000ull,
	1000000000ull,
	10000000000ull,
	100000000000ull,
	1000000000000ull,
	10000000000000ull,
	100000000000000ull,
	1000000000000000ull,
	10000000000000000ull,
	100000000000000000ull,
	1000000000000000000ull,
	10000000000000000000ull,
};

static bool
tsresol_supported(uint8_t resol)
{
	if (resol & 0x80)
		return (resol & 0x7f) <= 63;
	return resol < RTE_DIM(pow10_table);
}

/* Timestamps past year 2554 do not fit in 64-bit nanoseconds; they saturate instead of
 * wrapping to a plausible-looking date. */
static uint64_t
ts_to_ns(uint64_t ts, uint8_t resol)
{
	unsigned __int128 v;

	if (likely(resol == TSRESOL_NSEC))
		return ts;
	if (resol & 0x80)
		v = ((unsigned __int128)ts * NS_PER_SEC) >> (resol & 0x7f);
	else if (resol < TSRESOL_NSEC)
		v = (unsigned __int128)ts * pow10_table[TSRESOL_NSEC - resol];
	else
		v = ts / pow10_table[resol - TSRESOL_NSEC];
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static int
pcap_open(struct sl_pcap_reader *r, uint32_t magic)
{
	uint16_t major;

	if (r->size < PCAP_GLOBAL_HDR)
		return fail(r, "pcap global header truncated (%zu of %u bytes)", r->size,
			    PCAP_GLOBAL_HDR);
	r->swapped = magic == __builtin_bswap32(PCAP_MAGIC_USEC) ||
		     magic == __builtin_bswap32(PCAP_MAGIC_NSEC);
	magic = get32(r, 0);
	major = get16(r, 4);
	if (major != PCAP_VERSION_MAJOR)
		return fail(r, "unsupported pcap version %u.%u", major, get16(r, 6));
	r->format = SL_PCAP_FORMAT_PCAP;
	r->snaplen = get32(r, 16);
	r->nb_ifaces = 1;
	r->if_snaplen[0] = r->snaplen;
	r->if_tsresol[0] = magic == PCAP_MAGIC_NSEC ? TSRESOL_NSEC : TSRESOL_USEC;
	r->offset = PCAP_GLOBAL_HDR;
	r->good_end = PCAP_GLOBAL_HDR;
	return 0;
}

static int
pcap_next(struct sl_pcap_reader *r, struct sl_pcap_packet *pkt)
{
	uint32_t sec, frac, caplen, len;
	size_t off = r->offset;

	if (bytes_left(r) < SL_PCAP_RECORD_HDR)
		return fail(r, "record header truncated (%zu of %u bytes)", bytes_left(r),
			    SL_PCAP_RECORD_HDR);
	sec = get32(r, off);
	frac = get32(r, off + 4);
	caplen = get32(r, off + 8);
	len = get32(r, off + 12);
	if (caplen > len)
		return fail(r, "captured length %u exceeds original length %u", caplen, len);
	if (r->snaplen != 0 && caplen > r->snaplen)
		return fail(r, "captured length %u exceeds snaplen %u", caplen, r->snaplen);
	if (caplen > bytes_left(r) - SL_PCAP_RECORD_HDR)
		return fail(r, "record truncated (%zu of %u data bytes)",
			    bytes_left(r) - SL_PCAP_RECORD_HDR, caplen);
	pkt->ts_ns = (uint64_t)sec * NS_PER_SEC +
		     (r->if_tsresol[0] == TSRESOL_NSEC ? frac : (uint64_t)frac * 1000);
	pkt->iface = 0;
	pkt->caplen = caplen;
	pkt->len = len;
	pkt->data = r->base + off + SL_PCAP_RECORD_HDR;
	r->offset = off + SL_PCAP_RECORD_HDR + caplen;
	r->good_end = r->offset;
	r->packets++;
	return 1;
}

static const char *
block_name(uint32_t type, char *buf, size_t size)
{
	switch (type) {
	case PCAPNG_BLOCK_SHB:
		return "section header block";
	case PCAPNG_BLOCK_IDB:
		return "interface description block";
	case PCAPNG_BLOCK_SPB:
		return "simple packet block";
	case PCAPNG_BLOCK_EPB:
		return "enhanced packet block";
	default:
		snprintf(buf, size, "block type 0x%08x", type);
		return buf;
	}
}

/* Checks the framing every pcapng block shares and returns its type and total length. The
 * byte order must be known already. */
static int
block_check(struct sl_pcap_reader *r, uint32_t *type, uint32_t *len)
{
	size_t left = bytes_left(r);
	uint32_t trailer;
	char buf[32];

	if (left < 8)
		return fail(r, "block header truncated (%zu of 8 bytes)", left);
	*type = get32(r, r->offset);
	*len = get32(r, r->offset + 4);
	if (*len < PCAPNG_BLOCK_MIN)
		return fail(r, "%s: length %u too small", block_name(*type, buf, sizeof(buf)),
			    *len);
	if (*len % 4 != 0)
		return fail(r, "%s: length %u not a multiple of 4",
			    block_name(*type, buf, sizeof(buf)), *len);
	if (*len > left)
		return fail(r, "%s truncated (%zu of %u bytes)",
			    block_name(*type, buf, sizeof(buf)), left, *len);
	trailer = get32(r, r->offset + *len - 4);
	if (trailer != *len)
		return fail(r, "%s: trailing length %u differs from length %u",
			    block_name(*type, buf, sizeof(buf)), trailer, *len);
	return 0;
}

/* Walks the options in [start, end), which lies inside the input, checking that each one
 * fits. When @p iface is set, IDB options are applied to it. */
static int
options_check(struct sl_pcap_reader *r, size_t start, size_t end, unsigned *iface)
{
	size_t pos = start;

	while (pos < end) {
		uint16_t code, len;

		if (end - pos < 4)
			return fail(r, "option header truncated at block offset %zu",
				    pos - r->offset);
		code = get16(r, pos);
		len = get16(r, pos + 2);
		if (pad4(len) > end - pos - 4)
			return fail(r, "option %u (length %u) overruns its block", code, len);
		if (code == PCAPNG_OPT_ENDOFOPT)
			return 0;
		if (iface != NULL && code == PCAPNG_OPT_IF_TSRESOL) {
			uint8_t resol;

			if (len != 1)
				return fail(r, "if_tsresol option length %u, expected 1", len);
			resol = r->base[pos + 4];
			if (!tsresol_supported(resol))
				return fail(r, "unsupported if_tsresol 0x%02x", resol);
			r->if_tsresol[*iface] = resol;
		}
		pos += 4 + pad4(len);
	}
	return 0;
}

static int
pcapng_open(struct sl_pcap_reader *r)
{
	/* Initialized only because gcc -O3 cannot see that block_check() sets them. */
	uint32_t bom, type = 0, len = 0;
	uint16_t major;
	int rc;

	if (r->size < PCAPNG_SHB_MIN)
		return fail(r, "section header block truncated (%zu of %u bytes)", r->size,
			    PCAPNG_SHB_MIN);
	memcpy(&bom, r->base + 8, sizeof(bom));
	if (bom == __builtin_bswap32(PCAPNG_BYTE_ORDER_MAGIC))
		r->swapped = 1;
	else if (bom != PCAPNG_BYTE_ORDER_MAGIC)
		return fail(r, "bad pcapng byte-order magic 0x%08x", bom);
	r->format = SL_PCAP_FORMAT_PCAPNG;
	rc = block_check(r, &type, &len);
	if (rc < 0)
		return rc;
	if (len < PCAPNG_SHB_MIN)
		return fail(r, "section header block length %u too small", len);
	major = get16(r, 12);
	if (major != PCAPNG_VERSION_MAJOR)
		return fail(r, "unsupported pcapng version %u.%u", major, get16(r, 14));
	rc = options_check(r, 24, len - 4, NULL);
	if (rc < 0)
		return rc;
	r->offset = len;
	r->good_end = len;
	return 0;
}

static int
idb_parse(struct sl_pcap_reader *r, uint32_t len)
{
	unsigned id = r->nb_ifaces;
	int rc;

	if (len < PCAPNG_IDB_MIN)
		return fail(r, "interface description block length %u too small", len);
	if (id >= SL_PCAP_READER_MAX_IFACES)
		return fail(r, "more than %u interfaces", SL_PCAP_READER_MAX_IFACES);
	r->if_snaplen[id] = get32(r, r->offset + 12);
	r->if_tsresol[id] = TSRESOL_USEC;
	rc = options_check(r, r->offset + 16, r->offset + len - 4, &id);
	if (rc < 0)
		return rc;
	r->nb_ifaces = id + 1;
	return 0;
}

static int
epb_parse(struct sl_pcap_reader *r, uint32_t len, struct sl_pcap_packet *pkt)
{
	size_t off = r->offset;
	uint32_t iface, caplen, orig;
	uint64_t ts;
	int rc;

	if (len < SL_PCAPNG_EPB_OVERHEAD)
		return fail(r, "enhanced packet block length %u too small", len);
	iface = get32(r, off + 8);
	ts = (uint64_t)get32(r, off + 12) << 32 | get32(r, off + 16);
	caplen = get32(r, off + 20);
	orig = get32(r, off + 24);
	if (iface >= r->nb_ifaces)
		return fail(r, "interface id %u not described (%u interfaces)", iface,
			    r->nb_ifaces);
	if (caplen > orig)
		return fail(r, "captured length %u exceeds original length %u", caplen, orig);
	if (r->if_snaplen[iface] != 0 && caplen > r->if_snaplen[iface])
		return fail(r, "captured length %u exceeds interface %u snaplen %u", caplen, iface,
			    r->if_snaplen[iface]);
	if (SL_PCAPNG_EPB_OVERHEAD + pad4(caplen) > len)
		return fail(r, "enhanced packet block length %u too small for %u bytes", len,
			    caplen);
	rc = options_check(r, off + PCAPNG_EPB_HDR + pad4(caplen), off + len - 4, NULL);
	if (rc < 0)
		return rc;
	pkt->ts_ns = ts_to_ns(ts, r->if_tsresol[iface]);
	pkt->iface = iface;
	pkt->caplen = caplen;
	pkt->len = orig;
	pkt->data = r->base + off + PCAPNG_EPB_HDR;
	return 0;
}

static int
spb_parse(struct sl_pcap_reader *r, uint32_t len, struct sl_pcap_packet *pkt)
{
	uint32_t orig, caplen;

	if (len < PCAPNG_SPB_MIN)
		return fail(r, "simple packet block length %u too small", len);
	if (r->nb_ifaces == 0)
		return fail(r, "simple packet block before any interface description");
	orig = get32(r, r->offset + 8);
	caplen = orig;
	if (r->if_snaplen[0] != 0 && caplen > r->if_snaplen[0])
		caplen = r->if_snaplen[0];
	if (PCAPNG_SPB_MIN + pad4(caplen) > len)
		return fail(r, "simple packet block length %u too small for %u bytes", len, caplen);
	/* A simple packet block has no timestamp. */
	pkt->ts_ns = 0;
	pkt->iface = 0;
	pkt->caplen = caplen;
	pkt->len = orig;
	pkt->data = r->base + r->offset + 12;
	return 0;
}

static int
pcapng_next(struct sl_pcap_reader *r, struct sl_pcap_packet *pkt)
{
	/* Initialized only because gcc -O3 cannot see that block_check() sets them. */
	uint32_t type = 0, len = 0;
	int rc;

	while (r->offset < r->size) {
		rc = block_check(r, &type, &len);
		if (rc < 0)
			return rc;
		switch (type) {
		case PCAPNG_BLOCK_SHB:
			return fail(r, "second section header block (only one section is read)");
		case PCAPNG_BLOCK_IDB:
			rc = idb_parse(r, len);
			break;
		case PCAPNG_BLOCK_EPB:
			rc = epb_parse(r, len, pkt);
			break;
		case PCAPNG_BLOCK_SPB:
			rc = spb_parse(r, len, pkt);
			break;
		default:
			/* Statistics, name resolution, custom and unknown blocks carry no
			 * packets; their framing was checked above. */
			rc = 0;
			break;
		}
		if (rc < 0)
			return rc;
		r->offset += len;
		r->good_end = r->offset;
		if (type == PCAPNG_BLOCK_EPB || type == PCAPNG_BLOCK_SPB) {
			r->packets++;
			return 1;
		}
	}
	return 0;
}

int
sl_pcap_reader_open(struct sl_pcap_reader *r, const void *data, size_t size)
{
	uint32_t magic;

	memset(r, 0, sizeof(*r));
	r->base = data;
	r->size = size;
	if (size < 4)
		return fail(r, "file too short for a header (%zu bytes)", size);
	memcpy(&magic, r->base, sizeof(magic));
	switch (magic) {
	case PCAP_MAGIC_USEC:
	case PCAP_MAGIC_NSEC:
	case __builtin_bswap32(PCAP_MAGIC_USEC):
	case __builtin_bswap32(PCAP_MAGIC_NSEC):
		return pcap_open(r, magic);
	case PCAPNG_BLOCK_SHB:
		return pcapng_open(r);
	default:
		return fail(r, "bad magic 0x%08x (neither pcap nor pcapng)", magic);
	}
}

int
sl_pcap_reader_next(struct sl_pcap_reader *r, struct sl_pcap_packet *pkt)
{
	/* Errors are sticky, so a caller that ignores a failed open cannot read garbage. */
	if (r->error[0] != '\0')
		return -EBADMSG;
	if (r->offset == r->size)
		return 0;
	if (r->format == SL_PCAP_FORMAT_PCAP)
		return pcap_next(r, pkt);
	return pcapng_next(r, pkt);
}
