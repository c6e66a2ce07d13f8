/* SPDX-License-Identifier: MIT */
/*
 * data.c - the small reader of the hw/energy .ini files (every number with its source),
 * the synthesis area file hw/synth/area.json, and file helpers for the
 * sysfs/procfs readers.
 */
#define _GNU_SOURCE /* dladdr */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "energy_internal.h"
#include "qmx_backend.h"

#ifndef QMX_DATA_DIR_BUILD
#define QMX_DATA_DIR_BUILD ""
#endif
#ifndef QMX_DATA_DIR_INSTALL
#define QMX_DATA_DIR_INSTALL "/usr/local/share/qmx/energy"
#endif
#ifndef QMX_AREA_JSON_BUILD
#define QMX_AREA_JSON_BUILD ""
#endif

static bool is_dir(const char *p)
{
	struct stat st;
	return p && *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *qmx_data_dir(void)
{
	const char *env = getenv("QMX_DATA_DIR");
	if (env && *env)
		return env;
	if (is_dir(QMX_DATA_DIR_BUILD))
		return QMX_DATA_DIR_BUILD;
	if (is_dir(QMX_DATA_DIR_INSTALL))
		return QMX_DATA_DIR_INSTALL;
	/* Installed under another prefix than configured: look beside the
	 * library (or the program it is linked into): <lib>/../share/qmx/energy. */
	static char rel[600];
	Dl_info dl;
	if (!rel[0] && dladdr((void *)qmx_data_dir, &dl) && dl.dli_fname) {
		char *slash;
		snprintf(rel, sizeof(rel), "%s", dl.dli_fname);
		if ((slash = strrchr(rel, '/'))) {
			*slash = '\0';
			size_t n = strlen(rel);
			snprintf(rel + n, sizeof(rel) - n, "/../share/qmx/energy");
		}
	}
	return is_dir(rel) ? rel : QMX_DATA_DIR_INSTALL;
}

const char *qmx_area_json_path(void)
{
	static char path[600];
	const char *env = getenv("QMX_AREA_JSON");
	if (env && *env)
		return env;
	if (QMX_AREA_JSON_BUILD[0] && access(QMX_AREA_JSON_BUILD, R_OK) == 0)
		return QMX_AREA_JSON_BUILD;
	snprintf(path, sizeof(path), "%s/area.json", qmx_data_dir());
	return path;
}

const char *qmx_sysfs_root(void)
{
	const char *env = getenv("QMX_SYSFS_ROOT");
	return env && *env ? env : "/sys";
}

const char *qmx_procfs_root(void)
{
	const char *env = getenv("QMX_PROCFS_ROOT");
	return env && *env ? env : "/proc";
}

int qmx_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == EACCES || e == EPERM)
			return qmx_fail(QMX_EPERM, "%s: permission denied", path);
		return qmx_fail(QMX_ENOENT, "%s: %s", path, strerror(e));
	}
	ssize_t n = read(fd, buf, len - 1);
	int e = errno;
	close(fd);
	if (n < 0) {
		if (e == EACCES || e == EPERM)
			return qmx_fail(QMX_EPERM, "%s: permission denied", path);
		return qmx_fail(QMX_EIO, "%s: %s", path, strerror(e));
	}
	buf[n] = '\0';
	return 0;
}

int qmx_read_u64(const char *path, uint64_t *v)
{
	char buf[64], *end;
	int err = qmx_read_file(path, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (errno || end == buf || *end || buf[0] == '-')
		return qmx_fail(QMX_EIO, "%s: '%.20s' is not an unsigned integer", path, buf);
	*v = x;
	return 0;
}

/* ---------------------------------------------------------------- INI reader */

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

void qmx_data_free(struct qmx_data *d)
{
	free(d->e);
	memset(d, 0, sizeof(*d));
}

static int data_line(struct qmx_data *d, const char *section, char *line, int lineno)
{
	char *hash = strchr(line, '#');
	/* '#' inside a quoted key does not start the comment. */
	if (line[0] == '"') {
		char *q = strchr(line + 1, '"');
		hash = q ? strchr(q, '#') : NULL;
	}
	char *eq = strchr(line, '=');
	if (!eq || (hash && hash < eq))
		return qmx_fail(QMX_EINVAL, "%s:%d: expected 'key = value  # source'", d->path,
				lineno);
	if (!hash || !*trim(hash + 1))
		return qmx_fail(QMX_EINVAL,
				"%s:%d: value without a source: every number needs '# unit; source'",
				d->path, lineno);
	if (!*section)
		return qmx_fail(QMX_EINVAL, "%s:%d: value before any [section]", d->path, lineno);
	*eq = '\0';
	*hash = '\0';
	char *key = trim(line), *vals = trim(eq + 1);
	size_t kl = strlen(key);
	if (kl >= 2 && key[0] == '"' && key[kl - 1] == '"') {
		key[kl - 1] = '\0';
		key++;
	}
	if (!*key || strlen(key) >= sizeof(d->e[0].key))
		return qmx_fail(QMX_EINVAL, "%s:%d: key empty or longer than %zu characters",
				d->path, lineno, sizeof(d->e[0].key) - 1);
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		struct qmx_data_entry *e = realloc(d->e, cap * sizeof(*e));
		if (!e)
			return qmx_fail(QMX_ENOMEM, "%s: out of memory", d->path);
		d->e = e;
		d->cap = cap;
	}
	struct qmx_data_entry *e = &d->e[d->n];
	memset(e, 0, sizeof(*e));
	snprintf(e->section, sizeof(e->section), "%s", section);
	snprintf(e->key, sizeof(e->key), "%s", key);
	snprintf(e->source, sizeof(e->source), "%s", trim(hash + 1));
	e->line = lineno;
	size_t vl = strlen(vals);
	if (vals[0] == '"') {
		/* A text value ("DDR3-2133"): one quoted string, no '#' inside. */
		if (vl < 3 || vals[vl - 1] != '"' || memchr(vals + 1, '"', vl - 2))
			return qmx_fail(QMX_EINVAL, "%s:%d: %s: text must be one \"quoted\" string",
					d->path, lineno, key);
		if (vl - 2 >= sizeof(e->text))
			return qmx_fail(QMX_EINVAL, "%s:%d: %s: text longer than %zu characters",
					d->path, lineno, key, sizeof(e->text) - 1);
		memcpy(e->text, vals + 1, vl - 2);
		e->text[vl - 2] = '\0';
		d->n++;
		return 0;
	}
	char *p = vals;
	while (*p) {
		char *end;
		if (e->n == QMX_DATA_MAX_VALUES)
			return qmx_fail(QMX_EINVAL, "%s:%d: %s has more than %d values", d->path,
					lineno, key, QMX_DATA_MAX_VALUES);
		errno = 0;
		double v = strtod(p, &end);
		if (end == p || errno || !isfinite(v))
			return qmx_fail(QMX_EINVAL, "%s:%d: %s: '%s' is not a number", d->path,
					lineno, key, p);
		e->v[e->n++] = v;
		p = trim(end);
		if (*p == ',')
			p = trim(p + 1);
		else if (*p)
			return qmx_fail(QMX_EINVAL, "%s:%d: %s: expected ',' before '%s'", d->path,
					lineno, key, p);
	}
	if (!e->n)
		return qmx_fail(QMX_EINVAL, "%s:%d: %s has no value", d->path, lineno, key);
	d->n++;
	return 0;
}

int qmx_data_load(struct qmx_data *d, const char *path)
{
	memset(d, 0, sizeof(*d));
	FILE *f = fopen(path, "r");
	if (!f)
		return qmx_fail(errno == EACCES ? QMX_EPERM : QMX_ENOENT,
				"energy data file %s: %s (set QMX_DATA_DIR to the folder holding hw/energy/*.ini)",
				path, strerror(errno));
	int err = qmx_data_parse(d, path, f);
	fclose(f);
	return err;
}

int qmx_data_parse(struct qmx_data *d, const char *path, FILE *f)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "%s", path);
	char line[1024], section[32] = "";
	int lineno = 0, err = 0;
	while (!err && fgets(line, sizeof(line), f)) {
		lineno++;
		/* A longer line would be read as two: refuse it instead. */
		if (!strchr(line, '\n') && !feof(f)) {
			err = qmx_fail(QMX_EINVAL, "%s:%d: line longer than %zu characters", path,
				       lineno, sizeof(line) - 2);
			break;
		}
		char *s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close || close == s + 1 || (size_t)(close - s - 1) >= sizeof(section)) {
				err = qmx_fail(QMX_EINVAL, "%s:%d: bad section header '%s'", path,
					       lineno, s);
				break;
			}
			*close = '\0';
			snprintf(section, sizeof(section), "%s", s + 1);
			continue;
		}
		err = data_line(d, section, s, lineno);
	}
	if (err)
		qmx_data_free(d);
	return err;
}

const struct qmx_data_entry *qmx_data_find(const struct qmx_data *d,
					   const char *section, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->e[i].section, section) && !strcmp(d->e[i].key, key))
			return &d->e[i];
	return NULL;
}

int qmx_data_value(const struct qmx_data *d, const char *section, const char *key,
		   int idx, double *v)
{
	const struct qmx_data_entry *e = qmx_data_find(d, section, key);
	if (!e)
		return qmx_fail(QMX_ENOENT, "%s: no [%s] %s", d->path, section, key);
	if (e->text[0])
		return qmx_fail(QMX_EINVAL, "%s: [%s] %s is text (\"%s\"), a number is wanted",
				d->path, section, key, e->text);
	if (idx >= e->n)
		return qmx_fail(QMX_EINVAL, "%s: [%s] %s has %d value(s), value %d wanted",
				d->path, section, key, e->n, idx + 1);
	*v = e->v[idx];
	return 0;
}

int qmx_data_text(const struct qmx_data *d, const char *section, const char *key,
		  const char **text)
{
	const struct qmx_data_entry *e = qmx_data_find(d, section, key);
	if (!e)
		return qmx_fail(QMX_ENOENT, "%s: no [%s] %s", d->path, section, key);
	if (!e->text[0])
		return qmx_fail(QMX_EINVAL, "%s: [%s] %s is a number, \"text\" is wanted", d->path,
				section, key);
	*text = e->text;
	return 0;
}

/* Cache of loaded files; data files are read once per process and per
 * data directory. */
#define QMX_DATA_CACHE 8
static struct {
	char path[512];
	struct qmx_data d;
} cache[QMX_DATA_CACHE];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

int qmx_data_get(const char *name, const struct qmx_data **out)
{
	char path[512];
	int err = 0;
	snprintf(path, sizeof(path), "%s/%s", qmx_data_dir(), name);
	pthread_mutex_lock(&cache_lock);
	int slot = -1;
	for (int i = 0; i < QMX_DATA_CACHE; i++) {
		if (!strcmp(cache[i].path, path)) {
			*out = &cache[i].d;
			pthread_mutex_unlock(&cache_lock);
			return 0;
		}
		if (slot < 0 && !cache[i].path[0])
			slot = i;
	}
	if (slot < 0) {
		slot = 0; /* many data dirs in one process (tests): recycle */
		qmx_data_free(&cache[0].d);
		cache[0].path[0] = '\0';
	}
	err = qmx_data_load(&cache[slot].d, path);
	if (!err) {
		snprintf(cache[slot].path, sizeof(cache[slot].path), "%s", path);
		*out = &cache[slot].d;
	}
	pthread_mutex_unlock(&cache_lock);
	return err;
}

/* ---------------------------------------------------------------- area.json */

/* Find "key" inside [obj, end) and parse the number after its ':' into *v:
 * 0, 1 when the key is absent (*v untouched), -1 when its value is not a
 * finite number >= 0 (*v untouched, so a refused value is never used). */
static int json_number(const char *obj, const char *end, const char *key, double *v)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	size_t pl = strlen(pat);
	for (const char *p = obj; p + pl <= end; p++) {
		if (memcmp(p, pat, pl))
			continue;
		const char *q = p + pl;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q >= end || *q != ':')
			continue;
		char *stop;
		errno = 0;
		double x = strtod(q + 1, &stop);
		if (stop == q + 1 || errno || !isfinite(x) || x < 0)
			return -1;
		*v = x;
		return 0;
	}
	return 1;
}

/* The last area file read, kept: every accelerator job's accounting asks. */
static struct {
	char path[600];
	char *text;
} area_cache;
static pthread_mutex_t area_lock = PTHREAD_MUTEX_INITIALIZER;

static int area_json_text(const char *path, char **out)
{
	int err = 0;
	pthread_mutex_lock(&area_lock);
	if (!area_cache.text || strcmp(area_cache.path, path)) {
		char *buf = malloc(1 << 20);
		if (!buf) {
			err = qmx_fail(QMX_ENOMEM, "%s: out of memory", path);
			goto out;
		}
		if ((err = qmx_read_file(path, buf, 1 << 20))) {
			free(buf);
			goto out;
		}
		free(area_cache.text);
		area_cache.text = strdup(buf);
		free(buf);
		if (!area_cache.text) {
			err = qmx_fail(QMX_ENOMEM, "%s: out of memory", path);
			goto out;
		}
		snprintf(area_cache.path, sizeof(area_cache.path), "%s", path);
	}
	*out = strdup(area_cache.text);
	if (!*out)
		err = qmx_fail(QMX_ENOMEM, "%s: out of memory", path);
out:
	pthread_mutex_unlock(&area_lock);
	return err;
}

int qmx_area_json_read(const char *path, const char *array, struct qmx_synth_area *a)
{
	char *buf;
	int err = area_json_text(path, &buf);
	if (err)
		return err;
	err = qmx_area_json_parse(buf, path, array, a);
	free(buf);
	return err;
}

int qmx_area_json_arrays(const char *path, char (*names)[16], int cap, int *n)
{
	char *buf;
	int err = area_json_text(path, &buf), depth = 0;
	if (err)
		return err;
	*n = 0;
	/* Top-level keys of the form "<rows>x<cols>" whose value is an object. */
	for (const char *p = buf; *p; p++) {
		if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			depth--;
		} else if (*p == '"') {
			const char *q = p + 1;
			while (*q && *q != '"')
				q += *q == '\\' && q[1] ? 2 : 1;
			if (!*q)
				break;
			unsigned r, c;
			int used = 0;
			const char *colon = q + 1 + strspn(q + 1, " \t\r\n");
			if (depth == 1 && q - p - 1 < 16 && *colon == ':' &&
			    colon[1 + strspn(colon + 1, " \t\r\n")] == '{' &&
			    sscanf(p + 1, "%ux%u%n", &r, &c, &used) == 2 && p + 1 + used == q &&
			    *n < cap)
				snprintf(names[(*n)++], 16, "%ux%u", r, c);
			p = q;
		}
	}
	free(buf);
	return 0;
}

int qmx_area_json_parse(const char *buf, const char *path, const char *array,
			struct qmx_synth_area *a)
{
	char pat[48];
	snprintf(pat, sizeof(pat), "\"%s\"", array);
	const char *at = strstr(buf, pat);
	const char *open = at ? strchr(at, '{') : NULL;
	if (!open)
		return qmx_fail(QMX_ENOENT, "%s: no entry for array size %s", path, array);
	int depth = 0;
	const char *close = open;
	for (; *close; close++) {
		if (*close == '{')
			depth++;
		else if (*close == '}' && --depth == 0)
			break;
	}
	memset(a, 0, sizeof(*a));
	if (!*close || json_number(open, close, "transistors", &a->transistors) ||
	    a->transistors <= 0)
		return qmx_fail(QMX_EINVAL, "%s: %s.transistors missing or not a positive number",
				path, array);
	/* Optional, 0 when absent; present, they must be numbers >= 0. */
	if (json_number(open, close, "cells", &a->cells) < 0 ||
	    json_number(open, close, "memory_bits", &a->memory_bits) < 0 ||
	    json_number(open, close, "flipflop_bits", &a->flipflop_bits) < 0 ||
	    json_number(open, close, "bus_bits", &a->bus_bits) < 0) {
		memset(a, 0, sizeof(*a));
		return qmx_fail(QMX_EINVAL,
				"%s: %s.cells, .memory_bits, .flipflop_bits or .bus_bits is not a finite number >= 0",
				path, array);
	}
	return 0;
}
