// SPDX-License-Identifier: MIT
/*
 * qmx_uapi_test - what the kernel test's qmx_ktest does not cover, run in a
 * guest (or on a machine) with a bound qmx device:
 *   syncobj chaining (out_sync of one job -> in_sync of the next),
 *   WAIT on a syncobj and on a job id with stats, a zero-timeout poll,
 *   fdinfo keys, the hwmon energy sensor, debugfs files.
 *
 *   built by tests/kernel (ctest), or by hand with the generated register
 *   header: cc -static -I driver/include/uapi/drm -I/usr/include/libdrm \
 *      -I build/hw/include driver/tests/qmx_uapi_test.c -o qmx_uapi_test
 *   qmx_uapi_test [/dev/dri/renderD128]
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>
#include "qmx_accel.h"
#include "qmx_regs.h" /* generated from hw/regmap */

static int failures;

#define CHECK(cond, ...)                                         \
	do {                                                     \
		if (cond) {                                      \
			printf("ok: ");                          \
		} else {                                         \
			printf("FAIL: ");                        \
			failures++;                              \
		}                                                \
		printf(__VA_ARGS__);                             \
		printf("\n");                                    \
	} while (0)

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r == -1 && (errno == EINTR || errno == EAGAIN));
	return r == -1 ? -errno : 0;
}

static uint32_t bo_new(int fd, uint64_t size, void **map)
{
	struct drm_qmx_bo_create c = { .size = size };
	struct drm_qmx_bo_mmap_offset mo = { 0 };

	if (xioctl(fd, DRM_IOCTL_QMX_BO_CREATE, &c))
		return 0;
	mo.handle = c.handle;
	if (xioctl(fd, DRM_IOCTL_QMX_BO_MMAP_OFFSET, &mo))
		return 0;
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, mo.offset);
	return *map == MAP_FAILED ? 0 : c.handle;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

/* A tiny int32 GEMM: C (m x n) = A (m x k) * B (k x n), checked on the CPU. */
#define M 7
#define N 5
#define K 9

int main(int argc, char **argv)
{
	const char *node = argc > 1 ? argv[1] : "/dev/dri/renderD128";
	int8_t *a, *b;
	int32_t *c1, *c2;
	uint32_t ha, hb, hc1, hc2;
	char path[256], buf[4096];
	int fd, ret, bad;

	fd = open(node, O_RDWR);
	if (fd < 0) {
		perror(node);
		return 2;
	}

	struct drm_qmx_get_param gp = { .param = DRM_QMX_PARAM_MAGIC };
	ret = xioctl(fd, DRM_IOCTL_QMX_GET_PARAM, &gp);
	CHECK(!ret && gp.value == QMX_MAP_MAGIC, "GET_PARAM MAGIC 0x%llx", (unsigned long long)gp.value);
	gp.param = DRM_QMX_PARAM_TRANSPORT;
	xioctl(fd, DRM_IOCTL_QMX_GET_PARAM, &gp);
	printf("transport %llu\n", (unsigned long long)gp.value);

	ha = bo_new(fd, 4096, (void **)&a);
	hb = bo_new(fd, 4096, (void **)&b);
	hc1 = bo_new(fd, 4096, (void **)&c1);
	hc2 = bo_new(fd, 4096, (void **)&c2);
	CHECK(ha && hb && hc1 && hc2, "4 BOs created and mapped");
	if (!(ha && hb && hc1 && hc2))
		return 1;
	for (int i = 0; i < M * K; i++)
		a[i] = (int8_t)(i * 7 - 50);
	for (int i = 0; i < K * N; i++)
		b[i] = (int8_t)(i * 5 - 30);

	struct drm_syncobj_create sc = { 0 };
	ret = xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &sc);
	CHECK(!ret, "SYNCOBJ_CREATE -> %d", ret);

	struct drm_qmx_gemm g = {
		.m = M, .n = N, .k = K, .lda = K, .ldb = N, .ldc = N,
		.qmin = -128, .qmax = 127,
	};
	g.a.handle = ha;
	g.b.handle = hb;
	g.c.handle = hc1;
	struct drm_qmx_submit s1 = { .gemm_ptr = (uintptr_t)&g,
				     .gemm_struct_size = sizeof(g),
				     .out_sync = sc.handle };
	ret = xioctl(fd, DRM_IOCTL_QMX_SUBMIT, &s1);
	CHECK(!ret && s1.job_id, "SUBMIT job 1 with out_sync -> %d, id %llu", ret,
	      (unsigned long long)s1.job_id);

	/* Job 2 waits for job 1 through the syncobj. */
	g.c.handle = hc2;
	struct drm_qmx_submit s2 = { .gemm_ptr = (uintptr_t)&g,
				     .gemm_struct_size = sizeof(g),
				     .in_sync = sc.handle };
	ret = xioctl(fd, DRM_IOCTL_QMX_SUBMIT, &s2);
	CHECK(!ret && s2.job_id > s1.job_id, "SUBMIT job 2 with in_sync -> %d", ret);

	struct drm_qmx_wait w = { .syncobj = sc.handle, .flags = DRM_QMX_WAIT_SYNCOBJ,
				  .timeout_ns = 60000000000LL };
	ret = xioctl(fd, DRM_IOCTL_QMX_WAIT, &w);
	CHECK(!ret, "WAIT on the syncobj -> %d", ret);

	struct drm_qmx_job_stats st;
	memset(&st, 0xff, sizeof(st));
	struct drm_qmx_wait w2 = { .job_id = s2.job_id, .timeout_ns = 60000000000LL,
				   .stats_ptr = (uintptr_t)&st,
				   .stats_struct_size = sizeof(st) };
	ret = xioctl(fd, DRM_IOCTL_QMX_WAIT, &w2);
	CHECK(!ret && st.status == DRM_QMX_JOB_DONE && st.macs == (uint64_t)M * N * K,
	      "WAIT job 2 -> %d, status %u, macs %llu, cycles %llu, %llu ns on the device, %llu nJ (%s)",
	      ret, st.status, (unsigned long long)st.macs,
	      (unsigned long long)st.busy_cycles,
	      (unsigned long long)(st.end_ns - st.start_ns),
	      (unsigned long long)st.energy_nj,
	      st.energy_modelled ? "modelled" : "measured");

	/* Already done: a zero timeout returns at once with 0. */
	struct drm_qmx_wait w3 = { .job_id = s1.job_id };
	ret = xioctl(fd, DRM_IOCTL_QMX_WAIT, &w3);
	CHECK(!ret, "zero-timeout WAIT on a finished job -> %d", ret);

	struct drm_qmx_wait w4 = { .job_id = s1.job_id, .syncobj = sc.handle };
	ret = xioctl(fd, DRM_IOCTL_QMX_WAIT, &w4);
	CHECK(ret == -EINVAL, "WAIT with syncobj but no flag -> %d (EINVAL)", ret);
	struct drm_qmx_wait w5 = { .syncobj = 0xdead, .flags = DRM_QMX_WAIT_SYNCOBJ };
	ret = xioctl(fd, DRM_IOCTL_QMX_WAIT, &w5);
	CHECK(ret == -ENOENT || ret == -EINVAL, "WAIT on an unknown syncobj -> %d", ret);
	struct drm_qmx_submit s3 = { .gemm_ptr = (uintptr_t)&g,
				     .gemm_struct_size = sizeof(g), .in_sync = 0xdead };
	ret = xioctl(fd, DRM_IOCTL_QMX_SUBMIT, &s3);
	CHECK(ret == -ENOENT || ret == -EINVAL, "SUBMIT with an unknown in_sync -> %d", ret);

	bad = 0;
	for (int i = 0; i < M; i++) {
		for (int j = 0; j < N; j++) {
			int32_t acc = 0;

			for (int k = 0; k < K; k++)
				acc += a[i * K + k] * b[k * N + j];
			bad += c1[i * N + j] != acc || c2[i * N + j] != acc;
		}
	}
	CHECK(!bad, "both results bit-exact (%d mismatches)", bad);

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ret = read_file(path, buf, sizeof(buf));
	CHECK(ret > 0 && strstr(buf, "drm-driver:\tqmx") && strstr(buf, "drm-engine-qmx:") &&
	      strstr(buf, "drm-cycles-qmx:") && strstr(buf, "drm-total-memory:"),
	      "fdinfo has drm-driver, drm-engine-qmx, drm-cycles-qmx, drm-total-memory");

	glob_t gl;
	int found = 0;
	if (!glob("/sys/class/hwmon/hwmon*/name", 0, NULL, &gl)) {
		for (size_t i = 0; i < gl.gl_pathc; i++) {
			char dir[128], v[64];

			if (read_file(gl.gl_pathv[i], v, sizeof(v)) <= 0 || strncmp(v, "qmx", 3))
				continue;
			snprintf(dir, sizeof(dir), "%.*s", (int)(strlen(gl.gl_pathv[i]) - 5),
				 gl.gl_pathv[i]);
			snprintf(path, sizeof(path), "%s/energy1_label", dir);
			found = read_file(path, v, sizeof(v)) > 0 && !strncmp(v, "modelled", 8);
			snprintf(path, sizeof(path), "%s/energy1_input", dir);
			if (found && read_file(path, v, sizeof(v)) > 0)
				printf("hwmon %s: energy1_input %s", dir, v);
		}
		globfree(&gl);
	}
	CHECK(found, "hwmon qmx energy1_label is \"modelled\"");

	if (!access("/sys/kernel/debug/dri", F_OK)) {
		char magic[16];

		snprintf(magic, sizeof(magic), "0x%08x", QMX_MAP_MAGIC);
		found = 0;
		if (!glob("/sys/kernel/debug/dri/*/regs", 0, NULL, &gl)) {
			for (size_t i = 0; i < gl.gl_pathc && !found; i++)
				found = read_file(gl.gl_pathv[i], buf, sizeof(buf)) > 0 &&
					strstr(buf, "MAGIC") && strstr(buf, magic);
			globfree(&gl);
		}
		CHECK(found, "debugfs regs shows MAGIC %s", magic);
	}

	close(fd);
	printf("qmx_uapi_test: %d failure(s)\n", failures);
	return failures != 0;
}
