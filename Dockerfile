# The release image: built offline from dist/ (make dist, then make image).
# No base image is pulled: scratch plus the static binary and a CA bundle that
# `make image` copies from the build host into dist/ca-certificates.crt.
FROM scratch
ARG VERSION=dev
ARG TARGETARCH
LABEL org.opencontainers.image.title="pipeline-artifacts" \
      org.opencontainers.image.version="${VERSION}"
COPY dist/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY dist/pipeline-artifacts-linux-${TARGETARCH} /usr/local/bin/pipeline-artifacts
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/pipeline-artifacts"]
