/* SPDX-License-Identifier: MIT */
/*
 * qmx_ktest.c - kernel-path tests run inside the QEMU guest (statically
 * linked, no cmocka), one subcommand per step of tests/kernel/guest/init.sh:
 *
 *   qmx_ktest nodev WHY         opening "kmod" fails with ENODEV, message has WHY
 *   qmx_ktest gemm [--seed S]   device listed; one random GEMM per output kind, bit-exact
 *   qmx_ktest badinput          every malformed ioctl -> -EINVAL / -ENOENT
 *   qmx_ktest kill              a process killed with jobs in flight frees its BOs
 *   qmx_ktest closeloop [--reader] [--iterations N]
 *                               open, submit one small job, close at once, N times
 *                               (with --reader a thread reads counters and the
 *                               closing fd's fdinfo all along); no job may outlive
 *                               its file's scheduler entity
 *   qmx_ktest fuzz [--count N] [--seed S]
 *                               N random and mutated ioctls (qmx and generic DRM),
 *                               mmaps of returned offsets, fds closed with jobs in
 *                               flight, children killed mid-job; then every BO
 *                               must be freed (the harness checks dmesg)
 *   qmx_ktest multiproc         8 processes at once on one device, bit-exact, and
 *                               no BO left when they exit
 *   qmx_ktest pinlimit          pinned memory is bounded per file and per device,
 *                               and released when jobs end; the BOs of a file are
 *                               bounded (qmx.ko loaded with pin_limit_mb=96
 *                               file_pin_limit_mb=64 file_bo_limit_mb=192)
 *   qmx_ktest unbind BDF        unbind the device with jobs queued and running: every
 *                               job ends (done, or "device removed"), none hangs;
 *                               bind it again and run a bit-exact GEMM
 *   qmx_ktest lost BDF          ask the host to SIGKILL qmx-simd with jobs running:
 *                               every job ends "device removed or lost", new work
 *                               is refused the same way; then unbind the dead
 *                               device, ask for a restarted server behind a
 *                               hot-plugged one, bind that, and run bit-exact GEMMs
 *   qmx_ktest fault hang|axi    inject through qmx-simd's control port (ttyS1),
 *                               the job fails, the next one is bit-exact
 *   qmx_ktest ring              batches through the command queue: the ring laps
 *                               (wrap-around), two batches of 2.5 rings at once
 *                               (back-pressure, nothing lost); all bit-exact
 *   qmx_ktest badbatch          a descriptor the device refuses mid-batch: the ones
 *                               before and the independent one after are exact, it
 *                               fails BAD_DESC naming its entry, its dependants are
 *                               not run (C untouched); the queue goes on
 *   qmx_ktest failforget        more failures than the engine remembers (a refused
 *                               descriptor, 11 entries chained behind it): the next
 *                               chained batch is bit-exact (the driver makes the
 *                               idle engine forget them)
 *   qmx_ktest hangbatch         a hang injected mid-batch: timeout, reset; the hung
 *                               entry "timed out", the ones behind "canceled" and not
 *                               re-run; the next batch bit-exact
 *   qmx_ktest killbatch         a process killed with a batch in flight frees every
 *                               BO; the next process's batch is bit-exact
 *   qmx_ktest exit CODE         leave QEMU through isa-debug-exit
 *
 * Exit status 0 = pass; every failure prints "FAIL: <why>".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "qmx/qmx.h"
#include "qmx_accel.h"
#include "qmx_util.h"

/*
 * The device node: an accel node on kernels with DRIVER_COMPUTE_ACCEL
 * (>= 6.2), else a render node.  Looked up at each use: unbind and replug
 * remove and recreate it.
 */
static const char *kt_node(void)
{
	static const char *const nodes[] = { "/dev/accel/accel0", "/dev/dri/renderD128" };

	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
		if (!access(nodes[i], F_OK))
			return nodes[i];
	return nodes[1];
}

#define KT_NODE kt_node()
#define KT_CTL_TTY "/dev/ttyS1"
#define KT_DEBUG_EXIT_PORT 0xf4

static int failures;
static uint64_t seed = 20261127;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("FAIL: ", stdout);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	failures++;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ GEMM through libqmx */

/* One random problem on `dev`, compared with the reference.  Returns the
 * qmx error of the run (0 = ran and matched or mismatch reported). */
static int run_random(qmx_device *dev, qmx_rng *rng, int64_t m, int64_t n, int64_t k,
		      int out_type, bool expect_ok)
{
	qmx_gemm_params p;
	qmx_gemm_host_operands ops;
	qmx_problem pb;
	char msg[160];
	int err;

	qmx_gemm_params_init(&p, m, n, k);
	qmx_problem_random_quant(&p, rng);
	p.out_type = out_type;
	if (qmx_problem_init(&pb, &p, rng, QMX_FILL_RANDOM)) {
		fail("out of memory");
		return QMX_ENOMEM;
	}
	qmx_problem_compute_reference(&pb);
	qmx_problem_operands(&pb, &ops, false);
	err = qmx_gemm(dev, &pb.p, &ops, NULL);
	if (expect_ok) {
		if (err)
			fail("%lldx%lldx%lld gemm: %s (%s)", (long long)m, (long long)n,
			     (long long)k, qmx_error_name(err), qmx_last_error());
		else if (!qmx_problem_matches(&pb, msg, sizeof(msg)))
			fail("%lldx%lldx%lld %s: not bit-exact: %s", (long long)m,
			     (long long)n, (long long)k, out_type ? "int8" : "int32", msg);
		else
			printf("ok: %lldx%lldx%lld %s bit-exact\n", (long long)m,
			       (long long)n, (long long)k, out_type ? "int8" : "int32");
	}
	qmx_problem_free(&pb);
	return err;
}

/* No qmx node: opening "kmod" must fail with ENODEV and say why. */
static int cmd_nodev(const char *why)
{
	qmx_device *dev = NULL;
	int err = qmx_device_open("kmod", &dev);

	if (err != QMX_ENODEV)
		fail("open kmod without a device: %s, expected QMX_ENODEV", qmx_error_name(err));
	else if (!strstr(qmx_last_error(), why))
		fail("open kmod without a device says '%s', expected it to mention '%s'",
		     qmx_last_error(), why);
	else
		printf("ok: %s\n", qmx_last_error());
	qmx_device_del(dev);
	return failures != 0;
}

static int cmd_gemm(void)
{
	qmx_device_info infos[8];
	qmx_device *dev;
	qmx_rng rng = { seed };
	size_t n = 0, kmod = 0;
	char uri[64];
	int err = qmx_device_open("kmod", &dev);

	if (err) {
		fail("open kmod: %s", qmx_last_error());
		return 1;
	}
	/* Enumeration lists the node by its full URI. */
	qmx_device_list(infos, 8, &n);
	snprintf(uri, sizeof(uri), "kmod:%s", KT_NODE);
	for (size_t i = 0; i < n && i < 8; i++)
		if (!strcmp(infos[i].uri, uri))
			kmod++;
	if (kmod != 1)
		fail("qmx_device_list: %zu entries for kmod:%s (of %zu devices)", kmod, KT_NODE, n);
	else
		printf("ok: qmx_device_list has kmod:%s\n", KT_NODE);
	run_random(dev, &rng, 5, 7, 9, QMX_OUT_INT32, true);
	run_random(dev, &rng, 17, 33, 70, QMX_OUT_INT8, true);
	qmx_device_del(dev);
	return failures != 0;
}

/* ------------------------------------------------------------ bad ioctls */

struct kt_bo {
	uint32_t handle;
	uint64_t size;
};

static int bo_new(int fd, uint64_t size, struct kt_bo *bo)
{
	struct drm_qmx_bo_create c = { .size = size };

	if (drmIoctl(fd, DRM_IOCTL_QMX_BO_CREATE, &c))
		return -errno;
	bo->handle = c.handle;
	bo->size = size;
	return 0;
}

/* A valid 4x4x4 int32 GEMM in three BOs. */
static void good_gemm(struct drm_qmx_gemm *g, const struct kt_bo *a, const struct kt_bo *b,
		      const struct kt_bo *c)
{
	memset(g, 0, sizeof(*g));
	g->m = g->n = g->k = 4;
	g->lda = g->ldb = g->ldc = 4;
	g->out_type = DRM_QMX_OUT_INT32;
	g->multiplier = 1 << 30;
	g->shift = 1;
	g->qmin = -128;
	g->qmax = 127;
	g->a.handle = a->handle;
	g->b.handle = b->handle;
	g->c.handle = c->handle;
}

static int submit(int fd, struct drm_qmx_gemm *g, uint32_t size, uint32_t flags,
		  uint64_t reserved, uint64_t *job)
{
	struct drm_qmx_submit s = {
		.gemm_ptr = (uint64_t)(uintptr_t)g,
		.gemm_struct_size = size,
		.flags = flags,
		.reserved = reserved,
	};

	if (drmIoctl(fd, DRM_IOCTL_QMX_SUBMIT, &s))
		return -errno;
	if (job)
		*job = s.job_id;
	return 0;
}

static void expect(const char *what, int got, int want1, int want2)
{
	if (got == want1 || got == want2)
		printf("ok: %s -> %d (%s)\n", what, got, strerror(-got));
	else
		fail("%s -> %d (%s), expected %d%s%s", what, got,
		     got ? strerror(-got) : "accepted", want1, want2 != want1 ? " or " : "",
		     want2 != want1 ? strerror(-want2) : "");
}

static int submit_batch(int fd, struct drm_qmx_batch_entry *e, uint32_t count,
			uint32_t entry_size, uint32_t flags, uint64_t *job)
{
	struct drm_qmx_submit_batch s = {
		.entries_ptr = (uint64_t)(uintptr_t)e,
		.entry_struct_size = entry_size,
		.count = count,
		.flags = flags,
	};

	if (drmIoctl(fd, DRM_IOCTL_QMX_SUBMIT_BATCH, &s))
		return -errno;
	if (job)
		*job = s.job_id;
	return 0;
}

/* SUBMIT_BATCH: a bad field in any entry refuses the whole batch, and
 * C (written 0x5a beforehand) shows that nothing ran; then a good batch
 * reports every entry through WAIT. */
static void badinput_batch(int fd, const struct kt_bo *a, const struct kt_bo *b,
			   const struct kt_bo *c)
{
	enum { N = 4 };
	struct drm_qmx_batch_entry e[N];
	struct drm_qmx_job_stats st[N], all;
	struct drm_qmx_bo_mmap_offset mo = { .handle = c->handle };
	uint64_t job = 0;
	uint8_t *cm = MAP_FAILED;

	if (!drmIoctl(fd, DRM_IOCTL_QMX_BO_MMAP_OFFSET, &mo))
		cm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)mo.offset);
	if (cm == MAP_FAILED) {
		fail("mapping C: %s", strerror(errno));
		return;
	}
	memset(cm, 0x5a, 4096);
	/* Four 4x4x4 GEMMs into C at 0, 64, 128, 192; entry i waits for i-1. */
#define KT_BATCH_RESET()						\
	do {								\
		for (int i = 0; i < N; i++) {				\
			memset(&e[i], 0, sizeof(e[i]));			\
			good_gemm(&e[i].gemm, a, b, c);			\
			e[i].gemm.c.offset = (uint64_t)i * 64;		\
			e[i].wait_for = i ? i - 1 : DRM_QMX_NO_WAIT;	\
		}							\
	} while (0)
	KT_BATCH_RESET();
	e[2].gemm.m = 0;
	expect("batch: entry 2 with m = 0", submit_batch(fd, e, N, sizeof(e[0]), 0, NULL),
	       -EINVAL, -EINVAL);
	KT_BATCH_RESET();
	e[3].gemm.c.offset = 4096 - 32;
	expect("batch: entry 3 beyond its BO", submit_batch(fd, e, N, sizeof(e[0]), 0, NULL),
	       -EINVAL, -EINVAL);
	KT_BATCH_RESET();
	e[1].wait_for = 1;
	expect("batch: entry 1 waits for itself", submit_batch(fd, e, N, sizeof(e[0]), 0, NULL),
	       -EINVAL, -EINVAL);
	KT_BATCH_RESET();
	e[2].wait_for = -2;
	expect("batch: wait_for -2", submit_batch(fd, e, N, sizeof(e[0]), 0, NULL), -EINVAL,
	       -EINVAL);
	KT_BATCH_RESET();
	e[1].flags = 1;
	expect("batch: entry flags != 0", submit_batch(fd, e, N, sizeof(e[0]), 0, NULL),
	       -EINVAL, -EINVAL);
	KT_BATCH_RESET();
	e[3].gemm.b.handle = 0xdead;
	expect("batch: entry 3 unknown handle", submit_batch(fd, e, N, sizeof(e[0]), 0, NULL),
	       -ENOENT, -ENOENT);
	KT_BATCH_RESET();
	expect("batch: count 0", submit_batch(fd, e, 0, sizeof(e[0]), 0, NULL), -EINVAL,
	       -EINVAL);
	expect("batch: count 4097", submit_batch(fd, e, DRM_QMX_BATCH_MAX_ENTRIES + 1,
						 sizeof(e[0]), 0, NULL), -EINVAL, -EINVAL);
	expect("batch: flags != 0", submit_batch(fd, e, N, sizeof(e[0]), 1, NULL), -EINVAL,
	       -EINVAL);
	expect("batch: entry_struct_size too small", submit_batch(fd, e, N, 8, 0, NULL),
	       -EINVAL, -EINVAL);
	for (int i = 0; i < 4096; i++) {
		if (cm[i] != 0x5a) {
			fail("a refused batch wrote C (byte %d = 0x%02x)", i, cm[i]);
			break;
		}
	}

	KT_BATCH_RESET();
#undef KT_BATCH_RESET
	expect("batch: 4 valid chained entries", submit_batch(fd, e, N, sizeof(e[0]), 0, &job),
	       0, 0);
	if (job) {
		struct drm_qmx_wait w = { .job_id = job, .timeout_ns = 60000000000ll,
					  .stats_ptr = (uintptr_t)&all,
					  .stats_struct_size = sizeof(all),
					  .entries_ptr = (uintptr_t)st, .entries_count = N };
		int r = drmIoctl(fd, DRM_IOCTL_QMX_WAIT, &w) ? -errno : 0;

		expect("WAIT for the batch with entry stats", r, 0, 0);
		uint64_t macs = 0;

		for (int i = 0; !r && i < N; i++) {
			if (st[i].status != DRM_QMX_JOB_DONE || !st[i].macs)
				fail("batch entry %d: status %u, %llu MACs (want DONE, > 0)", i,
				     st[i].status, (unsigned long long)st[i].macs);
			macs += st[i].macs;
		}
		if (!r && (all.status != DRM_QMX_JOB_DONE || all.macs != macs))
			fail("batch: status %u, %llu MACs (want DONE, the entries' %llu)",
			     all.status, (unsigned long long)all.macs, (unsigned long long)macs);
		w.entries_count = N + 1;
		expect("WAIT entries_count past the batch",
		       drmIoctl(fd, DRM_IOCTL_QMX_WAIT, &w) ? -errno : 0, -EINVAL, -EINVAL);
		w.entries_count = 0;
		expect("WAIT entries_ptr without entries_count",
		       drmIoctl(fd, DRM_IOCTL_QMX_WAIT, &w) ? -errno : 0, -EINVAL, -EINVAL);
	}
	munmap(cm, 4096);
}

static int cmd_badinput(void)
{
	struct kt_bo a, b, c;
	struct drm_qmx_gemm g;
	/* A bigger struct than the kernel knows, with a non-zero tail. */
	struct {
		struct drm_qmx_gemm g;
		uint64_t extra;
	} big;
	uint64_t job = 0;
	int fd = open(KT_NODE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fail("open %s: %s", KT_NODE, strerror(errno));
		return 1;
	}
	if (bo_new(fd, 4096, &a) || bo_new(fd, 4096, &b) || bo_new(fd, 4096, &c)) {
		fail("BO_CREATE: %s", strerror(errno));
		return 1;
	}

	/* The valid job first: the mutations below are then the only cause. */
	good_gemm(&g, &a, &b, &c);
	expect("valid 4x4x4 submit", submit(fd, &g, sizeof(g), 0, 0, &job), 0, 0);
	if (job) {
		struct drm_qmx_job_stats st = { 0 };
		struct drm_qmx_wait w = { .job_id = job, .timeout_ns = 60000000000ll,
					  .stats_ptr = (uintptr_t)&st,
					  .stats_struct_size = sizeof(st) };
		int r = drmIoctl(fd, DRM_IOCTL_QMX_WAIT, &w) ? -errno : 0;

		expect("wait for the valid job", r, 0, 0);
		if (!r && st.status != DRM_QMX_JOB_DONE)
			fail("valid job ended with status %u (hw_error %u)", st.status,
			     st.hw_error);
	}

	good_gemm(&g, &a, &b, &c);
	g.b.handle = 0xdead;
	expect("unknown BO handle", submit(fd, &g, sizeof(g), 0, 0, NULL), -ENOENT, -EINVAL);

	good_gemm(&g, &a, &b, &c);
	g.c.offset = 4096 - 32; /* C needs 64 bytes */
	expect("offset + extent beyond the BO", submit(fd, &g, sizeof(g), 0, 0, NULL),
	       -EINVAL, -EINVAL);

	good_gemm(&g, &a, &b, &c);
	g.a.offset = UINT64_MAX - 8;
	expect("offset wrapping around", submit(fd, &g, sizeof(g), 0, 0, NULL), -EINVAL,
	       -EINVAL);

	good_gemm(&g, &a, &b, &c);
	g.m = 1ull << 62;
	g.lda = 1ull << 62;
	expect("overflowing dims (m * lda)", submit(fd, &g, sizeof(g), 0, 0, NULL), -EINVAL,
	       -EINVAL);

	good_gemm(&g, &a, &b, &c);
	g.k = 0;
	expect("zero K", submit(fd, &g, sizeof(g), 0, 0, NULL), -EINVAL, -EINVAL);

	good_gemm(&g, &a, &b, &c);
	g.a.pad = 1;
	expect("operand pad != 0", submit(fd, &g, sizeof(g), 0, 0, NULL), -EINVAL, -EINVAL);

	good_gemm(&g, &a, &b, &c);
	expect("submit.reserved != 0", submit(fd, &g, sizeof(g), 0, 1, NULL), -EINVAL,
	       -EINVAL);
	expect("submit.flags != 0", submit(fd, &g, sizeof(g), 1, 0, NULL), -EINVAL, -EINVAL);
	expect("gemm_struct_size too small", submit(fd, &g, 8, 0, 0, NULL), -EINVAL,
	       -EINVAL);
	big.g = g;
	big.extra = 1;
	expect("gemm_struct_size larger, non-zero tail",
	       submit(fd, &big.g, sizeof(big), 0, 0, NULL), -EINVAL, -EINVAL);

	{
		struct drm_qmx_bo_create bc = { .size = 0 };
		struct drm_qmx_bo_create bf = { .size = 4096, .flags = 1 };
		struct drm_qmx_bo_mmap_offset mo = { .handle = 0xbeef };
		struct drm_qmx_get_param gp = { .param = 0xffff };
		struct drm_qmx_wait w = { .job_id = 0x7fffffff, .timeout_ns = 0 };

		expect("BO_CREATE size 0",
		       drmIoctl(fd, DRM_IOCTL_QMX_BO_CREATE, &bc) ? -errno : 0, -EINVAL,
		       -EINVAL);
		expect("BO_CREATE flags != 0",
		       drmIoctl(fd, DRM_IOCTL_QMX_BO_CREATE, &bf) ? -errno : 0, -EINVAL,
		       -EINVAL);
		expect("BO_MMAP_OFFSET unknown handle",
		       drmIoctl(fd, DRM_IOCTL_QMX_BO_MMAP_OFFSET, &mo) ? -errno : 0, -ENOENT,
		       -EINVAL);
		expect("GET_PARAM unknown param",
		       drmIoctl(fd, DRM_IOCTL_QMX_GET_PARAM, &gp) ? -errno : 0, -EINVAL,
		       -EINVAL);
		expect("WAIT unknown job",
		       drmIoctl(fd, DRM_IOCTL_QMX_WAIT, &w) ? -errno : 0, -ENOENT, -ENOENT);
	}
	if (job) {
		static uint8_t room[8192];
		struct drm_qmx_wait w = { .job_id = job, .stats_ptr = (uintptr_t)room,
					  .stats_struct_size = 4097 };

		expect("WAIT stats_struct_size 4097 (> 4096)",
		       drmIoctl(fd, DRM_IOCTL_QMX_WAIT, &w) ? -errno : 0, -EINVAL, -EINVAL);
		w.stats_struct_size = 4096;
		memset(room, 0xa5, sizeof(room));
		expect("WAIT stats_struct_size 4096 (tail zeroed)",
		       drmIoctl(fd, DRM_IOCTL_QMX_WAIT, &w) ? -errno : 0, 0, 0);
		if (room[4095] != 0 || room[4096] != 0xa5)
			fail("WAIT with stats_struct_size 4096: byte 4095 = 0x%02x (want 0), 4096 = 0x%02x (want 0xa5)",
			     room[4095], room[4096]);
	}
	badinput_batch(fd, &a, &b, &c);
	close(fd);
	return failures != 0;
}

/* ------------------------------------------------------------ killed with jobs in flight */

static long meminfo_kb(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");
	size_t n = strlen(key);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

#define KT_KILL_BUFS 4
#define KT_KILL_BUF_MB 4

static void kill_child(void)
{
	qmx_device *dev;
	qmx_buffer *buf[KT_KILL_BUFS];
	qmx_job *job[8];
	qmx_gemm_desc d;

	qmx_device_info info;
	int64_t k;

	if (qmx_device_open("kmod", &dev) || qmx_device_query(dev, &info)) {
		printf("child: open kmod: %s\n", qmx_last_error());
		_exit(10);
	}
	/* Long enough to still run when the process dies. */
	k = info.max_dim < 512 ? (int64_t)info.max_dim : 512;
	for (int i = 0; i < KT_KILL_BUFS; i++) {
		void *p;

		if (qmx_buffer_new(dev, KT_KILL_BUF_MB << 20, 0, &buf[i]) ||
		    qmx_buffer_map(buf[i], &p)) {
			printf("child: buffer: %s\n", qmx_last_error());
			_exit(11);
		}
		memset(p, i + 1, KT_KILL_BUF_MB << 20); /* populate the pages */
	}
	memset(&d, 0, sizeof(d));
	qmx_gemm_params_init(&d.params, 64, 64, k);
	d.a = (qmx_ref){ buf[0], 0 };
	d.b = (qmx_ref){ buf[1], 0 };
	for (int j = 0; j < 8; j++) {
		d.c = (qmx_ref){ buf[2 + (j & 1)], (uint64_t)(j / 2) * 64 * 64 * 4 };
		if (qmx_gemm_submit(dev, &d, &job[j])) {
			printf("child: submit: %s\n", qmx_last_error());
			_exit(12);
		}
	}
	printf("child: 8 jobs in flight on %d x %d MiB BOs, killing myself\n",
	       KT_KILL_BUFS, KT_KILL_BUF_MB);
	fflush(stdout);
	raise(SIGKILL);
	_exit(13);
}

/*
 * Fork `child` (it dies by SIGKILL with work in flight), wait for it, then
 * for every page of its BOs to come back (Shmem); bounded waits.
 */
static int run_killed_child(void (*child)(void))
{
	long base = meminfo_kb("Shmem"), now = -1;
	int status = 0;
	pid_t pid;
	uint64_t t0;

	if (base < 0) {
		fail("no Shmem in /proc/meminfo");
		return 1;
	}
	pid = fork();
	if (pid == 0)
		child();
	/* Bounded wait for the child. */
	t0 = now_ms();
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() - t0 > 60000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail("child did not finish in 60 s");
			return 1;
		}
		usleep(20000);
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		fail("child did not die by SIGKILL (status 0x%x)", status);
		return 1;
	}
	/* The jobs keep their BOs until they finish or time out; then every
	 * page must be back. */
	t0 = now_ms();
	while (now_ms() - t0 < 90000) {
		now = meminfo_kb("Shmem");
		if (now >= 0 && now <= base + 1024)
			break;
		usleep(100000);
	}
	printf("Shmem before %ld kB, after %ld kB (%llu ms)\n", base, now,
	       (unsigned long long)(now_ms() - t0));
	if (now > base + 1024)
		fail("%ld kB of shmem still held after the process was killed (BOs leaked)",
		     now - base);
	return failures != 0;
}

static int cmd_kill(void)
{
	return run_killed_child(kill_child);
}

/* ------------------------------------------------------------ close with a job in flight */

/*
 * The scheduler thread may still be inside run_job for a file's last job when
 * that file closes (its entity's queue is already empty).  A driver that frees
 * the entity then crashes in drm_sched_main (the guest runs with slub_debug=FZP,
 * so freed memory is poisoned and the use shows at once).
 */
#define KT_CLOSELOOP_DEFAULT 300

static volatile int closeloop_fd = -1;
static volatile int closeloop_done;

static void *closeloop_reader(void *arg)
{
	int fd = open(KT_NODE, O_RDWR | O_CLOEXEC);
	uint64_t reads = 0;
	char path[64], buf[1024];

	(void)arg;
	if (fd < 0)
		return (void *)(uintptr_t)1;
	while (!closeloop_done) {
		struct drm_qmx_get_param p = { .param = DRM_QMX_PARAM_CNT_BUSY_CYCLES };
		int victim = closeloop_fd, f;

		if (drmIoctl(fd, DRM_IOCTL_QMX_GET_PARAM, &p) && errno != ENODEV)
			break;
		if (victim >= 0) {
			snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", victim);
			f = open(path, O_RDONLY);
			if (f >= 0) {
				while (read(f, buf, sizeof(buf)) > 0)
					;
				close(f);
			}
		}
		reads++;
	}
	close(fd);
	printf("reader: %" PRIu64 " counter and fdinfo reads\n", reads);
	return NULL;
}

static int cmd_closeloop(bool reader, int iterations)
{
	pthread_t thread;
	long base = meminfo_kb("Shmem"), now = -1;
	uint64_t t0 = now_ms();
	int submitted = 0;

	if (reader && pthread_create(&thread, NULL, closeloop_reader, NULL)) {
		fail("cannot start the reader thread");
		return 1;
	}
	for (int i = 0; i < iterations && !failures; i++) {
		struct kt_bo a = { 0 }, b = { 0 }, c = { 0 };
		struct drm_qmx_gemm g;
		int fd = open(KT_NODE, O_RDWR | O_CLOEXEC), ret;

		if (fd < 0) {
			fail("iteration %d: open %s: %s", i, KT_NODE, strerror(errno));
			break;
		}
		if (bo_new(fd, 4096, &a) || bo_new(fd, 4096, &b) || bo_new(fd, 4096, &c)) {
			fail("iteration %d: BO_CREATE: %s", i, strerror(errno));
			close(fd);
			break;
		}
		good_gemm(&g, &a, &b, &c);
		closeloop_fd = fd;
		ret = submit(fd, &g, sizeof(g), 0, 0, NULL);
		if (ret)
			fail("iteration %d: SUBMIT -> %s", i, strerror(-ret));
		else
			submitted++;
		/* No wait: the file goes while its job is queued or running. */
		closeloop_fd = -1;
		close(fd);
	}
	closeloop_done = 1;
	if (reader) {
		void *rv;

		pthread_join(thread, &rv);
		if (rv)
			fail("the reader thread could not open %s", KT_NODE);
	}
	/* Every job ends (done or canceled) and drops its BOs. */
	while (now_ms() - t0 < 60000) {
		now = meminfo_kb("Shmem");
		if (now >= 0 && now <= base + 256)
			break;
		usleep(50000);
	}
	printf("closeloop%s: %d files closed with a job submitted in %llu ms; Shmem %ld -> %ld kB\n",
	       reader ? " --reader" : "", submitted, (unsigned long long)(now_ms() - t0), base, now);
	if (now > base + 256)
		fail("%ld kB of shmem still held after the close loop", now - base);
	return failures != 0;
}

/* ------------------------------------------------------------ ioctl fuzzer */

#define FUZZ_BOS 8
#define FUZZ_JOBS 16

struct fuzz_state {
	qmx_rng rng;
	int fd;
	struct kt_bo bo[FUZZ_BOS];
	unsigned int nr_bos;
	uint64_t job[FUZZ_JOBS];
	uint32_t syncobj[4];
	uint64_t ioctls, accepted, submitted, mmaps, reopens, kills;
	bool is_child; /* a killed child forks no children of its own */
};

static uint64_t fuzz_pick(struct fuzz_state *st, uint64_t n)
{
	return n ? qmx_rng_next(&st->rng) % n : 0;
}

/* A value near the edges of its type, or a small one. */
static uint64_t fuzz_value(struct fuzz_state *st)
{
	static const uint64_t edge[] = { 0, 1, 2, 3, 4, 7, 8, 63, 64, 4095, 4096, 0x7fffffff,
					 0x80000000, 0xffffffff, 0x100000000ull,
					 0x7fffffffffffffffull, ~0ull };

	return fuzz_pick(st, 3) ? fuzz_pick(st, 300) : edge[fuzz_pick(st, sizeof(edge) / sizeof(edge[0]))];
}

static uint32_t fuzz_handle(struct fuzz_state *st)
{
	if (st->nr_bos && fuzz_pick(st, 8))
		return st->bo[fuzz_pick(st, st->nr_bos)].handle;
	return (uint32_t)fuzz_value(st);
}

static int fuzz_ioctl(struct fuzz_state *st, unsigned long req, void *arg)
{
	st->ioctls++;
	if (drmIoctl(st->fd, req, arg))
		return -errno;
	st->accepted++;
	return 0;
}

/* A mostly valid small GEMM, then a few fields mutated. */
static void fuzz_gemm(struct fuzz_state *st, struct drm_qmx_gemm *g)
{
	__u64 *f64 = &g->m;

	memset(g, 0, sizeof(*g));
	g->m = 1 + fuzz_pick(st, 24);
	g->n = 1 + fuzz_pick(st, 24);
	g->k = 1 + fuzz_pick(st, 48);
	g->lda = g->k;
	g->ldb = g->ldc = g->n;
	g->out_type = (uint32_t)fuzz_pick(st, 2);
	g->quant_mode = (uint32_t)fuzz_pick(st, 2);
	g->multiplier = 1 << 30;
	g->shift = (int32_t)fuzz_pick(st, 8) - 4;
	g->qmin = -128;
	g->qmax = 127;
	g->has_bias = (uint32_t)fuzz_pick(st, 2);
	g->a.handle = fuzz_handle(st);
	g->b.handle = fuzz_handle(st);
	g->c.handle = fuzz_handle(st);
	if (g->has_bias)
		g->bias.handle = fuzz_handle(st);
	if (g->out_type == DRM_QMX_OUT_INT8 && g->quant_mode == DRM_QMX_QUANT_PER_CHANNEL) {
		g->multipliers.handle = fuzz_handle(st);
		g->shifts.handle = fuzz_handle(st);
	}
	for (uint64_t i = fuzz_pick(st, 4); i > 0; i--) {
		size_t at = fuzz_pick(st, sizeof(*g) / 4);

		if (at < 6 && fuzz_pick(st, 2))
			f64[at] = fuzz_value(st);
		else
			((uint32_t *)g)[at] = (uint32_t)fuzz_value(st);
	}
}

static void fuzz_one(struct fuzz_state *st)
{
	switch (fuzz_pick(st, 12)) {
	case 0: {
		struct drm_qmx_get_param p = { .param = (uint32_t)fuzz_value(st) };

		if (fuzz_pick(st, 8) == 0)
			p.pad = (uint32_t)fuzz_value(st);
		fuzz_ioctl(st, DRM_IOCTL_QMX_GET_PARAM, &p);
		break;
	}
	case 1: {
		struct drm_qmx_bo_create c = { .size = fuzz_pick(st, 4) ? 1 + fuzz_pick(st, 1 << 16)
									: fuzz_value(st) };

		if (fuzz_pick(st, 8) == 0)
			c.flags = (uint32_t)fuzz_value(st);
		if (!fuzz_ioctl(st, DRM_IOCTL_QMX_BO_CREATE, &c)) {
			unsigned int i = st->nr_bos;

			if (i == FUZZ_BOS) {
				/* Full: the new BO replaces one, whose handle goes. */
				struct drm_gem_close gc;

				i = fuzz_pick(st, FUZZ_BOS);
				gc = (struct drm_gem_close){ .handle = st->bo[i].handle };
				fuzz_ioctl(st, DRM_IOCTL_GEM_CLOSE, &gc);
			} else {
				st->nr_bos++;
			}
			st->bo[i] = (struct kt_bo){ .handle = c.handle, .size = c.size };
		}
		break;
	}
	case 2: {
		struct drm_qmx_bo_mmap_offset mo = { .handle = fuzz_handle(st) };
		unsigned int i = st->nr_bos ? fuzz_pick(st, st->nr_bos) : 0;

		if (fuzz_pick(st, 8) == 0)
			mo.pad = (uint32_t)fuzz_value(st);
		/* Mapping populates every page (6.1 shmem helper): small BOs only,
		 * or the guest's 512 MiB go to the fuzzer's own mappings. */
		if (!fuzz_ioctl(st, DRM_IOCTL_QMX_BO_MMAP_OFFSET, &mo) && st->nr_bos &&
		    mo.handle == st->bo[i].handle && st->bo[i].size <= (64u << 20)) {
			size_t len = (size_t)(st->bo[i].size + 4095) & ~(size_t)4095;
			volatile uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
						   st->fd, (off_t)mo.offset);

			if (p != MAP_FAILED) {
				p[0] = (uint8_t)fuzz_pick(st, 256);
				p[len - 1] = p[0];
				munmap((void *)p, len);
				st->mmaps++;
			}
		}
		break;
	}
	case 3:
	case 4:
		if (fuzz_pick(st, 3) == 0) {
			/* A batch of 1..8 entries, dependencies mostly valid. */
			struct drm_qmx_batch_entry e[8];
			struct drm_qmx_submit_batch sb = { .entries_ptr = (uintptr_t)e,
							   .entry_struct_size = sizeof(e[0]),
							   .count = 1 + (uint32_t)fuzz_pick(st, 8) };

			for (uint32_t i = 0; i < sb.count; i++) {
				fuzz_gemm(st, &e[i].gemm);
				e[i].flags = fuzz_pick(st, 32) ? 0 : (uint32_t)fuzz_value(st);
				e[i].wait_for = fuzz_pick(st, 2) || !i ? DRM_QMX_NO_WAIT :
						fuzz_pick(st, 8) ? (int32_t)fuzz_pick(st, i) :
						(int32_t)fuzz_value(st);
			}
			switch (fuzz_pick(st, 10)) {
			case 0: sb.entry_struct_size = (uint32_t)fuzz_value(st); break;
			case 1: sb.count = (uint32_t)fuzz_value(st); break;
			case 2: sb.flags = (uint32_t)fuzz_value(st); break;
			case 3: sb.pad = (uint32_t)fuzz_value(st); break;
			case 4: sb.out_sync = st->syncobj[fuzz_pick(st, 4)]; break;
			case 5: sb.entries_ptr = fuzz_value(st); break;
			default: break;
			}
			if (!fuzz_ioctl(st, DRM_IOCTL_QMX_SUBMIT_BATCH, &sb)) {
				st->job[fuzz_pick(st, FUZZ_JOBS)] = sb.job_id;
				st->submitted++;
			}
			break;
		}
		/* fall through */
	case 5: {
		struct drm_qmx_gemm g;
		struct drm_qmx_submit s = { .gemm_ptr = (uintptr_t)&g, .gemm_struct_size = sizeof(g) };

		fuzz_gemm(st, &g);
		switch (fuzz_pick(st, 10)) {
		case 0: s.gemm_struct_size = (uint32_t)fuzz_value(st); break;
		case 1: s.flags = (uint32_t)fuzz_value(st); break;
		case 2: s.reserved = fuzz_value(st); break;
		case 3: s.in_sync = st->syncobj[fuzz_pick(st, 4)]; s.in_sync_point = fuzz_pick(st, 3); break;
		case 4: s.out_sync = st->syncobj[fuzz_pick(st, 4)]; s.out_sync_point = fuzz_pick(st, 3); break;
		case 5: s.gemm_ptr = fuzz_value(st); break;
		default: break;
		}
		if (!fuzz_ioctl(st, DRM_IOCTL_QMX_SUBMIT, &s)) {
			st->job[fuzz_pick(st, FUZZ_JOBS)] = s.job_id;
			st->submitted++;
		}
		break;
	}
	case 6: {
		static uint8_t stats[8192]; /* room for any size the kernel takes */
		struct drm_qmx_wait w = { .job_id = fuzz_pick(st, 4) ? st->job[fuzz_pick(st, FUZZ_JOBS)]
								 : fuzz_value(st),
					  .timeout_ns = (int64_t)fuzz_pick(st, 5000000),
					  .stats_ptr = (uintptr_t)stats,
					  .stats_struct_size = sizeof(struct drm_qmx_job_stats) };

		switch (fuzz_pick(st, 8)) {
		case 0: w.flags = (uint32_t)fuzz_value(st); break;
		case 1: w.flags = DRM_QMX_WAIT_SYNCOBJ; w.syncobj = st->syncobj[fuzz_pick(st, 4)];
			w.job_id = 0; w.stats_ptr = 0; w.stats_struct_size = 0; break;
		case 2: w.stats_struct_size = (uint32_t)fuzz_value(st); break;
		case 3: w.stats_ptr = fuzz_value(st); break;
		case 4: w.pad = (uint32_t)fuzz_value(st); break;
		case 5: w.timeout_ns = -(int64_t)fuzz_pick(st, 1000); break;
		case 6: w.entries_ptr = (uintptr_t)(stats + 64);
			w.entries_count = (uint32_t)fuzz_pick(st, 9); break;
		default: break;
		}
		fuzz_ioctl(st, DRM_IOCTL_QMX_WAIT, &w);
		break;
	}
	case 7: {
		struct drm_gem_close gc = { .handle = fuzz_handle(st) };

		if (!fuzz_ioctl(st, DRM_IOCTL_GEM_CLOSE, &gc))
			for (unsigned int i = 0; i < st->nr_bos; i++)
				if (st->bo[i].handle == gc.handle)
					st->bo[i] = st->bo[--st->nr_bos];
		break;
	}
	case 8: {
		unsigned int i = fuzz_pick(st, 4);
		struct drm_syncobj_destroy d = { .handle = st->syncobj[i] };
		struct drm_syncobj_create c = { .flags = fuzz_pick(st, 2) ? DRM_SYNCOBJ_CREATE_SIGNALED : 0 };

		if (st->syncobj[i])
			fuzz_ioctl(st, DRM_IOCTL_SYNCOBJ_DESTROY, &d);
		st->syncobj[i] = fuzz_ioctl(st, DRM_IOCTL_SYNCOBJ_CREATE, &c) ? 0 : c.handle;
		break;
	}
	case 9: {
		uint32_t h = st->syncobj[fuzz_pick(st, 4)];
		struct drm_syncobj_wait w = { .handles = (uintptr_t)&h, .count_handles = 1,
					      .timeout_nsec = 0, .flags = (uint32_t)fuzz_pick(st, 4) };
		struct drm_prime_handle ph = { .handle = fuzz_handle(st), .flags = DRM_CLOEXEC };
		struct drm_get_cap cap = { .capability = fuzz_pick(st, 24) };

		fuzz_ioctl(st, DRM_IOCTL_SYNCOBJ_WAIT, &w);
		if (!fuzz_ioctl(st, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph))
			close(ph.fd);
		fuzz_ioctl(st, DRM_IOCTL_GET_CAP, &cap);
		break;
	}
	case 10: {
		/* Close the fd with whatever is in flight, and start over. */
		if (fuzz_pick(st, 16) == 0) {
			close(st->fd);
			st->fd = open(KT_NODE, O_RDWR | O_CLOEXEC);
			st->nr_bos = 0;
			memset(st->job, 0, sizeof(st->job));
			memset(st->syncobj, 0, sizeof(st->syncobj));
			st->reopens++;
		}
		break;
	}
	default: {
		/* A child that submits and is killed mid-job. */
		if (!st->is_child && fuzz_pick(st, 32) == 0) {
			pid_t pid = fork();

			if (pid == 0) {
				struct fuzz_state child = *st;

				/* Never outlive the fuzzer, whatever happens to it. */
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				child.is_child = true;
				child.rng.state ^= 0x9e3779b97f4a7c15ull;
				for (int i = 0; i < 64; i++)
					fuzz_one(&child);
				pause();
				_exit(0);
			}
			if (pid > 0) {
				usleep((useconds_t)fuzz_pick(st, 20000));
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				st->kills++;
			}
		}
		break;
	}
	}
}

static int cmd_fuzz(uint64_t count)
{
	struct fuzz_state st = { .rng = { seed } };
	long base = meminfo_kb("Shmem"), now = -1;
	uint64_t t0 = now_ms();

	printf("fuzz: %" PRIu64 " ioctl rounds, seed %" PRIu64 " (--seed)\n", count, seed);
	st.fd = open(KT_NODE, O_RDWR | O_CLOEXEC);
	while (st.fd >= 0 && st.ioctls < count)
		fuzz_one(&st);
	if (st.fd < 0) {
		fail("open %s: %s", KT_NODE, strerror(errno));
		return 1;
	}
	close(st.fd);
	printf("fuzz: %" PRIu64 " ioctls (%" PRIu64 " accepted, %" PRIu64 " jobs), %" PRIu64
	       " mmaps, %" PRIu64 " fds closed with work in flight, %" PRIu64
	       " children killed, %llu ms\n",
	       st.ioctls, st.accepted, st.submitted, st.mmaps, st.reopens, st.kills,
	       (unsigned long long)(now_ms() - t0));
	/* Every job ends (or times out) and then every BO must be gone. */
	t0 = now_ms();
	while (now_ms() - t0 < 60000) {
		now = meminfo_kb("Shmem");
		if (now >= 0 && now <= base + 256)
			break;
		usleep(100000);
	}
	printf("fuzz: Shmem %ld -> %ld kB\n", base, now);
	if (now > base + 256)
		fail("%ld kB of shmem still held after the fuzzer's files closed", now - base);
	return failures != 0;
}

/* ------------------------------------------------------------ 8 processes at once */

#define KT_PROCS 8
#define KT_PROC_GEMMS 6

static int cmd_multiproc(void)
{
	long base = meminfo_kb("Shmem"), now = -1;
	pid_t pid[KT_PROCS];
	uint64_t t0 = now_ms();
	int bad = 0;

	for (int p = 0; p < KT_PROCS; p++) {
		pid[p] = fork();
		if (pid[p] == 0) {
			qmx_rng rng = { seed + 1000003ull * (uint64_t)(p + 1) };
			qmx_device *dev;

			if (qmx_device_open("kmod", &dev)) {
				printf("process %d: open kmod: %s\n", p, qmx_last_error());
				_exit(2);
			}
			for (int i = 0; i < KT_PROC_GEMMS; i++)
				run_random(dev, &rng, qmx_rng_range(&rng, 1, 40),
					   qmx_rng_range(&rng, 1, 40), qmx_rng_range(&rng, 1, 80),
					   i & 1 ? QMX_OUT_INT8 : QMX_OUT_INT32, true);
			qmx_device_del(dev);
			_exit(failures ? 1 : 0);
		}
	}
	for (int p = 0; p < KT_PROCS; p++) {
		int status = 0;

		while (waitpid(pid[p], &status, WNOHANG) == 0) {
			if (now_ms() - t0 > 120000) {
				kill(pid[p], SIGKILL);
				waitpid(pid[p], &status, 0);
				break;
			}
			usleep(20000);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	if (bad)
		fail("%d of %d processes failed (above)", bad, KT_PROCS);
	t0 = now_ms();
	while (now_ms() - t0 < 30000) {
		now = meminfo_kb("Shmem");
		if (now >= 0 && now <= base + 256)
			break;
		usleep(50000);
	}
	printf("multiproc: %d processes x %d GEMMs; Shmem %ld -> %ld kB\n", KT_PROCS,
	       KT_PROC_GEMMS, base, now);
	if (now > base + 256)
		fail("%ld kB of shmem (BOs) still held after every process exited", now - base);
	return failures != 0;
}

/* ------------------------------------------------------------ pinned-memory limits */

#define KT_PIN_BO_MB 40 /* init.sh loads qmx.ko with pin_limit_mb=96 file_pin_limit_mb=64 */
#define KT_PIN_LONG_K 8192

static int wait_job(int fd, uint64_t job)
{
	struct drm_qmx_wait w = { .job_id = job, .timeout_ns = 120000000000ll };

	return drmIoctl(fd, DRM_IOCTL_QMX_WAIT, &w) ? -errno : 0;
}

static long fdinfo_kb(int fd, const char *key)
{
	char path[64], line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* A GEMM whose A is a `KT_PIN_BO_MB` MiB BO; long (K = 8192) when `slow`. */
static int pin_submit(int fd, const struct kt_bo *big, const struct kt_bo *b,
		      const struct kt_bo *c, bool slow, uint64_t *job)
{
	struct drm_qmx_gemm g;

	good_gemm(&g, big, b, c);
	if (slow) {
		g.m = g.n = 64;
		g.k = g.lda = KT_PIN_LONG_K;
		g.ldb = g.ldc = 64;
	}
	return submit(fd, &g, sizeof(g), 0, 0, job);
}

static int cmd_pinlimit(void)
{
	struct kt_bo big[4], b[3], c[3];
	uint64_t slow[4] = { 0 }, job = 0;
	long unevictable0 = meminfo_kb("Unevictable"), unevictable1;
	int fd[3];

	for (int f = 0; f < 3; f++) {
		fd[f] = open(KT_NODE, O_RDWR | O_CLOEXEC);
		if (fd[f] < 0 || bo_new(fd[f], (uint64_t)KT_PIN_LONG_K * 64, &b[f]) ||
		    bo_new(fd[f], 64 * 64 * 4, &c[f])) {
			fail("open and BO_CREATE: %s", strerror(errno));
			return 1;
		}
	}
	/* Creating large BOs pins nothing: only jobs do. */
	for (int i = 0; i < 4; i++)
		if (bo_new(fd[i < 2 ? 0 : i - 1], (uint64_t)KT_PIN_BO_MB << 20, &big[i])) {
			fail("BO_CREATE %d MiB: %s", KT_PIN_BO_MB, strerror(errno));
			return 1;
		}

	/* File 0 has 80.5 MiB of BOs: 120 more pass its 192 MiB; file 1's do not. */
	struct drm_qmx_bo_create huge = { .size = 120ull << 20 };

	expect("file 0: BO_CREATE 120 MiB more (file_bo_limit_mb 192)",
	       drmIoctl(fd[0], DRM_IOCTL_QMX_BO_CREATE, &huge) ? -errno : 0, -ENOSPC, -ENOSPC);
	expect("file 1: BO_CREATE 120 MiB (40.5 MiB of its own)",
	       drmIoctl(fd[1], DRM_IOCTL_QMX_BO_CREATE, &huge) ? -errno : 0, 0, 0);
	if (huge.handle) {
		struct drm_gem_close gc = { .handle = huge.handle };

		drmIoctl(fd[1], DRM_IOCTL_GEM_CLOSE, &gc);
	}

	/* File 0 keeps big[0] pinned with four long jobs queued on it. */
	for (int j = 0; j < 4; j++)
		expect("file 0: long job on its first 40 MiB BO",
		       pin_submit(fd[0], &big[0], &b[0], &c[0], true, &slow[j]), 0, 0);
	printf("file 0 pins %ld KiB (fdinfo qmx-pinned-memory)\n",
	       fdinfo_kb(fd[0], "qmx-pinned-memory"));
	expect("file 0: a second 40 MiB BO while the first is pinned (file limit 64 MiB)",
	       pin_submit(fd[0], &big[1], &b[0], &c[0], false, NULL), -ENOSPC, -ENOSPC);
	expect("file 1: its own 40 MiB BO (device total 80 of 96 MiB)",
	       pin_submit(fd[1], &big[2], &b[1], &c[1], true, &job), 0, 0);
	expect("file 2: a third 40 MiB BO (device limit 96 MiB)",
	       pin_submit(fd[2], &big[3], &b[2], &c[2], false, NULL), -ENOSPC, -ENOSPC);

	/* When the jobs end their pins go. */
	for (int j = 0; j < 4; j++)
		expect("wait for file 0's long job", wait_job(fd[0], slow[j]), 0, 0);
	expect("wait for file 1's job", wait_job(fd[1], job), 0, 0);
	for (int i = 0; i < 100 && fdinfo_kb(fd[0], "qmx-pinned-memory"); i++)
		usleep(20000); /* free_job runs just after the fence */
	expect("file 0: the second BO once the first is unpinned",
	       pin_submit(fd[0], &big[1], &b[0], &c[0], false, &job), 0, 0);
	expect("wait for it", wait_job(fd[0], job), 0, 0);
	expect("file 2: the third BO now", pin_submit(fd[2], &big[3], &b[2], &c[2], false, &job),
	       0, 0);
	expect("wait for it", wait_job(fd[2], job), 0, 0);
	for (int i = 0; i < 100; i++) {
		long sum = 0;

		for (int f = 0; f < 3; f++)
			sum += fdinfo_kb(fd[f], "qmx-pinned-memory");
		if (!sum)
			break;
		usleep(20000);
	}
	for (int f = 0; f < 3; f++) {
		long kb = fdinfo_kb(fd[f], "qmx-pinned-memory");

		if (kb != 0)
			fail("file %d still pins %ld KiB with no job left", f, kb);
	}
	unevictable1 = meminfo_kb("Unevictable");
	printf("Unevictable %ld -> %ld kB\n", unevictable0, unevictable1);
	if (unevictable1 > unevictable0 + 1024)
		fail("%ld kB stay unevictable after every job ended", unevictable1 - unevictable0);
	for (int f = 0; f < 3; f++)
		close(fd[f]);
	return failures != 0;
}

/* ------------------------------------------------------------ unbind with jobs queued */

#define KT_UNBIND_JOBS 8

static int write_sysfs(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	close(fd);
	return ok ? 0 : -EIO;
}

/* The child: queue jobs of depth `k`, say so on `ready`, then wait for each. */
static void unbind_child(int ready, int64_t k)
{
	qmx_device *dev;
	qmx_buffer *buf[3];
	qmx_job *job[KT_UNBIND_JOBS];
	qmx_gemm_desc d;
	int done = 0, removed = 0, other = 0;

	if (qmx_device_open("kmod", &dev)) {
		printf("child: open kmod: %s\n", qmx_last_error());
		_exit(10);
	}
	for (int i = 0; i < 3; i++)
		if (qmx_buffer_new(dev, 1 << 20, 0, &buf[i])) {
			printf("child: buffer: %s\n", qmx_last_error());
			_exit(11);
		}
	memset(&d, 0, sizeof(d));
	qmx_gemm_params_init(&d.params, 64, 64, k);
	d.a = (qmx_ref){ buf[0], 0 };
	d.b = (qmx_ref){ buf[1], 0 };
	d.c = (qmx_ref){ buf[2], 0 };
	for (int j = 0; j < KT_UNBIND_JOBS; j++)
		if (qmx_gemm_submit(dev, &d, &job[j])) {
			printf("child: submit %d: %s\n", j, qmx_last_error());
			_exit(12);
		}
	if (write(ready, "q", 1) != 1)
		_exit(13);
	for (int j = 0; j < KT_UNBIND_JOBS; j++) {
		int err = qmx_job_wait(job[j], 60000000000LL);

		if (!err) {
			done++;
		} else if (err == QMX_ENODEV && strstr(qmx_last_error(), "device removed or lost")) {
			removed++;
			if (removed == 1)
				printf("child: job %d: %s\n", j, qmx_last_error());
		} else {
			other++;
			printf("child: job %d: %s: %s\n", j, qmx_error_name(err), qmx_last_error());
		}
		qmx_job_del(job[j]);
	}
	printf("child: %d job(s) done, %d ended \"device removed or lost\", %d otherwise\n", done,
	       removed, other);
	for (int i = 0; i < 3; i++)
		qmx_buffer_del(buf[i]);
	qmx_device_del(dev);
	_exit(other || !removed || done + removed != KT_UNBIND_JOBS ? 14 : 0);
}

/* Fork unbind_child() with jobs of depth k and return once they are queued:
 * its pid, or -1 after a failure. */
static pid_t start_queued_child(int64_t k)
{
	int pipefd[2], status = 0;
	pid_t pid;
	char c;

	if (pipe(pipefd)) {
		fail("pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		unbind_child(pipefd[1], k);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1) {
		waitpid(pid, &status, 0);
		close(pipefd[0]);
		fail("child failed before its jobs were queued (status 0x%x)", status);
		return -1;
	}
	close(pipefd[0]);
	return pid;
}

/* Wait (at most limit_ms from t0) for that child to see every job ended. */
static void wait_queued_child(pid_t pid, uint64_t t0, uint64_t limit_ms, const char *after)
{
	int status = 0;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() - t0 > limit_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail("child still waiting for its jobs %llu s after %s",
			     (unsigned long long)limit_ms / 1000, after);
			return;
		}
		usleep(20000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("child: jobs not all accounted for after %s (status 0x%x)", after, status);
}

static int cmd_unbind(const char *bdf)
{
	char path[128];
	qmx_rng rng = { seed };
	qmx_device *dev;
	uint64_t t0;
	int err;
	pid_t pid = start_queued_child(512);

	if (pid < 0)
		return 1;
	usleep(20000); /* let the first job start on the device */
	t0 = now_ms();
	err = write_sysfs("/sys/bus/pci/drivers/qmx_cosim/unbind", bdf);
	printf("unbind %s with %d jobs queued -> %d (%llu ms)\n", bdf, KT_UNBIND_JOBS, err,
	       (unsigned long long)(now_ms() - t0));
	if (err)
		fail("unbind %s: %s", bdf, strerror(-err));
	wait_queued_child(pid, t0, 60000, "the unbind");

	/* driver_override still names qmx_cosim: probe binds it again. */
	err = write_sysfs("/sys/bus/pci/drivers_probe", bdf);
	for (int i = 0; i < 300 && access(KT_NODE, F_OK); i++)
		usleep(100000);
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/qmx_cosim/%s", bdf);
	if (err || access(path, F_OK) || access(KT_NODE, F_OK)) {
		fail("rebind %s: %s; %s %s", bdf, strerror(-err), KT_NODE,
		     access(KT_NODE, F_OK) ? "missing" : "present");
		return 1;
	}
	printf("ok: %s bound again\n", bdf);
	if (qmx_device_open("kmod", &dev)) {
		fail("open kmod after the rebind: %s", qmx_last_error());
		return 1;
	}
	run_random(dev, &rng, 33, 17, 70, QMX_OUT_INT8, true);
	qmx_device_del(dev);
	return failures != 0;
}

/* ------------------------------------------------------------ device lost */

/* The harness (run_kernel_test.sh) watches the console for these lines. */
#define KT_HOST_KILL_SIMD "QMX-HOST: kill-simd"
#define KT_HOST_RESTART_SIMD "QMX-HOST: restart-simd"

/* The BDF of an ivshmem device (1af4:1110) other than `not`, or "". */
static void find_ivshmem(char *bdf, size_t len, const char *not)
{
	char path[300], id[16];
	struct dirent *de;
	DIR *dir = opendir("/sys/bus/pci/devices");

	bdf[0] = 0;
	while (dir && (de = readdir(dir))) {
		FILE *f;
		unsigned int vendor = 0, device = 0;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		if ((f = fopen(path, "r"))) {
			if (fgets(id, sizeof(id), f))
				vendor = (unsigned int)strtoul(id, NULL, 16);
			fclose(f);
		}
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", de->d_name);
		if ((f = fopen(path, "r"))) {
			if (fgets(id, sizeof(id), f))
				device = (unsigned int)strtoul(id, NULL, 16);
			fclose(f);
		}
		if (vendor == 0x1af4 && device == 0x1110 && strcmp(de->d_name, not))
			snprintf(bdf, len, "%s", de->d_name);
	}
	if (dir)
		closedir(dir);
}

/*
 * The operator's way back: unbind the dead device, start a new server behind
 * a new (hot-plugged) device, bind that one.
 */
static int replug(const char *old_bdf)
{
	char bdf[300] = "", path[400];
	qmx_rng rng = { seed + 1 };
	qmx_device *dev;
	uint64_t t0;
	int err;

	t0 = now_ms();
	err = write_sysfs("/sys/bus/pci/drivers/qmx_cosim/unbind", old_bdf);
	printf("unbind the dead device %s -> %d (%llu ms)\n", old_bdf, err,
	       (unsigned long long)(now_ms() - t0));
	if (err) {
		fail("unbind %s: %s", old_bdf, strerror(-err));
		return 1;
	}
	t0 = now_ms();
	printf("%s\n", KT_HOST_RESTART_SIMD);
	while (now_ms() - t0 < 90000) {
		find_ivshmem(bdf, sizeof(bdf), old_bdf);
		if (bdf[0])
			break;
		usleep(100000);
	}
	if (!bdf[0]) {
		fail("no new ivshmem device 90 s after asking for one");
		return 1;
	}
	printf("new device %s after %llu ms\n", bdf, (unsigned long long)(now_ms() - t0));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (write_sysfs(path, "qmx_cosim") || write_sysfs("/sys/bus/pci/drivers_probe", bdf)) {
		fail("binding qmx_cosim to %s: %s", bdf, strerror(errno));
		return 1;
	}
	for (int i = 0; i < 300 && access(KT_NODE, F_OK); i++)
		usleep(100000);
	if (qmx_device_open("kmod", &dev)) {
		fail("open kmod on the new device: %s", qmx_last_error());
		return 1;
	}
	run_random(dev, &rng, 21, 19, 40, QMX_OUT_INT8, true);
	run_random(dev, &rng, 8, 8, 8, QMX_OUT_INT32, true);
	qmx_device_del(dev);
	return failures != 0;
}

static int cmd_lost(const char *bdf)
{
	qmx_rng rng = { seed };
	qmx_device *dev;
	uint64_t t0;
	int err;
	pid_t pid = start_queued_child(8192); /* ~0.5 s each: still running at the kill */

	if (pid < 0)
		return 1;
	t0 = now_ms();
	printf("%s\n", KT_HOST_KILL_SIMD);
	wait_queued_child(pid, t0, 90000, "the server was killed");
	printf("jobs accounted for %llu ms after the kill request\n",
	       (unsigned long long)(now_ms() - t0));

	/* New work is refused at once, with the same words. */
	err = qmx_device_open("kmod", &dev);
	if (!err) {
		err = run_random(dev, &rng, 8, 8, 8, QMX_OUT_INT32, false);
		qmx_device_del(dev);
	}
	if (err != QMX_ENODEV || (!strstr(qmx_last_error(), "lost") &&
				  !strstr(qmx_last_error(), "removed")))
		fail("a GEMM on the dead device: %s: %s", qmx_error_name(err), qmx_last_error());
	else
		printf("ok: a GEMM on the dead device: %s\n", qmx_last_error());
	if (failures)
		return 1;
	return replug(bdf);
}

/* ------------------------------------------------------------ fault injection */

/* Ask qmx-simd (on the guest's second serial port) to arm a fault. */
static int arm_fault(const char *what)
{
	char buf[128], want[32];
	int err = qmx_util_simd_command(KT_CTL_TTY, what, buf, sizeof(buf));

	snprintf(want, sizeof(want), "ok %s\n", what);
	if (err || !strstr(buf, want)) {
		fail("qmx-simd did not acknowledge '%s' on %s (%s, got '%s')", what, KT_CTL_TTY,
		     err ? strerror(-err) : "answered", buf);
		return -1;
	}
	return 0;
}

static int cmd_fault(const char *what)
{
	qmx_device *dev;
	qmx_rng rng = { seed };
	int err, want;
	uint64_t t0;

	if (strcmp(what, "hang") && strcmp(what, "axi")) {
		fail("fault: '%s' is not hang or axi", what);
		return 1;
	}
	if (qmx_device_open("kmod", &dev)) {
		fail("open kmod: %s", qmx_last_error());
		return 1;
	}
	run_random(dev, &rng, 8, 8, 8, QMX_OUT_INT32, true);
	if (arm_fault(what))
		goto out;
	/* hang: the driver's timeout fires and resets the device (EIO);
	 * axi: the device reports the error (EDEVICE). */
	want = what[0] == 'h' ? QMX_EIO : QMX_EDEVICE;
	t0 = now_ms();
	err = run_random(dev, &rng, 8, 8, 8, QMX_OUT_INT32, false);
	printf("faulted job: %s after %llu ms (%s)\n", qmx_error_name(err),
	       (unsigned long long)(now_ms() - t0), qmx_last_error());
	if (err != want)
		fail("job with '%s' injected: %s, expected %s", what, qmx_error_name(err),
		     qmx_error_name(want));
	else if (want == QMX_EDEVICE && !strstr(qmx_last_error(), "hardware error AXI_"))
		fail("job with '%s' injected: the message does not name the AXI error: %s", what,
		     qmx_last_error());
	/* The device recovered: the next jobs are bit-exact. */
	run_random(dev, &rng, 8, 8, 8, QMX_OUT_INT32, true);
	run_random(dev, &rng, 9, 20, 33, QMX_OUT_INT8, true);
out:
	qmx_device_del(dev);
	return failures != 0;
}

/* ------------------------------------------------------------ command queue */

/*
 * Batches through the command queue (qmx.ko loaded with cq_entries=16 so
 * that a few small batches lap the ring).  Every entry has buffers of its
 * own and is checked bit-exact against the reference.
 */
struct kt_entry {
	qmx_problem pb;
	qmx_buffer *buf[6]; /* a, b, c, bias, multipliers, shifts */
	qmx_gemm_desc d;
};

#define KT_C_FILL 0x5a

static int kt_entry_init(qmx_device *dev, struct kt_entry *e, qmx_rng *rng, int64_t m,
			 int64_t n, int64_t k)
{
	qmx_gemm_params p;
	const void *src[6];
	size_t size[6];
	qmx_ref *ref[6];
	bool per_channel;

	memset(e, 0, sizeof(*e));
	qmx_gemm_params_init(&p, m, n, k);
	qmx_problem_random_quant(&p, rng);
	if (qmx_problem_init(&e->pb, &p, rng, QMX_FILL_RANDOM) ||
	    qmx_problem_compute_reference(&e->pb)) {
		fail("problem %lldx%lldx%lld: out of memory", (long long)m, (long long)n,
		     (long long)k);
		return -1;
	}
	per_channel = p.out_type == QMX_OUT_INT8 && p.quant_mode == QMX_QUANT_PER_CHANNEL;
	e->d.params = p;
	src[0] = e->pb.a, size[0] = (size_t)((p.m - 1) * p.lda + p.k), ref[0] = &e->d.a;
	src[1] = e->pb.b, size[1] = (size_t)((p.k - 1) * p.ldb + p.n), ref[1] = &e->d.b;
	src[2] = NULL, size[2] = e->pb.c_bytes, ref[2] = &e->d.c;
	src[3] = e->pb.bias, size[3] = p.has_bias ? (size_t)p.n * 4 : 0, ref[3] = &e->d.bias;
	src[4] = e->pb.multipliers, size[4] = per_channel ? (size_t)p.n * 4 : 0;
	ref[4] = &e->d.multipliers;
	src[5] = e->pb.shifts, size[5] = per_channel ? (size_t)p.n * 4 : 0, ref[5] = &e->d.shifts;
	for (int i = 0; i < 6; i++) {
		void *host;

		if (!size[i])
			continue;
		if (qmx_buffer_new(dev, size[i], 0, &e->buf[i]) ||
		    qmx_buffer_map(e->buf[i], &host)) {
			fail("buffer of %zu bytes: %s", size[i], qmx_last_error());
			return -1;
		}
		if (src[i])
			memcpy(host, src[i], size[i]);
		else
			memset(host, KT_C_FILL, size[i]);
		qmx_buffer_sync(e->buf[i], QMX_SYNC_TO_DEVICE, 0, size[i]);
		*ref[i] = (qmx_ref){ e->buf[i], 0 };
	}
	return 0;
}

/* C of the entry: bit-exact (ran) or still all KT_C_FILL (not run). */
static bool kt_entry_check(struct kt_entry *e, bool ran, const char *what)
{
	char msg[160];
	uint8_t *c;

	qmx_buffer_map(e->buf[2], (void **)&c);
	qmx_buffer_sync(e->buf[2], QMX_SYNC_FROM_DEVICE, 0, e->pb.c_bytes);
	if (!ran) {
		for (size_t i = 0; i < e->pb.c_bytes; i++) {
			if (c[i] != KT_C_FILL) {
				fail("%s: not run, yet its C byte %zu was written", what, i);
				return false;
			}
		}
		return true;
	}
	memcpy(e->pb.c, c, e->pb.c_bytes);
	if (!qmx_problem_matches(&e->pb, msg, sizeof(msg))) {
		fail("%s: not bit-exact: %s", what, msg);
		return false;
	}
	return true;
}

static void kt_entry_free(struct kt_entry *e)
{
	for (int i = 0; i < 6; i++)
		if (e->buf[i])
			qmx_buffer_del(e->buf[i]);
	qmx_problem_free(&e->pb);
	memset(e, 0, sizeof(*e));
}

/*
 * A batch of `count` random small GEMMs (entry i waits for entry i - 1 when
 * `chain`), submitted, waited, every entry checked.  Several may be in
 * flight at once (`nbatch`), to fill the ring from more than one job.
 */
static int kt_batches(qmx_device *dev, qmx_rng *rng, int nbatch, int count, bool chain,
		      const char *what)
{
	struct kt_entry *e = calloc((size_t)(nbatch * count), sizeof(*e));
	qmx_batch **b = calloc((size_t)nbatch, sizeof(*b));
	int err = 0;

	if (!e || !b) {
		fail("%s: out of memory", what);
		free(e);
		free(b);
		return 1;
	}
	for (int j = 0; j < nbatch && !err; j++) {
		if (qmx_batch_create(dev, &b[j])) {
			fail("%s: batch: %s", what, qmx_last_error());
			err = 1;
			break;
		}
		for (int i = 0; i < count && !err; i++) {
			struct kt_entry *x = &e[j * count + i];

			err = kt_entry_init(dev, x, rng, qmx_rng_range(rng, 1, 12),
					    qmx_rng_range(rng, 1, 12), qmx_rng_range(rng, 1, 24));
			if (!err && qmx_batch_add_gemm(b[j], &x->d, chain && i ? i - 1 : -1, NULL)) {
				fail("%s: add entry %d: %s", what, i, qmx_last_error());
				err = 1;
			}
		}
	}
	for (int j = 0; j < nbatch && !err; j++) {
		if (qmx_batch_submit(b[j])) {
			fail("%s: submit batch %d: %s", what, j, qmx_last_error());
			err = 1;
		}
	}
	for (int j = 0; j < nbatch && !err; j++) {
		int ret = qmx_batch_wait(b[j], 120000);

		if (ret) {
			fail("%s: batch %d of %d entries: %s", what, j, count, qmx_last_error());
			err = 1;
			continue;
		}
		for (int i = 0; i < count; i++) {
			char name[64];

			snprintf(name, sizeof(name), "%s: batch %d entry %d", what, j, i);
			if (!kt_entry_check(&e[j * count + i], true, name))
				err = 1;
		}
	}
	for (int j = 0; j < nbatch; j++)
		qmx_batch_destroy(b[j]);
	for (int i = 0; i < nbatch * count; i++)
		kt_entry_free(&e[i]);
	free(e);
	free(b);
	if (!err)
		printf("ok: %s: %d batch(es) of %d entries%s, every entry bit-exact\n", what,
		       nbatch, count, chain ? " (chained)" : "");
	return err;
}

static long read_long_file(const char *path)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			v = strtol(buf, NULL, 0);
		fclose(f);
	}
	return v;
}

/* The device's debugfs file `name` (one device in the guest). */
static int kt_debugfs(const char *name, char *path, size_t len)
{
	char pattern[128];
	glob_t gl;
	int ret = -1;

	snprintf(pattern, sizeof(pattern), "/sys/kernel/debug/dri/*/%s", name);
	if (!glob(pattern, 0, NULL, &gl)) {
		snprintf(path, len, "%s", gl.gl_pathv[0]);
		ret = 0;
		globfree(&gl);
	}
	return ret;
}

/* "tail T head H" of debugfs queue: descriptors written and consumed. */
static int kt_ring_counts(uint32_t *tail, uint32_t *head)
{
	char path[256], line[256];
	FILE *f;
	int ret = -1;

	if (kt_debugfs("queue", path, sizeof(path)) || !(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *t = strstr(line, "tail ");

		if (t && sscanf(t, "tail %" SCNu32 " head %" SCNu32, tail, head) == 2)
			ret = 0;
	}
	fclose(f);
	return ret;
}

static int cmd_ring(void)
{
	long size = read_long_file("/sys/module/qmx/parameters/cq_entries");
	qmx_rng rng = { seed };
	qmx_device *dev;
	uint32_t tail0 = 0, head0 = 0, tail = 0, head = 0;

	if (size < 2) {
		fail("cq_entries is %ld: the guest loads qmx.ko with a small ring", size);
		return 1;
	}
	if (qmx_device_open("kmod", &dev)) {
		fail("open kmod: %s", qmx_last_error());
		return 1;
	}
	if (kt_ring_counts(&tail0, &head0))
		fail("debugfs queue has no command-queue line (is the queue on?)");
	/* Wrap-around: four batches, each near the ring's size, one after
	 * the other (the ring laps about four times), chained or not. */
	for (int lap = 0; lap < 4 && !failures; lap++)
		kt_batches(dev, &rng, 1, (int)size - 3, lap & 1, "wrap-around");
	/* Full ring: two batches of 2.5 rings each in flight at once; the
	 * driver writes what fits and refills as records come back. */
	if (!failures)
		kt_batches(dev, &rng, 2, (int)(size * 5 / 2) + 1, false, "full ring");
	if (!failures && !kt_ring_counts(&tail, &head)) {
		printf("ring: %ld entries, %u descriptors written, %u consumed since the start of the step\n",
		       size, tail - tail0, head - head0);
		if (tail != head)
			fail("ring idle with %u descriptors not consumed", tail - head);
		if (tail - tail0 < (uint32_t)(4 * (size - 3) + 2 * (size * 5 / 2 + 1)))
			fail("ring: %u descriptors written, fewer than the entries run",
			     tail - tail0);
	}
	qmx_device_del(dev);
	return failures != 0;
}

/* Make the driver corrupt the next descriptor of a job's entry @entry
 * (debugfs cq_inject_bad_desc: the device refuses it, BAD_DESC). */
static int kt_inject_bad_desc(int entry)
{
	char path[256];
	FILE *f;

	if (kt_debugfs("cq_inject_bad_desc", path, sizeof(path))) {
		fail("no debugfs cq_inject_bad_desc");
		return -1;
	}
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", entry + 1) < 0 || fclose(f)) {
		fail("arming %s failed", path);
		return -1;
	}
	return 0;
}

/*
 * A descriptor the device refuses in the middle of a batch (the driver's
 * debugfs fault injection corrupts entry 2's opcode): entries before it and
 * the independent one after it are bit-exact, it fails BAD_DESC naming
 * entry 2, the two that wait for it (directly or not) are not run and their
 * C is untouched.
 */
static int cmd_badbatch(void)
{
	const int32_t wait_for[6] = { -1, 0, -1, -1, 2, 4 };
	const int want[6] = { 0, 0, QMX_EDEVICE, 0, QMX_EDEPENDENCY, QMX_EDEPENDENCY };
	struct kt_entry e[6];
	qmx_rng rng = { seed };
	qmx_device *dev;
	qmx_batch *b;
	char name[64];
	int ret;

	if (qmx_device_open("kmod", &dev) || qmx_batch_create(dev, &b)) {
		fail("open kmod: %s", qmx_last_error());
		return 1;
	}
	for (int i = 0; i < 6; i++) {
		if (kt_entry_init(dev, &e[i], &rng, 7 + i, 5 + i, 9 + i) ||
		    qmx_batch_add_gemm(b, &e[i].d, wait_for[i], NULL)) {
			fail("entry %d: %s", i, qmx_last_error());
			return 1;
		}
	}
	if (kt_inject_bad_desc(2))
		return 1;
	if (qmx_batch_submit(b)) {
		fail("submit: %s", qmx_last_error());
		return 1;
	}
	ret = qmx_batch_wait(b, 120000);
	printf("batch with entry 2 corrupted: %s (%s)\n", qmx_error_name(ret), qmx_last_error());
	if (ret != QMX_EDEVICE)
		fail("batch wait: %s, expected QMX_EDEVICE", qmx_error_name(ret));
	for (int i = 0; i < 6; i++) {
		int st = 1;
		const char *msg;

		qmx_batch_entry_status(b, (uint32_t)i, &st, NULL);
		msg = qmx_batch_entry_message(b, (uint32_t)i);
		printf("entry %d: %s %s\n", i, qmx_error_name(st), msg);
		snprintf(name, sizeof(name), "entry %d", i);
		if (st != want[i])
			fail("entry %d: %s, expected %s", i, qmx_error_name(st),
			     qmx_error_name(want[i]));
		else if (i == 2 && (!strstr(msg, "BAD_DESC") || !strstr(msg, "entry 2")))
			fail("entry 2: the message does not name BAD_DESC and entry 2: %s", msg);
		else if (want[i] == QMX_EDEPENDENCY && !strstr(msg, "entry"))
			fail("entry %d: the message does not name the entry it waited for: %s", i,
			     msg);
		kt_entry_check(&e[i], want[i] == 0, name);
	}
	qmx_batch_destroy(b);
	for (int i = 0; i < 6; i++)
		kt_entry_free(&e[i]);
	/* The queue goes on: the next batch is exact. */
	kt_batches(dev, &rng, 1, 5, true, "after the bad descriptor");
	qmx_device_del(dev);
	return failures != 0;
}

/*
 * More failures than the engine remembers (8 seqs, hw/rtl/qmx_cmdq.v), after
 * which it fails every wait DEP_FAILED until the queue is enabled again:
 * entry 0's descriptor is refused, the 11 entries chained behind it fail
 * DEP_FAILED on the device.  The driver re-enables the idle queue before the
 * next batch, whose chained entries must all be bit-exact.
 */
static int cmd_failforget(void)
{
	enum { N = 12 };
	struct kt_entry e[N];
	qmx_rng rng = { seed };
	qmx_device *dev;
	qmx_batch *b;
	char name[64];
	int ret, st;

	if (qmx_device_open("kmod", &dev) || qmx_batch_create(dev, &b)) {
		fail("open kmod: %s", qmx_last_error());
		return 1;
	}
	for (int i = 0; i < N; i++) {
		if (kt_entry_init(dev, &e[i], &rng, 4 + i % 3, 5, 6) ||
		    qmx_batch_add_gemm(b, &e[i].d, i - 1, NULL)) {
			fail("entry %d: %s", i, qmx_last_error());
			return 1;
		}
	}
	if (kt_inject_bad_desc(0))
		return 1;
	if (qmx_batch_submit(b)) {
		fail("submit: %s", qmx_last_error());
		return 1;
	}
	ret = qmx_batch_wait(b, 120000);
	if (ret != QMX_EDEVICE)
		fail("batch wait: %s, expected QMX_EDEVICE", qmx_error_name(ret));
	for (int i = 0; i < N; i++) {
		int want = i ? QMX_EDEPENDENCY : QMX_EDEVICE;

		st = 1;
		qmx_batch_entry_status(b, (uint32_t)i, &st, NULL);
		snprintf(name, sizeof(name), "failing entry %d", i);
		if (st != want)
			fail("entry %d: %s, expected %s", i, qmx_error_name(st),
			     qmx_error_name(want));
		kt_entry_check(&e[i], false, name);
	}
	qmx_batch_destroy(b);
	for (int i = 0; i < N; i++)
		kt_entry_free(&e[i]);
	if (!failures)
		printf("ok: %d failed entries (entry 0 refused, the rest DEP_FAILED)\n", N);
	kt_batches(dev, &rng, 1, 6, true, "after more failures than the engine remembers");
	qmx_device_del(dev);
	return failures != 0;
}

/* CQ_HEAD, the engine's count of completed descriptors, from debugfs queue
 * (one register read; -1: not found). */
static int64_t kt_engine_head(void)
{
	char path[256], line[256];
	unsigned int v;
	int64_t ret = -1;
	FILE *f;

	if (kt_debugfs("queue", path, sizeof(path)) || !(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "engine head: %u", &v) == 1)
			ret = v;
	fclose(f);
	return ret;
}

/*
 * An injected hang in the middle of a batch: entries 0 and 1 are small,
 * entry 2 long; the hang (qmx-simd stops answering memory) is armed once
 * the engine completed two entries (CQ_HEAD), so it lands on entry 2.  The driver's timeout resets the device: the
 * entry that hung ends "timed out", every one behind it "canceled" (not
 * re-run), the ones before are bit-exact; the next batch is bit-exact.
 */
static int cmd_hangbatch(void)
{
	enum { N = 6, LONG = 2 };
	struct kt_entry e[N];
	qmx_rng rng = { seed };
	qmx_device *dev;
	qmx_batch *b;
	qmx_device_info info;
	int64_t head0, done;
	int hung = -1, ret;
	uint64_t t0;
	char name[64];

	if (qmx_device_open("kmod", &dev) || qmx_device_query(dev, &info) ||
	    qmx_batch_create(dev, &b)) {
		fail("open kmod: %s", qmx_last_error());
		return 1;
	}
	for (int i = 0; i < N; i++) {
		/* About half a million device cycles: well past the poll
		 * below, well within the 8 s job timeout (guest init.sh). */
		int64_t k = i != LONG ? 8 : (info.max_dim < 2048 ? (int64_t)info.max_dim : 2048);
		int64_t mn = i != LONG ? 8 : 128;

		if (kt_entry_init(dev, &e[i], &rng, mn, mn, k) ||
		    qmx_batch_add_gemm(b, &e[i].d, -1, NULL)) {
			fail("entry %d: %s", i, qmx_last_error());
			return 1;
		}
	}
	head0 = kt_engine_head();
	if (head0 < 0) {
		fail("debugfs queue has no engine head");
		return 1;
	}
	if (qmx_batch_submit(b)) {
		fail("submit: %s", qmx_last_error());
		return 1;
	}
	/* Arm once the engine completed the entries before the long one
	 * (bounded wait). */
	t0 = now_ms();
	while ((done = kt_engine_head()) >= 0 && done - head0 < LONG && now_ms() - t0 < 10000)
		usleep(1000);
	printf("CQ_HEAD %lld -> %lld before arming the hang\n", (long long)head0, (long long)done);
	if (arm_fault("hang"))
		return 1;
	t0 = now_ms();
	ret = qmx_batch_wait(b, 120000);
	printf("batch with a hang injected: %s after %llu ms (%s)\n", qmx_error_name(ret),
	       (unsigned long long)(now_ms() - t0), qmx_last_error());
	if (!ret)
		fail("the batch with a hang injected succeeded");
	for (int i = 0; i < N; i++) {
		int st = 1;
		const char *msg;

		qmx_batch_entry_status(b, (uint32_t)i, &st, NULL);
		msg = qmx_batch_entry_message(b, (uint32_t)i);
		printf("entry %d: %s %s\n", i, qmx_error_name(st), msg);
		snprintf(name, sizeof(name), "entry %d", i);
		if (hung < 0 && st) {
			hung = i;
			if (st != QMX_EIO || !strstr(msg, "timed out"))
				fail("entry %d, the first that failed, is not the hung one: %s %s",
				     i, qmx_error_name(st), msg);
		} else if (hung < 0) {
			kt_entry_check(&e[i], true, name);
		} else if (st != QMX_EIO || !strstr(msg, "canceled")) {
			fail("entry %d, behind the hung entry %d: %s %s, expected canceled", i,
			     hung, qmx_error_name(st), msg);
		} else {
			/* Not re-run: its C is as it was. */
			kt_entry_check(&e[i], false, name);
		}
	}
	printf("the hang landed on entry %d of %d\n", hung, N);
	if (hung < LONG)
		fail("the hang landed on entry %d, before the long entry %d it was armed for",
		     hung, LONG);
	qmx_batch_destroy(b);
	for (int i = 0; i < N; i++)
		kt_entry_free(&e[i]);
	/* After the reset the queue runs again, bit-exact. */
	kt_batches(dev, &rng, 1, 6, true, "after the reset");
	qmx_device_del(dev);
	return failures != 0;
}

/*
 * A process killed with a batch in flight: every BO comes back (Shmem),
 * and the next process runs batches on the same ring, bit-exact.
 */
static void killbatch_child(void)
{
	enum { N = 24 };
	qmx_device *dev;
	qmx_buffer *buf[3];
	qmx_batch *b;
	qmx_gemm_desc d;
	qmx_device_info info;
	int64_t k;

	if (qmx_device_open("kmod", &dev) || qmx_device_query(dev, &info) ||
	    qmx_batch_create(dev, &b)) {
		printf("child: open kmod: %s\n", qmx_last_error());
		_exit(10);
	}
	k = info.max_dim < 512 ? (int64_t)info.max_dim : 512;
	for (int i = 0; i < 3; i++) {
		void *p;

		if (qmx_buffer_new(dev, (size_t)64 * k * 4 * N, 0, &buf[i]) ||
		    qmx_buffer_map(buf[i], &p)) {
			printf("child: buffer: %s\n", qmx_last_error());
			_exit(11);
		}
		memset(p, i + 1, (size_t)64 * k * 4 * N);
	}
	memset(&d, 0, sizeof(d));
	qmx_gemm_params_init(&d.params, 64, 64, k);
	d.a = (qmx_ref){ buf[0], 0 };
	d.b = (qmx_ref){ buf[1], 0 };
	for (int j = 0; j < N; j++) {
		d.c = (qmx_ref){ buf[2], (uint64_t)j * 64 * 64 * 4 };
		if (qmx_batch_add_gemm(b, &d, j ? j - 1 : -1, NULL)) {
			printf("child: add: %s\n", qmx_last_error());
			_exit(12);
		}
	}
	if (qmx_batch_submit(b)) {
		printf("child: submit: %s\n", qmx_last_error());
		_exit(13);
	}
	printf("child: a batch of %d GEMMs in flight, killing myself\n", N);
	fflush(stdout);
	raise(SIGKILL);
	_exit(14);
}

static int cmd_killbatch(void)
{
	qmx_rng rng = { seed };
	qmx_device *dev;

	if (run_killed_child(killbatch_child))
		return 1;
	/* The next process finds the ring usable. */
	if (qmx_device_open("kmod", &dev)) {
		fail("open kmod: %s", qmx_last_error());
		return 1;
	}
	kt_batches(dev, &rng, 1, 8, true, "after the killed batch");
	qmx_device_del(dev);
	return failures != 0;
}

/* ------------------------------------------------------------ exit */

static int cmd_exit(int code)
{
	/* QEMU exits with (code << 1) | 1. */
	if (ioperm(KT_DEBUG_EXIT_PORT, 4, 1)) {
		perror("ioperm");
		return 1;
	}
	outl((unsigned)code, KT_DEBUG_EXIT_PORT);
	sleep(5);
	fprintf(stderr, "isa-debug-exit did not stop the machine\n");
	return 1;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 2; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 0);
	if (!strcmp(cmd, "nodev") && argc > 2)
		return cmd_nodev(argv[2]);
	if (!strcmp(cmd, "gemm"))
		return cmd_gemm();
	if (!strcmp(cmd, "badinput"))
		return cmd_badinput();
	if (!strcmp(cmd, "kill"))
		return cmd_kill();
	if (!strcmp(cmd, "closeloop")) {
		bool reader = false;
		int iterations = KT_CLOSELOOP_DEFAULT;

		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "--reader"))
				reader = true;
			else if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
				iterations = atoi(argv[++i]);
		}
		return cmd_closeloop(reader, iterations);
	}
	if (!strcmp(cmd, "fault") && argc > 2)
		return cmd_fault(argv[2]);
	if (!strcmp(cmd, "fuzz")) {
		uint64_t count = 5000;

		for (int i = 2; i + 1 < argc; i++)
			if (!strcmp(argv[i], "--count"))
				count = strtoull(argv[i + 1], NULL, 0);
		return cmd_fuzz(count);
	}
	if (!strcmp(cmd, "multiproc"))
		return cmd_multiproc();
	if (!strcmp(cmd, "ring"))
		return cmd_ring();
	if (!strcmp(cmd, "badbatch"))
		return cmd_badbatch();
	if (!strcmp(cmd, "failforget"))
		return cmd_failforget();
	if (!strcmp(cmd, "hangbatch"))
		return cmd_hangbatch();
	if (!strcmp(cmd, "killbatch"))
		return cmd_killbatch();
	if (!strcmp(cmd, "pinlimit"))
		return cmd_pinlimit();
	if (!strcmp(cmd, "lost") && argc > 2)
		return cmd_lost(argv[2]);
	if (!strcmp(cmd, "unbind") && argc > 2)
		return cmd_unbind(argv[2]);
	if (!strcmp(cmd, "exit") && argc > 2)
		return cmd_exit(atoi(argv[2]));
	fprintf(stderr, "usage: qmx_ktest nodev WHY|gemm|badinput|kill|"
			"closeloop [--reader] [--iterations N]|fuzz [--count N]|multiproc|pinlimit|unbind BDF|lost BDF|fault hang|axi|"
			"ring|badbatch|failforget|hangbatch|killbatch|exit CODE "
			"[--seed S]\n");
	return 2;
}
