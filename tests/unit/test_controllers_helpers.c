/* Pure helpers of the controllers: the template hash, int-or-percent rounding, conditions,
 * readiness, times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"

static void template_hash_is_canonical(void **state)
{
    cJSON *a = cJSON_Parse("{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}},"
                           "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}");
    /* Same template, other member order, plus a pod-template-hash label: same hash. */
    cJSON *b = cJSON_Parse("{\"spec\":{\"containers\":[{\"image\":\"nginx\",\"name\":\"c\"}]},"
                           "\"metadata\":{\"labels\":{\"pod-template-hash\":\"zzz\",\"tier\":"
                           "\"fe\",\"app\":\"web\"}}}");
    cJSON *c = cJSON_Parse("{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}},"
                           "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:2\"}]}}");
    char *ha = minik_ctl_template_hash(a), *hb = minik_ctl_template_hash(b);
    char *hc = minik_ctl_template_hash(c);
    assert_string_equal(ha, hb);
    assert_string_not_equal(ha, hc);
    assert_true(strspn(ha, "bcdfghjklmnpqrstvwxz2456789") == strlen(ha));
    assert_true(minik_ctl_template_equal(a, b));
    assert_false(minik_ctl_template_equal(a, c));
    /* The hash of an unchanged template never changes between runs (it names RSes). */
    char *again = minik_ctl_template_hash(a);
    assert_string_equal(ha, again);
    free(again);
    free(ha);
    free(hb);
    free(hc);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
}

static int64_t scaled(const char *json, int64_t total, bool up)
{
    cJSON *v = json ? cJSON_Parse(json) : NULL;
    int64_t r = minik_ctl_scaled(v, total, up, 25);
    cJSON_Delete(v);
    return r;
}

static void int_or_percent_rounding(void **state)
{
    assert_int_equal(scaled("\"25%\"", 6, true), 2);  /* 1.5 up */
    assert_int_equal(scaled("\"25%\"", 6, false), 1); /* 1.5 down */
    assert_int_equal(scaled("\"25%\"", 4, true), 1);
    assert_int_equal(scaled("\"0%\"", 10, true), 0);
    assert_int_equal(scaled("\"100%\"", 7, false), 7);
    assert_int_equal(scaled("3", 100, true), 3);
    assert_int_equal(scaled("\"3\"", 100, true), 3);
    assert_int_equal(scaled(NULL, 10, true), 3); /* default 25% of 10, up */
    assert_int_equal(scaled(NULL, 10, false), 2);
    assert_int_equal(scaled("\"-5%\"", 10, true), 0);
    assert_int_equal(scaled("1e300", 10, true), 9007199254740992LL);
}

static void conditions_and_readiness(void **state)
{
    cJSON *st = cJSON_CreateObject();
    assert_true(minik_ctl_set_condition(st, "Ready", "True", "R", "m", 1000, false));
    assert_false(minik_ctl_set_condition(st, "Ready", "True", "R", "m", 2000, false));
    cJSON *pod = cJSON_CreateObject();
    cJSON_AddItemToObject(pod, "status", st);
    const cJSON *cond = minik_ctl_condition(pod, "Ready");
    assert_string_equal(minik_ctl_str(cond, "lastTransitionTime"), "1970-01-01T00:16:40Z");
    /* A status change moves lastTransitionTime. */
    assert_true(minik_ctl_set_condition(st, "Ready", "False", "R", "m", 3000, false));
    assert_string_equal(minik_ctl_str(minik_ctl_condition(pod, "Ready"), "lastTransitionTime"),
                        "1970-01-01T00:50:00Z");
    assert_false(minik_ctl_pod_ready(pod));
    assert_true(minik_ctl_set_condition(st, "Ready", "True", "R", "m", 3000, false));
    assert_true(minik_ctl_pod_ready(pod));
    /* minReadySeconds: available only once ready long enough; wait_s says how long. */
    int64_t wait = 0;
    assert_false(minik_ctl_pod_available(pod, 10, 3004, &wait));
    assert_int_equal(wait, 6);
    assert_true(minik_ctl_pod_available(pod, 10, 3010, &wait));
    assert_true(minik_ctl_pod_available(pod, 0, 3000, NULL));
    /* Finished or terminating pods are neither active nor ready. */
    minik_ctl_set_str(st, "phase", "Succeeded");
    assert_false(minik_ctl_pod_active(pod));
    assert_false(minik_ctl_pod_ready(pod));
    cJSON_Delete(pod);
    assert_int_equal(minik_ctl_parse_time("2023-11-14T22:13:20Z"), 1700000000);
    assert_int_equal(minik_ctl_parse_time("yesterday"), 0);
    assert_int_equal(minik_ctl_parse_time(NULL), 0);
}

static void paths_with_dotted_keys(void **state)
{
    cJSON *o = cJSON_Parse("{\"metadata\":{\"annotations\":{\"deployment.kubernetes.io/"
                           "revision\":\"12\"},\"generation\":3}}");
    assert_int_equal(minik_ctl_int(o, "metadata.annotations.deployment.kubernetes.io/revision", 0),
                     12);
    assert_int_equal(minik_ctl_int(o, "metadata.generation", 0), 3);
    assert_int_equal(minik_ctl_int(o, "metadata.nope", -1), -1);
    assert_null(minik_ctl_str(o, "metadata.generation"));
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(template_hash_is_canonical),
        cmocka_unit_test(int_or_percent_rounding),
        cmocka_unit_test(conditions_and_readiness),
        cmocka_unit_test(paths_with_dotted_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
