/* SPDX-License-Identifier: MIT */
/*
 * bench_sim.c - qmx-bench-sim: how fast the Verilator model simulates, and
 * how well the simulated array is used.
 *
 * For each array size and square shape, one GEMM runs through libqmx's sim
 * backend (the path every user takes).  Printed per run: simulated cycles,
 * wall time, simulated cycles and MACs per wall-second, the same per
 * CPU-second of the process (stable on a shared machine), array
 * utilisation MACs / (cycles x R x C), stall share, external-memory bytes
 * and their ratio to the compulsory bytes (A, B, C once + vectors), and
 * whether C is bit-exact to qmx_gemm_reference().  Figures from one run; nothing here
 * asserts a time.  Exit status 1 only when a result is wrong.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qmx/qmx.h"
#include "qmx_util.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process (every thread): on a loaded machine the
 * simulation's speed per CPU-second is the stable figure. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qmx-bench-sim [--quick] [--arrays 8x8,16x16] [--sizes 256,512,1024]\n"
		"                     [--lat CYCLES] [--bw BYTES_PER_CYCLE] [--out int8|int32]\n"
		"                     [--no-check] [--seed S]\n\n"
		"Simulated cycles per wall-second, MACs per wall-second and array utilisation\n"
		"of the Verilator model, one square GEMM (M = N = K = size) per row.\n"
		"--quick: sizes 64,128 (CI).  --lat/--bw: memory model (default nominal).\n");
}

struct row {
	uint64_t cycles, stalls, macs, ext_rd, ext_wr, compulsory;
	double wall, cpu;
	int ok; /* 1 bit-exact, 0 wrong, -1 not checked */
};

static int run_one(const char *uri, int64_t size, int out8, int check, uint64_t seed,
		   struct row *r)
{
	qmx_device *dev;
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_host_operands ops;
	qmx_job_stats st;
	qmx_rng rng = { seed };
	int err;

	memset(r, 0, sizeof(*r));
	if ((err = qmx_device_open(uri, &dev)))
		return err;
	qmx_gemm_params_init(&p, size, size, size);
	p.a_zero_point = 3;
	p.has_bias = 1;
	if (out8) {
		p.out_type = QMX_OUT_INT8;
		qmx_quantize_multiplier(1.0 / (double)(size * 64), &p.multiplier, &p.shift);
		p.c_zero_point = -5;
	}
	if ((err = qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM))) {
		qmx_device_del(dev);
		return err;
	}
	qmx_problem_operands(&pb, &ops, false);
	r->compulsory = qmx_compulsory_bytes(&p);
	double t0 = now_s(), c0 = cpu_s();
	err = qmx_gemm(dev, &p, &ops, &st);
	r->wall = now_s() - t0;
	r->cpu = cpu_s() - c0;
	if (!err) {
		r->cycles = st.cycles;
		r->stalls = st.stall_cycles;
		r->macs = st.macs;
		r->ext_rd = st.ext_bytes_read;
		r->ext_wr = st.ext_bytes_written;
		r->ok = -1;
		if (check) {
			char msg[200];
			qmx_problem_compute_reference(&pb);
			r->ok = qmx_problem_matches(&pb, msg, sizeof(msg));
			if (!r->ok)
				fprintf(stderr, "qmx-bench-sim: %s %lld^3 WRONG: %s (seed %" PRIu64 ")\n",
					uri, (long long)size, msg, seed);
		}
	}
	qmx_problem_free(&pb);
	qmx_device_del(dev);
	return err;
}

int main(int argc, char **argv)
{
	enum { O_QUICK = 256, O_ARRAYS, O_SIZES, O_LAT, O_BW, O_OUT, O_NOCHECK, O_SEED };
	static const struct option opts[] = {
		{ "quick", no_argument, 0, O_QUICK },      { "arrays", required_argument, 0, O_ARRAYS },
		{ "sizes", required_argument, 0, O_SIZES }, { "lat", required_argument, 0, O_LAT },
		{ "bw", required_argument, 0, O_BW },       { "out", required_argument, 0, O_OUT },
		{ "no-check", no_argument, 0, O_NOCHECK },  { "seed", required_argument, 0, O_SEED },
		{ "help", no_argument, 0, 'h' },            { 0, 0, 0, 0 },
	};
	char arrays[128] = "8x8,16x16", sizes[128] = "256,512,1024", mem[64] = "";
	long lat = -1, bw = -1;
	int out8 = 1, check = 1, c;
	uint64_t seed = qmx_util_seed(1);

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_QUICK:
			snprintf(sizes, sizeof(sizes), "64,128");
			break;
		case O_ARRAYS:
			snprintf(arrays, sizeof(arrays), "%s", optarg);
			break;
		case O_SIZES:
			snprintf(sizes, sizeof(sizes), "%s", optarg);
			break;
		case O_LAT:
			lat = strtol(optarg, NULL, 0);
			break;
		case O_BW:
			bw = strtol(optarg, NULL, 0);
			break;
		case O_OUT:
			if (strcmp(optarg, "int8") && strcmp(optarg, "int32")) {
				fprintf(stderr, "qmx-bench-sim: --out must be int8 or int32\n");
				return 2;
			}
			out8 = !strcmp(optarg, "int8");
			break;
		case O_NOCHECK:
			check = 0;
			break;
		case O_SEED:
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (lat >= 0)
		snprintf(mem + strlen(mem), sizeof(mem) - strlen(mem), ",lat=%ld", lat);
	if (bw >= 0)
		snprintf(mem + strlen(mem), sizeof(mem) - strlen(mem), ",bw=%ld", bw);

	printf("qmx-bench-sim: seed %" PRIu64 ", output %s, memory %s\n", seed,
	       out8 ? "int8" : "int32", *mem ? mem + 1 : "nominal (lat 40, bus rate)");
	printf("%-6s %6s %12s %8s %10s %10s %8s %11s %10s %7s %6s %12s %7s %s\n", "array", "size",
	       "cycles", "wall s", "Mcycle/s", "MMAC/s", "cpu s", "Mcycle/cpu", "MMAC/cpu", "util%",
	       "stall%", "ext bytes", "ext/cmp", "check");
	int wrong = 0, failed = 0;
	char *asave = NULL;
	for (char *a = strtok_r(arrays, ",", &asave); a; a = strtok_r(NULL, ",", &asave)) {
		unsigned rows, cols;
		char x;
		if (sscanf(a, "%u%c%u", &rows, &x, &cols) != 3 || x != 'x') {
			fprintf(stderr, "qmx-bench-sim: --arrays: '%s' is not RxC\n", a);
			return 2;
		}
		char sz[128], *ssave = NULL;
		snprintf(sz, sizeof(sz), "%s", sizes);
		for (char *s = strtok_r(sz, ",", &ssave); s; s = strtok_r(NULL, ",", &ssave)) {
			int64_t size = strtoll(s, NULL, 0);
			char uri[128];
			struct row r;
			snprintf(uri, sizeof(uri), "sim:%ux%u%s", rows, cols, mem);
			if (size <= 0) {
				fprintf(stderr, "qmx-bench-sim: --sizes: '%s' is not a size\n", s);
				return 2;
			}
			int err = run_one(uri, size, out8, check, seed, &r);
			if (err) {
				printf("%-6s %6lld  %s: %s\n", a, (long long)size, qmx_error_name(err),
				       qmx_last_error());
				failed++;
				continue;
			}
			double util = r.cycles ? 100.0 * (double)r.macs /
							 ((double)r.cycles * rows * cols)
					       : 0;
			printf("%-6s %6lld %12" PRIu64 " %8.2f %10.2f %10.1f %8.2f %11.2f %10.1f %7.1f"
			       " %6.1f %12" PRIu64 " %7.2f %s\n",
			       a, (long long)size, r.cycles, r.wall, (double)r.cycles / r.wall / 1e6,
			       (double)r.macs / r.wall / 1e6, r.cpu, (double)r.cycles / r.cpu / 1e6,
			       (double)r.macs / r.cpu / 1e6, util,
			       r.cycles ? 100.0 * (double)r.stalls / (double)r.cycles : 0.0,
			       r.ext_rd + r.ext_wr,
			       (double)(r.ext_rd + r.ext_wr) / (double)r.compulsory,
			       r.ok < 0 ? "-" : r.ok ? "bit-exact" : "WRONG");
			fflush(stdout);
			wrong += r.ok == 0;
		}
	}
	if (failed)
		fprintf(stderr, "qmx-bench-sim: %d run(s) failed\n", failed);
	return wrong || failed ? 1 : 0;
}
