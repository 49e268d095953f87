/**
 * Migration decisions and bookkeeping shared by both agents: the policy record
 * ({@link dev.pagehop.migrate.MigrationPolicy}), the convergence decision as a pure function
 * ({@link dev.pagehop.migrate.Convergence}), round statistics, the two phase machines, and the
 * named fault points.
 *
 * <pre>
 * Source phases (SourcePhase)                       Target phases (TargetPhase)
 *
 *   NEW ─► PREPARING ─► ITERATING ──► STOP_AND_COPY     PREPARED ─► RECEIVING ─► FINAL_ROUND_RECEIVED
 *              │         (rounds,          │                                         │        │
 *              │          decide)          ▼                                         ▼        ▼
 *              │                     SWITCHING_OVER                                READY   POSTCOPY ◄─► POSTCOPY_PAUSED
 *              │                           │                                         │        │
 *              │                           ▼                                         ▼        ▼
 *              └────────────────────► COMMITTING ─► COMPLETED                      RUNNING ◄──┘
 *              (post-copy) POSTCOPY ◄─► POSTCOPY_PAUSED
 *
 *   any phase before COMMITTING ─► CANCELLED (the      any phase before RUNNING ─► ABORTED | FAILED
 *   source process keeps running) or FAILED             (everything received is discarded)
 * </pre>
 */
package dev.pagehop.migrate;
