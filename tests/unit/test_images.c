/* Unit tests for agent/images: references, manifests and indexes, platform selection,
 * WWW-Authenticate challenges, docker config.json credentials, and the blob store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/images/internal.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define D4 "sha256:4444444444444444444444444444444444444444444444444444444444444444"

/* ---- references ---------------------------------------------------------------------- */

static void expect_ref(const char *in, const char *full)
{
    minik_image_ref_t *r = NULL;
    cleanup_error minik_error_t *err = NULL;
    int ret = minik_image_ref_parse(in, &r, &err);
    if (ret < 0)
        fail_msg("parse \"%s\": %s", in, err->msg);
    cleanup_free char *s = minik_image_ref_string(r);
    if (strcmp(s, full) != 0)
        fail_msg("\"%s\" normalised to \"%s\", expected \"%s\"", in, s, full);
    minik_image_ref_free(r);
}

static void expect_bad_ref(const char *in, const char *msg_part)
{
    minik_image_ref_t *r = NULL;
    cleanup_error minik_error_t *err = NULL;
    int ret = minik_image_ref_parse(in, &r, &err);
    if (ret == 0) {
        cleanup_free char *s = minik_image_ref_string(r);
        minik_image_ref_free(r);
        fail_msg("\"%s\" was accepted as \"%s\"", in, s);
    }
    if (!strstr(err->msg, msg_part))
        fail_msg("\"%s\": error \"%s\" does not mention \"%s\"", in, err->msg, msg_part);
}

static void reference_normalises_like_docker(void **state)
{
    expect_ref("nginx", "docker.io/library/nginx:latest");
    expect_ref("nginx:1.27", "docker.io/library/nginx:1.27");
    expect_ref("bitnami/redis", "docker.io/bitnami/redis:latest");
    expect_ref("docker.io/nginx", "docker.io/library/nginx:latest");
    expect_ref("index.docker.io/library/nginx:1", "docker.io/library/nginx:1");
    expect_ref("localhost/app", "localhost/app:latest");
    expect_ref("localhost:5000/a/b:t", "localhost:5000/a/b:t");
    expect_ref("registry.lan:5000/app:v3", "registry.lan:5000/app:v3");
    expect_ref("127.0.0.1:5000/x/y/z", "127.0.0.1:5000/x/y/z:latest");
    expect_ref("host/x@" D1, "docker.io/host/x@" D1);
    expect_ref("reg.example/x@" D1, "reg.example/x@" D1);
    expect_ref("reg.example/x:t@" D1, "reg.example/x:t@" D1);
    expect_ref("busybox@" D2, "docker.io/library/busybox@" D2);
    expect_ref("a__b/c-d--e.f:V_1.0-rc", "docker.io/a__b/c-d--e.f:V_1.0-rc");
    expect_ref("[::1]:5000/app", "[::1]:5000/app:latest");

    minik_image_ref_t *r = NULL;
    assert_int_equal(minik_image_ref_parse("busybox", &r, NULL), 0);
    assert_string_equal(minik_image_ref_endpoint(r), "registry-1.docker.io");
    cleanup_free char *name = minik_image_ref_name(r);
    assert_string_equal(name, "docker.io/library/busybox");
    minik_image_ref_free(r);
}

static void reference_refuses_bad_input(void **state)
{
    expect_bad_ref("", "empty");
    expect_bad_ref("Nginx", "lowercase");
    expect_bad_ref("docker.io/Library/nginx", "lowercase");
    expect_bad_ref("nginx:", "bad tag");
    expect_bad_ref("nginx:-x", "bad tag");
    expect_bad_ref("nginx:.x", "bad tag");
    expect_bad_ref("nginx:a/b", "bad registry");
    expect_bad_ref("reg.example/a:b/c", "bad repository path");
    expect_bad_ref("a//b", "bad repository path");
    expect_bad_ref("a/b/", "bad repository path");
    expect_bad_ref("-a", "bad repository path");
    expect_bad_ref("a..b", "bad repository path");
    expect_bad_ref("x@sha256:abc", "64 lowercase hex");
    expect_bad_ref("x@md5:0123", "only sha256");
    expect_bad_ref("x@sha256:1111111111111111111111111111111111111111111111111111111111111ABC",
                   "64 lowercase hex");
    expect_bad_ref("1111111111111111111111111111111111111111111111111111111111111111", "image ID");
    expect_bad_ref("host:99999999/x", "bad registry");
    expect_bad_ref("-bad.host/x", "bad registry");
    char longtag[200];
    memset(longtag, 'a', sizeof(longtag));
    memcpy(longtag, "x:", 2);
    longtag[sizeof(longtag) - 1] = '\0';
    expect_bad_ref(longtag, "bad tag");
    char longname[300];
    memset(longname, 'a', sizeof(longname));
    longname[sizeof(longname) - 1] = '\0';
    expect_bad_ref(longname, "longer than 255");
}

/* ---- manifests ----------------------------------------------------------------------- */

static const char *oci_manifest =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1
    "\",\"size\":100},"
    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D2
    "\",\"size\":2000},"
    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" D3
    "\",\"size\":3000}]}";

static const char *docker_list =
    "{\"schemaVersion\":2,\"mediaType\":"
    "\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":["
    "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D1
    "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
    "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D2
    "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
    "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D3
    "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D4
    "\",\"size\":1,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}";

static void manifest_parses_oci_manifest(void **state)
{
    minik_image_manifest_t *m = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_image_manifest_parse(oci_manifest, strlen(oci_manifest), NULL, &m, &err),
                     0);
    assert_false(m->is_index);
    assert_string_equal(m->media_type, MINIK_MT_OCI_MANIFEST);
    assert_string_equal(m->config.digest, D1);
    assert_int_equal(m->config.size, 100);
    assert_int_equal(m->n_layers, 2);
    assert_string_equal(m->layers[1].digest, D3);
    assert_int_equal(m->layers[1].size, 3000);
    minik_image_manifest_free(m);
}

static void manifest_parses_docker_schema2_by_content_type(void **state)
{
    /* No mediaType in the body: the Content-Type header decides. */
    const char *doc =
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":"
        "\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" D1 "\",\"size\":7},"
        "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
        "\"digest\":\"" D2 "\",\"size\":9}]}";
    minik_image_manifest_t *m = NULL;
    assert_int_equal(minik_image_manifest_parse(
                         doc, strlen(doc), MINIK_MT_DOCKER_MANIFEST "; charset=utf-8", &m, NULL),
                     0);
    assert_string_equal(m->media_type, MINIK_MT_DOCKER_MANIFEST);
    assert_int_equal(m->n_layers, 1);
    minik_image_manifest_free(m);
}

static void manifest_parses_index_and_selects_platform(void **state)
{
    minik_image_manifest_t *m = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_image_manifest_parse(docker_list, strlen(docker_list), NULL, &m, &err),
                     0);
    assert_true(m->is_index);
    assert_int_equal(m->n_manifests, 4);

    struct {
        const char *want, *digest;
    } cases[] = {
        {"linux/amd64", D3},
        {"linux/arm64", D2},
        {"linux/arm64/v8", D2},
        {"linux/arm/v7", D1},
        /* v7 runs v6 */ {"linux/arm/v6", D1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        minik_platform_t p;
        assert_int_equal(minik_platform_parse(cases[i].want, &p, NULL), 0);
        const minik_descriptor_t *d = NULL;
        assert_int_equal(minik_image_manifest_select_platform(m, &p, &d, NULL), 0);
        if (strcmp(d->digest, cases[i].digest) != 0)
            fail_msg("%s selected %s", cases[i].want, d->digest);
        minik_platform_clear(&p);
    }

    minik_platform_t p;
    assert_int_equal(minik_platform_parse("linux/arm/v5", &p, NULL), 0);
    const minik_descriptor_t *d = NULL;
    assert_int_equal(minik_image_manifest_select_platform(m, &p, &d, &err), -ENOENT);
    assert_non_null(strstr(err->msg, "linux/arm/v5"));
    assert_non_null(strstr(err->msg, "linux/arm64/v8"));
    assert_null(strstr(err->msg, "unknown")); /* attestation entries are not offered */
    minik_platform_clear(&p);
    minik_image_manifest_free(m);
}

static void platform_prefers_exact_variant(void **state)
{
    const char *doc = "{\"schemaVersion\":2,\"manifests\":["
                      "{\"digest\":\"" D1 "\",\"size\":1,\"platform\":{\"os\":\"linux\","
                      "\"architecture\":\"arm\",\"variant\":\"v6\"}},"
                      "{\"digest\":\"" D2 "\",\"size\":1,\"platform\":{\"os\":\"linux\","
                      "\"architecture\":\"arm\",\"variant\":\"v7\"}}]}";
    minik_image_manifest_t *m = NULL;
    assert_int_equal(minik_image_manifest_parse(doc, strlen(doc), NULL, &m, NULL), 0);
    assert_true(m->is_index); /* no mediaType: the "manifests" shape says index */
    minik_platform_t p;
    assert_int_equal(minik_platform_parse("linux/arm/v7", &p, NULL), 0);
    const minik_descriptor_t *d = NULL;
    assert_int_equal(minik_image_manifest_select_platform(m, &p, &d, NULL), 0);
    assert_string_equal(d->digest, D2);
    minik_platform_clear(&p);
    minik_image_manifest_free(m);

    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_platform_parse("linux", &p, &err) < 0);
    assert_non_null(strstr(err->msg, "os/arch"));
    assert_int_equal(minik_platform_parse(NULL, &p, NULL), 0); /* host */
    assert_string_equal(p.os, "linux");
    assert_non_null(p.arch);
    minik_platform_clear(&p);
}

static void expect_bad_manifest(const char *doc, const char *msg_part)
{
    minik_image_manifest_t *m = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_image_manifest_parse(doc, strlen(doc), NULL, &m, &err) == 0) {
        minik_image_manifest_free(m);
        fail_msg("accepted: %s", doc);
    }
    if (!strstr(err->msg, msg_part))
        fail_msg("error \"%s\" does not mention \"%s\"", err->msg, msg_part);
}

static void manifest_refuses_bad_documents(void **state)
{
    expect_bad_manifest("", "not valid JSON");
    expect_bad_manifest("[]", "JSON object");
    expect_bad_manifest("{\"schemaVersion\":1,\"fsLayers\":[]}", "schema 1");
    expect_bad_manifest("{\"schemaVersion\":3,\"layers\":[]}", "schemaVersion must be 2");
    expect_bad_manifest("{\"schemaVersion\":2,\"mediaType\":\"text/plain\"}",
                        "unsupported media type");
    expect_bad_manifest("{\"schemaVersion\":2,\"layers\":[]}", "config");
    expect_bad_manifest("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},"
                        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
                        "\"digest\":\"sha256:xyz\",\"size\":1}]}",
                        "layers[0]: unsupported digest");
    expect_bad_manifest("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":-1},"
                        "\"layers\":[]}",
                        "config: size must be a non-negative integer");
    expect_bad_manifest("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1.5},"
                        "\"layers\":[]}",
                        "non-negative integer");
    expect_bad_manifest("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},"
                        "\"layers\":[{\"mediaType\":\"application/x-helm\",\"digest\":\"" D2
                        "\",\"size\":1}]}",
                        "unsupported layer type");
    expect_bad_manifest("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
                        "vnd.cncf.helm.config.v1+json\",\"digest\":\"" D1 "\",\"size\":1},"
                        "\"layers\":[]}",
                        "not a container image");
    expect_bad_manifest("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" D1
                        "\",\"size\":1,\"platform\":\"linux\"}]}",
                        "manifests[0]: platform must be an object");
    expect_bad_manifest("{\"schemaVersion\":2,\"manifests\":{}}", "must be an array");
}

/* ---- authentication ------------------------------------------------------------------ */

static void auth_parses_bearer_and_basic_challenges(void **state)
{
    minik_auth_challenge_t *c = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(
        minik_auth_parse_challenge(
            "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
            "scope=\"repository:library/nginx:pull\"",
            &c, &err),
        0);
    assert_string_equal(c->scheme, "bearer");
    assert_string_equal(c->realm, "https://auth.docker.io/token");
    assert_string_equal(c->service, "registry.docker.io");
    assert_string_equal(c->scope, "repository:library/nginx:pull");
    assert_null(c->error);
    minik_auth_challenge_free(c);

    assert_int_equal(minik_auth_parse_challenge("Basic realm=\"basic-realm\"", &c, NULL), 0);
    assert_string_equal(c->scheme, "basic");
    assert_string_equal(c->realm, "basic-realm");
    minik_auth_challenge_free(c);

    /* Token values, escapes, odd spacing, a second challenge after the first. */
    assert_int_equal(minik_auth_parse_challenge("BEARER  realm = \"http://h/t?a=1\" , "
                                                "error=\"invalid_token\", scope=\"a\\\"b\", "
                                                "Basic realm=x",
                                                &c, NULL),
                     0);
    assert_string_equal(c->scheme, "bearer");
    assert_string_equal(c->realm, "http://h/t?a=1");
    assert_string_equal(c->error, "invalid_token");
    assert_string_equal(c->scope, "a\"b");
    minik_auth_challenge_free(c);
    assert_int_equal(
        minik_auth_parse_challenge("Bearer realm=https://h/token,service=svc", &c, NULL), 0);
    assert_string_equal(c->realm, "https://h/token");
    assert_string_equal(c->service, "svc");
    minik_auth_challenge_free(c);
}

static void auth_refuses_bad_challenges(void **state)
{
    const char *bad[] = {"",
                         "   ",
                         "Bearer service=\"x\"",
                         "Bearer realm=\"unterminated",
                         "Bearer realm=\"x\", =oops",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        minik_auth_challenge_t *c = NULL;
        cleanup_error minik_error_t *err = NULL;
        if (minik_auth_parse_challenge(bad[i], &c, &err) == 0) {
            minik_auth_challenge_free(c);
            fail_msg("accepted \"%s\"", bad[i]);
        }
        assert_non_null(strstr(err->msg, "WWW-Authenticate"));
    }
}

static void auth_reads_docker_config_json(void **state)
{
    /* "alice:s3cr:et" -> YWxpY2U6czNjcjpldA== */
    const char *cfg = "{\"auths\":{"
                      "\"https://index.docker.io/v1/\":{\"auth\":\"YWxpY2U6czNjcjpldA==\"},"
                      "\"registry.lan:5000\":{\"username\":\"bob\",\"password\":\"pw\"},"
                      "\"http://127.0.0.1:5001/v2/\":{\"auth\":\"Ym9iOng=\"},"
                      "\"tok.example\":{\"registrytoken\":\"abc\"}},"
                      "\"credsStore\":\"desktop\"}";
    minik_cred_t *c = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_auth_lookup(cfg, "docker.io", &c, &err), 0);
    assert_non_null(c);
    assert_string_equal(c->username, "alice");
    assert_string_equal(c->password, "s3cr:et"); /* only the first ':' separates */
    minik_cred_free(c);
    assert_int_equal(minik_auth_lookup(cfg, "registry.lan:5000", &c, NULL), 0);
    assert_string_equal(c->username, "bob");
    assert_string_equal(c->password, "pw");
    minik_cred_free(c);
    assert_int_equal(minik_auth_lookup(cfg, "127.0.0.1:5001", &c, NULL), 0);
    assert_string_equal(c->username, "bob");
    assert_string_equal(c->password, "x");
    minik_cred_free(c);
    assert_int_equal(minik_auth_lookup(cfg, "tok.example", &c, NULL), 0);
    assert_string_equal(c->registry_token, "abc");
    minik_cred_free(c);
    assert_int_equal(minik_auth_lookup(cfg, "other.example", &c, NULL), 0);
    assert_null(c);
    assert_int_equal(minik_auth_lookup(NULL, "docker.io", &c, NULL), 0);
    assert_null(c);

    /* Several pull secrets: the first one naming the registry wins. */
    const char *many = "[{\"auths\":{\"other\":{\"auth\":\"dTE6cDE=\"}}},"
                       "{\"auths\":{\"h:1\":{\"auth\":\"dTI6cDI=\"}}},"
                       "{\"auths\":{\"h:1\":{\"auth\":\"dTM6cDM=\"}}}]";
    assert_int_equal(minik_auth_lookup(many, "h:1", &c, NULL), 0);
    assert_string_equal(c->username, "u2");
    assert_string_equal(c->password, "p2");
    minik_cred_free(c);
    assert_int_equal(minik_auth_lookup(many, "nowhere", &c, NULL), 0);
    assert_null(c);

    /* Legacy .dockercfg: the host map at the top level. */
    assert_int_equal(minik_auth_lookup("{\"quay.io\":{\"auth\":\"dTpw\"}}", "quay.io", &c, NULL),
                     0);
    assert_string_equal(c->username, "u");
    assert_string_equal(c->password, "p");
    minik_cred_free(c);
}

static void auth_refuses_bad_config_json(void **state)
{
    struct {
        const char *doc, *msg;
    } bad[] = {
        {"not json", "not a JSON object"},
        {"{\"auths\":[]}", "\"auths\" must be an object"},
        {"{\"auths\":{\"h\":{\"auth\":\"!!!!\"}}}", "not base64"},
        {"{\"auths\":{\"h\":{\"auth\":\"bm9jb2xvbg==\"}}}", "user:password"},
        {"{\"auths\":{\"h\":{\"email\":\"x\"}}}", "need \"auth\""},
        {"{\"auths\":{\"h\":\"str\"}}", "expected an object"},
        {"[{\"auths\":{}}, 7]", "credentials[1]: credentials: not a JSON object"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        minik_cred_t *c = NULL;
        cleanup_error minik_error_t *err = NULL;
        if (minik_auth_lookup(bad[i].doc, "h", &c, &err) == 0) {
            minik_cred_free(c);
            fail_msg("accepted %s", bad[i].doc);
        }
        if (!strstr(err->msg, bad[i].msg))
            fail_msg("%s: error \"%s\" lacks \"%s\"", bad[i].doc, err->msg, bad[i].msg);
    }
}

/* ---- blob store ---------------------------------------------------------------------- */

static char *make_tmp(void)
{
    char *d = xstrdup("/tmp/minik-unit-images-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void blobstore_verifies_and_renames(void **state)
{
    cleanup_free char *dir = make_tmp();
    cleanup_error minik_error_t *err = NULL;
    /* sha256("hello") */
    const char *hello = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    cleanup_free char *d = NULL;
    assert_int_equal(minik_blob_put(dir, "hello", 5, hello, &d, &err), 0);
    assert_string_equal(d, hello);
    assert_true(minik_blob_exists(dir, hello));
    cleanup_free char *data = NULL;
    size_t len = 0;
    assert_int_equal(minik_blob_read(dir, hello, 100, &data, &len, NULL), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "hello", 5);

    /* Wrong content for a digest: refused, nothing installed, no temp file left. */
    assert_true(minik_blob_put(dir, "hellp", 5, D1, NULL, &err) < 0);
    assert_non_null(strstr(err->msg, "digest mismatch"));
    assert_false(minik_blob_exists(dir, D1));
    minik_error_clear(&err);

    /* More bytes than announced. */
    minik_blob_writer_t *w = NULL;
    assert_int_equal(minik_blob_writer_new(dir, NULL, 3, &w, NULL), 0);
    assert_true(minik_blob_writer_write(w, "abcd", 4, &err) < 0);
    assert_non_null(strstr(err->msg, "more data than"));
    minik_error_clear(&err);
    /* A reset starts over (a retried download). */
    assert_int_equal(minik_blob_writer_reset(w, NULL), 0);
    assert_int_equal(minik_blob_writer_write(w, "abc", 3, NULL), 0);
    cleanup_free char *abc = NULL;
    assert_int_equal(minik_blob_writer_commit(w, &abc, NULL), 0);
    minik_blob_writer_free(w);
    assert_true(minik_blob_exists(dir, abc));

    /* Corruption on disk is detected on read. */
    cleanup_free char *p = minik_blob_path(dir, hello);
    assert_int_equal(minik_file_write_atomic(p, "HELLO", 5, 0644, NULL), 0);
    free(data);
    data = NULL;
    assert_true(minik_blob_read(dir, hello, 100, &data, &len, &err) < 0);
    assert_non_null(strstr(err->msg, "corrupt"));

    cleanup_free char *cmd = xasprintf("ls -a %s/sha256 | grep -c tmp", dir);
    FILE *f = popen(cmd, "r");
    char out[16] = "";
    assert_non_null(fgets(out, sizeof(out), f));
    pclose(f);
    assert_string_equal(out, "0\n");
    assert_int_equal(minik_rm_rf(dir, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_normalises_like_docker),
        cmocka_unit_test(reference_refuses_bad_input),
        cmocka_unit_test(manifest_parses_oci_manifest),
        cmocka_unit_test(manifest_parses_docker_schema2_by_content_type),
        cmocka_unit_test(manifest_parses_index_and_selects_platform),
        cmocka_unit_test(platform_prefers_exact_variant),
        cmocka_unit_test(manifest_refuses_bad_documents),
        cmocka_unit_test(auth_parses_bearer_and_basic_challenges),
        cmocka_unit_test(auth_refuses_bad_challenges),
        cmocka_unit_test(auth_reads_docker_config_json),
        cmocka_unit_test(auth_refuses_bad_config_json),
        cmocka_unit_test(blobstore_verifies_and_renames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
