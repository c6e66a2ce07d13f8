// SPDX-License-Identifier: MIT
// qmx_core - the job engine: validation and job control, the double-buffered
// operand memories and the systolic array, wired to one module per engine:
// qmx_loader (DMA reads), qmx_sequencer (compute steps), qmx_drain (read-out
// and requantization) and qmx_writer (DMA writes).
//
// Tiling.  C is computed in blocks of MT x NT = (TILE_P*ROWS) x (TILE_Q*COLS)
// (ragged at the edges), K in chunks of up to TILE_K.  For each chunk the
// loader fetches the A rows (MT x kt) and B rows (kt x NT) of the block into
// one half of the operand memories while the sequencer computes on the other
// half: DMA overlaps compute.  Within a chunk the sequencer steps every
// ROWS x COLS sub-tile of the block over the chunk's k; each PE keeps one
// accumulator per sub-tile, so operands fetched once serve TILE_P (TILE_Q)
// sub-tiles.  On the last k of the last chunk each PE latches its sum; the
// drain streams the sub-tile through the requantizer into row segments and
// the writer stores each segment as an aligned burst with byte strobes (only
// the bytes of C's M x N elements are written).
//
// Rows of A, B and the per-channel vectors may start at any byte address:
// the loader fetches aligned bursts (never crossing 4 KiB) and the operand
// memories store beats as they are; the byte offset of each row is kept
// beside it and applied on read (qmx_xbuf).
//
// Errors.  Invalid arguments end the job at once with no memory access.  An
// error response ends it with AXI_READ / AXI_WRITE and the failing address;
// the engine stops issuing, drains what is outstanding, then signals done.
`default_nettype none
`include "qmx_regs.vh"
`include "qmx_defs.vh"

module qmx_core #(
  parameter integer ARRAY_ROWS = 8,
  parameter integer ARRAY_COLS = 8,
  parameter integer AXI_DATA_WIDTH = 64,
  parameter integer AXI_ADDR_WIDTH = 64,
  parameter integer AXI_ID_WIDTH = 1,
  parameter integer TILE_P = `QMX_DEF_TILE_P,
  parameter integer TILE_Q = `QMX_DEF_TILE_Q,
  parameter integer TILE_K = `QMX_DEF_TILE_K,
  parameter integer MAX_DIM = `QMX_DEF_MAX_DIM,
  parameter integer RD_OUTSTANDING = `QMX_DEF_RD_OUTSTANDING,
  parameter integer WR_OUTSTANDING = `QMX_DEF_WR_OUTSTANDING,
  parameter integer CNTW = 16
) (
  input  wire        clk_i,
  input  wire        rst_ni,       // hard reset
  input  wire        srst_i,       // SOFT_RESET: abort, back to idle
  input  wire        start_i,
  output wire        accept_o,
  output reg         done_o,
  output wire        busy_o,
  output reg  [7:0]  error_o,
  output reg  [63:0] error_addr_o,
  input  wire [63:0] a_addr_i,
  input  wire [63:0] b_addr_i,
  input  wire [63:0] c_addr_i,
  input  wire [63:0] bias_addr_i,
  input  wire [63:0] mult_addr_i,
  input  wire [63:0] shift_addr_i,
  input  wire [31:0] m_i,
  input  wire [31:0] n_i,
  input  wire [31:0] k_i,
  input  wire [31:0] lda_i,
  input  wire [31:0] ldb_i,
  input  wire [31:0] ldc_i,
  input  wire [31:0] a_zp_i,
  input  wire [31:0] b_zp_i,
  input  wire [31:0] c_zp_i,
  input  wire [31:0] qmin_i,
  input  wire [31:0] qmax_i,
  input  wire [31:0] mult_i,
  input  wire [31:0] shift_i,
  input  wire [31:0] flags_i,
  output wire            stall_o,
  output wire [CNTW-1:0] macs_inc_o,
  output wire [CNTW-1:0] sram_rd_inc_o,
  output wire [CNTW-1:0] sram_wr_inc_o,
  output wire [CNTW-1:0] ext_rd_inc_o,
  output wire [CNTW-1:0] ext_wr_inc_o,
  // AXI4 master
  output wire                        m_axi_awvalid,
  input  wire                        m_axi_awready,
  output wire [AXI_ADDR_WIDTH-1:0]   m_axi_awaddr,
  output wire [AXI_ID_WIDTH-1:0]     m_axi_awid,
  output wire [7:0]                  m_axi_awlen,
  output wire [2:0]                  m_axi_awsize,
  output wire [1:0]                  m_axi_awburst,
  output wire                        m_axi_wvalid,
  input  wire                        m_axi_wready,
  output wire [AXI_DATA_WIDTH-1:0]   m_axi_wdata,
  output wire [AXI_DATA_WIDTH/8-1:0] m_axi_wstrb,
  output wire                        m_axi_wlast,
  input  wire                        m_axi_bvalid,
  output wire                        m_axi_bready,
  input  wire [1:0]                  m_axi_bresp,
  output wire                        m_axi_arvalid,
  input  wire                        m_axi_arready,
  output wire [AXI_ADDR_WIDTH-1:0]   m_axi_araddr,
  output wire [AXI_ID_WIDTH-1:0]     m_axi_arid,
  output wire [7:0]                  m_axi_arlen,
  output wire [2:0]                  m_axi_arsize,
  output wire [1:0]                  m_axi_arburst,
  input  wire                        m_axi_rvalid,
  output wire                        m_axi_rready,
  input  wire [AXI_DATA_WIDTH-1:0]   m_axi_rdata,
  input  wire [1:0]                  m_axi_rresp
);

  `include "qmx_geom.vh"
  localparam integer WAW = $clog2(BDEPTH + ADEPTH + PDEPTH) + 1;  // word address bits
  localparam integer BAW = WAW + OFW;                              // byte address bits
  localparam [31:0] MAXD = MAX_DIM;
  localparam [1:0] H_EMPTY = 2'd0, H_FILLING = 2'd1, H_FULL = 2'd2;

  // ------------------------------------------------------------ parameter checks
  // Illegal combinations stop elaboration (Verilator: USERERROR, Yosys: ERROR).
  // The A memories are banked by row index bits, the FIFOs wrap by pointer
  // width, the bus carries whole bytes in AXI sizes, and the array's skew needs
  // at least one anti-diagonal beyond the first.
  generate
    if (R < 1 || (R & (R - 1)) != 0) begin : g_bad_rows
      $error("qmx_core: ARRAY_ROWS must be a power of two (the A memories are banked by row bits)");
    end
    if (C < 1 || R + C < 3) begin : g_bad_cols
      $error("qmx_core: ARRAY_COLS must be >= 1 and ARRAY_ROWS + ARRAY_COLS >= 3");
    end
    if (AXI_DATA_WIDTH < 32 || AXI_DATA_WIDTH > 1024 ||
        (AXI_DATA_WIDTH & (AXI_DATA_WIDTH - 1)) != 0) begin : g_bad_width
      $error("qmx_core: AXI_DATA_WIDTH must be a power of two from 32 to 1024");
    end
    if (P < 1 || Q < 1 || P * Q < 2) begin : g_bad_pq
      $error("qmx_core: TILE_P and TILE_Q must be >= 1 with TILE_P * TILE_Q >= 2");
    end
    if (KT < 1 || KT > 4096) begin : g_bad_k
      $error("qmx_core: TILE_K must be from 1 to 4096");
    end
    if ((RD_OUTSTANDING & (RD_OUTSTANDING - 1)) != 0 || RD_OUTSTANDING < 2 ||
        (WR_OUTSTANDING & (WR_OUTSTANDING - 1)) != 0 || WR_OUTSTANDING < 2) begin : g_bad_fifo
      $error("qmx_core: RD_OUTSTANDING and WR_OUTSTANDING must be powers of two >= 2");
    end
    if (R * C > (1 << (CNTW - 1))) begin : g_bad_cntw
      $error("qmx_core: CNTW too narrow for ARRAY_ROWS * ARRAY_COLS MACs per cycle");
    end
  endgenerate

  // ------------------------------------------------------------ job control
  wire eng_rst_n = rst_ni && !srst_i;
  reg  busy_q, abort_q;

  wire int8_f = flags_i[`QMX_FLAGS_OUT_INT8_BIT];
  wire pc_f   = flags_i[`QMX_FLAGS_PER_CHANNEL_BIT] && int8_f;
  wire hb_f   = flags_i[`QMX_FLAGS_HAS_BIAS_BIT];
  wire [1:0] esh = int8_f ? 2'd0 : 2'd2;

  function in_i8(input [31:0] x);
    in_i8 = ($signed(x) >= -32'sd128) && ($signed(x) <= 32'sd127);
  endfunction

  wire v_zero  = (m_i == 0) || (n_i == 0) || (k_i == 0);
  wire v_big   = (m_i > MAXD) || (n_i > MAXD) || (k_i > MAXD) ||
                 (lda_i > MAXD) || (ldb_i > MAXD) || (ldc_i > MAXD);
  wire v_strd  = (lda_i < k_i) || (ldb_i < n_i) || (ldc_i < n_i);
  wire [31:0] flag_mask = (32'd1 << `QMX_FLAGS_OUT_INT8_BIT) |
                          (32'd1 << `QMX_FLAGS_PER_CHANNEL_BIT) |
                          (32'd1 << `QMX_FLAGS_HAS_BIAS_BIT);
  wire v_flags = (flags_i & ~flag_mask) != 0;
  wire v_quant = !in_i8(a_zp_i) || !in_i8(b_zp_i) ||
                 (int8_f && (!in_i8(c_zp_i) || !in_i8(qmin_i) || !in_i8(qmax_i) ||
                             ($signed(qmin_i) > $signed(qmax_i)) ||
                             (!pc_f && (mult_i[31] || ($signed(shift_i) < -32'sd31) ||
                                        ($signed(shift_i) > 32'sd30)))));
  wire [7:0] verr = v_zero  ? `QMX_ERROR_ZERO_DIM :
                    v_big   ? `QMX_ERROR_DIM_TOO_LARGE :
                    v_strd  ? `QMX_ERROR_BAD_STRIDE :
                    v_flags ? `QMX_ERROR_BAD_FLAGS :
                    v_quant ? `QMX_ERROR_BAD_QUANT : `QMX_ERROR_NONE;

  assign accept_o = start_i && !busy_q && !done_o;
  wire   job_go   = accept_o && verr == `QMX_ERROR_NONE;
  assign busy_o   = busy_q;

  reg [1:0] hstate_q [0:1];   // operand halves
  reg [1:0] pbusy_q;          // per-channel vector halves (one per block)

  // ============================================================ loader
  wire           l_start_chunk, lh, l_first, lph, l_idle, l_quiet;
  wire           r_fire, r_eoc, r_half;
  wire [2:0]     r_kind;
  wire [RB-1:0]  r_bank;
  wire [WAW-1:0] r_waddr;
  wire           off_we;
  wire [2:0]     off_kind;
  wire [31:0]    off_idx;
  wire [OFW-1:0] off_val;
  wire           rd_err, wr_err;
  wire [63:0]    rd_err_addr, wr_err_addr;

  qmx_loader #(
    .ARRAY_ROWS (R), .ARRAY_COLS (C), .AXI_DATA_WIDTH (AXI_DATA_WIDTH),
    .AXI_ADDR_WIDTH (AXI_ADDR_WIDTH), .TILE_P (P), .TILE_Q (Q), .TILE_K (KT),
    .RD_OUTSTANDING (RD_OUTSTANDING), .WAW (WAW)
  ) i_loader (
    .clk_i (clk_i), .rst_ni (eng_rst_n), .job_go_i (job_go), .abort_i (abort_q), .busy_i (busy_q),
    .a_addr_i (a_addr_i), .b_addr_i (b_addr_i), .bias_addr_i (bias_addr_i),
    .mult_addr_i (mult_addr_i), .shift_addr_i (shift_addr_i),
    .m_i (m_i), .n_i (n_i), .k_i (k_i), .lda_i (lda_i), .ldb_i (ldb_i),
    .hb_i (hb_f), .pc_i (pc_f),
    .half_empty_i ({hstate_q[1] == H_EMPTY, hstate_q[0] == H_EMPTY}),
    .pbusy_i (pbusy_q),
    .start_chunk_o (l_start_chunk), .half_o (lh), .first_o (l_first), .phalf_o (lph),
    .idle_o (l_idle), .quiet_o (l_quiet),
    .wr_o (r_fire), .wr_kind_o (r_kind), .wr_bank_o (r_bank), .wr_addr_o (r_waddr),
    .eoc_o (r_eoc), .eoc_half_o (r_half),
    .off_we_o (off_we), .off_kind_o (off_kind), .off_idx_o (off_idx), .off_val_o (off_val),
    .rd_err_o (rd_err), .rd_err_addr_o (rd_err_addr),
    .m_axi_arvalid (m_axi_arvalid), .m_axi_arready (m_axi_arready), .m_axi_araddr (m_axi_araddr),
    .m_axi_arlen (m_axi_arlen), .m_axi_arsize (m_axi_arsize), .m_axi_arburst (m_axi_arburst),
    .m_axi_rvalid (m_axi_rvalid), .m_axi_rready (m_axi_rready), .m_axi_rresp (m_axi_rresp)
  );
  assign m_axi_arid = {AXI_ID_WIDTH{1'b0}};

  // ============================================================ sequencer
  wire        issue, s_is_last, s_firstchunk, s_lastchunk, s_klast, s_single;
  wire        sh, s_release, s_idle, last_pending;
  wire [31:0] sp, sq, sk, s_rv, s_cv;
  wire [31:0] d_rv, d_cv, d_q;
  wire        d_ph, d_final;
  wire [63:0] d_caddr;

  qmx_sequencer #(
    .ARRAY_ROWS (R), .ARRAY_COLS (C), .AXI_DATA_WIDTH (AXI_DATA_WIDTH),
    .TILE_P (P), .TILE_Q (Q), .TILE_K (KT)
  ) i_sequencer (
    .clk_i (clk_i), .rst_ni (eng_rst_n), .job_go_i (job_go), .abort_i (abort_q), .busy_i (busy_q),
    .c_addr_i (c_addr_i), .m_i (m_i), .n_i (n_i), .k_i (k_i), .ldc_i (ldc_i), .esh_i (esh),
    .half_full_i ({hstate_q[1] == H_FULL, hstate_q[0] == H_FULL}),
    .last_pending_i (last_pending),
    .issue_o (issue), .is_last_o (s_is_last), .firstchunk_o (s_firstchunk),
    .lastchunk_o (s_lastchunk), .klast_o (s_klast), .single_o (s_single), .half_o (sh),
    .sp_o (sp), .sq_o (sq), .sk_o (sk), .rv_o (s_rv), .cv_o (s_cv),
    .release_o (s_release), .idle_o (s_idle),
    .d_rv_o (d_rv), .d_cv_o (d_cv), .d_q_o (d_q), .d_ph_o (d_ph), .d_final_o (d_final),
    .d_caddr_o (d_caddr)
  );

  // ------------------------------------------------------------ operand memories
  // Byte offsets of buffered rows, written as the loader sets up each row.
  reg [OFW-1:0] aoff_q [0:R*2*P-1];
  reg [OFW-1:0] boff_q [0:2*KT-1];
  always @(posedge clk_i) begin
    if (off_we && off_kind == K_A)
      aoff_q[off_idx[RB-1:0] * 2 * P + (lh ? P : 0) + (off_idx >> RB)] <= off_val;
    if (off_we && off_kind == K_B)
      boff_q[(lh ? KT : 0) + off_idx] <= off_val;
  end

  wire [R*8-1:0] a_bytes;
  wire [C*8-1:0] b_bytes;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0]    sq_c = sq * C32;
  /* verilator lint_on UNUSEDSIGNAL */

  genvar gi;
  generate
    for (gi = 0; gi < R; gi = gi + 1) begin : gen_abuf
      localparam [RB-1:0] GI = gi;
      wire [BAW-1:0] ra = ((({{(BAW-1){1'b0}}, sh} * P32[BAW-1:0]) + sp[BAW-1:0]) * RWA32[BAW-1:0] << OFW) +
                          {{(BAW-OFW){1'b0}}, aoff_q[gi * 2 * P + (sh ? P : 0) + sp]} + sk[BAW-1:0];
      qmx_xbuf #(.WB(WB), .RDB(1), .DEPTH(ADEPTH), .WAW(WAW), .BAW(BAW)) i_abuf (
        .clk_i   (clk_i),
        .we_i    (r_fire && r_kind == K_A && r_bank == GI),
        .waddr_i (r_waddr),
        .wdata_i (m_axi_rdata),
        .raddr_i (ra),
        .rdata_o (a_bytes[gi*8 +: 8])
      );
    end
  endgenerate

  wire [BAW-1:0] b_ra = ((({{(BAW-1){1'b0}}, sh} * KT32[BAW-1:0]) + sk[BAW-1:0]) * RWB32[BAW-1:0] << OFW) +
                        {{(BAW-OFW){1'b0}}, boff_q[(sh ? KT : 0) + sk]} + sq_c[BAW-1:0];
  qmx_xbuf #(.WB(WB), .RDB(C), .DEPTH(BDEPTH), .WAW(WAW), .BAW(BAW)) i_bbuf (
    .clk_i   (clk_i),
    .we_i    (r_fire && r_kind == K_B),
    .waddr_i (r_waddr),
    .wdata_i (m_axi_rdata),
    .raddr_i (b_ra),
    .rdata_o (b_bytes)
  );

  // ------------------------------------------------------------ array feed
  // The step issued now enters the array next cycle, with the operands read
  // from the memories now.  Accumulators: the first k of K starts from 0; the
  // first k of a later chunk loads the sum stored at the end of the previous
  // chunk (unless the block is a single sub-tile: its sum never left the PE's
  // running register); the last k of a chunk stores it when more chunks follow.
  wire           n_zero = s_firstchunk && sk == 0;
  wire           n_load = !s_firstchunk && sk == 0 && !s_single;
  wire           n_wb   = s_klast && !s_lastchunk;
  wire [ACCW-1:0] n_acc = sp[ACCW-1:0] * Q32[ACCW-1:0] + sq[ACCW-1:0];
  reg            fv_q, fzero_q, fload_q, fwb_q, flast_q;
  reg [ACCW-1:0] facc_q;
  always @(posedge clk_i) begin
    if (!eng_rst_n)
      fv_q <= 1'b0;
    else
      fv_q <= issue;
    fzero_q <= n_zero;
    fload_q <= n_load;
    fwb_q   <= n_wb;
    flast_q <= s_is_last;
    facc_q  <= n_acc;
  end

  reg [R*9-1:0] a_in;
  reg [C*9-1:0] b_in;
  integer fi;
  always @* begin
    for (fi = 0; fi < R; fi = fi + 1)
      a_in[fi*9 +: 9] = {a_bytes[fi*8+7], a_bytes[fi*8 +: 8]} - a_zp_i[8:0];
    for (fi = 0; fi < C; fi = fi + 1)
      b_in[fi*9 +: 9] = {b_bytes[fi*8+7], b_bytes[fi*8 +: 8]} - b_zp_i[8:0];
  end

  wire [RB-1:0]     res_sel;
  wire [C*32-1:0]   res;
  wire              arr_last;
  qmx_array #(.ROWS(R), .COLS(C), .NACC(NACC), .ACCW(ACCW), .SELW(RB)) i_array (
    .clk_i       (clk_i),
    .rst_ni      (eng_rst_n),
    .a_i         (a_in),
    .b_i         (b_in),
    .v_i         (fv_q),
    .zero_i      (fzero_q),
    .load_i      (fload_q),
    .wb_i        (fwb_q),
    .last_i      (flast_q),
    .acc_i       (facc_q),
    .la_rd_i     (issue && n_load),
    .la_acc_i    (n_acc),
    .last_done_o (arr_last),
    .sel_i       (res_sel),
    .res_o       (res)
  );

  // ============================================================ drain
  wire          seg_alloc, seg_slot, rq_v, d_emit, d_final_done, d_idle;
  wire [63:0]   seg_addr;
  wire [31:0]   seg_n;
  wire          rq_slot;
  wire [C*32-1:0] rq_res;
  wire [1:0]    seg_busy;

  qmx_drain #(
    .ARRAY_ROWS (R), .ARRAY_COLS (C), .AXI_DATA_WIDTH (AXI_DATA_WIDTH),
    .TILE_P (P), .TILE_Q (Q), .TILE_K (KT), .WAW (WAW)
  ) i_drain (
    .clk_i (clk_i), .rst_ni (eng_rst_n), .job_go_i (job_go), .abort_i (abort_q), .busy_i (busy_q),
    .ldc_i (ldc_i), .esh_i (esh), .hb_i (hb_f), .pc_i (pc_f), .int8_i (int8_f),
    .mult_i (mult_i), .shift_i (shift_i), .c_zp_i (c_zp_i), .qmin_i (qmin_i), .qmax_i (qmax_i),
    .take_i (issue && s_is_last), .d_rv_i (d_rv), .d_cv_i (d_cv), .d_q_i (d_q), .d_ph_i (d_ph),
    .d_final_i (d_final), .d_caddr_i (d_caddr), .last_pending_o (last_pending),
    .arr_last_i (arr_last), .res_sel_o (res_sel), .res_i (res),
    .wr_i (r_fire), .wr_kind_i (r_kind), .wr_addr_i (r_waddr), .wr_data_i (m_axi_rdata),
    .off_we_i (off_we), .off_kind_i (off_kind), .off_phalf_i (lph), .off_val_i (off_val),
    .seg_busy_i (seg_busy), .alloc_o (seg_alloc), .slot_o (seg_slot), .alloc_addr_o (seg_addr),
    .alloc_n_o (seg_n), .rq_v_o (rq_v), .rq_slot_o (rq_slot), .rq_res_o (rq_res),
    .emit_o (d_emit), .final_done_o (d_final_done), .idle_o (d_idle)
  );

  // ============================================================ writer
  wire w_beat, w_idle;
  qmx_writer #(
    .ARRAY_COLS (C), .AXI_DATA_WIDTH (AXI_DATA_WIDTH), .AXI_ADDR_WIDTH (AXI_ADDR_WIDTH),
    .WR_OUTSTANDING (WR_OUTSTANDING)
  ) i_writer (
    .clk_i (clk_i), .rst_ni (eng_rst_n), .job_go_i (job_go), .abort_i (abort_q), .busy_i (busy_q),
    .int8_i (int8_f), .esh_i (esh),
    .alloc_i (seg_alloc), .alloc_slot_i (seg_slot), .alloc_addr_i (seg_addr), .alloc_n_i (seg_n),
    .rq_v_i (rq_v), .rq_slot_i (rq_slot), .rq_res_i (rq_res),
    .seg_busy_o (seg_busy), .beat_o (w_beat), .idle_o (w_idle),
    .wr_err_o (wr_err), .wr_err_addr_o (wr_err_addr),
    .m_axi_awvalid (m_axi_awvalid), .m_axi_awready (m_axi_awready), .m_axi_awaddr (m_axi_awaddr),
    .m_axi_awlen (m_axi_awlen), .m_axi_awsize (m_axi_awsize), .m_axi_awburst (m_axi_awburst),
    .m_axi_wvalid (m_axi_wvalid), .m_axi_wready (m_axi_wready), .m_axi_wdata (m_axi_wdata),
    .m_axi_wstrb (m_axi_wstrb), .m_axi_wlast (m_axi_wlast),
    .m_axi_bvalid (m_axi_bvalid), .m_axi_bready (m_axi_bready), .m_axi_bresp (m_axi_bresp)
  );
  assign m_axi_awid = {AXI_ID_WIDTH{1'b0}};

  // ============================================================ half states, job end
  wire all_done = s_idle && l_idle && d_idle && !last_pending && seg_busy == 2'b00 && w_idle;
  wire abort_done = l_quiet && w_idle;

  always @(posedge clk_i) begin
    if (!eng_rst_n) begin
      busy_q      <= 1'b0;
      abort_q     <= 1'b0;
      done_o      <= 1'b0;
      hstate_q[0] <= H_EMPTY;
      hstate_q[1] <= H_EMPTY;
      pbusy_q     <= 2'b00;
    end else begin
      done_o <= 1'b0;
      if (accept_o) begin
        busy_q      <= job_go;
        abort_q     <= 1'b0;
        done_o      <= !job_go;
        hstate_q[0] <= H_EMPTY;
        hstate_q[1] <= H_EMPTY;
        pbusy_q     <= 2'b00;
      end else if (busy_q) begin
        if (rd_err || wr_err)
          abort_q <= 1'b1;
        if (abort_q ? abort_done : all_done) begin
          busy_q <= 1'b0;
          done_o <= 1'b1;
        end
        if (l_start_chunk) begin
          hstate_q[lh] <= H_FILLING;
          if (l_first)
            pbusy_q[lph] <= 1'b1;
        end
        if (r_eoc)
          hstate_q[r_half] <= H_FULL;
        if (s_release)
          hstate_q[sh] <= H_EMPTY;
        if (d_final_done)
          pbusy_q[d_ph] <= 1'b0;
      end
    end
  end

  // ERROR survives soft reset (it explains the job that was aborted).
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      error_o      <= `QMX_ERROR_NONE;
      error_addr_o <= 64'd0;
    end else if (accept_o) begin
      error_o      <= verr;
      error_addr_o <= 64'd0;
    end else if (busy_q && !abort_q && error_o == `QMX_ERROR_NONE) begin
      if (rd_err) begin
        error_o      <= `QMX_ERROR_AXI_READ;
        error_addr_o <= rd_err_addr;
      end else if (wr_err) begin
        error_o      <= `QMX_ERROR_AXI_WRITE;
        error_addr_o <= wr_err_addr;
      end
    end
  end

  // ------------------------------------------------------------ activity
  // SRAM traffic counts every on-chip memory: operand reads (a column of A
  // and a row of B per step) and DMA writes into them, accumulator words
  // loaded and stored at chunk boundaries, and per-channel vector reads.
  localparam [31:0] RC_32 = R + C;
  localparam [CNTW-1:0] WB_C = WB32[CNTW-1:0];
  localparam [CNTW-1:0] RC_C = RC_32[CNTW-1:0];
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] macs_step = s_rv * s_cv;
  wire [31:0] acc_bytes = macs_step << 2;
  wire [31:0] vec_bytes = ((hb_f ? 32'd4 : 32'd0) + (pc_f ? 32'd8 : 32'd0)) * d_cv;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [CNTW-1:0] z = {CNTW{1'b0}};
  assign stall_o       = busy_q && !issue;
  assign macs_inc_o    = issue ? macs_step[CNTW-1:0] : z;
  assign sram_rd_inc_o = (issue ? RC_C : z) + (issue && n_load ? acc_bytes[CNTW-1:0] : z) +
                         (d_emit ? vec_bytes[CNTW-1:0] : z);
  assign sram_wr_inc_o = (r_fire ? WB_C : z) + (issue && n_wb ? acc_bytes[CNTW-1:0] : z);
  assign ext_rd_inc_o  = m_axi_rvalid ? WB_C : z;
  assign ext_wr_inc_o  = w_beat ? WB_C : z;

endmodule

`default_nettype wire
