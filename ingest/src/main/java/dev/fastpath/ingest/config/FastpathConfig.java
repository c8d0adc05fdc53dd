package dev.fastpath.ingest.config;

import dev.fastpath.events.v1.Scenario;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything that shapes decoding and redirect handling. Loaded from HOCON by the service
 * (docs/configuration.md); plain records here so the codec does not depend on a config library.
 *
 * @param vsidMap scenario by (ICMP family, VSID): key {@code family * 0x1000000L + vsid}; use
 *     {@link #scenarioFor}
 * @param strictIcmpv6Checksum drop ICMPv6 redirects whose checksum does not verify (default: accept
 *     and count, spec 4.2)
 * @param conflictPolicy {@code PIN} (default) or {@code LATEST} (spec 2 rule 10)
 * @param encapIdMode {@code VSID} (default: GRE key field = EncapId << 8) or {@code RAW}
 * @param idleTimeoutMillis flows idle this long are closed (default 5 minutes)
 * @param maxFlows connections a node tracks at once (0 = no bound); beyond, new connections stay on
 *     the VIP path untracked and are counted as {@code flow_admission_refused}
 * @param maxFlowsPerEni the same bound per ENI (0 = no bound)
 */
public record FastpathConfig(
    List<EniConfig> enis,
    Map<Long, Scenario> vsidMap,
    boolean strictIcmpv6Checksum,
    ConflictPolicy conflictPolicy,
    EncapIdMode encapIdMode,
    long idleTimeoutMillis,
    long maxFlows,
    long maxFlowsPerEni) {

  public static final int DEFAULT_VIP_VSID = 253;
  public static final int DEFAULT_PE_ILB_VSID = 254;

  public FastpathConfig {
    enis = List.copyOf(enis);
    vsidMap = Map.copyOf(vsidMap);
    java.util.Objects.requireNonNull(conflictPolicy, "conflictPolicy");
    java.util.Objects.requireNonNull(encapIdMode, "encapIdMode");
    if (idleTimeoutMillis <= 0) {
      throw new IllegalArgumentException("idle timeout must be positive");
    }
    if (maxFlows < 0 || maxFlowsPerEni < 0) {
      throw new IllegalArgumentException("max-flows must be 0 (no bound) or positive");
    }
  }

  /** Without flow bounds. */
  public FastpathConfig(
      List<EniConfig> enis,
      Map<Long, Scenario> vsidMap,
      boolean strictIcmpv6Checksum,
      ConflictPolicy conflictPolicy,
      EncapIdMode encapIdMode,
      long idleTimeoutMillis) {
    this(enis, vsidMap, strictIcmpv6Checksum, conflictPolicy, encapIdMode, idleTimeoutMillis, 0, 0);
  }

  /** The bound on tracked connections, {@code Long.MAX_VALUE} when none is set. */
  public long flowBound() {
    return maxFlows == 0 ? Long.MAX_VALUE : maxFlows;
  }

  public long flowBoundPerEni() {
    return maxFlowsPerEni == 0 ? Long.MAX_VALUE : maxFlowsPerEni;
  }

  public static long vsidKey(int icmpFamily, int vsid) {
    return icmpFamily * 0x1000000L + vsid;
  }

  public static Map<Long, Scenario> defaultVsidMap() {
    Map<Long, Scenario> m = new LinkedHashMap<>();
    m.put(vsidKey(4, DEFAULT_VIP_VSID), Scenario.VIP);
    m.put(vsidKey(6, DEFAULT_PE_ILB_VSID), Scenario.PE);
    m.put(vsidKey(4, DEFAULT_PE_ILB_VSID), Scenario.ILB);
    return m;
  }

  public static FastpathConfig defaults(List<EniConfig> enis) {
    return new FastpathConfig(
        enis, defaultVsidMap(), false, ConflictPolicy.PIN, EncapIdMode.VSID, 5 * 60_000L);
  }

  /** The scenario for a redirect of this ICMP family (4 or 6) and VSID, or null if none. */
  public Scenario scenarioFor(int icmpFamily, int vsid) {
    return vsidMap.get(vsidKey(icmpFamily, vsid));
  }

  /** The configured ENI with this MAC, or null. */
  public EniConfig eni(long mac) {
    for (EniConfig c : enis) {
      if (c.mac() == mac) {
        return c;
      }
    }
    return null;
  }

  public boolean vsidConfigured(int vsid) {
    return vsidMap.containsKey(vsidKey(4, vsid)) || vsidMap.containsKey(vsidKey(6, vsid));
  }
}
