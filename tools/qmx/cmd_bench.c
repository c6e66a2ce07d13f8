/* SPDX-License-Identifier: MIT */
/*
 * cmd_bench.c - `qmx bench`: runs the CPU benchmark qmx-bench-cpu, passing
 * the options through.  The benchmark links oneDNN and OpenBLAS; execing it
 * keeps those libraries out of the qmx tool.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

#define BENCH_NAME "qmx-bench-cpu"

/* Candidates: $QMX_BENCH_CPU alone when set; else beside the qmx binary
 * (installed), then bench/cpu/ of the build tree it sits in (build/tools/qmx). */
static int bench_candidates(char out[][PATH_MAX], int max)
{
	char self[PATH_MAX], dir[PATH_MAX];
	int n = 0;
	const char *env = getenv("QMX_BENCH_CPU");

	if (env && *env) { /* explicit: that one only */
		snprintf(out[n++], PATH_MAX, "%s", env);
		return n;
	}
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return n;
	self[len] = 0;
	snprintf(dir, sizeof(dir), "%s", dirname(self));
	if (n < max)
		snprintf(out[n++], PATH_MAX, "%.*s/%s", PATH_MAX - 32, dir, BENCH_NAME);
	if (n < max)
		snprintf(out[n++], PATH_MAX, "%.*s/../bench/cpu/%s", PATH_MAX - 64, dir,
			 BENCH_NAME);
	return n;
}

static void bench_usage(FILE *f)
{
	fprintf(f,
		"usage: qmx bench [options]\n\n"
		"Run the CPU baseline benchmark (%s): our int8 GEMM against oneDNN\n"
		"s8s8s32 and OpenBLAS sgemm, 1 and 2 threads, GOP/s and ratios from one run.\n"
		"Options are passed through; $QMX_BENCH_CPU names the binary explicitly.\n\n",
		BENCH_NAME);
}

int cmd_bench(int argc, char **argv)
{
	char cand[3][PATH_MAX];
	int n = bench_candidates(cand, 3);
	bool help = false;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			help = true;
	for (int i = 0; i < n; i++) {
		if (access(cand[i], X_OK))
			continue;
		if (help) {
			bench_usage(stdout);
			printf("benchmark: %s\n\n", cand[i]);
			fflush(stdout);
		}
		char **args = calloc((size_t)argc + 1, sizeof(*args));
		if (!args) {
			fprintf(stderr, "qmx bench: out of memory\n");
			return 1;
		}
		args[0] = cand[i];
		for (int a = 1; a < argc; a++)
			args[a] = argv[a];
		execv(cand[i], args);
		fprintf(stderr, "qmx bench: cannot run %s: %s\n", cand[i], strerror(errno));
		free(args);
		return 1;
	}
	if (help) {
		bench_usage(stdout);
		printf("benchmark: not found (see below)\n");
	}
	fprintf(help ? stdout : stderr,
		"qmx bench: the benchmark %s was not built or installed; looked for:\n",
		BENCH_NAME);
	for (int i = 0; i < n; i++)
		fprintf(help ? stdout : stderr, "  %s\n", cand[i]);
	fprintf(help ? stdout : stderr,
		"configure with -DQMX_BUILD_BENCH=ON and build the target %s, or set $QMX_BENCH_CPU\n",
		BENCH_NAME);
	return help ? 0 : 1;
}
