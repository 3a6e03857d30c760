/* proto/selector: label selectors (strings and LabelSelector objects) and field
 * selectors, against the examples of the Kubernetes "Labels and Selectors" docs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "proto/selector.h"

static bool sel_matches(const char *sel, const char *labels_json)
{
    minik_selector_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_selector_parse(sel, &s, &err) < 0)
        fail_msg("%s: %s", sel, err->msg);
    cJSON *labels = cJSON_Parse(labels_json);
    bool r = minik_selector_matches(s, labels);
    cJSON_Delete(labels);
    minik_selector_free(s);
    return r;
}

static void equality_based(void **state)
{
    const char *prod_fe = "{\"environment\":\"production\",\"tier\":\"frontend\"}";
    const char *prod_be = "{\"environment\":\"production\",\"tier\":\"backend\"}";
    assert_true(sel_matches("environment = production", prod_fe));
    assert_true(sel_matches("environment==production", prod_fe));
    assert_false(sel_matches("tier != frontend", prod_fe));
    assert_true(sel_matches("tier != frontend", prod_be));
    assert_true(sel_matches("tier != frontend", "{}")); /* absent key satisfies != */
    assert_true(sel_matches("environment=production,tier!=frontend", prod_be));
    assert_false(sel_matches("environment=production,tier!=frontend", prod_fe));
    assert_true(sel_matches("", prod_fe)); /* empty selects everything */
    assert_true(sel_matches("app=", "{\"app\":\"\"}"));
    assert_false(sel_matches("app=", "{}"));
}

static void set_based(void **state)
{
    assert_true(sel_matches("environment in (production, qa)", "{\"environment\":\"qa\"}"));
    assert_false(sel_matches("environment in (production, qa)", "{\"environment\":\"dev\"}"));
    assert_false(sel_matches("environment in (production, qa)", "{}"));
    assert_true(sel_matches("tier notin (frontend, backend)", "{\"tier\":\"cache\"}"));
    assert_true(sel_matches("tier notin (frontend, backend)", "{}"));
    assert_false(sel_matches("tier notin (frontend, backend)", "{\"tier\":\"backend\"}"));
    assert_true(sel_matches("partition", "{\"partition\":\"a\"}"));
    assert_false(sel_matches("partition", "{}"));
    assert_true(sel_matches("!partition", "{}"));
    assert_false(sel_matches("!partition", "{\"partition\":\"\"}"));
    assert_true(sel_matches("partition,environment notin (qa)", "{\"partition\":\"x\"}"));
    assert_true(sel_matches("app=web,tier in (a,b),!canary", "{\"app\":\"web\",\"tier\":\"b\"}"));
    assert_false(sel_matches("app=web,tier in (a,b),!canary",
                             "{\"app\":\"web\",\"tier\":\"b\",\"canary\":\"true\"}"));
    assert_true(sel_matches("x notin (y)", "{\"x\":\"z\"}"));
    /* whole objects: their metadata.labels */
    minik_selector_t *s = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(minik_selector_parse("app=web", &s, &err), 0);
    cJSON *pod = cJSON_Parse("{\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\"}}}");
    cJSON *bare = cJSON_Parse("{\"metadata\":{\"name\":\"q\"}}");
    assert_true(minik_selector_matches_object(s, pod));
    assert_false(minik_selector_matches_object(s, bare));
    cJSON_Delete(pod);
    cJSON_Delete(bare);
    minik_selector_free(s);
    /* non-string label values never match */
    assert_false(sel_matches("app=1", "{\"app\":1}"));
}

static void canonical_string_form(void **state)
{
    minik_selector_t *s = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(
        minik_selector_parse("tier in (b, a),app==web , !canary,x notin (z,y)", &s, &err), 0);
    char *f = minik_selector_format(s);
    assert_string_equal(f, "app=web,!canary,tier in (a,b),x notin (y,z)");
    free(f);
    minik_selector_free(s);
}

static void label_selector_objects(void **state)
{
    /* matchLabels + matchExpressions, from the docs */
    cJSON *ls = cJSON_Parse("{\"matchLabels\":{\"component\":\"redis\"},\"matchExpressions\":["
                            "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"cache\"]},"
                            "{\"key\":\"environment\",\"operator\":\"NotIn\",\"values\":[\"dev\"]}"
                            "]}");
    minik_selector_t *s = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(minik_selector_from_json(ls, &s, &err), 0);
    cJSON *yes = cJSON_Parse("{\"component\":\"redis\",\"tier\":\"cache\"}");
    cJSON *no = cJSON_Parse("{\"component\":\"redis\",\"tier\":\"cache\",\"environment\":\"dev\"}");
    assert_true(minik_selector_matches(s, yes));
    assert_false(minik_selector_matches(s, no));
    char *f = minik_selector_format(s);
    assert_string_equal(f, "component=redis,environment notin (dev),tier in (cache)");
    free(f);
    minik_selector_free(s);
    cJSON_Delete(ls);

    /* {} selects everything, null selects nothing */
    ls = cJSON_CreateObject();
    assert_int_equal(minik_selector_from_json(ls, &s, &err), 0);
    assert_true(minik_selector_is_empty(s));
    assert_true(minik_selector_matches(s, no));
    minik_selector_free(s);
    cJSON_Delete(ls);
    assert_int_equal(minik_selector_from_json(NULL, &s, &err), 0);
    assert_false(minik_selector_matches(s, yes));
    minik_selector_free(s);

    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
         "selector.matchExpressions[0].values: must be non-empty for In and NotIn"},
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
         "selector.matchExpressions[0].values: must be empty for Exists and DoesNotExist"},
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Equals\"}]}",
         "selector.matchExpressions[0].operator: \"Equals\" is not one of In, NotIn, Exists, "
         "DoesNotExist"},
        {"{\"matchLabels\":{\"a\":1}}", "selector.matchLabels.a: must be a string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *j = cJSON_Parse(bad[i].json);
        cleanup_error minik_error_t *e = NULL;
        assert_true(minik_selector_from_json(j, &s, &e) < 0);
        assert_string_equal(e->msg, bad[i].msg);
        cJSON_Delete(j);
    }
    cJSON_Delete(yes);
    cJSON_Delete(no);
}

static void bad_selector_strings(void **state)
{
    static const struct {
        const char *in, *msg;
    } cases[] = {
        {"app in (a", "selector \"app in (a\": expected \",\" or \")\", found end of input at "
                      "position 10"},
        {"app in ()", "selector \"app in ()\": the value set of in/notin must not be empty at "
                      "position 10"},
        {"=x", "selector \"=x\": expected a label key, found \"=\" at position 1"},
        {"app=web,", "selector \"app=web,\": expected a label key, found end of input at "
                     "position 9"},
        {"a b", "selector \"a b\": expected =, ==, !=, in, notin, \",\" or end of input after "
                "the key, found a name at position 3"},
        {"a>1", "selector \"a>1\": the numeric operators < and > are not supported at position "
                "2"},
        {"bad_key!", "selector \"bad_key!\": expected =, ==, !=, in, notin, \",\" or end of "
                     "input after the key, found \"!\" at position 8"},
        {"-a=b", "selector \"-a=b\": selector key: invalid key \"-a\": name part must consist "
                 "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                 "alphanumeric character"},
        {"a=-b", "selector \"a=-b\": selector value: invalid label value \"-b\": a valid label "
                 "must be an empty string or consist of alphanumeric characters, '-', '_' or "
                 "'.', and must start and end with an alphanumeric character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        minik_selector_t *s = NULL;
        cleanup_error minik_error_t *err = NULL;
        assert_true(minik_selector_parse(cases[i].in, &s, &err) < 0);
        assert_null(s);
        assert_string_equal(err->msg, cases[i].msg);
    }
}

static bool field_matches(const char *sel, const char *obj_json)
{
    minik_field_selector_t *fs = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_field_selector_parse(sel, &fs, &err) < 0)
        fail_msg("%s: %s", sel, err->msg);
    cJSON *obj = cJSON_Parse(obj_json);
    bool r = minik_field_selector_matches(fs, obj);
    cJSON_Delete(obj);
    minik_field_selector_free(fs);
    return r;
}

static void field_selectors(void **state)
{
    const char *pod = "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},"
                      "\"spec\":{\"nodeName\":\"node-1\",\"restartPolicy\":\"Always\"},"
                      "\"status\":{\"phase\":\"Pending\"}}";
    assert_true(field_matches("spec.nodeName=node-1", pod));
    assert_true(field_matches("metadata.name!=y", pod));
    assert_false(field_matches("metadata.name!=web-1", pod));
    assert_true(field_matches("metadata.namespace==default", pod));
    assert_true(field_matches("status.phase!=Running,spec.restartPolicy=Always", pod));
    assert_false(field_matches("status.phase=Running,spec.restartPolicy=Always", pod));
    assert_true(field_matches("spec.nodeName=", "{\"spec\":{}}")); /* unscheduled pods */
    assert_false(field_matches("spec.nodeName=", pod));
    assert_true(field_matches("", pod));
    assert_true(field_matches("metadata.name=a\\,b", "{\"metadata\":{\"name\":\"a,b\"}}"));
    assert_true(field_matches("spec.replicas=3", "{\"spec\":{\"replicas\":3}}"));

    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"metadata.name", "field selector \"metadata.name\": \"metadata.name\" needs an operator "
                          "(=, == or !=)"},
        {"=x", "field selector \"=x\": \"\" is not a field path (like spec.nodeName)"},
        {"a..b=x", "field selector \"a..b=x\": \"a..b\" is not a field path (like spec.nodeName)"},
        {"a=b=c", "field selector \"a=b=c\": unescaped \"=\" in the value of \"a\""},
        {"a=\\q", "field selector \"a=\\q\": invalid escape \"\\q\" (only \\, \\= and \\\\ are "
                  "allowed)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        minik_field_selector_t *fs = NULL;
        cleanup_error minik_error_t *err = NULL;
        assert_true(minik_field_selector_parse(bad[i].in, &fs, &err) < 0);
        assert_string_equal(err->msg, bad[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(equality_based),        cmocka_unit_test(set_based),
        cmocka_unit_test(canonical_string_form), cmocka_unit_test(label_selector_objects),
        cmocka_unit_test(bad_selector_strings),  cmocka_unit_test(field_selectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
