#!/usr/bin/env bats
# The CronJob controller inside the real `minik server`, on hollow nodes (`minik agent
# --hollow`: a container whose command ends in `exit N` exits with N). A `* * * * *`
# schedule fires on minute boundaries, so the test waits for them (bounded waits on what
# the API shows, never a sleep standing in for an assertion): the first Job within ~70 s
# with its pod completed, history limits over two runs, and `suspend: true` stopping runs.

load helpers
load apiserver_helpers

eval "$(declare -f teardown | sed '1s/^teardown/api_teardown/')"
teardown() {
    local st=0
    api_teardown || st=1
    if [ -f "$BATS_TEST_TMPDIR/hollow.log" ] && grep -q "Sanitizer\|runtime error" "$BATS_TEST_TMPDIR/hollow.log"; then
        cat "$BATS_TEST_TMPDIR/hollow.log" >&2
        st=1
    fi
    return $st
}

setup() {
    start_server --insecure-http
    export MINIK_CONFIG="$DATA/admin.conf"
}

cronjob_json() { # NAME EXIT_CODE : a minutely CronJob keeping one finished Job of each kind
    printf '{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"%s"},"spec":{"schedule":"* * * * *","successfulJobsHistoryLimit":1,"failedJobsHistoryLimit":1,"jobTemplate":{"spec":{"backoffLimit":0,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"work","image":"busybox","command":["sh","-c","exit %s"]}]}}}}}}' "$1" "$2"
}

jobs_of() { # CRONJOB → its Jobs' "name:Complete|Failed|active" lines, oldest first
    api GET /apis/batch/v1/namespaces/default/jobs | sed '$d' |
        jq -r --arg cj "$1" '[.items[] | select(.metadata.ownerReferences[0].name == $cj)] | sort_by(.metadata.name)[] |
            .metadata.name + ":" + ([.status.conditions[]? | select(.status == "True") | .type] + ["active"])[0]'
}
# CRONJOB N STATE : at least N Jobs of it have reached STATE
runs_at_least() { [ "$(jobs_of "$1" | grep -c ":$3\$")" -ge "$2" ]; }
# CRONJOB N : exactly N Jobs, none active
settled_at() { [ "$(jobs_of "$1" | wc -l)" -eq "$2" ] && ! jobs_of "$1" | grep -q ':active$'; }

@test "cronjob: a minutely CronJob runs Jobs to completion, keeps its history limits, and stops when suspended" {
    start_daemon hollow "$MINIK_BIN" agent --kubeconfig "$DATA/admin.conf" --hollow 2 \
        --node-name cj --data-dir "$(make_tmpdir hollow)"
    nodes2() { [ "$(minik get nodes -o json | jq '[.items[] | select(.metadata.name | startswith("cj-"))] | length')" = 2 ]; }
    wait_for 20 nodes2
    out=$(api POST /apis/batch/v1/namespaces/default/cronjobs "$(cronjob_json tick 0)")
    [ "$(code_of "$out")" = 201 ]
    out=$(api POST /apis/batch/v1/namespaces/default/cronjobs "$(cronjob_json flop 1)")
    [ "$(code_of "$out")" = 201 ]

    # The first run: a Job at the next minute boundary, its pod run to completion.
    wait_for 75 runs_at_least tick 1 Complete
    first=$(jobs_of tick | head -n1 | cut -d: -f1)
    # Named by its scheduled minute; the scheduled time is on the Job and the CronJob.
    minute=${first#tick-}
    sched=$(api GET "/apis/batch/v1/namespaces/default/jobs/$first" | sed '$d' |
        jq -r '.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]')
    [ "$(date -u -d "$sched" +%s)" -eq $((minute * 60)) ]
    pods=$(api GET /api/v1/namespaces/default/pods | sed '$d')
    [ "$(jq --arg j "$first" '[.items[] | select(.metadata.ownerReferences[0].name == $j and .status.phase == "Succeeded")] | length' <<<"$pods")" = 1 ]
    cj_field() { api GET /apis/batch/v1/namespaces/default/cronjobs/tick | sed '$d' | jq -r "$1"; }
    [ "$(cj_field .status.lastScheduleTime)" = "$sched" ]
    has_success() { [ "$(cj_field .status.lastSuccessfulTime)" != null ]; }
    wait_for 20 has_success
    wait_for 20 runs_at_least flop 1 Failed

    # The second run: with both history limits at 1, each CronJob keeps only its latest
    # finished Job (the first one and its pod are deleted).
    newer_complete() { jobs_of tick | grep ':Complete$' | grep -vq "^$first:"; }
    wait_for 75 newer_complete
    wait_for 20 settled_at tick 1
    [ "$(jobs_of tick | cut -d: -f1)" != "$first" ]
    [ "$(jobs_of tick | cut -d: -f2)" = Complete ]
    wait_for 30 settled_at flop 1
    [ "$(jobs_of flop | cut -d: -f2)" = Failed ]
    no_pods_of() { [ "$(api GET /api/v1/namespaces/default/pods | sed '$d' | jq --arg j "$1" '[.items[] | select(.metadata.ownerReferences[0].name == $j)] | length')" = 0 ]; }
    wait_for 20 no_pods_of "$first"

    # Suspended: the next minute boundary passes and no Job is created.
    out=$(api PATCH /apis/batch/v1/namespaces/default/cronjobs/tick '{"spec":{"suspend":true}}' application/merge-patch+json)
    [ "$(code_of "$out")" = 200 ]
    last=$(jobs_of tick | cut -d: -f1)
    suspended_at=$(date +%s)
    # Wait (bounded) until a scheduled minute has passed since the suspend, with slack
    # for a loaded machine; the flop CronJob, still running, shows the controller was
    # firing meanwhile.
    boundary=$(((suspended_at / 60 + 1) * 60))
    flop_ran_after() { jobs_of flop | cut -d: -f1 | awk -F- -v m=$(($1 / 60)) '$2 >= m {f=1} END {exit !f}'; }
    wait_for 90 flop_ran_after "$boundary"
    # ...and has run that Job to its end, so a Job of tick's for the same minute would exist.
    wait_for 30 settled_at flop 1
    [ "$(jobs_of tick | cut -d: -f1)" = "$last" ]
    cj=$(api GET /apis/batch/v1/namespaces/default/cronjobs/tick | sed '$d')
    [ "$(jq -r .spec.suspend <<<"$cj")" = true ]
    [ "$(date -u -d "$(jq -r .status.lastScheduleTime <<<"$cj")" +%s)" -lt "$boundary" ]
    stop_daemon hollow
    [ "${DAEMON_STATUS:-0}" -eq 0 ]
}
