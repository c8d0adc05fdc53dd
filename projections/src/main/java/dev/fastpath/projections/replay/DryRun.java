package dev.fastpath.projections.replay;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.ingest.config.FastpathConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * Re-runs a capture through the decoder, the pipeline and the state machine without writing
 * anything anywhere, and returns the records the flows would have written, each flow's in order.
 */
@FunctionalInterface
public interface DryRun {
  List<Envelope> run(Path capture, FastpathConfig config) throws Exception;
}
