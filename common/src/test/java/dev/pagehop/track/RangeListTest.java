package dev.pagehop.track;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class RangeListTest {

    private static PageRange r(long s, long e) {
        return new PageRange(s, e);
    }

    @Test
    void appendsCoalesceTouchingAndOverlappingRanges() {
        RangeList l = new RangeList();
        l.add(0, 10);
        l.add(10, 20);
        l.add(15, 18);
        l.add(30, 40);
        l.add(5, 6);
        l.add(25, 31);
        assertThat(l.toList()).containsExactly(r(0, 20), r(25, 40));
        assertThat(l.bytes()).isEqualTo(35);
    }

    @Test
    void subtractAndIntersect() {
        List<PageRange> a = List.of(r(0, 100), r(200, 300));
        List<PageRange> b = List.of(r(10, 20), r(90, 210), r(250, 260));
        assertThat(RangeList.subtract(a, b)).containsExactly(r(0, 10), r(20, 90), r(210, 250), r(260, 300));
        assertThat(RangeList.intersect(a, b)).containsExactly(r(10, 20), r(90, 100), r(200, 210), r(250, 260));
        assertThat(RangeList.covers(a, 20, 90)).isTrue();
        assertThat(RangeList.covers(a, 90, 210)).isFalse();
    }

    private static TreeSet<Integer> units(List<PageRange> ranges) {
        TreeSet<Integer> s = new TreeSet<>();
        for (PageRange x : ranges) {
            for (long i = x.start(); i < x.end(); i++) {
                s.add((int) i);
            }
        }
        return s;
    }

    private static List<PageRange> fromUnits(List<@IntRange(min = 0, max = 60) Integer> xs) {
        RangeList l = new RangeList();
        for (int x : xs) {
            l.add(x, x + 1);
        }
        return l.toList();
    }

    @Property
    void setOperationsAgreeWithUnitSets(@ForAll @Size(max = 30) List<@IntRange(min = 0, max = 60) Integer> xs,
            @ForAll @Size(max = 30) List<@IntRange(min = 0, max = 60) Integer> ys) {
        List<PageRange> a = fromUnits(xs);
        List<PageRange> b = fromUnits(ys);
        TreeSet<Integer> ua = units(a);
        TreeSet<Integer> ub = units(b);
        assertThat(ua).isEqualTo(new TreeSet<>(xs));
        TreeSet<Integer> minus = new TreeSet<>(ua);
        minus.removeAll(ub);
        TreeSet<Integer> both = new TreeSet<>(ua);
        both.retainAll(ub);
        assertThat(units(RangeList.subtract(a, b))).isEqualTo(minus);
        assertThat(units(RangeList.intersect(a, b))).isEqualTo(both);
        for (int i = 1; i < a.size(); i++) {
            assertThat(a.get(i).start()).as("coalesced and ordered").isGreaterThan(a.get(i - 1).end());
        }
    }
}
