// SPDX-License-Identifier: MIT
// qmx_defs.vh - build-time defaults of the accelerator, one place for all
// modules.  Register offsets and field positions come from the generated
// qmx_regs.vh, never from here.
`ifndef QMX_DEFS_VH
`define QMX_DEFS_VH

// Output block kept on chip while K streams through: BLOCK_M x BLOCK_N int32
// sums, TILE_P = BLOCK_M / ARRAY_ROWS by TILE_Q = BLOCK_N / ARRAY_COLS
// sub-tiles, one accumulator word per sub-tile in every PE's accumulator
// memory (512 x 512 x 4 B = 1 MiB).  A is read from DRAM N / BLOCK_N times,
// B M / BLOCK_M times (docs/dataflow.md).
`define QMX_DEF_BLOCK_M 512
`define QMX_DEF_BLOCK_N 512
// Defaults of the engine modules (qmx_top derives them from the block).
`define QMX_DEF_TILE_P (`QMX_DEF_BLOCK_M / 8)
`define QMX_DEF_TILE_Q (`QMX_DEF_BLOCK_N / 8)
// K chunk held in one half of the double-buffered operand memories.
`define QMX_DEF_TILE_K 256
// Largest M, N, K, LDA, LDB, LDC accepted (MAX_DIM register).
`define QMX_DEF_MAX_DIM 1048576
// Read bursts in flight (depth of the read-routing FIFO).
`define QMX_DEF_RD_OUTSTANDING 32
// Write bursts awaiting a response.
`define QMX_DEF_WR_OUTSTANDING 16

// The SOFT_RESET key (QMX_SOFT_RESET_KEY) comes from the register map.

`endif // QMX_DEFS_VH
