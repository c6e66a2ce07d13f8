/* SPDX-License-Identifier: MIT */
/*
 * test_model_unit.c - the analytical model's interface without the
 * simulator: the RTL's defaults and on-chip memory (docs/dataflow.md's
 * table), counters of hand-countable jobs, bad configurations and shapes
 * named in the error, and the model:RxC device (URI errors, results
 * bit-exact against the reference, stats from the model).
 */
#include <math.h>
#include <stdlib.h>

#include "test_common.h"
#include "qmx_model.h"

static void test_defaults(void **state)
{
	struct qmx_model_config c;
	struct qmx_model_memory m;
	(void)state;
	/* docs/dataflow.md, "On-chip memory per configuration". */
	static const struct { unsigned n, bus; uint64_t total; } t[] = {
		{ 8, 64, 1597488 }, { 16, 128, 1609824 }, { 32, 256, 1634496 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		qmx_model_config_default(&c, t[i].n, t[i].n);
		assert_int_equal(qmx_model_config_check(&c), 0);
		assert_int_equal(c.axi_data_bits, t[i].bus);
		assert_int_equal(c.block_m, 512);
		assert_int_equal(c.tile_k, 256);
		qmx_model_memory(&c, &m);
		assert_int_equal(m.total_bytes, t[i].total);
	}
	qmx_model_config_default(&c, 256, 256);
	assert_int_equal(qmx_model_config_check(&c), 0);
	assert_int_equal(c.axi_data_bits, 1024); /* 8 * 256 = 2048 capped at the AXI limit */
}

static void test_counters(void **state)
{
	struct qmx_model_config c;
	struct qmx_model_result r;
	(void)state;
	qmx_model_config_default(&c, 8, 8);
	/* docs/dataflow.md, "Counting DRAM traffic by hand": 1024^3, int8, bias. */
	struct qmx_model_gemm g = { .m = 1024, .n = 1024, .k = 1024, .out_int8 = true, .bias = true };
	assert_int_equal(qmx_model_predict(&c, &g, &r), 0);
	assert_int_equal(r.ext_rd_bytes + r.ext_wr_bytes, 5251072);
	assert_int_equal(r.macs, 1024ull * 1024 * 1024);
	assert_int_equal(r.steps, 1024ull * 1024 * 1024 / 64);
	assert_true(r.cycles >= r.steps);
	assert_int_equal(r.stall_cycles, r.cycles - r.steps);
	assert_true(r.seconds > 0);
	/* A bigger array never takes more cycles on the same job. */
	struct qmx_model_result r32;
	qmx_model_config_default(&c, 32, 32);
	assert_int_equal(qmx_model_predict(&c, &g, &r32), 0);
	assert_true(r32.cycles < r.cycles);
}

/* Random configurations and shapes (seeded, printed): the model answers,
 * and what must hold whatever the timing holds. */
static void test_random(void **state)
{
	const char *env = getenv("QMX_TEST_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 0) : 2026;
	(void)state;
	print_message("seed %u (QMX_TEST_SEED)\n", seed);
	for (int i = 0; i < 1000; i++) {
		struct qmx_model_config c;
		struct qmx_model_result r;
		unsigned rows = 1u << (rand_r(&seed) % 9), cols = 1 + rand_r(&seed) % 256;
		if (rows + cols < 3)
			cols = 2;
		qmx_model_config_default(&c, rows, cols);
		c.block_m = rows * (1 + rand_r(&seed) % 8);
		c.block_n = cols * (2 + rand_r(&seed) % 8);
		c.tile_k = 1 + rand_r(&seed) % 512;
		c.axi_data_bits = 32u << (rand_r(&seed) % 6);
		c.mem_latency_cycles = rand_r(&seed) % 300;
		c.mem_bytes_per_cycle = rand_r(&seed) % 3 ? 0 : 1 + rand_r(&seed) % 64;
		assert_int_equal(qmx_model_config_check(&c), 0);
		struct qmx_model_gemm g = {
			.m = 1 + rand_r(&seed) % 1500, .n = 1 + rand_r(&seed) % 1500,
			.k = 1 + rand_r(&seed) % 1500, .out_int8 = rand_r(&seed) & 1,
			.bias = rand_r(&seed) & 1,
		};
		g.per_channel = g.out_int8 && (rand_r(&seed) & 1);
		g.ldc = g.n + rand_r(&seed) % 5;
		assert_int_equal(qmx_model_predict(&c, &g, &r), 0);
		uint64_t wb = c.axi_data_bits / 8;
		assert_int_equal(r.macs, (uint64_t)g.m * g.n * g.k);
		assert_true(r.cycles >= r.steps);
		assert_int_equal(r.stall_cycles, r.cycles - r.steps);
		/* Every byte of A, B and C crosses the bus at least once. */
		assert_true(r.ext_rd_bytes >= (uint64_t)g.m * g.k + (uint64_t)g.k * g.n);
		assert_true(r.ext_wr_bytes >= (uint64_t)g.m * g.n * (g.out_int8 ? 1 : 4));
		assert_int_equal(r.ext_rd_bytes % wb, 0);
		/* The memory moves at most one beat per cycle each way. */
		if (r.cycles * wb < r.ext_rd_bytes)
			fail_msg("%ux%u block %ux%u tile_k %u bus %u lat %u bw %u, %ux%ux%u: %llu cycles "
				 "for %llu read bytes", rows, cols, c.block_m, c.block_n, c.tile_k,
				 c.axi_data_bits, c.mem_latency_cycles, c.mem_bytes_per_cycle, g.m, g.n, g.k,
				 (unsigned long long)r.cycles, (unsigned long long)r.ext_rd_bytes);
		assert_true(r.cycles * wb >= r.ext_wr_bytes);
		if (c.mem_bytes_per_cycle)
			assert_true((double)r.cycles * c.mem_bytes_per_cycle >=
				    0.98 * (double)(r.ext_rd_bytes + r.ext_wr_bytes));
	}
}

/* Folding runs of alike blocks and rows of blocks into closed form
 * (qmx_model_predict) against evaluating every block
 * (qmx_model_predict_unfolded).  Counters never depend on it.  Timing is
 * a sum of doubles: n steps at once round differently from n single
 * steps, which moves llround(cycles) only where the sum is within
 * rounding of a half cycle, or by parts in 1e8 over billions of cycles. */
static void expect_same(const struct qmx_model_config *c, const struct qmx_model_gemm *g,
			bool exact, unsigned *differ)
{
	struct qmx_model_result f, u;

	assert_int_equal(qmx_model_predict(c, g, &f), 0);
	assert_int_equal(qmx_model_predict_unfolded(c, g, &u), 0);
	assert_int_equal(f.macs, u.macs);
	assert_int_equal(f.steps, u.steps);
	assert_int_equal(f.sram_rd_bytes, u.sram_rd_bytes);
	assert_int_equal(f.sram_wr_bytes, u.sram_wr_bytes);
	assert_int_equal(f.ext_rd_bytes, u.ext_rd_bytes);
	assert_int_equal(f.ext_wr_bytes, u.ext_wr_bytes);
	const uint64_t fv[] = { f.cycles, f.stall_cycles, f.load_exposed, f.drain_exposed };
	const uint64_t uv[] = { u.cycles, u.stall_cycles, u.load_exposed, u.drain_exposed };
	bool same = true;
	for (size_t i = 0; i < sizeof(fv) / sizeof(fv[0]); i++) {
		double d = fabs((double)fv[i] - (double)uv[i]);
		same = same && fv[i] == uv[i];
		if (d > (exact ? 0 : 1 + 1e-7 * (double)uv[i]))
			fail_msg("%ux%u block %ux%u tile_k %u bus %u out %u/%u lat %u bw %u, "
				 "%ux%ux%u ld %u/%u/%u off %u/%u/%u/%u: value %zu folded %llu, unfolded %llu",
				 c->rows, c->cols, c->block_m, c->block_n, c->tile_k, c->axi_data_bits,
				 c->rd_outstanding, c->wr_outstanding, c->mem_latency_cycles,
				 c->mem_bytes_per_cycle, g->m, g->n, g->k, g->lda, g->ldb, g->ldc,
				 g->a_off, g->b_off, g->c_off, g->vec_off, i, (unsigned long long)fv[i],
				 (unsigned long long)uv[i]);
	}
	*differ += !same;
}

static void test_fold(void **state)
{
	static const unsigned shapes[][3] = {
		{ 128, 768, 768 }, { 128, 3072, 768 }, { 128, 768, 3072 }, { 1024, 1024, 1024 },
		{ 4096, 4096, 4096 }, { 4095, 4097, 4093 }, { 3001, 2999, 257 }, { 2048, 511, 4100 },
	};
	const char *env = getenv("QMX_TEST_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 0) : 2026, differ = 0, n = 0;
	(void)state;
	/* The benchmark's shapes and large ragged ones on every array, the
	 * RTL's defaults and slower memories: identical. */
	for (unsigned a = 8; a <= 256; a *= 2) {
		for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
			for (unsigned v = 0; v < 3; v++) {
				struct qmx_model_config c;
				qmx_model_config_default(&c, a, a);
				c.mem_latency_cycles = v == 1 ? 200 : 40;
				c.mem_bytes_per_cycle = v == 2 ? a / 2 : 0;
				struct qmx_model_gemm g = { .m = shapes[s][0], .n = shapes[s][1],
							    .k = shapes[s][2], .out_int8 = v != 1,
							    .bias = true };
				expect_same(&c, &g, true, &differ);
			}
		}
	}
	/* Random configurations, shapes, strides and offsets. */
	print_message("seed %u (QMX_TEST_SEED)\n", seed);
	while (n < 1500) {
		struct qmx_model_config c;
		unsigned rows = 1u << (rand_r(&seed) % 9), cols = 1 + rand_r(&seed) % 256;
		if (rows + cols < 3)
			cols = 2;
		qmx_model_config_default(&c, rows, cols);
		if (rand_r(&seed) % 2) {
			c.block_m = rows * (1 + rand_r(&seed) % 8);
			c.block_n = cols * (2 + rand_r(&seed) % 8);
		}
		if (rand_r(&seed) % 2)
			c.tile_k = 1 + rand_r(&seed) % 512;
		if (rand_r(&seed) % 2)
			c.axi_data_bits = 32u << (rand_r(&seed) % 6);
		c.rd_outstanding = 2u << (rand_r(&seed) % 6);
		c.wr_outstanding = 2u << (rand_r(&seed) % 6);
		c.mem_latency_cycles = rand_r(&seed) % 300;
		c.mem_bytes_per_cycle = rand_r(&seed) % 3 ? 0 : 1 + rand_r(&seed) % 200;
		struct qmx_model_gemm g = {
			.m = 1 + rand_r(&seed) % 4500, .n = 1 + rand_r(&seed) % 4500,
			.k = 1 + rand_r(&seed) % 4500, .out_int8 = rand_r(&seed) & 1,
			.bias = rand_r(&seed) & 1, .queued = rand_r(&seed) & 1,
		};
		g.per_channel = g.out_int8 && (rand_r(&seed) & 1);
		if (rand_r(&seed) % 4 == 0) {
			g.lda = g.k + rand_r(&seed) % 100;
			g.ldb = g.n + rand_r(&seed) % 100;
			g.ldc = g.n + rand_r(&seed) % 100;
		}
		if (rand_r(&seed) % 4 == 0) {
			g.a_off = rand_r(&seed) % 128;
			g.b_off = rand_r(&seed) % 128;
			g.c_off = rand_r(&seed) % 128;
			g.vec_off = rand_r(&seed) % 128;
		}
		/* The unfolded path is linear in the blocks: keep it quick. */
		uint64_t blocks = (uint64_t)(g.m / c.block_m + 1) * (g.n / c.block_n + 1) *
				  (g.k / c.tile_k + 1);
		if (blocks > 4000)
			continue;
		expect_same(&c, &g, false, &differ);
		n++;
	}
	print_message("%u random jobs: %u differ by rounding\n", n, differ);
	/* Rounding moves a result rarely. */
	assert_true(differ * 100 <= n);
}

static void test_bad_inputs(void **state)
{
	struct qmx_model_config c;
	struct qmx_model_result r;
	struct qmx_model_gemm g = { .m = 16, .n = 16, .k = 16 };
	(void)state;
	qmx_model_config_default(&c, 8, 8);
	c.rows = 12;
	assert_qmx_error(qmx_model_config_check(&c), QMX_EINVAL, "rows 12 must be a power of two");
	qmx_model_config_default(&c, 8, 8);
	c.cols = 300;
	assert_qmx_error(qmx_model_predict(&c, &g, &r), QMX_EINVAL, "cols 300 must be in [1, 256]");
	qmx_model_config_default(&c, 8, 8);
	c.axi_data_bits = 48;
	assert_qmx_error(qmx_model_config_check(&c), QMX_EINVAL, "axi_data_bits 48");
	qmx_model_config_default(&c, 8, 8);
	c.tile_k = 5000;
	assert_qmx_error(qmx_model_config_check(&c), QMX_EINVAL, "tile_k 5000 must be in [1, 4096]");
	qmx_model_config_default(&c, 8, 8);
	c.block_m = 12;
	assert_qmx_error(qmx_model_config_check(&c), QMX_EINVAL, "multiple of the array");
	qmx_model_config_default(&c, 8, 8);
	g.k = 0;
	assert_qmx_error(qmx_model_predict(&c, &g, &r), QMX_EINVAL, "m, n, k must be >= 1");
	g.k = 16;
	g.lda = 8;
	assert_qmx_error(qmx_model_predict(&c, &g, &r), QMX_EINVAL, "lda >= k");
	g.lda = 0;
	g.per_channel = true;
	assert_qmx_error(qmx_model_predict(&c, &g, &r), QMX_EINVAL, "per_channel needs out_int8");
}

static void test_device_uri(void **state)
{
	qmx_device *dev = NULL;
	(void)state;
	assert_qmx_error(qmx_device_open("model:12x8", &dev), QMX_EINVAL,
			 "rows a power of two in [1, 256]");
	assert_qmx_error(qmx_device_open("model:8x512", &dev), QMX_EINVAL, "columns in [1, 256]");
	assert_qmx_error(qmx_device_open("model:8x8,lat=-1", &dev), QMX_EINVAL,
			 "lat (memory latency, cycles) '-1' must be an integer in [0, 100000]");
	assert_qmx_error(qmx_device_open("model:8x8,bw=5000", &dev), QMX_EINVAL, "bw (memory");
	assert_qmx_error(qmx_device_open("model:8x8,trace=x", &dev), QMX_EINVAL,
			 "unknown argument 'trace' (keys: profile, lat, bw)");
	assert_qmx_error(qmx_device_open("model:8x8,profile=nope", &dev), QMX_EINVAL, "profile");
	assert_null(dev);
}

static void test_device_gemm(void **state)
{
	qmx_device *dev;
	qmx_device_info info;
	(void)state;
	assert_int_equal(qmx_device_open("model:64x64,profile=asic-7nm,lat=50,bw=64", &dev), 0);
	assert_int_equal(qmx_device_query(dev, &info), 0);
	assert_non_null(strstr(info.name, "modelled (analytical)"));
	assert_int_equal(info.array_rows, 64);
	assert_string_equal(info.profile, "asic-7nm");

	enum { M = 70, N = 90, K = 300 };
	int8_t *a = malloc(M * K), *b = malloc(K * N);
	int32_t *bias = malloc(N * 4), *c = malloc(M * N * 4), *ref = malloc(M * N * 4);
	unsigned seed = 7;
	for (int i = 0; i < M * K; i++)
		a[i] = (int8_t)(rand_r(&seed) >> 3);
	for (int i = 0; i < K * N; i++)
		b[i] = (int8_t)(rand_r(&seed) >> 3);
	for (int i = 0; i < N; i++)
		bias[i] = rand_r(&seed) % 2001 - 1000;
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, M, N, K);
	p.has_bias = 1;
	qmx_gemm_host_operands ops = { a, b, bias, NULL, NULL, c };
	qmx_job_stats st;
	assert_int_equal(qmx_gemm(dev, &p, &ops, &st), 0);
	ops.c = ref;
	assert_int_equal(qmx_gemm_reference(&p, &ops), 0);
	assert_memory_equal(c, ref, M * N * 4);

	/* The stats are the model's for this job at this configuration. */
	struct qmx_model_config cfg;
	struct qmx_model_result r;
	struct qmx_model_gemm g = { .m = M, .n = N, .k = K, .bias = true, .queued = true };
	qmx_model_config_default(&cfg, 64, 64);
	cfg.mem_latency_cycles = 50;
	cfg.mem_bytes_per_cycle = 64;
	cfg.clock_mhz = info.clock_mhz;
	assert_int_equal(qmx_model_predict(&cfg, &g, &r), 0);
	assert_int_equal(st.cycles, r.cycles);
	assert_int_equal(st.macs, (uint64_t)M * N * K);
	assert_int_equal(st.ext_bytes_read, r.ext_rd_bytes);
	assert_int_equal(st.sram_bytes_written, r.sram_wr_bytes);
	assert_true(st.device_ns > 0);
	assert_int_equal(st.energy_source, QMX_ENERGY_MODELLED);
	assert_true(st.energy_j > 0);
	free(a);
	free(b);
	free(bias);
	free(c);
	free(ref);
	qmx_device_del(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_device_uri),
		cmocka_unit_test(test_device_gemm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
