package dev.pagehop.target;

import dev.pagehop.migrate.TargetPhase;

/** Domain to wire conversions of the target side. */
final class TargetWire {
    private TargetWire() {
    }

    static dev.pagehop.proto.types.v1.TargetPhase phase(TargetPhase p) {
        return switch (p) {
            case PREPARED -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_PREPARED;
            case RECEIVING -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_RECEIVING;
            case FINAL_ROUND_RECEIVED -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_FINAL_ROUND_RECEIVED;
            case READY -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_READY;
            case RUNNING -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_RUNNING;
            case POSTCOPY -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_POSTCOPY;
            case POSTCOPY_PAUSED -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_POSTCOPY_PAUSED;
            case ABORTED -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_ABORTED;
            case FAILED -> dev.pagehop.proto.types.v1.TargetPhase.TARGET_PHASE_FAILED;
        };
    }
}
