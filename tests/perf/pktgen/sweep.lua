-- SPDX-License-Identifier: BSD-3-Clause
-- Sweep frame sizes and TX rates on one pktgen-dpdk port and print one CSV
-- line per step, to read against sluice's counters (docs/pktgen.md).
--
--   pktgen [EAL options] -- -m "[2:3].0" -f tests/perf/pktgen/sweep.lua
--
-- Each step: stop, set size and rate, clear the counters, start, wait, stop,
-- wait for the queues to drain, read the port's counters (pktgen.portStats)
-- and, when SLUICE_PREFIX is set, sluice's /sluice/ports,PORT over DPDK
-- telemetry before and after the step, so the line holds both sides.
--
-- Settings come from the environment:
--   SWEEP_PORT       pktgen port that sends (default 0)
--   SWEEP_SIZES      frame sizes in pktgen's sense, FCS included (pktgen's
--                    64 is a 60-byte frame in sluice's files)
--                    (default 64,128,256,512,1024,1280,1500)
--   SWEEP_RATES      percent of the port's link speed (default 10,25,50,75,100)
--   SWEEP_SECONDS    seconds of traffic per step (default 10)
--   SWEEP_DRAIN_MS   pause after stop before reading the counters (default
--                    2000: longer than sluice's --flush-interval, 1 s by
--                    default, so that what sluice received is also written)
--   SWEEP_CSV        file the CSV lines are also written to (default sweep.csv)
--   SWEEP_QUIT       1: quit pktgen at the end
--   SLUICE_PREFIX    sluice's EAL --file-prefix; unset: pktgen's side only
--   SLUICE_PORT      sluice's port id (default 0)
--   SLUICE_TELEMETRY the telemetry client (default dpdk-telemetry.py)

local function env(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then
		return default
	end
	return v
end

local function numbers(list)
	local t = {}
	for v in string.gmatch(list, "[^,%s]+") do
		t[#t + 1] = tonumber(v)
	end
	return t
end

local port = env("SWEEP_PORT", "0")
local sizes = numbers(env("SWEEP_SIZES", "64,128,256,512,1024,1280,1500"))
local rates = numbers(env("SWEEP_RATES", "10,25,50,75,100"))
local seconds = tonumber(env("SWEEP_SECONDS", "10"))
local drain_ms = tonumber(env("SWEEP_DRAIN_MS", "2000"))
local csv_path = env("SWEEP_CSV", "sweep.csv")
local sl_prefix = env("SLUICE_PREFIX", nil)
local sl_port = env("SLUICE_PORT", "0")
local sl_client = env("SLUICE_TELEMETRY", "dpdk-telemetry.py")

-- sluice's counters of one port: the numeric fields of /sluice/ports,N.
local sl_fields = { "received", "written", "filtered", "ring_full", "writer_nobuf",
	"write_error", "nic_ipackets", "nic_imissed", "nic_rx_nombuf", "nic_ierrors" }

local function sluice_port()
	if sl_prefix == nil then
		return nil
	end
	local cmd = string.format("echo /sluice/ports,%s | %s -f %s 2>/dev/null", sl_port,
		sl_client, sl_prefix)
	local ok, p = pcall(io.popen, cmd)
	if not ok or p == nil then
		return nil
	end
	local out = p:read("a")
	p:close()
	local c = {}
	for _, k in ipairs(sl_fields) do
		local v = string.match(out or "", '"' .. k .. '": (%d+)')
		if v == nil then
			return nil
		end
		c[k] = tonumber(v)
	end
	return c
end

local header = "size,rate_pct,seconds,pg_opackets,pg_obytes,pg_oerrors,pg_tx_pps," ..
	"sl_received,sl_nic_ipackets,sl_nic_imissed,sl_nic_ierrors,sl_nic_rx_nombuf," ..
	"sl_written,sl_filtered,sl_ring_full,sl_writer_nobuf,sl_write_error," ..
	"lost_before_sluice,unaccounted_in_sluice"

local csv = io.open(csv_path, "w")
local function emit(line)
	print(line)
	if csv ~= nil then
		csv:write(line .. "\n")
		csv:flush()
	end
end

local function step(size, rate)
	pktgen.stop(port)
	pktgen.set(port, "count", 0)
	pktgen.set(port, "size", size)
	pktgen.set(port, "rate", rate)
	pktgen.delay(drain_ms)
	pktgen.clr()
	local before = sluice_port()

	pktgen.start(port)
	pktgen.delay(seconds * 1000)
	pktgen.stop(port)
	-- Frames still in the TX ring leave, and sluice polls what it was sent.
	pktgen.delay(drain_ms)

	local st = pktgen.portStats(port, "port")[tonumber(port)]
	local after = sluice_port()
	local line = string.format("%d,%s,%d,%d,%d,%d,%d", size, tostring(rate), seconds,
		st.opackets, st.obytes, st.oerrors, st.opackets // seconds)
	if before ~= nil and after ~= nil then
		local d = {}
		for _, k in ipairs(sl_fields) do
			d[k] = after[k] - before[k]
		end
		-- What pktgen's port sent and sluice's NIC neither delivered nor
		-- counted as missed or in error: lost on the way (cable, switch).
		local lost = st.opackets - (d.nic_ipackets + d.nic_imissed + d.nic_ierrors)
		-- received = written + filtered + ring_full + writer_nobuf + write_error
		-- once sluice has drained; not 0 here means packets still in flight.
		local open = d.received - (d.written + d.filtered + d.ring_full +
			d.writer_nobuf + d.write_error)
		line = line .. string.format(",%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d",
			d.received, d.nic_ipackets, d.nic_imissed, d.nic_ierrors, d.nic_rx_nombuf,
			d.written, d.filtered, d.ring_full, d.writer_nobuf, d.write_error, lost, open)
	else
		line = line .. ",,,,,,,,,,,,"
	end
	emit(line)
end

emit(header)
if sl_prefix ~= nil and sluice_port() == nil then
	print(string.format("sweep: no answer from sluice over telemetry (%s -f %s);" ..
		" pktgen's side only", sl_client, sl_prefix))
	sl_prefix = nil
end
for _, size in ipairs(sizes) do
	for _, rate in ipairs(rates) do
		step(size, rate)
	end
end
if csv ~= nil then
	csv:close()
end
if env("SWEEP_QUIT", "0") == "1" then
	pktgen.quit()
end
