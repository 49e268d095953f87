/**
 * Page transfer: range tables of pending pages ({@link dev.pagehop.xfer.PageRangeSet}), the pure
 * partitioner into chunks ({@link dev.pagehop.xfer.Partitioner}), the chunk codec with zero-page
 * elision and CRC32C checksums ({@link dev.pagehop.xfer.ChunkEncoder},
 * {@link dev.pagehop.xfer.ChunkDecoder}), layouts and their reconciliation on the target
 * ({@link dev.pagehop.xfer.LayoutPlan}), and the whole-memory digest
 * ({@link dev.pagehop.xfer.MemoryDigest}). Wire messages stop here: the rest of the code sees
 * records.
 */
package dev.pagehop.xfer;
