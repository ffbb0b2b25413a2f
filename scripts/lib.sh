# shellcheck shell=bash disable=SC2034  # variables are used by the sourcing scripts
# Shared bash helpers for scripts/setup and scripts/services. Sourced, never run.
# Everything is derived from this file's location, so a clone anywhere works.

SCOUT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCOUT_DIR=$SCOUT_ROOT/.scout                  # gitignored: tools, caches, service data
ES_VERSION=8.15.5
# SeaweedFS (S3-compatible server): a pseudo-version the Go module proxy serves.
WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6
ES_HOME=${SCOUT_ES_HOME:-$SCOUT_DIR/opt/elasticsearch-$ES_VERSION}
PG_BIN=${SCOUT_PG_BIN:-/usr/lib/postgresql/15/bin}

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# Elasticsearch and PostgreSQL refuse to run as root, so root drops to the
# system user 'scout'; anybody else runs the services as themselves.
if is_root; then SCOUT_USER=scout; AS_USER=(runuser -u scout --)
else SCOUT_USER=$(id -un); AS_USER=(); fi
as_user() { "${AS_USER[@]}" "$@"; }

# A Java that Elasticsearch 8.15 can run on: major 17..23. The floor is ES's
# minimum; the ceiling exists because JDK 24 removed the SecurityManager that
# ES 8.15 still installs at boot (a Temurin 25 sits next to JDK 17 on our
# machines). Highest usable version wins; ES_JAVA_HOME from the caller wins all.
find_java_home() {
  if [[ -n ${ES_JAVA_HOME:-} ]]; then echo "$ES_JAVA_HOME"; return; fi
  local best="" best_v=0 d v
  for d in /usr/lib/jvm/*/; do
    d=${d%/}
    [[ -x $d/bin/java && -f $d/release && ! -L $d ]] || continue
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$d/release")
    [[ -n $v ]] && (( v >= 17 && v <= 23 && v > best_v )) && { best=$d; best_v=$v; }
  done
  [[ -n $best ]] || return 1
  echo "$best"
}

# Short stable id for a path: used to name fallback dirs outside the project.
path_hash() { printf '%s' "$1" | sha1sum | cut -c1-10; }
