// SPDX-License-Identifier: MIT
/*
 * qmx_uapi_test - what the kernel test's qmx_ktest does not cover, run in a
 * guest (or on a machine) with a bound qmx device:
 *   syncobj chaining (out_sync of one job -> in_sync of the next),
 *   timeline syncobjs (points in and out, a gap, the generic timeline wait
 *   and query, a point not submitted yet, the pre-timeline struct size),
 *   WAIT on a syncobj and on a job id with stats, a zero-timeout poll,
 *   fdinfo keys, the hwmon energy sensor, debugfs files.
 *
 *   built by tests/kernel (ctest), or by hand with the generated register
 *   header: cc -static -I driver/include/uapi/drm -I/usr/include/libdrm \
 *      -I build/hw/include driver/tests/qmx_uapi_test.c -o qmx_uapi_test
 *   qmx_uapi_test [/dev/accel/accel0 | /dev/dri/renderD128]
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
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

static int mismatches(const int8_t *a, const int8_t *b, const int32_t *c)
{
	int bad = 0;

	for (int i = 0; i < M; i++) {
		for (int j = 0; j < N; j++) {
			int32_t acc = 0;

			for (int k = 0; k < K; k++)
				acc += a[i * K + k] * b[k * N + j];
			bad += c[i * N + j] != acc;
		}
	}
	return bad;
}

/*
 * Timeline syncobjs (DRIVER_SYNCOBJ_TIMELINE): three jobs chained through
 * points 1, 2 and 5 of one timeline, waited on with the generic DRM ioctl.
 */
static void check_timeline(int fd, struct drm_qmx_gemm g, const int8_t *a, const int8_t *b)
{
	/* SUBMIT as built before the point fields existed. */
	const unsigned long submit_v1 =
		_IOC(_IOC_READ | _IOC_WRITE, DRM_IOCTL_BASE, DRM_COMMAND_BASE + DRM_QMX_SUBMIT,
		     offsetof(struct drm_qmx_submit, in_sync_point));
	struct drm_get_cap cap = { .capability = DRM_CAP_SYNCOBJ_TIMELINE };
	struct drm_syncobj_create tl = { 0 };
	static const uint64_t point[3] = { 1, 2, 5 };
	int32_t *c[3];
	uint32_t hc[3];
	int ret, bad = 0;

	ret = xioctl(fd, DRM_IOCTL_GET_CAP, &cap);
	CHECK(!ret && cap.value == 1, "DRM_CAP_SYNCOBJ_TIMELINE -> %d, %llu", ret,
	      (unsigned long long)cap.value);
	ret = xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &tl);
	CHECK(!ret, "SYNCOBJ_CREATE (timeline) -> %d", ret);
	for (int i = 0; i < 3; i++) {
		hc[i] = bo_new(fd, 4096, (void **)&c[i]);
		if (!hc[i]) {
			CHECK(0, "timeline output BO %d", i);
			return;
		}
	}

	for (int i = 0; i < 3; i++) {
		struct drm_qmx_submit s = { .gemm_ptr = (uintptr_t)&g,
					    .gemm_struct_size = sizeof(g),
					    .out_sync = tl.handle, .out_sync_point = point[i] };

		g.c.handle = hc[i];
		if (i) {
			s.in_sync = tl.handle;
			s.in_sync_point = point[i - 1];
		}
		ret = xioctl(fd, DRM_IOCTL_QMX_SUBMIT, &s);
		CHECK(!ret, "SUBMIT waiting for point %llu, signalling point %llu -> %d",
		      (unsigned long long)s.in_sync_point, (unsigned long long)point[i], ret);
	}

	uint64_t handles = tl.handle, wait_point = point[2], query = 0;
	struct drm_syncobj_timeline_wait tw = {
		.handles = (uintptr_t)&handles, .points = (uintptr_t)&wait_point,
		.timeout_nsec = INT64_MAX, .count_handles = 1,
	};
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	tw.timeout_nsec = (now.tv_sec + 60) * 1000000000LL + now.tv_nsec;
	ret = xioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &tw);
	CHECK(!ret, "SYNCOBJ_TIMELINE_WAIT for point %llu -> %d",
	      (unsigned long long)wait_point, ret);
	struct drm_syncobj_timeline_array q = { .handles = (uintptr_t)&handles,
						.points = (uintptr_t)&query, .count_handles = 1 };
	ret = xioctl(fd, DRM_IOCTL_SYNCOBJ_QUERY, &q);
	CHECK(!ret && query == point[2], "SYNCOBJ_QUERY -> %d, last signalled point %llu", ret,
	      (unsigned long long)query);
	for (int i = 0; i < 3; i++)
		bad += mismatches(a, b, c[i]);
	CHECK(!bad, "three timeline-chained results bit-exact (%d mismatches)", bad);

	struct drm_qmx_submit s = { .gemm_ptr = (uintptr_t)&g, .gemm_struct_size = sizeof(g),
				    .in_sync = tl.handle, .in_sync_point = 9 };
	ret = xioctl(fd, DRM_IOCTL_QMX_SUBMIT, &s);
	CHECK(ret == -EINVAL, "SUBMIT waiting for point 9, never submitted -> %d (EINVAL)", ret);
	s = (struct drm_qmx_submit){ .gemm_ptr = (uintptr_t)&g, .gemm_struct_size = sizeof(g),
				     .in_sync_point = 1 };
	ret = xioctl(fd, DRM_IOCTL_QMX_SUBMIT, &s);
	CHECK(ret == -EINVAL, "SUBMIT with in_sync_point but no in_sync -> %d (EINVAL)", ret);
	s = (struct drm_qmx_submit){ .gemm_ptr = (uintptr_t)&g, .gemm_struct_size = sizeof(g),
				     .out_sync_point = 1 };
	ret = xioctl(fd, DRM_IOCTL_QMX_SUBMIT, &s);
	CHECK(ret == -EINVAL, "SUBMIT with out_sync_point but no out_sync -> %d (EINVAL)", ret);

	/* The pre-timeline layout still works: the core zero-fills the points. */
	s = (struct drm_qmx_submit){ .gemm_ptr = (uintptr_t)&g, .gemm_struct_size = sizeof(g),
				     .in_sync_point = 7, .out_sync_point = 7 };
	ret = xioctl(fd, submit_v1, &s);
	struct drm_qmx_wait w = { .job_id = s.job_id, .timeout_ns = 60000000000LL };
	if (!ret)
		ret = xioctl(fd, DRM_IOCTL_QMX_WAIT, &w);
	CHECK(!ret && s.job_id, "SUBMIT with the pre-timeline struct size (%zu bytes) -> %d",
	      offsetof(struct drm_qmx_submit, in_sync_point), ret);
}

int main(int argc, char **argv)
{
	/* An accel node on kernels with DRIVER_COMPUTE_ACCEL, else a render node. */
	const char *node = argc > 1 ? argv[1] :
			   !access("/dev/accel/accel0", F_OK) ? "/dev/accel/accel0" :
			   "/dev/dri/renderD128";
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

	bad = mismatches(a, b, c1) + mismatches(a, b, c2);
	CHECK(!bad, "both results bit-exact (%d mismatches)", bad);

	check_timeline(fd, g, a, b);

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
