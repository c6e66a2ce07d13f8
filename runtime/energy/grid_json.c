/* SPDX-License-Identifier: MIT */
/*
 * grid_json.c - grid traces from the JSON of the GB Carbon Intensity API
 * (v2.0.0, /intensity), the GSF Carbon Aware SDK Web API v1
 * (/emissions/bylocations, /emissions/forecasts/current) and Electricity
 * Maps API v3 (/v3/carbon-intensity/history and /forecast).
 *
 * JSON is parsed by jansson (Debian libjansson-dev): strict RFC 8259, and it
 * reports the line and column of a syntax error.  It does not keep positions
 * for values, so when a well-formed file has a bad field, json_line() walks
 * the (already validated) text along the field's path to name its line.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifdef QMX_HAVE_JANSSON
#include <jansson.h>
#endif

#include "grid_internal.h"
#include "qmx_backend.h"

#ifdef QMX_HAVE_JANSSON

/* One step of a path into the document: an object key, or an array index. */
struct jstep {
	const char *key;
	size_t idx;
};

static const char *jws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static const char *jskip_string(const char *p, const char *e)
{
	for (p++; p < e && *p != '"'; p++)
		if (*p == '\\')
			p++;
	return p < e ? p + 1 : e;
}

static const char *jskip(const char *p, const char *e)
{
	p = jws(p, e);
	if (p >= e)
		return e;
	if (*p == '"')
		return jskip_string(p, e);
	if (*p == '{' || *p == '[') {
		int depth = 0;
		for (; p < e; p++) {
			if (*p == '"') {
				p = jskip_string(p, e) - 1;
			} else if (*p == '{' || *p == '[') {
				depth++;
			} else if ((*p == '}' || *p == ']') && --depth == 0) {
				return p + 1;
			}
		}
		return e;
	}
	while (p < e && !strchr(",]} \t\r\n", *p))
		p++;
	return p;
}

/* Line of the value at path (or of the deepest part of it that exists). */
static long json_line(const char *buf, size_t len, const struct jstep *path, int depth)
{
	const char *p = jws(buf, buf + len), *e = buf + len;
	for (int s = 0; s < depth && p < e; s++) {
		const char *found = NULL;
		if (*p == '{' && path[s].key) {
			size_t klen = strlen(path[s].key);
			const char *q = jws(p + 1, e);
			while (q < e && *q == '"') {
				const char *kend = jskip_string(q, e);
				bool match = (size_t)(kend - q) == klen + 2 && !memcmp(q + 1, path[s].key, klen);
				q = jws(kend, e);
				if (q < e && *q == ':')
					q = jws(q + 1, e);
				if (match) {
					found = q;
					break;
				}
				q = jws(jskip(q, e), e);
				if (q < e && *q == ',')
					q = jws(q + 1, e);
			}
		} else if (*p == '[' && !path[s].key) {
			const char *q = jws(p + 1, e);
			for (size_t i = 0; q < e && *q != ']'; i++) {
				if (i == path[s].idx) {
					found = q;
					break;
				}
				q = jws(jskip(q, e), e);
				if (q < e && *q == ',')
					q = jws(q + 1, e);
			}
		}
		if (!found)
			break;
		p = found;
	}
	long line = 1;
	for (const char *q = buf; q < p; q++)
		line += *q == '\n';
	return line;
}

struct jctx {
	struct qmx_grid_builder *b;
	const char *buf;
	size_t len;
	struct jstep path[6];
	int depth;
};

static void jpath_str(const struct jctx *j, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (int i = 0; i < j->depth && used < len; i++)
		used += (size_t)(j->path[i].key
			? snprintf(out + used, len - used, "%s%s", i ? "." : "", j->path[i].key)
			: snprintf(out + used, len - used, "[%zu]", j->path[i].idx));
}

static int jerr(const struct jctx *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int jerr(const struct jctx *j, const char *fmt, ...)
{
	char msg[300], field[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jpath_str(j, field, sizeof(field));
	return qmx_grid_perr(j->b->name, json_line(j->buf, j->len, j->path, j->depth), "field '%s': %s",
		    field, msg);
}

/* Descend into key / index (the path names the field in errors). */
static json_t *jkey(struct jctx *j, json_t *obj, const char *key)
{
	if (j->depth < (int)(sizeof(j->path) / sizeof(j->path[0])))
		j->path[j->depth++] = (struct jstep){ key, 0 };
	return json_object_get(obj, key);
}
static void jidx(struct jctx *j, size_t i)
{
	if (j->depth < (int)(sizeof(j->path) / sizeof(j->path[0])))
		j->path[j->depth++] = (struct jstep){ NULL, i };
}

static int jtime(struct jctx *j, json_t *obj, const char *key, int64_t *t)
{
	const char *why;
	json_t *v = jkey(j, obj, key);
	if (!v)
		return jerr(j, "missing");
	if (!json_is_string(v))
		return jerr(j, "not a string (an ISO-8601 time)");
	if (qmx_grid_time_parse(json_string_value(v), t, &why))
		return jerr(j, "'%.40s': %s", json_string_value(v), why);
	j->depth--;
	return 0;
}

/* A number, or null (missing) when nullable. */
static int jnum(struct jctx *j, json_t *obj, const char *key, bool nullable, double *v)
{
	json_t *x = jkey(j, obj, key);
	if (!x)
		return jerr(j, "missing");
	if (json_is_null(x) && nullable) {
		*v = NAN;
	} else if (json_is_number(x)) {
		*v = json_number_value(x);
		if (!isfinite(*v) || *v < 0 || *v > QMX_GRID_MAX_G_PER_KWH)
			return jerr(j, "%g gCO2e/kWh is outside [0, %g]", *v, QMX_GRID_MAX_G_PER_KWH);
	} else {
		return jerr(j, nullable ? "not a number or null" : "not a number");
	}
	j->depth--;
	return 0;
}

static void jstr(json_t *obj, const char *key, char *dst, size_t len)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_string(v) && !dst[0])
		snprintf(dst, len, "%s", json_string_value(v));
}

static int jarray(struct jctx *j, json_t *obj, const char *key, json_t **arr)
{
	*arr = jkey(j, obj, key);
	if (!*arr)
		return jerr(j, "missing");
	if (!json_is_array(*arr))
		return jerr(j, "not an array");
	if (!json_array_size(*arr))
		return jerr(j, "empty: no samples");
	return 0;
}

static int jelem(struct jctx *j, json_t *arr, size_t i, json_t **el)
{
	jidx(j, i);
	*el = json_array_get(arr, i);
	if (!json_is_object(*el))
		return jerr(j, "not an object");
	return 0;
}

/* GB Carbon Intensity API v2.0.0, /intensity...: {"data": [{"from", "to",
 * "intensity": {"forecast", "actual", "index"}}]}; gCO2/kWh, national average. */
static int parse_gb(struct jctx *j, json_t *root)
{
	json_t *data, *el;
	int err;
	snprintf(j->b->info.format, sizeof(j->b->info.format), "gb-carbon-intensity");
	snprintf(j->b->info.source, sizeof(j->b->info.source),
		 "GB Carbon Intensity API (NESO), /intensity, CC BY 4.0");
	snprintf(j->b->info.region, sizeof(j->b->info.region), "GB national");
	j->b->info.kind = QMX_GRID_AVERAGE;
	if ((err = jarray(j, root, "data", &data)))
		return err;
	for (size_t i = 0; i < json_array_size(data); i++) {
		int64_t from, to;
		double a, f;
		if ((err = jelem(j, data, i, &el)) || (err = jtime(j, el, "from", &from)) ||
		    (err = jtime(j, el, "to", &to)))
			return err;
		if (to <= from) {
			jkey(j, el, "to");
			return jerr(j, "not after 'from'");
		}
		if (!j->b->step_hint)
			j->b->step_hint = to - from;
		else if (to - from != j->b->step_hint) {
			jkey(j, el, "to");
			return jerr(j, "window of %lld s, the first was %lld s", (long long)(to - from),
				    (long long)j->b->step_hint);
		}
		json_t *in = jkey(j, el, "intensity");
		if (!json_is_object(in))
			return jerr(j, in ? "not an object" : "missing");
		if ((err = jnum(j, in, "forecast", true, &f)) || (err = jnum(j, in, "actual", true, &a)))
			return err;
		j->depth--; /* back to data[i] */
		if ((err = qmx_grid_push(j->b, from, a, f, json_line(j->buf, j->len, j->path, 2))))
			return err;
		j->depth--;
	}
	return 0;
}

/* "hh:mm:ss" or "d.hh:mm:ss[.fffffff]" (.NET TimeSpan), in seconds. */
static int timespan(const char *s, int64_t *out)
{
	long d = 0, h, m;
	double sec;
	const char *colon = strchr(s, ':'), *dot = strchr(s, '.');
	int n;
	if (dot && colon && dot < colon) {
		if (sscanf(s, "%ld.%ld:%ld:%lf%n", &d, &h, &m, &sec, &n) != 4)
			return -1;
	} else if (sscanf(s, "%ld:%ld:%lf%n", &h, &m, &sec, &n) != 3) {
		return -1;
	}
	if (s[n] || d < 0 || h < 0 || h > 23 || m < 0 || m > 59 || !(sec >= 0) || sec >= 60)
		return -1;
	*out = ((d * 24 + h) * 60 + m) * 60 + (int64_t)sec;
	return 0;
}

/* GSF Carbon Aware SDK Web API v1, /emissions/bylocations(/best):
 * [{"location", "time", "rating", "duration": "hh:mm:ss"}]. */
static int parse_gsf_emissions(struct jctx *j, json_t *root)
{
	int err;
	snprintf(j->b->info.format, sizeof(j->b->info.format), "gsf-emissions");
	snprintf(j->b->info.source, sizeof(j->b->info.source),
		 "GSF Carbon Aware SDK Web API v1, /emissions/bylocations (its data source decides average or marginal)");
	for (size_t i = 0; i < json_array_size(root); i++) {
		json_t *el;
		int64_t t, dur;
		double v;
		if ((err = jelem(j, root, i, &el)) || (err = jtime(j, el, "time", &t)) ||
		    (err = jnum(j, el, "rating", false, &v)))
			return err;
		jstr(el, "location", j->b->info.region, sizeof(j->b->info.region));
		json_t *d = jkey(j, el, "duration");
		if (d) {
			if (!json_is_string(d) || timespan(json_string_value(d), &dur) || dur <= 0)
				return jerr(j, "not a positive duration 'hh:mm:ss'");
			if (!j->b->step_hint)
				j->b->step_hint = dur;
		}
		j->depth--;
		if ((err = qmx_grid_push(j->b, t, v, NAN, json_line(j->buf, j->len, j->path, 1))))
			return err;
		j->depth--;
	}
	return 0;
}

/* GSF Carbon Aware SDK Web API v1, /emissions/forecasts/current:
 * [{"location", "generatedAt", "requestedAt", "dataStartAt", "dataEndAt",
 *   "windowSize", "optimalDataPoints", "forecastData": [{"location",
 *   "timestamp", "duration" (minutes), "value"}]}].  The first forecast. */
static int parse_gsf_forecast(struct jctx *j, json_t *root)
{
	json_t *el, *fd;
	int err;
	snprintf(j->b->info.format, sizeof(j->b->info.format), "gsf-forecast");
	snprintf(j->b->info.source, sizeof(j->b->info.source),
		 "GSF Carbon Aware SDK Web API v1, /emissions/forecasts/current (its data source decides average or marginal)");
	if ((err = jelem(j, root, 0, &el)))
		return err;
	jstr(el, "location", j->b->info.region, sizeof(j->b->info.region));
	if ((err = jarray(j, el, "forecastData", &fd)))
		return err;
	for (size_t i = 0; i < json_array_size(fd); i++) {
		json_t *p;
		int64_t t;
		double v;
		if ((err = jelem(j, fd, i, &p)) || (err = jtime(j, p, "timestamp", &t)) ||
		    (err = jnum(j, p, "value", false, &v)))
			return err;
		json_t *d = jkey(j, p, "duration");
		if (d) {
			json_int_t m = json_is_integer(d) ? json_integer_value(d) : -1;
			if (m <= 0 || m > 7 * 24 * 60)
				return jerr(j, "not a whole number of minutes in [1, 10080]");
			if (!j->b->step_hint)
				j->b->step_hint = (int64_t)m * 60;
		}
		j->depth--;
		if ((err = qmx_grid_push(j->b, t, NAN, v, json_line(j->buf, j->len, j->path, 3))))
			return err;
		j->depth--;
	}
	return 0;
}

/* Electricity Maps API v3, /v3/carbon-intensity/history:
 * {"zone", "history": [{"zone", "carbonIntensity", "datetime", "updatedAt",
 *   "createdAt", "emissionFactorType", "isEstimated", "estimationMethod"}]}
 * and /v3/carbon-intensity/forecast: {"zone", "forecast":
 * [{"carbonIntensity", "datetime"}], "updatedAt"}.  Grid average. */
static int parse_emaps(struct jctx *j, json_t *root, bool forecast)
{
	json_t *arr;
	int err;
	char eft[32] = "";
	snprintf(j->b->info.format, sizeof(j->b->info.format), "electricitymaps-%s",
		 forecast ? "forecast" : "history");
	jstr(root, "zone", j->b->info.region, sizeof(j->b->info.region));
	j->b->info.kind = QMX_GRID_AVERAGE;
	if ((err = jarray(j, root, forecast ? "forecast" : "history", &arr)))
		return err;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *el;
		int64_t t;
		double v;
		if ((err = jelem(j, arr, i, &el)) || (err = jtime(j, el, "datetime", &t)) ||
		    (err = jnum(j, el, "carbonIntensity", true, &v)))
			return err;
		jstr(el, "emissionFactorType", eft, sizeof(eft));
		if ((err = qmx_grid_push(j->b, t, forecast ? NAN : v, forecast ? v : NAN,
				json_line(j->buf, j->len, j->path, 2))))
			return err;
		j->depth--;
	}
	snprintf(j->b->info.source, sizeof(j->b->info.source),
		 "Electricity Maps API v3, /v3/carbon-intensity/%s%s%s",
		 forecast ? "forecast" : "history", eft[0] ? ", emission factors: " : "", eft);
	return 0;
}

int qmx_grid_parse_json(struct qmx_grid_builder *b, const char *buf, size_t len)
{
	json_error_t je;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return qmx_grid_perr(b->name, je.line > 0 ? je.line : 1, "JSON column %d: %s", je.column,
			    je.text);
	struct jctx j = { .b = b, .buf = buf, .len = len };
	int err;
	if (json_is_object(root) && json_object_get(root, "data"))
		err = parse_gb(&j, root);
	else if (json_is_object(root) && json_object_get(root, "history"))
		err = parse_emaps(&j, root, false);
	else if (json_is_object(root) && json_object_get(root, "forecast"))
		err = parse_emaps(&j, root, true);
	else if (json_is_array(root) && json_is_object(json_array_get(root, 0)) &&
		 json_object_get(json_array_get(root, 0), "forecastData"))
		err = parse_gsf_forecast(&j, root);
	else if (json_is_array(root) && json_is_object(json_array_get(root, 0)) &&
		 json_object_get(json_array_get(root, 0), "rating"))
		err = parse_gsf_emissions(&j, root);
	else
		err = qmx_grid_perr(b->name, 1,
			   "not a grid trace: expected {\"data\": [...]} (GB Carbon Intensity API), "
			   "{\"history\"|\"forecast\": [...]} (Electricity Maps v3), or [{\"rating\"...}] / "
			   "[{\"forecastData\"...}] (Carbon Aware SDK)");
	json_decref(root);
	return err;
}
#else
int qmx_grid_parse_json(struct qmx_grid_builder *b, const char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return qmx_fail(QMX_ENOTSUP,
			"%s: JSON grid traces need libqmx built with jansson (Debian: apt-get install libjansson-dev, then reconfigure)",
			b->name);
}
#endif

