package dev.fastpath.projections.history;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class H2FlowHistoryRepositoryTest extends FlowHistoryRepositoryContract {
  @TempDir Path dataDir;

  @Override
  protected FlowHistoryRepository newStore() {
    return H2FlowHistoryRepository.open(dataDir);
  }

  @Test
  void storeSurvivesReopeningTheDataDirectory() {
    store.applyBatch("p", "t", Records.asRecords(KnownLog.build(), 2, 0));
    store.close();
    try (FlowHistoryRepository again = H2FlowHistoryRepository.open(dataDir)) {
      assertThat(again.storedOffsets("p", "t")).containsEntry(2, (long) KnownLog.build().size());
      assertThat(again.findFlow(KnownLog.F1.canonical())).isPresent();
      assertThat(dataDir.resolve("history/h2/history.mv.db")).exists();
    }
    store = H2FlowHistoryRepository.open(dataDir);
    assertThat(store.findFlows(FlowQuery.all())).hasSize(6);
    assertThat(List.of(store.engine())).containsExactly("h2");
  }
}
