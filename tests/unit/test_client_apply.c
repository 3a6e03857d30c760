/* Unit tests for client-side apply: the last-applied annotation and the three-way JSON
 * merge patch (what makes removed fields disappear and unchanged files send nothing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "proto/client_apply.h"

static cJSON *j(const char *text)
{
    cJSON *v = cJSON_Parse(text);
    assert_non_null(v);
    return v;
}

static void assert_json(const cJSON *got, const char *want_text)
{
    cleanup_cjson cJSON *want = j(want_text);
    if (!cJSON_Compare(got, want, true)) {
        cleanup_free char *g = cJSON_PrintUnformatted(got);
        fail_msg("got %s, want %s", g, want_text);
    }
}

static void merge_patch_create_rfc7386(void **state)
{
    cleanup_cjson cJSON *a = j("{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"l\":[1,2],\"s\":\"x\"}");
    cleanup_cjson cJSON *b = j("{\"a\":1,\"b\":{\"c\":5},\"l\":[1,2,3],\"n\":true}");
    cleanup_cjson cJSON *p = minik_merge_patch_create(a, b);
    assert_json(p, "{\"b\":{\"c\":5,\"d\":null},\"l\":[1,2,3],\"s\":null,\"n\":true}");
    /* Applying the patch to a gives b. */
    cleanup_cjson cJSON *r = minik_merge_patch_apply(a, p);
    assert_true(cJSON_Compare(r, b, true));
    cleanup_cjson cJSON *same = minik_merge_patch_create(a, a);
    assert_true(minik_merge_patch_is_empty(same));
}

static void merge_patch_apply_rfc7386_examples(void **state)
{
    /* From RFC 7386 appendix A. */
    static const char *const cases[][3] = {
        {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
        {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
        {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
        {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
        {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
        {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
        {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
        {"{\"a\":\"foo\"}", "null", "null"},
        {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
        {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
        {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cleanup_cjson cJSON *t = j(cases[i][0]);
        cleanup_cjson cJSON *p = j(cases[i][1]);
        cleanup_cjson cJSON *r = minik_merge_patch_apply(t, p);
        assert_json(r, cases[i][2]);
    }
}

static void annotation_records_the_file_without_itself(void **state)
{
    cleanup_cjson cJSON *desired =
        j("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},"
          "\"data\":{\"k\":\"v\"}}");
    cleanup_cjson cJSON *mod = minik_apply_annotate(desired);
    cleanup_cjson cJSON *last = minik_apply_last_applied(mod);
    assert_non_null(last);
    assert_true(cJSON_Compare(last, desired, true));
    /* Annotating again (re-apply of the live object) does not nest the annotation. */
    cleanup_cjson cJSON *again = minik_apply_annotate(mod);
    assert_true(cJSON_Compare(again, mod, true));
    /* The user's own annotations stay. */
    cleanup_cjson cJSON *withann =
        j("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"annotations\":{\"a\":\"1\"}}}");
    cleanup_cjson cJSON *m2 = minik_apply_annotate(withann);
    const cJSON *ann = cJSON_GetObjectItem(cJSON_GetObjectItem(m2, "metadata"), "annotations");
    assert_string_equal(cJSON_GetObjectItem(ann, "a")->valuestring, "1");
    assert_non_null(cJSON_GetObjectItem(ann, MINIK_LAST_APPLIED_ANNOTATION));
    /* No annotation, or garbage in it: nothing known. */
    assert_null(minik_apply_last_applied(desired));
    cleanup_cjson cJSON *garbage =
        j("{\"metadata\":{\"annotations\":{\"" MINIK_LAST_APPLIED_ANNOTATION "\":\"{oops\"}}}");
    assert_null(minik_apply_last_applied(garbage));
}

/* A Deployment as the server holds it after a first apply: server-set fields (uid,
 * resourceVersion, status, a defaulted strategy) next to the applied ones. */
static cJSON *live_after(const cJSON *applied_file)
{
    cJSON *live = minik_apply_annotate(applied_file);
    cJSON *md = cJSON_GetObjectItem(live, "metadata");
    cJSON_AddStringToObject(md, "uid", "1234");
    cJSON_AddStringToObject(md, "resourceVersion", "7");
    cJSON *spec = cJSON_GetObjectItem(live, "spec");
    cJSON *strategy = cJSON_AddObjectToObject(spec, "strategy");
    cJSON_AddStringToObject(strategy, "type", "RollingUpdate");
    cJSON *status = cJSON_AddObjectToObject(live, "status");
    cJSON_AddNumberToObject(status, "replicas", 2);
    return live;
}

static const char v1[] = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                         "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\","
                         "\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}},"
                         "\"spec\":{\"replicas\":2,\"minReadySeconds\":5,"
                         "\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}}}";

static void unchanged_file_gives_an_empty_patch(void **state)
{
    cleanup_cjson cJSON *file = j(v1);
    cleanup_cjson cJSON *live = live_after(file);
    cleanup_cjson cJSON *modified = minik_apply_annotate(file);
    cleanup_cjson cJSON *original = minik_apply_last_applied(live);
    cleanup_cjson cJSON *patch = minik_apply_three_way_patch(original, modified, live);
    /* Server-set fields are not touched; nothing to send. */
    assert_true(minik_merge_patch_is_empty(patch));
}

static void removed_fields_are_deleted_others_kept(void **state)
{
    cleanup_cjson cJSON *file = j(v1);
    cleanup_cjson cJSON *live = live_after(file);
    /* The new file drops minReadySeconds and the tier label, and changes replicas. */
    cleanup_cjson cJSON *file2 = j("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                                   "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\","
                                   "\"labels\":{\"app\":\"web\"}},"
                                   "\"spec\":{\"replicas\":3,"
                                   "\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}}}");
    cleanup_cjson cJSON *modified = minik_apply_annotate(file2);
    cleanup_cjson cJSON *original = minik_apply_last_applied(live);
    cleanup_cjson cJSON *patch = minik_apply_three_way_patch(original, modified, live);
    const cJSON *spec = cJSON_GetObjectItem(patch, "spec");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(spec, "minReadySeconds")));
    assert_int_equal(cJSON_GetObjectItem(spec, "replicas")->valueint, 3);
    assert_null(cJSON_GetObjectItem(spec, "strategy")); /* server default left alone */
    assert_null(cJSON_GetObjectItem(patch, "status"));
    const cJSON *md = cJSON_GetObjectItem(patch, "metadata");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(md, "labels"), "tier")));
    assert_null(cJSON_GetObjectItem(md, "uid"));
    /* The annotation is updated to the new file. */
    assert_non_null(
        cJSON_GetObjectItem(cJSON_GetObjectItem(md, "annotations"), MINIK_LAST_APPLIED_ANNOTATION));

    /* After the server applies the patch, the next three-way patch is empty. */
    cleanup_cjson cJSON *live2 = minik_merge_patch_apply(live, patch);
    const cJSON *spec2 = cJSON_GetObjectItem(live2, "spec");
    assert_null(cJSON_GetObjectItem(spec2, "minReadySeconds"));
    assert_non_null(cJSON_GetObjectItem(spec2, "strategy"));
    assert_non_null(cJSON_GetObjectItem(live2, "status"));
    cleanup_cjson cJSON *original2 = minik_apply_last_applied(live2);
    assert_true(cJSON_Compare(original2, file2, true));
    cleanup_cjson cJSON *patch2 = minik_apply_three_way_patch(original2, modified, live2);
    assert_true(minik_merge_patch_is_empty(patch2));
}

static void fields_changed_by_others_are_reverted_to_the_file(void **state)
{
    cleanup_cjson cJSON *file = j(v1);
    cleanup_cjson cJSON *live = live_after(file);
    /* Someone scaled the deployment by hand: apply puts the file's value back. */
    cJSON *spec = cJSON_GetObjectItem(live, "spec");
    cJSON_ReplaceItemInObject(spec, "replicas", cJSON_CreateNumber(9));
    cleanup_cjson cJSON *modified = minik_apply_annotate(file);
    cleanup_cjson cJSON *original = minik_apply_last_applied(live);
    cleanup_cjson cJSON *patch = minik_apply_three_way_patch(original, modified, live);
    assert_json(patch, "{\"spec\":{\"replicas\":2}}");
}

static void without_last_applied_nothing_is_deleted(void **state)
{
    /* An object created by someone else (no annotation): apply adds and changes fields but
     * cannot know what to remove. */
    cleanup_cjson cJSON *live = j("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\","
                                  "\"uid\":\"u\"},\"data\":{\"a\":\"1\",\"b\":\"2\"}}");
    cleanup_cjson cJSON *file =
        j("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"3\"}}");
    cleanup_cjson cJSON *modified = minik_apply_annotate(file);
    cleanup_cjson cJSON *patch = minik_apply_three_way_patch(NULL, modified, live);
    const cJSON *data = cJSON_GetObjectItem(patch, "data");
    assert_string_equal(cJSON_GetObjectItem(data, "a")->valuestring, "3");
    assert_null(cJSON_GetObjectItem(data, "b"));
}

static void lists_are_replaced_whole(void **state)
{
    cleanup_cjson cJSON *file = j("{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},"
                                  "\"spec\":{\"ports\":[{\"port\":80},{\"port\":443}]}}");
    cleanup_cjson cJSON *live = minik_apply_annotate(file);
    cleanup_cjson cJSON *file2 = j("{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},"
                                   "\"spec\":{\"ports\":[{\"port\":80}]}}");
    cleanup_cjson cJSON *modified = minik_apply_annotate(file2);
    cleanup_cjson cJSON *original = minik_apply_last_applied(live);
    cleanup_cjson cJSON *patch = minik_apply_three_way_patch(original, modified, live);
    const cJSON *ports = cJSON_GetObjectItem(cJSON_GetObjectItem(patch, "spec"), "ports");
    assert_int_equal(cJSON_GetArraySize(ports), 1);
    /* A whole removed section becomes null. */
    cleanup_cjson cJSON *file3 = j("{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"}}");
    cleanup_cjson cJSON *m3 = minik_apply_annotate(file3);
    cleanup_cjson cJSON *p3 = minik_apply_three_way_patch(original, m3, live);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(p3, "spec")));
}

static void kubectl_written_annotation_counts_as_the_same(void **state)
{
    /* What stock kubectl records: sorted keys and an empty annotations map. */
    cleanup_cjson cJSON *live =
        j("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\","
          "\"namespace\":\"shop\",\"annotations\":{\"" MINIK_LAST_APPLIED_ANNOTATION "\":"
          "\"{\\\"apiVersion\\\":\\\"v1\\\",\\\"data\\\":{\\\"k\\\":\\\"v\\\"},"
          "\\\"kind\\\":\\\"ConfigMap\\\",\\\"metadata\\\":{\\\"annotations\\\":{},"
          "\\\"name\\\":\\\"c\\\",\\\"namespace\\\":\\\"shop\\\"}}\\n\"}},"
          "\"data\":{\"k\":\"v\"}}");
    cleanup_cjson cJSON *file =
        j("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
          "{\"name\":\"c\",\"namespace\":\"shop\"},\"data\":{\"k\":\"v\"}}");
    cleanup_cjson cJSON *modified = minik_apply_annotate(file);
    cleanup_cjson cJSON *original = minik_apply_last_applied(live);
    assert_non_null(original);
    /* Without adopting, the annotation text alone differs. */
    cleanup_cjson cJSON *before = minik_apply_three_way_patch(original, modified, live);
    assert_false(minik_merge_patch_is_empty(before));
    assert_true(minik_apply_adopt_annotation(modified, file, live));
    cleanup_cjson cJSON *after = minik_apply_three_way_patch(original, modified, live);
    assert_true(minik_merge_patch_is_empty(after));
    /* A real change is not hidden. */
    cleanup_cjson cJSON *file2 =
        j("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
          "{\"name\":\"c\",\"namespace\":\"shop\"},\"data\":{\"k\":\"w\"}}");
    cleanup_cjson cJSON *m2 = minik_apply_annotate(file2);
    assert_false(minik_apply_adopt_annotation(m2, file2, live));
}

static void lists_the_server_defaulted_inside_are_left_alone(void **state)
{
    cleanup_cjson cJSON *file = j("{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},"
                                  "\"spec\":{\"ports\":[{\"port\":80,\"name\":\"http\"}],"
                                  "\"selector\":{}}}");
    /* The server stored the file and defaulted protocol inside the list element. */
    cleanup_cjson cJSON *live = minik_apply_annotate(file);
    cJSON *port =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(live, "spec"), "ports"), 0);
    cJSON_AddStringToObject(port, "protocol", "TCP");
    cJSON_AddStringToObject(cJSON_GetObjectItem(live, "spec"), "clusterIP", "10.43.0.7");
    cleanup_cjson cJSON *modified = minik_apply_annotate(file);
    cleanup_cjson cJSON *original = minik_apply_last_applied(live);
    cleanup_cjson cJSON *patch = minik_apply_three_way_patch(original, modified, live);
    assert_true(minik_merge_patch_is_empty(patch)); /* unchanged: no write */

    /* The user removes the port's name: the whole list is sent (the server re-defaults). */
    cleanup_cjson cJSON *file2 = j("{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},"
                                   "\"spec\":{\"ports\":[{\"port\":80}],\"selector\":{}}}");
    cleanup_cjson cJSON *m2 = minik_apply_annotate(file2);
    cleanup_cjson cJSON *p2 = minik_apply_three_way_patch(original, m2, live);
    assert_json(cJSON_GetObjectItem(cJSON_GetObjectItem(p2, "spec"), "ports"), "[{\"port\":80}]");

    /* Someone changed the live list by hand: the file's list wins. */
    cJSON_ReplaceItemInObject(port, "port", cJSON_CreateNumber(8080));
    cleanup_cjson cJSON *p3 = minik_apply_three_way_patch(original, modified, live);
    assert_json(cJSON_GetObjectItem(cJSON_GetObjectItem(p3, "spec"), "ports"),
                "[{\"port\":80,\"name\":\"http\"}]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_patch_create_rfc7386),
        cmocka_unit_test(merge_patch_apply_rfc7386_examples),
        cmocka_unit_test(annotation_records_the_file_without_itself),
        cmocka_unit_test(unchanged_file_gives_an_empty_patch),
        cmocka_unit_test(removed_fields_are_deleted_others_kept),
        cmocka_unit_test(fields_changed_by_others_are_reverted_to_the_file),
        cmocka_unit_test(without_last_applied_nothing_is_deleted),
        cmocka_unit_test(lists_are_replaced_whole),
        cmocka_unit_test(kubectl_written_annotation_counts_as_the_same),
        cmocka_unit_test(lists_the_server_defaulted_inside_are_left_alone),
    };
    return cmocka_run_group_tests_name("client_apply", tests, NULL, NULL);
}
