/* SPDX-License-Identifier: MIT */
/*
 * simd_protocol_test.c - qmx-simd on its own, in seconds: this program plays
 * QEMU (the ivshmem client) and the guest driver at once.
 *
 *   simd_protocol_test QMX_SIMD_BINARY
 *
 * Checks the ivshmem handshake (version, own id, shared memory, the device's
 * and our own eventfds), the control block, every mailbox op and its error
 * codes, a GEMM whose operands are scattered over guest pages through the
 * page table (bit-exact vs qmx_gemm_reference, completion by interrupt on
 * our vector 0), an AXI error for a write through a read-only entry, the
 * control socket, and a clean SIGTERM.  Every wait is bounded; qmx-simd is
 * killed on any exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qmx/qmx.h"
#include "qmx_cosim_proto.h"
#include "qmx_regs.h"
#include "qmx_jobprog.h"

#define RAM_SIZE (64u << 20)

static pid_t simd_pid;
static char dir[64], sock_path[128], ctl_path[128], ram_path[128], log_path[128];
static uint8_t *shm, *ram;
static int door_fd = -1, irq_fd = -1;
static uint32_t seq;

static void cleanup(void)
{
	if (simd_pid > 0) {
		kill(simd_pid, SIGKILL);
		waitpid(simd_pid, NULL, 0);
	}
	unlink(ram_path);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n--- qmx-simd log ---\n");
	f = fopen(log_path, "r");
	while (f && fgets(line, sizeof(line), f))
		fputs(line, stdout);
	if (f)
		fclose(f);
	exit(1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One 8-byte message and its fd (-1 if none), within 5 s. */
static int64_t recv_msg(int sock, int *fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	int64_t v;
	struct iovec iov = { .iov_base = &v, .iov_len = sizeof(v) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct pollfd p = { .fd = sock, .events = POLLIN };
	struct cmsghdr *c;

	if (poll(&p, 1, 5000) != 1)
		die("no handshake message within 5 s");
	if (recvmsg(sock, &msg, 0) != sizeof(v))
		die("short handshake message");
	*fd = -1;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return (int64_t)le64toh((uint64_t)v);
}

static uint32_t shm_get(uint32_t off)
{
	return __atomic_load_n((uint32_t *)(shm + off), __ATOMIC_ACQUIRE);
}

static void shm_set(uint32_t off, uint32_t v)
{
	__atomic_store_n((uint32_t *)(shm + off), v, __ATOMIC_RELEASE);
}

/* A mailbox request as the driver makes it; returns ack_status. */
static uint32_t mbox(uint32_t op, uint32_t off, uint32_t val, uint32_t *out)
{
	uint64_t one = 1, t0 = now_ms();

	shm_set(QMX_COSIM_REQ_OP_OFF, op);
	shm_set(QMX_COSIM_REQ_OFFSET_OFF, off);
	shm_set(QMX_COSIM_REQ_VALUE_OFF, val);
	shm_set(QMX_COSIM_REQ_SEQ_OFF, ++seq);
	if (write(door_fd, &one, sizeof(one)) != sizeof(one)) /* the doorbell */
		die("doorbell: %s", strerror(errno));
	while (shm_get(QMX_COSIM_ACK_SEQ_OFF) != seq) {
		if (now_ms() - t0 > 5000)
			die("mailbox op %u offset 0x%x: no ack within 5 s", op, off);
		usleep(50);
	}
	if (out)
		*out = shm_get(QMX_COSIM_ACK_VALUE_OFF);
	return shm_get(QMX_COSIM_ACK_STATUS_OFF);
}

static uint32_t rd(void *ctx, uint32_t off)
{
	uint32_t v = 0;

	(void)ctx;
	if (mbox(QMX_COSIM_OP_READ32, off, 0, &v))
		die("READ32 0x%x failed", off);
	return v;
}

static void wr(void *ctx, uint32_t off, uint32_t v)
{
	(void)ctx;
	if (mbox(QMX_COSIM_OP_WRITE32, off, v, NULL))
		die("WRITE32 0x%x failed", off);
}

static void expect_eq(const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		die("%s: 0x%llx, expected 0x%llx", what, (unsigned long long)got,
		    (unsigned long long)want);
	printf("ok: %s = 0x%llx\n", what, (unsigned long long)got);
}

/* Map device page `i` to guest page `gpa_page` (flags: VALID[|WRITE]). */
static void pte(unsigned i, unsigned gpa_page, uint64_t flags)
{
	__atomic_store_n((uint64_t *)(shm + QMX_COSIM_PT_OFFSET + 8 * i),
			 ((uint64_t)gpa_page << QMX_COSIM_PAGE_SHIFT) | flags, __ATOMIC_RELEASE);
}

/* Guest pointer of device address `va`. */
static void *host_of(uint64_t va)
{
	uint64_t i = (va - QMX_COSIM_VA_BASE) >> QMX_COSIM_PAGE_SHIFT;
	uint64_t e = *(uint64_t *)(shm + QMX_COSIM_PT_OFFSET + 8 * i);

	return ram + (e & QMX_COSIM_PTE_ADDR_MASK) + (va & (QMX_COSIM_PAGE_SIZE - 1));
}

/* Run one job to its interrupt; returns the ERROR register. */
static uint32_t run_job(const struct qmx_jobprog_gemm *g)
{
	uint32_t before = shm_get(QMX_COSIM_IRQ_COUNT_OFF), err;
	struct pollfd p = { .fd = irq_fd, .events = POLLIN };
	uint64_t n;

	qmx_jobprog_write_gemm(g, wr, NULL);
	qmx_jobprog_start(rd, wr, NULL, 1);
	if (poll(&p, 1, 60000) != 1)
		die("no interrupt on our vector 0 within 60 s");
	if (read(irq_fd, &n, sizeof(n)) != sizeof(n))
		die("interrupt eventfd read");
	if (shm_get(QMX_COSIM_IRQ_PENDING_OFF) != 1 ||
	    shm_get(QMX_COSIM_IRQ_COUNT_OFF) != before + 1)
		die("irq_pending/irq_count not updated with the interrupt");
	shm_set(QMX_COSIM_IRQ_PENDING_OFF, 0);
	if (!qmx_jobprog_isr_done(rd(NULL, QMX_REG_ISR)))
		die("interrupt without ISR.DONE");
	err = rd(NULL, QMX_REG_ERROR);
	qmx_jobprog_ack(rd, wr, NULL);
	return err;
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int64_t id, v;
	int sock = -1, fd, shm_fd;
	uint32_t val;
	struct stat st;

	if (argc != 2) {
		fprintf(stderr, "usage: %s QMX_SIMD_BINARY\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(dir, sizeof(dir), "/tmp/qmx-simd-test.XXXXXX");
	if (!mkdtemp(dir))
		die("mkdtemp: %s", strerror(errno));
	snprintf(sock_path, sizeof(sock_path), "%s/ivshmem.sock", dir);
	snprintf(ctl_path, sizeof(ctl_path), "%s/control.sock", dir);
	snprintf(log_path, sizeof(log_path), "%s/simd.log", dir);
	snprintf(ram_path, sizeof(ram_path), "/dev/shm/qmx-simd-test-%d.ram", (int)getpid());
	atexit(cleanup);

	simd_pid = fork();
	if (simd_pid == 0) {
		char size[32];

		snprintf(size, sizeof(size), "%u", RAM_SIZE);
		execl(argv[1], argv[1], "--socket", sock_path, "--control", ctl_path, "--ram",
		      ram_path, "--ram-size", size, "--log", log_path, "--max-seconds", "120",
		      (char *)NULL);
		_exit(127);
	}

	/* ---- the handshake, as QEMU's ivshmem-doorbell sees it */
	memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
	for (uint64_t t0 = now_ms(); now_ms() - t0 < 10000; usleep(20000)) {
		sock = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			break;
		close(sock);
		sock = -1;
	}
	if (sock < 0)
		die("cannot connect to %s within 10 s", sock_path);
	v = recv_msg(sock, &fd);
	expect_eq("protocol version", (uint64_t)v, 0);
	id = recv_msg(sock, &fd);
	if (fd >= 0 || id < 0 || id > 0xFFFF)
		die("own id message: id %lld fd %d", (long long)id, fd);
	v = recv_msg(sock, &shm_fd);
	if (v != -1 || shm_fd < 0)
		die("shared memory message: %lld fd %d", (long long)v, shm_fd);
	if (fstat(shm_fd, &st) || (uint64_t)st.st_size != QMX_COSIM_SHM_SIZE)
		die("shared memory is %lld bytes, want %u", (long long)st.st_size,
		    QMX_COSIM_SHM_SIZE);
	shm = mmap(NULL, QMX_COSIM_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
	if (shm == MAP_FAILED)
		die("mmap shm: %s", strerror(errno));
	/* Then every peer once per vector (1): the device, then us. */
	v = recv_msg(sock, &door_fd);
	if (v == id || door_fd < 0)
		die("device peer message: id %lld fd %d", (long long)v, door_fd);
	expect_eq("device peer id (control block)", shm_get(QMX_COSIM_DEVICE_PEER_OFF),
		  (uint64_t)v);
	if (recv_msg(sock, &irq_fd) != id || irq_fd < 0)
		die("our own vector message missing");
	expect_eq("magic", shm_get(QMX_COSIM_MAGIC_OFF), QMX_COSIM_MAGIC);
	expect_eq("version", shm_get(QMX_COSIM_VERSION_OFF), QMX_COSIM_VERSION);
	expect_eq("server ready", shm_get(QMX_COSIM_SERVER_READY_OFF), 1);

	/* ---- the mailbox */
	seq = shm_get(QMX_COSIM_ACK_SEQ_OFF);
	expect_eq("PING status", mbox(QMX_COSIM_OP_PING, 0, 0, &val), QMX_COSIM_OK);
	expect_eq("PING value", val, QMX_COSIM_MAGIC);
	expect_eq("READ32 MAGIC register", rd(NULL, QMX_REG_MAGIC), QMX_MAP_MAGIC);
	expect_eq("READ32 beyond the window", mbox(QMX_COSIM_OP_READ32, QMX_MAP_SIZE, 0, NULL),
		  QMX_COSIM_EBADOFFSET);
	expect_eq("READ32 unaligned", mbox(QMX_COSIM_OP_READ32, 2, 0, NULL),
		  QMX_COSIM_EBADOFFSET);
	expect_eq("unknown op", mbox(99, 0, 0, NULL), QMX_COSIM_EBADOP);
	expect_eq("TLB_FLUSH", mbox(QMX_COSIM_OP_TLB_FLUSH, 0, 0, NULL), QMX_COSIM_OK);

	/* ---- a GEMM through the page table: 24x40x300 int32 + bias, each
	 * operand on guest pages in reverse order (device-contiguous,
	 * guest-scattered). */
	{
		int fdr = open(ram_path, O_RDWR);
		struct qmx_jobprog_gemm g = { 0 };
		qmx_gemm_params p;
		qmx_gemm_host_operands ops = { 0 };
		const unsigned M = 24, N = 40, K = 300, pages = 16;
		int8_t *a = malloc(M * K), *b = malloc(K * N);
		int32_t *bias = malloc(4 * N), *c = malloc(4 * M * N), *ref = malloc(4 * M * N);
		uint64_t va;

		if (fdr < 0)
			die("open guest RAM: %s", strerror(errno));
		ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fdr, 0);
		close(fdr);
		if (ram == MAP_FAILED)
			die("mmap guest RAM: %s", strerror(errno));
		srand(1234);
		for (unsigned i = 0; i < M * K; i++)
			a[i] = (int8_t)(rand() & 0xff);
		for (unsigned i = 0; i < K * N; i++)
			b[i] = (int8_t)(rand() & 0xff);
		for (unsigned j = 0; j < N; j++)
			bias[j] = rand() % 200001 - 100000;
		/* Device pages 0..4*pages-1 -> guest pages 8000 downwards. */
		for (unsigned i = 0; i < 4 * pages; i++)
			pte(i, 8000 - 7 * i, QMX_COSIM_PTE_VALID |
					     (i >= 2 * pages ? QMX_COSIM_PTE_WRITE : 0));
		g.a_addr = QMX_COSIM_VA_BASE + 100;
		g.b_addr = QMX_COSIM_VA_BASE + (uint64_t)pages * 4096 / 2;
		g.bias_addr = QMX_COSIM_VA_BASE + (uint64_t)pages * 4096 + 12;
		g.c_addr = QMX_COSIM_VA_BASE + (uint64_t)2 * pages * 4096 + 8;
		for (unsigned i = 0; i < M * K; i++)
			*(int8_t *)host_of(g.a_addr + i) = a[i];
		for (unsigned i = 0; i < K * N; i++)
			*(int8_t *)host_of(g.b_addr + i) = b[i];
		for (unsigned j = 0; j < 4 * N; j++)
			*(uint8_t *)host_of(g.bias_addr + j) = ((uint8_t *)bias)[j];
		for (va = g.c_addr; va < g.c_addr + 4 * M * N; va++)
			*(uint8_t *)host_of(va) = 0xA5;
		g.m = M, g.n = N, g.k = K, g.lda = K, g.ldb = N, g.ldc = N;
		g.a_zero_point = 3, g.b_zero_point = -2, g.has_bias = 1;
		g.multiplier = 1 << 30, g.shift = 1, g.qmin = -128, g.qmax = 127;
		expect_eq("GEMM 24x40x300 ERROR", run_job(&g), 0);
		for (unsigned i = 0; i < 4 * M * N; i++)
			((uint8_t *)c)[i] = *(uint8_t *)host_of(g.c_addr + i);

		qmx_gemm_params_init(&p, M, N, K);
		p.a_zero_point = 3, p.b_zero_point = -2, p.has_bias = 1;
		ops.a = a, ops.b = b, ops.bias = bias, ops.c = ref;
		if (qmx_gemm_reference(&p, &ops))
			die("reference: %s", qmx_last_error());
		for (unsigned i = 0; i < M * N; i++)
			if (c[i] != ref[i])
				die("C[%u][%u] = %d, expected %d", i / N, i % N, c[i], ref[i]);
		printf("ok: GEMM through scattered guest pages is bit-exact\n");

		/* C's first page read-only: the write must fail as an AXI
		 * error, not land in guest memory. */
		pte(2 * pages, 8000 - 14 * pages, QMX_COSIM_PTE_VALID);
		*(int32_t *)host_of(g.c_addr) = 0x5a5a5a5a;
		v = run_job(&g);
		if (v != QMX_ERROR_AXI_WRITE)
			die("write through a read-only PTE: ERROR %lld, expected AXI_WRITE (%u)",
			    (long long)v, QMX_ERROR_AXI_WRITE);
		if (*(int32_t *)host_of(g.c_addr) != 0x5a5a5a5a)
			die("the device wrote through a read-only PTE");
		printf("ok: write through a read-only PTE -> ERROR AXI_WRITE, memory untouched\n");
		qmx_jobprog_soft_reset(wr, NULL);

		/* And the device still works. */
		pte(2 * pages, 8000 - 14 * pages, QMX_COSIM_PTE_VALID | QMX_COSIM_PTE_WRITE);
		expect_eq("GEMM after the AXI error", run_job(&g), 0);
		for (unsigned i = 0; i < M * N; i++) {
			int32_t x;

			memcpy(&x, host_of(g.c_addr + 4 * i), 4);
			if (x != ref[i])
				die("after AXI error: C[%u][%u] = %d, expected %d", i / N, i % N,
				    x, ref[i]);
		}
		printf("ok: bit-exact again after the AXI error\n");
		free(a), free(b), free(bias), free(c), free(ref);
	}

	/* ---- control socket */
	{
		struct sockaddr_un ca = { .sun_family = AF_UNIX };
		int cs = socket(AF_UNIX, SOCK_STREAM, 0);
		char buf[64] = "";
		struct pollfd p;

		memcpy(ca.sun_path, ctl_path, strlen(ctl_path) + 1);
		if (connect(cs, (struct sockaddr *)&ca, sizeof(ca)) ||
		    write(cs, "ping\n", 5) != 5)
			die("control socket: %s", strerror(errno));
		p = (struct pollfd){ .fd = cs, .events = POLLIN };
		if (poll(&p, 1, 5000) != 1 || read(cs, buf, sizeof(buf) - 1) <= 0 ||
		    strcmp(buf, "ok pong\n"))
			die("control socket: 'ping' answered '%s'", buf);
		printf("ok: control socket answers ping\n");
		close(cs);
	}

	/* ---- clean shutdown */
	{
		int status = 0;
		uint64_t t0 = now_ms();

		kill(simd_pid, SIGTERM);
		while (waitpid(simd_pid, &status, WNOHANG) == 0) {
			if (now_ms() - t0 > 5000)
				die("qmx-simd did not exit within 5 s of SIGTERM");
			usleep(10000);
		}
		simd_pid = 0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("qmx-simd exit status 0x%x after SIGTERM", status);
		expect_eq("server ready after SIGTERM", shm_get(QMX_COSIM_SERVER_READY_OFF), 0);
	}
	unlink(log_path);
	unlink(sock_path);
	unlink(ctl_path);
	rmdir(dir);
	printf("PASS\n");
	return 0;
}
