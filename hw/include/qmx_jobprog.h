/* SPDX-License-Identifier: MIT */
/*
 * qmx_jobprog.h - job programming of the qmx accelerator: a GEMM descriptor
 * turned into register writes, starting a job, decoding CTRL/ERROR, reading
 * identity and the 64-bit activity counters.
 *
 * Kernel-safe C, no libc: shared by the driver (driver/) and the in-process
 * sim backend (runtime/backends/sim), so both program the hardware the same
 * way.  Register access goes through callbacks; the caller owns locking.
 */
#ifndef QMX_JOBPROG_H
#define QMX_JOBPROG_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#include "qmx_regs.h"

/* Value of SOFT_RESET that aborts a job ("RST!", from the register map). */
#define QMX_JOBPROG_SOFT_RESET_KEY QMX_SOFT_RESET_KEY

typedef void (*qmx_jobprog_write32_fn)(void *ctx, uint32_t offset, uint32_t value);
typedef uint32_t (*qmx_jobprog_read32_fn)(void *ctx, uint32_t offset);

/* One GEMM in device terms: byte addresses in the device's memory space,
 * dimensions and strides in elements (see DESIGN.md, GEMM semantics). */
struct qmx_jobprog_gemm {
	uint64_t a_addr, b_addr, c_addr;
	uint64_t bias_addr;       /* used when has_bias */
	uint64_t mult_addr;       /* used when per_channel */
	uint64_t shift_addr;      /* used when per_channel */
	uint32_t m, n, k;
	uint32_t lda, ldb, ldc;
	int32_t a_zero_point, b_zero_point, c_zero_point;
	uint32_t out_int8;        /* 0: int32 output, 1: requantized int8 */
	uint32_t per_channel;     /* 1: multipliers/shifts from memory */
	uint32_t has_bias;        /* 1: add bias[j] */
	int32_t multiplier, shift; /* per-tensor requantization */
	int32_t qmin, qmax;       /* int8 clamp */
};

/* FLAGS register value of a descriptor. */
static inline uint32_t qmx_jobprog_flags(const struct qmx_jobprog_gemm *g)
{
	return (g->out_int8 ? QMX_FLAGS_OUT_INT8 : 0u) |
	       (g->per_channel ? QMX_FLAGS_PER_CHANNEL : 0u) |
	       (g->has_bias ? QMX_FLAGS_HAS_BIAS : 0u);
}

static inline void qmx_jobprog_write64(qmx_jobprog_write32_fn write32, void *ctx,
				       uint32_t lo_offset, uint64_t value)
{
	write32(ctx, lo_offset, (uint32_t)value);
	write32(ctx, lo_offset + 4u, (uint32_t)(value >> 32));
}

/* Write every argument register of the job (not CTRL).  Signed values are
 * written as their two's-complement bit pattern. */
static inline void qmx_jobprog_write_gemm(const struct qmx_jobprog_gemm *g,
					  qmx_jobprog_write32_fn write32, void *ctx)
{
	qmx_jobprog_write64(write32, ctx, QMX_REG_A_ADDR_LO, g->a_addr);
	qmx_jobprog_write64(write32, ctx, QMX_REG_B_ADDR_LO, g->b_addr);
	qmx_jobprog_write64(write32, ctx, QMX_REG_C_ADDR_LO, g->c_addr);
	qmx_jobprog_write64(write32, ctx, QMX_REG_BIAS_ADDR_LO, g->has_bias ? g->bias_addr : 0u);
	qmx_jobprog_write64(write32, ctx, QMX_REG_MULT_ADDR_LO, g->per_channel ? g->mult_addr : 0u);
	qmx_jobprog_write64(write32, ctx, QMX_REG_SHIFT_ADDR_LO,
			    g->per_channel ? g->shift_addr : 0u);
	write32(ctx, QMX_REG_M, g->m);
	write32(ctx, QMX_REG_N, g->n);
	write32(ctx, QMX_REG_K, g->k);
	write32(ctx, QMX_REG_LDA, g->lda);
	write32(ctx, QMX_REG_LDB, g->ldb);
	write32(ctx, QMX_REG_LDC, g->ldc);
	write32(ctx, QMX_REG_A_ZP, (uint32_t)g->a_zero_point);
	write32(ctx, QMX_REG_B_ZP, (uint32_t)g->b_zero_point);
	write32(ctx, QMX_REG_C_ZP, (uint32_t)g->c_zero_point);
	write32(ctx, QMX_REG_QMIN, (uint32_t)g->qmin);
	write32(ctx, QMX_REG_QMAX, (uint32_t)g->qmax);
	write32(ctx, QMX_REG_MULT, (uint32_t)g->multiplier);
	write32(ctx, QMX_REG_SHIFT, (uint32_t)g->shift);
	write32(ctx, QMX_REG_FLAGS, qmx_jobprog_flags(g));
}

/* ---- command queue (CQ_* registers, struct qmx_cq_desc / qmx_cq_cpl) */

/* The descriptor of a job: the same values qmx_jobprog_write_gemm() writes
 * to the argument registers.  Little-endian hosts (the ring is read as
 * little-endian words); seq nonzero, wait_seq 0 or an earlier seq. */
static inline void qmx_jobprog_cq_desc(const struct qmx_jobprog_gemm *g, uint32_t seq,
				       uint32_t wait_seq, struct qmx_cq_desc *d)
{
	d->header = (QMX_CQD_HEADER_VERSION_1 << QMX_CQD_HEADER_VERSION_SHIFT) |
		    (QMX_CQD_HEADER_OPCODE_GEMM << QMX_CQD_HEADER_OPCODE_SHIFT);
	d->seq = seq;
	d->wait_seq = wait_seq;
	d->reserved0 = 0;
	d->a_addr = g->a_addr;
	d->b_addr = g->b_addr;
	d->c_addr = g->c_addr;
	d->bias_addr = g->has_bias ? g->bias_addr : 0u;
	d->mult_addr = g->per_channel ? g->mult_addr : 0u;
	d->shift_addr = g->per_channel ? g->shift_addr : 0u;
	d->m = g->m;
	d->n = g->n;
	d->k = g->k;
	d->lda = g->lda;
	d->ldb = g->ldb;
	d->ldc = g->ldc;
	d->a_zp = g->a_zero_point;
	d->b_zp = g->b_zero_point;
	d->c_zp = g->c_zero_point;
	d->qmin = g->qmin;
	d->qmax = g->qmax;
	d->mult = g->multiplier;
	d->shift = g->shift;
	d->flags = qmx_jobprog_flags(g);
	d->reserved1 = 0;
}

/* CQ_CTRL enabling the queue with ISR.CQ after `coalesce` records.  Written
 * again while the queue is idle, it also makes the engine forget the seqs
 * that failed (and the overflow that fails every later wait). */
static inline uint32_t qmx_jobprog_cq_ctrl(uint32_t coalesce)
{
	return QMX_CQ_CTRL_ENABLE | ((coalesce << QMX_CQ_CTRL_COALESCE_SHIFT) &
				     QMX_CQ_CTRL_COALESCE_MASK);
}

/* Program the rings (after reset or SOFT_RESET: HEAD = TAIL = 0) and enable
 * the queue with ISR.CQ after `coalesce` records or when it drains; irq != 0
 * also enables the interrupt line.  Returns CQ_STATUS (BAD_CONFIG when the
 * size or an alignment was refused). */
static inline uint32_t qmx_jobprog_cq_enable(qmx_jobprog_read32_fn read32,
					     qmx_jobprog_write32_fn write32, void *ctx,
					     uint64_t ring_addr, uint64_t cpl_addr,
					     uint32_t entries, uint32_t coalesce, int irq)
{
	qmx_jobprog_write64(write32, ctx, QMX_REG_CQ_BASE_LO, ring_addr);
	qmx_jobprog_write64(write32, ctx, QMX_REG_CQ_CPL_BASE_LO, cpl_addr);
	write32(ctx, QMX_REG_CQ_SIZE, entries);
	write32(ctx, QMX_REG_CQ_TAIL, 0);
	write32(ctx, QMX_REG_IER, irq ? QMX_IER_CQ : 0u);
	write32(ctx, QMX_REG_GIE, irq ? QMX_GIE_ENABLE : 0u);
	write32(ctx, QMX_REG_CQ_CTRL, qmx_jobprog_cq_ctrl(coalesce));
	return read32(ctx, QMX_REG_CQ_STATUS);
}

/* ERROR code of a completion record (0: the job ran without error). */
static inline uint32_t qmx_jobprog_cq_error(const struct qmx_cq_cpl *r)
{
	return (r->status & QMX_CQC_STATUS_ERROR_MASK) >> QMX_CQC_STATUS_ERROR_SHIFT;
}

/* Clear pending interrupt status.  ISR bits toggle when written with 1
 * (Vitis), so write back only the bits that are set: right under both
 * toggle-on-write and write-one-to-clear hardware. */
static inline void qmx_jobprog_clear_isr(qmx_jobprog_read32_fn read32,
					 qmx_jobprog_write32_fn write32, void *ctx,
					 uint32_t bits)
{
	uint32_t isr = read32(ctx, QMX_REG_ISR) & bits;

	if (isr)
		write32(ctx, QMX_REG_ISR, isr);
}

/* Start the programmed job: clear stale interrupt status, enable (irq != 0)
 * or mask the done interrupt, set AP_START. */
static inline void qmx_jobprog_start(qmx_jobprog_read32_fn read32,
				     qmx_jobprog_write32_fn write32, void *ctx, int irq)
{
	qmx_jobprog_clear_isr(read32, write32, ctx, QMX_ISR_DONE | QMX_ISR_READY);
	write32(ctx, QMX_REG_IER, irq ? QMX_IER_DONE : 0u);
	write32(ctx, QMX_REG_GIE, irq ? QMX_GIE_ENABLE : 0u);
	write32(ctx, QMX_REG_CTRL, QMX_CTRL_AP_START);
}

/* Acknowledge the done interrupt (after reading ERROR and the counters). */
static inline void qmx_jobprog_ack(qmx_jobprog_read32_fn read32,
				   qmx_jobprog_write32_fn write32, void *ctx)
{
	qmx_jobprog_clear_isr(read32, write32, ctx, QMX_ISR_DONE | QMX_ISR_READY);
}

/* Abort whatever runs and return to idle; counters are kept. */
static inline void qmx_jobprog_soft_reset(qmx_jobprog_write32_fn write32, void *ctx)
{
	write32(ctx, QMX_REG_SOFT_RESET, QMX_JOBPROG_SOFT_RESET_KEY);
}

struct qmx_jobprog_ctrl {
	uint32_t start, done, idle, ready;
};

static inline struct qmx_jobprog_ctrl qmx_jobprog_decode_ctrl(uint32_t ctrl)
{
	struct qmx_jobprog_ctrl c;

	c.start = !!(ctrl & QMX_CTRL_AP_START);
	c.done = !!(ctrl & QMX_CTRL_AP_DONE);
	c.idle = !!(ctrl & QMX_CTRL_AP_IDLE);
	c.ready = !!(ctrl & QMX_CTRL_AP_READY);
	return c;
}

/* ISR bits -> 1 when the done event is pending. */
static inline int qmx_jobprog_isr_done(uint32_t isr)
{
	return !!(isr & QMX_ISR_DONE);
}

/* Name ("AXI_READ") and description of an ERROR register value. */
static inline const char *qmx_jobprog_error_name(uint32_t code)
{
	switch (code) {
#define QMX_JOBPROG_X_NAME(name, value, text) \
	case value:                           \
		return #name;
	QMX_HW_ERROR_LIST(QMX_JOBPROG_X_NAME)
#undef QMX_JOBPROG_X_NAME
	}
	return "UNKNOWN";
}

static inline const char *qmx_jobprog_error_text(uint32_t code)
{
	switch (code) {
#define QMX_JOBPROG_X_TEXT(name, value, text) \
	case value:                           \
		return text;
	QMX_HW_ERROR_LIST(QMX_JOBPROG_X_TEXT)
#undef QMX_JOBPROG_X_TEXT
	}
	return "unknown hardware error code";
}

/* A 64-bit register pair: LO first, which latches HI. */
static inline uint64_t qmx_jobprog_read64(qmx_jobprog_read32_fn read32, void *ctx,
					  uint32_t lo_offset)
{
	uint64_t lo = read32(ctx, lo_offset);
	uint64_t hi = read32(ctx, lo_offset + 4u);

	return (hi << 32) | lo;
}

struct qmx_jobprog_counters {
	uint64_t busy_cycles, stall_cycles, macs;
	uint64_t sram_rd_bytes, sram_wr_bytes;
	uint64_t ext_rd_bytes, ext_wr_bytes;
	uint64_t jobs;
};

static inline void qmx_jobprog_read_counters(qmx_jobprog_read32_fn read32, void *ctx,
					     struct qmx_jobprog_counters *c)
{
	c->busy_cycles = qmx_jobprog_read64(read32, ctx, QMX_REG_CNT_BUSY_CYCLES_LO);
	c->stall_cycles = qmx_jobprog_read64(read32, ctx, QMX_REG_CNT_STALL_CYCLES_LO);
	c->macs = qmx_jobprog_read64(read32, ctx, QMX_REG_CNT_MACS_LO);
	c->sram_rd_bytes = qmx_jobprog_read64(read32, ctx, QMX_REG_CNT_SRAM_RD_BYTES_LO);
	c->sram_wr_bytes = qmx_jobprog_read64(read32, ctx, QMX_REG_CNT_SRAM_WR_BYTES_LO);
	c->ext_rd_bytes = qmx_jobprog_read64(read32, ctx, QMX_REG_CNT_EXT_RD_BYTES_LO);
	c->ext_wr_bytes = qmx_jobprog_read64(read32, ctx, QMX_REG_CNT_EXT_WR_BYTES_LO);
	c->jobs = qmx_jobprog_read64(read32, ctx, QMX_REG_CNT_JOBS_LO);
}

/* A completion record's counter deltas (descriptor and record bytes are in
 * ext_rd/ext_wr, as in CNT_EXT_*). */
static inline void qmx_jobprog_cq_counters(const struct qmx_cq_cpl *r,
					   struct qmx_jobprog_counters *c)
{
	c->busy_cycles = r->busy_cycles;
	c->stall_cycles = r->stall_cycles;
	c->macs = r->macs;
	c->sram_rd_bytes = r->sram_rd_bytes;
	c->sram_wr_bytes = r->sram_wr_bytes;
	c->ext_rd_bytes = r->ext_rd_bytes;
	c->ext_wr_bytes = r->ext_wr_bytes;
	c->jobs = 1;
}

/* Counters are free-running: a job's activity is after - before. */
static inline void qmx_jobprog_counters_delta(const struct qmx_jobprog_counters *before,
					      const struct qmx_jobprog_counters *after,
					      struct qmx_jobprog_counters *delta)
{
	delta->busy_cycles = after->busy_cycles - before->busy_cycles;
	delta->stall_cycles = after->stall_cycles - before->stall_cycles;
	delta->macs = after->macs - before->macs;
	delta->sram_rd_bytes = after->sram_rd_bytes - before->sram_rd_bytes;
	delta->sram_wr_bytes = after->sram_wr_bytes - before->sram_wr_bytes;
	delta->ext_rd_bytes = after->ext_rd_bytes - before->ext_rd_bytes;
	delta->ext_wr_bytes = after->ext_wr_bytes - before->ext_wr_bytes;
	delta->jobs = after->jobs - before->jobs;
}

/* Identity and capabilities. */
struct qmx_jobprog_ident {
	uint32_t magic, version;
	uint32_t array_rows, array_cols;
	uint32_t bus_data_bits, bus_addr_bits;
	uint32_t clock_khz, features, max_dim;
};

enum {
	QMX_JOBPROG_IDENT_OK = 0,
	QMX_JOBPROG_IDENT_BAD_MAGIC = -1,  /* not a qmx device (or not powered) */
	QMX_JOBPROG_IDENT_BAD_VERSION = -2, /* register-map major differs */
};

/* Read identity and capabilities; checks MAGIC and the major version
 * against the header this code was built with.  The fields are filled
 * either way, for the caller's message. */
static inline int qmx_jobprog_identify(qmx_jobprog_read32_fn read32, void *ctx,
				       struct qmx_jobprog_ident *id)
{
	uint32_t array, bus;

	id->magic = read32(ctx, QMX_REG_MAGIC);
	id->version = read32(ctx, QMX_REG_VERSION);
	array = read32(ctx, QMX_REG_ARRAY);
	bus = read32(ctx, QMX_REG_BUS);
	id->array_rows = (array & QMX_ARRAY_ROWS_MASK) >> QMX_ARRAY_ROWS_SHIFT;
	id->array_cols = (array & QMX_ARRAY_COLS_MASK) >> QMX_ARRAY_COLS_SHIFT;
	id->bus_data_bits = (bus & QMX_BUS_DATA_BITS_MASK) >> QMX_BUS_DATA_BITS_SHIFT;
	id->bus_addr_bits = (bus & QMX_BUS_ADDR_BITS_MASK) >> QMX_BUS_ADDR_BITS_SHIFT;
	id->clock_khz = read32(ctx, QMX_REG_CLOCK_KHZ);
	id->features = read32(ctx, QMX_REG_FEATURES);
	id->max_dim = read32(ctx, QMX_REG_MAX_DIM);
	if (id->magic != QMX_MAP_MAGIC)
		return QMX_JOBPROG_IDENT_BAD_MAGIC;
	if ((id->version >> 16) != QMX_MAP_VERSION_MAJOR)
		return QMX_JOBPROG_IDENT_BAD_VERSION;
	return QMX_JOBPROG_IDENT_OK;
}

#endif /* QMX_JOBPROG_H */
