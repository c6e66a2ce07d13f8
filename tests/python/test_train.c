/* SPDX-License-Identifier: MIT */
/*
 * test_train.c - the training helpers of libqmx (train.h): quantization
 * parameters, rounding, (de)quantize round trips, argument errors, and the
 * fake-quant GEMM plan against the float product within the error bound its
 * scales imply, on the device named by argv[1] (default "cpu").
 *
 * Seed: $QMX_TEST_SEED, else a fixed default; printed.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <qmx/qmx.h>

static const char *g_device = "cpu";
static uint64_t g_seed = 20261127;

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static float rng_float(uint64_t *s, float lo, float hi)
{
	return lo + (hi - lo) * (float)((double)(rng_next(s) >> 11) * 0x1.0p-53);
}

static void assert_error(int err, int want, const char *fragment)
{
	if (err != want || !strstr(qmx_last_error(), fragment))
		fail_msg("got %d (%s), want %d with message containing '%s'", err,
			 qmx_last_error(), want, fragment);
}

/* ------------------------------------------------------------------ parameters */

static void test_qparams_known(void **state)
{
	qmx_qparams qp;
	(void)state;

	/* Asymmetric [-1, 3]: scale 4/255; -128 - (-1)/scale = -64.25 -> -64. */
	assert_int_equal(qmx_qparams_from_minmax(-1.0f, 3.0f, QMX_QSCHEME_ASYMMETRIC, &qp), 0);
	assert_float_equal(qp.scale, 4.0 / 255.0, 1e-9);
	assert_int_equal(qp.zero_point, -64);
	/* The range is extended to contain 0: [2, 4] behaves as [0, 4]. */
	assert_int_equal(qmx_qparams_from_minmax(2.0f, 4.0f, QMX_QSCHEME_ASYMMETRIC, &qp), 0);
	assert_float_equal(qp.scale, 4.0 / 255.0, 1e-9);
	assert_int_equal(qp.zero_point, -128);
	assert_int_equal(qmx_qparams_from_minmax(-4.0f, -2.0f, QMX_QSCHEME_ASYMMETRIC, &qp), 0);
	assert_int_equal(qp.zero_point, 127);
	/* Symmetric [-2, 1]: scale 2/127, zero point 0. */
	assert_int_equal(qmx_qparams_from_minmax(-2.0f, 1.0f, QMX_QSCHEME_SYMMETRIC, &qp), 0);
	assert_float_equal(qp.scale, 2.0 / 127.0, 1e-9);
	assert_int_equal(qp.zero_point, 0);
	/* Empty range. */
	assert_int_equal(qmx_qparams_from_minmax(0.0f, 0.0f, QMX_QSCHEME_ASYMMETRIC, &qp), 0);
	assert_float_equal(qp.scale, 1.0, 0.0);
	assert_int_equal(qp.zero_point, 0);
	/* 0.0 is exact after the nudge for asymmetric ranges. */
	uint64_t s = g_seed;
	for (int i = 0; i < 1000; i++) {
		float lo = rng_float(&s, -10.0f, 1.0f), hi = rng_float(&s, -1.0f, 10.0f);
		if (lo > hi) {
			float t = lo;
			lo = hi;
			hi = t;
		}
		int8_t q;
		float back, zero = 0.0f;
		assert_int_equal(qmx_qparams_from_minmax(lo, hi, QMX_QSCHEME_ASYMMETRIC, &qp), 0);
		assert_int_equal(qmx_quantize(&zero, 1, qp, &q), 0);
		assert_int_equal(q, qp.zero_point);
		assert_int_equal(qmx_dequantize(&q, 1, qp, &back), 0);
		assert_true(back == 0.0f);
	}
}

static void test_rounding_half_even(void **state)
{
	const float x[] = { 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49f, 200.0f, -200.0f };
	const int8_t want[] = { 0, 2, 2, 0, -2, -2, 0, 127, -128 };
	int8_t q[9];
	qmx_qparams qp = { 1.0f, 0 };
	(void)state;

	assert_int_equal(qmx_quantize(x, 9, qp, q), 0);
	for (int i = 0; i < 9; i++)
		if (q[i] != want[i])
			fail_msg("quantize(%g) = %d, want %d (half to even)", (double)x[i], q[i],
				 want[i]);
	/* With a zero point: 2.5 / 0.5 = 5 exactly, + 3 = 8; 0.25 / 0.5 = 0.5 -> 0 + 3. */
	qmx_qparams qz = { 0.5f, 3 };
	const float y[] = { 2.5f, 0.25f, 0.75f };
	assert_int_equal(qmx_quantize(y, 3, qz, q), 0);
	assert_int_equal(q[0], 8);
	assert_int_equal(q[1], 3);
	assert_int_equal(q[2], 5);
}

static void test_round_trip(void **state)
{
	enum { N = 4096 };
	static float x[N], y[N], fq[N];
	static int8_t q[N];
	uint64_t s = g_seed ^ 1;
	(void)state;

	for (int scheme = 0; scheme < 2; scheme++) {
		for (int i = 0; i < N; i++)
			x[i] = rng_float(&s, -3.0f, 5.0f);
		qmx_qparams qp;
		assert_int_equal(qmx_qparams_choose(x, N, scheme, &qp), 0);
		assert_int_equal(qmx_quantize(x, N, qp, q), 0);
		assert_int_equal(qmx_dequantize(q, N, qp, y), 0);
		assert_int_equal(qmx_fake_quantize(x, N, qp, fq), 0);
		for (int i = 0; i < N; i++) {
			double err = fabs((double)x[i] - (double)y[i]);
			if (err > qp.scale * 0.5 * (1 + 1e-5))
				fail_msg("scheme %d x[%d] = %g -> %d -> %g: error %g > scale/2 (%g)",
					 scheme, i, (double)x[i], q[i], (double)y[i], err,
					 qp.scale * 0.5);
			assert_true(fq[i] == y[i]);
			if (scheme == QMX_QSCHEME_SYMMETRIC)
				assert_true(q[i] >= -127);
		}
		/* Requantizing dequantized values is the identity. */
		static int8_t q2[N];
		assert_int_equal(qmx_quantize(y, N, qp, q2), 0);
		assert_memory_equal(q, q2, N);
	}
}

static void test_per_channel(void **state)
{
	enum { R = 7, C = 9, LD = 11 };
	float x[R * LD], y[R * LD];
	int8_t q[R * C];
	qmx_qparams qp[C];
	uint64_t s = g_seed ^ 2;
	(void)state;

	for (int axis = 0; axis < 2; axis++) {
		for (int i = 0; i < R; i++)
			for (int j = 0; j < LD; j++) /* channel-dependent magnitudes */
				x[i * LD + j] = rng_float(&s, -1.0f, 1.0f) *
						(float)(1 + (axis ? j : i));
		assert_int_equal(qmx_qparams_choose_per_channel(x, R, C, LD, axis,
							       QMX_QSCHEME_SYMMETRIC, qp), 0);
		int channels = axis ? C : R;
		for (int c = 0; c < channels; c++) {
			float amax = 0.0f;
			for (int k = 0; k < (axis ? R : C); k++) {
				float v = fabsf(axis ? x[k * LD + c] : x[c * LD + k]);
				amax = v > amax ? v : amax;
			}
			assert_float_equal(qp[c].scale, amax / 127.0, 1e-6 * amax);
			assert_int_equal(qp[c].zero_point, 0);
		}
		assert_int_equal(qmx_quantize_per_channel(x, R, C, LD, axis, qp, q, C), 0);
		assert_int_equal(qmx_dequantize_per_channel(q, R, C, C, axis, qp, y, LD), 0);
		for (int i = 0; i < R; i++)
			for (int j = 0; j < C; j++) {
				float sc = qp[axis ? j : i].scale;
				assert_true(fabsf(x[i * LD + j] - y[i * LD + j]) <=
					    sc * 0.5f * (1 + 1e-5f));
			}
	}
}

static void test_errors(void **state)
{
	float x[4] = { 1.0f, 2.0f, NAN, 4.0f }, y[4];
	int8_t q[4];
	qmx_qparams qp = { 0.1f, 0 }, out[4];
	(void)state;

	assert_error(qmx_quantize(x, 4, qp, q), QMX_EINVAL, "x[2] is NaN");
	assert_error(qmx_quantize(x, 4, (qmx_qparams){ 0.0f, 0 }, q), QMX_EINVAL,
		     "qp.scale (0) must be finite and > 0");
	assert_error(qmx_dequantize(q, 4, (qmx_qparams){ 1.0f, 200 }, y), QMX_EINVAL,
		     "qp.zero_point (200) outside [-128, 127]");
	assert_error(qmx_quantize(NULL, 4, qp, q), QMX_EINVAL, "x is NULL");
	assert_error(qmx_qparams_choose(x, 4, 0, out), QMX_EINVAL, "non-finite value");
	assert_error(qmx_qparams_choose(x, 0, 0, out), QMX_EINVAL, "count (0)");
	assert_error(qmx_qparams_from_minmax(2.0f, 1.0f, 0, out), QMX_EINVAL,
		     "min (2) > max (1)");
	assert_error(qmx_qparams_from_minmax(0.0f, INFINITY, 0, out), QMX_EINVAL,
		     "must be finite");
	assert_error(qmx_qparams_from_minmax(0.0f, 1.0f, 5, out), QMX_EINVAL, "scheme (5)");
	assert_error(qmx_qparams_choose_per_channel(y, 2, 2, 1, 0, 0, out), QMX_EINVAL,
		     "leading dimension of x (1) < cols (2)");
	assert_error(qmx_qparams_choose_per_channel(y, 2, 2, 2, 2, 0, out), QMX_EINVAL,
		     "axis (2)");
	qmx_qparams bad[2] = { { 1.0f, 0 }, { -1.0f, 0 } };
	float ok[4] = { 0 };
	assert_error(qmx_quantize_per_channel(ok, 2, 2, 2, 0, bad, q, 2), QMX_EINVAL,
		     "qp[1].scale (-1)");
}

/* ------------------------------------------------------------------ the plan */

struct gemm_case {
	int m, n, k, lda, ldb, ldc;
	int a_scheme, b_scheme, per_channel, out, relu, bias;
};

static void check_case(qmx_qgemm *plan, const struct gemm_case *t, uint64_t *s)
{
	float *a = calloc((size_t)t->m * t->lda, sizeof(float));
	float *b = calloc((size_t)t->k * t->ldb, sizeof(float));
	float *c = calloc((size_t)t->m * t->ldc, sizeof(float));
	float *bias = calloc((size_t)t->n, sizeof(float));
	qmx_qparams qa, qb[256];
	size_t nb;
	qmx_qgemm_args args;

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	for (int i = 0; i < t->m * t->lda; i++)
		a[i] = rng_float(s, -0.5f, 2.0f);
	for (int i = 0; i < t->k * t->ldb; i++)
		b[i] = rng_float(s, -1.0f, 1.0f) * (1.0f + (float)(i % t->ldb) / 8.0f);
	for (int j = 0; j < t->n; j++)
		bias[j] = rng_float(s, -1.0f, 1.0f);
	for (int i = 0; i < t->m * t->ldc; i++)
		c[i] = -12345.0f; /* the ldc gaps must stay untouched */

	/* The float product in double, and its range for the int8 output. */
	double *ref = calloc((size_t)t->m * t->n, sizeof(double));
	double lo = 0, hi = 0;
	for (int i = 0; i < t->m; i++)
		for (int j = 0; j < t->n; j++) {
			double v = t->bias ? bias[j] : 0.0;
			for (int p = 0; p < t->k; p++)
				v += (double)a[i * t->lda + p] * (double)b[p * t->ldb + j];
			if (t->relu && v < 0)
				v = 0;
			ref[i * t->n + j] = v;
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}

	qmx_qgemm_args_init(&args, t->m, t->n, t->k);
	args.a = a;
	args.lda = t->lda;
	args.b = b;
	args.ldb = t->ldb;
	args.c = c;
	args.ldc = t->ldc;
	args.bias = t->bias ? bias : NULL;
	args.a_scheme = t->a_scheme;
	args.b_scheme = t->b_scheme;
	args.b_per_channel = t->per_channel;
	args.out = t->out;
	args.relu = t->relu;
	if (t->out == QMX_QGEMM_OUT_INT8)
		assert_int_equal(qmx_qparams_from_minmax((float)lo, (float)hi,
							 QMX_QSCHEME_ASYMMETRIC,
							 &args.c_qparams), 0);
	int err = qmx_qgemm_submit(plan, &args);
	if (err)
		fail_msg("submit: %s", qmx_last_error());
	qmx_job_stats st;
	err = qmx_qgemm_wait(plan, INT64_C(120) * 1000000000, &st);
	if (err)
		fail_msg("wait: %s", qmx_last_error());
	assert_true(st.macs == (uint64_t)t->m * t->n * t->k);
	assert_int_equal(qmx_qgemm_last_qparams(plan, &qa, qb, 256, &nb), 0);
	assert_int_equal(nb, t->per_channel ? (size_t)t->n : 1);

	/* The operands as the device saw them = fake quantization with the
	 * reported parameters, element for element. */
	float *fa = calloc((size_t)t->m * t->k, sizeof(float));
	float *fb = calloc((size_t)t->k * t->n, sizeof(float));
	assert_int_equal(qmx_qgemm_fake_quantized(plan, fa, t->k, fb, t->n), 0);
	for (int i = 0; i < t->m; i++) {
		float row[256];
		assert_int_equal(qmx_fake_quantize(a + i * t->lda, (size_t)t->k, qa, row), 0);
		assert_memory_equal(row, fa + i * t->k, (size_t)t->k * sizeof(float));
	}
	for (int p = 0; p < t->k; p++)
		for (int j = 0; j < t->n; j++) {
			float want;
			assert_int_equal(qmx_fake_quantize(b + p * t->ldb + j, 1,
							   qb[t->per_channel ? j : 0], &want), 0);
			assert_true(fb[p * t->n + j] == want);
		}
	free(fa);
	free(fb);

	/*
	 * Bound: with a' = a + ea, |ea| <= sa/2, and b' = b + eb, |eb| <= sb/2,
	 * |a'b' - ab| <= sum_k |a| sb/2 + |b| sa/2 + sa sb/4.  The int8 path adds
	 * the bias rounding (sa sb / 2) and the output rounding (sc / 2).
	 * A small relative slack covers float arithmetic.
	 */
	for (int i = 0; i < t->m; i++) {
		for (int j = 0; j < t->n; j++) {
			double sa = qa.scale, sb = qb[t->per_channel ? j : 0].scale;
			double bound = 0.0, mag = 0.0;
			for (int p = 0; p < t->k; p++) {
				double av = fabs(a[i * t->lda + p]), bv = fabs(b[p * t->ldb + j]);
				bound += av * sb / 2 + bv * sa / 2 + sa * sb / 4;
				mag += av * bv;
			}
			if (t->out == QMX_QGEMM_OUT_INT8)
				bound += sa * sb / 2 + args.c_qparams.scale / 2;
			bound += 1e-5 * (mag + 1.0);
			double got = c[i * t->ldc + j], want = ref[i * t->n + j];
			if (!(fabs(got - want) <= bound))
				fail_msg("case %dx%dx%d pc=%d out=%d relu=%d: C[%d][%d] = %g, float %g, |diff| %g > bound %g",
					 t->m, t->n, t->k, t->per_channel, t->out, t->relu, i, j,
					 got, want, fabs(got - want), bound);
			if (t->relu)
				assert_true(got >= 0.0f);
		}
		for (int j = t->n; j < t->ldc; j++)
			assert_true(c[i * t->ldc + j] == -12345.0f);
	}
	free(ref);
	free(a);
	free(b);
	free(c);
	free(bias);
}

static void test_qgemm_bound(void **state)
{
	qmx_device *dev;
	qmx_qgemm *plan;
	uint64_t s = g_seed ^ 3;
	(void)state;

	int err = qmx_device_open(g_device, &dev);
	if (err)
		fail_msg("open %s: %s", g_device, qmx_last_error());
	assert_int_equal(qmx_qgemm_new(dev, 40, 48, 72, &plan), 0);
	const struct gemm_case cases[] = {
		{ 32, 48, 64, 64, 48, 48, 0, 1, 1, QMX_QGEMM_OUT_FLOAT, 0, 1 },
		{ 7, 5, 9, 11, 6, 8, 0, 1, 0, QMX_QGEMM_OUT_FLOAT, 1, 0 },
		{ 17, 33, 72, 72, 40, 33, 1, 0, 0, QMX_QGEMM_OUT_FLOAT, 0, 1 },
		{ 40, 48, 72, 72, 48, 50, 0, 1, 1, QMX_QGEMM_OUT_INT8, 0, 1 },
		{ 9, 10, 30, 31, 10, 10, 0, 1, 0, QMX_QGEMM_OUT_INT8, 1, 1 },
		{ 1, 1, 1, 1, 1, 1, 0, 0, 0, QMX_QGEMM_OUT_FLOAT, 0, 0 },
	};
	qmx_device_info info;
	assert_int_equal(qmx_device_query(dev, &info), 0);
	bool int8_out = info.features & QMX_FEATURE_INT8_OUT;
	bool per_channel = info.features & QMX_FEATURE_PER_CHANNEL;
	/* Each case twice: the plan's buffers are reused across calls.  Int8
	 * output runs where the device has it (else it must be refused). */
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct gemm_case *t = &cases[i];
			if (t->out == QMX_QGEMM_OUT_INT8 &&
			    (!int8_out || (t->per_channel && !per_channel))) {
				if (round == 0)
					printf("%s: no %s, int8-output case %zu skipped\n",
					       g_device, !int8_out ? "int8 output" : "per-channel requantization", i);
				continue;
			}
			check_case(plan, t, &s);
		}
	}
	if (!int8_out) {
		float x[4] = { 1, 2, 3, 4 }, y[4];
		qmx_qgemm_args a;
		qmx_qgemm_args_init(&a, 2, 2, 2);
		a.a = x;
		a.b = x;
		a.c = y;
		a.out = QMX_QGEMM_OUT_INT8;
		a.c_qparams.scale = 0.1f;
		assert_error(qmx_qgemm_submit(plan, &a), QMX_ENOTSUP, "has no int8 output");
	}
	qmx_qgemm_del(plan);
	qmx_device_del(dev);
}

static void test_qgemm_errors(void **state)
{
	qmx_device *dev;
	qmx_qgemm *plan;
	float a[64] = { 1.0f }, b[64] = { 1.0f }, c[64];
	qmx_qgemm_args args;
	(void)state;

	assert_int_equal(qmx_device_open(g_device, &dev), 0);
	assert_error(qmx_qgemm_new(dev, 0, 4, 4, &plan), QMX_EINVAL, "max_m (0) outside");
	assert_error(qmx_qgemm_new(NULL, 4, 4, 4, &plan), QMX_EINVAL, "dev is NULL");
	assert_int_equal(qmx_qgemm_new(dev, 8, 8, 8, &plan), 0);

	qmx_qgemm_args_init(&args, 9, 4, 4);
	args.a = a;
	args.b = b;
	args.c = c;
	assert_error(qmx_qgemm_submit(plan, &args), QMX_EINVAL, "m (9) > plan max_m (8)");
	qmx_qgemm_args_init(&args, 4, 4, 4);
	args.a = a;
	args.b = b;
	args.c = c;
	args.lda = 3;
	assert_error(qmx_qgemm_submit(plan, &args), QMX_EINVAL,
		     "leading dimension of a (3) < cols (4)");
	args.lda = 4;
	args.b = NULL;
	assert_error(qmx_qgemm_submit(plan, &args), QMX_EINVAL, "b is NULL");
	args.b = b;
	args.b_per_channel = 1;
	args.b_scheme = QMX_QSCHEME_ASYMMETRIC;
	assert_error(qmx_qgemm_submit(plan, &args), QMX_EINVAL,
		     "b_per_channel needs b_scheme QMX_QSCHEME_SYMMETRIC");
	args.b_per_channel = 0;
	args.out = QMX_QGEMM_OUT_INT8;
	assert_error(qmx_qgemm_submit(plan, &args), QMX_EINVAL, "c_qparams.scale (0)");
	args.out = 3;
	assert_error(qmx_qgemm_submit(plan, &args), QMX_EINVAL, "out (3)");
	args.out = QMX_QGEMM_OUT_FLOAT;
	a[5] = NAN;
	assert_error(qmx_qgemm_submit(plan, &args), QMX_EINVAL, "(operand a)");
	a[5] = 0.0f;

	assert_error(qmx_qgemm_fake_quantized(plan, c, 4, NULL, 0), QMX_EINVAL,
		     "nothing submitted yet");
	/* One job in flight per plan. */
	assert_error(qmx_qgemm_wait(plan, 0, NULL), QMX_EINVAL, "no job in flight");
	assert_int_equal(qmx_qgemm_submit(plan, &args), 0);
	assert_error(qmx_qgemm_submit(plan, &args), QMX_EBUSY, "job in flight");
	assert_int_equal(qmx_qgemm_wait(plan, INT64_C(60) * 1000000000, NULL), 0);
	assert_float_equal(c[0], 1.0, 0.02); /* a[0] * b[0] */
	assert_error(qmx_qgemm_fake_quantized(plan, c, 3, NULL, 0), QMX_EINVAL,
		     "leading dimension of fq_a (3) < cols (4)");
	assert_float_equal(c[1], 0.0, 0.0);
	/* A zero timeout either finds the job done or leaves it in flight. */
	assert_int_equal(qmx_qgemm_submit(plan, &args), 0);
	int err = qmx_qgemm_wait(plan, 0, NULL);
	assert_true(err == 0 || err == QMX_ETIMEDOUT);
	if (err == QMX_ETIMEDOUT)
		assert_int_equal(qmx_qgemm_wait(plan, INT64_C(60) * 1000000000, NULL), 0);
	assert_float_equal(c[0], 1.0, 0.02);
	/* Submit then delete: qmx_qgemm_del waits for the job. */
	assert_int_equal(qmx_qgemm_submit(plan, &args), 0);
	qmx_qgemm_del(plan);
	qmx_device_del(dev);
}

int main(int argc, char **argv)
{
	const char *env = getenv("QMX_TEST_SEED");

	if (argc > 1)
		g_device = argv[1];
	if (env && *env)
		g_seed = strtoull(env, NULL, 0);
	printf("test_train: device %s, seed %llu (set QMX_TEST_SEED to change)\n", g_device,
	       (unsigned long long)g_seed);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qparams_known),
		cmocka_unit_test(test_rounding_half_even),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_per_channel),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_qgemm_bound),
		cmocka_unit_test(test_qgemm_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
