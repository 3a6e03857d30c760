/* proto/encode: YAML and JSON output, and decode(encode(x)) == x. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "proto/encode.h"
#include "proto/manifest.h"
#include "tests/unit/proto_helpers.h"

static void yaml_looks_like_kubectl(void **state)
{
    cJSON *o = cJSON_Parse(
        "{\"spec\":{\"replicas\":2,\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\","
        "\"args\":[\"--port\",\"8080\"],\"ports\":[{\"containerPort\":80}]}]}}},"
        "\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"},\"annotations\":{}},"
        "\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\",\"status\":{}}");
    minik_buf_t b = MINIK_BUF_INIT;
    minik_encode_yaml(o, &b);
    assert_string_equal(b.data, "apiVersion: apps/v1\n"
                                "kind: Deployment\n"
                                "metadata:\n"
                                "  name: web\n"
                                "  labels:\n"
                                "    app: web\n"
                                "  annotations: {}\n"
                                "spec:\n"
                                "  replicas: 2\n"
                                "  template:\n"
                                "    spec:\n"
                                "      containers:\n"
                                "      - name: web\n"
                                "        args:\n"
                                "        - --port\n"
                                "        - \"8080\"\n"
                                "        ports:\n"
                                "        - containerPort: 80\n"
                                "status: {}\n");
    minik_buf_free(&b);
    cJSON_Delete(o);
}

static void strings_that_would_change_type_are_quoted(void **state)
{
    cJSON *o = cJSON_CreateObject();
    static const char *const vals[] = {"true",
                                       "y",
                                       "NO",
                                       "123",
                                       "0x10",
                                       "1e3",
                                       "~",
                                       "null",
                                       "",
                                       "- x",
                                       "a: b",
                                       " lead",
                                       "trail ",
                                       "#c",
                                       "x #c",
                                       ":",
                                       "@at",
                                       "[a]",
                                       "{a}",
                                       "*ref",
                                       "&anc",
                                       "!tag",
                                       "%p",
                                       "'q",
                                       "\"dq",
                                       "tab\there",
                                       "cr\rlf",
                                       ".inf",
                                       "---",
                                       "-",
                                       "é",
                                       "plain text",
                                       "a:b",
                                       "multi\nline\n",
                                       "no\ntrailing",
                                       "two\n\n",
                                       "\nleading newline",
                                       "ctrl\x01",
                                       "nel\xc2\x85x",
                                       "ls\xe2\x80\xa8x",
                                       "ps\xe2\x80\xa9x",
                                       "bom\xef\xbb\xbfx",
                                       "c1\xc2\x80x",
                                       "nc\xef\xbf\xbex",
                                       "del\x7f",
                                       "a\tb\nc\n",
                                       "line1\nline \xc3\xa9\n",
                                       "emoji \xf0\x9f\x98\x80",
                                       "a:\tb",
                                       "a\t#b",
                                       NULL};
    char key[16];
    for (int i = 0; vals[i]; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cJSON_AddStringToObject(o, key, vals[i]);
    }
    /* keys that would re-parse as other keys */
    cJSON_AddStringToObject(o, "y", "key y");
    cJSON_AddStringToObject(o, "123", "numeric key");
    cJSON_AddStringToObject(o, "a: b", "colon key");
    cJSON_AddStringToObject(o, "<<", "not a merge key");
    cJSON_AddNumberToObject(o, "half", 0.5);
    cJSON_AddNumberToObject(o, "neg", -3);
    cJSON_AddNumberToObject(o, "big", 1e20);
    cJSON_AddBoolToObject(o, "t", 1);
    cJSON_AddNullToObject(o, "nothing");
    char longkey[1100];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    cJSON_AddItemToObject(o, longkey, cJSON_Parse("[1, {\"a\": 2}]"));
    cJSON_AddItemToArray(cJSON_GetObjectItem(o, longkey), cJSON_Parse("{}"));
    cJSON_AddItemToArray(cJSON_GetObjectItem(o, longkey), cJSON_CreateObject());
    cJSON_AddItemToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(o, longkey), 2), longkey,
                          cJSON_CreateString("v"));
    cJSON_AddItemToObject(o, "nested", cJSON_Parse("[[1,[]],{},[{\"a\":[{}]}],\"x\"]"));

    minik_buf_t b = MINIK_BUF_INIT;
    minik_encode_yaml(o, &b);
    cJSON *back = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_yaml_parse_one("enc", b.data, b.len, &back, &err) < 0)
        fail_msg("%s\n%s", err->msg, b.data);
    if (!cJSON_Compare(o, back, true)) {
        char *x = cJSON_PrintUnformatted(back);
        fail_msg("round trip differs:\n%s\n%s", b.data, x);
    }
    /* the multi-line strings are literal blocks, as kubectl shows ConfigMap files */
    assert_non_null(strstr(b.data, "k33: |\n  multi\n  line\n"));
    assert_non_null(strstr(b.data, "k34: |-\n  no\n  trailing\n"));
    cJSON_Delete(back);
    minik_buf_free(&b);
    cJSON_Delete(o);
}

static const char *const manifests[] = {
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx\nspec:\n  selector:\n"
    "    matchLabels: {app: nginx}\n  template:\n    metadata:\n      labels: {app: nginx}\n"
    "    spec:\n      containers:\n      - name: nginx\n        image: nginx:1.14.2\n"
    "        command: [\"sh\", \"-c\", \"echo 'a: b' # not a comment\"]\n"
    "        env:\n        - {name: A, value: \"true\"}\n        - {name: B, value: \"\"}\n"
    "        resources: {limits: {cpu: 0.5, memory: 1Gi}}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  annotations:\n"
    "    note: \"line1\\nline2\"\ndata:\n  nginx.conf: |\n    server {\n      listen 80;\n"
    "    }\n  empty: \"\"\n  yes: \"yes\"\n",
    "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: NodePort\n"
    "  ports: [{name: http, port: 80, targetPort: http}, {name: p2, port: 81}]\n",
};

static void decode_of_encode_is_identity(void **state)
{
    for (size_t i = 0; i < sizeof manifests / sizeof manifests[0]; i++) {
        cJSON *o = proto_load_one(manifests[i]);
        minik_buf_t y = MINIK_BUF_INIT;
        minik_encode_yaml(o, &y);
        cJSON *back = proto_load_one(y.data);
        if (!cJSON_Compare(o, back, true))
            fail_msg("yaml round trip of manifest %zu differs:\n%s", i, y.data);
        minik_buf_t j = MINIK_BUF_INIT;
        minik_encode_json(o, true, &j);
        cJSON *jback = proto_load_one(j.data);
        if (!cJSON_Compare(o, jback, true))
            fail_msg("json round trip of manifest %zu differs:\n%s", i, j.data);
        /* encoding is deterministic */
        minik_buf_t y2 = MINIK_BUF_INIT;
        minik_encode_yaml(back, &y2);
        assert_string_equal(y.data, y2.data);
        minik_buf_free(&y);
        minik_buf_free(&y2);
        minik_buf_free(&j);
        cJSON_Delete(o);
        cJSON_Delete(back);
        cJSON_Delete(jback);
    }
}

static void json_pretty_compact_and_list(void **state)
{
    cJSON *o = cJSON_Parse("{\"metadata\":{\"name\":\"a\\\"b\"},\"kind\":\"ConfigMap\","
                           "\"apiVersion\":\"v1\",\"data\":{\"x\":\"1\\n\"},\"list\":[],"
                           "\"n\":1.5}");
    minik_buf_t b = MINIK_BUF_INIT;
    minik_encode_json(o, false, &b);
    assert_string_equal(b.data, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{"
                                "\"name\":\"a\\\"b\"},\"data\":{\"x\":\"1\\n\"},\"list\":[],"
                                "\"n\":1.5}");
    minik_buf_reset(&b);
    minik_encode_json(o, true, &b);
    assert_string_equal(b.data, "{\n"
                                "    \"apiVersion\": \"v1\",\n"
                                "    \"kind\": \"ConfigMap\",\n"
                                "    \"metadata\": {\n"
                                "        \"name\": \"a\\\"b\"\n"
                                "    },\n"
                                "    \"data\": {\n"
                                "        \"x\": \"1\\n\"\n"
                                "    },\n"
                                "    \"list\": [],\n"
                                "    \"n\": 1.5\n"
                                "}");
    minik_buf_reset(&b);
    const cJSON *arr[] = {cJSON_GetObjectItem(o, "metadata")};
    minik_encode_json_list(arr, 1, &b);
    assert_string_equal(b.data, "{\n"
                                "    \"apiVersion\": \"v1\",\n"
                                "    \"kind\": \"List\",\n"
                                "    \"items\": [\n"
                                "        {\n"
                                "            \"name\": \"a\\\"b\"\n"
                                "        }\n"
                                "    ]\n"
                                "}");
    minik_buf_reset(&b);
    minik_encode_json_list(NULL, 0, &b);
    assert_string_equal(b.data, "{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"List\",\n"
                                "    \"items\": []\n}");
    minik_buf_reset(&b);
    const cJSON *two[] = {o, o};
    minik_encode_yaml_stream(two, 2, &b);
    /* the key n is quoted: plain, YAML 1.1 would read it as the boolean false */
    assert_non_null(strstr(b.data, "\"n\": 1.5\n---\napiVersion: v1\n"));
    minik_buf_free(&b);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(yaml_looks_like_kubectl),
        cmocka_unit_test(strings_that_would_change_type_are_quoted),
        cmocka_unit_test(decode_of_encode_is_identity),
        cmocka_unit_test(json_pretty_compact_and_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
