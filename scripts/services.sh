#!/usr/bin/env bash
# services.sh — the services Herald's tests use, on a Debian/Ubuntu machine:
# PostgreSQL (store tests, HERALD_TEST_POSTGRES) and Redis (bus tests).
#
#   scripts/services.sh           install what is missing, start what is stopped
#   scripts/services.sh --check   only report what is reachable (exit 1 if not all)
#
# Idempotent: run it as often as you like. Installing needs root (or sudo).
# Tests find PostgreSQL at HERALD_TEST_POSTGRES, default
# postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable: this script
# gives the local cluster trust authentication for the postgres user over
# 127.0.0.1, which is right for a development or CI machine and nothing else.
set -euo pipefail

PG_URL=${HERALD_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
REDIS_HOST=${HERALD_TEST_REDIS_HOST:-127.0.0.1}
REDIS_PORT=${HERALD_TEST_REDIS_PORT:-6379}

say() { printf '%s\n' "services: $*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pg_ok() {
	command -v psql >/dev/null 2>&1 && psql "$PG_URL" -Atqc 'select 1' >/dev/null 2>&1
}

redis_ok() {
	if command -v redis-cli >/dev/null 2>&1; then
		[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
	else
		# No client: a bare TCP check.
		(exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT") 2>/dev/null
	fi
}

check() {
	local ok=0
	if pg_ok; then say "postgres: reachable at ${PG_URL%%\?*}"; else say "postgres: NOT reachable at ${PG_URL%%\?*}"; ok=1; fi
	if redis_ok; then say "redis: reachable at $REDIS_HOST:$REDIS_PORT"; else say "redis: NOT reachable at $REDIS_HOST:$REDIS_PORT"; ok=1; fi
	return $ok
}

install_missing() {
	local pkgs=()
	command -v pg_ctlcluster >/dev/null 2>&1 || pkgs+=(postgresql postgresql-client)
	command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
	if [ ${#pkgs[@]} -gt 0 ]; then
		say "installing ${pkgs[*]}"
		as_root apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}"
	fi
}

start_postgres() {
	local ver
	ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$ver" ]; then
		say "postgres: no cluster under /etc/postgresql"; return 1
	fi
	local hba="/etc/postgresql/$ver/main/pg_hba.conf"
	# Trust the postgres user on the loopback address (tests connect over TCP).
	if ! as_root grep -qE '^host\s+all\s+postgres\s+127\.0\.0\.1/32\s+trust' "$hba"; then
		say "postgres: trusting user postgres on 127.0.0.1 in $hba"
		as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
		as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload 2>/dev/null || true
	fi
	if ! as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main status >/dev/null 2>&1; then
		say "postgres: starting cluster $ver/main"
		as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start
	fi
}

start_redis() {
	if redis_ok; then return 0; fi
	say "redis: starting redis-server on $REDIS_HOST:$REDIS_PORT"
	as_root redis-server --bind "$REDIS_HOST" --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no
}

case "${1:-}" in
--check)
	check
	;;
"")
	pg_ok && redis_ok && { check; exit 0; }
	install_missing
	pg_ok || start_postgres
	start_redis
	# A fresh cluster needs a moment before it accepts connections.
	for _ in $(seq 1 20); do pg_ok && break; sleep 0.5; done
	check
	;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac
