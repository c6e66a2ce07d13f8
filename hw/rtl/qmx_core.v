// SPDX-License-Identifier: MIT
// qmx_core - the job engine: validation, DMA (read and write), tiling,
// double-buffered operand memories, the systolic array, drain and
// requantization.
//
// Tiling.  C is computed in blocks of MT x NT = (TILE_P*ROWS) x (TILE_Q*COLS)
// (ragged at the edges), K in chunks of up to TILE_K.  For each chunk the
// loader fetches the A rows (MT x kt) and B rows (kt x NT) of the block into
// one half of the operand memories while the sequencer computes on the other
// half: DMA overlaps compute.  Within a chunk the sequencer steps every
// ROWS x COLS sub-tile of the block over the chunk's k; each PE keeps one
// accumulator per sub-tile, so operands fetched once serve TILE_P (TILE_Q)
// sub-tiles.  On the last k of the last chunk each PE latches its sum; the
// drain streams the sub-tile through the requantizer into row segments and
// the writer stores each segment as an aligned burst with byte strobes (only
// the bytes of C's M x N elements are written).
//
// Rows of A, B and the per-channel vectors may start at any byte address:
// the loader fetches aligned bursts (never crossing 4 KiB) and the operand
// memories store beats as they are; the byte offset of each row is kept
// beside it and applied on read (qmx_xbuf).
//
// Errors.  Invalid arguments end the job at once with no memory access.  An
// error response ends it with AXI_READ / AXI_WRITE and the failing address;
// the engine stops issuing, drains what is outstanding, then signals done.
`default_nettype none
`include "qmx_regs.vh"
`include "qmx_defs.vh"

module qmx_core #(
  parameter integer ARRAY_ROWS = 8,
  parameter integer ARRAY_COLS = 8,
  parameter integer AXI_DATA_WIDTH = 64,
  parameter integer AXI_ADDR_WIDTH = 64,
  parameter integer AXI_ID_WIDTH = 1,
  parameter integer TILE_P = `QMX_DEF_TILE_P,
  parameter integer TILE_Q = `QMX_DEF_TILE_Q,
  parameter integer TILE_K = `QMX_DEF_TILE_K,
  parameter integer MAX_DIM = `QMX_DEF_MAX_DIM,
  parameter integer RD_OUTSTANDING = `QMX_DEF_RD_OUTSTANDING,
  parameter integer WR_OUTSTANDING = `QMX_DEF_WR_OUTSTANDING,
  parameter integer CNTW = 16
) (
  input  wire        clk_i,
  input  wire        rst_ni,       // hard reset
  input  wire        srst_i,       // SOFT_RESET: abort, back to idle
  input  wire        start_i,
  output wire        accept_o,
  output reg         done_o,
  output wire        busy_o,
  output reg  [7:0]  error_o,
  output reg  [63:0] error_addr_o,
  input  wire [63:0] a_addr_i,
  input  wire [63:0] b_addr_i,
  input  wire [63:0] c_addr_i,
  input  wire [63:0] bias_addr_i,
  input  wire [63:0] mult_addr_i,
  input  wire [63:0] shift_addr_i,
  input  wire [31:0] m_i,
  input  wire [31:0] n_i,
  input  wire [31:0] k_i,
  input  wire [31:0] lda_i,
  input  wire [31:0] ldb_i,
  input  wire [31:0] ldc_i,
  input  wire [31:0] a_zp_i,
  input  wire [31:0] b_zp_i,
  input  wire [31:0] c_zp_i,
  input  wire [31:0] qmin_i,
  input  wire [31:0] qmax_i,
  input  wire [31:0] mult_i,
  input  wire [31:0] shift_i,
  input  wire [31:0] flags_i,
  output wire            stall_o,
  output wire [CNTW-1:0] macs_inc_o,
  output wire [CNTW-1:0] sram_rd_inc_o,
  output wire [CNTW-1:0] sram_wr_inc_o,
  output wire [CNTW-1:0] ext_rd_inc_o,
  output wire [CNTW-1:0] ext_wr_inc_o,
  // AXI4 master
  output wire                        m_axi_awvalid,
  input  wire                        m_axi_awready,
  output wire [AXI_ADDR_WIDTH-1:0]   m_axi_awaddr,
  output wire [AXI_ID_WIDTH-1:0]     m_axi_awid,
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
  input  wire [1:0]                  m_axi_bresp,
  output wire                        m_axi_arvalid,
  input  wire                        m_axi_arready,
  output wire [AXI_ADDR_WIDTH-1:0]   m_axi_araddr,
  output wire [AXI_ID_WIDTH-1:0]     m_axi_arid,
  output wire [7:0]                  m_axi_arlen,
  output wire [2:0]                  m_axi_arsize,
  output wire [1:0]                  m_axi_arburst,
  input  wire                        m_axi_rvalid,
  output wire                        m_axi_rready,
  input  wire [AXI_DATA_WIDTH-1:0]   m_axi_rdata,
  input  wire [1:0]                  m_axi_rresp
);

  // ------------------------------------------------------------ geometry
  localparam integer R   = ARRAY_ROWS;
  localparam integer C   = ARRAY_COLS;
  localparam integer P   = TILE_P;
  localparam integer Q   = TILE_Q;
  localparam integer KT  = TILE_K;
  localparam integer MT  = P * R;
  localparam integer NT  = Q * C;
  localparam integer WB  = AXI_DATA_WIDTH / 8;     // bytes per beat
  localparam integer OFW = $clog2(WB);
  localparam integer RB  = (R > 1) ? $clog2(R) : 1;
  localparam integer NACC = P * Q;
  localparam integer ACCW = $clog2(NACC);
  // Words per buffered row: any byte offset plus the row.
  localparam integer RWA = (WB - 1 + KT + WB - 1) / WB;
  localparam integer RWB = (WB - 1 + NT + WB - 1) / WB;
  localparam integer RWP = (WB - 1 + 4 * NT + WB - 1) / WB;
  localparam integer ADEPTH = 2 * P * RWA;
  localparam integer BDEPTH = 2 * KT * RWB;
  localparam integer PDEPTH = 2 * RWP;
  localparam integer WAW = $clog2(BDEPTH + ADEPTH + PDEPTH) + 1;  // word address bits
  localparam integer BAW = WAW + OFW;                              // byte address bits
  localparam integer FD  = RD_OUTSTANDING;
  localparam integer FDW = $clog2(FD);
  localparam integer WD  = WR_OUTSTANDING;
  localparam integer WDW = $clog2(WD);
  localparam integer SEGB = C * 4;                 // bytes of one output row segment
  localparam integer WIDEB = SEGB + WB;

  localparam [31:0] R32 = R, C32 = C, MT32 = MT, NT32 = NT, KT32 = KT;
  localparam [31:0] RWA32 = RWA, RWB32 = RWB, RWP32 = RWP, WB32 = WB, P32 = P, Q32 = Q;
  localparam [31:0] MAXD = MAX_DIM;

  localparam [2:0] K_BIAS = 3'd0, K_MULT = 3'd1, K_SHIFT = 3'd2, K_A = 3'd3, K_B = 3'd4;
  localparam [1:0] H_EMPTY = 2'd0, H_FILLING = 2'd1, H_FULL = 2'd2;

  // ------------------------------------------------------------ job control
  wire eng_rst_n = rst_ni && !srst_i;
  reg  busy_q, abort_q;

  wire int8_f = flags_i[`QMX_FLAGS_OUT_INT8_BIT];
  wire pc_f   = flags_i[`QMX_FLAGS_PER_CHANNEL_BIT] && int8_f;
  wire hb_f   = flags_i[`QMX_FLAGS_HAS_BIAS_BIT];

  function in_i8(input [31:0] x);
    in_i8 = ($signed(x) >= -32'sd128) && ($signed(x) <= 32'sd127);
  endfunction

  wire v_zero  = (m_i == 0) || (n_i == 0) || (k_i == 0);
  wire v_big   = (m_i > MAXD) || (n_i > MAXD) || (k_i > MAXD) ||
                 (lda_i > MAXD) || (ldb_i > MAXD) || (ldc_i > MAXD);
  wire v_strd  = (lda_i < k_i) || (ldb_i < n_i) || (ldc_i < n_i);
  wire [31:0] flag_mask = (32'd1 << `QMX_FLAGS_OUT_INT8_BIT) |
                          (32'd1 << `QMX_FLAGS_PER_CHANNEL_BIT) |
                          (32'd1 << `QMX_FLAGS_HAS_BIAS_BIT);
  wire v_flags = (flags_i & ~flag_mask) != 0;
  wire v_quant = !in_i8(a_zp_i) || !in_i8(b_zp_i) ||
                 (int8_f && (!in_i8(c_zp_i) || !in_i8(qmin_i) || !in_i8(qmax_i) ||
                             ($signed(qmin_i) > $signed(qmax_i)) ||
                             (!pc_f && (mult_i[31] || ($signed(shift_i) < -32'sd31) ||
                                        ($signed(shift_i) > 32'sd30)))));
  wire [7:0] verr = v_zero  ? `QMX_ERROR_ZERO_DIM :
                    v_big   ? `QMX_ERROR_DIM_TOO_LARGE :
                    v_strd  ? `QMX_ERROR_BAD_STRIDE :
                    v_flags ? `QMX_ERROR_BAD_FLAGS :
                    v_quant ? `QMX_ERROR_BAD_QUANT : `QMX_ERROR_NONE;

  assign accept_o = start_i && !busy_q && !done_o;
  wire   job_go   = accept_o && verr == `QMX_ERROR_NONE;
  assign busy_o   = busy_q;

  // Error capture: the first AXI error of a job wins.
  wire       rd_err, wr_err;
  wire [63:0] rd_err_addr, wr_err_addr;

  // ------------------------------------------------------------ shared state
  reg [1:0] hstate_q [0:1];   // operand halves
  reg [1:0] pbusy_q;          // per-channel vector halves (one per tile)

  // Byte offsets of buffered rows, written by the loader, read by compute.
  reg [OFW-1:0] aoff_q [0:R*2*P-1];
  reg [OFW-1:0] boff_q [0:2*KT-1];
  reg [OFW-1:0] poff_q [0:5];        // {kind, half}

  // ============================================================ loader
  localparam [2:0] L_IDLE = 3'd0, L_WAIT = 3'd1, L_ROW = 3'd2, L_ISSUE = 3'd3;
  reg [2:0]  l_state;
  reg [31:0] lm0, ln0, lk0;
  reg        lh, lph, l_first;
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
        row_wbase = (lph ? RWP32[WAW-1:0] : {WAW{1'b0}});
      end
      K_MULT: begin
        row_addr  = mult_addr_i + {30'd0, ln0, 2'b00};
        row_len   = {l_nt[29:0], 2'b00};
        row_wbase = (lph ? RWP32[WAW-1:0] : {WAW{1'b0}});
      end
      K_SHIFT: begin
        row_addr  = shift_addr_i + {30'd0, ln0, 2'b00};
        row_len   = {l_nt[29:0], 2'b00};
        row_wbase = (lph ? RWP32[WAW-1:0] : {WAW{1'b0}});
      end
      K_A: begin
        row_addr  = l_arow;
        row_len   = l_kt;
        row_wbase = ({{(WAW-1){1'b0}}, lh} * P32[WAW-1:0] + (l_idx[WAW-1:0] >> RB)) * RWA32[WAW-1:0];
      end
      default: begin
        row_addr  = l_brow;
        row_len   = l_nt;
        row_wbase = ({{(WAW-1){1'b0}}, lh} * KT32[WAW-1:0] + l_idx[WAW-1:0]) * RWB32[WAW-1:0];
      end
    endcase
  end

  wire [31:0] row_beats = ({{(32-OFW){1'b0}}, row_addr[OFW-1:0]} + row_len + WB32 - 1) >> OFW;
  // Beats to the next 4 KiB boundary, and this burst's length.
  wire [31:0] l_to4k = (32'd4096 - {20'd0, l_cur[11:0]}) >> OFW;
  wire [31:0] l_nb0  = (l_rem < l_to4k) ? l_rem : l_to4k;
  wire [31:0] l_nb   = (l_nb0 > 32'd256) ? 32'd256 : l_nb0;
  wire        l_can  = (!ar_valid_q || m_axi_arready) && (f_cnt < FD[FDW:0]);
  wire        l_push = busy_q && !abort_q && l_state == L_ISSUE && l_can;

  // What comes after the current row.
  reg [2:0]  nx_kind;
  reg        nx_end;   // end of chunk
  always @* begin
    nx_kind = l_kind;
    nx_end  = 1'b0;
    case (l_kind)
      K_BIAS:  nx_kind = pc_f ? K_MULT : K_A;
      K_MULT:  nx_kind = K_SHIFT;
      K_SHIFT: nx_kind = K_A;
      K_A:     nx_kind = (l_idx + 1 < l_mt) ? K_A : K_B;
      default: begin nx_kind = K_B; nx_end = (l_idx + 1 >= l_kt); end
    endcase
  end

  wire l_wait_ok = hstate_q[lh] == H_EMPTY && (!l_first || !pbusy_q[lph]);
  wire l_start_chunk = busy_q && !abort_q && l_state == L_WAIT && l_wait_ok;

  always @(posedge clk_i) begin
    if (!eng_rst_n) begin
      l_state    <= L_IDLE;
      ar_valid_q <= 1'b0;
      f_wp       <= {FDW{1'b0}};
    end else begin
      if (ar_valid_q && m_axi_arready)
        ar_valid_q <= 1'b0;
      if (job_go) begin
        l_state  <= L_WAIT;
        lm0      <= 32'd0;
        ln0      <= 32'd0;
        lk0      <= 32'd0;
        lh       <= 1'b0;
        lph      <= 1'b0;
        l_first  <= 1'b1;
        l_a_tile <= a_addr_i;
        l_b_k0   <= b_addr_i;
      end else if (abort_q) begin
        l_state <= L_IDLE;
      end else begin
        case (l_state)
          L_WAIT: if (l_wait_ok) begin
            l_kind <= (l_first && hb_f) ? K_BIAS : (l_first && pc_f) ? K_MULT : K_A;
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
            f_half[f_wp]  <= lh;
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
                lh <= !lh;
                if (lk0 + KT32 < k_i) begin
                  lk0     <= lk0 + KT32;
                  l_b_k0  <= l_b_k0 + {32'd0, ldb_i} * KT32;
                  l_first <= 1'b0;
                end else begin
                  lk0     <= 32'd0;
                  l_b_k0  <= b_addr_i;
                  l_first <= 1'b1;
                  lph     <= !lph;
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

  // Offsets of buffered rows.
  always @(posedge clk_i) begin
    if (busy_q && l_state == L_ROW) begin
      case (l_kind)
        K_BIAS:  poff_q[{2'd0, lph}] <= row_addr[OFW-1:0];
        K_MULT:  poff_q[{2'd1, lph}] <= row_addr[OFW-1:0];
        K_SHIFT: poff_q[{2'd2, lph}] <= row_addr[OFW-1:0];
        K_A:     aoff_q[l_idx[RB-1:0] * 2 * P + (lh ? P : 0) + (l_idx >> RB)] <= row_addr[OFW-1:0];
        default: boff_q[(lh ? KT : 0) + l_idx] <= row_addr[OFW-1:0];
      endcase
    end
  end

  assign m_axi_arvalid = ar_valid_q;
  assign m_axi_araddr  = ar_addr_q[AXI_ADDR_WIDTH-1:0];
  assign m_axi_arlen   = ar_len_q;
  assign m_axi_arsize  = OFW[2:0];
  assign m_axi_arburst = 2'b01;
  assign m_axi_arid    = {AXI_ID_WIDTH{1'b0}};
  assign m_axi_rready  = 1'b1;

  // ------------------------------------------------------------ read router
  wire           r_fire  = m_axi_rvalid && f_cnt != 0;
  wire [2:0]     r_kind  = f_kind[f_rp];
  wire [WAW-1:0] r_waddr = f_wbase[f_rp] + {{(WAW-9){1'b0}}, f_beat};
  wire           r_last  = f_beat + 1 == f_nb[f_rp];
  wire           r_eoc   = r_fire && r_last && f_eoc[f_rp];
  wire           r_half  = f_half[f_rp];
  // SLVERR and DECERR both have bit 1 set; OKAY/EXOKAY do not.
  assign rd_err      = r_fire && m_axi_rresp[1];
  wire unused_resp = &{1'b0, m_axi_rresp[0], m_axi_bresp[0]};
  assign rd_err_addr = f_addr[f_rp] + ({55'd0, f_beat} << OFW);

  always @(posedge clk_i) begin
    if (!eng_rst_n) begin
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

  // ============================================================ sequencer
  localparam [2:0] S_IDLE = 3'd0, S_WAIT = 3'd1, S_RUN = 3'd2, S_REL = 3'd3;
  reg [2:0]  s_state;
  reg [31:0] sm0, sn0, sk0;
  reg        sh, sph;
  reg [31:0] sp, sq, sk;
  reg [31:0] s_mt, s_nt, s_kt;
  reg        s_lastchunk, s_firstchunk;
  reg [1:0]  s_rel;
  reg        last_pending;

  wire [31:0] sp_r = sp * R32;
  wire [31:0] sq_c = sq * C32;
  wire [31:0] s_rv = (s_mt - sp_r < R32) ? s_mt - sp_r : R32;
  wire [31:0] s_cv = (s_nt - sq_c < C32) ? s_nt - sq_c : C32;
  wire        s_klast = sk + 1 >= s_kt;
  wire        s_qlast = sq_c + C32 >= s_nt;
  wire        s_plast = sp_r + R32 >= s_mt;
  wire        s_is_last = s_lastchunk && s_klast;
  wire        issue = busy_q && !abort_q && s_state == S_RUN && !(s_is_last && last_pending);

  // Drain descriptor, captured when the last step of a sub-tile issues.
  reg [31:0] d_rv, d_cv;
  /* verilator lint_off UNUSEDSIGNAL */
  reg [31:0] d_q;
  /* verilator lint_on UNUSEDSIGNAL */
  reg        d_ph, d_final;
  reg [63:0] d_caddr;
  wire [1:0]  esh = int8_f ? 2'd0 : 2'd2;
  wire [63:0] c_elem = ({32'd0, sm0 + sp_r} * {32'd0, ldc_i}) + {32'd0, sn0 + sq_c};

  always @(posedge clk_i) begin
    if (!eng_rst_n) begin
      s_state <= S_IDLE;
    end else if (job_go) begin
      s_state <= S_WAIT;
      sm0 <= 32'd0;
      sn0 <= 32'd0;
      sk0 <= 32'd0;
      sh  <= 1'b0;
      sph <= 1'b0;
    end else if (abort_q) begin
      s_state <= S_IDLE;
    end else begin
      case (s_state)
        S_WAIT: if (hstate_q[sh] == H_FULL) begin
          s_mt <= (m_i - sm0 < MT32) ? m_i - sm0 : MT32;
          s_nt <= (n_i - sn0 < NT32) ? n_i - sn0 : NT32;
          s_kt <= (k_i - sk0 < KT32) ? k_i - sk0 : KT32;
          s_lastchunk  <= sk0 + KT32 >= k_i;
          s_firstchunk <= sk0 == 0;
          sp <= 32'd0;
          sq <= 32'd0;
          sk <= 32'd0;
          s_state <= S_RUN;
        end
        S_RUN: if (issue) begin
          if (!s_klast) begin
            sk <= sk + 1;
          end else begin
            sk <= 32'd0;
            if (!s_qlast) begin
              sq <= sq + 1;
            end else begin
              sq <= 32'd0;
              if (!s_plast) begin
                sp <= sp + 1;
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
            sh <= !sh;
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
    if (issue && s_is_last) begin
      d_rv    <= s_rv;
      d_cv    <= s_cv;
      d_q     <= sq;
      d_ph    <= sph;
      d_final <= s_qlast && s_plast;
      d_caddr <= c_addr_i + (c_elem << esh);
    end
  end

  // ------------------------------------------------------------ operand memories
  wire [R*8-1:0] a_bytes;
  wire [C*8-1:0] b_bytes;

  genvar gi;
  generate
    for (gi = 0; gi < R; gi = gi + 1) begin : gen_abuf
      localparam [RB-1:0] GI = gi;
      wire [BAW-1:0] ra = ((({{(BAW-1){1'b0}}, sh} * P32[BAW-1:0]) + sp[BAW-1:0]) * RWA32[BAW-1:0] << OFW) +
                          {{(BAW-OFW){1'b0}}, aoff_q[gi * 2 * P + (sh ? P : 0) + sp]} + sk[BAW-1:0];
      qmx_xbuf #(.WB(WB), .RDB(1), .DEPTH(ADEPTH), .WAW(WAW), .BAW(BAW)) i_abuf (
        .clk_i   (clk_i),
        .we_i    (r_fire && r_kind == K_A && f_bank[f_rp] == GI),
        .waddr_i (r_waddr),
        .wdata_i (m_axi_rdata),
        .raddr_i (ra),
        .rdata_o (a_bytes[gi*8 +: 8])
      );
    end
  endgenerate

  wire [BAW-1:0] b_ra = ((({{(BAW-1){1'b0}}, sh} * KT32[BAW-1:0]) + sk[BAW-1:0]) * RWB32[BAW-1:0] << OFW) +
                        {{(BAW-OFW){1'b0}}, boff_q[(sh ? KT : 0) + sk]} + sq_c[BAW-1:0];
  qmx_xbuf #(.WB(WB), .RDB(C), .DEPTH(BDEPTH), .WAW(WAW), .BAW(BAW)) i_bbuf (
    .clk_i   (clk_i),
    .we_i    (r_fire && r_kind == K_B),
    .waddr_i (r_waddr),
    .wdata_i (m_axi_rdata),
    .raddr_i (b_ra),
    .rdata_o (b_bytes)
  );

  // ------------------------------------------------------------ array feed
  reg            fv_q, ffirst_q, flast_q;
  reg [ACCW-1:0] facc_q;
  always @(posedge clk_i) begin
    if (!eng_rst_n)
      fv_q <= 1'b0;
    else
      fv_q <= issue;
    ffirst_q <= s_firstchunk && sk == 0;
    flast_q  <= s_is_last;
    facc_q   <= sp[ACCW-1:0] * Q32[ACCW-1:0] + sq[ACCW-1:0];
  end

  reg [R*9-1:0] a_in;
  reg [C*9-1:0] b_in;
  integer fi;
  always @* begin
    for (fi = 0; fi < R; fi = fi + 1)
      a_in[fi*9 +: 9] = {a_bytes[fi*8+7], a_bytes[fi*8 +: 8]} - a_zp_i[8:0];
    for (fi = 0; fi < C; fi = fi + 1)
      b_in[fi*9 +: 9] = {b_bytes[fi*8+7], b_bytes[fi*8 +: 8]} - b_zp_i[8:0];
  end

  localparam integer SELW = $clog2(R * C);
  wire [SELW-1:0]   res_sel;
  wire [31:0]       res;
  wire              arr_last;
  qmx_array #(.ROWS(R), .COLS(C), .NACC(NACC), .ACCW(ACCW), .SELW(SELW)) i_array (
    .clk_i       (clk_i),
    .rst_ni      (eng_rst_n),
    .a_i         (a_in),
    .b_i         (b_in),
    .v_i         (fv_q),
    .first_i     (ffirst_q),
    .last_i      (flast_q),
    .acc_i       (facc_q),
    .last_done_o (arr_last),
    .sel_i       (res_sel),
    .res_o       (res)
  );

  // ============================================================ drain
  localparam [1:0] D_IDLE = 2'd0, D_ROW = 2'd1, D_EL = 2'd2;
  reg [1:0]  d_state;
  reg        d_fire_q;
  reg [31:0] d_i, d_j;
  reg [63:0] d_rowaddr;
  reg        d_slot;

  reg [1:0]      seg_busy, seg_full;
  reg [63:0]     seg_addr [0:1];
  reg [31:0]     seg_n    [0:1];
  reg [C*32-1:0] seg_data [0:1];

  wire [63:0] ldc_bytes = {32'd0, ldc_i} << esh;
  wire        d_emit = busy_q && !abort_q && d_state == D_EL;
  wire        d_jlast = d_j + 1 >= d_cv;
  wire        d_ilast = d_i + 1 >= d_rv;

  always @(posedge clk_i) begin
    if (!eng_rst_n) begin
      d_state      <= D_IDLE;
      d_fire_q     <= 1'b0;
      last_pending <= 1'b0;
      d_slot       <= 1'b0;
    end else begin
      d_fire_q <= arr_last;
      if (job_go) begin
        d_state      <= D_IDLE;
        last_pending <= 1'b0;
        d_slot       <= 1'b0;
      end else if (abort_q) begin
        d_state <= D_IDLE;
      end else begin
        if (issue && s_is_last)
          last_pending <= 1'b1;
        case (d_state)
          D_IDLE: if (d_fire_q) begin
            d_i       <= 32'd0;
            d_rowaddr <= d_caddr;
            d_state   <= D_ROW;
          end
          D_ROW: if (!seg_busy[d_slot]) begin
            d_j     <= 32'd0;
            d_state <= D_EL;
          end
          D_EL: begin
            if (!d_jlast) begin
              d_j <= d_j + 1;
            end else begin
              d_slot <= !d_slot;
              if (!d_ilast) begin
                d_i       <= d_i + 1;
                d_rowaddr <= d_rowaddr + ldc_bytes;
                d_state   <= D_ROW;
              end else begin
                last_pending <= 1'b0;
                d_state      <= D_IDLE;
              end
            end
          end
          default: ;
        endcase
      end
    end
  end

  // Per-channel vectors: read the three at column q*COLS + j of the block.
  wire [BAW-1:0] p_ra_base = (d_ph ? RWP32[BAW-1:0] : {BAW{1'b0}}) << OFW;
  wire [BAW-1:0] p_col = ((d_q[BAW-1:0] * C32[BAW-1:0]) + d_j[BAW-1:0]) << 2;
  wire [31:0] bias_x, mult_x, shift_x;
  wire        pw_fire = r_fire && r_kind <= K_SHIFT;

  qmx_xbuf #(.WB(WB), .RDB(4), .DEPTH(PDEPTH), .WAW(WAW), .BAW(BAW)) i_bias (
    .clk_i (clk_i), .we_i (pw_fire && r_kind == K_BIAS), .waddr_i (r_waddr), .wdata_i (m_axi_rdata),
    .raddr_i (p_ra_base + {{(BAW-OFW){1'b0}}, poff_q[{2'd0, d_ph}]} + p_col), .rdata_o (bias_x));
  qmx_xbuf #(.WB(WB), .RDB(4), .DEPTH(PDEPTH), .WAW(WAW), .BAW(BAW)) i_mult (
    .clk_i (clk_i), .we_i (pw_fire && r_kind == K_MULT), .waddr_i (r_waddr), .wdata_i (m_axi_rdata),
    .raddr_i (p_ra_base + {{(BAW-OFW){1'b0}}, poff_q[{2'd1, d_ph}]} + p_col), .rdata_o (mult_x));
  qmx_xbuf #(.WB(WB), .RDB(4), .DEPTH(PDEPTH), .WAW(WAW), .BAW(BAW)) i_shift (
    .clk_i (clk_i), .we_i (pw_fire && r_kind == K_SHIFT), .waddr_i (r_waddr), .wdata_i (m_axi_rdata),
    .raddr_i (p_ra_base + {{(BAW-OFW){1'b0}}, poff_q[{2'd2, d_ph}]} + p_col), .rdata_o (shift_x));

  // Element stage 1: result of PE(i, j), tag {slot, last column, column}.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] res_sel32 = d_i * C32 + d_j;
  /* verilator lint_on UNUSEDSIGNAL */
  assign res_sel = res_sel32[SELW-1:0];
  localparam integer JW = (C > 1) ? $clog2(C) : 1;
  reg            e_v;
  reg [31:0]     e_res;
  reg [JW+1:0]   e_tag;
  always @(posedge clk_i) begin
    if (!eng_rst_n)
      e_v <= 1'b0;
    else
      e_v <= d_emit;
    e_res <= res;
    e_tag <= {d_slot, d_jlast, d_j[JW-1:0]};
  end

  wire           rq_v;
  wire [JW+1:0]  rq_tag;
  wire [31:0]    rq_res;
  qmx_requant #(.TAGW(JW + 2)) i_requant (
    .clk_i   (clk_i),
    .rst_ni  (eng_rst_n),
    .v_i     (e_v),
    .tag_i   (e_tag),
    .acc_i   (e_res),
    .bias_i  (hb_f ? bias_x : 32'd0),
    .mult_i  (pc_f ? mult_x : mult_i),
    .shift_i (pc_f ? shift_x : shift_i),
    .int8_i  (int8_f),
    .zc_i    (c_zp_i),
    .qmin_i  (qmin_i),
    .qmax_i  (qmax_i),
    .v_o     (rq_v),
    .tag_o   (rq_tag),
    .res_o   (rq_res)
  );

  // ============================================================ writer
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
      if (int8_f) begin
        seg_bytes[wi*8 +: 8] = seg_data[w_slot][wi*32 +: 8];
        seg_mask[wi]         = wi < seg_n[w_slot];
      end else begin
        seg_bytes[wi*32 +: 32] = seg_data[w_slot][wi*32 +: 32];
        seg_mask[wi*4 +: 4]    = {4{wi < seg_n[w_slot]}};
      end
    end
  end
  wire [OFW-1:0] w_off    = seg_addr[w_slot][OFW-1:0];
  wire [31:0]    w_nbytes = seg_n[w_slot] << esh;
  wire [31:0]    w_to4k   = (32'd4096 - {20'd0, w_addr[11:0]}) >> OFW;
  wire [31:0]    w_nb0    = (w_rem < w_to4k) ? w_rem : w_to4k;
  wire [31:0]    w_nb     = (w_nb0 > 32'd256) ? 32'd256 : w_nb0;
  wire           aw_fire  = aw_valid_q && m_axi_awready;
  wire           w_fire   = w_state == W_DATA && m_axi_wready;
  wire           b_fire   = m_axi_bvalid && b_cnt != 0;

  always @(posedge clk_i) begin
    if (!eng_rst_n) begin
      w_state    <= W_IDLE;
      w_slot     <= 1'b0;
      aw_valid_q <= 1'b0;
      seg_busy   <= 2'b00;
      seg_full   <= 2'b00;
      b_cnt      <= {(WDW+1){1'b0}};
      b_wp       <= {WDW{1'b0}};
      b_rp       <= {WDW{1'b0}};
    end else begin
      if (job_go) begin
        w_slot   <= 1'b0;
        seg_busy <= 2'b00;
        seg_full <= 2'b00;
      end
      // Drain: allocate a segment, fill it from the requantizer.
      if (!abort_q && d_state == D_ROW && !seg_busy[d_slot]) begin
        seg_busy[d_slot] <= 1'b1;
        seg_addr[d_slot] <= d_rowaddr;
        seg_n[d_slot]    <= d_cv;
      end
      if (rq_v) begin
        seg_data[rq_tag[JW+1]][32 * rq_tag[JW-1:0] +: 32] <= rq_res;
        if (rq_tag[JW])
          seg_full[rq_tag[JW+1]] <= 1'b1;
      end
      case (w_state)
        W_IDLE: if (busy_q && !abort_q && seg_full[w_slot]) begin
          w_data  <= {{(WB*8){1'b0}}, seg_bytes} << {w_off, 3'b000};
          w_strb  <= {{WB{1'b0}}, seg_mask} << w_off;
          w_addr  <= {seg_addr[w_slot][63:OFW], {OFW{1'b0}}};
          w_rem   <= ({{(32-OFW){1'b0}}, w_off} + w_nbytes + WB32 - 1) >> OFW;
          w_state <= W_AWSET;
        end
        W_AWSET: begin
          if (abort_q) begin
            seg_full[w_slot] <= 1'b0;
            seg_busy[w_slot] <= 1'b0;
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
            if (w_rem == 1 || abort_q) begin
              seg_full[w_slot] <= 1'b0;
              seg_busy[w_slot] <= 1'b0;
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

  assign wr_err      = b_fire && m_axi_bresp[1];
  assign wr_err_addr = b_addr[b_rp];

  assign m_axi_awvalid = aw_valid_q;
  assign m_axi_awaddr  = aw_addr_q[AXI_ADDR_WIDTH-1:0];
  assign m_axi_awlen   = aw_len_q;
  assign m_axi_awsize  = OFW[2:0];
  assign m_axi_awburst = 2'b01;
  assign m_axi_awid    = {AXI_ID_WIDTH{1'b0}};
  assign m_axi_wvalid  = w_state == W_DATA;
  assign m_axi_wdata   = w_data[WB*8-1:0];
  assign m_axi_wstrb   = w_strb[WB-1:0];
  assign m_axi_wlast   = w_cnt == 1;
  assign m_axi_bready  = 1'b1;

  // ============================================================ half states, job end
  wire s_release = busy_q && !abort_q && s_state == S_REL && s_rel == 0;
  wire d_final_done = d_emit && d_jlast && d_ilast && d_final;

  wire all_done = s_state == S_IDLE && l_state == L_IDLE && d_state == D_IDLE &&
                  !last_pending && seg_busy == 2'b00 && w_state == W_IDLE && b_cnt == 0;
  wire abort_done = !ar_valid_q && f_cnt == 0 && w_state == W_IDLE && b_cnt == 0;

  always @(posedge clk_i) begin
    if (!eng_rst_n) begin
      busy_q      <= 1'b0;
      abort_q     <= 1'b0;
      done_o      <= 1'b0;
      hstate_q[0] <= H_EMPTY;
      hstate_q[1] <= H_EMPTY;
      pbusy_q     <= 2'b00;
    end else begin
      done_o <= 1'b0;
      if (accept_o) begin
        busy_q      <= job_go;
        abort_q     <= 1'b0;
        done_o      <= !job_go;
        hstate_q[0] <= H_EMPTY;
        hstate_q[1] <= H_EMPTY;
        pbusy_q     <= 2'b00;
      end else if (busy_q) begin
        if (rd_err || wr_err)
          abort_q <= 1'b1;
        if (abort_q ? abort_done : all_done) begin
          busy_q <= 1'b0;
          done_o <= 1'b1;
        end
        if (l_start_chunk) begin
          hstate_q[lh] <= H_FILLING;
          if (l_first)
            pbusy_q[lph] <= 1'b1;
        end
        if (r_eoc)
          hstate_q[r_half] <= H_FULL;
        if (s_release)
          hstate_q[sh] <= H_EMPTY;
        if (d_final_done)
          pbusy_q[d_ph] <= 1'b0;
      end
    end
  end

  // ERROR survives soft reset (it explains the job that was aborted).
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      error_o      <= `QMX_ERROR_NONE;
      error_addr_o <= 64'd0;
    end else if (accept_o) begin
      error_o      <= verr;
      error_addr_o <= 64'd0;
    end else if (busy_q && !abort_q && error_o == `QMX_ERROR_NONE) begin
      if (rd_err) begin
        error_o      <= `QMX_ERROR_AXI_READ;
        error_addr_o <= rd_err_addr;
      end else if (wr_err) begin
        error_o      <= `QMX_ERROR_AXI_WRITE;
        error_addr_o <= wr_err_addr;
      end
    end
  end

  // ------------------------------------------------------------ activity
  localparam [31:0] WB_32 = WB;
  localparam [31:0] RC_32 = R + C;
  localparam [CNTW-1:0] WB_C = WB_32[CNTW-1:0];
  localparam [CNTW-1:0] RC_C = RC_32[CNTW-1:0];
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] macs_step = s_rv * s_cv;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [CNTW-1:0] p_bytes = (hb_f ? 16'd4 : 16'd0) + (pc_f ? 16'd8 : 16'd0);
  assign stall_o       = busy_q && !issue;
  assign macs_inc_o    = issue ? macs_step[CNTW-1:0] : {CNTW{1'b0}};
  assign sram_rd_inc_o = (issue ? RC_C : {CNTW{1'b0}}) + (d_emit ? p_bytes : {CNTW{1'b0}});
  assign sram_wr_inc_o = (m_axi_rvalid && f_cnt != 0) ? WB_C : {CNTW{1'b0}};
  assign ext_rd_inc_o  = m_axi_rvalid ? WB_C : {CNTW{1'b0}};
  assign ext_wr_inc_o  = w_fire ? WB_C : {CNTW{1'b0}};

endmodule

`default_nettype wire
