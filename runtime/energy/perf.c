/* SPDX-License-Identifier: MIT */
/*
 * perf.c - CPU package energy from perf's "power" PMU (power/energy-pkg/),
 * for kernels that expose RAPL to perf but not through powercap.  The event
 * is system-wide, so it needs CAP_PERFMON or perf_event_paranoid <= 0.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "energy_internal.h"
#include "qmx_backend.h"

int qmx_perf_power_describe(struct qmx_perf_power *p, const char *sysroot)
{
	char path[320], buf[128];
	uint64_t type;
	int err;

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < QMX_PERF_MAX_PKGS; i++)
		p->fd[i] = -1;
	snprintf(path, sizeof(path), "%s/bus/event_source/devices/power/type", sysroot);
	if ((err = qmx_read_u64(path, &type)))
		return qmx_fail(err, "perf: no power PMU (%s)", path);
	if (type > 0x7fffffff)
		return qmx_fail(QMX_EINVAL, "perf: %s: type %llu out of range", path,
				(unsigned long long)type);
	p->type = (int)type;
	/* The package counter is read on one CPU per package: the cpumask
	 * ("0" or "0,64"; ranges "0-1" do not occur for uncore PMUs). */
	snprintf(path, sizeof(path), "%s/bus/event_source/devices/power/cpumask", sysroot);
	if (qmx_read_file(path, buf, sizeof(buf)) == 0) {
		char *q = buf, *end;
		while (*q && *q != '\n' && p->n < QMX_PERF_MAX_PKGS) {
			long cpu = strtol(q, &end, 10);
			if (end == q || cpu < 0 || cpu > 65535)
				return qmx_fail(QMX_EINVAL, "perf: %s: '%s' is not a CPU list", path,
						buf);
			p->cpus[p->n++] = (int)cpu;
			q = *end == ',' || *end == '-' ? end + 1 : end;
		}
	}
	if (!p->n)
		p->cpus[p->n++] = 0;
	snprintf(path, sizeof(path), "%s/bus/event_source/devices/power/events/energy-pkg",
		 sysroot);
	if ((err = qmx_read_file(path, buf, sizeof(buf))))
		return qmx_fail(err, "perf: power PMU has no energy-pkg event (%s)", path);
	unsigned long long code;
	if (sscanf(buf, "event=%llx", &code) != 1)
		return qmx_fail(QMX_EINVAL, "perf: %s: '%s' is not 'event=0xNN'", path, buf);
	p->config = code;
	snprintf(path, sizeof(path),
		 "%s/bus/event_source/devices/power/events/energy-pkg.scale", sysroot);
	if ((err = qmx_read_file(path, buf, sizeof(buf))))
		return err;
	char *end;
	p->scale = strtod(buf, &end);
	if (end == buf || !(p->scale > 0) || p->scale > 1)
		return qmx_fail(QMX_EINVAL, "perf: %s: scale '%s' not in (0, 1] J", path, buf);
	return 0;
}

int qmx_perf_power_open(struct qmx_perf_power *p)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (uint32_t)p->type;
	attr.config = p->config;
	for (int i = 0; i < p->n; i++) {
		int fd = (int)syscall(SYS_perf_event_open, &attr, -1, p->cpus[i], -1, 0);
		if (fd < 0) {
			int e = errno;
			qmx_perf_power_close(p);
			if (e == EACCES || e == EPERM)
				return qmx_fail(QMX_EPERM,
						"perf: power/energy-pkg/ needs CAP_PERFMON or /proc/sys/kernel/perf_event_paranoid <= 0 (%s)",
						strerror(e));
			return qmx_fail(QMX_ENOTSUP,
					"perf: perf_event_open(power/energy-pkg/, cpu %d): %s",
					p->cpus[i], strerror(e));
		}
		p->fd[i] = fd;
	}
	double j;
	return qmx_perf_power_sample(p, &j);
}

int qmx_perf_power_sample(struct qmx_perf_power *p, double *joules)
{
	double sum = 0;
	for (int i = 0; i < p->n; i++) {
		uint64_t v;
		if (read(p->fd[i], &v, sizeof(v)) != (ssize_t)sizeof(v))
			return qmx_fail(QMX_EIO, "perf: reading power/energy-pkg/: %s",
					strerror(errno));
		sum += (double)(v - p->last[i]) * p->scale; /* 64-bit count: no wrap */
		p->last[i] = v;
	}
	*joules = sum;
	return 0;
}

void qmx_perf_power_close(struct qmx_perf_power *p)
{
	for (int i = 0; i < QMX_PERF_MAX_PKGS; i++) {
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		p->fd[i] = -1;
	}
}
