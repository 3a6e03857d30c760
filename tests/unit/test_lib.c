/* Unit tests for lib/: errors, cleanup, logging, buffers, strings, files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cidr.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/timestamp.h"
#include "lib/xalloc.h"

static int fails_with_enoent(const char *path, minik_error_t **err)
{
    return minik_error_set(err, ENOENT, "open \"%s\"", path);
}

static void error_set_appends_strerror_and_returns_negative_errno(void **state)
{
    minik_error_t *err = NULL;
    int r = fails_with_enoent("/nope", &err);
    assert_int_equal(r, -ENOENT);
    assert_non_null(err);
    assert_int_equal(err->errnum, ENOENT);
    assert_string_equal(err->msg, "open \"/nope\": No such file or directory");
    minik_error_free(err);
}

static void error_wrap_prefixes_context_and_keeps_first_error(void **state)
{
    cleanup_error minik_error_t *err = NULL;
    minik_error_set(&err, 0, "bad field");
    /* A second set must not overwrite the original cause. */
    assert_int_equal(minik_error_set(&err, EIO, "later"), -1);
    assert_int_equal(minik_error_wrap(&err, "app.yaml:3:1"), -1);
    assert_string_equal(err->msg, "app.yaml:3:1: bad field");
    assert_int_equal(err->errnum, 0);
}

static void error_set_code_and_null_err(void **state)
{
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_error_set_code(&err, 409, 0, "conflict on %s", "pods/web"), -1);
    assert_int_equal(err->code, 409);
    assert_string_equal(err->msg, "conflict on pods/web");
    /* err == NULL is allowed: the caller does not want the details. */
    assert_int_equal(minik_error_set(NULL, EPERM, "x"), -EPERM);
    minik_error_free(NULL);
    minik_error_clear(&err);
    assert_null(err);
}

static char *format_through_va_list(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

static void asprintf_helpers_format_into_new_strings(void **state)
{
    cleanup_free char *a = xasprintf("%s=%d", "x", 42);
    assert_string_equal(a, "x=42");
    cleanup_free char *b = format_through_va_list("%s/%s:%u", "ns", "name", 7u);
    assert_string_equal(b, "ns/name:7");
    cleanup_free char *empty = format_through_va_list("%s", "");
    assert_string_equal(empty, "");
}

static void timestamps_format_and_parse(void **state)
{
    char buf[MINIK_TIMESTAMP_LEN];
    assert_string_equal(minik_timestamp_format(1700000000, buf), "2023-11-14T22:13:20Z");
    cleanup_free char *s = minik_timestamp_new(0);
    assert_string_equal(s, "1970-01-01T00:00:00Z");
    assert_int_equal(minik_timestamp_parse(buf), 1700000000);
    assert_int_equal(minik_timestamp_parse("2023-11-14T23:13:20.5+01:00"), 1700000000);
    assert_int_equal(minik_timestamp_parse("2023-11-14T22:13:20"), -1);
    assert_int_equal(minik_timestamp_parse("yesterday"), -1);
    assert_int_equal(minik_timestamp_parse(NULL), -1);
}

static void cidrs_parse(void **state)
{
    uint32_t base = 0;
    int prefix = 0;
    assert_int_equal(minik_cidr4_parse("10.42.0.0/16", &base, &prefix), 0);
    assert_int_equal(base, 0x0a2a0000u);
    assert_int_equal(prefix, 16);
    assert_int_equal(minik_cidr4_parse("10.42.7.1/32", &base, &prefix), 0);
    assert_int_equal(base, 0x0a2a0701u);
    assert_int_equal(prefix, 32);
    static const char *const bad[] = {
        "10.42.0.0",  "10.42.0.0/", "10.42.0.0/0", "10.42.0.0/33",        "10.42.0.0/16x",
        "10.42.0/16", "::1/64",     "/8",          "255.255.255.255255/8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(minik_cidr4_parse(bad[i], &base, &prefix), -1);
    assert_int_equal(minik_cidr4_parse(NULL, &base, &prefix), -1);
    assert_int_equal(prefix, 32); /* untouched on failure */
}

static void cleanup_and_steal(void **state)
{
    char *kept;
    {
        cleanup_free char *s = xstrdup("hello");
        kept = steal_pointer(&s);
        assert_null(s);
    }
    assert_string_equal(kept, "hello");
    free(kept);

    int fd_kept;
    {
        cleanup_close int fd = open("/dev/null", O_RDONLY);
        assert_true(fd >= 0);
        fd_kept = steal_fd(&fd);
        assert_int_equal(fd, -1);
    }
    /* Still open: steal_fd moved ownership out of the scope. */
    assert_int_equal(fcntl(fd_kept, F_GETFD), 0);
    close(fd_kept);

    int closed_fd;
    {
        cleanup_close int fd = open("/dev/null", O_RDONLY);
        closed_fd = fd;
    }
    assert_int_equal(fcntl(closed_fd, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
}

static void buf_grows_and_stays_terminated(void **state)
{
    cleanup_buf minik_buf_t b = MINIK_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        minik_buf_appendf(&b, "%d,", i);
    assert_int_equal(b.len, strlen(b.data));
    assert_true(minik_str_has_prefix(b.data, "0,1,2,"));
    assert_true(minik_str_has_suffix(b.data, "998,999,"));
    minik_buf_consume(&b, 2);
    assert_true(minik_str_has_prefix(b.data, "1,2,"));
    minik_buf_append(&b, "\0x", 2); /* binary-safe */
    assert_int_equal(b.data[b.len - 2], '\0');
    minik_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    char *s = minik_buf_steal(&b);
    assert_string_equal(s, "");
    free(s);
    assert_null(b.data);
    char *empty = minik_buf_steal(&b);
    assert_string_equal(empty, "");
    free(empty);
}

static void str_split_join_trim(void **state)
{
    cleanup_strv char **v = minik_str_split("a,b,,c", ",", false);
    assert_int_equal(minik_strv_len(v), 4);
    assert_string_equal(v[2], "");
    cleanup_strv char **w = minik_str_split(",a,,b,", ",", true);
    assert_int_equal(minik_strv_len(w), 2);
    cleanup_free char *j = minik_strv_join(w, "+");
    assert_string_equal(j, "a+b");
    cleanup_free char *t = minik_str_trim("  \t x y \n");
    assert_string_equal(t, "x y");
    assert_true(minik_str_eq(NULL, NULL));
    assert_false(minik_str_eq("a", NULL));
}

static void str_to_i64_ranges(void **state)
{
    int64_t v = 0;
    assert_int_equal(minik_str_to_i64("6443", 1, 65535, &v, "--port", NULL), 0);
    assert_int_equal(v, 6443);
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_str_to_i64("70000", 1, 65535, &v, "--port", &err) < 0);
    assert_string_equal(err->msg, "--port: 70000 is out of range [1, 65535]");
    minik_error_clear(&err);
    assert_true(minik_str_to_i64("12abc", 1, 65535, &v, "--port", &err) < 0);
    assert_string_equal(err->msg, "--port: \"12abc\" is not a valid number");
    minik_error_clear(&err);
    assert_true(minik_str_to_i64(" 1", 0, 9, &v, "n", &err) < 0);
}

static void str_durations(void **state)
{
    int64_t ms = 0;
    assert_int_equal(minik_str_to_duration_ms("90s", &ms, "--ttl", NULL), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(minik_str_to_duration_ms("1h30m", &ms, "--ttl", NULL), 0);
    assert_int_equal(ms, 5400000);
    assert_int_equal(minik_str_to_duration_ms("250ms", &ms, "--ttl", NULL), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(minik_str_to_duration_ms("24h", &ms, "--ttl", NULL), 0);
    assert_int_equal(ms, 86400000);
    assert_int_equal(minik_str_to_duration_ms("5", &ms, "--ttl", NULL), 0);
    assert_int_equal(ms, 5000);
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_str_to_duration_ms("5x", &ms, "--ttl", &err) < 0);
    assert_string_equal(err->msg, "--ttl: \"5x\" has an unknown unit (use ms, s, m, h, d)");
    minik_error_clear(&err);
    assert_true(minik_str_to_duration_ms("1h5", &ms, "--ttl", &err) < 0);
    minik_error_clear(&err);
    assert_true(minik_str_to_duration_ms("-1s", &ms, "--ttl", &err) < 0);
}

static void str_quote_escapes(void **state)
{
    cleanup_free char *q = minik_str_quote("a \"b\"\n\\\x01");
    assert_string_equal(q, "\"a \\\"b\\\"\\n\\\\\\x01\"");
}

static void str_utf8_validation(void **state)
{
    assert_true(minik_str_utf8_valid("plain", 5));
    assert_true(minik_str_utf8_valid("caf\xc3\xa9 \xf0\x9f\x98\x80", 10));
    assert_false(minik_str_utf8_valid("\xff", 1));             /* never valid */
    assert_false(minik_str_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(minik_str_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(minik_str_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(minik_str_utf8_valid("\xe2\x82", 2));         /* truncated */
}

static void log_writes_logfmt_and_filters_levels(void **state)
{
    char *mem = NULL;
    size_t memlen = 0;
    FILE *f = open_memstream(&mem, &memlen);
    minik_log_set_output(f);
    minik_log_set_level(MINIK_LOG_INFO);
    minik_log_debug("hidden", NULL);
    minik_log_info("pod started", "pod", "default/web-1", "reason", "has space", "empty", "", NULL);
    minik_log_set_output(NULL);
    fclose(f);
    assert_non_null(strstr(mem, " level=info msg=\"pod started\" pod=default/web-1 "
                                "reason=\"has space\" empty=\"\"\n"));
    assert_null(strstr(mem, "hidden"));
    assert_true(minik_str_has_prefix(mem, "time="));
    free(mem);

    minik_log_level_t lvl;
    assert_int_equal(minik_log_level_parse("warn", &lvl), 0);
    assert_int_equal(lvl, MINIK_LOG_WARN);
    assert_int_equal(minik_log_level_parse("loud", &lvl), -1);
    assert_string_equal(minik_log_level_name(MINIK_LOG_ERROR), "error");
}

static void file_write_atomic_read_and_limits(void **state)
{
    char dir[] = "/tmp/minik-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cleanup_free char *nested = xasprintf("%s/a/b/c", dir);
    assert_int_equal(minik_mkdir_p(nested, 0755, NULL), 0);
    assert_int_equal(minik_mkdir_p(nested, 0755, NULL), 0); /* idempotent */

    cleanup_free char *path = xasprintf("%s/secret", nested);
    assert_int_equal(minik_file_write_atomic(path, "token\n", 6, 0600, NULL), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    cleanup_free char *data = NULL;
    size_t len = 0;
    assert_int_equal(minik_file_read(path, 1024, &data, &len, NULL), 0);
    assert_int_equal(len, 6);
    assert_string_equal(data, "token\n");

    cleanup_error minik_error_t *err = NULL;
    char *big = NULL;
    assert_true(minik_file_read(path, 3, &big, NULL, &err) < 0);
    assert_null(big);
    assert_int_equal(err->errnum, EFBIG);
    minik_error_clear(&err);

    assert_true(minik_file_read("/nonexistent/x", 10, &big, NULL, &err) < 0);
    assert_string_equal(err->msg, "open \"/nonexistent/x\": No such file or directory");

    assert_int_equal(minik_rm_rf(dir, NULL), 0);
    assert_int_equal(access(dir, F_OK), -1);
    assert_int_equal(minik_rm_rf(dir, NULL), 0); /* missing is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_set_appends_strerror_and_returns_negative_errno),
        cmocka_unit_test(error_wrap_prefixes_context_and_keeps_first_error),
        cmocka_unit_test(error_set_code_and_null_err),
        cmocka_unit_test(asprintf_helpers_format_into_new_strings),
        cmocka_unit_test(timestamps_format_and_parse),
        cmocka_unit_test(cidrs_parse),
        cmocka_unit_test(cleanup_and_steal),
        cmocka_unit_test(buf_grows_and_stays_terminated),
        cmocka_unit_test(str_split_join_trim),
        cmocka_unit_test(str_to_i64_ranges),
        cmocka_unit_test(str_durations),
        cmocka_unit_test(str_quote_escapes),
        cmocka_unit_test(str_utf8_validation),
        cmocka_unit_test(log_writes_logfmt_and_filters_levels),
        cmocka_unit_test(file_write_atomic_read_and_limits),
    };
    return cmocka_run_group_tests_name("lib", tests, NULL, NULL);
}
