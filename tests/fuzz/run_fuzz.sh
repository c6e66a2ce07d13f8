#!/bin/sh
# run_fuzz.sh FUZZER CORPUS WORKDIR RUNS - one seeded libFuzzer run of RUNS
# executions from the seed corpus (read-only); new inputs and any crash
# artifact go to WORKDIR.  QMX_TEST_SEED picks the seed.
set -eu
FUZZER=$1 CORPUS=$2 WORK=$3 RUNS=$4
SEED=${QMX_TEST_SEED:-20261127}
rm -rf "$WORK"
mkdir -p "$WORK/corpus"
echo "$(basename "$FUZZER"): -seed=$SEED -runs=$RUNS (QMX_TEST_SEED), corpus $CORPUS"
# Leaks are checked per input; one input gets at most 10 s.
exec "$FUZZER" -seed="$SEED" -runs="$RUNS" -timeout=10 -max_len=8192 \
	-print_final_stats=1 -artifact_prefix="$WORK/" "$WORK/corpus" "$CORPUS"
