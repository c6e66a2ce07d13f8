/* SPDX-License-Identifier: MIT */
/*
 * test_grid.c - grid-trace readers: every format on a shipped trace or a
 * fixture, time parsing, missing samples, time-resolved accounting, and every
 * bad-file error naming its file, line and field.
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

#define T2024 1704067200LL /* 2024-01-01T00:00:00Z */

static void expect_msg(const char *needle)
{
	if (!strstr(qmx_last_error(), needle))
		fail_msg("message '%s' lacks '%s'", qmx_last_error(), needle);
}

static qmx_grid_trace *load(const char *dir, const char *file)
{
	char path[1024];
	qmx_grid_trace *t = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (qmx_grid_trace_load(path, &t))
		fail_msg("%s: %s", path, qmx_last_error());
	return t;
}

static qmx_grid_trace *parse(const char *text, const char *name)
{
	qmx_grid_trace *t = NULL;
	if (qmx_grid_trace_parse(text, strlen(text), name, &t))
		fail_msg("%s: %s", name, qmx_last_error());
	return t;
}

static void times(void **state)
{
	(void)state;
	int64_t t, u;
	char buf[32];
	assert_int_equal(qmx_time_parse("2024-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, T2024);
	/* The GB API drops the seconds; offsets and fractions are accepted. */
	assert_int_equal(qmx_time_parse("2023-03-15T03:30Z", &t), 0);
	assert_int_equal(t, 1678851000);
	assert_int_equal(qmx_time_parse("2023-03-15T04:30:00+01:00", &u), 0);
	assert_int_equal(u, t);
	assert_int_equal(qmx_time_parse("2023-03-15T03:30:00.000Z", &u), 0);
	assert_int_equal(u, t);
	assert_int_equal(qmx_time_parse("2024-02-29T12:00:00Z", &t), 0);
	assert_int_equal(qmx_time_format(t, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2024-02-29T12:00:00Z");
	assert_int_equal(qmx_time_parse("2023-02-29T00:00Z", &t), QMX_EINVAL);
	expect_msg("out of range");
	assert_int_equal(qmx_time_parse("2023-03-15T03:30:00", &t), QMX_EINVAL);
	expect_msg("no zone designator");
	assert_int_equal(qmx_time_parse("15/03/2023 03:30", &t), QMX_EINVAL);
	assert_int_equal(qmx_time_format(0, buf, 8), QMX_EINVAL);
	assert_int_equal(qmx_time_format(-5, buf, sizeof(buf)), QMX_EINVAL);
	assert_string_equal(buf, "-5 s"); /* messages built from it stay readable */
}

static void shipped_gb_csv(void **state)
{
	(void)state;
	qmx_grid_trace *t = load(QMX_GRID_DIR, "gb-2023-03-13.csv");
	qmx_grid_trace_info in;
	qmx_grid_sample s;
	assert_int_equal(qmx_grid_trace_get_info(t, &in), 0);
	assert_int_equal(in.n, 311);
	assert_int_equal(in.step_s, 1800);
	assert_int_equal(in.n_actual, 311);
	assert_int_equal(in.n_forecast, 311);
	assert_int_equal(in.kind, QMX_GRID_AVERAGE);
	assert_string_equal(in.format, "csv");
	assert_non_null(strstr(in.region, "Great Britain"));
	assert_non_null(strstr(in.source, "NESO"));
	/* First row: 2023-03-13T03:30:00Z,64,52 */
	assert_int_equal(qmx_grid_trace_get_sample(t, 0, &s), 0);
	assert_int_equal(s.start_s, 1678678200);
	assert_true(s.actual == 64 && s.forecast == 52);
	assert_int_equal(qmx_grid_trace_get_sample(t, 311, &s), QMX_EINVAL);
	expect_msg("i (311) >= n (311)");
	qmx_grid_trace_del(t);
}

static void shipped_us_csv(void **state)
{
	(void)state;
	qmx_grid_trace *t = load(QMX_GRID_DIR, "us-caiso-2022-04-01.csv");
	qmx_grid_trace_info in;
	double g;
	assert_int_equal(qmx_grid_trace_get_info(t, &in), 0);
	assert_int_equal(in.n, 336);
	assert_int_equal(in.step_s, 3600);
	assert_int_equal(in.n_forecast, 0);
	/* 2022-04-01T01:00:00Z,167.74170937150262 - at 01:59:59 still that hour. */
	assert_int_equal(qmx_grid_trace_at(t, 1648774800 + 3599, &g), 0);
	assert_true(g == 167.74170937150262);
	assert_int_equal(qmx_grid_trace_at(t, 1648774800 - 3601, &g), QMX_ENOENT);
	expect_msg("outside the trace (2022-04-01T00:00:00Z to 2022-04-15T00:00:00Z)");
	qmx_grid_trace_del(t);
}

/* The one real GB Carbon Intensity API response: 48 windows, the last
 * without an actual. */
static void shipped_gb_api_json(void **state)
{
	(void)state;
	qmx_grid_trace *t = load(QMX_GRID_DIR, "gb-carbonintensity-api-pt24h-2023-03-16T0331Z.json");
	qmx_grid_trace_info in;
	qmx_grid_sample s;
	qmx_grid_used u;
	double g;
	assert_int_equal(qmx_grid_trace_get_info(t, &in), 0);
	assert_string_equal(in.format, "gb-carbon-intensity");
	assert_int_equal(in.n, 48);
	assert_int_equal(in.step_s, 1800);
	assert_int_equal(in.n_actual, 47);
	assert_int_equal(in.n_forecast, 48);
	assert_int_equal(in.start_s, 1678851000);
	assert_int_equal(qmx_grid_trace_get_sample(t, 0, &s), 0);
	assert_true(s.actual == 184 && s.forecast == 200);
	/* 2023-03-16T03:00Z: actual null, forecast 68: the forecast stands in. */
	assert_int_equal(qmx_grid_trace_at(t, in.end_s - 1, &g), 0);
	assert_true(g == 68);
	/* An hour over the first two windows (184, 199), 1 kWh: 191.5 g. */
	assert_int_equal(qmx_grid_trace_carbon(t, in.start_s, 3600, 3.6e6, &u), 0);
	assert_true(fabs(u.carbon_g - 191.5) < 1e-9 && fabs(u.g_per_kwh - 191.5) < 1e-9);
	assert_int_equal(u.forecast_windows, 0);
	assert_int_equal(u.kind, QMX_GRID_AVERAGE);
	assert_non_null(strstr(u.source, "2023-03-15T03:30:00Z..2023-03-15T04:30:00Z (average, actual)"));
	/* The last half hour plus... only the last window: forecast used, said. */
	assert_int_equal(qmx_grid_trace_carbon(t, in.end_s - 1800, 1800, 3.6e6, &u), 0);
	assert_true(fabs(u.carbon_g - 68) < 1e-9);
	assert_int_equal(u.forecast_windows, 1);
	assert_non_null(strstr(u.source, "forecast where the actual is missing"));
	qmx_grid_trace_del(t);
}

static void fixtures_gsf(void **state)
{
	(void)state;
	qmx_grid_trace *t = load(QMX_TEST_FIXTURES, "gsf-emissions-v1.json");
	qmx_grid_trace_info in;
	qmx_grid_sample s;
	double g;
	assert_int_equal(qmx_grid_trace_get_info(t, &in), 0);
	assert_string_equal(in.format, "gsf-emissions");
	assert_string_equal(in.region, "eastus");
	assert_int_equal(in.kind, QMX_GRID_UNKNOWN);
	/* 00:00, 01:00, 03:00: the missing 02:00 window is a gap. */
	assert_int_equal(in.n, 4);
	assert_int_equal(in.n_actual, 3);
	assert_int_equal(qmx_grid_trace_get_sample(t, 2, &s), 0);
	assert_true(isnan(s.actual) && isnan(s.forecast));
	assert_int_equal(qmx_grid_trace_at(t, T2024 + 2 * 3600 + 10, &g), QMX_ENOENT);
	expect_msg("no intensity (actual or forecast) for the window at 2024-01-01T02:00:10Z");
	assert_int_equal(qmx_grid_trace_at(t, T2024 + 3 * 3600, &g), 0);
	assert_true(g == 350.25);
	qmx_grid_trace_del(t);

	t = load(QMX_TEST_FIXTURES, "gsf-forecast-v1.json");
	assert_int_equal(qmx_grid_trace_get_info(t, &in), 0);
	assert_string_equal(in.format, "gsf-forecast");
	assert_int_equal(in.n, 3);
	assert_int_equal(in.step_s, 300);
	assert_int_equal(in.n_actual, 0);
	assert_int_equal(in.n_forecast, 3);
	assert_int_equal(qmx_grid_trace_at(t, T2024 + 600, &g), 0);
	assert_true(g == 305.5);
	qmx_grid_trace_del(t);
}

static void fixtures_electricitymaps(void **state)
{
	(void)state;
	qmx_grid_trace *t = load(QMX_TEST_FIXTURES, "electricitymaps-history-v3.json");
	qmx_grid_trace_info in;
	qmx_grid_used u;
	assert_int_equal(qmx_grid_trace_get_info(t, &in), 0);
	assert_string_equal(in.format, "electricitymaps-history");
	assert_string_equal(in.region, "DE");
	assert_int_equal(in.kind, QMX_GRID_AVERAGE);
	assert_non_null(strstr(in.source, "lifecycle"));
	assert_int_equal(in.n, 3);
	assert_int_equal(in.n_actual, 2); /* 01:00 is null */
	/* A run over the missing hour cannot be accounted: said, not guessed. */
	assert_int_equal(qmx_grid_trace_carbon(t, T2024, 7200, 3.6e6, &u), QMX_ENOENT);
	expect_msg("2024-01-01T01:00:00Z");
	qmx_grid_trace_del(t);

	t = load(QMX_TEST_FIXTURES, "electricitymaps-forecast-v3.json");
	assert_int_equal(qmx_grid_trace_get_info(t, &in), 0);
	assert_string_equal(in.format, "electricitymaps-forecast");
	assert_int_equal(in.n_forecast, 3);
	/* 90 min from 00:30: 30 min at 41, 60 min at 38 -> 39 g/kWh. */
	assert_int_equal(qmx_grid_trace_carbon(t, T2024 + 1800, 5400, 7.2e6, &u), 0);
	assert_true(fabs(u.g_per_kwh - 39) < 1e-9 && fabs(u.carbon_g - 78) < 1e-9);
	qmx_grid_trace_del(t);
}

/* A directory: files merged in name order, a later file wins. */
static void directory(void **state)
{
	(void)state;
	char dir[] = "/tmp/qmx-grid-dirXXXXXX", path[128];
	assert_non_null(mkdtemp(dir));
	const char *files[2][2] = {
		{ "a.csv", "timestamp,g\n2024-01-01T00:00Z,100\n2024-01-01T01:00Z,200\n" },
		{ "b.csv", "timestamp,g\n2024-01-01T01:00Z,250\n2024-01-01T02:00Z,300\n" },
	};
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(files[i][1], f);
		fclose(f);
	}
	qmx_grid_trace *t;
	qmx_grid_trace_info in;
	double g;
	assert_int_equal(qmx_grid_trace_load(dir, &t), 0);
	assert_int_equal(qmx_grid_trace_get_info(t, &in), 0);
	assert_string_equal(in.format, "dir");
	assert_int_equal(in.n, 3);
	assert_int_equal(qmx_grid_trace_at(t, T2024 + 3600, &g), 0);
	assert_true(g == 250);
	qmx_grid_trace_del(t);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		remove(path);
	}
	remove(dir);
	assert_int_equal(qmx_grid_trace_load("/nonexistent/qmx-grid", &t), QMX_ENOENT);
	expect_msg("/nonexistent/qmx-grid");
}

/* Every bad file: the message names the file, the line and the field. */
static void bad_files(void **state)
{
	(void)state;
	static const struct {
		const char *name, *text, *msg;
	} cases[] = {
		{ "num.csv", "# c\ntimestamp,gco2_per_kwh\n2024-01-01T00:00Z,12\n2024-01-01T01:00Z,abc\n",
		  "num.csv:4: field 'gco2_per_kwh': 'abc' is not a number" },
		{ "range.csv", "timestamp,gco2_per_kwh\n2024-01-01T00:00Z,-5\n",
		  "range.csv:2: field 'gco2_per_kwh': -5 gCO2e/kWh is outside [0, 5000]" },
		{ "fc.csv", "timestamp,gco2_per_kwh,forecast_gco2_per_kwh\n2024-01-01T00:00Z,5,x\n",
		  "fc.csv:2: field 'forecast_gco2_per_kwh': 'x' is not a number" },
		{ "date.csv", "timestamp,g\n2024-13-01T00:00Z,5\n",
		  "date.csv:2: field 'timestamp': '2024-13-01T00:00Z': date or time out of range" },
		{ "zone.csv", "timestamp,g\n2024-01-01T00:00,5\n",
		  "zone.csv:2: field 'timestamp': '2024-01-01T00:00': no zone designator" },
		{ "order.csv", "timestamp,g\n2024-01-01T01:00Z,5\n2024-01-01T00:00Z,6\n",
		  "order.csv:3: field 'timestamp': not after the previous sample's (line 2)" },
		{ "grid.csv",
		  "timestamp,g\n2024-01-01T00:00Z,1\n2024-01-01T01:00Z,1\n2024-01-01T01:30Z,1\n2024-01-01T02:15Z,1\n",
		  "grid.csv:5: field 'timestamp': 2700 s after the previous sample, not a multiple of the step (1800 s)" },
		{ "gap.csv",
		  "timestamp,g\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:01Z,1\n2024-12-01T00:00Z,1\n",
		  "gap.csv:4: field 'timestamp': 28944001 windows of 1 s from the first sample (limit 1000000)" },
		{ "cols.csv", "timestamp,g\n2024-01-01T00:00Z,5,6\n", "cols.csv:2: 3 fields, the header has 2" },
		{ "hdr.csv", "when,where\n", "hdr.csv:1: header: need a timestamp column" },
		{ "empty.csv", "# only comments\n", "empty.csv:1: no header line" },
		{ "rows.csv", "timestamp,g\n", "rows.csv:1: no samples" },
		{ "syntax.json", "{\n \"data\": [\n  {\"from\": \"2024-01-01T00:00Z\",}\n ]\n}\n",
		  "syntax.json:3: JSON column" },
		{ "gb-actual.json",
		  "{\"data\": [\n"
		  " {\"from\": \"2024-01-01T00:00Z\", \"to\": \"2024-01-01T00:30Z\",\n"
		  "  \"intensity\": {\"forecast\": 5, \"actual\": 6}},\n"
		  " {\"from\": \"2024-01-01T00:30Z\", \"to\": \"2024-01-01T01:00Z\",\n"
		  "  \"intensity\": {\"forecast\": 5,\n"
		  "                \"actual\": \"high\"}}\n"
		  "]}\n",
		  "gb-actual.json:6: field 'data[1].intensity.actual': not a number or null" },
		{ "gb-missing.json",
		  "{\"data\": [\n"
		  " {\"from\": \"2024-01-01T00:00Z\", \"to\": \"2024-01-01T00:30Z\",\n"
		  "  \"intensity\": {\"forecast\": 5}}\n"
		  "]}\n",
		  "gb-missing.json:3: field 'data[0].intensity.actual': missing" },
		{ "gb-to.json",
		  "{\"data\": [\n {\"from\": \"2024-01-01T00:30Z\",\n  \"to\": \"2024-01-01T00:00Z\", \"intensity\": {}}\n]}\n",
		  "gb-to.json:3: field 'data[0].to': not after 'from'" },
		{ "em.json",
		  "{\"zone\": \"DE\", \"history\": [\n {\"carbonIntensity\": 300,\n  \"datetime\": \"yesterday\"}\n]}\n",
		  "em.json:3: field 'history[0].datetime': 'yesterday': expected YYYY-MM-DD" },
		{ "em-empty.json", "{\"zone\": \"DE\", \"forecast\": []}", "em-empty.json:1: field 'forecast': empty" },
		{ "gsf.json",
		  "[{\"location\": \"eastus\", \"time\": \"2024-01-01T00:00Z\",\n  \"rating\": 9999}]",
		  "gsf.json:2: field '[0].rating': 9999 gCO2e/kWh is outside [0, 5000]" },
		{ "gsf-dur.json",
		  "[{\"location\": \"eastus\", \"time\": \"2024-01-01T00:00Z\", \"rating\": 1,\n  \"duration\": \"soon\"}]",
		  "gsf-dur.json:2: field '[0].duration': not a positive duration" },
		{ "gsf-fc.json",
		  "[{\"location\": \"x\", \"forecastData\": [\n"
		  "  {\"timestamp\": \"2024-01-01T00:00Z\", \"value\": 1, \"duration\": 5},\n"
		  "  {\"timestamp\": \"2024-01-01T00:05Z\", \"value\": 1, \"duration\": -5}]}]",
		  "gsf-fc.json:3: field '[0].forecastData[1].duration': not a whole number of minutes" },
		{ "shape.json", "{\"hello\": 1}", "shape.json:1: not a grid trace" },
		{ "week.csv", "timestamp,g\n2024-01-01T00:00Z,1\n2024-01-15T00:00Z,1\n",
		  "week.csv:3: field 'timestamp': step 1209600 s longer than 7 days" },
		{ "wide.csv", "timestamp,a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n",
		  "wide.csv:1: more than 16 columns" },
		{ "from.json", "{\"data\": [\n {\"from\": 1700000000, \"to\": \"2024-01-01T00:30Z\"}]}",
		  "from.json:2: field 'data[0].from': not a string (an ISO-8601 time)" },
		{ "elem.json", "{\"data\": [\n 42\n]}", "elem.json:2: field 'data[0]': not an object" },
		{ "window.json",
		  "{\"data\": [\n"
		  " {\"from\": \"2024-01-01T00:00Z\", \"to\": \"2024-01-01T00:30Z\",\n"
		  "  \"intensity\": {\"forecast\": 5, \"actual\": 6}},\n"
		  " {\"from\": \"2024-01-01T00:30Z\",\n  \"to\": \"2024-01-01T01:30Z\",\n"
		  "  \"intensity\": {\"forecast\": 5, \"actual\": 6}}]}",
		  "window.json:5: field 'data[1].to': window of 3600 s, the first was 1800 s" },
		{ "nointensity.json",
		  "{\"data\": [\n {\"from\": \"2024-01-01T00:00Z\", \"to\": \"2024-01-01T00:30Z\"}]}",
		  "nointensity.json:2: field 'data[0].intensity': missing" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		qmx_grid_trace *t = (qmx_grid_trace *)1;
		int err = qmx_grid_trace_parse(cases[i].text, strlen(cases[i].text), cases[i].name, &t);
		if (err != QMX_EINVAL || t)
			fail_msg("%s: expected QMX_EINVAL, got %d (%s)", cases[i].name, err,
				 qmx_last_error());
		expect_msg(cases[i].msg);
	}
	/* A NUL byte, and the file-level errors. */
	qmx_grid_trace *t;
	assert_int_equal(qmx_grid_trace_parse("timestamp,g\n\0", 13, "nul.csv", &t), QMX_EINVAL);
	expect_msg("nul.csv:1: contains a NUL byte");
	assert_int_equal(qmx_grid_trace_parse(NULL, 4, "x", &t), QMX_EINVAL);
	expect_msg("buf is NULL");
}

/* CSV details: missing cells, CRLF, quoted fields, the kind from the header. */
static void csv_details(void **state)
{
	(void)state;
	qmx_grid_trace *t = parse("# kind: marginal (MOER)\r\n"
				  "\"timestamp\",\"g\",\"forecast\"\r\n"
				  "2024-01-01T00:00Z,10,\r\n"
				  "2024-01-01T01:00Z,,12\r\n",
				  "m.csv");
	qmx_grid_trace_info in;
	double g;
	assert_int_equal(qmx_grid_trace_get_info(t, &in), 0);
	assert_int_equal(in.kind, QMX_GRID_MARGINAL);
	assert_int_equal(in.n_actual, 1);
	assert_int_equal(in.n_forecast, 1);
	assert_int_equal(qmx_grid_trace_at(t, T2024 + 3600, &g), 0);
	assert_true(g == 12);
	qmx_grid_trace_del(t);
	/* The GB API's own CSV columns: from,to,forecast,actual,index. */
	t = parse("from,to,forecast,actual,index\n"
		  "2023-03-15T03:30Z,2023-03-15T04:00Z,200,184,moderate\n", "gb-scrape.csv");
	qmx_grid_sample s;
	assert_int_equal(qmx_grid_trace_get_sample(t, 0, &s), 0);
	assert_true(s.actual == 184 && s.forecast == 200);
	qmx_grid_trace_del(t);
}

/* $QMX_GRID_TRACE: every job's and meter's intensity comes from the trace
 * at $QMX_GRID_TIME (else now), with its source; QMX_GRID_INTENSITY wins. */
static void env_trace(void **state)
{
	(void)state;
	char path[600];
	qmx_carbon_config cfg;
	snprintf(path, sizeof(path), "%s/gb-2023-03-13.csv", QMX_GRID_DIR);
	setenv("QMX_DATA_DIR", QMX_TEST_DATA_DIR, 1);
	unsetenv("QMX_GRID_INTENSITY");
	setenv("QMX_GRID_TRACE", path, 1);
	setenv("QMX_GRID_TIME", "2023-03-15T18:10:00Z", 1);
	assert_int_equal(qmx_carbon_config_get(&cfg), 0);
	assert_true(cfg.grid_g_per_kwh == 203);
	assert_string_equal(cfg.region, "trace");
	assert_non_null(strstr(cfg.grid_source, "gb-2023-03-13.csv [Great Britain (GB) national] 2023-03-15T18:10:00Z"));

	/* A job's operational carbon uses it. */
	qmx_device *dev;
	qmx_gemm_params p;
	qmx_job_stats st;
	static int8_t a[64 * 64];
	int32_t c[64 * 64];
	memset(a, 1, sizeof(a));
	qmx_gemm_params_init(&p, 64, 64, 64);
	qmx_gemm_host_operands ops = { .a = a, .b = a, .c = c };
	assert_int_equal(qmx_device_open("cpu-ref", &dev), 0);
	assert_int_equal(qmx_gemm(dev, &p, &ops, &st), 0);
	assert_true(st.energy_j > 0);
	assert_true(fabs(st.carbon_operational_g - st.energy_j / 3.6e6 * 203) <=
		    1e-9 * st.carbon_operational_g);
	qmx_device_del(dev);

	/* The explicit intensity wins; bad settings name the variable. */
	setenv("QMX_GRID_INTENSITY", "10", 1);
	assert_int_equal(qmx_carbon_config_get(&cfg), 0);
	assert_true(cfg.grid_g_per_kwh == 10);
	unsetenv("QMX_GRID_INTENSITY");
	setenv("QMX_GRID_TIME", "yesterday", 1);
	assert_int_equal(qmx_carbon_config_get(&cfg), QMX_EINVAL);
	expect_msg("QMX_GRID_TIME: time 'yesterday'");
	setenv("QMX_GRID_TIME", "2030-01-01T00:00Z", 1);
	assert_int_equal(qmx_carbon_config_get(&cfg), QMX_ENOENT);
	expect_msg("QMX_GRID_TRACE: ");
	expect_msg("2030-01-01T00:00:00Z is outside the trace");
	setenv("QMX_GRID_TRACE", "/nonexistent.csv", 1);
	assert_int_equal(qmx_carbon_config_get(&cfg), QMX_ENOENT);
	expect_msg("QMX_GRID_TRACE /nonexistent.csv");
	unsetenv("QMX_GRID_TRACE");
	unsetenv("QMX_GRID_TIME");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(times),
		cmocka_unit_test(shipped_gb_csv),
		cmocka_unit_test(shipped_us_csv),
		cmocka_unit_test(shipped_gb_api_json),
		cmocka_unit_test(fixtures_gsf),
		cmocka_unit_test(fixtures_electricitymaps),
		cmocka_unit_test(directory),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(csv_details),
		cmocka_unit_test(env_trace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
