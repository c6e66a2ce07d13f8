/* SPDX-License-Identifier: MIT */
/*
 * test_qmxsim.c - libqmxsim: the model's identity and registers, the memory
 * model (mapped, unmapped, read-only, translate callback), run limits,
 * interrupts and idle, fault injection and recovery, tracing.  Every GEMM
 * is checked bit for bit against qmx_gemm_reference().
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_test_util.h"

static uint64_t seed;

static qmxsim *new_sim(unsigned rows, unsigned cols)
{
	struct qmxsim_config cfg;
	qmxsim *sim = NULL;

	qmxsim_config_default(&cfg);
	cfg.array_rows = rows;
	cfg.array_cols = cols;
	int err = qmxsim_new(&cfg, &sim);
	if (err)
		fail_msg("qmxsim_new %ux%u: %d %s", rows, cols, err, qmxsim_last_error());
	return sim;
}

static int has_int8(qmxsim *sim)
{
	return !!(qmxsim_read32(sim, QMX_REG_FEATURES) & QMX_FEATURES_INT8_OUT);
}

/* A random problem of the given shape; quantization random when the model
 * supports int8 output, else int32 with random zero points and bias. */
static void make_problem(qmxsim *sim, qmx_problem *pb, int64_t m, int64_t n, int64_t k,
			 qmx_rng *rng)
{
	qmx_gemm_params p;

	qmx_gemm_params_init(&p, m, n, k);
	p.lda = k + qmx_rng_range(rng, 0, 5);
	p.ldb = n + qmx_rng_range(rng, 0, 5);
	p.ldc = n + qmx_rng_range(rng, 0, 3);
	if (has_int8(sim)) {
		qmx_problem_random_quant(&p, rng);
	} else {
		p.a_zero_point = (int32_t)qmx_rng_range(rng, -128, 127);
		p.b_zero_point = (int32_t)qmx_rng_range(rng, -128, 127);
		p.has_bias = (int32_t)(qmx_rng_next(rng) & 1);
	}
	assert_int_equal(qmx_problem_init(pb, &p, rng, QMX_FILL_RANDOM), 0);
	assert_int_equal(simt_pad_problem(pb), 0);
	assert_int_equal(qmx_problem_compute_reference(pb), 0);
}

static void check_matches(const qmx_problem *pb)
{
	char msg[200];
	if (!qmx_problem_matches(pb, msg, sizeof(msg)))
		fail_msg("%lldx%lldx%lld out=%d: %s (seed %" PRIu64 ")", (long long)pb->p.m,
			 (long long)pb->p.n, (long long)pb->p.k, pb->p.out_type, msg, seed);
}

/* C = the reference with every element's bytes inverted, gaps untouched. */
static void spoil_c(qmx_problem *pb)
{
	size_t elem = pb->p.out_type == QMX_OUT_INT8 ? 1 : 4;
	memcpy(pb->c, pb->c_ref, pb->c_bytes);
	for (int64_t i = 0; i < pb->p.m; i++)
		for (size_t b = 0; b < (size_t)pb->p.n * elem; b++)
			((uint8_t *)pb->c)[(size_t)(i * pb->p.ldc) * elem + b] ^= 0xFF;
}

/* ---------------------------------------------------------------- tests */

static void test_config_errors(void **state)
{
	struct qmxsim_config cfg;
	qmxsim *sim = (qmxsim *)1;

	(void)state;
	qmxsim_config_default(&cfg);
	assert_int_equal(cfg.array_rows, 8);
	assert_int_equal(cfg.array_cols, 8);
	assert_int_equal(cfg.clock_mhz, 250);
	cfg.array_rows = 3;
	assert_int_equal(qmxsim_new(&cfg, &sim), -EINVAL);
	assert_null(sim);
	assert_non_null(strstr(qmxsim_last_error(), "3x8 not built"));
	assert_non_null(strstr(qmxsim_last_error(), qmxsim_built_arrays()));
	qmxsim_config_default(&cfg);
	cfg.clock_mhz = 0;
	assert_int_equal(qmxsim_new(&cfg, &sim), -EINVAL);
	assert_non_null(strstr(qmxsim_last_error(), "clock_mhz"));
	qmxsim_config_default(&cfg);
	cfg.mem_bytes_per_cycle = 5000;
	assert_int_equal(qmxsim_new(&cfg, &sim), -EINVAL);
	assert_non_null(strstr(qmxsim_last_error(), "mem_bytes_per_cycle"));
	qmxsim_config_default(&cfg);
	cfg.trace_path = "/nonexistent-dir/x.fst";
	assert_int_equal(qmxsim_new(&cfg, &sim), -EIO);
	assert_non_null(strstr(qmxsim_last_error(), "x.fst"));
}

static void test_identity_all_sizes(void **state)
{
	(void)state;
	assert_true(qmxsim_model_count() >= 1);
	for (unsigned i = 0; i < qmxsim_model_count(); i++) {
		unsigned r, c;
		struct qmx_jobprog_ident id;
		assert_int_equal(qmxsim_model_size(i, &r, &c), 0);
		qmxsim *sim = new_sim(r, c);
		assert_int_equal(qmx_jobprog_identify(simt_rd, sim, &id), QMX_JOBPROG_IDENT_OK);
		assert_int_equal(id.magic, QMX_MAP_MAGIC);
		assert_int_equal(id.version, QMX_MAP_VERSION);
		assert_int_equal(id.array_rows, r);
		assert_int_equal(id.array_cols, c);
		assert_int_equal(id.bus_data_bits, qmxsim_axi_data_bits(sim));
		assert_true(id.max_dim >= 64);
		assert_true(id.clock_khz > 0);
		assert_true(id.features & QMX_FEATURES_INT32_OUT);
		/* idle after reset, no error */
		uint32_t ctrl = qmxsim_read32(sim, QMX_REG_CTRL);
		assert_true(ctrl & QMX_CTRL_AP_IDLE);
		assert_false(ctrl & QMX_CTRL_AP_START);
		assert_int_equal(qmxsim_read32(sim, QMX_REG_ERROR), 0);
		assert_int_equal(qmxsim_irq(sim), 0);
		qmxsim_del(sim);
	}
	assert_int_equal(qmxsim_model_size(qmxsim_model_count(), &(unsigned){ 0 },
					   &(unsigned){ 0 }),
			 -EINVAL);
}

static void test_register_rw(void **state)
{
	qmxsim *sim = new_sim(8, 8);
	qmx_rng rng = { seed };
	static const uint32_t rw[] = { QMX_REG_A_ADDR_LO, QMX_REG_A_ADDR_HI, QMX_REG_M,
				       QMX_REG_N,         QMX_REG_K,         QMX_REG_LDA,
				       QMX_REG_A_ZP,      QMX_REG_MULT,      QMX_REG_SHIFT };

	(void)state;
	for (unsigned i = 0; i < sizeof(rw) / sizeof(rw[0]); i++) {
		uint32_t v = (uint32_t)qmx_rng_next(&rng);
		qmxsim_write32(sim, rw[i], v);
		assert_int_equal(qmxsim_read32(sim, rw[i]), v);
	}
	/* read-only identity ignores writes */
	qmxsim_write32(sim, QMX_REG_MAGIC, 0);
	assert_int_equal(qmxsim_read32(sim, QMX_REG_MAGIC), QMX_MAP_MAGIC);
	/* every register access clocks the model */
	uint64_t c0 = qmxsim_cycle(sim);
	(void)qmxsim_read32(sim, QMX_REG_VERSION);
	assert_true(qmxsim_cycle(sim) > c0);
	qmxsim_del(sim);
}

static void test_map_rules(void **state)
{
	qmxsim *sim = new_sim(8, 8);
	static uint8_t mem[3 * 4096];

	(void)state;
	assert_int_equal(qmxsim_map(sim, 0x10000, mem, 4096, QMXSIM_MAP_READ), 0);
	assert_int_equal(qmxsim_map(sim, 0x10000 + 4095, mem, 10, QMXSIM_MAP_READ), -EEXIST);
	assert_int_equal(qmxsim_map(sim, 0x10000 - 1, mem, 2, QMXSIM_MAP_READ), -EEXIST);
	assert_non_null(strstr(qmxsim_last_error(), "overlaps"));
	assert_int_equal(qmxsim_map(sim, 0x8000, mem, 0x9000, QMXSIM_MAP_READ), -EEXIST);
	assert_int_equal(qmxsim_map(sim, 0x11000, mem + 4096, 4096, QMXSIM_MAP_WRITE), 0);
	assert_int_equal(qmxsim_map(sim, 0x20000, mem, 0, QMXSIM_MAP_READ), -EINVAL);
	assert_int_equal(qmxsim_map(sim, 0x20000, NULL, 16, QMXSIM_MAP_READ), -EINVAL);
	assert_int_equal(qmxsim_map(sim, 0x20000, mem, 16, 0), -EINVAL);
	assert_int_equal(qmxsim_map(sim, UINT64_MAX - 4, mem, 16, QMXSIM_MAP_READ), -EINVAL);
	assert_int_equal(qmxsim_unmap(sim, 0x10001), -ENOENT);
	assert_int_equal(qmxsim_unmap(sim, 0x10000), 0);
	assert_int_equal(qmxsim_unmap(sim, 0x10000), -ENOENT);
	assert_int_equal(qmxsim_map(sim, 0x10000, mem, 4096, QMXSIM_MAP_READ), 0);
	qmxsim_del(sim);
}

/* Random shapes on every built size, including edges that are not a
 * multiple of the array and strides larger than the extent. */
static void test_gemm_bit_exact(void **state)
{
	qmx_rng rng = { seed + 1 };

	(void)state;
	for (unsigned i = 0; i < qmxsim_model_count(); i++) {
		unsigned r, c;
		qmxsim_model_size(i, &r, &c);
		qmxsim *sim = new_sim(r, c);
		const int64_t shapes[][3] = { { 1, 1, 1 }, { 8, 8, 8 }, { 17, 23, 29 },
					      { 33, 5, 70 }, { 3, 40, 9 } };
		for (unsigned s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
			qmx_problem pb;
			struct simt_result res;
			make_problem(sim, &pb, shapes[s][0], shapes[s][1], shapes[s][2], &rng);
			assert_int_equal(simt_map(sim, &pb, 1, QMXSIM_MAP_WRITE), 0);
			simt_run(sim, &pb.p, 20000000, &res);
			assert_int_equal(res.run, QMXSIM_RUN_IRQ);
			assert_int_equal(res.error, 0);
			check_matches(&pb);
			uint64_t macs = (uint64_t)(pb.p.m * pb.p.n * pb.p.k);
			if (qmxsim_read32(sim, QMX_REG_FEATURES) & QMX_FEATURES_COUNTERS) {
				assert_int_equal(res.delta.macs, macs);
				assert_true(res.delta.busy_cycles > 0);
				assert_true(res.delta.busy_cycles <= res.run_cycles + 1000);
				assert_true(res.delta.ext_rd_bytes > 0);
				assert_true(res.delta.ext_wr_bytes >= pb.c_bytes -
					    (uint64_t)((pb.p.m - 1) * (pb.p.ldc - pb.p.n)) *
						    (pb.p.out_type == QMX_OUT_INT8 ? 1 : 4));
				assert_int_equal(res.delta.jobs, 1);
			}
			assert_int_equal(qmxsim_irq(sim), 0); /* acked */
			simt_unmap(sim);
			qmx_problem_free(&pb);
		}
		struct qmxsim_mem_stats ms;
		qmxsim_mem_stats(sim, &ms);
		assert_true(ms.read_bursts > 0 && ms.write_bursts > 0);
		assert_int_equal(ms.error_responses, 0);
		qmxsim_del(sim);
	}
}

/* B is not mapped: DECERR -> ERROR = AXI_READ with B's address; C read-only:
 * AXI_WRITE.  The next job on the same model is bit-exact. */
static void test_unmapped_memory(void **state)
{
	qmxsim *sim = new_sim(8, 8);
	qmx_rng rng = { seed + 2 };
	qmx_problem pb;
	struct simt_result res;

	(void)state;
	make_problem(sim, &pb, 16, 16, 16, &rng);
	assert_int_equal(simt_map(sim, &pb, 0, QMXSIM_MAP_WRITE), 0);
	simt_run(sim, &pb.p, 10000000, &res);
	assert_int_equal(res.run, QMXSIM_RUN_IRQ);
	assert_int_equal(res.error, QMX_ERROR_AXI_READ);
	assert_string_equal(qmx_jobprog_error_name(res.error), "AXI_READ");
	assert_true(res.error_addr >= SIMT_B && res.error_addr < SIMT_B + simt_b_bytes(&pb.p));
	simt_unmap(sim);

	assert_int_equal(simt_map(sim, &pb, 1, QMXSIM_MAP_READ), 0); /* C read-only */
	simt_run(sim, &pb.p, 10000000, &res);
	assert_int_equal(res.run, QMXSIM_RUN_IRQ);
	assert_int_equal(res.error, QMX_ERROR_AXI_WRITE);
	assert_true(res.error_addr >= SIMT_C && res.error_addr < SIMT_C + simt_c_bytes(&pb));
	simt_unmap(sim);

	struct qmxsim_mem_stats ms;
	qmxsim_mem_stats(sim, &ms);
	assert_true(ms.error_responses >= 2);

	assert_int_equal(simt_map(sim, &pb, 1, QMXSIM_MAP_WRITE), 0);
	simt_run(sim, &pb.p, 10000000, &res);
	assert_int_equal(res.run, QMXSIM_RUN_IRQ);
	assert_int_equal(res.error, 0);
	check_matches(&pb);
	simt_unmap(sim);
	qmx_problem_free(&pb);
	qmxsim_del(sim);
}

/* A hardware-checked bad argument: K = 0 -> ZERO_DIM, LDA < K -> BAD_STRIDE. */
static void test_hw_argument_errors(void **state)
{
	qmxsim *sim = new_sim(8, 8);
	qmx_rng rng = { seed + 3 };
	qmx_problem pb;
	struct simt_result res;

	(void)state;
	make_problem(sim, &pb, 8, 8, 8, &rng);
	assert_int_equal(simt_map(sim, &pb, 1, QMXSIM_MAP_WRITE), 0);
	qmx_gemm_params bad = pb.p;
	bad.k = 0;
	simt_run(sim, &bad, 100000, &res);
	assert_int_equal(res.run, QMXSIM_RUN_IRQ);
	assert_int_equal(res.error, QMX_ERROR_ZERO_DIM);
	bad = pb.p;
	bad.lda = bad.k - 1;
	simt_run(sim, &bad, 100000, &res);
	assert_int_equal(res.run, QMXSIM_RUN_IRQ);
	assert_int_equal(res.error, QMX_ERROR_BAD_STRIDE);
	bad = pb.p;
	bad.m = qmxsim_read32(sim, QMX_REG_MAX_DIM) + 1;
	simt_run(sim, &bad, 100000, &res);
	assert_int_equal(res.run, QMXSIM_RUN_IRQ);
	assert_int_equal(res.error, QMX_ERROR_DIM_TOO_LARGE);
	simt_run(sim, &pb.p, 10000000, &res);
	assert_int_equal(res.error, 0);
	check_matches(&pb);
	simt_unmap(sim);
	qmx_problem_free(&pb);
	qmxsim_del(sim);
}

static void test_run_limit_and_idle(void **state)
{
	qmxsim *sim = new_sim(8, 8);
	qmx_rng rng = { seed + 4 };
	qmx_problem pb;
	struct qmx_jobprog_gemm g;
	uint64_t ran = 0;

	(void)state;
	/* nothing running: idle at the first poll */
	assert_int_equal(qmxsim_run(sim, 100000, &ran), QMXSIM_RUN_IDLE);
	assert_true(ran <= 200);
	assert_int_equal(qmxsim_run(sim, 0, &ran), QMXSIM_RUN_LIMIT);
	assert_int_equal(ran, 0);

	make_problem(sim, &pb, 40, 40, 40, &rng);
	assert_int_equal(simt_map(sim, &pb, 1, QMXSIM_MAP_WRITE), 0);
	simt_prog(&pb.p, &g);
	qmx_jobprog_write_gemm(&g, simt_wr, sim);
	qmx_jobprog_start(simt_rd, simt_wr, sim, 0); /* polled, no interrupt */
	assert_int_equal(qmxsim_run(sim, 10, &ran), QMXSIM_RUN_LIMIT);
	assert_int_equal(ran, 10);
	int r;
	uint64_t total = 0;
	while ((r = qmxsim_run(sim, 1000, &ran)) == QMXSIM_RUN_LIMIT) {
		total += ran;
		assert_true(total < 50000000);
	}
	assert_int_equal(r, QMXSIM_RUN_IDLE);
	assert_int_equal(qmxsim_irq(sim), 0);
	/* the background poll kept AP_DONE for software, once */
	assert_true(qmxsim_read32(sim, QMX_REG_CTRL) & QMX_CTRL_AP_DONE);
	assert_false(qmxsim_read32(sim, QMX_REG_CTRL) & QMX_CTRL_AP_DONE);
	assert_true(qmxsim_read32(sim, QMX_REG_ISR) & QMX_ISR_DONE);
	check_matches(&pb);
	simt_unmap(sim);
	qmx_problem_free(&pb);
	qmxsim_del(sim);
}

/* Memory hang: the job never finishes, the cycle limit catches it; soft
 * reset recovers and the next job is bit-exact.  Then an injected SLVERR. */
static void test_faults(void **state)
{
	qmxsim *sim = new_sim(8, 8);
	qmx_rng rng = { seed + 5 };
	qmx_problem pb;
	struct simt_result res;

	(void)state;
	make_problem(sim, &pb, 24, 24, 24, &rng);
	assert_int_equal(simt_map(sim, &pb, 1, QMXSIM_MAP_WRITE), 0);
	qmxsim_inject(sim, QMXSIM_FAULT_HANG);
	simt_run(sim, &pb.p, 200000, &res);
	assert_int_equal(res.run, QMXSIM_RUN_LIMIT);
	assert_int_equal(res.run_cycles, 200000);
	assert_false(qmxsim_read32(sim, QMX_REG_CTRL) & QMX_CTRL_AP_IDLE);
	qmx_jobprog_soft_reset(simt_wr, sim);
	assert_true(qmxsim_read32(sim, QMX_REG_CTRL) & QMX_CTRL_AP_IDLE);
	spoil_c(&pb); /* the rerun must write every element */
	simt_run(sim, &pb.p, 20000000, &res); /* a new job clears the hang */
	assert_int_equal(res.run, QMXSIM_RUN_IRQ);
	assert_int_equal(res.error, 0);
	check_matches(&pb);

	qmxsim_inject(sim, QMXSIM_FAULT_AXI_ERROR);
	simt_run(sim, &pb.p, 20000000, &res);
	assert_int_equal(res.run, QMXSIM_RUN_IRQ);
	assert_true(res.error == QMX_ERROR_AXI_READ || res.error == QMX_ERROR_AXI_WRITE);
	simt_run(sim, &pb.p, 20000000, &res);
	assert_int_equal(res.error, 0);

	/* hang cleared by qmxsim_reset_memory as well */
	qmxsim_inject(sim, QMXSIM_FAULT_HANG);
	simt_run(sim, &pb.p, 5000, &res);
	assert_int_equal(res.run, QMXSIM_RUN_LIMIT);
	qmx_jobprog_soft_reset(simt_wr, sim);
	qmxsim_reset_memory(sim);
	qmx_jobprog_clear_isr(simt_rd, simt_wr, sim, QMX_ISR_DONE | QMX_ISR_READY);
	simt_run(sim, &pb.p, 20000000, &res);
	assert_int_equal(res.run, QMXSIM_RUN_IRQ);
	assert_int_equal(res.error, 0);
	simt_unmap(sim);
	qmx_problem_free(&pb);
	qmxsim_del(sim);
}

/* The translate callback replaces the mapped regions. */
struct xlate {
	qmx_problem *pb;
	unsigned calls;
	int deny_b;
};

static void *xlate_fn(void *ctx, uint64_t addr, uint32_t len, int write)
{
	struct xlate *x = ctx;
	const qmx_gemm_params *p = &x->pb->p;
	struct {
		uint64_t base, size;
		void *host;
		int writable;
	} r[] = { { SIMT_A, simt_a_bytes(p), x->pb->a, 0 },
		  { SIMT_B, x->deny_b ? 0 : simt_b_bytes(p), x->pb->b, 0 },
		  { SIMT_C, simt_c_bytes(x->pb), x->pb->c, 1 },
		  { SIMT_BIAS, simt_n4_bytes(p), x->pb->bias, 0 },
		  { SIMT_MULT, simt_n4_bytes(p), x->pb->multipliers, 0 },
		  { SIMT_SHIFT, simt_n4_bytes(p), x->pb->shifts, 0 } };

	x->calls++;
	assert_true((addr >> 12) == ((addr + len - 1) >> 12)); /* never crosses 4 KiB */
	for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (addr >= r[i].base && addr + len <= r[i].base + r[i].size &&
		    (!write || r[i].writable))
			return (char *)r[i].host + (addr - r[i].base);
	return NULL;
}

static void test_translate(void **state)
{
	qmxsim *sim = new_sim(8, 8);
	qmx_rng rng = { seed + 6 };
	qmx_problem pb;
	struct simt_result res;
	struct xlate x = { &pb, 0, 0 };

	(void)state;
	make_problem(sim, &pb, 20, 12, 33, &rng);
	qmxsim_set_translate(sim, xlate_fn, &x);
	simt_run(sim, &pb.p, 20000000, &res);
	assert_int_equal(res.run, QMXSIM_RUN_IRQ);
	assert_int_equal(res.error, 0);
	assert_true(x.calls > 0);
	check_matches(&pb);
	x.deny_b = 1;
	simt_run(sim, &pb.p, 20000000, &res);
	assert_int_equal(res.error, QMX_ERROR_AXI_READ);
	/* back to mapped regions: nothing mapped, so A fails too */
	qmxsim_set_translate(sim, NULL, NULL);
	x.calls = 0;
	simt_run(sim, &pb.p, 20000000, &res);
	assert_int_equal(res.error, QMX_ERROR_AXI_READ);
	assert_int_equal(x.calls, 0);
	qmx_problem_free(&pb);
	qmxsim_del(sim);
}

/* The memory model's bandwidth limit binds: at 2 bytes/cycle (reads and
 * writes together) a job cannot move its bytes in fewer cycles than
 * bytes / 2, and it is slower than at bus rate; results stay bit-exact. */
static void test_memory_bandwidth(void **state)
{
	qmx_rng rng = { seed + 7 };
	uint64_t cycles[2] = { 0, 0 };

	(void)state;
	for (int limited = 0; limited < 2; limited++) {
		struct qmxsim_config cfg;
		struct qmxsim_mem_stats ms;
		struct simt_result res;
		qmx_problem pb;
		qmxsim *sim;
		qmx_rng r = rng; /* same problem both times */

		qmxsim_config_default(&cfg);
		cfg.mem_bytes_per_cycle = limited ? 2 : 0;
		cfg.mem_latency_cycles = limited ? 100 : 40;
		assert_int_equal(qmxsim_new(&cfg, &sim), 0);
		make_problem(sim, &pb, 48, 40, 64, &r);
		assert_int_equal(simt_map(sim, &pb, 1, QMXSIM_MAP_WRITE), 0);
		simt_run(sim, &pb.p, 50000000, &res);
		assert_int_equal(res.run, QMXSIM_RUN_IRQ);
		assert_int_equal(res.error, 0);
		check_matches(&pb);
		qmxsim_mem_stats(sim, &ms);
		cycles[limited] = res.run_cycles;
		if (limited) /* the bucket may hold 2 + 2 beats at the start */
			assert_true(res.run_cycles * 2 + 2 + 2 * qmxsim_axi_data_bits(sim) / 8 >=
				    ms.read_bytes + ms.write_bytes);
		simt_unmap(sim);
		qmx_problem_free(&pb);
		qmxsim_del(sim);
	}
	assert_true(cycles[1] > cycles[0]);
}

static void progress_cb(void *ctx, uint64_t cycles)
{
	uint64_t *last = ctx;
	assert_true(cycles > *last);
	*last = cycles;
}

static void test_trace_and_progress(void **state)
{
	char path[] = "/tmp/qmxsim-trace-XXXXXX";
	int fd = mkstemp(path);
	struct qmxsim_config cfg;
	qmxsim *sim;
	uint64_t last = 0, ran;
	struct stat st;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	qmxsim_config_default(&cfg);
	cfg.trace_path = path;
	assert_int_equal(qmxsim_new(&cfg, &sim), 0);
	qmxsim_set_progress(sim, progress_cb, &last, 10);
	for (int i = 0; i < 20; i++)
		assert_int_equal(qmxsim_read32(sim, QMX_REG_MAGIC), QMX_MAP_MAGIC);
	assert_true(last > 0);
	assert_int_equal(qmxsim_run(sim, 1000, &ran), QMXSIM_RUN_IDLE);
	qmxsim_set_progress(sim, NULL, NULL, 0);
	qmxsim_del(sim);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 100);
	unlink(path);
}

int main(void)
{
	seed = qmx_util_seed(0x51AA5EEDu);
	printf("test_qmxsim: seed %" PRIu64 " (QMX_TEST_SEED), models %s\n", seed,
	       qmxsim_built_arrays());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_identity_all_sizes),
		cmocka_unit_test(test_register_rw),
		cmocka_unit_test(test_map_rules),
		cmocka_unit_test(test_gemm_bit_exact),
		cmocka_unit_test(test_unmapped_memory),
		cmocka_unit_test(test_hw_argument_errors),
		cmocka_unit_test(test_run_limit_and_idle),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_translate),
		cmocka_unit_test(test_memory_bandwidth),
		cmocka_unit_test(test_trace_and_progress),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
