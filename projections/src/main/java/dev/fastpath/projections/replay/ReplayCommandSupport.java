package dev.fastpath.projections.replay;

import dev.fastpath.ingest.config.FastpathConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code fastpath replay} does once the CLI has parsed its options and knows the broker.
 *
 * <p>Exit codes as docs/operations.md lists them: 0 done (for {@code --verify}: no difference), 1
 * the log could not be read or the re-run failed, 2 bad input (an unreadable capture), 3 {@code
 * --verify} found differences.
 */
public final class ReplayCommandSupport {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int BAD_INPUT = 2;
  public static final int DIFFERENT = 3;

  private final String bootstrap;

  public ReplayCommandSupport(String bootstrapServers) {
    this.bootstrap = bootstrapServers;
  }

  /**
   * {@code replay [--at T] [--flow K] [--eni MAC] [--json]}; build the query with {@link
   * ReplayQuery#parse}.
   */
  public int replay(ReplayQuery q, boolean json, PrintStream out, PrintStream err) {
    ReplayReport r;
    try {
      r = new Replayer(bootstrap).replay(q);
    } catch (RuntimeException e) {
      err.println("fastpath replay: cannot read " + q.topic() + ": " + e.getMessage());
      return FAILED;
    }
    Replayer.render(r, json, out);
    if (r.undecodable() > 0) {
      err.println("fastpath replay: skipped " + r.undecodable() + " records that are no Envelope");
    }
    return OK;
  }

  /**
   * {@code replay --verify --pcap FILE [--config FILE] [--json]}: {@code config} is what the CLI
   * loaded from {@code --config} (and {@code --eni} flags).
   */
  public int verify(
      String topic,
      Path pcap,
      FastpathConfig config,
      boolean json,
      PrintStream out,
      PrintStream err) {
    if (!Files.isReadable(pcap)) {
      err.println("fastpath replay --verify: cannot read capture " + pcap);
      return BAD_INPUT;
    }
    VerifyReport r;
    try {
      r = new Verifier(bootstrap, new PipelineDryRun()).verify(topic, pcap, config);
    } catch (Exception e) {
      err.println("fastpath replay --verify: " + e.getMessage());
      return e instanceof dev.fastpath.ingest.capture.CaptureException ? BAD_INPUT : FAILED;
    }
    Verifier.render(r, json, out);
    return r.identical() ? OK : DIFFERENT;
  }
}
