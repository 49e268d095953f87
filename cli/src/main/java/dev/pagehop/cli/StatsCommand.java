package dev.pagehop.cli;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.pagehop.cli.agent.AgentClient;
import dev.pagehop.cli.output.Json;
import dev.pagehop.cli.output.MigrationSummary;
import dev.pagehop.cli.output.Table;
import dev.pagehop.cli.output.Units;
import dev.pagehop.proto.control.v1.MigrationInfo;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "stats", mixinStandardHelpOptions = true,
        description = {"Show the METRICS.md headline figures of one migration or of an agent.",
                "Without an id, totals over all the migrations an agent has seen: how many converged (KubeVirt's succeeded/failed), downtime,",
                "total time, bytes and amplification."})
final class StatsCommand extends AgentCommand {

    @Parameters(paramLabel = "MIGRATION", arity = "0..1", description = "A migration id; omit it for the agent's totals.")
    String migrationId;

    @Override
    public Integer call() {
        try (AgentClient a = connect("agent")) {
            if (migrationId != null) {
                MigrationInfo m = a.migration(migrationId);
                if (json()) {
                    Json.print(out(), m.getStats());
                } else {
                    out().println(MigrationSummary.title(m));
                    MigrationSummary.figures(m).print(out());
                    MigrationSummary.postcopy(out(), m);
                    out().flush();
                }
                return ExitCode.OK.code();
            }
            Totals t = Totals.of(a.migrations());
            if (json()) {
                Json.print(out(), t.toStruct());
            } else {
                t.table().print(out());
                out().flush();
            }
        }
        return ExitCode.OK.code();
    }

    /** Aggregates over an agent's migrations; "converged" counts completed among those that ended. */
    record Totals(int migrations, int completed, int failed, int cancelled, int running, long meanDowntimeMs,
            long maxDowntimeMs, long meanTotalTimeMs, long transferredBytes, double meanAmplification) {

        static Totals of(List<MigrationInfo> all) {
            int completed = 0;
            int failed = 0;
            int cancelled = 0;
            int running = 0;
            for (MigrationInfo m : all) {
                switch (MigrationOutcome.of(m)) {
                    case OK -> completed++;
                    case CANCELLED -> cancelled++;
                    default -> {
                        if (dev.pagehop.cli.output.Names.ended(m)) {
                            failed++;
                        } else {
                            running++;
                        }
                    }
                }
            }
            List<MigrationInfo> done = all.stream().filter(m -> MigrationOutcome.of(m) == ExitCode.OK).toList();
            return new Totals(all.size(), completed, failed, cancelled, running,
                    mean(done, m -> m.getStats().getDowntimeMs()),
                    done.stream().mapToLong(m -> m.getStats().getDowntimeMs()).max().orElse(0),
                    mean(done, m -> m.getStats().getTotalTimeMs()),
                    all.stream().mapToLong(m -> m.getStats().getTransferredBytes()).sum(),
                    done.stream().mapToDouble(m -> m.getStats().getAmplification()).average().orElse(0));
        }

        private static long mean(List<MigrationInfo> ms, ToLongFunction<MigrationInfo> f) {
            return ms.isEmpty() ? 0 : Math.round(ms.stream().mapToLong(f).average().orElse(0));
        }

        double convergedFraction() {
            int ended = completed + failed + cancelled;
            return ended == 0 ? 0 : (double) completed / ended;
        }

        Table table() {
            return new Table("METRIC", "VALUE").right(1)
                    .row("Migrations", migrations)
                    .row("Completed (converged)", completed + " (" + Units.percent(convergedFraction()) + " of ended)")
                    .row("Failed", failed)
                    .row("Cancelled", cancelled)
                    .row("Running", running)
                    .row("Downtime, mean / max", meanDowntimeMs + " ms / " + maxDowntimeMs + " ms")
                    .row("Total time, mean", Units.millis(meanTotalTimeMs))
                    .row("Data transferred", Units.bytes(transferredBytes))
                    .row("Amplification, mean", String.format(Locale.ROOT, "%.2f×", meanAmplification));
        }

        Struct toStruct() {
            return Struct.newBuilder()
                    .putFields("migrations", num(migrations))
                    .putFields("completed", num(completed))
                    .putFields("failed", num(failed))
                    .putFields("cancelled", num(cancelled))
                    .putFields("running", num(running))
                    .putFields("convergedFraction", num(convergedFraction()))
                    .putFields("meanDowntimeMs", num(meanDowntimeMs))
                    .putFields("maxDowntimeMs", num(maxDowntimeMs))
                    .putFields("meanTotalTimeMs", num(meanTotalTimeMs))
                    .putFields("transferredBytes", num(transferredBytes))
                    .putFields("meanAmplification", num(meanAmplification))
                    .build();
        }

        private static Value num(double v) {
            return Value.newBuilder().setNumberValue(v).build();
        }
    }
}
