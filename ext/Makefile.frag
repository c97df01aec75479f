# stask: the module is built by cargo (see config.m4), not from C sources.
# cargo decides what is out of date, so it runs on every `make`.

.PHONY: stask-cargo

stask-cargo:
	@echo "Building stask with cargo ($(STASK_CARGO_PROFILE)) in $(STASK_CRATE_DIR)"
	cd "$(STASK_CRATE_DIR)" && $(STASK_PHP_ENV) "$(STASK_CARGO)" build --locked --lib $(STASK_CARGO_PROFILE_FLAG) --target-dir "$(STASK_TARGET_DIR)"

$(phplibdir)/stask.so: stask-cargo
	@mkdir -p "$(phplibdir)"
	cp -f "$(STASK_TARGET_DIR)/$(STASK_CARGO_PROFILE)/libstask.so" "$@"
