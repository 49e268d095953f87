package dev.pagehop.migrate;

/** How pages reach the target: iterate then stop-and-copy, switch over first, or both. */
public enum MigrationMode {
    PRECOPY,
    POSTCOPY,
    HYBRID
}
