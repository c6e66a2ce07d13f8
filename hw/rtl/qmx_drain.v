// SPDX-License-Identifier: MIT
// qmx_drain - the output engine's front half: when the array publishes the
// sums of a sub-tile it reads them out one row of COLS sums per cycle,
// applies bias and requantization (COLS qmx_requant lanes, with the block's
// per-channel vectors from their own buffers) and hands the row to the
// writer as a segment.  Segments are double-buffered (slots 0/1, owned by
// qmx_writer once full).  A row per cycle lets the array publish a sub-tile
// every ROWS cycles plus the writer's time, well inside the TILE_K cycles a
// sub-tile computes in the last chunk.
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
  output wire [((ARRAY_ROWS > 1) ? $clog2(ARRAY_ROWS) : 1)-1:0] res_sel_o,
  input  wire [ARRAY_COLS*32-1:0] res_i,
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
  output wire        rq_slot_o,
  output wire [ARRAY_COLS*32-1:0] rq_res_o,
  output wire        emit_o,         // one row read this cycle
  output wire        final_done_o,   // last element of a block read
  output wire        idle_o
);
  `include "qmx_geom.vh"
  localparam integer BAW = WAW + OFW;

  localparam [1:0] D_IDLE = 2'd0, D_ROW = 2'd1;
  reg [1:0]  d_state;
  reg        d_fire_q;
  reg [31:0] d_i;

  reg [OFW-1:0] poff_q [0:5];        // {kind, half}

  wire [63:0] ldc_bytes = {32'd0, ldc_i} << esh_i;
  wire        d_ilast = d_i + 1 >= d_rv_i;
  assign emit_o    = busy_i && !abort_i && d_state == D_ROW && !seg_busy_i[slot_o];
  assign alloc_o   = emit_o;
  assign alloc_n_o = d_cv_i;
  assign final_done_o = emit_o && d_ilast && d_final_i;
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
          D_ROW: if (emit_o) begin
            slot_o <= !slot_o;
            if (!d_ilast) begin
              d_i          <= d_i + 1;
              alloc_addr_o <= alloc_addr_o + ldc_bytes;
            end else begin
              // Every sum of the sub-tile is read: the array may publish the next.
              last_pending_o <= 1'b0;
              d_state        <= D_IDLE;
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

  // Per-channel vectors: the COLS entries of each at column q*COLS of the block.
  wire [BAW-1:0] p_ra_base = (d_ph_i ? RWP32[BAW-1:0] : {BAW{1'b0}}) << OFW;
  wire [BAW-1:0] p_col = (d_q_i[BAW-1:0] * C32[BAW-1:0]) << 2;
  wire [C*32-1:0] bias_x, mult_x, shift_x;
  wire        pw_fire = wr_i && wr_kind_i <= K_SHIFT;

  qmx_xbuf #(.WB(WB), .RDB(4 * C), .DEPTH(PDEPTH), .WAW(WAW), .BAW(BAW)) i_bias (
    .clk_i (clk_i), .we_i (pw_fire && wr_kind_i == K_BIAS), .waddr_i (wr_addr_i), .wdata_i (wr_data_i),
    .raddr_i (p_ra_base + {{(BAW-OFW){1'b0}}, poff_q[{2'd0, d_ph_i}]} + p_col), .rdata_o (bias_x));
  qmx_xbuf #(.WB(WB), .RDB(4 * C), .DEPTH(PDEPTH), .WAW(WAW), .BAW(BAW)) i_mult (
    .clk_i (clk_i), .we_i (pw_fire && wr_kind_i == K_MULT), .waddr_i (wr_addr_i), .wdata_i (wr_data_i),
    .raddr_i (p_ra_base + {{(BAW-OFW){1'b0}}, poff_q[{2'd1, d_ph_i}]} + p_col), .rdata_o (mult_x));
  qmx_xbuf #(.WB(WB), .RDB(4 * C), .DEPTH(PDEPTH), .WAW(WAW), .BAW(BAW)) i_shift (
    .clk_i (clk_i), .we_i (pw_fire && wr_kind_i == K_SHIFT), .waddr_i (wr_addr_i), .wdata_i (wr_data_i),
    .raddr_i (p_ra_base + {{(BAW-OFW){1'b0}}, poff_q[{2'd2, d_ph_i}]} + p_col), .rdata_o (shift_x));

  // Row stage 1: the sums of row i, tagged with the segment slot.
  assign res_sel_o = d_i[RB-1:0];
  reg            e_v, e_slot;
  reg [C*32-1:0] e_res;
  always @(posedge clk_i) begin
    if (!rst_ni)
      e_v <= 1'b0;
    else
      e_v <= emit_o;
    if (emit_o) begin
      e_res  <= res_i;
      e_slot <= slot_o;
    end
  end

  /* verilator lint_off UNUSEDSIGNAL */
  wire [C-1:0] lane_v;
  wire [C-1:0] lane_slot;
  /* verilator lint_on UNUSEDSIGNAL */
  genvar gj;
  generate
    for (gj = 0; gj < C; gj = gj + 1) begin : gen_lane
      qmx_requant #(.TAGW(1)) i_requant (
        .clk_i   (clk_i),
        .rst_ni  (rst_ni),
        .v_i     (e_v),
        .tag_i   (e_slot),
        .acc_i   (e_res[32*gj +: 32]),
        .bias_i  (hb_i ? bias_x[32*gj +: 32] : 32'd0),
        .mult_i  (pc_i ? mult_x[32*gj +: 32] : mult_i),
        .shift_i (pc_i ? shift_x[32*gj +: 32] : shift_i),
        .int8_i  (int8_i),
        .zc_i    (c_zp_i),
        .qmin_i  (qmin_i),
        .qmax_i  (qmax_i),
        .v_o     (lane_v[gj]),
        .tag_o   (lane_slot[gj]),
        .res_o   (rq_res_o[32*gj +: 32])
      );
    end
  endgenerate
  assign rq_v_o    = lane_v[0];
  assign rq_slot_o = lane_slot[0];

endmodule

`default_nettype wire
