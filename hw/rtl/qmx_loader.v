// SPDX-License-Identifier: MIT
// qmx_loader - the read engine: walks the job's blocks and K chunks, issues
// aligned AXI read bursts for the rows of each chunk (A rows MT x kt, B rows
// kt x NT, and on a block's first chunk the per-channel vectors), and routes
// the returning beats to the operand memories.
//
// Bursts never cross 4 KiB and are at most 256 beats.  Each burst in flight
// has an entry in the read-routing FIFO (kind, bank, word address), so beats
// need no tag on the bus.  A chunk is loaded into the half `half_o` once that
// half is empty; the last beat of a chunk's last B row reports end-of-chunk
// (eoc_o) so the sequencer may start on it.
//
// Rows may start at any byte address: the byte offset of each row is handed
// to the operand memories (off_*) and applied on read.
`default_nettype none
`include "qmx_defs.vh"

module qmx_loader #(
  parameter integer ARRAY_ROWS = 8,
  parameter integer ARRAY_COLS = 8,
  parameter integer AXI_DATA_WIDTH = 64,
  parameter integer AXI_ADDR_WIDTH = 64,
  parameter integer TILE_P = `QMX_DEF_TILE_P,
  parameter integer TILE_Q = `QMX_DEF_TILE_Q,
  parameter integer TILE_K = `QMX_DEF_TILE_K,
  parameter integer RD_OUTSTANDING = `QMX_DEF_RD_OUTSTANDING,
  parameter integer WAW = 12
) (
  input  wire        clk_i,
  input  wire        rst_ni,       // engine reset (hard or soft)
  input  wire        job_go_i,
  input  wire        abort_i,
  input  wire        busy_i,
  input  wire [63:0] a_addr_i,
  input  wire [63:0] b_addr_i,
  input  wire [63:0] bias_addr_i,
  input  wire [63:0] mult_addr_i,
  input  wire [63:0] shift_addr_i,
  input  wire [31:0] m_i,
  input  wire [31:0] n_i,
  input  wire [31:0] k_i,
  input  wire [31:0] lda_i,
  input  wire [31:0] ldb_i,
  input  wire        hb_i,          // bias vector present
  input  wire        pc_i,          // per-channel mult/shift vectors present
  input  wire [1:0]  half_empty_i,  // operand halves free to load
  input  wire [1:0]  pbusy_i,       // per-channel halves still draining
  output wire        start_chunk_o, // a chunk starts loading into half_o
  output reg         half_o,
  output reg         first_o,       // ... and it is its block's first
  output reg         phalf_o,       // per-channel half of the block
  output wire        idle_o,
  output wire        quiet_o,       // nothing requested, nothing in flight
  // Write port of the operand memories (data: m_axi_rdata).
  output wire        wr_o,
  output wire [2:0]  wr_kind_o,
  output wire [((ARRAY_ROWS > 1) ? $clog2(ARRAY_ROWS) : 1)-1:0] wr_bank_o,
  output wire [WAW-1:0] wr_addr_o,
  output wire        eoc_o,         // last beat of a chunk written
  output wire        eoc_half_o,
  // Byte offset of the row being set up.
  output wire        off_we_o,
  output wire [2:0]  off_kind_o,
  output wire [31:0] off_idx_o,
  output wire [$clog2(AXI_DATA_WIDTH/8)-1:0] off_val_o,
  output wire        rd_err_o,
  output wire [63:0] rd_err_addr_o,
  output wire                      m_axi_arvalid,
  input  wire                      m_axi_arready,
  output wire [AXI_ADDR_WIDTH-1:0] m_axi_araddr,
  output wire [7:0]                m_axi_arlen,
  output wire [2:0]                m_axi_arsize,
  output wire [1:0]                m_axi_arburst,
  input  wire                      m_axi_rvalid,
  output wire                      m_axi_rready,
  input  wire [1:0]                m_axi_rresp
);
  `include "qmx_geom.vh"
  localparam integer FD  = RD_OUTSTANDING;
  localparam integer FDW = $clog2(FD);

  localparam [1:0] L_IDLE = 2'd0, L_WAIT = 2'd1, L_ROW = 2'd2, L_ISSUE = 2'd3;
  reg [1:0]  l_state;
  reg [31:0] lm0, ln0, lk0;
  reg [2:0]  l_kind;
  reg [31:0] l_idx;
  reg [63:0] l_a_tile, l_b_k0, l_arow, l_brow;
  reg [63:0] l_cur;
  reg [31:0] l_rem;
  reg [WAW-1:0] l_wnext;
  reg [RB-1:0]  l_bank;
  reg        l_eoc_row;

  wire [31:0] l_mt = (m_i - lm0 < MT32) ? m_i - lm0 : MT32;
  wire [31:0] l_nt = (n_i - ln0 < NT32) ? n_i - ln0 : NT32;
  wire [31:0] l_kt = (k_i - lk0 < KT32) ? k_i - lk0 : KT32;

  // Read-routing FIFO, one entry per burst in flight.
  reg [2:0]     f_kind  [0:FD-1];
  reg [RB-1:0]  f_bank  [0:FD-1];
  reg [WAW-1:0] f_wbase [0:FD-1];
  reg [8:0]     f_nb    [0:FD-1];
  reg [63:0]    f_addr  [0:FD-1];
  reg           f_eoc   [0:FD-1];
  reg           f_half  [0:FD-1];
  reg [FDW-1:0] f_wp, f_rp;
  reg [FDW:0]   f_cnt;
  reg [8:0]     f_beat;

  reg           ar_valid_q;
  reg [63:0]    ar_addr_q;
  reg [7:0]     ar_len_q;

  // Row being set up (L_ROW).
  reg [63:0]    row_addr;
  reg [31:0]    row_len;
  reg [WAW-1:0] row_wbase;
  always @* begin
    row_addr  = l_arow;
    row_len   = l_kt;
    row_wbase = {WAW{1'b0}};
    case (l_kind)
      K_BIAS: begin
        row_addr  = bias_addr_i + {30'd0, ln0, 2'b00};
        row_len   = {l_nt[29:0], 2'b00};
        row_wbase = (phalf_o ? RWP32[WAW-1:0] : {WAW{1'b0}});
      end
      K_MULT: begin
        row_addr  = mult_addr_i + {30'd0, ln0, 2'b00};
        row_len   = {l_nt[29:0], 2'b00};
        row_wbase = (phalf_o ? RWP32[WAW-1:0] : {WAW{1'b0}});
      end
      K_SHIFT: begin
        row_addr  = shift_addr_i + {30'd0, ln0, 2'b00};
        row_len   = {l_nt[29:0], 2'b00};
        row_wbase = (phalf_o ? RWP32[WAW-1:0] : {WAW{1'b0}});
      end
      K_A: begin
        row_addr  = l_arow;
        row_len   = l_kt;
        row_wbase = ({{(WAW-1){1'b0}}, half_o} * P32[WAW-1:0] + (l_idx[WAW-1:0] >> RB)) * RWA32[WAW-1:0];
      end
      default: begin
        row_addr  = l_brow;
        row_len   = l_nt;
        row_wbase = ({{(WAW-1){1'b0}}, half_o} * KT32[WAW-1:0] + l_idx[WAW-1:0]) * RWB32[WAW-1:0];
      end
    endcase
  end

  wire [31:0] row_beats = ({{(32-OFW){1'b0}}, row_addr[OFW-1:0]} + row_len + WB32 - 1) >> OFW;
  // Beats to the next 4 KiB boundary, and this burst's length.
  wire [31:0] l_to4k = (32'd4096 - {20'd0, l_cur[11:0]}) >> OFW;
  wire [31:0] l_nb0  = (l_rem < l_to4k) ? l_rem : l_to4k;
  wire [31:0] l_nb   = (l_nb0 > 32'd256) ? 32'd256 : l_nb0;
  wire        l_can  = (!ar_valid_q || m_axi_arready) && (f_cnt < FD[FDW:0]);
  wire        l_push = busy_i && !abort_i && l_state == L_ISSUE && l_can;

  // What comes after the current row.
  reg [2:0]  nx_kind;
  reg        nx_end;   // end of chunk
  always @* begin
    nx_kind = l_kind;
    nx_end  = 1'b0;
    case (l_kind)
      K_BIAS:  nx_kind = pc_i ? K_MULT : K_A;
      K_MULT:  nx_kind = K_SHIFT;
      K_SHIFT: nx_kind = K_A;
      K_A:     nx_kind = (l_idx + 1 < l_mt) ? K_A : K_B;
      default: begin nx_kind = K_B; nx_end = (l_idx + 1 >= l_kt); end
    endcase
  end

  wire l_wait_ok = half_empty_i[half_o] && (!first_o || !pbusy_i[phalf_o]);
  assign start_chunk_o = busy_i && !abort_i && l_state == L_WAIT && l_wait_ok;
  assign idle_o = l_state == L_IDLE;

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      l_state    <= L_IDLE;
      ar_valid_q <= 1'b0;
      f_wp       <= {FDW{1'b0}};
    end else begin
      if (ar_valid_q && m_axi_arready)
        ar_valid_q <= 1'b0;
      if (job_go_i) begin
        l_state  <= L_WAIT;
        lm0      <= 32'd0;
        ln0      <= 32'd0;
        lk0      <= 32'd0;
        half_o   <= 1'b0;
        phalf_o  <= 1'b0;
        first_o  <= 1'b1;
        l_a_tile <= a_addr_i;
        l_b_k0   <= b_addr_i;
      end else if (abort_i) begin
        l_state <= L_IDLE;
      end else begin
        case (l_state)
          L_WAIT: if (l_wait_ok) begin
            l_kind <= (first_o && hb_i) ? K_BIAS : (first_o && pc_i) ? K_MULT : K_A;
            l_idx  <= 32'd0;
            l_arow <= l_a_tile + {32'd0, lk0};
            l_brow <= l_b_k0 + {32'd0, ln0};
            l_state <= L_ROW;
          end
          L_ROW: begin
            l_cur     <= {row_addr[63:OFW], {OFW{1'b0}}};
            l_rem     <= row_beats;
            l_wnext   <= row_wbase;
            l_bank    <= l_idx[RB-1:0];
            l_eoc_row <= (l_kind == K_B) && (l_idx + 1 >= l_kt);
            l_state   <= L_ISSUE;
          end
          L_ISSUE: if (l_can) begin
            ar_valid_q <= 1'b1;
            ar_addr_q  <= l_cur;
            ar_len_q   <= l_nb[7:0] - 8'd1;
            f_kind[f_wp]  <= l_kind;
            f_bank[f_wp]  <= l_bank;
            f_wbase[f_wp] <= l_wnext;
            f_nb[f_wp]    <= l_nb[8:0];
            f_addr[f_wp]  <= l_cur;
            f_eoc[f_wp]   <= l_eoc_row && (l_rem == l_nb);
            f_half[f_wp]  <= half_o;
            f_wp          <= f_wp + 1'b1;
            l_cur   <= l_cur + ({32'd0, l_nb} << OFW);
            l_rem   <= l_rem - l_nb;
            l_wnext <= l_wnext + l_nb[WAW-1:0];
            if (l_rem == l_nb) begin
              // Row done: next row, or next chunk.
              if (l_kind == K_A)
                l_arow <= l_arow + {32'd0, lda_i};
              if (l_kind == K_B)
                l_brow <= l_brow + {32'd0, ldb_i};
              if (l_kind == K_A && nx_kind == K_B)
                l_idx <= 32'd0;
              else if (l_kind == nx_kind)
                l_idx <= l_idx + 1;
              l_kind <= nx_kind;
              l_state <= L_ROW;
              if (nx_end) begin
                l_state <= L_WAIT;
                half_o <= !half_o;
                if (lk0 + KT32 < k_i) begin
                  lk0     <= lk0 + KT32;
                  l_b_k0  <= l_b_k0 + {32'd0, ldb_i} * KT32;
                  first_o <= 1'b0;
                end else begin
                  lk0     <= 32'd0;
                  l_b_k0  <= b_addr_i;
                  first_o <= 1'b1;
                  phalf_o <= !phalf_o;
                  if (ln0 + NT32 < n_i) begin
                    ln0 <= ln0 + NT32;
                  end else begin
                    ln0 <= 32'd0;
                    if (lm0 + MT32 < m_i) begin
                      lm0      <= lm0 + MT32;
                      l_a_tile <= l_a_tile + {32'd0, lda_i} * MT32;
                    end else begin
                      l_state <= L_IDLE;
                    end
                  end
                end
              end
            end
          end
          default: ;
        endcase
      end
    end
  end

  assign off_we_o   = busy_i && l_state == L_ROW;
  assign off_kind_o = l_kind;
  assign off_idx_o  = l_idx;
  assign off_val_o  = row_addr[OFW-1:0];

  assign m_axi_arvalid = ar_valid_q;
  assign m_axi_araddr  = ar_addr_q[AXI_ADDR_WIDTH-1:0];
  assign m_axi_arlen   = ar_len_q;
  assign m_axi_arsize  = OFW[2:0];
  assign m_axi_arburst = 2'b01;
  assign m_axi_rready  = 1'b1;

  // ------------------------------------------------------------ read router
  wire   r_fire = m_axi_rvalid && f_cnt != 0;
  wire   r_last = f_beat + 1 == f_nb[f_rp];
  assign wr_o       = r_fire;
  assign wr_kind_o  = f_kind[f_rp];
  assign wr_bank_o  = f_bank[f_rp];
  assign wr_addr_o  = f_wbase[f_rp] + {{(WAW-9){1'b0}}, f_beat};
  assign eoc_o      = r_fire && r_last && f_eoc[f_rp];
  assign eoc_half_o = f_half[f_rp];
  assign quiet_o    = !ar_valid_q && f_cnt == 0;
  // SLVERR and DECERR both have bit 1 set; OKAY/EXOKAY do not.
  assign rd_err_o      = r_fire && m_axi_rresp[1];
  assign rd_err_addr_o = f_addr[f_rp] + ({55'd0, f_beat} << OFW);
  wire unused_resp = &{1'b0, m_axi_rresp[0]};

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      f_rp   <= {FDW{1'b0}};
      f_cnt  <= {(FDW+1){1'b0}};
      f_beat <= 9'd0;
    end else begin
      if (r_fire) begin
        if (r_last) begin
          f_beat <= 9'd0;
          f_rp   <= f_rp + 1'b1;
        end else begin
          f_beat <= f_beat + 9'd1;
        end
      end
      f_cnt <= f_cnt + {{FDW{1'b0}}, l_push} - {{FDW{1'b0}}, r_fire && r_last};
    end
  end

endmodule

`default_nettype wire
