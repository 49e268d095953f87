package dev.pagehop.source;

import dev.pagehop.mm.Granule;
import dev.pagehop.proc.EmulatedProcess;

/**
 * A process the source agent runs, with what the agent knows about it beyond the process
 * itself: its spawn parameters and the migration that owns it, if any. A process belongs to at
 * most one migration at a time ({@link #claim}).
 */
final class ManagedProcess {
    final EmulatedProcess process;
    final Granule granule;
    final long memoryBytes;
    final int threads;
    final boolean softDirty;
    private String migrationId = "";
    private boolean migrating;
    private boolean migrated;

    ManagedProcess(EmulatedProcess process, Granule granule, long memoryBytes, int threads, boolean softDirty) {
        this.process = process;
        this.granule = granule;
        this.memoryBytes = memoryBytes;
        this.threads = threads;
        this.softDirty = softDirty;
    }

    int pid() {
        return process.pid();
    }

    /** Marks the process as migrating under {@code id}; false if another migration has it. */
    synchronized boolean claim(String id) {
        if (migrating || migrated) {
            return false;
        }
        migrating = true;
        migrationId = id;
        return true;
    }

    synchronized void release(boolean nowMigrated) {
        migrating = false;
        migrated = nowMigrated;
    }

    synchronized boolean migrating() {
        return migrating;
    }

    synchronized boolean migrated() {
        return migrated;
    }

    synchronized String migrationId() {
        return migrationId;
    }
}
