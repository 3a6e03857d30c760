/* Unit tests for the API client: kubeconfig reading, base64, paths, Status messages, the
 * watch stream decoder, and transport errors against a real closed port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"
#include "cli/client_config.h"
#include "proto/client.h"
#include "proto/kubeconfig.h"
#include "proto/status_reason.h"
#include "tests/unit/proto_helpers.h"

/* "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n" in base64. */
#define CA_PEM "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n"
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClRFU1QKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="

static const char kubeconfig_yaml[] = "apiVersion: v1\n"
                                      "kind: Config\n"
                                      "clusters:\n"
                                      "- name: other\n"
                                      "  cluster:\n"
                                      "    server: https://10.0.0.1:6443\n"
                                      "- name: minik\n"
                                      "  cluster:\n"
                                      "    server: https://127.0.0.1:6443\n"
                                      "    certificate-authority-data: " CA_B64 "\n"
                                      "users:\n"
                                      "- name: admin\n"
                                      "  user:\n"
                                      "    token: s3cret\n"
                                      "contexts:\n"
                                      "- name: other\n"
                                      "  context:\n"
                                      "    cluster: other\n"
                                      "    user: admin\n"
                                      "    namespace: team-a\n"
                                      "- name: minik\n"
                                      "  context:\n"
                                      "    cluster: minik\n"
                                      "    user: admin\n"
                                      "current-context: minik\n";

static void kubeconfig_current_context(void **state)
{
    minik_client_config_t cfg = {0};
    minik_error_t *err = NULL;
    assert_int_equal(minik_kubeconfig_parse(kubeconfig_yaml, sizeof kubeconfig_yaml - 1,
                                            "/etc/admin.conf", NULL, &cfg, &err),
                     0);
    assert_null(err);
    assert_string_equal(cfg.server, "https://127.0.0.1:6443");
    assert_string_equal(cfg.token, "s3cret");
    assert_int_equal(cfg.ca_pem_len, strlen(CA_PEM));
    assert_memory_equal(cfg.ca_pem, CA_PEM, cfg.ca_pem_len);
    assert_null(cfg.namespace);
    assert_false(cfg.insecure_skip_tls_verify);
    minik_client_config_clear(&cfg);
}

static void kubeconfig_named_context_and_namespace(void **state)
{
    minik_client_config_t cfg = {0};
    minik_error_t *err = NULL;
    assert_int_equal(minik_kubeconfig_parse(kubeconfig_yaml, sizeof kubeconfig_yaml - 1, NULL,
                                            "other", &cfg, &err),
                     0);
    assert_string_equal(cfg.server, "https://10.0.0.1:6443");
    assert_string_equal(cfg.namespace, "team-a");
    assert_null(cfg.ca_pem);
    minik_client_config_clear(&cfg);
}

static void kubeconfig_json_form(void **state)
{
    static const char json[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"current-context\":\"c\","
        "\"clusters\":[{\"name\":\"k\",\"cluster\":{\"server\":\"http://127.0.0.1:8080\","
        "\"insecure-skip-tls-verify\":true}}],"
        "\"contexts\":[{\"name\":\"c\",\"context\":{\"cluster\":\"k\"}}]}";
    minik_client_config_t cfg = {0};
    minik_error_t *err = NULL;
    assert_int_equal(minik_kubeconfig_parse(json, sizeof json - 1, NULL, NULL, &cfg, &err), 0);
    assert_string_equal(cfg.server, "http://127.0.0.1:8080");
    assert_true(cfg.insecure_skip_tls_verify);
    assert_null(cfg.token);
    minik_client_config_clear(&cfg);
}

static void kubeconfig_errors_say_what_and_where(void **state)
{
    minik_client_config_t cfg = {0};
    minik_error_t *err = NULL;
    assert_true(minik_kubeconfig_parse(kubeconfig_yaml, sizeof kubeconfig_yaml - 1, "k.conf",
                                       "nope", &cfg, &err) < 0);
    assert_string_equal(err->msg, "k.conf: context \"nope\" not found");
    minik_error_clear(&err);

    static const char no_current[] = "apiVersion: v1\nkind: Config\nclusters: []\n";
    assert_true(
        minik_kubeconfig_parse(no_current, sizeof no_current - 1, "k.conf", NULL, &cfg, &err) < 0);
    assert_string_equal(err->msg, "k.conf: no current-context set");
    minik_error_clear(&err);

    static const char bad_cluster[] = "current-context: c\n"
                                      "contexts:\n- name: c\n  context:\n    cluster: gone\n";
    assert_true(minik_kubeconfig_parse(bad_cluster, sizeof bad_cluster - 1, "k.conf", NULL, &cfg,
                                       &err) < 0);
    assert_string_equal(err->msg, "k.conf: cluster \"gone\" (of context \"c\") not found");
    minik_error_clear(&err);

    static const char bad_ca[] = "current-context: c\n"
                                 "contexts:\n- name: c\n  context:\n    cluster: k\n"
                                 "clusters:\n- name: k\n  cluster:\n    server: https://x\n"
                                 "    certificate-authority-data: '@@@'\n";
    assert_true(minik_kubeconfig_parse(bad_ca, sizeof bad_ca - 1, "k.conf", NULL, &cfg, &err) < 0);
    assert_non_null(strstr(err->msg, "certificate-authority-data"));
    assert_non_null(strstr(err->msg, "invalid base64"));
    minik_error_clear(&err);

    static const char certs[] = "current-context: c\n"
                                "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n"
                                "clusters:\n- name: k\n  cluster:\n    server: https://x\n"
                                "users:\n- name: u\n  user:\n    client-certificate-data: eA==\n";
    assert_true(minik_kubeconfig_parse(certs, sizeof certs - 1, "k.conf", NULL, &cfg, &err) < 0);
    assert_string_equal(err->msg, "k.conf: user \"u\": client-certificate-data is not supported "
                                  "by minik (use a bearer token)");
    minik_error_clear(&err);

    static const char not_yaml[] = "clusters: [\n";
    assert_true(minik_kubeconfig_parse(not_yaml, sizeof not_yaml - 1, "k.conf", NULL, &cfg, &err) <
                0);
    assert_non_null(strstr(err->msg, "k.conf:"));
    minik_error_clear(&err);
    assert_null(cfg.server);
}

static void kubeconfig_files_relative_to_the_config(void **state)
{
    char dir[] = "/tmp/minik-kubeconfig-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cleanup_free char *ca = xasprintf("%s/ca.crt", dir);
    cleanup_free char *tok = xasprintf("%s/token", dir);
    cleanup_free char *conf = xasprintf("%s/config", dir);
    assert_int_equal(minik_file_write_atomic(ca, CA_PEM, strlen(CA_PEM), 0600, NULL), 0);
    assert_int_equal(minik_file_write_atomic(tok, "  tok-from-file\n", 16, 0600, NULL), 0);
    static const char text[] = "current-context: c\n"
                               "contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
                               "clusters:\n- name: k\n  cluster:\n    server: https://h:1\n"
                               "    certificate-authority: ca.crt\n"
                               "users:\n- name: u\n  user:\n    tokenFile: token\n";
    assert_int_equal(minik_file_write_atomic(conf, text, sizeof text - 1, 0600, NULL), 0);
    minik_client_config_t cfg = {0};
    minik_error_t *err = NULL;
    assert_int_equal(minik_kubeconfig_load(conf, NULL, &cfg, &err), 0);
    assert_string_equal(cfg.ca_pem, CA_PEM);
    assert_string_equal(cfg.token, "tok-from-file");
    assert_string_equal(cfg.source, conf);
    minik_client_config_clear(&cfg);

    assert_true(minik_kubeconfig_load("/nonexistent/minik.conf", NULL, &cfg, &err) < 0);
    assert_string_equal(err->msg, "read kubeconfig: open \"/nonexistent/minik.conf\": No such "
                                  "file or directory");
    minik_error_clear(&err);
    assert_int_equal(minik_rm_rf(dir, NULL), 0);
}

static void base64_padding_and_whitespace(void **state)
{
    char *out = NULL;
    size_t n = 0;
    assert_int_equal(minik_base64_decode("aGVsbG8=", &out, &n, NULL), 0);
    assert_int_equal(n, 5);
    assert_string_equal(out, "hello");
    free(out);
    assert_int_equal(minik_base64_decode("aGVs\nbG8", &out, &n, NULL), 0); /* no padding */
    assert_string_equal(out, "hello");
    free(out);
    assert_int_equal(minik_base64_decode("", &out, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(out);
    assert_true(minik_base64_decode("a", &out, &n, NULL) < 0);
    assert_true(minik_base64_decode("a===", &out, &n, NULL) < 0);
    assert_true(minik_base64_decode("!!!!", &out, &n, NULL) < 0);
}

static void paths_follow_the_kubernetes_layout(void **state)
{
    cleanup_free char *a = minik_client_path("v1", "pods", true, "default", "web-1", NULL, NULL);
    assert_string_equal(a, "/api/v1/namespaces/default/pods/web-1");
    cleanup_free char *b =
        minik_client_path("apps/v1", "deployments", true, "prod", "web", "scale", NULL);
    assert_string_equal(b, "/apis/apps/v1/namespaces/prod/deployments/web/scale");
    cleanup_free char *c = minik_client_path("v1", "nodes", false, "ignored", NULL, NULL, "x=1");
    assert_string_equal(c, "/api/v1/nodes?x=1");
    cleanup_free char *d = minik_client_path("v1", "pods", true, NULL, NULL, NULL, NULL);
    assert_string_equal(d, "/api/v1/pods"); /* all namespaces */
    /* Names are escaped: no path confusion from '/' or '..'. */
    cleanup_free char *e = minik_client_path("v1", "pods", true, "a/b", "../x", NULL, NULL);
    assert_string_equal(e, "/api/v1/namespaces/a%2Fb/pods/..%2Fx");
    cleanup_free char *q = minik_client_escape("app in (a,b),!x=y");
    assert_string_equal(q, "app%20in%20%28a%2Cb%29%2C%21x%3Dy");
}

static void status_message_from_body(void **state)
{
    static const char st[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                             "\"message\":\"pods \\\"x\\\" not found\",\"code\":404}";
    cleanup_free char *a = minik_client_status_message(404, st, sizeof st - 1);
    assert_string_equal(a, "pods \"x\" not found");
    cleanup_free char *b = minik_client_status_message(502, "  Bad Gateway\n", 14);
    assert_string_equal(b, "Bad Gateway");
    cleanup_free char *c = minik_client_status_message(500, NULL, 0);
    assert_string_equal(c, "HTTP 500");
}

/* ---- watch decoder ------------------------------------------------------------------- */

typedef struct seen {
    char types[16][16];
    char names[16][32];
    int n;
    int stop_after; /* return 1 after this many events (0 = never) */
} seen_t;

static int record(const char *type, const cJSON *object, void *ud)
{
    seen_t *s = ud;
    snprintf(s->types[s->n], sizeof s->types[0], "%s", type);
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(object, "metadata");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
    snprintf(s->names[s->n], sizeof s->names[0], "%s",
             cJSON_IsString(name) ? name->valuestring : "");
    s->n++;
    return s->stop_after && s->n >= s->stop_after ? 1 : 0;
}

static const char stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
    "\r\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}\r\n"
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"c\"}}}\n";

static void status_reasons_follow_kubernetes(void **state)
{
    /* One table for the server's Status bodies and the CLI's "Error from server (...)". */
    assert_string_equal(minik_status_reason(404), "NotFound");
    assert_string_equal(minik_status_reason(409), "Conflict");
    assert_string_equal(minik_status_reason(410), "Gone");
    assert_string_equal(minik_status_reason(422), "Invalid");
    assert_string_equal(minik_status_reason(429), "TooManyRequests");
    assert_string_equal(minik_status_reason(504), "Timeout");
    assert_string_equal(minik_status_reason(418), "BadRequest");
    assert_string_equal(minik_status_reason(599), "InternalError");
}

static void watch_decoder_handles_any_split(void **state)
{
    /* Every split point, byte by byte too: events come out whole and in order. */
    for (size_t step = 1; step <= sizeof stream; step++) {
        seen_t s = {0};
        minik_watch_decoder_t *d = minik_watch_decoder_new(record, &s, 0);
        minik_error_t *err = NULL;
        for (size_t off = 0; off < sizeof stream - 1; off += step) {
            size_t n = sizeof stream - 1 - off < step ? sizeof stream - 1 - off : step;
            assert_int_equal(minik_watch_decoder_feed(d, stream + off, n, &err), 0);
        }
        assert_int_equal(minik_watch_decoder_finish(d, &err), 0);
        assert_int_equal(s.n, 3);
        assert_string_equal(s.types[0], "ADDED");
        assert_string_equal(s.names[0], "a");
        assert_string_equal(s.types[1], "MODIFIED");
        assert_string_equal(s.names[1], "b");
        assert_string_equal(s.types[2], "DELETED");
        assert_string_equal(s.names[2], "c");
        minik_watch_decoder_free(d);
    }
}

static void watch_decoder_rejects_bad_events(void **state)
{
    seen_t s = {0};
    minik_error_t *err = NULL;
    minik_watch_decoder_t *d = minik_watch_decoder_new(record, &s, 0);
    static const char bad[] = "{\"type\":\"ADDED\",\"object\":{}}\n[1,2]\n";
    assert_true(minik_watch_decoder_feed(d, bad, sizeof bad - 1, &err) < 0);
    assert_string_equal(err->msg, "watch event 2: not a JSON object: Bad message");
    assert_int_equal(s.n, 1);
    minik_error_clear(&err);
    minik_watch_decoder_free(d);

    d = minik_watch_decoder_new(record, &s, 0);
    static const char notype[] = "{\"object\":{}}\n";
    assert_true(minik_watch_decoder_feed(d, notype, sizeof notype - 1, &err) < 0);
    assert_non_null(strstr(err->msg, "needs a string \"type\""));
    minik_error_clear(&err);
    minik_watch_decoder_free(d);

    /* A line longer than the limit is refused before it is buffered whole. */
    d = minik_watch_decoder_new(record, &s, 64);
    char big[100];
    memset(big, 'x', sizeof big);
    assert_int_equal(minik_watch_decoder_feed(d, big, 50, &err), 0);
    assert_true(minik_watch_decoder_feed(d, big, 50, &err) < 0);
    assert_non_null(strstr(err->msg, "longer than 64 bytes"));
    minik_error_clear(&err);
    minik_watch_decoder_free(d);

    /* A stream cut in the middle of an event is an error at the end. */
    d = minik_watch_decoder_new(record, &s, 0);
    assert_int_equal(minik_watch_decoder_feed(d, "{\"type\":\"ADD", 12, &err), 0);
    assert_true(minik_watch_decoder_finish(d, &err) < 0);
    assert_non_null(strstr(err->msg, "truncated watch stream"));
    minik_error_clear(&err);
    minik_watch_decoder_free(d);
}

static void watch_decoder_stops_when_asked(void **state)
{
    seen_t s = {.stop_after = 2};
    minik_error_t *err = NULL;
    minik_watch_decoder_t *d = minik_watch_decoder_new(record, &s, 0);
    assert_int_equal(minik_watch_decoder_feed(d, stream, sizeof stream - 1, &err), 1);
    assert_int_equal(s.n, 2);
    /* Later bytes are ignored once stopped. */
    assert_int_equal(minik_watch_decoder_feed(d, stream, sizeof stream - 1, &err), 1);
    assert_int_equal(s.n, 2);
    assert_int_equal(minik_watch_decoder_finish(d, &err), 0);
    assert_null(err);
    minik_watch_decoder_free(d);
}

/* ---- transport --------------------------------------------------------------------------- */

/* A loopback port nothing listens on: bind one, note it, close it. */
static void unreachable_server_names_the_url(void **state)
{
    cleanup_free char *url = xasprintf("https://127.0.0.1:%d", proto_closed_port());
    minik_client_config_t cfg = {.server = url};
    minik_client_t *c = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(minik_client_new(&cfg, &c, &err), 0);
    cJSON *out = NULL;
    assert_true(minik_client_json(c, "GET", "/api/v1/pods", NULL, NULL, &out, &err) < 0);
    cleanup_free char *want =
        xasprintf("cannot reach the minik server at %s: Connection refused", url);
    assert_string_equal(err->msg, want);
    assert_int_equal(err->code, 0);
    minik_error_clear(&err);
    /* The watch path says the same. */
    assert_true(minik_client_watch(c, "/api/v1/pods?watch=1", record, NULL, &err) < 0);
    assert_string_equal(err->msg, want);
    minik_error_clear(&err);
    minik_client_free(c);
}

static void bad_server_urls_are_refused(void **state)
{
    minik_client_t *c = NULL;
    minik_error_t *err = NULL;
    minik_client_config_t cfg = {.server = "ftp://x"};
    assert_true(minik_client_new(&cfg, &c, &err) < 0);
    assert_string_equal(err->msg, "server URL \"ftp://x\": must start with https:// or http://");
    minik_error_clear(&err);
    minik_client_config_t crlf = {
        .server = "http://127.0.0.1:1", .token = "abc\r\nX-Evil: 1", .source = "k.conf"};
    assert_true(minik_client_new(&crlf, &c, &err) < 0);
    assert_string_equal(err->msg, "the bearer token from k.conf contains control characters");
    minik_error_clear(&err);
    minik_client_config_t none = {0};
    assert_true(minik_client_new(&none, &c, &err) < 0);
    minik_error_clear(&err);
}

static void kubeconfig_lookup_order(void **state)
{
    char home[] = "/tmp/minik-home-XXXXXX";
    assert_non_null(mkdtemp(home));
    cleanup_free char *saved_home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
    cleanup_free char *saved_env = getenv("MINIK_CONFIG") ? xstrdup(getenv("MINIK_CONFIG")) : NULL;
    setenv("HOME", home, 1);
    setenv("MINIK_CONFIG", "/from/env", 1);
    minik_error_t *err = NULL;
    cleanup_free char *a = minik_cli_kubeconfig_path("/from/flag", &err);
    assert_string_equal(a, "/from/flag"); /* --kubeconfig first */
    cleanup_free char *b = minik_cli_kubeconfig_path(NULL, &err);
    assert_string_equal(b, "/from/env"); /* then $MINIK_CONFIG, even if missing */
    unsetenv("MINIK_CONFIG");
    cleanup_free char *dir = xasprintf("%s/.minik", home);
    cleanup_free char *user = xasprintf("%s/config", dir);
    bool admin = access("/var/lib/minik/admin.conf", F_OK) == 0;
    cleanup_free char *c = minik_cli_kubeconfig_path(NULL, &err);
    if (admin) {
        assert_string_equal(c, "/var/lib/minik/admin.conf");
    } else {
        /* Nothing anywhere: the message lists what was tried. */
        assert_null(c);
        cleanup_free char *want =
            xasprintf("no kubeconfig found: pass --kubeconfig FILE, set $MINIK_CONFIG, or "
                      "create %s (tried /var/lib/minik/admin.conf)",
                      user);
        assert_string_equal(err->msg, want);
        minik_error_clear(&err);
    }
    assert_int_equal(minik_mkdir_p(dir, 0700, NULL), 0);
    assert_int_equal(minik_file_write_atomic(user, "x", 1, 0600, NULL), 0);
    cleanup_free char *d = minik_cli_kubeconfig_path(NULL, &err);
    assert_string_equal(d, user); /* ~/.minik/config before the admin.conf */
    if (saved_home)
        setenv("HOME", saved_home, 1);
    if (saved_env)
        setenv("MINIK_CONFIG", saved_env, 1);
    assert_int_equal(minik_rm_rf(home, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kubeconfig_current_context),
        cmocka_unit_test(kubeconfig_named_context_and_namespace),
        cmocka_unit_test(kubeconfig_json_form),
        cmocka_unit_test(kubeconfig_errors_say_what_and_where),
        cmocka_unit_test(kubeconfig_files_relative_to_the_config),
        cmocka_unit_test(kubeconfig_lookup_order),
        cmocka_unit_test(base64_padding_and_whitespace),
        cmocka_unit_test(paths_follow_the_kubernetes_layout),
        cmocka_unit_test(status_message_from_body),
        cmocka_unit_test(status_reasons_follow_kubernetes),
        cmocka_unit_test(watch_decoder_handles_any_split),
        cmocka_unit_test(watch_decoder_rejects_bad_events),
        cmocka_unit_test(watch_decoder_stops_when_asked),
        cmocka_unit_test(unreachable_server_names_the_url),
        cmocka_unit_test(bad_server_urls_are_refused),
    };
    return cmocka_run_group_tests_name("client", tests, NULL, NULL);
}
