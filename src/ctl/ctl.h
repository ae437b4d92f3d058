/*
 * ctl: what cohortctl's commands share: the context (the profile named by
 * -c or $COHORT_PROFILE, and the client made from it on first use), option
 * parsing, and the command handlers, one file per noun (cmd_<noun>.c).
 * A handler returns the process exit status; errors go to stderr as
 * "cohortctl: <message>".
 */
#ifndef COHORT_CTL_H
#define COHORT_CTL_H

#include <jansson.h>

#include "common/cerr.h"
#include "ctl/client.h"

struct ctl {
	const char *profile; /* -c or $COHORT_PROFILE, may be NULL */
	struct client client;
	int have_client;
};

/* The client for the profile; fails when there is no profile. */
int ctl_client(struct ctl *ctl, struct client **out, struct cerr *err);

/* Prints "cohortctl: <msg>" and returns the exit status for err. */
int ctl_fail(const struct cerr *err);

/* ---- options ---- */
enum ctl_opt_kind { OPT_FLAG, OPT_VALUE, OPT_LIST };

struct ctl_opt {
	const char *name; /* "--target" */
	enum ctl_opt_kind kind;
	int *flag; /* OPT_FLAG */
	const char **value; /* OPT_VALUE */
	const char **list; /* OPT_LIST: up to list_max values */
	int *nlist;
	int list_max;
};

#define CTL_FLAG(n, p)                                                         \
	{                                                                      \
		n, OPT_FLAG, p, NULL, NULL, NULL, 0                            \
	}
#define CTL_VALUE(n, p)                                                        \
	{                                                                      \
		n, OPT_VALUE, NULL, p, NULL, NULL, 0                           \
	}
#define CTL_LIST(n, arr, cnt, max)                                             \
	{                                                                      \
		n, OPT_LIST, NULL, NULL, arr, cnt, max                         \
	}
#define CTL_END                                                                \
	{                                                                      \
		NULL, 0, NULL, NULL, NULL, NULL, 0                             \
	}

/* Parses argv (after the command words) against opts; the remaining words
 * go to pos (at most max_pos). Unknown options, missing values and extra
 * words are errors naming them. */
int ctl_parse(int argc, char **argv, const struct ctl_opt *opts,
    const char **pos, int min_pos, int max_pos, int *npos, struct cerr *err);

/* A duration: seconds, or a number with s, m, h, d or w ("30d"), at
 * most CTL_DURATION_MAX seconds. */
#define CTL_DURATION_MAX (100LL * 365 * 86400)
int ctl_duration(const char *text, const char *what, long long *seconds_out,
    struct cerr *err);

/* An integer option value within bounds; what names it in errors. */
int ctl_int(const char *text, const char *what, long long min, long long max,
    long long *out, struct cerr *err);

/* The JSON document in the file at path (a job document), new reference;
 * NULL with err naming the file, and the line when the text is bad. */
json_t *ctl_json_file(const char *path, struct cerr *err);

struct output_col;
/* GETs path and prints it: as JSON with json (or no cols), else as a
 * table of cols. 0, or ctl_fail()'s status. */
int ctl_get_and_print(struct ctl *ctl, const char *path, int json,
    const struct output_col *cols, size_t ncols);

/* ---- commands ---- */
int cmd_master_init(struct ctl *ctl, int argc, char **argv);
int cmd_master_dismantle(struct ctl *ctl, int argc, char **argv);
int cmd_enlist(struct ctl *ctl, int argc, char **argv);
int cmd_defect(struct ctl *ctl, int argc, char **argv);
int cmd_whoami(struct ctl *ctl, int argc, char **argv);
int cmd_target_token(struct ctl *ctl, int argc, char **argv);
int cmd_target_list(struct ctl *ctl, int argc, char **argv);
int cmd_target_delete(struct ctl *ctl, int argc, char **argv);
int cmd_job_apply(struct ctl *ctl, int argc, char **argv);
int cmd_job_list(struct ctl *ctl, int argc, char **argv);
int cmd_job_show(struct ctl *ctl, int argc, char **argv);
int cmd_job_delete(struct ctl *ctl, int argc, char **argv);
int cmd_job_start(struct ctl *ctl, int argc, char **argv);
int cmd_job_stop(struct ctl *ctl, int argc, char **argv);
int cmd_job_next(struct ctl *ctl, int argc, char **argv);
int cmd_job_why(struct ctl *ctl, int argc, char **argv);
int cmd_history_purge(struct ctl *ctl, int argc, char **argv);
int cmd_history(struct ctl *ctl, int argc, char **argv);
int cmd_downloadlist(struct ctl *ctl, int argc, char **argv);
int cmd_target_resync(struct ctl *ctl, int argc, char **argv);
int cmd_target_defect(struct ctl *ctl, int argc, char **argv);
int cmd_target_set(struct ctl *ctl, int argc, char **argv);
int cmd_downloadlist_clear(struct ctl *ctl, int argc, char **argv);
/* cmd_local.c: the target's local control socket */
/* A client for the control socket of the target configured by conf
 * (key socket); conf is borrowed. */
int local_client_conf(
    const struct conf *conf, struct client *c, struct cerr *err);
int cmd_local_job_apply(struct ctl *ctl, int argc, char **argv);
int cmd_local_job_list(struct ctl *ctl, int argc, char **argv);
int cmd_local_job_show(struct ctl *ctl, int argc, char **argv);
int cmd_local_job_delete(struct ctl *ctl, int argc, char **argv);
int cmd_local_job_start(struct ctl *ctl, int argc, char **argv);
int cmd_local_job_stop(struct ctl *ctl, int argc, char **argv);
int cmd_local_history(struct ctl *ctl, int argc, char **argv);
int cmd_group_create(struct ctl *ctl, int argc, char **argv);
int cmd_group_delete(struct ctl *ctl, int argc, char **argv);
int cmd_group_add(struct ctl *ctl, int argc, char **argv);
int cmd_group_remove(struct ctl *ctl, int argc, char **argv);
int cmd_group_list(struct ctl *ctl, int argc, char **argv);
/* cmd_exec.c: scale-out executions and workers */
int cmd_exec_submit(struct ctl *ctl, int argc, char **argv);
int cmd_exec_list(struct ctl *ctl, int argc, char **argv);
int cmd_exec_show(struct ctl *ctl, int argc, char **argv);
int cmd_worker_list(struct ctl *ctl, int argc, char **argv);
int cmd_worker_enable(struct ctl *ctl, int argc, char **argv);
int cmd_worker_disable(struct ctl *ctl, int argc, char **argv);
/* security (cmd_cert.c) */
int cmd_cert_issue(struct ctl *ctl, int argc, char **argv);
int cmd_cert_revoke(struct ctl *ctl, int argc, char **argv);
int cmd_cert_list(struct ctl *ctl, int argc, char **argv);
int cmd_audit(struct ctl *ctl, int argc, char **argv);

/* cmd_event.c, cmd_operator.c */
int cmd_event_raise(struct ctl *ctl, int argc, char **argv);
int cmd_event_list(struct ctl *ctl, int argc, char **argv);
int cmd_operator_create(struct ctl *ctl, int argc, char **argv);
int cmd_operator_list(struct ctl *ctl, int argc, char **argv);
int cmd_operator_delete(struct ctl *ctl, int argc, char **argv);
int cmd_operator_default(struct ctl *ctl, int argc, char **argv);
int cmd_operator_deliveries(struct ctl *ctl, int argc, char **argv);
int cmd_drill_failover(struct ctl *ctl, int argc, char **argv);

/* master_join.c: "master init --join FIRST_DIR": the second master of a
 * pair, with the first one's CA, certificates and PostgreSQL store. */
int master_join(
    const char *dir, const char *listen, const char *first, struct cerr *err);

#endif
