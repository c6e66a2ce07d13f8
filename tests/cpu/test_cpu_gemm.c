/* SPDX-License-Identifier: MIT */
/*
 * test_cpu_gemm.c - the fast CPU GEMM (every kernel, 1 and 2 threads) against
 * qmx_gemm_reference(), bit for bit, on random and extreme problems.
 *
 *   test_cpu_gemm [--small]    --small: fewer, smaller cases (for valgrind)
 *
 * Seeded: the seed is printed; QMX_TEST_SEED overrides it.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu_kernels.h"
#include "qmx_backend.h"
#include "qmx_quant.h"
#include "qmx_util.h"

static uint64_t g_seed;
static bool g_small;
static const char *g_isas[3];
static int g_nisas;

/* Dimensions around every tile edge: MR 6 and 8, NR 16 and 48, row blocks
 * of up to 144, column blocks of 480 and 512, K blocks of 512. */
static const int64_t g_dims[] = { 1,  2,  3,  5,  6,  7,   8,   9,   11,  15,  16,  17,
				  31, 32, 33, 47, 48, 49,  63,  95,  96,  97,  101, 143,
				  145, 191, 193, 257, 479, 481, 515, 531 };
static const int64_t g_ks[] = { 1, 2, 3, 7, 17, 64, 255, 511, 512, 513, 1023, 1031, 4096 };

static void set_isa(const char *isa)
{
	if (setenv("QMX_CPU_ISA", isa, 1))
		fail_msg("setenv failed");
}

/* Run `p` filled per `fill` on `isa` with `threads`; fail with the case. */
static void check_case(const qmx_gemm_params *p, enum qmx_fill fill, const char *isa,
		       unsigned threads, qmx_rng *rng, const char *what)
{
	qmx_problem pb;
	qmx_gemm_host_operands ops;
	char msg[256];

	assert_int_equal(qmx_gemm_params_check(p), 0);
	assert_int_equal(qmx_problem_init(&pb, p, rng, fill), 0);
	assert_int_equal(qmx_problem_compute_reference(&pb), 0);
	qmx_problem_operands(&pb, &ops, false);
	set_isa(isa);
	struct qmx_cpu_run run = { .threads = threads };
	int err = qmx_cpu_gemm_fast(&pb.p, &ops, NULL, &run);
	if (err)
		fail_msg("%s: qmx_cpu_gemm_fast: %s (%s)", what, qmx_error_name(err),
			 qmx_last_error());
	assert_string_equal(run.isa, isa);
	assert_true(run.threads >= 1 && run.threads <= (threads ? threads : 1024));
	if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
		fail_msg("%s [isa %s, %u threads, M=%lld N=%lld K=%lld lda=%lld ldb=%lld ldc=%lld "
			 "za=%d zb=%d out=%s pc=%d bias=%d fill=%d, seed %llu]: %s",
			 what, isa, threads, (long long)p->m, (long long)p->n, (long long)p->k,
			 (long long)p->lda, (long long)p->ldb, (long long)p->ldc,
			 p->a_zero_point, p->b_zero_point,
			 p->out_type == QMX_OUT_INT8 ? "int8" : "int32", p->quant_mode,
			 p->has_bias, (int)fill, (unsigned long long)g_seed, msg);
	qmx_problem_free(&pb);
}

static int64_t pick(qmx_rng *rng, const int64_t *v, size_t n)
{
	return v[qmx_rng_next(rng) % n];
}

static void test_random_shapes(void **state)
{
	(void)state;
	qmx_rng rng = { g_seed };
	int cases = g_small ? 12 : 300;
	uint64_t budget = g_small ? 200000 : 12000000; /* MACs per case */

	for (int c = 0; c < cases; c++) {
		qmx_gemm_params p;
		int64_t m = pick(&rng, g_dims, sizeof(g_dims) / sizeof(g_dims[0]));
		int64_t n = pick(&rng, g_dims, sizeof(g_dims) / sizeof(g_dims[0]));
		int64_t k = pick(&rng, g_ks, sizeof(g_ks) / sizeof(g_ks[0]));
		while ((uint64_t)(m * n * k) > budget && (m > 1 || n > 1))
			(m > n ? m : n) == m ? (m = m / 2 + 1) : (n = n / 2 + 1);
		qmx_gemm_params_init(&p, m, n, k);
		qmx_problem_random_quant(&p, &rng);
		if (qmx_rng_next(&rng) & 1) { /* strides wider than the matrices */
			p.lda = k + qmx_rng_range(&rng, 1, 9);
			p.ldb = n + qmx_rng_range(&rng, 1, 9);
			p.ldc = n + qmx_rng_range(&rng, 1, 9);
		}
		char what[32];
		snprintf(what, sizeof(what), "random case %d", c);
		unsigned threads = 1 + (unsigned)(c / g_nisas % 2);
		check_case(&p, QMX_FILL_RANDOM, g_isas[c % g_nisas], threads, &rng, what);
	}
}

/* Full-range operands with the worst zero points: every product at its
 * largest magnitude, both output types, 1 and 2 threads, K up to 4096. */
static void test_extremes(void **state)
{
	(void)state;
	static const struct {
		enum qmx_fill fill;
		int32_t za, zb;
	} cases[] = {
		{ QMX_FILL_EXTREME, 0, 0 },    { QMX_FILL_MIN, 127, 0 },
		{ QMX_FILL_MIN, 127, 127 },    { QMX_FILL_MAX, -128, -128 },
		{ QMX_FILL_EXTREME, -128, 127 }, { QMX_FILL_MIN, -128, -128 },
		{ QMX_FILL_MAX, 127, -128 },   { QMX_FILL_EXTREME, 127, -128 },
	};
	qmx_rng rng = { g_seed ^ 0xE};
	int64_t m = g_small ? 7 : 37, n = g_small ? 19 : 70, k = g_small ? 300 : 4096;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (int out = 0; out < 2; out++) {
			qmx_gemm_params p;
			qmx_gemm_params_init(&p, m, n, k);
			p.a_zero_point = cases[c].za;
			p.b_zero_point = cases[c].zb;
			p.out_type = out ? QMX_OUT_INT8 : QMX_OUT_INT32;
			p.has_bias = (int32_t)(c & 1);
			p.quant_mode = (int32_t)((c >> 1) & 1);
			p.c_zero_point = (int32_t)c * 31 - 128;
			qmx_quantize_multiplier(1.0 / (double)(k * 8), &p.multiplier, &p.shift);
			char what[48];
			snprintf(what, sizeof(what), "extreme case %zu out %d", c, out);
			for (int i = 0; i < g_nisas; i++)
				check_case(&p, cases[c].fill, g_isas[i],
					   1 + (unsigned)((c + out) & 1), &rng, what);
		}
	}
}

/* One problem spanning several blocks in every dimension (rows > MC, columns
 * > NC, K > KC) with ragged edges everywhere, int8 out, per-channel, bias,
 * zero points, strided; every kernel, 2 threads. */
static void test_multi_block(void **state)
{
	(void)state;
	qmx_rng rng = { g_seed ^ 0xB };
	qmx_gemm_params p;

	if (g_small)
		qmx_gemm_params_init(&p, 150, 101, 530);
	else
		qmx_gemm_params_init(&p, 301, 1013, 1093);
	p.lda = p.k + 5;
	p.ldb = p.n + 3;
	p.ldc = p.n + 7;
	p.a_zero_point = -3;
	p.b_zero_point = 5;
	p.c_zero_point = 9;
	p.out_type = QMX_OUT_INT8;
	p.quant_mode = QMX_QUANT_PER_CHANNEL;
	p.has_bias = 1;
	for (int i = 0; i < g_nisas; i++)
		check_case(&p, QMX_FILL_RANDOM, g_isas[i], 2, &rng, "multi-block");
	p.out_type = QMX_OUT_INT32;
	check_case(&p, QMX_FILL_EXTREME, g_isas[g_nisas - 1], 2, &rng, "multi-block int32");
}

/* K past 32768: the int32 accumulator wraps, identically to the reference. */
static void test_wrapping_k(void **state)
{
	(void)state;
	qmx_rng rng = { g_seed ^ 0x3};
	int64_t k = g_small ? 33001 : 70001;
	qmx_gemm_params p;

	qmx_gemm_params_init(&p, 3, 17, k);
	p.a_zero_point = -128;
	p.b_zero_point = 127;
	for (int i = 0; i < g_nisas; i++) {
		check_case(&p, QMX_FILL_MAX, g_isas[i], 1, &rng, "wrapping K, int32");
		p.out_type = QMX_OUT_INT8;
		check_case(&p, QMX_FILL_EXTREME, g_isas[i], 2, &rng, "wrapping K, int8");
		p.out_type = QMX_OUT_INT32;
	}
}

/* Requantization corners: multiplier 0 and 2^31-1, shifts at both limits,
 * saturating left shifts, clamps. */
static void test_requant_corners(void **state)
{
	(void)state;
	static const struct {
		int32_t mult, shift;
	} q[] = { { 0, 0 }, { INT32_MAX, 30 }, { INT32_MAX, -31 }, { 1 << 30, 1 },
		  { 1073741824, -31 }, { 1518500250, 7 }, { 1, 30 } };
	qmx_rng rng = { g_seed ^ 0x9};

	for (size_t c = 0; c < sizeof(q) / sizeof(q[0]); c++) {
		qmx_gemm_params p;
		qmx_gemm_params_init(&p, 13, 35, 77);
		p.out_type = QMX_OUT_INT8;
		p.multiplier = q[c].mult;
		p.shift = q[c].shift;
		p.has_bias = 1;
		p.a_zero_point = 3;
		p.c_zero_point = -5;
		p.qmin = (int32_t)c * 10 - 128;
		p.qmax = 127 - (int32_t)c * 5;
		for (int i = 0; i < g_nisas; i++)
			check_case(&p, c & 1 ? QMX_FILL_EXTREME : QMX_FILL_RANDOM, g_isas[i], 1,
				   &rng, "requant corner");
	}
}

/* Big enough for two threads: the result is right whichever thread does
 * which part; the threads that did work (1 or 2: a helper the scheduler
 * delays finds nothing left) and their CPU time are reported. */
static void test_threads_used(void **state)
{
	(void)state;
	qmx_rng rng = { g_seed ^ 0x7};
	qmx_problem pb;
	qmx_gemm_host_operands ops;
	qmx_gemm_params p;
	char msg[200];

	qmx_gemm_params_init(&p, 230, 170, 190);
	assert_int_equal(qmx_problem_init(&pb, &p, &rng, QMX_FILL_RANDOM), 0);
	assert_int_equal(qmx_problem_compute_reference(&pb), 0);
	qmx_problem_operands(&pb, &ops, false);
	for (int i = 0; i < g_nisas; i++) {
		set_isa(g_isas[i]);
		struct qmx_cpu_run run = { .threads = 2 };
		assert_int_equal(qmx_cpu_gemm_fast(&p, &ops, NULL, &run), 0);
		assert_true(run.threads == 1 || run.threads == 2);
		assert_true(run.cpu_ns > 0);
		if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
			fail_msg("2 threads, isa %s: %s", g_isas[i], msg);
	}
	qmx_problem_free(&pb);
}

static const struct qmx_cpu_isa *isa_by_name(const char *name)
{
	const struct qmx_cpu_isa *isa = qmx_cpu_isa_find(name);
	if (!isa)
		fail_msg("no kernel %s on this CPU", name);
	return isa;
}

/* Full int32 range with its edges over-represented. */
static int32_t edgy_i32(qmx_rng *rng)
{
	static const int32_t edges[] = { INT32_MIN, INT32_MIN + 1, -65536, -1, 0, 1,
					 65535, INT32_MAX - 1, INT32_MAX };
	if (qmx_rng_next(rng) % 4 == 0)
		return edges[qmx_rng_next(rng) % (sizeof(edges) / sizeof(edges[0]))];
	int32_t v = (int32_t)(uint32_t)qmx_rng_next(rng);
	return v >> (qmx_rng_next(rng) % 32); /* all magnitudes */
}

/* The vectorised output stages against qmx_q_requant(), lane by lane, on
 * accumulators, multipliers and shifts over their whole ranges. */
static void test_out_row(void **state)
{
	(void)state;
	qmx_rng rng = { g_seed ^ 0x5 };
	enum { MAXN = 80 };
	int32_t s[MAXN], bias[MAXN], mult[MAXN], shift[MAXN], c32[MAXN + 1];
	uint32_t colterm[MAXN];
	int8_t c8[MAXN + 1];
	int rounds = g_small ? 100 : 4000;

	for (int i = 0; i < g_nisas; i++) {
		const struct qmx_cpu_isa *isa = isa_by_name(g_isas[i]);
		for (int r = 0; r < rounds; r++) {
			struct qmx_cpu_out o = { 0 };
			o.n = (size_t)qmx_rng_range(&rng, 1, MAXN);
			for (size_t j = 0; j < o.n; j++) {
				s[j] = edgy_i32(&rng);
				colterm[j] = (uint32_t)edgy_i32(&rng);
				bias[j] = edgy_i32(&rng);
				mult[j] = edgy_i32(&rng) & INT32_MAX;
				shift[j] = (int32_t)qmx_rng_range(&rng, -31, 30);
			}
			o.s = s;
			o.colterm = colterm;
			o.bias = (r & 1) ? bias : NULL;
			o.int8_out = (r & 6) != 0;
			o.mult = (r & 8) ? mult : NULL;
			o.shift = (r & 8) ? shift : NULL;
			o.mult1 = edgy_i32(&rng) & INT32_MAX;
			o.shift1 = (int32_t)qmx_rng_range(&rng, -31, 30);
			o.row_term = (uint32_t)edgy_i32(&rng);
			o.zc = (int32_t)qmx_rng_range(&rng, -128, 127);
			int32_t lo = (int32_t)qmx_rng_range(&rng, -128, 127);
			int32_t hi = (int32_t)qmx_rng_range(&rng, -128, 127);
			o.qmin = lo < hi ? lo : hi;
			o.qmax = lo < hi ? hi : lo;
			memset(c32, 0x5A, sizeof(c32));
			memset(c8, 0x5A, sizeof(c8));
			o.c = o.int8_out ? (void *)c8 : (void *)c32;
			isa->out_row(&o);
			for (size_t j = 0; j < o.n; j++) {
				uint32_t v = (uint32_t)s[j] + o.row_term - colterm[j];
				if (o.bias)
					v += (uint32_t)bias[j];
				int32_t want = (int32_t)v;
				if (o.int8_out)
					want = qmx_q_requant(want, o.mult ? mult[j] : o.mult1,
							     o.shift ? shift[j] : o.shift1, o.zc,
							     o.qmin, o.qmax);
				int32_t got = o.int8_out ? c8[j] : c32[j];
				if (got != want)
					fail_msg("%s out_row round %d col %zu: %d, expected %d "
						 "(acc %d mult %d shift %d zc %d clamp [%d, %d], seed %llu)",
						 isa->name, r, j, got, want, (int32_t)v,
						 o.mult ? mult[j] : o.mult1,
						 o.shift ? shift[j] : o.shift1, o.zc, o.qmin, o.qmax,
						 (unsigned long long)g_seed);
			}
			if (o.int8_out ? c8[o.n] != 0x5A : c32[o.n] != 0x5A5A5A5A)
				fail_msg("%s out_row wrote past column %zu", isa->name, o.n);
		}
	}
}

/* GEMMs from several threads at once: one gets the helper pool and the
 * cached workspace, the others start their own threads and allocate. */
struct conc_arg {
	qmx_problem pb;
	int runs;
	int err;
	char msg[200];
};

static void *conc_thread(void *arg)
{
	struct conc_arg *c = arg;
	qmx_gemm_host_operands ops;

	qmx_problem_operands(&c->pb, &ops, false);
	for (int r = 0; r < c->runs && !c->err; r++) {
		struct qmx_cpu_run run = { .threads = 2 };
		memset(c->pb.c, 0x5A, c->pb.c_bytes);
		c->err = qmx_cpu_gemm_fast(&c->pb.p, &ops, NULL, &run);
		if (!c->err && !qmx_problem_matches(&c->pb, c->msg, sizeof(c->msg)))
			c->err = -100;
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	(void)state;
	enum { NT = 3 };
	struct conc_arg args[NT];
	pthread_t tids[NT];
	qmx_rng rng = { g_seed ^ 0xC };

	unsetenv("QMX_CPU_ISA");
	for (int t = 0; t < NT; t++) {
		qmx_gemm_params p;
		qmx_gemm_params_init(&p, 97 + 40 * t, 83 + 16 * t, 150 + 100 * t);
		qmx_problem_random_quant(&p, &rng);
		p.ldc = p.n + 3;
		assert_int_equal(qmx_problem_init(&args[t].pb, &p, &rng, QMX_FILL_RANDOM), 0);
		assert_int_equal(qmx_problem_compute_reference(&args[t].pb), 0);
		args[t].runs = g_small ? 2 : 8;
		args[t].err = 0;
		args[t].msg[0] = 0;
	}
	for (int t = 0; t < NT; t++)
		assert_int_equal(pthread_create(&tids[t], NULL, conc_thread, &args[t]), 0);
	for (int t = 0; t < NT; t++)
		pthread_join(tids[t], NULL);
	for (int t = 0; t < NT; t++) {
		if (args[t].err)
			fail_msg("concurrent GEMM %d: %s (%s), seed %llu", t,
				 args[t].err == -100 ? "mismatch" : qmx_error_name(args[t].err),
				 args[t].msg, (unsigned long long)g_seed);
		qmx_problem_free(&args[t].pb);
	}
}

/* An unknown $QMX_CPU_ISA is an error naming the variable and the choices. */
static void test_isa_env(void **state)
{
	(void)state;
	int8_t a[4] = { 1, 2, 3, 4 }, b[4] = { 5, 6, 7, 8 };
	int32_t c[4];
	qmx_gemm_params p;
	qmx_gemm_host_operands ops = { .a = a, .b = b, .c = c };
	struct qmx_cpu_run run = { .threads = 1 };

	qmx_gemm_params_init(&p, 2, 2, 2);
	set_isa("sse9");
	assert_int_equal(qmx_cpu_gemm_fast(&p, &ops, NULL, &run), QMX_EINVAL);
	assert_non_null(strstr(qmx_last_error(), "QMX_CPU_ISA ('sse9')"));
	assert_non_null(strstr(qmx_last_error(), "'portable', 'avx2' or 'avx512vnni'"));
	/* qmx_cpu_isa() still names a usable kernel: the best one. */
	assert_string_equal(qmx_cpu_isa(), g_isas[g_nisas - 1]);
	set_isa("portable");
	assert_string_equal(qmx_cpu_isa(), "portable");
	assert_int_equal(qmx_cpu_gemm_fast(&p, &ops, NULL, &run), 0);
	assert_int_equal(c[0], 1 * 5 + 2 * 7);
	assert_int_equal(c[3], 3 * 6 + 4 * 8);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--small")) {
			g_small = true;
		} else {
			fprintf(stderr, "usage: %s [--small]\n", argv[0]);
			return 2;
		}
	}
	g_seed = qmx_util_seed(20261127);
	printf("test_cpu_gemm: seed %llu (set QMX_TEST_SEED to override)\n",
	       (unsigned long long)g_seed);
	static const char *const all[] = { "portable", "avx2", "avx512vnni" };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (qmx_cpu_isa_find(all[i]))
			g_isas[g_nisas++] = all[i];
	printf("test_cpu_gemm: kernels this CPU runs:");
	for (int i = 0; i < g_nisas; i++)
		printf(" %s", g_isas[i]);
	printf("\n");

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isa_env),
		cmocka_unit_test(test_threads_used),
		cmocka_unit_test(test_out_row),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_requant_corners),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_wrapping_k),
		cmocka_unit_test(test_multi_block),
		cmocka_unit_test(test_random_shapes),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	unsetenv("QMX_CPU_ISA");
	return rc;
}
