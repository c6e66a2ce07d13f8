/* SPDX-License-Identifier: MIT */
/*
 * qmx_model.h - the analytical model of the qmx accelerator (hw/rtl): cycles,
 * stalls and every activity counter of one GEMM job for any configuration,
 * without simulating it.
 *
 * It follows the RTL's tiling and loop order (docs/dataflow.md): output
 * blocks BM x BN (m2, n2), K chunks of BK (k2) double-buffered against
 * compute, ROWS x COLS sub-tiles (p, q) stepped over the chunk's k one step
 * per cycle, the drain and writer overlapping the next sub-tile.  Every
 * block and chunk is costed in closed form (no loop over steps or MACs), so
 * one prediction takes microseconds.  The counters are the RTL's, byte for
 * byte; cycles are calibrated against the Verilator model in
 * tests/model (docs/explore.md, "The model and its calibration").
 *
 * Internal: not in the installed headers.  The functions are exported from
 * libqmx (QMX_API) so tools/qmx (qmx explore) reaches them with
 * runtime/src on its include path, as the tests do with the other internal
 * headers.  Stable: fields may be added at the end of the structs, none
 * removed or changed in meaning.
 */
#ifndef QMX_MODEL_H
#define QMX_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qmx/qmx.h"

#define QMX_MODEL_MAX_ARRAY 256 /* rows and columns each */

/* A configuration of the accelerator: the parameters of hw/rtl/qmx_top.v
 * and the memory model of the simulator (sim:RxC,lat=,bw=). */
struct qmx_model_config {
	uint32_t rows, cols;         /* ARRAY_ROWS (power of two), ARRAY_COLS: 1..256 */
	uint32_t block_m, block_n;   /* output block kept on chip: TILE_P * rows, TILE_Q * cols */
	uint32_t tile_k;             /* TILE_K: K chunk per scratchpad half, 1..4096 */
	uint32_t axi_data_bits;      /* AXI_DATA_WIDTH: power of two, 32..1024 */
	uint32_t rd_outstanding;     /* RD_OUTSTANDING: read bursts in flight */
	uint32_t wr_outstanding;     /* WR_OUTSTANDING: write bursts awaiting a response */
	uint32_t mem_latency_cycles; /* DRAM: AR/AW accepted -> first R beat / B response */
	uint32_t mem_bytes_per_cycle;/* DRAM bandwidth per direction; 0 = one beat per cycle */
	uint32_t clock_mhz;          /* device time = cycles / clock */
};

/* The RTL's defaults for a rows x cols array: 512 x 512 blocks (TILE_P =
 * ceil(512 / rows), TILE_Q = ceil(512 / cols)), TILE_K 256, bus
 * max(64, 8 * cols) bits (the sim models' width), 32/16 bursts in flight,
 * and the simulator's default memory (40 cycles, bus rate) at 250 MHz. */
QMX_API void qmx_model_config_default(struct qmx_model_config *cfg, uint32_t rows,
				      uint32_t cols);

/* 0, or QMX_EINVAL with a message naming the field and its limit (the
 * RTL's elaboration checks, qmx_core). */
QMX_API int qmx_model_config_check(const struct qmx_model_config *cfg);

/* On-chip memories of a configuration, bytes (the table of
 * docs/dataflow.md): double-buffered A and B scratchpads with one bus word
 * of slack per row, the per-channel vector buffers, the accumulators. */
struct qmx_model_memory {
	uint64_t a_bytes, b_bytes, vec_bytes, acc_bytes;
	uint64_t total_bytes;
};
QMX_API void qmx_model_memory(const struct qmx_model_config *cfg, struct qmx_model_memory *out);

/* One GEMM job: C[m][n] = A[m][k] B[k][n]. */
struct qmx_model_gemm {
	uint32_t m, n, k;
	bool out_int8;     /* int8 output (else int32) */
	bool bias;         /* int32 bias vector */
	bool per_channel;  /* per-column mult/shift vectors (int8 output only) */
	/* Row strides in elements; 0 = packed (k, n, n).  They move the start
	 * of each row against the bus beats, which changes the beat counts. */
	uint32_t lda, ldb, ldc;
	/* Byte offset of each operand's base address within a bus word (the
	 * runtime's buffers are page-aligned: 0). */
	uint32_t a_off, b_off, c_off, vec_off;
	/* Started from the command queue (as the sim and kmod backends start
	 * every job): one descriptor read and one completion record written,
	 * QMX_CQ_ENTRY_BYTES each, count in ext_rd/ext_wr_bytes; the busy
	 * cycles are the core's and do not change (docs/command-queue.md). */
	bool queued;
};

/* What the RTL's counters would read after the job (qmx_regs), and the
 * time.  cycles counts the busy cycles (start accepted to done), stall the
 * busy cycles in which no step entered the array. */
struct qmx_model_result {
	uint64_t cycles, stall_cycles;
	uint64_t steps;        /* cycles a step entered the array: cycles - stall */
	uint64_t macs;
	uint64_t sram_rd_bytes, sram_wr_bytes;
	uint64_t ext_rd_bytes, ext_wr_bytes;
	double seconds;        /* cycles / clock */
	/* Where the time went, for explanations (cycles, may overlap). */
	uint64_t load_exposed; /* waiting for a chunk's operands */
	uint64_t drain_exposed;/* waiting for the drain/writer, and the tail after the last step */
};

/* Predict one job; 0 or QMX_EINVAL (bad config or zero/oversized shape,
 * with the field named).  Thread-safe, no allocation. */
QMX_API int qmx_model_predict(const struct qmx_model_config *cfg,
			      const struct qmx_model_gemm *g,
			      struct qmx_model_result *out);

/* The same prediction without folding runs of alike blocks and rows of
 * blocks into closed form: every block is evaluated.  Slow on large
 * shapes; kept as the reference tests/model checks the folding against
 * (the results are identical). */
QMX_API int qmx_model_predict_unfolded(const struct qmx_model_config *cfg,
				       const struct qmx_model_gemm *g,
				       struct qmx_model_result *out);

#endif /* QMX_MODEL_H */
