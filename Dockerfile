# The release image: FROM scratch, built offline from dist/ (no base image is
# pulled, no registry is needed):
#
#   make dist VERSION=v1.2.3 PLATFORMS=linux/amd64   # or the full release dist/
#   make image VERSION=v1.2.3                         # copies the host's CA bundle into dist/
#   docker run --rm pipeline-artifacts:v1.2.3 version
#
# A fleet runs `serve` from it (examples/fleet); a job image takes the binary
# with `COPY --from=registry.example.com/pipeline-artifacts:1.2.3 /usr/local/bin/pipeline-artifacts /usr/local/bin/`.
# The binary is static; it also carries Mozilla's roots as a fallback, so it
# runs in images that have no CA bundle of their own.
FROM scratch
ARG VERSION=dev
# docker buildx sets TARGETARCH; plain `docker build` gets it from make image.
ARG TARGETARCH=amd64
LABEL org.opencontainers.image.title="pipeline-artifacts" \
      org.opencontainers.image.description="GitLab CI: sibling jobs' artifact URLs while the pipeline runs" \
      org.opencontainers.image.version="${VERSION}"
COPY dist/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY dist/pipeline-artifacts-linux-${TARGETARCH} /usr/local/bin/pipeline-artifacts
# 65532 is "nonroot" in distroless images; any unprivileged id works.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/pipeline-artifacts"]
