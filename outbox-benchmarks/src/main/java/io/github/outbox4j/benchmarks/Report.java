package io.github.outbox4j.benchmarks;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoublePredicate;

/**
 * The results: printed on standard output and written to the results file as they come, one table per scenario with
 * the median of the repeats, their spread (lowest–highest), each repeat's value, and the target where there is one.
 */
final class Report implements AutoCloseable {

    /** A target a median is held against. */
    record Target(String text, DoublePredicate met) {
        static final Target NONE = new Target("", value -> true);

        static Target atLeast(double bound, String unit) {
            return new Target("≥ " + format(bound) + unit, value -> value >= bound);
        }

        static Target atMost(double bound, String unit) {
            return new Target("≤ " + format(bound) + unit, value -> value <= bound);
        }
    }

    /** One measured quantity: its value in each repeat. */
    record Figure(String stack, String name, String unit, List<Double> values, Target target) {
        double median() {
            List<Double> sorted = values.stream().sorted().toList();
            int n = sorted.size();
            return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        }

        double min() {
            return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
        }

        double max() {
            return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        }
    }

    private final PrintWriter file;
    private final List<Figure> section = new ArrayList<>();

    Report(Path path) {
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
            this.file = new PrintWriter(Files.newBufferedWriter(path, StandardCharsets.UTF_8), true);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the results file " + path, e);
        }
    }

    void line(String text) {
        System.out.println(text);
        file.println(text);
    }

    void heading(String title) {
        line("");
        line("== " + title + " ==");
    }

    void figure(Stack stack, String name, String unit, List<Double> values, Target target) {
        section.add(new Figure(stack.toString(), name, unit, List.copyOf(values), target));
    }

    /** Prints the figures added since the last table. */
    void table() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"stack", "measure", "median", "spread (min–max)", "repeats", "target", ""});
        for (Figure figure : section) {
            String verdict = figure.target() == Target.NONE || Double.isNaN(figure.median())
                    ? ""
                    : figure.target().met().test(figure.median()) ? "met" : "NOT MET";
            rows.add(new String[] {
                figure.stack(),
                figure.name(),
                format(figure.median()) + figure.unit(),
                format(figure.min()) + "–" + format(figure.max()),
                String.join(" ", figure.values().stream().map(Report::format).toList()),
                figure.target().text(),
                verdict
            });
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                text.append(String.format(Locale.ROOT, "%-" + (widths[i] + 2) + "s", row[i]));
            }
            line(text.toString().stripTrailing());
        }
        section.clear();
    }

    /** Two significant decimals below 10, one below 100, none above; thousands grouped. */
    static String format(double value) {
        if (Double.isNaN(value)) {
            return "n/a";
        }
        double magnitude = Math.abs(value);
        String pattern = magnitude < 10 ? "%,.2f" : magnitude < 100 ? "%,.1f" : "%,.0f";
        return String.format(Locale.ROOT, pattern, value);
    }

    @Override
    public void close() {
        file.close();
    }
}
