package dev.pagehop.target;

import com.google.protobuf.ByteString;
import dev.pagehop.cpu.CpuState;
import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.migrate.FaultPoint;
import dev.pagehop.migrate.MigrationMode;
import dev.pagehop.migrate.TargetPhase;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessImage;
import dev.pagehop.proc.ProcessOptions;
import dev.pagehop.proto.migration.v1.Chunk;
import dev.pagehop.proto.migration.v1.ChunkKind;
import dev.pagehop.proto.migration.v1.RoundAck;
import dev.pagehop.proto.migration.v1.RoundBegin;
import dev.pagehop.proto.migration.v1.RoundEnd;
import dev.pagehop.proto.migration.v1.SwitchoverRequest;
import dev.pagehop.proto.migration.v1.SwitchoverResponse;
import dev.pagehop.proto.migration.v1.ThreadState;
import dev.pagehop.xfer.ChunkDecoder;
import dev.pagehop.xfer.LayoutSpec;
import dev.pagehop.xfer.LayoutWire;
import dev.pagehop.xfer.MemoryDigest;
import dev.pagehop.xfer.VmaSpec;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Arrays;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One incoming migration: its phase, the memory being rebuilt, and every check a message must
 * pass before it touches that memory. Each method is one protocol step; a step that fails
 * validation throws a {@link StatusRuntimeException} naming what was wrong and leaves the
 * memory as it was before the message (checks come first, effects after). Calls are
 * serialised by the object's monitor: the bulk stream and the unary steps may race.
 */
final class TargetMigration {
    private static final Logger LOG = LoggerFactory.getLogger(TargetMigration.class);

    final String id;
    final MigrationMode mode;
    final int sourcePid;
    final String workload;
    final String sourceAgent;
    final long pageSize;
    final long maxChunkBytes;
    final long startMillis;
    private final FaultInjector faults;
    private final Runnable killTarget;
    private final LongSupplier nanoTime;
    private final MemoryRebuilder memory;

    private TargetPhase phase = TargetPhase.PREPARED;
    private String failure = "";
    private long lastRound = -1;
    private long openRound = -1;
    private boolean openRoundFinal;
    /** 0 in the final round, Long.MIN_VALUE (any index OR-ed with it is negative) in the others. */
    private long openRoundMask = Long.MIN_VALUE;
    private long roundFirstSequence;
    private long roundPages;
    private long roundApplyNanos;
    private long nextSequence;
    private long pagesApplied;
    private long normalPages;
    private long zeroPages;
    private boolean finalRoundDone;
    private EmulatedProcess process;
    private byte[] digest = new byte[0];
    private long endMillis;
    private dev.pagehop.proto.control.v1.FailureKind failureKind = dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_UNSPECIFIED;
    private volatile PostcopyMeters postcopyMeters = PostcopyMeters.NONE;

    TargetMigration(String id, MigrationMode mode, int sourcePid, String workload, String sourceAgent,
            MemoryManager mm, long maxChunkBytes, FaultInjector faults, Runnable killTarget, LongSupplier nanoTime) {
        this.id = id;
        this.mode = mode;
        this.sourcePid = sourcePid;
        this.workload = workload;
        this.sourceAgent = sourceAgent;
        this.pageSize = mm.pageSize();
        this.maxChunkBytes = maxChunkBytes;
        this.faults = faults;
        this.killTarget = killTarget;
        this.nanoTime = nanoTime;
        this.memory = new MemoryRebuilder(mm);
        this.startMillis = System.currentTimeMillis();
    }

    synchronized TargetPhase phase() {
        return phase;
    }

    /** Why it failed; while post-copy is paused, why it is paused. */
    synchronized String failure() {
        if (phase == TargetPhase.POSTCOPY_PAUSED && postcopy != null && postcopy.pager() != null) {
            return postcopy.pager().failure();
        }
        return failure;
    }

    synchronized long lastRound() {
        return lastRound;
    }

    synchronized long nextSequence() {
        return nextSequence;
    }

    synchronized long pagesApplied() {
        return pagesApplied;
    }

    synchronized EmulatedProcess process() {
        return process;
    }

    synchronized byte[] digest() {
        return digest.clone();
    }

    synchronized long endMillis() {
        return endMillis;
    }

    /** Why it failed, where the target can tell (UNSPECIFIED otherwise). */
    synchronized dev.pagehop.proto.control.v1.FailureKind failureKind() {
        return failureKind;
    }

    /** Where a post-copy pager of this migration counts for /metrics. */
    void postcopyMeters(PostcopyMeters m) {
        postcopyMeters = m;
    }

    /** The post-copy figures so far; null before the pager started (or without post-copy). */
    dev.pagehop.proto.types.v1.PostcopyStats postcopyStats() {
        PostcopyEndpoint e = postcopy;
        LazyPager p = e == null ? null : e.pager();
        return p == null ? null : TargetWire.postcopy(p);
    }

    /** The memory being rebuilt (tests read it back). */
    dev.pagehop.mm.MemoryManager memoryForTest() {
        return memory.memory();
    }

    synchronized void applyInitialLayout(LayoutSpec layout) {
        memory.applyLayout(layout);
    }

    // --- bulk stream ------------------------------------------------------------------------------

    synchronized void roundBegin(RoundBegin b) {
        requireId(b.getMigrationId(), "RoundBegin");
        requireReceiving("RoundBegin of round " + b.getRound());
        if (openRound >= 0) {
            throw failedPrecondition("RoundBegin of round " + b.getRound() + " while round " + openRound
                    + " is still open (no RoundEnd)");
        }
        if (finalRoundDone) {
            throw failedPrecondition("RoundBegin of round " + b.getRound() + " after the final round " + lastRound);
        }
        if (b.getRound() <= lastRound && lastRound >= 0) {
            throw outOfRange("round going backwards: RoundBegin of round " + b.getRound() + " after round " + lastRound);
        }
        if (b.getRound() != lastRound + 1) {
            throw outOfRange("RoundBegin of round " + b.getRound() + " skips from round " + lastRound);
        }
        LayoutSpec layout = LayoutWire.fromWire(b.getLayout(), pageSize, "round " + b.getRound() + " layout of migration " + id);
        if (layout.mappedBytes() > maxMappedBytes) {
            // The process grew while it was being migrated, past what this target admits.
            throw Status.RESOURCE_EXHAUSTED.withDescription("migration " + id + ": round " + b.getRound()
                    + " layout maps " + layout.mappedBytes() + " bytes, over this target's limit of " + maxMappedBytes
                    + " (--max-memory)").asRuntimeException();
        }
        memory.applyLayout(layout);
        if (phase == TargetPhase.PREPARED) {
            phase(TargetPhase.RECEIVING, "round 0 began");
        }
        openRound = b.getRound();
        openRoundFinal = b.getFinal();
        openRoundMask = b.getFinal() ? 0 : Long.MIN_VALUE;
        roundFirstSequence = nextSequence;
        roundPages = 0;
        roundApplyNanos = 0;
    }

    /** Validates and applies one chunk; returns its sequence for the acknowledgment. */
    synchronized long chunk(Chunk c) {
        requireId(c.getMigrationId(), "chunk " + c.getSequence());
        requireReceiving("chunk " + c.getSequence());
        if (openRound < 0) {
            throw failedPrecondition("chunk " + c.getSequence() + " of round " + c.getRound()
                    + " outside a round (no RoundBegin since round " + lastRound + ")");
        }
        if (c.getRound() != openRound) {
            throw outOfRange("chunk " + c.getSequence() + " says round " + c.getRound() + " but round " + openRound
                    + " is open");
        }
        if (c.getSequence() < nextSequence) {
            throw invalid("duplicate sequence " + c.getSequence() + ": chunks up to " + (nextSequence - 1)
                    + " were already applied");
        }
        if (c.getSequence() > nextSequence) {
            throw Status.DATA_LOSS.withDescription("migration " + id + ": missing sequence " + nextSequence
                    + (c.getSequence() - 1 > nextSequence ? ".." + (c.getSequence() - 1) : "") + " (got "
                    + c.getSequence() + " in round " + openRound + ")").asRuntimeException();
        }
        ChunkDecoder.validate(c, pageSize, maxChunkBytes);
        long end = c.getAddress() + c.getLengthBytes();
        LayoutSpec layout = memory.layout();
        if (c.getKind() == ChunkKind.CHUNK_KIND_UNMAPPED) {
            for (VmaSpec v : layout.vmas()) {
                if (v.start() < end && c.getAddress() < v.end()) {
                    throw outOfRange(String.format("chunk %d marks [0x%x, 0x%x) unmapped, but VMA [0x%x, 0x%x) of round %d's "
                            + "layout is mapped there", c.getSequence(), c.getAddress(), end, v.start(), v.end(), openRound));
                }
            }
        } else if (!layout.covers(c.getAddress(), end)) {
            throw outOfRange(String.format("chunk %d at [0x%x, 0x%x) is outside any VMA of round %d's layout",
                    c.getSequence(), c.getAddress(), end, openRound));
        }
        long t0 = nanoTime.getAsLong();
        long pages = c.getLengthBytes() / pageSize;
        // The index in the final round, or negative outside it: computed without a branch on the
        // final round, which compiled code from earlier rounds would deoptimise on (downtime).
        boolean lose = faults.fireIfEquals(FaultPoint.LOSE_CHUNK, (c.getSequence() - roundFirstSequence) | openRoundMask);
        if (lose) {
            LOG.warn("migration {}: fault point lose-chunk acknowledges chunk {} of the final round {} without applying it",
                    id, c.getSequence(), openRound);
        }
        if (c.getKind() != ChunkKind.CHUNK_KIND_UNMAPPED) {
            if (!lose) {
                ChunkDecoder.Applied a = ChunkDecoder.apply(c, pageSize, memory);
                normalPages += a.normalPages();
                zeroPages += a.zeroPages();
            }
            roundPages += pages;
            pagesApplied += pages;
        }
        if (!lose) {
            // The digest follows memory page by page, so the switchover need not read it all.
            memory.digest().apply(c);
        }
        roundApplyNanos += nanoTime.getAsLong() - t0;
        nextSequence++;
        long killAt = faults.value(FaultPoint.KILL_TARGET_AFTER_PAGES);
        if (killAt >= 0 && pagesApplied >= killAt && faults.fireIfReached(FaultPoint.KILL_TARGET_AFTER_PAGES, pagesApplied)) {
            LOG.warn("migration {}: fault point kill-target-after-pages={} fired after {} pages", id, killAt, pagesApplied);
            killTarget.run();
            throw Status.UNAVAILABLE.withDescription("target killed by fault point kill-target-after-pages=" + killAt)
                    .asRuntimeException();
        }
        return c.getSequence();
    }

    synchronized RoundAck roundEnd(RoundEnd e) {
        requireId(e.getMigrationId(), "RoundEnd");
        requireReceiving("RoundEnd of round " + e.getRound());
        if (e.getRound() != openRound) {
            throw outOfRange("RoundEnd of round " + e.getRound() + " but " + (openRound < 0 ? "no round" : "round "
                    + openRound) + " is open");
        }
        if (e.getFirstSequence() != roundFirstSequence || e.getNextSequence() != nextSequence) {
            throw Status.DATA_LOSS.withDescription(String.format("migration %s: round %d sent sequences [%d, %d) but the "
                    + "target applied [%d, %d)", id, openRound, e.getFirstSequence(), e.getNextSequence(),
                    roundFirstSequence, nextSequence)).asRuntimeException();
        }
        if (e.getPageCount() != roundPages) {
            throw Status.DATA_LOSS.withDescription("migration " + id + ": round " + openRound + " covered "
                    + e.getPageCount() + " pages at the source but " + roundPages + " at the target").asRuntimeException();
        }
        RoundAck ack = RoundAck.newBuilder().setMigrationId(id).setRound(openRound).setPageCount(roundPages)
                .setApplyNanos(roundApplyNanos).build();
        LOG.info("migration {}: round {} applied, {} pages in {} ms of apply time", id, openRound, roundPages,
                roundApplyNanos / 1_000_000);
        lastRound = openRound;
        openRound = -1;
        if (openRoundFinal) {
            finalRoundDone = true;
            phase(TargetPhase.FINAL_ROUND_RECEIVED, "final round " + lastRound + " complete");
        }
        return ack;
    }

    // --- unary steps ----------------------------------------------------------------------------

    synchronized SwitchoverResponse switchover(SwitchoverRequest r) {
        requireId(r.getMigrationId(), "Switchover");
        if (phase != TargetPhase.FINAL_ROUND_RECEIVED) {
            throw failedPrecondition("Switchover in phase " + phase + "; the final round must be complete first");
        }
        if (r.getFinalRound() != lastRound) {
            throw outOfRange("Switchover names final round " + r.getFinalRound() + " but the final round was " + lastRound);
        }
        if (faults.fireIfReached(FaultPoint.FAIL_FINAL_STATE, 0)) {
            throw Status.INTERNAL.withDescription("migration " + id + ": fault point fail-final-state: the target "
                    + "refuses the final state").asRuntimeException();
        }
        ProcessImage image;
        try {
            image = ProcessImage.decode(r.getProcessImage().toByteArray());
        } catch (RuntimeException e) {
            throw invalid("process image of " + r.getProcessImage().size() + " bytes does not decode: " + e.getMessage());
        }
        if (image.threads().size() != r.getThreadsCount()) {
            throw invalid("Switchover carries " + r.getThreadsCount() + " thread states but the image has "
                    + image.threads().size() + " threads");
        }
        for (int i = 0; i < r.getThreadsCount(); i++) {
            ThreadState t = r.getThreads(i);
            ProcessImage.ThreadImage ti = image.threads().get(i);
            CpuState cpu;
            try {
                cpu = CpuState.fromBytes(t.getCpuState().toByteArray());
            } catch (IllegalArgumentException e) {
                throw invalid("thread " + t.getTid() + ": " + e.getMessage());
            }
            if (t.getTid() != ti.tid() || !cpu.equals(ti.cpu())) {
                throw invalid("thread " + i + " (tid " + t.getTid() + ") CPU state differs from the image's thread "
                        + ti.tid() + ": " + cpu + " vs " + ti.cpu());
            }
        }
        if (r.getPostcopy()) {
            return postcopySwitchover(r, image);
        }
        long t0 = nanoTime.getAsLong();
        MemoryManager mm = memory.memory();
        memory.finish();
        long t1 = nanoTime.getAsLong();
        // An empty digest: the source's policy skips verification (downtime over certainty).
        // The digest was kept page by page as chunks were applied: O(1) here, not a read of the
        // whole memory inside the downtime.
        boolean verify = !r.getMemoryDigest().isEmpty();
        byte[] have = verify ? memory.digest().digest() : new byte[0];
        long t2 = nanoTime.getAsLong();
        if (verify && !Arrays.equals(have, r.getMemoryDigest().toByteArray())) {
            fail("memory digest mismatch");
            failureKind = dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_DIGEST_MISMATCH;
            throw Status.DATA_LOSS.withDescription("migration " + id + ": memory digest at the target "
                    + MemoryDigest.hex(have) + " differs from the source's " + MemoryDigest.hex(r.getMemoryDigest().toByteArray()))
                    .asRuntimeException();
        }
        try {
            process = EmulatedProcess.restore(image, mm, ProcessOptions.defaults());
        } catch (RuntimeException e) {
            fail("restore failed: " + e.getMessage());
            throw Status.FAILED_PRECONDITION.withDescription("migration " + id + ": the process does not restore: "
                    + e.getMessage()).asRuntimeException();
        }
        long t3 = nanoTime.getAsLong();
        digest = have;
        phase(TargetPhase.READY, (verify ? "memory verified" : "memory not verified (digest skipped)")
                + ", process restored frozen");
        return SwitchoverResponse.newBuilder().setMemoryDigest(ByteString.copyFrom(have)).setApplyNanos(t1 - t0)
                .setVerifyNanos(t2 - t1).setRestoreNanos(t3 - t2).build();
    }

    // --- post-copy ------------------------------------------------------------------------------

    private volatile PostcopyEndpoint postcopy;
    private java.util.concurrent.ScheduledExecutorService postcopyScheduler;
    private final java.util.concurrent.ExecutorService postcopyEvents = java.util.concurrent.Executors
            .newSingleThreadExecutor(r -> Thread.ofPlatform().name("postcopy-events").daemon().unstarted(r));

    /** How long the source may stay away during post-copy before the migration cannot complete. */
    static final long SOURCE_LOST_AFTER_MS = 150_000;

    private LazyPager.Limits postcopyLimits = LazyPager.Limits.defaults().withSourceLostAfterMs(SOURCE_LOST_AFTER_MS);

    /** Bytes mapped by the layout received last (Prepare's, then each round's). */
    synchronized long mappedBytes() {
        LayoutSpec l = memory.layout();
        return l == null ? 0 : l.mappedBytes();
    }

    /** The agent's --max-memory: every round's layout is held to it, not only Prepare's. */
    private long maxMappedBytes = Long.MAX_VALUE;

    synchronized void maxMappedBytes(long bytes) {
        this.maxMappedBytes = bytes;
    }

    /** The lazy pager's limits for this migration (the agent's configuration); before switchover. */
    synchronized void postcopyLimits(LazyPager.Limits limits) {
        this.postcopyLimits = limits;
    }

    private SwitchoverResponse postcopySwitchover(SwitchoverRequest r, ProcessImage image) {
        if (r.getPostcopyMissingRangesCount() % 2 != 0) {
            throw invalid("post-copy Switchover carries " + r.getPostcopyMissingRangesCount()
                    + " missing-range bounds; they come in [start, end) pairs");
        }
        dev.pagehop.xfer.PageRangeSet missing = new dev.pagehop.xfer.PageRangeSet(pageSize);
        for (int i = 0; i < r.getPostcopyMissingRangesCount(); i += 2) {
            long s = r.getPostcopyMissingRanges(i);
            long e = r.getPostcopyMissingRanges(i + 1);
            if (s % pageSize != 0 || e % pageSize != 0 || e <= s || !memory.layout().covers(s, e)) {
                throw outOfRange(String.format("post-copy missing range [0x%x, 0x%x) is not a page-aligned range "
                        + "inside the final layout", s, e));
            }
            missing.add(s, e);
        }
        long t0 = nanoTime.getAsLong();
        MemoryManager mm = memory.memory();
        // A page sent in a pre-copy round and dirtied since is stale here: drop it, so that the
        // process faults on it and the pager fetches the current one (a present page never
        // faults under MISSING).
        for (dev.pagehop.track.PageRange m : missing.toList()) {
            for (VmaSpec v : memory.vmas()) {
                long s = Math.max(m.start(), v.start());
                long e = Math.min(m.end(), v.end());
                if (s < e) {
                    // Shared memory keeps its bytes in the file under DONTNEED: punch them out.
                    mm.madvise(s, e - s, v.shared() ? dev.pagehop.mm.Madvise.REMOVE : dev.pagehop.mm.Madvise.DONTNEED);
                }
            }
        }
        memory.finish();
        long t1 = nanoTime.getAsLong();
        try {
            process = EmulatedProcess.restore(image, mm, ProcessOptions.defaults());
        } catch (RuntimeException e) {
            fail("restore failed: " + e.getMessage());
            throw Status.FAILED_PRECONDITION.withDescription("migration " + id + ": the process does not restore: "
                    + e.getMessage()).asRuntimeException();
        }
        long t2 = nanoTime.getAsLong();
        var scheduler = new java.util.concurrent.ScheduledThreadPoolExecutor(1, x -> Thread.ofPlatform()
                .name("postcopy-" + id).daemon().unstarted(x));
        // The pager arms one answer deadline per request (thousands per migration); once post-copy
        // completed none can be overdue, so shutdown() drops them instead of running each, 10 s
        // later, on the next migration's cores.
        scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        postcopyScheduler = scheduler;
        postcopy = new PostcopyEndpoint(id, mm, missing, maxChunkBytes, postcopyScheduler, nanoTime, postcopyLimits);
        postcopy.meters(postcopyMeters);
        phase(TargetPhase.POSTCOPY, missing.pageCount() + " pages missing in " + missing.rangeCount()
                + " ranges; process restored frozen");
        return SwitchoverResponse.newBuilder().setApplyNanos(t1 - t0).setRestoreNanos(t2 - t1).build();
    }

    /** The post-copy endpoint (null before a post-copy switchover). */
    PostcopyEndpoint postcopy() {
        return postcopy;
    }

    private void postcopyState(PostcopyState s) {
        postcopyEvents.execute(() -> postcopyStateNow(s));
    }

    private synchronized void postcopyStateNow(PostcopyState s) {
        if (phase.terminal()) {
            return;
        }
        switch (s) {
            case PAUSED -> {
                if (phase == TargetPhase.POSTCOPY) {
                    phase(TargetPhase.POSTCOPY_PAUSED, postcopy.pager().failure());
                }
            }
            case RUNNING -> {
                if (phase == TargetPhase.POSTCOPY_PAUSED) {
                    phase(TargetPhase.POSTCOPY, "the source reconnected");
                }
            }
            case COMPLETED -> {
                if (phase == TargetPhase.POSTCOPY_PAUSED) {
                    phase(TargetPhase.POSTCOPY, "the source reconnected");
                }
                // Only a process left paused still has the memory it had at the source's freeze; a
                // running one has changed it (and may be unmapping under a digest).
                if (process != null && process.state() == dev.pagehop.proc.ProcessState.FROZEN) {
                    digest = MemoryDigest.of(memory.memory());
                }
                phase(TargetPhase.RUNNING, "post-copy complete: every page installed");
                endMillis = System.currentTimeMillis();
                postcopyScheduler.shutdown();
            }
            case CANNOT_COMPLETE -> {
                // Never zero-filled: the process stays frozen, its faulting threads asleep.
                failure = postcopy.pager().failure();
                failureKind = dev.pagehop.proto.control.v1.FailureKind.FAILURE_KIND_POSTCOPY_CANNOT_COMPLETE;
                phase = phase.checkTransition(TargetPhase.FAILED, id);
                LOG.warn("migration {}: post-copy cannot complete: {}", id, failure);
                if (process != null) {
                    process.freeze();
                }
                endMillis = System.currentTimeMillis();
            }
        }
    }

    /**
     * Nanoseconds the Commit took to resume the process, once it has; -1 before. A Commit whose
     * answer was lost is sent again, and must find the process resumed once, not twice.
     */
    private long committedResumeNanos = -1;

    /** Resumes the process; returns the nanoseconds it took. Repeating it changes nothing. */
    synchronized long commit(String migrationId, boolean leavePaused) {
        requireId(migrationId, "Commit");
        if (committedResumeNanos >= 0) {
            // Whatever happened since (a post-copy that failed later included), the process was
            // resumed here: saying otherwise would let the source thaw its copy as well.
            return committedResumeNanos;
        }
        if (phase == TargetPhase.POSTCOPY) {
            committedResumeNanos = postcopyCommit(leavePaused);
            return committedResumeNanos;
        }
        if (phase != TargetPhase.READY) {
            throw failedPrecondition("Commit in phase " + phase + "; Switchover must succeed first");
        }
        long t0 = nanoTime.getAsLong();
        if (!leavePaused) {
            process.thaw();
        }
        long resumed = nanoTime.getAsLong() - t0;
        phase(TargetPhase.RUNNING, leavePaused ? "committed, left paused" : "committed and resumed");
        endMillis = System.currentTimeMillis();
        committedResumeNanos = resumed;
        return resumed;
    }

    /**
     * Post-copy commit: the source opened its page stream (so the userfaultfd is registered and
     * every missing page will fault into the pager) before the process may run.
     */
    private long postcopyCommit(boolean leavePaused) {
        LazyPager pager;
        try {
            pager = postcopy.awaitPager(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("migration " + id + ": interrupted waiting for the page stream")
                    .asRuntimeException();
        } catch (IllegalStateException e) {
            throw failedPrecondition(e.getMessage());
        }
        EmulatedProcess proc = process;
        pager.threads(proc.threads().size(), host -> {
            for (dev.pagehop.proc.EmulatedThread t : proc.threads()) {
                if (t.hostThreadId() == host) {
                    return t.tid();
                }
            }
            return host;
        });
        pager.onState(this::postcopyState);
        long t0 = nanoTime.getAsLong();
        if (!leavePaused) {
            process.thaw();
        }
        return nanoTime.getAsLong() - t0;
    }

    /** Discards everything; true if the migration was still active. */
    synchronized boolean abort(String reason) {
        if (phase.terminal()) {
            return false;
        }
        if (phase == TargetPhase.POSTCOPY || phase == TargetPhase.POSTCOPY_PAUSED) {
            if (postcopy != null && postcopy.pagerStarted()) {
                throw failedPrecondition("Abort in phase " + phase + ": the process may run here already; "
                        + "post-copy cannot be undone");
            }
            fail("aborted by the source before the post-copy commit: " + reason);
            return true;
        }
        phase(TargetPhase.ABORTED, "aborted by the source: " + reason);
        failure = "aborted by the source: " + reason;
        release();
        return true;
    }

    /**
     * The agent shuts down: a migration before its commit is aborted; one in post-copy fails (its
     * process cannot live on without the pages it still misses) and its pager is released.
     * True if the migration was still active.
     */
    synchronized boolean shutdown(String reason) {
        if (phase.terminal()) {
            return false;
        }
        if ((phase == TargetPhase.POSTCOPY || phase == TargetPhase.POSTCOPY_PAUSED) && postcopy != null
                && postcopy.pagerStarted()) {
            LazyPager pager = postcopy.pager();
            fail(reason + " during post-copy, " + pager.stats().pagesMissing() + " pages still missing");
            pager.releaseAfterProcessGone();
            postcopyScheduler.shutdownNow();
            return true;
        }
        return abort(reason);
    }

    /** The received process was killed here: a post-copy still running fails, its pager released. */
    synchronized void processKilled(String reason) {
        if ((phase == TargetPhase.POSTCOPY || phase == TargetPhase.POSTCOPY_PAUSED) && postcopy != null
                && postcopy.pagerStarted()) {
            shutdown(reason);
        }
    }

    /** Ends the migration as failed (bad message, broken stream); idempotent. */
    synchronized void fail(String reason) {
        if (phase.terminal()) {
            return;
        }
        failure = reason;
        phase(TargetPhase.FAILED, reason);
        release();
    }

    private void release() {
        endMillis = System.currentTimeMillis();
        if (process != null) {
            process.close();
            process = null;
        }
        memory.memory().close();
    }

    private void phase(TargetPhase next, String why) {
        phase = phase.checkTransition(next, id);
        LOG.info("migration {}: target phase {} ({})", id, next, why);
    }

    private void requireId(String got, String what) {
        if (!id.equals(got)) {
            throw invalid(what + " names migration '" + got + "'");
        }
    }

    private void requireReceiving(String what) {
        if (phase != TargetPhase.PREPARED && phase != TargetPhase.RECEIVING) {
            throw failedPrecondition(what + " in phase " + phase + (failure.isEmpty() ? "" : " (" + failure + ")"));
        }
    }

    private StatusRuntimeException invalid(String m) {
        return Status.INVALID_ARGUMENT.withDescription("migration " + id + ": " + m).asRuntimeException();
    }

    private StatusRuntimeException outOfRange(String m) {
        return Status.OUT_OF_RANGE.withDescription("migration " + id + ": " + m).asRuntimeException();
    }

    private StatusRuntimeException failedPrecondition(String m) {
        return Status.FAILED_PRECONDITION.withDescription("migration " + id + ": " + m).asRuntimeException();
    }
}
