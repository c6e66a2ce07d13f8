/* SPDX-License-Identifier: MIT */
/*
 * train.h - quantization helpers and a fake-quant GEMM for training loops
 * (part of qmx.h; see docs/training.md).
 *
 * Quantization is affine, int8:  real = scale * (q - zero_point).
 *
 *  - Parameters come from a range [min, max] as in gemmlowp's quantization
 *    document: the range is first extended to contain 0 (so 0.0 is exactly
 *    representable, which zero padding and ReLU need), then
 *      asymmetric: scale = (max - min) / 255, zero point = -128 - min / scale
 *                  nudged to an exact integer in [-128, 127];
 *      symmetric:  scale = max(|min|, |max|) / 127, zero point = 0, values
 *                  in [-127, 127] (so -x quantizes to -q).
 *    An empty range (min = max = 0) gives scale 1, zero point 0.
 *  - Rounding is round-half-to-even everywhere (IEEE 754 default, rint()):
 *    quantize(0.5 * scale) = 0, quantize(1.5 * scale) = 2.  The zero-point
 *    nudge rounds half to even too (gemmlowp's example rounds half away from
 *    zero; the two differ only when -min / scale is exactly k + 0.5).
 *  - Quantize clamps to [-128, 127] (symmetric parameters never produce
 *    -128 from values inside their range).  For x inside the range,
 *    |x - dequantize(quantize(x))| <= scale / 2.
 *  - Per-channel parameters: one (scale, zero point) per row (axis 0) or
 *    per column (axis 1) of a row-major matrix.
 */
#ifndef QMX_TRAIN_H
#define QMX_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "qmx/qmx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Quantization parameters of a tensor or of one channel. */
typedef struct qmx_qparams {
	float scale;        /* finite, > 0 */
	int32_t zero_point; /* [-128, 127]; 0 for symmetric */
} qmx_qparams;

enum qmx_qscheme {
	QMX_QSCHEME_ASYMMETRIC = 0, /* zero point anywhere in [-128, 127] */
	QMX_QSCHEME_SYMMETRIC = 1,  /* zero point 0, values in [-127, 127] */
};

/* Parameters for the range [min, max] (finite, min <= max). */
QMX_API int qmx_qparams_from_minmax(float min, float max, int scheme,
				    qmx_qparams *out);
/* Per-tensor parameters from the range of x[0..count). */
QMX_API int qmx_qparams_choose(const float *x, size_t count, int scheme,
			       qmx_qparams *out);
/*
 * Per-channel parameters of a rows x cols row-major matrix with leading
 * dimension ld (>= cols): axis 0 gives one entry per row (rows entries of
 * out), axis 1 one per column (cols entries).
 */
QMX_API int qmx_qparams_choose_per_channel(const float *x, int64_t rows,
					   int64_t cols, int64_t ld, int axis,
					   int scheme, qmx_qparams *out);

/* q[i] = clamp(zero_point + rint(x[i] / scale), -128, 127).  NaN is an error. */
QMX_API int qmx_quantize(const float *x, size_t count, qmx_qparams qp,
			 int8_t *q);
/* x[i] = scale * (q[i] - zero_point). */
QMX_API int qmx_dequantize(const int8_t *q, size_t count, qmx_qparams qp,
			   float *x);
/* y[i] = dequantize(quantize(x[i])): the forward of fake quantization.
 * y may equal x (in place). */
QMX_API int qmx_fake_quantize(const float *x, size_t count, qmx_qparams qp,
			      float *y);
/* Per-channel versions on a rows x cols matrix: x (ld >= cols), q (ldq >= cols),
 * qp has rows (axis 0) or cols (axis 1) entries. */
QMX_API int qmx_quantize_per_channel(const float *x, int64_t rows, int64_t cols,
				     int64_t ld, int axis, const qmx_qparams *qp,
				     int8_t *q, int64_t ldq);
QMX_API int qmx_dequantize_per_channel(const int8_t *q, int64_t rows,
				       int64_t cols, int64_t ldq, int axis,
				       const qmx_qparams *qp, float *x,
				       int64_t ld);

/* ------------------------------------------------------------------ fake-quant GEMM */

/*
 * A plan runs float GEMMs C = A * B (+ bias) through the int8 GEMM of a device:
 * quantize A (per tensor) and B (per tensor, or per output column), run the
 * int8 GEMM on the device, and return float C.  It owns device buffers sized
 * for the largest shape given to qmx_qgemm_new() and reuses them for every
 * call, so a training loop allocates nothing per step.  One job is in flight
 * per plan: qmx_qgemm_submit() returns once the job is queued, the host may
 * work (prepare the next batch, run another plan) and qmx_qgemm_wait()
 * collects C.  A plan is not thread-safe; use one plan per thread or per
 * concurrent job.
 */
typedef struct qmx_qgemm qmx_qgemm;

enum qmx_qgemm_out {
	/* int32 accumulators back from the device, rescaled on the host:
	 * C = scale_a * scale_b[j] * acc + bias[j].  Exact up to the
	 * quantization of A and B; the default for training. */
	QMX_QGEMM_OUT_FLOAT = 0,
	/* Scales folded into the device's requantization (multiplier and
	 * shift per tensor or per channel), bias quantized to int32 with
	 * scale_a * scale_b[j]; the device writes int8 C with the caller's
	 * c_qparams, dequantized on the host.  A quarter of the output
	 * traffic; adds up to c scale / 2 of rounding (and clamps to the
	 * range c_qparams can represent). */
	QMX_QGEMM_OUT_INT8 = 1,
};

/* One call.  Initialise with qmx_qgemm_args_init(). */
typedef struct qmx_qgemm_args {
	int64_t m, n, k;         /* > 0, within the plan's maxima */
	const float *a;          /* M x K, row-major */
	int64_t lda;             /* >= k */
	const float *b;          /* K x N, row-major (weights as in x * W) */
	int64_t ldb;             /* >= n */
	const float *bias;       /* N entries, or NULL */
	float *c;                /* M x N out; must stay valid until wait */
	int64_t ldc;             /* >= n */
	int32_t a_scheme;        /* enum qmx_qscheme (default asymmetric) */
	int32_t b_scheme;        /* enum qmx_qscheme (default symmetric) */
	int32_t b_per_channel;   /* 1: one scale per column of B (symmetric) */
	int32_t out;             /* enum qmx_qgemm_out */
	int32_t relu;            /* 1: C = max(C, 0) */
	/* Fixed parameters (e.g. from a moving-average observer); scale 0
	 * means "choose from this call's data" (the default). */
	qmx_qparams a_qparams;
	qmx_qparams b_qparams;   /* per-tensor B only */
	qmx_qparams c_qparams;   /* QMX_QGEMM_OUT_INT8: required, scale > 0 */
} qmx_qgemm_args;

QMX_API void qmx_qgemm_args_init(qmx_qgemm_args *args, int64_t m, int64_t n,
				 int64_t k);

/* A plan for shapes up to max_m x max_n x max_k on `dev` (holds a reference). */
QMX_API int qmx_qgemm_new(qmx_device *dev, int64_t max_m, int64_t max_n,
			  int64_t max_k, qmx_qgemm **out);
/* Waits for a job in flight, frees the buffers, drops the device reference. */
QMX_API void qmx_qgemm_del(qmx_qgemm *plan);

/* Quantize the operands into the plan's buffers and queue the int8 GEMM. */
QMX_API int qmx_qgemm_submit(qmx_qgemm *plan, const qmx_qgemm_args *args);
/* Wait at most timeout_ns (< 0: forever) and write float C.  QMX_ETIMEDOUT
 * leaves the job in flight (call again).  stats may be NULL. */
QMX_API int qmx_qgemm_wait(qmx_qgemm *plan, int64_t timeout_ns,
			   qmx_job_stats *stats);
/* submit + wait. */
QMX_API int qmx_qgemm_run(qmx_qgemm *plan, const qmx_qgemm_args *args,
			  qmx_job_stats *stats);
/*
 * The parameters the last submitted call used: A's, and B's (1 entry, or
 * n when per-channel; b may be NULL, b_cap its capacity).  *b_count gets
 * the number of B entries.
 */
QMX_API int qmx_qgemm_last_qparams(const qmx_qgemm *plan, qmx_qparams *a,
				   qmx_qparams *b, size_t b_cap,
				   size_t *b_count);

/*
 * The operands of the last submitted call as the device saw them,
 * dequantized: fq_a = dequantize(quantize(A)) (M x K, ld_a >= k) and
 * fq_b likewise (K x N, ld_b >= n); either may be NULL.  These are what a
 * straight-through-estimator backward multiplies with.  Read from the
 * plan's own int8 buffers, so valid until the next submit.
 */
QMX_API int qmx_qgemm_fake_quantized(const qmx_qgemm *plan, float *fq_a,
				     int64_t ld_a, float *fq_b, int64_t ld_b);

#ifdef __cplusplus
}
#endif

#endif /* QMX_TRAIN_H */
