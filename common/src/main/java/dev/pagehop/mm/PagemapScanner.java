package dev.pagehop.mm;

import dev.pagehop.uffd.PageRegion;
import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.uffd.Uffd;

/**
 * ioctl(PAGEMAP_SCAN) as fs/proc/task_mmu.c does it (spec §B.6): argument checks, per-VMA
 * test, per-page categories, the interesting test, output with coalescing and the max_pages /
 * vec_len truncation rules, and the WP_MATCHING re-arm of exactly what was reported. Runs
 * under the address-space lock, so "get and re-protect" is atomic against faults.
 *
 * <p>One deliberate difference: Linux walks through a 512-region bounce buffer and can leave
 * {@code walk_end} inside the range after returning more than 512 regions; here the walk is one
 * pass and {@code walk_end} is {@code end} whenever the walk completed.
 */
final class PagemapScanner {
    static final long CATEGORIES = Uffd.PAGE_IS_WPALLOWED | Uffd.PAGE_IS_WRITTEN | Uffd.PAGE_IS_FILE
            | Uffd.PAGE_IS_PRESENT | Uffd.PAGE_IS_SWAPPED | Uffd.PAGE_IS_PFNZERO | Uffd.PAGE_IS_HUGE
            | Uffd.PAGE_IS_SOFT_DIRTY | Uffd.PAGE_IS_GUARD;
    static final long FLAGS = Uffd.PM_SCAN_WP_MATCHING | Uffd.PM_SCAN_CHECK_WPASYNC;

    /** Signals the walk to stop: buffer full or max_pages reached. */
    private static final class Stop extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stop() {
            super(null, null, false, false);
        }
    }

    private final AddressSpace mm;
    private final PmScanArg arg;
    private final long pageSize;
    private final boolean hasVec;
    private final boolean wpMatching;
    private final boolean fastWritten;
    private final int bufLen;
    private long[] rs;
    private long[] re;
    private long[] rc;
    private int idx;
    private long found;
    private long maxPages;
    private long walkEnd;
    private boolean stopped;
    private long vmaCategory;
    private boolean wpAllowed;
    private boolean armed;

    private PagemapScanner(AddressSpace mm, PmScanArg arg) {
        this.mm = mm;
        this.arg = arg;
        this.pageSize = mm.pageSize;
        // A vec of length 0 is no vec at all (pagemap_scan_init_bounce_buffer leaves vec_buf NULL).
        this.hasVec = arg.vec != null && arg.vecLen > 0;
        this.wpMatching = (arg.flags & Uffd.PM_SCAN_WP_MATCHING) != 0;
        this.fastWritten = arg.categoryAnyofMask == 0 && arg.categoryInverted == 0
                && arg.categoryMask == Uffd.PAGE_IS_WRITTEN && arg.returnMask == Uffd.PAGE_IS_WRITTEN;
        this.bufLen = hasVec ? (int) Math.min(arg.vecLen, Integer.MAX_VALUE - 8) : 0;
        int cap = Math.max(1, Math.min(bufLen, 1024));
        this.rs = new long[cap];
        this.re = new long[cap];
        this.rc = new long[cap];
    }

    static int scan(AddressSpace mm, PmScanArg arg) {
        checkArgs(mm, arg);
        return new PagemapScanner(mm, arg).run();
    }

    private static void checkArgs(AddressSpace mm, PmScanArg a) {
        String call = String.format("PAGEMAP_SCAN(start=0x%x, end=0x%x, flags=0x%x, mask=0x%x, anyof=0x%x, inverted=0x%x,"
                + " return=0x%x, vec_len=%d, max_pages=%d)", a.start, a.end, a.flags, a.categoryMask, a.categoryAnyofMask,
                a.categoryInverted, a.returnMask, a.vecLen, a.maxPages);
        if (a.size != PmScanArg.SIZEOF) {
            throw new ErrnoException(Errno.EINVAL, call + ": size " + a.size + " is not sizeof(struct pm_scan_arg) = "
                    + PmScanArg.SIZEOF);
        }
        if ((a.flags & ~FLAGS) != 0) {
            throw new ErrnoException(Errno.EINVAL, call + ": unknown flags 0x" + Long.toHexString(a.flags & ~FLAGS));
        }
        long masks = a.categoryInverted | a.categoryMask | a.categoryAnyofMask | a.returnMask;
        if ((masks & ~CATEGORIES) != 0) {
            throw new ErrnoException(Errno.EINVAL, call + ": unknown category bits 0x" + Long.toHexString(masks & ~CATEGORIES));
        }
        if ((a.start & (mm.pageSize - 1)) != 0) {
            throw new ErrnoException(Errno.EINVAL, call + ": start is not page aligned");
        }
        long len = a.end - a.start;
        if (a.start < 0 || Long.compareUnsigned(len, AddressSpace.TASK_SIZE) > 0 || a.start + len > AddressSpace.TASK_SIZE) {
            throw new ErrnoException(Errno.EFAULT, call + ": range fails access_ok");
        }
        if (a.vec == null && a.vecLen != 0) {
            throw new ErrnoException(Errno.EINVAL, call + ": vec is NULL but vec_len is " + a.vecLen);
        }
        if (a.vec != null && (a.vecLen < 0 || a.vecLen > a.vec.length)) {
            throw new ErrnoException(Errno.EFAULT, call + ": vec_len " + a.vecLen + " runs past the vec array of "
                    + a.vec.length);
        }
    }

    private int run() {
        // The aligned end, max_pages default and walk_end reset live in the kernel's copy of the
        // struct: only walk_end is written back (pagemap_scan_writeback_args).
        long end = (arg.end + pageSize - 1) & ~(pageSize - 1);
        maxPages = arg.maxPages == 0 ? Long.MAX_VALUE : arg.maxPages;
        long start = arg.start;
        ErrnoException failed = null;
        try {
            if (start < end) {
                for (Vma v : mm.vmasIn(start, end)) {
                    walkVma(v, Math.max(start, v.start), Math.min(end, v.end));
                    if (stopped) {
                        break;
                    }
                }
            }
        } catch (ErrnoException e) {
            // CHECK_WPASYNC's EPERM ends the walk, but what was found before it is still flushed
            // to the vec and walk_end written back; the ioctl then fails.
            failed = e;
        } finally {
            if (armed) {
                mm.shootdown();
            }
        }
        int n = flush();
        if (failed != null || !stopped) {
            walkEnd = end;
        }
        arg.walkEnd = walkEnd;
        if (failed != null) {
            throw failed;
        }
        return n;
    }

    private int flush() {
        if (!hasVec) {
            return 0;
        }
        int n = idx;
        if (re[n] != rs[n]) {
            n++;
        }
        for (int i = 0; i < n; i++) {
            arg.vec[i] = new PageRegion(rs[i], re[i], rc[i]);
        }
        return n;
    }

    private boolean interesting(long categories) {
        long c = categories ^ arg.categoryInverted;
        if ((c & arg.categoryMask) != arg.categoryMask) {
            return false;
        }
        return arg.categoryAnyofMask == 0 || (c & arg.categoryAnyofMask) != 0;
    }

    private void walkVma(Vma v, long s, long e) {
        wpAllowed = v.uffdWp() && v.uffd.async() && v.uffd.useMarkers(v);
        if (!wpAllowed) {
            if ((arg.flags & Uffd.PM_SCAN_CHECK_WPASYNC) != 0) {
                throw new ErrnoException(Errno.EPERM, String.format("PAGEMAP_SCAN with CHECK_WPASYNC reached %s at 0x%x,"
                        + " which is not registered with an async uffd-wp context", v, s));
            }
            if (wpMatching) {
                return;
            }
        }
        if ((v.flags & VmFlags.VM_PFNMAP) != 0) {
            return;
        }
        vmaCategory = (wpAllowed ? Uffd.PAGE_IS_WPALLOWED : 0)
                | (mm.config().softDirty() && (v.flags & VmFlags.VM_SOFTDIRTY) != 0 ? Uffd.PAGE_IS_SOFT_DIRTY : 0);
        long required = arg.categoryMask & Uffd.PAGE_IS_WPALLOWED;
        if (((vmaCategory ^ arg.categoryInverted) & required) != required) {
            return;
        }
        long pmdSz = 1L << mm.levelShift(2);
        long a = s;
        try {
            while (a < e) {
                long next = Math.min(e, (a & ~(pmdSz - 1)) + pmdSz);
                walkPmd(v, a, next, pmdSz);
                a = next;
            }
        } catch (Stop stop) {
            stopped = true;
        }
    }

    private void walkPmd(Vma v, long a, long next, long pmdSz) {
        int pmdTable = mm.tableAt(a, 2, false);
        if (pmdTable < 0) {
            hole(v, a, next);
            return;
        }
        int pmdIdx = mm.levelIndex(a, 2);
        long pmd = mm.getDesc(pmdTable, pmdIdx);
        if (pmd == 0) {
            hole(v, a, next);
            return;
        }
        if (Pte.isBlock(pmd)) {
            if (thp(v, a, next, pmdSz, pmdTable, pmdIdx, pmd)) {
                return;
            }
            // split: report as if there was no THP
        }
        int pt = mm.tableAt(a, 3, false);
        if (pt < 0) {
            hole(v, a, next);
            return;
        }
        java.lang.foreign.MemorySegment table = mm.phys.frame(pt);
        int i0 = mm.levelIndex(a, 3);
        int n = (int) ((next - a) / pageSize);
        if (wpMatching && !hasVec) {
            for (int k = 0; k < n; k++) {
                int i = i0 + k;
                long d = table.getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i);
                if (isArmed(d)) {
                    continue;
                }
                makeUffdWpPte(pt, i, d);
            }
            return;
        }
        for (int k = 0; k < n; k++) {
            int i = i0 + k;
            long d = table.getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i);
            if (fastWritten && isArmed(d)) {
                // mask = return = WRITTEN: an armed entry can never be interesting
                continue;
            }
            long p = a + (long) k * pageSize;
            long cat = vmaCategory | pageCategory(d);
            if (!interesting(cat)) {
                continue;
            }
            long outEnd = output(cat, p, p + pageSize);
            if (outEnd == p) {
                throw new Stop();
            }
            if (wpMatching && (cat & Uffd.PAGE_IS_WRITTEN) != 0) {
                makeUffdWpPte(pt, i, d);
            }
            if (stopped) {
                throw new Stop();
            }
        }
    }

    /** Present with uffd-wp, or a swap entry / marker carrying it (pte_swp_uffd_wp_any). */
    private static boolean isArmed(long d) {
        if (d == Pte.UFFD_WP_MARKER) {
            return true;
        }
        return Pte.isPresent(d) ? Pte.isUffdWp(d) : Pte.isSwpUffdWpAny(d);
    }

    private long pageCategory(long d) {
        if (d == 0) {
            return wpAllowed || fastWritten ? Uffd.PAGE_IS_WRITTEN : 0;
        }
        if (Pte.isPresent(d)) {
            long c = Uffd.PAGE_IS_PRESENT;
            if (!Pte.isUffdWp(d)) {
                c |= Uffd.PAGE_IS_WRITTEN;
            }
            int f = mm.phys.indexOfPa(Pte.pa(d));
            if (f == mm.phys.zeroFrame) {
                c |= Uffd.PAGE_IS_PFNZERO;
            } else if (mm.phys.kind(f) == PhysMem.KIND_SHMEM) {
                c |= Uffd.PAGE_IS_FILE;
            }
            if (mm.config().softDirty() && (d & Pte.SOFT_DIRTY) != 0) {
                c |= Uffd.PAGE_IS_SOFT_DIRTY;
            }
            return c;
        }
        long c = Uffd.PAGE_IS_SWAPPED;
        if (!Pte.isSwpUffdWpAny(d)) {
            c |= Uffd.PAGE_IS_WRITTEN;
        }
        if (mm.config().softDirty() && !Pte.isMarker(d) && (d & Pte.SWP_SOFT_DIRTY) != 0) {
            c |= Uffd.PAGE_IS_SOFT_DIRTY;
        }
        if (Pte.isMarker(d) && (Pte.swapOffset(d, false) & Pte.MARKER_GUARD) != 0) {
            c |= Uffd.PAGE_IS_GUARD;
        }
        return c;
    }

    /** make_uffd_wp_pte: present → uffd-wp; swap → swap bit; none → marker. */
    private void makeUffdWpPte(int pt, int i, long d) {
        long nd;
        if (Pte.isPresent(d)) {
            nd = Pte.mkuffdWp(d);
        } else if (d != 0) {
            nd = d | Pte.SWP_UFFD_WP;
        } else {
            nd = Pte.UFFD_WP_MARKER;
        }
        mm.setDesc(pt, i, nd);
        armed = true;
    }

    /** pagemap_scan_pte_hole: the VMA's categories (plus WRITTEN in async uffd-wp VMAs). */
    private void hole(Vma v, long a, long next) {
        long cat = vmaCategory | (wpAllowed ? Uffd.PAGE_IS_WRITTEN : 0);
        if (!interesting(cat)) {
            return;
        }
        long outEnd = output(cat, a, next);
        if (outEnd == a) {
            throw new Stop();
        }
        if (wpMatching && (cat & Uffd.PAGE_IS_WRITTEN) != 0) {
            mm.uffdWpRange(v, a, outEnd, true);
            armed = true;
        }
        if (stopped) {
            throw new Stop();
        }
    }

    /** pagemap_scan_thp_entry; false when the block was split and must be walked as PTEs. */
    private boolean thp(Vma v, long a, long next, long pmdSz, int pmdTable, int pmdIdx, long pmd) {
        long cat = vmaCategory | Uffd.PAGE_IS_PRESENT | Uffd.PAGE_IS_HUGE;
        if (!Pte.isUffdWp(pmd)) {
            cat |= Uffd.PAGE_IS_WRITTEN;
        }
        if (mm.config().softDirty() && (pmd & Pte.SOFT_DIRTY) != 0) {
            cat |= Uffd.PAGE_IS_SOFT_DIRTY;
        }
        if (!interesting(cat)) {
            return true;
        }
        int savedIdx = idx;
        long savedS = rs[idx];
        long savedE = re[idx];
        long savedC = rc[idx];
        long savedFound = found;
        long savedWalkEnd = walkEnd;
        boolean savedStopped = stopped;
        long outEnd = output(cat, a, next);
        if (outEnd == a) {
            throw new Stop();
        }
        if (!wpMatching || (cat & Uffd.PAGE_IS_WRITTEN) == 0) {
            if (stopped) {
                throw new Stop();
            }
            return true;
        }
        long hs = a & ~(pmdSz - 1);
        if (a != hs || outEnd != hs + pmdSz) {
            // Back out what was just reported and walk the split block at PTE level.
            if (hasVec) {
                if (idx != savedIdx) {
                    rs[idx] = 0;
                    re[idx] = 0;
                    rc[idx] = 0;
                }
                idx = savedIdx;
                rs[idx] = savedS;
                re[idx] = savedE;
                rc[idx] = savedC;
            }
            found = savedFound;
            walkEnd = savedWalkEnd;
            stopped = savedStopped;
            mm.splitHuge(hs);
            return false;
        }
        mm.setDesc(pmdTable, pmdIdx, Pte.mkuffdWp(pmd));
        armed = true;
        if (stopped) {
            throw new Stop();
        }
        return true;
    }

    /**
     * pagemap_scan_output: pushes [addr, end) with the return-masked categories, coalescing with
     * the previous region; returns the end actually reported (== addr when nothing fits).
     */
    private long output(long categories, long addr, long end) {
        if (!hasVec) {
            return end;
        }
        categories &= arg.returnMask;
        long nPages = (end - addr) / pageSize;
        long total = found + nPages;
        if (total < found || total > maxPages) {
            long tooMuch = total - maxPages;
            end -= tooMuch * pageSize;
            nPages -= tooMuch;
            stopped = true;
        }
        if (nPages > 0 && !push(categories, addr, end)) {
            end = addr;
            nPages = 0;
            stopped = true;
        } else if (nPages == 0) {
            end = addr;
        }
        found += nPages;
        if (stopped) {
            walkEnd = end;
        }
        return end;
    }

    private boolean push(long categories, long addr, long end) {
        if (addr == re[idx] && categories == rc[idx] && re[idx] != 0) {
            re[idx] = end;
            return true;
        }
        if (re[idx] != 0) {
            if (idx >= bufLen - 1) {
                return false;
            }
            idx++;
            if (idx >= rs.length) {
                int cap = (int) Math.min((long) bufLen, rs.length * 2L);
                rs = java.util.Arrays.copyOf(rs, cap);
                re = java.util.Arrays.copyOf(re, cap);
                rc = java.util.Arrays.copyOf(rc, cap);
            }
        }
        rs[idx] = addr;
        re[idx] = end;
        rc[idx] = categories;
        return true;
    }
}
