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

#define QMX_GRID_MAX_G_PER_KWH 5000.0 /* above any grid on record (~1,100 for lignite) */

/* ---------------------------------------------------------------- readers */

/* One sample as read, with the line it came from. */
struct qmx_grid_point {
	int64_t t;
	double actual, forecast;
	long line;
};

/* Samples collected by a reader, then made regular windows (grid.c). */
struct qmx_grid_builder {
	const char *name;
	struct qmx_grid_point *p;
	size_t n, cap;
	int64_t step_hint; /* from the file (duration fields), 0 if none */
	qmx_grid_trace_info info;
};

/* "name:line: message" as QMX_EINVAL. */
int qmx_grid_perr(const char *name, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int qmx_grid_push(struct qmx_grid_builder *b, int64_t t, double actual, double forecast,
		  long line);
/* ISO-8601 with a zone; -1 with *why on error. */
int qmx_grid_time_parse(const char *s, int64_t *out, const char **why);
/* The JSON formats (grid_json.c); QMX_ENOTSUP when built without jansson. */
int qmx_grid_parse_json(struct qmx_grid_builder *b, const char *buf, size_t len);

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
