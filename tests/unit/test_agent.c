/* Unit tests for the agent's pure parts: pod spec -> OCI config (command/args and env
 * merge as Kubernetes does, env references, users, capabilities, resources, mounts,
 * seccomp), crash back-off, restart policy, log rendering, taints and pod status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "agent/logs.h"
#include "agent/podspec.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"

static cJSON *J(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    return j;
}

static char *args_of(const cJSON *cfg)
{
    const cJSON *a = cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "process"), "args");
    minik_buf_t b = MINIK_BUF_INIT;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (b.len)
            minik_buf_append_char(&b, ' ');
        minik_buf_append_str(&b, it->valuestring);
    }
    return b.data ? minik_buf_steal(&b) : strdup("");
}

static const char *env_of(const cJSON *cfg, const char *name)
{
    const cJSON *it;
    size_t n = strlen(name);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "process"), "env"))
    {
        if (strncmp(it->valuestring, name, n) == 0 && it->valuestring[n] == '=')
            return it->valuestring + n + 1;
    }
    return NULL;
}

/* Build a config for pod JSON `pod` (container 0) with image config `img`. */
static int build(const char *pod, const char *img, cJSON **cfg, minik_error_t **err)
{
    cleanup_cjson cJSON *p = J(pod);
    cleanup_cjson cJSON *i = img ? J(img) : NULL;
    cleanup_cjson cJSON *cms = J("{\"cfg\":{\"data\":{\"color\":\"blue\",\"size\":\"L\"}}}");
    cleanup_cjson cJSON *secs = J("{\"sec\":{\"data\":{\"pw\":\"s3\"}}}");
    minik_podspec_ctx_t ctx = {
        .pod = p,
        .container = cJSON_GetArrayItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(p, "spec"), "containers"), 0),
        .image_config = i,
        .rootfs = "/nonexistent-rootfs",
        .netns = "/run/ns/net",
        .ipcns = "/run/ns/ipc",
        .utsns = "/run/ns/uts",
        .volumes_dir = "/pods/u/volumes",
        .cgroups_path = "/minik/x",
        .node_name = "n1",
        .host_ip = "10.0.0.5",
        .configmaps = cms,
        .secrets = secs,
    };
    return minik_podspec_oci_config(&ctx, cfg, err);
}

#define POD(containers, extra)                                                                     \
    "{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns1\",\"uid\":\"u-1\"},\"spec\":{"            \
    "\"containers\":[" containers "]" extra "}}"

/* build() must fail with a message containing `want`. */
static void expect_build_error(const char *pod, const char *img, const char *want)
{
    cleanup_cjson cJSON *cfg = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_true(build(pod, img, &cfg, &err) < 0);
    if (!strstr(err->msg, want))
        fail_msg("error \"%s\" does not say \"%s\"", err->msg, want);
}

static void command_args_merge_like_kubernetes(void **state)
{
    const char *img = "{\"Entrypoint\":[\"/entry\"],\"Cmd\":[\"default\",\"arg\"]}";
    struct {
        const char *ctr, *want;
    } cases[] = {
        {"{\"name\":\"c\"}", "/entry default arg"},
        {"{\"name\":\"c\",\"command\":[\"/bin/x\"]}", "/bin/x"},
        {"{\"name\":\"c\",\"args\":[\"a\",\"b\"]}", "/entry a b"},
        {"{\"name\":\"c\",\"command\":[\"/bin/x\"],\"args\":[\"y\"]}", "/bin/x y"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        cleanup_free char *pod = NULL;
        pod = malloc(strlen(cases[k].ctr) + 200);
        sprintf(pod, "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[%s]}}",
                cases[k].ctr);
        cleanup_cjson cJSON *cfg = NULL;
        cleanup_error minik_error_t *err = NULL;
        assert_int_equal(build(pod, img, &cfg, &err), 0);
        cleanup_free char *a = args_of(cfg);
        assert_string_equal(a, cases[k].want);
    }
    /* Nothing to run at all is an error naming the container. */
    expect_build_error(POD("{\"name\":\"c\"}", ""), "{}", "container c: no command");
}

static void env_merges_image_then_pod_and_resolves_references(void **state)
{
    cleanup_cjson cJSON *cfg = NULL;
    cleanup_error minik_error_t *err = NULL;
    const char *pod = POD(
        "{\"name\":\"c\",\"command\":[\"run\",\"$(GREETING)-$(NOPE)\"],\"env\":["
        "{\"name\":\"GREETING\",\"value\":\"hello\"},"
        "{\"name\":\"BOTH\",\"value\":\"$(GREETING) $$(x)\"},"
        "{\"name\":\"C\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cfg\",\"key\":\"color\"}}},"
        "{\"name\":\"S\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"sec\",\"key\":\"pw\"}}},"
        "{\"name\":\"O\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"sec\",\"key\":\"no\","
        "\"optional\":true}}},"
        "{\"name\":\"N\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.nodeName\"}}},"
        "{\"name\":\"PN\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.namespace\"}}}],"
        "\"envFrom\":[{\"prefix\":\"CM_\",\"configMapRef\":{\"name\":\"cfg\"}}]}",
        "");
    assert_int_equal(
        build(pod, "{\"Env\":[\"GREETING=image\",\"PATH=/img/bin\",\"KEEP=1\"]}", &cfg, &err), 0);
    assert_string_equal(env_of(cfg, "GREETING"), "hello"); /* the pod wins */
    assert_string_equal(env_of(cfg, "KEEP"), "1");
    assert_string_equal(env_of(cfg, "PATH"), "/img/bin");
    assert_string_equal(env_of(cfg, "BOTH"), "hello $(x)");
    assert_string_equal(env_of(cfg, "C"), "blue");
    assert_string_equal(env_of(cfg, "S"), "s3");
    assert_null(env_of(cfg, "O"));
    assert_string_equal(env_of(cfg, "N"), "n1");
    assert_string_equal(env_of(cfg, "PN"), "ns1");
    assert_string_equal(env_of(cfg, "CM_size"), "L");
    assert_string_equal(env_of(cfg, "HOSTNAME"), "web");
    cleanup_free char *a = args_of(cfg);
    assert_string_equal(a, "run hello-$(NOPE)");
}

static void missing_references_are_errors_that_name_the_field(void **state)
{
    const char *pod =
        POD("{\"name\":\"c\",\"command\":[\"x\"],\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
            "{\"name\":\"B\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cfg\","
            "\"key\":\"missing\"}}}]}",
            "");
    expect_build_error(pod, NULL,
                       "container c: env[1] (B): configmap \"cfg\" has no key \"missing\"");
}

static void security_context_maps_to_process_and_linux(void **state)
{
    cleanup_cjson cJSON *cfg = NULL;
    cleanup_error minik_error_t *err = NULL;
    const char *pod =
        POD("{\"name\":\"c\",\"command\":[\"x\"],\"securityContext\":{\"runAsUser\":1000,"
            "\"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":false,"
            "\"capabilities\":{\"drop\":[\"ALL\"],\"add\":[\"NET_BIND_SERVICE\"]},"
            "\"seccompProfile\":{\"type\":\"Unconfined\"}}}",
            ",\"securityContext\":{\"runAsGroup\":2000,\"runAsNonRoot\":true,\"fsGroup\":3000}");
    assert_int_equal(build(pod, "{\"User\":\"0\"}", &cfg, &err), 0);
    const cJSON *proc = cJSON_GetObjectItem(cfg, "process");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(proc, "user"), "uid")->valueint, 1000);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(proc, "user"), "gid")->valueint, 2000);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(proc, "noNewPrivileges")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "root"), "readonly")));
    const cJSON *eff = cJSON_GetObjectItem(cJSON_GetObjectItem(proc, "capabilities"), "effective");
    assert_int_equal(cJSON_GetArraySize(eff), 1);
    assert_string_equal(cJSON_GetArrayItem(eff, 0)->valuestring, "CAP_NET_BIND_SERVICE");
    const cJSON *sc = cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "linux"), "seccomp");
    assert_string_equal(cJSON_GetObjectItem(sc, "defaultAction")->valuestring, "SCMP_ACT_ALLOW");
    /* runAsNonRoot with a root user is refused. */
    expect_build_error(
        POD("{\"name\":\"c\",\"command\":[\"x\"]}", ",\"securityContext\":{\"runAsNonRoot\":true}"),
        NULL, "runAsNonRoot");
    /* Unknown capabilities are named. */
    expect_build_error(POD("{\"name\":\"c\",\"command\":[\"x\"],\"securityContext\":{"
                           "\"capabilities\":{\"add\":[\"FLY\"]}}}",
                           ""),
                       NULL, "unknown capability \"FLY\"");
    /* A privileged container gets every capability, in number order; drops still apply. */
    cleanup_cjson cJSON *cfg4 = NULL;
    cleanup_error minik_error_t *err4 = NULL;
    assert_int_equal(build(POD("{\"name\":\"c\",\"command\":[\"x\"],\"securityContext\":{"
                               "\"privileged\":true,\"capabilities\":{\"drop\":[\"sys_boot\"]}}}",
                               ""),
                           NULL, &cfg4, &err4),
                     0);
    const cJSON *eff4 = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cfg4, "process"), "capabilities"), "effective");
    assert_int_equal(cJSON_GetArraySize(eff4), 40);
    assert_string_equal(cJSON_GetArrayItem(eff4, 0)->valuestring, "CAP_CHOWN");
    assert_string_equal(cJSON_GetArrayItem(eff4, 21)->valuestring, "CAP_SYS_ADMIN");
    assert_string_equal(cJSON_GetArrayItem(eff4, 22)->valuestring, "CAP_SYS_NICE");
    assert_string_equal(cJSON_GetArrayItem(eff4, 39)->valuestring, "CAP_CHECKPOINT_RESTORE");
}

static void resources_and_namespaces_and_mounts(void **state)
{
    cleanup_cjson cJSON *cfg = NULL;
    cleanup_error minik_error_t *err = NULL;
    const char *pod = POD(
        "{\"name\":\"c\",\"command\":[\"x\"],\"resources\":{\"limits\":{\"cpu\":\"500m\","
        "\"memory\":\"64Mi\"},\"requests\":{\"cpu\":\"250m\"}},\"volumeMounts\":["
        "{\"name\":\"data\",\"mountPath\":\"/data\"},{\"name\":\"conf\",\"mountPath\":\"/etc/c\"},"
        "{\"name\":\"host\",\"mountPath\":\"/h\",\"readOnly\":true}]}",
        ",\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}},{\"name\":\"conf\",\"configMap\":{"
        "\"name\":\"cfg\"}},{\"name\":\"host\",\"hostPath\":{\"path\":\"/srv\"}}]");
    assert_int_equal(build(pod, NULL, &cfg, &err), 0);
    const cJSON *lx = cJSON_GetObjectItem(cfg, "linux");
    const cJSON *res = cJSON_GetObjectItem(lx, "resources");
    assert_int_equal(
        (int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(res, "memory"), "limit")->valuedouble,
        64 * 1024 * 1024);
    const cJSON *cpu = cJSON_GetObjectItem(res, "cpu");
    assert_int_equal(cJSON_GetObjectItem(cpu, "quota")->valueint, 50000);
    assert_int_equal(cJSON_GetObjectItem(cpu, "period")->valueint, 100000);
    assert_int_equal(cJSON_GetObjectItem(cpu, "shares")->valueint, 256);
    /* pid and mount per container; network, ipc and uts joined from the sandbox. */
    const cJSON *ns;
    int joined = 0, created = 0;
    cJSON_ArrayForEach(ns, cJSON_GetObjectItem(lx, "namespaces"))
    {
        if (cJSON_GetObjectItem(ns, "path"))
            joined++;
        else
            created++;
    }
    assert_int_equal(joined, 3);
    assert_int_equal(created, 2);
    const cJSON *m;
    int found = 0;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(cfg, "mounts"))
    {
        const char *dst = cJSON_GetObjectItem(m, "destination")->valuestring;
        const char *src = cJSON_GetObjectItem(m, "source")->valuestring;
        cleanup_free char *opts = cJSON_PrintUnformatted(cJSON_GetObjectItem(m, "options"));
        bool ro = strstr(opts, "\"ro\"") != NULL;
        if (strcmp(dst, "/data") == 0) {
            assert_string_equal(src, "/pods/u/volumes/data");
            assert_false(ro);
            found++;
        } else if (strcmp(dst, "/etc/c") == 0) {
            assert_string_equal(src, "/pods/u/volumes/conf");
            assert_true(ro); /* configMap volumes are read-only */
            found++;
        } else if (strcmp(dst, "/h") == 0) {
            assert_string_equal(src, "/srv");
            assert_true(ro);
            found++;
        }
    }
    assert_int_equal(found, 3);
    /* A mount of a volume the pod does not have is an error. */
    expect_build_error(POD("{\"name\":\"c\",\"command\":[\"x\"],\"volumeMounts\":[{\"name\":\"x\","
                           "\"mountPath\":\"/x\"}]}",
                           ""),
                       NULL, "volumeMounts[0]: no pod volume of that name");
}

static void backoff_doubles_caps_and_resets(void **state)
{
    int64_t d = minik_agent_backoff_next(0, 10000, 0);
    assert_int_equal(d, 10000);
    d = minik_agent_backoff_next(d, 10000, 1000);
    assert_int_equal(d, 20000);
    d = minik_agent_backoff_next(d, 10000, 1000);
    assert_int_equal(d, 40000);
    for (int i = 0; i < 10; i++)
        d = minik_agent_backoff_next(d, 10000, 1000);
    assert_int_equal(d, 300000);
    /* Ten minutes of running starts over. */
    assert_int_equal(minik_agent_backoff_next(d, 10000, 10 * 60 * 1000), 10000);
    assert_true(minik_agent_should_restart("Always", 0));
    assert_true(minik_agent_should_restart(NULL, 0));
    assert_false(minik_agent_should_restart("OnFailure", 0));
    assert_true(minik_agent_should_restart("OnFailure", 2));
    assert_false(minik_agent_should_restart("Never", 2));
}

static void logs_render_joins_partials_tails_and_timestamps(void **state)
{
    const char *in = "2026-01-01T00:00:00.1Z stdout F one\n"
                     "garbage line\n"
                     "2026-01-01T00:00:00.2Z stderr P tw\n"
                     "2026-01-01T00:00:00.3Z stderr F o\n"
                     "2026-01-01T00:00:00.4Z stdout F three\n";
    minik_buf_t b = MINIK_BUF_INIT;
    assert_int_equal(minik_agent_logs_render(in, strlen(in), -1, false, &b), 3);
    assert_string_equal(b.data, "one\ntwo\nthree\n");
    minik_buf_reset(&b);
    assert_int_equal(minik_agent_logs_render(in, strlen(in), 2, false, &b), 2);
    assert_string_equal(b.data, "two\nthree\n");
    minik_buf_reset(&b);
    assert_int_equal(minik_agent_logs_render(in, strlen(in), 1, true, &b), 1);
    assert_string_equal(b.data, "2026-01-01T00:00:00.4Z three\n");
    minik_buf_reset(&b);
    assert_int_equal(minik_agent_logs_render(in, strlen(in), 0, false, &b), 0);
    assert_true(b.len == 0);
    minik_buf_free(&b);
}

static void taints_parse_and_reject_bad_effects(void **state)
{
    cJSON *t = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_agent_parse_taint("gpu=yes:NoSchedule", &t, &err), 0);
    cleanup_free char *s = cJSON_PrintUnformatted(t);
    assert_string_equal(s, "{\"key\":\"gpu\",\"value\":\"yes\",\"effect\":\"NoSchedule\"}");
    cJSON_Delete(t);
    assert_true(minik_agent_parse_taint("gpu=yes:Sometimes", &t, &err) < 0);
    assert_non_null(strstr(err->msg, "effect must be"));
    minik_error_clear(&err);
    assert_true(minik_agent_parse_taint("novalue", &t, &err) < 0);
}

static void status_phases_and_conditions(void **state)
{
    cleanup_cjson cJSON *pod = J(POD("{\"name\":\"c\",\"image\":\"i\"}", ""));
    agent_ctr_t c = {.name = "c"};
    agent_pod_t p = {.ctrs = &c, .n_ctrs = 1, .start_time = "2026-01-01T00:00:00Z"};
    cJSON *st = minik_agent_pod_status(&p, pod, "10.0.0.5");
    assert_string_equal(cJSON_GetObjectItem(st, "phase")->valuestring, "Pending");
    cJSON_Delete(st);
    c.id = "x";
    c.pid = 42;
    c.started = c.ready = true;
    st = minik_agent_pod_status(&p, pod, "10.0.0.5");
    assert_string_equal(cJSON_GetObjectItem(st, "phase")->valuestring, "Running");
    cleanup_free char *s = cJSON_PrintUnformatted(st);
    assert_non_null(strstr(s, "{\"type\":\"Ready\",\"status\":\"True\""));
    cJSON_Delete(st);
    /* Crashed, waiting in back-off: still Running, not Ready, reason shown. */
    c.id = NULL;
    c.pid = 0;
    c.has_last = true;
    c.last_exit = 3;
    c.restarts = 2;
    c.wait_reason = "CrashLoopBackOff";
    st = minik_agent_pod_status(&p, pod, NULL);
    assert_string_equal(cJSON_GetObjectItem(st, "phase")->valuestring, "Running");
    cleanup_free char *s2 = cJSON_PrintUnformatted(st);
    assert_non_null(strstr(s2, "\"waiting\":{\"reason\":\"CrashLoopBackOff\"}"));
    assert_non_null(strstr(s2, "\"lastState\":{\"terminated\":{\"exitCode\":3"));
    assert_non_null(strstr(s2, "\"restartCount\":2"));
    cJSON_Delete(st);
    c.done = true;
    st = minik_agent_pod_status(&p, pod, NULL);
    assert_string_equal(cJSON_GetObjectItem(st, "phase")->valuestring, "Failed");
    cJSON_Delete(st);
    c.last_exit = 0;
    st = minik_agent_pod_status(&p, pod, NULL);
    assert_string_equal(cJSON_GetObjectItem(st, "phase")->valuestring, "Succeeded");
    cJSON_Delete(st);
}

static void named_ports_resolve_to_the_containers_port(void **state)
{
    (void)state;
    cJSON *pod = cJSON_Parse(
        "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"name\":\"http\","
        "\"containerPort\":8080},{\"name\":\"admin\",\"containerPort\":9090}]},"
        "{\"name\":\"b\",\"ports\":[{\"name\":\"http\",\"containerPort\":81}]}],"
        "\"initContainers\":[{\"name\":\"i\",\"ports\":[{\"name\":\"x\",\"containerPort\":7}]}]}}");
    assert_int_equal(minik_agent_named_port(pod, "a", "http"), 8080);
    assert_int_equal(minik_agent_named_port(pod, "a", "admin"), 9090);
    assert_int_equal(minik_agent_named_port(pod, "b", "http"), 81); /* per container */
    assert_int_equal(minik_agent_named_port(pod, "i", "x"), 7);
    assert_int_equal(minik_agent_named_port(pod, "b", "admin"), -1);
    assert_int_equal(minik_agent_named_port(pod, "nope", "http"), -1);
    assert_int_equal(minik_agent_named_port(NULL, "a", "http"), -1);
    cJSON_Delete(pod);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(command_args_merge_like_kubernetes),
        cmocka_unit_test(env_merges_image_then_pod_and_resolves_references),
        cmocka_unit_test(missing_references_are_errors_that_name_the_field),
        cmocka_unit_test(security_context_maps_to_process_and_linux),
        cmocka_unit_test(resources_and_namespaces_and_mounts),
        cmocka_unit_test(backoff_doubles_caps_and_resets),
        cmocka_unit_test(logs_render_joins_partials_tails_and_timestamps),
        cmocka_unit_test(taints_parse_and_reject_bad_effects),
        cmocka_unit_test(named_ports_resolve_to_the_containers_port),
        cmocka_unit_test(status_phases_and_conditions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
