package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.demo.AgentLauncher;
import dev.pagehop.cli.demo.LaunchedAgent;
import dev.pagehop.cli.options.Choices.GranuleChoice;
import dev.pagehop.cli.options.Choices.ModeChoice;
import dev.pagehop.cli.options.Choices.TrackerChoice;
import dev.pagehop.cli.options.Converters;
import dev.pagehop.cli.output.Headline;
import dev.pagehop.cli.output.MigrationSummary;
import dev.pagehop.cli.output.Names;
import dev.pagehop.cli.output.Units;
import dev.pagehop.cli.progress.MigrationFollower;
import dev.pagehop.proto.control.v1.AgentInfo;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.ProcessInspection;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.cli.report.HtmlReport;
import dev.pagehop.cli.report.ReportData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The README's main job, end to end on one machine: a target and a source agent as local
 * processes on loopback ports, a process with a workload, a live migration with the default
 * tracker, the summary, a digest comparison of both agents' copies, and a clean shutdown.
 *
 * <p>The process is left frozen on the target and its frozen source copy is kept, so the two
 * digests compare the same instant: a running process would change its memory between the
 * switchover and the inspection.
 *
 * <p>The defaults are chosen so the demo completes as a user expects, within the default
 * policy's caps (3 × memory sent at most, 30 rounds, the timeouts):
 * <ul>
 *   <li>128 KiB/s of key-value puts. A put writes 80–88 bytes to a random 4K page (and the
 *       table header), so this dirties at most about 1 500 pages a second. The demo's agents
 *       are fresh JVMs, so the link runs cold: 8–20 MiB/s of written pages on the 2-core
 *       development machine. There 128 KiB/s converged in pre-copy after 4 rounds with 97–142 ms
 *       of downtime (quiet machine); 256 KiB/s also converged, but its last round left 4 MiB
 *       for the frozen process and took 314 ms of downtime against the 300 ms limit, and 424 ms
 *       under a load of 9 (BENCHMARKS.md, the demo). 1 MiB/s dirtied 10–30 MiB/s of pages, as
 *       fast as the cold link, and went post-copy; the old 16 MiB/s (190 000 puts a second over
 *       16 384 pages) dirtied every page of the table in every round and converged only after
 *       the auto-converge throttle reached 99 %, having sent 9.66 × memory, which the caps now
 *       forbid.</li>
 *   <li>hybrid mode: the same pre-copy rounds while they converge and, where iterating stops
 *       helping first (a hard cap reached, or the dirty set growing, on a machine so loaded that
 *       the link no longer outruns even that), post-copy instead of an abort, as KubeVirt's allowPostCopy does, or a QEMU user issuing
 *       migrate-start-postcopy when pre-copy stalls. A demo that aborts on a busy machine shows
 *       nothing; {@code --mode precopy} runs the pure pre-copy policy, which aborts there.</li>
 * </ul>
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the local demo: two agents, one live migration, verified.",
                "Starts a target and a source agent on loopback ports, spawns a process with a workload, live-migrate it with the default tracker showing progress and the",
                "summary, verify the memory digest on the target against the source's, and stop both agents."})
final class DemoCommand implements Callable<Integer> {

    @ParentCommand
    Pagehop root;

    @Spec
    CommandSpec spec;

    @Option(names = {"-w", "--workload"}, defaultValue = "kv",
            description = "Workload to migrate (default ${DEFAULT-VALUE}: a self-checking key-value table).")
    String workload;

    @Option(names = {"-M", "--memory"}, paramLabel = "SIZE", defaultValue = "64MiB", converter = Converters.Size.class,
            description = "Memory of the workload (default ${DEFAULT-VALUE}).")
    long memoryBytes;

    @Option(names = "--write-rate", paramLabel = "RATE", defaultValue = "128KiB/s", converter = Converters.Rate.class,
            description = "How fast the workload writes, so pre-copy has dirty pages to chase (default ${DEFAULT-VALUE}).")
    long writeRate;

    @Option(names = {"-g", "--granule"}, defaultValue = "4k", description = "Granule: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    GranuleChoice granule;

    @Option(names = "--tracker", defaultValue = "uffd-wp-async",
            description = "Dirty tracker: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    TrackerChoice tracker;

    @Option(names = {"-m", "--mode"}, defaultValue = "hybrid",
            description = {"Mode: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}: pre-copy rounds, then post-copy only if",
                    "they do not converge within the policy's caps; precopy aborts there instead)."})
    ModeChoice mode;

    @Option(names = "--downtime-limit", paramLabel = "DURATION", defaultValue = "300ms", converter = Converters.Millis.class,
            description = "Downtime limit (default ${DEFAULT-VALUE}).")
    long downtimeLimitMs;

    @Option(names = "--call-timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Converters.Millis.class,
            description = "Deadline of each call to an agent (default ${DEFAULT-VALUE}).")
    long callTimeoutMs;

    @Option(names = "--report", paramLabel = "FILE",
            description = "Where to write the HTML report of the migration (default: a new file in the temp directory).")
    Path report;

    @Mixin
    ProgressOptions progress;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        CliContext ctx = root.context();
        List<LaunchedAgent> started = new ArrayList<>();
        out.println("pagehop demo: live migration of an emulated arm64 process between two local agents");
        out.flush();
        try {
            LaunchedAgent target = start(ctx.launcher(), AgentLauncher.Role.TARGET, "demo-target", started, out);
            LaunchedAgent source = start(ctx.launcher(), AgentLauncher.Role.SOURCE, "demo-source", started, out);
            try (AgentClient src = new AgentClient("source agent", source.address(), ctx.channels(), callTimeoutMs);
                 AgentClient tgt = new AgentClient("target agent", target.address(), ctx.channels(), callTimeoutMs)) {
                return run(out, src, tgt, target);
            }
        } finally {
            out.print("stopping agents:");
            for (int i = started.size() - 1; i >= 0; i--) {
                LaunchedAgent a = started.get(i);
                out.print(" " + a.address() + " " + a.stop() + (i > 0 ? "," : ""));
            }
            out.println();
            out.flush();
        }
    }

    private LaunchedAgent start(AgentLauncher launcher, AgentLauncher.Role role, String name, List<LaunchedAgent> started,
            PrintWriter out) {
        out.print("  starting " + role.label() + " ... ");
        out.flush();
        LaunchedAgent a;
        try {
            a = launcher.start(role, name);
        } catch (IOException e) {
            out.println("failed");
            throw new CliFailure(ExitCode.UNREACHABLE, "demo: could not start the " + role.label() + ": " + e.getMessage(), e);
        }
        started.add(a);
        try (AgentClient c = new AgentClient(role.label(), a.address(), root.context().channels(), callTimeoutMs)) {
            AgentInfo info = c.awaitInfo(callTimeoutMs);
            out.println("ready on " + a.address() + " (" + Names.of(info.getRole()) + " '" + info.getName() + "', version "
                    + info.getVersion() + ", protocol " + info.getProtocolVersion() + "; " + a.where() + ")");
        }
        out.flush();
        return a;
    }

    private Path writeReport(MigrationInfo end) {
        try {
            Path page = report != null ? report : Files.createTempFile("pagehop-demo-report-", ".html");
            Files.writeString(page, HtmlReport.render(ReportData.of(end), Instant.now()).html(), StandardCharsets.UTF_8);
            return page;
        } catch (IOException e) {
            throw new CliFailure(ExitCode.FAILED, "demo: cannot write the report: " + e.getMessage(), e);
        }
    }

    private int run(PrintWriter out, AgentClient src, AgentClient tgt, LaunchedAgent target) {
        ProcessInfo p = src.spawn(SpawnRequest.newBuilder().setWorkload(workload).setMemoryBytes(memoryBytes)
                .setGranule(granule.wire()).setSeed(1).setThreads(1).setWriteRateBytesPerSec(writeRate).build());
        out.println("spawned pid " + p.getPid() + " on the source: " + p.getWorkload() + ", " + Units.bytes(p.getMemoryBytes())
                + ", " + Names.of(p.getGranule()) + " pages, writing " + Units.rate(writeRate));
        out.println("migrating pid " + p.getPid() + " → " + target.address() + " (" + mode + ", " + tracker
                + ", downtime limit " + downtimeLimitMs + " ms)");
        out.flush();

        MigrationInfo started = src.startMigration(StartMigrationRequest.newBuilder()
                .setPid(p.getPid()).setTarget(target.address().toString()).setMode(mode.wire()).setTracker(tracker.wire())
                .setPolicy(MigrationPolicy.newBuilder().setDowntimeLimitMs(downtimeLimitMs))
                .setLeavePausedOnTarget(true).setKeepSource(true).build());
        MigrationInfo end = MigrationFollower.follow(src, started.getMigrationId(), progress.intervalMs,
                progress.view(root.context(), out, spec.commandLine().getErr(), false));
        out.println();
        MigrationSummary.print(out, end);
        out.println();
        MigrateCommand.failIfUnsuccessful(end);

        ProcessInspection onTarget = tgt.inspect(end.getPeerPid(), true);
        ProcessInspection onSource = src.inspect(p.getPid(), false);
        String targetDigest = Headline.shortHex(onTarget.getMemoryDigest().toByteArray());
        String sourceDigest = Headline.shortHex(onSource.getMemoryDigest().toByteArray());
        boolean match = !onTarget.getMemoryDigest().isEmpty()
                && onTarget.getMemoryDigest().equals(onSource.getMemoryDigest());
        out.println("verify: target pid " + end.getPeerPid() + " memory digest " + targetDigest + ", source pid "
                + p.getPid() + " at freeze " + sourceDigest + " → " + (match ? "identical" : "DIFFERENT"));
        if (onTarget.getIntegrityChecked()) {
            out.println("verify: " + workload + " self-check on the target: " + (onTarget.getIntegrityOk() ? "ok" : "FAILED")
                    + (onTarget.getIntegrityDetail().isEmpty() ? "" : " (" + onTarget.getIntegrityDetail() + ")"));
        }
        out.flush();
        if (!match) {
            throw new CliFailure(ExitCode.VERIFY_FAILED, "demo: memory on the target (digest " + targetDigest
                    + ") differs from the source at freeze (digest " + sourceDigest + ")");
        }
        if (onTarget.getIntegrityChecked() && !onTarget.getIntegrityOk()) {
            throw new CliFailure(ExitCode.VERIFY_FAILED, "demo: the workload's self-check failed on the target: "
                    + onTarget.getIntegrityDetail());
        }
        Path page = writeReport(end);
        out.println("report: " + page);
        boolean wentPostcopy = end.getStats().getLastDecision() == dev.pagehop.proto.control.v1.Decision.DECISION_POSTCOPY;
        out.println(String.format(Locale.ROOT, "pagehop demo: OK — pid %d moved in %s with %d ms downtime, %s sent (%.2f× memory) in %d rounds%s",
                p.getPid(), Units.millis(end.getStats().getTotalTimeMs()), end.getStats().getDowntimeMs(),
                Units.bytes(end.getStats().getTransferredBytes()), end.getStats().getAmplification(), end.getStats().getRounds(),
                wentPostcopy ? ", then post-copy (" + end.getStats().getLastDecisionReason().split(":", 2)[0] + ")" : ""));
        out.flush();
        return ExitCode.OK.code();
    }

}
