/* SPDX-License-Identifier: MIT */
/*
 * cmd_exporter.c - `qmx exporter`: device telemetry for Prometheus, served on
 * /metrics (libmicrohttpd) or written for node_exporter's textfile collector.
 *
 * Two sources, one per kind of device (docs/telemetry.md says why):
 *  - devices that live inside the processes using them (sim, cpu, opencl...)
 *    are counted from the job journal, the file each libqmx process appends
 *    a line to per finished job when $QMX_STATS_FILE names it (journal.c);
 *  - qmx.ko's devices from the kernel: per-client fdinfo (drm-engine-qmx,
 *    drm-cycles-qmx, qmx-jobs) of every process holding the node open, and
 *    the driver's hwmon chip (energy1_input, power1_input).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef QMX_HAVE_MICROHTTPD
#include <microhttpd.h>
#endif

#include "commands.h"
#include "kmod_nodes.h"
#include "qmx/qmx.h"

#define DEFAULT_LISTEN "127.0.0.1:9840"
#define MAX_DEVICES 64

/* Totals of one device since the exporter started reading its source. */
struct dev_acc {
	char device[128];
	char backend[16];
	uint64_t jobs, device_ns, cycles, macs;
	uint64_t ext_read, ext_written, sram_read, sram_written;
	double joules[2]; /* [0] measured, [1] modelled */
	double operational_g, embodied_g;
	double grid;      /* gCO2e/kWh of the last job */
	bool has_activity; /* MACs and bytes known (not for kernel clients) */
	bool has_carbon, has_embodied;
	double power_w;   /* hwmon power1_input, < 0 when none */
};

struct journal {
	char path[PATH_MAX];
	off_t offset;
	ino_t ino;
	char partial[1024]; /* a line whose newline has not arrived yet */
	size_t partial_len;
	uint64_t bad_lines;
	uint64_t lines;
};

struct exporter {
	pthread_mutex_t lock;
	struct journal journal;
	bool have_journal;
	struct dev_acc acc[MAX_DEVICES]; /* journal devices */
	size_t n_acc;
	uint64_t dropped_devices;
	uint64_t scrapes;
	/* kmod: device info per node, looked up once (NULL name: not openable) */
	char kmod_info_node[KMOD_NODES_MAX][64];
	qmx_device_info kmod_info[KMOD_NODES_MAX];
	bool kmod_info_ok[KMOD_NODES_MAX];
	size_t n_kmod_info;
};

/* ------------------------------------------------------------ journal */

static struct dev_acc *acc_get(struct exporter *ex, const char *device, const char *backend)
{
	for (size_t i = 0; i < ex->n_acc; i++)
		if (!strcmp(ex->acc[i].device, device))
			return &ex->acc[i];
	if (ex->n_acc == MAX_DEVICES) {
		ex->dropped_devices++;
		return NULL;
	}
	struct dev_acc *a = &ex->acc[ex->n_acc++];
	memset(a, 0, sizeof(*a));
	snprintf(a->device, sizeof(a->device), "%s", device);
	snprintf(a->backend, sizeof(a->backend), "%s", backend);
	a->has_activity = a->has_carbon = a->has_embodied = true;
	a->power_w = -1;
	return a;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return false;
	*v = x;
	return true;
}

static bool parse_double(const char *s, double *v)
{
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (errno || end == s || *end || !(x >= 0) || x > 1e300)
		return false;
	*v = x;
	return true;
}

/* One journal line ("qmx-job 1 key=value..."); false when malformed. */
static bool journal_line(struct exporter *ex, char *line)
{
	char *save = NULL, *tok = strtok_r(line, " ", &save);
	if (!tok || strcmp(tok, "qmx-job") || !(tok = strtok_r(NULL, " ", &save)) ||
	    strcmp(tok, "1"))
		return false;
	char device[128] = "", backend[16] = "";
	uint64_t u[8] = { 0 };
	double d[4] = { 0 };
	int source = -1;
	static const char *const ukeys[] = { "device_ns",   "cycles",	    "macs",
					     "ext_read",    "ext_written", "sram_read",
					     "sram_written", NULL };
	static const char *const dkeys[] = { "energy_j", "operational_g", "embodied_g",
					     "grid_g_per_kwh", NULL };
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return false;
		*eq = '\0';
		const char *k = tok, *v = eq + 1;
		bool ok = true, known = false;
		if (!strcmp(k, "device")) {
			known = true;
			ok = *v && strlen(v) < sizeof(device);
			snprintf(device, sizeof(device), "%s", v);
		} else if (!strcmp(k, "backend")) {
			known = true;
			ok = *v && strlen(v) < sizeof(backend);
			snprintf(backend, sizeof(backend), "%s", v);
		} else if (!strcmp(k, "source")) {
			known = true;
			source = !strcmp(v, "measured") ? 0 : !strcmp(v, "modelled") ? 1
							 : !strcmp(v, "none")	  ? 2
										  : -1;
			ok = source >= 0;
		}
		for (int i = 0; ukeys[i] && !known; i++)
			if (!strcmp(k, ukeys[i])) {
				known = true;
				ok = parse_u64(v, &u[i]);
			}
		for (int i = 0; dkeys[i] && !known; i++)
			if (!strcmp(k, dkeys[i])) {
				known = true;
				ok = parse_double(v, &d[i]);
			}
		if (!ok)
			return false; /* unknown keys are a newer writer's: skipped */
	}
	if (!device[0] || !backend[0] || source < 0)
		return false;
	/* qmx.ko's jobs are the kernel's to count (fdinfo, hwmon), for every
	 * process, journal or not. */
	if (!strcmp(backend, "kmod"))
		return true;
	struct dev_acc *a = acc_get(ex, device, backend);
	if (!a)
		return true;
	a->jobs++;
	a->device_ns += u[0];
	a->cycles += u[1];
	a->macs += u[2];
	a->ext_read += u[3];
	a->ext_written += u[4];
	a->sram_read += u[5];
	a->sram_written += u[6];
	if (source < 2)
		a->joules[source] += d[0];
	a->operational_g += d[1];
	a->embodied_g += d[2];
	a->grid = d[3];
	return true;
}

static void journal_take(struct exporter *ex, const char *data, size_t len)
{
	struct journal *j = &ex->journal;
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n') {
			if (j->partial_len < sizeof(j->partial) - 1)
				j->partial[j->partial_len] = data[i];
			j->partial_len++;
			continue;
		}
		if (j->partial_len >= sizeof(j->partial)) {
			j->bad_lines++; /* longer than any writer makes */
		} else {
			j->partial[j->partial_len] = '\0';
			j->lines++;
			if (!journal_line(ex, j->partial))
				j->bad_lines++;
		}
		j->partial_len = 0;
	}
}

/* Read what was appended since the last call.  A journal that shrank or was
 * replaced (rotated) is read again from its start; the totals are kept, so
 * the counters never go back. */
static void journal_poll(struct exporter *ex)
{
	struct journal *j = &ex->journal;
	if (!ex->have_journal)
		return;
	FILE *f = fopen(j->path, "re");
	if (!f)
		return; /* not written yet */
	struct stat st;
	if (fstat(fileno(f), &st) == 0) {
		if (st.st_ino != j->ino || st.st_size < j->offset) {
			j->offset = 0;
			j->partial_len = 0;
			j->ino = st.st_ino;
		}
	}
	if (fseeko(f, j->offset, SEEK_SET) == 0) {
		char buf[65536];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			journal_take(ex, buf, n);
			j->offset += (off_t)n;
		}
	}
	fclose(f);
}

/* ------------------------------------------------------------ kmod */

struct fd_client {
	uint64_t id;
	uint64_t busy_ns, cycles, jobs;
};

/* Parse one fdinfo file of qmx.ko ("drm-driver: qmx"); false otherwise. */
static bool fdinfo_read(const char *path, struct fd_client *c)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char line[256], val[128];
	bool qmx = false, id = false;
	memset(c, 0, sizeof(*c));
	while (fgets(line, sizeof(line), f)) {
		char key[64];
		if (sscanf(line, "%63[^:]:%127s", key, val) != 2)
			continue;
		if (!strcmp(key, "drm-driver"))
			qmx = !strcmp(val, "qmx");
		else if (!strcmp(key, "drm-client-id"))
			id = parse_u64(val, &c->id);
		else if (!strcmp(key, "drm-engine-qmx"))
			parse_u64(val, &c->busy_ns);
		else if (!strcmp(key, "drm-cycles-qmx"))
			parse_u64(val, &c->cycles);
		else if (!strcmp(key, "qmx-jobs"))
			parse_u64(val, &c->jobs);
	}
	fclose(f);
	return qmx && id;
}

/* Sum the fdinfo of every open file of a node, each DRM client once (a
 * file shared by dup() or fork() shows under several fds). */
static void kmod_fdinfo(const char *procfs, const struct kmod_node *node, struct dev_acc *a)
{
	DIR *proc = opendir(procfs);
	if (!proc)
		return;
	uint64_t seen[1024];
	size_t n_seen = 0;
	struct dirent *pe;
	while ((pe = readdir(proc))) {
		if (strspn(pe->d_name, "0123456789") != strlen(pe->d_name))
			continue;
		char dir[2048], path[PATH_MAX], link[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/%s/fd", procfs, pe->d_name);
		DIR *fds = opendir(dir);
		if (!fds)
			continue; /* gone, or another user's without the right */
		struct dirent *fe;
		while ((fe = readdir(fds))) {
			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, fe->d_name);
			ssize_t l = readlink(path, link, sizeof(link) - 1);
			if (l <= 0)
				continue;
			link[l] = '\0';
			if (strcmp(link, node->path))
				continue;
			snprintf(path, sizeof(path), "%s/%s/fdinfo/%s", procfs, pe->d_name,
				 fe->d_name);
			struct fd_client c;
			if (!fdinfo_read(path, &c))
				continue;
			bool dup = false;
			for (size_t i = 0; i < n_seen && !dup; i++)
				dup = seen[i] == c.id;
			if (dup)
				continue;
			if (n_seen < sizeof(seen) / sizeof(seen[0]))
				seen[n_seen++] = c.id;
			a->jobs += c.jobs;
			a->device_ns += c.busy_ns;
			a->cycles += c.cycles;
		}
		closedir(fds);
	}
	closedir(proc);
}

/* The driver's hwmon chip of this node's device: energy (µJ since bind;
 * labelled "modelled" by qmx_hwmon.c when counted from activity) and power. */
static void kmod_hwmon(const char *sysfs, const struct kmod_node *node, struct dev_acc *a)
{
	char base[2048], path[PATH_MAX], real[PATH_MAX], buf[64];
	snprintf(base, sizeof(base), "%s/class/hwmon", sysfs);
	DIR *d = opendir(base);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "hwmon", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s/name", base, de->d_name);
		if (kmod_read_text(path, buf, sizeof(buf)) || strcmp(buf, "qmx"))
			continue;
		snprintf(path, sizeof(path), "%s/%s/device", base, de->d_name);
		if (!realpath(path, real) || strcmp(real, node->sysdev))
			continue;
		uint64_t v;
		snprintf(path, sizeof(path), "%s/%s/energy1_input", base, de->d_name);
		if (kmod_read_text(path, buf, sizeof(buf)) == 0 && parse_u64(buf, &v)) {
			char label[64] = "";
			snprintf(path, sizeof(path), "%s/%s/energy1_label", base, de->d_name);
			kmod_read_text(path, label, sizeof(label));
			a->joules[strstr(label, "model") ? 1 : 0] += (double)v * 1e-6;
			a->has_carbon = true;
		}
		snprintf(path, sizeof(path), "%s/%s/power1_input", base, de->d_name);
		if (kmod_read_text(path, buf, sizeof(buf)) == 0 && parse_u64(buf, &v))
			a->power_w = (double)v * 1e-6;
		break;
	}
	closedir(d);
}

/* The device's info for its embodied carbon: opened once, only on the real
 * /sys (a fixture tree's nodes are not this machine's). */
static const qmx_device_info *kmod_info(struct exporter *ex, const char *sysfs,
					const struct kmod_node *node)
{
	for (size_t i = 0; i < ex->n_kmod_info; i++)
		if (!strcmp(ex->kmod_info_node[i], node->path))
			return ex->kmod_info_ok[i] ? &ex->kmod_info[i] : NULL;
	if (ex->n_kmod_info == KMOD_NODES_MAX)
		return NULL;
	size_t i = ex->n_kmod_info++;
	snprintf(ex->kmod_info_node[i], sizeof(ex->kmod_info_node[i]), "%s", node->path);
	ex->kmod_info_ok[i] = false;
	if (strcmp(sysfs, "/sys"))
		return NULL;
	char uri[96];
	qmx_device *dev;
	snprintf(uri, sizeof(uri), "kmod:%s", node->path);
	if (qmx_device_open(uri, &dev))
		return NULL;
	ex->kmod_info_ok[i] = qmx_device_query(dev, &ex->kmod_info[i]) == 0;
	qmx_device_del(dev);
	return ex->kmod_info_ok[i] ? &ex->kmod_info[i] : NULL;
}

static size_t kmod_collect(struct exporter *ex, struct dev_acc *out, size_t cap)
{
	const char *sysfs = kmod_sysfs_root(), *procfs = kmod_procfs_root();
	struct kmod_node nodes[KMOD_NODES_MAX];
	size_t n = kmod_nodes_find(sysfs, nodes, KMOD_NODES_MAX);
	qmx_carbon_config cfg;
	bool cfg_ok = qmx_carbon_config_get(&cfg) == 0;
	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++) {
		struct dev_acc *a = &out[i];
		memset(a, 0, sizeof(*a));
		snprintf(a->device, sizeof(a->device), "kmod:%s", nodes[i].path);
		snprintf(a->backend, sizeof(a->backend), "kmod");
		a->power_w = -1;
		kmod_fdinfo(procfs, &nodes[i], a);
		kmod_hwmon(sysfs, &nodes[i], a);
		/* Operational carbon of the hwmon energy at this exporter's grid
		 * intensity and PUE (the same settings as libqmx's). */
		a->has_carbon = a->has_carbon && cfg_ok;
		if (a->has_carbon) {
			a->grid = cfg.grid_g_per_kwh;
			a->operational_g = (a->joules[0] + a->joules[1]) * cfg.pue / 3.6e6 * a->grid;
		}
		const qmx_device_info *info = kmod_info(ex, sysfs, &nodes[i]);
		qmx_embodied emb;
		if (info && qmx_device_embodied(info, &emb) == 0 &&
		    qmx_sci_embodied(emb.total_g, a->device_ns * 1e-9, emb.lifetime_s, 1, 1,
				     &a->embodied_g) == 0)
			a->has_embodied = true;
	}
	return n;
}

/* ------------------------------------------------------------ exposition */

static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void series(FILE *f, const char *name, const struct dev_acc *a, const char *extra)
{
	fprintf(f, "%s{device=\"", name);
	label_value(f, a->device);
	fprintf(f, "\",backend=\"");
	label_value(f, a->backend);
	fprintf(f, "\"%s} ", extra ? extra : "");
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum metric_kind { M_U64, M_DOUBLE };

/* One metric family per row: which field, for which devices. */
struct metric {
	const char *name, *type, *help, *extra;
	enum metric_kind kind;
	size_t off;
	bool ns; /* a count of nanoseconds, shown in seconds */
	int need; /* 0 always, 1 activity known, 2 carbon known, 3 embodied, 4 power */
};

#define U64(field) M_U64, offsetof(struct dev_acc, field)
#define DBL(field) M_DOUBLE, offsetof(struct dev_acc, field)

static const struct metric metrics[] = {
	{ "qmx_jobs_total", "counter", "Jobs finished on the device.", NULL, U64(jobs), false, 0 },
	{ "qmx_busy_seconds_total", "counter", "Device busy time (cycles / clock; CPU devices: compute time).",
	  NULL, U64(device_ns), true, 0 },
	{ "qmx_cycles_total", "counter", "Device busy clock cycles (0 where not counted).", NULL,
	  U64(cycles), false, 0 },
	{ "qmx_macs_total", "counter", "Multiply-accumulates performed.", NULL, U64(macs), false, 1 },
	{ "qmx_memory_read_bytes_total", "counter",
	  "Bytes read: memory=\"offchip\" external DRAM, memory=\"onchip\" on-chip buffers.",
	  ",memory=\"offchip\"", U64(ext_read), false, 1 },
	{ "qmx_memory_read_bytes_total", NULL, NULL, ",memory=\"onchip\"", U64(sram_read), false, 1 },
	{ "qmx_memory_written_bytes_total", "counter",
	  "Bytes written: memory=\"offchip\" external DRAM, memory=\"onchip\" on-chip buffers.",
	  ",memory=\"offchip\"", U64(ext_written), false, 1 },
	{ "qmx_memory_written_bytes_total", NULL, NULL, ",memory=\"onchip\"", U64(sram_written), false,
	  1 },
	{ "qmx_energy_joules_total", "counter",
	  "Energy of the device's jobs, source=\"measured\" (a meter) or \"modelled\" (activity x per-action energy, CPU time x TDP share).",
	  ",source=\"measured\"", DBL(joules[0]), false, 2 },
	{ "qmx_energy_joules_total", NULL, NULL, ",source=\"modelled\"", DBL(joules[1]), false, 2 },
	{ "qmx_operational_carbon_grams_total", "counter",
	  "Operational carbon in grams CO2e: energy x PUE x grid intensity.", NULL,
	  DBL(operational_g), false, 2 },
	{ "qmx_embodied_carbon_grams_total", "counter",
	  "Embodied carbon in grams CO2e: the hardware's share for its busy time (SCI).", NULL,
	  DBL(embodied_g), false, 3 },
	{ "qmx_grid_intensity_grams_per_kilowatt_hour", "gauge",
	  "Grid carbon intensity in use, gCO2e/kWh (the last job's; kmod: the exporter's).",
	  NULL, DBL(grid), false, 2 },
	{ "qmx_power_watts", "gauge", "Device power from its hwmon sensor (measured).",
	  ",source=\"measured\"", DBL(power_w), false, 4 },
};

static bool wanted(const struct metric *m, const struct dev_acc *a)
{
	switch (m->need) {
	case 1: return a->has_activity;
	case 2: return a->has_carbon;
	case 3: return a->has_embodied;
	case 4: return a->power_w >= 0;
	default: return true;
	}
}

static void render(struct exporter *ex, FILE *f)
{
	static struct dev_acc all[MAX_DEVICES + KMOD_NODES_MAX];
	pthread_mutex_lock(&ex->lock);
	journal_poll(ex);
	size_t n = ex->n_acc;
	memcpy(all, ex->acc, n * sizeof(all[0]));
	n += kmod_collect(ex, all + n, KMOD_NODES_MAX);
	ex->scrapes++;

	family(f, "qmx_device_info", "gauge", "A device the exporter reports on (value 1).");
	for (size_t i = 0; i < n; i++) {
		series(f, "qmx_device_info", &all[i], NULL);
		fprintf(f, "1\n");
	}
	for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		const struct metric *mt = &metrics[m];
		if (mt->type)
			family(f, mt->name, mt->type, mt->help);
		for (size_t i = 0; i < n; i++) {
			if (!wanted(mt, &all[i]))
				continue;
			const char *p = (const char *)&all[i] + mt->off;
			series(f, mt->name, &all[i], mt->extra);
			if (mt->kind == M_U64 && !mt->ns)
				fprintf(f, "%" PRIu64 "\n", *(const uint64_t *)p);
			else if (mt->kind == M_U64) /* nanoseconds, printed exactly */
				fprintf(f, "%" PRIu64 ".%09" PRIu64 "\n", *(const uint64_t *)p / 1000000000,
					*(const uint64_t *)p % 1000000000);
			else
				fprintf(f, "%.17g\n", *(const double *)p);
		}
	}
	family(f, "qmx_exporter_journal_lines_total", "counter",
	       "Job journal lines read ($QMX_STATS_FILE).");
	fprintf(f, "qmx_exporter_journal_lines_total %" PRIu64 "\n", ex->journal.lines);
	family(f, "qmx_exporter_journal_errors_total", "counter",
	       "Job journal lines skipped as malformed, or beyond the device limit.");
	fprintf(f, "qmx_exporter_journal_errors_total %" PRIu64 "\n",
		ex->journal.bad_lines + ex->dropped_devices);
	pthread_mutex_unlock(&ex->lock);
}

static char *render_text(struct exporter *ex, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	render(ex, f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int write_textfile(struct exporter *ex, const char *path)
{
	size_t len;
	char *buf = render_text(ex, &len);
	if (!buf) {
		fprintf(stderr, "qmx exporter: out of memory\n");
		return -1;
	}
	int err = cli_write_buffer_atomic(path, buf, len);
	if (err)
		fprintf(stderr, "qmx exporter: --textfile '%s': %s\n", path, strerror(errno));
	free(buf);
	return err;
}

/* ------------------------------------------------------------ HTTP */

#ifdef QMX_HAVE_MICROHTTPD
static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	static const char index_page[] =
		"qmx exporter: metrics at /metrics (Prometheus text format)\n";
	static const char not_found[] = "not found: metrics are at /metrics\n";
	struct exporter *ex = cls;
	struct MHD_Response *r;
	unsigned int status = MHD_HTTP_OK;
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		if (r)
			MHD_add_response_header(r, "Allow", "GET, HEAD");
	} else if (!strcmp(url, "/metrics")) {
		size_t len;
		char *buf = render_text(ex, &len);
		if (!buf)
			return MHD_NO;
		r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
		if (!r)
			free(buf);
		else
			MHD_add_response_header(r, "Content-Type",
						"text/plain; version=0.0.4; charset=utf-8");
	} else if (!strcmp(url, "/")) {
		r = MHD_create_response_from_buffer(sizeof(index_page) - 1, (void *)index_page,
						    MHD_RESPMEM_PERSISTENT);
	} else {
		status = MHD_HTTP_NOT_FOUND;
		r = MHD_create_response_from_buffer(sizeof(not_found) - 1, (void *)not_found,
						    MHD_RESPMEM_PERSISTENT);
	}
	if (!r)
		return MHD_NO;
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}
#endif

/* "ADDR:PORT" (IPv4, or [IPv6]:PORT); port 0 takes a free one. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long long port;
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host)) {
		fprintf(stderr, "qmx exporter: --listen '%s' must be ADDRESS:PORT (e.g. %s, [::1]:9840)\n",
			s, DEFAULT_LISTEN);
		return -1;
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	errno = 0;
	port = strtoll(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 0 || port > 65535) {
		fprintf(stderr, "qmx exporter: --listen '%s': port '%s' must be an integer in [0, 65535]\n",
			s, colon + 1);
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	size_t hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		host[hl - 1] = '\0';
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*a6);
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1)
			return 0;
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*a4);
		if (inet_pton(AF_INET, host, &a4->sin_addr) == 1)
			return 0;
	}
	fprintf(stderr, "qmx exporter: --listen '%s': '%s' is not a numeric IPv4 or [IPv6] address\n",
		s, host);
	return -1;
}

static void exporter_usage(void)
{
	printf("usage: qmx exporter [--listen ADDR:PORT] [--journal FILE] [--textfile FILE.prom\n"
	       "                    [--interval S]] [--once]\n\n"
	       "Device telemetry in the Prometheus text format, per device: jobs, busy\n"
	       "seconds, cycles, MACs, bytes, joules (measured or modelled), operational\n"
	       "and embodied gCO2e, the grid intensity in use (docs/telemetry.md).\n"
	       "Devices inside processes (sim, cpu, ...) are counted from the job journal\n"
	       "each libqmx process appends to when QMX_STATS_FILE names it; qmx.ko's\n"
	       "devices from the kernel (fdinfo of /proc/PID/fd, the driver's hwmon).\n\n"
	       "  --listen ADDR:PORT  serve http://ADDR:PORT/metrics (default %s;\n"
	       "                      port 0 picks a free one, printed on stdout)%s\n"
	       "  --journal FILE      the job journal (default $QMX_STATS_FILE)\n"
	       "  --textfile FILE     write FILE (node_exporter's textfile collector, a\n"
	       "                      name ending .prom) every --interval, atomically;\n"
	       "                      no HTTP server unless --listen is given too\n"
	       "  --interval S        seconds between textfile writes, [1, 86400] (default 15)\n"
	       "  --once              write the metrics once (textfile, else stdout), exit\n\n"
	       "Runs until SIGINT or SIGTERM.\n",
	       DEFAULT_LISTEN,
#ifdef QMX_HAVE_MICROHTTPD
	       ""
#else
	       "\n                      (not in this build: libmicrohttpd was missing)"
#endif
	);
}

int cmd_exporter(int argc, char **argv)
{
	enum { O_LISTEN = 256, O_JOURNAL, O_TEXTFILE, O_INTERVAL, O_ONCE };
	static const struct option opts[] = {
		{ "listen", required_argument, 0, O_LISTEN },
		{ "journal", required_argument, 0, O_JOURNAL },
		{ "textfile", required_argument, 0, O_TEXTFILE },
		{ "interval", required_argument, 0, O_INTERVAL },
		{ "once", no_argument, 0, O_ONCE },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	const char *listen_at = NULL, *journal = getenv("QMX_STATS_FILE"), *textfile = NULL;
	long long interval = 15;
	bool once = false, interval_set = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN: listen_at = optarg; break;
		case O_JOURNAL:
			if (!*optarg) {
				fprintf(stderr, "qmx exporter: --journal needs a file name (the QMX_STATS_FILE of the jobs)\n");
				return 2;
			}
			journal = optarg;
			break;
		case O_TEXTFILE: textfile = optarg; break;
		case O_INTERVAL:
			if (cli_parse_i64("exporter", "interval", optarg, 1, 86400, &interval))
				return 2;
			interval_set = true;
			break;
		case O_ONCE: once = true; break;
		case 'h': exporter_usage(); return 0;
		default: return cli_bad_option("exporter", argv, c);
		}
	}
	if (cli_no_operands("exporter", argc, argv))
		return 2;
	if (textfile) {
		size_t l = strlen(textfile);
		if (l < 6 || strcmp(textfile + l - 5, ".prom") || textfile[l - 6] == '/') {
			fprintf(stderr, "qmx exporter: --textfile '%s' must name a file ending in .prom (node_exporter's textfile collector reads only those)\n",
				textfile);
			return 2;
		}
	}
	if (once && listen_at) {
		fprintf(stderr, "qmx exporter: --once writes the metrics and exits: it takes no --listen\n");
		return 2;
	}
	if (interval_set && !textfile) {
		fprintf(stderr, "qmx exporter: --interval is the --textfile period: give --textfile too\n");
		return 2;
	}
	bool serve = !once && (listen_at || !textfile);
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	if (serve && parse_listen(listen_at ? listen_at : DEFAULT_LISTEN, &ss, &sl))
		return 2;
#ifndef QMX_HAVE_MICROHTTPD
	if (serve) {
		fprintf(stderr, "qmx exporter: this qmx was built without libmicrohttpd (apt-get install libmicrohttpd-dev, then rebuild): no HTTP server; --textfile and --once work\n");
		return 1;
	}
#endif

	static struct exporter ex; /* large: not on the stack */
	memset(&ex, 0, sizeof(ex));
	pthread_mutex_init(&ex.lock, NULL);
	if (journal && *journal) {
		if (strlen(journal) >= sizeof(ex.journal.path)) {
			fprintf(stderr, "qmx exporter: --journal: path too long\n");
			return 2;
		}
		snprintf(ex.journal.path, sizeof(ex.journal.path), "%s", journal);
		ex.have_journal = true;
	}

	if (once) {
		if (textfile)
			return write_textfile(&ex, textfile) ? 1 : 0;
		size_t len;
		char *buf = render_text(&ex, &len);
		if (!buf)
			return cli_error("exporter", "rendering", QMX_ENOMEM);
		fwrite(buf, 1, len, stdout);
		free(buf);
		return 0;
	}

	/* SIGINT/SIGTERM are taken by sigtimedwait below, from every thread. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

#ifdef QMX_HAVE_MICROHTTPD
	struct MHD_Daemon *daemon = NULL;
	int sock = -1;
	if (serve) {
		const char *shown = listen_at ? listen_at : DEFAULT_LISTEN;
		int one = 1;
		sock = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (sock < 0 || setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(sock, (struct sockaddr *)&ss, sl) || listen(sock, 64)) {
			fprintf(stderr, "qmx exporter: --listen '%s': %s\n", shown, strerror(errno));
			if (sock >= 0)
				close(sock);
			return 1;
		}
		char host[INET6_ADDRSTRLEN];
		unsigned port;
		getsockname(sock, (struct sockaddr *)&ss, &sl);
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
			port = ntohs(a6->sin6_port);
		} else {
			struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
			port = ntohs(a4->sin_port);
		}
		daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer,
					  &ex, MHD_OPTION_LISTEN_SOCKET, sock,
					  MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
		if (!daemon) {
			fprintf(stderr, "qmx exporter: libmicrohttpd could not start on %s\n", shown);
			close(sock);
			return 1;
		}
		printf("qmx exporter: serving http://%s%s%s:%u/metrics\n",
		       ss.ss_family == AF_INET6 ? "[" : "", host, ss.ss_family == AF_INET6 ? "]" : "",
		       port);
	}
#endif
	if (!ex.have_journal)
		fprintf(stderr, "qmx exporter: no job journal (QMX_STATS_FILE or --journal): only qmx.ko's devices are counted\n");
	fflush(stdout);

	int status = 0;
	for (;;) {
		if (textfile && write_textfile(&ex, textfile)) {
			status = 1;
			break;
		}
		struct timespec ts = { .tv_sec = textfile ? interval : 3600 };
		int sig = sigtimedwait(&stop, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			break;
	}
#ifdef QMX_HAVE_MICROHTTPD
	if (daemon)
		MHD_stop_daemon(daemon); /* closes the listening socket too */
#endif
	pthread_mutex_destroy(&ex.lock);
	return status;
}
