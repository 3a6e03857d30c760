/* Unit tests for the unified diff `minik diff` prints: exact output for known cases, and
 * for random inputs, that the diff is minimal (matches the LCS length) and that applying it
 * to the old text gives the new one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cli/diff_text.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static char *diff(const char *a, const char *b, int ctx)
{
    minik_buf_t out = MINIK_BUF_INIT;
    int r = minik_diff_unified("LIVE/x", a, "MERGED/x", b, ctx, &out, NULL);
    assert_true(r >= 0);
    assert_int_equal(r, strcmp(a, b) != 0);
    return minik_buf_steal(&out);
}

static void equal_texts_print_nothing(void **state)
{
    cleanup_free char *d = diff("a\nb\n", "a\nb\n", 3);
    assert_string_equal(d, "");
    cleanup_free char *e = diff("", "", 3);
    assert_string_equal(e, "");
}

static void one_changed_line_with_context(void **state)
{
    cleanup_free char *d =
        diff("spec:\n  replicas: 2\n  x: 1\n", "spec:\n  replicas: 3\n  x: 1\n", 3);
    assert_string_equal(d, "--- LIVE/x\n"
                           "+++ MERGED/x\n"
                           "@@ -1,3 +1,3 @@\n"
                           " spec:\n"
                           "-  replicas: 2\n"
                           "+  replicas: 3\n"
                           "   x: 1\n");
}

static void new_object_is_all_additions(void **state)
{
    cleanup_free char *d = diff("", "a: 1\nb: 2\n", 3);
    assert_string_equal(d, "--- LIVE/x\n+++ MERGED/x\n@@ -0,0 +1,2 @@\n+a: 1\n+b: 2\n");
    cleanup_free char *e = diff("a: 1\n", "", 3);
    assert_string_equal(e, "--- LIVE/x\n+++ MERGED/x\n@@ -1 +0,0 @@\n-a: 1\n");
}

static void distant_changes_make_separate_hunks(void **state)
{
    minik_buf_t a = MINIK_BUF_INIT, b = MINIK_BUF_INIT;
    for (int i = 1; i <= 20; i++) {
        minik_buf_appendf(&a, "l%d\n", i);
        minik_buf_appendf(&b, "%s%d\n", i == 2 || i == 18 ? "X" : "l", i);
    }
    cleanup_free char *d = diff(a.data, b.data, 3);
    assert_string_equal(d, "--- LIVE/x\n+++ MERGED/x\n"
                           "@@ -1,5 +1,5 @@\n l1\n-l2\n+X2\n l3\n l4\n l5\n"
                           "@@ -15,6 +15,6 @@\n l15\n l16\n l17\n-l18\n+X18\n l19\n l20\n");
    /* Changes 6 lines apart (2 * context) share a hunk. */
    minik_buf_reset(&b);
    for (int i = 1; i <= 20; i++)
        minik_buf_appendf(&b, "%s%d\n", i == 2 || i == 9 ? "X" : "l", i);
    cleanup_free char *e = diff(a.data, b.data, 3);
    assert_non_null(strstr(e, "@@ -1,12 +1,12 @@\n"));
    size_t hunks = 0;
    for (const char *p = e; (p = strstr(p, "\n@@ ")); p++)
        hunks++;
    assert_int_equal(hunks, 1);
    minik_buf_free(&a);
    minik_buf_free(&b);
}

/* Apply a unified diff (as produced above) to text a. */
static char *patch(const char *a, const char *d)
{
    cleanup_strv char **al = minik_str_split(a, "\n", false);
    size_t an = minik_strv_len(al);
    if (an && !al[an - 1][0])
        an--; /* trailing newline */
    cleanup_strv char **dl = minik_str_split(d, "\n", false);
    minik_buf_t out = MINIK_BUF_INIT;
    size_t ai = 0;
    for (size_t i = 2; dl[i] && dl[i][0]; i++) {
        const char *l = dl[i];
        if (l[0] == '@') {
            unsigned long start = strtoul(l + 4, NULL, 10);
            const char *comma = strchr(l + 4, ',');
            const char *space = strchr(l + 4, ' ');
            bool empty = comma && comma < space && strtoul(comma + 1, NULL, 10) == 0;
            size_t target = empty ? start : start - 1;
            while (ai < target)
                minik_buf_appendf(&out, "%s\n", al[ai++]);
        } else if (l[0] == ' ') {
            assert_string_equal(l + 1, al[ai]);
            minik_buf_appendf(&out, "%s\n", al[ai++]);
        } else if (l[0] == '-') {
            assert_string_equal(l + 1, al[ai]);
            ai++;
        } else if (l[0] == '+') {
            minik_buf_appendf(&out, "%s\n", l + 1);
        }
    }
    while (ai < an)
        minik_buf_appendf(&out, "%s\n", al[ai++]);
    return minik_buf_steal(&out);
}

static size_t lcs(char **a, size_t n, char **b, size_t m)
{
    size_t *dp = xcalloc((n + 1) * (m + 1), sizeof *dp);
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++)
            dp[i * (m + 1) + j] = strcmp(a[i - 1], b[j - 1]) == 0
                                      ? dp[(i - 1) * (m + 1) + j - 1] + 1
                                      : (dp[(i - 1) * (m + 1) + j] > dp[i * (m + 1) + j - 1]
                                             ? dp[(i - 1) * (m + 1) + j]
                                             : dp[i * (m + 1) + j - 1]);
    size_t r = dp[n * (m + 1) + m];
    free(dp);
    return r;
}

static void random_diffs_are_minimal_and_apply(void **state)
{
    srand(42);
    for (int round = 0; round < 300; round++) {
        size_t n = (size_t)(rand() % 25), m = (size_t)(rand() % 25);
        char **al = xcalloc(n + 1, sizeof *al), **bl = xcalloc(m + 1, sizeof *bl);
        minik_buf_t a = MINIK_BUF_INIT, b = MINIK_BUF_INIT;
        for (size_t i = 0; i < n; i++) {
            al[i] = xasprintf("%c", 'a' + rand() % 4);
            minik_buf_appendf(&a, "%s\n", al[i]);
        }
        for (size_t i = 0; i < m; i++) {
            bl[i] = xasprintf("%c", 'a' + rand() % 4);
            minik_buf_appendf(&b, "%s\n", bl[i]);
        }
        const char *as = a.data ? a.data : "", *bs = b.data ? b.data : "";
        int ctx = rand() % 4;
        cleanup_free char *d = diff(as, bs, ctx);
        cleanup_free char *back = patch(as, d);
        assert_string_equal(back, bs);
        size_t plus = 0, minus = 0;
        for (const char *p = d; *p; p = strchr(p, '\n') + 1) {
            if (p[0] == '+' && p[1] != '+')
                plus++;
            if (p[0] == '-' && p[1] != '-')
                minus++;
        }
        size_t common = lcs(al, n, bl, m);
        assert_int_equal(minus, n - common);
        assert_int_equal(plus, m - common);
        minik_strv_free(al);
        minik_strv_free(bl);
        minik_buf_free(&a);
        minik_buf_free(&b);
    }
}

static void oversized_inputs_are_refused(void **state)
{
    size_t lines = MINIK_DIFF_MAX_LINES + 1;
    char *big = xmalloc(lines * 2 + 1);
    for (size_t i = 0; i < lines; i++) {
        big[2 * i] = 'x';
        big[2 * i + 1] = '\n';
    }
    big[lines * 2] = '\0';
    minik_buf_t out = MINIK_BUF_INIT;
    minik_error_t *err = NULL;
    assert_true(minik_diff_unified("a", big, "b", "", 3, &out, &err) < 0);
    assert_non_null(strstr(err->msg, "too large"));
    minik_error_free(err);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(equal_texts_print_nothing),
        cmocka_unit_test(one_changed_line_with_context),
        cmocka_unit_test(new_object_is_all_additions),
        cmocka_unit_test(distant_changes_make_separate_hunks),
        cmocka_unit_test(random_diffs_are_minimal_and_apply),
        cmocka_unit_test(oversized_inputs_are_refused),
    };
    return cmocka_run_group_tests_name("client_diff", tests, NULL, NULL);
}
