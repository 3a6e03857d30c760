/* proto/quantity: Kubernetes resource quantities (examples from the Kubernetes docs and
 * apimachinery's canonical forms). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "proto/quantity.h"

static int64_t milli(const char *s)
{
    minik_quantity_t q;
    cleanup_error minik_error_t *err = NULL;
    if (minik_quantity_parse(s, &q, &err) < 0)
        fail_msg("%s: %s", s, err->msg);
    return q.milli;
}

static void canonical(const char *in, const char *want)
{
    minik_quantity_t q;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_quantity_parse(in, &q, &err), 0);
    char *s = minik_quantity_format(&q);
    if (strcmp(s, want) != 0)
        fail_msg("%s: canonical %s, want %s", in, s, want);
    free(s);
}

static void docs_examples(void **state)
{
    /* "0.1 is equivalent to 100m" (cpu) */
    assert_int_equal(milli("0.1"), 100);
    assert_int_equal(milli("100m"), 100);
    assert_int_equal(milli("0.5"), 500);
    /* "128974848, 129e6, 129M, 128974848000m, 123Mi" are roughly the same memory */
    assert_int_equal(milli("128974848"), INT64_C(128974848000));
    assert_int_equal(milli("129e6"), INT64_C(129000000000));
    assert_int_equal(milli("129M"), INT64_C(129000000000));
    assert_int_equal(milli("128974848000m"), INT64_C(128974848000));
    assert_int_equal(milli("123Mi"), INT64_C(128974848000));
    assert_int_equal(milli("128Mi"), INT64_C(134217728000));
    assert_int_equal(milli("1G"), INT64_C(1000000000000));
    assert_int_equal(milli("1e3"), 1000000);
    assert_int_equal(milli("1.5Gi"), INT64_C(1610612736000));
    assert_int_equal(milli("+2k"), 2000000);
    assert_int_equal(milli("-1"), -1000);
    assert_int_equal(milli(".5"), 500);
    assert_int_equal(milli("5."), 5000);
    assert_int_equal(milli("1P"), milli("1000T")); /* peta and tera agree */
}

static void finer_than_milli_rounds_up(void **state)
{
    assert_int_equal(milli("1n"), 1);
    assert_int_equal(milli("1u"), 1);
    assert_int_equal(milli("0.1m"), 1);
    assert_int_equal(milli("1001u"), 2);
    assert_int_equal(milli("1e-3"), 1);
}

static void canonical_forms(void **state)
{
    canonical("100m", "100m");
    canonical("0.5", "500m");
    canonical("1000m", "1");
    canonical("1.5Gi", "1536Mi");
    canonical("1024Ki", "1Mi");
    canonical("1.5Ki", "1536");
    canonical("0.5Ki", "512");
    canonical("1e3", "1e3");
    canonical("12e6", "12e6");
    canonical("1000", "1k");
    canonical("1500", "1500");
    canonical("1.5k", "1500");
    canonical("1G", "1G");
    canonical("129M", "129M");
    canonical("0", "0");
    canonical("0Mi", "0");
    canonical("-1", "-1");
    canonical("1.1", "1100m");
    canonical("0.1m", "1m");
}

static void value_rounds_up_and_compare(void **state)
{
    minik_quantity_t a, b;
    minik_error_t *err = NULL;
    assert_int_equal(minik_quantity_parse("100m", &a, &err), 0);
    assert_int_equal(minik_quantity_value(&a), 1);
    assert_int_equal(minik_quantity_parse("128Mi", &b, &err), 0);
    assert_int_equal(minik_quantity_value(&b), 134217728);
    assert_int_equal(minik_quantity_cmp(&a, &b), -1);
    assert_int_equal(minik_quantity_cmp(&b, &a), 1);
    assert_int_equal(minik_quantity_parse("0.1", &b, &err), 0);
    assert_int_equal(minik_quantity_cmp(&a, &b), 0);
}

static void bad_quantities_say_why(void **state)
{
    static const struct {
        const char *in, *msg;
    } cases[] = {
        {"12x", "quantity \"12x\": unknown suffix \"x\""},
        {"", "quantity \"\": must start with a number (e.g. 100m, 0.5, 128Mi)"},
        {"abc", "quantity \"abc\": must start with a number (e.g. 100m, 0.5, 128Mi)"},
        {"1.2.3", "quantity \"1.2.3\": unknown suffix \".3\""},
        {"1e", "quantity \"1e\": unknown suffix \"e\""},
        {"1e3x", "quantity \"1e3x\": unknown suffix \"e3x\""},
        {"1 Gi", "quantity \"1 Gi\": unknown suffix \" Gi\""},
        {"1Xi", "quantity \"1Xi\": unknown suffix \"Xi\""},
        {"8Ei", "quantity \"8Ei\": too large (at most 9223372036854775807m, about 9.2P)"},
        {"99999999999999999999", "quantity \"99999999999999999999\": too large (at most "
                                 "9223372036854775807m, about 9.2P)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        minik_quantity_t q;
        cleanup_error minik_error_t *err = NULL;
        assert_true(minik_quantity_parse(cases[i].in, &q, &err) < 0);
        assert_string_equal(err->msg, cases[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(docs_examples),          cmocka_unit_test(finer_than_milli_rounds_up),
        cmocka_unit_test(canonical_forms),        cmocka_unit_test(value_rounds_up_and_compare),
        cmocka_unit_test(bad_quantities_say_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
