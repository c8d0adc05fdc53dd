package dev.fastpath.projections.replay;

import java.util.List;

/** Left-aligned plain-text columns, two spaces apart. */
final class Table {
  private Table() {}

  static int[] widths(List<String[]> rows) {
    int[] w = new int[rows.get(0).length];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    return w;
  }

  static String row(String[] cells, int[] w) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < cells.length; i++) {
      if (i > 0) {
        sb.append("  ");
      }
      sb.append(cells[i]);
      if (i < cells.length - 1) {
        sb.append(" ".repeat(w[i] - cells[i].length()));
      }
    }
    return sb.toString();
  }
}
