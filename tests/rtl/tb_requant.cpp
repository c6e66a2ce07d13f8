/* SPDX-License-Identifier: MIT */
/*
 * tb_requant.cpp - qmx_requant against runtime/src/qmx_quant.h: the test
 * vectors of DESIGN.md, edge cases, and random values, in both output modes.
 */
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <memory>

#include <verilated.h>

#include "Vqmx_requant.h"
#include "qmx_quant.h"
#include "qmx_util.h"
#include "vl_coverage.h"

struct Vec {
	int32_t acc, bias, mult, shift, zc, qmin, qmax;
	bool int8;
};

static int32_t model(const Vec &v)
{
	int32_t x = qmx_q_wrap_add(v.acc, v.bias);
	if (!v.int8)
		return x;
	return qmx_q_requant(x, v.mult, v.shift, v.zc, v.qmin, v.qmax);
}

int main(int argc, char **argv)
{
	Verilated::commandArgs(argc, argv);
	uint64_t seed = qmx_util_seed(0x4E0);
	printf("requant: seed %" PRIu64 "\n", seed);
	qmx_rng rng = { seed };
	int fails = 0;

	/* DESIGN.md vectors on the arithmetic itself (the C side of the contract). */
	if (qmx_q_srdhm(1 << 30, 1 << 30) != 536870912 || qmx_q_rdbpot(5, 1) != 3 ||
	    qmx_q_rdbpot(-5, 1) != -3 || qmx_q_rdbpot(-6, 2) != -2) {
		printf("FAIL: qmx_quant.h disagrees with DESIGN.md\n");
		fails++;
	}

	std::deque<std::pair<Vec, int32_t>> want; /* expected, in order */
	std::vector<Vec> vecs;
	/* Through the hardware, with the value DESIGN.md implies:
	 * SRDHM(2^30, 2^30) = 2^29, seen as 2^29 / 2^23 = 64;
	 * SRDHM(x, 2^31 - 1) = x for small x, so shifts -1 / -2 show
	 * RDBPOT(5,1) = 3, RDBPOT(-5,1) = -3, RDBPOT(-6,2) = -2;
	 * 0.0003 -> (1319413953, -11) and acc 12345 -> 4. */
	vecs.push_back({ 1 << 30, 0, 1 << 30, -23, 0, -128, 127, true });
	vecs.push_back({ 5, 0, INT32_MAX, -1, 0, -128, 127, true });
	vecs.push_back({ -5, 0, INT32_MAX, -1, 0, -128, 127, true });
	vecs.push_back({ -6, 0, INT32_MAX, -2, 0, -128, 127, true });
	vecs.push_back({ 12345, 0, 1319413953, -11, 0, -128, 127, true });
	const int32_t design[] = { 64, 3, -3, -2, 4 };
	const size_t ndesign = sizeof(design) / sizeof(design[0]);
	vecs.push_back({ 100, 0, 1610612736, 0, 0, -128, 127, true });     /* 0.75 */
	vecs.push_back({ -100, 0, 1610612736, 0, 3, -128, 127, true });
	vecs.push_back({ INT32_MIN, 0, INT32_MIN, 0, 0, -128, 127, true }); /* saturating SRDHM */
	vecs.push_back({ INT32_MAX, 1, 1 << 30, 30, 0, -128, 127, true }); /* bias wraps, shl saturates */
	vecs.push_back({ INT32_MIN, -1, 1 << 30, 0, 0, -128, 127, false }); /* int32 mode wraps */
	vecs.push_back({ 7, 0, 1 << 30, -31, 0, -128, 127, true });
	vecs.push_back({ -7, 0, INT32_MAX, -31, -128, -128, 127, true });
	for (int i = 0; i < 300000; i++) {
		Vec v;
		v.acc = (int32_t)qmx_rng_next(&rng);
		if (i & 1)
			v.acc >>= qmx_rng_range(&rng, 0, 31);
		v.bias = (i & 2) ? (int32_t)qmx_rng_next(&rng) : 0;
		v.mult = (int32_t)qmx_rng_range(&rng, 0, INT32_MAX);
		if (i % 7 == 0)
			v.mult = (int32_t)qmx_rng_range(&rng, 1 << 30, INT32_MAX);
		v.shift = (int32_t)qmx_rng_range(&rng, -31, 30);
		v.zc = (int32_t)qmx_rng_range(&rng, -128, 127);
		int32_t lo = (int32_t)qmx_rng_range(&rng, -128, 127), hi = (int32_t)qmx_rng_range(&rng, -128, 127);
		v.qmin = lo < hi ? lo : hi;
		v.qmax = lo < hi ? hi : lo;
		v.int8 = i % 5 != 0;
		vecs.push_back(v);
	}

	auto ctx = std::make_unique<VerilatedContext>();
	auto rq = std::make_unique<Vqmx_requant>(ctx.get());
	rq->rst_ni = 0;
	rq->clk_i = 0;
	rq->eval();
	rq->clk_i = 1;
	rq->eval();
	rq->rst_ni = 1;
	size_t next = 0, got = 0;
	for (uint64_t cyc = 0; cyc < vecs.size() + 20 && fails < 10; cyc++) {
		bool v = next < vecs.size();
		if (v) {
			const Vec &x = vecs[next];
			rq->acc_i = (uint32_t)x.acc;
			rq->bias_i = (uint32_t)x.bias;
			rq->mult_i = (uint32_t)x.mult;
			rq->shift_i = (uint32_t)x.shift;
			rq->zc_i = (uint32_t)x.zc;
			rq->qmin_i = (uint32_t)x.qmin;
			rq->qmax_i = (uint32_t)x.qmax;
			rq->int8_i = x.int8;
			rq->tag_i = next & 1;
			want.push_back({ x, model(x) });
			next++;
		}
		rq->v_i = v;
		rq->clk_i = 0;
		rq->eval();
		rq->clk_i = 1;
		rq->eval();
		if (rq->v_o) {
			auto w = want.front();
			want.pop_front();
			int32_t r = (int32_t)rq->res_o;
			if (r != w.second || rq->tag_o != (got & 1)) {
				printf("FAIL #%zu: acc %d bias %d mult %d shift %d zc %d [%d,%d] %s -> %d, expected %d\n",
				       got, w.first.acc, w.first.bias, w.first.mult, w.first.shift, w.first.zc,
				       w.first.qmin, w.first.qmax, w.first.int8 ? "int8" : "int32", r, w.second);
				fails++;
			}
			if (got < ndesign && r != design[got]) {
				printf("FAIL: DESIGN.md vector %zu gave %d, expected %d\n", got, r,
				       design[got]);
				fails++;
			}
			got++;
		}
	}
	if (got != vecs.size()) {
		printf("FAIL: %zu results for %zu inputs\n", got, vecs.size());
		fails++;
	}
	rq->final();
	qmx_vl_coverage_write(ctx.get(), "rtl_requant_tb");
	printf("requant: %zu values checked, %d failure(s)\n", got, fails);
	return fails ? 1 : 0;
}
