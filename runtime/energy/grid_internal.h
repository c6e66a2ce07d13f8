/* SPDX-License-Identifier: MIT */
/* grid_internal.h - the body of a grid trace, shared by grid.c and policy.c. */
#ifndef QMX_GRID_INTERNAL_H
#define QMX_GRID_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qmx/qmx.h"

struct qmx_grid_trace {
	int64_t start, step;  /* first window and window length, s */
	size_t n;
	double *actual;       /* n values, NaN where missing */
	double *forecast;     /* n values, NaN where the file has none */
	qmx_grid_trace_info info;
};

/* Recount start/end/n and the actual and forecast windows. */
void grid_trace_refresh_info(qmx_grid_trace *t);
/* "average", "marginal", or that the data does not say. */
const char *qmx_grid_kind_name(int32_t kind);

/* When $QMX_GRID_TRACE names a trace (file or directory), fill cfg's grid
 * intensity, region ("trace") and source from the window at $QMX_GRID_TIME
 * (ISO-8601), else now, and set *set.  The trace is cached, and read again
 * when the path or its modification time changes (a scraper updating it). */
int qmx_grid_trace_env(qmx_carbon_config *cfg, bool *set);

#endif
