/* SPDX-License-Identifier: MIT */
/*
 * test_fpga_gemm.c - bit-exact check of one device against
 * qmx_gemm_reference(): random shapes and quantization (qmx_util), ragged
 * edges around the tile sizes, strided operands, extreme requantization, and
 * the submit path with every int8 operand at an (odd) offset inside one
 * shared buffer (int32 ones at the next multiple of 4).  Independent of the conformance suite so the fpga backends have a
 * test of their own.
 *
 *   test_fpga_gemm --device URI [--cases N] [--seed S] [--max-dim D]
 *                  [--expect-power-w W] [--expect-job-error QMX_E...]
 *
 * --expect-job-error: only run one job, which must fail with that error
 * (the device injects a fault).
 * --expect-power-w: the device must have a power sensor reading W watts (a
 * stand-in sysfs folder in the tests), and a job's energy must be measured
 * from it: energy / wall time within [W / 2, W].
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmx_util.h"

#define WAIT_NS (INT64_C(300) * 1000000000) /* bounded: 5 minutes */

static int failures;

static void fail(const char *what, const qmx_gemm_params *p, const char *detail)
{
	failures++;
	fprintf(stderr,
		"FAIL %s: m=%lld n=%lld k=%lld lda=%lld ldb=%lld ldc=%lld out=%s %s bias=%d za=%d zb=%d zc=%d mult=%d shift=%d clamp=[%d,%d]: %s\n",
		what, (long long)p->m, (long long)p->n, (long long)p->k, (long long)p->lda,
		(long long)p->ldb, (long long)p->ldc, p->out_type == QMX_OUT_INT8 ? "int8" : "int32",
		p->quant_mode == QMX_QUANT_PER_CHANNEL ? "per-channel" : "per-tensor", p->has_bias,
		p->a_zero_point, p->b_zero_point, p->c_zero_point, p->multiplier, p->shift,
		p->qmin, p->qmax, detail);
}

/* qmx_gemm() on host pointers. */
static void check_host(qmx_device *dev, qmx_problem *pb, const char *what)
{
	qmx_gemm_host_operands ops;
	qmx_job_stats st;
	char msg[256];

	if (qmx_problem_compute_reference(pb)) {
		fail(what, &pb->p, qmx_last_error());
		return;
	}
	qmx_problem_operands(pb, &ops, false);
	int err = qmx_gemm(dev, &pb->p, &ops, &st);
	if (err) {
		snprintf(msg, sizeof(msg), "qmx_gemm: %s: %s", qmx_error_name(err), qmx_last_error());
		fail(what, &pb->p, msg);
	} else if (!qmx_problem_matches(pb, msg, sizeof(msg))) {
		fail(what, &pb->p, msg);
	}
}

/* Every operand in one device buffer, at offsets chosen to be awkward. */
static void check_submit(qmx_device *dev, qmx_problem *pb, uint64_t skew)
{
	struct {
		const void *src;
		uint64_t len, off;
	} part[6];
	qmx_gemm_host_operands ops;
	qmx_buffer *buf = NULL;
	qmx_job *job = NULL;
	void *host;
	char msg[256];
	const qmx_gemm_params *p = &pb->p;
	uint64_t elem = p->out_type == QMX_OUT_INT8 ? 1 : 4;
	bool pc = p->out_type == QMX_OUT_INT8 && p->quant_mode == QMX_QUANT_PER_CHANNEL;

	if (qmx_problem_compute_reference(pb)) {
		fail("submit", p, qmx_last_error());
		return;
	}
	qmx_problem_operands(pb, &ops, false);
	part[0].src = ops.a;
	part[0].len = (uint64_t)((p->m - 1) * p->lda + p->k);
	part[1].src = ops.b;
	part[1].len = (uint64_t)((p->k - 1) * p->ldb + p->n);
	part[2].src = ops.c;
	part[2].len = (uint64_t)((p->m - 1) * p->ldc + p->n) * elem;
	part[3].src = ops.bias;
	part[3].len = p->has_bias ? (uint64_t)p->n * 4 : 0;
	part[4].src = ops.multipliers;
	part[4].len = pc ? (uint64_t)p->n * 4 : 0;
	part[5].src = ops.shifts;
	part[5].len = pc ? (uint64_t)p->n * 4 : 0;
	uint64_t at = skew; /* e.g. 1: every int8 operand misaligned */
	for (int i = 0; i < 6; i++) {
		/* int32 data must start at a multiple of 4 (docs/semantics.md). */
		if (i >= 3 || (i == 2 && elem == 4))
			at = (at + 3) & ~(uint64_t)3;
		part[i].off = at;
		at += part[i].len + 64 + skew;
	}
	int err = qmx_buffer_new(dev, at, 0, &buf);
	if (!err)
		err = qmx_buffer_map(buf, &host);
	if (err) {
		fail("submit", p, qmx_last_error());
		qmx_buffer_del(buf);
		return;
	}
	for (int i = 0; i < 6; i++)
		if (part[i].len)
			memcpy((char *)host + part[i].off, part[i].src, part[i].len);
	qmx_gemm_desc d;
	memset(&d, 0, sizeof(d));
	d.params = *p;
	qmx_ref *refs[6] = { &d.a, &d.b, &d.c, &d.bias, &d.multipliers, &d.shifts };
	for (int i = 0; i < 6; i++)
		if (part[i].len)
			*refs[i] = (qmx_ref){ buf, part[i].off };
	if ((err = qmx_buffer_sync(buf, QMX_SYNC_TO_DEVICE, 0, at)) ||
	    (err = qmx_gemm_submit(dev, &d, &job)) || (err = qmx_job_wait(job, WAIT_NS)) ||
	    (err = qmx_buffer_sync(buf, QMX_SYNC_FROM_DEVICE, 0, at))) {
		snprintf(msg, sizeof(msg), "%s: %s", qmx_error_name(err), qmx_last_error());
		fail("submit", p, msg);
	} else {
		/* Copy the elements back into the problem's output and compare. */
		for (int64_t i = 0; i < p->m; i++)
			memcpy((char *)pb->c + (size_t)(i * p->ldc) * elem,
			       (char *)host + part[2].off + (size_t)(i * p->ldc) * elem,
			       (size_t)p->n * elem);
		if (!qmx_problem_matches(pb, msg, sizeof(msg)))
			fail("submit", p, msg);
	}
	qmx_job_del(job);
	qmx_buffer_del(buf);
}

/* One job that must fail with error `name` (a fault the device injects). */
static void check_job_error(qmx_device *dev, const char *name)
{
	qmx_rng rng = { 5 };
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_host_operands ops;

	qmx_gemm_params_init(&p, 8, 8, 8);
	if (qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM))
		return;
	qmx_problem_operands(&pb, &ops, false);
	int err = qmx_gemm(dev, &p, &ops, NULL);
	bool ok = err && !strcmp(qmx_error_name(err), name);
	printf("%s: job ended with %s: %s (expected %s)\n", ok ? "ok" : "FAIL",
	       qmx_error_name(err), qmx_last_error(), name);
	failures += !ok;
	qmx_problem_free(&pb);
}

static void check_power(qmx_device *dev, const qmx_device_info *info, double watts)
{
	qmx_rng rng = { 99 };
	qmx_gemm_params p;
	qmx_problem pb;
	qmx_gemm_host_operands ops;
	qmx_job_stats st;

	if (!(info->features & QMX_FEATURE_POWER_SENSOR)) {
		fprintf(stderr, "FAIL: %s reports no power sensor\n", info->uri);
		failures++;
		return;
	}
	qmx_gemm_params_init(&p, 32, 32, 64);
	if (qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM))
		return;
	qmx_problem_operands(&pb, &ops, false);
	if (qmx_gemm(dev, &p, &ops, &st)) {
		fprintf(stderr, "FAIL: power job: %s\n", qmx_last_error());
		failures++;
	} else {
		double w = st.wall_ns ? st.energy_j / (st.wall_ns * 1e-9) : 0;
		bool ok = st.energy_source == QMX_ENERGY_MEASURED && w >= watts / 2 &&
			  w <= watts * 1.0001;
		printf("%s: energy %s, %.3g J over %llu ns = %.4g W (sensor reads %.4g W)\n",
		       ok ? "ok" : "FAIL",
		       st.energy_source == QMX_ENERGY_MEASURED ? "measured" : "not measured",
		       st.energy_j, (unsigned long long)st.wall_ns, w, watts);
		failures += !ok;
	}
	qmx_problem_free(&pb);
}

int main(int argc, char **argv)
{
	const char *uri = NULL;
	int cases = 24;
	int64_t max_dim = 70;
	uint64_t seed = qmx_util_seed(20261127);
	double expect_power = 0;
	const char *expect_error = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--device") && i + 1 < argc)
			uri = argv[++i];
		else if (!strcmp(argv[i], "--cases") && i + 1 < argc)
			cases = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--max-dim") && i + 1 < argc)
			max_dim = atoll(argv[++i]);
		else if (!strcmp(argv[i], "--expect-job-error") && i + 1 < argc)
			expect_error = argv[++i];
		else if (!strcmp(argv[i], "--expect-power-w") && i + 1 < argc)
			expect_power = atof(argv[++i]);
		else {
			fprintf(stderr,
				"usage: %s --device URI [--cases N] [--seed S] [--max-dim D] [--expect-power-w W] [--expect-job-error QMX_E...]\n",
				argv[0]);
			return 2;
		}
	}
	printf("test_fpga_gemm: device %s, seed %" PRIu64 " (QMX_TEST_SEED=%" PRIu64
	       " repeats), %d cases\n",
	       uri ? uri : "(default)", seed, seed, cases);
	qmx_device *dev;
	int err = qmx_device_open(uri, &dev);
	if (err) {
		fprintf(stderr, "FAIL open %s: %s: %s\n", uri ? uri : "(default)",
			qmx_error_name(err), qmx_last_error());
		return 1;
	}
	qmx_device_info info;
	qmx_device_query(dev, &info);
	printf("device: %s (%s)\n", info.name, info.detail);
	if (expect_error) {
		check_job_error(dev, expect_error);
		qmx_device_del(dev);
		return failures ? 1 : 0;
	}
	if (expect_power)
		check_power(dev, &info, expect_power);

	qmx_rng rng = { seed };
	qmx_problem pb;
	qmx_gemm_params p;

	/* Ragged edges around the tile sizes (4, 8, 16), both output types. */
	static const int64_t edges[][3] = { { 1, 1, 1 },   { 1, 17, 3 },  { 17, 1, 33 },
					    { 15, 16, 17 }, { 16, 16, 16 }, { 33, 31, 7 } };
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		for (int out = 0; out < 2; out++) {
			qmx_gemm_params_init(&p, edges[i][0], edges[i][1], edges[i][2]);
			qmx_problem_random_quant(&p, &rng);
			p.out_type = out ? QMX_OUT_INT8 : QMX_OUT_INT32;
			if (!qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM)) {
				check_host(dev, &pb, "edge");
				qmx_problem_free(&pb);
			}
		}
	}
	/* Random shapes, strides and quantization. */
	for (int c = 0; c < cases; c++) {
		int64_t m = qmx_rng_range(&rng, 1, max_dim), n = qmx_rng_range(&rng, 1, max_dim);
		int64_t k = qmx_rng_range(&rng, 1, 3 * max_dim);
		qmx_gemm_params_init(&p, m, n, k);
		p.lda = k + qmx_rng_range(&rng, 0, 5);
		p.ldb = n + qmx_rng_range(&rng, 0, 5);
		p.ldc = n + qmx_rng_range(&rng, 0, 5);
		qmx_problem_random_quant(&p, &rng);
		enum qmx_fill fill = c % 5 == 4 ? QMX_FILL_EXTREME : QMX_FILL_RANDOM;
		if (qmx_problem_init(&pb, &p, &rng, fill))
			continue;
		if (c % 3 == 0)
			check_submit(dev, &pb, (uint64_t)(c % 2 ? 1 : 4));
		else
			check_host(dev, &pb, "random");
		qmx_problem_free(&pb);
	}
	/* Requantization extremes: saturating left shift, the INT32_MIN corner
	 * of SRDHM, the largest right shift, zero and maximal multipliers. */
	static const int32_t mults[] = { 0, 1, INT32_C(1) << 30, INT32_MAX, 1319413953 };
	static const int32_t shifts[] = { 30, -31, 0, 1, -11 };
	for (int s = 0; s < 2; s++) {
		qmx_gemm_params_init(&p, 7, 10, 600);
		p.out_type = QMX_OUT_INT8;
		p.quant_mode = QMX_QUANT_PER_CHANNEL;
		p.has_bias = 1;
		p.a_zero_point = s ? 127 : -128;
		p.c_zero_point = s ? -3 : 5;
		if (qmx_problem_init(&pb, &p, &rng, s ? QMX_FILL_MIN : QMX_FILL_EXTREME))
			continue;
		for (int64_t j = 0; j < p.n; j++) {
			pb.multipliers[j] = mults[(j + s) % 5];
			pb.shifts[j] = shifts[j % 5];
			pb.bias[j] = j % 2 ? INT32_MAX : INT32_MIN; /* bias wraps */
		}
		check_host(dev, &pb, "extreme");
		check_submit(dev, &pb, 3);
		qmx_problem_free(&pb);
	}
	qmx_device_del(dev);
	if (failures) {
		printf("test_fpga_gemm: %d FAILED (seed %" PRIu64 ")\n", failures, seed);
		return 1;
	}
	printf("test_fpga_gemm: all bit-exact\n");
	return 0;
}
