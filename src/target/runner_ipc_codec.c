/*
 * runner_ipc_codec: frames between the network side and the runner
 * process (see runner_ipc_codec.h). The writer and the reader each keep a
 * sticky failure, so an encoder or decoder is a straight list of fields
 * checked once at its end; the reader also remembers which field failed
 * first, for the error message.
 */
#include "target/runner_ipc_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#define NO_STRING 0xffffffffu /* a NULL string or list */
#define FLAGS_DONE 5

/* ---- writing ------------------------------------------------------------ */

struct writer {
	struct buf *b;
	size_t start; /* where this frame's length goes */
	int bad;
};

static void
put(struct writer *w, const void *p, size_t n)
{
	if (!w->bad && buf_append(w->b, p, n, NULL) < 0)
		w->bad = 1;
}

static void
put_u32(struct writer *w, uint32_t v)
{
	put(w, &v, sizeof(v));
}

static void
put_u64(struct writer *w, uint64_t v)
{
	put(w, &v, sizeof(v));
}

static void
put_str(struct writer *w, const char *s)
{
	size_t n = s != NULL ? strlen(s) + 1 : 0;

	if (s == NULL || n >= NO_STRING) {
		w->bad |= s != NULL;
		put_u32(w, NO_STRING);
		return;
	}
	put_u32(w, (uint32_t)n);
	put(w, s, n);
}

static void
put_list(struct writer *w, const char *const *v)
{
	uint32_t n = 0;

	if (v == NULL) {
		put_u32(w, NO_STRING);
		return;
	}
	while (v[n] != NULL && n <= RUNNER_IPC_LIST_MAX)
		n++;
	if (n > RUNNER_IPC_LIST_MAX)
		w->bad = 1;
	put_u32(w, n);
	for (uint32_t i = 0; i < n; i++)
		put_str(w, v[i]);
}

static void
frame_begin(struct writer *w, struct buf *b, enum runner_ipc_type type)
{
	uint8_t t = (uint8_t)type;

	w->b = b;
	w->start = b->len;
	w->bad = 0;
	put_u32(w, 0);
	put(w, &t, 1);
}

/* Writes the length, or takes the partial frame back out. */
static int
frame_end(struct writer *w, struct cerr *err)
{
	uint32_t len;

	if (w->bad || w->b->len - w->start - 4 > RUNNER_IPC_FRAME_MAX) {
		w->b->len = w->start;
		if (w->b->data != NULL)
			w->b->data[w->b->len] = '\0';
		return cerr_set(err, CERR_TOO_LARGE,
		    "runner: a frame is over %zu bytes or %d list entries",
		    RUNNER_IPC_FRAME_MAX, RUNNER_IPC_LIST_MAX);
	}
	len = (uint32_t)(w->b->len - w->start - 4);
	memcpy(w->b->data + w->start, &len, sizeof(len));
	return 0;
}

int
runner_ipc_put_spec(struct buf *b, uint64_t id, const struct runner_spec *spec,
    struct cerr *err)
{
	struct writer w;
	uint8_t flags[2] = {spec->set_user != 0, spec->on_spawn != NULL};

	frame_begin(&w, b, RUNNER_IPC_START);
	put_u64(&w, id);
	put_u64(&w, (uint64_t)spec->timeout_ms);
	put_u64(&w, (uint64_t)spec->kill_grace_ms);
	put_u64(&w, (uint64_t)spec->not_before_ms);
	put_u64(&w, (uint64_t)spec->max_output_bytes);
	put_u32(&w, (uint32_t)spec->uid);
	put_u32(&w, (uint32_t)spec->gid);
	put(&w, flags, sizeof(flags));
	put_str(&w, spec->user);
	put_str(&w, spec->cwd);
	put_str(&w, spec->output_file);
	put_list(&w, spec->argv);
	put_list(&w, spec->envp);
	return frame_end(&w, err);
}

int
runner_ipc_put_id(
    struct buf *b, enum runner_ipc_type type, uint64_t id, struct cerr *err)
{
	struct writer w;

	frame_begin(&w, b, type);
	put_u64(&w, id);
	return frame_end(&w, err);
}

int
runner_ipc_put_spawned(struct buf *b, uint64_t id, pid_t pid, struct cerr *err)
{
	struct writer w;

	frame_begin(&w, b, RUNNER_IPC_SPAWNED);
	put_u64(&w, id);
	put_u32(&w, (uint32_t)pid);
	return frame_end(&w, err);
}

int
runner_ipc_put_result(struct buf *b, uint64_t id,
    const struct runner_result *res, int has_fd, struct cerr *err)
{
	struct writer w;
	uint8_t flags[FLAGS_DONE] = {res->spawned != 0, res->exited != 0,
	    res->timed_out != 0, res->canceled != 0, has_fd != 0};

	frame_begin(&w, b, RUNNER_IPC_DONE);
	put_u64(&w, id);
	put(&w, flags, sizeof(flags));
	put_u32(&w, (uint32_t)res->pid);
	put_u32(&w, (uint32_t)res->exit_code);
	put_u32(&w, (uint32_t)res->term_signal);
	put_u64(&w, (uint64_t)res->output_dropped);
	put_u64(&w, (uint64_t)res->started_ms);
	put_u64(&w, (uint64_t)res->duration_ms);
	put_str(&w, res->error);
	put_str(&w, res->output_error);
	put_u64(&w, (uint64_t)res->output_len);
	put(&w, res->output != NULL ? res->output : "", res->output_len);
	put(&w, "", 1);
	return frame_end(&w, err);
}

/* ---- reading ------------------------------------------------------------ */

struct reader {
	const unsigned char *p;
	size_t left;
	const char *field; /* what is being read */
	const char *bad_at; /* the first field that failed, or NULL */
};

static void
fail(struct reader *r)
{
	if (r->bad_at == NULL)
		r->bad_at = r->field;
}

static const unsigned char *
take(struct reader *r, size_t n)
{
	const unsigned char *p = r->p;

	if (r->bad_at != NULL || n > r->left) {
		fail(r);
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static uint32_t
get_u32(struct reader *r, const char *field)
{
	const unsigned char *p;
	uint32_t v = 0;

	r->field = field;
	p = take(r, 4);
	if (p != NULL)
		memcpy(&v, p, 4);
	return v;
}

static uint64_t
get_u64(struct reader *r, const char *field)
{
	const unsigned char *p;
	uint64_t v = 0;

	r->field = field;
	p = take(r, 8);
	if (p != NULL)
		memcpy(&v, p, 8);
	return v;
}

/* A string: NULL for the absent one, else NUL-terminated in place with
 * no NUL inside. */
static const char *
get_str(struct reader *r, const char *field)
{
	uint32_t n = get_u32(r, field);
	const char *s;

	if (r->bad_at != NULL || n == NO_STRING)
		return NULL;
	s = (const char *)take(r, n);
	if (s == NULL || n == 0 || s[n - 1] != '\0' || strlen(s) != n - 1) {
		fail(r);
		return NULL;
	}
	return s;
}

/* A list of present strings; *out (caller frees) NULL for the absent
 * list. Each entry takes at least 5 bytes, which bounds the count. */
static void
get_list(struct reader *r, const char *field, char ***out)
{
	uint32_t n = get_u32(r, field);

	*out = NULL;
	if (r->bad_at != NULL || n == NO_STRING)
		return;
	if (n > RUNNER_IPC_LIST_MAX || n > r->left / 5) {
		fail(r);
		return;
	}
	*out = calloc((size_t)n + 1, sizeof(**out));
	if (*out == NULL) {
		fail(r);
		return;
	}
	for (uint32_t i = 0; i < n && r->bad_at == NULL; i++) {
		(*out)[i] = (char *)get_str(r, field);
		if ((*out)[i] == NULL)
			fail(r);
	}
}

/* The end of a decode: every byte used, no field failed. */
static int
reader_end(struct reader *r, const char *what, struct cerr *err)
{
	if (r->bad_at == NULL && r->left != 0) {
		r->bad_at = "trailing bytes";
		r->field = r->bad_at;
	}
	if (r->bad_at == NULL)
		return 0;
	return cerr_set(err, CERR_INVALID, "runner: malformed %s frame: bad %s",
	    what, r->bad_at);
}

int
runner_ipc_frame(struct evbuffer *in, uint8_t *type, unsigned char **payload,
    size_t *len, struct cerr *err)
{
	unsigned char head[5];
	uint32_t n;

	if (evbuffer_copyout(in, head, sizeof(head)) < (ev_ssize_t)sizeof(head))
		return 0;
	memcpy(&n, head, sizeof(n));
	if (n < 1 || n > RUNNER_IPC_FRAME_MAX)
		return cerr_set(err, CERR_TOO_LARGE,
		    "runner: a frame of %u bytes is out of bounds (1..%zu)",
		    (unsigned)n, RUNNER_IPC_FRAME_MAX);
	if (evbuffer_get_length(in) < (size_t)n + 4)
		return 0;
	*len = n - 1;
	*payload = malloc(*len + 1);
	if (*payload == NULL)
		return cerr_set(err, CERR_INTERNAL, "runner: out of memory");
	evbuffer_drain(in, sizeof(head));
	evbuffer_remove(in, *payload, *len);
	*type = head[4];
	return 1;
}

void
runner_ipc_spec_free(struct runner_ipc_spec *s)
{
	free(s->data);
	free(s->argv);
	free(s->envp);
	memset(s, 0, sizeof(*s));
}

int
runner_ipc_get_spec(unsigned char *payload, size_t len,
    struct runner_ipc_spec *out, struct cerr *err)
{
	struct reader r = {payload, len, "id", NULL};
	struct runner_spec *sp = &out->spec;
	const unsigned char *flags;

	memset(out, 0, sizeof(*out));
	out->data = payload;
	out->id = get_u64(&r, "id");
	sp->timeout_ms = (int64_t)get_u64(&r, "timeout");
	sp->kill_grace_ms = (int64_t)get_u64(&r, "kill grace");
	sp->not_before_ms = (int64_t)get_u64(&r, "not before");
	sp->max_output_bytes = (size_t)get_u64(&r, "max output");
	sp->uid = (uid_t)get_u32(&r, "uid");
	sp->gid = (gid_t)get_u32(&r, "gid");
	r.field = "flags";
	flags = take(&r, 2);
	sp->user = get_str(&r, "user");
	sp->cwd = get_str(&r, "cwd");
	sp->output_file = get_str(&r, "output file");
	get_list(&r, "argv", &out->argv);
	get_list(&r, "environment", &out->envp);
	r.field = "argv";
	if (r.bad_at == NULL && (out->argv == NULL || out->argv[0] == NULL))
		fail(&r);
	if (reader_end(&r, "start", err) < 0) {
		runner_ipc_spec_free(out);
		return -1;
	}
	sp->set_user = flags[0] != 0;
	out->hold = flags[1] != 0;
	sp->argv = (const char *const *)out->argv;
	sp->envp = (const char *const *)out->envp;
	return 0;
}

int
runner_ipc_get_id(
    const unsigned char *payload, size_t len, uint64_t *id, struct cerr *err)
{
	struct reader r = {payload, len, "id", NULL};
	uint64_t v = get_u64(&r, "id");

	if (reader_end(&r, "id", err) < 0)
		return -1;
	*id = v;
	return 0;
}

int
runner_ipc_get_spawned(const unsigned char *payload, size_t len, uint64_t *id,
    pid_t *pid, struct cerr *err)
{
	struct reader r = {payload, len, "id", NULL};
	uint64_t v = get_u64(&r, "id");
	uint32_t p = get_u32(&r, "pid");

	r.field = "pid";
	if (r.bad_at == NULL && (p == 0 || p > INT32_MAX))
		fail(&r);
	if (reader_end(&r, "spawned", err) < 0)
		return -1;
	*id = v;
	*pid = (pid_t)p;
	return 0;
}

/* The fixed part of a result, after the id and flags. */
static void
get_result_fields(struct reader *r, struct runner_result *res)
{
	res->pid = (pid_t)get_u32(r, "pid");
	res->exit_code = (int)get_u32(r, "exit code");
	res->term_signal = (int)get_u32(r, "signal");
	res->output_dropped = (size_t)get_u64(r, "dropped");
	res->started_ms = (int64_t)get_u64(r, "started");
	res->duration_ms = (int64_t)get_u64(r, "duration");
}

int
runner_ipc_get_result(const unsigned char *payload, size_t len, uint64_t *id,
    struct runner_result *res, int *has_fd, struct cerr *err)
{
	struct reader r = {payload, len, "id", NULL};
	struct runner_result tmp;
	const unsigned char *flags;
	const char *error, *output_error, *output;
	uint64_t v, n;

	memset(&tmp, 0, sizeof(tmp));
	v = get_u64(&r, "id");
	r.field = "flags";
	flags = take(&r, FLAGS_DONE);
	get_result_fields(&r, &tmp);
	error = get_str(&r, "error");
	output_error = get_str(&r, "output error");
	n = get_u64(&r, "output length");
	r.field = "output";
	output = n < r.left ? (const char *)take(&r, n + 1) : NULL;
	if (r.bad_at == NULL && (output == NULL || output[n] != '\0'))
		fail(&r);
	if (reader_end(&r, "done", err) < 0)
		return -1;
	tmp.spawned = flags[0];
	tmp.exited = flags[1];
	tmp.timed_out = flags[2];
	tmp.canceled = flags[3];
	tmp.output = output;
	tmp.output_len = (size_t)n;
	tmp.output_fd = -1;
	snprintf(tmp.error, sizeof(tmp.error), "%s", error ? error : "");
	snprintf(tmp.output_error, sizeof(tmp.output_error), "%s",
	    output_error ? output_error : "");
	*id = v;
	*has_fd = flags[4];
	*res = tmp;
	return 0;
}
