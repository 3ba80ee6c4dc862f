package gluelab.s3;

import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which job runs have been stopped, and which are committing output right now, by run id.
 *
 * <p>A run is known by the Spark job group and job tags of the thread that writes (the Glue job runner names
 * both after the run id). {@link RollbackCommitter} asks {@link #check} before each step of a job commit and
 * rolls the commit back once the run is cancelled; the runner asks {@link #committing} before it gives up on a
 * stopped script, so a run never ends while its output is still being moved into place.
 */
public final class RunControl {
    private static final Set<String> CANCELLED = ConcurrentHashMap.newKeySet();
    private static final Map<String, AtomicInteger> COMMITTING = new ConcurrentHashMap<>();

    private RunControl() {
    }

    /** The run was stopped (or timed out, or failed): commits under its id must not complete. */
    public static void cancel(String run) {
        CANCELLED.add(run);
    }

    /** The run is over: forget it. */
    public static void forget(String run) {
        CANCELLED.remove(run);
        COMMITTING.remove(run);
    }

    public static boolean isCancelled(String run) {
        return CANCELLED.contains(run);
    }

    /** True while a job commit of the run is moving output into place (or rolling it back). */
    public static boolean committing(String run) {
        AtomicInteger n = COMMITTING.get(run);
        return n != null && n.get() > 0;
    }

    /** The run ids of the calling thread: its Spark job group and job tags (empty outside a Spark driver). */
    static List<String> current() {
        List<String> ids = new ArrayList<>();
        try {
            scala.Option<org.apache.spark.SparkContext> active = org.apache.spark.SparkContext$.MODULE$.getActive();
            if (active.isDefined()) {
                org.apache.spark.SparkContext sc = active.get();
                String group = sc.getLocalProperty("spark.jobGroup.id");
                if (group != null && !group.isEmpty()) ids.add(group);
                String tags = sc.getLocalProperty("spark.job.tags");
                if (tags != null) {
                    for (String t : tags.split(",")) {
                        if (!t.isEmpty() && !ids.contains(t)) ids.add(t);
                    }
                }
            }
        } catch (LinkageError | RuntimeException e) {
            // not in a Spark driver: nothing to watch
        }
        return ids;
    }

    static void enter(List<String> runs) {
        for (String r : runs) COMMITTING.computeIfAbsent(r, k -> new AtomicInteger()).incrementAndGet();
    }

    static void exit(List<String> runs) {
        for (String r : runs) {
            AtomicInteger n = COMMITTING.get(r);
            if (n != null) n.decrementAndGet();
        }
    }

    /** Throws if any of the runs was cancelled. */
    static void check(List<String> runs, String what) throws InterruptedIOException {
        for (String r : runs) {
            if (CANCELLED.contains(r)) {
                throw new InterruptedIOException("job run " + r + " was stopped during " + what
                    + ": the commit was rolled back");
            }
        }
    }
}
