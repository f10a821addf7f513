# linkplane: `make demo` and `make test` do all the set-up on a fresh Debian 12
# machine as root (apt-get installs what is missing), then build and run.
BUILD ?= build
ASAN_BUILD ?= $(BUILD)/asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build build-asan test unit-test asan-test e2e-test fuzz-test bench demo clean install package

all: build

deps:
	bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLP_WERROR=ON $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	@grep -q '^LP_WERROR:BOOL=ON' $(BUILD)/CMakeCache.txt || cmake -DLP_WERROR=ON $(BUILD)
	ninja -C $(BUILD) -j $(JOBS)

# AddressSanitizer + UBSan build of the unit tests and the fuzz targets, with clang.
$(ASAN_BUILD)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DLP_SANITIZE=ON -DLP_FUZZ=ON -DLP_BENCH=OFF -DLP_WERROR=ON

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) -j $(JOBS) unit_tests $$(ninja -C $(ASAN_BUILD) -t targets all | grep -o '^fuzz_[a-z0-9_]*' | sort -u)

test: build build-asan
	bash scripts/run-tests.sh $(BUILD) $(ASAN_BUILD)

bench: build
	bash bench/run.sh $(BUILD)

demo: build
	$(BUILD)/src/daemon/linkplane demo $(if $(KEEP),--keep)

# cmake --install: PREFIX (default /usr/local) and DESTDIR as usual; docs/install.md.
# Only what is installed is built, and no deps step: installing does not fetch the
# test tools (a browser, npm packages) that `make build` brings in.
PREFIX ?= /usr/local
install: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target linkplane manpage
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

# build/linkplane_<version>_<arch>.deb (CPack, dependencies from dpkg-shlibdeps).
package: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target linkplane manpage
	cd $(BUILD) && cpack -G DEB

clean:
	rm -rf $(BUILD)
