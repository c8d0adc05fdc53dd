package dev.fastpath.projections.history;

import com.google.protobuf.ByteString;
import dev.fastpath.events.v1.EncapLayer;
import dev.fastpath.events.v1.EncapType;
import dev.fastpath.events.v1.FlowOpened;
import dev.fastpath.events.v1.FlowSnapshot;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.RedirectInfo;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.state.FlowState;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;

/**
 * The core state of a row written by a build before schema 5, which kept no fold state: rebuilt
 * from the row's columns when a record next touches the flow, so a store of an earlier build keeps
 * being updated instead of being thrown away. Exact for everything the row shows (state, scenario,
 * PA, VM MAC, pinning MUX, times, counts, last seq), which is all a later record's fold reads back
 * from the history; the rest of a snapshot (the first packet's layers, paths, input positions) is
 * not in those rows and is left at its defaults.
 */
final class LegacyRows {
  private LegacyRows() {}

  static FlowState state(FlowKey key, FlowRow r) {
    Scenario scenario = scenario(r.scenario());
    FlowSnapshot.Builder b =
        FlowSnapshot.newBuilder()
            .setSeq(r.lastSeq())
            .setState(kind(r.state()))
            .setOpenedAtNanos(orZero(r.openedAt()))
            .setFixedUpAtNanos(orZero(r.fixedUpAt()))
            .setClosedAtNanos(orZero(r.closedAt()))
            .setPacketsOutbound(r.packetsOut())
            .setBytesOutbound(r.bytesOut())
            .setPacketsInbound(r.packetsIn())
            .setBytesInbound(r.bytesIn());
    if (r.pa() != null && r.vmMac() != null) {
      // The pinned redirect as far as the row knows it (what the row's columns are read from).
      RedirectInfo.Builder pin =
          RedirectInfo.newBuilder()
              .setScenario(scenario)
              .setEniMac(ByteString.copyFrom(Macs.toBytes(key.eniMac())))
              .setEmbeddedFlow(key.toProto())
              .setDipPa(ByteString.copyFrom(IpAddrs.parse(r.pa())))
              .setVmMac(ByteString.copyFrom(Macs.toBytes(Macs.parse(r.vmMac()))));
      if (r.mux() != null) {
        pin.setMuxIp(ByteString.copyFrom(IpAddrs.parse(r.mux())));
      }
      b.setScenario(scenario).setFixup(pin);
    }
    if (r.openedAt() != null) {
      // Only its shape matters to the row (the scenario before a fixup): encapsulated or not.
      FlowOpened.Builder o = FlowOpened.newBuilder();
      if (scenario == Scenario.PE || scenario == Scenario.ILB) {
        o.addEncap(EncapLayer.newBuilder().setType(EncapType.NVGRE));
      }
      b.setOpened(o);
    }
    return FlowState.fromSnapshot(key, b.build());
  }

  private static FlowStateKind kind(FlowHistoryState s) {
    return switch (s) {
      case VIP -> FlowStateKind.VIP_PATH;
      case FAST_PATH -> FlowStateKind.FAST_PATH;
      case CLOSED -> FlowStateKind.CLOSED;
    };
  }

  private static Scenario scenario(String name) {
    if (name == null) {
      return Scenario.SCENARIO_UNSPECIFIED;
    }
    try {
      return Scenario.valueOf(name);
    } catch (IllegalArgumentException e) {
      return Scenario.SCENARIO_UNSPECIFIED;
    }
  }

  private static long orZero(Long v) {
    return v == null ? 0 : v;
  }
}
