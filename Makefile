# The two set-up-and-go commands (see README): `make run` and `make test`.
.PHONY: run test dev build lint bench clean
run:
	@scripts/run.sh
test:
	@scripts/test.sh
dev:
	@scripts/dev.sh
build:
	@scripts/install.sh run && bash -c 'source scripts/toolchain.sh && cargo leptos build --release "$${LEPTOS_LIB_ARGS[@]}"'
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --features app/ssr --exclude frontend -- -D warnings
	cargo clippy -p app --features hydrate -- -D warnings
bench:
	@scripts/bench.sh
clean:
	cargo clean
