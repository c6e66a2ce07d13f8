// SPDX-License-Identifier: MIT
// qmx_pe - one processing element of the output-stationary systolic array.
//
// A operands move right, B operands move down, one PE per cycle.  The step's
// tag (valid, first, last, accumulator index) reaches PE(i,j) from the
// array's diagonal delay line, in the same cycle as its operands.  The PE
// keeps NACC int32 accumulators, one per output sub-tile of the current
// block, so a block of NACC sub-tiles is computed from one load of operands.
// The accumulator wraps modulo 2^32, as the reference does.  On the last k of
// a sub-tile the final sum is copied to res_o, where the drain reads it.
`default_nettype none

module qmx_pe #(
  parameter integer NACC = 16,
  parameter integer ACCW = 4  // bits of the accumulator index
) (
  input  wire                   clk_i,
  input  wire signed [8:0]      a_i,      // A - a_zero_point
  input  wire signed [8:0]      b_i,      // B - b_zero_point
  input  wire                   v_i,
  input  wire                   first_i,  // k == 0: start from 0
  input  wire                   last_i,   // k == K - 1: publish the sum
  input  wire [ACCW-1:0]        acc_i,
  output reg  signed [8:0]      a_o,
  output reg  signed [8:0]      b_o,
  output reg  [31:0]            res_o
);

  reg [31:0] acc_q [0:NACC-1];

  wire signed [17:0] prod = a_i * b_i;
  wire [31:0] base = first_i ? 32'd0 : acc_q[acc_i];
  wire [31:0] sum = base + {{14{prod[17]}}, prod};

  always @(posedge clk_i) begin
    a_o <= a_i;
    b_o <= b_i;
    if (v_i) begin
      acc_q[acc_i] <= sum;
      if (last_i)
        res_o <= sum;
    end
  end

endmodule

`default_nettype wire
