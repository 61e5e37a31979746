#!/bin/bash
# BEFORE: the docker-library style entrypoint. Each secret may come from VAR or from
# the file named by VAR_FILE; nothing checks what the values look like, a typo in a
# path is found when the app fails, and `exec "$@"` makes the app PID 1.
set -Eeuo pipefail

# usage: file_env VAR [DEFAULT]
file_env() {
	local var="$1"
	local fileVar="${var}_FILE"
	local def="${2:-}"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$fileVar"
		exit 1
	fi
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!fileVar:-}" ]; then
		val="$(< "${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

file_env DB_PASSWORD
file_env API_KEY
file_env SMTP_PASSWORD ''

if [ -z "$DB_PASSWORD" ]; then
	echo >&2 'error: DB_PASSWORD is not set (set DB_PASSWORD or DB_PASSWORD_FILE)'
	exit 1
fi
if [ -z "$API_KEY" ]; then
	echo >&2 'error: API_KEY is not set (set API_KEY or API_KEY_FILE)'
	exit 1
fi
if [ -z "$SMTP_PASSWORD" ]; then
	unset SMTP_PASSWORD
fi

exec "$@"
