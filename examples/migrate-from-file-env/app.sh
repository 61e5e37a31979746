#!/bin/sh
# The program both images run: says what it received, never the values, then serves
# (sleeps) until it is stopped.
for var in DB_PASSWORD API_KEY SMTP_PASSWORD DB_PASSWORD_FILE API_KEY_FILE; do
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
