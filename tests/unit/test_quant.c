/* SPDX-License-Identifier: MIT */
/* test_quant.c - the quantization arithmetic against DESIGN.md's vectors. */
#include <math.h>

#include "test_common.h"

static void test_srdhm(void **state)
{
	(void)state;
	assert_int_equal(qmx_srdhm(1 << 30, 1 << 30), 536870912);
	assert_int_equal(qmx_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
	assert_int_equal(qmx_srdhm(INT32_MIN, INT32_MAX), -INT32_MAX);
	/* gemmlowp's nudge: positive halves round up, negative halves toward
	 * zero (the 1 - 2^30 nudge and a truncating division). */
	assert_int_equal(qmx_srdhm(3, 1 << 30), 2);   /* 1.5 -> 2 */
	assert_int_equal(qmx_srdhm(-3, 1 << 30), -1); /* -1.5 -> -1 */
	assert_int_equal(qmx_srdhm(1, 1 << 30), 1);   /* 0.5 -> 1 */
	assert_int_equal(qmx_srdhm(-1, 1 << 30), 0);  /* -0.5 -> 0 */
	assert_int_equal(qmx_srdhm(-5, 1 << 30), -2); /* -2.5 -> -2 */
	assert_int_equal(qmx_srdhm(-7, 1 << 29), -2); /* -1.75 -> -2 */
	assert_int_equal(qmx_srdhm(0, INT32_MAX), 0);
}

static void test_rdbpot(void **state)
{
	(void)state;
	assert_int_equal(qmx_rdbpot(5, 1), 3);
	assert_int_equal(qmx_rdbpot(-5, 1), -3);
	assert_int_equal(qmx_rdbpot(-6, 2), -2);
	assert_int_equal(qmx_rdbpot(6, 2), 2);   /* 1.5 -> 2 */
	assert_int_equal(qmx_rdbpot(-7, 2), -2); /* -1.75 -> -2 */
	assert_int_equal(qmx_rdbpot(12345, 0), 12345);
	assert_int_equal(qmx_rdbpot(INT32_MIN, 31), -1);
	assert_int_equal(qmx_rdbpot(INT32_MAX, 31), 1);
}

static void test_quantize_multiplier_vectors(void **state)
{
	(void)state;
	int32_t m, s;
	assert_int_equal(qmx_quantize_multiplier(0.0003, &m, &s), 0);
	assert_int_equal(m, 1319413953);
	assert_int_equal(s, -11);
	assert_int_equal(qmx_multiply_by_quantized_multiplier(12345, m, s), 4);
	assert_int_equal(qmx_quantize_multiplier(0.75, &m, &s), 0);
	assert_int_equal(m, 1610612736);
	assert_int_equal(s, 0);
	assert_int_equal(qmx_quantize_multiplier(0.0, &m, &s), 0);
	assert_int_equal(m, 0);
	assert_int_equal(s, 0);
	/* 1.0 is 2^30 * 2^(1 - 31)... as (2^30, 1). */
	assert_int_equal(qmx_quantize_multiplier(1.0, &m, &s), 0);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(s, 1);
	/* Rounding up to 2^31 renormalises. */
	assert_int_equal(qmx_quantize_multiplier(0.99999999999, &m, &s), 0);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(s, 1);
	/* Below 2^-32 flushes to zero as TFLite does. */
	assert_int_equal(qmx_quantize_multiplier(1e-12, &m, &s), 0);
	assert_int_equal(m, 0);
	assert_int_equal(s, 0);
}

static void test_quantize_multiplier_round_trip(void **state)
{
	(void)state;
	for (double real = 1e-6; real < 1000.0; real *= 1.37) {
		int32_t m, s;
		assert_int_equal(qmx_quantize_multiplier(real, &m, &s), 0);
		assert_true(m >= (1 << 30));
		double back = (double)m * ldexp(1.0, s - 31);
		assert_true(fabs(back - real) <= real * ldexp(1.0, -30));
	}
}

static void test_quantize_multiplier_bad(void **state)
{
	(void)state;
	int32_t m, s;
	assert_qmx_error(qmx_quantize_multiplier(-0.5, &m, &s), QMX_EINVAL, "real (-0.5) must be finite and >= 0");
	assert_qmx_error(qmx_quantize_multiplier(NAN, &m, &s), QMX_EINVAL, "must be finite");
	assert_qmx_error(qmx_quantize_multiplier(INFINITY, &m, &s), QMX_EINVAL, "must be finite");
	assert_qmx_error(qmx_quantize_multiplier(0.5, NULL, &s), QMX_EINVAL, "multiplier is NULL");
	assert_qmx_error(qmx_quantize_multiplier(0.5, &m, NULL), QMX_EINVAL, "shift is NULL");
	assert_qmx_error(qmx_quantize_multiplier(ldexp(1.0, 40), &m, &s), QMX_EOVERFLOW, "shift 41 > 30");
}

static void test_mbqm_saturating_left_shift(void **state)
{
	(void)state;
	/* x * 2^shift saturates before the high multiply (gemmlowp ShiftLeft). */
	assert_int_equal(qmx_multiply_by_quantized_multiplier(INT32_MAX / 2, INT32_MAX, 2), INT32_MAX - 1);
	assert_int_equal(qmx_multiply_by_quantized_multiplier(INT32_MIN / 2, INT32_MAX, 2), -INT32_MAX);
	assert_int_equal(qmx_multiply_by_quantized_multiplier(100, 1 << 30, 1), 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srdhm),
		cmocka_unit_test(test_rdbpot),
		cmocka_unit_test(test_quantize_multiplier_vectors),
		cmocka_unit_test(test_quantize_multiplier_round_trip),
		cmocka_unit_test(test_quantize_multiplier_bad),
		cmocka_unit_test(test_mbqm_saturating_left_shift),
	};
	return cmocka_run_group_tests_name("quant", tests, NULL, NULL);
}
