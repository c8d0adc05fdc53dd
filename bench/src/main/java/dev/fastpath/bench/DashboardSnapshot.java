package dev.fastpath.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fastpath.bench.MiniPromQl.Scrape;
import dev.fastpath.bench.MiniPromQl.Series;
import dev.fastpath.bench.MiniPromQl.Vector;
import dev.fastpath.service.Main;
import dev.fastpath.traffic.GeneratedTraffic;
import dev.fastpath.traffic.GeneratorConfig;
import dev.fastpath.traffic.TrafficGenerator;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/**
 * Draws the Grafana dashboard (contrib/grafana/fastpath.json) from a real run, for the README, on a
 * machine without Grafana or Prometheus: generates a capture, runs {@code fastpath serve --pcap} on
 * it in its own JVM, scrapes {@code /metrics} twice a second while it works, evaluates every
 * panel's PromQL over the scrapes ({@link MiniPromQl}) and paints the panels where the dashboard
 * puts them (Java2D, headless, Grafana's dark colours).
 *
 * <pre>
 * mvn -q -B -DskipTests -pl bench -am package
 * java -cp "bench/target/bench-0.1.0-SNAPSHOT.jar:bench/target/lib/*" \
 *     dev.fastpath.bench.DashboardSnapshot docs/img/dashboard.png [flows]
 * </pre>
 */
public final class DashboardSnapshot {
  private static final double SCRAPE_SECONDS = 0.5;
  private static final double RATE_WINDOW_SECONDS = 2.0;
  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})?\\s+(\\S+)$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\"");
  private static final Color[] PALETTE = {
    new Color(0x73BF69), new Color(0xF2CC0C), new Color(0x8AB8FF), new Color(0xFF780A),
    new Color(0xF2495C), new Color(0x5794F2), new Color(0xB877D9), new Color(0x96D98D),
    new Color(0xFADE2A), new Color(0xFF9830), new Color(0xCA95E5), new Color(0x3274D9)
  };
  private static final Color BACKGROUND = new Color(0x111217);
  private static final Color PANEL = new Color(0x181B1F);
  private static final Color BORDER = new Color(0x2C3235);
  private static final Color TEXT = new Color(0xCCCCDC);
  private static final Color DIM = new Color(0x8E8E99);

  private DashboardSnapshot() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    Path out = Path.of(args.length > 0 ? args[0] : "docs/img/dashboard.png");
    int flows = args.length > 1 ? Integer.parseInt(args[1]) : 12_000;
    Path dashboardFile = Path.of("contrib/grafana/fastpath.json");
    JsonNode dashboard = new ObjectMapper().readTree(dashboardFile.toFile());
    Path work = Files.createTempDirectory("fastpath-dashboard");
    List<Scrape> history = record(work, flows);
    BufferedImage img = draw(dashboard, history, flows);
    Files.createDirectories(out.toAbsolutePath().getParent());
    ImageIO.write(img, "png", out.toFile());
    System.out.printf(
        Locale.ROOT,
        "RESULT dashboard %s: %d scrapes over %.1f s%n",
        out,
        history.size(),
        history.get(history.size() - 1).time());
  }

  /** Runs serve on a generated capture and scrapes it until the history has caught up. */
  static List<Scrape> record(Path work, int flows) throws Exception {
    Path pcap = work.resolve("dashboard.pcap");
    GeneratedTraffic t =
        new TrafficGenerator(
                GeneratorConfig.builder()
                    .seed(2026)
                    .flows(flows)
                    .enis(4)
                    .flowsPerSecond(2000)
                    .pDuplicate(0.08)
                    .pConflict(0.03)
                    .pSpoofedMux(0.03)
                    .pMalformed(0.03)
                    .pNotGre(0.02)
                    .build())
            .writeTo(pcap);
    Path conf = work.resolve("dashboard.conf");
    t.writeConfig(conf);
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx2g",
            "-cp",
            System.getProperty("java.class.path"),
            Main.class.getName(),
            "serve",
            "--pcap",
            pcap.toString(),
            "--config",
            conf.toString(),
            "--data",
            work.resolve("data").toString(),
            "--http-host",
            "127.0.0.1",
            "--http-port",
            "0");
    Process serve =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    List<String> lines = new CopyOnWriteArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader br =
                  new BufferedReader(
                      new InputStreamReader(serve.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = br.readLine()) != null) {
                  lines.add(line);
                }
              } catch (java.io.IOException ignored) {
                // ended
              }
            });
    reader.setDaemon(true);
    reader.start();
    HttpClient http = HttpClient.newHttpClient();
    List<Scrape> history = new ArrayList<>();
    try {
      URI uri = null;
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
      while (uri == null) {
        if (!serve.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("serve did not start: " + lines);
        }
        for (String l : lines) {
          Matcher m = Pattern.compile("HTTP on (?:https?://)?127\\.0\\.0\\.1:(\\d+)").matcher(l);
          if (m.find()) {
            uri = URI.create("http://127.0.0.1:" + m.group(1) + "/metrics");
          }
        }
        pause(0.05);
      }
      long start = System.nanoTime();
      int idleAfterDone = 0;
      while (idleAfterDone < 8 && System.nanoTime() < deadline) {
        long t0 = System.nanoTime();
        String text =
            http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
                .body();
        Map<Series, Double> samples = parse(text);
        history.add(new Scrape((t0 - start) / 1e9, samples));
        boolean processed = lines.stream().anyMatch(l -> l.startsWith("processed "));
        double lag = sum(samples, "fastpath_projection_lag_records");
        if (processed && lag == 0) {
          idleAfterDone++;
        }
        pause(SCRAPE_SECONDS - (System.nanoTime() - t0) / 1e9);
      }
    } finally {
      serve.destroy();
      if (!serve.waitFor(30, TimeUnit.SECONDS)) {
        serve.destroyForcibly();
      }
    }
    return history;
  }

  private static void pause(double seconds) throws InterruptedException {
    if (seconds > 0) {
      Thread.sleep((long) (seconds * 1000));
    }
  }

  static Map<Series, Double> parse(String text) {
    Map<Series, Double> out = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line.trim());
      if (!m.matches()) {
        continue;
      }
      TreeMap<String, String> labels = new TreeMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      out.put(new Series(m.group(1), labels), Double.parseDouble(m.group(4)));
    }
    return out;
  }

  private static double sum(Map<Series, Double> samples, String name) {
    return samples.entrySet().stream()
        .filter(e -> e.getKey().name().equals(name))
        .mapToDouble(Map.Entry::getValue)
        .sum();
  }

  // ------------------------------------------------------------------ drawing

  private static final int WIDTH = 1600;
  private static final int HEADER = 56;
  private static final double UNIT_W = WIDTH / 24.0;
  private static final int UNIT_H = 34;
  private static final int GAP = 8;

  static BufferedImage draw(JsonNode dashboard, List<Scrape> history, int flows) {
    int rows = 0;
    for (JsonNode p : dashboard.path("panels")) {
      JsonNode g = p.path("gridPos");
      rows = Math.max(rows, g.path("y").asInt() + g.path("h").asInt());
    }
    int height = HEADER + rows * UNIT_H + GAP;
    BufferedImage img = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(BACKGROUND);
    g.fillRect(0, 0, WIDTH, height);
    g.setColor(TEXT);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 20));
    g.drawString(dashboard.path("title").asText(), GAP + 4, 32);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    g.setColor(DIM);
    double seconds = history.get(history.size() - 1).time();
    g.drawString(
        String.format(
            Locale.ROOT,
            "fastpath serve --pcap of a generated capture (%,d flows, 4 ENIs, seed 2026): %d"
                + " scrapes of /metrics over %.0f s, drawn by bench DashboardSnapshot from"
                + " contrib/grafana/fastpath.json",
            flows,
            history.size(),
            seconds),
        GAP + 4,
        50);
    for (JsonNode p : dashboard.path("panels")) {
      JsonNode gp = p.path("gridPos");
      int x = (int) Math.round(gp.path("x").asInt() * UNIT_W) + GAP;
      int y = HEADER + gp.path("y").asInt() * UNIT_H + GAP;
      int w = (int) Math.round(gp.path("w").asInt() * UNIT_W) - GAP;
      int h = gp.path("h").asInt() * UNIT_H - GAP;
      panel(g, p, history, x, y, w, h);
    }
    g.dispose();
    return img;
  }

  private record Line(String legend, double[] values) {}

  private static void panel(
      Graphics2D g, JsonNode p, List<Scrape> history, int x, int y, int w, int h) {
    g.setColor(PANEL);
    g.fillRoundRect(x, y, w, h, 6, 6);
    g.setColor(BORDER);
    g.drawRoundRect(x, y, w, h, 6, 6);
    g.setColor(TEXT);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
    g.drawString(p.path("title").asText(), x + 10, y + 20);
    String unit = p.path("fieldConfig").path("defaults").path("unit").asText("short");
    if (p.path("type").asText().equals("heatmap")) {
      heatmap(g, p, history, x, y, w, h);
      return;
    }
    boolean stacked =
        p.path("fieldConfig")
            .path("defaults")
            .path("custom")
            .path("stacking")
            .path("mode")
            .asText("none")
            .equals("normal");
    boolean bars =
        p.path("fieldConfig")
            .path("defaults")
            .path("custom")
            .path("drawStyle")
            .asText()
            .equals("bars");
    List<Line> lines = new ArrayList<>();
    for (JsonNode t : p.path("targets")) {
      List<Vector> vs = MiniPromQl.evaluate(t.path("expr").asText(), history, RATE_WINDOW_SECONDS);
      TreeSet<String> keys = new TreeSet<>();
      Map<String, TreeMap<String, String>> labelsOf = new LinkedHashMap<>();
      for (Vector v : vs) {
        v.keySet()
            .forEach(
                k -> {
                  keys.add(k.toString());
                  labelsOf.put(k.toString(), k);
                });
      }
      for (String k : keys) {
        double[] values = new double[vs.size()];
        boolean any = false;
        for (int i = 0; i < vs.size(); i++) {
          Double d = vs.get(i).get(labelsOf.get(k));
          values[i] = d == null || d.isNaN() ? Double.NaN : d;
          any |= d != null && d != 0;
        }
        if (any) {
          lines.add(new Line(legend(t.path("legendFormat").asText(), labelsOf.get(k)), values));
        }
      }
    }
    int left = x + 62;
    int top = y + 32;
    int right = x + w - 12;
    int legendRows = Math.max(1, (int) Math.ceil(lines.size() / 4.0));
    int bottom = y + h - 26 - 16 * legendRows;
    double max = 0;
    int n = history.size();
    for (int i = 0; i < n; i++) {
      double stack = 0;
      for (Line l : lines) {
        double v = Double.isNaN(l.values()[i]) ? 0 : l.values()[i];
        stack = stacked ? stack + v : Math.max(stack, v);
      }
      max = Math.max(max, stack);
    }
    double topValue = niceCeiling(max);
    axes(g, history, unit, topValue, left, top, right, bottom);
    if (lines.isEmpty()) {
      g.setColor(DIM);
      g.drawString("No data", (left + right) / 2 - 25, (top + bottom) / 2);
    }
    double[] base = new double[n];
    for (int li = 0; li < lines.size(); li++) {
      Line l = lines.get(li);
      Color c = PALETTE[li % PALETTE.length];
      int prevX = -1;
      int prevY = -1;
      for (int i = 0; i < n; i++) {
        double v = l.values()[i];
        if (Double.isNaN(v)) {
          prevX = -1;
          continue;
        }
        double b = stacked ? base[i] : 0;
        int px = xOf(history, i, left, right);
        int py = yOf(b + v, topValue, top, bottom);
        if (bars) {
          int bw = Math.max(2, (right - left) / Math.max(1, n) - 1);
          g.setColor(c);
          g.fillRect(px - bw / 2, py, bw, Math.max(0, yOf(b, topValue, top, bottom) - py));
        } else {
          if (stacked) {
            g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 60));
            int pb = yOf(b, topValue, top, bottom);
            if (prevX >= 0) {
              g.fillPolygon(
                  new int[] {prevX, px, px, prevX},
                  new int[] {prevY, py, pb, yOf(base[i - 1], topValue, top, bottom)},
                  4);
            }
          }
          g.setColor(c);
          g.setStroke(new BasicStroke(1.6f));
          if (prevX >= 0) {
            g.drawLine(prevX, prevY, px, py);
          }
        }
        prevX = px;
        prevY = py;
      }
      if (stacked) {
        for (int i = 0; i < n; i++) {
          base[i] += Double.isNaN(l.values()[i]) ? 0 : l.values()[i];
        }
      }
    }
    legendRow(g, lines, left, bottom + 30, right - left);
  }

  private static String legend(String format, TreeMap<String, String> labels) {
    String s = format;
    for (Map.Entry<String, String> e : labels.entrySet()) {
      s = s.replace("{{" + e.getKey() + "}}", e.getValue());
    }
    return s.replaceAll("\\{\\{[^}]*}}", "");
  }

  private static void legendRow(Graphics2D g, List<Line> lines, int x, int y, int width) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int col = width / 4;
    for (int i = 0; i < lines.size(); i++) {
      int cx = x + (i % 4) * col;
      int cy = y + (i / 4) * 16;
      g.setColor(PALETTE[i % PALETTE.length]);
      g.fillRect(cx, cy - 9, 12, 4);
      g.setColor(TEXT);
      g.drawString(lines.get(i).legend(), cx + 18, cy - 3);
    }
  }

  private static int xOf(List<Scrape> history, int i, int left, int right) {
    double end = history.get(history.size() - 1).time();
    return left + (int) Math.round((right - left) * history.get(i).time() / Math.max(end, 1e-9));
  }

  private static int yOf(double v, double max, int top, int bottom) {
    return bottom - (int) Math.round((bottom - top) * (max <= 0 ? 0 : v / max));
  }

  private static void axes(
      Graphics2D g,
      List<Scrape> history,
      String unit,
      double max,
      int left,
      int top,
      int right,
      int bottom) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    FontMetrics fm = g.getFontMetrics();
    for (int k = 0; k <= 4; k++) {
      double v = max * k / 4;
      int py = yOf(v, max, top, bottom);
      g.setColor(BORDER);
      g.drawLine(left, py, right, py);
      g.setColor(DIM);
      String label = format(v, unit);
      g.drawString(label, left - 6 - fm.stringWidth(label), py + 4);
    }
    double end = history.get(history.size() - 1).time();
    double step = end > 60 ? 10 : end > 20 ? 5 : 2;
    for (double t = 0; t <= end; t += step) {
      int px = left + (int) Math.round((right - left) * t / Math.max(end, 1e-9));
      g.setColor(BORDER);
      g.drawLine(px, top, px, bottom);
      g.setColor(DIM);
      String label = String.format(Locale.ROOT, "%.0f s", t);
      g.drawString(label, px - fm.stringWidth(label) / 2, bottom + 14);
    }
  }

  private static double niceCeiling(double v) {
    if (v <= 0) {
      return 1;
    }
    double mag = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (v <= m * mag) {
        return m * mag;
      }
    }
    return 10 * mag;
  }

  static String format(double v, String unit) {
    String suffix =
        switch (unit) {
          case "ops" -> "/s";
          case "pps" -> " p/s";
          default -> "";
        };
    if (unit.equals("s")) {
      if (v == 0) {
        return "0";
      }
      if (v < 1e-3) {
        return String.format(Locale.ROOT, "%.0f µs", v * 1e6);
      }
      if (v < 1) {
        return String.format(Locale.ROOT, "%.0f ms", v * 1e3);
      }
      return String.format(Locale.ROOT, "%.1f s", v);
    }
    if (v >= 1e6) {
      return String.format(Locale.ROOT, "%.1fM%s", v / 1e6, suffix);
    }
    if (v >= 1e3) {
      return String.format(Locale.ROOT, "%.1fk%s", v / 1e3, suffix);
    }
    return String.format(Locale.ROOT, v >= 10 || v == 0 ? "%.0f%s" : "%.2f%s", v, suffix);
  }

  /** Buckets on the y axis (one row each), time on x, redirects per cell as colour. */
  private static void heatmap(
      Graphics2D g, JsonNode p, List<Scrape> history, int x, int y, int w, int h) {
    JsonNode t = p.path("targets").get(0);
    List<Vector> vs = MiniPromQl.evaluate(t.path("expr").asText(), history, RATE_WINDOW_SECONDS);
    TreeMap<Double, String> les = new TreeMap<>();
    for (Vector v : vs) {
      v.keySet()
          .forEach(
              k -> {
                String le = k.get("le");
                les.put(le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le), le);
              });
    }
    List<Double> bounds = new ArrayList<>(les.keySet());
    int n = vs.size();
    // Cumulative buckets to per-bucket counts; Grafana's "format: heatmap" does the same.
    double[][] cells = new double[n][bounds.size()];
    double max = 0;
    for (int i = 0; i < n; i++) {
      double prev = 0;
      for (int b = 0; b < bounds.size(); b++) {
        TreeMap<String, String> key = new TreeMap<>(Map.of("le", les.get(bounds.get(b))));
        double cum = vs.get(i).getOrDefault(key, 0.0);
        cells[i][b] = Math.max(0, cum - prev);
        prev = Math.max(prev, cum);
        max = Math.max(max, cells[i][b]);
      }
    }
    int left = x + 62;
    int top = y + 32;
    int right = x + w - 70;
    int bottom = y + h - 26;
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    FontMetrics fm = g.getFontMetrics();
    int rowsShown = bounds.size();
    double rowH = (bottom - top) / (double) Math.max(1, rowsShown);
    double colW = (right - left) / (double) Math.max(1, n);
    for (int i = 0; i < n; i++) {
      for (int b = 0; b < rowsShown; b++) {
        double v = cells[i][b];
        if (v <= 0) {
          continue;
        }
        g.setColor(oranges(Math.sqrt(v / max)));
        int cx = left + (int) Math.floor(i * colW);
        int cy = bottom - (int) Math.ceil((b + 1) * rowH);
        g.fillRect(cx, cy, Math.max(1, (int) Math.ceil(colW) - 1), Math.max(1, (int) rowH - 1));
      }
    }
    for (int b = 0; b < rowsShown; b++) {
      double bound = bounds.get(b);
      String label = Double.isInfinite(bound) ? "+Inf" : format(bound, "s");
      int cy = bottom - (int) Math.round((b + 0.5) * rowH);
      if (b % 2 == 0 || rowsShown < 10) {
        g.setColor(DIM);
        g.drawString(label, left - 6 - fm.stringWidth(label), cy + 4);
      }
    }
    double end = history.get(history.size() - 1).time();
    double step = end > 60 ? 10 : end > 20 ? 5 : 2;
    for (double s = 0; s <= end; s += step) {
      int px = left + (int) Math.round((right - left) * s / Math.max(end, 1e-9));
      String label = String.format(Locale.ROOT, "%.0f s", s);
      g.setColor(DIM);
      g.drawString(label, px - fm.stringWidth(label) / 2, bottom + 14);
    }
    // The colour scale.
    for (int k = 0; k <= 50; k++) {
      g.setColor(oranges(k / 50.0));
      g.fillRect(right + 20, bottom - (int) ((bottom - top) * k / 50.0) - 4, 14, 5);
    }
    g.setColor(DIM);
    g.drawString(format(max, "short"), right + 38, top + 8);
    g.drawString("0", right + 38, bottom);
    g.drawString("redirects", right + 8, top - 6);
  }

  private static Color oranges(double f) {
    f = Math.max(0, Math.min(1, f));
    int r = (int) (0x4A + f * (0xFF - 0x4A));
    int gr = (int) (0x1E + f * (0xB3 - 0x1E));
    int b = (int) (0x0A + f * (0x57 - 0x0A));
    return new Color(r, gr, b);
  }
}
