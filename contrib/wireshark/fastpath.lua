-- fastpath.lua: Wireshark/tshark postdissector for the Fast Path RedirectInfo trailer.
--
-- SLB MUXes append a RedirectInfo struct (spec section 4.3) to ICMPv4 type 5 and ICMPv6 type 137
-- redirects. Wireshark's own dissectors show these as plain redirects and hide the trailer in the
-- quoted packet's payload; this script decodes it into fields that filters and `tshark -T fields`
-- can use:
--
--   fastpath.version      uint32   must be 1
--   fastpath.pa_family    uint16   2 = IPv4, 10 or 23 = IPv6 (family of the PA, not of the flow)
--   fastpath.encap_type   uint16   1 NVGRE, 2 VXLAN, 3 IP-in-IP
--   fastpath.encap_id     uint32   the redirect's GRE key (VSID) / VXLAN id
--   fastpath.dip_pa       IPv4     DipPA when the PA family is IPv4
--   fastpath.dip_pa6      IPv6     DipPA when the PA family is IPv6
--   fastpath.vm_mac       Ethernet VMMac
--   fastpath.padding      bytes    what follows the struct (captures pad IPv4-PA structs to 34)
--   fastpath.icmp_family  uint8    4 or 6: which redirect carried the trailer
--   fastpath.vsid         uint32   VSID of the NVGRE key the redirect arrived in (absent: not GRE)
--   fastpath.scenario     string   VIP, PE or ILB by (ICMP family, VSID), see the preferences
--
-- Where the trailer starts (spec 4.1, 4.2): never from the quoted header's total length, which
-- real MUXes make count the trailer too.
--   ICMPv4: ICMP start + 8 + IHL*4 (of the quoted IPv4 header) + 8 (the quoted TCP bytes)
--   ICMPv6: ICMPv6 start + 8 + 16 (target) + 16 (destination) + 56 (Redirected Header option,
--           parsed by its fixed size: real MUXes send its length byte as 0)
--
-- Install: copy this file to ~/.local/lib/wireshark/plugins/ (Wireshark 4.x; older versions:
-- ~/.wireshark/plugins/), or load it for one run: tshark -X lua_script:fastpath.lua ...
-- Filter examples: fastpath, fastpath.dip_pa == 10.126.24.85, fastpath.scenario == "PE",
-- _ws.expert and fastpath (redirects fastpath would refuse as malformed).

local fp = Proto("fastpath", "Fast Path RedirectInfo")

local PA_FAMILIES = { [2] = "IPv4", [10] = "IPv6", [23] = "IPv6 (Windows AF_INET6)" }
local ENCAP_TYPES = { [1] = "NVGRE", [2] = "VXLAN", [3] = "IP-in-IP" }

local ICMP4_REDIRECT = 5
local ICMP6_REDIRECT = 137
local ICMP6_FIXED = 8 + 16 + 16       -- type, code, checksum, reserved, target, destination
local REDIRECT_OPTION_LENGTH = 56     -- type, length, 6 reserved, IPv6 header 40, TCP 8
local INFO_HEAD = 12                  -- version 4, family 2, encap type 2, EncapId 4
local MAC_LENGTH = 6

local pf = {
  version = ProtoField.uint32("fastpath.version", "Version", base.DEC),
  pa_family = ProtoField.uint16("fastpath.pa_family", "PA address family", base.DEC, PA_FAMILIES),
  encap_type = ProtoField.uint16("fastpath.encap_type", "Encapsulation type", base.DEC, ENCAP_TYPES),
  encap_id = ProtoField.uint32("fastpath.encap_id", "EncapId", base.DEC_HEX),
  dip_pa = ProtoField.ipv4("fastpath.dip_pa", "DipPA"),
  dip_pa6 = ProtoField.ipv6("fastpath.dip_pa6", "DipPA (IPv6)"),
  vm_mac = ProtoField.ether("fastpath.vm_mac", "VM MAC"),
  padding = ProtoField.bytes("fastpath.padding", "Padding"),
  length = ProtoField.uint32("fastpath.length", "RedirectInfo length", base.DEC),
  icmp_family = ProtoField.uint8("fastpath.icmp_family", "Carried by ICMP family", base.DEC,
    { [4] = "ICMPv4 redirect", [6] = "ICMPv6 redirect" }),
  vsid = ProtoField.uint32("fastpath.vsid", "NVGRE VSID", base.DEC_HEX),
  scenario = ProtoField.string("fastpath.scenario", "Scenario"),
}
fp.fields = { pf.version, pf.pa_family, pf.encap_type, pf.encap_id, pf.dip_pa, pf.dip_pa6,
  pf.vm_mac, pf.padding, pf.length, pf.icmp_family, pf.vsid, pf.scenario }

local ex = {
  truncated = ProtoExpert.new("fastpath.truncated", "RedirectInfo truncated",
    expert.group.MALFORMED, expert.severity.ERROR),
  version = ProtoExpert.new("fastpath.bad_version", "RedirectInfo version is not 1",
    expert.group.PROTOCOL, expert.severity.WARN),
  family = ProtoExpert.new("fastpath.bad_family", "Unknown PA address family",
    expert.group.PROTOCOL, expert.severity.WARN),
  encap = ProtoExpert.new("fastpath.bad_encap_type", "Unknown encapsulation type",
    expert.group.PROTOCOL, expert.severity.WARN),
  zero = ProtoExpert.new("fastpath.zero_address", "DipPA or VM MAC is zero",
    expert.group.PROTOCOL, expert.severity.WARN),
  vsid = ProtoExpert.new("fastpath.unknown_vsid", "VSID maps to no scenario",
    expert.group.PROTOCOL, expert.severity.NOTE),
  not_gre = ProtoExpert.new("fastpath.not_gre", "Redirect not NVGRE-encapsulated",
    expert.group.PROTOCOL, expert.severity.NOTE),
}
fp.experts = { ex.truncated, ex.version, ex.family, ex.encap, ex.zero, ex.vsid, ex.not_gre }

-- The VSID-to-scenario map of spec 4.4 (configurable there as fastpath.vsid-map, so here too).
fp.prefs.vip_vsid = Pref.uint("VIP VSID (ICMPv4)", 253, "NVGRE VSID of VIP redirects")
fp.prefs.ilb_vsid = Pref.uint("ILB VSID (ICMPv4)", 254, "NVGRE VSID of ILB redirects")
fp.prefs.pe_vsid = Pref.uint("PE VSID (ICMPv6)", 254, "NVGRE VSID of Private Link redirects")
fp.prefs.any_trailer = Pref.bool("Decode any redirect trailer", false,
  "Also decode trailers of bare (not NVGRE) redirects whose version is not 1; off, such a"
  .. " redirect is most likely an ordinary one quoting more of the original packet")

local f_icmp = Field.new("icmp")
local f_icmpv6 = Field.new("icmpv6")
local f_gre_key = Field.new("gre.key")

local function all(field)
  local t = { field() }
  return t
end

-- The GRE key of the tunnel the redirect arrived in: the last key before the ICMP message.
local function gre_key_before(offset)
  local key = nil
  for _, fi in ipairs(all(f_gre_key)) do
    if fi.offset < offset then
      key = fi.value
    end
  end
  return key
end

local function scenario_of(family, vsid)
  if vsid == nil then
    return nil
  end
  if family == 4 and vsid == fp.prefs.vip_vsid then return "VIP" end
  if family == 4 and vsid == fp.prefs.ilb_vsid then return "ILB" end
  if family == 6 and vsid == fp.prefs.pe_vsid then return "PE" end
  return nil
end

-- The MAC as plain hex: tostring() of an Ethernet address would print the vendor's name instead.
local function mac_text(range)
  local parts = {}
  for i = 0, range:len() - 1 do
    parts[#parts + 1] = string.format("%02x", range(i, 1):uint())
  end
  return table.concat(parts, ":")
end

local function all_zero(range)
  for i = 0, range:len() - 1 do
    if range(i, 1):uint() ~= 0 then
      return false
    end
  end
  return true
end

-- Decodes RedirectInfo at [start, stop) of the frame; family 4 or 6 is the ICMP family.
local function decode(tvb, pinfo, root, family, start, stop, icmp_offset)
  local avail = stop - start
  if avail <= 0 then
    return
  end
  local key = gre_key_before(icmp_offset)
  local version = avail >= 4 and tvb(start, 4):uint() or nil
  if key == nil and version ~= 1 and not fp.prefs.any_trailer then
    return
  end
  local tree = root:add(fp, tvb(start, avail))
  tree:add(pf.icmp_family, family):set_generated()
  tree:add(pf.length, avail):set_generated()
  if key ~= nil then
    local vsid = math.floor(key / 256)
    tree:add(pf.vsid, vsid):set_generated()
    local scenario = scenario_of(family, vsid)
    if scenario ~= nil then
      tree:add(pf.scenario, scenario):set_generated()
    else
      tree:add_proto_expert_info(ex.vsid, "VSID " .. vsid .. " maps to no scenario")
    end
  else
    tree:add_proto_expert_info(ex.not_gre)
  end
  if avail < INFO_HEAD then
    tree:add_proto_expert_info(ex.truncated,
      "RedirectInfo truncated: " .. avail .. " bytes, at least 22 needed")
    return
  end
  local vitem = tree:add(pf.version, tvb(start, 4))
  if version ~= 1 then
    vitem:add_proto_expert_info(ex.version)
  end
  local pa_family = tvb(start + 4, 2):uint()
  local fitem = tree:add(pf.pa_family, tvb(start + 4, 2))
  local encap = tvb(start + 6, 2):uint()
  local eitem = tree:add(pf.encap_type, tvb(start + 6, 2))
  if ENCAP_TYPES[encap] == nil then
    eitem:add_proto_expert_info(ex.encap)
  end
  tree:add(pf.encap_id, tvb(start + 8, 4))
  local pa_len
  if pa_family == 2 then
    pa_len = 4
  elseif pa_family == 10 or pa_family == 23 then
    pa_len = 16
  else
    fitem:add_proto_expert_info(ex.family)
    return
  end
  local need = INFO_HEAD + pa_len + MAC_LENGTH
  if avail < need then
    tree:add_proto_expert_info(ex.truncated,
      "RedirectInfo truncated: " .. avail .. " bytes, " .. need .. " needed")
    return
  end
  local dip = tvb(start + INFO_HEAD, pa_len)
  local mac = tvb(start + INFO_HEAD + pa_len, MAC_LENGTH)
  local ditem = tree:add(pa_len == 4 and pf.dip_pa or pf.dip_pa6, dip)
  tree:add(pf.vm_mac, mac)
  if all_zero(dip) or all_zero(mac) then
    ditem:add_proto_expert_info(ex.zero)
  end
  if avail > need then
    tree:add(pf.padding, tvb(start + need, avail - need))
  end
  local dip_text = pa_len == 4 and tostring(dip:ipv4()) or tostring(dip:ipv6())
  local summary = "DipPA " .. dip_text .. ", VM MAC " .. mac_text(mac) .. ", "
    .. (ENCAP_TYPES[encap] or ("encap " .. encap)) .. " EncapId " .. tvb(start + 8, 4):uint()
  tree:append_text(": " .. summary)
  pinfo.cols.protocol:append("/FASTPATH")
  pinfo.cols.info:append(" [Fast Path " .. summary .. "]")
end

function fp.dissector(tvb, pinfo, root)
  local total = tvb:len()
  for _, fi in ipairs(all(f_icmp)) do
    local off = fi.offset
    local stop = math.min(off + fi.len, total)
    if stop - off >= 8 + 20 and tvb(off, 1):uint() == ICMP4_REDIRECT then
      local quoted = off + 8
      if tvb(quoted, 1):bitfield(0, 4) == 4 then
        local ihl = tvb(quoted, 1):bitfield(4, 4)
        decode(tvb, pinfo, root, 4, quoted + ihl * 4 + 8, stop, off)
      end
    end
  end
  for _, fi in ipairs(all(f_icmpv6)) do
    local off = fi.offset
    local stop = math.min(off + fi.len, total)
    if stop - off >= ICMP6_FIXED and tvb(off, 1):uint() == ICMP6_REDIRECT then
      decode(tvb, pinfo, root, 6, off + ICMP6_FIXED + REDIRECT_OPTION_LENGTH, stop, off)
    end
  end
end

-- true: every field is generated for us to read, also when tshark builds no full tree.
register_postdissector(fp, true)
