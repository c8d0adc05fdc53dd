package dev.fastpath.projections.replay;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.forwarding.CapturePipeline;
import dev.fastpath.forwarding.FastpathCounters;
import dev.fastpath.forwarding.ForwardingTable;
import dev.fastpath.ingest.capture.CaptureFiles;
import dev.fastpath.ingest.capture.CaptureReader;
import dev.fastpath.ingest.config.FastpathConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The dry run of {@code replay --verify}: the capture goes through the same decoder, {@link
 * CapturePipeline} and state machine as {@code fastpath run}, but the flows live in a {@link
 * LocalFlowControl} that keeps their records in memory, and no frame is written anywhere.
 *
 * <p>The pipeline runs with its default options, as {@code fastpath run} does; a run made with
 * other options (e.g. another linger time) may decide flow reopenings differently.
 */
public final class PipelineDryRun implements DryRun {

  private final CapturePipeline.Options options;

  public PipelineDryRun() {
    this(null);
  }

  /**
   * @param options pipeline options; null for the defaults with the capture path as source
   */
  public PipelineDryRun(CapturePipeline.Options options) {
    this.options = options;
  }

  @Override
  public List<Envelope> run(Path capture, FastpathConfig config) throws Exception {
    List<Envelope> records = Collections.synchronizedList(new ArrayList<>());
    CapturePipeline.Options o =
        options != null ? options : CapturePipeline.Options.defaults(capture.toString());
    try (LocalFlowControl control = new LocalFlowControl(config, records::add);
        CaptureReader reader = CaptureFiles.open(capture)) {
      new CapturePipeline(config, control, new ForwardingTable(), counters(config), o)
          .run(reader, null);
    }
    synchronized (records) {
      return List.copyOf(records);
    }
  }

  private static FastpathCounters counters(FastpathConfig config) {
    return new FastpathCounters(config.enis().stream().map(e -> e.mac()).toList());
  }
}
