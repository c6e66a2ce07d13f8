/* SPDX-License-Identifier: MIT */
/*
 * qmx_extent.h - the byte extent and alignment of every operand of a GEMM,
 * in checked unsigned 64-bit arithmetic.
 *
 * Kernel-safe C, no libc: the one source of these formulas for the runtime
 * (descriptor checks, host staging), the driver (SUBMIT) and the tools.  A
 * failed check says which field broke which limit, so each caller can word
 * its own message (qmx_fail() in userspace, drm_dbg() in the kernel).
 *
 * Extents (elements are int8 for A, B and int8 C; int32 otherwise):
 *   A: (m - 1) * lda + k     B: (k - 1) * ldb + n
 *   C: ((m - 1) * ldc + n) * elem
 *   bias, multipliers, shifts: n * 4 (0 when the job does not use them)
 */
#ifndef QMX_EXTENT_H
#define QMX_EXTENT_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

enum qmx_extent_operand {
	QMX_OPERAND_A,
	QMX_OPERAND_B,
	QMX_OPERAND_C,
	QMX_OPERAND_BIAS,
	QMX_OPERAND_MULTIPLIERS,
	QMX_OPERAND_SHIFTS,
	QMX_OPERAND_COUNT
};

static inline const char *qmx_extent_operand_name(unsigned int op)
{
	switch (op) {
	case QMX_OPERAND_A:
		return "a";
	case QMX_OPERAND_B:
		return "b";
	case QMX_OPERAND_C:
		return "c";
	case QMX_OPERAND_BIAS:
		return "bias";
	case QMX_OPERAND_MULTIPLIERS:
		return "multipliers";
	case QMX_OPERAND_SHIFTS:
		return "shifts";
	}
	return "?";
}

/* The shape of one GEMM: dimensions and leading dimensions in elements. */
struct qmx_extent_gemm {
	uint64_t m, n, k;
	uint64_t lda, ldb, ldc;
	uint32_t out_int8;    /* C is int8 (else int32) */
	uint32_t has_bias;    /* bias[n] int32 is read */
	uint32_t per_channel; /* multipliers[n], shifts[n] int32 are read */
};

/* Bytes each operand spans from its start, and the alignment its start
 * needs (1 for int8 data, 4 for int32); bytes = 0 for an unused operand. */
struct qmx_extent_bytes {
	uint64_t bytes[QMX_OPERAND_COUNT];
	uint32_t align[QMX_OPERAND_COUNT];
};

enum qmx_extent_status {
	QMX_EXTENT_OK = 0,
	QMX_EXTENT_ZERO,      /* field (a dimension) is 0 */
	QMX_EXTENT_TOO_LARGE, /* field (value) > limit (max_dim) */
	QMX_EXTENT_LD_SHORT,  /* field (an ld) < limit_name (the row length) */
	QMX_EXTENT_TOO_FAR,   /* operand field spans value bytes > limit; value
			       * 0 when the product overflows 64 bits */
	QMX_EXTENT_MISALIGNED /* field's offset (value) not a multiple of limit */
};

/* What failed: `field` is a descriptor field ("m", "lda") or an operand
 * ("c"); `limit_name` names what bounded it. */
struct qmx_extent_error {
	enum qmx_extent_status status;
	const char *field;
	const char *limit_name;
	uint64_t value, limit;
};

static inline int qmx_extent_fail(struct qmx_extent_error *err,
				  enum qmx_extent_status status, const char *field,
				  const char *limit_name, uint64_t value, uint64_t limit)
{
	err->status = status;
	err->field = field;
	err->limit_name = limit_name;
	err->value = value;
	err->limit = limit;
	return (int)status;
}

/* (rows - 1) * ld + cols, times elem; 0 on overflow of 64 bits.  rows >= 1. */
static inline int qmx_extent_span(uint64_t rows, uint64_t ld, uint64_t cols,
				  uint64_t elem, uint64_t *bytes)
{
	uint64_t e;

	if (__builtin_mul_overflow(rows - 1, ld, &e) ||
	    __builtin_add_overflow(e, cols, &e) ||
	    __builtin_mul_overflow(e, elem, &e))
		return -1;
	*bytes = e;
	return 0;
}

/*
 * Check the shape against max_dim (every dimension and leading dimension)
 * and every operand's extent against max_bytes, and fill *out (zeroed
 * first).  Returns
 * QMX_EXTENT_OK (0) or the status also stored in *err.
 */
static inline int qmx_extent_gemm_check(const struct qmx_extent_gemm *g,
					uint64_t max_dim, uint64_t max_bytes,
					struct qmx_extent_bytes *out,
					struct qmx_extent_error *err)
{
	const struct {
		const char *name;
		uint64_t v;
	} dims[3] = { { "m", g->m }, { "n", g->n }, { "k", g->k } };
	const struct {
		const char *name, *ref_name;
		uint64_t v, ref;
	} lds[3] = { { "lda", "k", g->lda, g->k },
		     { "ldb", "n", g->ldb, g->n },
		     { "ldc", "n", g->ldc, g->n } };
	uint64_t n4, elem_c = g->out_int8 ? 1 : 4;
	unsigned int i;

	for (i = 0; i < QMX_OPERAND_COUNT; i++) {
		out->bytes[i] = 0;
		out->align[i] = 1;
	}
	for (i = 0; i < 3; i++) {
		if (!dims[i].v)
			return qmx_extent_fail(err, QMX_EXTENT_ZERO, dims[i].name,
					       "0", 0, 0);
		if (dims[i].v > max_dim)
			return qmx_extent_fail(err, QMX_EXTENT_TOO_LARGE, dims[i].name,
					       "max_dim", dims[i].v, max_dim);
	}
	for (i = 0; i < 3; i++) {
		if (lds[i].v < lds[i].ref)
			return qmx_extent_fail(err, QMX_EXTENT_LD_SHORT, lds[i].name,
					       lds[i].ref_name, lds[i].v, lds[i].ref);
		if (lds[i].v > max_dim)
			return qmx_extent_fail(err, QMX_EXTENT_TOO_LARGE, lds[i].name,
					       "max_dim", lds[i].v, max_dim);
	}
	if (qmx_extent_span(g->m, g->lda, g->k, 1, &out->bytes[QMX_OPERAND_A]))
		return qmx_extent_fail(err, QMX_EXTENT_TOO_FAR, "a", "max_bytes", 0,
				       max_bytes);
	if (qmx_extent_span(g->k, g->ldb, g->n, 1, &out->bytes[QMX_OPERAND_B]))
		return qmx_extent_fail(err, QMX_EXTENT_TOO_FAR, "b", "max_bytes", 0,
				       max_bytes);
	if (qmx_extent_span(g->m, g->ldc, g->n, elem_c, &out->bytes[QMX_OPERAND_C]))
		return qmx_extent_fail(err, QMX_EXTENT_TOO_FAR, "c", "max_bytes", 0,
				       max_bytes);
	if (__builtin_mul_overflow(g->n, (uint64_t)4, &n4))
		return qmx_extent_fail(err, QMX_EXTENT_TOO_FAR, "bias", "max_bytes", 0,
				       max_bytes);
	out->align[QMX_OPERAND_C] = (uint32_t)elem_c;
	if (g->has_bias) {
		out->bytes[QMX_OPERAND_BIAS] = n4;
		out->align[QMX_OPERAND_BIAS] = 4;
	}
	if (g->per_channel) {
		out->bytes[QMX_OPERAND_MULTIPLIERS] = n4;
		out->bytes[QMX_OPERAND_SHIFTS] = n4;
		out->align[QMX_OPERAND_MULTIPLIERS] = 4;
		out->align[QMX_OPERAND_SHIFTS] = 4;
	}
	for (i = 0; i < QMX_OPERAND_COUNT; i++)
		if (out->bytes[i] > max_bytes)
			return qmx_extent_fail(err, QMX_EXTENT_TOO_FAR,
					       qmx_extent_operand_name(i), "max_bytes",
					       out->bytes[i], max_bytes);
	return QMX_EXTENT_OK;
}

/*
 * Check that operand `op` at byte `offset` is aligned for its element type
 * (int32 data at a multiple of 4: every backend, and the reference, load
 * it as int32).  `x` comes from qmx_extent_gemm_check().
 */
static inline int qmx_extent_check_align(const struct qmx_extent_bytes *x,
					 unsigned int op, uint64_t offset,
					 struct qmx_extent_error *err)
{
	if (x->bytes[op] && (offset & (x->align[op] - 1u)))
		return qmx_extent_fail(err, QMX_EXTENT_MISALIGNED,
				       qmx_extent_operand_name(op), "alignment",
				       offset, x->align[op]);
	return QMX_EXTENT_OK;
}

#endif /* QMX_EXTENT_H */
