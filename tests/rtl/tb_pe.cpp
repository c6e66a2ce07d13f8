/* SPDX-License-Identifier: MIT */
/*
 * tb_pe.cpp - qmx_pe against a C model: random operands (the full 9-bit
 * range of A - za and B - zb), random accumulator index, first/last flags,
 * bubbles; checks the forwarded operands and the published sums.
 */
#include <cinttypes>
#include <cstdio>
#include <memory>

#include <verilated.h>

#include "Vqmx_pe.h"
#include "qmx_util.h"

int main(int argc, char **argv)
{
	Verilated::commandArgs(argc, argv);
	uint64_t seed = qmx_util_seed(0x9E);
	printf("pe: seed %" PRIu64 "\n", seed);
	qmx_rng rng = { seed };
	auto ctx = std::make_unique<VerilatedContext>();
	auto pe = std::make_unique<Vqmx_pe>(ctx.get());
	uint32_t acc[16] = { 0 };
	bool init[16] = { false };
	uint32_t res = 0;
	bool res_ok = false;
	int fails = 0, checked = 0;

	for (int cyc = 0; cyc < 200000 && fails < 5; cyc++) {
		int32_t a = (int32_t)qmx_rng_range(&rng, -255, 255);
		int32_t b = (int32_t)qmx_rng_range(&rng, -255, 255);
		if (cyc % 5000 < 50) /* extremes */
			a = (cyc & 1) ? 255 : -255, b = (cyc & 2) ? 255 : -255;
		bool v = qmx_rng_next(&rng) % 8 != 0;
		unsigned idx = (unsigned)qmx_rng_range(&rng, 0, 15);
		bool first = !init[idx] || qmx_rng_next(&rng) % 64 == 0;
		bool last = qmx_rng_next(&rng) % 16 == 0;
		pe->a_i = (uint16_t)(a & 0x1ff);
		pe->b_i = (uint16_t)(b & 0x1ff);
		pe->v_i = v;
		pe->first_i = first;
		pe->last_i = last;
		pe->acc_i = idx;
		pe->clk_i = 0;
		pe->eval();
		pe->clk_i = 1;
		pe->eval();
		if (v) {
			uint32_t base = first ? 0 : acc[idx];
			acc[idx] = base + (uint32_t)(a * b);
			init[idx] = true;
			if (last) {
				res = acc[idx];
				res_ok = true;
			}
		}
		bool fwd_ok = pe->a_o == (uint16_t)(a & 0x1ff) && pe->b_o == (uint16_t)(b & 0x1ff);
		if (!fwd_ok) {
			printf("FAIL cycle %d: forwarded operands differ\n", cyc);
			fails++;
		}
		if (res_ok && pe->res_o != res) {
			printf("FAIL cycle %d: res_o 0x%08x, expected 0x%08x\n", cyc, pe->res_o, res);
			fails++;
		}
		checked += v && last;
	}
	pe->final();
	printf("pe: %d published sums checked, %d failure(s)\n", checked, fails);
	return fails ? 1 : 0;
}
