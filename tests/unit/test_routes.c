/*
 * Unit tests for the master's route table and path matching: every route
 * is reachable, names in paths are decoded, and the roles allowed on each
 * route are what the security model says (one table, checked here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/api.h"

static const struct {
	const char *pattern, *path;
	int match;
	const char *arg0;
} match_cases[] = {
    {"/v1/whoami", "/v1/whoami", 1, NULL},
    {"/v1/whoami", "/v1/whoami/", 0, NULL},
    {"/v1/whoami", "/v1/who", 0, NULL},
    {"/v1/jobs/{name}", "/v1/jobs/backup", 1, "backup"},
    {"/v1/jobs/{name}", "/v1/jobs/", 0, NULL},
    {"/v1/jobs/{name}", "/v1/jobs/a/b", 0, NULL},
    {"/v1/jobs/{name}", "/v1/jobs/a%20b", 1, "a b"},
    {"/v1/jobs/{name}/start", "/v1/jobs/x/start", 1, "x"},
    {"/v1/jobs/{name}/start", "/v1/jobs/x/stop", 0, NULL},
    {"/v1/jobs/{name}/start", "/v1/jobs/x", 0, NULL},
    {"/v1/jobs/{name}/next", "/v1/jobs/x/next", 1, "x"},
    {"/v1/targets/{name}/token", "/v1/targets/web-1/token", 1, "web-1"},
    /* a NUL byte would cut the name short */
    {"/v1/jobs/{name}", "/v1/jobs/a%00b", 0, NULL},
    {"/ui/{file}", "/ui/app.js%00.html", 0, NULL},
    /* nor is a name anything but UTF-8 */
    {"/v1/jobs/{name}", "/v1/jobs/a%FFb", 0, NULL},
    {"/v1/jobs/{name}", "/v1/jobs/%C0%AF", 0, NULL}, /* overlong "/" */
    {"/v1/jobs/{name}", "/v1/jobs/%C3%A9t%C3%A9", 1, "\xc3\xa9t\xc3\xa9"},
    {"/ui/{file}", "/ui/..%2fcohortd.conf", 1, "../cohortd.conf"},
    {"/ui/", "/ui/", 1, NULL},
    {"/ui/", "/ui", 0, NULL},
    {"/v1/jobs", "", 0, NULL},
    {"/v1/jobs", "v1/jobs", 0, NULL},
};

static void
test_match(void **state)
{
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]);
	     i++) {
		char *args[HTTP_MAX_ARGS];
		int n = 0;
		int m = http_match(
		    match_cases[i].pattern, match_cases[i].path, args, &n);

		if (m != match_cases[i].match)
			fail_msg("case %zu: %s vs %s", i,
			    match_cases[i].pattern, match_cases[i].path);
		if (m && match_cases[i].arg0 != NULL) {
			assert_int_equal(n, 1);
			assert_string_equal(args[0], match_cases[i].arg0);
		}
		for (int j = 0; j < n; j++)
			free(args[j]);
	}
}

/* The security model, route by route. A new route fails this test until
 * it is added here with its roles. */
static const struct {
	enum evhttp_cmd_type method;
	const char *pattern;
	unsigned roles;
} expected[] = {
    {EVHTTP_REQ_GET, "/v1/whoami", HTTP_READERS | HTTP_TARGET},
    {EVHTTP_REQ_GET, "/v1/ca", HTTP_ANON},
    {EVHTTP_REQ_POST, "/v1/enlist", HTTP_ANON},
    {EVHTTP_REQ_POST, "/v1/targets/{name}/token", HTTP_ADMIN},
    {EVHTTP_REQ_GET, "/v1/targets", HTTP_READERS},
    {EVHTTP_REQ_GET, "/v1/targets/{name}", HTTP_READERS},
    {EVHTTP_REQ_DELETE, "/v1/targets/{name}", HTTP_ADMIN},
    {EVHTTP_REQ_GET, "/v1/jobs", HTTP_READERS},
    {EVHTTP_REQ_GET, "/v1/jobs/{name}", HTTP_READERS},
    {EVHTTP_REQ_PUT, "/v1/jobs/{name}", HTTP_ADMIN},
    {EVHTTP_REQ_DELETE, "/v1/jobs/{name}", HTTP_ADMIN},
    {EVHTTP_REQ_POST, "/v1/jobs/{name}/start", HTTP_ADMIN | HTTP_OPERATOR},
    {EVHTTP_REQ_POST, "/v1/jobs/{name}/stop", HTTP_ADMIN | HTTP_OPERATOR},
    {EVHTTP_REQ_GET, "/v1/history", HTTP_READERS},
    {EVHTTP_REQ_GET, "/v1/downloadlist", HTTP_READERS},
    {EVHTTP_REQ_POST, "/v1/poll", HTTP_TARGET},
    {EVHTTP_REQ_POST, "/v1/outbox", HTTP_TARGET},
    {EVHTTP_REQ_POST, "/v1/defect", HTTP_TARGET},
    {EVHTTP_REQ_GET, "/v1/groups", HTTP_READERS},
    {EVHTTP_REQ_POST, "/v1/groups", HTTP_ADMIN},
    {EVHTTP_REQ_DELETE, "/v1/groups/{name}", HTTP_ADMIN},
    {EVHTTP_REQ_POST, "/v1/groups/{name}/members", HTTP_ADMIN},
    {EVHTTP_REQ_DELETE, "/v1/groups/{name}/members/{target}", HTTP_ADMIN},
    {EVHTTP_REQ_POST, "/v1/downloadlist/{id}/clear", HTTP_ADMIN},
    {EVHTTP_REQ_POST, "/v1/targets/{name}/resync", HTTP_ADMIN},
    {EVHTTP_REQ_POST, "/v1/targets/{name}/defect", HTTP_ADMIN},
    {EVHTTP_REQ_POST, "/v1/targets/{name}/settings", HTTP_ADMIN},
    {EVHTTP_REQ_POST, "/v1/history/purge", HTTP_ADMIN},
    {EVHTTP_REQ_GET, "/v1/jobs/{name}/next", HTTP_READERS},
    {EVHTTP_REQ_GET, "/v1/jobs/{name}/why", HTTP_READERS},
    /* security */
    {EVHTTP_REQ_GET, "/v1/certs", HTTP_READERS},
    {EVHTTP_REQ_POST, "/v1/certs", HTTP_ADMIN},
    {EVHTTP_REQ_POST, "/v1/certs/revoke", HTTP_ADMIN},
    {EVHTTP_REQ_POST, "/v1/renew", HTTP_TARGET},
    {EVHTTP_REQ_GET, "/v1/audit", HTTP_READERS},
    {EVHTTP_REQ_GET, "/v1/events", HTTP_READERS},
    {EVHTTP_REQ_GET, "/v1/operators", HTTP_READERS},
    {EVHTTP_REQ_POST, "/v1/operators", HTTP_ADMIN},
    {EVHTTP_REQ_DELETE, "/v1/operators/{name}", HTTP_ADMIN},
    {EVHTTP_REQ_POST, "/v1/operators/{name}/default", HTTP_ADMIN},
    {EVHTTP_REQ_GET, "/v1/notifications", HTTP_READERS},
    {EVHTTP_REQ_GET, "/v1/health", HTTP_ANON},
    {EVHTTP_REQ_POST, "/v1/lease/release", HTTP_ADMIN},
    /* metrics */
    {EVHTTP_REQ_GET, "/metrics", HTTP_READERS},
    /* scale-out */
    {EVHTTP_REQ_POST, "/v1/executions", HTTP_ADMIN | HTTP_OPERATOR},
    {EVHTTP_REQ_GET, "/v1/executions", HTTP_READERS},
    {EVHTTP_REQ_GET, "/v1/executions/{id}", HTTP_READERS},
    {EVHTTP_REQ_GET, "/v1/workers", HTTP_READERS},
    {EVHTTP_REQ_POST, "/v1/workers/{name}/enable", HTTP_ADMIN},
    {EVHTTP_REQ_POST, "/v1/workers/{name}/disable", HTTP_ADMIN},
    /* dashboard */
    {EVHTTP_REQ_GET, "/ui", HTTP_READERS},
    {EVHTTP_REQ_GET, "/ui/", HTTP_READERS},
    {EVHTTP_REQ_GET, "/ui/{file}", HTTP_READERS},
};

static void
test_route_roles(void **state)
{
	size_t n = 0, nexp = sizeof(expected) / sizeof(expected[0]);

	for (const struct http_route *rt = http_routes; rt->pattern;
	     rt++, n++) {
		int found = 0;

		assert_non_null(rt->handler);
		assert_non_null(rt->summary);
		for (size_t i = 0; i < nexp; i++) {
			if (expected[i].method != rt->method ||
			    strcmp(expected[i].pattern, rt->pattern) != 0)
				continue;
			found = 1;
			if (expected[i].roles != rt->roles)
				fail_msg("%s: roles %#x, expected %#x",
				    rt->pattern, rt->roles, expected[i].roles);
		}
		if (!found)
			fail_msg("route %s is not in the security table",
			    rt->pattern);
		/* no target may reach admin-only routes and no anonymous
		 * route beyond enlisting and the health check (which says
		 * no more than a standby's not_active answer does) */
		if ((rt->roles & HTTP_ANON) && strcmp(rt->pattern, "/v1/ca") &&
		    strcmp(rt->pattern, "/v1/enlist") &&
		    strcmp(rt->pattern, "/v1/health"))
			fail_msg("%s is anonymous", rt->pattern);
		/* every change is audited but a target's polls and uploads */
		if (rt->quiet !=
		    (!strcmp(rt->pattern, "/v1/poll") ||
			!strcmp(rt->pattern, "/v1/outbox")))
			fail_msg("%s: quiet is %d", rt->pattern, rt->quiet);
		/* no route for a target beyond its own calls and whoami */
		if ((rt->roles & HTTP_TARGET) && rt->method != EVHTTP_REQ_GET &&
		    rt->roles != HTTP_TARGET)
			fail_msg(
			    "%s: a target shares a change route", rt->pattern);
	}
	assert_int_equal(n, nexp);
}

/* Cross-site request forgery: what a browser sends from another site's
 * page is refused; cohortctl, targets and the dashboard itself pass. */
static void
test_cross_site(void **state)
{
	const char *host = "master.example:8443";
	struct cerr err;

	/* cohortctl and targets send neither header */
	assert_int_equal(http_cross_site(0, NULL, NULL, NULL, host, &err), 0);
	/* the dashboard's own calls */
	assert_int_equal(http_cross_site(0, "same-origin", "cors",
			     "https://master.example:8443", host, &err),
	    0);
	assert_int_equal(
	    http_cross_site(1, "same-origin", "cors", NULL, host, &err), 0);
	/* a typed address, and a link from elsewhere to the dashboard */
	assert_int_equal(
	    http_cross_site(1, "none", "navigate", NULL, host, &err), 0);
	assert_int_equal(
	    http_cross_site(1, "cross-site", "navigate", NULL, host, &err), 0);
	/* another site's form posting, or its script calling */
	assert_int_equal(http_cross_site(0, "cross-site", "navigate",
			     "https://evil.example", host, &err),
	    -1);
	assert_int_equal(err.code, CERR_FORBIDDEN);
	assert_non_null(strstr(err.msg, "cross-site request refused"));
	assert_int_equal(
	    http_cross_site(1, "same-site", "cors", NULL, host, &err), -1);
	assert_int_equal(
	    http_cross_site(1, "cross-site", "no-cors", NULL, host, &err), -1);
	/* an old browser without Sec-Fetch-*: the Origin decides */
	assert_int_equal(
	    http_cross_site(0, NULL, NULL, "https://evil.example", host, &err),
	    -1);
	assert_int_equal(http_cross_site(0, NULL, NULL,
			     "http://master.example:8443", host, &err),
	    -1);
	assert_int_equal(
	    http_cross_site(0, NULL, NULL, "null", host, &err), -1);
	assert_int_equal(http_cross_site(0, NULL, NULL,
			     "https://master.example:8443", NULL, &err),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_route_roles),
	    cmocka_unit_test(test_cross_site),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
