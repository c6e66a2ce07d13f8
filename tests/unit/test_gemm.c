/* SPDX-License-Identifier: MIT */
/* test_gemm.c - GEMM parameter validation and the reference's semantics. */
#include "test_common.h"

static qmx_gemm_params good(void)
{
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, 4, 6, 16);
	return p;
}

static void test_defaults(void **state)
{
	(void)state;
	qmx_gemm_params p = good();
	assert_int_equal(p.lda, 16);
	assert_int_equal(p.ldb, 6);
	assert_int_equal(p.ldc, 6);
	assert_int_equal(p.out_type, QMX_OUT_INT32);
	assert_int_equal(qmx_multiply_by_quantized_multiplier(1234, p.multiplier, p.shift), 1234);
	assert_int_equal(qmx_gemm_params_check(&p), 0);
}

static void test_bad_params(void **state)
{
	(void)state;
	qmx_gemm_params p;

	assert_qmx_error(qmx_gemm_params_check(NULL), QMX_EINVAL, "params is NULL");
	p = good(), p.m = 0;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "m (0) must be > 0");
	p = good(), p.n = -3;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "n (-3) must be > 0");
	p = good(), p.k = INT64_C(1) << 31;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EOVERFLOW, "k (2147483648) > limit (2147483647)");
	p = good(), p.lda = 12;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "lda (12) < k (16)");
	p = good(), p.ldb = 5;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "ldb (5) < n (6)");
	p = good(), p.ldc = 1;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "ldc (1) < n (6)");
	p = good(), p.ldc = INT64_MAX;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EOVERFLOW, "ldc (9223372036854775807) > limit");
	/* Extents in checked unsigned 64-bit arithmetic (issue 15, item 5): C
	 * spans ((2^31 - 2) * (2^31 - 1) + 1) * 4 bytes, past PTRDIFF_MAX, and
	 * the signed product this used to be overflowed. */
	p = good(), p.m = p.ldc = INT32_MAX, p.n = p.k = p.lda = p.ldb = 1;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EOVERFLOW,
			 "c extent (18446744047939747852 bytes) > limit (9223372036854775807)");
	p.out_type = QMX_OUT_INT8; /* a quarter of it fits */
	assert_int_equal(qmx_gemm_params_check(&p), 0);
	p = good(), p.lda = -1;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "lda (-1) < k (16)");
	p = good(), p.a_zero_point = 128;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "a_zero_point (128) outside [-128, 127]");
	p = good(), p.b_zero_point = -129;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "b_zero_point (-129) outside [-128, 127]");
	p = good(), p.out_type = 7;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "out_type (7)");
	p = good(), p.has_bias = 2;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "has_bias (2) must be 0 or 1");

	p = good(), p.out_type = QMX_OUT_INT8, p.quant_mode = 5;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "quant_mode (5)");
	p = good(), p.out_type = QMX_OUT_INT8, p.c_zero_point = 300;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "c_zero_point (300) outside [-128, 127]");
	p = good(), p.out_type = QMX_OUT_INT8, p.qmin = 10, p.qmax = 9;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "qmin (10) > qmax (9)");
	p = good(), p.out_type = QMX_OUT_INT8, p.qmax = 128;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "qmax (128) outside [-128, 127]");
	p = good(), p.out_type = QMX_OUT_INT8, p.multiplier = -1;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "multiplier (-1) outside [0, 2147483647]");
	p = good(), p.out_type = QMX_OUT_INT8, p.shift = 31;
	assert_qmx_error(qmx_gemm_params_check(&p), QMX_EINVAL, "shift (31) outside [-31, 30]");
	/* Per-tensor fields are ignored per-channel and for int32 output. */
	p = good(), p.out_type = QMX_OUT_INT8, p.quant_mode = QMX_QUANT_PER_CHANNEL, p.shift = 99;
	assert_int_equal(qmx_gemm_params_check(&p), 0);
	p = good(), p.shift = 99, p.qmin = 5, p.qmax = 1;
	assert_int_equal(qmx_gemm_params_check(&p), 0);
}

static void test_reference_bad_operands(void **state)
{
	(void)state;
	int8_t a[64] = { 0 }, b[96] = { 0 };
	int32_t c[24], mult[6] = { 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30 };
	int32_t shift[6] = { 0 };
	qmx_gemm_params p = good();
	qmx_gemm_host_operands ops = { .a = a, .b = b, .c = c };

	assert_qmx_error(qmx_gemm_reference(&p, NULL), QMX_EINVAL, "ops is NULL");
	ops.a = NULL;
	assert_qmx_error(qmx_gemm_reference(&p, &ops), QMX_EINVAL, "a is NULL");
	ops.a = a, ops.c = NULL;
	assert_qmx_error(qmx_gemm_reference(&p, &ops), QMX_EINVAL, "c is NULL");
	ops.c = c, p.has_bias = 1;
	assert_qmx_error(qmx_gemm_reference(&p, &ops), QMX_EINVAL, "bias (has_bias = 1) is NULL");
	p.has_bias = 0, p.out_type = QMX_OUT_INT8, p.quant_mode = QMX_QUANT_PER_CHANNEL;
	assert_qmx_error(qmx_gemm_reference(&p, &ops), QMX_EINVAL, "multipliers (per-channel) is NULL");
	ops.multipliers = mult;
	assert_qmx_error(qmx_gemm_reference(&p, &ops), QMX_EINVAL, "shifts (per-channel) is NULL");
	ops.shifts = shift, shift[4] = -32;
	assert_qmx_error(qmx_gemm_reference(&p, &ops), QMX_EINVAL, "shifts[4] (-32) outside [-31, 30]");
	shift[4] = 0, mult[2] = -7;
	assert_qmx_error(qmx_gemm_reference(&p, &ops), QMX_EINVAL, "multipliers[2] (-7) outside");
	mult[2] = 1 << 30;
	assert_int_equal(qmx_gemm_reference(&p, &ops), 0);

	/* int32 operands must be 4-byte aligned (docs/semantics.md). */
	int32_t spare[8] = { 0 };
	ops.shifts = (const int32_t *)((const char *)spare + 2);
	assert_qmx_error(qmx_gemm_reference(&p, &ops), QMX_EINVAL,
			 "shifts (per-channel)");
	assert_non_null(strstr(qmx_last_error(), "is not a multiple of 4 (int32 alignment)"));
	ops.shifts = shift;
	p.out_type = QMX_OUT_INT32, p.has_bias = 1;
	ops.bias = (const int32_t *)((const char *)spare + 1);
	assert_qmx_error(qmx_gemm_reference(&p, &ops), QMX_EINVAL,
			 "is not a multiple of 4 (int32 alignment)");
	ops.bias = spare, ops.c = (char *)c + 3;
	assert_qmx_error(qmx_gemm_reference(&p, &ops), QMX_EINVAL,
			 "c (0x");
}

/* A 2x2x3 product worked by hand, with zero points, bias and both outputs. */
static void test_reference_by_hand(void **state)
{
	(void)state;
	const int8_t a[6] = { 1, -2, 3,  /* row 0 */
			      -128, 127, 0 };
	const int8_t b[6] = { 4, -5, /* k = 0 */
			      6, 7,
			      -8, 9 };
	const int32_t bias[2] = { 1000, -1000 };
	int32_t c32[4];
	int8_t c8[4];
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, 2, 2, 3);
	p.a_zero_point = 1;
	p.b_zero_point = -1;
	p.has_bias = 1;
	/* (a - 1) = [0 -3 2; -129 126 -1], (b + 1) = [5 -4; 7 8; -7 10]
	 * acc[0][0] = 0 - 21 - 14 = -35;     acc[0][1] = 0 - 24 + 20 = -4
	 * acc[1][0] = -645 + 882 + 7 = 244;  acc[1][1] = 516 + 1008 - 10 = 1514 */
	qmx_gemm_host_operands ops = { .a = a, .b = b, .bias = bias, .c = c32 };
	assert_int_equal(qmx_gemm_reference(&p, &ops), 0);
	assert_int_equal(c32[0], 965);
	assert_int_equal(c32[1], -1004);
	assert_int_equal(c32[2], 1244);
	assert_int_equal(c32[3], 514);

	/* int8: scale 0.1 (0.1 = 1717986918 * 2^-34), zero point 3, clamp [-10, 100]. */
	p.out_type = QMX_OUT_INT8;
	assert_int_equal(qmx_quantize_multiplier(0.1, &p.multiplier, &p.shift), 0);
	assert_int_equal(p.multiplier, 1717986918);
	assert_int_equal(p.shift, -3);
	p.c_zero_point = 3;
	p.qmin = -10;
	p.qmax = 100;
	ops.c = c8;
	assert_int_equal(qmx_gemm_reference(&p, &ops), 0);
	assert_int_equal(c8[0], 100); /* 96.5 -> 97 (round half away) + 3 = 100 */
	assert_int_equal(c8[1], -10); /* -100.4 -> -100 + 3, clamped */
	assert_int_equal(c8[2], 100); /* 124.4 + 3, clamped */
	assert_int_equal(c8[3], 54);  /* 51.4 -> 51 + 3 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_reference_bad_operands),
		cmocka_unit_test(test_reference_by_hand),
	};
	return cmocka_run_group_tests_name("gemm", tests, NULL, NULL);
}
