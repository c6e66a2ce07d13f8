// SPDX-License-Identifier: MIT
// qmx_requant - output stage, bit-exact with runtime/src/qmx_quant.h.
//
//   v    = acc + bias                      (wraps modulo 2^32)
//   int32 output: v
//   int8 output : clamp(zc + RDBPOT(SRDHM(sat(v << max(shift,0)), mult),
//                                   max(-shift,0)), qmin, qmax)
//
// Four pipeline stages, one result per cycle; every input and a tag travel
// alongside.
// Shifts beyond 31 (only possible with per-channel shifts that the runtime
// rejects) behave as 31.
`default_nettype none

module qmx_requant #(
  parameter integer TAGW = 1
) (
  input  wire              clk_i,
  input  wire              rst_ni,
  input  wire              v_i,
  input  wire [TAGW-1:0]   tag_i,
  input  wire [31:0]       acc_i,
  input  wire [31:0]       bias_i,    // 0 when there is no bias
  input  wire [31:0]       mult_i,
  input  wire [31:0]       shift_i,
  input  wire              int8_i,
  input  wire [31:0]       zc_i,
  input  wire [31:0]       qmin_i,
  input  wire [31:0]       qmax_i,
  output reg               v_o,
  output reg  [TAGW-1:0]   tag_o,
  output reg  [31:0]       res_o      // int32 result, or int8 sign-extended
);

  // ---- stage 1: bias, saturating left shift
  wire [31:0] v1 = acc_i + bias_i;
  wire        sneg = shift_i[31];
  wire [4:0]  left = sneg ? 5'd0 : ((shift_i[30:5] != 0) ? 5'd31 : shift_i[4:0]);
  wire [31:0] nsh = 32'd0 - shift_i;
  wire [4:0]  right = !sneg ? 5'd0 : ((nsh[31:5] != 0) ? 5'd31 : nsh[4:0]);
  wire signed [63:0] wide1 = $signed({{32{v1[31]}}, v1}) <<< left;
  wire        ovf_hi = wide1 > 64'sd2147483647;
  wire        ovf_lo = wide1 < -64'sd2147483648;
  wire [31:0] x1 = ovf_hi ? 32'h7fffffff : ovf_lo ? 32'h80000000 : wide1[31:0];

  reg          v1_q, int8_1_q;
  reg [TAGW-1:0] tag1_q;
  reg [31:0]   x1_q, m1_q, sum1_q;
  reg [4:0]    right1_q;
  reg [31:0]   zc1_q, lo1_q, hi1_q, zc2_q, lo2_q, hi2_q, zc3_q, lo3_q, hi3_q;

  always @(posedge clk_i) begin
    tag1_q   <= tag_i;
    x1_q     <= x1;
    m1_q     <= mult_i;
    sum1_q   <= v1;
    right1_q <= right;
    int8_1_q <= int8_i;
    zc1_q    <= zc_i;
    lo1_q    <= qmin_i;
    hi1_q    <= qmax_i;
  end

  // ---- stage 2: 32 x 32 product
  wire signed [63:0] ab2 = $signed(x1_q) * $signed(m1_q);
  wire        sat2 = (x1_q == 32'h80000000) && (m1_q == 32'h80000000);
  reg          v2_q, int8_2_q, sat2_q;
  reg [TAGW-1:0] tag2_q;
  reg [63:0]   ab2_q;
  reg [31:0]   sum2_q;
  reg [4:0]    right2_q;

  always @(posedge clk_i) begin
    tag2_q   <= tag1_q;
    ab2_q    <= ab2;
    sat2_q   <= sat2;
    sum2_q   <= sum1_q;
    right2_q <= right1_q;
    int8_2_q <= int8_1_q;
    zc2_q    <= zc1_q;
    lo2_q    <= lo1_q;
    hi2_q    <= hi1_q;
  end

  // ---- stage 3: SRDHM = (ab + nudge) / 2^31, truncating toward zero
  wire        neg3 = ab2_q[63];
  wire [63:0] nudged = ab2_q + (neg3 ? 64'hffffffffc0000001 : 64'h0000000040000000);
  // Truncating division of a negative value: add 2^31 - 1 before the
  // arithmetic shift.
  wire [63:0] biased = nudged + ((nudged[63]) ? 64'h000000007fffffff : 64'd0);
  /* verilator lint_off UNUSEDSIGNAL */
  wire [63:0] q3 = $signed(biased) >>> 31;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [31:0] hm3 = sat2_q ? 32'h7fffffff : q3[31:0];
  reg          v3_q, int8_3_q;
  reg [TAGW-1:0] tag3_q;
  reg [31:0]   hm3_q, sum3_q;
  reg [4:0]    right3_q;

  always @(posedge clk_i) begin
    tag3_q   <= tag2_q;
    hm3_q    <= hm3;
    sum3_q   <= sum2_q;
    right3_q <= right2_q;
    int8_3_q <= int8_2_q;
    zc3_q    <= zc2_q;
    lo3_q    <= lo2_q;
    hi3_q    <= hi2_q;
  end

  // ---- stage 4: RDBPOT, zero point, clamp
  wire [31:0] mask4 = (32'd1 << right3_q) - 32'd1;
  wire [31:0] thr4 = {1'b0, mask4[31:1]} + {31'd0, hm3_q[31]};
  wire [31:0] rem4 = hm3_q & mask4;
  wire [31:0] shr4 = $signed(hm3_q) >>> right3_q;
  wire [31:0] rd4 = shr4 + {31'd0, (rem4 > thr4)};
  wire signed [33:0] z4 = $signed({{2{rd4[31]}}, rd4}) + $signed({{2{zc3_q[31]}}, zc3_q});
  wire signed [33:0] lo4 = $signed({{2{lo3_q[31]}}, lo3_q});
  wire signed [33:0] hi4 = $signed({{2{hi3_q[31]}}, hi3_q});
  /* verilator lint_off UNUSEDSIGNAL */
  wire signed [33:0] c4 = (z4 < lo4) ? lo4 : (z4 > hi4) ? hi4 : z4;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [31:0] out4 = int8_3_q ? {{24{c4[7]}}, c4[7:0]} : sum3_q;

  always @(posedge clk_i) begin
    tag_o <= tag3_q;
    res_o <= out4;
  end

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      v1_q <= 1'b0;
      v2_q <= 1'b0;
      v3_q <= 1'b0;
      v_o  <= 1'b0;
    end else begin
      v1_q <= v_i;
      v2_q <= v1_q;
      v3_q <= v2_q;
      v_o  <= v3_q;
    end
  end

endmodule

`default_nettype wire
