/**
 * Dirty-page trackers: which pages a process wrote between two collects.
 *
 * <pre>
 *            start()                 stop()
 *    NEW ───────────────▶ TRACKING ───────────▶ STOPPED
 *     │                    │   ▲
 *     │ stop()             └───┘ collect(): written since the last collect, re-armed in
 *     └──────────────────▶ STOPPED            the same step; unmapped ranges since then
 * </pre>
 *
 * <table>
 *   <caption>Mechanisms</caption>
 *   <tr><th>name</th><th>arm</th><th>first write</th><th>collect</th></tr>
 *   <tr><td>uffd-wp-async (default)</td><td>UFFDIO_REGISTER(WP) + UFFDIO_WRITEPROTECT, markers on
 *       unpopulated pages</td><td>uffd-wp bit cleared in the kernel, no message</td>
 *       <td>PAGEMAP_SCAN WRITTEN with WP_MATCHING|CHECK_WPASYNC: atomic get-and-rearm</td></tr>
 *   <tr><td>soft-dirty</td><td>clear_refs 4 (hypothetical arm64 RFC layout only)</td>
 *       <td>write fault sets pagemap bit 55</td><td>writers frozen; read bit 55 of every page;
 *       clear_refs 4</td></tr>
 *   <tr><td>uffd-wp-sync</td><td>as async, without WP_ASYNC</td><td>writer sleeps; the monitor
 *       thread records the page and unprotects it</td><td>take the recorded pages and
 *       write-protect them again</td></tr>
 * </table>
 *
 * <p>Every tracker reports zapped pages (they read zero now) as written, ranges unmapped since
 * the previous collect as unmapped, and VMAs that appeared since with their populated pages.
 * Each counts its own cost ({@link dev.pagehop.track.TrackerCost}); with a
 * {@link dev.pagehop.track.TrueWriteLog} it also counts the pages it reported that no write
 * justifies.
 */
package dev.pagehop.track;
