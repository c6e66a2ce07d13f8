/* SPDX-License-Identifier: MIT */
/*
 * qmx_quant.h - the requantization arithmetic of the GEMM contract, inline so
 * the reference, the fast CPU kernels and the tests share one definition.
 *
 * gemmlowp's output pipeline: bias addition (int32, wraps modulo 2^32),
 * OutputStageScaleInt32ByFixedPointAndExponentPC (saturating left shift,
 * SaturatingRoundingDoublingHighMul, RoundingDivideByPOT), then the zero point,
 * the clamp and the saturating cast to int8.
 */
#ifndef QMX_QUANT_H
#define QMX_QUANT_H

#include <stdint.h>

static inline int32_t qmx_q_wrap_add(int32_t a, int32_t b)
{
	return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t qmx_q_srdhm(int32_t a, int32_t b)
{
	if (a == INT32_MIN && b == INT32_MIN)
		return INT32_MAX;
	int64_t ab = (int64_t)a * (int64_t)b;
	int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : (1 - (INT64_C(1) << 30));
	/* C division truncates toward zero, as gemmlowp's does. */
	return (int32_t)((ab + nudge) / (INT64_C(1) << 31));
}

static inline int32_t qmx_q_rdbpot(int32_t x, int exponent)
{
	int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1);
	int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
	int32_t r = x >> exponent; /* arithmetic shift (gcc/clang) */
	return r + (((x & mask) > threshold) ? 1 : 0);
}

/* x * 2^left with int32 saturation (gemmlowp's scalar ShiftLeft). */
static inline int32_t qmx_q_sat_shl(int32_t x, int left)
{
	int64_t w = (int64_t)x * (INT64_C(1) << left);
	if (w > INT32_MAX)
		return INT32_MAX;
	if (w < INT32_MIN)
		return INT32_MIN;
	return (int32_t)w;
}

static inline int32_t qmx_q_mbqm(int32_t x, int32_t mult, int32_t shift)
{
	int left = shift > 0 ? shift : 0;
	int right = shift > 0 ? 0 : -shift;
	return qmx_q_rdbpot(qmx_q_srdhm(qmx_q_sat_shl(x, left), mult), right);
}

/* One int8 output element from its accumulator (acc already includes bias). */
static inline int8_t qmx_q_requant(int32_t acc, int32_t mult, int32_t shift,
				   int32_t zc, int32_t qmin, int32_t qmax)
{
	int64_t v = (int64_t)qmx_q_mbqm(acc, mult, shift) + zc;
	if (v < qmin)
		v = qmin;
	if (v > qmax)
		v = qmax;
	return (int8_t)v;
}

#endif /* QMX_QUANT_H */
