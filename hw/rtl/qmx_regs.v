// SPDX-License-Identifier: MIT
// qmx_regs - AXI4-Lite register block: Vitis ap_ctrl_hs control, job
// arguments, identity, error status and 64-bit activity counters.
//
// Offsets and fields come from the generated qmx_regs.vh (the register map
// is the one source).  One write and one read are handled at a time.
// Unmapped or write-only addresses read 0 with an OKAY response; writes to
// read-only or unmapped addresses are ignored (OKAY).  ISR bits record the
// done/ready events whatever IER says; the interrupt line is
// GIE & |(ISR & IER).  Reading a counter's LO word latches its HI word.
// Command queue: CQ_* configuration lives here, HEAD and the engine in
// qmx_cmdq; AP_START is ignored while CQ_CTRL.ENABLE is set, and queued jobs
// raise ISR.CQ (coalesced) instead of AP_DONE.
`default_nettype none
`include "qmx_regs.vh"
`include "qmx_defs.vh"

module qmx_regs #(
  parameter integer ARRAY_ROWS = 8,
  parameter integer ARRAY_COLS = 8,
  parameter integer AXI_DATA_WIDTH = 64,
  parameter integer AXI_ADDR_WIDTH = 64,
  parameter integer CLOCK_KHZ = 250000,
  parameter integer MAX_DIM = `QMX_DEF_MAX_DIM,
  parameter integer CNTW = 16      // width of the per-cycle counter increments
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  output wire        interrupt_o,
  // AXI4-Lite
  input  wire        awvalid_i,
  output wire        awready_o,
  input  wire [8:0]  awaddr_i,
  input  wire        wvalid_i,
  output wire        wready_o,
  input  wire [31:0] wdata_i,
  input  wire [3:0]  wstrb_i,
  output wire        bvalid_o,
  input  wire        bready_i,
  output wire [1:0]  bresp_o,
  input  wire        arvalid_i,
  output wire        arready_o,
  input  wire [8:0]  araddr_i,
  output wire        rvalid_o,
  input  wire        rready_i,
  output wire [31:0] rdata_o,
  output wire [1:0]  rresp_o,
  // to / from the engine
  output wire        start_o,       // AP_START is set
  output wire        soft_reset_o,  // one-cycle pulse
  input  wire        accept_i,      // the engine took the job
  input  wire        done_i,        // the job ended (pulse)
  input  wire        busy_i,
  input  wire [7:0]  error_i,
  input  wire [63:0] error_addr_i,
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
  // counter increments, per cycle
  input  wire              stall_i,
  input  wire [CNTW-1:0]   macs_inc_i,
  input  wire [CNTW-1:0]   sram_rd_inc_i,
  input  wire [CNTW-1:0]   sram_wr_inc_i,
  input  wire [CNTW-1:0]   ext_rd_inc_i,
  input  wire [CNTW-1:0]   ext_wr_inc_i,
  // command queue (qmx_cmdq)
  input  wire              cq_job_i,      // the job ending is a queued one
  input  wire              cq_irq_i,      // coalesced completion event
  input  wire [31:0]       cq_head_i,
  input  wire              cq_running_i,
  input  wire [31:0]       cq_done_seq_i,
  output wire [63:0]       cq_base_o,
  output wire [63:0]       cq_cpl_base_o,
  output wire [31:0]       cq_size_o,
  output wire [31:0]       cq_tail_o,
  output wire              cq_enable_o,
  output wire              cq_enable_wr_o,
  output wire [7:0]        cq_coalesce_o
);

  // ------------------------------------------------------------ arguments
  // Index of each 32-bit argument word, (offset - 0x10) / 4.
  localparam integer NARG = 26;
  reg [31:0] arg_q [0:NARG-1];
  function integer argi(input [8:0] off);
    argi = ({23'd0, off} - {23'd0, `QMX_REG_A_ADDR_LO}) >> 2;
  endfunction

  assign a_addr_o     = {arg_q[argi(`QMX_REG_A_ADDR_HI)],     arg_q[argi(`QMX_REG_A_ADDR_LO)]};
  assign b_addr_o     = {arg_q[argi(`QMX_REG_B_ADDR_HI)],     arg_q[argi(`QMX_REG_B_ADDR_LO)]};
  assign c_addr_o     = {arg_q[argi(`QMX_REG_C_ADDR_HI)],     arg_q[argi(`QMX_REG_C_ADDR_LO)]};
  assign bias_addr_o  = {arg_q[argi(`QMX_REG_BIAS_ADDR_HI)],  arg_q[argi(`QMX_REG_BIAS_ADDR_LO)]};
  assign mult_addr_o  = {arg_q[argi(`QMX_REG_MULT_ADDR_HI)],  arg_q[argi(`QMX_REG_MULT_ADDR_LO)]};
  assign shift_addr_o = {arg_q[argi(`QMX_REG_SHIFT_ADDR_HI)], arg_q[argi(`QMX_REG_SHIFT_ADDR_LO)]};
  assign m_o     = arg_q[argi(`QMX_REG_M)];
  assign n_o     = arg_q[argi(`QMX_REG_N)];
  assign k_o     = arg_q[argi(`QMX_REG_K)];
  assign lda_o   = arg_q[argi(`QMX_REG_LDA)];
  assign ldb_o   = arg_q[argi(`QMX_REG_LDB)];
  assign ldc_o   = arg_q[argi(`QMX_REG_LDC)];
  assign a_zp_o  = arg_q[argi(`QMX_REG_A_ZP)];
  assign b_zp_o  = arg_q[argi(`QMX_REG_B_ZP)];
  assign c_zp_o  = arg_q[argi(`QMX_REG_C_ZP)];
  assign qmin_o  = arg_q[argi(`QMX_REG_QMIN)];
  assign qmax_o  = arg_q[argi(`QMX_REG_QMAX)];
  assign mult_o  = arg_q[argi(`QMX_REG_MULT)];
  assign shift_o = arg_q[argi(`QMX_REG_SHIFT)];
  assign flags_o = arg_q[argi(`QMX_REG_FLAGS)];

  // ------------------------------------------------------------ AXI-Lite handshakes
  reg        bvalid_q, rvalid_q;
  reg [31:0] rdata_q;
  wire       wr_fire = awvalid_i && wvalid_i && !bvalid_q;
  wire       rd_fire = arvalid_i && !rvalid_q;

  assign awready_o = wr_fire;
  assign wready_o  = wr_fire;
  assign bvalid_o  = bvalid_q;
  assign bresp_o   = 2'b00;
  assign arready_o = rd_fire;
  assign rvalid_o  = rvalid_q;
  assign rdata_o   = rdata_q;
  assign rresp_o   = 2'b00;

  // Registers are word-aligned: address bits [1:0] are ignored.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [8:0]  waddr = {awaddr_i[8:2], 2'b00};
  wire [8:0]  raddr = {araddr_i[8:2], 2'b00};
  wire [8:0]  woff  = waddr - `QMX_REG_A_ADDR_LO;
  wire [8:0]  roff  = raddr - `QMX_REG_A_ADDR_LO;
  /* verilator lint_on UNUSEDSIGNAL */
  wire unused_addr = &{1'b0, awaddr_i[1:0], araddr_i[1:0]};
  wire [31:0] wmask = {{8{wstrb_i[3]}}, {8{wstrb_i[2]}}, {8{wstrb_i[1]}}, {8{wstrb_i[0]}}};

  always @(posedge clk_i) begin
    if (!rst_ni)
      bvalid_q <= 1'b0;
    else if (wr_fire)
      bvalid_q <= 1'b1;
    else if (bready_i)
      bvalid_q <= 1'b0;
  end

  // ------------------------------------------------------------ control
  reg ap_start_q, ap_done_q, ap_ready_q, gie_q;
  reg [2:0] ier_q, isr_q;
  reg [63:0] cq_base_q, cq_cpl_q;
  // Ring bases are aligned to one entry (hw/regmap: cq.entry_bytes).
  localparam [63:0] CQ_ALIGN_MASK = `QMX_CQ_ENTRY_BYTES - 1;
  reg [31:0] cq_size_q, cq_tail_q;
  reg        cq_en_q, cq_badcfg_q;
  reg [7:0]  cq_coal_q;
  wire       reg_done = done_i && !cq_job_i;

  wire ctrl_wr  = wr_fire && waddr == `QMX_REG_CTRL && wstrb_i[0];
  wire ctrl_rd  = rd_fire && raddr == `QMX_REG_CTRL;
  wire isr_wr   = wr_fire && waddr == `QMX_REG_ISR && wstrb_i[0];
  wire soft_rst = wr_fire && waddr == `QMX_REG_SOFT_RESET && wstrb_i == 4'hf &&
                  wdata_i == `QMX_SOFT_RESET_KEY;
  reg  soft_rst_q;

  assign start_o      = ap_start_q;
  assign soft_reset_o = soft_rst_q;
  assign interrupt_o  = gie_q && |(isr_q & ier_q);

  // ENABLE is refused unless the ring size is a power of two in range and
  // both bases are entry-aligned.
  wire cq_ctrl_wr = wr_fire && waddr == `QMX_REG_CQ_CTRL;
  wire cq_cfg_ok  = cq_size_q >= `QMX_CQ_SIZE_MIN && cq_size_q <= `QMX_CQ_SIZE_MAX &&
                    (cq_size_q & (cq_size_q - 32'd1)) == 32'd0 &&
                    (cq_base_q & CQ_ALIGN_MASK) == 64'd0 && (cq_cpl_q & CQ_ALIGN_MASK) == 64'd0;
  assign cq_base_o      = cq_base_q;
  assign cq_cpl_base_o  = cq_cpl_q;
  assign cq_size_o      = cq_size_q;
  assign cq_tail_o      = cq_tail_q;
  assign cq_enable_o    = cq_en_q;
  assign cq_enable_wr_o = cq_ctrl_wr && wdata_i[`QMX_CQ_CTRL_ENABLE_BIT] && cq_cfg_ok;
  assign cq_coalesce_o  = cq_coal_q;

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      cq_base_q   <= 64'd0;
      cq_cpl_q    <= 64'd0;
      cq_size_q   <= 32'd0;
      cq_tail_q   <= 32'd0;
      cq_en_q     <= 1'b0;
      cq_badcfg_q <= 1'b0;
      cq_coal_q   <= 8'd0;
    end else if (soft_rst_q) begin
      cq_en_q   <= 1'b0;
      cq_tail_q <= 32'd0;
    end else if (wr_fire) begin
      case (waddr)
        `QMX_REG_CQ_BASE_LO:     cq_base_q[31:0]  <= (cq_base_q[31:0] & ~wmask) | (wdata_i & wmask);
        `QMX_REG_CQ_BASE_HI:     cq_base_q[63:32] <= (cq_base_q[63:32] & ~wmask) | (wdata_i & wmask);
        `QMX_REG_CQ_CPL_BASE_LO: cq_cpl_q[31:0]   <= (cq_cpl_q[31:0] & ~wmask) | (wdata_i & wmask);
        `QMX_REG_CQ_CPL_BASE_HI: cq_cpl_q[63:32]  <= (cq_cpl_q[63:32] & ~wmask) | (wdata_i & wmask);
        `QMX_REG_CQ_SIZE:        cq_size_q <= (cq_size_q & ~wmask) | (wdata_i & wmask);
        `QMX_REG_CQ_TAIL:        cq_tail_q <= (cq_tail_q & ~wmask) | (wdata_i & wmask);
        `QMX_REG_CQ_CTRL: begin
          cq_en_q     <= wdata_i[`QMX_CQ_CTRL_ENABLE_BIT] && cq_cfg_ok;
          cq_badcfg_q <= wdata_i[`QMX_CQ_CTRL_ENABLE_BIT] && !cq_cfg_ok;
          cq_coal_q   <= wdata_i[`QMX_CQ_CTRL_COALESCE_LSB +: `QMX_CQ_CTRL_COALESCE_WIDTH];
        end
        default: ;
      endcase
    end
  end

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      ap_start_q <= 1'b0;
      ap_done_q  <= 1'b0;
      ap_ready_q <= 1'b0;
      gie_q      <= 1'b0;
      ier_q      <= 3'b000;
      isr_q      <= 3'b000;
      soft_rst_q <= 1'b0;
    end else begin
      soft_rst_q <= soft_rst;
      if (soft_rst_q || accept_i || cq_en_q)
        ap_start_q <= 1'b0;
      else if (ctrl_wr && wdata_i[`QMX_CTRL_AP_START_BIT] && !busy_i)
        ap_start_q <= 1'b1;
      // Events win over the clear-on-read of the same cycle.
      if (reg_done)
        ap_done_q <= 1'b1;
      else if (ctrl_rd)
        ap_done_q <= 1'b0;
      if (reg_done)
        ap_ready_q <= 1'b1;
      else if (ctrl_rd)
        ap_ready_q <= 1'b0;
      if (wr_fire && waddr == `QMX_REG_GIE && wstrb_i[0])
        gie_q <= wdata_i[`QMX_GIE_ENABLE_BIT];
      if (wr_fire && waddr == `QMX_REG_IER && wstrb_i[0]) begin
        ier_q[0] <= wdata_i[`QMX_IER_DONE_BIT];
        ier_q[1] <= wdata_i[`QMX_IER_READY_BIT];
        ier_q[2] <= wdata_i[`QMX_IER_CQ_BIT];
      end
      if (reg_done)
        isr_q[0] <= 1'b1;
      else if (isr_wr && wdata_i[`QMX_ISR_DONE_BIT])
        isr_q[0] <= ~isr_q[0];
      if (reg_done)
        isr_q[1] <= 1'b1;
      else if (isr_wr && wdata_i[`QMX_ISR_READY_BIT])
        isr_q[1] <= ~isr_q[1];
      if (cq_irq_i)
        isr_q[2] <= 1'b1;
      else if (isr_wr && wdata_i[`QMX_ISR_CQ_BIT])
        isr_q[2] <= ~isr_q[2];
    end
  end

  integer ai;
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      for (ai = 0; ai < NARG; ai = ai + 1)
        arg_q[ai] <= 32'd0;
    end else if (wr_fire && waddr >= `QMX_REG_A_ADDR_LO && waddr <= `QMX_REG_FLAGS) begin
      arg_q[woff[6:2]] <= (arg_q[woff[6:2]] & ~wmask) | (wdata_i & wmask);
    end
  end

  // ------------------------------------------------------------ counters
  reg [63:0] cnt_busy_q, cnt_stall_q, cnt_macs_q, cnt_srd_q, cnt_swr_q;
  reg [63:0] cnt_erd_q, cnt_ewr_q, cnt_jobs_q;
  reg [31:0] hi_latch_q;

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      cnt_busy_q  <= 64'd0;
      cnt_stall_q <= 64'd0;
      cnt_macs_q  <= 64'd0;
      cnt_srd_q   <= 64'd0;
      cnt_swr_q   <= 64'd0;
      cnt_erd_q   <= 64'd0;
      cnt_ewr_q   <= 64'd0;
      cnt_jobs_q  <= 64'd0;
    end else begin
      cnt_busy_q  <= cnt_busy_q + {63'd0, busy_i};
      cnt_stall_q <= cnt_stall_q + {63'd0, stall_i};
      cnt_macs_q  <= cnt_macs_q + {{(64-CNTW){1'b0}}, macs_inc_i};
      cnt_srd_q   <= cnt_srd_q + {{(64-CNTW){1'b0}}, sram_rd_inc_i};
      cnt_swr_q   <= cnt_swr_q + {{(64-CNTW){1'b0}}, sram_wr_inc_i};
      cnt_erd_q   <= cnt_erd_q + {{(64-CNTW){1'b0}}, ext_rd_inc_i};
      cnt_ewr_q   <= cnt_ewr_q + {{(64-CNTW){1'b0}}, ext_wr_inc_i};
      cnt_jobs_q  <= cnt_jobs_q + {63'd0, done_i};
    end
  end

  // ------------------------------------------------------------ read mux
  localparam [31:0] ARRAY_V = (ARRAY_COLS << `QMX_ARRAY_COLS_LSB) | (ARRAY_ROWS << `QMX_ARRAY_ROWS_LSB);
  localparam [31:0] BUS_V   = (AXI_ADDR_WIDTH << `QMX_BUS_ADDR_BITS_LSB) | (AXI_DATA_WIDTH << `QMX_BUS_DATA_BITS_LSB);
  localparam [31:0] FEAT_V  = (1 << `QMX_FEATURES_INT32_OUT_BIT) | (1 << `QMX_FEATURES_INT8_OUT_BIT) |
                              (1 << `QMX_FEATURES_PER_CHANNEL_BIT) | (1 << `QMX_FEATURES_BIAS_BIT) |
                              (1 << `QMX_FEATURES_DOUBLE_BUFFER_BIT) | (1 << `QMX_FEATURES_COUNTERS_BIT) |
                              (1 << `QMX_FEATURES_CMD_QUEUE_BIT);
  localparam [31:0] CLOCK_V = CLOCK_KHZ;
  localparam [31:0] MAXD_V  = MAX_DIM;

  reg [31:0] rmux;
  reg        lo_rd;
  reg [31:0] hi_val;
  always @* begin
    rmux   = 32'd0;
    lo_rd  = 1'b0;
    hi_val = 32'd0;
    if (raddr >= `QMX_REG_A_ADDR_LO && raddr <= `QMX_REG_FLAGS)
      rmux = arg_q[roff[6:2]];
    case (raddr)
      `QMX_REG_CTRL: begin
        rmux[`QMX_CTRL_AP_START_BIT] = ap_start_q;
        rmux[`QMX_CTRL_AP_DONE_BIT]  = ap_done_q;
        rmux[`QMX_CTRL_AP_IDLE_BIT]  = !busy_i && !ap_start_q;
        rmux[`QMX_CTRL_AP_READY_BIT] = ap_ready_q;
      end
      `QMX_REG_GIE: rmux[`QMX_GIE_ENABLE_BIT] = gie_q;
      `QMX_REG_IER: begin
        rmux[`QMX_IER_DONE_BIT]  = ier_q[0];
        rmux[`QMX_IER_READY_BIT] = ier_q[1];
        rmux[`QMX_IER_CQ_BIT]    = ier_q[2];
      end
      `QMX_REG_ISR: begin
        rmux[`QMX_ISR_DONE_BIT]  = isr_q[0];
        rmux[`QMX_ISR_READY_BIT] = isr_q[1];
        rmux[`QMX_ISR_CQ_BIT]    = isr_q[2];
      end
      `QMX_REG_CQ_BASE_LO:     rmux = cq_base_q[31:0];
      `QMX_REG_CQ_BASE_HI:     rmux = cq_base_q[63:32];
      `QMX_REG_CQ_CPL_BASE_LO: rmux = cq_cpl_q[31:0];
      `QMX_REG_CQ_CPL_BASE_HI: rmux = cq_cpl_q[63:32];
      `QMX_REG_CQ_SIZE:        rmux = cq_size_q;
      `QMX_REG_CQ_TAIL:        rmux = cq_tail_q;
      `QMX_REG_CQ_HEAD:        rmux = cq_head_i;
      `QMX_REG_CQ_CTRL: begin
        rmux[`QMX_CQ_CTRL_ENABLE_BIT] = cq_en_q;
        rmux[`QMX_CQ_CTRL_COALESCE_LSB +: `QMX_CQ_CTRL_COALESCE_WIDTH] = cq_coal_q;
      end
      `QMX_REG_CQ_STATUS: begin
        rmux[`QMX_CQ_STATUS_RUNNING_BIT]    = cq_running_i;
        rmux[`QMX_CQ_STATUS_BAD_CONFIG_BIT] = cq_badcfg_q;
      end
      `QMX_REG_CQ_DONE_SEQ:    rmux = cq_done_seq_i;
      `QMX_REG_MAGIC:     rmux = `QMX_MAP_MAGIC;
      `QMX_REG_VERSION:   rmux = `QMX_MAP_VERSION;
      `QMX_REG_ARRAY:     rmux = ARRAY_V;
      `QMX_REG_BUS:       rmux = BUS_V;
      `QMX_REG_CLOCK_KHZ: rmux = CLOCK_V;
      `QMX_REG_FEATURES:  rmux = FEAT_V;
      `QMX_REG_MAX_DIM:   rmux = MAXD_V;
      `QMX_REG_ERROR:     rmux = {24'd0, error_i};
      `QMX_REG_ERROR_ADDR_LO: rmux = error_addr_i[31:0];
      `QMX_REG_ERROR_ADDR_HI: rmux = error_addr_i[63:32];
      `QMX_REG_CNT_BUSY_CYCLES_LO:   begin rmux = cnt_busy_q[31:0];  lo_rd = 1'b1; hi_val = cnt_busy_q[63:32];  end
      `QMX_REG_CNT_STALL_CYCLES_LO:  begin rmux = cnt_stall_q[31:0]; lo_rd = 1'b1; hi_val = cnt_stall_q[63:32]; end
      `QMX_REG_CNT_MACS_LO:          begin rmux = cnt_macs_q[31:0];  lo_rd = 1'b1; hi_val = cnt_macs_q[63:32];  end
      `QMX_REG_CNT_SRAM_RD_BYTES_LO: begin rmux = cnt_srd_q[31:0];   lo_rd = 1'b1; hi_val = cnt_srd_q[63:32];   end
      `QMX_REG_CNT_SRAM_WR_BYTES_LO: begin rmux = cnt_swr_q[31:0];   lo_rd = 1'b1; hi_val = cnt_swr_q[63:32];   end
      `QMX_REG_CNT_EXT_RD_BYTES_LO:  begin rmux = cnt_erd_q[31:0];   lo_rd = 1'b1; hi_val = cnt_erd_q[63:32];   end
      `QMX_REG_CNT_EXT_WR_BYTES_LO:  begin rmux = cnt_ewr_q[31:0];   lo_rd = 1'b1; hi_val = cnt_ewr_q[63:32];   end
      `QMX_REG_CNT_JOBS_LO:          begin rmux = cnt_jobs_q[31:0];  lo_rd = 1'b1; hi_val = cnt_jobs_q[63:32];  end
      `QMX_REG_CNT_BUSY_CYCLES_HI, `QMX_REG_CNT_STALL_CYCLES_HI, `QMX_REG_CNT_MACS_HI,
      `QMX_REG_CNT_SRAM_RD_BYTES_HI, `QMX_REG_CNT_SRAM_WR_BYTES_HI,
      `QMX_REG_CNT_EXT_RD_BYTES_HI, `QMX_REG_CNT_EXT_WR_BYTES_HI, `QMX_REG_CNT_JOBS_HI:
        rmux = hi_latch_q;
      default: ;
    endcase
  end

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      rvalid_q   <= 1'b0;
      rdata_q    <= 32'd0;
      hi_latch_q <= 32'd0;
    end else begin
      if (rd_fire) begin
        rvalid_q <= 1'b1;
        rdata_q  <= rmux;
        if (lo_rd)
          hi_latch_q <= hi_val;
      end else if (rready_i) begin
        rvalid_q <= 1'b0;
      end
    end
  end

endmodule

`default_nettype wire
