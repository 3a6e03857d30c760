/* Unit tests for hollow nodes (agent/hollow.c): which command lines exit and with what
 * code, and the status a hollow pod reports for each restart policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"

static cJSON *J(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    return j;
}

static void test_exit_code(void **state)
{
    (void)state;
    static const struct {
        const char *spec;
        int want;
    } cases[] = {
        {"{}", -1},
        {"{\"command\":[\"sleep\",\"3600\"]}", -1},
        {"{\"command\":[\"sh\",\"-c\",\"exit 3\"]}", 3},
        {"{\"command\":[\"sh\",\"-c\"],\"args\":[\"exit 0\"]}", 0},
        {"{\"command\":[\"sh\",\"-c\",\"echo hi; exit 42  \"]}", 42},
        {"{\"command\":[\"sh\",\"-c\",\"echo hi;exit 7\"]}", 7},
        {"{\"args\":[\"exit\",\"1\"]}", 1},
        {"{\"command\":[\"sh\",\"-c\",\"exit 256\"]}", -1},
        {"{\"command\":[\"sh\",\"-c\",\"exit\"]}", -1},
        {"{\"command\":[\"sh\",\"-c\",\"myexit 3\"]}", -1},
        {"{\"command\":[\"sh\",\"-c\",\"exit 3x\"]}", -1},
        {"{\"command\":[\"exit3\"]}", -1},
        {"{\"command\":[\"3\"]}", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cleanup_cjson cJSON *c = J(cases[i].spec);
        int got = minik_agent_hollow_exit_code(c);
        if (got != cases[i].want)
            fail_msg("%s: got %d, want %d", cases[i].spec, got, cases[i].want);
    }
}

typedef struct fixture {
    struct minik_agent a;
    agent_pod_t *p;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = xcalloc(1, sizeof(*f));
    f->a.hollow = true;
    f->a.node_ip = xstrdup("127.0.0.9");
    f->p = minik_agent_pod_new(&f->a, "uid-1", "default", "p");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    minik_agent_pod_free(f->p);
    free(f->a.node_ip);
    free(f);
    return 0;
}

/* One reconcile pass of `pod`; returns the status it would write (caller frees). */
static cJSON *reconcile(fixture_t *f, const char *pod)
{
    cJSON_Delete(f->p->job_obj);
    f->p->job_obj = J(pod);
    minik_agent_pod_reconcile(f->p, 0);
    cJSON_Delete(f->p->events_out);
    f->p->events_out = NULL;
    cJSON *st = f->p->status_out;
    f->p->status_out = NULL;
    assert_non_null(st);
    return st;
}

static const char *s(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static const char *ready_of(const cJSON *st)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(st, "conditions"))
    {
        if (strcmp(s(c, "type"), "Ready") == 0)
            return s(c, "status");
    }
    return NULL;
}

static const cJSON *cstatus(const cJSON *st, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "containerStatuses"), i);
}

static void test_runs_for_ever(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *st = reconcile(
        f, "{\"spec\":{\"initContainers\":[{\"name\":\"i\"}],\"containers\":[{\"name\":\"a\","
           "\"command\":[\"sleep\",\"9\"]}]}}");
    assert_string_equal(s(st, "phase"), "Running");
    assert_string_equal(ready_of(st), "True");
    assert_string_equal(s(st, "hostIP"), "127.0.0.9");
    const cJSON *init = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "initContainerStatuses"), 0);
    assert_string_equal(
        s(cJSON_GetObjectItem(cJSON_GetObjectItem(init, "state"), "terminated"), "reason"),
        "Completed");
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cstatus(st, 0), "state"), "running"));
}

static void test_job_succeeds_and_fails(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *ok =
        reconcile(f, "{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"a\","
                     "\"command\":[\"sh\",\"-c\",\"exit 0\"]}]}}");
    assert_string_equal(s(ok, "phase"), "Succeeded");
    assert_string_equal(ready_of(ok), "False");
    const cJSON *term =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cstatus(ok, 0), "state"), "terminated");
    assert_string_equal(s(term, "reason"), "Completed");
    assert_int_equal(cJSON_GetObjectItem(term, "exitCode")->valueint, 0);

    /* A second pass reports the same: the exit is recorded once. */
    cleanup_cjson cJSON *again =
        reconcile(f, "{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"a\","
                     "\"command\":[\"sh\",\"-c\",\"exit 0\"]}]}}");
    assert_true(cJSON_Compare(ok, again, 1));
}

static void test_job_fails(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *st =
        reconcile(f, "{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"a\","
                     "\"command\":[\"sh\",\"-c\",\"exit 3\"]},{\"name\":\"b\"}]}}");
    /* b still runs: the pod is Running but not Ready until every container ends. */
    assert_string_equal(s(st, "phase"), "Running");
    assert_string_equal(ready_of(st), "False");
    cJSON_Delete(f->p->job_obj);
    f->p->job_obj = NULL;
    minik_agent_pod_free(f->p);
    f->p = minik_agent_pod_new(&f->a, "uid-2", "default", "q");
    cleanup_cjson cJSON *failed =
        reconcile(f, "{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"a\","
                     "\"command\":[\"sh\",\"-c\",\"exit 3\"]}]}}");
    assert_string_equal(s(failed, "phase"), "Failed");
    const cJSON *term =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cstatus(failed, 0), "state"), "terminated");
    assert_string_equal(s(term, "reason"), "Error");
    assert_int_equal(cJSON_GetObjectItem(term, "exitCode")->valueint, 3);
}

static void test_restarting_crash_loops(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *st = reconcile(
        f, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"command\":[\"sh\",\"-c\",\"exit 1\"]}]}}");
    assert_string_equal(s(st, "phase"), "Running");
    assert_string_equal(ready_of(st), "False");
    const cJSON *cs = cstatus(st, 0);
    assert_int_equal(cJSON_GetObjectItem(cs, "restartCount")->valueint, 1);
    assert_string_equal(
        s(cJSON_GetObjectItem(cJSON_GetObjectItem(cs, "state"), "waiting"), "reason"),
        "CrashLoopBackOff");
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cs, "lastState"), "terminated"));
}

static void test_failed_init_fails_pod(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *st =
        reconcile(f, "{\"spec\":{\"restartPolicy\":\"Never\",\"initContainers\":[{\"name\":\"i\","
                     "\"command\":[\"exit\",\"2\"]}],\"containers\":[{\"name\":\"a\"}]}}");
    assert_string_equal(s(st, "phase"), "Failed");
}

static void test_deleted_pod_is_gone(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *st = reconcile(f, "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}");
    f->p->deleted = true;
    minik_agent_pod_reconcile(f->p, 0);
    assert_true(f->p->gone);
    assert_null(f->p->status_out);
    cJSON_Delete(f->p->events_out);
    f->p->events_out = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_code),
        cmocka_unit_test_setup_teardown(test_runs_for_ever, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_succeeds_and_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restarting_crash_loops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_init_fails_pod, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_pod_is_gone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
