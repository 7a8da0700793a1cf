#!/bin/sh
# One-shot setup run by the temporal-setup service in docker-compose.yml (temporalio/admin-tools image):
# waits for the Temporal server, then registers the namespace and the connector's custom search attributes.
# Safe to run any number of times: anything that already exists is left alone, so `docker compose up` after
# a restart or an upgrade succeeds and the worker (which waits for this job) starts.
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal-frontend:7233}"
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

# retry_until DESCRIPTION COMMAND...: runs COMMAND until it succeeds, at most MAX_TRIES times.
retry_until() {
  what="$1"
  shift
  tries=0
  until "$@"; do
    tries=$((tries + 1))
    if [ "$tries" -ge "$MAX_TRIES" ]; then
      log "$what: still not done after $tries attempts; giving up"
      return 1
    fi
    sleep "$SLEEP_SECONDS"
  done
}

server_serving() {
  temporal operator cluster health --address "$ADDRESS" 2>/dev/null | grep -q SERVING
}

search_attribute_listed() {
  temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE" 2>/dev/null | grep -qw "$1"
}

all_search_attributes_listed() {
  for name in $SEARCH_ATTRIBUTES; do
    search_attribute_listed "$name" || return 1
  done
}

log "waiting for the Temporal server at $ADDRESS (up to $MAX_TRIES x ${SLEEP_SECONDS}s)"
retry_until "the Temporal server at $ADDRESS" server_serving || exit 1
log "server is serving"

if temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  log "namespace $NAMESPACE: already exists"
else
  run_idempotent "namespace $NAMESPACE" \
    temporal operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
fi

# Checked first: the CLI reports success for an attribute that already exists, which would read as "created".
for name in $SEARCH_ATTRIBUTES; do
  if search_attribute_listed "$name"; then
    log "search attribute $name (Keyword): already exists"
  else
    run_idempotent "search attribute $name (Keyword)" \
      temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
      --name "$name" --type Keyword
  fi
done

# Creation is asynchronous on some visibility stores; only report success once every attribute is listed,
# so the worker never starts workflows that upsert an attribute the server does not know yet.
retry_until "listing the search attributes" all_search_attributes_listed || exit 1

log "namespace $NAMESPACE is ready with search attributes: $SEARCH_ATTRIBUTES"
