package dev.pagehop.xfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.track.PageRange;
import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class PageRangeSetTest {
    private static final long P = 4096;

    record Op(boolean add, long startPage, long pages) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Combinators.combine(Arbitraries.of(true, true, false), Arbitraries.longs().between(0, 200),
                Arbitraries.longs().between(0, 40)).as(Op::new);
        return op.list().ofMaxSize(60);
    }

    @Property
    void behavesLikeASetOfPages(@ForAll("ops") List<Op> ops) {
        PageRangeSet set = new PageRangeSet(P);
        TreeSet<Long> model = new TreeSet<>();
        for (Op op : ops) {
            long s = op.startPage() * P;
            long e = (op.startPage() + op.pages()) * P;
            if (op.add()) {
                set.add(s, e);
                for (long p = op.startPage(); p < op.startPage() + op.pages(); p++) {
                    model.add(p);
                }
            } else {
                set.remove(s, e);
                for (long p = op.startPage(); p < op.startPage() + op.pages(); p++) {
                    model.remove(p);
                }
            }
            assertThat(set.pageCount()).isEqualTo(model.size());
        }
        TreeSet<Long> fromSet = new TreeSet<>();
        long prevEnd = -1;
        for (PageRange r : set.toList()) {
            assertThat(r.start()).as("ranges are coalesced and sorted").isGreaterThan(prevEnd);
            prevEnd = r.end();
            for (long a = r.start(); a < r.end(); a += P) {
                fromSet.add(a / P);
            }
        }
        assertThat(fromSet).isEqualTo(model);
        for (long p = 0; p < 250; p++) {
            assertThat(set.contains(p * P)).isEqualTo(model.contains(p));
        }
    }

    @Property
    void sliceAndIntersectKeepOnlyWhatIsInside(@ForAll("ops") List<Op> ops, @ForAll("ops") List<Op> bounds) {
        PageRangeSet set = new PageRangeSet(P);
        for (Op op : ops) {
            set.add(op.startPage() * P, (op.startPage() + op.pages()) * P);
        }
        PageRangeSet b = new PageRangeSet(P);
        for (Op op : bounds) {
            b.add(op.startPage() * P, (op.startPage() + op.pages()) * P);
        }
        PageRangeSet in = set.intersect(b.toList());
        for (long p = 0; p < 250; p++) {
            assertThat(in.contains(p * P)).isEqualTo(set.contains(p * P) && b.contains(p * P));
        }
    }

    @Test
    void addingAdjacentRangesCoalesces() {
        PageRangeSet s = new PageRangeSet(P);
        s.add(0, P);
        s.add(2 * P, 3 * P);
        s.add(P, 2 * P);
        assertThat(s.toList()).containsExactly(new PageRange(0, 3 * P));
        assertThat(s.containsAll(0, 3 * P)).isTrue();
        s.remove(P, 2 * P);
        assertThat(s.toList()).containsExactly(new PageRange(0, P), new PageRange(2 * P, 3 * P));
        assertThat(s.containsAll(0, 3 * P)).isFalse();
    }

    @Test
    void refusesUnalignedRangesNamingThem() {
        PageRangeSet s = new PageRangeSet(P);
        assertThatThrownBy(() -> s.add(100, P)).hasMessageContaining("0x64").hasMessageContaining("4096");
        assertThatThrownBy(() -> new PageRangeSet(3000)).hasMessageContaining("3000");
    }
}
