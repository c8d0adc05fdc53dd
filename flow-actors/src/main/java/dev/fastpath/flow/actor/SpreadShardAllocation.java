package dev.fastpath.flow.actor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;

/**
 * Where a shard (a Kafka partition) goes: to the node with the fewest, so the partitions spread
 * evenly over the nodes registered at the time, ties going to the node asking (its flows' events
 * then stay local) and else to the lowest address. Pekko's own least-shard strategy also breaks
 * ties by member age, which in practice left a node without any shard when shards were allocated in
 * a burst (a capture's first events): that node's death then proved nothing and its memory sat
 * idle. Rebalancing moves one shard at a time from the fullest node to the emptiest while they
 * differ by two or more (a node that joins gets its share).
 */
final class SpreadShardAllocation extends ShardCoordinator.AbstractShardAllocationStrategy {

  private static final Comparator<Map.Entry<ActorRef, IndexedSeq<String>>> FEWEST =
      Comparator.<Map.Entry<ActorRef, IndexedSeq<String>>>comparingInt(e -> e.getValue().size())
          .thenComparing(e -> e.getKey().path().address().toString());

  @Override
  public Future<ActorRef> allocateShard(
      ActorRef requester,
      String shardId,
      Map<ActorRef, IndexedSeq<String>> currentShardAllocations) {
    if (currentShardAllocations.isEmpty()) {
      return Future.successful(requester);
    }
    List<Map.Entry<ActorRef, IndexedSeq<String>>> regions =
        new ArrayList<>(currentShardAllocations.entrySet());
    regions.sort(FEWEST);
    int fewest = regions.get(0).getValue().size();
    IndexedSeq<String> mine = currentShardAllocations.get(requester);
    if (mine != null && mine.size() == fewest) {
      return Future.successful(requester);
    }
    return Future.successful(regions.get(0).getKey());
  }

  @Override
  public Future<Set<String>> rebalance(
      Map<ActorRef, IndexedSeq<String>> currentShardAllocations, Set<String> rebalanceInProgress) {
    Set<String> move = new HashSet<>();
    if (!rebalanceInProgress.isEmpty() || currentShardAllocations.size() < 2) {
      return Future.successful(move);
    }
    List<Map.Entry<ActorRef, IndexedSeq<String>>> regions =
        new ArrayList<>(currentShardAllocations.entrySet());
    regions.sort(FEWEST);
    IndexedSeq<String> least = regions.get(0).getValue();
    IndexedSeq<String> most = regions.get(regions.size() - 1).getValue();
    if (most.size() - least.size() >= 2) {
      move.add(most.apply(0));
    }
    return Future.successful(move);
  }
}
