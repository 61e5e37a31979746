#!/bin/sh
# The demo of sesame's main job, on the manifest and secrets beside this script:
#   1. `sesame check` prints the report a HEALTHCHECK or an operator sees;
#   2. sesame resolves, validates and injects, then execs app.sh, which reports what it got;
#   3. with one secret removed and one made invalid, sesame refuses to start the app,
#      lists every problem at once, and exits 78.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
cargo build --quiet --release
sesame=target/release/sesame

echo "== 1. sesame check"
"$sesame" -m "$here/manifest.yaml" -d "$here/secrets" check

echo
echo "== 2. sesame -- app.sh"
"$sesame" -m "$here/manifest.yaml" -d "$here/secrets" -- "$here/app.sh"

echo
echo "== 3. a broken deployment: API_TOKEN missing, DB_PASSWORD too short"
broken=$(mktemp -d)
trap 'rm -rf "$broken"' EXIT
cp "$here/secrets/JWT_SIGNING_KEY" "$broken/"
printf 'short\n' > "$broken/db_password"
set +e
"$sesame" -m "$here/manifest.yaml" -d "$broken" -- "$here/app.sh"
code=$?
set -e
echo "sesame exited $code (78: a secret is missing or invalid; the app never started)"
[ "$code" -eq 78 ]
