/* SPDX-License-Identifier: MIT */
/*
 * gemm.c - GEMM parameters: defaults, validation, operand extents, and the
 * golden reference every backend is checked against.
 */
#include <stddef.h>
#include <string.h>

#include "qmx/qmx.h"
#include "qmx_backend.h"
#include "qmx_extent.h"
#include "qmx_quant.h"

/* Largest M, N, K or leading dimension any backend accepts: the register map
 * holds them in 32 bits. */
#define QMX_DIM_LIMIT INT64_C(0x7FFFFFFF)

QMX_API void qmx_gemm_params_init(qmx_gemm_params *p, int64_t m, int64_t n,
				  int64_t k)
{
	if (!p)
		return;
	memset(p, 0, sizeof(*p));
	p->m = m;
	p->n = n;
	p->k = k;
	p->lda = k;
	p->ldb = n;
	p->ldc = n;
	p->out_type = QMX_OUT_INT32;
	p->quant_mode = QMX_QUANT_PER_TENSOR;
	p->multiplier = INT32_C(1) << 30; /* 0.5 ... */
	p->shift = 1;                     /* ... x 2 = 1.0 */
	p->qmin = -128;
	p->qmax = 127;
}

static int check_range(const char *field, int64_t v, int64_t lo, int64_t hi)
{
	if (v < lo || v > hi)
		return qmx_fail(QMX_EINVAL, "%s (%lld) outside [%lld, %lld]", field,
				(long long)v, (long long)lo, (long long)hi);
	return 0;
}

/* Extents must stay addressable: pointer differences on the host are
 * ptrdiff_t, so no operand may span more than PTRDIFF_MAX bytes. */
#define QMX_EXTENT_MAX_BYTES ((uint64_t)PTRDIFF_MAX)

static void extent_shape(const qmx_gemm_params *p, struct qmx_extent_gemm *g)
{
	g->m = (uint64_t)p->m, g->n = (uint64_t)p->n, g->k = (uint64_t)p->k;
	g->lda = (uint64_t)p->lda, g->ldb = (uint64_t)p->ldb, g->ldc = (uint64_t)p->ldc;
	g->out_int8 = p->out_type == QMX_OUT_INT8;
	g->has_bias = p->has_bias != 0;
	g->per_channel = g->out_int8 && p->quant_mode == QMX_QUANT_PER_CHANNEL;
}

int qmx_extent_error_fail(const char *who, const struct qmx_extent_error *e,
			  const char *max_dim_name, int too_large)
{
	const char *sep = who[0] ? ": " : "";

	switch (e->status) {
	case QMX_EXTENT_OK:
		break;
	case QMX_EXTENT_ZERO:
		return qmx_fail(QMX_EINVAL, "%s%s%s (0) must be > 0", who, sep, e->field);
	case QMX_EXTENT_TOO_LARGE:
		return qmx_fail(too_large, "%s%s%s (%llu) > %s (%llu)", who, sep, e->field,
				(unsigned long long)e->value, max_dim_name,
				(unsigned long long)e->limit);
	case QMX_EXTENT_LD_SHORT:
		return qmx_fail(QMX_EINVAL, "%s%s%s (%llu) < %s (%llu)", who, sep, e->field,
				(unsigned long long)e->value, e->limit_name,
				(unsigned long long)e->limit);
	case QMX_EXTENT_TOO_FAR:
		if (!e->value)
			return qmx_fail(QMX_EOVERFLOW, "%s%s%s extent overflows 64 bits",
					who, sep, e->field);
		return qmx_fail(QMX_EOVERFLOW, "%s%s%s extent (%llu bytes) > limit (%llu)",
				who, sep, e->field, (unsigned long long)e->value,
				(unsigned long long)e->limit);
	case QMX_EXTENT_MISALIGNED:
		return qmx_fail(QMX_EINVAL,
				"%s%s%s (%llu) is not a multiple of %llu (int32 alignment)",
				who, sep, e->field, (unsigned long long)e->value,
				(unsigned long long)e->limit);
	}
	return 0;
}

int qmx_gemm_shape_check(const char *who, const qmx_gemm_params *p, uint64_t max_dim,
			 const char *max_dim_name, int too_large,
			 struct qmx_extent_bytes *x)
{
	struct qmx_extent_gemm g;
	struct qmx_extent_error e;
	const char *sep = who[0] ? ": " : "";

	/* Signed fields first: the shared check sees them as unsigned. */
	const struct {
		const char *name, *ref_name;
		int64_t v, ref;
	} f[] = { { "m", NULL, p->m, 0 },	   { "n", NULL, p->n, 0 },
		  { "k", NULL, p->k, 0 },	   { "lda", "k", p->lda, p->k },
		  { "ldb", "n", p->ldb, p->n }, { "ldc", "n", p->ldc, p->n } };
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!f[i].ref_name && f[i].v <= 0)
			return qmx_fail(QMX_EINVAL, "%s%s%s (%lld) must be > 0", who, sep,
					f[i].name, (long long)f[i].v);
		if (f[i].ref_name && f[i].v < 0)
			return qmx_fail(QMX_EINVAL, "%s%s%s (%lld) < %s (%lld)", who, sep,
					f[i].name, (long long)f[i].v, f[i].ref_name,
					(long long)f[i].ref);
	}
	extent_shape(p, &g);
	if (qmx_extent_gemm_check(&g, max_dim, QMX_EXTENT_MAX_BYTES, x, &e))
		return qmx_extent_error_fail(who, &e, max_dim_name, too_large);
	return 0;
}

QMX_API int qmx_gemm_params_check(const qmx_gemm_params *p)
{
	struct qmx_extent_bytes x;
	int err;

	if (!p)
		return qmx_fail(QMX_EINVAL, "params is NULL");
	if ((err = qmx_gemm_shape_check("", p, QMX_DIM_LIMIT, "limit", QMX_EOVERFLOW, &x)))
		return err;

	if ((err = check_range("a_zero_point", p->a_zero_point, -128, 127)) ||
	    (err = check_range("b_zero_point", p->b_zero_point, -128, 127)))
		return err;
	if (p->out_type != QMX_OUT_INT32 && p->out_type != QMX_OUT_INT8)
		return qmx_fail(QMX_EINVAL, "out_type (%d) is not QMX_OUT_INT32 (0) or QMX_OUT_INT8 (1)",
				p->out_type);
	if (p->has_bias != 0 && p->has_bias != 1)
		return qmx_fail(QMX_EINVAL, "has_bias (%d) must be 0 or 1", p->has_bias);
	if (p->out_type == QMX_OUT_INT8) {
		if (p->quant_mode != QMX_QUANT_PER_TENSOR &&
		    p->quant_mode != QMX_QUANT_PER_CHANNEL)
			return qmx_fail(QMX_EINVAL,
					"quant_mode (%d) is not QMX_QUANT_PER_TENSOR (0) or QMX_QUANT_PER_CHANNEL (1)",
					p->quant_mode);
		if ((err = check_range("c_zero_point", p->c_zero_point, -128, 127)) ||
		    (err = check_range("qmin", p->qmin, -128, 127)) ||
		    (err = check_range("qmax", p->qmax, -128, 127)))
			return err;
		if (p->qmin > p->qmax)
			return qmx_fail(QMX_EINVAL, "qmin (%d) > qmax (%d)", p->qmin,
					p->qmax);
		if (p->quant_mode == QMX_QUANT_PER_TENSOR &&
		    ((err = check_range("multiplier", p->multiplier, 0, INT32_MAX)) ||
		     (err = check_range("shift", p->shift, -31, 30))))
			return err;
	}
	return 0;
}

void qmx_gemm_extents(const qmx_gemm_params *p, struct qmx_gemm_extents *e)
{
	struct qmx_extent_gemm g;
	struct qmx_extent_bytes x;
	struct qmx_extent_error err;

	extent_shape(p, &g);
	/* Valid after qmx_gemm_params_check(): this cannot fail. */
	(void)qmx_extent_gemm_check(&g, QMX_DIM_LIMIT, QMX_EXTENT_MAX_BYTES, &x, &err);
	e->a = x.bytes[QMX_OPERAND_A];
	e->b = x.bytes[QMX_OPERAND_B];
	e->c = x.bytes[QMX_OPERAND_C];
	e->bias = x.bytes[QMX_OPERAND_BIAS];
	e->multipliers = x.bytes[QMX_OPERAND_MULTIPLIERS];
	e->shifts = x.bytes[QMX_OPERAND_SHIFTS];
}

int qmx_gemm_host_operands_check(const char *who, const qmx_gemm_params *p,
				 const qmx_gemm_host_operands *ops)
{
	struct qmx_gemm_extents e;

	if (!ops)
		return qmx_fail(QMX_EINVAL, "%s: ops is NULL", who);
	qmx_gemm_extents(p, &e);
	const struct {
		const char *name;
		const void *ptr;
		uint64_t need;
		uintptr_t align;
	} req[] = {
		{ "a", ops->a, e.a, 1 },
		{ "b", ops->b, e.b, 1 },
		{ "c", ops->c, e.c, p->out_type == QMX_OUT_INT8 ? 1 : 4 },
		{ "bias (has_bias = 1)", ops->bias, e.bias, 4 },
		{ "multipliers (per-channel)", ops->multipliers, e.multipliers, 4 },
		{ "shifts (per-channel)", ops->shifts, e.shifts, 4 },
	};
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		if (req[i].need && !req[i].ptr)
			return qmx_fail(QMX_EINVAL, "%s: %s is NULL", who, req[i].name);
		/* int32 data is read and written as int32 (docs/semantics.md). */
		if (req[i].need && (uintptr_t)req[i].ptr % req[i].align)
			return qmx_fail(QMX_EINVAL,
					"%s: %s (%p) is not a multiple of %u (int32 alignment)",
					who, req[i].name, req[i].ptr, (unsigned)req[i].align);
	}
	if (e.multipliers) {
		for (int64_t j = 0; j < p->n; j++) {
			if (ops->multipliers[j] < 0)
				return qmx_fail(QMX_EINVAL,
						"%s: multipliers[%lld] (%d) outside [0, 2147483647]",
						who, (long long)j, ops->multipliers[j]);
			if (ops->shifts[j] < -31 || ops->shifts[j] > 30)
				return qmx_fail(QMX_EINVAL,
						"%s: shifts[%lld] (%d) outside [-31, 30]", who,
						(long long)j, ops->shifts[j]);
		}
	}
	return 0;
}

void qmx_desc_host_operands(const qmx_gemm_desc *d, qmx_gemm_host_operands *ops)
{
	const qmx_gemm_params *p = &d->params;
	bool per_channel = p->out_type == QMX_OUT_INT8 &&
			   p->quant_mode == QMX_QUANT_PER_CHANNEL;

	memset(ops, 0, sizeof(*ops));
	ops->a = qmx_ref_host(&d->a);
	ops->b = qmx_ref_host(&d->b);
	ops->c = qmx_ref_host(&d->c);
	if (p->has_bias)
		ops->bias = qmx_ref_host(&d->bias);
	if (per_channel) {
		ops->multipliers = qmx_ref_host(&d->multipliers);
		ops->shifts = qmx_ref_host(&d->shifts);
	}
}

/*
 * The definition.  Accumulation is in int32 and wraps modulo 2^32 (computed
 * in uint32 so it is defined C): with |A - za|, |B - zb| <= 255 no sum of up
 * to 32768 products can wrap; beyond that every backend wraps identically.
 */
QMX_API int qmx_gemm_reference(const qmx_gemm_params *p,
			       const qmx_gemm_host_operands *ops)
{
	int err = qmx_gemm_params_check(p);
	if (err)
		return err;
	if ((err = qmx_gemm_host_operands_check("qmx_gemm_reference", p, ops)))
		return err;

	const bool int8_out = p->out_type == QMX_OUT_INT8;
	const bool per_channel = int8_out && p->quant_mode == QMX_QUANT_PER_CHANNEL;
	for (int64_t i = 0; i < p->m; i++) {
		for (int64_t j = 0; j < p->n; j++) {
			uint32_t acc = 0;
			for (int64_t kk = 0; kk < p->k; kk++) {
				int32_t a = ops->a[i * p->lda + kk] - p->a_zero_point;
				int32_t b = ops->b[kk * p->ldb + j] - p->b_zero_point;
				acc += (uint32_t)(a * b);
			}
			int32_t v = (int32_t)acc;
			if (p->has_bias)
				v = qmx_q_wrap_add(v, ops->bias[j]);
			if (!int8_out) {
				((int32_t *)ops->c)[i * p->ldc + j] = v;
				continue;
			}
			int32_t mult = per_channel ? ops->multipliers[j] : p->multiplier;
			int32_t shift = per_channel ? ops->shifts[j] : p->shift;
			((int8_t *)ops->c)[i * p->ldc + j] = qmx_q_requant(
				v, mult, shift, p->c_zero_point, p->qmin, p->qmax);
		}
	}
	return 0;
}
