/* SPDX-License-Identifier: MIT */
/*
 * test_meters.c - the RAPL, perf and hwmon readers on fixture sysfs trees
 * (tests/energy/fixtures, copied to a temporary directory so counters can
 * move), wraparound, missing domains, permission denied, and the meter's
 * fallback to the model when nothing is readable.
 *
 * Permission denied is real EACCES from the kernel: the energy_uj file is
 * made mode 000 and the reader runs in a child that has dropped to uid/gid
 * 65534 (nobody) when the test runs as root (root ignores mode bits); as a
 * normal user the mode alone is enough.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "energy_internal.h"
#include "qmx/qmx.h"
#include "qmx_backend.h"

#define NEAR(a, b, rel) \
	assert_true(fabs((double)(a) - (double)(b)) <= (rel) * fabs((double)(b)) + 1e-12)

static char tmp[256];

/* The host server: R740 CPUs 47 kg + 432 GB DRAM by ACT + 228 DRAM packages. */
#define SERVER_G (47e3 + 432 * 65 / 0.875 + 228 * 150.0)

static void expect_msg(const char *needle)
{
	if (!strstr(qmx_last_error(), needle))
		fail_msg("message '%s' lacks '%s'", qmx_last_error(), needle);
}

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

/* Fresh copy of a fixture tree: <tmp>/<name>. */
static const char *fixture(const char *name)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	sh("rm -rf '%s' && cp -r '%s/%s' '%s' && chmod -R a+rX '%s'", path, QMX_TEST_FIXTURES,
	   name, path, tmp);
	return path;
}

static void put(const char *root, const char *rel, unsigned long long v)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%llu\n", v);
	fclose(f);
}

static void rapl_wrap(void **state)
{
	(void)state;
	/* No wrap, and a wrap at max_energy_range_uj: (max - before) + after. */
	assert_int_equal(qmx_rapl_delta(100, 250, 1000), 150);
	assert_int_equal(qmx_rapl_delta(900, 50, 1000), 150);
	assert_int_equal(qmx_rapl_delta(262143328850ULL - 1000000, 500000, 262143328850ULL),
			 1500000);
}

static void rapl_packages_only(void **state)
{
	(void)state;
	struct qmx_rapl r;
	double j;
	const char *root = fixture("rapl-two-packages");
	assert_int_equal(qmx_rapl_open(&r, root), 0);
	/* package-0 and package-1; core (intel-rapl:0:0) and psys skipped. */
	assert_int_equal(r.n, 2);
	assert_string_equal(r.d[0].name, "package-0");
	assert_string_equal(r.d[1].name, "package-1");
	put(root, "class/powercap/intel-rapl:0/energy_uj", 3000000);   /* +2 J */
	put(root, "class/powercap/intel-rapl:1/energy_uj", 2500000);   /* +0.5 J */
	put(root, "class/powercap/intel-rapl:0:0/energy_uj", 999999999); /* ignored */
	put(root, "class/powercap/intel-rapl:2/energy_uj", 99999999999ULL);  /* psys, ignored */
	assert_int_equal(qmx_rapl_sample(&r, &j), 0);
	NEAR(j, 2.5, 1e-12);
	/* package-0 wraps: from 3 J to 262143.32885 J max, then 1 J. */
	put(root, "class/powercap/intel-rapl:0/energy_uj", 1000000);
	assert_int_equal(qmx_rapl_sample(&r, &j), 0);
	NEAR(j, (262143328850.0 - 3000000 + 1000000) * 1e-6, 1e-12);
}

static void rapl_missing(void **state)
{
	(void)state;
	struct qmx_rapl r;
	assert_int_equal(qmx_rapl_open(&r, fixture("rapl-psys-only")), QMX_ENOENT);
	expect_msg("no package domain");
	assert_int_equal(qmx_rapl_open(&r, fixture("empty")), QMX_ENOENT);
	expect_msg("class/powercap");
	/* A package domain without max_energy_range_uj cannot handle wraps. */
	const char *root = fixture("rapl-two-packages");
	sh("rm '%s/class/powercap/intel-rapl:1/max_energy_range_uj'", root);
	assert_int_equal(qmx_rapl_open(&r, root), QMX_ENOENT);
	expect_msg("max_energy_range_uj");
}

static void rapl_permission_denied(void **state)
{
	(void)state;
	const char *root = fixture("rapl-two-packages");
	sh("chmod 000 '%s/class/powercap/intel-rapl:0/energy_uj' "
	   "'%s/class/powercap/intel-rapl:1/energy_uj'", root, root);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct qmx_rapl r;
		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(3);
		int err = qmx_rapl_open(&r, root);
		if (err != QMX_EPERM)
			_exit(1);
		if (!strstr(qmx_last_error(), "readable by root only") ||
		    !strstr(qmx_last_error(), "CVE-2020-8694") ||
		    !strstr(qmx_last_error(), "energy_uj"))
			_exit(2);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void perf_describe(void **state)
{
	(void)state;
	struct qmx_perf_power p;
	const char *root = fixture("perf");
	assert_int_equal(qmx_perf_power_describe(&p, root), 0);
	assert_int_equal(p.type, 23);
	assert_int_equal(p.config, 2);
	NEAR(p.scale, 2.3283064365386962890625e-10, 1e-15);
	/* Two packages: one event per package, on the cpumask's CPUs. */
	assert_int_equal(p.n, 2);
	assert_int_equal(p.cpus[0], 0);
	assert_int_equal(p.cpus[1], 64);
	sh("echo 'event=zz' > '%s/bus/event_source/devices/power/events/energy-pkg'", root);
	assert_int_equal(qmx_perf_power_describe(&p, root), QMX_EINVAL);
	expect_msg("is not 'event=0xNN'");
	assert_int_equal(qmx_perf_power_describe(&p, fixture("empty")), QMX_ENOENT);
	expect_msg("no power PMU");
}

static void hwmon_energy_and_power(void **state)
{
	(void)state;
	struct qmx_hwmon h;
	double j;
	const char *root = fixture("hwmon");
	assert_int_equal(qmx_hwmon_open(&h, root, "qmx"), 0);
	assert_true(h.energy);
	put(root, "class/hwmon/hwmon1/energy1_input", 9000000); /* +2 J */
	assert_int_equal(qmx_hwmon_sample(&h, 1, &j), 0);
	NEAR(j, 2.0, 1e-12);

	/* power1_input: 10 W then 30 W one second later -> 20 J (trapezoid). */
	assert_int_equal(qmx_hwmon_open(&h, root, "acard"), 0);
	assert_false(h.energy);
	assert_int_equal(qmx_hwmon_sample(&h, 1000000000ULL, &j), 0);
	NEAR(j, 0.0, 0);
	put(root, "class/hwmon/hwmon2/power1_input", 30000000);
	assert_int_equal(qmx_hwmon_sample(&h, 2000000000ULL, &j), 0);
	NEAR(j, 20.0, 1e-12);

	/* power1_average only (GPU-style drivers): 50 W for 0.5 s. */
	assert_int_equal(qmx_hwmon_open(&h, root, "gpu"), 0);
	assert_string_equal(h.power_file, "power1_average");
	assert_int_equal(qmx_hwmon_sample(&h, 1000000000ULL, &j), 0);
	assert_int_equal(qmx_hwmon_sample(&h, 1500000000ULL, &j), 0);
	NEAR(j, 25.0, 1e-12);

	/* Our driver's counter-based energy is labelled "modelled": read as
	 * such; with a power sensor beside it, the sensor is used instead. */
	assert_int_equal(qmx_hwmon_open(&h, root, "qmxsim"), 0);
	assert_true(h.energy);
	assert_true(h.modelled);
	assert_int_equal(qmx_hwmon_open(&h, root, "qmxcard"), 0);
	assert_false(h.energy);
	assert_false(h.modelled);
	assert_string_equal(h.power_file, "power1_input");

	assert_int_equal(qmx_hwmon_open(&h, root, "coretemp"), QMX_ENOENT);
	expect_msg("neither energy1_input nor power1_input/power1_average");
	assert_int_equal(qmx_hwmon_open(&h, root, "nosuch"), QMX_ENOENT);
	expect_msg("no chip named 'nosuch'");
}

static void meter_fallback_to_model(void **state)
{
	(void)state;
	qmx_meter *m;
	qmx_energy_reading r;
	setenv("QMX_SYSFS_ROOT", fixture("empty"), 1);
	setenv("QMX_PROCFS_ROOT", fixture("proc-xeon"), 1);
	assert_int_equal(qmx_meter_new("cpu", &m), 0);
	assert_string_equal(qmx_meter_method(m), "model:tdp");
	assert_int_equal(qmx_meter_start(m), 0);
	volatile double x = 0;
	for (int i = 0; i < 3000000; i++)
		x += i * 0.5;
	assert_true(x > 0); /* burn some CPU time to meter */
	assert_int_equal(qmx_meter_stop(m, &r), 0);
	assert_int_equal(r.source, QMX_ENERGY_MODELLED);
	/* Xeon Gold 6130 from cpu_tdp.ini: 125 W / 32 threads. */
	NEAR(r.joules, r.cpu_seconds * 125.0 / 32.0, 1e-9);
	assert_non_null(strstr(r.detail, "RAPL"));
	assert_non_null(strstr(r.detail, "Xeon(R) Gold 6130"));
	NEAR(r.carbon_operational_g, r.joules / 3.6e6 * 475, 1e-9);
	qmx_meter_del(m);

	setenv("QMX_CPU_TDP_W", "-5", 1);
	assert_int_equal(qmx_meter_new("cpu", &m), QMX_EINVAL);
	expect_msg("QMX_CPU_TDP_W '-5' must be a number of watts in (0, 2000]");
	unsetenv("QMX_CPU_TDP_W");
}

static void meter_rapl_measured(void **state)
{
	(void)state;
	qmx_meter *m;
	qmx_energy_reading r;
	char root[512];
	snprintf(root, sizeof(root), "%s", fixture("rapl-two-packages"));
	setenv("QMX_SYSFS_ROOT", root, 1);
	setenv("QMX_PROCFS_ROOT", fixture("proc-xeon"), 1); /* fixture() reuses its buffer */
	assert_int_equal(qmx_meter_new("auto", &m), 0);
	assert_string_equal(qmx_meter_method(m), "rapl");
	assert_int_equal(qmx_meter_start(m), 0);
	put(root, "class/powercap/intel-rapl:0/energy_uj", 5000000); /* +4 J */
	assert_int_equal(qmx_meter_stop(m, &r), 0);
	assert_int_equal(r.source, QMX_ENERGY_MEASURED);
	NEAR(r.joules_domain, 4.0, 1e-12);
	/* The fixture /proc/stat does not move: no busy time, so the whole
	 * domain is attributed (share 1). */
	NEAR(r.share, 1.0, 0);
	NEAR(r.joules, 4.0, 1e-12);
	qmx_meter_del(m);

	/* An hwmon meter on a driver-modelled energy says modelled. */
	snprintf(root, sizeof(root), "%s", fixture("hwmon"));
	setenv("QMX_SYSFS_ROOT", root, 1);
	assert_int_equal(qmx_meter_new("hwmon:qmxsim", &m), 0);
	assert_int_equal(qmx_meter_start(m), 0);
	put(root, "class/hwmon/hwmon4/energy1_input", 1500000);
	assert_int_equal(qmx_meter_stop(m, &r), 0);
	assert_int_equal(r.source, QMX_ENERGY_MODELLED);
	NEAR(r.joules, 0.5, 1e-12);
	assert_non_null(strstr(r.detail, "modelled by the driver"));
	qmx_meter_del(m);

	/* An explicit hwmon meter for a missing chip fails, naming it. */
	assert_int_equal(qmx_meter_new("hwmon:nosuch", &m), QMX_ENOENT);
	unsetenv("QMX_SYSFS_ROOT");
	unsetenv("QMX_PROCFS_ROOT");
}

static void meter_jobs(void **state)
{
	(void)state;
	qmx_meter *m;
	qmx_energy_reading r;
	qmx_job_stats st;
	memset(&st, 0, sizeof(st));
	assert_int_equal(qmx_meter_new("sim", &m), 0);
	assert_int_equal(qmx_meter_add_job(m, &st), QMX_EINVAL);
	expect_msg("meter not started");
	assert_int_equal(qmx_meter_start(m), 0);
	st.energy_j = 1.5;
	st.energy_source = QMX_ENERGY_MODELLED;
	st.carbon_embodied_g = 0.25;
	assert_int_equal(qmx_meter_add_job(m, &st), 0);
	assert_int_equal(qmx_meter_add_job(m, &st), 0);
	assert_int_equal(qmx_meter_stop(m, &r), 0);
	NEAR(r.joules, 3.0, 1e-12);
	NEAR(r.carbon_embodied_g, 0.5, 1e-12);
	assert_int_equal(r.source, QMX_ENERGY_MODELLED);
	qmx_meter_del(m);
}

/* A real job on the CPU backend carries modelled energy and carbon. */
static void job_accounting(void **state)
{
	(void)state;
	qmx_device *dev;
	qmx_gemm_params p;
	qmx_job_stats st;
	static int8_t a[64 * 64], b[64 * 64];
	static int32_t c[64 * 64];
	qmx_gemm_host_operands ops = { .a = a, .b = b, .c = c };
	setenv("QMX_PROCFS_ROOT", fixture("proc-xeon"), 1);
	assert_int_equal(qmx_device_open("cpu-ref", &dev), 0);
	qmx_gemm_params_init(&p, 64, 64, 64);
	assert_int_equal(qmx_gemm(dev, &p, &ops, &st), 0);
	assert_int_equal(st.energy_source, QMX_ENERGY_MODELLED);
	/* cpu_ns x 125/32 W + (4096 + 4096 + 16384 bytes) x 162.5 pJ */
	NEAR(st.energy_j, st.cpu_ns * 1e-9 * 125.0 / 32.0 + 24576 * 162.5e-12, 1e-9);
	NEAR(st.carbon_operational_g, st.energy_j / 3.6e6 * 475, 1e-9);
	/* The counters say what the model charged: compulsory traffic. */
	assert_int_equal(st.ext_bytes_read, 8192);
	assert_int_equal(st.ext_bytes_written, 16384);
	assert_int_equal(st.flags, 0); /* the host's CPU, not a device */
	/* server TE x wall / 4 y x 1 thread / 80 */
	NEAR(st.carbon_embodied_g, SERVER_G * (st.wall_ns * 1e-9) / (4 * 365 * 86400.0) / 80, 1e-9);
	qmx_device_del(dev);
	unsetenv("QMX_PROCFS_ROOT");
}

/* With RAPL readable and the begin hook called, a CPU job is measured. */
static void job_accounting_rapl(void **state)
{
	(void)state;
	qmx_device dev;
	qmx_job job;
	char root[512];
	snprintf(root, sizeof(root), "%s", fixture("rapl-two-packages"));
	setenv("QMX_SYSFS_ROOT", root, 1);
	setenv("QMX_PROCFS_ROOT", fixture("proc-xeon"), 1);
	memset(&dev, 0, sizeof(dev));
	pthread_mutex_init(&dev.acct_lock, NULL); /* as qmx_device_open() does */
	memset(&job, 0, sizeof(job));
	snprintf(dev.info.backend, sizeof(dev.info.backend), "cpu");
	job.dev = &dev;
	qmx_account_job_begin(&dev, &job);
	put(root, "class/powercap/intel-rapl:0/energy_uj", 4000000); /* +3 J */
	put(root, "class/powercap/intel-rapl:1/energy_uj", 3000000); /* +1 J */
	job.stats.cpu_ns = job.stats.wall_ns = 5000000;
	job.stats.threads = 1;
	qmx_gemm_params_init(&job.desc.params, 64, 64, 64);
	qmx_account_job(&dev, &job);
	/* The fixture's /proc/stat does not move, so the job's 5 ms of CPU
	 * time is all the busy time: share 1, 4 J; plus the DRAM the package
	 * does not hold, modelled as on the accelerator (A, B 4 KiB each, C
	 * 16 KiB of int32) x 162.5 pJ/B: one boundary both ways. */
	assert_int_equal(job.stats.energy_source, QMX_ENERGY_MEASURED);
	NEAR(job.stats.energy_j, 4.0 + 24576 * 162.5e-12, 1e-12);
	/* No begin call: modelled. */
	memset(&job.stats, 0, sizeof(job.stats));
	job.stats.cpu_ns = job.stats.wall_ns = 5000000;
	qmx_account_job(&dev, &job);
	assert_int_equal(job.stats.energy_source, QMX_ENERGY_MODELLED);
	unsetenv("QMX_SYSFS_ROOT");
	unsetenv("QMX_PROCFS_ROOT");
	qmx_account_device_free(&dev);
}

/* A measurement the backend made itself (card sensors) survives accounting. */
static void job_accounting_keeps_measured(void **state)
{
	(void)state;
	qmx_device dev;
	qmx_job job;
	memset(&dev, 0, sizeof(dev));
	pthread_mutex_init(&dev.acct_lock, NULL); /* as qmx_device_open() does */
	memset(&job, 0, sizeof(job));
	snprintf(dev.info.backend, sizeof(dev.info.backend), "xrt");
	job.dev = &dev;
	job.stats.device_ns = job.stats.wall_ns = 2000000000; /* 2 s */
	job.stats.energy_j = 90.0;
	job.stats.energy_source = QMX_ENERGY_MEASURED;
	qmx_account_job(&dev, &job);
	assert_int_equal(job.stats.energy_source, QMX_ENERGY_MEASURED);
	NEAR(job.stats.energy_j, 90.0, 0);
	NEAR(job.stats.carbon_operational_g, 90.0 / 3.6e6 * 475, 1e-12);
	/* Without a measurement: the card model, 225 W x 2 s, modelled. */
	job.stats.energy_j = 0;
	job.stats.energy_source = QMX_ENERGY_NONE;
	qmx_account_job(&dev, &job);
	assert_int_equal(job.stats.energy_source, QMX_ENERGY_MODELLED);
	NEAR(job.stats.energy_j, 450.0, 1e-12);
	qmx_account_device_free(&dev);
}

/* The CPU model by CPUID when the model name names no row (a VM's bare
 * "AMD EPYC"), the fallbacks, and the table's own medians. */
static void cpu_model_by_cpuid(void **state)
{
	(void)state;
	struct qmx_cpu_model cm;
	const struct {
		const char *proc, *match;
		double w;
	} cases[] = {
		{ "proc-xeon", "model name", 125.0 / 32 },
		/* Family 19h model 01h: the EPYC 7763 row. */
		{ "proc-epyc-milan", "cpuid", 280.0 / 128 },
		/* Family 6 model 55h: Gold 6248 and 6130, their median. */
		{ "proc-intel-skx", "cpuid", 0.5 * (150.0 / 40 + 125.0 / 32) },
		/* Family 1Ah (Zen 5), not in the rows: the family's row. */
		{ "proc-epyc-bare", "family", 500.0 / 256 },
		{ "proc-other", "default", 3.28 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("QMX_PROCFS_ROOT", fixture(cases[i].proc), 1);
		assert_int_equal(qmx_cpu_model_get(&cm), 0);
		if (strcmp(cm.match, cases[i].match) || fabs(cm.watts_per_thread - cases[i].w) > 1e-9)
			fail_msg("%s: %s %.4f W/thread, expected %s %.4f (%s)", cases[i].proc, cm.match,
				 cm.watts_per_thread, cases[i].match, cases[i].w, cm.detail);
	}
	assert_string_equal(cm.vendor, "HygonGenuine");
	assert_int_equal(cm.family, 24);
	unsetenv("QMX_PROCFS_ROOT");

	/* The [vendor] and [default] figures are the medians of the rows, as
	 * their comments say: recompute them from the table. */
	const struct qmx_data *d;
	double amd[16], intel[16], all[32], v;
	int na = 0, ni = 0, n = 0;
	assert_int_equal(qmx_data_get("cpu_tdp.ini", &d), 0);
	for (size_t i = 0; i < d->n; i++) {
		const struct qmx_data_entry *e = &d->e[i];
		if (strcmp(e->section, "cpu_tdp"))
			continue;
		double w = e->v[0] / e->v[1];
		all[n++] = w;
		if (!strncmp(e->key, "AMD", 3))
			amd[na++] = w;
		else
			intel[ni++] = w;
	}
	const struct {
		double *w;
		int n;
		const char *section, *key;
	} med[] = { { amd, na, "vendor", "AuthenticAMD" },
		    { intel, ni, "vendor", "GenuineIntel" },
		    { all, n, "default", "watts_per_thread" } };
	for (size_t i = 0; i < 3; i++) {
		double *w = med[i].w;
		for (int a = 0; a < med[i].n; a++) /* insertion sort: a handful of rows */
			for (int b = a; b > 0 && w[b] < w[b - 1]; b--) {
				double t = w[b];
				w[b] = w[b - 1];
				w[b - 1] = t;
			}
		int k = med[i].n;
		double m = k % 2 ? w[k / 2] : 0.5 * (w[k / 2 - 1] + w[k / 2]);
		assert_int_equal(qmx_data_value(d, med[i].section, med[i].key, 0, &v), 0);
		if (fabs(v - m) > 0.005)
			fail_msg("cpu_tdp.ini [%s] %s = %.3f, but the rows' median is %.4f",
				 med[i].section, med[i].key, v, m);
	}
	NEAR(all[0], 225.0 / 128, 1e-12); /* the range the file states: 1.76 ... */
	NEAR(all[n - 1], 95.0 / 16, 1e-12); /* ... 5.94 W per thread */
}

/* A host meter around a simulated device's job: the simulator's host time
 * is left out, the device time counted as the system would run it, and the
 * held host thread charged its embodied share. */
static void host_meter_simulated_job(void **state)
{
	(void)state;
	qmx_meter *m;
	qmx_energy_reading r;
	qmx_job_stats st;
	setenv("QMX_SYSFS_ROOT", fixture("empty"), 1);
	setenv("QMX_PROCFS_ROOT", fixture("proc-xeon"), 1);
	assert_int_equal(qmx_meter_new("cpu", &m), 0);
	assert_int_equal(qmx_meter_start(m), 0);
	uint64_t c0 = qmx_process_cpu_ns(), w0 = qmx_now_ns();
	volatile double x = 0;
	while (qmx_process_cpu_ns() - c0 < 30000000) /* 30 ms "simulating" */
		x += 0.5;
	memset(&st, 0, sizeof(st));
	st.flags = QMX_JOB_DEVICE | QMX_JOB_SIMULATED;
	st.sim_cpu_ns = qmx_process_cpu_ns() - c0;
	st.sim_wall_ns = qmx_now_ns() - w0;
	st.device_ns = 2000000; /* 2 ms at the chip's clock */
	st.ext_bytes_read = 1000000; /* the device's DRAM: not the host's */
	assert_int_equal(qmx_meter_add_job(m, &st), 0);
	assert_int_equal(qmx_meter_stop(m, &r), 0);
	NEAR(r.sim_cpu_seconds, st.sim_cpu_ns * 1e-9, 1e-12);
	NEAR(r.sim_seconds, st.sim_wall_ns * 1e-9, 1e-12);
	NEAR(r.held_seconds, 0.002, 1e-12);
	/* What is left is the host's own work: far below the 30 ms simulated. */
	assert_true(r.cpu_seconds < 0.01);
	assert_true(r.seconds >= 0.002); /* wall - simulation + device time */
	NEAR(r.joules, r.cpu_seconds * 125.0 / 32.0, 1e-9);
	NEAR(r.carbon_embodied_g,
	     SERVER_G * (r.cpu_seconds + 0.002) / (4 * 365 * 86400.0 * 80), 1e-9);
	qmx_meter_del(m);
	unsetenv("QMX_SYSFS_ROOT");
	unsetenv("QMX_PROCFS_ROOT");
}

/* A device's figures are resolved on its first job and kept (account.c):
 * each job's figures equal the uncached model's, bit for bit, and follow
 * the settings changed between jobs of one process. */
static void job_accounting_kept_figures(void **state)
{
	(void)state;
	qmx_device dev;
	qmx_job job;
	qmx_job_stats in = { .device_ns = 1000000, .wall_ns = 1200000, .cycles = 900,
			     .macs = 512000, .sram_bytes_read = 4096, .ext_bytes_read = 2048,
			     .ext_bytes_written = 1024 };
	memset(&dev, 0, sizeof(dev));
	pthread_mutex_init(&dev.acct_lock, NULL); /* as qmx_device_open() does */
	snprintf(dev.info.backend, sizeof(dev.info.backend), "sim");
	dev.info.array_rows = dev.info.array_cols = 8;
	double first = 0;
	/* Default; grid intensity; lifetime; an area file without the size;
	 * back to the defaults. */
	for (int step = 0; step < 5; step++) {
		if (step == 1)
			setenv("QMX_GRID_INTENSITY", "100", 1);
		if (step == 2)
			setenv("QMX_LIFETIME_YEARS", "2", 1);
		if (step == 3)
			setenv("QMX_AREA_JSON", "/nonexistent/area.json", 1);
		if (step == 4) {
			unsetenv("QMX_GRID_INTENSITY");
			unsetenv("QMX_LIFETIME_YEARS");
			unsetenv("QMX_AREA_JSON");
		}
		for (int rep = 0; rep < 2; rep++) { /* resolved, then kept */
			memset(&job, 0, sizeof(job));
			job.dev = &dev;
			job.stats = in;
			qmx_account_job_begin(&dev, &job);
			assert_true(job.stats.flags & QMX_JOB_DEVICE);
			qmx_account_job(&dev, &job);
			assert_int_equal(job.stats.energy_source, QMX_ENERGY_MODELLED);

			qmx_energy_breakdown b;
			qmx_embodied emb;
			qmx_carbon_config cfg;
			double m;
			assert_int_equal(qmx_accel_energy_breakdown(&dev.info, &in, &b), 0);
			assert_int_equal(qmx_device_embodied(&dev.info, &emb), 0);
			assert_int_equal(qmx_carbon_config_get(&cfg), 0);
			assert_int_equal(qmx_sci_embodied(emb.total_g, 1e-3, emb.lifetime_s, 1, 1, &m),
					 0);
			assert_true(job.stats.energy_j == b.joules);
			assert_true(job.stats.carbon_embodied_g == m);
			assert_true(job.stats.carbon_operational_g ==
				    b.joules * cfg.pue / 3.6e6 * cfg.grid_g_per_kwh);
			if (step == 1)
				NEAR(cfg.grid_g_per_kwh, 100, 0);
			if (step == 2)
				NEAR(emb.lifetime_s, 2 * 365.0 * 24 * 3600, 1e-12);
			if (step == 3) /* no synthesis: flip-flops not counted */
				assert_true(job.stats.energy_j < first);
		}
		if (step == 0)
			first = job.stats.energy_j;
		if (step == 4)
			assert_true(job.stats.energy_j == first);
	}
	qmx_account_device_free(&dev);
}

/* PUE multiplies operational energy: default 1, QMX_PUE, bad values named. */
static void pue_setting(void **state)
{
	(void)state;
	qmx_carbon_config c;
	qmx_device dev;
	qmx_job job;
	assert_int_equal(qmx_carbon_config_get(&c), 0);
	NEAR(c.pue, 1.0, 0);
	setenv("QMX_PUE", "0.9", 1);
	assert_int_equal(qmx_carbon_config_get(&c), QMX_EINVAL);
	expect_msg("QMX_PUE '0.9' must be a number in [1, 3]");
	setenv("QMX_PUE", "1.5", 1);
	assert_int_equal(qmx_carbon_config_get(&c), 0);
	assert_string_equal(c.pue_source, "QMX_PUE");
	memset(&dev, 0, sizeof(dev));
	pthread_mutex_init(&dev.acct_lock, NULL); /* as qmx_device_open() does */
	memset(&job, 0, sizeof(job));
	snprintf(dev.info.backend, sizeof(dev.info.backend), "xrt");
	job.dev = &dev;
	job.stats.device_ns = job.stats.wall_ns = 2000000000;
	qmx_account_job(&dev, &job);
	NEAR(job.stats.energy_j, 450.0, 1e-12); /* the IT energy is the same */
	NEAR(job.stats.carbon_operational_g, 450.0 * 1.5 / 3.6e6 * 475, 1e-12);
	unsetenv("QMX_PUE");
	qmx_account_device_free(&dev);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/qmx-energy-test-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	chmod(tmp, 0755); /* the permission test's child runs as nobody */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	setenv("QMX_DATA_DIR", QMX_TEST_DATA_DIR, 1);
	unsetenv("QMX_CPU_TDP_W");
	unsetenv("QMX_GRID_INTENSITY");
	unsetenv("QMX_REGION");
	unsetenv("QMX_PUE");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rapl_wrap),
		cmocka_unit_test(rapl_packages_only),
		cmocka_unit_test(rapl_missing),
		cmocka_unit_test(rapl_permission_denied),
		cmocka_unit_test(perf_describe),
		cmocka_unit_test(hwmon_energy_and_power),
		cmocka_unit_test(meter_fallback_to_model),
		cmocka_unit_test(meter_rapl_measured),
		cmocka_unit_test(meter_jobs),
		cmocka_unit_test(job_accounting),
		cmocka_unit_test(job_accounting_keeps_measured),
		cmocka_unit_test(job_accounting_rapl),
		cmocka_unit_test(cpu_model_by_cpuid),
		cmocka_unit_test(host_meter_simulated_job),
		cmocka_unit_test(pue_setting),
		cmocka_unit_test(job_accounting_kept_figures),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
