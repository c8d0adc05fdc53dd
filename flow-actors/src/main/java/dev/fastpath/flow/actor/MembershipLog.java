package dev.fastpath.flow.actor;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an operator sees of failover: one line per change of the cluster's membership, on every
 * node. A node that stops answering is first unreachable (its flows' events wait and are sent
 * again), then downed by the split-brain resolver once the cluster has been stable for {@code
 * pekko.cluster.split-brain-resolver.stable-after}, then removed: its shards start on the other
 * nodes, each catching up with its partition first. Unreachable, downed and the removal of a downed
 * member are warnings; joins, orderly leaves and reachability regained are information.
 */
final class MembershipLog {
  private static final Logger LOG = LoggerFactory.getLogger(MembershipLog.class);

  private MembershipLog() {}

  static Behavior<ClusterEvent.ClusterDomainEvent> create() {
    return Behaviors.setup(
        ctx -> {
          Cluster cluster = Cluster.get(ctx.getSystem());
          cluster
              .subscriptions()
              .tell(Subscribe.create(ctx.getSelf(), ClusterEvent.ClusterDomainEvent.class));
          return Behaviors.receive(ClusterEvent.ClusterDomainEvent.class)
              .onMessage(
                  ClusterEvent.UnreachableMember.class,
                  e -> {
                    LOG.warn(
                        "fastpath cluster: member {} is unreachable; its flows' events wait and"
                            + " are sent again; the split-brain resolver downs it if it stays"
                            + " away",
                        e.member().address());
                    return Behaviors.same();
                  })
              .onMessage(
                  ClusterEvent.ReachableMember.class,
                  e -> {
                    LOG.info(
                        "fastpath cluster: member {} is reachable again", e.member().address());
                    return Behaviors.same();
                  })
              .onMessage(
                  ClusterEvent.MemberDowned.class,
                  e -> {
                    LOG.warn("fastpath cluster: member {} was downed", e.member().address());
                    return Behaviors.same();
                  })
              .onMessage(
                  ClusterEvent.MemberRemoved.class,
                  e -> {
                    // A member that left in order, or this node leaving itself, is routine.
                    boolean failed =
                        e.previousStatus() == MemberStatus.down()
                            && cluster.selfMember().status() == MemberStatus.up();
                    String line =
                        "fastpath cluster: member {} removed (was {}); {} up; its shards move to"
                            + " the members left";
                    if (failed) {
                      LOG.warn(line, e.member().address(), e.previousStatus(), up(cluster));
                    } else {
                      LOG.info(line, e.member().address(), e.previousStatus(), up(cluster));
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  ClusterEvent.MemberUp.class,
                  e -> {
                    LOG.info(
                        "fastpath cluster: member {} up; {} up", e.member().address(), up(cluster));
                    return Behaviors.same();
                  })
              .onAnyMessage(e -> Behaviors.same())
              .build();
        });
  }

  private static String up(Cluster cluster) {
    int n = 0;
    for (Member m : cluster.state().getMembers()) {
      if (m.status() == MemberStatus.up()) {
        n++;
      }
    }
    return n == 1 ? "1 member" : n + " members";
  }
}
