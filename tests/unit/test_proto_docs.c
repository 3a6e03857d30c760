/* docs/manifests.md's field reference matches the field tables (it is generated from
 * them; MINIK_UPDATE_DOCS=1 rewrites it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"
#include "proto/schema_doc.h"

#define BEGIN_MARK "<!-- BEGIN GENERATED: minik_schema_doc_markdown (do not edit by hand) -->\n"
#define END_MARK   "<!-- END GENERATED -->"

/* The repository root: the current directory when run by `make test`, else found from
 * the runner's location (build/<dir>/tests/<runner>). */
static char *docs_path(void)
{
    if (access("docs/manifests.md", R_OK) == 0)
        return xstrdup("docs/manifests.md");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = '\0';
    return xasprintf("%s/../../../docs/manifests.md", dirname(exe));
}

static void field_reference_is_up_to_date(void **state)
{
    cleanup_free char *path = docs_path();
    cleanup_free char *text = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_file_read(path, 1 << 20, &text, NULL, &err) < 0)
        fail_msg("%s", err->msg);
    char *begin = strstr(text, BEGIN_MARK);
    char *end = begin ? strstr(begin, END_MARK) : NULL;
    assert_non_null(begin);
    assert_non_null(end);
    begin += strlen(BEGIN_MARK);

    cleanup_buf minik_buf_t gen = MINIK_BUF_INIT;
    minik_schema_doc_markdown(&gen);
    size_t have = (size_t)(end - begin);
    if (have == gen.len && memcmp(begin, gen.data, have) == 0)
        return;
    if (getenv("MINIK_UPDATE_DOCS")) {
        cleanup_buf minik_buf_t out = MINIK_BUF_INIT;
        minik_buf_append(&out, text, (size_t)(begin - text));
        minik_buf_append(&out, gen.data, gen.len);
        minik_buf_append_str(&out, end);
        if (minik_file_write_atomic(path, out.data, out.len, 0644, &err) < 0)
            fail_msg("%s", err->msg);
        return;
    }
    fail_msg("%s: the field reference differs from the field tables; run "
             "MINIK_UPDATE_DOCS=1 build/asan/tests/test_proto_docs",
             path);
}

static void reference_names_every_kind_and_default(void **state)
{
    cleanup_buf minik_buf_t gen = MINIK_BUF_INIT;
    minik_schema_doc_markdown(&gen);
    static const char *const must[] = {
        "### Deployment",
        "| `spec.replicas` | integer |  | `1` | >= 0 |",
        "| `containers[].ports[].containerPort` | integer | yes |  | 1-65535 |",
        "| `restartPolicy` | string |  | `\"Always\"` | one of `Always`, `OnFailure`, `Never` |",
        "| [Service](#service) | `v1` | `services` | `svc` | namespaced |",
        "| [Node](#node) | `v1` | `nodes` | `no` | cluster |",
    };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!strstr(gen.data, must[i]))
            fail_msg("missing: %s", must[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(field_reference_is_up_to_date),
        cmocka_unit_test(reference_names_every_kind_and_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
