/* SPDX-License-Identifier: MIT */
/* cpu_fast.c - placeholder until the fast kernels land: runs the reference. */
#include <unistd.h>

#include "cpu_kernels.h"
#include "qmx_backend.h"

int qmx_cpu_gemm_fast(const qmx_gemm_params *p, const qmx_gemm_host_operands *ops,
		      struct qmx_cpu_run *run)
{
	uint64_t t0 = qmx_thread_cpu_ns();
	int err = qmx_gemm_reference(p, ops);
	run->threads = 1;
	run->cpu_ns = qmx_thread_cpu_ns() - t0;
	run->isa = "portable";
	return err;
}

const char *qmx_cpu_isa(void)
{
	return "portable";
}

unsigned qmx_cpu_online_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}
