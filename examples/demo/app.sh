#!/bin/sh
# The demo's "real program": reports what it received, never the values themselves.
for var in PGPASSWORD API_TOKEN JWT_KEY SMTP_PASSWORD DB_PASSWORD; do
    eval "value=\${$var-}"
    if [ -n "$value" ]; then
        echo "app: $var is set (${#value} characters)"
    else
        echo "app: $var is not set"
    fi
done
if [ -r /tmp/sesame-demo/jwt_key ]; then
    echo "app: /tmp/sesame-demo/jwt_key holds $(wc -c < /tmp/sesame-demo/jwt_key) bytes"
fi
