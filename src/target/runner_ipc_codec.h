/*
 * runner_ipc_codec: the frames between the network side and the runner
 * process (runner_ipc.h). A frame is a 32-bit length, then a type byte
 * and its payload; numbers in the machine's byte order (both ends are one
 * program on one machine), a string as its length (counting its NUL)
 * and bytes, a list of strings as a count and strings. Decoding checks
 * every length against what is left before reading it, so a short or
 * lying frame is an error naming the bad field, never a read past its
 * end, and a failed decode leaves nothing allocated.
 */
#ifndef COHORT_RUNNER_IPC_CODEC_H
#define COHORT_RUNNER_IPC_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/cerr.h"
#include "common/runner.h"

struct evbuffer;

/* The largest frame either side accepts: a step's output and its
 * fields. */
#define RUNNER_IPC_FRAME_MAX ((size_t)65 * 1024 * 1024)
#define RUNNER_IPC_LIST_MAX 65536 /* argv or environment entries */

enum runner_ipc_type {
	RUNNER_IPC_START = 1, /* network side -> runner process: a spec */
	RUNNER_IPC_CANCEL, /* id */
	RUNNER_IPC_ABANDON, /* id */
	RUNNER_IPC_RELEASE, /* id: the pgid is recorded, let it exec */
	RUNNER_IPC_REFUSE, /* id: kill it unrun */
	RUNNER_IPC_SPAWNED, /* runner process -> network side: id, pid */
	RUNNER_IPC_DONE, /* id, result */
};

/* A decoded spec; its strings point into data. hold: the network side
 * wants a SPAWNED frame and waits to answer it (runner_spec.on_spawn). */
struct runner_ipc_spec {
	uint64_t id;
	int hold;
	struct runner_spec spec;
	unsigned char *data;
	char **argv;
	char **envp;
};

void runner_ipc_spec_free(struct runner_ipc_spec *s);

/* Each *_put appends one whole frame to b (created with a maximum);
 * on failure b is as it was. */
int runner_ipc_put_spec(struct buf *b, uint64_t id,
    const struct runner_spec *spec, struct cerr *err);
int runner_ipc_put_id(
    struct buf *b, enum runner_ipc_type type, uint64_t id, struct cerr *err);
int runner_ipc_put_spawned(
    struct buf *b, uint64_t id, pid_t pid, struct cerr *err);
int runner_ipc_put_result(struct buf *b, uint64_t id,
    const struct runner_result *res, int has_fd, struct cerr *err);

/* Takes the next whole frame out of in: 1 with *type and *payload
 * (caller frees) of *len bytes, 0 when it is not whole yet (in is
 * untouched), -1 with err when its length is out of bounds. */
int runner_ipc_frame(struct evbuffer *in, uint8_t *type,
    unsigned char **payload, size_t *len, struct cerr *err);

/* Decoders of a frame's payload. get_spec takes ownership of payload
 * (also on failure); get_result's strings and output point into
 * payload, which the caller keeps until it is done with *res. */
int runner_ipc_get_spec(unsigned char *payload, size_t len,
    struct runner_ipc_spec *out, struct cerr *err);
int runner_ipc_get_id(
    const unsigned char *payload, size_t len, uint64_t *id, struct cerr *err);
int runner_ipc_get_spawned(const unsigned char *payload, size_t len,
    uint64_t *id, pid_t *pid, struct cerr *err);
int runner_ipc_get_result(const unsigned char *payload, size_t len,
    uint64_t *id, struct runner_result *res, int *has_fd, struct cerr *err);

#endif
