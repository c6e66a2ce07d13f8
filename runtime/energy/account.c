/* SPDX-License-Identifier: MIT */
/*
 * account.c - per-job energy and carbon, run by the core when a job
 * completes: the CPU backends get the TDP model over the job's CPU time plus
 * DRAM traffic, accelerators their counters x per-action energy (a figure a
 * backend measured itself, e.g. from card sensors, is kept); carbon is
 * SCI's E x I + the hardware's embodied share for the job's time.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "energy_internal.h"
#include "qmx_backend.h"

/* ------------------------------------------------------------ measured CPU jobs
 *
 * With RAPL readable, a CPU job's energy is measured: the package counters
 * are sampled when the job starts (qmx_account_job_begin, called by the core
 * at submit, into job->energy_begin) and when it completes, and the job gets
 * its share of the machine's busy CPU time over that interval (Scaphandre's
 * rule). */

static pthread_mutex_t acct_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char root[300];
	int state; /* 0 not tried, 1 readable, -1 not */
	struct qmx_rapl rapl;
	double total_j; /* package joules since first opened */
} host;

/* Cumulative package energy of this host; lock held. */
static bool host_energy(double *j)
{
	const char *root = qmx_sysfs_root();
	if (strcmp(host.root, root)) {
		memset(&host, 0, sizeof(host));
		snprintf(host.root, sizeof(host.root), "%s", root);
	}
	if (host.state == 0) {
		char saved[512];
		snprintf(saved, sizeof(saved), "%s", qmx_last_error());
		host.state = qmx_rapl_open(&host.rapl, root) == 0 ? 1 : -1;
		qmx_fail(0, "%s", saved); /* the probe is not the caller's error */
	}
	double d;
	if (host.state != 1 || qmx_rapl_sample(&host.rapl, &d))
		return false;
	host.total_j += d;
	*j = host.total_j;
	return true;
}

static bool is_cpu_backend(const qmx_device *dev)
{
	/* cpu, cpu-ref, and onednn (a library running on this host's CPU). */
	return !strncmp(dev->info.backend, "cpu", 3) || !strcmp(dev->info.backend, "onednn");
}

/* ------------------------------------------------------------ per-device figures
 *
 * What a job's figures need that depends on the device alone (kind, profile,
 * die, CPU model, embodied carbon) and the carbon settings are resolved on
 * the device's first job and kept, so a job costs arithmetic on its counters
 * (reading profiles, area.json and stat()ing data directories cost ~100 us a
 * job).  They are resolved again when a setting they come from changes:
 * tests change the environment between jobs of one process. */

static const char *const acct_env[] = {
	"QMX_DATA_DIR",	   "QMX_AREA_JSON",   "QMX_ACCEL_NODE_NM",  "QMX_LIFETIME_YEARS",
	"QMX_CPU_TDP_W",   "QMX_PROCFS_ROOT", "QMX_SYSFS_ROOT",	    "QMX_GRID_INTENSITY",
	"QMX_GRID_TRACE",  "QMX_REGION",      "QMX_PUE",
};
#define ACCT_ENV_N (sizeof(acct_env) / sizeof(acct_env[0]))
#define ACCT_KEY_LEN 4096

struct acct_figures {
	qmx_carbon_config cfg;
	qmx_embodied emb;
	struct qmx_device_model model;
};

struct qmx_acct_device {
	char key[ACCT_KEY_LEN]; /* the acct_env values they were resolved under */
	struct acct_figures f;
};

/* The acct_env values, NUL-separated ("\1" for unset); false when too long
 * to keep (then nothing is kept). */
static bool acct_key(char *key, size_t *len)
{
	size_t n = 0;
	for (size_t i = 0; i < ACCT_ENV_N; i++) {
		const char *v = getenv(acct_env[i]);
		size_t l = v ? strlen(v) : 1;
		if (n + l + 1 > ACCT_KEY_LEN)
			return false;
		memcpy(key + n, v ? v : "\1", l);
		key[n + l] = '\0';
		n += l + 1;
	}
	*len = n;
	return true;
}

static int acct_resolve(const qmx_device *dev, struct acct_figures *a)
{
	int err;
	/* In the order account() always used, so an error says the same. */
	if ((err = qmx_carbon_config_get(&a->cfg)) ||
	    (err = qmx_device_embodied(&dev->info, &a->emb)))
		return err;
	return qmx_device_model_get(&dev->info, &a->model);
}

/* The device's figures into *a, resolved when not kept under the current
 * settings.  The grid intensity of $QMX_GRID_TRACE moves with time: read
 * on every job. */
static int acct_device(qmx_device *dev, struct acct_figures *a)
{
	char key[ACCT_KEY_LEN];
	size_t len;
	bool keep = acct_key(key, &len);
	int err;
	pthread_mutex_lock(&dev->acct_lock);
	bool hit = keep && dev->acct && !memcmp(dev->acct->key, key, len);
	if (hit)
		*a = dev->acct->f;
	pthread_mutex_unlock(&dev->acct_lock);
	if (!hit) {
		if ((err = acct_resolve(dev, a)))
			return err;
		struct qmx_acct_device *kept = keep ? malloc(sizeof(*kept)) : NULL;
		if (kept) {
			memcpy(kept->key, key, len);
			kept->f = *a;
			pthread_mutex_lock(&dev->acct_lock);
			struct qmx_acct_device *old = dev->acct;
			dev->acct = kept;
			pthread_mutex_unlock(&dev->acct_lock);
			free(old);
		}
	}
	const char *trace = getenv("QMX_GRID_TRACE");
	if (trace && *trace)
		return qmx_carbon_config_get(&a->cfg);
	return 0;
}

void qmx_account_device_free(qmx_device *dev)
{
	free(dev->acct);
	dev->acct = NULL;
}

void qmx_account_job_begin(qmx_device *dev, qmx_job *job)
{
	struct acct_figures a;
	uint64_t busy, total;
	double j;
	if (!dev || !job)
		return;
	job->energy_begin.valid = false;
	/* Which side of the boundary the job is on: the host's CPU (a CPU
	 * backend, or a CPU behind OpenCL) or a device; and whether the
	 * device is a simulation whose host time is not the system's.  The
	 * kept figures know the kind; a device they fail for (a group, no
	 * data files) is asked directly, and the error is not the caller's. */
	enum qmx_device_kind kind;
	char saved[512];
	snprintf(saved, sizeof(saved), "%s", qmx_last_error());
	if (strcmp(dev->info.backend, "group") && !acct_device(dev, &a))
		kind = a.model.kind;
	else
		kind = qmx_device_kind(&dev->info);
	qmx_fail(0, "%s", saved);
	job->stats.flags = 0;
	if (kind != QMX_KIND_CPU)
		job->stats.flags |= QMX_JOB_DEVICE;
	if (dev->info.features & QMX_FEATURE_SIMULATED)
		job->stats.flags |= QMX_JOB_SIMULATED;
	if (!is_cpu_backend(dev))
		return;
	pthread_mutex_lock(&acct_lock);
	if (host_energy(&j) && qmx_proc_stat_busy(&busy, &total) == 0) {
		job->energy_begin.joules = j;
		job->energy_begin.busy_ticks = busy;
		job->energy_begin.valid = true;
	}
	pthread_mutex_unlock(&acct_lock);
}

/* Measured joules of a CPU job begun with qmx_account_job_begin, or false. */
static bool cpu_job_measured(const qmx_job *job, double *joules)
{
	double j1 = 0;
	uint64_t b1 = 0, total;
	if (!job->energy_begin.valid)
		return false;
	pthread_mutex_lock(&acct_lock);
	bool ok = host_energy(&j1) && qmx_proc_stat_busy(&b1, &total) == 0;
	pthread_mutex_unlock(&acct_lock);
	if (!ok || b1 < job->energy_begin.busy_ticks)
		return false;
	double cpu_s = job->stats.cpu_ns * 1e-9;
	double busy_s = (double)(b1 - job->energy_begin.busy_ticks) / (double)sysconf(_SC_CLK_TCK);
	/* Jiffies are coarse (10 ms): never attribute more than the whole. */
	double share = cpu_s > 0 ? cpu_s / (busy_s > cpu_s ? busy_s : cpu_s) : 1.0;
	*joules = (j1 - job->energy_begin.joules) * share;
	return true;
}

static int account(qmx_device *dev, qmx_job *job, qmx_carbon_config *cfgp)
{
	qmx_job_stats *st = &job->stats;
	struct acct_figures a;
	qmx_energy_breakdown b;
	double j;
	int err;
	/* A backend that read a meter over the job (a card's power sensors)
	 * has set a measured figure already: keep it, add the carbon. */
	bool backend_measured = st->energy_source == QMX_ENERGY_MEASURED && st->energy_j > 0;
	bool measured = backend_measured;

	if ((err = acct_device(dev, &a)))
		return err;
	const qmx_embodied *emb = &a.emb;
	if (is_cpu_backend(dev)) {
		struct qmx_gemm_extents e;
		qmx_gemm_extents(&job->desc.params, &e);
		/* Compulsory traffic: each operand read once, C written once.
		 * The counters say so, as a device's do. */
		if (!st->ext_bytes_read && !st->ext_bytes_written) {
			st->ext_bytes_read = e.a + e.b + e.bias + e.multipliers + e.shifts;
			st->ext_bytes_written = e.c;
		}
		/* CPU time x W/thread + DRAM bytes x J/byte. */
		if ((err = qmx_device_model_energy(&a.model, &dev->info, st, &b)))
			return err;
		double dram_j = (double)(st->ext_bytes_read + st->ext_bytes_written) *
				a.model.dram_j_per_byte;
		j = b.joules;
		double mj;
		bool got = cpu_job_measured(job, &mj);
		job->energy_begin.valid = false; /* one use per begin */
		if (got) {
			/* RAPL's package domain holds no DRAM; the accelerator
			 * keeps its DRAM, so the CPU keeps its modelled DRAM
			 * too: one boundary both ways. */
			j = mj + dram_j;
			measured = true;
		}
		double tir = st->wall_ns * 1e-9;
		double rr = st->threads ? st->threads : 1;
		if (rr > emb->resources)
			rr = emb->resources;
		if ((err = qmx_sci_embodied(emb->total_g, tir, emb->lifetime_s, rr, emb->resources,
					    &st->carbon_embodied_g)))
			return err;
	} else {
		struct qmx_energy_split sp;
		if ((err = qmx_device_model_energy(&a.model, &dev->info, st, &b)))
			return err;
		j = b.joules;
		qmx_energy_split_of(&b, &sp);
		if (!backend_measured) { /* the breakdown of a modelled figure */
			st->energy_mac_j = sp.mac;
			st->energy_sram_j = sp.sram;
			st->energy_dram_j = sp.dram;
			st->energy_clock_j = sp.clock;
			st->energy_leakage_j = sp.leakage;
			st->energy_static_j = sp.stat;
		}
		double tir = (st->device_ns ? st->device_ns : st->wall_ns) * 1e-9;
		/* A CPU device reserves its compute units of the server; an
		 * accelerator is reserved whole. */
		double rr = 1, tor = 1;
		if (a.model.kind == QMX_KIND_CPU) {
			rr = dev->info.compute_units ? dev->info.compute_units : 1;
			tor = emb->resources;
			if (rr > tor)
				rr = tor;
		}
		if ((err = qmx_sci_embodied(emb->total_g, tir, emb->lifetime_s, rr, tor,
					    &st->carbon_embodied_g)))
			return err;
	}
	if (backend_measured)
		j = st->energy_j;
	st->energy_j = j;
	st->energy_source = measured ? QMX_ENERGY_MEASURED : QMX_ENERGY_MODELLED;
	st->carbon_operational_g = j * a.cfg.pue / 3.6e6 * a.cfg.grid_g_per_kwh;
	*cfgp = a.cfg;
	return 0;
}

void qmx_account_job(qmx_device *dev, qmx_job *job)
{
	/* Accounting must not fail a finished job: on error (e.g. data files
	 * not found) the job says "no figure" and the message stays readable. */
	if (!strcmp(dev->info.backend, "group"))
		return; /* a group's job carries its members' accounted sums */
	qmx_carbon_config cfg = { .grid_g_per_kwh = 0 };
	if (account(dev, job, &cfg)) {
		job->stats.energy_source = QMX_ENERGY_NONE;
		job->stats.energy_j = 0;
		job->stats.carbon_operational_g = job->stats.carbon_embodied_g = 0;
		job->stats.energy_mac_j = job->stats.energy_sram_j = job->stats.energy_dram_j = 0;
		job->stats.energy_clock_j = job->stats.energy_leakage_j = 0;
		job->stats.energy_static_j = 0;
	}
	qmx_journal_job(dev, &job->stats, cfg.grid_g_per_kwh);
}
