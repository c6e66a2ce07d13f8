/* SPDX-License-Identifier: MIT */
/*
 * kmod_backend.c - the "kmod" backend: qmx.ko's DRM render node through its
 * ioctls (driver/include/uapi/drm/qmx_accel.h), with libdrm.
 *
 * Buffers are GEM objects (shmem pages) mapped into the process through the
 * fd's fake mmap offsets; a job names them by handle + offset, so the kernel
 * checks every access.  Waits go through DRM_IOCTL_QMX_WAIT, which also
 * returns the job's activity counters.
 *
 * URIs: "kmod" (the first node whose driver is "qmx": accel nodes, which
 * kernels >= 6.2 with DRIVER_COMPUTE_ACCEL give, then render nodes) and
 * "kmod:/dev/accel/accelN" or "kmod:/dev/dri/renderDN".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xf86drm.h>

#include "energy_internal.h"
#include "qmx_accel.h"
#include "qmx_backend.h"
#include "qmx_batch.h"
#include "qmx_jobprog.h"

#define KMOD_DRI_DIR "/dev/dri"
#define KMOD_ACCEL_DIR "/dev/accel"
#define KMOD_DRIVER_NAME "qmx"

struct kmod_device {
	int fd;
	char path[64];
	uint32_t clock_khz;
};

struct kmod_bo {
	uint32_t handle;
	size_t map_size;
};

struct kmod_job {
	uint64_t id;
};

static int kmod_errno(int err)
{
	switch (err) {
	case EINVAL: return QMX_EINVAL;
	case ENOMEM: return QMX_ENOMEM;
	case ENOENT: return QMX_ENOENT;
	case EACCES:
	case EPERM: return QMX_EPERM;
	case EBUSY: return QMX_EBUSY;
	case EOPNOTSUPP: return QMX_ENOTSUP;
	case ETIME:
	case ETIMEDOUT: return QMX_ETIMEDOUT;
	case ENODEV:
	case ENXIO: return QMX_ENODEV;
	case EOVERFLOW:
	case E2BIG: return QMX_EOVERFLOW;
	default: return QMX_EIO;
	}
}

/* 1 when `fd` is a qmx node, 0 when another driver's. */
static int kmod_is_qmx(int fd)
{
	drmVersionPtr v = drmGetVersion(fd);
	int ok;

	if (!v)
		return 0;
	ok = v->name && !strcmp(v->name, KMOD_DRIVER_NAME);
	drmFreeVersion(v);
	return ok;
}

static int kmod_get_param(int fd, uint32_t param, uint64_t *value)
{
	struct drm_qmx_get_param gp = { .param = param };

	if (drmIoctl(fd, DRM_IOCTL_QMX_GET_PARAM, &gp))
		return -errno;
	*value = gp.value;
	return 0;
}

/* Append DIR/PREFIX* to paths[*n..cap), sorted among themselves. */
static void kmod_scan_dir(const char *dir, const char *prefix, char (*paths)[64], int cap,
			  int *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int first = *n;

	if (!d)
		return;
	while ((e = readdir(d)) && *n < cap) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(paths[(*n)++], 64, "%s/%.40s", dir, e->d_name);
	}
	closedir(d);
	qsort(paths + first, (size_t)(*n - first), 64,
	      (int (*)(const void *, const void *))strcmp);
}

/*
 * Accel nodes first (qmx.ko registers one instead of a render node on
 * kernels with DRIVER_COMPUTE_ACCEL), then render nodes; each set sorted,
 * so "kmod" always means the same device.
 */
static int kmod_nodes(char (*paths)[64], int cap)
{
	int n = 0;

	kmod_scan_dir(KMOD_ACCEL_DIR, "accel", paths, cap, &n);
	kmod_scan_dir(KMOD_DRI_DIR, "renderD", paths, cap, &n);
	return n;
}

static void kmod_fill_info(int fd, const char *path, qmx_device_info *info,
			   uint32_t *clock_khz)
{
	uint64_t rows = 0, cols = 0, clk = 0, ver = 0, feat = 0, maxd = 0, tr = 0;

	kmod_get_param(fd, DRM_QMX_PARAM_ARRAY_ROWS, &rows);
	kmod_get_param(fd, DRM_QMX_PARAM_ARRAY_COLS, &cols);
	kmod_get_param(fd, DRM_QMX_PARAM_CLOCK_KHZ, &clk);
	kmod_get_param(fd, DRM_QMX_PARAM_VERSION, &ver);
	kmod_get_param(fd, DRM_QMX_PARAM_FEATURES, &feat);
	kmod_get_param(fd, DRM_QMX_PARAM_MAX_DIM, &maxd);
	kmod_get_param(fd, DRM_QMX_PARAM_TRANSPORT, &tr);

	snprintf(info->uri, sizeof(info->uri), "kmod:%s", path);
	snprintf(info->backend, sizeof(info->backend), "kmod");
	snprintf(info->name, sizeof(info->name), "qmx %llux%llu int8 array (qmx.ko, %s)",
		 (unsigned long long)rows, (unsigned long long)cols,
		 tr == DRM_QMX_TRANSPORT_COSIM ? "cosim model" :
		 tr == DRM_QMX_TRANSPORT_PLATFORM ? "SoC FPGA" : "PCI card");
	snprintf(info->detail, sizeof(info->detail), "node=%s transport=%s", path,
		 tr == DRM_QMX_TRANSPORT_COSIM ? "cosim" :
		 tr == DRM_QMX_TRANSPORT_PLATFORM ? "platform" : "pci");
	info->array_rows = (uint32_t)rows;
	info->array_cols = (uint32_t)cols;
	info->clock_mhz = (uint32_t)(clk / 1000);
	info->compute_units = 1;
	info->hw_version = (uint32_t)ver;
	/* FEATURES register bits -> QMX_FEATURE_*: the low four match. */
	info->features = (uint32_t)(feat & 0xF);
	if (feat & (1u << 5))
		info->features |= QMX_FEATURE_COUNTERS;
	if (tr == DRM_QMX_TRANSPORT_COSIM)
		info->features |= QMX_FEATURE_SIMULATED;
	info->max_dim = maxd;
	info->max_k = maxd < 32768 ? maxd : 32768;
	/* Energy per action as the default ASIC profile; device time stays
	 * at the clock the hardware (or its model) reports. */
	snprintf(info->profile, sizeof(info->profile), "%s", QMX_PROFILE_ASIC_DEFAULT);
	*clock_khz = (uint32_t)clk;
}

static int kmod_enumerate(qmx_device_info *infos, size_t cap, size_t *count)
{
	char paths[64][64];
	int n = kmod_nodes(paths, 64);
	size_t found = 0;

	for (int i = 0; i < n; i++) {
		int fd = open(paths[i], O_RDWR | O_CLOEXEC);
		uint32_t clk;

		if (fd < 0)
			continue;
		if (kmod_is_qmx(fd)) {
			if (found < cap)
				kmod_fill_info(fd, paths[i], &infos[found], &clk);
			found++;
		}
		close(fd);
	}
	*count = found;
	return 0;
}

/* Why no qmx node was found, for the message. */
static const char *kmod_why_missing(void)
{
	struct stat st;

	if (stat("/sys/module/qmx", &st) == 0)
		return "qmx.ko is loaded but no device is bound to it (cosim: write "
		       "qmx_cosim to the ivshmem device's driver_override, then its "
		       "address to /sys/bus/pci/drivers_probe)";
	return "qmx.ko is not loaded (modprobe qmx, or insmod driver/qmx.ko)";
}

static int kmod_open_path(const char *path, int *out)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		if (e == EACCES || e == EPERM)
			return qmx_fail(QMX_EPERM,
					"kmod: permission denied opening %s (join its group, "
					"usually 'render')", path);
		if (e == ENOENT)
			return qmx_fail(QMX_ENODEV, "kmod: %s does not exist; %s", path,
					kmod_why_missing());
		return qmx_fail(QMX_ENODEV, "kmod: cannot open %s: %s", path, strerror(e));
	}
	if (!kmod_is_qmx(fd)) {
		close(fd);
		return qmx_fail(QMX_ENODEV, "kmod: %s is not a qmx device", path);
	}
	*out = fd;
	return 0;
}

static int kmod_open(qmx_device *dev, const char *uri_arg)
{
	struct kmod_device *kd;
	char path[64] = "", arg[192];
	int fd = -1, err, denied = 0;
	qmx_profile_info prof;
	bool prof_given;

	/* "[PATH][,profile=NAME]": the energies the job model uses. */
	if ((err = qmx_uri_profile("kmod", uri_arg, arg, sizeof(arg), &prof, &prof_given)))
		return err;

	if (*arg) {
		if (strlen(arg) >= sizeof(path))
			return qmx_fail(QMX_EINVAL, "kmod: device path '%s' too long", arg);
		snprintf(path, sizeof(path), "%s", arg);
		err = kmod_open_path(path, &fd);
		if (err)
			return err;
	} else {
		char paths[64][64];
		int n = kmod_nodes(paths, 64);

		for (int i = 0; i < n && fd < 0; i++) {
			int f = open(paths[i], O_RDWR | O_CLOEXEC);

			if (f < 0) {
				denied |= errno == EACCES || errno == EPERM;
				continue;
			}
			if (kmod_is_qmx(f)) {
				fd = f;
				snprintf(path, sizeof(path), "%.63s", paths[i]);
			} else {
				close(f);
			}
		}
		if (fd < 0 && denied)
			return qmx_fail(QMX_EPERM,
					"kmod: no qmx node could be opened: permission denied "
					"on some of %s/accel*, %s/renderD* (join group 'render')",
					KMOD_ACCEL_DIR, KMOD_DRI_DIR);
		if (fd < 0)
			return qmx_fail(QMX_ENODEV, "kmod: no qmx node in %s or %s: %s",
					KMOD_ACCEL_DIR, KMOD_DRI_DIR, kmod_why_missing());
	}

	kd = calloc(1, sizeof(*kd));
	if (!kd) {
		close(fd);
		return qmx_fail(QMX_ENOMEM, "kmod: out of memory");
	}
	kd->fd = fd;
	snprintf(kd->path, sizeof(kd->path), "%s", path);
	kmod_fill_info(fd, path, &dev->info, &kd->clock_khz);
	if (prof_given)
		snprintf(dev->info.profile, sizeof(dev->info.profile), "%s", prof.name);
	/* Keep the URI the caller used. */
	snprintf(dev->info.uri, sizeof(dev->info.uri), "%s%s%s", "kmod", *uri_arg ? ":" : "",
		 uri_arg);
	dev->priv = kd;
	return 0;
}

static void kmod_close(qmx_device *dev)
{
	struct kmod_device *kd = dev->priv;

	close(kd->fd);
	free(kd);
}

/* ------------------------------------------------------------ buffers */

static int kmod_buffer_alloc(qmx_device *dev, qmx_buffer *buf)
{
	struct kmod_device *kd = dev->priv;
	struct drm_qmx_bo_create create = { .size = buf->size };
	struct drm_qmx_bo_mmap_offset mo = { 0 };
	struct kmod_bo *bo;
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int err;

	bo = calloc(1, sizeof(*bo));
	if (!bo)
		return qmx_fail(QMX_ENOMEM, "kmod: out of memory");
	if (drmIoctl(kd->fd, DRM_IOCTL_QMX_BO_CREATE, &create)) {
		err = errno;
		free(bo);
		if (err == ENOSPC)
			return qmx_fail(QMX_ENOMEM,
					"kmod: BO_CREATE of %zu bytes: past qmx.ko's per-file buffer limit (/sys/module/qmx/parameters/file_bo_limit_mb); free buffers first",
					buf->size);
		return qmx_fail(kmod_errno(err), "kmod: BO_CREATE of %zu bytes: %s",
				buf->size, strerror(err));
	}
	bo->handle = create.handle;
	bo->map_size = (buf->size + (size_t)page - 1) & ~((size_t)page - 1);
	mo.handle = bo->handle;
	if (drmIoctl(kd->fd, DRM_IOCTL_QMX_BO_MMAP_OFFSET, &mo)) {
		err = errno;
		goto err_close_bo;
	}
	p = mmap(NULL, bo->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, kd->fd,
		 (off_t)mo.offset);
	if (p == MAP_FAILED) {
		err = errno;
		goto err_close_bo;
	}
	buf->host = p;
	buf->priv = bo;
	return 0;

err_close_bo:
	drmCloseBufferHandle(kd->fd, bo->handle);
	free(bo);
	return qmx_fail(kmod_errno(err), "kmod: mapping a %zu-byte BO: %s", buf->size,
			strerror(err));
}

static void kmod_buffer_free(qmx_device *dev, qmx_buffer *buf)
{
	struct kmod_device *kd = dev->priv;
	struct kmod_bo *bo = buf->priv;

	if (!bo)
		return;
	munmap(buf->host, bo->map_size);
	drmCloseBufferHandle(kd->fd, bo->handle);
	free(bo);
	buf->priv = NULL;
	buf->host = NULL;
}

static int kmod_buffer_sync(qmx_buffer *buf, enum qmx_sync_dir dir, size_t offset,
			    size_t size)
{
	/* shmem pages are cache-coherent with the device's DMA on x86 and
	 * the driver orders its job start after our stores. */
	(void)buf, (void)dir, (void)offset, (void)size;
	return 0;
}

/* ------------------------------------------------------------ jobs */

static void kmod_operand(struct drm_qmx_operand *o, const qmx_ref *r, uint64_t need)
{
	if (!need || !r->buffer)
		return;
	o->handle = ((struct kmod_bo *)r->buffer->priv)->handle;
	o->offset = r->offset;
}

/* A validated descriptor as the kernel's struct (operands by handle + offset). */
static void kmod_gemm_fill(const qmx_gemm_desc *d, struct drm_qmx_gemm *g)
{
	const qmx_gemm_params *p = &d->params;
	struct qmx_gemm_extents e;

	*g = (struct drm_qmx_gemm){
		.m = (uint64_t)p->m, .n = (uint64_t)p->n, .k = (uint64_t)p->k,
		.lda = (uint64_t)p->lda, .ldb = (uint64_t)p->ldb, .ldc = (uint64_t)p->ldc,
		.a_zero_point = p->a_zero_point, .b_zero_point = p->b_zero_point,
		.c_zero_point = p->c_zero_point,
		.out_type = (uint32_t)p->out_type, .quant_mode = (uint32_t)p->quant_mode,
		.multiplier = p->multiplier, .shift = p->shift,
		.qmin = p->qmin, .qmax = p->qmax, .has_bias = (uint32_t)p->has_bias,
	};
	qmx_gemm_extents(p, &e);
	kmod_operand(&g->a, &d->a, e.a);
	kmod_operand(&g->b, &d->b, e.b);
	kmod_operand(&g->c, &d->c, e.c);
	kmod_operand(&g->bias, &d->bias, e.bias);
	kmod_operand(&g->multipliers, &d->multipliers, e.multipliers);
	kmod_operand(&g->shifts, &d->shifts, e.shifts);
}

/* A failed SUBMIT or SUBMIT_BATCH (errno `err`) as a message. */
static int kmod_submit_error(struct kmod_device *kd, const char *what, int err)
{
	if (err == ENODEV)
		return qmx_fail(QMX_ENODEV,
				"kmod: %s on %s: device removed or lost (unbound, or stopped answering); bind it again",
				what, kd->path);
	if (err == ENOSPC)
		return qmx_fail(QMX_EBUSY,
				"kmod: %s on %s: the job's buffers would pass qmx.ko's pinned-memory limit (/sys/module/qmx/parameters/pin_limit_mb, file_pin_limit_mb); wait for earlier jobs or use smaller buffers",
				what, kd->path);
	return qmx_fail(kmod_errno(err), "kmod: %s on %s: %s", what, kd->path, strerror(err));
}

static int kmod_gemm_submit(qmx_device *dev, qmx_job *job)
{
	struct kmod_device *kd = dev->priv;
	struct drm_qmx_gemm g;
	struct drm_qmx_submit s = {
		.gemm_ptr = (uint64_t)(uintptr_t)&g,
		.gemm_struct_size = sizeof(g),
	};
	struct kmod_job *kj;

	kmod_gemm_fill(&job->desc, &g);
	kj = calloc(1, sizeof(*kj));
	if (!kj)
		return qmx_fail(QMX_ENOMEM, "kmod: out of memory");
	if (drmIoctl(kd->fd, DRM_IOCTL_QMX_SUBMIT, &s)) {
		int err = errno;

		free(kj);
		return kmod_submit_error(kd, "SUBMIT", err);
	}
	kj->id = s.job_id;
	job->priv = kj;
	return 0;
}

/* How the kernel says `what` ("job 7", "batch 7 entry 3") ended, as the
 * job's status. */
static int kmod_job_status(struct kmod_device *kd, qmx_job *job, const char *what,
			   const struct drm_qmx_job_stats *st)
{
	const struct qmx_jobprog_counters d = {
		.busy_cycles = st->busy_cycles,
		.stall_cycles = st->stall_cycles,
		.macs = st->macs,
		.sram_rd_bytes = st->sram_rd_bytes,
		.sram_wr_bytes = st->sram_wr_bytes,
		.ext_rd_bytes = st->ext_rd_bytes,
		.ext_wr_bytes = st->ext_wr_bytes,
	};

	switch (st->status) {
	case DRM_QMX_JOB_DONE:
		return qmx_job_device_result(job, &d, st->clock_khz, 0, 0);
	case DRM_QMX_JOB_HW_ERROR: {
		/* The device's code and address become the job's message. */
		int status = qmx_job_device_result(job, &d, st->clock_khz,
						   st->hw_error ? st->hw_error : UINT32_MAX,
						   st->error_addr);
		char msg[sizeof(job->status_msg)];

		snprintf(msg, sizeof(msg), "%s", qmx_last_error());
		return qmx_fail(status, "%s: %s", what, msg);
	}
	case DRM_QMX_JOB_TIMEOUT:
		return qmx_fail(QMX_EIO, "kmod: %s timed out (the device hung on it); the device was reset",
				what);
	case DRM_QMX_JOB_CANCELED:
		return qmx_fail(QMX_EIO, "kmod: %s was canceled, not run (its file closed, a dependency failed, or it was queued behind a job that hung and the device was reset); resubmit it",
				what);
	case DRM_QMX_JOB_DEVICE_LOST:
		return qmx_fail(QMX_ENODEV,
				"kmod: device removed or lost: %s was unbound or stopped answering with %s queued or running; its result is lost",
				kd->path, what);
	}
	return qmx_fail(QMX_EIO, "kmod: WAIT returned %s with status %u", what, st->status);
}

static int kmod_job_wait(qmx_device *dev, qmx_job *job, int64_t deadline_ns)
{
	struct kmod_device *kd = dev->priv;
	struct kmod_job *kj = job->priv;
	struct drm_qmx_job_stats st = { 0 };
	struct drm_qmx_wait w = {
		.job_id = kj->id,
		.stats_ptr = (uint64_t)(uintptr_t)&st,
		.stats_struct_size = sizeof(st),
	};

	w.timeout_ns = deadline_ns < 0 ? INT64_MAX
				       : deadline_ns - (int64_t)qmx_now_ns();
	if (w.timeout_ns < 0)
		w.timeout_ns = 0;
	/* drmIoctl restarts on EINTR; the driver updates timeout_ns. */
	if (drmIoctl(kd->fd, DRM_IOCTL_QMX_WAIT, &w)) {
		int err = errno;

		if (err == ETIME || err == ETIMEDOUT)
			return QMX_ETIMEDOUT;
		if (err == ENODEV) {
			/* The driver ended the job before the device went; its
			 * status just cannot be fetched any more. */
			qmx_fail(QMX_ENODEV,
				 "kmod: device removed or lost: %s was unbound or stopped answering before job %llu was reported; its result is lost",
				 kd->path, (unsigned long long)kj->id);
			qmx_job_complete(job, QMX_ENODEV);
			return 0;
		}
		return qmx_fail(kmod_errno(err), "kmod: WAIT for job %llu: %s",
				(unsigned long long)kj->id, strerror(err));
	}

	char what[48];

	snprintf(what, sizeof(what), "job %llu", (unsigned long long)kj->id);
	qmx_job_complete(job, kmod_job_status(kd, job, what, &st));
	return 0;
}

static void kmod_job_release(qmx_device *dev, qmx_job *job)
{
	(void)dev;
	free(job->priv);
	job->priv = NULL;
}

/* ------------------------------------------------------------ batches */

/*
 * A batch is one SUBMIT_BATCH: its entries go to the device's command queue
 * as descriptors behind one doorbell, dependencies by index; one WAIT
 * returns every entry's stats.
 */
static int kmod_batch_submit(qmx_device *dev, qmx_batch *b)
{
	struct kmod_device *kd = dev->priv;
	struct drm_qmx_batch_entry *ents;
	struct drm_qmx_submit_batch s = {
		.entry_struct_size = sizeof(*ents),
		.count = b->count,
	};
	struct kmod_job *kj;

	if (b->count > DRM_QMX_BATCH_MAX_ENTRIES)
		return qmx_fail(QMX_EINVAL, "kmod: batch of %u entries > qmx.ko's limit of %u",
				b->count, DRM_QMX_BATCH_MAX_ENTRIES);
	ents = calloc(b->count, sizeof(*ents));
	kj = calloc(1, sizeof(*kj));
	if (!ents || !kj) {
		free(ents);
		free(kj);
		return qmx_fail(QMX_ENOMEM, "kmod: out of memory for a batch of %u", b->count);
	}
	for (uint32_t i = 0; i < b->count; i++) {
		kmod_gemm_fill(&b->entries[i].job.desc, &ents[i].gemm);
		ents[i].wait_for = b->entries[i].wait_for < 0 ? DRM_QMX_NO_WAIT
							      : b->entries[i].wait_for;
	}
	s.entries_ptr = (uint64_t)(uintptr_t)ents;
	if (drmIoctl(kd->fd, DRM_IOCTL_QMX_SUBMIT_BATCH, &s)) {
		int err = errno;

		free(ents);
		free(kj);
		return kmod_submit_error(kd, "SUBMIT_BATCH", err);
	}
	free(ents);
	kj->id = s.job_id;
	b->priv = kj;
	return 0;
}

static int kmod_batch_wait(qmx_device *dev, qmx_batch *b, int64_t deadline_ns)
{
	struct kmod_device *kd = dev->priv;
	struct kmod_job *kj = b->priv;
	struct drm_qmx_job_stats *st;
	struct drm_qmx_wait w = {
		.stats_struct_size = sizeof(*st),
	};

	if (!kj)
		return 0;
	st = calloc(b->count, sizeof(*st));
	if (!st)
		return qmx_fail(QMX_ENOMEM, "kmod: out of memory waiting for a batch of %u",
				b->count);
	w.job_id = kj->id;
	w.entries_ptr = (uint64_t)(uintptr_t)st;
	w.entries_count = b->count;
	w.timeout_ns = deadline_ns < 0 ? INT64_MAX : deadline_ns - (int64_t)qmx_now_ns();
	if (w.timeout_ns < 0)
		w.timeout_ns = 0;
	if (drmIoctl(kd->fd, DRM_IOCTL_QMX_WAIT, &w)) {
		int err = errno;

		free(st);
		if (err == ETIME || err == ETIMEDOUT)
			return QMX_ETIMEDOUT;
		if (err != ENODEV)
			return qmx_fail(kmod_errno(err), "kmod: WAIT for batch %llu: %s",
					(unsigned long long)kj->id, strerror(err));
		/* The driver ended the batch before the device went; how
		 * cannot be fetched any more. */
		for (uint32_t i = 0; i < b->count; i++) {
			qmx_fail(QMX_ENODEV,
				 "kmod: device removed or lost: %s was unbound or stopped answering before batch %llu was reported; its result is lost",
				 kd->path, (unsigned long long)kj->id);
			qmx_job_complete(&b->entries[i].job, QMX_ENODEV);
		}
	} else {
		for (uint32_t i = 0; i < b->count; i++) {
			char what[64];

			snprintf(what, sizeof(what), "batch %llu entry %u",
				 (unsigned long long)kj->id, i);
			if (st[i].status == DRM_QMX_JOB_HW_ERROR &&
			    st[i].hw_error == QMX_ERROR_DEP_FAILED)
				qmx_batch_entry_skip(b, i);
			else
				qmx_job_complete(&b->entries[i].job,
						 kmod_job_status(kd, &b->entries[i].job, what,
								 &st[i]));
		}
		free(st);
	}
	free(kj);
	b->priv = NULL;
	return 0;
}

const struct qmx_backend_ops qmx_backend_kmod_ops = {
	.name = "kmod",
	.enumerate = kmod_enumerate,
	.open = kmod_open,
	.close = kmod_close,
	.buffer_alloc = kmod_buffer_alloc,
	.buffer_free = kmod_buffer_free,
	.buffer_sync = kmod_buffer_sync,
	.gemm_submit = kmod_gemm_submit,
	.job_wait = kmod_job_wait,
	.job_release = kmod_job_release,
	.batch_submit = kmod_batch_submit,
	.batch_wait = kmod_batch_wait,
};
