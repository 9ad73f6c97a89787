# The two commands of the quick start. Both install what is missing first.
.PHONY: run test bench
run:
	bash scripts/run
test:
	bash scripts/test
bench:
	bash bench/dashboard.sh
