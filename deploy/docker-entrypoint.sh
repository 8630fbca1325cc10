#!/bin/sh
# Entry point of the platform's container image (deploy/Dockerfile): one image, every role.
#
#   docker-entrypoint.sh [--role all|gateway|ingest|fanout|chatmgmt] [--option value ...]
#       runs `node --import tsx app/main.ts` with ROLE set; other options go to the process as they are
#       (`--help` prints them all). The role may also come from $ROLE; the flag wins.
#   docker-entrypoint.sh tables [--endpoint URL] [--prefix P]
#       creates the DynamoDB tables (runtime/adapters/dynamodb/tables-cli.ts), for one-shot setup jobs.
#   docker-entrypoint.sh dynalite [--port 4567] [--path DIR]
#       a dynalite server (DynamoDB API) on every interface, for local stacks without AWS.
#   docker-entrypoint.sh healthcheck
#       exits 0 when this container's GET /health answers 200 (the image's HEALTHCHECK).
#
# HOST=auto binds to this container's first non-loopback, non-link-local IPv4 address. Cluster nodes advertise the
# address they bind to (gateways and ingest nodes are called by it), so 0.0.0.0 only suits the embedded role.
#
# JWT_PRIVATE_KEY_PEM (a variable of this script, not of the platform): the PEM of chat management's signing key,
# as orchestrators that inject secrets only as variables (ECS) pass it. It is written to JWT_PRIVATE_KEY_FILE
# (default $DATA_DIR/jwt-signing-key.pem), mode 0600, and removed from the environment before node starts.
#
# ADMIN_TOKEN_FILE, OTP_PEPPER_FILE (variables of this script): a secret in a file, as Compose and Kubernetes
# mount them; read into ADMIN_TOKEN / OTP_PEPPER (trailing newlines dropped) and removed from the environment.
# Setting both a variable and its _FILE is refused. (INTERNAL_GRPC_TOKEN_FILE and JWT_PRIVATE_KEY_FILE are
# options of the platform itself.)
#
# The image runs in production mode (DEV_MODE=false): the process refuses to start without the settings of
# README "Running in production". Its internal listener (INTERNAL_PORT 9090: operator API, inspector, metrics)
# binds to every interface of the container; keep that port off any load balancer.
set -eu

APP_DIR="${APP_DIR:-$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)}"
ROLES="all gateway ingest fanout chatmgmt"

die() {
  echo "docker-entrypoint: $*" >&2
  exit 64
}

read_secret_file() {
  name="$1"
  eval "file=\${${name}_FILE:-}"
  if [ -n "$file" ]; then
    eval "current=\${${name}:-}"
    [ -z "$current" ] || die "set $name or ${name}_FILE, not both"
    [ -r "$file" ] || die "${name}_FILE: cannot read $file"
    value="$(cat -- "$file")"
    export "$name=$value"
  fi
  unset "${name}_FILE"
}

resolve_host() {
  if [ "${HOST:-}" = "auto" ]; then
    HOST="$(node -e '
      const all = Object.values(require("node:os").networkInterfaces()).flat();
      const ip = all.find((a) => a && a.family === "IPv4" && !a.internal && !a.address.startsWith("169.254."));
      if (!ip) process.exit(1);
      process.stdout.write(ip.address);
    ')" || die "HOST=auto: this container has no non-loopback IPv4 address"
    export HOST
  fi
}

cd "$APP_DIR"

case "${1:-}" in
  tables)
    shift
    exec node --import tsx runtime/adapters/dynamodb/tables-cli.ts "$@"
    ;;
  dynalite)
    shift
    exec node node_modules/dynalite/cli.js --host 0.0.0.0 --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 "$@"
    ;;
  healthcheck)
    resolve_host
    case "${HOST:-0.0.0.0}" in 0.0.0.0 | ::) HOST=127.0.0.1 ;; esac
    case "$HOST" in *:*) HOST="[$HOST]" ;; esac
    exec node -e '
      fetch(process.argv[1], { signal: AbortSignal.timeout(4000) }).then(
        (response) => process.exit(response.status === 200 ? 0 : 1),
        () => process.exit(1),
      );
    ' "http://${HOST}:${PORT:-8080}/health"
    ;;
esac

# Take --role out of the arguments (app/main.ts accepts it too, but it is validated here first so that a
# typo fails before node starts, with a message that names the valid roles).
role="${ROLE:-all}"
count=$#
while [ "$count" -gt 0 ]; do
  arg="$1"
  shift
  count=$((count - 1))
  case "$arg" in
    --role)
      [ "$count" -gt 0 ] || die "--role needs a value (one of: $ROLES)"
      role="$1"
      shift
      count=$((count - 1))
      ;;
    --role=*) role="${arg#--role=}" ;;
    *) set -- "$@" "$arg" ;;
  esac
done

case " $ROLES " in
  *" $role "*) ;;
  *) die "unknown role \"$role\" (expected one of: $ROLES)" ;;
esac
export ROLE="$role"
resolve_host

if [ -n "${JWT_PRIVATE_KEY_PEM:-}" ]; then
  JWT_PRIVATE_KEY_FILE="${JWT_PRIVATE_KEY_FILE:-${DATA_DIR:-./data}/jwt-signing-key.pem}"
  mkdir -p "$(dirname -- "$JWT_PRIVATE_KEY_FILE")"
  (umask 077 && printf '%s\n' "$JWT_PRIVATE_KEY_PEM" >"$JWT_PRIVATE_KEY_FILE") ||
    die "cannot write JWT_PRIVATE_KEY_PEM to $JWT_PRIVATE_KEY_FILE"
  export JWT_PRIVATE_KEY_FILE
fi
unset JWT_PRIVATE_KEY_PEM
for secret in ADMIN_TOKEN OTP_PEPPER; do read_secret_file "$secret"; done

exec node --import tsx app/main.ts "$@"
