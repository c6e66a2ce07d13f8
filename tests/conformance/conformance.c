/* SPDX-License-Identifier: MIT */
/*
 * conformance.c - one suite, run against every backend built:
 *
 *   qmx_conformance --device URI [--quick] [--seed S] [--skip-unsupported]
 *
 * --skip-unsupported: a device this machine cannot run exactly (open fails
 * with QMX_ENOTSUP, e.g. onednn without VNNI) exits 77, ctest's "skipped".
 * Every result is compared bit for bit with qmx_gemm_reference() computed on
 * this host.  --quick trims shapes for slow devices (simulators, guests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qmx/qmx.h"
#include "qmx_util.h"

static const char *device_uri = "cpu";
static bool quick;
static bool skip_unsupported;
static uint64_t seed = 20261127;
static qmx_device *dev;
static qmx_device_info info;

/* ---------------------------------------------------------------- helpers */

/* Run one problem through device buffers at the given byte offsets (to
 * exercise non-zero, unaligned placement) and compare with the reference. */
static void run_problem_at(qmx_problem *pb, uint64_t misalign)
{
	struct buf {
		qmx_buffer *b;
		void *host;
		uint64_t off;
	} a = { 0 }, b = { 0 }, c = { 0 }, bias = { 0 }, mult = { 0 }, shift = { 0 };
	const qmx_gemm_params *p = &pb->p;
	size_t na = (size_t)((p->m - 1) * p->lda + p->k);
	size_t nb = (size_t)((p->k - 1) * p->ldb + p->n);
	bool pc = p->out_type == QMX_OUT_INT8 && p->quant_mode == QMX_QUANT_PER_CHANNEL;
	struct {
		struct buf *d;
		const void *src;
		size_t len;
		uint64_t off;
	} plan[] = {
		{ &a, pb->a, na, misalign },
		{ &b, pb->b, nb, misalign ? misalign + 2 : 0 },
		{ &c, pb->c, pb->c_bytes, misalign ? 4 * misalign : 0 },
		{ &bias, p->has_bias ? pb->bias : NULL, (size_t)p->n * 4, misalign ? 8 : 0 },
		{ &mult, pc ? pb->multipliers : NULL, (size_t)p->n * 4, misalign ? 16 : 0 },
		{ &shift, pc ? pb->shifts : NULL, (size_t)p->n * 4, 0 },
	};
	for (size_t i = 0; i < sizeof(plan) / sizeof(plan[0]); i++) {
		if (!plan[i].src)
			continue;
		struct buf *d = plan[i].d;
		d->off = plan[i].off;
		assert_int_equal(qmx_buffer_new(dev, plan[i].len + d->off, 0, &d->b), 0);
		assert_int_equal(qmx_buffer_map(d->b, &d->host), 0);
		memcpy((char *)d->host + d->off, plan[i].src, plan[i].len);
		assert_int_equal(qmx_buffer_sync(d->b, QMX_SYNC_TO_DEVICE, 0, plan[i].len + d->off), 0);
	}
	qmx_gemm_desc desc = {
		.params = *p,
		.a = { a.b, a.off }, .b = { b.b, b.off }, .c = { c.b, c.off },
		.bias = { bias.b, bias.off }, .multipliers = { mult.b, mult.off },
		.shifts = { shift.b, shift.off },
	};
	qmx_job *job = NULL;
	int err = qmx_gemm_submit(dev, &desc, &job);
	if (err)
		fail_msg("submit %lldx%lldx%lld: %s", (long long)p->m, (long long)p->n,
			 (long long)p->k, qmx_last_error());
	err = qmx_job_wait(job, 600LL * 1000000000LL);
	if (err)
		fail_msg("wait: %s", qmx_last_error());
	qmx_job_stats st;
	assert_int_equal(qmx_job_get_stats(job, &st), 0);
	assert_int_equal(st.macs, (uint64_t)p->m * (uint64_t)p->n * (uint64_t)p->k);
	if (info.features & QMX_FEATURE_COUNTERS)
		assert_true(st.cycles > 0);
	qmx_job_del(job);
	assert_int_equal(qmx_buffer_sync(c.b, QMX_SYNC_FROM_DEVICE, 0, pb->c_bytes + c.off), 0);
	memcpy(pb->c, (char *)c.host + c.off, pb->c_bytes);

	assert_int_equal(qmx_problem_compute_reference(pb), 0);
	char msg[200];
	if (!qmx_problem_matches(pb, msg, sizeof(msg)))
		fail_msg("%s: M=%lld N=%lld K=%lld lda=%lld ldb=%lld ldc=%lld out=%s %s bias=%d "
			 "za=%d zb=%d zc=%d mult=%d shift=%d clamp=[%d,%d]: %s",
			 device_uri, (long long)p->m, (long long)p->n, (long long)p->k,
			 (long long)p->lda, (long long)p->ldb, (long long)p->ldc,
			 p->out_type == QMX_OUT_INT8 ? "int8" : "int32",
			 pc ? "per-channel" : "per-tensor", p->has_bias, p->a_zero_point,
			 p->b_zero_point, p->c_zero_point, p->multiplier, p->shift, p->qmin,
			 p->qmax, msg);
	struct buf *all[] = { &a, &b, &c, &bias, &mult, &shift };
	for (size_t i = 0; i < 6; i++) {
		if (all[i]->b) {
			qmx_buffer_unmap(all[i]->b);
			qmx_buffer_del(all[i]->b);
		}
	}
}

static void run_shape(int64_t m, int64_t n, int64_t k, int64_t pad, qmx_rng *rng,
		      enum qmx_fill fill, bool random_quant, uint64_t misalign)
{
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_params_init(&p, m, n, k);
	p.lda = k + pad;
	p.ldb = n + pad;
	p.ldc = n + pad;
	if (random_quant)
		qmx_problem_random_quant(&p, rng);
	assert_int_equal(qmx_gemm_params_check(&p), 0);
	assert_int_equal(qmx_problem_init(&pb, &p, rng, fill), 0);
	run_problem_at(&pb, misalign);
	qmx_problem_free(&pb);
}

/* ---------------------------------------------------------------- tests */

static void test_identity_int32(void **state)
{
	(void)state;
	qmx_rng rng = { seed };
	run_shape(8, 8, 8, 0, &rng, QMX_FILL_RANDOM, false, 0);
}

/* Requantization fields are ignored for int32 output, whatever they hold:
 * a backend must not hand them to hardware that would reject them. */
static void test_int32_ignores_quant_fields(void **state)
{
	(void)state;
	qmx_rng rng = { seed ^ 9 };
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_params_init(&p, 9, 10, 11);
	p.multiplier = -1;
	p.shift = 99;
	p.qmin = 5;
	p.qmax = 1;
	p.c_zero_point = 1000;
	p.quant_mode = 7;
	assert_int_equal(qmx_gemm_params_check(&p), 0);
	assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM), 0);
	run_problem_at(&pb, 0);
	qmx_problem_free(&pb);
}

static void test_small_shapes(void **state)
{
	(void)state;
	/* 1, primes, and sizes on both sides of common tile edges. */
	static const int64_t dims[] = { 1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 31, 33 };
	const size_t nd = sizeof(dims) / sizeof(dims[0]);
	qmx_rng rng = { seed ^ 1 };
	size_t runs = quick ? 24 : 80;
	for (size_t r = 0; r < runs; r++) {
		int64_t m = dims[qmx_rng_range(&rng, 0, (int64_t)nd - 1)];
		int64_t n = dims[qmx_rng_range(&rng, 0, (int64_t)nd - 1)];
		int64_t k = dims[qmx_rng_range(&rng, 0, (int64_t)nd - 1)];
		int64_t pad = qmx_rng_range(&rng, 0, 1) ? qmx_rng_range(&rng, 1, 9) : 0;
		run_shape(m, n, k, pad, &rng, QMX_FILL_RANDOM, true, r % 3 == 0 ? 3 : 0);
	}
}

static void test_medium_shapes(void **state)
{
	(void)state;
	qmx_rng rng = { seed ^ 2 };
	static const int64_t shapes[][3] = {
		{ 64, 64, 64 }, { 61, 67, 71 }, { 100, 37, 129 }, { 128, 1, 300 },
		{ 1, 130, 257 }, { 96, 80, 1000 },
		/* Past a 512 x 512 output block in M and N and past a 256-deep K
		 * chunk (the accelerator's on-chip block, docs/dataflow.md). */
		{ 520, 515, 280 },
	};
	size_t count = sizeof(shapes) / sizeof(shapes[0]);
	for (size_t i = 0; i < count; i++)
		run_shape(shapes[i][0], shapes[i][1], shapes[i][2], (int64_t)i % 2 * 5, &rng,
			  QMX_FILL_RANDOM, true, i % 2);
}

static void test_long_k(void **state)
{
	(void)state;
	qmx_rng rng = { seed ^ 3 };
	run_shape(quick ? 9 : 33, quick ? 10 : 29, 4096, 0, &rng, QMX_FILL_RANDOM, true, 0);
	if (!quick)
		run_shape(17, 13, 4093, 3, &rng, QMX_FILL_RANDOM, true, 0);
}

/* -128/127 everywhere, worst-case zero points, both output types. */
static void test_extremes(void **state)
{
	(void)state;
	qmx_rng rng = { seed ^ 4 };
	static const enum qmx_fill fills[] = { QMX_FILL_EXTREME, QMX_FILL_MIN, QMX_FILL_MAX };
	for (size_t f = 0; f < 3; f++) {
		for (int out = 0; out < 2; out++) {
			for (int pc = 0; pc < 2; pc++) {
				qmx_gemm_params p;
				qmx_problem pb;
				qmx_gemm_params_init(&p, 19, 23, quick ? 300 : 2048);
				p.a_zero_point = fills[f] == QMX_FILL_MIN ? 127 : -128;
				p.b_zero_point = fills[f] == QMX_FILL_MAX ? -128 : 127;
				p.out_type = out ? QMX_OUT_INT8 : QMX_OUT_INT32;
				p.quant_mode = pc ? QMX_QUANT_PER_CHANNEL : QMX_QUANT_PER_TENSOR;
				p.has_bias = 1;
				p.c_zero_point = -128 + (int32_t)f * 100;
				p.multiplier = INT32_MAX;
				p.shift = (int32_t)f * 10 - 10; /* left shifts saturate */
				assert_int_equal(qmx_problem_init(&pb, &p, &rng, fills[f]), 0);
				run_problem_at(&pb, 0);
				qmx_problem_free(&pb);
			}
		}
	}
}

/* K beyond 32768 can wrap the int32 accumulator: every backend wraps alike. */
static void test_wrapping_accumulator(void **state)
{
	(void)state;
	qmx_rng rng = { seed ^ 5 };
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_params_init(&p, 2, 3, 40000);
	p.a_zero_point = 127;
	p.b_zero_point = 127;
	assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_MIN), 0);
	run_problem_at(&pb, 0);
	/* 40000 * (-255) * (-255) = 2601000000 > INT32_MAX: wraps negative. */
	assert_int_equal(((int32_t *)pb.c_ref)[0], (int32_t)(2601000000u));
	qmx_problem_free(&pb);
}

/* Several jobs in flight, waited for in reverse order. */
static void test_async_jobs(void **state)
{
	(void)state;
	enum { JOBS = 4 };
	qmx_rng rng = { seed ^ 6 };
	qmx_problem pb[JOBS];
	qmx_buffer *bufs[JOBS][3];
	qmx_job *jobs[JOBS];
	for (int j = 0; j < JOBS; j++) {
		qmx_gemm_params p;
		qmx_gemm_params_init(&p, 16 + j, 24 - j, 40 + 7 * j);
		qmx_problem_random_quant(&p, &rng);
		p.quant_mode = QMX_QUANT_PER_TENSOR;
		p.has_bias = 0;
		assert_int_equal(qmx_problem_init(&pb[j], &p, &rng, QMX_FILL_RANDOM), 0);
		const void *src[3] = { pb[j].a, pb[j].b, NULL };
		size_t len[3] = { (size_t)(p.m * p.k), (size_t)(p.k * p.n), pb[j].c_bytes };
		for (int i = 0; i < 3; i++) {
			void *host;
			assert_int_equal(qmx_buffer_new(dev, len[i], 0, &bufs[j][i]), 0);
			assert_int_equal(qmx_buffer_map(bufs[j][i], &host), 0);
			if (src[i])
				memcpy(host, src[i], len[i]);
			assert_int_equal(qmx_buffer_sync(bufs[j][i], QMX_SYNC_TO_DEVICE, 0, len[i]), 0);
		}
		qmx_gemm_desc d = { .params = p, .a = { bufs[j][0], 0 }, .b = { bufs[j][1], 0 },
				    .c = { bufs[j][2], 0 } };
		assert_int_equal(qmx_gemm_submit(dev, &d, &jobs[j]), 0);
	}
	for (int j = JOBS - 1; j >= 0; j--) {
		void *host;
		assert_int_equal(qmx_job_wait(jobs[j], 600LL * 1000000000LL), 0);
		qmx_job_del(jobs[j]);
		assert_int_equal(qmx_buffer_sync(bufs[j][2], QMX_SYNC_FROM_DEVICE, 0, pb[j].c_bytes), 0);
		assert_int_equal(qmx_buffer_map(bufs[j][2], &host), 0);
		memcpy(pb[j].c, host, pb[j].c_bytes);
		assert_int_equal(qmx_problem_compute_reference(&pb[j]), 0);
		char msg[160];
		if (!qmx_problem_matches(&pb[j], msg, sizeof(msg)))
			fail_msg("job %d: %s", j, msg);
		for (int i = 0; i < 3; i++)
			qmx_buffer_del(bufs[j][i]);
		qmx_problem_free(&pb[j]);
	}
}

/* A zero timeout returns at once: done or QMX_ETIMEDOUT, never anything else. */
static void test_wait_timeout(void **state)
{
	(void)state;
	qmx_rng rng = { seed ^ 7 };
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_params_init(&p, 64, 64, 512);
	assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM), 0);
	qmx_buffer *a, *b, *c;
	void *ha, *hb, *hc;
	assert_int_equal(qmx_buffer_new(dev, 64 * 512, 0, &a), 0);
	assert_int_equal(qmx_buffer_new(dev, 512 * 64, 0, &b), 0);
	assert_int_equal(qmx_buffer_new(dev, pb.c_bytes, 0, &c), 0);
	assert_int_equal(qmx_buffer_map(a, &ha), 0);
	assert_int_equal(qmx_buffer_map(b, &hb), 0);
	memcpy(ha, pb.a, 64 * 512);
	memcpy(hb, pb.b, 512 * 64);
	qmx_buffer_sync(a, QMX_SYNC_TO_DEVICE, 0, 64 * 512);
	qmx_buffer_sync(b, QMX_SYNC_TO_DEVICE, 0, 512 * 64);
	qmx_gemm_desc d = { .params = p, .a = { a, 0 }, .b = { b, 0 }, .c = { c, 0 } };
	qmx_job *job;
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), 0);
	int err = qmx_job_wait(job, 0);
	assert_true(err == 0 || err == QMX_ETIMEDOUT);
	if (err == QMX_ETIMEDOUT) {
		qmx_job_stats st;
		assert_int_equal(qmx_job_get_stats(job, &st), QMX_EBUSY);
	}
	assert_int_equal(qmx_job_wait(job, 600LL * 1000000000LL), 0);
	qmx_job_del(job);
	qmx_buffer_sync(c, QMX_SYNC_FROM_DEVICE, 0, pb.c_bytes);
	assert_int_equal(qmx_buffer_map(c, &hc), 0);
	memcpy(pb.c, hc, pb.c_bytes);
	assert_int_equal(qmx_problem_compute_reference(&pb), 0);
	char msg[160];
	if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
		fail_msg("%s", msg);
	qmx_buffer_del(a);
	qmx_buffer_del(b);
	qmx_buffer_del(c);
	qmx_problem_free(&pb);
}

/* The synchronous convenience call on host pointers. */
static void test_sync_gemm(void **state)
{
	(void)state;
	qmx_rng rng = { seed ^ 8 };
	for (int r = 0; r < 6; r++) {
		qmx_gemm_params p;
		qmx_problem pb;
		qmx_gemm_params_init(&p, qmx_rng_range(&rng, 1, 40), qmx_rng_range(&rng, 1, 40),
				     qmx_rng_range(&rng, 1, 200));
		p.ldc = p.n + r;
		qmx_problem_random_quant(&p, &rng);
		assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM), 0);
		qmx_gemm_host_operands ops;
		qmx_problem_operands(&pb, &ops, false);
		qmx_job_stats st;
		if (qmx_gemm(dev, &p, &ops, &st))
			fail_msg("qmx_gemm: %s", qmx_last_error());
		assert_int_equal(st.macs, (uint64_t)(p.m * p.n * p.k));
		assert_int_equal(qmx_problem_compute_reference(&pb), 0);
		char msg[160];
		if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
			fail_msg("%s", msg);
		qmx_problem_free(&pb);
	}
}

/* Descriptors that name memory outside their buffers are refused, with the
 * field in the message, before anything reaches the device. */
static void test_bad_descriptors(void **state)
{
	(void)state;
	qmx_buffer *a, *b, *c;
	assert_int_equal(qmx_buffer_new(dev, 64, 0, &a), 0);
	assert_int_equal(qmx_buffer_new(dev, 64, 0, &b), 0);
	assert_int_equal(qmx_buffer_new(dev, 256, 0, &c), 0);
	qmx_gemm_desc d = { .a = { a, 0 }, .b = { b, 0 }, .c = { c, 0 } };
	qmx_gemm_params_init(&d.params, 8, 8, 8);
	qmx_job *job = (qmx_job *)&d; /* must be reset to NULL on failure */

	d.a.offset = 1; /* 64 bytes from offset 1 overruns a */
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
	assert_null(job);
	assert_non_null(strstr(qmx_last_error(), "a.offset (1)"));
	d.a.offset = 0;

	d.params.ldc = 9; /* int32 C needs (7 * 9 + 8) * 4 = 284 > 256 bytes */
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "c.offset (0) + extent (284)"));
	d.params.ldc = 8;

	/* int32 operands at offsets that are not a multiple of 4 are refused
	 * by every backend (docs/semantics.md); int8 C may sit anywhere. */
	qmx_buffer *big;
	assert_int_equal(qmx_buffer_new(dev, 1024, 0, &big), 0);
	d.c = (qmx_ref){ big, 1 }; /* fits: only the alignment is wrong */
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(),
			       "c.offset (1) is not a multiple of 4 (int32 alignment)"));
	d.params.out_type = QMX_OUT_INT8;
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), 0);
	assert_int_equal(qmx_job_wait(job, 600LL * 1000000000LL), 0);
	qmx_job_del(job);
	job = (qmx_job *)&d;
	d.params.out_type = QMX_OUT_INT32;
	d.c = (qmx_ref){ c, 0 };
	d.params.has_bias = 1, d.bias = (qmx_ref){ big, 3 };
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(),
			       "bias.offset (3) is not a multiple of 4 (int32 alignment)"));
	d.params.has_bias = 0, d.bias = (qmx_ref){ NULL, 0 };
	d.params.out_type = QMX_OUT_INT8, d.params.quant_mode = QMX_QUANT_PER_CHANNEL;
	d.multipliers = (qmx_ref){ b, 2 }, d.shifts = (qmx_ref){ a, 32 };
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(),
			       "multipliers.offset (2) is not a multiple of 4 (int32 alignment)"));
	d.multipliers.offset = 32, d.shifts.offset = 5;
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(),
			       "shifts.offset (5) is not a multiple of 4 (int32 alignment)"));
	d.multipliers = d.shifts = (qmx_ref){ NULL, 0 };
	d.params.out_type = QMX_OUT_INT32, d.params.quant_mode = QMX_QUANT_PER_TENSOR;
	qmx_buffer_del(big);

	d.b.buffer = NULL;
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "b.buffer is NULL"));
	d.b.buffer = b;

	d.params.has_bias = 1; /* bias missing */
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "bias.buffer is NULL"));
	d.params.has_bias = 0;

	d.params.out_type = QMX_OUT_INT8;
	d.params.quant_mode = QMX_QUANT_PER_CHANNEL; /* arrays missing */
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "multipliers.buffer is NULL"));
	d.params.quant_mode = QMX_QUANT_PER_TENSOR;

	d.c.buffer = a; /* C on top of A */
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "c overlaps a"));
	d.c.buffer = c;

	d.params.k = 0;
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "k (0) must be > 0"));
	d.params.k = 8;

	/* Beyond the device's largest dimension (accelerators have one). */
	if (info.max_dim < INT32_MAX) {
		char want[96];
		d.params.lda = (int64_t)info.max_dim + 1;
		snprintf(want, sizeof(want), "lda (%llu) > device max_dim (%llu)",
			 (unsigned long long)info.max_dim + 1, (unsigned long long)info.max_dim);
		assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
		assert_non_null(strstr(qmx_last_error(), want));
		d.params.lda = 8;
	}

	/* A buffer of another device. */
	qmx_device *other;
	qmx_buffer *foreign;
	assert_int_equal(qmx_device_open("cpu-ref", &other), 0);
	assert_int_equal(qmx_buffer_new(other, 64, 0, &foreign), 0);
	qmx_gemm_params_init(&d.params, 8, 8, 8);
	d.a.buffer = foreign;
	assert_int_equal(qmx_gemm_submit(dev, &d, &job), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "a.buffer belongs to another device"));
	qmx_buffer_del(foreign);
	qmx_device_del(other);

	qmx_buffer_del(a);
	qmx_buffer_del(b);
	qmx_buffer_del(c);
}

static void test_device_info(void **state)
{
	(void)state;
	assert_true(info.max_dim >= 4096);
	assert_true(info.features & QMX_FEATURE_INT8_OUT);
	assert_true(info.features & QMX_FEATURE_INT32_OUT);
	assert_true(info.name[0] != '\0');
	size_t n = 0;
	assert_int_equal(qmx_device_list(NULL, 0, &n), 0);
	assert_true(n >= 1);
}

/* ---------------------------------------------------------------- batches */

/* A device buffer holding `len` bytes of `src` (zeros when NULL). */
static qmx_buffer *dev_buffer(qmx_device *d, const void *src, size_t len)
{
	qmx_buffer *b;
	void *host;
	assert_int_equal(qmx_buffer_new(d, len, 0, &b), 0);
	assert_int_equal(qmx_buffer_map(b, &host), 0);
	if (src)
		memcpy(host, src, len);
	else
		memset(host, 0, len);
	assert_int_equal(qmx_buffer_sync(b, QMX_SYNC_TO_DEVICE, 0, len), 0);
	return b;
}

/* Device buffer contents back on the host. */
static void dev_read(qmx_buffer *b, void *dst, size_t len)
{
	void *host;
	assert_int_equal(qmx_buffer_sync(b, QMX_SYNC_FROM_DEVICE, 0, len), 0);
	assert_int_equal(qmx_buffer_map(b, &host), 0);
	memcpy(dst, host, len);
}

enum { CHAIN_LAYERS = 4 };

/* An MLP forward as one batch: layer l's int8 output (requantized, with bias,
 * per-channel where the device has it) is layer l + 1's A, each entry waiting
 * for the one before, and one independent int32 GEMM in between.  Every
 * activation bit-exact against the reference run layer by layer on the host;
 * then the input changes and the same batch runs again. */
static void test_batch_chain(void **state)
{
	(void)state;
	if (!(info.features & QMX_FEATURE_INT8_OUT)) {
		print_message("  %s has no int8 output: no layer chain\n", device_uri);
		skip();
	}
	qmx_rng rng = { seed ^ 11 };
	const int64_t m = quick ? 8 : 32;
	const int64_t dims[CHAIN_LAYERS + 1] = { 40, 33, 17, 24, 10 };
	bool pc = (info.features & QMX_FEATURE_PER_CHANNEL) != 0;
	qmx_gemm_params p[CHAIN_LAYERS];
	int8_t *act[CHAIN_LAYERS + 1], *w[CHAIN_LAYERS];
	int32_t *bias[CHAIN_LAYERS], *mult[CHAIN_LAYERS], *shift[CHAIN_LAYERS];
	qmx_buffer *bact[CHAIN_LAYERS + 1], *bw[CHAIN_LAYERS], *bbias[CHAIN_LAYERS];
	qmx_buffer *bmult[CHAIN_LAYERS], *bshift[CHAIN_LAYERS];
	qmx_batch *batch;
	uint32_t idx[CHAIN_LAYERS];

	for (int l = 0; l <= CHAIN_LAYERS; l++) {
		act[l] = malloc((size_t)(m * dims[l]));
		assert_non_null(act[l]);
	}
	for (int64_t i = 0; i < m * dims[0]; i++)
		act[0][i] = (int8_t)qmx_rng_range(&rng, -128, 127);
	bact[0] = dev_buffer(dev, act[0], (size_t)(m * dims[0]));
	assert_int_equal(qmx_batch_create(dev, &batch), 0);
	/* The independent GEMM, and its reference. */
	qmx_gemm_params ip;
	qmx_problem ipb;
	qmx_gemm_params_init(&ip, 9, 13, 21);
	assert_int_equal(qmx_problem_init(&ipb, &ip, &rng, QMX_FILL_RANDOM), 0);
	qmx_buffer *ia = dev_buffer(dev, ipb.a, 9 * 21), *ib = dev_buffer(dev, ipb.b, 21 * 13);
	qmx_buffer *ic = dev_buffer(dev, NULL, ipb.c_bytes);
	for (int l = 0; l < CHAIN_LAYERS; l++) {
		int64_t k = dims[l], n = dims[l + 1];
		qmx_gemm_params_init(&p[l], m, n, k);
		p[l].out_type = QMX_OUT_INT8;
		p[l].has_bias = 1;
		p[l].a_zero_point = (int32_t)qmx_rng_range(&rng, -20, 20);
		p[l].c_zero_point = (int32_t)qmx_rng_range(&rng, -20, 20);
		qmx_quantize_multiplier(1.0 / (40.0 * (double)k), &p[l].multiplier, &p[l].shift);
		p[l].quant_mode = pc && (l & 1) ? QMX_QUANT_PER_CHANNEL : QMX_QUANT_PER_TENSOR;
		w[l] = malloc((size_t)(k * n));
		bias[l] = malloc((size_t)n * 4);
		mult[l] = malloc((size_t)n * 4);
		shift[l] = malloc((size_t)n * 4);
		assert_true(w[l] && bias[l] && mult[l] && shift[l]);
		for (int64_t i = 0; i < k * n; i++)
			w[l][i] = (int8_t)qmx_rng_range(&rng, -128, 127);
		for (int64_t j = 0; j < n; j++) {
			bias[l][j] = (int32_t)qmx_rng_range(&rng, -3000, 3000);
			qmx_quantize_multiplier((double)qmx_rng_range(&rng, 1, 40) / (400.0 * (double)k),
						&mult[l][j], &shift[l][j]);
		}
		bw[l] = dev_buffer(dev, w[l], (size_t)(k * n));
		bbias[l] = dev_buffer(dev, bias[l], (size_t)n * 4);
		bmult[l] = dev_buffer(dev, mult[l], (size_t)n * 4);
		bshift[l] = dev_buffer(dev, shift[l], (size_t)n * 4);
		bact[l + 1] = dev_buffer(dev, NULL, (size_t)(m * n));
		qmx_gemm_desc d = { .params = p[l], .a = { bact[l], 0 }, .b = { bw[l], 0 },
				    .c = { bact[l + 1], 0 }, .bias = { bbias[l], 0 } };
		if (p[l].quant_mode == QMX_QUANT_PER_CHANNEL) {
			d.multipliers.buffer = bmult[l];
			d.shifts.buffer = bshift[l];
		}
		assert_int_equal(qmx_batch_add_gemm(batch, &d, l ? (int32_t)idx[l - 1] : -1, &idx[l]),
				 0);
		if (l == 1) {
			qmx_gemm_desc id = { .params = ip, .a = { ia, 0 }, .b = { ib, 0 },
					     .c = { ic, 0 } };
			uint32_t at;
			assert_int_equal(qmx_batch_add_gemm(batch, &id, -1, &at), 0);
			assert_int_equal(at, 2);
		}
	}
	assert_int_equal(qmx_batch_size(batch), CHAIN_LAYERS + 1);
	for (int run = 0; run < 2; run++) {
		if (run) { /* a new input, the same batch */
			void *host;
			for (int64_t i = 0; i < m * dims[0]; i++)
				act[0][i] = (int8_t)qmx_rng_range(&rng, -128, 127);
			assert_int_equal(qmx_buffer_map(bact[0], &host), 0);
			memcpy(host, act[0], (size_t)(m * dims[0]));
			assert_int_equal(qmx_buffer_sync(bact[0], QMX_SYNC_TO_DEVICE, 0,
							 (size_t)(m * dims[0])), 0);
		}
		assert_int_equal(qmx_batch_submit(batch), 0);
		assert_int_equal(qmx_batch_submit(batch), QMX_EBUSY);
		int err = qmx_batch_wait(batch, 600LL * 1000);
		if (err)
			fail_msg("batch run %d: %s", run, qmx_last_error());
		for (int l = 0; l < CHAIN_LAYERS; l++) {
			int8_t *got = malloc((size_t)(m * dims[l + 1]));
			qmx_gemm_host_operands ops = { act[l], w[l], bias[l], mult[l], shift[l],
						       act[l + 1] };
			assert_int_equal(qmx_gemm_reference(&p[l], &ops), 0);
			dev_read(bact[l + 1], got, (size_t)(m * dims[l + 1]));
			for (int64_t i = 0; i < m * dims[l + 1]; i++)
				if (got[i] != act[l + 1][i])
					fail_msg("run %d layer %d element %lld: %d, reference %d (seed %llu)",
						 run, l, (long long)i, got[i], act[l + 1][i],
						 (unsigned long long)seed);
			free(got);
			int st = -1;
			qmx_job_stats js;
			assert_int_equal(qmx_batch_entry_status(batch, idx[l], &st, &js), 0);
			assert_int_equal(st, 0);
			assert_int_equal(js.macs, (uint64_t)(m * dims[l] * dims[l + 1]));
			assert_string_equal(qmx_batch_entry_message(batch, idx[l]), "");
		}
		dev_read(ic, ipb.c, ipb.c_bytes);
		assert_int_equal(qmx_problem_compute_reference(&ipb), 0);
		char msg[160];
		if (!qmx_problem_matches(&ipb, msg, sizeof(msg)))
			fail_msg("independent entry: %s", msg);
	}
	qmx_batch_destroy(batch);
	for (int l = 0; l < CHAIN_LAYERS; l++) {
		qmx_buffer_del(bw[l]);
		qmx_buffer_del(bbias[l]);
		qmx_buffer_del(bmult[l]);
		qmx_buffer_del(bshift[l]);
		qmx_buffer_del(bact[l + 1]);
		free(w[l]);
		free(bias[l]);
		free(mult[l]);
		free(shift[l]);
	}
	for (int l = 0; l <= CHAIN_LAYERS; l++)
		free(act[l]);
	qmx_buffer_del(bact[0]);
	qmx_buffer_del(ia);
	qmx_buffer_del(ib);
	qmx_buffer_del(ic);
	qmx_problem_free(&ipb);
}

/* A failing entry in the middle of a batch: on a simulated device with a
 * per-job cycle watchdog, entry 1 is too long for 4000 cycles on any array
 * built (16K MAC steps on 32x32) and fails (the device is
 * reset).  Entry 0 before it completes, entry 2 (waiting for 1) and entry 4
 * (waiting for 2) are not run and name the entry they wait for, entry 3
 * (independent) runs; all results that ran are bit-exact.  Devices with no
 * run-time failure to provoke skip it. */
static void test_batch_failing_entry(void **state)
{
	(void)state;
	if (strcmp(info.backend, "sim")) { /* a group of sims takes no maxcycles= */
		print_message("  %s: no run-time failure to provoke here\n", device_uri);
		skip();
	}
	char uri[200];
	const char *arg = strchr(device_uri, ':');
	snprintf(uri, sizeof(uri), "%s%smaxcycles=4000", device_uri, arg ? "," : ":");
	qmx_device *d;
	if (qmx_device_open(uri, &d))
		fail_msg("open %s: %s", uri, qmx_last_error());
	qmx_rng rng = { seed ^ 12 };
	const int64_t shapes[5][3] = { { 8, 8, 16 }, { 128, 128, 1024 }, { 8, 8, 8 },
				       { 7, 9, 11 }, { 8, 8, 8 } };
	const int32_t wait_for[5] = { -1, -1, 1, -1, 2 };
	qmx_problem pb[5];
	qmx_buffer *bufs[5][3];
	qmx_batch *batch;
	assert_int_equal(qmx_batch_create(d, &batch), 0);
	for (int e = 0; e < 5; e++) {
		qmx_gemm_params p;
		qmx_gemm_params_init(&p, shapes[e][0], shapes[e][1], shapes[e][2]);
		assert_int_equal(qmx_problem_init(&pb[e], &p, &rng, QMX_FILL_RANDOM), 0);
		bufs[e][0] = dev_buffer(d, pb[e].a, (size_t)(p.m * p.k));
		bufs[e][1] = dev_buffer(d, pb[e].b, (size_t)(p.k * p.n));
		bufs[e][2] = dev_buffer(d, NULL, pb[e].c_bytes);
		qmx_gemm_desc desc = { .params = p, .a = { bufs[e][0], 0 }, .b = { bufs[e][1], 0 },
				       .c = { bufs[e][2], 0 } };
		assert_int_equal(qmx_batch_add_gemm(batch, &desc, wait_for[e], NULL), 0);
	}
	assert_int_equal(qmx_batch_submit(batch), 0);
	int err = qmx_batch_wait(batch, 600LL * 1000);
	assert_int_equal(err, QMX_EIO);
	const char *why = qmx_last_error();
	print_message("  %s\n", why);
	assert_non_null(strstr(why, "entry 1 of 5"));
	assert_non_null(strstr(why, "watchdog"));
	assert_non_null(strstr(why, "1 failed, 2 not run"));
	const int expect[5] = { 0, QMX_EIO, QMX_EDEPENDENCY, 0, QMX_EDEPENDENCY };
	for (int e = 0; e < 5; e++) {
		int st = 1;
		assert_int_equal(qmx_batch_entry_status(batch, (uint32_t)e, &st, NULL), 0);
		assert_int_equal(st, expect[e]);
		const char *msg = qmx_batch_entry_message(batch, (uint32_t)e);
		if (st == QMX_EDEPENDENCY) {
			char want[64];
			snprintf(want, sizeof(want), "entry %d it waits for failed", wait_for[e]);
			assert_non_null(strstr(msg, want));
		}
		if (st)
			continue;
		dev_read(bufs[e][2], pb[e].c, pb[e].c_bytes);
		assert_int_equal(qmx_problem_compute_reference(&pb[e]), 0);
		char m[160];
		if (!qmx_problem_matches(&pb[e], m, sizeof(m)))
			fail_msg("entry %d: %s", e, m);
	}
	qmx_batch_destroy(batch);
	for (int e = 0; e < 5; e++) {
		for (int i = 0; i < 3; i++)
			qmx_buffer_del(bufs[e][i]);
		qmx_problem_free(&pb[e]);
	}
	qmx_device_del(d);
}

/* Bad batches, each refused naming the field and the limit. */
static void test_batch_bad_inputs(void **state)
{
	(void)state;
	qmx_batch *batch;
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, 4, 4, 4);
	qmx_buffer *a = dev_buffer(dev, NULL, 16), *b = dev_buffer(dev, NULL, 16);
	qmx_buffer *c = dev_buffer(dev, NULL, 64);
	qmx_gemm_desc d = { .params = p, .a = { a, 0 }, .b = { b, 0 }, .c = { c, 0 } };
	int st;

	assert_int_equal(qmx_batch_create(NULL, &batch), QMX_EINVAL);
	assert_int_equal(qmx_batch_create(dev, NULL), QMX_EINVAL);
	assert_int_equal(qmx_batch_create(dev, &batch), 0);
	assert_int_equal(qmx_batch_submit(batch), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "empty"));
	assert_int_equal(qmx_batch_wait(batch, 0), QMX_EINVAL);
	assert_int_equal(qmx_batch_add_gemm(batch, &d, 0, NULL), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "wait_for (0)"));
	assert_int_equal(qmx_batch_add_gemm(batch, NULL, -1, NULL), QMX_EINVAL);
	assert_int_equal(qmx_batch_add_gemm(batch, &d, -1, NULL), 0);
	assert_int_equal(qmx_batch_add_gemm(batch, &d, 1, NULL), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "wait_for (1) must name an earlier entry (0..0)"));
	assert_int_equal(qmx_batch_add_gemm(batch, &d, -2, NULL), QMX_EINVAL);
	qmx_gemm_desc bad = d;
	bad.params.lda = 3;
	assert_int_equal(qmx_batch_add_gemm(batch, &bad, -1, NULL), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "lda (3)"));
	bad = d;
	bad.c.offset = 8;
	assert_int_equal(qmx_batch_add_gemm(batch, &bad, -1, NULL), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "c.offset (8) + extent (64) > buffer size (64)"));
	bad = d;
	bad.c = bad.a;
	assert_int_equal(qmx_batch_add_gemm(batch, &bad, -1, NULL), QMX_EINVAL);
	/* A buffer of another device. */
	qmx_device *other;
	assert_int_equal(qmx_device_open("cpu-ref", &other), 0);
	qmx_buffer *oc = dev_buffer(other, NULL, 64);
	bad = d;
	bad.c.buffer = oc;
	assert_int_equal(qmx_batch_add_gemm(batch, &bad, -1, NULL), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "c.buffer belongs to another device"));
	assert_int_equal(qmx_batch_size(batch), 1);
	assert_int_equal(qmx_batch_entry_status(batch, 0, &st, NULL), QMX_EBUSY);
	assert_int_equal(qmx_batch_entry_status(batch, 1, &st, NULL), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "index (1) >= entries in the batch (1)"));
	assert_int_equal(qmx_batch_submit(batch), 0);
	/* In flight until waited for. */
	assert_int_equal(qmx_batch_add_gemm(batch, &d, -1, NULL), QMX_EBUSY);
	assert_int_equal(qmx_batch_wait(batch, 600LL * 1000), 0);
	assert_int_equal(qmx_batch_entry_status(batch, 0, &st, NULL), 0);
	assert_int_equal(st, 0);
	assert_int_equal(qmx_batch_entry_status(batch, 0, NULL, NULL), QMX_EINVAL);
	qmx_batch_destroy(batch);
	/* Per-channel values changed to bad ones after the add: the submit
	 * refuses the batch, naming the entry, and nothing runs. */
	if ((info.features & QMX_FEATURE_PER_CHANNEL) && (info.features & QMX_FEATURE_INT8_OUT)) {
		int32_t ones[4] = { 1 << 30, 1 << 30, 1 << 30, 1 << 30 }, zeros[4] = { 0 };
		qmx_buffer *bm = dev_buffer(dev, ones, 16), *bs = dev_buffer(dev, zeros, 16);
		qmx_gemm_desc q = d;
		void *host;
		q.params.out_type = QMX_OUT_INT8;
		q.params.quant_mode = QMX_QUANT_PER_CHANNEL;
		q.multipliers.buffer = bm;
		q.shifts.buffer = bs;
		assert_int_equal(qmx_batch_create(dev, &batch), 0);
		assert_int_equal(qmx_batch_add_gemm(batch, &d, -1, NULL), 0);
		assert_int_equal(qmx_batch_add_gemm(batch, &q, 0, NULL), 0);
		assert_int_equal(qmx_buffer_map(bm, &host), 0);
		{
			((int32_t *)host)[2] = -5;
			assert_int_equal(qmx_batch_submit(batch), QMX_EINVAL);
			print_message("  %s\n", qmx_last_error());
			assert_non_null(strstr(qmx_last_error(), "qmx_batch_submit: entry 1"));
			assert_int_equal(qmx_batch_entry_status(batch, 0, &st, NULL), QMX_EBUSY);
		}
		qmx_batch_destroy(batch);
		qmx_buffer_del(bm);
		qmx_buffer_del(bs);
	}
	qmx_batch_destroy(NULL);
	qmx_buffer_del(oc);
	qmx_device_del(other);
	qmx_buffer_del(a);
	qmx_buffer_del(b);
	qmx_buffer_del(c);
}

/* A zero timeout returns at once (done or QMX_ETIMEDOUT); waiting again ends it. */
static void test_batch_wait_timeout(void **state)
{
	(void)state;
	qmx_rng rng = { seed ^ 13 };
	qmx_problem pb;
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, 32, 32, quick ? 128 : 512);
	assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM), 0);
	qmx_buffer *a = dev_buffer(dev, pb.a, (size_t)(p.m * p.k));
	qmx_buffer *b = dev_buffer(dev, pb.b, (size_t)(p.k * p.n));
	qmx_buffer *c = dev_buffer(dev, NULL, pb.c_bytes);
	qmx_gemm_desc d = { .params = p, .a = { a, 0 }, .b = { b, 0 }, .c = { c, 0 } };
	qmx_batch *batch;
	assert_int_equal(qmx_batch_create(dev, &batch), 0);
	assert_int_equal(qmx_batch_add_gemm(batch, &d, -1, NULL), 0);
	assert_int_equal(qmx_batch_add_gemm(batch, &d, 0, NULL), 0);
	assert_int_equal(qmx_batch_submit(batch), 0);
	int err = qmx_batch_wait(batch, 0);
	assert_true(err == 0 || err == QMX_ETIMEDOUT);
	assert_int_equal(qmx_batch_wait(batch, 600LL * 1000), 0);
	/* Entries added after a run: the batch runs again, longer. */
	uint32_t at;
	assert_int_equal(qmx_batch_add_gemm(batch, &d, 1, &at), 0);
	assert_int_equal(at, 2);
	assert_int_equal(qmx_batch_submit(batch), 0);
	assert_int_equal(qmx_batch_wait(batch, 600LL * 1000), 0);
	int st = 1;
	assert_int_equal(qmx_batch_entry_status(batch, 2, &st, NULL), 0);
	assert_int_equal(st, 0);
	dev_read(c, pb.c, pb.c_bytes);
	assert_int_equal(qmx_problem_compute_reference(&pb), 0);
	char msg[160];
	if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
		fail_msg("%s", msg);
	qmx_batch_destroy(batch);
	qmx_buffer_del(a);
	qmx_buffer_del(b);
	qmx_buffer_del(c);
	qmx_problem_free(&pb);
}

static int setup(void **state)
{
	(void)state;
	if (qmx_device_open(device_uri, &dev)) {
		fprintf(stderr, "cannot open %s: %s\n", device_uri, qmx_last_error());
		return -1;
	}
	qmx_device_query(dev, &info);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	qmx_device_del(dev);
	return 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--device") && i + 1 < argc) {
			device_uri = argv[++i];
		} else if (!strcmp(argv[i], "--quick")) {
			quick = true;
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--skip-unsupported")) {
			skip_unsupported = true;
		} else {
			fprintf(stderr, "usage: %s [--device URI] [--quick] [--seed S] [--skip-unsupported]\n",
				argv[0]);
			return 2;
		}
	}
	if (skip_unsupported) {
		qmx_device *probe;
		int err = qmx_device_open(device_uri, &probe);
		if (err == QMX_ENOTSUP) {
			printf("qmx conformance: %s skipped on this machine: %s\n", device_uri,
			       qmx_last_error());
			return 77;
		}
		qmx_device_del(probe);
	}
	seed = qmx_util_seed(seed);
	printf("qmx conformance: device %s, seed %llu%s (QMX_TEST_SEED overrides)\n",
	       device_uri, (unsigned long long)seed, quick ? ", quick" : "");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_info),
		cmocka_unit_test(test_identity_int32),
		cmocka_unit_test(test_int32_ignores_quant_fields),
		cmocka_unit_test(test_small_shapes),
		cmocka_unit_test(test_medium_shapes),
		cmocka_unit_test(test_long_k),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_wrapping_accumulator),
		cmocka_unit_test(test_async_jobs),
		cmocka_unit_test(test_wait_timeout),
		cmocka_unit_test(test_sync_gemm),
		cmocka_unit_test(test_bad_descriptors),
		cmocka_unit_test(test_batch_chain),
		cmocka_unit_test(test_batch_failing_entry),
		cmocka_unit_test(test_batch_bad_inputs),
		cmocka_unit_test(test_batch_wait_timeout),
	};
	return cmocka_run_group_tests_name(device_uri, tests, setup, teardown);
}
