package dev.pagehop.cli.progress;

import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.proto.control.v1.MigrationEvent;
import dev.pagehop.proto.control.v1.MigrationInfo;
import java.util.Iterator;

/**
 * Follows one migration's event stream to its end and returns the final record. If the stream
 * ends without its terminal event (the agent restarted the stream, or closed it on shutdown), the
 * record is fetched with GetMigration so the caller always gets the agent's last word.
 */
public final class MigrationFollower {
    private MigrationFollower() {
    }

    public static MigrationInfo follow(AgentClient agent, String migrationId, long progressIntervalMs, ProgressView view) {
        try (view) {
            Iterator<MigrationEvent> events = agent.watch(migrationId, progressIntervalMs);
            while (events.hasNext()) {
                MigrationEvent e = events.next();
                view.onEvent(e);
                if (e.getKind() == MigrationEvent.Kind.KIND_END && e.hasInfo()) {
                    return e.getInfo();
                }
            }
        }
        return agent.migration(migrationId);
    }
}
