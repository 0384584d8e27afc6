# Release builds: a plain go build loop (see README "Releases: make dist and version").
MODULE    := gitlab.com/pipeline-artifacts/pipeline-artifacts
VERSION   ?= dev
# The last commit touching anything outside templates/, so the release commit that
# only pins the component's digests does not change the binaries' bytes.
COMMIT    ?= $(shell git log -1 --format=%H -- . ':(exclude)templates' 2>/dev/null)
PLATFORMS ?= linux/amd64 linux/arm64 linux/arm linux/s390x linux/ppc64le linux/riscv64 \
             darwin/amd64 darwin/arm64 freebsd/amd64 windows/amd64
GOARM     ?= 7
LDFLAGS   := -s -w -buildid= -X $(MODULE)/internal/cli.version=$(VERSION) -X $(MODULE)/internal/cli.commit=$(COMMIT)

.PHONY: dist clean test component check-component
dist:
	rm -rf dist && mkdir -p dist
	set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ "$$os" = windows ] && ext=.exe; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOARM=$(GOARM) go build -trimpath -buildvcs=false -tags urfave_cli_no_docs \
	    -ldflags "$(LDFLAGS)" -o dist/pipeline-artifacts-$$os-$$arch$$ext ./cmd/pipeline-artifacts; \
	done
	cd dist && LC_ALL=C sha256sum $$(LC_ALL=C ls | grep -v SHA256SUMS) > SHA256SUMS

clean:
	rm -rf dist

test:
	go test -race ./...

component:
	go run ./internal/release/pincomponent -version $(VERSION) dist/SHA256SUMS

check-component:
	go run ./internal/release/pincomponent -check -version $(VERSION) dist/SHA256SUMS

IMAGE ?= pipeline-artifacts:$(VERSION)
.PHONY: image
# The CA bundle comes from the build host, so the image builds with no registry.
image:
	cp /etc/ssl/certs/ca-certificates.crt dist/ca-certificates.crt
	docker build --build-arg VERSION=$(VERSION) --build-arg TARGETARCH=$$(go env GOARCH) -t $(IMAGE) .
