/* SPDX-License-Identifier: MIT */
/*
 * grid.c - grid carbon-intensity traces: ISO-8601 times, the CSV reader,
 * building regular windows from samples, directories, lookup, time-resolved
 * accounting and $QMX_GRID_TRACE.  The JSON readers are in grid_json.c.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "grid_internal.h"
#include "qmx_backend.h"

#define MAX_FILE_BYTES (64u << 20)
#define MAX_WINDOWS 1000000 /* e.g. 1.9 years of 1-minute windows */

/* ---------------------------------------------------------------- time */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	/* Proleptic Gregorian calendar, day 0 = 1970-01-01. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

/* Parse; returns 0 or -1 with *why naming what is wrong. */
int qmx_grid_time_parse(const char *s, int64_t *out, const char **why)
{
	const char *p = s;
	int y, mo, d, h, mi, sec = 0;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	*why = "expected YYYY-MM-DDTHH:MM[:SS][.fff] and Z or +hh:mm";
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != ' ') || !*p++ || digits(&p, 2, &h) ||
	    *p++ != ':' || digits(&p, 2, &mi))
		return -1;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &sec))
			return -1;
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			while (isdigit((unsigned char)*p))
				p++; /* fractions of a second are dropped */
		}
	}
	int off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		if (digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (*p && digits(&p, 2, &om))
			return -1;
		if (oh > 23 || om > 59) {
			*why = "zone offset out of range";
			return -1;
		}
		off = sign * (oh * 3600 + om * 60);
	} else {
		*why = "no zone designator (Z or +hh:mm): local times are ambiguous";
		return -1;
	}
	if (*p) {
		*why = "unexpected characters after the time";
		return -1;
	}
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) || h > 23 ||
	    mi > 59 || sec > 60) {
		*why = "date or time out of range (years 1970-9999)";
		return -1;
	}
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return 0;
}

QMX_API int qmx_time_parse(const char *iso8601, int64_t *unix_s)
{
	const char *why;
	if (!iso8601 || !unix_s)
		return qmx_fail(QMX_EINVAL, "qmx_time_parse: %s is NULL",
				!iso8601 ? "iso8601" : "unix_s");
	if (qmx_grid_time_parse(iso8601, unix_s, &why))
		return qmx_fail(QMX_EINVAL, "time '%.64s': %s", iso8601, why);
	qmx_clear_error();
	return 0;
}

QMX_API int qmx_time_format(int64_t unix_s, char *buf, size_t len)
{
	if (!buf || len < 21)
		return qmx_fail(QMX_EINVAL, "qmx_time_format: buf is NULL or len (%zu) < 21", len);
	if (unix_s < 0 || unix_s > 253402300799LL) {
		snprintf(buf, len, "%lld s", (long long)unix_s); /* still printable */
		return qmx_fail(QMX_EINVAL, "qmx_time_format: %lld s is outside years 1970-9999",
				(long long)unix_s);
	}
	int64_t days = unix_s / 86400, rem = unix_s % 86400;
	/* civil_from_days */
	int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1), m = (int)(mp < 10 ? mp + 3 : mp - 9);
	int64_t y = yoe + era * 400 + (m <= 2);
	snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	return 0;
}

/* ---------------------------------------------------------------- building */

int qmx_grid_perr(const char *name, long line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return qmx_fail(QMX_EINVAL, "%s:%ld: %s", name, line, msg);
}

int qmx_grid_push(struct qmx_grid_builder *b, int64_t t, double actual, double forecast, long line)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct qmx_grid_point *np = realloc(b->p, cap * sizeof(*np));
		if (!np)
			return qmx_fail(QMX_ENOMEM, "%s: out of memory", b->name);
		b->p = np;
		b->cap = cap;
	}
	b->p[b->n++] = (struct qmx_grid_point){ t, actual, forecast, line };
	return 0;
}

static int build(struct qmx_grid_builder *b, qmx_grid_trace **out)
{
	if (!b->n)
		return qmx_grid_perr(b->name, 1, "no samples");
	int64_t step = b->step_hint;
	for (size_t i = 1; i < b->n; i++) {
		int64_t d = b->p[i].t - b->p[i - 1].t;
		if (d <= 0)
			return qmx_grid_perr(b->name, b->p[i].line,
				    "field 'timestamp': not after the previous sample's (line %ld)",
				    b->p[i - 1].line);
		if (!b->step_hint && (!step || d < step))
			step = d;
	}
	if (!step)
		step = 3600; /* one sample and no duration: assume hourly, said in docs */
	if (step > 7 * 86400)
		return qmx_grid_perr(b->name, b->p[b->n > 1 ? 1 : 0].line,
			    "field '%s': step %lld s longer than 7 days",
			    b->step_hint ? "duration" : "timestamp", (long long)step);
	for (size_t i = 1; i < b->n; i++) {
		int64_t d = b->p[i].t - b->p[i - 1].t;
		if (d % step)
			return qmx_grid_perr(b->name, b->p[i].line,
				    "field 'timestamp': %lld s after the previous sample, not a multiple of the step (%lld s)",
				    (long long)d, (long long)step);
	}
	int64_t span = (b->p[b->n - 1].t - b->p[0].t) / step + 1;
	if (span > MAX_WINDOWS)
		return qmx_grid_perr(b->name, b->p[b->n - 1].line,
			    "field 'timestamp': %lld windows of %lld s from the first sample (limit %d)",
			    (long long)span, (long long)step, MAX_WINDOWS);
	qmx_grid_trace *t = calloc(1, sizeof(*t));
	if (t)
		t->actual = malloc((size_t)span * sizeof(double));
	if (t && t->actual)
		t->forecast = malloc((size_t)span * sizeof(double));
	if (!t || !t->forecast) {
		qmx_grid_trace_del(t);
		return qmx_fail(QMX_ENOMEM, "%s: out of memory for %lld windows", b->name,
				(long long)span);
	}
	for (int64_t i = 0; i < span; i++)
		t->actual[i] = t->forecast[i] = NAN;
	t->start = b->p[0].t;
	t->step = step;
	t->n = (size_t)span;
	for (size_t i = 0; i < b->n; i++) {
		size_t k = (size_t)((b->p[i].t - t->start) / step);
		t->actual[k] = b->p[i].actual;
		t->forecast[k] = b->p[i].forecast;
	}
	t->info = b->info;
	grid_trace_refresh_info(t);
	*out = t;
	return 0;
}

void grid_trace_refresh_info(qmx_grid_trace *t)
{
	t->info.start_s = t->start;
	t->info.step_s = t->step;
	t->info.n = t->n;
	t->info.end_s = t->start + (int64_t)t->n * t->step;
	t->info.n_actual = t->info.n_forecast = 0;
	for (size_t i = 0; i < t->n; i++) {
		t->info.n_actual += !isnan(t->actual[i]);
		t->info.n_forecast += !isnan(t->forecast[i]);
	}
}

static int check_value(const char *name, long line, const char *field, double v)
{
	if (!isfinite(v) || v < 0 || v > QMX_GRID_MAX_G_PER_KWH)
		return qmx_grid_perr(name, line, "field '%s': %g gCO2e/kWh is outside [0, %g]", field, v,
			    QMX_GRID_MAX_G_PER_KWH);
	return 0;
}

/* ---------------------------------------------------------------- CSV */

static void meta(char *dst, size_t len, const char *line, const char *key)
{
	size_t k = strlen(key);
	line += strspn(line, "# \t");
	if (!strncmp(line, key, k) && !dst[0]) {
		line += k + strspn(line + k, " \t");
		snprintf(dst, len, "%s", line);
	}
}

static int split_csv(char *s, char **f, int cap)
{
	int n = 0;
	for (;;) {
		if (n == cap)
			return -1;
		f[n++] = s;
		char *c = strchr(s, ',');
		if (!c)
			break;
		*c = '\0';
		s = c + 1;
	}
	for (int i = 0; i < n; i++) { /* trim */
		while (isspace((unsigned char)*f[i]))
			f[i]++;
		char *e = f[i] + strlen(f[i]);
		while (e > f[i] && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*f[i] == '"' && e - f[i] >= 2 && e[-1] == '"') {
			e[-1] = '\0';
			f[i]++;
		}
	}
	return n;
}

static int csv_number(const char *name, long line, const char *field, const char *s, double *v)
{
	char *end;
	if (!*s) {
		*v = NAN; /* a missing sample */
		return 0;
	}
	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end)
		return qmx_grid_perr(name, line, "field '%s': '%.32s' is not a number", field, s);
	return check_value(name, line, field, *v);
}

/* A column of intensity values by its name. */
static bool value_column(const char *h)
{
	static const char *const names[] = { "actual", "gco2", "intensity", "carbon", "value",
					     "rating", "moer" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strstr(h, names[i]))
			return true;
	return false;
}

static bool other_column(const char *h)
{
	static const char *const names[] = { "to", "end", "index", "zone", "region", "location",
					     "duration", "unit", "source" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(h, names[i]))
			return true;
	return false;
}

static int parse_csv(struct qmx_grid_builder *b, char *text)
{
	char kind[64] = "";
	char *fields[16], *save = NULL, hdr[3][48] = { "", "", "" };
	int ncol = 0, ct = -1, ca = -1, cf = -1, err;
	long line = 0;
	snprintf(b->info.format, sizeof(b->info.format), "csv");
	for (char *l = text; l; l = save) {
		save = strchr(l, '\n');
		if (save)
			*save++ = '\0';
		else if (!*l)
			break; /* after the last newline */
		line++;
		size_t len = strlen(l);
		if (len && l[len - 1] == '\r')
			l[--len] = '\0';
		if (l[0] == '#') {
			meta(b->info.region, sizeof(b->info.region), l, "grid/region:");
			meta(b->info.source, sizeof(b->info.source), l, "original provider:");
			meta(kind, sizeof(kind), l, "kind:");
			continue;
		}
		if (!l[strspn(l, " \t")])
			continue;
		int n = split_csv(l, fields, 16);
		if (n < 0)
			return qmx_grid_perr(b->name, line, "more than 16 columns");
		if (!ncol) { /* the header */
			ncol = n;
			for (int i = 0; i < n; i++) {
				const char *h = fields[i];
				if (ct < 0 && (strstr(h, "time") || strstr(h, "date") || !strcmp(h, "from")))
					ct = i;
				else if (cf < 0 && strstr(h, "forecast"))
					cf = i;
				else if (ca < 0 && value_column(h))
					ca = i;
			}
			/* Else the first column that is not a known non-value one
			 * (GB scrapes: from,to,forecast,actual,index). */
			for (int i = 0; i < n && ca < 0; i++)
				if (i != ct && i != cf && !other_column(fields[i]))
					ca = i;
			if (ct < 0 || (ca < 0 && cf < 0))
				return qmx_grid_perr(b->name, line,
					    "header: need a timestamp column and an intensity column (e.g. 'timestamp,gco2_per_kwh[,forecast_gco2_per_kwh]')");
			snprintf(hdr[0], sizeof(hdr[0]), "%s", fields[ct]);
			if (ca >= 0)
				snprintf(hdr[1], sizeof(hdr[1]), "%s", fields[ca]);
			if (cf >= 0)
				snprintf(hdr[2], sizeof(hdr[2]), "%s", fields[cf]);
			continue;
		}
		if (n != ncol)
			return qmx_grid_perr(b->name, line, "%d fields, the header has %d", n, ncol);
		int64_t t;
		const char *why;
		double a = NAN, f = NAN;
		if (qmx_grid_time_parse(fields[ct], &t, &why))
			return qmx_grid_perr(b->name, line, "field '%s': '%.40s': %s", hdr[0], fields[ct], why);
		if ((ca >= 0 && (err = csv_number(b->name, line, hdr[1], fields[ca], &a))) ||
		    (cf >= 0 && (err = csv_number(b->name, line, hdr[2], fields[cf], &f))) ||
		    (err = qmx_grid_push(b, t, a, f, line)))
			return err;
	}
	if (!ncol)
		return qmx_grid_perr(b->name, line ? line : 1, "no header line (timestamp,gco2_per_kwh[,forecast])");
	/* "# kind: average ..." / "marginal ...": the first word decides. */
	if (!strncmp(kind, "average", 7))
		b->info.kind = QMX_GRID_AVERAGE;
	else if (!strncmp(kind, "marginal", 8))
		b->info.kind = QMX_GRID_MARGINAL;
	return 0;
}

/* ---------------------------------------------------------------- entry points */

QMX_API int qmx_grid_trace_parse(const void *buf, size_t len, const char *name,
				 qmx_grid_trace **out)
{
	if (!out)
		return qmx_fail(QMX_EINVAL, "qmx_grid_trace_parse: out is NULL");
	*out = NULL;
	if (!buf && len)
		return qmx_fail(QMX_EINVAL, "qmx_grid_trace_parse: buf is NULL");
	if (!name)
		name = "<memory>";
	if (len > MAX_FILE_BYTES)
		return qmx_fail(QMX_EINVAL, "%s: %zu bytes, more than the %u-byte limit", name, len,
				MAX_FILE_BYTES);
	char *text = malloc(len + 1);
	if (!text)
		return qmx_fail(QMX_ENOMEM, "%s: out of memory", name);
	if (len)
		memcpy(text, buf, len);
	text[len] = '\0';
	if (strlen(text) != len) {
		free(text);
		return qmx_grid_perr(name, 1, "contains a NUL byte: not a text file");
	}
	struct qmx_grid_builder b = { .name = name };
	snprintf(b.info.name, sizeof(b.info.name), "%s", name);
	const char *first = text + strspn(text, " \t\r\n\xef\xbb\xbf");
	int err = (*first == '{' || *first == '[') ? qmx_grid_parse_json(&b, text, len)
						   : parse_csv(&b, text);
	if (!err)
		err = build(&b, out);
	free(b.p);
	free(text);
	if (!err)
		qmx_clear_error();
	return err;
}

static int load_file(const char *path, qmx_grid_trace **out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return qmx_fail(errno == ENOENT ? QMX_ENOENT : errno == EACCES ? QMX_EPERM : QMX_EIO,
				"%s: %s", path, strerror(errno));
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err = 0;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			if (cap > MAX_FILE_BYTES + 65536) {
				err = qmx_fail(QMX_EINVAL, "%s: larger than %u bytes", path, MAX_FILE_BYTES);
				break;
			}
			char *nb = realloc(buf, cap);
			if (!nb) {
				err = qmx_fail(QMX_ENOMEM, "%s: out of memory", path);
				break;
			}
			buf = nb;
		}
		size_t r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0) {
			if (ferror(f))
				err = qmx_fail(QMX_EIO, "%s: read error", path);
			break;
		}
	}
	fclose(f);
	if (!err)
		err = qmx_grid_trace_parse(buf, len, path, out);
	free(buf);
	return err;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Merge `add` into `*acc` (same step, aligned); add's values win. */
static int merge(qmx_grid_trace **acc, const qmx_grid_trace *add)
{
	qmx_grid_trace *a = *acc;
	if (a->step != add->step || (add->start - a->start) % a->step)
		return qmx_fail(QMX_EINVAL, "%s: step %lld s starting %lld does not line up with %s (step %lld s)",
				add->info.name, (long long)add->step, (long long)add->start,
				a->info.name, (long long)a->step);
	int64_t start = add->start < a->start ? add->start : a->start;
	int64_t ea = a->start + (int64_t)a->n * a->step, eb = add->start + (int64_t)add->n * add->step;
	int64_t end = ea > eb ? ea : eb;
	if ((end - start) / a->step > MAX_WINDOWS)
		return qmx_fail(QMX_EINVAL, "%s: together with %s it spans more than %d windows",
				add->info.name, a->info.name, MAX_WINDOWS);
	size_t n = (size_t)((end - start) / a->step);
	double *act = malloc(n * sizeof(double)), *fc = malloc(n * sizeof(double));
	if (!act || !fc) {
		free(act);
		free(fc);
		return qmx_fail(QMX_ENOMEM, "out of memory merging %s", add->info.name);
	}
	for (size_t i = 0; i < n; i++)
		act[i] = fc[i] = NAN;
	size_t oa = (size_t)((a->start - start) / a->step), ob = (size_t)((add->start - start) / a->step);
	for (size_t i = 0; i < a->n; i++) {
		act[oa + i] = a->actual[i];
		fc[oa + i] = a->forecast[i];
	}
	for (size_t i = 0; i < add->n; i++) {
		if (!isnan(add->actual[i]))
			act[ob + i] = add->actual[i];
		if (!isnan(add->forecast[i]))
			fc[ob + i] = add->forecast[i];
	}
	free(a->actual);
	free(a->forecast);
	a->actual = act;
	a->forecast = fc;
	a->start = start;
	a->n = n;
	if (a->info.kind != add->info.kind)
		a->info.kind = QMX_GRID_UNKNOWN;
	return 0;
}

static int load_dir(const char *path, qmx_grid_trace **out)
{
	DIR *d = opendir(path);
	if (!d)
		return qmx_fail(QMX_EIO, "%s: %s", path, strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	int err = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 5 ||
		    (strcmp(de->d_name + l - 4, ".csv") && (l < 6 || strcmp(de->d_name + l - 5, ".json"))))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				err = qmx_fail(QMX_ENOMEM, "%s: out of memory", path);
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			err = qmx_fail(QMX_ENOMEM, "%s: out of memory", path);
			break;
		}
		n++;
	}
	closedir(d);
	if (!err && !n)
		err = qmx_fail(QMX_ENOENT, "%s: no *.csv or *.json grid traces in the directory", path);
	if (!err)
		qsort(names, n, sizeof(*names), name_cmp);
	qmx_grid_trace *acc = NULL;
	for (size_t i = 0; i < n && !err; i++) {
		char file[1024];
		qmx_grid_trace *t;
		snprintf(file, sizeof(file), "%s/%s", path, names[i]);
		if ((err = load_file(file, &t)))
			break;
		if (!acc) {
			acc = t;
			continue;
		}
		err = merge(&acc, t);
		qmx_grid_trace_del(t);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (err) {
		qmx_grid_trace_del(acc);
		return err;
	}
	if (n > 1) {
		snprintf(acc->info.format, sizeof(acc->info.format), "dir");
		snprintf(acc->info.name, sizeof(acc->info.name), "%s", path);
	}
	grid_trace_refresh_info(acc);
	*out = acc;
	return 0;
}

QMX_API int qmx_grid_trace_load(const char *path, qmx_grid_trace **out)
{
	struct stat st;
	int err;
	if (!path || !out)
		return qmx_fail(QMX_EINVAL, "qmx_grid_trace_load: %s is NULL", !path ? "path" : "out");
	*out = NULL;
	if (stat(path, &st))
		return qmx_fail(errno == ENOENT ? QMX_ENOENT : QMX_EIO, "grid trace %s: %s", path,
				strerror(errno));
	err = S_ISDIR(st.st_mode) ? load_dir(path, out) : load_file(path, out);
	if (!err)
		qmx_clear_error();
	return err;
}

QMX_API void qmx_grid_trace_del(qmx_grid_trace *t)
{
	if (!t)
		return;
	free(t->actual);
	free(t->forecast);
	free(t);
}

QMX_API int qmx_grid_trace_get_info(const qmx_grid_trace *t, qmx_grid_trace_info *info)
{
	if (!t || !info)
		return qmx_fail(QMX_EINVAL, "qmx_grid_trace_get_info: %s is NULL", !t ? "t" : "info");
	*info = t->info;
	return 0;
}

QMX_API int qmx_grid_trace_get_sample(const qmx_grid_trace *t, uint64_t i, qmx_grid_sample *s)
{
	if (!t || !s)
		return qmx_fail(QMX_EINVAL, "qmx_grid_trace_get_sample: %s is NULL", !t ? "t" : "s");
	if (i >= t->n)
		return qmx_fail(QMX_EINVAL, "qmx_grid_trace_get_sample: i (%llu) >= n (%zu)",
				(unsigned long long)i, t->n);
	s->start_s = t->start + (int64_t)i * t->step;
	s->actual = t->actual[i];
	s->forecast = t->forecast[i];
	return 0;
}

const char *qmx_grid_kind_name(int32_t kind)
{
	return kind == QMX_GRID_AVERAGE ? "average" : kind == QMX_GRID_MARGINAL ? "marginal"
										  : "average or marginal not stated";
}

QMX_API int qmx_grid_trace_at(const qmx_grid_trace *t, int64_t time_s, double *g_per_kwh)
{
	char when[32];
	if (!t || !g_per_kwh)
		return qmx_fail(QMX_EINVAL, "qmx_grid_trace_at: %s is NULL", !t ? "t" : "g_per_kwh");
	qmx_time_format(time_s, when, sizeof(when));
	if (time_s < t->start || time_s >= t->start + (int64_t)t->n * t->step) {
		char a[32], b[32];
		qmx_time_format(t->start, a, sizeof(a));
		qmx_time_format(t->start + (int64_t)t->n * t->step, b, sizeof(b));
		return qmx_fail(QMX_ENOENT, "%s: %s is outside the trace (%s to %s)", t->info.name,
				when, a, b);
	}
	size_t i = (size_t)((time_s - t->start) / t->step);
	double v = !isnan(t->actual[i]) ? t->actual[i] : t->forecast[i];
	if (isnan(v))
		return qmx_fail(QMX_ENOENT, "%s: no intensity (actual or forecast) for the window at %s",
				t->info.name, when);
	*g_per_kwh = v;
	return 0;
}

QMX_API int qmx_grid_trace_carbon(const qmx_grid_trace *t, int64_t start_s, double duration_s,
				  double joules, qmx_grid_used *out)
{
	if (!t || !out)
		return qmx_fail(QMX_EINVAL, "qmx_grid_trace_carbon: %s is NULL", !t ? "t" : "out");
	if (!(duration_s >= 0) || duration_s > 366 * 86400.0)
		return qmx_fail(QMX_EINVAL, "qmx_grid_trace_carbon: duration_s (%g) must be in [0, 1 year]",
				duration_s);
	if (!(joules >= 0) || !isfinite(joules))
		return qmx_fail(QMX_EINVAL, "qmx_grid_trace_carbon: joules (%g) must be finite and >= 0",
				joules);
	memset(out, 0, sizeof(*out));
	double mean = 0;
	int err, fc = 0;
	if (duration_s == 0) {
		if ((err = qmx_grid_trace_at(t, start_s, &mean)))
			return err;
		size_t i = (size_t)((start_s - t->start) / t->step);
		fc = isnan(t->actual[i]);
	} else {
		double end = (double)start_s + duration_s;
		for (double a = (double)start_s; a < end;) {
			int64_t ti = (int64_t)floor(a);
			double v;
			if ((err = qmx_grid_trace_at(t, ti, &v)))
				return err;
			size_t i = (size_t)((ti - t->start) / t->step);
			double wend = (double)(t->start + (int64_t)(i + 1) * t->step);
			double b = wend < end ? wend : end;
			fc += isnan(t->actual[i]);
			mean += v * (b - a) / duration_s;
			a = b;
		}
	}
	char a[32], b[32];
	qmx_time_format(start_s, a, sizeof(a));
	qmx_time_format(start_s + (int64_t)ceil(duration_s), b, sizeof(b));
	out->g_per_kwh = mean;
	out->carbon_g = joules / 3.6e6 * mean;
	out->kind = t->info.kind;
	out->forecast_windows = fc;
	const char *base = strrchr(t->info.name, '/') ? strrchr(t->info.name, '/') + 1 : t->info.name;
	int rlen = (int)strcspn(t->info.region, ",;");
	snprintf(out->source, sizeof(out->source), "%.100s%s%.*s%s %s..%s (%s, %s)", base,
		 rlen ? " [" : "", rlen < 60 ? rlen : 60, t->info.region, rlen ? "]" : "", a, b,
		 qmx_grid_kind_name(t->info.kind), fc ? "forecast where the actual is missing" : "actual");
	qmx_clear_error();
	return 0;
}

/* ---------------------------------------------------------------- $QMX_GRID_TRACE */

static struct {
	char path[512];
	struct timespec mtime;
	qmx_grid_trace *t;
} env_cache;
static pthread_mutex_t env_lock = PTHREAD_MUTEX_INITIALIZER;

int qmx_grid_trace_env(qmx_carbon_config *cfg, bool *set)
{
	const char *path = getenv("QMX_GRID_TRACE"), *when = getenv("QMX_GRID_TIME");
	struct stat st;
	int64_t at = (int64_t)time(NULL);
	qmx_grid_used u;
	int err = 0;
	*set = false;
	if (!path || !*path)
		return 0;
	char msg[512];
	if (when && *when && qmx_time_parse(when, &at)) {
		snprintf(msg, sizeof(msg), "%s", qmx_last_error()); /* qmx_fail overwrites it */
		return qmx_fail(QMX_EINVAL, "QMX_GRID_TIME: %s", msg);
	}
	if (strlen(path) >= sizeof(env_cache.path))
		return qmx_fail(QMX_EINVAL, "QMX_GRID_TRACE '%.64s...' longer than %zu characters",
				path, sizeof(env_cache.path) - 1);
	if (stat(path, &st))
		return qmx_fail(errno == ENOENT ? QMX_ENOENT : QMX_EIO, "QMX_GRID_TRACE %s: %s", path,
				strerror(errno));
	pthread_mutex_lock(&env_lock);
	if (!env_cache.t || strcmp(env_cache.path, path) ||
	    env_cache.mtime.tv_sec != st.st_mtim.tv_sec ||
	    env_cache.mtime.tv_nsec != st.st_mtim.tv_nsec) {
		qmx_grid_trace *t;
		if (!(err = qmx_grid_trace_load(path, &t))) {
			qmx_grid_trace_del(env_cache.t);
			env_cache.t = t;
			snprintf(env_cache.path, sizeof(env_cache.path), "%s", path);
			env_cache.mtime = st.st_mtim;
		}
	}
	if (!err)
		err = qmx_grid_trace_carbon(env_cache.t, at, 0, 0, &u);
	pthread_mutex_unlock(&env_lock);
	if (err) {
		snprintf(msg, sizeof(msg), "%s", qmx_last_error());
		return qmx_fail(err, "QMX_GRID_TRACE: %s", msg);
	}
	cfg->grid_g_per_kwh = u.g_per_kwh;
	snprintf(cfg->region, sizeof(cfg->region), "trace");
	snprintf(cfg->grid_source, sizeof(cfg->grid_source), "%.191s", u.source);
	*set = true;
	return 0;
}
