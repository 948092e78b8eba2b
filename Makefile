# Pinned tool versions. Change a pin here and "make tools" rebuilds only that tool.
ETCD_VERSION      := v3.6.16
ETCD_35_VERSION   := v3.5.35
ETCD_37_VERSION   := v3.7.3
VERSITYGW_VERSION := v1.8.0
AZURITE_VERSION   := 3.37.0
ETCDBR_VERSION    := v0.40.0
FAKEGCS_VERSION   := v1.56.1

GO        ?= go
# Targets use the relative path (so "make .tools/bin/etcd" works); commands get the absolute one.
TOOLS_BIN := .tools/bin
TOOLS_ABS := $(CURDIR)/$(TOOLS_BIN)

# Tool binaries built by "make tools" (from the Go module proxy, never downloaded prebuilt).
TOOLS := $(TOOLS_BIN)/etcd $(TOOLS_BIN)/etcdctl $(TOOLS_BIN)/etcdutl \
	$(TOOLS_BIN)/etcd-3.5 $(TOOLS_BIN)/etcd-3.7 $(TOOLS_BIN)/versitygw $(TOOLS_BIN)/azurite-blob \
	$(TOOLS_BIN)/etcdbrctl $(TOOLS_BIN)/fake-gcs-server

# Version each binary should be at; the stamp file .tools/bin/.<name>.version holds it.
VERSION_etcd      := $(ETCD_VERSION)
VERSION_etcdctl   := $(ETCD_VERSION)
VERSION_etcdutl   := $(ETCD_VERSION)
VERSION_etcd-3.5  := $(ETCD_35_VERSION)
VERSION_etcd-3.7  := $(ETCD_37_VERSION)
VERSION_versitygw := $(VERSITYGW_VERSION)
VERSION_azurite-blob := $(AZURITE_VERSION)
VERSION_etcdbrctl := $(ETCDBR_VERSION)
VERSION_fake-gcs-server := $(FAKEGCS_VERSION)

.PHONY: all tools sysdeps build lint test bench fuzz testdata run screenshots clean clean-tools FORCE

all: build

tools: $(TOOLS)

# The stamp is rewritten only when its content differs from the pin, so its
# mtime moves (and the binary is rebuilt) only when the pin changes. A binary
# that is missing, or older than its stamp (failed or interrupted build), is
# rebuilt too.
$(TOOLS_BIN)/.%.version: FORCE
	@mkdir -p $(@D)
	@if [ "$$(cat $@ 2>/dev/null)" != "$(VERSION_$*)" ]; then echo "$(VERSION_$*)" > $@; fi

# Each etcd minor has its own module under tools/, since one go.mod can hold
# only one version of go.etcd.io/etcd/server/v3. "go install pkg@version" does
# not work for etcd (its go.mod has replace directives).
define etcd_build
	@echo "building $(notdir $@) $(VERSION_$(notdir $@))"
	cd tools/$(1) && CGO_ENABLED=0 $(GO) build -trimpath -o $(CURDIR)/$@ $(2)
endef

$(TOOLS_BIN)/etcd: $(TOOLS_BIN)/.etcd.version tools/etcd-3.6/go.mod tools/etcd-3.6/go.sum
	$(call etcd_build,etcd-3.6,go.etcd.io/etcd/server/v3)
$(TOOLS_BIN)/etcdctl: $(TOOLS_BIN)/.etcdctl.version tools/etcd-3.6/go.mod tools/etcd-3.6/go.sum
	$(call etcd_build,etcd-3.6,go.etcd.io/etcd/etcdctl/v3)
$(TOOLS_BIN)/etcdutl: $(TOOLS_BIN)/.etcdutl.version tools/etcd-3.6/go.mod tools/etcd-3.6/go.sum
	$(call etcd_build,etcd-3.6,go.etcd.io/etcd/etcdutl/v3)
$(TOOLS_BIN)/etcd-3.5: $(TOOLS_BIN)/.etcd-3.5.version tools/etcd-3.5/go.mod tools/etcd-3.5/go.sum
	$(call etcd_build,etcd-3.5,go.etcd.io/etcd/server/v3)
$(TOOLS_BIN)/etcd-3.7: $(TOOLS_BIN)/.etcd-3.7.version tools/etcd-3.7/go.mod tools/etcd-3.7/go.sum
	$(call etcd_build,etcd-3.7,go.etcd.io/etcd/server/v3)

# gardener's etcd-backup-restore, for the interoperability tests. The checksum database does not know its
# releases (it answers 404), so tools/etcdbr/go.sum, committed, is what its download is checked against.
$(TOOLS_BIN)/etcdbrctl: $(TOOLS_BIN)/.etcdbrctl.version tools/etcdbr/go.mod tools/etcdbr/go.sum
	@echo "building etcdbrctl $(ETCDBR_VERSION)"
	cd tools/etcdbr && CGO_ENABLED=0 GONOSUMDB=github.com/gardener $(GO) build -trimpath -o $(CURDIR)/$@ github.com/gardener/etcd-backup-restore

$(TOOLS_BIN)/versitygw: $(TOOLS_BIN)/.versitygw.version
	@echo "building versitygw $(VERSITYGW_VERSION)"
	GOBIN=$(TOOLS_ABS) CGO_ENABLED=0 $(GO) install -trimpath \
		-ldflags "-X main.Version=$(VERSITYGW_VERSION) -X main.Build=module-proxy" \
		github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)
	@touch $@

# fake-gcs-server (GCS emulator) for the gs:// store tests; its go.mod has no replace directives.
$(TOOLS_BIN)/fake-gcs-server: $(TOOLS_BIN)/.fake-gcs-server.version
	@echo "building fake-gcs-server $(FAKEGCS_VERSION)"
	GOBIN=$(TOOLS_ABS) CGO_ENABLED=0 $(GO) install -trimpath github.com/fsouza/fake-gcs-server@$(FAKEGCS_VERSION)
	@touch $@

# Azurite (Azure Blob emulator) from the npm registry, for the azblob:// store tests. Needs node and npm.
$(TOOLS_BIN)/azurite-blob: $(TOOLS_BIN)/.azurite-blob.version
	@echo "installing azurite $(AZURITE_VERSION)"
	@command -v npm >/dev/null 2>&1 || { echo "installing nodejs and npm"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	npm install --silent --no-audit --no-fund --prefix $(CURDIR)/.tools/azurite azurite@$(AZURITE_VERSION)
	@rm -f $@
	printf '#!/bin/sh\nexec "$$(dirname "$$0")/../azurite/node_modules/.bin/azurite-blob" "$$@"\n' > $@
	chmod +x $@

# System packages the tests need: tmux drives the TUI end-to-end test; promtool (Debian's prometheus package)
# checks and unit-tests the sample alert rules in deploy/prometheus.
sysdeps:
	@command -v tmux >/dev/null 2>&1 || { \
		echo "installing tmux"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux; }
	@command -v promtool >/dev/null 2>&1 || { \
		echo "installing prometheus (for promtool)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; }

build:
	$(GO) build -o bin/etcd-dr ./cmd/etcd-dr

lint:
	@out="$$(find . -name '*.go' -not -path './.*' -exec gofmt -l {} +)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: tools sysdeps
	ETCD_DR_TOOLS=$(TOOLS_ABS) $(GO) test -race -timeout 25m ./...
	# the restore's memory bound, measured on the build users run (under -race the shadow memory sets the peak)
	ETCD_DR_TOOLS=$(TOOLS_ABS) $(GO) test -count=1 -run '^TestRestoreHugeDeltaPeakRSS$$' ./engine/restore/
	cd tools/deploycheck && $(GO) test -count=1 ./...

# Every native fuzz target, one after the other, FUZZTIME each (their seed corpora already run in "make test").
# New crashers land in the package's testdata/fuzz/ (git-ignored): turn the ones worth keeping into f.Add seeds.
FUZZTIME ?= 60s
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' cmd engine store internal tui); do \
		for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "== $$t ./$$(dirname $$f) ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./$$(dirname $$f); \
		done; \
	done

bench: tools
	ETCD_DR_TOOLS=$(TOOLS_ABS) $(GO) test -run '^$$' -bench . -benchtime 1x ./...

# Regenerates testdata/ from real etcd servers (embedded 3.6 and the 3.5 binary); see testdata/README.md.
# testdata/wild/ (git-ignored) gets the other tools' layouts from both servers, as the tests make them.
testdata: $(TOOLS_BIN)/etcd-3.5
	$(GO) run ./internal/fixture/gen -out testdata -etcd35 $(TOOLS_ABS)/etcd-3.5 -wild testdata/wild

# PNGs of the TUI's screens and wizards, from a real run of the binary driven in tmux (tools/screenshots draws
# tmux's colour capture with DejaVu Sans Mono).
screenshots: build sysdeps
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf || { echo "installing fonts-dejavu-core"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core; }
	cd tools/screenshots && $(GO) run . -bin $(CURDIR)/bin/etcd-dr -out $(CURDIR)/screenshots -testdata $(CURDIR)/testdata

# The demo: an embedded etcd, real backups of it in .demo/, shown by bin/etcd-dr; on a terminal it then keeps an
# etcd with writes going on, backs it up with etcd-dr --daemon into .demo/stores/live and opens the console.
run: build
	$(GO) run ./internal/demo -dir .demo -bin bin/etcd-dr -etcd35 $(TOOLS_ABS)/etcd-3.5

clean:
	rm -rf bin .demo

clean-tools:
	rm -rf .tools

FORCE:
