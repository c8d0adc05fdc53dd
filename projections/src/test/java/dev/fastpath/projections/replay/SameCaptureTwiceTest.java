package dev.fastpath.projections.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Envelope;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.actor.LocalFlowControl;
import dev.fastpath.projections.log.LogRecord;
import dev.fastpath.projections.testing.ScriptedLog;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Processing one capture twice into one log gives the history of processing it once. */
class SameCaptureTwiceTest {

  private static List<LogRecord> records(List<Envelope> envelopes) {
    List<LogRecord> out = new ArrayList<>();
    for (int i = 0; i < envelopes.size(); i++) {
      Envelope e = envelopes.get(i);
      out.add(new LogRecord(0, i, e.hasFlow() ? "k" : "", e));
    }
    return out;
  }

  @Test
  void aSecondRunOfTheSameCaptureAddsNothingToTheReplayedHistory() {
    List<ControlEvent> events = ScriptedLog.events();
    List<Envelope> once;
    List<Envelope> twice;
    try (LocalFlowControl c = new LocalFlowControl(ScriptedLog.config(true))) {
      events.forEach(e -> c.submit(e).toCompletableFuture().join());
      once = c.records();
      // The same control (restored flows) sees the same capture again, as a second `run` would.
      events.forEach(e -> c.submit(e).toCompletableFuture().join());
      twice = c.records();
    }
    // The log really holds the second run: the flows were reopened and written again.
    assertThat(twice.size()).isGreaterThan(once.size());

    ReplayReport a = Replayer.fold(records(once), null);
    ReplayReport b = Replayer.fold(records(twice), null);
    assertThat(b.flows()).isEqualTo(a.flows());
  }

  @Test
  void distinctFramesOfOneTypeAreAllKept() {
    List<ControlEvent> events = ScriptedLog.events();
    List<Envelope> once;
    try (LocalFlowControl c = new LocalFlowControl(ScriptedLog.config(true))) {
      events.forEach(e -> c.submit(e).toCompletableFuture().join());
      once = c.records();
    }
    InputPositions p = new InputPositions();
    long kept = once.stream().filter(p::firstTime).count();
    assertThat(kept).isEqualTo(once.size());
  }
}
