/* SPDX-License-Identifier: MIT */
/* qmx_util.c - random GEMM problems, checksums and comparisons. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmx_util.h"

#define SENTINEL8 0x5A

uint64_t qmx_util_seed(uint64_t fallback)
{
	const char *env = getenv("QMX_TEST_SEED");
	if (env && *env)
		return strtoull(env, NULL, 0);
	return fallback;
}

static int8_t fill_value(qmx_rng *rng, enum qmx_fill fill)
{
	switch (fill) {
	case QMX_FILL_EXTREME:
		return (qmx_rng_next(rng) & 1) ? 127 : -128;
	case QMX_FILL_MIN:
		return -128;
	case QMX_FILL_MAX:
		return 127;
	default:
		return (int8_t)qmx_rng_range(rng, -128, 127);
	}
}

void qmx_problem_random_quant(qmx_gemm_params *p, qmx_rng *rng)
{
	p->a_zero_point = (int32_t)qmx_rng_range(rng, -128, 127);
	p->b_zero_point = (qmx_rng_next(rng) % 4) ? 0 : (int32_t)qmx_rng_range(rng, -128, 127);
	p->has_bias = (int32_t)(qmx_rng_next(rng) & 1);
	p->out_type = (qmx_rng_next(rng) % 3) ? QMX_OUT_INT8 : QMX_OUT_INT32;
	p->quant_mode = (qmx_rng_next(rng) & 1) ? QMX_QUANT_PER_CHANNEL : QMX_QUANT_PER_TENSOR;
	p->c_zero_point = (int32_t)qmx_rng_range(rng, -128, 127);
	/* A realistic output scale: about 1 / (sqrt(K) * 127) spread over 2^+-6. */
	double real = 1.0 / (double)(p->k * 16 + 1) * (double)(1 << qmx_rng_range(rng, 0, 12)) / 64.0;
	qmx_quantize_multiplier(real, &p->multiplier, &p->shift);
	int32_t lo = (int32_t)qmx_rng_range(rng, -128, 127);
	int32_t hi = (int32_t)qmx_rng_range(rng, -128, 127);
	p->qmin = lo < hi ? lo : hi;
	p->qmax = lo < hi ? hi : lo;
	if (qmx_rng_next(rng) % 4 == 0) { /* ReLU: qmin = zc */
		p->qmin = p->c_zero_point;
		p->qmax = 127;
	}
}

int qmx_problem_init(qmx_problem *pb, const qmx_gemm_params *p, qmx_rng *rng,
		     enum qmx_fill fill)
{
	memset(pb, 0, sizeof(*pb));
	pb->p = *p;
	size_t na = (size_t)((p->m - 1) * p->lda + p->k);
	size_t nb = (size_t)((p->k - 1) * p->ldb + p->n);
	size_t elem = p->out_type == QMX_OUT_INT8 ? 1 : 4;
	pb->c_bytes = (size_t)((p->m - 1) * p->ldc + p->n) * elem;
	pb->a = malloc(na);
	pb->b = malloc(nb);
	pb->bias = malloc((size_t)p->n * 4);
	pb->multipliers = malloc((size_t)p->n * 4);
	pb->shifts = malloc((size_t)p->n * 4);
	pb->c = malloc(pb->c_bytes);
	pb->c_ref = malloc(pb->c_bytes);
	if (!pb->a || !pb->b || !pb->bias || !pb->multipliers || !pb->shifts || !pb->c ||
	    !pb->c_ref) {
		qmx_problem_free(pb);
		return QMX_ENOMEM;
	}
	for (size_t i = 0; i < na; i++)
		pb->a[i] = fill_value(rng, fill);
	for (size_t i = 0; i < nb; i++)
		pb->b[i] = fill_value(rng, fill);
	for (int64_t j = 0; j < p->n; j++) {
		pb->bias[j] = fill == QMX_FILL_RANDOM ? (int32_t)qmx_rng_range(rng, -100000, 100000)
						      : ((j & 1) ? INT32_MAX / 2 : INT32_MIN / 2);
		double real = (double)qmx_rng_range(rng, 1, 4096) / (double)(p->k * 4096 + 1);
		qmx_quantize_multiplier(real, &pb->multipliers[j], &pb->shifts[j]);
	}
	memset(pb->c, SENTINEL8, pb->c_bytes);
	memset(pb->c_ref, SENTINEL8, pb->c_bytes);
	return 0;
}

void qmx_problem_operands(const qmx_problem *pb, qmx_gemm_host_operands *ops,
			  bool reference_output)
{
	memset(ops, 0, sizeof(*ops));
	ops->a = pb->a;
	ops->b = pb->b;
	ops->bias = pb->p.has_bias ? pb->bias : NULL;
	bool pc = pb->p.out_type == QMX_OUT_INT8 && pb->p.quant_mode == QMX_QUANT_PER_CHANNEL;
	ops->multipliers = pc ? pb->multipliers : NULL;
	ops->shifts = pc ? pb->shifts : NULL;
	ops->c = reference_output ? pb->c_ref : pb->c;
}

int qmx_problem_compute_reference(qmx_problem *pb)
{
	qmx_gemm_host_operands ops;
	qmx_problem_operands(pb, &ops, true);
	return qmx_gemm_reference(&pb->p, &ops);
}

bool qmx_problem_matches(const qmx_problem *pb, char *msg, size_t msg_len)
{
	const qmx_gemm_params *p = &pb->p;
	for (int64_t i = 0; i < p->m; i++) {
		for (int64_t j = 0; j < p->n; j++) {
			size_t at = (size_t)(i * p->ldc + j);
			int64_t got, want;
			if (p->out_type == QMX_OUT_INT8) {
				got = ((int8_t *)pb->c)[at];
				want = ((int8_t *)pb->c_ref)[at];
			} else {
				got = ((int32_t *)pb->c)[at];
				want = ((int32_t *)pb->c_ref)[at];
			}
			if (got != want) {
				snprintf(msg, msg_len, "C[%lld][%lld] = %lld, expected %lld",
					 (long long)i, (long long)j, (long long)got,
					 (long long)want);
				return false;
			}
		}
	}
	/* The gaps between rows (ldc > n) must be untouched. */
	if (memcmp(pb->c, pb->c_ref, pb->c_bytes) != 0) {
		snprintf(msg, msg_len, "bytes between rows of C (ldc %lld > n %lld) were written",
			 (long long)p->ldc, (long long)p->n);
		return false;
	}
	return true;
}

void qmx_problem_free(qmx_problem *pb)
{
	free(pb->a);
	free(pb->b);
	free(pb->bias);
	free(pb->multipliers);
	free(pb->shifts);
	free(pb->c);
	free(pb->c_ref);
	memset(pb, 0, sizeof(*pb));
}

uint64_t qmx_compulsory_bytes(const qmx_gemm_params *p)
{
	uint64_t m = (uint64_t)p->m, n = (uint64_t)p->n, k = (uint64_t)p->k;
	bool int8 = p->out_type == QMX_OUT_INT8;
	uint64_t bytes = m * k + k * n + m * n * (int8 ? 1 : 4);
	if (p->has_bias)
		bytes += 4 * n;
	if (int8 && p->quant_mode == QMX_QUANT_PER_CHANNEL)
		bytes += 8 * n; /* multiplier and shift per column */
	return bytes;
}

uint64_t qmx_output_checksum(const qmx_gemm_params *p, const void *c)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t elem = p->out_type == QMX_OUT_INT8 ? 1 : 4;
	for (int64_t i = 0; i < p->m; i++) {
		const unsigned char *row = (const unsigned char *)c + (size_t)(i * p->ldc) * elem;
		for (size_t x = 0; x < (size_t)p->n * elem; x++) {
			h ^= row[x];
			h *= UINT64_C(0x100000001b3);
		}
	}
	return h;
}

int qmx_parse_shape(const char *s, int64_t *m, int64_t *n, int64_t *k)
{
	long long a, b, c;
	char tail;
	if (sscanf(s, "%lldx%lldx%lld%c", &a, &b, &c, &tail) != 3)
		return -1;
	*m = a;
	*n = b;
	*k = c;
	return 0;
}

void qmx_util_cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10)) {
			char *v = strchr(line, ':');
			if (v) {
				v += 1 + (v[1] == ' ');
				v[strcspn(v, "\n")] = 0;
				snprintf(buf, len, "%s", v);
			}
			break;
		}
	}
	fclose(f);
}
