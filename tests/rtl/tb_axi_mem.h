/* SPDX-License-Identifier: MIT */
/*
 * tb_axi_mem.h - AXI4 slave memory model for the qmx_top testbenches.
 *
 * A flat memory at [base, base + size); anything outside answers DECERR.
 * Reads and writes are in order, with a fixed latency from address to first
 * beat, and then one beat per cycle (nominal bandwidth).  Optional seeded
 * random back-pressure.  Checks the master side of the protocol: aligned
 * INCR bursts of full bus width, no 4 KiB crossing, WLAST, VALID held and
 * payload stable until READY.  The first violation is kept in `violation`.
 */
#ifndef TB_AXI_MEM_H
#define TB_AXI_MEM_H

#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include <verilated.h>

extern "C" { /* qmx_util.h has no C++ guards */
#include "qmx_util.h"
}

/* Bus words: QData for 64-bit buses, VlWide for wider ones. */
static inline void tb_set_beat(QData &d, const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	d = v;
}
template <std::size_t W> static inline void tb_set_beat(VlWide<W> &d, const uint8_t *p)
{
	for (std::size_t i = 0; i < W; i++) {
		uint32_t v;
		memcpy(&v, p + 4 * i, 4);
		d[i] = v;
	}
}
static inline void tb_get_beat(const QData &d, uint8_t *p)
{
	uint64_t v = d;
	memcpy(p, &v, 8);
}
template <std::size_t W> static inline void tb_get_beat(const VlWide<W> &d, uint8_t *p)
{
	for (std::size_t i = 0; i < W; i++) {
		uint32_t v = d[i];
		memcpy(p + 4 * i, &v, 4);
	}
}

class TbAxiMem {
public:
	TbAxiMem(uint64_t base, size_t size, unsigned bus_bytes)
		: base(base), mem(size, 0), wb(bus_bytes)
	{
	}

	uint64_t base;
	std::vector<uint8_t> mem;
	unsigned wb;
	unsigned latency = 40;   /* cycles from AR/AW to first R beat / B */
	unsigned max_reads = 16; /* bursts accepted and not yet returned */
	unsigned stall_pct = 0;  /* random back-pressure, percent of cycles */
	bool hang = false;       /* never answer reads (for SOFT_RESET tests) */
	qmx_rng rng = { 1 };
	std::string violation;
	uint64_t cycle = 0;
	uint64_t beats_r = 0, beats_w = 0;

	uint8_t *at(uint64_t addr) { return &mem[addr - base]; }
	bool inside(uint64_t addr, uint64_t len) const
	{
		return addr >= base && addr + len <= base + mem.size();
	}

	void reset()
	{
		rq.clear();
		wq.clear();
		bq.clear();
		w_beat = 0;
		prev_ar = prev_aw = prev_w = false;
	}

	/* Drive the slave outputs for this cycle (before the rising edge). */
	template <class T> void drive(T *t)
	{
		ar_ready = rq.size() < max_reads && !stall();
		t->m_axi_gmem_arready = ar_ready;
		r_valid = !hang && !rq.empty() && rq.front().ready <= cycle && !stall();
		t->m_axi_gmem_rvalid = r_valid;
		if (r_valid) {
			Burst &b = rq.front();
			uint64_t a = b.addr + (uint64_t)b.done * wb;
			uint8_t buf[64] = { 0 };
			if (!b.err)
				memcpy(buf, at(a), wb);
			tb_set_beat(t->m_axi_gmem_rdata, buf);
			t->m_axi_gmem_rresp = b.err ? 3 : 0;
			t->m_axi_gmem_rlast = b.done == b.len;
		} else {
			t->m_axi_gmem_rlast = 0;
			t->m_axi_gmem_rresp = 0;
		}
		t->m_axi_gmem_rid = 0;
		aw_ready = wq.size() < 8 && !stall();
		t->m_axi_gmem_awready = aw_ready;
		w_ready = !wq.empty() && !stall();
		t->m_axi_gmem_wready = w_ready;
		b_valid = !bq.empty() && bq.front().ready <= cycle;
		t->m_axi_gmem_bvalid = b_valid;
		t->m_axi_gmem_bresp = b_valid ? bq.front().resp : 0;
		t->m_axi_gmem_bid = 0;
	}

	/* Sample the master outputs (after evaluating with the slave outputs,
	 * before the edge); apply the handshakes of this cycle. */
	template <class T> void sample(T *t)
	{
		bool arv = t->m_axi_gmem_arvalid, awv = t->m_axi_gmem_awvalid;
		bool wv = t->m_axi_gmem_wvalid;
		uint64_t ara = t->m_axi_gmem_araddr, awa = t->m_axi_gmem_awaddr;
		unsigned arl = t->m_axi_gmem_arlen, awl = t->m_axi_gmem_awlen;

		if (prev_ar && (!arv || ara != prev_ar_addr || arl != prev_ar_len))
			fail("AR dropped or changed before ARREADY");
		if (prev_aw && (!awv || awa != prev_aw_addr || awl != prev_aw_len))
			fail("AW dropped or changed before AWREADY");
		if (prev_w && !wv)
			fail("WVALID dropped before WREADY");
		if (arv)
			check_burst("AR", ara, arl, t->m_axi_gmem_arsize, t->m_axi_gmem_arburst);
		if (awv)
			check_burst("AW", awa, awl, t->m_axi_gmem_awsize, t->m_axi_gmem_awburst);

		bool ar_fire = arv && ar_ready;
		bool aw_fire = awv && aw_ready;
		bool w_fire = wv && w_ready;
		bool r_fire = r_valid && t->m_axi_gmem_rready;
		bool b_fire = b_valid && t->m_axi_gmem_bready;
		prev_ar = arv && !ar_ready;
		prev_ar_addr = ara;
		prev_ar_len = arl;
		prev_aw = awv && !aw_ready;
		prev_aw_addr = awa;
		prev_aw_len = awl;
		prev_w = wv && !w_ready;

		if (r_fire) {
			beats_r++;
			Burst &b = rq.front();
			if (++b.done > b.len)
				rq.pop_front();
		}
		if (ar_fire)
			rq.push_back({ ara, arl, 0, cycle + latency,
				       !inside(ara, (uint64_t)(arl + 1) * wb) });
		if (w_fire) {
			beats_w++;
			Burst &b = wq.front();
			uint64_t a = b.addr + (uint64_t)w_beat * wb;
			uint8_t buf[64];
			tb_get_beat(t->m_axi_gmem_wdata, buf);
			uint64_t strb = t->m_axi_gmem_wstrb;
			if (!b.err)
				for (unsigned i = 0; i < wb; i++)
					if (strb >> i & 1)
						*at(a + i) = buf[i];
			bool last = w_beat == b.len;
			if ((bool)t->m_axi_gmem_wlast != last)
				fail("WLAST wrong");
			if (last) {
				bq.push_back({ cycle + latency / 2, (uint8_t)(b.err ? 3 : 0) });
				wq.pop_front();
				w_beat = 0;
			} else {
				w_beat++;
			}
		}
		if (aw_fire)
			wq.push_back({ awa, awl, 0, 0, !inside(awa, (uint64_t)(awl + 1) * wb) });
		if (b_fire)
			bq.pop_front();
		cycle++;
	}

	bool idle() const { return rq.empty() && wq.empty() && bq.empty(); }

private:
	struct Burst {
		uint64_t addr;
		unsigned len, done;
		uint64_t ready;
		bool err;
	};
	struct Resp {
		uint64_t ready;
		uint8_t resp;
	};
	std::deque<Burst> rq, wq;
	std::deque<Resp> bq;
	unsigned w_beat = 0;
	bool ar_ready = false, aw_ready = false, w_ready = false, r_valid = false, b_valid = false;
	bool prev_ar = false, prev_aw = false, prev_w = false;
	uint64_t prev_ar_addr = 0, prev_aw_addr = 0;
	unsigned prev_ar_len = 0, prev_aw_len = 0;

	bool stall()
	{
		return stall_pct && (unsigned)qmx_rng_range(&rng, 0, 99) < stall_pct;
	}
	void fail(const std::string &s)
	{
		if (violation.empty())
			violation = s + " at cycle " + std::to_string(cycle);
	}
	void check_burst(const char *ch, uint64_t addr, unsigned len, unsigned size,
			 unsigned burst)
	{
		if (burst != 1)
			fail(std::string(ch) + " burst type not INCR");
		if ((1u << size) != wb)
			fail(std::string(ch) + " size not the bus width");
		if (addr % wb)
			fail(std::string(ch) + " address not aligned");
		if ((addr & 4095) + (uint64_t)(len + 1) * wb > 4096)
			fail(std::string(ch) + " burst crosses 4 KiB");
	}
};

#endif /* TB_AXI_MEM_H */
