// SPDX-License-Identifier: MIT
/*
 * bench_model.c - how many GEMM predictions per second the analytical model
 * makes (target >= 10^5): the BERT-base encoder layer's GEMMs (sequence 128:
 * Q/K/V/O 128x768x768, FFN 128x3072x768 and 128x768x3072) and two large
 * squares, on 8x8 .. 256x256 arrays.  Prints evaluations/s per array and
 * overall; name the CPU with the figure (lscpu | grep 'Model name').
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
	static const struct qmx_model_gemm shapes[] = {
		{ .m = 128, .n = 768, .k = 768, .out_int8 = true, .bias = true },
		{ .m = 128, .n = 3072, .k = 768, .out_int8 = true, .bias = true },
		{ .m = 128, .n = 768, .k = 3072, .out_int8 = true, .bias = true },
		{ .m = 1024, .n = 1024, .k = 1024, .out_int8 = true, .bias = true },
		{ .m = 4096, .n = 4096, .k = 4096 },
	};
	static const unsigned arrays[] = { 8, 16, 32, 64, 128, 256 };
	double secs = argc > 1 ? atof(argv[1]) : 0.5, total_n = 0, total_t = 0;
	volatile uint64_t sink = 0;

	printf("%-8s %12s %14s %12s\n", "array", "evals", "evals/s", "us/eval");
	for (size_t a = 0; a < sizeof(arrays) / sizeof(arrays[0]); a++) {
		struct qmx_model_config cfg;
		struct qmx_model_result r;
		qmx_model_config_default(&cfg, arrays[a], arrays[a]);
		uint64_t n = 0;
		double t0 = now_s(), t;
		do {
			for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++, n++) {
				if (qmx_model_predict(&cfg, &shapes[s], &r)) {
					fprintf(stderr, "predict failed\n");
					return 1;
				}
				sink += r.cycles;
			}
			t = now_s() - t0;
		} while (t < secs);
		printf("%3ux%-4u %12llu %14.0f %12.2f\n", arrays[a], arrays[a],
		       (unsigned long long)n, n / t, t / n * 1e6);
		total_n += n;
		total_t += t;
	}
	printf("overall  %12.0f %14.0f %12.2f  (one thread; target >= 100000 evaluations/s)\n",
	       total_n, total_n / total_t, total_t / total_n * 1e6);
	return sink == 42;
}
