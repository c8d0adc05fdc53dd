package dev.fastpath.projections.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.StringReader;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/** Parses an aggregates plot strictly and checks it shows the numbers of the JSON answer. */
public final class SvgDocs {
  private SvgDocs() {}

  public static Document parse(String svg) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    // No DTD, no external entities: a standalone document must not need any.
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    Document d = f.newDocumentBuilder().parse(new InputSource(new StringReader(svg)));
    assertThat(d.getDocumentElement().getNamespaceURI()).isEqualTo("http://www.w3.org/2000/svg");
    assertThat(d.getElementsByTagNameNS("*", "script").getLength()).isZero();
    assertThat(svg).doesNotContain("href=\"http").doesNotContain("@import");
    return d;
  }

  /** Every group of {@code rows} has a row showing its percentiles and fixed-up share. */
  public static void assertCarries(Document svg, JsonNode rows, String groupField) {
    Map<String, Element> groups = new HashMap<>();
    NodeList gs = svg.getElementsByTagNameNS("*", "g");
    for (int i = 0; i < gs.getLength(); i++) {
      Element g = (Element) gs.item(i);
      if ("group".equals(g.getAttribute("class"))) {
        groups.put(g.getAttribute("data-group"), g);
      }
    }
    assertThat(groups).hasSize(rows.size());
    for (JsonNode row : rows) {
      Element g = groups.get(row.path(groupField).asText());
      assertThat(g).as(row.path(groupField).asText()).isNotNull();
      JsonNode ttf = row.path("timeToFixupMs");
      assertThat(text(g, "ttf"))
          .isEqualTo(
              ms(ttf.path("p50")) + " / " + ms(ttf.path("p95")) + " / " + ms(ttf.path("p99")));
      assertThat(text(g, "share-fixed"))
          .isEqualTo(
              String.format(Locale.ROOT, "%.1f%%", 100 * row.path("shareFixedUp").asDouble()));
      double never =
          row.path("flows").asLong() == 0
              ? 0
              : (double) row.path("neverRedirected").asLong() / row.path("flows").asLong();
      assertThat(text(g, "share-never"))
          .isEqualTo(String.format(Locale.ROOT, "%.1f%%", 100 * never));
      assertThat(g.getTextContent()).contains(row.path("flows").asLong() + " flows");
    }
  }

  private static String ms(JsonNode v) {
    if (v.isNull()) {
      return "-";
    }
    double d = v.asDouble();
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  private static String text(Element g, String cls) {
    NodeList ts = g.getElementsByTagNameNS("*", "text");
    for (int i = 0; i < ts.getLength(); i++) {
      Element t = (Element) ts.item(i);
      if (cls.equals(t.getAttribute("class"))) {
        return t.getTextContent();
      }
    }
    throw new AssertionError(
        "no text of class " + cls + " in group " + g.getAttribute("data-group"));
  }
}
