// SPDX-License-Identifier: MIT
// qmx_writer - the write engine: stores each full row segment of C as
// aligned AXI write bursts (never crossing 4 KiB) with byte strobes, so only
// the bytes of C's M x N elements are written, and tracks the responses.
// Owns the two segment slots the drain fills.
`default_nettype none
`include "qmx_defs.vh"

module qmx_writer #(
  parameter integer ARRAY_COLS = 8,
  parameter integer AXI_DATA_WIDTH = 64,
  parameter integer AXI_ADDR_WIDTH = 64,
  parameter integer WR_OUTSTANDING = `QMX_DEF_WR_OUTSTANDING
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        job_go_i,
  input  wire        abort_i,
  input  wire        busy_i,
  input  wire        int8_i,
  input  wire [1:0]  esh_i,
  // Slot allocation and filling (qmx_drain).
  input  wire        alloc_i,
  input  wire        alloc_slot_i,
  input  wire [63:0] alloc_addr_i,
  input  wire [31:0] alloc_n_i,
  input  wire        rq_v_i,         // a row of results for slot rq_slot_i
  input  wire        rq_slot_i,
  input  wire [ARRAY_COLS*32-1:0] rq_res_i,
  output reg  [1:0]  seg_busy_o,
  output wire        beat_o,        // a data beat is accepted
  output wire        idle_o,        // no burst, no response pending
  output wire        wr_err_o,
  output wire [63:0] wr_err_addr_o,
  output wire                        m_axi_awvalid,
  input  wire                        m_axi_awready,
  output wire [AXI_ADDR_WIDTH-1:0]   m_axi_awaddr,
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
  input  wire [1:0]                  m_axi_bresp
);
  localparam integer C    = ARRAY_COLS;
  localparam integer WB   = AXI_DATA_WIDTH / 8;
  localparam integer OFW  = $clog2(WB);
  localparam integer SEGB = C * 4;
  localparam integer WIDEB = SEGB + WB;
  localparam integer WD   = WR_OUTSTANDING;
  localparam integer WDW  = $clog2(WD);
  localparam [31:0]  WB32 = WB;

  reg [1:0]      seg_full;
  reg [63:0]     seg_addr [0:1];
  reg [31:0]     seg_n    [0:1];
  reg [C*32-1:0] seg_data [0:1];

  localparam [1:0] W_IDLE = 2'd0, W_AWSET = 2'd1, W_AW = 2'd2, W_DATA = 2'd3;
  reg [1:0]         w_state;
  reg               w_slot;
  reg [WIDEB*8-1:0] w_data;
  reg [WIDEB-1:0]   w_strb;
  reg [63:0]        w_addr;
  reg [31:0]        w_rem, w_cnt;
  reg               aw_valid_q;
  reg [63:0]        aw_addr_q;
  reg [7:0]         aw_len_q;
  reg [WDW:0]       b_cnt;
  reg [63:0]        b_addr [0:WD-1];
  reg [WDW-1:0]     b_wp, b_rp;

  // Segment bytes, packed and placed at the lane of the start address.
  reg [SEGB*8-1:0] seg_bytes;
  reg [SEGB-1:0]   seg_mask;
  integer wi;
  always @* begin
    seg_bytes = {SEGB*8{1'b0}};
    seg_mask  = {SEGB{1'b0}};
    for (wi = 0; wi < C; wi = wi + 1) begin
      if (int8_i) begin
        seg_bytes[wi*8 +: 8] = seg_data[w_slot][wi*32 +: 8];
        seg_mask[wi]         = wi < seg_n[w_slot];
      end else begin
        seg_bytes[wi*32 +: 32] = seg_data[w_slot][wi*32 +: 32];
        seg_mask[wi*4 +: 4]    = {4{wi < seg_n[w_slot]}};
      end
    end
  end
  wire [OFW-1:0] w_off    = seg_addr[w_slot][OFW-1:0];
  wire [31:0]    w_nbytes = seg_n[w_slot] << esh_i;
  wire [31:0]    w_to4k   = (32'd4096 - {20'd0, w_addr[11:0]}) >> OFW;
  wire [31:0]    w_nb0    = (w_rem < w_to4k) ? w_rem : w_to4k;
  wire [31:0]    w_nb     = (w_nb0 > 32'd256) ? 32'd256 : w_nb0;
  wire           aw_fire  = aw_valid_q && m_axi_awready;
  wire           w_fire   = w_state == W_DATA && m_axi_wready;
  wire           b_fire   = m_axi_bvalid && b_cnt != 0;

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      w_state    <= W_IDLE;
      w_slot     <= 1'b0;
      aw_valid_q <= 1'b0;
      seg_busy_o <= 2'b00;
      seg_full   <= 2'b00;
      b_cnt      <= {(WDW+1){1'b0}};
      b_wp       <= {WDW{1'b0}};
      b_rp       <= {WDW{1'b0}};
    end else begin
      if (job_go_i) begin
        w_slot     <= 1'b0;
        seg_busy_o <= 2'b00;
        seg_full   <= 2'b00;
      end
      if (alloc_i) begin
        seg_busy_o[alloc_slot_i] <= 1'b1;
        seg_addr[alloc_slot_i]   <= alloc_addr_i;
        seg_n[alloc_slot_i]      <= alloc_n_i;
      end
      if (rq_v_i) begin
        seg_data[rq_slot_i] <= rq_res_i;
        seg_full[rq_slot_i] <= 1'b1;
      end
      case (w_state)
        W_IDLE: if (busy_i && !abort_i && seg_full[w_slot]) begin
          w_data  <= {{(WB*8){1'b0}}, seg_bytes} << {w_off, 3'b000};
          w_strb  <= {{WB{1'b0}}, seg_mask} << w_off;
          w_addr  <= {seg_addr[w_slot][63:OFW], {OFW{1'b0}}};
          w_rem   <= ({{(32-OFW){1'b0}}, w_off} + w_nbytes + WB32 - 1) >> OFW;
          w_state <= W_AWSET;
        end
        W_AWSET: begin
          if (abort_i) begin
            seg_full[w_slot]   <= 1'b0;
            seg_busy_o[w_slot] <= 1'b0;
            w_slot  <= !w_slot;
            w_state <= W_IDLE;
          end else if (b_cnt < WD[WDW:0]) begin
            aw_valid_q <= 1'b1;
            aw_addr_q  <= w_addr;
            aw_len_q   <= w_nb[7:0] - 8'd1;
            w_cnt      <= w_nb;
            w_state    <= W_AW;
          end
        end
        W_AW: if (aw_fire) begin
          aw_valid_q <= 1'b0;
          w_state    <= W_DATA;
        end
        default: if (w_fire) begin
          w_data <= w_data >> (WB * 8);
          w_strb <= w_strb >> WB;
          w_addr <= w_addr + {32'd0, WB32};
          w_rem  <= w_rem - 1;
          w_cnt  <= w_cnt - 1;
          if (w_cnt == 1) begin
            if (w_rem == 1 || abort_i) begin
              seg_full[w_slot]   <= 1'b0;
              seg_busy_o[w_slot] <= 1'b0;
              w_slot  <= !w_slot;
              w_state <= W_IDLE;
            end else begin
              w_state <= W_AWSET;
            end
          end
        end
      endcase
      if (aw_fire) begin
        b_addr[b_wp] <= aw_addr_q;
        b_wp <= b_wp + 1'b1;
      end
      if (b_fire)
        b_rp <= b_rp + 1'b1;
      b_cnt <= b_cnt + {{WDW{1'b0}}, aw_fire} - {{WDW{1'b0}}, b_fire};
    end
  end

  assign beat_o        = w_fire;
  assign idle_o        = w_state == W_IDLE && b_cnt == 0;
  assign wr_err_o      = b_fire && m_axi_bresp[1];
  assign wr_err_addr_o = b_addr[b_rp];
  wire unused_resp = &{1'b0, m_axi_bresp[0]};

  assign m_axi_awvalid = aw_valid_q;
  assign m_axi_awaddr  = aw_addr_q[AXI_ADDR_WIDTH-1:0];
  assign m_axi_awlen   = aw_len_q;
  assign m_axi_awsize  = OFW[2:0];
  assign m_axi_awburst = 2'b01;
  assign m_axi_wvalid  = w_state == W_DATA;
  assign m_axi_wdata   = w_data[WB*8-1:0];
  assign m_axi_wstrb   = w_strb[WB-1:0];
  assign m_axi_wlast   = w_cnt == 1;
  assign m_axi_bready  = 1'b1;

endmodule

`default_nettype wire
