package dev.fastpath.flow.log;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates the two topics of the event log and tells how many partitions (shards) they have. */
public final class TopicAdmin {
  private TopicAdmin() {}

  /**
   * Creates the audit topic and the compacted state topic if missing, leaving existing ones as they
   * are, and returns their partition count (an existing log keeps its own count: a key's partition,
   * and so its shard, must never change).
   */
  public static int ensureTopics(KafkaLogSettings s) {
    List<NewTopic> topics =
        List.of(
            new NewTopic(s.auditTopic(), s.auditPartitions(), (short) 1)
                .configs(Map.of("cleanup.policy", "delete")),
            new NewTopic(s.stateTopic(), s.statePartitions(), (short) 1)
                .configs(Map.of("cleanup.policy", "compact")));
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
    long deadline = System.nanoTime() + s.startupTimeout().toNanos();
    try (Admin admin = Admin.create(p)) {
      for (NewTopic t : topics) {
        create(admin, t, s, deadline);
      }
      Map<String, TopicDescription> d = describe(admin, s, deadline);
      int audit = d.get(s.auditTopic()).partitions().size();
      int state = d.get(s.stateTopic()).partitions().size();
      if (audit != state) {
        throw new IllegalStateException(
            "topics "
                + s.auditTopic()
                + " ("
                + audit
                + " partitions) and "
                + s.stateTopic()
                + " ("
                + state
                + ") must be partitioned alike");
      }
      return audit;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(
          "cannot describe the log topics on " + s.bootstrapServers() + ": " + e, e);
    }
  }

  // A topic just created may not be in every broker's metadata yet: ask again until it is.
  private static Map<String, TopicDescription> describe(
      Admin admin, KafkaLogSettings s, long deadline)
      throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
    while (true) {
      try {
        return admin
            .describeTopics(Set.of(s.auditTopic(), s.stateTopic()))
            .allTopicNames()
            .get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause()
                instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
            || System.nanoTime() > deadline) {
          throw e;
        }
        TimeUnit.MILLISECONDS.sleep(50);
      }
    }
  }

  private static void create(Admin admin, NewTopic t, KafkaLogSettings s, long deadline)
      throws InterruptedException {
    while (true) {
      try {
        admin.createTopics(List.of(t)).all().get(10, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        if (e.getCause() instanceof TopicExistsException) {
          return;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "cannot create topic " + t.name() + " on " + s.bootstrapServers(), e.getCause());
        }
      } catch (java.util.concurrent.TimeoutException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "Kafka at " + s.bootstrapServers() + " did not answer within " + s.startupTimeout(),
              e);
        }
      }
    }
  }
}
