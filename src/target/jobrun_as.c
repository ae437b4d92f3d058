/*
 * jobrun_as: who a step runs as (the daemon's user, or a proxy's) and the
 * environment it gets (see jobrun_int.h).
 */
#include "target/jobrun_int.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Looks a group up by name; -1 with errno 0 when there is none. */
static int
group_gid(const char *name, gid_t *out)
{
	struct group gr, *res = NULL;
	size_t size = JOBRUN_PW_BUF;
	char *buf = NULL;
	int rc;

	for (;;) {
		char *grown = realloc(buf, size);

		if (grown == NULL) {
			free(buf);
			errno = ENOMEM;
			return -1;
		}
		buf = grown;
		rc = getgrnam_r(name, &gr, buf, size, &res);
		if (rc != ERANGE || size >= JOBRUN_GR_BUF_MAX)
			break;
		size *= 2;
	}
	if (res != NULL)
		*out = gr.gr_gid;
	free(buf);
	errno = rc;
	return res != NULL ? 0 : -1;
}

/* A step without a proxy runs as the daemon's own user. After privilege
 * separation that is the network side's user, which the runner process
 * must be told explicitly: it runs nothing as root. */
void
jobrun_run_as_self(struct jobrun *jr, struct run_as *ra)
{
	struct passwd pw, *res = NULL;
	char buf[JOBRUN_PW_BUF];

	memset(ra, 0, sizeof(*ra));
	ra->uid = geteuid();
	ra->gid = getegid();
	ra->set_user = ra->uid != 0 && runner_privileged(jr->runner);
	snprintf(ra->home, sizeof(ra->home), "/");
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL) {
		snprintf(ra->user, sizeof(ra->user), "%s", pw.pw_name);
		snprintf(ra->home, sizeof(ra->home), "%s", pw.pw_dir);
	}
}

/* Resolves the step's proxy to a user on this target, or says in msg why
 * the step cannot run. */
int
jobrun_run_as_proxy(struct jobrun *jr, const char *name, struct run_as *ra,
    char *msg, size_t size)
{
	const struct conf_proxy *p = NULL;
	struct passwd pw, *res = NULL;
	char buf[JOBRUN_PW_BUF];
	int rc;

	memset(ra, 0, sizeof(*ra));
	if (jr->conf != NULL)
		p = conf_proxy_find(jr->conf, name);
	if (p == NULL) {
		snprintf(msg, size, "proxy '%s' is not defined on target %s",
		    name, jr->target_name);
		return -1;
	}
	rc = getpwnam_r(p->user, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		snprintf(msg, size, "proxy '%s': user '%s' %s on target %s",
		    name, p->user, rc == 0 ? "does not exist" : strerror(rc),
		    jr->target_name);
		return -1;
	}
	ra->uid = pw.pw_uid;
	ra->gid = pw.pw_gid;
	snprintf(ra->user, sizeof(ra->user), "%s", pw.pw_name);
	snprintf(ra->home, sizeof(ra->home), "%s", pw.pw_dir);
	if (p->group[0] != '\0' && group_gid(p->group, &ra->gid) < 0) {
		snprintf(msg, size, "proxy '%s': group '%s' %s on target %s",
		    name, p->group,
		    errno == 0 ? "does not exist" : strerror(errno),
		    jr->target_name);
		return -1;
	}
	ra->set_user = runner_privileged(jr->runner);
	if (!ra->set_user && (ra->uid != geteuid() || ra->gid != getegid())) {
		snprintf(msg, size,
		    "target %s runs unprivileged; proxy '%s' (user %s) needs "
		    "cohortd to run as root",
		    jr->target_name, name, p->user);
		return -1;
	}
	return 0;
}

/* Sets name=value in env (n entries so far), replacing an entry of the
 * same name, so that a step's own entries win over the base. */
static int
env_set(char **env, size_t *n, const char *name, const char *value)
{
	size_t nlen = strlen(name);
	char *entry = NULL;

	if (asprintf(&entry, "%s=%s", name, value ? value : "") < 0)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		if (strncmp(env[i], name, nlen) == 0 && env[i][nlen] == '=') {
			free(env[i]);
			env[i] = entry;
			return 0;
		}
	}
	env[(*n)++] = entry;
	return 0;
}

void
jobrun_env_free(char **env)
{
	if (env == NULL)
		return;
	for (size_t i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* The step's whole environment: a clean base (nothing of the daemon's
 * own), then the step's entries. NULL on out-of-memory. */
char **
jobrun_env_build(
    struct jobrun *jr, const struct job_step *s, const struct run_as *ra)
{
	char **env = calloc(JOBRUN_BASE_ENV + s->nenv + 1, sizeof(*env));
	char run_id[24], step[16], attempt[16];
	size_t n = 0;
	int bad = 0;

	if (env == NULL)
		return NULL;
	snprintf(run_id, sizeof(run_id), "%lld", (long long)jr->target_run_id);
	snprintf(step, sizeof(step), "%d", jr->step);
	snprintf(attempt, sizeof(attempt), "%d", jr->attempt);
	bad |= env_set(env, &n, "PATH", JOBRUN_PATH);
	bad |= env_set(env, &n, "HOME", ra->home[0] ? ra->home : "/");
	bad |= env_set(env, &n, "LANG", "C.UTF-8");
	if (ra->user[0] != '\0') {
		bad |= env_set(env, &n, "USER", ra->user);
		bad |= env_set(env, &n, "LOGNAME", ra->user);
	}
	bad |= env_set(env, &n, "COHORT_JOB", jr->job->name);
	bad |= env_set(env, &n, "COHORT_RUN_ID", run_id);
	bad |= env_set(env, &n, "COHORT_STEP", step);
	bad |= env_set(env, &n, "COHORT_STEP_NAME", s->name);
	bad |= env_set(env, &n, "COHORT_ATTEMPT", attempt);
	bad |= env_set(env, &n, "COHORT_TARGET", jr->target_name);
	for (size_t i = 0; i < s->nenv; i++)
		bad |= env_set(env, &n, s->env[i].name, s->env[i].value);
	if (bad) {
		jobrun_env_free(env);
		return NULL;
	}
	return env;
}
