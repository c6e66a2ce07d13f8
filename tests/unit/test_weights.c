/* SPDX-License-Identifier: MIT */
/*
 * test_weights.c - pre-packed weights (qmx_weights_*): GEMMs with a packed B
 * bit-exact against qmx_gemm_reference() across shapes with ragged edges, one
 * handle reused for several A, explicit invalidation, the fallback on
 * backends that do not pack, and bad inputs named in the error.
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

/* Every tile edge of the cpu kernels (MR 6/8, NR 16/48, K groups 2/4, K
 * blocks of 512) and then some. */
static const int64_t g_shapes[][3] = {
	{ 1, 1, 1 },    { 3, 5, 7 },      { 8, 48, 4 },     { 9, 49, 5 },
	{ 17, 47, 130 }, { 6, 16, 513 },  { 33, 97, 515 },  { 145, 481, 1031 },
	{ 128, 96, 768 }, { 2, 300, 2049 },
};

/* GEMMs on `uri` with one handle per shape and three different A each, every
 * result checked bit for bit against the reference. */
static void check_device(const char *uri)
{
	qmx_device *dev;
	qmx_rng rng = { g_seed };

	if (qmx_device_open(uri, &dev)) {
		print_message("  %s not available here: %s\n", uri, qmx_last_error());
		return;
	}
	for (size_t s = 0; s < sizeof(g_shapes) / sizeof(g_shapes[0]); s++) {
		qmx_gemm_params p;
		qmx_problem pb;
		qmx_gemm_host_operands ops;
		qmx_weights *w;
		char msg[200];

		qmx_gemm_params_init(&p, g_shapes[s][0], g_shapes[s][1], g_shapes[s][2]);
		qmx_problem_random_quant(&p, &rng);
		if (s & 1) { /* strided */
			p.lda = p.k + 3;
			p.ldb = p.n + 5;
			p.ldc = p.n + 1;
		}
		assert_int_equal(qmx_problem_init(&pb, &p, &rng, s == 3 ? QMX_FILL_EXTREME
									   : QMX_FILL_RANDOM),
				 0);
		if (qmx_weights_new(dev, pb.b, p.k, p.n, p.ldb, &w))
			fail_msg("%s: qmx_weights_new: %s", uri, qmx_last_error());
		for (int use = 0; use < 3; use++) {
			if (use) { /* a new A, the same weights */
				int64_t na = (p.m - 1) * p.lda + p.k;
				for (int64_t i = 0; i < na; i++)
					pb.a[i] = (int8_t)qmx_rng_range(&rng, -128, 127);
			}
			assert_int_equal(qmx_problem_compute_reference(&pb), 0);
			qmx_problem_operands(&pb, &ops, false);
			ops.b = NULL; /* the handle's B is used */
			if (qmx_weights_gemm(w, &pb.p, &ops, NULL))
				fail_msg("%s: qmx_weights_gemm: %s", uri, qmx_last_error());
			if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
				fail_msg("%s M=%lld N=%lld K=%lld use %d (seed %llu): %s", uri,
					 (long long)p.m, (long long)p.n, (long long)p.k, use,
					 (unsigned long long)g_seed, msg);
		}
		qmx_weights_del(w);
		qmx_problem_free(&pb);
	}
	qmx_device_del(dev);
}

static void test_packed_gemm_cpu(void **state)
{
	(void)state;
	check_device("cpu");
	check_device("cpu:1");
}

/* Backends without packing take the handle too (the core's fallback). */
static void test_packed_gemm_fallback(void **state)
{
	(void)state;
	check_device("cpu-ref");
	check_device("onednn");
}

/* The cpu backend reuses its packed form until told B changed: a GEMM after
 * changing B in place still sees the packed (old) B, one after
 * qmx_weights_invalidate() the new one. */
static void test_invalidate(void **state)
{
	(void)state;
	qmx_device *dev;
	qmx_rng rng = { g_seed ^ 0x1A };
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_host_operands ops;
	qmx_weights *w;
	char msg[200];

	assert_int_equal(qmx_device_open("cpu", &dev), 0);
	qmx_gemm_params_init(&p, 37, 101, 203);
	qmx_problem_random_quant(&p, &rng);
	assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM), 0);
	assert_int_equal(qmx_weights_new(dev, pb.b, p.k, p.n, p.ldb, &w), 0);
	assert_int_equal(qmx_problem_compute_reference(&pb), 0); /* old B */
	for (int64_t i = 0; i < p.k * p.n; i++)
		pb.b[i] = (int8_t)(pb.b[i] ^ 0x5B);
	qmx_problem_operands(&pb, &ops, false);
	assert_int_equal(qmx_weights_gemm(w, &p, &ops, NULL), 0);
	if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
		fail_msg("the packed B was not reused (seed %llu): %s", (unsigned long long)g_seed,
			 msg);
	assert_int_equal(qmx_weights_invalidate(w), 0);
	assert_int_equal(qmx_problem_compute_reference(&pb), 0); /* new B */
	assert_int_equal(qmx_weights_gemm(w, &p, &ops, NULL), 0);
	if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
		fail_msg("not repacked after qmx_weights_invalidate (seed %llu): %s",
			 (unsigned long long)g_seed, msg);
	/* The handle holds the device: it outlives the caller's reference. */
	qmx_device_del(dev);
	assert_int_equal(qmx_weights_gemm(w, &p, &ops, NULL), 0);
	assert_true(qmx_problem_matches(&pb, msg, sizeof(msg)));
	qmx_weights_del(w);
	qmx_problem_free(&pb);
}

static void expect_error(int err, int want, const char *needle)
{
	if (err != want)
		fail_msg("expected %s, got %s (%s)", qmx_error_name(want), qmx_error_name(err),
			 qmx_last_error());
	if (!strstr(qmx_last_error(), needle))
		fail_msg("error '%s' does not say '%s'", qmx_last_error(), needle);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	qmx_device *dev;
	qmx_weights *w = (qmx_weights *)&w;
	int8_t b[64] = { 0 }, a[64] = { 0 };
	int32_t c[64];
	qmx_gemm_params p;
	qmx_gemm_host_operands ops = { .a = a, .c = c };

	assert_int_equal(qmx_device_open("cpu", &dev), 0);
	expect_error(qmx_weights_new(dev, b, 8, 8, 8, NULL), QMX_EINVAL, "out is NULL");
	expect_error(qmx_weights_new(NULL, b, 8, 8, 8, &w), QMX_EINVAL, "dev is NULL");
	assert_null(w);
	expect_error(qmx_weights_new(dev, NULL, 8, 8, 8, &w), QMX_EINVAL, "b is NULL");
	expect_error(qmx_weights_new(dev, b, 0, 8, 8, &w), QMX_EINVAL, "k (0) must be > 0");
	expect_error(qmx_weights_new(dev, b, 8, -1, 8, &w), QMX_EINVAL, "n (-1) must be > 0");
	expect_error(qmx_weights_new(dev, b, 8, 8, 7, &w), QMX_EINVAL, "ldb (7) < n (8)");
	expect_error(qmx_weights_new(dev, b, INT64_C(1) << 40, 8, 8, &w), QMX_EOVERFLOW,
		     "k (1099511627776) > limit");
	assert_int_equal(qmx_weights_new(dev, b, 8, 8, 8, &w), 0);

	qmx_gemm_params_init(&p, 8, 8, 7);
	expect_error(qmx_weights_gemm(w, &p, &ops, NULL), QMX_EINVAL,
		     "p->k (7) != the weights' k (8)");
	qmx_gemm_params_init(&p, 8, 6, 8);
	expect_error(qmx_weights_gemm(w, &p, &ops, NULL), QMX_EINVAL,
		     "p->n (6) != the weights' n (8)");
	qmx_gemm_params_init(&p, 8, 8, 8);
	expect_error(qmx_weights_gemm(NULL, &p, &ops, NULL), QMX_EINVAL, "w is NULL");
	expect_error(qmx_weights_gemm(w, NULL, &ops, NULL), QMX_EINVAL, "p is NULL");
	expect_error(qmx_weights_gemm(w, &p, NULL, NULL), QMX_EINVAL, "ops is NULL");
	ops.a = NULL;
	expect_error(qmx_weights_gemm(w, &p, &ops, NULL), QMX_EINVAL, "a is NULL");
	ops.a = a;
	p.lda = 3;
	expect_error(qmx_weights_gemm(w, &p, &ops, NULL), QMX_EINVAL, "lda (3) < k (8)");
	p.lda = 8;
	p.out_type = 7;
	expect_error(qmx_weights_gemm(w, &p, &ops, NULL), QMX_EINVAL, "out_type (7)");
	p.out_type = QMX_OUT_INT32;
	expect_error(qmx_weights_invalidate(NULL), QMX_EINVAL, "w is NULL");
	/* A good call after all that: 0 · B = 0. */
	memset(c, 0x5A, sizeof(c));
	assert_int_equal(qmx_weights_gemm(w, &p, &ops, NULL), 0);
	for (int i = 0; i < 64; i++)
		assert_int_equal(c[i], 0);
	qmx_weights_del(w);
	qmx_weights_del(NULL);
	qmx_device_del(dev);
}

int main(void)
{
	g_seed = qmx_util_seed(20261202);
	printf("test_weights: seed %llu (QMX_TEST_SEED overrides)\n", (unsigned long long)g_seed);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packed_gemm_cpu),
		cmocka_unit_test(test_packed_gemm_fallback),
		cmocka_unit_test(test_invalidate),
		cmocka_unit_test(test_bad_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
