/* SPDX-License-Identifier: MIT */
/*
 * policy.c - carbon-aware decisions: shifting a deferrable job in time under
 * a forecast, placing a job on the device where it adds the least carbon,
 * and shaping demand by choosing among caller-registered tiers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "energy_internal.h"
#include "grid_internal.h"
#include "qmx_backend.h"

/* ---------------------------------------------------------------- shifting */

static const char *forecast_name(int32_t f)
{
	switch (f) {
	case QMX_FORECAST_TRACE: return "the trace's forecast";
	case QMX_FORECAST_PERSISTENCE: return "persistence (same time on the last day seen)";
	case QMX_FORECAST_PERFECT: return "perfect foresight (the actuals)";
	default: return "auto";
	}
}

/* The value the forecast `f`, made at `now`, gives window i (NaN: none). */
static double forecast_value(const qmx_grid_trace *t, int32_t f, int64_t now, size_t i)
{
	if (f == QMX_FORECAST_TRACE)
		return t->forecast[i];
	if (f == QMX_FORECAST_PERFECT)
		return t->actual[i];
	/* Persistence: the same time k days earlier, the latest day whose
	 * window had ended by `now` (known when the decision is made). */
	int64_t per_day = 86400 / t->step;
	int64_t wi = (int64_t)i;
	while (wi >= 0 && t->start + (wi + 1) * t->step > now)
		wi -= per_day;
	return wi >= 0 ? t->actual[wi] : NAN;
}

/* Mean intensity over [s, s + d) under forecast f (NaN if any window is
 * unknown or outside the trace). */
static double window_mean(const qmx_grid_trace *t, int32_t f, int64_t now, int64_t s, double d)
{
	double end = (double)s + d, mean = 0;
	int64_t tend = t->start + (int64_t)t->n * t->step;
	if (s < t->start || end > (double)tend)
		return NAN;
	for (double a = (double)s; a < end;) {
		size_t i = (size_t)(((int64_t)floor(a) - t->start) / t->step);
		double wend = (double)(t->start + (int64_t)(i + 1) * t->step);
		double b = wend < end ? wend : end;
		double v = forecast_value(t, f, now, i);
		if (isnan(v))
			return NAN;
		mean += v * (b - a) / d;
		a = b;
	}
	return mean;
}

QMX_API void qmx_shift_request_init(qmx_shift_request *req)
{
	if (req)
		memset(req, 0, sizeof(*req));
}

QMX_API int qmx_shift_choose(const qmx_grid_trace *t, const qmx_shift_request *req,
			     qmx_shift_plan *plan)
{
	char a[32], b[32];
	if (!t || !req || !plan)
		return qmx_fail(QMX_EINVAL, "qmx_shift_choose: %s is NULL",
				!t ? "t" : !req ? "req" : "plan");
	if (!(req->duration_s > 0) || req->duration_s > 366 * 86400.0)
		return qmx_fail(QMX_EINVAL, "qmx_shift_choose: duration_s (%g) must be in (0, 1 year]",
				req->duration_s);
	if (!(req->energy_j >= 0) || !isfinite(req->energy_j))
		return qmx_fail(QMX_EINVAL, "qmx_shift_choose: energy_j (%g) must be finite and >= 0",
				req->energy_j);
	if (req->forecast < QMX_FORECAST_AUTO || req->forecast > QMX_FORECAST_PERFECT)
		return qmx_fail(QMX_EINVAL, "qmx_shift_choose: forecast (%d) must be 0..3 (enum qmx_forecast)",
				req->forecast);
	if (req->step_s < 0)
		return qmx_fail(QMX_EINVAL, "qmx_shift_choose: step_s (%d) must be >= 0", req->step_s);
	if (req->deadline_s < req->now_s ||
	    (double)(req->deadline_s - req->now_s) < req->duration_s) {
		qmx_time_format(req->now_s, a, sizeof(a));
		qmx_time_format(req->deadline_s, b, sizeof(b));
		return qmx_fail(QMX_EINVAL,
				"qmx_shift_choose: deadline_s (%s) is less than duration_s (%g s) after now_s (%s): the job cannot meet it",
				b, req->duration_s, a);
	}
	int32_t f = req->forecast;
	if (f == QMX_FORECAST_AUTO)
		f = t->info.n_forecast ? QMX_FORECAST_TRACE : QMX_FORECAST_PERSISTENCE;
	if (f == QMX_FORECAST_PERSISTENCE && 86400 % t->step)
		return qmx_fail(QMX_ENOTSUP,
				"qmx_shift_choose: persistence needs a step dividing 24 h; %s has %lld s",
				t->info.name, (long long)t->step);
	if (f == QMX_FORECAST_TRACE && !t->info.n_forecast)
		return qmx_fail(QMX_EINVAL, "qmx_shift_choose: forecast: %s has no forecast values",
				t->info.name);

	memset(plan, 0, sizeof(*plan));
	plan->forecast = f;
	int64_t step = req->step_s ? req->step_s : t->step;
	int64_t latest = req->deadline_s - (int64_t)ceil(req->duration_s);
	double e_kwh = req->energy_j / 3.6e6;
	double best = INFINITY, perfect = INFINITY;
	int64_t best_s = req->now_s, perfect_s = req->now_s, horizon = -1;
	int64_t cand = req->now_s;
	int64_t first_grid = t->start + ((req->now_s - t->start) / step + 1) * step;
	if (req->now_s < t->start)
		first_grid = t->start;
	long n = 0;
	plan->expected_now_g = plan->actual_now_g = NAN;
	for (;;) {
		if (cand > latest || n > 10000000)
			break;
		double m = window_mean(t, f, req->now_s, cand, req->duration_s);
		double p = window_mean(t, QMX_FORECAST_PERFECT, req->now_s, cand, req->duration_s);
		if (cand == req->now_s) {
			plan->expected_now_g = e_kwh * m;
			plan->actual_now_g = e_kwh * p;
		}
		if (!isnan(m)) {
			n++;
			horizon = cand;
			/* Strictly less: a tie keeps the earlier start. */
			if (m < best * (1 - 1e-12)) {
				best = m;
				best_s = cand;
			}
		}
		if (!isnan(p) && p < perfect * (1 - 1e-12)) {
			perfect = p;
			perfect_s = cand;
		}
		cand = cand < first_grid ? first_grid : cand + step;
	}
	plan->candidates = (int32_t)n;
	plan->start_s = n ? best_s : req->now_s;
	plan->delay_s = (double)(plan->start_s - req->now_s);
	plan->expected_g = n ? e_kwh * best : NAN;
	plan->expected_saving_g = plan->expected_now_g - plan->expected_g;
	plan->actual_g = e_kwh * window_mean(t, QMX_FORECAST_PERFECT, req->now_s, plan->start_s,
					     req->duration_s);
	plan->best_start_s = perfect_s;
	plan->best_g = isinf(perfect) ? NAN : e_kwh * perfect;
	plan->horizon_s = n ? horizon : req->now_s;
	qmx_time_format(latest, b, sizeof(b));
	if (!n)
		snprintf(plan->note, sizeof(plan->note),
			 "%s covers no start before %s: runs now", forecast_name(f), b);
	else if (horizon + step <= latest) {
		qmx_time_format(horizon, a, sizeof(a));
		snprintf(plan->note, sizeof(plan->note),
			 "%s ends before the deadline: starts up to %s considered (not %s)",
			 forecast_name(f), a, b);
	} else
		snprintf(plan->note, sizeof(plan->note), "%s, %ld starts up to %s", forecast_name(f),
			 n, b);
	qmx_clear_error();
	return 0;
}

/* ---------------------------------------------------------------- placement */

QMX_API int qmx_place_option_from_job(const qmx_device_info *info, const qmx_job_stats *st,
				      qmx_place_option *opt)
{
	qmx_embodied emb;
	int err;
	if (!info || !st || !opt)
		return qmx_fail(QMX_EINVAL, "qmx_place_option_from_job: %s is NULL",
				!info ? "info" : !st ? "st" : "opt");
	if ((err = qmx_device_embodied(info, &emb)))
		return err;
	memset(opt, 0, sizeof(*opt));
	snprintf(opt->name, sizeof(opt->name), "%.31s", info->uri);
	bool sim = (info->features & QMX_FEATURE_SIMULATED) != 0;
	opt->time_s = (sim && st->device_ns ? st->device_ns : st->wall_ns) * 1e-9;
	opt->energy_j = st->energy_j;
	opt->embodied_g = emb.total_g;
	opt->lifetime_s = emb.lifetime_s;
	/* A CPU job holds the threads it used out of the server's ToR. */
	opt->share = emb.resources > 1 ? (st->threads ? st->threads : 1) / emb.resources : 1;
	if (opt->share > 1)
		opt->share = 1;
	return 0;
}

QMX_API int qmx_place_choose(const qmx_place_option *opts, size_t n, double g_per_kwh,
			     qmx_place_result *out)
{
	if (!opts || !out)
		return qmx_fail(QMX_EINVAL, "qmx_place_choose: %s is NULL", !opts ? "opts" : "out");
	if (n < 1 || n > QMX_PLACE_MAX)
		return qmx_fail(QMX_EINVAL, "qmx_place_choose: n (%zu) must be in [1, %d]", n,
				QMX_PLACE_MAX);
	if (!(g_per_kwh >= 0) || g_per_kwh > 5000)
		return qmx_fail(QMX_EINVAL, "qmx_place_choose: g_per_kwh (%g) must be in [0, 5000]",
				g_per_kwh);
	memset(out, 0, sizeof(*out));
	out->n = (int32_t)n;
	out->g_per_kwh = g_per_kwh;
	for (size_t i = 0; i < n; i++) {
		const qmx_place_option *o = &opts[i];
		if (!(o->energy_j >= 0) || !isfinite(o->energy_j) || !(o->time_s >= 0) ||
		    !isfinite(o->time_s) || !(o->embodied_g >= 0) || !isfinite(o->embodied_g))
			return qmx_fail(QMX_EINVAL,
					"qmx_place_choose: opts[%zu] ('%.32s'): energy_j (%g), time_s (%g) and embodied_g (%g) must be finite and >= 0",
					i, o->name, o->energy_j, o->time_s, o->embodied_g);
		if (!(o->lifetime_s > 0) || !isfinite(o->lifetime_s))
			return qmx_fail(QMX_EINVAL, "qmx_place_choose: opts[%zu] ('%.32s'): lifetime_s (%g) must be > 0",
					i, o->name, o->lifetime_s);
		if (!(o->share > 0) || o->share > 1)
			return qmx_fail(QMX_EINVAL, "qmx_place_choose: opts[%zu] ('%.32s'): share (%g) must be in (0, 1]",
					i, o->name, o->share);
		out->operational_g[i] = o->energy_j / 3.6e6 * g_per_kwh;
		out->embodied_g[i] = o->embodied_g * (o->time_s / o->lifetime_s) * o->share;
		out->total_g[i] = out->operational_g[i] + out->embodied_g[i];
		if (out->total_g[i] < out->total_g[out->choice] * (1 - 1e-12))
			out->choice = (int32_t)i;
	}
	return 0;
}

/* ---------------------------------------------------------------- shaping */

struct qmx_shaper {
	qmx_shape_tier t[QMX_SHAPE_MAX];
	int n;
};

QMX_API int qmx_shaper_new(qmx_shaper **out)
{
	if (!out)
		return qmx_fail(QMX_EINVAL, "qmx_shaper_new: out is NULL");
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : qmx_fail(QMX_ENOMEM, "qmx_shaper_new: out of memory");
}

QMX_API void qmx_shaper_del(qmx_shaper *s)
{
	free(s);
}

QMX_API int qmx_shaper_add_tier(qmx_shaper *s, const qmx_shape_tier *tier, int *idx)
{
	if (!s || !tier)
		return qmx_fail(QMX_EINVAL, "qmx_shaper_add_tier: %s is NULL", !s ? "s" : "tier");
	if (s->n == QMX_SHAPE_MAX)
		return qmx_fail(QMX_EINVAL, "qmx_shaper_add_tier: already %d tiers (the limit)",
				QMX_SHAPE_MAX);
	if (!memchr(tier->name, '\0', sizeof(tier->name)) || !tier->name[0])
		return qmx_fail(QMX_EINVAL, "qmx_shaper_add_tier: name must be 1..%zu characters",
				sizeof(tier->name) - 1);
	if (!(tier->energy_j >= 0) || !isfinite(tier->energy_j))
		return qmx_fail(QMX_EINVAL, "qmx_shaper_add_tier: '%s': energy_j (%g) must be finite and >= 0",
				tier->name, tier->energy_j);
	if (!isfinite(tier->quality))
		return qmx_fail(QMX_EINVAL, "qmx_shaper_add_tier: '%s': quality (%g) must be finite",
				tier->name, tier->quality);
	if (!(tier->max_g_per_kwh >= 0))
		return qmx_fail(QMX_EINVAL,
				"qmx_shaper_add_tier: '%s': max_g_per_kwh (%g) must be >= 0 (INFINITY: no limit)",
				tier->name, tier->max_g_per_kwh);
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->t[i].name, tier->name))
			return qmx_fail(QMX_EINVAL, "qmx_shaper_add_tier: name '%s' already registered",
					tier->name);
	s->t[s->n] = *tier;
	if (idx)
		*idx = s->n;
	s->n++;
	return 0;
}

QMX_API int qmx_shaper_choose(const qmx_shaper *s, double g_per_kwh, double budget_g,
			      qmx_shape_choice *out)
{
	if (!s || !out)
		return qmx_fail(QMX_EINVAL, "qmx_shaper_choose: %s is NULL", !s ? "s" : "out");
	if (!s->n)
		return qmx_fail(QMX_EINVAL, "qmx_shaper_choose: no tiers registered");
	if (!(g_per_kwh >= 0) || g_per_kwh > 5000)
		return qmx_fail(QMX_EINVAL, "qmx_shaper_choose: g_per_kwh (%g) must be in [0, 5000]",
				g_per_kwh);
	if (!(budget_g >= 0) || !isfinite(budget_g))
		return qmx_fail(QMX_EINVAL, "qmx_shaper_choose: budget_g (%g) must be finite and >= 0 (0: none)",
				budget_g);
	memset(out, 0, sizeof(*out));
	out->n = s->n;
	out->g_per_kwh = g_per_kwh;
	double top = -INFINITY;
	for (int i = 0; i < s->n; i++)
		if (s->t[i].quality > top)
			top = s->t[i].quality;
	int pick = -1, cheapest = 0;
	for (int i = 0; i < s->n; i++) {
		const qmx_shape_tier *t = &s->t[i];
		out->carbon_g[i] = t->energy_j / 3.6e6 * g_per_kwh;
		out->quality_cost[i] = top - t->quality;
		if (t->energy_j < s->t[cheapest].energy_j)
			cheapest = i;
		bool ok = g_per_kwh <= t->max_g_per_kwh && (budget_g == 0 || out->carbon_g[i] <= budget_g);
		if (!ok)
			continue;
		if (pick < 0 || t->quality > s->t[pick].quality ||
		    (t->quality == s->t[pick].quality && t->energy_j < s->t[pick].energy_j))
			pick = i;
	}
	out->within = pick >= 0;
	out->choice = pick >= 0 ? pick : cheapest;
	return 0;
}
