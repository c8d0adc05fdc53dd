package dev.fastpath.traffic;

/**
 * What {@link TrafficGenerator} writes (docs/generator.md). Shares are relative weights of the
 * three scenarios. The redirect faults {@code pNeverSent}, {@code pSpoofedMux}, {@code pWrongVsid},
 * {@code pUnknownEni}, {@code pNotGre}, {@code pNonTcp} and {@code pMalformed} are exclusive (at
 * most one per flow, their sum at most 1); a flow with one of them gets that bad redirect instead
 * of a valid one. {@code pLost}, {@code pDuplicate}, {@code pConflict} and the lateness
 * probabilities apply independently to flows whose redirect is valid.
 *
 * @param durationSeconds 0: {@code flows} flows at {@code flowsPerSecond}; otherwise {@code
 *     round(flowsPerSecond * durationSeconds)} flows, ignoring {@code flows}
 * @param pLost the first redirect is missing and a resend arrives after the next outbound packet
 * @param pRst the flow ends with RST, else with FIN / FIN / ACK
 * @param peBehindNsg the last ENI (with two or more ENIs) sits behind an NSG appliance: its PE
 *     flows carry a second, outer NVGRE
 * @param pFlowMiss per flow, an extra redirect for a tuple that is never opened
 * @param pIcmpv6BadChecksum PE redirects whose ICMPv6 checksum does not verify, as real MUXes send
 * @param ilbVxlanShare ILB flows carried in VXLAN rather than NVGRE
 * @param pEmbeddedIpOptions ICMPv4 redirects whose embedded IPv4 header has options (IHL 6)
 * @param payloadBytes typical data segment size
 * @param startEpochSeconds time of the first flow
 */
public record GeneratorConfig(
    long seed,
    int flows,
    int enis,
    double vipShare,
    double peShare,
    double ilbShare,
    double flowsPerSecond,
    double durationSeconds,
    int dataPacketsPerFlow,
    double pNeverSent,
    double pLost,
    double pDuplicate,
    double pLateAfterSynAck,
    double pLateAfterData,
    double pConflict,
    double pSpoofedMux,
    double pWrongVsid,
    double pUnknownEni,
    double pNotGre,
    double pNonTcp,
    double pMalformed,
    double pRst,
    boolean peBehindNsg,
    double pFlowMiss,
    double pIcmpv6BadChecksum,
    double ilbVxlanShare,
    double pEmbeddedIpOptions,
    int payloadBytes,
    long startEpochSeconds) {

  public GeneratorConfig {
    if (flows < 0) {
      throw new IllegalArgumentException("flows must be >= 0, not " + flows);
    }
    if (enis < 1 || enis > 4096) {
      throw new IllegalArgumentException("enis must be in 1..4096, not " + enis);
    }
    if (!(flowsPerSecond > 0)) {
      throw new IllegalArgumentException("flows per second must be > 0, not " + flowsPerSecond);
    }
    if (!(durationSeconds >= 0)) {
      throw new IllegalArgumentException("duration must be >= 0, not " + durationSeconds);
    }
    if (dataPacketsPerFlow < 0 || dataPacketsPerFlow > 10_000) {
      throw new IllegalArgumentException("data packets per flow must be in 0..10000");
    }
    if (payloadBytes < 1 || payloadBytes > 8_000) {
      throw new IllegalArgumentException("payload bytes must be in 1..8000");
    }
    if (vipShare < 0 || peShare < 0 || ilbShare < 0 || !(vipShare + peShare + ilbShare > 0)) {
      throw new IllegalArgumentException("scenario shares must be >= 0 and not all 0");
    }
    double[] ps = {
      pNeverSent,
      pLost,
      pDuplicate,
      pLateAfterSynAck,
      pLateAfterData,
      pConflict,
      pSpoofedMux,
      pWrongVsid,
      pUnknownEni,
      pNotGre,
      pNonTcp,
      pMalformed,
      pRst,
      pFlowMiss,
      pIcmpv6BadChecksum,
      ilbVxlanShare,
      pEmbeddedIpOptions
    };
    for (double p : ps) {
      if (!(p >= 0 && p <= 1)) {
        throw new IllegalArgumentException("probabilities must be in [0, 1], got " + p);
      }
    }
    if (pLateAfterSynAck + pLateAfterData > 1 + 1e-9) {
      throw new IllegalArgumentException("the lateness probabilities add up to more than 1");
    }
    if (exclusiveFaultSum(
            pNeverSent, pSpoofedMux, pWrongVsid, pUnknownEni, pNotGre, pNonTcp, pMalformed)
        > 1 + 1e-9) {
      throw new IllegalArgumentException(
          "never-sent, spoofed, wrong-VSID, unknown-ENI, not-GRE, non-TCP and malformed are"
              + " exclusive: their probabilities add up to more than 1");
    }
  }

  private static double exclusiveFaultSum(double... ps) {
    double s = 0;
    for (double p : ps) {
      s += p;
    }
    return s;
  }

  /** 100 flows over 4 ENIs, an even mix, a few percent of every fault. */
  public static GeneratorConfig defaults() {
    return builder().build();
  }

  /** The number of flows actually generated. */
  public int effectiveFlows() {
    return durationSeconds > 0
        ? (int) Math.max(1, Math.round(flowsPerSecond * durationSeconds))
        : flows;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.seed = seed;
    b.flows = flows;
    b.enis = enis;
    b.vipShare = vipShare;
    b.peShare = peShare;
    b.ilbShare = ilbShare;
    b.flowsPerSecond = flowsPerSecond;
    b.durationSeconds = durationSeconds;
    b.dataPacketsPerFlow = dataPacketsPerFlow;
    b.pNeverSent = pNeverSent;
    b.pLost = pLost;
    b.pDuplicate = pDuplicate;
    b.pLateAfterSynAck = pLateAfterSynAck;
    b.pLateAfterData = pLateAfterData;
    b.pConflict = pConflict;
    b.pSpoofedMux = pSpoofedMux;
    b.pWrongVsid = pWrongVsid;
    b.pUnknownEni = pUnknownEni;
    b.pNotGre = pNotGre;
    b.pNonTcp = pNonTcp;
    b.pMalformed = pMalformed;
    b.pRst = pRst;
    b.peBehindNsg = peBehindNsg;
    b.pFlowMiss = pFlowMiss;
    b.pIcmpv6BadChecksum = pIcmpv6BadChecksum;
    b.ilbVxlanShare = ilbVxlanShare;
    b.pEmbeddedIpOptions = pEmbeddedIpOptions;
    b.payloadBytes = payloadBytes;
    b.startEpochSeconds = startEpochSeconds;
    return b;
  }

  /** Fluent construction for the CLI and tests; starts from the defaults. */
  public static final class Builder {
    private long seed = 1;
    private int flows = 100;
    private int enis = 4;
    private double vipShare = 1;
    private double peShare = 1;
    private double ilbShare = 1;
    private double flowsPerSecond = 100;
    private double durationSeconds = 0;
    private int dataPacketsPerFlow = 4;
    private double pNeverSent = 0.05;
    private double pLost = 0.05;
    private double pDuplicate = 0.05;
    private double pLateAfterSynAck = 0.05;
    private double pLateAfterData = 0.05;
    private double pConflict = 0.03;
    private double pSpoofedMux = 0.02;
    private double pWrongVsid = 0.02;
    private double pUnknownEni = 0.02;
    private double pNotGre = 0.02;
    private double pNonTcp = 0.02;
    private double pMalformed = 0.02;
    private double pRst = 0.1;
    private boolean peBehindNsg = true;
    private double pFlowMiss = 0.02;
    private double pIcmpv6BadChecksum = 0.5;
    private double ilbVxlanShare = 0.5;
    private double pEmbeddedIpOptions = 0.1;
    private int payloadBytes = 200;
    private long startEpochSeconds = 1_767_225_600L; // 2026-01-01T00:00:00Z

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder flows(int v) {
      flows = v;
      return this;
    }

    public Builder enis(int v) {
      enis = v;
      return this;
    }

    public Builder shares(double vip, double pe, double ilb) {
      vipShare = vip;
      peShare = pe;
      ilbShare = ilb;
      return this;
    }

    public Builder flowsPerSecond(double v) {
      flowsPerSecond = v;
      return this;
    }

    public Builder durationSeconds(double v) {
      durationSeconds = v;
      return this;
    }

    public Builder dataPacketsPerFlow(int v) {
      dataPacketsPerFlow = v;
      return this;
    }

    public Builder pNeverSent(double v) {
      pNeverSent = v;
      return this;
    }

    public Builder pLost(double v) {
      pLost = v;
      return this;
    }

    public Builder pDuplicate(double v) {
      pDuplicate = v;
      return this;
    }

    public Builder pLateAfterSynAck(double v) {
      pLateAfterSynAck = v;
      return this;
    }

    public Builder pLateAfterData(double v) {
      pLateAfterData = v;
      return this;
    }

    public Builder pConflict(double v) {
      pConflict = v;
      return this;
    }

    public Builder pSpoofedMux(double v) {
      pSpoofedMux = v;
      return this;
    }

    public Builder pWrongVsid(double v) {
      pWrongVsid = v;
      return this;
    }

    public Builder pUnknownEni(double v) {
      pUnknownEni = v;
      return this;
    }

    public Builder pNotGre(double v) {
      pNotGre = v;
      return this;
    }

    public Builder pNonTcp(double v) {
      pNonTcp = v;
      return this;
    }

    public Builder pMalformed(double v) {
      pMalformed = v;
      return this;
    }

    public Builder pRst(double v) {
      pRst = v;
      return this;
    }

    public Builder peBehindNsg(boolean v) {
      peBehindNsg = v;
      return this;
    }

    public Builder pFlowMiss(double v) {
      pFlowMiss = v;
      return this;
    }

    public Builder pIcmpv6BadChecksum(double v) {
      pIcmpv6BadChecksum = v;
      return this;
    }

    public Builder ilbVxlanShare(double v) {
      ilbVxlanShare = v;
      return this;
    }

    public Builder pEmbeddedIpOptions(double v) {
      pEmbeddedIpOptions = v;
      return this;
    }

    public Builder payloadBytes(int v) {
      payloadBytes = v;
      return this;
    }

    public Builder startEpochSeconds(long v) {
      startEpochSeconds = v;
      return this;
    }

    /** Sets every fault probability to 0: only clean, on-time, single redirects. */
    public Builder noFaults() {
      pNeverSent = pLost = pDuplicate = pLateAfterSynAck = pLateAfterData = pConflict = 0;
      pSpoofedMux = pWrongVsid = pUnknownEni = pNotGre = pNonTcp = pMalformed = pFlowMiss = 0;
      return this;
    }

    public GeneratorConfig build() {
      return new GeneratorConfig(
          seed,
          flows,
          enis,
          vipShare,
          peShare,
          ilbShare,
          flowsPerSecond,
          durationSeconds,
          dataPacketsPerFlow,
          pNeverSent,
          pLost,
          pDuplicate,
          pLateAfterSynAck,
          pLateAfterData,
          pConflict,
          pSpoofedMux,
          pWrongVsid,
          pUnknownEni,
          pNotGre,
          pNonTcp,
          pMalformed,
          pRst,
          peBehindNsg,
          pFlowMiss,
          pIcmpv6BadChecksum,
          ilbVxlanShare,
          pEmbeddedIpOptions,
          payloadBytes,
          startEpochSeconds);
    }
  }
}
