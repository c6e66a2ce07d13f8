/* SPDX-License-Identifier: MIT */
/*
 * bench_account.c - qmx-bench-account: host CPU time of a job's energy and
 * carbon accounting (qmx_account_job_begin + qmx_account_job, run by the
 * core on every job) with the device's figures kept from its first job
 * against resolved on every job (the kept figures dropped before each, as
 * accounting did before they were kept), and of a whole 8x8x8 qmx_gemm(),
 * on each device.  Side by side in one run; the two ways must give the same
 * figures bit for bit (exit 1 if not).  Figures only, nothing asserts a time.
 *
 *   qmx-bench-account [--jobs N] [URI...]   (default: sim cpu)
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "energy_internal.h"
#include "qmx/qmx.h"
#include "qmx_backend.h"

static double cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + 1e-3 * (double)ts.tv_nsec;
}

/* Host CPU us per accounting of `job`; its figures into *out. */
static double account_us(qmx_device *dev, const qmx_job *job, int jobs, bool keep,
			 qmx_job_stats *out)
{
	qmx_job j = *job;
	double t0 = cpu_us();
	for (int i = 0; i < jobs; i++) {
		if (!keep)
			qmx_account_device_free(dev);
		j.stats = job->stats;
		qmx_account_job_begin(dev, &j);
		qmx_account_job(dev, &j);
	}
	*out = j.stats;
	return (cpu_us() - t0) / jobs;
}

static int bench(const char *uri, int jobs)
{
	static int8_t a[64], b[64];
	static int32_t c[64];
	qmx_gemm_params p;
	qmx_job_stats st, kept, resolved;
	qmx_device *dev;
	if (qmx_device_open(uri, &dev)) {
		fprintf(stderr, "cannot open %s: %s\n", uri, qmx_last_error());
		return 2;
	}
	for (int i = 0; i < 64; i++) {
		a[i] = (int8_t)(i * 7 - 100);
		b[i] = (int8_t)(50 - i * 3);
	}
	qmx_gemm_params_init(&p, 8, 8, 8);
	p.lda = p.ldb = p.ldc = 8;
	qmx_gemm_host_operands ops = { .a = a, .b = b, .c = c };
	int err = qmx_gemm(dev, &p, &ops, &st); /* warm up, the stats to account */
	double t0 = cpu_us();
	for (int i = 0; i < jobs && !err; i++)
		err = qmx_gemm(dev, &p, &ops, NULL);
	double gemm = (cpu_us() - t0) / jobs;
	if (err) {
		fprintf(stderr, "%s: qmx_gemm: %s\n", uri, qmx_last_error());
		qmx_device_del(dev);
		return 2;
	}
	qmx_job job;
	memset(&job, 0, sizeof(job));
	job.dev = dev;
	job.desc.params = p;
	job.stats = st;
	job.stats.energy_source = QMX_ENERGY_NONE;
	double res = account_us(dev, &job, jobs, false, &resolved);
	double kpt = account_us(dev, &job, jobs, true, &kept);
	bool same = kept.energy_j == resolved.energy_j &&
		    kept.carbon_operational_g == resolved.carbon_operational_g &&
		    kept.carbon_embodied_g == resolved.carbon_embodied_g &&
		    kept.energy_source == resolved.energy_source;
	printf("%-26s %12.2f %12.2f %8.1fx %14.1f   %s (%.6g J, %.6g g)\n", uri, res, kpt,
	       kpt > 0 ? res / kpt : 0, gemm, same ? "same" : "DIFFER", kept.energy_j,
	       kept.carbon_operational_g + kept.carbon_embodied_g);
	qmx_device_del(dev);
	return same ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "jobs", required_argument, 0, 'j' },
					      { "help", no_argument, 0, 'h' },
					      { 0, 0, 0, 0 } };
	int jobs = 2000, c, rc = 0;
	struct qmx_cpu_model cm;
	while ((c = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
		if (c == 'j') {
			jobs = atoi(optarg);
		} else {
			fprintf(c == 'h' ? stdout : stderr, "usage: %s [--jobs 1..1000000] [URI...]\n",
				argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (jobs < 1 || jobs > 1000000) {
		fprintf(stderr, "--jobs (%d) must be in [1, 1000000]\n", jobs);
		return 2;
	}
	if (qmx_cpu_model_get(&cm))
		snprintf(cm.model, sizeof(cm.model), "unknown");
	printf("host CPU per job (us, CLOCK_PROCESS_CPUTIME_ID), %d jobs, CPU: %s\n", jobs,
	       cm.model);
	printf("%-26s %12s %12s %9s %14s   %s\n", "device", "acct-resolve", "acct-kept", "ratio",
	       "gemm-8x8x8", "figures");
	static const char *const dflt[] = { "sim", "cpu" };
	int n = optind < argc ? argc - optind : 2;
	for (int i = 0; i < n; i++) {
		int r = bench(optind < argc ? argv[optind + i] : dflt[i], jobs);
		rc = r > rc ? r : rc;
	}
	return rc;
}
