/**
 * The source agent: runs emulated processes and migrates them out.
 *
 * <pre>
 *  AgentControl (ControlService) ──► SourceState ──► SourceMigration (one thread per migration)
 *                                         │              │ phases: NEW → PREPARING → ITERATING → STOP_AND_COPY
 *                                         │              │         → SWITCHING_OVER → COMMITTING → COMPLETED
 *                                         │              │         (FAILED / CANCELLED before COMMITTING)
 *                                         │              ├─ DirtyTracker.collect() each round → PendingPages
 *                                         │              ├─ Partitioner → ChunkEncoder → BulkStream (window, isReady,
 *                                         │              │   ack deadline) ──► target Migration.Transfer
 *                                         │              └─ Convergence.decide() after each round
 *                                         └─ ManagedProcess (EmulatedProcess + who owns it)
 * </pre>
 *
 * A page leaves {@link dev.pagehop.source.PendingPages} only when the target acknowledged the
 * chunk that carried it; a failure or cancel before COMMITTING tears the stream down, aborts the
 * target, stops the tracker, lifts the throttle and thaws the process. If the Commit call itself
 * fails, the target is asked where it stands; if it cannot be asked, the source process stays
 * frozen rather than risk running twice.
 */
package dev.pagehop.source;
