// SPDX-License-Identifier: MIT
// qmx_drain - the output engine's front half: when the array publishes the
// sums of a sub-tile it reads them out (one per cycle, row by row), applies
// bias and requantization (qmx_requant, with the block's per-channel vectors
// from their own buffers) and fills a row segment for the writer.  Segments
// are double-buffered (slots 0/1, owned by qmx_writer once full).
`default_nettype none
`include "qmx_defs.vh"

module qmx_drain #(
  parameter integer ARRAY_ROWS = 8,
  parameter integer ARRAY_COLS = 8,
  parameter integer AXI_DATA_WIDTH = 64,
  parameter integer TILE_P = `QMX_DEF_TILE_P,
  parameter integer TILE_Q = `QMX_DEF_TILE_Q,
  parameter integer TILE_K = `QMX_DEF_TILE_K,
  parameter integer WAW = 12
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        job_go_i,
  input  wire        abort_i,
  input  wire        busy_i,
  input  wire [31:0] ldc_i,
  input  wire [1:0]  esh_i,
  input  wire        hb_i,
  input  wire        pc_i,
  input  wire        int8_i,
  input  wire [31:0] mult_i,
  input  wire [31:0] shift_i,
  input  wire [31:0] c_zp_i,
  input  wire [31:0] qmin_i,
  input  wire [31:0] qmax_i,
  // From the sequencer: a sub-tile's last step issues, and its descriptor.
  input  wire        take_i,
  input  wire [31:0] d_rv_i,
  input  wire [31:0] d_cv_i,
  /* verilator lint_off UNUSEDSIGNAL */
  input  wire [31:0] d_q_i,
  /* verilator lint_on UNUSEDSIGNAL */
  input  wire        d_ph_i,
  input  wire        d_final_i,
  input  wire [63:0] d_caddr_i,
  output reg         last_pending_o,
  // The array: its sums are readable from the cycle after arr_last_i.
  input  wire        arr_last_i,
  output wire [$clog2(ARRAY_ROWS*ARRAY_COLS)-1:0] res_sel_o,
  input  wire [31:0] res_i,
  // Per-channel vectors, written by the loader.
  input  wire        wr_i,
  input  wire [2:0]  wr_kind_i,
  input  wire [WAW-1:0] wr_addr_i,
  input  wire [AXI_DATA_WIDTH-1:0] wr_data_i,
  input  wire        off_we_i,
  input  wire [2:0]  off_kind_i,
  input  wire        off_phalf_i,
  input  wire [$clog2(AXI_DATA_WIDTH/8)-1:0] off_val_i,
  // Segments: allocate a slot (address, element count), then fill it.
  input  wire [1:0]  seg_busy_i,
  output wire        alloc_o,
  output reg         slot_o,
  output reg  [63:0] alloc_addr_o,
  output wire [31:0] alloc_n_o,
  output wire        rq_v_o,
  output wire [((ARRAY_COLS > 1) ? $clog2(ARRAY_COLS) : 1)+1:0] rq_tag_o, // {slot, last, column}
  output wire [31:0] rq_res_o,
  output wire        emit_o,         // one element read this cycle
  output wire        final_done_o,   // last element of a block read
  output wire        idle_o
);
  `include "qmx_geom.vh"
  localparam integer BAW = WAW + OFW;
  localparam integer SELW = $clog2(R * C);

  localparam [1:0] D_IDLE = 2'd0, D_ROW = 2'd1, D_EL = 2'd2;
  reg [1:0]  d_state;
  reg        d_fire_q;
  reg [31:0] d_i, d_j;

  reg [OFW-1:0] poff_q [0:5];        // {kind, half}

  wire [63:0] ldc_bytes = {32'd0, ldc_i} << esh_i;
  assign emit_o = busy_i && !abort_i && d_state == D_EL;
  wire        d_jlast = d_j + 1 >= d_cv_i;
  wire        d_ilast = d_i + 1 >= d_rv_i;
  assign alloc_o   = !abort_i && d_state == D_ROW && !seg_busy_i[slot_o];
  assign alloc_n_o = d_cv_i;
  assign final_done_o = emit_o && d_jlast && d_ilast && d_final_i;
  assign idle_o = d_state == D_IDLE;

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      d_state        <= D_IDLE;
      d_fire_q       <= 1'b0;
      last_pending_o <= 1'b0;
      slot_o         <= 1'b0;
    end else begin
      d_fire_q <= arr_last_i;
      if (job_go_i) begin
        d_state        <= D_IDLE;
        last_pending_o <= 1'b0;
        slot_o         <= 1'b0;
      end else if (abort_i) begin
        d_state <= D_IDLE;
      end else begin
        if (take_i)
          last_pending_o <= 1'b1;
        case (d_state)
          D_IDLE: if (d_fire_q) begin
            d_i          <= 32'd0;
            alloc_addr_o <= d_caddr_i;
            d_state      <= D_ROW;
          end
          D_ROW: if (!seg_busy_i[slot_o]) begin
            d_j     <= 32'd0;
            d_state <= D_EL;
          end
          D_EL: begin
            if (!d_jlast) begin
              d_j <= d_j + 1;
            end else begin
              slot_o <= !slot_o;
              if (!d_ilast) begin
                d_i          <= d_i + 1;
                alloc_addr_o <= alloc_addr_o + ldc_bytes;
                d_state      <= D_ROW;
              end else begin
                last_pending_o <= 1'b0;
                d_state        <= D_IDLE;
              end
            end
          end
          default: ;
        endcase
      end
    end
  end

  always @(posedge clk_i) begin
    if (busy_i && off_we_i && off_kind_i <= K_SHIFT)
      poff_q[{off_kind_i[1:0], off_phalf_i}] <= off_val_i;
  end

  // Per-channel vectors: read the three at column q*COLS + j of the block.
  wire [BAW-1:0] p_ra_base = (d_ph_i ? RWP32[BAW-1:0] : {BAW{1'b0}}) << OFW;
  wire [BAW-1:0] p_col = ((d_q_i[BAW-1:0] * C32[BAW-1:0]) + d_j[BAW-1:0]) << 2;
  wire [31:0] bias_x, mult_x, shift_x;
  wire        pw_fire = wr_i && wr_kind_i <= K_SHIFT;

  qmx_xbuf #(.WB(WB), .RDB(4), .DEPTH(PDEPTH), .WAW(WAW), .BAW(BAW)) i_bias (
    .clk_i (clk_i), .we_i (pw_fire && wr_kind_i == K_BIAS), .waddr_i (wr_addr_i), .wdata_i (wr_data_i),
    .raddr_i (p_ra_base + {{(BAW-OFW){1'b0}}, poff_q[{2'd0, d_ph_i}]} + p_col), .rdata_o (bias_x));
  qmx_xbuf #(.WB(WB), .RDB(4), .DEPTH(PDEPTH), .WAW(WAW), .BAW(BAW)) i_mult (
    .clk_i (clk_i), .we_i (pw_fire && wr_kind_i == K_MULT), .waddr_i (wr_addr_i), .wdata_i (wr_data_i),
    .raddr_i (p_ra_base + {{(BAW-OFW){1'b0}}, poff_q[{2'd1, d_ph_i}]} + p_col), .rdata_o (mult_x));
  qmx_xbuf #(.WB(WB), .RDB(4), .DEPTH(PDEPTH), .WAW(WAW), .BAW(BAW)) i_shift (
    .clk_i (clk_i), .we_i (pw_fire && wr_kind_i == K_SHIFT), .waddr_i (wr_addr_i), .wdata_i (wr_data_i),
    .raddr_i (p_ra_base + {{(BAW-OFW){1'b0}}, poff_q[{2'd2, d_ph_i}]} + p_col), .rdata_o (shift_x));

  // Element stage 1: result of PE(i, j), tag {slot, last column, column}.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] res_sel32 = d_i * C32 + d_j;
  /* verilator lint_on UNUSEDSIGNAL */
  assign res_sel_o = res_sel32[SELW-1:0];
  reg            e_v;
  reg [31:0]     e_res;
  reg [JW+1:0]   e_tag;
  always @(posedge clk_i) begin
    if (!rst_ni)
      e_v <= 1'b0;
    else
      e_v <= emit_o;
    e_res <= res_i;
    e_tag <= {slot_o, d_jlast, d_j[JW-1:0]};
  end

  qmx_requant #(.TAGW(JW + 2)) i_requant (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .v_i     (e_v),
    .tag_i   (e_tag),
    .acc_i   (e_res),
    .bias_i  (hb_i ? bias_x : 32'd0),
    .mult_i  (pc_i ? mult_x : mult_i),
    .shift_i (pc_i ? shift_x : shift_i),
    .int8_i  (int8_i),
    .zc_i    (c_zp_i),
    .qmin_i  (qmin_i),
    .qmax_i  (qmax_i),
    .v_o     (rq_v_o),
    .tag_o   (rq_tag_o),
    .res_o   (rq_res_o)
  );

endmodule

`default_nettype wire
