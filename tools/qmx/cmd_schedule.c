/* SPDX-License-Identifier: MIT */
/*
 * cmd_schedule.c - `qmx schedule`: replay a trace of deferrable jobs against
 * a grid-intensity trace with the library's shifting policy and report the
 * carbon against running each job on arrival (table, schedule.json and a
 * schedule.svg timeline); `--sweep` measures what shifting one job saves
 * when it arrives at each hour of a trace.
 *
 * Every job runs as soon as its start comes: no capacity limit, no queue
 * (the replay measures the policy, not a cluster).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "qmx/qmx.h"
#include "svg.h"

#define MAX_JOBS 1000
#define MAX_GRIDS 8

struct job {
	char id[48];
	int64_t arrival, deadline;
	double duration_s, energy_j;
	long line;
	/* results */
	int64_t start;
	bool met;
	double now_g, g, best_g, expected_saving_g;
	char error[240], note[256];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qmx schedule --grid TRACE --jobs JOBS.csv [options]\n"
		"       qmx schedule --sweep --grid TRACE [--grid TRACE...] [--duration H] [--deadline H]\n\n"
		"Replay deferrable jobs against a grid-intensity trace: each job starts when\n"
		"the forecast expects the least carbon before its deadline (library policy\n"
		"qmx_shift_choose); carbon is counted with the trace's actual intensity.\n\n"
		"  --grid PATH        grid trace: CSV, GB Carbon Intensity / Carbon Aware SDK /\n"
		"                     Electricity Maps JSON, or a directory of them\n"
		"  --jobs FILE        CSV: id,arrival,duration_h,energy_kwh,deadline (ISO-8601 UTC;\n"
		"                     duration_s and energy_j are accepted instead)\n"
		"  --forecast F       auto (the trace's forecast, else persistence), trace,\n"
		"                     persistence (same time on the last day seen), perfect\n"
		"  --policy P         shift (default) or now (every job on arrival)\n"
		"  --out DIR          where schedule.json and schedule.svg go (default .)\n"
		"  --no-files         print only\n"
		"  --sweep            a job arriving at each whole hour of the trace, vs running it then\n"
		"  --duration H       sweep job length in hours (default 4)\n"
		"  --deadline H       sweep deadline, hours after arrival (default 24)\n");
}

static int parse_forecast(const char *s, int32_t *f)
{
	static const char *names[] = { "auto", "trace", "persistence", "perfect" };
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*f = i;
			return 0;
		}
	fprintf(stderr, "qmx schedule: --forecast '%s' must be auto, trace, persistence or perfect\n", s);
	return -1;
}

static const char *forecast_str(int32_t f)
{
	static const char *names[] = { "auto", "trace's forecast", "persistence (same time, last day seen)",
				       "perfect foresight" };
	return f >= 0 && f < 4 ? names[f] : "?";
}

/* ---------------------------------------------------------------- jobs file */

static int jobs_fail(const char *path, long line, const char *field, const char *what)
{
	fprintf(stderr, "qmx schedule: %s:%ld: field '%s': %s\n", path, line, field, what);
	return -1;
}

static int read_jobs(const char *path, struct job *jobs, int cap)
{
	FILE *f = fopen(path, "r");
	char buf[1024], *fld[16];
	int col[6] = { -1, -1, -1, -1, -1, -1 }, n = 0, ncol = 0;
	const char *names[6] = { "id", "arrival", "duration", "energy", "deadline", "" };
	bool dur_s = false, e_j = false;
	long line = 0;
	if (!f) {
		fprintf(stderr, "qmx schedule: --jobs %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] == '#' || !buf[strspn(buf, " \t")])
			continue;
		int k = 0;
		for (char *s = buf; k < 16;) {
			fld[k++] = s + strspn(s, " \t");
			char *c = strchr(s, ',');
			if (!c)
				break;
			*c = '\0';
			s = c + 1;
		}
		if (!ncol) {
			ncol = k;
			for (int i = 0; i < k; i++) {
				const char *h = fld[i];
				if (!strcmp(h, "id") || !strcmp(h, "name") || !strcmp(h, "workload"))
					col[0] = i;
				else if (!strcmp(h, "arrival"))
					col[1] = i;
				else if (!strcmp(h, "duration_h") || !strcmp(h, "duration_s")) {
					col[2] = i;
					dur_s = !strcmp(h, "duration_s");
				} else if (!strcmp(h, "energy_kwh") || !strcmp(h, "energy_j")) {
					col[3] = i;
					e_j = !strcmp(h, "energy_j");
				} else if (!strcmp(h, "deadline"))
					col[4] = i;
			}
			for (int i = 0; i < 5; i++)
				if (col[i] < 0) {
					fclose(f);
					return jobs_fail(path, line, names[i],
							 "missing from the header (id,arrival,duration_h,energy_kwh,deadline)");
				}
			continue;
		}
		if (k != ncol) {
			fclose(f);
			return jobs_fail(path, line, "*", "field count differs from the header's");
		}
		if (n == cap) {
			fclose(f);
			return jobs_fail(path, line, "*", "more jobs than the limit (1000)");
		}
		struct job *j = &jobs[n];
		char *end;
		memset(j, 0, sizeof(*j));
		j->line = line;
		snprintf(j->id, sizeof(j->id), "%s", fld[col[0]]);
		if (qmx_time_parse(fld[col[1]], &j->arrival) || qmx_time_parse(fld[col[4]], &j->deadline)) {
			bool arr = qmx_time_parse(fld[col[1]], &j->arrival) != 0;
			fclose(f);
			return jobs_fail(path, line, arr ? "arrival" : "deadline", qmx_last_error());
		}
		errno = 0;
		j->duration_s = strtod(fld[col[2]], &end) * (dur_s ? 1 : 3600);
		if (errno || *end || end == fld[col[2]] || !(j->duration_s > 0)) {
			fclose(f);
			return jobs_fail(path, line, dur_s ? "duration_s" : "duration_h", "not a number > 0");
		}
		j->energy_j = strtod(fld[col[3]], &end) * (e_j ? 1 : 3.6e6);
		if (errno || *end || end == fld[col[3]] || !(j->energy_j >= 0) || !isfinite(j->energy_j)) {
			fclose(f);
			return jobs_fail(path, line, e_j ? "energy_j" : "energy_kwh", "not a number >= 0");
		}
		n++;
	}
	fclose(f);
	if (!n)
		return jobs_fail(path, line ? line : 1, "*", "no jobs");
	return n;
}

/* ---------------------------------------------------------------- replay */

static void replay(const qmx_grid_trace *t, struct job *j, int32_t forecast, bool shift)
{
	qmx_shift_request r;
	qmx_shift_plan p;
	qmx_grid_used now, ran;
	qmx_shift_request_init(&r);
	r.now_s = j->arrival;
	r.deadline_s = j->deadline;
	r.duration_s = j->duration_s;
	r.energy_j = j->energy_j;
	r.forecast = forecast;
	j->start = j->arrival;
	j->best_g = j->expected_saving_g = NAN;
	if (shift) {
		if (qmx_shift_choose(t, &r, &p) == 0) {
			j->start = p.start_s;
			j->best_g = p.best_g;
			j->expected_saving_g = p.expected_saving_g;
			snprintf(j->note, sizeof(j->note), "%s", p.note);
		} else {
			/* Cannot meet its deadline: it runs on arrival, late. */
			snprintf(j->note, sizeof(j->note), "runs on arrival: %s", qmx_last_error());
		}
	}
	j->met = (double)j->start + j->duration_s <= (double)j->deadline;
	if (qmx_grid_trace_carbon(t, j->arrival, j->duration_s, j->energy_j, &now) ||
	    qmx_grid_trace_carbon(t, j->start, j->duration_s, j->energy_j, &ran)) {
		snprintf(j->error, sizeof(j->error), "%s", qmx_last_error());
		j->now_g = j->g = NAN;
		return;
	}
	j->now_g = now.carbon_g;
	j->g = ran.carbon_g;
}

/* ---------------------------------------------------------------- SVG */

#define SW 1000.0
#define ML 104.0 /* left margin: job ids */
#define MR 24.0
#define PT 58.0  /* intensity panel top */
#define PHT 230.0 /* its height */
#define LANE 24.0

struct axes {
	int64_t t0, t1;
	double ymax;
};

static double sx(const struct axes *a, double t)
{
	return ML + (t - (double)a->t0) / (double)(a->t1 - a->t0) * (SW - ML - MR);
}

static double sy(const struct axes *a, double g)
{
	return PT + PHT - g / a->ymax * PHT;
}

static void short_time(int64_t t, char *buf, size_t len)
{
	char iso[32];
	qmx_time_format(t, iso, sizeof(iso));
	/* "2023-03-14T06:00:00Z" -> "03-14 06:00" */
	snprintf(buf, len, "%.5s %.5s", iso + 5, iso + 11);
}

/* One series (actual or forecast) as a step path, broken where missing. */
static void series(FILE *f, const qmx_grid_trace *t, const struct axes *a, bool forecast,
		   const char *stroke, const char *dash)
{
	qmx_grid_trace_info in;
	qmx_grid_sample s;
	bool open = false;
	qmx_grid_trace_get_info(t, &in);
	for (uint64_t i = 0; i < in.n; i++) {
		qmx_grid_trace_get_sample(t, i, &s);
		int64_t w0 = s.start_s, w1 = s.start_s + in.step_s;
		double v = forecast ? s.forecast : s.actual;
		if (w1 <= a->t0 || w0 >= a->t1 || isnan(v)) {
			if (open)
				fputs("\"/>\n", f);
			open = false;
			continue;
		}
		double x0 = sx(a, (double)(w0 < a->t0 ? a->t0 : w0));
		double x1 = sx(a, (double)(w1 > a->t1 ? a->t1 : w1));
		if (!open)
			fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s%s%s d=\"M%.1f %.1f",
				stroke, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
				dash ? "\"" : "", x0, sy(a, v));
		else
			fprintf(f, " L%.1f %.1f", x0, sy(a, v));
		fprintf(f, " L%.1f %.1f", x1, sy(a, v));
		open = true;
	}
	if (open)
		fputs("\"/>\n", f);
}

static int write_svg(const char *path, const qmx_grid_trace *t, const struct job *jobs, int n,
		     const char *policy)
{
	qmx_grid_trace_info in;
	qmx_grid_sample s;
	struct axes a;
	char buf[1024], t0s[24], t1s[24];
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	qmx_grid_trace_get_info(t, &in);
	/* Time range: the jobs' windows with 2 h either side, inside the trace. */
	a.t0 = INT64_MAX;
	a.t1 = INT64_MIN;
	for (int i = 0; i < n; i++) {
		int64_t end = jobs[i].start + (int64_t)ceil(jobs[i].duration_s);
		a.t0 = jobs[i].arrival < a.t0 ? jobs[i].arrival : a.t0;
		a.t1 = jobs[i].deadline > a.t1 ? jobs[i].deadline : a.t1;
		a.t1 = end > a.t1 ? end : a.t1;
	}
	a.t0 -= 7200;
	a.t1 += 7200;
	a.t0 = a.t0 < in.start_s ? in.start_s : a.t0;
	a.t1 = a.t1 > in.end_s ? in.end_s : a.t1;
	if (a.t1 <= a.t0) {
		a.t0 = in.start_s;
		a.t1 = in.end_s;
	}
	double vmax = 0;
	for (uint64_t i = 0; i < in.n; i++) {
		qmx_grid_trace_get_sample(t, i, &s);
		if (s.start_s + in.step_s <= a.t0 || s.start_s >= a.t1)
			continue;
		if (!isnan(s.actual) && s.actual > vmax)
			vmax = s.actual;
		if (!isnan(s.forecast) && s.forecast > vmax)
			vmax = s.forecast;
	}
	double ystep = vmax <= 100 ? 20 : vmax <= 250 ? 50 : vmax <= 600 ? 100 : 200;
	a.ymax = ceil((vmax > 0 ? vmax : 1) * 1.05 / ystep) * ystep;
	double lanes_top = PT + PHT + 62;
	double h = lanes_top + n * LANE + 64;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n",
		SW, h, SW, h);
	svg_rect(f, 0, 0, SW, h, "white", NULL, NULL);
	short_time(a.t0, t0s, sizeof(t0s));
	short_time(a.t1, t1s, sizeof(t1s));
	const char *base = strrchr(in.name, '/') ? strrchr(in.name, '/') + 1 : in.name;
	snprintf(buf, sizeof(buf), "%d job(s) on the %.*s grid", n,
		 (int)strcspn(in.region[0] ? in.region : base, ",;"), in.region[0] ? in.region : base);
	svg_text(f, ML, 24, "start", 16, "#111", buf);
	snprintf(buf, sizeof(buf), "policy: %.60s; %.80s: %s intensity, source: %.*s", policy, base,
		 in.kind == QMX_GRID_AVERAGE ? "average" : in.kind == QMX_GRID_MARGINAL ? "marginal" : "grid",
		 (int)(strcspn(in.source[0] ? in.source : in.format, ";") < 60
			       ? strcspn(in.source[0] ? in.source : in.format, ";") : 60),
		 in.source[0] ? in.source : in.format);
	svg_text(f, ML, 42, "start", 10, "#555", buf);

	/* Y axis and grid. */
	for (double g = 0; g <= a.ymax + 1e-9; g += ystep) {
		svg_line(f, ML, sy(&a, g), SW - MR, sy(&a, g), "#e4e4e4", 1, NULL);
		snprintf(buf, sizeof(buf), "%.0f", g);
		svg_text(f, ML - 6, sy(&a, g) + 4, "end", 11, "#333", buf);
	}
	fprintf(f, "<text x=\"40\" y=\"%.1f\" font-size=\"12\" fill=\"#111\" text-anchor=\"middle\" "
		   "transform=\"rotate(-90 40 %.1f)\">grid intensity (gCO2e/kWh)</text>\n",
		PT + PHT / 2, PT + PHT / 2);
	/* X ticks: whole hours of a readable spacing, through both panels. */
	double span_h = (double)(a.t1 - a.t0) / 3600;
	int64_t tick = span_h <= 30 ? 3 * 3600 : span_h <= 72 ? 6 * 3600 : span_h <= 170 ? 12 * 3600 : 86400;
	for (int64_t x = (a.t0 + tick - 1) / tick * tick; x <= a.t1; x += tick) {
		svg_line(f, sx(&a, (double)x), PT, sx(&a, (double)x), lanes_top + n * LANE, "#eeeeee", 1, NULL);
		short_time(x, buf, sizeof(buf));
		svg_text(f, sx(&a, (double)x), PT + PHT + 16, "middle", 10, "#333", buf);
	}
	svg_text(f, (ML + SW - MR) / 2, PT + PHT + 34, "middle", 12, "#111", "time (UTC, MM-DD hh:mm)");
	svg_line(f, ML, PT + PHT, SW - MR, PT + PHT, "#333", 1, NULL);
	svg_line(f, ML, PT, ML, PT + PHT, "#333", 1, NULL);

	/* Where each job ran, shaded under the curve; the ids on top, staggered. */
	for (int i = 0; i < n; i++) {
		const struct job *j = &jobs[i];
		double x0 = sx(&a, (double)j->start), x1 = sx(&a, (double)j->start + j->duration_s);
		svg_rect(f, x0, PT, x1 - x0, PHT, j->met ? "#dcedc8" : "#ffcdd2", NULL, NULL);
	}
	for (int i = 0; i < n; i++) {
		const struct job *j = &jobs[i];
		double x0 = sx(&a, (double)j->start), x1 = sx(&a, (double)j->start + j->duration_s);
		svg_text(f, (x0 + x1) / 2, PT + 12 + 11 * (i % 3), "middle", 9,
			 j->met ? "#1b5e20" : "#b71c1c", j->id);
	}
	if (in.n_forecast)
		series(f, t, &a, true, "#888888", "5 3");
	series(f, t, &a, false, "#1565c0", NULL);

	/* One lane per job: window (arrival to deadline), run-on-arrival, run. */
	svg_text(f, ML, lanes_top - 10, "start", 12, "#111",
		 "jobs: window arrival → deadline (grey), on arrival (dashed), where it ran (green; red = deadline missed)");
	for (int i = 0; i < n; i++) {
		const struct job *j = &jobs[i];
		double y = lanes_top + i * LANE;
		double xa = sx(&a, (double)j->arrival), xd = sx(&a, (double)j->deadline);
		double xn = sx(&a, (double)j->arrival + j->duration_s);
		double x0 = sx(&a, (double)j->start), x1 = sx(&a, (double)j->start + j->duration_s);
		svg_text(f, ML - 6, y + 15, "end", 11, "#111", j->id);
		svg_rect(f, xa, y + 4, xd - xa, LANE - 8, "#eceff1", NULL, NULL);
		svg_rect(f, xa, y + 3, xn - xa, LANE - 6, "none", "#555", NULL);
		short_time(j->start, t0s, sizeof(t0s));
		snprintf(buf, sizeof(buf), "%.47s: started %s UTC for %.1f h, %.1f gCO2e (on arrival %.1f g); %.250s",
			 j->id, t0s, j->duration_s / 3600, j->g, j->now_g, j->note);
		svg_rect(f, x0, y + 6, x1 - x0, LANE - 12, j->met ? "#2e7d32" : "#c62828", NULL, buf);
		if (isfinite(j->g) && j->now_g > 0)
			snprintf(buf, sizeof(buf), "%.0f → %.0f gCO2e (%+.0f %%), +%.1f h", j->now_g, j->g,
				 100 * (j->g - j->now_g) / j->now_g, (double)(j->start - j->arrival) / 3600);
		else
			snprintf(buf, sizeof(buf), "%s", j->error[0] ? "not accounted: outside the trace" : "");
		double tx = x1 + 6, anchor_end = tx > SW - 230;
		svg_text(f, anchor_end ? x0 - 6 : tx, y + 15, anchor_end ? "end" : "start", 10, "#333", buf);
	}
	/* Legend. */
	double ly = lanes_top + n * LANE + 30;
	svg_line(f, ML, ly, ML + 28, ly, "#1565c0", 2, NULL);
	svg_text(f, ML + 34, ly + 4, "start", 11, "#111", "actual intensity");
	if (in.n_forecast) {
		svg_line(f, ML + 160, ly, ML + 188, ly, "#888888", 2, "5 3");
		svg_text(f, ML + 194, ly + 4, "start", 11, "#111", "forecast (as published)");
	}
	svg_rect(f, ML + 380, ly - 7, 28, 12, "#dcedc8", NULL, NULL);
	svg_text(f, ML + 414, ly + 4, "start", 11, "#111", "a job running");
	short_time(a.t0, t0s, sizeof(t0s));
	snprintf(buf, sizeof(buf), "shown %s to %s UTC", t0s, t1s);
	svg_text(f, SW - MR, ly + 4, "end", 10, "#555", buf);
	fputs("</svg>\n", f);
	return fclose(f);
}

/* ---------------------------------------------------------------- JSON */

static void jnum(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

static int write_json(const char *path, const qmx_grid_trace *t, const struct job *jobs, int n,
		      const char *policy, int32_t forecast, const double tot[4])
{
	qmx_grid_trace_info in;
	char a[32], b[32];
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	qmx_grid_trace_get_info(t, &in);
	fputs("{\n  \"grid\": {\"file\": ", f);
	cli_json_string(f, in.name);
	fputs(", \"format\": ", f);
	cli_json_string(f, in.format);
	fputs(", \"region\": ", f);
	cli_json_string(f, in.region);
	fputs(", \"source\": ", f);
	cli_json_string(f, in.source);
	qmx_time_format(in.start_s, a, sizeof(a));
	qmx_time_format(in.end_s, b, sizeof(b));
	fprintf(f, ", \"kind\": \"%s\", \"start\": \"%s\", \"end\": \"%s\", \"step_s\": %lld},\n",
		in.kind == QMX_GRID_AVERAGE ? "average" : in.kind == QMX_GRID_MARGINAL ? "marginal" : "unknown",
		a, b, (long long)in.step_s);
	fprintf(f, "  \"policy\": \"%s\", \"forecast\": \"%s\", \"unit\": \"gCO2e\",\n", policy,
		forecast_str(forecast));
	fputs("  \"jobs\": [\n", f);
	for (int i = 0; i < n; i++) {
		const struct job *j = &jobs[i];
		fputs("    {\"id\": ", f);
		cli_json_string(f, j->id);
		qmx_time_format(j->arrival, a, sizeof(a));
		fprintf(f, ", \"arrival\": \"%s\"", a);
		qmx_time_format(j->deadline, a, sizeof(a));
		fprintf(f, ", \"deadline\": \"%s\"", a);
		qmx_time_format(j->start, a, sizeof(a));
		fprintf(f, ", \"start\": \"%s\", \"duration_s\": %.0f, \"energy_j\": %.6g, \"delay_s\": %lld, \"deadline_met\": %s",
			a, j->duration_s, j->energy_j, (long long)(j->start - j->arrival),
			j->met ? "true" : "false");
		fputs(", \"carbon_on_arrival_g\": ", f);
		jnum(f, j->now_g);
		fputs(", \"carbon_g\": ", f);
		jnum(f, j->g);
		fputs(", \"expected_saving_g\": ", f);
		jnum(f, j->expected_saving_g);
		fputs(", \"perfect_foresight_g\": ", f);
		jnum(f, j->best_g);
		fputs(", \"note\": ", f);
		cli_json_string(f, j->note);
		fputs(", \"error\": ", f);
		cli_json_string(f, j->error);
		fprintf(f, "}%s\n", i + 1 < n ? "," : "");
	}
	fputs("  ],\n  \"totals\": {\"carbon_on_arrival_g\": ", f);
	jnum(f, tot[0]);
	fputs(", \"carbon_g\": ", f);
	jnum(f, tot[1]);
	fputs(", \"saved_percent\": ", f);
	jnum(f, tot[0] > 0 ? 100 * (tot[0] - tot[1]) / tot[0] : NAN);
	fprintf(f, ", \"mean_delay_s\": %.0f, \"deadlines_met\": %.0f, \"jobs\": %d}\n}\n", tot[2],
		tot[3], n);
	return fclose(f);
}

/* ---------------------------------------------------------------- sweep */

static int sweep(const char *path, double dur_h, double deadline_h, int32_t forecast)
{
	qmx_grid_trace *t;
	qmx_grid_trace_info in;
	int err;
	if ((err = qmx_grid_trace_load(path, &t)))
		return cli_error("schedule", path, err);
	qmx_grid_trace_get_info(t, &in);
	double sum = 0, lo = INFINITY, hi = -INFINITY, psum = 0, plo = INFINITY, phi = -INFINITY;
	double gsum = 0, dsum = 0;
	int n = 0, no_fc = 0, f_used = 0;
	for (int64_t h = (in.start_s + 3599) / 3600 * 3600;
	     (double)h + deadline_h * 3600 <= (double)in.end_s; h += 3600) {
		qmx_shift_request r;
		qmx_shift_plan p;
		qmx_shift_request_init(&r);
		r.now_s = h;
		r.duration_s = dur_h * 3600;
		r.deadline_s = h + (int64_t)(deadline_h * 3600);
		r.energy_j = 3.6e6; /* 1 kWh: savings in g are then g/kWh */
		r.forecast = forecast;
		if ((err = qmx_shift_choose(t, &r, &p))) {
			qmx_grid_trace_del(t);
			return cli_error("schedule", "sweep", err);
		}
		f_used = p.forecast;
		if (!p.candidates) {
			no_fc++;
			continue;
		}
		if (isnan(p.actual_now_g) || isnan(p.actual_g) || isnan(p.best_g) || !(p.actual_now_g > 0))
			continue;
		double s = 100 * (p.actual_now_g - p.actual_g) / p.actual_now_g;
		double b = 100 * (p.actual_now_g - p.best_g) / p.actual_now_g;
		sum += s;
		psum += b;
		gsum += p.actual_now_g - p.actual_g;
		dsum += p.delay_s;
		lo = s < lo ? s : lo;
		hi = s > hi ? s : hi;
		plo = b < plo ? b : plo;
		phi = b > phi ? b : phi;
		n++;
	}
	printf("%s (%s, %s, step %lld min)\n", in.name, in.region[0] ? in.region : in.format,
	       in.kind == QMX_GRID_AVERAGE ? "average" : in.kind == QMX_GRID_MARGINAL ? "marginal" : "kind not stated",
	       (long long)in.step_s / 60);
	if (!n) {
		printf("  no arrival hour with %.0f h of trace after it and a forecast\n", deadline_h);
	} else {
		printf("  %d arrival hours; %.0f h job, deadline %.0f h, forecast: %s\n", n, dur_h,
		       deadline_h, forecast_str(f_used));
		if (no_fc)
			printf("  (%d more hours had no forecast for any start - the first day under persistence - and are left out)\n",
			       no_fc);
		printf("  carbon saved vs starting on arrival: mean %.1f %%, range %.1f .. %.1f %% "
		       "(%.1f gCO2e per kWh of job; mean delay %.1f h)\n",
		       sum / n, lo, hi, gsum / n, dsum / n / 3600);
		printf("  perfect foresight (upper bound):     mean %.1f %%, range %.1f .. %.1f %%\n",
		       psum / n, plo, phi);
	}
	qmx_grid_trace_del(t);
	return 0;
}

/* ---------------------------------------------------------------- main */

int cmd_schedule(int argc, char **argv)
{
	enum { O_GRID = 256, O_JOBS, O_FC, O_POLICY, O_OUT, O_NOFILES, O_SWEEP, O_DUR, O_DL };
	static const struct option opts[] = {
		{ "grid", required_argument, 0, O_GRID },
		{ "jobs", required_argument, 0, O_JOBS },
		{ "forecast", required_argument, 0, O_FC },
		{ "policy", required_argument, 0, O_POLICY },
		{ "out", required_argument, 0, O_OUT },
		{ "no-files", no_argument, 0, O_NOFILES },
		{ "sweep", no_argument, 0, O_SWEEP },
		{ "duration", required_argument, 0, O_DUR },
		{ "deadline", required_argument, 0, O_DL },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *grids[MAX_GRIDS], *jobs_path = NULL, *out = ".", *policy = "shift";
	int ngrid = 0, files = 1, do_sweep = 0, c, err, status = 0;
	int32_t forecast = QMX_FORECAST_AUTO;
	double dur_h = 4, dl_h = 24;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case O_GRID:
			if (ngrid == MAX_GRIDS) {
				fprintf(stderr, "qmx schedule: at most %d --grid\n", MAX_GRIDS);
				return 2;
			}
			grids[ngrid++] = optarg;
			break;
		case O_JOBS: jobs_path = optarg; break;
		case O_FC:
			if (parse_forecast(optarg, &forecast))
				return 2;
			break;
		case O_POLICY:
			if (strcmp(optarg, "shift") && strcmp(optarg, "now")) {
				fprintf(stderr, "qmx schedule: --policy '%s' must be shift or now\n", optarg);
				return 2;
			}
			policy = optarg;
			break;
		case O_OUT: out = optarg; break;
		case O_NOFILES: files = 0; break;
		case O_SWEEP: do_sweep = 1; break;
		case O_DUR:
		case O_DL: {
			double v = strtod(optarg, &end);
			if (*end || end == optarg || !(v > 0) || v > 24 * 366) {
				fprintf(stderr, "qmx schedule: --%s '%s' must be hours in (0, 8784]\n",
					c == O_DUR ? "duration" : "deadline", optarg);
				return 2;
			}
			*(c == O_DUR ? &dur_h : &dl_h) = v;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: return cli_bad_option("schedule", argv, c);
		}
	}
	if (cli_no_operands("schedule", argc, argv))
		return 2;
	if (!ngrid) {
		fprintf(stderr, "qmx schedule: --grid TRACE is required\n");
		usage(stderr);
		return 2;
	}
	if (do_sweep) {
		if (dur_h > dl_h) {
			fprintf(stderr, "qmx schedule: --duration (%g h) longer than --deadline (%g h)\n",
				dur_h, dl_h);
			return 2;
		}
		printf("qmx schedule --sweep: a %.0f h job (1 kWh) arriving at each whole hour, deadline %.0f h later;\n"
		       "carbon with the trace's actual intensity, start chosen under the forecast\n\n",
		       dur_h, dl_h);
		for (int i = 0; i < ngrid; i++)
			if (sweep(grids[i], dur_h, dl_h, forecast))
				status = 1;
		return status;
	}
	if (ngrid > 1) {
		fprintf(stderr, "qmx schedule: one --grid for a replay (several only with --sweep)\n");
		return 2;
	}
	if (!jobs_path) {
		fprintf(stderr, "qmx schedule: --jobs FILE is required (or --sweep)\n");
		return 2;
	}
	static struct job jobs[MAX_JOBS];
	int n = read_jobs(jobs_path, jobs, MAX_JOBS);
	if (n < 0)
		return 2;
	qmx_grid_trace *t;
	qmx_grid_trace_info in;
	if ((err = qmx_grid_trace_load(grids[0], &t)))
		return cli_error("schedule", "grid trace", err);
	qmx_grid_trace_get_info(t, &in);
	char a[32], b[32];
	qmx_time_format(in.start_s, a, sizeof(a));
	qmx_time_format(in.end_s, b, sizeof(b));
	printf("qmx schedule: %d job(s) from %s on %s\n", n, jobs_path, in.name);
	printf("grid: %.*s, %s to %s, %lld min windows, %s intensity; source: %.*s\n",
	       (int)strcspn(in.region[0] ? in.region : "not stated", ",;"),
	       in.region[0] ? in.region : "not stated", a, b, (long long)in.step_s / 60,
	       in.kind == QMX_GRID_AVERAGE ? "average" : in.kind == QMX_GRID_MARGINAL ? "marginal" : "kind-not-stated",
	       (int)strcspn(in.source[0] ? in.source : in.format, ";"), in.source[0] ? in.source : in.format);
	bool shift = !strcmp(policy, "shift");
	int32_t fused = forecast == QMX_FORECAST_AUTO
				? (in.n_forecast ? QMX_FORECAST_TRACE : QMX_FORECAST_PERSISTENCE)
				: forecast;
	printf("policy: %s%s\n\n", shift ? "shift under " : "run on arrival",
	       shift ? forecast_str(fused) : "");
	printf("%-12s %-11s %-11s %7s %5s %11s %11s %8s\n", "job", "arrival", "start", "delay h",
	       "met", "arrival g", "ran g", "saved");
	double tot[4] = { 0, 0, 0, 0 }, best = 0;
	int best_n = 0;
	for (int i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		char s1[24], s2[24];
		replay(t, j, forecast, shift);
		short_time(j->arrival, s1, sizeof(s1));
		short_time(j->start, s2, sizeof(s2));
		if (j->error[0]) {
			printf("%-12s %-11s %-11s  not accounted: %s\n", j->id, s1, s2, j->error);
			status = 1;
			continue;
		}
		printf("%-12s %-11s %-11s %7.1f %5s %11.1f %11.1f %7.1f%%\n", j->id, s1, s2,
		       (double)(j->start - j->arrival) / 3600, j->met ? "yes" : "NO", j->now_g, j->g,
		       j->now_g > 0 ? 100 * (j->now_g - j->g) / j->now_g : 0);
		tot[0] += j->now_g;
		tot[1] += j->g;
		tot[2] += (double)(j->start - j->arrival) / n;
		tot[3] += j->met;
		if (isfinite(j->best_g)) {
			best += j->best_g;
			best_n++;
		}
	}
	printf("\ntotal: %.1f gCO2e on arrival -> %.1f gCO2e (%.1f %% saved), mean delay %.1f h, "
	       "deadlines met %.0f/%d\n",
	       tot[0], tot[1], tot[0] > 0 ? 100 * (tot[0] - tot[1]) / tot[0] : 0, tot[2] / 3600, tot[3], n);
	if (shift && best_n == n)
		printf("perfect foresight would give %.1f gCO2e (%.1f %% saved): the upper bound\n", best,
		       tot[0] > 0 ? 100 * (tot[0] - best) / tot[0] : 0);
	if (files) {
		struct stat sb;
		char path[1024];
		if (stat(out, &sb) || !S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "qmx schedule: --out '%s' is not a directory\n", out);
			qmx_grid_trace_del(t);
			return 2;
		}
		snprintf(path, sizeof(path), "%s/schedule.json", out);
		if (write_json(path, t, jobs, n, policy, fused, tot)) {
			fprintf(stderr, "qmx schedule: writing %s: %s\n", path, strerror(errno));
			status = 1;
		} else {
			printf("wrote %s\n", path);
		}
		snprintf(path, sizeof(path), "%s/schedule.svg", out);
		char pol[96];
		snprintf(pol, sizeof(pol), "%s", shift ? forecast_str(fused) : "run on arrival");
		if (write_svg(path, t, jobs, n, pol)) {
			fprintf(stderr, "qmx schedule: writing %s: %s\n", path, strerror(errno));
			status = 1;
		} else {
			printf("wrote %s\n", path);
		}
	}
	qmx_grid_trace_del(t);
	return status;
}
