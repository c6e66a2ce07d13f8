/* SPDX-License-Identifier: MIT */
/*
 * cpu_model.c - the declared CPU power model used when no counter is
 * readable (CodeCarbon's approach): CPU time x TDP / hardware threads, TDP
 * from hw/energy/cpu_tdp.ini by /proc/cpuinfo's model name, else its CPUID
 * vendor, family and model, or $QMX_CPU_TDP_W; DRAM energy by bytes touched.  Also /proc/stat for the
 * Scaphandre-style attribution of measured energy.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "energy_internal.h"
#include "qmx_backend.h"

/* The CPU's identity, cached per procfs root: per-job accounting asks often
 * and /proc/cpuinfo is long on big machines. */
struct cpu_id {
	char name[128], vendor[16];
	int family, model;
};
static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;
static char model_root[300];
static struct cpu_id cached;

/* Value of the first "key<spaces>: value" line of the first processor. */
static bool cpuinfo_field(const char *buf, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);
	for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (*p == '\n')
			return false; /* end of the first processor's block */
		if (strncmp(p, key, kl))
			continue;
		const char *c = p + kl + strspn(p + kl, " \t"); /* "model" is not "model name" */
		if (*c != ':')
			continue;
		c += 1 + strspn(c + 1, " \t");
		snprintf(out, len, "%.*s", (int)strcspn(c, "\n"), c);
		return true;
	}
	return false;
}

static void cpuinfo_id(struct cpu_id *id)
{
	char path[300], num[32], *buf;
	pthread_mutex_lock(&model_lock);
	if (cached.name[0] && !strcmp(model_root, qmx_procfs_root())) {
		*id = cached;
		pthread_mutex_unlock(&model_lock);
		return;
	}
	pthread_mutex_unlock(&model_lock);
	memset(id, 0, sizeof(*id));
	snprintf(id->name, sizeof(id->name), "unknown CPU");
	id->family = id->model = -1;
	if (!(buf = malloc(1 << 18)))
		return;
	snprintf(path, sizeof(path), "%s/cpuinfo", qmx_procfs_root());
	if (qmx_read_file(path, buf, 1 << 18) == 0) {
		cpuinfo_field(buf, "model name", id->name, sizeof(id->name));
		cpuinfo_field(buf, "vendor_id", id->vendor, sizeof(id->vendor));
		if (cpuinfo_field(buf, "cpu family", num, sizeof(num)))
			id->family = atoi(num);
		if (cpuinfo_field(buf, "model", num, sizeof(num)))
			id->model = atoi(num);
	}
	free(buf);
	pthread_mutex_lock(&model_lock);
	snprintf(model_root, sizeof(model_root), "%s", qmx_procfs_root());
	cached = *id;
	pthread_mutex_unlock(&model_lock);
}

static long online_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* CPUID vendor of a [cpu_tdp] row, from its name. */
static const char *row_vendor(const char *key)
{
	return !strncmp(key, "AMD", 3) ? "AuthenticAMD" : !strncmp(key, "Intel", 5) ? "GenuineIntel" : "";
}

static int row_check(const struct qmx_data *d, const struct qmx_data_entry *e)
{
	if (e->n != 4 || !(e->v[0] > 0) || !(e->v[1] >= 1))
		return qmx_fail(QMX_EINVAL,
				"%s: [cpu_tdp] \"%s\" needs 'TDP watts > 0, threads >= 1, CPUID family, model'",
				d->path, e->key);
	return 0;
}

int qmx_cpu_model_get(struct qmx_cpu_model *m)
{
	const struct qmx_data *d;
	struct cpu_id id;
	char key[48];
	int err;
	memset(m, 0, sizeof(*m));
	cpuinfo_id(&id);
	snprintf(m->model, sizeof(m->model), "%s", id.name);
	snprintf(m->vendor, sizeof(m->vendor), "%s", id.vendor);
	m->family = id.family;
	m->cpuid_model = id.model;

	const char *env = getenv("QMX_CPU_TDP_W");
	if (env && *env) {
		char *end;
		errno = 0;
		double tdp = strtod(env, &end);
		if (errno || *end || !(tdp > 0) || tdp > 2000)
			return qmx_fail(QMX_EINVAL,
					"QMX_CPU_TDP_W '%s' must be a number of watts in (0, 2000]", env);
		long n = online_threads();
		m->watts_per_thread = tdp / (double)n;
		snprintf(m->match, sizeof(m->match), "QMX_CPU_TDP_W");
		snprintf(m->detail, sizeof(m->detail),
			 "TDP %.0f W from QMX_CPU_TDP_W / %ld online threads", tdp, n);
		return 0;
	}
	if ((err = qmx_data_get("cpu_tdp.ini", &d)))
		return err;
	/* 1. The model name names a row. */
	for (size_t i = 0; i < d->n; i++) {
		const struct qmx_data_entry *e = &d->e[i];
		if (strcmp(e->section, "cpu_tdp") || !strstr(m->model, e->key))
			continue;
		if ((err = row_check(d, e)))
			return err;
		m->watts_per_thread = e->v[0] / e->v[1];
		snprintf(m->match, sizeof(m->match), "model name");
		snprintf(m->detail, sizeof(m->detail),
			 "%.2f W/thread: TDP %.0f W / %.0f threads of \"%s\" (model name), cpu_tdp.ini",
			 m->watts_per_thread, e->v[0], e->v[1], e->key);
		return 0;
	}
	/* 2. Rows of the same CPUID vendor, family and model: their median. */
	double w[32];
	int n = 0;
	char first[64] = "";
	for (size_t i = 0; i < d->n && n < 32 && id.family >= 0; i++) {
		const struct qmx_data_entry *e = &d->e[i];
		if (strcmp(e->section, "cpu_tdp"))
			continue;
		if ((err = row_check(d, e)))
			return err;
		if (strcmp(row_vendor(e->key), id.vendor) || (int)e->v[2] != id.family ||
		    (int)e->v[3] != id.model)
			continue;
		if (!n)
			snprintf(first, sizeof(first), "%s", e->key);
		w[n++] = e->v[0] / e->v[1];
	}
	if (n) {
		qsort(w, (size_t)n, sizeof(w[0]), cmp_double);
		m->watts_per_thread = n % 2 ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2]);
		snprintf(m->match, sizeof(m->match), "cpuid");
		snprintf(m->detail, sizeof(m->detail),
			 "%.2f W/thread: '%.40s' is CPUID %s family %d model %d, median of %d cpu_tdp.ini row(s) (\"%s\"...)",
			 m->watts_per_thread, m->model, id.vendor, id.family, id.model, n, first);
		return 0;
	}
	/* 3. The vendor's family. */
	snprintf(key, sizeof(key), "%s %d", id.vendor, id.family);
	const struct qmx_data_entry *e = id.vendor[0] ? qmx_data_find(d, "family", key) : NULL;
	if (e && e->n == 2 && e->v[0] > 0 && e->v[1] >= 1) {
		const char *src = strstr(e->source, "; "); /* "unit; source": the source */
		m->watts_per_thread = e->v[0] / e->v[1];
		snprintf(m->match, sizeof(m->match), "family");
		snprintf(m->detail, sizeof(m->detail),
			 "%.2f W/thread: '%.40s' (CPUID %s family %d model %d) by its family: %.250s",
			 m->watts_per_thread, m->model, id.vendor, id.family, id.model,
			 src ? src + 2 : e->source);
		return 0;
	}
	/* 4. The vendor. */
	if (id.vendor[0] && (e = qmx_data_find(d, "vendor", id.vendor)) && e->v[0] > 0) {
		const char *src = strstr(e->source, "; ");
		m->watts_per_thread = e->v[0];
		snprintf(m->match, sizeof(m->match), "vendor");
		snprintf(m->detail, sizeof(m->detail),
			 "%.2f W/thread: '%.40s' (CPUID %s family %d model %d) not in cpu_tdp.ini: %.100s (set QMX_CPU_TDP_W)",
			 m->watts_per_thread, m->model, id.vendor, id.family, id.model,
			 src ? src + 2 : e->source);
		return 0;
	}
	if ((err = qmx_data_value(d, "default", "watts_per_thread", 0, &m->watts_per_thread)))
		return err;
	snprintf(m->match, sizeof(m->match), "default");
	snprintf(m->detail, sizeof(m->detail),
		 "%.2f W/thread: '%.60s' (vendor '%s') not in cpu_tdp.ini: the table's median (set QMX_CPU_TDP_W)",
		 m->watts_per_thread, m->model, id.vendor);
	return 0;
}

int qmx_proc_stat_busy(uint64_t *busy, uint64_t *total)
{
	char path[300], buf[512];
	snprintf(path, sizeof(path), "%s/stat", qmx_procfs_root());
	int err = qmx_read_file(path, buf, sizeof(buf));
	if (err)
		return err;
	unsigned long long v[8] = { 0 };
	if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
		return qmx_fail(QMX_EIO, "%s: first line is not 'cpu user nice system idle ...'",
				path);
	/* user nice system idle iowait irq softirq steal */
	*busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	*total = *busy + v[3] + v[4];
	return 0;
}

int qmx_dram_j_per_byte(double *j)
{
	const struct qmx_data *d;
	double pj64;
	int err = qmx_data_get("actions.ini", &d);
	if (!err)
		err = qmx_data_value(d, "horowitz45", "dram_64bit", 0, &pj64);
	if (err)
		return err;
	*j = pj64 / 8.0 * 1e-12;
	return 0;
}
