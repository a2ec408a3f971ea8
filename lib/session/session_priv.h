/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_SESSION_PRIV_H
#define SL_SESSION_PRIV_H

/*
 * Internals shared by session.c (engine, handshake, sessions, ACKs) and
 * sfile.c (staged files, chunks, durability, commit). Everything here
 * belongs to the engine's lcore.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_log.h>

#include "sl_auth.h"
#include "sl_bufpool.h"
#include "sl_session.h"
#include "sl_stage.h"
#include "sl_uring.h"

extern int sl_logtype_session;
#define SESS_LOG(level, fmt, ...)                                                                  \
	rte_log(RTE_LOG_##level, sl_logtype_session, "session: " fmt, ##__VA_ARGS__)

#define NONE UINT32_MAX
/* Layout of an ACK: header and credit, then entries with their missing ranges. */
#define ACK_HEADER (SL_PROTO_HEADER_SIZE + 8 + 2)
#define ACK_ENTRY 14u
#define ACK_RANGE 12u
#define MAX_RANGES ((SL_PROTO_MAX_PAYLOAD_MAX - ACK_HEADER - ACK_ENTRY) / ACK_RANGE)
/* Largest number of chunks a file may have: bounds the per-file maps. */
#define MAX_FILE_CHUNKS (1u << 24)
/* Chunks one ACK entry's missing ranges look at, from received_upto on. */
#define MISSING_SCAN_CHUNKS 4096u
/* How often writer 0 looks through the staging area for expired files. */
#define SWEEP_PERIOD_NS (60ull * 1000000000ull)
/* Final statuses remembered per session (bounded: senders choose file ids). */
#ifndef SESSION_MAX_FINALS
#define SESSION_MAX_FINALS 65536u
#endif

/*
 * Open-addressing hash table (linear probing, tombstones) of 64-bit keys to
 * 64-bit values. rte_hash would need EAL memory, and these tables are private
 * to one lcore, so a plain table on malloc is enough and keeps the unit tests
 * free of EAL. Deleting during a walk over the slots is safe; inserting is
 * not (it may rehash).
 */
struct htab {
	uint64_t *keys;
	uint64_t *vals;
	uint8_t *used; /* 0 empty, 1 full, 2 deleted */
	uint32_t cap;  /* power of two */
	uint32_t nb;
	uint32_t nb_deleted;
};

int htab_init(struct htab *h, uint32_t min_cap);
void htab_fini(struct htab *h);
uint64_t *htab_find(const struct htab *h, uint64_t key);
int htab_put(struct htab *h, uint64_t key, uint64_t val);
void htab_del(struct htab *h, uint64_t key);

/* A chunk buffer's state; one struct cbuf per pool buffer. */
enum cbuf_state {
	CB_FREE = 0,
	CB_FILLING, /* DATA arriving */
	CB_HELD,    /* full, waiting for its digest */
	CB_WRITING, /* verified, write queued or in flight */
};

struct sfile;

struct cbuf {
	struct sfile *f;
	uint32_t idx; /* chunk index */
	uint32_t len; /* chunk length */
	uint32_t next;
	uint8_t state;
	struct sl_chunkfill fill;
};

enum sfile_state {
	F_ACTIVE = 0, /* taking data */
	F_COMMIT,     /* every chunk durable: hashing, then publishing */
	F_CLOSING,    /* its session ended: flushing what is verified */
	F_DEAD,       /* final or closed; freed once no I/O is pending */
};

struct session;

struct sfile {
	struct sfile *prev, *next; /* engine's list of every file */
	struct session *s;         /* NULL once detached from its session */
	uint32_t file_id;
	uint8_t state;
	uint8_t fail_status; /* failure found where it cannot be handled: poll does */
	uint64_t fp;         /* fingerprint of the MANIFEST fields, for repeats */
	uint64_t size;
	uint32_t mode;
	int64_t mtime_ns;
	uint32_t chunk_size;
	uint32_t nb_chunks;
	uint8_t sha256[SL_PROTO_SHA256_SIZE];
	uint8_t identity[SL_SIDECAR_IDENTITY_LEN];
	char data_name[80];
	char state_name[80];
	char *path; /* NUL-terminated copy */
	uint16_t path_len;
	int fd;
	int lockfd; /* flock holder, never registered with io_uring (see open_staged()) */
	int slot;
	unsigned align;
	struct sl_chunkmap *map;
	uint32_t *digests;
	uint64_t *dknown; /* bitmap: digest i known */
	uint32_t digests_needed;
	uint32_t bufs;          /* list of its chunk buffers */
	uint64_t retired_bytes; /* bytes of this file that left the buffers (credit) */
	uint64_t skip_bytes;    /* bytes durable when the file was opened (never sent) */
	uint32_t writes_inflight;
	bool sync_inflight;
	uint32_t *unsynced; /* chunks written, not yet fdatasynced */
	uint32_t nb_unsynced;
	uint32_t cap_unsynced;
	uint32_t sync_n; /* how many of unsynced[] the fsync in flight covers */
	uint64_t unsynced_since_ns;
	uint32_t nb_written;
	uint64_t highest_seen; /* end of the highest DATA byte seen */
	struct sl_sha256 sha;
	uint32_t sha_next; /* next chunk to feed to the in-order SHA-256 */
	uint64_t reserved; /* bytes counted in the engine's reservation */
	bool has_sidecar;  /* a valid sidecar of it is on disk (resume can use it) */
	bool receipt;      /* published, its sidecar kept as the receipt (see publish()) */
	bool shrink;       /* ends unpublished: keep only its durable chunks when freed */
};

struct session {
	uint64_t id;
	struct sl_net_peer peer;
	uint8_t nonce[SL_PROTO_NONCE_SIZE];
	uint64_t issued;
	uint8_t cookie[SL_PROTO_COOKIE_SIZE];
	uint16_t max_payload;
	bool has_auth;
	uint8_t welcome_auth[SL_PROTO_AUTH_SIZE];
	uint64_t last_seen_ns;
	uint64_t last_ack_ns;
	uint64_t retired;
	uint64_t credit_sent;
	bool data_since_ack;
	bool ack_now;
	uint32_t ack_cursor;
	uint32_t nb_files;       /* in progress */
	uint32_t nb_filling;     /* chunk buffers filling or waiting for a digest */
	struct htab files;       /* file_id -> struct sfile * */
	struct htab finals;      /* file_id -> fingerprint << 8 | final status */
	uint64_t finals_dropped; /* statuses not remembered: SESSION_MAX_FINALS reached */
	/* Identities of the files published with a receipt, removed at the sender's BYE. */
	uint8_t (*receipts)[SL_SIDECAR_IDENTITY_LEN];
	uint32_t nb_receipts, cap_receipts;
};

struct sl_session_engine {
	struct sl_session_params p;
	struct sl_session_stats *st;
	struct sl_bufpool pool;
	bool pool_ready;
	void *own_mem;
	struct cbuf *cbufs;
	struct sl_uring *io;
	int dirfd;
	int stagefd;
	struct htab sessions; /* id -> struct session * */
	struct sfile *files;  /* every file, in progress or draining */
	uint64_t reserved;
	uint64_t now_ns;
	uint64_t tokens_milli; /* handshake reply tokens, in thousandths */
	uint64_t tokens_ns;
	bool tokens_init;
	bool finishing;
	unsigned kill_point; /* test seam: SIGKILL at the kill_nth time here */
	uint32_t kill_nth;
	uint32_t kill_seen;
	void *sweep_dir;        /* DIR * of the staging sweep in progress, or NULL */
	uint64_t next_sweep_ns; /* when the next sweep of the staging area starts */
	uint8_t tx[SL_PROTO_MAX_PAYLOAD_MAX];
	struct sl_proto_missing missing[MAX_RANGES];
};

enum cookie_kind {
	CK_WRITE = 1,
	CK_SYNC = 2,
};

/* session.c */
bool session_send(struct sl_session_engine *e, const struct sl_net_peer *to,
		  const struct sl_proto_msg *m, size_t cap);
void session_send_status(struct sl_session_engine *e, struct session *s, struct sfile *f,
			 uint32_t file_id, uint8_t status);

/* sfile.c */
int sfile_manifest(struct sl_session_engine *e, struct session *s,
		   const struct sl_proto_manifest *m);
int sfile_digests(struct sl_session_engine *e, struct session *s, const struct sl_proto_digests *d);
int sfile_data(struct sl_session_engine *e, struct session *s, const struct sl_proto_data *d);
void sfile_io_done(void *arg, uint64_t cookie, int res);
void sfile_poll(struct sl_session_engine *e);
void sfile_session_closed(struct sl_session_engine *e, struct session *s);
void sfile_receipts_release(struct sl_session_engine *e, struct session *s);
void sfile_destroy_all(struct sl_session_engine *e);
unsigned sfile_missing(struct sl_session_engine *e, struct sfile *f, struct sl_proto_missing *out,
		       unsigned max);
bool sfile_busy(const struct sl_session_engine *e);
uint32_t sfile_chunk_len(const struct sfile *f, uint32_t idx);
void sfile_sweep_start(struct sl_session_engine *e);
void sfile_sweep_step(struct sl_session_engine *e, unsigned budget, bool startup);
void sfile_sweep_stop(struct sl_session_engine *e);

/* session.c: the kill seam; returns only when this is not the time. */
void session_kill_point(struct sl_session_engine *e, unsigned point);

#endif /* SL_SESSION_PRIV_H */
