#!/usr/bin/env bash
# The docker-library entrypoint pattern that sesame replaces, for the benchmark:
# `file_env VAR` reads $VAR_FILE into $VAR (exclusive with $VAR), exports it and unsets
# $VAR_FILE. The function is the one in the official postgres/mysql/mariadb images.
#
#   file_env.sh NAMES_FILE COMMAND [ARG]...
#
# NAMES_FILE lists one variable name a line (an image hard-codes its few names; the
# benchmark needs N of them). Then the command is exec'd, as the images do.
set -Eeo pipefail

# usage: file_env VAR [DEFAULT]
#    ie: file_env 'XYZ_DB_PASSWORD' 'example'
# (will allow for "$XYZ_DB_PASSWORD_FILE" to fill in the value of
#  "$XYZ_DB_PASSWORD" from a file, especially for Docker's secrets feature)
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

mapfile -t names < "$1"
shift
for name in "${names[@]}"; do
	file_env "$name"
done
exec "$@"
