# bench/: `make bench` (QUICK=1 for one short run of each), `make bench-peers`
bench: all
	@echo "bench: not yet implemented"
bench-peers:
	@if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq lua5.4 luajit guile-3.0 chezscheme </dev/null; \
	else echo "bench-peers: run as root: apt-get install -y lua5.4 luajit guile-3.0 chezscheme"; exit 1; fi
