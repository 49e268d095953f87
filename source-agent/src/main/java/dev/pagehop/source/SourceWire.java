package dev.pagehop.source;

import com.google.protobuf.ByteString;
import dev.pagehop.migrate.Decision;
import dev.pagehop.migrate.PolicyWire;
import dev.pagehop.migrate.RoundStats;
import dev.pagehop.migrate.SourcePhase;
import dev.pagehop.proto.control.v1.DowntimeBreakdown;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.MigrationStats;
import dev.pagehop.proto.control.v1.TrackerCost;

/** Converts the source's migration snapshots to AgentControl messages. */
final class SourceWire {
    private SourceWire() {
    }

    static MigrationInfo info(SourceMigration.Snapshot s) {
        MigrationStats.Builder st = MigrationStats.newBuilder()
                .setTotalTimeMs(s.totalNs() / 1_000_000)
                .setSetupTimeMs(s.setupNs() / 1_000_000)
                .setDowntimeMs(s.downtimeNs() / 1_000_000)
                .setRounds(s.rounds().size())
                .setTransferredBytes(s.transferredBytes())
                .setPrecopyBytes(s.precopyBytes())
                .setDowntimeBytes(s.downtimeBytes())
                .setPostcopyBytes(s.postcopyBytes())
                .setNormalPages(s.normalPages())
                .setZeroPages(s.zeroPages())
                .setRemainingBytes(s.remainingBytes())
                .setMemoryBytes(s.memoryBytes())
                .setThrottlePercent(s.throttlePercent())
                .setSourceDigest(ByteString.copyFrom(s.sourceDigest()))
                .setTargetDigest(ByteString.copyFrom(s.targetDigest()))
                .setPageSize(s.pageSize())
                .setDowntimeBreakdown(DowntimeBreakdown.newBuilder().setFreezeNs(s.freezeNs())
                        .setFinalRoundNs(s.finalRoundNs()).setStateCaptureNs(s.stateCaptureNs())
                        .setStateSendNs(s.stateSendNs()).setCompleteNs(s.completeNs()));
        if (s.totalNs() > 0) {
            st.setMbps(s.transferredBytes() * 8.0 / (s.totalNs() / 1e9) / 1e6);
        }
        if (s.memoryBytes() > 0) {
            st.setAmplification(s.transferredBytes() / (double) s.memoryBytes());
        }
        Decision last = s.lastDecision();
        if (last != null) {
            st.setExpectedDowntimeMs(Math.max(0, last.expectedDowntimeMs())).setLastDecision(decision(last.action()))
                    .setLastDecisionReason(last.reason() + ": " + last.detail())
                    .setBandwidthBytesPerSec(last.bandwidthBytesPerSec());
        }
        for (SourceMigration.Round r : s.rounds()) {
            RoundStats rs = r.stats();
            dev.pagehop.proto.control.v1.RoundStats.Builder rb = dev.pagehop.proto.control.v1.RoundStats.newBuilder()
                    .setRound(rs.round()).setFinal(rs.finalRound()).setDurationNs(rs.durationNs())
                    .setNormalPages(rs.normalPages()).setZeroPages(rs.zeroPages()).setUnmappedBytes(rs.unmappedBytes())
                    .setTransferredBytes(rs.transferredBytes()).setDirtyPagesAfter(s.pageSize() == 0 ? 0
                            : rs.dirtyBytesAfter() / s.pageSize())
                    .setDirtyRateBytesPerSec(rs.dirtyRateBytesPerSec()).setBandwidthBytesPerSec(rs.bandwidthBytesPerSec())
                    .setThrottlePercent(rs.throttlePercent()).setCollectNs(rs.collectNs());
            if (r.decision() != null) {
                rb.setDecision(decision(r.decision().action())).setDecisionReason(r.decision().reason() + ": "
                        + r.decision().detail()).setExpectedDowntimeMs(Math.max(0, r.decision().expectedDowntimeMs()));
            }
            st.addPerRound(rb);
            if (!rs.finalRound()) {
                st.setDirtyRateBytesPerSec(rs.dirtyRateBytesPerSec());
                if (s.pageSize() > 0) {
                    st.setDirtyPagesRate(rs.dirtyRateBytesPerSec() / s.pageSize());
                }
            }
        }
        dev.pagehop.track.TrackerCost c = s.trackerCost();
        if (c != null) {
            st.setTrackerCost(TrackerCost.newBuilder().setTracker(s.tracker()).setTraps(c.traps()).setTrapNs(c.trapNanos())
                    .setCollects(c.collects()).setCollectNs(c.collectNanos())
                    .setPageTablesPopulated(c.pageTablesPopulated()).setPagesReported(c.pagesReported())
                    .setFalsePositivePages(c.falsePositivePages()));
        }
        return MigrationInfo.newBuilder().setMigrationId(s.id()).setPid(s.pid()).setTarget(s.target())
                .setMode(PolicyWire.mode(s.policy().mode())).setTracker(PolicyWire.tracker(s.tracker()))
                .setSourcePhase(phase(s.phase())).setFailure(s.failure()).setStats(st)
                .setPolicy(PolicyWire.toWire(s.policy())).setStartTimeMs(s.startMillis()).setEndTimeMs(s.endMillis())
                .setPeerPid(s.targetPid()).build();
    }

    static dev.pagehop.proto.control.v1.Decision decision(Decision.Action a) {
        return switch (a) {
            case CONTINUE -> dev.pagehop.proto.control.v1.Decision.DECISION_CONTINUE;
            case SWITCHOVER -> dev.pagehop.proto.control.v1.Decision.DECISION_SWITCHOVER;
            case POSTCOPY -> dev.pagehop.proto.control.v1.Decision.DECISION_POSTCOPY;
            case ABORT -> dev.pagehop.proto.control.v1.Decision.DECISION_ABORT;
        };
    }

    static dev.pagehop.proto.types.v1.SourcePhase phase(SourcePhase p) {
        return switch (p) {
            case NEW -> dev.pagehop.proto.types.v1.SourcePhase.SOURCE_PHASE_NEW;
            case PREPARING -> dev.pagehop.proto.types.v1.SourcePhase.SOURCE_PHASE_PREPARING;
            case ITERATING -> dev.pagehop.proto.types.v1.SourcePhase.SOURCE_PHASE_ITERATING;
            case STOP_AND_COPY -> dev.pagehop.proto.types.v1.SourcePhase.SOURCE_PHASE_STOP_AND_COPY;
            case SWITCHING_OVER -> dev.pagehop.proto.types.v1.SourcePhase.SOURCE_PHASE_SWITCHING_OVER;
            case COMMITTING -> dev.pagehop.proto.types.v1.SourcePhase.SOURCE_PHASE_COMMITTING;
            case POSTCOPY -> dev.pagehop.proto.types.v1.SourcePhase.SOURCE_PHASE_POSTCOPY;
            case POSTCOPY_PAUSED -> dev.pagehop.proto.types.v1.SourcePhase.SOURCE_PHASE_POSTCOPY_PAUSED;
            case COMPLETED -> dev.pagehop.proto.types.v1.SourcePhase.SOURCE_PHASE_COMPLETED;
            case FAILED -> dev.pagehop.proto.types.v1.SourcePhase.SOURCE_PHASE_FAILED;
            case CANCELLED -> dev.pagehop.proto.types.v1.SourcePhase.SOURCE_PHASE_CANCELLED;
        };
    }

}
