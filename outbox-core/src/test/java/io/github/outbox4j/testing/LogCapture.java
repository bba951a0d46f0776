package io.github.outbox4j.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Captures what one logger writes while it is open, and keeps it off the console. Close it to restore the
 * logger.
 */
public final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final Level previousLevel;
    private final boolean previousAdditive;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private LogCapture(Class<?> owner) {
        this.logger = (Logger) LoggerFactory.getLogger(owner);
        this.previousLevel = logger.getLevel();
        this.previousAdditive = logger.isAdditive();
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(Level.DEBUG);
        logger.setAdditive(false);
    }

    /** Starts capturing the logger named after {@code owner}. */
    public static LogCapture of(Class<?> owner) {
        return new LogCapture(owner);
    }

    /** The events so far. */
    public List<ILoggingEvent> events() {
        synchronized (appender) { // AppenderBase.doAppend appends under the same lock
            return List.copyOf(appender.list);
        }
    }

    /** The formatted messages of the events at {@code level} so far. */
    public List<String> messages(Level level) {
        return events().stream()
                .filter(event -> event.getLevel() == level)
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        logger.setLevel(previousLevel);
        logger.setAdditive(previousAdditive);
        appender.stop();
    }
}
