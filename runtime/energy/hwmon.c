/* SPDX-License-Identifier: MIT */
/*
 * hwmon.c - energy of a chip with an hwmon interface (accelerator cards, our
 * own driver's hwmon "qmx"): energy1_input in microjoules when present, else
 * power1_input in microwatts integrated between samples.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "energy_internal.h"
#include "qmx_backend.h"

int qmx_hwmon_open(struct qmx_hwmon *h, const char *sysroot, const char *name)
{
	char base[256], path[600], buf[64];
	memset(h, 0, sizeof(*h));
	snprintf(base, sizeof(base), "%s/class/hwmon", sysroot);
	DIR *dir = opendir(base);
	if (!dir)
		return qmx_fail(QMX_ENOENT, "hwmon: no %s", base);
	struct dirent *de;
	int err = QMX_ENOENT;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "hwmon", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s/name", base, de->d_name);
		if (qmx_read_file(path, buf, sizeof(buf)))
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, name))
			continue;
		snprintf(h->dir, sizeof(h->dir), "%s/%s", base, de->d_name);
		snprintf(h->name, sizeof(h->name), "%s", name);
		/* Our driver labels a counter-based energy "modelled": then a
		 * power sensor, when there is one, is the measured figure. */
		char label[64] = "", ppath[600];
		snprintf(path, sizeof(path), "%s/energy1_label", h->dir);
		if (qmx_read_file(path, label, sizeof(label)) == 0 && strstr(label, "model"))
			h->modelled = true;
		snprintf(ppath, sizeof(ppath), "%s/power1_input", h->dir);
		snprintf(path, sizeof(path), "%s/energy1_input", h->dir);
		bool use_energy = access(path, F_OK) == 0;
		if (h->modelled && access(ppath, F_OK) == 0) {
			use_energy = false; /* the power sensor is measured */
			h->modelled = false;
		}
		if (use_energy) {
			h->energy = true;
			err = qmx_read_u64(path, &h->last);
		} else {
			/* Some drivers (e.g. GPUs) only have power1_average. */
			snprintf(h->power_file, sizeof(h->power_file), "power1_input");
			snprintf(path, sizeof(path), "%s/power1_input", h->dir);
			if (access(path, F_OK) != 0) {
				snprintf(h->power_file, sizeof(h->power_file), "power1_average");
				snprintf(path, sizeof(path), "%s/power1_average", h->dir);
			}
			if (access(path, F_OK) != 0) {
				err = qmx_fail(QMX_ENOENT,
					       "hwmon: %s (%s) has neither energy1_input nor power1_input/power1_average",
					       name, h->dir);
				continue;
			}
			err = qmx_read_u64(path, &h->last);
		}
		if (err == QMX_EPERM)
			qmx_fail(QMX_EPERM, "hwmon: %s is not readable by this user", path);
		break;
	}
	closedir(dir);
	if (err == QMX_ENOENT && !h->dir[0])
		return qmx_fail(QMX_ENOENT, "hwmon: no chip named '%s' under %s", name, base);
	return err;
}

int qmx_hwmon_sample(struct qmx_hwmon *h, uint64_t now_ns, double *joules)
{
	char path[560];
	uint64_t v;
	snprintf(path, sizeof(path), "%s/%s", h->dir, h->energy ? "energy1_input" : h->power_file);
	int err = qmx_read_u64(path, &v);
	if (err)
		return err;
	if (h->energy) {
		/* 64-bit microjoule counter in sysfs: no wrap in practice; a
		 * reset (driver reload) reads as a smaller value: count from 0. */
		*joules = (double)(v >= h->last ? v - h->last : v) * 1e-6;
	} else {
		double dt = h->last_ns && now_ns > h->last_ns ? (now_ns - h->last_ns) * 1e-9 : 0;
		*joules = 0.5 * ((double)h->last + (double)v) * 1e-6 * dt;
	}
	h->last = v;
	h->last_ns = now_ns;
	return 0;
}
