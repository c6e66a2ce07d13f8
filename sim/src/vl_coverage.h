/* SPDX-License-Identifier: MIT */
/*
 * vl_coverage.h - a coverage build of the RTL (CMake QMX_RTL_COVERAGE, which
 * verilates with --coverage and defines VM_COVERAGE=1) writes each model's
 * counts, when the model is done, to $QMX_COVERAGE_DIR/<who>-<pid>-<n>.dat
 * for verilator_coverage to merge (tests/coverage).  Otherwise a no-op.
 */
#ifndef QMX_VL_COVERAGE_H
#define QMX_VL_COVERAGE_H

#include <verilated.h>

#if VM_COVERAGE
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include <verilated_cov.h>
#endif

static inline void qmx_vl_coverage_write(VerilatedContext *ctx, const char *who)
{
#if VM_COVERAGE
	static std::atomic<unsigned> n;
	const char *dir = getenv("QMX_COVERAGE_DIR");
	if (!dir || !*dir)
		return;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s-%d-%u.dat", dir, who, (int)getpid(), n++);
	ctx->coveragep()->write(path);
#else
	(void)ctx;
	(void)who;
#endif
}

#endif
