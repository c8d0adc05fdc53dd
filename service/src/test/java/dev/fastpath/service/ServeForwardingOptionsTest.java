package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user sees when a forwarding node cannot start: one line naming the problem, exit 2, before
 * anything else starts (no broker, no cluster).
 */
class ServeForwardingOptionsTest {
  static final String ENI = "60:45:bd:25:fe:3b";
  @TempDir Path dir;

  private Cli.Result serve(String... args) throws Exception {
    List<String> a = new ArrayList<>(List.of("serve", "--eni", ENI, "--data", dir.toString()));
    a.addAll(List.of(args));
    return Cli.run(dir, a.toArray(String[]::new));
  }

  private static void assertOneLineError(Cli.Result r, String message) {
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.err().strip()).as(r.toString()).isEqualTo("fastpath: " + message);
  }

  @Test
  void optionsThatDoNotMakeAForwardingNodeAreRefused() throws Exception {
    assertOneLineError(
        serve("--out-interface", "eth1"),
        "--out-interface needs --interface IN (where frames come from)");
    assertOneLineError(
        serve("--bridge", "vm0"),
        "--bridge wants two different interfaces as A:B (e.g. --bridge vm0:eth1), not 'vm0'");
    assertOneLineError(
        serve("--bridge", "vm0:vm0"),
        "--bridge wants two different interfaces as A:B (e.g. --bridge vm0:eth1), not 'vm0:vm0'");
    assertOneLineError(
        serve("--bridge", "a:b", "--interface", "c"),
        "--bridge A:B replaces --interface/--out-interface: use one or the other");
    assertOneLineError(
        serve("--interface", "a", "--out-interface", "b", "--hold-limit", "-2"),
        "--hold-limit is milliseconds >= 0, or -1 to wait until durable, not -2");
    assertOneLineError(
        serve("--interface", "a", "--out-interface", "b", "--filter", "tcp"),
        "--filter only applies when watching (--interface alone): a forwarding node passes every"
            + " frame");
  }

  @Test
  void aMissingInterfaceIsNamedWithTheOnesThereAre() throws Exception {
    Assumptions.assumeTrue(
        System.getProperty("os.name").toLowerCase().contains("linux"), "AF_PACKET is Linux only");
    Cli.Result r = serve("--interface", "nope0", "--out-interface", "lo");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.err().strip().lines()).as(r.toString()).hasSize(1);
    assertThat(r.err()).startsWith("fastpath: no such interface 'nope0' (have: ").contains("lo");
  }

  @Test
  void withoutCapNetRawTheErrorSaysWhatToGrant() throws Exception {
    Assumptions.assumeTrue(
        System.getProperty("os.name").toLowerCase().contains("linux"), "AF_PACKET is Linux only");
    List<String> cmd = new ArrayList<>();
    if ("root".equals(System.getProperty("user.name"))) {
      // Root has the capability: run the node without it (out of its bounding set).
      Path setpriv = Path.of("/usr/bin/setpriv");
      Assumptions.assumeTrue(Files.isExecutable(setpriv), "skipped: setpriv (util-linux) missing");
      cmd.addAll(
          List.of(setpriv.toString(), "--bounding-set", "-net_raw", "--inh-caps", "-net_raw"));
    }
    cmd.addAll(LiveNet.java("256m"));
    cmd.addAll(
        List.of(
            Main.class.getName(),
            "serve",
            "--eni",
            ENI,
            "--data",
            dir.toString(),
            "--interface",
            "lo",
            "--out-interface",
            "lo"));
    Path out = dir.resolve("out");
    Path err = dir.resolve("err");
    Process p =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
    String e = Files.readString(err);
    assertThat(p.exitValue()).as(e).isEqualTo(2);
    assertThat(e.strip().lines()).as(e).hasSize(1);
    assertThat(e)
        .startsWith(
            "fastpath: cannot open a packet socket on 'lo': live forwarding needs CAP_NET_RAW")
        .contains("AmbientCapabilities=CAP_NET_RAW");
  }

  @Test
  void anInterfaceThatIsDownIsSaidSo() throws Exception {
    String why = LiveNet.unavailable();
    Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
    try (LiveNet net = LiveNet.create()) {
      net.sh("ip link add d0 type veth peer name d1");
      List<String> cmd = LiveNet.java("256m");
      cmd.addAll(
          List.of(
              Main.class.getName(),
              "serve",
              "--eni",
              ENI,
              "--data",
              dir.toString(),
              "--interface",
              "d0",
              "--out-interface",
              "d1"));
      Process p = net.start(cmd, dir.resolve("out"), dir.resolve("err"));
      assertThat(p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
      String e = Files.readString(dir.resolve("err"));
      assertThat(p.exitValue()).as(e).isEqualTo(2);
      assertThat(e.strip()).isEqualTo("fastpath: interface 'd0' is down (ip link set d0 up)");
    }
  }
}
