// SPDX-License-Identifier: MIT
/*
 * qmxsim_model.h - one verilated qmx_top behind a size-independent face.
 *
 * Each array size is its own verilated model with its own --prefix (class);
 * ModelImpl<V> binds the ports of any of them to a Pins table so the rest
 * of libqmxsim never names a generated class.  Multi-bit payloads are kept
 * as (pointer, bytes): Verilator stores CData..QData and VlWide words
 * little-endian, so on the host byte i of a signal is at offset i.
 */
#ifndef QMXSIM_MODEL_H
#define QMXSIM_MODEL_H

#include <cstdint>
#include <cstring>

#include "verilated.h"
#include "verilated_fst_c.h"

namespace qmxsim_impl {

struct Sig {
	void *p = nullptr;
	unsigned bytes = 0;

	uint64_t get() const
	{
		uint64_t v = 0;
		std::memcpy(&v, p, bytes < 8 ? bytes : 8);
		return v;
	}
	void set(uint64_t v) const
	{
		std::memcpy(p, &v, bytes < 8 ? bytes : 8);
	}
};

template <class T> static inline Sig sig(T &x)
{
	Sig s;
	s.p = static_cast<void *>(&x);
	s.bytes = sizeof(T);
	return s;
}

struct Pins {
	CData *clk, *rst_n, *irq;
	/* s_axi_control (AXI-Lite, 32-bit) */
	CData *c_awvalid, *c_awready, *c_wvalid, *c_wready, *c_bvalid, *c_bready;
	CData *c_arvalid, *c_arready, *c_rvalid, *c_rready;
	Sig c_awaddr, c_wdata, c_wstrb, c_bresp, c_araddr, c_rdata, c_rresp;
	/* m_axi_gmem (AXI4 master) */
	CData *awvalid, *awready, *wvalid, *wready, *wlast, *bvalid, *bready;
	CData *arvalid, *arready, *rvalid, *rready, *rlast;
	Sig awaddr, awid, awlen, awsize, awburst, wdata, wstrb, bresp, bid;
	Sig araddr, arid, arlen, arsize, arburst, rdata, rresp, rid;
	unsigned data_bytes;
};

class Model {
public:
	Pins pins;
	virtual ~Model() {}
	virtual void eval() = 0;
	virtual void final() = 0;
	virtual void trace(VerilatedFstC *tfp, int levels) = 0;
};

template <class V> class ModelImpl final : public Model {
public:
	explicit ModelImpl(VerilatedContext *ctx) : m(ctx, "qmx_top")
	{
		Pins &p = pins;
		p.clk = &m.ap_clk;
		p.rst_n = &m.ap_rst_n;
		/* "interrupt" is a C++ common word: Verilator renames the port */
		p.irq = &m.__SYM__interrupt;
		p.c_awvalid = &m.s_axi_control_awvalid;
		p.c_awready = &m.s_axi_control_awready;
		p.c_awaddr = sig(m.s_axi_control_awaddr);
		p.c_wvalid = &m.s_axi_control_wvalid;
		p.c_wready = &m.s_axi_control_wready;
		p.c_wdata = sig(m.s_axi_control_wdata);
		p.c_wstrb = sig(m.s_axi_control_wstrb);
		p.c_bvalid = &m.s_axi_control_bvalid;
		p.c_bready = &m.s_axi_control_bready;
		p.c_bresp = sig(m.s_axi_control_bresp);
		p.c_arvalid = &m.s_axi_control_arvalid;
		p.c_arready = &m.s_axi_control_arready;
		p.c_araddr = sig(m.s_axi_control_araddr);
		p.c_rvalid = &m.s_axi_control_rvalid;
		p.c_rready = &m.s_axi_control_rready;
		p.c_rdata = sig(m.s_axi_control_rdata);
		p.c_rresp = sig(m.s_axi_control_rresp);

		p.awvalid = &m.m_axi_gmem_awvalid;
		p.awready = &m.m_axi_gmem_awready;
		p.awaddr = sig(m.m_axi_gmem_awaddr);
		p.awid = sig(m.m_axi_gmem_awid);
		p.awlen = sig(m.m_axi_gmem_awlen);
		p.awsize = sig(m.m_axi_gmem_awsize);
		p.awburst = sig(m.m_axi_gmem_awburst);
		p.wvalid = &m.m_axi_gmem_wvalid;
		p.wready = &m.m_axi_gmem_wready;
		p.wdata = sig(m.m_axi_gmem_wdata);
		p.wstrb = sig(m.m_axi_gmem_wstrb);
		p.wlast = &m.m_axi_gmem_wlast;
		p.bvalid = &m.m_axi_gmem_bvalid;
		p.bready = &m.m_axi_gmem_bready;
		p.bresp = sig(m.m_axi_gmem_bresp);
		p.bid = sig(m.m_axi_gmem_bid);
		p.arvalid = &m.m_axi_gmem_arvalid;
		p.arready = &m.m_axi_gmem_arready;
		p.araddr = sig(m.m_axi_gmem_araddr);
		p.arid = sig(m.m_axi_gmem_arid);
		p.arlen = sig(m.m_axi_gmem_arlen);
		p.arsize = sig(m.m_axi_gmem_arsize);
		p.arburst = sig(m.m_axi_gmem_arburst);
		p.rvalid = &m.m_axi_gmem_rvalid;
		p.rready = &m.m_axi_gmem_rready;
		p.rdata = sig(m.m_axi_gmem_rdata);
		p.rresp = sig(m.m_axi_gmem_rresp);
		p.rlast = &m.m_axi_gmem_rlast;
		p.rid = sig(m.m_axi_gmem_rid);
		p.data_bytes = (unsigned)sizeof(m.m_axi_gmem_rdata);
	}
	void eval() override { m.eval(); }
	void final() override { m.final(); }
	void trace(VerilatedFstC *tfp, int levels) override { m.trace(tfp, levels); }

private:
	V m;
};

/* A built model: its size and a factory (qmxsim_models.cpp, generated). */
struct ModelEntry {
	unsigned rows, cols;
	Model *(*create)(VerilatedContext *ctx);
};
extern const ModelEntry model_table[];
extern const unsigned model_count;

} // namespace qmxsim_impl

#endif /* QMXSIM_MODEL_H */
