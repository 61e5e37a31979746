#!/bin/sh
# Seeds fuzz/corpus/<target> from files the repository already has (the corpus itself
# grows to tens of MB and is not committed). Then, for example:
#   cd fuzz && ./seed.sh && cargo +nightly fuzz run -O manifest corpus/manifest -- -max_total_time=600
set -eu
cd "$(dirname "$0")"
mkdir -p corpus/manifest corpus/formats corpus/passwd corpus/user_spec
cp ../manifest.example.yaml corpus/manifest/example
find ../examples ../tests/fixtures -name '*.yaml' | while read -r f; do
    cp "$f" "corpus/manifest/$(echo "$f" | tr '/.' '__')"
done
# formats: the first byte picks the format (index into Format::ALL).
i=0
for k in ../tests/fixtures/keys/*.pem; do
    i=$((i + 1))
    { printf '\004'; cat "$k"; } > "corpus/formats/private$i" # rsa-private-key
    { printf '\005'; cat "$k"; } > "corpus/formats/public$i"  # rsa-public-key
    { printf '\003'; cat "$k"; } > "corpus/formats/pem$i"     # pem
done
printf '\000c2VjcmV0' > corpus/formats/base64
printf '\002deadbeef' > corpus/formats/hex
printf '\006https://u:p@h.example:8080/x' > corpus/formats/url
printf '\007123e4567-e89b-12d3-a456-426614174000' > corpus/formats/uuid
printf '\010{"a": [1, 2.5, null]}' > corpus/formats/json
# passwd: first line the --user spec, then passwd, then a form feed and group.
printf 'app:app\nroot:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n\014root:x:0:\napp:x:1000:\nextra:x:2000:app\n' > corpus/passwd/seed
printf 'nobody:nogroup' > corpus/user_spec/seed
echo "seeded: $(ls corpus/* | wc -l) files"
