package dev.pagehop.cli.output;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A text table with a header row, columns padded to their widest cell, two spaces apart — the
 * look of {@code kubectl get} and {@code ps}. Columns named in {@code rightAligned} hold numbers.
 */
public final class Table {
    private final List<String> header;
    private final boolean[] right;
    private final List<List<String>> rows = new ArrayList<>();

    public Table(String... header) {
        this.header = List.of(header);
        this.right = new boolean[header.length];
    }

    /** Right-aligns the given columns (numbers read better that way). */
    public Table right(int... columns) {
        for (int c : columns) {
            right[c] = true;
        }
        return this;
    }

    public Table row(Object... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, the table " + header.size() + " columns");
        }
        List<String> r = new ArrayList<>(cells.length);
        for (Object c : cells) {
            r.add(String.valueOf(c));
        }
        rows.add(r);
        return this;
    }

    public int size() {
        return rows.size();
    }

    public void print(PrintWriter out) {
        int[] width = new int[header.size()];
        for (int c = 0; c < width.length; c++) {
            width[c] = header.get(c).length();
            for (List<String> r : rows) {
                width[c] = Math.max(width[c], r.get(c).length());
            }
        }
        line(out, header, width);
        for (List<String> r : rows) {
            line(out, r, width);
        }
    }

    private void line(PrintWriter out, List<String> cells, int[] width) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < cells.size(); c++) {
            String cell = cells.get(c);
            boolean last = c == cells.size() - 1;
            String pad = " ".repeat(width[c] - cell.length());
            if (right[c]) {
                sb.append(pad).append(cell);
            } else {
                sb.append(cell);
                if (!last) {
                    sb.append(pad);
                }
            }
            if (!last) {
                sb.append("  ");
            }
        }
        out.println(sb.toString().stripTrailing());
    }
}
