/* SPDX-License-Identifier: MIT */
/*
 * test_model_calib.c - the analytical model (runtime/src/model.c) against
 * the Verilator model: for every array size built (QMX_SIM_ARRAYS), two
 * memory models and a fixed set of shapes, run the job on sim:RxC,lat=,bw=
 * and predict it.  MACs, DRAM bytes and SRAM bytes must be exact, cycles
 * within +-2 %.  Prints the error table (docs/explore.md quotes it).
 *
 * test_model_calib [--full] [--cycle-limit PCT]: --full runs shapes of
 * several blocks and chunks; the cycle limit defaults to the 2 % target.
 * Inputs are seeded (QMX_TEST_SEED overrides; printed); values do not
 * change the timing, only the check that the run was real.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmx/qmx.h"
#include "qmx_model.h"

struct shape {
	const char *name;
	uint32_t m, n, k;
	int int8, bias, pc;
};

/* Each <= 256 in every dimension: one block, one chunk at the defaults. */
static const struct shape quick[] = {
	{ "ragged", 37, 53, 29, 1, 1, 0 },
	{ "bw-bound", 256, 256, 8, 0, 0, 0 },
	{ "k-heavy", 16, 16, 256, 0, 1, 0 },
	{ "tall", 256, 24, 64, 1, 0, 0 },
	{ "wide", 24, 256, 64, 1, 1, 1 },
	{ "square", 128, 128, 128, 1, 1, 1 },
	{ "tiny", 3, 5, 7, 0, 0, 0 },
};

/* Several blocks and chunks (label full). */
static const struct shape large[] = {
	{ "blocks", 600, 700, 100, 1, 1, 0 },
	{ "chunks", 64, 64, 1000, 0, 0, 0 },
	{ "both", 520, 530, 300, 1, 1, 1 },
	{ "bert-qkv", 128, 768, 768, 1, 1, 0 },
};

struct memcfg {
	const char *name;
	unsigned lat, bw;
};

static const struct memcfg mems[] = {
	{ "lat=40,bw=0", 40, 0 },
	{ "lat=150,bw=4", 150, 4 },
};

static uint64_t rng;
static double cycle_limit = 2.0;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static int run_one(const char *arr, const struct memcfg *mc, const struct shape *s,
		   double *worst, int *fails)
{
	char uri[128];
	unsigned r, c;
	qmx_device *dev;

	sscanf(arr, "%ux%u", &r, &c);
	snprintf(uri, sizeof(uri), "sim:%s,%s", arr, mc->name);
	if (qmx_device_open(uri, &dev)) {
		fprintf(stderr, "open %s: %s\n", uri, qmx_last_error());
		return -1;
	}
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, s->m, s->n, s->k);
	p.out_type = s->int8 ? QMX_OUT_INT8 : QMX_OUT_INT32;
	p.quant_mode = s->pc ? QMX_QUANT_PER_CHANNEL : QMX_QUANT_PER_TENSOR;
	p.has_bias = s->bias;
	p.multiplier = 1 << 24;
	p.shift = -2;
	int8_t *a = malloc((size_t)s->m * s->k), *b = malloc((size_t)s->k * s->n);
	int32_t *bias = calloc(s->n, 4), *mul = calloc(s->n, 4), *sh = calloc(s->n, 4);
	void *cc = calloc((size_t)s->m * s->n, 4), *cr = calloc((size_t)s->m * s->n, 4);
	for (size_t i = 0; i < (size_t)s->m * s->k; i++)
		a[i] = (int8_t)rnd();
	for (size_t i = 0; i < (size_t)s->k * s->n; i++)
		b[i] = (int8_t)rnd();
	for (uint32_t i = 0; i < s->n; i++) {
		bias[i] = (int32_t)(rnd() % 2001) - 1000;
		mul[i] = (int32_t)(rnd() % (1u << 30)) + (1 << 20);
		sh[i] = -(int32_t)(rnd() % 8);
	}
	qmx_gemm_host_operands ops = { a, b, bias, mul, sh, cc };
	qmx_job_stats st;
	int err = qmx_gemm(dev, &p, &ops, &st);
	qmx_gemm_host_operands ref = ops;
	ref.c = cr;
	if (!err)
		err = qmx_gemm_reference(&p, &ref);
	qmx_device_del(dev);
	if (err) {
		fprintf(stderr, "%s %s: %s\n", uri, s->name, qmx_last_error());
		return -1;
	}
	if (memcmp(cc, cr, (size_t)s->m * s->n * (s->int8 ? 1 : 4))) {
		fprintf(stderr, "%s %s: result differs from the reference\n", uri, s->name);
		(*fails)++;
	}

	struct qmx_model_config cfg;
	struct qmx_model_gemm g = { .m = s->m, .n = s->n, .k = s->k, .out_int8 = s->int8,
				    .bias = s->bias, .per_channel = s->pc,
				    .queued = true /* the sim backend queues every job */ };
	struct qmx_model_result mr;
	qmx_model_config_default(&cfg, r, c);
	cfg.mem_latency_cycles = mc->lat;
	cfg.mem_bytes_per_cycle = mc->bw;
	if (qmx_model_predict(&cfg, &g, &mr)) {
		fprintf(stderr, "predict: %s\n", qmx_last_error());
		return -1;
	}
	double errp = 100.0 * ((double)mr.cycles - (double)st.cycles) / (double)st.cycles;
	int exact = mr.macs == st.macs && mr.ext_rd_bytes == st.ext_bytes_read &&
		    mr.ext_wr_bytes == st.ext_bytes_written &&
		    mr.sram_rd_bytes == st.sram_bytes_read &&
		    mr.sram_wr_bytes == st.sram_bytes_written;
	int ok = exact && fabs(errp) <= cycle_limit;
	printf("| %-9s %3ux%-3ux%-4u | %-5s | %-12s | %8" PRIu64 " | %8" PRIu64 " | %+6.2f | %s |\n",
	       s->name, s->m, s->n, s->k, arr, mc->name, mr.cycles, st.cycles, errp,
	       exact ? "exact" : "DIFFER");
	if (!exact)
		printf("    counters model/RTL: macs %" PRIu64 "/%" PRIu64 " ext rd %" PRIu64
		       "/%" PRIu64 " wr %" PRIu64 "/%" PRIu64 " sram rd %" PRIu64 "/%" PRIu64
		       " wr %" PRIu64 "/%" PRIu64 "\n",
		       mr.macs, st.macs, mr.ext_rd_bytes, st.ext_bytes_read, mr.ext_wr_bytes,
		       st.ext_bytes_written, mr.sram_rd_bytes, st.sram_bytes_read,
		       mr.sram_wr_bytes, st.sram_bytes_written);
	if (fabs(errp) > *worst)
		*worst = fabs(errp);
	if (!ok)
		(*fails)++;
	free(a);
	free(b);
	free(bias);
	free(mul);
	free(sh);
	free(cc);
	free(cr);
	return 0;
}

int main(int argc, char **argv)
{
	int full = 0;
	const char *seed_env = getenv("QMX_TEST_SEED");
	uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : 12345;
	char arrays[] = QMX_TEST_SIM_ARRAYS;
	double worst = 0;
	int fails = 0, cases = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--full")) {
			full = 1;
		} else if (!strcmp(argv[i], "--cycle-limit") && i + 1 < argc) {
			cycle_limit = atof(argv[++i]);
		} else {
			fprintf(stderr, "usage: test_model_calib [--full] [--cycle-limit PCT]\n");
			return 2;
		}
	}
	rng = seed ? seed : 1;
	printf("seed %" PRIu64 " (QMX_TEST_SEED)\n", seed);
	printf("| shape M x N x K          | array | memory       | model    | RTL      | err %%  | counters |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (char *save = NULL, *arr = strtok_r(arrays, ",", &save); arr;
	     arr = strtok_r(NULL, ",", &save)) {
		for (size_t mi = 0; mi < sizeof(mems) / sizeof(mems[0]); mi++) {
			const struct shape *set = full ? large : quick;
			size_t n = full ? sizeof(large) / sizeof(large[0]) :
					  sizeof(quick) / sizeof(quick[0]);
			for (size_t si = 0; si < n; si++, cases++)
				if (run_one(arr, &mems[mi], &set[si], &worst, &fails))
					return 1;
		}
	}
	printf("worst cycle error %.2f %% over %d cases (limit %.3g %%, target 2 %%)\n", worst,
	       cases, cycle_limit);
	printf("%d passed, %d failed\n", cases - fails, fails);
	return fails ? 1 : 0;
}
