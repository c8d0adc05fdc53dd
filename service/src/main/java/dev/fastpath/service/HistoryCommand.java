package dev.fastpath.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fastpath.events.Topics;
import dev.fastpath.projections.history.AggregateBy;
import dev.fastpath.projections.history.BadParameterException;
import dev.fastpath.projections.history.CatchUpResult;
import dev.fastpath.projections.history.FlowHistoryProjection;
import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.FlowQuery;
import dev.fastpath.projections.history.HistoryQueries;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Flow history queries; brings the projection up to date with the log first. */
@Command(
    name = "history",
    mixinStandardHelpOptions = true,
    description = {
      "Query the flow history: flows by 5-tuple, ENI, VIP, PA, MUX, scenario, state and time, each"
          + " with its timeline; or aggregates per ENI, VIP or MUX.",
      "The projection is first brought up to date with the log, so it answers right after a run."
    })
public final class HistoryCommand implements Callable<Integer> {
  @Option(
      names = "--flow",
      paramLabel = "KEY",
      description = "One flow's row and timeline (eni|proto|src|sport|dst|dport)")
  String flow;

  @Option(
      names = "--aggregate",
      paramLabel = "eni|vip|mux",
      description = "Aggregates instead of flows")
  String aggregate;

  @Option(
      names = "--plot",
      paramLabel = "FILE.svg",
      description =
          "With --aggregate: also draw time to fixup and the fixup / duplicate / never-redirected"
              + " shares per group into this standalone SVG file")
  java.nio.file.Path plot;

  @Option(names = "--eni")
  String eni;

  @Option(names = "--vip")
  String vip;

  @Option(names = "--pa")
  String pa;

  @Option(names = "--mux")
  String mux;

  @Option(names = "--scenario", description = "VIP, PE or ILB")
  String scenario;

  @Option(names = "--state", description = "VIP, FAST_PATH or CLOSED")
  String state;

  @Option(names = "--from", description = "Opened at or after (ISO-8601)")
  String from;

  @Option(names = "--to", description = "Opened before (ISO-8601)")
  String to;

  @Option(names = "--src")
  String src;

  @Option(names = "--sport")
  String sport;

  @Option(names = "--dst")
  String dst;

  @Option(names = "--dport")
  String dport;

  @Option(names = "--proto")
  String proto;

  @Option(
      names = "--source",
      paramLabel = "FILE",
      description = "Flows whose first record this capture caused (the path given to run)")
  String source;

  @Option(names = "--limit", description = "At most this many flows (default 100, max 10000)")
  String limit;

  @Option(names = "--offset", description = "Skip this many flows (pagination)")
  String offset;

  @Option(names = "--brief", description = "One row per flow, without timelines")
  boolean brief;

  @Option(
      names = "--json",
      description = "One JSON object per line (flow with timeline, or aggregate)")
  boolean json;

  @Option(
      names = "--postgres",
      paramLabel = "JDBC_URL",
      description = "Use this PostgreSQL store instead of the embedded H2 one")
  String postgres;

  @Option(
      names = "--no-catch-up",
      description = "Answer from the store as it is, without reading the log")
  boolean noCatchUp;

  @Mixin DataOptions data = new DataOptions();

  @Override
  public Integer call() {
    Map<String, String> params = params();
    if (plot != null) {
      if (aggregate == null) {
        throw new Main.UserError("--plot draws aggregates: give --aggregate eni|vip|mux with it");
      }
      java.nio.file.Path parent = plot.toAbsolutePath().getParent();
      if (parent == null || !java.nio.file.Files.isDirectory(parent)) {
        throw new Main.UserError("--plot: directory " + parent + " does not exist");
      }
    }
    HistoryStores.Opened store = HistoryStores.openForQueries(data, postgres);
    try (FlowHistoryRepository repo = store.repo()) {
      if (store.sharedBy().isPresent()) {
        // The store's own process keeps it current; a second projection would race it.
        System.err.println(
            "history: answering from the store of "
                + store.sharedBy().get()
                + ", which keeps it up to date (its /health shows the lag)");
      } else if (!noCatchUp) {
        catchUp(repo);
      }
      HistoryQueries q = new HistoryQueries(repo);
      PrintStream out = System.out;
      try {
        if (aggregate != null) {
          if (source != null) {
            throw new Main.UserError(
                "--source applies to flow queries; aggregates cover every capture in the log");
          }
          AggregateBy by = AggregateBy.parse(aggregate);
          Map<String, String> range = new LinkedHashMap<>();
          if (from != null) range.put("from", from);
          if (to != null) range.put("to", to);
          ArrayNode a = q.aggregates(by, range);
          if (plot != null) {
            try {
              java.nio.file.Files.writeString(plot, q.aggregatesSvg(by, range));
            } catch (java.io.IOException e) {
              throw new Main.UserError("--plot: cannot write " + plot + ": " + e.getMessage(), e);
            }
            System.err.println("history: wrote " + plot);
          }
          if (json) {
            a.forEach(n -> out.println(n.toString()));
          } else {
            out.print(HistoryQueries.aggregatesTable(by, a));
          }
          return 0;
        }
        if (flow != null) {
          ObjectNode f =
              q.flow(canonical(flow))
                  .orElseThrow(() -> new Main.UserError("no such flow in the history: " + flow));
          if (json) {
            out.println(f.toString());
          } else {
            out.print(HistoryQueries.timelineTable(f));
          }
          return 0;
        }
        FlowQuery fq = FlowQuery.parse(params);
        if (brief) {
          ObjectNode page = q.flows(fq);
          if (json) {
            page.path("flows").forEach(n -> out.println(n.toString()));
          } else {
            out.print(HistoryQueries.flowsTable(page));
            printNext(out, page);
          }
          return 0;
        }
        ArrayNode flows = q.flowsWithTimelines(fq);
        if (json) {
          flows.forEach(n -> out.println(n.toString()));
        } else {
          for (JsonNode f : flows) {
            out.print(HistoryQueries.timelineTable(f));
            out.println();
          }
          long total = repo.countFlows(fq);
          if (total > flows.size()) {
            out.printf(
                "(%d of %d flows; --offset %d for more)%n",
                flows.size(), total, fq.offset() + flows.size());
          } else if (flows.isEmpty()) {
            out.println("(no flows match)");
          }
        }
        return 0;
      } catch (BadParameterException e) {
        throw new Main.UserError(e.getMessage().replace("parameter '", "option '--"), e);
      }
    }
  }

  private static String canonical(String flow) {
    try {
      return dev.fastpath.ingest.FlowKey.parseCanonical(flow).canonical();
    } catch (IllegalArgumentException e) {
      throw new Main.UserError("--flow: " + e.getMessage(), e);
    }
  }

  private static void printNext(PrintStream out, ObjectNode page) {
    if (!page.path("next").isNull() && page.has("next")) {
      out.printf(
          "(%d flows in all; --offset %d for the next page)%n",
          page.path("total").asLong(), page.path("next").asLong());
    }
  }

  private void catchUp(FlowHistoryRepository repo) {
    try (KafkaEndpoint kafka = KafkaEndpoint.forReading(data, "history");
        FlowHistoryProjection p =
            FlowHistoryProjection.create(
                kafka.bootstrapServers(), Topics.AUDIT, repo, new SimpleMeterRegistry())) {
      CatchUpResult r = p.catchUp(Duration.ofMinutes(10));
      if (!r.reachedEnd()) {
        System.err.println(
            "history: the log was not read to its end in time; answers may be behind");
      }
    }
  }

  private Map<String, String> params() {
    Map<String, String> p = new LinkedHashMap<>();
    put(p, "eni", eni);
    put(p, "vip", vip);
    put(p, "pa", pa);
    put(p, "mux", mux);
    put(p, "scenario", scenario);
    put(p, "state", state);
    put(p, "from", from);
    put(p, "to", to);
    put(p, "src", src);
    put(p, "sport", sport);
    put(p, "dst", dst);
    put(p, "dport", dport);
    put(p, "proto", proto);
    put(p, "source", source);
    put(p, "limit", limit);
    put(p, "offset", offset);
    return p;
  }

  private static void put(Map<String, String> p, String k, String v) {
    if (v != null) {
      p.put(k, v);
    }
  }
}
