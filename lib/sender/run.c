/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sl_sender.h"
#include "sl_common.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define BATCH 64
#define RECV_BATCH 32
/* UDP GSO limits: segments per send and bytes per super-datagram. */
#define GSO_MAX_SEGMENTS 64
#define GSO_MAX_BYTES 65000
#define PROGRESS_NS 200000000ull
#define SOCKET_BUFFER (4 << 20)

static int
open_socket(const struct sl_sender_opts *o, int *family, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP };
	struct addrinfo *res = NULL, *ai;
	struct sockaddr_storage bind_addr;
	socklen_t bind_len = 0;
	char port[8];
	int fd = -1, r, one = 1, buf = SOCKET_BUFFER;

	memset(&bind_addr, 0, sizeof(bind_addr));
	if (o->bind != NULL) {
		struct sockaddr_in *b4 = (struct sockaddr_in *)&bind_addr;
		struct sockaddr_in6 *b6 = (struct sockaddr_in6 *)&bind_addr;

		if (inet_pton(AF_INET, o->bind, &b4->sin_addr) == 1) {
			b4->sin_family = AF_INET;
			bind_len = sizeof(*b4);
		} else if (inet_pton(AF_INET6, o->bind, &b6->sin6_addr) == 1) {
			b6->sin6_family = AF_INET6;
			bind_len = sizeof(*b6);
		} else {
			snprintf(err, errlen, "--bind: not an address: %s", o->bind);
			return -EINVAL;
		}
		hints.ai_family = bind_addr.ss_family;
	}
	snprintf(port, sizeof(port), "%u", o->port);
	r = getaddrinfo(o->host, port, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "%s: %s", o->host, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
		if (fd < 0)
			continue;
		if ((bind_len == 0 || bind(fd, (struct sockaddr *)&bind_addr, bind_len) == 0) &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			*family = ai->ai_family;
			break;
		}
		snprintf(err, errlen, "%s: %s", o->host, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -EHOSTUNREACH;
	/* Best effort: bigger buffers absorb bursts; never fragment (DF, PMTU probing). */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (*family == AF_INET) {
		int v = IP_PMTUDISC_PROBE;

		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	} else {
		int v = IPV6_PMTUDISC_PROBE;

		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof(v));
		setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof(one));
	}
	return fd;
}

struct sendq {
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[BATCH];
	unsigned first[BATCH]; /* First datagram of each message. */
	unsigned nmsgs;
};

/* Group datagrams into messages: runs of equal, contiguous datagrams become one GSO send. */
static void
sendq_build(struct sendq *q, const struct sl_sender_dgram *dg, unsigned n, bool gso)
{
	unsigned i = 0;

	q->nmsgs = 0;
	while (i < n) {
		struct msghdr *h = &q->msgs[q->nmsgs].msg_hdr;
		unsigned j = i + 1;
		size_t total = dg[i].len;

		if (gso) {
			while (j < n && j - i < GSO_MAX_SEGMENTS && dg[j].len <= dg[i].len &&
			       dg[j].buf == dg[j - 1].buf + dg[j - 1].len &&
			       total + dg[j].len <= GSO_MAX_BYTES) {
				total += dg[j].len;
				/* Only the last segment may be shorter. */
				if (dg[j++].len < dg[i].len)
					break;
			}
		}
		memset(h, 0, sizeof(*h));
		q->first[q->nmsgs] = i;
		q->iov[q->nmsgs].iov_base = dg[i].buf;
		q->iov[q->nmsgs].iov_len = total;
		h->msg_iov = &q->iov[q->nmsgs];
		h->msg_iovlen = 1;
		if (j - i > 1) {
			struct cmsghdr *cm;

			/* Zeroed whole: the kernel is handed the padding after the
			 * 2-byte payload too (CMSG_SPACE), and valgrind rightly
			 * flags uninitialised bytes passed to sendmmsg(). */
			memset(q->ctl[q->nmsgs].buf, 0, sizeof(q->ctl[q->nmsgs].buf));
			h->msg_control = q->ctl[q->nmsgs].buf;
			h->msg_controllen = sizeof(q->ctl[q->nmsgs].buf);
			cm = CMSG_FIRSTHDR(h);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			*(uint16_t *)CMSG_DATA(cm) = dg[i].len;
		}
		q->nmsgs++;
		i = j;
	}
}

/*
 * Send @p n datagrams; waits (briefly) while the socket buffer is full. GSO is
 * turned off for good the first time the kernel refuses it.
 */
static void
send_all(int fd, const struct sl_sender_dgram *dg, unsigned n, bool *gso,
	 void (*log)(void *, const char *), void *log_arg)
{
	struct sendq q;
	unsigned done = 0, tries = 0;

	sendq_build(&q, dg, n, *gso);
	while (done < q.nmsgs) {
		int r = sendmmsg(fd, q.msgs + done, q.nmsgs - done, 0);

		if (r > 0) {
			done += (unsigned)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if ((errno == EAGAIN || errno == ENOBUFS) && tries++ < 100) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, 10);
			continue;
		}
		if (*gso && q.msgs[done].msg_hdr.msg_controllen != 0 &&
		    (errno == EINVAL || errno == EIO || errno == ENOPROTOOPT ||
		     errno == EOPNOTSUPP)) {
			if (log != NULL)
				log(log_arg,
				    "UDP GSO refused by the kernel: sending datagrams one by one");
			*gso = false;
			/* Resend from the first datagram of the refused message. */
			send_all(fd, dg + q.first[done], n - q.first[done], gso, log, log_arg);
			return;
		}
		/* Anything else (ICMP errors reported here, EMSGSIZE): this message is lost. */
		done++;
	}
}

int
sl_sender_run(const struct sl_sender_opts *o, const struct sl_sender_config *c,
	      struct sl_sender_list *l, sl_sender_progress_fn *progress, void *arg,
	      struct sl_sender_stats *stats, char *err, size_t errlen)
{
	uint8_t(*rbufs)[SL_PROTO_MAX_PAYLOAD_MAX + 1];
	struct mmsghdr rmsgs[RECV_BATCH];
	struct iovec riov[RECV_BATCH];
	struct sl_sender_dgram dg[BATCH];
	struct sl_sender_config cfg = *c;
	uint64_t start, next_progress, wake = 0;
	struct sl_sender *s;
	struct sl_sender_stats st;
	bool gso = true;
	int family = AF_INET, fd, ret = 0;

	err[0] = '\0';
	signal(SIGPIPE, SIG_IGN);
	fd = open_socket(o, &family, err, errlen);
	if (fd < 0)
		return fd;
	if (cfg.max_payload == 0)
		cfg.max_payload = family == AF_INET6 ? SL_SENDER_PAYLOAD_V6 : SL_SENDER_PAYLOAD_V4;
	cfg.ip_overhead = family == AF_INET6 ? 48 : 28;
	start = sl_monotonic_ns();
	rbufs = malloc(RECV_BATCH * sizeof(*rbufs));
	s = rbufs != NULL ? sl_sender_create(&cfg, l, start) : NULL;
	if (s == NULL) {
		free(rbufs);
		ret = -errno;
		snprintf(err, errlen, "cannot start: %s", strerror(errno));
		close(fd);
		return ret;
	}
	for (unsigned i = 0; i < RECV_BATCH; i++) {
		riov[i].iov_base = rbufs[i];
		riov[i].iov_len = sizeof(rbufs[i]);
	}
	next_progress = start;
	for (;;) {
		uint64_t now = sl_monotonic_ns();
		enum sl_sender_phase ph;
		unsigned n;

		/* Drain what arrived. */
		for (int rounds = 0; rounds < 8; rounds++) {
			int r;

			for (unsigned i = 0; i < RECV_BATCH; i++) {
				memset(&rmsgs[i].msg_hdr, 0, sizeof(rmsgs[i].msg_hdr));
				rmsgs[i].msg_hdr.msg_iov = &riov[i];
				rmsgs[i].msg_hdr.msg_iovlen = 1;
			}
			r = recvmmsg(fd, rmsgs, RECV_BATCH, MSG_DONTWAIT, NULL);
			if (r <= 0) {
				/* ECONNREFUSED: an ICMP error, nobody listening (yet); keep trying.
				 */
				break;
			}
			now = sl_monotonic_ns();
			for (int i = 0; i < r; i++)
				sl_sender_input(s, rbufs[i], rmsgs[i].msg_len, now);
			if (r < RECV_BATCH)
				break;
		}
		ph = sl_sender_phase(s);
		if (ph == SL_SENDER_DONE || ph == SL_SENDER_NO_SESSION)
			break;
		n = sl_sender_output(s, now, dg, BATCH, &wake);
		if (n > 0)
			send_all(fd, dg, n, &gso, cfg.log, cfg.log_arg);
		if (progress != NULL && now >= next_progress) {
			sl_sender_get_stats(s, &st);
			progress(arg, &st, now - start, false);
			next_progress = now + PROGRESS_NS;
		}
		ph = sl_sender_phase(s);
		if (ph == SL_SENDER_DONE || ph == SL_SENDER_NO_SESSION)
			break;
		now = sl_monotonic_ns();
		if (wake > now) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			uint64_t d = wake - now;
			struct timespec ts;

			if (progress != NULL && next_progress > now && next_progress - now < d)
				d = next_progress - now;
			ts.tv_sec = (time_t)(d / 1000000000ull);
			ts.tv_nsec = (long)(d % 1000000000ull);
			ppoll(&p, 1, &ts, NULL);
		}
	}
	sl_sender_get_stats(s, &st);
	if (progress != NULL)
		progress(arg, &st, sl_monotonic_ns() - start, true);
	if (sl_sender_phase(s) == SL_SENDER_NO_SESSION) {
		if (st.reject_reason != 0) {
			snprintf(err, errlen, "%s: session refused (REJECT reason %u)", o->host,
				 st.reject_reason);
			ret = -ECONNREFUSED;
		} else {
			snprintf(err, errlen, "%s: no answer", o->host);
			ret = -ETIMEDOUT;
		}
	}
	if (stats != NULL)
		*stats = st;
	sl_sender_free(s);
	free(rbufs);
	close(fd);
	return ret;
}
