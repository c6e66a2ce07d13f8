// SPDX-License-Identifier: MIT
// qmx_cmdq - the command-queue engine: fetches 128-byte job descriptors from
// a ring in external memory, runs each through qmx_core and writes a 128-byte
// completion record back, with no host involvement between descriptors.
//
// Descriptors run strictly in ring order, one at a time: HEAD is both the
// count of records written and the index of the descriptor being worked on.
// Per descriptor: FETCH (one AXI read burst, 128 bytes), CHECK (layout
// checks, wait_seq), START/RUN (the descriptor's argument set drives the
// core, the same start/accept/done handshake as AP_START), then WB (one AXI
// write burst of the record) and HEAD + 1.  The bus is used only while the
// core is idle; qmx_top muxes it.
//
// wait_seq: in-order execution means every earlier descriptor has completed
// when one is fetched, so only failures matter.  The engine remembers the
// seqs of the last FAIL_SLOTS failed descriptors since the queue was enabled
// (writing CQ_CTRL with ENABLE=1 or SOFT_RESET forgets them); a wait on one
// of them fails with DEP_FAILED without touching memory.  Once more than
// FAIL_SLOTS have failed, a wait on a seq not in the table fails too (never
// runs a job on a failed input it can no longer rule out); so does a wait
// after a descriptor that could not be read (its seq is unknown).
//
// Record counters are this job's deltas of the CNT_* increments, plus the
// queue's own traffic: 128 descriptor bytes read and 128 record bytes
// written (CNT_EXT_RD/WR_BYTES count them too, they are real DRAM traffic).
`default_nettype none
`include "qmx_regs.vh"

module qmx_cmdq #(
  parameter integer AXI_DATA_WIDTH = 64,
  parameter integer AXI_ADDR_WIDTH = 64,
  parameter integer AXI_ID_WIDTH = 1,
  parameter integer CNTW = 16,
  parameter integer DW = 48,          // width of the per-job counter deltas
  parameter integer FAIL_SLOTS = 8
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        srst_i,         // SOFT_RESET pulse
  // configuration (qmx_regs)
  input  wire [63:0] cq_base_i,
  input  wire [63:0] cpl_base_i,
  input  wire [31:0] size_i,
  input  wire [31:0] tail_i,
  input  wire        enable_i,
  input  wire        enable_wr_i,    // CQ_CTRL written with ENABLE=1
  input  wire [7:0]  coalesce_i,
  output reg  [31:0] head_o,
  output wire        running_o,
  output reg  [31:0] done_seq_o,
  output reg         irq_o,          // pulse: raise ISR.CQ
  // core handshake
  input  wire        reg_start_i,    // AP_START pending (register path)
  output wire        own_o,          // the queue drives the core's arguments
  output wire        job_o,          // the core runs a queued descriptor
  output wire        bus_o,          // the queue drives m_axi
  output wire        core_start_o,
  input  wire        core_accept_i,
  input  wire        core_done_i,
  input  wire        core_busy_i,
  input  wire [7:0]  core_error_i,
  input  wire [63:0] core_error_addr_i,
  output wire [63:0] a_addr_o,
  output wire [63:0] b_addr_o,
  output wire [63:0] c_addr_o,
  output wire [63:0] bias_addr_o,
  output wire [63:0] mult_addr_o,
  output wire [63:0] shift_addr_o,
  output wire [31:0] m_o,
  output wire [31:0] n_o,
  output wire [31:0] k_o,
  output wire [31:0] lda_o,
  output wire [31:0] ldb_o,
  output wire [31:0] ldc_o,
  output wire [31:0] a_zp_o,
  output wire [31:0] b_zp_o,
  output wire [31:0] c_zp_o,
  output wire [31:0] qmin_o,
  output wire [31:0] qmax_o,
  output wire [31:0] mult_o,
  output wire [31:0] shift_o,
  output wire [31:0] flags_o,
  // the core's counter increments (for the record deltas)
  input  wire            stall_i,
  input  wire [CNTW-1:0] macs_inc_i,
  input  wire [CNTW-1:0] sram_rd_inc_i,
  input  wire [CNTW-1:0] sram_wr_inc_i,
  input  wire [CNTW-1:0] ext_rd_inc_i,
  input  wire [CNTW-1:0] ext_wr_inc_i,
  // the queue's own external traffic (added to CNT_EXT_*)
  output wire [CNTW-1:0] ext_rd_inc_o,
  output wire [CNTW-1:0] ext_wr_inc_o,
  // AXI4 master (muxed onto m_axi_gmem by qmx_top while bus_o)
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

  localparam integer EB    = `QMX_CQ_ENTRY_BYTES;
  localparam integer EB_LOG2 = $clog2(EB); // a slot's byte offset: slot << EB_LOG2
  localparam integer EBITS = EB * 8;
  localparam integer W     = AXI_DATA_WIDTH;
  localparam integer BEATS = EBITS / W;
  localparam integer BW    = $clog2(BEATS + 1);
  localparam integer FW    = $clog2(FAIL_SLOTS);
  localparam [31:0]  LEN_32  = BEATS - 1;
  localparam [31:0]  SIZE_32 = $clog2(W / 8);
  localparam [31:0]  BB_32   = W / 8;
  localparam [31:0]  EB_32   = EB;
  localparam [7:0]   LEN   = LEN_32[7:0];
  localparam [2:0]   SIZE  = SIZE_32[2:0];
  localparam [CNTW-1:0] BEAT_BYTES = BB_32[CNTW-1:0];
  localparam [7:0]      EB_8 = EB_32[7:0];

  generate
    if (W < 32 || W > EBITS || (W & (W - 1)) != 0) begin : g_bad_width
      $error("qmx_cmdq: AXI_DATA_WIDTH must be a power of two from 32 to 1024");
    end
    if (FAIL_SLOTS < 2 || (FAIL_SLOTS & (FAIL_SLOTS - 1)) != 0) begin : g_bad_slots
      $error("qmx_cmdq: FAIL_SLOTS must be a power of two >= 2");
    end
  endgenerate

  localparam [2:0] S_IDLE = 3'd0, S_AR = 3'd1, S_R = 3'd2, S_CHECK = 3'd3,
                   S_START = 3'd4, S_RUN = 3'd5, S_WB = 3'd6, S_B = 3'd7;

  reg [2:0]       state_q;
  reg [EBITS-1:0] desc_q;
  reg [BW-1:0]    beat_q;
  reg             aw_done_q, rd_err_q, fetch_err_q;
  reg [7:0]       err_q;
  reg [63:0]      err_addr_q;
  reg [7:0]       coal_q;
  reg [DW-1:0]    d_busy_q, d_stall_q, d_macs_q, d_srd_q, d_swr_q, d_erd_q, d_ewr_q;
  reg [31:0]      fail_seq_q [0:FAIL_SLOTS-1];
  reg [FAIL_SLOTS-1:0] fail_v_q;
  reg [FW-1:0]    fail_idx_q;
  reg             fail_ovf_q;

  // ------------------------------------------------------------ descriptor fields
  function [31:0] dw32(input integer off);
    dw32 = desc_q[off * 8 +: 32];
  endfunction
  function [63:0] dw64(input integer off);
    dw64 = desc_q[off * 8 +: 64];
  endfunction

  wire [31:0] hdr      = dw32(`QMX_CQD_HEADER_OFF);
  wire [31:0] seq      = dw32(`QMX_CQD_SEQ_OFF);
  wire [31:0] wait_seq = dw32(`QMX_CQD_WAIT_SEQ_OFF);
  assign a_addr_o     = dw64(`QMX_CQD_A_ADDR_OFF);
  assign b_addr_o     = dw64(`QMX_CQD_B_ADDR_OFF);
  assign c_addr_o     = dw64(`QMX_CQD_C_ADDR_OFF);
  assign bias_addr_o  = dw64(`QMX_CQD_BIAS_ADDR_OFF);
  assign mult_addr_o  = dw64(`QMX_CQD_MULT_ADDR_OFF);
  assign shift_addr_o = dw64(`QMX_CQD_SHIFT_ADDR_OFF);
  assign m_o     = dw32(`QMX_CQD_M_OFF);
  assign n_o     = dw32(`QMX_CQD_N_OFF);
  assign k_o     = dw32(`QMX_CQD_K_OFF);
  assign lda_o   = dw32(`QMX_CQD_LDA_OFF);
  assign ldb_o   = dw32(`QMX_CQD_LDB_OFF);
  assign ldc_o   = dw32(`QMX_CQD_LDC_OFF);
  assign a_zp_o  = dw32(`QMX_CQD_A_ZP_OFF);
  assign b_zp_o  = dw32(`QMX_CQD_B_ZP_OFF);
  assign c_zp_o  = dw32(`QMX_CQD_C_ZP_OFF);
  assign qmin_o  = dw32(`QMX_CQD_QMIN_OFF);
  assign qmax_o  = dw32(`QMX_CQD_QMAX_OFF);
  assign mult_o  = dw32(`QMX_CQD_MULT_OFF);
  assign shift_o = dw32(`QMX_CQD_SHIFT_OFF);
  assign flags_o = dw32(`QMX_CQD_FLAGS_OFF);

  wire hdr_ok = hdr[`QMX_CQD_HEADER_VERSION_LSB +: `QMX_CQD_HEADER_VERSION_WIDTH] == `QMX_CQD_HEADER_VERSION_1 &&
                hdr[`QMX_CQD_HEADER_OPCODE_LSB +: `QMX_CQD_HEADER_OPCODE_WIDTH] == `QMX_CQD_HEADER_OPCODE_GEMM &&
                hdr[31:16] == 16'd0;
  wire bad_desc = !hdr_ok || seq == 32'd0 || dw32(`QMX_CQD_RESERVED0_OFF) != 32'd0 ||
                  dw64(`QMX_CQD_RESERVED1_OFF) != 64'd0;

  reg dep_hit;
  integer fi;
  always @* begin
    dep_hit = 1'b0;
    for (fi = 0; fi < FAIL_SLOTS; fi = fi + 1)
      if (fail_v_q[fi] && fail_seq_q[fi] == wait_seq)
        dep_hit = 1'b1;
  end
  wire dep_failed = wait_seq != 32'd0 && (dep_hit || fail_ovf_q);

  // ------------------------------------------------------------ ring addresses
  wire [31:0] slot = head_o & (size_i - 32'd1);
  wire [63:0] slot_off = {32'd0, slot} << EB_LOG2;
  wire [63:0] desc_addr = cq_base_i + slot_off;
  wire [63:0] rec_addr  = cpl_base_i + slot_off;

  // ------------------------------------------------------------ completion record
  wire [DW-1:0] erd_total = d_erd_q + {{(DW - 8){1'b0}}, EB_8};
  wire [DW-1:0] ewr_total = d_ewr_q + {{(DW - 8){1'b0}}, EB_8};
  function [63:0] ext(input [DW-1:0] v);
    ext = {{(64 - DW){1'b0}}, v};
  endfunction
  // A descriptor that could not be read has no trustworthy seq: its record
  // says 0.
  wire [31:0] rec_seq = fetch_err_q ? 32'd0 : seq;
  reg [EBITS-1:0] rec;
  always @* begin
    rec = {EBITS{1'b0}};
    rec[`QMX_CQC_SEQ_OFF * 8 +: 32] = rec_seq;
    rec[`QMX_CQC_STATUS_OFF * 8 + `QMX_CQC_STATUS_VALID_BIT] = 1'b1;
    rec[`QMX_CQC_STATUS_OFF * 8 + `QMX_CQC_STATUS_ERROR_LSB +: `QMX_CQC_STATUS_ERROR_WIDTH] = err_q;
    rec[`QMX_CQC_ERROR_ADDR_OFF * 8 +: 64]    = err_addr_q;
    rec[`QMX_CQC_BUSY_CYCLES_OFF * 8 +: 64]   = ext(d_busy_q);
    rec[`QMX_CQC_STALL_CYCLES_OFF * 8 +: 64]  = ext(d_stall_q);
    rec[`QMX_CQC_MACS_OFF * 8 +: 64]          = ext(d_macs_q);
    rec[`QMX_CQC_SRAM_RD_BYTES_OFF * 8 +: 64] = ext(d_srd_q);
    rec[`QMX_CQC_SRAM_WR_BYTES_OFF * 8 +: 64] = ext(d_swr_q);
    rec[`QMX_CQC_EXT_RD_BYTES_OFF * 8 +: 64]  = ext(erd_total);
    rec[`QMX_CQC_EXT_WR_BYTES_OFF * 8 +: 64]  = ext(ewr_total);
  end

  // ------------------------------------------------------------ AXI
  wire last_w = beat_q == LEN[BW-1:0];
  assign m_axi_arvalid = state_q == S_AR;
  assign m_axi_araddr  = desc_addr[AXI_ADDR_WIDTH-1:0];
  assign m_axi_arid    = {AXI_ID_WIDTH{1'b0}};
  assign m_axi_arlen   = LEN;
  assign m_axi_arsize  = SIZE;
  assign m_axi_arburst = 2'b01;
  assign m_axi_rready  = state_q == S_R;
  assign m_axi_awvalid = state_q == S_WB && !aw_done_q;
  assign m_axi_awaddr  = rec_addr[AXI_ADDR_WIDTH-1:0];
  assign m_axi_awid    = {AXI_ID_WIDTH{1'b0}};
  assign m_axi_awlen   = LEN;
  assign m_axi_awsize  = SIZE;
  assign m_axi_awburst = 2'b01;
  assign m_axi_wvalid  = state_q == S_WB && beat_q != BEATS[BW-1:0];
  assign m_axi_wdata   = rec[beat_q * W +: W];
  assign m_axi_wstrb   = {(W / 8){1'b1}};
  assign m_axi_wlast   = last_w;
  assign m_axi_bready  = state_q == S_B;

  wire r_fire  = m_axi_rvalid && m_axi_rready;
  wire w_fire  = m_axi_wvalid && m_axi_wready;
  wire aw_fire = m_axi_awvalid && m_axi_awready;
  wire [CNTW-1:0] z = {CNTW{1'b0}};
  assign ext_rd_inc_o = r_fire ? BEAT_BYTES : z;
  assign ext_wr_inc_o = w_fire ? BEAT_BYTES : z;

  assign bus_o        = state_q == S_AR || state_q == S_R || state_q == S_WB || state_q == S_B;
  assign own_o        = state_q != S_IDLE;
  assign job_o        = state_q == S_RUN;
  assign running_o    = state_q != S_IDLE;
  assign core_start_o = state_q == S_START;

  // ------------------------------------------------------------ sequencing
  wire pending = tail_i != head_o;
  wire drained = head_o + 32'd1 == tail_i;
  wire [7:0] coal_n = coal_q + 8'd1;
  function [DW-1:0] inc(input [CNTW-1:0] v);
    inc = {{(DW - CNTW){1'b0}}, v};
  endfunction

  integer ci;
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q    <= S_IDLE;
      desc_q     <= {EBITS{1'b0}};
      beat_q     <= {BW{1'b0}};
      aw_done_q  <= 1'b0;
      rd_err_q   <= 1'b0;
      fetch_err_q <= 1'b0;
      err_q      <= 8'd0;
      err_addr_q <= 64'd0;
      coal_q     <= 8'd0;
      head_o     <= 32'd0;
      done_seq_o <= 32'd0;
      irq_o      <= 1'b0;
      fail_v_q   <= {FAIL_SLOTS{1'b0}};
      fail_idx_q <= {FW{1'b0}};
      fail_ovf_q <= 1'b0;
      d_busy_q <= {DW{1'b0}}; d_stall_q <= {DW{1'b0}}; d_macs_q <= {DW{1'b0}};
      d_srd_q  <= {DW{1'b0}}; d_swr_q   <= {DW{1'b0}}; d_erd_q  <= {DW{1'b0}};
      d_ewr_q  <= {DW{1'b0}};
      for (ci = 0; ci < FAIL_SLOTS; ci = ci + 1)
        fail_seq_q[ci] <= 32'd0;
    end else begin
      irq_o <= 1'b0;
      if (srst_i || (enable_wr_i && state_q == S_IDLE)) begin
        fail_v_q   <= {FAIL_SLOTS{1'b0}};
        fail_idx_q <= {FW{1'b0}};
        fail_ovf_q <= 1'b0;
        coal_q     <= 8'd0;
      end
      // SOFT_RESET abandons a burst in flight, as qmx_core does (the
      // interconnect is reset with it).
      if (srst_i) begin
        head_o  <= 32'd0;
        state_q <= S_IDLE;
      end else case (state_q)
        S_IDLE: begin
          if (enable_i && pending && !core_busy_i && !reg_start_i)
            state_q <= S_AR;
        end
        S_AR: begin
          beat_q   <= {BW{1'b0}};
          rd_err_q <= 1'b0;
          if (m_axi_arready)
            state_q <= S_R;
        end
        S_R: if (r_fire) begin
          desc_q[beat_q * W +: W] <= m_axi_rdata;
          if (m_axi_rresp[1])
            rd_err_q <= 1'b1;
          beat_q <= beat_q + 1'b1;
          if (beat_q == LEN[BW-1:0])
            state_q <= S_CHECK;
        end
        S_CHECK: begin
          d_busy_q <= {DW{1'b0}}; d_stall_q <= {DW{1'b0}}; d_macs_q <= {DW{1'b0}};
          d_srd_q  <= {DW{1'b0}}; d_swr_q   <= {DW{1'b0}}; d_erd_q  <= {DW{1'b0}};
          d_ewr_q  <= {DW{1'b0}};
          err_addr_q <= 64'd0;
          beat_q     <= {BW{1'b0}};
          aw_done_q  <= 1'b0;
          fetch_err_q <= rd_err_q;
          if (rd_err_q) begin
            err_q      <= `QMX_ERROR_AXI_READ;
            err_addr_q <= desc_addr;
            state_q    <= S_WB;
          end else if (bad_desc) begin
            err_q   <= `QMX_ERROR_BAD_DESC;
            state_q <= S_WB;
          end else if (dep_failed) begin
            err_q   <= `QMX_ERROR_DEP_FAILED;
            state_q <= S_WB;
          end else begin
            err_q   <= 8'd0;
            state_q <= S_START;
          end
        end
        S_START: if (core_accept_i) state_q <= S_RUN;
        S_RUN: begin
          d_busy_q  <= d_busy_q + {{(DW - 1){1'b0}}, core_busy_i};
          d_stall_q <= d_stall_q + {{(DW - 1){1'b0}}, stall_i};
          d_macs_q  <= d_macs_q + inc(macs_inc_i);
          d_srd_q   <= d_srd_q + inc(sram_rd_inc_i);
          d_swr_q   <= d_swr_q + inc(sram_wr_inc_i);
          d_erd_q   <= d_erd_q + inc(ext_rd_inc_i);
          d_ewr_q   <= d_ewr_q + inc(ext_wr_inc_i);
          if (core_done_i) begin
            err_q      <= core_error_i;
            err_addr_q <= core_error_addr_i;
            state_q    <= S_WB;
          end
        end
        S_WB: begin
          if (aw_fire)
            aw_done_q <= 1'b1;
          if (w_fire)
            beat_q <= beat_q + 1'b1;
          if ((aw_done_q || aw_fire) && (beat_q == BEATS[BW-1:0] || (w_fire && last_w)))
            state_q <= S_B;
        end
        S_B: if (m_axi_bvalid) begin
          state_q    <= S_IDLE;
          head_o     <= head_o + 32'd1;
          done_seq_o <= rec_seq;
          if (fetch_err_q) begin
            // which seq failed is unknown: every later wait fails
            fail_ovf_q <= 1'b1;
          end else if (err_q != 8'd0) begin
            fail_seq_q[fail_idx_q] <= seq;
            fail_v_q[fail_idx_q]   <= 1'b1;
            fail_idx_q             <= fail_idx_q + 1'b1;
            if (fail_v_q[fail_idx_q])
              fail_ovf_q <= 1'b1;
          end
          if (coal_n >= coalesce_i || drained) begin
            irq_o  <= 1'b1;
            coal_q <= 8'd0;
          end else begin
            coal_q <= coal_n;
          end
        end
      endcase
    end
  end

  // A record write error cannot be reported in the record itself; the
  // record is counted as written (HEAD advances) like any other.
  wire unused_ok = &{1'b0, m_axi_bresp, m_axi_rresp[0]};

endmodule

`default_nettype wire
