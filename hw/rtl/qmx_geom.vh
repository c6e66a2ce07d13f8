// SPDX-License-Identifier: MIT
// qmx_geom.vh - derived geometry, included inside the body of every engine
// module (qmx_core, qmx_loader, qmx_sequencer, qmx_drain, qmx_writer) so all
// of them size their buffers and counters from one formula.  The including
// module declares ARRAY_ROWS, ARRAY_COLS, AXI_DATA_WIDTH, TILE_P, TILE_Q and
// TILE_K as parameters; all but qmx_core also WAW, the word address width of
// the operand memories (qmx_core computes it).
/* verilator lint_off UNUSEDPARAM */
localparam integer R   = ARRAY_ROWS;
localparam integer C   = ARRAY_COLS;
localparam integer P   = TILE_P;
localparam integer Q   = TILE_Q;
localparam integer KT  = TILE_K;
localparam integer MT  = P * R;                 // output block rows
localparam integer NT  = Q * C;                 // output block columns
localparam integer WB  = AXI_DATA_WIDTH / 8;    // bytes per beat
localparam integer OFW = $clog2(WB);
localparam integer RB  = (R > 1) ? $clog2(R) : 1;
localparam integer NACC = P * Q;                // accumulators per PE
localparam integer ACCW = (NACC > 1) ? $clog2(NACC) : 1;
// Words per buffered row: any byte offset plus the row.
localparam integer RWA = (WB - 1 + KT + WB - 1) / WB;
localparam integer RWB = (WB - 1 + NT + WB - 1) / WB;
localparam integer RWP = (WB - 1 + 4 * NT + WB - 1) / WB;
localparam integer ADEPTH = 2 * P * RWA;        // per A row bank (two halves)
localparam integer BDEPTH = 2 * KT * RWB;
localparam integer PDEPTH = 2 * RWP;
localparam integer JW  = (C > 1) ? $clog2(C) : 1;
localparam integer SEGB = C * 4;                // bytes of one output row segment
localparam [31:0] R32 = R, C32 = C, MT32 = MT, NT32 = NT, KT32 = KT;
localparam [31:0] RWA32 = RWA, RWB32 = RWB, RWP32 = RWP, WB32 = WB, P32 = P, Q32 = Q;
// Kinds of buffered rows, in load order.
localparam [2:0] K_BIAS = 3'd0, K_MULT = 3'd1, K_SHIFT = 3'd2, K_A = 3'd3, K_B = 3'd4;
/* verilator lint_on UNUSEDPARAM */
