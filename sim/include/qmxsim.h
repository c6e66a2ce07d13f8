/* SPDX-License-Identifier: MIT */
/*
 * qmxsim.h - C API of libqmxsim, the cycle-accurate Verilator model of the
 * qmx accelerator (hw/rtl/qmx_top.v) with its external memory.
 *
 * The model is driven like the card: 32-bit register accesses through the
 * AXI-Lite control port (each one clocks the model until the handshake ends)
 * and qmxsim_run() to let it work.  Its AXI master reads and writes host
 * memory registered with qmxsim_map(), or whatever a translate callback
 * returns, through a memory model with configurable latency and bandwidth.
 *
 * A qmxsim is not thread-safe: one thread at a time.  Functions returning int
 * give 0 (or a positive status) on success and a negative errno-style code on
 * failure, with the reason in qmxsim_last_error().
 */
#ifndef QMXSIM_H
#define QMXSIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qmxsim qmxsim;

struct qmxsim_config {
	unsigned array_rows, array_cols; /* must be a built model (QMX_SIM_ARRAYS) */
	unsigned clock_mhz;              /* reported clock; device_ns = cycles / clock */
	unsigned mem_latency_cycles;     /* AR/AW accepted -> first R beat / B response */
	unsigned mem_bytes_per_cycle;    /* bandwidth per direction; 0 = one beat per cycle */
	const char *trace_path;          /* FST waveform file, NULL = $QMX_SIM_TRACE or none */
};

/* Defaults: 8x8, 250 MHz, nominal memory (40 cycles, one beat per cycle). */
void qmxsim_config_default(struct qmxsim_config *cfg);

/* Build a model and reset it (ap_rst_n low for a few cycles).  Fails with
 * -EINVAL for an array size that was not built, naming the ones that were. */
int qmxsim_new(const struct qmxsim_config *cfg, qmxsim **out);
/* Finish the model (final blocks, trace file closed) and free it. */
void qmxsim_del(qmxsim *sim);

/* Array sizes built into this library, e.g. "8x8 16x16". */
const char *qmxsim_built_arrays(void);
/* Number of built models and the size of the i-th; 0 or -EINVAL. */
unsigned qmxsim_model_count(void);
int qmxsim_model_size(unsigned i, unsigned *rows, unsigned *cols);

/* Register access through s_axi_control.  The model is clocked until the
 * transaction completes (bounded; a port that never answers is an error,
 * reported as all-ones by read32 and in qmxsim_last_error()). */
uint32_t qmxsim_read32(qmxsim *sim, uint32_t offset);
void qmxsim_write32(qmxsim *sim, uint32_t offset, uint32_t value);

/* Host memory as device memory: [dev_addr, dev_addr + size) reads/writes
 * `host`.  Regions may not overlap; size > 0. */
#define QMXSIM_MAP_READ 1u
#define QMXSIM_MAP_WRITE 2u
int qmxsim_map(qmxsim *sim, uint64_t dev_addr, void *host, uint64_t size,
	       unsigned flags);
/* Remove the region starting at dev_addr; -ENOENT when there is none. */
int qmxsim_unmap(qmxsim *sim, uint64_t dev_addr);

/* Host pointer for [dev_addr, dev_addr + len) (never crosses 4 KiB) or NULL,
 * which answers the burst with DECERR.  write: the burst writes. */
typedef void *(*qmxsim_translate_fn)(void *ctx, uint64_t dev_addr, uint32_t len,
				     int write);
/* Replace the mapped-regions lookup; fn NULL restores it. */
void qmxsim_set_translate(qmxsim *sim, qmxsim_translate_fn fn, void *ctx);

/* Clock the model until the interrupt line is high (QMXSIM_RUN_IRQ), the
 * accelerator is idle (CTRL.AP_IDLE, polled in the background without
 * losing the read-clear bits: QMXSIM_RUN_IDLE), or max_cycles have run
 * (QMXSIM_RUN_LIMIT).  Returns the reason, or < 0 when the model broke a
 * rule (AXI protocol assertion, $finish/$stop): the run cannot continue. */
enum { QMXSIM_RUN_IRQ = 1, QMXSIM_RUN_IDLE = 2, QMXSIM_RUN_LIMIT = 3 };
int qmxsim_run(qmxsim *sim, uint64_t max_cycles, uint64_t *cycles_run);
/* Clock the model until the interrupt line is high (QMXSIM_RUN_IRQ) or
 * max_cycles have run (QMXSIM_RUN_LIMIT), with no background CTRL polls:
 * the wait of the command queue, whose jobs end with ISR.CQ (IER.CQ and GIE
 * set) and whose core is idle between descriptors. */
int qmxsim_run_irq(qmxsim *sim, uint64_t max_cycles, uint64_t *cycles_run);
/* Level of the interrupt output. */
int qmxsim_irq(qmxsim *sim);
/* Cycles clocked since qmxsim_new(). */
uint64_t qmxsim_cycle(qmxsim *sim);

/* Call fn(ctx, cycles) every `every_cycles` clocked cycles (0 or NULL fn: off). */
void qmxsim_set_progress(qmxsim *sim, void (*fn)(void *ctx, uint64_t cycles),
			 void *ctx, uint64_t every_cycles);

/* Fault injection for tests of error paths. */
enum qmxsim_fault {
	QMXSIM_FAULT_NONE,
	/* memory stops answering (no ready, no responses) until
	 * qmxsim_reset_memory() or a new job started after a soft reset */
	QMXSIM_FAULT_HANG,
	/* the next memory burst (read or write) gets SLVERR */
	QMXSIM_FAULT_AXI_ERROR,
};
void qmxsim_inject(qmxsim *sim, enum qmxsim_fault fault);
/* Drop every outstanding memory transaction and clear injected faults. */
void qmxsim_reset_memory(qmxsim *sim);

/* Memory-side statistics since qmxsim_new(). */
struct qmxsim_mem_stats {
	uint64_t read_bursts, write_bursts;
	uint64_t read_bytes, write_bytes;
	uint64_t error_responses;
	unsigned max_outstanding_reads;
};
void qmxsim_mem_stats(qmxsim *sim, struct qmxsim_mem_stats *st);

/* Register (AXI-Lite) accesses made by the caller through qmxsim_read32()
 * and qmxsim_write32() since qmxsim_new(); qmxsim_run()'s own background
 * polls of CTRL are not counted.  Benches and tests take differences around
 * a job to print register accesses per job. */
struct qmxsim_reg_stats {
	uint64_t reads, writes;
};
void qmxsim_reg_stats(qmxsim *sim, struct qmxsim_reg_stats *st);

/* Command queue (hw/regmap CQ_*): the ring and the completion records are
 * ordinary device memory, i.e. host memory given to qmxsim_map().  Write
 * struct qmx_cq_desc entries there, write CQ_TAIL (the doorbell) and wait
 * with qmxsim_run_irq() for ISR.CQ; records (struct qmx_cq_cpl) are then in
 * the mapped completion ring and CQ_HEAD counts them. */

/* AXI data width of the model's memory port, in bits. */
unsigned qmxsim_axi_data_bits(qmxsim *sim);

/* Thread-local message of the last failure ("" when none). */
const char *qmxsim_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* QMXSIM_H */
