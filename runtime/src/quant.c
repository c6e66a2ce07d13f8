/* SPDX-License-Identifier: MIT */
/* quant.c - public quantization math (TFLite/gemmlowp semantics). */
#include <math.h>

#include "qmx/qmx.h"
#include "qmx_backend.h"
#include "qmx_quant.h"

QMX_API int32_t qmx_srdhm(int32_t a, int32_t b)
{
	return qmx_q_srdhm(a, b);
}

QMX_API int32_t qmx_rdbpot(int32_t x, int exponent)
{
	if (exponent < 0)
		exponent = 0;
	if (exponent > 31)
		exponent = 31;
	return qmx_q_rdbpot(x, exponent);
}

QMX_API int32_t qmx_multiply_by_quantized_multiplier(int32_t x, int32_t mult,
						     int32_t shift)
{
	if (shift > 30)
		shift = 30;
	if (shift < -31)
		shift = -31;
	return qmx_q_mbqm(x, mult, shift);
}

/* TFLite QuantizeMultiplier: frexp, round the 31-bit fraction, renormalise
 * when rounding reaches 2^31, flush tiny multipliers to zero. */
QMX_API int qmx_quantize_multiplier(double real, int32_t *multiplier,
				    int32_t *shift)
{
	if (!multiplier || !shift)
		return qmx_fail(QMX_EINVAL, "qmx_quantize_multiplier: %s is NULL",
				!multiplier ? "multiplier" : "shift");
	if (!isfinite(real) || real < 0.0)
		return qmx_fail(QMX_EINVAL,
				"qmx_quantize_multiplier: real (%g) must be finite and >= 0",
				real);
	if (real == 0.0) {
		*multiplier = 0;
		*shift = 0;
		qmx_clear_error();
		return 0;
	}
	int exp;
	double q = frexp(real, &exp);
	int64_t q_fixed = llround(q * (double)(INT64_C(1) << 31));
	if (q_fixed == (INT64_C(1) << 31)) {
		q_fixed /= 2;
		++exp;
	}
	if (exp < -31) {
		exp = 0;
		q_fixed = 0;
	}
	if (exp > 30)
		return qmx_fail(QMX_EOVERFLOW,
				"qmx_quantize_multiplier: real (%g) needs shift %d > 30",
				real, exp);
	*multiplier = (int32_t)q_fixed;
	*shift = exp;
	qmx_clear_error();
	return 0;
}
