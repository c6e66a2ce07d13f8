/* SPDX-License-Identifier: MIT */
/*
 * test_policy.c - shifting, placement and shaping on hand-computed cases,
 * with the edge cases: a forecast shorter than the deadline, a job longer
 * than its window, missing samples, ties, and bad arguments.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qmx/qmx.h"

#define H 3600LL
#define T0 1704067200LL /* 2024-01-01T00:00:00Z */
#define KWH 3.6e6

#define NEAR(a, b) assert_true(fabs((double)(a) - (double)(b)) <= 1e-9 * (1 + fabs((double)(b))))

static void expect_msg(const char *needle)
{
	if (!strstr(qmx_last_error(), needle))
		fail_msg("message '%s' lacks '%s'", qmx_last_error(), needle);
}

static qmx_grid_trace *parse(const char *text)
{
	qmx_grid_trace *t = NULL;
	if (qmx_grid_trace_parse(text, strlen(text), "test.csv", &t))
		fail_msg("%s", qmx_last_error());
	return t;
}

/* Hourly from 2024-01-01T00:00Z: actual 100 300 200 50 50 400, the
 * forecast equal to it. */
static const char *six =
	"timestamp,g,forecast\n"
	"2024-01-01T00:00Z,100,100\n2024-01-01T01:00Z,300,300\n2024-01-01T02:00Z,200,200\n"
	"2024-01-01T03:00Z,50,50\n2024-01-01T04:00Z,50,50\n2024-01-01T05:00Z,400,400\n";

static qmx_shift_request req(int64_t now, double dur_h, int64_t deadline, double kwh)
{
	qmx_shift_request r;
	qmx_shift_request_init(&r);
	r.now_s = now;
	r.duration_s = dur_h * H;
	r.deadline_s = deadline;
	r.energy_j = kwh * KWH;
	return r;
}

static void shift_basic(void **state)
{
	(void)state;
	qmx_grid_trace *t = parse(six);
	qmx_shift_plan p;
	/* 2 h, 1 kWh, by 06:00: starts 0..4 h average 200, 250, 125, 50, 225. */
	qmx_shift_request r = req(T0, 2, T0 + 6 * H, 1);
	assert_int_equal(qmx_shift_choose(t, &r, &p), 0);
	assert_int_equal(p.start_s, T0 + 3 * H);
	assert_int_equal(p.candidates, 5);
	assert_int_equal(p.forecast, QMX_FORECAST_TRACE);
	NEAR(p.delay_s, 3 * H);
	NEAR(p.expected_g, 50);
	NEAR(p.expected_now_g, 200);
	NEAR(p.expected_saving_g, 150);
	NEAR(p.actual_g, 50);
	NEAR(p.actual_now_g, 200);
	assert_int_equal(p.best_start_s, T0 + 3 * H);
	NEAR(p.best_g, 50);
	/* Deciding at 00:30: now (half 100, half 300: 200), then 01:00 ... */
	r = req(T0 + 1800, 1, T0 + 3 * H, 2);
	assert_int_equal(qmx_shift_choose(t, &r, &p), 0);
	assert_int_equal(p.candidates, 3); /* 00:30, 01:00, 02:00 */
	assert_int_equal(p.start_s, T0 + 1800);
	NEAR(p.expected_now_g, 400);
	qmx_grid_trace_del(t);
}

/* A tie goes to the earliest start: no delay for nothing. */
static void shift_tie(void **state)
{
	(void)state;
	qmx_grid_trace *t = parse("timestamp,g\n2024-01-01T00:00Z,80\n2024-01-01T01:00Z,80\n"
				  "2024-01-01T02:00Z,80\n2024-01-01T03:00Z,20\n2024-01-01T04:00Z,20\n");
	qmx_shift_plan p;
	qmx_shift_request r = req(T0, 1, T0 + 3 * H, 1);
	r.forecast = QMX_FORECAST_PERFECT;
	assert_int_equal(qmx_shift_choose(t, &r, &p), 0);
	assert_int_equal(p.start_s, T0);
	NEAR(p.expected_saving_g, 0);
	/* Two equal minima (03:00 and 04:00): the first. */
	r = req(T0, 1, T0 + 5 * H, 1);
	r.forecast = QMX_FORECAST_PERFECT;
	assert_int_equal(qmx_shift_choose(t, &r, &p), 0);
	assert_int_equal(p.start_s, T0 + 3 * H);
	assert_int_equal(p.best_start_s, T0 + 3 * H);
	qmx_grid_trace_del(t);
}

/* The forecast covers 00:00-04:00 only; the deadline is 06:00.  Only starts
 * whose whole run is forecast are candidates, and the note says so. */
static void shift_short_forecast(void **state)
{
	(void)state;
	qmx_grid_trace *t = parse("timestamp,g,forecast\n"
				  "2024-01-01T00:00Z,100,100\n2024-01-01T01:00Z,300,300\n"
				  "2024-01-01T02:00Z,200,200\n2024-01-01T03:00Z,50,90\n"
				  "2024-01-01T04:00Z,50,\n2024-01-01T05:00Z,10,\n");
	qmx_shift_plan p;
	qmx_shift_request r = req(T0, 2, T0 + 6 * H, 1);
	assert_int_equal(qmx_shift_choose(t, &r, &p), 0);
	/* Forecast means: 0 h 200, 1 h 250, 2 h 145; 3 h and 4 h unknown. */
	assert_int_equal(p.candidates, 3);
	assert_int_equal(p.start_s, T0 + 2 * H);
	NEAR(p.expected_g, 145);
	NEAR(p.actual_g, 125);
	assert_int_equal(p.horizon_s, T0 + 2 * H);
	assert_non_null(strstr(p.note, "ends before the deadline"));
	/* Perfect foresight sees 04:00 (mean 30): the upper bound. */
	assert_int_equal(p.best_start_s, T0 + 4 * H);
	NEAR(p.best_g, 30);
	qmx_grid_trace_del(t);
}

/* A job longer than the window to its deadline is refused, naming the
 * fields; a job longer than the whole trace has no candidate and runs now. */
static void shift_too_long(void **state)
{
	(void)state;
	qmx_grid_trace *t = parse(six);
	qmx_shift_plan p;
	qmx_shift_request r = req(T0, 7, T0 + 6 * H, 1);
	assert_int_equal(qmx_shift_choose(t, &r, &p), QMX_EINVAL);
	expect_msg("deadline_s (2024-01-01T06:00:00Z) is less than duration_s (25200 s) after now_s (2024-01-01T00:00:00Z)");
	r = req(T0, 7, T0 + 9 * H, 1);
	assert_int_equal(qmx_shift_choose(t, &r, &p), 0);
	assert_int_equal(p.candidates, 0);
	assert_int_equal(p.start_s, T0);
	assert_true(isnan(p.expected_g) && isnan(p.actual_g));
	assert_non_null(strstr(p.note, "runs now"));
	qmx_grid_trace_del(t);
}

/* Missing samples: the windows without a value are never guessed. */
static void shift_missing(void **state)
{
	(void)state;
	qmx_grid_trace *t = parse("timestamp,g\n2024-01-01T00:00Z,100\n2024-01-01T01:00Z,90\n"
				  "2024-01-01T02:00Z,\n2024-01-01T03:00Z,10\n2024-01-01T05:00Z,70\n");
	qmx_shift_plan p;
	qmx_shift_request r = req(T0, 1, T0 + 6 * H, 1);
	r.forecast = QMX_FORECAST_PERFECT;
	/* Known hours 00 (100), 01 (90), 03 (10), 05 (70); 02 empty, 04 a gap. */
	assert_int_equal(qmx_shift_choose(t, &r, &p), 0);
	assert_int_equal(p.candidates, 4);
	assert_int_equal(p.start_s, T0 + 3 * H);
	NEAR(p.actual_g, 10);
	qmx_grid_trace_del(t);
}

/* Persistence: without a forecast column, window t is forecast by t - 24 h
 * (the last day already seen). */
static void shift_persistence(void **state)
{
	(void)state;
	char text[4096];
	size_t used = (size_t)snprintf(text, sizeof(text), "timestamp,g\n");
	/* Day 1: 100 except 50 at 07:00; day 2: 100 except 20 at 04:00. */
	for (int d = 0; d < 2; d++)
		for (int h = 0; h < 24; h++)
			used += (size_t)snprintf(text + used, sizeof(text) - used,
						 "2024-01-%02dT%02d:00Z,%d\n", d + 1, h,
						 d == 0 && h == 7 ? 50 : d == 1 && h == 4 ? 20 : 100);
	qmx_grid_trace *t = parse(text);
	qmx_shift_plan p;
	qmx_shift_request r = req(T0 + 24 * H, 1, T0 + 34 * H, 1);
	assert_int_equal(qmx_shift_choose(t, &r, &p), 0);
	assert_int_equal(p.forecast, QMX_FORECAST_PERSISTENCE);
	/* It expects 07:00 (yesterday's 50), which really is 100: */
	assert_int_equal(p.start_s, T0 + 31 * H);
	NEAR(p.expected_g, 50);
	NEAR(p.expected_saving_g, 50);
	NEAR(p.actual_g, 100);
	/* ... while hindsight would have taken 04:00 at 20. */
	assert_int_equal(p.best_start_s, T0 + 28 * H);
	NEAR(p.best_g, 20);
	/* On day 1 persistence has nothing to go on: run now. */
	r = req(T0, 1, T0 + 10 * H, 1);
	assert_int_equal(qmx_shift_choose(t, &r, &p), 0);
	assert_int_equal(p.candidates, 0);
	assert_int_equal(p.start_s, T0);
	/* Persistence needs whole days of windows. */
	qmx_grid_trace *odd = parse("timestamp,g\n2024-01-01T00:00Z,1\n2024-01-01T07:00Z,2\n"
				    "2024-01-01T14:00Z,3\n");
	r = req(T0, 1, T0 + 14 * H, 1);
	assert_int_equal(qmx_shift_choose(odd, &r, &p), QMX_ENOTSUP);
	expect_msg("persistence needs a step dividing 24 h; test.csv has 25200 s");
	qmx_grid_trace_del(odd);
	r = req(T0, 1, T0 + 10 * H, 1);
	/* Asking for the trace's forecast when it has none is an error. */
	r.forecast = QMX_FORECAST_TRACE;
	assert_int_equal(qmx_shift_choose(t, &r, &p), QMX_EINVAL);
	expect_msg("has no forecast values");
	qmx_grid_trace_del(t);
}

static void shift_bad_args(void **state)
{
	(void)state;
	qmx_grid_trace *t = parse(six);
	qmx_shift_plan p;
	qmx_shift_request r = req(T0, 0, T0 + 6 * H, 1);
	assert_int_equal(qmx_shift_choose(t, &r, &p), QMX_EINVAL);
	expect_msg("duration_s (0) must be in (0, 1 year]");
	r = req(T0, 1, T0 + 6 * H, -1);
	assert_int_equal(qmx_shift_choose(t, &r, &p), QMX_EINVAL);
	expect_msg("energy_j");
	r = req(T0, 1, T0 + 6 * H, 1);
	r.forecast = 9;
	assert_int_equal(qmx_shift_choose(t, &r, &p), QMX_EINVAL);
	expect_msg("forecast (9)");
	r.forecast = 0;
	r.step_s = -1;
	assert_int_equal(qmx_shift_choose(t, &r, &p), QMX_EINVAL);
	expect_msg("step_s (-1)");
	assert_int_equal(qmx_shift_choose(NULL, &r, &p), QMX_EINVAL);
	expect_msg("t is NULL");
	qmx_grid_trace_del(t);
}

static qmx_place_option opt(const char *name, double j, double s, double te, double el,
			    double share)
{
	qmx_place_option o;
	memset(&o, 0, sizeof(o));
	snprintf(o.name, sizeof(o.name), "%s", name);
	o.energy_j = j;
	o.time_s = s;
	o.embodied_g = te;
	o.lifetime_s = el;
	o.share = share;
	return o;
}

static void place(void **state)
{
	(void)state;
	qmx_place_result r;
	/* CPU: 36 J, 10 s, TE 1 t over 1e8 s, half the server: 0.004 g at
	 * 400 g/kWh + 0.05 g embodied.  Accelerator: 3.6 J, 1 s, 200 kg:
	 * 0.0004 + 0.002 g. */
	qmx_place_option o[3] = { opt("cpu", 36, 10, 1e6, 1e8, 0.5),
				  opt("accel", 3.6, 1, 2e5, 1e8, 1) };
	assert_int_equal(qmx_place_choose(o, 2, 400, &r), 0);
	assert_int_equal(r.choice, 1);
	NEAR(r.operational_g[0], 0.004);
	NEAR(r.embodied_g[0], 0.05);
	NEAR(r.total_g[1], 0.0024);
	/* Faster is not greener: an accelerator 2x faster than the CPU whose
	 * embodied share is larger loses. */
	o[1] = opt("big-accel", 3.6, 5, 1e7, 1e8, 1); /* 0.0004 + 0.5 g */
	assert_int_equal(qmx_place_choose(o, 2, 400, &r), 0);
	assert_int_equal(r.choice, 0);
	/* The intensity decides: at 0 g/kWh only embodied counts; at 2000
	 * the energy does.  cpu2: 360 J, 1 s, 0.005 g embodied;
	 * accel2: 36 J, 1 s, 0.05 g embodied. */
	o[0] = opt("cpu2", 360, 1, 1e6, 1e8, 0.5);
	o[1] = opt("accel2", 36, 1, 5e6, 1e8, 1);
	assert_int_equal(qmx_place_choose(o, 2, 0, &r), 0);
	assert_int_equal(r.choice, 0);
	assert_int_equal(qmx_place_choose(o, 2, 2000, &r), 0);
	assert_int_equal(r.choice, 1); /* 0.02 + 0.05 < 0.2 + 0.005 */
	/* A tie: the first option. */
	o[1] = o[0];
	assert_int_equal(qmx_place_choose(o, 2, 300, &r), 0);
	assert_int_equal(r.choice, 0);
	/* Bad input names the option and field. */
	o[2] = opt("bad", 1, 1, 1, 1e8, 0);
	assert_int_equal(qmx_place_choose(o, 3, 300, &r), QMX_EINVAL);
	expect_msg("opts[2] ('bad'): share (0) must be in (0, 1]");
	o[2] = opt("bad", 1, 1, 1, 0, 1);
	assert_int_equal(qmx_place_choose(o, 3, 300, &r), QMX_EINVAL);
	expect_msg("opts[2] ('bad'): lifetime_s (0) must be > 0");
	assert_int_equal(qmx_place_choose(o, 0, 300, &r), QMX_EINVAL);
	expect_msg("n (0) must be in [1, 8]");
	assert_int_equal(qmx_place_choose(o, 2, -1, &r), QMX_EINVAL);
	expect_msg("g_per_kwh (-1)");
}

/* A real device pair: the CPU's option comes from its embodied model. */
static void place_from_job(void **state)
{
	(void)state;
	qmx_device *dev;
	qmx_device_info info;
	qmx_job_stats st;
	qmx_place_option o;
	setenv("QMX_DATA_DIR", QMX_TEST_DATA_DIR, 1);
	assert_int_equal(qmx_device_open("cpu-ref", &dev), 0);
	assert_int_equal(qmx_device_query(dev, &info), 0);
	memset(&st, 0, sizeof(st));
	st.wall_ns = 2000000000ULL;
	st.energy_j = 10;
	st.threads = 1;
	assert_int_equal(qmx_place_option_from_job(&info, &st, &o), 0);
	qmx_embodied emb;
	assert_int_equal(qmx_device_embodied(&info, &emb), 0);
	NEAR(o.time_s, 2);
	NEAR(o.energy_j, 10);
	NEAR(o.embodied_g, emb.total_g);
	NEAR(o.share, 1 / emb.resources);
	qmx_device_del(dev);
}

static void shape(void **state)
{
	(void)state;
	qmx_shaper *s;
	qmx_shape_choice c;
	int idx;
	assert_int_equal(qmx_shaper_new(&s), 0);
	assert_int_equal(qmx_shaper_choose(s, 100, 0, &c), QMX_EINVAL);
	expect_msg("no tiers registered");
	qmx_shape_tier small = { "small", 36, 0.90, INFINITY };
	qmx_shape_tier large = { "large", 360, 0.97, 200 };
	assert_int_equal(qmx_shaper_add_tier(s, &small, &idx), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(qmx_shaper_add_tier(s, &large, &idx), 0);
	assert_int_equal(idx, 1);
	/* Threshold: large up to 200 g/kWh (inclusive), small above. */
	assert_int_equal(qmx_shaper_choose(s, 150, 0, &c), 0);
	assert_int_equal(c.choice, 1);
	assert_int_equal(c.within, 1);
	NEAR(c.carbon_g[1], 0.015);
	NEAR(c.quality_cost[0], 0.07);
	NEAR(c.quality_cost[1], 0);
	assert_int_equal(qmx_shaper_choose(s, 200, 0, &c), 0);
	assert_int_equal(c.choice, 1);
	assert_int_equal(qmx_shaper_choose(s, 250, 0, &c), 0);
	assert_int_equal(c.choice, 0);
	/* Budget: at 100 g/kWh large costs 0.01 g, small 0.001 g. */
	assert_int_equal(qmx_shaper_choose(s, 100, 0.005, &c), 0);
	assert_int_equal(c.choice, 0);
	assert_int_equal(qmx_shaper_choose(s, 100, 0.0101, &c), 0);
	assert_int_equal(c.choice, 1);
	/* Nothing fits: the least-carbon tier, flagged. */
	assert_int_equal(qmx_shaper_choose(s, 100, 0.0001, &c), 0);
	assert_int_equal(c.choice, 0);
	assert_int_equal(c.within, 0);
	/* A tie in quality: the lower energy. */
	qmx_shape_tier twin = { "large-int8", 90, 0.97, 200 };
	assert_int_equal(qmx_shaper_add_tier(s, &twin, NULL), 0);
	assert_int_equal(qmx_shaper_choose(s, 150, 0, &c), 0);
	assert_int_equal(c.choice, 2);
	/* Bad tiers and arguments. */
	assert_int_equal(qmx_shaper_add_tier(s, &twin, NULL), QMX_EINVAL);
	expect_msg("name 'large-int8' already registered");
	qmx_shape_tier bad = { "neg", -1, 0.5, INFINITY };
	assert_int_equal(qmx_shaper_add_tier(s, &bad, NULL), QMX_EINVAL);
	expect_msg("'neg': energy_j (-1)");
	bad = (qmx_shape_tier){ "nan", 1, NAN, INFINITY };
	assert_int_equal(qmx_shaper_add_tier(s, &bad, NULL), QMX_EINVAL);
	expect_msg("'nan': quality");
	assert_int_equal(qmx_shaper_choose(s, 100, -1, &c), QMX_EINVAL);
	expect_msg("budget_g (-1)");
	qmx_shaper_del(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shift_basic),       cmocka_unit_test(shift_tie),
		cmocka_unit_test(shift_short_forecast), cmocka_unit_test(shift_too_long),
		cmocka_unit_test(shift_missing),     cmocka_unit_test(shift_persistence),
		cmocka_unit_test(shift_bad_args),    cmocka_unit_test(place),
		cmocka_unit_test(place_from_job),    cmocka_unit_test(shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
