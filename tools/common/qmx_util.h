/* SPDX-License-Identifier: MIT */
/*
 * qmx_util.h - helpers shared by the qmx tool, the tests and the benchmarks:
 * a seeded random generator, random GEMM problems, checksums, comparisons.
 * Not part of libqmx's public API.
 */
#ifndef QMX_UTIL_H
#define QMX_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qmx/qmx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* splitmix64: small, fast, and the same sequence on every machine. */
typedef struct qmx_rng {
	uint64_t state;
} qmx_rng;

static inline uint64_t qmx_rng_next(qmx_rng *r)
{
	uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Uniform integer in [lo, hi]. */
static inline int64_t qmx_rng_range(qmx_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(qmx_rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* Seed from $QMX_TEST_SEED when set, else `fallback`; prints nothing. */
uint64_t qmx_util_seed(uint64_t fallback);
/* The host CPU's model name (/proc/cpuinfo), "unknown" when not found:
 * printed beside every benchmark figure. */
void qmx_util_cpu_model(char *buf, size_t len);

/* A GEMM problem with its host operands and a reference result. */
typedef struct qmx_problem {
	qmx_gemm_params p;
	int8_t *a, *b;
	int32_t *bias, *multipliers, *shifts;
	void *c;     /* output, ldc-strided; gaps filled with a sentinel */
	void *c_ref; /* reference output, same layout */
	size_t c_bytes;
} qmx_problem;

enum qmx_fill {
	QMX_FILL_RANDOM = 0, /* uniform over [-128, 127] */
	QMX_FILL_EXTREME,    /* only -128 and 127 */
	QMX_FILL_MIN,        /* all -128 */
	QMX_FILL_MAX,        /* all 127 */
};

/* Allocate operands for `p` (shape, strides and quantization already set),
 * fill them from `rng` per `fill`, and fill per-channel arrays and bias with
 * realistic random values.  Returns 0 or QMX_ENOMEM. */
int qmx_problem_init(qmx_problem *pb, const qmx_gemm_params *p, qmx_rng *rng,
		     enum qmx_fill fill);
/* Random quantization parameters on top of a shape (out type, per-channel,
 * bias, zero points, multipliers from real scales, clamps). */
void qmx_problem_random_quant(qmx_gemm_params *p, qmx_rng *rng);
void qmx_problem_operands(const qmx_problem *pb, qmx_gemm_host_operands *ops,
			  bool reference_output);
int qmx_problem_compute_reference(qmx_problem *pb);
/* Compare c with c_ref over the M x N elements; on the first difference
 * write "C[i][j] = x, expected y" into msg and return false. */
bool qmx_problem_matches(const qmx_problem *pb, char *msg, size_t msg_len);
void qmx_problem_free(qmx_problem *pb);

/* FNV-1a over the M x N elements of an output (ldc gaps skipped). */
uint64_t qmx_output_checksum(const qmx_gemm_params *p, const void *c);

/* Compulsory external-memory bytes of a GEMM: A, B and C once, plus the bias
 * and per-channel vectors it uses (the floor any dataflow's DRAM traffic is
 * compared with). */
uint64_t qmx_compulsory_bytes(const qmx_gemm_params *p);

/* "1x2x3" style parsing of an M,N,K triple; 0 or -1. */
int qmx_parse_shape(const char *s, int64_t *m, int64_t *n, int64_t *k);

#ifdef __cplusplus
}
#endif

#endif /* QMX_UTIL_H */
