package dev.pagehop.bench.migrate;

import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.mm.Prot;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.ProcessOptions;
import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.MigrationStats;
import dev.pagehop.proto.control.v1.RoundStats;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.types.v1.MigrationMode;
import dev.pagehop.proto.types.v1.SourcePhase;
import dev.pagehop.proto.types.v1.Tracker;
import dev.pagehop.source.SourceAgentServer;
import dev.pagehop.target.TargetAgentServer;
import dev.pagehop.workload.RateLimit;
import dev.pagehop.workload.WorkloadSpec;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The migration scenario runner (not JMH: one migration is one measurement, seconds long).
 *
 * <pre>
 *   stream  [MiB]           page streaming over loopback TCP vs raw TCP loopback, same run
 *   hotset  [MiB] [hot%] [rate MB/s] [limit ms] [nodigest]   a hot-set (zipf) process migrated pre-copy
 * </pre>
 *
 * Both agents run in this JVM with real Netty servers on 127.0.0.1, so the bytes cross the
 * kernel's loopback exactly as between two agent processes.
 */
public final class MigrationBench {
    private static final int WINDOW = 32 << 20;
    /** Warm-up migrations at least, and at most (see the warm-up loop for why a range). */
    private static final int WARMUP_MIGRATIONS = Integer.getInteger("pagehop.bench.warmups", 8);
    private static final int MAX_WARMUP_MIGRATIONS = Math.max(WARMUP_MIGRATIONS,
            Integer.getInteger("pagehop.bench.maxWarmups", 40));
    /** The JIT counts as settled once a warm-up migration spends less than this share of its CPU compiling. */
    private static final double JIT_SETTLED_SHARE = 0.03;
    /** Runs of the bare gRPC stream before it is measured: about where its JIT settles here. */
    private static final int BARE_GRPC_WARMUPS = 16;
    /** Measured migrations of the stream scenario; the report gives the best and the median. */
    private static final int MEASURED_MIGRATIONS = Integer.getInteger("pagehop.bench.iterations", 3);

    private MigrationBench() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "stream";
        switch (mode) {
            case "stream" -> stream(args.length > 1 ? Long.parseLong(args[1]) : 512,
                    args.length > 2 ? Integer.parseInt(args[2]) : 256 * 1024, args.length > 3 ? Integer.parseInt(args[3]) : 16);
            case "hotset" -> hotset(args.length > 1 ? Long.parseLong(args[1]) : 1024,
                    args.length > 2 ? Double.parseDouble(args[2]) : 5,
                    args.length > 3 ? Double.parseDouble(args[3]) : 50,
                    args.length > 4 ? Long.parseLong(args[4]) : 300,
                    args.length > 5 && args[5].equals("nodigest"));
            default -> {
                System.err.println("usage: MigrationBench stream [MiB] | hotset [MiB] [hot%] [rate MB/s] [limit ms]");
                System.exit(2);
            }
        }
        System.exit(0);
    }

    /** Agents on loopback TCP; returns after both serve. */
    private record Agents(TargetAgentServer target, SourceAgentServer source, ManagedChannel control)
            implements AutoCloseable {
        static Agents start() throws IOException {
            TargetAgentServer t = new TargetAgentServer(NettyServerBuilder.forAddress(
                    new InetSocketAddress("127.0.0.1", 0)).flowControlWindow(WINDOW).maxInboundMessageSize(32 << 20),
                    new TargetAgentServer.Options("bench-target", 8L << 30, 2, new FaultInjector(), () -> { },
                            System::nanoTime, "127.0.0.1", -1, 5000));
            SourceAgentServer s = new SourceAgentServer(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
                    target -> NettyChannelBuilder.forTarget(target).usePlaintext().flowControlWindow(WINDOW)
                            .maxInboundMessageSize(32 << 20).build(),
                    SourceAgentServer.defaultOptions("bench-source"));
            ManagedChannel c = NettyChannelBuilder.forTarget("127.0.0.1:" + s.port()).usePlaintext().build();
            return new Agents(t, s, c);
        }

        @Override
        public void close() {
            control.shutdownNow();
            source.close();
            target.close();
        }
    }

    /** A process of {@code mib} MiB of heap, every page filled with non-repeating bytes. */
    private static EmulatedProcess filledProcess(int pid, long mib, WorkloadSpec spec, RateLimit rate) {
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
        long pages = mib * 256;
        EmulatedProcess p = EmulatedProcess.spawn(pid, mm, spec.with("pagesPerThread", pages), 1,
                ProcessOptions.defaults().withRate(rate));
        SplittableRandom r = new SplittableRandom(42);
        byte[] page = new byte[4096];
        for (VmaInfo v : mm.vmas()) {
            if ((v.prot() & Prot.WRITE) == 0 || v.length() < (1 << 20)) {
                continue;
            }
            for (long a = v.start() + 4096; a < v.end(); a += 4096) {
                for (int i = 0; i < 4096; i += 8) {
                    long x = r.nextLong();
                    for (int b = 0; b < 8; b++) {
                        page[i + b] = (byte) (x >>> (8 * b));
                    }
                }
                mm.write(a, page);
            }
        }
        return p;
    }

    /**
     * Ends the process the target received, freeing its memory: the runner would otherwise hold
     * every warm-up's memory, and later migrations would run against a growing heap of frames.
     */
    private static void killReceived(Agents a, int pid) {
        ManagedChannel c = NettyChannelBuilder.forTarget("127.0.0.1:" + a.target().port()).usePlaintext().build();
        try {
            AgentControlGrpc.newBlockingStub(c).killProcess(dev.pagehop.proto.control.v1.KillProcessRequest.newBuilder()
                    .setPid(pid).build());
        } finally {
            c.shutdownNow();
        }
    }

    private static MigrationInfo run(Agents a, int pid, MigrationPolicy policy) {
        AgentControlGrpc.AgentControlBlockingStub stub = AgentControlGrpc.newBlockingStub(a.control());
        String id = stub.startMigration(StartMigrationRequest.newBuilder().setPid(pid)
                .setTarget("127.0.0.1:" + a.target().port()).setMode(MigrationMode.MIGRATION_MODE_PRECOPY)
                .setTracker(Tracker.TRACKER_UFFD_WP_ASYNC).setPolicy(policy).build()).getMigrationId();
        while (true) {
            MigrationInfo i = stub.getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build());
            if (i.getSourcePhase() == SourcePhase.SOURCE_PHASE_COMPLETED
                    || i.getSourcePhase() == SourcePhase.SOURCE_PHASE_FAILED
                    || i.getSourcePhase() == SourcePhase.SOURCE_PHASE_CANCELLED) {
                return i;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return i;
            }
        }
    }

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static void stream(long mib, int chunkBytes, int window) throws Exception {
        long rawBytes = Math.max(mib, 256) << 20;
        long c0 = cpuNanos();
        double rawBefore = rawTcp(rawBytes);
        double rawCpuPerGb = (cpuNanos() - c0) / 1e9 / (rawBytes / 1e9);
        double[] pagesMBs = new double[MEASURED_MIGRATIONS];
        double[] cpuPerGb = new double[MEASURED_MIGRATIONS];
        double[] cpuPerGbNoJit = new double[MEASURED_MIGRATIONS];
        try (Agents a = Agents.start()) {
            // Warm-up: migrations of 128 MiB through the same agents until the JIT has compiled
            // the path, so the measured ones run compiled code (as JMH's warm-up iterations do;
            // agents are long-lived, so a cold JIT is not what they run with). A fixed count was
            // not enough: with 8 warm-ups the C2 compiler still took 100-250 ms of CPU in each
            // measured migration (and over a second on a loaded machine, where the compile queue
            // drains slowly). So after the minimum, warm-ups go on until one of them leaves the
            // compilers nearly idle. They alternate 64 KiB chunks (the per-message paths: HTTP/2
            // frames, parse, acknowledgments run often) with the measured chunk size (buffers of
            // that size, messages spanning several socket reads).
            int warmups = 0;
            for (int i = 0; i < MAX_WARMUP_MIGRATIONS; i++) {
                EmulatedProcess w = filledProcess(1000 + i, 128, WorkloadSpec.of("idle", 1), null);
                w.start();
                int pid = a.source().adopt(w, Granule.K4, 128 << 20);
                long jit0 = compilerTicks(threadCpuTicks());
                long cpu0 = cpuNanos();
                run(a, pid, MigrationPolicy.newBuilder()
                        .setChunkBytes((i & 1) == 0 ? Math.min(chunkBytes, 64 << 10) : chunkBytes)
                        .setMaxChunksInFlight(window).setSkipMemoryDigest(true).build());
                killReceived(a, pid);
                double jitShare = Math.max(0, compilerTicks(threadCpuTicks()) - jit0) * 1e7 / Math.max(1, cpuNanos() - cpu0);
                warmups++;
                if (i + 1 >= WARMUP_MIGRATIONS && jitShare < JIT_SETTLED_SHARE) {
                    break;
                }
            }
            System.out.printf(Locale.ROOT, "warm-up: %d migrations of 128 MiB%n", warmups);
            for (int i = 0; i < MEASURED_MIGRATIONS; i++) {
                EmulatedProcess p = filledProcess(3000 + i, mib, WorkloadSpec.of("idle", 1), null);
                p.start();
                int pid = a.source().adopt(p, Granule.K4, mib << 20);
                System.gc();
                java.util.Map<String, Long> threadsBefore = threadCpuTicks();
                System.out.println("measured migration " + i + ": start");
                long c1 = cpuNanos();
                MigrationInfo info = run(a, pid, MigrationPolicy.newBuilder().setChunkBytes(chunkBytes)
                        .setMaxChunksInFlight(window).setSkipMemoryDigest(true).build());
                long pageCpu = cpuNanos() - c1;
                System.out.println("measured migration " + i + ": end");
                killReceived(a, pid);
                java.util.Map<String, Long> threadsAfter = threadCpuTicks();
                if (System.getenv("PAGEHOP_BENCH_THREADS") != null) {
                    printThreadCpu(threadsBefore, threadsAfter);
                }
                long jitNanos = (compilerTicks(threadsAfter) - compilerTicks(threadsBefore)) * 10_000_000L;
                cpuPerGbNoJit[i] = (pageCpu - jitNanos) / 1e9 / ((mib << 20) / 1e9);
                RoundStats r0 = info.getStats().getPerRound(0);
                pagesMBs[i] = r0.getBandwidthBytesPerSec() / 1e6;
                cpuPerGb[i] = pageCpu / 1e9 / ((mib << 20) / 1e9);
                System.out.printf(Locale.ROOT, "stream %d (chunks of %d bytes, %d in flight): %s; round 0: %d pages (%d zero) "
                        + "in %.1f ms = %.0f MB/s of pages, %.0f MB/s on the wire; %.2f s CPU per GB (whole migration, "
                        + "both agents), %.2f s without the JIT compilers%n", i, chunkBytes, window, info.getSourcePhase(),
                        r0.getNormalPages() + r0.getZeroPages(), r0.getZeroPages(), r0.getDurationNs() / 1e6, pagesMBs[i],
                        r0.getTransferredBytes() / (r0.getDurationNs() / 1e3), cpuPerGb[i], cpuPerGbNoJit[i]);
            }
        }
        double rawAfter = rawTcp(rawBytes);
        double raw = Math.max(rawBefore, rawAfter);
        // gRPC alone, with its own warm-up (its message path differs from the migration's).
        for (int i = 0; i < BARE_GRPC_WARMUPS; i++) {
            BareGrpcStream.run(rawBytes, chunkBytes, window, WINDOW);
        }
        double[] bareMBs = new double[MEASURED_MIGRATIONS];
        double[] bareCpu = new double[MEASURED_MIGRATIONS];
        for (int i = 0; i < MEASURED_MIGRATIONS; i++) {
            BareGrpcStream.Result r = BareGrpcStream.run(rawBytes, chunkBytes, window, WINDOW);
            bareMBs[i] = r.mbPerSec();
            bareCpu[i] = r.cpuSecPerGb();
        }
        java.util.Arrays.sort(bareMBs);
        java.util.Arrays.sort(bareCpu);
        double[] sorted = pagesMBs.clone();
        java.util.Arrays.sort(sorted);
        double best = sorted[sorted.length - 1];
        double median = sorted[sorted.length / 2];
        System.out.printf(Locale.ROOT, "raw TCP loopback: %.0f MB/s before, %.0f MB/s after (best %.0f)%n", rawBefore,
                rawAfter, raw);
        System.out.printf(Locale.ROOT, "ratio: best %.1f %%, median %.1f %% of raw (pagehop best %.0f, median %.0f MB/s "
                + "over %d measured migrations)%n", 100 * best / raw, 100 * median / raw, best, median, MEASURED_MIGRATIONS);
        System.out.printf(Locale.ROOT, "gRPC alone (opaque messages of %d bytes, %d in flight, nothing done with the "
                + "bytes): best %.0f, median %.0f MB/s = %.1f %% of raw (median), %.2f s CPU per GB (median); pagehop "
                + "median = %.1f %% of gRPC alone%n", chunkBytes, window, bareMBs[bareMBs.length - 1],
                bareMBs[bareMBs.length / 2], 100 * bareMBs[bareMBs.length / 2] / raw, bareCpu[bareCpu.length / 2],
                100 * median / bareMBs[bareMBs.length / 2]);
        double[] cpu = cpuPerGb.clone();
        java.util.Arrays.sort(cpu);
        double[] cpuNoJit = cpuPerGbNoJit.clone();
        java.util.Arrays.sort(cpuNoJit);
        System.out.printf(Locale.ROOT, "CPU per GB moved (both ends, this JVM): raw TCP %.2f s, pagehop migration %.2f s "
                + "median (whole migration incl. setup and switchover; %.2f s without the JIT compilers' threads); "
                + "load average %.1f on %d CPUs%n", rawCpuPerGb,
                cpu[cpu.length / 2], cpuNoJit[cpuNoJit.length / 2], java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        .getSystemLoadAverage(), Runtime.getRuntime().availableProcessors());
    }

    /**
     * CPU ticks (utime + stime, /proc/self/task/TID/stat) per thread kind, every thread of the
     * process: unlike ThreadMXBean this includes the JIT compiler and GC threads, and threads
     * that ended count through the per-process remainder.
     */
    private static java.util.Map<String, Long> threadCpuTicks() {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return out;
        }
        for (java.io.File t : tasks) {
            try {
                String comm = java.nio.file.Files.readString(t.toPath().resolve("comm")).trim();
                String stat = java.nio.file.Files.readString(t.toPath().resolve("stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                out.merge(comm.replaceAll("[0-9a-f]{5,}$|#?\\d+$|-\\d+$", ""), ticks, Long::sum);
            } catch (IOException | RuntimeException ignored) {
                // The thread ended while we looked.
            }
        }
        return out;
    }

    /** CPU ticks of the JIT compiler threads (C1, C2) in a {@link #threadCpuTicks()} map. */
    private static long compilerTicks(java.util.Map<String, Long> ticks) {
        long sum = 0;
        for (var e : ticks.entrySet()) {
            if (e.getKey().contains("CompilerThre")) {
                sum += e.getValue();
            }
        }
        return sum;
    }

    private static void printThreadCpu(java.util.Map<String, Long> before, java.util.Map<String, Long> after) {
        long hz = 100;
        after.forEach((k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d > 0) {
                System.out.printf(Locale.ROOT, "  thread %-24s %6d ms%n", k, d * 1000 / hz);
            }
        });
    }

    /** One TCP connection on loopback, 256 KiB writes, reader discarding: MB/s. */
    static double rawTcp(long bytes) throws Exception {
        try (ServerSocket ss = new ServerSocket()) {
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Thread reader = new Thread(() -> {
                try (Socket s = ss.accept(); InputStream in = s.getInputStream()) {
                    byte[] buf = new byte[1 << 20];
                    while (in.read(buf) > 0) {
                        // Discard, as a sink that does nothing with the bytes.
                    }
                } catch (IOException ignored) {
                    // Closed at the end.
                }
            }, "raw-reader");
            reader.start();
            byte[] chunk = new byte[256 * 1024];
            new SplittableRandom(1).nextBytes(chunk);
            long t0;
            long t1;
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort());
                    OutputStream out = s.getOutputStream()) {
                t0 = System.nanoTime();
                for (long sent = 0; sent < bytes; sent += chunk.length) {
                    out.write(chunk);
                }
                out.flush();
                s.shutdownOutput();
                reader.join();
                t1 = System.nanoTime();
            }
            return bytes / ((t1 - t0) / 1e3);
        }
    }

    static void hotset(long mib, double hotPercent, double rateMBs, long limitMs, boolean skipDigest) throws Exception {
        try (Agents a = Agents.start()) {
            long pages = mib * 256;
            long hot = Math.max(1, (long) (pages * hotPercent / 100));
            EmulatedProcess p = filledProcess(2000, mib, WorkloadSpec.of("zipf", 7).with("hotPages", hot)
                    .with("writeBytes", 64), RateLimit.bytesPerSecond(rateMBs * 1e6));
            p.start();
            int pid = a.source().adopt(p, Granule.K4, mib << 20);
            Thread.sleep(1000);
            MigrationInfo info = run(a, pid, MigrationPolicy.newBuilder().setDowntimeLimitMs(limitMs)
                    .setSkipMemoryDigest(skipDigest).build());
            MigrationStats s = info.getStats();
            System.out.printf(Locale.ROOT, "hotset %d MiB, hot set %d pages (%.1f %%), write rate %.0f MB/s, "
                    + "downtime limit %d ms, memory digest %s: %s %s%n", mib, hot, hotPercent, rateMBs, limitMs,
                    skipDigest ? "skipped" : "verified", info.getSourcePhase(),
                    info.getFailure());
            System.out.printf(Locale.ROOT, "rounds %d, total %d ms, setup %d ms, downtime %d ms (limit %d), expected "
                    + "downtime %d ms, transferred %d bytes = %.3f x memory %d, mbps %.0f, throttle %d %%%n",
                    s.getRounds(), s.getTotalTimeMs(), s.getSetupTimeMs(), s.getDowntimeMs(), limitMs,
                    s.getExpectedDowntimeMs(), s.getTransferredBytes(), s.getAmplification(), s.getMemoryBytes(),
                    s.getMbps(), s.getThrottlePercent());
            var d = s.getDowntimeBreakdown();
            System.out.printf(Locale.ROOT, "downtime breakdown: freeze %.2f ms, final round %.1f ms, state capture %.1f ms, "
                    + "state send %.1f ms, complete %.1f ms%n", d.getFreezeNs() / 1e6, d.getFinalRoundNs() / 1e6,
                    d.getStateCaptureNs() / 1e6, d.getStateSendNs() / 1e6, d.getCompleteNs() / 1e6);
            for (RoundStats r : s.getPerRoundList()) {
                System.out.printf(Locale.ROOT, "  round %d%s: %d pages (%d zero) in %.1f ms, %.0f MB/s, dirty after %d "
                        + "pages (%.1f MB/s), expected downtime %d ms, %s %s%n", r.getRound(), r.getFinal() ? " final" : "",
                        r.getNormalPages() + r.getZeroPages(), r.getZeroPages(), r.getDurationNs() / 1e6,
                        r.getBandwidthBytesPerSec() / 1e6, r.getDirtyPagesAfter(), r.getDirtyRateBytesPerSec() / 1e6,
                        r.getExpectedDowntimeMs(), r.getDecision(), r.getDecisionReason().split(":")[0]);
            }
        }
        TimeUnit.MILLISECONDS.sleep(10);
    }
}
