# Helpers shared by the tests/bench/bench_*.sh scripts: `. "$(dirname "$0")/lib.sh"`.
# (Not named bench_*.sh: run.sh runs those as benchmarks.)

# free_port : a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# val KEY : the value of a KEY=value line on stdin (the tools print their results so).
val() { sed -n "s/^$1=//p"; }

# median : the median of the numbers on stdin, one a line.
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# start_registry DIR : Debian's docker-registry on a free 127.0.0.1 port, storage and log
# under DIR, waited for until it answers. Sets REG_PORT and REG_PID; the caller stops it.
start_registry() {
    local dir=$1
    REG_PORT=$(free_port)
    mkdir -p "$dir"
    cat >"$dir/config.yml" <<EOC
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $dir/data}}
http: {addr: 127.0.0.1:$REG_PORT}
EOC
    docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
    REG_PID=$!
    local _
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$REG_PORT/v2/" >/dev/null && return 0
        sleep 0.1
    done
    echo "docker-registry did not answer on 127.0.0.1:$REG_PORT" >&2
    return 1
}
