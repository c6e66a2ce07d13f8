/* SPDX-License-Identifier: MIT */
/*
 * qmx_jobprog_params.h - validated GEMM params -> the job-programming
 * descriptor of hw/include/qmx_jobprog.h, for every backend that programs
 * the accelerator's registers from user space (sim, xrt).  Addresses are
 * left 0 for the caller.
 */
#ifndef QMX_JOBPROG_PARAMS_H
#define QMX_JOBPROG_PARAMS_H

#include <string.h>

#include "qmx/qmx.h"
#include "qmx_jobprog.h"

static inline void qmx_jobprog_from_params(const qmx_gemm_params *p,
					   struct qmx_jobprog_gemm *g)
{
	int int8 = p->out_type == QMX_OUT_INT8;

	memset(g, 0, sizeof(*g));
	g->m = (uint32_t)p->m;
	g->n = (uint32_t)p->n;
	g->k = (uint32_t)p->k;
	g->lda = (uint32_t)p->lda;
	g->ldb = (uint32_t)p->ldb;
	g->ldc = (uint32_t)p->ldc;
	g->a_zero_point = p->a_zero_point;
	g->b_zero_point = p->b_zero_point;
	g->has_bias = p->has_bias ? 1 : 0;
	g->out_int8 = int8;
	g->per_channel = int8 && p->quant_mode == QMX_QUANT_PER_CHANNEL;
	if (int8) {
		g->c_zero_point = p->c_zero_point;
		g->multiplier = p->multiplier;
		g->shift = p->shift;
		g->qmin = p->qmin;
		g->qmax = p->qmax;
	} else {
		/* Ignored for int32 output by the API and by the RTL's
		 * validation alike; program the neutral x1.0 and the full
		 * clamp so register dumps never show stale values. */
		g->multiplier = 1 << 30;
		g->shift = 1;
		g->qmin = -128;
		g->qmax = 127;
	}
}

#endif /* QMX_JOBPROG_PARAMS_H */
