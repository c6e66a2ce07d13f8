/* SPDX-License-Identifier: MIT */
/*
 * bench_model.c - how many GEMM predictions per second the analytical model
 * makes (target >= 10^5), on 8x8 .. 256x256 arrays, for two mixes: the
 * BERT-base encoder layer's GEMMs at sequence 128 (Q/K/V/O 128x768x768,
 * FFN 128x3072x768 and 128x768x3072), and large squares (1024^3 and
 * 4096^3, many blocks and chunks).  Prints evaluations/s per array and mix;
 * name the CPU with the figure (lscpu | grep 'Model name').
 *
 * qmx-bench-model [seconds per array, default 0.5]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "qmx_model.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	static const struct qmx_model_gemm bert[] = {
		{ .m = 128, .n = 768, .k = 768, .out_int8 = true, .bias = true },
		{ .m = 128, .n = 768, .k = 768, .out_int8 = true, .bias = true },
		{ .m = 128, .n = 768, .k = 768, .out_int8 = true, .bias = true },
		{ .m = 128, .n = 768, .k = 768, .out_int8 = true, .bias = true },
		{ .m = 128, .n = 3072, .k = 768, .out_int8 = true, .bias = true },
		{ .m = 128, .n = 768, .k = 3072, .out_int8 = true, .bias = true },
	};
	static const struct qmx_model_gemm large[] = {
		{ .m = 1024, .n = 1024, .k = 1024, .out_int8 = true, .bias = true },
		{ .m = 4096, .n = 4096, .k = 4096 },
	};
	static const struct {
		const char *name;
		const struct qmx_model_gemm *g;
		size_t n;
	} mixes[] = {
		{ "bert-base layer", bert, sizeof(bert) / sizeof(bert[0]) },
		{ "1024^3 + 4096^3", large, sizeof(large) / sizeof(large[0]) },
	};
	static const unsigned arrays[] = { 8, 16, 32, 64, 128, 256 };
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	volatile uint64_t sink = 0;

	printf("%-16s %-8s %10s %12s %10s\n", "mix", "array", "evals", "evals/s", "us/eval");
	for (size_t mi = 0; mi < sizeof(mixes) / sizeof(mixes[0]); mi++) {
		double total_n = 0, total_t = 0;
		for (size_t a = 0; a < sizeof(arrays) / sizeof(arrays[0]); a++) {
			struct qmx_model_config cfg;
			struct qmx_model_result r;
			qmx_model_config_default(&cfg, arrays[a], arrays[a]);
			uint64_t n = 0;
			double t0 = now_s(), t;
			do {
				for (size_t s = 0; s < mixes[mi].n; s++, n++) {
					if (qmx_model_predict(&cfg, &mixes[mi].g[s], &r)) {
						fprintf(stderr, "predict failed\n");
						return 1;
					}
					sink += r.cycles;
				}
				t = now_s() - t0;
			} while (t < secs);
			printf("%-16s %3ux%-4u %10llu %12.0f %10.2f\n", mixes[mi].name, arrays[a],
			       arrays[a], (unsigned long long)n, n / t, t / n * 1e6);
			total_n += n;
			total_t += t;
		}
		printf("%-16s all      %10.0f %12.0f %10.2f\n", mixes[mi].name, total_n,
		       total_n / total_t, total_t / total_n * 1e6);
	}
	printf("one thread; target >= 100000 evaluations/s\n");
	return sink == 42;
}
