# linkplane: `make demo` and `make test` do all the set-up on a fresh Debian 12
# machine as root (apt-get installs what is missing), then build and run.
BUILD ?= build
ASAN_BUILD ?= $(BUILD)/asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build build-asan test unit-test asan-test e2e-test fuzz-test bench demo clean

all: build

deps:
	bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

# AddressSanitizer + UBSan build of the unit tests and the fuzz targets, with clang.
$(ASAN_BUILD)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DLP_SANITIZE=ON -DLP_FUZZ=ON -DLP_BENCH=OFF

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) -j $(JOBS) unit_tests $$(ninja -C $(ASAN_BUILD) -t targets all | grep -o '^fuzz_[a-z0-9_]*' | sort -u)

test: build build-asan
	bash scripts/run-tests.sh $(BUILD) $(ASAN_BUILD)

bench: build
	bash bench/run.sh $(BUILD)

demo: build
	$(BUILD)/src/daemon/linkplane demo $(if $(KEEP),--keep)

clean:
	rm -rf $(BUILD)
