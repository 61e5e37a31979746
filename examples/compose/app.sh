#!/bin/sh
# The example's "real program": says what it received, never the values, then serves
# (sleeps) until it is stopped.
echo "app: running as uid $(id -u)"
for var in DB_PASSWORD API_KEY SMTP_PASSWORD; do
    if eval "[ -n \"\${$var+set}\" ]"; then
        eval "value=\${$var}"
        echo "app: $var is set (${#value} characters)"
    else
        echo "app: $var is not set"
    fi
done
echo "app: ready"
trap 'echo "app: SIGTERM, shutting down"; exit 0' TERM
while :; do
    sleep 3600 &
    wait $!
done
