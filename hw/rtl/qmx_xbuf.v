// SPDX-License-Identifier: MIT
// qmx_xbuf - on-chip operand buffer: written one bus beat per cycle, read
// RDB contiguous bytes at any byte address per cycle.
//
// The DMA stores beats exactly as they come off the bus (aligned), so rows
// that start at any byte address need no realignment on the write side; the
// read side extracts the bytes.  To read RDB bytes that straddle word
// boundaries in one cycle the words are interleaved over NB banks
// (consecutive words in consecutive banks).  Banks are plain memories with a
// registered read (block-RAM friendly, no reset); read data appear one cycle
// after the address.
`default_nettype none

module qmx_xbuf #(
  parameter integer WB    = 8,    // bytes per word (bus beat)
  parameter integer RDB   = 8,    // bytes per read
  parameter integer DEPTH = 256,  // words
  parameter integer WAW   = 8,    // word address bits
  parameter integer BAW   = 11    // byte address bits (WAW + log2(WB))
) (
  input  wire               clk_i,
  input  wire               we_i,
  input  wire [WAW-1:0]     waddr_i,
  input  wire [WB*8-1:0]    wdata_i,
  input  wire [BAW-1:0]     raddr_i,
  output wire [RDB*8-1:0]   rdata_o
);

  // Words a read of RDB bytes at any offset can touch, rounded up to 2^n.
  localparam integer SPAN = (WB - 1 + RDB + WB - 1) / WB;
  localparam integer NB   = (SPAN <= 1) ? 1 : (1 << $clog2(SPAN));
  localparam integer NBW  = (NB <= 1) ? 1 : $clog2(NB);
  localparam integer OFW  = (WB <= 1) ? 1 : $clog2(WB);
  localparam integer BDEPTH = (DEPTH + NB - 1) / NB + 1;
  localparam integer IW = $clog2(BDEPTH);

  wire [WAW-1:0] w0  = raddr_i[BAW-1:OFW];
  reg  [OFW-1:0] off_q;
  reg  [NBW-1:0] rot_q;

  wire [WB*8-1:0] word_q [0:NB-1];

  genvar b;
  generate
    for (b = 0; b < NB; b = b + 1) begin : gen_bank
      localparam [NBW-1:0] BI = b;
      reg [WB*8-1:0] mem [0:BDEPTH-1];
      reg [WB*8-1:0] rd_q;
      // Indices wrap beyond the depth: such reads only fetch bytes past the
      // end of a row, which are never used.
      /* verilator lint_off UNUSEDSIGNAL */
      wire [WAW-1:0] wsel;
      wire [WAW-1:0] rsel;
      /* verilator lint_on UNUSEDSIGNAL */
      if (NB == 1) begin : gen_one
        assign wsel = waddr_i;
        assign rsel = w0;
      end else begin : gen_many
        // Word of the read window that falls in bank b.
        wire [NBW-1:0] d = BI - w0[NBW-1:0];
        wire [WAW-1:0] w = w0 + {{(WAW-NBW){1'b0}}, d};
        assign wsel = waddr_i >> NBW;
        assign rsel = w >> NBW;
      end
      always @(posedge clk_i) begin
        if (we_i && (NB == 1 || waddr_i[NBW-1:0] == BI))
          mem[wsel[IW-1:0]] <= wdata_i;
        rd_q <= mem[rsel[IW-1:0]];
      end
      assign word_q[b] = rd_q;
    end
  endgenerate

  always @(posedge clk_i) begin
    off_q <= raddr_i[OFW-1:0];
    rot_q <= (NB == 1) ? {NBW{1'b0}} : w0[NBW-1:0];
  end

  // Window words in address order, then the byte offset.
  wire [31:0] rot32 = {{(32-NBW){1'b0}}, rot_q};
  reg [NB*WB*8-1:0] win;
  integer k;
  always @* begin
    win = {NB*WB*8{1'b0}};
    for (k = 0; k < NB; k = k + 1)
      win[k*WB*8 +: WB*8] = word_q[(k + rot32) % NB];
  end
  /* verilator lint_off UNUSEDSIGNAL */
  wire [NB*WB*8-1:0] shifted = win >> {off_q, 3'b000};
  /* verilator lint_on UNUSEDSIGNAL */
  assign rdata_o = shifted[RDB*8-1:0];

endmodule

`default_nettype wire
