# The two set-up-and-go commands (see README): `make run` and `make test`.
.PHONY: run test dev build lint bench clean
run:
	@scripts/run.sh
test:
	@scripts/test.sh
dev:
	@scripts/dev.sh
build:
	@scripts/install.sh run && bash -c 'source scripts/toolchain.sh && release_build'
# (its own target directory: clippy comes with rustup's toolchain, which may differ from the
# one the build uses)
lint:
	cargo fmt --all -- --check
	CARGO_TARGET_DIR=target/lint cargo clippy --workspace --all-targets --features app/ssr --exclude frontend -- -D warnings
	CARGO_TARGET_DIR=target/lint cargo clippy -p app --features hydrate -- -D warnings
bench:
	@scripts/bench.sh
clean:
	cargo clean
