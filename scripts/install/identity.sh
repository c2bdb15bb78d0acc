#!/usr/bin/env bash
# Keycloak, the stack's OIDC identity provider, pinned at 26.5.6 (idempotent; a
# second run takes well under a second):
#   1. the distribution zip from Maven Central, through mvn into ~/.m2
#   2. unzipped into .tools/keycloak-26.5.6
#   3. `kc.sh build` once with the build-time options the stack starts with
#      (scripts/devstack/identity/__init__.py runs `start --optimized`), so a
#      start skips Keycloak's slow build step
#   4. an empty H2 database with Keycloak's schema, copied into each new stack so
#      a first start skips creating the schema (Liquibase, several seconds)
# The stamp file records the build options; changing them rebuilds.
#
# Environment (optional):
#   AFIRGEN_SKIP_APT  1 = do not install Java 17 / Maven from apt when missing
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=26.5.6
ARTIFACT=org.keycloak:keycloak-quarkus-dist:$VERSION:zip
# Maven's local repository named explicitly: Java takes the home directory from the password
# database, not from $HOME, so without it a different $HOME would look for the zip elsewhere.
M2_REPO=$HOME/.m2/repository
ZIP=$M2_REPO/org/keycloak/keycloak-quarkus-dist/$VERSION/keycloak-quarkus-dist-$VERSION.zip
KC_HOME=$PWD/.tools/keycloak-$VERSION
STAMP=$KC_HOME/.afirgen-build
TEMPLATE=$KC_HOME/afirgen-schema/keycloakdb.mv.db # must match SCHEMA_TEMPLATE in __init__.py
# Must match BUILD_OPTIONS and H2_OPTIONS in scripts/devstack/identity/__init__.py.
BUILD_OPTIONS=(--db=dev-file)
H2_OPTIONS="NON_KEYWORDS=VALUE;DB_CLOSE_ON_EXIT=FALSE;TRACE_LEVEL_FILE=0"

log() { printf '[identity] %s\n' "$*"; }
die() { printf '[identity] ERROR: %s\n' "$*" >&2; exit 1; }
t0=$(date +%s)

java_major() { java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
if ! command -v java >/dev/null || (($(java_major) < 17)) || ! command -v mvn >/dev/null; then
  [[ ${AFIRGEN_SKIP_APT:-0} == 1 ]] && die "Keycloak needs Java 17+ and Maven (apt: openjdk-17-jre-headless maven)"
  log "installing Java 17 and Maven from apt"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openjdk-17-jre-headless maven
fi

built() { [[ -f $STAMP && $(cat "$STAMP") == "${BUILD_OPTIONS[*]}" ]]; }
if built && [[ -f $TEMPLATE ]]; then
  log "keycloak $VERSION already installed and built in $KC_HOME (${BUILD_OPTIONS[*]})"
  exit 0
fi

mkdir -p .tools
tmp=$(mktemp -d "$PWD/.tools/.identity.XXXXXX") # on the same file system as $KC_HOME: mv is a rename
trap 'rm -rf "$tmp"' EXIT

if [[ ! -x $KC_HOME/bin/kc.sh ]]; then
  if [[ ! -f $ZIP ]]; then
    log "downloading $ARTIFACT from Maven Central (165 MB) into ~/.m2"
    mvn -B -q dependency:get -Dartifact="$ARTIFACT" -Dtransitive=false -Dmaven.repo.local="$M2_REPO"
  fi
  log "unzipping $ZIP into $KC_HOME"
  unzip -q "$ZIP" -d "$tmp"
  rm -rf "$KC_HOME"
  mv "$tmp/keycloak-$VERSION" "$KC_HOME"
fi

if ! built; then
  log "building the server image: kc.sh build ${BUILD_OPTIONS[*]}"
  b0=$(date +%s)
  rm -f "$STAMP" "$TEMPLATE"
  "$KC_HOME/bin/kc.sh" build "${BUILD_OPTIONS[@]}" >"$KC_HOME/build.log" 2>&1 || {
    tail -n 30 "$KC_HOME/build.log" >&2
    die "kc.sh build failed (log $KC_HOME/build.log)"
  }
  printf '%s' "${BUILD_OPTIONS[*]}" >"$STAMP"
  log "built in $(($(date +%s) - b0))s"
fi

if [[ ! -f $TEMPLATE ]]; then
  # Keycloak writes its schema as SQL and stops ("manual" migration), then H2's own
  # tool runs that SQL: the result is the database of a first start, before any realm
  # exists, so the bootstrap admin and the realm import still happen per stack.
  log "creating the empty schema database $TEMPLATE"
  s0=$(date +%s)
  db="$tmp/schema/keycloakdb"
  "$KC_HOME/bin/kc.sh" start --optimized \
    "-Dquarkus.transaction-manager.object-store.directory=$tmp/transaction-logs" \
    --http-enabled=true --http-host=127.0.0.1 --http-port=0 --hostname-strict=false --cache=local \
    "--db-url=jdbc:h2:file:$db;$H2_OPTIONS" \
    --spi-connections-jpa-quarkus-initialize-empty=false \
    --spi-connections-jpa-quarkus-migration-strategy=manual \
    "--spi-connections-jpa-quarkus-migration-export=$tmp/schema.sql" >"$KC_HOME/schema.log" 2>&1 || true
  [[ -s $tmp/schema.sql ]] || { tail -n 30 "$KC_HOME/schema.log" >&2; die "no schema SQL (log $KC_HOME/schema.log)"; }
  java -cp "$(echo "$KC_HOME"/lib/lib/main/com.h2database.h2-*.jar)" org.h2.tools.RunScript \
    -url "jdbc:h2:file:$db;NON_KEYWORDS=VALUE" -script "$tmp/schema.sql" >>"$KC_HOME/schema.log" 2>&1 || {
    tail -n 30 "$KC_HOME/schema.log" >&2
    die "applying the schema failed (log $KC_HOME/schema.log)"
  }
  mkdir -p "$(dirname "$TEMPLATE")"
  mv "$db.mv.db" "$TEMPLATE"
  log "schema database created in $(($(date +%s) - s0))s"
fi
log "keycloak $VERSION ready in $KC_HOME ($(($(date +%s) - t0))s)"
