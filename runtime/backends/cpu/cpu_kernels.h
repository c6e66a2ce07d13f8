/* SPDX-License-Identifier: MIT */
/*
 * cpu_kernels.h - the CPU GEMM kernels behind the "cpu" backend: a fast path
 * (AVX2 when cpuid says so, portable C otherwise), multithreaded, bit-exact
 * with qmx_gemm_reference() on every input.
 */
#ifndef QMX_CPU_KERNELS_H
#define QMX_CPU_KERNELS_H

#include <stdint.h>

#include "qmx/qmx.h"

struct qmx_cpu_run {
	unsigned threads; /* in: threads to use (0 = all online CPUs); out: used */
	uint64_t cpu_ns;  /* out: CPU time consumed by all threads */
	const char *isa;  /* out: kernel that ran ("avx2", "portable") */
};

/* Params and operands are already validated. */
int qmx_cpu_gemm_fast(const qmx_gemm_params *p, const qmx_gemm_host_operands *ops,
		      struct qmx_cpu_run *run);

/* Kernel the fast path selects on this machine ("avx2" or "portable"). */
const char *qmx_cpu_isa(void);
unsigned qmx_cpu_online_threads(void);

#endif /* QMX_CPU_KERNELS_H */
