/* SPDX-License-Identifier: MIT */
/*
 * tb_top.cpp - qmx_top against a C++ AXI memory model.
 *
 *   tb_top regs           register block: reset values, identity, RW/RO,
 *                         ISR toggle, unmapped reads, interrupt line
 *   tb_top gemm [count]   random GEMMs (ragged shapes, unaligned rows, every
 *                         output mode), bit-exact vs qmx_gemm_reference,
 *                         ldc gaps and guard bytes checked untouched
 *   tb_top errors         invalid jobs, DECERR on read and write, SOFT_RESET
 *                         with a memory that never answers
 *   tb_top perf M N K     one job at nominal bandwidth: cycles, utilisation
 *
 * Seeds come from $QMX_TEST_SEED (else fixed) and are printed; every wait is
 * bounded by a cycle limit.
 */
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include <verilated.h>

#include TB_TOP_HEADER

/* Verilator renames the port `interrupt` (a C++ keyword in some compilers)
 * to __SYM__interrupt. */

#include "qmx/qmx.h"
#include "qmx_jobprog.h"
#include "qmx_regs.h"
#include "qmx_util.h"
#include "tb_axi_mem.h"
#include "vl_coverage.h"

static const uint64_t MEM_BASE = UINT64_C(0x100000000); /* exercises 64-bit addresses */

static int failures;
#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			failures++;                                            \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);           \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

struct Tb {
	std::unique_ptr<VerilatedContext> ctx;
	std::unique_ptr<TB_TOP_CLASS> top;
	TbAxiMem mem;
	uint64_t cycles = 0;

	Tb(size_t mem_size)
		: ctx(new VerilatedContext), mem(MEM_BASE, mem_size, TB_BUS_BITS / 8)
	{
		top.reset(new TB_TOP_CLASS(ctx.get()));
		top->ap_rst_n = 0;
		for (int i = 0; i < 4; i++)
			step();
		top->ap_rst_n = 1;
		step();
	}
	~Tb()
	{
		top->final();
		qmx_vl_coverage_write(ctx.get(), "rtl_top_tb");
	}

	void low()
	{
		mem.drive(top.get());
		top->ap_clk = 0;
		top->eval();
		mem.sample(top.get());
	}
	void high()
	{
		top->ap_clk = 1;
		top->eval();
		cycles++;
	}
	void step()
	{
		low();
		high();
	}

	void wr(uint32_t addr, uint32_t data, uint8_t strb = 0xf)
	{
		top->s_axi_control_awaddr = addr;
		top->s_axi_control_awvalid = 1;
		top->s_axi_control_wdata = data;
		top->s_axi_control_wstrb = strb;
		top->s_axi_control_wvalid = 1;
		top->s_axi_control_bready = 1;
		bool aw = false, b = false;
		for (int n = 0; n < 100 && !b; n++) {
			low();
			bool fire = !aw && top->s_axi_control_awready && top->s_axi_control_wready;
			b = aw && top->s_axi_control_bvalid;
			if (b)
				CHECK(top->s_axi_control_bresp == 0, "write 0x%x: BRESP %d", addr,
				      top->s_axi_control_bresp);
			high();
			if (fire) {
				aw = true;
				top->s_axi_control_awvalid = 0;
				top->s_axi_control_wvalid = 0;
			}
		}
		CHECK(b, "write 0x%x: no response in 100 cycles", addr);
		top->s_axi_control_bready = 0;
	}
	uint32_t rd(uint32_t addr, unsigned *resp = nullptr)
	{
		top->s_axi_control_araddr = addr;
		top->s_axi_control_arvalid = 1;
		top->s_axi_control_rready = 1;
		bool ar = false, r = false;
		uint32_t v = 0;
		for (int n = 0; n < 100 && !r; n++) {
			low();
			bool fire = !ar && top->s_axi_control_arready;
			r = ar && top->s_axi_control_rvalid;
			if (r) {
				v = top->s_axi_control_rdata;
				if (resp)
					*resp = top->s_axi_control_rresp;
			}
			high();
			if (fire) {
				ar = true;
				top->s_axi_control_arvalid = 0;
			}
		}
		CHECK(r, "read 0x%x: no response in 100 cycles", addr);
		top->s_axi_control_rready = 0;
		return v;
	}
	uint64_t rd64(uint32_t lo) { uint64_t l = rd(lo); return l | (uint64_t)rd(lo + 4) << 32; }

	/* Run until the interrupt line rises (done with IER/GIE set). */
	bool wait_irq(uint64_t limit)
	{
		for (uint64_t n = 0; n < limit; n++) {
			if (top->__SYM__interrupt)
				return true;
			step();
		}
		return false;
	}
};

static Tb *g_tb;
static void cb_write(void *, uint32_t off, uint32_t v) { g_tb->wr(off, v); }
static uint32_t cb_read(void *, uint32_t off) { return g_tb->rd(off); }

struct Counters {
	uint64_t busy, stall, macs, srd, swr, erd, ewr, jobs;
};
static Counters read_counters(Tb &tb)
{
	Counters c;
	c.busy = tb.rd64(QMX_REG_CNT_BUSY_CYCLES_LO);
	c.stall = tb.rd64(QMX_REG_CNT_STALL_CYCLES_LO);
	c.macs = tb.rd64(QMX_REG_CNT_MACS_LO);
	c.srd = tb.rd64(QMX_REG_CNT_SRAM_RD_BYTES_LO);
	c.swr = tb.rd64(QMX_REG_CNT_SRAM_WR_BYTES_LO);
	c.erd = tb.rd64(QMX_REG_CNT_EXT_RD_BYTES_LO);
	c.ewr = tb.rd64(QMX_REG_CNT_EXT_WR_BYTES_LO);
	c.jobs = tb.rd64(QMX_REG_CNT_JOBS_LO);
	return c;
}

/* Start a programmed job and wait for done; returns ERROR (or -1 on timeout). */
static int run_job(Tb &tb, const qmx_jobprog_gemm &g, uint64_t limit, uint64_t *cycles = nullptr)
{
	g_tb = &tb;
	qmx_jobprog_write_gemm(&g, cb_write, nullptr);
	qmx_jobprog_start(cb_read, cb_write, nullptr, 1);
	uint64_t t0 = tb.cycles;
	if (!tb.wait_irq(limit)) {
		printf("  timeout after %" PRIu64 " cycles\n", limit);
		return -1;
	}
	if (cycles)
		*cycles = tb.cycles - t0;
	uint32_t ctrl = tb.rd(QMX_REG_CTRL);
	CHECK(ctrl & QMX_CTRL_AP_DONE, "CTRL 0x%x: AP_DONE not set at interrupt", ctrl);
	CHECK(ctrl & QMX_CTRL_AP_IDLE, "CTRL 0x%x: AP_IDLE not set at done", ctrl);
	int err = (int)tb.rd(QMX_REG_ERROR);
	qmx_jobprog_ack(cb_read, cb_write, nullptr);
	CHECK(!tb.top->__SYM__interrupt, "interrupt still high after ISR clear");
	return err;
}

/* ---------------------------------------------------------------- gemm */

struct Placed {
	qmx_gemm_params p;
	qmx_jobprog_gemm g;
	std::vector<uint8_t> expect; /* C region incl. guard bytes */
	uint64_t c_lo, c_hi;        /* guarded region [c_lo, c_hi) */
};

static uint64_t place(uint64_t &cursor, uint64_t bytes, qmx_rng *rng)
{
	uint64_t a = cursor + (uint64_t)qmx_rng_range(rng, 0, 200);
	cursor = a + bytes + 64;
	return a;
}

/* Lay a problem out in the model memory at random (unaligned) addresses,
 * run the reference on a copy, return what C's region must hold after. */
static Placed place_problem(Tb &tb, const qmx_gemm_params &p, qmx_rng *rng)
{
	Placed pl;
	pl.p = p;
	struct qmx_gemm_extents {
		uint64_t a, b, c;
	} e;
	unsigned esz = p.out_type == QMX_OUT_INT8 ? 1 : 4;
	e.a = (uint64_t)((p.m - 1) * p.lda + p.k);
	e.b = (uint64_t)((p.k - 1) * p.ldb + p.n);
	e.c = (uint64_t)((p.m - 1) * p.ldc + p.n) * esz;
	uint64_t cur = MEM_BASE + 64;
	uint64_t a = place(cur, e.a, rng), b = place(cur, e.b, rng);
	uint64_t bias = place(cur, p.n * 4, rng), mult = place(cur, p.n * 4, rng),
		 shift = place(cur, p.n * 4, rng);
	uint64_t c = place(cur, e.c, rng);
	CHECK(cur < MEM_BASE + tb.mem.mem.size(), "memory model too small");
	for (uint64_t i = 0; i < e.a; i++)
		*tb.mem.at(a + i) = (uint8_t)qmx_rng_next(rng);
	for (uint64_t i = 0; i < e.b; i++)
		*tb.mem.at(b + i) = (uint8_t)qmx_rng_next(rng);
	for (int64_t j = 0; j < p.n; j++) {
		int32_t bv = (int32_t)qmx_rng_range(rng, -100000, 100000);
		double real = 1.0 / (double)(p.k * 16 + 1) * (double)(1 << qmx_rng_range(rng, 0, 12)) / 64.0;
		int32_t mv, sv;
		qmx_quantize_multiplier(real, &mv, &sv);
		memcpy(tb.mem.at(bias + 4 * j), &bv, 4);
		memcpy(tb.mem.at(mult + 4 * j), &mv, 4);
		memcpy(tb.mem.at(shift + 4 * j), &sv, 4);
	}
	pl.c_lo = c - 16;
	pl.c_hi = c + e.c + 16;
	for (uint64_t x = pl.c_lo; x < pl.c_hi; x++)
		*tb.mem.at(x) = 0xA5;
	pl.expect.assign(tb.mem.at(pl.c_lo), tb.mem.at(pl.c_hi));

	qmx_gemm_host_operands ops;
	memset(&ops, 0, sizeof(ops));
	ops.a = (const int8_t *)tb.mem.at(a);
	ops.b = (const int8_t *)tb.mem.at(b);
	/* The device reads int32 vectors at any byte address; the C API takes
	 * them aligned (docs/semantics.md), so the reference gets copies. */
	std::vector<int32_t> bias_v((size_t)p.n), mult_v((size_t)p.n), shift_v((size_t)p.n);
	memcpy(bias_v.data(), tb.mem.at(bias), (size_t)p.n * 4);
	memcpy(mult_v.data(), tb.mem.at(mult), (size_t)p.n * 4);
	memcpy(shift_v.data(), tb.mem.at(shift), (size_t)p.n * 4);
	ops.bias = bias_v.data();
	ops.multipliers = mult_v.data();
	ops.shifts = shift_v.data();
	ops.c = pl.expect.data() + 16;
	int err = qmx_gemm_reference(&p, &ops);
	CHECK(err == 0, "reference failed: %s", qmx_last_error());

	qmx_jobprog_gemm &g = pl.g;
	memset(&g, 0, sizeof(g));
	g.a_addr = a;
	g.b_addr = b;
	g.c_addr = c;
	g.bias_addr = bias;
	g.mult_addr = mult;
	g.shift_addr = shift;
	g.m = (uint32_t)p.m;
	g.n = (uint32_t)p.n;
	g.k = (uint32_t)p.k;
	g.lda = (uint32_t)p.lda;
	g.ldb = (uint32_t)p.ldb;
	g.ldc = (uint32_t)p.ldc;
	g.a_zero_point = p.a_zero_point;
	g.b_zero_point = p.b_zero_point;
	g.c_zero_point = p.c_zero_point;
	g.out_int8 = p.out_type == QMX_OUT_INT8;
	g.per_channel = g.out_int8 && p.quant_mode == QMX_QUANT_PER_CHANNEL;
	g.has_bias = (uint32_t)p.has_bias;
	g.multiplier = p.multiplier;
	g.shift = p.shift;
	g.qmin = p.qmin;
	g.qmax = p.qmax;
	return pl;
}

static bool check_c(Tb &tb, const Placed &pl)
{
	unsigned esz = pl.p.out_type == QMX_OUT_INT8 ? 1 : 4;
	for (uint64_t x = pl.c_lo; x < pl.c_hi; x++) {
		uint8_t got = *tb.mem.at(x), want = pl.expect[x - pl.c_lo];
		if (got != want) {
			int64_t off = (int64_t)(x - pl.c_lo) - 16;
			int64_t el = off / (int64_t)esz;
			printf("  byte %+" PRId64 " of C (row %" PRId64 ", col %" PRId64
			       "): 0x%02x, expected 0x%02x\n",
			       off, el / pl.p.ldc, el % pl.p.ldc, got, want);
			return false;
		}
	}
	return true;
}

static int cmd_gemm(int count)
{
	uint64_t seed = qmx_util_seed(0x51A7);
	printf("gemm: seed %" PRIu64 " (set QMX_TEST_SEED to change)\n", seed);
	qmx_rng rng = { seed };
	Tb tb(4 << 20);
	struct {
		int64_t m, n, k;
	} fixed[] = { { 1, 1, 1 }, { 8, 8, 8 }, { 13, 21, 37 }, { 40, 70, 300 },
		      { 33, 9, 513 }, { 64, 64, 64 }, { 3, 100, 5 } };
	int nfixed = (int)(sizeof(fixed) / sizeof(fixed[0]));
	for (int t = 0; t < nfixed + count; t++) {
		qmx_gemm_params p;
		int64_t m, n, k;
		if (t < nfixed) {
			m = fixed[t].m, n = fixed[t].n, k = fixed[t].k;
		} else {
			m = qmx_rng_range(&rng, 1, 48);
			n = qmx_rng_range(&rng, 1, 48);
			k = qmx_rng_range(&rng, 1, 300);
		}
		qmx_gemm_params_init(&p, m, n, k);
		p.lda = k + (qmx_rng_next(&rng) & 1 ? qmx_rng_range(&rng, 0, 9) : 0);
		p.ldb = n + (qmx_rng_next(&rng) & 1 ? qmx_rng_range(&rng, 0, 9) : 0);
		p.ldc = n + (qmx_rng_next(&rng) & 1 ? qmx_rng_range(&rng, 0, 9) : 0);
		if (t > 1)
			qmx_problem_random_quant(&p, &rng);
		tb.mem.stall_pct = (t % 3 == 2) ? 25 : 0;
		tb.mem.latency = (unsigned)qmx_rng_range(&rng, 2, 60);
		Placed pl = place_problem(tb, p, &rng);
		Counters c0 = read_counters(tb);
		uint64_t r0 = tb.mem.beats_r, w0 = tb.mem.beats_w;
		uint64_t cyc = 0;
		uint64_t limit = 200000 + (uint64_t)(m * n * k) / 4;
		int err = run_job(tb, pl.g, limit, &cyc);
		Counters c1 = read_counters(tb);
		printf("gemm %2d: %3" PRId64 "x%3" PRId64 "x%3" PRId64
		       " ld %" PRId64 "/%" PRId64 "/%" PRId64 " %s%s%s zp %d/%d stall %u%%: %" PRIu64
		       " cycles\n",
		       t, m, n, k, p.lda, p.ldb, p.ldc, p.out_type ? "int8" : "int32",
		       p.out_type && p.quant_mode ? " per-channel" : "", p.has_bias ? " bias" : "",
		       p.a_zero_point, p.b_zero_point, tb.mem.stall_pct, cyc);
		CHECK(err == 0, "job %d ended with ERROR %d", t, err);
		CHECK(check_c(tb, pl), "job %d: C differs from qmx_gemm_reference", t);
		CHECK(c1.macs - c0.macs == (uint64_t)(m * n * k), "job %d: CNT_MACS %" PRIu64 ", expected %" PRId64,
		      t, c1.macs - c0.macs, m * n * k);
		CHECK(c1.jobs - c0.jobs == 1, "job %d: CNT_JOBS advanced by %" PRIu64, t, c1.jobs - c0.jobs);
		CHECK(c1.erd - c0.erd == (tb.mem.beats_r - r0) * tb.mem.wb, "job %d: CNT_EXT_RD_BYTES", t);
		CHECK(c1.ewr - c0.ewr == (tb.mem.beats_w - w0) * tb.mem.wb, "job %d: CNT_EXT_WR_BYTES", t);
		CHECK(c1.busy > c0.busy && c1.stall - c0.stall < c1.busy - c0.busy, "job %d: busy/stall", t);
		CHECK(tb.mem.violation.empty(), "AXI protocol: %s", tb.mem.violation.c_str());
		CHECK(tb.mem.idle(), "job %d: memory transactions left over", t);
		if (failures)
			break;
	}
	return failures ? 1 : 0;
}

/* ---------------------------------------------------------------- errors */

static qmx_jobprog_gemm small_job(uint64_t base)
{
	qmx_jobprog_gemm g;
	memset(&g, 0, sizeof(g));
	g.a_addr = base + 0x1000;
	g.b_addr = base + 0x2000;
	g.c_addr = base + 0x3000;
	g.m = g.n = g.k = 16;
	g.lda = g.ldb = g.ldc = 16;
	g.multiplier = 1 << 30;
	g.shift = 1;
	g.qmin = -128;
	g.qmax = 127;
	return g;
}

static int cmd_errors()
{
	Tb tb(1 << 20);
	struct {
		const char *what;
		void (*mod)(qmx_jobprog_gemm &);
		int want;
	} bad[] = {
		{ "M = 0", [](qmx_jobprog_gemm &g) { g.m = 0; }, QMX_ERROR_ZERO_DIM },
		{ "K = 0", [](qmx_jobprog_gemm &g) { g.k = 0; }, QMX_ERROR_ZERO_DIM },
		{ "N > MAX_DIM", [](qmx_jobprog_gemm &g) { g.n = g.ldb = g.ldc = 0x7fffffff; }, QMX_ERROR_DIM_TOO_LARGE },
		{ "LDA > MAX_DIM", [](qmx_jobprog_gemm &g) { g.lda = 0x80000000u; }, QMX_ERROR_DIM_TOO_LARGE },
		{ "LDA < K", [](qmx_jobprog_gemm &g) { g.lda = 15; }, QMX_ERROR_BAD_STRIDE },
		{ "LDC < N", [](qmx_jobprog_gemm &g) { g.ldc = 3; }, QMX_ERROR_BAD_STRIDE },
		{ "SHIFT 31", [](qmx_jobprog_gemm &g) { g.out_int8 = 1; g.shift = 31; }, QMX_ERROR_BAD_QUANT },
		{ "MULT < 0", [](qmx_jobprog_gemm &g) { g.out_int8 = 1; g.multiplier = -1; }, QMX_ERROR_BAD_QUANT },
		{ "QMIN > QMAX", [](qmx_jobprog_gemm &g) { g.out_int8 = 1; g.qmin = 5; g.qmax = 4; }, QMX_ERROR_BAD_QUANT },
		{ "A_ZP 128", [](qmx_jobprog_gemm &g) { g.a_zero_point = 128; }, QMX_ERROR_BAD_QUANT },
	};
	for (auto &b : bad) {
		qmx_jobprog_gemm g = small_job(MEM_BASE);
		b.mod(g);
		uint64_t r0 = tb.mem.beats_r, w0 = tb.mem.beats_w, cyc = 0;
		int err = run_job(tb, g, 100, &cyc);
		printf("errors: %-14s -> ERROR %d after %" PRIu64 " cycles\n", b.what, err, cyc);
		CHECK(err == b.want, "%s: ERROR %d, expected %d", b.what, err, b.want);
		CHECK(tb.mem.beats_r == r0 && tb.mem.beats_w == w0, "%s: memory was accessed", b.what);
	}
	/* Reserved flag bit: written directly (jobprog only writes known bits). */
	{
		qmx_jobprog_gemm g = small_job(MEM_BASE);
		g_tb = &tb;
		qmx_jobprog_write_gemm(&g, cb_write, nullptr);
		tb.wr(QMX_REG_FLAGS, 0x8);
		qmx_jobprog_start(cb_read, cb_write, nullptr, 1);
		bool ok = tb.wait_irq(100);
		int err = (int)tb.rd(QMX_REG_ERROR);
		qmx_jobprog_ack(cb_read, cb_write, nullptr);
		printf("errors: %-14s -> ERROR %d\n", "FLAGS bit 3", err);
		CHECK(ok && err == QMX_ERROR_BAD_FLAGS, "FLAGS 0x8: ERROR %d", err);
	}
	/* A outside the memory: DECERR on the first read. */
	{
		qmx_jobprog_gemm g = small_job(MEM_BASE);
		g.a_addr = MEM_BASE - 0x10000 + 3;
		int err = run_job(tb, g, 20000);
		uint64_t ea = tb.rd64(QMX_REG_ERROR_ADDR_LO);
		printf("errors: A outside memory -> ERROR %d at 0x%" PRIx64 "\n", err, ea);
		CHECK(err == QMX_ERROR_AXI_READ, "bad A: ERROR %d", err);
		CHECK(ea == ((g.a_addr) & ~(uint64_t)(tb.mem.wb - 1)), "bad A: ERROR_ADDR 0x%" PRIx64, ea);
		CHECK(tb.mem.idle(), "bad A: transactions left over");
	}
	/* C outside the memory: DECERR on the first write response. */
	{
		qmx_jobprog_gemm g = small_job(MEM_BASE);
		g.c_addr = MEM_BASE + tb.mem.mem.size() + 0x100;
		int err = run_job(tb, g, 20000);
		uint64_t ea = tb.rd64(QMX_REG_ERROR_ADDR_LO);
		printf("errors: C outside memory -> ERROR %d at 0x%" PRIx64 "\n", err, ea);
		CHECK(err == QMX_ERROR_AXI_WRITE, "bad C: ERROR %d", err);
		CHECK(ea == g.c_addr, "bad C: ERROR_ADDR 0x%" PRIx64, ea);
		for (int i = 0; i < 20 && !tb.mem.idle(); i++)
			tb.step();
		CHECK(tb.mem.idle(), "bad C: transactions left over");
	}
	/* Memory that never answers: SOFT_RESET must still return to idle. */
	{
		qmx_jobprog_gemm g = small_job(MEM_BASE);
		tb.mem.hang = true;
		g_tb = &tb;
		qmx_jobprog_write_gemm(&g, cb_write, nullptr);
		qmx_jobprog_start(cb_read, cb_write, nullptr, 1);
		for (int i = 0; i < 2000; i++)
			tb.step();
		uint32_t ctrl = tb.rd(QMX_REG_CTRL);
		CHECK(!(ctrl & QMX_CTRL_AP_IDLE), "hung job: CTRL 0x%x shows idle", ctrl);
		Counters c0 = read_counters(tb);
		tb.wr(QMX_REG_SOFT_RESET, QMX_JOBPROG_SOFT_RESET_KEY);
		tb.mem.reset();
		tb.mem.hang = false;
		for (int i = 0; i < 4; i++)
			tb.step();
		ctrl = tb.rd(QMX_REG_CTRL);
		Counters c1 = read_counters(tb);
		printf("errors: hung memory + SOFT_RESET -> CTRL 0x%x\n", ctrl);
		CHECK(ctrl & QMX_CTRL_AP_IDLE, "after SOFT_RESET: CTRL 0x%x not idle", ctrl);
		CHECK(!tb.top->m_axi_gmem_arvalid && !tb.top->m_axi_gmem_awvalid &&
		      !tb.top->m_axi_gmem_wvalid, "after SOFT_RESET: AXI valid held");
		CHECK(c1.busy >= c0.busy && c1.macs == c0.macs, "SOFT_RESET changed counters");
		qmx_jobprog_ack(cb_read, cb_write, nullptr);
	}
	/* And the engine works afterwards. */
	{
		qmx_rng rng = { 7 };
		qmx_gemm_params p;
		qmx_gemm_params_init(&p, 20, 19, 70);
		qmx_problem_random_quant(&p, &rng);
		Placed pl = place_problem(tb, p, &rng);
		int err = run_job(tb, pl.g, 100000);
		printf("errors: good job after the errors -> ERROR %d\n", err);
		CHECK(err == 0 && check_c(tb, pl), "job after errors failed");
	}
	CHECK(tb.mem.violation.empty(), "AXI protocol: %s", tb.mem.violation.c_str());
	return failures ? 1 : 0;
}

/* ---------------------------------------------------------------- regs */

static int cmd_regs()
{
	Tb tb(1 << 16);
	unsigned resp = 9;
	struct {
		uint32_t off, want;
	} rv[] = {
		{ QMX_REG_CTRL, QMX_CTRL_AP_IDLE },
		{ QMX_REG_GIE, 0 },
		{ QMX_REG_IER, 0 },
		{ QMX_REG_ISR, 0 },
		{ QMX_REG_MAGIC, QMX_MAP_MAGIC },
		{ QMX_REG_VERSION, QMX_MAP_VERSION },
		{ QMX_REG_ARRAY, (uint32_t)TB_ROWS << QMX_ARRAY_ROWS_SHIFT | (uint32_t)TB_COLS << QMX_ARRAY_COLS_SHIFT },
		{ QMX_REG_BUS, (uint32_t)TB_BUS_BITS << QMX_BUS_DATA_BITS_SHIFT | 64u << QMX_BUS_ADDR_BITS_SHIFT },
		{ QMX_REG_CLOCK_KHZ, 250000 },
		{ QMX_REG_FEATURES, 0x7f },
		{ QMX_REG_MAX_DIM, 1u << 20 },
		{ QMX_REG_ERROR, 0 },
		{ QMX_REG_ERROR_ADDR_LO, 0 },
		{ QMX_REG_CNT_JOBS_LO, 0 },
		{ QMX_REG_CNT_MACS_LO, 0 },
	};
	for (auto &r : rv) {
		uint32_t v = tb.rd(r.off, &resp);
		CHECK(v == r.want && resp == 0, "reset 0x%03x = 0x%08x (resp %u), expected 0x%08x", r.off, v,
		      resp, r.want);
	}
	/* Arguments: read/write, byte strobes. */
	for (uint32_t off = QMX_REG_A_ADDR_LO; off <= QMX_REG_FLAGS; off += 4) {
		CHECK(tb.rd(off) == 0, "argument 0x%03x not 0 at reset", off);
		uint32_t pat = 0x9E3779B9u * (off + 1);
		tb.wr(off, pat);
		CHECK(tb.rd(off) == pat, "argument 0x%03x: read back 0x%08x, wrote 0x%08x", off, tb.rd(off), pat);
		tb.wr(off, 0xFFFFFFFF, 0x4);
		uint32_t want = (pat & 0xFF00FFFF) | 0x00FF0000;
		CHECK(tb.rd(off) == want, "argument 0x%03x: strobe 0x4 gave 0x%08x", off, tb.rd(off));
	}
	/* Read-only registers ignore writes. */
	tb.wr(QMX_REG_MAGIC, 0);
	tb.wr(QMX_REG_MAX_DIM, 5);
	tb.wr(QMX_REG_ERROR, 3);
	CHECK(tb.rd(QMX_REG_MAGIC) == QMX_MAP_MAGIC, "MAGIC writable");
	CHECK(tb.rd(QMX_REG_MAX_DIM) == 1u << 20, "MAX_DIM writable");
	CHECK(tb.rd(QMX_REG_ERROR) == 0, "ERROR writable");
	/* Unmapped addresses read 0 with OKAY. */
	uint32_t unmapped[] = { 0x078, 0x07C, 0x09C, 0x0D8, 0x0FC, 0x140, 0x1FC };
	for (uint32_t off : unmapped) {
		tb.wr(off, 0xFFFFFFFF);
		uint32_t v = tb.rd(off, &resp);
		CHECK(v == 0 && resp == 0, "unmapped 0x%03x = 0x%x (resp %u)", off, v, resp);
	}
	CHECK(tb.rd(QMX_REG_SOFT_RESET) == 0, "SOFT_RESET reads non-zero");
	/* A job that fails validation: done at once, no memory access. */
	tb.wr(QMX_REG_M, 0);
	tb.wr(QMX_REG_IER, QMX_IER_DONE);
	tb.wr(QMX_REG_CTRL, QMX_CTRL_AP_START);
	for (int i = 0; i < 5; i++)
		tb.step();
	CHECK(!tb.top->__SYM__interrupt, "interrupt without GIE");
	CHECK(tb.rd(QMX_REG_ISR) == (QMX_ISR_DONE | QMX_ISR_READY), "ISR 0x%x after done", tb.rd(QMX_REG_ISR));
	tb.wr(QMX_REG_GIE, 1);
	tb.step();
	CHECK(tb.top->__SYM__interrupt, "no interrupt with GIE, IER.DONE, ISR.DONE");
	tb.wr(QMX_REG_IER, QMX_IER_READY);
	tb.step();
	CHECK(tb.top->__SYM__interrupt, "no interrupt with IER.READY, ISR.READY");
	tb.wr(QMX_REG_ISR, QMX_ISR_READY); /* toggle: clears READY */
	tb.step();
	CHECK(!tb.top->__SYM__interrupt, "interrupt after ISR.READY cleared");
	CHECK(tb.rd(QMX_REG_ISR) == QMX_ISR_DONE, "ISR 0x%x after toggling READY", tb.rd(QMX_REG_ISR));
	tb.wr(QMX_REG_ISR, QMX_ISR_READY); /* toggle again: sets it */
	CHECK(tb.rd(QMX_REG_ISR) == (QMX_ISR_DONE | QMX_ISR_READY), "ISR toggle-on-write");
	tb.wr(QMX_REG_ISR, QMX_ISR_DONE | QMX_ISR_READY);
	CHECK(tb.rd(QMX_REG_ISR) == 0, "ISR not cleared");
	uint32_t c1 = tb.rd(QMX_REG_CTRL), c2 = tb.rd(QMX_REG_CTRL);
	CHECK(c1 == (QMX_CTRL_AP_DONE | QMX_CTRL_AP_IDLE | QMX_CTRL_AP_READY), "CTRL 0x%x after done", c1);
	CHECK(c2 == QMX_CTRL_AP_IDLE, "CTRL 0x%x: DONE/READY not cleared on read", c2);
	CHECK(tb.rd(QMX_REG_ERROR) == QMX_ERROR_ZERO_DIM, "ERROR not ZERO_DIM");
	CHECK(tb.rd(QMX_REG_CNT_JOBS_LO) == 1 && tb.rd(QMX_REG_CNT_JOBS_HI) == 0, "CNT_JOBS");
	CHECK(tb.rd64(QMX_REG_CNT_BUSY_CYCLES_LO) == 0, "busy cycles for a rejected job");
	CHECK(tb.mem.beats_r == 0 && tb.mem.beats_w == 0, "rejected job touched memory");
	printf("regs: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}

/* ---------------------------------------------------------------- perf */

static int cmd_perf(int64_t m, int64_t n, int64_t k)
{
	uint64_t need = (uint64_t)(m * k + k * n + m * n * 4) + (1 << 16);
	Tb tb(need);
	qmx_rng rng = { 1 };
	qmx_gemm_params p;
	qmx_gemm_params_init(&p, m, n, k);
	Placed pl;
	{
		/* Aligned operands for the figure of merit; same checks. */
		pl.p = p;
		uint64_t a = MEM_BASE, b = a + (uint64_t)(m * k), c = b + (uint64_t)(k * n);
		for (uint64_t i = 0; i < (uint64_t)(m * k + k * n); i++)
			*tb.mem.at(a + i) = (uint8_t)qmx_rng_next(&rng);
		pl.c_lo = c;
		pl.c_hi = c + (uint64_t)(m * n * 4);
		pl.expect.assign(pl.c_hi - pl.c_lo, 0);
		qmx_gemm_host_operands ops;
		memset(&ops, 0, sizeof(ops));
		ops.a = (const int8_t *)tb.mem.at(a);
		ops.b = (const int8_t *)tb.mem.at(b);
		ops.c = pl.expect.data();
		qmx_gemm_reference(&p, &ops);
		memset(&pl.g, 0, sizeof(pl.g));
		pl.g.a_addr = a;
		pl.g.b_addr = b;
		pl.g.c_addr = c;
		pl.g.m = (uint32_t)m, pl.g.n = (uint32_t)n, pl.g.k = (uint32_t)k;
		pl.g.lda = (uint32_t)k, pl.g.ldb = (uint32_t)n, pl.g.ldc = (uint32_t)n;
		pl.g.multiplier = 1 << 30, pl.g.shift = 1, pl.g.qmin = -128, pl.g.qmax = 127;
	}
	tb.mem.latency = 40;
	tb.mem.max_reads = 32;
	Counters c0 = read_counters(tb);
	/* CPU time, not wall time: the figure must not depend on machine load. */
	std::clock_t t0 = std::clock();
	int err = run_job(tb, pl.g, (uint64_t)(m * n * k) / 16 + 100000);
	double cpu = (double)(std::clock() - t0) / CLOCKS_PER_SEC;
	Counters c1 = read_counters(tb);
	uint64_t busy = c1.busy - c0.busy, macs = c1.macs - c0.macs;
	double util = (double)macs / ((double)busy * TB_ROWS * TB_COLS);
	printf("perf %" PRId64 "x%" PRId64 "x%" PRId64 " on %dx%d, %d-bit bus, latency %u: %" PRIu64
	       " busy cycles, %" PRIu64 " stall, %" PRIu64 " MACs, utilisation %.2f %%, ext rd %" PRIu64
	       " B, wr %" PRIu64 " B; %.2f M simulated cycles per CPU second\n",
	       m, n, k, TB_ROWS, TB_COLS, TB_BUS_BITS, tb.mem.latency, busy, c1.stall - c0.stall, macs,
	       100.0 * util, c1.erd - c0.erd, c1.ewr - c0.ewr, (double)busy / cpu / 1e6);
	CHECK(err == 0, "perf job: ERROR %d", err);
	CHECK(check_c(tb, pl), "perf job: C differs from the reference");
	CHECK(macs == (uint64_t)(m * n * k), "CNT_MACS");
	CHECK(tb.mem.violation.empty(), "AXI protocol: %s", tb.mem.violation.c_str());
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	Verilated::commandArgs(argc, argv);
	const char *cmd = argc > 1 ? argv[1] : "gemm";
	int rc;
	if (!strcmp(cmd, "regs"))
		rc = cmd_regs();
	else if (!strcmp(cmd, "gemm"))
		rc = cmd_gemm(argc > 2 ? atoi(argv[2]) : 12);
	else if (!strcmp(cmd, "errors"))
		rc = cmd_errors();
	else if (!strcmp(cmd, "perf") && argc > 4)
		rc = cmd_perf(atoll(argv[2]), atoll(argv[3]), atoll(argv[4]));
	else {
		fprintf(stderr, "usage: %s regs | gemm [count] | errors | perf M N K\n", argv[0]);
		return 2;
	}
	printf("%s: %s\n", cmd, rc ? "FAILED" : "passed");
	return rc;
}
