/* SPDX-License-Identifier: MIT */
/*
 * journal.c - the job journal: with $QMX_STATS_FILE set, every finished job
 * appends one line with its device and stats to that file, so `qmx exporter`
 * can count the jobs of devices that live inside other processes (sim, cpu,
 * opencl...), which no kernel driver counts.  One write() per line on an
 * O_APPEND descriptor: lines of concurrent processes do not interleave.
 * Format (docs/telemetry.md): "qmx-job 1" then key=value fields.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "energy_internal.h"
#include "qmx_backend.h"

static const char *source_name(int32_t s)
{
	return s == QMX_ENERGY_MEASURED ? "measured" : s == QMX_ENERGY_MODELLED ? "modelled" : "none";
}

void qmx_journal_job(const qmx_device *dev, const qmx_job_stats *st, double grid_g_per_kwh)
{
	const char *path = getenv("QMX_STATS_FILE");
	char uri[sizeof(dev->info.uri)], line[1024];
	if (!path || !*path)
		return;
	/* Fields are space-separated: a URI keeps no blanks. */
	snprintf(uri, sizeof(uri), "%s", dev->info.uri);
	for (char *p = uri; *p; p++)
		if (*p <= ' ')
			*p = '_';
	int n = snprintf(line, sizeof(line),
			 "qmx-job 1 device=%s backend=%s device_ns=%" PRIu64 " cycles=%" PRIu64
			 " macs=%" PRIu64 " ext_read=%" PRIu64 " ext_written=%" PRIu64
			 " sram_read=%" PRIu64 " sram_written=%" PRIu64
			 " source=%s energy_j=%.17g operational_g=%.17g embodied_g=%.17g"
			 " grid_g_per_kwh=%.17g\n",
			 uri, dev->info.backend, st->device_ns, st->cycles, st->macs,
			 st->ext_bytes_read, st->ext_bytes_written, st->sram_bytes_read,
			 st->sram_bytes_written, source_name(st->energy_source), st->energy_j,
			 st->carbon_operational_g, st->carbon_embodied_g, grid_g_per_kwh);
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	/* The journal must never fail a job: errors are dropped. */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	ssize_t w;
	do
		w = write(fd, line, (size_t)n);
	while (w < 0 && errno == EINTR);
	close(fd);
}
