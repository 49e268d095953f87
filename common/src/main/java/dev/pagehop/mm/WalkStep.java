package dev.pagehop.mm;

/**
 * One step of a stage-1 table walk: the descriptor read at {@code index} of the table at
 * physical address {@code tablePa}, on arm64 {@code level} (0..3; 64K granule starts at 1).
 */
public record WalkStep(int level, long tablePa, int index, long descriptor) {
}
