/* SPDX-License-Identifier: MIT */
/*
 * fuzz_gemm.c - the GEMM descriptor check and the submit path.
 *
 * The first byte picks a mode:
 *  - raw: every field of qmx_gemm_params from the input, through
 *    qmx_gemm_params_check(); an accepted descriptor must satisfy the
 *    documented limits, and its operand extents (qmx_gemm_extents) must
 *    equal the formula computed independently in 128-bit arithmetic.
 *  - submit: a small descriptor (M, N, K <= 24, strides, zero points,
 *    requantization, bias, per-channel arrays, operand offsets and buffer
 *    sizes that are sometimes wrong) submitted to "cpu" and "cpu-ref" with
 *    the same data.  Both must accept or refuse alike (a refusal with a
 *    message); accepted jobs must finish and match bit for bit, no byte
 *    outside C's rows written; qmx_gemm() on host pointers must agree.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz_common.h"
#include "qmx/qmx.h"
#include "qmx_backend.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIM_BOUND 24

static qmx_device *dev_cpu, *dev_ref;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (qmx_device_open("cpu:2", &dev_cpu) || qmx_device_open("cpu-ref", &dev_ref)) {
		fprintf(stderr, "fuzz_gemm: %s\n", qmx_last_error());
		abort();
	}
	return 0;
}

typedef unsigned __int128 u128;

static u128 span(int64_t rows, int64_t ld, int64_t cols, unsigned elem)
{
	return ((u128)(rows - 1) * (u128)ld + (u128)cols) * elem;
}

static void fuzz_raw(struct fuzz_in *in)
{
	qmx_gemm_params p;
	memset(&p, 0, sizeof(p));
	int64_t *i64[] = { &p.m, &p.n, &p.k, &p.lda, &p.ldb, &p.ldc };
	uint64_t sel = fuzz_take(in, 2);
	for (int i = 0; i < 6; i++) {
		/* Mostly near the 2^31 limit or small, sometimes anything. */
		uint64_t r = fuzz_take(in, 8);
		switch ((sel >> (2 * i)) & 3) {
		case 0: *i64[i] = (int64_t)(r % 64); break;
		case 1: *i64[i] = INT32_MAX - (int64_t)(r % 4); break;
		case 2: *i64[i] = (int64_t)(r & 0xFFFFFFFF); break;
		default: *i64[i] = (int64_t)r; break;
		}
	}
	int32_t *i32[] = { &p.a_zero_point, &p.b_zero_point, &p.c_zero_point, &p.out_type,
			   &p.quant_mode, &p.multiplier, &p.shift, &p.qmin, &p.qmax,
			   &p.has_bias };
	for (size_t i = 0; i < sizeof(i32) / sizeof(i32[0]); i++) {
		uint64_t r = fuzz_take(in, 4);
		*i32[i] = (sel >> 12) & 1 ? (int32_t)(int8_t)r : (int32_t)(uint32_t)r;
	}
	if (qmx_gemm_params_check(&p)) {
		FUZZ_ASSERT(qmx_last_error()[0], "refused without a message");
		return;
	}
	const int64_t lim = INT32_MAX;
	FUZZ_ASSERT(p.m >= 1 && p.n >= 1 && p.k >= 1 && p.m <= lim && p.n <= lim && p.k <= lim,
		    "accepted shape %lld %lld %lld", (long long)p.m, (long long)p.n,
		    (long long)p.k);
	FUZZ_ASSERT(p.lda >= p.k && p.ldb >= p.n && p.ldc >= p.n && p.lda <= lim &&
			    p.ldb <= lim && p.ldc <= lim,
		    "accepted strides");
	bool i8 = p.out_type == QMX_OUT_INT8;
	FUZZ_ASSERT(i8 || p.out_type == QMX_OUT_INT32, "out_type %d", p.out_type);
	FUZZ_ASSERT(p.has_bias == 0 || p.has_bias == 1, "has_bias %d", p.has_bias);
	struct qmx_gemm_extents e;
	qmx_gemm_extents(&p, &e);
	u128 c = span(p.m, p.ldc, p.n, i8 ? 1 : 4);
	FUZZ_ASSERT(c <= (u128)PTRDIFF_MAX, "c extent past PTRDIFF_MAX accepted");
	FUZZ_ASSERT(e.a == (uint64_t)span(p.m, p.lda, p.k, 1) &&
			    e.b == (uint64_t)span(p.k, p.ldb, p.n, 1) && e.c == (uint64_t)c,
		    "extents differ from the formula");
	FUZZ_ASSERT(e.bias == (p.has_bias ? (uint64_t)p.n * 4 : 0), "bias extent");
}

struct operand {
	qmx_buffer *buf[2]; /* cpu, cpu-ref */
	uint64_t off, size;
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fuzz_submit(struct fuzz_in *in)
{
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, 1 + (int64_t)(fuzz_take(in, 1) % DIM_BOUND),
			     1 + (int64_t)(fuzz_take(in, 1) % DIM_BOUND),
			     1 + (int64_t)(fuzz_take(in, 1) % DIM_BOUND));
	uint64_t f = fuzz_take(in, 4); /* flags */
	p.lda = p.k + (int64_t)(f & 3);
	p.ldb = p.n + (int64_t)((f >> 2) & 3);
	p.ldc = p.n + (int64_t)((f >> 4) & 3);
	if ((f >> 6 & 15) == 0) /* now and then a stride too short */
		p.ldc = p.n - 1;
	p.out_type = (int32_t)((f >> 10) % 3 == 2 ? 1 : (f >> 10) % 3);
	p.quant_mode = (int32_t)((f >> 12) & 1);
	p.has_bias = (int32_t)((f >> 13) & 1);
	p.a_zero_point = (int8_t)fuzz_take(in, 1);
	p.b_zero_point = (int8_t)fuzz_take(in, 1);
	p.c_zero_point = (int8_t)fuzz_take(in, 1);
	p.multiplier = (int32_t)(fuzz_take(in, 4) & ((f >> 14) & 1 ? 0xFFFFFFFF : 0x7FFFFFFF));
	p.shift = (int32_t)(fuzz_take(in, 1) % 64) - 32;
	p.qmin = (int8_t)fuzz_take(in, 1);
	p.qmax = (int8_t)fuzz_take(in, 1);
	if ((f >> 15) & 1 && p.qmin > p.qmax) {
		int32_t t = p.qmin;
		p.qmin = p.qmax, p.qmax = t;
	}
	uint64_t seed = fuzz_take(in, 8) | 1;

	/* Each operand in its own buffer at a small, often misaligned offset,
	 * in a buffer sometimes a little too small. */
	bool pc = p.out_type == QMX_OUT_INT8 && p.quant_mode == QMX_QUANT_PER_CHANNEL;
	uint64_t ldc = p.ldc > 0 ? (uint64_t)p.ldc : 1;
	uint64_t need[6] = {
		(uint64_t)((p.m - 1) * p.lda + p.k), (uint64_t)((p.k - 1) * p.ldb + p.n),
		((uint64_t)(p.m - 1) * ldc + (uint64_t)p.n) * (p.out_type ? 1 : 4),
		p.has_bias ? (uint64_t)p.n * 4 : 0, pc ? (uint64_t)p.n * 4 : 0,
		pc ? (uint64_t)p.n * 4 : 0,
	};
	struct operand op[6];
	memset(op, 0, sizeof(op));
	qmx_ref *refs[2][6];
	qmx_gemm_desc d[2];
	memset(d, 0, sizeof(d));
	uint64_t offs = fuzz_take(in, 3), sizes = fuzz_take(in, 2);
	bool all_ok = true;
	for (int i = 0; i < 6; i++) {
		if (!need[i])
			continue;
		op[i].off = (offs >> (3 * i)) & 7;
		if (!((offs >> 18) & 1)) /* aligned, the common case */
			op[i].off &= ~(uint64_t)3;
		int64_t slack = (int64_t)((sizes >> (2 * i)) & 3) - ((sizes >> 12) & 1 ? 1 : 0);
		op[i].size = op[i].off + need[i] + (uint64_t)(slack < 0 ? 0 : slack);
		if (slack < 0)
			op[i].size -= 1;
		if (!op[i].size)
			op[i].size = 1;
		for (int dv = 0; dv < 2; dv++) {
			qmx_device *dev = dv ? dev_ref : dev_cpu;
			if (qmx_buffer_new(dev, op[i].size, 0, &op[i].buf[dv])) {
				all_ok = false;
				continue;
			}
		}
	}
	if (!all_ok)
		goto out;
	/* The same bytes in both devices' buffers; per-channel values
	 * mostly in range. */
	for (int i = 0; i < 6; i++) {
		if (!op[i].buf[0])
			continue;
		void *h[2];
		FUZZ_ASSERT(!qmx_buffer_map(op[i].buf[0], &h[0]) &&
				    !qmx_buffer_map(op[i].buf[1], &h[1]),
			    "%s", qmx_last_error());
		uint8_t *b = h[0];
		for (uint64_t j = 0; j < op[i].size; j++)
			b[j] = (uint8_t)rng_next(&seed);
		if ((i == 4 || i == 5) && !((f >> 16) & 1)) {
			for (uint64_t j = op[i].off; j + 4 <= op[i].size; j += 4) {
				uint32_t v = (uint32_t)rng_next(&seed);
				v = i == 4 ? v & 0x7FFFFFFF : (uint32_t)((int32_t)(v % 62) - 31);
				memcpy(b + j, &v, 4);
			}
		}
		memcpy(h[1], h[0], op[i].size);
	}
	uint8_t *c_init = malloc(op[2].size);
	void *c0;
	if (!c_init)
		goto out;
	qmx_buffer_map(op[2].buf[0], &c0);
	memcpy(c_init, c0, op[2].size);
	for (int dv = 0; dv < 2; dv++) {
		d[dv].params = p;
		refs[dv][0] = &d[dv].a, refs[dv][1] = &d[dv].b, refs[dv][2] = &d[dv].c;
		refs[dv][3] = &d[dv].bias, refs[dv][4] = &d[dv].multipliers;
		refs[dv][5] = &d[dv].shifts;
		for (int i = 0; i < 6; i++)
			*refs[dv][i] = (qmx_ref){ op[i].buf[dv], op[i].off };
	}
	qmx_job *job[2] = { NULL, NULL };
	int err[2];
	char msg[2][256];
	for (int dv = 0; dv < 2; dv++) {
		err[dv] = qmx_gemm_submit(dv ? dev_ref : dev_cpu, &d[dv], &job[dv]);
		snprintf(msg[dv], sizeof(msg[dv]), "%s", qmx_last_error());
	}
	FUZZ_ASSERT(err[0] == err[1], "cpu %d (%s) vs cpu-ref %d (%s)", err[0], msg[0], err[1],
		    msg[1]);
	if (err[0]) {
		FUZZ_ASSERT(msg[0][0] && !job[0] && !job[1], "refusal without message");
		free(c_init);
		goto out;
	}
	for (int dv = 0; dv < 2; dv++) {
		int w = qmx_job_wait(job[dv], 30LL * 1000000000LL);
		FUZZ_ASSERT(w == 0, "job on %s: %s", dv ? "cpu-ref" : "cpu", qmx_last_error());
		qmx_job_del(job[dv]);
	}
	/* C: identical on both, and nothing outside its rows written. */
	void *c[2];
	qmx_buffer_map(op[2].buf[0], &c[0]);
	qmx_buffer_map(op[2].buf[1], &c[1]);
	FUZZ_ASSERT(!memcmp(c[0], c[1], op[2].size),
		    "cpu and cpu-ref differ: %lldx%lldx%lld ld %lld/%lld/%lld out %d pc %d bias %d",
		    (long long)p.m, (long long)p.n, (long long)p.k, (long long)p.lda,
		    (long long)p.ldb, (long long)p.ldc, p.out_type, pc, p.has_bias);

	uint64_t unit = p.out_type ? 1 : 4;
	for (uint64_t j = 0; j < op[2].size; j++) {
		uint64_t rel = j - op[2].off, row = rel / (ldc * unit);
		bool in_c = j >= op[2].off && row < (uint64_t)p.m &&
			    rel - row * ldc * unit < (uint64_t)p.n * unit;
		FUZZ_ASSERT(in_c || ((uint8_t *)c[0])[j] == c_init[j],
			    "byte %llu outside C's rows written", (unsigned long long)j);
	}
	free(c_init);

	/* The host-pointer path on cpu agrees (it may take another kernel). */
	qmx_gemm_host_operands ops;
	void *hp[6] = { 0 };
	for (int i = 0; i < 6; i++)
		if (op[i].buf[1])
			qmx_buffer_map(op[i].buf[1], &hp[i]);
	uint64_t csize = op[2].size;
	char *cbuf = malloc(csize + 4);
	if (!cbuf)
		goto out;
	char *chost = cbuf + (op[2].off & 3); /* same alignment as the buffer's */
	memset(chost, 0, csize - op[2].off);
	ops.a = (const int8_t *)hp[0] + op[0].off;
	ops.b = (const int8_t *)hp[1] + op[1].off;
	ops.c = chost;
	ops.bias = hp[3] ? (const int32_t *)((char *)hp[3] + op[3].off) : NULL;
	ops.multipliers = hp[4] ? (const int32_t *)((char *)hp[4] + op[4].off) : NULL;
	ops.shifts = hp[5] ? (const int32_t *)((char *)hp[5] + op[5].off) : NULL;
	int g = qmx_gemm(dev_cpu, &p, &ops, NULL);
	FUZZ_ASSERT(g == 0, "qmx_gemm on what submit accepted: %s", qmx_last_error());
	for (int64_t i = 0; i < p.m; i++) {
		uint64_t at = (uint64_t)i * ldc * unit;
		FUZZ_ASSERT(!memcmp(chost + at, (char *)c[1] + op[2].off + at, (uint64_t)p.n * unit),
			    "qmx_gemm differs from the submitted job, row %lld", (long long)i);
	}
	free(cbuf);
out:
	for (int i = 0; i < 6; i++) {
		qmx_buffer_del(op[i].buf[0]);
		qmx_buffer_del(op[i].buf[1]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	if (fuzz_take(&in, 1) & 1)
		fuzz_raw(&in);
	else
		fuzz_submit(&in);
	return 0;
}
