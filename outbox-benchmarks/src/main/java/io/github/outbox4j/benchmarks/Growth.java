package io.github.outbox4j.benchmarks;

/**
 * Item 5: the outbox table holding many SUCCEEDED rows, as it does between two cleanups (by default a day's worth):
 * {@code bench.growth.rows} rows bulk-loaded with one INSERT ... SELECT per million, then the planner's statistics
 * refreshed. Items 1 and 2 then run on that table.
 */
final class Growth {
    private static final long CHUNK = 1_000_000;

    private Growth() {}

    /** Loads {@code rows} retained rows into the run's outbox table; returns rows per second. */
    static double load(Run run, long rows) {
        long start = System.nanoTime();
        for (long first = 1; first <= rows; first += CHUNK) {
            long count = Math.min(CHUNK, rows - first + 1);
            run.execute(run.stack().retainedRowsSql(run.names().published(), first, count));
            Log.detail("retained rows loaded: " + (first + count - 1) + " of " + rows);
        }
        double rate = rows / ((System.nanoTime() - start) / 1e9);
        for (String statement : run.stack().afterBulkLoad(run.names().published())) {
            run.execute(statement);
        }
        return rate;
    }
}
