/* Unit tests for the apiserver's pure logic: merge/JSON patch, tokens, the node
 * authorizer, resource table, metrics text and the PKI it generates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "apiserver/apiserver.h"
#include "apiserver/auth.h"
#include "apiserver/metrics.h"
#include "apiserver/patch.h"
#include "apiserver/pki.h"
#include "apiserver/resources.h"
#include "apiserver/router.h"
#include "apiserver/table.h"
#include "apiserver/tls.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static cJSON *J(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    return j;
}

static void assert_json(const cJSON *got, const char *want)
{
    cJSON *w = J(want);
    char *g = cJSON_PrintUnformatted(got);
    if (!cJSON_Compare(got, w, 1))
        fail_msg("got %s, want %s", g, want);
    free(g);
    cJSON_Delete(w);
}

/* PATCH with application/merge-patch+json runs minik_merge_patch_apply, whose RFC 7386
 * appendix A examples are in test_client_apply.c; here, that the route's entry point gives
 * its results and leaves its inputs alone. */
static void merge_patch_rfc7386(void **state)
{
    static const char *cases[][3] = {
        {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
        {"{\"a\":\"foo\"}", "null", "null"},
        {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cleanup_cjson cJSON *t = J(cases[i][0]);
        cleanup_cjson cJSON *p = J(cases[i][1]);
        cleanup_cjson cJSON *out = NULL;
        minik_error_t *err = NULL;
        assert_int_equal(minik_patch_merge(t, p, &out, &err), 0);
        assert_json(out, cases[i][2]);
        assert_json(t, cases[i][0]);
    }
}

static int jpatch(const char *doc, const char *ops, cJSON **out, int *code)
{
    cleanup_cjson cJSON *d = J(doc);
    cleanup_cjson cJSON *o = J(ops);
    minik_error_t *err = NULL;
    int r = minik_patch_json(d, o, out, &err);
    *code = err ? err->code : 0;
    minik_error_free(err);
    return r;
}

/* RFC 6902 appendix A, the interesting ones. */
static void json_patch_rfc6902_examples(void **state)
{
    static const char *ok[][3] = {
        {"{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
         "{\"foo\":\"bar\",\"baz\":\"qux\"}"},
        {"{\"foo\":[\"bar\",\"baz\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
         "{\"foo\":[\"bar\",\"qux\",\"baz\"]}"},
        {"{\"foo\":[\"bar\"]}", "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":\"x\"}]",
         "{\"foo\":[\"bar\",\"x\"]}"},
        {"{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
         "{\"foo\":\"bar\"}"},
        {"{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
         "{\"foo\":[\"bar\",\"baz\"]}"},
        {"{\"baz\":\"qux\"}", "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
         "{\"baz\":\"boo\"}"},
        {"{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
         "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
         "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}"},
        {"{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
         "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
         "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}"},
        {"{\"a\":{\"b\":1}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"}]",
         "{\"a\":{\"b\":1},\"c\":{\"b\":1}}"},
        {"{\"/\":1,\"m~n\":2}",
         "[{\"op\":\"test\",\"path\":\"/~1\",\"value\":1},{\"op\":\"remove\",\"path\":\"/m~0n\"}]",
         "{\"/\":1}"},
        {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        cleanup_cjson cJSON *out = NULL;
        int code;
        if (jpatch(ok[i][0], ok[i][1], &out, &code) < 0)
            fail_msg("case %zu failed with %d", i, code);
        assert_json(out, ok[i][2]);
    }
    static const struct {
        const char *doc, *ops;
        int code;
    } bad[] = {
        {"{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", 422},
        {"{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", 422},
        {"{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":2}]", 422},
        {"{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":2}]", 422},
        {"{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", 422},
        {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]", 422},
        {"{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]", 422},
        {"{\"a\":1}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", 400},
        {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", 400},
        {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a\"}]", 400},
        {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/~2\",\"value\":1}]", 400},
        {"{\"a\":1}", "{\"op\":\"add\"}", 400},
        {"{\"a\":1}", "[1]", 400},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *out = NULL;
        int code = 0;
        assert_true(jpatch(bad[i].doc, bad[i].ops, &out, &code) < 0);
        assert_null(out);
        if (code != bad[i].code)
            fail_msg("bad case %zu: code %d, want %d", i, code, bad[i].code);
    }
}

static void strategic_merge_patch(void **state)
{
    static const char *cases[][3] = {
        /* containers merge by name: other fields and other containers survive */
        {"{\"c\":[{\"name\":\"a\",\"image\":\"x\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]},"
         "{\"name\":\"b\",\"image\":\"y\"}]}",
         "{\"containers\":[{\"name\":\"a\",\"image\":\"z\"}]}",
         "{\"c\":[{\"name\":\"a\",\"image\":\"x\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]},"
         "{\"name\":\"b\",\"image\":\"y\"}],\"containers\":[{\"name\":\"a\",\"image\":\"z\"}]}"},
        {"{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":80}]},"
         "{\"name\":\"b\",\"image\":\"y\"}]}",
         "{\"$setElementOrder/containers\":[{\"name\":\"b\"},{\"name\":\"a\"}],"
         "\"containers\":[{\"name\":\"a\",\"image\":\"z\",\"env\":[{\"name\":\"E\",\"value\":\"1\"}"
         "]}]}",
         "{\"containers\":[{\"name\":\"b\",\"image\":\"y\"},{\"name\":\"a\",\"image\":\"z\","
         "\"ports\":[{\"containerPort\":80}],\"env\":[{\"name\":\"E\",\"value\":\"1\"}]}]}"},
        /* $patch: delete in a list, null deletes a key */
        {"{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"x\":1}",
         "{\"containers\":[{\"name\":\"a\",\"$patch\":\"delete\"}],\"x\":null}",
         "{\"containers\":[{\"name\":\"b\"}]}"},
        /* service ports merge by port, container ports by containerPort */
        {"{\"ports\":[{\"port\":80,\"name\":\"http\"},{\"port\":443}]}",
         "{\"ports\":[{\"port\":80,\"targetPort\":8080}]}",
         "{\"ports\":[{\"port\":80,\"name\":\"http\",\"targetPort\":8080},{\"port\":443}]}"},
        /* finalizers are a set; $deleteFromPrimitiveList removes */
        {"{\"finalizers\":[\"a\",\"b\"]}",
         "{\"finalizers\":[\"c\",\"a\"],\"$deleteFromPrimitiveList/finalizers\":[\"b\"]}",
         "{\"finalizers\":[\"a\",\"c\"]}"},
        /* lists without a merge key are replaced; $patch: replace on a map */
        {"{\"args\":[\"a\",\"b\"],\"m\":{\"x\":1,\"y\":2}}",
         "{\"args\":[\"c\"],\"m\":{\"$patch\":\"replace\",\"z\":3}}",
         "{\"args\":[\"c\"],\"m\":{\"z\":3}}"},
        /* $retainKeys keeps only the named keys; $patch: delete on a map */
        {"{\"s\":{\"type\":\"A\",\"a\":{\"k\":1}},\"d\":{\"q\":1}}",
         "{\"s\":{\"$retainKeys\":[\"type\",\"b\"],\"type\":\"B\",\"b\":{\"k\":2}},"
         "\"d\":{\"$patch\":\"delete\"}}",
         "{\"s\":{\"type\":\"B\",\"b\":{\"k\":2}}}"},
        /* a list-level $patch: replace */
        {"{\"env\":[{\"name\":\"A\"},{\"name\":\"B\"}]}",
         "{\"env\":[{\"$patch\":\"replace\"},{\"name\":\"C\"}]}", "{\"env\":[{\"name\":\"C\"}]}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cleanup_cjson cJSON *t = J(cases[i][0]);
        cleanup_cjson cJSON *p = J(cases[i][1]);
        cleanup_cjson cJSON *out = NULL;
        minik_error_t *err = NULL;
        if (minik_patch_strategic(t, p, &out, &err) < 0)
            fail_msg("case %zu: %s", i, err->msg);
        assert_json(out, cases[i][2]);
    }
    cleanup_cjson cJSON *t = J("{}");
    cleanup_cjson cJSON *p = J("[1]");
    cJSON *out = NULL;
    minik_error_t *err = NULL;
    assert_true(minik_patch_strategic(t, p, &out, &err) < 0);
    assert_int_equal(err->code, 400);
    minik_error_free(err);
}

static void tokens_generate_hash_parse(void **state)
{
    cleanup_free char *a = minik_token_generate();
    cleanup_free char *b = minik_token_generate();
    assert_string_not_equal(a, b);
    char id[MINIK_TOKEN_ID_LEN + 1];
    assert_true(minik_token_parse(a, id));
    assert_int_equal(strncmp(a, id, MINIK_TOKEN_ID_LEN), 0);
    assert_false(minik_token_parse("abc", id));
    assert_false(minik_token_parse("0123456g.0123456789abcdef0123456789abcdef", id));
    assert_false(minik_token_parse("01234567-0123456789abcdef0123456789abcdef", id));
    assert_true(minik_token_parse("01234567.0123456789abcdef0123456789abcdef", id));
    char h1[65], h2[65];
    minik_token_hash("abc", h1);
    /* SHA-256("abc") from FIPS 180-2. */
    assert_string_equal(h1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    minik_token_hash(a, h1);
    minik_token_hash(b, h2);
    assert_true(minik_token_hash_equal(h1, h1));
    assert_false(minik_token_hash_equal(h1, h2));
    assert_false(minik_token_hash_equal(h1, "short"));
    assert_string_equal(minik_token_from_header("Bearer xyz"), "xyz");
    assert_string_equal(minik_token_from_header("bearer   xyz"), "xyz");
    assert_null(minik_token_from_header("Basic xyz"));
    assert_null(minik_token_from_header("Bearer "));
    assert_null(minik_token_from_header(NULL));
}

static minik_authz_t authz(const minik_identity_t *id, const char *verb, const char *path,
                           const char *fs)
{
    minik_route_t r;
    minik_error_t *err = NULL;
    assert_int_equal(minik_route_parse(path, &r, &err), 0);
    const char *why;
    minik_authz_t a = minik_authz_check(id, verb, &r, fs, &why);
    if (a == MINIK_AUTHZ_DENY)
        assert_non_null(why);
    minik_route_clear(&r);
    return a;
}

static void node_authorizer(void **state)
{
    minik_identity_t admin = {.role = MINIK_ROLE_ADMIN};
    assert_int_equal(authz(&admin, "delete", "/api/v1/nodes/x", NULL), MINIK_AUTHZ_ALLOW);
    minik_identity_t unbound = {.role = MINIK_ROLE_NODE};
    assert_int_equal(authz(&unbound, "create", "/api/v1/nodes", NULL), MINIK_AUTHZ_BIND_NODE);
    assert_int_equal(authz(&unbound, "get", "/api/v1/nodes/n1", NULL), MINIK_AUTHZ_BIND_NODE);
    assert_int_equal(authz(&unbound, "list", "/api/v1/pods", "spec.nodeName=n1"), MINIK_AUTHZ_DENY);
    minik_identity_t n1 = {.role = MINIK_ROLE_NODE, .node = "n1"};
    assert_int_equal(authz(&n1, "get", "/api/v1/nodes/n1", NULL), MINIK_AUTHZ_BIND_NODE);
    assert_int_equal(authz(&n1, "patch", "/api/v1/nodes/n1/status", NULL), MINIK_AUTHZ_BIND_NODE);
    /* Every Node may be read (the agent routes to the others' pod CIDRs); only its own
     * written. */
    assert_int_equal(authz(&n1, "get", "/api/v1/nodes/n2", NULL), MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&n1, "update", "/api/v1/nodes/n2", NULL), MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "patch", "/api/v1/nodes/n2/status", NULL), MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "delete", "/api/v1/nodes/n1", NULL), MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "delete", "/api/v1/nodes/n2", NULL), MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "list", "/api/v1/nodes", NULL), MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&n1, "watch", "/api/v1/nodes", NULL), MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&n1, "watch", "/api/v1/nodes", "metadata.name=n1"), MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&unbound, "list", "/api/v1/nodes", "metadata.name=n1"),
                     MINIK_AUTHZ_DENY);
    /* Services and Endpoints: read-only, any namespace. */
    assert_int_equal(authz(&n1, "list", "/api/v1/services", NULL), MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&n1, "watch", "/api/v1/endpoints", NULL), MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&n1, "get", "/api/v1/namespaces/a/services/s", NULL), MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&n1, "get", "/api/v1/namespaces/a/endpoints/s", NULL),
                     MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&n1, "create", "/api/v1/namespaces/a/services", NULL), MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "update", "/api/v1/namespaces/a/endpoints/s", NULL),
                     MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "delete", "/api/v1/namespaces/a/services/s", NULL),
                     MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "update", "/api/v1/namespaces/a/services/s/status", NULL),
                     MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&unbound, "list", "/api/v1/services", NULL), MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "list", "/api/v1/pods", "spec.nodeName=n1"), MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&n1, "watch", "/api/v1/pods", "metadata.name=x,spec.nodeName==n1"),
                     MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&n1, "list", "/api/v1/pods", "spec.nodeName=n10"), MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "list", "/api/v1/pods", "spec.nodeName!=n1"), MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "list", "/api/v1/pods", NULL), MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "get", "/api/v1/namespaces/a/pods/p", NULL),
                     MINIK_AUTHZ_IF_POD_ON_NODE);
    assert_int_equal(authz(&n1, "update", "/api/v1/namespaces/a/pods/p/status", NULL),
                     MINIK_AUTHZ_IF_POD_ON_NODE);
    assert_int_equal(authz(&n1, "update", "/api/v1/namespaces/a/pods/p", NULL), MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "create", "/api/v1/namespaces/a/pods/p/binding", NULL),
                     MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "create", "/api/v1/namespaces/a/events", NULL), MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&n1, "list", "/api/v1/namespaces/a/events", NULL), MINIK_AUTHZ_DENY);
    /* The agent reads its pods' ConfigMaps and Secrets by name (env, volumes); never lists
     * or writes them. */
    assert_int_equal(authz(&n1, "get", "/api/v1/namespaces/a/secrets/s", NULL), MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&n1, "get", "/api/v1/namespaces/a/configmaps/c", NULL),
                     MINIK_AUTHZ_ALLOW);
    assert_int_equal(authz(&n1, "list", "/api/v1/namespaces/a/secrets", NULL), MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "update", "/api/v1/namespaces/a/secrets/s", NULL),
                     MINIK_AUTHZ_DENY);
    assert_int_equal(authz(&n1, "list", "/apis/apps/v1/deployments", NULL), MINIK_AUTHZ_DENY);
}

static void resource_table(void **state)
{
    const minik_resource_t *d = minik_resource_find("apps", "v1", "deployments");
    assert_non_null(d);
    assert_string_equal(minik_resource_api_version(d), "apps/v1");
    assert_true(minik_resource_has_subresource(d, "scale"));
    assert_true(minik_resource_has_subresource(d, "status"));
    assert_false(minik_resource_has_subresource(d, "sca"));
    assert_false(minik_resource_has_subresource(d, "binding"));
    assert_ptr_equal(minik_resource_by_kind("Deployment"), d);
    assert_null(minik_resource_find("", "v1", "deployments"));
    assert_string_equal(minik_resource_api_version(minik_resource_by_kind("Pod")), "v1");
    assert_false(minik_resource_by_kind("Node")->namespaced);
}

static void metrics_text(void **state)
{
    minik_metrics_t *m = minik_metrics_new();
    minik_metrics_observe(m, "get", "pods", 200, 0.002);
    minik_metrics_observe(m, "get", "pods", 200, 0.3);
    minik_metrics_observe(m, "get", "pods", 404, 0.0001);
    minik_metrics_observe(m, NULL, NULL, 400, 0);
    cleanup_buf minik_buf_t out = MINIK_BUF_INIT;
    minik_metrics_render(m, &out);
    assert_non_null(
        strstr(out.data,
               "minik_apiserver_requests_total{verb=\"get\",resource=\"pods\",code=\"200\"} 2\n"));
    assert_non_null(
        strstr(out.data,
               "minik_apiserver_requests_total{verb=\"get\",resource=\"pods\",code=\"404\"} 1\n"));
    assert_non_null(strstr(out.data, "verb=\"unknown\",resource=\"unknown\",code=\"400\"} 1\n"));
    assert_non_null(strstr(out.data, "_bucket{verb=\"get\",le=\"0.0025\"} 2\n"));
    assert_non_null(strstr(out.data, "_bucket{verb=\"get\",le=\"0.5\"} 3\n"));
    assert_non_null(strstr(out.data, "_bucket{verb=\"get\",le=\"+Inf\"} 3\n"));
    assert_non_null(
        strstr(out.data, "minik_apiserver_request_duration_seconds_count{verb=\"get\"} 3\n"));
    minik_metrics_free(m);
}

static X509 *load_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    return x;
}

static void pki_creates_ca_and_server_cert_and_reissues_for_new_sans(void **state)
{
    char dir[] = "/tmp/minik-pki-XXXXXX";
    assert_non_null(mkdtemp(dir));
    minik_pki_paths_t p = {0};
    minik_error_t *err = NULL;
    char *sans1[] = {"api.example", NULL};
    assert_int_equal(minik_pki_ensure(dir, sans1, &p, &err), 0);
    struct stat st;
    assert_int_equal(stat(p.ca_key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(p.server_key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    X509 *ca = load_cert(p.ca_cert);
    X509 *srv = load_cert(p.server_cert);
    assert_int_equal(X509_check_ca(ca), 1);
    assert_int_equal(X509_check_host(srv, "api.example", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_host(srv, "other.example", 0, 0, NULL), 0);
    EVP_PKEY *capub = X509_get_pubkey(ca);
    assert_int_equal(X509_verify(srv, capub), 1);
    /* About ten years. */
    int days = 0, secs = 0;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(ca), X509_get0_notAfter(ca)),
                     1);
    assert_true(days >= 3650);
    X509_free(srv);
    minik_pki_paths_free(&p);

    /* Same names: nothing changes. A new SAN: new server cert, same CA. */
    cleanup_free char *before = NULL;
    size_t len;
    cleanup_free char *path = xasprintf("%s/tls/server.crt", dir);
    assert_int_equal(minik_file_read(path, 1 << 20, &before, &len, &err), 0);
    assert_int_equal(minik_pki_ensure(dir, sans1, &p, &err), 0);
    cleanup_free char *same = NULL;
    assert_int_equal(minik_file_read(path, 1 << 20, &same, &len, &err), 0);
    assert_string_equal(before, same);
    minik_pki_paths_free(&p);
    char *sans2[] = {"api.example", "10.1.2.3", NULL};
    assert_int_equal(minik_pki_ensure(dir, sans2, &p, &err), 0);
    srv = load_cert(p.server_cert);
    assert_int_equal(X509_check_ip_asc(srv, "10.1.2.3", 0), 1);
    assert_int_equal(X509_verify(srv, capub), 1);
    X509_free(srv);
    EVP_PKEY_free(capub);
    X509_free(ca);
    minik_pki_paths_free(&p);
    assert_int_equal(minik_rm_rf(dir, &err), 0);
}

static void tls_errors_name_what_failed_and_openssl_reason(void **state)
{
    /* The OpenSSL error queue becomes one message, and is left empty. */
    cleanup_error minik_error_t *err = NULL;
    SSL_CTX *ctx = NULL;
    assert_true(minik_tls_server_ctx_new("/nonexistent/server.crt", "/nonexistent/server.key", &ctx,
                                         &err) < 0);
    assert_null(ctx);
    assert_true(minik_str_has_prefix(err->msg, "load server certificate: error:"));
    assert_int_equal(ERR_peek_error(), 0);
    minik_error_clear(&err);
    assert_int_equal(minik_tls_error(&err, "encode PEM"), -1);
    assert_string_equal(err->msg, "encode PEM: unknown error");
    /* pki.c reports through the same helper: a damaged CA key names its path. */
    char dir[] = "/tmp/minik-tls-XXXXXX";
    assert_non_null(mkdtemp(dir));
    minik_pki_paths_t p = {0};
    minik_error_clear(&err);
    assert_int_equal(minik_pki_ensure(dir, NULL, &p, &err), 0);
    assert_int_equal(minik_file_write_atomic(p.ca_key, "junk\n", 5, 0600, &err), 0);
    minik_pki_paths_free(&p);
    assert_true(minik_pki_ensure(dir, NULL, &p, &err) < 0);
    cleanup_free char *want = xasprintf("load cluster CA: %s/tls/ca.key: error:", dir);
    assert_true(minik_str_has_prefix(err->msg, want));
    minik_pki_paths_free(&p);
    minik_error_clear(&err);
    assert_int_equal(minik_rm_rf(dir, &err), 0);
}

static void table_age_and_pod_rows(void **state)
{
    static const struct {
        int64_t s;
        const char *want;
    } ages[] = {{0, "0s"},           {59, "59s"},
                {119, "119s"},       {125, "2m5s"},
                {3599, "59m"},       {4 * 3600 + 120, "4h2m"},
                {20 * 3600, "20h"},  {3 * 86400 + 3600, "3d1h"},
                {30 * 86400, "30d"}, {-5, "0s"}};
    char buf[32];
    for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
        minik_api_table_age(ages[i].s, buf, sizeof(buf));
        assert_string_equal(buf, ages[i].want);
    }
    assert_true(
        minik_api_table_wanted("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"));
    assert_false(minik_api_table_wanted("application/json"));
    assert_false(minik_api_table_wanted(NULL));

    cleanup_cjson cJSON *pods =
        J("[{\"metadata\":{\"name\":\"a\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},"
          "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{},{}]},"
          "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.2\",\"containerStatuses\":"
          "[{\"ready\":true,\"restartCount\":1},{\"ready\":false,\"restartCount\":2}]}},"
          "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"containers\":[{}]}}]");
    time_t now = 1767225600 + 90; /* 2026-01-01T00:01:30Z */
    cleanup_cjson cJSON *t = minik_api_table_new("Pod", pods, "7", now, true);
    assert_json(cJSON_GetObjectItem(t, "rows")->child->child,
                "[\"a\",\"1/2\",\"Running\",\"3\",\"90s\",\"10.0.0.2\",\"n1\"]");
    assert_json(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "rows"), 1)->child,
                "[\"b\",\"0/1\",\"Pending\",\"0\",\"<unknown>\",\"<none>\",\"<none>\"]");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(t, "columnDefinitions")), 7);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(t, "metadata"), "resourceVersion")->valuestring,
        "7");
    /* Endpoints: kubectl's column, ready ip:port over every port, three at most. */
    cleanup_cjson cJSON *eps =
        J("[{\"metadata\":{\"name\":\"web\"},\"subsets\":[{\"addresses\":[{\"ip\":\"10.42.0.5\"},"
          "{\"ip\":\"10.42.1.5\"}],\"notReadyAddresses\":[{\"ip\":\"10.42.2.5\"}],\"ports\":[{"
          "\"port\":8080},{\"port\":9100}]}]},{\"metadata\":{\"name\":\"none\"},\"subsets\":[]},"
          "{\"metadata\":{\"name\":\"one\"},\"subsets\":[{\"addresses\":[{\"ip\":\"10.42.0.6\"}],"
          "\"ports\":[{\"port\":80}]}]}]");
    cleanup_cjson cJSON *te = minik_api_table_new("Endpoints", eps, NULL, now, true);
    assert_json(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(te, "rows"), 0), "cells"),
        "[\"web\",\"10.42.0.5:8080,10.42.1.5:8080,10.42.0.5:9100 + 1 more...\","
        "\"<unknown>\"]");
    assert_json(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(te, "rows"), 1), "cells"),
        "[\"none\",\"<none>\",\"<unknown>\"]");
    assert_json(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(te, "rows"), 2), "cells"),
        "[\"one\",\"10.42.0.6:80\",\"<unknown>\"]");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(te, "columnDefinitions")), 3);
    cleanup_cjson cJSON *t2 = minik_api_table_new("Widget", pods, NULL, now, false);
    assert_null(cJSON_GetObjectItem(t2, "columnDefinitions"));
    assert_json(cJSON_GetObjectItem(t2, "rows")->child->child, "[\"a\",\"90s\"]");
}

static bool has(char **v, const char *s)
{
    for (size_t i = 0; v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static void certificate_names_cover_the_listen_address(void **state)
{
    char *extra[] = {"api.example", NULL};
    minik_apiserver_options_t o = {.host = "10.1.2.3", .tls_sans = extra};
    char **v = minik_apiserver_cert_names(&o);
    assert_true(has(v, "api.example"));
    assert_true(has(v, "10.1.2.3"));
    assert_int_equal(minik_strv_len(v), 2);
    minik_strv_free(v);
    /* A wildcard listen address: every local address (loopback is always there). */
    o = (minik_apiserver_options_t){.host = "0.0.0.0"};
    v = minik_apiserver_cert_names(&o);
    assert_true(has(v, "127.0.0.1"));
    for (size_t i = 0; v[i]; i++)
        assert_null(strstr(v[i], "fe80"));
    minik_strv_free(v);
    assert_true(minik_apiserver_is_loopback("127.0.0.2"));
    assert_true(minik_apiserver_is_loopback("::1"));
    assert_false(minik_apiserver_is_loopback("0.0.0.0"));
    assert_false(minik_apiserver_is_loopback("10.0.0.1"));
    assert_false(minik_apiserver_is_loopback("localhost"));
}

/* ---- TLS over memory BIOs: a real OpenSSL client against minik_tls ---------------- */

typedef struct pipe_end {
    minik_buf_t to_client; /* ciphertext the server produced */
    minik_buf_t plain;     /* plaintext the server received */
} pipe_end_t;

static void srv_cipher(const char *d, size_t n, void *ud)
{
    minik_buf_append(&((pipe_end_t *)ud)->to_client, d, n);
}

static void srv_plain(const char *d, size_t n, void *ud)
{
    minik_buf_append(&((pipe_end_t *)ud)->plain, d, n);
}

/* Move bytes both ways until neither side has anything to say. */
static void pump(SSL *client, BIO *c_in, BIO *c_out, minik_tls_t *srv, pipe_end_t *pe)
{
    for (int round = 0; round < 20; round++) {
        char buf[16384];
        int n;
        bool moved = false;
        while ((n = BIO_read(c_out, buf, sizeof(buf))) > 0) {
            minik_error_t *err = NULL;
            assert_int_equal(minik_tls_feed(srv, buf, (size_t)n, &err), 0);
            moved = true;
        }
        if (pe->to_client.len) {
            BIO_write(c_in, pe->to_client.data, (int)pe->to_client.len);
            minik_buf_reset(&pe->to_client);
            moved = true;
        }
        if (!SSL_is_init_finished(client))
            SSL_do_handshake(client);
        if (!moved && SSL_is_init_finished(client))
            return;
    }
}

static void tls_memory_bio_handshake_and_data_both_ways(void **state)
{
    char dir[] = "/tmp/minik-tls-XXXXXX";
    assert_non_null(mkdtemp(dir));
    minik_pki_paths_t p = {0};
    minik_error_t *err = NULL;
    assert_int_equal(minik_pki_ensure(dir, NULL, &p, &err), 0);
    SSL_CTX *sctx = NULL;
    assert_int_equal(minik_tls_server_ctx_new(p.server_cert, p.server_key, &sctx, &err), 0);
    pipe_end_t pe = {MINIK_BUF_INIT, MINIK_BUF_INIT};
    minik_tls_t *srv = minik_tls_new(sctx, srv_plain, srv_cipher, &pe);

    /* The client verifies the server against the cluster CA, for the name localhost. */
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    assert_int_equal(SSL_CTX_load_verify_locations(cctx, p.ca_cert, NULL), 1);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
    SSL *cl = SSL_new(cctx);
    SSL_set1_host(cl, "localhost");
    BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
    SSL_set_bio(cl, c_in, c_out);
    SSL_set_connect_state(cl);
    SSL_do_handshake(cl);
    pump(cl, c_in, c_out, srv, &pe);
    assert_true(SSL_is_init_finished(cl));
    assert_true(minik_tls_handshake_done(srv));
    assert_int_equal(SSL_get_verify_result(cl), X509_V_OK);

    assert_int_equal(SSL_write(cl, "GET / HTTP/1.1\r\n\r\n", 18), 18);
    pump(cl, c_in, c_out, srv, &pe);
    assert_int_equal(pe.plain.len, 18);
    assert_memory_equal(pe.plain.data, "GET / HTTP/1.1\r\n\r\n", 18);
    assert_int_equal(minik_tls_write(srv, "HTTP/1.1 200 OK\r\n", 17, &err), 0);
    BIO_write(c_in, pe.to_client.data, (int)pe.to_client.len);
    minik_buf_reset(&pe.to_client);
    char buf[64];
    assert_int_equal(SSL_read(cl, buf, sizeof(buf)), 17);
    assert_memory_equal(buf, "HTTP/1.1 200 OK\r\n", 17);

    /* Garbage where a record should be is a fatal error, not a hang. */
    assert_true(minik_tls_feed(srv, "\x17\x03\x03\x00\x05hello", 10, &err) < 0);
    assert_non_null(err);
    minik_error_clear(&err);

    SSL_free(cl);
    SSL_CTX_free(cctx);
    minik_tls_free(srv);
    SSL_CTX_free(sctx);
    minik_buf_free(&pe.to_client);
    minik_buf_free(&pe.plain);
    minik_pki_paths_free(&p);
    assert_int_equal(minik_rm_rf(dir, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_patch_rfc7386),
        cmocka_unit_test(json_patch_rfc6902_examples),
        cmocka_unit_test(strategic_merge_patch),
        cmocka_unit_test(tokens_generate_hash_parse),
        cmocka_unit_test(node_authorizer),
        cmocka_unit_test(resource_table),
        cmocka_unit_test(metrics_text),
        cmocka_unit_test(pki_creates_ca_and_server_cert_and_reissues_for_new_sans),
        cmocka_unit_test(tls_memory_bio_handshake_and_data_both_ways),
        cmocka_unit_test(tls_errors_name_what_failed_and_openssl_reason),
        cmocka_unit_test(table_age_and_pod_rows),
        cmocka_unit_test(certificate_names_cover_the_listen_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
