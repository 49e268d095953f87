package dev.pagehop.source;

import com.google.protobuf.ByteString;
import dev.pagehop.migrate.Convergence;
import dev.pagehop.migrate.Decision;
import dev.pagehop.migrate.FailureKind;
import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.migrate.FaultPoint;
import dev.pagehop.migrate.MigrationPolicy;
import dev.pagehop.migrate.PolicyWire;
import dev.pagehop.migrate.RoundStats;
import dev.pagehop.migrate.SourcePhase;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.proc.FreezeResult;
import dev.pagehop.proc.ProcessImage;
import dev.pagehop.proc.ProcessState;
import dev.pagehop.proto.migration.v1.AbortRequest;
import dev.pagehop.proto.migration.v1.Chunk;
import dev.pagehop.proto.migration.v1.ChunkKind;
import dev.pagehop.proto.migration.v1.CommitRequest;
import dev.pagehop.proto.migration.v1.CommitResponse;
import dev.pagehop.proto.migration.v1.MigrationGrpc;
import dev.pagehop.proto.migration.v1.PrepareRequest;
import dev.pagehop.proto.migration.v1.PrepareResponse;
import dev.pagehop.proto.migration.v1.RoundBegin;
import dev.pagehop.proto.migration.v1.RoundEnd;
import dev.pagehop.proto.migration.v1.SwitchoverRequest;
import dev.pagehop.proto.migration.v1.SwitchoverResponse;
import dev.pagehop.proto.migration.v1.ThreadState;
import dev.pagehop.proto.migration.v1.TransferRequest;
import dev.pagehop.proto.types.v1.TargetPhase;
import dev.pagehop.security.TlsFailures;
import dev.pagehop.track.DirtySet;
import dev.pagehop.track.DirtyTracker;
import dev.pagehop.track.DirtyTrackers;
import dev.pagehop.track.PageRange;
import dev.pagehop.track.TrackerCost;
import dev.pagehop.track.TrackerOptions;
import dev.pagehop.track.WriterFreeze;
import dev.pagehop.xfer.ChunkEncoder;
import dev.pagehop.xfer.ChunkSpec;
import dev.pagehop.xfer.LayoutCapture;
import dev.pagehop.xfer.LayoutSpec;
import dev.pagehop.xfer.LayoutWire;
import dev.pagehop.xfer.MemoryDigest;
import dev.pagehop.xfer.PageRangeSet;
import dev.pagehop.xfer.Partitioner;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One outgoing pre-copy migration, run start to end on its own thread. Phases (see
 * dev.pagehop.migrate's package-info for the diagram) move only through {@link #phase}; each
 * phase is a method. Before COMMITTING every failure and every cancel ends the same way: the
 * bulk stream is torn down, the target is told to abort, the tracker stops, the throttle is
 * lifted and a frozen process is thawed, so the source process runs on unchanged.
 */
final class SourceMigration implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(SourceMigration.class);
    static final int PROTOCOL_VERSION = 1;

    /** What the agent configures for every migration. */
    record Settings(long ackTimeoutNanos, long rpcTimeoutMs, String agentName, FaultInjector faults,
            LongSupplier nanoTime) {
    }

    /** A per-round record: the statistics and what the policy decided after it. */
    record Round(RoundStats stats, Decision decision) {
    }

    final String id;
    final ManagedProcess mp;
    final String target;
    final MigrationPolicy policy;
    final String trackerName;
    final boolean leavePaused;
    final boolean keepSource;
    private final MigrationGrpc.MigrationBlockingStub blocking;
    private final MigrationGrpc.MigrationStub async;
    /** Post-copy's urgent page stream, on a connection of its own to the target. */
    private final MigrationGrpc.MigrationStub urgent;
    private final Settings settings;
    private final SourceMetrics metrics;
    private final Runnable onRelease;
    private final LongSupplier nanoTime;
    private final List<Consumer<SourceMigration>> listeners = new CopyOnWriteArrayList<>();

    // Guarded by this.
    private SourcePhase phase = SourcePhase.NEW;
    private String failure = "";
    private FailureKind failureKind;
    private Status failureStatus = Status.OK;
    private final List<Round> rounds = new ArrayList<>();
    private Decision lastDecision;
    private long transferredBytes;
    private long precopyBytes;
    private long downtimeBytes;
    private long normalPages;
    private long zeroPages;
    private long remainingBytes;
    private long memoryBytes;
    private long pageSize;
    private int throttle;
    private int currentRound;
    private long roundPagesSent;
    private final long startNs;
    private final long startMillis;
    private long endMillis;
    private long setupNs;
    private long downtimeNs;
    private long freezeNs;
    private long finalRoundNs;
    private long stateCaptureNs;
    private long stateSendNs;
    private long completeNs;
    private byte[] sourceDigest = new byte[0];
    private byte[] targetDigest = new byte[0];
    private TrackerCost trackerCost;
    private int targetPid;

    private volatile boolean cancelRequested;
    private volatile BulkStream bulk;
    private DirtyTracker tracker;
    private boolean frozen;
    private long nextSequence;
    private int window;

    /**
     * @param urgentChannel carries post-copy's urgent page stream only: a connection apart from
     *                      {@code channel}'s, so a fault's page never waits behind background
     *                      megabytes in the same socket (QEMU's postcopy-preempt channel)
     */
    SourceMigration(String id, ManagedProcess mp, String target, Channel channel, Channel urgentChannel,
            MigrationPolicy policy, String trackerName, boolean leavePaused, boolean keepSource, Settings settings,
            SourceMetrics metrics, Runnable onRelease) {
        this.id = id;
        this.mp = mp;
        this.target = target;
        this.policy = policy;
        this.trackerName = trackerName;
        this.leavePaused = leavePaused;
        this.keepSource = keepSource;
        this.blocking = MigrationGrpc.newBlockingStub(channel);
        this.async = MigrationGrpc.newStub(channel);
        this.urgent = MigrationGrpc.newStub(urgentChannel);
        this.settings = settings;
        this.metrics = metrics;
        this.onRelease = onRelease;
        this.nanoTime = settings.nanoTime();
        this.startNs = nanoTime.getAsLong();
        this.startMillis = System.currentTimeMillis();
    }

    // --- the run ------------------------------------------------------------------------------------

    @Override
    public void run() {
        metrics.active.incrementAndGet();
        try {
            prepare();
            if (iterate()) {
                postcopy();
            } else {
                stopAndCopy();
                commit();
            }
        } catch (Throwable t) {
            end(t);
        } finally {
            metrics.active.decrementAndGet();
            notifyListeners();
        }
    }

    private void prepare() {
        phase(SourcePhase.PREPARING, "StartMigration to " + target);
        MemoryManager mm = mp.process.mm();
        synchronized (this) {
            pageSize = mm.pageSize();
        }
        try {
            tracker = DirtyTrackers.create(trackerName, mm, TrackerOptions.defaults().withWriterFreeze(writerFreeze()));
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new MigrationException(FailureKind.SOURCE_ERROR, Status.FAILED_PRECONDITION, "migration " + id
                    + ": tracker " + trackerName + " cannot run on process " + mp.pid() + ": " + e.getMessage(), e);
        }
        // Tracking starts before round 0 reads anything, so a store during round 0 is never missed.
        tracker.start();
        LayoutCapture capture = new LayoutCapture();
        this.capture = capture;
        LayoutSpec layout = capture.capture(mm);
        synchronized (this) {
            memoryBytes = layout.mappedBytes();
        }
        PrepareResponse pr;
        try {
            pr = blocking.withDeadlineAfter(settings.rpcTimeoutMs(), TimeUnit.MILLISECONDS).prepare(PrepareRequest.newBuilder()
                    .setProtocolVersion(PROTOCOL_VERSION).setMigrationId(id).setMode(PolicyWire.mode(policy.mode()))
                    .setGranule(PolicyWire.granule(mp.granule)).setLayout(LayoutWire.toWire(layout))
                    .setSourcePid(mp.pid()).setWorkload(mp.process.workloadSpec().toString())
                    .setThreadCount(mp.process.threads().size()).setMappedBytes(layout.mappedBytes())
                    .setMaxChunkBytes(policy.chunkBytes()).setSourceAgent(settings.agentName())
                    .setThpMode(mm.config().thp().name()).setSoftDirty(mm.config().softDirty()).build());
        } catch (StatusRuntimeException e) {
            // A refused certificate surfaces as UNAVAILABLE "io exception"; say which handshake failed and why.
            throw new MigrationException(FailureKind.ofTargetCall(e.getStatus().getCode()), e.getStatus(), "migration " + id + ": " + TlsFailures.describe(e.getStatus(),
                    "target " + target, "this source agent's certificate").orElse("target " + target + " refused Prepare: "
                            + describe(e.getStatus())), e);
        }
        window = Math.max(1, Math.min(policy.maxChunksInFlight(), pr.getMaxChunksInFlight()));
        pending = new PendingPages(pageSize);
        pending.add(layout.ranges());
        sentDigest = new dev.pagehop.xfer.PageSetDigest(pageSize);
        this.layout = layout;
        BulkStream b = new BulkStream(id, pending, nanoTime);
        async.withOnReadyThreshold(BulkStream.ON_READY_THRESHOLD_BYTES).transfer(b);
        bulk = b;
        synchronized (this) {
            setupNs = nanoTime.getAsLong() - startNs;
            remainingBytes = pending.bytes();
        }
        metrics.setupTime.record(setupNs, TimeUnit.NANOSECONDS);
    }

    private LayoutCapture capture;
    private LayoutSpec layout;
    /** Every page as last sent, digested (the target keeps the same of what it applied). */
    private dev.pagehop.xfer.PageSetDigest sentDigest;
    /** The layout {@link #sentDigest} was last brought to. */
    private LayoutSpec digestLayout = LayoutSpec.EMPTY;
    // Volatile: snapshots read it for the bytes still unacknowledged mid-round.
    private volatile PendingPages pending;
    private List<PageRange> unmappedToSend = List.of();

    /** Pre-copy rounds until the policy decides; true when it decides for post-copy. */
    private boolean iterate() throws InterruptedException {
        phase(SourcePhase.ITERATING, "prepared; window " + window + " chunks");
        Decision d = decide();
        if (d.action() == Decision.Action.POSTCOPY) {
            return true;
        }
        int round = 0;
        while (true) {
            RoundResult rr = sendRound(round, layout, false);
            long c0 = nanoTime.getAsLong();
            DirtySet ds = tracker.collect();
            long collectNs = nanoTime.getAsLong() - c0;
            LayoutSpec next = capture.capture(mp.process.mm());
            applyDirty(ds, next);
            RoundStats rs = new RoundStats(round, false, rr.startNs, rr.durationNs, rr.normalPages, rr.zeroPages,
                    rr.unmappedBytes, rr.pageBytes, rr.wireBytes, ds.writtenBytes(), collectNs, throttlePercent());
            synchronized (this) {
                rounds.add(new Round(rs, null));
                remainingBytes = pending.bytes();
            }
            d = decide();
            synchronized (this) {
                rounds.set(rounds.size() - 1, new Round(rs, d));
            }
            report(rs, d);
            switch (d.action()) {
                case CONTINUE -> round++;
                case SWITCHOVER -> {
                    synchronized (this) {
                        currentRound = round + 1;
                    }
                    return false;
                }
                case ABORT -> throw new MigrationException(FailureKind.of(d.reason()), Status.ABORTED, "migration " + id
                        + ": policy aborted after round " + round + ": " + d.reason() + ": " + d.detail());
                case POSTCOPY -> {
                    synchronized (this) {
                        currentRound = round + 1;
                    }
                    return true;
                }
            }
        }
    }

    private void stopAndCopy() throws InterruptedException {
        phase(SourcePhase.STOP_AND_COPY, "converged: " + lastDecision());
        int finalRound = currentRound();
        long freezeStart = nanoTime.getAsLong();
        // Pre-copy waits for parked faults as long as for any progress: a store landing after
        // the final collect would be lost.
        freezeClean(Math.max(PARKED_FAULT_WAIT_NS, settings.ackTimeoutNanos()));
        frozen = true;
        long frozenAt = nanoTime.getAsLong();
        setThrottle(0);
        DirtySet ds = tracker.collect();
        long collectNs = nanoTime.getAsLong() - frozenAt;
        LayoutSpec fin = capture.capture(mp.process.mm());
        applyDirty(ds, fin);
        if (settings.faults().fireIfReached(FaultPoint.WRITE_AFTER_FINAL_COLLECT, 0)) {
            writeUnreported(fin, finalRound);
        }
        // The sent-page digest proves the target applied what was sent; only a read of the frozen
        // memory proves that what was sent is all that changed (a page the tracker failed to
        // report would pass the first check). Read it beside the final round, on another thread.
        java.util.concurrent.CompletableFuture<byte[]> frozenDigest = policy.verifyDigest()
                ? java.util.concurrent.CompletableFuture.supplyAsync(() -> MemoryDigest.of(mp.process.mm()),
                        r -> Thread.ofPlatform().name("digest-" + id).daemon().start(r))
                : null;
        RoundResult rr = sendRound(finalRound, fin, true);
        long sentAt = nanoTime.getAsLong();
        RoundStats rs = new RoundStats(finalRound, true, rr.startNs, rr.durationNs, rr.normalPages, rr.zeroPages,
                rr.unmappedBytes, rr.pageBytes, rr.wireBytes, 0, collectNs, 0);
        ProcessImage image = mp.process.saveImage();
        // Kept page by page as rounds were sent, so only the final round's pages were hashed
        // inside the downtime; it equals MemoryDigest of the frozen memory when nothing was missed.
        byte[] digest = policy.verifyDigest() ? sentDigest.digest() : new byte[0];
        if (frozenDigest != null) {
            checkFrozenDigest(digest, frozenDigest, finalRound);
        }
        long capturedAt = nanoTime.getAsLong();
        synchronized (this) {
            rounds.add(new Round(rs, null));
            freezeNs = frozenAt - freezeStart;
            finalRoundNs = sentAt - frozenAt;
            stateCaptureNs = capturedAt - sentAt;
            sourceDigest = digest;
            remainingBytes = 0;
            this.freezeStartNs = freezeStart;
        }
        phase(SourcePhase.SWITCHING_OVER, "final round " + finalRound + " acknowledged");
        bulk.finish();
        SwitchoverRequest.Builder req = SwitchoverRequest.newBuilder().setMigrationId(id).setFinalRound(finalRound)
                .setProcessImage(ByteString.copyFrom(image.encode())).setMemoryDigest(ByteString.copyFrom(digest));
        for (ProcessImage.ThreadImage t : image.threads()) {
            req.addThreads(ThreadState.newBuilder().setTid(t.tid()).setCpuState(ByteString.copyFrom(t.cpu().toBytes())));
        }
        SwitchoverResponse sr;
        try {
            sr = blocking.withDeadlineAfter(settings.rpcTimeoutMs(), TimeUnit.MILLISECONDS).switchover(req.build());
        } catch (StatusRuntimeException e) {
            // The target answers DATA_LOSS to a Switchover only when the memory digests differ.
            throw new MigrationException(e.getStatus().getCode() == Status.Code.DATA_LOSS ? FailureKind.DIGEST_MISMATCH
                    : FailureKind.ofTargetCall(e.getStatus().getCode()), e.getStatus(), "migration " + id + ": target "
                    + target + " refused the switchover: " + describe(e.getStatus()), e);
        }
        synchronized (this) {
            stateSendNs = nanoTime.getAsLong() - capturedAt;
            targetDigest = sr.getMemoryDigest().toByteArray();
        }
    }

    private long freezeStartNs;

    /**
     * Post-copy switchover: freeze, send the final layout without pages, hand the target the
     * process image and the list of pages it still misses, resume it there, then serve its page
     * demands from the frozen image ({@link PostcopyServer}) until it confirms every page is
     * installed. Only then is the source copy released.
     */
    private void postcopy() throws InterruptedException {
        phase(SourcePhase.STOP_AND_COPY, "switching to post-copy: " + lastDecision());
        int finalRound = currentRound();
        long freezeStart = nanoTime.getAsLong();
        freezeClean();
        frozen = true;
        long frozenAt = nanoTime.getAsLong();
        setThrottle(0);
        DirtySet ds = tracker.collect();
        long collectNs = nanoTime.getAsLong() - frozenAt;
        MemoryManager mm = mp.process.mm();
        LayoutSpec fin = capture.capture(mm);
        applyDirty(ds, fin);
        // The final round carries the layout (and what went unmapped), and no pages but those
        // of locked VMAs: MAP_LOCKED populates a VMA on the target, so no MISSING fault would
        // ever fetch them (CRIU's lazy restore leaves locked VMAs out for the same reason).
        List<PageRange> locked = new java.util.ArrayList<>();
        for (dev.pagehop.xfer.VmaSpec v : fin.vmas()) {
            if ((v.vmFlags() & dev.pagehop.mm.VmFlags.VM_LOCKED) != 0) {
                locked.add(new PageRange(v.start(), v.end()));
            }
        }
        PendingPages eager = new PendingPages(pageSize);
        eager.add(pending.snapshot());
        eager.retainWithin(locked);
        pending.remove(eager.snapshot());
        List<PageRange> missing = pending.snapshot();
        pending = eager;
        RoundResult rr = sendRound(finalRound, fin, true);
        long sentAt = nanoTime.getAsLong();
        RoundStats rs = new RoundStats(finalRound, true, rr.startNs, rr.durationNs, rr.normalPages, rr.zeroPages,
                rr.unmappedBytes, rr.pageBytes, rr.wireBytes, 0, collectNs, 0);
        ProcessImage image = mp.process.saveImage();
        long capturedAt = nanoTime.getAsLong();
        synchronized (this) {
            rounds.add(new Round(rs, null));
            freezeNs = frozenAt - freezeStart;
            finalRoundNs = sentAt - frozenAt;
            stateCaptureNs = capturedAt - sentAt;
            this.freezeStartNs = freezeStart;
        }
        bulk.finish();
        SwitchoverRequest.Builder req = SwitchoverRequest.newBuilder().setMigrationId(id).setFinalRound(finalRound)
                .setProcessImage(ByteString.copyFrom(image.encode())).setPostcopy(true);
        for (PageRange r : missing) {
            req.addPostcopyMissingRanges(r.start()).addPostcopyMissingRanges(r.end());
        }
        for (ProcessImage.ThreadImage t : image.threads()) {
            req.addThreads(ThreadState.newBuilder().setTid(t.tid()).setCpuState(ByteString.copyFrom(t.cpu().toBytes())));
        }
        try {
            blocking.withDeadlineAfter(settings.rpcTimeoutMs(), TimeUnit.MILLISECONDS).switchover(req.build());
        } catch (StatusRuntimeException e) {
            throw new MigrationException(FailureKind.ofTargetCall(e.getStatus().getCode()), e.getStatus(), "migration "
                    + id + ": target " + target + " refused the post-copy switchover: " + describe(e.getStatus()), e);
        }
        synchronized (this) {
            stateSendNs = nanoTime.getAsLong() - capturedAt;
        }
        java.util.concurrent.ScheduledExecutorService scheduler = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("postcopy-" + id).daemon().unstarted(r));
        PostcopyServer server = new PostcopyServer(id, pageSize, mm::peek, async, urgent, scheduler, () -> { });
        server.onLinkChange(this::postcopyLinkChanged);
        server.faults(settings.faults());
        postcopyServer = server;
        try {
            server.start();
            PostcopyProgress progress = new PostcopyProgress(id, async, server, settings.rpcTimeoutMs());
            progress.start(scheduler);
            postcopyProgress = progress;
            commitCall();
            synchronized (this) {
                // From here on the target may run the process: the source never thaws it again.
                postcopyCommitted = true;
            }
            phase(SourcePhase.POSTCOPY, missing.size() + " ranges missing on the target; serving page demands");
            if (server.paused()) {
                postcopyLinkChanged(false);
            }
            long postStart = nanoTime.getAsLong();
            synchronized (this) {
                postcopyStartNs = postStart;
            }
            try {
                server.completed().get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw new MigrationException(FailureKind.POSTCOPY_CANNOT_COMPLETE, Status.UNAVAILABLE, "migration " + id
                        + ": post-copy failed: " + e.getCause().getMessage() + "; the process is frozen on both sides, "
                        + "the target cannot complete", e.getCause());
            }
            progress.finish();
            metrics.postcopyCompleted(progress.stats());
            synchronized (this) {
                if (phase == SourcePhase.POSTCOPY_PAUSED) {
                    // The completion came on a link that reopened before it was seen up.
                    phase = phase.checkTransition(SourcePhase.POSTCOPY, id);
                }
            }
            synchronized (this) {
                postcopyBytes = server.bytesServed();
                postcopyNs = nanoTime.getAsLong() - postStart;
                postcopyUrgentPages = server.urgentPagesServed();
                postcopyBackgroundPages = server.backgroundPagesServed();
                trackerCost = tracker.cost();
            }
        } finally {
            server.stop();
            scheduler.shutdownNow();
        }
        tracker.stop();
        mp.release(true);
        if (!keepSource) {
            onRelease.run();
        }
        long now = nanoTime.getAsLong();
        metrics.downtime.record(downtimeNs, TimeUnit.NANOSECONDS);
        metrics.totalTime.record(now - startNs, TimeUnit.NANOSECONDS);
        metrics.succeeded.increment();
        metrics.roundsPerMigration.record(rounds().size());
        recordTrackerCost();
        synchronized (this) {
            endMillis = System.currentTimeMillis();
        }
        phase(SourcePhase.COMPLETED, String.format("post-copy: downtime %.1f ms, %d pages on demand, %d in the "
                + "background, %.1f ms after the switchover", downtimeNs / 1e6, postcopyUrgentPages,
                postcopyBackgroundPages, postcopyNs / 1e6));
    }

    private volatile PostcopyServer postcopyServer;

    /** The post-copy page server once post-copy started, else null (tests read its counters). */
    PostcopyServer postcopyServer() {
        return postcopyServer;
    }
    private boolean postcopyCommitted;

    /** The page link went down (paused) or came back: POSTCOPY ⇄ POSTCOPY_PAUSED. */
    private void postcopyLinkChanged(boolean up) {
        SourcePhase from;
        SourcePhase to;
        synchronized (this) {
            from = phase;
            if (up && phase == SourcePhase.POSTCOPY_PAUSED) {
                to = SourcePhase.POSTCOPY;
            } else if (!up && phase == SourcePhase.POSTCOPY) {
                to = SourcePhase.POSTCOPY_PAUSED;
            } else {
                return;
            }
            phase = phase.checkTransition(to, id);
        }
        LOG.info("migration {}: source phase {} (page link {})", id, to, up ? "reconnected" : "lost; reconnecting "
                + "with backoff, or on RecoverMigration");
        notifyListeners();
    }

    /**
     * RecoverMigration: a paused post-copy reconnects now, with the backoff reset.
     *
     * @throws MigrationException FAILED_PRECONDITION naming the phase when not paused post-copy
     */
    void recover() {
        PostcopyServer server = postcopyServer;
        SourcePhase p = phase();
        if (p != SourcePhase.POSTCOPY_PAUSED || server == null) {
            throw new MigrationException(Status.FAILED_PRECONDITION, "migration " + id + " is in phase " + p
                    + "; only a migration in POSTCOPY_PAUSED (post-copy with its page link lost) can be recovered");
        }
        try {
            server.recoverNow();
        } catch (IllegalStateException e) {
            throw new MigrationException(Status.FAILED_PRECONDITION, "migration " + id + " in phase " + phase() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Agent shutdown during post-copy: the frozen image goes away, so the target is told its
     * missing pages can never arrive (it keeps the process frozen). False if not in post-copy.
     */
    boolean abandonPostcopy(String why) {
        PostcopyServer server = postcopyServer;
        if (server == null || phase().terminal()) {
            return false;
        }
        server.stop(why);
        return true;
    }

    private long postcopyBytes;
    private long postcopyNs;
    private long postcopyStartNs;
    private volatile PostcopyProgress postcopyProgress;
    private long postcopyUrgentPages;
    private long postcopyBackgroundPages;

    /**
     * Freezes with every thread at a step boundary. A thread parked in a userfault counts as
     * frozen, but its access completes when the fault is resolved (a uffd-wp-sync monitor
     * resolves it any moment), so memory could still change after the final collect: wait until
     * every such access has landed (the thread then holds at its gate until thaw).
     */
    private Runnable undoUnreportedWrite;

    /** Fault point write-after-final-collect: one page changes and stays unsent. */
    private void writeUnreported(LayoutSpec fin, int finalRound) {
        for (dev.pagehop.xfer.VmaSpec v : fin.vmas()) {
            if ((v.prot() & dev.pagehop.mm.Prot.WRITE) == 0) {
                continue;
            }
            byte[] b = new byte[1];
            MemoryManager mm = mp.process.mm();
            mm.peek(v.start(), b, 0, 1);
            b[0] ^= 0x5a;
            mm.poke(v.start(), b, 0, 1);
            long at = v.start();
            byte was = (byte) (b[0] ^ 0x5a);
            // Put back once the check has seen it, so the process the test keeps on the source is
            // the one it spawned.
            undoUnreportedWrite = () -> mm.poke(at, new byte[] {was}, 0, 1);
            pending.remove(List.of(new PageRange(v.start(), v.start() + pageSize)));
            LOG.warn("migration {}: fault point write-after-final-collect changed 0x{} after final round {}'s collect",
                    id, Long.toHexString(v.start()), finalRound);
            return;
        }
    }

    /**
     * Before the switchover, while the process can still thaw here: what was sent must add up to
     * the frozen memory, or a page changed without the tracker reporting it.
     */
    private void checkFrozenDigest(byte[] sent, java.util.concurrent.CompletableFuture<byte[]> frozenDigest,
            int finalRound) throws InterruptedException {
        byte[] frozenMemory;
        try {
            frozenMemory = frozenDigest.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new MigrationException(FailureKind.SOURCE_ERROR, Status.INTERNAL, "migration " + id
                    + ": reading the frozen memory for its digest failed: " + e.getCause(), e.getCause());
        }
        if (java.util.Arrays.equals(sent, frozenMemory)) {
            return;
        }
        MemoryManager mm = mp.process.mm();
        List<Long> differ = sentDigest.differences(mm.vmas(), mm::peek, 8);
        StringBuilder where = new StringBuilder();
        for (long a : differ) {
            where.append(where.isEmpty() ? "" : ", ").append("0x").append(Long.toHexString(a));
        }
        if (undoUnreportedWrite != null) {
            undoUnreportedWrite.run();
        }
        throw new MigrationException(FailureKind.DIGEST_MISMATCH, Status.DATA_LOSS, "migration " + id
                + ": after final round " + finalRound + " the pages sent (" + sentDigest.pageCount()
                + " pages, digest " + MemoryDigest.hex(sent) + ") do not add up to the frozen memory (digest "
                + MemoryDigest.hex(frozenMemory) + "): the " + tracker.name() + " tracker missed changes"
                + (differ.isEmpty() ? " (pages sent for ranges no longer mapped)" : " at " + where
                        + (differ.size() == 8 ? ", …" : "")) + "; the process runs on here");
    }

    private void freezeClean() {
        freezeClean(PARKED_FAULT_WAIT_NS);
    }

    private void freezeClean(long waitNanos) {
        FreezeResult fr = mp.process.freeze();
        if (fr.parkedInFaultCount() == 0) {
            return;
        }
        long unresolved;
        try {
            unresolved = mp.process.awaitParkedFaultsLanded(waitNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            unresolved = fr.parkedInFaultCount();
        }
        LOG.info("migration {}: froze with {} threads mid-fault; {} still unresolved after waiting",
                id, fr.parkedInFaultCount(), unresolved);
    }

    /**
     * How long a final round waits for a write-protect monitor to resolve parked faults at least;
     * pre-copy waits as long as the progress timeout (an unresolved fault is no progress).
     */
    private static final long PARKED_FAULT_WAIT_NS = TimeUnit.SECONDS.toNanos(2);

    /**
     * The Commit call, timed: the downtime ends when the target answers (or is found resumed);
     * returns that instant.
     */
    private long commitCall() {
        long t0 = nanoTime.getAsLong();
        CommitResponse cr = commitUntilAnswered();
        long now = nanoTime.getAsLong();
        synchronized (this) {
            completeNs = now - t0;
            downtimeNs = now - freezeStartNs;
            targetPid = cr.getTargetPid();
        }
        return now;
    }

    private void commit() {
        phase(SourcePhase.COMMITTING, "target verified the memory digest and restored the process");
        long now = commitCall();
        synchronized (this) {
            trackerCost = tracker.cost();
            metrics.lastSwitchoverCallsNs.set(stateSendNs + completeNs);
        }
        tracker.stop();
        mp.release(true);
        if (!keepSource) {
            onRelease.run();
        }
        metrics.downtime.record(downtimeNs, TimeUnit.NANOSECONDS);
        metrics.totalTime.record(now - startNs, TimeUnit.NANOSECONDS);
        metrics.succeeded.increment();
        metrics.roundsPerMigration.record(rounds().size());
        recordTrackerCost();
        synchronized (this) {
            endMillis = System.currentTimeMillis();
        }
        phase(SourcePhase.COMPLETED, String.format("downtime %.1f ms, %d rounds", downtimeNs / 1e6, rounds().size()));
    }

    /**
     * Commit, sent again while the target cannot be reached (a link cut between Switchover and
     * Commit, or an answer lost on the way back): the target resumes the process once and answers
     * a repeated Commit as it answered the first, so sending it again is safe. A refusal is final
     * and means the target does not run the process (the caller thaws the source). Unreachable for
     * the whole RPC timeout: the outcome is unknown, and the source stays frozen so the process
     * never runs twice.
     */
    private CommitResponse commitUntilAnswered() {
        CommitRequest req = CommitRequest.newBuilder().setMigrationId(id).setLeavePaused(leavePaused).build();
        long start = nanoTime.getAsLong();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(settings.rpcTimeoutMs());
        long backoffMs = COMMIT_RETRY_FIRST_MS;
        for (int attempt = 1; ; attempt++) {
            Status failed;
            try {
                if (settings.faults().fireCounted(FaultPoint.FAIL_COMMIT_CALLS)) {
                    throw Status.UNAVAILABLE.withDescription("the Commit call did not reach the target (fault point "
                            + "fail-commit-calls)").asRuntimeException();
                }
                long leftMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - nanoTime.getAsLong()));
                CommitResponse cr = blocking.withDeadlineAfter(leftMs, TimeUnit.MILLISECONDS).commit(req);
                if (attempt > 1) {
                    LOG.info("migration {}: Commit answered on attempt {}", id, attempt);
                }
                return cr;
            } catch (StatusRuntimeException e) {
                failed = e.getStatus();
                if (!COMMIT_RETRIED.contains(failed.getCode())) {
                    throw new MigrationException(FailureKind.ofTargetCall(failed.getCode()), failed, "migration " + id
                            + ": target " + target + " refused Commit: " + describe(failed), e);
                }
                long now = nanoTime.getAsLong();
                if (now + TimeUnit.MILLISECONDS.toNanos(backoffMs) >= deadline) {
                    commitUnknown = true;
                    throw new MigrationException(FailureKind.COMMIT_UNKNOWN, failed, "migration " + id
                            + ": commit outcome unknown, target " + target + " unreachable for "
                            + TimeUnit.NANOSECONDS.toMillis(now - start) + " ms over " + attempt + " Commit attempts ("
                            + describe(failed) + "); the source process " + mp.pid()
                            + " stays frozen so it never runs twice; inspect the target, then kill or thaw", e);
                }
                LOG.warn("migration {}: Commit attempt {} failed ({}); sending it again in {} ms", id, attempt,
                        describe(failed), backoffMs);
            }
            try {
                Thread.sleep(backoffMs);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                commitUnknown = true;
                throw new MigrationException(FailureKind.COMMIT_UNKNOWN, failed, "migration " + id
                        + ": interrupted resending Commit; its outcome is unknown and the source process " + mp.pid()
                        + " stays frozen", ie);
            }
            backoffMs = Math.min(backoffMs * 2, COMMIT_RETRY_MAX_MS);
        }
    }

    /** Codes that leave a Commit's outcome open (transport trouble); any other answer is the target's word. */
    private static final java.util.Set<Status.Code> COMMIT_RETRIED = java.util.EnumSet.of(Status.Code.UNAVAILABLE,
            Status.Code.DEADLINE_EXCEEDED, Status.Code.UNKNOWN);
    private static final long COMMIT_RETRY_FIRST_MS = 50;
    private static final long COMMIT_RETRY_MAX_MS = 2_000;

    private boolean commitUnknown;

    private synchronized boolean postcopyCommittedNow() {
        return postcopyCommitted;
    }

    // --- rounds -----------------------------------------------------------------------------------

    private record RoundResult(long startNs, long durationNs, long normalPages, long zeroPages, long unmappedBytes,
            long pageBytes, long wireBytes) {
    }

    private RoundResult sendRound(int round, LayoutSpec roundLayout, boolean finalRound) throws InterruptedException {
        BulkStream b = bulk;
        b.markProgress();
        long t0 = nanoTime.getAsLong();
        synchronized (this) {
            currentRound = round;
            roundPagesSent = 0;
        }
        long ackTimeout = settings.ackTimeoutNanos();
        b.send(TransferRequest.newBuilder().setRoundBegin(RoundBegin.newBuilder().setMigrationId(id).setRound(round)
                .setLayout(LayoutWire.toWire(roundLayout)).setFinal(finalRound)).build(), -1, null, null, window, ackTimeout,
                this::checkCancelled);
        for (dev.pagehop.xfer.LayoutPlan.Op op : dev.pagehop.xfer.LayoutPlan.plan(digestLayout.vmas(), roundLayout.vmas())) {
            switch (op) {
                case dev.pagehop.xfer.LayoutPlan.Unmap u -> sentDigest.remove(u.start(), u.end());
                case dev.pagehop.xfer.LayoutPlan.Map m -> sentDigest.remove(m.vma().start(), m.vma().end());
            }
        }
        digestLayout = roundLayout;
        long firstSeq = nextSequence;
        long pages = 0;
        long normal = 0;
        long zero = 0;
        long unmapped = 0;
        long wire = 0;
        for (PageRange u : unmappedToSend) {
            Chunk c = ChunkEncoder.range(id, round, nextSequence, ChunkKind.CHUNK_KIND_UNMAPPED, u.start(), u.lengthBytes());
            sentDigest.apply(c);
            wire += c.getSerializedSize();
            unmapped += u.lengthBytes();
            sendChunk(b, c, null, null);
            synchronized (this) {
                transferredBytes += c.getSerializedSize();
            }
            metrics.dataProcessedBytes.increment(c.getSerializedSize());
        }
        unmappedToSend = List.of();
        MemoryManager mm = mp.process.mm();
        Iterator<ChunkSpec> it = Partitioner.chunks(pending.snapshot(), pageSize, policy.chunkBytes());
        long paceStart = nanoTime.getAsLong();
        int chunkBufferBytes = Math.toIntExact(Partitioner.chunkBytes(policy.chunkBytes(), pageSize));
        long encodeNs = 0;
        long sendNs = 0;
        long pacedBytes = 0;
        while (it.hasNext()) {
            ChunkSpec spec = it.next();
            ChunkEncoder.Encoded e;
            byte[] buffer;
            long e0 = nanoTime.getAsLong();
            try {
                buffer = b.buffer(chunkBufferBytes);
                e = ChunkEncoder.pages(id, round, nextSequence, spec, mm::peek, buffer);
                encodeNs += nanoTime.getAsLong() - e0;
            } catch (ErrnoException | IllegalArgumentException gone) {
                if (finalRound) {
                    throw gone;
                }
                // The running process unmapped the range since the layout was read; its pages stay
                // pending and the next round's layout drops them.
                LOG.debug("migration {}: round {} skips [0x{}, 0x{}): {}", id, round, Long.toHexString(spec.address()),
                        Long.toHexString(spec.end()), gone.getMessage());
                continue;
            }
            Chunk c = e.chunk();
            if (policy.verifyDigest()) {
                sentDigest.apply(c);
            }
            pages += spec.pageCount();
            normal += e.normalPages();
            zero += e.zeroPages();
            wire += c.getSerializedSize();
            long s0 = nanoTime.getAsLong();
            sendChunk(b, c, spec, buffer);
            sendNs += nanoTime.getAsLong() - s0;
            // No branch on finalRound in this loop: compiled from the pre-copy rounds, where it
            // is never true, the loop would hit an uncommon trap on the final round's first chunk
            // and finish the round deoptimised, inside the downtime (it made the final round run
            // at half the previous round's rate). The split is booked after the loop.
            synchronized (this) {
                roundPagesSent += spec.pageCount();
                transferredBytes += c.getSerializedSize();
            }
            metrics.dataProcessedBytes.increment(c.getSerializedSize());
            pacedBytes += c.getSerializedSize();
            pace(paceStart, pacedBytes);
        }
        b.send(TransferRequest.newBuilder().setRoundEnd(RoundEnd.newBuilder().setMigrationId(id).setRound(round)
                .setFirstSequence(firstSeq).setNextSequence(nextSequence).setPageCount(pages)).build(), -1, null,
                null, window, ackTimeout, this::checkCancelled);
        long a0 = nanoTime.getAsLong();
        b.awaitRound(round, ackTimeout, this::checkCancelled);
        long duration = nanoTime.getAsLong() - t0;
        LOG.debug("migration {}: round {}: {} ms reading and encoding, {} ms handing chunks to the stream, {} ms "
                + "waiting for the last acknowledgments; sends waited: {}", id, round, encodeNs / 1_000_000,
                sendNs / 1_000_000, (nanoTime.getAsLong() - a0) / 1_000_000, b.waitCounts());
        metrics.normalPages.increment(normal);
        metrics.zeroPages.increment(zero);
        metrics.rounds.increment();
        synchronized (this) {
            normalPages += normal;
            zeroPages += zero;
            if (finalRound) {
                downtimeBytes += wire;
            } else {
                precopyBytes += wire;
            }
        }
        return new RoundResult(t0, duration, normal, zero, unmapped, pages * pageSize, wire);
    }

    private void sendChunk(BulkStream b, Chunk c, ChunkSpec spec, byte[] buffer) throws InterruptedException {
        long seq = nextSequence++;
        FaultInjector faults = settings.faults();
        if (faults.fireIfEquals(FaultPoint.CORRUPT_CHUNK, seq)) {
            if (c.getData().isEmpty()) {
                // A record without payload (zero run, unmapped range): the bit flips in its header.
                c = c.toBuilder().setAddress(c.getAddress() ^ pageSize).build();
            } else {
                byte[] data = c.getData().toByteArray();
                data[data.length / 2] ^= 0x01;
                c = c.toBuilder().setData(ByteString.copyFrom(data)).build();
            }
            LOG.warn("migration {}: fault point corrupt-chunk flipped a bit of chunk {}", id, seq);
        }
        if (faults.fireIfEquals(FaultPoint.DROP_CHUNK, seq)) {
            LOG.warn("migration {}: fault point drop-chunk dropped chunk {}", id, seq);
            b.skip(seq, spec, buffer);
            return;
        }
        b.send(TransferRequest.newBuilder().setChunk(c).build(), seq, spec, buffer, window, settings.ackTimeoutNanos(),
                this::checkCancelled);
        if (faults.fireIfReached(FaultPoint.CUT_STREAM_AFTER_CHUNKS, seq + 1)) {
            LOG.warn("migration {}: fault point cut-stream-after-chunks cut the bulk stream after chunk {}", id, seq);
            b.cancel("fault point cut-stream-after-chunks");
        }
    }

    /** Holds the stream to the policy's bandwidth cap (QEMU max-bandwidth) by pacing sends. */
    private void pace(long since, long bytes) {
        long cap = policy.maxBandwidthBytesPerSec();
        if (cap <= 0) {
            return;
        }
        long due = since + (long) (bytes * 1e9 / cap);
        long now;
        while ((now = nanoTime.getAsLong()) < due) {
            checkCancelled();
            LockSupport.parkNanos(Math.min(due - now, TimeUnit.MILLISECONDS.toNanos(50)));
        }
    }

    /**
     * Folds a collect into the pending set: written pages join it; pages no longer mapped leave
     * it and are sent as UNMAPPED records next round; a range unmapped and mapped anew is sent
     * whole again, since the new mapping's pages must read as zero where untouched.
     */
    private void applyDirty(DirtySet ds, LayoutSpec next) {
        PageRangeSet gone = PageRangeSet.of(pageSize, ds.unmapped());
        PageRangeSet remapped = gone.intersect(next.ranges());
        PageRangeSet notMapped = gone.copy();
        notMapped.removeAll(remapped.toList());
        // Ranges reported gone earlier but not yet sent as such may be mapped again by now.
        PageRangeSet earlier = PageRangeSet.of(pageSize, unmappedToSend);
        pending.add(ds.written());
        pending.add(remapped.toList());
        pending.add(earlier.intersect(next.ranges()).toList());
        // Whatever the target will map afresh (a new VMA, an mremap destination, a changed backing)
        // starts as zeros there, so all of it is sent, whatever the tracker reported: a move keeps
        // the pages' tracking state and may not read as written at its new address.
        for (dev.pagehop.xfer.LayoutPlan.Op op : dev.pagehop.xfer.LayoutPlan.plan(layout.vmas(), next.vmas())) {
            if (op instanceof dev.pagehop.xfer.LayoutPlan.Map m) {
                pending.add(List.of(new PageRange(m.vma().start(), m.vma().end())));
            }
        }
        pending.retainWithin(next.ranges());
        PageRangeSet send = earlier;
        send.addAll(notMapped);
        send.removeAll(next.ranges());
        unmappedToSend = send.toList();
        layout = next;
    }

    private Decision decide() {
        long now = nanoTime.getAsLong();
        BulkStream b = bulk;
        List<RoundStats> stats = new ArrayList<>();
        long transferred;
        int thr;
        synchronized (this) {
            for (Round r : rounds) {
                stats.add(r.stats());
            }
            transferred = transferredBytes;
            thr = throttle;
        }
        Decision d = Convergence.decide(policy, stats, pending.bytes(), pageSize, memoryBytes(), transferred,
                now - startNs, b == null ? 0 : now - b.lastProgressNanos(), thr, switchoverFixedNs(stats));
        synchronized (this) {
            lastDecision = d;
        }
        if (d.throttlePercent() != thr) {
            setThrottle(d.throttlePercent());
        }
        return d;
    }

    /**
     * What the switchover will cost beyond streaming the pending pages: the final collect (as
     * long as the last one), freezing and capturing the CPU state and image
     * (FREEZE_AND_IMAGE_NS), and the Switchover and Commit calls (the target's protections,
     * restore and digest compare, then the resume): as long as they took in this agent's last
     * completed pre-copy migration, or DEFAULT_SWITCHOVER_CALLS_NS before the first.
     */
    private long switchoverFixedNs(List<RoundStats> stats) {
        long collect = stats.isEmpty() ? 0 : stats.getLast().collectNs();
        long calls = metrics.lastSwitchoverCallsNs.get();
        return collect + FREEZE_AND_IMAGE_NS + (calls < 0 ? DEFAULT_SWITCHOVER_CALLS_NS : calls);
    }

    /**
     * Freeze plus CPU state and process image capture, 4 ms: 1.5–2.6 ms + 1.2–1.6 ms measured for
     * a one-thread 1 GiB process (BENCHMARKS.md, hot-set migration), rounded up.
     */
    static final long FREEZE_AND_IMAGE_NS = TimeUnit.MILLISECONDS.toNanos(4);

    /**
     * Switchover plus Commit before this agent has measured them: 60 ms, the 44 + 13 ms measured
     * for a one-thread 1 GiB process on a loaded 2-core machine (BENCHMARKS.md), rounded up.
     */
    static final long DEFAULT_SWITCHOVER_CALLS_NS = TimeUnit.MILLISECONDS.toNanos(60);

    private void setThrottle(int percent) {
        mp.process.setThrottlePercent(percent);
        synchronized (this) {
            throttle = percent;
        }
        metrics.throttlePercent.set(percent);
    }

    private void report(RoundStats rs, Decision d) {
        metrics.remainingBytes.set(remainingBytes());
        metrics.dirtyRateBytes.set(rs.dirtyRateBytesPerSec());
        metrics.transferRateBytes.set(rs.bandwidthBytesPerSec());
        metrics.expectedDowntimeMs.set(Math.max(0, d.expectedDowntimeMs()));
        LOG.info("migration {}: round {} sent {} pages ({} zero) in {} ms, {} bytes dirty after; {}", id, rs.round(),
                rs.normalPages() + rs.zeroPages(), rs.zeroPages(), rs.durationNs() / 1_000_000, rs.dirtyBytesAfter(), d);
        notifyListeners();
    }

    // --- ending -----------------------------------------------------------------------------------

    private void end(Throwable t) {
        boolean cancelled = cancelRequested && !(t instanceof MigrationException me && me.status().getCode()
                != Status.Code.CANCELLED);
        Status status = t instanceof MigrationException me ? me.status() : Status.INTERNAL;
        String message = t instanceof MigrationException ? t.getMessage() : "migration " + id + ": internal error: " + t;
        if (!(t instanceof MigrationException)) {
            LOG.error("migration {} failed", id, t);
        }
        BulkStream b = bulk;
        if (b != null) {
            b.cancel(cancelled ? "cancelled" : "failed");
        }
        if (!commitUnknown && !postcopyCommittedNow()) {
            try {
                blocking.withDeadlineAfter(Math.min(5_000, settings.rpcTimeoutMs()), TimeUnit.MILLISECONDS)
                        .abort(AbortRequest.newBuilder().setMigrationId(id).setReason(message).build());
            } catch (StatusRuntimeException ignored) {
                // The target may be the thing that failed; it discards on its own when the stream breaks.
            }
        }
        if (tracker != null) {
            try {
                synchronized (this) {
                    trackerCost = tracker.cost();
                }
                tracker.stop();
            } catch (RuntimeException e) {
                LOG.warn("migration {}: stopping the tracker failed", id, e);
            }
        }
        if (mp.process.throttlePercent() != 0) {
            setThrottle(0);
        }
        boolean movedAway;
        synchronized (this) {
            movedAway = postcopyCommitted;
        }
        if (frozen && !commitUnknown && !movedAway && mp.process.state() == ProcessState.FROZEN) {
            mp.process.thaw();
            frozen = false;
        }
        // After a post-copy commit the process lives on the target: never run or migrate this copy again.
        mp.release(movedAway);
        recordTrackerCost();
        FailureKind kind = cancelled ? FailureKind.CANCELLED
                : t instanceof MigrationException me ? me.kind() : FailureKind.SOURCE_ERROR;
        synchronized (this) {
            failure = message;
            failureKind = kind;
            failureStatus = cancelled ? Status.CANCELLED : status;
            endMillis = System.currentTimeMillis();
        }
        if (cancelled) {
            metrics.cancelled.increment();
            phase(SourcePhase.CANCELLED, message);
        } else {
            metrics.failed.increment();
            phase(SourcePhase.FAILED, message);
        }
    }

    private void recordTrackerCost() {
        TrackerCost c = trackerCost();
        if (c != null) {
            metrics.trackerTrapNanos.increment(c.trapNanos());
            metrics.trackerCollectNanos.increment(c.collectNanos());
        }
    }

    /** Asks the migration to stop; false if it is past the point where cancelling is possible. */
    boolean cancel() {
        synchronized (this) {
            if (!phase.cancellable()) {
                return false;
            }
            cancelRequested = true;
        }
        BulkStream b = bulk;
        if (b != null) {
            b.cancel("cancelled by the user");
        }
        return true;
    }

    private void checkCancelled() {
        if (cancelRequested) {
            throw new MigrationException(FailureKind.CANCELLED, Status.CANCELLED, "migration " + id
                    + " cancelled by the user in " + phase() + " (round " + currentRound() + ")");
        }
    }

    private WriterFreeze writerFreeze() {
        // Soft-dirty reads and clears in two steps, so it needs the writers stopped between them;
        // in the final round the process is already frozen.
        return () -> {
            if (mp.process.state() == ProcessState.FROZEN) {
                return () -> { };
            }
            mp.process.freeze();
            return mp.process::thaw;
        };
    }

    private void phase(SourcePhase next, String why) {
        synchronized (this) {
            phase = phase.checkTransition(next, id);
        }
        LOG.info("migration {}: source phase {} ({})", id, next, why);
        notifyListeners();
    }

    void addListener(Consumer<SourceMigration> l) {
        listeners.add(l);
    }

    void removeListener(Consumer<SourceMigration> l) {
        listeners.remove(l);
    }

    private void notifyListeners() {
        for (Consumer<SourceMigration> l : listeners) {
            try {
                l.accept(this);
            } catch (RuntimeException e) {
                LOG.warn("migration {}: a watcher failed", id, e);
            }
        }
    }

    private static String describe(Status s) {
        return s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription())
                + TlsFailures.describe(s, "the target", "this source agent's certificate").map(tls -> " (" + tls + ")").orElse("");
    }

    // --- snapshots for the control service -----------------------------------------------------------

    synchronized SourcePhase phase() {
        return phase;
    }

    synchronized String failure() {
        return failure;
    }

    synchronized Status failureStatus() {
        return failureStatus;
    }

    synchronized List<Round> rounds() {
        return new ArrayList<>(rounds);
    }

    synchronized Decision lastDecision() {
        return lastDecision;
    }

    synchronized int currentRound() {
        return currentRound;
    }

    synchronized long memoryBytes() {
        return memoryBytes;
    }

    synchronized long remainingBytes() {
        return remainingBytes;
    }

    synchronized int throttlePercent() {
        return throttle;
    }

    synchronized TrackerCost trackerCost() {
        return trackerCost;
    }

    /** A consistent copy of the statistics, for GetMigration, Watch and the report. */
    synchronized Snapshot snapshot() {
        long now = nanoTime.getAsLong();
        long totalNs = endMillis == 0 ? now - startNs : (endMillis - startMillis) * 1_000_000L;
        PostcopyProgress pc = postcopyProgress;
        dev.pagehop.proto.types.v1.PostcopyStats postcopy = pc == null ? null : pc.stats();
        long pcBytes = pc == null ? postcopyBytes : postcopy.getSourceBytes();
        long pcNs = postcopyNs != 0 || postcopyStartNs == 0 ? postcopyNs : now - postcopyStartNs;
        return new Snapshot(id, mp.pid(), target, policy, trackerName, phase, failure, failureKind,
                new ArrayList<>(rounds), lastDecision, transferredBytes, precopyBytes, downtimeBytes, normalPages, zeroPages,
                liveRemainingBytes(postcopy),
                memoryBytes, pageSize, throttle, currentRound, roundPagesSent, startMillis, endMillis, totalNs, setupNs,
                downtimeNs, freezeNs, finalRoundNs, stateCaptureNs, stateSendNs, completeNs, sourceDigest.clone(),
                targetDigest.clone(), tracker == null ? trackerCost : (phase.terminal() ? trackerCost : tracker.cost()),
                targetPid, postcopy, pcBytes, pcNs);
    }

    /**
     * What is still to send, as of now: while a round streams, the pending set shrinks as the
     * target acknowledges chunks (so progress moves within a round, not only at its end); in
     * post-copy, the pages the target last said it still misses.
     */
    private long liveRemainingBytes(dev.pagehop.proto.types.v1.PostcopyStats postcopy) {
        if (postcopy != null && postcopy.getPagesMissingAtStart() > 0) {
            return postcopy.getPagesMissing() * pageSize;
        }
        PendingPages p = pending;
        // A switch to post-copy empties the pending set (the pages stay missing on the target):
        // until the target reports, the last round's figure stands.
        boolean stopAndCopy = phase == SourcePhase.STOP_AND_COPY && lastDecision != null
                && lastDecision.action() == Decision.Action.SWITCHOVER;
        if (p != null && (phase == SourcePhase.ITERATING || stopAndCopy) && postcopyProgress == null) {
            return p.bytes();
        }
        return remainingBytes;
    }

    record Snapshot(String id, int pid, String target, MigrationPolicy policy, String tracker, SourcePhase phase,
            String failure, FailureKind failureKind, List<Round> rounds, Decision lastDecision, long transferredBytes,
            long precopyBytes, long downtimeBytes, long normalPages, long zeroPages, long remainingBytes, long memoryBytes, long pageSize,
            int throttlePercent, int currentRound, long roundPagesSent, long startMillis, long endMillis, long totalNs,
            long setupNs, long downtimeNs, long freezeNs, long finalRoundNs, long stateCaptureNs, long stateSendNs,
            long completeNs, byte[] sourceDigest, byte[] targetDigest, TrackerCost trackerCost, int targetPid,
            dev.pagehop.proto.types.v1.PostcopyStats postcopy, long postcopyBytes, long postcopyNs) {
    }
}
