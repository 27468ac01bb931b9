#!/usr/bin/env bash
# Two Tomcat 9 nodes sharing sessions through two memcached nodes, with a Tomcat stopped and a
# memcached node killed mid-session. Pass --keep-running to try it yourself with curl or a browser.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v memcached >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq memcached >/dev/null
  else
    echo "memcached is not installed: run 'sudo apt-get install -y memcached' (Debian/Ubuntu) and try again" >&2
    exit 1
  fi
fi

mvn -q -B -ntp install -DskipTests
exec mvn -q -B -ntp -pl msm-tc9-adapter exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.msm.tomcat.demo.FailoverDemo -Dexec.args="${1:-}" \
  -Djava.util.logging.config.file="$PWD/.ci/test-logging.properties"
