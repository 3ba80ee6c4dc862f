package gluelab.s3;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.mapreduce.JobContext;
import org.apache.hadoop.mapreduce.TaskAttemptContext;
import org.apache.hadoop.mapreduce.lib.output.FileOutputCommitter;

/**
 * Hadoop's FileOutputCommitter (algorithm v1) whose job commit is all or nothing.
 *
 * <p>Tasks write under {@code <output>/_temporary/} as usual. The job commit moves every committed task file
 * into the output, writes {@code _SUCCESS} last, then cleans up. If a move fails (an S3 error that outlasted
 * the retries) or the writing job run is cancelled ({@link RunControl}: BatchStopJobRun or the Timeout), the
 * files already moved are deleted again before the exception propagates, so the output is either complete
 * with {@code _SUCCESS} or absent. Readers may see part of the files while the commit runs (S3 has no
 * multi-object transactions); they never see them after the commit failed.
 *
 * <p>Plain FileOutputCommitter leaves the files it had moved when its commit fails, which is what a stop
 * during a commit showed: part of the output, no {@code _SUCCESS}, no bookmark advance.
 */
public class RollbackCommitter extends FileOutputCommitter {
    /** Attempts to delete a moved file again when rolling back (the store may be failing too). */
    private static final int ROLLBACK_ATTEMPTS = 6;

    public RollbackCommitter(Path outputPath, TaskAttemptContext context) throws IOException {
        super(outputPath, context);
    }

    public RollbackCommitter(Path outputPath, JobContext context) throws IOException {
        super(outputPath, context);
    }

    @Override
    public void commitJob(JobContext context) throws IOException {
        Path out = getOutputPath();
        Configuration conf = context.getConfiguration();
        if (out == null || conf.getInt(FILEOUTPUTCOMMITTER_ALGORITHM_VERSION, 1) != 1) {
            super.commitJob(context);
            return;
        }
        FileSystem fs = out.getFileSystem(conf);
        List<String> runs = RunControl.current();
        RunControl.enter(runs);
        List<Path> moved = new ArrayList<>();
        try {
            RunControl.check(runs, "its output commit");
            List<Path[]> moves = plan(fs, getJobAttemptPath(context), out);
            Set<Path> parents = new HashSet<>();
            for (Path[] m : moves) {
                RunControl.check(runs, "its output commit");
                if (!(fs instanceof S3FileSystem) && parents.add(m[1].getParent())) {
                    fs.mkdirs(m[1].getParent());      // S3 needs no directories
                }
                move(fs, m[0], m[1]);
                moved.add(m[1]);
            }
            RunControl.check(runs, "its output commit");
            if (conf.getBoolean(SUCCESSFUL_JOB_OUTPUT_DIR_MARKER, true)) {
                Path marker = new Path(out, SUCCEEDED_FILE_NAME);
                moved.add(marker);
                fs.create(marker, true).close();      // the commit point
            }
        } catch (IOException | RuntimeException | Error e) {
            rollback(fs, moved, e);
            throw e;
        } finally {
            RunControl.exit(runs);
        }
        try {
            cleanupJob(context);
        } catch (IOException e) {
            // only _temporary/ is left: hidden from readers; the next write to the same path replaces it
        }
    }

    /** Every committed task's file and where it goes: {@code _temporary/0/task_x/a/b} -> {@code out/a/b}. */
    private static List<Path[]> plan(FileSystem fs, Path jobAttempt, Path out) throws IOException {
        List<Path[]> moves = new ArrayList<>();
        FileStatus[] tasks;
        try {
            tasks = fs.listStatus(jobAttempt);
        } catch (java.io.FileNotFoundException e) {
            return moves;      // no task wrote anything
        }
        for (FileStatus task : tasks) {
            String name = task.getPath().getName();
            if (!task.isDirectory() || name.startsWith("_")) {
                continue;      // _temporary: attempts that never committed
            }
            String base = task.getPath().toUri().getPath();
            RemoteIterator<LocatedFileStatus> files = fs.listFiles(task.getPath(), true);
            while (files.hasNext()) {
                Path file = files.next().getPath();
                String relative = file.toUri().getPath().substring(base.length() + 1);
                moves.add(new Path[] {file, new Path(out, relative)});
            }
        }
        return moves;
    }

    /** Moves src to dst, replacing a file already at dst (as FileOutputCommitter's mergePaths does). */
    private static void move(FileSystem fs, Path src, Path dst) throws IOException {
        if (fs.rename(src, dst)) {
            return;
        }
        if (fs.exists(dst) && fs.delete(dst, false) && fs.rename(src, dst)) {
            return;
        }
        throw new IOException("could not move " + src + " to " + dst + " while committing the job's output");
    }

    private static void rollback(FileSystem fs, List<Path> moved, Throwable cause) {
        for (int i = moved.size() - 1; i >= 0; i--) {
            Path p = moved.get(i);
            for (int attempt = 1; attempt <= ROLLBACK_ATTEMPTS; attempt++) {
                try {
                    fs.delete(p, false);
                    break;
                } catch (IOException e) {
                    if (attempt == ROLLBACK_ATTEMPTS) {
                        cause.addSuppressed(new IOException("rolling back the commit could not delete " + p, e));
                    } else {
                        try {
                            Thread.sleep(100L * attempt);
                        } catch (InterruptedException ie) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }
            }
        }
    }
}
