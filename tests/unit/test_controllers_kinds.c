/* The workload kinds the controllers add to proto's table (ReplicaSet, DaemonSet, Job):
 * validation errors and defaults, through the same manifest path `minik apply` uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "proto/kinds.h"
#include "proto/validate.h"
#include "tests/unit/proto_helpers.h"

static void assert_diags(const char *yaml, const char *want)
{
    char *got = proto_check(yaml, MINIK_VALIDATE_STRICT, NULL);
    assert_string_equal(got, want);
    free(got);
}

#define TEMPLATE(restart)                                                                          \
    "  template:\n"                                                                                \
    "    metadata: {labels: {app: x}}\n"                                                           \
    "    spec:\n" restart "      containers: [{name: c, image: busybox}]\n"

static void kinds_are_known(void **state)
{
    assert_non_null(minik_kind_lookup("apps/v1", "ReplicaSet"));
    assert_non_null(minik_kind_lookup("apps/v1", "DaemonSet"));
    assert_non_null(minik_kind_lookup("batch/v1", "Job"));
    assert_string_equal(minik_kind_by_name("rs")->kind, "ReplicaSet");
    assert_string_equal(minik_kind_by_name("ds")->kind, "DaemonSet");
    assert_string_equal(minik_kind_by_name("jobs")->kind, "Job");
}

static void job_defaults_and_rules(void **state)
{
    cJSON *job =
        proto_load_one("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n" TEMPLATE(
            "      restartPolicy: Never\n"));
    assert_int_equal(proto_at(job, "spec.parallelism")->valueint, 1);
    assert_int_equal(proto_at(job, "spec.backoffLimit")->valueint, 6);
    assert_null(proto_at(job, "spec.completions"));
    cJSON_Delete(job);
    /* A Job's pods must not restart for ever: the PodSpec default (Always) is refused. */
    assert_diags("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n" TEMPLATE(""),
                 "app.yaml:8:7: spec.template.spec.restartPolicy: required value: supported "
                 "values: \"OnFailure\", \"Never\"\n");
    assert_diags("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n" TEMPLATE(
                     "      restartPolicy: Always\n"),
                 "app.yaml:8:22: spec.template.spec.restartPolicy: unsupported value \"Always\": "
                 "supported values: \"OnFailure\", \"Never\"\n");
    assert_diags("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n"
                 "  backoffLimit: -1\n" TEMPLATE("      restartPolicy: Never\n"),
                 "app.yaml:5:17: spec.backoffLimit: must be greater than or equal to 0, got -1\n");
}

static void daemonset_defaults_and_rules(void **state)
{
    const char *base = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n"
                       "  selector: {matchLabels: {app: x}}\n" TEMPLATE("");
    cJSON *ds = proto_load_one(base);
    assert_string_equal(proto_at(ds, "spec.updateStrategy.type")->valuestring, "RollingUpdate");
    assert_int_equal(proto_at(ds, "spec.updateStrategy.rollingUpdate.maxUnavailable")->valueint, 1);
    cJSON_Delete(ds);
    /* maxSurge is not implemented for DaemonSets: an error, not a silent drop. */
    char *y = xasprintf("%s  updateStrategy: {rollingUpdate: {maxSurge: 1}}\n", base);
    char *got = proto_check(y, MINIK_VALIDATE_STRICT, NULL);
    assert_non_null(strstr(got, "spec.updateStrategy.rollingUpdate.maxSurge: unknown field"));
    free(got);
    free(y);
    assert_diags("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n"
                 "  selector: {matchLabels: {app: other}}\n" TEMPLATE(""),
                 "app.yaml:7:24: spec.template.metadata.labels: `selector` does not match "
                 "template `labels`\n");
}

static void replicaset_defaults(void **state)
{
    cJSON *rs = proto_load_one("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec:\n"
                               "  selector: {matchLabels: {app: x}}\n" TEMPLATE(""));
    assert_int_equal(proto_at(rs, "spec.replicas")->valueint, 1);
    assert_string_equal(proto_at(rs, "spec.template.spec.restartPolicy")->valuestring, "Always");
    cJSON_Delete(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kinds_are_known),
        cmocka_unit_test(job_defaults_and_rules),
        cmocka_unit_test(daemonset_defaults_and_rules),
        cmocka_unit_test(replicaset_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
