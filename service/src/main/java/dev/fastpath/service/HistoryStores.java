package dev.fastpath.service;

import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.H2FlowHistoryRepository;
import dev.fastpath.projections.history.PostgresFlowHistoryRepository;

/**
 * The history store a command uses: PostgreSQL when {@code --postgres} is given, else H2 under the
 * data directory.
 */
final class HistoryStores {
  private HistoryStores() {}

  static FlowHistoryRepository open(DataOptions data, String postgresUrl) {
    if (postgresUrl != null && !postgresUrl.isBlank()) {
      if (!postgresUrl.startsWith("jdbc:postgresql:")) {
        throw new Main.UserError(
            "--postgres wants a JDBC URL like jdbc:postgresql://host:5432/db?user=u&password=p, not '"
                + postgresUrl
                + "'");
      }
      return PostgresFlowHistoryRepository.open(postgresUrl, null, null);
    }
    return H2FlowHistoryRepository.open(data.dataDir());
  }
}
