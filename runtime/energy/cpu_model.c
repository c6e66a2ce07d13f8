/* SPDX-License-Identifier: MIT */
/*
 * cpu_model.c - the declared CPU power model used when no counter is
 * readable (CodeCarbon's approach): CPU time x TDP / hardware threads, TDP
 * from hw/energy/cpu_tdp.ini keyed on /proc/cpuinfo's model name, or
 * $QMX_CPU_TDP_W; DRAM energy by bytes touched.  Also /proc/stat for the
 * Scaphandre-style attribution of measured energy.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "energy_internal.h"
#include "qmx_backend.h"

/* The model name, cached per procfs root: per-job accounting asks often
 * and /proc/cpuinfo is long on big machines. */
static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;
static char model_root[300], model_name[128];

static void cpuinfo_model(char *out, size_t len)
{
	char path[300], *buf;
	pthread_mutex_lock(&model_lock);
	if (model_name[0] && !strcmp(model_root, qmx_procfs_root())) {
		snprintf(out, len, "%s", model_name);
		pthread_mutex_unlock(&model_lock);
		return;
	}
	pthread_mutex_unlock(&model_lock);
	snprintf(out, len, "unknown CPU");
	if (!(buf = malloc(1 << 18)))
		return;
	snprintf(path, sizeof(path), "%s/cpuinfo", qmx_procfs_root());
	if (qmx_read_file(path, buf, 1 << 18) == 0) {
		char *p = strstr(buf, "model name");
		if (p && (p = strchr(p, ':'))) {
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			size_t n = strcspn(p, "\n");
			snprintf(out, len, "%.*s", (int)n, p);
		}
	}
	free(buf);
	pthread_mutex_lock(&model_lock);
	snprintf(model_root, sizeof(model_root), "%s", qmx_procfs_root());
	snprintf(model_name, sizeof(model_name), "%s", out);
	pthread_mutex_unlock(&model_lock);
}

static long online_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

int qmx_cpu_model_get(struct qmx_cpu_model *m)
{
	const struct qmx_data *d;
	memset(m, 0, sizeof(*m));
	cpuinfo_model(m->model, sizeof(m->model));

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
		snprintf(m->detail, sizeof(m->detail),
			 "TDP %.0f W from QMX_CPU_TDP_W / %ld online threads", tdp, n);
		return 0;
	}
	int err = qmx_data_get("cpu_tdp.ini", &d);
	if (err)
		return err;
	for (size_t i = 0; i < d->n; i++) {
		const struct qmx_data_entry *e = &d->e[i];
		if (strcmp(e->section, "cpu_tdp") || !strstr(m->model, e->key))
			continue;
		if (e->n != 2 || !(e->v[0] > 0) || !(e->v[1] >= 1))
			return qmx_fail(QMX_EINVAL,
					"%s: [cpu_tdp] \"%s\" needs 'TDP watts > 0, threads >= 1'",
					d->path, e->key);
		m->watts_per_thread = e->v[0] / e->v[1];
		snprintf(m->detail, sizeof(m->detail), "TDP %.0f W / %.0f threads (%s), cpu_tdp.ini",
			 e->v[0], e->v[1], e->key);
		return 0;
	}
	if ((err = qmx_data_value(d, "default", "watts_per_thread", 0, &m->watts_per_thread)))
		return err;
	snprintf(m->detail, sizeof(m->detail),
		 "'%.60s' not in cpu_tdp.ini: assumed %.2f W per thread (set QMX_CPU_TDP_W)",
		 m->model, m->watts_per_thread);
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
