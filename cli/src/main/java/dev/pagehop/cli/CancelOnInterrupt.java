package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentAddress;
import dev.pagehop.cli.agent.AgentChannels;
import dev.pagehop.cli.agent.AgentClient;

/**
 * Ctrl-C during {@code migrate} cancels the migration, as with {@code virsh migrate}: leaving it
 * running unattended after the user asked to stop would surprise. A JVM shutdown hook is the only
 * place SIGINT reaches; it is removed as soon as the migration has ended.
 */
final class CancelOnInterrupt {
    private final Thread hook;

    private CancelOnInterrupt(Thread hook) {
        this.hook = hook;
    }

    static CancelOnInterrupt install(AgentChannels channels, AgentAddress source, long callTimeoutMs, String migrationId) {
        Thread hook = new Thread(() -> {
            try (AgentClient a = new AgentClient("source agent", source, channels, callTimeoutMs)) {
                a.cancel(migrationId);
                System.err.println("pagehop: interrupted; cancelled migration " + migrationId);
            } catch (CliFailure e) {
                // Already past switchover (refused) or the agent is gone: nothing left to undo.
                System.err.println("pagehop: interrupted; could not cancel migration " + migrationId + ": " + e.getMessage());
            }
        }, "pagehop-cancel-" + migrationId);
        Runtime.getRuntime().addShutdownHook(hook);
        return new CancelOnInterrupt(hook);
    }

    /** The hook itself, so a test can run what Ctrl-C would run. */
    Thread hook() {
        return hook;
    }

    void remove() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down: the hook is running or has run.
        }
    }
}
