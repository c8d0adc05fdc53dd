package dev.fastpath.flow.state;

import static dev.fastpath.flow.testing.Flows.config;
import static dev.fastpath.flow.testing.Flows.opened;
import static dev.fastpath.flow.testing.Flows.redirect;
import static dev.fastpath.flow.testing.Flows.vipFlow;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.events.v1.Cause;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.events.v1.Envelope.EventCase;
import dev.fastpath.events.v1.FlowStateKind;
import dev.fastpath.events.v1.Scenario;
import dev.fastpath.flow.ControlEvent;
import dev.fastpath.flow.ControlResult.Outcome;
import dev.fastpath.flow.state.FlowStateMachine.Step;
import dev.fastpath.ingest.FlowKey;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A step of several records takes effect at its last one, so the prefix of a step that a crash left
 * in the log changes nothing, and the input processed again appends the same records.
 */
class StepRecordsTest {
  private static final FlowKey FLOW = vipFlow();

  private static Cause at(long frame) {
    return Cause.newBuilder().setSource("c.pcap").setSourceId(0xC0FFEEL).setFrame(frame).build();
  }

  private static Step openStep() {
    return FlowStateMachine.step(
        null, new ControlEvent.FlowStarted(FLOW, 1_000, at(1), opened(Scenario.VIP, 1)), config());
  }

  private static ControlEvent redirectAt(long frame) {
    return new ControlEvent.RedirectArrived(
        redirect(FLOW, Scenario.VIP, "10.1.2.3", 0x00224400AABBL, 0x100), frame * 1_000, at(frame));
  }

  private static FlowState fold(FlowState s, List<Envelope> records) {
    for (Envelope e : records) {
      s = FlowState.apply(s, FLOW, e);
    }
    return s;
  }

  @Test
  void aFixupsRecordsSayHowManyTheStepHas() {
    Step fixup = FlowStateMachine.step(openStep().next(), redirectAt(4), config());

    assertThat(fixup.records())
        .extracting(Envelope::getEventCase)
        .containsExactly(EventCase.REDIRECT_RECEIVED, EventCase.FLOW_FIXED_UP);
    assertThat(fixup.records()).extracting(Envelope::getStepRecords).containsExactly(2, 2);
    assertThat(openStep().records()).extracting(Envelope::getStepRecords).containsExactly(0);
  }

  @Test
  void aPrefixOfAStepChangesNothingAndTheInputIsDecidedAgainIntoTheSameRecords() {
    FlowState open = openStep().next();
    Step fixup = FlowStateMachine.step(open, redirectAt(4), config());

    // The crash left the RedirectReceived without its FlowFixedUp.
    FlowState afterCrash = FlowState.apply(open, FLOW, fixup.records().get(0));
    assertThat(afterCrash).isEqualTo(open);

    // The re-run's redirect is not taken for applied, and is appended whole, with the same seqs.
    Step again = FlowStateMachine.step(afterCrash, redirectAt(4), config());
    assertThat(again.result().outcome()).isEqualTo(Outcome.FIXED_UP);
    assertThat(again.records()).isEqualTo(fixup.records());

    // Folding the log as it now is (prefix, then the whole step) ends where one clean run ends.
    List<Envelope> log = new ArrayList<>(openStep().records());
    log.add(fixup.records().get(0));
    log.addAll(again.records());
    FlowState folded = fold(null, log);
    assertThat(folded).isEqualTo(fixup.next());
    assertThat(folded.kind()).isEqualTo(FlowStateKind.FAST_PATH);
  }

  @Test
  void recordsWrittenBeforeStepsWereMarkedAreAppliedOneByOne() {
    FlowState open = openStep().next();
    Envelope received =
        FlowStateMachine.step(open, redirectAt(4), config()).records().get(0).toBuilder()
            .clearStepRecords()
            .build();

    assertThat(FlowState.apply(open, FLOW, received).lastSeq()).isEqualTo(open.lastSeq() + 1);
  }

  @Test
  void wholeStepsLeaveOutAPrefixThatNoLastRecordCompleted() {
    Step open = openStep();
    Step fixup = FlowStateMachine.step(open.next(), redirectAt(4), config());
    Envelope cut = fixup.records().get(0);
    List<Envelope> log = new ArrayList<>(open.records());
    log.add(cut); // cut short by a crash
    log.addAll(fixup.records()); // the re-run
    log.add(cut); // and a prefix at the end of the log, its step never completed

    List<Envelope> expected = new ArrayList<>(open.records());
    expected.addAll(fixup.records());
    assertThat(StepRecords.whole(log)).isEqualTo(expected);
    assertThat(StepRecords.whole(expected)).isEqualTo(expected);
  }
}
