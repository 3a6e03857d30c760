/* Cron schedules (proto/cron.c) and the CronJob controller over a real store and loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/xalloc.h"
#include "proto/cron.h"
#include "tests/unit/ctl_helpers.h"

#define WAIT_MS 20000

static time_t next_of(const char *spec, const char *after)
{
    minik_cron_t c;
    minik_error_t *err = NULL;
    if (minik_cron_parse(spec, &c, &err) < 0)
        fail_msg("%s: %s", spec, err->msg);
    return minik_cron_next(&c, minik_ctl_parse_time(after));
}

static void assert_next(const char *spec, const char *after, const char *want)
{
    char *got = minik_ctl_format_time(next_of(spec, after));
    assert_string_equal(got, want);
    free(got);
}

static void cron_next_times(void **state)
{
    assert_next("* * * * *", "2026-11-26T16:00:30Z", "2026-11-26T16:01:00Z");
    assert_next("* * * * *", "2026-11-26T16:00:00Z", "2026-11-26T16:01:00Z"); /* strictly after */
    assert_next("*/15 * * * *", "2026-11-26T16:01:00Z", "2026-11-26T16:15:00Z");
    assert_next("5/20 * * * *", "2026-11-26T16:30:00Z", "2026-11-26T16:45:00Z");
    assert_next("0 9 * * mon-fri", "2026-11-27T10:00:00Z", "2026-11-30T09:00:00Z"); /* Fri->Mon */
    assert_next("0 0 1 * *", "2026-12-15T00:00:00Z", "2027-01-01T00:00:00Z");
    assert_next("@daily", "2026-11-26T16:00:00Z", "2026-11-27T00:00:00Z");
    assert_next("@hourly", "2026-11-26T16:00:00Z", "2026-11-26T17:00:00Z");
    assert_next("30 2 29 feb *", "2026-03-01T00:00:00Z", "2028-02-29T02:30:00Z"); /* leap day */
    assert_next("0 12 * * 7", "2026-11-26T00:00:00Z", "2026-11-29T12:00:00Z");    /* 7 = Sunday */
    assert_next("0 0,12 * JAN,jul *", "2026-11-26T00:00:00Z", "2027-01-01T00:00:00Z");
    /* Both day fields restricted: either matches (the 1st, or any Monday). */
    assert_next("0 0 1 * mon", "2026-11-26T00:00:00Z", "2026-11-30T00:00:00Z");
    assert_next("0 0 1 * mon", "2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z");
    /* Never: no 30th of February. */
    assert_int_equal(next_of("0 0 30 2 *", "2026-01-01T00:00:00Z"), 0);
}

static void assert_bad(const char *spec, const char *want)
{
    minik_cron_t c;
    minik_error_t *err = NULL;
    assert_int_equal(minik_cron_parse(spec, &c, &err), -1);
    assert_string_equal(err->msg, want);
    minik_error_free(err);
}

static void cron_errors(void **state)
{
    assert_bad("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4");
    assert_bad("* * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), "
                              "got more than 5");
    assert_bad("60 * * * *", "minute: \"60\" is out of range 0-59");
    assert_bad("* 5-2 * * *", "hour: \"5-2\" is out of range 0-23");
    assert_bad("* * 0 * *", "day of month: \"0\" is out of range 1-31");
    assert_bad("* * * foo *", "month: invalid value \"foo\"");
    assert_bad("*/0 * * * *", "minute: invalid step in \"*/0\"");
    assert_bad("1, * * * *", "minute: empty list item");
    assert_bad("@often", "unknown schedule macro \"@often\"");
    assert_bad("", "expected 5 fields (minute hour day-of-month month day-of-week), got 0");
}

/* ---- the controller ------------------------------------------------------------------- */

static cJSON *cronjob(const char *policy, time_t created)
{
    char *ts = minik_ctl_format_time(created);
    char *text = xasprintf(
        "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"tick\","
        "\"namespace\":\"default\",\"creationTimestamp\":\"%s\"},\"spec\":{\"schedule\":"
        "\"* * * * *\",\"concurrencyPolicy\":\"%s\",\"successfulJobsHistoryLimit\":2,"
        "\"jobTemplate\":{\"metadata\":{\"labels\":{\"app\":\"tick\"}},\"spec\":{\"template\":"
        "{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":"
        "\"busybox\"}]}}}}}}",
        ts, policy);
    free(ts);
    cJSON *o = cJSON_Parse(text);
    free(text);
    return o;
}

static bool has_run(ctl_fix_t *f, void *ud)
{
    cJSON *cj = cf_get(f, "CronJob", "default", "tick");
    bool ok = cj && cf_str(cj, "status.lastScheduleTime") && cf_count(f, "Job", "default") >= 1;
    cJSON_Delete(cj);
    return ok;
}

/* A run missed while nobody watched (created 3 minutes ago) starts at once: one Job for
 * the most recent scheduled minute, not one per missed minute. */
static void cronjob_runs_missed_schedule(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    cf_add_node(f, "node-1", NULL, NULL);
    f->mode = HK_IGNORE;
    time_t now = time(NULL);
    cf_create(f, cronjob("Allow", now - 180));
    assert_true(cf_run_until(f, has_run, NULL, WAIT_MS));
    cf_run_for(f, 200);
    cJSON *jobs = cf_list(f, "Job", "default");
    assert_int_equal(cJSON_GetArraySize(jobs), 1);
    const cJSON *job = cJSON_GetArrayItem(jobs, 0);
    cJSON *cj = cf_get(f, "CronJob", "default", "tick");
    time_t sched = minik_ctl_parse_time(cf_str(cj, "status.lastScheduleTime"));
    assert_true(sched <= now && sched > now - 60);
    char *want = xasprintf("tick-%lld", (long long)sched / 60);
    assert_string_equal(cf_str(job, "metadata.name"), want);
    free(want);
    assert_string_equal(cf_str(job, "metadata.labels.app"), "tick");
    assert_string_equal(cf_str(minik_ctl_controller_ref(job), "uid"), cf_str(cj, "metadata.uid"));
    assert_string_equal(
        cf_str(cJSON_GetArrayItem((cJSON *)minik_ctl_get(cj, "status.active"), 0), "name"),
        cf_str(job, "metadata.name"));
    /* The Job controller took it from there. */
    assert_int_equal(cf_count(f, "Pod", "default"), 1);
    cJSON_Delete(cj);
    cJSON_Delete(jobs);
    cf_free(f);
}

static cJSON *owned_job(const cJSON *cj, const char *name, const char *finished)
{
    cJSON *job = cJSON_Parse("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":"
                             "{\"namespace\":\"default\"},\"spec\":{\"template\":{\"spec\":{"
                             "\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\","
                             "\"image\":\"x\"}]}}}}");
    cJSON *md = minik_ctl_obj(job, "metadata");
    cJSON_AddStringToObject(md, "name", name);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(md, "ownerReferences"), minik_ctl_owner_ref(cj));
    if (finished) {
        cJSON *st = minik_ctl_obj(job, "status");
        minik_ctl_set_condition(st, finished, "True", NULL, NULL, time(NULL), false);
    }
    return job;
}

/* Start with controllers stopped, a CronJob and Jobs of its own, then start them. */
static ctl_fix_t *with_jobs(const char *policy, const char *const *finished, int n)
{
    ctl_fix_t *f = cf_new(NULL);
    f->mode = HK_IGNORE;
    minik_controllers_free(f->ctl);
    cJSON *cj = cronjob(policy, time(NULL) - 120);
    cJSON *stored = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_create(f->store, cj, &stored, &err), 0);
    cJSON_Delete(cj);
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "old-%d", i);
        cf_create(f, owned_job(stored, name, finished[i]));
    }
    cJSON_Delete(stored);
    assert_int_equal(minik_controllers_new(f->store, &f->loop, NULL, &f->ctl, &err), 0);
    assert_int_equal(minik_controllers_start(f->ctl, &err), 0);
    return f;
}

static bool scheduled(ctl_fix_t *f, void *ud)
{
    cJSON *cj = cf_get(f, "CronJob", "default", "tick");
    bool ok = cj && cf_str(cj, "status.lastScheduleTime");
    cJSON_Delete(cj);
    return ok;
}

static void cronjob_forbid_skips_while_active(void **state)
{
    static const char *const finished[] = {NULL};
    ctl_fix_t *f = with_jobs("Forbid", finished, 1);
    assert_true(cf_run_until(f, scheduled, NULL, WAIT_MS));
    cf_run_for(f, 200);
    assert_int_equal(cf_count(f, "Job", "default"), 1); /* only the running one */
    cJSON *old = cf_get(f, "Job", "default", "old-0");
    assert_non_null(old);
    cJSON_Delete(old);
    cf_free(f);
}

static void cronjob_replace_and_history(void **state)
{
    /* One running Job and four finished ones: Replace deletes the running one, and only
     * successfulJobsHistoryLimit (2) successes and failedJobsHistoryLimit (1) failure stay. */
    static const char *const finished[] = {NULL,       "Complete", "Complete",
                                           "Complete", "Failed",   "Failed"};
    ctl_fix_t *f = with_jobs("Replace", finished, 6);
    bool ok = false;
    for (int i = 0; i < 5 && !ok; i++) {
        cf_run_for(f, 200);
        ok = cf_count(f, "Job", "default") == 1 + 2 + 1;
    }
    assert_true(ok);
    cJSON *old = cf_get(f, "Job", "default", "old-0");
    assert_null(old);
    old = cf_get(f, "Job", "default", "old-1"); /* the oldest success went */
    assert_null(old);
    old = cf_get(f, "Job", "default", "old-4"); /* the older failure went */
    assert_null(old);
    old = cf_get(f, "Job", "default", "old-5");
    assert_non_null(old);
    cJSON_Delete(old);
    cf_free(f);
}

static void cronjob_suspended_does_not_run(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    cJSON *cj = cronjob("Allow", time(NULL) - 180);
    cJSON_AddBoolToObject(minik_ctl_obj(cj, "spec"), "suspend", 1);
    cf_create(f, cj);
    cf_run_for(f, 500);
    assert_int_equal(cf_count(f, "Job", "default"), 0);
    cf_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cron_next_times),
        cmocka_unit_test(cron_errors),
        cmocka_unit_test(cronjob_runs_missed_schedule),
        cmocka_unit_test(cronjob_forbid_skips_while_active),
        cmocka_unit_test(cronjob_replace_and_history),
        cmocka_unit_test(cronjob_suspended_does_not_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
