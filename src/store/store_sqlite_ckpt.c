/*
 * store_sqlite_ckpt: WAL checkpoints on a thread of their own.
 *
 * SQLite checkpoints from inside the commit that takes the WAL past 1,000
 * pages: that commit also copies those pages into the database file and
 * syncs both files (three fdatasync calls). On the master that commit is
 * whichever one the event loop happens to run, most often the biggest: a
 * job started on 1,000 targets checkpointed twice or three times between
 * the start call and the last delivery, each time holding up every reply.
 *
 * Here the connection's WAL hook only notes the WAL's size and wakes a
 * thread, which runs PASSIVE checkpoints on a second connection to the
 * same file. A passive checkpoint takes no lock a writer needs, so the
 * loop's transactions go on meanwhile; once a checkpoint has copied
 * everything, the next write starts the WAL from its beginning again. The
 * thread starts on first need (short-lived stores never start it) and is
 * joined on close.
 *
 * Hazard: under writes that never pause, the thread never copies the last
 * frames before the next ones arrive, so the WAL would never restart and
 * would grow without end. At CKPT_MAX_PAGES the loop's connection
 * checkpoints itself (only what the thread has not copied yet), which
 * always completes, as SQLite's own checkpoint did; so the WAL stays
 * below that size. Bursts (a fan-out, then quiet) never reach it.
 */
#include "store/store_sqlite.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"

/* SQLite's own default checkpoint size. */
#define CKPT_PAGES 1000
/* The WAL's bound (80 MB at 4 KiB pages): a start on 10,000 targets
 * commits about 10,000 pages at once. */
#define CKPT_MAX_PAGES 20000

struct store_sqlite_ckpt {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running; /* the thread was started */
	int wanted; /* a checkpoint is due */
	int stop;
	int failed_rc; /* the last checkpoint's error, for the loop to log */
	int broken; /* the thread's connection failed: it has ended */
	char path[1024];
};

/* The thread: one passive checkpoint each time it is woken, until told
 * to stop. Its connection is its own; the thread touches nothing else of
 * the store but the struct above, under the mutex. */
static void *
ckpt_main(void *arg)
{
	struct store_sqlite_ckpt *c = arg;
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(
	    c->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(
		    db, "PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
	pthread_mutex_lock(&c->mu);
	if (rc != SQLITE_OK)
		c->broken = c->failed_rc = rc;
	while (!c->stop && !c->broken) {
		if (!c->wanted) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		c->wanted = 0;
		pthread_mutex_unlock(&c->mu);
		rc = sqlite3_wal_checkpoint_v2(
		    db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
		/* Busy: a checkpoint already runs (another process). */
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			c->failed_rc = rc;
	}
	pthread_mutex_unlock(&c->mu);
	sqlite3_close(db);
	return NULL;
}

/* Called by SQLite after each commit of the loop's connection, with the
 * WAL's size in pages. Never waits for a checkpoint, unless the thread
 * cannot run: then it checkpoints here, as SQLite would have. */
static int
ckpt_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_sqlite_ckpt *c = arg;
	int failed, inline_ckpt;

	if (pages < CKPT_PAGES)
		return SQLITE_OK;
	pthread_mutex_lock(&c->mu);
	failed = c->failed_rc;
	c->failed_rc = 0;
	if (!c->running && !c->broken &&
	    pthread_create(&c->thread, NULL, ckpt_main, c) == 0)
		c->running = 1;
	inline_ckpt = !c->running || c->broken || pages >= CKPT_MAX_PAGES;
	c->wanted = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (failed != 0)
		log_warn("store_checkpoint", "path=%s error=%s", c->path,
		    LOG_TEXT(sqlite3_errstr(failed)));
	if (inline_ckpt)
		sqlite3_wal_checkpoint_v2(
		    db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

int
store_sqlite_ckpt_start(
    struct store_sqlite *sq, const char *path, struct cerr *err)
{
	struct store_sqlite_ckpt *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return cerr_set(err, CERR_INTERNAL, "store: out of memory");
	if ((size_t)snprintf(c->path, sizeof(c->path), "%s", path) >=
	    sizeof(c->path)) {
		free(c);
		return cerr_set(
		    err, CERR_STORE, "store: %.200s: path too long", path);
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	/* Replaces SQLite's automatic checkpoint (itself a WAL hook). */
	sqlite3_wal_hook(sq->db, ckpt_wal_hook, c);
	sq->ckpt = c;
	return 0;
}

void
store_sqlite_ckpt_stop(struct store_sqlite *sq)
{
	struct store_sqlite_ckpt *c = sq->ckpt;

	if (c == NULL)
		return;
	sqlite3_wal_hook(sq->db, NULL, NULL);
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->running)
		pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
	sq->ckpt = NULL;
}
