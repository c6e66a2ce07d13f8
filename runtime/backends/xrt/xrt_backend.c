/* SPDX-License-Identifier: MIT */
/*
 * xrt_backend.c - the "xrt" backend: the qmx_top RTL kernel on an AMD/Xilinx
 * card through XRT's native C API, loaded at run time with dlopen so libqmx
 * builds and runs where XRT is not installed.
 *
 * URI xrt:N opens XRT device N and loads the xclbin named by $QMX_XCLBIN;
 * $QMX_XRT_LIBRARY names libxrt_coreutil explicitly.  The kernel is opened
 * exclusively so its registers can be read: MAGIC/VERSION are checked at
 * open, and the activity counters around each job fill its statistics.
 * Where the card's XMC power rails are readable in sysfs (xocl's xmc.u.*
 * folder, or $QMX_XRT_XMC_DIR), the board power sampled at start and end of
 * a job gives it a measured energy.
 */
#include <dlfcn.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "energy_internal.h"
#include "qmx_backend.h"
#include "qmx_kernel_args.h"
#include "xrt_capi.h"

#define XRT_MAX_DEVICES 16
#define XRT_WAIT_SLICE_MS 100 /* xrtRunWaitFor slices, so deadlines hold */

struct xrt_api {
	void *lib;
	char path[256];
#define XRT_X_PTR(ret, name, params) ret(*name) params;
	QMX_XRT_CAPI(XRT_X_PTR)
#undef XRT_X_PTR
};

struct xrt_device {
	struct xrt_api api;
	xrtDeviceHandle dev;
	xrtKernelHandle kernel;
	int group;        /* memory bank of m_axi_gmem */
	uint32_t clock_khz;
	int read_failed;  /* a register read failed (read32 callback) */
	qmx_job *inflight; /* the run on the card; under dev->lock */
	char xmc[256];     /* sysfs folder of the power rails, "" when none */
};

struct xrt_job {
	xrtRunHandle run;
	xrtBufferHandle sub[QMX_KARG_FIRST_SCALAR];
	struct qmx_jobprog_counters before;
	double watts_before; /* board power at start, < 0 when unknown */
	bool finished; /* xrt_job_finish ran; under dev->lock */
};

/* ---------------------------------------------------------------- loading */

/* Open libxrt_coreutil and resolve every function; message on failure.
 * RTLD_NODELETE: XRT keeps threads and static state past xrtDeviceClose,
 * so its code must stay mapped after our dlclose. */
static int xrt_load(struct xrt_api *api)
{
	static const char *const names[] = { "libxrt_coreutil.so.2", "libxrt_coreutil.so",
					     "/opt/xilinx/xrt/lib/libxrt_coreutil.so.2" };
	const char *env = getenv("QMX_XRT_LIBRARY");

	memset(api, 0, sizeof(*api));
	if (env && *env) {
		api->lib = dlopen(env, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
		if (!api->lib)
			return qmx_fail(QMX_ENOENT, "xrt: cannot load QMX_XRT_LIBRARY=%s: %s", env,
					dlerror());
		snprintf(api->path, sizeof(api->path), "%s", env);
	} else {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !api->lib; i++) {
			api->lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
			if (api->lib)
				snprintf(api->path, sizeof(api->path), "%s", names[i]);
		}
		if (!api->lib)
			return qmx_fail(QMX_ENOENT,
					"xrt: XRT is not installed: libxrt_coreutil.so.2 was not found (searched the loader path and /opt/xilinx/xrt/lib). Install XRT from AMD/Xilinx (the xrt .deb for your card) and run 'source /opt/xilinx/xrt/setup.sh', or set QMX_XRT_LIBRARY to the path of libxrt_coreutil.so");
	}
#define XRT_X_SYM(ret, name, params)                                                  \
	if (!(*(void **)&api->name = dlsym(api->lib, #name))) {                        \
		int err_ = qmx_fail(QMX_ENOENT,                                        \
				    "xrt: %s has no %s: XRT 2.9 or newer (native C API) is needed", \
				    api->path, #name);                                 \
		dlclose(api->lib);                                                     \
		api->lib = NULL;                                                       \
		return err_;                                                           \
	}
	QMX_XRT_CAPI(XRT_X_SYM)
#undef XRT_X_SYM
	return 0;
}

static void xrt_unload(struct xrt_api *api)
{
	if (api->lib)
		dlclose(api->lib);
	api->lib = NULL;
}

/* ---------------------------------------------------------------- registers */

static uint32_t xrt_read32(void *ctx, uint32_t offset)
{
	struct xrt_device *xd = ctx;
	uint32_t v = 0;
	if (xd->api.xrtKernelReadRegister(xd->kernel, offset, &v))
		xd->read_failed = 1;
	return v;
}

static int xrt_identify(struct xrt_device *xd, const char *xclbin, qmx_device_info *info)
{
	struct qmx_jobprog_ident id;

	xd->read_failed = 0;
	int rc = qmx_jobprog_identify(xrt_read32, xd, &id);
	if (xd->read_failed)
		return qmx_fail(QMX_EIO,
				"xrt: cannot read the registers of %s (xrtKernelReadRegister failed): is another process using the card?",
				QMX_KERNEL_NAME);
	if (rc == QMX_JOBPROG_IDENT_BAD_MAGIC)
		return qmx_fail(QMX_EVERSION,
				"xrt: the kernel %s in QMX_XCLBIN=%s reads MAGIC 0x%08X, not 0x%08X: it is not a qmx accelerator",
				QMX_KERNEL_NAME, xclbin, id.magic, QMX_MAP_MAGIC);
	if (rc == QMX_JOBPROG_IDENT_BAD_VERSION)
		return qmx_fail(QMX_EVERSION,
				"xrt: the kernel in QMX_XCLBIN=%s implements register map v%u.%u, this libqmx needs v%u.x (built for v%u.%u): rebuild the xclbin from this source tree (docs/fpga.md)",
				xclbin, id.version >> 16, id.version & 0xffff,
				QMX_MAP_VERSION_MAJOR, QMX_MAP_VERSION_MAJOR, QMX_MAP_VERSION_MINOR);
	info->hw_version = id.version;
	info->array_rows = id.array_rows;
	info->array_cols = id.array_cols;
	info->clock_mhz = id.clock_khz / 1000;
	info->max_dim = id.max_dim ? id.max_dim : 1;
	xd->clock_khz = id.clock_khz;
	info->features = QMX_FEATURE_DEVICE_MEMORY;
	if (id.features & QMX_FEATURES_INT32_OUT)
		info->features |= QMX_FEATURE_INT32_OUT;
	if (id.features & QMX_FEATURES_INT8_OUT)
		info->features |= QMX_FEATURE_INT8_OUT;
	if (id.features & QMX_FEATURES_PER_CHANNEL)
		info->features |= QMX_FEATURE_PER_CHANNEL;
	if (id.features & QMX_FEATURES_BIAS)
		info->features |= QMX_FEATURE_BIAS;
	if (id.features & QMX_FEATURES_COUNTERS)
		info->features |= QMX_FEATURE_COUNTERS;
	return 0;
}

/* ---------------------------------------------------------------- power */

/* Board power in watts from the XMC rails xocl exposes (mV and mA), or
 * < 0 when none is readable. */
static double xrt_power_w(const char *dir)
{
	static const char *const rails[][2] = { { "xmc_12v_pex_vol", "xmc_12v_pex_curr" },
						 { "xmc_12v_aux_vol", "xmc_12v_aux_curr" },
						 { "xmc_3v3_pex_vol", "xmc_3v3_pex_curr" } };
	double watts = -1;

	if (!*dir)
		return -1;
	for (size_t i = 0; i < sizeof(rails) / sizeof(rails[0]); i++) {
		long v[2];
		int ok = 1;
		for (int k = 0; k < 2; k++) {
			char path[320];
			snprintf(path, sizeof(path), "%s/%s", dir, rails[i][k]);
			FILE *f = fopen(path, "r");
			ok = ok && f && fscanf(f, "%ld", &v[k]) == 1 && v[k] >= 0;
			if (f)
				fclose(f);
		}
		if (ok)
			watts = (watts < 0 ? 0 : watts) + (double)v[0] * (double)v[1] * 1e-6;
	}
	return watts;
}

/* The XMC folder of card `index`: $QMX_XRT_XMC_DIR, else the index-th
 * xmc.u.* folder in PCI order (XRT numbers cards in that order too). */
static void xrt_find_xmc(unsigned index, char *out, size_t len)
{
	const char *env = getenv("QMX_XRT_XMC_DIR");
	glob_t g;

	out[0] = '\0';
	if (env) {
		snprintf(out, len, "%s", env);
		return;
	}
	if (glob("/sys/bus/pci/devices/*/xmc.u.*", 0, NULL, &g) == 0) {
		if (index < g.gl_pathc)
			snprintf(out, len, "%s", g.gl_pathv[index]);
		globfree(&g);
	}
}

/* ---------------------------------------------------------------- open/close */

static void xrt_close(qmx_device *dev)
{
	struct xrt_device *xd = dev->priv;
	if (!xd)
		return;
	if (xd->kernel)
		xd->api.xrtKernelClose(xd->kernel);
	if (xd->dev)
		xd->api.xrtDeviceClose(xd->dev);
	xrt_unload(&xd->api);
	free(xd);
	dev->priv = NULL;
}

static int xrt_parse_index(const char *arg, unsigned *index)
{
	char *end;
	unsigned long v;

	*index = 0;
	if (!*arg)
		return 0;
	v = strtoul(arg, &end, 10);
	if (*end || arg[0] == '-' || arg[0] == '+' || v >= XRT_MAX_DEVICES)
		return qmx_fail(QMX_EINVAL, "xrt: device '%s' must be a card index in [0, %d]", arg,
				XRT_MAX_DEVICES - 1);
	*index = (unsigned)v;
	return 0;
}

static int xrt_open(qmx_device *dev, const char *uri_arg)
{
	const char *xclbin = getenv("QMX_XCLBIN");
	unsigned index;
	xuid_t uuid;
	char arg[64];
	qmx_profile_info prof;
	bool prof_given;
	/* "[INDEX][,profile=NAME]": the card the board-power model assumes. */
	int err = qmx_uri_profile("xrt", uri_arg, arg, sizeof(arg), &prof, &prof_given);
	if (err)
		return err;
	if (prof_given && strcmp(prof.kind, "fpga"))
		return qmx_fail(QMX_EINVAL, "xrt: profile %s is an %s, not an FPGA card", prof.name,
				prof.kind);
	if ((err = xrt_parse_index(arg, &index)))
		return err;

	struct xrt_device *xd = calloc(1, sizeof(*xd));
	if (!xd)
		return qmx_fail(QMX_ENOMEM, "xrt: out of memory");
	dev->priv = xd;
	if ((err = xrt_load(&xd->api)))
		goto err_close;
	if (!xclbin || !*xclbin) {
		err = qmx_fail(QMX_ENOENT,
			       "xrt: QMX_XCLBIN is not set: set it to the qmx .xclbin built for this card from hw/fpga (docs/fpga.md)");
		goto err_close;
	}
	FILE *f = fopen(xclbin, "rb");
	if (!f) {
		err = qmx_fail(QMX_ENOENT, "xrt: cannot read QMX_XCLBIN=%s: %s", xclbin,
			       strerror(errno));
		goto err_close;
	}
	fclose(f);

	errno = 0;
	xd->dev = xd->api.xrtDeviceOpen(index);
	if (!xd->dev) {
		err = qmx_fail(QMX_ENODEV,
			       "xrt: XRT (%s) cannot open device %u (%s): 'xbutil examine' lists the cards XRT sees",
			       xd->api.path, index, errno ? strerror(errno) : "no such device");
		goto err_close;
	}
	int rc = xd->api.xrtDeviceLoadXclbinFile(xd->dev, xclbin);
	if (rc) {
		err = qmx_fail(QMX_EVERSION,
			       "xrt: device %u rejected QMX_XCLBIN=%s (%d): is it built for this card's platform? 'xbutil examine -d %u' shows the platform",
			       index, xclbin, rc, index);
		goto err_close;
	}
	if (xd->api.xrtDeviceGetXclbinUUID(xd->dev, uuid)) {
		err = qmx_fail(QMX_EIO, "xrt: xrtDeviceGetXclbinUUID failed on device %u", index);
		goto err_close;
	}
	xd->kernel = xd->api.xrtPLKernelOpenExclusive(xd->dev, uuid, QMX_KERNEL_NAME);
	if (!xd->kernel) {
		err = qmx_fail(QMX_EVERSION,
			       "xrt: QMX_XCLBIN=%s has no kernel %s it can open exclusively: not a qmx xclbin, or another process holds the kernel",
			       xclbin, QMX_KERNEL_NAME);
		goto err_close;
	}
	if ((err = xrt_identify(xd, xclbin, &dev->info)))
		goto err_close;
	xd->group = xd->api.xrtKernelArgGroupId(xd->kernel, QMX_KARG_A);
	if (xd->group < 0) {
		err = qmx_fail(QMX_EIO, "xrt: no memory bank for argument a of %s (%d)",
			       QMX_KERNEL_NAME, xd->group);
		goto err_close;
	}
	/* An emulation says so (XRT's own through XCL_EMULATION_MODE, the
	 * tests' through a marker symbol): its timings are not a card's. */
	const char *emu = getenv("XCL_EMULATION_MODE");
	bool simulated = (emu && *emu) || dlsym(xd->api.lib, "qmx_xrt_emulation");
	if (simulated)
		dev->info.features |= QMX_FEATURE_SIMULATED;
	snprintf(dev->info.name, sizeof(dev->info.name), "qmx %ux%u on XRT device %u%s",
		 dev->info.array_rows, dev->info.array_cols, index,
		 simulated ? " (emulated)" : "");
	snprintf(dev->info.detail, sizeof(dev->info.detail), "bank %d, xclbin %.140s", xd->group,
		 xclbin);
	dev->info.compute_units = 1;
	dev->info.max_k = 32768;
	/* The card the xclbin was built for, as its platform name says. */
	snprintf(dev->info.profile, sizeof(dev->info.profile), "%s",
		 prof_given		? prof.name
		 : strstr(xclbin, "u55c") ? "fpga-u55c"
					  : QMX_PROFILE_FPGA_DEFAULT);
	xrt_find_xmc(index, xd->xmc, sizeof(xd->xmc));
	if (xrt_power_w(xd->xmc) >= 0) {
		dev->info.features |= QMX_FEATURE_POWER_SENSOR;
		const char *base = strrchr(xd->xmc, '/');
		snprintf(dev->info.detail, sizeof(dev->info.detail),
			 "bank %d, power sensors %.32s, xclbin %.80s", xd->group,
			 base ? base + 1 : xd->xmc, xclbin);
	} else {
		xd->xmc[0] = '\0';
	}
	return 0;

err_close:
	xrt_close(dev);
	return err;
}

/* Cards XRT can open; none (or no XRT) lists nothing, quietly. */
static int xrt_enumerate(qmx_device_info *infos, size_t cap, size_t *count)
{
	struct xrt_api api;

	*count = 0;
	if (xrt_load(&api)) {
		qmx_clear_error();
		return 0;
	}
	for (unsigned i = 0; i < XRT_MAX_DEVICES; i++) {
		xrtDeviceHandle d = api.xrtDeviceOpen(i);
		if (!d)
			break;
		api.xrtDeviceClose(d);
		if (*count < cap) {
			qmx_device_info *info = &infos[*count];
			memset(info, 0, sizeof(*info));
			snprintf(info->uri, sizeof(info->uri), "xrt:%u", i);
			snprintf(info->backend, sizeof(info->backend), "xrt");
			snprintf(info->name, sizeof(info->name), "XRT device %u", i);
			snprintf(info->detail, sizeof(info->detail),
				 "%.100s; open with QMX_XCLBIN=<qmx xclbin>", api.path);
			info->compute_units = 1;
			info->features = QMX_FEATURE_DEVICE_MEMORY;
			snprintf(info->profile, sizeof(info->profile), "%s",
				 QMX_PROFILE_FPGA_DEFAULT);
		}
		(*count)++;
	}
	xrt_unload(&api);
	return 0;
}

/* ---------------------------------------------------------------- buffers */

static int xrt_buffer_alloc(qmx_device *dev, qmx_buffer *buf)
{
	struct xrt_device *xd = dev->priv;
	xrtBufferHandle bo = xd->api.xrtBOAlloc(xd->dev, buf->size, 0, (xrtMemoryGroup)xd->group);
	if (!bo)
		return qmx_fail(QMX_ENOMEM, "xrt: xrtBOAlloc(%zu bytes, bank %d) failed", buf->size,
				xd->group);
	buf->host = xd->api.xrtBOMap(bo);
	if (!buf->host) {
		xd->api.xrtBOFree(bo);
		return qmx_fail(QMX_ENOMEM, "xrt: xrtBOMap failed");
	}
	memset(buf->host, 0, buf->size);
	/* Defined device contents, as host buffers have: zeros. */
	if (xd->api.xrtBOSync(bo, XCL_BO_SYNC_BO_TO_DEVICE, buf->size, 0)) {
		xd->api.xrtBOFree(bo);
		buf->host = NULL;
		return qmx_fail(QMX_EIO, "xrt: xrtBOSync of a new buffer failed");
	}
	buf->priv = bo;
	buf->dev_addr = xd->api.xrtBOAddress(bo);
	return 0;
}

static void xrt_buffer_free(qmx_device *dev, qmx_buffer *buf)
{
	struct xrt_device *xd = dev->priv;
	if (buf->priv)
		xd->api.xrtBOFree(buf->priv);
	buf->host = NULL; /* XRT's mapping, gone with the BO */
}

static int xrt_buffer_sync(qmx_buffer *buf, enum qmx_sync_dir dir, size_t offset, size_t size)
{
	struct xrt_device *xd = buf->dev->priv;
	if (!size)
		return 0;
	int rc = xd->api.xrtBOSync(buf->priv,
				   dir == QMX_SYNC_TO_DEVICE ? XCL_BO_SYNC_BO_TO_DEVICE
							     : XCL_BO_SYNC_BO_FROM_DEVICE,
				   size, offset);
	if (rc)
		return qmx_fail(QMX_EIO, "xrt: xrtBOSync(%s, %zu bytes at %zu) failed (%d)",
				dir == QMX_SYNC_TO_DEVICE ? "to device" : "from device", size,
				offset, rc);
	return 0;
}

/* ---------------------------------------------------------------- jobs */

static void xrt_job_release(qmx_device *dev, qmx_job *job)
{
	struct xrt_device *xd = dev->priv;
	struct xrt_job *xj = job->priv;
	if (!xj)
		return;
	if (xj->run)
		xd->api.xrtRunClose(xj->run);
	for (int i = 0; i < QMX_KARG_FIRST_SCALAR; i++)
		if (xj->sub[i])
			xd->api.xrtBOFree(xj->sub[i]);
	free(xj);
	job->priv = NULL;
}

/* Called with dev->lock held, once the run reached a final state. */
static void xrt_job_finish(qmx_device *dev, qmx_job *job, enum ert_cmd_state st)
{
	struct xrt_device *xd = dev->priv;
	struct xrt_job *xj = job->priv;
	struct qmx_jobprog_counters after, delta;
	int status = 0;

	xd->read_failed = 0;
	uint32_t hw_error = xrt_read32(xd, QMX_REG_ERROR);
	qmx_jobprog_read_counters(xrt_read32, xd, &after);
	bool counters = !xd->read_failed;
	xj->finished = true;
	if (xd->inflight == job)
		xd->inflight = NULL;

	if (st != ERT_CMD_STATE_COMPLETED) {
		status = qmx_fail(QMX_EDEVICE, "xrt: the run ended in ERT state %d", (int)st);
	} else if (hw_error) {
		qmx_jobprog_counters_delta(&xj->before, &after, &delta);
		status = qmx_job_device_result(job, &delta, xd->clock_khz, hw_error,
					       qmx_jobprog_read64(xrt_read32, xd,
								  QMX_REG_ERROR_ADDR_LO));
	} else if (counters) {
		double watts = xrt_power_w(xd->xmc);
		if (watts >= 0 && xj->watts_before >= 0) {
			/* Whole-board power, two samples: the sensors refresh
			 * slower than short jobs run. */
			job->stats.energy_j = (watts + xj->watts_before) / 2 *
					      (double)(qmx_now_ns() - job->submit_ns) * 1e-9;
			job->stats.energy_source = QMX_ENERGY_MEASURED;
		}
		qmx_jobprog_counters_delta(&xj->before, &after, &delta);
		(void)qmx_job_device_result(job, &delta, xd->clock_khz, 0, 0);
	}
	qmx_job_complete(job, status);
}

/* Wait (dev->lock held) at most slice_ms for the in-flight run; 1 when it
 * finished, 0 when still running. */
static int xrt_drive(qmx_device *dev, unsigned slice_ms)
{
	struct xrt_device *xd = dev->priv;
	qmx_job *job = xd->inflight;
	struct xrt_job *xj = job->priv;

	enum ert_cmd_state st = xd->api.xrtRunWaitFor(xj->run, slice_ms);
	switch (st) {
	case ERT_CMD_STATE_NEW:
	case ERT_CMD_STATE_QUEUED:
	case ERT_CMD_STATE_RUNNING:
	case ERT_CMD_STATE_SUBMITTED:
		return 0;
	default:
		xrt_job_finish(dev, job, st);
		return 1;
	}
}

/*
 * One run on the card at a time: the activity counters read before and
 * after it are then that job's own.  A submit while a run is in flight
 * first waits for it (and completes its job), so jobs still queue, one deep.
 */
static int xrt_gemm_submit(qmx_device *dev, qmx_job *job)
{
	struct xrt_device *xd = dev->priv;
	const qmx_gemm_desc *d = &job->desc;
	const qmx_ref *refs[QMX_KARG_FIRST_SCALAR] = { &d->a, &d->b, &d->c,
						       &d->bias, &d->multipliers, &d->shifts };
	struct qmx_gemm_extents e;
	struct qmx_karg_values v;
	int rc = 0, err = 0;

	struct xrt_job *xj = calloc(1, sizeof(*xj));
	if (!xj)
		return qmx_fail(QMX_ENOMEM, "xrt: out of memory");
	job->priv = xj;
	qmx_gemm_extents(&d->params, &e);
	const uint64_t need[QMX_KARG_FIRST_SCALAR] = { e.a, e.b, e.c, e.bias, e.multipliers,
						       e.shifts };
	qmx_karg_fill(&d->params, &v);

	pthread_mutex_lock(&dev->lock);
	while (xd->inflight)
		xrt_drive(dev, XRT_WAIT_SLICE_MS);
	xj->run = xd->api.xrtRunOpen(xd->kernel);
	if (!xj->run) {
		err = qmx_fail(QMX_EIO, "xrt: xrtRunOpen failed");
		goto out;
	}
	for (int i = 0; i < QMX_KARG_FIRST_SCALAR && !rc; i++) {
		/* XRT takes buffers, not addresses: an unused pointer gets A's
		 * buffer (never read: FLAGS says so), an offset a sub-buffer. */
		const qmx_ref *r = need[i] ? refs[i] : refs[QMX_KARG_A];
		xrtBufferHandle bo = r->buffer->priv;
		if (r->offset) {
			xj->sub[i] = xd->api.xrtBOSubAlloc(bo, r->buffer->size - r->offset,
							   r->offset);
			if (!xj->sub[i]) {
				err = qmx_fail(QMX_EIO, "xrt: xrtBOSubAlloc at offset %llu failed",
					       (unsigned long long)r->offset);
				goto out;
			}
			bo = xj->sub[i];
		}
		rc = xd->api.xrtRunSetArg(xj->run, i, bo);
	}
	/* XRT's C API takes a scalar by address (it copies the argument's
	 * kernel.xml size from there), a global argument as a buffer handle. */
	uint32_t scalars[QMX_KARG_COUNT];
	for (int i = QMX_KARG_FIRST_SCALAR; i < QMX_KARG_COUNT && !rc; i++) {
		scalars[i] = qmx_karg_scalar(&v, i);
		rc = xd->api.xrtRunSetArg(xj->run, i, &scalars[i]);
	}
	if (rc) {
		err = qmx_fail(QMX_EIO, "xrt: xrtRunSetArg failed (%d)", rc);
		goto out;
	}
	xd->read_failed = 0;
	qmx_jobprog_read_counters(xrt_read32, xd, &xj->before);
	xj->watts_before = xrt_power_w(xd->xmc);
	rc = xd->api.xrtRunStart(xj->run);
	if (rc) {
		err = qmx_fail(QMX_EIO, "xrt: xrtRunStart failed (%d)", rc);
		goto out;
	}
	xd->inflight = job;
out:
	pthread_mutex_unlock(&dev->lock);
	return err;
}

static int xrt_job_wait(qmx_device *dev, qmx_job *job, int64_t deadline_ns)
{
	struct xrt_device *xd = dev->priv;
	struct xrt_job *xj = job->priv;

	for (;;) {
		unsigned slice = XRT_WAIT_SLICE_MS;
		if (deadline_ns >= 0) {
			int64_t left = deadline_ns - (int64_t)qmx_now_ns();
			if (left / 1000000 < slice)
				slice = left > 1000000 ? (unsigned)(left / 1000000) : 1;
		}
		pthread_mutex_lock(&dev->lock);
		if (!xj->finished && xd->inflight == job)
			xrt_drive(dev, slice);
		bool finished = xj->finished;
		pthread_mutex_unlock(&dev->lock);
		if (finished)
			return 0;
		if (deadline_ns >= 0 && (int64_t)qmx_now_ns() >= deadline_ns)
			return QMX_ETIMEDOUT;
	}
}

const struct qmx_backend_ops qmx_backend_xrt_ops = {
	.name = "xrt",
	.enumerate = xrt_enumerate,
	.open = xrt_open,
	.close = xrt_close,
	.buffer_alloc = xrt_buffer_alloc,
	.buffer_free = xrt_buffer_free,
	.buffer_sync = xrt_buffer_sync,
	.gemm_submit = xrt_gemm_submit,
	.job_wait = xrt_job_wait,
	.job_release = xrt_job_release,
};
