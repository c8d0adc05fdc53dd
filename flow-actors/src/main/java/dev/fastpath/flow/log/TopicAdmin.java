package dev.fastpath.flow.log;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the two topics of the event log, replicated as the cluster allows, and tells how many
 * partitions (shards) they have.
 */
public final class TopicAdmin {
  private static final Logger LOG = LoggerFactory.getLogger(TopicAdmin.class);

  private TopicAdmin() {}

  /**
   * How the log is kept.
   *
   * @param partitions partitions of each topic (shards)
   * @param brokers brokers in the cluster
   * @param replicationFactor the topics' replicas per partition (the smaller of the two topics')
   * @param minInsyncReplicas the topics' {@code min.insync.replicas} (the smaller of the two)
   * @param fsyncEveryAppend the brokers fsync every append ({@code log.flush.interval.messages=1},
   *     as the embedded broker does): an unreplicated log then still survives a broker's crash
   */
  public record Status(
      int partitions,
      int brokers,
      int replicationFactor,
      int minInsyncReplicas,
      boolean fsyncEveryAppend) {
    /** Whether losing one broker loses no acknowledged transition. */
    public boolean replicated() {
      return replicationFactor >= 2 && minInsyncReplicas >= 2;
    }

    /** One line for people, e.g. "3 replicas, min.insync.replicas 2, 3 brokers". */
    public String describe() {
      return replicationFactor
          + (replicationFactor == 1 ? " replica" : " replicas")
          + ", min.insync.replicas "
          + minInsyncReplicas
          + ", "
          + brokers
          + (brokers == 1 ? " broker" : " brokers");
    }
  }

  /** As {@link #ensure}, returning only the partition count. */
  public static int ensureTopics(KafkaLogSettings s) {
    return ensure(s).partitions();
  }

  /**
   * Creates the audit topic and the compacted state topic if missing, leaving existing ones as they
   * are (an existing log keeps its own partition count: a key's partition, and so its shard, must
   * never change; and its own replication). New topics get {@code s.replicationFactor()} replicas
   * (0: as many as there are brokers, up to 3) and {@code min.insync.replicas} {@code
   * s.minInsyncReplicas()} (0: one fewer than the replicas, at least 1). Warns when the log is not
   * replicated.
   */
  public static Status ensure(KafkaLogSettings s) {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
    long deadline = System.nanoTime() + s.startupTimeout().toNanos();
    try (Admin admin = Admin.create(p)) {
      java.util.Collection<org.apache.kafka.common.Node> nodes =
          admin.describeCluster().nodes().get(s.startupTimeout().toMillis(), TimeUnit.MILLISECONDS);
      int brokers = nodes.size();
      int rf = s.replicationFactor() > 0 ? s.replicationFactor() : Math.min(3, brokers);
      if (rf > brokers) {
        throw new IllegalStateException(
            "fastpath.kafka.replication-factor is "
                + rf
                + " but the Kafka cluster at "
                + s.bootstrapServers()
                + " has "
                + brokers
                + (brokers == 1 ? " broker" : " brokers"));
      }
      int minIsr = s.minInsyncReplicas() > 0 ? s.minInsyncReplicas() : Math.max(1, rf - 1);
      if (minIsr > rf) {
        throw new IllegalStateException(
            "fastpath.kafka.min-insync-replicas "
                + minIsr
                + " is more than the replication factor "
                + rf
                + ": no append could be acknowledged");
      }
      String isr = Integer.toString(minIsr);
      List<NewTopic> topics =
          List.of(
              new NewTopic(s.auditTopic(), s.auditPartitions(), (short) rf)
                  .configs(Map.of("cleanup.policy", "delete", "min.insync.replicas", isr)),
              new NewTopic(s.stateTopic(), s.statePartitions(), (short) rf)
                  .configs(Map.of("cleanup.policy", "compact", "min.insync.replicas", isr)));
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
      Status status =
          new Status(
              audit,
              brokers,
              Math.min(replicas(d.get(s.auditTopic())), replicas(d.get(s.stateTopic()))),
              minInsync(admin, s),
              fsyncEveryAppend(admin, nodes));
      warnIfUnreplicated(s, status, rf);
      return status;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(
          "cannot describe the log topics on " + s.bootstrapServers() + ": " + e, e);
    }
  }

  private static int replicas(TopicDescription d) {
    return d.partitions().stream().mapToInt(p -> p.replicas().size()).min().orElse(0);
  }

  private static int minInsync(Admin admin, KafkaLogSettings s)
      throws InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
    List<ConfigResource> rs =
        List.of(
            new ConfigResource(ConfigResource.Type.TOPIC, s.auditTopic()),
            new ConfigResource(ConfigResource.Type.TOPIC, s.stateTopic()));
    Map<ConfigResource, Config> cs = admin.describeConfigs(rs).all().get(30, TimeUnit.SECONDS);
    int min = Integer.MAX_VALUE;
    for (Config c : cs.values()) {
      ConfigEntry e = c.get("min.insync.replicas");
      min = Math.min(min, e == null || e.value() == null ? 1 : Integer.parseInt(e.value()));
    }
    return min;
  }

  // Whether every broker fsyncs each append; unknown (a broker not saying) counts as no.
  private static boolean fsyncEveryAppend(
      Admin admin, java.util.Collection<org.apache.kafka.common.Node> nodes) {
    try {
      List<ConfigResource> rs = new java.util.ArrayList<>();
      for (org.apache.kafka.common.Node n : nodes) {
        rs.add(new ConfigResource(ConfigResource.Type.BROKER, n.idString()));
      }
      Map<ConfigResource, Config> cs = admin.describeConfigs(rs).all().get(30, TimeUnit.SECONDS);
      for (Config c : cs.values()) {
        ConfigEntry e = c.get("log.flush.interval.messages");
        if (e == null || e.value() == null || !e.value().equals("1")) {
          return false;
        }
      }
      return !cs.isEmpty();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return false;
    }
  }

  private static void warnIfUnreplicated(KafkaLogSettings s, Status st, int wanted) {
    if (st.replicationFactor() < 2) {
      if (st.fsyncEveryAppend()) {
        // The embedded broker: one copy, but on disk before it is acknowledged.
        LOG.info(
            "the event log at {} has 1 replica (its broker fsyncs every append)",
            s.bootstrapServers());
      } else {
        LOG.warn(
            "THE EVENT LOG IS NOT REPLICATED: {} and {} have {} at {}; losing that broker loses"
                + " acknowledged transitions. Use 3 brokers (replicas are created as the cluster"
                + " allows, fastpath.kafka.replication-factor), or reassign the existing topics'"
                + " partitions (kafka-reassign-partitions.sh)",
            s.auditTopic(),
            s.stateTopic(),
            st.describe(),
            s.bootstrapServers());
      }
    } else if (st.replicationFactor() < wanted) {
      LOG.warn(
          "the event log at {} has {} although {} are wanted: the topics existed before; reassign"
              + " their partitions (kafka-reassign-partitions.sh) to replicate them further",
          s.bootstrapServers(),
          st.describe(),
          wanted);
    } else if (st.minInsyncReplicas() < 2) {
      LOG.warn(
          "the event log at {} has {}: an append is acknowledged by one replica, so losing that"
              + " broker can lose it; set the topics' min.insync.replicas to 2"
              + " (fastpath.kafka.min-insync-replicas for new topics)",
          s.bootstrapServers(),
          st.describe());
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
