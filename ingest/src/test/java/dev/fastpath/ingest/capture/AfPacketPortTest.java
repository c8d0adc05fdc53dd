package dev.fastpath.ingest.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The AF_PACKET port on veth pairs in a network namespace of the test's own. */
class AfPacketPortTest {
  static final AfPacketPort.Options SMALL = AfPacketPort.Options.defaults().withRing(64 * 1024, 4);

  NetNs ns;
  final List<AfPacketPort> opened = new ArrayList<>();

  @BeforeEach
  void namespace() throws Exception {
    String why = NetNs.unavailable();
    Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
    try {
      ns = NetNs.create();
    } catch (Exception e) {
      Assumptions.abort("skipped: cannot create a network namespace: " + e.getMessage());
    }
    ns.veth("va", "vb", 1500);
  }

  @AfterEach
  void cleanUp() {
    for (AfPacketPort p : opened) {
      p.close();
    }
    if (ns != null) {
      ns.close();
    }
  }

  AfPacketPort open(String ifname, AfPacketPort.Options o) throws Exception {
    AfPacketPort p = ns.inside(() -> AfPacketPort.open(ifname, o));
    opened.add(p);
    return p;
  }

  /** Ethernet to a unicast MAC, ethertype 0x88B5 (local experimental), optional tags, a marker. */
  static byte[] frame(int length, String marker, int... tags) {
    ByteBuffer b = ByteBuffer.allocate(length);
    b.put(new byte[] {0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a});
    for (int i = 0; i + 1 < tags.length; i += 2) {
      b.putShort((short) tags[i]).putShort((short) tags[i + 1]);
    }
    b.putShort((short) 0x88B5);
    b.put(marker.getBytes(StandardCharsets.US_ASCII));
    for (int i = 0; b.hasRemaining(); i++) {
      b.put((byte) i);
    }
    return b.array();
  }

  static boolean send(PacketPort p, byte[] f) {
    return p.transmit(ByteBuffer.wrap(f), 0, f.length);
  }

  /** The next frame whose payload carries {@code prefix}, skipping nothing else silently. */
  static byte[] receive(PacketPort p, CaptureRecord rec) throws CaptureException {
    assertThat(p.receive(rec, 5000)).as("a frame within 5 s on " + p.interfaceName()).isTrue();
    return rec.copyBytes();
  }

  @Test
  void framesArriveByteForByteWithTheirVlanTagsPutBack() throws Exception {
    AfPacketPort rx = open("vb", SMALL);
    AfPacketPort tx = open("va", AfPacketPort.Options.transmitOnly());
    List<byte[]> sent =
        List.of(
            frame(60, "plain"),
            frame(64, "dot1q", 0x8100, 0x2005),
            frame(90, "qinq", 0x88A8, 0x0064, 0x8100, 0x0123),
            frame(1514, "full"));
    // An offset into a larger buffer, as the pipeline hands over rewritten frames.
    byte[] big = new byte[2000];
    System.arraycopy(sent.get(0), 0, big, 100, 60);
    assertThat(tx.transmit(ByteBuffer.wrap(big), 100, 60)).isTrue();
    for (byte[] f : sent.subList(1, sent.size())) {
      assertThat(send(tx, f)).isTrue();
    }
    CaptureRecord rec = new CaptureRecord();
    long now = System.currentTimeMillis() * 1_000_000L;
    for (int i = 0; i < sent.size(); i++) {
      byte[] got = receive(rx, rec);
      assertThat(got).as("frame " + i).isEqualTo(sent.get(i));
      assertThat(rec.originalLength()).isEqualTo(sent.get(i).length);
      assertThat(rec.frameNumber()).isEqualTo(i + 1);
      assertThat(rec.linkType()).isEqualTo(1);
      assertThat(Math.abs(rec.timestampNanos() - now)).isLessThan(TimeUnit.MINUTES.toNanos(1));
      assertThat(rec.data().isReadOnly()).isTrue();
    }
    assertThat(rx.receive(rec, 50)).as("nothing more on a quiet wire").isFalse();
    assertThat(rx.stats().received()).isEqualTo(4);
    assertThat(tx.stats().transmitted()).isEqualTo(4);
  }

  @Test
  void aPortNeverReceivesFramesLeavingItsInterface() throws Exception {
    AfPacketPort a = open("va", SMALL);
    AfPacketPort otherSenderOnA = open("va", AfPacketPort.Options.transmitOnly());
    AfPacketPort b = open("vb", SMALL);
    assertThat(send(a, frame(80, "from-a-itself"))).isTrue();
    assertThat(send(otherSenderOnA, frame(80, "from-a-other"))).isTrue();
    CaptureRecord rec = new CaptureRecord();
    assertThat(new String(receive(b, rec), 14, 13, StandardCharsets.US_ASCII))
        .isEqualTo("from-a-itself");
    assertThat(new String(receive(b, rec), 14, 12, StandardCharsets.US_ASCII))
        .isEqualTo("from-a-other");
    // What arrives on va is received; what left it was not.
    assertThat(send(b, frame(80, "from-b"))).isTrue();
    assertThat(new String(receive(a, rec), 14, 6, StandardCharsets.US_ASCII)).isEqualTo("from-b");
    assertThat(a.receive(rec, 100)).isFalse();
    assertThat(a.stats().received()).isEqualTo(1);
  }

  @Test
  void receiveAnyServesBothSidesOfABridge() throws Exception {
    ns.veth("wa", "wb", 1500);
    AfPacketPort vb = open("vb", SMALL);
    AfPacketPort wb = open("wb", SMALL);
    AfPacketPort va = open("va", AfPacketPort.Options.transmitOnly());
    AfPacketPort wa = open("wa", AfPacketPort.Options.transmitOnly());
    AfPacketPort[] both = {vb, wb};
    CaptureRecord rec = new CaptureRecord();
    assertThat(AfPacketPort.receiveAny(both, rec, 20)).isEqualTo(-1);
    send(wa, frame(70, "w1"));
    assertThat(AfPacketPort.receiveAny(both, rec, 5000)).isEqualTo(1);
    List<String> order = List.of("v0", "v1", "w2", "v2", "w3", "w4", "w5", "v3");
    for (String m : order) {
      send(m.startsWith("v") ? va : wa, frame(70, m));
    }
    List<String> got = new ArrayList<>();
    int[] per = new int[2];
    long lastTs = 0;
    while (got.size() < order.size()) {
      int i = AfPacketPort.receiveAny(both, rec, 5000);
      assertThat(i).isNotNegative();
      per[i]++;
      got.add(new String(rec.copyBytes(), 14, 2, StandardCharsets.US_ASCII));
      assertThat(rec.timestampNanos()).isGreaterThanOrEqualTo(lastTs);
      lastTs = rec.timestampNanos();
    }
    assertThat(per).containsExactly(4, 4);
    assertThat(got).as("the two sides merged in arrival order").isEqualTo(order);
  }

  @Test
  void aFrameOverTheMtuIsATransmitErrorAndTheNextFrameStillGoes() throws Exception {
    AfPacketPort rx = open("vb", SMALL);
    AfPacketPort tx = open("va", AfPacketPort.Options.transmitOnly());
    assertThat(send(tx, frame(1514 + 42, "too-big"))).isFalse();
    assertThat(send(tx, frame(100, "fits"))).isTrue();
    PortStats st = tx.stats();
    assertThat(st.transmitErrors()).isEqualTo(1);
    assertThat(st.transmitted()).isEqualTo(1);
    assertThat(st.lastTransmitError()).contains("1556 bytes");
    CaptureRecord rec = new CaptureRecord();
    assertThat(new String(receive(rx, rec), 14, 4, StandardCharsets.US_ASCII)).isEqualTo("fits");
  }

  @Test
  void framesTheRingHadNoRoomForAreCountedAndAllOthersAreReceived() throws Exception {
    // Two 4 KiB blocks hold a handful of 500-byte frames; the rest must show up as drops.
    AfPacketPort rx = open("vb", AfPacketPort.Options.defaults().withRing(4096, 2));
    AfPacketPort tx = open("va", AfPacketPort.Options.transmitOnly());
    int n = 200;
    for (int i = 0; i < n; i++) {
      assertThat(send(tx, frame(500, String.format("%04d", i)))).isTrue();
    }
    CaptureRecord rec = new CaptureRecord();
    List<Integer> seen = new ArrayList<>();
    while (rx.receive(rec, 200)) {
      seen.add(Integer.parseInt(new String(rec.copyBytes(), 14, 4, StandardCharsets.US_ASCII)));
    }
    PortStats st = rx.stats();
    assertThat(st.kernelDrops()).as("the ring overflowed").isPositive();
    assertThat(st.received()).isEqualTo(seen.size());
    assertThat(st.received() + st.kernelDrops()).as("every frame received or counted").isEqualTo(n);
    assertThat(seen).isSorted();
  }

  @Test
  void anUnknownInterfaceIsNamedInTheError() {
    assertThatThrownBy(() -> open("nope0", SMALL))
        .isInstanceOf(CaptureException.class)
        .hasMessageStartingWith("no such interface 'nope0' (have: ");
    assertThatThrownBy(() -> open("../etc", SMALL))
        .isInstanceOf(CaptureException.class)
        .hasMessageContaining("bad interface name");
  }

  @Test
  void aClosedPortReceivesAndSendsNothing() throws Exception {
    AfPacketPort rx = open("vb", SMALL);
    rx.close();
    CaptureRecord rec = new CaptureRecord();
    assertThat(rx.isOpen()).isFalse();
    assertThat(rx.receive(rec, 10)).isFalse();
    assertThat(send(rx, frame(60, "x"))).isFalse();
    assertThat(Arrays.asList(rx.stats().received())).containsExactly(0L);
  }
}
