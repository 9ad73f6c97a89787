# The two commands of the quick start. Both install what is missing first.
.PHONY: run test bench store
run:
	bash scripts/run
test:
	bash scripts/test
bench:
	bash bench/dashboard.sh
# A stand-in WooCommerce store to connect a demo Backroom to (README: WooCommerce).
store:
	node end2end/woo_mock.mjs --port 8099 --orders 5000 --demo true
