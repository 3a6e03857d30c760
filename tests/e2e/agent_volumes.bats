#!/usr/bin/env bats
# ConfigMap and Secret volumes: file modes (defaultMode, items[].mode) as Kubernetes sets
# them — a script shipped in a ConfigMap with defaultMode 0755 runs (the two-tier example's
# CGI front end depends on it).

load helpers
load apiserver_helpers
load images_lib
load agent_lib

teardown() {
    agent_suite_teardown
}

setup() {
    [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups)"
    agent_setup
}

@test "agent: configMap and secret volumes honour defaultMode and items[].mode" {
    kc apply -f - <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: scripts}
data:
  run.sh: |
    #!/bin/sh
    echo script-ran
  plain.txt: "text"
---
apiVersion: v1
kind: Secret
metadata: {name: key}
stringData: {id: "k"}
YAML
    local extra
    extra='{"volumes":[{"name":"s","configMap":{"name":"scripts","defaultMode":493}},
                       {"name":"one","configMap":{"name":"scripts","items":[{"key":"plain.txt","path":"p.txt","mode":384}]}},
                       {"name":"k","secret":{"secretName":"key","defaultMode":256}}]}'
    pod_yaml modes '/etc/s/run.sh; cd /etc; /bin/busybox stat -c "%a %n" s/run.sh s/plain.txt one/p.txt k/id; exec /bin/busybox sleep 1000' "$extra" |
        jq '.spec.containers[0].volumeMounts=[{"name":"s","mountPath":"/etc/s"},{"name":"one","mountPath":"/etc/one"},{"name":"k","mountPath":"/etc/k"}]' |
        kc apply -f -
    wait_for 30 pod_phase_is modes Running || { daemon_log agent >&2; false; }
    wait_for 10 bash -c "'$MINIK_BIN' logs modes | grep -q k/id"
    run kc logs modes
    echo "$output"
    [ "${lines[0]}" = "script-ran" ]
    [ "${lines[1]}" = "755 s/run.sh" ]
    [ "${lines[2]}" = "755 s/plain.txt" ]
    [ "${lines[3]}" = "600 one/p.txt" ]
    [ "${lines[4]}" = "400 k/id" ]
}
