/* Unit tests for lib/lazylib and the lib/lazy_*.h tables: every function minik calls in
 * the heavy libraries resolves to the library's own function, and a library that cannot
 * be loaded is reported by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/lazy_archive.h"
#include "lib/lazy_curl.h"
#include "lib/lazy_ldns.h"
#include "lib/lazy_openssl.h"
#include "lib/lazy_sqlite.h"
#include "lib/lazylib.h"

/* This runner links the libraries directly too, so each table entry must be the very
 * function the dynamic linker gives everyone else. */
#define SAME_AS_LINKED(name)                                                                       \
    do {                                                                                           \
        void *want = dlsym(RTLD_DEFAULT, #name);                                                   \
        assert_non_null(want);                                                                     \
        if ((void *)api->name != want)                                                             \
            fail_msg("%s: table entry %p, linked %p", #name, (void *)api->name, want);             \
        checked++;                                                                                 \
    } while (0);

static void curl_table_matches_libcurl(void **state)
{
    const minik_curl_api_t *api = minik_curl_api();
    int checked = 0;
    // cppcheck-suppress unknownMacro
    MINIK_CURL_SYMBOLS(SAME_AS_LINKED)
    assert_true(checked >= 20);
    /* And a call through the redirect reaches libcurl. */
    assert_string_equal(curl_easy_strerror(CURLE_OK), "No error");
}

static void archive_table_matches_libarchive(void **state)
{
    const minik_archive_api_t *api = minik_archive_api();
    int checked = 0;
    // cppcheck-suppress unknownMacro
    MINIK_ARCHIVE_SYMBOLS(SAME_AS_LINKED)
    assert_true(checked >= 30);
    struct archive *a = archive_read_new();
    assert_non_null(a);
    assert_int_equal(archive_read_free(a), ARCHIVE_OK);
}

static void ldns_table_matches_ldns(void **state)
{
    const minik_ldns_api_t *api = minik_ldns_api();
    int checked = 0;
    // cppcheck-suppress unknownMacro
    MINIK_LDNS_SYMBOLS(SAME_AS_LINKED)
    assert_true(checked >= 30);
}

static void sqlite_table_matches_sqlite(void **state)
{
    const minik_sqlite_api_t *api = minik_sqlite_api();
    int checked = 0;
    // cppcheck-suppress unknownMacro
    MINIK_SQLITE_SYMBOLS(SAME_AS_LINKED)
    assert_true(checked >= 20);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void openssl_table_matches_openssl(void **state)
{
    const minik_openssl_api_t *api = minik_openssl_api();
    int checked = 0;
    // cppcheck-suppress unknownMacro
    MINIK_OPENSSL_SYMBOLS(SAME_AS_LINKED)
    assert_true(checked >= 60);
    unsigned char md[32];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest("abc", 3, md, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(len, 32);
    assert_int_equal(md[0], 0xba); /* sha256("abc") = ba7816bf... */
    assert_int_equal(md[1], 0x78);
}

static void open_names_the_missing_library(void **state)
{
    cleanup_error minik_error_t *err = NULL;
    assert_null(minik_lazylib_open("libminik-no-such-library.so.7", &err));
    assert_non_null(err);
    assert_non_null(strstr(err->msg, "load libminik-no-such-library.so.7: "));
}

static void sym_names_the_missing_symbol(void **state)
{
    cleanup_error minik_error_t *err = NULL;
    void *h = minik_lazylib_open("libc.so.6", &err);
    assert_non_null(h);
    assert_null(minik_lazylib_sym(h, "libc.so.6", "minik_no_such_function", &err));
    assert_non_null(err);
    assert_non_null(strstr(err->msg, "libc.so.6: symbol minik_no_such_function: "));
    minik_error_clear(&err);
    assert_ptr_equal(minik_lazylib_sym(h, "libc.so.6", "getpid", &err),
                     dlsym(RTLD_DEFAULT, "getpid"));
    assert_null(err);
}

/* In a child: the message a user sees when a package is missing, then abort(). */
static void or_die_reports_and_aborts(void **state)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 2);
        /* The abort is expected; keep the sanitizers from treating it as a finding. */
        signal(SIGABRT, SIG_DFL);
        minik_lazylib_open_or_die("libminik-no-such-library.so.7");
        _exit(0);
    }
    close(p[1]);
    char buf[512] = {0};
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(p[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    close(p[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(buf, "minik: libminik-no-such-library.so.7 is needed here and could "
                                "not be loaded: load libminik-no-such-library.so.7: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(curl_table_matches_libcurl),
        cmocka_unit_test(archive_table_matches_libarchive),
        cmocka_unit_test(ldns_table_matches_ldns),
        cmocka_unit_test(sqlite_table_matches_sqlite),
        cmocka_unit_test(openssl_table_matches_openssl),
        cmocka_unit_test(open_names_the_missing_library),
        cmocka_unit_test(sym_names_the_missing_symbol),
        cmocka_unit_test(or_die_reports_and_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
