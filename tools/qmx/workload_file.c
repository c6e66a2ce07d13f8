/* SPDX-License-Identifier: MIT */
/*
 * workload_file.c - the reader of workload files (tools/qmx/workloads/NAME.ini,
 * format in its README.md): GEMM shapes of real models with the source of
 * each model's dimensions, for `qmx compare` and `qmx explore`.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "qmx_util.h"

#ifndef QMX_WORKLOADS_DIR_BUILD
#define QMX_WORKLOADS_DIR_BUILD ""
#endif
#ifndef QMX_WORKLOADS_DIR_INSTALL
#define QMX_WORKLOADS_DIR_INSTALL "/usr/local/share/qmx/workloads"
#endif

#define WL_MAX_DIM 65536
#define WL_MAX_REPEAT 64

const char *cmp_data_path(const char *build, const char *install, const char *rel, char *buf,
			  size_t len)
{
	if (build[0] && access(build, R_OK) == 0)
		return build;
	if (access(install, R_OK) == 0)
		return install;
	/* Installed under another prefix than configured: beside the program,
	 * <bin>/../share/qmx/<rel>. */
	char exe[1024];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, len, "%s/../share/qmx/%s", exe, rel);
			if (access(buf, R_OK) == 0)
				return buf;
		}
	}
	return install;
}

const char *cmp_workloads_dir(void)
{
	static char buf[1200];
	const char *env = getenv("QMX_WORKLOADS_DIR");
	if (env && *env)
		return env;
	return cmp_data_path(QMX_WORKLOADS_DIR_BUILD, QMX_WORKLOADS_DIR_INSTALL, "workloads", buf,
			     sizeof(buf));
}

struct wl_parse {
	const char *path;
	int line;
	char *err;
	size_t err_len;
};

static int bad(struct wl_parse *ps, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct wl_parse *ps, const char *field, const char *fmt, ...)
{
	char why[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (field)
		snprintf(ps->err, ps->err_len, "%s:%d: field '%s': %s", ps->path, ps->line, field,
			 why);
	else
		snprintf(ps->err, ps->err_len, "%s:%d: %s", ps->path, ps->line, why);
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int set_text(struct wl_parse *ps, const char *field, char *dst, size_t cap,
		    const char *v)
{
	if (!*v)
		return bad(ps, field, "empty");
	if (strlen(v) >= cap)
		return bad(ps, field, "longer than %zu characters", cap - 1);
	snprintf(dst, cap, "%s", v);
	return 0;
}

/* "MxNxK" or "MxNxK * COUNT". */
static int add_gemm(struct wl_parse *ps, struct cmp_workload *w, char *v)
{
	long long count = 1;
	char *star = strchr(v, '*');
	if (star) {
		char *end;
		*star = '\0';
		errno = 0;
		count = strtoll(trim(star + 1), &end, 10);
		if (errno || *end || end == trim(star + 1) || count < 1 || count > WL_MAX_REPEAT)
			return bad(ps, "gemm", "repeat count '%s' must be an integer in [1, %d]",
				   trim(star + 1), WL_MAX_REPEAT);
	}
	int64_t m, n, k;
	v = trim(v);
	if (qmx_parse_shape(v, &m, &n, &k) || m < 1 || n < 1 || k < 1 || m > WL_MAX_DIM ||
	    n > WL_MAX_DIM || k > WL_MAX_DIM)
		return bad(ps, "gemm", "'%s' is not MxNxK with 1 <= M, N, K <= %d", v, WL_MAX_DIM);
	if (w->n_layers + count > CMP_MAX_LAYERS)
		return bad(ps, "gemm", "workload '%s' has more than %d GEMMs", w->name,
			   CMP_MAX_LAYERS);
	for (long long i = 0; i < count; i++)
		w->layers[w->n_layers++] = (struct cmp_gemm){ m, n, k };
	return 0;
}

/* Every required field of the workload before the one starting at `line`. */
static int finish(struct wl_parse *ps, struct cmp_workload *w, int from_line)
{
	static const char *const need[] = { "what", "unit", "source" };
	const char *have[] = { w->what, w->unit, w->source };
	int at = ps->line;
	ps->line = from_line;
	for (int i = 0; i < 3; i++)
		if (!have[i][0])
			return bad(ps, need[i], "missing in [workload %s]", w->name);
	if (!w->n_layers)
		return bad(ps, "gemm", "[workload %s] has no GEMM", w->name);
	ps->line = at;
	return 0;
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return false;
	return true;
}

int cmp_workload_file_load(const char *path, struct cmp_workload *out, int cap, char *err,
			   size_t err_len)
{
	struct wl_parse ps = { path, 0, err, err_len };
	FILE *f = fopen(path, "r");
	char buf[1024];
	int n = 0, start = 0;
	struct cmp_workload *w = NULL;

	if (!f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), f)) {
		ps.line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			bad(&ps, NULL, "line longer than %zu characters", sizeof(buf) - 2);
			goto fail;
		}
		/* A comment starts with '#' at the start of the line or after
		 * whitespace, so a '#' inside a value (a URL fragment in
		 * `source`) is kept. */
		for (char *h = buf; (h = strchr(h, '#')); h++)
			if (h == buf || *(h - 1) == ' ' || *(h - 1) == '\t') {
				*h = '\0';
				break;
			}
		char *s = trim(buf);
		if (!*s)
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close || trim(close + 1)[0] || strncmp(s, "[workload ", 10)) {
				bad(&ps, NULL, "section must be '[workload NAME]', not '%s'", s);
				goto fail;
			}
			*close = '\0';
			char *name = trim(s + 10);
			if (!valid_name(name) || strlen(name) >= sizeof(w->name)) {
				bad(&ps, "workload", "name '%s' must be 1-%zu of letters, digits, '-', '_', '.'",
				    name, sizeof(w->name) - 1);
				goto fail;
			}
			for (int i = 0; i < n; i++)
				if (!strcmp(out[i].name, name)) {
					bad(&ps, "workload", "'%s' defined twice", name);
					goto fail;
				}
			if (w && finish(&ps, w, start))
				goto fail;
			if (n == cap) {
				bad(&ps, "workload", "more than %d workloads", cap);
				goto fail;
			}
			w = &out[n++];
			memset(w, 0, sizeof(*w));
			snprintf(w->name, sizeof(w->name), "%s", name);
			w->units = 1;
			start = ps.line;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			bad(&ps, NULL, "expected 'field = value' or '[workload NAME]', got '%s'", s);
			goto fail;
		}
		*eq = '\0';
		char *key = trim(s), *v = trim(eq + 1);
		if (!w) {
			bad(&ps, key, "outside a [workload NAME] section");
			goto fail;
		}
		int e;
		if (!strcmp(key, "what")) {
			e = set_text(&ps, key, w->what, sizeof(w->what), v);
		} else if (!strcmp(key, "unit")) {
			e = set_text(&ps, key, w->unit, sizeof(w->unit), v);
		} else if (!strcmp(key, "source")) {
			e = set_text(&ps, key, w->source, sizeof(w->source), v);
		} else if (!strcmp(key, "units")) {
			char *end;
			errno = 0;
			w->units = strtod(v, &end);
			e = errno || *end || end == v || !(w->units > 0) || w->units > 1e9
				    ? bad(&ps, key, "'%s' must be a number in (0, 1e9]", v)
				    : 0;
		} else if (!strcmp(key, "gemm")) {
			e = add_gemm(&ps, w, v);
		} else {
			e = bad(&ps, key, "unknown (fields: what, unit, units, source, gemm)");
		}
		if (e)
			goto fail;
	}
	if (ferror(f)) {
		snprintf(err, err_len, "%s: read error", path);
		goto fail;
	}
	if (!w) {
		ps.line = ps.line ? ps.line : 1;
		bad(&ps, NULL, "no [workload NAME] section");
		goto fail;
	}
	if (finish(&ps, w, start))
		goto fail;
	fclose(f);
	return n;
fail:
	fclose(f);
	return -1;
}
