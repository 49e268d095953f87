/**
 * The target agent: receives migrating processes.
 *
 * <pre>
 *  Migration service (MigrationService)            TargetMigration (per migration)
 *    Prepare ──► checks version, granule, limits ──► PREPARED
 *    Transfer stream, manual flow control:            RECEIVING
 *      RoundBegin ─► LayoutPlan → MemoryRebuilder       (layout reconciled before the round's pages)
 *      Chunk      ─► id, round, sequence, layout, ChunkDecoder.validate ─► apply ─► ChunkAck
 *      RoundEnd   ─► sequences and page count must match ─► RoundAck
 *                                                      FINAL_ROUND_RECEIVED
 *    Switchover ─► protections + brk, digest verify, EmulatedProcess.restore (frozen) ─► READY
 *    Commit     ─► thaw ─────────────────────────────► RUNNING
 *    Abort / bad message / broken stream ────────────► ABORTED / FAILED (memory released)
 * </pre>
 *
 * Checks come before effects: a refused message leaves the memory as it was and fails the
 * migration with a status naming the migration, the message and the numbers.
 */
package dev.pagehop.target;
