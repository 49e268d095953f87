package dev.pagehop.cli.progress;

import dev.pagehop.proto.control.v1.MigrationEvent;

/** Where the events of a watched migration are shown while it runs. */
public interface ProgressView extends AutoCloseable {

    void onEvent(MigrationEvent event);

    /** Leaves the display clean for what follows (the summary). */
    @Override
    void close();

    static ProgressView none() {
        return new ProgressView() {
            @Override
            public void onEvent(MigrationEvent event) {
            }

            @Override
            public void close() {
            }
        };
    }
}
