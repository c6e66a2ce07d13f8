/* SPDX-License-Identifier: MIT */
/*
 * xrt_emu.c - libqmx_xrt_emu.so: an XRT C-API emulation over the qmx
 * Verilator model, for tests only.  It is not XRT and runs no card.
 *
 * It implements the subset of XRT's native C API the xrt backend uses
 * (runtime/backends/xrt/xrt_capi.h), so the backend's real code runs bit for
 * bit against the same RTL as the FPGA build, in CI, with
 * QMX_XRT_LIBRARY=libqmx_xrt_emu.so.
 *
 *  - Device 0 is one libqmxsim model (array size from $QMX_XRT_EMU_ARRAY,
 *    e.g. "16x16", else the model's default); other indices do not open.
 *  - The "xclbin" is the generated kernel.xml: loading it parses the kernel
 *    name and each argument's index, register offset, size and port, which
 *    is the metadata a real xclbin carries.  xrtRunStart writes the
 *    arguments at those offsets, so a kernel.xml that drifted from the
 *    register map fails the conformance run.
 *  - A buffer object is host memory (what xrtBOMap returns) plus a separate
 *    device shadow mapped into the model; xrtBOSync copies between the two,
 *    so a missing sync shows up as a wrong result, as on a card.
 *  - $QMX_XRT_EMU_VERSION (e.g. 0x00020000) replaces what the VERSION
 *    register reads, to test the backend's version check;
 *    $QMX_XRT_EMU_FAULT=axi-error fails each job's first memory burst.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qmx_regs.h"
#include "qmxsim.h"
#include "xrt_capi.h"

#define EMU_API __attribute__((visibility("default")))
#define EMU_MAX_ARGS 32
#define EMU_DEV_BASE 0x10000000ull /* first BO address */
#define EMU_CHUNK_CYCLES 4096

struct emu_arg {
	char name[32];
	uint32_t offset, size;
	int pointer;
};

struct emu_device {
	qmxsim *sim;
	int loaded;
	xuid_t uuid;
	char kernel[64];
	struct emu_arg args[EMU_MAX_ARGS];
	int nargs;
	uint64_t next_addr;
	struct emu_run *active;       /* the run on the CU */
	struct emu_run *queue, **tail; /* started runs waiting for the CU */
};

struct emu_kernel {
	struct emu_device *dev;
};

struct emu_bo {
	struct emu_device *dev;
	struct emu_bo *parent; /* sub-buffer: shares the parent's memory */
	char *host, *shadow;
	uint64_t addr, size;
};

struct emu_run {
	struct emu_kernel *k;
	uint64_t values[EMU_MAX_ARGS];
	enum ert_cmd_state state;
	struct emu_run *next; /* in the device's queue */
};

/* Marker the xrt backend looks for: devices from here are emulated. */
EMU_API const char qmx_xrt_emulation[] = "qmx XRT C-API emulation over libqmxsim, for tests only";

/* The model is single-threaded; XRT handles are used from several threads. */
static pthread_mutex_t emu_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---------------------------------------------------------------- kernel.xml */

/* Value of attribute `name` in the element starting at `el` (up to '>'). */
static int xml_attr(const char *el, const char *name, char *out, size_t len)
{
	const char *end = strchr(el, '>');
	char key[40];
	snprintf(key, sizeof(key), " %s=\"", name);
	const char *p = strstr(el, key);
	if (!p || (end && p > end))
		return -1;
	p += strlen(key);
	const char *q = strchr(p, '"');
	if (!q || (size_t)(q - p) >= len)
		return -1;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 0;
}

static int emu_parse(struct emu_device *d, const char *xml)
{
	char buf[64];
	const char *k = strstr(xml, "<kernel ");

	if (strncmp(xml, "<?xml", 5) || !k || xml_attr(k, "name", d->kernel, sizeof(d->kernel)))
		return -1;
	d->nargs = 0;
	for (const char *a = strstr(k, "<arg "); a; a = strstr(a + 1, "<arg ")) {
		struct emu_arg arg;
		memset(&arg, 0, sizeof(arg));
		if (xml_attr(a, "name", arg.name, sizeof(arg.name)) || xml_attr(a, "id", buf, sizeof(buf)))
			return -1;
		long id = strtol(buf, NULL, 0);
		if (id < 0 || id >= EMU_MAX_ARGS || xml_attr(a, "offset", buf, sizeof(buf)))
			return -1;
		arg.offset = (uint32_t)strtoul(buf, NULL, 0);
		if (xml_attr(a, "size", buf, sizeof(buf)))
			return -1;
		arg.size = (uint32_t)strtoul(buf, NULL, 0);
		if (xml_attr(a, "addressQualifier", buf, sizeof(buf)))
			return -1;
		arg.pointer = strtol(buf, NULL, 0) == 1;
		if ((arg.size != 4 && arg.size != 8) || (arg.pointer && arg.size != 8))
			return -1;
		d->args[id] = arg;
		if (id + 1 > d->nargs)
			d->nargs = (int)id + 1;
	}
	return d->nargs ? 0 : -1;
}

/* ---------------------------------------------------------------- device */

EMU_API xrtDeviceHandle xrtDeviceOpen(unsigned int index)
{
	struct qmxsim_config cfg;
	const char *arr = getenv("QMX_XRT_EMU_ARRAY");

	if (index != 0) {
		errno = ENODEV;
		return NULL;
	}
	struct emu_device *d = calloc(1, sizeof(*d));
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	qmxsim_config_default(&cfg);
	if (arr && *arr && sscanf(arr, "%ux%u", &cfg.array_rows, &cfg.array_cols) != 2) {
		fprintf(stderr, "xrt-emu: QMX_XRT_EMU_ARRAY=%s is not RxC\n", arr);
		free(d);
		errno = EINVAL;
		return NULL;
	}
	if (qmxsim_new(&cfg, &d->sim)) {
		fprintf(stderr, "xrt-emu: qmxsim_new: %s\n", qmxsim_last_error());
		free(d);
		errno = ENODEV;
		return NULL;
	}
	d->next_addr = EMU_DEV_BASE;
	d->tail = &d->queue;
	return d;
}

EMU_API int xrtDeviceClose(xrtDeviceHandle dhdl)
{
	struct emu_device *d = dhdl;
	if (!d)
		return -EINVAL;
	qmxsim_del(d->sim);
	free(d);
	return 0;
}

EMU_API int xrtDeviceLoadXclbinFile(xrtDeviceHandle dhdl, const char *xclbin_fnm)
{
	struct emu_device *d = dhdl;
	FILE *f = fopen(xclbin_fnm, "rb");
	char *xml;
	long len;

	if (!f)
		return errno = ENOENT, -ENOENT;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) ||
	    !(xml = calloc(1, (size_t)len + 1))) {
		fclose(f);
		return errno = EINVAL, -EINVAL;
	}
	size_t got = fread(xml, 1, (size_t)len, f);
	fclose(f);
	int rc = got == (size_t)len ? emu_parse(d, xml) : -1;
	if (rc) {
		fprintf(stderr, "xrt-emu: %s is not a kernel.xml this emulation can load\n",
			xclbin_fnm);
		free(xml);
		return errno = EINVAL, -EINVAL;
	}
	/* A UUID from the content (FNV-1a, twice): same file, same UUID. */
	uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;
	for (long i = 0; i < len; i++) {
		h1 = (h1 ^ (unsigned char)xml[i]) * 0x100000001b3ull;
		h2 = (h2 ^ (unsigned char)xml[len - 1 - i]) * 0x100000001b3ull;
	}
	memcpy(d->uuid, &h1, 8);
	memcpy(d->uuid + 8, &h2, 8);
	d->loaded = 1;
	free(xml);
	return 0;
}

EMU_API int xrtDeviceGetXclbinUUID(xrtDeviceHandle dhdl, xuid_t out)
{
	struct emu_device *d = dhdl;
	if (!d || !d->loaded)
		return errno = EINVAL, -EINVAL;
	memcpy(out, d->uuid, sizeof(xuid_t));
	return 0;
}

/* ---------------------------------------------------------------- kernel */

EMU_API xrtKernelHandle xrtPLKernelOpenExclusive(xrtDeviceHandle dhdl, const xuid_t xclbin_id,
						 const char *name)
{
	struct emu_device *d = dhdl;
	size_t n = strcspn(name, ":"); /* "kernel:{instance}" names the kernel too */

	if (!d || !d->loaded || memcmp(xclbin_id, d->uuid, sizeof(xuid_t)) ||
	    strlen(d->kernel) != n || strncmp(d->kernel, name, n)) {
		errno = ENOENT;
		return NULL;
	}
	struct emu_kernel *k = calloc(1, sizeof(*k));
	if (!k) {
		errno = ENOMEM;
		return NULL;
	}
	k->dev = d;
	return k;
}

EMU_API int xrtKernelClose(xrtKernelHandle khdl)
{
	free(khdl);
	return 0;
}

EMU_API int xrtKernelArgGroupId(xrtKernelHandle khdl, int argno)
{
	struct emu_kernel *k = khdl;
	if (argno < 0 || argno >= k->dev->nargs || !k->dev->args[argno].pointer)
		return -EINVAL;
	return 0; /* one memory bank */
}

EMU_API int xrtKernelReadRegister(xrtKernelHandle khdl, uint32_t offset, uint32_t *datap)
{
	struct emu_kernel *k = khdl;
	const char *ver = getenv("QMX_XRT_EMU_VERSION");

	if (offset >= QMX_MAP_SIZE || offset % 4)
		return -EINVAL;
	pthread_mutex_lock(&emu_lock);
	*datap = qmxsim_read32(k->dev->sim, offset);
	pthread_mutex_unlock(&emu_lock);
	if (offset == QMX_REG_VERSION && ver && *ver)
		*datap = (uint32_t)strtoul(ver, NULL, 0);
	return 0;
}

/* ---------------------------------------------------------------- runs */

EMU_API xrtRunHandle xrtRunOpen(xrtKernelHandle khdl)
{
	struct emu_run *r = calloc(1, sizeof(*r));
	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	r->k = khdl;
	r->state = ERT_CMD_STATE_NEW;
	return r;
}

EMU_API int xrtRunSetArg(xrtRunHandle rhdl, int index, ...)
{
	struct emu_run *r = rhdl;
	struct emu_device *d = r->k->dev;
	va_list ap;

	if (index < 0 || index >= d->nargs)
		return -EINVAL;
	va_start(ap, index);
	/* As XRT: a global argument takes a buffer handle, a scalar a pointer
	 * to its value, of which the argument's size in bytes is copied. */
	if (d->args[index].pointer) {
		struct emu_bo *bo = va_arg(ap, xrtBufferHandle);
		r->values[index] = bo ? bo->addr : 0;
	} else {
		const void *value = va_arg(ap, const void *);
		uint64_t v = 0;
		if (value)
			memcpy(&v, value, d->args[index].size);
		r->values[index] = v;
	}
	va_end(ap);
	return 0;
}

/* Program a run's arguments and start the CU (emu_lock held).  What XRT's
 * scheduler does for an ap_ctrl_hs CU, interrupt driven. */
static void emu_launch(struct emu_device *d, struct emu_run *r)
{
	for (int i = 0; i < d->nargs; i++) {
		qmxsim_write32(d->sim, d->args[i].offset, (uint32_t)r->values[i]);
		if (d->args[i].size == 8)
			qmxsim_write32(d->sim, d->args[i].offset + 4,
				       (uint32_t)(r->values[i] >> 32));
	}
	/* ISR toggles on write: clear only the bits that are set. */
	uint32_t isr = qmxsim_read32(d->sim, QMX_REG_ISR);
	if (isr)
		qmxsim_write32(d->sim, QMX_REG_ISR, isr);
	qmxsim_write32(d->sim, QMX_REG_IER, QMX_IER_DONE);
	qmxsim_write32(d->sim, QMX_REG_GIE, QMX_GIE_ENABLE);
	/* $QMX_XRT_EMU_FAULT=axi-error: the job's first memory burst fails. */
	const char *fault = getenv("QMX_XRT_EMU_FAULT");
	if (fault && !strcmp(fault, "axi-error"))
		qmxsim_inject(d->sim, QMXSIM_FAULT_AXI_ERROR);
	qmxsim_write32(d->sim, QMX_REG_CTRL, QMX_CTRL_AP_START);
	r->state = ERT_CMD_STATE_RUNNING;
	d->active = r;
}

/* As XRT: a started run waits in the CU's queue while another one runs;
 * its arguments are captured now. */
EMU_API int xrtRunStart(xrtRunHandle rhdl)
{
	struct emu_run *r = rhdl;
	struct emu_device *d = r->k->dev;

	pthread_mutex_lock(&emu_lock);
	if (r->state == ERT_CMD_STATE_QUEUED || r->state == ERT_CMD_STATE_RUNNING) {
		pthread_mutex_unlock(&emu_lock);
		return -EBUSY;
	}
	r->next = NULL;
	if (!d->active) {
		emu_launch(d, r);
	} else {
		r->state = ERT_CMD_STATE_QUEUED;
		*d->tail = r;
		d->tail = &r->next;
	}
	pthread_mutex_unlock(&emu_lock);
	return 0;
}

static uint64_t emu_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Clock the model, completing runs in order, until this run is done or the
 * time is up (timeout 0: no limit). */
EMU_API enum ert_cmd_state xrtRunWaitFor(xrtRunHandle rhdl, unsigned int timeout_ms)
{
	struct emu_run *r = rhdl;
	struct emu_device *d = r->k->dev;
	uint64_t end = emu_now_ms() + timeout_ms;

	pthread_mutex_lock(&emu_lock);
	while (r->state == ERT_CMD_STATE_RUNNING || r->state == ERT_CMD_STATE_QUEUED) {
		struct emu_run *a = d->active;
		uint64_t cycles = 0;
		int rc = qmxsim_run(d->sim, EMU_CHUNK_CYCLES, &cycles);
		if (rc < 0) {
			fprintf(stderr, "xrt-emu: the model stopped: %s\n", qmxsim_last_error());
			a->state = ERT_CMD_STATE_ERROR;
		} else if (rc == QMXSIM_RUN_IRQ || rc == QMXSIM_RUN_IDLE) {
			uint32_t isr = qmxsim_read32(d->sim, QMX_REG_ISR);
			if (isr)
				qmxsim_write32(d->sim, QMX_REG_ISR, isr);
			a->state = ERT_CMD_STATE_COMPLETED;
		}
		if (a->state != ERT_CMD_STATE_RUNNING) {
			d->active = NULL;
			struct emu_run *n = d->queue;
			if (n) {
				d->queue = n->next;
				if (!d->queue)
					d->tail = &d->queue;
				emu_launch(d, n);
			}
		}
		if (timeout_ms && emu_now_ms() >= end)
			break;
	}
	enum ert_cmd_state st = r->state;
	pthread_mutex_unlock(&emu_lock);
	return st;
}

EMU_API enum ert_cmd_state xrtRunState(xrtRunHandle rhdl)
{
	struct emu_run *r = rhdl;
	pthread_mutex_lock(&emu_lock);
	enum ert_cmd_state st = r->state;
	pthread_mutex_unlock(&emu_lock);
	return st;
}

EMU_API int xrtRunClose(xrtRunHandle rhdl)
{
	struct emu_run *r = rhdl;
	/* The CU and its queue may still point at it: let it finish first. */
	if (xrtRunState(r) == ERT_CMD_STATE_RUNNING || xrtRunState(r) == ERT_CMD_STATE_QUEUED)
		xrtRunWaitFor(r, 0);
	free(r);
	return 0;
}

/* ---------------------------------------------------------------- buffers */

EMU_API xrtBufferHandle xrtBOAlloc(xrtDeviceHandle dhdl, size_t size, xrtBufferFlags flags,
				   xrtMemoryGroup grp)
{
	struct emu_device *d = dhdl;
	size_t rounded = (size + 4095) & ~(size_t)4095;

	if (!d || !size || flags || grp != 0) {
		errno = EINVAL;
		return NULL;
	}
	struct emu_bo *bo = calloc(1, sizeof(*bo));
	if (!bo || !(bo->host = aligned_alloc(4096, rounded)) ||
	    !(bo->shadow = aligned_alloc(4096, rounded))) {
		if (bo)
			free(bo->host);
		free(bo);
		errno = ENOMEM;
		return NULL;
	}
	/* Garbage, not zeros, until synced: a missing sync must not pass. */
	memset(bo->host, 0xA5, rounded);
	memset(bo->shadow, 0x5A, rounded);
	bo->dev = d;
	bo->size = size;
	pthread_mutex_lock(&emu_lock);
	bo->addr = d->next_addr;
	d->next_addr += rounded + 4096; /* a guard page between buffers */
	int rc = qmxsim_map(d->sim, bo->addr, bo->shadow, rounded,
			    QMXSIM_MAP_READ | QMXSIM_MAP_WRITE);
	pthread_mutex_unlock(&emu_lock);
	if (rc) {
		fprintf(stderr, "xrt-emu: qmxsim_map: %s\n", qmxsim_last_error());
		free(bo->host);
		free(bo->shadow);
		free(bo);
		errno = ENOMEM;
		return NULL;
	}
	return bo;
}

EMU_API xrtBufferHandle xrtBOSubAlloc(xrtBufferHandle parent, size_t size, size_t offset)
{
	struct emu_bo *p = parent;
	if (!p || p->parent || offset > p->size || size > p->size - offset) {
		errno = EINVAL;
		return NULL;
	}
	struct emu_bo *bo = calloc(1, sizeof(*bo));
	if (!bo) {
		errno = ENOMEM;
		return NULL;
	}
	*bo = (struct emu_bo){ p->dev, p, p->host + offset, p->shadow + offset, p->addr + offset,
			       size };
	return bo;
}

EMU_API int xrtBOFree(xrtBufferHandle bhdl)
{
	struct emu_bo *bo = bhdl;
	if (!bo)
		return -EINVAL;
	if (!bo->parent) {
		pthread_mutex_lock(&emu_lock);
		qmxsim_unmap(bo->dev->sim, bo->addr);
		pthread_mutex_unlock(&emu_lock);
		free(bo->host);
		free(bo->shadow);
	}
	free(bo);
	return 0;
}

EMU_API void *xrtBOMap(xrtBufferHandle bhdl)
{
	return bhdl ? ((struct emu_bo *)bhdl)->host : NULL;
}

EMU_API int xrtBOSync(xrtBufferHandle bhdl, enum xclBOSyncDirection dir, size_t size,
		      size_t offset)
{
	struct emu_bo *bo = bhdl;
	if (!bo || offset > bo->size || size > bo->size - offset)
		return -EINVAL;
	pthread_mutex_lock(&emu_lock);
	if (dir == XCL_BO_SYNC_BO_TO_DEVICE)
		memcpy(bo->shadow + offset, bo->host + offset, size);
	else
		memcpy(bo->host + offset, bo->shadow + offset, size);
	pthread_mutex_unlock(&emu_lock);
	return 0;
}

EMU_API uint64_t xrtBOAddress(xrtBufferHandle bhdl)
{
	return bhdl ? ((struct emu_bo *)bhdl)->addr : 0;
}
