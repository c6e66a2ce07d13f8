/* SPDX-License-Identifier: MIT */
/*
 * rapl.c - CPU package energy from RAPL through the powercap sysfs interface
 * (<sysfs>/class/powercap/intel-rapl:N/energy_uj; AMD's RAPL uses the same
 * "intel-rapl" control type).  Only top-level package domains are summed:
 * core/uncore (intel-rapl:N:M) are inside the package and psys contains it.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "energy_internal.h"
#include "qmx_backend.h"

uint64_t qmx_rapl_delta(uint64_t before, uint64_t after, uint64_t max_range)
{
	if (after >= before)
		return after - before;
	/* The counter wrapped at max_energy_range_uj (at most once between two
	 * samples; at ~200 W on a 2^32 uJ range that is ~6 hours). */
	if (max_range < before)
		return after; /* inconsistent range: count from zero */
	return (max_range - before) + after;
}

static int cmp_domain(const void *a, const void *b)
{
	return strcmp(((const struct qmx_rapl_domain *)a)->path,
		      ((const struct qmx_rapl_domain *)b)->path);
}

int qmx_rapl_open(struct qmx_rapl *r, const char *sysroot)
{
	char base[256], path[600], name[64];
	memset(r, 0, sizeof(*r));
	snprintf(base, sizeof(base), "%s/class/powercap", sysroot);
	DIR *dir = opendir(base);
	if (!dir)
		return qmx_fail(QMX_ENOENT, "RAPL: no %s (no powercap driver: not x86, or a VM)",
				base);
	struct dirent *de;
	int err = 0, denied = 0, seen = 0;
	char denied_path[600] = "";
	while ((de = readdir(dir))) {
		unsigned idx;
		char tail;
		/* intel-rapl:N only; intel-rapl:N:M are sub-domains. */
		if (sscanf(de->d_name, "intel-rapl:%u%c", &idx, &tail) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s/name", base, de->d_name);
		if (qmx_read_file(path, name, sizeof(name)))
			continue;
		name[strcspn(name, "\n")] = '\0';
		if (strncmp(name, "package", 7))
			continue; /* psys (whole SoC) or dram at top level */
		seen++;
		if (r->n == QMX_RAPL_MAX_DOMAINS)
			break;
		struct qmx_rapl_domain *d = &r->d[r->n];
		snprintf(d->name, sizeof(d->name), "%.31s", name);
		snprintf(path, sizeof(path), "%s/%s/max_energy_range_uj", base, de->d_name);
		if ((err = qmx_read_u64(path, &d->max_range_uj)))
			goto fail;
		snprintf(d->path, sizeof(d->path), "%s/%s/energy_uj", base, de->d_name);
		err = qmx_read_u64(d->path, &d->last_uj);
		if (err == QMX_EPERM) {
			denied++;
			snprintf(denied_path, sizeof(denied_path), "%s", d->path);
			continue;
		}
		if (err)
			goto fail;
		r->n++;
	}
	closedir(dir);
	if (denied)
		return qmx_fail(QMX_EPERM,
				"RAPL: %s exists but is readable by root only (kernels restrict energy_uj since CVE-2020-8694); run as root, or grant read access (e.g. a udev rule or `chmod o+r` on the energy_uj files) — until then energy is modelled",
				denied_path);
	if (!seen)
		return qmx_fail(QMX_ENOENT, "RAPL: no package domain under %s", base);
	qsort(r->d, (size_t)r->n, sizeof(r->d[0]), cmp_domain);
	return 0;
fail:
	closedir(dir);
	r->n = 0;
	return err;
}

int qmx_rapl_sample(struct qmx_rapl *r, double *joules)
{
	uint64_t total = 0;
	for (int i = 0; i < r->n; i++) {
		uint64_t now;
		int err = qmx_read_u64(r->d[i].path, &now);
		if (err)
			return err;
		total += qmx_rapl_delta(r->d[i].last_uj, now, r->d[i].max_range_uj);
		r->d[i].last_uj = now;
	}
	*joules = (double)total * 1e-6;
	return 0;
}
