/* proto/: decoding, validation and defaulting of Kubernetes manifests, with real-world
 * manifests from the Kubernetes documentation written into the suite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/kinds.h"
#include "proto/manifest.h"
#include "proto/names.h"
#include "proto/validate.h"
#include "tests/unit/proto_helpers.h"

#define assert_str_at(obj, path, want)                                                             \
    do {                                                                                           \
        const cJSON *v_ = proto_at((obj), (path));                                                 \
        if (!cJSON_IsString(v_))                                                                   \
            fail_msg("%s: not a string", (path));                                                  \
        assert_string_equal(v_->valuestring, (want));                                              \
    } while (0)

#define assert_int_at(obj, path, want)                                                             \
    do {                                                                                           \
        const cJSON *v_ = proto_at((obj), (path));                                                 \
        if (!cJSON_IsNumber(v_))                                                                   \
            fail_msg("%s: not a number", (path));                                                  \
        assert_int_equal((long long)v_->valuedouble, (want));                                      \
    } while (0)

#define assert_diags(yaml, want)                                                                   \
    do {                                                                                           \
        char *got_ = proto_check((yaml), MINIK_VALIDATE_STRICT, NULL);                             \
        if (strcmp(got_, (want)) != 0)                                                             \
            fprintf(stderr, "got:\n%s", got_);                                                     \
        assert_string_equal(got_, (want));                                                         \
        free(got_);                                                                                \
    } while (0)

/* ---- real-world manifests ----------------------------------------------------------- */

/* https://kubernetes.io/docs/concepts/workloads/controllers/deployment/ */
static const char nginx_deployment[] = "apiVersion: apps/v1\n"
                                       "kind: Deployment\n"
                                       "metadata:\n"
                                       "  name: nginx-deployment\n"
                                       "  labels:\n"
                                       "    app: nginx\n"
                                       "spec:\n"
                                       "  replicas: 3\n"
                                       "  selector:\n"
                                       "    matchLabels:\n"
                                       "      app: nginx\n"
                                       "  template:\n"
                                       "    metadata:\n"
                                       "      labels:\n"
                                       "        app: nginx\n"
                                       "    spec:\n"
                                       "      containers:\n"
                                       "      - name: nginx\n"
                                       "        image: nginx:1.14.2\n"
                                       "        ports:\n"
                                       "        - containerPort: 80\n";

static void nginx_deployment_defaults_like_kubernetes(void **state)
{
    cJSON *d = proto_load_one(nginx_deployment);
    assert_str_at(d, "metadata.namespace", "default");
    assert_int_at(d, "spec.replicas", 3);
    assert_str_at(d, "spec.strategy.type", "RollingUpdate");
    assert_str_at(d, "spec.strategy.rollingUpdate.maxUnavailable", "25%");
    assert_str_at(d, "spec.strategy.rollingUpdate.maxSurge", "25%");
    assert_int_at(d, "spec.revisionHistoryLimit", 10);
    assert_int_at(d, "spec.progressDeadlineSeconds", 600);
    assert_str_at(d, "spec.template.spec.restartPolicy", "Always");
    assert_int_at(d, "spec.template.spec.terminationGracePeriodSeconds", 30);
    assert_str_at(d, "spec.template.spec.dnsPolicy", "ClusterFirst");
    assert_str_at(d, "spec.template.spec.schedulerName", "default-scheduler");
    assert_true(cJSON_IsObject(proto_at(d, "spec.template.spec.securityContext")));
    assert_str_at(d, "spec.template.spec.containers[0].imagePullPolicy", "IfNotPresent");
    assert_str_at(d, "spec.template.spec.containers[0].terminationMessagePath",
                  "/dev/termination-log");
    assert_str_at(d, "spec.template.spec.containers[0].terminationMessagePolicy", "File");
    assert_str_at(d, "spec.template.spec.containers[0].ports[0].protocol", "TCP");
    /* Pod-only defaults are not applied to templates, as in Kubernetes. */
    assert_null(proto_at(d, "spec.template.spec.enableServiceLinks"));
    assert_null(proto_at(d, "spec.template.metadata.namespace"));
    cJSON_Delete(d);
}

/* https://kubernetes.io/docs/tutorials/stateless-application/guestbook/ */
static const char guestbook[] = "apiVersion: apps/v1\n"
                                "kind: Deployment\n"
                                "metadata:\n"
                                "  name: redis-leader\n"
                                "  labels:\n"
                                "    app: redis\n"
                                "    role: leader\n"
                                "    tier: backend\n"
                                "spec:\n"
                                "  replicas: 1\n"
                                "  selector:\n"
                                "    matchLabels:\n"
                                "      app: redis\n"
                                "  template:\n"
                                "    metadata:\n"
                                "      labels:\n"
                                "        app: redis\n"
                                "        role: leader\n"
                                "        tier: backend\n"
                                "    spec:\n"
                                "      containers:\n"
                                "      - name: leader\n"
                                "        image: \"docker.io/redis:6.0.5\"\n"
                                "        resources:\n"
                                "          requests:\n"
                                "            cpu: 100m\n"
                                "            memory: 100Mi\n"
                                "        ports:\n"
                                "        - containerPort: 6379\n"
                                "---\n"
                                "apiVersion: v1\n"
                                "kind: Service\n"
                                "metadata:\n"
                                "  name: redis-leader\n"
                                "  labels:\n"
                                "    app: redis\n"
                                "    role: leader\n"
                                "    tier: backend\n"
                                "spec:\n"
                                "  ports:\n"
                                "  - port: 6379\n"
                                "    targetPort: 6379\n"
                                "  selector:\n"
                                "    app: redis\n"
                                "    role: leader\n"
                                "    tier: backend\n"
                                "---\n"
                                "apiVersion: apps/v1\n"
                                "kind: Deployment\n"
                                "metadata:\n"
                                "  name: frontend\n"
                                "spec:\n"
                                "  replicas: 3\n"
                                "  selector:\n"
                                "    matchLabels:\n"
                                "        app: guestbook\n"
                                "        tier: frontend\n"
                                "  template:\n"
                                "    metadata:\n"
                                "      labels:\n"
                                "        app: guestbook\n"
                                "        tier: frontend\n"
                                "    spec:\n"
                                "      containers:\n"
                                "      - name: php-redis\n"
                                "        image: us-docker.pkg.dev/google-samples/containers/gke/"
                                "gb-frontend:v5\n"
                                "        env:\n"
                                "        - name: GET_HOSTS_FROM\n"
                                "          value: \"dns\"\n"
                                "        resources:\n"
                                "          requests:\n"
                                "            cpu: 100m\n"
                                "            memory: 100Mi\n"
                                "        ports:\n"
                                "        - containerPort: 80\n"
                                "---\n"
                                "apiVersion: v1\n"
                                "kind: Service\n"
                                "metadata:\n"
                                "  name: frontend\n"
                                "  labels:\n"
                                "    app: guestbook\n"
                                "    tier: frontend\n"
                                "spec:\n"
                                "  # if your cluster supports it, uncomment the following to\n"
                                "  # automatically create an external load-balanced IP.\n"
                                "  # type: LoadBalancer\n"
                                "  ports:\n"
                                "    # the port that this service should serve on\n"
                                "  - port: 80\n"
                                "  selector:\n"
                                "    app: guestbook\n"
                                "    tier: frontend\n";

static void guestbook_decodes_and_defaults(void **state)
{
    cJSON *objs = NULL;
    char *diags = proto_check(guestbook, MINIK_VALIDATE_STRICT, &objs);
    assert_string_equal(diags, "");
    free(diags);
    assert_int_equal(cJSON_GetArraySize(objs), 4);
    const cJSON *leader = cJSON_GetArrayItem(objs, 0);
    assert_str_at(leader, "spec.template.spec.containers[0].resources.requests.cpu", "100m");
    assert_str_at(leader, "spec.template.spec.containers[0].resources.requests.memory", "100Mi");
    /* a pod template does not get requests copied from (absent) limits */
    assert_null(proto_at(leader, "spec.template.spec.containers[0].resources.limits"));
    const cJSON *svc = cJSON_GetArrayItem(objs, 1);
    assert_str_at(svc, "spec.type", "ClusterIP");
    assert_str_at(svc, "spec.sessionAffinity", "None");
    assert_str_at(svc, "spec.ports[0].protocol", "TCP");
    assert_int_at(svc, "spec.ports[0].targetPort", 6379);
    const cJSON *fe = cJSON_GetArrayItem(objs, 2);
    assert_str_at(fe, "spec.template.spec.containers[0].env[0].value", "dns");
    assert_str_at(fe, "spec.template.spec.containers[0].imagePullPolicy", "IfNotPresent");
    const cJSON *fesvc = cJSON_GetArrayItem(objs, 3);
    assert_int_at(fesvc, "spec.ports[0].targetPort", 80); /* targetPort defaults to port */
    assert_str_at(fesvc, "metadata.namespace", "default");
    cJSON_Delete(objs);
}

/* https://kubernetes.io/docs/concepts/configuration/configmap/ and .../secret/ */
static const char configmap_secret_pod[] =
    "apiVersion: v1\n"
    "kind: ConfigMap\n"
    "metadata:\n"
    "  name: game-demo\n"
    "data:\n"
    "  # property-like keys; each key maps to a simple value\n"
    "  player_initial_lives: \"3\"\n"
    "  ui_properties_file_name: \"user-interface.properties\"\n"
    "\n"
    "  # file-like keys\n"
    "  game.properties: |\n"
    "    enemy.types=aliens,monsters\n"
    "    player.maximum-lives=5    \n"
    "  user-interface.properties: |\n"
    "    color.good=purple\n"
    "    color.bad=yellow\n"
    "    allow.textmode=true    \n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Secret\n"
    "metadata:\n"
    "  name: mysecret\n"
    "type: Opaque\n"
    "data:\n"
    "  USER_NAME: YWRtaW4=\n"
    "  PASSWORD: MWYyZDFlMmU2N2Rm\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: configmap-demo-pod\n"
    "spec:\n"
    "  containers:\n"
    "    - name: demo\n"
    "      image: alpine\n"
    "      command: [\"sleep\", \"3600\"]\n"
    "      env:\n"
    "        - name: PLAYER_INITIAL_LIVES\n"
    "          valueFrom:\n"
    "            configMapKeyRef:\n"
    "              name: game-demo\n"
    "              key: player_initial_lives\n"
    "        - name: PASSWORD\n"
    "          valueFrom:\n"
    "            secretKeyRef:\n"
    "              name: mysecret\n"
    "              key: PASSWORD\n"
    "      volumeMounts:\n"
    "      - name: config\n"
    "        mountPath: \"/config\"\n"
    "        readOnly: true\n"
    "  volumes:\n"
    "  - name: config\n"
    "    configMap:\n"
    "      name: game-demo\n"
    "      items:\n"
    "      - key: \"game.properties\"\n"
    "        path: \"game.properties\"\n"
    "      - key: \"user-interface.properties\"\n"
    "        path: \"user-interface.properties\"\n";

static void configmap_secret_and_consuming_pod(void **state)
{
    cJSON *objs = NULL;
    char *diags = proto_check(configmap_secret_pod, MINIK_VALIDATE_STRICT, &objs);
    assert_string_equal(diags, "");
    free(diags);
    assert_int_equal(cJSON_GetArraySize(objs), 3);
    const cJSON *cm = cJSON_GetArrayItem(objs, 0);
    assert_str_at(cm, "data.player_initial_lives", "3"); /* quoted: stays a string */
    cJSON_Delete(objs);
}

static void configmap_literal_blocks_keep_their_text(void **state)
{
    cJSON *objs = NULL;
    char *diags = proto_check(configmap_secret_pod, MINIK_VALIDATE_STRICT, &objs);
    free(diags);
    const cJSON *data = proto_at(cJSON_GetArrayItem(objs, 0), "data");
    const cJSON *game = cJSON_GetObjectItemCaseSensitive(data, "game.properties");
    assert_string_equal(game->valuestring,
                        "enemy.types=aliens,monsters\nplayer.maximum-lives=5    \n");
    const cJSON *sec = cJSON_GetArrayItem(objs, 1);
    assert_str_at(sec, "type", "Opaque");
    assert_str_at(sec, "data.USER_NAME", "YWRtaW4=");
    const cJSON *pod = cJSON_GetArrayItem(objs, 2);
    assert_str_at(pod, "spec.containers[0].imagePullPolicy", "Always"); /* untagged image */
    assert_str_at(pod, "spec.containers[0].command[1]", "3600");
    assert_int_at(pod, "spec.volumes[0].configMap.defaultMode", 420);
    assert_true(cJSON_IsTrue(proto_at(pod, "spec.enableServiceLinks")));
    assert_str_at(pod, "spec.restartPolicy", "Always");
    cJSON_Delete(objs);
}

/* https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-
 * startup-probes/ : exec, httpGet and tcpSocket probes */
static const char probes[] = "apiVersion: v1\n"
                             "kind: Pod\n"
                             "metadata:\n"
                             "  labels:\n"
                             "    test: liveness\n"
                             "  name: liveness-http\n"
                             "spec:\n"
                             "  containers:\n"
                             "  - name: liveness\n"
                             "    image: registry.k8s.io/e2e-test-images/agnhost:2.40\n"
                             "    args:\n"
                             "    - liveness\n"
                             "    livenessProbe:\n"
                             "      httpGet:\n"
                             "        path: /healthz\n"
                             "        port: 8080\n"
                             "        httpHeaders:\n"
                             "        - name: Custom-Header\n"
                             "          value: Awesome\n"
                             "      initialDelaySeconds: 3\n"
                             "      periodSeconds: 3\n"
                             "  - name: exec\n"
                             "    image: registry.k8s.io/busybox\n"
                             "    args:\n"
                             "    - /bin/sh\n"
                             "    - -c\n"
                             "    - touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600\n"
                             "    livenessProbe:\n"
                             "      exec:\n"
                             "        command:\n"
                             "        - cat\n"
                             "        - /tmp/healthy\n"
                             "      initialDelaySeconds: 5\n"
                             "      periodSeconds: 5\n"
                             "  - name: goproxy\n"
                             "    image: registry.k8s.io/goproxy:0.1\n"
                             "    ports:\n"
                             "    - containerPort: 8080\n"
                             "    readinessProbe:\n"
                             "      tcpSocket:\n"
                             "        port: 8080\n"
                             "      initialDelaySeconds: 15\n"
                             "      periodSeconds: 10\n";

static void probes_default_like_kubernetes(void **state)
{
    cJSON *p = proto_load_one(probes);
    assert_str_at(p, "spec.containers[0].livenessProbe.httpGet.scheme", "HTTP");
    assert_str_at(p, "spec.containers[0].livenessProbe.httpGet.path", "/healthz");
    assert_int_at(p, "spec.containers[0].livenessProbe.timeoutSeconds", 1);
    assert_int_at(p, "spec.containers[0].livenessProbe.periodSeconds", 3);
    assert_int_at(p, "spec.containers[0].livenessProbe.successThreshold", 1);
    assert_int_at(p, "spec.containers[0].livenessProbe.failureThreshold", 3);
    assert_str_at(p, "spec.containers[1].args[2]",
                  "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600");
    assert_str_at(p, "spec.containers[1].imagePullPolicy", "Always");
    assert_int_at(p, "spec.containers[2].readinessProbe.periodSeconds", 10);
    assert_int_at(p, "spec.containers[2].readinessProbe.timeoutSeconds", 1);
    assert_str_at(p, "spec.containers[2].imagePullPolicy", "IfNotPresent");
    cJSON_Delete(p);
}

/* https://kubernetes.io/docs/concepts/storage/volumes/ , .../security-context/,
 * .../assign-pod-node/, .../taint-and-toleration/, .../manage-resources-containers/ */
static const char scheduling_pod[] = "apiVersion: v1\n"
                                     "kind: Pod\n"
                                     "metadata:\n"
                                     "  name: with-everything\n"
                                     "  namespace: team-a\n"
                                     "spec:\n"
                                     "  securityContext:\n"
                                     "    runAsUser: 1000\n"
                                     "    runAsGroup: 3000\n"
                                     "    fsGroup: 2000\n"
                                     "  affinity:\n"
                                     "    nodeAffinity:\n"
                                     "      requiredDuringSchedulingIgnoredDuringExecution:\n"
                                     "        nodeSelectorTerms:\n"
                                     "        - matchExpressions:\n"
                                     "          - key: topology.kubernetes.io/zone\n"
                                     "            operator: In\n"
                                     "            values:\n"
                                     "            - antarctica-east1\n"
                                     "            - antarctica-west1\n"
                                     "      preferredDuringSchedulingIgnoredDuringExecution:\n"
                                     "      - weight: 1\n"
                                     "        preference:\n"
                                     "          matchExpressions:\n"
                                     "          - key: another-node-label-key\n"
                                     "            operator: In\n"
                                     "            values:\n"
                                     "            - another-node-label-value\n"
                                     "    podAntiAffinity:\n"
                                     "      preferredDuringSchedulingIgnoredDuringExecution:\n"
                                     "      - weight: 100\n"
                                     "        podAffinityTerm:\n"
                                     "          labelSelector:\n"
                                     "            matchExpressions:\n"
                                     "            - key: security\n"
                                     "              operator: In\n"
                                     "              values:\n"
                                     "              - S2\n"
                                     "          topologyKey: topology.kubernetes.io/zone\n"
                                     "  tolerations:\n"
                                     "  - key: \"example-key\"\n"
                                     "    operator: \"Exists\"\n"
                                     "    effect: \"NoSchedule\"\n"
                                     "  nodeSelector:\n"
                                     "    disktype: ssd\n"
                                     "  hostUsers: false\n"
                                     "  imagePullSecrets:\n"
                                     "  - name: regcred\n"
                                     "  volumes:\n"
                                     "  - name: cache-volume\n"
                                     "    emptyDir:\n"
                                     "      sizeLimit: 500Mi\n"
                                     "  - name: test-volume\n"
                                     "    hostPath:\n"
                                     "      path: /data\n"
                                     "      type: Directory\n"
                                     "  - name: secret-volume\n"
                                     "    secret:\n"
                                     "      secretName: mysecret\n"
                                     "  - name: scratch\n"
                                     "  containers:\n"
                                     "  - name: app\n"
                                     "    image: images.my-company.example/app:v4\n"
                                     "    resources:\n"
                                     "      limits:\n"
                                     "        memory: \"128Mi\"\n"
                                     "        cpu: \"500m\"\n"
                                     "    securityContext:\n"
                                     "      allowPrivilegeEscalation: false\n"
                                     "      readOnlyRootFilesystem: true\n"
                                     "      runAsNonRoot: true\n"
                                     "      capabilities:\n"
                                     "        drop: [\"ALL\"]\n"
                                     "        add: [\"NET_BIND_SERVICE\"]\n"
                                     "      seccompProfile:\n"
                                     "        type: RuntimeDefault\n"
                                     "    volumeMounts:\n"
                                     "    - mountPath: /cache\n"
                                     "      name: cache-volume\n"
                                     "    - mountPath: /etc/secret\n"
                                     "      name: secret-volume\n"
                                     "  initContainers:\n"
                                     "  - name: init\n"
                                     "    image: busybox:1.28\n"
                                     "    command: ['sh', '-c', 'echo ready']\n";

static void scheduling_volumes_security_and_resources(void **state)
{
    cJSON *p = proto_load_one(scheduling_pod);
    assert_str_at(p, "metadata.namespace", "team-a"); /* given namespaces are kept */
    /* requests default to limits for a Pod (SetDefaults_Pod) */
    assert_str_at(p, "spec.containers[0].resources.requests.memory", "128Mi");
    assert_str_at(p, "spec.containers[0].resources.requests.cpu", "500m");
    assert_int_at(p, "spec.volumes[2].secret.defaultMode", 420);
    assert_true(cJSON_IsObject(proto_at(p, "spec.volumes[3].emptyDir"))); /* no source */
    assert_str_at(p, "spec.volumes[1].hostPath.type", "Directory");
    assert_int_at(p, "spec.securityContext.runAsUser", 1000);
    assert_str_at(p, "spec.initContainers[0].command[2]", "echo ready");
    assert_str_at(p, "spec.initContainers[0].terminationMessagePolicy", "File");
    assert_true(cJSON_IsFalse(proto_at(p, "spec.hostUsers")));
    cJSON_Delete(p);
}

/* What `kubectl get pod -o yaml` prints: server-set metadata, defaulted fields, status.
 * Saving it and applying it again must work unchanged. */
static const char get_output[] = "apiVersion: v1\n"
                                 "kind: Pod\n"
                                 "metadata:\n"
                                 "  annotations:\n"
                                 "    kubectl.kubernetes.io/restartedAt: \"2024-05-01T10:00:00Z\"\n"
                                 "  creationTimestamp: \"2024-05-01T10:00:05Z\"\n"
                                 "  finalizers:\n"
                                 "  - example.com/cleanup\n"
                                 "  generateName: web-7c5ddbdf54-\n"
                                 "  labels:\n"
                                 "    app: web\n"
                                 "    pod-template-hash: 7c5ddbdf54\n"
                                 "  name: web-7c5ddbdf54-x2x9q\n"
                                 "  namespace: default\n"
                                 "  ownerReferences:\n"
                                 "  - apiVersion: apps/v1\n"
                                 "    blockOwnerDeletion: true\n"
                                 "    controller: true\n"
                                 "    kind: ReplicaSet\n"
                                 "    name: web-7c5ddbdf54\n"
                                 "    uid: 1f0e5d2c-6a3b-4c1d-9e8f-0a1b2c3d4e5f\n"
                                 "  resourceVersion: \"4711\"\n"
                                 "  uid: 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d\n"
                                 "spec:\n"
                                 "  containers:\n"
                                 "  - image: nginx:1.25\n"
                                 "    imagePullPolicy: IfNotPresent\n"
                                 "    name: web\n"
                                 "    ports:\n"
                                 "    - containerPort: 80\n"
                                 "      protocol: TCP\n"
                                 "    resources: {}\n"
                                 "    terminationMessagePath: /dev/termination-log\n"
                                 "    terminationMessagePolicy: File\n"
                                 "  dnsPolicy: ClusterFirst\n"
                                 "  enableServiceLinks: true\n"
                                 "  nodeName: pi-1\n"
                                 "  restartPolicy: Always\n"
                                 "  schedulerName: default-scheduler\n"
                                 "  securityContext: {}\n"
                                 "  terminationGracePeriodSeconds: 30\n"
                                 "  tolerations:\n"
                                 "  - effect: NoExecute\n"
                                 "    key: node.kubernetes.io/not-ready\n"
                                 "    operator: Exists\n"
                                 "    tolerationSeconds: 300\n"
                                 "status:\n"
                                 "  conditions:\n"
                                 "  - lastProbeTime: null\n"
                                 "    lastTransitionTime: \"2024-05-01T10:00:05Z\"\n"
                                 "    status: \"True\"\n"
                                 "    type: Ready\n"
                                 "  phase: Running\n"
                                 "  podIP: 10.42.0.7\n";

static void kubectl_get_output_applies_unchanged(void **state)
{
    cJSON *p = proto_load_one(get_output);
    assert_str_at(p, "metadata.resourceVersion", "4711");
    assert_str_at(p, "status.conditions[0].status", "True"); /* quoted: stays a string */
    assert_true(cJSON_IsNull(proto_at(p, "status.conditions[0].lastProbeTime")));
    /* nothing left to default: defaulting it again is the identity */
    cJSON *again = cJSON_Duplicate(p, true);
    minik_default(again);
    assert_true(cJSON_Compare(p, again, true));
    cJSON_Delete(again);
    cJSON_Delete(p);
}

static void host_network_ports_default_host_port(void **state)
{
    assert_diags("apiVersion: v1\nkind: Pod\nmetadata: {name: h}\nspec:\n  hostNetwork: true\n"
                 "  containers:\n  - name: a\n    image: x:1\n"
                 "    ports: [{containerPort: 80, hostPort: 8080}]\n",
                 "app.yaml:9:43: spec.containers[0].ports[0].hostPort: must match `containerPort` "
                 "when `hostNetwork` is true\n");
    cJSON *p = proto_load_one("apiVersion: v1\nkind: Pod\nmetadata: {name: h}\n"
                              "spec:\n  hostNetwork: true\n  containers:\n"
                              "  - name: a\n    image: x:1\n    ports:\n"
                              "    - containerPort: 8080\n");
    assert_int_at(p, "spec.containers[0].ports[0].hostPort", 8080);
    cJSON_Delete(p);
}

static void nodeport_service_and_named_target_port(void **state)
{
    cJSON *s = proto_load_one("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
                              "spec:\n  type: NodePort\n  selector: {app: web}\n  ports:\n"
                              "  - name: http\n    port: 80\n    targetPort: http-web\n"
                              "    nodePort: 30080\n  - name: dns\n    port: 53\n"
                              "    protocol: UDP\n  - name: tls\n    port: 8443\n"
                              "    targetPort: 0\n");
    assert_str_at(s, "spec.ports[0].targetPort", "http-web");
    assert_int_at(s, "spec.ports[1].targetPort", 53);
    assert_int_at(s, "spec.ports[2].targetPort", 8443); /* 0 means "the port" */
    assert_str_at(s, "spec.ports[1].protocol", "UDP");
    assert_str_at(s, "spec.externalTrafficPolicy", "Cluster");
    cJSON_Delete(s);
}

static void cluster_scoped_kinds_get_no_namespace(void **state)
{
    cJSON *ns = proto_load_one("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n");
    assert_null(proto_at(ns, "metadata.namespace"));
    cJSON_Delete(ns);
    cJSON *no = proto_load_one("apiVersion: v1\nkind: Node\nmetadata:\n  name: pi-1.local\n"
                               "spec:\n  unschedulable: true\n  taints:\n"
                               "  - key: dedicated\n    value: gpu\n    effect: NoSchedule\n");
    assert_null(proto_at(no, "metadata.namespace"));
    assert_true(cJSON_IsTrue(proto_at(no, "spec.unschedulable")));
    cJSON_Delete(no);
    cJSON *ev = proto_load_one("apiVersion: v1\nkind: Event\nmetadata:\n  name: web.1\n"
                               "involvedObject:\n  kind: Pod\n  name: web\n  namespace: default\n"
                               "reason: Started\ntype: Normal\ncount: 1\n"
                               "firstTimestamp: \"2024-01-31T12:00:00Z\"\n");
    assert_str_at(ev, "metadata.namespace", "default");
    cJSON_Delete(ev);
}

/* null means "not set", as Kubernetes reads it (Helm charts render empty keys as null) */
static void nulls_are_unset_fields(void **state)
{
    cJSON *d = proto_load_one("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
                              "  labels:\n  annotations: ~\nspec:\n  replicas:\n"
                              "  selector: {matchLabels: {app: web}}\n  strategy: null\n"
                              "  template:\n    metadata:\n      labels: {app: web}\n"
                              "    spec:\n      volumes: [{name: v, emptyDir: null}]\n"
                              "      containers:\n      - name: web\n        image: nginx:1\n"
                              "        resources:\n        env:\n"
                              "        - {name: A, value: x, valueFrom: null}\n");
    assert_int_at(d, "spec.replicas", 1);
    assert_str_at(d, "spec.strategy.rollingUpdate.maxSurge", "25%");
    assert_null(proto_at(d, "metadata.labels"));
    assert_null(proto_at(d, "spec.template.spec.containers[0].resources"));
    assert_true(cJSON_IsObject(proto_at(d, "spec.template.spec.volumes[0].emptyDir")));
    cJSON_Delete(d);
    assert_diags("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                 "  - name: a\n    image: ~\n",
                 "app.yaml:7:5: spec.containers[0].image: required value\n");
}

static void defaulting_is_idempotent(void **state)
{
    cJSON *d = proto_load_one(nginx_deployment);
    cJSON *again = cJSON_Duplicate(d, true);
    minik_default(again);
    assert_true(cJSON_Compare(d, again, true));
    /* and a defaulted object validates (the API server re-validates stored objects) */
    minik_diags_t diags = MINIK_DIAGS_INIT;
    assert_int_equal(minik_validate(again, NULL, NULL, MINIK_VALIDATE_STRICT, &diags, NULL), 0);
    minik_diags_clear(&diags);
    cJSON_Delete(again);
    cJSON_Delete(d);
}

/* ---- validation errors, exact text -------------------------------------------------- */

static void all_errors_of_a_file_with_locations(void **state)
{
    assert_diags("apiVersion: apps/v1\n"
                 "kind: Deployment\n"
                 "metadata:\n"
                 "  name: Web_App\n"
                 "spec:\n"
                 "  replicas: -1\n"
                 "  selector:\n"
                 "    matchLabels:\n"
                 "      app: web\n"
                 "  template:\n"
                 "    metadata:\n"
                 "      labels:\n"
                 "        app: web\n"
                 "    spec:\n"
                 "      containers:\n"
                 "      - name: web\n"
                 "        image: nginx\n"
                 "        imagePullPolicyy: Always\n"
                 "        ports:\n"
                 "        - containerPort: 70000\n"
                 "          protocol: tcp\n",
                 "app.yaml:4:9: metadata.name: invalid name \"Web_App\": a lowercase RFC 1123 "
                 "subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
                 "must start and end with an alphanumeric character\n"
                 "app.yaml:6:13: spec.replicas: must be greater than or equal to 0, got -1\n"
                 "app.yaml:18:9: spec.template.spec.containers[0].imagePullPolicyy: unknown field\n"
                 "app.yaml:20:26: spec.template.spec.containers[0].ports[0].containerPort: must "
                 "be between 1 and 65535, got 70000\n"
                 "app.yaml:21:21: spec.template.spec.containers[0].ports[0].protocol: unsupported "
                 "value \"tcp\": supported values: \"TCP\", \"UDP\", \"SCTP\"\n");
}

static void warn_mode_downgrades_unknown_fields_only(void **state)
{
    const char *y = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  colour: red\n"
                    "data:\n  a: 1\n";
    char *got = proto_check(y, MINIK_VALIDATE_WARN, NULL);
    assert_string_equal(got, "app.yaml:5:3: warning: metadata.colour: unknown field\n"
                             "app.yaml:7:6: data[a]: must be a string, got number\n");
    free(got);
    cJSON *objs = NULL;
    got = proto_check("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  colour: red\n",
                      MINIK_VALIDATE_WARN, &objs);
    assert_string_equal(got, "app.yaml:5:3: warning: metadata.colour: unknown field\n");
    assert_int_equal(cJSON_GetArraySize(objs), 1); /* valid despite the warning */
    free(got);
    cJSON_Delete(objs);
}

static void wrong_types_and_missing_required(void **state)
{
    assert_diags("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
                 "  terminationGracePeriodSeconds: \"30\"\n  hostNetwork: yes please\n"
                 "  containers:\n  - name: a\n    args: 3\n    ports: {containerPort: 80}\n",
                 "app.yaml:6:34: spec.terminationGracePeriodSeconds: must be an integer, got "
                 "string\n"
                 "app.yaml:7:16: spec.hostNetwork: must be a boolean (true or false), got string\n"
                 "app.yaml:10:11: spec.containers[0].args: must be a list, got number\n"
                 "app.yaml:11:12: spec.containers[0].ports: must be a list, got object\n"
                 "app.yaml:9:5: spec.containers[0].image: required value\n");
    assert_diags("apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {a: b}\n",
                 "app.yaml:4:3: metadata.name: name or generateName is required\n"
                 "app.yaml:1:1: spec: required value\n");
    assert_diags("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\n",
                 "app.yaml:5:15: spec.containers: must have at least one item\n");
    assert_diags("kind: Pod\n", "app.yaml:1:1: apiVersion: required value\n");
    assert_diags("- a\n- b\n", "app.yaml:1:1: a manifest must be a mapping with apiVersion, "
                               "kind and metadata, got list\n");
}

static void kinds_and_api_versions(void **state)
{
    assert_diags("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: x}\n",
                 "app.yaml:1:13: apiVersion: Deployment is served as \"apps/v1\", not "
                 "\"extensions/v1beta1\"\n");
    assert_diags("apiVersion: v1\nkind: Ingress\nmetadata: {name: x}\n",
                 "app.yaml:2:7: kind: unsupported kind \"Ingress\" (minik supports Namespace, "
                 "Node, Pod, Service, Endpoints, ConfigMap, Secret, Event, Deployment, "
                 "ReplicaSet, DaemonSet, Job, CronJob)\n");
}

static void names_labels_and_namespaces(void **state)
{
    assert_diags("apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\n  namespace: Prod\n"
                 "  labels:\n    app.kubernetes.io/name: -bad\n    /x: z\n"
                 "spec:\n  ports: [{port: 80}]\n",
                 "app.yaml:7:29: metadata.labels[app.kubernetes.io/name]: invalid label value "
                 "\"-bad\": a valid label must be an empty string or consist of alphanumeric "
                 "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                 "character\n"
                 "app.yaml:8:5: metadata.labels[/x]: invalid key \"/x\": the prefix before '/' "
                 "must be a DNS subdomain of 1 to 253 characters\n"
                 "app.yaml:4:9: metadata.name: invalid name \"1web\": a DNS-1035 label must "
                 "consist of lower case alphanumeric characters or '-', start with an alphabetic "
                 "character, and end with an alphanumeric character\n"
                 "app.yaml:5:14: metadata.namespace: invalid name \"Prod\": a lowercase RFC 1123 "
                 "label must consist of lower case alphanumeric characters or '-', and must "
                 "start and end with an alphanumeric character\n");
    assert_diags("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a.b\n  namespace: x\n",
                 "app.yaml:4:9: metadata.name: invalid name \"a.b\": a lowercase RFC 1123 label "
                 "must consist of lower case alphanumeric characters or '-', and must start and "
                 "end with an alphanumeric character\n"
                 "app.yaml:5:14: metadata.namespace: not allowed: Namespace is not namespaced\n");
}

static char *repeat(char c, size_t n);

/* the last label of a 253-character subdomain */
static char *repeat_static61(void)
{
    static char s[62];
    memset(s, 'b', 61);
    s[61] = '\0';
    return s;
}

static char *repeat(char c, size_t n)
{
    char *s = xmalloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void name_rules_at_their_limits(void **state)
{
    char buf[MINIK_NAME_MSG_MAX];
    cleanup_free char *l63 = repeat('a', 63);
    cleanup_free char *l64 = repeat('a', 64);
    assert_null(minik_names_check_dns1123_label(l63, buf, sizeof buf));
    assert_string_equal(minik_names_check_dns1123_label(l64, buf, sizeof buf),
                        "must be no more than 63 characters");
    assert_null(minik_names_check_dns1123_label("0-a", buf, sizeof buf));
    assert_non_null(minik_names_check_dns1123_label("a-", buf, sizeof buf));
    assert_non_null(minik_names_check_dns1123_label("", buf, sizeof buf));
    assert_non_null(minik_names_check_dns1035_label("0a", buf, sizeof buf));
    assert_null(minik_names_check_dns1035_label("a0", buf, sizeof buf));
    /* subdomains: dot-separated labels, 253 at most */
    cleanup_free char *sub = xasprintf("%s.%s.%s.%s", l63, l63, l63, repeat_static61());
    assert_int_equal(strlen(sub), 253);
    assert_null(minik_names_check_dns1123_subdomain(sub, buf, sizeof buf));
    cleanup_free char *sub254 = xasprintf("%sa", sub);
    assert_string_equal(minik_names_check_dns1123_subdomain(sub254, buf, sizeof buf),
                        "must be no more than 253 characters");
    assert_non_null(minik_names_check_dns1123_subdomain("a..b", buf, sizeof buf));
    assert_non_null(minik_names_check_dns1123_subdomain(".a", buf, sizeof buf));
    /* label keys and values */
    assert_null(minik_names_check_qualified_name("app.kubernetes.io/name", buf, sizeof buf));
    assert_null(minik_names_check_qualified_name("A_b.C-d", buf, sizeof buf));
    assert_non_null(minik_names_check_qualified_name("a/b/c", buf, sizeof buf));
    assert_non_null(minik_names_check_qualified_name("Example.com/x", buf, sizeof buf));
    assert_non_null(minik_names_check_qualified_name("x/", buf, sizeof buf));
    assert_null(minik_names_check_label_value("", buf, sizeof buf));
    assert_null(minik_names_check_label_value(l63, buf, sizeof buf));
    assert_non_null(minik_names_check_label_value(l64, buf, sizeof buf));
    assert_non_null(minik_names_check_label_value("a b", buf, sizeof buf));
    /* data keys, port names, env names */
    assert_null(minik_names_check_config_key(".dockerconfigjson", buf, sizeof buf));
    assert_non_null(minik_names_check_config_key("..", buf, sizeof buf));
    assert_non_null(minik_names_check_config_key("a/b", buf, sizeof buf));
    assert_null(minik_names_check_port_name("http-web", buf, sizeof buf));
    assert_non_null(minik_names_check_port_name("8080", buf, sizeof buf)); /* no letter */
    assert_non_null(minik_names_check_port_name("a--b", buf, sizeof buf)); /* "--" */
    assert_non_null(minik_names_check_port_name("abcdefghijklmnop", buf, sizeof buf)); /* 16 */
    assert_null(minik_names_check_env_var_name("MY_VAR.x-1", buf, sizeof buf));
    assert_non_null(minik_names_check_env_var_name("1VAR", buf, sizeof buf));
    assert_non_null(minik_names_check_env_var_name("A B", buf, sizeof buf));
}

static void cross_field_rules(void **state)
{
    assert_diags("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n"
                 "  selector: {matchLabels: {app: web}}\n  template:\n    metadata:\n"
                 "      labels: {app: api}\n    spec:\n      restartPolicy: Never\n"
                 "      containers: [{name: a, image: x}]\n"
                 "  strategy:\n    type: Recreate\n    rollingUpdate: {maxSurge: 1}\n",
                 "app.yaml:14:20: spec.strategy.rollingUpdate: may not be specified when "
                 "strategy `type` is 'Recreate'\n"
                 "app.yaml:8:15: spec.template.metadata.labels: `selector` does not match "
                 "template `labels`\n"
                 "app.yaml:10:22: spec.template.spec.restartPolicy: unsupported value \"Never\": "
                 "supported values: \"Always\"\n");
    /* maxSurge / maxUnavailable: an integer or "N%", the same rule in both kinds. */
    assert_diags("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n"
                 "  selector: {matchLabels: {app: web}}\n  template:\n    metadata:\n"
                 "      labels: {app: web}\n    spec:\n      containers: [{name: a, image: x}]\n"
                 "  strategy:\n    rollingUpdate: {maxSurge: 10x, maxUnavailable: 50%}\n",
                 "app.yaml:12:31: spec.strategy.rollingUpdate.maxSurge: invalid value \"10x\": "
                 "must be an integer or a percentage (e.g. '25%')\n");
    assert_diags("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds}\nspec:\n"
                 "  selector: {matchLabels: {app: web}}\n  template:\n    metadata:\n"
                 "      labels: {app: web}\n    spec:\n      restartPolicy: Never\n"
                 "      containers: [{name: a, image: x}]\n"
                 "  updateStrategy:\n    rollingUpdate: {maxUnavailable: \"%\"}\n",
                 "app.yaml:13:37: spec.updateStrategy.rollingUpdate.maxUnavailable: invalid "
                 "value \"%\": must be an integer or a percentage (e.g. '25%')\n"
                 "app.yaml:10:22: spec.template.spec.restartPolicy: unsupported value \"Never\": "
                 "supported values: \"Always\"\n");
    assert_diags("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                 "  - name: a\n    image: x\n    volumeMounts: [{name: data, mountPath: /d}]\n"
                 "    livenessProbe: {periodSeconds: 0}\n"
                 "    resources:\n      requests: {cpu: 2}\n      limits: {cpu: 500m, gpu: 1}\n"
                 "  - name: a\n    image: z\n",
                 "app.yaml:9:36: spec.containers[0].livenessProbe.periodSeconds: must be between "
                 "1 and 2147483647, got 0\n"
                 "app.yaml:9:20: spec.containers[0].livenessProbe: must specify a handler: exec, "
                 "httpGet or tcpSocket\n"
                 "app.yaml:12:27: spec.containers[0].resources.limits[gpu]: unsupported "
                 "resource \"gpu\": use cpu, memory, ephemeral-storage, hugepages-<size> or a "
                 "domain-qualified name\n"
                 "app.yaml:11:23: spec.containers[0].resources.requests[cpu]: must be less than "
                 "or equal to cpu limit of 500m\n"
                 "app.yaml:8:27: spec.containers[0].volumeMounts[0].name: not found: no volume "
                 "named \"data\"\n"
                 "app.yaml:13:11: spec.containers[1].name: duplicate value \"a\"\n");
    assert_diags("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                 "  - name: a\n    image: x\n    readinessProbe: {initialDelaySeconds: 1}\n"
                 "    resources:\n      requests: {memory: 1Gi}\n      limits: {memory: 512Mi}\n",
                 "app.yaml:8:21: spec.containers[0].readinessProbe: must specify a handler: "
                 "exec, httpGet or tcpSocket\n"
                 "app.yaml:10:26: spec.containers[0].resources.requests[memory]: must be less "
                 "than or equal to memory limit of 512Mi\n");
    assert_diags("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\n"
                 "data:\n  tls.crt: not-base64!\n",
                 "app.yaml:6:12: data[tls.crt]: invalid base64 data: unexpected character '-' at "
                 "offset 3\n"
                 "app.yaml:6:3: data[tls.key]: required value for a secret of type "
                 "kubernetes.io/tls\n");
    assert_diags("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\n"
                 "data:\n  tls.crt: YQ==\n",
                 "app.yaml:6:3: data[tls.key]: required value for a secret of type "
                 "kubernetes.io/tls\n");
    assert_diags("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x}\n"
                 "binaryData: {a: eA==}\n",
                 "app.yaml:5:17: binaryData[a]: duplicate of key \"a\" in data\n");
    assert_diags("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n"
                 "  - {port: 80, nodePort: 30000}\n  - {port: 80, targetPort: 70000}\n",
                 "app.yaml:7:28: spec.ports[1].targetPort: must be between 0 and 65535, got 70000\n"
                 "app.yaml:6:5: spec.ports[0].name: required value: more than one port needs "
                 "names\n"
                 "app.yaml:6:26: spec.ports[0].nodePort: may not be used when `type` is "
                 "'ClusterIP'\n"
                 "app.yaml:7:5: spec.ports[1].name: required value: more than one port needs "
                 "names\n"
                 "app.yaml:7:5: spec.ports[1]: duplicate port 80/TCP\n");
}

/* topologySpreadConstraints: the documented examples decode unchanged; each rule the
 * scheduler depends on is refused with its location
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/). */
static void topology_spread_constraints(void **state)
{
    cJSON *p = proto_load_one("apiVersion: v1\nkind: Pod\nmetadata:\n  name: mypod\n"
                              "  labels: {foo: bar, pod-template-hash: abc}\nspec:\n"
                              "  topologySpreadConstraints:\n"
                              "  - maxSkew: 1\n    topologyKey: topology.kubernetes.io/zone\n"
                              "    whenUnsatisfiable: DoNotSchedule\n    minDomains: 3\n"
                              "    labelSelector: {matchLabels: {foo: bar}}\n"
                              "    matchLabelKeys: [pod-template-hash]\n"
                              "    nodeAffinityPolicy: Ignore\n    nodeTaintsPolicy: Honor\n"
                              "  - maxSkew: 2\n    topologyKey: kubernetes.io/hostname\n"
                              "    whenUnsatisfiable: ScheduleAnyway\n"
                              "  containers: [{name: pause, image: registry.k8s.io/pause:3.1}]\n");
    assert_int_at(p, "spec.topologySpreadConstraints[0].minDomains", 3);
    assert_str_at(p, "spec.topologySpreadConstraints[0].matchLabelKeys[0]", "pod-template-hash");
    assert_str_at(p, "spec.topologySpreadConstraints[1].whenUnsatisfiable", "ScheduleAnyway");
    /* no defaults are invented: an absent policy means Honor / Ignore to the scheduler */
    assert_null(proto_at(p, "spec.topologySpreadConstraints[1].nodeAffinityPolicy"));
    cJSON_Delete(p);

    /* Required fields, ranges and enums. */
    assert_diags("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
                 "  containers: [{name: a, image: x}]\n"
                 "  topologySpreadConstraints:\n"
                 "  - maxSkew: 0\n    topologyKey: zone\n    whenUnsatisfiable: Never\n"
                 "  - {whenUnsatisfiable: DoNotSchedule, nodeAffinityPolicy: honor,"
                 " nodeTaintsPolicy: Skip, topologyKey: \"bad key\"}\n",
                 "app.yaml:7:14: spec.topologySpreadConstraints[0].maxSkew: must be between 1 and "
                 "2147483647, got 0\n"
                 "app.yaml:9:24: spec.topologySpreadConstraints[0].whenUnsatisfiable: unsupported "
                 "value \"Never\": supported values: \"DoNotSchedule\", \"ScheduleAnyway\"\n"
                 "app.yaml:10:60: spec.topologySpreadConstraints[1].nodeAffinityPolicy: "
                 "unsupported value \"honor\": supported values: \"Honor\", \"Ignore\"\n"
                 "app.yaml:10:85: spec.topologySpreadConstraints[1].nodeTaintsPolicy: unsupported "
                 "value \"Skip\": supported values: \"Honor\", \"Ignore\"\n"
                 "app.yaml:10:104: spec.topologySpreadConstraints[1].topologyKey: invalid key "
                 "\"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', "
                 "and must start and end with an alphanumeric character\n"
                 "app.yaml:10:5: spec.topologySpreadConstraints[1].maxSkew: required value\n");
    /* minDomains only with DoNotSchedule; matchLabelKeys need a labelSelector and may not
     * repeat its keys; one constraint per {topologyKey, whenUnsatisfiable}. */
    assert_diags("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
                 "  containers: [{name: a, image: x}]\n"
                 "  topologySpreadConstraints:\n"
                 "  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway,"
                 " minDomains: 2}\n"
                 "  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway,"
                 " matchLabelKeys: [app]}\n"
                 "  - maxSkew: 1\n    topologyKey: zone\n    whenUnsatisfiable: DoNotSchedule\n"
                 "    minDomains: 0\n"
                 "    labelSelector: {matchLabels: {app: web}, matchExpressions:"
                 " [{key: tier, operator: In, values: [a]}]}\n"
                 "    matchLabelKeys: [app, tier, rev, rev]\n",
                 "app.yaml:7:84: spec.topologySpreadConstraints[0].minDomains: can only be used "
                 "when `whenUnsatisfiable` is 'DoNotSchedule', not 'ScheduleAnyway'\n"
                 "app.yaml:8:88: spec.topologySpreadConstraints[1].matchLabelKeys: may not be "
                 "specified when `labelSelector` is not set\n"
                 "app.yaml:12:17: spec.topologySpreadConstraints[2].minDomains: must be between 1 "
                 "and 2147483647, got 0\n"
                 "app.yaml:14:22: spec.topologySpreadConstraints[2].matchLabelKeys[0]: \"app\" "
                 "exists in both `matchLabelKeys` and `labelSelector`\n"
                 "app.yaml:14:27: spec.topologySpreadConstraints[2].matchLabelKeys[1]: \"tier\" "
                 "exists in both `matchLabelKeys` and `labelSelector`\n"
                 "app.yaml:14:38: spec.topologySpreadConstraints[2].matchLabelKeys[3]: duplicate "
                 "value \"rev\"\n"
                 "app.yaml:8:5: spec.topologySpreadConstraints[1]: duplicate constraint for "
                 "{topologyKey: \"zone\", whenUnsatisfiable: \"ScheduleAnyway\"}\n");
    /* The same rules inside a Deployment's template, with the template's path. */
    assert_diags("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n"
                 "  selector: {matchLabels: {app: web}}\n  template:\n    metadata:\n"
                 "      labels: {app: web}\n    spec:\n      containers: [{name: a, image: x}]\n"
                 "      topologySpreadConstraints: [{maxSkew: -1, topologyKey: zone,"
                 " whenUnsatisfiable: DoNotSchedule}, {maxSkew: 1}]\n",
                 "app.yaml:11:45: spec.template.spec.topologySpreadConstraints[0].maxSkew: must be "
                 "between 1 and 2147483647, got -1\n"
                 "app.yaml:11:103: spec.template.spec.topologySpreadConstraints[1].topologyKey: "
                 "required value\n"
                 "app.yaml:11:103: spec.template.spec.topologySpreadConstraints[1]."
                 "whenUnsatisfiable: required value\n");
}

static void quantities_in_manifests(void **state)
{
    assert_diags("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                 "  - name: a\n    image: x\n    resources:\n"
                 "      requests: {cpu: 12x, memory: -1Gi, ephemeral-storage: 1.5}\n",
                 "app.yaml:9:23: spec.containers[0].resources.requests[cpu]: quantity \"12x\": "
                 "unknown suffix \"x\"\n"
                 "app.yaml:9:36: spec.containers[0].resources.requests[memory]: must be greater "
                 "than or equal to 0, got -1Gi\n");
}

/* The API server's path: a JSON body parsed by cJSON, validated without positions. */
static void json_bodies_without_positions(void **state)
{
    cJSON *body = cJSON_Parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                              "\"metadata\":{\"name\":\"a\",\"name\":\"b\"},\"spec\":{"
                              "\"replicas\":1.5,\"selector\":{},\"template\":{\"spec\":{"
                              "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}");
    minik_diags_t d = MINIK_DIAGS_INIT;
    const minik_kind_t *k = NULL;
    assert_int_equal(minik_validate(body, NULL, NULL, MINIK_VALIDATE_STRICT, &d, &k), 3);
    assert_string_equal(k->plural, "deployments");
    minik_buf_t b = MINIK_BUF_INIT;
    minik_diags_format(&d, &b);
    assert_string_equal(b.data, "metadata.name: duplicate key\n"
                                "spec.replicas: must be an integer, got a fraction\n"
                                "spec.selector: empty selector is invalid for deployment\n");
    /* numbers JSON cannot carry are refused even in free-form status */
    cJSON *inf = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":"
                             "{\"name\":\"n\"},\"status\":{\"x\":[1,1e999]}}");
    minik_diags_t d2 = MINIK_DIAGS_INIT;
    assert_int_equal(minik_validate(inf, NULL, NULL, MINIK_VALIDATE_STRICT, &d2, NULL), 1);
    assert_string_equal(d2.items[0].path, "status.x[1]");
    assert_string_equal(d2.items[0].message, "number out of range");
    minik_diags_clear(&d2);
    cJSON_Delete(inf);
    /* the API server maps entries to Status causes: field path and message apart */
    assert_string_equal(d.items[1].path, "spec.replicas");
    assert_int_equal(d.items[1].line, 0);
    minik_buf_free(&b);
    minik_diags_clear(&d);
    cJSON_Delete(body);
}

/* ---- decoding ----------------------------------------------------------------------- */

static void yaml_scalar_typing_follows_kubernetes(void **state)
{
    minik_manifest_t *m = minik_manifest_new();
    minik_diags_t d = MINIK_DIAGS_INIT;
    const char *y = "a: yes\nb: off\nc: 0x1F\nd: 010\ne: 1_000\nf: 1.5e3\ng: ~\nh: null\n"
                    "i: 'true'\nj: \"3\"\nk: !!str 42\nl: !!int \"7\"\nm: 2024-01-31\n"
                    "s: 1.0.0\no: -12\np: .5\nq: \nr: y\nt: 1e20\n";
    assert_int_equal(minik_manifest_decode_buf(m, "t.yaml", y, strlen(y), &d), 0);
    cJSON *o = m->docs[0].obj;
    char *s = cJSON_PrintUnformatted(o);
    assert_string_equal(s, "{\"a\":true,\"b\":false,\"c\":31,\"d\":8,\"e\":1000,\"f\":1500,"
                           "\"g\":null,\"h\":null,\"i\":\"true\",\"j\":\"3\",\"k\":\"42\","
                           "\"l\":7,\"m\":\"2024-01-31\",\"s\":\"1.0.0\",\"o\":-12,\"p\":0.5,"
                           "\"q\":null,\"r\":true,\"t\":1e+20}");
    free(s);
    minik_diags_clear(&d);
    minik_manifest_free(m);
}

static void anchors_aliases_and_merge_keys(void **state)
{
    /* errors inside an expanded alias point at the text of the anchored definition */
    char *diags = proto_check("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
                              "  containers:\n  - &c\n    name: a\n    image: x\n"
                              "    ports: [{containerPort: 0}]\n  - *c\n",
                              MINIK_VALIDATE_STRICT, NULL);
    assert_string_equal(diags, "app.yaml:9:29: spec.containers[0].ports[0].containerPort: must be "
                               "between 1 and 65535, got 0\n"
                               "app.yaml:9:29: spec.containers[1].ports[0].containerPort: must be "
                               "between 1 and 65535, got 0\n"
                               "app.yaml:7:11: spec.containers[1].name: duplicate value \"a\"\n");
    free(diags);

    minik_manifest_t *m = minik_manifest_new();
    minik_diags_t d = MINIK_DIAGS_INIT;
    const char *y = "base: &b {image: nginx, ports: [80]}\n"
                    "one:\n  <<: *b\n  image: override\n"
                    "two: *b\n";
    assert_int_equal(minik_manifest_decode_buf(m, "t.yaml", y, strlen(y), &d), 0);
    char *s = cJSON_PrintUnformatted(m->docs[0].obj);
    assert_string_equal(s, "{\"base\":{\"image\":\"nginx\",\"ports\":[80]},"
                           "\"one\":{\"image\":\"override\",\"ports\":[80]},"
                           "\"two\":{\"image\":\"nginx\",\"ports\":[80]}}");
    free(s);
    minik_diags_clear(&d);
    minik_manifest_free(m);
}

static char *decode_errors(const char *y)
{
    minik_manifest_t *m = minik_manifest_new();
    minik_diags_t d = MINIK_DIAGS_INIT;
    minik_manifest_decode_buf(m, "app.yaml", y, strlen(y), &d);
    minik_buf_t b = MINIK_BUF_INIT;
    minik_diags_format(&d, &b);
    minik_diags_clear(&d);
    minik_manifest_free(m);
    return minik_buf_steal(&b);
}

#define assert_decode_errors(y, want)                                                              \
    do {                                                                                           \
        char *got_ = decode_errors(y);                                                             \
        assert_string_equal(got_, (want));                                                         \
        free(got_);                                                                                \
    } while (0)

static void bad_yaml_is_located(void **state)
{
    assert_decode_errors("a: 1\nb:\n  c: 1\n d: [\n",
                         "app.yaml:4:2: invalid YAML: did not find expected key (while parsing a "
                         "block mapping at line 1)\n");
    assert_decode_errors("a: 1\na: 2\nb:\n  c: 1\n  c: 2\n",
                         "app.yaml:2:1: a: duplicate key (first defined at line 1)\n"
                         "app.yaml:5:3: b.c: duplicate key (first defined at line 4)\n");
    assert_decode_errors("a: *nope\n", "app.yaml:1:4: a: unknown anchor \"nope\"\n");
    assert_decode_errors("a:\n\tb: 1\n",
                         "app.yaml:2:1: invalid YAML: a tab character; YAML indents with spaces "
                         "only\n");
    /* YAML 1.1 key typing, as Kubernetes' reader does it: the key n is the boolean false */
    assert_decode_errors("n: 1\nfalse: 2\n",
                         "app.yaml:2:1: false: duplicate key (first defined at line 1)\n");
    assert_decode_errors("a: .inf\nb: 9007199254740993\n",
                         "app.yaml:1:4: a: infinity cannot be represented in JSON\n"
                         "app.yaml:2:4: b: integer too large (more than 2^53)\n");
    assert_decode_errors("{a: 1}: x\n", "app.yaml:1:1: a mapping key must be a scalar\n");
    assert_decode_errors("a: \"\\xff\"\nb: \"x\\0y\"\n",
                         "app.yaml:2:4: b: NUL character in a string\n");
}

static void limits_against_hostile_input(void **state)
{
    /* billion laughs */
    minik_buf_t b = MINIK_BUF_INIT;
    minik_buf_append_str(&b, "a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    for (int i = 1; i < 9; i++) {
        minik_buf_appendf(&b, "%c: &%c [", 'a' + i, 'a' + i);
        for (int j = 0; j < 10; j++)
            minik_buf_appendf(&b, "%s*%c", j ? "," : "", 'a' + i - 1);
        minik_buf_append_str(&b, "]\n");
    }
    assert_decode_errors(b.data, "app.yaml:4:29: d[7]: aliases expand to more than 10000 nodes "
                                 "(an alias bomb?); refusing to expand\n");
    minik_buf_reset(&b);
    /* nesting */
    minik_buf_append_str(&b, "a: ");
    for (int i = 0; i < 150; i++)
        minik_buf_append_char(&b, '[');
    for (int i = 0; i < 150; i++)
        minik_buf_append_char(&b, ']');
    assert_decode_errors(b.data, "app.yaml:1:103: nesting deeper than 100 levels\n");
    minik_buf_reset(&b);
    /* number of documents */
    for (int i = 0; i < 1001; i++)
        minik_buf_append_str(&b, "---\na: 1\n");
    assert_decode_errors(b.data, "app.yaml:2001:1: more than 1000 documents; split the input\n");
    minik_buf_reset(&b);
    /* size */
    minik_buf_append_str(&b, "a: \"");
    for (int i = 0; i < 3 * 1024 * 1024; i++)
        minik_buf_append_char(&b, 'x');
    minik_buf_append_str(&b, "\"\n");
    assert_decode_errors(b.data, "app.yaml: input is larger than 3145728 bytes (3 MiB); split it "
                                 "into several files\n");
    minik_buf_free(&b);
}

static void diagnostics_per_object_are_bounded(void **state)
{
    minik_buf_t b = MINIK_BUF_INIT;
    minik_buf_append_str(&b, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                             "\"metadata\":{\"name\":\"c\"}");
    for (int i = 0; i < 1500; i++)
        minik_buf_appendf(&b, ",\"x%d\":1", i);
    minik_buf_append_str(&b, "}");
    cJSON *o = cJSON_Parse(b.data);
    minik_diags_t d = MINIK_DIAGS_INIT;
    assert_int_equal(minik_validate(o, NULL, NULL, MINIK_VALIDATE_STRICT, &d, NULL), 1500);
    assert_int_equal(d.len, MINIK_VALIDATE_MAX_DIAGS + 1);
    assert_string_equal(d.items[d.len - 1].message, "500 more problems in this document not shown");
    minik_diags_clear(&d);
    cJSON_Delete(o);
    minik_buf_free(&b);
}

static void multi_documents_lists_and_json(void **state)
{
    minik_manifest_t *m = minik_manifest_new();
    minik_diags_t d = MINIK_DIAGS_INIT;
    const char *y = "---\n---\n# only a comment\n---\na: 1\n---\n"
                    "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n"
                    "  {\"kind\": \"A\"},\n  {\"kind\": \"B\", \"s\": \"a\\/b\\u00e9\"}\n]}\n"
                    "...\n";
    assert_int_equal(minik_manifest_decode_buf(m, "app.yaml", y, strlen(y), &d), 0);
    assert_int_equal(m->n_docs, 3);
    assert_int_equal(m->docs[0].line, 4);
    assert_string_equal(cJSON_GetObjectItem(m->docs[1].obj, "kind")->valuestring, "A");
    assert_string_equal(cJSON_GetObjectItem(m->docs[2].obj, "s")->valuestring, "a/b\xc3\xa9");
    assert_int_equal(m->docs[1].line, 8); /* a List item keeps its own position */
    assert_int_equal(m->docs[2].line, 9);
    /* nested Lists are flattened too */
    const char *nested = "kind: List\nitems:\n- kind: List\n  items:\n  - {kind: C}\n- {kind: D}\n";
    assert_int_equal(minik_manifest_decode_buf(m, "app.yaml", nested, strlen(nested), &d), 0);
    assert_int_equal(m->n_docs, 5);
    assert_string_equal(cJSON_GetObjectItem(m->docs[3].obj, "kind")->valuestring, "C");
    assert_string_equal(cJSON_GetObjectItem(m->docs[4].obj, "kind")->valuestring, "D");
    /* every node has its position: value and key */
    const cJSON *s = cJSON_GetObjectItem(m->docs[2].obj, "s");
    const minik_pos_t *p = minik_posmap_get(m->pos, s);
    assert_non_null(p);
    assert_int_equal(p->key_line, 9);
    assert_int_equal(p->key_col, 17);
    assert_int_equal(p->line, 9);
    assert_int_equal(p->col, 22);
    minik_diags_clear(&d);
    minik_manifest_free(m);
}

/* JSON as other tools write it: tab indentation, escaped slashes, surrogate pairs. */
static void json_from_other_tools(void **state)
{
    cJSON *o = NULL;
    cleanup_error minik_error_t *err = NULL;
    const char *j = "{\n\t\"a\": \"x\\/y\\u00e9\\ud83d\\ude00\",\n"
                    "\t\"b\": [\"\\\\ud83d\", \"q\\\"\\ud83d\\ude00\"]\n}\n";
    if (minik_yaml_parse_one("t.json", j, strlen(j), &o, &err) < 0)
        fail_msg("%s", err->msg);
    assert_string_equal(cJSON_GetObjectItem(o, "a")->valuestring, "x/y\xc3\xa9\xf0\x9f\x98\x80");
    /* an escaped backslash followed by "ud83d" is text, not an escape */
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "b"), 0)->valuestring, "\\ud83d");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "b"), 1)->valuestring,
                        "q\"\xf0\x9f\x98\x80");
    cJSON_Delete(o);
}

static void parse_one_for_config_files(void **state)
{
    cJSON *o = NULL;
    cleanup_error minik_error_t *err = NULL;
    const char *cfg = "clusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:6443\"}\n";
    assert_int_equal(minik_yaml_parse_one("admin.conf", cfg, strlen(cfg), &o, &err), 0);
    assert_string_equal(proto_at(o, "clusters[0].cluster.server")->valuestring,
                        "https://127.0.0.1:6443");
    cJSON_Delete(o);
    assert_true(minik_yaml_parse_one("admin.conf", "a: [\n", 5, &o, &err) < 0);
    assert_string_equal(err->msg, "admin.conf:2:1: invalid YAML: did not find expected node "
                                  "content (while parsing a flow node at line 2)");
    minik_error_clear(&err);
    assert_true(minik_yaml_parse_one("x", "", 0, &o, &err) < 0);
    assert_string_equal(err->msg, "x: empty document");
}

static void kinds_table_lookups(void **state)
{
    assert_string_equal(minik_kind_by_name("deploy")->kind, "Deployment");
    assert_string_equal(minik_kind_by_name("PODS")->kind, "Pod");
    assert_string_equal(minik_kind_by_name("svc")->plural, "services");
    assert_string_equal(minik_kind_by_name("cm")->kind, "ConfigMap");
    assert_string_equal(minik_kind_by_name("no")->kind, "Node");
    assert_string_equal(minik_kind_by_name("ns")->kind, "Namespace");
    assert_string_equal(minik_kind_by_name("ev")->kind, "Event");
    assert_string_equal(minik_kind_by_name("secret")->kind, "Secret");
    assert_null(minik_kind_by_name("ingress"));
    assert_string_equal(minik_kind_by_resource("apps", "v1", "deployments")->kind, "Deployment");
    assert_null(minik_kind_by_resource("", "v1", "deployments"));
    assert_false(minik_kind_by_name("nodes")->namespaced);
    assert_true(minik_kind_by_name("endpoints")->namespaced);
    /* every default literal in every table parses (a broken one would be skipped) */
    for (const minik_kind_t *k = minik_kinds; k->kind; k++)
        assert_non_null(k->fields);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nginx_deployment_defaults_like_kubernetes),
        cmocka_unit_test(guestbook_decodes_and_defaults),
        cmocka_unit_test(configmap_secret_and_consuming_pod),
        cmocka_unit_test(configmap_literal_blocks_keep_their_text),
        cmocka_unit_test(probes_default_like_kubernetes),
        cmocka_unit_test(scheduling_volumes_security_and_resources),
        cmocka_unit_test(kubectl_get_output_applies_unchanged),
        cmocka_unit_test(host_network_ports_default_host_port),
        cmocka_unit_test(nodeport_service_and_named_target_port),
        cmocka_unit_test(cluster_scoped_kinds_get_no_namespace),
        cmocka_unit_test(nulls_are_unset_fields),
        cmocka_unit_test(defaulting_is_idempotent),
        cmocka_unit_test(all_errors_of_a_file_with_locations),
        cmocka_unit_test(warn_mode_downgrades_unknown_fields_only),
        cmocka_unit_test(wrong_types_and_missing_required),
        cmocka_unit_test(kinds_and_api_versions),
        cmocka_unit_test(names_labels_and_namespaces),
        cmocka_unit_test(name_rules_at_their_limits),
        cmocka_unit_test(cross_field_rules),
        cmocka_unit_test(topology_spread_constraints),
        cmocka_unit_test(quantities_in_manifests),
        cmocka_unit_test(json_bodies_without_positions),
        cmocka_unit_test(yaml_scalar_typing_follows_kubernetes),
        cmocka_unit_test(anchors_aliases_and_merge_keys),
        cmocka_unit_test(bad_yaml_is_located),
        cmocka_unit_test(limits_against_hostile_input),
        cmocka_unit_test(diagnostics_per_object_are_bounded),
        cmocka_unit_test(multi_documents_lists_and_json),
        cmocka_unit_test(json_from_other_tools),
        cmocka_unit_test(parse_one_for_config_files),
        cmocka_unit_test(kinds_table_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
