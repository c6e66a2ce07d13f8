/* SPDX-License-Identifier: MIT */
/*
 * opencl_backend.c - the "opencl" backend: GEMM jobs on any OpenCL device
 * through the ICD loader.
 *
 * URI opencl:N is the N-th device counting over all platforms in the order
 * the loader reports them, opencl:P.D device D of platform P.  On ordinary
 * devices the OpenCL C kernel in qmx_gemm.cl (embedded at build time) runs;
 * on a Xilinx platform the qmx_top RTL kernel from the xclbin in $QMX_XCLBIN
 * does, with the argument order of kernel.xml.
 *
 * Buffers are a cl_mem plus a host shadow: map returns the shadow, sync
 * copies it to or from the device, so the core's explicit-sync contract maps
 * one to one.  A job is one NDRange (or task) on an in-order queue; an event
 * callback completes it.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include "qmx_backend.h"
#include "qmx_kernel_args.h"

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

/* The OpenCL C source, from qmx_gemm.cl (opencl_source.c is generated). */
extern const char qmx_opencl_gemm_source[];

#define OCL_MAX_PLATFORMS 16
#define OCL_MAX_DEVICES 64
/* Flag bits of qmx_gemm.cl beyond the FLAGS register's. */
#define OCL_FLAG_C_ALIGNED 8u

struct ocl_device {
	cl_platform_id platform;
	cl_device_id device;
	cl_context ctx;
	cl_command_queue queue;
	cl_program program;
	cl_kernel kernel;
	cl_mem dummy; /* bound to pointer arguments a job does not use */
	bool xilinx;  /* the RTL kernel of an xclbin, not our OpenCL C */
	unsigned tile;
	uint64_t mem_align; /* sub-buffer origin alignment in bytes (Xilinx) */
};

struct ocl_job {
	cl_event event;
	cl_mem sub[QMX_KARG_FIRST_SCALAR]; /* sub-buffers for offsets (Xilinx) */
};

struct ocl_pair {
	cl_platform_id platform;
	cl_device_id device;
	unsigned pidx, didx;
};

/* ---------------------------------------------------------------- discovery */

/* Where the ocl-icd loader looks, and which .icd files are there. */
static void ocl_icd_where(char *out, size_t len)
{
	const char *env = getenv("OCL_ICD_VENDORS");
	const char *dir = env && *env ? env : "/etc/OpenCL/vendors";
	char found[160] = "";
	size_t used = 0;
	unsigned n = 0;
	DIR *d = opendir(dir);

	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			size_t l = strlen(e->d_name);
			if (l < 5 || strcmp(e->d_name + l - 4, ".icd"))
				continue;
			n++;
			if (used < sizeof(found))
				used += (size_t)snprintf(found + used, sizeof(found) - used,
							 "%s%s", used ? ", " : "", e->d_name);
		}
		closedir(d);
	}
	const char *what = !d ? "not a readable directory" : n ? "vendor files: " : "no .icd files";
	if (env && *env)
		snprintf(out, len, "OCL_ICD_VENDORS=%s (%s%s)", env, what, d && n ? found : "");
	else
		snprintf(out, len, "/etc/OpenCL/vendors (%s%s; OCL_ICD_VENDORS unset)", what,
			 d && n ? found : "");
}

static void ocl_str(cl_platform_id p, cl_device_id d, cl_uint what, char *out, size_t len)
{
	char tmp[1024]; /* the call fails outright when the buffer is short */
	cl_int rc = d ? clGetDeviceInfo(d, what, sizeof(tmp), tmp, NULL)
		      : clGetPlatformInfo(p, what, sizeof(tmp), tmp, NULL);
	tmp[sizeof(tmp) - 1] = '\0';
	const char *src = rc == CL_SUCCESS ? tmp : "?";
	size_t n = strnlen(src, len - 1);
	memcpy(out, src, n);
	out[n] = '\0';
}

static int ocl_platforms(cl_platform_id *plats, cl_uint *np)
{
	cl_int rc = clGetPlatformIDs(OCL_MAX_PLATFORMS, plats, np);
	if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && *np == 0)) {
		*np = 0;
		return 0;
	}
	if (rc != CL_SUCCESS)
		return qmx_fail(QMX_EIO, "opencl: clGetPlatformIDs failed (%d)", rc);
	return 0;
}

/* Every (platform, device) pair in loader order; *n is the total. */
static int ocl_pairs(struct ocl_pair *pairs, size_t cap, size_t *n, cl_uint *nplat)
{
	cl_platform_id plats[OCL_MAX_PLATFORMS];
	cl_uint np = 0;
	int err = ocl_platforms(plats, &np);

	*n = 0;
	*nplat = np;
	if (err)
		return err;
	for (cl_uint p = 0; p < np; p++) {
		cl_device_id devs[OCL_MAX_DEVICES];
		cl_uint nd = 0;
		if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, OCL_MAX_DEVICES, devs, &nd) !=
		    CL_SUCCESS)
			nd = 0;
		for (cl_uint d = 0; d < nd; d++, (*n)++)
			if (*n < cap)
				pairs[*n] = (struct ocl_pair){ plats[p], devs[d], p, d };
	}
	return 0;
}

static bool ocl_is_xilinx(cl_platform_id p)
{
	char name[128];
	ocl_str(p, NULL, CL_PLATFORM_NAME, name, sizeof(name));
	return strstr(name, "Xilinx") != NULL;
}

static void ocl_fill_info(qmx_device_info *info, const struct ocl_pair *pr)
{
	char plat[64], ver[64];
	cl_uint cus = 0, mhz = 0;
	cl_ulong gmem = 0, lmem = 0;
	cl_device_type type = 0;

	ocl_str(NULL, pr->device, CL_DEVICE_NAME, info->name, sizeof(info->name));
	ocl_str(pr->platform, NULL, CL_PLATFORM_NAME, plat, sizeof(plat));
	ocl_str(NULL, pr->device, CL_DEVICE_VERSION, ver, sizeof(ver));
	clGetDeviceInfo(pr->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(cus), &cus, NULL);
	clGetDeviceInfo(pr->device, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof(mhz), &mhz, NULL);
	clGetDeviceInfo(pr->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(gmem), &gmem, NULL);
	clGetDeviceInfo(pr->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof(lmem), &lmem, NULL);
	clGetDeviceInfo(pr->device, CL_DEVICE_TYPE, sizeof(type), &type, NULL);
	snprintf(info->detail, sizeof(info->detail),
		 "platform %u '%.32s' device %u, %s, %.20s, %u MiB global, %u KiB local",
		 pr->pidx, plat, pr->didx,
		 type & CL_DEVICE_TYPE_CPU ? "cpu" :
		 type & CL_DEVICE_TYPE_GPU ? "gpu" :
		 type & CL_DEVICE_TYPE_ACCELERATOR ? "accelerator" : "other",
		 ver, (unsigned)(gmem >> 20), (unsigned)(lmem >> 10));
	info->compute_units = cus;
	info->clock_mhz = mhz;
	info->features = QMX_FEATURE_INT32_OUT | QMX_FEATURE_INT8_OUT |
			 QMX_FEATURE_PER_CHANNEL | QMX_FEATURE_BIAS | QMX_FEATURE_DEVICE_MEMORY;
	info->max_dim = 0x7FFFFFFF;
	info->max_k = 32768;
	if (ocl_is_xilinx(pr->platform))
		info->hw_version = QMX_MAP_VERSION;
}

static int ocl_enumerate(qmx_device_info *infos, size_t cap, size_t *count)
{
	struct ocl_pair pairs[OCL_MAX_DEVICES];
	size_t n;
	cl_uint np;

	*count = 0;
	if (ocl_pairs(pairs, OCL_MAX_DEVICES, &n, &np))
		return 0; /* nothing to list is not an error here */
	if (n > OCL_MAX_DEVICES)
		n = OCL_MAX_DEVICES;
	for (size_t i = 0; i < n && i < cap; i++) {
		memset(&infos[i], 0, sizeof(infos[i]));
		snprintf(infos[i].uri, sizeof(infos[i].uri), "opencl:%zu", i);
		snprintf(infos[i].backend, sizeof(infos[i].backend), "opencl");
		ocl_fill_info(&infos[i], &pairs[i]);
	}
	*count = n;
	return 0;
}

/* Resolve "" / "N" / "P.D" to a device, with messages saying what exists. */
static int ocl_select(const char *arg, struct ocl_pair *out)
{
	struct ocl_pair pairs[OCL_MAX_DEVICES];
	char where[320], list[400];
	size_t n, used = 0;
	cl_uint np;
	unsigned long p = 0, d = 0;
	bool dotted = false;
	char *end;

	if (*arg) {
		p = strtoul(arg, &end, 10);
		if (end != arg && *end == '.') {
			dotted = true;
			const char *ds = end + 1;
			d = strtoul(ds, &end, 10);
			if (end == ds)
				end = (char *)arg; /* force the error below */
		}
		if (end == arg || *end || arg[0] == '-' || arg[0] == '+')
			return qmx_fail(QMX_EINVAL,
					"opencl: device '%s' must be N (the N-th device over all platforms) or P.D (device D of platform P)",
					arg);
	}
	int err = ocl_pairs(pairs, OCL_MAX_DEVICES, &n, &np);
	if (err)
		return err;
	if (np == 0) {
		ocl_icd_where(where, sizeof(where));
		return qmx_fail(QMX_ENODEV,
				"opencl: no OpenCL platform found: the ICD loader looked in %s. Install an OpenCL driver (Debian: pocl-opencl-icd) or point OCL_ICD_VENDORS at a directory of .icd files",
				where);
	}
	if (n > OCL_MAX_DEVICES)
		n = OCL_MAX_DEVICES;
	if (n == 0) {
		cl_platform_id plats[OCL_MAX_PLATFORMS];
		char names[200] = "";
		cl_uint got = 0;
		clGetPlatformIDs(OCL_MAX_PLATFORMS, plats, &got);
		for (cl_uint i = 0; i < got && used < sizeof(names); i++) {
			char name[64];
			ocl_str(plats[i], NULL, CL_PLATFORM_NAME, name, sizeof(name));
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s'%s'",
						 i ? ", " : "", name);
		}
		ocl_icd_where(where, sizeof(where));
		return qmx_fail(QMX_ENODEV,
				"opencl: no OpenCL device: the ICD loader (looked in %s) found %u platform%s, %s, with no devices. Check that driver's own settings (PoCL: POCL_DEVICES)",
				where, np, np == 1 ? "" : "s", names);
	}
	list[0] = '\0';
	for (size_t i = 0; i < n && used < sizeof(list); i++) {
		char name[64];
		ocl_str(NULL, pairs[i].device, CL_DEVICE_NAME, name, sizeof(name));
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%sopencl:%zu = %u.%u '%s'",
					 i ? ", " : "", i, pairs[i].pidx, pairs[i].didx, name);
	}
	for (size_t i = 0; i < n; i++) {
		if ((dotted && pairs[i].pidx == p && pairs[i].didx == d) ||
		    (!dotted && i == p)) {
			*out = pairs[i];
			return 0;
		}
	}
	return qmx_fail(QMX_ENODEV, "opencl: no device opencl:%s (%zu found: %s)", arg, n, list);
}

/* ---------------------------------------------------------------- programs */

static char *ocl_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long sz;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (data = malloc((size_t)sz))) {
		if (fread(data, 1, (size_t)sz, f) != (size_t)sz) {
			free(data);
			data = NULL;
		} else {
			*len = (size_t)sz;
		}
	}
	fclose(f);
	return data;
}

static int ocl_build_failed(struct ocl_device *od, const char *what, cl_int rc)
{
	size_t len = 0;
	char name[96];
	char *log = NULL;

	ocl_str(NULL, od->device, CL_DEVICE_NAME, name, sizeof(name));
	if (clGetProgramBuildInfo(od->program, od->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) ==
		    CL_SUCCESS && len && (log = malloc(len + 1))) {
		if (clGetProgramBuildInfo(od->program, od->device, CL_PROGRAM_BUILD_LOG, len, log,
					  NULL) != CL_SUCCESS)
			len = 0;
		log[len] = '\0';
	}
	int err = qmx_fail(QMX_EIO, "opencl: building %s failed (%d) on '%s', build log:\n%s",
			   what, rc, name, log && *log ? log : "(empty)");
	free(log);
	return err;
}

static int ocl_build_source(struct ocl_device *od)
{
	const char *src = qmx_opencl_gemm_source;
	const char *extra = getenv("QMX_OPENCL_BUILD_OPTIONS");
	size_t wg = 0;
	char opts[512];
	cl_int rc;

	clGetDeviceInfo(od->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(wg), &wg, NULL);
	od->tile = wg >= 256 ? 16 : wg >= 64 ? 8 : wg >= 16 ? 4 : 1;
	const char *tile = getenv("QMX_OPENCL_TILE"); /* 1, 2, 4, 8 or 16: a smaller tile */
	if (tile && *tile) {
		unsigned long t = strtoul(tile, NULL, 10);
		if (t < 1 || t > 16 || (t & (t - 1)))
			return qmx_fail(QMX_EINVAL, "opencl: QMX_OPENCL_TILE=%s must be 1, 2, 4, 8 or 16",
					tile);
		if (t < od->tile)
			od->tile = (unsigned)t;
	}
	for (;;) {
		snprintf(opts, sizeof(opts), "-cl-std=CL1.2 -DQMX_TILE=%u %s", od->tile,
			 extra ? extra : "");
		od->program = clCreateProgramWithSource(od->ctx, 1, &src, NULL, &rc);
		if (rc != CL_SUCCESS)
			return qmx_fail(QMX_EIO, "opencl: clCreateProgramWithSource failed (%d)", rc);
		rc = clBuildProgram(od->program, 1, &od->device, opts, NULL, NULL);
		if (rc != CL_SUCCESS)
			return ocl_build_failed(od, "the qmx_gemm OpenCL C kernel", rc);
		od->kernel = clCreateKernel(od->program, "qmx_gemm", &rc);
		if (rc != CL_SUCCESS)
			return qmx_fail(QMX_EIO, "opencl: clCreateKernel(qmx_gemm) failed (%d)", rc);
		/* The compiled kernel may allow less than the device (registers,
		 * local memory): then a smaller tile. */
		size_t kwg = 0;
		clGetKernelWorkGroupInfo(od->kernel, od->device, CL_KERNEL_WORK_GROUP_SIZE,
					 sizeof(kwg), &kwg, NULL);
		if (!kwg || kwg >= (size_t)od->tile * od->tile || od->tile == 1)
			return 0;
		clReleaseKernel(od->kernel);
		clReleaseProgram(od->program);
		od->kernel = NULL;
		od->program = NULL;
		od->tile /= 2;
	}
}

static int ocl_build_xclbin(struct ocl_device *od)
{
	const char *path = getenv("QMX_XCLBIN");
	unsigned char *bin;
	size_t len = 0;
	cl_int rc, status;
	cl_uint align_bits = 0;

	if (!path || !*path)
		return qmx_fail(QMX_ENOENT,
				"opencl: the device is on a Xilinx platform, which runs the qmx_top RTL kernel from an xclbin: set QMX_XCLBIN to the .xclbin built from hw/fpga (see docs/fpga.md)");
	bin = (unsigned char *)ocl_read_file(path, &len);
	if (!bin)
		return qmx_fail(QMX_ENOENT, "opencl: cannot read QMX_XCLBIN=%s", path);
	const unsigned char *bins[1] = { bin };
	od->program = clCreateProgramWithBinary(od->ctx, 1, &od->device, &len, bins, &status, &rc);
	free(bin);
	if (rc != CL_SUCCESS)
		return qmx_fail(QMX_EIO,
				"opencl: the Xilinx runtime rejected QMX_XCLBIN=%s (clCreateProgramWithBinary: %d, binary status %d): is it built for this card's platform?",
				path, rc, status);
	rc = clBuildProgram(od->program, 1, &od->device, NULL, NULL, NULL);
	if (rc != CL_SUCCESS)
		return ocl_build_failed(od, path, rc);
	od->kernel = clCreateKernel(od->program, QMX_KERNEL_NAME, &rc);
	if (rc != CL_SUCCESS)
		return qmx_fail(QMX_EVERSION,
				"opencl: QMX_XCLBIN=%s has no kernel '%s' (%d): it is not a qmx xclbin",
				path, QMX_KERNEL_NAME, rc);
	clGetDeviceInfo(od->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof(align_bits), &align_bits,
			NULL);
	od->mem_align = align_bits ? align_bits / 8 : 1;
	return 0;
}

/* ---------------------------------------------------------------- open/close */

static void ocl_close(qmx_device *dev)
{
	struct ocl_device *od = dev->priv;
	if (!od)
		return;
	if (od->queue)
		clFinish(od->queue);
	if (od->dummy)
		clReleaseMemObject(od->dummy);
	if (od->kernel)
		clReleaseKernel(od->kernel);
	if (od->program)
		clReleaseProgram(od->program);
	if (od->queue)
		clReleaseCommandQueue(od->queue);
	if (od->ctx)
		clReleaseContext(od->ctx);
	free(od);
	dev->priv = NULL;
}

static int ocl_open(qmx_device *dev, const char *arg)
{
	struct ocl_pair pr;
	cl_int rc;
	int err = ocl_select(arg, &pr);
	if (err)
		return err;

	struct ocl_device *od = calloc(1, sizeof(*od));
	if (!od)
		return qmx_fail(QMX_ENOMEM, "opencl: out of memory");
	dev->priv = od;
	od->platform = pr.platform;
	od->device = pr.device;
	od->xilinx = ocl_is_xilinx(pr.platform);
	ocl_fill_info(&dev->info, &pr);

	cl_context_properties props[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)pr.platform,
					  0 };
	od->ctx = clCreateContext(props, 1, &od->device, NULL, NULL, &rc);
	if (rc != CL_SUCCESS) {
		err = qmx_fail(QMX_EIO, "opencl: clCreateContext failed (%d)", rc);
		goto err_close;
	}
	od->queue = clCreateCommandQueue(od->ctx, od->device, CL_QUEUE_PROFILING_ENABLE, &rc);
	if (rc != CL_SUCCESS) {
		err = qmx_fail(QMX_EIO, "opencl: clCreateCommandQueue failed (%d)", rc);
		goto err_close;
	}
	od->dummy = clCreateBuffer(od->ctx, CL_MEM_READ_WRITE, 64, NULL, &rc);
	if (rc != CL_SUCCESS) {
		err = qmx_fail(QMX_ENOMEM, "opencl: clCreateBuffer(64) failed (%d)", rc);
		goto err_close;
	}
	err = od->xilinx ? ocl_build_xclbin(od) : ocl_build_source(od);
	if (err)
		goto err_close;
	return 0;

err_close:
	ocl_close(dev);
	return err;
}

/* ---------------------------------------------------------------- buffers */

static int ocl_buffer_alloc(qmx_device *dev, qmx_buffer *buf)
{
	struct ocl_device *od = dev->priv;
	size_t rounded = (buf->size + 63) & ~(size_t)63;
	cl_int rc;

	buf->host = aligned_alloc(64, rounded);
	if (!buf->host)
		return qmx_fail(QMX_ENOMEM, "opencl: cannot allocate %zu host bytes", buf->size);
	memset(buf->host, 0, rounded);
	cl_mem mem = clCreateBuffer(od->ctx, CL_MEM_READ_WRITE, buf->size, NULL, &rc);
	if (rc != CL_SUCCESS) {
		free(buf->host);
		buf->host = NULL;
		return qmx_fail(QMX_ENOMEM, "opencl: clCreateBuffer(%zu) failed (%d)", buf->size,
				rc);
	}
	/* Defined contents, as host buffers have: zeros. */
	rc = clEnqueueWriteBuffer(od->queue, mem, CL_TRUE, 0, buf->size, buf->host, 0, NULL, NULL);
	if (rc != CL_SUCCESS) {
		clReleaseMemObject(mem);
		free(buf->host);
		buf->host = NULL;
		return qmx_fail(QMX_EIO, "opencl: clearing a new buffer failed (%d)", rc);
	}
	buf->priv = mem;
	return 0;
}

static void ocl_buffer_free(qmx_device *dev, qmx_buffer *buf)
{
	(void)dev;
	if (buf->priv)
		clReleaseMemObject((cl_mem)buf->priv);
	free(buf->host);
}

static int ocl_buffer_sync(qmx_buffer *buf, enum qmx_sync_dir dir, size_t offset, size_t size)
{
	struct ocl_device *od = buf->dev->priv;
	char *host = (char *)buf->host + offset;
	cl_int rc;

	if (!size)
		return 0;
	/* Blocking, on the in-order queue: a read waits for earlier jobs. */
	if (dir == QMX_SYNC_TO_DEVICE)
		rc = clEnqueueWriteBuffer(od->queue, (cl_mem)buf->priv, CL_TRUE, offset, size, host,
					  0, NULL, NULL);
	else
		rc = clEnqueueReadBuffer(od->queue, (cl_mem)buf->priv, CL_TRUE, offset, size, host,
					 0, NULL, NULL);
	if (rc != CL_SUCCESS)
		return qmx_fail(QMX_EIO, "opencl: %s of %zu bytes failed (%d)",
				dir == QMX_SYNC_TO_DEVICE ? "clEnqueueWriteBuffer"
							  : "clEnqueueReadBuffer",
				size, rc);
	return 0;
}

/* ---------------------------------------------------------------- jobs */

static void CL_CALLBACK ocl_job_done(cl_event ev, cl_int status, void *data)
{
	qmx_job *job = data;
	cl_ulong t0 = 0, t1 = 0;

	if (status == CL_COMPLETE &&
	    clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof(t0), &t0, NULL) ==
		    CL_SUCCESS &&
	    clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof(t1), &t1, NULL) ==
		    CL_SUCCESS && t1 > t0)
		job->stats.device_ns = t1 - t0;
	qmx_job_complete(job, status == CL_COMPLETE ? 0 : QMX_EDEVICE);
}

static const qmx_ref *ocl_job_ref(const qmx_gemm_desc *d, int i)
{
	const qmx_ref *refs[QMX_KARG_FIRST_SCALAR] = { &d->a, &d->b, &d->c,
						       &d->bias, &d->multipliers, &d->shifts };
	return refs[i];
}

/* Set the arguments of our OpenCL C kernel: (buffer, byte offset) pairs. */
static cl_int ocl_set_source_args(struct ocl_device *od, const qmx_gemm_desc *d,
				  const bool used[], const struct qmx_karg_values *v)
{
	cl_int rc = CL_SUCCESS;
	cl_uint arg = 0;

	for (int i = 0; i < QMX_KARG_FIRST_SCALAR; i++) {
		const qmx_ref *r = ocl_job_ref(d, i);
		cl_mem mem = used[i] ? (cl_mem)r->buffer->priv : od->dummy;
		cl_ulong off = used[i] ? r->offset : 0;
		rc |= clSetKernelArg(od->kernel, arg++, sizeof(mem), &mem);
		rc |= clSetKernelArg(od->kernel, arg++, sizeof(off), &off);
	}
	for (int i = QMX_KARG_FIRST_SCALAR; i < QMX_KARG_COUNT; i++) {
		cl_uint s = qmx_karg_scalar(v, i);
		if (i == QMX_KARG_COUNT - 1 && used[QMX_KARG_C] && d->c.offset % 4 == 0)
			s |= OCL_FLAG_C_ALIGNED;
		rc |= clSetKernelArg(od->kernel, arg++, sizeof(s), &s);
	}
	return rc;
}

/* Set the arguments of the RTL kernel: buffers (sub-buffers for offsets)
 * and the scalars, in kernel.xml order. */
static int ocl_set_xclbin_args(struct ocl_device *od, const qmx_gemm_desc *d,
			       const bool used[], const struct qmx_karg_values *v,
			       struct ocl_job *oj)
{
	cl_int rc = CL_SUCCESS;

	for (int i = 0; i < QMX_KARG_FIRST_SCALAR; i++) {
		const qmx_ref *r = ocl_job_ref(d, i);
		cl_mem mem = used[i] ? (cl_mem)r->buffer->priv : od->dummy;
		if (used[i] && r->offset) {
			if (r->offset % od->mem_align)
				return qmx_fail(QMX_EINVAL,
						"opencl: operand offset %llu is not a multiple of the device's CL_DEVICE_MEM_BASE_ADDR_ALIGN (%llu bytes), which the RTL kernel needs",
						(unsigned long long)r->offset,
						(unsigned long long)od->mem_align);
			cl_buffer_region reg = { r->offset, r->buffer->size - r->offset };
			oj->sub[i] = clCreateSubBuffer(mem, CL_MEM_READ_WRITE,
						       CL_BUFFER_CREATE_TYPE_REGION, &reg, &rc);
			if (rc != CL_SUCCESS)
				return qmx_fail(QMX_EIO, "opencl: clCreateSubBuffer failed (%d)", rc);
			mem = oj->sub[i];
		}
		rc |= clSetKernelArg(od->kernel, (cl_uint)i, sizeof(mem), &mem);
	}
	for (int i = QMX_KARG_FIRST_SCALAR; i < QMX_KARG_COUNT; i++) {
		cl_uint s = qmx_karg_scalar(v, i);
		rc |= clSetKernelArg(od->kernel, (cl_uint)i, sizeof(s), &s);
	}
	return rc == CL_SUCCESS ? 0 : qmx_fail(QMX_EIO, "opencl: clSetKernelArg failed");
}

static void ocl_job_release(qmx_device *dev, qmx_job *job)
{
	struct ocl_job *oj = job->priv;
	(void)dev;
	if (!oj)
		return;
	if (oj->event)
		clReleaseEvent(oj->event);
	for (int i = 0; i < QMX_KARG_FIRST_SCALAR; i++)
		if (oj->sub[i])
			clReleaseMemObject(oj->sub[i]);
	free(oj);
	job->priv = NULL;
}

static int ocl_gemm_submit(qmx_device *dev, qmx_job *job)
{
	struct ocl_device *od = dev->priv;
	const qmx_gemm_desc *d = &job->desc;
	const qmx_gemm_params *p = &d->params;
	struct qmx_gemm_extents e;
	struct qmx_karg_values v;
	int err = 0;
	cl_int rc;

	struct ocl_job *oj = calloc(1, sizeof(*oj));
	if (!oj)
		return qmx_fail(QMX_ENOMEM, "opencl: out of memory");
	job->priv = oj;
	qmx_gemm_extents(p, &e);
	const bool used[QMX_KARG_FIRST_SCALAR] = { true, true, true, e.bias != 0,
						   e.multipliers != 0, e.shifts != 0 };
	qmx_karg_fill(p, &v);

	/* Arguments live in the kernel object: set and enqueue as one. */
	pthread_mutex_lock(&dev->lock);
	if (od->xilinx) {
		err = ocl_set_xclbin_args(od, d, used, &v, oj);
		if (!err) {
			size_t one = 1;
			rc = clEnqueueNDRangeKernel(od->queue, od->kernel, 1, NULL, &one, &one, 0,
						    NULL, &oj->event);
		}
	} else {
		size_t t = od->tile;
		size_t lws[2] = { t, t };
		size_t gws[2] = { ((size_t)p->n + t - 1) / t * t, ((size_t)p->m + t - 1) / t * t };
		rc = ocl_set_source_args(od, d, used, &v);
		if (rc == CL_SUCCESS)
			rc = clEnqueueNDRangeKernel(od->queue, od->kernel, 2, NULL, gws, lws, 0,
						    NULL, &oj->event);
	}
	pthread_mutex_unlock(&dev->lock);
	if (err)
		return err; /* job_release frees oj */
	if (rc != CL_SUCCESS)
		return qmx_fail(QMX_EIO, "opencl: starting the kernel failed (%d)", rc);
	rc = clSetEventCallback(oj->event, CL_COMPLETE, ocl_job_done, job);
	if (rc != CL_SUCCESS) {
		/* No callback: finish here so the job still completes. */
		cl_int st = clWaitForEvents(1, &oj->event);
		ocl_job_done(oj->event, st == CL_SUCCESS ? CL_COMPLETE : st, job);
		return 0;
	}
	clFlush(od->queue);
	return 0;
}

const struct qmx_backend_ops qmx_backend_opencl_ops = {
	.name = "opencl",
	.enumerate = ocl_enumerate,
	.open = ocl_open,
	.close = ocl_close,
	.buffer_alloc = ocl_buffer_alloc,
	.buffer_free = ocl_buffer_free,
	.buffer_sync = ocl_buffer_sync,
	.gemm_submit = ocl_gemm_submit,
	.job_release = ocl_job_release,
};
