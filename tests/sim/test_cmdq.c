/* SPDX-License-Identifier: MIT */
/*
 * test_cmdq.c - the hardware command queue on the Verilator model (8x8):
 * a queued job against the register path (same result, same core cycles,
 * record deltas = CNT_* deltas), ring wrap-around and full-ring
 * back-pressure, a bad descriptor and a failing job mid-batch (DEP_FAILED
 * for dependants, independents run), wait_seq chaining layers, soft reset
 * mid-batch, bad configuration, and seeded random batches.  Every output is
 * checked bit for bit against the CPU reference.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdq_test_util.h"

static uint64_t seed;

#define ARENA_BYTES (64ull << 20)
#define MAX_CYCLES 50000000ull

struct fx {
	qmxsim *sim;
	struct cqt_arena arena;
	struct cqt_ring ring;
};

static void fx_init(struct fx *f, uint32_t entries, uint32_t log_cap)
{
	struct qmxsim_config cfg;

	qmxsim_config_default(&cfg);
	assert_int_equal(qmxsim_new(&cfg, &f->sim), 0);
	assert_int_equal(cqt_arena_init(&f->arena, f->sim, ARENA_BYTES), 0);
	assert_int_equal(cqt_ring_init(&f->ring, f->sim, &f->arena, entries, log_cap), 0);
}

static void fx_free(struct fx *f)
{
	free(f->ring.log);
	cqt_arena_free(&f->arena, f->sim);
	qmxsim_del(f->sim);
}

/* A random problem placed in the arena. */
static void make_job(struct fx *f, struct cqt_job *j, int64_t m, int64_t n, int64_t k,
		     qmx_rng *rng)
{
	qmx_gemm_params p;

	qmx_gemm_params_init(&p, m, n, k);
	p.lda = k + qmx_rng_range(rng, 0, 3);
	p.ldb = n + qmx_rng_range(rng, 0, 3);
	p.ldc = n + qmx_rng_range(rng, 0, 2);
	qmx_problem_random_quant(&p, rng);
	assert_int_equal(qmx_problem_init(&j->pb, &p, rng, QMX_FILL_RANDOM), 0);
	assert_int_equal(qmx_problem_compute_reference(&j->pb), 0);
	assert_int_equal(cqt_job_place(j, &f->arena), 0);
}

static void check_job(struct fx *f, struct cqt_job *j, const char *what)
{
	char msg[200];

	cqt_job_collect(j, &f->arena);
	if (!qmx_problem_matches(&j->pb, msg, sizeof(msg)))
		fail_msg("%s %lldx%lldx%lld: %s (seed %" PRIu64 ")", what, (long long)j->pb.p.m,
			 (long long)j->pb.p.n, (long long)j->pb.p.k, msg, seed);
}

/* C untouched: still the sentinel-filled buffer the problem started with. */
static void check_untouched(struct fx *f, struct cqt_job *j, const void *orig)
{
	assert_memory_equal(cqt_host(&f->arena, j->g.c_addr), orig, j->pb.c_bytes);
}

static void push(struct fx *f, const struct cqt_job *j, uint32_t seq, uint32_t wait)
{
	struct qmx_cq_desc d;

	qmx_jobprog_cq_desc(&j->g, seq, wait, &d);
	assert_int_equal(cqt_ring_push(&f->ring, &d), 0);
}

static uint32_t rec_error(const struct fx *f, uint32_t i)
{
	return qmx_jobprog_cq_error(&f->ring.log[i]);
}

/* ---------------------------------------------------------------- tests */

/* One job through the queue and the same job through AP_START: same C,
 * same core cycles; the record's deltas equal the CNT_* deltas, which
 * include the 128-byte descriptor fetch and record write. */
static void test_single_vs_registers(void **state)
{
	struct fx f;
	struct cqt_job j;
	qmx_rng rng = { seed };
	struct qmx_jobprog_counters c0, c1, reg, q;
	struct qmxsim_reg_stats r0, r1;

	(void)state;
	fx_init(&f, 8, 8);
	make_job(&f, &j, 8, 8, 8, &rng);

	/* register path */
	qmx_jobprog_read_counters(simt_rd, f.sim, &c0);
	qmx_jobprog_write_gemm(&j.g, simt_wr, f.sim);
	qmx_jobprog_start(simt_rd, simt_wr, f.sim, 1);
	assert_int_equal(qmxsim_run(f.sim, MAX_CYCLES, NULL), QMXSIM_RUN_IRQ);
	assert_int_equal(qmxsim_read32(f.sim, QMX_REG_ERROR), 0);
	qmx_jobprog_read_counters(simt_rd, f.sim, &c1);
	(void)qmxsim_read32(f.sim, QMX_REG_CTRL); /* consume AP_DONE */
	qmx_jobprog_ack(simt_rd, simt_wr, f.sim);
	qmx_jobprog_counters_delta(&c0, &c1, &reg);
	check_job(&f, &j, "register path");
	memset(cqt_host(&f.arena, j.g.c_addr), 0x5A, j.pb.c_bytes);

	/* queue */
	assert_int_equal(cqt_ring_enable(&f.ring, 0) & QMX_CQ_STATUS_BAD_CONFIG, 0);
	assert_true(qmxsim_read32(f.sim, QMX_REG_CQ_CTRL) & QMX_CQ_CTRL_ENABLE);
	qmx_jobprog_read_counters(simt_rd, f.sim, &c0);
	qmxsim_reg_stats(f.sim, &r0);
	push(&f, &j, 0x1234, 0);
	cqt_ring_doorbell(&f.ring);
	assert_int_equal(cqt_ring_wait(&f.ring, 1, MAX_CYCLES), 0);
	qmxsim_reg_stats(f.sim, &r1);
	uint64_t accesses = (r1.reads - r0.reads) + (r1.writes - r0.writes);
	printf("single queued job: %" PRIu64 " register accesses (register path: %" PRIu64
	       " busy cycles, queue: %" PRIu64 ")\n",
	       accesses, reg.busy_cycles, f.ring.log[0].busy_cycles);
	assert_true(accesses <= 4);
	assert_int_equal(f.ring.log[0].seq, 0x1234);
	assert_int_equal(rec_error(&f, 0), 0);
	check_job(&f, &j, "queued");
	qmx_jobprog_read_counters(simt_rd, f.sim, &c1);
	qmx_jobprog_counters_delta(&c0, &c1, &q);
	qmx_jobprog_cq_counters(&f.ring.log[0], &c1);
	assert_int_equal(c1.busy_cycles, reg.busy_cycles); /* the core is not slowed */
	assert_int_equal(c1.stall_cycles, reg.stall_cycles);
	assert_int_equal(c1.macs, (uint64_t)(j.pb.p.m * j.pb.p.n * j.pb.p.k));
	assert_int_equal(c1.sram_rd_bytes, reg.sram_rd_bytes);
	assert_int_equal(c1.sram_wr_bytes, reg.sram_wr_bytes);
	assert_int_equal(c1.ext_rd_bytes, reg.ext_rd_bytes + QMX_CQ_ENTRY_BYTES);
	assert_int_equal(c1.ext_wr_bytes, reg.ext_wr_bytes + QMX_CQ_ENTRY_BYTES);
	/* CNT_* agree with the record (a read of the counters is not a job) */
	assert_int_equal(q.busy_cycles, c1.busy_cycles);
	assert_int_equal(q.macs, c1.macs);
	assert_int_equal(q.ext_rd_bytes, c1.ext_rd_bytes);
	assert_int_equal(q.ext_wr_bytes, c1.ext_wr_bytes);
	assert_int_equal(q.jobs, 1);
	assert_int_equal(qmxsim_read32(f.sim, QMX_REG_CQ_HEAD), 1);
	assert_int_equal(qmxsim_read32(f.sim, QMX_REG_CQ_DONE_SEQ), 0x1234);
	/* a queued job raises ISR.CQ, not AP_DONE */
	assert_false(qmxsim_read32(f.sim, QMX_REG_CTRL) & QMX_CTRL_AP_DONE);

	/* AP_START is ignored while the queue is enabled */
	qmxsim_write32(f.sim, QMX_REG_CTRL, QMX_CTRL_AP_START);
	assert_int_equal(qmxsim_run_irq(f.sim, 5000, NULL), QMXSIM_RUN_LIMIT);
	assert_false(qmxsim_read32(f.sim, QMX_REG_CTRL) & QMX_CTRL_AP_START);
	qmx_jobprog_read_counters(simt_rd, f.sim, &c0);
	assert_int_equal(c0.jobs, 2);
	qmx_problem_free(&j.pb);
	fx_free(&f);
}

/* More descriptors than entries, pushed as space frees: every one completes
 * once, in order, bit-exact (wrap-around and back-pressure, no loss). */
static void test_wrap_and_full_ring(void **state)
{
	enum { ENTRIES = 4, JOBS = 13 };
	struct fx f;
	struct cqt_job j[JOBS];
	qmx_rng rng = { seed + 1 };
	uint32_t pushed = 0, full_waits = 0;

	(void)state;
	fx_init(&f, ENTRIES, JOBS);
	for (int i = 0; i < JOBS; i++)
		make_job(&f, &j[i], qmx_rng_range(&rng, 1, 12), qmx_rng_range(&rng, 1, 12),
			 qmx_rng_range(&rng, 1, 12), &rng);
	assert_int_equal(cqt_ring_enable(&f.ring, 2), 0);
	while (pushed < JOBS) {
		while (pushed < JOBS && cqt_ring_space(&f.ring))
			push(&f, &j[pushed], 100 + pushed, 0), pushed++;
		if (pushed < JOBS) {
			struct qmx_cq_desc d;
			qmx_jobprog_cq_desc(&j[pushed].g, 1, 0, &d);
			assert_int_equal(cqt_ring_push(&f.ring, &d), -ENOSPC);
			full_waits++;
		}
		cqt_ring_doorbell(&f.ring);
		assert_int_equal(cqt_ring_wait(&f.ring, f.ring.head + 1, MAX_CYCLES), 0);
	}
	assert_int_equal(cqt_ring_wait(&f.ring, JOBS, MAX_CYCLES), 0);
	assert_true(full_waits >= 2);
	for (int i = 0; i < JOBS; i++) {
		assert_int_equal(f.ring.log[i].seq, 100 + i);
		assert_int_equal(rec_error(&f, i), 0);
		check_job(&f, &j[i], "wrapped");
		qmx_problem_free(&j[i].pb);
	}
	assert_int_equal(qmxsim_read32(f.sim, QMX_REG_CQ_HEAD), JOBS);
	printf("wrap: %d jobs through %d entries, %u full-ring waits, %u interrupts\n", JOBS,
	       ENTRIES, full_waits, f.ring.irqs);
	fx_free(&f);
}

/* A batch with a bad descriptor and a failing job in the middle: the ones
 * before complete, each record names its error, dependants fail with
 * DEP_FAILED without touching memory, independents run. */
static void test_bad_descriptor_mid_batch(void **state)
{
	enum { N = 9 };
	struct fx f;
	struct cqt_job j[N];
	void *orig[N];
	qmx_rng rng = { seed + 2 };
	struct qmx_cq_desc d;

	(void)state;
	fx_init(&f, 16, N);
	for (int i = 0; i < N; i++) {
		make_job(&f, &j[i], 8, 8, 8, &rng);
		orig[i] = malloc(j[i].pb.c_bytes);
		memcpy(orig[i], j[i].pb.c, j[i].pb.c_bytes);
	}
	assert_int_equal(cqt_ring_enable(&f.ring, 255), 0);
	push(&f, &j[0], 1, 0);
	push(&f, &j[1], 2, 1);
	qmx_jobprog_cq_desc(&j[2].g, 3, 0, &d);
	d.header = (d.header & ~QMX_CQD_HEADER_VERSION_MASK) | 2u; /* unknown version */
	assert_int_equal(cqt_ring_push(&f.ring, &d), 0);
	push(&f, &j[3], 4, 3);        /* waits for the bad one */
	push(&f, &j[4], 5, 4);        /* transitively */
	push(&f, &j[5], 6, 2);        /* waits for a good one */
	struct qmx_jobprog_gemm bad = j[6].g;
	bad.k = 0;                    /* the core refuses it: ZERO_DIM */
	qmx_jobprog_cq_desc(&bad, 7, 0, &d);
	assert_int_equal(cqt_ring_push(&f.ring, &d), 0);
	push(&f, &j[7], 8, 7);        /* waits for the failed job */
	qmx_jobprog_cq_desc(&j[8].g, 9, 0, &d);
	d.reserved1 = 1;              /* reserved field set */
	assert_int_equal(cqt_ring_push(&f.ring, &d), 0);
	cqt_ring_doorbell(&f.ring);
	assert_int_equal(cqt_ring_wait(&f.ring, N, MAX_CYCLES), 0);

	static const uint32_t want[N] = { 0, 0, QMX_ERROR_BAD_DESC, QMX_ERROR_DEP_FAILED,
					  QMX_ERROR_DEP_FAILED, 0, QMX_ERROR_ZERO_DIM,
					  QMX_ERROR_DEP_FAILED, QMX_ERROR_BAD_DESC };
	for (int i = 0; i < N; i++) {
		assert_int_equal(f.ring.log[i].seq, (uint32_t)i + 1);
		assert_true(f.ring.log[i].status & QMX_CQC_STATUS_VALID);
		if (rec_error(&f, i) != want[i])
			fail_msg("descriptor %d: error %s, expected %s", i,
				 qmx_jobprog_error_name(rec_error(&f, i)),
				 qmx_jobprog_error_name(want[i]));
		if (want[i])
			check_untouched(&f, &j[i], orig[i]);
		else
			check_job(&f, &j[i], "around a bad descriptor");
		if (want[i] == QMX_ERROR_DEP_FAILED || want[i] == QMX_ERROR_BAD_DESC) {
			assert_int_equal(f.ring.log[i].busy_cycles, 0);
			assert_int_equal(f.ring.log[i].ext_rd_bytes, QMX_CQ_ENTRY_BYTES);
		}
		free(orig[i]);
		qmx_problem_free(&j[i].pb);
	}
	assert_string_equal(qmx_jobprog_error_name(QMX_ERROR_DEP_FAILED), "DEP_FAILED");
	fx_free(&f);
}

/* Three layers, each waiting for the previous one and reading its int8
 * output as A: the last output bit-exact against the CPU chain. */
static void test_wait_seq_chain(void **state)
{
	enum { L = 3 };
	struct fx f;
	struct cqt_job j[L];
	qmx_rng rng = { seed + 3 };
	const int64_t m = 6, dims[L + 1] = { 13, 16, 9, 11 };

	(void)state;
	fx_init(&f, 4, L);
	for (int l = 0; l < L; l++) {
		qmx_gemm_params p;
		qmx_gemm_params_init(&p, m, dims[l + 1], dims[l]);
		qmx_problem_random_quant(&p, &rng);
		p.out_type = QMX_OUT_INT8;
		p.ldc = p.n;
		if (l > 0)
			p.lda = j[l - 1].pb.p.ldc;
		assert_int_equal(qmx_problem_init(&j[l].pb, &p, &rng, QMX_FILL_RANDOM), 0);
		if (l > 0) /* the CPU chain: this layer's A is the previous reference C */
			memcpy(j[l].pb.a, j[l - 1].pb.c_ref, (size_t)(m * p.lda));
		assert_int_equal(qmx_problem_compute_reference(&j[l].pb), 0);
		assert_int_equal(cqt_job_place(&j[l], &f.arena), 0);
		if (l > 0) { /* the device chain: A is the previous layer's C, zeroed */
			j[l].g.a_addr = j[l - 1].g.c_addr;
			memset(cqt_host(&f.arena, j[l - 1].g.c_addr), 0, j[l - 1].pb.c_bytes);
		}
	}
	assert_int_equal(cqt_ring_enable(&f.ring, 255), 0);
	for (int l = 0; l < L; l++)
		push(&f, &j[l], 10 + l, l ? 10 + l - 1 : 0);
	cqt_ring_doorbell(&f.ring);
	assert_int_equal(cqt_ring_wait(&f.ring, L, MAX_CYCLES), 0);
	for (int l = 0; l < L; l++) {
		assert_int_equal(rec_error(&f, l), 0);
		check_job(&f, &j[l], "chained layer");
		qmx_problem_free(&j[l].pb);
	}
	fx_free(&f);
}

/* SOFT_RESET while a batch runs: the queue stops (ENABLE 0, HEAD 0); after
 * re-enabling, the next batch is bit-exact. */
static void test_soft_reset_mid_batch(void **state)
{
	enum { N = 8, M = 4 };
	struct fx f;
	struct cqt_job j[N + M];
	qmx_rng rng = { seed + 4 };

	(void)state;
	fx_init(&f, 16, N + M);
	for (int i = 0; i < N + M; i++)
		make_job(&f, &j[i], 16, 16, 16, &rng);
	assert_int_equal(cqt_ring_enable(&f.ring, 255), 0);
	for (int i = 0; i < N; i++)
		push(&f, &j[i], 1 + i, i ? (uint32_t)i : 0);
	cqt_ring_doorbell(&f.ring);
	/* part of the batch runs */
	assert_int_equal(qmxsim_run_irq(f.sim, 1500, NULL), QMXSIM_RUN_LIMIT);
	assert_true(qmxsim_read32(f.sim, QMX_REG_CQ_STATUS) & QMX_CQ_STATUS_RUNNING);
	qmx_jobprog_soft_reset(simt_wr, f.sim);
	assert_int_equal(qmxsim_read32(f.sim, QMX_REG_CQ_HEAD), 0);
	assert_int_equal(qmxsim_read32(f.sim, QMX_REG_CQ_TAIL), 0);
	assert_false(qmxsim_read32(f.sim, QMX_REG_CQ_CTRL) & QMX_CQ_CTRL_ENABLE);
	assert_int_equal(qmxsim_run_irq(f.sim, 3000, NULL), QMXSIM_RUN_LIMIT);
	assert_false(qmxsim_read32(f.sim, QMX_REG_CQ_STATUS) & QMX_CQ_STATUS_RUNNING);
	qmxsim_write32(f.sim, QMX_REG_ISR, qmxsim_read32(f.sim, QMX_REG_ISR));

	assert_int_equal(cqt_ring_enable(&f.ring, 255), 0);
	for (int i = 0; i < M; i++)
		push(&f, &j[N + i], 50 + i, i ? 50 + (uint32_t)i - 1 : 0);
	cqt_ring_doorbell(&f.ring);
	assert_int_equal(cqt_ring_wait(&f.ring, M, MAX_CYCLES), 0);
	for (int i = 0; i < M; i++) {
		assert_int_equal(f.ring.log[i].seq, 50 + (uint32_t)i);
		assert_int_equal(rec_error(&f, i), 0);
		check_job(&f, &j[N + i], "after soft reset");
	}
	for (int i = 0; i < N + M; i++)
		qmx_problem_free(&j[i].pb);
	fx_free(&f);
}

/* ENABLE is refused for a size that is not a power of two in [2, 4096] or a
 * misaligned ring. */
static void test_bad_config(void **state)
{
	struct fx f;
	static const uint32_t sizes[] = { 0, 1, 3, 6, 8192 };

	(void)state;
	fx_init(&f, 4, 1);
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t st = qmx_jobprog_cq_enable(simt_rd, simt_wr, f.sim, f.ring.desc_dev,
						    f.ring.cpl_dev, sizes[i], 0, 0);
		assert_true(st & QMX_CQ_STATUS_BAD_CONFIG);
		assert_false(qmxsim_read32(f.sim, QMX_REG_CQ_CTRL) & QMX_CQ_CTRL_ENABLE);
	}
	uint32_t st = qmx_jobprog_cq_enable(simt_rd, simt_wr, f.sim, f.ring.desc_dev + 64,
					    f.ring.cpl_dev, 4, 0, 0);
	assert_true(st & QMX_CQ_STATUS_BAD_CONFIG);
	st = qmx_jobprog_cq_enable(simt_rd, simt_wr, f.sim, f.ring.desc_dev, f.ring.cpl_dev, 4096,
				   0, 0);
	assert_int_equal(st & QMX_CQ_STATUS_BAD_CONFIG, 0);
	assert_true(qmxsim_read32(f.sim, QMX_REG_CQ_CTRL) & QMX_CQ_CTRL_ENABLE);
	fx_free(&f);
}

/* Seeded random batches: random shapes, output types, ring sizes and
 * coalescing, some descriptors chained to an earlier independent one. */
static void test_random_batches(void **state)
{
	qmx_rng rng = { seed + 5 };

	(void)state;
	for (int b = 0; b < 3; b++) {
		struct fx f;
		uint32_t entries = 1u << qmx_rng_range(&rng, 1, 4);
		int n = (int)qmx_rng_range(&rng, 1, 12);
		struct cqt_job j[12];
		uint32_t pushed = 0;

		fx_init(&f, entries, (uint32_t)n);
		for (int i = 0; i < n; i++)
			make_job(&f, &j[i], qmx_rng_range(&rng, 1, 20), qmx_rng_range(&rng, 1, 20),
				 qmx_rng_range(&rng, 1, 20), &rng);
		assert_int_equal(cqt_ring_enable(&f.ring, (uint32_t)qmx_rng_range(&rng, 0, 4)), 0);
		while (pushed < (uint32_t)n) {
			while (pushed < (uint32_t)n && cqt_ring_space(&f.ring)) {
				uint32_t wait = pushed && (qmx_rng_next(&rng) & 1) ?
							(uint32_t)qmx_rng_range(&rng, 1, pushed) :
							0;
				push(&f, &j[pushed], pushed + 1, wait);
				pushed++;
			}
			cqt_ring_doorbell(&f.ring);
			assert_int_equal(cqt_ring_wait(&f.ring, f.ring.head + 1, MAX_CYCLES), 0);
		}
		assert_int_equal(cqt_ring_wait(&f.ring, (uint32_t)n, MAX_CYCLES), 0);
		for (int i = 0; i < n; i++) {
			assert_int_equal(f.ring.log[i].seq, (uint32_t)i + 1);
			assert_int_equal(rec_error(&f, i), 0);
			check_job(&f, &j[i], "random batch");
			qmx_problem_free(&j[i].pb);
		}
		fx_free(&f);
	}
}

int main(void)
{
	seed = qmx_util_seed(0xC0DE0011u);
	printf("test_cmdq: seed %" PRIu64 " (QMX_TEST_SEED)\n", seed);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_vs_registers),
		cmocka_unit_test(test_wrap_and_full_ring),
		cmocka_unit_test(test_bad_descriptor_mid_batch),
		cmocka_unit_test(test_wait_seq_chain),
		cmocka_unit_test(test_soft_reset_mid_batch),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_random_batches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
