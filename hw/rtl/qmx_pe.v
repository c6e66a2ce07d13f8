// SPDX-License-Identifier: MIT
// qmx_pe - one processing element of the output-stationary systolic array.
//
// A operands move right, B operands move down, one PE per cycle.  The step's
// tag (valid, zero, load, write-back, last, accumulator index) reaches
// PE(i,j) from the array's diagonal delay line in the same cycle as its
// operands.
//
// Accumulators.  The running sum of the current output is a register
// (cur_q).  The sums of the other NACC - 1 outputs of the block wait in the
// PE's accumulator memory, one int32 word per output: a plain 1R1W memory
// with a registered read, so synthesis maps it to SRAM and Verilator
// simulates it as an array.  A step with `load` starts from the word read in
// the cycle before (the array sends each PE the next step's index one cycle
// early, rd_i/racc_i); `wb` stores the sum when a K chunk ends and more
// follow; `zero` starts from 0 (first k of K).  Sums wrap modulo 2^32, as the
// reference does.  On the last k of K the sum is copied to res_o, where the
// drain reads it.
`default_nettype none

module qmx_pe #(
  parameter integer NACC = 16,
  parameter integer ACCW = 4  // bits of the accumulator index
) (
  input  wire                   clk_i,
  input  wire signed [8:0]      a_i,      // A - a_zero_point
  input  wire signed [8:0]      b_i,      // B - b_zero_point
  input  wire                   v_i,
  input  wire                   zero_i,   // start from 0
  input  wire                   load_i,   // start from the accumulator memory
  input  wire                   wb_i,     // store the sum in the accumulator memory
  input  wire                   last_i,   // publish the sum
  input  wire [ACCW-1:0]        acc_i,
  input  wire                   rd_i,     // the next step loads accumulator racc_i
  input  wire [ACCW-1:0]        racc_i,
  output reg  signed [8:0]      a_o,
  output reg  signed [8:0]      b_o,
  output reg  [31:0]            res_o
);

  reg [31:0] mem_q [0:NACC-1];
  reg [31:0] rd_q;
  reg [31:0] cur_q;

  wire signed [17:0] prod = a_i * b_i;
  wire [31:0] base = zero_i ? 32'd0 : load_i ? rd_q : cur_q;
  wire [31:0] sum = base + {{14{prod[17]}}, prod};

  always @(posedge clk_i) begin
    a_o <= a_i;
    b_o <= b_i;
    if (rd_i)
      rd_q <= mem_q[racc_i];
    if (v_i) begin
      cur_q <= sum;
      if (wb_i)
        mem_q[acc_i] <= sum;
      if (last_i)
        res_o <= sum;
    end
  end

endmodule

`default_nettype wire
