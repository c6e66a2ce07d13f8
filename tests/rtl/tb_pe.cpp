/* SPDX-License-Identifier: MIT */
/*
 * tb_pe.cpp - qmx_pe against a C model: random operands (the full 9-bit
 * range of A - za and B - zb), random steps that start from zero, from the
 * accumulator memory (addressed one cycle early through the look-ahead
 * port) or from the running sum, random write-backs and publishes, bubbles;
 * checks the forwarded operands and the published sums.
 */
#include <cinttypes>
#include <cstdio>
#include <memory>

#include <verilated.h>

#include "Vqmx_pe.h"
#include "qmx_util.h"
#include "vl_coverage.h"

struct step {
	bool v, zero, load, wb, last;
	unsigned idx;
	int32_t a, b;
};

static step random_step(qmx_rng *rng, int cyc)
{
	step s;
	s.a = (int32_t)qmx_rng_range(rng, -255, 255);
	s.b = (int32_t)qmx_rng_range(rng, -255, 255);
	if (cyc % 5000 < 50) /* extremes */
		s.a = (cyc & 1) ? 255 : -255, s.b = (cyc & 2) ? 255 : -255;
	s.v = qmx_rng_next(rng) % 8 != 0;
	unsigned mode = (unsigned)(qmx_rng_next(rng) % 16);
	s.zero = mode == 0;
	s.load = mode == 1 || mode == 2;
	s.wb = qmx_rng_next(rng) % 6 == 0;
	s.last = qmx_rng_next(rng) % 16 == 0;
	s.idx = (unsigned)qmx_rng_range(rng, 0, 15);
	return s;
}

int main(int argc, char **argv)
{
	Verilated::commandArgs(argc, argv);
	uint64_t seed = qmx_util_seed(0x9E);
	printf("pe: seed %" PRIu64 "\n", seed);
	qmx_rng rng = { seed };
	auto ctx = std::make_unique<VerilatedContext>();
	auto pe = std::make_unique<Vqmx_pe>(ctx.get());
	uint32_t mem[16] = { 0 }, cur = 0, rd = 0, res = 0;
	bool res_ok = false;
	int fails = 0, checked = 0, loads = 0;

	/* Every accumulator starts known: zero them through write-backs. */
	step nx = random_step(&rng, 0);
	for (int cyc = 0; cyc < 200000 && fails < 5; cyc++) {
		step s = nx;
		nx = random_step(&rng, cyc + 1);
		if (cyc < 16) {
			s = step{ true, true, false, true, false, (unsigned)cyc, 0, 0 };
			if (cyc == 15)
				nx.load = false;
		}
		pe->a_i = (uint16_t)(s.a & 0x1ff);
		pe->b_i = (uint16_t)(s.b & 0x1ff);
		pe->v_i = s.v;
		pe->zero_i = s.zero;
		pe->load_i = s.load;
		pe->wb_i = s.wb;
		pe->last_i = s.last;
		pe->acc_i = s.idx;
		pe->rd_i = nx.v && nx.load;
		pe->racc_i = nx.idx;
		pe->clk_i = 0;
		pe->eval();
		pe->clk_i = 1;
		pe->eval();
		/* Model of one clock edge: the look-ahead read sees the memory
		 * before this edge's write. */
		uint32_t rd_next = (nx.v && nx.load) ? mem[nx.idx] : rd;
		if (s.v) {
			uint32_t base = s.zero ? 0 : s.load ? rd : cur;
			cur = base + (uint32_t)(s.a * s.b);
			if (s.wb)
				mem[s.idx] = cur;
			if (s.last) {
				res = cur;
				res_ok = true;
			}
			loads += s.load && !s.zero;
		}
		rd = rd_next;
		bool fwd_ok = pe->a_o == (uint16_t)(s.a & 0x1ff) && pe->b_o == (uint16_t)(s.b & 0x1ff);
		if (!fwd_ok) {
			printf("FAIL cycle %d: forwarded operands differ\n", cyc);
			fails++;
		}
		if (res_ok && pe->res_o != res) {
			printf("FAIL cycle %d: res_o 0x%08x, expected 0x%08x\n", cyc, pe->res_o, res);
			fails++;
		}
		checked += s.v && s.last;
	}
	pe->final();
	qmx_vl_coverage_write(ctx.get(), "rtl_pe_tb");
	printf("pe: %d published sums checked (%d steps loaded from memory), %d failure(s)\n",
	       checked, loads, fails);
	return fails || loads == 0 ? 1 : 0;
}
