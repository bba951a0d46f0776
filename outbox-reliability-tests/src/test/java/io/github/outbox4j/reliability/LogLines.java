package io.github.outbox4j.reliability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

/**
 * Keeps the lines one logger writes while it is open (they still reach the console), so that a test can count what
 * the library told its operator: an outage, a recovery, a refused delivery. Close it to detach.
 */
final class LogLines implements AutoCloseable {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private LogLines(String loggerName) {
        this.logger = (Logger) LoggerFactory.getLogger(loggerName);
        appender.start();
        logger.addAppender(appender);
    }

    /** Starts keeping the lines of the logger named after {@code owner}. */
    static LogLines of(Class<?> owner) {
        return new LogLines(owner.getName());
    }

    /** Starts keeping the lines of the logger {@code name}, for a class the test cannot see. */
    static LogLines of(String name) {
        return new LogLines(name);
    }

    /** How many lines so far are at {@code level} and contain {@code text}. */
    long count(Level level, String text) {
        synchronized (appender) { // AppenderBase.doAppend appends under the same lock
            return appender.list.stream()
                    .filter(event -> event.getLevel() == level
                            && event.getFormattedMessage().contains(text))
                    .count();
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
