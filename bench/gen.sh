#!/usr/bin/env bash
# Generates one benchmark case: N secrets as files, and the manifests that read them.
#
#   bench/gen.sh DIR N
#
# DIR/secrets/SECRET_00001 ...  one file a secret: 64 hex digits and a newline
# DIR/manifest-dir.yaml         sources: [file]  (read from the secrets directory, -d)
# DIR/manifest-xfile.yaml       default sources  (file_env wins: read through $X_FILE)
# DIR/names                     the variable names, one a line (for file_env.sh)
# DIR/env                       SECRET_00001_FILE=DIR/secrets/SECRET_00001 ... one a line
#
# Every secret has `min_length: 32`; every fifth also `format: hex` with
# `decoded_bytes: 32`, and another fifth a `pattern:`, so that validation does real work
# and the patterns are compiled. Values are distinct (no duplicate warnings) and not
# weak, so sesame starts without a single warning line.
set -euo pipefail
dir=$1 n=$2
mkdir -p "$dir/secrets"
awk -v dir="$dir" -v n="$n" 'BEGIN {
    srand(n)
    md = dir "/manifest-dir.yaml"; mx = dir "/manifest-xfile.yaml"
    printf "version: 1\nsources: [file]\nsecrets:\n" > md
    printf "version: 1\nsecrets:\n" > mx
    for (i = 1; i <= n; i++) {
        name = sprintf("SECRET_%05d", i)
        v = ""
        for (k = 0; k < 8; k++) v = v sprintf("%08x", int(rand() * 4294967296))
        f = dir "/secrets/" name
        print v > f; close(f)
        print name > (dir "/names")
        print name "_FILE=" f > (dir "/env")
        s = "  " name ":\n    description: benchmark secret " i "\n    min_length: 32\n"
        if (i % 5 == 0) s = s "    format: hex\n    decoded_bytes: 32\n"
        if (i % 5 == 2) s = s "    pattern: \x27^[0-9a-f]{64}$\x27\n"
        printf "%s", s > md
        printf "%s", s > mx
    }
}'
