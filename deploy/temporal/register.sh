#!/bin/sh
# One-shot setup run by the temporal-setup service in docker-compose.yml (temporalio/admin-tools image):
# waits for the Temporal server, then registers the namespace and the connector's custom search attributes.
# Safe to run any number of times: anything that already exists is left alone, so `docker compose up` after
# a restart or an upgrade succeeds and the worker (which waits for this job) starts.
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-168h}"
MAX_TRIES="${SETUP_MAX_TRIES:-60}"
SLEEP_SECONDS="${SETUP_SLEEP_SECONDS:-2}"

# Keep in sync with src/searchAttributes.ts. All Keyword: exact-match filters in the Web UI, and the SQL
# visibility store has enough Keyword slots for them.
SEARCH_ATTRIBUTES="TicketNumber TicketState AssignmentId ResourceType ConnectionId ProvisioningState"

log() {
  echo "[temporal-setup] $*"
}

# run_idempotent DESCRIPTION COMMAND...
# Retries transient failures (the server is up but the namespace cache has not caught up yet) and treats
# "already exists" as success. Bounded, so a real misconfiguration fails the job instead of hanging it.
run_idempotent() {
  what="$1"
  shift
  tries=0
  while :; do
    if output="$("$@" 2>&1)"; then
      log "$what: created"
      return 0
    fi
    case "$output" in
      *"already exists"* | *"AlreadyExists"* | *"already registered"*)
        log "$what: already exists"
        return 0
        ;;
    esac
    tries=$((tries + 1))
    if [ "$tries" -ge "$MAX_TRIES" ]; then
      log "$what: failed after $tries attempts:"
      echo "$output" >&2
      return 1
    fi
    sleep "$SLEEP_SECONDS"
  done
}

log "waiting for the Temporal server at $ADDRESS (up to $MAX_TRIES x ${SLEEP_SECONDS}s)"
tries=0
until temporal operator cluster health --address "$ADDRESS" 2>/dev/null | grep -q SERVING; do
  tries=$((tries + 1))
  if [ "$tries" -ge "$MAX_TRIES" ]; then
    log "the Temporal server at $ADDRESS is not serving after $tries attempts; giving up"
    exit 1
  fi
  sleep "$SLEEP_SECONDS"
done
log "server is serving"

if temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  log "namespace $NAMESPACE: already exists"
else
  run_idempotent "namespace $NAMESPACE" \
    temporal operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
fi

for name in $SEARCH_ATTRIBUTES; do
  run_idempotent "search attribute $name (Keyword)" \
    temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
    --name "$name" --type Keyword
done

# Creation is asynchronous on some visibility stores; only report success once every attribute is listed,
# so the worker never starts workflows that upsert an attribute the server does not know yet.
tries=0
while :; do
  listed="$(temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE" 2>/dev/null || true)"
  missing=""
  for name in $SEARCH_ATTRIBUTES; do
    if ! printf '%s\n' "$listed" | grep -qw "$name"; then
      missing="$missing $name"
    fi
  done
  if [ -z "$missing" ]; then
    break
  fi
  tries=$((tries + 1))
  if [ "$tries" -ge "$MAX_TRIES" ]; then
    log "search attributes still missing after $tries attempts:$missing"
    exit 1
  fi
  sleep "$SLEEP_SECONDS"
done

log "namespace $NAMESPACE is ready with search attributes: $SEARCH_ATTRIBUTES"
