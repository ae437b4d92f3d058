/*
 * fleet: many virtual targets in one process, against a real master. Each
 * virtual target enlists like `cohortctl enlist` does (a token from the
 * admin, GET /v1/ca checked against the token's fingerprint, a key made
 * here and a CSR), then keeps a mutual-TLS long-poll open like cohortd
 * does: it applies what it receives (records the id as `after`), sends the
 * acknowledgements in its next poll, and uploads a run report per START
 * through the outbox call. Nothing goes through the master's internals.
 *
 * One libevent loop drives everything: HTTPS client connections
 * (fleet_http.c), one per virtual target (a second one only while it
 * uploads). The scenarios (fleet_phase.c) drive the loop synchronously
 * with fleet_wait(), so each reads as a sequence of steps.
 *
 * Ownership: struct fleet owns the virtual targets, their connections,
 * keys and certificates, and the admin connection.
 */
#ifndef COHORT_FLEET_H
#define COHORT_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "common/cerr.h"

#define FLEET_NAME_MAX 128
#define FLEET_HOLD_S 50 /* wait_s of an idle poll, like cohortd's */

struct fleet;
struct fconn;
struct vt;

/* A reply: status 0 when the request failed (no answer). body is borrowed
 * for the duration of the call. */
typedef void (*fconn_cb)(void *arg, int status, const char *body, size_t len);

/* A START the virtual targets are waiting for, to time its delivery. */
struct fleet_round {
	const char *job; /* NULL: no round running */
	int64_t t0_ns;
	size_t want;
	size_t got;
	int64_t *lat_ns; /* got entries */
};

struct fleet {
	struct event_base *base;
	SSL_CTX *ssl;
	char host[256]; /* where requests go (the master, or a peer) */
	int port;
	char state_dir[1024]; /* the master's: CA and admin files */
	X509 *admin_cert;
	EVP_PKEY *admin_key;
	struct fconn *admin;

	struct vt **vts;
	size_t nvts;

	/* behaviour of the virtual targets */
	int wait_s; /* of each poll: FLEET_HOLD_S, 0 to renew */
	int upload; /* upload a run report per START */
	int record; /* keep every received id (check mode) */
	int running; /* polls follow replies while set */

	/* counters */
	int64_t polls; /* poll replies with status 200 */
	int64_t poll_bytes; /* body bytes of those replies */
	int64_t delivered; /* instructions received (first time) */
	int64_t dups; /* instructions received again */
	int64_t uploaded; /* run reports the master acknowledged */
	int64_t rejected; /* run reports it refused */
	int64_t errors; /* failed or refused requests */
	size_t connected; /* virtual targets with a poll answered */
	char last_error[256];
	struct fleet_round round;

	/* ingest */
	int64_t ingest_left; /* reports still to send */
	int ingest_batch;
};

/* A virtual target. */
struct vt {
	struct fleet *f;
	size_t idx;
	char name[FLEET_NAME_MAX + 1];
	X509 *cert;
	EVP_PKEY *key;
	struct fconn *conn; /* polls */
	struct fconn *up; /* uploads, opened on first use */
	int polling; /* a poll is in flight */
	int64_t replies; /* polls answered (the first is not held) */
	int uploading; /* an upload is in flight */
	int64_t after; /* the last instruction applied */
	int64_t *acks; /* applied, not yet acknowledged */
	size_t nacks, acks_cap;
	size_t acks_sent; /* how many of acks the poll in flight has */
	int64_t held_since_ns; /* when the poll in flight was sent */
	struct event *next; /* zero timer: the poll after a reply */
	char **up_jobs; /* START jobs waiting to be reported */
	int64_t *up_instr;
	size_t nup, up_cap, up_sent;
	int64_t next_run_id;
	int64_t next_seq;
	int64_t *seen; /* record mode: ids in arrival order */
	size_t nseen, seen_cap;
};

/* fleet.c */
int64_t fleet_now_ns(void);
/* Runs the loop until done(arg) returns non-zero or timeout_ms passes;
 * -1 with err on timeout. */
int fleet_wait(struct fleet *f, int (*done)(void *arg), void *arg,
    int timeout_ms, const char *what, struct cerr *err);
/* Resident set of pid in KiB (VmRSS), or -1. */
long fleet_rss_kib(long pid);
/* utime + stime of pid in clock ticks, or -1. */
long fleet_cpu_ticks(long pid);
void fleet_error(struct fleet *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* fleet_http.c */
SSL_CTX *fleet_ssl_ctx(const char *ca_path, struct cerr *err);
/* A connection to f->host:f->port presenting cert/key (both NULL for an
 * anonymous one). Borrows cert and key. */
struct fconn *fconn_new(
    struct fleet *f, X509 *cert, EVP_PKEY *key, struct cerr *err);
void fconn_free(struct fconn *c);
/* Queues a request (sent one after another, each once the previous one
 * is answered). body may be NULL; it is copied. */
int fconn_request(struct fconn *c, const char *method, const char *path,
    const char *body, size_t len, fconn_cb cb, void *arg, struct cerr *err);
/* An admin call, synchronous (the loop runs meanwhile). Takes ownership of
 * body (may be NULL); *out (may be NULL) is the parsed reply. Returns the
 * HTTP status, or -1 with err when there was no answer. */
int fleet_admin(struct fleet *f, const char *method, const char *path,
    json_t *body, json_t **out, struct cerr *err);
/* Like fleet_admin, but failing unless the status is 200. */
int fleet_admin_ok(struct fleet *f, const char *method, const char *path,
    json_t *body, json_t **out, struct cerr *err);

/* fleet_enlist.c */
/* Enlists n virtual targets named PREFIX-00000... (appended to f->vts). */
int fleet_enlist(
    struct fleet *f, size_t n, const char *prefix, struct cerr *err);
int fleet_creds_save(struct fleet *f, const char *path, struct cerr *err);
/* Loads at most n virtual targets from a creds file. */
int fleet_creds_load(
    struct fleet *f, const char *path, size_t n, struct cerr *err);

/* fleet_vt.c */
struct vt *vt_new(struct fleet *f, X509 *cert, EVP_PKEY *key, struct cerr *err);
void vt_free(struct vt *v);
/* Opens the poll connection and sends the first poll. */
int vt_start(struct vt *v, struct cerr *err);
void vt_poll(struct vt *v);
/* Sends one batch of f->ingest_batch reports (ingest mode). */
void vt_ingest(struct vt *v);
/* Polls in flight that were sent more than min_age_ns ago. */
size_t vt_count_held(struct fleet *f, int64_t min_age_ns);

/* fleet_phase.c: the scenarios, each filling out with its figures, and
 * the steps they share with the delivery test. */
/* Starts every virtual target (a window of handshakes at a time) and
 * returns once each has had its first poll answered. */
int phase_connect_all(struct fleet *f, struct cerr *err);
/* Runs the loop for ms milliseconds. */
void phase_run_for(struct fleet *f, int ms);
/* Until the master has no instruction pending or downloaded. */
int phase_wait_applied(struct fleet *f, struct cerr *err);
/* Creates group with the first n virtual targets; the instructions the
 * replies say were posted go into expect (target -> [ids]; may be NULL). */
int phase_make_group(struct fleet *f, const char *group, size_t n,
    json_t *expect, struct cerr *err);
/* Applies a one-step job aimed at group. */
int phase_put_job(struct fleet *f, const char *name, const char *group,
    const char *description, json_t *expect, struct cerr *err);
/* Adds the "posted" list of an admin reply to expect. */
void phase_expect_posted(json_t *expect, const json_t *reply);
/* With hold_s, the idle targets are then held that long while the
 * master's CPU use is measured. */
int phase_fanout(struct fleet *f, const size_t *sizes, size_t nsizes,
    int rounds, long master_pid, int hold_s, json_t *out, struct cerr *err);
int phase_renew(struct fleet *f, int seconds, long server_pid, json_t *out,
    struct cerr *err);
int phase_ingest(
    struct fleet *f, int64_t reports, int batch, json_t *out, struct cerr *err);

/* fleet_check.c: the delivery test. */
int check_run(struct fleet *f, json_t *out, struct cerr *err);

#endif
