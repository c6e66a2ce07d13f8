/* SPDX-License-Identifier: MIT */
/*
 * qmx-simd - the qmx accelerator as a host process, for qmx.ko in a QEMU
 * guest.  It serves QEMU's ivshmem-doorbell device (simd_ivshmem.c), owns
 * BAR2 (the cosim control block and page table of
 * driver/include/qmx_cosim_proto.h), runs register requests from the
 * mailbox on the Verilator model (libqmxsim), lets the model's DMA reach
 * guest RAM through the page table, and turns the model's interrupt line
 * into an MSI-X interrupt in the guest.
 *
 * Threads: the main thread polls sockets, the doorbell and signals and
 * serves the mailbox; a model thread clocks the model while a job runs.
 * One mutex serialises every call into libqmxsim.
 */
#define _GNU_SOURCE /* memfd_create, accept4 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmx_cosim_proto.h"
#include "qmx_regs.h"
#include "qmxsim.h"
#include "simd_ivshmem.h"

#define SIMD_CHUNK_CYCLES 2048u   /* model cycles per lock hold */
#define SIMD_THROTTLE_NS 2000000000ull /* a job running longer sleeps between chunks */
#define SIMD_POLL_MS 50            /* mailbox re-check even without a doorbell */

struct simd {
	/* configuration */
	const char *socket_path, *ram_path, *control_path, *log_path;
	uint64_t ram_size;
	unsigned vectors;
	unsigned max_seconds;
	struct qmxsim_config cfg;

	/* shared memory (BAR2) and guest RAM */
	int shm_fd;
	uint8_t *shm;
	uint8_t *ram;
	struct qmx_ivs_server ivs;

	/* control socket (fault injection) */
	int ctl_listen, ctl_conn;
	char ctl_buf[256];
	size_t ctl_len;

	/* the model, under `lock` */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	qmxsim *sim;
	bool active;        /* clock the model: a job may be running */
	bool stalled;       /* irq held high; wait for a register write */
	bool quit;
	bool broken;        /* the model broke a rule: it reads all-ones from now on */
	int irq_level;
	uint64_t active_since_ns;
	int waiters;        /* main thread wants the lock (atomic) */
	int irq_evfd;       /* model thread -> main: raise the guest interrupt */
	pthread_t thread;

	/* statistics */
	uint64_t n_ops, n_irqs, n_decerr, n_jobs;
	uint64_t n_reg_ops;  /* READ32/WRITE32 requests (QMX_COSIM_REG_OPS_OFF) */
	bool cq_enabled;     /* the guest enabled the command queue */
};

static FILE *log_file;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(log_file, "[%ld.%06ld] qmx-simd: ", (long)ts.tv_sec,
		ts.tv_nsec / 1000);
	va_start(ap, fmt);
	vfprintf(log_file, fmt, ap);
	va_end(ap);
	fputc('\n', log_file);
	fflush(log_file);
}

/* ------------------------------------------------------------ BAR2 access */

static uint32_t shm_get(struct simd *d, uint32_t off)
{
	return __atomic_load_n((uint32_t *)(d->shm + off), __ATOMIC_ACQUIRE);
}

static void shm_set(struct simd *d, uint32_t off, uint32_t v)
{
	__atomic_store_n((uint32_t *)(d->shm + off), v, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------ DMA */

/* Device VA -> host pointer through the guest-written page table.  Called
 * by the model (under d->lock) for transfers that never cross 4 KiB. */
static void *simd_translate(void *ctx, uint64_t va, uint32_t len, int write)
{
	struct simd *d = ctx;
	uint64_t page, pte, gpa;

	if (va < QMX_COSIM_VA_BASE || len == 0 || len > QMX_COSIM_PAGE_SIZE)
		goto fault;
	page = (va - QMX_COSIM_VA_BASE) >> QMX_COSIM_PAGE_SHIFT;
	if (page >= QMX_COSIM_PT_ENTRIES ||
	    (va & (QMX_COSIM_PAGE_SIZE - 1)) + len > QMX_COSIM_PAGE_SIZE)
		goto fault;
	pte = __atomic_load_n((uint64_t *)(d->shm + QMX_COSIM_PT_OFFSET + 8 * page),
			      __ATOMIC_ACQUIRE);
	if (!(pte & QMX_COSIM_PTE_VALID) || (write && !(pte & QMX_COSIM_PTE_WRITE)))
		goto fault;
	gpa = pte & QMX_COSIM_PTE_ADDR_MASK;
	if (gpa >= d->ram_size || d->ram_size - gpa < QMX_COSIM_PAGE_SIZE)
		goto fault;
	return d->ram + gpa + (va & (QMX_COSIM_PAGE_SIZE - 1));

fault:
	/* The model turns NULL into an AXI error response (DECERR). */
	if (d->n_decerr++ < 16)
		logf_("DMA fault: %s va 0x%" PRIx64 " len %u", write ? "write" : "read",
		      va, len);
	return NULL;
}

/* ------------------------------------------------------------ the model */

/* Edge on the model's interrupt line -> guest interrupt (called locked). */
static void check_irq(struct simd *d)
{
	int level = qmxsim_irq(d->sim);

	if (level && !d->irq_level) {
		uint64_t one = 1;

		if (write(d->irq_evfd, &one, sizeof(one)) != sizeof(one))
			logf_("irq eventfd: %s", strerror(errno));
	}
	d->irq_level = level;
}

/* Queue idle: nothing fetched or running and HEAD == TAIL (locked). */
static bool cq_drained(struct simd *d)
{
	return !(qmxsim_read32(d->sim, QMX_REG_CQ_STATUS) & QMX_CQ_STATUS_RUNNING) &&
	       qmxsim_read32(d->sim, QMX_REG_CQ_HEAD) == qmxsim_read32(d->sim, QMX_REG_CQ_TAIL);
}

static void model_lock(struct simd *d)
{
	__atomic_add_fetch(&d->waiters, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_lock(&d->lock);
	__atomic_sub_fetch(&d->waiters, 1, __ATOMIC_ACQ_REL);
}

/* Clock the model while a job may be running, a chunk per lock hold so the
 * mailbox is served between chunks. */
static void *model_thread(void *arg)
{
	struct simd *d = arg;

	pthread_mutex_lock(&d->lock);
	while (!d->quit) {
		uint64_t ran = 0;
		int rc;

		if (!d->active || d->stalled || d->broken) {
			pthread_cond_wait(&d->cond, &d->lock);
			continue;
		}
		/* With the command queue the core is idle between
		 * descriptors: clock until the interrupt and stop once the
		 * queue is drained, instead of stopping at AP_IDLE. */
		if (d->cq_enabled)
			rc = qmxsim_run_irq(d->sim, SIMD_CHUNK_CYCLES, &ran);
		else
			rc = qmxsim_run(d->sim, SIMD_CHUNK_CYCLES, &ran);
		if (rc == QMXSIM_RUN_LIMIT && d->cq_enabled && cq_drained(d))
			rc = QMXSIM_RUN_IDLE;
		if (rc < 0) {
			/* The run cannot continue: behave like a card that fell
			 * off the bus, so the driver sees a lost device. */
			logf_("model stopped: %s; registers now read 0xffffffff",
			      qmxsim_last_error());
			d->broken = true;
			d->active = false;
		} else if (rc == QMXSIM_RUN_IDLE) {
			d->active = false;
		} else if (rc == QMXSIM_RUN_IRQ && ran == 0) {
			/* Line already high: nothing moves until the guest
			 * acknowledges through a register write. */
			d->stalled = true;
		}
		check_irq(d);
		/* Let the mailbox in; slow down a job that runs for long (a
		 * hang) so QEMU keeps its CPU. */
		bool slow = d->active && now_ns() - d->active_since_ns > SIMD_THROTTLE_NS;
		pthread_mutex_unlock(&d->lock);
		if (slow)
			usleep(1000);
		else
			while (__atomic_load_n(&d->waiters, __ATOMIC_ACQUIRE))
				sched_yield();
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* ------------------------------------------------------------ mailbox */

static void serve_mailbox(struct simd *d)
{
	uint32_t seq = shm_get(d, QMX_COSIM_REQ_SEQ_OFF);
	uint32_t op, off, val, status = QMX_COSIM_OK, result = 0;

	if (seq == shm_get(d, QMX_COSIM_ACK_SEQ_OFF))
		return;
	op = shm_get(d, QMX_COSIM_REQ_OP_OFF);
	off = shm_get(d, QMX_COSIM_REQ_OFFSET_OFF);
	val = shm_get(d, QMX_COSIM_REQ_VALUE_OFF);
	d->n_ops++;

	switch (op) {
	case QMX_COSIM_OP_READ32:
	case QMX_COSIM_OP_WRITE32:
		if (off >= QMX_MAP_SIZE || (off & 3)) {
			status = QMX_COSIM_EBADOFFSET;
			break;
		}
		d->n_reg_ops++;
		shm_set(d, QMX_COSIM_REG_OPS_OFF, (uint32_t)d->n_reg_ops);
		model_lock(d);
		if (d->broken) {
			result = 0xffffffffu;
		} else if (op == QMX_COSIM_OP_READ32) {
			result = qmxsim_read32(d->sim, off);
		} else {
			qmxsim_write32(d->sim, off, val);
			if (off == QMX_REG_CQ_CTRL)
				d->cq_enabled = qmxsim_read32(d->sim, QMX_REG_CQ_CTRL) &
						QMX_CQ_CTRL_ENABLE;
			if (off == QMX_REG_SOFT_RESET)
				d->cq_enabled = false;
			if (off == QMX_REG_CTRL && (val & QMX_CTRL_AP_START)) {
				d->n_jobs++;
				d->active_since_ns = now_ns();
			}
			/* Any write may start, reset or acknowledge. */
			if (!d->active)
				d->active_since_ns = now_ns();
			d->active = true;
			d->stalled = false;
			pthread_cond_signal(&d->cond);
		}
		if (!d->broken)
			check_irq(d);
		pthread_mutex_unlock(&d->lock);
		break;
	case QMX_COSIM_OP_TLB_FLUSH:
		/* The page table is read on every access: nothing cached. */
		break;
	case QMX_COSIM_OP_PING:
		result = QMX_COSIM_MAGIC;
		break;
	default:
		status = QMX_COSIM_EBADOP;
		logf_("mailbox: unknown op %u", op);
		break;
	}
	shm_set(d, QMX_COSIM_ACK_VALUE_OFF, result);
	shm_set(d, QMX_COSIM_ACK_STATUS_OFF, status);
	shm_set(d, QMX_COSIM_ACK_SEQ_OFF, seq);
}

static void raise_guest_irq(struct simd *d)
{
	uint64_t n;

	if (read(d->irq_evfd, &n, sizeof(n)) != sizeof(n))
		return;
	shm_set(d, QMX_COSIM_IRQ_PENDING_OFF, 1);
	shm_set(d, QMX_COSIM_IRQ_COUNT_OFF, shm_get(d, QMX_COSIM_IRQ_COUNT_OFF) + 1);
	d->n_irqs++;
	/* The guest is the first client; more would be other guests that
	 * only share the memory. */
	if (d->ivs.n_clients && qmx_ivs_notify(&d->ivs, 0, QMX_COSIM_VEC_IRQ))
		logf_("notify guest: %s", strerror(errno));
}

/* ------------------------------------------------------------ control socket */

static int listen_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 2) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void ctl_reply(struct simd *d, const char *s)
{
	size_t len = strlen(s);

	if (write(d->ctl_conn, s, len) != (ssize_t)len)
		logf_("control: reply failed: %s", strerror(errno));
}

/* One line: "hang" / "axi" arm a fault for the next job, "ping", "stats". */
static void ctl_command(struct simd *d, char *line)
{
	char out[200];

	while (*line == ' ' || *line == '\r')
		line++;
	line[strcspn(line, "\r ")] = '\0';
	if (!*line)
		return;
	if (!strcmp(line, "hang") || !strcmp(line, "axi")) {
		model_lock(d);
		qmxsim_inject(d->sim, line[0] == 'h' ? QMXSIM_FAULT_HANG
						     : QMXSIM_FAULT_AXI_ERROR);
		pthread_mutex_unlock(&d->lock);
		logf_("control: fault '%s' armed for the next job", line);
		snprintf(out, sizeof(out), "ok %.8s\n", line);
	} else if (!strcmp(line, "ping")) {
		snprintf(out, sizeof(out), "ok pong\n");
	} else if (!strcmp(line, "stats")) {
		snprintf(out, sizeof(out),
			 "ok ops %" PRIu64 " jobs %" PRIu64 " irqs %" PRIu64
			 " dma_faults %" PRIu64 " reg_ops %" PRIu64 "\n",
			 d->n_ops, d->n_jobs, d->n_irqs, d->n_decerr, d->n_reg_ops);
	} else {
		snprintf(out, sizeof(out), "error unknown command '%.64s'\n", line);
	}
	ctl_reply(d, out);
}

static void ctl_read(struct simd *d)
{
	ssize_t n = read(d->ctl_conn, d->ctl_buf + d->ctl_len,
			 sizeof(d->ctl_buf) - 1 - d->ctl_len);
	char *nl;

	if (n <= 0) {
		close(d->ctl_conn);
		d->ctl_conn = -1;
		d->ctl_len = 0;
		return;
	}
	d->ctl_len += (size_t)n;
	d->ctl_buf[d->ctl_len] = '\0';
	while ((nl = strchr(d->ctl_buf, '\n'))) {
		*nl = '\0';
		ctl_command(d, d->ctl_buf);
		d->ctl_len -= (size_t)(nl + 1 - d->ctl_buf);
		memmove(d->ctl_buf, nl + 1, d->ctl_len + 1);
	}
	if (d->ctl_len == sizeof(d->ctl_buf) - 1)
		d->ctl_len = 0; /* an overlong line: drop it */
}

/* ------------------------------------------------------------ setup */

static int map_guest_ram(struct simd *d)
{
	struct stat st;
	int fd = open(d->ram_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		logf_("open %s: %s", d->ram_path, strerror(errno));
		return -1;
	}
	/* Create it at the guest's size; QEMU maps the same file (share=on). */
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size < d->ram_size &&
	    ftruncate(fd, (off_t)d->ram_size) < 0) {
		logf_("ftruncate %s: %s", d->ram_path, strerror(errno));
		close(fd);
		return -1;
	}
	d->ram = mmap(NULL, d->ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (d->ram == MAP_FAILED) {
		logf_("mmap guest RAM: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int make_shm(struct simd *d)
{
	d->shm_fd = memfd_create("qmx-bar2", MFD_CLOEXEC);
	if (d->shm_fd < 0 || ftruncate(d->shm_fd, QMX_COSIM_SHM_SIZE) < 0) {
		logf_("memfd: %s", strerror(errno));
		return -1;
	}
	d->shm = mmap(NULL, QMX_COSIM_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      d->shm_fd, 0);
	if (d->shm == MAP_FAILED) {
		logf_("mmap BAR2: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void publish(struct simd *d, uint32_t ready)
{
	shm_set(d, QMX_COSIM_MAGIC_OFF, QMX_COSIM_MAGIC);
	shm_set(d, QMX_COSIM_VERSION_OFF, QMX_COSIM_VERSION);
	shm_set(d, QMX_COSIM_DEVICE_PEER_OFF, (uint32_t)d->ivs.self.id);
	shm_set(d, QMX_COSIM_CLOCK_KHZ_OFF, d->cfg.clock_mhz * 1000u);
	shm_set(d, QMX_COSIM_SERVER_READY_OFF, ready);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'G': case 'g': v <<= 30; break;
	case 'M': case 'm': v <<= 20; break;
	case 'K': case 'k': v <<= 10; break;
	case '\0': break;
	default: return 0;
	}
	return v;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qmx-simd --socket PATH --ram FILE --ram-size SIZE [options]\n"
		"  --socket PATH     ivshmem server socket (QEMU: -chardev socket,path=PATH)\n"
		"  --ram FILE        guest RAM file (QEMU: memory-backend-file,mem-path=FILE,share=on)\n"
		"  --ram-size SIZE   guest RAM size, e.g. 512M (<= 2G: file offset = guest-physical)\n"
		"  --control PATH    control socket: lines 'hang', 'axi', 'ping', 'stats'\n"
		"  --log FILE        log here (default stderr)\n"
		"  --vectors N       ivshmem vectors (default 1)\n"
		"  --array RxC       systolic array size (default: the model's)\n"
		"  --clock MHZ       model clock (default: the model's)\n"
		"  --max-seconds N   exit with status 3 after N seconds (a safety net)\n");
}

static int parse_args(struct simd *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "ram", required_argument, NULL, 'r' },
		{ "ram-size", required_argument, NULL, 'R' },
		{ "control", required_argument, NULL, 'c' },
		{ "log", required_argument, NULL, 'l' },
		{ "vectors", required_argument, NULL, 'v' },
		{ "array", required_argument, NULL, 'a' },
		{ "clock", required_argument, NULL, 'k' },
		{ "max-seconds", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': d->socket_path = optarg; break;
		case 'r': d->ram_path = optarg; break;
		case 'R': d->ram_size = parse_size(optarg); break;
		case 'c': d->control_path = optarg; break;
		case 'l': d->log_path = optarg; break;
		case 'v': d->vectors = (unsigned)atoi(optarg); break;
		case 'a':
			if (sscanf(optarg, "%ux%u", &d->cfg.array_rows,
				   &d->cfg.array_cols) != 2)
				return -1;
			break;
		case 'k': d->cfg.clock_mhz = (unsigned)atoi(optarg); break;
		case 't': d->max_seconds = (unsigned)atoi(optarg); break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (!d->socket_path || !d->ram_path || !d->ram_size ||
	    d->ram_size > (2ull << 30) || (d->ram_size & (QMX_COSIM_PAGE_SIZE - 1)))
		return -1;
	return 0;
}

/* ------------------------------------------------------------ main loop */

enum { P_SIG, P_LISTEN, P_DOORBELL, P_IRQ, P_CTL_LISTEN, P_CTL, P_CLIENTS };

static int serve(struct simd *d, int sigfd)
{
	uint64_t deadline = d->max_seconds ? now_ns() + d->max_seconds * 1000000000ull : 0;

	for (;;) {
		struct pollfd p[P_CLIENTS + QMX_IVS_MAX_CLIENTS];
		unsigned nclients = d->ivs.n_clients;
		uint64_t n;

		p[P_SIG] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		p[P_LISTEN] = (struct pollfd){ .fd = d->ivs.listen_fd, .events = POLLIN };
		p[P_DOORBELL] = (struct pollfd){ .fd = d->ivs.self.evfd[QMX_COSIM_VEC_MAILBOX],
						 .events = POLLIN };
		p[P_IRQ] = (struct pollfd){ .fd = d->irq_evfd, .events = POLLIN };
		p[P_CTL_LISTEN] = (struct pollfd){ .fd = d->ctl_conn < 0 ? d->ctl_listen : -1,
						   .events = POLLIN };
		p[P_CTL] = (struct pollfd){ .fd = d->ctl_conn, .events = POLLIN };
		for (unsigned i = 0; i < nclients; i++)
			p[P_CLIENTS + i] = (struct pollfd){ .fd = d->ivs.clients[i].sock,
							    .events = POLLIN };

		if (poll(p, P_CLIENTS + nclients, SIMD_POLL_MS) < 0 && errno != EINTR) {
			logf_("poll: %s", strerror(errno));
			return 1;
		}
		if (p[P_SIG].revents) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == sizeof(si))
				logf_("signal %u: shutting down", si.ssi_signo);
			return 0;
		}
		if (deadline && now_ns() > deadline) {
			logf_("--max-seconds %u reached: exiting", d->max_seconds);
			return 3;
		}
		if (p[P_DOORBELL].revents & POLLIN)
			(void)!read(p[P_DOORBELL].fd, &n, sizeof(n));
		/* Doorbell or not, a request may be waiting (the poll timeout
		 * covers a doorbell rung before the guest saw our peer). */
		serve_mailbox(d);
		if (p[P_IRQ].revents & POLLIN)
			raise_guest_irq(d);
		if (p[P_LISTEN].revents & POLLIN) {
			int err = qmx_ivs_accept(&d->ivs);

			if (err)
				logf_("ivshmem client rejected: %s", strerror(-err));
			else
				logf_("ivshmem client connected: peer %" PRId64,
				      d->ivs.clients[d->ivs.n_clients - 1].id);
		}
		for (unsigned i = nclients; i-- > 0;) {
			if (p[P_CLIENTS + i].revents & (POLLIN | POLLHUP | POLLERR)) {
				char b[8];

				if (read(p[P_CLIENTS + i].fd, b, sizeof(b)) > 0)
					continue; /* clients never talk; ignore */
				logf_("ivshmem client peer %" PRId64 " gone",
				      d->ivs.clients[i].id);
				qmx_ivs_drop(&d->ivs, i);
			}
		}
		if (p[P_CTL_LISTEN].revents & POLLIN) {
			d->ctl_conn = accept4(d->ctl_listen, NULL, NULL, SOCK_CLOEXEC);
			d->ctl_len = 0;
		}
		if (d->ctl_conn >= 0 && (p[P_CTL].revents & (POLLIN | POLLHUP)))
			ctl_read(d);
	}
}

int main(int argc, char **argv)
{
	struct simd d = { .vectors = 1, .ctl_listen = -1, .ctl_conn = -1, .shm_fd = -1 };
	sigset_t mask;
	int sigfd, err, status = 1;

	log_file = stderr;
	qmxsim_config_default(&d.cfg);
	if (parse_args(&d, argc, argv)) {
		usage(stderr);
		return 2;
	}
	if (d.log_path) {
		log_file = fopen(d.log_path, "a");
		if (!log_file) {
			fprintf(stderr, "qmx-simd: %s: %s\n", d.log_path, strerror(errno));
			return 1;
		}
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL); /* the model thread inherits it */
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	pthread_mutex_init(&d.lock, NULL);
	pthread_cond_init(&d.cond, NULL);
	d.irq_evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sigfd < 0 || d.irq_evfd < 0 || make_shm(&d) || map_guest_ram(&d))
		goto out;

	if (qmxsim_new(&d.cfg, &d.sim)) {
		logf_("qmxsim_new: %s", qmxsim_last_error());
		goto out;
	}
	qmxsim_set_translate(d.sim, simd_translate, &d);

	err = qmx_ivs_init(&d.ivs, d.socket_path, d.shm_fd, d.vectors);
	if (err) {
		logf_("ivshmem socket %s: %s", d.socket_path, strerror(-err));
		goto out_sim;
	}
	if (d.control_path) {
		d.ctl_listen = listen_unix(d.control_path);
		if (d.ctl_listen < 0) {
			logf_("control socket %s: %s", d.control_path,
			      strerror(-d.ctl_listen));
			goto out_ivs;
		}
	}
	if (pthread_create(&d.thread, NULL, model_thread, &d)) {
		logf_("pthread_create failed");
		goto out_ivs;
	}
	publish(&d, 1);
	logf_("serving %s: device peer %" PRId64 ", %u vector(s), guest RAM %s (%" PRIu64
	      " MiB), array %ux%u @ %u MHz",
	      d.socket_path, d.ivs.self.id, d.vectors, d.ram_path, d.ram_size >> 20,
	      d.cfg.array_rows, d.cfg.array_cols, d.cfg.clock_mhz);

	status = serve(&d, sigfd);

	publish(&d, 0);
	pthread_mutex_lock(&d.lock);
	d.quit = true;
	pthread_cond_signal(&d.cond);
	pthread_mutex_unlock(&d.lock);
	pthread_join(d.thread, NULL);
	logf_("done: %" PRIu64 " mailbox ops (%" PRIu64 " register accesses), %" PRIu64
	      " jobs, %" PRIu64 " interrupts, %" PRIu64 " DMA faults",
	      d.n_ops, d.n_reg_ops, d.n_jobs, d.n_irqs, d.n_decerr);
out_ivs:
	qmx_ivs_fini(&d.ivs);
	if (d.ctl_conn >= 0)
		close(d.ctl_conn);
	if (d.ctl_listen >= 0) {
		close(d.ctl_listen);
		unlink(d.control_path);
	}
out_sim:
	qmxsim_del(d.sim);
out:
	if (d.ram && d.ram != MAP_FAILED)
		munmap(d.ram, d.ram_size);
	if (d.shm && d.shm != MAP_FAILED)
		munmap(d.shm, QMX_COSIM_SHM_SIZE);
	if (d.shm_fd >= 0)
		close(d.shm_fd);
	if (log_file != stderr)
		fclose(log_file);
	return status;
}
