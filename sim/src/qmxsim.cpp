// SPDX-License-Identifier: MIT
/*
 * qmxsim.cpp - libqmxsim: clocking a verilated qmx_top, its AXI-Lite control
 * port, and the external memory behind its AXI4 master.
 *
 * One cycle (step()): with ap_clk low and this cycle's inputs settled, sample
 * which handshakes fire on the coming edge; raise ap_clk and evaluate; then
 * let the testbench side (memory, control-port driver) act on those
 * handshakes and drive its outputs for the next cycle; lower ap_clk and
 * evaluate.  Testbench outputs thus change just after the edge, like
 * registered logic.
 *
 * The memory keeps AXI rules as assertions: a broken rule stops the run
 * with a message naming the channel, the rule and the values.
 */
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iterator>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "qmx_jobprog.h"
#include "qmx_regs.h"
#include "qmxsim.h"
#include "qmxsim_model.h"
#include "vl_coverage.h"

using namespace qmxsim_impl;

namespace {

thread_local char last_error[512];

int fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

constexpr unsigned MAX_OUTSTANDING_READS = 32;
constexpr unsigned MAX_OUTSTANDING_WRITES = 32;
constexpr unsigned MAX_EARLY_W_BEATS = 512; /* W data ahead of its AW */
constexpr unsigned LITE_TIMEOUT_CYCLES = 1000;
constexpr unsigned IDLE_POLL_CYCLES = 64;
constexpr unsigned RESET_CYCLES = 16;

enum : uint8_t { RESP_OKAY = 0, RESP_SLVERR = 2, RESP_DECERR = 3 };
enum : uint8_t { BURST_FIXED = 0, BURST_INCR = 1, BURST_WRAP = 2 };

struct Region {
	uint64_t size;
	uint8_t *host;
	unsigned flags;
};

struct Burst {
	uint64_t addr;   /* address of the first beat, as issued */
	uint64_t start;  /* first byte the burst covers (= addr) */
	uint64_t end;    /* one past the last byte */
	unsigned len;    /* beats - 1 */
	unsigned size;   /* log2 bytes per beat */
	uint32_t id;
	uint64_t ready;  /* cycle from which data / the response may flow */
	uint8_t *host;   /* translated memory for [start, end), or NULL */
	uint8_t resp;
	unsigned beat;   /* next beat */
};

struct Bresp {
	uint32_t id;
	uint8_t resp;
	uint64_t ready;
};

struct WBeat {
	std::vector<uint8_t> data, strb;
	bool last;
};

enum class LiteOp { NONE, READ, WRITE };

} // namespace

struct qmxsim {
	std::unique_ptr<VerilatedContext> ctx;
	std::unique_ptr<Model> model;
	std::unique_ptr<VerilatedFstC> tfp;
	Pins *p = nullptr;
	qmxsim_config cfg{};
	unsigned db = 8; /* bus bytes */
	uint64_t cycle = 0;
	bool broken = false;
	std::string broken_msg;

	/* memory */
	std::map<uint64_t, Region> regions;
	qmxsim_translate_fn translate = nullptr;
	void *translate_ctx = nullptr;
	std::deque<Burst> rq;     /* accepted reads, in order */
	std::deque<Burst> wq;     /* accepted writes awaiting data */
	std::deque<WBeat> early_w; /* W beats before their AW */
	std::deque<Bresp> bq;
	int64_t tokens = 0;
	bool hang = false, inject_err = false, soft_reset_seen = false;
	bool soft_reset_inflight = false;
	struct qmxsim_mem_stats mst {};
	/* AXI "valid stays until ready, payload stable" checks */
	bool ar_pending = false, aw_pending = false, w_pending = false;
	uint64_t ar_prev[4]{}, aw_prev[4]{};

	/* control port */
	LiteOp lite = LiteOp::NONE;
	bool lite_internal = false, lite_aw_done = false, lite_w_done = false, lite_done = false;
	uint32_t lite_addr = 0, lite_data = 0, lite_result = 0;
	uint8_t lite_resp = 0;
	uint64_t last_poll = 0;
	uint32_t ctrl_shadow = 0; /* rc bits seen by background polls */
	bool idle_seen = false;
	struct qmxsim_reg_stats rst {}; /* accesses by the caller (not the polls) */

	/* progress */
	void (*progress_fn)(void *, uint64_t) = nullptr;
	void *progress_ctx = nullptr;
	uint64_t progress_every = 0, progress_next = 0;

	void step();
	void mem_update(bool r_fire, bool b_fire);
	void protocol(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	uint8_t *lookup(uint64_t addr, uint64_t len, bool write);
	void accept_burst(bool write);
	void write_beat(Burst &b, const uint8_t *data, const uint8_t *strb, bool last);
	void drop_memory();
	int lite_wait();
	void lite_start(LiteOp op, uint32_t addr, uint32_t data, bool internal);
	void lite_finish_internal();
	void dump();
};

void qmxsim::protocol(const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (broken)
		return;
	broken = true;
	char full[512];
	snprintf(full, sizeof(full), "AXI protocol violation at cycle %" PRIu64 ": %s", cycle, msg);
	broken_msg = full;
	fprintf(stderr, "qmxsim: %s\n", full);
}

uint8_t *qmxsim::lookup(uint64_t addr, uint64_t len, bool write)
{
	if (translate)
		return static_cast<uint8_t *>(translate(translate_ctx, addr, (uint32_t)len, write));
	auto it = regions.upper_bound(addr);
	if (it == regions.begin())
		return nullptr;
	--it;
	const Region &r = it->second;
	uint64_t off = addr - it->first;
	if (off >= r.size || len > r.size - off)
		return nullptr;
	if (!(r.flags & (write ? QMXSIM_MAP_WRITE : QMXSIM_MAP_READ)))
		return nullptr;
	return r.host + off;
}

/* AR or AW handshake: check the burst is legal, queue it. */
void qmxsim::accept_burst(bool write)
{
	const char *ch = write ? "AW" : "AR";
	Burst b{};
	b.addr = write ? p->awaddr.get() : p->araddr.get();
	b.len = (unsigned)(write ? p->awlen.get() : p->arlen.get());
	b.size = (unsigned)(write ? p->awsize.get() : p->arsize.get());
	b.id = (uint32_t)(write ? p->awid.get() : p->arid.get());
	unsigned burst = (unsigned)(write ? p->awburst.get() : p->arburst.get());
	if (burst != BURST_INCR)
		return protocol("%s burst type %u at 0x%" PRIx64 " (the master uses INCR only)", ch,
				burst, b.addr);
	if ((1u << b.size) > db)
		return protocol("%s size %u (%u bytes) wider than the %u-byte data bus", ch, b.size,
				1u << b.size, db);
	if (b.len > 255)
		return protocol("%s len %u > 255", ch, b.len);
	uint64_t bytes = 1ull << b.size;
	uint64_t aligned = b.addr & ~(bytes - 1);
	b.start = b.addr;
	b.end = aligned + (uint64_t)(b.len + 1) * bytes;
	if ((b.start >> 12) != ((b.end - 1) >> 12))
		return protocol("%s burst 0x%" PRIx64 "..0x%" PRIx64
				" (len %u, size %u) crosses a 4 KiB boundary",
				ch, b.start, b.end - 1, b.len, b.size);
	b.ready = cycle + cfg.mem_latency_cycles;
	b.host = lookup(b.start, b.end - b.start, write);
	b.resp = b.host ? RESP_OKAY : RESP_DECERR;
	if (inject_err) {
		inject_err = false;
		b.resp = RESP_SLVERR;
	}
	if (b.resp != RESP_OKAY)
		mst.error_responses++;
	if (write) {
		mst.write_bursts++;
		wq.push_back(b);
	} else {
		mst.read_bursts++;
		rq.push_back(b);
		if (rq.size() > mst.max_outstanding_reads)
			mst.max_outstanding_reads = (unsigned)rq.size();
	}
}

void qmxsim::write_beat(Burst &b, const uint8_t *data, const uint8_t *strb, bool last)
{
	uint64_t bytes = 1ull << b.size;
	uint64_t baddr = b.beat ? (b.addr & ~(bytes - 1)) + b.beat * bytes : b.addr;
	uint64_t bend = (baddr & ~(bytes - 1)) + bytes;
	unsigned lo = (unsigned)(baddr % db), hi = lo + (unsigned)(bend - baddr);
	for (unsigned l = 0; l < db; l++) {
		bool on = strb[l / 8] >> (l % 8) & 1;
		if (!on)
			continue;
		if (l < lo || l >= hi)
			return protocol("W beat %u of burst at 0x%" PRIx64
					": strobe on byte lane %u outside the transfer (lanes %u..%u)",
					b.beat, b.addr, l, lo, hi - 1);
		if (b.resp == RESP_OKAY)
			b.host[baddr - b.start + (l - lo)] = data[l];
		mst.write_bytes++;
	}
	bool want_last = b.beat == b.len;
	if (last != want_last)
		return protocol("WLAST %u on beat %u of a %u-beat burst at 0x%" PRIx64, last ? 1 : 0,
				b.beat, b.len + 1, b.addr);
	b.beat++;
	if (last) {
		bq.push_back(Bresp{ b.id, b.resp, cycle + cfg.mem_latency_cycles });
		wq.pop_front();
	}
}

void qmxsim::drop_memory()
{
	rq.clear();
	wq.clear();
	early_w.clear();
	bq.clear();
	ar_pending = aw_pending = w_pending = false;
	*p->arready = *p->awready = *p->wready = 0;
	*p->rvalid = *p->bvalid = 0;
}

/* The memory side of one clock edge: retire the R/B beats taken on it,
 * then drive ready/valid/data for the next cycle. */
void qmxsim::mem_update(bool r_fire, bool b_fire)
{
	if (r_fire) {
		Burst &b = rq.front();
		b.beat++;
		if (b.beat > b.len)
			rq.pop_front();
	}
	if (b_fire)
		bq.pop_front();

	if (cfg.mem_bytes_per_cycle) {
		int64_t cap = (int64_t)cfg.mem_bytes_per_cycle + 2 * (int64_t)db;
		tokens += cfg.mem_bytes_per_cycle;
		if (tokens > cap)
			tokens = cap;
	}
	bool bw_ok = !cfg.mem_bytes_per_cycle || tokens > 0;

	if (hang) {
		*p->arready = *p->awready = *p->wready = 0;
		*p->rvalid = *p->bvalid = 0;
		return;
	}
	*p->arready = rq.size() < MAX_OUTSTANDING_READS;
	*p->awready = wq.size() < MAX_OUTSTANDING_WRITES;
	*p->wready = bw_ok && (!wq.empty() || early_w.size() < MAX_EARLY_W_BEATS);

	/* R: hold a presented beat until taken, else present the next one */
	if (!(*p->rvalid && !r_fire)) {
		*p->rvalid = 0;
		if (!rq.empty() && rq.front().ready <= cycle && bw_ok) {
			Burst &b = rq.front();
			uint64_t bytes = 1ull << b.size;
			uint64_t baddr = b.beat ? (b.addr & ~(bytes - 1)) + b.beat * bytes : b.addr;
			uint64_t bend = (baddr & ~(bytes - 1)) + bytes;
			unsigned lo = (unsigned)(baddr % db), n = (unsigned)(bend - baddr);
			uint8_t *rd = static_cast<uint8_t *>(p->rdata.p);
			if (b.resp == RESP_OKAY) {
				if (n == db) {
					std::memcpy(rd, b.host + (baddr - b.start), db);
				} else {
					std::memset(rd, 0, db);
					std::memcpy(rd + lo, b.host + (baddr - b.start), n);
				}
			} else {
				std::memset(rd, 0, db);
			}
			p->rresp.set(b.resp);
			p->rid.set(b.id);
			*p->rlast = b.beat == b.len;
			*p->rvalid = 1;
			mst.read_bytes += n;
			if (cfg.mem_bytes_per_cycle)
				tokens -= n;
		}
	}
	/* B */
	if (!(*p->bvalid && !b_fire)) {
		*p->bvalid = 0;
		if (!bq.empty() && bq.front().ready <= cycle) {
			p->bresp.set(bq.front().resp);
			p->bid.set(bq.front().id);
			*p->bvalid = 1;
		}
	}
}

void qmxsim::dump()
{
	if (tfp)
		tfp->dump(ctx->time());
}

void qmxsim::step()
{
	Pins &q = *p;
	/* Sample on the low phase: these handshakes complete on the edge. */
	bool ar_fire = *q.arvalid && *q.arready;
	bool r_fire = *q.rvalid && *q.rready;
	bool aw_fire = *q.awvalid && *q.awready;
	bool w_fire = *q.wvalid && *q.wready;
	bool b_fire = *q.bvalid && *q.bready;
	bool c_aw_fire = *q.c_awvalid && *q.c_awready;
	bool c_w_fire = *q.c_wvalid && *q.c_wready;
	bool c_b_fire = *q.c_bvalid && *q.c_bready;
	bool c_ar_fire = *q.c_arvalid && *q.c_arready;
	bool c_r_fire = *q.c_rvalid && *q.c_rready;
	uint32_t c_rdata = c_r_fire ? (uint32_t)q.c_rdata.get() : 0;
	uint8_t c_resp = c_r_fire ? (uint8_t)q.c_rresp.get() : c_b_fire ? (uint8_t)q.c_bresp.get() : 0;

	/* Valid must stay up, payload unchanged, until ready (AXI A3.2.1). */
	if (soft_reset_inflight) {
		/* the master may drop its valids as the reset lands */
		ar_pending = aw_pending = w_pending = false;
	} else {
		/* payloads are read only while a request waits for ready */
		if (ar_pending || (*q.arvalid && !*q.arready)) {
			uint64_t ar[4] = { q.araddr.get(), q.arlen.get(), q.arsize.get(), q.arid.get() };
			if (ar_pending && (!*q.arvalid || std::memcmp(ar, ar_prev, sizeof(ar))))
				protocol("ARVALID dropped or AR payload changed before ARREADY (addr 0x%" PRIx64
					 " -> 0x%" PRIx64 ")", ar_prev[0], ar[0]);
			ar_pending = *q.arvalid && !*q.arready;
			std::memcpy(ar_prev, ar, sizeof(ar));
		}
		if (aw_pending || (*q.awvalid && !*q.awready)) {
			uint64_t aw[4] = { q.awaddr.get(), q.awlen.get(), q.awsize.get(), q.awid.get() };
			if (aw_pending && (!*q.awvalid || std::memcmp(aw, aw_prev, sizeof(aw))))
				protocol("AWVALID dropped or AW payload changed before AWREADY (addr 0x%" PRIx64
					 " -> 0x%" PRIx64 ")", aw_prev[0], aw[0]);
			aw_pending = *q.awvalid && !*q.awready;
			std::memcpy(aw_prev, aw, sizeof(aw));
		}
		if (w_pending && !*q.wvalid)
			protocol("WVALID dropped before WREADY");
		w_pending = *q.wvalid && !*q.wready;
	}
	/* W payload must be captured before the edge changes it. */
	if (w_fire) {
		const uint8_t *d = static_cast<const uint8_t *>(q.wdata.p);
		const uint8_t *s = static_cast<const uint8_t *>(q.wstrb.p);
		bool last = *q.wlast;
		if (cfg.mem_bytes_per_cycle)
			tokens -= db;
		if (!wq.empty()) {
			write_beat(wq.front(), d, s, last);
		} else {
			WBeat w;
			w.data.assign(d, d + db);
			w.strb.assign(s, s + q.wstrb.bytes);
			w.last = last;
			early_w.push_back(std::move(w));
		}
	}
	/* AR/AW payloads are read before the edge too. */
	if (ar_fire)
		accept_burst(false);
	if (aw_fire) {
		accept_burst(true);
		while (!broken && !wq.empty() && !early_w.empty()) {
			WBeat &w = early_w.front();
			write_beat(wq.front(), w.data.data(), w.strb.data(), w.last);
			early_w.pop_front();
		}
	}

	*q.clk = 1;
	model->eval();
	cycle++;
	if (tfp) {
		ctx->timeInc(1);
		dump();
	}

	mem_update(r_fire, b_fire);

	/* control port driver */
	if (lite == LiteOp::WRITE) {
		lite_aw_done |= c_aw_fire;
		lite_w_done |= c_w_fire;
		*q.c_awvalid = !lite_aw_done;
		*q.c_wvalid = !lite_w_done;
		*q.c_bready = lite_aw_done && lite_w_done;
		if (c_b_fire) {
			lite_resp = c_resp;
			lite_done = true;
			lite = LiteOp::NONE;
			*q.c_bready = 0;
		}
	} else if (lite == LiteOp::READ) {
		if (c_ar_fire)
			*q.c_arvalid = 0, *q.c_rready = 1;
		if (c_r_fire) {
			lite_result = c_rdata;
			lite_resp = c_resp;
			lite_done = true;
			lite = LiteOp::NONE;
			*q.c_rready = 0;
			if (lite_internal)
				lite_finish_internal();
		}
	}

	*q.clk = 0;
	model->eval();
	if (tfp) {
		ctx->timeInc(1);
		dump();
	}
	if (ctx->gotFinish() && !broken) {
		broken = true;
		broken_msg = ctx->gotError() ? "the model stopped with an error ($stop or an assertion)"
					     : "the model executed $finish";
	}
	if (progress_fn && cycle >= progress_next) {
		progress_next = cycle + progress_every;
		progress_fn(progress_ctx, cycle);
	}
}

void qmxsim::lite_start(LiteOp op, uint32_t addr, uint32_t data, bool internal)
{
	Pins &q = *p;
	lite = op;
	lite_internal = internal;
	lite_addr = addr;
	lite_data = data;
	lite_done = lite_aw_done = lite_w_done = false;
	if (op == LiteOp::WRITE) {
		q.c_awaddr.set(addr);
		q.c_wdata.set(data);
		q.c_wstrb.set(0xF);
		*q.c_awvalid = *q.c_wvalid = 1;
		*q.c_bready = 0;
	} else {
		q.c_araddr.set(addr);
		*q.c_arvalid = 1;
		*q.c_rready = 0;
	}
	/* new inputs take effect in this low phase */
	model->eval();
}

/* A background CTRL poll ended: keep the read-clear bits for software. */
void qmxsim::lite_finish_internal()
{
	lite_internal = false;
	ctrl_shadow |= lite_result & (QMX_CTRL_AP_DONE | QMX_CTRL_AP_READY);
	if ((lite_result & QMX_CTRL_AP_IDLE) && !(lite_result & QMX_CTRL_AP_START))
		idle_seen = true;
}

/* Clock until the control-port transaction in flight ends. */
int qmxsim::lite_wait()
{
	for (unsigned i = 0; lite != LiteOp::NONE; i++) {
		if (broken)
			return fail(-EPROTO, "qmxsim: %s", broken_msg.c_str());
		if (i >= LITE_TIMEOUT_CYCLES) {
			broken = true;
			broken_msg = "control port did not answer a register access within 1000 cycles";
			return fail(-ETIMEDOUT, "qmxsim: %s (offset 0x%03x)", broken_msg.c_str(),
				    lite_addr);
		}
		step();
	}
	return 0;
}

/* ------------------------------------------------------------------ C API */

extern "C" {

const char *qmxsim_last_error(void)
{
	return last_error;
}

void qmxsim_config_default(struct qmxsim_config *cfg)
{
	std::memset(cfg, 0, sizeof(*cfg));
	cfg->array_rows = 8;
	cfg->array_cols = 8;
	cfg->clock_mhz = 250;
	cfg->mem_latency_cycles = 40;
	cfg->mem_bytes_per_cycle = 0;
	cfg->trace_path = nullptr;
}

unsigned qmxsim_model_count(void)
{
	return model_count;
}

int qmxsim_model_size(unsigned i, unsigned *rows, unsigned *cols)
{
	if (i >= model_count)
		return fail(-EINVAL, "qmxsim_model_size: index %u >= models built (%u)", i,
			    model_count);
	*rows = model_table[i].rows;
	*cols = model_table[i].cols;
	return 0;
}

const char *qmxsim_built_arrays(void)
{
	static char buf[128];
	if (!buf[0]) {
		size_t used = 0;
		for (unsigned i = 0; i < model_count && used < sizeof(buf); i++)
			used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%ux%u",
						 i ? " " : "", model_table[i].rows,
						 model_table[i].cols);
	}
	return buf;
}

int qmxsim_new(const struct qmxsim_config *cfg, qmxsim **out)
{
	if (!out)
		return fail(-EINVAL, "qmxsim_new: out is NULL");
	*out = nullptr;
	if (!cfg)
		return fail(-EINVAL, "qmxsim_new: cfg is NULL");
	const ModelEntry *e = nullptr;
	for (unsigned i = 0; i < model_count; i++)
		if (model_table[i].rows == cfg->array_rows && model_table[i].cols == cfg->array_cols)
			e = &model_table[i];
	if (!e)
		return fail(-EINVAL, "qmxsim_new: array %ux%u not built (built: %s; CMake QMX_SIM_ARRAYS)",
			    cfg->array_rows, cfg->array_cols, qmxsim_built_arrays());
	if (cfg->clock_mhz < 1 || cfg->clock_mhz > 10000)
		return fail(-EINVAL, "qmxsim_new: clock_mhz (%u) outside [1, 10000]", cfg->clock_mhz);
	if (cfg->mem_latency_cycles > 100000)
		return fail(-EINVAL, "qmxsim_new: mem_latency_cycles (%u) > 100000",
			    cfg->mem_latency_cycles);
	if (cfg->mem_bytes_per_cycle > 4096)
		return fail(-EINVAL, "qmxsim_new: mem_bytes_per_cycle (%u) > 4096",
			    cfg->mem_bytes_per_cycle);

	qmxsim *s = new (std::nothrow) qmxsim;
	if (!s)
		return fail(-ENOMEM, "qmxsim_new: out of memory");
	s->cfg = *cfg;
	s->cfg.trace_path = nullptr;
	s->ctx.reset(new VerilatedContext);
	s->ctx->fatalOnError(false); /* $stop and assertions end the run, not the process */
	const char *trace = cfg->trace_path;
	if (!trace || !*trace)
		trace = getenv("QMX_SIM_TRACE");
	if (trace && *trace)
		s->ctx->traceEverOn(true);
	s->model.reset(e->create(s->ctx.get()));
	s->p = &s->model->pins;
	s->db = s->p->data_bytes;
	if (trace && *trace) {
		s->tfp.reset(new VerilatedFstC);
		s->model->trace(s->tfp.get(), 99);
		s->tfp->open(trace);
		if (!s->tfp->isOpen()) {
			int err = fail(-EIO, "qmxsim_new: cannot open trace file '%s'", trace);
			s->tfp.reset();
			s->model->final();
			delete s;
			return err;
		}
	}
	Pins &q = *s->p;
	*q.clk = 0;
	*q.rst_n = 0;
	*q.c_awvalid = *q.c_wvalid = *q.c_bready = *q.c_arvalid = *q.c_rready = 0;
	*q.arready = *q.awready = *q.wready = *q.rvalid = *q.bvalid = 0;
	s->model->eval();
	for (unsigned i = 0; i < RESET_CYCLES; i++)
		s->step();
	*q.rst_n = 1;
	s->model->eval();
	for (unsigned i = 0; i < 4; i++)
		s->step();
	if (s->broken) {
		int err = fail(-EPROTO, "qmxsim_new: model broke during reset: %s",
			       s->broken_msg.c_str());
		qmxsim_del(s);
		return err;
	}
	*out = s;
	return 0;
}

void qmxsim_del(qmxsim *sim)
{
	if (!sim)
		return;
	sim->model->final();
	qmx_vl_coverage_write(sim->ctx.get(), "qmxsim");
	if (sim->tfp)
		sim->tfp->close();
	delete sim;
}

uint32_t qmxsim_read32(qmxsim *sim, uint32_t offset)
{
	sim->rst.reads++;
	if (sim->lite_wait())
		return 0xFFFFFFFFu;
	sim->lite_start(LiteOp::READ, offset, 0, false);
	if (sim->lite_wait())
		return 0xFFFFFFFFu;
	uint32_t v = sim->lite_result;
	if (offset == QMX_REG_CTRL) {
		v |= sim->ctrl_shadow;
		sim->ctrl_shadow = 0;
	}
	return v;
}

void qmxsim_write32(qmxsim *sim, uint32_t offset, uint32_t value)
{
	sim->rst.writes++;
	if (sim->lite_wait())
		return;
	bool reset = offset == QMX_REG_SOFT_RESET && value == QMX_JOBPROG_SOFT_RESET_KEY;
	if (reset) {
		/* the interconnect forgets what the aborted job had in flight */
		sim->drop_memory();
		sim->soft_reset_seen = true;
		sim->soft_reset_inflight = true;
	}
	/* a queue enabled after a soft reset starts jobs like AP_START */
	if (offset == QMX_REG_CQ_CTRL && (value & QMX_CQ_CTRL_ENABLE) && sim->soft_reset_seen) {
		sim->hang = false;
		sim->soft_reset_seen = false;
	}
	if (offset == QMX_REG_CTRL && (value & QMX_CTRL_AP_START)) {
		if (sim->soft_reset_seen)
			sim->hang = false;
		sim->soft_reset_seen = false;
		sim->idle_seen = false;
		sim->ctrl_shadow &= ~QMX_CTRL_AP_DONE;
		sim->last_poll = sim->cycle; /* let the job leave idle first */
	}
	sim->lite_start(LiteOp::WRITE, offset, value, false);
	sim->lite_wait();
	if (reset) {
		sim->drop_memory();
		sim->model->eval();
		sim->soft_reset_inflight = false;
	}
}

int qmxsim_map(qmxsim *sim, uint64_t dev_addr, void *host, uint64_t size, unsigned flags)
{
	if (!host || !size)
		return fail(-EINVAL, "qmxsim_map: %s", !host ? "host is NULL" : "size is 0");
	if (!flags || (flags & ~(QMXSIM_MAP_READ | QMXSIM_MAP_WRITE)))
		return fail(-EINVAL, "qmxsim_map: flags (0x%x) must be READ and/or WRITE", flags);
	if (dev_addr + size < dev_addr)
		return fail(-EINVAL, "qmxsim_map: 0x%" PRIx64 " + size 0x%" PRIx64 " wraps",
			    dev_addr, size);
	auto next = sim->regions.lower_bound(dev_addr);
	if (next != sim->regions.end() && next->first < dev_addr + size)
		return fail(-EEXIST,
			    "qmxsim_map: [0x%" PRIx64 ", +0x%" PRIx64 ") overlaps the region at 0x%" PRIx64,
			    dev_addr, size, next->first);
	if (next != sim->regions.begin()) {
		auto prev = std::prev(next);
		if (prev->first + prev->second.size > dev_addr)
			return fail(-EEXIST,
				    "qmxsim_map: [0x%" PRIx64 ", +0x%" PRIx64
				    ") overlaps the region at 0x%" PRIx64,
				    dev_addr, size, prev->first);
	}
	sim->regions[dev_addr] = Region{ size, static_cast<uint8_t *>(host), flags };
	return 0;
}

int qmxsim_unmap(qmxsim *sim, uint64_t dev_addr)
{
	auto it = sim->regions.find(dev_addr);
	if (it == sim->regions.end())
		return fail(-ENOENT, "qmxsim_unmap: no region starts at 0x%" PRIx64, dev_addr);
	sim->regions.erase(it);
	return 0;
}

void qmxsim_set_translate(qmxsim *sim, qmxsim_translate_fn fn, void *ctx)
{
	sim->translate = fn;
	sim->translate_ctx = fn ? ctx : nullptr;
}

static int run(qmxsim *sim, uint64_t max_cycles, uint64_t *cycles_run, bool poll_idle);

int qmxsim_run(qmxsim *sim, uint64_t max_cycles, uint64_t *cycles_run)
{
	return run(sim, max_cycles, cycles_run, true);
}

int qmxsim_run_irq(qmxsim *sim, uint64_t max_cycles, uint64_t *cycles_run)
{
	return run(sim, max_cycles, cycles_run, false);
}

void qmxsim_reg_stats(qmxsim *sim, struct qmxsim_reg_stats *st)
{
	*st = sim->rst;
}

static int run(qmxsim *sim, uint64_t max_cycles, uint64_t *cycles_run, bool poll_idle)
{
	uint64_t start = sim->cycle;
	int ret = QMXSIM_RUN_LIMIT;

	if (cycles_run)
		*cycles_run = 0;
	if (sim->broken)
		return fail(-EPROTO, "qmxsim_run: %s", sim->broken_msg.c_str());
	while (sim->cycle - start < max_cycles) {
		if (*sim->p->irq) {
			ret = QMXSIM_RUN_IRQ;
			break;
		}
		if (sim->idle_seen) {
			sim->idle_seen = false;
			ret = QMXSIM_RUN_IDLE;
			break;
		}
		if (poll_idle && sim->lite == LiteOp::NONE &&
		    sim->cycle - sim->last_poll >= IDLE_POLL_CYCLES) {
			sim->last_poll = sim->cycle;
			sim->lite_start(LiteOp::READ, QMX_REG_CTRL, 0, true);
		}
		sim->step();
		if (sim->broken) {
			if (cycles_run)
				*cycles_run = sim->cycle - start;
			return fail(-EPROTO, "qmxsim_run: %s", sim->broken_msg.c_str());
		}
	}
	if (cycles_run)
		*cycles_run = sim->cycle - start;
	return ret;
}

int qmxsim_irq(qmxsim *sim)
{
	return *sim->p->irq ? 1 : 0;
}

uint64_t qmxsim_cycle(qmxsim *sim)
{
	return sim->cycle;
}

void qmxsim_set_progress(qmxsim *sim, void (*fn)(void *ctx, uint64_t cycles), void *ctx,
			 uint64_t every_cycles)
{
	if (!fn || !every_cycles) {
		sim->progress_fn = nullptr;
		return;
	}
	sim->progress_fn = fn;
	sim->progress_ctx = ctx;
	sim->progress_every = every_cycles;
	sim->progress_next = sim->cycle + every_cycles;
}

void qmxsim_inject(qmxsim *sim, enum qmxsim_fault fault)
{
	switch (fault) {
	case QMXSIM_FAULT_NONE:
		sim->hang = false;
		sim->inject_err = false;
		break;
	case QMXSIM_FAULT_HANG:
		sim->hang = true;
		sim->soft_reset_seen = false;
		break;
	case QMXSIM_FAULT_AXI_ERROR:
		sim->inject_err = true;
		break;
	}
}

void qmxsim_reset_memory(qmxsim *sim)
{
	sim->drop_memory();
	sim->hang = false;
	sim->inject_err = false;
	sim->model->eval();
}

void qmxsim_mem_stats(qmxsim *sim, struct qmxsim_mem_stats *st)
{
	*st = sim->mst;
}

unsigned qmxsim_axi_data_bits(qmxsim *sim)
{
	return sim->db * 8;
}

} /* extern "C" */
