#!/usr/bin/env bash
# What an operator runs, on this machine: two memcached, two Tomcat 9 distributions with the msm jar
# in lib/ and the <Manager> in conf/Catalina/localhost/xnat.xml, Apache httpd in front with
# conf-examples/apache/msm-sticky.conf. A user logs in and fills in a form; the Tomcat serving her is
# killed with kill -9, then the memcached node holding her session. Exits non-zero when she is logged
# out or loses data, and stops every process it started. The code: msm-e2e/src/test/java/io/msm/e2e/Demo.java.
#
#   ./demo.sh                   the walk-through, then everything stops
#   ./demo.sh --keep-running    then everything starts again and stays up for curl or a browser (Ctrl-C stops it)
set -euo pipefail
cd "$(dirname "$0")"

args=()
case "${1:-}" in
  "") ;;
  --keep-running) args+=(--keep-running) ;;
  *) echo "usage: $0 [--keep-running]" >&2; exit 2 ;;
esac

need=()
command -v memcached >/dev/null 2>&1 || [ -x /usr/bin/memcached ] || need+=(memcached)
[ -x /usr/sbin/apache2 ] || need+=(apache2)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
    # The packages start system services on 11211 and 80; the demo runs its own on free ports.
    if command -v service >/dev/null 2>&1; then
      for s in "${need[@]}"; do service "$s" stop >/dev/null 2>&1 || true; done
    fi
  else
    echo "the demo needs ${need[*]}: run 'sudo apt-get install -y ${need[*]}' (Debian/Ubuntu) and try again" >&2
    exit 1
  fi
fi

# Builds the adapter jars, unpacks the Tomcat distributions (msm-e2e's generate-test-resources)
# and compiles the demo, a test class of msm-e2e.
mvn -q -B -ntp -Dstyle.color=never install -DskipTests -pl msm-e2e -am

work=$(mktemp -d "${TMPDIR:-/tmp}/msm-demo.XXXXXX")

# The processes the demo recorded (<pid> <start time> <name>) that still run: none, unless its JVM
# was killed with SIGKILL. The start time (field 22 of /proc/<pid>/stat) tells them from any
# process that got the same PID later.
leftovers() {
  [ -f "$work/pids" ] || return 0
  local pid start name
  while read -r pid start name; do
    [ -r "/proc/$pid/stat" ] || continue
    [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f20)" = "$start" ] && echo "$pid"
  done < "$work/pids"
  return 0
}

status=0
cleanup() {
  local pids i
  pids=$(leftovers)
  if [ -n "$pids" ]; then
    echo "stopping what the demo left running: $(echo $pids)" >&2
    kill $pids 2>/dev/null || true
    for i in $(seq 1 30); do
      [ -z "$(leftovers)" ] && break
      sleep 0.5
    done
    pids=$(leftovers)
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  fi
  if [ "$status" = 0 ]; then
    rm -rf "$work"
  else
    echo "the demo's files and logs: $work" >&2
  fi
}
trap cleanup EXIT

mvn -q -B -ntp -Dstyle.color=never -pl msm-e2e exec:java -Dexec.classpathScope=test -Dexec.mainClass=io.msm.e2e.Demo \
  -Dexec.args="--dir $work ${args[*]:-}" || status=$?

# Stopped with Ctrl-C or kill after --keep-running, the walk-through having passed: a success.
if [ ${#args[@]} -gt 0 ] && [ -f "$work/passed" ] && { [ "$status" = 130 ] || [ "$status" = 143 ]; }; then
  echo "stopped"
  status=0
fi
exit "$status"
