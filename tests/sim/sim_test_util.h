/* SPDX-License-Identifier: MIT */
/*
 * sim_test_util.h - running one GEMM on a raw qmxsim (no libqmx device):
 * operands mapped at chosen device addresses, programmed through
 * qmx_jobprog.h, clocked until the interrupt.  Shared by the libqmxsim tests
 * and the benchmark.
 */
#ifndef SIM_TEST_UTIL_H
#define SIM_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmx_jobprog.h"
#include "qmx_jobprog_params.h" /* runtime/src: params -> descriptor */
#include "qmx_util.h"
#include "qmxsim.h"

static inline uint32_t simt_rd(void *ctx, uint32_t off)
{
	return qmxsim_read32((qmxsim *)ctx, off);
}

static inline void simt_wr(void *ctx, uint32_t off, uint32_t v)
{
	qmxsim_write32((qmxsim *)ctx, off, v);
}

/* Device addresses of the operands: one 256 MiB window each, above 4 GiB. */
#define SIMT_A 0x100000000ull
#define SIMT_B 0x110000000ull
#define SIMT_C 0x120000000ull
#define SIMT_BIAS 0x130000000ull
#define SIMT_MULT 0x131000000ull
#define SIMT_SHIFT 0x132000000ull

struct simt_result {
	int run;        /* qmxsim_run's last return */
	uint32_t error; /* ERROR register */
	uint64_t error_addr;
	uint64_t run_cycles; /* cycles clocked by qmxsim_run */
	struct qmx_jobprog_counters delta;
};

/* Operands are mapped in whole pages, as a driver maps buffers: the
 * accelerator reads whole bus beats, so an operand's last beat may reach
 * past its last byte (never past its page). */
static inline uint64_t simt_page(uint64_t bytes)
{
	return (bytes + 4095) & ~4095ull;
}

static inline uint64_t simt_a_bytes(const qmx_gemm_params *p)
{
	return simt_page((uint64_t)((p->m - 1) * p->lda + p->k));
}

static inline uint64_t simt_b_bytes(const qmx_gemm_params *p)
{
	return simt_page((uint64_t)((p->k - 1) * p->ldb + p->n));
}

static inline uint64_t simt_c_bytes(const qmx_problem *pb)
{
	return simt_page(pb->c_bytes);
}

static inline uint64_t simt_n4_bytes(const qmx_gemm_params *p)
{
	return simt_page((uint64_t)p->n * 4);
}

/* Move one operand into page-aligned, page-padded memory (zero padding). */
static inline int simt_pad(void **ptr, uint64_t used)
{
	void *n = NULL;
	if (posix_memalign(&n, 4096, simt_page(used)))
		return -1;
	memset(n, 0, simt_page(used));
	memcpy(n, *ptr, used);
	free(*ptr);
	*ptr = n;
	return 0;
}

/* After qmx_problem_init(): operands padded to whole pages (qmx_problem_free
 * still frees them). */
static inline int simt_pad_problem(qmx_problem *pb)
{
	const qmx_gemm_params *p = &pb->p;
	if (simt_pad((void **)&pb->a, (uint64_t)((p->m - 1) * p->lda + p->k)) ||
	    simt_pad((void **)&pb->b, (uint64_t)((p->k - 1) * p->ldb + p->n)) ||
	    simt_pad(&pb->c, pb->c_bytes) ||
	    simt_pad((void **)&pb->bias, (uint64_t)p->n * 4) ||
	    simt_pad((void **)&pb->multipliers, (uint64_t)p->n * 4) ||
	    simt_pad((void **)&pb->shifts, (uint64_t)p->n * 4))
		return -1;
	return 0;
}

static inline void simt_prog(const qmx_gemm_params *p, struct qmx_jobprog_gemm *g)
{
	qmx_jobprog_from_params(p, g);
	g->a_addr = SIMT_A;
	g->b_addr = SIMT_B;
	g->c_addr = SIMT_C;
	g->bias_addr = SIMT_BIAS;
	g->mult_addr = SIMT_MULT;
	g->shift_addr = SIMT_SHIFT;
}

/* Map the problem's operands, padded by simt_pad_problem() (map_b = 0
 * leaves B unmapped). */
static inline int simt_map(qmxsim *sim, qmx_problem *pb, int map_b, unsigned c_flags)
{
	const qmx_gemm_params *p = &pb->p;
	int err;

	if ((err = qmxsim_map(sim, SIMT_A, pb->a, simt_a_bytes(p), QMXSIM_MAP_READ)))
		return err;
	if (map_b && (err = qmxsim_map(sim, SIMT_B, pb->b, simt_b_bytes(p), QMXSIM_MAP_READ)))
		return err;
	if ((err = qmxsim_map(sim, SIMT_C, pb->c, simt_c_bytes(pb), c_flags)))
		return err;
	if ((err = qmxsim_map(sim, SIMT_BIAS, pb->bias, simt_n4_bytes(p), QMXSIM_MAP_READ)) ||
	    (err = qmxsim_map(sim, SIMT_MULT, pb->multipliers, simt_n4_bytes(p),
			      QMXSIM_MAP_READ)) ||
	    (err = qmxsim_map(sim, SIMT_SHIFT, pb->shifts, simt_n4_bytes(p), QMXSIM_MAP_READ)))
		return err;
	return 0;
}

static inline void simt_unmap(qmxsim *sim)
{
	const uint64_t all[] = { SIMT_A, SIMT_B, SIMT_C, SIMT_BIAS, SIMT_MULT, SIMT_SHIFT };
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		(void)qmxsim_unmap(sim, all[i]); /* B may be unmapped on purpose */
}

/* Program and start the job; run at most max_cycles until the interrupt. */
static inline void simt_run(qmxsim *sim, const qmx_gemm_params *p, uint64_t max_cycles,
			    struct simt_result *r)
{
	struct qmx_jobprog_gemm g;
	struct qmx_jobprog_counters before, after;

	memset(r, 0, sizeof(*r));
	simt_prog(p, &g);
	qmx_jobprog_read_counters(simt_rd, sim, &before);
	qmx_jobprog_write_gemm(&g, simt_wr, sim);
	qmx_jobprog_start(simt_rd, simt_wr, sim, 1);
	r->run = qmxsim_run(sim, max_cycles, &r->run_cycles);
	if (r->run != QMXSIM_RUN_IRQ)
		return;
	r->error = qmxsim_read32(sim, QMX_REG_ERROR);
	r->error_addr = qmx_jobprog_read64(simt_rd, sim, QMX_REG_ERROR_ADDR_LO);
	qmx_jobprog_read_counters(simt_rd, sim, &after);
	qmx_jobprog_counters_delta(&before, &after, &r->delta);
	qmx_jobprog_ack(simt_rd, simt_wr, sim);
}

#endif /* SIM_TEST_UTIL_H */
