/* SPDX-License-Identifier: MIT */
/*
 * fuzz_grid_trace.c - the grid-intensity trace reader (runtime/energy/grid.c:
 * CSV and the JSON of the GB Carbon Intensity API, the Carbon Aware SDK and
 * Electricity Maps) on arbitrary bytes.  A trace it accepts has windows of
 * one step in time order, each with a finite intensity in range or NaN, and
 * lookups inside it answer; one it refuses must say why.
 */
#include <math.h>
#include <string.h>

#include "fuzz_common.h"
#include "grid_internal.h"
#include "qmx/qmx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int in_range(double v)
{
	return isnan(v) || (isfinite(v) && v >= 0 && v <= QMX_GRID_MAX_G_PER_KWH);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	qmx_grid_trace *t = NULL;
	qmx_grid_trace_info info;
	int err = qmx_grid_trace_parse(data, size, "fuzz-trace", &t);

	if (err) {
		FUZZ_ASSERT(qmx_last_error()[0], "refused without a message (%d)", err);
		FUZZ_ASSERT(!t, "a refused trace was returned");
		return 0;
	}
	FUZZ_ASSERT(qmx_grid_trace_get_info(t, &info) == 0, "%s", qmx_last_error());
	FUZZ_ASSERT(info.n > 0 && info.step_s > 0, "%llu windows of %lld s",
		    (unsigned long long)info.n, (long long)info.step_s);
	FUZZ_ASSERT(info.n_actual <= info.n && info.n_forecast <= info.n,
		    "%llu actual, %llu forecast of %llu", (unsigned long long)info.n_actual,
		    (unsigned long long)info.n_forecast, (unsigned long long)info.n);
	int64_t prev = 0;
	for (uint64_t i = 0; i < info.n && i < 4096; i++) {
		qmx_grid_sample s;
		double g;
		FUZZ_ASSERT(qmx_grid_trace_get_sample(t, i, &s) == 0, "%s", qmx_last_error());
		FUZZ_ASSERT(in_range(s.actual) && in_range(s.forecast),
			    "window %llu: actual %g, forecast %g", (unsigned long long)i, s.actual,
			    s.forecast);
		FUZZ_ASSERT(i == 0 || s.start_s > prev, "window %llu not after the one before",
			    (unsigned long long)i);
		prev = s.start_s;
		err = qmx_grid_trace_at(t, s.start_s, &g);
		FUZZ_ASSERT(err == 0 || (err == QMX_ENOENT && isnan(s.actual) && isnan(s.forecast)),
			    "window %llu: lookup %d: %s", (unsigned long long)i, err,
			    qmx_last_error());
	}
	qmx_grid_sample past;
	FUZZ_ASSERT(qmx_grid_trace_get_sample(t, info.n, &past) != 0, "sample past the end");
	qmx_grid_trace_del(t);
	return 0;
}
