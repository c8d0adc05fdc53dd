package dev.fastpath.projections.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fastpath.projections.history.FlowHistoryRepository;
import dev.fastpath.projections.history.H2FlowHistoryRepository;
import dev.fastpath.projections.history.HistoryQueries;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** docs/openapi.yaml is valid OpenAPI 3, matches the server, and is what the server serves. */
class OpenApiTest {
  private static final Path SPEC = Path.of("..", "docs", "openapi.yaml");
  private static final String TOKEN = "openapi-test-token-0123456789";

  private static OpenAPI parse(String yaml) {
    ParseOptions o = new ParseOptions();
    o.setResolve(true);
    SwaggerParseResult r = new OpenAPIV3Parser().readContents(yaml, null, o);
    assertThat(r.getMessages()).as("swagger-parser messages").isEmpty();
    assertThat(r.getOpenAPI()).isNotNull();
    return r.getOpenAPI();
  }

  @Test
  void theSpecIsValidOpenApi3WithBearerSecurity() throws Exception {
    OpenAPI api = parse(Files.readString(SPEC));
    assertThat(api.getOpenapi()).startsWith("3.");
    assertThat(api.getComponents().getSecuritySchemes()).containsKey("bearer");
    assertThat(api.getComponents().getSecuritySchemes().get("bearer").getScheme())
        .isEqualTo("bearer");
    assertThat(api.getSecurity()).isNotEmpty();
    for (Map.Entry<String, PathItem> e : api.getPaths().entrySet()) {
      Operation get = e.getValue().getGet();
      assertThat(get).as(e.getKey()).isNotNull();
      boolean open = e.getKey().equals("/health") || e.getKey().equals("/ready");
      if (open) {
        assertThat(get.getSecurity()).as(e.getKey() + " is open").isEmpty();
      } else {
        assertThat(get.getResponses()).as(e.getKey()).containsKeys("200", "401", "429");
      }
    }
  }

  @Test
  void theServerServesTheSpecAndAnswersEveryPathInIt() throws Exception {
    FlowHistoryRepository store = H2FlowHistoryRepository.inMemory("openapi");
    HistoryServer server =
        HistoryServer.create(
            new HistoryQueries(store),
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
            null,
            HttpServerSettings.defaults().withToken(TOKEN));
    int port = server.start("127.0.0.1", 0);
    HttpClient http = HttpClient.newHttpClient();
    try {
      HttpResponse<String> served =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/openapi.yaml"))
                  .header("Authorization", "Bearer " + TOKEN)
                  .build(),
              HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      assertThat(served.statusCode()).isEqualTo(200);
      assertThat(served.headers().firstValue("content-type"))
          .hasValueSatisfying(v -> assertThat(v).startsWith("application/yaml"));
      assertThat(served.body()).isEqualTo(Files.readString(SPEC));

      OpenAPI api = parse(served.body());
      for (Map.Entry<String, PathItem> e : api.getPaths().entrySet()) {
        String path = e.getKey();
        List<Parameter> params = e.getValue().getGet().getParameters();
        if (params != null) {
          for (Parameter p : params) {
            if ("path".equals(p.getIn())) {
              Object example = p.getSchema().getExample();
              String value =
                  example != null
                      ? example.toString()
                      : p.getSchema().getEnum() != null
                          ? p.getSchema().getEnum().get(0).toString()
                          : "x";
              path = path.replace("{" + p.getName() + "}", value);
            }
          }
        }
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .header("Authorization", "Bearer " + TOKEN)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        // A documented path is routed: it never gets the catch-all "no such resource".
        assertThat(r.body()).as(path).doesNotContain("no such resource");
        assertThat(e.getValue().getGet().getResponses())
            .as("%s answered %d, which the spec lists", path, r.statusCode())
            .containsKey(Integer.toString(r.statusCode()));
      }
    } finally {
      server.stop();
      store.close();
    }
  }
}
