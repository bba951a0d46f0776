package io.github.outbox4j.reliability;

/**
 * The size of the reliability tests. By default each runs at the size the build can afford on two cores (a few
 * seconds to a minute); {@code -D}{@value #PROPERTY}{@code =10} multiplies the messages and the injected faults
 * by 10 (see docs/reliability.md).
 */
final class Scale {
    static final String PROPERTY = "outbox.reliability.scale";

    private Scale() {}

    /** The factor, at least 1. */
    static int factor() {
        String value = System.getProperty(PROPERTY, "1").strip();
        try {
            int factor = Integer.parseInt(value);
            if (factor >= 1) {
                return factor;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(PROPERTY + " must be a whole number of at least 1, was '" + value + "'");
    }

    /** {@code ciSize} times the factor. */
    static int of(int ciSize) {
        return Math.multiplyExact(ciSize, factor());
    }
}
