package dev.fastpath.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.fastpath.events.v1.CloseReason;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.Scenario;
import org.junit.jupiter.api.Test;

/**
 * The evolution rules of docs/event-schema.md, checked against test-only older ({@code v0}) and
 * newer ({@code v9}) variants of the schema compiled from src/test/proto.
 */
class SchemaEvolutionTest {

  private static final byte[] ENI = {0x60, 0x45, (byte) 0xbd, 0x25, (byte) 0xfe, 0x3b};
  private static final byte[] SRC = {52, (byte) 150, (byte) 136, (byte) 193};
  private static final byte[] VIP = {20, 69, 29, 62};
  private static final byte[] PA = {10, 126, 24, 81};
  private static final byte[] VM = {0x00, 0x22, 0x48, (byte) 0xc2, (byte) 0xa4, (byte) 0xbf};

  @Test
  void anEnvelopeWrittenByAnOlderSchemaDecodesWithTheCurrentClasses() throws Exception {
    var v0 =
        dev.fastpath.events.evolution.v0.Envelope.newBuilder()
            .setSchemaVersion(1)
            .setFlow(
                dev.fastpath.events.evolution.v0.FlowKey.newBuilder()
                    .setEniMac(ByteString.copyFrom(ENI))
                    .setProtocol(6)
                    .setSrcIp(ByteString.copyFrom(SRC))
                    .setSrcPort(9728)
                    .setDstIp(ByteString.copyFrom(VIP))
                    .setDstPort(443))
            .setSeq(2)
            .setEventTimeNanos(1_700_000_000_123_456_789L)
            .setCause(
                dev.fastpath.events.evolution.v0.Cause.newBuilder()
                    .setSource("vip.pcap")
                    .setFrame(7))
            .setFlowFixedUp(
                dev.fastpath.events.evolution.v0.FlowFixedUp.newBuilder()
                    .setRedirect(
                        dev.fastpath.events.evolution.v0.RedirectInfo.newBuilder()
                            .setScenario(dev.fastpath.events.evolution.v0.Scenario.VIP)
                            .setIcmpFamily(4)
                            .setVsid(253)
                            .setDipPa(ByteString.copyFrom(PA))
                            .setVmMac(ByteString.copyFrom(VM))))
            .build();

    Envelope current = Envelope.parseFrom(v0.toByteArray());

    assertThat(current.getEventCase()).isEqualTo(Envelope.EventCase.FLOW_FIXED_UP);
    assertThat(current.getSeq()).isEqualTo(2);
    assertThat(current.getEventTimeNanos()).isEqualTo(1_700_000_000_123_456_789L);
    assertThat(current.getFlow().getSrcPort()).isEqualTo(9728);
    assertThat(current.getFlow().getDstIp().toByteArray()).containsExactly(VIP);
    assertThat(current.getCause().getSource()).isEqualTo("vip.pcap");
    assertThat(current.getCause().getFrame()).isEqualTo(7);
    var redirect = current.getFlowFixedUp().getRedirect();
    assertThat(redirect.getScenario()).isEqualTo(Scenario.VIP);
    assertThat(redirect.getVsid()).isEqualTo(253);
    assertThat(redirect.getDipPa().toByteArray()).containsExactly(PA);
    assertThat(redirect.getVmMac().toByteArray()).containsExactly(VM);
    // Fields the older writer did not know read as their defaults, never as garbage.
    assertThat(current.getNode()).isEmpty();
    assertThat(current.getProcessingTimeNanos()).isZero();
    assertThat(current.getCause().getInterface()).isEmpty();
    assertThat(current.getFlowFixedUp().hasNewPath()).isFalse();
    assertThat(redirect.getEncapId()).isZero();
    assertThat(current.getUnknownFields().asMap()).isEmpty();
  }

  @Test
  void aRecordFromANewerSchemaDecodesAndKeepsItsUnknownFieldsOnReencoding() throws Exception {
    var v9 =
        dev.fastpath.events.evolution.v9.Envelope.newBuilder()
            .setSchemaVersion(1)
            .setFlow(
                dev.fastpath.events.evolution.v9.FlowKey.newBuilder()
                    .setEniMac(ByteString.copyFrom(ENI))
                    .setProtocol(6)
                    .setSrcIp(ByteString.copyFrom(SRC))
                    .setSrcPort(9728)
                    .setDstIp(ByteString.copyFrom(VIP))
                    .setDstPort(443)
                    .setVlan(42))
            .setSeq(5)
            .setNode("node-b")
            .setTraceId("trace-123")
            .setCause(
                dev.fastpath.events.evolution.v9.Cause.newBuilder()
                    .setSource("live:eth0")
                    .setInterface("eth0")
                    .setCapturePort(3))
            .setFlowClosed(
                dev.fastpath.events.evolution.v9.FlowClosed.newBuilder()
                    .setReason(CloseReason.RST.getNumber())
                    .setPacketsOutbound(12)
                    .setLastScenario(dev.fastpath.events.evolution.v9.Scenario.GATEWAY))
            .build();

    Envelope current = Envelope.parseFrom(v9.toByteArray());

    assertThat(current.getEventCase()).isEqualTo(Envelope.EventCase.FLOW_CLOSED);
    assertThat(current.getFlowClosed().getReason()).isEqualTo(CloseReason.RST);
    assertThat(current.getFlowClosed().getPacketsOutbound()).isEqualTo(12);
    assertThat(current.getNode()).isEqualTo("node-b");
    assertThat(current.getCause().getInterface()).isEqualTo("eth0");
    assertThat(current.getUnknownFields().hasField(8)).isTrue();
    assertThat(current.getFlow().getUnknownFields().hasField(7)).isTrue();

    // A v1 reader that re-encodes (e.g. a copy tool) must not lose what it does not understand.
    var back = dev.fastpath.events.evolution.v9.Envelope.parseFrom(current.toByteArray());
    assertThat(back).isEqualTo(v9);
    assertThat(back.getTraceId()).isEqualTo("trace-123");
    assertThat(back.getFlow().getVlan()).isEqualTo(42);
    assertThat(back.getCause().getCapturePort()).isEqualTo(3);
    assertThat(back.getFlowClosed().getLastScenario())
        .isEqualTo(dev.fastpath.events.evolution.v9.Scenario.GATEWAY);
  }

  @Test
  void anUnknownEventTypeDecodesAsEventNotSetAndSurvivesReencoding() throws Exception {
    var v9 =
        dev.fastpath.events.evolution.v9.Envelope.newBuilder()
            .setSchemaVersion(1)
            .setSeq(9)
            .setFlowMigrated(
                dev.fastpath.events.evolution.v9.FlowMigrated.newBuilder()
                    .setFromNode("a")
                    .setToNode("b"))
            .build();

    Envelope current = Envelope.parseFrom(v9.toByteArray());

    assertThat(current.getEventCase()).isEqualTo(Envelope.EventCase.EVENT_NOT_SET);
    assertThat(current.getSeq()).isEqualTo(9);
    assertThat(current.getUnknownFields().hasField(40)).isTrue();
    var back = dev.fastpath.events.evolution.v9.Envelope.parseFrom(current.toByteArray());
    assertThat(back.getFlowMigrated().getToNode()).isEqualTo("b");
  }

  @Test
  void anUnknownEnumValueIsKeptAsItsNumber() throws InvalidProtocolBufferException {
    // A direction value a newer writer added.
    var v9 = dev.fastpath.events.evolution.v9.FlowOpened.newBuilder().setDirection(7).build();
    var current = dev.fastpath.events.v1.FlowOpened.parseFrom(v9.toByteArray());

    assertThat(current.getDirection()).isEqualTo(dev.fastpath.events.v1.Direction.UNRECOGNIZED);
    assertThat(current.getDirectionValue()).isEqualTo(7);
    assertThat(dev.fastpath.events.evolution.v9.FlowOpened.parseFrom(current.toByteArray()))
        .isEqualTo(v9);
  }
}
