package dev.fastpath.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node JVMs and a real broker, one node SIGKILLed in the middle of the stream, five times in
 * a row with five different captures: every pass must end with a clean verdict (no flow whose
 * records differ from a one-node run, nothing lost or twice, gap-free seqs, the same forwarded
 * bytes), and the killed node must have written some of the log before it died (else the pass
 * proved nothing). What runs is `fastpath demo --nodes 3 --kill-node 2`, as a user runs it.
 */
@Tag("slow")
class ClusterFailoverTest {
  @TempDir Path dir;

  @Test
  void aNodeKilledMidStreamChangesNothingInTheLogFivePassesInARow() throws Exception {
    for (int pass = 1; pass <= 5; pass++) {
      Path data = dir.resolve("pass-" + pass);
      Cli.Result r =
          Cli.run(
              dir,
              "demo",
              "--nodes",
              "3",
              "--kill-node",
              "2",
              "--flows",
              "40",
              "--seed",
              Integer.toString(100 + pass),
              "--data",
              data.toString());
      assertThat(r.exitCode()).as("pass %d: %s", pass, r).isZero();
      assertThat(r.out())
          .as("pass %d", pass)
          .contains("node-2 SIGKILLed")
          .contains("5. verdict: clean")
          .contains("differ from a one-node run of the same capture: 0 ")
          .contains("lost 0, duplicated 0; flows with a gap or repeat in their seqs: 0")
          .contains("byte for byte the one-node run's");
      String writers =
          r.out()
              .lines()
              .filter(l -> l.contains("writers of each audit partition"))
              .findFirst()
              .orElseThrow();
      assertThat(writers)
          .as("pass %d: node-2 hosted flows before it died", pass)
          .contains("node-2");
      if (pass == 1) {
        // The log stays readable on the same --data once the demo's broker has stopped.
        Cli.Result verify =
            Cli.run(
                dir,
                "replay",
                "--verify",
                "--pcap",
                data.resolve("demo.pcap").toString(),
                "--config",
                data.resolve("demo.conf").toString(),
                "--data",
                data.toString());
        assertThat(verify.exitCode()).as(verify.toString()).isZero();
        assertThat(verify.out()).contains(", 0 flows differ");
        Cli.Result export =
            Cli.run(dir, "log", "export", "--type", "FlowFixedUp", "--data", data.toString());
        assertThat(export.exitCode()).as(export.toString()).isZero();
        assertThat(export.out().lines().count()).isPositive();
      }
    }
  }

  @Test
  void badClusterOptionsOfTheDemoAreRefusedWithExitTwo() throws Exception {
    for (String[] args :
        new String[][] {
          {"demo", "--kill-node", "2"},
          {"demo", "--nodes", "3", "--kill-node", "1"},
          {"demo", "--nodes", "3", "--kill-node", "4"},
          {"demo", "--nodes", "0"}
        }) {
      Cli.Result r = Cli.run(dir, args);
      assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
      assertThat(r.err()).contains("--");
    }
  }
}
