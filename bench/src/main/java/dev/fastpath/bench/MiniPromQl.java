package dev.fastpath.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Just enough PromQL to draw contrib/grafana/fastpath.json from scraped samples without a
 * Prometheus: selectors with {@code =}, {@code !=}, {@code =~} matchers, {@code rate} and {@code
 * increase} over a range, {@code sum} with or without {@code by (...)}, {@code histogram_quantile}
 * and division by a number. Anything else is refused with the expression, so the picture never
 * silently shows something the dashboard does not ask for.
 */
final class MiniPromQl {
  /** One scrape: time in seconds and every sample (name plus labels) with its value. */
  record Scrape(double time, Map<Series, Double> samples) {}

  /** A series identity: metric name and sorted labels. */
  record Series(String name, TreeMap<String, String> labels) {}

  /** An instant vector: label sets (without the name) to values. */
  static final class Vector extends LinkedHashMap<TreeMap<String, String>, Double> {
    private static final long serialVersionUID = 1L;
  }

  private interface Node {
    Vector eval(List<Scrape> history, int at);
  }

  private final String text;
  private int pos;
  private final double rangeSeconds;

  private MiniPromQl(String text, double rangeSeconds) {
    this.text = text;
    this.rangeSeconds = rangeSeconds;
  }

  /**
   * Evaluates {@code expr} at each scrape of {@code history}; {@code $__rate_interval} means {@code
   * rangeSeconds}, {@code $instance} any instance.
   */
  static List<Vector> evaluate(String expr, List<Scrape> history, double rangeSeconds) {
    String q = expr.replace("$__rate_interval", "RANGE").replace("$instance", ".*");
    MiniPromQl p = new MiniPromQl(q, rangeSeconds);
    Node n = p.expr();
    p.skip();
    if (p.pos != q.length()) {
      throw p.error("unexpected text");
    }
    List<Vector> out = new ArrayList<>();
    for (int i = 0; i < history.size(); i++) {
      out.add(n.eval(history, i));
    }
    return out;
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException(what + " at " + pos + " in: " + text);
  }

  private void skip() {
    while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
      pos++;
    }
  }

  private boolean eat(String s) {
    skip();
    if (text.startsWith(s, pos)) {
      pos += s.length();
      return true;
    }
    return false;
  }

  private void expect(String s) {
    if (!eat(s)) {
      throw error("expected '" + s + "'");
    }
  }

  private String ident() {
    skip();
    int start = pos;
    while (pos < text.length()
        && (Character.isLetterOrDigit(text.charAt(pos)) || "_:".indexOf(text.charAt(pos)) >= 0)) {
      pos++;
    }
    if (start == pos) {
      throw error("expected a name");
    }
    return text.substring(start, pos);
  }

  private String quoted() {
    expect("\"");
    int end = text.indexOf('"', pos);
    String s = text.substring(pos, end);
    pos = end + 1;
    return s;
  }

  private double number() {
    skip();
    int start = pos;
    while (pos < text.length() && "0123456789.eE+-".indexOf(text.charAt(pos)) >= 0) {
      pos++;
    }
    return Double.parseDouble(text.substring(start, pos));
  }

  private Node expr() {
    Node left = term();
    if (eat("/")) {
      double d = number();
      return (h, i) -> {
        Vector v = left.eval(h, i);
        Vector out = new Vector();
        v.forEach((k, x) -> out.put(k, x / d));
        return out;
      };
    }
    return left;
  }

  private Node term() {
    skip();
    int mark = pos;
    String name = ident();
    switch (name) {
      case "sum" -> {
        List<String> by = null;
        if (eat("by")) {
          by = labels();
        }
        expect("(");
        Node inner = expr();
        expect(")");
        return sum(inner, by);
      }
      case "rate", "increase" -> {
        expect("(");
        Selector s = selector(ident());
        expect("[");
        expect("RANGE");
        expect("]");
        expect(")");
        boolean rate = name.equals("rate");
        return (h, i) -> window(s, h, i, rate);
      }
      case "histogram_quantile" -> {
        expect("(");
        double q = number();
        expect(",");
        Node inner = expr();
        expect(")");
        return (h, i) -> quantile(q, inner.eval(h, i));
      }
      default -> {
        pos = mark;
        Selector s = selector(ident());
        return (h, i) -> instant(s, h.get(i));
      }
    }
  }

  private List<String> labels() {
    expect("(");
    List<String> out = new ArrayList<>();
    do {
      out.add(ident());
    } while (eat(","));
    expect(")");
    return out;
  }

  private record Matcher(String label, String op, String value, Pattern regex) {
    boolean test(Map<String, String> labels) {
      String v = labels.getOrDefault(label, "");
      return switch (op) {
        case "=" -> v.equals(value);
        case "!=" -> !v.equals(value);
        default -> regex.matcher(v).matches();
      };
    }
  }

  private record Selector(String name, List<Matcher> matchers) {
    boolean test(Series s) {
      return s.name().equals(name) && matchers.stream().allMatch(m -> m.test(s.labels()));
    }
  }

  private Selector selector(String name) {
    List<Matcher> ms = new ArrayList<>();
    if (eat("{")) {
      if (!eat("}")) {
        do {
          String l = ident();
          String op = eat("=~") ? "=~" : eat("!=") ? "!=" : eat("=") ? "=" : null;
          if (op == null) {
            throw error("expected a label matcher");
          }
          String v = quoted();
          ms.add(new Matcher(l, op, v, op.equals("=~") ? Pattern.compile(v) : null));
        } while (eat(","));
        expect("}");
      }
    }
    return new Selector(name, ms);
  }

  private static Vector instant(Selector s, Scrape scrape) {
    Vector out = new Vector();
    scrape
        .samples()
        .forEach(
            (series, v) -> {
              if (s.test(series)) {
                out.put(series.labels(), v);
              }
            });
    return out;
  }

  /** rate: per-second increase between the first and last sample in the range; increase: it. */
  private Vector window(Selector s, List<Scrape> h, int at, boolean rate) {
    double now = h.get(at).time();
    Map<TreeMap<String, String>, double[]> firstLast = new HashMap<>();
    for (int i = 0; i <= at; i++) {
      Scrape sc = h.get(i);
      if (sc.time() < now - rangeSeconds) {
        continue;
      }
      sc.samples()
          .forEach(
              (series, v) -> {
                if (s.test(series)) {
                  double[] fl = firstLast.get(series.labels());
                  if (fl == null) {
                    firstLast.put(series.labels(), new double[] {sc.time(), v, sc.time(), v});
                  } else {
                    fl[2] = sc.time();
                    fl[3] = v;
                  }
                }
              });
    }
    Vector out = new Vector();
    firstLast.forEach(
        (labels, fl) -> {
          if (fl[2] > fl[0]) {
            double inc = Math.max(0, fl[3] - fl[1]);
            out.put(labels, rate ? inc / (fl[2] - fl[0]) : inc);
          }
        });
    return out;
  }

  private static Node sum(Node inner, List<String> by) {
    return (h, i) -> {
      Vector out = new Vector();
      inner
          .eval(h, i)
          .forEach(
              (labels, v) -> {
                TreeMap<String, String> key = new TreeMap<>();
                if (by != null) {
                  for (String l : by) {
                    key.put(l, labels.getOrDefault(l, ""));
                  }
                }
                out.merge(key, v, Double::sum);
              });
      return out;
    };
  }

  /** Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank. */
  private static Vector quantile(double q, Vector buckets) {
    Map<TreeMap<String, String>, TreeMap<Double, Double>> groups = new LinkedHashMap<>();
    buckets.forEach(
        (labels, v) -> {
          TreeMap<String, String> g = new TreeMap<>(labels);
          String le = g.remove("le");
          double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
          groups.computeIfAbsent(g, k -> new TreeMap<>()).merge(bound, v, Double::sum);
        });
    Vector out = new Vector();
    groups.forEach(
        (g, b) -> {
          double total = b.lastEntry().getValue();
          if (total <= 0) {
            return;
          }
          double rank = q * total;
          double prevBound = 0;
          double prevCount = 0;
          for (Map.Entry<Double, Double> e : b.entrySet()) {
            if (e.getValue() >= rank) {
              if (e.getKey().isInfinite()) {
                out.put(g, prevBound);
              } else {
                double inBucket = e.getValue() - prevCount;
                double frac = inBucket <= 0 ? 1 : (rank - prevCount) / inBucket;
                out.put(g, prevBound + (e.getKey() - prevBound) * frac);
              }
              return;
            }
            prevBound = e.getKey();
            prevCount = e.getValue();
          }
        });
    return out;
  }
}
