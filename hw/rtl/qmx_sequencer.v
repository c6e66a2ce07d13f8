// SPDX-License-Identifier: MIT
// qmx_sequencer - the compute engine's control: for each loaded K chunk it
// steps every ROWS x COLS sub-tile (p, q) of the output block over the
// chunk's k, one step (a column of A, a row of B) per cycle, then releases
// the half to the loader.  On the last step of a sub-tile of the block's last
// chunk it hands the drain a descriptor (rows, columns, C address) of the
// sub-tile whose sums the array is about to publish.
`default_nettype none
`include "qmx_defs.vh"

module qmx_sequencer #(
  parameter integer ARRAY_ROWS = 8,
  parameter integer ARRAY_COLS = 8,
  parameter integer AXI_DATA_WIDTH = 64,
  parameter integer TILE_P = `QMX_DEF_TILE_P,
  parameter integer TILE_Q = `QMX_DEF_TILE_Q,
  parameter integer TILE_K = `QMX_DEF_TILE_K
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        job_go_i,
  input  wire        abort_i,
  input  wire        busy_i,
  input  wire [63:0] c_addr_i,
  input  wire [31:0] m_i,
  input  wire [31:0] n_i,
  input  wire [31:0] k_i,
  input  wire [31:0] ldc_i,
  input  wire [1:0]  esh_i,          // log2 bytes per C element
  input  wire [1:0]  half_full_i,    // operand halves loaded
  input  wire        last_pending_i, // the drain has not taken the last sub-tile yet
  output wire        issue_o,        // a step enters the array
  output wire        is_last_o,      // ... the last of its sub-tile
  output wire        firstchunk_o,
  output wire        lastchunk_o,
  output wire        klast_o,        // last k of the chunk
  output wire        single_o,       // the block is one sub-tile
  output reg         half_o,         // operand half being read
  output reg  [31:0] sp_o,
  output reg  [31:0] sq_o,
  output reg  [31:0] sk_o,
  output wire [31:0] rv_o,           // valid rows / columns of the sub-tile
  output wire [31:0] cv_o,
  output wire        release_o,      // half_o is free again
  output wire        idle_o,
  // Drain descriptor, captured with the last step of a sub-tile.
  output reg  [31:0] d_rv_o,
  output reg  [31:0] d_cv_o,
  output reg  [31:0] d_q_o,
  output reg         d_ph_o,
  output reg         d_final_o,
  output reg  [63:0] d_caddr_o
);
  `include "qmx_geom.vh"

  localparam [1:0] S_IDLE = 2'd0, S_WAIT = 2'd1, S_RUN = 2'd2, S_REL = 2'd3;
  reg [1:0]  s_state;
  reg [31:0] sm0, sn0, sk0;
  reg        sph;
  reg [31:0] s_mt, s_nt, s_kt;
  reg        s_lastchunk, s_firstchunk;
  reg [1:0]  s_rel;

  wire [31:0] sp_r = sp_o * R32;
  wire [31:0] sq_c = sq_o * C32;
  assign rv_o = (s_mt - sp_r < R32) ? s_mt - sp_r : R32;
  assign cv_o = (s_nt - sq_c < C32) ? s_nt - sq_c : C32;
  wire        s_klast = sk_o + 1 >= s_kt;
  wire        s_qlast = sq_c + C32 >= s_nt;
  wire        s_plast = sp_r + R32 >= s_mt;
  assign is_last_o = s_lastchunk && s_klast;
  assign issue_o   = busy_i && !abort_i && s_state == S_RUN && !(is_last_o && last_pending_i);
  assign firstchunk_o = s_firstchunk;
  assign lastchunk_o  = s_lastchunk;
  assign klast_o      = s_klast;
  assign single_o     = s_mt <= R32 && s_nt <= C32;
  assign release_o = busy_i && !abort_i && s_state == S_REL && s_rel == 0;
  assign idle_o    = s_state == S_IDLE;

  wire [63:0] c_elem = ({32'd0, sm0 + sp_r} * {32'd0, ldc_i}) + {32'd0, sn0 + sq_c};

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      s_state <= S_IDLE;
    end else if (job_go_i) begin
      s_state <= S_WAIT;
      sm0 <= 32'd0;
      sn0 <= 32'd0;
      sk0 <= 32'd0;
      half_o <= 1'b0;
      sph <= 1'b0;
    end else if (abort_i) begin
      s_state <= S_IDLE;
    end else begin
      case (s_state)
        S_WAIT: if (half_full_i[half_o]) begin
          s_mt <= (m_i - sm0 < MT32) ? m_i - sm0 : MT32;
          s_nt <= (n_i - sn0 < NT32) ? n_i - sn0 : NT32;
          s_kt <= (k_i - sk0 < KT32) ? k_i - sk0 : KT32;
          s_lastchunk  <= sk0 + KT32 >= k_i;
          s_firstchunk <= sk0 == 0;
          sp_o <= 32'd0;
          sq_o <= 32'd0;
          sk_o <= 32'd0;
          s_state <= S_RUN;
        end
        S_RUN: if (issue_o) begin
          if (!s_klast) begin
            sk_o <= sk_o + 1;
          end else begin
            sk_o <= 32'd0;
            if (!s_qlast) begin
              sq_o <= sq_o + 1;
            end else begin
              sq_o <= 32'd0;
              if (!s_plast) begin
                sp_o <= sp_o + 1;
              end else begin
                s_state <= S_REL;
                s_rel   <= 2'd3;
              end
            end
          end
        end
        S_REL: begin
          // A few cycles for the last reads of this half to complete.
          if (s_rel != 0) begin
            s_rel <= s_rel - 2'd1;
          end else begin
            half_o <= !half_o;
            s_state <= S_WAIT;
            if (sk0 + KT32 < k_i) begin
              sk0 <= sk0 + KT32;
            end else begin
              sk0 <= 32'd0;
              sph <= !sph;
              if (sn0 + NT32 < n_i) begin
                sn0 <= sn0 + NT32;
              end else begin
                sn0 <= 32'd0;
                if (sm0 + MT32 < m_i)
                  sm0 <= sm0 + MT32;
                else
                  s_state <= S_IDLE;
              end
            end
          end
        end
        default: ;
      endcase
    end
  end

  always @(posedge clk_i) begin
    if (issue_o && is_last_o) begin
      d_rv_o    <= rv_o;
      d_cv_o    <= cv_o;
      d_q_o     <= sq_o;
      d_ph_o    <= sph;
      d_final_o <= s_qlast && s_plast;
      d_caddr_o <= c_addr_i + (c_elem << esh_i);
    end
  end

endmodule

`default_nettype wire
