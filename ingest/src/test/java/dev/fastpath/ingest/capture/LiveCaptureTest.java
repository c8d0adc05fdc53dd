package dev.fastpath.ingest.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class LiveCaptureTest {

  private static boolean libpcapLoadable() {
    try {
      LiveCapture.interfaceNames();
      return true;
    } catch (CaptureException e) {
      return false;
    }
  }

  @Test
  void capturesAUdpDatagramOnLoopbackThroughABpfFilter() throws Exception {
    Assumptions.assumeTrue(libpcapLoadable(), "libpcap not loadable");
    Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")), "live capture needs root");
    byte[] marker = "fastpath-live-capture-test".getBytes(StandardCharsets.US_ASCII);
    CopyOnWriteArrayList<byte[]> captured = new CopyOnWriteArrayList<>();
    try (DatagramSocket sock = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        LiveCapture live =
            LiveCapture.open("lo", 65535, false, 50, "udp and dst port " + sock.getLocalPort())) {
      assertThat(live.linkType()).isEqualTo(1);
      Thread loop =
          new Thread(
              () -> {
                try {
                  live.loop(0, rec -> captured.add(rec.copyBytes()));
                } catch (CaptureException e) {
                  throw new IllegalStateException(e);
                }
              });
      loop.start();
      // Other traffic on lo must not pass the filter: this goes to a different port.
      try (DatagramSocket other = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
        sock.send(
            new DatagramPacket(
                marker, marker.length, InetAddress.getLoopbackAddress(), other.getLocalPort()));
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                sock.send(
                    new DatagramPacket(
                        marker,
                        marker.length,
                        InetAddress.getLoopbackAddress(),
                        sock.getLocalPort()));
                assertThat(captured).isNotEmpty();
              });
      live.breakLoop();
      loop.join(TimeUnit.SECONDS.toMillis(10));
    }
    byte[] frame = captured.get(0);
    // Ethernet (lo uses zero MACs) + IPv4 + UDP + marker.
    assertThat(frame.length).isEqualTo(14 + 20 + 8 + marker.length);
    assertThat(new String(frame, 42, marker.length, StandardCharsets.US_ASCII))
        .isEqualTo("fastpath-live-capture-test");
    assertThat(captured)
        .allSatisfy(f -> assertThat(((f[36] & 0xFF) << 8) | (f[37] & 0xFF)).isNotZero());
  }

  @Test
  void unknownInterfaceIsAClearError() {
    Assumptions.assumeTrue(libpcapLoadable(), "libpcap not loadable");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> LiveCapture.open("no-such-if0", 65535, false, 10, null))
        .isInstanceOf(CaptureException.class)
        .hasMessageContaining("no-such-if0");
  }

  /** Runs in a child JVM told to load a libpcap that does not exist. */
  public static final class MissingLibMain {
    public static void main(String[] args) {
      try {
        LiveCapture.interfaceNames();
        System.out.println("LOADED");
      } catch (CaptureException e) {
        System.out.println("MESSAGE:" + e.getMessage());
      }
      // The second call meets NoClassDefFoundError instead of UnsatisfiedLinkError.
      try {
        LiveCapture.open("lo", 100, false, 10, null);
        System.out.println("LOADED");
      } catch (CaptureException e) {
        System.out.println("MESSAGE:" + e.getMessage());
      }
    }
  }

  @Test
  void missingLibpcapNamesTheDebianPackage() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                "-Dorg.pcap4j.core.pcapLibName=fastpath-no-such-pcap",
                "-Djna.nosys=false",
                MissingLibMain.class.getName())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(out.lines().filter(l -> l.startsWith("MESSAGE:")))
        .as(out)
        .hasSize(2)
        .allSatisfy(
            l ->
                assertThat(l)
                    .isEqualTo(
                        "MESSAGE:libpcap not found: install Debian package libpcap0.8"
                            + " (apt-get install libpcap0.8)"));
  }
}
