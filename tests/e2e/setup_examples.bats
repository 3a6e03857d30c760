#!/usr/bin/env bats
# deploy/examples/: the manifests validate strictly. (hello runs end to end in demo.bats.)

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

@test "examples: hello and two-tier validate strictly (no unknown fields)" {
    run minik apply --dry-run=client -f "$REPO/deploy/examples/hello/"
    [ "$status" -eq 0 ]
    [ "$(grep -c 'created (dry run)' <<<"$output")" -eq 3 ]
    run minik apply --dry-run=client -f "$REPO/deploy/examples/two-tier/" -o json
    [ "$status" -eq 0 ]
    # The web tier finds the db by its Service name.
    [ "$(jq -r '(.items[]? // .) | select(.kind == "Deployment" and .metadata.name == "web") | .spec.template.spec.containers[0].env[] | select(.name == "DB_HOST") | .value' <<<"$output")" = db ]
    [ "$(jq -r '(.items[]? // .) | select(.kind == "Service") | .metadata.name' <<<"$output" | sort | tr '\n' ' ')" = "db web " ]
}
