package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentAddress;
import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.options.Choices.AutoConvergeChoice;
import dev.pagehop.cli.options.Choices.ModeChoice;
import dev.pagehop.cli.options.Choices.NoConvergenceChoice;
import dev.pagehop.cli.options.Choices.TrackerChoice;
import dev.pagehop.cli.options.Converters;
import dev.pagehop.cli.output.Json;
import dev.pagehop.cli.output.MigrationSummary;
import dev.pagehop.cli.output.Names;
import dev.pagehop.cli.progress.MigrationFollower;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationPolicy;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "migrate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Live-migrate a process from a source agent to a target agent.",
                "The source is --agent/--source. Shows progress until the migration ends, then the per-round table and the headline figures;",
                "the exit code says how it ended. Ctrl-C cancels the migration (the source keeps running).",
                "Policy flags left out take the agent's defaults (QEMU/P.Haul/KubeVirt values, see METRICS.md)."})
public final class MigrateCommand extends AgentCommand {

    @Parameters(paramLabel = "PID", arity = "0..1", description = "The process to migrate, as the source agent numbers it.")
    Integer pidArgument;

    @Option(names = "--pid", paramLabel = "PID", description = "The process to migrate (instead of the PID argument).")
    Integer pidOption;

    int pid;

    /** For reading the command's spec (tests of deployment manifests); the command line builds its own. */
    public MigrateCommand() {
    }

    @Option(names = {"-t", "--target"}, required = true, paramLabel = "HOST:PORT", converter = Converters.Address.class,
            description = "The target agent's gRPC address, as the source agent reaches it.")
    AgentAddress target;

    @Option(names = {"-m", "--mode"}, paramLabel = "MODE", defaultValue = "precopy", converter = Converters.Mode.class,
            description = "precopy (rounds, then stop-and-copy), postcopy (switch over first, pages on demand) "
                    + "or hybrid (rounds, then post-copy) (default ${DEFAULT-VALUE}).")
    ModeChoice mode;

    @Option(names = "--tracker", paramLabel = "TRACKER", defaultValue = "uffd-wp-async", converter = Converters.Tracker.class,
            description = "Dirty tracker: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    TrackerChoice tracker;

    @ArgGroup(exclusive = false, heading = "%nConvergence policy:%n")
    Policy policy = new Policy();

    @Option(names = "--leave-paused", description = "Leave the process frozen on the target after switchover.")
    boolean leavePaused;

    @Option(names = "--keep-source", description = "Keep the frozen source copy after success (release it with 'kill').")
    boolean keepSource;

    @Option(names = {"-d", "--detach"}, description = "Print the migration id and return at once; follow it with 'watch'.")
    boolean detach;

    @Mixin
    ProgressOptions progress;

    static final class Policy {
        @Option(names = "--downtime-limit", paramLabel = "DURATION", converter = Converters.Millis.class,
                description = "Switch over when pending bytes fit in bandwidth × this (default 300ms).")
        Long downtimeLimitMs;

        @Option(names = "--bandwidth", paramLabel = "RATE", converter = Converters.Rate.class,
                description = "Cap on the page stream, e.g. 100MiB/s (default unlimited).")
        Long bandwidth;

        @Option(names = "--max-rounds", paramLabel = "N", description = "Stop iterating after N rounds (default 30).")
        Integer maxRounds;

        @Option(names = "--stop-pages", paramLabel = "N",
                description = "Switch over when at most N pages are dirty (default 64, P.Haul's rule).")
        Long stopPages;

        @Option(names = "--growth-stop", paramLabel = "PERCENT",
                description = "Stop iterating when a round's dirty set grows by more than this (default 10).")
        Integer growthStopPercent;

        @Option(names = "--no-growth-rule", description = "Never stop because the dirty set grows.")
        boolean noGrowthRule;

        @Option(names = "--auto-converge", paramLabel = "ACTION", converter = Converters.AutoConverge.class,
                description = "When dirtying outpaces the link: ${COMPLETION-CANDIDATES} (default throttle).")
        AutoConvergeChoice autoConverge;

        @Option(names = "--throttle", paramLabel = "INITIAL,STEP,MAX", split = ",", hideParamSyntax = true,
                description = "Throttle percents (default 20,10,99).")
        int[] throttle;

        @Option(names = "--on-no-convergence", paramLabel = "ACTION", converter = Converters.NoConvergence.class,
                description = "When iterating stops helping: ${COMPLETION-CANDIDATES} (default abort; hybrid: postcopy).")
        NoConvergenceChoice noConvergence;

        @Option(names = "--progress-timeout", paramLabel = "DURATION", converter = Converters.Millis.class,
                description = "Abort when nothing was transferred for this long (default 150s).")
        Long progressTimeoutMs;

        @Option(names = "--timeout", paramLabel = "DURATION", converter = Converters.Millis.class,
                description = "Abort when the whole migration takes longer (default 300s).")
        Long overallTimeoutMs;

        @Option(names = "--max-amplification", paramLabel = "X",
                description = "Stop iterating after sending X × the memory size (default 3).")
        Double maxAmplification;

        @Option(names = "--postcopy-after", paramLabel = "ROUNDS",
                description = "Hybrid: go post-copy after this many rounds, even if that round converged; a round before it "
                        + "that converges still switches over in pre-copy (default: only on non-convergence).")
        Integer postcopyAfterRounds;

        @Option(names = "--chunk-size", paramLabel = "SIZE", converter = Converters.Size.class,
                description = "Chunk payload on the page stream (default 256KiB).")
        Long chunkBytes;

        @Option(names = "--chunks-in-flight", paramLabel = "N", description = "Unacknowledged chunks allowed (default 16).")
        Integer chunksInFlight;

        @Option(names = "--skip-digest",
                description = "Skip the whole-memory digest at switchover (shorter downtime, no proof the memory matches).")
        boolean skipDigest;

        MigrationPolicy toWire() {
            MigrationPolicy.Builder b = MigrationPolicy.newBuilder();
            if (downtimeLimitMs != null) {
                b.setDowntimeLimitMs(positive("--downtime-limit", downtimeLimitMs));
            }
            if (bandwidth != null) {
                b.setMaxBandwidthBytesPerSec(positive("--bandwidth", bandwidth));
            }
            if (maxRounds != null) {
                b.setMaxRounds((int) positive("--max-rounds", maxRounds));
            }
            if (stopPages != null) {
                b.setStopPages(positive("--stop-pages", stopPages));
            }
            if (growthStopPercent != null) {
                b.setGrowthStopPercent((int) positive("--growth-stop", growthStopPercent));
            }
            b.setDisableGrowthRule(noGrowthRule);
            if (autoConverge != null) {
                b.setAutoConverge(autoConverge.wire());
            }
            if (throttle != null) {
                if (throttle.length != 3) {
                    throw new CliFailure(ExitCode.USAGE, "--throttle takes INITIAL,STEP,MAX (three percents), got "
                            + throttle.length + " values");
                }
                b.setThrottleInitialPercent((int) positive("--throttle initial", throttle[0]))
                        .setThrottleIncrementPercent((int) positive("--throttle step", throttle[1]))
                        .setThrottleMaxPercent((int) positive("--throttle max", throttle[2]));
            }
            if (noConvergence != null) {
                b.setNoConvergenceAction(noConvergence.wire());
            }
            if (progressTimeoutMs != null) {
                b.setProgressTimeoutMs(positive("--progress-timeout", progressTimeoutMs));
            }
            if (overallTimeoutMs != null) {
                b.setOverallTimeoutMs(positive("--timeout", overallTimeoutMs));
            }
            if (maxAmplification != null) {
                if (!(maxAmplification > 1.0)) {
                    throw new CliFailure(ExitCode.USAGE, "--max-amplification " + maxAmplification + " must exceed 1");
                }
                b.setMaxAmplification(maxAmplification);
            }
            if (postcopyAfterRounds != null) {
                b.setPostcopyAfterRounds((int) positive("--postcopy-after", postcopyAfterRounds));
            }
            if (chunkBytes != null) {
                b.setChunkBytes(Math.toIntExact(positive("--chunk-size", chunkBytes)));
            }
            if (chunksInFlight != null) {
                b.setMaxChunksInFlight((int) positive("--chunks-in-flight", chunksInFlight));
            }
            b.setSkipMemoryDigest(skipDigest);
            return b.build();
        }

        private static long positive(String flag, long v) {
            if (v <= 0) {
                throw new CliFailure(ExitCode.USAGE, flag + " " + v + " must be positive");
            }
            return v;
        }
    }

    @Override
    public Integer call() {
        if ((pidArgument == null) == (pidOption == null)) {
            throw new CliFailure(ExitCode.USAGE, pidArgument == null
                    ? "migrate needs the process: PID or --pid PID"
                    : "migrate got the process twice (PID " + pidArgument + " and --pid " + pidOption + "); give one");
        }
        pid = pidArgument != null ? pidArgument : pidOption;
        StartMigrationRequest request = StartMigrationRequest.newBuilder()
                .setPid(pid).setTarget(target.toString()).setMode(mode.wire()).setTracker(tracker.wire())
                .setPolicy(policy.toWire()).setLeavePausedOnTarget(leavePaused).setKeepSource(keepSource).build();
        try (AgentClient source = connect("source agent")) {
            MigrationInfo started = source.startMigration(request);
            if (detach) {
                if (json()) {
                    Json.print(out(), started);
                } else {
                    out().println("started migration " + started.getMigrationId() + ": pid " + pid + " → " + target
                            + " (" + Names.of(started.getMode()) + ", " + Names.of(started.getTracker()) + ")");
                    out().flush();
                }
                return ExitCode.OK.code();
            }
            MigrationInfo end;
            CancelOnInterrupt guard = CancelOnInterrupt.install(channels(), agent, callTimeoutMs, started.getMigrationId());
            try {
                end = MigrationFollower.follow(source, started.getMigrationId(), progress.intervalMs,
                        progress.view(context(), out(), err(), json()));
            } finally {
                guard.remove();
            }
            return finish(end);
        }
    }

    /** Prints the outcome (summary or JSON) and turns a failed end into the one-line error and its code. */
    int finish(MigrationInfo end) {
        if (json()) {
            Json.print(out(), end);
        } else {
            out().println();
            MigrationSummary.print(out(), end);
        }
        return failIfUnsuccessful(end);
    }

    static int failIfUnsuccessful(MigrationInfo end) {
        ExitCode code = MigrationOutcome.of(end);
        if (code != ExitCode.OK) {
            throw new CliFailure(code, "migration " + end.getMigrationId() + " " + Names.phase(end)
                    + (end.getFailure().isEmpty() ? "" : ": " + end.getFailure()));
        }
        return code.code();
    }
}
