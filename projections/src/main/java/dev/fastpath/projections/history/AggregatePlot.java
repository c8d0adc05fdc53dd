package dev.fastpath.projections.history;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The per-group aggregates as a picture: one row per ENI, VIP or MUX with its time-to-fixup
 * distribution (a histogram on a logarithmic millisecond axis, p50/p95/p99 marked and written out)
 * and its shares (fixed up and never redirected, of its flows; duplicates, of its redirects).
 *
 * <p>A standalone SVG 1.1 document: no script, no external font or style sheet (generic {@code
 * sans-serif}), so any browser, image viewer or {@code rsvg-convert} opens it. Hand-written rather
 * than through a charting library: the picture is a few dozen rectangles and labels, and a library
 * (JFreeChart + an SVG backend, or Batik) would add several megabytes for it.
 */
public final class AggregatePlot {
  private static final int WIDTH = 1040;
  private static final int LABEL = 170;
  private static final int DIST_X = LABEL + 10;
  private static final int DIST_W = 430;
  private static final int NUMS_X = DIST_X + DIST_W + 10;
  private static final int SHARE_X = NUMS_X + 150;
  private static final int SHARE_W = WIDTH - SHARE_X - 50;
  private static final int TOP = 70;
  private static final int ROW = 34;
  private static final int BINS_PER_DECADE = 10;
  private static final String[] SHARE_COLOURS = {"#2b8a3e", "#e8590c", "#868e96"};
  private static final String[] SHARE_NAMES = {"fixed up", "duplicates", "never redirected"};

  private AggregatePlot() {}

  /** The SVG document for {@code rows} (as {@link FlowHistoryRepository#aggregates} gives them). */
  public static String svg(AggregateBy by, List<AggregateRow> rows, String subtitle) {
    double lo = Double.MAX_VALUE;
    double hi = 0;
    for (AggregateRow r : rows) {
      for (long b : r.timeToFixupBuckets().keySet()) {
        double ms = Math.max(b, 1) / 1e6;
        lo = Math.min(lo, ms);
        hi = Math.max(hi, ms);
      }
    }
    if (hi == 0) {
      lo = 1;
      hi = 10;
    }
    int decadeLo = (int) Math.floor(Math.log10(lo));
    int decadeHi = Math.max(decadeLo + 1, (int) Math.ceil(Math.log10(hi) + 1e-9));
    int height = TOP + Math.max(1, rows.size()) * ROW + 60;
    String name = by.name();
    StringBuilder s = new StringBuilder(4096);
    s.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.append(
        fmt(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\""
                + " viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
            WIDTH, height, WIDTH, height));
    s.append(fmt("<title>fastpath: time to fixup and shares per %s</title>\n", name));
    s.append(fmt("<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", WIDTH, height));
    s.append(
        fmt(
            "<text x=\"10\" y=\"22\" font-size=\"16\" font-weight=\"bold\">Time to fixup and"
                + " shares per %s</text>\n",
            name));
    s.append(
        fmt(
            "<text x=\"10\" y=\"40\" fill=\"#495057\">%s</text>\n",
            esc(subtitle == null ? "" : subtitle)));
    s.append(
        fmt(
            "<text x=\"%d\" y=\"%d\" fill=\"#495057\">time to fixup (ms, log scale; bars: flows"
                + " per bucket)</text>\n",
            DIST_X, TOP - 12));
    s.append(
        fmt(
            "<text x=\"%d\" y=\"%d\" fill=\"#495057\">p50 / p95 / p99 ms</text>\n",
            NUMS_X, TOP - 12));
    // Legend of the shares.
    for (int i = 0; i < 3; i++) {
      int x = SHARE_X + new int[] {0, 75, 160}[i];
      s.append(
          fmt(
              "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>",
              x, TOP - 21, SHARE_COLOURS[i]));
      s.append(fmt("<text x=\"%d\" y=\"%d\">%s</text>\n", x + 13, TOP - 12, SHARE_NAMES[i]));
    }
    // Decade grid of the distribution axis.
    int axisY = TOP + Math.max(1, rows.size()) * ROW;
    for (int d = decadeLo; d <= decadeHi; d++) {
      double x = xOf(Math.pow(10, d), decadeLo, decadeHi);
      s.append(
          fmt(
              "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#dee2e6\"/>",
              x, TOP, x, axisY));
      s.append(
          fmt(
              "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#495057\">%s</text>\n",
              x, axisY + 16, number(Math.pow(10, d))));
    }
    for (int pct = 0; pct <= 100; pct += 25) {
      double x = SHARE_X + SHARE_W * pct / 100.0;
      s.append(
          fmt(
              "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#dee2e6\"/>",
              x, TOP, x, axisY));
      s.append(
          fmt(
              "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#495057\">%d%%</text>\n",
              x, axisY + 16, pct));
    }
    if (rows.isEmpty()) {
      s.append(fmt("<text x=\"10\" y=\"%d\">no groups in the history</text>\n", TOP + 20));
    }
    for (int i = 0; i < rows.size(); i++) {
      row(s, rows.get(i), TOP + i * ROW, decadeLo, decadeHi);
    }
    s.append("</svg>\n");
    return s.toString();
  }

  private static void row(StringBuilder s, AggregateRow r, int y, int decadeLo, int decadeHi) {
    int mid = y + ROW / 2;
    s.append(fmt("<g class=\"group\" data-group=\"%s\">\n", esc(r.group())));
    if ((y - TOP) / ROW % 2 == 1) {
      s.append(
          fmt(
              "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f8f9fa\"/>",
              y, WIDTH, ROW));
    }
    s.append(
        fmt("<text x=\"10\" y=\"%d\" font-weight=\"bold\">%s</text>", mid - 2, esc(r.group())));
    s.append(
        fmt(
            "<text x=\"10\" y=\"%d\" font-size=\"10\" fill=\"#495057\">%d flows, %d fixed up%s</text>\n",
            mid + 10,
            r.flows(),
            r.fixedUp(),
            r.rejected() > 0 ? ", " + r.rejected() + " rejected" : ""));
    // Histogram: the buckets summed into log-spaced bins, heights relative to the group's tallest.
    int bins = (decadeHi - decadeLo) * BINS_PER_DECADE;
    long[] counts = new long[bins];
    long max = 0;
    for (Map.Entry<Long, Long> e : r.timeToFixupBuckets().entrySet()) {
      double ms = Math.max(e.getKey(), 1) / 1e6;
      int bin = (int) Math.floor((Math.log10(ms) - decadeLo) * BINS_PER_DECADE);
      bin = Math.max(0, Math.min(bins - 1, bin));
      counts[bin] += e.getValue();
      max = Math.max(max, counts[bin]);
    }
    double binW = DIST_W / (double) bins;
    int barTop = y + 4;
    int barH = ROW - 8;
    for (int b = 0; b < bins; b++) {
      if (counts[b] == 0) {
        continue;
      }
      double h = Math.max(1, barH * (double) counts[b] / max);
      s.append(
          fmt(
              "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4c6ef5\">"
                  + "<title>%d flows</title></rect>",
              DIST_X + b * binW, barTop + barH - h, Math.max(0.5, binW - 0.5), h, counts[b]));
    }
    Double[] p = {r.ttfP50Millis(), r.ttfP95Millis(), r.ttfP99Millis()};
    String[] marks = {"#212529", "#c92a2a", "#862e9c"};
    for (int k = 0; k < 3; k++) {
      if (p[k] != null) {
        double x = xOf(Math.max(p[k], 1e-6), decadeLo, decadeHi);
        s.append(
            fmt(
                "<line class=\"p%s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\""
                    + " stroke-width=\"1.5\"/>",
                k == 0 ? "50" : k == 1 ? "95" : "99", x, barTop, x, barTop + barH, marks[k]));
      }
    }
    s.append(
        fmt(
            "\n<text class=\"ttf\" x=\"%d\" y=\"%d\">%s / %s / %s</text>\n",
            NUMS_X, mid + 4, text(p[0]), text(p[1]), text(p[2])));
    // Shares: three thin bars with their values.
    double[] shares = {
      r.shareFixedUp(),
      r.redirects() == 0 ? 0 : (double) r.duplicates() / r.redirects(),
      r.flows() == 0 ? 0 : (double) r.neverRedirected() / r.flows()
    };
    String[] classes = {"share-fixed", "share-duplicates", "share-never"};
    for (int k = 0; k < 3; k++) {
      int by = y + 4 + k * 9;
      s.append(
          fmt(
              "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"7\" fill=\"%s\"/>",
              SHARE_X, by, SHARE_W * Math.min(1, shares[k]), SHARE_COLOURS[k]));
      s.append(
          fmt(
              "<text class=\"%s\" x=\"%.1f\" y=\"%d\" font-size=\"9\">%s</text>",
              classes[k],
              SHARE_X + SHARE_W * Math.min(1, shares[k]) + 3,
              by + 7,
              percent(shares[k])));
    }
    s.append("\n</g>\n");
  }

  private static double xOf(double ms, int decadeLo, int decadeHi) {
    double f = (Math.log10(ms) - decadeLo) / (decadeHi - decadeLo);
    return DIST_X + DIST_W * Math.max(0, Math.min(1, f));
  }

  /** A percentage with one decimal, as the tables print shares. */
  static String percent(double share) {
    return String.format(Locale.ROOT, "%.1f%%", 100 * share);
  }

  /** A time in ms as the JSON gives it (shortest form), or "-" without fixups. */
  static String text(Double ms) {
    return ms == null ? "-" : number(ms);
  }

  private static String number(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Double.toString(v);
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  static String esc(String text) {
    StringBuilder sb = new StringBuilder(text.length());
    for (char c : text.toCharArray()) {
      switch (c) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        default -> {
          // XML 1.0 forbids most control characters even as references: drop them.
          if (c >= 0x20 || c == '\t' || c == '\n') {
            sb.append(c);
          }
        }
      }
    }
    return sb.toString();
  }
}
