package dev.pagehop.migrate;

import dev.pagehop.mm.Granule;
import dev.pagehop.proto.types.v1.MigrationMode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Converts the policy, mode and granule between the wire and the domain; zero means default. */
public final class PolicyWire {
    private PolicyWire() {
    }

    /** The policy a StartMigration asks for; INVALID_ARGUMENT naming the field when it cannot hold. */
    public static MigrationPolicy fromWire(dev.pagehop.proto.control.v1.MigrationPolicy w, MigrationMode mode) {
        MigrationPolicy d = MigrationPolicy.defaults().withMode(mode(mode));
        try {
            AutoConverge ac = switch (w.getAutoConverge()) {
                case AUTO_CONVERGE_UNSPECIFIED -> d.autoConverge();
                case AUTO_CONVERGE_OFF -> AutoConverge.OFF;
                case AUTO_CONVERGE_THROTTLE -> AutoConverge.THROTTLE;
                case AUTO_CONVERGE_ABORT -> AutoConverge.ABORT;
                case UNRECOGNIZED -> throw invalid("policy.auto_converge " + w.getAutoConvergeValue() + " is unknown");
            };
            NoConvergenceAction nca = switch (w.getNoConvergenceAction()) {
                case NO_CONVERGENCE_ACTION_UNSPECIFIED -> d.noConvergenceAction();
                case NO_CONVERGENCE_ACTION_ABORT -> NoConvergenceAction.ABORT;
                case NO_CONVERGENCE_ACTION_SWITCHOVER -> NoConvergenceAction.SWITCHOVER;
                case NO_CONVERGENCE_ACTION_POSTCOPY -> NoConvergenceAction.POSTCOPY;
                case UNRECOGNIZED -> throw invalid("policy.no_convergence_action " + w.getNoConvergenceActionValue()
                        + " is unknown");
            };
            return new MigrationPolicy(d.mode(),
                    or(w.getDowntimeLimitMs(), d.downtimeLimitMs()),
                    w.getMaxBandwidthBytesPerSec(),
                    (int) or(w.getMaxRounds(), d.maxRounds()),
                    w.getStopPages() == 0 ? d.stopPages() : w.getStopPages(),
                    (int) or(w.getGrowthStopPercent(), d.growthStopPercent()),
                    !w.getDisableGrowthRule(),
                    ac,
                    (int) or(w.getThrottleInitialPercent(), d.throttleInitialPercent()),
                    (int) or(w.getThrottleIncrementPercent(), d.throttleIncrementPercent()),
                    (int) or(w.getThrottleMaxPercent(), d.throttleMaxPercent()),
                    d.throttleTriggerPercent(),
                    nca,
                    or(w.getProgressTimeoutMs(), d.progressTimeoutMs()),
                    or(w.getOverallTimeoutMs(), d.overallTimeoutMs()),
                    w.getMaxAmplification() == 0 ? d.maxAmplification() : w.getMaxAmplification(),
                    w.getPostcopyAfterRounds(),
                    (int) or(w.getChunkBytes(), d.chunkBytes()),
                    (int) or(w.getMaxChunksInFlight(), d.maxChunksInFlight()),
                    !w.getSkipMemoryDigest());
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
    }

    public static dev.pagehop.proto.control.v1.MigrationPolicy toWire(MigrationPolicy p) {
        return dev.pagehop.proto.control.v1.MigrationPolicy.newBuilder()
                .setDowntimeLimitMs(p.downtimeLimitMs())
                .setMaxBandwidthBytesPerSec(p.maxBandwidthBytesPerSec())
                .setMaxRounds(p.maxRounds())
                .setStopPages(p.stopPages())
                .setGrowthStopPercent(p.growthStopPercent())
                .setDisableGrowthRule(!p.growthRule())
                .setAutoConverge(switch (p.autoConverge()) {
                    case OFF -> dev.pagehop.proto.types.v1.AutoConverge.AUTO_CONVERGE_OFF;
                    case THROTTLE -> dev.pagehop.proto.types.v1.AutoConverge.AUTO_CONVERGE_THROTTLE;
                    case ABORT -> dev.pagehop.proto.types.v1.AutoConverge.AUTO_CONVERGE_ABORT;
                })
                .setThrottleInitialPercent(p.throttleInitialPercent())
                .setThrottleIncrementPercent(p.throttleIncrementPercent())
                .setThrottleMaxPercent(p.throttleMaxPercent())
                .setNoConvergenceAction(switch (p.noConvergenceAction()) {
                    case ABORT -> dev.pagehop.proto.types.v1.NoConvergenceAction.NO_CONVERGENCE_ACTION_ABORT;
                    case SWITCHOVER -> dev.pagehop.proto.types.v1.NoConvergenceAction.NO_CONVERGENCE_ACTION_SWITCHOVER;
                    case POSTCOPY -> dev.pagehop.proto.types.v1.NoConvergenceAction.NO_CONVERGENCE_ACTION_POSTCOPY;
                })
                .setProgressTimeoutMs(p.progressTimeoutMs())
                .setOverallTimeoutMs(p.overallTimeoutMs())
                .setMaxAmplification(p.maxAmplification())
                .setPostcopyAfterRounds(p.postcopyAfterRounds())
                .setChunkBytes(p.chunkBytes())
                .setMaxChunksInFlight(p.maxChunksInFlight())
                .setSkipMemoryDigest(!p.verifyDigest())
                .build();
    }

    public static dev.pagehop.migrate.MigrationMode mode(MigrationMode m) {
        return switch (m) {
            case MIGRATION_MODE_PRECOPY -> dev.pagehop.migrate.MigrationMode.PRECOPY;
            case MIGRATION_MODE_POSTCOPY -> dev.pagehop.migrate.MigrationMode.POSTCOPY;
            case MIGRATION_MODE_HYBRID -> dev.pagehop.migrate.MigrationMode.HYBRID;
            case MIGRATION_MODE_UNSPECIFIED, UNRECOGNIZED -> throw invalid("mode " + m.getNumber()
                    + " is not PRECOPY, POSTCOPY or HYBRID");
        };
    }

    public static MigrationMode mode(dev.pagehop.migrate.MigrationMode m) {
        return switch (m) {
            case PRECOPY -> MigrationMode.MIGRATION_MODE_PRECOPY;
            case POSTCOPY -> MigrationMode.MIGRATION_MODE_POSTCOPY;
            case HYBRID -> MigrationMode.MIGRATION_MODE_HYBRID;
        };
    }

    public static Granule granule(dev.pagehop.proto.types.v1.Granule g) {
        return switch (g) {
            case GRANULE_4K -> Granule.K4;
            case GRANULE_16K -> Granule.K16;
            case GRANULE_64K -> Granule.K64;
            case GRANULE_UNSPECIFIED, UNRECOGNIZED -> throw invalid("granule " + g.getNumber()
                    + " is not GRANULE_4K, GRANULE_16K or GRANULE_64K");
        };
    }

    public static dev.pagehop.proto.types.v1.Granule granule(Granule g) {
        return switch (g) {
            case K4 -> dev.pagehop.proto.types.v1.Granule.GRANULE_4K;
            case K16 -> dev.pagehop.proto.types.v1.Granule.GRANULE_16K;
            case K64 -> dev.pagehop.proto.types.v1.Granule.GRANULE_64K;
        };
    }

    /** The tracker name as the track package spells it: uffd-wp-async, soft-dirty, uffd-wp-sync. */
    public static String trackerName(dev.pagehop.proto.types.v1.Tracker t) {
        return switch (t) {
            case TRACKER_UFFD_WP_ASYNC -> "uffd-wp-async";
            case TRACKER_SOFT_DIRTY -> "soft-dirty";
            case TRACKER_UFFD_WP_SYNC -> "uffd-wp-sync";
            case TRACKER_UNSPECIFIED, UNRECOGNIZED -> throw invalid("tracker " + t.getNumber()
                    + " is not UFFD_WP_ASYNC, SOFT_DIRTY or UFFD_WP_SYNC");
        };
    }

    public static dev.pagehop.proto.types.v1.Tracker tracker(String name) {
        return switch (name) {
            case "uffd-wp-async" -> dev.pagehop.proto.types.v1.Tracker.TRACKER_UFFD_WP_ASYNC;
            case "soft-dirty" -> dev.pagehop.proto.types.v1.Tracker.TRACKER_SOFT_DIRTY;
            case "uffd-wp-sync" -> dev.pagehop.proto.types.v1.Tracker.TRACKER_UFFD_WP_SYNC;
            default -> throw invalid("tracker '" + name + "' is not uffd-wp-async, soft-dirty or uffd-wp-sync");
        };
    }

    private static long or(long v, long dflt) {
        return v == 0 ? dflt : v;
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
