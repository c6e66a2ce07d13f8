/* SPDX-License-Identifier: MIT */
/*
 * meter.c - qmx_meter: joules over an interval, measured (RAPL, perf, hwmon)
 * or modelled (TDP x CPU time), with the process's share of a measured
 * package attributed as Scaphandre and Kepler do: energy x (this process's CPU
 * time / all busy CPU time in the interval, from /proc/stat).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "energy_internal.h"
#include "qmx_backend.h"

enum meter_kind { M_RAPL, M_PERF, M_HWMON, M_MODEL, M_JOBS };

struct qmx_meter {
	enum meter_kind kind;
	char method[32];
	char why[200]; /* why a fallback was taken */
	struct qmx_rapl rapl;
	struct qmx_perf_power perf;
	struct qmx_hwmon hwmon;
	struct qmx_cpu_model cpu;
	bool running;
	uint64_t t0_ns, cpu0_ns, busy0, total0;
	bool have_stat;
	double jobs_j, jobs_emb_g, dram_bytes;
	int jobs, jobs_measured;
	/* Host meters: jobs on devices inside the interval. */
	uint64_t sim_wall_ns, sim_cpu_ns, sim_device_ns, held_ns;
};

static int meter_cpu(qmx_meter *m, bool force_model)
{
	const char *sys = qmx_sysfs_root();
	char rapl_why[200] = "", perf_why[200] = "";
	if (!force_model) {
		if (qmx_rapl_open(&m->rapl, sys) == 0 && m->rapl.n > 0) {
			m->kind = M_RAPL;
			snprintf(m->method, sizeof(m->method), "rapl");
			return 0;
		}
		snprintf(rapl_why, sizeof(rapl_why), "%s", qmx_last_error());
		if (qmx_perf_power_describe(&m->perf, sys) == 0 &&
		    qmx_perf_power_open(&m->perf) == 0) {
			m->kind = M_PERF;
			snprintf(m->method, sizeof(m->method), "perf");
			return 0;
		}
		snprintf(perf_why, sizeof(perf_why), "%s", qmx_last_error());
		snprintf(m->why, sizeof(m->why), "%.100s; %.95s", rapl_why, perf_why);
	} else {
		snprintf(m->why, sizeof(m->why), "model requested");
	}
	int err = qmx_cpu_model_get(&m->cpu);
	if (err)
		return err;
	m->kind = M_MODEL;
	snprintf(m->method, sizeof(m->method), "model:tdp");
	return 0;
}

QMX_API int qmx_meter_new(const char *what, qmx_meter **out)
{
	if (!out)
		return qmx_fail(QMX_EINVAL, "qmx_meter_new: out is NULL");
	*out = NULL;
	if (!what || !*what)
		what = "auto";
	qmx_meter *m = calloc(1, sizeof(*m));
	if (!m)
		return qmx_fail(QMX_ENOMEM, "qmx_meter_new: out of memory");
	for (int i = 0; i < QMX_PERF_MAX_PKGS; i++)
		m->perf.fd[i] = -1;
	int err = 0;
	if (!strcmp(what, "cpu") || !strcmp(what, "auto") || !strncmp(what, "cpu:", 4) ||
	    !strcmp(what, "cpu-ref")) {
		err = meter_cpu(m, false);
	} else if (!strcmp(what, "model")) {
		err = meter_cpu(m, true);
	} else if (!strncmp(what, "hwmon:", 6)) {
		err = qmx_hwmon_open(&m->hwmon, qmx_sysfs_root(), what + 6);
		m->kind = M_HWMON;
		snprintf(m->method, sizeof(m->method), "hwmon:%.24s", what + 6);
	} else {
		m->kind = M_JOBS; /* an accelerator: the jobs carry their energy */
		snprintf(m->method, sizeof(m->method), "jobs");
	}
	if (err) {
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

static int sample(qmx_meter *m, uint64_t now, double *j)
{
	*j = 0;
	switch (m->kind) {
	case M_RAPL: return qmx_rapl_sample(&m->rapl, j);
	case M_PERF: return qmx_perf_power_sample(&m->perf, j);
	case M_HWMON: return qmx_hwmon_sample(&m->hwmon, now, j);
	default: return 0;
	}
}

QMX_API int qmx_meter_start(qmx_meter *m)
{
	double j;
	if (!m)
		return qmx_fail(QMX_EINVAL, "qmx_meter_start: meter is NULL");
	m->jobs_j = m->jobs_emb_g = m->dram_bytes = 0;
	m->jobs = m->jobs_measured = 0;
	m->sim_wall_ns = m->sim_cpu_ns = m->sim_device_ns = m->held_ns = 0;
	m->have_stat = qmx_proc_stat_busy(&m->busy0, &m->total0) == 0;
	int err = sample(m, qmx_now_ns(), &j);
	if (err)
		return err;
	/* Last, so the meter's own reading of /proc and /sys is not metered. */
	m->t0_ns = qmx_now_ns();
	m->cpu0_ns = qmx_process_cpu_ns();
	m->running = true;
	return 0;
}

QMX_API int qmx_meter_add_job(qmx_meter *m, const qmx_job_stats *st)
{
	if (!m || !st)
		return qmx_fail(QMX_EINVAL, "qmx_meter_add_job: %s is NULL", !m ? "meter" : "stats");
	if (!m->running)
		return qmx_fail(QMX_EINVAL, "qmx_meter_add_job: meter not started");
	if (m->kind == M_JOBS) {
		m->jobs_j += st->energy_j;
		m->jobs_emb_g += st->carbon_embodied_g;
		m->jobs++;
		m->jobs_measured += st->energy_source == QMX_ENERGY_MEASURED;
	} else if (st->flags & QMX_JOB_DEVICE) {
		/* The host waits (one thread held) while the device runs; a
		 * simulated device's host time is the simulator's. */
		m->held_ns += st->device_ns;
		if (st->flags & QMX_JOB_SIMULATED) {
			m->sim_wall_ns += st->sim_wall_ns;
			m->sim_cpu_ns += st->sim_cpu_ns;
			m->sim_device_ns += st->device_ns;
		}
	} else {
		m->dram_bytes += (double)(st->ext_bytes_read + st->ext_bytes_written);
	}
	return 0;
}

QMX_API int qmx_meter_stop(qmx_meter *m, qmx_energy_reading *r)
{
	qmx_carbon_config cfg;
	double domain;
	if (!m || !r)
		return qmx_fail(QMX_EINVAL, "qmx_meter_stop: %s is NULL", !m ? "meter" : "reading");
	if (!m->running)
		return qmx_fail(QMX_EINVAL, "qmx_meter_stop: meter not started");
	uint64_t now = qmx_now_ns();
	int err = sample(m, now, &domain);
	if (err)
		return err;
	m->running = false;
	memset(r, 0, sizeof(*r));
	snprintf(r->method, sizeof(r->method), "%s", m->method);
	r->seconds = (now - m->t0_ns) * 1e-9;
	r->cpu_seconds = (qmx_process_cpu_ns() - m->cpu0_ns) * 1e-9;
	if ((err = qmx_carbon_config_get(&cfg)))
		return err;
	r->grid_g_per_kwh = cfg.grid_g_per_kwh;
	r->pue = cfg.pue;
	/* The system as it would run: the simulator's host time out, the
	 * device's own time in. */
	r->sim_seconds = m->sim_wall_ns * 1e-9;
	r->sim_cpu_seconds = m->sim_cpu_ns * 1e-9;
	r->held_seconds = m->held_ns * 1e-9;
	r->seconds += (m->sim_device_ns * 1e-9) - r->sim_seconds;
	r->cpu_seconds -= r->sim_cpu_seconds;
	if (r->seconds < 0)
		r->seconds = 0;
	if (r->cpu_seconds < 0)
		r->cpu_seconds = 0;
	double dram_j = 0;
	if (m->dram_bytes > 0 && (err = qmx_dram_j_per_byte(&dram_j)))
		return err;
	dram_j *= m->dram_bytes;

	switch (m->kind) {
	case M_RAPL:
	case M_PERF:
	case M_HWMON: {
		r->source = m->kind == M_HWMON && m->hwmon.modelled ? QMX_ENERGY_MODELLED
								    : QMX_ENERGY_MEASURED;
		r->joules_domain = domain;
		r->share = 1.0;
		uint64_t busy, total;
		if (m->kind != M_HWMON && m->have_stat && qmx_proc_stat_busy(&busy, &total) == 0 &&
		    busy > m->busy0) {
			double busy_s = (double)(busy - m->busy0) / (double)sysconf(_SC_CLK_TCK);
			r->share = r->cpu_seconds / busy_s;
			if (r->share > 1)
				r->share = 1; /* jiffies are coarser than CPU-time clocks */
		}
		r->joules = domain * r->share;
		/* A package domain holds no DRAM: the modelled DRAM traffic of
		 * added CPU jobs is added, as on the model (one boundary). */
		if (m->kind != M_HWMON)
			r->joules += dram_j;
		if (m->kind == M_HWMON)
			snprintf(r->detail, sizeof(r->detail), "%s: %s (%s) %.4g J over %.3g s",
				 m->hwmon.modelled ? "modelled by the driver" : "measured",
				 m->method, m->hwmon.energy ? "energy1_input" : m->hwmon.power_file,
				 domain, r->seconds);
		else
			snprintf(r->detail, sizeof(r->detail),
				 "measured: %s %.4g J over %.3g s, process share %.1f%% of busy CPU time%s",
				 m->method, domain, r->seconds, 100 * r->share,
				 dram_j > 0 ? " + modelled DRAM bytes x Horowitz" : "");
		break;
	}
	case M_MODEL: {
		r->source = QMX_ENERGY_MODELLED;
		r->joules = r->cpu_seconds * m->cpu.watts_per_thread + dram_j;
		r->joules_domain = r->joules;
		r->share = 1.0;
		snprintf(r->detail, sizeof(r->detail),
			 "modelled: %.3g CPU-s x %.3g W/thread (%.190s)%s; no counter: %.200s",
			 r->cpu_seconds, m->cpu.watts_per_thread, m->cpu.detail,
			 m->dram_bytes > 0 ? " + DRAM bytes x Horowitz" : "", m->why);
		break;
	}
	case M_JOBS:
		r->source = m->jobs && m->jobs == m->jobs_measured ? QMX_ENERGY_MEASURED
								   : QMX_ENERGY_MODELLED;
		r->joules = r->joules_domain = m->jobs_j;
		r->share = 1.0;
		r->carbon_embodied_g = m->jobs_emb_g;
		snprintf(r->detail, sizeof(r->detail), "%d job(s): %d measured, %d modelled",
			 m->jobs, m->jobs_measured, m->jobs - m->jobs_measured);
		break;
	}
	r->carbon_operational_g = r->joules * cfg.pue / 3.6e6 * cfg.grid_g_per_kwh;
	if (m->kind != M_JOBS) {
		/* Host embodied share: M = TE x (TiR/EL) x (RR/ToR) with RR the
		 * average threads held = (cpu_seconds + held_seconds) / seconds,
		 * so M = TE x (cpu_seconds + held_seconds) / (EL x ToR): busy
		 * threads, and one thread waiting for each device job. */
		qmx_embodied emb;
		if ((err = qmx_server_embodied(&emb)))
			return err;
		r->carbon_embodied_g = emb.total_g * (r->cpu_seconds + r->held_seconds) /
				       (emb.lifetime_s * emb.resources);
	}
	return 0;
}

QMX_API const char *qmx_meter_method(const qmx_meter *m)
{
	return m ? m->method : "";
}

QMX_API void qmx_meter_del(qmx_meter *m)
{
	if (!m)
		return;
	qmx_perf_power_close(&m->perf);
	free(m);
}
