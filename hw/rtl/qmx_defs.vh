// SPDX-License-Identifier: MIT
// qmx_defs.vh - build-time defaults of the accelerator, one place for all
// modules.  Register offsets and field positions come from the generated
// qmx_regs.vh, never from here.
`ifndef QMX_DEFS_VH
`define QMX_DEFS_VH

// Output block per tile = (TILE_P * ARRAY_ROWS) x (TILE_Q * ARRAY_COLS); each
// PE keeps TILE_P * TILE_Q accumulators so operands are reused P (Q) times.
`define QMX_DEF_TILE_P 4
`define QMX_DEF_TILE_Q 4
// K chunk held in one half of the double-buffered operand memories.
`define QMX_DEF_TILE_K 256
// Largest M, N, K, LDA, LDB, LDC accepted (MAX_DIM register).
`define QMX_DEF_MAX_DIM 1048576
// Read bursts in flight (depth of the read-routing FIFO).
`define QMX_DEF_RD_OUTSTANDING 32
// Write bursts awaiting a response.
`define QMX_DEF_WR_OUTSTANDING 16

// SOFT_RESET key ("RST!").
`define QMX_SOFT_RESET_KEY 32'h52535421

`endif // QMX_DEFS_VH
