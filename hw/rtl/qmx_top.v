// SPDX-License-Identifier: MIT
// qmx_top - the qmx accelerator, with Vitis RTL kernel interfaces:
// ap_clk / ap_rst_n (synchronous, active low), an AXI4-Lite control slave
// (s_axi_control, registers of hw/regmap/qmx_regmap.toml), one AXI4 master
// (m_axi_gmem) to external memory, and a level interrupt.
`default_nettype none
`include "qmx_defs.vh"

// Bus width vs. columns (advice, not a legality rule; qmx_core checks only
// that AXI_DATA_WIDTH is a power of two from 32 to 1024):
//   AXI_DATA_WIDTH >= max(64, 8 * ARRAY_COLS)
// With the default 512 x 512 output block the loads need only
// R*C*(BM+BN)/(BM*BN) bytes per cycle (4 at 32x32, docs/dataflow.md); what
// needs the width is the write-back: one int8 output row of ARRAY_COLS bytes
// per beat keeps the writer inside the drain's budget of TILE_K cycles per
// sub-tile.  The sim models (sim/CMakeLists.txt) and the synthesis figures
// (hw/synth/run_synth.sh, area.json) use this width.
module qmx_top #(
  parameter integer ARRAY_ROWS = 8,
  parameter integer ARRAY_COLS = 8,
  parameter integer AXI_DATA_WIDTH = 64,
  parameter integer AXI_ADDR_WIDTH = 64,
  parameter integer AXI_ID_WIDTH = 1,
  parameter integer CLOCK_KHZ = 250000,
  // Sub-tiles per block (the block is TILE_P*ARRAY_ROWS x TILE_Q*ARRAY_COLS).
  parameter integer TILE_P = (`QMX_DEF_BLOCK_M + ARRAY_ROWS - 1) / ARRAY_ROWS,
  parameter integer TILE_Q = (`QMX_DEF_BLOCK_N + ARRAY_COLS - 1) / ARRAY_COLS,
  parameter integer TILE_K = `QMX_DEF_TILE_K,
  parameter integer MAX_DIM = `QMX_DEF_MAX_DIM
) (
  input  wire ap_clk,
  input  wire ap_rst_n,
  /* verilator lint_off SYMRSVDWORD */
  output wire interrupt,
  /* verilator lint_on SYMRSVDWORD */
  // AXI4-Lite slave (registers)
  input  wire        s_axi_control_awvalid,
  output wire        s_axi_control_awready,
  input  wire [8:0]  s_axi_control_awaddr,
  input  wire        s_axi_control_wvalid,
  output wire        s_axi_control_wready,
  input  wire [31:0] s_axi_control_wdata,
  input  wire [3:0]  s_axi_control_wstrb,
  output wire        s_axi_control_bvalid,
  input  wire        s_axi_control_bready,
  output wire [1:0]  s_axi_control_bresp,
  input  wire        s_axi_control_arvalid,
  output wire        s_axi_control_arready,
  input  wire [8:0]  s_axi_control_araddr,
  output wire        s_axi_control_rvalid,
  input  wire        s_axi_control_rready,
  output wire [31:0] s_axi_control_rdata,
  output wire [1:0]  s_axi_control_rresp,
  // AXI4 master (external memory)
  output wire                        m_axi_gmem_awvalid,
  input  wire                        m_axi_gmem_awready,
  output wire [AXI_ADDR_WIDTH-1:0]   m_axi_gmem_awaddr,
  output wire [AXI_ID_WIDTH-1:0]     m_axi_gmem_awid,
  output wire [7:0]                  m_axi_gmem_awlen,
  output wire [2:0]                  m_axi_gmem_awsize,
  output wire [1:0]                  m_axi_gmem_awburst,
  output wire                        m_axi_gmem_wvalid,
  input  wire                        m_axi_gmem_wready,
  output wire [AXI_DATA_WIDTH-1:0]   m_axi_gmem_wdata,
  output wire [AXI_DATA_WIDTH/8-1:0] m_axi_gmem_wstrb,
  output wire                        m_axi_gmem_wlast,
  input  wire                        m_axi_gmem_bvalid,
  output wire                        m_axi_gmem_bready,
  input  wire [1:0]                  m_axi_gmem_bresp,
  input  wire [AXI_ID_WIDTH-1:0]     m_axi_gmem_bid,
  output wire                        m_axi_gmem_arvalid,
  input  wire                        m_axi_gmem_arready,
  output wire [AXI_ADDR_WIDTH-1:0]   m_axi_gmem_araddr,
  output wire [AXI_ID_WIDTH-1:0]     m_axi_gmem_arid,
  output wire [7:0]                  m_axi_gmem_arlen,
  output wire [2:0]                  m_axi_gmem_arsize,
  output wire [1:0]                  m_axi_gmem_arburst,
  input  wire                        m_axi_gmem_rvalid,
  output wire                        m_axi_gmem_rready,
  input  wire [AXI_DATA_WIDTH-1:0]   m_axi_gmem_rdata,
  input  wire [1:0]                  m_axi_gmem_rresp,
  input  wire                        m_axi_gmem_rlast,
  input  wire [AXI_ID_WIDTH-1:0]     m_axi_gmem_rid
);

  localparam integer CNTW = 16;

  wire        start, soft_reset, accept, done, busy, stall;
  wire [7:0]  error;
  wire [63:0] error_addr;
  wire [63:0] a_addr, b_addr, c_addr, bias_addr, mult_addr, shift_addr;
  wire [31:0] m, n, k, lda, ldb, ldc, a_zp, b_zp, c_zp, qmin, qmax, mult, shift, flags;
  wire [CNTW-1:0] macs_inc, sram_rd_inc, sram_wr_inc, ext_rd_inc, ext_wr_inc;

  qmx_regs #(
    .ARRAY_ROWS     (ARRAY_ROWS),
    .ARRAY_COLS     (ARRAY_COLS),
    .AXI_DATA_WIDTH (AXI_DATA_WIDTH),
    .AXI_ADDR_WIDTH (AXI_ADDR_WIDTH),
    .CLOCK_KHZ      (CLOCK_KHZ),
    .MAX_DIM        (MAX_DIM),
    .CNTW           (CNTW)
  ) i_regs (
    .clk_i         (ap_clk),
    .rst_ni        (ap_rst_n),
    .interrupt_o   (interrupt),
    .awvalid_i     (s_axi_control_awvalid),
    .awready_o     (s_axi_control_awready),
    .awaddr_i      (s_axi_control_awaddr),
    .wvalid_i      (s_axi_control_wvalid),
    .wready_o      (s_axi_control_wready),
    .wdata_i       (s_axi_control_wdata),
    .wstrb_i       (s_axi_control_wstrb),
    .bvalid_o      (s_axi_control_bvalid),
    .bready_i      (s_axi_control_bready),
    .bresp_o       (s_axi_control_bresp),
    .arvalid_i     (s_axi_control_arvalid),
    .arready_o     (s_axi_control_arready),
    .araddr_i      (s_axi_control_araddr),
    .rvalid_o      (s_axi_control_rvalid),
    .rready_i      (s_axi_control_rready),
    .rdata_o       (s_axi_control_rdata),
    .rresp_o       (s_axi_control_rresp),
    .start_o       (start),
    .soft_reset_o  (soft_reset),
    .accept_i      (accept),
    .done_i        (done),
    .busy_i        (busy),
    .error_i       (error),
    .error_addr_i  (error_addr),
    .a_addr_o      (a_addr),
    .b_addr_o      (b_addr),
    .c_addr_o      (c_addr),
    .bias_addr_o   (bias_addr),
    .mult_addr_o   (mult_addr),
    .shift_addr_o  (shift_addr),
    .m_o           (m),
    .n_o           (n),
    .k_o           (k),
    .lda_o         (lda),
    .ldb_o         (ldb),
    .ldc_o         (ldc),
    .a_zp_o        (a_zp),
    .b_zp_o        (b_zp),
    .c_zp_o        (c_zp),
    .qmin_o        (qmin),
    .qmax_o        (qmax),
    .mult_o        (mult),
    .shift_o       (shift),
    .flags_o       (flags),
    .stall_i       (stall),
    .macs_inc_i    (macs_inc),
    .sram_rd_inc_i (sram_rd_inc),
    .sram_wr_inc_i (sram_wr_inc),
    .ext_rd_inc_i  (ext_rd_inc),
    .ext_wr_inc_i  (ext_wr_inc)
  );

  qmx_core #(
    .ARRAY_ROWS     (ARRAY_ROWS),
    .ARRAY_COLS     (ARRAY_COLS),
    .AXI_DATA_WIDTH (AXI_DATA_WIDTH),
    .AXI_ADDR_WIDTH (AXI_ADDR_WIDTH),
    .AXI_ID_WIDTH   (AXI_ID_WIDTH),
    .TILE_P         (TILE_P),
    .TILE_Q         (TILE_Q),
    .TILE_K         (TILE_K),
    .MAX_DIM        (MAX_DIM),
    .CNTW           (CNTW)
  ) i_core (
    .clk_i          (ap_clk),
    .rst_ni         (ap_rst_n),
    .srst_i         (soft_reset),
    .start_i        (start),
    .accept_o       (accept),
    .done_o         (done),
    .busy_o         (busy),
    .error_o        (error),
    .error_addr_o   (error_addr),
    .a_addr_i       (a_addr),
    .b_addr_i       (b_addr),
    .c_addr_i       (c_addr),
    .bias_addr_i    (bias_addr),
    .mult_addr_i    (mult_addr),
    .shift_addr_i   (shift_addr),
    .m_i            (m),
    .n_i            (n),
    .k_i            (k),
    .lda_i          (lda),
    .ldb_i          (ldb),
    .ldc_i          (ldc),
    .a_zp_i         (a_zp),
    .b_zp_i         (b_zp),
    .c_zp_i         (c_zp),
    .qmin_i         (qmin),
    .qmax_i         (qmax),
    .mult_i         (mult),
    .shift_i        (shift),
    .flags_i        (flags),
    .stall_o        (stall),
    .macs_inc_o     (macs_inc),
    .sram_rd_inc_o  (sram_rd_inc),
    .sram_wr_inc_o  (sram_wr_inc),
    .ext_rd_inc_o   (ext_rd_inc),
    .ext_wr_inc_o   (ext_wr_inc),
    .m_axi_awvalid  (m_axi_gmem_awvalid),
    .m_axi_awready  (m_axi_gmem_awready),
    .m_axi_awaddr   (m_axi_gmem_awaddr),
    .m_axi_awid     (m_axi_gmem_awid),
    .m_axi_awlen    (m_axi_gmem_awlen),
    .m_axi_awsize   (m_axi_gmem_awsize),
    .m_axi_awburst  (m_axi_gmem_awburst),
    .m_axi_wvalid   (m_axi_gmem_wvalid),
    .m_axi_wready   (m_axi_gmem_wready),
    .m_axi_wdata    (m_axi_gmem_wdata),
    .m_axi_wstrb    (m_axi_gmem_wstrb),
    .m_axi_wlast    (m_axi_gmem_wlast),
    .m_axi_bvalid   (m_axi_gmem_bvalid),
    .m_axi_bready   (m_axi_gmem_bready),
    .m_axi_bresp    (m_axi_gmem_bresp),
    .m_axi_arvalid  (m_axi_gmem_arvalid),
    .m_axi_arready  (m_axi_gmem_arready),
    .m_axi_araddr   (m_axi_gmem_araddr),
    .m_axi_arid     (m_axi_gmem_arid),
    .m_axi_arlen    (m_axi_gmem_arlen),
    .m_axi_arsize   (m_axi_gmem_arsize),
    .m_axi_arburst  (m_axi_gmem_arburst),
    .m_axi_rvalid   (m_axi_gmem_rvalid),
    .m_axi_rready   (m_axi_gmem_rready),
    .m_axi_rdata    (m_axi_gmem_rdata),
    .m_axi_rresp    (m_axi_gmem_rresp)
  );

  // Single ID, in-order responses: the IDs and RLAST carry nothing we use
  // (beats are counted per burst).
  wire unused_ok = &{1'b0, m_axi_gmem_bid, m_axi_gmem_rid, m_axi_gmem_rlast};

endmodule

`default_nettype wire
