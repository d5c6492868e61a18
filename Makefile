# agcod - Amazon Incentives API (AGCOD) command-line tool
#
#   make            build ./agcod
#   make check      install missing Debian packages, build, run every test
#   make demo       install missing packages, run a session on the emulator
#   make install    PREFIX=/usr/local DESTDIR=

SHELL	= /bin/bash
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

CC	?= cc
CFLAGS	?= -O2 -g
LDFLAGS	?=
PKG_CONFIG ?= pkg-config
PYTHON	= /usr/bin/python3
BUILD	?= build

PKGS	= libcurl libcrypto jansson libbsd sqlite3 libpq
# libpq is loaded at run time, for a PostgreSQL journal only (src/pq.c):
# its headers, not its link
DLPKGS	= libpq
# Debian's mbedTLS 2.28 ships no .pc file
MBEDCRYPTO = $(shell $(PKG_CONFIG) --libs mbedcrypto 2>/dev/null || echo -lmbedcrypto)
# SQLite, mbedTLS's crypto, Jansson and libbsd are linked from the static
# archives their Debian -dev packages ship: the loader resolving their 2,500
# symbols at every start cost more than a tenth of a request (README,
# Performance).  What talks to the network (libcurl, OpenSSL; libpq is
# loaded) stays shared, so that the system's security updates reach it.
# STATIC= links them all shared, as the Debian package does.
STATIC	?= 1
BUNDLED	= $(shell $(PKG_CONFIG) --libs sqlite3) $(MBEDCRYPTO) \
	$(shell $(PKG_CONFIG) --libs jansson libbsd)
SHARED	= $(filter-out libcrypto sqlite3 jansson libbsd $(DLPKGS),$(PKGS))
# The loader looks each symbol up through the libraries in the order they
# are linked (then theirs): libc, which most symbols are in, goes first,
# then libcrypto, which looks up most of its own.
BSTATIC	= -Wl,-Bstatic
BDYNAMIC = -Wl,-Bdynamic
LIBS	= -lc $(shell $(PKG_CONFIG) --libs libcrypto) \
	$(if $(STATIC),$(BSTATIC) $(BUNDLED) -lmd $(BDYNAMIC),$(BUNDLED)) \
	$(shell $(PKG_CONFIG) --libs $(SHARED)) -lm

# warnings are errors in CI and 'make check' (WERROR=1), not in a user's build
WERROR	?=
AGCOD_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Wall -Wextra $(if $(WERROR),-Werror) \
	-Wformat=2 -Wshadow \
	-Wno-format-nonliteral \
	-D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE \
	$(shell $(PKG_CONFIG) --cflags $(PKGS))
AGCOD_LDFLAGS = -pie -Wl,-z,relro,-z,now -Wl,--as-needed
# header dependencies, written by the compiler next to each object
DEPFLAGS = -MMD -MP

SRCS	= $(sort $(wildcard src/*.c))
# the tool: the command line, the commands, what the user sees (exit
# status); everything else is the library, which returns enum agcod_result
# (result.h) and never includes a tool header (make layering)
TOOLSRCS = src/main.c src/cli.c $(wildcard src/cmd_*.c) src/ctx.c \
	src/usage.c src/trace.c src/exitcode.c
TOOLHDRS = src/agcod.h src/cli.h src/ctx.h src/trace.h $(wildcard src/cmd_*.h)
LIBSRCS	= $(filter-out $(TOOLSRCS),$(SRCS))
LIBHDRS	= $(filter-out $(TOOLHDRS),$(sort $(wildcard src/*.h)))
UNITSRCS = $(wildcard tests/unit/*.c)

OBJS	= $(SRCS:src/%.c=$(BUILD)/%.o)
LIBOBJS	= $(LIBSRCS:src/%.c=$(BUILD)/%.o)
TOOLOBJS = $(TOOLSRCS:src/%.c=$(BUILD)/%.o)
UNITOBJS = $(UNITSRCS:tests/unit/%.c=$(BUILD)/unit/%.o)

# the one program, plus a library of the pure parts for the unit tests
ifeq ($(BUILD),build)
PROG	= agcod
else
PROG	= $(BUILD)/agcod
endif

all: $(PROG)

$(PROG): $(OBJS)
	$(CC) $(AGCOD_CFLAGS) $(CFLAGS) $(AGCOD_LDFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(CPPFLAGS) $(AGCOD_CFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/unit/%.o: tests/unit/%.c | $(BUILD)
	@mkdir -p $(BUILD)/unit
	$(CC) $(CPPFLAGS) $(AGCOD_CFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

-include $(OBJS:.o=.d) $(UNITOBJS:.o=.d)

$(BUILD)/unit-tests: $(UNITOBJS) $(LIBOBJS) $(BUILD)/exitcode.o
	$(CC) $(AGCOD_CFLAGS) $(CFLAGS) $(AGCOD_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD):
	@mkdir -p $(BUILD)

# the journal's layers (README, Source layout): the rule links without
# SQLite, and only the SQLite store's files use it
$(BUILD)/state-alone: tests/layering/state_alone.c $(BUILD)/journal_state.o \
	    $(BUILD)/json.o $(BUILD)/buf.o $(BUILD)/msg.o \
	    $(BUILD)/ops.o
	$(CC) $(CPPFLAGS) $(AGCOD_CFLAGS) -Isrc $(CFLAGS) $(AGCOD_LDFLAGS) \
	    $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs jansson)

layering: $(BUILD)/state-alone $(OBJS)
	$(BUILD)/state-alone
	@for o in $(filter-out $(BUILD)/journal_sqlite%,$(OBJS)); do \
	  if nm -u $$o | grep -q ' sqlite3_'; then \
	    echo "layering: $$o calls SQLite" >&2; exit 1; fi; done
	@if grep -l '<sqlite3.h>' $(filter-out src/journal_sqlite%, \
	    $(wildcard src/*.c src/*.h)); then \
	  echo "layering: only journal_sqlite*.c include sqlite3.h" >&2; \
	  exit 1; fi
	@for o in $(filter-out $(BUILD)/journal_pg.o,$(OBJS)); do \
	  if nm -u $$o | grep -Eq ' (PQ|lo_|pg_)[A-Za-z]'; then \
	    echo "layering: $$o calls libpq" >&2; exit 1; fi; done
	@if grep -l '<libpq-fe.h>' $(filter-out src/journal_pg.c src/pq.%, \
	    $(wildcard src/*.c src/*.h)); then \
	  echo "layering: only journal_pg.c (and pq.c's table of its" \
	    "functions) includes libpq-fe.h" >&2; \
	  exit 1; fi
	@echo "layering: only the SQLite store uses SQLite, only the" \
	  "PostgreSQL store libpq"
	@bad=0; for f in $(LIBSRCS) $(LIBHDRS); do \
	  for h in $(notdir $(TOOLHDRS)); do \
	    if grep -q "^#include \"$$h\"" $$f; then \
	      echo "layering: library file $$f includes the tool's $$h" >&2; \
	      bad=1; fi; done; \
	  if grep -Eq '<sysexits\.h>|\<EX_[A-Z]+\>|struct cmd_ctx' $$f; then \
	    echo "layering: library file $$f uses exit codes or struct" \
	      "cmd_ctx (return an enum agcod_result)" >&2; bad=1; fi; \
	done; exit $$bad
	@nm -g --defined-only $(TOOLOBJS) | awk 'NF == 3 { print $$3 }' | \
	  sort -u > $(BUILD)/tool.syms; bad=0; for o in $(LIBOBJS); do \
	  if nm -u $$o | awk '{ print $$2 }' | sort -u | \
	    comm -12 - $(BUILD)/tool.syms | sed "s|^|layering: $$o calls the tool's |" | \
	    grep . >&2; then bad=1; fi; done; exit $$bad
	@echo "layering: the library returns results and calls nothing of" \
	  "the tool's; only the tool sets exit codes"
.PHONY: layering

# ---- dependencies: Debian packages, installed only when missing ----

DEB_PKGS = gcc make pkg-config libc6-dev libcurl4-openssl-dev libssl-dev libmbedtls-dev \
	libjansson-dev libbsd-dev libsqlite3-dev sqlite3 python3 python3-pytest \
	python3-botocore openssl ca-certificates mandoc valgrind clang \
	libclang-rt-14-dev cppcheck clang-tidy tzdata curl strace \
	dpkg-dev debhelper fakeroot lintian
# the completion tests drive zsh and fish too
DEB_PKGS += zsh fish
# test_secret_wipe reads the process's memory with gdb
DEB_PKGS += gdb
# the PostgreSQL journal store: libpq, and a throwaway server for its tests
DEB_PKGS += libpq-dev postgresql postgresql-common
# the end-to-end suites run in parallel workers (E2E_JOBS): each test has
# its own emulator, state directory and database, and mostly waits
DEB_PKGS += python3-pytest-xdist

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends $$missing; \
	fi

# ---- tests ----

# everything, ending with the plain build's suites and their summary line;
# warnings are errors here (and in every make this starts).  One temporary
# directory for the whole run (TMPDIR: agcod's, the emulator's, pytest's
# and the fuzzers' files), removed at the end; a skipped test fails
# (AGCOD_NO_SKIP=1, tests/lib/noskip.py).  One throwaway PostgreSQL
# cluster for the run too (tests/pg/pg-run: AGCOD_TEST_PG), for the
# journal store in PostgreSQL
check: export WERROR = 1
check: deps
	@tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/agcod-check.XXXXXX") || exit 1; \
	trap 'rm -rf "$$tmp"' INT TERM; \
	TMPDIR="$$tmp" AGCOD_NO_SKIP=1 tests/pg/pg-run \
	  $(MAKE) --no-print-directory check-run; \
	rc=$$?; rm -rf "$$tmp"; exit $$rc

check-run:
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory fuzz-check
	@$(MAKE) --no-print-directory check-valgrind
	@$(MAKE) --no-print-directory check-asan
	@$(MAKE) --no-print-directory check-deb
	@$(MAKE) --no-print-directory $(if $(filter 1,$(SIM_IN_CHECK)),check-sim check-sim-asan,sim-build)
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory test-pg

# every suite that records in the journal again with the journal in
# PostgreSQL: each test's on a database of its own on AGCOD_TEST_PG (make
# check's cluster), the SQLite file's own tests deselected (marked
# sqlite_file)
PG_E2E	= tests/e2e/test_journal.py tests/e2e/test_outcomes.py \
	tests/e2e/test_batch.py tests/e2e/test_batch_safety.py \
	tests/e2e/test_attack_evidence.py tests/e2e/test_history.py \
	tests/e2e/test_activation_recovery.py tests/e2e/test_attack.py \
	tests/e2e/test_attack19.py tests/e2e/test_service.py \
	tests/e2e/test_hygiene.py tests/e2e/test_pins.py \
	tests/e2e/test_attack22.py tests/e2e/test_card_order.py \
	tests/e2e/test_attack23.py
test-pg: $(PROG)
	@test -n "$$AGCOD_TEST_PG" || { echo "test-pg: AGCOD_TEST_PG is unset:" \
	  "run it as tests/pg/pg-run make test-pg, or make check-pg" >&2; \
	  exit 1; }
	@AGCOD_TEST_STORE=postgresql $(MAKE) --no-print-directory \
	  E2E="$(PG_E2E)" test
	@$(MAKE) --no-print-directory $(if $(filter 1,$(SIM_IN_CHECK)),check-sim-pg,sim-build)
# the same, and the PostgreSQL store's own tests, in a throwaway cluster
check-pg: $(PROG)
	tests/pg/pg-run $(MAKE) --no-print-directory test-pg
.PHONY: test-pg check-pg

# the end-to-end suites (E2E: files or test ids) in a temporary directory
# of their own, removed afterwards; -rs names every skip.  E2E_JOBS
# workers (pytest-xdist; 1: none): the tests wait on processes and the
# network far more than they compute, so 4 on 2 cores is ~4x faster.
# The tests marked serial (the emulator's view of the rate limit) run
# alone afterwards
E2E	?= tests/e2e
E2E_JOBS ?= 4
XDIST	= $(if $(filter-out 0 1,$(E2E_JOBS)),-n $(E2E_JOBS))
test: $(PROG) $(BUILD)/unit-tests layering
	$(BUILD)/unit-tests tests/data
	mandoc -Tlint -Wwarning man/agcod.1 man/agcod.ini.5 man/agcod-journal.5
	@tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/agcod-test.XXXXXX") || exit 1; \
	trap 'rm -rf "$$tmp"' INT TERM; \
	rc=0; for part in "not serial" serial; do \
	  TMPDIR="$$tmp" AGCOD=$(CURDIR)/$(PROG) $(PYTHON) -m pytest -q -rs \
	    -p no:cacheprovider $$([ "$$part" = serial ] || printf '%s ' $(XDIST)) \
	    -m "$$part" --basetemp="$$tmp/pytest" $(E2E); \
	  r=$$?; [ $$r -eq 0 ] || [ $$r -eq 5 ] || rc=$$r; \
	done; rm -rf "$$tmp"; exit $$rc

# a chosen subset under valgrind: the unit tests and the operations suite
# (not the tests marked serial: valgrind's slowness is not the spacing they
# measure; make test runs them)
VALGRIND_TESTS = tests/e2e/test_ops.py tests/e2e/test_journal_pg.py \
	tests/e2e/test_journal.py::test_pending_is_committed_before_the_request_arrives \
	tests/e2e/test_journal.py::test_refused_repeat_leaves_the_card_issued \
	tests/e2e/test_journal.py::test_history_filters \
	tests/e2e/test_journal.py::test_lost_create_is_unknown_then_reconciled \
	tests/e2e/test_journal.py::test_export_check_prune \
	tests/e2e/test_journal.py::test_settle_by_hand \
	tests/e2e/test_journal.py::test_import_of_a_journal_written_by_agcod_0_1 \
	tests/e2e/test_sign_debug.py::test_agcod_vector_json

check-valgrind: $(PROG) $(BUILD)/unit-tests
	valgrind --quiet --error-exitcode=99 --leak-check=full \
	  --errors-for-leak-kinds=definite,indirect $(BUILD)/unit-tests tests/data
	AGCOD=$(CURDIR)/tests/valgrind-agcod AGCOD_BINARY=$(CURDIR)/$(PROG) \
	  $(PYTHON) -m pytest -q -rs -p no:cacheprovider $(XDIST) -m "not serial" $(VALGRIND_TESTS)

# the same suites against an ASan+UBSan build in its own directory
check-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" test

demo: deps
	@$(MAKE) --no-print-directory $(PROG)
	$(PYTHON) tests/demo.py ./$(PROG)

# ---- static analysis ----

TIDY_CHECKS = -*,bugprone-*,cert-*,clang-analyzer-*,\
	-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,\
	-bugprone-narrowing-conversions,-bugprone-assignment-in-if-condition,\
	-bugprone-implicit-widening-of-multiplication-result,\
	-bugprone-branch-clone,-bugprone-suspicious-string-compare,\
	-cert-err33-c,-cert-dcl37-c,-cert-dcl51-cpp,-cert-err34-c,\
	-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,\
	-clang-analyzer-valist.Uninitialized
BANNED	= strcpy|stpcpy|sprintf|vsprintf|strcat|atoi|atol|gets

LINT_TOOLS = cppcheck clang-tidy mandoc

lint:
	@for t in $(LINT_TOOLS); do command -v $$t >/dev/null 2>&1 || \
	  { echo "lint: $$t is missing; 'make deps' installs it" >&2; exit 1; }; \
	done
	@echo "lint: banned functions ($(BANNED))"
	@! grep -nE '(^|[^a-z_])($(BANNED))[[:space:]]*\(' src/*.c src/*.h tests/unit/*.c
	@echo "lint: cppcheck"
	@cppcheck --quiet --enable=warning,portability,performance --std=c11 \
	  --inline-suppr --error-exitcode=1 -D_GNU_SOURCE src/
	@echo "lint: clang-tidy"
	@clang-tidy --quiet --warnings-as-errors='*' -checks='$(TIDY_CHECKS)' \
	  src/*.c -- -std=gnu11 -D_GNU_SOURCE \
	  $(shell $(PKG_CONFIG) --cflags $(PKGS)) 2>&1 | \
	  { grep -E 'warning:|error:' && exit 1 || exit 0; }
	@echo "lint: mandoc"
	@mandoc -Tlint -Wwarning man/agcod.1 man/agcod.ini.5 man/agcod-journal.5
	@echo "lint: function length (tools/funclen.py)"
	@$(PYTHON) tools/funclen.py
	@echo "lint: clean"

# ---- fuzzing: libFuzzer harnesses for every parser of untrusted input ----

FUZZ_DIR	= build-fuzz
FUZZERS		= profile rawreq response csv amount journal opreq
FUZZ_SECONDS	?= 60
FUZZ_CC		= clang
FUZZ_CFLAGS	= -g -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LIBOBJS	= $(LIBSRCS:src/%.c=$(FUZZ_DIR)/%.o)

$(FUZZ_DIR)/%.o: src/%.c
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(CPPFLAGS) $(AGCOD_CFLAGS) $(FUZZ_CFLAGS) $(DEPFLAGS) \
	  -fsanitize=fuzzer-no-link -c -o $@ $<

-include $(FUZZ_LIBOBJS:.o=.d)

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIBOBJS)
	$(FUZZ_CC) $(CPPFLAGS) $(AGCOD_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

.PRECIOUS: $(FUZZ_DIR)/%.o

fuzz-build: $(FUZZERS:%=$(FUZZ_DIR)/fuzz_%)

# each harness for FUZZ_SECONDS, growing a corpus in build-fuzz/; a crash
# stops it and leaves the input as build-fuzz/crash-NAME-*: keep it in
# tests/fuzz/corpus/NAME/ as a regression input once fixed
fuzz: fuzz-build
	@for f in $(FUZZERS); do \
	  mkdir -p $(FUZZ_DIR)/corpus-$$f; \
	  echo "fuzz $$f for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_DIR)/fuzz_$$f $(FUZZ_DIR)/corpus-$$f tests/fuzz/corpus/$$f \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	    -rss_limit_mb=2048 -artifact_prefix=$(FUZZ_DIR)/crash-$$f- \
	    -print_final_stats=1 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|crash' ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# replay every seed and regression input, then fuzz each harness briefly
fuzz-check: fuzz-build
	@for f in $(FUZZERS); do \
	  $(FUZZ_DIR)/fuzz_$$f -runs=0 tests/fuzz/corpus/$$f 2>/dev/null || \
	    { echo "fuzz $$f: a corpus input fails"; exit 1; }; \
	done; echo "fuzz: every corpus input replays cleanly"
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS)

FUZZ_CHECK_SECONDS ?= 10

# ---- install ----

install: $(PROG)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASHCOMPDIR) \
	  $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 $(PROG) $(DESTDIR)$(BINDIR)/agcod
	install -m 644 man/agcod.1 $(DESTDIR)$(MANDIR)/man1/agcod.1
	install -m 644 man/agcod.ini.5 $(DESTDIR)$(MANDIR)/man5/agcod.ini.5
	install -m 644 man/agcod-journal.5 $(DESTDIR)$(MANDIR)/man5/agcod-journal.5
	install -m 644 completions/agcod.bash $(DESTDIR)$(BASHCOMPDIR)/agcod
	install -m 644 completions/_agcod $(DESTDIR)$(ZSHCOMPDIR)/_agcod
	install -m 644 completions/agcod.fish $(DESTDIR)$(FISHCOMPDIR)/agcod.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/agcod $(DESTDIR)$(MANDIR)/man1/agcod.1 \
	  $(DESTDIR)$(MANDIR)/man5/agcod.ini.5 \
	  $(DESTDIR)$(MANDIR)/man5/agcod-journal.5 $(DESTDIR)$(BASHCOMPDIR)/agcod \
	  $(DESTDIR)$(ZSHCOMPDIR)/_agcod $(DESTDIR)$(FISHCOMPDIR)/agcod.fish

clean:
	rm -rf build build-asan build-fuzz build-deb agcod

.PHONY: all deps check check-run test check-asan demo install uninstall clean \
	fuzz fuzz-build fuzz-check lint check-valgrind

# ---- the deterministic simulation of the money path (tests/sim/README.md) ----
# agcod's own main() and commands, linked with the simulator; the clock,
# sleeps, randomness, transfer and journal commits are wrapped at link time

SIM_DIR	= $(BUILD)/sim
SIMSRCS	= $(wildcard tests/sim/*.c)
SIMOBJS	= $(SIMSRCS:tests/sim/%.c=$(SIM_DIR)/%.o)
SIM_AGCOD_OBJS = $(filter-out $(BUILD)/main.o $(BUILD)/pq.o,$(OBJS)) \
	$(SIM_DIR)/agcod_main.o $(SIM_DIR)/pq.o
SIM_WRAP = clock_gettime time gettimeofday nanosleep arc4random_uniform \
	journal_begin journal_finish http_post write pwrite ftruncate \
	PQexec PQexecParams PQsendQueryParams
SIM_LDFLAGS = $(foreach f,$(SIM_WRAP),-Wl,--wrap=$(f))
SIM	= $(SIM_DIR)/agcod-sim
SEEDS	?= 1000
FIRST	?= 1
# make check: at least 100,000 simulated requests
CHECK_SEEDS ?= 1350

$(SIM_DIR)/%.o: tests/sim/%.c | $(BUILD)
	@mkdir -p $(SIM_DIR)
	$(CC) $(CPPFLAGS) $(AGCOD_CFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(SIM_DIR)/agcod_main.o: src/main.c | $(BUILD)
	@mkdir -p $(SIM_DIR)
	$(CC) $(CPPFLAGS) $(AGCOD_CFLAGS) $(CFLAGS) $(DEPFLAGS) -Dmain=agcod_main -c -o $@ $<

# libpq linked, not loaded, so that --wrap reaches journal_pg.c's calls
$(SIM_DIR)/pq.o: src/pq.c | $(BUILD)
	@mkdir -p $(SIM_DIR)
	$(CC) $(CPPFLAGS) $(AGCOD_CFLAGS) $(CFLAGS) $(DEPFLAGS) -DAGCOD_PQ_LINKED -c -o $@ $<

-include $(SIMOBJS:.o=.d) $(SIM_DIR)/agcod_main.d $(SIM_DIR)/pq.d

$(SIM): $(SIMOBJS) $(SIM_AGCOD_OBJS)
	$(CC) $(AGCOD_CFLAGS) $(CFLAGS) $(AGCOD_LDFLAGS) $(LDFLAGS) $(SIM_LDFLAGS) \
	  -o $@ $^ $(LIBS) $(shell $(PKG_CONFIG) --libs $(DLPKGS)) -lm

sim-build: $(SIM)

# make sim SEEDS=N [FIRST=S]: N histories from seed S, failures shrunk
sim: $(SIM)
	$(SIM) --seeds $(SEEDS) --first $(FIRST) --jobs $(SIM_JOBS)

# the bounded run for make check, on both cores; make check runs it (and
# the ASan one) unless SIM_IN_CHECK=0
SIM_IN_CHECK ?= 1
SIM_JOBS ?= 2
check-sim: $(SIM) sim-determinism sim-regress
	$(SIM) --seeds $(CHECK_SEEDS) --no-shrink --jobs $(SIM_JOBS)

# the shrunk histories of bugs fixed since (tests/sim/regress.txt)
sim-regress: $(SIM)
	@sed -e 's/#.*//' -e '/^[[:space:]]*$$/d' tests/sim/regress.txt | \
	  while read -r args; do $(SIM) --no-shrink --seed $$args >$(SIM_DIR)/regress.out 2>&1 || \
	    { echo "sim-regress: --seed $$args fails:"; head -3 $(SIM_DIR)/regress.out; exit 1; }; done
	@echo "sim: $$(grep -c '^[0-9]' tests/sim/regress.txt) regression histories pass"

# one seed twice, every step traced: the same bytes (but the scratch path)
sim-determinism: $(SIM)
	@for i in 1 2; do $(SIM) --seed 13 -v 2>&1 | \
	  sed -e 's#agcod-sim\.[A-Za-z0-9]*#TMP#g' -e 's/ in [0-9.]* s:.*//' \
	    -e 's/process [0-9]*/process PID/g' \
	  >$(SIM_DIR)/determinism.$$i; done
	@cmp -s $(SIM_DIR)/determinism.1 $(SIM_DIR)/determinism.2 || \
	  { echo "sim: seed 13 ran differently twice:"; \
	    diff $(SIM_DIR)/determinism.1 $(SIM_DIR)/determinism.2 | head; exit 1; }
	@echo "sim: seed 13 replays identically ($$(wc -l <$(SIM_DIR)/determinism.1) trace lines)"

# a few histories under ASan+UBSan: a memory error kills a run (agcod-died)
check-sim-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" sim-build
	build-asan/sim/agcod-sim --seeds 40 --no-shrink --jobs $(SIM_JOBS)

# each planted bug in tests/sim/plants/ must make the simulation fail
PLANT_SEEDS ?= 300
sim-plants:
	SIM_JOBS=$(SIM_JOBS) tests/sim/plants.sh $(PLANT_SEEDS)

# histories and simulated requests per second, appended to bench/sim.md
bench-sim: $(SIM)
	@test -f bench/sim.md || printf '# agcod-sim throughput (make bench-sim)\n\nHistories of the simulation (tests/sim/README.md) and the simulated AGCOD\nrequests they made, per second of wall time; load is the 1-minute load\naverage when the run started (other work on the machine slows it).\n\n| date (UTC) | cpus | load | jobs | histories | simulated requests | seconds | histories/s | requests/s |\n|---|---|---|---|---|---|---|---|---|\n' > bench/sim.md
	@$(SIM) --seeds 300 --no-shrink --jobs 1 --bench bench/sim.md | tail -1
	@$(SIM) --seeds 300 --no-shrink --jobs $(SIM_JOBS) --bench bench/sim.md | tail -1
	@tail -2 bench/sim.md

# the same histories with the journal in PostgreSQL (AGCOD_TEST_PG's
# server, a database of its own per history) and the store's faults:
# make sim-pg SEEDS=N, and the bounded run make test-pg runs
CHECK_PG_SEEDS ?= 20
sim-pg: $(SIM)
	$(SIM) --store postgresql --seeds $(SEEDS) --first $(FIRST) --jobs $(SIM_JOBS)

# (not sim-determinism-pg: the rate slots' waits come from the server's
# clock, so a PostgreSQL history replays alike most runs, not every run)
check-sim-pg: $(SIM) sim-regress-pg
	$(SIM) --store postgresql --seeds $(CHECK_PG_SEEDS) --no-shrink --jobs $(SIM_JOBS)

sim-regress-pg: $(SIM)
	@sed -e 's/#.*//' -e '/^[[:space:]]*$$/d' tests/sim/regress-pg.txt | \
	  while read -r args; do $(SIM) --store postgresql --no-shrink --seed $$args >$(SIM_DIR)/regress-pg.out 2>&1 || \
	    { echo "sim-regress-pg: --seed $$args fails:"; head -3 $(SIM_DIR)/regress-pg.out; exit 1; }; done
	@echo "sim: $$(grep -c '^[0-9]' tests/sim/regress-pg.txt) PostgreSQL regression histories pass"

# the failover as a restart of a server of its own (tests/sim/pg-own.sh)
PG_RESTART_SEEDS ?= 40
sim-pg-restart: $(SIM)
	SIM=$(SIM) tests/sim/pg-own.sh --seeds $(PG_RESTART_SEEDS) --first $(FIRST) --jobs 1

# a history with every kind of store fault, twice: the same steps in the same
# order (but the scratch path, the database's name, process ids, and the
# virtual times, which the rate slots' waits on the server's clock move by
# microseconds)
sim-determinism-pg: $(SIM)
	@for i in 1 2; do $(SIM) --store postgresql --seed 138 -v 2>&1 | \
	  sed -e 's#agcod-sim\.[A-Za-z0-9]*#TMP#g' -e 's/ in [0-9.]* s:.*//' \
	    -e 's/process [0-9]*/process PID/g' -e 's/pid [0-9]*/pid PID/g' \
	    -e 's/agcodsim_[0-9]*/agcodsim_PID/g' \
	    -e 's/^\(  \[ *[0-9]*\) *[0-9.]*s\]/\1]/' \
	    -e 's/is [0-9.]* s away/is N s away/g' \
	  >$(SIM_DIR)/determinism-pg.$$i; done
	@cmp -s $(SIM_DIR)/determinism-pg.1 $(SIM_DIR)/determinism-pg.2 || \
	  { echo "sim: seed 138 on PostgreSQL ran differently twice:"; \
	    diff $(SIM_DIR)/determinism-pg.1 $(SIM_DIR)/determinism-pg.2 | head; exit 1; }
	@echo "sim: seed 138 on PostgreSQL replays identically ($$(wc -l <$(SIM_DIR)/determinism-pg.1) trace lines)"

.PHONY: sim sim-build check-sim check-sim-asan sim-plants bench-sim \
	sim-determinism sim-regress sim-pg check-sim-pg sim-regress-pg \
	sim-determinism-pg sim-pg-restart

# regenerate the completion scripts from the command table
completions: $(PROG)
	$(PYTHON) tools/gen_completions.py ./$(PROG) completions
.PHONY: completions

# regenerate the operations' lines of agcod.1's SYNOPSIS from the option table
man-synopsis: $(PROG)
	$(PYTHON) tools/gen_man_synopsis.py ./$(PROG) man/agcod.1
.PHONY: man-synopsis

# benchmarks: measurements, not tests (see README, Performance); they write
# $(BENCH_OUT) with the machine they ran on, a new file each run: the
# committed bench/results.md changes only by hand
BENCH_OUT ?= $(BUILD)/bench-results.md
bench: deps
	@$(MAKE) --no-print-directory $(PROG)
	@mkdir -p $(dir $(BENCH_OUT))
	BENCH_OUT=$(BENCH_OUT) $(PYTHON) bench/run.py ./$(PROG)
	$(PYTHON) bench/goals.py ./$(PROG) | tee -a $(BENCH_OUT)
	$(PYTHON) bench/instructions.py ./$(PROG) | tee -a $(BENCH_OUT)
	$(PYTHON) bench/batch.py ./$(PROG) 600 | tee -a $(BENCH_OUT)
	$(PYTHON) bench/batch_validate.py ./$(PROG) | tee -a $(BENCH_OUT)
	$(PYTHON) bench/journal.py ./$(PROG) | tee -a $(BENCH_OUT)
	$(PYTHON) bench/ca.py ./$(PROG) | tee -a $(BENCH_OUT)
	@echo "bench: results in $(BENCH_OUT)"
.PHONY: bench

# the libraries linked from their static archives (tests/e2e/test_package.py)
print-bundled:
	@echo $(if $(STATIC),$(BUNDLED))
.PHONY: print-bundled

# the PostgreSQL journal: three hosts at one limit, and its cost per create
# against SQLite's, on a cluster of its own (initdb/pg_ctl as postgres)
bench-pg: $(PROG)
	BENCH_OUT=$(BENCH_OUT) $(PYTHON) bench/pg.py ./$(PROG) $(BENCH_PG_ROWS)
BENCH_PG_ROWS ?= 200
.PHONY: bench-pg

# ---- Debian package ----
# make deb: dpkg-buildpackage in a copy of the source under build-deb/
# (the tree stays clean), leaving build-deb/agcod_VERSION_ARCH.deb.
# make check-deb: that package, unpacked into a scratch root, runs, and
# lintian has no error or warning for it (see debian/README.Debian).

DEB_DIR	= build-deb
DEB_JOBS ?= 2

deb:
	@rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git ls-files -co --exclude-standard | \
	    while IFS= read -r f; do [ -e "$$f" ] && printf '%s\n' "$$f"; done | \
	    tar -cf - --verbatim-files-from -T - ; \
	else \
	  tar -cf - --exclude=./build --exclude='./build-*' --exclude=./agcod \
	    --exclude=./.git . ; \
	fi | tar -xf - -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b -j$(DEB_JOBS) \
	  >../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
	@ls $(DEB_DIR)/agcod_*.deb

check-deb: deb
	@deb=$$(ls $(DEB_DIR)/agcod_*.deb) && root=$(DEB_DIR)/root && \
	rm -rf $$root && dpkg -x $$deb $$root && \
	echo "check-deb: $$deb" && \
	dep=$$(dpkg-deb -f $$deb Depends) && echo "check-deb: Depends: $$dep" && \
	case "$$dep" in *libcurl4*) ;; *) false ;; esac && \
	case "$$dep" in *libsqlite3-0*) ;; *) echo "check-deb: not linked shared"; false ;; esac && \
	test -x $$root/usr/bin/agcod && \
	test -f $$root/usr/share/man/man1/agcod.1.gz && \
	test -f $$root/usr/share/man/man5/agcod.ini.5.gz && \
	test -f $$root/usr/share/man/man5/agcod-journal.5.gz && \
	test -f $$root/usr/share/bash-completion/completions/agcod && \
	test -f $$root/usr/share/zsh/vendor-completions/_agcod && \
	test -f $$root/usr/share/fish/vendor_completions.d/agcod.fish && \
	test -f $$root/usr/share/doc/agcod/examples/config.example.ini && \
	$$root/usr/bin/agcod --version | grep -q '^libcurl [0-9]' && \
	env -i PATH=/usr/bin:/bin HOME=/nonexistent TZ=UTC \
	  AGCOD_PARTNER_ID=Acme1 \
	  AGCOD_ACCESS_KEY_ID=AKIDEXAMPLE AGCOD_CURRENCY=USD \
	  AGCOD_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY \
	  $$root/usr/bin/agcod sign-debug create --amount 1 \
	  --date 20260101T000000Z --request-id Acme1Deb1 -o json | \
	  grep -qE '"signature":"[0-9a-f]{64}"' && \
	echo "check-deb: installed agcod runs; Depends names libcurl"
	lintian --fail-on error,warning $(DEB_DIR)/agcod_*.changes
	@echo "check-deb: lintian clean"

.PHONY: deb check-deb
