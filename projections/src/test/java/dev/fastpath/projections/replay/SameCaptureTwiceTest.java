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

/**
 * Processing one capture twice into one log leaves the log, and so the replayed history, of
 * processing it once: every step's input position is already in its flow's log the second time.
 */
class SameCaptureTwiceTest {

  static List<Envelope>[] runs() {
    List<ControlEvent> events = ScriptedLog.finishedCapture();
    try (LocalFlowControl c = new LocalFlowControl(ScriptedLog.config(true))) {
      events.forEach(e -> c.ask(e).toCompletableFuture().join());
      List<Envelope> once = new ArrayList<>(c.records());
      // The same flows (restored state) see the same capture again, as a second `run` does.
      events.forEach(e -> c.ask(e).toCompletableFuture().join());
      List<Envelope> twice = new ArrayList<>(c.records());
      @SuppressWarnings("unchecked")
      List<Envelope>[] r = new List[] {once, twice};
      return r;
    }
  }

  private static List<LogRecord> records(List<Envelope> envelopes) {
    List<LogRecord> out = new ArrayList<>();
    for (int i = 0; i < envelopes.size(); i++) {
      out.add(new LogRecord(0, i, "k", envelopes.get(i)));
    }
    return out;
  }

  @Test
  void aSecondRunOfTheSameCaptureAddsNothingToTheReplayedHistory() {
    List<Envelope>[] r = runs();
    // Exactly once: the second run appended nothing.
    assertThat(r[1]).isEqualTo(r[0]);
    ReplayReport once = Replayer.fold(records(r[0]), null);
    assertThat(Replayer.fold(records(r[1]), null).flows()).isEqualTo(once.flows());
    // Every flow ended in the capture, the RST-first one (two steps on one frame) included.
    assertThat(once.flows())
        .filteredOn(f -> !f.state().equals("NONE"))
        .allMatch(f -> f.state().equals("CLOSED"));
    assertThat(once.flows()).anyMatch(f -> f.key().srcPort() == 9998 && f.state().equals("CLOSED"));
    // A step with several records numbers them as one group.
    assertThat(r[0]).anyMatch(e -> e.getCauseIndex() == 1);
  }
}
