/* SPDX-License-Identifier: MIT */
/*
 * cmdq_test_util.h - the command queue on a raw qmxsim: an arena of device
 * memory (host memory mapped once) holding the rings and the operands of
 * many jobs, a host-side ring (push, doorbell, reap records, bounded wait)
 * and jobs built from qmx_problem.  Shared by test_cmdq and bench/sim.
 */
#ifndef CMDQ_TEST_UTIL_H
#define CMDQ_TEST_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim_test_util.h"

#define CQT_ARENA_DEV 0x200000000ull

struct cqt_arena {
	uint8_t *host;
	uint64_t size, used;
};

static inline int cqt_arena_init(struct cqt_arena *a, qmxsim *sim, uint64_t size)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, size))
		return -ENOMEM;
	memset(p, 0, size);
	a->host = (uint8_t *)p;
	a->size = size;
	a->used = 0;
	return qmxsim_map(sim, CQT_ARENA_DEV, p, size, QMXSIM_MAP_READ | QMXSIM_MAP_WRITE);
}

static inline void cqt_arena_free(struct cqt_arena *a, qmxsim *sim)
{
	qmxsim_unmap(sim, CQT_ARENA_DEV);
	free(a->host);
}

/* Whole pages: a burst's last beat may reach past an operand's end. */
static inline uint64_t cqt_alloc(struct cqt_arena *a, uint64_t bytes)
{
	uint64_t at = a->used;

	bytes = simt_page(bytes ? bytes : 1);
	if (at + bytes > a->size)
		return 0;
	a->used += bytes;
	return CQT_ARENA_DEV + at;
}

static inline void *cqt_host(struct cqt_arena *a, uint64_t dev)
{
	return a->host + (dev - CQT_ARENA_DEV);
}

/* ---------------------------------------------------------------- ring */
struct cqt_ring {
	qmxsim *sim;
	uint32_t size, tail, head;
	struct qmx_cq_desc *desc;
	struct qmx_cq_cpl *cpl;
	uint64_t desc_dev, cpl_dev;
	struct qmx_cq_cpl *log; /* records in completion order */
	uint32_t log_cap;
	uint32_t irqs;
};

static inline int cqt_ring_init(struct cqt_ring *r, qmxsim *sim, struct cqt_arena *a,
				uint32_t size, uint32_t log_cap)
{
	memset(r, 0, sizeof(*r));
	r->sim = sim;
	r->size = size;
	r->desc_dev = cqt_alloc(a, (uint64_t)size * QMX_CQ_ENTRY_BYTES);
	r->cpl_dev = cqt_alloc(a, (uint64_t)size * QMX_CQ_ENTRY_BYTES);
	r->log = (struct qmx_cq_cpl *)calloc(log_cap, sizeof(*r->log));
	r->log_cap = log_cap;
	if (!r->desc_dev || !r->cpl_dev || !r->log)
		return -ENOMEM;
	r->desc = (struct qmx_cq_desc *)cqt_host(a, r->desc_dev);
	r->cpl = (struct qmx_cq_cpl *)cqt_host(a, r->cpl_dev);
	return 0;
}

/* After reset / soft reset: HEAD = TAIL = 0.  Returns CQ_STATUS. */
static inline uint32_t cqt_ring_enable(struct cqt_ring *r, uint32_t coalesce)
{
	r->tail = r->head = 0;
	memset(r->cpl, 0, (size_t)r->size * sizeof(*r->cpl));
	return qmx_jobprog_cq_enable(simt_rd, simt_wr, r->sim, r->desc_dev, r->cpl_dev, r->size,
				     coalesce, 1);
}

static inline uint32_t cqt_ring_space(const struct cqt_ring *r)
{
	return r->size - (r->tail - r->head);
}

/* Write one descriptor into the next free slot (no doorbell); -ENOSPC when full. */
static inline int cqt_ring_push(struct cqt_ring *r, const struct qmx_cq_desc *d)
{
	uint32_t slot = r->tail & (r->size - 1);

	if (!cqt_ring_space(r))
		return -ENOSPC;
	r->desc[slot] = *d;
	r->cpl[slot].status = 0;
	r->tail++;
	return 0;
}

static inline void cqt_ring_doorbell(struct cqt_ring *r)
{
	qmxsim_write32(r->sim, QMX_REG_CQ_TAIL, r->tail);
}

/* Collect the records written so far (VALID, in ring order). */
static inline void cqt_ring_reap(struct cqt_ring *r)
{
	while (r->head != r->tail) {
		struct qmx_cq_cpl *c = &r->cpl[r->head & (r->size - 1)];
		if (!(c->status & QMX_CQC_STATUS_VALID))
			break;
		if (r->head < r->log_cap)
			r->log[r->head] = *c;
		r->head++;
	}
}

/* Clock until `count` records in all (since enable) are in, clearing ISR.CQ
 * on each interrupt; -ETIMEDOUT after max_cycles, -EPROTO if the model broke. */
static inline int cqt_ring_wait(struct cqt_ring *r, uint32_t count, uint64_t max_cycles)
{
	uint64_t spent = 0;

	for (;;) {
		cqt_ring_reap(r);
		if ((int32_t)(r->head - count) >= 0)
			return 0;
		if (spent >= max_cycles)
			return -ETIMEDOUT;
		uint64_t ran = 0;
		int rc = qmxsim_run_irq(r->sim, max_cycles - spent, &ran);
		spent += ran;
		if (rc < 0)
			return -EPROTO;
		if (rc == QMXSIM_RUN_IRQ) {
			r->irqs++;
			qmxsim_write32(r->sim, QMX_REG_ISR, QMX_ISR_CQ);
		}
	}
}

/* ---------------------------------------------------------------- jobs */
struct cqt_job {
	qmx_problem pb;
	struct qmx_jobprog_gemm g; /* device addresses in the arena */
};

/* Place a prepared problem (qmx_problem_init + reference done) in the arena;
 * C gets the problem's sentinel-filled buffer. */
static inline int cqt_job_place(struct cqt_job *j, struct cqt_arena *a)
{
	const qmx_gemm_params *p = &j->pb.p;
	uint64_t ab = (uint64_t)((p->m - 1) * p->lda + p->k);
	uint64_t bb = (uint64_t)((p->k - 1) * p->ldb + p->n);
	uint64_t nb = (uint64_t)p->n * 4;

	qmx_jobprog_from_params(p, &j->g);
	j->g.a_addr = cqt_alloc(a, ab);
	j->g.b_addr = cqt_alloc(a, bb);
	j->g.c_addr = cqt_alloc(a, j->pb.c_bytes);
	j->g.bias_addr = cqt_alloc(a, nb);
	j->g.mult_addr = cqt_alloc(a, nb);
	j->g.shift_addr = cqt_alloc(a, nb);
	if (!j->g.a_addr || !j->g.b_addr || !j->g.c_addr || !j->g.bias_addr ||
	    !j->g.mult_addr || !j->g.shift_addr)
		return -ENOMEM;
	memcpy(cqt_host(a, j->g.a_addr), j->pb.a, ab);
	memcpy(cqt_host(a, j->g.b_addr), j->pb.b, bb);
	memcpy(cqt_host(a, j->g.c_addr), j->pb.c, j->pb.c_bytes);
	if (j->pb.bias)
		memcpy(cqt_host(a, j->g.bias_addr), j->pb.bias, nb);
	if (j->pb.multipliers)
		memcpy(cqt_host(a, j->g.mult_addr), j->pb.multipliers, nb);
	if (j->pb.shifts)
		memcpy(cqt_host(a, j->g.shift_addr), j->pb.shifts, nb);
	return 0;
}

/* Copy the device's C back into the problem's output buffer. */
static inline void cqt_job_collect(struct cqt_job *j, struct cqt_arena *a)
{
	memcpy(j->pb.c, cqt_host(a, j->g.c_addr), j->pb.c_bytes);
}

#endif /* CMDQ_TEST_UTIL_H */
