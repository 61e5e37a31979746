# sesame as an image: a static binary at /sesame and nothing else.
#
#   docker build -t sesame .
#
# Then, in your own image:
#
#   COPY --from=sesame /sesame /sesame
#   COPY manifest.yaml /etc/sesame/manifest.yaml
#   ENTRYPOINT ["/sesame", "--"]
#   CMD ["my-server"]
#
# No registry? Build the binary on the host and use Dockerfile.prebuilt instead (see
# docs/docker.md): it produces the same final image without pulling anything.

FROM rust:1-bookworm AS build
# Cargo features: empty for the default flavour, `aws` for the one that also fetches
# from AWS Secrets Manager and SSM Parameter Store (docs/aws.md), `vault` for HashiCorp
# Vault (docs/vault.md), `aws,vault` for both:
#   docker build --build-arg FEATURES=aws -t sesame:aws .
ARG FEATURES=""
WORKDIR /src
COPY . .
# A static glibc binary (static-pie): it runs in a FROM scratch image, and in any
# image whatever its libc. The target is the builder's own architecture.
RUN target="$(uname -m)-unknown-linux-gnu" \
 && RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build --release --locked --target "$target" --features "$FEATURES" \
 && cp "target/$target/release/sesame" /sesame \
 && /sesame --version

FROM scratch
COPY --from=build /sesame /sesame
ENTRYPOINT ["/sesame"]
