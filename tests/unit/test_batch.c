/* SPDX-License-Identifier: MIT */
/*
 * test_batch.c - the batch limit (QMX_BATCH_MAX_ENTRIES) and qmx_gemm_tiled():
 * GEMMs larger than a device's max_dim (cpu:max_dim=D stands for a small
 * device) bit-exact against qmx_gemm_reference() for every output type,
 * split K included, and the progress callback (every tile counted, stopping
 * early).  The batch semantics on every backend are in tests/conformance.
 *
 * Seeded: the seed is printed; QMX_TEST_SEED overrides it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qmx/qmx.h"
#include "qmx_util.h"

static uint64_t g_seed;

static void test_batch_limit(void **state)
{
	(void)state;
	qmx_device *dev;
	qmx_batch *b;
	qmx_buffer *a, *w, *c;
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, 1, 1, 1);

	assert_int_equal(qmx_device_open("cpu-ref", &dev), 0);
	assert_int_equal(qmx_buffer_new(dev, 1, 0, &a), 0);
	assert_int_equal(qmx_buffer_new(dev, 1, 0, &w), 0);
	assert_int_equal(qmx_buffer_new(dev, 4, 0, &c), 0);
	qmx_gemm_desc d = { .params = p, .a = { a, 0 }, .b = { w, 0 }, .c = { c, 0 } };
	assert_int_equal(qmx_batch_create(dev, &b), 0);
	for (uint32_t i = 0; i < QMX_BATCH_MAX_ENTRIES; i++) {
		uint32_t at;
		assert_int_equal(qmx_batch_add_gemm(b, &d, i ? (int32_t)i - 1 : -1, &at), 0);
		assert_int_equal(at, i);
	}
	assert_int_equal(qmx_batch_add_gemm(b, &d, -1, NULL), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "4096 entries, the limit (QMX_BATCH_MAX_ENTRIES)"));
	assert_int_equal(qmx_batch_size(b), QMX_BATCH_MAX_ENTRIES);
	assert_int_equal(qmx_batch_submit(b), 0);
	assert_int_equal(qmx_batch_wait(b, 600LL * 1000), 0);
	qmx_batch_destroy(b);
	qmx_buffer_del(a);
	qmx_buffer_del(w);
	qmx_buffer_del(c);
	qmx_device_del(dev);
}

struct progress_log {
	uint64_t calls_done; /* calls reporting a finished tile */
	uint64_t last, total;
	bool ordered;
	uint64_t stop_at; /* 0: never stop */
};

static int progress_cb(uint64_t done, uint64_t total, void *user)
{
	struct progress_log *l = user;
	if (done < l->last || (l->total && total != l->total))
		l->ordered = false;
	if (done > l->last)
		l->calls_done++;
	l->last = done;
	l->total = total;
	return l->stop_at && done >= l->stop_at;
}

/* On cpu:max_dim=D every shape below needs tiles (M, N, K or the strides
 * exceed D); the result is the reference's bit for bit and the callback sees
 * each tile once, in order. */
static void test_tiled_exact(void **state)
{
	(void)state;
	static const struct {
		int64_t m, n, k, pad;
		int out;      /* enum qmx_out_type */
		int per_ch;   /* per-channel requantization */
		int bias;
	} cases[] = {
		{ 40, 37, 20, 0, QMX_OUT_INT32, 0, 1 }, { 17, 50, 90, 3, QMX_OUT_INT32, 0, 1 },
		{ 33, 33, 23, 0, QMX_OUT_INT8, 0, 1 },  { 30, 41, 70, 2, QMX_OUT_INT8, 0, 1 },
		{ 25, 60, 64, 0, QMX_OUT_INT8, 1, 1 },  { 9, 9, 100, 0, QMX_OUT_INT8, 1, 0 },
		{ 24, 24, 24, 1, QMX_OUT_INT8, 0, 0 },  { 5, 7, 3, 30, QMX_OUT_INT32, 0, 0 },
	};
	const int64_t t = 24;
	qmx_device *dev;
	qmx_device_info info;
	qmx_rng rng = { g_seed };

	assert_int_equal(qmx_device_open("cpu:1,max_dim=24", &dev), 0);
	assert_int_equal(qmx_device_query(dev, &info), 0);
	assert_int_equal(info.max_dim, (uint64_t)t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		qmx_gemm_params p;
		qmx_problem pb;
		qmx_gemm_host_operands ops;
		qmx_job_stats st;
		struct progress_log log = { .ordered = true };
		char msg[200];

		qmx_gemm_params_init(&p, cases[i].m, cases[i].n, cases[i].k);
		qmx_problem_random_quant(&p, &rng);
		p.out_type = cases[i].out;
		p.quant_mode = cases[i].per_ch ? QMX_QUANT_PER_CHANNEL : QMX_QUANT_PER_TENSOR;
		p.has_bias = cases[i].bias;
		p.lda = p.k + cases[i].pad;
		p.ldb = p.n + cases[i].pad;
		p.ldc = p.n + cases[i].pad;
		assert_int_equal(qmx_problem_init(&pb, &p, &rng, i == 3 ? QMX_FILL_EXTREME
								     : QMX_FILL_RANDOM), 0);
		/* The device refuses it as one job... */
		qmx_buffer *big;
		assert_int_equal(qmx_buffer_new(dev, 1 << 16, 0, &big), 0);
		qmx_gemm_desc d = { .params = p, .a = { big, 0 }, .b = { big, 16384 },
				    .c = { big, 32768 }, .bias = { big, 60000 },
				    .multipliers = { big, 61000 }, .shifts = { big, 62000 } };
		qmx_job *job;
		assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
		assert_non_null(strstr(qmx_last_error(), "max_dim"));
		qmx_buffer_del(big);
		/* ...and takes it as tiles. */
		qmx_problem_operands(&pb, &ops, false);
		int err = qmx_gemm_tiled(dev, &p, &ops, &st, progress_cb, &log);
		if (err)
			fail_msg("case %zu: %s", i, qmx_last_error());
		assert_int_equal(qmx_problem_compute_reference(&pb), 0);
		if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
			fail_msg("case %zu %lldx%lldx%lld out=%d per_ch=%d (seed %llu): %s", i,
				 (long long)p.m, (long long)p.n, (long long)p.k, p.out_type,
				 cases[i].per_ch, (unsigned long long)g_seed, msg);
		uint64_t tiles = (uint64_t)(((p.m + t - 1) / t) * ((p.n + t - 1) / t) *
					    ((p.k + t - 1) / t));
		assert_int_equal(log.total, tiles);
		assert_int_equal(log.calls_done, tiles);
		assert_int_equal(log.last, tiles);
		assert_true(log.ordered);
		assert_int_equal(st.macs, (uint64_t)(p.m * p.n * p.k));
		qmx_problem_free(&pb);
	}
	qmx_device_del(dev);
}

/* A callback returning nonzero stops the GEMM after that tile. */
static void test_tiled_stop(void **state)
{
	(void)state;
	qmx_device *dev;
	qmx_rng rng = { g_seed ^ 1 };
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_host_operands ops;
	struct progress_log log = { .ordered = true, .stop_at = 2 };

	assert_int_equal(qmx_device_open("cpu:1,max_dim=8", &dev), 0);
	qmx_gemm_params_init(&p, 32, 32, 8);
	assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM), 0);
	qmx_problem_operands(&pb, &ops, false);
	assert_int_equal(qmx_gemm_tiled(dev, &p, &ops, NULL, progress_cb, &log), QMX_EBUSY);
	assert_non_null(strstr(qmx_last_error(), "stopped by the progress callback"));
	assert_int_equal(log.last, 2);
	assert_int_equal(log.total, 16);
	/* Bad inputs are named. */
	assert_int_equal(qmx_gemm_tiled(NULL, &p, &ops, NULL, NULL, NULL), QMX_EINVAL);
	ops.b = NULL;
	assert_int_equal(qmx_gemm_tiled(dev, &p, &ops, NULL, NULL, NULL), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "qmx_gemm_tiled"));
	qmx_device *bad;
	assert_int_equal(qmx_device_open("cpu:1,max_dim=0", &bad), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "max_dim '0'"));
	qmx_problem_free(&pb);
	qmx_device_del(dev);
}

/* Within the limits: one GEMM, the callback called once with (1, 1). */
static void test_tiled_fits(void **state)
{
	(void)state;
	qmx_device *dev;
	qmx_rng rng = { g_seed ^ 2 };
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_host_operands ops;
	struct progress_log log = { .ordered = true };
	char msg[160];

	assert_int_equal(qmx_device_open("cpu", &dev), 0);
	qmx_gemm_params_init(&p, 19, 23, 29);
	qmx_problem_random_quant(&p, &rng);
	assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM), 0);
	qmx_problem_operands(&pb, &ops, false);
	assert_int_equal(qmx_gemm_tiled(dev, &p, &ops, NULL, progress_cb, &log), 0);
	assert_int_equal(qmx_problem_compute_reference(&pb), 0);
	if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
		fail_msg("%s", msg);
	assert_int_equal(log.total, 1);
	assert_int_equal(log.calls_done, 1);
	qmx_problem_free(&pb);
	qmx_device_del(dev);
}

int main(void)
{
	g_seed = qmx_util_seed(20261203);
	printf("test_batch: seed %llu (QMX_TEST_SEED overrides)\n", (unsigned long long)g_seed);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_limit),
		cmocka_unit_test(test_tiled_exact),
		cmocka_unit_test(test_tiled_stop),
		cmocka_unit_test(test_tiled_fits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
