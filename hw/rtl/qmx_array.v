// SPDX-License-Identifier: MIT
// qmx_array - ROWS x COLS systolic array of qmx_pe with its input skew.
//
// One step (a column of A, a row of B, a tag) enters per cycle.  Row i of A
// is delayed i cycles and column j of B j cycles, then operands hop one PE
// per cycle, so PE(i,j) sees the operands of one step at t + i + j.  The tag
// goes down a delay line of ROWS + COLS - 2 stages; PE(i,j) takes stage
// i + j - 1 (all PEs of one anti-diagonal work on the same step), and the
// stage before it (for PE(0,0): la_*_i, the step entering next cycle) as the
// look-ahead that addresses its accumulator memory one cycle early.  Needs
// ROWS + COLS >= 3.  last_done_o pulses in the cycle the bottom-right PE (the
// last to finish) latches its result: from the next cycle on the sums of
// that sub-tile can be read, one row of COLS sums per cycle, through
// sel_i / res_o (a row multiplexer, not a ROWS x COLS bus: cheap to simulate
// for large arrays).
`default_nettype none

module qmx_array #(
  parameter integer ROWS = 8,
  parameter integer COLS = 8,
  parameter integer NACC = 16,
  parameter integer ACCW = 4,
  parameter integer SELW = (ROWS > 1) ? $clog2(ROWS) : 1
) (
  input  wire                     clk_i,
  input  wire                     rst_ni,
  input  wire [ROWS*9-1:0]        a_i,      // row i in [9*i +: 9]
  input  wire [COLS*9-1:0]        b_i,      // column j in [9*j +: 9]
  input  wire                     v_i,
  input  wire                     zero_i,
  input  wire                     load_i,
  input  wire                     wb_i,
  input  wire                     last_i,
  input  wire [ACCW-1:0]          acc_i,
  input  wire                     la_rd_i,  // next cycle's step: v && load
  input  wire [ACCW-1:0]          la_acc_i, // ... and its accumulator
  output wire                     last_done_o,
  input  wire [SELW-1:0]          sel_i,    // row i
  output wire [COLS*32-1:0]       res_o     // published sums of row i, PE(i,j) in [32*j +: 32]
);

  localparam integer TAGW = 5 + ACCW;       // {v, zero, load, wb, last, acc}
  localparam integer ND   = ROWS + COLS - 2;  // anti-diagonals after the first

  // Tag delay line: stage d in [TAGW*d +: TAGW].
  reg  [TAGW*ND-1:0] tag_q;
  wire [TAGW-1:0]    tag_in = {v_i, zero_i, load_i, wb_i, last_i, acc_i};
  // Look-ahead view of a tag: read enable (v && load) and index.
  wire [TAGW-1:0]    tag_la = {1'b1, 1'b0, la_rd_i, 2'b00, la_acc_i};
  generate
    if (ND > 1) begin : gen_line
      always @(posedge clk_i) begin
        if (!rst_ni)
          tag_q <= {TAGW*ND{1'b0}};
        else
          tag_q <= {tag_q[TAGW*(ND-1)-1:0], tag_in};
      end
    end else begin : gen_stage
      always @(posedge clk_i) begin
        if (!rst_ni)
          tag_q <= {TAGW{1'b0}};
        else
          tag_q <= tag_in;
      end
    end
  endgenerate

  // Operand links: a_h[i][j] enters PE(i,j) from the left, b_v[i][j] from above.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [8:0] a_h [0:ROWS-1][0:COLS];
  wire [8:0] b_v [0:ROWS][0:COLS-1];
  /* verilator lint_on UNUSEDSIGNAL */
  wire [COLS*32-1:0] res_w [0:ROWS-1];
  assign res_o = res_w[sel_i];

  genvar i, j;
  generate
    for (i = 0; i < ROWS; i = i + 1) begin : gen_row_skew
      if (i == 0) begin : gen_direct
        assign a_h[0][0] = a_i[8:0];
      end else begin : gen_delay
        reg [9*i-1:0] a_q;  // i stages, newest in the low bits
        if (i == 1) begin : gen_one
          always @(posedge clk_i) a_q <= a_i[9*i +: 9];
        end else begin : gen_many
          always @(posedge clk_i) a_q <= {a_q[9*(i-1)-1:0], a_i[9*i +: 9]};
        end
        assign a_h[i][0] = a_q[9*i-1 -: 9];
      end
    end

    for (j = 0; j < COLS; j = j + 1) begin : gen_col_skew
      if (j == 0) begin : gen_direct
        assign b_v[0][0] = b_i[8:0];
      end else begin : gen_delay
        reg [9*j-1:0] b_q;
        if (j == 1) begin : gen_one
          always @(posedge clk_i) b_q <= b_i[9*j +: 9];
        end else begin : gen_many
          always @(posedge clk_i) b_q <= {b_q[9*(j-1)-1:0], b_i[9*j +: 9]};
        end
        assign b_v[0][j] = b_q[9*j-1 -: 9];
      end
    end

    for (i = 0; i < ROWS; i = i + 1) begin : gen_pe_row
      for (j = 0; j < COLS; j = j + 1) begin : gen_pe_col
        // Stage d holds the tag that entered d + 1 cycles ago; the
        // operands PE(i,j) sees entered i + j cycles ago.
        wire [TAGW-1:0] tin, tla;
        if (i + j == 0) begin : gen_tag0
          assign tin = tag_in;
          assign tla = tag_la;
        end else if (i + j == 1) begin : gen_tag1
          assign tin = tag_q[0 +: TAGW];
          assign tla = tag_in;
        end else begin : gen_tagd
          assign tin = tag_q[TAGW*(i+j-1) +: TAGW];
          assign tla = tag_q[TAGW*(i+j-2) +: TAGW];
        end
        qmx_pe #(.NACC(NACC), .ACCW(ACCW)) i_pe (
          .clk_i   (clk_i),
          .a_i     (a_h[i][j]),
          .b_i     (b_v[i][j]),
          .v_i     (tin[TAGW-1]),
          .zero_i  (tin[TAGW-2]),
          .load_i  (tin[TAGW-3]),
          .wb_i    (tin[TAGW-4]),
          .last_i  (tin[TAGW-5]),
          .acc_i   (tin[ACCW-1:0]),
          .rd_i    (tla[TAGW-1] & tla[TAGW-3]),
          .racc_i  (tla[ACCW-1:0]),
          .a_o     (a_h[i][j+1]),
          .b_o     (b_v[i+1][j]),
          .res_o   (res_w[i][32*j +: 32])
        );
      end
    end
  endgenerate

  wire [TAGW-1:0] tag_last = tag_q[TAGW*(ND-1) +: TAGW];
  assign last_done_o = tag_last[TAGW-1] & tag_last[TAGW-5];

endmodule

`default_nettype wire
