package dev.fastpath.projections.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.events.v1.Envelope;
import dev.fastpath.ingest.FlowKey;
import dev.fastpath.ingest.IpAddrs;
import dev.fastpath.ingest.Macs;
import dev.fastpath.projections.history.FlowHistoryHandler;
import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.H2FlowHistoryRepository;
import dev.fastpath.projections.history.HistoryQueries;
import dev.fastpath.projections.history.LogRecord;
import dev.fastpath.projections.history.SyntheticAuditLog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The HTTP API over a real socket. */
class HistoryServerTest {
  @TempDir static Path dataDir;
  private static FlowHistoryRepository store;
  private static HistoryServer server;
  private static int port;
  private static List<Envelope> log;
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @BeforeAll
  static void start() {
    store = H2FlowHistoryRepository.open(dataDir);
    log = SyntheticAuditLog.generate(3, 600);
    List<LogRecord> records = new ArrayList<>();
    for (int i = 0; i < log.size(); i++) {
      records.add(new LogRecord(0, i, log.get(i)));
    }
    store.applyBatch("p", "t", records);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Counter.builder("lb_fast_path_flow_redirected_count")
        .tag("eni", "60:45:bd:25:fe:3b")
        .register(registry)
        .increment(3);
    server = HistoryServer.create(new HistoryQueries(store), registry, null);
    port = server.start("127.0.0.1", 0);
  }

  @AfterAll
  static void stop() {
    server.stop();
    store.close();
  }

  private static HttpResponse<String> get(String pathAndQuery)
      throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r) throws IOException {
    return MAPPER.readTree(r.body());
  }

  @ParameterizedTest
  @CsvSource({
    "/flows?limit=0, limit",
    "/flows?limit=10001, limit",
    "/flows?offset=-3, offset",
    "/flows?eni=nope, eni",
    "/flows?vip=300.1.1.1, vip",
    "/flows?state=GONE, state",
    "/flows?from=last-week, from",
    "/flows?sport=x, sport",
    "/flows?colour=red, colour",
    "/aggregates/mux?from=soon, from",
    "/aggregates/mux?limit=5, limit",
    "/aggregates/pa, by",
    "/aggregates/mux?format=png, format",
    "/aggregates/mux?format=svg&colour=red, colour"
  })
  void badParameterGets400NamingIt(String path, String parameter) throws Exception {
    HttpResponse<String> r = get(path);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.headers().firstValue("content-type"))
        .hasValueSatisfying(v -> assertThat(v).contains("json"));
    assertThat(json(r).path("error").asText()).contains("'" + parameter + "'");
  }

  @Test
  void unknownFlowIs404() throws Exception {
    String key =
        URLEncoder.encode("60:45:bd:25:fe:3b|6|1.1.1.1|1|2.2.2.2|2", StandardCharsets.UTF_8);
    HttpResponse<String> r = get("/flows/" + key);
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(json(r).path("error").asText()).contains("1.1.1.1");
    assertThat(get("/nothing/here").statusCode()).isEqualTo(404);
  }

  @Test
  void flowWithTimelineByUrlEncodedKey() throws Exception {
    Envelope first = log.get(0);
    FlowKey key = FlowHistoryHandler.flowKeyOf(first);
    long events = log.stream().filter(e -> key.equals(FlowHistoryHandler.flowKeyOf(e))).count();
    HttpResponse<String> r =
        get("/flows/" + URLEncoder.encode(key.canonical(), StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode flow = json(r);
    assertThat(flow.path("eni").asText()).isEqualTo(Macs.format(key.eniMac()));
    assertThat(flow.path("flow").path("src").asText()).isEqualTo(key.srcIpString());
    assertThat(flow.path("flow").path("dport").asInt()).isEqualTo(key.dstPort());
    assertThat(flow.path("flow").path("proto").asText()).isEqualTo("TCP");
    for (String field :
        List.of("scenario", "state", "pa", "vmMac", "mux", "openedAt", "fixedUpAt", "closedAt")) {
      assertThat(flow.has(field)).as(field).isTrue();
    }
    assertThat(flow.path("timeline").size()).isEqualTo(events);
    assertThat(flow.path("timeline").get(0).path("type").asText()).isEqualTo("FlowOpened");
  }

  @Test
  void flowsArePagedAndFiltered() throws Exception {
    String eni = "60:45:bd:25:fe:3c";
    long expected =
        log.stream()
            .filter(e -> e.hasFlowOpened())
            .filter(e -> Macs.format(FlowHistoryHandler.flowKeyOf(e).eniMac()).equals(eni))
            .count();
    JsonNode page = json(get("/flows?eni=" + eni + "&limit=7&offset=7"));
    assertThat(page.path("total").asLong()).isEqualTo(expected);
    assertThat(page.path("flows").size()).isEqualTo(7);
    assertThat(page.path("next").asLong()).isEqualTo(14);
    page.path("flows").forEach(f -> assertThat(f.path("eni").asText()).isEqualTo(eni));
    JsonNode v6 =
        json(
            get(
                "/flows?dst="
                    + URLEncoder.encode(
                        IpAddrs.formatV6(0xfd00_0000_0000_0000L, 0xffff_0066L),
                        StandardCharsets.UTF_8)));
    v6.path("flows").forEach(f -> assertThat(f.path("scenario").asText()).isEqualTo("PE"));

    long all = json(get("/flows")).path("total").asLong();
    assertThat(json(get("/flows?source=./synthetic.pcap")).path("total").asLong())
        .isEqualTo(all)
        .isPositive();
    assertThat(json(get("/flows?source=elsewhere/synthetic.pcap")).path("total").asLong()).isZero();
  }

  @Test
  void aggregatesPerMux() throws Exception {
    HttpResponse<String> r = get("/aggregates/mux");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode rows = json(r);
    assertThat(rows.size()).isGreaterThan(1);
    long fixedUps = log.stream().filter(Envelope::hasFlowFixedUp).count();
    long sum = 0;
    for (JsonNode row : rows) {
      assertThat(row.path("mux").asText()).startsWith("10.1.0.");
      assertThat(row.has("timeToFixupMs")).isTrue();
      sum += row.path("fixedUp").asLong();
    }
    assertThat(sum).isEqualTo(fixedUps);
  }

  @Test
  void aggregatesAsSvgAreAWellFormedPictureOfTheSameNumbers() throws Exception {
    HttpResponse<String> r = get("/aggregates/mux?format=svg");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("image/svg+xml");
    org.w3c.dom.Document svg = SvgDocs.parse(r.body());
    assertThat(svg.getDocumentElement().getNodeName()).isEqualTo("svg");
    JsonNode rows = json(get("/aggregates/mux"));
    SvgDocs.assertCarries(svg, rows, "mux");
  }

  @Test
  void metricsAreInPrometheusFormat() throws Exception {
    HttpResponse<String> r = get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .contains("lb_fast_path_flow_redirected_count_total{eni=\"60:45:bd:25:fe:3b\"} 3.0");
  }

  @Test
  void healthNamesTheStore() throws Exception {
    JsonNode h = json(get("/health"));
    assertThat(h.path("status").asText()).isEqualTo("UP");
    assertThat(h.path("store").asText()).isEqualTo("h2");
    assertThat(h.path("events").asLong()).isEqualTo(log.size());
  }
}
