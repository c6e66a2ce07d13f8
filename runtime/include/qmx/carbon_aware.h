/* SPDX-License-Identifier: MIT */
/*
 * carbon_aware.h - grid intensity over time, and the carbon-aware policy
 * (part of qmx.h).  See docs/carbon-aware.md.
 *
 * A grid trace is a time series of carbon intensity (gCO2e/kWh) read from a
 * file: CSV (ISO-8601 UTC timestamp, intensity, optional forecast column) or
 * the JSON of the GB Carbon Intensity API (/intensity, API v2.0.0), the Green
 * Software Foundation Carbon Aware SDK Web API v1 (/emissions/bylocations
 * and /emissions/forecasts/current) or Electricity Maps API v3
 * (/v3/carbon-intensity/history and /forecast).  Samples are regular
 * windows [t, t + step); a window with no value is "missing" (NaN).
 *
 * Times are seconds since 1970-01-01T00:00:00Z (UTC).
 *
 * On top of a trace, three decisions:
 *  - shifting: when to start a deferrable job so that its expected carbon
 *    under a forecast is least, before its deadline;
 *  - placement: which device, by the carbon a job adds there (energy x
 *    intensity + the embodied time-share of the hardware), not by speed;
 *  - shaping: which of the tiers a caller registered (a small or a large
 *    model, int8 or fp32) to run at the current intensity.
 */
#ifndef QMX_CARBON_AWARE_H
#define QMX_CARBON_AWARE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ time */

/* Parse ISO-8601 "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+hh:mm|-hh:mm)" into UTC
 * seconds.  A zone designator is required (no local times). */
QMX_API int qmx_time_parse(const char *iso8601, int64_t *unix_s);
/* Format as "YYYY-MM-DDTHH:MM:SSZ" (len >= 21). */
QMX_API int qmx_time_format(int64_t unix_s, char *buf, size_t len);

/* ------------------------------------------------------------------ traces */

typedef struct qmx_grid_trace qmx_grid_trace;

enum qmx_grid_kind {
	QMX_GRID_UNKNOWN = 0,  /* the file does not say */
	QMX_GRID_AVERAGE = 1,  /* average intensity of the generation mix */
	QMX_GRID_MARGINAL = 2, /* marginal (the plant that follows the load) */
};

typedef struct qmx_grid_trace_info {
	int64_t start_s;      /* start of the first window */
	int64_t end_s;        /* end of the last window */
	int64_t step_s;       /* window length */
	uint64_t n;           /* windows */
	uint64_t n_actual;    /* windows with an actual (historical) value */
	uint64_t n_forecast;  /* windows with a forecast value */
	int32_t kind;         /* enum qmx_grid_kind */
	char format[32];      /* "csv", "gb-carbon-intensity", "gsf-emissions",
			       * "gsf-forecast", "electricitymaps-history",
			       * "electricitymaps-forecast", or "dir" */
	char name[256];       /* file (or directory) it came from */
	char region[128];     /* zone / location / "# grid/region:" */
	char source[256];     /* provider, from the file where it says */
} qmx_grid_trace_info;

typedef struct qmx_grid_sample {
	int64_t start_s;
	double actual;        /* gCO2e/kWh, NaN when missing */
	double forecast;      /* gCO2e/kWh, NaN when the file has none */
} qmx_grid_sample;

/* Read a file (format from its content), or every *.csv and *.json file of a
 * directory, merged in name order (a later file wins where windows
 * overlap; all must share one step).  Errors name the file, line and field. */
QMX_API int qmx_grid_trace_load(const char *path, qmx_grid_trace **out);
/* The same from memory (name is used in messages); buf need not be
 * NUL-terminated.  The entry point for fuzzing. */
QMX_API int qmx_grid_trace_parse(const void *buf, size_t len, const char *name,
				 qmx_grid_trace **out);
QMX_API void qmx_grid_trace_del(qmx_grid_trace *t);
QMX_API int qmx_grid_trace_get_info(const qmx_grid_trace *t, qmx_grid_trace_info *info);
QMX_API int qmx_grid_trace_get_sample(const qmx_grid_trace *t, uint64_t i,
				      qmx_grid_sample *s);
/* Intensity of the window containing time_s: the actual, else the forecast
 * (QMX_ENOENT outside the trace or when the window has neither). */
QMX_API int qmx_grid_trace_at(const qmx_grid_trace *t, int64_t time_s, double *g_per_kwh);

/* What a job's operational carbon was computed with. */
typedef struct qmx_grid_used {
	double carbon_g;       /* operational carbon of the energy */
	double g_per_kwh;      /* mean intensity over the run (time-weighted) */
	int32_t kind;          /* enum qmx_grid_kind */
	int32_t forecast_windows; /* windows where a missing actual was
				   * replaced by the forecast */
	char source[320];      /* "<file> <region> <start>..<end> (average, actual)" */
} qmx_grid_used;

/* Time-resolved accounting: joules drawn evenly over [start_s, start_s +
 * duration_s) (duration 0: at start_s) x the intensity of each window they
 * fall in. */
QMX_API int qmx_grid_trace_carbon(const qmx_grid_trace *t, int64_t start_s,
				  double duration_s, double joules, qmx_grid_used *out);

/* ------------------------------------------------------------------ shifting */

enum qmx_forecast {
	QMX_FORECAST_AUTO = 0,        /* the trace's forecast, else persistence */
	QMX_FORECAST_TRACE = 1,       /* the trace's forecast column */
	QMX_FORECAST_PERSISTENCE = 2, /* the actual of the same time on the last
				       * day already seen: t - k x 24 h < now */
	QMX_FORECAST_PERFECT = 3,     /* the actuals themselves (hindsight) */
};

typedef struct qmx_shift_request {
	int64_t now_s;       /* when the decision is made (the job is ready) */
	int64_t deadline_s;  /* the job must finish by then */
	double duration_s;   /* estimated run time, > 0 */
	double energy_j;     /* estimated energy, >= 0 */
	int32_t forecast;    /* enum qmx_forecast */
	int32_t step_s;      /* spacing of candidate starts; 0: the trace's step */
} qmx_shift_request;

typedef struct qmx_shift_plan {
	int64_t start_s;          /* chosen start */
	double delay_s;           /* start_s - now_s */
	double expected_g;        /* carbon at start_s under the forecast */
	double expected_now_g;    /* carbon starting now, under the forecast */
	double expected_saving_g; /* expected_now_g - expected_g */
	double actual_g;          /* at start_s with the trace's actuals (NaN if unknown) */
	double actual_now_g;      /* starting now, with the actuals (NaN if unknown) */
	int64_t best_start_s;     /* perfect foresight: the best start in hindsight */
	double best_g;            /* its carbon (NaN if unknown): the upper bound */
	int32_t forecast;         /* the forecast used (never AUTO) */
	int32_t candidates;       /* starts considered */
	int64_t horizon_s;        /* last start the forecast allowed */
	char note[256];           /* how the forecast limited the choice */
} qmx_shift_plan;

/* Defaults: forecast AUTO, step 0; the caller sets now, deadline, duration,
 * energy. */
QMX_API void qmx_shift_request_init(qmx_shift_request *req);
/* Choose the start in [now, deadline - duration] (on the candidate grid,
 * now included) with the least expected carbon; ties go to the earliest.
 * A start is a candidate only when the forecast covers its whole run; when
 * none is, the job starts now.  QMX_EINVAL (naming the field) when the job
 * cannot finish by its deadline even starting now. */
QMX_API int qmx_shift_choose(const qmx_grid_trace *t, const qmx_shift_request *req,
			     qmx_shift_plan *plan);

/* ------------------------------------------------------------------ placement */

#define QMX_PLACE_MAX 8

typedef struct qmx_place_option {
	char name[32];       /* "cpu", "sim", ... */
	double energy_j;     /* the job's energy there */
	double time_s;       /* the job's time there (embodied time-share) */
	double embodied_g;   /* TE of the hardware */
	double lifetime_s;   /* EL */
	double share;        /* RR / ToR: the part of the hardware the job holds, (0, 1] */
} qmx_place_option;

typedef struct qmx_place_result {
	int32_t choice;                    /* index into the options */
	int32_t n;
	double g_per_kwh;                  /* intensity used */
	double operational_g[QMX_PLACE_MAX];
	double embodied_g[QMX_PLACE_MAX];  /* TE x time / EL x share */
	double total_g[QMX_PLACE_MAX];
} qmx_place_result;

/* Fill an option from a device and one job's stats on it (its energy, its
 * time - device time for a simulated device - and the device's embodied
 * model, qmx_device_embodied). */
QMX_API int qmx_place_option_from_job(const qmx_device_info *info, const qmx_job_stats *st,
				      qmx_place_option *opt);
/* The option with the least total carbon at g_per_kwh; ties go to the
 * lowest index. */
QMX_API int qmx_place_choose(const qmx_place_option *opts, size_t n, double g_per_kwh,
			     qmx_place_result *out);

/* ------------------------------------------------------------------ shaping */

#define QMX_SHAPE_MAX 16

typedef struct qmx_shape_tier {
	char name[32];        /* "small", "int8", ... */
	double energy_j;      /* energy per unit of work (an inference, a step) */
	double quality;       /* what the tier delivers (e.g. accuracy), higher is better */
	double max_g_per_kwh; /* run this tier only at or below this intensity
			       * (INFINITY: always allowed) */
} qmx_shape_tier;

typedef struct qmx_shape_choice {
	int32_t choice;               /* tier index (registration order) */
	int32_t n;
	int32_t within;               /* 1: the choice meets threshold and budget;
				       * 0: none did, the least-carbon tier was taken */
	double g_per_kwh;
	double carbon_g[QMX_SHAPE_MAX];       /* energy x intensity, per unit */
	double quality_cost[QMX_SHAPE_MAX];   /* best quality - this tier's */
} qmx_shape_choice;

typedef struct qmx_shaper qmx_shaper;
QMX_API int qmx_shaper_new(qmx_shaper **out);
/* Register a tier (up to QMX_SHAPE_MAX); returns its index in *idx (may be NULL). */
QMX_API int qmx_shaper_add_tier(qmx_shaper *s, const qmx_shape_tier *tier, int *idx);
/* The highest-quality tier allowed at g_per_kwh by its threshold and, when
 * budget_g > 0, with carbon per unit <= budget_g; ties in quality go to the
 * lower energy, then the lower index.  When none qualifies, the tier with
 * the least carbon, and within = 0. */
QMX_API int qmx_shaper_choose(const qmx_shaper *s, double g_per_kwh, double budget_g,
			      qmx_shape_choice *out);
QMX_API void qmx_shaper_del(qmx_shaper *s);

#ifdef __cplusplus
}
#endif

#endif /* QMX_CARBON_AWARE_H */
